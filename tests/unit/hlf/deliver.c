/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/deliver.c through the public API, against a fake
 * Deliver service on the in-process gRPC server. The fake checks the seek
 * envelope the way a peer would (signature by the creator's key, low-S,
 * header type, channel, epoch, timestamp, tx id, seek positions) and then
 * streams the DeliverResponses the test chose: blocks, a status, a gRPC
 * error, or nothing until the client cancels.
 */
#include "blockgen.h"
#include "common/common.pb-c.h"
#include "fake_server.h"
#include "hlf/hlf.h" /* the umbrella header must compile on its own */
#include "msp/identities.pb-c.h"
#include "orderer/ab.pb-c.h"
#include "task.h"
#include "testutil.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define METHOD "/protos.Deliver/Deliver"

/* The fake Deliver service: the reply is set by the test, the request as
 * seen by the fake is recorded (under lock). */
typedef struct {
    EVP_PKEY *signer;
    const uint8_t *creator;
    size_t creator_len;
    /* Reply. */
    uint8_t *msgs[FAKE_MAX_STREAM]; /* DeliverResponses, owned here */
    size_t lens[FAKE_MAX_STREAM];
    size_t nmsgs;
    int hold;                       /* then wait for the client to cancel */
    int grpc_status;
    const char *grpc_message;
    /* Seen. */
    pthread_mutex_t lock;
    int requests;
    int bad;
    char last_bad[256];
    char channel[64];
    int start_case;
    uint64_t start;
    int stop_case;
    uint64_t stop;
    int behavior;
    size_t tls_hash_len;
    uint8_t tls_hash[32];
} fake_deliver_t;

static void
bad(fake_deliver_t *d, const char *why)
{
    d->bad++;
    snprintf(d->last_bad, sizeof(d->last_bad), "%s", why);
}

/* Check one seek envelope as a peer would; record what it asks for. */
static void
check_request(fake_deliver_t *d, const uint8_t *req, size_t len)
{
    Common__Envelope *env = common__envelope__unpack(NULL, len, req);
    Common__Payload *pl = NULL;
    Common__ChannelHeader *ch = NULL;
    Common__SignatureHeader *sh = NULL;
    Orderer__SeekInfo *si = NULL;
    char want[65];

    if (env == NULL) {
        bad(d, "malformed Envelope");
        return;
    }
    if (!tu_verify(d->signer, env->payload.data, env->payload.len,
                   env->signature.data, env->signature.len) ||
        !tu_is_low_s(env->signature.data, env->signature.len))
        bad(d, "bad signature");
    pl = common__payload__unpack(NULL, env->payload.len, env->payload.data);
    if (pl == NULL || pl->header == NULL) {
        bad(d, "malformed Payload");
        goto done;
    }
    ch = common__channel_header__unpack(NULL, pl->header->channel_header.len,
                                        pl->header->channel_header.data);
    sh = common__signature_header__unpack(
        NULL, pl->header->signature_header.len,
        pl->header->signature_header.data);
    si = orderer__seek_info__unpack(NULL, pl->data.len, pl->data.data);
    if (ch == NULL || sh == NULL || si == NULL || si->start == NULL ||
        si->stop == NULL) {
        bad(d, "malformed header or SeekInfo");
        goto done;
    }
    if (ch->type != 5 || ch->version != 0 || ch->epoch != 0)
        bad(d, "channel header type/version/epoch");
    if (ch->timestamp == NULL ||
        labs((long)(ch->timestamp->seconds - time(NULL))) > 60 ||
        ch->timestamp->nanos < 0 || ch->timestamp->nanos > 999999999)
        bad(d, "timestamp not now");
    if (sh->creator.len != d->creator_len ||
        memcmp(sh->creator.data, d->creator, d->creator_len) != 0)
        bad(d, "creator");
    if (sh->nonce.len != 24)
        bad(d, "nonce");
    tu_sha256_hex(sh->nonce.data, sh->nonce.len, sh->creator.data,
                  sh->creator.len, want);
    if (strcmp(ch->tx_id, want) != 0)
        bad(d, "tx id is not SHA-256(nonce || creator)");
    snprintf(d->channel, sizeof(d->channel), "%s", ch->channel_id);
    d->tls_hash_len = ch->tls_cert_hash.len;
    if (ch->tls_cert_hash.len > 0 &&
        ch->tls_cert_hash.len <= sizeof(d->tls_hash))
        memcpy(d->tls_hash, ch->tls_cert_hash.data, ch->tls_cert_hash.len);
    d->start_case = si->start->type_case;
    if (si->start->type_case == ORDERER__SEEK_POSITION__TYPE_SPECIFIED)
        d->start = si->start->specified->number;
    d->stop_case = si->stop->type_case;
    if (si->stop->type_case == ORDERER__SEEK_POSITION__TYPE_SPECIFIED)
        d->stop = si->stop->specified->number;
    d->behavior = si->behavior;
    if (si->error_response != 0 || si->content_type != 0)
        bad(d, "error_response/content_type");
done:
    orderer__seek_info__free_unpacked(si, NULL);
    common__signature_header__free_unpacked(sh, NULL);
    common__channel_header__free_unpacked(ch, NULL);
    common__payload__free_unpacked(pl, NULL);
    common__envelope__free_unpacked(env, NULL);
}

