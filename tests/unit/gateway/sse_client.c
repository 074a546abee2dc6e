/* SPDX-License-Identifier: Apache-2.0 */
/* The raw SSE client of the gateway tests (see sse_client.h). */
#include "sse_client.h"
#include "task.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Read what is there within ms: > 0 bytes, 0 at EOF, -1 on timeout. */
int
sse_fill(sse_t *c, int ms)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    ssize_t n;

    if (c->eof)
        return 0;
    if (poll(&p, 1, ms) <= 0)
        return -1;
    if (c->cap - c->len < 65536) {
        c->cap = c->cap * 2 + 65536;
        c->buf = realloc(c->buf, c->cap + 1);
        ASSERT_NOT_NULL(c->buf);
    }
    n = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return -1;
    if (n <= 0) {
        c->eof = 1;
        return 0;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    return (int)n;
}

/* Connect and send the request; reads the response headers. rcvbuf > 0
 * shrinks the receive buffer (a slow client). */
void
sse_open(sse_t *c, int port, const char *path, const char *hdrs,
         int rcvbuf, const char *auth)
{
    struct sockaddr_in a;
    char req[2048];
    char *end;
    int n;

    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(c->fd >= 0);
    if (rcvbuf > 0)
        ASSERT_EQ(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
                             sizeof(rcvbuf)), 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d"
                 "\r\n%s%s%s%s\r\n", path, port, auth ? auth : "",
                 auth ? "\r\n" : "", hdrs ? hdrs : "", hdrs ? "\r\n" : "");
    ASSERT_EQ(write(c->fd, req, (size_t)n), n);
    for (;;) {
        if (c->buf != NULL && (end = strstr(c->buf, "\r\n\r\n")) != NULL)
            break;
        if (sse_fill(c, 5000) <= 0)
            TEST__FAIL("no response headers for %s", path);
    }
    ASSERT_LE((size_t)(end - c->buf) + 4, sizeof(c->headers) - 1);
    memcpy(c->headers, c->buf, (size_t)(end - c->buf) + 2);
    c->headers[end - c->buf + 2] = '\0';
    ASSERT_EQ(sscanf(c->buf, "HTTP/1.%*d %d", &c->status), 1);
    c->len -= (size_t)(end - c->buf) + 4;
    memmove(c->buf, end + 4, c->len + 1);
}

void
sse_close(sse_t *c)
{
    close(c->fd);
    free(c->buf);
}

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next block before the deadline (text up to a blank line, without
 * it), new; NULL on timeout or EOF. */
static char *
block_until(sse_t *c, int64_t deadline)
{
    for (;;) {
        char *end = c->buf != NULL ? strstr(c->buf, "\n\n") : NULL;
        int64_t left;

        if (end != NULL) {
            size_t n = (size_t)(end - c->buf);
            char *b = malloc(n + 1);

            ASSERT_NOT_NULL(b);
            memcpy(b, c->buf, n);
            b[n] = '\0';
            c->len -= n + 2;
            memmove(c->buf, end + 2, c->len + 1);
            return b;
        }
        left = deadline - now_ms();
        if (left < 0 || sse_fill(c, (int)left) <= 0)
            return NULL;
    }
}

char *
sse_block(sse_t *c, int ms)
{
    return block_until(c, now_ms() + ms);
}

char *
sse_event(sse_t *c, int ms, uint64_t *id)
{
    int64_t deadline = now_ms() + ms;
    char *b;

    /* Heartbeats keep coming: the deadline is for the event itself. */
    while ((b = block_until(c, deadline)) != NULL) {
        unsigned long long v;

        if (sscanf(b, "id: %llu\n", &v) == 1) {
            *id = v;
            return b;
        }
        free(b);
    }
    return NULL;
}
