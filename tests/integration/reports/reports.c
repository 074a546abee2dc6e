/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reports and search on the real network (issue 4): reso-gateway
 * (gwproc, RESO_GATEWAY_BIN for an ASan build) records events on the
 * fixture network; its indexer replays the ledger into a private
 * pouchdb-server (couchproc) and the report routes answer from it.
 *
 * - Recorder binding is strict, so each org records with a Recorder of
 *   its own that the test registers first (POST /v1/recorders on the
 *   network's gateway with the "<org>-admin" demo API key);
 * - search by Recorder pages in commit order while more events are
 *   recorded between the page fetches: every event of each org's
 *   Recorder exactly once, and every indexed document equals the
 *   ledger's event (GET /v1/events/{TransactionId}) field by field;
 * - the member activity report of a subject is its events newest first
 *   with the transaction information of the ledger;
 * - lookup, subject and time-range filters return exactly the expected
 *   events;
 * - the onboarding report on RCP-002 events recorded on the ledger: the
 *   test activates the extended profile 1.5-ext through the catalog
 *   governance (resoctl catalog activate), records three applicants and
 *   restores the previous profile before it checks anything, so a failed
 *   check never leaves the channel on another profile; tiles, latest
 *   states, the stuck list (stuck_days=0) and the milestone counts must be
 *   exactly those of the recorded events;
 * - the onboarding report on the larger RCP-002 fixture (100 days of
 *   history, which cannot be recorded with today's timestamps), written
 *   into the index directly in the indexer's schema;
 * - CouchDB stopped: recording goes on, reports answer 503
 *   INDEX_UNAVAILABLE with Retry-After; CouchDB back: the index catches
 *   up and the new event is found.
 */
#include "couch.h"
#include "couchproc.h"
#include "gwproc.h"
#include "gwtest.h"
#include "netfixture.h"
#include "reports.h"
#include "reports_fixture.h"
#include "task.h"

#include "hlf/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const ORGS[] = {"Brokerage", "Association", "MLS",
                                   NULL};
#define DB "reso-reports-it"
#define MAXEV 32

/* Search pages are this small so that every Recorder needs several. */
#define PAGE 2

static gwproc_t g;
static couchproc_t srv;
/*
 * The Recorders of this run: recorders[i] belongs to ORGS[i] for the
 * Listing events; recorders[3] to Brokerage for the onboarding events.
 */
static char recorders[4][64];
static char subjects[3][64];

/* What was recorded, in commit order. */
static struct {
    char tid[64];
    int org; /* also the index of its Recorder */
    int subject;
    const char *state;
    json_t *event; /* the stored event from the 201 answer */
} rec[MAXEV];
static int nrec;

static json_t *
body_of(const gwt_resp_t *r)
{
    json_t *v = json_loadb(r->body, r->len, 0, NULL);

    if (v == NULL)
        TEST__FAIL("not JSON (status %ld): %s", r->status, r->body);
    return v;
}

/* GET path as Brokerage; *status gets the status; returns the body. */
static json_t *
get(const char *path, long *status)
{
    gwt_resp_t r;
    json_t *b;

    gwproc_request(&g, 0, "GET", path, NULL, NULL, &r);
    *status = r.status;
    b = body_of(&r);
    gwt_resp_free(&r);
    return b;
}

/* GET that must answer 200. */
static json_t *
get_ok(const char *path)
{
    long st;
    json_t *b = get(path, &st);

    if (st != 200) {
        char *s = json_dumps(b, JSON_COMPACT);

        TEST__FAIL("GET %s: %ld %s", path, st, s);
    }
    return b;
}

/*
 * Record a Listing event of subjects[s] as org with org's Recorder;
 * commits before return.
 */
static void
record(int org, int s, const char *state)
{
    char body[512];
    gwt_resp_t r;
    json_t *b;

    ASSERT(nrec < MAXEV);
    snprintf(body, sizeof(body),
             "{\"EventSubject\":\"%s\",\"System\":\"Property Listing "
             "Service\",\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
             "\"Event\":\"Listing\",\"State\":\"%s\",\"Recorder\":\"%s\","
             "\"Application\":\"reports-it\"}",
             subjects[s], state, recorders[org]);
    gwproc_request(&g, org, "POST", "/v1/events", body, NULL, &r);
    if (r.status != 201) {
        gwproc_dump_log(&g, 40);
        TEST__FAIL("POST /v1/events as %s: %ld %s", ORGS[org], r.status,
                   r.body);
    }
    b = body_of(&r);
    gwt_resp_free(&r);
    rec[nrec].event = json_incref(json_object_get(b, "event"));
    snprintf(rec[nrec].tid, sizeof(rec[nrec].tid), "%s",
             netfx_str(rec[nrec].event, "TransactionId"));
    ASSERT_STR_EQ(netfx_str(rec[nrec].event, "Recorder"), recorders[org]);
    rec[nrec].org = org;
    rec[nrec].subject = s;
    rec[nrec].state = state;
    nrec++;
    json_decref(b);
}

/*
 * Events the index holds for the three orgs' Recorders together; *st is
 * 200 when every search answered 200, else the first other status.
 */
static size_t
indexed_count(long *st)
{
    char path[512];
    size_t got = 0;
    int o;

    *st = 200;
    for (o = 0; o < 3 && *st == 200; o++) {
        json_t *b;

        snprintf(path, sizeof(path), "/v1/events?Recorder=%s&limit=500",
                 recorders[o]);
        b = get(path, st);
        got += json_array_size(json_object_get(b, "events"));
        json_decref(b);
    }
    return got;
}

/*
 * Wait (up to 10 minutes: the indexer replays the whole ledger of the
 * fixture network first) until searches by our Recorders find want
 * events; 503 INDEX_UNAVAILABLE is expected while it catches up.
 */
static void
wait_indexed(int want)
{
    long st = 0;
    size_t got = 0;
    int i;

    for (i = 0; i < 1200; i++) {
        got = indexed_count(&st);
        if (st == 200 && got == (size_t)want)
            return;
        if (st != 200 && st != 503)
            break;
        gwt_sleep_ms(500);
    }
    gwproc_dump_log(&g, 40);
    TEST__FAIL("index: status %ld, %zu of %d events", st, got, want);
}

/* The index document equals the ledger's event, field by field. */
static void
same_as_ledger(json_t *doc)
{
    char path[128];
    json_t *ev;
    const char *k;
    json_t *v;

    snprintf(path, sizeof(path), "/v1/events/%s",
             netfx_str(doc, "TransactionId"));
    ev = get_ok(path);
    json_object_foreach(ev, k, v) {
        if (!json_equal(v, json_object_get(doc, k)))
            TEST__FAIL("%s: %s differs from the ledger", path, k);
    }
    ASSERT(json_integer_value(json_object_get(doc, "sequence")) > 0);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "sequence")) >> 16,
              json_integer_value(json_object_get(doc, "block")));
    json_decref(ev);
}

