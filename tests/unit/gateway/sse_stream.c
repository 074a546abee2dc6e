/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of GET /v1/stream (gateway/src/sse.c) over real HTTP on
 * 127.0.0.1, with a raw-socket SSE client: the exact framing and
 * headers, live events in order, filters (OR within a parameter, AND
 * across), resume with after= and Last-Event-ID (which wins), resume from
 * older than the ring, heartbeats, every 400 and the 401, the client
 * limit, a slow client dropped with a final comment while a fast one gets
 * everything (and resumes exactly afterwards), the shutdown comment, the
 * sse_* metrics, and slots freed at once by clients that hang up on idle
 * streams (a reconnect wave right after a mass close).
 */
#include "hub_fixture.h"
#include "sse_client.h"
#include "task.h"

#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Reading events                                                     */
/* ------------------------------------------------------------------ */

/* Read n events; their ids into ids. */
static void
sse_ids(sse_t *c, int n, uint64_t *ids)
{
    int i;

    for (i = 0; i < n; i++) {
        char *b = sse_event(c, 5000, &ids[i]);

        if (b == NULL)
            TEST__FAIL("event %d of %d did not arrive", i + 1, n);
        ASSERT(strstr(b, "\nevent: reso.event\ndata: {") != NULL);
        free(b);
    }
}

/* No event arrives within ms. */
static void
sse_quiet(sse_t *c, int ms)
{
    uint64_t id;
    char *b = sse_event(c, ms, &id);

    if (b != NULL)
        TEST__FAIL("unexpected event: %s", b);
}

/* ids == hf_seq(first .. first + n), in order. */
static void
assert_ids(const uint64_t *ids, int n, int first)
{
    int i;

    for (i = 0; i < n; i++)
        if (ids[i] != hf_seq(first + i))
            TEST__FAIL("event %d: id %llu, want %llu", i,
                       (unsigned long long)ids[i],
                       (unsigned long long)hf_seq(first + i));
}

