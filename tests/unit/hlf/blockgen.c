/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric block builders for tests (see blockgen.h). */
#include "blockgen.h"
#include "common/common.pb-c.h"
#include "msp/identities.pb-c.h"
#include "peer/chaincode_event.pb-c.h"
#include "peer/events.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"
#include "task.h"

/*
 * What a broken layer holds instead of its message: field 1 announcing 5
 * length-delimited bytes of which only 1 follows. No protobuf decoder can
 * accept it, whatever the message type.
 */
static const uint8_t garbage[] = {0x0a, 0x05, 0x01};

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *buf = malloc(protobuf_c_message_get_packed_size(m) + 1);

    ASSERT_NOT_NULL(buf);
    *len = protobuf_c_message_pack(m, buf);
    return buf;
}

/* Pack m, or garbage when this layer is the broken one. */
static ProtobufCBinaryData
layer(const ProtobufCMessage *m, int broken)
{
    ProtobufCBinaryData d;

    if (broken) {
        d.data = malloc(sizeof(garbage));
        ASSERT_NOT_NULL(d.data);
        memcpy(d.data, garbage, sizeof(garbage));
        d.len = sizeof(garbage);
        return d;
    }
    d.data = pack(m, &d.len);
    return d;
}

static ProtobufCBinaryData
bin(const void *p, size_t len)
{
    ProtobufCBinaryData d;

    d.data = (uint8_t *)(uintptr_t)p;
    d.len = len;
    return d;
}

/* One serialized ChaincodeActionPayload. */
static ProtobufCBinaryData
action_payload(const bg_tx_t *tx, const bg_action_t *a, int last)
{
    Protos__ChaincodeEvent ev = PROTOS__CHAINCODE_EVENT__INIT;
    Protos__ChaincodeID id = PROTOS__CHAINCODE_ID__INIT;
    Protos__Response resp = PROTOS__RESPONSE__INIT;
    Protos__ChaincodeAction ca = PROTOS__CHAINCODE_ACTION__INIT;
    Protos__ProposalResponsePayload prp =
        PROTOS__PROPOSAL_RESPONSE_PAYLOAD__INIT;
    Protos__Endorsement en = PROTOS__ENDORSEMENT__INIT, *ens[1] = {&en};
    Protos__ChaincodeEndorsedAction ea =
        PROTOS__CHAINCODE_ENDORSED_ACTION__INIT;
    Protos__ChaincodeActionPayload cap =
        PROTOS__CHAINCODE_ACTION_PAYLOAD__INIT;
    ProtobufCBinaryData evb = {0, NULL}, cab, prpb, out;
    bg_break_t br = last ? tx->broken : BG_INTACT;

    if (a->event_name != NULL) {
        /* As the peer stores it: chaincode and tx id filled in. */
        ev.chaincode_id = (char *)(a->chaincode ? a->chaincode : "");
        ev.tx_id = (char *)(tx->tx_id ? tx->tx_id : "");
        ev.event_name = (char *)a->event_name;
        ev.payload = bin(a->event_payload, a->event_len);
        evb = layer(&ev.base, br == BG_EVENT);
    }
    if (a->chaincode != NULL) {
        id.name = (char *)a->chaincode;
        id.version = (char *)(a->version ? a->version : "");
        ca.chaincode_id = &id;
    }
    if (!a->no_response) {
        resp.status = a->status;
        resp.message = (char *)(a->message ? a->message : "");
        resp.payload = bin(a->result, a->result_len);
        ca.response = &resp;
    }
    ca.results = bin("\x08\x01", 2); /* a read-write set is not parsed */
    ca.events = evb;
    cab = layer(&ca.base, br == BG_CHAINCODE_ACTION);
    prp.proposal_hash = bin("0123456789abcdef0123456789abcdef", 32);
    prp.extension = cab;
    prpb = layer(&prp.base, br == BG_RESPONSE_PAYLOAD);
    en.endorser = bin("endorser", 8);
    en.signature = bin("signature", 9);
    ea.proposal_response_payload = prpb;
    ea.n_endorsements = 1;
    ea.endorsements = ens;
    cap.chaincode_proposal_payload = bin("\x0a\x00", 2);
    cap.action = br == BG_NO_ENDORSED_ACTION ? NULL : &ea;
    out = layer(&cap.base, br == BG_ACTION_PAYLOAD);
    free(evb.data);
    free(cab.data);
    free(prpb.data);
    return out;
}

