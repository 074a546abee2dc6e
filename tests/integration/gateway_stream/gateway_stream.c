/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway's committed-event stream on the real Fabric network of the
 * ctest fixture "fabric":
 *   - SSE delivers recorded events in commit order with id = (block << 16)
 *     | tx_index; a client that disconnects, misses events and reconnects
 *     with Last-Event-ID (or ?after=) gets exactly the missed ones;
 *   - a gateway stopped with SIGTERM, or killed with SIGKILL while
 *     streaming, resumes from its checkpoint: every event exactly once,
 *     with the same sequence as before;
 *   - the EntityEvent pages hold exactly the sequences SSE delivers, also
 *     while events are recorded between pages;
 *   - the follower fails over to another org's peer when its own is gone.
 *
 * Events are recorded with libhlf through the orgs' own peers (what
 * `resoctl event record` does), independent of the gateway under test.
 * Each test starts its own reso-gateway through gwproc.h (free loopback
 * port, temp state dir) and stops it by PID, also when the test fails.
 * SIGTERM must end it with exit status 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gwproc.h"
#include "gwtest.h"
#include "hlf/crypto.h"
#include "hub.h"
#include "netfixture.h"
#include "sse_client.h"
#include "task.h"

/* How long an expected event may take (the follower may first catch up
 * with the whole ledger of the earlier tests). */
#define EVENT_WAIT_MS 60000
/* How long to listen to make sure nothing more arrives. */
#define QUIET_MS 2000

/* ------------------------------------------------------------------ */
/* The gateway process                                                */
/* ------------------------------------------------------------------ */

/*
 * A gateway (gwproc.h) with one API key (Brokerage, auth[0]) and `net`
 * (identities, peers, channel, chaincode) or, if NULL, the network_env
 * import.
 */
static void
gw_prepare(gwproc_t *g, json_t *env, const char *net)
{
    static const char *const ids[] = {"Brokerage", NULL};
    gwproc_opts_t o;

    memset(&o, 0, sizeof(o));
    o.identities = ids;
    o.tag = "stream";
    o.net = net;
    o.extra = "rate_limit_per_key 0\n"
              "sse_heartbeat_ms 1000\n"
              "request_timeout_ms 30000";
    gwproc_prepare(g, env, &o);
}

static gw_checkpoint_t
gw_checkpoint(const gwproc_t *g, json_t *env)
{
    gw_checkpoint_t cp;
    hlf_error_t e;

    hlf_error_clear(&e);
    if (gw_checkpoint_load(g->state, netfx_str(env, "channel"), &cp, &e) !=
        HLF_OK)
        TEST__FAIL("checkpoint: %s", e.text);
    return cp;
}

/* GET path with the API key; status asserted; parsed body (new). */
static json_t *
gw_get(const gwproc_t *g, const char *path, long status)
{
    const char *h[] = {g->auth[0], NULL};
    gwt_opts_t o;
    gwt_resp_t r;
    json_t *j;

    memset(&o, 0, sizeof(o));
    o.headers = h;
    o.timeout_ms = 60000;
    gwt_http("GET", g->port, path, &o, &r);
    if (r.status != status) {
        gwproc_dump_log(g, 40);
        TEST__FAIL("GET %s: %ld (want %ld): %s", path, r.status, status,
                   r.body);
    }
    j = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(j);
    gwt_resp_free(&r);
    return j;
}

/* ------------------------------------------------------------------ */
/* Recording                                                          */
/* ------------------------------------------------------------------ */

typedef struct rec_s {
    char txid[65];
    char tid[64];    /* TransactionId */
    uint64_t block;
    const char *msp;
} rec_t;

static void
unique_subject(char *out, size_t n, const char *tag)
{
    uint8_t r[6];
    char hex[13];

    ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
    hlf_hex_encode(r, sizeof(r), hex);
    snprintf(out, n, "US-42049-%s-%s-R-N", tag, hex);
}

/*
 * Record event n of subject as o (of msp), under recorder: the Recorder
 * registered to o's org (binding is strict).
 */
