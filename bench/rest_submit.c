/* SPDX-License-Identifier: Apache-2.0 */
/*
 * REST submit load generator for reso-gateway: N RESO events POSTed to
 * /v1/events over C keep-alive connections, one request in flight on
 * each, driven by one epoll thread with non-blocking sockets (so the
 * load generator itself costs little of the machine's two cores). Every
 * request is timed from the first byte sent to the complete answer; the
 * gateway answers 201 only once the transaction committed VALID, so this
 * is submit-to-commit latency as a REST caller sees it, comparable with
 * bench_submit's and the Node client's endorse-to-commit latency.
 *
 * Prints one JSON object, like bench_submit:
 *   {"client":"c-rest","count":N,"concurrency":C,"errors":E,
 *    "statuses":{"201":..},"seconds":S,"tps":T,"p50_ms":..,
 *    "p99_ms":..,"rss_mb":..}
 * tps counts 201 answers only; rss_mb is this process's peak (VmHWM).
 *
 * usage: rest_submit --addr HOST:PORT --key-file FILE --recorder ID
 *                    [--count N] [--concurrency C] [--timeout-s S]
 * The key file holds the bearer key (first line), so it never appears in
 * a process listing. ID is the Recorder registered to the key's org
 * (binding is strict), e.g. orgs.Brokerage.recorder of the env JSON.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "benchlib.h"
#include "hlf/crypto.h"
#include "hlf/err.h"

typedef struct {
    int fd;
    int connecting;
    int busy;           /* a request is in flight */
    int idx;            /* its event number */
    double t0;
    char out[2048];
    size_t out_len, out_off;
    bench_resp_t resp;
} conn_t;

typedef struct {
    const char *host;
    int port;
    char key[256];
    char tag[16];
    const char *recorder; /* borrowed from argv */
    int count, next, done, errors, ep;
    int statuses[600];
    double *lat;        /* one per 201 */
    int nlat;
    int shown;          /* error bodies printed so far */
} run_t;

static int
conn_open(run_t *r, conn_t *c)
{
    struct epoll_event ev;

    c->fd = bench_connect(r->host, r->port, 1);
    if (c->fd < 0)
        return -1;
    c->connecting = 1;
    ev.events = EPOLLOUT;
    ev.data.ptr = c;
    return epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
conn_close(run_t *r, conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->busy = 0;
}

static void
want(run_t *r, conn_t *c, uint32_t events)
{
    struct epoll_event ev;

    ev.events = events;
    ev.data.ptr = c;
    epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what is left of the request; switch to reading once sent. */
static int
flush_out(run_t *r, conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            want(r, c, EPOLLOUT);
            return 0;
        }
        if (w <= 0)
            return -1;
        c->out_off += (size_t)w;
    }
    want(r, c, EPOLLIN);
    return 0;
}

/* Start the next event on c, or close c when all are taken. */
static int
start_request(run_t *r, conn_t *c)
{
    int hlen;

    if (r->next >= r->count) {
        conn_close(r, c);
        return 0;
    }
    c->idx = r->next++;
    hlen = bench_event_request(c->out, sizeof(c->out), r->host, r->port,
                               r->key, r->tag, c->idx, r->recorder,
                               "bench-rest");
    if (hlen < 0)
        return -1;
    c->out_len = (size_t)hlen;
    c->out_off = 0;
    c->busy = 1;
    bench_resp_reset(&c->resp);
    c->t0 = bench_now_ms();
    if (c->connecting)
        return 0; /* sent once the connect completes */
    return flush_out(r, c);
}

static void
finish(run_t *r, conn_t *c, int ok_status)
{
    double ms = bench_now_ms() - c->t0;

    c->busy = 0;
    r->done++;
    r->statuses[c->resp.status]++;
    if (c->resp.status == ok_status) {
        r->lat[r->nlat++] = ms;
        return;
    }
    r->errors++;
    if (r->shown++ < 5)
        fprintf(stderr, "rest_submit: event %d: HTTP %d: %.300s\n", c->idx,
                c->resp.status, c->resp.body != NULL ? c->resp.body : "");
}

/* The connection failed: its request (if any) is an error, never
 * retried (it might have been written); reconnect for the rest. */
static int
conn_failed(run_t *r, conn_t *c, const char *why)
{
    if (c->busy) {
        r->errors++;
        r->done++;
        if (r->shown++ < 5)
            fprintf(stderr, "rest_submit: event %d: %s\n", c->idx, why);
    }
    conn_close(r, c);
    if (r->next >= r->count)
        return 0;
    if (conn_open(r, c) != 0)
        return -1;
    return start_request(r, c);
}

