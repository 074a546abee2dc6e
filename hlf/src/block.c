/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block parser: common.Block bytes into an hlf_block_t, one layer at a
 * time as fabric-notes.md section 4.6 lists them (Envelope -> Payload ->
 * ChannelHeader and SignatureHeader -> SerializedIdentity; for endorser
 * transactions Transaction -> ChaincodeActionPayload ->
 * ProposalResponsePayload -> ChaincodeAction -> ChaincodeEvent), with the
 * validation code of each envelope from the TRANSACTIONS_FILTER metadata.
 *
 * Each intermediate message is unpacked, copied from and freed before the
 * next envelope, so at most one envelope's layers are in memory besides
 * the Block. What the caller keeps (strings, payloads, the arrays) is
 * copied into a per-block arena: one free releases it all, and since every
 * copied field is a distinct slice of the input the arena never outgrows
 * the block by more than its fixed per-transaction records.
 */
#include "block_int.h"
#include "hlf/mem.h"
#include "msp/identities.pb-c.h"
#include "peer/chaincode_event.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Allocation-tracking protobuf-c allocator
 * ---------------------------------------------------------------------- */

static void *
track_alloc(void *ud, size_t size)
{
    hlf__pb_track_t *t = ud;
    void *p = hlf_malloc(size ? size : 1);

    if (p == NULL)
        t->failed = 1;
    return p;
}

static void
track_free(void *ud, void *p)
{
    (void)ud;
    hlf_free(p);
}

void
hlf__pb_track_init(hlf__pb_track_t *t)
{
    t->base.alloc = track_alloc;
    t->base.free = track_free;
    t->base.allocator_data = t;
    t->failed = 0;
}

#define UNPACK(prefix, t, bin)                                               \
    prefix##__unpack(&(t)->base, (bin).len, (bin).data)
#define FREE(prefix, t, msg)                                                 \
    do {                                                                     \
        if ((msg) != NULL)                                                   \
            prefix##__free_unpacked((msg), &(t)->base);                      \
    } while (0)

/* ------------------------------------------------------------------------
 * Per-block arena
 * ---------------------------------------------------------------------- */

/* Small allocations share chunks of this size; bigger ones get their own. */
#define CHUNK_SIZE 8192
#define ALIGN (sizeof(max_align_t))

typedef struct chunk_s {
    struct chunk_s *next;
    size_t used;
    size_t cap;
    max_align_t data[];
} chunk_t;

/* The block as allocated: the public part first, so a pointer to it is a
 * pointer to the whole. */
typedef struct {
    hlf_block_t pub;
    chunk_t *chunks;
} block_t;

/* size bytes from the block's arena (aligned for any type), or NULL. */
static void *
arena_alloc(block_t *b, size_t size)
{
    chunk_t *c = b->chunks, *nc;
    size_t cap;

    if (size > SIZE_MAX / 2)
        return NULL;
    size = size ? (size + ALIGN - 1) / ALIGN * ALIGN : ALIGN;
    if (c != NULL && c->cap - c->used >= size) {
        c->used += size;
        return (unsigned char *)c->data + c->used - size;
    }
    cap = size > CHUNK_SIZE / 4 ? size : CHUNK_SIZE;
    nc = hlf_malloc(sizeof(*nc) + cap);
    if (nc == NULL)
        return NULL;
    nc->cap = cap;
    nc->used = size;
    if (cap == size && c != NULL) {
        /* A big one: keep the current chunk in front for small ones. */
        nc->next = c->next;
        c->next = nc;
    } else {
        nc->next = c;
        b->chunks = nc;
    }
    return nc->data;
}

