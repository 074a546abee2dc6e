/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/rpc_conn.c and rpc_call.c against the in-process
 * fake server: unary calls, deadlines, unreachable peers, status details,
 * many threads on one connection, server streams with end/error/cancel,
 * connection options, and TLS / mutual TLS with a server-name override.
 */
#include "fake_gateway.h"
#include "hlf/conn.h"
#include "hlf/mem.h"
#include "rpc.h"
#include "task.h"
#include "testutil.h"

#include <openssl/pem.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static hlf_conn_t *
plain_conn(const char *target)
{
    hlf_conn_opts_t o;
    hlf_conn_t *c = NULL;
    hlf_error_t e;

    memset(&o, 0, sizeof(o));
    o.target = target;
    o.insecure_plaintext = 1;
    ASSERT_EQ(hlf_conn_new(&o, &c, &e), HLF_OK);
    ASSERT_NOT_NULL(c);
    return c;
}

/* ------------------------------------------------------------------------
 * Handlers
 * ---------------------------------------------------------------------- */

/* Reply "echo:" + request; the method "/t.S/Slow" waits 2 s first. */
static void
echo_handler(void *ud, const char *method, const uint8_t *req, size_t len,
             fake_reply_t *r)
{
    (void)ud;
    r->body = malloc(len + 5);
    ASSERT_NOT_NULL(r->body);
    memcpy(r->body, "echo:", 5);
    memcpy(r->body + 5, req, len);
    r->body_len = len + 5;
    if (strcmp(method, "/t.S/Slow") == 0)
        r->delay_ms = 2000;
}

static void
status_handler(void *ud, const char *method, const uint8_t *req, size_t len,
               fake_reply_t *r)
{
    static const char msg[] =
        "failed to endorse transaction, see attached details for more info";
    static const fg_detail_t d = {"BrokerageMSP",
                                  "peer0.brokerage.reso.example:7051",
                                  "chaincode response 400, {\"error\":{}}"};

    (void)ud;
    (void)method;
    (void)req;
    (void)len;
    r->status = 10; /* Aborted */
    r->message = strdup(msg);
    r->details = fg_status(10, msg, &d, 1, 0, &r->details_len);
}

/* Streams: "/t.S/Three" sends a,b,c then OK; "/t.S/Denied" sends x then
 * PermissionDenied; "/t.S/Hold" sends h and waits for cancellation. */
static void
stream_handler(void *ud, const char *method, const uint8_t *req, size_t len,
               fake_reply_t *r)
{
    (void)ud;
    (void)req;
    (void)len;
    r->streaming = 1;
    if (strcmp(method, "/t.S/Three") == 0) {
        r->stream[0] = fake_dup("a", 1);
        r->stream[1] = fake_dup("bb", 2);
        r->stream[2] = fake_dup("", 0);
        r->stream_len[0] = 1;
        r->stream_len[1] = 2;
        r->stream_len[2] = 0;
        r->nstream = 3;
    } else if (strcmp(method, "/t.S/Denied") == 0) {
        r->stream[0] = fake_dup("x", 1);
        r->stream_len[0] = 1;
        r->nstream = 1;
        r->status = 7;
        r->message = strdup("access denied");
    } else {
        r->stream[0] = fake_dup("h", 1);
        r->stream_len[0] = 1;
        r->nstream = 1;
        r->hold_open = 1;
    }
}

/* ------------------------------------------------------------------------
 * Unary
 * ---------------------------------------------------------------------- */

TEST_IMPL(rpc_unary_echo)
{
    fake_server_t *fs = fake_server_start(echo_handler, NULL, NULL);
    hlf_conn_t *c = plain_conn(fake_server_target(fs));
    uint8_t *resp = NULL;
    size_t len = 0;
    hlf_error_t e;

    hlf_error_clear(&e);
    ASSERT_EQ(hlf__rpc_unary(c, "/t.S/Echo", (const uint8_t *)"hi", 2, 5000,
                             &resp, &len, &e),
              HLF_OK);
    ASSERT_EQ(len, 7);
    ASSERT_MEM_EQ(resp, "echo:hi", 7);
    ASSERT_EQ(resp[7], 0); /* NUL-terminated for convenience */
    hlf_free(resp);
    /* An empty request is a valid message too. */
    ASSERT_EQ(hlf__rpc_unary(c, "/t.S/Echo", NULL, 0, 5000, &resp, &len, &e),
              HLF_OK);
    ASSERT_EQ(len, 5);
    hlf_free(resp);
    ASSERT_STR_EQ(hlf_conn_target(c), fake_server_target(fs));
    ASSERT_EQ(hlf_conn_wait_ready(c, 5000, &e), HLF_OK);
    hlf_conn_close(c);
    ASSERT_EQ(fake_server_calls(fs), 2);
    ASSERT_STR_EQ(fake_server_method(fs, 0), "/t.S/Echo");
    fake_server_stop(fs);
}