static rec_t
record(reso_org_t *o, const char *msp, const char *recorder,
       const char *subject, int n)
{
    static const char *const states[] = {"Recorded", "Changed", "Closed"};
    char doc[1024];
    hlf_bytes_t arg, res = {0};
    hlf_error_t err;
    json_t *ev;
    rec_t r;

    snprintf(doc, sizeof(doc),
             "{\"EventSubject\":\"%s\",\"System\":\"Property Listing "
             "Service\",\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
             "\"Event\":\"Listing\",\"State\":\"%s\",\"Recorder\":"
             "\"%s\",\"Application\":\"87478-a43\"}", subject,
             states[n % 3], recorder);
    arg = hlf_bytes_str(doc);
    hlf_error_clear(&err);
    if (hlf_contract_submit(o->contract, "RecordEvent", &arg, 1, &res,
                            &err) != HLF_OK)
        TEST__FAIL("RecordEvent: %s | %s", err.text, err.chaincode_message);
    memset(&r, 0, sizeof(r));
    memcpy(r.txid, err.tx_id, sizeof(r.txid));
    r.block = err.block_number;
    r.msp = msp;
    ev = json_loadb((const char *)res.data, res.len, 0, NULL);
    ASSERT_NOT_NULL(ev);
    snprintf(r.tid, sizeof(r.tid), "%s", netfx_str(ev, "TransactionId"));
    json_decref(ev);
    hlf_bytes_free(&res);
    return r;
}

/* ------------------------------------------------------------------ */
/* Streaming                                                          */
/* ------------------------------------------------------------------ */

typedef struct got_s {
    uint64_t id;
    char txid[65];
    char tid[64];
    char recorded_by[32];
    uint64_t block;
    uint64_t tx_index;
} got_t;

static void
stream_open(const gwproc_t *g, sse_t *c, const char *path, const char *hdr)
{
    sse_open(c, g->port, path, hdr, 0, g->auth[0]);
    if (c->status != 200) {
        gwproc_dump_log(g, 40);
        TEST__FAIL("GET %s: status %d", path, c->status);
    }
}

/* The next event, parsed and checked against its id. */
static got_t
stream_next(sse_t *c, int ms)
{
    char *b, *data;
    json_t *j;
    got_t g;

    memset(&g, 0, sizeof(g));
    b = sse_event(c, ms, &g.id);
    if (b == NULL)
        TEST__FAIL("no event within %d ms", ms);
    data = strstr(b, "\ndata: ");
    ASSERT_NOT_NULL(data);
    j = json_loads(data + 7, 0, NULL);
    ASSERT_NOT_NULL(j);
    ASSERT_EQ(json_integer_value(json_object_get(j, "sequence")), g.id);
    g.block = (uint64_t)json_integer_value(json_object_get(j, "block"));
    g.tx_index = (uint64_t)json_integer_value(json_object_get(j,
                                                              "tx_index"));
    ASSERT_EQ(g.id, GW_SEQ(g.block, g.tx_index));
    snprintf(g.txid, sizeof(g.txid), "%s", netfx_str(j, "txid"));
    snprintf(g.tid, sizeof(g.tid), "%s", netfx_str(j, "TransactionId"));
    snprintf(g.recorded_by, sizeof(g.recorded_by), "%s",
             netfx_str(j, "recorded_by"));
    json_decref(j);
    free(b);
    return g;
}

/* Nothing more arrives within QUIET_MS (heartbeats are fine). */
static void
stream_quiet(sse_t *c)
{
    uint64_t id;
    char *b = sse_event(c, QUIET_MS, &id);

    if (b != NULL)
        TEST__FAIL("unexpected extra event: %s", b);
}

/* The next n events must be exactly recs[0..n), in order. */
static void
expect_recs(sse_t *c, const rec_t *recs, int n, got_t *out)
{
    uint64_t prev = 0;
    int i;

    for (i = 0; i < n; i++) {
        got_t g = stream_next(c, EVENT_WAIT_MS);

        if (strcmp(g.txid, recs[i].txid) != 0)
            TEST__FAIL("event %d: txid %s, want %s (seq %llu)", i, g.txid,
                       recs[i].txid, (unsigned long long)g.id);
        ASSERT_STR_EQ(g.tid, recs[i].tid);
        ASSERT_STR_EQ(g.recorded_by, recs[i].msp);
        ASSERT_EQ(g.block, recs[i].block);
        ASSERT(g.id > prev);
        prev = g.id;
        if (out != NULL)
            out[i] = g;
    }
}

