/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of the reso-gateway benchmark clients (rest_submit,
 * sse_fanout, ee_pages): a monotonic clock, percentiles, /proc readings
 * of a process, loopback TCP connections and an incremental HTTP/1.1
 * response parser that understands Content-Length and chunked bodies.
 *
 * The parser is incremental so that one epoll thread can drive thousands
 * of connections: feed it whatever recv() returned, it keeps the decoded
 * body in r->body and says when a response is complete. An SSE stream
 * never completes; its reader consumes decoded bytes from the front of
 * r->body as it parses lines (bench_resp_consume).
 *
 * These are benchmark tools, not library code: errors are reported as -1
 * with a message in a caller's buffer, and nothing here is thread-safe
 * except where a comment says so.
 */
#ifndef RESO_BENCHLIB_H
#define RESO_BENCHLIB_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. THREAD SAFETY: any thread. */
double bench_now_ms(void);

/* Sort v (n values) in place and return its nearest-rank q-quantile
 * (0 < q <= 1); 0 when n is 0. */
double bench_quantile(double *v, size_t n, double q);

/* A field of /proc/<pid>/status in MiB ("VmRSS", "VmHWM"); pid 0 is this
 * process. -1 when unreadable. THREAD SAFETY: any thread. */
double bench_proc_mb(int pid, const char *field);

/* CPU seconds (user + system) used so far by pid (0: this process);
 * -1 when unreadable. */
double bench_proc_cpu_s(int pid);

/* Parse "HOST:PORT" into host (a buffer of hostlen bytes) and *port.
 * Returns 0 or -1. */
int bench_parse_addr(const char *addr, char *host, size_t hostlen,
                     int *port);

/* Connect a TCP socket to host:port (a numeric IPv4 address), blocking
 * or, with nonblock, returning at once with the connect in progress.
 * Returns the fd or -1 (errno set). */
int bench_connect(const char *host, int port, int nonblock);

/* Write all n bytes to a blocking fd. Returns 0 or -1. */
int bench_write_all(int fd, const char *p, size_t n);

enum {
    BENCH_RESP_MORE = 0,  /* need more bytes */
    BENCH_RESP_DONE = 1,  /* a whole response is in r->body */
    BENCH_RESP_ERROR = -1 /* malformed or oversized; r->why says why */
};

typedef struct bench_resp_s {
    int state;            /* parser state (private) */
    int status;           /* HTTP status once the headers are in */
    int headers_done;     /* 1 once the header block was parsed */
    int chunked;
    int close;            /* the server said Connection: close */
    long long length;     /* Content-Length, -1 if none */
    long long left;       /* bytes left in the body or current chunk */
    char *hdr;            /* header block being accumulated */
    size_t hdr_len, hdr_cap;
    char line[64];        /* chunk-size line being accumulated */
    size_t line_len;
    char *body;           /* decoded body, NUL-terminated */
    size_t body_len, body_cap;
    char why[128];
} bench_resp_t;

/* Reset r for the next response on the same connection, keeping its
 * buffers. A zeroed bench_resp_t is a valid fresh parser. */
void bench_resp_reset(bench_resp_t *r);

/* Release r's buffers. */
void bench_resp_free(bench_resp_t *r);

/* Feed n received bytes. Returns BENCH_RESP_MORE, BENCH_RESP_DONE (bytes
 * after the end of the response are an error: one request is in flight
 * at a time) or BENCH_RESP_ERROR. */
int bench_resp_feed(bench_resp_t *r, const char *p, size_t n);

/* The peer closed the connection: completes a body delimited by close.
 * Returns BENCH_RESP_DONE or BENCH_RESP_ERROR. */
int bench_resp_eof(bench_resp_t *r);

/* Drop the first n decoded body bytes (an SSE reader's consumed lines). */
void bench_resp_consume(bench_resp_t *r, size_t n);

/* Send req on a blocking keep-alive connection and read one response
 * into r (reset first). Returns BENCH_RESP_DONE or BENCH_RESP_ERROR
 * (r->why set, also for a closed connection). */
int bench_roundtrip(int fd, const char *req, size_t reqlen,
                    bench_resp_t *r);

/* Read a bearer key from the first line of path (the key never appears
 * in a process listing). Returns 0 or -1 (missing, empty). */
int bench_read_key(const char *path, char *key, size_t len);

/* Format into buf a complete POST /v1/events request recording the RESO
 * example event (the one the Node client's bench-submit records) with
 * EventSubject US-42049-<tag>-<i>-R-N, the given Recorder (the key's
 * org's own: binding is strict) and Application. Returns the request's
 * length, or -1 if buf is too small or recorder is not plain text (a
 * quote, backslash or control character). */
int bench_event_request(char *buf, size_t len, const char *host, int port,
                        const char *key, const char *tag, int i,
                        const char *recorder, const char *application);

/* 0 if s can be put between JSON quotes as is (non-empty, no quote,
 * backslash or control character), else -1. */
int bench_plain_text(const char *s);

/* Copy the string value of "key":"..." found in json (no unescaping;
 * enough for ids and URLs) into out. Returns 0 or -1. */
int bench_json_str(const char *json, const char *key, char *out,
                   size_t outlen);

#endif
