/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Report query benchmark (issue 4): _find p50/p95 of the report queries
 * on a CouchDB index of N documents (default 100,000), split into
 * CouchDB's time and the gateway's.
 *
 * It starts a private pouchdb-server (couchproc: free loopback port,
 * temp dir, stopped by PID), creates the index database and the Mango
 * indexes of couch_schema.h, bulk-loads N synthetic event documents in
 * the indexer's schema (60% RCP-002 onboarding events of 10,000
 * applicants, 20% association events of 2,000 members, 20% listing
 * events), then runs reso-gateway's index and reports modules in-process
 * on 127.0.0.1 port 0 and times each query three ways:
 *
 *   direct  gw_couch_find of the same _find body from this process
 *           (CouchDB's time plus the client library's);
 * Each query runs once untimed (index warm-up), then --iterations times
 * (--scan-iterations for the onboarding scans), fewer (at least 3) when
 * its runs take more than 90 s in all.
 *   couch   the Server-Timing "couch" part of the gateway's answer (the
 *           gateway's _find calls);
 *   total   the HTTP request as the client sees it; total - couch is the
 *           gateway's own time (HTTP, routing, the pure query building
 *           and aggregation, JSON), and "gw" is the job part of it.
 *
 * Prints a Markdown table on stdout. A benchmark, not a test: errors
 * abort with a message.
 *
 * usage: reports_bench [--docs N] [--iterations K] [--scan-iterations S]
 */
#include "couch.h"
#include "couch_schema.h"
#include "couchproc.h"
#include "gwtest.h"
#include "hub.h"
#include "index.h"
#include "reports.h"
#include "reports_fixture.h"

#include "benchlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY "reports-bench-key-0123456789"
#define AUTH "Authorization: Bearer " KEY
#define T0 1700000000LL

static couchproc_t srv;
static gw_couch_t *couch;

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "reports_bench: %s: %s\n", what, detail);
    couchproc_free(&srv);
    exit(1);
}

/* Document i of the synthetic index (new). */
static json_t *
make_doc(long i)
{
    static const char *const steps[][2] = {
        {"Application", "Started"},     {"License1", "Provided"},
        {"ICA", "Signed"},              {"License1", "Verified"},
        {"Verification", "Complete"},   {"Approval", "Complete"},
    };
    static const char *const assoc[] = {"Education", "Appointment",
                                        "Election"};
    long seq = ((i / 8 + 1) << 16) | (i % 8), ts = T0 + i * 30, k;
    char subj[40], tid[64], id[72], when[40];
    const char *stype, *event, *state, *system;
    time_t t = (time_t)ts;
    struct tm tm;
    json_t *d;

    if (i % 10 < 6) {
        k = i / 10 * 6 + i % 10;
        snprintf(subj, sizeof(subj), "J%05ld", k % 10000);
        stype = "Agent";
        event = steps[(k / 10000) % 6][0];
        state = steps[(k / 10000) % 6][1];
        system = "Transaction Management Service";
    } else if (i % 10 < 8) {
        snprintf(subj, sizeof(subj), "urn:reso:ulid:%06ld", i % 2000);
        stype = "Member";
        event = assoc[i % 3];
        state = "Recorded";
        system = "Association Management System";
    } else {
        snprintf(subj, sizeof(subj), "US-42049-%06ld", i % 5000);
        stype = "Property";
        event = "Listing";
        state = i % 3 ? "Changed" : "Recorded";
        system = "Property Listing Service";
    }
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(tid, sizeof(tid), "b%07ld-0000-4000-8000-000000000000", i);
    snprintf(id, sizeof(id), "ev:%s", tid);
    d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                  " s:s, s:s, s:s, s:I, s:I, s:i, s:I, s:i}",
                  "_id", id, "type", "event", "TransactionId", tid,
                  "EventSubject", subj, "System", system, "SubjectType",
                  stype, "Entity", "Agent", "Event", event, "State", state,
                  "Recorder", i % 4 ? "urn:reso:recorder:org1:ae1643"
                                    : "urn:reso:recorder:org2:lae643",
                  "Application", "87478-a43", "Timestamp", when, "Version",
                  "1.5-draft", "sequence", (json_int_t)seq, "block",
                  (json_int_t)(seq >> 16), "tx_index", (int)(seq & 0xffff),
                  "ts", (json_int_t)ts, "ts_ns", 0);
    if (d == NULL)
        die("json", "out of memory");
    json_object_set_new(d, "txid", json_string(tid));
    if (i % 10 == 6)
        json_object_set_new(d, "Context",
                            json_pack("{s:s, s:i, s:s}", "Organization",
                                      "OREA", "Year", 2020, "CourseCode",
                                      "I-567"));
    return d;
}

