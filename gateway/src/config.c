/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway configuration: one descriptor table of every key (type,
 * default, bounds, help), a line-oriented file format, environment
 * overrides and the import of `resoctl network env --json` output.
 *
 * File format: one `key value...` per line; blank lines and lines whose
 * first non-blank character is `#` are ignored, as is a ` #` comment after
 * the value. Values are whitespace-separated words; a word may be written
 * in double quotes to hold spaces. `identity`, `peer` and `apikey` repeat;
 * every other key may appear once. Relative paths are relative to the
 * directory of the file naming them. RESO_GW_<UPPER_KEY> overrides a key
 * (repeatable keys append, several entries separated by ';').
 *
 * Every error names where (FILE:LINE or the environment variable), the
 * key and the bad value, and loading goes on to report all of them.
 */
#include "gw.h"

#include "hlf/log.h"
#include "hlf/mem.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_WORDS 8
#define WHERE_LEN 512

typedef enum {
    T_STR,      /* one word */
    T_PATH,     /* one word, resolved against the file's directory */
    T_URL,      /* one word: an http:// or https:// URL */
    T_INT,      /* int within [min, max] */
    T_MS,       /* int64 milliseconds within [min, max] */
    T_SIZE,     /* bytes, optional k/m suffix (1024-based) */
    T_BOOL,     /* yes|no|true|false|on|off|1|0 */
    T_LISTEN,   /* host:port */
    T_RATE,     /* rps [burst] */
    T_LOGLEVEL, /* debug|info|warn|error */
    T_IDENTITY, /* repeatable: name msp_id msp_dir */
    T_PEER,     /* repeatable: org_msp address tls_ca [host] */
    T_APIKEY,   /* repeatable: name identity sha256-hex */
    T_CLIENTCERT /* repeatable: name identity sha256-hex of the DER cert */
} ktype_t;

typedef struct desc_s {
    const char *name;
    ktype_t type;
    size_t off; /* offset of the field in gw_config_t (scalars) */
    const char *def; /* default value as it would be written, or NULL */
    int64_t min, max;
    const char *args; /* how the value is written, for the reference */
    const char *help;
} desc_t;

#define OFF(f) offsetof(gw_config_t, f)
#define S_(x) #x
#define S(x) S_(x)