/*
 * Register id to org through the fixture network's own gateway: POST
 * /v1/recorders with the "<org>-admin" demo API key must answer 201 with
 * the registration.
 */
static void
register_recorder(json_t *env, const char *org, const char *id)
{
    json_t *gw = json_object_get(env, "gateway"), *b;
    const char *url = netfx_str(gw, "url");
    char auth[256], key[64], body[320], msp[64];
    const char *hdrs[3] = {auth, "Content-Type: application/json", NULL};
    gwt_opts_t o;
    gwt_resp_t r;

    snprintf(key, sizeof(key), "%s-admin", org);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             netfx_str(json_object_get(gw, "api_keys"), key));
    snprintf(body, sizeof(body), "{\"Recorder\":\"%s\"}", id);
    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    o.body = body;
    o.body_len = strlen(body);
    o.timeout_ms = 60000;
    ASSERT_NOT_NULL(strrchr(url, ':'));
    gwt_http("POST", (int)strtol(strrchr(url, ':') + 1, NULL, 10),
             "/v1/recorders", &o, &r);
    if (r.curl_rc != 0 || r.status != 201)
        TEST__FAIL("POST /v1/recorders as %s: curl %d, %ld %s", key,
                   r.curl_rc, r.status, r.body != NULL ? r.body : "");
    b = body_of(&r);
    gwt_resp_free(&r);
    snprintf(msp, sizeof(msp), "%sMSP", org);
    ASSERT_STR_EQ(netfx_str(b, "Recorder"), id);
    ASSERT_STR_EQ(netfx_str(b, "Org"), msp);
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Active");
    json_decref(b);
}