static void
load(long ndocs)
{
    double t0 = bench_now_ms();
    long i = 0;

    while (i < ndocs) {
        json_t *batch = json_array();
        gw_couch_bulk_t b;
        hlf_error_t e;
        long n;

        for (n = 0; n < 2000 && i < ndocs; n++, i++)
            json_array_append_new(batch, make_doc(i));
        if (gw_couch_bulk_docs(couch, batch, &b, NULL, NULL, &e) != HLF_OK)
            die("_bulk_docs", e.text);
        if (b.ok != (size_t)n)
            die("_bulk_docs", b.first_error);
        json_decref(batch);
    }
    fprintf(stderr, "loaded %ld documents in %.1f s\n", ndocs,
            (bench_now_ms() - t0) / 1000);
}

/*
 * Bring every Mango index up to date before the gateway starts: CouchDB
 * and pouchdb-server build an index lazily, on the first query after
 * writes, and that first build of 100,000 documents takes longer than
 * the indexer's request timeout. Timed, and reported as build time.
 */
static void
warm_indexes(void)
{
    double t0 = bench_now_ms();

#define WARM(name, ...)                                                    \
    do {                                                                   \
        static const char *const f_[] = {__VA_ARGS__};                     \
        json_t *sel = json_object(), *sort = json_array(), *q, *ans = NULL; \
        hlf_error_t e;                                                     \
        size_t k;                                                          \
                                                                           \
        for (k = 0; k < sizeof(f_) / sizeof(f_[0]); k++) {                 \
            json_object_set_new(sel, f_[k], json_pack("{s:n}", "$gt"));    \
            json_array_append_new(sort, json_pack("{s:s}", f_[k], "asc")); \
        }                                                                  \
        q = json_pack("{s:o, s:o, s:i, s:[s,s]}", "selector", sel, "sort", \
                      sort, "limit", 1, "use_index", GW_COUCH_DDOC, name); \
        if (gw_couch_find(couch, q, &ans, NULL, &e) != HLF_OK)             \
            die(name, e.text);                                             \
        json_decref(ans);                                                  \
        json_decref(q);                                                    \
    } while (0);
    GW_COUCH_INDEX_MAP(WARM)
#undef WARM
    fprintf(stderr, "built the Mango indexes in %.1f s\n",
            (bench_now_ms() - t0) / 1000);
}

/* One query: its path and the _find body the gateway builds for it
 * (NULL for the onboarding scan, which is many _finds). */
typedef struct qdef_s {
    const char *name;
    const char *path;
    int iterations;
} qdef_t;

typedef struct query_s {
    const char *name;
    const char *path;
    int iterations;
    double total[64], couch[64], gw[64], direct[64];
    int n;
    size_t results;
} query_t;

static double
timing_part(const char *st, const char *key)
{
    const char *p = strstr(st, key);

    return p != NULL ? strtod(p + strlen(key), NULL) : -1;
}

static void
run_http(query_t *q, int port)
{
    static const char *const hdrs[] = {AUTH, NULL};
    gwt_opts_t o;
    gwt_resp_t r;
    char st[160];
    json_t *body;
    int i;

    double t0 = bench_now_ms();

    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    o.timeout_ms = 600000;
    /* At least 3 timed runs; slow queries stop after about 90 s. */
    for (i = -1; i < q->iterations && i < 64 &&
                 (i < 3 || bench_now_ms() - t0 < 90000);
         i++) {
        gwt_http("GET", port, q->path, &o, &r);
        if (r.curl_rc != 0 || r.status != 200)
            die(q->path, r.body != NULL ? r.body : "no answer");
        if (i == 0 || i == -1) {
            body = json_loads(r.body, 0, NULL);
            q->results = json_array_size(json_object_get(body, "events"));
            if (json_object_get(body, "applicants") != NULL)
                q->results = (size_t)json_integer_value(
                    json_object_get(body, "events"));
            json_decref(body);
        }
        /* The first run warms CouchDB's index; not counted. */
        if (i >= 0 && gwt_header(&r, "Server-Timing", st, sizeof(st))) {
            q->total[i] = r.secs * 1000;
            q->couch[i] = timing_part(st, "couch;dur=");
            q->gw[i] = timing_part(st, "gw;dur=");
            q->n = i + 1;
        }
        gwt_resp_free(&r);
    }
}

