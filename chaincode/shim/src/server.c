/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chaincode-as-a-service server: gRPC core transport for conn.c.
 *
 * One thread (the caller of hlf_chaincode_server_serve) drives a single
 * completion queue. Every tag is an op_t whose callback handles the
 * completion, so the loop is just "next event, call its callback". Each
 * /protos.Chaincode/Connect call is a stream_t that embeds an hlf__conn_t:
 * it keeps exactly one RECV_MESSAGE armed, at most one SEND_MESSAGE in
 * flight (later sends wait in a FIFO) and one RECV_CLOSE_ON_SERVER. All
 * grpc_call_start_batch calls on a stream happen under its conn mutex,
 * which serialises them as gRPC requires. Transactions run on a fixed
 * worker pool because the stub API blocks while waiting for the peer.
 *
 * Shutdown: stop accepting (grpc_server_shutdown_and_notify), cancel every
 * call (their receives fail, which closes the connections and wakes waiting
 * transactions with HLF_ECLOSED), keep pumping the queue until the server
 * has shut down and every stream is freed, join the workers, destroy the
 * server, then shut down and drain the queue to GRPC_QUEUE_SHUTDOWN.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include <hlf/err.h>
#include <hlf/log.h>

#include "shim_internal.h"

#define CONNECT_METHOD "/protos.Chaincode/Connect"
#define DEFAULT_WORKERS 8
#define MAX_WORKERS 256
#define MAX_MESSAGE (100 * 1024 * 1024)
#define POLL_MS 100
#define MAX_PEM_FILE (1024 * 1024)

/* Bumped by hlf_chaincode_server_stop(); lock-free, so signal-safe. */
static atomic_uint g_stop_gen;

typedef struct op op_t;
struct op {
    void (*done)(op_t *op, int ok);
};

#define CONTAINER_OF(ptr, type, member)                                      \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct send_item send_item_t;
struct send_item {
    send_item_t *next;
    uint8_t *bytes;
    size_t len;
};

typedef struct stream stream_t;

struct hlf_chaincode_server_s {
    grpc_server *server;
    grpc_completion_queue *cq;
    hlf_chaincode_t cc;
    char *chaincode_id;
    char *msp_id;
    int port;
    int workers;
    unsigned stop_gen;
    atomic_int shutdown_requested;
    int served;

    /* Server shutdown progress; touched only by the queue thread. */
    int stopping;
    op_t shutdown_op;
    int shutdown_done;

    /* Pending grpc_server_request_call. */
    op_t accept_op;
    int accept_pending;
    grpc_call *new_call;
    grpc_call_details details;
    grpc_metadata_array request_md;

    /* Calls not yet freed (streams and rejected calls). */
    pthread_mutex_t mu;
    int n_calls;

    /* Worker pool. */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    hlf_stub_t *jobs_head;
    hlf_stub_t *jobs_tail;
    int pool_stop;
    pthread_t *threads;
    int n_threads;
};

struct stream {
    hlf__conn_t conn;              /* conn.mu guards everything below */
    hlf_chaincode_server_t *srv;
    grpc_call *call;
    int pending;                   /* grpc ops in flight */
    int ended;                     /* no more receives, sends dropped */
    int released;                  /* transport reference dropped */

    op_t start_op;                 /* SEND_INITIAL_METADATA + RECV_CLOSE */
    int cancelled;

    op_t recv_op;
    grpc_byte_buffer *recv_buf;

    op_t send_op;
    grpc_byte_buffer *send_buf;
    int sending;
    send_item_t *q_head;
    send_item_t *q_tail;

    op_t status_op;
    int status_started;
};

/* A call to an unknown method, answered UNIMPLEMENTED. */
typedef struct {
    op_t op;
    hlf_chaincode_server_t *srv;
    grpc_call *call;
    int cancelled;
} reject_t;

static void
calls_add(hlf_chaincode_server_t *srv, int delta)
{
    pthread_mutex_lock(&srv->mu);
    srv->n_calls += delta;
    pthread_mutex_unlock(&srv->mu);
}