static void
deliver_handler(void *ud, const char *method, const uint8_t *req, size_t len,
                fake_reply_t *r)
{
    fake_deliver_t *d = ud;
    size_t i;

    pthread_mutex_lock(&d->lock);
    d->requests++;
    if (strcmp(method, METHOD) != 0)
        bad(d, method);
    check_request(d, req, len);
    if (d->grpc_status != 0) {
        r->status = d->grpc_status;
        r->message = strdup(d->grpc_message ? d->grpc_message : "");
        pthread_mutex_unlock(&d->lock);
        return;
    }
    r->streaming = 1;
    for (i = 0; i < d->nmsgs; i++) {
        r->stream[i] = fake_dup(d->msgs[i], d->lens[i]);
        r->stream_len[i] = d->lens[i];
    }
    r->nstream = d->nmsgs;
    r->hold_open = d->hold;
    pthread_mutex_unlock(&d->lock);
}

/* Queue a reply message (takes msg). */
static void
reply(fake_deliver_t *d, uint8_t *msg, size_t len)
{
    ASSERT(d->nmsgs < FAKE_MAX_STREAM);
    d->msgs[d->nmsgs] = msg;
    d->lens[d->nmsgs++] = len;
}

static void
reply_block(fake_deliver_t *d, uint64_t number, size_t ntx)
{
    size_t blen, len;
    uint8_t *b = bg_simple_block(number, ntx, &blen);
    uint8_t *msg = bg_deliver_block(b, blen, &len);

    reply(d, msg, len);
    free(b);
}

static void
reply_status(fake_deliver_t *d, int status)
{
    size_t len;
    uint8_t *msg = bg_deliver_status(status, &len);

    reply(d, msg, len);
}

static void
reply_clear(fake_deliver_t *d)
{
    size_t i;

    for (i = 0; i < d->nmsgs; i++)
        free(d->msgs[i]);
    d->nmsgs = 0;
    d->hold = 0;
    d->grpc_status = 0;
}

/* One fake peer, one connection, one gateway on channel reso-events. */
typedef struct {
    tu_msp_t msp;
    hlf_identity_t *id;
    fake_deliver_t fd;
    fake_server_t *fs;
    hlf_conn_t *conn;
    hlf_gateway_t *gw;
    hlf_network_t *net;
} env_t;