TEST_IMPL(rpc_deadline_timedout)
{
    fake_server_t *fs = fake_server_start(echo_handler, NULL, NULL);
    hlf_conn_t *c = plain_conn(fake_server_target(fs));
    uint8_t *resp = (uint8_t *)"x";
    size_t len = 1;
    hlf_error_t e;
    int64_t t0, dt;

    hlf_error_clear(&e);
    t0 = now_ms();
    ASSERT_EQ(hlf__rpc_unary(c, "/t.S/Slow", (const uint8_t *)"z", 1, 300,
                             &resp, &len, &e),
              HLF_ETIMEDOUT);
    dt = now_ms() - t0;
    ASSERT_GE(dt, 250);
    ASSERT_LE(dt, 1500);
    ASSERT_NULL(resp);
    ASSERT_EQ(len, 0);
    ASSERT_EQ(e.code, HLF_ETIMEDOUT);
    ASSERT_EQ(e.grpc_status, 4);
    ASSERT_STR_EQ(e.text, "DeadlineExceeded: Deadline Exceeded");
    hlf_conn_close(c);
    fake_server_stop(fs);
}

TEST_IMPL(rpc_unreachable_unavailable)
{
    char target[64];
    hlf_conn_t *c;
    uint8_t *resp;
    size_t len;
    hlf_error_t e;
    int64_t t0;

    snprintf(target, sizeof(target), "127.0.0.1:%d", tu_closed_port());
    c = plain_conn(target);
    hlf_error_clear(&e);
    t0 = now_ms();
    ASSERT_EQ(hlf__rpc_unary(c, "/t.S/Echo", (const uint8_t *)"a", 1, 5000,
                             &resp, &len, &e),
              HLF_EUNAVAIL);
    ASSERT_LE(now_ms() - t0, 4000);
    ASSERT_EQ(e.grpc_status, 14);
    ASSERT_EQ(strncmp(e.text, "Unavailable: ", 13), 0);
    ASSERT_EQ(hlf_conn_wait_ready(c, 3000, &e), HLF_EUNAVAIL);
    ASSERT_EQ(e.code, HLF_EUNAVAIL);
    hlf_conn_close(c);
}

TEST_IMPL(rpc_status_details)
{
    fake_server_t *fs = fake_server_start(status_handler, NULL, NULL);
    hlf_conn_t *c = plain_conn(fake_server_target(fs));
    uint8_t *resp;
    size_t len;
    hlf_error_t e;

    hlf_error_clear(&e);
    ASSERT_EQ(hlf__rpc_unary(c, HLF__GW_ENDORSE, (const uint8_t *)"a", 1,
                             5000, &resp, &len, &e),
              HLF_EGRPC);
    ASSERT_EQ(e.grpc_status, 10);
    ASSERT_STR_EQ(e.text,
                  "Aborted: failed to endorse transaction, see attached "
                  "details for more info [BrokerageMSP@peer0.brokerage.reso."
                  "example:7051: chaincode response 400, {\"error\":{}}]");
    ASSERT_EQ(e.chaincode_status, 400);
    ASSERT_STR_EQ(e.chaincode_message, "{\"error\":{}}");
    hlf_conn_close(c);
    ASSERT_STR_EQ(fake_server_method(fs, 0), "/gateway.Gateway/Endorse");
    fake_server_stop(fs);
}

/* ------------------------------------------------------------------------
 * Many threads, one connection
 * ---------------------------------------------------------------------- */

#define THREADS 10
#define CALLS 20

typedef struct {
    hlf_conn_t *conn;
    int id;
    int ok;
} worker_t;

