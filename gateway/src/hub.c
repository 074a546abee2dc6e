/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event hub: an in-memory ring of the most recent committed events
 * and the fan-out to subscribers (hub.h has the contract, docs/internals/
 * follower.md the picture).
 *
 * Every subscriber is in one of four modes, all guarded by the hub lock:
 *
 *   REPLAY  events after its position are older than the ring: a replay
 *           chunk (worker job, or inline with GW_HUB_SYNC) reads them from
 *           the ledger into its queue, up to `replay_upto`;
 *   RING    it reads the ring directly from its position;
 *   LIVE    it has caught up: gw_hub_publish pushes matching events into
 *           its queue;
 *   CLOSED  dropped, failed, unsubscribed or the hub closed.
 *
 * `pos` is the sequence up to which the subscriber has examined the event
 * stream (everything <= pos that matches is in its queue or was
 * returned). Each mode only moves pos forward over events it has queued or
 * skipped, and a mode switch happens under the lock at a point where the
 * next source starts exactly after pos, which is why nothing is missed or
 * repeated at the seams. The ring "covers" every event after
 * covered_from: the sequence of the last evicted event, or the start.
 *
 * Locks: publock serializes publishers and owns the scratch array of
 * subscribers to notify; lock guards everything else. Order: publock,
 * then lock. Notify callbacks run with neither held; notify_busy lets
 * gw_hub_unsubscribe wait for a callback in progress.
 */
#include "hub.h"

#include "hlf/log.h"
#include "hlf/mem.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#define FILTER_MAX_VALUES 64
/* How long gw_hub_free waits for the last subscribers and jobs. */
#define FREE_WAIT_S 10

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

static const char *const evfield_names[GW_EVF__COUNT] = {
#define GW__EVF_NAME(id, name) name,
    GW_EVFIELD_MAP(GW__EVF_NAME)
#undef GW__EVF_NAME
};

/* The event and the storage its strings point into. */
typedef struct event_box_s {
    gw_event_t ev;
    char *frame;                       /* also holds the JSON */
    char *strs[GW_EVF__COUNT + 3];     /* owned copies */
} event_box_t;

int
gw_seq_parse(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (s == NULL || len == 0 || len > 19)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = v;
    return 0;
}

void
gw_abstime_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int
gw_evfield_from_name(const char *name)
{
    int i;

    if (name == NULL)
        return -1;
    for (i = 0; i < GW_EVF__COUNT; i++)
        if (strcmp(evfield_names[i], name) == 0)
            return i;
    return -1;
}

const char *
gw_evfield_name(gw_evfield_t f)
{
    if ((int)f < 0 || f >= GW_EVF__COUNT)
        return "?";
    return evfield_names[f];
}

static void
event_box_free(event_box_t *b)
{
    size_t i;

    for (i = 0; i < sizeof(b->strs) / sizeof(b->strs[0]); i++)
        hlf_free(b->strs[i]);
    hlf_free(b->frame);
    hlf_free(b);
}

/* Copy s into box slot i and return the copy (NULL: out of memory). */
static const char *
box_str(event_box_t *b, size_t i, const char *s)
{
    b->strs[i] = hlf_strdup(s != NULL ? s : "");
    return b->strs[i];
}

/* Our envelope keys: a payload key of the same name is not copied. */
static int
is_envelope_key(const char *k)
{
    return strcmp(k, "sequence") == 0 || strcmp(k, "block") == 0 ||
           strcmp(k, "tx_index") == 0 || strcmp(k, "txid") == 0 ||
           strcmp(k, "recorded_by") == 0;
}