static int
calls_count(hlf_chaincode_server_t *srv)
{
    int n;

    pthread_mutex_lock(&srv->mu);
    n = srv->n_calls;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */

static void start_status_locked(stream_t *st);

/* Start the next queued send if none is in flight. Holds conn.mu. */
static void
pump_sends_locked(stream_t *st)
{
    send_item_t *it;
    grpc_slice slice;
    grpc_op op;
    grpc_call_error e;

    if (st->sending || st->ended || st->q_head == NULL)
        return;
    it = st->q_head;
    st->q_head = it->next;
    if (st->q_head == NULL)
        st->q_tail = NULL;
    /* The slice takes the bytes and frees them when gRPC is done. */
    if (it->len > 0) {
        slice = grpc_slice_new(it->bytes, it->len, free);
    } else {
        free(it->bytes);
        slice = grpc_empty_slice();
    }
    free(it);
    st->send_buf = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = st->send_buf;
    e = grpc_call_start_batch(st->call, &op, 1, &st->send_op, NULL);
    if (e != GRPC_CALL_OK) {
        hlf_log(HLF_LOG_ERROR, HLF__LOG_COMPONENT,
                "[%s] SEND_MESSAGE refused (%d)", st->conn.peer, (int)e);
        grpc_byte_buffer_destroy(st->send_buf);
        st->send_buf = NULL;
        return;
    }
    st->sending = 1;
    st->pending++;
}

/* conn.c -> transport: queue bytes for the peer. Holds conn.mu. */
static void
stream_send(hlf__conn_t *conn, uint8_t *bytes, size_t len)
{
    stream_t *st = CONTAINER_OF(conn, stream_t, conn);
    send_item_t *it;

    if (st->ended) {
        free(bytes);
        return;
    }
    it = malloc(sizeof(*it));
    if (it == NULL) {
        hlf_log(HLF_LOG_ERROR, HLF__LOG_COMPONENT,
                "[%s] out of memory queueing a message", conn->peer);
        free(bytes);
        return;
    }
    it->next = NULL;
    it->bytes = bytes;
    it->len = len;
    if (st->q_tail != NULL)
        st->q_tail->next = it;
    else
        st->q_head = it;
    st->q_tail = it;
    pump_sends_locked(st);
}

/* conn.c -> transport: run a transaction on the worker pool. */
static void
stream_spawn(hlf__conn_t *conn, hlf_stub_t *stub)
{
    stream_t *st = CONTAINER_OF(conn, stream_t, conn);
    hlf_chaincode_server_t *srv = st->srv;

    stub->job_next = NULL;
    pthread_mutex_lock(&srv->pool_mu);
    if (srv->jobs_tail != NULL)
        srv->jobs_tail->job_next = stub;
    else
        srv->jobs_head = stub;
    srv->jobs_tail = stub;
    pthread_cond_signal(&srv->pool_cv);
    pthread_mutex_unlock(&srv->pool_mu);
}

static void
drop_queue_locked(stream_t *st)
{
    while (st->q_head != NULL) {
        send_item_t *it = st->q_head;
        st->q_head = it->next;
        free(it->bytes);
        free(it);
    }
    st->q_tail = NULL;
}

/* conn.c -> transport: the last reference is gone. */
static void
stream_destroy(hlf__conn_t *conn)
{
    stream_t *st = CONTAINER_OF(conn, stream_t, conn);
    hlf_chaincode_server_t *srv = st->srv;

    drop_queue_locked(st);
    if (st->recv_buf != NULL)
        grpc_byte_buffer_destroy(st->recv_buf);
    grpc_call_unref(st->call);
    free(st);
    calls_add(srv, -1);
}

static const hlf__conn_ops_t stream_ops = {
    stream_send,
    stream_spawn,
    stream_destroy,
};

/*
 * No more receives: drop queued sends and finish the call with a status
 * once no SEND_MESSAGE is in flight. Holds conn.mu.
 */
static void
end_locked(stream_t *st)
{
    st->ended = 1;
    drop_queue_locked(st);
    if (!st->sending)
        start_status_locked(st);
}

/*
 * Called after every completion with conn.mu held; returns 1 when the
 * transport's reference must now be dropped (outside the lock).
 */
static int
release_check_locked(stream_t *st)
{
    if (st->ended && st->pending == 0 && !st->released) {
        st->released = 1;
        return 1;
    }
    return 0;
}

static void
finish_op(stream_t *st)
{
    int rel;

    rel = release_check_locked(st);
    pthread_mutex_unlock(&st->conn.mu);
    if (rel)
        hlf__conn_unref(&st->conn);
}

static void
status_done(op_t *op, int ok)
{
    stream_t *st = CONTAINER_OF(op, stream_t, status_op);

    pthread_mutex_lock(&st->conn.mu);
    st->pending--;
    finish_op(st);
}

static void
start_status_locked(stream_t *st)
{
    grpc_op op;
    grpc_call_error e;

    if (st->status_started)
        return;
    st->status_started = 1;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op.data.send_status_from_server.status = GRPC_STATUS_OK;
    e = grpc_call_start_batch(st->call, &op, 1, &st->status_op, NULL);
    if (e == GRPC_CALL_OK)
        st->pending++;
}

static void
send_done(op_t *op, int ok)
{
    stream_t *st = CONTAINER_OF(op, stream_t, send_op);

    pthread_mutex_lock(&st->conn.mu);
    st->pending--;
    st->sending = 0;
    grpc_byte_buffer_destroy(st->send_buf);
    st->send_buf = NULL;
    if (!ok && !st->ended) {
        /* The call is broken; the pending receive fails too and ends the
         * stream, so just stop sending. */
        hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT, "[%s] send failed",
                st->conn.peer);
        drop_queue_locked(st);
    }
    if (st->ended)
        start_status_locked(st);
    else
        pump_sends_locked(st);
    finish_op(st);
}

