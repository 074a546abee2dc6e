/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway's webhooks on the real Fabric network of the ctest
 * fixture "fabric". Two test receivers on loopback (webhooks_receiver.h:
 * every body's HMAC signature and RCP-28 shape checked independently)
 * subscribe from sequence 0 with a filter on this run's two
 * EventSubjects, one of them also on State Closed. Then, with events
 * recorded over REST by every org:
 *
 *   1. normal delivery;
 *   2. the receiver answers 429 with Retry-After: 2 for a while: the
 *      gateway waits as told and delivers everything afterwards;
 *   3. the gateway is killed with SIGKILL while a push is in flight (the
 *      receiver has recorded it, the gateway never saw the 2xx), events
 *      are recorded through libhlf while it is down, it restarts on the
 *      same state dir and more events are recorded over REST.
 *
 * Every recorded event must reach each receiver whose filter it matches
 * at least once, and exactly once after deduplication by
 * EntityEventSequence; nothing else arrives; no sequence is skipped;
 * apart from the re-sent batch after the crash, sequences arrive in
 * increasing order. The first subscription replays the ledger from block
 * 0 (the hub's ring is kept small), the restart replays what the new
 * gateway does not hold in memory.
 *
 * The gateway runs as a child process through gwproc.h (free loopback
 * port, temp dir) and is stopped by PID even when the test fails. A
 * clean SIGTERM at the end must exit 0.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gwproc.h"
#include "gwtest.h"
#include "hlf/crypto.h"
#include "hub.h"
#include "netfixture.h"
#include "task.h"
#include "webhooks.h"
#include "webhooks_receiver.h"

static const char *const ORGS[] = {"Brokerage", "Association", "MLS",
                                   NULL};
#define NORGS 3
#define BATCH 5
#define SECRET "whsec-network-test-0123456789abcdef"
#define MAX_EVENTS 64

/* ------------------------------------------------------------------ */
/* The gateway process                                                */
/* ------------------------------------------------------------------ */

/*
 * A gateway (gwproc.h) with one API key per org (keys[i] = ORGS[i]), a
 * small ring, so restarts and the sequence-0 start replay from the
 * ledger, and private targets allowed for the loopback receivers.
 */
static void
gwp_prepare(gwproc_t *g, json_t *env)
{
    char extra[512];
    gwproc_opts_t o;

    snprintf(extra, sizeof(extra),
             "request_timeout_ms 20000\n"
             "rate_limit_per_key 1000 2000\n"
             "hub_ring_events 16\n"
             "webhook_allow_private_targets yes\n"
             "webhook_batch_max %d\n"
             "webhook_timeout_ms 10000\n"
             "webhook_retry_max_ms 2000",
             BATCH);
    memset(&o, 0, sizeof(o));
    o.identities = ORGS;
    o.tag = "wh";
    o.extra = extra;
    gwproc_prepare(g, env, &o);
}

/* One request as org (-1: no Authorization); body is JSON or NULL. */
static void
req(const gwproc_t *g, int org, const char *method, const char *path,
    const char *body, gwt_resp_t *r)
{
    gwproc_request(g, org, method, path, body, NULL, r);
}

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

/* What the test recorded: the receivers must get exactly these. */
typedef struct expect_s {
    char tid[64];   /* TransactionId */
    uint64_t block; /* the block that committed it */
    int closed;     /* State Closed: also for the filtered receiver */
} expect_t;

typedef struct run_s {
    char subject[2][96];
    const char *recorder[NORGS]; /* ORGS[i]'s Recorder (borrowed, env) */
    expect_t ev[MAX_EVENTS];
    size_t n;
} run_t;

/* Event i of the run as recorded by ORGS[org], with org's Recorder. */
static char *
event_doc(const run_t *run, size_t i, int closed, int org)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "EventSubject", run->subject[i % 2],
                          "System", "Property Listing Service",
                          "SubjectType", "Property", "Entity", "Broker",
                          "Event", "Listing", "State",
                          closed ? "Closed" : (i % 2 ? "Changed"
                                                     : "Recorded"),
                          "Recorder", run->recorder[org], "Application",
                          "87478-a43");
    char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(e);
    ASSERT_NOT_NULL(s);
    return s;
}

