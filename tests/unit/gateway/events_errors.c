/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_hlf_error_answer (gateway/src/http.c, also behind
 * gw_reply_hlf_error), table-driven: every libhlf
 * failure the ledger routes can see, including each reso-chaincode error
 * class, becomes the documented HTTP status, code, field, Retry-After
 * flag and a body of the one error shape.
 */
#include "ledger.h"
#include "task.h"

#include <stdio.h>
#include <string.h>

typedef struct row_s {
    int code;             /* hlf code */
    int cc_status;        /* chaincode status (ECHAINCODE) */
    const char *cc_msg;   /* chaincode message (ECHAINCODE) */
    int status;           /* expected */
    const char *gw_code;
    const char *field;    /* NULL: no field */
    int retry_after;
    const char *msg_part; /* expected inside the message */
} row_t;

#define CC(code, field)                                                      \
    "{\"error\":{\"code\":\"" code "\",\"field\":\"" field "\","             \
    "\"message\":\"m\"}}"
#define CC_NOFIELD(code)                                                     \
    "{\"error\":{\"code\":\"" code "\",\"message\":\"m\"}}"

static const row_t rows[] = {
    /* reso-chaincode errors pass through with status, code and field. */
    {HLF_ECHAINCODE, 400, CC_NOFIELD("UNKNOWN_FUNCTION"), 400,
     "UNKNOWN_FUNCTION", NULL, 0, "m"},
    {HLF_ECHAINCODE, 400, CC("INVALID_ARGUMENTS", "TransactionId"), 400,
     "INVALID_ARGUMENTS", "TransactionId", 0, "m"},
    {HLF_ECHAINCODE, 400, CC_NOFIELD("INVALID_JSON"), 400, "INVALID_JSON",
     NULL, 0, "m"},
    {HLF_ECHAINCODE, 400, CC("SYSTEM_FIELD_SUPPLIED", "Version"), 400,
     "SYSTEM_FIELD_SUPPLIED", "Version", 0, "m"},
    {HLF_ECHAINCODE, 400, CC("UNKNOWN_FIELD", "Audience"), 400,
     "UNKNOWN_FIELD", "Audience", 0, "m"},
    {HLF_ECHAINCODE, 400, CC("MISSING_FIELD", "Application"), 400,
     "MISSING_FIELD", "Application", 0, "m"},
    {HLF_ECHAINCODE, 400, CC("INVALID_VALUE", "State"), 400,
     "INVALID_VALUE", "State", 0, "m"},
    {HLF_ECHAINCODE, 400, CC("INVALID_LOOKUP", "System"), 400,
     "INVALID_LOOKUP", "System", 0, "m"},
    {HLF_ECHAINCODE, 400, CC("INVALID_IDENTIFIER", "EventSubject"), 400,
     "INVALID_IDENTIFIER", "EventSubject", 0, "m"},
    {HLF_ECHAINCODE, 400, CC_NOFIELD("DUPLICATE_EVENT"), 400,
     "DUPLICATE_EVENT", NULL, 0, "m"},
    {HLF_ECHAINCODE, 404, CC_NOFIELD("EVENT_NOT_FOUND"), 404,
     "EVENT_NOT_FOUND", NULL, 0, "m"},
    {HLF_ECHAINCODE, 500, CC_NOFIELD("INTERNAL"), 500, "INTERNAL", NULL, 0,
     "m"},
    /* Not reso-chaincode's shape: INTERNAL, never passed through. */
    {HLF_ECHAINCODE, 400, "plain text", 500, "INTERNAL", NULL, 0,
     "unexpected chaincode answer"},
    {HLF_ECHAINCODE, 400, "{\"error\":{\"field\":\"x\"}}", 500, "INTERNAL",
     NULL, 0, "unexpected chaincode answer"},
    {HLF_ECHAINCODE, 400, "{\"error\":{\"code\":\"X\",\"field\":7}}", 500,
     "INTERNAL", NULL, 0, "unexpected chaincode answer"},
    {HLF_ECHAINCODE, 200, CC_NOFIELD("X"), 500, "INTERNAL", NULL, 0,
     "unexpected chaincode answer"},
    /* The ledger is out of reach: 503 + Retry-After. */
    {HLF_EUNAVAIL, 0, "", 503, "LEDGER_UNAVAILABLE", NULL, 1,
     "no peer or orderer reachable"},
    {HLF_ETIMEDOUT, 0, "", 503, "LEDGER_UNAVAILABLE", NULL, 1,
     "did not answer in time"},
    {HLF_ECLOSED, 0, "", 503, "LEDGER_UNAVAILABLE", NULL, 1,
     "connection closed"},
    {HLF_EGRPC, 0, "", 503, "LEDGER_UNAVAILABLE", NULL, 1, "call failed"},
    {HLF_EEVALUATE, 0, "", 503, "LEDGER_UNAVAILABLE", NULL, 1,
     "evaluation failed"},
    {HLF_EENDORSE, 0, "", 503, "LEDGER_UNAVAILABLE", NULL, 1,
     "endorsement failed"},
    {HLF_ESUBMIT, 0, "", 503, "LEDGER_UNAVAILABLE", NULL, 1,
     "ordering service"},
    {HLF_ECOMMITSTATUS, 0, "", 503, "LEDGER_UNAVAILABLE", NULL, 1,
     "commit status"},
    /* Everything else is ours to fix. */
    {HLF_ECOMMIT, 0, "", 500, "INTERNAL", NULL, 0, "committed invalid"},
    {HLF_EPROTO, 0, "", 500, "INTERNAL", NULL, 0, "malformed answer"},
    {HLF_ENOMEM, 0, "", 500, "INTERNAL", NULL, 0, "gateway failure"},
    {HLF_EIO, 0, "", 500, "INTERNAL", NULL, 0, "gateway failure"},
    {HLF_EINVAL, 0, "", 500, "INTERNAL", NULL, 0, "gateway failure"},
};

