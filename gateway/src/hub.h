/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's committed-event pipeline (the "stream" module): one block
 * follower per channel reads committed blocks from a persisted checkpoint
 * and publishes every valid RESO event to the hub; the hub keeps the most
 * recent events in a ring and fans them out to subscribers (SSE clients,
 * webhook subscriptions, EntityEvent pages). A subscriber that starts
 * from a sequence older than the ring gets the missing events replayed
 * from the ledger before it switches to live events, so every subscriber
 * sees each event exactly once, in commit order.
 *
 * Sequence: (block << 16) | tx_index, the RESO EntityEventSequence
 * (reso-model.md §8.4). It is strictly increasing in commit order and the
 * same after every restart; gaps are normal (invalid transactions, blocks
 * of other chaincodes).
 *
 * The subscriber API for other modules (webhooks) is in the "Subscribers"
 * section; docs/internals/follower.md explains the design.
 *
 * Conventions: functions return HLF_OK or a negative HLF_E* code with
 * detail in an optional hlf_error_t; pointers are new / borrowed / takes
 * as documented; every declaration has a THREAD SAFETY line.
 */
#ifndef GW_HUB_H
#define GW_HUB_H

#include "gw.h"

#include "hlf/block.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

/* The largest transaction index a sequence can carry. */
#define GW_SEQ_TX_MAX 0xFFFFu

/* Sequence of (block, tx_index); the inverse helpers below. */
#define GW_SEQ(block, tx) (((uint64_t)(block) << 16) | (uint64_t)(tx))
#define GW_SEQ_BLOCK(seq) ((uint64_t)(seq) >> 16)
#define GW_SEQ_TX(seq) ((uint32_t)((seq) & 0xFFFFu))

/*
 * The fields subscribers may filter on: XX(id, JSON/query name). The five
 * lookup fields, EventSubject and Recorder (docs/event-model.md).
 */
#define GW_EVFIELD_MAP(XX)                                                 \
    XX(SYSTEM, "System")                                                   \
    XX(SUBJECT_TYPE, "SubjectType")                                        \
    XX(ENTITY, "Entity")                                                   \
    XX(EVENT, "Event")                                                     \
    XX(STATE, "State")                                                     \
    XX(EVENT_SUBJECT, "EventSubject")                                      \
    XX(RECORDER, "Recorder")

typedef enum {
#define GW__EVF_ENUM(id, name) GW_EVF_##id,
    GW_EVFIELD_MAP(GW__EVF_ENUM)
#undef GW__EVF_ENUM
    GW_EVF__COUNT
} gw_evfield_t;

/*
 * One committed RESO event. Immutable after gw_event_new and shared by
 * reference: the ring, every subscriber queue and every reader hold one
 * reference each. The JSON is serialized once, inside the SSE frame:
 *
 *   frame = "id: <sequence>\nevent: reso.event\ndata: " json "\n\n"
 *
 * json is {"sequence","block","tx_index","txid", then the stored event's
 * fields as the chaincode wrote them (TransactionId first), then
 * "recorded_by" (the creator's MSP id)}.
 */
typedef struct gw_event_s {
    uint64_t sequence;
    uint64_t block;
    uint32_t tx_index;
    const char *txid;           /* Fabric transaction id */
    const char *transaction_id; /* the event's TransactionId */
    const char *recorded_by;    /* creator MSP id ("" if unknown) */
    const char *field[GW_EVF__COUNT]; /* "" when absent */
    const char *json;           /* json_len bytes inside frame, NOT
                                   NUL-terminated (frame goes on) */
    size_t json_len;
    const char *frame;          /* the whole SSE event, NUL-terminated */
    size_t frame_len;
    atomic_int refs;            /* private: gw_event_ref/unref */
} gw_event_t;

