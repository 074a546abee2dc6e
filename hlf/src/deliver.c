/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block streams from a peer's Deliver service: the signed seek envelope
 * (fabric-notes.md section 4.5), decoding of each DeliverResponse into a
 * parsed block or the final status, and the checks that keep a reader's
 * checkpoint honest (blocks strictly in sequence, nothing past the stop
 * block, a status at the end).
 */
#include "hlf/deliver.h"
#include "block_int.h"
#include "gateway_int.h"
#include "hlf/mem.h"
#include "orderer/ab.pb-c.h"
#include "pb.h"
#include "peer/events.pb-c.h"
#include "rpc.h"

#include <string.h>
#include <time.h>

#define DELIVER_METHOD "/protos.Deliver/Deliver"

struct hlf_blocks_s {
    hlf__stream_t *stream;
    char *channel;
    int has_next;      /* the number of the next block is known */
    uint64_t next;     /* and this is it */
    int has_stop;
    uint64_t stop;
    int result;        /* 1 while the stream runs, then 0 or the error */
    hlf_error_t final_err;
};

/* ------------------------------------------------------------------------
 * The seek request
 * ---------------------------------------------------------------------- */

/* Serialized intermediate messages of the request, freed together. */
enum { B_SEEK, B_CHDR, B_SHDR, B_COUNT };

typedef struct {
    uint8_t *data[B_COUNT];
    size_t len[B_COUNT];
} bufs_t;

/* SeekInfo{start, stop, BLOCK_UNTIL_READY} into b->data[B_SEEK]. */
static int
pack_seek_info(const hlf_blocks_opts_t *o, bufs_t *b)
{
    Orderer__SeekInfo si = ORDERER__SEEK_INFO__INIT;
    Orderer__SeekPosition start = ORDERER__SEEK_POSITION__INIT;
    Orderer__SeekPosition stop = ORDERER__SEEK_POSITION__INIT;
    Orderer__SeekSpecified start_at = ORDERER__SEEK_SPECIFIED__INIT;
    Orderer__SeekSpecified stop_at = ORDERER__SEEK_SPECIFIED__INIT;
    Orderer__SeekNextCommit next = ORDERER__SEEK_NEXT_COMMIT__INIT;

    if (o->has_start_block) {
        start_at.number = o->start_block;
        start.type_case = ORDERER__SEEK_POSITION__TYPE_SPECIFIED;
        start.specified = &start_at;
    } else {
        start.type_case = ORDERER__SEEK_POSITION__TYPE_NEXT_COMMIT;
        start.next_commit = &next;
    }
    /* "Never stop" is the largest block number, as the Go SDK does it. */
    stop_at.number = o->has_stop_block ? o->stop_block : UINT64_MAX;
    stop.type_case = ORDERER__SEEK_POSITION__TYPE_SPECIFIED;
    stop.specified = &stop_at;
    si.start = &start;
    si.stop = &stop;
    si.behavior = ORDERER__SEEK_INFO__SEEK_BEHAVIOR__BLOCK_UNTIL_READY;
    return hlf__pb_pack(&si.base, &b->data[B_SEEK], &b->len[B_SEEK]);
}

/* ChannelHeader and SignatureHeader of the request into b. */
static int
pack_headers(const hlf_identity_t *id, const char *channel,
             const hlf_blocks_opts_t *o, bufs_t *b, hlf_error_t *err)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    uint8_t nonce[HLF_NONCE_LEN];
    char tx_id[HLF_TXID_LEN + 1];
    const uint8_t *creator;
    size_t creator_len;
    struct timespec now;

    /* A tx id is optional here; it lets peer logs name the request. */
    if (hlf_txid_new(id, nonce, tx_id) != HLF_OK)
        return hlf_error_set(err, HLF_ECRYPTO, "deliver: no random nonce");
    clock_gettime(CLOCK_REALTIME, &now);
    ts.seconds = (int64_t)now.tv_sec;
    ts.nanos = (int32_t)now.tv_nsec;
    ch.type = COMMON__HEADER_TYPE__DELIVER_SEEK_INFO;
    ch.version = 0;
    ch.timestamp = &ts;
    ch.channel_id = (char *)channel;
    ch.tx_id = tx_id;
    ch.epoch = 0;
    if (o->tls_cert_hash != NULL)
        ch.tls_cert_hash = hlf__pb_bin(o->tls_cert_hash, o->tls_cert_hash_len);
    creator = hlf_identity_creator(id, &creator_len);
    sh.creator = hlf__pb_bin(creator, creator_len);
    sh.nonce = hlf__pb_bin(nonce, sizeof(nonce));
    if (hlf__pb_pack(&ch.base, &b->data[B_CHDR], &b->len[B_CHDR]) !=
            HLF_OK ||
        hlf__pb_pack(&sh.base, &b->data[B_SHDR], &b->len[B_SHDR]) != HLF_OK)
        return hlf_error_set(err, HLF_ENOMEM, "deliver: out of memory");
    return HLF_OK;
}

