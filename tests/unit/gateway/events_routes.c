/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger routes in-process (module "events" on the gateway's HTTP
 * core) against the fake Fabric Gateway of the libhlf tests, served over
 * TLS the way a peer is: the POST answers (201, 202 by preference, 202
 * when the commit is not seen, chaincode errors passed through),
 * Idempotency-Key replays and look-ups without a second endorsement,
 * reads with paging and commit statuses, parameter errors, the catalog,
 * failover from a dead peer and 503 within the deadline when none is
 * left. Runs in `ctest -L unit`, also under ASan.
 */
#include "evl.h"
#include "fake_gateway.h"
#include "gwtest.h"
#include "ledger.h"
#include "task.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "unit-test-key"
#define EVENT                                                                \
    "{\"TransactionId\":\"6991d580-c6c3-8ceb-90a5-a40c89fb0224\","          \
    "\"EventSubject\":\"US-1\",\"State\":\"Recorded\"}"
#define INPUT "{\"EventSubject\":\"US-1\",\"State\":\"Recorded\"}"

typedef struct fix_s {
    char *dir;
    tu_msp_t msp;
    EVP_PKEY *ca_key, *srv_key;
    X509 *ca, *srv;
    char *srv_pem, *key_pem;
    fake_gateway_t fg;
    fake_server_t *fs;
    gw_config_t *cfg;
    uint8_t *creator;
    int port;
} fix_t;

/* Start the fake peer (TLS), the gateway core and the events module.
 * first_peer_dead: the identity's own peer is a closed port and the fake
 * is another org's peer; no_fake: every peer is a closed port. */
static void
fix_up(fix_t *f, int first_peer_dead, int no_fake)
{
    fake_tls_t tls;
    char text[8192], hex[65], ca_path[1024], peers[4096];
    const uint8_t *c;
    hlf_error_t e;

    memset(f, 0, sizeof(*f));
    f->dir = gwt_tmpdir();
    tu_msp_make(&f->msp, "User1@brokerage");
    f->ca_key = tu_keygen("P-256");
    f->ca = tu_cert(f->ca_key, "tlsca", NULL, NULL, 1, NULL);
    f->srv_key = tu_keygen("P-256");
    f->srv = tu_cert(f->srv_key, "peer0", f->ca, f->ca_key, 0,
                     "DNS:localhost,IP:127.0.0.1");
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", f->dir);
    tu_write_cert(ca_path, f->ca);
    f->srv_pem = tu_cert_pem(f->srv);
    f->key_pem = tu_key_pem(f->srv_key);
    fake_gateway_init(&f->fg);
    f->fg.signer = f->msp.key;
    f->fg.result = EVENT;
    f->fg.block = 42;
    memset(&tls, 0, sizeof(tls));
    tls.cert_pem = f->srv_pem;
    tls.key_pem = f->key_pem;
    f->fs = fake_server_start(fake_gateway_handler, &f->fg, &tls);
    if (no_fake)
        snprintf(peers, sizeof(peers),
                 "peer BrokerageMSP 127.0.0.1:%d %s\n"
                 "peer MLSMSP 127.0.0.1:%d %s\n",
                 tu_closed_port(), ca_path, tu_closed_port(), ca_path);
    else if (first_peer_dead)
        snprintf(peers, sizeof(peers),
                 "peer MLSMSP %s %s\npeer BrokerageMSP 127.0.0.1:%d %s\n",
                 fake_server_target(f->fs), ca_path, tu_closed_port(),
                 ca_path);
    else
        snprintf(peers, sizeof(peers), "peer BrokerageMSP %s %s\n",
                 fake_server_target(f->fs), ca_path);
    gwt_sha256_hex(KEY, hex);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "state_dir %s/state\n"
             "channel reso-events\n"
             "chaincode reso\n"
             "identity Brokerage BrokerageMSP %s\n"
             "%s"
             "apikey app Brokerage %s\n"
             "request_timeout_ms 4000\n",
             f->dir, f->msp.msp, peers, hex);
    snprintf(ca_path, sizeof(ca_path), "%s/state", f->dir);
    tu_mkdir(ca_path);
    f->cfg = gwt_config(text);
    ASSERT_EQ(gw_config_open(f->cfg, &e), HLF_OK);
    /* The fake checks every creator against the identity's. */
    c = hlf_identity_creator(f->cfg->identities[0].id, &f->fg.creator_len);
    f->creator = malloc(f->fg.creator_len);
    ASSERT_NOT_NULL(f->creator);
    memcpy(f->creator, c, f->fg.creator_len);
    f->fg.creator = f->creator;
    ASSERT_EQ(gw_module_events.init(f->cfg, &e), HLF_OK);
    ASSERT_EQ(gw_module_events.start(f->cfg, &e), HLF_OK);
    f->port = gwt_start(f->cfg);
}