/* Wait until the hub has n subscribers. */
static void
wait_subscribers(size_t n)
{
    gw_hub_stats_t st;
    int i;

    for (i = 0; i < 500; i++) {
        gw_hub_stats(hf_hub(), &st);
        if (st.subscribers == n)
            return;
        gwt_sleep_ms(10);
    }
    TEST__FAIL("hub has %zu subscribers, want %zu", st.subscribers, n);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

TEST_IMPL(framing_and_headers)
{
    int port = hf_start(64, NULL);
    char *b, want[2048];
    sse_t c;

    hf_publish(0, 0);
    hf_publish(1, 0);
    sse_open(&c, port, "/v1/stream?after=0", NULL, 0, HF_AUTH);
    ASSERT_EQ(c.status, 200);
    ASSERT(strstr(c.headers, "Content-Type: text/event-stream\r\n") != NULL);
    ASSERT(strstr(c.headers, "Cache-Control: no-cache\r\n") != NULL);
    /* First the hello: a comment and the reconnect delay. */
    b = sse_block(&c, 5000);
    ASSERT_STR_EQ(b, ": ok\nretry: 1000");
    free(b);
    b = sse_block(&c, 5000);
    ASSERT_STR_EQ(b, "id: 65536\nevent: reso.event\ndata: "
                     "{\"sequence\":65536,\"block\":1,\"tx_index\":0,"
                     "\"txid\":\"tx-0\",\"TransactionId\":\"id-0\","
                     "\"EventSubject\":\"US-0\",\"System\":"
                     "\"Property Listing Service\",\"SubjectType\":"
                     "\"Property\",\"Entity\":\"Broker\",\"Event\":"
                     "\"Listing\",\"State\":\"Recorded\",\"Recorder\":\"r0\","
                     "\"Timestamp\":\"t\",\"Version\":\"1.3\",\"Application\":"
                     "\"a\",\"recorded_by\":\"BrokerageMSP\"}");
    free(b);
    snprintf(want, sizeof(want), "id: %llu\nevent: reso.event\ndata: "
             "{\"sequence\":%llu,\"block\":2,\"tx_index\":1,",
             (unsigned long long)hf_seq(1), (unsigned long long)hf_seq(1));
    b = sse_block(&c, 5000);
    ASSERT_NOT_NULL(b);
    ASSERT_EQ(strncmp(b, want, strlen(want)), 0);
    /* One data line: the JSON has no raw newline. */
    ASSERT_NULL(strchr(strstr(b, "data: "), '\n'));
    free(b);
    sse_close(&c);
    hf_stop();
}

TEST_IMPL(live_in_commit_order)
{
    int port = hf_start(64, NULL);
    uint64_t ids[50];
    sse_t a, b;
    int i;

    sse_open(&a, port, "/v1/stream", NULL, 0, HF_AUTH);
    sse_open(&b, port, "/v1/stream", NULL, 0, HF_AUTH);
    wait_subscribers(2);
    for (i = 0; i < 50; i++)
        hf_publish(i, 0);
    sse_ids(&a, 50, ids);
    assert_ids(ids, 50, 0);
    sse_ids(&b, 50, ids);
    assert_ids(ids, 50, 0);
    sse_quiet(&a, 100);
    sse_close(&a);
    sse_close(&b);
    hf_stop();
}

TEST_IMPL(filters)
{
    int port = hf_start(64, NULL);
    uint64_t ids[64];
    sse_t or1, and1, rec;
    int i;

    /* State Closed or Active: i % 3 in {1, 2}. */
    sse_open(&or1, port, "/v1/stream?State=Closed&State=Active", NULL, 0,
             HF_AUTH);
    /* ... and EventSubject US-1 (i % 5 == 1): i in 1, 11, 16, 26. */
    sse_open(&and1, port, "/v1/stream?State=Closed&State=Active"
                          "&EventSubject=US-1", NULL, 0, HF_AUTH);
    /* Recorder r1 (odd i) and a lookup value with a space, encoded. */
    sse_open(&rec, port, "/v1/stream?Recorder=r1&System=Property%20Listing"
                         "%20Service&Entity=Broker&Event=Listing"
                         "&SubjectType=Property", NULL, 0, HF_AUTH);
    wait_subscribers(3);
    for (i = 0; i < 30; i++)
        hf_publish(i, 0);
    sse_ids(&or1, 20, ids);
    for (i = 0; i < 20; i++) {
        int k = i / 2 * 3 + 1 + i % 2; /* 1, 2, 4, 5, 7, ... */

        ASSERT_EQ(ids[i], hf_seq(k));
    }
    sse_quiet(&or1, 50);
    sse_ids(&and1, 4, ids);
    ASSERT_EQ(ids[0], hf_seq(1));
    ASSERT_EQ(ids[1], hf_seq(11));
    ASSERT_EQ(ids[2], hf_seq(16));
    ASSERT_EQ(ids[3], hf_seq(26));
    sse_quiet(&and1, 50);
    sse_ids(&rec, 15, ids);
    for (i = 0; i < 15; i++)
        ASSERT_EQ(ids[i], hf_seq(2 * i + 1));
    sse_quiet(&rec, 50);
    sse_close(&or1);
    sse_close(&and1);
    sse_close(&rec);
    hf_stop();
}

TEST_IMPL(resume_after_and_last_event_id)
{
    int port = hf_start(8, NULL);
    uint64_t ids[64];
    char hdr[64], path[64];
    sse_t c;
    int i;

    for (i = 0; i < 30; i++)
        hf_publish(i, 0);
    /* From the ring (it holds 22..29). */
    snprintf(path, sizeof(path), "/v1/stream?after=%llu",
             (unsigned long long)hf_seq(24));
    sse_open(&c, port, path, NULL, 0, HF_AUTH);
    sse_ids(&c, 5, ids);
    assert_ids(ids, 5, 25);
    sse_quiet(&c, 50);
    sse_close(&c);
    /* Last-Event-ID wins over after; older than the ring: replayed. */
    snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu",
             (unsigned long long)hf_seq(3));
    sse_open(&c, port, path, hdr, 0, HF_AUTH);
    sse_ids(&c, 26, ids);
    assert_ids(ids, 26, 4);
    ASSERT_GE(hf_replays(), 1);
    /* Then live. */
    hf_publish(30, 0);
    sse_ids(&c, 1, ids);
    assert_ids(ids, 1, 30);
    sse_quiet(&c, 50);
    sse_close(&c);
    hf_stop();
}

