/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway's ledger API over REST on the real Fabric network of the
 * ctest fixture "fabric": record, read and play back events as each org;
 * 401/403; every error class with its status, code and field;
 * Idempotency-Key retries (also across restarts and a simulated crash
 * between submit and answer) writing exactly one record; async submit
 * then status look-up until VALID; the catalog; failover to another
 * org's peer and 503 LEDGER_UNAVAILABLE within the request timeout when
 * no peer is reachable.
 *
 * Each test starts its own reso-gateway through gwproc.h (on a free
 * loopback port, config from `resoctl network env --json`, one API key
 * per org, temp state dir) and stops it by PID at the end: SIGTERM must
 * end it with exit status 0 (under ASan that includes "no leaks").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evl.h"
#include "gwproc.h"
#include "gwtest.h"
#include "hlf/crypto.h"
#include "netfixture.h"
#include "task.h"

static const char *const ORGS[] = {"Brokerage", "Association", "MLS",
                                   NULL};
#define NORGS 3

/* ------------------------------------------------------------------ */
/* The network                                                        */
/* ------------------------------------------------------------------ */

/* env.orgs.<org>.<a>.<b> as a string (borrowed from env). */
static const char *
org_str(json_t *env, const char *org, const char *a, const char *b)
{
    return netfx_str(json_object_get(json_object_get(
                         json_object_get(env, "orgs"), org), a),
                     b);
}

/* ------------------------------------------------------------------ */
/* The gateway process                                                */
/* ------------------------------------------------------------------ */

/*
 * A gateway (gwproc.h) with one API key per org (keys[i] = ORGS[i]) and
 * net (identities, peers, channel, chaincode) or, if NULL, the
 * network_env import.
 */
static void
gwp_prepare(gwproc_t *g, json_t *env, const char *net)
{
    gwproc_opts_t o;

    memset(&o, 0, sizeof(o));
    o.identities = ORGS;
    o.tag = "it";
    o.net = net;
    o.extra = "request_timeout_ms 20000\n"
              "rate_limit_per_key 1000 2000";
    gwproc_prepare(g, env, &o);
}

/* ------------------------------------------------------------------ */
/* Requests                                                           */
/* ------------------------------------------------------------------ */

/* One request as org (index; -1: no Authorization) with extra headers
 * (NULL-terminated list or NULL). */
static void
req(const gwproc_t *g, int org, const char *method, const char *path,
    const char *body, const char *const *extra, gwt_resp_t *r)
{
    gwproc_request(g, org, method, path, body, extra, r);
}

static json_t *
body_json(const gwt_resp_t *r)
{
    json_t *v = json_loadb(r->body, r->len, 0, NULL);

    if (v == NULL)
        TEST__FAIL("not JSON (status %ld): %s", r->status, r->body);
    return v;
}

/* Assert an error answer: status, code and field (NULL: absent). */
static void
expect_error(const gwt_resp_t *r, long status, const char *code,
             const char *field)
{
    json_t *b = body_json(r), *e = json_object_get(b, "error");
    json_t *f = json_object_get(e, "field");

    if (r->status != status)
        TEST__FAIL("status %ld, want %ld: %s", r->status, status, r->body);
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "code")), code);
    if (field == NULL) {
        if (f != NULL)
            TEST__FAIL("unexpected field in %s", r->body);
    } else {
        ASSERT_STR_EQ(json_string_value(f), field);
    }
    ASSERT(json_is_string(json_object_get(e, "message")));
    json_decref(b);
}

static void
unique_subject(char *out, size_t n, const char *tag)
{
    uint8_t r[6];
    char hex[13];

    ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
    hlf_hex_encode(r, sizeof(r), hex);
    snprintf(out, n, "US-42049-%s-%s-R-N", tag, hex);
}

/* An event body (new) with one field overridden (NULL: none). */
static char *
event_doc(const char *subject, const char *state, const char *recorder)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "EventSubject", subject,
                          "System", "Property Listing Service",
                          "SubjectType", "Property", "Entity", "Broker",
                          "Event", "Listing", "State", state,
                          "Recorder", recorder, "Application", "87478-a43");
    char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(e);
    return s;
}

static int
is_hex64(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 64)
        return 0;
    for (i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return 0;
    return 1;
}

/* POST an event as org and expect 201; returns the body (new). */
static json_t *
record(const gwproc_t *g, int org, const char *doc, const char *const *extra)
{
    gwt_resp_t r;
    json_t *b, *in, *ev;
    const char *k;
    json_t *v;

