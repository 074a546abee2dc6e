/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The off-chain CouchDB indexer (module "index", index.h): one thread
 * that subscribes to the stream module's hub from the sequence in its
 * CouchDB checkpoint and writes every committed event as one document
 * (couch_schema.h). It lives inside the gateway rather than in a daemon
 * of its own because it needs exactly what the stream module already
 * has: the checkpointed follower, the ring of recent events and the
 * ledger replay for older ones (docs/architecture.md says more).
 *
 * Loop: set up (create the database and the Mango indexes, read the
 * checkpoint) -> subscribe (GW_HUB_SYNC: ledger replays run on this
 * thread; GW_HUB_SPILL: a slow index is never dropped, it reads the ring
 * and the ledger from its cursor instead) -> take up to index_batch_max
 * events -> _bulk_docs -> checkpoint -> repeat. A failed write keeps the
 * batch and retries it with exponential backoff up to
 * index_retry_max_ms; nothing else in the gateway waits for it. A
 * replayed document that already exists comes back as a conflict, which
 * is counted, not retried: its content derives from the ledger and is
 * the same. The checkpoint is written after the batch, so a crash
 * replays at most one batch.
 *
 * Routes: GET /v1/index/status and POST /v1/index/rebuild (resoctl index
 * status|rebuild). Health component "index", metrics index_*.
 */
#include "couch.h"
#include "couch_schema.h"
#include "hub.h"
#include "index.h"
#include "reports.h"

#include "hlf/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IX_BACKOFF_MIN_MS 100
/* How long the idle thread sleeps between checks of its subscriber. */
#define IX_IDLE_MS 1000

/*
 * The module's state: owned by the indexer thread, read by status calls;
 * every member below mu is guarded by it.
 */
typedef struct {
    gw_couch_t *couch;     /* set by start, freed by stop */
    int batch_max;
    int64_t retry_max_ms;
    pthread_t thr;
    int running;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, wake, rebuild;
    gw_index_state_t state;
    uint64_t cursor;       /* checkpointed sequence */
    uint64_t inflight;     /* events in the batch being written */
    int drained;           /* the subscriber had nothing more lately */
    uint64_t indexed, conflicts, batches, failures, doc_ns;
    char detail[256];
} indexer_t;

static indexer_t ix = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
};

static gw_metric_t *m_lag, *m_up, *m_ckpt, *m_events, *m_failures;
static uint64_t seen_indexed, seen_failures; /* collector-owned */

const char *
gw_index_state_name(gw_index_state_t s)
{
    switch (s) {
    case GW_INDEX_STARTING:
        return "starting";
    case GW_INDEX_OK:
        return "ok";
    case GW_INDEX_DEGRADED:
        return "degraded";
    default:
        return "disabled";
    }
}

void
gw_index_status(gw_index_status_t *st)
{
    gw_hub_stats_t hs;
    gw_hub_t *hub = gw_stream_hub();

    memset(st, 0, sizeof(*st));
    memset(&hs, 0, sizeof(hs));
    if (hub != NULL)
        gw_hub_stats(hub, &hs);
    pthread_mutex_lock(&ix.mu);
    st->state = ix.state;
    st->checkpoint = ix.cursor;
    st->indexed = ix.indexed;
    st->conflicts = ix.conflicts;
    st->batches = ix.batches;
    st->failures = ix.failures;
    st->doc_ns = ix.doc_ns;
    st->rebuilding = ix.rebuild;
    snprintf(st->detail, sizeof(st->detail), "%s", ix.detail);
    st->head = hs.last_sequence;
    if (st->head > st->checkpoint) {
        st->lag_blocks =
            GW_SEQ_BLOCK(st->head) - GW_SEQ_BLOCK(st->checkpoint);
        st->lag = ix.inflight;
        if (!ix.drained && st->lag_blocks > st->lag)
            st->lag = st->lag_blocks;
        if (st->lag == 0)
            st->lag = 1;
    }
    pthread_mutex_unlock(&ix.mu);
}

