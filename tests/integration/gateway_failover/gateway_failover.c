/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway across the loss of a peer, on the real Fabric network of
 * the ctest fixture "fabric". One gateway (common/gwproc.h) with an API
 * key per org; an SSE client is connected from the start; one thread per
 * org records events over REST. In the middle the Brokerage peer (the one
 * the gateway's follower reads blocks from, and the first peer of the
 * Brokerage identity) is killed with SIGKILL. Asserted:
 *   - every org, the killed peer's org included, still gets 201s after
 *     the kill (the gateway fails over to the other orgs' peers);
 *   - every acknowledged (201) event is on the ledger: GET
 *     /v1/events/{TransactionId} as another org (read through that org's
 *     peer) returns it with the acknowledged block;
 *   - every acknowledged event arrived in the SSE stream exactly once,
 *     with the acknowledged block, and the stream's ids strictly increase
 *     (commit order), across the follower's own failover (counted in
 *     follower_reconnects_total; follower_lag_blocks is back to 0).
 * Finally `resoctl network up` restarts the killed peer and the test waits
 * until it runs again, so later tests find the whole network.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gwproc.h"
#include "gwtest.h"
#include "netfixture.h"
#include "sse_client.h"
#include "task.h"

#define NORGS 3
/* Events each org records before and after the kill. */
#define PER_PHASE 6
#define MAX_EVENTS (NORGS * PER_PHASE * 2)
#define MAX_SEEN 4096
/* The peer killed: the follower's and the Brokerage identity's first. */
#define VICTIM "peer0.brokerage"

static const char *const ORGS[] = {"Brokerage", "Association", "MLS",
                                   NULL};

typedef struct ack_s {
    char tid[64];  /* TransactionId */
    int64_t block;
    int org;
    int after_kill;
} ack_t;

/* Shared by the threads; guarded by lk. */
static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static ack_t acks[MAX_EVENTS];
static int nacks;
static int refused[NORGS];     /* non-201 answers (only 503/504 allowed) */
static int ok_after[NORGS];    /* 201s to requests sent after the kill */
static atomic_int killed;      /* the victim is dead */
static atomic_int phase_done;  /* orgs done with the first phase */

/* SSE: ids and TransactionIds in arrival order (the reader's only). */
static uint64_t seen_id[MAX_SEEN];
static char seen_tid[MAX_SEEN][64];
static int64_t seen_block[MAX_SEEN];
static atomic_int nseen;
static atomic_int sse_stop;

static gwproc_t g;
static char run_tag[32];
/* Each org's own Recorder (binding is strict); set before the threads. */
static const char *recorders[NORGS];

/* ------------------------------------------------------------------ */
/* Recording                                                          */
/* ------------------------------------------------------------------ */