/*
 * Build an event from a committed transaction: payload (borrowed) is the
 * chaincode event payload, the stored event JSON. It must be a JSON
 * object whose TransactionId is a string; the other filter fields, when
 * present, must be strings. *out is new with one reference
 * (gw_event_unref). HLF_EINVAL (NULL argument), HLF_ETOOBIG (tx_index >
 * GW_SEQ_TX_MAX or block >= 2^47), HLF_EPROTO (payload not such an
 * object; err names what is wrong), HLF_ENOMEM.
 * THREAD SAFETY: reentrant.
 */
int gw_event_new(uint64_t block, uint32_t tx_index, const char *txid,
                 const char *recorded_by, const uint8_t *payload,
                 size_t len, gw_event_t **out, hlf_error_t *err);

/* Take / drop a reference. The last unref frees. NULL is a no-op.
 * THREAD SAFETY: any thread. */
gw_event_t *gw_event_ref(gw_event_t *ev);
void gw_event_unref(gw_event_t *ev);

/*
 * Parse a sequence: 1..19 decimal digits (s[0..len), no sign or space),
 * at most INT64_MAX. Returns 0 with *out set, or -1.
 * THREAD SAFETY: reentrant.
 */
int gw_seq_parse(const char *s, size_t len, uint64_t *out);

/* *ts = now (CLOCK_REALTIME, for pthread_cond_timedwait) + ms.
 * THREAD SAFETY: reentrant. */
void gw_abstime_in(struct timespec *ts, int64_t ms);

/* The field id of a name ("System" ...), or -1. Case-sensitive. */
int gw_evfield_from_name(const char *name);
const char *gw_evfield_name(gw_evfield_t f);

/* ------------------------------------------------------------------ */
/* Filters                                                            */
/* ------------------------------------------------------------------ */

/*
 * Which events a subscriber wants: per field a set of accepted values
 * (exact, case-sensitive). A field with no values accepts anything;
 * several values of one field are alternatives (OR); fields combine with
 * AND. The empty filter matches every event.
 */
typedef struct gw_filter_s gw_filter_t;

/* *out is new (gw_filter_free). HLF_ENOMEM. */
int gw_filter_new(gw_filter_t **out);

/* Accept value (copied) for field. HLF_EINVAL (NULL, bad field),
 * HLF_ETOOBIG (more than 64 values for one field), HLF_ENOMEM. */
int gw_filter_add(gw_filter_t *f, gw_evfield_t field, const char *value);

/* 1 if ev passes f (NULL f passes everything), else 0. */
int gw_filter_match(const gw_filter_t *f, const gw_event_t *ev);

/* 1 if f has no condition (or is NULL). */
int gw_filter_is_empty(const gw_filter_t *f);

void gw_filter_free(gw_filter_t *f);
/* THREAD SAFETY (filters): build on one thread; once handed to a
 * subscriber it is read-only and read from any thread. */

/* ------------------------------------------------------------------ */
/* Hub                                                                */
/* ------------------------------------------------------------------ */

typedef struct gw_hub_s gw_hub_t;

/*
 * Ledger replay, provided by the follower: call emit(ctx, ev) for every
 * event with after < sequence <= upto, in sequence order (ev borrowed for
 * the call; emit takes its own reference if it keeps it). emit returns 0
 * to go on or 1 to stop early; a stop is not an error. Blocks (Deliver
 * from block GW_SEQ_BLOCK(after) + failover); returns HLF_OK or the
 * failure, e.g. HLF_EUNAVAIL, with err filled; HLF_ECLOSED once the
 * source is shutting down.
 */
typedef int (*gw_hub_emit_fn)(void *ctx, gw_event_t *ev);
typedef int (*gw_hub_replay_fn)(void *ud, uint64_t after, uint64_t upto,
                                gw_hub_emit_fn emit, void *ctx,
                                hlf_error_t *err);

/*
 * A hub keeping the ring_events most recent events (>= 1). *out is new
 * (gw_hub_free). HLF_EINVAL, HLF_ENOMEM.
 * THREAD SAFETY: any thread.
 */
int gw_hub_new(size_t ring_events, gw_hub_t **out);

