/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reports module (gateway/src/reports_routes.c) in-process over HTTP
 * next to the real indexer module (indexer.c) and a real pouchdb-server
 * (couchproc): events are published to a test hub as the follower would,
 * the indexer writes them to CouchDB, the reports read them. Covered:
 * search paging while new events arrive (no duplicate, no missing event,
 * in both orders), filters and time ranges, the member activity report
 * newest first, the onboarding dashboard on the RCP-002 fixture, the 400
 * error shapes, 401, and 503 INDEX_UNAVAILABLE + Retry-After with the
 * index disabled and with CouchDB stopped (then 200 again once the
 * indexer caught up).
 */
#include "couchproc.h"
#include "gwtest.h"
#include "hub.h"
#include "index.h"
#include "reports.h"
#include "reports_fixture.h"
#include "task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY "reports-unit-key-0123456789"
#define AUTH "Authorization: Bearer " KEY

static couchproc_t srv;
static gw_config_t *cfg;
static gw_hub_t *hub;
static int port;
static char *state;
static uint64_t last_seq;

/*
 * Publish index documents (takes docs) to the hub as committed events:
 * the stored event is the document without the index's own keys.
 * Sequences must grow across calls.
 */
static void
publish(json_t *docs)
{
    static const char *const own[] = {"_id", "type", "ts", "ts_ns",
                                      "sequence", "block", "tx_index",
                                      "txid"};
    size_t i, k;

    for (i = 0; i < json_array_size(docs); i++) {
        json_t *ev = json_deep_copy(json_array_get(docs, i));
        uint64_t seq = (uint64_t)json_integer_value(
            json_object_get(ev, "sequence"));
        char txid[72], *text;
        gw_event_t *e = NULL;
        hlf_error_t err;

        for (k = 0; k < sizeof(own) / sizeof(own[0]); k++)
            json_object_del(ev, own[k]);
        text = json_dumps(ev, JSON_COMPACT);
        snprintf(txid, sizeof(txid), "%064llx", (unsigned long long)seq);
        if (gw_event_new(seq >> 16, (uint32_t)(seq & 0xffff), txid,
                         "BrokerageMSP", (const uint8_t *)text,
                         strlen(text), &e, &err) != HLF_OK)
            TEST__FAIL("event %s: %s", text, err.text);
        ASSERT_EQ(gw_hub_publish(hub, e), HLF_OK);
        gw_event_unref(e);
        free(text);
        json_decref(ev);
        last_seq = seq;
    }
    json_decref(docs);
}

/* Wait (up to 60 s) until the indexer wrote everything published. */
static void
wait_indexed(void)
{
    gw_index_status_t st;
    int i;

    for (i = 0; i < 600; i++) {
        gw_index_status(&st);
        if (st.checkpoint == last_seq && st.state == GW_INDEX_OK)
            return;
        gwt_sleep_ms(100);
    }
    TEST__FAIL("index checkpoint %llu (%s: %s), want %llu",
               (unsigned long long)st.checkpoint,
               gw_index_state_name(st.state), st.detail,
               (unsigned long long)last_seq);
}

/* Publish and wait until indexed. */
static void
load(json_t *docs)
{
    publish(docs);
    wait_indexed();
}

/*
 * Start pouchdb-server (unless with_couch is 0), a hub, the index and
 * the reports modules; skips when pouchdb-server is not installed.
 */
