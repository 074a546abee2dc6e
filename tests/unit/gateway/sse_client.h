/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A raw-socket Server-Sent Events client for the gateway's tests (unit
 * and network): HTTP/1.0 GET (so the body is the plain event stream until
 * the server closes), then blocks of lines split at blank lines. Every
 * failure aborts the test with an assertion.
 */
#ifndef SSE_CLIENT_H
#define SSE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sse_s {
    int fd;
    int status;          /* HTTP status of the response */
    char headers[4096];  /* its header block */
    char *buf;           /* received, not yet consumed (NUL-terminated) */
    size_t len, cap;
    int eof;             /* the server closed the connection */
} sse_t;

/*
 * Connect to 127.0.0.1:port and GET path with the header lines auth and
 * hdrs (each "Name: value", either may be NULL); rcvbuf > 0 shrinks the
 * socket's receive buffer (a slow client). Reads the response headers.
 */
void sse_open(sse_t *c, int port, const char *path, const char *hdrs,
              int rcvbuf, const char *auth);

/* Read what arrives within ms: > 0 bytes, 0 at EOF, -1 on timeout. */
int sse_fill(sse_t *c, int ms);

/* The next block (up to a blank line, without it), new (free()); NULL on
 * timeout or EOF. */
char *sse_block(sse_t *c, int ms);

/* The next block with an "id:" line (comments and retry skipped), new,
 * and its id; NULL on EOF or when none came within ms (heartbeats do not
 * extend the wait). */
char *sse_event(sse_t *c, int ms, uint64_t *id);

void sse_close(sse_t *c);

#endif /* SSE_CLIENT_H */