/*
 * Where the ledger replay comes from (fn may be NULL: then a subscriber
 * older than the ring is refused with HLF_ENOTFOUND). ud is borrowed
 * until gw_hub_free.
 * THREAD SAFETY: before the first subscriber.
 */
void gw_hub_set_replay(gw_hub_t *hub, gw_hub_replay_fn fn, void *ud);

/*
 * The publisher starts after sequence start: everything up to it is on
 * the ledger only (replayed on demand), everything after it will be
 * published. Default 0.
 * THREAD SAFETY: before the first publish.
 */
void gw_hub_set_start(gw_hub_t *hub, uint64_t start);

/*
 * Publish ev (borrowed: the hub takes its own references) to the ring and
 * to every live subscriber whose filter matches. Sequences must strictly
 * increase: HLF_EINVAL otherwise (nothing published). HLF_ECLOSED after
 * gw_hub_close. A subscriber whose queue is full is dropped (logged).
 * Notifications run after the hub lock is released.
 * THREAD SAFETY: any thread; publishers are serialized.
 */
int gw_hub_publish(gw_hub_t *hub, gw_event_t *ev);

/* Counters for metrics, health and tests (a consistent snapshot). */
typedef struct gw_hub_stats_s {
    uint64_t last_sequence;  /* newest published (or the start) */
    uint64_t covered_from;   /* the ring holds every event after this */
    size_t ring_events;      /* events in the ring now */
    size_t subscribers;
    uint64_t published;      /* events published since gw_hub_new */
    uint64_t dropped;        /* subscribers dropped as too slow */
    uint64_t replays;        /* ledger replay rounds started */
} gw_hub_stats_t;
void gw_hub_stats(gw_hub_t *hub, gw_hub_stats_t *st);

/*
 * Close every subscriber (their next returns HLF_ECLOSED, waiting ones
 * are notified) and refuse new subscribers and publishes. Waits until no
 * replay job runs. Idempotent.
 * THREAD SAFETY: any thread except from a notify callback or replay.
 */
void gw_hub_close(gw_hub_t *hub);

/*
 * Wait until no call into the replay source is running. After
 * gw_hub_close no new one starts, so the replay source (the follower) may
 * be freed once this returns.
 * THREAD SAFETY: any thread except from a notify callback or replay.
 */
void gw_hub_wait_replays(gw_hub_t *hub);

/*
 * Close (if not yet), wait until every subscriber is unsubscribed and no
 * replay job runs, and free. If that takes more than 10 s the hub is
 * logged and left allocated rather than freed under a late user. NULL is
 * a no-op. THREAD SAFETY: once, last.
 */
void gw_hub_free(gw_hub_t *hub);

/* ------------------------------------------------------------------ */
/* Subscribers (the API for SSE, webhooks and EntityEvent)            */
/* ------------------------------------------------------------------ */

