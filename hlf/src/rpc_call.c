/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calls over an hlf_conn_t: blocking unary calls and server-streaming
 * calls on grpc-core's C API.
 *
 * Every call gets its own completion queue. A pluck queue shared by all
 * threads would be simpler but grpc-core allows only six concurrent
 * pluckers per queue, and a busy daemon has more threads than that; a
 * queue per call costs one small allocation and has no such limit.
 */
#include "rpc_int.h"
#include "hlf/mem.h"
#include "status.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdatomic.h>
#include <string.h>

#define STATUS_DETAILS_KEY "grpc-status-details-bin"

/* ------------------------------------------------------------------------
 * Shared helpers
 * ---------------------------------------------------------------------- */

static grpc_byte_buffer *
make_buffer(const uint8_t *data, size_t len)
{
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)data, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);

    grpc_slice_unref(s);
    return bb;
}

/* Copy a received message into a new buffer and destroy it. */
static int
take_buffer(grpc_byte_buffer *bb, uint8_t **out, size_t *len,
            hlf_error_t *err)
{
    grpc_byte_buffer_reader reader;
    grpc_slice s;
    int rc = HLF_OK;

    if (!grpc_byte_buffer_reader_init(&reader, bb)) {
        grpc_byte_buffer_destroy(bb);
        return hlf_error_set(err, HLF_EPROTO,
                             "cannot read a compressed gRPC message");
    }
    s = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    grpc_byte_buffer_destroy(bb);
    *len = GRPC_SLICE_LENGTH(s);
    *out = hlf_memdup(GRPC_SLICE_START_PTR(s), *len);
    if (*out == NULL)
        rc = hlf_error_set(err, HLF_ENOMEM, "gRPC message: out of memory");
    grpc_slice_unref(s);
    return rc;
}

/* Receive-status storage of one call. */
typedef struct {
    grpc_metadata_array trailing;
    grpc_status_code code;
    grpc_slice details;
    const char *error_string;
} call_status_t;

static void
status_init(call_status_t *st, grpc_op *op)
{
    memset(st, 0, sizeof(*st));
    grpc_metadata_array_init(&st->trailing);
    st->details = grpc_empty_slice();
    op->op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op->data.recv_status_on_client.trailing_metadata = &st->trailing;
    op->data.recv_status_on_client.status = &st->code;
    op->data.recv_status_on_client.status_details = &st->details;
    op->data.recv_status_on_client.error_string = &st->error_string;
}

static void
status_destroy(call_status_t *st)
{
    grpc_metadata_array_destroy(&st->trailing);
    grpc_slice_unref(st->details);
    gpr_free((void *)st->error_string);
}

/* Turn a completed non-OK status into err; see hlf__status_to_error. */
static int
status_error(const call_status_t *st, hlf_error_t *err)
{
    const uint8_t *det = NULL;
    size_t det_len = 0, i;

    for (i = 0; i < st->trailing.count; i++) {
        if (grpc_slice_str_cmp(st->trailing.metadata[i].key,
                               STATUS_DETAILS_KEY) == 0) {
            det = GRPC_SLICE_START_PTR(st->trailing.metadata[i].value);
            det_len = GRPC_SLICE_LENGTH(st->trailing.metadata[i].value);
            break;
        }
    }
    return hlf__status_to_error(
        (int)st->code, (const char *)GRPC_SLICE_START_PTR(st->details),
        GRPC_SLICE_LENGTH(st->details), det, det_len, err);
}

static gpr_timespec
deadline_in(int64_t ms)
{
    if (ms <= 0)
        return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static grpc_call *
new_call(hlf_conn_t *c, grpc_completion_queue *cq, const char *method,
         int64_t timeout_ms)
{
    grpc_slice m = grpc_slice_from_copied_string(method);
    grpc_call *call;

    call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                    cq, m, NULL, deadline_in(timeout_ms),
                                    NULL);
    grpc_slice_unref(m);
    return call;
}

