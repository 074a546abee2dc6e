/* SPDX-License-Identifier: Apache-2.0 */
/* Fake Gateway service and reply builders (see fake_gateway.h). */
#include "fake_gateway.h"
#include "common/common.pb-c.h"
#include "gateway/gateway.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "orderer/ab.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"
#include "task.h"
#include "testutil.h"

#include <stdarg.h>

/* ------------------------------------------------------------------------
 * Builders
 * ---------------------------------------------------------------------- */

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *buf = malloc(protobuf_c_message_get_packed_size(m) + 1);

    ASSERT_NOT_NULL(buf);
    *len = protobuf_c_message_pack(m, buf);
    return buf;
}

static ProtobufCBinaryData
bin(uint8_t *data, size_t len)
{
    ProtobufCBinaryData b;

    b.data = data;
    b.len = len;
    return b;
}

uint8_t *
fg_status(int code, const char *message, const fg_detail_t *d, size_t n,
          int with_foreign, size_t *len)
{
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    Google__Protobuf__Any any[9], *anys[9];
    Gateway__ErrorDetail ed;
    uint8_t *bufs[9], *out;
    size_t i, k = 0;

    ASSERT_LE(n, 8);
    for (i = 0; i < n; i++, k++) {
        gateway__error_detail__init(&ed);
        ed.msp_id = (char *)d[i].msp_id;
        ed.address = (char *)d[i].address;
        ed.message = (char *)d[i].message;
        google__protobuf__any__init(&any[k]);
        any[k].type_url = "type.googleapis.com/gateway.ErrorDetail";
        bufs[k] = pack(&ed.base, &any[k].value.len);
        any[k].value.data = bufs[k];
        anys[k] = &any[k];
    }
    if (with_foreign) {
        google__protobuf__any__init(&any[k]);
        any[k].type_url = "type.googleapis.com/google.rpc.DebugInfo";
        bufs[k] = (uint8_t *)strdup("\x0a\x03xyz");
        any[k].value = bin(bufs[k], 5);
        anys[k] = &any[k];
        k++;
    }
    st.code = code;
    st.message = (char *)message;
    st.n_details = k;
    st.details = anys;
    out = pack(&st.base, len);
    for (i = 0; i < k; i++)
        free(bufs[i]);
    return out;
}

uint8_t *
fg_prepared_payload(const char *channel, const char *tx_id,
                    const uint8_t *result, size_t result_len, size_t *len)
{
    Protos__Response resp = PROTOS__RESPONSE__INIT;
    Protos__ChaincodeAction act = PROTOS__CHAINCODE_ACTION__INIT;
    Protos__ProposalResponsePayload prp =
        PROTOS__PROPOSAL_RESPONSE_PAYLOAD__INIT;
    Protos__ChaincodeEndorsedAction cea =
        PROTOS__CHAINCODE_ENDORSED_ACTION__INIT;
    Protos__ChaincodeActionPayload cap = PROTOS__CHAINCODE_ACTION_PAYLOAD__INIT;
    Protos__TransactionAction ta = PROTOS__TRANSACTION_ACTION__INIT, *tas[1];
    Protos__Transaction tx = PROTOS__TRANSACTION__INIT;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    Common__Header hdr = COMMON__HEADER__INIT;
    Common__Payload pl = COMMON__PAYLOAD__INIT;
    uint8_t *b[5], *out;
    int i;

    resp.status = 200;
    resp.payload = bin((uint8_t *)result, result_len);
    act.response = &resp;
    b[0] = pack(&act.base, &prp.extension.len);
    prp.extension.data = b[0];
    b[1] = pack(&prp.base, &cea.proposal_response_payload.len);
    cea.proposal_response_payload.data = b[1];
    cap.action = &cea;
    b[2] = pack(&cap.base, &ta.payload.len);
    ta.payload.data = b[2];
    tas[0] = &ta;
    tx.n_actions = 1;
    tx.actions = tas;
    b[3] = pack(&tx.base, &pl.data.len);
    pl.data.data = b[3];
    ch.type = 3;
    ch.channel_id = (char *)channel;
    ch.tx_id = (char *)tx_id;
    b[4] = pack(&ch.base, &hdr.channel_header.len);
    hdr.channel_header.data = b[4];
    pl.header = &hdr;
    out = pack(&pl.base, len);
    for (i = 0; i < 5; i++)
        free(b[i]);
    return out;
}