static void
fix_down(fix_t *f)
{
    gw_module_events.stop();
    gwt_stop(f->cfg);
    fake_server_stop(f->fs);
    if (f->fg.bad_requests != 0)
        TEST__FAIL("fake gateway saw %d bad request(s), last: %s",
                   f->fg.bad_requests, f->fg.last_bad);
    fake_gateway_destroy(&f->fg);
    free(f->creator);
    free(f->srv_pem);
    free(f->key_pem);
    X509_free(f->ca);
    X509_free(f->srv);
    EVP_PKEY_free(f->ca_key);
    EVP_PKEY_free(f->srv_key);
    tu_msp_free(&f->msp);
    gwt_rmrf(f->dir);
    free(f->dir);
}

/* Calls to one Gateway method the fake has served so far. */
static int
calls(fix_t *f, const char *method)
{
    int i, n = 0, all = fake_server_calls(f->fs);

    for (i = 0; i < all; i++)
        n += strcmp(fake_server_method(f->fs, i), method) == 0;
    return n;
}

static void
call(fix_t *f, const char *method, const char *path, const char *body,
     const char *extra, const char *extra2, gwt_resp_t *r)
{
    const char *h[5];
    gwt_opts_t o;
    size_t n = 0;

    memset(&o, 0, sizeof(o));
    h[n++] = "Authorization: Bearer " KEY;
    if (body != NULL) {
        h[n++] = "Content-Type: application/json";
        o.body = body;
        o.body_len = strlen(body);
    }
    if (extra != NULL)
        h[n++] = extra;
    if (extra2 != NULL)
        h[n++] = extra2;
    h[n] = NULL;
    o.headers = h;
    gwt_http(method, f->port, path, &o, r);
    ASSERT_EQ(r->curl_rc, 0);
}

static json_t *
jbody(const gwt_resp_t *r)
{
    json_t *v = json_loadb(r->body, r->len, 0, NULL);

    if (v == NULL)
        TEST__FAIL("not JSON (%ld): %s", r->status, r->body);
    return v;
}

static void
expect_err(const gwt_resp_t *r, long status, const char *code,
           const char *field)
{
    json_t *b = jbody(r), *e = json_object_get(b, "error");

    if (r->status != status)
        TEST__FAIL("status %ld, want %ld: %s", r->status, status, r->body);
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "code")), code);
    if (field != NULL)
        ASSERT_STR_EQ(json_string_value(json_object_get(e, "field")), field);
    else
        ASSERT_NULL(json_object_get(e, "field"));
    json_decref(b);
}

/* ------------------------------------------------------------------ */