static void
env_up(env_t *v)
{
    hlf_conn_opts_t co;
    hlf_gateway_opts_t go;
    hlf_error_t e;

    memset(v, 0, sizeof(*v));
    tu_msp_make(&v->msp, "User1@mls.test");
    ASSERT_EQ(hlf_identity_load_msp(v->msp.msp, "MLSMSP", &v->id, &e),
              HLF_OK);
    pthread_mutex_init(&v->fd.lock, NULL);
    v->fd.signer = v->msp.key;
    v->fd.creator = hlf_identity_creator(v->id, &v->fd.creator_len);
    v->fs = fake_server_start(deliver_handler, &v->fd, NULL);
    memset(&co, 0, sizeof(co));
    co.target = fake_server_target(v->fs);
    co.insecure_plaintext = 1;
    ASSERT_EQ(hlf_conn_new(&co, &v->conn, &e), HLF_OK);
    memset(&go, 0, sizeof(go));
    go.conn = v->conn;
    go.identity = v->id;
    ASSERT_EQ(hlf_gateway_connect(&v->gw, &go, &e), HLF_OK);
    v->net = hlf_gateway_get_network(v->gw, "reso-events");
    ASSERT_NOT_NULL(v->net);
}

static void
env_down(env_t *v)
{
    hlf_gateway_close(v->gw);
    hlf_conn_close(v->conn);
    fake_server_stop(v->fs);
    if (v->fd.bad != 0)
        TEST__FAIL("fake Deliver saw %d bad requests, last: %s", v->fd.bad,
                   v->fd.last_bad);
    reply_clear(&v->fd);
    pthread_mutex_destroy(&v->fd.lock);
    hlf_identity_unref(v->id);
    tu_msp_free(&v->msp);
}

static hlf_blocks_t *
open_from(env_t *v, uint64_t start)
{
    hlf_blocks_opts_t o;
    hlf_blocks_t *s = NULL;
    hlf_error_t e;

    memset(&o, 0, sizeof(o));
    o.has_start_block = 1;
    o.start_block = start;
    ASSERT_EQ(hlf_network_block_events(v->net, &o, &s, &e), HLF_OK);
    ASSERT_NOT_NULL(s);
    return s;
}

/* A block from bg_simple_block(number, ntx), checked field by field. */
static void
check_simple(const hlf_block_t *b, uint64_t number, size_t ntx)
{
    char want[64], payload[64];
    size_t i;

    ASSERT_EQ(b->number, number);
    ASSERT_EQ(b->validated, 1);
    ASSERT_EQ(b->ntx, ntx);
    for (i = 0; i < ntx; i++) {
        const hlf_block_tx_t *t = &b->txs[i];

        snprintf(want, sizeof(want), "tx-%llu-%zu",
                 (unsigned long long)number, i);
        snprintf(payload, sizeof(payload), "{\"block\":%llu,\"i\":%zu}",
                 (unsigned long long)number, i);
        ASSERT_EQ(t->index, i);
        ASSERT_EQ(t->type, HLF_HEADER_TYPE_ENDORSER_TRANSACTION);
        ASSERT_STR_EQ(t->tx_id, want);
        ASSERT_STR_EQ(t->channel, "reso-events");
        ASSERT_EQ(t->timestamp_sec, 1700000000 + (int64_t)number);
        ASSERT_EQ(t->timestamp_nanos, (int32_t)i);
        ASSERT_STR_EQ(t->creator_msp_id, "BrokerageMSP");
        ASSERT_EQ(t->validation_code, HLF_TX_VALID);
        ASSERT_NULL(t->error);
        ASSERT_EQ(t->nactions, 1);
        ASSERT_STR_EQ(t->actions[0].chaincode, "reso");
        ASSERT_STR_EQ(t->actions[0].event->event_name, "RecordEvent");
        ASSERT_STR_EQ(t->actions[0].event->tx_id, want);
        ASSERT_EQ(t->actions[0].event->payload_len, strlen(payload));
        ASSERT_MEM_EQ(t->actions[0].event->payload, payload,
                      strlen(payload));
    }
}

/* ------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------- */