/*
 * The serialized, signed seek Envelope (new, *len bytes). Envelope{
 * payload=1, signature=2} has the wire shape of the Gateway's signed
 * requests {request=1, signature=2}, so hlf__sign_request packs and signs
 * the Payload into exactly that.
 */
static int
seek_envelope(const hlf_identity_t *id, const char *channel,
              const hlf_blocks_opts_t *o, uint8_t **out, size_t *len,
              hlf_error_t *err)
{
    Common__Header hdr = COMMON__HEADER__INIT;
    Common__Payload payload = COMMON__PAYLOAD__INIT;
    bufs_t b;
    int rc, i;

    memset(&b, 0, sizeof(b));
    rc = pack_headers(id, channel, o, &b, err);
    if (rc != HLF_OK)
        goto done;
    if (pack_seek_info(o, &b) != HLF_OK) {
        rc = hlf_error_set(err, HLF_ENOMEM, "deliver: out of memory");
        goto done;
    }
    hdr.channel_header = hlf__pb_bin(b.data[B_CHDR], b.len[B_CHDR]);
    hdr.signature_header = hlf__pb_bin(b.data[B_SHDR], b.len[B_SHDR]);
    payload.header = &hdr;
    payload.data = hlf__pb_bin(b.data[B_SEEK], b.len[B_SEEK]);
    rc = hlf__sign_request(id, &payload.base, out, len, err);
done:
    for (i = 0; i < B_COUNT; i++)
        hlf_free(b.data[i]);
    return rc;
}

int
hlf_network_block_events(hlf_network_t *net, const hlf_blocks_opts_t *opts,
                         hlf_blocks_t **out, hlf_error_t *err)
{
    static const hlf_blocks_opts_t defaults;
    hlf_blocks_t *s = NULL;
    uint8_t *env = NULL;
    size_t len = 0;
    int rc;

    hlf__op_begin(err, NULL);
    if (out != NULL)
        *out = NULL;
    if (net == NULL || out == NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "deliver: network and output are required");
    if (opts == NULL)
        opts = &defaults;
    if (opts->has_start_block && opts->has_stop_block &&
        opts->stop_block < opts->start_block)
        return hlf_error_set(err, HLF_EINVAL,
                             "deliver: stop block %llu before start block "
                             "%llu",
                             (unsigned long long)opts->stop_block,
                             (unsigned long long)opts->start_block);
    if (opts->tls_cert_hash == NULL && opts->tls_cert_hash_len > 0)
        return hlf_error_set(err, HLF_EINVAL,
                             "deliver: tls_cert_hash is NULL");
    rc = seek_envelope(net->gw->id, net->name, opts, &env, &len, err);
    if (rc != HLF_OK)
        return rc;
    s = hlf_calloc(1, sizeof(*s));
    if (s == NULL || (s->channel = hlf_strdup(net->name)) == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "deliver: out of memory");
        goto fail;
    }
    s->has_next = opts->has_start_block;
    s->next = opts->start_block;
    s->has_stop = opts->has_stop_block;
    s->stop = opts->stop_block;
    s->result = 1;
    rc = hlf__rpc_stream_open(net->gw->conn, DELIVER_METHOD, env, len,
                              &s->stream, err);
    if (rc != HLF_OK)
        goto fail;
    hlf_free(env);
    *out = s;
    return HLF_OK;
fail:
    hlf_free(env);
    if (s != NULL)
        hlf_free(s->channel);
    hlf_free(s);
    return rc;
}

/* ------------------------------------------------------------------------
 * Reading the stream
 * ---------------------------------------------------------------------- */

/* The Deliver status that ended the stream, as a result of next(). */
static int
status_result(const hlf_blocks_t *s, int status, hlf_error_t *err)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&common__status__descriptor,
                                             status);
    const char *name = v != NULL ? v->name : "UNKNOWN";
    int code;

    switch (status) {
    case COMMON__STATUS__SUCCESS:
        return 0;
    case COMMON__STATUS__FORBIDDEN:
        code = HLF_EPERM;
        break;
    case COMMON__STATUS__NOT_FOUND:
        code = HLF_ENOTFOUND;
        break;
    case COMMON__STATUS__SERVICE_UNAVAILABLE:
        code = HLF_EUNAVAIL;
        break;
    default:
        code = HLF_EGRPC;
        break;
    }
    return hlf_error_set(err, code, "Deliver %s: %s (%d)", s->channel, name,
                         status);
}

