/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The webhooks module in-process: the gateway's HTTP core on 127.0.0.1
 * with the routes of webhooks.c, a hub installed as the daemon's (events
 * are published by the test, as the follower would), and the test
 * receiver (webhooks_receiver.h) on another loopback port. Covers the
 * REST contract (validation, SSRF refusals, ownership, secrets never
 * returned), ordered signed batches, filters, explicit start positions,
 * 429/503 with Retry-After in seconds and as a date, backoff after 500,
 * timeouts, restarts from the checkpoint, a crash between a 2xx and its
 * checkpoint (at-least-once, exactly once after dedup), deletion, the
 * connect-time address check and the metrics.
 */
#include "gwtest.h"
#include "task.h"
#include "webhooks.h"
#include "webhooks_receiver.h"

#include "hlf/mem.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define KEY_B "webhooks-test-brokerage-key-0001"
#define KEY_M "webhooks-test-mls-key-0000000002"
#define AUTH_B "Authorization: Bearer " KEY_B
#define AUTH_M "Authorization: Bearer " KEY_M
#define SECRET "whsec-unit-0123456789abcdef"
#define BATCH 3

/* ------------------------------------------------------------------ */
/* Fixture: one per test process (each test runs in its own).         */
/* ------------------------------------------------------------------ */

static gw_config_t *cfg;
static gw_hub_t *hub;
static char *state;
static int port;
static uint64_t next_block = 1;

static void
start(const char *extra)
{
    char hb[65], hm[65], text[4096];
    hlf_error_t e;

    if (state == NULL)
        state = gwt_tmpdir();
    gwt_sha256_hex(KEY_B, hb);
    gwt_sha256_hex(KEY_M, hm);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "state_dir %s\n"
             "access_log no\n"
             "rate_limit_per_key 0\n"
             "identity Brokerage BrokerageMSP /nonexistent/b\n"
             "identity MLS MLSMSP /nonexistent/m\n"
             "apikey brokerage Brokerage %s\n"
             "apikey mls MLS %s\n"
             "webhook_batch_max %d\n"
             "webhook_timeout_ms 1000\n"
             "webhook_retry_max_ms 400\n"
             "%s", state, hb, hm, BATCH,
             extra != NULL ? extra : "webhook_allow_private_targets yes\n");
    cfg = gwt_config(text);
    if (hub == NULL) {
        ASSERT_EQ(gw_hub_new(256, &hub), HLF_OK);
        gw_stream_install_hub(hub);
    }
    if (gw_module_webhooks.init(cfg, &e) != HLF_OK)
        TEST__FAIL("init: %s", e.text);
    port = gwt_start(cfg);
    if (gw_module_webhooks.start(cfg, &e) != HLF_OK)
        TEST__FAIL("start: %s", e.text);
}

static void
stop(void)
{
    gw_module_webhooks.stop();
    (void)gw_http_drain(2000);
    gwt_stop(cfg);
    cfg = NULL;
}

static void
finish(void)
{
    stop();
    gw_stream_install_hub(NULL);
    gw_hub_free(hub);
    hub = NULL;
    gwt_rmrf(state);
    free(state);
    state = NULL;
}

/* Publish one event as the follower would; returns its sequence. */
static uint64_t
publish(const char *system, const char *st)
{
    char p[512];
    gw_event_t *ev = NULL;
    hlf_error_t e;
    uint64_t b = next_block++;

    snprintf(p, sizeof(p), "{\"TransactionId\":\"tid-%llu\",\"EventSubject\":"
             "\"US-%llu\",\"System\":\"%s\",\"SubjectType\":\"Property\","
             "\"Entity\":\"Listing\",\"Event\":\"Listed\",\"State\":\"%s\","
             "\"Recorder\":\"urn:test\"}", (unsigned long long)b,
             (unsigned long long)b, system, st);
    if (gw_event_new(b, 1, "f00d", "BrokerageMSP", (const uint8_t *)p,
                     strlen(p), &ev, &e) != HLF_OK)
        TEST__FAIL("event: %s", e.text);
    ASSERT_EQ(gw_hub_publish(hub, ev), HLF_OK);
    gw_event_unref(ev);
    return GW_SEQ(b, 1);
}

static void
req(const char *method, const char *path, const char *auth,
    const char *body, gwt_resp_t *r)
{
    const char *h[3] = {auth, "Content-Type: application/json", NULL};
    gwt_opts_t o;

    memset(&o, 0, sizeof(o));
    o.headers = h;
    if (body != NULL) {
        o.body = body;
        o.body_len = strlen(body);
    }
    gwt_http(method, port, path, &o, r);
    ASSERT_EQ(r->curl_rc, 0);
}

