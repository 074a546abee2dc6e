/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The off-chain CouchDB index on the real network of the ctest fixture
 * "fabric": the network's own reso-gateway indexes into the network's own
 * pouchdb-server (both started by `resoctl network up`).
 *
 * - After N events recorded over REST the index holds exactly N documents
 *   for their subject, each equal field by field to the event the ledger
 *   stored, plus sequence, block, tx_index and txid of its commit.
 * - pouchdb-server stopped by PID in the middle of a stream of
 *   submissions: recording keeps answering 201, /healthz reports the
 *   index degraded; `resoctl network up` starts it again on the same
 *   data: the index catches up with no missing and no duplicate document.
 * - `resoctl index rebuild --wait` (POST /v1/index/rebuild) drops the
 *   index and replays the ledger from block 0: afterwards every document
 *   is the same as before, and `resoctl index status` exits 0.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "couch.h"
#include "gwtest.h"
#include "netfixture.h"
#include "task.h"

#define N_FIRST 6
#define N_DOWN 6
#define N_ALL (N_FIRST + N_DOWN)
/* How long the index may take to catch up (the machine is shared). */
#define CATCH_UP_S 180

typedef struct {
    int port;           /* the gateway's */
    char auth[160];     /* "Authorization: Bearer <Brokerage key>" */
    gw_couch_t *couch;  /* the network's CouchDB */
    char pid_file[1024];
    char subject[64];
    char recorder[128]; /* Brokerage's Recorder: the REST calls' org's */
    json_t *recorded;   /* array of the 201 answers, in order */
} fx_t;

static void
fx_open(fx_t *f)
{
    json_t *env = netfx_env(), *gw, *cd;
    gw_couch_opts_t o;
    hlf_error_t e;
    const char *url;

    memset(f, 0, sizeof(*f));
    gw = json_object_get(env, "gateway");
    cd = json_object_get(env, "couchdb");
    if (gw == NULL || cd == NULL)
        RETURN_SKIP("the network runs no gateway or no CouchDB");
    url = netfx_str(gw, "url");
    ASSERT_EQ(strncmp(url, "http://127.0.0.1:", 17), 0);
    f->port = atoi(url + 17);
    snprintf(f->auth, sizeof(f->auth), "Authorization: Bearer %s",
             netfx_str(json_object_get(gw, "api_keys"), "Brokerage"));
    memset(&o, 0, sizeof(o));
    o.url = netfx_str(cd, "url");
    o.db = netfx_str(cd, "db");
    ASSERT_EQ(gw_couch_new(&o, &f->couch, &e), HLF_OK);
    snprintf(f->pid_file, sizeof(f->pid_file), "%s",
             netfx_str(cd, "pid_file"));
    snprintf(f->subject, sizeof(f->subject), "US-42049-IDX%ld-%d-R-N",
             (long)time(NULL) % 100000, (int)getpid());
    snprintf(f->recorder, sizeof(f->recorder), "%s",
             netfx_recorder(env, "Brokerage"));
    f->recorded = json_array();
    json_decref(env);
}

static void
fx_close(fx_t *f)
{
    json_decref(f->recorded);
    gw_couch_free(f->couch);
}

/* One REST call to the gateway as Brokerage; *j the JSON answer (new). */
static long
rest(fx_t *f, const char *method, const char *path, const char *body,
     json_t **j)
{
    const char *hdrs[] = {f->auth, "Content-Type: application/json", NULL};
    gwt_opts_t o;
    gwt_resp_t r;
    long st;

    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    o.body = body;
    o.body_len = body != NULL ? strlen(body) : 0;
    o.timeout_ms = 60000;
    gwt_http(method, f->port, path, &o, &r);
    st = r.status;
    if (j != NULL)
        *j = r.body != NULL ? json_loads(r.body, 0, NULL) : NULL;
    gwt_resp_free(&r);
    return st;
}

/* Record event i of this run; its 201 answer is kept. */
static void
record(fx_t *f, int i)
{
    char body[1024];
    json_t *j = NULL;
    long st;

    snprintf(body, sizeof(body),
             "{\"EventSubject\":\"%s\",\"System\":\"Property Listing "
             "Service\",\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
             "\"Event\":\"Listing\",\"State\":\"%s\",\"Recorder\":"
             "\"%s\",\"Application\":\"index-it-%d\"}", f->subject,
             i % 2 ? "Recorded" : "Changed", f->recorder, i);
    st = rest(f, "POST", "/v1/events", body, &j);
    if (st != 201)
        TEST__FAIL("record %d: HTTP %ld %s", i, st,
                   j != NULL ? json_dumps(j, JSON_COMPACT) : "");
    ASSERT_NOT_NULL(json_object_get(j, "event"));
    json_array_append_new(f->recorded, j);
}