void
gw_index_couch_stats(gw_couch_stats_t *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&ix.mu);
    if (ix.running && ix.couch != NULL)
        gw_couch_stats(ix.couch, st);
    pthread_mutex_unlock(&ix.mu);
}

int
gw_index_rebuild(hlf_error_t *err)
{
    pthread_mutex_lock(&ix.mu);
    if (!ix.running) {
        pthread_mutex_unlock(&ix.mu);
        return hlf_error_set(err, HLF_ENOTFOUND, "the index is disabled");
    }
    ix.rebuild = 1;
    pthread_cond_broadcast(&ix.cv);
    pthread_mutex_unlock(&ix.mu);
    hlf_log(HLF_LOG_INFO, "index", "rebuild requested: the index will be "
            "dropped and the ledger replayed from block 0");
    return HLF_OK;
}

/* Record a failure: state degraded, detail for /healthz and status. */
static void
set_failed(const hlf_error_t *e, const char *what)
{
    pthread_mutex_lock(&ix.mu);
    if (ix.state != GW_INDEX_DEGRADED)
        hlf_log(HLF_LOG_WARN, "index", "%s failed, retrying: %s", what,
                e->text);
    ix.state = GW_INDEX_DEGRADED;
    ix.failures++;
    snprintf(ix.detail, sizeof(ix.detail), "%s: %.200s", what, e->text);
    pthread_mutex_unlock(&ix.mu);
}

/* Wait up to ms for a wake-up (new events, stop, rebuild). */
static void
wait_ms(int64_t ms)
{
    struct timespec ts;

    gw_abstime_in(&ts, ms);
    pthread_mutex_lock(&ix.mu);
    while (!ix.stop && !ix.wake && !ix.rebuild)
        if (pthread_cond_timedwait(&ix.cv, &ix.mu, &ts) != 0)
            break;
    ix.wake = 0;
    pthread_mutex_unlock(&ix.mu);
}

static void
on_notify(void *ud)
{
    (void)ud;
    pthread_mutex_lock(&ix.mu);
    ix.wake = 1;
    pthread_cond_broadcast(&ix.cv);
    pthread_mutex_unlock(&ix.mu);
}

static int
stopping(void)
{
    int s;

    pthread_mutex_lock(&ix.mu);
    s = ix.stop;
    pthread_mutex_unlock(&ix.mu);
    return s;
}

/*
 * The CouchDB document of an event (new): the stream's JSON of the event
 * plus _id, type, ts and ts_ns. NULL when out of memory or the JSON does
 * not parse (cannot happen for events the hub accepted).
 */
static json_t *
event_doc(const gw_event_t *ev)
{
    json_t *d = json_loadb(ev->json, ev->json_len, 0, NULL);
    size_t idlen = strlen(GW_COUCH_EVENT_ID_PREFIX) +
                   strlen(ev->transaction_id) + 1;
    char *id = malloc(idlen);
    int64_t ts;

    if (d == NULL || id == NULL) {
        free(id);
        json_decref(d);
        return NULL;
    }
    snprintf(id, idlen, "%s%s", GW_COUCH_EVENT_ID_PREFIX,
             ev->transaction_id);
    if (gw_reports_parse_imf(json_string_value(json_object_get(d,
                                                              "Timestamp")),
                             &ts) != HLF_OK)
        ts = -1;
    if (json_object_set_new(d, "_id", json_string(id)) != 0 ||
        json_object_set_new(d, "type", json_string(GW_COUCH_EVENT_TYPE)) !=
            0 ||
        json_object_set_new(d, "ts", ts >= 0 ? json_integer(ts)
                                             : json_null()) != 0 ||
        json_object_set_new(d, "ts_ns", json_integer(0)) != 0) {
        json_decref(d);
        d = NULL;
    }
    free(id);
    return d;
}