/* Expect status and the exact body. */
static void
expect(const char *method, const char *path, const char *auth,
       const char *body, long status, const char *want)
{
    gwt_resp_t r;

    req(method, path, auth, body, &r);
    if (r.status != status || (want != NULL && strcmp(r.body, want) != 0))
        TEST__FAIL("%s %s %s: got %ld %s", method, path, body ? body : "",
                   r.status, r.body);
    gwt_resp_free(&r);
}

/* POST a subscription; returns the new id (static buffer). */
static const char *
create(const char *auth, const char *url, const char *extra)
{
    static char id[64];
    char body[2048];
    gwt_resp_t r;
    json_t *o;

    snprintf(body, sizeof(body), "{\"url\":\"%s\",\"secret\":\"" SECRET
             "\"%s%s}", url, extra ? "," : "", extra ? extra : "");
    req("POST", "/v1/subscriptions", auth, body, &r);
    if (r.status != 201)
        TEST__FAIL("create: %ld %s", r.status, r.body);
    o = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(o);
    snprintf(id, sizeof(id), "%s",
             json_string_value(json_object_get(o, "id")));
    ASSERT_EQ(gw_webhook_id_valid(id), 1);
    json_decref(o);
    gwt_resp_free(&r);
    return id;
}

/* GET /v1/subscriptions/{id} as Brokerage, parsed. */
static json_t *
get_sub(const char *id)
{
    char path[128];
    gwt_resp_t r;
    json_t *o;

    snprintf(path, sizeof(path), "/v1/subscriptions/%s", id);
    req("GET", path, AUTH_B, NULL, &r);
    ASSERT_EQ(r.status, 200);
    o = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(o);
    gwt_resp_free(&r);
    return o;
}

static json_int_t
delivery_int(json_t *sub, const char *k)
{
    return json_integer_value(json_object_get(json_object_get(sub,
                                                              "delivery"),
                                              k));
}

/* The value of one metric series, or -1 if absent. */
static double
metric(const char *series)
{
    char *text = NULL, *p;
    size_t len = 0, n = strlen(series);
    double v = -1;

    ASSERT_EQ(gw_metrics_render(&text, &len), HLF_OK);
    for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            v = strtod(p + n + 1, NULL);
            break;
        }
    }
    hlf_free(text);
    return v;
}

/* Wait up to 5 s for a series to reach v (the receiver may see a push
 * before the gateway has processed its answer); returns the value. */
static double
wait_metric(const char *series, double v)
{
    int i;

    for (i = 0; i < 100 && metric(series) < v; i++)
        gwt_sleep_ms(50);
    return metric(series);
}

/* Assert the receiver's acknowledged events are exactly want[0..n), in
 * order, each once. */
