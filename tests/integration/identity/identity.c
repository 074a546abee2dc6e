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
 * - Recorder binding is strict by default: an unregistered Recorder is
 *   refused to every org (403 RECORDER_NOT_AUTHORIZED, field Recorder)
 *   and nothing is written; GetCatalog says "strict" on every peer;
 * - the consortium opens it with a SetRecorderBinding catalog change:
 *   a proposal and a minority change nothing, the majority does (every
 *   peer's GetCatalog says "open"); the same unregistered Recorder is
 *   then accepted from two orgs while a registered one stays bound to
 *   its org; clients cannot propose, proposing the mode in force is
 *   INVALID_PROPOSAL; strict again the same way refuses it again. main()
 *   restores strict with `resoctl catalog binding strict` (a separate
 *   process) even when a test failed, so later tests see the default.
 *
 * Every id carries a random part, so reruns on the same ledger do not
 * collide; the unregistered Recorder is never registered by anyone.
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

/* A chaincode error answer: status, code, field and message. */
typedef struct {
    int status;
    char code[64], field[64], message[512];
} reply_t;

/* The string member key of the error object err, or "" (borrowed). */
static const char *
err_str(json_t *err, const char *key)
{
    const char *v = json_string_value(json_object_get(err, key));

    return v != NULL ? v : "";
}

/*
 * Call fn(arg) (submit or evaluate; no argument when arg is NULL) and
 * return the parsed answer (new); on a chaincode error r describes it
 * and NULL is returned.
 */
static json_t *
call(reso_org_t *o, int submit, const char *fn, const char *arg,
     reply_t *r)
{
    hlf_bytes_t a = hlf_bytes_str(arg != NULL ? arg : ""), res = {0};
    size_t nargs = arg != NULL ? 1 : 0;
    hlf_error_t err;
    json_t *v = NULL, *body, *e;
    int rc;

    hlf_error_clear(&err);
    memset(r, 0, sizeof(*r));
    r->status = 200;
    rc = submit
             ? hlf_contract_submit(o->contract, fn, &a, nargs, &res, &err)
             : hlf_contract_evaluate(o->contract, fn, &a, nargs, &res, &err);
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
    r->status = err.chaincode_status;
    body = json_loads(err.chaincode_message, 0, NULL);
    e = json_object_get(body, "error");
    snprintf(r->code, sizeof(r->code), "%s",
             e != NULL ? err_str(e, "code") : "?");
    snprintf(r->field, sizeof(r->field), "%s", err_str(e, "field"));
    snprintf(r->message, sizeof(r->message), "%s", err_str(e, "message"));
    json_decref(body);
    return NULL;
}

static json_t *
must(reso_org_t *o, int submit, const char *fn, const char *arg)
{
    reply_t r;
    json_t *v = call(o, submit, fn, arg, &r);

    if (v == NULL)
        TEST__FAIL("%s(%.200s): %d %s %s", fn, arg != NULL ? arg : "",
                   r.status, r.code, r.message);
    return v;
}

/*
 * fn(arg) must be refused with want_status and want_code, and with
 * want_field unless that is NULL; r (if not NULL) gets the refusal.
 */
static void
refused(reso_org_t *o, int submit, const char *fn, const char *arg,
        int want_status, const char *want_code, const char *want_field,
        reply_t *r, int line)
{
    reply_t mine;
    reply_t *got = r != NULL ? r : &mine;
    json_t *v = call(o, submit, fn, arg, got);

    if (v != NULL) {
        json_decref(v);
        TEST__FAIL("line %d: %s(%.200s) succeeded; want %s", line, fn, arg,
                   want_code);
    }
    if (got->status != want_status || strcmp(got->code, want_code) != 0)
        TEST__FAIL("line %d: %s: got %d %s, want %d %s", line, fn,
                   got->status, got->code, want_status, want_code);
    if (want_field != NULL && strcmp(got->field, want_field) != 0)
        TEST__FAIL("line %d: %s: field \"%s\", want \"%s\"", line, fn,
                   got->field, want_field);
}

#define REFUSED(o, submit, fn, arg, status, code)                            \
    refused((o), (submit), (fn), (arg), (status), (code), NULL, NULL,       \
            __LINE__)

/*
 * Evaluate fn(arg) on o until it succeeds: a commit seen by one peer
 * reaches the others a moment later. Up to 10 s.
 */
static json_t *
eventually(reso_org_t *o, const char *fn, const char *arg)
{
    reply_t r;
    int i;
    json_t *v;

    for (i = 0; i < 100; i++) {
        v = call(o, 0, fn, arg, &r);
        if (v != NULL)
            return v;
        usleep(100 * 1000);
    }
    TEST__FAIL("%s(%s) on another peer: still %d %s after 10 s", fn, arg,
               r.status, r.code);
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

    refused(o, 1, "RecordEvent", ev, 403, "RECORDER_NOT_AUTHORIZED",
            "Recorder", NULL, line);
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
    char t[13], did[96], doc[1024];
    net_t n;
    json_t *v, *meta;
    reply_t r;
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
        v = call(&n.client[2], 0, "ResolveDID", did, &r);
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

/* ------------------------------------------------------------------ */
/* Strict Recorder binding and its governance (SetRecorderBinding)    */
/* ------------------------------------------------------------------ */

/*
 * An id no run registers, set once in main() so that every per-test
 * child uses the same one (and the same EventSubject, event_as).
 */
static char g_unreg_tag[13];
static char g_unreg[96];

/* GetCatalog's RecorderBinding on o's peer equals mode, or -1 if not. */
static int
binding_is(reso_org_t *o, const char *mode)
{
    json_t *cat = must(o, 0, "GetCatalog", NULL);
    int same = strcmp(netfx_str(cat, "RecorderBinding"), mode) == 0;

    json_decref(cat);
    return same ? 0 : -1;
}

/*
 * Wait until every org's peer reports RecorderBinding mode: the block of
 * the deciding approval reaches the other peers a moment later. Up to
 * 30 s per peer.
 */
static void
await_binding(net_t *n, const char *mode)
{
    size_t i;
    int k;

    for (i = 0; i < 3; i++) {
        for (k = 0; k < 300 && binding_is(&n->client[i], mode) != 0; k++)
            usleep(100 * 1000);
        if (k == 300)
            TEST__FAIL("%s's peer: RecorderBinding is not %s after 30 s",
                       ORGS[i], mode);
    }
}

/* The events of g_unreg's subject on o's peer (new JSON array). */
static json_t *
unreg_history(reso_org_t *o)
{
    char subject[64];
    json_t *h;

    snprintf(subject, sizeof(subject), "US-42049-ID%s-1-R-N", g_unreg_tag);
    h = must(o, 0, "GetSubjectHistory", subject);
    ASSERT(json_is_array(h));
    return h;
}

/*
 * RecordEvent with g_unreg as o must be refused as unregistered under
 * strict binding: 403 RECORDER_NOT_AUTHORIZED, field Recorder, and the
 * message names the id and the setting.
 */
static void
unreg_refused(reso_org_t *o, int line)
{
    char *ev = event_as(g_unreg, g_unreg_tag), want[160];
    reply_t r;

    refused(o, 1, "RecordEvent", ev, 403, "RECORDER_NOT_AUTHORIZED",
            "Recorder", &r, line);
    free(ev);
    snprintf(want, sizeof(want),
             "Recorder '%s' is not registered and Recorder binding is "
             "strict",
             g_unreg);
    if (strncmp(r.message, want, strlen(want)) != 0)
        TEST__FAIL("line %d: message \"%s\", want it to start \"%s\"", line,
                   r.message, want);
}

#define UNREG_REFUSED(o) unreg_refused((o), __LINE__)

/*
 * Propose {"Kind":"SetRecorderBinding","Mode":mode} as n's admin of
 * ORGS[by]; the proposal Id into id. It starts Pending with no approval.
 */
static void
propose_binding(net_t *n, size_t by, const char *mode, char id[64])
{
    char change[96];
    json_t *v;

    snprintf(change, sizeof(change),
             "{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"%s\"}", mode);
    v = must(&n->admin[by], 1, "ProposeCatalogChange", change);
    snprintf(id, 64, "%s", netfx_str(v, "Id"));
    ASSERT_STR_EQ(netfx_str(v, "Kind"), "SetRecorderBinding");
    ASSERT_STR_EQ(netfx_str(v, "Mode"), mode);
    ASSERT_STR_EQ(netfx_str(v, "Status"), "Pending");
    ASSERT_EQ(json_integer_value(json_object_get(v, "Required")), 2);
    ASSERT_EQ(json_array_size(json_object_get(v, "Approvals")), 0);
    json_decref(v);
}

/* Approve proposal id as n's admin of ORGS[by]; want the Status. */
static void
approve(net_t *n, size_t by, const char *id, const char *want_status,
        size_t want_approvals)
{
    json_t *v = must(&n->admin[by], 1, "ApproveCatalogChange", id);

    ASSERT_STR_EQ(netfx_str(v, "Status"), want_status);
    ASSERT_EQ(json_array_size(json_object_get(v, "Approvals")),
              want_approvals);
    json_decref(v);
}

/* The proposal of mode again, as n's admin of ORGS[by]: already so. */
static void
propose_refused(net_t *n, size_t by, const char *mode, int line)
{
    char change[96];

    snprintf(change, sizeof(change),
             "{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"%s\"}", mode);
    refused(&n->admin[by], 1, "ProposeCatalogChange", change, 400,
            "INVALID_PROPOSAL", "Mode", NULL, line);
}

TEST_IMPL(unregistered_recorder_refused_by_default)
{
    net_t n;
    json_t *h;
    size_t i;

    net_open(&n);
    /* The network starts strict, on every org's peer. */
    for (i = 0; i < 3; i++)
        ASSERT_EQ(binding_is(&n.client[i], "strict"), 0);
    REFUSED(&n.client[2], 0, "GetRecorder", g_unreg, 404,
            "RECORDER_NOT_FOUND");
    /* Refused to every org, client and admin alike. */
    for (i = 0; i < 3; i++) {
        UNREG_REFUSED(&n.client[i]);
        UNREG_REFUSED(&n.admin[i]);
    }
    /* Strict already: proposing it is refused. */
    propose_refused(&n, 1, "strict", __LINE__);
    /* Nothing was written, on any peer. */
    for (i = 0; i < 3; i++) {
        h = unreg_history(&n.client[i]);
        ASSERT_EQ(json_array_size(h), 0);
        json_decref(h);
    }
    net_close(&n);
}

/* Record g_unreg's event as o; the TransactionId into tid. */
static void
record_unreg(reso_org_t *o, char tid[64])
{
    char *ev = event_as(g_unreg, g_unreg_tag);
    json_t *v = must(o, 1, "RecordEvent", ev);

    ASSERT_STR_EQ(netfx_str(v, "Recorder"), g_unreg);
    snprintf(tid, 64, "%s", netfx_str(v, "TransactionId"));
    json_decref(v);
    free(ev);
}

TEST_IMPL(recorder_binding_opened_and_restored_by_governance)
{
    char id[64], change[96], tid[2][64];
    const char *owned;
    net_t n;
    json_t *h = NULL;
    size_t i;
    int k;

    net_open(&n);
    ASSERT_EQ(binding_is(&n.client[0], "strict"), 0);
    /* A client cannot propose. */
    snprintf(change, sizeof(change),
             "{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"open\"}");
    REFUSED(&n.client[0], 1, "ProposeCatalogChange", change, 403,
            "NOT_ADMIN");
    /* Proposed: no effect. Approved by the proposer's org, one of
     * three: still no effect. */
    propose_binding(&n, 0, "open", id);
    ASSERT_EQ(binding_is(&n.client[0], "strict"), 0);
    UNREG_REFUSED(&n.client[0]);
    REFUSED(&n.client[1], 1, "ApproveCatalogChange", id, 403, "NOT_ADMIN");
    approve(&n, 0, id, "Pending", 1);
    ASSERT_EQ(binding_is(&n.client[0], "strict"), 0);
    UNREG_REFUSED(&n.client[0]);
    /* The second org's approval is the majority: open everywhere. */
    approve(&n, 1, id, "Effective", 2);
    await_binding(&n, "open");
    /* The same unregistered Recorder from two orgs. */
    record_unreg(&n.client[0], tid[0]);
    record_unreg(&n.client[2], tid[1]);
    /* A registered Recorder stays bound to its org. */
    owned = netfx_recorder(n.env, "Brokerage");
    {
        char *ev = event_as(owned, g_unreg_tag);

        refused(&n.client[1], 1, "RecordEvent", ev, 403,
                "RECORDER_NOT_AUTHORIZED", "Recorder", NULL, __LINE__);
        refused(&n.admin[2], 1, "RecordEvent", ev, 403,
                "RECORDER_NOT_AUTHORIZED", "Recorder", NULL, __LINE__);
        free(ev);
    }
    /* Open already: proposing it is refused. */
    propose_refused(&n, 2, "open", __LINE__);

    /* Back to strict the same way, proposed by another org. */
    propose_binding(&n, 1, "strict", id);
    approve(&n, 1, id, "Pending", 1);
    ASSERT_EQ(binding_is(&n.client[1], "open"), 0);
    approve(&n, 2, id, "Effective", 2);
    await_binding(&n, "strict");
    for (i = 0; i < 3; i++)
        UNREG_REFUSED(&n.client[i]);
    /* Exactly the two events of the open window, in commit order, on
     * every peer once it has both blocks. */
    for (i = 0; i < 3; i++) {
        for (k = 0; k < 100; k++) {
            h = unreg_history(&n.client[i]);
            if (json_array_size(h) >= 2)
                break;
            json_decref(h);
            h = NULL;
            usleep(100 * 1000);
        }
        ASSERT_NOT_NULL(h);
        ASSERT_EQ(json_array_size(h), 2);
        ASSERT_STR_EQ(netfx_str(json_array_get(h, 0), "TransactionId"),
                      tid[0]);
        ASSERT_STR_EQ(netfx_str(json_array_get(h, 1), "TransactionId"),
                      tid[1]);
        ASSERT_STR_EQ(netfx_str(json_array_get(h, 1), "Recorder"), g_unreg);
        json_decref(h);
    }
    net_close(&n);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(recorder_binding_across_orgs),
    TEST_ENTRY(recorder_restricted_to_a_certificate),
    TEST_ENTRY(did_round_trip),
    TEST_ENTRY(identity_over_rest),
    TEST_ENTRY(unregistered_recorder_refused_by_default),
    TEST_ENTRY(recorder_binding_opened_and_restored_by_governance),
};

/*
 * Whatever happened, leave the binding strict for the tests after this
 * one: `resoctl catalog binding strict` as a separate process (it does
 * nothing when the binding is strict already). Its output is shown only
 * when it fails.
 */
static int
restore_strict(void)
{
    return netfx_resoctl("catalog binding strict");
}

int
main(int argc, char **argv)
{
    uint8_t r[6];
    int rc;

    /* The governance test submits about twenty transactions. */
    if (setenv("RESO_TEST_TIMEOUT", "480", 0) != 0)
        return 1;
    if (hlf_random_bytes(r, sizeof(r)) != HLF_OK)
        return 1;
    hlf_hex_encode(r, sizeof(r), g_unreg_tag);
    snprintf(g_unreg, sizeof(g_unreg), "urn:reso:recorder:unregistered:%s",
             g_unreg_tag);
    rc = test_run_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
    if (restore_strict() != 0) {
        fprintf(stderr, "could not restore Recorder binding strict\n");
        rc = 1;
    }
    return rc;
}