static void *
worker(void *arg)
{
    worker_t *w = arg;
    char req[32], want[40];
    uint8_t *resp;
    size_t len;
    int i, n;

    for (i = 0; i < CALLS; i++) {
        n = snprintf(req, sizeof(req), "t%d-c%d", w->id, i);
        snprintf(want, sizeof(want), "echo:%s", req);
        if (hlf__rpc_unary(w->conn, "/t.S/Echo", (uint8_t *)req, (size_t)n,
                           10000, &resp, &len, NULL) != HLF_OK)
            continue;
        if (len == strlen(want) && memcmp(resp, want, len) == 0)
            w->ok++;
        hlf_free(resp);
    }
    return NULL;
}

TEST_IMPL(rpc_concurrent_calls)
{
    fake_server_t *fs = fake_server_start(echo_handler, NULL, NULL);
    hlf_conn_t *c = plain_conn(fake_server_target(fs));
    pthread_t th[THREADS];
    worker_t w[THREADS];
    int i, total = 0;

    /* More threads than grpc-core's six pluckers per completion queue. */
    for (i = 0; i < THREADS; i++) {
        w[i].conn = c;
        w[i].id = i;
        w[i].ok = 0;
        ASSERT_EQ(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(w[i].ok, CALLS);
        total += w[i].ok;
    }
    ASSERT_EQ(total, THREADS * CALLS);
    hlf_conn_close(c);
    ASSERT_EQ(fake_server_calls(fs), THREADS * CALLS);
    fake_server_stop(fs);
}

/* ------------------------------------------------------------------------
 * Streams
 * ---------------------------------------------------------------------- */

static int
next(hlf__stream_t *s, char *buf, size_t size, hlf_error_t *e)
{
    uint8_t *msg;
    size_t len;
    int rc = hlf__rpc_stream_next(s, &msg, &len, e);

    buf[0] = '\0';
    if (rc == 1) {
        ASSERT(len < size);
        memcpy(buf, msg, len);
        buf[len] = '\0';
        hlf_free(msg);
    } else {
        ASSERT_NULL(msg);
    }
    return rc;
}

static hlf__stream_t *
open_stream(hlf_conn_t *c, const char *method)
{
    hlf__stream_t *s = NULL;
    hlf_error_t e;

    ASSERT_EQ(hlf__rpc_stream_open(c, method, (const uint8_t *)"q", 1, &s,
                                   &e),
              HLF_OK);
    ASSERT_NOT_NULL(s);
    return s;
}

TEST_IMPL(rpc_stream_end_ok)
{
    fake_server_t *fs = fake_server_start(stream_handler, NULL, NULL);
    hlf_conn_t *c = plain_conn(fake_server_target(fs));
    hlf__stream_t *s;
    hlf_error_t e;
    char buf[16];

    s = open_stream(c, "/t.S/Three");
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), 1);
    ASSERT_STR_EQ(buf, "a");
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), 1);
    ASSERT_STR_EQ(buf, "bb");
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), 1);
    ASSERT_STR_EQ(buf, "");
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), 0);
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), 0);
    hlf__rpc_stream_close(s);
    hlf_conn_close(c);
    fake_server_stop(fs);
}

TEST_IMPL(rpc_stream_error_status)
{
    fake_server_t *fs = fake_server_start(stream_handler, NULL, NULL);
    hlf_conn_t *c = plain_conn(fake_server_target(fs));
    hlf__stream_t *s;
    hlf_error_t e;
    char buf[16];

    s = open_stream(c, "/t.S/Denied");
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), 1);
    ASSERT_STR_EQ(buf, "x");
    hlf_error_clear(&e);
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), HLF_EGRPC);
    ASSERT_EQ(e.grpc_status, 7);
    ASSERT_STR_EQ(e.text, "PermissionDenied: access denied");
    hlf_error_clear(&e);
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), HLF_EGRPC);
    ASSERT_STR_EQ(e.text, "PermissionDenied: access denied");
    hlf__rpc_stream_close(s);
    hlf_conn_close(c);
    fake_server_stop(fs);
}

static void *
cancel_later(void *arg)
{
    usleep(300 * 1000);
    hlf__rpc_stream_cancel(arg);
    return NULL;
}

