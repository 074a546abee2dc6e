/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/status.c: google.rpc.Status bytes built by hand
 * with gateway.ErrorDetail entries, the one-line error text, chaincode
 * rejections in both places the gateway reports them, and the relabelling
 * per Gateway step.
 */
#include "fake_gateway.h"
#include "status.h"
#include "task.h"

#define CC_JSON                                                              \
    "{\"error\":{\"code\":\"INVALID_LOOKUP\",\"field\":\"System\","         \
    "\"message\":\"unknown system, see 5.2\"}}"

static int
to_error(int code, const char *msg, const uint8_t *det, size_t det_len,
         hlf_error_t *e)
{
    hlf_error_clear(e);
    return hlf__status_to_error(code, msg, msg ? strlen(msg) : 0, det,
                                det_len, e);
}

TEST_IMPL(status_endorse_chaincode_error)
{
    static const char msg[] =
        "failed to endorse transaction, see attached details for more info";
    const fg_detail_t d[2] = {
        {"BrokerageMSP", "peer0.brokerage.reso.example:7051",
         "chaincode response 400, " CC_JSON},
        {"MLSMSP", "peer0.mls.reso.example:9051",
         "chaincode response 400, " CC_JSON},
    };
    size_t len;
    uint8_t *det = fg_status(10, msg, d, 2, 1, &len);
    hlf_error_t e;

    ASSERT_EQ(to_error(10, msg, det, len, &e), HLF_EGRPC);
    ASSERT_EQ(e.code, HLF_EGRPC);
    ASSERT_EQ(e.grpc_status, 10);
    ASSERT_STR_EQ(e.text,
                  "Aborted: " "failed to endorse transaction, see attached "
                  "details for more info [BrokerageMSP@peer0.brokerage.reso."
                  "example:7051: chaincode response 400, " CC_JSON
                  "; MLSMSP@peer0.mls.reso.example:9051: chaincode response "
                  "400, " CC_JSON "]");
    ASSERT_EQ(e.chaincode_status, 400);
    ASSERT_STR_EQ(e.chaincode_message, CC_JSON);
    ASSERT_EQ(hlf__status_phase(HLF_EGRPC, HLF_EENDORSE, &e),
              HLF_ECHAINCODE);
    ASSERT_EQ(e.code, HLF_ECHAINCODE);
    free(det);
}

TEST_IMPL(status_evaluate_chaincode_error)
{
    static const char msg[] = "evaluate call to endorser returned error: "
                              "chaincode response 404, " CC_JSON;
    const fg_detail_t d = {"BrokerageMSP", "peer0:7051",
                           "chaincode response 404, " CC_JSON};
    size_t len;
    uint8_t *det = fg_status(2, msg, &d, 1, 0, &len);
    hlf_error_t e;

    ASSERT_EQ(to_error(2, msg, det, len, &e), HLF_EGRPC);
    ASSERT_EQ(e.grpc_status, 2);
    ASSERT_EQ(e.chaincode_status, 404);
    ASSERT_STR_EQ(e.chaincode_message, CC_JSON);
    ASSERT_STR_EQ(e.text, "Unknown: " "evaluate call to endorser returned "
                          "error: chaincode response 404, " CC_JSON
                          " [BrokerageMSP@peer0:7051: chaincode response "
                          "404, " CC_JSON "]");
    ASSERT_EQ(hlf__status_phase(HLF_EGRPC, HLF_EEVALUATE, &e),
              HLF_ECHAINCODE);
    free(det);

    /* Without details the message alone is enough. */
    ASSERT_EQ(to_error(2, msg, NULL, 0, &e), HLF_EGRPC);
    ASSERT_EQ(e.chaincode_status, 404);
    ASSERT_STR_EQ(e.chaincode_message, CC_JSON);
}