/* POST one event as org; 1 on 201 (recorded in acks), 0 on 503/504. */
static int
record_one(int org, int i)
{
    char doc[512], auth[160];
    const char *hdrs[3];
    gwt_opts_t o;
    gwt_resp_t r;
    int after = atomic_load(&killed);
    json_t *b;

    snprintf(doc, sizeof(doc),
             "{\"EventSubject\":\"FO-%s-%d-%d\",\"System\":\"Property "
             "Listing Service\",\"SubjectType\":\"Property\",\"Entity\":"
             "\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","
             "\"Recorder\":\"%s\",\"Application\":\"failover-test\"}",
             run_tag, org, i, recorders[org]);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", g.keys[org]);
    hdrs[0] = auth;
    hdrs[1] = "Content-Type: application/json";
    hdrs[2] = NULL;
    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    o.body = doc;
    o.body_len = strlen(doc);
    o.timeout_ms = 90000;
    gwt_http("POST", g.port, "/v1/events", &o, &r);
    if (r.curl_rc != 0)
        TEST__FAIL("%s: POST /v1/events: curl error %d", ORGS[org],
                   r.curl_rc);
    if (r.status != 201) {
        if (r.status != 503 && r.status != 504) {
            gwproc_dump_log(&g, 40);
            TEST__FAIL("%s: POST /v1/events: %ld %s", ORGS[org], r.status,
                       r.body);
        }
        fprintf(stderr, "# %s: %ld (around the kill): %s\n", ORGS[org],
                r.status, r.body);
        pthread_mutex_lock(&lk);
        refused[org]++;
        pthread_mutex_unlock(&lk);
        gwt_resp_free(&r);
        return 0;
    }
    b = json_loadb(r.body, r.len, 0, NULL);
    ASSERT_NOT_NULL(b);
    pthread_mutex_lock(&lk);
    ASSERT(nacks < MAX_EVENTS);
    snprintf(acks[nacks].tid, sizeof(acks[0].tid), "%s",
             json_string_value(json_object_get(json_object_get(b, "event"),
                                               "TransactionId")));
    acks[nacks].block = json_integer_value(json_object_get(b, "block"));
    acks[nacks].org = org;
    acks[nacks].after_kill = after;
    ASSERT(acks[nacks].block > 0);
    ASSERT_EQ(strlen(acks[nacks].tid), 36);
    nacks++;
    if (after)
        ok_after[org]++;
    pthread_mutex_unlock(&lk);
    json_decref(b);
    gwt_resp_free(&r);
    return 1;
}