static void
subject_path(char *out, size_t n, const char *subject, uint64_t after)
{
    snprintf(out, n, "/v1/stream?EventSubject=%s&after=%llu", subject,
             (unsigned long long)after);
}

/* Reconnect as a client that saw `last`: Last-Event-ID, filtered on
 * subject (the header wins over the after=0 in the path). */
static void
stream_resume(const gwproc_t *g, sse_t *c, const char *subject, uint64_t last)
{
    char path[256], hdr[64];

    snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu",
             (unsigned long long)last);
    subject_path(path, sizeof(path), subject, 0);
    stream_open(g, c, path, hdr);
}

/* Wait until the gateway streams rec (recorded with subject); its id. */
static uint64_t
wait_streamed(const gwproc_t *g, const char *subject, const rec_t *rec)
{
    char path[256];
    got_t got;
    sse_t c;

    subject_path(path, sizeof(path), subject, 0);
    stream_open(g, &c, path, NULL);
    expect_recs(&c, rec, 1, &got);
    sse_close(&c);
    return got.id;
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

static const char *const ORG_NAMES[] = {"Brokerage", "MLS"};
static const char *const ORG_MSPS[] = {"BrokerageMSP", "MLSMSP"};

TEST_IMPL(sse_order_and_resume)
{
    json_t *env = netfx_env();
    reso_org_t orgs[2];
    const char *recorders[2];
    rec_t m, e[10];
    got_t got[10];
    char subject[96], path[256], hdr[64];
    uint64_t id0;
    sse_t a;
    gwproc_t g;
    int i;

    for (i = 0; i < 2; i++)
        netfx_org_open(env, ORG_NAMES[i], &orgs[i]);
    gw_prepare(&g, env, NULL);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "SSE");
    for (i = 0; i < 2; i++)
        recorders[i] = netfx_recorder(env, ORG_NAMES[i]);
    m = record(&orgs[0], ORG_MSPS[0], recorders[0], subject, 0);
    id0 = wait_streamed(&g, subject, &m);
    ASSERT_EQ(GW_SEQ_BLOCK(id0), m.block);

    /* Unfiltered, from the marker on: exactly what is recorded next, in
     * commit order, by both orgs. */
    snprintf(path, sizeof(path), "/v1/stream?after=%llu",
             (unsigned long long)id0);
    stream_open(&g, &a, path, NULL);
    ASSERT(strstr(a.headers, "Content-Type: text/event-stream") != NULL);
    for (i = 1; i <= 5; i++)
        e[i] = record(&orgs[i % 2], ORG_MSPS[i % 2],
                      recorders[i % 2], subject, i);
    expect_recs(&a, e + 1, 5, got + 1);
    stream_quiet(&a);
    sse_close(&a);

    /* Disconnected: four more. Reconnect with Last-Event-ID: exactly
     * those four, nothing twice. */
    for (i = 6; i <= 9; i++)
        e[i] = record(&orgs[i % 2], ORG_MSPS[i % 2],
                      recorders[i % 2], subject, i);
    snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu",
             (unsigned long long)got[5].id);
    stream_open(&g, &a, "/v1/stream", hdr);
    expect_recs(&a, e + 6, 4, got + 6);
    stream_quiet(&a);
    sse_close(&a);

    /* ?after= from further back, filtered: E3..E9. */
    subject_path(path, sizeof(path), subject, got[2].id);
    stream_open(&g, &a, path, NULL);
    expect_recs(&a, e + 3, 7, NULL);
    stream_quiet(&a);
    sse_close(&a);

    gwproc_free(&g);
    for (i = 0; i < 2; i++)
        reso_netenv_close_org(&orgs[i]);
    json_decref(env);
}

