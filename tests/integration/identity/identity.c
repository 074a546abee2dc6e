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
 *   other orgs and to clients, deactivated, and stays final;
 * - the same over the network gateway's REST routes with the demo API
 *   keys ("<org>" and "<org>-admin"): GET /v1/dids/{did} is a bare DID
 *   document served as application/did+json.
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
#include "gwtest.h"
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

/* ------------------------------------------------------------------ */
/* REST through the network's gateway                                 */
/* ------------------------------------------------------------------ */

/* One request with the demo API key key_name; fills r. */
static void
rest(json_t *env, const char *key_name, const char *method, const char *path,
     const char *body, gwt_resp_t *r)
{
    json_t *gw = json_object_get(env, "gateway");
    const char *url = netfx_str(gw, "url");
    char auth[256];
    const char *hdrs[3] = {auth, "Content-Type: application/json", NULL};
    gwt_opts_t o;

    memset(&o, 0, sizeof(o));
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             netfx_str(json_object_get(gw, "api_keys"), key_name));
    o.headers = hdrs;
    o.body = body;
    o.body_len = body != NULL ? strlen(body) : 0;
    o.timeout_ms = 60000;
    ASSERT_NOT_NULL(strrchr(url, ':'));
    gwt_http(method, (int)strtol(strrchr(url, ':') + 1, NULL, 10), path, &o,
             r);
    if (r->curl_rc != 0)
        TEST__FAIL("%s %s: curl error %d", method, path, r->curl_rc);
}

/*
 * The JSON answer (new) of a request that must answer status; with
 * retry, a 404 is retried for up to 10 s (another org's peer may not
 * have committed the block yet).
 */
static json_t *
rest_json(json_t *env, const char *key, const char *method, const char *path,
          const char *body, long status, int retry)
{
    gwt_resp_t r;
    json_t *b;
    int i;

    for (i = 0;; i++) {
        rest(env, key, method, path, body, &r);
        if (!(retry && r.status == 404 && i < 100))
            break;
        gwt_resp_free(&r);
        usleep(100 * 1000);
    }
    if (r.status != status)
        TEST__FAIL("%s %s as %s: %ld %s (want %ld)", method, path, key,
                   r.status, r.body, status);
    b = json_loads(r.body, 0, NULL);
    if (b == NULL)
        TEST__FAIL("%s %s: not JSON: %s", method, path, r.body);
    gwt_resp_free(&r);
    return b;
}

/* The error code of a JSON error answer (borrowed from b). */
static const char *
err_code(json_t *b)
{
    return netfx_str(json_object_get(b, "error"), "code");
}

