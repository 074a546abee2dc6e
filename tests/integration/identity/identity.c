/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Registry of Recorders and the did:reso DID registry on the real
 * Fabric network of the ctest fixture "fabric", through each org's peer
 * Gateway with the orgs' client and admin identities:
 *
 * - an org admin registers a Recorder; its own client records with it,
 *   the other two orgs (client and admin, also with an RFC 8141
 *   equivalent spelling) get RECORDER_NOT_AUTHORIZED; another org cannot
 *   take the id over, a client cannot register; revocation stops it;
 * - a Recorder restricted to one certificate (SHA-256 of its DER, worked
 *   out here with OpenSSL independently of the chaincode) accepts that
 *   identity only;
 * - a DID is created, resolved from every org, updated, refused to the
 *   other orgs and to clients, deactivated, and stays final.
 *
 * Every id carries a random part, so reruns on the same ledger do not
 * collide and the Recorders other tests use are never registered.
 */
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hlf/crypto.h"
#include "hlf/gateway.h"
#include "hlf/identity.h"
#include "netfixture.h"
#include "task.h"

static const char *const ORGS[] = {"Brokerage", "Association", "MLS"};

typedef struct {
    reso_org_t client[3], admin[3];
    json_t *env;
} net_t;

static void
net_open(net_t *n)
{
    char why[1024];
    size_t i;

    n->env = netfx_env();
    for (i = 0; i < 3; i++) {
        netfx_org_open(n->env, ORGS[i], &n->client[i]);
        if (reso_netenv_open_org(n->env, ORGS[i], "admin", &n->admin[i], why,
                                 sizeof(why)) != 0)
            TEST__FAIL("open %s admin: %s", ORGS[i], why);
    }
}

static void
net_close(net_t *n)
{
    size_t i;

    for (i = 0; i < 3; i++) {
        reso_netenv_close_org(&n->client[i]);
        reso_netenv_close_org(&n->admin[i]);
    }
    json_decref(n->env);
}

/* A random hex tag for ids no earlier run used. */
static void
tag(char out[13])
{
    uint8_t r[6];

    ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
    hlf_hex_encode(r, sizeof(r), out);
}

/*
 * Call fn(arg) (submit or evaluate) and return the parsed answer (new);
 * on a chaincode error *status and code are set and NULL is returned.
 */
static json_t *
call(reso_org_t *o, int submit, const char *fn, const char *arg, int *status,
     char code[64])
{
    hlf_bytes_t a = hlf_bytes_str(arg), res = {0};
    hlf_error_t err;
    json_t *v = NULL, *body;
    int rc;

    hlf_error_clear(&err);
    *status = 200;
    code[0] = '\0';
    rc = submit ? hlf_contract_submit(o->contract, fn, &a, 1, &res, &err)
                : hlf_contract_evaluate(o->contract, fn, &a, 1, &res, &err);
    if (rc == HLF_OK) {
        if (submit)
            ASSERT_EQ(err.tx_validation_code, 0);
        v = json_loadb((const char *)res.data, res.len, 0, NULL);
        ASSERT_NOT_NULL(v);
        hlf_bytes_free(&res);
        return v;
    }
    if (err.code != HLF_ECHAINCODE)
        TEST__FAIL("%s: %s", fn, err.text);
    *status = err.chaincode_status;
    body = json_loads(err.chaincode_message, 0, NULL);
    snprintf(code, 64, "%s",
             json_string_value(json_object_get(json_object_get(body, "error"),
                                               "code")) != NULL
                 ? json_string_value(json_object_get(
                       json_object_get(body, "error"), "code"))
                 : "?");
    json_decref(body);
    return NULL;
}

static json_t *
must(reso_org_t *o, int submit, const char *fn, const char *arg)
{
    char code[64];
    int status;
    json_t *v = call(o, submit, fn, arg, &status, code);

    if (v == NULL)
        TEST__FAIL("%s(%.200s): %d %s", fn, arg, status, code);
    return v;
}

static void
refused(reso_org_t *o, int submit, const char *fn, const char *arg,
        int want_status, const char *want_code, int line)
{
    char code[64];
    int status;
    json_t *v = call(o, submit, fn, arg, &status, code);

    if (v != NULL) {
        json_decref(v);
        TEST__FAIL("line %d: %s(%.200s) succeeded; want %s", line, fn, arg,
                   want_code);
    }
    if (status != want_status || strcmp(code, want_code) != 0)
        TEST__FAIL("line %d: %s: got %d %s, want %d %s", line, fn, status,
                   code, want_status, want_code);
}

#define REFUSED(o, submit, fn, arg, status, code)                            \
    refused((o), (submit), (fn), (arg), (status), (code), __LINE__)

/*
 * Evaluate fn(arg) on o until it succeeds: a commit seen by one peer
 * reaches the others a moment later. Up to 10 s.
 */
static json_t *
eventually(reso_org_t *o, const char *fn, const char *arg)
{
    char code[64];
    int status, i;
    json_t *v;

    for (i = 0; i < 100; i++) {
        v = call(o, 0, fn, arg, &status, code);
        if (v != NULL)
            return v;
        usleep(100 * 1000);
    }
    TEST__FAIL("%s(%s) on another peer: still %d %s after 10 s", fn, arg,
               status, code);
}

