/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway's internal interface: the one header every gateway module
 * includes. It covers configuration, the worker pool, HTTP routing with
 * asynchronous and streaming replies, authentication, metrics, health,
 * the error codes of the REST API and the daemon's lifecycle.
 *
 * Threads. libmicrohttpd (MHD) runs a small pool of polling threads that
 * parse requests and call route handlers. A handler must never block on
 * Fabric, disk or the network: it validates the request, then either
 * replies at once or hands a job to the worker pool (gw_req_defer) and
 * returns GW_PENDING; the job later calls exactly one gw_reply_* from the
 * pool thread, which resumes the connection. Streaming replies (SSE) sleep
 * without a thread until a producer calls gw_stream_wake.
 *
 * Conventions (house style): functions return HLF_OK or a negative HLF_E*
 * code with detail in an optional hlf_error_t; every pointer is documented
 * as new (caller frees with the named function), borrowed (valid until
 * the stated event) or takes (the callee owns it afterwards); each
 * declaration has a THREAD SAFETY line.
 *
 * Start order (main.c): config load -> logging -> metrics -> health ->
 * auth -> worker pool -> gw_config_open (identities, peer connections,
 * Fabric gateways) -> core routes -> module init (routes, metrics, health
 * components; no threads or I/O) -> module start (threads, network) ->
 * HTTP listen. Shutdown (SIGTERM/SIGINT or gw_shutdown_request): stop
 * accepting, end streams, let in-flight requests finish (bounded by
 * request_timeout_ms; the timeout answers 504), module stop in reverse
 * order (followers save checkpoints), stop HTTP, stop the pool, close
 * peers and identities, exit 0.
 */
#ifndef GW_H
#define GW_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "hlf/conn.h"
#include "hlf/err.h"
#include "hlf/gateway.h"
#include "hlf/identity.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Defaults (one place; docs/gateway.md and the .conf.example agree)   */
/* ------------------------------------------------------------------ */

#define GW_DEFAULT_LISTEN "127.0.0.1:8080"
#define GW_DEFAULT_STATE_DIR "./run/gateway"
#define GW_DEFAULT_WORKERS 32
#define GW_DEFAULT_POOL_QUEUE_MAX 4096
#define GW_DEFAULT_HTTP_THREADS 2
#define GW_DEFAULT_MAX_CONNECTIONS 12000
#define GW_DEFAULT_HTTP_CONN_MEMORY 16384
#define GW_DEFAULT_REQUEST_TIMEOUT_MS 30000
#define GW_DEFAULT_IDLE_TIMEOUT_MS 60000
#define GW_DEFAULT_MAX_BODY_BYTES 65536
#define GW_DEFAULT_RATE_LIMIT_RPS 50
#define GW_DEFAULT_RATE_LIMIT_BURST 100
#define GW_DEFAULT_RETRY_AFTER_S 1
#define GW_DEFAULT_PEER_READY_TIMEOUT_MS 1000
#define GW_DEFAULT_SSE_HEARTBEAT_MS 15000
#define GW_DEFAULT_SSE_MAX_CLIENTS 10000
#define GW_DEFAULT_SSE_QUEUE_EVENTS 1024
#define GW_DEFAULT_HUB_RING_EVENTS 65536
#define GW_DEFAULT_WEBHOOK_BATCH_MAX 100
#define GW_DEFAULT_WEBHOOK_TIMEOUT_MS 10000
#define GW_DEFAULT_WEBHOOK_RETRY_MAX_MS 60000
#define GW_DEFAULT_COUCH_DB "reso-events"
#define GW_DEFAULT_INDEX_BATCH_MAX 500
#define GW_DEFAULT_INDEX_RETRY_MAX_MS 30000
#define GW_DEFAULT_ONBOARDING_STUCK_DAYS 30
#define GW_DEFAULT_DOCUMENTS_MAX_BYTES 16777216 /* 16 MiB */

/* ------------------------------------------------------------------ */
/* Configuration                                                      */
/* ------------------------------------------------------------------ */

typedef struct gw_peer_s gw_peer_t;

/*
 * One (identity, peer) pair: a Fabric gateway that signs as the identity
 * and talks to the peer. gw, net and contract are created by
 * gw_config_open (no network I/O) and owned by the config.
 */
typedef struct gw_upstream_s {
    gw_peer_t *peer;          /* borrowed from gw_config_t.peers */
    hlf_gateway_t *gw;        /* owned by the config */
    hlf_network_t *net;       /* borrowed from gw: the channel */
    hlf_contract_t *contract; /* borrowed from gw: the chaincode */
} gw_upstream_t;

/* An org client identity the gateway signs with. */
typedef struct gw_identity_s {
    char *name;   /* e.g. "Brokerage": what API keys bind to */
    char *msp_id; /* e.g. "BrokerageMSP" */
    char *msp_dir;
    /* Opened by gw_config_open; NULL before. Owned by the config. */
    hlf_identity_t *id;
    /*
     * Opened by gw_config_open: one upstream per configured peer, the
     * peers of this identity's own org (msp_id) first in config order,
     * then every other peer in config order as failover.
     */
    gw_upstream_t *upstreams;
    size_t nupstreams;
} gw_identity_t;