/* Record event number run->n over REST as org; every third is Closed. */
static void
record_rest(const gwproc_t *g, run_t *run, int org)
{
    int closed = run->n % 3 == 1;
    char *doc = event_doc(run, run->n, closed, org);
    expect_t *x = &run->ev[run->n];
    gwt_resp_t r;
    json_t *b;

    ASSERT(run->n < MAX_EVENTS);
    req(g, org, "POST", "/v1/events", doc, &r);
    if (r.status != 201) {
        gwproc_dump_log(g, 60);
        TEST__FAIL("POST /v1/events as %s: %ld %s", ORGS[org], r.status,
                   r.body);
    }
    b = json_loadb(r.body, r.len, 0, NULL);
    ASSERT_NOT_NULL(b);
    snprintf(x->tid, sizeof(x->tid), "%s",
             json_string_value(json_object_get(json_object_get(b, "event"),
                                               "TransactionId")));
    x->block = (uint64_t)json_integer_value(json_object_get(b, "block"));
    ASSERT(x->tid[0] != '\0' && x->block > 0);
    x->closed = closed;
    run->n++;
    json_decref(b);
    gwt_resp_free(&r);
    free(doc);
}

/*
 * Record event number run->n through libhlf as o, a client of ORGS[org]
 * (the gateway may be down).
 */
static void
record_direct(reso_org_t *o, int org, run_t *run)
{
    int closed = run->n % 3 == 1;
    char *doc = event_doc(run, run->n, closed, org);
    hlf_bytes_t arg = hlf_bytes_str(doc), res = {0};
    expect_t *x = &run->ev[run->n];
    hlf_error_t err;
    json_t *ev;

    ASSERT(run->n < MAX_EVENTS);
    hlf_error_clear(&err);
    if (hlf_contract_submit(o->contract, "RecordEvent", &arg, 1, &res,
                            &err) != HLF_OK)
        TEST__FAIL("RecordEvent: %s | %s", err.text, err.chaincode_message);
    ev = json_loadb((const char *)res.data, res.len, 0, NULL);
    ASSERT_NOT_NULL(ev);
    snprintf(x->tid, sizeof(x->tid), "%s",
             json_string_value(json_object_get(ev, "TransactionId")));
    x->block = err.block_number;
    ASSERT(x->tid[0] != '\0' && x->block > 0);
    x->closed = closed;
    run->n++;
    json_decref(ev);
    hlf_bytes_free(&res);
    free(doc);
}

static size_t
expected_count(const run_t *run, int closed_only)
{
    size_t i, n = 0;

    for (i = 0; i < run->n; i++)
        n += !closed_only || run->ev[i].closed;
    return n;
}

/*
 * Wait until the receiver has every expected event, then check what it
 * acknowledged: only expected events, each sequence with one
 * TransactionId and the block it was committed in, every expected event
 * present, increasing order except re-sent events. Returns how many
 * events arrived more than once.
 */
static size_t
verify(whr_t *w, const run_t *run, int closed_only, const char *name)
{
    size_t want = expected_count(run, closed_only), got, n, i, j, dups = 0;
    size_t requests, bad, ok;
    uint64_t seq_of[MAX_EVENTS], max = 0;
    whr_event_t *ev;

    got = whr_wait_unique(w, want, 180000);
    if (got != want)
        TEST__FAIL("%s: %zu of %zu events arrived", name, got, want);
    gwt_sleep_ms(1000); /* nothing more may come */
    memset(seq_of, 0, sizeof(seq_of));
    ev = whr_events(w, &n);
    for (i = 0; i < n; i++) {
        const char *tid = json_string_value(json_object_get(ev[i].event,
                                                            "TransactionId"));
        const char *st = json_string_value(json_object_get(ev[i].event,
                                                           "State"));

        for (j = 0; j < run->n; j++)
            if (tid != NULL && strcmp(run->ev[j].tid, tid) == 0)
                break;
        if (j == run->n || (closed_only && !run->ev[j].closed))
            TEST__FAIL("%s: unexpected event %llu (%s)", name,
                       (unsigned long long)ev[i].seq, tid ? tid : "?");
        ASSERT_EQ(GW_SEQ_BLOCK(ev[i].seq), run->ev[j].block);
        if (closed_only)
            ASSERT_STR_EQ(st, "Closed");
        if (seq_of[j] != 0) {
            /* Seen before: the same sequence, re-sent. */
            ASSERT_EQ(seq_of[j], ev[i].seq);
            dups++;
            continue;
        }
        seq_of[j] = ev[i].seq;
        if (ev[i].seq <= max)
            TEST__FAIL("%s: sequence %llu after %llu", name,
                       (unsigned long long)ev[i].seq,
                       (unsigned long long)max);
        max = ev[i].seq;
    }
    for (j = 0; j < run->n; j++)
        if ((!closed_only || run->ev[j].closed) && seq_of[j] == 0)
            TEST__FAIL("%s: event %s (block %llu) never arrived", name,
                       run->ev[j].tid, (unsigned long long)run->ev[j].block);
    whr_events_free(ev, n);
    whr_counts(w, &requests, &bad, &ok);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(whr_unique(w), want);
    fprintf(stderr, "%s: %zu events, %zu re-sent, %zu requests\n", name,
            want, dups, requests);
    return dups;
}

