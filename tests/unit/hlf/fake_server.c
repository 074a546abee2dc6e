/* SPDX-License-Identifier: Apache-2.0 */
/* The in-process gRPC test server (see fake_server.h). */
#include "fake_server.h"
#include "task.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <unistd.h>

#define MAX_CALLS 256

enum {
    TAG_NEW = 1,
    TAG_RECV,
    TAG_INIT,
    TAG_SEND,
    TAG_END,
    TAG_CLOSE,
    TAG_SHUTDOWN
};

struct fake_server_s {
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t thread;
    int port;
    char target[64];
    fake_handler_t handler;
    void *ud;
    int shutdown_seen;
    pthread_mutex_t lock;
    int ncalls;
    char methods[MAX_CALLS][64];
};

uint8_t *
fake_dup(const void *p, size_t len)
{
    uint8_t *q = malloc(len ? len : 1);

    ASSERT_NOT_NULL(q);
    if (len)
        memcpy(q, p, len);
    return q;
}

/* Wait for tag; remember a shutdown notification seen on the way. */
static int
wait_for(fake_server_t *fs, intptr_t tag)
{
    grpc_event ev;

    for (;;) {
        ev = grpc_completion_queue_next(fs->cq,
                                        gpr_inf_future(GPR_CLOCK_REALTIME),
                                        NULL);
        ASSERT_EQ(ev.type, GRPC_OP_COMPLETE);
        if ((intptr_t)ev.tag == TAG_SHUTDOWN) {
            fs->shutdown_seen = 1;
            if (tag == TAG_SHUTDOWN)
                return 1;
            continue;
        }
        ASSERT_EQ((intptr_t)ev.tag, tag);
        return ev.success;
    }
}

static void
batch(fake_server_t *fs, grpc_call *call, grpc_op *ops, size_t n,
      intptr_t tag)
{
    ASSERT_EQ(grpc_call_start_batch(call, ops, n, (void *)tag, NULL),
              GRPC_CALL_OK);
    wait_for(fs, tag);
}

static grpc_byte_buffer *
buffer(const uint8_t *p, size_t len)
{
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)p, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);

    grpc_slice_unref(s);
    return bb;
}

static void
send_status(fake_server_t *fs, grpc_call *call, fake_reply_t *r,
            int with_initial)
{
    grpc_op ops[4];
    grpc_metadata md;
    grpc_slice msg;
    grpc_byte_buffer *body = NULL;
    int cancelled = 0;
    size_t n = 0;

    memset(ops, 0, sizeof(ops));
    msg = grpc_slice_from_copied_string(r->message ? r->message : "");
    if (with_initial)
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (r->body != NULL) {
        body = buffer(r->body, r->body_len);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = body;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)r->status;
    ops[n].data.send_status_from_server.status_details = &msg;
    if (r->details != NULL) {
        memset(&md, 0, sizeof(md));
        md.key = grpc_slice_from_static_string("grpc-status-details-bin");
        md.value = grpc_slice_from_copied_buffer((const char *)r->details,
                                                 r->details_len);
        ops[n].data.send_status_from_server.trailing_metadata_count = 1;
        ops[n].data.send_status_from_server.trailing_metadata = &md;
    }
    n++;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &cancelled;
    batch(fs, call, ops, n, TAG_END);
    if (r->details != NULL)
        grpc_slice_unref(md.value);
    grpc_slice_unref(msg);
    if (body != NULL)
        grpc_byte_buffer_destroy(body);
}

static void
send_stream(fake_server_t *fs, grpc_call *call, fake_reply_t *r)
{
    grpc_op op;
    grpc_byte_buffer *bb;
    int cancelled = 0;
    size_t i;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_INITIAL_METADATA;
    batch(fs, call, &op, 1, TAG_INIT);
    for (i = 0; i < r->nstream; i++) {
        bb = buffer(r->stream[i], r->stream_len[i]);
        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_SEND_MESSAGE;
        op.data.send_message.send_message = bb;
        batch(fs, call, &op, 1, TAG_SEND);
        grpc_byte_buffer_destroy(bb);
    }
    if (r->hold_open) {
        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        op.data.recv_close_on_server.cancelled = &cancelled;
        batch(fs, call, &op, 1, TAG_CLOSE);
        return;
    }
    send_status(fs, call, r, 0);
}