static void
start_done(op_t *op, int ok)
{
    stream_t *st = CONTAINER_OF(op, stream_t, start_op);

    pthread_mutex_lock(&st->conn.mu);
    st->pending--;
    finish_op(st);
}

static int start_recv_locked(stream_t *st);

static void
recv_done(op_t *op, int ok)
{
    stream_t *st = CONTAINER_OF(op, stream_t, recv_op);
    grpc_byte_buffer *buf = st->recv_buf;
    grpc_byte_buffer_reader reader;
    grpc_slice slice;

    st->recv_buf = NULL;
    if (ok && buf != NULL) {
        if (grpc_byte_buffer_reader_init(&reader, buf)) {
            slice = grpc_byte_buffer_reader_readall(&reader);
            grpc_byte_buffer_reader_destroy(&reader);
            hlf__conn_dispatch(&st->conn, GRPC_SLICE_START_PTR(slice),
                               GRPC_SLICE_LENGTH(slice));
            grpc_slice_unref(slice);
        } else {
            hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT,
                    "[%s] unreadable message", st->conn.peer);
        }
        grpc_byte_buffer_destroy(buf);
        pthread_mutex_lock(&st->conn.mu);
        st->pending--;
        if (!st->ended && start_recv_locked(st) != HLF_OK) {
            pthread_mutex_unlock(&st->conn.mu);
            hlf__conn_close(&st->conn);
            pthread_mutex_lock(&st->conn.mu);
            end_locked(st);
        }
        finish_op(st);
        return;
    }
    if (buf != NULL)
        grpc_byte_buffer_destroy(buf);
    hlf_log(HLF_LOG_INFO, HLF__LOG_COMPONENT, "[%s] stream closed",
            st->conn.peer);
    hlf__conn_close(&st->conn);
    pthread_mutex_lock(&st->conn.mu);
    st->pending--;
    end_locked(st);
    finish_op(st);
}

static int
start_recv_locked(stream_t *st)
{
    grpc_op op;
    grpc_call_error e;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &st->recv_buf;
    e = grpc_call_start_batch(st->call, &op, 1, &st->recv_op, NULL);
    if (e != GRPC_CALL_OK) {
        hlf_log(HLF_LOG_ERROR, HLF__LOG_COMPONENT,
                "[%s] RECV_MESSAGE refused (%d)", st->conn.peer, (int)e);
        return HLF_EIO;
    }
    st->pending++;
    return HLF_OK;
}