static void
start_with(int with_couch)
{
    char hash[65], text[2048], couch_line[128] = "";
    int rc;

    memset(&srv, 0, sizeof(srv));
    if (with_couch) {
        rc = couchproc_start(&srv);
        if (rc == COUCHPROC_MISSING)
            RETURN_SKIP("pouchdb-server is not installed "
                        "(scripts/setup.sh)");
        ASSERT_EQ(rc, 0);
        snprintf(couch_line, sizeof(couch_line), "couch_url %s\n",
                 srv.url);
    }
    state = gwt_tmpdir();
    gwt_sha256_hex(KEY, hash);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "state_dir %s\n"
             "access_log no\n"
             "rate_limit_per_key 0\n"
             "retry_after_s 7\n"
             "identity Brokerage BrokerageMSP /nonexistent/b\n"
             "apikey brokerage Brokerage %s\n"
             "index_batch_max 50\n"
             "index_retry_max_ms 200\n"
             "onboarding_stuck_days 30\n"
             "%s",
             state, hash, couch_line);
    cfg = gwt_config(text);
    port = rf_gateway_start(cfg, 4096, &hub);
    last_seq = 0;
}

static void
start(void)
{
    start_with(1);
}

static void
finish(void)
{
    rf_gateway_stop(cfg, hub);
    couchproc_free(&srv);
    gwt_rmrf(state);
    free(state);
}

/* GET path with the API key; status must be want; returns the body. */
static json_t *
get(const char *path, long want)
{
    static const char *const hdrs[] = {AUTH, NULL};
    gwt_opts_t o;
    gwt_resp_t r;
    json_t *body;

    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    o.timeout_ms = 60000;
    gwt_http("GET", port, path, &o, &r);
    ASSERT_EQ(r.curl_rc, 0);
    if (r.status != want)
        fprintf(stderr, "GET %s -> %ld %s\n", path, r.status, r.body);
    ASSERT_EQ(r.status, want);
    body = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(body);
    if (want == 200) {
        char st[128];

        /* Where the time went, for the benchmark. */
        ASSERT_NOT_NULL(gwt_header(&r, "Server-Timing", st, sizeof(st)));
        ASSERT_EQ(strncmp(st, "couch;dur=", 10), 0);
        ASSERT_NOT_NULL(strstr(st, ", gw;dur="));
    }
    gwt_resp_free(&r);
    return body;
}

/* The error code (and field) of an error body; frees it. */
static void
expect_error(json_t *body, const char *code, const char *field)
{
    json_t *err = json_object_get(body, "error");

    ASSERT_STR_EQ(json_string_value(json_object_get(err, "code")), code);
    if (field != NULL)
        ASSERT_STR_EQ(json_string_value(json_object_get(err, "field")),
                      field);
    else
        ASSERT_NULL(json_object_get(err, "field"));
    ASSERT_NOT_NULL(json_string_value(json_object_get(err, "message")));
    json_decref(body);
}

/* Search events: subject S<n % 3>, Event by n, sequence base + n. */
static json_t *
search_docs(int from, int to)
{
    static const char *const events[] = {"Listing", "Offer", "Contract"};
    json_t *docs = json_array();
    int n;

    for (n = from; n < to; n++) {
        char subj[16];
        json_t *d;

        snprintf(subj, sizeof(subj), "S%d", n % 3);
        d = rf_onboarding_doc(subj, events[n % 3], "Created",
                              1600000000 + n, 1000 + 65536LL * n);
        json_object_set_new(d, "SubjectType", json_string("Property"));
        json_array_append_new(docs, d);
    }
    return docs;
}

/* Every sequence of a page's events, appended to seen[*n]. */
static void
collect(const json_t *page, int64_t *seen, size_t *n, size_t max)
{
    const json_t *ev = json_object_get(page, "events");
    size_t i;

    for (i = 0; i < json_array_size(ev); i++) {
        ASSERT(*n < max);
        seen[(*n)++] = json_integer_value(
            json_object_get(json_array_get(ev, i), "sequence"));
    }
}

/*
 * Fetch base, then follow next_cursor until has_more is false; after
 * every page five newer events commit while *added < add_until. The
 * sequences seen go into seen (64 at most); returns the page count.
 */