/*
 * Wait (up to 10 s each) until every org's peer answers GetRecorder for
 * each of our Recorders: the reports gateway's endorsers read the
 * registry, and a peer may commit the registering block a moment after
 * the network gateway's peer did.
 */
static void
await_registered(json_t *env)
{
    hlf_error_t e;
    reso_org_t p;
    int o, k, i, rc = HLF_EINVAL;

    for (o = 0; o < 3; o++) {
        netfx_org_open(env, ORGS[o], &p);
        for (k = 0; k < 4; k++) {
            hlf_bytes_t a = hlf_bytes_str(recorders[k]), res = {0};

            for (i = 0; i < 100; i++) {
                hlf_error_clear(&e);
                rc = hlf_contract_evaluate(p.contract, "GetRecorder", &a, 1,
                                           &res, &e);
                hlf_bytes_free(&res);
                if (rc == HLF_OK)
                    break;
                gwt_sleep_ms(100);
            }
            if (rc != HLF_OK)
                TEST__FAIL("GetRecorder %s on %s's peer: %s", recorders[k],
                           ORGS[o], e.text);
        }
        reso_netenv_close_org(&p);
    }
}

static void
setup(void)
{
    static const int owner[4] = {0, 1, 2, 0};
    char extra[512];
    gwproc_opts_t o;
    json_t *env = netfx_env();
    uint8_t r[6];
    char hex[13];
    int rc, i;

    rc = couchproc_start(&srv);
    if (rc == COUCHPROC_MISSING)
        RETURN_SKIP("pouchdb-server is not installed (scripts/setup.sh)");
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
    hlf_hex_encode(r, sizeof(r), hex);
    for (i = 0; i < 3; i++) {
        snprintf(recorders[i], sizeof(recorders[i]),
                 "urn:reso:recorder:b2it:%s:%d", hex, i);
        snprintf(subjects[i], sizeof(subjects[i]), "US-42049-%s-%d-R-N",
                 hex, i);
    }
    snprintf(recorders[3], sizeof(recorders[3]),
             "urn:reso:recorder:b2it:%s:onboarding", hex);
    for (i = 0; i < 4; i++)
        register_recorder(env, ORGS[owner[i]], recorders[i]);
    await_registered(env);
    snprintf(extra, sizeof(extra),
             "request_timeout_ms 30000\n"
             "rate_limit_per_key 1000 2000\n"
             "retry_after_s 3\n"
             "couch_url %s\n"
             "couch_db " DB "\n"
             "index_batch_max 200\n"
             "index_retry_max_ms 1000\n",
             srv.url);
    memset(&o, 0, sizeof(o));
    o.identities = ORGS;
    o.tag = "reports";
    o.extra = extra;
    gwproc_prepare(&g, env, &o);
    json_decref(env);
    gwproc_start(&g);
}

static void
teardown(void)
{
    int i;

    gwproc_free(&g);
    couchproc_free(&srv);
    for (i = 0; i < nrec; i++)
        json_decref(rec[i].event);
}

/*
 * The next event at or after rec[*pos] that org recorded (its index),
 * advancing *pos past it; fails the test when there is none.
 */
static int
next_of(int org, int *pos)
{
    while (*pos < nrec && rec[*pos].org != org)
        (*pos)++;
    ASSERT(*pos < nrec);
    return (*pos)++;
}

/*
 * Search by each org's Recorder in pages of PAGE, recording one more
 * event per org after the first page of Brokerage's Recorder: each
 * search returns exactly that org's events in commit order, the new ones
 * included, over exactly the pages their count needs.
 */
