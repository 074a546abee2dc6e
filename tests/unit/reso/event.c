/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stored event JSON (exact bytes for a fixed input, txid and
 * timestamp), the sortable index timestamp, and the error body shape.
 */
#include "evl.h"
#include "hlf/err.h"
#include "task.h"

/* Input in a scrambled order with whitespace and escapes. */
static const char input[] =
    "{ \"Application\" : \"API \\\"Server\\\"/2\",\n"
    "  \"Recorder\": \"did:reso:oid:abcdefgh12345678#0001\",\n"
    "  \"State\": \"Recorded\", \"Event\": \"Listing\",\n"
    "  \"Entity\": \"Broker\", \"SubjectType\": \"Property\",\n"
    "  \"System\": \"Property Listing Service\",\n"
    "  \"EventSubject\": \"urn:reso:upi:2.0:US:48201:R\\u00e9\" }";

static const char stored[] =
    "{\"TransactionId\":\"6991d580-c6c3-8ceb-90a5-a40c89fb0224\","
    "\"EventSubject\":\"urn:reso:upi:2.0:US:48201:R\xc3\xa9\","
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\","
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","
    "\"Recorder\":\"did:reso:oid:abcdefgh12345678#0001\","
    "\"Timestamp\":\"Sun, 03 Jun 2018 13:04:05 GMT\",\"Version\":\"1.3\","
    "\"Application\":\"API \\\"Server\\\"/2\"}";

TEST_IMPL(event_exact_json)
{
    static const char txid[] =
        "045ef594d81d2f2134d61151ed71260d8f79e657c7cb6ed1d893688532017409";
    const evl_profile_t *p = evl_profile_find("1.3");
    char uuid[EVL_UUID_LEN + 1], ts[EVL_IMFDATE_LEN + 1];
    evl_reject_t rej;
    json_t *in = NULL;
    char *ev;

    ASSERT_EQ(evl_validate_record(input, strlen(input), p, &in, &rej),
              HLF_OK);
    ASSERT_EQ(evl_uuid_from_txid(txid, strlen(txid), 0, uuid), HLF_OK);
    ASSERT_EQ(evl_imfdate(1528031045, ts), HLF_OK);
    ev = evl_event_build(in, uuid, ts, p->id);
    ASSERT_NOT_NULL(ev);
    ASSERT_STR_EQ(ev, stored);
    free(ev);
    json_decref(in);
}

TEST_IMPL(event_build_rejects_incomplete)
{
    json_t *in = json_pack("{ss}", "EventSubject", "a");

    ASSERT_NOT_NULL(in);
    ASSERT_NULL(evl_event_build(in, "u", "t", "1.3"));
    ASSERT_NULL(evl_event_build(NULL, "u", "t", "1.3"));
    json_decref(in);
}

TEST_IMPL(key_ts_format)
{
    char ts[EVL_TS_LEN + 1];

    ASSERT_EQ(evl_key_ts(1528031045, 7, ts), HLF_OK);
    ASSERT_STR_EQ(ts, "00000000001528031045000000007");
    ASSERT_EQ(evl_key_ts(0, 0, ts), HLF_OK);
    ASSERT_STR_EQ(ts, "00000000000000000000000000000");
    ASSERT_EQ(evl_key_ts(INT64_MAX, 999999999, ts), HLF_OK);
    ASSERT_STR_EQ(ts, "09223372036854775807999999999");
    ASSERT_EQ(evl_key_ts(-1, 0, ts), HLF_EINVAL);
    ASSERT_EQ(evl_key_ts(0, -1, ts), HLF_EINVAL);
    ASSERT_EQ(evl_key_ts(0, 1000000000, ts), HLF_EINVAL);
}

TEST_IMPL(key_ts_order)
{
    /* Chronological order, including equal seconds with nanos ties. */
    static const struct {
        int64_t s;
        int32_t ns;
    } t[] = {
        {0, 0},           {0, 1},          {0, 999999999},
        {1, 0},           {9, 5},          {10, 0},
        {99, 123},        {100, 0},        {1528031045, 0},
        {1528031045, 1},  {1528031045, 9}, {1528031045, 10},
        {1528031045, 100000000},           {1528031045, 999999999},
        {1528031046, 0},  {1000000000000LL, 0},
        {INT64_MAX, 999999999},
    };
    char a[EVL_TS_LEN + 1], b[EVL_TS_LEN + 1];
    size_t i, j, n = sizeof(t) / sizeof(t[0]);

    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            ASSERT_EQ(evl_key_ts(t[i].s, t[i].ns, a), HLF_OK);
            ASSERT_EQ(evl_key_ts(t[j].s, t[j].ns, b), HLF_OK);
            if (i < j)
                ASSERT(strcmp(a, b) < 0);
            else if (i > j)
                ASSERT(strcmp(a, b) > 0);
            else
                ASSERT_EQ(strcmp(a, b), 0);
        }
    }
}

