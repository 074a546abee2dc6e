/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the gateway's HTTP core (gateway/src/http.c, auth.c,
 * pool.c): every error class with its exact status, code and Content-Type,
 * authentication and rate limiting, asynchronous replies from the worker
 * pool (including a client that leaves and the request timeout), streamed
 * replies (data from another thread, an idle stream that costs no CPU, a
 * client that leaves), the drain, /metrics and /healthz. The daemon runs
 * in-process on 127.0.0.1 port 0 with routes defined only in this file.
 */
#include "gwtest.h"
#include "task.h"

#include "hlf/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY_B "secret-brokerage-key-0123456789"
#define KEY_M "secret-mls-key-abcdefghij"

static const char *const JSON_CT = "application/json";

/* ------------------------------------------------------------------ */
/* Test routes                                                        */
/* ------------------------------------------------------------------ */

static int
h_echo(gw_req_t *req)
{
    const gw_principal_t *p = gw_req_principal(req);
    const char *vals[8];
    size_t n = gw_req_query_all(req, "f", vals, 8), i;
    json_t *o = json_object(), *arr = json_array();

    for (i = 0; i < n && i < 8; i++)
        json_array_append_new(arr, json_string(vals[i]));
    json_object_set_new(o, "id", json_string(gw_req_param(req, "id")));
    json_object_set_new(o, "f", arr);
    json_object_set_new(o, "nq", json_integer((json_int_t)
                                              gw_req_query_count(req)));
    json_object_set_new(o, "key", json_string(p->key_name));
    json_object_set_new(o, "identity", json_string(p->identity->name));
    json_object_set_new(o, "route", json_string(gw_req_route(req)));
    return gw_reply_json(req, 200, o, NULL, 0);
}

/* {"id": the decoded parameter, "path": the raw path, "f": [f values]}. */
static int
h_path(gw_req_t *req)
{
    const char *vals[8];
    size_t n = gw_req_query_all(req, "f", vals, 8), i;
    json_t *arr = json_array();

    for (i = 0; i < n && i < 8; i++)
        json_array_append_new(arr, json_string(vals[i]));
    return gw_reply_json(req, 200,
                         json_pack("{s:s, s:s, s:o}", "id",
                                   gw_req_param(req, "id"), "path",
                                   gw_req_path(req), "f", arr),
                         NULL, 0);
}

static int
h_json(gw_req_t *req)
{
    gw_header_t h = {"Location", "/t/json/1"};

    return gw_reply_json(req, 201, json_pack("{s:O}", "got",
                                             gw_req_json(req)), &h, 1);
}

static int
h_open(gw_req_t *req)
{
    return gw_reply_json(req, 200, json_pack("{s:b}", "ok", 1), NULL, 0);
}

static int
h_fail(gw_req_t *req)
{
    const char *rc = gw_req_query(req, "rc");

    if (rc != NULL && strcmp(rc, "eagain") == 0)
        return HLF_EAGAIN;
    if (rc != NULL && strcmp(rc, "einval") == 0)
        return HLF_EINVAL;
    return HLF_OK; /* returns without replying: a bug the core answers */
}

/* Slow job: sleeps ?ms= then replies; records what gw_reply_json said. */
static atomic_int slow_done;
static atomic_int slow_rc = 12345;

typedef struct slow_s {
    gw_req_t *req;
    long ms;
} slow_t;

static void
slow_job(void *arg)
{
    slow_t *s = arg;

    gwt_sleep_ms(s->ms);
    atomic_store(&slow_rc, gw_reply_json(s->req, 200,
                                         json_pack("{s:i}", "slept",
                                                   (int)s->ms),
                                         NULL, 0));
    free(s);
    atomic_fetch_add(&slow_done, 1);
}

static int
h_slow(gw_req_t *req)
{
    const char *ms = gw_req_query(req, "ms");
    slow_t *s = malloc(sizeof(*s));

    s->req = req;
    s->ms = ms ? strtol(ms, NULL, 10) : 300;
    return gw_req_defer(req, slow_job, s, free);
}

/* A stream whose data the test thread produces. */
typedef struct prod_s {
    pthread_mutex_t lock;
    char buf[4096];
    size_t len;
    int eof;
    atomic_int reads;
    atomic_int why; /* -1 until close */
    gw_stream_t *_Atomic s;
} prod_t;

static prod_t P = {PTHREAD_MUTEX_INITIALIZER, "", 0, 0, 0, -1, NULL};