static void
check_search_paging(void)
{
    static const char *const more[] = {"Closed", "Changed", "Recorded"};
    char path[512];
    json_t *page, *ev;
    int seen = 0, total_pages = 0, org, i;
    size_t k;

    for (org = 0; org < 3; org++) {
        int pos = 0, pages = 0, mine = 0;

        snprintf(path, sizeof(path), "/v1/events?Recorder=%s&limit=%d",
                 recorders[org], PAGE);
        page = get_ok(path);
        for (;;) {
            pages++;
            ev = json_object_get(page, "events");
            ASSERT(json_array_size(ev) <= PAGE);
            for (k = 0; k < json_array_size(ev); k++) {
                json_t *d = json_array_get(ev, k);

                ASSERT_STR_EQ(netfx_str(d, "TransactionId"),
                              rec[next_of(org, &pos)].tid);
                ASSERT_STR_EQ(netfx_str(d, "Recorder"), recorders[org]);
                same_as_ledger(d);
                seen++;
            }
            if (org == 0 && pages == 1) {
                for (i = 0; i < 3; i++)
                    record(i, i, more[i]);
                wait_indexed(nrec);
            }
            if (!json_is_true(json_object_get(page, "has_more")))
                break;
            snprintf(path, sizeof(path),
                     "/v1/events?Recorder=%s&limit=%d&cursor=%s",
                     recorders[org], PAGE, netfx_str(page, "next_cursor"));
            json_decref(page);
            page = get_ok(path);
        }
        json_decref(page);
        for (i = 0; i < nrec; i++)
            mine += rec[i].org == org;
        /* Every event of org was returned, none left over. */
        for (i = pos; i < nrec; i++)
            ASSERT(rec[i].org != org);
        ASSERT_EQ(pages, (mine + PAGE - 1) / PAGE);
        total_pages += pages;
    }
    ASSERT_EQ(seen, nrec);
    ASSERT_EQ(nrec, 15);
    /* Brokerage 6 events, Association 5, MLS 4: 3 + 3 + 2 pages. */
    ASSERT_EQ(total_pages, 8);
}

/* Member activity of subjects[0]: newest first, with the ledger's
 * transaction information. */
static void
check_member_activity(void)
{
    char path[256];
    json_t *b, *ev;
    int i, n = 0;

    snprintf(path, sizeof(path), "/v1/reports/member-activity/%s",
             subjects[0]);
    b = get_ok(path);
    ev = json_object_get(b, "events");
    for (i = nrec - 1; i >= 0; i--) {
        json_t *it, *tx;

        if (rec[i].subject != 0)
            continue;
        it = json_array_get(ev, (size_t)n++);
        tx = json_object_get(it, "Transaction");
        ASSERT_STR_EQ(netfx_str(tx, "Identifier"), rec[i].tid);
        ASSERT_STR_EQ(netfx_str(tx, "Recorded"),
                      netfx_str(rec[i].event, "Timestamp"));
        ASSERT_STR_EQ(netfx_str(tx, "Recorder"), recorders[rec[i].org]);
        ASSERT_STR_EQ(netfx_str(tx, "Application"), "reports-it");
        ASSERT_STR_EQ(netfx_str(tx, "System"), "Property Listing Service");
        ASSERT_STR_EQ(netfx_str(it, "State"), rec[i].state);
        ASSERT(json_is_null(json_object_get(it, "Details")));
    }
    ASSERT_EQ(json_array_size(ev), (size_t)n);
    ASSERT_EQ(n, 6);
    json_decref(b);
}

/*
 * Filters: a subject, a State and a Recorder (Association's, which
 * recorded every "Changed" of subjects[1]; Brokerage's recorded none of
 * them); a time range from the ledger's own timestamps, per Recorder.
 */
static void
check_filters(void)
{
    char path[512];
    json_t *b;
    long from;
    int i, org, want = 0;
    size_t got;

    snprintf(path, sizeof(path),
             "/v1/events?EventSubject=%s&State=Changed&Recorder=%s",
             subjects[1], recorders[1]);
    b = get_ok(path);
    for (i = 0; i < nrec; i++)
        want += rec[i].subject == 1 && rec[i].org == 1 &&
                strcmp(rec[i].state, "Changed") == 0;
    ASSERT_EQ(json_array_size(json_object_get(b, "events")), (size_t)want);
    ASSERT_EQ(want, 3);
    json_decref(b);
    snprintf(path, sizeof(path),
             "/v1/events?EventSubject=%s&State=Changed&Recorder=%s",
             subjects[1], recorders[0]);
    b = get_ok(path);
    ASSERT_EQ(json_array_size(json_object_get(b, "events")), 0);
    json_decref(b);
    /* from = the 8th event's second (IMF-fixdate as stored, %-encoded). */
    {
        int64_t t8;
        char enc[96];
        const char *ts = netfx_str(rec[7].event, "Timestamp");
        size_t k, o = 0;

        ASSERT_EQ(gw_reports_parse_time(ts, &t8), HLF_OK);
        for (k = 0; ts[k] != '\0' && o + 4 < sizeof(enc); k++) {
            if (ts[k] == ' ' || ts[k] == ',')
                o += (size_t)snprintf(enc + o, sizeof(enc) - o, "%%%02X",
                                      (unsigned)ts[k]);
            else
                enc[o++] = ts[k];
        }
        enc[o] = '\0';
        want = 0;
        for (i = 0; i < nrec; i++) {
            int64_t t;

            ASSERT_EQ(gw_reports_parse_time(
                          netfx_str(rec[i].event, "Timestamp"), &t),
                      HLF_OK);
            want += t >= t8;
        }
        from = (long)t8;
        got = 0;
        for (org = 0; org < 3; org++) {
            json_t *first;

            snprintf(path, sizeof(path),
                     "/v1/events?Recorder=%s&from=%s&to=%ld&limit=500",
                     recorders[org], enc, (long)time(NULL) + 3600);
            b = get_ok(path);
            got += json_array_size(json_object_get(b, "events"));
            first = json_array_get(json_object_get(b, "events"), 0);
            ASSERT(first == NULL ||
                   json_integer_value(json_object_get(first, "ts")) >=
                       from);
            json_decref(b);
        }
        ASSERT_EQ(got, (size_t)want);
        ASSERT(want >= 8 && want <= nrec);
    }
}