TEST_IMPL(routes_post_commits_and_replays)
{
    static const char *idem = "Idempotency-Key: k-1";
    fix_t f;
    gwt_resp_t r, r2;
    json_t *b, *want;
    char h[128];

    fix_up(&f, 0, 0);
    call(&f, "POST", "/v1/events", INPUT, NULL, NULL, &r);
    ASSERT_EQ(r.status, 201);
    b = jbody(&r);
    want = json_pack("{s:o, s:s, s:i}", "event", json_loads(EVENT, 0, NULL),
                     "txid", f.fg.last_tx_id, "block", 42);
    ASSERT(json_equal(b, want));
    json_decref(want);
    json_decref(b);
    gwt_resp_free(&r);
    /* The body went to RecordEvent byte for byte. */
    ASSERT_STR_EQ(f.fg.last_fn, "RecordEvent");
    ASSERT_EQ(f.fg.last_nargs, 1);
    ASSERT_STR_EQ(f.fg.last_args[0], INPUT);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Endorse"), 1);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Submit"), 1);

    /* Idempotent: the second answer is the first, with no ledger call. */
    call(&f, "POST", "/v1/events", INPUT, idem, NULL, &r);
    ASSERT_EQ(r.status, 201);
    call(&f, "POST", "/v1/events", " " INPUT, idem, NULL, &r2);
    ASSERT_EQ(r2.status, 201);
    ASSERT_STR_EQ(r2.body, r.body);
    ASSERT_STR_EQ(gwt_header(&r2, "Idempotent-Replayed", h, sizeof(h)),
                  "true");
    ASSERT_NULL(gwt_header(&r, "Idempotent-Replayed", h, sizeof(h)));
    gwt_resp_free(&r2);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Endorse"), 2);
    call(&f, "POST", "/v1/events", "{\"other\":1}", idem, NULL, &r2);
    expect_err(&r2, 409, "IDEMPOTENCY_CONFLICT", "Idempotency-Key");
    gwt_resp_free(&r2);
    /* The module restarts from its file with the same answer. */
    gw_module_events.stop();
    {
        hlf_error_t e;

        ASSERT_EQ(gw_module_events.start(f.cfg, &e), HLF_OK);
    }
    call(&f, "POST", "/v1/events", INPUT, idem, NULL, &r2);
    ASSERT_EQ(r2.status, 201);
    ASSERT_STR_EQ(r2.body, r.body);
    gwt_resp_free(&r2);
    gwt_resp_free(&r);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Endorse"), 2);
    /* Metrics saw it. */
    {
        char *m;
        size_t len;

        ASSERT_EQ(gw_metrics_render(&m, &len), HLF_OK);
        ASSERT_NOT_NULL(strstr(m, "ledger_submits_total{outcome="
                                  "\"committed\"} 2"));
        ASSERT_NOT_NULL(strstr(m, "ledger_submits_total{outcome="
                                  "\"replayed\"} 2"));
        ASSERT_NOT_NULL(strstr(m, "ledger_submits_total{outcome="
                                  "\"conflict\"} 1"));
        ASSERT_NOT_NULL(strstr(m, "ledger_commit_duration_seconds_count 2"));
        hlf_free(m);
    }
    fix_down(&f);
}

TEST_IMPL(routes_post_chaincode_error_passes_through)
{
    static const char *idem = "Idempotency-Key: k-bad";
    fix_t f;
    gwt_resp_t r, r2;

    fix_up(&f, 0, 0);
    f.fg.endorse_status = 2;
    f.fg.message = "chaincode response 400, {\"error\":{\"code\":"
                   "\"INVALID_LOOKUP\",\"field\":\"System\",\"message\":"
                   "\"'MLS' is not in the System list\"}}";
    call(&f, "POST", "/v1/events", INPUT, idem, NULL, &r);
    expect_err(&r, 400, "INVALID_LOOKUP", "System");
    ASSERT_NOT_NULL(strstr(r.body, "'MLS' is not in the System list"));
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Submit"), 0);
    /* A rejection is a definitive answer: replayed without a call. */
    call(&f, "POST", "/v1/events", INPUT, idem, NULL, &r2);
    ASSERT_EQ(r2.status, 400);
    ASSERT_STR_EQ(r2.body, r.body);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Endorse"), 1);
    gwt_resp_free(&r);
    gwt_resp_free(&r2);
    fix_down(&f);
}

