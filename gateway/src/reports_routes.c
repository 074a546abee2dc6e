/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reports module of reso-gateway: report and search routes answered
 * from the off-chain CouchDB index (issue 4, docs/reports.md).
 *
 *   GET /v1/events                                   search, paged
 *   GET /v1/reports/member-activity/{EventSubject}   newest first, paged
 *   GET /v1/reports/onboarding                       RCP-002 dashboard
 *
 * Handlers check the parameters (reports.c, pure) and the index state,
 * then defer the CouchDB work to the worker pool; the job scans the
 * query's index range along the sequence with Mango _find, asking
 * CouchDB only the index's own conditions and checking the others in C
 * (pouchdb-server would read the whole range for them before applying
 * the limit), until the page is full; the onboarding report aggregates
 * the scan in C. Then it replies. With the index disabled, down or more
 * than one indexer batch behind the stream, every route answers 503
 * INDEX_UNAVAILABLE with Retry-After instead of stale data.
 *
 * Every answer carries Server-Timing: "couch" is the wall time of the
 * _find calls (request, CouchDB's work, answer parsing), "gw" the rest
 * of the job (query building, aggregation, reply JSON); the benchmark
 * (bench/reports_bench.c) reads it to split CouchDB time from ours.
 */
#include "reports.h"

#include "couch.h"
#include "index.h"
#include "hlf/log.h"
#include "hlf/mem.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Query parameters one request may carry. */
#define PARAMS_MAX 64

/*
 * g_cfg and m_couch_s are set by init on the main thread before HTTP
 * starts. The CouchDB client is created by start; jobs borrow it under
 * couch_lock (couch_users counts them) so that stop, which may run
 * while a request that outlived the drain is still in a job, frees it
 * only once no job uses it.
 */
static const gw_config_t *g_cfg;
static gw_metric_t *m_couch_s;
static pthread_mutex_t couch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t couch_idle = PTHREAD_COND_INITIALIZER;
static gw_couch_t *g_couch;
static int couch_users;

static gw_couch_t *
couch_acquire(void)
{
    gw_couch_t *c;

    pthread_mutex_lock(&couch_lock);
    c = g_couch;
    if (c != NULL)
        couch_users++;
    pthread_mutex_unlock(&couch_lock);
    return c;
}

static void
couch_release(void)
{
    pthread_mutex_lock(&couch_lock);
    if (--couch_users == 0)
        pthread_cond_broadcast(&couch_idle);
    pthread_mutex_unlock(&couch_lock);
}

enum { R_SEARCH, R_ACTIVITY, R_ONBOARDING };
static const char *const report_names[] = {"search", "member-activity",
                                           "onboarding"};

typedef struct job_s {
    gw_req_t *req;
    int kind;
    json_t *find;          /* the _find body (whole selector) */
    json_t *matches;       /* page scans: the matching documents */
    gw_onboarding_t *agg;  /* onboarding: the aggregation */
    size_t limit;
    int desc;
    int stuck_days;
    const char *subject;   /* borrowed from req */
    const char *cursor;    /* borrowed from req */
    gw_couch_t *couch;     /* acquired by run_job */
    int64_t started_ns;
    int64_t couch_ns;
} job_t;

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
job_free(void *arg)
{
    job_t *j = arg;

    if (j != NULL) {
        json_decref(j->find);
        json_decref(j->matches);
        gw_onboarding_free(j->agg);
        hlf_free(j);
    }
}

/* 400 with a report's own code (gw_reports_bad_t). */
static int
reply_bad(gw_req_t *req, const gw_reports_bad_t *bad)
{
    json_t *err = json_pack("{s:s, s:s}", "code", bad->code, "message",
                            bad->message);

    if (err != NULL && bad->field != NULL)
        json_object_set_new(err, "field", json_string(bad->field));
    if (err == NULL)
        return HLF_ENOMEM;
    return gw_reply_json(req, 400, json_pack("{s:o}", "error", err), NULL,
                         0);
}

/* 503 INDEX_UNAVAILABLE + Retry-After; why is one line. */
static int
reply_unavailable(gw_req_t *req, const char *why)
{
    char ra[16];
    gw_header_t h = {"Retry-After", ra};
    json_t *body;

    snprintf(ra, sizeof(ra), "%d",
             g_cfg != NULL && g_cfg->retry_after_s > 0 ? g_cfg->retry_after_s
                                                      : 1);
    body = json_pack("{s:{s:s, s:s}}", "error", "code", "INDEX_UNAVAILABLE",
                     "message", why);
    if (body == NULL)
        return HLF_ENOMEM;
    return gw_reply_json(req, 503, body, &h, 1);
}

/*
 * Serve from the index only when it is current: enabled, CouchDB
 * reachable, and at most one indexer batch behind the stream (a batch
 * in flight is normal; more means it is catching up). Returns 1 when
 * the caller may go on, else 0 after replying 503.
 */
static int
index_ready(gw_req_t *req)
{
    gw_index_status_t st;
    char why[320];

    if (g_cfg->couch_url == NULL) {
        reply_unavailable(req, "the index is disabled (couch_url is not "
                               "configured)");
        return 0;
    }
    gw_index_status(&st);
    if (st.state != GW_INDEX_OK) {
        snprintf(why, sizeof(why), "the index is %s%s%s",
                 gw_index_state_name(st.state),
                 st.detail[0] != '\0' ? ": " : "", st.detail);
        reply_unavailable(req, why);
        return 0;
    }
    if (st.rebuilding) {
        reply_unavailable(req, "the index is being rebuilt from block 0");
        return 0;
    }
    if (st.lag > (uint64_t)g_cfg->index_batch_max) {
        snprintf(why, sizeof(why), "the index is catching up: %" PRIu64
                 " events behind the ledger", st.lag);
        reply_unavailable(req, why);
        return 0;
    }
    return 1;
}

/* The request's query parameters as report parameters. */
static size_t
params_of(gw_req_t *req, gw_reports_param_t *p, size_t max)
{
    size_t i, n = gw_req_query_count(req);

    for (i = 0; i < n && i < max; i++)
        gw_req_query_at(req, i, &p[i].name, &p[i].value);
    return n;
}

/* _find through the shared client, timed. */
static int
find_docs(job_t *j, const json_t *q, json_t **resp, hlf_error_t *e)
{
    int64_t t0 = now_ns();
    int rc = gw_couch_find(j->couch, q, resp, NULL, e);
    int64_t dt = now_ns() - t0;

    j->couch_ns += dt;
    gw_histogram_observe(m_couch_s, GW_LABELS(report_names[j->kind]),
                         (double)dt / 1e9);
    return rc;
}

/* The answer to a failed _find. */
static void
reply_couch_error(job_t *j, int rc, const hlf_error_t *e)
{
    hlf_log(HLF_LOG_WARN, "reports", "%s: %s", report_names[j->kind],
            e->text);
    if (rc == HLF_EUNAVAIL || rc == HLF_ETIMEDOUT)
        reply_unavailable(j->req, "CouchDB did not answer the query");
    else
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL,
                       "the index query failed: %s", hlf_strerror(rc));
}

