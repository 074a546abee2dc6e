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
 * The gateway runs as a child process (RESO_GATEWAY_BIN, else the one
 * built next to this test, so an ASan build is tested the same way) on a
 * free loopback port under a temp dir, and is stopped by PID even when
 * the test fails: the abort handler kills it, PR_SET_PDEATHSIG is the
 * last resort. A clean SIGTERM at the end must exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gwtest.h"
#include "hlf/crypto.h"
#include "hub.h"
#include "netfixture.h"
#include "task.h"
#include "webhooks.h"
#include "webhooks_receiver.h"

#ifndef RESO_GATEWAY_BIN_DEFAULT
#define RESO_GATEWAY_BIN_DEFAULT "reso-gateway"
#endif

static const char *const ORGS[] = {"Brokerage", "Association", "MLS"};
#define NORGS 3
#define BATCH 5
#define SECRET "whsec-network-test-0123456789abcdef"
#define MAX_EVENTS 64

/* ------------------------------------------------------------------ */
/* The gateway process                                                */
/* ------------------------------------------------------------------ */

typedef struct gwp_s {
    char *dir; /* temp dir: config, env.json, state/, log */
    char state[1024];
    char conf[1024];
    char log[1024];
    pid_t pid;
    int port;
    char keys[NORGS][80];
} gwp_t;

/* The gateway of the running test, killed if the test aborts. */
static volatile pid_t running_pid;

static void
on_abort(int sig)
{
    (void)sig;
    if (running_pid > 0)
        kill(running_pid, SIGKILL);
}

static const char *
gateway_bin(void)
{
    const char *b = getenv("RESO_GATEWAY_BIN");

    return b != NULL && b[0] != '\0' ? b : RESO_GATEWAY_BIN_DEFAULT;
}

static void
gwp_prepare(gwp_t *g, json_t *env)
{
    char text[4096], hex[NORGS][65], path[1100];
    size_t i;

    memset(g, 0, sizeof(*g));
    g->dir = gwt_tmpdir();
    snprintf(g->state, sizeof(g->state), "%s/state", g->dir);
    snprintf(g->log, sizeof(g->log), "%s/gateway.log", g->dir);
    snprintf(g->conf, sizeof(g->conf), "%s/gateway.conf", g->dir);
    snprintf(path, sizeof(path), "%s/env.json", g->dir);
    ASSERT_EQ(json_dump_file(env, path, JSON_INDENT(1)), 0);
    for (i = 0; i < NORGS; i++) {
        uint8_t r[16];
        char rh[33];

        ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
        hlf_hex_encode(r, sizeof(r), rh);
        snprintf(g->keys[i], sizeof(g->keys[i]), "gwwh-%s-%s", ORGS[i], rh);
        gwt_sha256_hex(g->keys[i], hex[i]);
    }
    /* A small ring, so restarts and the sequence-0 start replay from the
     * ledger; receivers on loopback need private targets allowed. */
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "state_dir %s\n"
             "network_env %s\n"
             "apikey brokerage-wh Brokerage %s\n"
             "apikey association-wh Association %s\n"
             "apikey mls-wh MLS %s\n"
             "request_timeout_ms 20000\n"
             "rate_limit_per_key 1000 2000\n"
             "hub_ring_events 16\n"
             "webhook_allow_private_targets yes\n"
             "webhook_batch_max %d\n"
             "webhook_timeout_ms 10000\n"
             "webhook_retry_max_ms 2000\n",
             g->state, path, hex[0], hex[1], hex[2], BATCH);
    free(gwt_write(g->dir, "gateway.conf", text));
}

static int
read_port(const gwp_t *g)
{
    char path[1100], buf[128];
    FILE *fp;
    char *colon;

    snprintf(path, sizeof(path), "%s/gateway.addr", g->state);
    fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    colon = fgets(buf, sizeof(buf), fp) != NULL ? strrchr(buf, ':') : NULL;
    fclose(fp);
    return colon != NULL ? (int)strtol(colon + 1, NULL, 10) : 0;
}

static void
dump_log(const gwp_t *g)
{
    char cmd[1200];

    snprintf(cmd, sizeof(cmd), "tail -n 60 '%s' >&2", g->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no gateway log)\n");
}