/* A new Connect call: set up the stream, speak first, start receiving. */
static void
stream_start(hlf_chaincode_server_t *srv, grpc_call *call)
{
    stream_t *st;
    grpc_op ops[2];
    char *peer;
    int ok;

    st = calloc(1, sizeof(*st));
    peer = grpc_call_get_peer(call);
    if (st == NULL ||
        hlf__conn_init(&st->conn, &stream_ops, st, &srv->cc,
                       srv->chaincode_id, srv->msp_id, peer) != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, HLF__LOG_COMPONENT,
                "out of memory accepting a stream from %s",
                peer ? peer : "?");
        gpr_free(peer);
        free(st);
        grpc_call_cancel(call, NULL);
        grpc_call_unref(call);
        return;
    }
    hlf_log(HLF_LOG_INFO, HLF__LOG_COMPONENT, "[%s] stream opened", peer);
    gpr_free(peer);
    st->srv = srv;
    st->call = call;
    st->start_op.done = start_done;
    st->recv_op.done = recv_done;
    st->send_op.done = send_done;
    st->status_op.done = status_done;
    calls_add(srv, 1);

    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[1].data.recv_close_on_server.cancelled = &st->cancelled;
    pthread_mutex_lock(&st->conn.mu);
    ok = grpc_call_start_batch(call, ops, 2, &st->start_op, NULL) ==
         GRPC_CALL_OK;
    if (ok)
        st->pending++;
    pthread_mutex_unlock(&st->conn.mu);

    if (ok)
        hlf__conn_register(&st->conn);

    pthread_mutex_lock(&st->conn.mu);
    if (!ok || start_recv_locked(st) != HLF_OK) {
        pthread_mutex_unlock(&st->conn.mu);
        hlf__conn_close(&st->conn);
        pthread_mutex_lock(&st->conn.mu);
        end_locked(st);
    }
    finish_op(st);
}

/* ------------------------------------------------------------------------ */
/* Accepting calls                                                          */
/* ------------------------------------------------------------------------ */

static void
reject_done(op_t *op, int ok)
{
    reject_t *rj = CONTAINER_OF(op, reject_t, op);
    hlf_chaincode_server_t *srv = rj->srv;

    grpc_call_unref(rj->call);
    free(rj);
    calls_add(srv, -1);
}

/* Answer a call to another method with UNIMPLEMENTED. */
static void
reject_call(hlf_chaincode_server_t *srv, grpc_call *call)
{
    reject_t *rj = calloc(1, sizeof(*rj));
    grpc_slice details;
    grpc_op ops[3];

    if (rj == NULL) {
        grpc_call_cancel(call, NULL);
        grpc_call_unref(call);
        return;
    }
    rj->op.done = reject_done;
    rj->srv = srv;
    rj->call = call;
    details = grpc_slice_from_static_string("unknown method");
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[1].data.recv_close_on_server.cancelled = &rj->cancelled;
    ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[2].data.send_status_from_server.status = GRPC_STATUS_UNIMPLEMENTED;
    ops[2].data.send_status_from_server.status_details = &details;
    calls_add(srv, 1);
    if (grpc_call_start_batch(call, ops, 3, &rj->op, NULL) != GRPC_CALL_OK) {
        grpc_call_cancel(call, NULL);
        reject_done(&rj->op, 0);
    }
}

static void request_call(hlf_chaincode_server_t *srv);

static void
accept_done(op_t *op, int ok)
{
    hlf_chaincode_server_t *srv =
        CONTAINER_OF(op, hlf_chaincode_server_t, accept_op);
    grpc_call *call = srv->new_call;

    srv->accept_pending = 0;
    srv->new_call = NULL;
    if (ok && call != NULL) {
        if (grpc_slice_str_cmp(srv->details.method, CONNECT_METHOD) == 0) {
            stream_start(srv, call);
        } else {
            char *m = grpc_slice_to_c_string(srv->details.method);
            hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT,
                    "refusing call to unknown method %s", m ? m : "?");
            gpr_free(m);
            reject_call(srv, call);
        }
    } else if (call != NULL) {
        grpc_call_unref(call);
    }
    grpc_call_details_destroy(&srv->details);
    grpc_metadata_array_destroy(&srv->request_md);
    if (!srv->stopping)
        request_call(srv);
}