/* A peer of the channel. */
struct gw_peer_s {
    char *org_msp;       /* e.g. "BrokerageMSP" */
    char *address;       /* "host:port" */
    char *tls_ca;        /* PEM file of the CA that issued its TLS cert */
    char *host_override; /* TLS server name, or NULL */
    /* Opened by gw_config_open (lazy connect); NULL before. Owned. */
    hlf_conn_t *conn;
};

/* An API key: only the SHA-256 of the bearer token is configured. */
typedef struct gw_apikey_s {
    char *name;               /* logged instead of the key */
    char *identity_name;      /* as written in the config */
    gw_identity_t *identity;  /* resolved at load time, borrowed */
    uint8_t sha256[32];       /* SHA-256 of the bearer token */
} gw_apikey_t;

/*
 * The whole configuration. Immutable after gw_config_open, so any thread
 * may read it without a lock. Paths are absolute or relative to the
 * directory of the file that named them (resolved at load time).
 */
typedef struct gw_config_s {
    char *file;          /* the config file loaded, or NULL */
    char *listen_host;   /* from listen "host:port" */
    int listen_port;     /* 0 = any free port (tests) */
    char *state_dir;
    char *network_env;   /* the imported env JSON file, or NULL */
    char *channel;
    char *chaincode;

    gw_identity_t *identities;
    size_t nidentities;
    gw_peer_t *peers;
    size_t npeers;
    gw_apikey_t *apikeys;
    size_t napikeys;

    int workers;             /* worker pool threads */
    int pool_queue_max;      /* queued jobs before submit says EAGAIN */
    int http_threads;        /* MHD polling threads (1..16) */
    int max_connections;     /* MHD connection limit */
    size_t http_conn_memory; /* MHD memory pool per connection */
    int64_t request_timeout_ms; /* whole-request bound -> 504 TIMEOUT */
    int64_t idle_timeout_ms;    /* idle keep-alive / stalled client */
    size_t max_body_bytes;      /* -> 413 PAYLOAD_TOO_LARGE */
    double rate_limit_rps;      /* per API key; 0 disables */
    double rate_limit_burst;
    int retry_after_s;          /* Retry-After on 503 */
    int64_t peer_ready_timeout_ms; /* /healthz peer probe bound */
    int access_log;             /* 1: one log line per request */
    int log_level;              /* hlf_log_level_t, or -1: HLF_LOG_LEVEL */

    /* Stream, hub and webhook modules (read by their owners). */
    int64_t sse_heartbeat_ms;
    int sse_max_clients;
    int sse_queue_events;       /* per-subscriber backlog before drop */
    int hub_ring_events;        /* recent events kept in memory */
    int webhook_allow_private_targets;
    int webhook_batch_max;
    int64_t webhook_timeout_ms;
    int64_t webhook_retry_max_ms;
    char *public_url;           /* base URL clients reach us at, or NULL */

    /* HTTPS listener (all three NULL: plain HTTP on loopback). */
    char *tls_cert;             /* PEM server certificate chain */
    char *tls_key;              /* PEM private key (0600) */
    char *tls_client_ca;        /* PEM CA: mutual TLS, API key optional */
    /*
     * Client certificates (clientcert lines): name, identity and, in
     * sha256, the SHA-256 of the certificate's DER encoding. A separate
     * list from apikeys so a bearer token can never match a certificate.
     */
    gw_apikey_t *clientcerts;
    size_t nclientcerts;

    /* Off-chain CouchDB index and reports (couch_url NULL: disabled). */
    char *couch_url;            /* http(s)://host:port, no credentials */
    char *couch_db;             /* database name */
    char *couch_user;
    char *couch_password_file;  /* the password alone, never logged */
    char *couch_ca;             /* PEM CA for an https couch_url */
    int index_batch_max;        /* events per _bulk_docs */
    int64_t index_retry_max_ms; /* longest backoff while CouchDB is down */
    int onboarding_stuck_days;  /* non-terminal stage older than this */

    /* Off-chain documents (content-addressed, urn:ipfs:<CID>). */
    size_t documents_max_bytes;
} gw_config_t;

/*
 * Load and validate a config file (path may be NULL for defaults only),
 * then apply RESO_GW_<UPPER_KEY> environment overrides (scalar keys
 * replace; identity/peer/apikey values are appended, several separated by
 * ';'), then import network_env if set. Every problem is written as one
 * line "FILE:LINE: KEY: ..." (or "RESO_GW_KEY: KEY: ...") naming the bad
 * value to errfp (borrowed, may be NULL); the first also goes into err.
 * Files are not opened beyond the config and the network_env JSON: see
 * gw_config_open. On success *out is new (gw_config_free).
 * Errors: HLF_ECONFIG (any invalid input), HLF_ENOTFOUND/HLF_EIO (config
 * or env file unreadable), HLF_ENOMEM.
 * THREAD SAFETY: reentrant (reads the environment).
 */