static int
page_through(const char *base, int *added, int add_until, int64_t *seen,
             size_t *n)
{
    char path[256];
    json_t *page = get(base, 200);
    int pages = 0;

    for (;;) {
        pages++;
        collect(page, seen, n, 64);
        if (*added < add_until) {
            load(search_docs(*added, *added + 5));
            *added += 5;
        }
        if (!json_is_true(json_object_get(page, "has_more")))
            break;
        ASSERT_NOT_NULL(json_string_value(
            json_object_get(page, "next_cursor")));
        snprintf(path, sizeof(path), "%s&cursor=%s", base,
                 json_string_value(json_object_get(page, "next_cursor")));
        json_decref(page);
        page = get(path, 200);
    }
    json_decref(page);
    return pages;
}

TEST_IMPL(search_paging_while_events_arrive)
{
    int64_t seen[64];
    size_t n = 0, i;
    int added = 25;

    start();
    load(search_docs(0, 25));
    /* Ascending: every event exactly once, the new ones included. */
    ASSERT_EQ(page_through("/v1/events?limit=10", &added, 40, seen, &n), 4);
    ASSERT_EQ(n, 40);
    for (i = 0; i < n; i++)
        ASSERT_EQ(seen[i], 1000 + 65536LL * (int64_t)i);
    /* Newest first: pages after the first never show newer events and
     * never repeat or skip older ones. */
    n = 0;
    ASSERT_EQ(page_through("/v1/events?order=desc&limit=7", &added, 50,
                           seen, &n),
              6);
    ASSERT_EQ(n, 40);
    for (i = 0; i < n; i++)
        ASSERT_EQ(seen[i], 1000 + 65536LL * (int64_t)(39 - i));
    finish();
}

TEST_IMPL(search_filters)
{
    json_t *page, *ev;
    size_t i;

    start();
    load(rf_association_docs());
    load(search_docs(0, 12));
    /* Event=Offer: n % 3 == 1 -> 1, 4, 7, 10. */
    page = get("/v1/events?Event=Offer", 200);
    ev = json_object_get(page, "events");
    ASSERT_EQ(json_array_size(ev), 4);
    for (i = 0; i < 4; i++)
        ASSERT_EQ(json_integer_value(json_object_get(json_array_get(ev, i),
                                                     "sequence")),
                  1000 + 65536LL * (int64_t)(1 + 3 * i));
    ASSERT(json_is_false(json_object_get(page, "has_more")));
    ASSERT_NULL(json_object_get(json_array_get(ev, 0), "_id"));
    json_decref(page);
    /* Two values of a field match either; plus a time range on ts
     * 1600000003 <= ts < 1600000009: n in 3..8 with Event Offer or
     * Contract -> 4, 5, 7, 8. */
    page = get("/v1/events?Event=Offer&Event=Contract&from=1600000003&"
               "to=2020-09-13T12:26:49Z",
               200);
    ev = json_object_get(page, "events");
    ASSERT_EQ(json_array_size(ev), 4);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(ev, 0),
                                                 "ts")),
              1600000004);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(ev, 3),
                                                 "ts")),
              1600000008);
    json_decref(page);
    /* Lookup fields, EventSubject and Recorder together. */
    page = get("/v1/events?System=Association%20Management%20System&"
               "SubjectType=Member&Entity=Association&State=Recorded&"
               "EventSubject=urn:reso:ulid:900765912&"
               "Recorder=urn:reso:recorder:org2:lae643",
               200);
    ev = json_object_get(page, "events");
    ASSERT_EQ(json_array_size(ev), 2);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(ev, 1),
                                                    "TransactionId")),
                  "b38f91a1-0b79-4f97-a2c8-21feb0eee251");
    json_decref(page);
    /* Refusals, each with its code and field. */
    expect_error(get("/v1/events?from=yesterday", 400), "INVALID_TIME",
                 "from");
    expect_error(get("/v1/events?from=20&to=10", 400),
                 "INVALID_TIME_RANGE", "to");
    expect_error(get("/v1/events?colour=red", 400), "UNKNOWN_PARAMETER",
                 "colour");
    expect_error(get("/v1/events?limit=0", 400), "BAD_REQUEST", "limit");
    expect_error(get("/v1/events?cursor=a5&order=desc", 400), "BAD_REQUEST",
                 "cursor");
    finish();
}