static void
expect_events(whr_t *w, const uint64_t *want, size_t n)
{
    whr_event_t *ev;
    size_t got, i;

    ASSERT_EQ(whr_wait_unique(w, n, 10000), n);
    ev = whr_events(w, &got);
    if (got != n) {
        for (i = 0; i < got; i++)
            fprintf(stderr, "got %llu\n", (unsigned long long)ev[i].seq);
    }
    ASSERT_EQ(got, n);
    for (i = 0; i < n; i++)
        ASSERT_EQ(ev[i].seq, want[i]);
    whr_events_free(ev, got);
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* REST                                                               */
/* ------------------------------------------------------------------ */

#define SUBS "/v1/subscriptions"
#define BAD(field, msg)                                                    \
    "{\"error\":{\"code\":\"BAD_REQUEST\",\"field\":\"" field "\","        \
    "\"message\":\"" msg "\"}}"

TEST_IMPL(rest_validation)
{
    char body[256];

    start(NULL);
    expect("POST", SUBS, "X-None: 1", "{}", 401, NULL);
    expect("POST", SUBS, AUTH_B, "[]", 400,
           "{\"error\":{\"code\":\"BAD_REQUEST\",\"message\":\"the body "
           "must be a JSON object\"}}");
    expect("POST", SUBS, AUTH_B, "{\"secret\":\"" SECRET "\"}", 400,
           BAD("url", "url is required and must be a string"));
    expect("POST", SUBS, AUTH_B, "{\"url\":\"ftp://x/\",\"secret\":\""
           SECRET "\"}", 400, BAD("url", "url scheme must be http or "
                                  "https"));
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://u:p@x/\",\"secret\":\""
           SECRET "\"}", 400, BAD("url", "url must not carry user "
                                  "credentials"));
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://x/\",\"secret\":\"short"
           "\"}", 400, BAD("secret", "secret is required: a string of 16 "
                           "to 512 bytes"));
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://x/\",\"secret\":\""
           SECRET "\",\"foo\":1}", 400, BAD("foo", "unknown field; known: "
                                            "url, filter, secret, after"));
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://x/\",\"secret\":\""
           SECRET "\",\"filter\":{\"Foo\":\"x\"}}", 400,
           BAD("filter.Foo", "unknown filter field; known: System, "
               "SubjectType, Entity, Event, State, EventSubject, Recorder"));
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://x/\",\"secret\":\""
           SECRET "\",\"filter\":{\"State\":[]}}", 400,
           BAD("filter.State", "must be a string or an array of 1 to 64 "
               "strings of 1 to 255 bytes"));
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://x/\",\"secret\":\""
           SECRET "\",\"after\":-1}", 400,
           BAD("after", "after must be a non-negative integer sequence"));
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://x/\",\"secret\":\""
           SECRET "\",\"after\":\"5\"}", 400,
           BAD("after", "after must be a non-negative integer sequence"));
    expect("POST", SUBS, AUTH_B, "{\"url\":", 400, NULL); /* malformed */
    /* Unspecified and multicast targets are refused even when private
     * ones are allowed. */
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://0.0.0.0:9/\",\"secret\":"
           "\"" SECRET "\"}", 400,
           "{\"error\":{\"code\":\"WEBHOOK_TARGET_FORBIDDEN\",\"field\":"
           "\"url\",\"message\":\"host 0.0.0.0 resolves to 0.0.0.0, in the "
           "unspecified range; webhook targets must be public\"}}");
    snprintf(body, sizeof(body), "{\"url\":\"http://no-such-host.invalid/\","
             "\"secret\":\"" SECRET "\"}");
    {
        gwt_resp_t r;

        req("POST", SUBS, AUTH_B, body, &r);
        ASSERT_EQ(r.status, 400);
        ASSERT(strstr(r.body, "\"code\":\"WEBHOOK_TARGET_UNRESOLVABLE\","
                      "\"field\":\"url\",\"message\":\"cannot resolve host "
                      "no-such-host.invalid: ") != NULL);
        gwt_resp_free(&r);
    }
    expect("GET", SUBS, AUTH_B, NULL, 200, "{\"value\":[]}");
    finish();
}

TEST_IMPL(private_targets_refused)
{
    static const char *const urls[] = {
        "http://127.0.0.1:9/hook", "http://localhost:8080/",
        "http://[::1]:9/", "http://[::ffff:192.168.1.1]/",
        "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/",
        "http://10.0.0.1/", "http://[fd00::1]/", "http://[fe80::1]/",
    };
    char body[512], dir[1100];
    gwt_resp_t r;
    size_t i;
    DIR *d;
    struct dirent *de;
    int files = 0;

    start("webhook_allow_private_targets no\n");
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        snprintf(body, sizeof(body), "{\"url\":\"%s\",\"secret\":\"" SECRET
                 "\"}", urls[i]);
        req("POST", SUBS, AUTH_B, body, &r);
        if (r.status != 400 ||
            strstr(r.body, "{\"error\":{\"code\":\"WEBHOOK_TARGET_FORBIDDEN"
                   "\",\"field\":\"url\",\"message\":\"host ") == NULL ||
            strstr(r.body, "(webhook_allow_private_targets is no)") == NULL)
            TEST__FAIL("%s: %ld %s", urls[i], r.status, r.body);
        gwt_resp_free(&r);
    }
    expect("POST", SUBS, AUTH_B, "{\"url\":\"http://127.0.0.1:9/\","
           "\"secret\":\"" SECRET "\"}", 400,
           "{\"error\":{\"code\":\"WEBHOOK_TARGET_FORBIDDEN\",\"field\":"
           "\"url\",\"message\":\"host 127.0.0.1 resolves to 127.0.0.1, in "
           "the loopback range; webhook targets must be public "
           "(webhook_allow_private_targets is no)\"}}");
    /* Nothing was stored. */
    snprintf(dir, sizeof(dir), "%s/webhooks", state);
    d = opendir(dir);
    ASSERT_NOT_NULL(d);
    while ((de = readdir(d)) != NULL)
        files += de->d_name[0] != '.';
    closedir(d);
    ASSERT_EQ(files, 0);
    finish();
}

