/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proposal construction (innermost message first, each "bytes" field
 * holding the serialized inner message, as fabric-notes.md section 4.1
 * lists) and extraction of the chaincode result from the prepared
 * transaction the gateway returns after endorsement.
 */
#include "proposal.h"
#include "common/common.pb-c.h"
#include "hlf/mem.h"
#include "pb.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

#include <string.h>

/* Serialized intermediate messages, freed together at the end. */
enum { B_EXT, B_CHDR, B_SHDR, B_HDR, B_SPEC, B_PAYLOAD, B_COUNT };

typedef struct {
    uint8_t *data[B_COUNT];
    size_t len[B_COUNT];
} bufs_t;

static int
pack_into(bufs_t *b, int i, const ProtobufCMessage *m)
{
    return hlf__pb_pack(m, &b->data[i], &b->len[i]);
}

static ProtobufCBinaryData
bin(const void *data, size_t len)
{
    ProtobufCBinaryData d;

    d.data = (uint8_t *)(uintptr_t)data;
    d.len = len;
    return d;
}

/* Header{ChannelHeader, SignatureHeader} with the chaincode extension. */
static int
pack_header(const hlf_identity_t *id, const hlf__proposal_in_t *in,
            const char *tx_id, bufs_t *b)
{
    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    Protos__ChaincodeHeaderExtension ext =
        PROTOS__CHAINCODE_HEADER_EXTENSION__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    Common__Header hdr = COMMON__HEADER__INIT;
    const uint8_t *creator;
    size_t creator_len;

    ccid.name = (char *)in->chaincode;
    ext.chaincode_id = &ccid;
    if (pack_into(b, B_EXT, &ext.base) != HLF_OK)
        return HLF_ENOMEM;
    ts.seconds = in->ts_sec;
    ts.nanos = in->ts_nanos;
    ch.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
    ch.version = 0;
    ch.timestamp = &ts;
    ch.channel_id = (char *)in->channel;
    ch.tx_id = (char *)tx_id;
    ch.epoch = 0; /* the endorser rejects any other value */
    ch.extension = bin(b->data[B_EXT], b->len[B_EXT]);
    if (pack_into(b, B_CHDR, &ch.base) != HLF_OK)
        return HLF_ENOMEM;
    creator = hlf_identity_creator(id, &creator_len);
    sh.creator = bin(creator, creator_len);
    sh.nonce = bin(in->nonce, in->nonce_len);
    if (pack_into(b, B_SHDR, &sh.base) != HLF_OK)
        return HLF_ENOMEM;
    hdr.channel_header = bin(b->data[B_CHDR], b->len[B_CHDR]);
    hdr.signature_header = bin(b->data[B_SHDR], b->len[B_SHDR]);
    return pack_into(b, B_HDR, &hdr.base);
}

/* ChaincodeProposalPayload{ChaincodeInvocationSpec, TransientMap}. */
static int
pack_payload(const hlf__proposal_in_t *in, bufs_t *b)
{
    Protos__ChaincodeID ccid = PROTOS__CHAINCODE_ID__INIT;
    Protos__ChaincodeInput input = PROTOS__CHAINCODE_INPUT__INIT;
    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    Protos__ChaincodeInvocationSpec cis =
        PROTOS__CHAINCODE_INVOCATION_SPEC__INIT;
    Protos__ChaincodeProposalPayload pp =
        PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    Protos__ChaincodeProposalPayload__TransientMapEntry *entries = NULL;
    Protos__ChaincodeProposalPayload__TransientMapEntry **eps = NULL;
    ProtobufCBinaryData *args;
    size_t i;
    int rc = HLF_ENOMEM;

    args = hlf_calloc(in->nargs + 1, sizeof(*args));
    if (args == NULL)
        return HLF_ENOMEM;
    args[0] = bin(in->fn, strlen(in->fn));
    for (i = 0; i < in->nargs; i++)
        args[i + 1] = bin(in->args[i].data, in->args[i].len);
    ccid.name = (char *)in->chaincode;
    input.n_args = in->nargs + 1;
    input.args = args;
    spec.chaincode_id = &ccid;
    spec.input = &input;
    cis.chaincode_spec = &spec;
    if (pack_into(b, B_SPEC, &cis.base) != HLF_OK)
        goto done;
    pp.input = bin(b->data[B_SPEC], b->len[B_SPEC]);
    if (in->ntransient) {
        entries = hlf_calloc(in->ntransient, sizeof(*entries));
        eps = hlf_calloc(in->ntransient, sizeof(*eps));
        if (entries == NULL || eps == NULL)
            goto done;
        for (i = 0; i < in->ntransient; i++) {
            protos__chaincode_proposal_payload__transient_map_entry__init(
                &entries[i]);
            entries[i].key = (char *)in->transient[i].key;
            entries[i].value = bin(in->transient[i].value.data,
                                   in->transient[i].value.len);
            eps[i] = &entries[i];
        }
        pp.n_transientmap = in->ntransient;
        pp.transientmap = eps;
    }
    rc = pack_into(b, B_PAYLOAD, &pp.base);
done:
    hlf_free(args);
    hlf_free(entries);
    hlf_free(eps);
    return rc;
}

