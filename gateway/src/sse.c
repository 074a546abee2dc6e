/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /v1/stream: committed events as Server-Sent Events.
 *
 * Each client is a hub subscriber (hub.h) behind a streamed reply
 * (gw_reply_stream). The reply's read callback runs on an MHD thread
 * whenever the socket can take more; it copies pre-framed events
 *
 *   id: <sequence>
 *   event: reso.event
 *   data: <event JSON>
 *
 * from the subscriber until the hub has nothing, then returns
 * GW_STREAM_NODATA, which parks the connection without a thread. The
 * hub's notify callback (gw_stream_wake) un-parks it when an event
 * arrives; a heartbeat thread wakes every client once per
 * sse_heartbeat_ms to write a ": heartbeat" comment so proxies and
 * clients see a live connection. A client that falls sse_queue_events
 * behind is dropped by the hub; it gets a final comment saying so and may
 * reconnect with Last-Event-ID.
 *
 * A parked connection is out of MHD's poll set, so MHD would notice a
 * client that hung up only at the next write (a heartbeat), and until
 * then the client would hold one of the sse_max_clients slots: a
 * reconnect wave right after a mass disconnect was refused. So a watcher
 * thread keeps every client's socket in its own epoll set for EPOLLRDHUP
 * (and the always-reported EPOLLHUP/EPOLLERR) and ends the stream of one
 * that hung up, which releases its slot at once. The socket stays MHD's:
 * it is taken out of the set in client_close, before MHD closes it, and a
 * client's memory is freed by the watcher (never while an epoll batch
 * that may name it is being handled).
 *
 * Query parameters: System, SubjectType, Entity, Event, State,
 * EventSubject, Recorder (repeatable: OR within a field, AND across
 * fields) and after=<sequence>; the Last-Event-ID header, when present,
 * wins over after (it is what a reconnecting browser sends).
 */
#include "hub.h"

#include "hlf/log.h"
#include "hlf/mem.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILTER_VALUES 64

typedef struct sse_client_s {
    /* lock guards sub, cur, off and the pending comment: the read
     * callback and gw_sse_shutdown both use them. */
    pthread_mutex_t lock;
    gw_hub_sub_t *sub;
    gw_event_t *cur;             /* frame being written */
    size_t off;
    char pending[320];           /* a comment or field block to write */
    size_t plen, poff;
    int ending;                  /* EOF once pending is written */
    _Atomic(gw_stream_t *) stream;
    atomic_int hb_due;
    char name[64];
    struct sse_client_s *next, *prev; /* all clients, under g_lock */
    int listed;
    int fd;                      /* socket in g_epfd, -1: not; g_lock */
} sse_client_t;

/* Module state: clients, the heartbeat thread and metric handles. The
 * list and counters are guarded by g_lock; the rest is written by the
 * main thread in init/start/shutdown only. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static sse_client_t *g_clients;
static int g_nclients;
static int g_max_clients = GW_DEFAULT_SSE_MAX_CLIENTS;
static size_t g_queue_events = GW_DEFAULT_SSE_QUEUE_EVENTS;
static int64_t g_heartbeat_ms = GW_DEFAULT_SSE_HEARTBEAT_MS;
static int g_stop;
static pthread_t g_ticker;
static int g_ticker_running;
static gw_metric_t *m_clients, *m_delivered, *m_drops, *m_hangups;

/* The hang-up watcher (see the top of the file). g_epfd, g_wakefd and
 * g_watcher_running change only in start/shutdown under g_lock; closed
 * clients wait in g_zombies (under g_lock) until the watcher frees them. */
static int g_epfd = -1;
static int g_wakefd = -1;
static pthread_t g_watcher;
static int g_watcher_running;
static sse_client_t *g_zombies;

#define WATCH_BATCH 256

/* ------------------------------------------------------------------ */
/* Streaming                                                          */
/* ------------------------------------------------------------------ */

static void
client_notify(void *ud)
{
    sse_client_t *c = ud;

    gw_stream_wake(atomic_load(&c->stream));
}