int gw_config_load(const char *path, gw_config_t **out, FILE *errfp,
                   hlf_error_t *err);

/*
 * Load the identities (MSP directories), create one lazy peer connection
 * per peer and the upstreams of every identity. No network I/O. Requires
 * channel, chaincode and at least one identity and peer. On failure
 * everything opened so far is closed again. HLF_ECONFIG names the
 * identity or peer (and the underlying hlf error text).
 * THREAD SAFETY: call once, before any other thread uses cfg.
 */
int gw_config_open(gw_config_t *cfg, hlf_error_t *err);

/* Close what gw_config_open opened and free cfg (takes). NULL is a no-op.
 * THREAD SAFETY: only after every user of cfg has stopped. */
void gw_config_free(gw_config_t *cfg);

/* The identity named name (borrowed from cfg), or NULL.
 * THREAD SAFETY: any thread. */
gw_identity_t *gw_config_identity(const gw_config_t *cfg, const char *name);

/*
 * The daemon's installed config (borrowed; NULL before gw_config_install).
 * THREAD SAFETY: any thread once installed; install happens on the main
 * thread before any other thread starts and cfg lives until exit.
 */
const gw_config_t *gw_config(void);
void gw_config_install(gw_config_t *cfg);

/*
 * Write the config reference (every key, its type, default and meaning)
 * to fp, in the format of reso-gateway.conf.example. For --help.
 */
void gw_config_print_reference(FILE *fp);

/* ------------------------------------------------------------------ */
/* Worker pool: blocking work (Fabric calls, file I/O)                */
/* ------------------------------------------------------------------ */

typedef void (*gw_job_fn)(void *arg);

/*
 * Run fn(arg) on a worker thread. HLF_OK: fn will run exactly once.
 * HLF_EAGAIN: the queue holds pool_queue_max jobs; HLF_ECLOSED: the pool
 * is stopping; HLF_ENOMEM. On failure fn is never called and arg stays
 * the caller's. Jobs run in submission order, workers in parallel.
 * THREAD SAFETY: any thread, including pool threads.
 */
int gw_pool_submit(gw_job_fn fn, void *arg);

/* Start n workers with a queue bound of queue_max (main.c, tests).
 * HLF_EINVAL (n < 1), HLF_ENOMEM. THREAD SAFETY: main thread only. */
int gw_pool_start(int n, int queue_max);

/* Refuse new jobs, run every queued job, join the workers. Idempotent.
 * THREAD SAFETY: main thread only, never from a job. */
void gw_pool_stop(void);

/* ------------------------------------------------------------------ */
/* State files (files.c)                                              */
/* ------------------------------------------------------------------ */

/*
 * Replace path (borrowed) with data[0..len) (borrowed) so that after a
 * crash it holds either the old or the new content: write a hidden
 * temporary file ".<name>.tmp.<pid>" in the same directory with exactly
 * mode's permission bits (umask ignored; 0600 for anything secret),
 * fsync it, rename it over path, fsync the directory. On failure the
 * temporary file is removed and path is untouched.
 * Errors: HLF_EINVAL (no path, name too long), HLF_EIO (with the file,
 * step and errno text in err).
 * THREAD SAFETY: any thread; concurrent writers of one path in one
 * process must serialise themselves (they share the temporary name).
 */
int gw_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, hlf_error_t *err);

/* fsync a directory, making renames and unlinks in it durable.
 * HLF_OK, HLF_EINVAL, HLF_EIO (errno set). THREAD SAFETY: any thread. */
int gw_fsync_dir(const char *dir);

/* ------------------------------------------------------------------ */
/* Errors of the REST API                                             */
/* ------------------------------------------------------------------ */

/*
 * XX(name, http status). The name is also the JSON "code". Chaincode
 * errors are not listed: they pass through unchanged (gw_reply_hlf_error).
 */
#define GW_ERRCODE_MAP(XX)                                                 \
    XX(BAD_REQUEST, 400)                                                   \
    XX(MALFORMED_JSON, 400)                                                \
    XX(UNAUTHORIZED, 401)                                                  \
    XX(FORBIDDEN, 403)                                                     \
    XX(NOT_FOUND, 404)                                                     \
    XX(METHOD_NOT_ALLOWED, 405)                                            \
    XX(IDEMPOTENCY_CONFLICT, 409)                                          \
    XX(PAYLOAD_TOO_LARGE, 413)                                             \
    XX(UNSUPPORTED_MEDIA_TYPE, 415)                                        \
    XX(RATE_LIMITED, 429)                                                  \
    XX(INTERNAL, 500)                                                      \
    XX(LEDGER_UNAVAILABLE, 503)                                            \
    XX(SERVICE_UNAVAILABLE, 503)                                           \
    XX(TIMEOUT, 504)

typedef enum {
#define GW__ERR_ENUM(name, status) GW_ERR_##name,
    GW_ERRCODE_MAP(GW__ERR_ENUM)
#undef GW__ERR_ENUM
    GW_ERR__COUNT
} gw_errcode_t;

/* "MALFORMED_JSON" / 400 for a code; "INTERNAL" / 500 if out of range.
 * THREAD SAFETY: any thread. */
