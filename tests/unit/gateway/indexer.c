/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The indexer module (gateway/src/indexer.c) in-process against a real
 * pouchdb-server (couchproc): a hub installed as the daemon's, events
 * published by the test as the follower would, and the module's routes on the gateway's HTTP core. Checks that
 * the index holds exactly one document per event with every field, that
 * batches respect index_batch_max, that CouchDB going away degrades the
 * index (and /healthz) without losing or repeating an event once it is
 * back, that a restart resumes from the CouchDB checkpoint, that a stale
 * checkpoint replays as conflicts only, that a rebuild re-indexes
 * everything, and the disabled case.
 */
#include "couch.h"
#include "couch_schema.h"
#include "couchproc.h"
#include "gwtest.h"
#include "hub.h"
#include "index.h"
#include "task.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "index-test-key-0123456789abcdef0"
#define AUTH "Authorization: Bearer " KEY
#define LEDGER_MAX 256
#define BATCH 4
/* "Sun, 06 Nov 1994 08:49:37 GMT" in Unix seconds, plus i minutes. */
#define TS0 784111777

extern const gw_module_t gw_module_index;

static couchproc_t srv;
static gw_config_t *cfg;
static gw_hub_t *hub;
static gw_couch_t *couch; /* the test's own view of the database */
static int port;
static gw_event_t *ledger[LEDGER_MAX];
static atomic_int nledger;

static uint64_t
seq_of(int i)
{
    return GW_SEQ((uint64_t)(i / 2) + 1, (uint32_t)(i % 2));
}

/* Event i: two per block, Timestamp TS0 + i minutes, Context on odd i. */
static void
publish(int i)
{
    static const char *const wd[] = {"Sun", "Mon"};
    char buf[1024], txid[32];
    gw_event_t *ev = NULL;
    int min = 49 + i;

    snprintf(buf, sizeof(buf),
             "{\"TransactionId\":\"id-%d\",\"EventSubject\":\"US-%d\","
             "\"System\":\"Association Management System\","
             "\"SubjectType\":\"Member\",\"Entity\":\"Agent\","
             "\"Event\":\"License1\",\"State\":\"%s\",\"Recorder\":\"r%d\","
             "\"Application\":\"app\",\"Version\":\"1.3\","
             "\"Timestamp\":\"%s, %02d Nov 1994 %02d:%02d:37 GMT\"%s}",
             i, i % 3, i % 2 ? "Verified" : "Submitted", i % 2,
             wd[(8 * 60 + min) / (24 * 60)], 6 + (8 * 60 + min) / (24 * 60),
             ((8 * 60 + min) / 60) % 24, min % 60,
             i % 2 ? ",\"Context\":{\"Course\":\"Ethics\",\"Hours\":3}" : "");
    snprintf(txid, sizeof(txid), "tx-%d", i);
    ASSERT_EQ(gw_event_new(seq_of(i) >> 16, (uint32_t)(i % 2), txid,
                           "AssociationMSP", (const uint8_t *)buf,
                           strlen(buf), &ev, NULL), HLF_OK);
    ASSERT(atomic_load(&nledger) < LEDGER_MAX);
    ledger[atomic_load(&nledger)] = ev;
    atomic_fetch_add(&nledger, 1);
    ASSERT_EQ(gw_hub_publish(hub, ev), HLF_OK);
}