    req(g, org, "POST", "/v1/events", doc, extra, &r);
    if (r.status != 201) {
        gwproc_dump_log(g, 40);
        TEST__FAIL("POST /v1/events as %s: %ld %s", ORGS[org], r.status,
                   r.body);
    }
    b = body_json(&r);
    gwt_resp_free(&r);
    ev = json_object_get(b, "event");
    ASSERT(is_hex64(json_string_value(json_object_get(b, "txid"))));
    ASSERT(json_integer_value(json_object_get(b, "block")) > 0);
    /* The stored event: the eight values as sent plus the ledger's three. */
    in = json_loads(doc, 0, NULL);
    ASSERT_NOT_NULL(in);
    json_object_foreach(in, k, v)
        ASSERT_STR_EQ(json_string_value(json_object_get(ev, k)),
                      json_string_value(v));
    json_decref(in);
    ASSERT_EQ(json_object_size(ev), 11);
    ASSERT_STR_EQ(json_string_value(json_object_get(ev, "Version")), "1.3");
    ASSERT_EQ(strlen(json_string_value(json_object_get(ev, "Timestamp"))),
              29);
    {
        char uuid[EVL_UUID_LEN + 1];
        const char *txid = json_string_value(json_object_get(b, "txid"));

        /* TransactionId is derived from the Fabric txid (event-model). */
        ASSERT_EQ(evl_uuid_from_txid(txid, 64, 0, uuid), HLF_OK);
        ASSERT_STR_EQ(json_string_value(json_object_get(ev, "TransactionId")),
                      uuid);
    }
    return b;
}

/* GET path as org until it is not 404 (other peers commit a moment
 * later), at most 10 s; returns the final response. */
static void
get_eventually(const gwproc_t *g, int org, const char *path, gwt_resp_t *r)
{
    int i;

    for (i = 0; i < 100; i++) {
        req(g, org, "GET", path, NULL, NULL, r);
        if (r->status != 404)
            return;
        gwt_resp_free(r);
        gwt_sleep_ms(100);
    }
    req(g, org, "GET", path, NULL, NULL, r);
}

/* The full history of subject as org (all pages of limit). */
static json_t *
playback(const gwproc_t *g, int org, const char *subject, int limit,
         int *pages)
{
    json_t *all = json_array();
    char path[600], cursor[256] = "";

    *pages = 0;
    for (;;) {
        gwt_resp_t r;
        json_t *b, *ev;
        size_t i;
        const char *next;

        if (cursor[0] != '\0')
            snprintf(path, sizeof(path),
                     "/v1/subjects/%s/events?limit=%d&cursor=%s", subject,
                     limit, cursor);
        else
            snprintf(path, sizeof(path), "/v1/subjects/%s/events?limit=%d",
                     subject, limit);
        req(g, org, "GET", path, NULL, NULL, &r);
        if (r.status != 200)
            TEST__FAIL("GET %s: %ld %s", path, r.status, r.body);
        b = body_json(&r);
        gwt_resp_free(&r);
        (*pages)++;
        ASSERT_STR_EQ(json_string_value(json_object_get(b, "EventSubject")),
                      subject);
        json_array_foreach(json_object_get(b, "events"), i, ev)
            json_array_append(all, ev);
        ASSERT(json_array_size(json_object_get(b, "events")) <=
               (size_t)limit);
        next = json_string_value(json_object_get(b, "next_cursor"));
        if (!json_is_true(json_object_get(b, "has_more"))) {
            json_decref(b);
            return all;
        }
        ASSERT_EQ(json_array_size(json_object_get(b, "events")), limit);
        ASSERT_NOT_NULL(next);
        snprintf(cursor, sizeof(cursor), "%s", next);
        json_decref(b);
        ASSERT(*pages < 100);
    }
}

