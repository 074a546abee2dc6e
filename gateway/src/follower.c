/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block follower and the "stream" gateway module.
 *
 * One thread per channel reads committed blocks through a peer's Deliver
 * service from the persisted checkpoint and publishes every VALID
 * transaction of the configured chaincode that set a chaincode event (the
 * stored RESO event) to the hub, with sequence (block << 16) | tx_index.
 * After each block it saves the checkpoint. When a stream fails it waits
 * (exponential backoff, 100 ms doubling up to 10 s, reset by the next
 * block) and reconnects to the next configured peer, from the checkpoint
 * block, skipping what it already published: the in-memory position
 * `done` is advanced per published event, so even a block that failed
 * halfway is resumed without a repeat. The same code reads bounded ranges
 * of blocks for the hub's ledger replay (follower_replay).
 *
 * A second thread polls the chain height (qscc GetChainInfo on any
 * configured peer) so that follower_lag_blocks is the real distance to the
 * ledger's head even while the follower's own peer is gone; the REST API
 * also reports the block of every commit it waited for
 * (gw_stream_note_block).
 *
 * The module part at the end wires it into the daemon: the hub, SSE and
 * EntityEvent routes, metrics (follower_lag_blocks,
 * follower_reconnects_total, ...) and the /healthz component "follower".
 */
#include "hub.h"

#include "hlf/deliver.h"
#include "hlf/log.h"
#include "hlf/mem.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define MAX_REPLAYS 64

/* ------------------------------------------------------------------ */
/* Events of a block                                                  */
/* ------------------------------------------------------------------ */

int
gw_block_events(const hlf_block_t *blk, const char *chaincode, int has_skip,
                uint32_t skip_upto_tx, int (*cb)(void *ctx, gw_event_t *ev),
                void *ctx, uint64_t *skipped, hlf_error_t *err)
{
    size_t i, j;

    if (blk == NULL || chaincode == NULL || cb == NULL)
        return hlf_error_set(err, HLF_EINVAL, "block events: NULL argument");
    /* Check the whole block before publishing any of it: a VALID
     * transaction we cannot read means the block cannot be trusted, and
     * a block without validation codes cannot tell valid from invalid. */
    if (!blk->validated && blk->ntx > 0)
        return hlf_error_set(err, HLF_EPROTO, "block %" PRIu64 " carries "
                             "no validation codes", blk->number);
    for (i = 0; i < blk->ntx; i++) {
        const hlf_block_tx_t *tx = &blk->txs[i];

        if (tx->validation_code == HLF_TX_VALID && tx->error != NULL)
            return hlf_error_set(err, HLF_EPROTO, "block %" PRIu64 " tx %zu "
                                 "is VALID but unreadable: %s", blk->number,
                                 tx->index, tx->error);
    }
    for (i = 0; i < blk->ntx; i++) {
        const hlf_block_tx_t *tx = &blk->txs[i];
        const hlf_chaincode_event_t *ce = NULL;
        gw_event_t *ev = NULL;
        hlf_error_t e;
        int rc;

        if (has_skip && tx->index <= skip_upto_tx)
            continue;
        if (tx->validation_code != HLF_TX_VALID ||
            tx->type != HLF_HEADER_TYPE_ENDORSER_TRANSACTION)
            continue;
        for (j = 0; j < tx->nactions && ce == NULL; j++)
            if (tx->actions[j].event != NULL &&
                strcmp(tx->actions[j].chaincode, chaincode) == 0)
                ce = tx->actions[j].event;
        if (ce == NULL)
            continue;
        hlf_error_clear(&e);
        rc = gw_event_new(blk->number, (uint32_t)(tx->index > UINT32_MAX
                                                  ? UINT32_MAX : tx->index),
                          tx->tx_id, tx->creator_msp_id, ce->payload,
                          ce->payload_len, &ev, &e);
        if (rc == HLF_ENOMEM)
            return hlf_error_set(err, rc, "%s", e.text);
        if (rc != HLF_OK) {
            /* Not a stored RESO event: nothing a subscriber could use.
             * The sequence simply has a gap here. */
            hlf_log(HLF_LOG_WARN, "follower", "block %" PRIu64 " tx %zu (%s): "
                    "skipped: %s", blk->number, tx->index, tx->tx_id,
                    e.text);
            if (skipped != NULL)
                (*skipped)++;
            continue;
        }
        rc = cb(ctx, ev);
        gw_event_unref(ev);
        if (rc != 0)
            return rc;
    }
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Follower state                                                     */
/* ------------------------------------------------------------------ */

struct gw_follower_s {
    char *channel, *chaincode, *state_dir;
    gw_blocksrc_t src;
    gw_hub_t *hub;
    int64_t backoff_min, backoff_max;

    pthread_t thread;
    int thread_started;
    pthread_t poller;
    int poller_started;
    int64_t height_poll_ms;

    /* lock guards everything below; cond wakes the backoff sleep. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping;
    void *stream;              /* the follower's open stream */
    void *replays[MAX_REPLAYS]; /* open replay streams, for cancel */
    size_t peer;
    int connected;
    gw_checkpoint_t saved;     /* persisted */
    gw_checkpoint_t done;      /* processed in memory (>= saved) */
    uint64_t latest_block;
    uint64_t reconnects, events, skipped;
    char last_error[256];
};

/* Copy src into dst[n], cutting it short if needed. */
static void
str_copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);

    if (len >= n)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static const char *