/* Create the database and every index; read the checkpoint. */
static int
setup(uint64_t *cursor, hlf_error_t *err)
{
#define IX__FIELDS(name, ...) {name, {__VA_ARGS__}},
    static const struct {
        const char *name;
        const char *fields[8]; /* NULL-terminated */
    } idx[] = {GW_COUCH_INDEX_MAP(IX__FIELDS)};
#undef IX__FIELDS
    json_t *ck = NULL;
    size_t i, n;
    int rc;

    rc = gw_couch_db_create(ix.couch, NULL, NULL, err);
    for (i = 0; rc == HLF_OK && i < sizeof(idx) / sizeof(idx[0]); i++) {
        for (n = 0; n < 8 && idx[i].fields[n] != NULL; n++)
            ;
        rc = gw_couch_index_create(ix.couch, GW_COUCH_DDOC, idx[i].name,
                                   idx[i].fields, n, NULL, NULL, err);
    }
    if (rc != HLF_OK)
        return rc;
    rc = gw_couch_local_get(ix.couch, GW_COUCH_CHECKPOINT_ID, &ck, NULL,
                            err);
    if (rc == HLF_ENOTFOUND) {
        *cursor = 0;
        hlf_error_clear(err);
        return HLF_OK;
    }
    if (rc != HLF_OK)
        return rc;
    if (!json_is_integer(json_object_get(ck, "sequence")) ||
        json_integer_value(json_object_get(ck, "sequence")) < 0) {
        json_decref(ck);
        return hlf_error_set(err, HLF_EPROTO, "_local/%s has no sequence",
                             GW_COUCH_CHECKPOINT_ID);
    }
    *cursor = (uint64_t)json_integer_value(json_object_get(ck, "sequence"));
    json_decref(ck);
    return HLF_OK;
}