int
gw_event_new(uint64_t block, uint32_t tx_index, const char *txid,
             const char *recorded_by, const uint8_t *payload, size_t len,
             gw_event_t **out, hlf_error_t *err)
{
    json_t *in = NULL, *o = NULL, *v;
    json_error_t jerr;
    event_box_t *b = NULL;
    char head[96];
    const char *k;
    size_t jlen, hlen, i;
    uint64_t seq;
    int rc, n;

    if (out == NULL)
        return hlf_error_set(err, HLF_EINVAL, "event: NULL argument");
    *out = NULL;
    if (txid == NULL || (payload == NULL && len > 0))
        return hlf_error_set(err, HLF_EINVAL, "event: NULL argument");
    if (tx_index > GW_SEQ_TX_MAX || block >= ((uint64_t)1 << 47))
        return hlf_error_set(err, HLF_ETOOBIG, "event: block %" PRIu64
                             " tx %u does not fit a sequence", block,
                             tx_index);
    seq = GW_SEQ(block, tx_index);
    in = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES,
                    &jerr);
    if (!json_is_object(in)) {
        rc = hlf_error_set(err, HLF_EPROTO, "event payload of tx %s is not "
                           "a JSON object", txid);
        goto fail;
    }
    if (!json_is_string(json_object_get(in, "TransactionId"))) {
        rc = hlf_error_set(err, HLF_EPROTO, "event payload of tx %s has no "
                           "string TransactionId", txid);
        goto fail;
    }
    for (i = 0; i < GW_EVF__COUNT; i++) {
        v = json_object_get(in, evfield_names[i]);
        if (v != NULL && !json_is_string(v)) {
            rc = hlf_error_set(err, HLF_EPROTO, "event payload of tx %s: %s "
                               "is not a string", txid, evfield_names[i]);
            goto fail;
        }
    }
    rc = HLF_ENOMEM;
    o = json_object();
    if (o == NULL ||
        json_object_set_new(o, "sequence", json_integer((json_int_t)seq)) ||
        json_object_set_new(o, "block", json_integer((json_int_t)block)) ||
        json_object_set_new(o, "tx_index", json_integer(tx_index)) ||
        json_object_set_new(o, "txid", json_string(txid)))
        goto oom;
    json_object_foreach(in, k, v) {
        if (!is_envelope_key(k) && json_object_set(o, k, v) != 0)
            goto oom;
    }
    if (json_object_set_new(o, "recorded_by",
                            json_string(recorded_by ? recorded_by : "")))
        goto oom;
    jlen = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (jlen == 0)
        goto oom;
    n = snprintf(head, sizeof(head), "id: %" PRIu64 "\nevent: reso.event\n"
                 "data: ", seq);
    hlen = (size_t)n;
    b = hlf_calloc(1, sizeof(*b));
    if (b == NULL)
        goto oom;
    b->frame = hlf_malloc(hlen + jlen + 3);
    if (b->frame == NULL)
        goto oom;
    memcpy(b->frame, head, hlen);
    /* Serialized once, straight into the frame. */
    if (json_dumpb(o, b->frame + hlen, jlen,
                   JSON_COMPACT | JSON_PRESERVE_ORDER) != jlen)
        goto oom;
    memcpy(b->frame + hlen + jlen, "\n\n", 3);
    b->ev.sequence = seq;
    b->ev.block = block;
    b->ev.tx_index = tx_index;
    b->ev.frame = b->frame;
    b->ev.frame_len = hlen + jlen + 2;
    b->ev.json = b->frame + hlen;
    b->ev.json_len = jlen;
    b->ev.txid = box_str(b, 0, txid);
    b->ev.transaction_id = box_str(b, 1, json_string_value(
                                             json_object_get(in,
                                                             "TransactionId")));
    b->ev.recorded_by = box_str(b, 2, recorded_by);
    if (b->ev.txid == NULL || b->ev.transaction_id == NULL ||
        b->ev.recorded_by == NULL)
        goto oom;
    for (i = 0; i < GW_EVF__COUNT; i++) {
        b->ev.field[i] = box_str(b, 3 + i, json_string_value(
                                               json_object_get(
                                                   in, evfield_names[i])));
        if (b->ev.field[i] == NULL)
            goto oom;
    }
    atomic_init(&b->ev.refs, 1);
    *out = &b->ev;
    b = NULL;
    rc = HLF_OK;
    goto done;
oom:
    rc = hlf_error_set(err, HLF_ENOMEM, "event: out of memory");
fail:
done:
    if (b != NULL)
        event_box_free(b);
    json_decref(o);
    json_decref(in);
    return rc;
}

gw_event_t *
gw_event_ref(gw_event_t *ev)
{
    if (ev != NULL)
        atomic_fetch_add(&ev->refs, 1);
    return ev;
}

void
gw_event_unref(gw_event_t *ev)
{
    if (ev != NULL && atomic_fetch_sub(&ev->refs, 1) == 1)
        event_box_free((event_box_t *)ev);
}

/* ------------------------------------------------------------------ */
/* Filters                                                            */
/* ------------------------------------------------------------------ */

struct gw_filter_s {
    char **vals[GW_EVF__COUNT];
    size_t nvals[GW_EVF__COUNT];
};

