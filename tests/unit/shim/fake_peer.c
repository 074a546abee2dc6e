/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fake peer of fake_peer.h: a synchronous grpc-core client built on a
 * pluck completion queue, so each step waits for exactly its own tag.
 */
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "fake_peer.h"
#include "peer/chaincode.pb-c.h"
#include "task.h"

#define TAG_START ((void *)(intptr_t)1)
#define TAG_STATUS ((void *)(intptr_t)2)
#define TAG_RECV ((void *)(intptr_t)3)
#define TAG_SEND ((void *)(intptr_t)4)
#define TAG_CLOSE ((void *)(intptr_t)5)
#define TAG_INITMD ((void *)(intptr_t)6)

static gpr_timespec
in_ms(int ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static void
pluck_ok(fake_peer_t *fp, void *tag)
{
    grpc_event ev = grpc_completion_queue_pluck(fp->cq, tag, in_ms(10000),
                                                NULL);
    ASSERT_EQ(ev.type, GRPC_OP_COMPLETE);
    ASSERT_EQ(ev.success, 1);
}

void
fp_connect_creds(fake_peer_t *fp, int port, grpc_channel_credentials *creds)
{
    grpc_arg arg;
    grpc_channel_args args;
    grpc_slice method;
    grpc_op op;
    char target[64];

    memset(fp, 0, sizeof(*fp));
    grpc_init();
    snprintf(target, sizeof(target), "127.0.0.1:%d", port);
    arg.type = GRPC_ARG_INTEGER;
    arg.key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    arg.value.integer = 100 * 1024 * 1024;
    args.num_args = 1;
    args.args = &arg;
    fp->channel = grpc_channel_create(target, creds, &args);
    grpc_channel_credentials_release(creds);
    fp->cq = grpc_completion_queue_create_for_pluck(NULL);
    method = grpc_slice_from_static_string("/protos.Chaincode/Connect");
    fp->call = grpc_channel_create_call(fp->channel, NULL,
                                        GRPC_PROPAGATE_DEFAULTS, fp->cq,
                                        method, NULL,
                                        gpr_inf_future(GPR_CLOCK_REALTIME),
                                        NULL);
    ASSERT_NOT_NULL(fp->call);
    grpc_metadata_array_init(&fp->initial_md);
    grpc_metadata_array_init(&fp->trailing_md);

    /* Like a real client: initial metadata and the final status first.
     * Sending can fail (TLS refused), so only completion is required. */
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_INITIAL_METADATA;
    ASSERT_EQ(grpc_call_start_batch(fp->call, &op, 1, TAG_START, NULL),
              GRPC_CALL_OK);
    ASSERT_EQ(grpc_completion_queue_pluck(fp->cq, TAG_START, in_ms(10000),
                                          NULL)
                  .type,
              GRPC_OP_COMPLETE);
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_INITIAL_METADATA;
    op.data.recv_initial_metadata.recv_initial_metadata = &fp->initial_md;
    ASSERT_EQ(grpc_call_start_batch(fp->call, &op, 1, TAG_INITMD, NULL),
              GRPC_CALL_OK);
    fp->initmd_pending = 1;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op.data.recv_status_on_client.trailing_metadata = &fp->trailing_md;
    op.data.recv_status_on_client.status = &fp->status;
    op.data.recv_status_on_client.status_details = &fp->details;
    ASSERT_EQ(grpc_call_start_batch(fp->call, &op, 1, TAG_STATUS, NULL),
              GRPC_CALL_OK);
}

/* Collect the initial metadata if still pending; 1 when it succeeded. */
static int
wait_initial_md(fake_peer_t *fp)
{
    grpc_event ev;

    if (!fp->initmd_pending)
        return 1;
    ev = grpc_completion_queue_pluck(fp->cq, TAG_INITMD, in_ms(10000), NULL);
    ASSERT_EQ(ev.type, GRPC_OP_COMPLETE);
    fp->initmd_pending = 0;
    return ev.success;
}

void
fp_connect(fake_peer_t *fp, int port)
{
    fp_connect_creds(fp, port, grpc_insecure_credentials_create());
    ASSERT_EQ(wait_initial_md(fp), 1);
}

grpc_status_code
fp_status(fake_peer_t *fp)
{
    uint8_t *bytes;
    size_t len;

    while (fp_recv_raw(fp, 5000, &bytes, &len) == 1)
        free(bytes);
    ASSERT_EQ(fp->ended, 1);
    pluck_ok(fp, TAG_STATUS);
    fp->status_done = 1;
    return fp->status;
}

void
fp_send_raw(fake_peer_t *fp, const void *bytes, size_t len)
{
    grpc_slice slice = grpc_slice_from_copied_buffer(bytes, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_op op;

    grpc_slice_unref(slice);
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = bb;
    ASSERT_EQ(grpc_call_start_batch(fp->call, &op, 1, TAG_SEND, NULL),
              GRPC_CALL_OK);
    pluck_ok(fp, TAG_SEND);
    grpc_byte_buffer_destroy(bb);
}

void
fp_send(fake_peer_t *fp, const Protos__ChaincodeMessage *m)
{
    size_t n = protos__chaincode_message__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);

    ASSERT_NOT_NULL(buf);
    protos__chaincode_message__pack(m, buf);
    fp_send_raw(fp, buf, n);
    free(buf);
}

void
fp_send_type(fake_peer_t *fp, Protos__ChaincodeMessage__Type type,
             const char *channel, const char *txid, const void *payload,
             size_t len)
{
    Protos__ChaincodeMessage m = PROTOS__CHAINCODE_MESSAGE__INIT;

    m.type = type;
    m.channel_id = (char *)channel;
    m.txid = (char *)txid;
    m.payload.data = (uint8_t *)payload;
    m.payload.len = len;
    fp_send(fp, &m);
}

int
fp_recv_raw(fake_peer_t *fp, int timeout_ms, uint8_t **bytes, size_t *len)
{
    grpc_byte_buffer_reader reader;
    grpc_slice slice;
    grpc_event ev;
    grpc_op op;

    *bytes = NULL;
    *len = 0;
    if (fp->ended)
        return -1;
    wait_initial_md(fp);
    if (!fp->recv_pending) {
        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &fp->recv_buf;
        ASSERT_EQ(grpc_call_start_batch(fp->call, &op, 1, TAG_RECV, NULL),
                  GRPC_CALL_OK);
        fp->recv_pending = 1;
    }
    ev = grpc_completion_queue_pluck(fp->cq, TAG_RECV, in_ms(timeout_ms),
                                     NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT)
        return 0;
    ASSERT_EQ(ev.type, GRPC_OP_COMPLETE);
    fp->recv_pending = 0;
    if (!ev.success || fp->recv_buf == NULL) {
        fp->ended = 1;
        return -1;
    }
    ASSERT(grpc_byte_buffer_reader_init(&reader, fp->recv_buf));
    slice = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    grpc_byte_buffer_destroy(fp->recv_buf);
    fp->recv_buf = NULL;
    *len = GRPC_SLICE_LENGTH(slice);
    *bytes = malloc(*len ? *len : 1);
    ASSERT_NOT_NULL(*bytes);
    memcpy(*bytes, GRPC_SLICE_START_PTR(slice), *len);
    grpc_slice_unref(slice);
    return 1;
}

static char *
pair_key(const Protos__ChaincodeMessage *m)
{
    size_t n = strlen(m->channel_id) + strlen(m->txid) + 2;
    char *k = malloc(n);

    ASSERT_NOT_NULL(k);
    snprintf(k, n, "%s|%s", m->channel_id, m->txid);
    return k;
}

/* Track the one-outstanding-request rule for a received request. */
static void
track_request(fake_peer_t *fp, const Protos__ChaincodeMessage *m)
{
    char *k;
    size_t i;

    if (m->type < PROTOS__CHAINCODE_MESSAGE__TYPE__GET_STATE ||
        m->type > PROTOS__CHAINCODE_MESSAGE__TYPE__PURGE_PRIVATE_DATA)
        return;
    k = pair_key(m);
    for (i = 0; i < fp->n_outstanding; i++) {
        if (strcmp(fp->outstanding[i], k) == 0)
            TEST__FAIL("second outstanding request for %s", k);
    }
    ASSERT(fp->n_outstanding < FP_MAX_OUTSTANDING);
    fp->outstanding[fp->n_outstanding++] = k;
    if (fp->n_outstanding > fp->max_outstanding_seen)
        fp->max_outstanding_seen = fp->n_outstanding;
}

static void
untrack(fake_peer_t *fp, const Protos__ChaincodeMessage *req)
{
    char *k = pair_key(req);
    size_t i;

    for (i = 0; i < fp->n_outstanding; i++) {
        if (strcmp(fp->outstanding[i], k) == 0) {
            free(fp->outstanding[i]);
            fp->outstanding[i] = fp->outstanding[--fp->n_outstanding];
            break;
        }
    }
    free(k);
}

Protos__ChaincodeMessage *
fp_recv(fake_peer_t *fp, int timeout_ms)
{
    Protos__ChaincodeMessage *m;
    uint8_t *bytes;
    size_t len;

    if (fp_recv_raw(fp, timeout_ms, &bytes, &len) != 1)
        return NULL;
    m = protos__chaincode_message__unpack(NULL, len, bytes);
    free(bytes);
    ASSERT_NOT_NULL(m);
    track_request(fp, m);
    return m;
}

Protos__ChaincodeMessage *
fp_expect(fake_peer_t *fp, Protos__ChaincodeMessage__Type type)
{
    Protos__ChaincodeMessage *m = fp_recv(fp, 5000);

    ASSERT_NOT_NULL(m);
    if (m->type != type)
        TEST__FAIL("expected message type %d, got %d (payload %.*s)",
                   (int)type, (int)m->type, (int)m->payload.len,
                   m->payload.data ? (const char *)m->payload.data : "");
    return m;
}

void
fp_respond(fake_peer_t *fp, const Protos__ChaincodeMessage *req,
           const void *payload, size_t len)
{
    untrack(fp, req);
    fp_send_type(fp, PROTOS__CHAINCODE_MESSAGE__TYPE__RESPONSE,
                 req->channel_id, req->txid, payload, len);
}

void
fp_respond_error(fake_peer_t *fp, const Protos__ChaincodeMessage *req,
                 const char *text)
{
    untrack(fp, req);
    fp_send_type(fp, PROTOS__CHAINCODE_MESSAGE__TYPE__ERROR, req->channel_id,
                 req->txid, text, strlen(text));
}

void
fp_handshake(fake_peer_t *fp, const char *name)
{
    Protos__ChaincodeMessage *m;
    Protos__ChaincodeID *id;

    m = fp_expect(fp, PROTOS__CHAINCODE_MESSAGE__TYPE__REGISTER);
    id = protos__chaincode_id__unpack(NULL, m->payload.len, m->payload.data);
    ASSERT_NOT_NULL(id);
    ASSERT_STR_EQ(id->name, name);
    protos__chaincode_id__free_unpacked(id, NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
    fp_send_type(fp, PROTOS__CHAINCODE_MESSAGE__TYPE__REGISTERED, "", "",
                 NULL, 0);
    fp_send_type(fp, PROTOS__CHAINCODE_MESSAGE__TYPE__READY, "", "", NULL,
                 0);
}

void
fp_transaction(fake_peer_t *fp, const char *channel, const char *txid,
               const char *const *args, const size_t *lens, size_t argc)
{
    Protos__ChaincodeInput in = PROTOS__CHAINCODE_INPUT__INIT;
    ProtobufCBinaryData a[16];
    uint8_t *buf;
    size_t i, n;

    ASSERT(argc <= 16);
    for (i = 0; i < argc; i++) {
        a[i].data = (uint8_t *)args[i];
        a[i].len = lens != NULL ? lens[i] : strlen(args[i]);
    }
    in.n_args = argc;
    in.args = a;
    n = protos__chaincode_input__get_packed_size(&in);
    buf = malloc(n ? n : 1);
    ASSERT_NOT_NULL(buf);
    protos__chaincode_input__pack(&in, buf);
    fp_send_type(fp, PROTOS__CHAINCODE_MESSAGE__TYPE__TRANSACTION, channel,
                 txid, buf, n);
    free(buf);
}

static void
fp_free(fake_peer_t *fp)
{
    size_t i;

    wait_initial_md(fp);
    if (fp->recv_pending) {
        /* Cancel the call so the pending receive completes. */
        grpc_call_cancel(fp->call, NULL);
        grpc_completion_queue_pluck(fp->cq, TAG_RECV,
                                    gpr_inf_future(GPR_CLOCK_REALTIME),
                                    NULL);
        fp->recv_pending = 0;
    }
    if (fp->recv_buf != NULL)
        grpc_byte_buffer_destroy(fp->recv_buf);
    grpc_metadata_array_destroy(&fp->initial_md);
    grpc_metadata_array_destroy(&fp->trailing_md);
    grpc_slice_unref(fp->details);
    grpc_call_unref(fp->call);
    grpc_channel_destroy(fp->channel);
    grpc_completion_queue_shutdown(fp->cq);
    while (grpc_completion_queue_pluck(fp->cq, NULL,
                                       gpr_inf_future(GPR_CLOCK_REALTIME),
                                       NULL)
               .type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(fp->cq);
    for (i = 0; i < fp->n_outstanding; i++)
        free(fp->outstanding[i]);
    grpc_shutdown();
}

/* Drain messages until the stream ends, then collect the status. */
static void
drain_and_status(fake_peer_t *fp, int timeout_ms)
{
    uint8_t *bytes;
    size_t len;
    int rc;

    if (fp->status_done)
        return;
    while ((rc = fp_recv_raw(fp, timeout_ms, &bytes, &len)) == 1)
        free(bytes);
    if (rc == 0)
        TEST__FAIL("stream did not end within %d ms", timeout_ms);
    pluck_ok(fp, TAG_STATUS);
}

void
fp_close(fake_peer_t *fp)
{
    grpc_op op;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ASSERT_EQ(grpc_call_start_batch(fp->call, &op, 1, TAG_CLOSE, NULL),
              GRPC_CALL_OK);
    pluck_ok(fp, TAG_CLOSE);
    drain_and_status(fp, 5000);
    ASSERT_EQ(fp->status, GRPC_STATUS_OK);
    fp_free(fp);
}

void
fp_wait_end_and_free(fake_peer_t *fp, int timeout_ms)
{
    drain_and_status(fp, timeout_ms);
    fp_free(fp);
}