const char *gw_errcode_name(gw_errcode_t code);
int gw_errcode_status(gw_errcode_t code);

/* ------------------------------------------------------------------ */
/* HTTP: routes, requests, replies                                    */
/* ------------------------------------------------------------------ */

/*
 * A REST request. Created by the core when a route matched; everything
 * it exposes (method, path, params, headers, body, principal) is copied
 * at creation, so the accessors may be called from any thread by whoever
 * currently holds the request: the handler while it runs, then, if the
 * handler returned GW_PENDING, the job until it calls its one gw_reply_*.
 * After that reply the job must not touch req again. The core frees it.
 */
typedef struct gw_req_s gw_req_t;

/* A response header; both strings borrowed for the call. */
typedef struct gw_header_s {
    const char *name;
    const char *value;
} gw_header_t;

/* Handler return: a reply will come later from another thread. */
#define GW_PENDING 1

/*
 * A route handler, called on an MHD thread after routing, auth, rate
 * limit, identity check, content type, body cap and JSON parsing passed.
 * Returns HLF_OK after calling one gw_reply_*, GW_PENDING after handing
 * the request to a job (gw_req_defer) that will reply, or a negative
 * HLF_E* without replying: HLF_EAGAIN/HLF_ECLOSED become 503
 * SERVICE_UNAVAILABLE (+ Retry-After), anything else 500 INTERNAL.
 * Must not block.
 */
typedef int (*gw_handler_fn)(gw_req_t *req);

/* Route flags. */
enum {
    GW_ROUTE_AUTH = 1 << 0, /* bearer API key required (401), rate limit */
    GW_ROUTE_BODY = 1 << 1, /* a request body is accepted (else 413) */
    GW_ROUTE_JSON = 1 << 2, /* body must be application/json (415) and
                               parse (400 MALFORMED_JSON); implies BODY */
    GW_ROUTE_DOCUMENT = 1 << 3 /* body limit is documents_max_bytes instead
                                  of max_body_bytes; implies BODY */
};

/*
 * Register a route: method ("GET", "POST", "DELETE", ...) and a pattern of
 * literal segments and "{name}" segments, e.g. "/v1/events/{id}"; a
 * parameter matches one non-empty segment. Literal routes win over
 * parameter routes at the same position. Unknown path -> 404 NOT_FOUND;
 * known path with another method -> 405 + Allow listing the methods.
 * Strings are copied. HLF_EEXIST (same method and pattern twice),
 * HLF_EINVAL (bad pattern), HLF_ENOMEM.
 * THREAD SAFETY: main thread, before gw_http_start (module init).
 */
int gw_http_route(const char *method, const char *pattern,
                  gw_handler_fn handler, unsigned flags);

/* One row of a module's route table (gw_http_routes). */
typedef struct gw_route_def_s {
    const char *method;
    const char *pattern;
    gw_handler_fn fn;
    unsigned flags;
} gw_route_def_t;

/*
 * Register every route of a table (borrowed) in order, as gw_http_route
 * does; the first failure stops and is described in err as
 * "route METHOD PATTERN: <reason>".
 * THREAD SAFETY: main thread, before gw_http_start (module init).
 */
int gw_http_routes(const gw_route_def_t *defs, size_t n, hlf_error_t *err);

/*
 * Write "METHOD PATTERN\n" for every route, sorted by pattern then method
 * (reso-gateway --list-routes; the openapi agreement test reads it).
 * THREAD SAFETY: main thread.
 */
void gw_http_list_routes(FILE *fp);

/* Request accessors: all results are borrowed from req (see gw_req_t). */
const char *gw_req_method(const gw_req_t *req);
/* The path as sent (percent-escapes kept), without the query. Routing
 * splits it on '/' and then decodes each segment: gw_req_param values are
 * decoded ("a%2Fb" -> "a/b"); a bad escape or %00 in any segment is 400
 * BAD_REQUEST (field "path"). */
const char *gw_req_path(const gw_req_t *req);
const char *gw_req_route(const gw_req_t *req);  /* the matched pattern */
const char *gw_req_id(const gw_req_t *req);     /* for logs: "r1a2b..." */

/* Path parameter "{name}" (percent-decoded), or NULL. */
const char *gw_req_param(const gw_req_t *req, const char *name);

/* First value of query parameter key, or NULL (decoded; "" for "?k"). */
const char *gw_req_query(const gw_req_t *req, const char *key);

/*
 * All values of a repeatable query parameter: stores up to max of them in
 * vals (borrowed) in request order and returns how many there are in
 * total (may exceed max).
 */
size_t gw_req_query_all(const gw_req_t *req, const char *key,
                        const char **vals, size_t max);

/* Every query parameter in request order: count, then i-th key/value. */
size_t gw_req_query_count(const gw_req_t *req);
void gw_req_query_at(const gw_req_t *req, size_t i, const char **key,
                     const char **value);

/* A request header (case-insensitive name; first occurrence) or NULL. */
const char *gw_req_header(const gw_req_t *req, const char *name);