peer_name(gw_follower_t *f, size_t peer)
{
    const char *n = f->src.peer_name != NULL
                        ? f->src.peer_name(f->src.ud, peer) : NULL;

    return n != NULL ? n : "?";
}

static int
ckpt_before(const gw_checkpoint_t *a, uint64_t block, uint32_t tx)
{
    return !a->valid || a->block < block ||
           (a->block == block && a->tx_index < tx);
}

/* Publish one event of the block being followed (gw_block_events cb). */
static int
follow_publish(void *ctx, gw_event_t *ev)
{
    gw_follower_t *f = ctx;
    int rc = gw_hub_publish(f->hub, ev);

    if (rc != HLF_OK)
        return rc;
    pthread_mutex_lock(&f->lock);
    f->done.valid = 1;
    f->done.block = ev->block;
    f->done.tx_index = ev->tx_index;
    f->events++;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

/* Process one block from the follower's stream. */
static int
follow_block(gw_follower_t *f, const hlf_block_t *blk, hlf_error_t *err)
{
    gw_checkpoint_t done, cp;
    uint64_t skipped = 0;
    uint32_t last_tx;
    hlf_error_t e;
    int rc;

    pthread_mutex_lock(&f->lock);
    done = f->done;
    if (blk->number > f->latest_block)
        f->latest_block = blk->number;
    f->connected = 1;
    pthread_mutex_unlock(&f->lock);
    last_tx = blk->ntx > 0 ? (uint32_t)(blk->ntx - 1) : 0;
    if (done.valid && (blk->number < done.block ||
                       (blk->number == done.block &&
                        last_tx <= done.tx_index)))
        return HLF_OK; /* fully processed before */
    if ((done.valid && blk->number > done.block + 1) ||
        (!done.valid && blk->number != 0))
        return hlf_error_set(err, HLF_EPROTO, "block %" PRIu64 " arrived "
                             "but the next one to process is %" PRIu64,
                             blk->number, done.valid ? done.block + 1 : 0);
    hlf_error_clear(&e);
    rc = gw_block_events(blk, f->chaincode,
                         done.valid && done.block == blk->number,
                         done.tx_index, follow_publish, f, &skipped, &e);
    pthread_mutex_lock(&f->lock);
    f->skipped += skipped;
    pthread_mutex_unlock(&f->lock);
    if (rc != HLF_OK) {
        if (rc > 0 || e.code == HLF_OK)
            return hlf_error_set(err, rc > 0 ? HLF_EPROTO : rc,
                                 "block %" PRIu64 ": publishing stopped: "
                                 "%s", blk->number, hlf_strerror(rc));
        return hlf_error_set(err, rc, "%s", e.text);
    }
    cp.valid = 1;
    cp.block = blk->number;
    cp.tx_index = last_tx;
    pthread_mutex_lock(&f->lock);
    if (ckpt_before(&f->done, cp.block, cp.tx_index))
        f->done = cp;
    pthread_mutex_unlock(&f->lock);
    hlf_error_clear(&e);
    if (gw_checkpoint_save(f->state_dir, f->channel, &cp, &e) != HLF_OK) {
        /* Keep following: a restart would re-read from the older
         * checkpoint and publish the same sequences again, which
         * clients resuming by sequence never see twice. */
        hlf_log(HLF_LOG_ERROR, "follower", "%s", e.text);
        pthread_mutex_lock(&f->lock);
        str_copy(f->last_error, sizeof(f->last_error), e.text);
        pthread_mutex_unlock(&f->lock);
        return HLF_OK;
    }
    pthread_mutex_lock(&f->lock);
    f->saved = cp;
    pthread_mutex_unlock(&f->lock);
    return HLF_OK;
}

/* Sleep ms unless stopping; returns 1 if stopping. */
static int
backoff_sleep(gw_follower_t *f, int64_t ms)
{
    struct timespec ts;
    int stop;

    gw_abstime_in(&ts, ms);
    pthread_mutex_lock(&f->lock);
    while (!f->stopping &&
           pthread_cond_timedwait(&f->cond, &f->lock, &ts) != ETIMEDOUT)
        ;
    stop = f->stopping;
    pthread_mutex_unlock(&f->lock);
    return stop;
}

/* One stream: open on the current peer and follow until it fails. */
static int
follow_stream(gw_follower_t *f, size_t peer, hlf_error_t *err)
{
    void *stream = NULL;
    hlf_block_t *blk = NULL;
    uint64_t start;
    int rc;

    pthread_mutex_lock(&f->lock);
    start = f->done.valid ? f->done.block : 0;
    pthread_mutex_unlock(&f->lock);
    rc = f->src.open(f->src.ud, peer, start, 0, 0, &stream, err);
    if (rc != HLF_OK)
        return rc;
    pthread_mutex_lock(&f->lock);
    f->stream = stream;
    if (f->stopping)
        f->src.cancel(f->src.ud, stream);
    pthread_mutex_unlock(&f->lock);
    hlf_log(HLF_LOG_INFO, "follower", "%s: following from block %" PRIu64
            " via %s", f->channel, start, peer_name(f, peer));
    for (;;) {
        rc = f->src.next(f->src.ud, stream, &blk, err);
        if (rc != 1)
            break;
        rc = follow_block(f, blk, err);
        hlf_block_free(blk);
        blk = NULL;
        if (rc != HLF_OK)
            break;
    }
    if (rc == 0)
        rc = hlf_error_set(err, HLF_EPROTO, "the peer ended the stream");
    pthread_mutex_lock(&f->lock);
    f->stream = NULL;
    pthread_mutex_unlock(&f->lock);
    f->src.close(f->src.ud, stream);
    return rc;
}

static void *
follower_main(void *arg)
{
    gw_follower_t *f = arg;
    int64_t backoff = f->backoff_min;

    for (;;) {
        uint64_t blocks_before;
        size_t peer;
        hlf_error_t e;
        int rc, stop;

        pthread_mutex_lock(&f->lock);
        stop = f->stopping;
        peer = f->peer;
        blocks_before = f->done.valid ? f->done.block : 0;
        pthread_mutex_unlock(&f->lock);
        if (stop)
            break;
        hlf_error_clear(&e);
        rc = follow_stream(f, peer, &e);
        pthread_mutex_lock(&f->lock);
        stop = f->stopping;
        if (!stop) {
            /* Progress on that stream resets the backoff. */
            if (f->done.valid && f->done.block > blocks_before)
                backoff = f->backoff_min;
            f->connected = 0;
            f->reconnects++;
            size_t k;

            str_copy(f->last_error, sizeof(f->last_error),
                     peer_name(f, peer));
            k = strlen(f->last_error);
            str_copy(f->last_error + k, sizeof(f->last_error) - k, ": ");
            k = strlen(f->last_error);
            str_copy(f->last_error + k, sizeof(f->last_error) - k,
                     e.text[0] ? e.text : hlf_strerror(rc));
            /* Fail over: the next configured peer, round robin. */
            f->peer = (peer + 1) % f->src.npeers;
        }
        pthread_mutex_unlock(&f->lock);
        if (stop)
            break;
        hlf_log(HLF_LOG_WARN, "follower", "%s: stream from %s failed (%s); "
                "retrying via %s in %" PRId64 " ms", f->channel,
                peer_name(f, peer), e.text[0] ? e.text : hlf_strerror(rc),
                peer_name(f, (peer + 1) % f->src.npeers), backoff);
        if (backoff_sleep(f, backoff))
            break;
        backoff = backoff * 2 > f->backoff_max ? f->backoff_max
                                               : backoff * 2;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Ledger replay for the hub                                          */
/* ------------------------------------------------------------------ */

typedef struct replay_s {
    gw_hub_emit_fn emit;
    void *ctx;
    uint64_t after; /* last sequence emitted (or the start) */
    uint64_t upto;
    int stopped;
} replay_t;

static int
replay_cb(void *vctx, gw_event_t *ev)
{
    replay_t *r = vctx;

    if (ev->sequence <= r->after)
        return 0;
    if (ev->sequence > r->upto) {
        r->stopped = 1;
        return 1;
    }
    r->after = ev->sequence;
    if (r->emit(r->ctx, ev) != 0) {
        r->stopped = 1;
        return 1;
    }
    return 0;
}

static int
replay_register(gw_follower_t *f, void *stream)
{
    size_t i;

    for (i = 0; i < MAX_REPLAYS; i++) {
        if (f->replays[i] == NULL) {
            f->replays[i] = stream;
            return 0;
        }
    }
    return -1;
}

static void
replay_unregister(gw_follower_t *f, void *stream)
{
    size_t i;

    for (i = 0; i < MAX_REPLAYS; i++)
        if (f->replays[i] == stream)
            f->replays[i] = NULL;
}

/* Read blocks [after's block, upto's block] from one peer. */
static int
replay_from(gw_follower_t *f, size_t peer, replay_t *r, hlf_error_t *err)
{
    void *stream = NULL;
    hlf_block_t *blk = NULL;
    int rc;

    rc = f->src.open(f->src.ud, peer, GW_SEQ_BLOCK(r->after), 1,
                     GW_SEQ_BLOCK(r->upto), &stream, err);
    if (rc != HLF_OK)
        return rc;
    pthread_mutex_lock(&f->lock);
    if (f->stopping || replay_register(f, stream) != 0) {
        int stopping = f->stopping;

        pthread_mutex_unlock(&f->lock);
        f->src.close(f->src.ud, stream);
        return stopping ? hlf_error_set(err, HLF_ECLOSED, "shutting down")
                        : hlf_error_set(err, HLF_EAGAIN, "too many "
                                        "concurrent ledger replays");
    }
    pthread_mutex_unlock(&f->lock);
    for (;;) {
        rc = f->src.next(f->src.ud, stream, &blk, err);
        if (rc != 1)
            break;
        rc = gw_block_events(blk, f->chaincode, 0, 0, replay_cb, r, NULL,
                             err);
        hlf_block_free(blk);
        blk = NULL;
        if (rc != HLF_OK || r->stopped)
            break;
    }
    pthread_mutex_lock(&f->lock);
    replay_unregister(f, stream);
    pthread_mutex_unlock(&f->lock);
    f->src.close(f->src.ud, stream);
    if (r->stopped || rc == 0)
        return HLF_OK;
    return rc > 0 ? HLF_OK : rc;
}

/* The hub's gw_hub_replay_fn: tries every peer once, resuming after the
 * last event emitted, so a failover repeats nothing. */
static int
follower_replay(void *ud, uint64_t after, uint64_t upto, gw_hub_emit_fn emit,
                void *ctx, hlf_error_t *err)
{
    gw_follower_t *f = ud;
    replay_t r;
    size_t first, i;
    int rc = HLF_EUNAVAIL;

    if (after >= upto)
        return HLF_OK;
    memset(&r, 0, sizeof(r));
    r.emit = emit;
    r.ctx = ctx;
    r.after = after;
    r.upto = upto;
    pthread_mutex_lock(&f->lock);
    first = f->peer;
    pthread_mutex_unlock(&f->lock);
    for (i = 0; i < f->src.npeers; i++) {
        size_t peer = (first + i) % f->src.npeers;

        hlf_error_clear(err);
        rc = replay_from(f, peer, &r, err);
        if (rc == HLF_OK || rc == HLF_ECLOSED)
            return rc;
        hlf_log(HLF_LOG_WARN, "follower", "%s: ledger replay via %s failed "
                "after sequence %" PRIu64 ": %s", f->channel,
                peer_name(f, peer), r.after,
                err != NULL ? err->text : hlf_strerror(rc));
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                          */
/* ------------------------------------------------------------------ */

/* The height poller: every height_poll_ms, ask the peers in order until
 * one answers and note its newest block. */
static void *
poller_main(void *arg)
{
    gw_follower_t *f = arg;
    size_t i;

    do {
        for (i = 0; i < f->src.npeers; i++) {
            uint64_t h = 0;
            hlf_error_t e;

            hlf_error_clear(&e);
            if (f->src.height(f->src.ud, i, &h, &e) == HLF_OK) {
                if (h > 0)
                    gw_follower_note_block(f, h - 1);
                break;
            }
            hlf_log(HLF_LOG_DEBUG, "follower", "%s: chain height from %s: "
                    "%s", f->channel, peer_name(f, i), e.text);
        }
    } while (!backoff_sleep(f, f->height_poll_ms));
    return NULL;
}

static void
follower_dispose(gw_follower_t *f)
{
    hlf_free(f->channel);
    hlf_free(f->chaincode);
    hlf_free(f->state_dir);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    hlf_free(f);
}

int
gw_follower_start(const gw_follower_opts_t *o, gw_follower_t **out,
                  hlf_error_t *err)
{
    gw_follower_t *f;
    gw_checkpoint_t cp;
    int rc;

    if (out == NULL || o == NULL || o->src == NULL || o->hub == NULL ||
        o->src->npeers == 0 || o->src->open == NULL ||
        o->src->next == NULL || o->src->cancel == NULL ||
        o->src->close == NULL || o->chaincode == NULL)
        return hlf_error_set(err, HLF_EINVAL, "follower: bad options");
    *out = NULL;
    rc = gw_checkpoint_load(o->state_dir, o->channel, &cp, err);
    if (rc != HLF_OK)
        return rc;
    f = hlf_calloc(1, sizeof(*f));
    if (f == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "follower: out of memory");
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->channel = hlf_strdup(o->channel);
    f->chaincode = hlf_strdup(o->chaincode);
    f->state_dir = hlf_strdup(o->state_dir);
    f->src = *o->src;
    f->hub = o->hub;
    f->backoff_min = o->backoff_min_ms > 0 ? o->backoff_min_ms
                                           : BACKOFF_MIN_MS;
    f->backoff_max = o->backoff_max_ms > 0 ? o->backoff_max_ms
                                           : BACKOFF_MAX_MS;
    if (f->backoff_max < f->backoff_min)
        f->backoff_max = f->backoff_min;
    f->saved = cp;
    f->done = cp;
    f->latest_block = cp.valid ? cp.block : 0;
    if (f->channel == NULL || f->chaincode == NULL || f->state_dir == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "follower: out of memory");
        goto fail;
    }
    gw_hub_set_start(f->hub, cp.valid ? GW_SEQ(cp.block, cp.tx_index) : 0);
    gw_hub_set_replay(f->hub, follower_replay, f);
    if (pthread_create(&f->thread, NULL, follower_main, f) != 0) {
        gw_hub_set_replay(f->hub, NULL, NULL);
        rc = hlf_error_set(err, HLF_ENOMEM, "follower: cannot start a "
                           "thread");
        goto fail;
    }
    f->thread_started = 1;
    f->height_poll_ms = o->height_poll_ms != 0 ? o->height_poll_ms
                                               : GW_HEIGHT_POLL_MS;
    if (f->src.height != NULL && f->height_poll_ms > 0) {
        if (pthread_create(&f->poller, NULL, poller_main, f) == 0)
            f->poller_started = 1;
        else
            hlf_log(HLF_LOG_WARN, "follower", "%s: cannot start the chain "
                    "height poller; the lag counts only blocks seen",
                    f->channel);
    }
    if (cp.valid)
        hlf_log(HLF_LOG_INFO, "follower", "%s: checkpoint block %" PRIu64
                " tx %u (sequence %" PRIu64 ")", f->channel, cp.block,
                cp.tx_index, GW_SEQ(cp.block, cp.tx_index));
    else
        hlf_log(HLF_LOG_INFO, "follower", "%s: no checkpoint, starting at "
                "block 0", f->channel);
    *out = f;
    return HLF_OK;
fail:
    follower_dispose(f);
    return rc;
}

void
gw_follower_free(gw_follower_t *f)
{
    gw_checkpoint_t done, saved;
    hlf_error_t e;
    size_t i;

    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = 1;
    if (f->stream != NULL)
        f->src.cancel(f->src.ud, f->stream);
    for (i = 0; i < MAX_REPLAYS; i++)
        if (f->replays[i] != NULL)
            f->src.cancel(f->src.ud, f->replays[i]);
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    if (f->thread_started)
        pthread_join(f->thread, NULL);
    if (f->poller_started)
        pthread_join(f->poller, NULL);
    /* A replay job may be between the hub and us: wait it out. */
    gw_hub_wait_replays(f->hub);
    pthread_mutex_lock(&f->lock);
    done = f->done;
    saved = f->saved;
    pthread_mutex_unlock(&f->lock);
    /* Blocks are saved as they complete. If the stop cut a block short,
     * `done` is the last event published in it, which is a checkpoint
     * too: the restart skips exactly the transactions up to it. */
    if (done.valid && (!saved.valid || done.block != saved.block ||
                       done.tx_index != saved.tx_index)) {
        hlf_error_clear(&e);
        if (gw_checkpoint_save(f->state_dir, f->channel, &done, &e) ==
            HLF_OK)
            saved = done;
        else
            hlf_log(HLF_LOG_ERROR, "follower", "%s", e.text);
    }
    hlf_log(HLF_LOG_INFO, "follower", "%s: stopped at block %" PRIu64
            " tx %u", f->channel, saved.block, saved.tx_index);
    follower_dispose(f);
}

void
gw_follower_status(gw_follower_t *f, gw_follower_status_t *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&f->lock);
    st->connected = f->connected;
    st->peer = f->peer;
    snprintf(st->peer_name, sizeof(st->peer_name), "%s",
             peer_name(f, f->peer));
    st->checkpoint = f->saved;
    st->latest_block = f->latest_block;
    st->lag_blocks = f->saved.valid && f->latest_block > f->saved.block
                         ? f->latest_block - f->saved.block
                         : (!f->saved.valid ? f->latest_block : 0);
    st->reconnects = f->reconnects;
    st->events = f->events;
    st->skipped = f->skipped;
    snprintf(st->last_error, sizeof(st->last_error), "%s", f->last_error);
    pthread_mutex_unlock(&f->lock);
}

void
gw_follower_note_block(gw_follower_t *f, uint64_t block)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    if (block > f->latest_block)
        f->latest_block = block;
    pthread_mutex_unlock(&f->lock);
}

/* ------------------------------------------------------------------ */
/* Blocks from the configured peers (hlf/deliver.h)                   */
/* ------------------------------------------------------------------ */

/* The upstreams of the first configured identity: its own org's peers
 * first, then the others (gw_config_open's failover order). */
typedef struct deliver_src_s {
    const gw_upstream_t *ups;
    size_t n;
} deliver_src_t;

static int
dsrc_open(void *ud, size_t peer, uint64_t start, int has_stop, uint64_t stop,
          void **stream, hlf_error_t *err)
{
    deliver_src_t *d = ud;
    hlf_blocks_opts_t o;
    hlf_blocks_t *b = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    o.has_start_block = 1;
    o.start_block = start;
    o.has_stop_block = has_stop;
    o.stop_block = stop;
    rc = hlf_network_block_events(d->ups[peer].net, &o, &b, err);
    *stream = b;
    return rc;
}

static int
dsrc_next(void *ud, void *stream, hlf_block_t **blk, hlf_error_t *err)
{
    (void)ud;
    return hlf_blocks_next(stream, blk, err);
}

static void
dsrc_cancel(void *ud, void *stream)
{
    (void)ud;
    hlf_blocks_cancel(stream);
}

static void
dsrc_close(void *ud, void *stream)
{
    (void)ud;
    hlf_blocks_close(stream);
}

/*
 * The height field (1, varint) of a common.BlockchainInfo message, the
 * answer of qscc GetChainInfo. Other fields (the hashes) are skipped by
 * their wire type. HLF_OK or HLF_EPROTO.
 */
static int
chain_info_height(const uint8_t *p, size_t n, uint64_t *height)
{
    size_t i = 0;

    while (i < n) {
        uint64_t key = 0, v = 0;
        unsigned shift;

        for (shift = 0; i < n && shift < 64; shift += 7) {
            key |= (uint64_t)(p[i] & 0x7f) << shift;
            if (!(p[i++] & 0x80))
                break;
        }
        if ((key & 7) == 0 || (key & 7) == 2) {
            for (shift = 0; i < n && shift < 64; shift += 7) {
                v |= (uint64_t)(p[i] & 0x7f) << shift;
                if (!(p[i++] & 0x80))
                    break;
            }
            if ((key & 7) == 0 && key >> 3 == 1) {
                *height = v;
                return HLF_OK;
            }
            if ((key & 7) == 2) {
                if (v > n - i)
                    return HLF_EPROTO;
                i += (size_t)v;
            }
            continue;
        }
        return HLF_EPROTO;
    }
    return HLF_EPROTO;
}

/* The channel's height on peer via qscc GetChainInfo (a query the org's
 * client identity may make: it reads channel metadata, no chaincode). */
static int
dsrc_height(void *ud, size_t peer, uint64_t *height, hlf_error_t *err)
{
    deliver_src_t *d = ud;
    const gw_upstream_t *up = &d->ups[peer];
    hlf_contract_t *qscc;
    hlf_bytes_t arg, res;
    const char *ch = hlf_network_name(up->net);
    int rc;

    qscc = hlf_network_get_contract(up->net, "qscc", NULL);
    if (qscc == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "qscc: out of memory");
    memset(&res, 0, sizeof(res));
    arg = hlf_bytes_str(ch);
    rc = hlf_contract_evaluate(qscc, "GetChainInfo", &arg, 1, &res, err);
    if (rc != HLF_OK)
        return rc;
    rc = chain_info_height(res.data, res.len, height);
    hlf_bytes_free(&res);
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "qscc GetChainInfo: no height in "
                             "the answer");
    return HLF_OK;
}

static const char *
dsrc_peer_name(void *ud, size_t peer)
{
    deliver_src_t *d = ud;

    return peer < d->n ? d->ups[peer].peer->address : NULL;
}

/* ------------------------------------------------------------------ */
/* The "stream" module                                                */
/* ------------------------------------------------------------------ */

/*
 * Module state, written by the main thread in start/stop. Handlers,
 * health checks and metric collectors read it under g_lock, so a stop
 * racing with a late /healthz never sees a freed follower.
 */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_hub_t *g_hub;
static gw_follower_t *g_follower;
static deliver_src_t g_dsrc;
static gw_metric_t *m_lag, *m_reconnects, *m_ckpt_block, *m_events,
    *m_ring, *m_subs, *m_hub_drops;
static uint64_t seen_reconnects, seen_events, seen_drops;

gw_hub_t *
gw_stream_hub(void)
{
    gw_hub_t *h;

    pthread_mutex_lock(&g_lock);
    h = g_hub;
    pthread_mutex_unlock(&g_lock);
    return h;
}

void
gw_stream_install_hub(gw_hub_t *hub)
{
    pthread_mutex_lock(&g_lock);
    g_hub = hub;
    pthread_mutex_unlock(&g_lock);
}

void
gw_stream_note_block(uint64_t block)
{
    pthread_mutex_lock(&g_lock);
    gw_follower_note_block(g_follower, block);
    pthread_mutex_unlock(&g_lock);
}

/* Refresh gauges and counters before each /metrics render. */
static void
collect(void *ud)
{
    gw_follower_status_t st;
    gw_hub_stats_t hs;
    int have_f = 0, have_h = 0;

    (void)ud;
    pthread_mutex_lock(&g_lock);
    if (g_follower != NULL) {
        gw_follower_status(g_follower, &st);
        have_f = 1;
    }
    if (g_hub != NULL) {
        gw_hub_stats(g_hub, &hs);
        have_h = 1;
    }
    if (have_f) {
        gw_gauge_set(m_lag, NULL, (double)st.lag_blocks);
        gw_gauge_set(m_ckpt_block, NULL, (double)st.checkpoint.block);
        /* Counters only go up: add what happened since the last render.
         * The seen_* values are guarded by g_lock. */
        if (st.reconnects > seen_reconnects)
            gw_counter_add(m_reconnects, NULL,
                           (double)(st.reconnects - seen_reconnects));
        if (st.events > seen_events)
            gw_counter_add(m_events, NULL,
                           (double)(st.events - seen_events));
        seen_reconnects = st.reconnects;
        seen_events = st.events;
    }
    if (have_h) {
        gw_gauge_set(m_ring, NULL, (double)hs.ring_events);
        gw_gauge_set(m_subs, NULL, (double)hs.subscribers);
        if (hs.dropped > seen_drops)
            gw_counter_add(m_hub_drops, NULL,
                           (double)(hs.dropped - seen_drops));
        seen_drops = hs.dropped;
    }
    pthread_mutex_unlock(&g_lock);
}

/* /healthz component "follower": degraded while it cannot follow. */
static gw_health_t
health(void *ud, char *detail, size_t n)
{
    gw_follower_status_t st;
    gw_health_t h;

    (void)ud;
    pthread_mutex_lock(&g_lock);
    if (g_follower == NULL) {
        pthread_mutex_unlock(&g_lock);
        snprintf(detail, n, "not running");
        return GW_HEALTH_DEGRADED;
    }
    gw_follower_status(g_follower, &st);
    pthread_mutex_unlock(&g_lock);
    h = st.connected ? GW_HEALTH_OK : GW_HEALTH_DEGRADED;
    snprintf(detail, n, "%s via %s; checkpoint block %" PRIu64 " tx %u, "
             "latest block %" PRIu64 ", lag %" PRIu64 " blocks, %" PRIu64
             " reconnects%s%s", st.connected ? "following" : "reconnecting",
             st.peer_name, st.checkpoint.block, st.checkpoint.tx_index,
             st.latest_block, st.lag_blocks, st.reconnects,
             st.last_error[0] ? "; last error: " : "", st.last_error);
    return h;
}

static int
stream_init(const gw_config_t *cfg, hlf_error_t *err)
{
    m_lag = gw_metric_register(GW_METRIC_GAUGE, "follower_lag_blocks",
                               "Blocks known to exist that the follower has "
                               "not checkpointed yet", NULL, NULL, 0);
    m_reconnects = gw_metric_register(GW_METRIC_COUNTER,
                                      "follower_reconnects_total",
                                      "Deliver streams that failed and were "
                                      "reopened", NULL, NULL, 0);
    m_ckpt_block = gw_metric_register(GW_METRIC_GAUGE,
                                      "follower_checkpoint_block",
                                      "Block of the persisted checkpoint",
                                      NULL, NULL, 0);
    m_events = gw_metric_register(GW_METRIC_COUNTER,
                                  "follower_events_total",
                                  "Committed events published to the hub",
                                  NULL, NULL, 0);
    m_ring = gw_metric_register(GW_METRIC_GAUGE, "hub_ring_events",
                                "Events held in the in-memory ring", NULL,
                                NULL, 0);
    m_subs = gw_metric_register(GW_METRIC_GAUGE, "hub_subscribers",
                                "Subscribers of the event hub (SSE, "
                                "webhooks, EntityEvent pages)", NULL, NULL,
                                0);
    m_hub_drops = gw_metric_register(GW_METRIC_COUNTER,
                                     "hub_subscribers_dropped_total",
                                     "Subscribers dropped as too slow",
                                     NULL, NULL, 0);
    if (m_lag == NULL || m_reconnects == NULL || m_ckpt_block == NULL ||
        m_events == NULL || m_ring == NULL || m_subs == NULL ||
        m_hub_drops == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "stream: cannot register "
                             "metrics");
    seen_reconnects = seen_events = seen_drops = 0;
    /* Series exist from the start: a scraper sees 0, not nothing. */
    gw_counter_add(m_reconnects, NULL, 0);
    gw_counter_add(m_events, NULL, 0);
    gw_counter_add(m_hub_drops, NULL, 0);
    gw_gauge_set(m_lag, NULL, 0);
    if (gw_metrics_collector(collect, NULL) != HLF_OK ||
        gw_health_register("follower", health, NULL) != HLF_OK)
        return hlf_error_set(err, HLF_ENOMEM, "stream: cannot register "
                             "metrics or health");
    if (gw_sse_init(cfg) != HLF_OK || gw_entityevent_init(cfg) != HLF_OK)
        return hlf_error_set(err, HLF_ENOMEM, "stream: cannot register "
                             "routes");
    return HLF_OK;
}

static int
stream_start(const gw_config_t *cfg, hlf_error_t *err)
{
    gw_follower_opts_t fo;
    gw_blocksrc_t src;
    gw_follower_t *f = NULL;
    gw_hub_t *hub = NULL;
    int rc;

    if (cfg->nidentities == 0 || cfg->identities[0].nupstreams == 0)
        return hlf_error_set(err, HLF_ECONFIG, "stream: no identity with "
                             "peers to follow blocks with");
    g_dsrc.ups = cfg->identities[0].upstreams;
    g_dsrc.n = cfg->identities[0].nupstreams;
    memset(&src, 0, sizeof(src));
    src.npeers = g_dsrc.n;
    src.ud = &g_dsrc;
    src.open = dsrc_open;
    src.next = dsrc_next;
    src.cancel = dsrc_cancel;
    src.close = dsrc_close;
    src.peer_name = dsrc_peer_name;
    src.height = dsrc_height;
    rc = gw_hub_new((size_t)cfg->hub_ring_events, &hub);
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "stream: cannot create the hub");
    memset(&fo, 0, sizeof(fo));
    fo.channel = cfg->channel;
    fo.chaincode = cfg->chaincode;
    fo.state_dir = cfg->state_dir;
    fo.src = &src;
    fo.hub = hub;
    rc = gw_follower_start(&fo, &f, err);
    if (rc != HLF_OK) {
        gw_hub_free(hub);
        return rc;
    }
    rc = gw_sse_start(cfg);
    if (rc != HLF_OK) {
        gw_hub_close(hub);
        gw_follower_free(f);
        gw_hub_free(hub);
        return hlf_error_set(err, rc, "stream: cannot start SSE");
    }
    pthread_mutex_lock(&g_lock);
    g_hub = hub;
    g_follower = f;
    pthread_mutex_unlock(&g_lock);
    return HLF_OK;
}

static void
stream_stop(void)
{
    gw_follower_t *f;
    gw_hub_t *hub;

    gw_sse_shutdown();
    pthread_mutex_lock(&g_lock);
    f = g_follower;
    hub = g_hub;
    g_follower = NULL;
    g_hub = NULL;
    pthread_mutex_unlock(&g_lock);
    /* Close the hub first (no new replays), then stop the follower (it
     * cancels running replays and saves its checkpoint), then free. */
    gw_hub_close(hub);
    gw_follower_free(f);
    gw_hub_free(hub);
}

const gw_module_t gw_module_stream = {"stream", stream_init, stream_start,
                                      stream_stop};