static size_t
count_history(const gwproc_t *g, int org, const char *subject)
{
    int pages;
    json_t *h = playback(g, org, subject, 100, &pages);
    size_t n = json_array_size(h);

    json_decref(h);
    return n;
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

TEST_IMPL(gw_record_read_playback_each_org)
{
    json_t *env = netfx_env(), *got[NORGS], *hist;
    char subject[96], path[256];
    gwproc_t g;
    int org, reader, pages;
    gwt_resp_t r;
    size_t i;

    gwp_prepare(&g, env, NULL);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "GW");
    /* Each org records one event of the same subject. */
    for (org = 0; org < NORGS; org++) {
        char *doc;

        /* Under strict binding each org records with its own Recorder. */
        doc = event_doc(subject, org == 0 ? "Recorded" : "Changed",
                        netfx_recorder(env, ORGS[org]));
        got[org] = record(&g, org, doc, NULL);
        free(doc);
    }
    /* Every org reads every event back, identical to what was stored. */
    for (org = 0; org < NORGS; org++) {
        json_t *ev = json_object_get(got[org], "event");

        for (reader = 0; reader < NORGS; reader++) {
            json_t *b;

            snprintf(path, sizeof(path), "/v1/events/%s",
                     json_string_value(json_object_get(ev,
                                                       "TransactionId")));
            get_eventually(&g, reader, path, &r);
            if (r.status != 200)
                TEST__FAIL("GET %s as %s: %ld %s", path, ORGS[reader],
                           r.status, r.body);
            b = body_json(&r);
            ASSERT(json_equal(b, ev));
            json_decref(b);
            gwt_resp_free(&r);
        }
    }
    /* Playback as each org, one page and pages of 2: the three events in
     * recording order. The last org's peer may lag its commit briefly. */
    for (reader = 0; reader < NORGS; reader++) {
        int limit;

        for (i = 0; i < 100 && count_history(&g, reader, subject) < NORGS;
             i++)
            gwt_sleep_ms(100);
        for (limit = 1; limit <= 100; limit = limit == 1 ? 2 : 100) {
            hist = playback(&g, reader, subject, limit, &pages);
            ASSERT_EQ(json_array_size(hist), NORGS);
            ASSERT_EQ(pages, limit == 1 ? 3 : limit == 2 ? 2 : 1);
            for (org = 0; org < NORGS; org++)
                ASSERT(json_equal(json_array_get(hist, (size_t)org),
                                  json_object_get(got[org], "event")));
            json_decref(hist);
            if (limit == 100)
                break;
        }
    }
    /* An unknown subject has an empty history. */
    unique_subject(subject, sizeof(subject), "EMPTY");
    ASSERT_EQ(count_history(&g, 0, subject), 0);
    /* Metrics: the three commits, with latencies. */
    req(&g, -1, "GET", "/metrics", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_NOT_NULL(strstr(r.body,
                           "ledger_submits_total{outcome=\"committed\"} 3"));
    ASSERT_NOT_NULL(strstr(r.body, "ledger_submit_duration_seconds_count 3"));
    ASSERT_NOT_NULL(strstr(r.body, "ledger_commit_duration_seconds_count 3"));
    gwt_resp_free(&r);
    for (org = 0; org < NORGS; org++)
        json_decref(got[org]);
    gwproc_free(&g);
    json_decref(env);
}

TEST_IMPL(gw_auth_401_403)
{
    json_t *env = netfx_env();
    static const char *const as_assoc[] = {"X-Reso-Identity: Association",
                                           NULL};
    static const char *const as_self[] = {"X-Reso-Identity: BrokerageMSP",
                                          NULL};
    static const char *const bad_key[] = {"Authorization: Bearer nope",
                                          NULL};
    char hdr[64], *doc, subject[96];
    gwproc_t g;
    gwt_resp_t r;

    gwp_prepare(&g, env, NULL);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "AUTH");
    doc = event_doc(subject, "Recorded", netfx_recorder(env, "Brokerage"));
    req(&g, -1, "POST", "/v1/events", doc, NULL, &r);
    expect_error(&r, 401, "UNAUTHORIZED", NULL);
    ASSERT_NOT_NULL(gwt_header(&r, "WWW-Authenticate", hdr, sizeof(hdr)));
    gwt_resp_free(&r);
    req(&g, -1, "GET", "/v1/catalog", NULL, bad_key, &r);
    expect_error(&r, 401, "UNAUTHORIZED", NULL);
    gwt_resp_free(&r);
    /* Brokerage's key acting for Association. */
    req(&g, 0, "POST", "/v1/events", doc, as_assoc, &r);
    expect_error(&r, 403, "FORBIDDEN", "X-Reso-Identity");
    gwt_resp_free(&r);
    req(&g, 0, "GET", "/v1/catalog", NULL, as_assoc, &r);
    expect_error(&r, 403, "FORBIDDEN", "X-Reso-Identity");
    gwt_resp_free(&r);
    /* Nothing was written by the refused requests. */
    ASSERT_EQ(count_history(&g, 0, subject), 0);
    req(&g, 0, "GET", "/v1/catalog", NULL, as_self, &r);
    ASSERT_EQ(r.status, 200);
    gwt_resp_free(&r);
    free(doc);
    gwproc_free(&g);
    json_decref(env);
}

/* POST doc and expect a chaincode error passed through. */
static void
post_expect(const gwproc_t *g, const char *doc, long status, const char *code,
            const char *field)
{
    gwt_resp_t r;

    req(g, 1, "POST", "/v1/events", doc, NULL, &r);
    expect_error(&r, status, code, field);
    gwt_resp_free(&r);
}

/*
 * The valid event of recorder (the posting org's Recorder) with key set to
 * a JSON value (raw text) or removed.
 */
static char *
doc_with(const char *subject, const char *recorder, const char *key,
         const char *raw)
{
    char *base = event_doc(subject, "Recorded", recorder);
    json_t *d = json_loads(base, 0, NULL);
    char *s;

    free(base);
    if (raw == NULL) {
        json_object_del(d, key);
    } else {
        json_t *v = json_loads(raw, JSON_DECODE_ANY, NULL);

        ASSERT_NOT_NULL(v);
        json_object_set_new(d, key, v);
    }
    s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
    return s;
}