static void
create_sub(const gwproc_t *g, int org, const whr_t *w, const run_t *run,
           const char *state, char *id, size_t idn)
{
    char url[256], body[1024];
    gwt_resp_t r;
    json_t *b;

    whr_url(w, "/reso/events", url, sizeof(url));
    snprintf(body, sizeof(body), "{\"url\":\"%s\",\"secret\":\"" SECRET
             "\",\"after\":0,\"filter\":{\"EventSubject\":[\"%s\",\"%s\"]"
             "%s%s%s}}", url, run->subject[0], run->subject[1],
             state ? ",\"State\":\"" : "", state ? state : "",
             state ? "\"" : "");
    req(g, org, "POST", "/v1/subscriptions", body, &r);
    if (r.status != 201) {
        gwproc_dump_log(g, 60);
        TEST__FAIL("POST /v1/subscriptions: %ld %s", r.status, r.body);
    }
    ASSERT(strstr(r.body, SECRET) == NULL);
    b = json_loadb(r.body, r.len, 0, NULL);
    ASSERT_NOT_NULL(b);
    snprintf(id, idn, "%s", json_string_value(json_object_get(b, "id")));
    ASSERT_EQ(gw_webhook_id_valid(id), 1);
    json_decref(b);
    gwt_resp_free(&r);
}

/* The checkpoint (acked) in the subscription's record file. */
static uint64_t
checkpoint_of(const gwproc_t *g, const char *id)
{
    char path[1200];
    gw_webhook_rec_t rec;
    hlf_error_t e;
    uint64_t acked;

    snprintf(path, sizeof(path), "%s/webhooks/%s.json", g->state, id);
    if (gw_webhook_rec_load(path, &rec, &e) != HLF_OK)
        TEST__FAIL("%s", e.text);
    acked = rec.acked;
    gw_webhook_rec_clear(&rec);
    return acked;
}

/* ------------------------------------------------------------------ */
/* The test                                                           */
/* ------------------------------------------------------------------ */