TEST_IMPL(identity_over_rest)
{
    char t[13], rec[96], path[192], doc[512], did[96], ct[128];
    json_t *env = netfx_env(), *b, *svc;
    gwt_resp_t r;

    tag(t);
    snprintf(rec, sizeof(rec), "urn:reso:recorder:brokerage:rest-%s", t);
    snprintf(doc, sizeof(doc), "{\"Recorder\":\"%s\"}", rec);
    b = rest_json(env, "Brokerage", "POST", "/v1/recorders", doc, 403, 0);
    ASSERT_STR_EQ(err_code(b), "NOT_ADMIN");
    json_decref(b);
    b = rest_json(env, "Brokerage-admin", "POST", "/v1/recorders", doc, 201,
                  0);
    ASSERT_STR_EQ(netfx_str(b, "Org"), "BrokerageMSP");
    json_decref(b);
    /* Any key reads it, by an RFC 8141-equivalent spelling too. */
    snprintf(path, sizeof(path), "/v1/recorders/URN:RESO:recorder:"
             "brokerage:rest-%s", t);
    b = rest_json(env, "MLS", "GET", path, NULL, 200, 1);
    ASSERT_STR_EQ(netfx_str(b, "Recorder"), rec);
    json_decref(b);
    b = rest_json(env, "MLS-admin", "DELETE", path, NULL, 403, 0);
    ASSERT_STR_EQ(err_code(b), "NOT_OWNER");
    json_decref(b);
    b = rest_json(env, "Brokerage-admin", "DELETE", path, NULL, 200, 0);
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Revoked");
    json_decref(b);

    snprintf(did, sizeof(did), "did:reso:upid:US-42049-RS%s-1-R-N", t);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"%s\",\"service\":[{\"id\":\"#history\",\"type\":"
             "\"PropertyHistoryService\",\"serviceEndpoint\":"
             "\"https://mls.com/get\"}]}",
             did);
    b = rest_json(env, "Association-admin", "POST", "/v1/dids", doc, 201, 0);
    ASSERT_STR_EQ(netfx_str(json_object_get(b, "didDocumentMetadata"),
                            "versionId"),
                  "1");
    json_decref(b);
    /* GET answers the bare DID document as application/did+json. */
    snprintf(path, sizeof(path), "/v1/dids/%s", did);
    json_decref(rest_json(env, "Brokerage", "GET", path, NULL, 200, 1));
    rest(env, "Brokerage", "GET", path, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_NOT_NULL(gwt_header(&r, "Content-Type", ct, sizeof(ct)));
    ASSERT_STR_EQ(ct, "application/did+json");
    b = json_loads(r.body, 0, NULL);
    gwt_resp_free(&r);
    ASSERT_NOT_NULL(b);
    ASSERT_STR_EQ(netfx_str(b, "@context"), "https://www.w3.org/ns/did/v1");
    ASSERT_STR_EQ(netfx_str(b, "id"), did);
    ASSERT_STR_EQ(netfx_str(b, "controller"), "did:reso:oid:AssociationMSP");
    svc = json_array_get(json_object_get(b, "service"), 0);
    ASSERT_STR_EQ(netfx_str(svc, "type"), "PropertyHistoryService");
    ASSERT_NULL(json_object_get(b, "didDocumentMetadata"));
    ASSERT_EQ(json_object_size(b), 4);
    json_decref(b);
    /* PUT takes the DID from the path; only the controller's admins. */
    b = rest_json(env, "Brokerage-admin", "PUT", path, "{\"service\":[]}",
                  403, 0);
    ASSERT_STR_EQ(err_code(b), "NOT_OWNER");
    json_decref(b);
    b = rest_json(env, "Association-admin", "PUT", path,
                  "{\"id\":\"did:reso:other\"}", 400, 0);
    ASSERT_STR_EQ(err_code(b), "BAD_REQUEST");
    json_decref(b);
    b = rest_json(env, "Association-admin", "PUT", path, "{\"service\":[]}",
                  200, 0);
    ASSERT_STR_EQ(netfx_str(json_object_get(b, "didDocumentMetadata"),
                            "versionId"),
                  "2");
    json_decref(b);
    b = rest_json(env, "Association-admin", "DELETE", path, NULL, 200, 0);
    ASSERT(json_is_true(json_object_get(
        json_object_get(b, "didDocumentMetadata"), "deactivated")));
    json_decref(b);
    b = rest_json(env, "Association-admin", "PUT", path, "{}", 410, 0);
    ASSERT_STR_EQ(err_code(b), "DID_DEACTIVATED");
    json_decref(b);
    snprintf(path, sizeof(path), "/v1/dids/%s/resolution", did);
    b = rest_json(env, "Association", "GET", path, NULL, 200, 0);
    ASSERT(json_is_true(json_object_get(
        json_object_get(b, "didDocumentMetadata"), "deactivated")));
    json_decref(b);
    json_decref(env);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(recorder_binding_across_orgs),
    TEST_ENTRY(recorder_restricted_to_a_certificate),
    TEST_ENTRY(did_round_trip),
    TEST_ENTRY(identity_over_rest),
};

TEST_MAIN(tests)