TEST_IMPL(reject_json_shape)
{
    evl_reject_t rej;
    char *s;

    ASSERT_EQ(evl_reject(&rej, EVL_INVALID_LOOKUP, "System", (size_t)-1,
                         "bad \"%s\"", "x"),
              HLF_EINVAL);
    s = evl_reject_json(&rej);
    ASSERT_STR_EQ(s, "{\"error\":{\"code\":\"INVALID_LOOKUP\",\"field\":"
                     "\"System\",\"message\":\"bad \\\"x\\\"\"}}");
    free(s);
    ASSERT_EQ(evl_reject(&rej, EVL_UNKNOWN_FUNCTION, NULL, 0, "nope"),
              HLF_EINVAL);
    s = evl_reject_json(&rej);
    ASSERT_STR_EQ(s, "{\"error\":{\"code\":\"UNKNOWN_FUNCTION\","
                     "\"message\":\"nope\"}}");
    free(s);
    ASSERT_EQ(evl_reject(&rej, EVL_INTERNAL, NULL, 0, "ledger"), HLF_EIO);
    ASSERT_EQ(evl_reject(NULL, EVL_EVENT_NOT_FOUND, NULL, 0, "x"),
              HLF_EINVAL);
}

TEST_IMPL(codes_and_statuses)
{
    static const struct {
        evl_code_t code;
        const char *name;
        int status;
    } want[] = {
        {EVL_INVALID_JSON, "INVALID_JSON", 400},
        {EVL_SYSTEM_FIELD_SUPPLIED, "SYSTEM_FIELD_SUPPLIED", 400},
        {EVL_UNKNOWN_FIELD, "UNKNOWN_FIELD", 400},
        {EVL_MISSING_FIELD, "MISSING_FIELD", 400},
        {EVL_INVALID_VALUE, "INVALID_VALUE", 400},
        {EVL_INVALID_LOOKUP, "INVALID_LOOKUP", 400},
        {EVL_INVALID_IDENTIFIER, "INVALID_IDENTIFIER", 400},
        {EVL_PII_EMAIL, "PII_EMAIL", 400},
        {EVL_PII_PHONE, "PII_PHONE", 400},
        {EVL_RECORDER_NOT_AUTHORIZED, "RECORDER_NOT_AUTHORIZED", 403},
        {EVL_DUPLICATE_EVENT, "DUPLICATE_EVENT", 400},
        {EVL_EVENT_NOT_FOUND, "EVENT_NOT_FOUND", 404},
        {EVL_UNKNOWN_FUNCTION, "UNKNOWN_FUNCTION", 400},
        {EVL_INVALID_ARGUMENTS, "INVALID_ARGUMENTS", 400},
        {EVL_NOT_ADMIN, "NOT_ADMIN", 403},
        {EVL_NOT_MEMBER, "NOT_MEMBER", 403},
        {EVL_INVALID_PROFILE, "INVALID_PROFILE", 400},
        {EVL_INVALID_PROPOSAL, "INVALID_PROPOSAL", 400},
        {EVL_PROFILE_NOT_FOUND, "PROFILE_NOT_FOUND", 404},
        {EVL_PROFILE_EXISTS, "PROFILE_EXISTS", 400},
        {EVL_PROPOSAL_NOT_FOUND, "PROPOSAL_NOT_FOUND", 404},
        {EVL_ALREADY_APPROVED, "ALREADY_APPROVED", 400},
        {EVL_PROPOSAL_CLOSED, "PROPOSAL_CLOSED", 400},
        {EVL_NOT_OWNER, "NOT_OWNER", 403},
        {EVL_RECORDER_NOT_FOUND, "RECORDER_NOT_FOUND", 404},
        {EVL_DID_NOT_FOUND, "DID_NOT_FOUND", 404},
        {EVL_DID_EXISTS, "DID_EXISTS", 409},
        {EVL_DID_DEACTIVATED, "DID_DEACTIVATED", 410},
        {EVL_INTERNAL, "INTERNAL", 500},
    };
    size_t i;

    /* Other rows (the recorder and DID registries) are tested there. */
    ASSERT(sizeof(want) / sizeof(want[0]) <= EVL_CODE_COUNT);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ASSERT_STR_EQ(evl_code_name(want[i].code), want[i].name);
        ASSERT_EQ(evl_code_status(want[i].code), want[i].status);
    }
    ASSERT_STR_EQ(evl_code_name(EVL_CODE_COUNT), "INTERNAL");
    ASSERT_EQ(evl_code_status((evl_code_t)-1), 500);
}

TEST_IMPL(utf8_helpers)
{
    ASSERT_EQ(evl_utf8_cut("a\xc3\xa9z", 4, 2), 1);
    ASSERT_EQ(evl_utf8_cut("a\xc3\xa9z", 4, 3), 3);
    ASSERT_EQ(evl_utf8_cut("ab\xff", 3, 3), 2);
    ASSERT_EQ(evl_utf8_valid("\xf4\x8f\xbf\xbf", 4), 1);
    ASSERT_EQ(evl_utf8_valid("\xf4\x90\x80\x80", 4), 0);
    ASSERT_EQ(evl_utf8_valid("\xed\xa0\x80", 3), 0);
    ASSERT_EQ(evl_utf8_valid("\xc0\xaf", 2), 0);
    ASSERT_EQ(evl_utf8_valid("\xe0\x80\xaf", 3), 0);
    ASSERT_EQ(evl_utf8_valid("\xe2\x82", 2), 0);
    ASSERT_EQ(evl_utf8_valid("", 0), 1);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(event_exact_json), TEST_ENTRY(event_build_rejects_incomplete),
    TEST_ENTRY(key_ts_format),    TEST_ENTRY(key_ts_order),
    TEST_ENTRY(reject_json_shape), TEST_ENTRY(codes_and_statuses),
    TEST_ENTRY(utf8_helpers),
};

TEST_MAIN(tests)
