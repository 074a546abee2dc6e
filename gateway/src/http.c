/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP layer of reso-gateway on libmicrohttpd (MHD): one daemon with a
 * few epoll polling threads, the route table, the request pipeline (route,
 * auth, rate limit, identity, content type, body cap, JSON), replies that
 * may come from other threads (suspend/resume), streamed replies for SSE,
 * the request timeout, access logging, HTTP metrics and the drain on
 * shutdown. It also holds the daemon's lifecycle flag.
 *
 * Request lifetime. A gw_req_t is created on the first MHD callback and
 * reference-counted: MHD's connection holds one reference until the
 * request-completed callback, a handler's owed reply holds one until
 * gw_reply_*, and the timeout list holds one while the request waits for
 * its reply. Whoever replies first wins; later replies are dropped.
 * Replies made while the connection is suspended resume it, and the next
 * MHD callback queues the stored response.
 */
#include "gw.h"

#include "hlf/crypto.h"
#include "hlf/log.h"
#include "hlf/mem.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEGS 16
#define STREAM_BLOCK 4096

/* ------------------------------------------------------------------ */
/* Lifecycle flag and clock                                           */
/* ------------------------------------------------------------------ */

/* Written by signal handlers and any thread; read lock-free. */
static atomic_int shutdown_flag;
static atomic_int wake_fd = -1; /* write end of the shutdown pipe */
static int wait_fd = -1;        /* read end, main thread only */

int
gw_shutdown_requested(void)
{
    return atomic_load(&shutdown_flag);
}

void
gw_shutdown_request(void)
{
    int fd, saved = errno;

    atomic_store(&shutdown_flag, 1);
    fd = atomic_load(&wake_fd);
    if (fd >= 0 && write(fd, "x", 1) < 0) {
        /* A full pipe already holds a wakeup. */
    }
    errno = saved;
}

int
gw_shutdown_wait(void)
{
    struct pollfd pfd;
    int fds[2];

    if (wait_fd < 0) {
        if (pipe(fds) != 0)
            return HLF_EIO;
        fcntl(fds[0], F_SETFD, FD_CLOEXEC);
        fcntl(fds[1], F_SETFD, FD_CLOEXEC);
        fcntl(fds[1], F_SETFL, O_NONBLOCK);
        wait_fd = fds[0];
        atomic_store(&wake_fd, fds[1]);
    }
    while (!gw_shutdown_requested()) {
        pfd.fd = wait_fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return HLF_EIO;
    }
    return HLF_OK;
}

int64_t
gw_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Error table                                                        */
/* ------------------------------------------------------------------ */

static const struct {
    const char *name;
    int status;
} errtab[] = {
#define GW__ERR_ROW(name, status) {#name, status},
    GW_ERRCODE_MAP(GW__ERR_ROW)
#undef GW__ERR_ROW
};

const char *
gw_errcode_name(gw_errcode_t code)
{
    if ((int)code < 0 || code >= GW_ERR__COUNT)
        return "INTERNAL";
    return errtab[code].name;
}

int
gw_errcode_status(gw_errcode_t code)
{
    if ((int)code < 0 || code >= GW_ERR__COUNT)
        return 500;
    return errtab[code].status;
}

/* ------------------------------------------------------------------ */
/* Types                                                              */
/* ------------------------------------------------------------------ */

typedef struct route_s {
    char *method;
    char *pattern;
    char *segs[MAX_SEGS]; /* literal, or "{name}" */
    size_t nsegs;
    gw_handler_fn fn;
    unsigned flags;
} route_t;

typedef struct kv_s {
    char *key;
    char *value;
} kv_t;

typedef struct kvlist_s {
    kv_t *v;
    size_t n, cap;
} kvlist_t;

enum phase {
    P_HEADERS,   /* created, reading the body */
    P_HANDLING,  /* the handler runs */
    P_WAITING,   /* handler returned, reply not yet stored */
    P_SUSPENDED, /* connection suspended until a reply */
    P_RESUMING,  /* a reply resumed it; next callback queues it */
    P_DONE       /* response queued (or connection finished) */
};

struct gw_req_s {
    pthread_mutex_t lock; /* guards refs, phase and the reply fields */
    int refs;
    struct MHD_Connection *conn;
    const route_t *route;
    char *method;
    char *path;
    char rid[24];
    kvlist_t params, query, headers;
    char *body;
    size_t body_len;
    size_t body_cap;     /* allocated size of body */
    int body_over;
    json_t *json;
    gw_principal_t principal;
    int authed;
    /* Mutual TLS: 0 no client certificate, 1 one that verified against
     * tls_client_ca (fingerprint in cert_fp), -1 one that did not. */
    int cert_state;
    uint8_t cert_fp[32];
    int64_t start_ms, deadline_ms;
    enum phase phase;
    int owed;      /* a handler or job still owes a reply */
    int replied;   /* a reply was stored (first one wins) */
    int abandoned; /* the reply can no longer reach the client */
    int completed; /* MHD finished the request */
    struct MHD_Response *resp; /* stored, not yet queued */
    unsigned status;           /* of the stored/queued reply */
    gw_stream_t *stream;       /* a streamed reply */
    /* Timeout list, guarded by tlock. */
    int listed;
    struct gw_req_s *tnext, *tprev;
};

struct gw_stream_s {
    pthread_mutex_t lock; /* guards everything below except ops/ud */
    int refs;             /* producer + MHD response */
    gw_stream_ops_t ops;
    void *ud;
    struct MHD_Connection *conn;
    unsigned wake_seq;
    int suspended;
    int end_req;          /* end asked: why in end_why */
    gw_stream_end_t end_why;
    int ended;            /* read reported EOF/ERROR */
    gw_stream_end_t why;
    int done;             /* the response was freed: conn is gone */
    int silent;           /* never delivered: no close callback */
    struct gw_stream_s *next, *prev; /* all live streams, slock */
};

/* ------------------------------------------------------------------ */
/* Daemon state                                                       */
/* ------------------------------------------------------------------ */

/* The route table: written on the main thread before gw_http_start,
 * read-only while the daemon runs. */
static route_t *routes;
static size_t nroutes;

/* Owned by the main thread (start/drain/stop); the MHD threads only read
 * cfg and the metric handles after start. */
static struct MHD_Daemon *daemon_;
/* PEM of tls_cert, tls_key and tls_client_ca while the daemon runs (MHD
 * keeps the pointers); the key is wiped when freed. Main thread. */
static char *tls_cert_pem, *tls_key_pem, *tls_ca_pem;
static size_t tls_key_len;
static const gw_config_t *hcfg;
static int bound_port;
static atomic_int draining;
static atomic_int in_flight;
static atomic_uint rid_counter;
static unsigned rid_boot;
static gw_metric_t *m_requests, *m_duration, *m_inflight, *m_streams;

/* Requests waiting for a reply, with deadlines: tlock guards the list,
 * reaper_stop, and signals tcond when the list or in_flight changes. */
static pthread_mutex_t tlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tcond = PTHREAD_COND_INITIALIZER;
static gw_req_t *tlist;
static int reaper_stop;
static pthread_t reaper_thread;
static int reaper_running;

/* Live streams, for the drain. */
static pthread_mutex_t slock = PTHREAD_MUTEX_INITIALIZER;
static gw_stream_t *streams;

/* ------------------------------------------------------------------ */
/* Route table                                                        */
/* ------------------------------------------------------------------ */

/* Split a path into segments in place; -1 if it has too many or is not
 * absolute. "/" has zero segments. */
static int
split_path(char *p, char **segs, size_t *n)
{
    *n = 0;
    if (*p != '/')
        return -1;
    p++;
    if (*p == '\0')
        return 0;
    for (;;) {
        char *slash = strchr(p, '/');

        if (*n == MAX_SEGS)
            return -1;
        segs[(*n)++] = p;
        if (slash == NULL)
            return 0;
        *slash = '\0';
        p = slash + 1;
    }
}

static int
is_param(const char *seg)
{
    size_t n = strlen(seg);

    return n > 2 && seg[0] == '{' && seg[n - 1] == '}';
}