static ssize_t
p_read(void *ud, char *buf, size_t max)
{
    prod_t *p = ud;
    ssize_t n = GW_STREAM_NODATA;

    atomic_fetch_add(&p->reads, 1);
    pthread_mutex_lock(&p->lock);
    if (p->len > 0) {
        size_t k = p->len < max ? p->len : max;

        memcpy(buf, p->buf, k);
        memmove(p->buf, p->buf + k, p->len - k);
        p->len -= k;
        n = (ssize_t)k;
    } else if (p->eof) {
        n = GW_STREAM_EOF;
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void
p_close(void *ud, gw_stream_end_t why)
{
    prod_t *p = ud;

    atomic_store(&p->why, (int)why);
}

static int
h_stream(gw_req_t *req)
{
    static const gw_stream_ops_t ops = {p_read, p_close};
    gw_header_t h = {"Cache-Control", "no-cache"};
    gw_stream_t *s = NULL;
    int rc = gw_reply_stream(req, 200, "text/event-stream", &h, 1, &ops, &P,
                             &s);

    atomic_store(&P.s, s);
    return rc;
}

/* The same stream, but replied from a pool job (e.g. after a replay). */
static void
stream_job(void *arg)
{
    h_stream(arg);
}

static int
h_stream_async(gw_req_t *req)
{
    return gw_req_defer(req, stream_job, req, NULL);
}

/* gw_reply_hlf_error for a libhlf failure chosen by ?code=. */
static int
h_hlf(gw_req_t *req)
{
    const char *code = gw_req_query(req, "code");
    hlf_error_t e;

    hlf_error_clear(&e);
    if (strcmp(code, "chaincode") == 0) {
        hlf_error_set(&e, HLF_ECHAINCODE, "chaincode response 400");
        e.chaincode_status = 400;
        snprintf(e.chaincode_message, sizeof(e.chaincode_message),
                 "{\"error\":{\"code\":\"INVALID_LOOKUP\",\"field\":"
                 "\"System\",\"message\":\"unknown System\"}}");
    } else if (strcmp(code, "chaincode-text") == 0) {
        hlf_error_set(&e, HLF_ECHAINCODE, "chaincode response 500, boom");
        e.chaincode_status = 500;
        snprintf(e.chaincode_message, sizeof(e.chaincode_message), "boom");
    } else if (strcmp(code, "unavail") == 0) {
        hlf_error_set(&e, HLF_EUNAVAIL, "Unavailable: connection refused");
    } else if (strcmp(code, "timeout") == 0) {
        hlf_error_set(&e, HLF_ETIMEDOUT, "DeadlineExceeded");
    } else {
        hlf_error_set(&e, HLF_ECOMMIT, "MVCC_READ_CONFLICT");
    }
    return gw_reply_hlf_error(req, &e);
}

static void
p_put(const char *text)
{
    pthread_mutex_lock(&P.lock);
    memcpy(P.buf + P.len, text, strlen(text));
    P.len += strlen(text);
    pthread_mutex_unlock(&P.lock);
    gw_stream_wake(atomic_load(&P.s));
}

static void
p_wait_stream(void)
{
    int i;

    for (i = 0; i < 500 && atomic_load(&P.s) == NULL; i++)
        gwt_sleep_ms(10);
    ASSERT_NOT_NULL(atomic_load(&P.s));
}

static void
p_wait_closed(void)
{
    int i;

    for (i = 0; i < 500 && atomic_load(&P.why) < 0; i++)
        gwt_sleep_ms(10);
    ASSERT(atomic_load(&P.why) >= 0);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                            */
/* ------------------------------------------------------------------ */

static int port;

static gw_config_t *
setup(const char *extra)
{
    char hb[65], hm[65], text[4096];
    gw_config_t *cfg;

    gwt_sha256_hex(KEY_B, hb);
    gwt_sha256_hex(KEY_M, hm);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "max_body_bytes 1k\n"
             "request_timeout_ms 5000\n"
             "access_log no\n"
             "identity Brokerage BrokerageMSP /nonexistent/b\n"
             "identity MLS MLSMSP /nonexistent/m\n"
             "apikey brokerage-app Brokerage %s\n"
             "apikey mls-feed MLS %s\n"
             "%s",
             hb, hm, extra ? extra : "rate_limit_per_key 0\n");
    cfg = gwt_config(text);
    ASSERT_EQ(gw_core_routes(), HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/echo/{id}", h_echo, GW_ROUTE_AUTH),
              HLF_OK);
    ASSERT_EQ(gw_http_route("POST", "/t/json", h_json,
                            GW_ROUTE_AUTH | GW_ROUTE_JSON), HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/open", h_open, 0), HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/path/{id}/events", h_path, 0),
              HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/fail", h_fail, 0), HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/slow", h_slow, 0), HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/stream", h_stream, 0), HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/stream-async", h_stream_async, 0),
              HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/hlf", h_hlf, 0), HLF_OK);
    port = gwt_start(cfg);
    return cfg;
}

static void
wait_idle(void)
{
    int i;

    for (i = 0; i < 300 && gw_http_in_flight() > 0; i++)
        gwt_sleep_ms(10);
    ASSERT_EQ(gw_http_in_flight(), 0);
}

/* Assert status, JSON content type and exact body. */
static void
expect(const gwt_resp_t *r, long status, const char *body)
{
    char ct[128];

    if (r->status != status || strcmp(r->body, body) != 0)
        fprintf(stderr, "got %ld %s\n", r->status, r->body);
    ASSERT_EQ(r->curl_rc, 0);
    ASSERT_EQ(r->status, status);
    ASSERT_STR_EQ(gwt_header(r, "Content-Type", ct, sizeof(ct)), JSON_CT);
    ASSERT_STR_EQ(r->body, body);
}

static void
do_req(const char *method, const char *path, const char *const *hdrs,
       const char *body, gwt_resp_t *r)
{
    gwt_opts_t o;

    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    o.body = body;
    o.body_len = body ? strlen(body) : 0;
    gwt_http(method, port, path, &o, r);
}

static const char *const AUTH_B[] = {"Authorization: Bearer " KEY_B, NULL};

/* ------------------------------------------------------------------ */
/* Error classes                                                      */
/* ------------------------------------------------------------------ */