static void
request_call(hlf_chaincode_server_t *srv)
{
    grpc_call_error e;

    grpc_call_details_init(&srv->details);
    grpc_metadata_array_init(&srv->request_md);
    e = grpc_server_request_call(srv->server, &srv->new_call, &srv->details,
                                 &srv->request_md, srv->cq, srv->cq,
                                 &srv->accept_op);
    if (e != GRPC_CALL_OK) {
        hlf_log(HLF_LOG_ERROR, HLF__LOG_COMPONENT,
                "grpc_server_request_call failed (%d)", (int)e);
        grpc_call_details_destroy(&srv->details);
        grpc_metadata_array_destroy(&srv->request_md);
        return;
    }
    srv->accept_pending = 1;
}

/* ------------------------------------------------------------------------ */
/* Worker pool                                                              */
/* ------------------------------------------------------------------------ */

static void *
worker_main(void *arg)
{
    hlf_chaincode_server_t *srv = arg;
    hlf_stub_t *stub;

    for (;;) {
        pthread_mutex_lock(&srv->pool_mu);
        while (srv->jobs_head == NULL && !srv->pool_stop)
            pthread_cond_wait(&srv->pool_cv, &srv->pool_mu);
        stub = srv->jobs_head;
        if (stub == NULL) {
            pthread_mutex_unlock(&srv->pool_mu);
            return NULL;
        }
        srv->jobs_head = stub->job_next;
        if (srv->jobs_head == NULL)
            srv->jobs_tail = NULL;
        pthread_mutex_unlock(&srv->pool_mu);
        hlf__tx_run(stub);
    }
}