/* The onboarding fixture written into the index beside the ledger's
 * events; the report filtered by its Recorder. */
static void
check_onboarding(void)
{
    gw_couch_opts_t o;
    gw_couch_t *c = NULL;
    gw_couch_bulk_t bulk;
    hlf_error_t e;
    json_t *docs = rf_onboarding_docs((int64_t)time(NULL)), *b;
    char *tiles;

    memset(&o, 0, sizeof(o));
    o.url = srv.url;
    o.db = DB;
    ASSERT_EQ(gw_couch_new(&o, &c, &e), HLF_OK);
    ASSERT_EQ(gw_couch_bulk_docs(c, docs, &bulk, NULL, NULL, &e), HLF_OK);
    ASSERT_EQ(bulk.ok, 19);
    json_decref(docs);
    gw_couch_free(c);
    b = get_ok("/v1/reports/onboarding?Recorder=urn:reso:recorder:exp:1");
    ASSERT_EQ(json_integer_value(json_object_get(b, "events")), 19);
    ASSERT_EQ(json_integer_value(json_object_get(b, "applicants")), 6);
    tiles = json_dumps(json_object_get(b, "tiles"),
                       JSON_COMPACT | JSON_SORT_KEYS);
    ASSERT_STR_EQ(tiles, RF_ONBOARDING_TILES);
    free(tiles);
    ASSERT_EQ(json_array_size(json_object_get(b, "stuck")), 3);
    json_decref(b);
}

/* Run `resoctl catalog ...` on the fixture network; stdout into out. */
static int
resoctl_catalog(const char *args, char *out, size_t n)
{
    char cmd[1024], *run = netfx_run_dir();
    size_t got = 0;
    FILE *fp;

    snprintf(cmd, sizeof(cmd), "'%s' catalog %s --run-dir '%s' 2>&1",
             getenv("RESOCTL"), args, run);
    free(run);
    fp = popen(cmd, "r");
    if (fp == NULL)
        return -1;
    got = fread(out, 1, n - 1, fp);
    out[got] = '\0';
    return pclose(fp) == 0 ? 0 : -1;
}

/* Record one RCP-002 event as Brokerage; the HTTP status (0: no answer). */
static long
record_onboarding(const char *subject, const char *event, const char *state,
                  const char *rcp_recorder)
{
    char body[512];
    gwt_resp_t r;
    long st;

    snprintf(body, sizeof(body),
             "{\"EventSubject\":\"%s\",\"System\":\"Transaction "
             "Management Service\",\"SubjectType\":\"Agent\",\"Entity\":"
             "\"Agent\",\"Event\":\"%s\",\"State\":\"%s\",\"Recorder\":"
             "\"%s\",\"Application\":\"reports-it\"}",
             subject, event, state, rcp_recorder);
    gwproc_request(&g, 0, "POST", "/v1/events", body, NULL, &r);
    st = r.status;
    if (st != 201)
        fprintf(stderr, "POST %s %s %s: %ld %s\n", subject, event, state,
                st, r.body);
    gwt_resp_free(&r);
    return st;
}