TEST_IMPL(deliver_streams_blocks_then_status)
{
    env_t v;
    hlf_blocks_t *s;
    hlf_block_t *b;
    hlf_error_t e;

    env_up(&v);
    reply_block(&v.fd, 5, 1);
    reply_block(&v.fd, 6, 3);
    reply_block(&v.fd, 7, 0);
    reply_status(&v.fd, 200);
    s = open_from(&v, 5);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    ASSERT_EQ(e.code, HLF_OK);
    check_simple(b, 5, 1);
    hlf_block_free(b);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    check_simple(b, 6, 3);
    hlf_block_free(b);
    ASSERT_EQ(hlf_blocks_next(s, &b, NULL), 1);
    check_simple(b, 7, 0);
    hlf_block_free(b);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 0);
    ASSERT_NULL(b);
    ASSERT_EQ(e.code, HLF_OK);
    /* Over for good, even after a cancel. */
    hlf_blocks_cancel(s);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 0);
    hlf_blocks_close(s);
    ASSERT_EQ(v.fd.requests, 1);
    ASSERT_STR_EQ(v.fd.channel, "reso-events");
    ASSERT_EQ(v.fd.start_case, ORDERER__SEEK_POSITION__TYPE_SPECIFIED);
    ASSERT_EQ(v.fd.start, 5);
    ASSERT_EQ(v.fd.stop_case, ORDERER__SEEK_POSITION__TYPE_SPECIFIED);
    ASSERT(v.fd.stop == UINT64_MAX);
    ASSERT_EQ(v.fd.behavior, 0);
    ASSERT_EQ(v.fd.tls_hash_len, 0);
    ASSERT_STR_EQ(fake_server_method(v.fs, 0), METHOD);
    env_down(&v);
}

TEST_IMPL(deliver_seek_positions)
{
    static const uint8_t hash[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20,
                                     21, 22, 23, 24, 25, 26, 27, 28, 29,
                                     30, 31, 32};
    hlf_blocks_opts_t o;
    env_t v;
    hlf_blocks_t *s;
    hlf_block_t *b;
    hlf_error_t e;

    env_up(&v);
    /* No options: from the next commit, forever; any first number. */
    reply_block(&v.fd, 90, 1);
    reply_block(&v.fd, 91, 1);
    reply_status(&v.fd, 200);
    ASSERT_EQ(hlf_network_block_events(v.net, NULL, &s, &e), HLF_OK);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    ASSERT_EQ(b->number, 90);
    hlf_block_free(b);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    ASSERT_EQ(b->number, 91);
    hlf_block_free(b);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 0);
    hlf_blocks_close(s);
    ASSERT_EQ(v.fd.start_case, ORDERER__SEEK_POSITION__TYPE_NEXT_COMMIT);
    ASSERT_EQ(v.fd.stop_case, ORDERER__SEEK_POSITION__TYPE_SPECIFIED);
    ASSERT(v.fd.stop == UINT64_MAX);

    /* From the genesis block to block 1, with a TLS certificate hash. */
    reply_clear(&v.fd);
    reply_block(&v.fd, 0, 0);
    reply_block(&v.fd, 1, 2);
    reply_status(&v.fd, 200);
    memset(&o, 0, sizeof(o));
    o.has_start_block = 1;
    o.start_block = 0;
    o.has_stop_block = 1;
    o.stop_block = 1;
    o.tls_cert_hash = hash;
    o.tls_cert_hash_len = sizeof(hash);
    ASSERT_EQ(hlf_network_block_events(v.net, &o, &s, &e), HLF_OK);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    ASSERT_EQ(b->number, 0);
    hlf_block_free(b);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    check_simple(b, 1, 2);
    hlf_block_free(b);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 0);
    hlf_blocks_close(s);
    ASSERT_EQ(v.fd.start_case, ORDERER__SEEK_POSITION__TYPE_SPECIFIED);
    ASSERT_EQ(v.fd.start, 0);
    ASSERT_EQ(v.fd.stop, 1);
    ASSERT_EQ(v.fd.tls_hash_len, 32);
    ASSERT_MEM_EQ(v.fd.tls_hash, hash, 32);
    ASSERT_EQ(v.fd.requests, 2);
    env_down(&v);
}