TEST_IMPL(gw_every_error_class)
{
    static const struct {
        const char *key, *raw; /* raw NULL: remove the key */
        const char *code, *field;
    } cc[] = {
        {"TransactionId", "\"x\"", "SYSTEM_FIELD_SUPPLIED", "TransactionId"},
        {"Audience", "\"All\"", "UNKNOWN_FIELD", "Audience"},
        {"Application", NULL, "MISSING_FIELD", "Application"},
        {"State", "5", "INVALID_VALUE", "State"},
        {"System", "\"MLS\"", "INVALID_LOOKUP", "System"},
        {"EventSubject", "\"has space\"", "INVALID_IDENTIFIER",
         "EventSubject"},
    };
    static const char *const text_plain[] = {"Content-Type: text/plain",
                                             NULL};
    static const char *const bad_idem[] = {"Idempotency-Key: has space",
                                           NULL};
    json_t *env = netfx_env();
    char subject[96], *doc, hdr[64], *big;
    gwproc_t g;
    gwt_resp_t r;
    size_t i;

    gwp_prepare(&g, env, NULL);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "ERR");
    /* Every RecordEvent validation class the REST body can reach
     * (UNKNOWN_FUNCTION and INVALID_ARGUMENTS by count cannot be sent
     * through this route; DUPLICATE_EVENT is impossible by design). */
    for (i = 0; i < sizeof(cc) / sizeof(cc[0]); i++) {
        doc = doc_with(subject, netfx_recorder(env, "Association"),
                       cc[i].key, cc[i].raw);
        post_expect(&g, doc, 400, cc[i].code, cc[i].field);
        free(doc);
    }
    /* Strict Recorder binding: Association posting Brokerage's Recorder,
     * and a Recorder nobody registered, are refused by the chaincode. */
    doc = event_doc(subject, "Recorded", netfx_recorder(env, "Brokerage"));
    post_expect(&g, doc, 403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    free(doc);
    doc = event_doc(subject, "Recorded", "errs");
    post_expect(&g, doc, 403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    free(doc);
    post_expect(&g, "[1,2]", 400, "INVALID_JSON", NULL);
    /* Reads: not a UUID, unknown id, bad subject. */
    req(&g, 2, "GET", "/v1/events/not-a-uuid", NULL, NULL, &r);
    expect_error(&r, 400, "INVALID_ARGUMENTS", "TransactionId");
    gwt_resp_free(&r);
    req(&g, 2, "GET", "/v1/events/00000000-0000-8000-8000-000000000000",
        NULL, NULL, &r);
    expect_error(&r, 404, "EVENT_NOT_FOUND", NULL);
    gwt_resp_free(&r);
    req(&g, 2, "GET", "/v1/subjects/bad$subject/events", NULL, NULL, &r);
    expect_error(&r, 400, "INVALID_IDENTIFIER", "EventSubject");
    gwt_resp_free(&r);
    /* The gateway's own classes on these routes. */
    req(&g, 0, "POST", "/v1/events", "{\"EventSubject\":", NULL, &r);
    expect_error(&r, 400, "MALFORMED_JSON", NULL);
    gwt_resp_free(&r);
    {
        gwt_opts_t o;
        char auth[128];
        const char *h[] = {auth, text_plain[0], NULL};

        memset(&o, 0, sizeof(o));
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", g.keys[0]);
        o.headers = h;
        o.body = "{}";
        o.body_len = 2;
        gwt_http("POST", g.port, "/v1/events", &o, &r);
        expect_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type");
        gwt_resp_free(&r);
    }
    big = malloc(70001);
    ASSERT_NOT_NULL(big);
    memset(big, ' ', 70000);
    big[0] = '{';
    big[69999] = '}';
    big[70000] = '\0';
    req(&g, 0, "POST", "/v1/events", big, NULL, &r);
    expect_error(&r, 413, "PAYLOAD_TOO_LARGE", NULL);
    gwt_resp_free(&r);
    free(big);
    req(&g, 0, "GET", "/v1/nothing-here", NULL, NULL, &r);
    expect_error(&r, 404, "NOT_FOUND", NULL);
    gwt_resp_free(&r);
    req(&g, 0, "DELETE", "/v1/events", NULL, NULL, &r);
    expect_error(&r, 405, "METHOD_NOT_ALLOWED", NULL);
    /* POST records; GET /v1/events is the reports module's search when
     * it is built in. Never DELETE. */
    ASSERT_NOT_NULL(gwt_header(&r, "Allow", hdr, sizeof(hdr)));
    if (strcmp(hdr, "POST") != 0 && strcmp(hdr, "POST, GET") != 0)
        TEST__FAIL("Allow: \"%s\", want \"POST\" or \"POST, GET\"", hdr);
    gwt_resp_free(&r);
    doc = event_doc(subject, "Recorded", netfx_recorder(env, "Brokerage"));
    req(&g, 0, "POST", "/v1/events", doc, bad_idem, &r);
    expect_error(&r, 400, "BAD_REQUEST", "Idempotency-Key");
    gwt_resp_free(&r);
    free(doc);
    req(&g, 0, "GET", "/v1/subjects/US-1/events?limit=0", NULL, NULL, &r);
    expect_error(&r, 400, "BAD_REQUEST", "limit");
    gwt_resp_free(&r);
    req(&g, 0, "GET", "/v1/subjects/US-1/events?limit=1001", NULL, NULL, &r);
    expect_error(&r, 400, "BAD_REQUEST", "limit");
    gwt_resp_free(&r);
    req(&g, 0, "GET", "/v1/subjects/US-1/events?cursor=zz*", NULL, NULL, &r);
    expect_error(&r, 400, "BAD_REQUEST", "cursor");
    gwt_resp_free(&r);
    req(&g, 0, "GET", "/v1/transactions/xyz", NULL, NULL, &r);
    expect_error(&r, 400, "BAD_REQUEST", "txid");
    gwt_resp_free(&r);
    /* None of the above wrote anything. */
    ASSERT_EQ(count_history(&g, 0, subject), 0);
    gwproc_free(&g);
    json_decref(env);
}

/* Read the idempotency file (lines as JSON, new array). */
static json_t *
idem_records(const gwproc_t *g)
{
    char path[1100], line[16384];
    json_t *a = json_array();
    FILE *fp;

    snprintf(path, sizeof(path), "%s/idempotency.jsonl", g->state);
    fp = fopen(path, "r");
    ASSERT_NOT_NULL(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        json_t *v = json_loads(line, 0, NULL);

        ASSERT_NOT_NULL(v);
        json_array_append_new(a, v);
    }
    fclose(fp);
    return a;
}

static void
idem_write(const gwproc_t *g, json_t *records)
{
    char path[1100];
    FILE *fp;
    size_t i;
    json_t *v;

    snprintf(path, sizeof(path), "%s/idempotency.jsonl", g->state);
    fp = fopen(path, "w");
    ASSERT_NOT_NULL(fp);
    json_array_foreach(records, i, v)
    {
        char *s = json_dumps(v, JSON_COMPACT);

        fprintf(fp, "%s\n", s);
        free(s);
    }
    fclose(fp);
}

/* The hash the gateway gives a request body (ledger.h). */
static void
body_hash_hex(const char *doc, char out[65])
{
    json_t *v = json_loads(doc, 0, NULL);
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    uint8_t h[32];

    hlf_sha256(s, strlen(s), h);
    hlf_hex_encode(h, 32, out);
    free(s);
    json_decref(v);
}

/* POST doc and expect status with a body equal (as JSON) to want. */
static void
post_same(const gwproc_t *g, int org, const char *doc,
          const char *const *extra, long status, const json_t *want)
{
    gwt_resp_t r;
    json_t *b;

    req(g, org, "POST", "/v1/events", doc, extra, &r);
    if (r.status != status)
        TEST__FAIL("POST: %ld, want %ld: %s", r.status, status, r.body);
    b = body_json(&r);
    if (!json_equal(b, want))
        TEST__FAIL("POST answered %s, not the first answer", r.body);
    json_decref(b);
    gwt_resp_free(&r);
}

TEST_IMPL(gw_idempotent_retry_writes_once)
{
    static const char *const k1[] = {"Idempotency-Key: it-k1", NULL};
    static const char *const k2[] = {"Idempotency-Key: it-k2", NULL};
    static const char *const k3[] = {"Idempotency-Key: it-k3", NULL};
    json_t *env = netfx_env(), *first, *recs, *v;
    char s1[96], s2[96], *doc1, *doc1b, *doc2, *bad, hdr[64], hash2[65];
    gwproc_t g;
    gwt_resp_t r, r2;
    size_t i;

    gwp_prepare(&g, env, NULL);
    gwproc_start(&g);
    unique_subject(s1, sizeof(s1), "IDEM");
    unique_subject(s2, sizeof(s2), "IDEM");
    doc1 = event_doc(s1, "Recorded", netfx_recorder(env, "Brokerage"));
    first = record(&g, 0, doc1, k1);
    /* The retry: the same answer, byte for byte, and no second write. */
    req(&g, 0, "POST", "/v1/events", doc1, k1, &r);
    ASSERT_EQ(r.status, 201);
    {
        json_t *b = body_json(&r);

        ASSERT(json_equal(b, first));
        json_decref(b);
    }
    ASSERT_STR_EQ(gwt_header(&r, "Idempotent-Replayed", hdr, sizeof(hdr)),
                  "true");
    gwt_resp_free(&r);
    /* The same body with other whitespace and member order is the same
     * request; another body under the key is a conflict. */
    {
        json_t *d = json_loads(doc1, 0, NULL);
        char *re = json_dumps(d, JSON_INDENT(2) | JSON_SORT_KEYS);

        req(&g, 0, "POST", "/v1/events", re, k1, &r);
        ASSERT_EQ(r.status, 201);
        gwt_resp_free(&r);
        free(re);
        json_decref(d);
    }
    /* Recorded below by Association, so with Association's Recorder. */
    doc1b = event_doc(s1, "Changed", netfx_recorder(env, "Association"));
    req(&g, 0, "POST", "/v1/events", doc1b, k1, &r);
    expect_error(&r, 409, "IDEMPOTENCY_CONFLICT", "Idempotency-Key");
    gwt_resp_free(&r);
    /* Keys are per API key: Association's k1 is a new request. */
    req(&g, 1, "POST", "/v1/events", doc1b, k1, &r);
    ASSERT_EQ(r.status, 201);
    gwt_resp_free(&r);
    /* A chaincode rejection is an answer too. */
    bad = doc_with(s1, netfx_recorder(env, "Brokerage"), "System",
                   "\"MLS\"");
    req(&g, 0, "POST", "/v1/events", bad, k3, &r);
    expect_error(&r, 400, "INVALID_LOOKUP", "System");
    req(&g, 0, "POST", "/v1/events", bad, k3, &r2);
    ASSERT_EQ(r2.status, 400);
    ASSERT_STR_EQ(r2.body, r.body);
    ASSERT_STR_EQ(gwt_header(&r2, "Idempotent-Replayed", hdr, sizeof(hdr)),
                  "true");
    gwt_resp_free(&r);
    gwt_resp_free(&r2);
    ASSERT_EQ(count_history(&g, 0, s1), 2);

    /* Restart: the answer is still the first one. */
    gwproc_term(&g);
    gwproc_start(&g);
    post_same(&g, 0, doc1, k1, 201, first);
    ASSERT_EQ(count_history(&g, 0, s1), 2);

    /*
     * A crash between submit and answer: turn k1's answer back into the
     * in-flight record the gateway writes before the hand-over to the
     * orderer. The retry must find the first transaction, not write.
     */
    gwproc_term(&g);
    recs = idem_records(&g);
    json_array_foreach(recs, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "key")), "it-k1") ||
            strcmp(json_string_value(json_object_get(v, "client")),
                   "brokerage-it"))
            continue;
        ASSERT_STR_EQ(json_string_value(json_object_get(v, "op")), "A");
        json_object_set_new(v, "op", json_string("S"));
        json_object_set(v, "txid", json_object_get(first, "txid"));
        json_object_set_new(v, "submitted", json_integer(time(NULL)));
        json_object_del(v, "status");
        json_object_del(v, "body");
    }
    /* And k2: in flight long ago with a transaction that never reached
     * the ledger: the retry may (and must) write, once. */
    doc2 = event_doc(s2, "Recorded", netfx_recorder(env, "Brokerage"));
    body_hash_hex(doc2, hash2);
    json_array_append_new(
        recs, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "op", "S",
                        "client", "brokerage-it", "key", "it-k2", "hash",
                        hash2, "created", (json_int_t)time(NULL) - 3600,
                        "submitted", (json_int_t)time(NULL) - 3600, "txid",
                        "00000000000000000000000000000000000000000000000000"
                        "00000000000000"));
    idem_write(&g, recs);
    json_decref(recs);
    gwproc_start(&g);
    post_same(&g, 0, doc1, k1, 201, first);
    ASSERT_EQ(count_history(&g, 0, s1), 2);
    {
        json_t *b2 = record(&g, 0, doc2, k2);

        ASSERT(strcmp(json_string_value(json_object_get(b2, "txid")),
                      "0000000000000000000000000000000000000000000000000000"
                      "000000000000") != 0);
        post_same(&g, 0, doc2, k2, 201, b2);
        json_decref(b2);
    }
    ASSERT_EQ(count_history(&g, 0, s2), 1);
    free(doc1);
    free(doc1b);
    free(doc2);
    free(bad);
    json_decref(first);
    gwproc_free(&g);
    json_decref(env);
}