/* Start CouchDB (unless with_couch is 0), the hub and the module. */
static void
start(int with_couch)
{
    char hash[65], text[2048];
    gw_couch_opts_t o;
    hlf_error_t e;
    int rc;

    if (with_couch) {
        rc = couchproc_start(&srv);
        if (rc == COUCHPROC_MISSING)
            RETURN_SKIP("pouchdb-server is not installed");
        ASSERT_EQ(rc, 0);
        memset(&o, 0, sizeof(o));
        o.url = srv.url;
        o.db = "reso-events";
        ASSERT_EQ(gw_couch_new(&o, &couch, &e), HLF_OK);
    }
    gwt_sha256_hex(KEY, hash);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "access_log no\n"
             "rate_limit_per_key 0\n"
             "identity Association AssociationMSP /nonexistent/a\n"
             "apikey index-test Association %s\n"
             "index_batch_max %d\n"
             "index_retry_max_ms 200\n"
             "%s%s\n", hash, BATCH, with_couch ? "couch_url " : "",
             with_couch ? srv.url : "");
    cfg = gwt_config(text);
    /* The ring holds every event a test publishes, so no ledger replay
     * is needed: a subscriber from any sequence reads the ring. */
    ASSERT_EQ(gw_hub_new(LEDGER_MAX, &hub), HLF_OK);
    gw_stream_install_hub(hub);
    ASSERT_EQ(gw_core_routes(), HLF_OK);
    ASSERT_EQ(gw_module_index.init(cfg, &e), HLF_OK);
    port = gwt_start(cfg);
    ASSERT_EQ(gw_module_index.start(cfg, &e), HLF_OK);
}

static void
stop(void)
{
    int i;

    gw_module_index.stop();
    (void)gw_http_drain(2000);
    gwt_stop(cfg);
    gw_stream_install_hub(NULL);
    gw_hub_free(hub);
    for (i = 0; i < atomic_load(&nledger); i++)
        gw_event_unref(ledger[i]);
    atomic_store(&nledger, 0);
    gw_couch_free(couch);
    couch = NULL;
    couchproc_free(&srv);
}

/* Wait (up to 60 s) until the checkpoint is seq and the state ok. */
static void
wait_indexed(uint64_t seq)
{
    gw_index_status_t st;
    int i;

    for (i = 0; i < 600; i++) {
        gw_index_status(&st);
        if (st.checkpoint == seq && st.state == GW_INDEX_OK)
            return;
        gwt_sleep_ms(100);
    }
    TEST__FAIL("checkpoint %" PRIu64 " (state %s, %s), want %" PRIu64,
               st.checkpoint, gw_index_state_name(st.state), st.detail,
               seq);
}

static void
wait_state(gw_index_state_t want)
{
    gw_index_status_t st;
    int i;

    for (i = 0; i < 600; i++) {
        gw_index_status(&st);
        if (st.state == want)
            return;
        gwt_sleep_ms(100);
    }
    TEST__FAIL("state %s, want %s", gw_index_state_name(st.state),
               gw_index_state_name(want));
}

/* Every event document, by sequence (new). */
static json_t *
all_docs(void)
{
    json_t *q, *ans = NULL, *docs;
    hlf_error_t e;

    q = json_pack("{s:{s:s,s:{s:i}},s:[s,s],s:[{s:s},{s:s}],s:i}",
                  "selector", "type", "event", "sequence", "$gte", 0,
                  "use_index", GW_COUCH_DDOC, "by-sequence",
                  "sort", "type", "asc", "sequence", "asc", "limit", 1000);
    ASSERT_EQ(gw_couch_find(couch, q, &ans, NULL, &e), HLF_OK);
    json_decref(q);
    docs = json_incref(json_object_get(ans, "docs"));
    json_decref(ans);
    return docs;
}

/* The index holds exactly events 0..n-1, field by field. */
static void
check_docs(int n)
{
    json_t *docs = all_docs(), *d, *ledger_doc;
    char id[32];
    int i;

    ASSERT_EQ(json_array_size(docs), (size_t)n);
    for (i = 0; i < n; i++) {
        const char *k;
        json_t *v;

        d = json_array_get(docs, (size_t)i);
        snprintf(id, sizeof(id), "ev:id-%d", i);
        ASSERT_STR_EQ(json_string_value(json_object_get(d, "_id")), id);
        ASSERT_STR_EQ(json_string_value(json_object_get(d, "type")),
                      "event");
        ASSERT_EQ(json_integer_value(json_object_get(d, "sequence")),
                  (json_int_t)seq_of(i));
        ASSERT_EQ(json_integer_value(json_object_get(d, "block")),
                  (json_int_t)(i / 2 + 1));
        ASSERT_EQ(json_integer_value(json_object_get(d, "tx_index")),
                  i % 2);
        snprintf(id, sizeof(id), "tx-%d", i);
        ASSERT_STR_EQ(json_string_value(json_object_get(d, "txid")), id);
        ASSERT_EQ(json_integer_value(json_object_get(d, "ts")),
                  TS0 + 60 * i);
        ASSERT_EQ(json_integer_value(json_object_get(d, "ts_ns")), 0);
        /* Every member of the stream's event JSON is in the document
         * with the same value. */
        ledger_doc = json_loadb(ledger[i]->json, ledger[i]->json_len, 0,
                                NULL);
        ASSERT_NOT_NULL(ledger_doc);
        json_object_foreach(ledger_doc, k, v)
            ASSERT(json_equal(v, json_object_get(d, k)));
        /* ... and nothing else but the schema's additions. */
        ASSERT_EQ(json_object_size(d), json_object_size(ledger_doc) + 5);
        json_decref(ledger_doc);
    }
    json_decref(docs);
}

