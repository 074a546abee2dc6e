/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of the reso-gateway benchmark clients: clock, quantiles,
 * /proc readings, loopback connections and the incremental HTTP/1.1
 * response parser (see benchlib.h).
 */
#define _GNU_SOURCE
#include "benchlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Bounds that keep a misbehaving server from growing our buffers. */
#define HDR_MAX (16 * 1024)
#define BODY_MAX (64 * 1024 * 1024)

enum { ST_HDR, ST_BODY, ST_CSIZE, ST_CDATA, ST_CCRLF, ST_TRAILER, ST_CLOSE,
       ST_DONE };

double
bench_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double
bench_quantile(double *v, size_t n, double q)
{
    size_t k;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    /* Nearest rank, as the Node client's bench-submit computes it. */
    k = (size_t)(q * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

/* fopen /proc/<pid>/<file>, or /proc/self/<file> for pid 0. */
static FILE *
proc_open(int pid, const char *file)
{
    char path[64];

    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
    else
        snprintf(path, sizeof(path), "/proc/self/%s", file);
    return fopen(path, "r");
}

double
bench_proc_mb(int pid, const char *field)
{
    char line[256];
    size_t flen = strlen(field);
    double mb = -1;
    FILE *fp = proc_open(pid, "status");

    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp) != NULL)
        if (strncmp(line, field, flen) == 0 && line[flen] == ':')
            mb = strtod(line + flen + 1, NULL) / 1024.0;
    fclose(fp);
    return mb;
}