TEST_IMPL(gw_async_then_status)
{
    static const char *const async[] = {"Prefer: respond-async", NULL};
    json_t *env = netfx_env(), *b, *st = NULL;
    char subject[96], *doc, loc[160], hdr[64], path[160];
    const char *txid;
    gwproc_t g;
    gwt_resp_t r;
    int i;

    gwp_prepare(&g, env, NULL);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "ASYNC");
    doc = event_doc(subject, "Recorded", netfx_recorder(env, "MLS"));
    req(&g, 2, "POST", "/v1/events", doc, async, &r);
    if (r.status != 202)
        TEST__FAIL("async POST: %ld %s", r.status, r.body);
    b = body_json(&r);
    txid = json_string_value(json_object_get(b, "txid"));
    ASSERT(is_hex64(txid));
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "status")),
                  "PENDING");
    snprintf(path, sizeof(path), "/v1/transactions/%s", txid);
    ASSERT_STR_EQ(gwt_header(&r, "Location", loc, sizeof(loc)), path);
    ASSERT_STR_EQ(gwt_header(&r, "Preference-Applied", hdr, sizeof(hdr)),
                  "respond-async");
    gwt_resp_free(&r);
    /* Poll the Location until VALID (the block is cut within 0.5 s). */
    for (i = 0; i < 60; i++) {
        json_decref(st);
        req(&g, 2, "GET", loc, NULL, NULL, &r);
        ASSERT_EQ(r.status, 200);
        st = body_json(&r);
        gwt_resp_free(&r);
        ASSERT_STR_EQ(json_string_value(json_object_get(st, "txid")), txid);
        if (strcmp(json_string_value(json_object_get(st, "status")),
                   "PENDING") != 0)
            break;
        gwt_sleep_ms(250);
    }
    ASSERT_STR_EQ(json_string_value(json_object_get(st, "status")), "VALID");
    ASSERT_EQ(json_integer_value(json_object_get(st, "validation_code")), 0);
    ASSERT_STR_EQ(json_string_value(
                      json_object_get(st, "validation_code_name")),
                  "VALID");
    ASSERT(json_integer_value(json_object_get(st, "block")) > 0);
    json_decref(st);
    /* The event it announced is on the ledger, readable by any org. */
    snprintf(path, sizeof(path), "/v1/events/%s",
             json_string_value(json_object_get(json_object_get(b, "event"),
                                               "TransactionId")));
    get_eventually(&g, 0, path, &r);
    ASSERT_EQ(r.status, 200);
    {
        json_t *ev = body_json(&r);

        ASSERT(json_equal(ev, json_object_get(b, "event")));
        json_decref(ev);
    }
    gwt_resp_free(&r);
    /* A txid the ledger never saw stays PENDING (answered in ~1 s). */
    req(&g, 2, "GET", "/v1/transactions/"
        "ABCDEF0000000000000000000000000000000000000000000000000000000001",
        NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.secs < 5.0);
    st = body_json(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(st, "status")),
                  "PENDING");
    ASSERT_STR_EQ(json_string_value(json_object_get(st, "txid")),
                  "abcdef00000000000000000000000000000000000000000000000000"
                  "00000001");
    json_decref(st);
    gwt_resp_free(&r);
    json_decref(b);
    free(doc);
    gwproc_free(&g);
    json_decref(env);
}