TEST_IMPL(heartbeats)
{
    int port = hf_start(8, "sse_heartbeat_ms 100\n");
    char *b;
    sse_t c;
    int i;

    sse_open(&c, port, "/v1/stream", NULL, 0, HF_AUTH);
    b = sse_block(&c, 5000);
    ASSERT_STR_EQ(b, ": ok\nretry: 1000");
    free(b);
    for (i = 0; i < 3; i++) {
        int64_t t0 = gw_now_ms();

        b = sse_block(&c, 2000);
        ASSERT_STR_EQ(b, ": heartbeat");
        free(b);
        ASSERT_LE(gw_now_ms() - t0, 400);
    }
    sse_close(&c);
    hf_stop();
}

TEST_IMPL(bad_requests)
{
    static const struct {
        const char *path, *hdr, *field;
    } cases[] = {
        {"/v1/stream?Colour=red", NULL, "Colour"},
        {"/v1/stream?state=Closed", NULL, "state"},
        {"/v1/stream?after=abc", NULL, "after"},
        {"/v1/stream?after=-1", NULL, "after"},
        {"/v1/stream?after=9223372036854775808", NULL, "after"},
        {"/v1/stream?after=", NULL, "after"},
        {"/v1/stream?State=", NULL, "State"},
        {"/v1/stream", "Last-Event-ID: 12x", "Last-Event-ID"},
        {"/v1/stream", "Last-Event-ID: -5", "Last-Event-ID"},
    };
    int port = hf_start(8, NULL);
    gwt_resp_t r;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *h[] = {HF_AUTH, cases[i].hdr, NULL};
        gwt_opts_t o;
        json_t *j;

        memset(&o, 0, sizeof(o));
        o.headers = h;
        gwt_http("GET", port, cases[i].path, &o, &r);
        if (r.status != 400)
            TEST__FAIL("%s: status %ld", cases[i].path, r.status);
        j = json_loads(r.body, 0, NULL);
        ASSERT_NOT_NULL(j);
        ASSERT_STR_EQ(json_string_value(json_object_get(
                          json_object_get(j, "error"), "code")),
                      "BAD_REQUEST");
        ASSERT_STR_EQ(json_string_value(json_object_get(
                          json_object_get(j, "error"), "field")),
                      cases[i].field);
        json_decref(j);
        gwt_resp_free(&r);
    }
    gwt_http("GET", port, "/v1/stream", NULL, &r);
    ASSERT_EQ(r.status, 401);
    ASSERT(strstr(r.body, "\"UNAUTHORIZED\"") != NULL);
    gwt_resp_free(&r);
    wait_subscribers(0);
    hf_stop();
}

TEST_IMPL(client_limit)
{
    /* A client that leaves an idle (parked) stream is noticed at the
     * next write: the heartbeat. */
    int port = hf_start(8, "sse_max_clients 2\nsse_heartbeat_ms 100\n");
    sse_t a, b, c;
    char *blk;

    sse_open(&a, port, "/v1/stream", NULL, 0, HF_AUTH);
    sse_open(&b, port, "/v1/stream", NULL, 0, HF_AUTH);
    sse_open(&c, port, "/v1/stream", NULL, 0, HF_AUTH);
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(b.status, 200);
    ASSERT_EQ(c.status, 503);
    while (sse_fill(&c, 2000) > 0)
        ;
    ASSERT(strstr(c.buf, "\"SERVICE_UNAVAILABLE\"") != NULL);
    ASSERT(strstr(c.buf, "sse_max_clients 2") != NULL);
    sse_close(&c);
    /* A slot frees when a client leaves. */
    sse_close(&a);
    wait_subscribers(1);
    sse_open(&c, port, "/v1/stream", NULL, 0, HF_AUTH);
    ASSERT_EQ(c.status, 200);
    blk = sse_block(&c, 5000);
    ASSERT_STR_EQ(blk, ": ok\nretry: 1000");
    free(blk);
    sse_close(&b);
    sse_close(&c);
    hf_stop();
}