TEST_IMPL(index_every_event_in_batches)
{
    gw_index_status_t st;
    gwt_resp_t r;
    gwt_opts_t o;
    const char *hdrs[] = {AUTH, NULL};
    json_t *j, *ck = NULL;
    hlf_error_t e;
    int i;

    start(1);
    for (i = 0; i < 10; i++)
        publish(i);
    wait_indexed(seq_of(9));
    check_docs(10);
    gw_index_status(&st);
    ASSERT_EQ(st.indexed, 10);
    ASSERT_EQ(st.conflicts, 0);
    ASSERT(st.batches >= 3); /* 10 events, at most 4 per batch */
    ASSERT_EQ(st.lag, 0);

    for (i = 10; i < 15; i++)
        publish(i);
    wait_indexed(seq_of(14));
    check_docs(15);

    ASSERT_EQ(gw_couch_local_get(couch, GW_COUCH_CHECKPOINT_ID, &ck, NULL,
                                 &e), HLF_OK);
    ASSERT_EQ(json_integer_value(json_object_get(ck, "sequence")),
              (json_int_t)seq_of(14));
    ASSERT_EQ(json_integer_value(json_object_get(ck, "block")), 8);
    ASSERT_EQ(json_integer_value(json_object_get(ck, "tx_index")), 0);
    json_decref(ck);

    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    gwt_http("GET", port, "/v1/index/status", &o, &r);
    ASSERT_EQ(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "state")), "ok");
    ASSERT_EQ(json_integer_value(json_object_get(
                  json_object_get(j, "checkpoint"), "sequence")),
              (json_int_t)seq_of(14));
    ASSERT_EQ(json_integer_value(json_object_get(j, "indexed")), 15);
    json_decref(j);
    gwt_resp_free(&r);
    gwt_http("GET", port, "/v1/index/status", NULL, &r);
    ASSERT_EQ(r.status, 401);
    gwt_resp_free(&r);

    gwt_http("GET", port, "/metrics", NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_NOT_NULL(strstr(r.body, "\nindex_events_total 15\n"));
    ASSERT_NOT_NULL(strstr(r.body, "\nindex_up 1\n"));
    ASSERT_NOT_NULL(strstr(r.body, "\nindex_lag_events 0\n"));
    gwt_resp_free(&r);
    stop();
}

TEST_IMPL(index_couch_down_and_back)
{
    gw_index_status_t st;
    gwt_resp_t r;
    json_t *j;
    int i;

    start(1);
    for (i = 0; i < 5; i++)
        publish(i);
    wait_indexed(seq_of(4));
    ASSERT_EQ(couchproc_stop(&srv), 0);
    for (i = 5; i < 12; i++)
        publish(i);
    wait_state(GW_INDEX_DEGRADED);
    gw_index_status(&st);
    ASSERT(st.lag >= 1);
    ASSERT(st.head == seq_of(11));
    ASSERT_NOT_NULL(strstr(st.detail, "CouchDB"));

    gwt_http("GET", port, "/healthz", NULL, &r);
    ASSERT_EQ(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "status")),
                  "degraded");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(
                      json_object_get(j, "components"), "index"),
                      "status")), "degraded");
    json_decref(j);
    gwt_resp_free(&r);

    /* Still publishing while CouchDB is away: nothing waits for it. */
    publish(12);
    ASSERT_EQ(couchproc_restart(&srv), 0);
    wait_indexed(seq_of(12));
    check_docs(13);
    gw_index_status(&st);
    ASSERT(st.failures >= 1);
    ASSERT_EQ(st.indexed + st.conflicts, 13);

    gwt_http("GET", port, "/healthz", NULL, &r);
    j = json_loads(r.body, 0, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    gwt_resp_free(&r);
    stop();
}