TEST_IMPL(gw_catalog_is_profile_1_3)
{
    json_t *env = netfx_env(), *b, *lk;
    const evl_profile_t *p = evl_profile_find("1.3");
    static const size_t sizes[EVL_LK_COUNT] = {9, 7, 11, 17, 13};
    gwproc_t g;
    gwt_resp_t r;
    int l;

    ASSERT_NOT_NULL(p);
    gwp_prepare(&g, env, NULL);
    gwproc_start(&g);
    req(&g, 1, "GET", "/v1/catalog", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    b = body_json(&r);
    gwt_resp_free(&r);
    /* The chaincode's GetCatalog: the active profile (the default). */
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "Version")), "1.3");
    lk = json_object_get(b, "Lookups");
    ASSERT_EQ(json_object_size(lk), EVL_LK_COUNT);
    for (l = 0; l < EVL_LK_COUNT; l++) {
        json_t *arr = json_object_get(lk, evl_lookup_name((evl_lookup_t)l));
        size_t i;

        ASSERT_EQ(json_array_size(arr), sizes[l]);
        for (i = 0; i < sizes[l]; i++)
            ASSERT_STR_EQ(json_string_value(json_array_get(arr, i)),
                          p->values[l][i]);
    }
    /* Spot checks against reso-model.md §3.1, independent of the table. */
    ASSERT_STR_EQ(json_string_value(json_array_get(
                      json_object_get(lk, "System"), 0)),
                  "Property Listing Service");
    ASSERT_STR_EQ(json_string_value(json_array_get(
                      json_object_get(lk, "State"), 12)),
                  "Published");
    json_decref(b);
    gwproc_free(&g);
    json_decref(env);
}