static int
write_checkpoint(uint64_t seq, hlf_error_t *err)
{
    json_t *ck = json_pack("{s:I,s:I,s:I,s:I}", "sequence", (json_int_t)seq,
                           "block", (json_int_t)GW_SEQ_BLOCK(seq),
                           "tx_index", (json_int_t)GW_SEQ_TX(seq),
                           "updated", (json_int_t)time(NULL));
    int rc;

    if (ck == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    rc = gw_couch_local_put(ix.couch, GW_COUCH_CHECKPOINT_ID, ck, NULL, err);
    json_decref(ck);
    return rc;
}

/* Fill batch from sub (at most batch_max). Returns the number added, or
 * a negative code when the subscriber failed (err says why). */
static int
fill(gw_hub_sub_t *sub, json_t *batch, uint64_t *last, hlf_error_t *err)
{
    gw_event_t *ev;
    json_t *d;
    struct timespec t0, t1;
    int n = 0, rc;

    while (n < ix.batch_max) {
        rc = gw_hub_sub_next(sub, &ev, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            pthread_mutex_lock(&ix.mu);
            ix.drained = 1;
            pthread_mutex_unlock(&ix.mu);
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        d = event_doc(ev);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        *last = ev->sequence;
        pthread_mutex_lock(&ix.mu);
        ix.doc_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000L +
                                (t1.tv_nsec - t0.tv_nsec));
        pthread_mutex_unlock(&ix.mu);
        gw_event_unref(ev);
        if (d == NULL || json_array_append_new(batch, d) != 0)
            return hlf_error_set(err, HLF_ENOMEM, "out of memory");
        n++;
    }
    return n;
}

static gw_hub_sub_t *
subscribe(uint64_t cursor, hlf_error_t *err)
{
    gw_hub_sub_opts_t o;
    gw_hub_sub_t *sub = NULL;
    gw_hub_t *hub = gw_stream_hub();

    if (hub == NULL) {
        hlf_error_set(err, HLF_ECLOSED, "the event stream is not running");
        return NULL;
    }
    memset(&o, 0, sizeof(o));
    o.has_after = 1;
    o.after = cursor;
    o.queue_max = (size_t)ix.batch_max * 2;
    o.flags = GW_HUB_SYNC | GW_HUB_SPILL;
    o.notify = on_notify;
    o.name = "index";
    if (gw_hub_subscribe(hub, &o, &sub, err) != HLF_OK)
        return NULL;
    return sub;
}

static void *
run(void *arg)
{
    gw_hub_sub_t *sub = NULL;
    json_t *batch = NULL;
    uint64_t cursor = 0, last = 0;
    int64_t backoff = 0;
    int ready = 0, rebuild, rc;
    gw_couch_bulk_t b;
    hlf_error_t e;

    (void)arg;
    while (!stopping()) {
        if (backoff > 0) {
            wait_ms(backoff);
            if (stopping())
                break;
        }
        pthread_mutex_lock(&ix.mu);
        rebuild = ix.rebuild;
        pthread_mutex_unlock(&ix.mu);
        if (rebuild) {
            gw_hub_unsubscribe(sub);
            sub = NULL;
            json_decref(batch);
            batch = NULL;
            rc = gw_couch_db_delete(ix.couch, NULL, &e);
            if (rc != HLF_OK && rc != HLF_ENOTFOUND) {
                set_failed(&e, "rebuild: delete the database");
                goto retry;
            }
            pthread_mutex_lock(&ix.mu);
            ix.rebuild = 0;
            ix.cursor = 0;
            ix.state = GW_INDEX_STARTING;
            pthread_mutex_unlock(&ix.mu);
            hlf_log(HLF_LOG_INFO, "index", "database %s dropped; "
                    "re-indexing from block 0", gw_couch_db(ix.couch));
            ready = 0;
        }
        if (!ready) {
            if (setup(&cursor, &e) != HLF_OK) {
                set_failed(&e, "set-up");
                goto retry;
            }
            pthread_mutex_lock(&ix.mu);
            ix.cursor = cursor;
            pthread_mutex_unlock(&ix.mu);
            ready = 1;
        }
        if (sub == NULL) {
            pthread_mutex_lock(&ix.mu);
            ix.drained = 0;
            pthread_mutex_unlock(&ix.mu);
            if ((sub = subscribe(cursor, &e)) == NULL) {
                set_failed(&e, "subscribe");
                goto retry;
            }
        }
        if (batch == NULL) {
            if ((batch = json_array()) == NULL)
                goto retry;
            rc = fill(sub, batch, &last, &e);
            if (rc < 0) {
                /* Replay failed or the hub closed: start again from the
                 * checkpoint, dropping what this round read. */
                set_failed(&e, "read events");
                gw_hub_unsubscribe(sub);
                sub = NULL;
                json_decref(batch);
                batch = NULL;
                goto retry;
            }
            if (rc == 0) {
                json_decref(batch);
                batch = NULL;
                pthread_mutex_lock(&ix.mu);
                if (ix.state == GW_INDEX_STARTING)
                    ix.state = GW_INDEX_OK;
                pthread_mutex_unlock(&ix.mu);
                backoff = 0;
                wait_ms(IX_IDLE_MS);
                continue;
            }
            pthread_mutex_lock(&ix.mu);
            ix.inflight = json_array_size(batch);
            pthread_mutex_unlock(&ix.mu);
        }
        rc = gw_couch_bulk_docs(ix.couch, batch, &b, NULL, NULL, &e);
        if (rc == HLF_OK && b.failed > 0)
            rc = hlf_error_set(&e, HLF_EPROTO, "%zu documents refused, "
                               "first %s", b.failed, b.first_error);
        if (rc == HLF_ENOTFOUND) {
            /* The database vanished (dropped by hand): start over. */
            set_failed(&e, "write");
            gw_hub_unsubscribe(sub);
            sub = NULL;
            json_decref(batch);
            batch = NULL;
            ready = 0;
            goto retry;
        }
        if (rc == HLF_OK)
            rc = write_checkpoint(last, &e);
        if (rc != HLF_OK) {
            set_failed(&e, "write");
            goto retry;
        }
        pthread_mutex_lock(&ix.mu);
        if (ix.state != GW_INDEX_OK && ix.state != GW_INDEX_STARTING)
            hlf_log(HLF_LOG_INFO, "index", "CouchDB writes work again");
        ix.state = GW_INDEX_OK;
        ix.detail[0] = '\0';
        ix.cursor = cursor = last;
        ix.inflight = 0;
        ix.indexed += b.ok;
        ix.conflicts += b.conflicts;
        ix.batches++;
        pthread_mutex_unlock(&ix.mu);
        json_decref(batch);
        batch = NULL;
        backoff = 0;
        continue;
    retry:
        backoff = backoff == 0 ? IX_BACKOFF_MIN_MS : backoff * 2;
        if (backoff > ix.retry_max_ms)
            backoff = ix.retry_max_ms;
    }
    gw_hub_unsubscribe(sub);
    json_decref(batch);
    return NULL;
}

static void
collect(void *ud)
{
    gw_index_status_t st;

    (void)ud;
    gw_index_status(&st);
    gw_gauge_set(m_lag, NULL, (double)st.lag);
    gw_gauge_set(m_up, NULL, st.state == GW_INDEX_OK ? 1.0 : 0.0);
    gw_gauge_set(m_ckpt, NULL, (double)st.checkpoint);
    /* Counters only go up; a collector adds what is new since last time
     * (the metrics lock serialises collectors). */
    gw_counter_add(m_events, NULL, (double)(st.indexed - seen_indexed));
    gw_counter_add(m_failures, NULL, (double)(st.failures - seen_failures));
    seen_indexed = st.indexed;
    seen_failures = st.failures;
}

static gw_health_t
health(void *ud, char *detail, size_t n)
{
    gw_index_status_t st;

    (void)ud;
    gw_index_status(&st);
    snprintf(detail, n, "%s; checkpoint sequence %" PRIu64 ", lag %" PRIu64
             " events (%" PRIu64 " blocks)%s%s",
             gw_index_state_name(st.state), st.checkpoint, st.lag,
             st.lag_blocks, st.detail[0] ? "; " : "", st.detail);
    return st.state == GW_INDEX_OK || st.state == GW_INDEX_DISABLED
               ? GW_HEALTH_OK
               : GW_HEALTH_DEGRADED;
}

static json_t *
status_json(void)
{
    gw_index_status_t st;

    gw_index_status(&st);
    return json_pack("{s:s,s:b,s:{s:I,s:I,s:I},s:I,s:I,s:I,s:I,s:I,s:I,"
                     "s:I,s:s}",
                     "state", gw_index_state_name(st.state),
                     "rebuilding", st.rebuilding,
                     "checkpoint", "sequence", (json_int_t)st.checkpoint,
                     "block", (json_int_t)GW_SEQ_BLOCK(st.checkpoint),
                     "tx_index", (json_int_t)GW_SEQ_TX(st.checkpoint),
                     "head_sequence", (json_int_t)st.head,
                     "lag", (json_int_t)st.lag,
                     "lag_blocks", (json_int_t)st.lag_blocks,
                     "indexed", (json_int_t)st.indexed,
                     "conflicts", (json_int_t)st.conflicts,
                     "batches", (json_int_t)st.batches,
                     "failures", (json_int_t)st.failures,
                     "detail", st.detail);
}

static int
h_status(gw_req_t *req)
{
    json_t *body = status_json();

    if (body == NULL)
        return HLF_ENOMEM;
    return gw_reply_json(req, 200, body, NULL, 0);
}

static int
h_rebuild(gw_req_t *req)
{
    json_t *body;

    if (gw_index_rebuild(NULL) != HLF_OK)
        return gw_reply_error(req, GW_ERR_SERVICE_UNAVAILABLE, NULL,
                              "the index is disabled (couch_url is not "
                              "configured)");
    hlf_log(HLF_LOG_INFO, "index", "rebuild asked by key %s",
            gw_req_principal(req)->key_name);
    if ((body = status_json()) == NULL)
        return HLF_ENOMEM;
    return gw_reply_json(req, 202, body, NULL, 0);
}

static int
ix_init(const gw_config_t *cfg, hlf_error_t *err)
{
    (void)cfg;
    m_lag = gw_metric_register(GW_METRIC_GAUGE, "index_lag_events",
                               "Committed events not yet in the CouchDB "
                               "index (lower bound while catching up)",
                               NULL, NULL, 0);
    m_up = gw_metric_register(GW_METRIC_GAUGE, "index_up",
                              "1 while the CouchDB index is current and "
                              "writable, else 0", NULL, NULL, 0);
    m_ckpt = gw_metric_register(GW_METRIC_GAUGE, "index_checkpoint_sequence",
                                "Sequence of the last indexed event", NULL,
                                NULL, 0);
    m_events = gw_metric_register(GW_METRIC_COUNTER, "index_events_total",
                                  "Event documents written to CouchDB",
                                  NULL, NULL, 0);
    m_failures = gw_metric_register(GW_METRIC_COUNTER,
                                    "index_failures_total",
                                    "Failed CouchDB set-ups and writes "
                                    "(each retried)", NULL, NULL, 0);
    if (m_lag == NULL || m_up == NULL || m_ckpt == NULL ||
        m_events == NULL || m_failures == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "index: cannot register "
                             "metrics");
    seen_indexed = seen_failures = 0;
    gw_counter_add(m_events, NULL, 0);
    gw_counter_add(m_failures, NULL, 0);
    if (gw_metrics_collector(collect, NULL) != HLF_OK ||
        gw_health_register("index", health, NULL) != HLF_OK ||
        gw_http_route("GET", "/v1/index/status", h_status,
                      GW_ROUTE_AUTH) != HLF_OK ||
        gw_http_route("POST", "/v1/index/rebuild", h_rebuild,
                      GW_ROUTE_AUTH) != HLF_OK)
        return hlf_error_set(err, HLF_ENOMEM, "index: cannot register "
                             "metrics, health or routes");
    return HLF_OK;
}

static int
ix_start(const gw_config_t *cfg, hlf_error_t *err)
{
    int rc;

    if (cfg->couch_url == NULL || cfg->couch_url[0] == '\0') {
        hlf_log(HLF_LOG_INFO, "index", "couch_url is not set: the CouchDB "
                "index is disabled");
        return HLF_OK;
    }
    rc = gw_couch_from_config(cfg, &ix.couch, err);
    if (rc != HLF_OK)
        return rc;
    ix.batch_max = cfg->index_batch_max > 0 ? cfg->index_batch_max
                                            : GW_DEFAULT_INDEX_BATCH_MAX;
    ix.retry_max_ms = cfg->index_retry_max_ms >= IX_BACKOFF_MIN_MS
                          ? cfg->index_retry_max_ms
                          : GW_DEFAULT_INDEX_RETRY_MAX_MS;
    pthread_mutex_lock(&ix.mu);
    ix.stop = ix.wake = ix.rebuild = 0;
    ix.state = GW_INDEX_STARTING;
    ix.cursor = ix.inflight = 0;
    ix.indexed = ix.conflicts = ix.batches = ix.failures = ix.doc_ns = 0;
    ix.detail[0] = '\0';
    ix.running = 1;
    pthread_mutex_unlock(&ix.mu);
    if (pthread_create(&ix.thr, NULL, run, NULL) != 0) {
        pthread_mutex_lock(&ix.mu);
        ix.running = 0;
        ix.state = GW_INDEX_DISABLED;
        pthread_mutex_unlock(&ix.mu);
        gw_couch_free(ix.couch);
        ix.couch = NULL;
        return hlf_error_set(err, HLF_ENOMEM, "index: cannot start thread");
    }
    hlf_log(HLF_LOG_INFO, "index", "indexing into %s database %s",
            gw_couch_url(ix.couch), gw_couch_db(ix.couch));
    return HLF_OK;
}

static void
ix_stop(void)
{
    pthread_mutex_lock(&ix.mu);
    if (!ix.running) {
        pthread_mutex_unlock(&ix.mu);
        return;
    }
    ix.stop = 1;
    pthread_cond_broadcast(&ix.cv);
    pthread_mutex_unlock(&ix.mu);
    pthread_join(ix.thr, NULL);
    pthread_mutex_lock(&ix.mu);
    ix.running = 0;
    ix.state = GW_INDEX_DISABLED;
    pthread_mutex_unlock(&ix.mu);
    gw_couch_free(ix.couch);
    ix.couch = NULL;
}

const gw_module_t gw_module_index = {"index", ix_init, ix_start, ix_stop};