static json_t *
index_status(fx_t *f)
{
    json_t *j = NULL;

    ASSERT_EQ(rest(f, "GET", "/v1/index/status", NULL, &j), 200);
    return j;
}

/* Wait until the index is ok, not rebuilding and has no lag. */
static void
wait_current(fx_t *f)
{
    json_t *st = NULL;
    int i;

    for (i = 0; i < CATCH_UP_S * 2; i++) {
        json_decref(st);
        st = index_status(f);
        if (strcmp(json_string_value(json_object_get(st, "state")), "ok") ==
                0 &&
            !json_is_true(json_object_get(st, "rebuilding")) &&
            json_integer_value(json_object_get(st, "lag")) == 0) {
            json_decref(st);
            return;
        }
        gwt_sleep_ms(500);
    }
    TEST__FAIL("index not current after %d s: %s", CATCH_UP_S,
               json_dumps(st, JSON_COMPACT));
}

/* The documents of this run's subject, by sequence (new). */
static json_t *
subject_docs(fx_t *f)
{
    json_t *q, *ans = NULL, *docs, *d;
    hlf_error_t e;
    size_t i;

    q = json_pack("{s:{s:s,s:s,s:{s:i}},s:[s,s],s:[{s:s},{s:s},{s:s}],"
                  "s:i}",
                  "selector", "type", "event", "EventSubject", f->subject,
                  "ts", "$gte", 0, "use_index", "reso", "by-subject-ts",
                  "sort", "type", "asc", "EventSubject", "asc", "ts", "asc",
                  "limit", 1000);
    if (gw_couch_find(f->couch, q, &ans, NULL, &e) != HLF_OK)
        TEST__FAIL("_find: %s", e.text);
    json_decref(q);
    docs = json_incref(json_object_get(ans, "docs"));
    json_decref(ans);
    /* Revisions differ after a rebuild; everything else must not. */
    json_array_foreach(docs, i, d)
        json_object_del(d, "_rev");
    return docs;
}

/* The document of a TransactionId in docs, or NULL. */
static json_t *
doc_of(json_t *docs, const char *tid, int *count)
{
    json_t *d, *hit = NULL;
    size_t i;

    *count = 0;
    json_array_foreach(docs, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "TransactionId")),
                   tid) == 0) {
            hit = d;
            (*count)++;
        }
    }
    return hit;
}

/* Exactly the recorded events, each once, equal to the ledger's. */
static void
check_index(fx_t *f, size_t n)
{
    json_t *docs = subject_docs(f), *a, *ev, *d, *v;
    const char *k;
    json_int_t block, seq, tx;
    size_t i;
    int count;

    if (json_array_size(docs) != n || json_array_size(f->recorded) != n) {
        /* Say which ones, so a failure can be told apart from a lag. */
        json_array_foreach(f->recorded, i, a)
            fprintf(stderr, "recorded %zu: %s txid %s block %lld\n", i,
                    json_string_value(json_object_get(
                        json_object_get(a, "event"), "TransactionId")),
                    json_string_value(json_object_get(a, "txid")),
                    (long long)json_integer_value(json_object_get(a,
                                                                  "block")));
        json_array_foreach(docs, i, d)
            fprintf(stderr, "indexed %zu: %s txid %s block %lld\n", i,
                    json_string_value(json_object_get(d, "TransactionId")),
                    json_string_value(json_object_get(d, "txid")),
                    (long long)json_integer_value(json_object_get(d,
                                                                  "block")));
        fprintf(stderr, "index status: %s\n",
                json_dumps(index_status(f), JSON_COMPACT));
    }
    ASSERT_EQ(json_array_size(docs), n);
    ASSERT_EQ(json_array_size(f->recorded), n);
    json_array_foreach(f->recorded, i, a) {
        ev = json_object_get(a, "event");
        d = doc_of(docs, json_string_value(json_object_get(ev,
                                                           "TransactionId")),
                   &count);
        ASSERT_EQ(count, 1);
        json_object_foreach(ev, k, v) {
            if (!json_equal(v, json_object_get(d, k)))
                TEST__FAIL("event %zu field %s differs in the index", i, k);
        }
        ASSERT_STR_EQ(json_string_value(json_object_get(d, "txid")),
                      json_string_value(json_object_get(a, "txid")));
        block = json_integer_value(json_object_get(a, "block"));
        ASSERT_EQ(json_integer_value(json_object_get(d, "block")), block);
        seq = json_integer_value(json_object_get(d, "sequence"));
        tx = json_integer_value(json_object_get(d, "tx_index"));
        ASSERT(tx >= 0 && tx <= 0xFFFF);
        ASSERT_EQ(seq, (block << 16) | tx);
        ASSERT_EQ(strncmp(json_string_value(json_object_get(d, "_id")),
                          "ev:", 3), 0);
        ASSERT_STR_EQ(json_string_value(json_object_get(d, "_id")) + 3,
                      json_string_value(json_object_get(ev,
                                                        "TransactionId")));
        ASSERT(json_integer_value(json_object_get(d, "ts")) > 1600000000);
    }
    json_decref(docs);
}

