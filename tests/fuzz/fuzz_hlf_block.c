/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for hlf_block_parse, the parser of blocks a peer sends
 * (and of the envelopes any channel member can get into them). Random
 * bytes rarely reach the inner layers of a block, so the first input byte
 * picks the layer the rest of the input stands for, and the target wraps
 * it in well-formed outer layers: the whole Block, an Envelope, a Payload,
 * a ChannelHeader, a SignatureHeader, a creator, a Transaction, a
 * ChaincodeActionPayload, a ProposalResponsePayload, a ChaincodeAction or
 * a ChaincodeEvent. Every parsed field is then read in full. Must never
 * crash, leak or fail with anything but HLF_EPROTO.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.pb-c.h"
#include "hlf/block.h"
#include "msp/identities.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    L_BLOCK,
    L_ENVELOPE,
    L_PAYLOAD,
    L_CHANNEL_HEADER,
    L_SIGNATURE_HEADER,
    L_CREATOR,
    L_TRANSACTION,
    L_ACTION_PAYLOAD,
    L_RESPONSE_PAYLOAD,
    L_CHAINCODE_ACTION,
    L_EVENT,
    L_COUNT
};

typedef ProtobufCBinaryData bin_t;

static bin_t
pack(const ProtobufCMessage *m)
{
    bin_t b;

    b.data = malloc(protobuf_c_message_get_packed_size(m) + 1);
    if (b.data == NULL)
        abort();
    b.len = protobuf_c_message_pack(m, b.data);
    return b;
}

/* Each wrapper takes (and frees) the inner bytes and returns the outer. */

static bin_t
in_action(bin_t events)
{
    Protos__ChaincodeID id = PROTOS__CHAINCODE_ID__INIT;
    Protos__Response r = PROTOS__RESPONSE__INIT;
    Protos__ChaincodeAction ca = PROTOS__CHAINCODE_ACTION__INIT;
    bin_t out;

    id.name = "reso";
    r.status = 200;
    ca.chaincode_id = &id;
    ca.response = &r;
    ca.events = events;
    out = pack(&ca.base);
    free(events.data);
    return out;
}

static bin_t
in_response_payload(bin_t action)
{
    Protos__ProposalResponsePayload prp =
        PROTOS__PROPOSAL_RESPONSE_PAYLOAD__INIT;
    bin_t out;

    prp.extension = action;
    out = pack(&prp.base);
    free(action.data);
    return out;
}

static bin_t
in_action_payload(bin_t prp)
{
    Protos__ChaincodeEndorsedAction ea =
        PROTOS__CHAINCODE_ENDORSED_ACTION__INIT;
    Protos__ChaincodeActionPayload cap =
        PROTOS__CHAINCODE_ACTION_PAYLOAD__INIT;
    bin_t out;

    ea.proposal_response_payload = prp;
    cap.action = &ea;
    out = pack(&cap.base);
    free(prp.data);
    return out;
}

static bin_t
in_transaction(bin_t cap)
{
    Protos__TransactionAction ta = PROTOS__TRANSACTION_ACTION__INIT;
    Protos__TransactionAction *tas[1] = {&ta};
    Protos__Transaction tx = PROTOS__TRANSACTION__INIT;
    bin_t out;

    ta.payload = cap;
    tx.n_actions = 1;
    tx.actions = tas;
    out = pack(&tx.base);
    free(cap.data);
    return out;
}

static bin_t
channel_header(void)
{
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;

    ch.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    ch.channel_id = "reso-events";
    ch.tx_id = "0123abcd";
    return pack(&ch.base);
}

static bin_t
signature_header(bin_t creator)
{
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    bin_t out;

    sh.creator = creator;
    out = pack(&sh.base);
    free(creator.data);
    return out;
}

static bin_t
creator(void)
{
    Msp__SerializedIdentity si = MSP__SERIALIZED_IDENTITY__INIT;

    si.mspid = "BrokerageMSP";
    si.id_bytes.data = (uint8_t *)"-----BEGIN CERTIFICATE-----\n";
    si.id_bytes.len = 28;
    return pack(&si.base);
}

/* Payload{Header{ch, sh}, data}; takes all three. */
static bin_t
in_payload(bin_t ch, bin_t sh, bin_t data)
{
    Common__Header hdr = COMMON__HEADER__INIT;
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    bin_t out;

    hdr.channel_header = ch;
    hdr.signature_header = sh;
    pl.header = &hdr;
    pl.data = data;
    out = pack(&pl.base);
    free(ch.data);
    free(sh.data);
    free(data.data);
    return out;
}

static bin_t
in_envelope(bin_t payload)
{
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    bin_t out;

    env.payload = payload;
    env.signature.data = (uint8_t *)"sig";
    env.signature.len = 3;
    out = pack(&env.base);
    free(payload.data);
    return out;
}

