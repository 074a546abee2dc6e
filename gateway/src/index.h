/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The off-chain CouchDB indexer (indexer.c, module "index"): what other
 * modules (the reports, /healthz, /metrics) and tests may ask of it.
 *
 * The indexer is a subscriber of the stream module's hub, started from
 * the sequence in its CouchDB checkpoint, that writes every committed
 * event as one document (couch_schema.h) in _bulk_docs batches of at
 * most index_batch_max and moves the checkpoint after each batch. While
 * CouchDB is unreachable it retries with backoff (up to
 * index_retry_max_ms) and the state is DEGRADED; recording and
 * streaming never wait for it. docs/index.md describes the design.
 *
 * THREAD SAFETY: every function here may be called from any thread.
 */
#ifndef GW_INDEX_H
#define GW_INDEX_H

#include "couch.h"
#include "gw.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    GW_INDEX_DISABLED = 0, /* couch_url not configured */
    GW_INDEX_STARTING = 1, /* set up (db, indexes, checkpoint) not done */
    GW_INDEX_OK = 2,       /* CouchDB reachable, last write succeeded */
    GW_INDEX_DEGRADED = 3  /* CouchDB unreachable or refusing: retrying */
} gw_index_state_t;

typedef struct gw_index_status_s {
    gw_index_state_t state;
    uint64_t checkpoint;  /* sequence of the last indexed event (0: none) */
    uint64_t head;        /* newest sequence the stream has published */
    /*
     * Events not yet in CouchDB that the indexer knows of: the batch in
     * flight plus, while it still reads a backlog, at least one per block
     * between checkpoint and head (a lower bound then).
     */
    uint64_t lag;
    uint64_t lag_blocks;  /* block of head - block of checkpoint */
    uint64_t indexed;     /* documents written since start */
    uint64_t conflicts;   /* replayed documents that already existed */
    uint64_t batches;     /* successful batches since start */
    uint64_t failures;    /* failed attempts since start */
    uint64_t doc_ns;      /* time spent building documents (benchmarks) */
    int rebuilding;       /* a rebuild was asked for and is not done */
    char detail[256];     /* last error, or "" */
} gw_index_status_t;

/* A snapshot (st borrowed). DISABLED before the module started. */
void gw_index_status(gw_index_status_t *st);

/*
 * The indexer's CouchDB client statistics (couch.h: time inside curl,
 * encoding, decoding, bytes). All zero while disabled. For benchmarks.
 */
void gw_index_couch_stats(gw_couch_stats_t *st);

/* "disabled", "starting", "ok", "degraded". */
const char *gw_index_state_name(gw_index_state_t s);

/*
 * Drop the index and replay the ledger from block 0: the indexer thread
 * deletes the database, creates it and the indexes again and
 * resubscribes from sequence 0. Returns at once: HLF_OK (asked),
 * HLF_ENOTFOUND (the index is disabled).
 */
int gw_index_rebuild(hlf_error_t *err);

#ifdef __cplusplus
}
#endif
#endif /* GW_INDEX_H */