int
gw_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode s in place; returns the new length. strict: an escape
 * that is not '%' plus two hex digits, or one that decodes to NUL, makes
 * it return -1 (path segments); lenient: such a '%' stays as it is (query
 * keys and values, as MHD's own decoder leaves them).
 */
static long
pct_decode(char *s, int strict)
{
    char *r = s, *w = s;

    while (*r != '\0') {
        int hi, lo;

        if (*r != '%') {
            *w++ = *r++;
            continue;
        }
        hi = gw_hex_digit(r[1]);
        lo = hi >= 0 ? gw_hex_digit(r[2]) : -1;
        if (lo < 0 || (strict && hi == 0 && lo == 0)) {
            if (strict)
                return -1;
            *w++ = *r++;
            continue;
        }
        *w++ = (char)(hi << 4 | lo);
        r += 3;
    }
    *w = '\0';
    return (long)(w - s);
}

/*
 * MHD_OPTION_UNESCAPE_CALLBACK: leave the URL and the query as they came,
 * so routing splits the raw path on '/' and an encoded "%2F" inside an
 * EventSubject stays inside its segment. The core decodes each path
 * segment after splitting (strictly) and each query key and value
 * (collect_query).
 */
static size_t
keep_escaped(void *cls, struct MHD_Connection *conn, char *uri)
{
    (void)cls;
    (void)conn;
    return strlen(uri);
}

static void
route_free(route_t *r)
{
    size_t i;

    for (i = 0; i < r->nsegs; i++)
        hlf_free(r->segs[i]);
    hlf_free(r->method);
    hlf_free(r->pattern);
}

int
gw_http_route(const char *method, const char *pattern,
              gw_handler_fn handler, unsigned flags)
{
    char *copy, *segs[MAX_SEGS];
    route_t r, *nr;
    size_t i, j;

    if (method == NULL || pattern == NULL || handler == NULL ||
        *method == '\0')
        return HLF_EINVAL;
    for (i = 0; i < nroutes; i++)
        if (strcmp(routes[i].method, method) == 0 &&
            strcmp(routes[i].pattern, pattern) == 0)
            return HLF_EEXIST;
    memset(&r, 0, sizeof(r));
    copy = hlf_strdup(pattern);
    if (copy == NULL)
        return HLF_ENOMEM;
    if (split_path(copy, segs, &r.nsegs) != 0) {
        hlf_free(copy);
        return HLF_EINVAL;
    }
    for (i = 0; i < r.nsegs; i++) {
        const char *s = segs[i];

        if (*s == '\0' || ((strchr(s, '{') || strchr(s, '}')) &&
                           !is_param(s))) {
            hlf_free(copy);
            return HLF_EINVAL;
        }
        for (j = 0; j < i; j++) {
            if (is_param(s) && strcmp(s, r.segs[j]) == 0) {
                hlf_free(copy);
                route_free(&r);
                return HLF_EINVAL;
            }
        }
        r.segs[i] = hlf_strdup(s);
        if (r.segs[i] == NULL) {
            hlf_free(copy);
            route_free(&r);
            return HLF_ENOMEM;
        }
    }
    hlf_free(copy);
    r.method = hlf_strdup(method);
    r.pattern = hlf_strdup(pattern);
    r.fn = handler;
    r.flags = flags & (GW_ROUTE_JSON | GW_ROUTE_DOCUMENT)
                  ? flags | GW_ROUTE_BODY : flags;
    nr = hlf_realloc(routes, (nroutes + 1) * sizeof(*nr));
    if (r.method == NULL || r.pattern == NULL || nr == NULL) {
        route_free(&r);
        if (nr != NULL)
            routes = nr;
        return HLF_ENOMEM;
    }
    routes = nr;
    routes[nroutes++] = r;
    return HLF_OK;
}

int
gw_http_routes(const gw_route_def_t *defs, size_t n, hlf_error_t *err)
{
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = gw_http_route(defs[i].method, defs[i].pattern, defs[i].fn,
                           defs[i].flags);
        if (rc != HLF_OK)
            return hlf_error_set(err, rc, "route %s %s: %s", defs[i].method,
                                 defs[i].pattern, hlf_strerror(rc));
    }
    return HLF_OK;
}

static int
route_cmp(const void *a, const void *b)
{
    const route_t *x = *(const route_t *const *)a;
    const route_t *y = *(const route_t *const *)b;
    int c = strcmp(x->pattern, y->pattern);

    return c != 0 ? c : strcmp(x->method, y->method);
}

void
gw_http_list_routes(FILE *fp)
{
    const route_t **v;
    size_t i;

    if (nroutes == 0)
        return;
    v = hlf_calloc(nroutes, sizeof(*v));
    if (v == NULL)
        return;
    for (i = 0; i < nroutes; i++)
        v[i] = &routes[i];
    qsort(v, nroutes, sizeof(*v), route_cmp);
    for (i = 0; i < nroutes; i++)
        fprintf(fp, "%s %s\n", v[i]->method, v[i]->pattern);
    hlf_free(v);
}

/*
 * Does r's pattern match segs? Returns a rank (lower is more specific:
 * bit k set when segment k matched a parameter, most significant first)
 * or -1.
 */
static long
route_rank(const route_t *r, char **segs, size_t n)
{
    long rank = 0;
    size_t i;

    if (r->nsegs != n)
        return -1;
    for (i = 0; i < n; i++) {
        rank <<= 1;
        if (is_param(r->segs[i]))
            rank |= 1;
        else if (strcmp(r->segs[i], segs[i]) != 0)
            return -1;
    }
    return rank;
}

/* ------------------------------------------------------------------ */
/* Request objects                                                    */
/* ------------------------------------------------------------------ */

static int
kv_add(kvlist_t *l, const char *k, size_t klen, const char *v, size_t vlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        kv_t *nv = hlf_realloc(l->v, cap * sizeof(*nv));

        if (nv == NULL)
            return HLF_ENOMEM;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n].key = hlf_memdup(k, klen);
    l->v[l->n].value = hlf_memdup(v ? v : "", v ? vlen : 0);
    if (l->v[l->n].key == NULL || l->v[l->n].value == NULL) {
        hlf_free(l->v[l->n].key);
        hlf_free(l->v[l->n].value);
        return HLF_ENOMEM;
    }
    l->n++;
    return HLF_OK;
}

static void
kv_free(kvlist_t *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        hlf_free(l->v[i].key);
        hlf_free(l->v[i].value);
    }
    hlf_free(l->v);
    memset(l, 0, sizeof(*l));
}

static enum MHD_Result
collect_kv(void *cls, enum MHD_ValueKind kind, const char *key,
           size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    return kv_add(cls, key, key_size, value, value_size) == HLF_OK
               ? MHD_YES
               : MHD_NO;
}

/* A query argument, percent-decoded (MHD hands them over raw). */
static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
              size_t key_size, const char *value, size_t value_size)
{
    char *k = hlf_memdup(key, key_size), *v = NULL;
    long kl, vl = 0;
    int rc = HLF_ENOMEM;

    (void)kind;
    if (k == NULL)
        return MHD_NO;
    if (value != NULL) {
        v = hlf_malloc(value_size + 1);
        if (v == NULL)
            goto out;
        memcpy(v, value, value_size);
        v[value_size] = '\0';
        vl = pct_decode(v, 0);
    }
    k[key_size] = '\0';
    kl = pct_decode(k, 0);
    rc = kv_add(cls, k, (size_t)kl, v, (size_t)vl);
out:
    hlf_free(k);
    hlf_free(v);
    return rc == HLF_OK ? MHD_YES : MHD_NO;
}

static void
req_free(gw_req_t *req)
{
    if (req->resp != NULL)
        MHD_destroy_response(req->resp);
    kv_free(&req->params);
    kv_free(&req->query);
    kv_free(&req->headers);
    json_decref(req->json);
    hlf_free(req->body);
    hlf_free(req->method);
    hlf_free(req->path);
    pthread_mutex_destroy(&req->lock);
    hlf_free(req);
}

static void
req_unref(gw_req_t *req)
{
    int last;

    pthread_mutex_lock(&req->lock);
    last = --req->refs == 0;
    pthread_mutex_unlock(&req->lock);
    if (last)
        req_free(req);
}

/*
 * With tls_client_ca, GnuTLS asked the client for a certificate during
 * the handshake but does not judge it: verify the chain against
 * tls_client_ca here (validity dates included) and keep the SHA-256 of
 * the leaf's DER encoding, which clientcert entries name.
 */
static void
inspect_client_cert(gw_req_t *req, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci;
    const gnutls_datum_t *chain;
    gnutls_session_t session;
    unsigned int n = 0, status = 0;

    if (hcfg == NULL || hcfg->tls_client_ca == NULL || conn == NULL)
        return;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci == NULL || ci->tls_session == NULL)
        return;
    session = (gnutls_session_t)ci->tls_session;
    chain = gnutls_certificate_get_peers(session, &n);
    if (chain == NULL || n == 0)
        return;
    if (gnutls_certificate_verify_peers2(session, &status) !=
            GNUTLS_E_SUCCESS ||
        status != 0) {
        req->cert_state = -1;
        return;
    }
    hlf_sha256(chain[0].data, chain[0].size, req->cert_fp);
    req->cert_state = 1;
}

static gw_req_t *
req_new(struct MHD_Connection *conn, const char *url, const char *method)
{
    gw_req_t *req = hlf_calloc(1, sizeof(*req));
    unsigned n;

    if (req == NULL)
        return NULL;
    pthread_mutex_init(&req->lock, NULL);
    req->refs = 1;
    req->conn = conn;
    req->method = hlf_strdup(method);
    req->path = hlf_strdup(url);
    req->start_ms = gw_now_ms();
    req->deadline_ms = req->start_ms + (hcfg ? hcfg->request_timeout_ms
                                             : GW_DEFAULT_REQUEST_TIMEOUT_MS);
    n = atomic_fetch_add(&rid_counter, 1);
    snprintf(req->rid, sizeof(req->rid), "%08x%08x", rid_boot, n);
    if (req->method == NULL || req->path == NULL ||
        MHD_get_connection_values_n(conn, MHD_HEADER_KIND, collect_kv,
                                    &req->headers) < 0 ||
        MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND,
                                    collect_query, &req->query) < 0) {
        req_free(req);
        return NULL;
    }
    inspect_client_cert(req, conn);
    return req;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                          */