/* The body (NUL-terminated, len excludes it); NULL/0 when empty. */
const char *gw_req_body(const gw_req_t *req, size_t *len);

/* The parsed JSON body of a GW_ROUTE_JSON route (borrowed), else NULL. */
json_t *gw_req_json(const gw_req_t *req);

/*
 * Who is calling: on GW_ROUTE_AUTH routes the API key's name and the one
 * identity it is bound to (both borrowed from the config); NULL on
 * unauthenticated routes.
 */
typedef struct gw_principal_s {
    const char *key_name;
    gw_identity_t *identity;
} gw_principal_t;
const gw_principal_t *gw_req_principal(const gw_req_t *req);

/*
 * A request may name the identity it acts for (header X-Reso-Identity,
 * checked by the core, or a body field a module defines). Returns HLF_OK
 * if name is the principal's identity name or MSP id, else HLF_EPERM:
 * the caller then replies 403 FORBIDDEN (field = its field name).
 */
int gw_req_check_identity(const gw_req_t *req, const char *name);

/* Milliseconds left before the request timeout answers 504 (>= 0). Use
 * it to bound blocking calls in jobs. */
int64_t gw_req_remaining_ms(const gw_req_t *req);

/*
 * 1 once the reply can no longer reach the client (the request timed out
 * or the daemon is draining and gave up); a job may then stop early. It
 * still has to call its gw_reply_*.
 */
int gw_req_abandoned(const gw_req_t *req);

/*
 * Hand req to a pool job: fn(arg) runs on a worker and must end with
 * exactly one gw_reply_* on req. Returns GW_PENDING (return it from the
 * handler) or, if the pool refused, a negative code after calling
 * arg_free(arg) (if not NULL); returning that code from the handler
 * produces 503 SERVICE_UNAVAILABLE.
 * THREAD SAFETY: only from the handler of req.
 */
int gw_req_defer(gw_req_t *req, gw_job_fn fn, void *arg,
                 void (*arg_free)(void *));

/*
 * Reply with a JSON body (takes body, even on failure; NULL for no body)
 * and nhdrs extra headers (borrowed for the call). Content-Type is
 * application/json. Exactly one gw_reply_* per request; a second one, or
 * one after the request timed out or the client left, is dropped.
 * Returns HLF_OK, HLF_ECLOSED (dropped; req is released all the same) or
 * HLF_ENOMEM (the core then closes the connection).
 * THREAD SAFETY: the handler or the job holding req (see gw_req_t).
 */
int gw_reply_json(gw_req_t *req, int status, json_t *body,
                  const gw_header_t *hdrs, size_t nhdrs);

/* Reply with raw bytes (copied) and a Content-Type. As gw_reply_json. */
int gw_reply_raw(gw_req_t *req, int status, const char *content_type,
                 const void *data, size_t len, const gw_header_t *hdrs,
                 size_t nhdrs);

/*
 * Reply {"error":{"code":NAME,"field":field,"message":...}} with the
 * code's status (field omitted when NULL). 429 and 503 get Retry-After
 * (retry_after_s) unless hdrs already has one; 405 callers pass Allow.
 * The message is printf-formatted and forced onto one line.
 */