static int
pool_start(hlf_chaincode_server_t *srv, hlf_error_t *err)
{
    int i;

    srv->threads = calloc((size_t)srv->workers, sizeof(pthread_t));
    if (srv->threads == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    for (i = 0; i < srv->workers; i++) {
        if (pthread_create(&srv->threads[i], NULL, worker_main, srv) != 0)
            break;
        srv->n_threads++;
    }
    if (srv->n_threads == 0)
        return hlf_error_set(err, HLF_ENOMEM, "cannot start worker threads");
    return HLF_OK;
}

/* Let the workers finish the queue, then join them. */
static void
pool_stop(hlf_chaincode_server_t *srv)
{
    int i;

    pthread_mutex_lock(&srv->pool_mu);
    srv->pool_stop = 1;
    pthread_cond_broadcast(&srv->pool_cv);
    pthread_mutex_unlock(&srv->pool_mu);
    for (i = 0; i < srv->n_threads; i++)
        pthread_join(srv->threads[i], NULL);
    free(srv->threads);
    srv->threads = NULL;
    srv->n_threads = 0;
}

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

static void
shutdown_done(op_t *op, int ok)
{
    hlf_chaincode_server_t *srv =
        CONTAINER_OF(op, hlf_chaincode_server_t, shutdown_op);

    srv->shutdown_done = 1;
}

/* Run one completion-queue event (or time out after POLL_MS). */
static void
poll_once(hlf_chaincode_server_t *srv)
{
    gpr_timespec deadline = gpr_time_add(
        gpr_now(GPR_CLOCK_MONOTONIC),
        gpr_time_from_millis(POLL_MS, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_next(srv->cq, deadline, NULL);

    if (ev.type == GRPC_OP_COMPLETE && ev.tag != NULL) {
        op_t *op = ev.tag;
        op->done(op, ev.success);
    }
}

/*
 * Stop accepting, cancel every call, and pump the queue until the server
 * has shut down and every call is freed. Worker threads keep running so
 * transactions can finish (they fail fast once their stream is closed).
 */
static void
stop_and_wait(hlf_chaincode_server_t *srv)
{
    if (!srv->stopping) {
        srv->stopping = 1;
        srv->shutdown_op.done = shutdown_done;
        grpc_server_shutdown_and_notify(srv->server, srv->cq,
                                        &srv->shutdown_op);
        grpc_server_cancel_all_calls(srv->server);
    }
    while (!srv->shutdown_done || srv->accept_pending ||
           calls_count(srv) > 0)
        poll_once(srv);
}

static int
stop_requested(hlf_chaincode_server_t *srv)
{
    return atomic_load(&srv->shutdown_requested) ||
           atomic_load(&g_stop_gen) != srv->stop_gen;
}

int
hlf_chaincode_server_serve(hlf_chaincode_server_t *srv, hlf_error_t *err)
{
    int rc;

    if (srv == NULL)
        return hlf_error_set(err, HLF_EINVAL, "server is NULL");
    if (srv->served)
        return hlf_error_set(err, HLF_EINVAL, "server already served");
    srv->served = 1;
    rc = pool_start(srv, err);
    if (rc != HLF_OK) {
        pool_stop(srv);
        stop_and_wait(srv);
        return rc;
    }
    request_call(srv);
    hlf_log(HLF_LOG_INFO, HLF__LOG_COMPONENT,
            "serving chaincode %s on port %d (%d workers)",
            srv->chaincode_id, srv->port, srv->n_threads);
    while (!stop_requested(srv))
        poll_once(srv);
    hlf_log(HLF_LOG_INFO, HLF__LOG_COMPONENT, "stopping chaincode server");
    /* Streams are freed only after their transactions finish, so the
     * workers must still run while the queue is pumped. */
    stop_and_wait(srv);
    pool_stop(srv);
    hlf_log(HLF_LOG_INFO, HLF__LOG_COMPONENT, "chaincode server stopped");
    return HLF_OK;
}

void
hlf_chaincode_server_shutdown(hlf_chaincode_server_t *srv)
{
    if (srv != NULL)
        atomic_store(&srv->shutdown_requested, 1);
}

void
hlf_chaincode_server_stop(void)
{
    atomic_fetch_add(&g_stop_gen, 1);
}

int
hlf_chaincode_server_port(const hlf_chaincode_server_t *srv)
{
    return srv != NULL ? srv->port : 0;
}

/* Read a whole PEM file into a new NUL-terminated string. */
static int
read_pem(const char *path, const char *what, char **out, hlf_error_t *err)
{
    FILE *fp;
    char *buf;
    size_t n;

    *out = NULL;
    fp = fopen(path, "rb");
    if (fp == NULL)
        return hlf_error_set(err, HLF_ECONFIG, "cannot open %s %s: %s", what,
                             path, strerror(errno));
    buf = malloc(MAX_PEM_FILE + 1);
    if (buf == NULL) {
        fclose(fp);
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    }
    n = fread(buf, 1, MAX_PEM_FILE + 1, fp);
    fclose(fp);
    if (n == 0 || n > MAX_PEM_FILE) {
        free(buf);
        return hlf_error_set(err, HLF_ECONFIG, "%s %s is %s", what, path,
                             n == 0 ? "empty or unreadable" : "too large");
    }
    buf[n] = '\0';
    *out = buf;
    return HLF_OK;
}

/* Wipe and free a buffer that held key material. */
static void
free_secret(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static int
make_credentials(const hlf_chaincode_server_opts_t *opts,
                 grpc_server_credentials **creds, hlf_error_t *err)
{
    grpc_ssl_pem_key_cert_pair pair;
    char *key = NULL, *cert = NULL, *ca = NULL;
    int rc;

    *creds = NULL;
    if (opts->tls_cert_file == NULL) {
        *creds = grpc_insecure_server_credentials_create();
        return HLF_OK;
    }
    rc = read_pem(opts->tls_cert_file, "TLS certificate", &cert, err);
    if (rc == HLF_OK)
        rc = read_pem(opts->tls_key_file, "TLS key", &key, err);
    if (rc == HLF_OK && opts->client_ca_file != NULL)
        rc = read_pem(opts->client_ca_file, "client CA", &ca, err);
    if (rc != HLF_OK)
        goto out;
    pair.private_key = key;
    pair.cert_chain = cert;
    *creds = grpc_ssl_server_credentials_create_ex(
        ca, &pair, 1,
        ca != NULL ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                   : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
        NULL);
    if (*creds == NULL)
        rc = hlf_error_set(err, HLF_ECONFIG,
                           "cannot build TLS credentials from %s and %s",
                           opts->tls_cert_file, opts->tls_key_file);
out:
    free_secret(key);
    free(cert);
    free(ca);
    return rc;
}

/*
 * Free a server whose gRPC server is shut down (or was never started):
 * destroy it, drain the queue to GRPC_QUEUE_SHUTDOWN, free the rest.
 */
static void
destroy(hlf_chaincode_server_t *srv)
{
    grpc_event ev;

    if (srv->server != NULL)
        grpc_server_destroy(srv->server);
    if (srv->cq != NULL) {
        grpc_completion_queue_shutdown(srv->cq);
        do {
            ev = grpc_completion_queue_next(
                srv->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        } while (ev.type != GRPC_QUEUE_SHUTDOWN);
        grpc_completion_queue_destroy(srv->cq);
    }
    free(srv->chaincode_id);
    free(srv->msp_id);
    pthread_cond_destroy(&srv->pool_cv);
    pthread_mutex_destroy(&srv->pool_mu);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
    grpc_shutdown();
}

static int
check_opts(const hlf_chaincode_server_opts_t *opts, const hlf_chaincode_t *cc,
           hlf_error_t *err)
{
    if (opts == NULL || cc == NULL)
        return hlf_error_set(err, HLF_EINVAL, "options or chaincode is NULL");
    if (cc->invoke == NULL)
        return hlf_error_set(err, HLF_EINVAL, "chaincode has no invoke");
    if (opts->address == NULL || opts->address[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL, "listen address is empty");
    if (opts->chaincode_id == NULL || opts->chaincode_id[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL, "chaincode id is empty");
    if ((opts->tls_cert_file == NULL) != (opts->tls_key_file == NULL))
        return hlf_error_set(err, HLF_EINVAL,
                             "TLS needs both a certificate and a key");
    if (opts->client_ca_file != NULL && opts->tls_cert_file == NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "a client CA needs TLS to be enabled");
    return HLF_OK;
}

int
hlf_chaincode_server_new(hlf_chaincode_server_t **out,
                         const hlf_chaincode_server_opts_t *opts,
                         const hlf_chaincode_t *cc, hlf_error_t *err)
{
    hlf_chaincode_server_t *srv;
    grpc_server_credentials *creds = NULL;
    grpc_arg args[7];
    grpc_channel_args cargs;
    const char *msp;
    int rc, n = 0;

    if (out == NULL)
        return hlf_error_set(err, HLF_EINVAL, "out is NULL");
    *out = NULL;
    rc = check_opts(opts, cc, err);
    if (rc != HLF_OK)
        return rc;
    rc = make_credentials(opts, &creds, err);
    if (rc != HLF_OK)
        return rc;

    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        grpc_server_credentials_release(creds);
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    }
    grpc_init();
    pthread_mutex_init(&srv->mu, NULL);
    pthread_mutex_init(&srv->pool_mu, NULL);
    pthread_cond_init(&srv->pool_cv, NULL);
    srv->cc = *cc;
    srv->stop_gen = atomic_load(&g_stop_gen);
    srv->accept_op.done = accept_done;
    srv->workers = opts->workers > 0 ? opts->workers : DEFAULT_WORKERS;
    if (srv->workers > MAX_WORKERS)
        srv->workers = MAX_WORKERS;
    srv->chaincode_id = strdup(opts->chaincode_id);
    msp = getenv("CORE_PEER_LOCALMSPID");
    srv->msp_id = msp != NULL && msp[0] != '\0' ? strdup(msp) : NULL;
    if (srv->chaincode_id == NULL || (msp && msp[0] && !srv->msp_id)) {
        rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        goto fail;
    }

    /* Transport settings the peer needs (fabric-notes 3.9): accept its
     * 60 s keepalive pings even on an idle stream, 100 MiB messages, and
     * no SO_REUSEPORT so a second server cannot silently share the port. */
    memset(args, 0, sizeof(args));
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS;
    args[n++].value.integer = 10000;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = GRPC_ARG_HTTP2_MAX_PING_STRIKES;
    args[n++].value.integer = 0;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS;
    args[n++].value.integer = 1;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[n++].value.integer = MAX_MESSAGE;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
    args[n++].value.integer = MAX_MESSAGE;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = GRPC_ARG_ALLOW_REUSEPORT;
    args[n++].value.integer = 0;
    cargs.num_args = (size_t)n;
    cargs.args = args;

    srv->cq = grpc_completion_queue_create_for_next(NULL);
    srv->server = grpc_server_create(&cargs, NULL);
    grpc_server_register_completion_queue(srv->server, srv->cq, NULL);
    srv->port = grpc_server_add_http2_port(srv->server, opts->address, creds);
    grpc_server_credentials_release(creds);
    creds = NULL;
    if (srv->port <= 0) {
        rc = hlf_error_set(err, HLF_EIO, "cannot listen on %s",
                           opts->address);
        goto fail;
    }
    grpc_server_start(srv->server);
    *out = srv;
    return HLF_OK;

fail:
    destroy(srv);
    return rc;
}

void
hlf_chaincode_server_free(hlf_chaincode_server_t *srv)
{
    if (srv == NULL)
        return;
    stop_and_wait(srv);
    destroy(srv);
}

int
hlf_chaincode_server_run(const hlf_chaincode_server_opts_t *opts,
                         const hlf_chaincode_t *cc, hlf_error_t *err)
{
    hlf_chaincode_server_t *srv;
    int rc;

    rc = hlf_chaincode_server_new(&srv, opts, cc, err);
    if (rc != HLF_OK)
        return rc;
    rc = hlf_chaincode_server_serve(srv, err);
    hlf_chaincode_server_free(srv);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Environment                                                              */
/* ------------------------------------------------------------------------ */

/* Go's strconv.ParseBool spellings. 1/0, or -1 when not a boolean. */
static int
parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false",
                                     "False"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0)
            return 1;
        if (strcmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

static const char *
env_nonempty(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

int
hlf_chaincode_server_opts_from_env(hlf_chaincode_server_opts_t *opts,
                                   hlf_error_t *err)
{
    const char *v;
    char *end;
    long workers;
    int tls;

    if (opts == NULL)
        return hlf_error_set(err, HLF_EINVAL, "opts is NULL");
    memset(opts, 0, sizeof(*opts));
    opts->chaincode_id = env_nonempty("CHAINCODE_ID");
    if (opts->chaincode_id == NULL)
        return hlf_error_set(err, HLF_ECONFIG,
                             "CHAINCODE_ID is not set (the package id)");
    opts->address = env_nonempty("CHAINCODE_SERVER_ADDRESS");
    if (opts->address == NULL)
        return hlf_error_set(err, HLF_ECONFIG,
                             "CHAINCODE_SERVER_ADDRESS is not set "
                             "(host:port to listen on)");
    v = env_nonempty("CHAINCODE_TLS_DISABLED");
    tls = 0;
    if (v != NULL) {
        int disabled = parse_bool(v);
        if (disabled < 0)
            return hlf_error_set(err, HLF_ECONFIG,
                                 "CHAINCODE_TLS_DISABLED=%s is not a boolean",
                                 v);
        tls = !disabled;
    }
    if (tls) {
        opts->tls_cert_file = env_nonempty("CHAINCODE_TLS_CERT");
        opts->tls_key_file = env_nonempty("CHAINCODE_TLS_KEY");
        if (opts->tls_cert_file == NULL)
            return hlf_error_set(err, HLF_ECONFIG,
                                 "CHAINCODE_TLS_CERT is not set but TLS is "
                                 "enabled (CHAINCODE_TLS_DISABLED=%s)", v);
        if (opts->tls_key_file == NULL)
            return hlf_error_set(err, HLF_ECONFIG,
                                 "CHAINCODE_TLS_KEY is not set but TLS is "
                                 "enabled (CHAINCODE_TLS_DISABLED=%s)", v);
        opts->client_ca_file = env_nonempty("CHAINCODE_CLIENT_CA_CERT");
    } else if (env_nonempty("CHAINCODE_CLIENT_CA_CERT") != NULL) {
        return hlf_error_set(err, HLF_ECONFIG,
                             "CHAINCODE_CLIENT_CA_CERT is set but TLS is "
                             "disabled (set CHAINCODE_TLS_DISABLED=false)");
    }
    v = env_nonempty("HLF_SHIM_WORKERS");
    if (v != NULL) {
        errno = 0;
        workers = strtol(v, &end, 10);
        if (errno != 0 || *end != '\0' || workers < 1 ||
            workers > MAX_WORKERS)
            return hlf_error_set(err, HLF_ECONFIG,
                                 "HLF_SHIM_WORKERS=%s is not a number in "
                                 "1..%d", v, MAX_WORKERS);
        opts->workers = (int)workers;
    }
    return HLF_OK;
}