/* Payload.data of an endorser transaction. */
static ProtobufCBinaryData
transaction(const bg_tx_t *tx, ProtobufCBinaryData shdr)
{
    Protos__TransactionAction ta[BG_MAX_ACTIONS], *tas[BG_MAX_ACTIONS];
    Protos__Transaction t = PROTOS__TRANSACTION__INIT;
    ProtobufCBinaryData out;
    size_t i;

    ASSERT_LE(tx->nactions, BG_MAX_ACTIONS);
    for (i = 0; i < tx->nactions; i++) {
        protos__transaction_action__init(&ta[i]);
        ta[i].header = shdr;
        ta[i].payload =
            action_payload(tx, &tx->actions[i], i + 1 == tx->nactions);
        tas[i] = &ta[i];
    }
    t.n_actions = tx->broken == BG_NO_ACTIONS ? 0 : tx->nactions;
    t.actions = tas;
    out = layer(&t.base, tx->broken == BG_TRANSACTION);
    for (i = 0; i < tx->nactions; i++)
        free(ta[i].payload.data);
    return out;
}

uint8_t *
bg_envelope(const bg_tx_t *tx, size_t *len)
{
    Msp__SerializedIdentity si = MSP__SERIALIZED_IDENTITY__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    Common__Header hdr = COMMON__HEADER__INIT;
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    ProtobufCBinaryData sib = {0, NULL}, chb, shb, data, plb, envb;

    ts.seconds = tx->ts_sec;
    ts.nanos = tx->ts_nanos;
    ch.type = tx->type;
    ch.timestamp = &ts;
    ch.channel_id = (char *)(tx->channel ? tx->channel : "");
    ch.tx_id = (char *)(tx->tx_id ? tx->tx_id : "");
    chb = layer(&ch.base, tx->broken == BG_CHANNEL_HEADER);
    if (tx->msp_id != NULL) {
        si.mspid = (char *)tx->msp_id;
        si.id_bytes = bin(tx->cert, tx->cert ? strlen(tx->cert) : 0);
        sib = layer(&si.base, tx->broken == BG_CREATOR);
    }
    sh.creator = sib;
    sh.nonce = bin("nonce-nonce-nonce-nonce!", 24);
    shb = layer(&sh.base, tx->broken == BG_SIGNATURE_HEADER);
    if (tx->type == 3)
        data = transaction(tx, shb);
    else
        data = layer(&ch.base, 0); /* stands in for a ConfigEnvelope */
    hdr.channel_header = chb;
    hdr.signature_header = shb;
    pl.header = tx->broken == BG_NO_HEADER ? NULL : &hdr;
    pl.data = data;
    plb = layer(&pl.base, tx->broken == BG_PAYLOAD);
    env.payload = plb;
    env.signature = bin("signature", 9);
    envb = layer(&env.base, tx->broken == BG_ENVELOPE);
    free(sib.data);
    free(chb.data);
    free(shb.data);
    free(data.data);
    free(plb.data);
    *len = envb.len;
    return envb.data;
}