double
bench_proc_cpu_s(int pid)
{
    char buf[2048], *p, *end;
    double ticks = (double)sysconf(_SC_CLK_TCK), ut, st;
    size_t n;
    int field;
    FILE *fp = proc_open(pid, "stat");

    if (fp == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* The command name may hold spaces: fields count from its ')'. */
    p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    p++;
    /* utime and stime are fields 14 and 15; the ')' ends field 2. */
    for (field = 3; field < 14 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL)
        return -1;
    ut = strtod(p, &end);
    st = strtod(end, NULL);
    return (ut + st) / ticks;
}

int
bench_parse_addr(const char *addr, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(addr, ':');
    char *end;
    long p;

    if (colon == NULL || (size_t)(colon - addr) >= hostlen)
        return -1;
    p = strtol(colon + 1, &end, 10);
    if (*end != '\0' && *end != '\n')
        return -1;
    if (p < 1 || p > 65535)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    *port = (int)p;
    return 0;
}

int
bench_connect(const char *host, int port, int nonblock)
{
    struct sockaddr_in sa;
    int fd, one = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
                (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    /* Requests are small and latency is what we measure. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
        !(nonblock && errno == EINPROGRESS)) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int
bench_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The response parser                                                */
/* ------------------------------------------------------------------ */

void
bench_resp_reset(bench_resp_t *r)
{
    r->state = ST_HDR;
    r->status = 0;
    r->headers_done = 0;
    r->chunked = 0;
    r->close = 0;
    r->length = -1;
    r->left = 0;
    r->hdr_len = 0;
    r->line_len = 0;
    r->body_len = 0;
    if (r->body != NULL)
        r->body[0] = '\0';
    r->why[0] = '\0';
}

void
bench_resp_free(bench_resp_t *r)
{
    free(r->hdr);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static int
fail(bench_resp_t *r, const char *why)
{
    snprintf(r->why, sizeof(r->why), "%s", why);
    return BENCH_RESP_ERROR;
}

static int
grow(char **buf, size_t *cap, size_t need, size_t max)
{
    size_t c = *cap ? *cap : 1024;
    char *nb;

    if (need <= *cap)
        return 0;
    if (need > max)
        return -1;
    while (c < need)
        c *= 2;
    nb = realloc(*buf, c);
    if (nb == NULL)
        return -1;
    *buf = nb;
    *cap = c;
    return 0;
}

static int
body_append(bench_resp_t *r, const char *p, size_t n)
{
    if (grow(&r->body, &r->body_cap, r->body_len + n + 1, BODY_MAX) != 0)
        return -1;
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return 0;
}

/* Value of header name in the NUL-terminated block h, or NULL. */
static const char *
header(const char *h, const char *name)
{
    size_t nl = strlen(name);
    const char *p = strstr(h, "\r\n");

    while (p != NULL && p[2] != '\r') {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            return p;
        }
        p = strstr(p, "\r\n");
    }
    return NULL;
}

static int
parse_headers(bench_resp_t *r)
{
    const char *v;
    char *end;

    r->hdr[r->hdr_len] = '\0';
    if (strncmp(r->hdr, "HTTP/1.", 7) != 0 || r->hdr_len < 12)
        return fail(r, "not an HTTP/1.x status line");
    r->status = (int)strtol(r->hdr + 9, &end, 10);
    if (end != r->hdr + 12 || r->status < 100 || r->status > 599)
        return fail(r, "bad status code");
    r->headers_done = 1;
    v = header(r->hdr, "Transfer-Encoding");
    r->chunked = v != NULL && strncasecmp(v, "chunked", 7) == 0;
    v = header(r->hdr, "Connection");
    r->close = v != NULL && strncasecmp(v, "close", 5) == 0;
    v = header(r->hdr, "Content-Length");
    if (v != NULL) {
        r->length = strtoll(v, &end, 10);
        if (end == v || r->length < 0)
            return fail(r, "bad Content-Length");
    }
    if (r->chunked)
        r->state = ST_CSIZE;
    else if (r->length >= 0 || r->status == 204 || r->status == 304 ||
             r->status < 200)
        r->state = (r->left = r->length > 0 ? r->length : 0) > 0
                       ? ST_BODY : ST_DONE;
    else
        r->state = ST_CLOSE;
    return 0;
}

/* Append up to r->left of the n - *i bytes at p + *i to the body; returns
 * 1 when r->left reached 0, 0 for more, -1 when the body is too large. */
static int
take_bytes(bench_resp_t *r, const char *p, size_t n, size_t *i)
{
    size_t k = n - *i < (size_t)r->left ? n - *i : (size_t)r->left;

    if (body_append(r, p + *i, k) != 0)
        return -1;
    *i += k;
    r->left -= (long long)k;
    return r->left == 0;
}

/* A line of the chunked framing (size line, CRLF after data, trailer)
 * collected in r->line; returns 1 when complete, 0 for more, -1 when
 * too long. */
static int
take_line(bench_resp_t *r, const char *p, size_t n, size_t *i)
{
    while (*i < n) {
        char c = p[(*i)++];

        if (c == '\n') {
            r->line[r->line_len] = '\0';
            return 1;
        }
        if (r->line_len + 1 >= sizeof(r->line))
            return -1;
        r->line[r->line_len++] = c;
    }
    return 0;
}

int
bench_resp_feed(bench_resp_t *r, const char *p, size_t n)
{
    size_t i = 0;
    int t;

    while (i < n) {
        switch (r->state) {
        case ST_HDR:
            if (grow(&r->hdr, &r->hdr_cap, r->hdr_len + 2, HDR_MAX) != 0)
                return fail(r, "header block too large");
            r->hdr[r->hdr_len++] = p[i++];
            if (r->hdr_len >= 4 &&
                memcmp(r->hdr + r->hdr_len - 4, "\r\n\r\n", 4) == 0 &&
                parse_headers(r) != 0)
                return BENCH_RESP_ERROR;
            break;
        case ST_BODY:
            if ((t = take_bytes(r, p, n, &i)) < 0)
                return fail(r, "body too large");
            if (t)
                r->state = ST_DONE;
            break;
        case ST_CLOSE:
            if (body_append(r, p + i, n - i) != 0)
                return fail(r, "body too large");
            i = n;
            break;
        case ST_CSIZE: {
            char *end;

            if ((t = take_line(r, p, n, &i)) < 0)
                return fail(r, "chunk size line too long");
            if (t == 0)
                break;
            r->left = strtoll(r->line, &end, 16);
            if (end == r->line || r->left < 0)
                return fail(r, "bad chunk size");
            r->line_len = 0;
            r->state = r->left > 0 ? ST_CDATA : ST_TRAILER;
            break;
        }
        case ST_CDATA:
            if ((t = take_bytes(r, p, n, &i)) < 0)
                return fail(r, "body too large");
            if (t)
                r->state = ST_CCRLF;
            break;
        case ST_CCRLF:
            if ((t = take_line(r, p, n, &i)) < 0)
                return fail(r, "no CRLF after a chunk");
            if (t == 0)
                break;
            if (r->line_len != 1 || r->line[0] != '\r')
                return fail(r, "no CRLF after a chunk");
            r->line_len = 0;
            r->state = ST_CSIZE;
            break;
        case ST_TRAILER:
            if ((t = take_line(r, p, n, &i)) < 0)
                return fail(r, "trailer line too long");
            if (t == 0)
                break;
            if (r->line_len <= 1)
                r->state = ST_DONE;
            r->line_len = 0;
            break;
        default:
            return fail(r, "bytes after the end of the response");
        }
    }
    if (r->state == ST_DONE && r->body == NULL && body_append(r, "", 0) != 0)
        return fail(r, "out of memory");
    return r->state == ST_DONE ? BENCH_RESP_DONE : BENCH_RESP_MORE;
}

int
bench_resp_eof(bench_resp_t *r)
{
    if (r->state == ST_CLOSE) {
        r->state = ST_DONE;
        return body_append(r, "", 0) == 0 ? BENCH_RESP_DONE
                                           : fail(r, "out of memory");
    }
    if (r->state == ST_DONE)
        return BENCH_RESP_DONE;
    return fail(r, r->headers_done ? "connection closed inside the body"
                                   : "connection closed before a response");
}

void
bench_resp_consume(bench_resp_t *r, size_t n)
{
    if (n >= r->body_len) {
        r->body_len = 0;
    } else {
        memmove(r->body, r->body + n, r->body_len - n);
        r->body_len -= n;
    }
    if (r->body != NULL)
        r->body[r->body_len] = '\0';
}

int
bench_roundtrip(int fd, const char *req, size_t reqlen, bench_resp_t *r)
{
    char buf[16384];

    bench_resp_reset(r);
    if (bench_write_all(fd, req, reqlen) != 0)
        return fail(r, "cannot send the request");
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        int rc;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(r, "recv failed");
        rc = n == 0 ? bench_resp_eof(r) : bench_resp_feed(r, buf, (size_t)n);
        if (rc != BENCH_RESP_MORE)
            return rc;
    }
}

int
bench_read_key(const char *path, char *key, size_t len)
{
    FILE *fp = fopen(path, "r");
    size_t n;

    if (fp == NULL)
        return -1;
    if (fgets(key, (int)len, fp) == NULL) {
        fclose(fp);
        return -1;
    }
    fclose(fp);
    n = strcspn(key, "\r\n");
    key[n] = '\0';
    return n > 0 ? 0 : -1;
}

int
bench_plain_text(const char *s)
{
    if (s == NULL || *s == '\0')
        return -1;
    for (; *s != '\0'; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return -1;
    return 0;
}

int
bench_event_request(char *buf, size_t len, const char *host, int port,
                     const char *key, const char *tag, int i,
                     const char *recorder, const char *application)
{
    char body[512];
    int blen, n;

    if (bench_plain_text(recorder) != 0)
        return -1;
    /* One EventSubject per event, like independent listings. */
    blen = snprintf(body, sizeof(body),
                    "{\"EventSubject\":\"US-42049-%s-%d-R-N\","
                    "\"System\":\"Property Listing Service\","
                    "\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
                    "\"Event\":\"Listing\",\"State\":\"Recorded\","
                    "\"Recorder\":\"%s\",\"Application\":\"%s\"}",
                    tag, i, recorder, application);
    if (blen < 0 || (size_t)blen >= sizeof(body))
        return -1;
    n = snprintf(buf, len,
                 "POST /v1/events HTTP/1.1\r\nHost: %s:%d\r\n"
                 "Authorization: Bearer %s\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n%s",
                 host, port, key, blen, body);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

int
bench_json_str(const char *json, const char *key, char *out, size_t outlen)
{
    char pat[96];
    const char *p, *e;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(json, pat);
    if (p == NULL)
        return -1;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != '"')
        return -1;
    p++;
    e = strchr(p, '"');
    if (e == NULL || (size_t)(e - p) >= outlen)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 0;
}