TEST_IMPL(crud_and_ownership)
{
    char url[256], path[256], file[1200], loc[256], want[1024];
    uint64_t s2;
    gwt_resp_t r;
    json_t *o, *v;
    const char *id;
    struct stat st;
    FILE *fp;
    char text[4096];
    size_t n;

    start(NULL);
    publish("MLS", "Active");
    s2 = publish("MLS", "Active");
    snprintf(url, sizeof(url), "http://127.0.0.1:9/hook");
    req("POST", SUBS, AUTH_B, "{\"url\":\"http://127.0.0.1:9/hook\","
        "\"secret\":\"" SECRET "\",\"filter\":{\"System\":\"MLS\"}}", &r);
    ASSERT_EQ(r.status, 201);
    ASSERT(strstr(r.body, SECRET) == NULL);
    ASSERT(strstr(r.body, "secret") == NULL);
    o = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(o);
    id = json_string_value(json_object_get(o, "id"));
    ASSERT_EQ(gw_webhook_id_valid(id), 1);
    snprintf(path, sizeof(path), SUBS "/%s", id);
    ASSERT_STR_EQ(gwt_header(&r, "Location", loc, sizeof(loc)), path);
    /* The whole answer; only id and created vary. */
    snprintf(want, sizeof(want), "{\"id\":\"%s\",\"url\":\"%s\",\"filter\":"
             "{\"System\":[\"MLS\"]},\"after\":%llu,\"created\":\"%s\","
             "\"identity\":\"Brokerage\",\"delivery\":{\"acknowledged\":%llu,"
             "\"caught_up\":false,\"failures\":0}}", id, url,
             (unsigned long long)s2,
             json_string_value(json_object_get(o, "created")),
             (unsigned long long)s2);
    ASSERT_STR_EQ(r.body, want);
    gwt_resp_free(&r);
    /* The record file holds the secret, readable by the owner only. */
    snprintf(file, sizeof(file), "%s/webhooks/%s.json", state, id);
    ASSERT_EQ(stat(file, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    fp = fopen(file, "r");
    ASSERT_NOT_NULL(fp);
    n = fread(text, 1, sizeof(text) - 1, fp);
    text[n] = '\0';
    fclose(fp);
    ASSERT(strstr(text, SECRET) != NULL);
    /* Listing: the owner sees it, without secret; MLS sees nothing. */
    req("GET", SUBS, AUTH_B, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(strstr(r.body, SECRET) == NULL);
    v = json_loads(r.body, 0, NULL);
    ASSERT_EQ(json_array_size(json_object_get(v, "value")), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(
                      json_object_get(v, "value"), 0), "id")), id);
    json_decref(v);
    gwt_resp_free(&r);
    expect("GET", SUBS, AUTH_M, NULL, 200, "{\"value\":[]}");
    snprintf(want, sizeof(want), "{\"error\":{\"code\":\"FORBIDDEN\","
             "\"field\":\"id\",\"message\":\"subscription %s belongs to "
             "another identity\"}}", id);
    expect("GET", path, AUTH_M, NULL, 403, want);
    expect("DELETE", path, AUTH_M, NULL, 403, want);
    expect("GET", SUBS "/sub-00000000000000000000000000000000", AUTH_B,
           NULL, 404, "{\"error\":{\"code\":\"NOT_FOUND\",\"field\":\"id\","
           "\"message\":\"no subscription "
           "sub-00000000000000000000000000000000\"}}");
    expect("GET", SUBS "/..%2Fetc", AUTH_B, NULL, 404, NULL);
    ASSERT_EQ(metric("webhook_subscriptions"), 1);
    expect("DELETE", path, AUTH_B, NULL, 204, "");
    expect("GET", path, AUTH_B, NULL, 404, NULL);
    expect("DELETE", path, AUTH_B, NULL, 404, NULL);
    ASSERT_NE(stat(file, &st), 0);
    expect("GET", SUBS, AUTH_B, NULL, 200, "{\"value\":[]}");
    ASSERT_EQ(metric("webhook_subscriptions"), 0);
    json_decref(o);
    finish();
}

/* ------------------------------------------------------------------ */
/* Delivery                                                           */
/* ------------------------------------------------------------------ */

TEST_IMPL(delivery_in_order_signed)
{
    uint64_t seq[7];
    char url[256], src[300], file[1200], id[64];
    whr_t *w = whr_start(SECRET, BATCH);
    whr_req_t *q;
    whr_event_t *ev;
    size_t requests, bad, ok, n, i, events = 0;
    gw_webhook_rec_t rec;
    const char *id2;
    json_t *o;
    hlf_error_t e;

    start(NULL);
    publish("MLS", "Active"); /* before: not delivered */
    whr_url(w, "/hook", url, sizeof(url));
    snprintf(id, sizeof(id), "%s", create(AUTH_B, url, NULL));
    for (i = 0; i < 7; i++)
        seq[i] = publish("MLS", i % 2 ? "Closed" : "Active");
    expect_events(w, seq, 7);
    whr_counts(w, &requests, &bad, &ok);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(requests, ok);
    ASSERT_GE(ok, 3); /* 7 events, at most 3 per push */
    q = whr_requests(w, &n);
    for (i = 0; i < n; i++) {
        ASSERT_LE(q[i].nevents, BATCH);
        ASSERT_EQ(q[i].status, 200);
        if (i > 0)
            ASSERT(strcmp(q[i].delivery, q[i - 1].delivery) != 0);
        events += q[i].nevents;
    }
    ASSERT_EQ(events, 7);
    free(q);
    whr_last_headers(w, src, sizeof(src));
    ASSERT_STR_EQ(src, "reso-ledger:default");
    /* The Event is the stored event, field for field. */
    ev = whr_events(w, &n);
    {
        char *t = json_dumps(ev[1].event, JSON_COMPACT);
        char want[512];

        snprintf(want, sizeof(want), "{\"TransactionId\":\"tid-%llu\","
                 "\"EventSubject\":\"US-%llu\",\"System\":\"MLS\","
                 "\"SubjectType\":\"Property\",\"Entity\":\"Listing\","
                 "\"Event\":\"Listed\",\"State\":\"Closed\",\"Recorder\":"
                 "\"urn:test\"}", (unsigned long long)GW_SEQ_BLOCK(seq[1]),
                 (unsigned long long)GW_SEQ_BLOCK(seq[1]));
        ASSERT_STR_EQ(t, want);
        free(t);
    }
    /* Without public_url, links name the listen address. */
    for (i = 0; i < n; i++) {
        char want[256];

        snprintf(want, sizeof(want), "http://127.0.0.1:%d/v1/events/"
                 "tid-%llu", port,
                 (unsigned long long)GW_SEQ_BLOCK(ev[i].seq));
        ASSERT_STR_EQ(ev[i].url, want);
    }
    whr_events_free(ev, n);
    /* Checkpoint: in GET and in the file. */
    gwt_sleep_ms(100);
    o = get_sub(id);
    ASSERT_EQ(delivery_int(o, "acknowledged"), seq[6]);
    ASSERT(json_is_true(json_object_get(json_object_get(o, "delivery"),
                                        "caught_up")));
    ASSERT_EQ(delivery_int(o, "last_status"), 200);
    json_decref(o);
    snprintf(file, sizeof(file), "%s/webhooks/%s.json", state, id);
    ASSERT_EQ(gw_webhook_rec_load(file, &rec, &e), HLF_OK);
    ASSERT_EQ(rec.acked, seq[6]);
    gw_webhook_rec_clear(&rec);
    ASSERT_EQ(wait_metric("webhook_deliveries_total{outcome=\"success\"}",
                          (double)ok), (double)ok);
    ASSERT_EQ(metric("webhook_lag"), 0);
    /* An explicit start position: from the ring, exactly the rest. */
    {
        whr_t *w2 = whr_start(SECRET, BATCH);
        char extra[64];

        whr_url(w2, "/other", url, sizeof(url));
        snprintf(extra, sizeof(extra), "\"after\":%llu",
                 (unsigned long long)seq[3]);
        id2 = create(AUTH_B, url, extra);
        ASSERT(strcmp(id, id2) != 0);
        expect_events(w2, seq + 4, 3);
        whr_stop(w2);
    }
    finish();
    whr_stop(w);
}

TEST_IMPL(filter_respected)
{
    uint64_t want[4];
    char url[256];
    whr_t *w = whr_start(SECRET, BATCH);
    size_t k = 0;

    start(NULL);
    whr_url(w, "/f", url, sizeof(url));
    create(AUTH_B, url, "\"filter\":{\"System\":\"MLS\",\"State\":"
           "[\"Closed\",\"Pending\"]}");
    publish("MLS", "Active");
    want[k++] = publish("MLS", "Closed");
    publish("AMS", "Closed");
    want[k++] = publish("MLS", "Pending");
    publish("MLS", "Active");
    publish("AMS", "Pending");
    want[k++] = publish("MLS", "Closed");
    want[k++] = publish("MLS", "Closed");
    expect_events(w, want, k);
    /* Nothing else trickles in. */
    gwt_sleep_ms(300);
    ASSERT_EQ(whr_unique(w), k);
    finish();
    whr_stop(w);
}

/* 429 with Retry-After in seconds, then 503 with an HTTP-date. */
TEST_IMPL(retry_after_honoured)
{
    uint64_t seq[2];
    char url[256], date[64];
    whr_t *w = whr_start(SECRET, BATCH);
    whr_req_t *q;
    size_t n;
    json_t *o;
    const char *id;
    time_t t;
    struct tm tm;

    start(NULL);
    whr_url(w, "/ra", url, sizeof(url));
    id = create(AUTH_B, url, NULL);
    whr_plan(w, 429, "1", 2, 0);
    seq[0] = publish("MLS", "Active");
    ASSERT_EQ(whr_wait_requests(w, 1, 5000), 1);
    gwt_sleep_ms(200);
    o = get_sub(id);
    ASSERT_EQ(delivery_int(o, "failures"), 1);
    ASSERT_EQ(delivery_int(o, "last_status"), 429);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(
                      o, "delivery"), "last_error")),
                  "HTTP 429, Retry-After 1");
    ASSERT_EQ(delivery_int(o, "acknowledged"), 0);
    json_decref(o);
    expect_events(w, seq, 1);
    q = whr_requests(w, &n);
    ASSERT_EQ(n, 3);
    ASSERT_EQ(q[0].status, 429);
    ASSERT_EQ(q[1].status, 429);
    ASSERT_EQ(q[2].status, 200);
    ASSERT_GE(q[1].at_ms - q[0].at_ms, 950);
    ASSERT_GE(q[2].at_ms - q[1].at_ms, 950);
    /* One batch: the same delivery id on every attempt. */
    ASSERT_STR_EQ(q[0].delivery, q[1].delivery);
    ASSERT_STR_EQ(q[1].delivery, q[2].delivery);
    free(q);
    ASSERT_EQ(wait_metric("webhook_deliveries_total{outcome=\"success\"}",
                          1), 1);
    ASSERT_EQ(metric("webhook_deliveries_total{outcome=\"throttled\"}"), 2);
    ASSERT_EQ(metric("webhook_retries_total"), 2);
    /* An HTTP-date two seconds ahead: at least a second's wait. */
    t = time(NULL) + 2;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    whr_plan(w, 503, date, 1, 0);
    seq[1] = publish("MLS", "Active");
    ASSERT_EQ(whr_wait_unique(w, 2, 8000), 2);
    q = whr_requests(w, &n);
    ASSERT_EQ(n, 5);
    ASSERT_EQ(q[3].status, 503);
    ASSERT_EQ(q[4].status, 200);
    ASSERT_GE(q[4].at_ms - q[3].at_ms, 950);
    free(q);
    ASSERT_EQ(metric("webhook_deliveries_total{outcome=\"throttled\"}"), 3);
    finish();
    whr_stop(w);
}