TEST_IMPL(deliver_bad_arguments)
{
    hlf_blocks_opts_t o;
    env_t v;
    hlf_blocks_t *s = (hlf_blocks_t *)&v;
    hlf_block_t *b = (hlf_block_t *)&v;
    hlf_error_t e;

    env_up(&v);
    ASSERT_EQ(hlf_network_block_events(NULL, NULL, &s, &e), HLF_EINVAL);
    ASSERT_NULL(s);
    ASSERT_EQ(hlf_network_block_events(v.net, NULL, NULL, &e), HLF_EINVAL);
    memset(&o, 0, sizeof(o));
    o.has_start_block = o.has_stop_block = 1;
    o.start_block = 10;
    o.stop_block = 9;
    ASSERT_EQ(hlf_network_block_events(v.net, &o, &s, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "deliver: stop block 9 before start block 10");
    o.stop_block = 10;
    o.tls_cert_hash_len = 32;
    ASSERT_EQ(hlf_network_block_events(v.net, &o, &s, &e), HLF_EINVAL);
    ASSERT_NULL(s);
    ASSERT_EQ(hlf_blocks_next(NULL, &b, &e), HLF_EINVAL);
    ASSERT_NULL(b);
    hlf_blocks_cancel(NULL);
    hlf_blocks_close(NULL);
    ASSERT_EQ(v.fd.requests, 0);
    env_down(&v);
}

/* Open a stream from block 1 that gets only status, and read it. */
static int
status_end(env_t *v, int status, hlf_error_t *e)
{
    hlf_blocks_t *s;
    hlf_block_t *b;
    int rc, again;

    reply_clear(&v->fd);
    reply_status(&v->fd, status);
    s = open_from(v, 1);
    rc = hlf_blocks_next(s, &b, e);
    ASSERT_NULL(b);
    /* Every later call repeats the result. */
    again = hlf_blocks_next(s, &b, NULL);
    ASSERT_EQ(again, rc);
    hlf_blocks_close(s);
    return rc;
}

TEST_IMPL(deliver_status_errors)
{
    env_t v;
    hlf_error_t e;

    env_up(&v);
    ASSERT_EQ(status_end(&v, 403, &e), HLF_EPERM);
    ASSERT_EQ(e.code, HLF_EPERM);
    ASSERT_STR_EQ(e.text, "Deliver reso-events: FORBIDDEN (403)");
    ASSERT_EQ(status_end(&v, 404, &e), HLF_ENOTFOUND);
    ASSERT_STR_EQ(e.text, "Deliver reso-events: NOT_FOUND (404)");
    ASSERT_EQ(status_end(&v, 503, &e), HLF_EUNAVAIL);
    ASSERT_STR_EQ(e.text, "Deliver reso-events: SERVICE_UNAVAILABLE (503)");
    ASSERT_EQ(status_end(&v, 400, &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "Deliver reso-events: BAD_REQUEST (400)");
    ASSERT_EQ(status_end(&v, 500, &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "Deliver reso-events: INTERNAL_SERVER_ERROR (500)");
    ASSERT_EQ(status_end(&v, 777, &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "Deliver reso-events: UNKNOWN (777)");
    ASSERT_EQ(status_end(&v, 200, &e), 0);
    ASSERT_EQ(e.code, HLF_OK);
    ASSERT_EQ(v.fd.requests, 7);
    env_down(&v);
}

/* Stream the queued replies from block start; expect blocks then rc. */
static void
expect_end(env_t *v, uint64_t start, int blocks, int rc, const char *text)
{
    hlf_blocks_t *s = open_from(v, start);
    hlf_block_t *b;
    hlf_error_t e;
    int i;

    for (i = 0; i < blocks; i++) {
        ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
        hlf_block_free(b);
    }
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), rc);
    ASSERT_NULL(b);
    ASSERT_EQ(e.code, rc);
    ASSERT_STR_EQ(e.text, text);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), rc);
    ASSERT_STR_EQ(e.text, text);
    hlf_blocks_close(s);
    reply_clear(&v->fd);
}