TEST_IMPL(rpc_stream_cancel)
{
    fake_server_t *fs = fake_server_start(stream_handler, NULL, NULL);
    hlf_conn_t *c = plain_conn(fake_server_target(fs));
    hlf__stream_t *s;
    pthread_t th;
    hlf_error_t e;
    char buf[16];
    int64_t t0;

    s = open_stream(c, "/t.S/Hold");
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), 1);
    ASSERT_STR_EQ(buf, "h");
    t0 = now_ms();
    ASSERT_EQ(pthread_create(&th, NULL, cancel_later, s), 0);
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), HLF_ECLOSED);
    ASSERT_GE(now_ms() - t0, 250);
    pthread_join(th, NULL);
    ASSERT_EQ(e.code, HLF_ECLOSED);
    ASSERT_STR_EQ(e.text, "/t.S/Hold: stream cancelled");
    hlf__rpc_stream_close(s);
    hlf_conn_close(c);
    fake_server_stop(fs);
}

TEST_IMPL(rpc_stream_close_while_open)
{
    fake_server_t *fs = fake_server_start(stream_handler, NULL, NULL);
    hlf_conn_t *c = plain_conn(fake_server_target(fs));
    hlf__stream_t *s;
    hlf_error_t e;
    char buf[16];

    /* Closing a live stream without reading to the end must not hang. */
    s = open_stream(c, "/t.S/Hold");
    ASSERT_EQ(next(s, buf, sizeof(buf), &e), 1);
    hlf__rpc_stream_close(s);
    /* And a stream that was never read. */
    s = open_stream(c, "/t.S/Three");
    hlf__rpc_stream_close(s);
    hlf_conn_close(c);
    fake_server_stop(fs);
}

/* ------------------------------------------------------------------------
 * Options and TLS
 * ---------------------------------------------------------------------- */

