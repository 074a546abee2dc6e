/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Registry of Recorders through the contract and the stub double:
 * RegisterRecorder / GetRecorder / RevokeRecorder with their exact records
 * and error codes in check order, and the RecordEvent binding across
 * three orgs: another org's recorder, certificate restriction, revoked
 * ids, RFC 8141-equivalent spellings, unregistered ids (strict binding).
 */
#include "evl_contract.h"
#include "fake_cid.h"
#include "answers.h"
#include "fake_stub.h"
#include "task.h"

#include <string.h>

#define EVENT_AS(recorder, app)                                              \
    "{\"EventSubject\":\"US-42049-49888-1213666-R-N\","                      \
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\","  \
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","    \
    "\"Recorder\":\"" recorder "\",\"Application\":\"" app "\"}"
#define EVENT(recorder) EVENT_AS(recorder, "87478-a43")

#define REC_B "urn:reso:recorder:brokerage:1"
/* SHA-256("hello"): the fingerprint of FAKE_CID_DEFAULT_PEM's body. */
#define FP_HELLO                                                             \
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
/* A certificate whose body is "world". */
#define PEM_WORLD                                                            \
    "-----BEGIN CERTIFICATE-----\nd29ybGQ=\n-----END CERTIFICATE-----\n"

static fake_result_t res;
static int txn;

static void
call(fake_ledger_t *l, const char *fn, const char *arg)
{
    const char *args[2] = {fn, arg};
    char txid[32];

    snprintf(txid, sizeof(txid), "tx-%d", ++txn);
    fake_result_dispose(&res);
    fake_invoke(l, txid, 1528031045, 0, 1, args, NULL, 2, evl_invoke, NULL,
                &res);
}

/* Run fn(arg) as org's admin or client ("BrokerageMSP", "admin"). */
static void
call_as(fake_ledger_t *l, const char *msp, const char *ou, const char *fn,
        const char *arg)
{
    fake_cid_set(msp, ou, NULL, NULL);
    call(l, fn, arg);
    fake_cid_reset();
}

/* The answer's string member key. */
static const char *
answer_str(const char *key)
{
    static char buf[512];
    json_t *j = json_loads(res.payload, 0, NULL);
    const char *s = json_string_value(json_object_get(j, key));

    snprintf(buf, sizeof(buf), "%s", s != NULL ? s : "<none>");
    json_decref(j);
    return buf;
}

TEST_IMPL(register_get_exact)
{
    fake_ledger_t *l = fake_ledger_new();
    static const char want[] =
        "{\"Recorder\":\"" REC_B "\",\"Org\":\"BrokerageMSP\","
        "\"Registered\":\"Sun, 03 Jun 2018 13:04:05 GMT\","
        "\"AllowedClients\":[],\"Status\":\"Active\","
        "\"Updated\":\"Sun, 03 Jun 2018 13:04:05 GMT\"}";
    static const char rec_key[] = "\0REC\0" REC_B "\0";
    const char *k;
    size_t klen;

    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"URN:RESO:" "recorder:brokerage:1\"}");
    EXPECT_OK();
    ASSERT_STR_EQ(res.payload, want);
    ASSERT_EQ(res.writes, 1);
    ASSERT_NULL(res.event_name);
    ASSERT_EQ(fake_ledger_count(l), 1);
    k = fake_ledger_key(l, 0, &klen);
    ASSERT_EQ(klen, sizeof(rec_key) - 1);
    ASSERT_MEM_EQ(k, rec_key, klen);
    /* Any org, any role, any equivalent spelling reads it. */
    call_as(l, "MLSMSP", "client", "GetRecorder",
            "uRn:reso:recorder:brokerage:1?+resolve#frag");
    EXPECT_OK();
    ASSERT_STR_EQ(res.payload, want);
    ASSERT_EQ(res.writes, 0);
    fake_ledger_free(l);
}