/*
 * A subscriber is a handle with a cursor (the sequence of the last event
 * it returned) and a bounded queue. It is a pull API with a wake-up
 * callback:
 *
 *   gw_hub_subscribe(hub, &opts, &sub, &err);      // from opts.after
 *   for (;;) {
 *       rc = gw_hub_sub_next(sub, &ev, &err);
 *       if (rc == 1) { ...use ev...; gw_event_unref(ev); continue; }
 *       if (rc == 0) { wait until opts.notify was called; continue; }
 *       break;   // rc < 0: closed, dropped or replay failed (err)
 *   }
 *   gw_hub_unsubscribe(sub);
 *
 * Where events come from: with opts.has_after, first the events after
 * opts.after that the ring no longer holds, replayed from the ledger in
 * chunks of at most queue_max events; then the ring; then live events
 * pushed by gw_hub_publish into the queue. Each event matching the filter
 * is returned exactly once, in sequence order, with no gap between the
 * three phases. Without has_after the subscriber starts with the next
 * event published.
 *
 * Replay runs on the worker pool (gw_pool_submit) by default; with
 * GW_HUB_SYNC it runs inside gw_hub_sub_next on the caller's thread
 * (which then blocks on the peer; use it from your own thread or a pool
 * job, never from an MHD thread).
 *
 * A full queue means a slow consumer. By default it is dropped: its next
 * returns HLF_ETOOBIG (err says why), the drop is logged with the
 * subscriber's name, and the consumer may resubscribe from its cursor.
 * With GW_HUB_SPILL it is never dropped: it stops receiving pushes and
 * reads the ring (and, once the ring moved on, the ledger) from its
 * cursor until it has caught up; use this for consumers that must not
 * lose their place, such as webhooks.
 *
 * notify(ud) is called when gw_hub_sub_next returned 0 and something is
 * available now (an event, the end, an error). It runs on the publisher's
 * or a replay worker's thread, without hub locks, at most once per 0
 * returned; it must not block and must not call gw_hub_* itself (signal a
 * condition variable, gw_stream_wake, ...). After gw_hub_unsubscribe
 * returns it is never called again (unsubscribe waits for one in
 * progress), so do not hold a lock that notify takes while unsubscribing.
 */
typedef struct gw_hub_sub_s gw_hub_sub_t;

typedef void (*gw_hub_notify_fn)(void *ud);

enum {
    GW_HUB_SYNC = 1 << 0,  /* replay inside gw_hub_sub_next */
    GW_HUB_SPILL = 1 << 1  /* a full queue falls back to ring/ledger */
};

typedef struct gw_hub_sub_opts_s {
    gw_filter_t *filter;     /* takes (even on failure); NULL: all */
    int has_after;           /* 1: start after sequence `after` */
    uint64_t after;
    size_t queue_max;        /* 0: GW_DEFAULT_SSE_QUEUE_EVENTS */
    unsigned flags;          /* GW_HUB_SYNC | GW_HUB_SPILL */
    gw_hub_notify_fn notify; /* required unless GW_HUB_SYNC */
    void *ud;                /* borrowed until gw_hub_unsubscribe */
    const char *name;        /* for logs ("sse 127.0.0.1:5555"); copied */
} gw_hub_sub_opts_t;

/*
 * Add a subscriber. *out is new (gw_hub_unsubscribe). HLF_EINVAL (missing
 * notify without GW_HUB_SYNC), HLF_ENOTFOUND (after is older than the
 * ring and no replay source is set), HLF_ECLOSED (hub closed),
 * HLF_EAGAIN (the pool refused the first replay job), HLF_ENOMEM.
 * THREAD SAFETY: any thread.
 */
int gw_hub_subscribe(gw_hub_t *hub, const gw_hub_sub_opts_t *opts,
                     gw_hub_sub_t **out, hlf_error_t *err);

/*
 * The next event: 1 with *ev new (gw_event_unref); 0 when nothing is
 * available now (notify will be called); HLF_ECLOSED (hub closed),
 * HLF_ETOOBIG (dropped as too slow) or the replay's failure, each with
 * err->text saying why, after which every call returns the same. Never
 * blocks unless GW_HUB_SYNC and a replay chunk is due.
 * THREAD SAFETY: one consumer thread at a time per subscriber.
 */
int gw_hub_sub_next(gw_hub_sub_t *sub, gw_event_t **ev, hlf_error_t *err);

/* The sequence of the last event returned (or the start position).
 * THREAD SAFETY: the consumer. */
uint64_t gw_hub_sub_cursor(gw_hub_sub_t *sub);

/* Remove and free the subscriber (drops its queued events). NULL is a
 * no-op. THREAD SAFETY: the consumer, once, not from notify. */
void gw_hub_unsubscribe(gw_hub_sub_t *sub);

/* ------------------------------------------------------------------ */
/* Checkpoint                                                         */
/* ------------------------------------------------------------------ */