static char *
event_as(const char *recorder, const char *t)
{
    char subject[64];
    json_t *e;
    char *s;

    snprintf(subject, sizeof(subject), "US-42049-ID%s-1-R-N", t);
    e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "EventSubject",
                  subject, "System", "Property Listing Service",
                  "SubjectType", "Property", "Entity", "Broker", "Event",
                  "Listing", "State", "Recorded", "Recorder", recorder,
                  "Application", "identity-it");
    s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    ASSERT_NOT_NULL(s);
    return s;
}

static void
record_ok(reso_org_t *o, const char *recorder, const char *t)
{
    char *ev = event_as(recorder, t);
    json_t *v = must(o, 1, "RecordEvent", ev);

    ASSERT_STR_EQ(netfx_str(v, "Recorder"), recorder);
    json_decref(v);
    free(ev);
}

static void
record_refused(reso_org_t *o, const char *recorder, const char *t, int line)
{
    char *ev = event_as(recorder, t);

    refused(o, 1, "RecordEvent", ev, 403, "RECORDER_NOT_AUTHORIZED", line);
    free(ev);
}

#define RECORD_REFUSED(o, r, t) record_refused((o), (r), (t), __LINE__)

TEST_IMPL(recorder_binding_across_orgs)
{
    char t[13], rec[96], alt[96], reg[160];
    net_t n;
    json_t *v;
    size_t i;

    net_open(&n);
    tag(t);
    snprintf(rec, sizeof(rec), "urn:reso:recorder:brokerage:%s", t);
    snprintf(alt, sizeof(alt), "URN:RESO:recorder:brokerage:%s#x", t);
    snprintf(reg, sizeof(reg), "{\"Recorder\":\"%s\"}", rec);
    /* Only an admin registers. */
    REFUSED(&n.client[0], 1, "RegisterRecorder", reg, 403, "NOT_ADMIN");
    v = must(&n.admin[0], 1, "RegisterRecorder", reg);
    ASSERT_STR_EQ(netfx_str(v, "Org"), "BrokerageMSP");
    ASSERT_STR_EQ(netfx_str(v, "Status"), "Active");
    json_decref(v);
    /* Every org's peer has it once committed. */
    for (i = 0; i < 3; i++) {
        v = eventually(&n.client[i], "GetRecorder", alt);
        ASSERT_STR_EQ(netfx_str(v, "Recorder"), rec);
        ASSERT_STR_EQ(netfx_str(v, "Org"), "BrokerageMSP");
        json_decref(v);
    }
    /* The owner records; nobody else may, in any spelling. */
    record_ok(&n.client[0], rec, t);
    for (i = 1; i < 3; i++) {
        RECORD_REFUSED(&n.client[i], rec, t);
        RECORD_REFUSED(&n.admin[i], rec, t);
        RECORD_REFUSED(&n.client[i], alt, t);
    }
    /* Another org cannot take the id over or revoke it. */
    snprintf(reg, sizeof(reg), "{\"Recorder\":\"%s\"}", alt);
    REFUSED(&n.admin[1], 1, "RegisterRecorder", reg, 403, "NOT_OWNER");
    REFUSED(&n.admin[2], 1, "RevokeRecorder", rec, 403, "NOT_OWNER");
    /* Revocation by the owner stops its own client too. */
    v = must(&n.admin[0], 1, "RevokeRecorder", rec);
    ASSERT_STR_EQ(netfx_str(v, "Status"), "Revoked");
    json_decref(v);
    RECORD_REFUSED(&n.client[0], rec, t);
    REFUSED(&n.client[2], 0, "GetRecorder", "nobody-registered-this", 404,
            "RECORDER_NOT_FOUND");
    net_close(&n);
}

/* "sha256:<hex>" of the DER certificate in pem, via OpenSSL. */
static void
fingerprint(const char *pem, size_t len, char out[80])
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    uint8_t md[HLF_SHA256_LEN];
    int n;

    ASSERT_NOT_NULL(x);
    n = i2d_X509(x, &der);
    ASSERT(n > 0);
    hlf_sha256(der, (size_t)n, md);
    memcpy(out, "sha256:", 7);
    hlf_hex_encode(md, sizeof(md), out + 7);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(b);
}

TEST_IMPL(recorder_restricted_to_a_certificate)
{
    char t[13], rec[64], fp[80], reg[256];
    const char *pem;
    size_t len;
    net_t n;
    json_t *v;

    net_open(&n);
    tag(t);
    snprintf(rec, sizeof(rec), "brokerage-bot-%s", t);
    pem = hlf_identity_cert_pem(n.admin[0].id, &len);
    ASSERT_NOT_NULL(pem);
    fingerprint(pem, len, fp);
    snprintf(reg, sizeof(reg),
             "{\"Recorder\":\"%s\",\"AllowedClients\":[\"%s\"]}", rec, fp);
    v = must(&n.admin[0], 1, "RegisterRecorder", reg);
    ASSERT_EQ(json_array_size(json_object_get(v, "AllowedClients")), 1);
    ASSERT_STR_EQ(json_string_value(json_array_get(
                      json_object_get(v, "AllowedClients"), 0)),
                  fp);
    json_decref(v);
    /* Same org, other certificate: refused; the allowed one records. */
    RECORD_REFUSED(&n.client[0], rec, t);
    record_ok(&n.admin[0], rec, t);
    RECORD_REFUSED(&n.admin[1], rec, t);
    net_close(&n);
}