TEST_IMPL(ledger_error_table)
{
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row_t *r = &rows[i];
        gw_hlf_answer_t a;
        hlf_error_t e;
        json_t *err;
        const char *code, *msg;

        hlf_error_clear(&e);
        hlf_error_set(&e, r->code, "detail %zu", i);
        e.chaincode_status = r->cc_status;
        snprintf(e.chaincode_message, sizeof(e.chaincode_message), "%s",
                 r->cc_msg);
        ASSERT_EQ(gw_hlf_error_answer(&e, &a), HLF_OK);
        if (a.status != r->status)
            TEST__FAIL("row %zu: status %d, want %d", i, a.status,
                       r->status);
        ASSERT_STR_EQ(a.code, r->gw_code);
        if (r->field == NULL)
            ASSERT_NULL(a.field);
        else
            ASSERT_STR_EQ(a.field, r->field);
        ASSERT_EQ(a.retry_after, r->retry_after);
        /* The body is the one error shape and agrees with the fields. */
        ASSERT_EQ(json_object_size(a.body), 1);
        err = json_object_get(a.body, "error");
        code = json_string_value(json_object_get(err, "code"));
        msg = json_string_value(json_object_get(err, "message"));
        ASSERT_STR_EQ(code, r->gw_code);
        if (r->field == NULL)
            ASSERT_NULL(json_object_get(err, "field"));
        else
            ASSERT_STR_EQ(json_string_value(json_object_get(err, "field")),
                          r->field);
        ASSERT_NOT_NULL(msg);
        if (strstr(msg, r->msg_part) == NULL)
            TEST__FAIL("row %zu: message \"%s\" lacks \"%s\"", i, msg,
                       r->msg_part);
        json_decref(a.body);
    }
}

TEST_IMPL(ledger_error_message_has_detail)
{
    gw_hlf_answer_t a;
    hlf_error_t e;
    const char *msg;

    hlf_error_clear(&e);
    hlf_error_set(&e, HLF_EUNAVAIL, "Unavailable: connection refused "
                  "[BrokerageMSP@127.0.0.1:7060: down]");
    ASSERT_EQ(gw_hlf_error_answer(&e, &a), HLF_OK);
    msg = json_string_value(
        json_object_get(json_object_get(a.body, "error"), "message"));
    ASSERT_STR_EQ(msg, "no peer or orderer reachable: Unavailable: "
                       "connection refused [BrokerageMSP@127.0.0.1:7060: "
                       "down]");
    json_decref(a.body);
    /* No text: the code's own words. */
    hlf_error_clear(&e);
    e.code = HLF_ETIMEDOUT;
    ASSERT_EQ(gw_hlf_error_answer(&e, &a), HLF_OK);
    msg = json_string_value(
        json_object_get(json_object_get(a.body, "error"), "message"));
    ASSERT_STR_EQ(msg, "the ledger did not answer in time: timed out");
    json_decref(a.body);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(ledger_error_table),
    TEST_ENTRY(ledger_error_message_has_detail),
};

TEST_MAIN(tests)