/* The same _find body, straight to CouchDB. */
static void
run_direct(query_t *q, const json_t *find)
{
    int i;

    for (i = 0; find != NULL && i < q->n; i++) {
        json_t *ans = NULL;
        hlf_error_t e;
        double t0 = bench_now_ms();

        if (gw_couch_find(couch, find, &ans, NULL, &e) != HLF_OK)
            die("_find", e.text);
        q->direct[i] = bench_now_ms() - t0;
        json_decref(ans);
    }
}

static void
row(query_t *q, int direct)
{
    double v[64];
    int k;

    printf("| %s | %zu | %d |", q->name, q->results, q->n);
    for (k = 0; k < 4; k++) {
        double *src = k == 0 ? q->total : k == 1 ? q->couch
                                        : k == 2 ? q->gw : q->direct;
        double tmp[64];

        if (k == 3 && !direct) {
            printf(" - |");
            continue;
        }
        memcpy(v, src, sizeof(double) * (size_t)q->n);
        memcpy(tmp, src, sizeof(double) * (size_t)q->n);
        printf(" %.1f / %.1f |", bench_quantile(v, (size_t)q->n, 0.5),
               bench_quantile(tmp, (size_t)q->n, 0.95));
    }
    {
        double own[64];

        for (k = 0; k < q->n; k++)
            own[k] = q->total[k] - q->couch[k];
        printf(" %.1f / %.1f |\n", bench_quantile(own, (size_t)q->n, 0.5),
               bench_quantile(own, (size_t)q->n, 0.95));
    }
}

/* The _find body the search route builds for a query string. */
static json_t *
search_find(const char *const *kv, size_t n)
{
    gw_reports_param_t p[8];
    json_t *find = NULL;
    size_t i, limit;
    int desc;

    for (i = 0; i < n; i++) {
        p[i].name = kv[2 * i];
        p[i].value = kv[2 * i + 1];
    }
    if (gw_reports_search_query(p, n, &find, &limit, &desc, NULL) != HLF_OK)
        die("search_query", "refused");
    return find;
}

int
main(int argc, char **argv)
{
    long ndocs = 100000;
    int iters = 30, scan_iters = 5, port, i;
    char hash[65], text[1024], cursor_path[128];
    gw_couch_opts_t o;
    gw_config_t *cfg;
    gw_hub_t *hub = NULL;
    hlf_error_t e;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--docs") == 0)
            ndocs = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--iterations") == 0)
            iters = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--scan-iterations") == 0)
            scan_iters = (int)strtol(argv[i + 1], NULL, 10);
    }
    if (ndocs < 1000 || iters < 1 || iters > 63 || scan_iters < 1 ||
        scan_iters > 63) {
        fprintf(stderr, "usage: reports_bench [--docs N>=1000] "
                        "[--iterations 1..63] [--scan-iterations 1..63]\n");
        return 2;
    }
    if (couchproc_start(&srv) != 0)
        die("pouchdb-server", "could not start (scripts/setup.sh?)");
    memset(&o, 0, sizeof(o));
    o.url = srv.url;
    o.db = GW_DEFAULT_COUCH_DB;
    o.timeout_ms = 600000;
    if (gw_couch_new(&o, &couch, &e) != HLF_OK ||
        gw_couch_db_create(couch, NULL, NULL, &e) != HLF_OK)
        die("couch", e.text);
#define MAKE_INDEX(name, ...)                                              \
    do {                                                                   \
        static const char *const f_[] = {__VA_ARGS__};                     \
        if (gw_couch_index_create(couch, GW_COUCH_DDOC, name, f_,          \
                                  sizeof(f_) / sizeof(f_[0]), NULL, NULL,  \
                                  &e) != HLF_OK)                           \
            die(name, e.text);                                             \
    } while (0);
    GW_COUCH_INDEX_MAP(MAKE_INDEX)