static bin_t
in_block(bin_t env, uint8_t code)
{
    Common__BlockHeader bh = COMMON__BLOCK_HEADER__INIT;
    Common__BlockData bd = COMMON__BLOCK_DATA__INIT;
    Common__BlockMetadata md = COMMON__BLOCK_METADATA__INIT;
    Common__Block blk = COMMON__BLOCK__INIT;
    bin_t meta[3], out;

    bh.number = 12;
    bd.n_data = 1;
    bd.data = &env;
    memset(meta, 0, sizeof(meta));
    meta[2].data = &code;
    meta[2].len = 1;
    md.n_metadata = 3;
    md.metadata = meta;
    blk.header = &bh;
    blk.data = &bd;
    blk.metadata = &md;
    out = pack(&blk.base);
    free(env.data);
    return out;
}

/* Wrap the input, standing for layer, into a whole block. */
static bin_t
wrap(int layer, const uint8_t *p, size_t n)
{
    bin_t b, empty = {0, NULL};

    b.data = malloc(n + 1);
    if (b.data == NULL)
        abort();
    if (n > 0)
        memcpy(b.data, p, n);
    b.len = n;
    if (layer == L_BLOCK)
        return b;
    /* The transaction path, innermost first. */
    switch (layer) {
    case L_EVENT:
        b = in_action(b);
        /* fall through */
    case L_CHAINCODE_ACTION:
        b = in_response_payload(b);
        /* fall through */
    case L_RESPONSE_PAYLOAD:
        b = in_action_payload(b);
        /* fall through */
    case L_ACTION_PAYLOAD:
        b = in_transaction(b);
        /* fall through */
    case L_TRANSACTION:
        b = in_payload(channel_header(), signature_header(creator()), b);
        break;
    /* The header path. */
    case L_CREATOR:
        b = in_payload(channel_header(), signature_header(b), empty);
        break;
    case L_SIGNATURE_HEADER:
        b = in_payload(channel_header(), b, empty);
        break;
    case L_CHANNEL_HEADER:
        b = in_payload(b, signature_header(creator()), empty);
        break;
    default:
        break;
    }
    if (layer != L_ENVELOPE)
        b = in_envelope(b);
    return in_block(b, (uint8_t)(n ? p[0] : 0));
}

/* Read every byte the parse produced, so ASan sees any bad pointer. */
static size_t
touch(const char *s, size_t len)
{
    size_t i, sum = 0;

    for (i = 0; i < len; i++)
        sum += (unsigned char)s[i];
    if (s[len] != '\0')
        __builtin_trap();
    return sum;
}

static size_t
walk(const hlf_block_t *b)
{
    size_t i, j, sum = 0;

    for (i = 0; i < b->ntx; i++) {
        const hlf_block_tx_t *t = &b->txs[i];

        if (t->index != i || t->validation_code < 0 ||
            t->validation_code > 255)
            __builtin_trap();
        sum += touch(t->tx_id, strlen(t->tx_id));
        sum += touch(t->channel, strlen(t->channel));
        sum += touch(t->creator_msp_id, strlen(t->creator_msp_id));
        sum += touch(t->creator_cert, t->creator_cert_len);
        if (t->error != NULL)
            sum += strlen(t->error);
        if (t->nactions > 0 &&
            t->type != HLF_HEADER_TYPE_ENDORSER_TRANSACTION)
            __builtin_trap();
        for (j = 0; j < t->nactions; j++) {
            const hlf_block_action_t *a = &t->actions[j];

            sum += touch(a->chaincode, strlen(a->chaincode));
            sum += touch(a->chaincode_version, strlen(a->chaincode_version));
            sum += touch(a->response_message, strlen(a->response_message));
            sum += touch((const char *)a->response_payload,
                         a->response_payload_len);
            if (a->event != NULL) {
                sum += touch(a->event->chaincode_id,
                             strlen(a->event->chaincode_id));
                sum += touch(a->event->tx_id, strlen(a->event->tx_id));
                sum += touch(a->event->event_name,
                             strlen(a->event->event_name));
                sum += touch((const char *)a->event->payload,
                             a->event->payload_len);
            }
        }
    }
    return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    volatile size_t sink;
    hlf_block_t *blk = NULL;
    hlf_error_t err;
    bin_t b;
    int rc;

    if (size < 1)
        return 0;
    b = wrap(data[0] % L_COUNT, data + 1, size - 1);
    rc = hlf_block_parse(b.data, b.len, &blk, &err);
    free(b.data);
    if (rc == HLF_OK) {
        sink = walk(blk);
        (void)sink;
    } else if (rc != HLF_EPROTO || blk != NULL ||
               memchr(err.text, '\0', sizeof(err.text)) == NULL) {
        __builtin_trap();
    }
    hlf_block_free(blk);
    return 0;
}