/* Queue literal SSE text (comments, fields) to write next. */
static void
set_pending(sse_client_t *c, const char *text)
{
    size_t n = strlen(text);

    if (n >= sizeof(c->pending))
        n = sizeof(c->pending) - 1;
    memcpy(c->pending, text, n);
    c->pending[n] = '\0';
    c->plen = n;
    c->poff = 0;
}

/* Queue ": <why>\n\n", with any CR/LF in why turned into spaces so the
 * comment cannot end early or inject fields. */
static void
set_comment(sse_client_t *c, const char *why)
{
    size_t n = 0, i, cap = sizeof(c->pending) - 3;

    c->pending[n++] = ':';
    c->pending[n++] = ' ';
    for (i = 0; why[i] != '\0' && n < cap; i++)
        c->pending[n++] = why[i] == '\r' || why[i] == '\n' ? ' ' : why[i];
    c->pending[n++] = '\n';
    c->pending[n++] = '\n';
    c->pending[n] = '\0';
    c->plen = n;
    c->poff = 0;
}

static size_t
copy_out(char *buf, size_t max, size_t n, const char *src, size_t len,
         size_t *off)
{
    size_t k = len - *off;

    if (k > max - n)
        k = max - n;
    memcpy(buf + n, src + *off, k);
    *off += k;
    return n + k;
}

static ssize_t
client_read(void *ud, char *buf, size_t max)
{
    sse_client_t *c = ud;
    size_t n = 0, delivered = 0;
    int dropped = 0;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        gw_event_t *ev = NULL;
        hlf_error_t e;
        int rc;

        if (n == max)
            break;
        if (c->poff < c->plen) {
            n = copy_out(buf, max, n, c->pending, c->plen, &c->poff);
            continue;
        }
        if (c->ending)
            break;
        if (c->cur != NULL) {
            n = copy_out(buf, max, n, c->cur->frame, c->cur->frame_len,
                         &c->off);
            if (c->off == c->cur->frame_len) {
                gw_event_unref(c->cur);
                c->cur = NULL;
                delivered++;
            }
            continue;
        }
        if (atomic_exchange(&c->hb_due, 0)) {
            set_pending(c, ": heartbeat\n\n");
            continue;
        }
        if (c->sub == NULL) {
            set_comment(c, "the gateway is shutting down");
            c->ending = 1;
            continue;
        }
        hlf_error_clear(&e);
        rc = gw_hub_sub_next(c->sub, &ev, &e);
        if (rc == 1) {
            c->cur = ev;
            c->off = 0;
            continue;
        }
        if (rc == 0)
            break;
        if (rc == HLF_ETOOBIG)
            dropped = 1;
        else if (rc != HLF_ECLOSED)
            hlf_log(HLF_LOG_WARN, "sse", "%s: ending: %s", c->name, e.text);
        set_comment(c, e.text);
        c->ending = 1;
    }
    pthread_mutex_unlock(&c->lock);
    if (delivered > 0)
        gw_counter_add(m_delivered, NULL, (double)delivered);
    if (dropped)
        gw_counter_inc(m_drops, NULL);
    if (n > 0)
        return (ssize_t)n;
    return c->ending ? GW_STREAM_EOF : GW_STREAM_NODATA;
}

/* Take the subscriber away from c (shutdown or close). */
static void
client_detach(sse_client_t *c)
{
    gw_hub_sub_t *sub;

    pthread_mutex_lock(&c->lock);
    sub = c->sub;
    c->sub = NULL;
    gw_event_unref(c->cur);
    c->cur = NULL;
    pthread_mutex_unlock(&c->lock);
    gw_hub_unsubscribe(sub);
}

static void
client_free(sse_client_t *c)
{
    pthread_mutex_destroy(&c->lock);
    hlf_free(c);
}

/* Take c's socket out of the watch set. Caller holds g_lock. */
static void
unwatch(sse_client_t *c)
{
    if (c->fd >= 0 && g_epfd >= 0)
        (void)epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
    c->fd = -1;
}