static void
handle(fake_server_t *fs, grpc_call *call, const grpc_call_details *det)
{
    grpc_byte_buffer *req = NULL;
    grpc_byte_buffer_reader rd;
    grpc_slice body = grpc_empty_slice();
    fake_reply_t r;
    grpc_op op;
    char method[64];
    size_t i, mlen;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &req;
    batch(fs, call, &op, 1, TAG_RECV);
    if (req == NULL) {
        /* The client cancelled before its request arrived: nothing to
         * answer, and nothing the handler should judge. */
        memset(&r, 0, sizeof(r));
        r.status = GRPC_STATUS_CANCELLED;
        send_status(fs, call, &r, 1);
        return;
    }
    ASSERT(grpc_byte_buffer_reader_init(&rd, req));
    body = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    grpc_byte_buffer_destroy(req);
    mlen = GRPC_SLICE_LENGTH(det->method);
    if (mlen >= sizeof(method))
        mlen = sizeof(method) - 1;
    memcpy(method, GRPC_SLICE_START_PTR(det->method), mlen);
    method[mlen] = '\0';
    memset(&r, 0, sizeof(r));
    fs->handler(fs->ud, method, GRPC_SLICE_START_PTR(body),
                GRPC_SLICE_LENGTH(body), &r);
    grpc_slice_unref(body);
    /* Count the call before replying: the client may check right after. */
    pthread_mutex_lock(&fs->lock);
    if (fs->ncalls < MAX_CALLS)
        memcpy(fs->methods[fs->ncalls], method, sizeof(method));
    fs->ncalls++;
    pthread_mutex_unlock(&fs->lock);
    if (r.delay_ms)
        usleep((useconds_t)r.delay_ms * 1000);
    if (r.streaming)
        send_stream(fs, call, &r);
    else
        send_status(fs, call, &r, 1);
    free(r.message);
    free(r.details);
    free(r.body);
    for (i = 0; i < r.nstream; i++)
        free(r.stream[i]);
}

static void *
serve(void *arg)
{
    fake_server_t *fs = arg;
    grpc_call_details det;
    grpc_metadata_array md;
    grpc_call *call;
    int ok;

    for (;;) {
        call = NULL;
        grpc_call_details_init(&det);
        grpc_metadata_array_init(&md);
        ASSERT_EQ(grpc_server_request_call(fs->server, &call, &det, &md,
                                           fs->cq, fs->cq, (void *)TAG_NEW),
                  GRPC_CALL_OK);
        ok = wait_for(fs, TAG_NEW);
        if (ok)
            handle(fs, call, &det);
        grpc_call_details_destroy(&det);
        grpc_metadata_array_destroy(&md);
        if (call != NULL)
            grpc_call_unref(call);
        if (!ok)
            break;
    }
    if (!fs->shutdown_seen)
        wait_for(fs, TAG_SHUTDOWN);
    return NULL;
}

fake_server_t *
fake_server_start(fake_handler_t h, void *ud, const fake_tls_t *tls)
{
    fake_server_t *fs = calloc(1, sizeof(*fs));
    grpc_server_credentials *creds;
    grpc_ssl_pem_key_cert_pair pair;

    ASSERT_NOT_NULL(fs);
    grpc_init();
    fs->handler = h;
    fs->ud = ud;
    pthread_mutex_init(&fs->lock, NULL);
    fs->cq = grpc_completion_queue_create_for_next(NULL);
    fs->server = grpc_server_create(NULL, NULL);
    grpc_server_register_completion_queue(fs->server, fs->cq, NULL);
    if (tls == NULL)
        creds = grpc_insecure_server_credentials_create();
    else {
        pair.private_key = tls->key_pem;
        pair.cert_chain = tls->cert_pem;
        creds = grpc_ssl_server_credentials_create_ex(
            tls->client_ca_pem, &pair, 1,
            tls->client_ca_pem
                ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            NULL);
    }
    ASSERT_NOT_NULL(creds);
    fs->port = grpc_server_add_http2_port(fs->server, "127.0.0.1:0", creds);
    grpc_server_credentials_release(creds);
    ASSERT(fs->port > 0);
    snprintf(fs->target, sizeof(fs->target), "127.0.0.1:%d", fs->port);
    grpc_server_start(fs->server);
    ASSERT_EQ(pthread_create(&fs->thread, NULL, serve, fs), 0);
    return fs;
}

int
fake_server_port(const fake_server_t *fs)
{
    return fs->port;
}

const char *
fake_server_target(const fake_server_t *fs)
{
    return fs->target;
}

int
fake_server_calls(fake_server_t *fs)
{
    int n;

    pthread_mutex_lock(&fs->lock);
    n = fs->ncalls;
    pthread_mutex_unlock(&fs->lock);
    return n;
}

const char *
fake_server_method(fake_server_t *fs, int i)
{
    ASSERT(i >= 0 && i < MAX_CALLS && i < fake_server_calls(fs));
    return fs->methods[i];
}

void
fake_server_stop(fake_server_t *fs)
{
    grpc_server_shutdown_and_notify(fs->server, fs->cq, (void *)TAG_SHUTDOWN);
    grpc_server_cancel_all_calls(fs->server);
    ASSERT_EQ(pthread_join(fs->thread, NULL), 0);
    grpc_server_destroy(fs->server);
    grpc_completion_queue_shutdown(fs->cq);
    while (grpc_completion_queue_next(fs->cq,
                                      gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
               .type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(fs->cq);
    pthread_mutex_destroy(&fs->lock);
    free(fs);
    grpc_shutdown();
}