TEST_IMPL(restart_resumes_from_checkpoint)
{
    json_t *env = netfx_env(), *page, *v;
    reso_org_t org;
    const char *rid;
    rec_t r[9];
    got_t got[9], again[9];
    char subject[96], path[256];
    gw_checkpoint_t cp;
    sse_t c;
    gwproc_t g;
    int i;

    netfx_org_open(env, "Brokerage", &org);
    rid = netfx_recorder(env, "Brokerage");
    gw_prepare(&g, env, NULL);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "RESTART");
    r[0] = record(&org, "BrokerageMSP", rid, subject, 0);
    got[0].id = wait_streamed(&g, subject, &r[0]);

    /* SIGTERM: exit 0 with the checkpoint at or past the marker. */
    gwproc_term(&g);
    cp = gw_checkpoint(&g, env);
    ASSERT_EQ(cp.valid, 1);
    ASSERT_GE(cp.block, r[0].block);

    /* Recorded while the gateway is down. */
    for (i = 1; i <= 3; i++)
        r[i] = record(&org, "BrokerageMSP", rid, subject, i);
    gwproc_start(&g);
    stream_resume(&g, &c, subject, got[0].id);
    expect_recs(&c, r + 1, 3, got + 1);

    /* The same sequences in EntityEvent, the marker's unchanged. */
    snprintf(path, sizeof(path), "/v1/EntityEvent?$filter="
             "EntityEventSequence%%20ge%%20%llu&$top=10",
             (unsigned long long)got[0].id);
    page = gw_get(&g, path, 200);
    v = json_object_get(page, "value");
    ASSERT_EQ(json_array_size(v), 4);
    for (i = 0; i < 4; i++) {
        json_t *it = json_array_get(v, (size_t)i);

        ASSERT_EQ(json_integer_value(json_object_get(it,
                                                     "EntityEventSequence")),
                  got[i].id);
        ASSERT_STR_EQ(netfx_str(it, "ResourceRecordKey"), r[i].tid);
    }
    json_decref(page);

    /* Three more, streamed live; then kill -9 mid-stream. */
    for (i = 4; i <= 6; i++)
        r[i] = record(&org, "BrokerageMSP", rid, subject, i);
    expect_recs(&c, r + 4, 3, got + 4);
    gwproc_kill9(&g);
    sse_close(&c);
    r[7] = record(&org, "BrokerageMSP", rid, subject, 7);
    gwproc_start(&g);
    stream_resume(&g, &c, subject, got[3].id);
    expect_recs(&c, r + 4, 4, again + 4);
    stream_quiet(&c);
    sse_close(&c);
    for (i = 4; i <= 6; i++)
        ASSERT_EQ(again[i].id, got[i].id);
    got[7] = again[7];

    /* From the start of the subject: all eight, the same sequences. */
    subject_path(path, sizeof(path), subject, 0);
    stream_open(&g, &c, path, NULL);
    expect_recs(&c, r, 8, again);
    stream_quiet(&c);
    sse_close(&c);
    for (i = 0; i < 8; i++)
        ASSERT_EQ(again[i].id, got[i].id);

    gwproc_free(&g);
    reso_netenv_close_org(&org);
    json_decref(env);
}

/* Read EntityEvent from `first` following nextLinks; ids and keys into
 * the arrays (max n). Calls between(i) after page i. */
static size_t
crawl(const gwproc_t *g, const char *first, uint64_t *ids, char (*keys)[64],
      size_t max, void (*between)(int page, void *ud), void *ud)
{
    char *next = strdup(first), prefix[64];
    size_t n = 0;
    int page_no = 0;

    snprintf(prefix, sizeof(prefix), "http://127.0.0.1:%d", g->port);
    while (next != NULL) {
        json_t *page = gw_get(g, next, 200), *it;
        const char *link;
        size_t i;

        ASSERT_STR_EQ(netfx_str(page, "@reso.context"),
                      "urn:reso:metadata:2.0:resource:entityevent");
        json_array_foreach(json_object_get(page, "value"), i, it) {
            ASSERT(n < max);
            ids[n] = (uint64_t)json_integer_value(
                json_object_get(it, "EntityEventSequence"));
            snprintf(keys[n], 64, "%s", netfx_str(it, "ResourceRecordKey"));
            ASSERT_STR_EQ(netfx_str(it, "ResourceName"), "LedgerEvent");
            n++;
        }
        free(next);
        next = NULL;
        link = json_string_value(json_object_get(page, "@odata.nextLink"));
        if (link != NULL) {
            ASSERT_EQ(strncmp(link, prefix, strlen(prefix)), 0);
            next = strdup(link + strlen(prefix));
        }
        json_decref(page);
        if (between != NULL)
            between(page_no, ud);
        page_no++;
    }
    return n;
}