TEST_IMPL(deliver_protocol_errors)
{
    static const uint8_t junk[] = {0x12, 0x05, 0x01};
    uint8_t *raw;
    size_t len;
    env_t v;

    env_up(&v);
    /* A peer that skips, repeats or starts elsewhere breaks the
     * checkpoint: the stream stops. */
    reply_block(&v.fd, 5, 1);
    reply_block(&v.fd, 7, 1);
    expect_end(&v, 5, 1, HLF_EPROTO,
               "Deliver reso-events: expected block 6, got block 7");
    reply_block(&v.fd, 5, 1);
    reply_block(&v.fd, 5, 1);
    expect_end(&v, 5, 1, HLF_EPROTO,
               "Deliver reso-events: expected block 6, got block 5");
    reply_block(&v.fd, 4, 1);
    expect_end(&v, 5, 0, HLF_EPROTO,
               "Deliver reso-events: expected block 5, got block 4");
    /* Undecodable messages. */
    reply(&v.fd, fake_dup(junk, sizeof(junk)), sizeof(junk));
    expect_end(&v, 5, 0, HLF_EPROTO,
               "Deliver reso-events: malformed DeliverResponse");
    reply(&v.fd, fake_dup("", 0), 0);
    expect_end(&v, 5, 0, HLF_EPROTO,
               "Deliver reso-events: DeliverResponse with neither a block "
               "nor a status");
    /* A block without data inside a well-formed response. */
    raw = bg_deliver_block((const uint8_t *)"\x0a\x02\x08\x05", 4, &len);
    reply(&v.fd, raw, len);
    expect_end(&v, 5, 0, HLF_EPROTO,
               "Deliver reso-events: block 5: no BlockData");
    /* The call ends (gRPC OK) without a Deliver status. */
    reply_block(&v.fd, 5, 1);
    expect_end(&v, 5, 1, HLF_EPROTO,
               "Deliver reso-events: stream ended without a status");
    env_down(&v);
}

TEST_IMPL(deliver_past_stop_block)
{
    hlf_blocks_opts_t o;
    env_t v;
    hlf_blocks_t *s;
    hlf_block_t *b;
    hlf_error_t e;

    env_up(&v);
    reply_block(&v.fd, 2, 1);
    reply_block(&v.fd, 3, 1);
    memset(&o, 0, sizeof(o));
    o.has_stop_block = 1;
    o.stop_block = 2;
    ASSERT_EQ(hlf_network_block_events(v.net, &o, &s, &e), HLF_OK);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    ASSERT_EQ(b->number, 2);
    hlf_block_free(b);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), HLF_EPROTO);
    ASSERT_STR_EQ(e.text,
                  "Deliver reso-events: block 3 after the stop block 2");
    hlf_blocks_close(s);
    ASSERT_EQ(v.fd.start_case, ORDERER__SEEK_POSITION__TYPE_NEXT_COMMIT);
    ASSERT_EQ(v.fd.stop, 2);
    env_down(&v);
}

TEST_IMPL(deliver_grpc_errors)
{
    env_t v;
    hlf_blocks_t *s;
    hlf_block_t *b;
    hlf_error_t e;

    env_up(&v);
    v.fd.grpc_status = 7;
    v.fd.grpc_message = "access denied";
    s = open_from(&v, 0);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), HLF_EGRPC);
    ASSERT_EQ(e.grpc_status, 7);
    ASSERT_STR_EQ(e.text, "PermissionDenied: access denied");
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), HLF_EGRPC);
    ASSERT_EQ(e.grpc_status, 7);
    hlf_blocks_close(s);
    v.fd.grpc_status = 14;
    v.fd.grpc_message = "shutting down";
    s = open_from(&v, 0);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), HLF_EUNAVAIL);
    ASSERT_STR_EQ(e.text, "Unavailable: shutting down");
    hlf_blocks_close(s);
    env_down(&v);
}