TEST_IMPL(http_not_found)
{
    gw_config_t *cfg = setup(NULL);
    gwt_resp_t r;
    char buf[64];

    do_req("GET", "/v1/nothing", NULL, NULL, &r);
    expect(&r, 404, "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":"
                    "\"no route for this path\"}}");
    ASSERT_NOT_NULL(gwt_header(&r, "X-Request-Id", buf, sizeof(buf)));
    ASSERT_EQ(strlen(buf), 16);
    gwt_resp_free(&r);
    /* A trailing slash is another path. */
    do_req("GET", "/t/open/", NULL, NULL, &r);
    ASSERT_EQ(r.status, 404);
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_method_not_allowed)
{
    gw_config_t *cfg = setup(NULL);
    gwt_resp_t r;
    char allow[64];

    do_req("DELETE", "/healthz", NULL, NULL, &r);
    expect(&r, 405, "{\"error\":{\"code\":\"METHOD_NOT_ALLOWED\",\"message\":"
                    "\"method DELETE is not allowed here (allowed: GET)\"}}");
    ASSERT_STR_EQ(gwt_header(&r, "Allow", allow, sizeof(allow)), "GET");
    gwt_resp_free(&r);
    do_req("PUT", "/t/echo/abc", AUTH_B, NULL, &r);
    ASSERT_EQ(r.status, 405);
    ASSERT_STR_EQ(gwt_header(&r, "Allow", allow, sizeof(allow)), "GET");
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_unsupported_media_type)
{
    gw_config_t *cfg = setup(NULL);
    const char *const h[] = {"Authorization: Bearer " KEY_B,
                             "Content-Type: text/plain", NULL};
    const char *const ok[] = {"Authorization: Bearer " KEY_B,
                              "Content-Type: application/json; "
                              "charset=utf-8", NULL};
    gwt_resp_t r;

    do_req("POST", "/t/json", h, "{\"a\":1}", &r);
    expect(&r, 415, "{\"error\":{\"code\":\"UNSUPPORTED_MEDIA_TYPE\","
                    "\"field\":\"Content-Type\",\"message\":\"the request "
                    "body must be application/json\"}}");
    gwt_resp_free(&r);
    do_req("POST", "/t/json", ok, "{\"a\":1}", &r);
    expect(&r, 201, "{\"got\":{\"a\":1}}");
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_payload_too_large)
{
    gw_config_t *cfg = setup(NULL);
    const char *const h[] = {"Authorization: Bearer " KEY_B,
                             "Content-Type: application/json", NULL};
    char big[3000];
    gwt_opts_t o;
    gwt_resp_t r;

    memset(big, ' ', sizeof(big));
    big[0] = '[';
    big[sizeof(big) - 2] = ']';
    big[sizeof(big) - 1] = '\0';
    /* Declared by Content-Length: refused before the body is read. */
    do_req("POST", "/t/json", h, big, &r);
    expect(&r, 413, "{\"error\":{\"code\":\"PAYLOAD_TOO_LARGE\",\"message\":"
                    "\"request body of 2999 bytes exceeds the limit of "
                    "1024\"}}");
    gwt_resp_free(&r);
    /* Chunked: noticed while reading. */
    memset(&o, 0, sizeof(o));
    o.headers = h;
    o.body = big;
    o.body_len = strlen(big);
    o.chunked = 1;
    gwt_http("POST", port, "/t/json", &o, &r);
    expect(&r, 413, "{\"error\":{\"code\":\"PAYLOAD_TOO_LARGE\",\"message\":"
                    "\"request body exceeds the limit of 1024 bytes\"}}");
    gwt_resp_free(&r);
    /* Exactly at the limit is fine. */
    big[1023] = '\0';
    big[1022] = ']';
    do_req("POST", "/t/json", h, big, &r);
    expect(&r, 201, "{\"got\":[]}");
    gwt_resp_free(&r);
    /* A route without a body. */
    do_req("GET", "/t/open", NULL, "x", &r);
    expect(&r, 413, "{\"error\":{\"code\":\"PAYLOAD_TOO_LARGE\",\"message\":"
                    "\"GET /t/open takes no request body\"}}");
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_malformed_json)
{
    gw_config_t *cfg = setup(NULL);
    const char *const h[] = {"Authorization: Bearer " KEY_B,
                             "Content-Type: application/json", NULL};
    gwt_resp_t r;

    do_req("POST", "/t/json", h, "{\"a\":", &r);
    expect(&r, 400, "{\"error\":{\"code\":\"MALFORMED_JSON\",\"message\":"
                    "\"malformed JSON at line 1 column 5: unexpected token "
                    "near end of file\"}}");
    gwt_resp_free(&r);
    do_req("POST", "/t/json", h, "", &r);
    expect(&r, 400, "{\"error\":{\"code\":\"MALFORMED_JSON\",\"message\":"
                    "\"the request body is empty; expected JSON\"}}");
    gwt_resp_free(&r);
    do_req("POST", "/t/json", h, "{\"a\":1,\"a\":2}", &r);
    ASSERT_EQ(r.status, 400);
    ASSERT(strstr(r.body, "\"code\":\"MALFORMED_JSON\"") != NULL);
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_handler_errors)
{
    gw_config_t *cfg = setup(NULL);
    gwt_resp_t r;
    char ra[16];

    do_req("GET", "/t/fail?rc=eagain", NULL, NULL, &r);
    expect(&r, 503, "{\"error\":{\"code\":\"SERVICE_UNAVAILABLE\","
                    "\"message\":\"the gateway is overloaded; retry "
                    "later\"}}");
    ASSERT_STR_EQ(gwt_header(&r, "Retry-After", ra, sizeof(ra)), "1");
    gwt_resp_free(&r);
    do_req("GET", "/t/fail?rc=einval", NULL, NULL, &r);
    expect(&r, 500, "{\"error\":{\"code\":\"INTERNAL\",\"message\":"
                    "\"internal error: invalid argument\"}}");
    gwt_resp_free(&r);
    do_req("GET", "/t/fail", NULL, NULL, &r);
    expect(&r, 500, "{\"error\":{\"code\":\"INTERNAL\",\"message\":"
                    "\"no reply\"}}");
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_hlf_error_mapping)
{
    gw_config_t *cfg = setup(NULL);
    gwt_resp_t r;
    char ra[16];

    do_req("GET", "/t/hlf?code=chaincode", NULL, NULL, &r);
    expect(&r, 400, "{\"error\":{\"code\":\"INVALID_LOOKUP\",\"field\":"
                    "\"System\",\"message\":\"unknown System\"}}");
    gwt_resp_free(&r);
    do_req("GET", "/t/hlf?code=chaincode-text", NULL, NULL, &r);
    expect(&r, 500, "{\"error\":{\"code\":\"INTERNAL\",\"message\":"
                    "\"unexpected chaincode answer: chaincode response "
                    "500, boom\"}}");
    ASSERT_NULL(gwt_header(&r, "Retry-After", ra, sizeof(ra)));
    gwt_resp_free(&r);
    do_req("GET", "/t/hlf?code=unavail", NULL, NULL, &r);
    expect(&r, 503, "{\"error\":{\"code\":\"LEDGER_UNAVAILABLE\","
                    "\"message\":\"no peer or orderer reachable: "
                    "Unavailable: connection refused\"}}");
    ASSERT_STR_EQ(gwt_header(&r, "Retry-After", ra, sizeof(ra)), "1");
    gwt_resp_free(&r);
    /* A Fabric deadline (set below the request timeout) is the ledger
     * being unavailable, not the request timing out (504). */
    do_req("GET", "/t/hlf?code=timeout", NULL, NULL, &r);
    expect(&r, 503, "{\"error\":{\"code\":\"LEDGER_UNAVAILABLE\","
                    "\"message\":\"the ledger did not answer in time: "
                    "DeadlineExceeded\"}}");
    ASSERT_STR_EQ(gwt_header(&r, "Retry-After", ra, sizeof(ra)), "1");
    gwt_resp_free(&r);
    do_req("GET", "/t/hlf?code=commit", NULL, NULL, &r);
    expect(&r, 500, "{\"error\":{\"code\":\"INTERNAL\",\"message\":"
                    "\"the transaction committed invalid: "
                    "MVCC_READ_CONFLICT\"}}");
    ASSERT_NULL(gwt_header(&r, "Retry-After", ra, sizeof(ra)));
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_errcode_table)
{
    ASSERT_STR_EQ(gw_errcode_name(GW_ERR_UNAUTHORIZED), "UNAUTHORIZED");
    ASSERT_EQ(gw_errcode_status(GW_ERR_UNAUTHORIZED), 401);
    ASSERT_EQ(gw_errcode_status(GW_ERR_FORBIDDEN), 403);
    ASSERT_EQ(gw_errcode_status(GW_ERR_NOT_FOUND), 404);
    ASSERT_EQ(gw_errcode_status(GW_ERR_METHOD_NOT_ALLOWED), 405);
    ASSERT_EQ(gw_errcode_status(GW_ERR_IDEMPOTENCY_CONFLICT), 409);
    ASSERT_EQ(gw_errcode_status(GW_ERR_PAYLOAD_TOO_LARGE), 413);
    ASSERT_EQ(gw_errcode_status(GW_ERR_UNSUPPORTED_MEDIA_TYPE), 415);
    ASSERT_EQ(gw_errcode_status(GW_ERR_MALFORMED_JSON), 400);
    ASSERT_EQ(gw_errcode_status(GW_ERR_RATE_LIMITED), 429);
    ASSERT_EQ(gw_errcode_status(GW_ERR_LEDGER_UNAVAILABLE), 503);
    ASSERT_EQ(gw_errcode_status(GW_ERR_TIMEOUT), 504);
    ASSERT_EQ(gw_errcode_status(GW_ERR_INTERNAL), 500);
    ASSERT_STR_EQ(gw_errcode_name(GW_ERR__COUNT), "INTERNAL");
    ASSERT_EQ(gw_errcode_status((gw_errcode_t)-1), 500);
}

