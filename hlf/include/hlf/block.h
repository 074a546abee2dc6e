/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsed Fabric blocks. hlf_block_parse turns the bytes of a common.Block
 * (as a peer's Deliver service sends it, or as read from a block file) into
 * an hlf_block_t: the block number and, per envelope in block order, the
 * transaction's header fields, its creator, its validation code and, for
 * endorser transactions, each chaincode action's chaincode, response and
 * chaincode event. Read-write sets and endorsements are not kept, nor are
 * the raw bytes.
 *
 * Blocks come from peers and, inside them, envelopes from any client of the
 * channel, so everything is treated as hostile input:
 *   - if the block itself cannot be decoded (Block, BlockHeader, BlockData)
 *     the parse fails with HLF_EPROTO naming that layer;
 *   - if one envelope cannot be decoded down to its last layer, the block
 *     still parses and that transaction's `error` says which layer failed
 *     (e.g. "malformed ChaincodeActionPayload"), with the fields of the
 *     layers above filled in. Fabric orders such envelopes and the peers
 *     mark them invalid; failing the whole block instead would let any
 *     channel member stop every block reader at that block.
 * Memory use is linear in the block size (the fixed records cost about
 * 100 bytes per envelope and 80 per action); no length read from the input
 * sizes an allocation by itself.
 *
 * THREAD SAFETY: hlf_block_parse may run on any number of threads at once;
 * a parsed block is immutable and may be read from any thread until
 * hlf_block_free.
 */
#ifndef HLF_BLOCK_H
#define HLF_BLOCK_H

#include "hlf/err.h"
#include "hlf/events.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* common.HeaderType: XX(name, value). */
#define HLF_HEADER_TYPE_MAP(XX)                                              \
    XX(MESSAGE, 0)                                                           \
    XX(CONFIG, 1)                                                            \
    XX(CONFIG_UPDATE, 2)                                                     \
    XX(ENDORSER_TRANSACTION, 3)                                              \
    XX(ORDERER_TRANSACTION, 4)                                               \
    XX(DELIVER_SEEK_INFO, 5)                                                 \
    XX(CHAINCODE_PACKAGE, 6)

enum {
#define HLF__HEADER_TYPE_ENUM(name, value) HLF_HEADER_TYPE_##name = (value),
    HLF_HEADER_TYPE_MAP(HLF__HEADER_TYPE_ENUM)
#undef HLF__HEADER_TYPE_ENUM
    /* hlf_block_tx_t.type when the channel header could not be read. */
    HLF_HEADER_TYPE_UNKNOWN = -1
};

/* protos.TxValidationCode values the block reader relies on (the names of
 * all of them: hlf_tx_validation_code_name in hlf/gateway.h). */
#define HLF_TX_VALID 0
#define HLF_TX_MVCC_READ_CONFLICT 11
/* Reported when the block carries no validation code for a transaction
 * (e.g. a block fetched from an orderer, before any peer validated it). */
#define HLF_TX_NOT_VALIDATED 254

/*
 * One chaincode action of an endorser transaction (what one chaincode
 * invocation produced, as endorsed). Strings are never NULL ("" when the
 * field is absent); everything lives as long as the block.
 */
typedef struct hlf_block_action_s {
    /* ChaincodeAction.chaincode_id: the chaincode that ran. */
    const char *chaincode;
    const char *chaincode_version;
    /* ChaincodeAction.response (status 0 and empties when absent). */
    int response_status;
    const char *response_message;
    const uint8_t *response_payload; /* NUL-terminated after the length */
    size_t response_payload_len;
    /*
     * The chaincode event the transaction set, NULL if none. Its fields are
     * as stored in the block: the peer fills chaincode_id and tx_id.
     */
    const hlf_chaincode_event_t *event;
} hlf_block_action_t;

/* One envelope of the block (a transaction, or a config update). */
typedef struct hlf_block_tx_s {
    /* Position in the block (0-based), also for unparseable envelopes. */
    size_t index;
    /* ChannelHeader.type (HLF_HEADER_TYPE_*), HLF_HEADER_TYPE_UNKNOWN if
     * the channel header could not be read. */
    int type;
    /* ChannelHeader fields ("" when absent). */
    const char *tx_id;
    const char *channel;
    int64_t timestamp_sec;
    int32_t timestamp_nanos;
    /* The creator (SignatureHeader.creator as msp.SerializedIdentity):
     * MSP id and certificate PEM text (NUL-terminated; "" if absent). */
    const char *creator_msp_id;
    const char *creator_cert;
    size_t creator_cert_len;
    /*
     * protos.TxValidationCode from block metadata TRANSACTIONS_FILTER
     * (HLF_TX_VALID == 0, e.g. HLF_TX_MVCC_READ_CONFLICT); HLF_TX_NOT_
     * VALIDATED when the block has no code for this envelope.
     */
    int validation_code;
    /*
     * Chaincode actions, in order: only for HLF_HEADER_TYPE_ENDORSER_
     * TRANSACTION (a valid one has exactly one). When error is set,
     * the actions decoded before the failing one.
     */
    size_t nactions;
    const hlf_block_action_t *actions;
    /*
     * NULL if the envelope was decoded completely; otherwise a static
     * one-line text naming the layer that failed ("malformed Envelope",
     * "Payload has no header", "malformed ChaincodeAction", ...). The peer
     * marks such transactions invalid; a VALID one with an error means the
     * block cannot be trusted and must not be skipped.
     */
    const char *error;
} hlf_block_tx_t;

/* A parsed block; every pointer lives until hlf_block_free. */
typedef struct hlf_block_s {
    uint64_t number;
    /* 1 if the block carries validation codes (TRANSACTIONS_FILTER with
     * one byte per envelope), 0 if they are missing or of the wrong size
     * (then every transaction reports HLF_TX_NOT_VALIDATED). */
    int validated;
    size_t ntx;
    const hlf_block_tx_t *txs;
} hlf_block_t;

/*
 * Parse len bytes of a serialized common.Block (borrowed, not retained).
 * On success *out is new (hlf_block_free). HLF_EINVAL (NULL argument),
 * HLF_EPROTO if the Block, its header or its data cannot be decoded
 * (err->text names the layer), HLF_ENOMEM. *out is NULL on failure.
 */
int hlf_block_parse(const uint8_t *data, size_t len, hlf_block_t **out,
                    hlf_error_t *err);

/* Free a block from hlf_block_parse or hlf_blocks_next. NULL is a no-op. */
void hlf_block_free(hlf_block_t *blk);

/* Name of a common.HeaderType ("CONFIG", "ENDORSER_TRANSACTION", ...);
 * "UNKNOWN" for any other value. */
const char *hlf_header_type_name(int type);

#ifdef __cplusplus
}
#endif
#endif /* HLF_BLOCK_H */