TEST_IMPL(deliver_unreachable)
{
    hlf_identity_t *id;
    hlf_conn_opts_t co;
    hlf_gateway_opts_t go;
    hlf_conn_t *conn;
    hlf_gateway_t *gw;
    hlf_blocks_t *s;
    hlf_block_t *b;
    hlf_error_t e;
    tu_msp_t msp;
    char target[64];

    tu_msp_make(&msp, "User1@mls.test");
    ASSERT_EQ(hlf_identity_load_msp(msp.msp, "MLSMSP", &id, &e), HLF_OK);
    snprintf(target, sizeof(target), "127.0.0.1:%d", tu_closed_port());
    memset(&co, 0, sizeof(co));
    co.target = target;
    co.insecure_plaintext = 1;
    ASSERT_EQ(hlf_conn_new(&co, &conn, &e), HLF_OK);
    memset(&go, 0, sizeof(go));
    go.conn = conn;
    go.identity = id;
    ASSERT_EQ(hlf_gateway_connect(&gw, &go, &e), HLF_OK);
    ASSERT_EQ(hlf_network_block_events(hlf_gateway_get_network(gw, "c"),
                                       NULL, &s, &e),
              HLF_OK);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), HLF_EUNAVAIL);
    ASSERT_EQ(e.grpc_status, 14);
    ASSERT_NULL(b);
    hlf_blocks_close(s);
    hlf_gateway_close(gw);
    hlf_conn_close(conn);
    hlf_identity_unref(id);
    tu_msp_free(&msp);
}

typedef struct {
    hlf_blocks_t *s;
    int delay_ms;
} canceller_t;

static void *
cancel_later(void *arg)
{
    canceller_t *c = arg;

    usleep((useconds_t)c->delay_ms * 1000);
    hlf_blocks_cancel(c->s);
    return NULL;
}

TEST_IMPL(deliver_cancel_from_another_thread)
{
    env_t v;
    hlf_blocks_t *s;
    hlf_block_t *b;
    hlf_error_t e;
    canceller_t c;
    pthread_t th;
    struct timespec t0, t1;
    long ms;

    env_up(&v);
    reply_block(&v.fd, 8, 2);
    v.fd.hold = 1;
    s = open_from(&v, 8);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    check_simple(b, 8, 2);
    hlf_block_free(b);
    /* Now blocked waiting for block 9, until the other thread cancels. */
    c.s = s;
    c.delay_ms = 300;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(pthread_create(&th, NULL, cancel_later, &c), 0);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), HLF_ECLOSED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ASSERT_GE(ms, 250);
    ASSERT_LE(ms, 5000);
    ASSERT_NULL(b);
    ASSERT_STR_EQ(e.text, "/protos.Deliver/Deliver: stream cancelled");
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), HLF_ECLOSED);
    hlf_blocks_cancel(s);
    hlf_blocks_close(s);

    /* Closing a stream that is still open (nobody reading) cancels it. */
    s = open_from(&v, 8);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), 1);
    hlf_block_free(b);
    hlf_blocks_close(s);
    /* Cancel before the first read. */
    s = open_from(&v, 8);
    hlf_blocks_cancel(s);
    ASSERT_EQ(hlf_blocks_next(s, &b, &e), HLF_ECLOSED);
    hlf_blocks_close(s);
    env_down(&v);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(deliver_streams_blocks_then_status),
    TEST_ENTRY(deliver_seek_positions),
    TEST_ENTRY(deliver_bad_arguments),
    TEST_ENTRY(deliver_status_errors),
    TEST_ENTRY(deliver_protocol_errors),
    TEST_ENTRY(deliver_past_stop_block),
    TEST_ENTRY(deliver_grpc_errors),
    TEST_ENTRY(deliver_unreachable),
    TEST_ENTRY(deliver_cancel_from_another_thread),
};

TEST_MAIN(tests)