/* ------------------------------------------------------------------ */
/* Authentication and rate limiting                                   */
/* ------------------------------------------------------------------ */

TEST_IMPL(http_auth)
{
    gw_config_t *cfg = setup(NULL);
    const char *const wrong[] = {"Authorization: Bearer nope", NULL};
    const char *const basic[] = {"Authorization: Basic YTpi", NULL};
    const char *const other[] = {"Authorization: Bearer " KEY_B,
                                 "X-Reso-Identity: MLS", NULL};
    const char *const own[] = {"Authorization: Bearer " KEY_B,
                               "X-Reso-Identity: Brokerage", NULL};
    const char *const own_msp[] = {"Authorization: Bearer " KEY_B,
                                   "X-Reso-Identity: BrokerageMSP", NULL};
    const char *const mls[] = {"Authorization: Bearer " KEY_M, NULL};
    gwt_resp_t r;
    char w[128];

    do_req("GET", "/t/echo/1", NULL, NULL, &r);
    expect(&r, 401, "{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":"
                    "\"missing credentials: send Authorization: Bearer "
                    "<api key>\"}}");
    ASSERT_STR_EQ(gwt_header(&r, "WWW-Authenticate", w, sizeof(w)),
                  "Bearer realm=\"reso-gateway\"");
    gwt_resp_free(&r);
    do_req("GET", "/t/echo/1", wrong, NULL, &r);
    expect(&r, 401, "{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":"
                    "\"invalid API key\"}}");
    ASSERT_STR_EQ(gwt_header(&r, "WWW-Authenticate", w, sizeof(w)),
                  "Bearer realm=\"reso-gateway\", error=\"invalid_token\"");
    gwt_resp_free(&r);
    do_req("GET", "/t/echo/1", basic, NULL, &r);
    ASSERT_EQ(r.status, 401);
    ASSERT_STR_EQ(gwt_header(&r, "WWW-Authenticate", w, sizeof(w)),
                  "Bearer realm=\"reso-gateway\", error=\"invalid_request\"");
    gwt_resp_free(&r);
    do_req("GET", "/t/echo/1", other, NULL, &r);
    expect(&r, 403, "{\"error\":{\"code\":\"FORBIDDEN\",\"field\":"
                    "\"X-Reso-Identity\",\"message\":\"API key "
                    "brokerage-app may act only as Brokerage, not as "
                    "\\\"MLS\\\"\"}}");
    gwt_resp_free(&r);
    do_req("GET", "/t/echo/1", own, NULL, &r);
    expect(&r, 200, "{\"id\":\"1\",\"f\":[],\"nq\":0,\"key\":"
                    "\"brokerage-app\",\"identity\":\"Brokerage\","
                    "\"route\":\"/t/echo/{id}\"}");
    gwt_resp_free(&r);
    do_req("GET", "/t/echo/1", own_msp, NULL, &r);
    ASSERT_EQ(r.status, 200);
    gwt_resp_free(&r);
    do_req("GET", "/t/echo/2", mls, NULL, &r);
    expect(&r, 200, "{\"id\":\"2\",\"f\":[],\"nq\":0,\"key\":\"mls-feed\","
                    "\"identity\":\"MLS\",\"route\":\"/t/echo/{id}\"}");
    gwt_resp_free(&r);
    /* Unauthenticated routes stay open. */
    do_req("GET", "/t/open", NULL, NULL, &r);
    expect(&r, 200, "{\"ok\":true}");
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_auth_constant_time)
{
    gw_config_t *cfg = setup(NULL);
    uint64_t before;
    uint8_t a[32], b[32];

    /* Every lookup compares the digest with every configured key. */
    before = gw_auth_compares();
    ASSERT_STR_EQ(gw_auth_lookup(KEY_B, strlen(KEY_B))->name,
                  "brokerage-app");
    ASSERT_EQ(gw_auth_compares() - before, 2);
    before = gw_auth_compares();
    ASSERT_STR_EQ(gw_auth_lookup(KEY_M, strlen(KEY_M))->name, "mls-feed");
    ASSERT_EQ(gw_auth_compares() - before, 2);
    before = gw_auth_compares();
    ASSERT_NULL(gw_auth_lookup("x", 1));
    ASSERT_EQ(gw_auth_compares() - before, 2);
    /* A prefix of a key is not the key. */
    ASSERT_NULL(gw_auth_lookup(KEY_B, strlen(KEY_B) - 1));
    memset(a, 0x5a, sizeof(a));
    memcpy(b, a, sizeof(b));
    ASSERT_EQ(gw_ct_equal(a, b, 32), 1);
    b[31] ^= 0x80;
    ASSERT_EQ(gw_ct_equal(a, b, 32), 0);
    b[31] ^= 0x80;
    b[0] ^= 1;
    ASSERT_EQ(gw_ct_equal(a, b, 32), 0);
    ASSERT_EQ(gw_ct_equal(a, b, 0), 1);
    gwt_stop(cfg);
}