TEST_IMPL(routes_post_async_and_pending)
{
    static const char *idem = "Idempotency-Key: k-pend";
    fix_t f;
    gwt_resp_t r;
    json_t *b;
    char h[160], loc[160], txid[65];

    fix_up(&f, 0, 0);
    call(&f, "POST", "/v1/events", INPUT, "Prefer: respond-async", NULL,
         &r);
    ASSERT_EQ(r.status, 202);
    b = jbody(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "txid")),
                  f.fg.last_tx_id);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "status")),
                  "PENDING");
    snprintf(loc, sizeof(loc), "/v1/transactions/%s", f.fg.last_tx_id);
    ASSERT_STR_EQ(gwt_header(&r, "Location", h, sizeof(h)), loc);
    ASSERT_STR_EQ(gwt_header(&r, "Preference-Applied", h, sizeof(h)),
                  "respond-async");
    json_decref(b);
    gwt_resp_free(&r);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/CommitStatus"), 0);

    /* The commit is not seen in time: 202 pending, no Preference-Applied. */
    f.fg.commit_status = 4; /* DeadlineExceeded */
    call(&f, "POST", "/v1/events", INPUT, idem, NULL, &r);
    ASSERT_EQ(r.status, 202);
    memcpy(txid, f.fg.last_tx_id, 65);
    snprintf(loc, sizeof(loc), "/v1/transactions/%s", txid);
    ASSERT_STR_EQ(gwt_header(&r, "Location", h, sizeof(h)), loc);
    ASSERT_NULL(gwt_header(&r, "Preference-Applied", h, sizeof(h)));
    gwt_resp_free(&r);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Endorse"), 2);
    /* The retry looks the transaction up instead of endorsing again... */
    call(&f, "POST", "/v1/events", INPUT, idem, NULL, &r);
    ASSERT_EQ(r.status, 202);
    ASSERT_STR_EQ(gwt_header(&r, "Location", h, sizeof(h)), loc);
    gwt_resp_free(&r);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Endorse"), 2);
    /* ...and once committed answers 201 with the event read back. */
    f.fg.commit_status = 0;
    f.fg.block = 77;
    call(&f, "POST", "/v1/events", INPUT, idem, NULL, &r);
    ASSERT_EQ(r.status, 201);
    b = jbody(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "txid")), txid);
    ASSERT_EQ(json_integer_value(json_object_get(b, "block")), 77);
    ASSERT_STR_EQ(f.fg.last_fn, "GetEvent");
    {
        char uuid[EVL_UUID_LEN + 1];

        /* The event is read by the TransactionId derived from the txid. */
        ASSERT_EQ(evl_uuid_from_txid(txid, 64, 0, uuid), HLF_OK);
        ASSERT_STR_EQ(f.fg.last_args[0], uuid);
    }
    json_decref(b);
    gwt_resp_free(&r);
    ASSERT_EQ(calls(&f, "/gateway.Gateway/Endorse"), 2);
    fix_down(&f);
}