/* The position of the last transaction fully processed on a channel. */
typedef struct gw_checkpoint_s {
    int valid;         /* 0: nothing processed yet (start at block 0) */
    uint64_t block;
    uint32_t tx_index; /* <= GW_SEQ_TX_MAX */
} gw_checkpoint_t;

/*
 * Read <dir>/checkpoint-<channel>.json into *cp. A missing file is not an
 * error: HLF_OK with cp->valid 0. HLF_EINVAL (channel not
 * [A-Za-z0-9._-]{1,200}), HLF_EPROTO (the file exists but is not a
 * checkpoint of this channel: err names the file), HLF_EIO.
 * THREAD SAFETY: reentrant.
 */
int gw_checkpoint_load(const char *dir, const char *channel,
                       gw_checkpoint_t *cp, hlf_error_t *err);

/*
 * Persist cp atomically: write a temporary file in dir, fsync it, rename
 * it over the checkpoint, fsync dir. After a crash at any point the file
 * holds either the previous or the new checkpoint. Mode 0600.
 * HLF_EINVAL (bad channel, cp not valid, tx_index too big), HLF_EIO.
 * THREAD SAFETY: reentrant; one writer per channel.
 */
int gw_checkpoint_save(const char *dir, const char *channel,
                       const gw_checkpoint_t *cp, hlf_error_t *err);

/* ------------------------------------------------------------------ */
/* Follower                                                           */
/* ------------------------------------------------------------------ */

/*
 * Where blocks come from: peers 0..npeers-1 (in failover order). The
 * daemon's source opens Deliver streams (hlf/deliver.h) through the
 * configured upstreams; unit tests plug in a fake.
 */
typedef struct gw_blocksrc_s {
    size_t npeers;
    void *ud;
    /* Open a stream on peer from block start (until block stop when
     * has_stop). *stream is the source's handle. */
    int (*open)(void *ud, size_t peer, uint64_t start, int has_stop,
                uint64_t stop, void **stream, hlf_error_t *err);
    /* As hlf_blocks_next: 1 with *blk new (hlf_block_free), 0 at the
     * end, negative on failure. */
    int (*next)(void *ud, void *stream, hlf_block_t **blk,
                hlf_error_t *err);
    /* Make a blocked next return HLF_ECLOSED; any thread. */
    void (*cancel)(void *ud, void *stream);
    void (*close)(void *ud, void *stream);
    /* Name of a peer for logs and health ("127.0.0.1:7051"). */
    const char *(*peer_name)(void *ud, size_t peer);
    /* Optional: the channel's height on peer (blocks, so the newest
     * block number is height - 1), e.g. qscc GetChainInfo. Called from
     * the follower's height poller thread; may block up to the peer's
     * call timeout. */
    int (*height)(void *ud, size_t peer, uint64_t *height,
                  hlf_error_t *err);
} gw_blocksrc_t;

typedef struct gw_follower_s gw_follower_t;

typedef struct gw_follower_opts_s {
    const char *channel;      /* copied */
    const char *chaincode;    /* copied: only its events are published */
    const char *state_dir;    /* copied: where the checkpoint lives */
    const gw_blocksrc_t *src; /* copied; src->ud borrowed until stop */
    gw_hub_t *hub;            /* borrowed until gw_follower_free */
    int64_t backoff_min_ms;   /* 0: 100 */
    int64_t backoff_max_ms;   /* 0: 10000 */
    /* With src->height: ask a peer for the chain height this often, so
     * the lag counts blocks the follower has not even seen (its peer is
     * gone, it is reconnecting). 0: GW_HEIGHT_POLL_MS; < 0: never. */
    int64_t height_poll_ms;
} gw_follower_opts_t;

#define GW_HEIGHT_POLL_MS 5000

/*
 * Load the checkpoint, tell the hub where publishing starts, install the
 * ledger replay on the hub and start the follower thread. *out is new
 * (gw_follower_free). HLF_EPROTO / HLF_EIO (unreadable checkpoint: the
 * follower refuses to guess), HLF_EINVAL, HLF_ENOMEM.
 * THREAD SAFETY: main thread.
 */