/* 500 without Retry-After: exponential backoff capped at 400 ms. */
TEST_IMPL(backoff_after_errors)
{
    uint64_t seq;
    char url[256];
    whr_t *w = whr_start(SECRET, BATCH);
    whr_req_t *q;
    size_t n, i;

    start(NULL);
    whr_url(w, "/err", url, sizeof(url));
    create(AUTH_B, url, NULL);
    whr_plan(w, 500, NULL, 4, 0);
    seq = publish("MLS", "Active");
    expect_events(w, &seq, 1);
    q = whr_requests(w, &n);
    ASSERT_EQ(n, 5);
    /* Waits: [125, 250], then [200, 400] (capped), never longer. */
    ASSERT_GE(q[1].at_ms - q[0].at_ms, 120);
    for (i = 2; i < n; i++)
        ASSERT_GE(q[i].at_ms - q[i - 1].at_ms, 195);
    for (i = 1; i < n; i++)
        ASSERT_LE(q[i].at_ms - q[i - 1].at_ms, 900);
    free(q);
    ASSERT_EQ(wait_metric("webhook_deliveries_total{outcome=\"success\"}",
                          1), 1);
    ASSERT_EQ(metric("webhook_deliveries_total{outcome=\"rejected\"}"), 4);
    ASSERT_EQ(metric("webhook_retries_total"), 4);
    finish();
    whr_stop(w);
}