TEST_IMPL(did_round_trip)
{
    char t[13], did[96], doc[1024], code[64];
    net_t n;
    json_t *v, *meta;
    int status;
    size_t i;

    net_open(&n);
    tag(t);
    snprintf(did, sizeof(did), "did:reso:upid:US-42049-ID%s-1-R-N", t);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"%s\",\"service\":[{\"id\":\"#history\",\"type\":"
             "\"PropertyHistoryService\",\"serviceEndpoint\":"
             "\"https://mls.com/get\"},{\"id\":\"#parcel\",\"type\":"
             "\"ParcelDataService\",\"serviceEndpoint\":"
             "\"https://county.gov/parcel\"}]}",
             did);
    REFUSED(&n.client[0], 1, "CreateDID", doc, 403, "NOT_ADMIN");
    v = must(&n.admin[0], 1, "CreateDID", doc);
    json_decref(v);
    for (i = 0; i < 3; i++) {
        json_t *d, *svc;

        v = eventually(&n.client[i], "ResolveDID", did);
        d = json_object_get(v, "didDocument");
        ASSERT_STR_EQ(netfx_str(d, "@context"), "https://www.w3.org/ns/did/v1");
        ASSERT_STR_EQ(netfx_str(d, "id"), did);
        ASSERT_STR_EQ(netfx_str(d, "controller"),
                      "did:reso:oid:BrokerageMSP");
        svc = json_object_get(d, "service");
        ASSERT_EQ(json_array_size(svc), 2);
        ASSERT_STR_EQ(netfx_str(json_array_get(svc, 1), "type"),
                      "ParcelDataService");
        ASSERT(strstr(netfx_str(json_array_get(svc, 0), "id"), "#history") !=
               NULL);
        meta = json_object_get(v, "didDocumentMetadata");
        ASSERT_STR_EQ(netfx_str(meta, "versionId"), "1");
        ASSERT(json_is_false(json_object_get(meta, "deactivated")));
        ASSERT_EQ(strlen(netfx_str(meta, "created")), 20);
        json_decref(v);
    }
    REFUSED(&n.admin[0], 1, "CreateDID", doc, 409, "DID_EXISTS");
    /* Only the controlling org's admins change it. */
    REFUSED(&n.admin[1], 1, "UpdateDID", doc, 403, "NOT_OWNER");
    REFUSED(&n.admin[2], 1, "DeactivateDID", did, 403, "NOT_OWNER");
    REFUSED(&n.client[0], 1, "UpdateDID", doc, 403, "NOT_ADMIN");
    snprintf(doc, sizeof(doc),
             "{\"id\":\"%s\",\"service\":[{\"id\":\"#unlock\",\"type\":"
             "\"UnlockService\",\"serviceEndpoint\":\"https://mls.com/u\"}]}",
             did);
    v = must(&n.admin[0], 1, "UpdateDID", doc);
    meta = json_object_get(v, "didDocumentMetadata");
    ASSERT_STR_EQ(netfx_str(meta, "versionId"), "2");
    ASSERT_EQ(json_array_size(json_object_get(
                  json_object_get(v, "didDocument"), "service")),
              1);
    json_decref(v);
    v = must(&n.admin[0], 1, "DeactivateDID", did);
    ASSERT(json_is_true(json_object_get(
        json_object_get(v, "didDocumentMetadata"), "deactivated")));
    ASSERT_NULL(json_object_get(json_object_get(v, "didDocument"), "service"));
    json_decref(v);
    REFUSED(&n.admin[0], 1, "UpdateDID", doc, 410, "DID_DEACTIVATED");
    /* Resolution from another org shows the deactivation once committed. */
    for (i = 0; i < 100; i++) {
        v = call(&n.client[2], 0, "ResolveDID", did, &status, code);
        ASSERT_NOT_NULL(v);
        meta = json_object_get(v, "didDocumentMetadata");
        if (json_is_true(json_object_get(meta, "deactivated"))) {
            ASSERT_STR_EQ(netfx_str(meta, "versionId"), "3");
            json_decref(v);
            break;
        }
        json_decref(v);
        usleep(100 * 1000);
    }
    ASSERT(i < 100);
    REFUSED(&n.client[1], 0, "ResolveDID", "did:reso:upid:never-created", 404,
            "DID_NOT_FOUND");
    net_close(&n);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(recorder_binding_across_orgs),
    TEST_ENTRY(recorder_restricted_to_a_certificate),
    TEST_ENTRY(did_round_trip),
};

TEST_MAIN(tests)