/* A NUL-terminated copy of p[0..len) in the arena ("" if len is 0). */
static const char *
arena_copy(block_t *b, const void *p, size_t len)
{
    char *s;

    if (len == 0)
        return "";
    if (len == SIZE_MAX)
        return NULL;
    s = arena_alloc(b, len + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* Same for a protobuf-c string field (NULL counts as ""). */
static const char *
arena_str(block_t *b, const char *s)
{
    return s != NULL ? arena_copy(b, s, strlen(s)) : "";
}

/* An array of n records of size each, zeroed. */
static void *
arena_array(block_t *b, size_t n, size_t size)
{
    void *p;

    if (n > SIZE_MAX / 2 / size)
        return NULL;
    p = arena_alloc(b, n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

/* ------------------------------------------------------------------------
 * One envelope
 * ---------------------------------------------------------------------- */

/*
 * A layer of one envelope failed: HLF_ENOMEM if the unpack ran out of
 * memory, else record why in tx->error (a static string: hostile blocks
 * full of broken envelopes must not cost an allocation each) and return
 * HLF_EPROTO, which only ends the parsing of this envelope.
 */
static int
layer_failed(const hlf__pb_track_t *t, hlf_block_tx_t *tx, const char *why)
{
    if (t->failed)
        return HLF_ENOMEM;
    tx->error = why;
    return HLF_EPROTO;
}

/* Everything unpacked for one chaincode action, freed together. */
typedef struct {
    Protos__ChaincodeActionPayload *cap;
    Protos__ProposalResponsePayload *prp;
    Protos__ChaincodeAction *action;
    Protos__ChaincodeEvent *event;
} action_msgs_t;

static void
action_msgs_free(hlf__pb_track_t *t, action_msgs_t *m)
{
    FREE(protos__chaincode_action_payload, t, m->cap);
    FREE(protos__proposal_response_payload, t, m->prp);
    FREE(protos__chaincode_action, t, m->action);
    FREE(protos__chaincode_event, t, m->event);
}

/* Copy the event of a chaincode action into the arena. */
static int
copy_event(block_t *b, const Protos__ChaincodeEvent *e,
           hlf_block_action_t *a)
{
    hlf_chaincode_event_t *ev = arena_array(b, 1, sizeof(*ev));

    if (ev == NULL || (ev->chaincode_id = arena_str(b, e->chaincode_id)) ==
                          NULL ||
        (ev->tx_id = arena_str(b, e->tx_id)) == NULL ||
        (ev->event_name = arena_str(b, e->event_name)) == NULL ||
        (ev->payload = (const uint8_t *)arena_copy(b, e->payload.data,
                                                   e->payload.len)) == NULL)
        return HLF_ENOMEM;
    ev->payload_len = e->payload.len;
    a->event = ev;
    return HLF_OK;
}

/* Copy what the caller sees of a ChaincodeAction. */
static int
copy_action(block_t *b, const Protos__ChaincodeAction *ca,
            hlf_block_action_t *a)
{
    const Protos__ChaincodeID *id = ca->chaincode_id;
    const Protos__Response *r = ca->response;

    a->chaincode = id != NULL ? arena_str(b, id->name) : "";
    a->chaincode_version = id != NULL ? arena_str(b, id->version) : "";
    a->response_message = r != NULL ? arena_str(b, r->message) : "";
    a->response_payload =
        r != NULL
            ? (const uint8_t *)arena_copy(b, r->payload.data, r->payload.len)
            : (const uint8_t *)"";
    if (a->chaincode == NULL || a->chaincode_version == NULL ||
        a->response_message == NULL || a->response_payload == NULL)
        return HLF_ENOMEM;
    a->response_status = r != NULL ? r->status : 0;
    a->response_payload_len = r != NULL ? r->payload.len : 0;
    return HLF_OK;
}

/* TransactionAction.payload down to the chaincode event. */
static int
parse_action(block_t *b, hlf__pb_track_t *t,
             const Protos__TransactionAction *ta, hlf_block_tx_t *tx,
             hlf_block_action_t *a)
{
    action_msgs_t m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.cap = UNPACK(protos__chaincode_action_payload, t, ta->payload);
    if (m.cap == NULL) {
        rc = layer_failed(t, tx, "malformed ChaincodeActionPayload");
        goto done;
    }
    if (m.cap->action == NULL) {
        rc = layer_failed(t, tx, "ChaincodeActionPayload has no action");
        goto done;
    }
    m.prp = UNPACK(protos__proposal_response_payload, t,
                   m.cap->action->proposal_response_payload);
    if (m.prp == NULL) {
        rc = layer_failed(t, tx, "malformed ProposalResponsePayload");
        goto done;
    }
    m.action = UNPACK(protos__chaincode_action, t, m.prp->extension);
    if (m.action == NULL) {
        rc = layer_failed(t, tx, "malformed ChaincodeAction");
        goto done;
    }
    rc = copy_action(b, m.action, a);
    if (rc != HLF_OK || m.action->events.len == 0)
        goto done;
    m.event = UNPACK(protos__chaincode_event, t, m.action->events);
    if (m.event == NULL) {
        rc = layer_failed(t, tx, "malformed ChaincodeEvent");
        goto done;
    }
    rc = copy_event(b, m.event, a);
done:
    action_msgs_free(t, &m);
    return rc;
}

/* Everything unpacked for one envelope, freed together. */
typedef struct {
    Common__Envelope *env;
    Common__Payload *payload;
    Common__ChannelHeader *ch;
    Common__SignatureHeader *sh;
    Msp__SerializedIdentity *creator;
    Protos__Transaction *tx;
} tx_msgs_t;

static void
tx_msgs_free(hlf__pb_track_t *t, tx_msgs_t *m)
{
    FREE(common__envelope, t, m->env);
    FREE(common__payload, t, m->payload);
    FREE(common__channel_header, t, m->ch);
    FREE(common__signature_header, t, m->sh);
    FREE(msp__serialized_identity, t, m->creator);
    FREE(protos__transaction, t, m->tx);
}

static int
copy_channel_header(block_t *b, const Common__ChannelHeader *ch,
                    hlf_block_tx_t *tx)
{
    tx->type = ch->type;
    if (ch->timestamp != NULL) {
        tx->timestamp_sec = ch->timestamp->seconds;
        tx->timestamp_nanos = ch->timestamp->nanos;
    }
    tx->tx_id = arena_str(b, ch->tx_id);
    tx->channel = arena_str(b, ch->channel_id);
    return tx->tx_id != NULL && tx->channel != NULL ? HLF_OK : HLF_ENOMEM;
}

static int
copy_creator(block_t *b, const Msp__SerializedIdentity *si,
             hlf_block_tx_t *tx)
{
    tx->creator_msp_id = arena_str(b, si->mspid);
    tx->creator_cert = arena_copy(b, si->id_bytes.data, si->id_bytes.len);
    if (tx->creator_msp_id == NULL || tx->creator_cert == NULL)
        return HLF_ENOMEM;
    tx->creator_cert_len = si->id_bytes.len;
    return HLF_OK;
}

/* Transaction -> its chaincode actions (endorser transactions only). */
static int
parse_actions(block_t *b, hlf__pb_track_t *t, tx_msgs_t *m,
              hlf_block_tx_t *tx)
{
    hlf_block_action_t *actions;
    size_t i;
    int rc;

    m->tx = UNPACK(protos__transaction, t, m->payload->data);
    if (m->tx == NULL)
        return layer_failed(t, tx, "malformed Transaction");
    if (m->tx->n_actions == 0)
        return layer_failed(t, tx, "Transaction has no actions");
    actions = arena_array(b, m->tx->n_actions, sizeof(*actions));
    if (actions == NULL)
        return HLF_ENOMEM;
    tx->actions = actions;
    for (i = 0; i < m->tx->n_actions; i++) {
        rc = parse_action(b, t, m->tx->actions[i], tx, &actions[i]);
        if (rc != HLF_OK)
            return rc;
        tx->nactions = i + 1;
    }
    return HLF_OK;
}

/*
 * Fill tx from one envelope. HLF_OK, HLF_EPROTO (tx->error says where it
 * stopped; the block goes on) or HLF_ENOMEM (the block fails).
 */
static int
parse_tx(block_t *b, hlf__pb_track_t *t, const ProtobufCBinaryData *bytes,
         hlf_block_tx_t *tx)
{
    tx_msgs_t m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.env = UNPACK(common__envelope, t, *bytes);
    if (m.env == NULL) {
        rc = layer_failed(t, tx, "malformed Envelope");
        goto done;
    }
    m.payload = UNPACK(common__payload, t, m.env->payload);
    if (m.payload == NULL) {
        rc = layer_failed(t, tx, "malformed Payload");
        goto done;
    }
    if (m.payload->header == NULL) {
        rc = layer_failed(t, tx, "Payload has no header");
        goto done;
    }
    m.ch = UNPACK(common__channel_header, t,
                  m.payload->header->channel_header);
    if (m.ch == NULL) {
        rc = layer_failed(t, tx, "malformed ChannelHeader");
        goto done;
    }
    rc = copy_channel_header(b, m.ch, tx);
    if (rc != HLF_OK)
        goto done;
    m.sh = UNPACK(common__signature_header, t,
                  m.payload->header->signature_header);
    if (m.sh == NULL) {
        rc = layer_failed(t, tx, "malformed SignatureHeader");
        goto done;
    }
    if (m.sh->creator.len > 0) {
        m.creator = UNPACK(msp__serialized_identity, t, m.sh->creator);
        if (m.creator == NULL) {
            rc = layer_failed(t, tx,
                              "malformed SerializedIdentity (creator)");
            goto done;
        }
        rc = copy_creator(b, m.creator, tx);
        if (rc != HLF_OK)
            goto done;
    }
    if (tx->type == HLF_HEADER_TYPE_ENDORSER_TRANSACTION)
        rc = parse_actions(b, t, &m, tx);
done:
    tx_msgs_free(t, &m);
    return rc;
}

/* ------------------------------------------------------------------------
 * Blocks
 * ---------------------------------------------------------------------- */

void
hlf_block_free(hlf_block_t *blk)
{
    block_t *b = (block_t *)blk;
    chunk_t *c, *next;

    if (b == NULL)
        return;
    for (c = b->chunks; c != NULL; c = next) {
        next = c->next;
        hlf_free(c);
    }
    hlf_free(b);
}

/*
 * The TRANSACTIONS_FILTER bytes if there is exactly one per envelope, else
 * NULL (an empty block with an empty filter gets a non-NULL pointer).
 */
static const uint8_t *
validation_codes(const Common__Block *msg, size_t ntx)
{
    const Common__BlockMetadata *md = msg->metadata;
    const ProtobufCBinaryData *f;

    if (md == NULL ||
        md->n_metadata <= COMMON__BLOCK_METADATA_INDEX__TRANSACTIONS_FILTER)
        return NULL;
    f = &md->metadata[COMMON__BLOCK_METADATA_INDEX__TRANSACTIONS_FILTER];
    if (f->len != ntx)
        return NULL;
    return f->data != NULL ? f->data : (const uint8_t *)"";
}

int
hlf__block_from_msg(const Common__Block *msg, hlf_block_t **out,
                    hlf_error_t *err)
{
    hlf__pb_track_t t;
    const uint8_t *codes;
    hlf_block_tx_t *txs = NULL;
    block_t *b;
    size_t i, n;
    int rc;

    *out = NULL;
    if (msg->header == NULL)
        return hlf_error_set(err, HLF_EPROTO, "block: no BlockHeader");
    if (msg->data == NULL)
        return hlf_error_set(err, HLF_EPROTO, "block %llu: no BlockData",
                             (unsigned long long)msg->header->number);
    b = hlf_calloc(1, sizeof(*b));
    if (b == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "block: out of memory");
    hlf__pb_track_init(&t);
    n = msg->data->n_data;
    codes = validation_codes(msg, n);
    b->pub.number = msg->header->number;
    b->pub.validated = codes != NULL;
    if (n > 0 && (txs = arena_array(b, n, sizeof(*txs))) == NULL) {
        rc = HLF_ENOMEM;
        goto fail;
    }
    for (i = 0; i < n; i++) {
        txs[i].index = i;
        txs[i].type = HLF_HEADER_TYPE_UNKNOWN;
        txs[i].tx_id = txs[i].channel = "";
        txs[i].creator_msp_id = txs[i].creator_cert = "";
        txs[i].validation_code = codes != NULL ? codes[i]
                                               : HLF_TX_NOT_VALIDATED;
        rc = parse_tx(b, &t, &msg->data->data[i], &txs[i]);
        if (rc == HLF_ENOMEM)
            goto fail;
    }
    b->pub.ntx = n;
    b->pub.txs = txs;
    *out = &b->pub;
    return HLF_OK;
fail:
    hlf_block_free(&b->pub);
    return hlf_error_set(err, rc, "block %llu: out of memory",
                         (unsigned long long)msg->header->number);
}

int
hlf_block_parse(const uint8_t *data, size_t len, hlf_block_t **out,
                hlf_error_t *err)
{
    hlf__pb_track_t t;
    Common__Block *msg;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || (data == NULL && len > 0))
        return hlf_error_set(err, HLF_EINVAL, "block: NULL argument");
    hlf__pb_track_init(&t);
    msg = common__block__unpack(&t.base, len, data);
    if (msg == NULL)
        return t.failed ? hlf_error_set(err, HLF_ENOMEM,
                                        "block: out of memory")
                        : hlf_error_set(err, HLF_EPROTO,
                                        "block: malformed Block");
    rc = hlf__block_from_msg(msg, out, err);
    FREE(common__block, &t, msg);
    return rc;
}

const char *
hlf_header_type_name(int type)
{
    switch (type) {
#define XX(name, value)                                                      \
    case HLF_HEADER_TYPE_##name:                                             \
        return #name;
        HLF_HEADER_TYPE_MAP(XX)
#undef XX
    }
    return "UNKNOWN";
}