TEST_IMPL(member_activity)
{
    json_t *page, *ev, *first;
    char path[256];

    start();
    load(rf_association_docs());
    load(search_docs(0, 6));
    page = get("/v1/reports/member-activity/urn:reso:ulid:900765912?"
               "limit=2",
               200);
    ASSERT_STR_EQ(json_string_value(json_object_get(page, "EventSubject")),
                  "urn:reso:ulid:900765912");
    ev = json_object_get(page, "events");
    ASSERT_EQ(json_array_size(ev), 2);
    first = json_array_get(ev, 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(first, "Event")),
                  "Appointment");
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(first, "Transaction"), "Recorder")),
                  "urn:reso:recorder:org3:76pae989");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(ev, 1),
                                                    "Event")),
                  "Election");
    ASSERT(json_is_true(json_object_get(page, "has_more")));
    snprintf(path, sizeof(path),
             "/v1/reports/member-activity/urn:reso:ulid:900765912?limit=2&"
             "cursor=%s",
             json_string_value(json_object_get(page, "next_cursor")));
    json_decref(page);
    page = get(path, 200);
    ev = json_object_get(page, "events");
    ASSERT_EQ(json_array_size(ev), 2);
    /* The Education events, newest first, with their Context. */
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(json_array_get(ev, 0), "Transaction"),
                      "Identifier")),
                  "b38f91a1-0b79-4f97-a2c8-21feb0eee251");
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(json_array_get(ev, 1), "Details"),
                      "Organization")),
                  "OREA");
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(json_array_get(ev, 1), "Transaction"),
                      "Recorded")),
                  "Sat, 21 Jul 2018 18:34:22 GMT");
    snprintf(path, sizeof(path),
             "/v1/reports/member-activity/urn:reso:ulid:900765912?limit=2&"
             "cursor=%s",
             json_string_value(json_object_get(page, "next_cursor")));
    json_decref(page);
    page = get(path, 200);
    ASSERT_EQ(json_array_size(json_object_get(page, "events")), 1);
    ASSERT(json_is_false(json_object_get(page, "has_more")));
    json_decref(page);
    /* A subject without events: an empty page. */
    page = get("/v1/reports/member-activity/nobody", 200);
    ASSERT_EQ(json_array_size(json_object_get(page, "events")), 0);
    ASSERT(json_is_null(json_object_get(page, "next_cursor")));
    json_decref(page);
    expect_error(get("/v1/reports/member-activity/x?Event=Education", 400),
                 "UNKNOWN_PARAMETER", "Event");
    finish();
}

TEST_IMPL(onboarding_report)
{
    int64_t now = (int64_t)time(NULL);
    json_t *r, *stuck;
    char *tiles;

    start();
    load(rf_association_docs());
    load(rf_onboarding_docs(now));
    r = get("/v1/reports/onboarding", 200);
    ASSERT_EQ(json_integer_value(json_object_get(r, "events")), 19);
    ASSERT_EQ(json_integer_value(json_object_get(r, "applicants")), 6);
    ASSERT_EQ(json_integer_value(json_object_get(r, "stuck_days")), 30);
    tiles = json_dumps(json_object_get(r, "tiles"),
                       JSON_COMPACT | JSON_SORT_KEYS);
    ASSERT_STR_EQ(tiles, RF_ONBOARDING_TILES);
    free(tiles);
    stuck = json_object_get(r, "stuck");
    ASSERT_EQ(json_array_size(stuck), 3);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(stuck, 0),
                                                    "EventSubject")),
                  "J26535");
    ASSERT_EQ(json_real_value(json_object_get(
                  json_array_get(json_object_get(r, "milestones"), 1),
                  "median_seconds")),
              2700.5);
    json_decref(r);
    /* stuck_days override, and a System filter nothing matches. */
    r = get("/v1/reports/onboarding?stuck_days=99", 200);
    ASSERT_EQ(json_array_size(json_object_get(r, "stuck")), 1);
    json_decref(r);
    r = get("/v1/reports/onboarding?System=Manual%20Input", 200);
    ASSERT_EQ(json_integer_value(json_object_get(r, "events")), 0);
    json_decref(r);
    r = get("/v1/reports/onboarding?Recorder=urn:reso:recorder:exp:1&"
            "from=0&to=4000000000",
            200);
    ASSERT_EQ(json_integer_value(json_object_get(r, "events")), 19);
    json_decref(r);
    expect_error(get("/v1/reports/onboarding?stuck_days=-1", 400),
                 "BAD_REQUEST", "stuck_days");
    finish();
}