TEST_IMPL(http_access_log_no_secrets)
{
    gw_config_t *cfg;
    const char *const h[] = {"Authorization: Bearer " KEY_B, NULL};
    char *log = NULL;
    size_t loglen = 0;
    FILE *fp = open_memstream(&log, &loglen);
    gwt_resp_t r;

    ASSERT_NOT_NULL(fp);
    cfg = setup(NULL);
    cfg->access_log = 1;
    hlf_log_set_file(fp);
    do_req("GET", "/t/echo/abc?f=1&token=hidden", h, NULL, &r);
    ASSERT_EQ(r.status, 200);
    gwt_resp_free(&r);
    do_req("GET", "/t/echo/abc", (const char *const[]){
               "Authorization: Bearer wrong-key-value", NULL}, NULL, &r);
    ASSERT_EQ(r.status, 401);
    gwt_resp_free(&r);
    wait_idle();
    gwt_stop(cfg);
    hlf_log_set_file(NULL);
    fclose(fp);
    ASSERT(strstr(log, "access: rid=") != NULL);
    ASSERT(strstr(log, " method=GET path=\"/t/echo/abc\" route=/t/echo/{id} "
                       "status=200 ms=") != NULL);
    ASSERT(strstr(log, "key=brokerage-app bytes_in=0") != NULL);
    ASSERT(strstr(log, "status=401 ms=") != NULL);
    ASSERT_NULL(strstr(log, KEY_B));
    ASSERT_NULL(strstr(log, "wrong-key-value"));
    ASSERT_NULL(strstr(log, "Bearer"));
    ASSERT_NULL(strstr(log, "hidden"));
    free(log);
}

TEST_IMPL(http_rate_limit)
{
    gw_config_t *cfg = setup("rate_limit_per_key 0.5 3\n");
    const char *const mls[] = {"Authorization: Bearer " KEY_M, NULL};
    gwt_resp_t r;
    char ra[16];
    int i;

    for (i = 0; i < 3; i++) {
        do_req("GET", "/t/echo/x", AUTH_B, NULL, &r);
        ASSERT_EQ(r.status, 200);
        gwt_resp_free(&r);
    }
    do_req("GET", "/t/echo/x", AUTH_B, NULL, &r);
    expect(&r, 429, "{\"error\":{\"code\":\"RATE_LIMITED\",\"message\":"
                    "\"rate limit of API key brokerage-app exceeded; retry "
                    "after 2 s\"}}");
    ASSERT_STR_EQ(gwt_header(&r, "Retry-After", ra, sizeof(ra)), "2");
    gwt_resp_free(&r);
    /* Buckets are per key. */
    do_req("GET", "/t/echo/x", mls, NULL, &r);
    ASSERT_EQ(r.status, 200);
    gwt_resp_free(&r);
    /* Unauthenticated routes are not limited per key. */
    for (i = 0; i < 5; i++) {
        do_req("GET", "/t/open", NULL, NULL, &r);
        ASSERT_EQ(r.status, 200);
        gwt_resp_free(&r);
    }
    gwt_stop(cfg);
}