TEST_IMPL(register_with_clients_and_did)
{
    fake_ledger_t *l = fake_ledger_new();

    call_as(l, "AssociationMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"did:reso:oid:assoc#0001\",\"OrgDID\":"
            "\"did:reso:oid:assoc\",\"AllowedClients\":[\"SHA256:"
            "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"
            "\",\"x509::CN=a::CN=ca\"]}");
    EXPECT_OK();
    ASSERT_STR_EQ(res.payload,
                  "{\"Recorder\":\"did:reso:oid:assoc#0001\",\"Org\":"
                  "\"AssociationMSP\",\"Registered\":\"Sun, 03 Jun 2018 "
                  "13:04:05 GMT\",\"AllowedClients\":[\"" FP_HELLO "\","
                  "\"x509::CN=a::CN=ca\"],\"OrgDID\":\"did:reso:oid:assoc\","
                  "\"Status\":\"Active\",\"Updated\":\"Sun, 03 Jun 2018 "
                  "13:04:05 GMT\"}");
    fake_ledger_free(l);
}

TEST_IMPL(register_refusals_in_order)
{
    fake_ledger_t *l = fake_ledger_new();

    /* Caller first: a client, or no X.509 creator, is not an admin. */
    call_as(l, "BrokerageMSP", "client", "RegisterRecorder", "not json");
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    fake_cid_set(NULL, NULL, NULL, NULL);
    call(l, "RegisterRecorder", "{\"Recorder\":\"x1\"}");
    fake_cid_reset();
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    call_as(l, "BrokerageMSP", "peer", "RevokeRecorder", "x1");
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    /* Then the schema. */
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder", "not json");
    EXPECT_ERROR(400, "INVALID_JSON", NULL);
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder", "[1]");
    EXPECT_ERROR(400, "INVALID_JSON", NULL);
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"a\",\"Recorder\":\"b\"}");
    EXPECT_ERROR(400, "INVALID_JSON", NULL);
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Org\":\"MLSMSP\"}");
    EXPECT_ERROR(400, "UNKNOWN_FIELD", "Org");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder", "{}");
    EXPECT_ERROR(400, "MISSING_FIELD", "Recorder");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":7}");
    EXPECT_ERROR(400, "INVALID_VALUE", "Recorder");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"\"}");
    EXPECT_ERROR(400, "INVALID_VALUE", "Recorder");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"API Server\"}");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "Recorder");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"urn:ab:#only-fragment\"}");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "Recorder");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"x1\",\"AllowedClients\":\"sha256:00\"}");
    EXPECT_ERROR(400, "INVALID_VALUE", "AllowedClients");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"x1\",\"AllowedClients\":[\"sha256:00\"]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "AllowedClients");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"x1\",\"AllowedClients\":[\"CN=a\"]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "AllowedClients");
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"x1\",\"OrgDID\":\"did:reso:oid:x#1\"}");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "OrgDID");
    ASSERT_EQ(fake_ledger_count(l), 0);
    fake_ledger_free(l);
}

TEST_IMPL(other_org_cannot_take_over)
{
    fake_ledger_t *l = fake_ledger_new();

    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"" REC_B "\"}");
    EXPECT_OK();
    call_as(l, "AssociationMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"URN:reso:recorder:brokerage:1\"}");
    EXPECT_ERROR(403, "NOT_OWNER", "Recorder");
    call_as(l, "MLSMSP", "admin", "RevokeRecorder", REC_B);
    EXPECT_ERROR(403, "NOT_OWNER", "Recorder");
    call_as(l, "MLSMSP", "client", "GetRecorder", REC_B);
    ASSERT_STR_EQ(answer_str("Org"), "BrokerageMSP");
    ASSERT_STR_EQ(answer_str("Status"), "Active");
    fake_ledger_free(l);
}