TEST_IMPL(slow_client_dropped)
{
    int port = hf_start(20000, "sse_queue_events 4\n");
    uint64_t *ids = calloc(20000, sizeof(*ids)), id;
    gw_hub_stats_t st;
    char *b, *last_comment = NULL, *m, hdr[64];
    sse_t slow, fast;
    int i, n = 0, published = 0;

    ASSERT_NOT_NULL(ids);
    sse_open(&slow, port, "/v1/stream", NULL, 4096, HF_AUTH);
    sse_open(&fast, port, "/v1/stream", NULL, 0, HF_AUTH);
    wait_subscribers(2);
    /* Both read the first event, so the slow client's prefix is never
     * empty however late its connection gets its first write. */
    hf_publish(0, 16);
    published++;
    b = sse_event(&fast, 5000, &ids[n]);
    ASSERT_NOT_NULL(b);
    free(b);
    n++;
    b = sse_event(&slow, 5000, &id);
    ASSERT_NOT_NULL(b);
    free(b);
    ASSERT_EQ(id, ids[0]);
    /* 4 KiB events until the hub gives up on the client that does not
     * read; the fast one reads as they come. */
    for (i = 1; i < 20000; i++) {
        hf_publish(i, 4096);
        published++;
        /* The fast client keeps up: it has each event before the next. */
        b = sse_event(&fast, 5000, &ids[n]);
        ASSERT_NOT_NULL(b);
        free(b);
        n++;
        gw_hub_stats(hf_hub(), &st);
        if (st.dropped == 1)
            break;
    }
    ASSERT_EQ(st.dropped, 1);
    /* The fast client got everything, in order, and still does. */
    hf_publish(published, 0);
    published++;
    while (n < published) {
        b = sse_event(&fast, 5000, &ids[n]);
        ASSERT_NOT_NULL(b);
        free(b);
        n++;
    }
    assert_ids(ids, n, 0);
    /* The slow one reads what it was sent: a gapless prefix after the
     * event it already read, then a comment saying it was dropped, then
     * the end of the stream. */
    n = 1; /* ids[0]: the first event, which both clients read */
    for (;;) {
        b = sse_block(&slow, 5000);
        if (b == NULL)
            break;
        if (sscanf(b, "id: %llu", (unsigned long long *)&id) == 1) {
            ids[n++] = id;
            free(b);
        } else {
            free(last_comment);
            last_comment = b;
        }
    }
    ASSERT_EQ(slow.eof, 1);
    ASSERT(n >= 1 && n < published);
    assert_ids(ids, n, 0);
    ASSERT_NOT_NULL(last_comment);
    ASSERT(strstr(last_comment, ": dropped: too slow") == last_comment);
    m = hf_metrics();
    ASSERT(strstr(m, "\nsse_drops_total 1\n") != NULL);
    free(m);
    sse_close(&slow);
    /* Resuming from its last id gets exactly the rest. */
    snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu",
             (unsigned long long)ids[n - 1]);
    sse_open(&slow, port, "/v1/stream", hdr, 0, HF_AUTH);
    {
        int first = n, k;

        for (k = first; k < published; k++) {
            b = sse_event(&slow, 5000, &ids[k]);
            ASSERT_NOT_NULL(b);
            free(b);
        }
        assert_ids(ids + first, published - first, first);
        sse_quiet(&slow, 50);
    }
    free(last_comment);
    free(ids);
    sse_close(&slow);
    sse_close(&fast);
    hf_stop();
}

TEST_IMPL(shutdown_says_so)
{
    int port = hf_start(8, NULL);
    char *b;
    sse_t c;

    sse_open(&c, port, "/v1/stream", NULL, 0, HF_AUTH);
    b = sse_block(&c, 5000);
    free(b);
    wait_subscribers(1);
    gw_sse_shutdown();
    wait_subscribers(0);
    b = sse_block(&c, 5000);
    ASSERT_STR_EQ(b, ": the gateway is shutting down");
    free(b);
    ASSERT_NULL(sse_block(&c, 5000));
    ASSERT_EQ(c.eof, 1);
    sse_close(&c);
    hf_stop();
}