int
gw_filter_new(gw_filter_t **out)
{
    *out = hlf_calloc(1, sizeof(**out));
    return *out != NULL ? HLF_OK : HLF_ENOMEM;
}

int
gw_filter_add(gw_filter_t *f, gw_evfield_t field, const char *value)
{
    char **nv, *copy;
    size_t n;

    if (f == NULL || value == NULL || (int)field < 0 ||
        field >= GW_EVF__COUNT)
        return HLF_EINVAL;
    n = f->nvals[field];
    if (n >= FILTER_MAX_VALUES)
        return HLF_ETOOBIG;
    copy = hlf_strdup(value);
    if (copy == NULL)
        return HLF_ENOMEM;
    nv = hlf_realloc(f->vals[field], (n + 1) * sizeof(*nv));
    if (nv == NULL) {
        hlf_free(copy);
        return HLF_ENOMEM;
    }
    nv[n] = copy;
    f->vals[field] = nv;
    f->nvals[field] = n + 1;
    return HLF_OK;
}

int
gw_filter_match(const gw_filter_t *f, const gw_event_t *ev)
{
    size_t i, j;

    if (f == NULL)
        return 1;
    for (i = 0; i < GW_EVF__COUNT; i++) {
        int hit = f->nvals[i] == 0;

        for (j = 0; j < f->nvals[i] && !hit; j++)
            hit = strcmp(f->vals[i][j], ev->field[i]) == 0;
        if (!hit)
            return 0;
    }
    return 1;
}

int
gw_filter_is_empty(const gw_filter_t *f)
{
    size_t i;

    if (f == NULL)
        return 1;
    for (i = 0; i < GW_EVF__COUNT; i++)
        if (f->nvals[i] > 0)
            return 0;
    return 1;
}

void
gw_filter_free(gw_filter_t *f)
{
    size_t i, j;

    if (f == NULL)
        return;
    for (i = 0; i < GW_EVF__COUNT; i++) {
        for (j = 0; j < f->nvals[i]; j++)
            hlf_free(f->vals[i][j]);
        hlf_free(f->vals[i]);
    }
    hlf_free(f);
}

/* ------------------------------------------------------------------ */
/* Hub and subscriber state                                           */
/* ------------------------------------------------------------------ */

typedef enum { SUB_REPLAY, SUB_RING, SUB_LIVE, SUB_CLOSED } sub_mode_t;

struct gw_hub_sub_s {
    gw_hub_t *hub;
    struct gw_hub_sub_s *next, *prev; /* hub list while listed */
    int listed;
    gw_filter_t *filter;
    unsigned flags;
    gw_hub_notify_fn notify;
    void *ud;
    char *name;

    sub_mode_t mode;
    uint64_t pos;         /* examined up to here (see the top) */
    uint64_t cursor;      /* last returned */
    uint64_t replay_upto; /* REPLAY: this round ends here */
    int replay_running;   /* a chunk is queued or running */

    gw_event_t **q;       /* circular queue */
    size_t qcap, qhead, qcount, qmax;

    int waiting;          /* next returned 0: notify on news */
    int notify_busy;      /* notify callbacks in progress */
    int refs;             /* the consumer + a replay job */
    int rc;               /* CLOSED: what next returns */
    char reason[256];
};

struct gw_hub_s {
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* notify_busy, jobs, in_replay */
    pthread_mutex_t publock;  /* publishers; owns scratch */

    gw_event_t **ring;
    size_t rcap, rhead, rcount;
    uint64_t last_seq;
    uint64_t covered_from;

    gw_hub_sub_t *subs;
    size_t nsubs;
    int closed;
    int jobs;       /* replay jobs queued or running on the pool */
    int in_replay;  /* calls into the replay source right now */

    gw_hub_replay_fn replay;
    void *replay_ud;

    gw_hub_sub_t **scratch; /* subscribers to notify after a publish */
    size_t scratch_cap;

    uint64_t n_published, n_dropped, n_replays;
};

int
gw_hub_new(size_t ring_events, gw_hub_t **out)
{
    gw_hub_t *h;

    if (out == NULL || ring_events == 0)
        return HLF_EINVAL;
    h = hlf_calloc(1, sizeof(*h));
    if (h == NULL)
        return HLF_ENOMEM;
    h->ring = hlf_calloc(ring_events, sizeof(*h->ring));
    if (h->ring == NULL) {
        hlf_free(h);
        return HLF_ENOMEM;
    }
    h->rcap = ring_events;
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->publock, NULL);
    pthread_cond_init(&h->cond, NULL);
    *out = h;
    return HLF_OK;
}