static int
check_in(const hlf__proposal_in_t *in, hlf_error_t *err)
{
    size_t i;

    if (in->channel == NULL || in->channel[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL, "proposal: no channel");
    if (in->chaincode == NULL || in->chaincode[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL, "proposal: no chaincode");
    if (in->fn == NULL || in->fn[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL,
                             "proposal: no transaction name");
    if (in->nonce == NULL || in->nonce_len == 0)
        return hlf_error_set(err, HLF_EINVAL, "proposal: empty nonce");
    if (in->nargs && in->args == NULL)
        return hlf_error_set(err, HLF_EINVAL, "proposal: args is NULL");
    for (i = 0; i < in->nargs; i++)
        if (in->args[i].data == NULL && in->args[i].len)
            return hlf_error_set(err, HLF_EINVAL,
                                 "proposal: argument %zu is NULL", i);
    if (in->ntransient && in->transient == NULL)
        return hlf_error_set(err, HLF_EINVAL, "proposal: transient is NULL");
    for (i = 0; i < in->ntransient; i++)
        if (in->transient[i].key == NULL ||
            (in->transient[i].value.data == NULL &&
             in->transient[i].value.len))
            return hlf_error_set(err, HLF_EINVAL,
                                 "proposal: transient entry %zu is NULL", i);
    return HLF_OK;
}

int
hlf__proposal_build(const hlf_identity_t *id, const hlf__proposal_in_t *in,
                    hlf__signed_proposal_t *out, hlf_error_t *err)
{
    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    const uint8_t *creator;
    size_t creator_len;
    bufs_t b;
    int rc, i;

    memset(out, 0, sizeof(*out));
    memset(&b, 0, sizeof(b));
    rc = check_in(in, err);
    if (rc != HLF_OK)
        return rc;
    creator = hlf_identity_creator(id, &creator_len);
    hlf_txid_compute(in->nonce, in->nonce_len, creator, creator_len,
                     out->tx_id);
    if (pack_header(id, in, out->tx_id, &b) != HLF_OK ||
        pack_payload(in, &b) != HLF_OK) {
        rc = hlf_error_set(err, HLF_ENOMEM, "proposal: out of memory");
        goto done;
    }
    prop.header = bin(b.data[B_HDR], b.len[B_HDR]);
    prop.payload = bin(b.data[B_PAYLOAD], b.len[B_PAYLOAD]);
    if (hlf__pb_pack(&prop.base, &out->proposal, &out->proposal_len) !=
        HLF_OK) {
        rc = hlf_error_set(err, HLF_ENOMEM, "proposal: out of memory");
        goto done;
    }
    rc = hlf_identity_sign(id, out->proposal, out->proposal_len,
                           &out->signature, &out->signature_len);
    if (rc != HLF_OK)
        hlf_error_set(err, rc, "proposal: signing failed (%s)",
                      hlf_strerror(rc));
done:
    for (i = 0; i < B_COUNT; i++)
        hlf_free(b.data[i]);
    if (rc != HLF_OK)
        hlf__signed_proposal_clear(out);
    return rc;
}

void
hlf__signed_proposal_clear(hlf__signed_proposal_t *sp)
{
    hlf_free(sp->proposal);
    hlf_free(sp->signature);
    memset(sp, 0, sizeof(*sp));
}

/* ------------------------------------------------------------------------
 * Prepared transactions
 * ---------------------------------------------------------------------- */

/* Everything unpacked on the way to the result, freed in one place. */
typedef struct {
    Common__Payload *payload;
    Common__ChannelHeader *ch;
    Protos__Transaction *tx;
    Protos__ChaincodeActionPayload *cap;
    Protos__ProposalResponsePayload *prp;
    Protos__ChaincodeAction *action;
} unpacked_t;

static void
unpacked_free(unpacked_t *u)
{
    HLF__PB_FREE(common__payload, u->payload);
    HLF__PB_FREE(common__channel_header, u->ch);
    HLF__PB_FREE(protos__transaction, u->tx);
    HLF__PB_FREE(protos__chaincode_action_payload, u->cap);
    HLF__PB_FREE(protos__proposal_response_payload, u->prp);
    HLF__PB_FREE(protos__chaincode_action, u->action);
}

/* Set err for a missing or malformed part named what. */
static int
malformed(hlf_error_t *err, const char *what)
{
    return hlf_error_set(err, HLF_EPROTO,
                         "prepared transaction: missing or malformed %s",
                         what);
}

int
hlf__prepared_result(const uint8_t *payload, size_t len, const char *tx_id,
                     hlf_bytes_t *result, hlf_error_t *err)
{
    unpacked_t u;
    const Protos__Response *resp;
    int rc = HLF_OK;

    memset(&u, 0, sizeof(u));
    result->data = NULL;
    result->len = 0;
    u.payload = HLF__PB_UNPACK(common__payload, len, payload);
    if (u.payload == NULL || u.payload->header == NULL) {
        rc = malformed(err, "payload");
        goto done;
    }
    u.ch = HLF__PB_UNPACK(common__channel_header,
                          u.payload->header->channel_header.len,
                          u.payload->header->channel_header.data);
    if (u.ch == NULL) {
        rc = malformed(err, "channel header");
        goto done;
    }
    if (strcmp(u.ch->tx_id, tx_id) != 0) {
        rc = hlf_error_set(err, HLF_EPROTO,
                           "prepared transaction is for tx %.64s, not %s",
                           u.ch->tx_id, tx_id);
        goto done;
    }
    u.tx = HLF__PB_UNPACK(protos__transaction, u.payload->data.len,
                          u.payload->data.data);
    if (u.tx == NULL || u.tx->n_actions == 0) {
        rc = malformed(err, "transaction action");
        goto done;
    }
    u.cap = HLF__PB_UNPACK(protos__chaincode_action_payload,
                           u.tx->actions[0]->payload.len,
                           u.tx->actions[0]->payload.data);
    if (u.cap == NULL || u.cap->action == NULL) {
        rc = malformed(err, "chaincode action payload");
        goto done;
    }
    u.prp = HLF__PB_UNPACK(protos__proposal_response_payload,
                           u.cap->action->proposal_response_payload.len,
                           u.cap->action->proposal_response_payload.data);
    if (u.prp == NULL) {
        rc = malformed(err, "proposal response payload");
        goto done;
    }
    u.action = HLF__PB_UNPACK(protos__chaincode_action, u.prp->extension.len,
                              u.prp->extension.data);
    if (u.action == NULL || u.action->response == NULL) {
        rc = malformed(err, "chaincode action");
        goto done;
    }
    resp = u.action->response;
    result->data = hlf_memdup(resp->payload.data, resp->payload.len);
    if (result->data == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "prepared transaction: "
                                            "out of memory");
        goto done;
    }
    result->len = resp->payload.len;
done:
    unpacked_free(&u);
    return rc;
}