/* A receiver slower than webhook_timeout_ms: abandoned, then retried. */
TEST_IMPL(slow_receiver_abandoned)
{
    uint64_t seq;
    char url[256];
    whr_t *w = whr_start(SECRET, BATCH);
    whr_req_t *q;
    size_t n;
    int64_t t0;

    start(NULL);
    whr_url(w, "/slow", url, sizeof(url));
    create(AUTH_B, url, NULL);
    whr_plan(w, 200, NULL, 1, 1800);
    t0 = mono_ms();
    seq = publish("MLS", "Active");
    ASSERT_EQ(whr_wait_requests(w, 2, 8000), 2);
    ASSERT_EQ(whr_wait_unique(w, 1, 5000), 1);
    q = whr_requests(w, &n);
    ASSERT_GE(n, 2);
    /* The second attempt came after the 1 s timeout, not after 1.8 s. */
    ASSERT_GE(q[1].at_ms - q[0].at_ms, 1000);
    ASSERT_LE(q[1].at_ms - t0, 1700);
    ASSERT_STR_EQ(q[0].delivery, q[1].delivery);
    free(q);
    ASSERT_EQ(wait_metric("webhook_deliveries_total{outcome=\"timeout\"}",
                          1), 1);
    (void)seq;
    finish();
    whr_stop(w);
}