TEST_IMPL(webhooks_across_429_and_kill9)
{
    json_t *env = netfx_env();
    whr_t *all = whr_start(SECRET, BATCH), *closed = whr_start(SECRET,
                                                               BATCH);
    char id_all[64], id_closed[64];
    reso_org_t direct;
    run_t run;
    whr_req_t *q;
    size_t n, i, before, k, throttled;
    uint64_t last = 0;
    uint8_t rnd[6];
    char hex[13];
    gwt_resp_t r;
    gwproc_t g;

    memset(&run, 0, sizeof(run));
    ASSERT_EQ(hlf_random_bytes(rnd, sizeof(rnd)), HLF_OK);
    hlf_hex_encode(rnd, sizeof(rnd), hex);
    snprintf(run.subject[0], sizeof(run.subject[0]), "US-42049-WHA-%s-R-N",
             hex);
    snprintf(run.subject[1], sizeof(run.subject[1]), "US-42049-WHB-%s-R-N",
             hex);
    for (i = 0; i < NORGS; i++)
        run.recorder[i] = netfx_recorder(env, ORGS[i]);
    gwp_prepare(&g, env);
    gwproc_start(&g);
    create_sub(&g, 0, all, &run, NULL, id_all, sizeof(id_all));
    create_sub(&g, 0, closed, &run, "Closed", id_closed, sizeof(id_closed));

    /* 1. Normal delivery, every org recording. */
    for (i = 0; i < 4; i++)
        record_rest(&g, &run, (int)(i % NORGS));
    ASSERT_EQ(verify(all, &run, 0, "all"), 0);
    ASSERT_EQ(verify(closed, &run, 1, "closed"), 0);

    /* 2. 429 + Retry-After: 2 for three requests. */
    whr_counts(all, &before, &n, &k);
    whr_plan(all, 429, "2", 3, 0);
    for (i = 0; i < 3; i++)
        record_rest(&g, &run, (int)(i % NORGS));
    ASSERT_EQ(verify(all, &run, 0, "all"), 0);
    ASSERT_EQ(verify(closed, &run, 1, "closed"), 0);
    q = whr_requests(all, &n);
    for (i = before, throttled = 0; i < n; i++) {
        if (q[i].status != 429)
            continue;
        throttled++;
        ASSERT(i + 1 < n);
        /* The retry came no earlier than Retry-After said. */
        ASSERT_GE(q[i + 1].at_ms - q[i].at_ms, 1950);
        ASSERT_STR_EQ(q[i + 1].delivery, q[i].delivery);
    }
    ASSERT_EQ(throttled, 3);
    free(q);
    req(&g, -1, "GET", "/metrics", NULL, &r);
    ASSERT_NOT_NULL(strstr(r.body,
                           "webhook_deliveries_total{outcome=\"throttled\"}"
                           " 3\n"));
    ASSERT_NOT_NULL(strstr(r.body, "webhook_retries_total 3\n"));
    gwt_resp_free(&r);

    /* 3. kill -9 while a push is in flight: the receiver records it on
     * arrival and answers only after 4 s, by which time the gateway that
     * sent it is gone and never saw the 2xx. */
    whr_counts(all, &before, &n, &k);
    whr_plan(all, 200, NULL, 1, 4000);
    record_rest(&g, &run, 1);
    ASSERT_EQ(whr_wait_requests(all, before + 1, 60000), before + 1);
    last = checkpoint_of(&g, id_all);
    gwproc_kill9(&g);
    /* The checkpoint did not move past the unanswered push. */
    ASSERT(GW_SEQ_BLOCK(last) < run.ev[run.n - 1].block);
    netfx_org_open(env, ORGS[2], &direct);
    for (i = 0; i < 3; i++)
        record_direct(&direct, 2, &run);
    reso_netenv_close_org(&direct);
    gwt_sleep_ms(4500); /* the slow answer is over */
    whr_plan(all, 429, "1", 2, 0);
    gwproc_start(&g);
    for (i = 0; i < 2; i++)
        record_rest(&g, &run, (int)(i % NORGS));
    /* The unanswered push came again: dedup by sequence needed. */
    ASSERT_GE(verify(all, &run, 0, "all"), 1);
    verify(closed, &run, 1, "closed");
    /* Both subscriptions survived, owned by Brokerage only. */
    req(&g, 0, "GET", "/v1/subscriptions", NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_NOT_NULL(strstr(r.body, id_all));
    ASSERT_NOT_NULL(strstr(r.body, id_closed));
    ASSERT(strstr(r.body, SECRET) == NULL);
    gwt_resp_free(&r);
    req(&g, 2, "GET", "/v1/subscriptions", NULL, &r);
    ASSERT_STR_EQ(r.body, "{\"value\":[]}");
    gwt_resp_free(&r);
    gwproc_term(&g);
    /* The checkpoints hold the last sequence each receiver got. */
    {
        whr_event_t *ev = whr_events(all, &n);
        uint64_t max = 0;

        for (i = 0; i < n; i++)
            if (ev[i].seq > max)
                max = ev[i].seq;
        ASSERT_EQ(checkpoint_of(&g, id_all), max);
        whr_events_free(ev, n);
        ev = whr_events(closed, &n);
        for (i = 0, max = 0; i < n; i++)
            if (ev[i].seq > max)
                max = ev[i].seq;
        ASSERT_EQ(checkpoint_of(&g, id_closed), max);
        whr_events_free(ev, n);
    }
    gwproc_free(&g);
    whr_stop(all);
    whr_stop(closed);
    json_decref(env);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(webhooks_across_429_and_kill9),
};

TEST_MAIN(tests)