/* A block from the stream: parse it and check its place in sequence. */
static int
take_block(hlf_blocks_t *s, const Common__Block *msg, hlf_block_t **blk,
           hlf_error_t *err)
{
    uint64_t n;
    int rc;

    rc = hlf__block_from_msg(msg, blk, err);
    if (rc != HLF_OK)
        return hlf_error_prefix(err, "Deliver %s", s->channel);
    n = (*blk)->number;
    if ((s->has_next && n != s->next) || (s->has_stop && n > s->stop)) {
        rc = s->has_next && n != s->next
                 ? hlf_error_set(err, HLF_EPROTO,
                                 "Deliver %s: expected block %llu, got "
                                 "block %llu",
                                 s->channel, (unsigned long long)s->next,
                                 (unsigned long long)n)
                 : hlf_error_set(err, HLF_EPROTO,
                                 "Deliver %s: block %llu after the stop "
                                 "block %llu",
                                 s->channel, (unsigned long long)n,
                                 (unsigned long long)s->stop);
        hlf_block_free(*blk);
        *blk = NULL;
        return rc;
    }
    s->has_next = 1;
    s->next = n + 1;
    return 1;
}

/* One message from the peer: 1 with a block, else the end of the stream. */
static int
next_response(hlf_blocks_t *s, hlf_block_t **blk, hlf_error_t *err)
{
    Protos__DeliverResponse *resp;
    hlf__pb_track_t t;
    uint8_t *msg;
    size_t len;
    int rc;

    rc = hlf__rpc_stream_next(s->stream, &msg, &len, err);
    if (rc == 0)
        return hlf_error_set(err, HLF_EPROTO,
                             "Deliver %s: stream ended without a status",
                             s->channel);
    if (rc != 1)
        return rc;
    hlf__pb_track_init(&t);
    resp = protos__deliver_response__unpack(&t.base, len, msg);
    hlf_free(msg);
    if (resp == NULL)
        return t.failed ? hlf_error_set(err, HLF_ENOMEM,
                                        "Deliver %s: out of memory",
                                        s->channel)
                        : hlf_error_set(err, HLF_EPROTO,
                                        "Deliver %s: malformed "
                                        "DeliverResponse",
                                        s->channel);
    switch (resp->type_case) {
    case PROTOS__DELIVER_RESPONSE__TYPE_BLOCK:
        rc = take_block(s, resp->block, blk, err);
        break;
    case PROTOS__DELIVER_RESPONSE__TYPE_STATUS:
        rc = status_result(s, (int)resp->status, err);
        break;
    default:
        rc = hlf_error_set(err, HLF_EPROTO,
                           "Deliver %s: DeliverResponse with neither a "
                           "block nor a status",
                           s->channel);
        break;
    }
    protos__deliver_response__free_unpacked(resp, &t.base);
    return rc;
}

int
hlf_blocks_next(hlf_blocks_t *s, hlf_block_t **blk, hlf_error_t *err)
{
    hlf_error_t e;
    int rc;

    if (blk != NULL)
        *blk = NULL;
    if (s == NULL || blk == NULL)
        return hlf_error_set(err, HLF_EINVAL, "deliver: NULL argument");
    hlf_error_clear(err);
    if (s->result != 1) {
        if (err != NULL)
            *err = s->final_err;
        return s->result;
    }
    hlf_error_clear(&e);
    rc = next_response(s, blk, &e);
    if (rc == 1)
        return 1;
    /*
     * The stream is over for good: remember why, and stop the call (the
     * peer may not have ended it, e.g. after a block out of sequence).
     */
    s->result = rc;
    s->final_err = e;
    hlf__rpc_stream_cancel(s->stream);
    if (err != NULL)
        *err = e;
    return rc;
}

void
hlf_blocks_cancel(hlf_blocks_t *s)
{
    if (s != NULL)
        hlf__rpc_stream_cancel(s->stream);
}

void
hlf_blocks_close(hlf_blocks_t *s)
{
    if (s == NULL)
        return;
    hlf__rpc_stream_close(s->stream);
    hlf_free(s->channel);
    hlf_free(s);
}