int gw_reply_error(gw_req_t *req, gw_errcode_t code, const char *field,
                   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int gw_reply_error_h(gw_req_t *req, gw_errcode_t code, const char *field,
                     const gw_header_t *hdrs, size_t nhdrs,
                     const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * A REST answer for a libhlf failure. code and field are borrowed from
 * the mapping table or from body (valid while body is); body is new
 * ({"error":{"code","field","message"}}; json_decref).
 */
typedef struct gw_hlf_answer_s {
    int status;
    const char *code;
    const char *field;   /* NULL when the error concerns no field */
    int retry_after;     /* 1: send Retry-After (503) */
    json_t *body;
} gw_hlf_answer_t;

/*
 * The single mapping of libhlf failures to REST answers (one table in
 * http.c), for every route that calls Fabric:
 * HLF_ECHAINCODE -> the chaincode's status (400/404/500) with its error
 * object verbatim when it has reso-chaincode's shape ({"error":{"code":
 * string[,"field":string]}} and a 4xx/5xx status), else 500 INTERNAL;
 * HLF_EUNAVAIL, HLF_ETIMEDOUT (Fabric deadlines, set below the request
 * timeout), HLF_ESUBMIT, HLF_ECOMMITSTATUS, HLF_EENDORSE, HLF_EEVALUATE,
 * HLF_ECLOSED, HLF_EGRPC -> 503 LEDGER_UNAVAILABLE + Retry-After;
 * HLF_ECOMMIT (committed invalid), HLF_EPROTO and local failures -> 500
 * INTERNAL. The message carries e->text (never key material). As data,
 * so Idempotency-Key can persist the answer. HLF_OK or HLF_ENOMEM
 * (a->body NULL). THREAD SAFETY: any thread.
 */
int gw_hlf_error_answer(const hlf_error_t *e, gw_hlf_answer_t *a);

/* Reply with gw_hlf_error_answer's answer (+ Retry-After when it says
 * so). Returns as gw_reply_json. THREAD SAFETY: as gw_reply_json. */
int gw_reply_hlf_error(gw_req_t *req, const hlf_error_t *e);

/* ------------------------------------------------------------------ */
/* Streaming replies (SSE)                                            */
/* ------------------------------------------------------------------ */

/*
 * A streaming response body. Handle, not request: it lives until both the
 * connection is finished and the producer has called gw_stream_release.
 */
typedef struct gw_stream_s gw_stream_t;

/* Values of gw_stream_ops_t.read besides a byte count. */
#define GW_STREAM_NODATA 0  /* nothing now: sleep until gw_stream_wake */
#define GW_STREAM_EOF (-1)  /* finish the response normally */
#define GW_STREAM_ERROR (-2) /* abort the connection */

/* Why a stream ended (gw_stream_ops_t.close). */
typedef enum {
    GW_STREAM_END_EOF = 0,      /* read returned GW_STREAM_EOF */
    GW_STREAM_END_CLIENT = 1,   /* client left or the write failed */
    GW_STREAM_END_SHUTDOWN = 2, /* the daemon is draining */
    GW_STREAM_END_ERROR = 3     /* read returned GW_STREAM_ERROR */
} gw_stream_end_t;

typedef struct gw_stream_ops_s {
    /*
     * Fill buf with up to max bytes and return how many (> 0), or
     * GW_STREAM_NODATA, GW_STREAM_EOF, GW_STREAM_ERROR. Called on an MHD
     * thread whenever the client can take more, never concurrently with
     * itself; must not block. After NODATA it is called again only after
     * gw_stream_wake (wakes during read are not lost).
     */
    ssize_t (*read)(void *ud, char *buf, size_t max);
    /*
     * Called exactly once when the stream is over, on an MHD thread or
     * the draining main thread; read is never called afterwards. The
     * producer still calls gw_stream_release (possibly from here).
     */
    void (*close)(void *ud, gw_stream_end_t why);
} gw_stream_ops_t;

/*
 * Reply with a streamed body (chunked) of content_type plus headers.
 * ops is copied; ud is borrowed until close. On HLF_OK *out (may not be
 * NULL) is the producer's reference: new, release it with
 * gw_stream_release exactly once. On failure close is never called and
 * no reference is returned. Counts as the request's one reply; the
 * request timeout does not apply to the stream afterwards (idle clients
 * are bounded by heartbeats and idle_timeout_ms on stalled writes).
 * THREAD SAFETY: like gw_reply_json.
 */
int gw_reply_stream(gw_req_t *req, int status, const char *content_type,
                    const gw_header_t *hdrs, size_t nhdrs,
                    const gw_stream_ops_t *ops, void *ud,
                    gw_stream_t **out);

/*
 * Data is available: make the stream call read again soon. Cheap; a no-op
 * once the stream ended. THREAD SAFETY: any thread, until the caller's
 * gw_stream_release.
 */
void gw_stream_wake(gw_stream_t *s);

/*
 * Ask the stream to end now: read is not called again (data it has not
 * returned yet is not sent) and close gets GW_STREAM_END_EOF. E.g. a slow
 * subscriber being dropped. To finish after the last data instead, return
 * GW_STREAM_EOF from read.
 * THREAD SAFETY: any thread, until gw_stream_release.
 */
void gw_stream_end(gw_stream_t *s);

/* Drop the producer's reference. THREAD SAFETY: any thread, once. */
void gw_stream_release(gw_stream_t *s);

/*
 * The stream's connection socket, for watching it for hang-up while the
 * stream is idle (a parked connection is outside MHD's poll set, so MHD
 * itself notices a client that left only at the next write). Borrowed:
 * MHD owns it; never read, write or close it. The number stays this
 * connection's until the close callback has returned (MHD closes the
 * socket after it). -1 once the connection is gone or unknown.
 * THREAD SAFETY: any thread, until gw_stream_release.
 */
int gw_stream_socket(gw_stream_t *s);

/* ------------------------------------------------------------------ */
/* HTTP daemon (main.c and tests)                                     */
/* ------------------------------------------------------------------ */

/* Register the core routes GET /healthz and GET /metrics. */
int gw_core_routes(void);

/*
 * Start MHD on cfg's listen address (port 0 picks a free port; see
 * gw_http_port). HLF_EIO if the address cannot be bound.
 * THREAD SAFETY: main thread.
 */
int gw_http_start(const gw_config_t *cfg, hlf_error_t *err);

/* The bound TCP port once started, else 0. THREAD SAFETY: any thread. */
int gw_http_port(void);

/*
 * The base URL for absolute links the gateway hands out (@odata.nextLink,
 * ResourceRecordUrl in EntityEvent pages and webhook pushes): public_url
 * without trailing '/' when configured (the address clients reach us at
 * behind a proxy), else "http[s]://<listen host>:<bound port>" (https
 * when tls_cert is set; IPv6 hosts in brackets). Never derived from
 * request headers, so a client cannot plant links. Relative links such
 * as Location stay relative. Into buf (n bytes): HLF_OK, HLF_EINVAL (it
 * does not fit; buf then holds "").
 * THREAD SAFETY: any thread once the config is installed.
 */
int gw_public_base(char *buf, size_t n);

/*
 * Drain: stop accepting connections, answer new requests on open
 * keep-alive connections with 503, end every stream (close gets
 * SHUTDOWN), then wait until no request is in flight or timeout_ms
 * passed. Returns the number of requests still in flight (0 = clean).
 * THREAD SAFETY: main thread.
 */
int gw_http_drain(int64_t timeout_ms);

/* Stop MHD (after gw_http_drain) and free the route table. */
void gw_http_stop(void);

/* Requests in flight right now (handlers + pending jobs). Any thread. */
int gw_http_in_flight(void);

/*
 * Test-only (tests/fuzz/fuzz_gateway_request.c): one request through the
 * core pipeline without MHD or a connection: routing, auth, rate limit,
 * X-Reso-Identity, body rules, content type, body cap, JSON and the
 * route's handler, as for a request MHD parsed. method and path (as on
 * the wire: percent-escapes kept, no query) are borrowed; query holds
 * nquery decoded key/value pairs in gw_header_t (a NULL value is "?k"),
 * hdrs the nhdrs request headers;
 * body_len bytes of body reach the core in pieces of at most chunk bytes
 * (0: one piece). cfg plays the daemon's config (borrowed until the next
 * call or gw_http_stop). The worker pool must not be running: a handler's
 * gw_req_defer then fails and the core answers 503, so no job and no
 * Fabric call ever runs. *status gets the stored reply's status (0: no
 * reply), *resp the reply (new struct MHD_Response *: the caller calls
 * MHD_destroy_response; NULL: none). HLF_OK, HLF_EINVAL (daemon running,
 * NULL argument), HLF_ENOMEM.
 * THREAD SAFETY: one thread, never while the daemon runs.
 */
int gw__http_fuzz_request(const gw_config_t *cfg, const char *method,
                          const char *path, const gw_header_t *query,
                          size_t nquery, const gw_header_t *hdrs,
                          size_t nhdrs, const char *body, size_t body_len,
                          size_t chunk, int *status, void **resp);

/* ------------------------------------------------------------------ */
/* Authentication and rate limiting (auth.c; the core calls these)    */
/* ------------------------------------------------------------------ */

/* Prepare per-key state (token buckets) for cfg's keys. Main thread. */
int gw_auth_init(const gw_config_t *cfg);
void gw_auth_free(void);

/*
 * Find the API key whose SHA-256 matches the bearer token (token is the
 * raw key, borrowed). The hash is compared with every configured key in
 * constant time, so timing reveals neither which key nor how much
 * matched. Returns the key (borrowed from the config) or NULL.
 * THREAD SAFETY: any thread.
 */
const gw_apikey_t *gw_auth_lookup(const char *token, size_t len);

/*
 * The clientcert entry whose fingerprint (SHA-256 of the DER
 * certificate, 32 bytes, borrowed) matches, compared with every entry in
 * constant time; borrowed from the config, or NULL.
 * THREAD SAFETY: any thread.
 */
const gw_apikey_t *gw_auth_lookup_cert(const uint8_t fingerprint[32]);

/*
 * Take one token from key's bucket (an API key or a clientcert entry):
 * HLF_OK, or HLF_EAGAIN with *retry_after_s (>= 1) set when the bucket
 * is empty.
 * THREAD SAFETY: any thread.
 */
int gw_auth_rate_take(const gw_apikey_t *key, int *retry_after_s);

/* Constant-time equality of a[0..n) and b[0..n): 1 equal, 0 not. */
int gw_ct_equal(const void *a, const void *b, size_t n);

/* Digest comparisons gw_auth_lookup made so far (tests check that every
 * lookup compares against every key). THREAD SAFETY: any thread. */
uint64_t gw_auth_compares(void);

/* ------------------------------------------------------------------ */
/* Metrics (Prometheus text at GET /metrics)                          */
/* ------------------------------------------------------------------ */

typedef struct gw_metric_s gw_metric_t;

typedef enum {
    GW_METRIC_COUNTER,
    GW_METRIC_GAUGE,
    GW_METRIC_HISTOGRAM
} gw_metric_type_t;

/*
 * Register (or find, if the same name and type exist) a metric family.
 * labels: comma-separated label names ("route,method,status") or NULL.
 * buckets: ascending upper bounds for histograms (copied; NULL = the
 * default latency buckets 5ms..30s), ignored otherwise. Returns a handle
 * borrowed until gw_metrics_reset, or NULL (bad name, type clash, OOM).
 * THREAD SAFETY: any thread.
 */
gw_metric_t *gw_metric_register(gw_metric_type_t type, const char *name,
                                const char *help, const char *labels,
                                const double *buckets, size_t nbuckets);

/*
 * Update the series with these label values (one per label name, in
 * order, borrowed; NULL when the family has no labels). Counters only
 * go up (negative v is ignored). THREAD SAFETY: any thread.
 */
void gw_counter_add(gw_metric_t *m, const char *const *labels, double v);
void gw_gauge_set(gw_metric_t *m, const char *const *labels, double v);
void gw_gauge_add(gw_metric_t *m, const char *const *labels, double v);
void gw_histogram_observe(gw_metric_t *m, const char *const *labels,
                          double v);

/* Label-value array literal: GW_LABELS("GET", "200"). */
#define GW_LABELS(...) ((const char *const[]){__VA_ARGS__})

/* Shorthand: counter + 1. */
#define gw_counter_inc(m, labels) gw_counter_add((m), (labels), 1.0)

/*
 * A collector runs before every render (on the /metrics request's MHD
 * thread; must not block) so a module can refresh gauges such as
 * follower lag. THREAD SAFETY: register from the main thread.
 */
int gw_metrics_collector(void (*fn)(void *ud), void *ud);

/* Render every family as Prometheus text 0.0.4 into *out (new,
 * hlf_free; NUL-terminated, *len excludes the NUL). HLF_ENOMEM. */
int gw_metrics_render(char **out, size_t *len);

/* Drop every family and collector (tests, shutdown). Main thread. */
void gw_metrics_reset(void);

/* ------------------------------------------------------------------ */
/* Health (GET /healthz)                                              */
/* ------------------------------------------------------------------ */

typedef enum {
    GW_HEALTH_OK = 0,
    GW_HEALTH_DEGRADED = 1, /* serving, but impaired: still ready */
    GW_HEALTH_DOWN = 2      /* not ready: /healthz answers 503 */
} gw_health_t;

/*
 * A component check: return its state and write a one-line detail into
 * detail (size n). Runs on a worker thread and may block briefly (peer
 * probes are bounded by peer_ready_timeout_ms).
 */
typedef gw_health_t (*gw_health_fn)(void *ud, char *detail, size_t n);

/*
 * Add a component (name copied, ud borrowed until gw_health_reset).
 * /healthz answers 200 {"status":"ok"|"degraded","components":{name:
 * {"status":..,"detail":..}}} when no component is down, else 503 with
 * "status":"down"; while draining every answer is 503 "draining".
 * THREAD SAFETY: main thread, before gw_http_start.
 */
int gw_health_register(const char *name, gw_health_fn fn, void *ud);

/* Run every check now: overall state and a new JSON body (json_decref).
 * THREAD SAFETY: any thread (checks run on the caller's thread). */
gw_health_t gw_health_run(json_t **body);

/* The name of a state ("ok", "degraded", "down"). */
const char *gw_health_name(gw_health_t h);

/* Register the core "peers" component for cfg's peers (main.c). */
int gw_health_register_peers(const gw_config_t *cfg);

/* Drop every component (tests, shutdown). Main thread. */
void gw_health_reset(void);

/* ------------------------------------------------------------------ */
/* Lifecycle and modules                                              */
/* ------------------------------------------------------------------ */

/*
 * A gateway module (routes_events, follower, webhooks, ...). main.c calls
 * init of every module in list order (gateway/CMakeLists.txt GW_MODULES),
 * then start in the same order, and at shutdown stop in reverse order,
 * after HTTP drained. Any member may be NULL.
 *   init:  register routes, metrics, health components; no threads, no
 *          I/O (also run for --list-routes with a default config).
 *   start: start threads, open files under state_dir, connect.
 *   stop:  stop threads, persist checkpoints. Called only if start
 *          succeeded.
 * Each module defines `const gw_module_t gw_module_<name>`.
 */
typedef struct gw_module_s {
    const char *name;
    int (*init)(const gw_config_t *cfg, hlf_error_t *err);
    int (*start)(const gw_config_t *cfg, hlf_error_t *err);
    void (*stop)(void);
} gw_module_t;

/* 1 once shutdown was requested (SIGTERM, SIGINT, gw_shutdown_request).
 * Long-running loops poll it. THREAD SAFETY: any thread, lock-free. */
int gw_shutdown_requested(void);

/* Request shutdown (as SIGTERM does). THREAD SAFETY: any thread,
 * async-signal-safe. */
void gw_shutdown_request(void);

/* Block until shutdown is requested (main thread). HLF_OK or HLF_EIO. */
int gw_shutdown_wait(void);

/*
 * The whole daemon: arguments, config, start order, wait for SIGTERM or
 * SIGINT, drain and stop (see the top of this file). mods (borrowed) are
 * the modules in start order. Returns the exit code: 0 clean, 1 runtime
 * failure, 2 usage or configuration error. main() of reso-gateway calls
 * it with the modules listed in gateway/CMakeLists.txt; tests call it
 * with their own.
 * THREAD SAFETY: main thread, once per process.
 */
int gw_daemon_main(int argc, char **argv, const gw_module_t *const *mods,
                   size_t nmods);

/* Monotonic clock in milliseconds. THREAD SAFETY: any thread. */
int64_t gw_now_ms(void);

/* The value of one hex digit (0-9, a-f, A-F), else -1 (path decoding,
 * config digests). THREAD SAFETY: any thread. */
int gw_hex_digit(char c);

#ifdef __cplusplus
}
#endif
#endif /* GW_H */