static void
reply_page(job_t *j, json_t *body)
{
    char timing[96];
    gw_header_t h = {"Server-Timing", timing};
    int64_t total = now_ns() - j->started_ns;

    snprintf(timing, sizeof(timing), "couch;dur=%.3f, gw;dur=%.3f",
             (double)j->couch_ns / 1e6,
             (double)(total - j->couch_ns) / 1e6);
    gw_reply_json(j->req, 200, body, &h, 1);
}

/*
 * Scan find's index range along the sequence, a _find of batch documents
 * at a time asking only the index's conditions, and hand every document
 * that satisfies the whole selector to take (which returns 1 to stop).
 * Stops at the end of the range or after max documents (*cut = 1).
 * *last gets the sequence of the last document scanned (-1: none).
 * HLF_OK, a gw_couch_find code (e filled), HLF_ECLOSED (the client is
 * gone), HLF_ENOMEM.
 */
static int
scan(job_t *j, const json_t *find, size_t batch, size_t max,
     int (*take)(job_t *, json_t *), int64_t *last, int *cut,
     hlf_error_t *e)
{
    const json_t *sel = json_object_get(find, "selector");
    json_t *q, *resp, *docs;
    size_t i, n, seen = 0;
    int rc, stop = 0;

    *last = -1;
    *cut = 0;
    do {
        if (gw_req_abandoned(j->req))
            return HLF_ECLOSED;
        q = gw_reports_scan_find(find, *last, batch);
        if (q == NULL)
            return HLF_ENOMEM;
        resp = NULL;
        rc = find_docs(j, q, &resp, e);
        json_decref(q);
        if (rc != HLF_OK)
            return rc;
        docs = json_object_get(resp, "docs");
        n = json_array_size(docs);
        for (i = 0; !stop && i < n; i++) {
            json_t *d = json_array_get(docs, i);

            *last = json_integer_value(json_object_get(d, "sequence"));
            if (gw_reports_match(sel, d) && (stop = take(j, d)) < 0) {
                json_decref(resp);
                return HLF_ENOMEM;
            }
        }
        json_decref(resp);
        seen += n;
        if (!stop && n == batch && seen >= max)
            *cut = 1;
    } while (!stop && !*cut && n == batch);
    return HLF_OK;
}