/* ------------------------------------------------------------------------
 * The fake service
 * ---------------------------------------------------------------------- */

void
fake_gateway_init(fake_gateway_t *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    g->channel = "reso-events";
    g->result = "{\"ok\":true}";
}

void
fake_gateway_destroy(fake_gateway_t *g)
{
    pthread_mutex_destroy(&g->lock);
}

/* Record a failed check; the reply becomes InvalidArgument. */
static int
bad(fake_gateway_t *g, fake_reply_t *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(fake_gateway_t *g, fake_reply_t *r, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&g->lock);
    g->bad_requests++;
    va_start(ap, fmt);
    vsnprintf(g->last_bad, sizeof(g->last_bad), fmt, ap);
    va_end(ap);
    r->status = 3;
    r->message = strdup(g->last_bad);
    pthread_mutex_unlock(&g->lock);
    return -1;
}

static int
check_sig(fake_gateway_t *g, fake_reply_t *r, const char *what,
          const ProtobufCBinaryData *msg, const ProtobufCBinaryData *sig)
{
    if (!tu_verify(g->signer, msg->data, msg->len, sig->data, sig->len))
        return bad(g, r, "%s: signature does not verify", what);
    if (!tu_is_low_s(sig->data, sig->len))
        return bad(g, r, "%s: signature is not low-S", what);
    return 0;
}

static int
check_creator(fake_gateway_t *g, fake_reply_t *r, const char *what,
              const ProtobufCBinaryData *c)
{
    if (c->len != g->creator_len || memcmp(c->data, g->creator, c->len))
        return bad(g, r, "%s: wrong creator", what);
    return 0;
}