TEST_IMPL(routes_reads)
{
    fix_t f;
    gwt_resp_t r;
    json_t *b;
    char path[256], cursor[GW_CURSOR_MAX];
    const char *next;

    fix_up(&f, 0, 0);
    call(&f, "GET", "/v1/events/6991d580-c6c3-8ceb-90a5-a40c89fb0224", NULL,
         NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.body, EVENT);
    ASSERT_STR_EQ(f.fg.last_fn, "GetEvent");
    gwt_resp_free(&r);
    /* History of five, pages of two. */
    f.fg.result = "[{\"TransactionId\":\"a\"},{\"TransactionId\":\"b\"},"
                  "{\"TransactionId\":\"c\"},{\"TransactionId\":\"d\"},"
                  "{\"TransactionId\":\"e\"}]";
    call(&f, "GET", "/v1/subjects/US-1/events?limit=2", NULL, NULL, NULL,
         &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(f.fg.last_fn, "GetSubjectHistory");
    ASSERT_STR_EQ(f.fg.last_args[0], "US-1");
    b = jbody(&r);
    ASSERT_EQ(gw_cursor_encode(1, "b", cursor, sizeof(cursor)), HLF_OK);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "next_cursor")),
                  cursor);
    ASSERT(json_is_true(json_object_get(b, "has_more")));
    ASSERT_EQ(json_array_size(json_object_get(b, "events")), 2);
    json_decref(b);
    gwt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/subjects/US-1/events?limit=2&cursor=%s",
             cursor);
    call(&f, "GET", path, NULL, NULL, NULL, &r);
    b = jbody(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(json_object_get(b, "events"), 0),
                      "TransactionId")),
                  "c");
    json_decref(b);
    gwt_resp_free(&r);
    ASSERT_EQ(gw_cursor_encode(3, "d", cursor, sizeof(cursor)), HLF_OK);
    snprintf(path, sizeof(path), "/v1/subjects/US-1/events?cursor=%s",
             cursor);
    call(&f, "GET", path, NULL, NULL, NULL, &r);
    b = jbody(&r);
    ASSERT_EQ(json_array_size(json_object_get(b, "events")), 1);
    ASSERT(json_is_false(json_object_get(b, "has_more")));
    ASSERT_EQ(gw_cursor_encode(4, "e", cursor, sizeof(cursor)), HLF_OK);
    next = json_string_value(json_object_get(b, "next_cursor"));
    ASSERT_STR_EQ(next, cursor);
    json_decref(b);
    gwt_resp_free(&r);
    /* At the end: an empty page keeps the cursor. */
    snprintf(path, sizeof(path), "/v1/subjects/US-1/events?cursor=%s",
             cursor);
    call(&f, "GET", path, NULL, NULL, NULL, &r);
    b = jbody(&r);
    ASSERT_EQ(json_array_size(json_object_get(b, "events")), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "next_cursor")),
                  cursor);
    json_decref(b);
    gwt_resp_free(&r);
    /* A not-found from the chaincode passes through as 404. */
    f.fg.evaluate_status = 2;
    f.fg.message = "chaincode response 404, {\"error\":{\"code\":"
                   "\"EVENT_NOT_FOUND\",\"message\":\"no event\"}}";
    call(&f, "GET", "/v1/events/6991d580-c6c3-8ceb-90a5-a40c89fb0225", NULL,
         NULL, NULL, &r);
    expect_err(&r, 404, "EVENT_NOT_FOUND", NULL);
    gwt_resp_free(&r);
    f.fg.evaluate_status = 0;
    /* Transaction statuses. */
    snprintf(path, sizeof(path), "/v1/transactions/%064d", 7);
    call(&f, "GET", path, NULL, NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    b = jbody(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "status")), "VALID");
    ASSERT_EQ(json_integer_value(json_object_get(b, "block")), 42);
    ASSERT_STR_EQ(json_string_value(json_object_get(b,
                                                    "validation_code_name")),
                  "VALID");
    json_decref(b);
    gwt_resp_free(&r);
    f.fg.validation_code = 11;
    call(&f, "GET", path, NULL, NULL, NULL, &r);
    b = jbody(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "status")),
                  "INVALID");
    ASSERT_EQ(json_integer_value(json_object_get(b, "validation_code")), 11);
    ASSERT_STR_EQ(json_string_value(json_object_get(b,
                                                    "validation_code_name")),
                  "MVCC_READ_CONFLICT");
    json_decref(b);
    gwt_resp_free(&r);
    f.fg.commit_status = 4;
    call(&f, "GET", path, NULL, NULL, NULL, &r);
    b = jbody(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "status")),
                  "PENDING");
    ASSERT_EQ(json_object_size(b), 2);
    json_decref(b);
    gwt_resp_free(&r);
    fix_down(&f);
}

