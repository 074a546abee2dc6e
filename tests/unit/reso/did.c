/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The did:reso registry through the contract and the stub double:
 * create / resolve / update / deactivate with exact W3C DID documents and
 * metadata, controller-only changes, and every refusal in check order.
 */
#include "evl_contract.h"
#include "fake_cid.h"
#include "answers.h"
#include "fake_stub.h"
#include "task.h"

#include <string.h>

#define DID "did:reso:upid:US-42049-49888-1213666-R-N"

/* The model's §5.4 document, services with relative and absolute ids. */
#define DOC_IN                                                               \
    "{\"id\":\"" DID "\",\"service\":["                                      \
    "{\"id\":\"#history\",\"type\":\"PropertyHistoryService\","              \
    "\"serviceEndpoint\":\"https://mls.com/get\"},"                          \
    "{\"id\":\"" DID "#parcel\",\"type\":\"ParcelDataService\","             \
    "\"serviceEndpoint\":\"https://county.gov/parcel\"}]}"

#define DOC_OUT                                                              \
    "{\"@context\":\"https://www.w3.org/ns/did/v1\",\"id\":\"" DID "\","     \
    "\"controller\":\"did:reso:oid:BrokerageMSP\",\"service\":["             \
    "{\"id\":\"" DID "#history\",\"type\":\"PropertyHistoryService\","       \
    "\"serviceEndpoint\":\"https://mls.com/get\"},"                          \
    "{\"id\":\"" DID "#parcel\",\"type\":\"ParcelDataService\","             \
    "\"serviceEndpoint\":\"https://county.gov/parcel\"}]}"

static fake_result_t res;
static int64_t now_secs = 1528031045;

static void
call_as(fake_ledger_t *l, const char *msp, const char *ou, const char *fn,
        const char *arg)
{
    const char *args[2] = {fn, arg};

    fake_cid_set(msp, ou, NULL, NULL);
    fake_result_dispose(&res);
    fake_invoke(l, "tx", now_secs, 0, 1, args, NULL, 2, evl_invoke, NULL,
                &res);
    fake_cid_reset();
}

#define ADMIN(l, fn, arg) call_as((l), "BrokerageMSP", "admin", (fn), (arg))

/* The answer's member at a path of keys (NULL-terminated), serialized. */
static char *
member(const char *k1, const char *k2)
{
    json_t *j = json_loads(res.payload, 0, NULL);
    json_t *v = json_object_get(j, k1);
    char *out;

    if (k2 != NULL)
        v = json_object_get(v, k2);
    out = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return out;
}

#define ASSERT_MEMBER(k1, k2, want)                                          \
    do {                                                                     \
        char *got_ = member((k1), (k2));                                     \
        if (got_ == NULL || strcmp(got_, (want)) != 0)                       \
            TEST__FAIL("%s.%s = %s, want %s", (k1), (k2) ? (k2) : "",        \
                       got_ ? got_ : "(none)", (want));                      \
        free(got_);                                                          \
    } while (0)

TEST_IMPL(create_resolve_exact)
{
    fake_ledger_t *l = fake_ledger_new();
    static const char key[] = "\0DID\0" DID "\0";
    const char *k;
    size_t klen;

    ADMIN(l, "CreateDID", DOC_IN);
    EXPECT_OK();
    ASSERT_EQ(res.writes, 1);
    ASSERT_NULL(res.event_name);
    ASSERT_MEMBER("didDocument", NULL, DOC_OUT);
    ASSERT_MEMBER("didDocumentMetadata", NULL,
                  "{\"deactivated\":false,\"controllerMsp\":\"BrokerageMSP\","
                  "\"created\":\"2018-06-03T13:04:05Z\",\"updated\":"
                  "\"2018-06-03T13:04:05Z\",\"versionId\":\"1\"}");
    ASSERT_MEMBER("didResolutionMetadata", NULL,
                  "{\"contentType\":\"application/did+json\"}");
    k = fake_ledger_key(l, 0, &klen);
    ASSERT_EQ(klen, sizeof(key) - 1);
    ASSERT_MEM_EQ(k, key, klen);
    /* Anyone resolves it, with the same document. */
    call_as(l, "MLSMSP", "client", "ResolveDID", DID);
    EXPECT_OK();
    ASSERT_EQ(res.writes, 0);
    ASSERT_MEMBER("didDocument", NULL, DOC_OUT);
    ASSERT_MEMBER("@context", NULL, "\"https://w3id.org/did-resolution/v1\"");
    fake_ledger_free(l);
}