static const desc_t descs[] = {
    {"listen", T_LISTEN, 0, GW_DEFAULT_LISTEN, 0, 0, "HOST:PORT",
     "Address to serve HTTP on (port 0: any free port)."},
    {"state_dir", T_PATH, OFF(state_dir), GW_DEFAULT_STATE_DIR, 0, 0, "DIR",
     "Directory for checkpoints, idempotency records and gateway.addr."},
    {"network_env", T_PATH, OFF(network_env), NULL, 0, 0, "FILE",
     "`resoctl network env --json` output: imports channel, chaincode, one "
     "identity per org (named by the org) and every org's peer."},
    {"channel", T_STR, OFF(channel), NULL, 0, 0, "NAME",
     "Channel name (overrides network_env)."},
    {"chaincode", T_STR, OFF(chaincode), NULL, 0, 0, "NAME",
     "Chaincode name (overrides network_env)."},
    {"identity", T_IDENTITY, 0, NULL, 0, 0, "NAME MSP_ID MSP_DIR",
     "Repeatable. An org client identity the gateway signs with."},
    {"peer", T_PEER, 0, NULL, 0, 0, "ORG_MSP HOST:PORT TLS_CA [TLS_HOST]",
     "Repeatable. A peer; an identity uses its own org's peers first, "
     "then the others as failover."},
    {"apikey", T_APIKEY, 0, NULL, 0, 0, "NAME IDENTITY SHA256_HEX",
     "Repeatable. An API key, stored as the hex SHA-256 of the bearer "
     "token, bound to exactly one identity."},
    {"clientcert", T_CLIENTCERT, 0, NULL, 0, 0,
     "NAME IDENTITY SHA256_FINGERPRINT_HEX",
     "Repeatable. A TLS client certificate (mutual TLS, needs "
     "tls_client_ca) bound to exactly one identity, named by the SHA-256 "
     "of its DER encoding (openssl x509 -noout -fingerprint -sha256; "
     "colons allowed)."},
    {"workers", T_INT, OFF(workers), S(GW_DEFAULT_WORKERS), 1, 1024, "N",
     "Worker threads for blocking work (Fabric calls)."},
    {"pool_queue_max", T_INT, OFF(pool_queue_max),
     S(GW_DEFAULT_POOL_QUEUE_MAX), 1, 1000000, "N",
     "Queued jobs before new requests get 503 SERVICE_UNAVAILABLE."},
    {"http_threads", T_INT, OFF(http_threads), S(GW_DEFAULT_HTTP_THREADS),
     1, 16, "N", "libmicrohttpd polling threads."},
    {"max_connections", T_INT, OFF(max_connections),
     S(GW_DEFAULT_MAX_CONNECTIONS), 1, 1000000, "N",
     "Concurrent HTTP connections (SSE streams included)."},
    {"http_conn_memory", T_SIZE, OFF(http_conn_memory),
     S(GW_DEFAULT_HTTP_CONN_MEMORY), 4096, 1024 * 1024, "BYTES",
     "Memory pool of each HTTP connection (request headers, read buffer, "
     "stream block); an idle SSE stream costs about this plus 2 KiB."},
    {"request_timeout_ms", T_MS, OFF(request_timeout_ms),
     S(GW_DEFAULT_REQUEST_TIMEOUT_MS), 100, 600000, "MS",
     "Bound of a whole request; a request still waiting answers 504."},
    {"idle_timeout_ms", T_MS, OFF(idle_timeout_ms),
     S(GW_DEFAULT_IDLE_TIMEOUT_MS), 1000, 3600000, "MS",
     "Idle keep-alive connections and stalled clients are closed after "
     "this (whole seconds)."},
    {"max_body_bytes", T_SIZE, OFF(max_body_bytes),
     S(GW_DEFAULT_MAX_BODY_BYTES), 1, 64 * 1024 * 1024, "BYTES",
     "Largest request body (k and m suffixes allowed); larger: 413."},
    {"rate_limit_per_key", T_RATE, 0,
     S(GW_DEFAULT_RATE_LIMIT_RPS) " " S(GW_DEFAULT_RATE_LIMIT_BURST), 0, 0,
     "RPS [BURST]",
     "Token bucket per API key: refill rate per second and capacity "
     "(0 disables); exhausted: 429 with Retry-After."},
    {"retry_after_s", T_INT, OFF(retry_after_s), S(GW_DEFAULT_RETRY_AFTER_S),
     1, 3600, "S", "Retry-After sent with 503 answers."},
    {"peer_ready_timeout_ms", T_MS, OFF(peer_ready_timeout_ms),
     S(GW_DEFAULT_PEER_READY_TIMEOUT_MS), 10, 60000, "MS",
     "Bound of each peer probe in /healthz."},
    {"access_log", T_BOOL, OFF(access_log), "yes", 0, 0, "yes|no",
     "One log line per request (never the key, only its name)."},
    {"log_level", T_LOGLEVEL, OFF(log_level), NULL, 0, 0,
     "debug|info|warn|error", "Log threshold (default: HLF_LOG_LEVEL or "
     "info)."},
    {"sse_heartbeat_ms", T_MS, OFF(sse_heartbeat_ms),
     S(GW_DEFAULT_SSE_HEARTBEAT_MS), 100, 3600000, "MS",
     "Interval of SSE heartbeat comments."},
    {"sse_max_clients", T_INT, OFF(sse_max_clients),
     S(GW_DEFAULT_SSE_MAX_CLIENTS), 1, 1000000, "N",
     "Concurrent SSE subscribers."},
    {"sse_queue_events", T_INT, OFF(sse_queue_events),
     S(GW_DEFAULT_SSE_QUEUE_EVENTS), 1, 1000000, "N",
     "Events a subscriber may lag behind before it is dropped."},
    {"hub_ring_events", T_INT, OFF(hub_ring_events),
     S(GW_DEFAULT_HUB_RING_EVENTS), 16, 10000000, "N",
     "Recent events kept in memory for resuming streams."},
    {"webhook_allow_private_targets", T_BOOL,
     OFF(webhook_allow_private_targets), "no", 0, 0, "yes|no",
     "Allow webhook URLs in loopback/private ranges (tests)."},
    {"webhook_batch_max", T_INT, OFF(webhook_batch_max),
     S(GW_DEFAULT_WEBHOOK_BATCH_MAX), 1, 10000, "N",
     "Events per webhook push."},
    {"webhook_timeout_ms", T_MS, OFF(webhook_timeout_ms),
     S(GW_DEFAULT_WEBHOOK_TIMEOUT_MS), 100, 600000, "MS",
     "Bound of one webhook delivery attempt."},
    {"webhook_retry_max_ms", T_MS, OFF(webhook_retry_max_ms),
     S(GW_DEFAULT_WEBHOOK_RETRY_MAX_MS), 100, 86400000, "MS",
     "Longest backoff between webhook retries."},
    {"public_url", T_URL, OFF(public_url), NULL, 0, 0, "URL",
     "Base URL clients reach the gateway at (links in webhook pushes and "
     "@odata.nextLink); default: derived from listen."},
    {"tls_cert", T_PATH, OFF(tls_cert), NULL, 0, 0, "FILE",
     "PEM certificate chain: serve HTTPS instead of HTTP (with tls_key)."},
    {"tls_key", T_PATH, OFF(tls_key), NULL, 0, 0, "FILE",
     "PEM private key of tls_cert (keep it 0600)."},
    {"tls_client_ca", T_PATH, OFF(tls_client_ca), NULL, 0, 0, "FILE",
     "PEM CA bundle: request client certificates (mutual TLS); a verified "
     "client certificate authenticates like an API key."},
    {"couch_url", T_URL, OFF(couch_url), NULL, 0, 0, "URL",
     "CouchDB 3.x (or pouchdb-server) base URL for the off-chain index and "
     "reports; unset: no index (network_env may supply it)."},
    {"couch_db", T_STR, OFF(couch_db), GW_DEFAULT_COUCH_DB, 0, 0, "NAME",
     "CouchDB database of the index."},
    {"couch_user", T_STR, OFF(couch_user), NULL, 0, 0, "NAME",
     "CouchDB user (basic auth, with couch_password_file)."},
    {"couch_password_file", T_PATH, OFF(couch_password_file), NULL, 0, 0,
     "FILE", "File holding the CouchDB password (never logged)."},
    {"couch_ca", T_PATH, OFF(couch_ca), NULL, 0, 0, "FILE",
     "PEM CA bundle to verify an https couch_url."},
    {"index_batch_max", T_INT, OFF(index_batch_max),
     S(GW_DEFAULT_INDEX_BATCH_MAX), 1, 10000, "N",
     "Events per _bulk_docs request of the indexer."},
    {"index_retry_max_ms", T_MS, OFF(index_retry_max_ms),
     S(GW_DEFAULT_INDEX_RETRY_MAX_MS), 100, 3600000, "MS",
     "Longest backoff between indexer retries while CouchDB is down."},
    {"onboarding_stuck_days", T_INT, OFF(onboarding_stuck_days),
     S(GW_DEFAULT_ONBOARDING_STUCK_DAYS), 1, 3650, "DAYS",
     "An applicant at a non-terminal onboarding stage for longer is "
     "listed as stuck."},
    {"documents_max_bytes", T_SIZE, OFF(documents_max_bytes),
     S(GW_DEFAULT_DOCUMENTS_MAX_BYTES), 1, 1024 * 1024 * 1024, "BYTES",
     "Largest off-chain document accepted by POST /v1/documents."},
};

#define NDESCS (sizeof(descs) / sizeof(descs[0]))

/* The installed config: written once on the main thread before other
 * threads start, read-only afterwards. */
static gw_config_t *installed;

const gw_config_t *
gw_config(void)
{
    return installed;
}

void
gw_config_install(gw_config_t *cfg)
{
    installed = cfg;
}

/* ------------------------------------------------------------------ */
/* Load context and error reporting                                   */
/* ------------------------------------------------------------------ */