void
gw_hub_set_replay(gw_hub_t *hub, gw_hub_replay_fn fn, void *ud)
{
    pthread_mutex_lock(&hub->lock);
    hub->replay = fn;
    hub->replay_ud = ud;
    pthread_mutex_unlock(&hub->lock);
}

void
gw_hub_set_start(gw_hub_t *hub, uint64_t start)
{
    pthread_mutex_lock(&hub->lock);
    hub->last_seq = start;
    hub->covered_from = start;
    pthread_mutex_unlock(&hub->lock);
}

static gw_event_t *
ring_at(const gw_hub_t *h, size_t i)
{
    return h->ring[(h->rhead + i) % h->rcap];
}

/* Index of the oldest ring event with sequence > seq (rcount if none). */
static size_t
ring_after(const gw_hub_t *h, uint64_t seq)
{
    size_t lo = 0, hi = h->rcount;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ring_at(h, mid)->sequence <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Append ev (new reference taken) to sub's queue; HLF_ENOMEM. Lock held. */
static int
queue_push(gw_hub_sub_t *s, gw_event_t *ev)
{
    if (s->qcount == s->qcap) {
        size_t ncap = s->qcap == 0 ? 8 : s->qcap * 2, i;
        gw_event_t **nq;

        if (ncap > s->qmax)
            ncap = s->qmax;
        nq = hlf_malloc(ncap * sizeof(*nq));
        if (nq == NULL)
            return HLF_ENOMEM;
        for (i = 0; i < s->qcount; i++)
            nq[i] = s->q[(s->qhead + i) % s->qcap];
        hlf_free(s->q);
        s->q = nq;
        s->qcap = ncap;
        s->qhead = 0;
    }
    s->q[(s->qhead + s->qcount) % s->qcap] = gw_event_ref(ev);
    s->qcount++;
    return HLF_OK;
}

static gw_event_t *
queue_pop(gw_hub_sub_t *s)
{
    gw_event_t *ev = s->q[s->qhead];

    s->qhead = (s->qhead + 1) % s->qcap;
    s->qcount--;
    return ev;
}

static void
queue_clear(gw_hub_sub_t *s)
{
    while (s->qcount > 0)
        gw_event_unref(queue_pop(s));
    hlf_free(s->q);
    s->q = NULL;
    s->qcap = s->qhead = 0;
}

/* Move sub to CLOSED with rc and a reason. Lock held. */
static void
sub_close(gw_hub_sub_t *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sub_close(gw_hub_sub_t *s, int rc, const char *fmt, ...)
{
    va_list ap;

    if (s->mode == SUB_CLOSED)
        return;
    s->mode = SUB_CLOSED;
    s->rc = rc;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
    va_end(ap);
    queue_clear(s);
}

/*
 * If sub waits for news, claim its notification: returns 1 and the
 * caller must run notify_run after dropping the lock. Lock held.
 */
static int
notify_claim(gw_hub_sub_t *s)
{
    if (!s->waiting)
        return 0;
    s->waiting = 0;
    if (s->notify == NULL) /* GW_HUB_SYNC consumers may poll instead */
        return 0;
    s->notify_busy++;
    return 1;
}

/* Call a claimed notification; takes and drops the lock itself. */
static void
notify_run(gw_hub_t *h, gw_hub_sub_t *s)
{
    s->notify(s->ud);
    pthread_mutex_lock(&h->lock);
    if (--s->notify_busy == 0)
        pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

static void
sub_free(gw_hub_sub_t *s)
{
    queue_clear(s);
    gw_filter_free(s->filter);
    hlf_free(s->name);
    hlf_free(s);
}

/* Drop one reference; the last frees. Lock held; returns 1 if the caller
 * must sub_free after unlocking. */
static int
sub_unref_locked(gw_hub_sub_t *s)
{
    return --s->refs == 0;
}

/* ------------------------------------------------------------------ */
/* Publishing                                                         */
/* ------------------------------------------------------------------ */

int
gw_hub_publish(gw_hub_t *h, gw_event_t *ev)
{
    gw_hub_sub_t *s;
    gw_event_t *evicted = NULL;
    size_t nn = 0, i;

    if (h == NULL || ev == NULL)
        return HLF_EINVAL;
    pthread_mutex_lock(&h->publock);
    pthread_mutex_lock(&h->lock);
    if (h->closed) {
        pthread_mutex_unlock(&h->lock);
        pthread_mutex_unlock(&h->publock);
        return HLF_ECLOSED;
    }
    if (ev->sequence <= h->last_seq) {
        uint64_t last = h->last_seq;

        pthread_mutex_unlock(&h->lock);
        pthread_mutex_unlock(&h->publock);
        hlf_log(HLF_LOG_ERROR, "hub", "refusing event %" PRIu64 " (tx %s): "
                "not after %" PRIu64, ev->sequence, ev->txid, last);
        return HLF_EINVAL;
    }
    if (h->rcount == h->rcap) {
        evicted = h->ring[h->rhead];
        h->covered_from = evicted->sequence;
        h->rhead = (h->rhead + 1) % h->rcap;
        h->rcount--;
    }
    h->ring[(h->rhead + h->rcount) % h->rcap] = gw_event_ref(ev);
    h->rcount++;
    h->last_seq = ev->sequence;
    h->n_published++;
    for (s = h->subs; s != NULL; s = s->next) {
        if (s->mode != SUB_LIVE || ev->sequence <= s->pos)
            continue;
        if (!gw_filter_match(s->filter, ev)) {
            s->pos = ev->sequence;
            continue;
        }
        if (s->qcount >= s->qmax && (s->flags & GW_HUB_SPILL)) {
            /* Leave pos before this event: the ring has it. */
            s->mode = SUB_RING;
            continue;
        }
        if (s->qcount >= s->qmax || queue_push(s, ev) != HLF_OK) {
            int full = s->qcount >= s->qmax;

            h->n_dropped++;
            hlf_log(HLF_LOG_WARN, "hub", "dropping subscriber %s: %s "
                    "(%zu events unread, delivered up to %" PRIu64 ")",
                    s->name, full ? "too slow, queue full" : "out of memory",
                    s->qcount, s->cursor);
            sub_close(s, HLF_ETOOBIG, "dropped: %s after sequence %" PRIu64
                      "; resume from there", full ? "too slow (queue of "
                      "undelivered events full)" : "out of memory",
                      s->cursor);
        } else {
            s->pos = ev->sequence;
        }
        if (nn < h->scratch_cap && notify_claim(s))
            h->scratch[nn++] = s;
    }
    pthread_mutex_unlock(&h->lock);
    gw_event_unref(evicted);
    for (i = 0; i < nn; i++)
        notify_run(h, h->scratch[i]);
    pthread_mutex_unlock(&h->publock);
    return HLF_OK;
}

void
gw_hub_stats(gw_hub_t *h, gw_hub_stats_t *st)
{
    pthread_mutex_lock(&h->lock);
    st->last_sequence = h->last_seq;
    st->covered_from = h->covered_from;
    st->ring_events = h->rcount;
    st->subscribers = h->nsubs;
    st->published = h->n_published;
    st->dropped = h->n_dropped;
    st->replays = h->n_replays;
    pthread_mutex_unlock(&h->lock);
}

/* ------------------------------------------------------------------ */
/* Ledger replay                                                      */
/* ------------------------------------------------------------------ */

typedef struct replay_ctx_s {
    gw_hub_sub_t *sub;
    uint64_t upto;
    size_t room;
    int stopped; /* emit stopped early: the round is not complete */
    int bad;     /* the source broke the order */
    uint64_t bad_seq;
} replay_ctx_t;

static int
replay_emit(void *vctx, gw_event_t *ev)
{
    replay_ctx_t *c = vctx;
    gw_hub_sub_t *s = c->sub;
    gw_hub_t *h = s->hub;
    int notify = 0;

    pthread_mutex_lock(&h->lock);
    if (s->mode != SUB_REPLAY) {
        pthread_mutex_unlock(&h->lock);
        c->stopped = 1;
        return 1;
    }
    if (ev->sequence <= s->pos || ev->sequence > c->upto) {
        c->bad = 1;
        c->bad_seq = ev->sequence;
        pthread_mutex_unlock(&h->lock);
        return 1;
    }
    if (gw_filter_match(s->filter, ev)) {
        if (queue_push(s, ev) != HLF_OK) {
            sub_close(s, HLF_ENOMEM, "replay: out of memory");
            notify = notify_claim(s);
            pthread_mutex_unlock(&h->lock);
            if (notify)
                notify_run(h, s);
            c->stopped = 1;
            return 1;
        }
        c->room--;
        notify = notify_claim(s);
    }
    s->pos = ev->sequence;
    if (c->room == 0)
        c->stopped = 1;
    pthread_mutex_unlock(&h->lock);
    if (notify)
        notify_run(h, s);
    return c->stopped;
}

/*
 * One replay chunk for s: from s->pos up to s->replay_upto, at most the
 * free room of its queue. Called without the lock, with a reference on s
 * held by the caller and s->replay_running set.
 */
static void
replay_chunk(gw_hub_sub_t *s)
{
    gw_hub_t *h = s->hub;
    replay_ctx_t c;
    hlf_error_t e;
    uint64_t after;
    int rc, notify;

    memset(&c, 0, sizeof(c));
    hlf_error_clear(&e);
    pthread_mutex_lock(&h->lock);
    if (s->mode == SUB_REPLAY && (h->closed || h->replay == NULL))
        sub_close(s, HLF_ECLOSED, "the ledger replay is not available");
    if (s->mode != SUB_REPLAY || s->qcount >= s->qmax) {
        s->replay_running = 0;
        pthread_mutex_unlock(&h->lock);
        return;
    }
    c.sub = s;
    c.upto = s->replay_upto;
    c.room = s->qmax - s->qcount;
    after = s->pos;
    h->n_replays++;
    h->in_replay++;
    pthread_mutex_unlock(&h->lock);

    rc = h->replay(h->replay_ud, after, c.upto, replay_emit, &c, &e);

    pthread_mutex_lock(&h->lock);
    if (--h->in_replay == 0)
        pthread_cond_broadcast(&h->cond);
    s->replay_running = 0;
    if (s->mode == SUB_REPLAY) {
        if (c.bad) {
            sub_close(s, HLF_EPROTO, "ledger replay out of order: event %"
                      PRIu64 " after %" PRIu64 " (up to %" PRIu64 ")",
                      c.bad_seq, s->pos, c.upto);
        } else if (rc != HLF_OK) {
            sub_close(s, rc, "ledger replay after %" PRIu64 " failed: %s",
                      s->pos, e.text[0] ? e.text : hlf_strerror(rc));
        } else if (!c.stopped) {
            /* The round is complete: everything up to upto is queued. */
            s->pos = c.upto;
            if (h->covered_from <= c.upto)
                s->mode = SUB_RING;
            else
                s->replay_upto = h->covered_from;
        }
    }
    if (s->mode == SUB_CLOSED && s->rc != HLF_ECLOSED)
        hlf_log(HLF_LOG_WARN, "hub", "subscriber %s: %s", s->name,
                s->reason);
    notify = notify_claim(s);
    pthread_mutex_unlock(&h->lock);
    if (notify)
        notify_run(h, s);
}

static void
replay_job(void *arg)
{
    gw_hub_sub_t *s = arg;
    gw_hub_t *h = s->hub;
    int last;

    replay_chunk(s);
    pthread_mutex_lock(&h->lock);
    last = sub_unref_locked(s);
    if (--h->jobs == 0)
        pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    if (last)
        sub_free(s);
}

/* Queue a replay chunk on the pool if none is pending. Lock held. */
static void
replay_schedule(gw_hub_sub_t *s)
{
    gw_hub_t *h = s->hub;
    int rc;

    if (s->replay_running || (s->flags & GW_HUB_SYNC))
        return;
    s->replay_running = 1;
    s->refs++;
    h->jobs++;
    rc = gw_pool_submit(replay_job, s);
    if (rc != HLF_OK) {
        s->replay_running = 0;
        s->refs--;
        h->jobs--;
        sub_close(s, rc, "cannot schedule the ledger replay: %s",
                  hlf_strerror(rc));
    }
}

/* s needs events after pos that the ring no longer has. Lock held. */
static void
enter_replay(gw_hub_t *h, gw_hub_sub_t *s)
{
    if (h->replay == NULL) {
        sub_close(s, HLF_ENOTFOUND, "events after %" PRIu64 " are no "
                  "longer in memory and no ledger replay is available",
                  s->pos);
        return;
    }
    s->mode = SUB_REPLAY;
    s->replay_upto = h->covered_from;
}

/* ------------------------------------------------------------------ */
/* Subscribers                                                        */
/* ------------------------------------------------------------------ */

int
gw_hub_subscribe(gw_hub_t *h, const gw_hub_sub_opts_t *o,
                 gw_hub_sub_t **out, hlf_error_t *err)
{
    gw_hub_sub_t *s = NULL;
    gw_filter_t *filter = o != NULL ? o->filter : NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (h == NULL || o == NULL || out == NULL ||
        (o->notify == NULL && !(o->flags & GW_HUB_SYNC))) {
        gw_filter_free(filter);
        return hlf_error_set(err, HLF_EINVAL, "subscribe: bad arguments");
    }
    s = hlf_calloc(1, sizeof(*s));
    if (s == NULL) {
        gw_filter_free(filter);
        return hlf_error_set(err, HLF_ENOMEM, "subscribe: out of memory");
    }
    s->hub = h;
    s->filter = filter;
    s->flags = o->flags;
    s->notify = o->notify;
    s->ud = o->ud;
    s->qmax = o->queue_max > 0 ? o->queue_max : GW_DEFAULT_SSE_QUEUE_EVENTS;
    s->refs = 1;
    s->name = hlf_strdup(o->name != NULL ? o->name : "(unnamed)");
    if (s->name == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "subscribe: out of memory");
        goto fail;
    }
    pthread_mutex_lock(&h->publock);
    if (h->scratch_cap < h->nsubs + 1) {
        size_t ncap = (h->nsubs + 1) * 2;
        gw_hub_sub_t **ns = hlf_realloc(h->scratch, ncap * sizeof(*ns));

        if (ns == NULL) {
            pthread_mutex_unlock(&h->publock);
            rc = hlf_error_set(err, HLF_ENOMEM, "subscribe: out of memory");
            goto fail;
        }
        h->scratch = ns;
        h->scratch_cap = ncap;
    }
    pthread_mutex_lock(&h->lock);
    if (h->closed) {
        pthread_mutex_unlock(&h->lock);
        pthread_mutex_unlock(&h->publock);
        rc = hlf_error_set(err, HLF_ECLOSED, "the event hub is closed");
        goto fail;
    }
    if (!o->has_after || o->after >= h->last_seq) {
        s->mode = SUB_LIVE;
        s->pos = o->has_after ? o->after : h->last_seq;
    } else if (o->after >= h->covered_from) {
        s->mode = SUB_RING;
        s->pos = o->after;
    } else if (h->replay == NULL) {
        uint64_t cf = h->covered_from;

        pthread_mutex_unlock(&h->lock);
        pthread_mutex_unlock(&h->publock);
        rc = hlf_error_set(err, HLF_ENOTFOUND, "events after %" PRIu64
                           " are no longer in memory (it holds those "
                           "after %" PRIu64 ") and no ledger replay is "
                           "available", o->after, cf);
        goto fail;
    } else {
        s->pos = o->after;
        enter_replay(h, s);
    }
    s->cursor = s->pos;
    if (s->mode == SUB_REPLAY) {
        replay_schedule(s);
        if (s->mode == SUB_CLOSED) {
            rc = hlf_error_set(err, s->rc, "%s", s->reason);
            pthread_mutex_unlock(&h->lock);
            pthread_mutex_unlock(&h->publock);
            goto fail;
        }
    }
    s->next = h->subs;
    if (h->subs != NULL)
        h->subs->prev = s;
    h->subs = s;
    s->listed = 1;
    h->nsubs++;
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_unlock(&h->publock);
    *out = s;
    return HLF_OK;
fail:
    sub_free(s);
    return rc;
}

int
gw_hub_sub_next(gw_hub_sub_t *s, gw_event_t **ev, hlf_error_t *err)
{
    gw_hub_t *h;

    if (s == NULL || ev == NULL)
        return hlf_error_set(err, HLF_EINVAL, "next: NULL argument");
    *ev = NULL;
    h = s->hub;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        size_t i;

        if (s->qcount > 0) {
            *ev = queue_pop(s);
            s->cursor = (*ev)->sequence;
            if (s->mode == SUB_REPLAY && s->qcount <= s->qmax / 2)
                replay_schedule(s);
            pthread_mutex_unlock(&h->lock);
            return 1;
        }
        switch (s->mode) {
        case SUB_CLOSED: {
            int rc = s->rc;

            hlf_error_set(err, rc, "%s", s->reason);
            pthread_mutex_unlock(&h->lock);
            return rc;
        }
        case SUB_LIVE:
            s->waiting = 1;
            pthread_mutex_unlock(&h->lock);
            return 0;
        case SUB_RING:
            if (s->pos < h->covered_from) {
                enter_replay(h, s);
                continue;
            }
            for (i = ring_after(h, s->pos); i < h->rcount; i++) {
                gw_event_t *r = ring_at(h, i);

                s->pos = r->sequence;
                if (gw_filter_match(s->filter, r)) {
                    *ev = gw_event_ref(r);
                    s->cursor = r->sequence;
                    pthread_mutex_unlock(&h->lock);
                    return 1;
                }
            }
            /* Caught up with the ring: later events are pushed. */
            s->mode = SUB_LIVE;
            s->waiting = 1;
            pthread_mutex_unlock(&h->lock);
            return 0;
        case SUB_REPLAY:
            if (s->flags & GW_HUB_SYNC) {
                s->replay_running = 1;
                pthread_mutex_unlock(&h->lock);
                replay_chunk(s);
                pthread_mutex_lock(&h->lock);
                continue;
            }
            replay_schedule(s);
            if (s->mode == SUB_CLOSED)
                continue;
            s->waiting = 1;
            pthread_mutex_unlock(&h->lock);
            return 0;
        }
    }
}

uint64_t
gw_hub_sub_cursor(gw_hub_sub_t *s)
{
    uint64_t c;

    pthread_mutex_lock(&s->hub->lock);
    c = s->cursor;
    pthread_mutex_unlock(&s->hub->lock);
    return c;
}

void
gw_hub_unsubscribe(gw_hub_sub_t *s)
{
    gw_hub_t *h;
    int last;

    if (s == NULL)
        return;
    h = s->hub;
    pthread_mutex_lock(&h->lock);
    if (s->listed) {
        if (s->prev != NULL)
            s->prev->next = s->next;
        else
            h->subs = s->next;
        if (s->next != NULL)
            s->next->prev = s->prev;
        s->next = s->prev = NULL;
        s->listed = 0;
        h->nsubs--;
        pthread_cond_broadcast(&h->cond);
    }
    sub_close(s, HLF_ECLOSED, "unsubscribed");
    s->waiting = 0;
    /* A notification already claimed may still be running. */
    while (s->notify_busy > 0)
        pthread_cond_wait(&h->cond, &h->lock);
    last = sub_unref_locked(s);
    pthread_mutex_unlock(&h->lock);
    if (last)
        sub_free(s);
}

/* ------------------------------------------------------------------ */
/* Shutdown                                                           */
/* ------------------------------------------------------------------ */

void
gw_hub_close(gw_hub_t *h)
{
    gw_hub_sub_t *s;
    size_t nn = 0, i;

    if (h == NULL)
        return;
    pthread_mutex_lock(&h->publock);
    pthread_mutex_lock(&h->lock);
    h->closed = 1;
    for (s = h->subs; s != NULL; s = s->next) {
        sub_close(s, HLF_ECLOSED, "the gateway is shutting down");
        if (nn < h->scratch_cap && notify_claim(s))
            h->scratch[nn++] = s;
    }
    pthread_mutex_unlock(&h->lock);
    for (i = 0; i < nn; i++)
        notify_run(h, h->scratch[i]);
    pthread_mutex_unlock(&h->publock);
}

void
gw_hub_wait_replays(gw_hub_t *h)
{
    pthread_mutex_lock(&h->lock);
    while (h->in_replay > 0)
        pthread_cond_wait(&h->cond, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

void
gw_hub_free(gw_hub_t *h)
{
    struct timespec deadline;
    size_t i;

    if (h == NULL)
        return;
    gw_hub_close(h);
    gw_abstime_in(&deadline, (int64_t)FREE_WAIT_S * 1000);
    pthread_mutex_lock(&h->lock);
    while ((h->jobs > 0 || h->in_replay > 0 || h->nsubs > 0) &&
           pthread_cond_timedwait(&h->cond, &h->lock, &deadline) == 0)
        ;
    if (h->jobs > 0 || h->in_replay > 0 || h->nsubs > 0) {
        /* Someone still holds a subscriber or a job runs: freeing would
         * turn their next call into a use after free. Leak instead. */
        hlf_log(HLF_LOG_ERROR, "hub", "not freed: %zu subscribers, %d "
                "jobs and %d replays left after %d s", h->nsubs, h->jobs,
                h->in_replay, FREE_WAIT_S);
        pthread_mutex_unlock(&h->lock);
        return;
    }
    pthread_mutex_unlock(&h->lock);
    for (i = 0; i < h->rcount; i++)
        gw_event_unref(ring_at(h, i));
    hlf_free(h->ring);
    hlf_free(h->scratch);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->publock);
    pthread_mutex_destroy(&h->lock);
    hlf_free(h);
}
