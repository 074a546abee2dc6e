/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chaincode events through the peer Gateway's ChaincodeEvents stream. One
 * hlf_event_block_t arrives per block that holds at least one event of the
 * chaincode from a VALID transaction, in block order.
 *
 * An event stream is a handle (hlf_events_t). Open it with
 * hlf_network_chaincode_events, then either
 *   - pull: call hlf_events_next in a loop on one thread, or
 *   - push: hlf_events_start runs that loop on a library thread and hands
 *     every block to a callback.
 * hlf_events_cancel stops either from any thread; hlf_events_close frees.
 *
 * To resume after a restart, remember the last block fully processed and
 * reopen with start_block = that block (and after_tx_id = the last event's
 * tx_id handled), or start_block = last + 1.
 *
 * THREAD SAFETY: hlf_events_cancel may be called from any thread at any
 * time before hlf_events_close. Everything else on one stream from one
 * thread at a time (the push thread counts as the owner of next()).
 */
#ifndef HLF_EVENTS_H
#define HLF_EVENTS_H

#include "hlf/err.h"
#include "hlf/gateway.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One chaincode event; all pointers live as long as the enclosing block. */
typedef struct hlf_chaincode_event_s {
    const char *chaincode_id;
    const char *tx_id;
    const char *event_name;
    const uint8_t *payload;
    size_t payload_len;
} hlf_chaincode_event_t;

/* The events of one block, in transaction order. */
typedef struct hlf_event_block_s {
    uint64_t block_number;
    size_t nevents;
    const hlf_chaincode_event_t *events;
} hlf_event_block_t;

typedef struct hlf_events_opts_s {
    /*
     * has_start_block 0: only events committed from now on (the gateway's
     * "next commit"); 1: from block start_block (0 = the whole ledger).
     */
    int has_start_block;
    uint64_t start_block;
    /*
     * Optional (borrowed): if this transaction is in the ledger, start at
     * its block and skip events up to and including it.
     */
    const char *after_tx_id;
} hlf_events_opts_t;

typedef struct hlf_events_s hlf_events_t;

/*
 * Open a ChaincodeEvents stream for chaincode on net (signed with the
 * gateway's identity; opts may be NULL). No data is awaited here: a
 * failure of the call itself (peer down, access denied) is reported by the
 * first hlf_events_next or callback. *out is new (hlf_events_close).
 * HLF_EINVAL, HLF_ENOMEM, HLF_ECRYPTO, HLF_EGRPC.
 */
int hlf_network_chaincode_events(hlf_network_t *net, const char *chaincode,
                                 const hlf_events_opts_t *opts,
                                 hlf_events_t **out, hlf_error_t *err);

/*
 * Pull mode: block until the next block of events arrives. Returns 1 with
 * *blk new (hlf_event_block_free), 0 when the peer ended the stream
 * normally, HLF_ECLOSED after hlf_events_cancel, or the error of the call
 * (HLF_EUNAVAIL, HLF_ETIMEDOUT, HLF_EGRPC with the peer's message, e.g.
 * PermissionDenied; HLF_EPROTO for an undecodable message). After 0 or an
 * error the stream is over and every further call returns the same.
 * HLF_EINVAL if the stream runs in push mode.
 */
int hlf_events_next(hlf_events_t *ev, hlf_event_block_t **blk,
                    hlf_error_t *err);

/* Free a block from hlf_events_next. NULL is a no-op. */
void hlf_event_block_free(hlf_event_block_t *blk);

/*
 * Push-mode callback. Called on the stream's own thread, once per block
 * with blk set (borrowed, valid during the call) and end NULL; return 0 to
 * continue or non-zero to stop. Called exactly once more at the end with
 * blk NULL and end describing why (end->code 0: the peer closed the stream
 * normally or the callback asked to stop; HLF_ECLOSED: cancelled; else the
 * error). The callback may call hlf_events_cancel but not hlf_events_close.
 */
typedef int (*hlf_events_cb)(const hlf_event_block_t *blk,
                             const hlf_error_t *end, void *ud);

/*
 * Push mode: start a thread that reads the stream and calls cb(ud). At
 * most once per stream, and not after hlf_events_next. HLF_EINVAL or
 * HLF_ENOMEM (thread creation failed).
 */
int hlf_events_start(hlf_events_t *ev, hlf_events_cb cb, void *ud,
                     hlf_error_t *err);

/*
 * Stop the stream: a blocked hlf_events_next returns HLF_ECLOSED and a push
 * thread ends with a final HLF_ECLOSED callback. Idempotent.
 */
void hlf_events_cancel(hlf_events_t *ev);

/*
 * Cancel if still running, wait for the push thread (after its final
 * callback) and free the stream. Not from inside the callback. NULL is a
 * no-op.
 */
void hlf_events_close(hlf_events_t *ev);

#ifdef __cplusplus
}
#endif
#endif /* HLF_EVENTS_H */