typedef struct load_s {
    gw_config_t *cfg;
    FILE *errfp;
    hlf_error_t *err;
    int nerrors;
    int oom;
    char *dir;              /* directory of the config file, or NULL */
    char seen[NDESCS][WHERE_LEN]; /* where a scalar key was set */
    /* Where each identity / peer / apikey was defined (parallel). */
    char **id_where, **peer_where, **key_where, **cert_where;
} load_t;

static void cfg_error(load_t *ld, const char *where, const char *key,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
cfg_error(load_t *ld, const char *where, const char *key, const char *fmt,
          ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ld->errfp != NULL)
        fprintf(ld->errfp, "%s: %s: %s\n", where, key, msg);
    if (ld->nerrors == 0)
        hlf_error_set(ld->err, HLF_ECONFIG, "%s: %s: %s", where, key, msg);
    ld->nerrors++;
}

static char *
xstrdup(load_t *ld, const char *s)
{
    char *p = hlf_strdup(s);

    if (p == NULL && s != NULL)
        ld->oom = 1;
    return p;
}

/* Resolve a relative path against the file's directory (not for env). */
static char *
resolve_path(load_t *ld, const char *p, int from_file)
{
    size_t n;
    char *out;

    if (p[0] == '/' || !from_file || ld->dir == NULL)
        return xstrdup(ld, p);
    n = strlen(ld->dir) + strlen(p) + 2;
    out = hlf_malloc(n);
    if (out == NULL) {
        ld->oom = 1;
        return NULL;
    }
    snprintf(out, n, "%s/%s", ld->dir, p);
    return out;
}

/* ------------------------------------------------------------------ */
/* Value parsers                                                      */
/* ------------------------------------------------------------------ */

/* Split s into words (double quotes group); returns the count or -1 for
 * an unterminated quote or too many words. s is modified in place. */
static int
split_words(char *s, char **w, int max)
{
    int n = 0;

    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0')
            return n;
        if (n == max)
            return -1;
        if (*s == '"') {
            char *end = strchr(s + 1, '"');

            if (end == NULL)
                return -1;
            *end = '\0';
            w[n++] = s + 1;
            s = end + 1;
            if (*s != '\0' && *s != ' ' && *s != '\t')
                return -1;
            continue;
        }
        w[n++] = s;
        while (*s != '\0' && *s != ' ' && *s != '\t')
            s++;
        if (*s != '\0')
            *s++ = '\0';
    }
}