TEST_IMPL(binding_across_orgs)
{
    fake_ledger_t *l = fake_ledger_new();

    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"" REC_B "\"}");
    EXPECT_OK();
    call_as(l, "BrokerageMSP", "client", "RecordEvent", EVENT(REC_B));
    EXPECT_OK();
    ASSERT_STR_EQ(answer_str("Recorder"), REC_B);
    /* Another org's identity, even its admin, may not use the id. */
    call_as(l, "AssociationMSP", "client", "RecordEvent", EVENT(REC_B));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    call_as(l, "MLSMSP", "admin", "RecordEvent", EVENT(REC_B));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    /* An equivalent spelling is the same recorder: bound too. */
    call_as(l, "MLSMSP", "client", "RecordEvent",
            EVENT("URN:RESO:recorder:brokerage:1#x"));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    /* The stored event keeps the spelling the owner sent (§6 rule 8). */
    call_as(l, "BrokerageMSP", "client", "RecordEvent",
            EVENT("URN:RESO:recorder:brokerage:1"));
    EXPECT_OK();
    ASSERT_STR_EQ(answer_str("Recorder"), "URN:RESO:recorder:brokerage:1");
    /* A different NSS case is a different recorder, and unregistered:
     * refused under strict binding with its own message. */
    call_as(l, "MLSMSP", "client", "RecordEvent",
            EVENT("urn:reso:recorder:Brokerage:1"));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    ASSERT(strstr(res.message, "'urn:reso:recorder:Brokerage:1' is not "
                               "registered") != NULL);
    /* No X.509 creator cannot be bound to anything. */
    fake_cid_set(NULL, NULL, NULL, NULL);
    call(l, "RecordEvent", EVENT(REC_B));
    fake_cid_reset();
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    fake_ledger_free(l);
}

/*
 * Strict binding, the default (reso-model.md §13): a Recorder nobody
 * registered is refused for every org, admins included, and nothing is
 * written; the id stays free to register. (Opening the binding is a
 * catalog change: catalog.c recorder_binding_is_governed.)
 */
TEST_IMPL(unregistered_recorders_refused)
{
    static const char *const msps[] = {"BrokerageMSP", "AssociationMSP",
                                       "MLSMSP"};
    fake_ledger_t *l = fake_ledger_new();
    size_t i;

    for (i = 0; i < 3; i++) {
        call_as(l, msps[i], "client", "RecordEvent",
                EVENT("urn:reso:recorder:org1:1234"));
        EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
        ASSERT(strstr(res.message, "binding is strict") != NULL);
        call_as(l, msps[i], "admin", "RecordEvent", EVENT("ae1643"));
        EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    }
    ASSERT_EQ(fake_ledger_count(l), 0);
    call_as(l, "MLSMSP", "client", "GetRecorder", "ae1643");
    EXPECT_ERROR(404, "RECORDER_NOT_FOUND", "Recorder");
    /* Once its org registers it, the same event is accepted. */
    call_as(l, "MLSMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"ae1643\"}");
    EXPECT_OK();
    call_as(l, "MLSMSP", "client", "RecordEvent", EVENT("ae1643"));
    EXPECT_OK();
    fake_ledger_free(l);
}

TEST_IMPL(binding_after_identifier_checks)
{
    fake_ledger_t *l = fake_ledger_new();

    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"" REC_B "\"}");
    EXPECT_OK();
    call_as(l, "MLSMSP", "client", "RecordEvent",
            EVENT_AS(REC_B, " bad app"));
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "Application");
    fake_ledger_free(l);
}

TEST_IMPL(certificate_restriction)
{
    fake_ledger_t *l = fake_ledger_new();

    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"cert-bound\",\"AllowedClients\":[\"" FP_HELLO
            "\"]}");
    EXPECT_OK();
    /* The default fake certificate is the "hello" one. */
    call_as(l, "BrokerageMSP", "client", "RecordEvent", EVENT("cert-bound"));
    EXPECT_OK();
    fake_cid_set("BrokerageMSP", "client", PEM_WORLD, NULL);
    call(l, "RecordEvent", EVENT("cert-bound"));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    /* A subject/issuer entry matches the creator id instead. */
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"cert-bound\",\"AllowedClients\":["
            "\"x509::CN=bot::CN=ca\"]}");
    EXPECT_OK();
    fake_cid_set("BrokerageMSP", "client", PEM_WORLD, "x509::CN=bot::CN=ca");
    call(l, "RecordEvent", EVENT("cert-bound"));
    EXPECT_OK();
    /* Re-registration replaced the list: "hello" is no longer allowed. */
    fake_cid_reset();
    call(l, "RecordEvent", EVENT("cert-bound"));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    /* An unreadable certificate matches no fingerprint. */
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"cert-bound\",\"AllowedClients\":[\"" FP_HELLO
            "\"]}");
    EXPECT_OK();
    fake_cid_set("BrokerageMSP", "client", "no pem here", NULL);
    call(l, "RecordEvent", EVENT("cert-bound"));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    fake_cid_set("BrokerageMSP", "client",
                 "-----BEGIN CERTIFICATE-----\n*!*\n-----END CERTIFICATE-----",
                 NULL);
    call(l, "RecordEvent", EVENT("cert-bound"));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    fake_cid_reset();
    fake_ledger_free(l);
}