TEST_IMPL(http_params_and_query)
{
    gw_config_t *cfg = setup(NULL);
    gwt_resp_t r;

    do_req("GET", "/t/echo/US-42049%2D1?f=a&g=1&f=b%20c&f", AUTH_B, NULL,
           &r);
    expect(&r, 200, "{\"id\":\"US-42049-1\",\"f\":[\"a\",\"b c\",\"\"],"
                    "\"nq\":4,\"key\":\"brokerage-app\",\"identity\":"
                    "\"Brokerage\",\"route\":\"/t/echo/{id}\"}");
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

/* One GET of path: status and, for 400, code and field; body (new) is
 * the parsed answer. */
static json_t *
get_path(const char *path, long status)
{
    gwt_resp_t r;
    json_t *j;

    do_req("GET", path, NULL, NULL, &r);
    if (r.status != status)
        TEST__FAIL("GET %s: %ld, want %ld: %s", path, r.status, status,
                   r.body);
    j = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(j);
    gwt_resp_free(&r);
    return j;
}

static void
expect_param(const char *path, const char *id)
{
    json_t *j = get_path(path, 200);
    char raw[256];

    snprintf(raw, sizeof(raw), "%s", path);
    raw[strcspn(raw, "?")] = '\0';
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "id")), id);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "path")), raw);
    json_decref(j);
}

static void
expect_bad_path(const char *path)
{
    json_t *j = get_path(path, 400), *e = json_object_get(j, "error");

    ASSERT_STR_EQ(json_string_value(json_object_get(e, "code")),
                  "BAD_REQUEST");
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "field")), "path");
    json_decref(j);
}

/*
 * Routing splits the raw path on '/' and decodes each segment after
 * matching, so an encoded slash stays inside its parameter (it used to
 * give 404 because MHD decoded the whole path first); query values are
 * decoded as before.
 */
TEST_IMPL(http_path_encoding)
{
    gw_config_t *cfg = setup(NULL);
    json_t *j;

    expect_param("/t/path/a%2Fb/events", "a/b");
    expect_param("/t/path/a%2fb%2F%2F/events", "a/b//");
    expect_param("/t/path/a%20b/events", "a b");
    expect_param("/t/path/100%25/events", "100%");
    expect_param("/t/path/%2525/events", "%25");
    expect_param("/t/path/US-42049%2D1/events", "US-42049-1");
    expect_param("/t/path/%C3%A9t%C3%A9/events", "\xc3\xa9t\xc3\xa9");
    /* Literal segments compare decoded too. */
    expect_param("/t/p%61th/x/events", "x");
    /* A raw slash still separates segments: no such route. */
    json_decref(get_path("/t/path/a/b/events", 404));
    /* Bad escapes and NUL: 400 BAD_REQUEST, field "path". */
    expect_bad_path("/t/path/a%2/events");
    expect_bad_path("/t/path/a%/events");
    expect_bad_path("/t/path/a%zz/events");
    expect_bad_path("/t/path/a%g0/events");
    expect_bad_path("/t/path/a%00b/events");
    expect_bad_path("/t/pa%th/x/events");
    /* An invalid escape anywhere is 400, even where no route exists. */
    expect_bad_path("/nowhere/%");
    /* Query values: decoded, an escaped '&' stays in its value, a lone
     * '%' is kept as it is. */
    j = get_path("/t/path/q/events?f=a%26b&f=50%&f=%2F", 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "f")), 3);
    ASSERT_STR_EQ(json_string_value(
                      json_array_get(json_object_get(j, "f"), 0)), "a&b");
    ASSERT_STR_EQ(json_string_value(
                      json_array_get(json_object_get(j, "f"), 1)), "50%");
    ASSERT_STR_EQ(json_string_value(
                      json_array_get(json_object_get(j, "f"), 2)), "/");
    json_decref(j);
    gwt_stop(cfg);
}

/* ------------------------------------------------------------------ */
/* Asynchronous replies                                               */
/* ------------------------------------------------------------------ */

TEST_IMPL(http_async_reply)
{
    gw_config_t *cfg = setup(NULL);
    gwt_resp_t r;
    int i;

    do_req("GET", "/t/slow?ms=300", NULL, NULL, &r);
    expect(&r, 200, "{\"slept\":300}");
    ASSERT(r.secs >= 0.29);
    for (i = 0; i < 200 && atomic_load(&slow_done) == 0; i++)
        gwt_sleep_ms(10); /* the job records rc after replying */
    ASSERT_EQ(atomic_load(&slow_rc), HLF_OK);
    gwt_resp_free(&r);
    /* A fast job may answer before the handler returned. */
    do_req("GET", "/t/slow?ms=0", NULL, NULL, &r);
    expect(&r, 200, "{\"slept\":0}");
    gwt_resp_free(&r);
    wait_idle();
    gwt_stop(cfg);
}