/* Fill the four ops that open a call and send its only request. */
static void
send_ops(grpc_op *ops, grpc_byte_buffer *req, grpc_metadata_array *initial)
{
    memset(ops, 0, 4 * sizeof(*ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = req;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = initial;
}

static void
destroy_cq(grpc_completion_queue *cq, int next_type)
{
    grpc_completion_queue_shutdown(cq);
    /* A NEXT queue must be drained to GRPC_QUEUE_SHUTDOWN first. */
    while (next_type &&
           grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME),
                                      NULL)
                   .type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
}

/* ------------------------------------------------------------------------
 * Unary calls
 * ---------------------------------------------------------------------- */

int
hlf__rpc_unary(hlf_conn_t *c, const char *method, const uint8_t *req,
               size_t len, int64_t timeout_ms, uint8_t **resp,
               size_t *resp_len, hlf_error_t *err)
{
    grpc_completion_queue *cq;
    grpc_metadata_array initial;
    grpc_byte_buffer *send, *recv = NULL;
    call_status_t st;
    grpc_call *call;
    grpc_op ops[6];
    grpc_event ev;
    int rc, tag;

    *resp = NULL;
    *resp_len = 0;
    cq = grpc_completion_queue_create_for_pluck(NULL);
    call = new_call(c, cq, method, timeout_ms);
    send = make_buffer(req, len);
    grpc_metadata_array_init(&initial);
    send_ops(ops, send, &initial);
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].flags = 0;
    ops[4].reserved = NULL;
    ops[4].data.recv_message.recv_message = &recv;
    memset(&ops[5], 0, sizeof(ops[5]));
    status_init(&st, &ops[5]);
    if (grpc_call_start_batch(call, ops, 6, &tag, NULL) != GRPC_CALL_OK) {
        rc = hlf_error_set(err, HLF_EGRPC, "%s: cannot start the call",
                           method);
        goto done;
    }
    ev = grpc_completion_queue_pluck(cq, &tag,
                                     gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE) {
        rc = hlf_error_set(err, HLF_EGRPC, "%s: completion queue failed",
                           method);
        goto done;
    }
    if (st.code != GRPC_STATUS_OK) {
        rc = status_error(&st, err);
        goto done;
    }
    if (recv == NULL) {
        rc = hlf_error_set(err, HLF_EPROTO, "%s: status OK without a reply",
                           method);
        goto done;
    }
    rc = take_buffer(recv, resp, resp_len, err);
    recv = NULL;
done:
    if (recv != NULL)
        grpc_byte_buffer_destroy(recv);
    grpc_byte_buffer_destroy(send);
    grpc_metadata_array_destroy(&initial);
    status_destroy(&st);
    grpc_call_unref(call);
    destroy_cq(cq, 0);
    return rc;
}

/* ------------------------------------------------------------------------
 * Server-streaming calls
 * ---------------------------------------------------------------------- */

/* Tags of the three kinds of batch a stream has in flight. */
enum { TAG_START = 1, TAG_STATUS = 2, TAG_RECV = 3 };

struct hlf__stream_s {
    grpc_call *call;
    grpc_completion_queue *cq;
    grpc_byte_buffer *send;
    grpc_metadata_array initial;
    call_status_t st;
    grpc_byte_buffer *recv;
    /* Batches started and not yet seen complete, by tag. */
    int pending[4];
    /* The final result once the stream is over (1 while it is not). */
    int result;
    hlf_error_t final_err;
    atomic_int cancelled;
    char *method;
};