TEST_IMPL(revoke_and_reactivate)
{
    fake_ledger_t *l = fake_ledger_new();

    call_as(l, "MLSMSP", "admin", "RevokeRecorder", "mls-1");
    EXPECT_ERROR(404, "RECORDER_NOT_FOUND", "Recorder");
    call_as(l, "MLSMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"mls-1\"}");
    EXPECT_OK();
    call_as(l, "MLSMSP", "admin", "RevokeRecorder", "mls-1");
    EXPECT_OK();
    ASSERT_STR_EQ(answer_str("Status"), "Revoked");
    ASSERT_EQ(res.writes, 1);
    call_as(l, "MLSMSP", "client", "RecordEvent", EVENT("mls-1"));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    call_as(l, "MLSMSP", "client", "GetRecorder", "mls-1");
    ASSERT_STR_EQ(answer_str("Status"), "Revoked");
    call_as(l, "MLSMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"mls-1\"}");
    EXPECT_OK();
    ASSERT_STR_EQ(answer_str("Status"), "Active");
    call_as(l, "MLSMSP", "client", "RecordEvent", EVENT("mls-1"));
    EXPECT_OK();
    fake_ledger_free(l);
}

TEST_IMPL(get_recorder_errors)
{
    fake_ledger_t *l = fake_ledger_new();

    call(l, "GetRecorder", "API Server");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "Recorder");
    call(l, "GetRecorder", "");
    EXPECT_ERROR(400, "INVALID_VALUE", "Recorder");
    call(l, "GetRecorder", "nobody");
    EXPECT_ERROR(404, "RECORDER_NOT_FOUND", "Recorder");
    fake_ledger_fail(l, "get_state", HLF_EIO);
    call(l, "GetRecorder", "nobody");
    EXPECT_ERROR(500, "INTERNAL", NULL);
    fake_ledger_free(l);
}

TEST_IMPL(ledger_failures_are_internal)
{
    fake_ledger_t *l = fake_ledger_new();

    /* The binding look-up is the first read of RecordEvent. */
    fake_ledger_fail(l, "get_state", HLF_EIO);
    call(l, "RecordEvent", EVENT("ae1643"));
    EXPECT_ERROR(500, "INTERNAL", NULL);
    fake_ledger_fail(l, "put_state", HLF_EIO);
    call_as(l, "BrokerageMSP", "admin", "RegisterRecorder",
            "{\"Recorder\":\"x1\"}");
    ASSERT_EQ(res.status, 500);
    ASSERT_EQ(fake_ledger_count(l), 0);
    fake_ledger_free(l);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(register_get_exact),
    TEST_ENTRY(register_with_clients_and_did),
    TEST_ENTRY(register_refusals_in_order),
    TEST_ENTRY(other_org_cannot_take_over),
    TEST_ENTRY(binding_across_orgs),
    TEST_ENTRY(unregistered_recorders_refused),
    TEST_ENTRY(binding_after_identifier_checks),
    TEST_ENTRY(certificate_restriction),
    TEST_ENTRY(revoke_and_reactivate),
    TEST_ENTRY(get_recorder_errors),
    TEST_ENTRY(ledger_failures_are_internal),
};

TEST_MAIN(tests)