typedef struct more_s {
    reso_org_t *org;
    const char *recorder; /* org's Recorder (borrowed) */
    const gwproc_t *g;
    const char *subject;
    uint64_t after;   /* the subject's marker event */
    rec_t recs[3];
    int n;
} more_t;

/*
 * After the first page, record three more events and wait until the
 * gateway has published them: a commit reported by the peer can reach the
 * gateway's block follower a moment later (noticeably so under ASan), and
 * the last EntityEvent page can only hold what the follower has seen.
 */
static void
record_more(int page, void *ud)
{
    more_t *m = ud;
    char path[256];
    got_t got[3];
    sse_t c;

    if (page != 0)
        return;
    for (m->n = 0; m->n < 3; m->n++)
        m->recs[m->n] = record(m->org, "BrokerageMSP", m->recorder,
                               m->subject, 10 + m->n);
    subject_path(path, sizeof(path), m->subject, m->after);
    stream_open(m->g, &c, path, NULL);
    expect_recs(&c, m->recs, 3, got);
    sse_close(&c);
}

#define MAX_EVENTS 20000

TEST_IMPL(entityevent_pages_equal_sse)
{
    json_t *env = netfx_env();
    uint64_t *sse_ids = calloc(MAX_EVENTS, sizeof(uint64_t));
    uint64_t *ee_ids = calloc(MAX_EVENTS, sizeof(uint64_t));
    char (*sse_keys)[64] = calloc(MAX_EVENTS, 64);
    char (*ee_keys)[64] = calloc(MAX_EVENTS, 64);
    char subject[96];
    reso_org_t org;
    const char *rid;
    more_t more;
    size_t n_sse = 0, n_ee, i;
    rec_t m;
    uint64_t idm;
    sse_t c;
    gwproc_t g;

    ASSERT(sse_ids && ee_ids && sse_keys && ee_keys);
    netfx_org_open(env, "Brokerage", &org);
    rid = netfx_recorder(env, "Brokerage");
    gw_prepare(&g, env, NULL);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "FEED");
    m = record(&org, "BrokerageMSP", rid, subject, 0);
    idm = wait_streamed(&g, subject, &m);

    /* The whole ledger through SSE, up to the marker. */
    stream_open(&g, &c, "/v1/stream?after=0", NULL);
    for (;;) {
        got_t e = stream_next(&c, EVENT_WAIT_MS);

        ASSERT(n_sse < MAX_EVENTS);
        ASSERT(n_sse == 0 || e.id > sse_ids[n_sse - 1]);
        sse_ids[n_sse] = e.id;
        snprintf(sse_keys[n_sse], 64, "%s", e.tid);
        n_sse++;
        if (e.id == idm)
            break;
        ASSERT(e.id < idm);
    }

    /* The same through EntityEvent pages of 5, with three more events
     * recorded after the first page: they are in the last pages. */
    memset(&more, 0, sizeof(more));
    more.org = &org;
    more.recorder = rid;
    more.g = &g;
    more.subject = subject;
    more.after = idm;
    n_ee = crawl(&g, "/v1/EntityEvent?$filter=EntityEventSequence%20ge%200"
                     "&$top=5", ee_ids, ee_keys, MAX_EVENTS, record_more,
                 &more);
    ASSERT_EQ(more.n, 3);
    /* SSE continues with the same three. */
    for (i = 0; i < 3; i++) {
        got_t e = stream_next(&c, EVENT_WAIT_MS);

        ASSERT_STR_EQ(e.txid, more.recs[i].txid);
        sse_ids[n_sse] = e.id;
        snprintf(sse_keys[n_sse], 64, "%s", e.tid);
        n_sse++;
    }
    stream_quiet(&c);
    sse_close(&c);
    ASSERT_EQ(n_ee, n_sse);
    for (i = 0; i < n_sse; i++) {
        if (ee_ids[i] != sse_ids[i])
            TEST__FAIL("item %zu: EntityEvent %llu, SSE %llu", i,
                       (unsigned long long)ee_ids[i],
                       (unsigned long long)sse_ids[i]);
        ASSERT_STR_EQ(ee_keys[i], sse_keys[i]);
    }
    fprintf(stderr, "entityevent_pages_equal_sse: %zu events compared\n",
            n_sse);
    gwproc_free(&g);
    reso_netenv_close_org(&org);
    free(sse_ids);
    free(ee_ids);
    free(sse_keys);
    free(ee_keys);
    json_decref(env);
}