/* ------------------------------------------------------------------ */

const char *
gw_req_method(const gw_req_t *req)
{
    return req->method;
}

const char *
gw_req_path(const gw_req_t *req)
{
    return req->path;
}

const char *
gw_req_route(const gw_req_t *req)
{
    return req->route ? req->route->pattern : NULL;
}

const char *
gw_req_id(const gw_req_t *req)
{
    return req->rid;
}

/* First value of key in l (case-insensitive for headers), or NULL. */
static const char *
kv_find(const kvlist_t *l, const char *key, int nocase)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if ((nocase ? strcasecmp(l->v[i].key, key)
                    : strcmp(l->v[i].key, key)) == 0)
            return l->v[i].value;
    return NULL;
}

const char *
gw_req_param(const gw_req_t *req, const char *name)
{
    return kv_find(&req->params, name, 0);
}

const char *
gw_req_query(const gw_req_t *req, const char *key)
{
    return kv_find(&req->query, key, 0);
}

size_t
gw_req_query_all(const gw_req_t *req, const char *key, const char **vals,
                 size_t max)
{
    size_t i, n = 0;

    for (i = 0; i < req->query.n; i++) {
        if (strcmp(req->query.v[i].key, key) != 0)
            continue;
        if (n < max && vals != NULL)
            vals[n] = req->query.v[i].value;
        n++;
    }
    return n;
}

size_t
gw_req_query_count(const gw_req_t *req)
{
    return req->query.n;
}

void
gw_req_query_at(const gw_req_t *req, size_t i, const char **key,
                const char **value)
{
    if (i >= req->query.n) {
        *key = NULL;
        *value = NULL;
        return;
    }
    *key = req->query.v[i].key;
    *value = req->query.v[i].value;
}

const char *
gw_req_header(const gw_req_t *req, const char *name)
{
    return kv_find(&req->headers, name, 1);
}

const char *
gw_req_body(const gw_req_t *req, size_t *len)
{
    if (len != NULL)
        *len = req->body_len;
    return req->body_len ? req->body : NULL;
}

json_t *
gw_req_json(const gw_req_t *req)
{
    return req->json;
}

const gw_principal_t *
gw_req_principal(const gw_req_t *req)
{
    return req->authed ? &req->principal : NULL;
}

int
gw_req_check_identity(const gw_req_t *req, const char *name)
{
    const gw_identity_t *id;

    if (!req->authed || name == NULL)
        return HLF_EPERM;
    id = req->principal.identity;
    if (strcmp(name, id->name) == 0 || strcmp(name, id->msp_id) == 0)
        return HLF_OK;
    return HLF_EPERM;
}

int64_t
gw_req_remaining_ms(const gw_req_t *req)
{
    int64_t left = req->deadline_ms - gw_now_ms();

    return left > 0 ? left : 0;
}

int
gw_req_abandoned(const gw_req_t *req)
{
    gw_req_t *r = (gw_req_t *)req;
    int a;

    pthread_mutex_lock(&r->lock);
    a = r->abandoned;
    pthread_mutex_unlock(&r->lock);
    return a;
}

/* ------------------------------------------------------------------ */
/* Timeout list                                                       */
/* ------------------------------------------------------------------ */

/* Put req on the list (taking a reference) before its handler runs. */
static void
tlist_add(gw_req_t *req)
{
    pthread_mutex_lock(&req->lock);
    req->refs++;
    pthread_mutex_unlock(&req->lock);
    pthread_mutex_lock(&tlock);
    req->listed = 1;
    req->tprev = NULL;
    req->tnext = tlist;
    if (tlist != NULL)
        tlist->tprev = req;
    tlist = req;
    pthread_cond_broadcast(&tcond);
    pthread_mutex_unlock(&tlock);
}

/* Take req off the list; drops the list's reference if it was there. */
static void
tlist_remove(gw_req_t *req)
{
    int was;

    pthread_mutex_lock(&tlock);
    was = req->listed;
    if (was) {
        if (req->tprev != NULL)
            req->tprev->tnext = req->tnext;
        else
            tlist = req->tnext;
        if (req->tnext != NULL)
            req->tnext->tprev = req->tprev;
        req->listed = 0;
    }
    pthread_mutex_unlock(&tlock);
    if (was)
        req_unref(req);
}

/* ------------------------------------------------------------------ */
/* Replies                                                            */
/* ------------------------------------------------------------------ */

static void
add_headers(struct MHD_Response *resp, const gw_req_t *req,
            const char *content_type, const gw_header_t *hdrs, size_t n)
{
    size_t i;

    if (content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                content_type);
    MHD_add_response_header(resp, "X-Request-Id", req->rid);
    for (i = 0; i < n; i++)
        if (hdrs[i].name != NULL && hdrs[i].value != NULL)
            MHD_add_response_header(resp, hdrs[i].name, hdrs[i].value);
}

/*
 * Store resp as req's reply unless one was stored already (then resp is
 * destroyed). drop_owed: this reply pays the handler's/job's debt. Resumes
 * a suspended connection. Returns HLF_OK or HLF_ECLOSED (dropped).
 */
static int
reply_store(gw_req_t *req, unsigned status, struct MHD_Response *resp,
            int drop_owed, gw_stream_t *stream)
{
    int resume = 0, unref = 0, rc = HLF_OK;

    pthread_mutex_lock(&req->lock);
    if (req->replied || req->completed) {
        rc = HLF_ECLOSED;
    } else {
        req->replied = 1;
        req->resp = resp;
        req->status = status;
        req->stream = stream;
        resp = NULL;
        if (req->phase == P_SUSPENDED) {
            req->phase = P_RESUMING;
            resume = 1;
        }
    }
    if (drop_owed && req->owed) {
        req->owed = 0;
        unref = 1;
    }
    pthread_mutex_unlock(&req->lock);
    if (resp != NULL) {
        /* Dropped: a stream that never went out gets no close call. */
        if (stream != NULL)
            stream->silent = 1;
        MHD_destroy_response(resp);
    }
    /*
     * Resume outside our lock (MHD may call back into this request). Only
     * the thread that moved the phase to P_RESUMING resumes, and a
     * suspended connection cannot go away before that, so conn is valid.
     */
    if (resume)
        MHD_resume_connection(req->conn);
    if (rc == HLF_OK)
        tlist_remove(req);
    if (unref)
        req_unref(req);
    return rc;
}

static int
reply_bytes(gw_req_t *req, int status, const char *content_type,
            const void *data, size_t len, const gw_header_t *hdrs,
            size_t nhdrs, int drop_owed)
{
    struct MHD_Response *resp;

    resp = MHD_create_response_from_buffer(len, (void *)data,
                                           MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        reply_store(req, 0, NULL, drop_owed, NULL);
        return HLF_ENOMEM;
    }
    add_headers(resp, req, content_type, hdrs, nhdrs);
    return reply_store(req, (unsigned)status, resp, drop_owed, NULL);
}

int
gw_reply_raw(gw_req_t *req, int status, const char *content_type,
             const void *data, size_t len, const gw_header_t *hdrs,
             size_t nhdrs)
{
    return reply_bytes(req, status, content_type, data, len, hdrs, nhdrs,
                       1);
}

int
gw_reply_json(gw_req_t *req, int status, json_t *body,
              const gw_header_t *hdrs, size_t nhdrs)
{
    char *text = NULL;
    int rc;

    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(body);
        if (text == NULL) {
            reply_store(req, 0, NULL, 1, NULL);
            return HLF_ENOMEM;
        }
    }
    rc = reply_bytes(req, status, "application/json", text ? text : "",
                     text ? strlen(text) : 0, hdrs, nhdrs, 1);
    free(text);
    return rc;
}

static int
has_header(const gw_header_t *hdrs, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (hdrs[i].name != NULL && strcasecmp(hdrs[i].name, name) == 0)
            return 1;
    return 0;
}