TEST_IMPL(status_non_chaincode_failures)
{
    const fg_detail_t d[3] = {
        {"BrokerageMSP", "peer0:7051",
         "rpc error: code = FailedPrecondition desc = access denied"},
        {"", "orderer0:7050", "status=FORBIDDEN"},
        {"MLSMSP", "", "no address"},
    };
    size_t len;
    uint8_t *det = fg_status(10, "failed to endorse", d, 3, 0, &len);
    hlf_error_t e;

    ASSERT_EQ(to_error(10, "failed to endorse", det, len, &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text,
                  "Aborted: failed to endorse [BrokerageMSP@peer0:7051: rpc "
                  "error: code = FailedPrecondition desc = access denied; "
                  "orderer0:7050: status=FORBIDDEN; MLSMSP: no address]");
    ASSERT_EQ(e.chaincode_status, 0);
    ASSERT_STR_EQ(e.chaincode_message, "");
    ASSERT_EQ(hlf__status_phase(HLF_EGRPC, HLF_EENDORSE, &e), HLF_EENDORSE);
    ASSERT_EQ(hlf__status_phase(HLF_EGRPC, HLF_ESUBMIT, &e), HLF_ESUBMIT);
    free(det);

    ASSERT_EQ(to_error(14, "no peers available to evaluate chaincode reso in "
                           "channel reso-events",
                       NULL, 0, &e),
              HLF_EUNAVAIL);
    ASSERT_STR_EQ(e.text, "Unavailable: no peers available to evaluate "
                          "chaincode reso in channel reso-events");
    ASSERT_EQ(hlf__status_phase(HLF_EUNAVAIL, HLF_EENDORSE, &e),
              HLF_EUNAVAIL);
    ASSERT_EQ(to_error(4, "endorsement timeout expired", NULL, 0, &e),
              HLF_ETIMEDOUT);
    ASSERT_STR_EQ(e.text, "DeadlineExceeded: endorsement timeout expired");
    ASSERT_EQ(hlf__status_phase(HLF_ETIMEDOUT, HLF_EENDORSE, &e),
              HLF_ETIMEDOUT);
    ASSERT_EQ(to_error(1, "Cancelled", NULL, 0, &e), HLF_ECLOSED);
    ASSERT_EQ(to_error(99, "odd", NULL, 0, &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "UnknownCode: odd");
    /* Non-gRPC codes pass through unchanged. */
    ASSERT_EQ(hlf__status_phase(HLF_EPROTO, HLF_EENDORSE, &e), HLF_EPROTO);
    ASSERT_EQ(hlf__status_phase(HLF_EGRPC, HLF_EENDORSE, NULL),
              HLF_EENDORSE);
}

TEST_IMPL(status_odd_inputs)
{
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0x01};
    const fg_detail_t d = {"M", "a:1", "chaincode response 400 missing comma"};
    size_t len;
    uint8_t *det;
    hlf_error_t e;
    char big[3000];

    /* Undecodable details: the message is still reported. */
    ASSERT_EQ(to_error(9, "precondition", junk, sizeof(junk), &e),
              HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "FailedPrecondition: precondition");
    /* Empty grpc-message: the Status copy is used. */
    det = fg_status(9, "from status", NULL, 0, 0, &len);
    ASSERT_EQ(to_error(9, NULL, det, len, &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "FailedPrecondition: from status");
    free(det);
    /* Printf directives in peer text are data, not formats. */
    ASSERT_EQ(to_error(3, "bad %s %n value", NULL, 0, &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "InvalidArgument: bad %s %n value");
    /* A near miss of the chaincode pattern is not a chaincode error. */
    det = fg_status(10, "x", &d, 1, 0, &len);
    ASSERT_EQ(to_error(10, "x", det, len, &e), HLF_EGRPC);
    ASSERT_EQ(e.chaincode_status, 0);
    free(det);
    /* Newlines are flattened and overlong text is cut, not overflowed. */
    ASSERT_EQ(to_error(13, "line1\nline2", NULL, 0, &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "Internal: line1 line2");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "chaincode response 400, ", 24);
    ASSERT_EQ(to_error(2, big, NULL, 0, &e), HLF_EGRPC);
    ASSERT_EQ(strlen(e.text), sizeof(e.text) - 1);
    ASSERT_EQ(strlen(e.chaincode_message), sizeof(e.chaincode_message) - 1);
    ASSERT_EQ(e.chaincode_status, 400);
    /* A NULL err only yields the code. */
    ASSERT_EQ(hlf__status_to_error(14, "x", 1, NULL, 0, NULL), HLF_EUNAVAIL);
}

TEST_IMPL(status_code_names)
{
    ASSERT_STR_EQ(hlf_grpc_code_name(0), "OK");
    ASSERT_STR_EQ(hlf_grpc_code_name(4), "DeadlineExceeded");
    ASSERT_STR_EQ(hlf_grpc_code_name(10), "Aborted");
    ASSERT_STR_EQ(hlf_grpc_code_name(14), "Unavailable");
    ASSERT_STR_EQ(hlf_grpc_code_name(16), "Unauthenticated");
    ASSERT_STR_EQ(hlf_grpc_code_name(17), "UnknownCode");
    ASSERT_STR_EQ(hlf_grpc_code_name(-1), "UnknownCode");
}

static const test_entry_t tests[] = {
    TEST_ENTRY(status_endorse_chaincode_error),
    TEST_ENTRY(status_evaluate_chaincode_error),
    TEST_ENTRY(status_non_chaincode_failures),
    TEST_ENTRY(status_odd_inputs),
    TEST_ENTRY(status_code_names),
};

TEST_MAIN(tests)