TEST_IMPL(http_async_client_gone)
{
    gw_config_t *cfg = setup(NULL);
    gwt_opts_t o;
    gwt_resp_t r;
    int i;

    memset(&o, 0, sizeof(o));
    o.timeout_ms = 150;
    gwt_http("GET", port, "/t/slow?ms=600", &o, &r);
    ASSERT_NE(r.curl_rc, 0); /* the client gave up */
    gwt_resp_free(&r);
    ASSERT_EQ(gw_http_in_flight(), 1);
    for (i = 0; i < 200 && atomic_load(&slow_done) == 0; i++)
        gwt_sleep_ms(10);
    ASSERT_EQ(atomic_load(&slow_done), 1);
    wait_idle();
    /* The daemon carries on. */
    do_req("GET", "/t/open", NULL, NULL, &r);
    expect(&r, 200, "{\"ok\":true}");
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(http_timeout_504)
{
    gw_config_t *cfg;
    gwt_resp_t r;
    int i;

    cfg = setup("rate_limit_per_key 0\nidle_timeout_ms 5000\n");
    /* Shorten the request bound for this test only. */
    cfg->request_timeout_ms = 300;
    do_req("GET", "/t/slow?ms=1000", NULL, NULL, &r);
    expect(&r, 504, "{\"error\":{\"code\":\"TIMEOUT\",\"message\":\"no "
                    "answer within 300 ms\"}}");
    ASSERT(r.secs < 0.9);
    gwt_resp_free(&r);
    for (i = 0; i < 200 && atomic_load(&slow_done) == 0; i++)
        gwt_sleep_ms(10);
    ASSERT_EQ(atomic_load(&slow_done), 1);
    /* The late reply was dropped. */
    ASSERT_EQ(atomic_load(&slow_rc), HLF_ECLOSED);
    wait_idle();
    gwt_stop(cfg);
}

/* ------------------------------------------------------------------ */
/* Streams                                                            */
/* ------------------------------------------------------------------ */

typedef gwt_async_t client_t;

static void
client_start(client_t *c, const char *path, long timeout_ms)
{
    gwt_opts_t o;

    memset(&o, 0, sizeof(o));
    o.timeout_ms = timeout_ms;
    gwt_async_start(c, "GET", port, path, &o);
}

TEST_IMPL(http_stream_delivers)
{
    gw_config_t *cfg = setup(NULL);
    client_t c;
    char ct[64], cc[64];
    int i;

    client_start(&c, "/t/stream", 10000);
    p_wait_stream();
    for (i = 0; i < 5; i++) {
        char line[32];

        snprintf(line, sizeof(line), "id: %d\ndata: x\n\n", i);
        p_put(line);
        gwt_sleep_ms(30);
    }
    pthread_mutex_lock(&P.lock);
    P.eof = 1;
    pthread_mutex_unlock(&P.lock);
    gw_stream_wake(atomic_load(&P.s));
    gwt_async_join(&c);
    ASSERT_EQ(c.r.curl_rc, 0);
    ASSERT_EQ(c.r.status, 200);
    ASSERT_STR_EQ(gwt_header(&c.r, "Content-Type", ct, sizeof(ct)),
                  "text/event-stream");
    ASSERT_STR_EQ(gwt_header(&c.r, "Cache-Control", cc, sizeof(cc)),
                  "no-cache");
    ASSERT_STR_EQ(c.r.body, "id: 0\ndata: x\n\nid: 1\ndata: x\n\n"
                            "id: 2\ndata: x\n\nid: 3\ndata: x\n\n"
                            "id: 4\ndata: x\n\n");
    p_wait_closed();
    ASSERT_EQ(atomic_load(&P.why), GW_STREAM_END_EOF);
    gwt_resp_free(&c.r);
    gw_stream_release(atomic_load(&P.s));
    wait_idle();
    gwt_stop(cfg);
}

TEST_IMPL(http_stream_from_job)
{
    gw_config_t *cfg = setup(NULL);
    client_t c;

    client_start(&c, "/t/stream-async", 10000);
    p_wait_stream();
    p_put("data: a\n\n");
    gwt_sleep_ms(50);
    pthread_mutex_lock(&P.lock);
    P.eof = 1; /* read returns EOF once "b" is out */
    pthread_mutex_unlock(&P.lock);
    p_put("data: b\n\n");
    gwt_async_join(&c);
    ASSERT_EQ(c.r.curl_rc, 0);
    ASSERT_EQ(c.r.status, 200);
    ASSERT_STR_EQ(c.r.body, "data: a\n\ndata: b\n\n");
    p_wait_closed();
    ASSERT_EQ(atomic_load(&P.why), GW_STREAM_END_EOF);
    gwt_resp_free(&c.r);
    gw_stream_release(atomic_load(&P.s));
    wait_idle();
    gwt_stop(cfg);
}

TEST_IMPL(http_stream_idle_no_spin)
{
    gw_config_t *cfg = setup(NULL);
    client_t c;
    double cpu0, cpu1;
    int reads0;

    client_start(&c, "/t/stream", 10000);
    p_wait_stream();
    p_put("data: hello\n\n");
    gwt_sleep_ms(200);
    reads0 = atomic_load(&P.reads);
    cpu0 = gwt_cpu_ms();
    gwt_sleep_ms(1000);
    cpu1 = gwt_cpu_ms();
    /* Asleep: no read calls, no CPU (well under 5% of a core). */
    ASSERT_EQ(atomic_load(&P.reads), reads0);
    if (cpu1 - cpu0 >= 50)
        fprintf(stderr, "idle stream used %.1f ms CPU\n", cpu1 - cpu0);
    ASSERT(cpu1 - cpu0 < 50);
    /* A wake with nothing to say puts it back to sleep. */
    gw_stream_wake(atomic_load(&P.s));
    gwt_sleep_ms(100);
    ASSERT_EQ(atomic_load(&P.reads), reads0 + 1);
    gw_stream_end(atomic_load(&P.s));
    gwt_async_join(&c);
    ASSERT_EQ(c.r.curl_rc, 0);
    ASSERT_STR_EQ(c.r.body, "data: hello\n\n");
    p_wait_closed();
    ASSERT_EQ(atomic_load(&P.why), GW_STREAM_END_EOF);
    gwt_resp_free(&c.r);
    gw_stream_release(atomic_load(&P.s));
    wait_idle();
    gwt_stop(cfg);
}

TEST_IMPL(http_stream_client_gone)
{
    gw_config_t *cfg = setup(NULL);
    client_t c;
    int i;

    client_start(&c, "/t/stream", 300);
    p_wait_stream();
    p_put("data: 1\n\n");
    gwt_async_join(&c);
    ASSERT_NE(c.r.curl_rc, 0); /* timed out on our side */
    gwt_resp_free(&c.r);
    /* The producer finds out on its next writes. */
    for (i = 0; i < 200 && atomic_load(&P.why) < 0; i++) {
        p_put("data: more\n\n");
        gwt_sleep_ms(10);
    }
    ASSERT_EQ(atomic_load(&P.why), GW_STREAM_END_CLIENT);
    /* Waking a finished stream is harmless until release. */
    gw_stream_wake(atomic_load(&P.s));
    gw_stream_release(atomic_load(&P.s));
    wait_idle();
    gwt_stop(cfg);
}

/* ------------------------------------------------------------------ */
/* Drain                                                              */
/* ------------------------------------------------------------------ */

TEST_IMPL(http_drain)
{
    gw_config_t *cfg = setup(NULL);
    client_t slow, stream;
    gwt_resp_t r;
    int64_t t0;

    client_start(&slow, "/t/slow?ms=500", 10000);
    client_start(&stream, "/t/stream", 10000);
    p_wait_stream();
    p_put("data: 1\n\n");
    gwt_sleep_ms(100);
    ASSERT_EQ(gw_http_in_flight(), 2);
    t0 = gw_now_ms();
    ASSERT_EQ(gw_http_drain(3000), 0);
    ASSERT(gw_now_ms() - t0 < 1500);
    gwt_async_join(&slow);
    gwt_async_join(&stream);
    expect(&slow.r, 200, "{\"slept\":500}");
    ASSERT_EQ(stream.r.curl_rc, 0);
    ASSERT_STR_EQ(stream.r.body, "data: 1\n\n");
    p_wait_closed();
    ASSERT_EQ(atomic_load(&P.why), GW_STREAM_END_SHUTDOWN);
    /* A new request while draining: 503, and the connection closes. */
    do_req("GET", "/t/open", NULL, NULL, &r);
    ASSERT_EQ(r.curl_rc, 0);
    ASSERT_EQ(r.status, 503);
    ASSERT(strstr(r.body, "shutting down") != NULL);
    gwt_resp_free(&r);
    gwt_resp_free(&slow.r);
    gwt_resp_free(&stream.r);
    gw_stream_release(atomic_load(&P.s));
    gwt_stop(cfg);
}

/* ------------------------------------------------------------------ */
/* /metrics and /healthz                                              */
/* ------------------------------------------------------------------ */

TEST_IMPL(http_metrics)
{
    gw_config_t *cfg = setup(NULL);
    gwt_resp_t r;
    char ct[128];

    do_req("GET", "/t/open", NULL, NULL, &r);
    gwt_resp_free(&r);
    do_req("GET", "/t/open", NULL, NULL, &r);
    gwt_resp_free(&r);
    do_req("GET", "/nowhere", NULL, NULL, &r);
    gwt_resp_free(&r);
    wait_idle();
    do_req("GET", "/metrics", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(gwt_header(&r, "Content-Type", ct, sizeof(ct)),
                  "text/plain; version=0.0.4; charset=utf-8");
    ASSERT(strstr(r.body, "# TYPE http_requests_total counter\n") != NULL);
    ASSERT(strstr(r.body, "\nhttp_requests_total{route=\"/t/open\","
                          "method=\"GET\",status=\"200\"} 2\n") != NULL);
    ASSERT(strstr(r.body, "\nhttp_requests_total{route=\"unmatched\","
                          "method=\"GET\",status=\"404\"} 1\n") != NULL);
    ASSERT(strstr(r.body, "\nhttp_request_duration_seconds_count{route="
                          "\"/t/open\",method=\"GET\"} 2\n") != NULL);
    ASSERT(strstr(r.body, "\nhttp_request_duration_seconds_bucket{route="
                          "\"/t/open\",method=\"GET\",le=\"+Inf\"} 2\n") !=
           NULL);
    /* The /metrics request itself is in flight while rendering. */
    ASSERT(strstr(r.body, "\nhttp_requests_in_flight 1\n") != NULL);
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

static gw_health_t comp_state = GW_HEALTH_OK;

static gw_health_t
comp(void *ud, char *detail, size_t n)
{
    snprintf(detail, n, "%s", (const char *)ud);
    return comp_state;
}

TEST_IMPL(http_healthz)
{
    gw_config_t *cfg;
    gwt_resp_t r;

    ASSERT_EQ(gw_health_register("follower", comp, "lag 0 blocks"),
              HLF_OK);
    ASSERT_EQ(gw_health_register("follower", comp, "x"), HLF_EEXIST);
    cfg = setup(NULL);
    do_req("GET", "/healthz", NULL, NULL, &r);
    expect(&r, 200, "{\"status\":\"ok\",\"live\":true,\"ready\":true,"
                    "\"components\":{\"follower\":{\"status\":\"ok\","
                    "\"detail\":\"lag 0 blocks\"}}}");
    gwt_resp_free(&r);
    comp_state = GW_HEALTH_DEGRADED;
    do_req("GET", "/healthz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(strncmp(r.body, "{\"status\":\"degraded\",", 21) == 0);
    gwt_resp_free(&r);
    comp_state = GW_HEALTH_DOWN;
    do_req("GET", "/healthz", NULL, NULL, &r);
    expect(&r, 503, "{\"status\":\"down\",\"live\":true,\"ready\":false,"
                    "\"components\":{\"follower\":{\"status\":\"down\","
                    "\"detail\":\"lag 0 blocks\"}}}");
    gwt_resp_free(&r);
    wait_idle();
    gwt_stop(cfg);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(http_not_found),
    TEST_ENTRY(http_method_not_allowed),
    TEST_ENTRY(http_unsupported_media_type),
    TEST_ENTRY(http_payload_too_large),
    TEST_ENTRY(http_malformed_json),
    TEST_ENTRY(http_handler_errors),
    TEST_ENTRY(http_hlf_error_mapping),
    TEST_ENTRY(http_path_encoding),
    TEST_ENTRY(http_errcode_table),
    TEST_ENTRY(http_auth),
    TEST_ENTRY(http_auth_constant_time),
    TEST_ENTRY(http_access_log_no_secrets),
    TEST_ENTRY(http_rate_limit),
    TEST_ENTRY(http_params_and_query),
    TEST_ENTRY(http_async_reply),
    TEST_ENTRY(http_async_client_gone),
    TEST_ENTRY(http_timeout_504),
    TEST_ENTRY(http_stream_delivers),
    TEST_ENTRY(http_stream_from_job),
    TEST_ENTRY(http_stream_idle_no_spin),
    TEST_ENTRY(http_stream_client_gone),
    TEST_ENTRY(http_drain),
    TEST_ENTRY(http_metrics),
    TEST_ENTRY(http_healthz),
};

TEST_MAIN(tests)
