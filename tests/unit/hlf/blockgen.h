/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builders of Fabric blocks for the block parser and Deliver tests: real
 * protobuf-c encodings of every layer (Envelope, Payload, headers,
 * SerializedIdentity, Transaction, ChaincodeActionPayload,
 * ProposalResponsePayload, ChaincodeAction, ChaincodeEvent, Block), each
 * of which a test can replace with undecodable bytes, and the
 * DeliverResponse messages a peer streams. Every result is malloc'd.
 */
#ifndef HLF_BLOCKGEN_H
#define HLF_BLOCKGEN_H

#include <stddef.h>
#include <stdint.h>

/* The layer of an envelope to break (bg_tx_t.broken). */
typedef enum {
    BG_INTACT = 0,
    BG_ENVELOPE,
    BG_PAYLOAD,
    BG_NO_HEADER,            /* Payload without a Header */
    BG_CHANNEL_HEADER,
    BG_SIGNATURE_HEADER,
    BG_CREATOR,              /* SerializedIdentity */
    BG_TRANSACTION,
    BG_NO_ACTIONS,           /* Transaction with zero actions */
    /* The rest apply to the last action only. */
    BG_ACTION_PAYLOAD,       /* ChaincodeActionPayload */
    BG_NO_ENDORSED_ACTION,   /* ChaincodeActionPayload without action */
    BG_RESPONSE_PAYLOAD,     /* ProposalResponsePayload */
    BG_CHAINCODE_ACTION,
    BG_EVENT                 /* ChaincodeEvent */
} bg_break_t;

typedef struct {
    const char *chaincode;   /* NULL: no chaincode_id at all */
    const char *version;
    int no_response;
    int status;
    const char *message;
    const uint8_t *result;
    size_t result_len;
    const char *event_name;  /* NULL: the action sets no event */
    const uint8_t *event_payload;
    size_t event_len;
} bg_action_t;

#define BG_MAX_ACTIONS 4

typedef struct {
    int type;                /* common.HeaderType */
    const char *tx_id;
    const char *channel;
    int64_t ts_sec;
    int32_t ts_nanos;
    const char *msp_id;      /* NULL: empty creator */
    const char *cert;
    size_t nactions;         /* endorser transactions */
    bg_action_t actions[BG_MAX_ACTIONS];
    bg_break_t broken;
} bg_tx_t;

/* A serialized common.Envelope for tx. */
uint8_t *bg_envelope(const bg_tx_t *tx, size_t *len);

typedef struct {
    uint64_t number;
    uint8_t *const *envs;    /* serialized envelopes (borrowed) */
    const size_t *lens;
    size_t n;
    int no_header;
    int no_data;
    int metadata;            /* 1: BlockMetadata with entries 0..4 */
    const uint8_t *codes;    /* metadata[2], ncodes bytes */
    size_t ncodes;
} bg_block_t;

/* A serialized common.Block. */
uint8_t *bg_block(const bg_block_t *b, size_t *len);

/* A block of n endorser transactions of chaincode "reso", tx ids
 * "tx-<number>-<i>", each with event "RecordEvent" and payload
 * {"block":<number>,"i":<i>}, all VALID. */
uint8_t *bg_simple_block(uint64_t number, size_t n, size_t *len);

/* protos.DeliverResponse{block} around serialized block bytes. */
uint8_t *bg_deliver_block(const uint8_t *block, size_t block_len,
                          size_t *len);
/* protos.DeliverResponse{status}. */
uint8_t *bg_deliver_status(int status, size_t *len);

#endif /* HLF_BLOCKGEN_H */