/* The index component of /healthz. */
static const char *
health_of_index(fx_t *f, char *buf, size_t n)
{
    json_t *j = NULL;
    const char *s;

    rest(f, "GET", "/healthz", NULL, &j);
    s = json_string_value(json_object_get(json_object_get(
        json_object_get(j, "components"), "index"), "status"));
    snprintf(buf, n, "%s", s != NULL ? s : "");
    json_decref(j);
    return buf;
}

static pid_t
couch_pid(fx_t *f)
{
    FILE *fp = fopen(f->pid_file, "r");
    long pid = 0;

    ASSERT_NOT_NULL(fp);
    ASSERT_EQ(fscanf(fp, "%ld", &pid), 1);
    fclose(fp);
    ASSERT(pid > 1);
    return (pid_t)pid;
}

TEST_IMPL(index_follows_the_ledger)
{
    char cmd[2048], buf[32];
    json_t *before, *after;
    pid_t pid;
    int i, degraded = 0;
    fx_t f;

    fx_open(&f);
    wait_current(&f);
    for (i = 0; i < N_FIRST; i++)
        record(&f, i);
    wait_current(&f);
    check_index(&f, N_FIRST);

    /* CouchDB goes away in the middle of a stream of submissions. */
    pid = couch_pid(&f);
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    for (i = 0; i < 100 && kill(pid, 0) == 0; i++)
        gwt_sleep_ms(100);
    ASSERT(kill(pid, 0) != 0);
    for (i = N_FIRST; i < N_ALL; i++) {
        record(&f, i);
        if (strcmp(health_of_index(&f, buf, sizeof(buf)), "degraded") == 0)
            degraded = 1;
    }
    for (i = 0; i < 100 && !degraded; i++) {
        degraded = strcmp(health_of_index(&f, buf, sizeof(buf)),
                          "degraded") == 0;
        gwt_sleep_ms(100);
    }
    ASSERT_EQ(degraded, 1);

    /* Back on the same data: `up` starts only what is not running. */
    snprintf(cmd, sizeof(cmd), "'%s' network up --run-dir '%s' "
             "--timeout 180 >/dev/null", getenv("RESOCTL"), netfx_run_dir());
    ASSERT_EQ(system(cmd), 0);
    ASSERT(couch_pid(&f) != pid);
    wait_current(&f);
    ASSERT_STR_EQ(health_of_index(&f, buf, sizeof(buf)), "ok");
    check_index(&f, N_ALL);

    /* Rebuild from block 0 (resoctl index rebuild --wait: POST
     * /v1/index/rebuild, then status until current): the same documents
     * again. */
    before = subject_docs(&f);
    snprintf(cmd, sizeof(cmd), "'%s' index rebuild --wait --timeout %d "
             "--run-dir '%s' >/dev/null", getenv("RESOCTL"), CATCH_UP_S,
             netfx_run_dir());
    ASSERT_EQ(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "'%s' index status --run-dir '%s' "
             ">/dev/null", getenv("RESOCTL"), netfx_run_dir());
    ASSERT_EQ(system(cmd), 0);
    after = subject_docs(&f);
    ASSERT_EQ(json_array_size(after), (size_t)N_ALL);
    ASSERT(json_equal(before, after));
    check_index(&f, N_ALL);
    json_decref(before);
    json_decref(after);
    fx_close(&f);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(index_follows_the_ledger),
};

TEST_MAIN(tests)