static void *
org_main(void *arg)
{
    int org = (int)(intptr_t)arg, i = 0, ok = 0, tries = 0;

    /* First phase: PER_PHASE acknowledged events before the kill. */
    while (ok < PER_PHASE)
        ok += record_one(org, i++);
    atomic_fetch_add(&phase_done, 1);
    while (!atomic_load(&killed))
        gwt_sleep_ms(20);
    /* Second phase: PER_PHASE more acknowledged, after the kill; a few
     * 503s while the dead peer is being given up are allowed. */
    ok = 0;
    while (ok < PER_PHASE) {
        ASSERT(tries++ < PER_PHASE * 4);
        ok += record_one(org, i++);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The SSE client                                                     */
/* ------------------------------------------------------------------ */

static void *
sse_main(void *arg)
{
    sse_t *c = arg;

    while (!atomic_load(&sse_stop)) {
        uint64_t id;
        char *blk = sse_event(c, 500, &id), *data;
        json_t *ev;
        int n;

        if (blk == NULL) {
            if (c->eof)
                TEST__FAIL("the SSE stream ended");
            continue;
        }
        data = strstr(blk, "\ndata: ");
        ASSERT_NOT_NULL(data);
        ev = json_loads(data + 7, 0, NULL);
        ASSERT_NOT_NULL(ev);
        n = atomic_load(&nseen);
        ASSERT(n < MAX_SEEN);
        seen_id[n] = id;
        snprintf(seen_tid[n], sizeof(seen_tid[0]), "%s",
                 json_string_value(json_object_get(ev, "TransactionId")));
        seen_block[n] = json_integer_value(json_object_get(ev, "block"));
        atomic_store(&nseen, n + 1);
        json_decref(ev);
        free(blk);
    }
    return NULL;
}

/* How often tid is in the stream so far (index of the last in *at). */
static int
seen_count(const char *tid, int *at)
{
    int i, n = atomic_load(&nseen), k = 0;

    for (i = 0; i < n; i++)
        if (strcmp(seen_tid[i], tid) == 0) {
            k++;
            *at = i;
        }
    return k;
}

/* A metric of the gateway's /metrics (unlabelled), -1 if absent. */
static double
metric(const char *name)
{
    char key[128], *at;
    gwt_opts_t o;
    gwt_resp_t r;
    double v = -1;

    memset(&o, 0, sizeof(o));
    o.timeout_ms = 30000;
    gwt_http("GET", g.port, "/metrics", &o, &r);
    ASSERT_EQ(r.status, 200);
    snprintf(key, sizeof(key), "\n%s ", name);
    at = strstr(r.body, key);
    if (at != NULL)
        v = strtod(at + strlen(key), NULL);
    gwt_resp_free(&r);
    return v;
}

/* ------------------------------------------------------------------ */
/* The network's processes                                            */
/* ------------------------------------------------------------------ */

static pid_t
recorded_pid(const char *run, const char *name)
{
    char path[1024], buf[32] = {0};
    FILE *fp;
    long v;

    snprintf(path, sizeof(path), "%s/pids/%s.pid", run, name);
    fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    if (fgets(buf, sizeof(buf), fp) == NULL)
        buf[0] = '\0';
    fclose(fp);
    v = strtol(buf, NULL, 10);
    return v > 0 ? (pid_t)v : 0;
}

/* A live process (a zombie counts as gone). */
static int
pid_live(pid_t pid)
{
    char path[64], buf[512];
    FILE *fp;
    char *rp;
    int live = 0;

    if (pid <= 0 || kill(pid, 0) != 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    if (fgets(buf, sizeof(buf), fp) != NULL &&
        (rp = strrchr(buf, ')')) != NULL && rp[1] == ' ')
        live = rp[2] != 'Z' && rp[2] != 'X';
    fclose(fp);
    return live;
}

/* `resoctl network up --run-dir run`: restarts what is missing. */
static void
network_up(const char *run)
{
    const char *resoctl = getenv("RESOCTL");
    pid_t pid;
    int st;

    ASSERT_NOT_NULL(resoctl);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        execl(resoctl, resoctl, "network", "up", "--run-dir", run,
              (char *)NULL);
        _exit(127);
    }
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        TEST__FAIL("resoctl network up --run-dir %s failed (status %d)",
                   run, st);
}

/* ------------------------------------------------------------------ */
/* The test                                                           */
/* ------------------------------------------------------------------ */

TEST_IMPL(kill_a_peer_during_submissions)
{
    char *run = netfx_run_dir();
    json_t *env = netfx_env();
    pthread_t th[NORGS], st;
    gwproc_opts_t o;
    sse_t *c = calloc(1, sizeof(*c));
    pid_t victim, again;
    int i, j;
    int64_t deadline;

    ASSERT_NOT_NULL(c);
    snprintf(run_tag, sizeof(run_tag), "%ld-%d", (long)time(NULL),
             (int)getpid());
    victim = recorded_pid(run, VICTIM);
    if (!pid_live(victim))
        TEST__FAIL("%s (pid %d) is not running before the test", VICTIM,
                   (int)victim);
    memset(&o, 0, sizeof(o));
    o.identities = ORGS;
    o.tag = "failover";
    o.extra = "request_timeout_ms 60000\n"
              "rate_limit_per_key 1000 2000\n"
              "sse_heartbeat_ms 2000";
    gwproc_prepare(&g, env, &o);
    gwproc_start(&g);

    /* The SSE client from the start (live: whatever it sees must be in
     * order; our events must each be there once). */
    sse_open(c, g.port, "/v1/stream", NULL, 0, g.auth[1]);
    ASSERT_EQ(c->status, 200);
    ASSERT_EQ(pthread_create(&st, NULL, sse_main, c), 0);
    for (i = 0; i < NORGS; i++)
        recorders[i] = netfx_recorder(env, ORGS[i]);
    for (i = 0; i < NORGS; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, org_main,
                                 (void *)(intptr_t)i), 0);

    /* Kill the peer when every org has its first events acknowledged,
     * while they keep submitting. */
    while (atomic_load(&phase_done) < NORGS)
        gwt_sleep_ms(20);
    fprintf(stderr, "# kill -9 %s (pid %d)\n", VICTIM, (int)victim);
    ASSERT_EQ(kill(victim, SIGKILL), 0);
    for (i = 0; i < 500 && pid_live(victim); i++)
        gwt_sleep_ms(20);
    ASSERT(!pid_live(victim));
    atomic_store(&killed, 1);
    for (i = 0; i < NORGS; i++)
        pthread_join(th[i], NULL);

    /* Every org, the dead peer's too, was served after the kill. */
    for (i = 0; i < NORGS; i++) {
        fprintf(stderr, "# %s: %d acknowledged after the kill, %d "
                "refused\n", ORGS[i], ok_after[i], refused[i]);
        ASSERT_EQ(ok_after[i], PER_PHASE);
    }
    ASSERT_EQ(nacks, NORGS * PER_PHASE * 2);

    /* Every acknowledged event reaches the stream (the follower fails
     * over to another peer), exactly once, with its block. */
    deadline = gw_now_ms() + 180000;
    for (i = 0; i < nacks; i++) {
        int at = -1;

        while (seen_count(acks[i].tid, &at) == 0 &&
               gw_now_ms() < deadline)
            gwt_sleep_ms(100);
        if (at < 0) {
            gwproc_dump_log(&g, 60);
            TEST__FAIL("event %s (block %" PRId64 ", %s) never arrived in "
                       "the stream", acks[i].tid, acks[i].block,
                       ORGS[acks[i].org]);
        }
    }
    /* Listen a little longer for repeats. */
    gwt_sleep_ms(2000);
    atomic_store(&sse_stop, 1);
    pthread_join(st, NULL);
    for (i = 0; i < nacks; i++) {
        int at = -1;

        ASSERT_EQ(seen_count(acks[i].tid, &at), 1);
        ASSERT_EQ(seen_block[at], acks[i].block);
        ASSERT_EQ(seen_id[at] >> 16, (uint64_t)acks[i].block);
    }
    for (j = 1; j < atomic_load(&nseen); j++)
        if (seen_id[j] <= seen_id[j - 1])
            TEST__FAIL("stream out of order: id %" PRIu64 " after %" PRIu64,
                       seen_id[j], seen_id[j - 1]);
    fprintf(stderr, "# %d events acknowledged, %d streamed in order\n",
            nacks, atomic_load(&nseen));
    /* The follower lost its peer and reconnected elsewhere; it is level
     * with the chain again (lag from the polled chain height). */
    ASSERT_GE(metric("follower_reconnects_total"), 1);
    deadline = gw_now_ms() + 60000;
    while (metric("follower_lag_blocks") != 0 && gw_now_ms() < deadline)
        gwt_sleep_ms(500);
    ASSERT_EQ(metric("follower_lag_blocks"), 0);

    /* On the ledger: read back through another org's (live) peer. */
    for (i = 0; i < nacks; i++) {
        char path[128], auth[160];
        const char *hdrs[2];
        int reader = acks[i].org == 1 ? 2 : 1;
        gwt_opts_t ro;
        gwt_resp_t r;
        json_t *b;

        snprintf(path, sizeof(path), "/v1/events/%.63s", acks[i].tid);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
                 g.keys[reader]);
        hdrs[0] = auth;
        hdrs[1] = NULL;
        memset(&ro, 0, sizeof(ro));
        ro.headers = hdrs;
        ro.timeout_ms = 60000;
        gwt_http("GET", g.port, path, &ro, &r);
        if (r.status != 200)
            TEST__FAIL("GET %s as %s: %ld %s", path, ORGS[reader], r.status,
                       r.body);
        b = json_loadb(r.body, r.len, 0, NULL);
        ASSERT_NOT_NULL(b);
        ASSERT(strstr(r.body, acks[i].tid) != NULL);
        json_decref(b);
        gwt_resp_free(&r);
    }

    gwproc_free(&g);
    sse_close(c);
    free(c);

    /* Bring the peer back and wait until it runs again. */
    network_up(run);
    deadline = gw_now_ms() + 120000;
    do {
        again = recorded_pid(run, VICTIM);
        if (again != victim && pid_live(again))
            break;
        gwt_sleep_ms(200);
    } while (gw_now_ms() < deadline);
    if (again == victim || !pid_live(again))
        TEST__FAIL("%s did not come back", VICTIM);
    json_decref(env);
    free(run);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(kill_a_peer_during_submissions),
};

TEST_MAIN(tests)