/* A loopback port nobody listens on. */
static int
dead_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), port;

    ASSERT(s >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    ASSERT_EQ(getsockname(s, (struct sockaddr *)&a, &al), 0);
    port = ntohs(a.sin_port);
    close(s);
    return port;
}

static const char *
org_str(json_t *env, const char *org, const char *a, const char *b)
{
    return netfx_str(json_object_get(json_object_get(
                         json_object_get(env, "orgs"), org), a),
                     b);
}

TEST_IMPL(follower_fails_over)
{
    json_t *env = netfx_env(), *h, *fc;
    char net[4096], subject[96], *metrics;
    const char *assoc = org_str(env, "Association", "peer", "address");
    const char *detail, *p;
    reso_org_t org;
    const char *rid;
    gwt_resp_t r;
    rec_t m;
    gwproc_t g;

    /* Brokerage's peer is gone; Association's and MLS's are there. */
    snprintf(net, sizeof(net),
             "channel %s\nchaincode %s\n"
             "identity Brokerage BrokerageMSP %s\n"
             "peer BrokerageMSP 127.0.0.1:%d %s\n"
             "peer AssociationMSP %s %s\n"
             "peer MLSMSP %s %s\n",
             netfx_str(env, "channel"), netfx_str(env, "chaincode"),
             org_str(env, "Brokerage", "client", "msp_dir"), dead_port(),
             org_str(env, "Brokerage", "peer", "tls_ca"), assoc,
             org_str(env, "Association", "peer", "tls_ca"),
             org_str(env, "MLS", "peer", "address"),
             org_str(env, "MLS", "peer", "tls_ca"));
    netfx_org_open(env, "Brokerage", &org);
    rid = netfx_recorder(env, "Brokerage");
    gw_prepare(&g, env, net);
    gwproc_start(&g);
    unique_subject(subject, sizeof(subject), "FAILOVER");
    m = record(&org, "BrokerageMSP", rid, subject, 0);
    (void)wait_streamed(&g, subject, &m);

    /* Health names the peer it follows through; metrics count the
     * failed attempt on the dead one. */
    h = gw_get(&g, "/healthz", 200);
    fc = json_object_get(json_object_get(h, "components"), "follower");
    ASSERT_STR_EQ(netfx_str(fc, "status"), "ok");
    detail = netfx_str(fc, "detail");
    if (strstr(detail, assoc) == NULL)
        TEST__FAIL("follower detail \"%s\" does not name %s", detail, assoc);
    ASSERT(strstr(detail, "following via") == detail);
    json_decref(h);
    gwt_http("GET", g.port, "/metrics", NULL, &r);
    ASSERT_EQ(r.status, 200);
    metrics = r.body;
    p = strstr(metrics, "\nfollower_reconnects_total ");
    ASSERT_NOT_NULL(p);
    ASSERT_GE(strtol(p + strlen("\nfollower_reconnects_total "), NULL, 10),
              1);
    p = strstr(metrics, "\nfollower_lag_blocks ");
    ASSERT_NOT_NULL(p);
    gwt_resp_free(&r);

    gwproc_free(&g);
    reso_netenv_close_org(&org);
    json_decref(env);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(sse_order_and_resume),
    TEST_ENTRY(restart_resumes_from_checkpoint),
    TEST_ENTRY(entityevent_pages_equal_sse),
    TEST_ENTRY(follower_fails_over),
};

TEST_MAIN(tests)