/* Wait until the batch with tag t has completed, noting the others. */
static void
wait_tag(hlf__stream_t *s, int t)
{
    grpc_event ev;

    while (s->pending[t]) {
        ev = grpc_completion_queue_next(
            s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        s->pending[(int)(intptr_t)ev.tag] = 0;
    }
}

int
hlf__rpc_stream_open(hlf_conn_t *c, const char *method, const uint8_t *req,
                     size_t len, hlf__stream_t **out, hlf_error_t *err)
{
    hlf__stream_t *s;
    grpc_op ops[4], sop;

    *out = NULL;
    s = hlf_calloc(1, sizeof(*s));
    if (s == NULL || (s->method = hlf_strdup(method)) == NULL) {
        hlf_free(s);
        return hlf_error_set(err, HLF_ENOMEM, "%s: out of memory", method);
    }
    atomic_init(&s->cancelled, 0);
    s->result = 1;
    s->cq = grpc_completion_queue_create_for_next(NULL);
    s->call = new_call(c, s->cq, method, 0);
    s->send = make_buffer(req, len);
    grpc_metadata_array_init(&s->initial);
    send_ops(ops, s->send, &s->initial);
    memset(&sop, 0, sizeof(sop));
    status_init(&s->st, &sop);
    /*
     * The status batch is separate so it can stay pending for the life of
     * the stream while receive batches come and go.
     */
    if (grpc_call_start_batch(s->call, ops, 4, (void *)(intptr_t)TAG_START,
                              NULL) != GRPC_CALL_OK ||
        grpc_call_start_batch(s->call, &sop, 1, (void *)(intptr_t)TAG_STATUS,
                              NULL) != GRPC_CALL_OK) {
        hlf__rpc_stream_close(s);
        return hlf_error_set(err, HLF_EGRPC, "%s: cannot start the call",
                             method);
    }
    s->pending[TAG_START] = s->pending[TAG_STATUS] = 1;
    *out = s;
    return HLF_OK;
}

/* The stream is over: wait for its status and remember the outcome. */
static int
finish(hlf__stream_t *s, hlf_error_t *err)
{
    wait_tag(s, TAG_STATUS);
    hlf_error_clear(&s->final_err);
    if (atomic_load(&s->cancelled))
        s->result = hlf_error_set(&s->final_err, HLF_ECLOSED,
                                  "%s: stream cancelled", s->method);
    else if (s->st.code == GRPC_STATUS_OK)
        s->result = 0;
    else
        s->result = status_error(&s->st, &s->final_err);
    if (err != NULL && s->result != 0)
        *err = s->final_err;
    return s->result;
}

int
hlf__rpc_stream_next(hlf__stream_t *s, uint8_t **msg, size_t *len,
                     hlf_error_t *err)
{
    grpc_op op;

    *msg = NULL;
    *len = 0;
    if (s->result != 1) {
        if (err != NULL && s->result != 0)
            *err = s->final_err;
        return s->result;
    }
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &s->recv;
    if (grpc_call_start_batch(s->call, &op, 1, (void *)(intptr_t)TAG_RECV,
                              NULL) != GRPC_CALL_OK)
        return finish(s, err);
    s->pending[TAG_RECV] = 1;
    wait_tag(s, TAG_RECV);
    if (s->recv == NULL)
        return finish(s, err); /* a NULL message marks the end */
    if (take_buffer(s->recv, msg, len, err) != HLF_OK) {
        s->recv = NULL;
        return HLF_ENOMEM;
    }
    s->recv = NULL;
    return 1;
}

void
hlf__rpc_stream_cancel(hlf__stream_t *s)
{
    atomic_store(&s->cancelled, 1);
    grpc_call_cancel(s->call, NULL);
}

void
hlf__rpc_stream_close(hlf__stream_t *s)
{
    int t;

    if (s == NULL)
        return;
    if (s->pending[TAG_STATUS] || s->pending[TAG_RECV])
        grpc_call_cancel(s->call, NULL);
    for (t = TAG_START; t <= TAG_RECV; t++)
        wait_tag(s, t);
    if (s->recv != NULL)
        grpc_byte_buffer_destroy(s->recv);
    grpc_byte_buffer_destroy(s->send);
    grpc_metadata_array_destroy(&s->initial);
    status_destroy(&s->st);
    grpc_call_unref(s->call);
    destroy_cq(s->cq, 1);
    hlf_free(s->method);
    hlf_free(s);
}