TEST_IMPL(update_then_deactivate)
{
    fake_ledger_t *l = fake_ledger_new();

    ADMIN(l, "CreateDID", DOC_IN);
    EXPECT_OK();
    now_secs += 3600;
    ADMIN(l, "UpdateDID",
          "{\"@context\":[\"https://www.w3.org/ns/did/v1\"],\"id\":\"" DID
          "\",\"verificationMethod\":[{\"id\":\"#key-1\",\"type\":"
          "\"Ed25519VerificationKey2020\",\"publicKeyMultibase\":"
          "\"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\"}],"
          "\"service\":[{\"id\":\"#unlock\",\"type\":\"UnlockService\","
          "\"serviceEndpoint\":[\"https://a.example/u\",{\"uri\":\"x\"}]}]}");
    EXPECT_OK();
    ASSERT_MEMBER("didDocument", "verificationMethod",
                  "[{\"id\":\"" DID "#key-1\",\"type\":"
                  "\"Ed25519VerificationKey2020\",\"publicKeyMultibase\":"
                  "\"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\","
                  "\"controller\":\"did:reso:oid:BrokerageMSP\"}]");
    ASSERT_MEMBER("didDocument", "@context",
                  "[\"https://www.w3.org/ns/did/v1\"]");
    ASSERT_MEMBER("didDocumentMetadata", "created",
                  "\"2018-06-03T13:04:05Z\"");
    ASSERT_MEMBER("didDocumentMetadata", "updated",
                  "\"2018-06-03T14:04:05Z\"");
    ASSERT_MEMBER("didDocumentMetadata", "versionId", "\"2\"");
    now_secs += 60;
    ADMIN(l, "DeactivateDID", DID);
    EXPECT_OK();
    ASSERT_MEMBER("didDocument", NULL,
                  "{\"@context\":[\"https://www.w3.org/ns/did/v1\"],\"id\":\""
                  DID "\",\"controller\":\"did:reso:oid:BrokerageMSP\"}");
    ASSERT_MEMBER("didDocumentMetadata", "deactivated", "true");
    ASSERT_MEMBER("didDocumentMetadata", "updated",
                  "\"2018-06-03T14:05:05Z\"");
    ASSERT_MEMBER("didDocumentMetadata", "versionId", "\"3\"");
    call_as(l, "MLSMSP", "client", "ResolveDID", DID);
    EXPECT_OK();
    ASSERT_MEMBER("didDocumentMetadata", "deactivated", "true");
    /* A deactivated DID is final. */
    ADMIN(l, "UpdateDID", DOC_IN);
    EXPECT_ERROR(410, "DID_DEACTIVATED", "id");
    ADMIN(l, "DeactivateDID", DID);
    EXPECT_ERROR(410, "DID_DEACTIVATED", "id");
    ADMIN(l, "CreateDID", DOC_IN);
    EXPECT_ERROR(409, "DID_EXISTS", "id");
    now_secs = 1528031045;
    fake_ledger_free(l);
}

TEST_IMPL(only_the_controller_changes_it)
{
    fake_ledger_t *l = fake_ledger_new();

    ADMIN(l, "CreateDID", DOC_IN);
    EXPECT_OK();
    call_as(l, "AssociationMSP", "admin", "UpdateDID", DOC_IN);
    EXPECT_ERROR(403, "NOT_OWNER", "id");
    call_as(l, "MLSMSP", "admin", "DeactivateDID", DID);
    EXPECT_ERROR(403, "NOT_OWNER", "id");
    call_as(l, "BrokerageMSP", "client", "UpdateDID", DOC_IN);
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    call_as(l, "BrokerageMSP", "client", "DeactivateDID", DID);
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    call_as(l, "AssociationMSP", "admin", "CreateDID", DOC_IN);
    EXPECT_ERROR(409, "DID_EXISTS", "id");
    call_as(l, "MLSMSP", "client", "ResolveDID", DID);
    ASSERT_MEMBER("didDocumentMetadata", "versionId", "\"1\"");
    fake_ledger_free(l);
}

