/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SSE fan-out benchmark for reso-gateway: N concurrent GET /v1/stream
 * subscribers held by one epoll thread with non-blocking sockets (no
 * thread per connection), then K paced RESO events recorded through
 * POST /v1/events by a second thread, each delivered to every
 * subscriber.
 *
 * What it measures:
 *  - how many of the N streams the gateway accepted (status 200 and the
 *    stream's first bytes), how long that took, and what failed;
 *  - the gateway's resident memory before the first subscriber and with
 *    all of them idle (after --idle-s), hence memory per subscriber, and
 *    the gateway's CPU time while they idle;
 *  - per delivery, three latencies: from the 201 answer of the POST that
 *    recorded the event (the gateway answers 201 once the peer reported
 *    the transaction VALID, i.e. committed), from the moment the POST was
 *    sent (includes ordering and the block cut), and from the first
 *    delivery of the same event to any subscriber (the fan-out spread,
 *    the part that is the gateway's and this client's alone). The first
 *    can be negative: the gateway's block follower and the submit's
 *    commit-status call learn of the same block independently;
 *  - whether every subscriber got every recorded event exactly once and
 *    in order (and nothing else).
 * The subscribers start "from now" (no after=), so the gateway's
 * follower must have caught up with the ledger first (the driver script
 * waits for follower_lag_blocks 0).
 *
 * Prints one JSON object (see the printf at the end for the keys).
 *
 * usage: sse_fanout --addr HOST:PORT --key-file FILE --recorder ID
 *                   --gateway-pid PID [--subscribers N] [--events K]
 *                   [--pace-ms P] [--ramp M] [--idle-s S] [--settle-s S]
 * ID is the Recorder registered to the key's org (binding is strict).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "benchlib.h"
#include "hlf/crypto.h"
#include "hlf/err.h"

enum { S_CONNECTING, S_HEADERS, S_STREAMING, S_FAILED, S_DROPPED };

typedef struct {
    uint64_t seq;
    double t;
} arrival_t;

typedef struct {
    int fd;
    int state;
    size_t out_off;
    bench_resp_t resp;
    uint64_t cur_seq;   /* id: of the frame being read, 0 if none */
    arrival_t *arr;     /* up to cap arrivals */
    int narr, extra;    /* stored, and beyond cap */
} sub_t;

/* A recorded event, written by the submitter thread before it sets
 * submit_done; read by the main thread only after that. */
typedef struct {
    char txid[80];
    double t_post, t_201;
    int ok;
} submitted_t;

/* The sequences seen on the streams, in increasing order, with their
 * TransactionId; main thread only. */
typedef struct {
    uint64_t seq;
    char txid[80];
    double first;
} seen_t;

typedef struct {
    const char *host;
    int port;
    char key[256];
    char tag[16];
    const char *recorder; /* borrowed from argv */
    int nsubs, nevents, pace_ms, ramp, idle_s, settle_s, gw_pid, ep;
    sub_t *subs;
    int arr_cap;
    submitted_t *ev;
    atomic_int submit_done;
    int submit_errors;
    seen_t *seen;
    int nseen, seen_cap;
    int statuses[600];
    int pending;        /* subscribers connecting or awaiting headers */
    int connect_errors, dropped;
    char first_error[200], drop_reason[200];
} run_t;

static const char *
req_text(const run_t *r, char *buf, size_t len)
{
    snprintf(buf, len,
             "GET /v1/stream HTTP/1.1\r\nHost: %s:%d\r\n"
             "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
             r->host, r->port, r->key);
    return buf;
}

/* Keep the first reason only, made safe to print inside a JSON string. */
static void
note(char *dst, size_t len, const char *what)
{
    size_t i;

    if (dst[0] != '\0')
        return;
    for (i = 0; i + 1 < len && what[i] != '\0'; i++)
        dst[i] = what[i] == '"' || what[i] == '\\' ? '\''
                 : (unsigned char)what[i] < 0x20 ? ' ' : what[i];
    dst[i] = '\0';
}

static void
sub_end(run_t *r, sub_t *s, int state)
{
    if (s->state == S_CONNECTING || s->state == S_HEADERS)
        r->pending--;
    if (s->fd >= 0) {
        epoll_ctl(r->ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
    }
    s->fd = -1;
    s->state = state;
}

static int
sub_open(run_t *r, sub_t *s)
{
    struct epoll_event ev;

    s->fd = bench_connect(r->host, r->port, 1);
    if (s->fd < 0) {
        r->connect_errors++;
        note(r->first_error, sizeof(r->first_error), strerror(errno));
        s->state = S_FAILED;
        return -1;
    }
    s->state = S_CONNECTING;
    r->pending++;
    s->out_off = 0;
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.ptr = s;
    return epoll_ctl(r->ep, EPOLL_CTL_ADD, s->fd, &ev);
}

/* Record seq's TransactionId the first time any stream shows it. */
static void
learn(run_t *r, uint64_t seq, const char *data, double t)
{
    seen_t *e;

    if (r->nseen > 0 && seq <= r->seen[r->nseen - 1].seq)
        return;
    if (r->nseen == r->seen_cap) {
        int cap = r->seen_cap ? r->seen_cap * 2 : 64;
        seen_t *n = realloc(r->seen, (size_t)cap * sizeof(*n));

        if (n == NULL)
            return;
        r->seen = n;
        r->seen_cap = cap;
    }
    e = &r->seen[r->nseen++];
    e->seq = seq;
    e->first = t;
    if (bench_json_str(data, "txid", e->txid, sizeof(e->txid)) != 0)
        e->txid[0] = '\0';
}

/* Parse the complete lines of the decoded stream. */
static void
sse_lines(run_t *r, sub_t *s, double t)
{
    char *b = s->resp.body, *nl;
    size_t used = 0;

    while ((nl = memchr(b + used, '\n', s->resp.body_len - used)) != NULL) {
        char *line = b + used;

        *nl = '\0';
        if (strncmp(line, "id: ", 4) == 0) {
            s->cur_seq = strtoull(line + 4, NULL, 10);
        } else if (strncmp(line, "data: ", 6) == 0 && s->cur_seq != 0) {
            learn(r, s->cur_seq, line + 6, t);
        } else if (line[0] == '\0' && s->cur_seq != 0) {
            if (s->narr < r->arr_cap) {
                s->arr[s->narr].seq = s->cur_seq;
                s->arr[s->narr].t = t;
                s->narr++;
            } else {
                s->extra++;
            }
            s->cur_seq = 0;
        } else if (line[0] == ':' && strstr(line, "drop") != NULL) {
            note(r->drop_reason, sizeof(r->drop_reason), line);
        }
        used = (size_t)(nl - b) + 1;
    }
    bench_resp_consume(&s->resp, used);
}

static void
on_sub(run_t *r, sub_t *s, uint32_t events, const char *req, size_t reqlen)
{
    char buf[8192];

    if (s->state == S_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof(err);
        struct epoll_event ev;

        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err != 0) {
            r->connect_errors++;
            note(r->first_error, sizeof(r->first_error), strerror(err));
            sub_end(r, s, S_FAILED);
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        while (s->out_off < reqlen) {
            ssize_t w = send(s->fd, req + s->out_off, reqlen - s->out_off,
                             MSG_NOSIGNAL);

            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (w <= 0) {
                r->connect_errors++;
                note(r->first_error, sizeof(r->first_error),
                     strerror(errno));
                sub_end(r, s, S_FAILED);
                return;
            }
            s->out_off += (size_t)w;
        }
        s->state = S_HEADERS;
        ev.events = EPOLLIN;
        ev.data.ptr = s;
        epoll_ctl(r->ep, EPOLL_CTL_MOD, s->fd, &ev);
        return;
    }
    for (;;) {
        ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
        double t;
        int rc;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        t = bench_now_ms();
        if (n <= 0) {
            const char *why = n == 0 ? "closed by the gateway"
                                     : strerror(errno);

            if (s->state == S_HEADERS) {
                r->connect_errors++;
                note(r->first_error, sizeof(r->first_error), why);
                sub_end(r, s, S_FAILED);
            } else {
                r->dropped++;
                note(r->drop_reason, sizeof(r->drop_reason), why);
                sub_end(r, s, S_DROPPED);
            }
            return;
        }
        rc = bench_resp_feed(&s->resp, buf, (size_t)n);
        if (rc != BENCH_RESP_MORE || (s->resp.headers_done &&
                                      s->resp.status != 200)) {
            /* An error answer (e.g. 503 at sse_max_clients) or a stream
             * that ended: the subscriber failed or was dropped. */
            if (s->resp.headers_done)
                r->statuses[s->resp.status]++;
            if (s->state == S_HEADERS) {
                note(r->first_error, sizeof(r->first_error),
                     s->resp.body != NULL && s->resp.body_len > 0
                         ? s->resp.body : "error answer");
                sub_end(r, s, S_FAILED);
            } else {
                r->dropped++;
                note(r->drop_reason, sizeof(r->drop_reason),
                     "stream ended by the gateway");
                sub_end(r, s, S_DROPPED);
            }
            return;
        }
        if (s->state == S_HEADERS && s->resp.headers_done) {
            r->statuses[200]++;
            r->pending--;
            s->state = S_STREAMING;
        }
        if (s->state == S_STREAMING)
            sse_lines(r, s, t);
    }
}

/* Serve the sockets for up to ms milliseconds. */
static void
pump(run_t *r, int ms, const char *req, size_t reqlen)
{
    struct epoll_event evs[1024];
    int n, k;

    n = epoll_wait(r->ep, evs, 1024, ms);
    for (k = 0; k < n; k++)
        on_sub(r, evs[k].data.ptr, evs[k].events, req, reqlen);
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The submitter thread: K events, one at a time, waiting for each 201,
 * then pace_ms before the next. */
static void *
submitter(void *arg)
{
    run_t *r = arg;
    bench_resp_t resp;
    int fd = -1, i;

    memset(&resp, 0, sizeof(resp));
    for (i = 0; i < r->nevents; i++) {
        char req[2048];
        int rlen;

        if (fd < 0 && (fd = bench_connect(r->host, r->port, 0)) < 0) {
            r->submit_errors++;
            continue;
        }
        rlen = bench_event_request(req, sizeof(req), r->host, r->port,
                                   r->key, r->tag, i, r->recorder,
                                   "bench-sse");
        if (rlen < 0) {
            r->submit_errors++;
            continue;
        }
        r->ev[i].t_post = bench_now_ms();
        if (bench_roundtrip(fd, req, (size_t)rlen, &resp) != BENCH_RESP_DONE ||
            resp.status != 201 ||
            bench_json_str(resp.body, "txid", r->ev[i].txid,
                           sizeof(r->ev[i].txid)) != 0) {
            fprintf(stderr, "sse_fanout: event %d: HTTP %d %s %.200s\n", i,
                    resp.status, resp.why, resp.body ? resp.body : "");
            r->submit_errors++;
            close(fd);
            fd = -1;
            continue;
        }
        r->ev[i].t_201 = bench_now_ms();
        r->ev[i].ok = 1;
        if (resp.close) {
            close(fd);
            fd = -1;
        }
        sleep_ms(r->pace_ms);
    }
    if (fd >= 0)
        close(fd);
    bench_resp_free(&resp);
    atomic_store(&r->submit_done, 1);
    return NULL;
}

static int
count_state(const run_t *r, int state)
{
    int i, n = 0;

    for (i = 0; i < r->nsubs; i++)
        n += r->subs[i].state == state;
    return n;
}

static const seen_t *
seen_find(const run_t *r, uint64_t seq)
{
    int lo = 0, hi = r->nseen - 1;

    while (lo <= hi) {
        int mid = (lo + hi) / 2;

        if (r->seen[mid].seq == seq)
            return &r->seen[mid];
        if (r->seen[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static const submitted_t *
submitted_find(const run_t *r, const char *txid)
{
    int i;

    for (i = 0; i < r->nevents; i++)
        if (r->ev[i].ok && strcmp(r->ev[i].txid, txid) == 0)
            return &r->ev[i];
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *addr = NULL, *key_file = NULL;
    char host[64], req[1024];
    size_t reqlen;
    run_t r;
    pthread_t th;
    double t_start, t_conn, rss0, rss_idle, rss_end, cpu0, cpu1, cpu2, cpu3;
    double *l201, *lpost, *lspread, t_done, q[6];
    uint64_t *want;
    size_t nl = 0;
    int i, j, opened = 0, nwant = 0, exact = 0, missing = 0, dups = 0;
    int disorder = 0, foreign = 0, deliveries = 0;
    uint8_t rnd[4];

    memset(&r, 0, sizeof(r));
    r.nsubs = 1000;
    r.nevents = 50;
    r.pace_ms = 100;
    r.ramp = 256;
    r.idle_s = 5;
    r.settle_s = 15;
    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = v != NULL ? strtol(v, NULL, 10) : 0;

        if (v == NULL) {
            fprintf(stderr, "sse_fanout: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--addr") == 0)
            addr = v;
        else if (strcmp(argv[i], "--key-file") == 0)
            key_file = v;
        else if (strcmp(argv[i], "--recorder") == 0)
            r.recorder = v;
        else if (strcmp(argv[i], "--gateway-pid") == 0)
            r.gw_pid = (int)n;
        else if (strcmp(argv[i], "--subscribers") == 0)
            r.nsubs = (int)n;
        else if (strcmp(argv[i], "--events") == 0)
            r.nevents = (int)n;
        else if (strcmp(argv[i], "--pace-ms") == 0)
            r.pace_ms = (int)n;
        else if (strcmp(argv[i], "--ramp") == 0)
            r.ramp = (int)n;
        else if (strcmp(argv[i], "--idle-s") == 0)
            r.idle_s = (int)n;
        else if (strcmp(argv[i], "--settle-s") == 0)
            r.settle_s = (int)n;
        else {
            fprintf(stderr, "sse_fanout: unknown option %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    if (addr == NULL || key_file == NULL ||
        bench_plain_text(r.recorder) != 0 || r.gw_pid <= 0 ||
        r.nsubs < 1 || r.nsubs > 100000 || r.nevents < 1 ||
        r.nevents > 10000 || r.pace_ms < 0 || r.ramp < 1 || r.idle_s < 0 ||
        r.settle_s < 1 ||
        bench_parse_addr(addr, host, sizeof(host), &r.port) != 0) {
        fprintf(stderr, "usage: sse_fanout --addr HOST:PORT --key-file FILE "
                "--recorder ID --gateway-pid PID [--subscribers N] "
                "[--events K] "
                "[--pace-ms P] [--ramp M] [--idle-s S] [--settle-s S]\n");
        return 2;
    }
    if (bench_read_key(key_file, r.key, sizeof(r.key)) != 0) {
        fprintf(stderr, "sse_fanout: cannot read a key from %s\n", key_file);
        return 2;
    }
    r.host = host;
    if (hlf_random_bytes(rnd, sizeof(rnd)) != HLF_OK)
        return 1;
    hlf_hex_encode(rnd, sizeof(rnd), r.tag);
    r.arr_cap = r.nevents + 16;
    r.subs = calloc((size_t)r.nsubs, sizeof(*r.subs));
    r.ev = calloc((size_t)r.nevents, sizeof(*r.ev));
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    if (r.subs == NULL || r.ev == NULL || r.ep < 0)
        return 1;
    for (i = 0; i < r.nsubs; i++) {
        r.subs[i].fd = -1;
        r.subs[i].state = S_FAILED;
        r.subs[i].arr = calloc((size_t)r.arr_cap, sizeof(arrival_t));
        if (r.subs[i].arr == NULL)
            return 1;
    }
    req_text(&r, req, sizeof(req));
    reqlen = strlen(req);

    /* 1. Connect, at most --ramp handshakes in progress at a time (the
     * listen backlog is finite). */
    rss0 = bench_proc_mb(r.gw_pid, "VmRSS");
    t_start = bench_now_ms();
    while (bench_now_ms() - t_start < 180e3) {
        while (opened < r.nsubs && r.pending < r.ramp)
            sub_open(&r, &r.subs[opened++]);
        if (opened == r.nsubs && r.pending == 0)
            break;
        pump(&r, 50, req, reqlen);
    }
    t_conn = bench_now_ms() - t_start;

    /* 2. Idle: memory and CPU of the gateway holding the streams. */
    cpu0 = bench_proc_cpu_s(r.gw_pid);
    t_start = bench_now_ms();
    while (bench_now_ms() - t_start < r.idle_s * 1e3)
        pump(&r, 100, req, reqlen);
    cpu1 = bench_proc_cpu_s(r.gw_pid);
    rss_idle = bench_proc_mb(r.gw_pid, "VmRSS");

    /* 3. Record K events while every stream is served. */
    if (pthread_create(&th, NULL, submitter, &r) != 0)
        return 1;
    cpu2 = bench_proc_cpu_s(r.gw_pid);
    t_done = 0;
    for (;;) {
        int complete = 1;

        pump(&r, 20, req, reqlen);
        if (!atomic_load(&r.submit_done))
            continue;
        if (t_done == 0)
            t_done = bench_now_ms();
        for (i = 0; i < r.nsubs && complete; i++)
            complete = r.subs[i].state != S_STREAMING ||
                       r.subs[i].narr >= r.nevents - r.submit_errors;
        if (complete || bench_now_ms() - t_done > r.settle_s * 1e3)
            break;
    }
    pthread_join(th, NULL);
    /* Half a second more: anything extra (a duplicate) shows up. */
    t_start = bench_now_ms();
    while (bench_now_ms() - t_start < 500)
        pump(&r, 50, req, reqlen);
    cpu3 = bench_proc_cpu_s(r.gw_pid);
    rss_end = bench_proc_mb(r.gw_pid, "VmRSS");

    /* 4. Check and measure every delivery. want = the sequences of the
     * recorded events, in order. */
    want = calloc((size_t)r.nevents, sizeof(*want));
    l201 = calloc((size_t)r.nsubs * (size_t)r.arr_cap, sizeof(double));
    lpost = calloc((size_t)r.nsubs * (size_t)r.arr_cap, sizeof(double));
    lspread = calloc((size_t)r.nsubs * (size_t)r.arr_cap, sizeof(double));
    if (want == NULL || l201 == NULL || lpost == NULL || lspread == NULL)
        return 1;
    for (j = 0; j < r.nseen; j++)
        if (submitted_find(&r, r.seen[j].txid) != NULL)
            want[nwant++] = r.seen[j].seq;
    for (i = 0; i < r.nsubs; i++) {
        sub_t *s = &r.subs[i];
        int k = 0, ok;

        if (s->state != S_STREAMING && s->state != S_DROPPED)
            continue;
        ok = s->state == S_STREAMING && s->extra == 0;
        for (j = 0; j < s->narr; j++) {
            const seen_t *e = seen_find(&r, s->arr[j].seq);
            const submitted_t *sb = e != NULL ? submitted_find(&r, e->txid)
                                              : NULL;

            if (sb == NULL) {
                foreign++;
                ok = 0;
                continue;
            }
            deliveries++;
            l201[nl] = s->arr[j].t - sb->t_201;
            lpost[nl] = s->arr[j].t - sb->t_post;
            lspread[nl] = s->arr[j].t - e->first;
            nl++;
            if (j > 0 && s->arr[j].seq == s->arr[j - 1].seq) {
                dups++;
                ok = 0;
            } else if (j > 0 && s->arr[j].seq < s->arr[j - 1].seq) {
                disorder++;
                ok = 0;
            }
            if (k < nwant && want[k] == s->arr[j].seq)
                k++;
        }
        missing += nwant - k;
        if (k != nwant || s->narr != nwant)
            ok = 0;
        exact += ok;
    }

    printf("{\"subscribers\":%d,\"established\":%d,\"failed\":%d,"
           "\"connect_errors\":%d,\"rejected_503\":%d,"
           "\"first_error\":\"%.120s\",\"connect_seconds\":%.1f,"
           "\"gw_rss_before_mb\":%.1f,\"gw_rss_idle_mb\":%.1f,"
           "\"kib_per_subscriber\":%.2f,\"gw_cpu_idle_s\":%.2f,\"idle_s\":%d,"
           "\"events\":%d,\"submit_errors\":%d,\"events_seen\":%d,"
           "\"deliveries\":%d,\"expected_deliveries\":%d,"
           "\"subs_exact_in_order\":%d,\"missing\":%d,\"duplicates\":%d,"
           "\"out_of_order\":%d,\"foreign\":%d,\"dropped\":%d,"
           "\"drop_reason\":\"%.120s\",",
           r.nsubs, r.statuses[200], count_state(&r, S_FAILED),
           r.connect_errors, r.statuses[503], r.first_error, t_conn / 1e3,
           rss0, rss_idle,
           r.statuses[200] > 0 ? (rss_idle - rss0) * 1024.0 / r.statuses[200]
                               : 0.0,
           cpu1 - cpu0, r.idle_s, r.nevents, r.submit_errors, nwant,
           deliveries, nwant * r.statuses[200], exact, missing, dups,
           disorder, foreign, r.dropped, r.drop_reason);
    /* Quantiles sort in place: take them before reading min and max. */
    q[0] = bench_quantile(l201, nl, 0.50);
    q[1] = bench_quantile(l201, nl, 0.99);
    q[2] = bench_quantile(lpost, nl, 0.50);
    q[3] = bench_quantile(lpost, nl, 0.99);
    q[4] = bench_quantile(lspread, nl, 0.50);
    q[5] = bench_quantile(lspread, nl, 0.99);
    printf("\"from_201_p50_ms\":%.1f,\"from_201_p99_ms\":%.1f,"
           "\"from_201_min_ms\":%.1f,\"from_201_max_ms\":%.1f,"
           "\"from_post_p50_ms\":%.1f,\"from_post_p99_ms\":%.1f,"
           "\"spread_p50_ms\":%.1f,\"spread_p99_ms\":%.1f,"
           "\"spread_max_ms\":%.1f,", q[0], q[1], nl ? l201[0] : 0.0,
           nl ? l201[nl - 1] : 0.0, q[2], q[3], q[4], q[5],
           nl ? lspread[nl - 1] : 0.0);
    printf("\"gw_cpu_events_s\":%.2f,\"gw_rss_end_mb\":%.1f,"
           "\"client_rss_mb\":%.1f,\"client_cpu_s\":%.1f}\n",
           cpu3 - cpu2, rss_end, bench_proc_mb(0, "VmHWM"),
           bench_proc_cpu_s(0));
    for (i = 0; i < r.nsubs; i++) {
        sub_end(&r, &r.subs[i], r.subs[i].state);
        bench_resp_free(&r.subs[i].resp);
        free(r.subs[i].arr);
    }
    close(r.ep);
    free(want);
    free(l201);
    free(lpost);
    free(lspread);
    free(r.seen);
    free(r.ev);
    free(r.subs);
    return 0;
}