/* Restart: resume after the checkpoint, nothing lost or repeated. */
TEST_IMPL(restart_resumes_from_checkpoint)
{
    uint64_t seq[6];
    char url[256], id[64], path[128];
    whr_t *w = whr_start(SECRET, BATCH);
    int i;

    start(NULL);
    whr_url(w, "/r", url, sizeof(url));
    snprintf(id, sizeof(id), "%s", create(AUTH_B, url, NULL));
    for (i = 0; i < 3; i++)
        seq[i] = publish("MLS", "Active");
    expect_events(w, seq, 3);
    gwt_sleep_ms(100);
    stop();
    /* Committed while the gateway was down. */
    for (i = 3; i < 6; i++)
        seq[i] = publish("MLS", "Active");
    start(NULL);
    snprintf(path, sizeof(path), SUBS "/%s", id);
    expect("GET", path, AUTH_B, NULL, 200, NULL);
    expect_events(w, seq, 6);
    finish();
    whr_stop(w);
}

/*
 * A crash between a receiver's 2xx and the checkpoint write (the record
 * file still holds an older checkpoint): the batch comes again; after
 * dedup by sequence every event is there exactly once, none skipped.
 */
TEST_IMPL(crash_before_checkpoint_redelivers)
{
    uint64_t seq[5];
    char url[256], id[64], file[1200], tmp[1300];
    whr_t *w = whr_start(SECRET, BATCH);
    whr_event_t *ev;
    gw_webhook_rec_t rec;
    hlf_error_t e;
    size_t n, i, j, seen;
    FILE *fp;

    start(NULL);
    whr_url(w, "/c", url, sizeof(url));
    snprintf(id, sizeof(id), "%s", create(AUTH_B, url, NULL));
    for (i = 0; i < 4; i++)
        seq[i] = publish("MLS", "Active");
    expect_events(w, seq, 4);
    gwt_sleep_ms(100);
    stop();
    snprintf(file, sizeof(file), "%s/webhooks/%s.json", state, id);
    ASSERT_EQ(gw_webhook_rec_load(file, &rec, &e), HLF_OK);
    ASSERT_EQ(rec.acked, seq[3]);
    rec.acked = seq[1];
    snprintf(tmp, sizeof(tmp), "%s/webhooks", state);
    ASSERT_EQ(gw_webhook_rec_save(tmp, &rec, &e), HLF_OK);
    gw_webhook_rec_clear(&rec);
    /* And the temporary file a crash mid-write leaves: ignored, removed. */
    snprintf(tmp, sizeof(tmp), "%s/webhooks/.%s.json.tmp.99999", state, id);
    fp = fopen(tmp, "w");
    ASSERT_NOT_NULL(fp);
    fputs("{\"version\":1,", fp);
    fclose(fp);
    start(NULL);
    seq[4] = publish("MLS", "Active");
    ASSERT_EQ(whr_wait_unique(w, 5, 10000), 5);
    gwt_sleep_ms(200);
    ASSERT_NULL(fopen(tmp, "r"));
    ev = whr_events(w, &n);
    ASSERT_EQ(n, 7); /* 1 2 3 4, then 3 4 again, then 5 */
    for (i = 0; i < 5; i++) {
        for (seen = 0, j = 0; j < n; j++)
            seen += ev[j].seq == seq[i];
        ASSERT_EQ(seen, i == 2 || i == 3 ? 2 : 1);
    }
    ASSERT_EQ(ev[4].seq, seq[2]);
    ASSERT_EQ(ev[5].seq, seq[3]);
    ASSERT_EQ(ev[6].seq, seq[4]);
    whr_events_free(ev, n);
    finish();
    whr_stop(w);
}