/* GET path expecting 503 INDEX_UNAVAILABLE with Retry-After 7; the
 * message must contain why. */
static void
expect_unavailable(const char *path, const char *why)
{
    static const char *const hdrs[] = {AUTH, NULL};
    gwt_opts_t o;
    gwt_resp_t r;
    char ra[16];
    json_t *body;

    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    o.timeout_ms = 60000;
    gwt_http("GET", port, path, &o, &r);
    ASSERT_EQ(r.status, 503);
    ASSERT_STR_EQ(gwt_header(&r, "Retry-After", ra, sizeof(ra)), "7");
    body = json_loads(r.body, 0, NULL);
    if (strstr(json_string_value(json_object_get(
                   json_object_get(body, "error"), "message")),
               why) == NULL)
        TEST__FAIL("%s: %s lacks \"%s\"", path, r.body, why);
    expect_error(body, "INDEX_UNAVAILABLE", NULL);
    gwt_resp_free(&r);
}

TEST_IMPL(couchdb_down_503_then_back)
{
    gw_index_status_t st;
    json_t *page;
    int i;

    start();
    load(search_docs(0, 3));
    ASSERT_EQ(couchproc_stop(&srv), 0);
    /* The indexer has nothing to write yet: the query itself fails. */
    expect_unavailable("/v1/events", "CouchDB did not answer");
    expect_unavailable("/v1/reports/onboarding", "CouchDB did not answer");
    /* New events cannot be written: the index is degraded. */
    publish(search_docs(3, 6));
    for (i = 0; i < 600; i++) {
        gw_index_status(&st);
        if (st.state == GW_INDEX_DEGRADED)
            break;
        gwt_sleep_ms(100);
    }
    ASSERT_EQ(st.state, GW_INDEX_DEGRADED);
    expect_unavailable("/v1/events", "the index is degraded");
    expect_unavailable("/v1/reports/member-activity/S1",
                       "the index is degraded");
    /* Back: the indexer catches up and the answers are complete. */
    ASSERT_EQ(couchproc_restart(&srv), 0);
    wait_indexed();
    page = get("/v1/events", 200);
    ASSERT_EQ(json_array_size(json_object_get(page, "events")), 6);
    json_decref(page);
    finish();
}

TEST_IMPL(index_disabled)
{
    start_with(0);
    expect_unavailable("/v1/events", "disabled");
    expect_unavailable("/v1/reports/onboarding", "disabled");
    finish();
}

TEST_IMPL(unauthenticated)
{
    gwt_resp_t r;

    start();
    gwt_http("GET", port, "/v1/events", NULL, &r);
    ASSERT_EQ(r.status, 401);
    gwt_resp_free(&r);
    gwt_http("GET", port, "/v1/reports/onboarding", NULL, &r);
    ASSERT_EQ(r.status, 401);
    gwt_resp_free(&r);
    finish();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(search_paging_while_events_arrive),
    TEST_ENTRY(search_filters),
    TEST_ENTRY(member_activity),
    TEST_ENTRY(onboarding_report),
    TEST_ENTRY(couchdb_down_503_then_back),
    TEST_ENTRY(index_disabled),
    TEST_ENTRY(unauthenticated),
};

TEST_MAIN(tests)