static int
parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (*s == '\0' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int
parse_size(const char *s, int64_t *out)
{
    char buf[64];
    size_t n = strlen(s);
    int64_t mult = 1, v;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n + 1);
    if (buf[n - 1] == 'k' || buf[n - 1] == 'K')
        mult = 1024;
    else if (buf[n - 1] == 'm' || buf[n - 1] == 'M')
        mult = 1024 * 1024;
    if (mult != 1)
        buf[n - 1] = '\0';
    if (parse_i64(buf, &v) != 0 || v < 0 || v > INT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static int
parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    size_t i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int
parse_double(const char *s, double *out)
{
    char *end;
    double v;

    if (*s == '\0' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

/* "host:port" or "[v6]:port"; host is new. */
static int
parse_hostport(const char *s, char **host, int *port, int allow_zero)
{
    const char *colon;
    const char *h = s;
    size_t hlen;
    int64_t p;

    if (s[0] == '[') {
        const char *rb = strchr(s, ']');

        if (rb == NULL || rb[1] != ':')
            return -1;
        h = s + 1;
        hlen = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen) != NULL)
            return -1;
    }
    if (hlen == 0 || parse_i64(colon + 1, &p) != 0 || p > 65535 ||
        p < (allow_zero ? 0 : 1))
        return -1;
    if (host != NULL) {
        *host = hlf_memdup(h, hlen);
        if (*host == NULL)
            return -2;
    }
    *port = (int)p;
    return 0;
}

static int
valid_ident_name(const char *s)
{
    size_t i;

    if (*s == '\0' || strlen(s) > 64)
        return 0;
    for (i = 0; s[i] != '\0'; i++)
        if (!isalnum((unsigned char)s[i]) && strchr("_.-", s[i]) == NULL)
            return 0;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Repeatable entries                                                 */
/* ------------------------------------------------------------------ */

/* Grow a parallel "where" array to n entries and record where. */
static int
push_where(load_t *ld, char ***arr, size_t n, const char *where)
{
    char **na = hlf_realloc(*arr, n * sizeof(char *));

    if (na == NULL) {
        ld->oom = 1;
        return -1;
    }
    *arr = na;
    na[n - 1] = xstrdup(ld, where);
    return na[n - 1] == NULL ? -1 : 0;
}

/* Append a zeroed element to a config array; NULL on OOM. */
static void *
push_elem(load_t *ld, void *arrp, size_t *n, size_t size)
{
    void **arr = arrp;
    char *na = hlf_realloc(*arr, (*n + 1) * size);

    if (na == NULL) {
        ld->oom = 1;
        return NULL;
    }
    *arr = na;
    memset(na + *n * size, 0, size);
    return na + (*n)++ * size;
}

static int
add_identity(load_t *ld, const char *where, const char *name,
             const char *msp_id, char *msp_dir /* takes */)
{
    gw_config_t *cfg = ld->cfg;
    gw_identity_t *id = push_elem(ld, &cfg->identities, &cfg->nidentities,
                                  sizeof(*id));

    if (id == NULL) {
        hlf_free(msp_dir);
        return -1;
    }
    id->name = xstrdup(ld, name);
    id->msp_id = xstrdup(ld, msp_id);
    id->msp_dir = msp_dir;
    return push_where(ld, &ld->id_where, cfg->nidentities, where);
}

static int
add_peer(load_t *ld, const char *where, const char *org_msp,
         const char *address, char *tls_ca /* takes */, const char *host)
{
    gw_config_t *cfg = ld->cfg;
    gw_peer_t *p = push_elem(ld, &cfg->peers, &cfg->npeers, sizeof(*p));

    if (p == NULL) {
        hlf_free(tls_ca);
        return -1;
    }
    p->org_msp = xstrdup(ld, org_msp);
    p->address = xstrdup(ld, address);
    p->tls_ca = tls_ca;
    p->host_override = host ? xstrdup(ld, host) : NULL;
    return push_where(ld, &ld->peer_where, cfg->npeers, where);
}

/* An http(s) URL without user info (credentials belong in files). */
static int
valid_url(const char *s)
{
    const char *host, *p;

    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else
        return 0;
    if (*host == '\0' || *host == '/' || strlen(s) > 2048)
        return 0;
    for (p = host; *p != '\0' && *p != '/'; p++)
        if (*p == '@')
            return 0;
    for (p = s; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

/* A name or MSP id: reports and returns 0 when invalid. */
static int
check_name(load_t *ld, const char *where, const desc_t *d, const char *what,
           const char *s)
{
    if (valid_ident_name(s))
        return 1;
    cfg_error(ld, where, d->name, "invalid %s \"%s\": use letters, digits, "
              "'_', '.', '-' (at most 64)", what, s);
    return 0;
}

static void
set_identity(load_t *ld, const char *where, const desc_t *d, char **w,
             int from_file)
{
    if (check_name(ld, where, d, "name", w[0]) &&
        check_name(ld, where, d, "MSP id", w[1]))
        add_identity(ld, where, w[0], w[1], resolve_path(ld, w[2],
                                                         from_file));
}

static void
set_peer(load_t *ld, const char *where, const desc_t *d, char **w, int n,
         int from_file)
{
    int port;

    if (!check_name(ld, where, d, "MSP id", w[0]))
        return;
    if (parse_hostport(w[1], NULL, &port, 0) != 0) {
        cfg_error(ld, where, d->name, "invalid address \"%s\": expected "
                  "HOST:PORT", w[1]);
        return;
    }
    add_peer(ld, where, w[0], w[1], resolve_path(ld, w[2], from_file),
             n == 4 ? w[3] : NULL);
}

/*
 * 32 bytes from 64 hex digits; colons between byte pairs are skipped when
 * colons is set (the form openssl prints fingerprints in). 0 or -1.
 */
static int
parse_sha256(const char *s, int colons, uint8_t out[32])
{
    size_t i = 0;

    while (i < 32) {
        int hi, lo;

        if (colons && i > 0 && *s == ':')
            s++;
        hi = gw_hex_digit(s[0]);
        lo = hi >= 0 ? gw_hex_digit(s[1]) : -1;
        if (lo < 0)
            return -1;
        out[i++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return *s == '\0' ? 0 : -1;
}

/* apikey NAME IDENTITY SHA256 and clientcert NAME IDENTITY FINGERPRINT
 * share this: both bind a digest to an identity. */
static void
set_apikey(load_t *ld, const char *where, const desc_t *d, char **w)
{
    gw_config_t *cfg = ld->cfg;
    int cert = d->type == T_CLIENTCERT;
    gw_apikey_t *k;
    uint8_t digest[32];

    if (!check_name(ld, where, d, "name", w[0]))
        return;
    if (parse_sha256(w[2], cert, digest) != 0) {
        if (cert)
            cfg_error(ld, where, d->name, "invalid fingerprint \"%s\": "
                      "expected the SHA-256 of the DER certificate as 64 "
                      "hex digits (colons allowed)", w[2]);
        else
            cfg_error(ld, where, d->name, "invalid SHA-256 \"%s\": "
                      "expected 64 hex digits (sha256sum of the key), got "
                      "%zu characters", w[2], strlen(w[2]));
        return;
    }
    k = cert ? push_elem(ld, &cfg->clientcerts, &cfg->nclientcerts,
                         sizeof(*k))
             : push_elem(ld, &cfg->apikeys, &cfg->napikeys, sizeof(*k));
    if (k == NULL)
        return;
    k->name = xstrdup(ld, w[0]);
    k->identity_name = xstrdup(ld, w[1]);
    memcpy(k->sha256, digest, sizeof(digest));
    if (cert)
        push_where(ld, &ld->cert_where, cfg->nclientcerts, where);
    else
        push_where(ld, &ld->key_where, cfg->napikeys, where);
}

/* ------------------------------------------------------------------ */
/* Scalars                                                            */
/* ------------------------------------------------------------------ */

static void
set_scalar(load_t *ld, const char *where, const desc_t *d, char **w, int n,
           int from_file)
{
    gw_config_t *cfg = ld->cfg;
    void *field = (char *)cfg + d->off;
    int64_t v;

    switch (d->type) {
    case T_STR:
    case T_PATH:
    case T_URL: {
        char **sp = field;
        char *nv = d->type == T_PATH ? resolve_path(ld, w[0], from_file)
                                     : xstrdup(ld, w[0]);

        if (d->type == T_URL && !valid_url(w[0])) {
            cfg_error(ld, where, d->name, "invalid URL \"%s\": expected "
                      "http://HOST[:PORT][/PATH] or https://..., without "
                      "credentials", w[0]);
            hlf_free(nv);
            return;
        }

        if (d->type == T_STR && !check_name(ld, where, d, "name", w[0])) {
            hlf_free(nv);
            return;
        }
        hlf_free(*sp);
        *sp = nv;
        return;
    }
    case T_INT:
    case T_MS:
        if (parse_i64(w[0], &v) != 0 || v < d->min || v > d->max) {
            cfg_error(ld, where, d->name, "invalid value \"%s\": expected an "
                      "integer from %lld to %lld", w[0], (long long)d->min,
                      (long long)d->max);
            return;
        }
        if (d->type == T_INT)
            *(int *)field = (int)v;
        else
            *(int64_t *)field = v;
        return;
    case T_SIZE:
        if (parse_size(w[0], &v) != 0 || v < d->min || v > d->max) {
            cfg_error(ld, where, d->name, "invalid value \"%s\": expected a "
                      "byte count from %lld to %lld (k, m suffixes allowed)",
                      w[0], (long long)d->min, (long long)d->max);
            return;
        }
        *(size_t *)field = (size_t)v;
        return;
    case T_BOOL:
        if (parse_bool(w[0], field) != 0)
            cfg_error(ld, where, d->name, "invalid value \"%s\": expected "
                      "yes or no", w[0]);
        return;
    case T_LOGLEVEL: {
        static const char *const lv[] = {"debug", "info", "warn", "error"};
        int i;

        for (i = 0; i < 4; i++) {
            if (strcasecmp(w[0], lv[i]) == 0) {
                *(int *)field = i;
                return;
            }
        }
        cfg_error(ld, where, d->name, "invalid value \"%s\": expected "
                  "debug, info, warn or error", w[0]);
        return;
    }
    case T_LISTEN: {
        char *host = NULL;
        int port, rc = parse_hostport(w[0], &host, &port, 1);

        if (rc == -2) {
            ld->oom = 1;
            return;
        }
        if (rc != 0) {
            cfg_error(ld, where, d->name, "invalid value \"%s\": expected "
                      "HOST:PORT (port 0-65535)", w[0]);
            return;
        }
        hlf_free(cfg->listen_host);
        cfg->listen_host = host;
        cfg->listen_port = port;
        return;
    }
    case T_RATE: {
        double rps, burst;

        if (parse_double(w[0], &rps) != 0) {
            cfg_error(ld, where, d->name, "invalid rate \"%s\": expected a "
                      "number of requests per second >= 0", w[0]);
            return;
        }
        burst = rps < 1 ? 1 : rps;
        if (n == 2 && (parse_double(w[1], &burst) != 0 || burst < 1)) {
            cfg_error(ld, where, d->name, "invalid burst \"%s\": expected a "
                      "number >= 1", w[1]);
            return;
        }
        cfg->rate_limit_rps = rps;
        cfg->rate_limit_burst = burst;
        return;
    }
    default:
        return;
    }
}

/* How many words a value of this type has. */
static void
word_bounds(ktype_t t, int *lo, int *hi)
{
    *lo = *hi = 1;
    if (t == T_RATE)
        *hi = 2;
    else if (t == T_IDENTITY || t == T_APIKEY || t == T_CLIENTCERT)
        *lo = *hi = 3;
    else if (t == T_PEER) {
        *lo = 3;
        *hi = 4;
    }
}

/* Apply one "key value" (value is modified). */
static void
apply(load_t *ld, const char *where, const desc_t *d, char *value,
      int from_file)
{
    char *w[MAX_WORDS], orig[256];
    int n, lo, hi;

    snprintf(orig, sizeof(orig), "%s", value);
    n = split_words(value, w, MAX_WORDS);
    if (n < 0) {
        cfg_error(ld, where, d->name, "unterminated quote or more than %d "
                  "values in: %s", MAX_WORDS, orig);
        return;
    }
    word_bounds(d->type, &lo, &hi);
    if (n < lo || n > hi) {
        cfg_error(ld, where, d->name, "expected \"%s\", got %d value(s)",
                  d->args, n);
        return;
    }
    switch (d->type) {
    case T_IDENTITY:
        set_identity(ld, where, d, w, from_file);
        break;
    case T_PEER:
        set_peer(ld, where, d, w, n, from_file);
        break;
    case T_APIKEY:
    case T_CLIENTCERT:
        set_apikey(ld, where, d, w);
        break;
    default:
        set_scalar(ld, where, d, w, n, from_file);
        break;
    }
}

static int
repeatable(const desc_t *d)
{
    return d->type == T_IDENTITY || d->type == T_PEER ||
           d->type == T_APIKEY || d->type == T_CLIENTCERT;
}

static const desc_t *
find_desc(const char *name)
{
    size_t i;

    for (i = 0; i < NDESCS; i++)
        if (strcmp(descs[i].name, name) == 0)
            return &descs[i];
    return NULL;
}

/* Where scalar key name was set (file:line or env var), else name. */
static const char *
key_where(const load_t *ld, const char *name)
{
    const desc_t *d = find_desc(name);

    return d != NULL && ld->seen[d - descs][0] ? ld->seen[d - descs] : name;
}

static void
apply_defaults(load_t *ld)
{
    size_t i;

    ld->cfg->log_level = -1;
    for (i = 0; i < NDESCS; i++) {
        char buf[256];

        if (descs[i].def == NULL)
            continue;
        snprintf(buf, sizeof(buf), "%s", descs[i].def);
        apply(ld, "default", &descs[i], buf, 0);
    }
}

/* ------------------------------------------------------------------ */
/* The file                                                           */
/* ------------------------------------------------------------------ */

static void
parse_line(load_t *ld, const char *file, int lineno, char *line)
{
    char where[WHERE_LEN];
    char *p = line, *key, *hash;
    const desc_t *d;
    size_t len;

    len = strlen(p);
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' ||
                       p[len - 1] == ' ' || p[len - 1] == '\t'))
        p[--len] = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#')
        return;
    /* A comment after the value starts with whitespace and '#'. */
    for (hash = p; (hash = strchr(hash, '#')) != NULL; hash++) {
        if (hash[-1] == ' ' || hash[-1] == '\t') {
            *hash = '\0';
            break;
        }
    }
    key = p;
    while (*p != '\0' && *p != ' ' && *p != '\t')
        p++;
    if (*p != '\0')
        *p++ = '\0';
    snprintf(where, sizeof(where), "%s:%d", file, lineno);
    d = find_desc(key);
    if (d == NULL) {
        cfg_error(ld, where, key, "unknown key (see reso-gateway --help "
                  "for the list)");
        return;
    }
    if (!repeatable(d)) {
        size_t i = (size_t)(d - descs);

        if (ld->seen[i][0] != '\0') {
            cfg_error(ld, where, d->name, "set twice (first at %s)",
                      ld->seen[i]);
            return;
        }
        snprintf(ld->seen[i], sizeof(ld->seen[i]), "%s", where);
    }
    apply(ld, where, d, p, 1);
}

static int
load_file(load_t *ld, const char *path)
{
    char line[4096];
    FILE *fp = fopen(path, "r");
    int lineno = 0;
    const char *slash;

    if (fp == NULL) {
        int e = errno;

        hlf_error_set(ld->err, e == ENOENT ? HLF_ENOTFOUND : HLF_EIO,
                      "%s: cannot open: %s", path, strerror(e));
        if (ld->errfp != NULL)
            fprintf(ld->errfp, "%s: cannot open: %s\n", path, strerror(e));
        return e == ENOENT ? HLF_ENOTFOUND : HLF_EIO;
    }
    slash = strrchr(path, '/');
    ld->dir = slash ? hlf_memdup(path, (size_t)(slash - path > 0
                                                    ? slash - path : 1))
                    : NULL;
    if (slash != NULL && ld->dir == NULL)
        ld->oom = 1;
    while (fgets(line, sizeof(line), fp) != NULL) {
        size_t n = strlen(line);

        lineno++;
        if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
            char where[WHERE_LEN];
            int c;

            snprintf(where, sizeof(where), "%s:%d", path, lineno);
            cfg_error(ld, where, "(line)", "longer than %zu characters",
                      sizeof(line) - 2);
            while ((c = fgetc(fp)) != EOF && c != '\n')
                ;
            continue;
        }
        parse_line(ld, path, lineno, line);
    }
    fclose(fp);
    return HLF_OK;
}

static void
load_env(load_t *ld)
{
    size_t i, j;

    for (i = 0; i < NDESCS; i++) {
        char var[96], *val, *copy, *p;
        const char *v;

        snprintf(var, sizeof(var), "RESO_GW_");
        for (j = 0; descs[i].name[j] != '\0' && 8 + j < sizeof(var) - 1;
             j++)
            var[8 + j] = (char)toupper((unsigned char)descs[i].name[j]);
        var[8 + j] = '\0';
        v = getenv(var);
        if (v == NULL)
            continue;
        copy = xstrdup(ld, v);
        if (copy == NULL)
            return;
        if (!repeatable(&descs[i])) {
            snprintf(ld->seen[i], sizeof(ld->seen[i]), "%s", var);
            apply(ld, var, &descs[i], copy, 0);
            hlf_free(copy);
            continue;
        }
        for (p = copy; p != NULL;) {
            char *semi = strchr(p, ';');

            if (semi != NULL)
                *semi = '\0';
            val = p;
            while (*val == ' ')
                val++;
            if (*val != '\0')
                apply(ld, var, &descs[i], val, 0);
            p = semi ? semi + 1 : NULL;
        }
        hlf_free(copy);
    }
}

/* ------------------------------------------------------------------ */
/* network_env import                                                 */
/* ------------------------------------------------------------------ */

static const char *
jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
import_env(load_t *ld)
{
    gw_config_t *cfg = ld->cfg;
    const desc_t *d = find_desc("network_env");
    const char *where = ld->seen[d - descs][0] ? ld->seen[d - descs]
                                               : "network_env";
    json_error_t jerr;
    json_t *env, *orgs, *org;
    const char *orgname;
    size_t i;

    env = json_load_file(cfg->network_env, 0, &jerr);
    if (env == NULL) {
        cfg_error(ld, where, "network_env", "cannot load \"%s\": %s (line "
                  "%d)", cfg->network_env, jerr.text, jerr.line);
        return;
    }
    if (cfg->channel == NULL && jstr(env, "channel") != NULL)
        cfg->channel = xstrdup(ld, jstr(env, "channel"));
    if (cfg->chaincode == NULL && jstr(env, "chaincode") != NULL)
        cfg->chaincode = xstrdup(ld, jstr(env, "chaincode"));
    /* The network's local CouchDB (pouchdb-server), if it runs one. */
    if (cfg->couch_url == NULL &&
        jstr(json_object_get(env, "couchdb"), "url") != NULL) {
        const char *u = jstr(json_object_get(env, "couchdb"), "url");

        if (valid_url(u))
            cfg->couch_url = xstrdup(ld, u);
        else
            cfg_error(ld, where, "network_env", "\"%s\": couchdb.url "
                      "\"%s\" is not an http(s) URL", cfg->network_env, u);
    }
    orgs = json_object_get(env, "orgs");
    if (!json_is_object(orgs) || json_object_size(orgs) == 0) {
        cfg_error(ld, where, "network_env", "\"%s\" has no \"orgs\" object",
                  cfg->network_env);
        json_decref(env);
        return;
    }
    json_object_foreach(orgs, orgname, org) {
        json_t *peer = json_object_get(org, "peer");
        const char *msp_id = jstr(org, "msp_id");
        const char *msp_dir = jstr(json_object_get(org, "client"),
                                   "msp_dir");
        const char *addr = jstr(peer, "address");
        const char *ca = jstr(peer, "tls_ca");
        int have_id = 0, have_peer = 0, port;

        if (msp_id == NULL || msp_dir == NULL || addr == NULL ||
            ca == NULL || !valid_ident_name(orgname) ||
            !valid_ident_name(msp_id) ||
            parse_hostport(addr, NULL, &port, 0) != 0) {
            cfg_error(ld, where, "network_env", "\"%s\": orgs.%s lacks a "
                      "valid msp_id, client.msp_dir, peer.address or "
                      "peer.tls_ca", cfg->network_env, orgname);
            continue;
        }
        for (i = 0; i < cfg->nidentities; i++)
            have_id |= strcmp(cfg->identities[i].name, orgname) == 0;
        for (i = 0; i < cfg->npeers; i++)
            have_peer |= strcmp(cfg->peers[i].address, addr) == 0;
        /* Explicit identity/peer lines win over the imported ones. */
        if (!have_id)
            add_identity(ld, where, orgname, msp_id, xstrdup(ld, msp_dir));
        /*
         * The org's admin as identity "<org>-admin", so an API key bound
         * to it can make the admin-only chaincode calls (catalog
         * governance, recorder and DID registries).
         */
        {
            const char *admin_dir = jstr(json_object_get(org, "admin"),
                                         "msp_dir");
            char admin_name[80];
            int have_admin = 0;

            snprintf(admin_name, sizeof(admin_name), "%s-admin", orgname);
            for (i = 0; i < cfg->nidentities; i++)
                have_admin |= strcmp(cfg->identities[i].name, admin_name) ==
                              0;
            if (admin_dir != NULL && !have_admin &&
                valid_ident_name(admin_name))
                add_identity(ld, where, admin_name, msp_id,
                             xstrdup(ld, admin_dir));
        }
        if (!have_peer)
            add_peer(ld, where, msp_id, addr, xstrdup(ld, ca),
                     jstr(peer, "host_override"));
    }
    json_decref(env);
}

/* ------------------------------------------------------------------ */
/* Cross-checks                                                       */
/* ------------------------------------------------------------------ */

static void
check_all(load_t *ld)
{
    gw_config_t *cfg = ld->cfg;
    size_t i, j;

    for (i = 0; i < cfg->nidentities; i++)
        for (j = 0; j < i; j++)
            if (strcmp(cfg->identities[i].name,
                       cfg->identities[j].name) == 0)
                cfg_error(ld, ld->id_where[i], "identity", "duplicate name "
                          "\"%s\" (first at %s)", cfg->identities[i].name,
                          ld->id_where[j]);
    for (i = 0; i < cfg->npeers; i++)
        for (j = 0; j < i; j++)
            if (strcmp(cfg->peers[i].address, cfg->peers[j].address) == 0)
                cfg_error(ld, ld->peer_where[i], "peer", "duplicate address "
                          "\"%s\" (first at %s)", cfg->peers[i].address,
                          ld->peer_where[j]);
    for (i = 0; i < cfg->napikeys; i++) {
        gw_apikey_t *k = &cfg->apikeys[i];

        k->identity = gw_config_identity(cfg, k->identity_name);
        if (k->identity == NULL)
            cfg_error(ld, ld->key_where[i], "apikey", "unknown identity "
                      "\"%s\" for key \"%s\" (define it with identity or "
                      "network_env)", k->identity_name, k->name);
        for (j = 0; j < i; j++) {
            if (strcmp(k->name, cfg->apikeys[j].name) == 0)
                cfg_error(ld, ld->key_where[i], "apikey", "duplicate name "
                          "\"%s\" (first at %s)", k->name, ld->key_where[j]);
            else if (memcmp(k->sha256, cfg->apikeys[j].sha256, 32) == 0)
                cfg_error(ld, ld->key_where[i], "apikey", "key \"%s\" has "
                          "the same SHA-256 as \"%s\" (%s)", k->name,
                          cfg->apikeys[j].name, ld->key_where[j]);
        }
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        const char *k = cfg->tls_cert != NULL ? "tls_cert" : "tls_key";

        cfg_error(ld, key_where(ld, k), k,
                  "HTTPS needs both tls_cert and tls_key");
    }
    if (cfg->tls_client_ca != NULL && cfg->tls_cert == NULL)
        cfg_error(ld, key_where(ld, "tls_client_ca"), "tls_client_ca",
                  "mutual TLS needs HTTPS: set tls_cert and tls_key");
    for (i = 0; i < cfg->nclientcerts; i++) {
        gw_apikey_t *k = &cfg->clientcerts[i];

        k->identity = gw_config_identity(cfg, k->identity_name);
        if (k->identity == NULL)
            cfg_error(ld, ld->cert_where[i], "clientcert", "unknown "
                      "identity \"%s\" for certificate \"%s\"",
                      k->identity_name, k->name);
        if (cfg->tls_client_ca == NULL)
            cfg_error(ld, ld->cert_where[i], "clientcert", "certificate "
                      "\"%s\" needs tls_client_ca (mutual TLS)", k->name);
        for (j = 0; j < i; j++) {
            if (strcmp(k->name, cfg->clientcerts[j].name) == 0)
                cfg_error(ld, ld->cert_where[i], "clientcert", "duplicate "
                          "name \"%s\" (first at %s)", k->name,
                          ld->cert_where[j]);
            else if (memcmp(k->sha256, cfg->clientcerts[j].sha256, 32) == 0)
                cfg_error(ld, ld->cert_where[i], "clientcert", "\"%s\" has "
                          "the same fingerprint as \"%s\" (%s): one "
                          "certificate, one identity", k->name,
                          cfg->clientcerts[j].name, ld->cert_where[j]);
        }
    }
}

static void
free_where(char **arr, size_t n)
{
    size_t i;

    if (arr == NULL)
        return;
    for (i = 0; i < n; i++)
        hlf_free(arr[i]);
    hlf_free(arr);
}

int
gw_config_load(const char *path, gw_config_t **out, FILE *errfp,
               hlf_error_t *err)
{
    load_t *ld;
    gw_config_t *cfg;
    int rc = HLF_OK;

    *out = NULL;
    hlf_error_clear(err);
    ld = hlf_calloc(1, sizeof(*ld));
    cfg = hlf_calloc(1, sizeof(*cfg));
    if (ld == NULL || cfg == NULL) {
        hlf_free(ld);
        hlf_free(cfg);
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    }
    ld->cfg = cfg;
    ld->errfp = errfp;
    ld->err = err;
    apply_defaults(ld);
    if (path != NULL) {
        cfg->file = xstrdup(ld, path);
        rc = load_file(ld, path);
    }
    if (rc == HLF_OK) {
        load_env(ld);
        if (cfg->network_env != NULL)
            import_env(ld);
        check_all(ld);
        if (ld->oom)
            rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        else if (ld->nerrors > 0)
            rc = HLF_ECONFIG;
    }
    free_where(ld->id_where, cfg->nidentities);
    free_where(ld->peer_where, cfg->npeers);
    free_where(ld->key_where, cfg->napikeys);
    free_where(ld->cert_where, cfg->nclientcerts);
    hlf_free(ld->dir);
    hlf_free(ld);
    if (rc != HLF_OK) {
        gw_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Opening identities and peers                                       */
/* ------------------------------------------------------------------ */

gw_identity_t *
gw_config_identity(const gw_config_t *cfg, const char *name)
{
    size_t i;

    if (cfg == NULL || name == NULL)
        return NULL;
    for (i = 0; i < cfg->nidentities; i++)
        if (strcmp(cfg->identities[i].name, name) == 0)
            return &cfg->identities[i];
    return NULL;
}

static void
close_opened(gw_config_t *cfg)
{
    size_t i, j;

    for (i = 0; i < cfg->nidentities; i++) {
        gw_identity_t *id = &cfg->identities[i];

        for (j = 0; j < id->nupstreams; j++)
            hlf_gateway_close(id->upstreams[j].gw);
        hlf_free(id->upstreams);
        id->upstreams = NULL;
        id->nupstreams = 0;
        hlf_identity_unref(id->id);
        id->id = NULL;
    }
    for (i = 0; i < cfg->npeers; i++) {
        hlf_conn_close(cfg->peers[i].conn);
        cfg->peers[i].conn = NULL;
    }
}

/* The upstreams of id: own org's peers first, then the others. */
static int
open_upstreams(gw_config_t *cfg, gw_identity_t *id, hlf_error_t *err)
{
    size_t pass, i, n = 0;

    id->upstreams = hlf_calloc(cfg->npeers, sizeof(gw_upstream_t));
    if (id->upstreams == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < cfg->npeers; i++) {
            gw_peer_t *p = &cfg->peers[i];
            gw_upstream_t *u = &id->upstreams[n];
            hlf_gateway_opts_t go;
            int own = strcmp(p->org_msp, id->msp_id) == 0;

            if (own != (pass == 0))
                continue;
            memset(&go, 0, sizeof(go));
            go.conn = p->conn;
            go.identity = id->id;
            go.evaluate_timeout_ms = cfg->request_timeout_ms;
            go.endorse_timeout_ms = cfg->request_timeout_ms;
            go.submit_timeout_ms = cfg->request_timeout_ms;
            go.commit_status_timeout_ms = cfg->request_timeout_ms;
            if (hlf_gateway_connect(&u->gw, &go, err) != HLF_OK)
                return hlf_error_prefix(err, "identity %s, peer %s: ",
                                        id->name, p->address);
            id->nupstreams = ++n;
            u->peer = p;
            u->net = hlf_gateway_get_network(u->gw, cfg->channel);
            u->contract = u->net ? hlf_network_get_contract(
                                       u->net, cfg->chaincode, NULL)
                                 : NULL;
            if (u->contract == NULL)
                return hlf_error_set(err, HLF_ENOMEM, "out of memory");
        }
    }
    return HLF_OK;
}

int
gw_config_open(gw_config_t *cfg, hlf_error_t *err)
{
    hlf_error_t local;
    size_t i;
    int rc;

    if (err == NULL)
        err = &local;
    hlf_error_clear(err);
    if (cfg->channel == NULL || cfg->chaincode == NULL)
        return hlf_error_set(err, HLF_ECONFIG, "%s: no channel or chaincode "
                             "(set channel and chaincode, or network_env)",
                             cfg->file ? cfg->file : "config");
    if (cfg->nidentities == 0 || cfg->npeers == 0)
        return hlf_error_set(err, HLF_ECONFIG, "%s: no identity or no peer "
                             "(add identity/peer lines or network_env)",
                             cfg->file ? cfg->file : "config");
    for (i = 0; i < cfg->npeers; i++) {
        gw_peer_t *p = &cfg->peers[i];
        hlf_conn_opts_t co;

        memset(&co, 0, sizeof(co));
        co.target = p->address;
        co.tls_ca_file = p->tls_ca;
        co.tls_server_name = p->host_override;
        rc = hlf_conn_new(&co, &p->conn, err);
        if (rc != HLF_OK) {
            hlf_error_prefix(err, "peer %s (%s): ", p->address, p->org_msp);
            goto fail;
        }
    }
    for (i = 0; i < cfg->nidentities; i++) {
        gw_identity_t *id = &cfg->identities[i];

        rc = hlf_identity_load_msp(id->msp_dir, id->msp_id, &id->id, err);
        if (rc != HLF_OK) {
            hlf_error_prefix(err, "identity %s: ", id->name);
            goto fail;
        }
        rc = open_upstreams(cfg, id, err);
        if (rc != HLF_OK)
            goto fail;
    }
    return HLF_OK;
fail:
    close_opened(cfg);
    err->code = HLF_ECONFIG;
    return HLF_ECONFIG;
}

void
gw_config_free(gw_config_t *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    close_opened(cfg);
    for (i = 0; i < cfg->nidentities; i++) {
        hlf_free(cfg->identities[i].name);
        hlf_free(cfg->identities[i].msp_id);
        hlf_free(cfg->identities[i].msp_dir);
    }
    for (i = 0; i < cfg->npeers; i++) {
        hlf_free(cfg->peers[i].org_msp);
        hlf_free(cfg->peers[i].address);
        hlf_free(cfg->peers[i].tls_ca);
        hlf_free(cfg->peers[i].host_override);
    }
    for (i = 0; i < cfg->napikeys; i++) {
        hlf_free(cfg->apikeys[i].name);
        hlf_free(cfg->apikeys[i].identity_name);
    }
    for (i = 0; i < cfg->nclientcerts; i++) {
        hlf_free(cfg->clientcerts[i].name);
        hlf_free(cfg->clientcerts[i].identity_name);
    }
    hlf_free(cfg->clientcerts);
    hlf_free(cfg->identities);
    hlf_free(cfg->peers);
    hlf_free(cfg->apikeys);
    hlf_free(cfg->file);
    hlf_free(cfg->listen_host);
    hlf_free(cfg->state_dir);
    hlf_free(cfg->network_env);
    hlf_free(cfg->channel);
    hlf_free(cfg->chaincode);
    hlf_free(cfg->public_url);
    hlf_free(cfg->tls_cert);
    hlf_free(cfg->tls_key);
    hlf_free(cfg->tls_client_ca);
    hlf_free(cfg->couch_url);
    hlf_free(cfg->couch_db);
    hlf_free(cfg->couch_user);
    hlf_free(cfg->couch_password_file);
    hlf_free(cfg->couch_ca);
    if (installed == cfg)
        installed = NULL;
    hlf_free(cfg);
}

void
gw_config_print_reference(FILE *fp)
{
    size_t i;

    for (i = 0; i < NDESCS; i++) {
        const desc_t *d = &descs[i];

        fprintf(fp, "  %-30s %s\n", d->name, d->args);
        fprintf(fp, "      %s\n", d->help);
        if (d->def != NULL)
            fprintf(fp, "      default: %s\n", d->def);
    }
}