uint8_t *
bg_block(const bg_block_t *b, size_t *len)
{
    Common__BlockHeader bh = COMMON__BLOCK_HEADER__INIT;
    Common__BlockData bd = COMMON__BLOCK_DATA__INIT;
    Common__BlockMetadata md = COMMON__BLOCK_METADATA__INIT;
    Common__Block blk = COMMON__BLOCK__INIT;
    ProtobufCBinaryData *data = calloc(b->n + 1, sizeof(*data)), meta[5];
    uint8_t *out;
    size_t i;

    ASSERT_NOT_NULL(data);
    bh.number = b->number;
    bh.previous_hash = bin("previous-hash-previous-hash-0123", 32);
    bh.data_hash = bin("data-hash-data-hash-data-hash-01", 32);
    for (i = 0; i < b->n; i++)
        data[i] = bin(b->envs[i], b->lens[i]);
    bd.n_data = b->n;
    bd.data = data;
    meta[0] = bin("\x0a\x03sig", 5);
    meta[1] = bin("", 0);
    meta[2] = bin(b->codes, b->ncodes);
    meta[3] = bin("", 0);
    meta[4] = bin("\x0a\x04hash", 6);
    md.n_metadata = 5;
    md.metadata = meta;
    blk.header = b->no_header ? NULL : &bh;
    blk.data = b->no_data ? NULL : &bd;
    blk.metadata = b->metadata ? &md : NULL;
    out = pack(&blk.base, len);
    free(data);
    return out;
}

uint8_t *
bg_simple_block(uint64_t number, size_t n, size_t *len)
{
    uint8_t *envs[64], codes[64], *out;
    size_t lens[64], i;
    char tx_id[64], payload[64];
    bg_block_t b;
    bg_tx_t tx;

    ASSERT_LE(n, 64);
    for (i = 0; i < n; i++) {
        snprintf(tx_id, sizeof(tx_id), "tx-%llu-%zu",
                 (unsigned long long)number, i);
        snprintf(payload, sizeof(payload), "{\"block\":%llu,\"i\":%zu}",
                 (unsigned long long)number, i);
        memset(&tx, 0, sizeof(tx));
        tx.type = 3;
        tx.tx_id = tx_id;
        tx.channel = "reso-events";
        tx.ts_sec = 1700000000 + (int64_t)number;
        tx.ts_nanos = (int32_t)i;
        tx.msp_id = "BrokerageMSP";
        tx.cert = "-----BEGIN CERTIFICATE-----\nMIIB\n"
                  "-----END CERTIFICATE-----\n";
        tx.nactions = 1;
        tx.actions[0].chaincode = "reso";
        tx.actions[0].version = "1.0";
        tx.actions[0].status = 200;
        tx.actions[0].result = (const uint8_t *)payload;
        tx.actions[0].result_len = strlen(payload);
        tx.actions[0].event_name = "RecordEvent";
        tx.actions[0].event_payload = (const uint8_t *)payload;
        tx.actions[0].event_len = strlen(payload);
        envs[i] = bg_envelope(&tx, &lens[i]);
        codes[i] = 0;
    }
    memset(&b, 0, sizeof(b));
    b.number = number;
    b.envs = envs;
    b.lens = lens;
    b.n = n;
    b.metadata = 1;
    b.codes = codes;
    b.ncodes = n;
    out = bg_block(&b, len);
    for (i = 0; i < n; i++)
        free(envs[i]);
    return out;
}

uint8_t *
bg_deliver_block(const uint8_t *block, size_t block_len, size_t *len)
{
    Protos__DeliverResponse r = PROTOS__DELIVER_RESPONSE__INIT;
    Common__Block *b = common__block__unpack(NULL, block_len, block);
    uint8_t *out;

    ASSERT_NOT_NULL(b);
    r.type_case = PROTOS__DELIVER_RESPONSE__TYPE_BLOCK;
    r.block = b;
    out = pack(&r.base, len);
    common__block__free_unpacked(b, NULL);
    return out;
}

uint8_t *
bg_deliver_status(int status, size_t *len)
{
    Protos__DeliverResponse r = PROTOS__DELIVER_RESPONSE__INIT;

    r.type_case = PROTOS__DELIVER_RESPONSE__TYPE_STATUS;
    r.status = (Common__Status)status;
    return pack(&r.base, len);
}