static void
copy_str(char *dst, size_t size, const void *src, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Record fn and args from the proposal payload. */
static void
record_args(fake_gateway_t *g, const Protos__Proposal *prop)
{
    Protos__ChaincodeProposalPayload *pp;
    Protos__ChaincodeInvocationSpec *cis = NULL;
    Protos__ChaincodeInput *in;
    size_t i;

    pp = protos__chaincode_proposal_payload__unpack(NULL, prop->payload.len,
                                                    prop->payload.data);
    ASSERT_NOT_NULL(pp);
    cis = protos__chaincode_invocation_spec__unpack(NULL, pp->input.len,
                                                    pp->input.data);
    ASSERT_NOT_NULL(cis);
    in = cis->chaincode_spec->input;
    ASSERT(in->n_args >= 1);
    pthread_mutex_lock(&g->lock);
    copy_str(g->last_fn, sizeof(g->last_fn), in->args[0].data,
             in->args[0].len);
    g->last_nargs = in->n_args - 1;
    for (i = 1; i < in->n_args && i <= 4; i++)
        copy_str(g->last_args[i - 1], sizeof(g->last_args[0]),
                 in->args[i].data, in->args[i].len);
    pthread_mutex_unlock(&g->lock);
    protos__chaincode_invocation_spec__free_unpacked(cis, NULL);
    protos__chaincode_proposal_payload__free_unpacked(pp, NULL);
}

/* The endorser's checks (fabric-notes.md section 4.1). */
static int
check_proposal(fake_gateway_t *g, fake_reply_t *r,
               const Protos__SignedProposal *sp, const char *tx_id,
               const char *channel)
{
    Protos__Proposal *prop = NULL;
    Common__Header *hdr = NULL;
    Common__ChannelHeader *ch = NULL;
    Common__SignatureHeader *sh = NULL;
    char want[65];
    int rc = -1;

    if (sp == NULL)
        return bad(g, r, "no proposed transaction");
    if (check_sig(g, r, "proposal", &sp->proposal_bytes, &sp->signature))
        return -1;
    prop = protos__proposal__unpack(NULL, sp->proposal_bytes.len,
                                    sp->proposal_bytes.data);
    hdr = prop ? common__header__unpack(NULL, prop->header.len,
                                        prop->header.data)
               : NULL;
    ch = hdr ? common__channel_header__unpack(NULL, hdr->channel_header.len,
                                              hdr->channel_header.data)
             : NULL;
    sh = hdr ? common__signature_header__unpack(
                   NULL, hdr->signature_header.len,
                   hdr->signature_header.data)
             : NULL;
    if (ch == NULL || sh == NULL) {
        bad(g, r, "malformed proposal");
        goto done;
    }
    tu_sha256_hex(sh->nonce.data, sh->nonce.len, sh->creator.data,
                  sh->creator.len, want);
    if (ch->type != 3 || ch->epoch != 0)
        bad(g, r, "bad header type/epoch");
    else if (strcmp(ch->tx_id, want) != 0 || strcmp(ch->tx_id, tx_id) != 0)
        bad(g, r, "incorrectly computed txid '%s'", ch->tx_id);
    else if (strcmp(ch->channel_id, channel) != 0 ||
             strcmp(channel, g->channel) != 0)
        bad(g, r, "wrong channel %s", channel);
    else if (check_creator(g, r, "proposal", &sh->creator) == 0) {
        record_args(g, prop);
        pthread_mutex_lock(&g->lock);
        snprintf(g->last_tx_id, sizeof(g->last_tx_id), "%s", tx_id);
        pthread_mutex_unlock(&g->lock);
        rc = 0;
    }
done:
    if (sh)
        common__signature_header__free_unpacked(sh, NULL);
    if (ch)
        common__channel_header__free_unpacked(ch, NULL);
    if (hdr)
        common__header__free_unpacked(hdr, NULL);
    if (prop)
        protos__proposal__free_unpacked(prop, NULL);
    return rc;
}

static void
record_orgs(fake_gateway_t *g, char **orgs, size_t n)
{
    size_t i;

    pthread_mutex_lock(&g->lock);
    g->last_norgs = n;
    for (i = 0; i < n && i < 4; i++)
        snprintf(g->last_orgs[i], sizeof(g->last_orgs[0]), "%s", orgs[i]);
    pthread_mutex_unlock(&g->lock);
}

/* Make r a failure with the configured message and details. */
static int
fail(fake_gateway_t *g, fake_reply_t *r, int status)
{
    if (status == 0)
        return 0;
    r->status = status;
    r->message = strdup(g->message ? g->message : "failure");
    if (g->ndetails)
        r->details = fg_status(status, r->message, g->details, g->ndetails,
                               1, &r->details_len);
    return -1;
}

static void
evaluate(fake_gateway_t *g, const uint8_t *req, size_t len, fake_reply_t *r)
{
    Gateway__EvaluateRequest *in;
    Gateway__EvaluateResponse out = GATEWAY__EVALUATE_RESPONSE__INIT;
    Protos__Response resp = PROTOS__RESPONSE__INIT;

    in = gateway__evaluate_request__unpack(NULL, len, req);
    ASSERT_NOT_NULL(in);
    if (check_proposal(g, r, in->proposed_transaction, in->transaction_id,
                       in->channel_id) == 0) {
        record_orgs(g, in->target_organizations, in->n_target_organizations);
        if (fail(g, r, g->evaluate_status) == 0) {
            resp.status = 200;
            resp.payload = bin((uint8_t *)g->result, strlen(g->result));
            out.result = &resp;
            r->body = pack(&out.base, &r->body_len);
        }
    }
    gateway__evaluate_request__free_unpacked(in, NULL);
}

static void
endorse(fake_gateway_t *g, const uint8_t *req, size_t len, fake_reply_t *r)
{
    Gateway__EndorseRequest *in;
    Gateway__EndorseResponse out = GATEWAY__ENDORSE_RESPONSE__INIT;
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    const char *tx;

    in = gateway__endorse_request__unpack(NULL, len, req);
    ASSERT_NOT_NULL(in);
    if (check_proposal(g, r, in->proposed_transaction, in->transaction_id,
                       in->channel_id) == 0) {
        record_orgs(g, in->endorsing_organizations,
                    in->n_endorsing_organizations);
        if (fail(g, r, g->endorse_status) == 0) {
            tx = g->endorse_wrong_tx ? "0123456789abcdef0123456789abcdef"
                                       "0123456789abcdef0123456789abcdef"
                                     : in->transaction_id;
            env.payload.data = fg_prepared_payload(
                in->channel_id, tx, (const uint8_t *)g->result,
                strlen(g->result), &env.payload.len);
            if (!g->endorse_empty)
                out.prepared_transaction = &env;
            r->body = pack(&out.base, &r->body_len);
            free(env.payload.data);
        }
    }
    gateway__endorse_request__free_unpacked(in, NULL);
}

static void
submit(fake_gateway_t *g, const uint8_t *req, size_t len, fake_reply_t *r)
{
    Gateway__SubmitRequest *in;
    Gateway__SubmitResponse out = GATEWAY__SUBMIT_RESPONSE__INIT;
    Common__Payload *pl = NULL;
    Common__ChannelHeader *ch = NULL;

    in = gateway__submit_request__unpack(NULL, len, req);
    ASSERT_NOT_NULL(in);
    if (in->prepared_transaction == NULL) {
        bad(g, r, "no prepared transaction");
        goto done;
    }
    if (check_sig(g, r, "envelope", &in->prepared_transaction->payload,
                  &in->prepared_transaction->signature))
        goto done;
    pl = common__payload__unpack(NULL, in->prepared_transaction->payload.len,
                                 in->prepared_transaction->payload.data);
    ASSERT_NOT_NULL(pl);
    ch = common__channel_header__unpack(NULL, pl->header->channel_header.len,
                                        pl->header->channel_header.data);
    ASSERT_NOT_NULL(ch);
    if (strcmp(ch->tx_id, in->transaction_id) != 0 ||
        strcmp(in->channel_id, g->channel) != 0)
        bad(g, r, "submit: tx id or channel mismatch");
    else if (fail(g, r, g->submit_status) == 0)
        r->body = pack(&out.base, &r->body_len);
done:
    if (ch)
        common__channel_header__free_unpacked(ch, NULL);
    if (pl)
        common__payload__free_unpacked(pl, NULL);
    gateway__submit_request__free_unpacked(in, NULL);
}

static void
commit_status(fake_gateway_t *g, const uint8_t *req, size_t len,
              fake_reply_t *r)
{
    Gateway__SignedCommitStatusRequest *in;
    Gateway__CommitStatusRequest *csr = NULL;
    Gateway__CommitStatusResponse out = GATEWAY__COMMIT_STATUS_RESPONSE__INIT;

    in = gateway__signed_commit_status_request__unpack(NULL, len, req);
    ASSERT_NOT_NULL(in);
    if (check_sig(g, r, "commit status", &in->request, &in->signature))
        goto done;
    csr = gateway__commit_status_request__unpack(NULL, in->request.len,
                                                 in->request.data);
    ASSERT_NOT_NULL(csr);
    if (strcmp(csr->channel_id, g->channel) != 0 ||
        strlen(csr->transaction_id) != 64)
        bad(g, r, "commit status: bad channel or tx id");
    else if (check_creator(g, r, "commit status", &csr->identity) == 0 &&
             fail(g, r, g->commit_status) == 0) {
        out.result = (Protos__TxValidationCode)g->validation_code;
        out.block_number = g->block;
        r->body = pack(&out.base, &r->body_len);
    }
done:
    if (csr)
        gateway__commit_status_request__free_unpacked(csr, NULL);
    gateway__signed_commit_status_request__free_unpacked(in, NULL);
}

/* Block i of the stream: number base + i, i + 1 events. */
static uint8_t *
events_block(const char *cc, uint64_t number, size_t nevents, size_t *len)
{
    Gateway__ChaincodeEventsResponse out =
        GATEWAY__CHAINCODE_EVENTS_RESPONSE__INIT;
    Protos__ChaincodeEvent ev[4], *evs[4];
    char tx[4][65], payload[4][64];
    size_t j;

    ASSERT_LE(nevents, 4);
    for (j = 0; j < nevents; j++) {
        protos__chaincode_event__init(&ev[j]);
        snprintf(tx[j], sizeof(tx[j]), "tx-%llu-%zu",
                 (unsigned long long)number, j);
        snprintf(payload[j], sizeof(payload[j]), "{\"block\":%llu,\"i\":%zu}",
                 (unsigned long long)number, j);
        ev[j].chaincode_id = (char *)cc;
        ev[j].tx_id = tx[j];
        ev[j].event_name = "EventRecorded";
        ev[j].payload = bin((uint8_t *)payload[j], strlen(payload[j]));
        evs[j] = &ev[j];
    }
    out.n_events = nevents;
    out.events = evs;
    out.block_number = number;
    return pack(&out.base, len);
}

static void
chaincode_events(fake_gateway_t *g, const uint8_t *req, size_t len,
                 fake_reply_t *r)
{
    Gateway__SignedChaincodeEventsRequest *in;
    Gateway__ChaincodeEventsRequest *cer = NULL;
    uint64_t base = 100;
    size_t i;

    r->streaming = 1;
    /* A client that cancels right after opening the stream may do so
     * before its request message is sent; the call then arrives with no
     * message at all. That is a cancelled call, not a malformed request. */
    if (len == 0)
        return;
    in = gateway__signed_chaincode_events_request__unpack(NULL, len, req);
    ASSERT_NOT_NULL(in);
    if (check_sig(g, r, "chaincode events", &in->request, &in->signature))
        goto done;
    cer = gateway__chaincode_events_request__unpack(NULL, in->request.len,
                                                    in->request.data);
    ASSERT_NOT_NULL(cer);
    if (strcmp(cer->channel_id, g->channel) != 0 ||
        cer->start_position == NULL) {
        bad(g, r, "chaincode events: bad channel or no start position");
        goto done;
    }
    if (check_creator(g, r, "chaincode events", &cer->identity) != 0)
        goto done;
    pthread_mutex_lock(&g->lock);
    snprintf(g->events_chaincode, sizeof(g->events_chaincode), "%s",
             cer->chaincode_id);
    snprintf(g->events_after, sizeof(g->events_after), "%s",
             cer->after_transaction_id);
    g->events_start_set = cer->start_position->type_case ==
                          ORDERER__SEEK_POSITION__TYPE_SPECIFIED;
    if (g->events_start_set) {
        g->events_start = cer->start_position->specified->number;
        base = g->events_start;
    } else if (cer->start_position->type_case !=
               ORDERER__SEEK_POSITION__TYPE_NEXT_COMMIT) {
        g->events_start_set = -1;
    }
    pthread_mutex_unlock(&g->lock);
    for (i = 0; i < g->nblocks && i < FAKE_MAX_STREAM; i++)
        r->stream[i] = events_block(cer->chaincode_id, base + i, i % 3 + 1,
                                    &r->stream_len[i]);
    r->nstream = i;
    r->hold_open = g->events_hold;
    fail(g, r, g->events_status);
done:
    if (cer)
        gateway__chaincode_events_request__free_unpacked(cer, NULL);
    gateway__signed_chaincode_events_request__free_unpacked(in, NULL);
}

void
fake_gateway_handler(void *ud, const char *method, const uint8_t *req,
                     size_t len, fake_reply_t *r)
{
    fake_gateway_t *g = ud;

    if (strcmp(method, "/gateway.Gateway/Evaluate") == 0)
        evaluate(g, req, len, r);
    else if (strcmp(method, "/gateway.Gateway/Endorse") == 0)
        endorse(g, req, len, r);
    else if (strcmp(method, "/gateway.Gateway/Submit") == 0)
        submit(g, req, len, r);
    else if (strcmp(method, "/gateway.Gateway/CommitStatus") == 0)
        commit_status(g, req, len, r);
    else if (strcmp(method, "/gateway.Gateway/ChaincodeEvents") == 0)
        chaincode_events(g, req, len, r);
    else {
        r->status = 12; /* Unimplemented */
        r->message = strdup(method);
    }
}