/* The error reply; drop_owed as for reply_store. */
static int
reply_errorv(gw_req_t *req, gw_errcode_t code, const char *field,
             const gw_header_t *hdrs, size_t nhdrs, int drop_owed,
             const char *fmt, va_list ap)
{
    gw_header_t all[16];
    char msg[1024], retry[16];
    json_t *err, *root;
    char *text;
    size_t n = 0, i;
    int status = gw_errcode_status(code), rc;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (i = 0; msg[i] != '\0'; i++)
        if (msg[i] == '\n' || msg[i] == '\r')
            msg[i] = ' ';
    for (i = 0; i < nhdrs && n < 15; i++)
        all[n++] = hdrs[i];
    if ((status == 429 || status == 503) &&
        !has_header(hdrs, nhdrs, "Retry-After")) {
        snprintf(retry, sizeof(retry), "%d",
                 hcfg ? hcfg->retry_after_s : GW_DEFAULT_RETRY_AFTER_S);
        all[n].name = "Retry-After";
        all[n++].value = retry;
    }
    err = json_object();
    json_object_set_new(err, "code", json_string(gw_errcode_name(code)));
    if (field != NULL)
        json_object_set_new(err, "field", json_string(field));
    json_object_set_new(err, "message", json_string(msg));
    root = json_object();
    json_object_set_new(root, "error", err);
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL) {
        reply_store(req, 0, NULL, drop_owed, NULL);
        return HLF_ENOMEM;
    }
    rc = reply_bytes(req, status, "application/json", text, strlen(text),
                     all, n, drop_owed);
    free(text);
    return rc;
}