TEST_IMPL(routes_parameter_errors_and_catalog)
{
    fix_t f;
    gwt_resp_t r;

    fix_up(&f, 0, 0);
    call(&f, "GET", "/v1/subjects/US-1/events?limit=x", NULL, NULL, NULL,
         &r);
    expect_err(&r, 400, "BAD_REQUEST", "limit");
    gwt_resp_free(&r);
    call(&f, "GET", "/v1/subjects/US-1/events?limit=", NULL, NULL, NULL,
         &r);
    expect_err(&r, 400, "BAD_REQUEST", "limit");
    gwt_resp_free(&r);
    call(&f, "GET", "/v1/subjects/US-1/events?cursor=", NULL, NULL, NULL,
         &r);
    expect_err(&r, 400, "BAD_REQUEST", "cursor");
    gwt_resp_free(&r);
    call(&f, "GET", "/v1/transactions/12345", NULL, NULL, NULL, &r);
    expect_err(&r, 400, "BAD_REQUEST", "txid");
    gwt_resp_free(&r);
    call(&f, "POST", "/v1/events", INPUT, "Idempotency-Key: a b", NULL, &r);
    expect_err(&r, 400, "BAD_REQUEST", "Idempotency-Key");
    gwt_resp_free(&r);
    /* None of these reached the ledger. */
    ASSERT_EQ(fake_server_calls(f.fs), 0);
    /* The catalog is the catalog module's now (routes_catalog.c). */
    call(&f, "GET", "/v1/catalog", NULL, NULL, NULL, &r);
    ASSERT_EQ(r.status, 404);
    gwt_resp_free(&r);
    fix_down(&f);
}

TEST_IMPL(routes_failover_then_unavailable)
{
    fix_t f;
    gwt_resp_t r;
    char h[16];

    /* The identity's own peer (BrokerageMSP) is dead: the other org's
     * peer records it. */
    fix_up(&f, 1, 0);
    call(&f, "POST", "/v1/events", INPUT, NULL, NULL, &r);
    ASSERT_EQ(r.status, 201);
    gwt_resp_free(&r);
    call(&f, "GET", "/v1/events/6991d580-c6c3-8ceb-90a5-a40c89fb0224", NULL,
         NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    gwt_resp_free(&r);
    fix_down(&f);

    /* No peer at all: 503 + Retry-After, long before the 4 s timeout. */
    fix_up(&f, 0, 1);
    call(&f, "POST", "/v1/events", INPUT, "Idempotency-Key: k-u", NULL, &r);
    expect_err(&r, 503, "LEDGER_UNAVAILABLE", NULL);
    ASSERT_STR_EQ(gwt_header(&r, "Retry-After", h, sizeof(h)), "1");
    ASSERT(r.secs < 3.5);
    gwt_resp_free(&r);
    call(&f, "GET", "/v1/subjects/US-1/events", NULL, NULL, NULL, &r);
    expect_err(&r, 503, "LEDGER_UNAVAILABLE", NULL);
    ASSERT(r.secs < 3.5);
    gwt_resp_free(&r);
    /* The failed submit released its key: the retry is a new attempt. */
    call(&f, "POST", "/v1/events", INPUT, "Idempotency-Key: k-u", NULL, &r);
    expect_err(&r, 503, "LEDGER_UNAVAILABLE", NULL);
    gwt_resp_free(&r);
    fix_down(&f);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(routes_post_commits_and_replays),
    TEST_ENTRY(routes_post_chaincode_error_passes_through),
    TEST_ENTRY(routes_post_async_and_pending),
    TEST_ENTRY(routes_reads),
    TEST_ENTRY(routes_parameter_errors_and_catalog),
    TEST_ENTRY(routes_failover_then_unavailable),
};

TEST_MAIN(tests)