TEST_IMPL(metrics)
{
    int port = hf_start(8, "sse_heartbeat_ms 100\n");
    uint64_t ids[8];
    sse_t a, b;
    char *m;

    sse_open(&a, port, "/v1/stream", NULL, 0, HF_AUTH);
    sse_open(&b, port, "/v1/stream", NULL, 0, HF_AUTH);
    wait_subscribers(2);
    m = hf_metrics();
    ASSERT(strstr(m, "\nsse_clients 2\n") != NULL);
    ASSERT(strstr(m, "# TYPE sse_events_delivered_total counter\n") != NULL);
    free(m);
    hf_publish(0, 0);
    hf_publish(1, 0);
    hf_publish(2, 0);
    sse_ids(&a, 3, ids);
    sse_ids(&b, 3, ids);
    gwt_sleep_ms(50);
    m = hf_metrics();
    ASSERT(strstr(m, "\nsse_events_delivered_total 6\n") != NULL);
    ASSERT(strstr(m, "\nsse_drops_total 0\n") != NULL);
    free(m);
    sse_close(&a);
    wait_subscribers(1);
    gwt_sleep_ms(50);
    m = hf_metrics();
    ASSERT(strstr(m, "\nsse_clients 1\n") != NULL);
    free(m);
    sse_close(&b);
    hf_stop();
}

/* The value of an unlabelled metric in the /metrics text. */
static double
metric_value(const char *name)
{
    char *m = hf_metrics(), key[128], *at;
    double v;

    snprintf(key, sizeof(key), "\n%s ", name);
    at = strstr(m, key);
    if (at == NULL)
        TEST__FAIL("no %s in /metrics", name);
    v = strtod(at + strlen(key), NULL);
    free(m);
    return v;
}

TEST_IMPL(reconnect_wave_after_mass_close)
{
    /* Clients that hang up on idle (parked) streams are noticed at once,
     * not at the next heartbeat (60 s here): a reconnect wave right after
     * a mass close finds every slot free, twice in a row. */
    enum { N = 32 };
    int port = hf_start(64, "sse_max_clients 32\nsse_heartbeat_ms 60000\n");
    sse_t *c = calloc(N, sizeof(*c)), *extra = calloc(1, sizeof(*extra));
    double hangups;
    uint64_t id;
    int i, round;

    ASSERT_NOT_NULL(c);
    ASSERT_NOT_NULL(extra);
    for (round = 0; round < 3; round++) {
        for (i = 0; i < N; i++) {
            sse_open(&c[i], port, "/v1/stream", NULL, 0, HF_AUTH);
            if (c[i].status != 200)
                TEST__FAIL("round %d: client %d got %d", round, i,
                           c[i].status);
        }
        wait_subscribers(N);
        /* Every slot is taken: one more is refused. */
        sse_open(extra, port, "/v1/stream", NULL, 0, HF_AUTH);
        ASSERT_EQ(extra->status, 503);
        sse_close(extra);
        hf_publish(round, 0);
        for (i = 0; i < N; i++) {
            char *b = sse_event(&c[i], 5000, &id);

            if (b == NULL)
                TEST__FAIL("round %d: client %d got no event", round, i);
            ASSERT_EQ(id, hf_seq(round));
            free(b);
        }
        /* Each stream parks once it has sent the event; all leave. */
        for (i = 0; i < N; i++)
            sse_close(&c[i]);
        wait_subscribers(0);
        ASSERT_EQ(metric_value("sse_clients"), 0);
    }
    /* The watcher ended (nearly) all of them; MHD may see a hang-up
     * itself on a stream that was not parked yet. */
    hangups = metric_value("sse_hangups_total");
    ASSERT_GE(hangups, 1);
    ASSERT_LE(hangups, 3 * N);
    free(extra);
    free(c);
    hf_stop();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(framing_and_headers),
    TEST_ENTRY(live_in_commit_order),
    TEST_ENTRY(filters),
    TEST_ENTRY(resume_after_and_last_event_id),
    TEST_ENTRY(heartbeats),
    TEST_ENTRY(bad_requests),
    TEST_ENTRY(client_limit),
    TEST_ENTRY(slow_client_dropped),
    TEST_ENTRY(shutdown_says_so),
    TEST_ENTRY(metrics),
    TEST_ENTRY(reconnect_wave_after_mass_close),
};

TEST_MAIN(tests)