/* Make the watcher look at g_stop and g_zombies. Caller holds g_lock
 * (g_wakefd is closed under it). */
static void
wake_watcher(void)
{
    uint64_t one = 1;

    if (g_wakefd >= 0 && write(g_wakefd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is saturated, a wake-up is pending. */
    }
}

static void
client_close(void *ud, gw_stream_end_t why)
{
    sse_client_t *c = ud;
    gw_stream_t *s;

    int defer;

    pthread_mutex_lock(&g_lock);
    if (c->listed) {
        if (c->prev != NULL)
            c->prev->next = c->next;
        else
            g_clients = c->next;
        if (c->next != NULL)
            c->next->prev = c->prev;
        c->listed = 0;
        g_nclients--;
    }
    /* MHD has not closed the socket yet (it does after this callback),
     * so the number is still this connection's. */
    unwatch(c);
    pthread_mutex_unlock(&g_lock);
    gw_gauge_add(m_clients, NULL, -1);
    hlf_log(HLF_LOG_DEBUG, "sse", "%s: closed (%d)", c->name, (int)why);
    client_detach(c);
    s = atomic_exchange(&c->stream, NULL);
    gw_stream_release(s);
    /* An epoll batch the watcher holds may still name c: while it runs,
     * it frees c between batches. */
    pthread_mutex_lock(&g_lock);
    defer = g_watcher_running;
    if (defer) {
        c->next = g_zombies;
        g_zombies = c;
        wake_watcher();
    }
    pthread_mutex_unlock(&g_lock);
    if (!defer)
        client_free(c);
}

static const gw_stream_ops_t client_ops = {client_read, client_close};

/* ------------------------------------------------------------------ */
/* The request                                                        */
/* ------------------------------------------------------------------ */

/* A sequence in a parameter or header value. */
static int
parse_seq(const char *s, uint64_t *out)
{
    return s == NULL ? -1 : gw_seq_parse(s, strlen(s), out);
}

/*
 * Build the filter and start position from the query and headers.
 * Returns HLF_OK or replies 400 itself and returns GW_PENDING-free
 * HLF_EINVAL (the handler then returns HLF_OK).
 */
static int
parse_request(gw_req_t *req, gw_filter_t **filter, int *has_after,
              uint64_t *after)
{
    const char *lei = gw_req_header(req, "Last-Event-ID");
    size_t i, nq = gw_req_query_count(req);
    int rc;

    *has_after = 0;
    *after = 0;
    rc = gw_filter_new(filter);
    if (rc != HLF_OK)
        return rc;
    for (i = 0; i < nq; i++) {
        const char *k, *v;
        int f;

        gw_req_query_at(req, i, &k, &v);
        if (strcmp(k, "after") == 0) {
            if (parse_seq(v, after) != 0) {
                gw_reply_error(req, GW_ERR_BAD_REQUEST, "after", "after "
                               "must be an event sequence (a non-negative "
                               "decimal integer)");
                goto bad;
            }
            *has_after = 1;
            continue;
        }
        f = gw_evfield_from_name(k);
        if (f < 0) {
            gw_reply_error(req, GW_ERR_BAD_REQUEST, k, "unknown query "
                           "parameter; filters are System, SubjectType, "
                           "Entity, Event, State, EventSubject, Recorder; "
                           "resume with after or Last-Event-ID");
            goto bad;
        }
        if (v == NULL || *v == '\0') {
            gw_reply_error(req, GW_ERR_BAD_REQUEST, k, "empty filter value");
            goto bad;
        }
        rc = gw_filter_add(*filter, (gw_evfield_t)f, v);
        if (rc == HLF_ETOOBIG) {
            gw_reply_error(req, GW_ERR_BAD_REQUEST, k, "more than %d values",
                           MAX_FILTER_VALUES);
            goto bad;
        }
        if (rc != HLF_OK) {
            gw_filter_free(*filter);
            *filter = NULL;
            return rc;
        }
    }
    if (lei != NULL) {
        if (parse_seq(lei, after) != 0) {
            gw_reply_error(req, GW_ERR_BAD_REQUEST, "Last-Event-ID",
                           "Last-Event-ID must be an event sequence (a "
                           "non-negative decimal integer)");
            goto bad;
        }
        *has_after = 1;
    }
    return HLF_OK;
bad:
    gw_filter_free(*filter);
    *filter = NULL;
    return HLF_EINVAL;
}

/* Put c's socket fd into the watch set. Caller holds g_lock. Without a
 * watcher (or a socket) the heartbeat still finds a client that left. */
static void
watch(sse_client_t *c, int fd)
{
    struct epoll_event ev;

    if (fd < 0 || g_epfd < 0)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLRDHUP;
    ev.data.ptr = c;
    if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        c->fd = fd;
    else
        hlf_log(HLF_LOG_WARN, "sse", "%s: cannot watch the socket for "
                "hang-up (%s); noticed at the next heartbeat instead",
                c->name, strerror(errno));
}

static int
h_stream(gw_req_t *req)
{
    static const gw_header_t hdrs[] = {{"Cache-Control", "no-cache"},
                                       {"X-Accel-Buffering", "no"}};
    gw_hub_t *hub = gw_stream_hub();
    gw_hub_sub_opts_t o;
    gw_filter_t *filter = NULL;
    sse_client_t *c = NULL;
    gw_stream_t *stream = NULL;
    hlf_error_t e;
    uint64_t after;
    int has_after, rc, full;

    rc = parse_request(req, &filter, &has_after, &after);
    if (rc == HLF_EINVAL)
        return HLF_OK; /* answered 400 */
    if (rc != HLF_OK)
        return rc;
    if (hub == NULL) {
        gw_filter_free(filter);
        return gw_reply_error(req, GW_ERR_SERVICE_UNAVAILABLE, NULL,
                              "the event stream is not running");
    }
    pthread_mutex_lock(&g_lock);
    full = g_nclients >= g_max_clients;
    if (!full)
        g_nclients++; /* reserved; listed below */
    pthread_mutex_unlock(&g_lock);
    if (full) {
        gw_filter_free(filter);
        return gw_reply_error(req, GW_ERR_SERVICE_UNAVAILABLE, NULL,
                              "too many stream clients (sse_max_clients "
                              "%d)", g_max_clients);
    }
    c = hlf_calloc(1, sizeof(*c));
    if (c == NULL) {
        gw_filter_free(filter);
        rc = HLF_ENOMEM;
        goto unreserve;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->fd = -1;
    atomic_init(&c->stream, NULL);
    atomic_init(&c->hb_due, 0);
    snprintf(c->name, sizeof(c->name), "sse %s", gw_req_id(req));
    /* Tell the client how soon to reconnect, and flush the headers. */
    set_pending(c, ": ok\nretry: 1000\n\n");
    memset(&o, 0, sizeof(o));
    o.filter = filter;
    o.has_after = has_after;
    o.after = after;
    o.queue_max = g_queue_events;
    o.notify = client_notify;
    o.ud = c;
    o.name = c->name;
    hlf_error_clear(&e);
    rc = gw_hub_subscribe(hub, &o, &c->sub, &e);
    if (rc != HLF_OK) {
        int notfound = rc == HLF_ENOTFOUND;

        client_free(c);
        gw_reply_error(req, notfound ? GW_ERR_NOT_FOUND
                                     : GW_ERR_SERVICE_UNAVAILABLE,
                       notfound ? "after" : NULL, "%s", e.text);
        rc = HLF_OK;
        goto unreserve;
    }
    rc = gw_reply_stream(req, 200, "text/event-stream", hdrs,
                         sizeof(hdrs) / sizeof(hdrs[0]), &client_ops, c,
                         &stream);
    if (rc != HLF_OK) {
        gw_hub_unsubscribe(c->sub);
        client_free(c);
        goto unreserve;
    }
    atomic_store(&c->stream, stream);
    pthread_mutex_lock(&g_lock);
    c->next = g_clients;
    if (g_clients != NULL)
        g_clients->prev = c;
    g_clients = c;
    c->listed = 1;
    watch(c, gw_stream_socket(stream));
    pthread_mutex_unlock(&g_lock);
    gw_gauge_add(m_clients, NULL, 1);
    hlf_log(HLF_LOG_DEBUG, "sse", "%s: subscribed%s", c->name,
            has_after ? " with resume" : "");
    /* A notify before the stream pointer was stored found NULL. */
    gw_stream_wake(stream);
    return HLF_OK;
unreserve:
    pthread_mutex_lock(&g_lock);
    g_nclients--;
    pthread_mutex_unlock(&g_lock);
    return rc == HLF_ECLOSED ? HLF_OK : rc;
}

/* ------------------------------------------------------------------ */
/* Heartbeats and lifecycle                                           */
/* ------------------------------------------------------------------ */

static void *
ticker_main(void *unused)
{
    struct timespec ts;

    (void)unused;
    pthread_mutex_lock(&g_lock);
    while (!g_stop) {
        sse_client_t *c;

        gw_abstime_in(&ts, g_heartbeat_ms);
        while (!g_stop &&
               pthread_cond_timedwait(&g_cond, &g_lock, &ts) != ETIMEDOUT)
            ;
        if (g_stop)
            break;
        for (c = g_clients; c != NULL; c = c->next) {
            atomic_store(&c->hb_due, 1);
            gw_stream_wake(atomic_load(&c->stream));
        }
    }
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

/* Free the clients closed since the last batch. Caller holds g_lock. */
static void
free_zombies(void)
{
    while (g_zombies != NULL) {
        sse_client_t *c = g_zombies;

        g_zombies = c->next;
        client_free(c);
    }
}

static void *
watcher_main(void *unused)
{
    struct epoll_event evs[WATCH_BATCH];
    int stop = 0;

    (void)unused;
    while (!stop) {
        int n, i;

        pthread_mutex_lock(&g_lock);
        free_zombies();
        pthread_mutex_unlock(&g_lock);
        n = epoll_wait(g_epfd, evs, WATCH_BATCH, -1);
        if (n < 0 && errno != EINTR) {
            hlf_log(HLF_LOG_ERROR, "sse", "hang-up watcher: epoll_wait: "
                    "%s; hang-ups are noticed at heartbeats only",
                    strerror(errno));
            break;
        }
        pthread_mutex_lock(&g_lock);
        for (i = 0; i < n; i++) {
            sse_client_t *c = evs[i].data.ptr;
            uint64_t cnt;

            if (c == NULL) {
                if (read(g_wakefd, &cnt, sizeof(cnt)) < 0) {
                    /* EAGAIN: another read took it; nothing to do. */
                }
                stop = g_stop;
                continue;
            }
            /* A client already closed (a zombie) has fd -1. */
            if (c->fd < 0)
                continue;
            unwatch(c);
            hlf_log(HLF_LOG_DEBUG, "sse", "%s: client hung up", c->name);
            gw_counter_inc(m_hangups, NULL);
            gw_stream_end(atomic_load(&c->stream));
        }
        pthread_mutex_unlock(&g_lock);
    }
    return NULL;
}

/* Create the watch set and its thread. HLF_OK or HLF_EIO/HLF_ENOMEM. */
static int
watcher_start(void)
{
    struct epoll_event ev;

    g_epfd = epoll_create1(EPOLL_CLOEXEC);
    g_wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (g_epfd < 0 || g_wakefd < 0)
        goto fail;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, g_wakefd, &ev) != 0)
        goto fail;
    if (pthread_create(&g_watcher, NULL, watcher_main, NULL) != 0)
        goto fail;
    pthread_mutex_lock(&g_lock);
    g_watcher_running = 1;
    pthread_mutex_unlock(&g_lock);
    return HLF_OK;
fail:
    hlf_log(HLF_LOG_ERROR, "sse", "cannot start the hang-up watcher: %s",
            strerror(errno));
    if (g_epfd >= 0)
        close(g_epfd);
    if (g_wakefd >= 0)
        close(g_wakefd);
    g_epfd = g_wakefd = -1;
    return HLF_EIO;
}

/* Stop the watcher, unwatch every client, free what it had pending. */
static void
watcher_stop(void)
{
    sse_client_t *c;
    int running;

    pthread_mutex_lock(&g_lock);
    running = g_watcher_running;
    pthread_mutex_unlock(&g_lock);
    if (running) {
        pthread_mutex_lock(&g_lock);
        wake_watcher(); /* g_stop is set: it returns */
        pthread_mutex_unlock(&g_lock);
        pthread_join(g_watcher, NULL);
    }
    pthread_mutex_lock(&g_lock);
    g_watcher_running = 0;
    for (c = g_clients; c != NULL; c = c->next)
        unwatch(c);
    free_zombies();
    if (g_epfd >= 0)
        close(g_epfd);
    if (g_wakefd >= 0)
        close(g_wakefd);
    g_epfd = g_wakefd = -1;
    pthread_mutex_unlock(&g_lock);
}

int
gw_sse_init(const gw_config_t *cfg)
{
    g_max_clients = cfg->sse_max_clients > 0 ? cfg->sse_max_clients
                                             : GW_DEFAULT_SSE_MAX_CLIENTS;
    g_queue_events = cfg->sse_queue_events > 0
                         ? (size_t)cfg->sse_queue_events
                         : GW_DEFAULT_SSE_QUEUE_EVENTS;
    g_heartbeat_ms = cfg->sse_heartbeat_ms > 0 ? cfg->sse_heartbeat_ms
                                               : GW_DEFAULT_SSE_HEARTBEAT_MS;
    m_clients = gw_metric_register(GW_METRIC_GAUGE, "sse_clients",
                                   "Connected SSE clients of /v1/stream",
                                   NULL, NULL, 0);
    m_delivered = gw_metric_register(GW_METRIC_COUNTER,
                                     "sse_events_delivered_total",
                                     "Events written to SSE clients", NULL,
                                     NULL, 0);
    m_drops = gw_metric_register(GW_METRIC_COUNTER, "sse_drops_total",
                                 "SSE clients dropped as too slow", NULL,
                                 NULL, 0);
    m_hangups = gw_metric_register(GW_METRIC_COUNTER, "sse_hangups_total",
                                   "SSE clients that hung up, noticed "
                                   "while their stream was idle", NULL,
                                   NULL, 0);
    if (m_clients == NULL || m_delivered == NULL || m_drops == NULL ||
        m_hangups == NULL)
        return HLF_ENOMEM;
    /* Series exist from the start: a scraper sees 0, not nothing. */
    gw_gauge_set(m_clients, NULL, 0);
    gw_counter_add(m_delivered, NULL, 0);
    gw_counter_add(m_drops, NULL, 0);
    gw_counter_add(m_hangups, NULL, 0);
    return gw_http_route("GET", "/v1/stream", h_stream, GW_ROUTE_AUTH);
}

int
gw_sse_start(const gw_config_t *cfg)
{
    (void)cfg;
    g_stop = 0;
    if (pthread_create(&g_ticker, NULL, ticker_main, NULL) != 0)
        return HLF_ENOMEM;
    g_ticker_running = 1;
    /* Without the watcher streams still work; hang-ups then wait for the
     * next heartbeat, as the log line says. */
    (void)watcher_start();
    return HLF_OK;
}

void
gw_sse_shutdown(void)
{
    sse_client_t *c;

    pthread_mutex_lock(&g_lock);
    g_stop = 1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    if (g_ticker_running) {
        pthread_join(g_ticker, NULL);
        g_ticker_running = 0;
    }
    watcher_stop();
    /* Connections the drain could not finish yet keep their client until
     * MHD closes them; only their hub subscription goes now. Woken, each
     * writes a last comment and ends (see client_read). */
    pthread_mutex_lock(&g_lock);
    for (c = g_clients; c != NULL; c = c->next) {
        client_detach(c);
        gw_stream_wake(atomic_load(&c->stream));
    }
    pthread_mutex_unlock(&g_lock);
}