static int core_error(gw_req_t *req, gw_errcode_t code, const char *field,
                      const gw_header_t *hdrs, size_t nhdrs,
                      const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* An error the core answers itself (not a handler's owed reply). */
static int
core_error(gw_req_t *req, gw_errcode_t code, const char *field,
           const gw_header_t *hdrs, size_t nhdrs, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = reply_errorv(req, code, field, hdrs, nhdrs, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int
gw_reply_error(gw_req_t *req, gw_errcode_t code, const char *field,
               const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = reply_errorv(req, code, field, NULL, 0, 1, fmt, ap);
    va_end(ap);
    return rc;
}

int
gw_reply_error_h(gw_req_t *req, gw_errcode_t code, const char *field,
                 const gw_header_t *hdrs, size_t nhdrs, const char *fmt,
                 ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = reply_errorv(req, code, field, hdrs, nhdrs, 1, fmt, ap);
    va_end(ap);
    return rc;
}

/* ------------------------------------------------------------------ */
/* libhlf failures -> REST answers (one table)                      */
/* ------------------------------------------------------------------ */

/* libhlf code -> REST error (anything unlisted: INTERNAL). */
static const struct {
    int hlf;
    gw_errcode_t gw;
    const char *what;
} error_map[] = {
    {HLF_EUNAVAIL, GW_ERR_LEDGER_UNAVAILABLE, "no peer or orderer reachable"},
    {HLF_ETIMEDOUT, GW_ERR_LEDGER_UNAVAILABLE, "the ledger did not answer "
                                               "in time"},
    {HLF_ECLOSED, GW_ERR_LEDGER_UNAVAILABLE, "the connection closed"},
    {HLF_EGRPC, GW_ERR_LEDGER_UNAVAILABLE, "the peer call failed"},
    {HLF_EEVALUATE, GW_ERR_LEDGER_UNAVAILABLE, "evaluation failed"},
    {HLF_EENDORSE, GW_ERR_LEDGER_UNAVAILABLE, "endorsement failed"},
    {HLF_ESUBMIT, GW_ERR_LEDGER_UNAVAILABLE, "the ordering service refused "
                                             "or is unreachable"},
    {HLF_ECOMMITSTATUS, GW_ERR_LEDGER_UNAVAILABLE, "commit status "
                                                   "unavailable"},
    {HLF_ECOMMIT, GW_ERR_INTERNAL, "the transaction committed invalid"},
    {HLF_EPROTO, GW_ERR_INTERNAL, "malformed answer from the peer"},
};

static json_t *
hlf_error_body(const char *code, const char *field, const char *msg)
{
    json_t *e = json_pack("{s:s}", "code", code);

    if (e == NULL)
        return NULL;
    if ((field != NULL &&
         json_object_set_new(e, "field", json_string(field)) != 0) ||
        json_object_set_new(e, "message", json_string(msg)) != 0) {
        json_decref(e);
        return NULL;
    }
    return json_pack("{s:o}", "error", e);
}

/* The chaincode's own error object, if e carries one of its shape. */
static int
map_chaincode(const hlf_error_t *e, gw_hlf_answer_t *a)
{
    json_t *body = json_loads(e->chaincode_message, 0, NULL);
    json_t *obj = json_object_get(body, "error");
    json_t *field = json_object_get(obj, "field");

    if (!json_is_object(obj) ||
        !json_is_string(json_object_get(obj, "code")) ||
        (field != NULL && !json_is_string(field)) ||
        e->chaincode_status < 400 || e->chaincode_status > 599) {
        json_decref(body);
        return -1;
    }
    a->status = e->chaincode_status;
    a->code = json_string_value(json_object_get(obj, "code"));
    a->field = json_string_value(field);
    a->body = body;
    return 0;
}

int
gw_hlf_error_answer(const hlf_error_t *e, gw_hlf_answer_t *a)
{
    gw_errcode_t code = GW_ERR_INTERNAL;
    const char *what = "gateway failure";
    char msg[1200];
    size_t i;

    memset(a, 0, sizeof(*a));
    if (e->code == HLF_ECHAINCODE && map_chaincode(e, a) == 0)
        return HLF_OK;
    for (i = 0; i < sizeof(error_map) / sizeof(error_map[0]); i++) {
        if (error_map[i].hlf == e->code) {
            code = error_map[i].gw;
            what = error_map[i].what;
            break;
        }
    }
    if (e->code == HLF_ECHAINCODE)
        what = "unexpected chaincode answer";
    snprintf(msg, sizeof(msg), "%s: %s", what,
             e->text[0] ? e->text : hlf_strerror(e->code));
    a->status = gw_errcode_status(code);
    a->code = gw_errcode_name(code);
    a->retry_after = a->status == 503;
    a->body = hlf_error_body(a->code, NULL, msg);
    return a->body != NULL ? HLF_OK : HLF_ENOMEM;
}

int
gw_reply_hlf_error(gw_req_t *req, const hlf_error_t *e)
{
    gw_hlf_answer_t a;
    gw_header_t h = {"Retry-After", NULL};
    char ra[16];
    int rc;

    if (gw_hlf_error_answer(e, &a) != HLF_OK)
        return gw_reply_error(req, GW_ERR_INTERNAL, NULL, "out of memory");
    snprintf(ra, sizeof(ra), "%d",
             hcfg ? hcfg->retry_after_s : GW_DEFAULT_RETRY_AFTER_S);
    h.value = ra;
    rc = gw_reply_json(req, a.status, a.body, &h, a.retry_after ? 1 : 0);
    return rc;
}

int
gw_req_defer(gw_req_t *req, gw_job_fn fn, void *arg,
             void (*arg_free)(void *))
{
    int rc = gw_pool_submit(fn, arg);

    if (rc != HLF_OK) {
        if (arg_free != NULL)
            arg_free(arg);
        return rc;
    }
    return GW_PENDING;
}

/* ------------------------------------------------------------------ */
/* Streams                                                            */
/* ------------------------------------------------------------------ */

static void
stream_unref(gw_stream_t *s)
{
    int last;

    pthread_mutex_lock(&s->lock);
    last = --s->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        pthread_mutex_destroy(&s->lock);
        hlf_free(s);
    }
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    gw_stream_t *s = cls;

    (void)pos;
    for (;;) {
        unsigned seq;
        ssize_t n;

        pthread_mutex_lock(&s->lock);
        if (s->end_req) {
            s->ended = 1;
            s->why = s->end_why;
            pthread_mutex_unlock(&s->lock);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        seq = s->wake_seq;
        pthread_mutex_unlock(&s->lock);
        n = s->ops.read(s->ud, buf, max);
        if (n > 0)
            return n > (ssize_t)max ? (ssize_t)max : n;
        if (n == GW_STREAM_EOF || n < 0) {
            pthread_mutex_lock(&s->lock);
            s->ended = 1;
            s->why = n == GW_STREAM_EOF ? GW_STREAM_END_EOF
                                        : GW_STREAM_END_ERROR;
            pthread_mutex_unlock(&s->lock);
            return n == GW_STREAM_EOF ? MHD_CONTENT_READER_END_OF_STREAM
                                      : MHD_CONTENT_READER_END_WITH_ERROR;
        }
        pthread_mutex_lock(&s->lock);
        if (s->wake_seq != seq || s->end_req) {
            /* Woken while reading: data may be there now. */
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        /* Nothing to send: take the connection out of the poll set so an
         * idle stream costs no CPU; gw_stream_wake resumes it. */
        s->suspended = 1;
        MHD_suspend_connection(s->conn);
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
}

static void
stream_free_cb(void *cls)
{
    gw_stream_t *s = cls;
    gw_stream_end_t why;
    int silent;

    pthread_mutex_lock(&s->lock);
    s->done = 1;
    why = s->ended ? s->why : (s->end_req ? s->end_why
                                          : GW_STREAM_END_CLIENT);
    silent = s->silent;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&slock);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else if (streams == s)
        streams = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    pthread_mutex_unlock(&slock);
    if (!silent) {
        gw_gauge_add(m_streams, NULL, -1);
        if (s->ops.close != NULL)
            s->ops.close(s->ud, why);
    }
    stream_unref(s);
}

int
gw_reply_stream(gw_req_t *req, int status, const char *content_type,
                const gw_header_t *hdrs, size_t nhdrs,
                const gw_stream_ops_t *ops, void *ud, gw_stream_t **out)
{
    struct MHD_Response *resp;
    gw_stream_t *s;

    *out = NULL;
    if (ops == NULL || ops->read == NULL)
        return HLF_EINVAL;
    s = hlf_calloc(1, sizeof(*s));
    if (s == NULL)
        return HLF_ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    s->refs = 2;
    s->ops = *ops;
    s->ud = ud;
    s->conn = req->conn;
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                             stream_read, s, stream_free_cb);
    if (resp == NULL) {
        pthread_mutex_destroy(&s->lock);
        hlf_free(s);
        return HLF_ENOMEM;
    }
    add_headers(resp, req, content_type, hdrs, nhdrs);
    pthread_mutex_lock(&slock);
    s->next = streams;
    if (streams != NULL)
        streams->prev = s;
    streams = s;
    pthread_mutex_unlock(&slock);
    if (reply_store(req, (unsigned)status, resp, 1, s) != HLF_OK) {
        /* Too late (timed out or the client left): the response was
         * destroyed without a close call; drop the producer's ref. */
        stream_unref(s);
        return HLF_ECLOSED;
    }
    gw_gauge_add(m_streams, NULL, 1);
    *out = s;
    return HLF_OK;
}

void
gw_stream_wake(gw_stream_t *s)
{
    int resume = 0;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->wake_seq++;
    if (s->suspended && !s->done) {
        s->suspended = 0;
        resume = 1;
    }
    pthread_mutex_unlock(&s->lock);
    /* Only the thread that cleared suspended resumes; the connection
     * stays suspended (and alive) until it does. */
    if (resume)
        MHD_resume_connection(s->conn);
}

static void
stream_end(gw_stream_t *s, gw_stream_end_t why)
{
    pthread_mutex_lock(&s->lock);
    if (!s->end_req && !s->done) {
        s->end_req = 1;
        s->end_why = why;
    }
    pthread_mutex_unlock(&s->lock);
    gw_stream_wake(s);
}

void
gw_stream_end(gw_stream_t *s)
{
    if (s != NULL)
        stream_end(s, GW_STREAM_END_EOF);
}

void
gw_stream_release(gw_stream_t *s)
{
    if (s != NULL)
        stream_unref(s);
}

int
gw_stream_socket(gw_stream_t *s)
{
    const union MHD_ConnectionInfo *ci = NULL;

    if (s == NULL)
        return -1;
    pthread_mutex_lock(&s->lock);
    /* No connection (gw__http_fuzz_request): MHD would hand back a
     * pointer computed from NULL, not NULL. */
    if (!s->done && s->conn != NULL)
        ci = MHD_get_connection_info(s->conn,
                                     MHD_CONNECTION_INFO_CONNECTION_FD);
    pthread_mutex_unlock(&s->lock);
    return ci != NULL ? (int)ci->connect_fd : -1;
}

/* ------------------------------------------------------------------ */
/* The request pipeline                                               */
/* ------------------------------------------------------------------ */

/* Queue the stored response; MHD_NO only if MHD refused it. */
static enum MHD_Result
queue_stored(gw_req_t *req, int during_upload)
{
    struct MHD_Response *resp;
    unsigned status;
    enum MHD_Result ret;

    /* A request of gw__http_fuzz_request has no connection: its caller
     * takes the stored response. */
    if (req->conn == NULL)
        return MHD_YES;
    pthread_mutex_lock(&req->lock);
    resp = req->resp;
    status = req->status;
    pthread_mutex_unlock(&req->lock);
    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(req->conn, status, resp);
    if (ret == MHD_NO && during_upload)
        return MHD_YES; /* MHD wants the body first: queue at the end */
    pthread_mutex_lock(&req->lock);
    req->resp = NULL;
    req->phase = P_DONE;
    pthread_mutex_unlock(&req->lock);
    MHD_destroy_response(resp);
    return ret;
}

/* Match the route and fill req->params; on failure answer 404/405. */
static int
match_route(gw_req_t *req)
{
    char *copy, *segs[MAX_SEGS];
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET"
                                                          : req->method;
    const route_t *best = NULL;
    long best_rank = -1;
    char allow[128] = "";
    size_t n, i, used = 0;

    copy = hlf_strdup(req->path);
    if (copy == NULL)
        return HLF_ENOMEM;
    /* A bad escape anywhere is 400, before any other judgement. */
    if (pct_decode(copy, 1) < 0) {
        hlf_free(copy);
        core_error(req, GW_ERR_BAD_REQUEST, "path", NULL, 0,
                   "the path has an invalid percent-escape ('%%' must be "
                   "followed by two hex digits, not %%00)");
        return HLF_EINVAL;
    }
    memcpy(copy, req->path, strlen(req->path) + 1);
    if (split_path(copy, segs, &n) != 0) {
        hlf_free(copy);
        core_error(req, GW_ERR_NOT_FOUND, NULL, NULL, 0, "no route for "
                   "this path");
        return HLF_ENOTFOUND;
    }
    /* Split on the raw '/', then decode each segment on its own (the
     * escapes are known to be valid). */
    for (i = 0; i < n; i++)
        (void)pct_decode(segs[i], 1);
    for (i = 0; i < nroutes; i++) {
        long rank = route_rank(&routes[i], segs, n);

        if (rank >= 0 && (best == NULL || rank < best_rank)) {
            best = &routes[i];
            best_rank = rank;
        }
    }
    if (best == NULL) {
        hlf_free(copy);
        core_error(req, GW_ERR_NOT_FOUND, NULL, NULL, 0, "no route for "
                   "this path");
        return HLF_ENOTFOUND;
    }
    req->route = NULL;
    for (i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].pattern, best->pattern) != 0)
            continue;
        if (strcmp(routes[i].method, method) == 0)
            req->route = &routes[i];
        if (used < sizeof(allow)) {
            int w = snprintf(allow + used, sizeof(allow) - used, "%s%s",
                             used ? ", " : "", routes[i].method);

            used += w > 0 ? (size_t)w : 0;
        }
    }
    if (req->route == NULL) {
        gw_header_t h = {"Allow", allow};

        hlf_free(copy);
        core_error(req, GW_ERR_METHOD_NOT_ALLOWED, NULL, &h, 1,
                   "method %s is not allowed here (allowed: %s)",
                   req->method, allow);
        return HLF_ENOTFOUND;
    }
    for (i = 0; i < n; i++) {
        const char *p = req->route->segs[i];

        if (is_param(p) &&
            kv_add(&req->params, p + 1, strlen(p) - 2, segs[i],
                   strlen(segs[i])) != HLF_OK) {
            hlf_free(copy);
            return HLF_ENOMEM;
        }
    }
    hlf_free(copy);
    return HLF_OK;
}

/* 401 with a WWW-Authenticate challenge (error NULL: none). */
static int
unauthorized(gw_req_t *req, const char *error, const char *msg)
{
    char ch[128];
    gw_header_t w = {"WWW-Authenticate", ch};

    snprintf(ch, sizeof(ch), "Bearer realm=\"reso-gateway\"%s%s%s",
             error ? ", error=\"" : "", error ? error : "",
             error ? "\"" : "");
    core_error(req, GW_ERR_UNAUTHORIZED, NULL, &w, 1, "%s", msg);
    return HLF_EPERM;
}

/*
 * The caller's credential: a bearer API key when the request has an
 * Authorization header, else (mutual TLS) its verified client
 * certificate's clientcert entry. Answers 401 when there is none or it is
 * not valid. what names the kind for messages.
 */
static int
credential(gw_req_t *req, const gw_apikey_t **key, const char **what)
{
    const char *h = gw_req_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t len;

    *what = "API key";
    if (h == NULL && req->cert_state < 0)
        return unauthorized(req, "invalid_token", "client certificate not "
                            "issued by the configured client CA (or "
                            "expired)");
    if (h == NULL && req->cert_state > 0) {
        *what = "client certificate";
        *key = gw_auth_lookup_cert(req->cert_fp);
        if (*key == NULL || (*key)->identity == NULL)
            return unauthorized(req, "invalid_token", "client certificate "
                                "is not bound to an identity (no "
                                "clientcert entry)");
        return HLF_OK;
    }
    if (h == NULL)
        return unauthorized(req, NULL, "missing credentials: send "
                            "Authorization: Bearer <api key>");
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return unauthorized(req, "invalid_request", "unsupported "
                            "authorization scheme: use Bearer");
    h += 7;
    while (*h == ' ')
        h++;
    len = strlen(h);
    while (len > 0 && h[len - 1] == ' ')
        len--;
    *key = gw_auth_lookup(h, len);
    if (*key == NULL || (*key)->identity == NULL)
        return unauthorized(req, "invalid_token", "invalid API key");
    return HLF_OK;
}

/* Authenticate, rate-limit and check X-Reso-Identity; answers on failure. */
static int
authenticate(gw_req_t *req)
{
    const gw_apikey_t *key = NULL;
    const char *what = NULL, *h;
    int retry = 1, rc;

    rc = credential(req, &key, &what);
    if (rc != HLF_OK)
        return rc;
    req->principal.key_name = key->name;
    req->principal.identity = key->identity;
    req->authed = 1;
    if (gw_auth_rate_take(key, &retry) == HLF_EAGAIN) {
        char ra[16];
        gw_header_t r = {"Retry-After", ra};

        snprintf(ra, sizeof(ra), "%d", retry);
        core_error(req, GW_ERR_RATE_LIMITED, NULL, &r, 1, "rate limit of "
                   "%s %s exceeded; retry after %d s", what, key->name,
                   retry);
        return HLF_EAGAIN;
    }
    h = gw_req_header(req, "X-Reso-Identity");
    if (h != NULL && gw_req_check_identity(req, h) != HLF_OK) {
        core_error(req, GW_ERR_FORBIDDEN, "X-Reso-Identity", NULL, 0,
                   "%s %s may act only as %s, not as \"%s\"", what,
                   key->name, key->identity->name, h);
        return HLF_EPERM;
    }
    return HLF_OK;
}

static int
is_json_type(const char *ct)
{
    size_t n = strlen("application/json");

    if (ct == NULL)
        return 0;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, "application/json", n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* The largest request body the matched route takes. */
static size_t
body_limit(const gw_req_t *req)
{
    return req->route != NULL && (req->route->flags & GW_ROUTE_DOCUMENT)
               ? hcfg->documents_max_bytes
               : hcfg->max_body_bytes;
}

/* Checks that need only the headers. HLF_OK to go on reading the body. */
static int
begin(gw_req_t *req)
{
    const char *cl, *te;
    unsigned flags;
    long long clen = 0;
    int rc;

    if (atomic_load(&draining)) {
        gw_header_t c = {"Connection", "close"};

        core_error(req, GW_ERR_SERVICE_UNAVAILABLE, NULL, &c, 1,
                   "the gateway is shutting down");
        return HLF_ECLOSED;
    }
    rc = match_route(req);
    if (rc != HLF_OK)
        return rc;
    flags = req->route->flags;
    if (flags & GW_ROUTE_AUTH) {
        rc = authenticate(req);
        if (rc != HLF_OK)
            return rc;
    }
    cl = gw_req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    te = gw_req_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (cl != NULL) {
        char *end;

        clen = strtoll(cl, &end, 10);
        if (*end != '\0' || clen < 0)
            clen = 0;
    }
    if (!(flags & GW_ROUTE_BODY)) {
        if (clen > 0 || te != NULL) {
            core_error(req, GW_ERR_PAYLOAD_TOO_LARGE, NULL, NULL, 0,
                       "%s %s takes no request body", req->method,
                       req->route->pattern);
            return HLF_ETOOBIG;
        }
        return HLF_OK;
    }
    if ((flags & GW_ROUTE_JSON) &&
        !is_json_type(gw_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        core_error(req, GW_ERR_UNSUPPORTED_MEDIA_TYPE, "Content-Type", NULL,
                   0, "the request body must be application/json");
        return HLF_EINVAL;
    }
    if ((unsigned long long)clen > body_limit(req)) {
        core_error(req, GW_ERR_PAYLOAD_TOO_LARGE, NULL, NULL, 0,
                   "request body of %lld bytes exceeds the limit of %zu",
                   clen, body_limit(req));
        return HLF_ETOOBIG;
    }
    return HLF_OK;
}

/* Append upload data, capped at the route's body limit. The buffer grows
 * geometrically: document uploads arrive in many small pieces. */
static void
body_append(gw_req_t *req, const char *data, size_t n)
{
    size_t limit = body_limit(req);
    char *nb;

    if (req->body_over)
        return;
    if (n > limit - req->body_len) {
        req->body_over = 1;
        core_error(req, GW_ERR_PAYLOAD_TOO_LARGE, NULL, NULL, 0,
                   "request body exceeds the limit of %zu bytes", limit);
        return;
    }
    if (req->body_len + n + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;

        while (cap < req->body_len + n + 1)
            cap *= 2;
        if (cap > limit + 1)
            cap = limit + 1;
        nb = hlf_realloc(req->body, cap);
        if (nb == NULL) {
            req->body_over = 1;
            core_error(req, GW_ERR_INTERNAL, NULL, NULL, 0, "out of memory");
            return;
        }
        req->body = nb;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    req->body[req->body_len] = '\0';
}

/* Run the handler on a complete request. */
static enum MHD_Result
dispatch(gw_req_t *req)
{
    const route_t *r = req->route;
    json_error_t jerr;
    int rc, suspend = 0, replied;

    if (r->flags & GW_ROUTE_JSON) {
        if (req->body_len == 0) {
            core_error(req, GW_ERR_MALFORMED_JSON, NULL, NULL, 0,
                       "the request body is empty; expected JSON");
            return queue_stored(req, 0);
        }
        req->json = json_loadb(req->body, req->body_len,
                               JSON_REJECT_DUPLICATES, &jerr);
        if (req->json == NULL) {
            core_error(req, GW_ERR_MALFORMED_JSON, NULL, NULL, 0,
                       "malformed JSON at line %d column %d: %s", jerr.line,
                       jerr.column, jerr.text);
            return queue_stored(req, 0);
        }
    }
    pthread_mutex_lock(&req->lock);
    req->phase = P_HANDLING;
    req->owed = 1;
    req->refs++;
    pthread_mutex_unlock(&req->lock);
    tlist_add(req);
    rc = r->fn(req);
    pthread_mutex_lock(&req->lock);
    replied = req->replied;
    if (rc == GW_PENDING && !replied) {
        /* The job replies later: stop polling this connection. */
        req->phase = P_SUSPENDED;
        MHD_suspend_connection(req->conn);
        suspend = 1;
    } else {
        req->phase = P_WAITING;
    }
    pthread_mutex_unlock(&req->lock);
    if (suspend)
        return MHD_YES;
    if (rc != GW_PENDING && !replied) {
        if (rc == HLF_EAGAIN || rc == HLF_ECLOSED)
            gw_reply_error(req, GW_ERR_SERVICE_UNAVAILABLE, NULL,
                           "the gateway is overloaded; retry later");
        else if (rc < 0)
            gw_reply_error(req, GW_ERR_INTERNAL, NULL, "internal error: %s",
                           hlf_strerror(rc));
        else {
            hlf_log(HLF_LOG_ERROR, "http", "rid=%s handler of %s %s "
                    "returned without a reply", req->rid, r->method,
                    r->pattern);
            gw_reply_error(req, GW_ERR_INTERNAL, NULL, "no reply");
        }
    }
    return queue_stored(req, 0);
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    gw_req_t *req = *con_cls;
    enum phase ph;
    int have_resp;

    (void)cls;
    (void)version;
    if (req == NULL) {
        req = req_new(conn, url, method);
        if (req == NULL)
            return MHD_NO;
        *con_cls = req;
        atomic_fetch_add(&in_flight, 1);
        gw_gauge_add(m_inflight, NULL, 1);
        if (begin(req) != HLF_OK)
            return queue_stored(req, 0);
        return MHD_YES;
    }
    pthread_mutex_lock(&req->lock);
    ph = req->phase;
    have_resp = req->resp != NULL;
    pthread_mutex_unlock(&req->lock);
    if (*upload_data_size > 0) {
        /* After an early error the rest of the body is discarded. */
        if (!have_resp && !req->replied)
            body_append(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        if (req->body_over)
            return queue_stored(req, 1);
        return MHD_YES;
    }
    if (have_resp)
        return queue_stored(req, 0);
    if (ph == P_HEADERS && !req->replied)
        return dispatch(req);
    /* Resumed without a reply or a spurious call: nothing to do. */
    return ph == P_DONE ? MHD_YES : MHD_NO;
}

static void
sanitize(char *dst, size_t n, const char *src)
{
    size_t i;

    for (i = 0; i + 1 < n && src[i] != '\0'; i++) {
        unsigned char c = (unsigned char)src[i];

        dst[i] = c < 0x20 || c == 0x7f || c == '"' || c == '\\' ? '?'
                                                                : (char)c;
    }
    dst[i] = '\0';
}

static void
completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    gw_req_t *req = *con_cls;
    const char *route, *key;
    char status[8], path[256];
    double secs;

    (void)cls;
    (void)conn;
    if (req == NULL)
        return;
    *con_cls = NULL;
    pthread_mutex_lock(&req->lock);
    req->completed = 1;
    req->abandoned = 1;
    snprintf(status, sizeof(status), "%u", req->status);
    pthread_mutex_unlock(&req->lock);
    secs = (double)(gw_now_ms() - req->start_ms) / 1000.0;
    route = req->route ? req->route->pattern : "unmatched";
    key = req->authed ? req->principal.key_name : "-";
    gw_counter_inc(m_requests, GW_LABELS(route, req->method, status));
    gw_histogram_observe(m_duration, GW_LABELS(route, req->method), secs);
    gw_gauge_add(m_inflight, NULL, -1);
    if (hcfg != NULL && hcfg->access_log) {
        sanitize(path, sizeof(path), req->path);
        hlf_log(HLF_LOG_INFO, "access", "rid=%s method=%s path=\"%s\" "
                "route=%s status=%s ms=%.1f key=%s bytes_in=%zu%s",
                req->rid, req->method, path, route, status, secs * 1000.0,
                key, req->body_len,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                                                           : " aborted=1");
    }
    tlist_remove(req);
    req_unref(req);
    pthread_mutex_lock(&tlock);
    atomic_fetch_sub(&in_flight, 1);
    pthread_cond_broadcast(&tcond);
    pthread_mutex_unlock(&tlock);
}

/* ------------------------------------------------------------------ */
/* The reaper: answers 504 for requests past their deadline           */
/* ------------------------------------------------------------------ */

/* Answer every listed request (deadline passed, or all when force). */
static void
expire(int force, int64_t now, int64_t *next_deadline)
{
    for (;;) {
        gw_req_t *r, *victim = NULL;

        pthread_mutex_lock(&tlock);
        *next_deadline = INT64_MAX;
        for (r = tlist; r != NULL; r = r->tnext) {
            if (force || r->deadline_ms <= now) {
                victim = r;
                break;
            }
            if (r->deadline_ms < *next_deadline)
                *next_deadline = r->deadline_ms;
        }
        if (victim != NULL) {
            pthread_mutex_lock(&victim->lock);
            victim->refs++;
            pthread_mutex_unlock(&victim->lock);
        }
        pthread_mutex_unlock(&tlock);
        if (victim == NULL)
            return;
        pthread_mutex_lock(&victim->lock);
        victim->abandoned = 1;
        pthread_mutex_unlock(&victim->lock);
        if (force)
            core_error(victim, GW_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0,
                       "the gateway is shutting down");
        else
            core_error(victim, GW_ERR_TIMEOUT, NULL, NULL, 0,
                       "no answer within %lld ms",
                       (long long)(hcfg ? hcfg->request_timeout_ms : 0));
        /* If a reply was already stored the error was dropped: the
         * request is off the list either way. */
        tlist_remove(victim);
        req_unref(victim);
    }
}

static void *
reaper(void *unused)
{
    (void)unused;
    for (;;) {
        int64_t next, now = gw_now_ms();
        struct timespec ts;

        expire(0, now, &next);
        pthread_mutex_lock(&tlock);
        if (reaper_stop) {
            pthread_mutex_unlock(&tlock);
            return NULL;
        }
        if (next == INT64_MAX) {
            pthread_cond_wait(&tcond, &tlock);
        } else {
            int64_t wait = next - gw_now_ms();

            clock_gettime(CLOCK_REALTIME, &ts);
            if (wait < 1)
                wait = 1;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&tcond, &tlock, &ts);
        }
        pthread_mutex_unlock(&tlock);
    }
}

/* ------------------------------------------------------------------ */
/* Core routes                                                        */
/* ------------------------------------------------------------------ */

static void
health_job(void *arg)
{
    gw_req_t *req = arg;
    json_t *body = NULL;
    gw_health_t h = gw_health_run(&body);

    gw_reply_json(req, h == GW_HEALTH_DOWN ? 503 : 200, body, NULL, 0);
}

static int
healthz(gw_req_t *req)
{
    return gw_req_defer(req, health_job, req, NULL);
}

static int
metrics(gw_req_t *req)
{
    char *text;
    size_t len;
    int rc = gw_metrics_render(&text, &len);

    if (rc != HLF_OK)
        return rc;
    rc = gw_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                      text, len, NULL, 0);
    hlf_free(text);
    return rc;
}

int
gw_core_routes(void)
{
    int rc = gw_http_route("GET", "/healthz", healthz, 0);

    if (rc == HLF_OK)
        rc = gw_http_route("GET", "/metrics", metrics, 0);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Start, drain, stop                                                 */
/* ------------------------------------------------------------------ */

/*
 * libmicrohttpd's own messages. Most are about single connections (a
 * client that went away mid-response is routine for SSE) and would flood
 * the log at 10,000 streams, so they are debug; running out of
 * connections is an operational problem and stays a warning.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    hlf_log(strstr(msg, "limit") != NULL ? HLF_LOG_WARN : HLF_LOG_DEBUG,
            "http", "%s", msg);
}

static void
register_metrics(void)
{
    m_requests = gw_metric_register(GW_METRIC_COUNTER, "http_requests_total",
                                    "HTTP requests by route, method and "
                                    "status", "route,method,status", NULL,
                                    0);
    m_duration = gw_metric_register(GW_METRIC_HISTOGRAM,
                                    "http_request_duration_seconds",
                                    "HTTP request duration from headers to "
                                    "response completion", "route,method",
                                    NULL, 0);
    m_inflight = gw_metric_register(GW_METRIC_GAUGE,
                                    "http_requests_in_flight",
                                    "HTTP requests being handled", NULL,
                                    NULL, 0);
    m_streams = gw_metric_register(GW_METRIC_GAUGE, "http_streams_open",
                                   "Open streamed responses (SSE)", NULL,
                                   NULL, 0);
    gw_gauge_set(m_inflight, NULL, 0);
    gw_gauge_set(m_streams, NULL, 0);
}

/* The whole PEM file at path into *out (new, NUL-terminated). */
static int
read_pem(const char *key, const char *path, char **out, size_t *len,
         hlf_error_t *err)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = HLF_OK;

    *out = NULL;
    if (fp == NULL)
        return hlf_error_set(err, HLF_ECONFIG, "%s %s: %s", key, path,
                             strerror(errno));
    for (;;) {
        size_t r;

        if (n + 4096 + 1 > cap) {
            char *nb;

            if (cap >= (size_t)1 << 20) {
                rc = hlf_error_set(err, HLF_ECONFIG, "%s %s: larger than "
                                   "1 MiB", key, path);
                break;
            }
            nb = hlf_realloc(buf, cap ? cap * 2 : 8192);
            if (nb == NULL) {
                rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
                break;
            }
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        r = fread(buf + n, 1, cap - n - 1, fp);
        n += r;
        if (r == 0)
            break;
    }
    if (rc == HLF_OK && ferror(fp))
        rc = hlf_error_set(err, HLF_ECONFIG, "%s %s: read error", key, path);
    fclose(fp);
    if (rc == HLF_OK && (n == 0 || strstr(buf, "-----BEGIN ") == NULL))
        rc = hlf_error_set(err, HLF_ECONFIG, "%s %s: no PEM data", key,
                           path);
    if (rc != HLF_OK) {
        if (buf != NULL)
            hlf_wipe(buf, cap);
        hlf_free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    if (len != NULL)
        *len = n;
    return HLF_OK;
}

static void
tls_free(void)
{
    if (tls_key_pem != NULL)
        hlf_wipe(tls_key_pem, tls_key_len);
    hlf_free(tls_key_pem);
    hlf_free(tls_cert_pem);
    hlf_free(tls_ca_pem);
    tls_key_pem = tls_cert_pem = tls_ca_pem = NULL;
    tls_key_len = 0;
}

/* Load the HTTPS material of cfg into tls_opts (MHD_OPTION_END-ended). */
static int
tls_load(const gw_config_t *cfg, struct MHD_OptionItem *opts,
         hlf_error_t *err)
{
    size_t n = 0;
    int rc;

    if (cfg->tls_cert == NULL) {
        opts[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        return HLF_OK;
    }
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
        return hlf_error_set(err, HLF_ECONFIG, "tls_cert: this "
                             "libmicrohttpd was built without TLS");
    rc = read_pem("tls_cert", cfg->tls_cert, &tls_cert_pem, NULL, err);
    if (rc == HLF_OK && cfg->tls_key != NULL)
        rc = read_pem("tls_key", cfg->tls_key, &tls_key_pem, &tls_key_len,
                      err);
    if (rc == HLF_OK && cfg->tls_client_ca != NULL)
        rc = read_pem("tls_client_ca", cfg->tls_client_ca, &tls_ca_pem,
                      NULL, err);
    if (rc != HLF_OK) {
        tls_free();
        return rc;
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                        tls_cert_pem};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                        tls_key_pem};
    /* A trust store makes GnuTLS request (not require) a client
     * certificate; authenticate() judges it. */
    if (tls_ca_pem != NULL)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0,
                                            tls_ca_pem};
    opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return HLF_OK;
}

int
gw_http_start(const gw_config_t *cfg, hlf_error_t *err)
{
    struct MHD_OptionItem tls_opts[4];
    struct addrinfo hints, *ai = NULL;
    char port[16];
    unsigned flags;
    const union MHD_DaemonInfo *info;
    uint8_t rnd[4];
    int rc;

    if (daemon_ != NULL)
        return hlf_error_set(err, HLF_EEXIST, "HTTP already started");
    hcfg = cfg;
    atomic_store(&draining, 0);
    if (hlf_random_bytes(rnd, sizeof(rnd)) == HLF_OK)
        rid_boot = (unsigned)rnd[0] << 24 | (unsigned)rnd[1] << 16 |
                   (unsigned)rnd[2] << 8 | rnd[3];
    register_metrics();
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", cfg->listen_port);
    rc = getaddrinfo(cfg->listen_host, port, &hints, &ai);
    if (rc != 0)
        return hlf_error_set(err, HLF_EIO, "listen %s:%d: %s",
                             cfg->listen_host, cfg->listen_port,
                             gai_strerror(rc));
    flags = MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    rc = tls_load(cfg, tls_opts, err);
    if (rc != HLF_OK) {
        freeaddrinfo(ai);
        return rc;
    }
    if (cfg->tls_cert != NULL)
        flags |= MHD_USE_TLS;
    reaper_stop = 0;
    if (pthread_create(&reaper_thread, NULL, reaper, NULL) != 0) {
        freeaddrinfo(ai);
        return hlf_error_set(err, HLF_ENOMEM, "cannot start reaper thread");
    }
    reaper_running = 1;
    daemon_ = MHD_start_daemon(
        flags, (uint16_t)cfg->listen_port, NULL, NULL, access_cb, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->http_conn_memory,
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)((cfg->idle_timeout_ms + 999) / 1000),
        MHD_OPTION_ARRAY, tls_opts,
        cfg->http_threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
        (unsigned)cfg->http_threads, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (daemon_ == NULL) {
        gw_http_stop();
        return hlf_error_set(err, HLF_EIO, "cannot listen on %s:%d (in use "
                             "or not a local address%s)", cfg->listen_host,
                             cfg->listen_port,
                             cfg->tls_cert != NULL
                                 ? ", or GnuTLS refused tls_cert/tls_key"
                                 : "");
    }
    info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    bound_port = info ? info->port : cfg->listen_port;
    return HLF_OK;
}

int
gw_http_port(void)
{
    return bound_port;
}

int
gw_public_base(char *buf, size_t n)
{
    const gw_config_t *cfg = hcfg != NULL ? hcfg : gw_config();
    const char *host = cfg != NULL ? cfg->listen_host : "127.0.0.1";
    int port = gw_http_port(), w;

    if (buf == NULL || n == 0)
        return HLF_EINVAL;
    if (cfg != NULL && cfg->public_url != NULL) {
        size_t len = strlen(cfg->public_url);

        while (len > 0 && cfg->public_url[len - 1] == '/')
            len--;
        w = snprintf(buf, n, "%.*s", (int)len, cfg->public_url);
    } else {
        if (port == 0 && cfg != NULL)
            port = cfg->listen_port;
        w = snprintf(buf, n, strchr(host, ':') != NULL ? "%s://[%s]:%d"
                                                       : "%s://%s:%d",
                     cfg != NULL && cfg->tls_cert != NULL ? "https"
                                                          : "http",
                     host, port);
    }
    if (w < 0 || (size_t)w >= n) {
        buf[0] = '\0';
        return HLF_EINVAL;
    }
    return HLF_OK;
}

int
gw_http_in_flight(void)
{
    return atomic_load(&in_flight);
}

static void
end_all_streams(void)
{
    gw_stream_t *s;

    pthread_mutex_lock(&slock);
    for (s = streams; s != NULL; s = s->next)
        stream_end(s, GW_STREAM_END_SHUTDOWN);
    pthread_mutex_unlock(&slock);
}

/* Wait until nothing is in flight or the deadline; returns in_flight. */
static int
wait_idle(int64_t deadline)
{
    int n;

    pthread_mutex_lock(&tlock);
    while ((n = atomic_load(&in_flight)) > 0) {
        int64_t left = deadline - gw_now_ms();
        struct timespec ts;

        if (left <= 0)
            break;
        if (left > 100)
            left = 100;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += left * 1000000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&tcond, &tlock, &ts);
    }
    pthread_mutex_unlock(&tlock);
    return n;
}

int
gw_http_drain(int64_t timeout_ms)
{
    int64_t next;
    int n;

    if (daemon_ == NULL)
        return 0;
    /*
     * From here every new request, on a new or a kept-alive connection,
     * is answered 503 "shutting down" with Connection: close (see the
     * request handler). The listen socket stays with MHD until
     * MHD_stop_daemon: MHD_quiesce_daemon is not used, because in
     * libmicrohttpd 0.9.75 its epoll removal races the polling thread's
     * own (both delete the listen socket; the loser aborts the process
     * with "Failed to remove listen FD from epoll set").
     */
    atomic_store(&draining, 1);
    end_all_streams();
    n = wait_idle(gw_now_ms() + timeout_ms);
    if (n > 0) {
        hlf_log(HLF_LOG_WARN, "http", "%d request(s) still in flight after "
                "%lld ms; answering 503", n, (long long)timeout_ms);
        expire(1, gw_now_ms(), &next);
        end_all_streams();
        n = wait_idle(gw_now_ms() + 2000);
    }
    return n;
}

void
gw_http_stop(void)
{
    size_t i;
    int64_t next;

    if (daemon_ != NULL) {
        /* MHD must not be stopped with suspended connections: answer
         * whatever still waits and end every stream first. */
        atomic_store(&draining, 1);
        expire(1, gw_now_ms(), &next);
        end_all_streams();
        wait_idle(gw_now_ms() + 2000);
        MHD_stop_daemon(daemon_);
        daemon_ = NULL;
    }
    if (reaper_running) {
        pthread_mutex_lock(&tlock);
        reaper_stop = 1;
        pthread_cond_broadcast(&tcond);
        pthread_mutex_unlock(&tlock);
        pthread_join(reaper_thread, NULL);
        reaper_running = 0;
    }
    for (i = 0; i < nroutes; i++)
        route_free(&routes[i]);
    hlf_free(routes);
    routes = NULL;
    nroutes = 0;
    bound_port = 0;
    hcfg = NULL;
    tls_free();
}

/* ------------------------------------------------------------------ */
/* Test-only entry point (tests/fuzz)                                 */
/* ------------------------------------------------------------------ */

int
gw__http_fuzz_request(const gw_config_t *cfg, const char *method,
                      const char *path, const gw_header_t *query,
                      size_t nquery, const gw_header_t *hdrs, size_t nhdrs,
                      const char *body, size_t body_len, size_t chunk,
                      int *status, void **resp)
{
    gw_req_t *req;
    size_t i, off;
    int rc = HLF_ENOMEM;

    *status = 0;
    *resp = NULL;
    if (daemon_ != NULL || cfg == NULL || method == NULL || path == NULL)
        return HLF_EINVAL;
    if (chunk == 0)
        chunk = body_len > 0 ? body_len : 1;
    hcfg = cfg;
    req = hlf_calloc(1, sizeof(*req));
    if (req == NULL)
        return HLF_ENOMEM;
    /* What req_new and MHD's header and argument callbacks would do. */
    pthread_mutex_init(&req->lock, NULL);
    req->refs = 1;
    req->method = hlf_strdup(method);
    req->path = hlf_strdup(path);
    req->start_ms = gw_now_ms();
    req->deadline_ms = req->start_ms + cfg->request_timeout_ms;
    snprintf(req->rid, sizeof(req->rid), "%08x%08x", rid_boot,
             atomic_fetch_add(&rid_counter, 1));
    if (req->method == NULL || req->path == NULL)
        goto out;
    for (i = 0; i < nhdrs; i++)
        if (kv_add(&req->headers, hdrs[i].name, strlen(hdrs[i].name),
                   hdrs[i].value, hdrs[i].value ? strlen(hdrs[i].value)
                                                : 0) != HLF_OK)
            goto out;
    for (i = 0; i < nquery; i++)
        if (kv_add(&req->query, query[i].name, strlen(query[i].name),
                   query[i].value, query[i].value ? strlen(query[i].value)
                                                  : 0) != HLF_OK)
            goto out;
    rc = HLF_OK;
    /* The order of access_cb: headers, body pieces, then the handler. */
    if (begin(req) == HLF_OK) {
        for (off = 0; off < body_len && !req->replied && !req->body_over;
             off += chunk) {
            size_t n = body_len - off < chunk ? body_len - off : chunk;

            body_append(req, body + off, n);
        }
        if (!req->replied)
            dispatch(req);
    }
    pthread_mutex_lock(&req->lock);
    req->completed = 1;
    req->abandoned = 1;
    *status = req->replied ? (int)req->status : 0;
    *resp = req->resp;
    req->resp = NULL;
    pthread_mutex_unlock(&req->lock);
    tlist_remove(req);
out:
    req_unref(req);
    return rc;
}