TEST_IMPL(delete_stops_deliveries)
{
    uint64_t seq;
    char url[256], path[128];
    whr_t *w = whr_start(SECRET, BATCH);
    size_t requests, bad, ok;

    start(NULL);
    whr_url(w, "/d", url, sizeof(url));
    snprintf(path, sizeof(path), SUBS "/%s", create(AUTH_B, url, NULL));
    seq = publish("MLS", "Active");
    expect_events(w, &seq, 1);
    expect("DELETE", path, AUTH_B, NULL, 204, "");
    publish("MLS", "Active");
    publish("MLS", "Active");
    gwt_sleep_ms(500);
    whr_counts(w, &requests, &bad, &ok);
    ASSERT_EQ(requests, 1);
    finish();
    whr_stop(w);
}

/*
 * The address check runs again at connect time: a stored subscription
 * to loopback is not delivered once private targets are disallowed.
 */
TEST_IMPL(connect_time_address_check)
{
    char url[256], id[64];
    whr_t *w = whr_start(SECRET, BATCH);
    size_t requests, bad, ok;
    json_t *o;
    const char *err;

    start(NULL);
    whr_url(w, "/x", url, sizeof(url));
    snprintf(id, sizeof(id), "%s", create(AUTH_B, url, NULL));
    stop();
    start("webhook_allow_private_targets no\n");
    publish("MLS", "Active");
    ASSERT_GE(wait_metric("webhook_deliveries_total{outcome=\"refused\"}",
                          2), 2);
    whr_counts(w, &requests, &bad, &ok);
    ASSERT_EQ(requests, 0);
    o = get_sub(id);
    err = json_string_value(json_object_get(json_object_get(o, "delivery"),
                                            "last_error"));
    ASSERT_NOT_NULL(err);
    ASSERT(strstr(err, "refused to connect to 127.0.0.1 (loopback range)")
           != NULL);
    json_decref(o);
    finish();
    whr_stop(w);
}

/* public_url (trailing '/' dropped) is the base of ResourceRecordUrl. */
TEST_IMPL(links_use_public_url)
{
    char url[256], want[256];
    whr_t *w = whr_start(SECRET, BATCH);
    whr_event_t *ev;
    uint64_t seq[2];
    size_t n;

    start("webhook_allow_private_targets yes\n"
          "public_url https://reso.example:8443/gw/\n");
    whr_url(w, "/pub", url, sizeof(url));
    (void)create(AUTH_B, url, NULL);
    seq[0] = publish("MLS", "Active");
    seq[1] = publish("MLS", "Closed");
    expect_events(w, seq, 2);
    ev = whr_events(w, &n);
    ASSERT_EQ(n, 2);
    snprintf(want, sizeof(want), "https://reso.example:8443/gw/v1/events/"
             "tid-%llu", (unsigned long long)GW_SEQ_BLOCK(seq[1]));
    ASSERT_STR_EQ(ev[1].url, want);
    whr_events_free(ev, n);
    stop();
    whr_stop(w);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(links_use_public_url),
    TEST_ENTRY(rest_validation),
    TEST_ENTRY(private_targets_refused),
    TEST_ENTRY(crud_and_ownership),
    TEST_ENTRY(delivery_in_order_signed),
    TEST_ENTRY(filter_respected),
    TEST_ENTRY(retry_after_honoured),
    TEST_ENTRY(backoff_after_errors),
    TEST_ENTRY(slow_receiver_abandoned),
    TEST_ENTRY(restart_resumes_from_checkpoint),
    TEST_ENTRY(crash_before_checkpoint_redelivers),
    TEST_ENTRY(delete_stops_deliveries),
    TEST_ENTRY(connect_time_address_check),
};

TEST_MAIN(tests)