static int
on_event(run_t *r, conn_t *c, uint32_t events)
{
    char buf[16384];

    if (c->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t l = sizeof(err);

        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err != 0)
            return conn_failed(r, c, strerror(err));
        c->connecting = 0;
        return c->busy ? flush_out(r, c) : start_request(r, c);
    }
    if (events & EPOLLOUT)
        return flush_out(r, c) == 0 ? 0 : conn_failed(r, c, "send failed");
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        int rc;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return conn_failed(r, c, strerror(errno));
        if (!c->busy)
            return conn_failed(r, c, "unexpected bytes or close");
        rc = n == 0 ? bench_resp_eof(&c->resp)
                    : bench_resp_feed(&c->resp, buf, (size_t)n);
        if (rc == BENCH_RESP_ERROR)
            return conn_failed(r, c, c->resp.why);
        if (rc == BENCH_RESP_DONE) {
            finish(r, c, 201);
            if (c->resp.close || n == 0)
                return conn_failed(r, c, "closed by the server");
            return start_request(r, c);
        }
        if (n == 0)
            return conn_failed(r, c, "closed by the server");
    }
}

int
main(int argc, char **argv)
{
    const char *addr = NULL, *key_file = NULL;
    int conc = 16, timeout_s = 600, i, nconn, first = 1;
    char host[64];
    conn_t *conns;
    run_t r;
    double t0, secs, p50, p99;
    uint8_t rnd[4];

    memset(&r, 0, sizeof(r));
    r.count = 200;
    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL) {
            fprintf(stderr, "rest_submit: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--addr") == 0)
            addr = v;
        else if (strcmp(argv[i], "--key-file") == 0)
            key_file = v;
        else if (strcmp(argv[i], "--recorder") == 0)
            r.recorder = v;
        else if (strcmp(argv[i], "--count") == 0)
            r.count = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--concurrency") == 0)
            conc = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--timeout-s") == 0)
            timeout_s = (int)strtol(v, NULL, 10);
        else {
            fprintf(stderr, "rest_submit: unknown option %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    if (addr == NULL || key_file == NULL ||
        bench_plain_text(r.recorder) != 0 || r.count < 1 || conc < 1 ||
        conc > 4096 || timeout_s < 1 ||
        bench_parse_addr(addr, host, sizeof(host), &r.port) != 0) {
        fprintf(stderr, "usage: rest_submit --addr HOST:PORT --key-file FILE"
                " --recorder ID [--count N>=1] [--concurrency 1..4096]"
                " [--timeout-s S]\n");
        return 2;
    }
    if (bench_read_key(key_file, r.key, sizeof(r.key)) != 0) {
        fprintf(stderr, "rest_submit: cannot read a key from %s\n", key_file);
        return 2;
    }
    r.host = host;
    if (hlf_random_bytes(rnd, sizeof(rnd)) != HLF_OK)
        return 1;
    hlf_hex_encode(rnd, sizeof(rnd), r.tag);
    nconn = conc < r.count ? conc : r.count;
    conns = calloc((size_t)nconn, sizeof(*conns));
    r.lat = calloc((size_t)r.count, sizeof(double));
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || r.lat == NULL || r.ep < 0)
        return 1;
    t0 = bench_now_ms();
    for (i = 0; i < nconn; i++) {
        conns[i].fd = -1;
        if (conn_open(&r, &conns[i]) != 0 ||
            start_request(&r, &conns[i]) != 0) {
            fprintf(stderr, "rest_submit: cannot connect to %s: %s\n", addr,
                    strerror(errno));
            return 1;
        }
    }
    while (r.done < r.count) {
        struct epoll_event evs[256];
        int n = epoll_wait(r.ep, evs, 256, 1000), k;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 1;
        for (k = 0; k < n; k++)
            if (on_event(&r, evs[k].data.ptr, evs[k].events) != 0) {
                fprintf(stderr, "rest_submit: cannot reconnect: %s\n",
                        strerror(errno));
                return 1;
            }
        if (bench_now_ms() - t0 > timeout_s * 1e3) {
            fprintf(stderr, "rest_submit: timed out after %d s with %d of "
                    "%d answered\n", timeout_s, r.done, r.count);
            r.errors += r.count - r.done;
            break;
        }
    }
    secs = (bench_now_ms() - t0) / 1e3;
    p50 = bench_quantile(r.lat, (size_t)r.nlat, 0.50);
    p99 = bench_quantile(r.lat, (size_t)r.nlat, 0.99);
    printf("{\"client\":\"c-rest\",\"count\":%d,\"concurrency\":%d,"
           "\"errors\":%d,\"statuses\":{", r.count, conc, r.errors);
    for (i = 0; i < 600; i++)
        if (r.statuses[i] > 0) {
            printf("%s\"%d\":%d", first ? "" : ",", i, r.statuses[i]);
            first = 0;
        }
    printf("},\"seconds\":%.3f,\"tps\":%.1f,\"p50_ms\":%.1f,\"p99_ms\":%.1f,"
           "\"rss_mb\":%.1f}\n", secs, r.nlat / secs, p50, p99,
           bench_proc_mb(0, "VmHWM"));
    for (i = 0; i < nconn; i++) {
        conn_close(&r, &conns[i]);
        bench_resp_free(&conns[i].resp);
    }
    close(r.ep);
    free(conns);
    free(r.lat);
    return r.errors ? 1 : 0;
}