/* A config with all three identities and two peers: Brokerage's at
 * 127.0.0.1:brokerage_port, Association's at assoc_addr. */
static void
peers_conf(json_t *env, int brokerage_port, const char *assoc_addr,
           char *out, size_t n)
{
    snprintf(out, n,
             "channel %s\nchaincode %s\n"
             "identity Brokerage BrokerageMSP %s\n"
             "identity Association AssociationMSP %s\n"
             "identity MLS MLSMSP %s\n"
             "peer BrokerageMSP 127.0.0.1:%d %s\n"
             "peer AssociationMSP %s %s\n",
             json_string_value(json_object_get(env, "channel")),
             json_string_value(json_object_get(env, "chaincode")),
             org_str(env, "Brokerage", "client", "msp_dir"),
             org_str(env, "Association", "client", "msp_dir"),
             org_str(env, "MLS", "client", "msp_dir"), brokerage_port,
             org_str(env, "Brokerage", "peer", "tls_ca"), assoc_addr,
             org_str(env, "Association", "peer", "tls_ca"));
}

TEST_IMPL(gw_failover_and_unavailable)
{
    json_t *env = netfx_env(), *b;
    char conf[4096], subject[96], *doc, hdr[32], path[160], assoc[128];
    int dead1 = 0, dead2 = 0;
    gwproc_t g;
    gwt_resp_t r;

    /* Two loopback ports nobody listens on. */
    {
        int s[2], i;

        for (i = 0; i < 2; i++) {
            struct sockaddr_in a;
            socklen_t al = sizeof(a);

            s[i] = socket(AF_INET, SOCK_STREAM, 0);
            memset(&a, 0, sizeof(a));
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ASSERT_EQ(bind(s[i], (struct sockaddr *)&a, sizeof(a)), 0);
            ASSERT_EQ(getsockname(s[i], (struct sockaddr *)&a, &al), 0);
            if (i == 0)
                dead1 = ntohs(a.sin_port);
            else
                dead2 = ntohs(a.sin_port);
        }
        close(s[0]);
        close(s[1]);
    }
    /* Brokerage's own peer is dead; Association's is alive. */
    snprintf(assoc, sizeof(assoc), "%s",
             org_str(env, "Association", "peer", "address"));
    peers_conf(env, dead1, assoc, conf, sizeof(conf));
    gwp_prepare(&g, env, conf);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "FAILOVER");
    doc = event_doc(subject, "Recorded", netfx_recorder(env, "Brokerage"));
    b = record(&g, 0, doc, NULL);
    snprintf(path, sizeof(path), "/v1/events/%s",
             json_string_value(json_object_get(json_object_get(b, "event"),
                                               "TransactionId")));
    get_eventually(&g, 0, path, &r);
    ASSERT_EQ(r.status, 200);
    gwt_resp_free(&r);
    ASSERT_EQ(count_history(&g, 0, subject), 1);
    json_decref(b);
    free(doc);
    gwproc_free(&g);

    /* No reachable peer at all: 503 + Retry-After, well within the
     * request timeout (20 s), for writes and reads. */
    snprintf(assoc, sizeof(assoc), "127.0.0.1:%d", dead2);
    peers_conf(env, dead1, assoc, conf, sizeof(conf));
    gwp_prepare(&g, env, conf);
    gwproc_start(&g);
    doc = event_doc(subject, "Changed", netfx_recorder(env, "Brokerage"));
    req(&g, 0, "POST", "/v1/events", doc, NULL, &r);
    expect_error(&r, 503, "LEDGER_UNAVAILABLE", NULL);
    ASSERT_NOT_NULL(gwt_header(&r, "Retry-After", hdr, sizeof(hdr)));
    ASSERT(strtol(hdr, NULL, 10) >= 1);
    ASSERT(r.secs < 20.0);
    gwt_resp_free(&r);
    req(&g, 1, "GET", path, NULL, NULL, &r);
    expect_error(&r, 503, "LEDGER_UNAVAILABLE", NULL);
    ASSERT(r.secs < 20.0);
    gwt_resp_free(&r);
    req(&g, 2, "GET", "/v1/transactions/"
        "0000000000000000000000000000000000000000000000000000000000000001",
        NULL, NULL, &r);
    expect_error(&r, 503, "LEDGER_UNAVAILABLE", NULL);
    gwt_resp_free(&r);
    req(&g, -1, "GET", "/metrics", NULL, NULL, &r);
    ASSERT_NOT_NULL(strstr(r.body, "ledger_submits_total{outcome="
                                   "\"unavailable\"} 1"));
    gwt_resp_free(&r);
    free(doc);
    gwproc_free(&g);
    json_decref(env);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(gw_record_read_playback_each_org),
    TEST_ENTRY(gw_auth_401_403),
    TEST_ENTRY(gw_every_error_class),
    TEST_ENTRY(gw_idempotent_retry_writes_once),
    TEST_ENTRY(gw_async_then_status),
    TEST_ENTRY(gw_catalog_is_profile_1_3),
    TEST_ENTRY(gw_failover_and_unavailable),
};

TEST_MAIN(tests)