static void
gwp_start(gwp_t *g)
{
    char path[1100];
    int i;

    snprintf(path, sizeof(path), "%s/gateway.addr", g->state);
    unlink(path);
    signal(SIGABRT, on_abort);
    g->pid = fork();
    ASSERT(g->pid >= 0);
    if (g->pid == 0) {
        int fd = open(g->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(gateway_bin(), "reso-gateway", "--config", g->conf,
              (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", gateway_bin(), strerror(errno));
        _exit(127);
    }
    running_pid = g->pid;
    for (i = 0; i < 6000; i++) {
        int st;

        if ((g->port = read_port(g)) > 0)
            return;
        if (waitpid(g->pid, &st, WNOHANG) == g->pid) {
            running_pid = 0;
            g->pid = 0;
            dump_log(g);
            TEST__FAIL("reso-gateway exited during start (status %d)", st);
        }
        gwt_sleep_ms(10);
    }
    dump_log(g);
    TEST__FAIL("reso-gateway did not write %s within 60 s", path);
}

/* SIGKILL: no drain, no checkpoint written on the way out. */
static void
gwp_kill9(gwp_t *g)
{
    int st;

    ASSERT(g->pid > 0);
    ASSERT_EQ(kill(g->pid, SIGKILL), 0);
    ASSERT_EQ(waitpid(g->pid, &st, 0), g->pid);
    ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    running_pid = 0;
    g->pid = 0;
}

/* SIGTERM, wait up to 60 s; the gateway must exit 0. */
static void
gwp_stop(gwp_t *g)
{
    int st = 0, i;

    if (g->pid <= 0)
        return;
    ASSERT_EQ(kill(g->pid, SIGTERM), 0);
    for (i = 0; i < 6000; i++) {
        if (waitpid(g->pid, &st, WNOHANG) == g->pid)
            break;
        gwt_sleep_ms(10);
    }
    if (i == 6000) {
        kill(g->pid, SIGKILL);
        waitpid(g->pid, &st, 0);
        running_pid = 0;
        g->pid = 0;
        dump_log(g);
        TEST__FAIL("reso-gateway did not stop within 60 s of SIGTERM");
    }
    running_pid = 0;
    g->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        dump_log(g);
        TEST__FAIL("reso-gateway ended with status 0x%x, want exit 0", st);
    }
}

static void
gwp_free(gwp_t *g)
{
    gwp_stop(g);
    gwt_rmrf(g->dir);
    free(g->dir);
}

/* One request as org (-1: no Authorization); body is JSON or NULL. */
static void
req(const gwp_t *g, int org, const char *method, const char *path,
    const char *body, gwt_resp_t *r)
{
    const char *hdrs[4];
    char auth[128];
    gwt_opts_t o;
    size_t n = 0;

    memset(&o, 0, sizeof(o));
    if (org >= 0) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
                 g->keys[org]);
        hdrs[n++] = auth;
    }
    if (body != NULL) {
        hdrs[n++] = "Content-Type: application/json";
        o.body = body;
        o.body_len = strlen(body);
    }
    hdrs[n] = NULL;
    o.headers = hdrs;
    o.timeout_ms = 30000;
    gwt_http(method, g->port, path, &o, r);
    if (r->curl_rc != 0)
        TEST__FAIL("%s %s: curl error %d", method, path, r->curl_rc);
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
    expect_t ev[MAX_EVENTS];
    size_t n;
} run_t;

static char *
event_doc(const run_t *run, size_t i, int closed)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "EventSubject", run->subject[i % 2],
                          "System", "Property Listing Service",
                          "SubjectType", "Property", "Entity", "Broker",
                          "Event", "Listing", "State",
                          closed ? "Closed" : (i % 2 ? "Changed"
                                                     : "Recorded"),
                          "Recorder", "webhooks-it", "Application",
                          "87478-a43");
    char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(e);
    ASSERT_NOT_NULL(s);
    return s;
}

/* Record event number run->n over REST as org; every third is Closed. */
static void
record_rest(const gwp_t *g, run_t *run, int org)
{
    int closed = run->n % 3 == 1;
    char *doc = event_doc(run, run->n, closed);
    expect_t *x = &run->ev[run->n];
    gwt_resp_t r;
    json_t *b;

    ASSERT(run->n < MAX_EVENTS);
    req(g, org, "POST", "/v1/events", doc, &r);
    if (r.status != 201) {
        dump_log(g);
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

/* Record event number run->n through libhlf (the gateway may be down). */
static void
record_direct(reso_org_t *o, run_t *run)
{
    int closed = run->n % 3 == 1;
    char *doc = event_doc(run, run->n, closed);
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
create_sub(const gwp_t *g, int org, const whr_t *w, const run_t *run,
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
        dump_log(g);
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
checkpoint_of(const gwp_t *g, const char *id)
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
    gwp_t g;

    memset(&run, 0, sizeof(run));
    ASSERT_EQ(hlf_random_bytes(rnd, sizeof(rnd)), HLF_OK);
    hlf_hex_encode(rnd, sizeof(rnd), hex);
    snprintf(run.subject[0], sizeof(run.subject[0]), "US-42049-WHA-%s-R-N",
             hex);
    snprintf(run.subject[1], sizeof(run.subject[1]), "US-42049-WHB-%s-R-N",
             hex);
    gwp_prepare(&g, env);
    gwp_start(&g);
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
    gwp_kill9(&g);
    /* The checkpoint did not move past the unanswered push. */
    ASSERT(GW_SEQ_BLOCK(last) < run.ev[run.n - 1].block);
    netfx_org_open(env, "MLS", &direct);
    for (i = 0; i < 3; i++)
        record_direct(&direct, &run);
    reso_netenv_close_org(&direct);
    gwt_sleep_ms(4500); /* the slow answer is over */
    whr_plan(all, 429, "1", 2, 0);
    gwp_start(&g);
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
    gwp_stop(&g);
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
    gwp_free(&g);
    whr_stop(all);
    whr_stop(closed);
    json_decref(env);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(webhooks_across_429_and_kill9),
};

TEST_MAIN(tests)