/*
 * RCP-002 onboarding recorded on the ledger under 1.5-ext: applicant A
 * goes Application Started -> License1 Provided -> ICA Signed, B is
 * Started then License1 Denied, C Started then Verification Failed
 * (terminal).
 */
static void
check_onboarding_on_ledger(void)
{
    static const struct {
        int who;
        const char *event, *state;
    } plan[] = {
        {0, "Application", "Started"}, {0, "License1", "Provided"},
        {0, "ICA", "Signed"},          {1, "Application", "Started"},
        {1, "License1", "Denied"},     {2, "Application", "Started"},
        {2, "Verification", "Failed"},
    };
    enum { NPLAN = sizeof(plan) / sizeof(plan[0]) };
    char out[65536], prev[64], args[96], rec_ob[128], who[3][80], path[256];
    long st[NPLAN];
    json_t *cat, *b, *latest, *stuck, *ms, *m;
    const char *v;
    char *tiles;
    size_t i, k;

    /* Which profile is active now, to restore it. */
    ASSERT_EQ(resoctl_catalog("show", out, sizeof(out)), 0);
    cat = json_loads(strchr(out, '{'), JSON_DISABLE_EOF_CHECK, NULL);
    ASSERT_NOT_NULL(cat);
    v = netfx_str(cat, "Version");
    ASSERT_NOT_NULL(v);
    snprintf(prev, sizeof(prev), "%s", v);
    json_decref(cat);
    snprintf(rec_ob, sizeof(rec_ob), "%s", recorders[3]);
    for (i = 0; i < 3; i++)
        snprintf(who[i], sizeof(who[i]), "%s-J%zu", subjects[0], i);

    if (strcmp(prev, "1.5-ext") != 0 &&
        resoctl_catalog("activate 1.5-ext", out, sizeof(out)) != 0)
        TEST__FAIL("resoctl catalog activate 1.5-ext: %s", out);
    for (i = 0; i < NPLAN; i++)
        st[i] = record_onboarding(who[plan[i].who], plan[i].event,
                                  plan[i].state, rec_ob);
    /* Restore before any assertion can end the test. */
    if (strcmp(prev, "1.5-ext") != 0) {
        snprintf(args, sizeof(args), "activate %s", prev);
        if (resoctl_catalog(args, out, sizeof(out)) != 0)
            TEST__FAIL("resoctl catalog %s: %s", args, out);
    }
    for (i = 0; i < NPLAN; i++)
        ASSERT_EQ(st[i], 201);

    /* Indexed: the report sees all seven events of this Recorder. */
    snprintf(path, sizeof(path),
             "/v1/reports/onboarding?Recorder=%s&stuck_days=0", rec_ob);
    for (k = 0;; k++) {
        long s2;

        b = get(path, &s2);
        if (s2 == 200 && json_integer_value(json_object_get(b, "events")) ==
                             NPLAN)
            break;
        json_decref(b);
        if (k == 600)
            TEST__FAIL("onboarding report never saw the %d events",
                       (int)NPLAN);
        gwt_sleep_ms(500);
    }
    ASSERT_EQ(json_integer_value(json_object_get(b, "applicants")), 3);
    tiles = json_dumps(json_object_get(b, "tiles"),
                       JSON_COMPACT | JSON_SORT_KEYS);
    ASSERT_STR_EQ(tiles,
                  "[{\"Event\":\"Application\",\"states\":[{\"State\":"
                  "\"Started\",\"count\":3}],\"total\":3},"
                  "{\"Event\":\"License1\",\"states\":[{\"State\":"
                  "\"Denied\",\"count\":1},{\"State\":\"Provided\","
                  "\"count\":1}],\"total\":2},"
                  "{\"Event\":\"Verification\",\"states\":[{\"State\":"
                  "\"Failed\",\"count\":1}],\"total\":1},"
                  "{\"Event\":\"ICA\",\"states\":[{\"State\":"
                  "\"Signed\",\"count\":1}],\"total\":1}]");
    free(tiles);
    /* Latest state of each applicant, by EventSubject. */
    latest = json_object_get(b, "latest");
    ASSERT_EQ(json_array_size(latest), 3);
    {
        static const char *const want[3][3] = {
            {"ICA", "Signed", "f"}, {"License1", "Denied", "f"},
            {"Verification", "Failed", "t"}};

        for (i = 0; i < 3; i++) {
            json_t *a = json_array_get(latest, i);

            ASSERT_STR_EQ(netfx_str(a, "EventSubject"), who[i]);
            ASSERT_STR_EQ(netfx_str(a, "Event"), want[i][0]);
            ASSERT_STR_EQ(netfx_str(a, "State"), want[i][1]);
            ASSERT_EQ(json_is_true(json_object_get(a, "terminal")),
                      want[i][2][0] == 't');
        }
    }
    /* stuck_days=0: every non-terminal applicant whose latest event is
     * older than now; C (Verification Failed) is terminal. The report is
     * asked again after a second so "older" holds. */
    json_decref(b);
    gwt_sleep_ms(1100);
    b = get_ok(path);
    stuck = json_object_get(b, "stuck");
    ASSERT_EQ(json_array_size(stuck), 2);
    {
        const char *s0 = netfx_str(json_array_get(stuck, 0), "EventSubject");
        const char *s1 = netfx_str(json_array_get(stuck, 1), "EventSubject");

        ASSERT((strcmp(s0, who[0]) == 0 && strcmp(s1, who[1]) == 0) ||
               (strcmp(s0, who[1]) == 0 && strcmp(s1, who[0]) == 0));
    }
    /* Milestones: only A reached Application Started -> License1 Provided
     * and License1 Provided -> ICA Signed; nobody reached the later ones. */
    ms = json_object_get(b, "milestones");
    ASSERT_EQ(json_array_size(ms), 6);
    for (i = 0; i < 6; i++) {
        m = json_array_get(ms, i);
        ASSERT_EQ(json_integer_value(json_object_get(m, "applicants")),
                  i < 2 ? 1 : 0);
        ASSERT_EQ(json_integer_value(json_object_get(m, "out_of_order")), 0);
        if (i < 2)
            ASSERT(json_is_real(json_object_get(m, "median_seconds")) &&
                   json_real_value(json_object_get(m, "median_seconds")) >=
                       0.0);
        else
            ASSERT(json_is_null(json_object_get(m, "median_seconds")));
    }
    ASSERT_STR_EQ(netfx_str(json_array_get(ms, 0), "from"),
                  "Application Started");
    ASSERT_STR_EQ(netfx_str(json_array_get(ms, 1), "to"), "ICA Signed");
    json_decref(b);
}