int gw_follower_start(const gw_follower_opts_t *o, gw_follower_t **out,
                      hlf_error_t *err);

/*
 * Stop the thread (cancelling its stream and any replay), save the
 * checkpoint and free. NULL is a no-op. The hub must be closed first
 * (gw_hub_close) so no replay starts afterwards.
 * THREAD SAFETY: main thread.
 */
void gw_follower_free(gw_follower_t *f);

/* What /healthz and /metrics show. */
typedef struct gw_follower_status_s {
    int connected;            /* a stream delivered a block lately */
    size_t peer;              /* index of the current peer */
    char peer_name[128];
    gw_checkpoint_t checkpoint;
    uint64_t latest_block;    /* newest block number known to exist */
    uint64_t lag_blocks;      /* latest_block - checkpoint block */
    uint64_t reconnects;      /* stream failures so far */
    uint64_t events;          /* events published */
    uint64_t skipped;         /* valid events that could not be parsed */
    char last_error[256];     /* "" if none yet */
} gw_follower_status_t;

/* A snapshot. THREAD SAFETY: any thread. */
void gw_follower_status(gw_follower_t *f, gw_follower_status_t *st);

/*
 * Tell the follower that block exists (e.g. a commit the REST API just
 * saw), so lag counts blocks the follower has not read yet.
 * THREAD SAFETY: any thread.
 */
void gw_follower_note_block(gw_follower_t *f, uint64_t block);

/*
 * Call cb(ctx, ev) for every event of chaincode in blk (VALID endorser
 * transactions whose action ran chaincode and set an event), in order,
 * skipping transactions with index <= skip_upto_tx when has_skip. cb
 * returns 0 to go on, > 0 to stop (returned as is) or a negative error
 * (returned as is). Returns HLF_OK, or HLF_EPROTO before calling cb at
 * all if the block has no validation codes or a VALID transaction could
 * not be decoded (the block cannot be trusted).
 * Events whose payload is not a stored event are skipped and counted in
 * *skipped (may be NULL) with a warning.
 * THREAD SAFETY: reentrant.
 */
int gw_block_events(const hlf_block_t *blk, const char *chaincode,
                    int has_skip, uint32_t skip_upto_tx,
                    int (*cb)(void *ctx, gw_event_t *ev), void *ctx,
                    uint64_t *skipped, hlf_error_t *err);

/* ------------------------------------------------------------------ */
/* The stream module in the daemon                                    */
/* ------------------------------------------------------------------ */

/*
 * The daemon's hub (borrowed; NULL before the stream module's init and
 * after its stop). Modules listed after "stream" in gateway/CMakeLists.txt
 * may subscribe from their start and must unsubscribe in their stop.
 * THREAD SAFETY: any thread between init and stop.
 */
gw_hub_t *gw_stream_hub(void);

/* gw_follower_note_block for the daemon's follower (no-op if none).
 * THREAD SAFETY: any thread. */
void gw_stream_note_block(uint64_t block);

/* Make hub the one gw_stream_hub returns (unit tests; the module's start
 * installs its own). THREAD SAFETY: main thread. */
void gw_stream_install_hub(gw_hub_t *hub);

/*
 * SSE (sse.c): init registers GET /v1/stream and its metrics (module
 * init: no threads); start runs the heartbeat thread; shutdown stops it
 * and detaches every remaining client from the hub, so the hub may be
 * freed even if a connection lingers. Shutdown is idempotent.
 * THREAD SAFETY: main thread.
 */
int gw_sse_init(const gw_config_t *cfg);
int gw_sse_start(const gw_config_t *cfg);
void gw_sse_shutdown(void);

/* EntityEvent (entityevent.c): registers GET /v1/EntityEvent.
 * THREAD SAFETY: main thread, module init. */
int gw_entityevent_init(const gw_config_t *cfg);

#ifdef __cplusplus
}
#endif
#endif /* GW_HUB_H */
