/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Full blocks from a peer's Deliver service (/protos.Deliver/Deliver), as
 * the Go SDK's Network.BlockEvents: every committed block of the channel
 * in order, parsed (hlf/block.h), with the validation code of each
 * transaction. Unlike the Gateway's ChaincodeEvents stream it shows every
 * transaction, valid or not, config blocks included, so a reader can keep
 * an exact checkpoint (block, transaction index).
 *
 * A block stream is a handle (hlf_blocks_t). Open it with
 * hlf_network_block_events: a signed seek request (SeekInfo start = the
 * given block or the next commit, stop = the given block or "never",
 * BLOCK_UNTIL_READY) made with the gateway's identity and sent over its
 * connection. Then call hlf_blocks_next in a loop on one thread;
 * hlf_blocks_cancel stops it from any thread; hlf_blocks_close frees.
 *
 * To resume after a restart or on another peer, open a new stream with
 * start_block = the block of the checkpoint and skip the transactions
 * already handled in it (or start_block = last complete block + 1). The
 * stream checks that blocks arrive in sequence from start_block and stops
 * with HLF_EPROTO if a peer skips or repeats one.
 *
 * The peer checks the request: the identity must satisfy the channel's
 * Readers policy (a client, peer or admin of a member org) and the request
 * time must be within the peer's time window (15 minutes) of its clock.
 *
 * THREAD SAFETY: hlf_blocks_cancel may be called from any thread at any
 * time before hlf_blocks_close. Everything else on one stream from one
 * thread at a time. Different streams are independent; any number may
 * share a gateway and connection.
 */
#ifndef HLF_DELIVER_H
#define HLF_DELIVER_H

#include "hlf/block.h"
#include "hlf/err.h"
#include "hlf/gateway.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hlf_blocks_opts_s {
    /*
     * has_start_block 0: from the next block committed after the request
     * (SeekNextCommit); 1: from block start_block (0 = the genesis block).
     */
    int has_start_block;
    uint64_t start_block;
    /*
     * has_stop_block 1: the stream ends normally (hlf_blocks_next returns
     * 0) after block stop_block; 0: it never ends on its own.
     */
    int has_stop_block;
    uint64_t stop_block;
    /*
     * Only for peers that require mutual TLS: SHA-256 of the client TLS
     * certificate (DER), put into the request's channel header. Borrowed
     * for the call; NULL otherwise.
     */
    const uint8_t *tls_cert_hash;
    size_t tls_cert_hash_len;
} hlf_blocks_opts_t;

typedef struct hlf_blocks_s hlf_blocks_t;

/*
 * Open a Deliver stream of full blocks of net's channel, signed with the
 * gateway's identity (opts may be NULL: from the next commit, forever). No
 * reply is awaited here: a failure of the call (peer down, access denied)
 * comes from the first hlf_blocks_next. *out is new (hlf_blocks_close).
 * HLF_EINVAL (NULL argument, stop_block before start_block), HLF_ENOMEM,
 * HLF_ECRYPTO (signing failed), HLF_EGRPC.
 */
int hlf_network_block_events(hlf_network_t *net, const hlf_blocks_opts_t *opts,
                             hlf_blocks_t **out, hlf_error_t *err);

/*
 * Block until the next block arrives. Returns 1 with *blk new
 * (hlf_block_free), 0 when the peer ended the stream normally (status
 * SUCCESS after stop_block), or an error:
 *   HLF_ECLOSED     after hlf_blocks_cancel;
 *   HLF_EUNAVAIL    peer unreachable or gRPC Unavailable, or Deliver
 *                   status SERVICE_UNAVAILABLE: retry with backoff;
 *   HLF_EPERM       Deliver status FORBIDDEN (identity not a channel
 *                   reader, expired certificate, request time outside the
 *                   peer's window);
 *   HLF_ENOTFOUND   Deliver status NOT_FOUND (the peer has not joined the
 *                   channel);
 *   HLF_EGRPC       any other Deliver status (BAD_REQUEST,
 *                   INTERNAL_SERVER_ERROR, ...) or gRPC failure;
 *   HLF_ETIMEDOUT   gRPC DeadlineExceeded;
 *   HLF_EPROTO      an undecodable response or block, a block out of
 *                   sequence, or the stream ending without a status;
 *   HLF_ENOMEM.
 * err->text names the channel and, for a Deliver status, its name and
 * number, e.g. "Deliver reso-events: FORBIDDEN (403)". After 0 or an error
 * the stream is over and every further call returns the same result.
 */
int hlf_blocks_next(hlf_blocks_t *s, hlf_block_t **blk, hlf_error_t *err);

/*
 * Stop the stream: a blocked hlf_blocks_next returns HLF_ECLOSED, and so
 * does every later one (unless the stream had already ended). Idempotent;
 * any thread.
 */
void hlf_blocks_cancel(hlf_blocks_t *s);

/* Cancel if still running and free the stream. NULL is a no-op. */
void hlf_blocks_close(hlf_blocks_t *s);

#ifdef __cplusplus
}
#endif
#endif /* HLF_DELIVER_H */