TEST_IMPL(rpc_conn_options)
{
    hlf_conn_opts_t o;
    hlf_conn_t *c = (hlf_conn_t *)&o;
    hlf_error_t e;

    memset(&o, 0, sizeof(o));
    ASSERT_EQ(hlf_conn_new(&o, &c, &e), HLF_EINVAL);
    ASSERT_NULL(c);
    ASSERT_STR_EQ(e.text, "connection: no target");
    o.target = "127.0.0.1:1";
    ASSERT_EQ(hlf_conn_new(&o, &c, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "connection 127.0.0.1:1: no TLS CA file");
    o.keepalive_time_ms = 30000;
    o.insecure_plaintext = 1;
    ASSERT_EQ(hlf_conn_new(&o, &c, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "connection 127.0.0.1:1: keepalive 30000 ms is "
                          "below the 60000 ms Fabric peers accept");
    o.keepalive_time_ms = 60000;
    o.tls_ca_file = "/nonexistent/ca.crt";
    ASSERT_EQ(hlf_conn_new(&o, &c, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "connection 127.0.0.1:1: TLS options given with "
                          "insecure_plaintext");
    o.insecure_plaintext = 0;
    ASSERT_EQ(hlf_conn_new(&o, &c, &e), HLF_ENOTFOUND);
    ASSERT_STR_EQ(e.text, "/nonexistent/ca.crt: No such file or directory");
    o.tls_client_cert_file = "/nonexistent/client.crt";
    ASSERT_EQ(hlf_conn_new(&o, &c, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "connection 127.0.0.1:1: mutual TLS needs both a "
                          "client certificate and a key");
    ASSERT_EQ(hlf_conn_new(NULL, &c, &e), HLF_EINVAL);
    hlf_conn_close(NULL);
}

/* A CA, a server certificate for peer0.test.example only (no IP SAN, so
 * dialing 127.0.0.1 needs the name override) and a client certificate. */
typedef struct {
    char *dir;
    char ca_path[600], client_cert[600], client_key[600];
    char *server_cert_pem, *server_key_pem, *ca_pem;
} pki_t;

static void
pki_make(pki_t *p)
{
    EVP_PKEY *cak = tu_keygen(NULL), *sk = tu_keygen(NULL),
             *ck = tu_keygen(NULL);
    X509 *ca = tu_cert(cak, "tlsca.test.example", NULL, NULL, 1, NULL);
    X509 *srv = tu_cert(sk, "peer0.test.example", ca, cak, 0,
                        "DNS:peer0.test.example");
    X509 *cli = tu_cert(ck, "User1@test.example", ca, cak, 0,
                        "DNS:user1.test.example");

    memset(p, 0, sizeof(*p));
    p->dir = tu_mkdtemp();
    snprintf(p->ca_path, sizeof(p->ca_path), "%s/ca.crt", p->dir);
    snprintf(p->client_cert, sizeof(p->client_cert), "%s/client.crt",
             p->dir);
    snprintf(p->client_key, sizeof(p->client_key), "%s/client.key", p->dir);
    tu_write_cert(p->ca_path, ca);
    tu_write_cert(p->client_cert, cli);
    tu_write_key(p->client_key, ck, 0);
    p->ca_pem = tu_cert_pem(ca);
    p->server_cert_pem = tu_cert_pem(srv);
    p->server_key_pem = tu_key_pem(sk);
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(sk);
    EVP_PKEY_free(ck);
}

static void
pki_free(pki_t *p)
{
    tu_rmrf(p->dir);
    free(p->dir);
    free(p->ca_pem);
    free(p->server_cert_pem);
    free(p->server_key_pem);
}

static int
tls_call(const char *target, const char *ca, const char *name,
         const char *cert, const char *key, hlf_error_t *e)
{
    hlf_conn_opts_t o;
    hlf_conn_t *c;
    uint8_t *resp = NULL;
    size_t len;
    int rc;

    memset(&o, 0, sizeof(o));
    o.target = target;
    o.tls_ca_file = ca;
    o.tls_server_name = name;
    o.tls_client_cert_file = cert;
    o.tls_client_key_file = key;
    ASSERT_EQ(hlf_conn_new(&o, &c, e), HLF_OK);
    rc = hlf__rpc_unary(c, "/t.S/Echo", (const uint8_t *)"tls", 3, 5000,
                        &resp, &len, e);
    if (rc == HLF_OK) {
        ASSERT_EQ(len, 8);
        ASSERT_MEM_EQ(resp, "echo:tls", 8);
    }
    hlf_free(resp);
    hlf_conn_close(c);
    return rc;
}

/* Start the echo server with p's server certificate. */
static fake_server_t *
tls_server(pki_t *p, int require_client_cert)
{
    fake_tls_t tls;

    tls.cert_pem = p->server_cert_pem;
    tls.key_pem = p->server_key_pem;
    tls.client_ca_pem = require_client_cert ? p->ca_pem : NULL;
    return fake_server_start(echo_handler, NULL, &tls);
}

TEST_IMPL(rpc_tls_server_name_override)
{
    fake_server_t *fs;
    hlf_error_t e;
    pki_t p;

    pki_make(&p);
    fs = tls_server(&p, 0);
    ASSERT_EQ(tls_call(fake_server_target(fs), p.ca_path,
                       "peer0.test.example", NULL, NULL, &e),
              HLF_OK);
    /* Without the override the certificate does not name 127.0.0.1. */
    ASSERT_EQ(tls_call(fake_server_target(fs), p.ca_path, NULL, NULL, NULL,
                       &e),
              HLF_EUNAVAIL);
    fake_server_stop(fs);
    pki_free(&p);
}

TEST_IMPL(rpc_mutual_tls)
{
    fake_server_t *fs;
    hlf_error_t e;
    pki_t p;

    pki_make(&p);
    fs = tls_server(&p, 1);
    ASSERT_EQ(tls_call(fake_server_target(fs), p.ca_path,
                       "peer0.test.example", p.client_cert, p.client_key,
                       &e),
              HLF_OK);
    /* The server requires a client certificate. */
    ASSERT_EQ(tls_call(fake_server_target(fs), p.ca_path,
                       "peer0.test.example", NULL, NULL, &e),
              HLF_EUNAVAIL);
    ASSERT_EQ(fake_server_calls(fs), 1);
    fake_server_stop(fs);
    pki_free(&p);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(rpc_unary_echo),
    TEST_ENTRY(rpc_deadline_timedout),
    TEST_ENTRY(rpc_unreachable_unavailable),
    TEST_ENTRY(rpc_status_details),
    TEST_ENTRY(rpc_concurrent_calls),
    TEST_ENTRY(rpc_stream_end_ok),
    TEST_ENTRY(rpc_stream_error_status),
    TEST_ENTRY(rpc_stream_cancel),
    TEST_ENTRY(rpc_stream_close_while_open),
    TEST_ENTRY(rpc_conn_options),
    TEST_ENTRY(rpc_tls_server_name_override),
    TEST_ENTRY(rpc_mutual_tls),
};

TEST_MAIN(tests)