TEST_IMPL(create_refusals_in_order)
{
    fake_ledger_t *l = fake_ledger_new();

    call_as(l, "BrokerageMSP", "client", "CreateDID", "junk");
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    ADMIN(l, "CreateDID", "junk");
    EXPECT_ERROR(400, "INVALID_JSON", NULL);
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"controller\":\"x\"}");
    EXPECT_ERROR(400, "SYSTEM_FIELD_SUPPLIED", "controller");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"authentication\":[]}");
    EXPECT_ERROR(400, "UNKNOWN_FIELD", "authentication");
    ADMIN(l, "CreateDID", "{\"service\":[]}");
    EXPECT_ERROR(400, "MISSING_FIELD", "id");
    ADMIN(l, "CreateDID", "{\"id\":5}");
    EXPECT_ERROR(400, "INVALID_VALUE", "id");
    ADMIN(l, "CreateDID", "{\"id\":\"did:reso:x#frag\"}");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "id");
    ADMIN(l, "CreateDID", "{\"id\":\"did:web:example.com\"}");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "id");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"@context\":\"x\"}");
    EXPECT_ERROR(400, "INVALID_VALUE", "@context");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"alsoKnownAs\":[\"a b\"]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "alsoKnownAs");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"service\":{}}");
    EXPECT_ERROR(400, "INVALID_VALUE", "service");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"service\":[1]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "service[0]");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"service\":[{\"id\":\"#a\","
                          "\"type\":\"T\",\"serviceEndpoint\":\"https://x\","
                          "\"extra\":1}]}");
    EXPECT_ERROR(400, "UNKNOWN_FIELD", "service[0].extra");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"service\":[{\"id\":"
                          "\"did:reso:other#a\",\"type\":\"T\","
                          "\"serviceEndpoint\":\"https://x\"}]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "service[0].id");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"service\":[{\"id\":\"#\","
                          "\"type\":\"T\",\"serviceEndpoint\":\"https://x\"}"
                          "]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "service[0].id");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"service\":[{\"id\":\"#a\","
                          "\"type\":\"\",\"serviceEndpoint\":\"https://x\"}]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "service[0].type");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"service\":[{\"id\":\"#a\","
                          "\"type\":\"T\",\"serviceEndpoint\":\"not a uri\"}"
                          "]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "service[0].serviceEndpoint");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"service\":[{\"id\":\"#a\","
                          "\"type\":\"T\",\"serviceEndpoint\":\"https://x\"},"
                          "{\"id\":\"" DID "#a\",\"type\":\"T\","
                          "\"serviceEndpoint\":\"https://y\"}]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "service[1].id");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"verificationMethod\":[{"
                          "\"id\":\"#k\",\"type\":\"JsonWebKey2020\"}]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "verificationMethod[0]");
    ADMIN(l, "CreateDID", "{\"id\":\"" DID "\",\"verificationMethod\":[{"
                          "\"id\":\"#k\",\"type\":\"JsonWebKey2020\","
                          "\"controller\":\"BrokerageMSP\",\"publicKeyJwk\":"
                          "{\"kty\":\"OKP\"}}]}");
    EXPECT_ERROR(400, "INVALID_VALUE", "verificationMethod[0]");
    ASSERT_EQ(fake_ledger_count(l), 0);
    fake_ledger_free(l);
}

TEST_IMPL(resolve_errors)
{
    fake_ledger_t *l = fake_ledger_new();

    call_as(l, "MLSMSP", "client", "ResolveDID", DID);
    EXPECT_ERROR(404, "DID_NOT_FOUND", "id");
    call_as(l, "MLSMSP", "client", "ResolveDID", "did:reso:x#y");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "id");
    call_as(l, "MLSMSP", "client", "ResolveDID", "did:web:x");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "id");
    call_as(l, "MLSMSP", "client", "ResolveDID", "");
    EXPECT_ERROR(400, "INVALID_VALUE", "id");
    ADMIN(l, "UpdateDID", DOC_IN);
    EXPECT_ERROR(404, "DID_NOT_FOUND", "id");
    ADMIN(l, "DeactivateDID", DID);
    EXPECT_ERROR(404, "DID_NOT_FOUND", "id");
    fake_ledger_fail(l, "get_state", HLF_EIO);
    call_as(l, "MLSMSP", "client", "ResolveDID", DID);
    EXPECT_ERROR(500, "INTERNAL", NULL);
    fake_ledger_fail(l, "put_state", HLF_EIO);
    ADMIN(l, "CreateDID", DOC_IN);
    ASSERT_EQ(res.status, 500);
    ASSERT_EQ(fake_ledger_count(l), 0);
    fake_ledger_free(l);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(create_resolve_exact),
    TEST_ENTRY(update_then_deactivate),
    TEST_ENTRY(only_the_controller_changes_it),
    TEST_ENTRY(create_refusals_in_order),
    TEST_ENTRY(resolve_errors),
};

TEST_MAIN(tests)