TEST_IMPL(index_restart_and_stale_checkpoint)
{
    gw_index_status_t st;
    hlf_error_t e;
    json_t *ck;
    int i;

    start(1);
    for (i = 0; i < 6; i++)
        publish(i);
    wait_indexed(seq_of(5));
    gw_module_index.stop();
    gw_index_status(&st);
    ASSERT_EQ(st.state, GW_INDEX_DISABLED);

    /* A restart resumes from the checkpoint: nothing is written twice. */
    ASSERT_EQ(gw_module_index.start(cfg, &e), HLF_OK);
    publish(6);
    publish(7);
    wait_indexed(seq_of(7));
    gw_index_status(&st);
    ASSERT_EQ(st.indexed, 2);
    ASSERT_EQ(st.conflicts, 0);
    gw_module_index.stop();

    /* A crash between a batch and its checkpoint: the batch is replayed
     * and every replayed document is a conflict, not a duplicate. */
    ck = json_pack("{s:I}", "sequence", (json_int_t)seq_of(3));
    ASSERT_EQ(gw_couch_local_put(couch, GW_COUCH_CHECKPOINT_ID, ck, NULL,
                                 &e), HLF_OK);
    json_decref(ck);
    ASSERT_EQ(gw_module_index.start(cfg, &e), HLF_OK);
    wait_indexed(seq_of(7));
    gw_index_status(&st);
    ASSERT_EQ(st.indexed, 0);
    ASSERT_EQ(st.conflicts, 4);
    check_docs(8);
    stop();
}

TEST_IMPL(index_rebuild)
{
    gw_index_status_t st;
    gwt_resp_t r;
    gwt_opts_t o;
    const char *hdrs[] = {AUTH, NULL};
    int i;

    start(1);
    for (i = 0; i < 8; i++)
        publish(i);
    wait_indexed(seq_of(7));
    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    gwt_http("POST", port, "/v1/index/rebuild", &o, &r);
    ASSERT_EQ(r.status, 202);
    gwt_resp_free(&r);
    /* Done when the rebuilt index reached the head again. */
    for (i = 0; i < 600; i++) {
        gw_index_status(&st);
        if (!st.rebuilding && st.indexed == 16 &&
            st.checkpoint == seq_of(7))
            break;
        gwt_sleep_ms(100);
    }
    ASSERT_EQ(st.indexed, 16);
    ASSERT_EQ(st.conflicts, 0);
    check_docs(8);
    stop();
}

TEST_IMPL(index_disabled)
{
    gw_index_status_t st;
    gwt_resp_t r;
    gwt_opts_t o;
    const char *hdrs[] = {AUTH, NULL};
    hlf_error_t e;

    start(0);
    gw_index_status(&st);
    ASSERT_EQ(st.state, GW_INDEX_DISABLED);
    ASSERT_EQ(gw_index_rebuild(&e), HLF_ENOTFOUND);
    memset(&o, 0, sizeof(o));
    o.headers = hdrs;
    gwt_http("POST", port, "/v1/index/rebuild", &o, &r);
    ASSERT_EQ(r.status, 503);
    gwt_resp_free(&r);
    gwt_http("GET", port, "/healthz", NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_NOT_NULL(strstr(r.body, "\"disabled;"));
    gwt_resp_free(&r);
    stop();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(index_every_event_in_batches),
    TEST_ENTRY(index_couch_down_and_back),
    TEST_ENTRY(index_restart_and_stale_checkpoint),
    TEST_ENTRY(index_rebuild),
    TEST_ENTRY(index_disabled),
};

TEST_MAIN(tests)