/* CouchDB stopped: 503 with Retry-After, recording goes on; back: the
 * index catches up. */
static void
check_couch_down(void)
{
    char path[256];
    gwt_resp_t r;
    char ra[16];
    json_t *b;

    ASSERT_EQ(couchproc_stop(&srv), 0);
    snprintf(path, sizeof(path), "/v1/events?Recorder=%s", recorders[0]);
    gwproc_request(&g, 0, "GET", path, NULL, NULL, &r);
    ASSERT_EQ(r.status, 503);
    ASSERT_STR_EQ(gwt_header(&r, "Retry-After", ra, sizeof(ra)), "3");
    b = body_of(&r);
    ASSERT_STR_EQ(netfx_str(json_object_get(b, "error"), "code"),
                  "INDEX_UNAVAILABLE");
    json_decref(b);
    gwt_resp_free(&r);
    record(1, 2, "Closed");
    ASSERT_EQ(couchproc_restart(&srv), 0);
    wait_indexed(nrec);
}

TEST_IMPL(reports_on_the_ledger)
{
    static const struct {
        int org, subject;
        const char *state;
    } plan[] = {
        {0, 0, "Recorded"}, {1, 1, "Recorded"}, {2, 2, "Recorded"},
        {0, 0, "Changed"},  {1, 1, "Changed"},  {0, 0, "Changed"},
        {2, 2, "Published"}, {1, 1, "Changed"}, {0, 0, "Published"},
        {2, 1, "Closed"},   {0, 0, "Closed"},   {1, 2, "Changed"},
    };
    size_t i;

    setup();
    for (i = 0; i < sizeof(plan) / sizeof(plan[0]); i++)
        record(plan[i].org, plan[i].subject, plan[i].state);
    wait_indexed(nrec);
    check_search_paging();
    check_member_activity();
    check_filters();
    check_onboarding();
    check_onboarding_on_ledger();
    check_couch_down();
    teardown();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(reports_on_the_ledger),
};

TEST_MAIN(tests)