/* Page scans collect limit + 1 matches. */
static int
take_page(job_t *j, json_t *doc)
{
    if (json_array_append(j->matches, doc) != 0)
        return -1;
    return json_array_size(j->matches) > j->limit;
}

static int
take_onboarding(job_t *j, json_t *doc)
{
    return gw_onboarding_add(j->agg, doc) == HLF_OK ? 0 : -1;
}

/* The answer to a scan that failed. */
static void
reply_scan_error(job_t *j, int rc, const hlf_error_t *e)
{
    if (rc == HLF_ECLOSED)
        gw_reply_error(j->req, GW_ERR_TIMEOUT, NULL, "abandoned");
    else if (rc == HLF_ENOMEM)
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
    else
        reply_couch_error(j, rc, e);
}

static void
run_page(job_t *j)
{
    json_t *body = NULL;
    hlf_error_t e;
    int64_t last;
    int rc, cut;
    size_t batch = gw_reports_residual(j->find) ? GW_REPORTS_PAGE_BATCH
                                                : j->limit + 1;

    j->matches = json_array();
    if (j->matches == NULL) {
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
        return;
    }
    rc = scan(j, j->find, batch, GW_REPORTS_PAGE_SCAN_MAX, take_page,
              &last, &cut, &e);
    if (rc != HLF_OK) {
        reply_scan_error(j, rc, &e);
        return;
    }
    if (j->kind == R_SEARCH)
        rc = gw_reports_search_page(j->matches, j->limit, j->desc,
                                    j->cursor, &body);
    else
        rc = gw_reports_activity_page(j->subject, j->matches, j->limit,
                                      j->cursor, &body);
    if (rc != HLF_OK) {
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "the index answered "
                       "documents this gateway did not write (%s)",
                       hlf_strerror(rc));
        return;
    }
    if (cut) {
        /* The scan stopped early: more may follow the last scanned
         * event, even if this page is short. */
        char c[GW_REPORTS_CURSOR_MAX];

        gw_reports_cursor_encode(j->desc, last, c);
        if (json_object_set_new(body, "next_cursor", json_string(c)) != 0 ||
            json_object_set_new(body, "has_more", json_true()) != 0) {
            json_decref(body);
            gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
            return;
        }
    }
    reply_page(j, body);
}

/*
 * Onboarding: scan the Agent events in sequence order into the
 * aggregation.
 */
static void
run_onboarding(job_t *j)
{
    json_t *body = NULL;
    hlf_error_t e;
    int64_t last;
    int rc, cut;

    if (gw_onboarding_new(&j->agg) != HLF_OK) {
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
        return;
    }
    rc = scan(j, j->find, GW_REPORTS_SCAN_BATCH, GW_REPORTS_SCAN_MAX,
              take_onboarding, &last, &cut, &e);
    if (rc != HLF_OK) {
        reply_scan_error(j, rc, &e);
        return;
    }
    if (cut) {
        gw_reports_bad_t bad = {"TOO_MANY_EVENTS", NULL, ""};

        snprintf(bad.message, sizeof(bad.message),
                 "more than %d events to read; narrow the report to "
                 "one Recorder",
                 GW_REPORTS_SCAN_MAX);
        reply_bad(j->req, &bad);
        return;
    }
    if (gw_onboarding_result(j->agg, (int64_t)time(NULL), j->stuck_days,
                             &body) != HLF_OK) {
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
        return;
    }
    reply_page(j, body);
}

static void
run_job(void *arg)
{
    job_t *j = arg;

    j->couch = couch_acquire();
    if (j->couch == NULL)
        reply_unavailable(j->req, "the index is shutting down");
    else if (j->kind == R_ONBOARDING)
        run_onboarding(j);
    else
        run_page(j);
    if (j->couch != NULL)
        couch_release();
    job_free(j);
}