#undef MAKE_INDEX
    load(ndocs);
    warm_indexes();

    gwt_sha256_hex(KEY, hash);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\nstate_dir /tmp\naccess_log no\n"
             "rate_limit_per_key 0\nrequest_timeout_ms 600000\n"
             "identity Bench BenchMSP /nonexistent/b\n"
             "apikey bench Bench %s\ncouch_url %s\n",
             hash, srv.url);
    cfg = gwt_config(text);
    port = rf_gateway_start(cfg, 16, &hub);
    for (i = 0;; i++) {
        gw_index_status_t st;

        gw_index_status(&st);
        if (st.state == GW_INDEX_OK)
            break;
        if (i == 6000)
            die("index", st.detail);
        gwt_sleep_ms(100);
    }

    /* A cursor in the middle of the sequence range. */
    snprintf(cursor_path, sizeof(cursor_path),
             "/v1/events?limit=50&cursor=a%ld",
             (long)(((ndocs / 16 + 1) << 16)));
    {
        static const char *const kv_first[] = {"limit", "50"};
        static const char *const kv_sel[] = {"Event", "Education",
                                             "Recorder",
                                             "urn:reso:recorder:org2:lae643",
                                             "limit", "50"};
        static const char *const kv_subj[] = {"EventSubject", "J00042",
                                              "limit", "50"};
        static const char *const kv_time[] = {
            "from", "1700300000", "to", "1700303000", "limit", "50"};
        gw_reports_param_t none[1];
        json_t *act = NULL, *finds[6];
        size_t lim;
        const qdef_t defs[] = {
            {"search, first page (limit 50)", "/v1/events?limit=50", iters},
            {"search, page after a mid cursor", cursor_path, iters},
            {"search, Event + Recorder (selective)",
             "/v1/events?Event=Education&Recorder=urn:reso:recorder:org2:"
             "lae643&limit=50",
             iters},
            {"search, one EventSubject", "/v1/events?EventSubject=J00042&"
                                         "limit=50",
             iters},
            {"search, 50-minute time range",
             "/v1/events?from=1700300000&to=1700303000&limit=50", iters},
            {"member activity (50 events)",
             "/v1/reports/member-activity/urn:reso:ulid:000006", iters},
            {"onboarding, one day",
             "/v1/reports/onboarding?from=1700200000&to=1700286400",
             scan_iters},
            {"onboarding, everything", "/v1/reports/onboarding",
             scan_iters},
        };
        const char *kv_cursor[] = {"limit", "50", "cursor",
                                   strstr(cursor_path, "cursor=") + 7};
        query_t qs[sizeof(defs) / sizeof(defs[0])];

        memset(qs, 0, sizeof(qs));
        for (i = 0; i < (int)(sizeof(defs) / sizeof(defs[0])); i++) {
            qs[i].name = defs[i].name;
            qs[i].path = defs[i].path;
            qs[i].iterations = defs[i].iterations;
        }

        memset(none, 0, sizeof(none));
        finds[0] = search_find(kv_first, 1);
        finds[1] = search_find(kv_cursor, 2);
        finds[2] = search_find(kv_sel, 3);
        finds[3] = search_find(kv_subj, 2);
        finds[4] = search_find(kv_time, 3);
        if (gw_reports_activity_query("urn:reso:ulid:000006", none, 0, &act,
                                      &lim, NULL) != HLF_OK)
            die("activity_query", "refused");
        finds[5] = act;
        printf("| query | results | runs | total p50 / p95 ms | couch "
               "p50 / p95 | gw job p50 / p95 | direct _find p50 / p95 | "
               "total - couch p50 / p95 |\n");
        printf("|:--|--:|--:|--:|--:|--:|--:|--:|\n");
        for (i = 0; i < (int)(sizeof(qs) / sizeof(qs[0])); i++) {
            run_http(&qs[i], port);
            run_direct(&qs[i], i < 6 ? finds[i] : NULL);
            row(&qs[i], i < 6);
            fflush(stdout);
            if (i < 6)
                json_decref(finds[i]);
        }
    }
    {
        gw_couch_stats_t cs;

        gw_couch_stats(couch, &cs);
        fprintf(stderr, "direct client: %llu requests, %.1f ms decoding "
                        "answers in all\n",
                (unsigned long long)cs.requests, (double)cs.decode_ns / 1e6);
    }
    rf_gateway_stop(cfg, hub);
    gw_couch_free(couch);
    couchproc_free(&srv);
    return 0;
}