/* Check parameters and index, then defer. */
static int
handle(gw_req_t *req, int kind)
{
    gw_reports_param_t p[PARAMS_MAX];
    gw_reports_bad_t bad;
    size_t n = params_of(req, p, PARAMS_MAX);
    job_t *j;
    int rc;

    if (n > PARAMS_MAX) {
        bad.code = "BAD_REQUEST";
        bad.field = NULL;
        snprintf(bad.message, sizeof(bad.message),
                 "at most %d query parameters", PARAMS_MAX);
        return reply_bad(req, &bad);
    }
    j = hlf_calloc(1, sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    j->req = req;
    j->kind = kind;
    j->started_ns = now_ns();
    j->cursor = gw_req_query(req, "cursor");
    if (kind == R_SEARCH) {
        rc = gw_reports_search_query(p, n, &j->find, &j->limit, &j->desc,
                                     &bad);
    } else if (kind == R_ACTIVITY) {
        j->subject = gw_req_param(req, "EventSubject");
        j->desc = 1;
        rc = gw_reports_activity_query(j->subject, p, n, &j->find,
                                       &j->limit, &bad);
    } else {
        json_t *sel = NULL;

        rc = gw_reports_onboarding_params(
            p, n, g_cfg->onboarding_stuck_days, &sel, &j->stuck_days, &bad);
        if (rc == HLF_OK &&
            (j->find = gw_reports_onboarding_batch(sel, -1)) == NULL)
            rc = HLF_ENOMEM;
        json_decref(sel);
    }
    if (rc != HLF_OK) {
        job_free(j);
        return rc == HLF_EINVAL ? reply_bad(req, &bad) : rc;
    }
    if (!index_ready(req)) {
        job_free(j);
        return HLF_OK;
    }
    return gw_req_defer(req, run_job, j, job_free);
}

static int
get_search(gw_req_t *req)
{
    return handle(req, R_SEARCH);
}

static int
get_activity(gw_req_t *req)
{
    return handle(req, R_ACTIVITY);
}

static int
get_onboarding(gw_req_t *req)
{
    return handle(req, R_ONBOARDING);
}

/* ------------------------------------------------------------------ */
/* Module                                                             */
/* ------------------------------------------------------------------ */

static const double couch_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,  0.1,    0.25,  0.5,  1,
                                       2.5,   5,      10};

static int
reports_init(const gw_config_t *cfg, hlf_error_t *err)
{
    static const struct {
        const char *pattern;
        gw_handler_fn fn;
    } routes[] = {
        {"/v1/events", get_search},
        {"/v1/reports/member-activity/{EventSubject}", get_activity},
        {"/v1/reports/onboarding", get_onboarding},
    };
    size_t i;
    int rc;

    g_cfg = cfg;
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        rc = gw_http_route("GET", routes[i].pattern, routes[i].fn,
                           GW_ROUTE_AUTH);
        if (rc != HLF_OK)
            return hlf_error_set(err, rc, "route GET %s: %s",
                                 routes[i].pattern, hlf_strerror(rc));
    }
    m_couch_s = gw_metric_register(
        GW_METRIC_HISTOGRAM, "reports_couch_find_seconds",
        "CouchDB _find time of the report queries", "report",
        couch_buckets, sizeof(couch_buckets) / sizeof(couch_buckets[0]));
    if (m_couch_s == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "metrics: out of memory");
    return HLF_OK;
}

static int
reports_start(const gw_config_t *cfg, hlf_error_t *err)
{
    gw_couch_t *c = NULL;
    int rc;

    if (cfg->couch_url == NULL)
        return HLF_OK;
    rc = gw_couch_from_config(cfg, &c, err);
    if (rc != HLF_OK)
        return rc == HLF_ENOTFOUND ? HLF_OK : rc;
    pthread_mutex_lock(&couch_lock);
    g_couch = c;
    pthread_mutex_unlock(&couch_lock);
    return HLF_OK;
}

static void
reports_stop(void)
{
    struct timespec until;
    gw_couch_t *c;
    int busy;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5 + (g_cfg != NULL ? g_cfg->request_timeout_ms / 1000
                                       : 0);
    pthread_mutex_lock(&couch_lock);
    c = g_couch;
    g_couch = NULL;
    while (couch_users > 0 &&
           pthread_cond_timedwait(&couch_idle, &couch_lock, &until) == 0)
        ;
    busy = couch_users;
    pthread_mutex_unlock(&couch_lock);
    if (busy > 0)
        hlf_log(HLF_LOG_WARN, "reports", "%d report(s) still query "
                "CouchDB; leaving the client open", busy);
    else
        gw_couch_free(c);
}

const gw_module_t gw_module_reports = {
    "reports", reports_init, reports_start, reports_stop,
};
