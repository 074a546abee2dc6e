/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small CouchDB client on libcurl for the off-chain event index
 * (indexer.c) and the report queries (reports.c). It speaks the CouchDB
 * 3.x HTTP API that pouchdb-server also serves: create, inspect and
 * delete one database, _bulk_docs, _local documents, Mango _index and
 * _find. Nothing else of CouchDB is needed by the gateway.
 *
 * Errors. Every failure is an HLF_E* code plus one line in err->text of
 * the form "CouchDB <METHOD> <path>: HTTP <status> <error>: <reason>"
 * (or the curl failure), never containing credentials. Codes:
 *   HLF_EUNAVAIL   could not connect, or HTTP 5xx (CouchDB is down)
 *   HLF_ETIMEDOUT  no complete answer within timeout_ms
 *   HLF_ENOTFOUND  HTTP 404 (no such database or document)
 *   HLF_EEXIST     HTTP 409 / 412 (conflict, already exists)
 *   HLF_EPERM      HTTP 401 / 403 (credentials refused)
 *   HLF_EINVAL     HTTP 400 (CouchDB refused the request) or a bad
 *                  argument
 *   HLF_ETOOBIG    HTTP 413
 *   HLF_EPROTO     the answer is not the JSON CouchDB sends, or another
 *                  unexpected status
 *   HLF_ECRYPTO    TLS failed (certificate not trusted, handshake)
 *   HLF_ENOMEM
 * The last HTTP status of a call is also returned through the optional
 * gw_couch_result_t so callers (and tests) can tell 404 from 409 exactly.
 *
 * Credentials: user and the password read once from password_file are
 * sent as HTTP basic auth (use https outside loopback); they are never
 * logged, never part of an error text, and the password is wiped from
 * memory by gw_couch_free.
 *
 * THREAD SAFETY: a gw_couch_t may be shared by any number of threads;
 * each call borrows one of a small set of curl handles (connections are
 * kept alive and reused) under a short lock.
 */
#ifndef GW_COUCH_H
#define GW_COUCH_H

#include "gw.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default whole-request bound and connect bound. */
#define GW_COUCH_TIMEOUT_MS 10000
#define GW_COUCH_CONNECT_TIMEOUT_MS 2000
/* Answers larger than this are refused (HLF_ETOOBIG). */
#define GW_COUCH_MAX_RESPONSE (256u * 1024u * 1024u)

typedef struct gw_couch_s gw_couch_t;

typedef struct gw_couch_opts_s {
    const char *url;           /* http(s)://host:port[/prefix]; copied */
    const char *db;            /* database name (CouchDB rules); copied */
    const char *user;          /* NULL: no authentication; copied */
    const char *password_file; /* the password alone (one line); NULL
                                  with user means an empty password */
    const char *ca_file;       /* PEM CA bundle for https; NULL: system */
    int64_t timeout_ms;        /* 0: GW_COUCH_TIMEOUT_MS */
    int64_t connect_timeout_ms; /* 0: GW_COUCH_CONNECT_TIMEOUT_MS */
} gw_couch_opts_t;

/* What the server said, for callers that care about more than the code. */
typedef struct gw_couch_result_s {
    long http_status;  /* 0 if no HTTP answer arrived */
    char error[64];    /* CouchDB's "error" member, or "" */
    char reason[256];  /* CouchDB's "reason" member, or "" */
} gw_couch_result_t;

/*
 * A client for database o->db at o->url. No network I/O; the password
 * file is read now (HLF_EIO naming the file if unreadable). HLF_EINVAL
 * when the URL is not http(s)://, carries credentials ("user:pw@") or
 * the database name breaks CouchDB's rules (^[a-z][a-z0-9_$()+/-]*$,
 * at most 238 characters). *out is new (gw_couch_free).
 * THREAD SAFETY: reentrant.
 */
int gw_couch_new(const gw_couch_opts_t *o, gw_couch_t **out,
                 hlf_error_t *err);

/*
 * The same for the daemon's config (couch_url, couch_db, couch_user,
 * couch_password_file, couch_ca). HLF_ENOTFOUND when couch_url is not
 * set (the index is disabled).
 */
int gw_couch_from_config(const gw_config_t *cfg, gw_couch_t **out,
                         hlf_error_t *err);

/* Close every connection, wipe the password and free (takes c). NULL
 * is a no-op. THREAD SAFETY: once, after every other call returned. */
void gw_couch_free(gw_couch_t *c);

/* The database name and base URL (borrowed until gw_couch_free). */
const char *gw_couch_db(const gw_couch_t *c);
const char *gw_couch_url(const gw_couch_t *c);

/*
 * The generic call: method ("GET", "PUT", "POST", "DELETE") on path
 * (borrowed; relative to the base URL, starting with '/', already
 * percent-encoded) with an optional JSON body (borrowed; serialized
 * compactly). A 2xx answer is HLF_OK with *resp (may be NULL to ignore
 * it) the parsed JSON (new reference). Any other status is the error
 * code listed at the top with res filled (res may be NULL).
 */
int gw_couch_request(gw_couch_t *c, const char *method, const char *path,
                     const json_t *body, json_t **resp,
                     gw_couch_result_t *res, hlf_error_t *err);

/* GET / (server welcome): HLF_OK when CouchDB answers. */
int gw_couch_ping(gw_couch_t *c, gw_couch_result_t *res, hlf_error_t *err);

/*
 * PUT /{db}. HLF_OK with *created 1, or HLF_OK with *created 0 when it
 * already existed (412). created may be NULL.
 */
int gw_couch_db_create(gw_couch_t *c, int *created, gw_couch_result_t *res,
                       hlf_error_t *err);

/* DELETE /{db}. HLF_ENOTFOUND if there is none. */
int gw_couch_db_delete(gw_couch_t *c, gw_couch_result_t *res,
                       hlf_error_t *err);

/* GET /{db}: *info new (doc_count, update_seq, ...). */
int gw_couch_db_info(gw_couch_t *c, json_t **info, gw_couch_result_t *res,
                     hlf_error_t *err);

/* The outcome of one _bulk_docs call, per document, tallied. */
typedef struct gw_couch_bulk_s {
    size_t ok;         /* written */
    size_t conflicts;  /* "conflict": a document with that _id exists */
    size_t failed;     /* any other per-document error */
    char first_error[320]; /* "<id>: <error>: <reason>" of the first
                              failure, or "" */
} gw_couch_bulk_t;

/*
 * POST /{db}/_bulk_docs {"docs": docs} (docs: a JSON array, borrowed).
 * HLF_OK means CouchDB answered 201 with one result per document; per
 * document outcomes are in *out (conflicts are not an error of the call:
 * the indexer treats them as "already indexed"). HLF_EPROTO if the
 * answer does not hold exactly one result per document. results (may be
 * NULL) gets the raw result array (new reference).
 */
int gw_couch_bulk_docs(gw_couch_t *c, const json_t *docs,
                       gw_couch_bulk_t *out, json_t **results,
                       gw_couch_result_t *res, hlf_error_t *err);

/*
 * GET /{db}/_local/{id} (id: [A-Za-z0-9._-]{1,128}). *doc new, without
 * the _id/_rev members. HLF_ENOTFOUND if absent.
 */
int gw_couch_local_get(gw_couch_t *c, const char *id, json_t **doc,
                       gw_couch_result_t *res, hlf_error_t *err);

/*
 * Create or replace _local/{id} with doc (an object, borrowed; _id and
 * _rev members in it are ignored). The current revision is looked up
 * when needed, so the caller never sees a conflict unless another writer
 * keeps racing (HLF_EEXIST after 3 tries).
 */
int gw_couch_local_put(gw_couch_t *c, const char *id, const json_t *doc,
                       gw_couch_result_t *res, hlf_error_t *err);

/*
 * POST /{db}/_index: a JSON (Mango) index named name in design document
 * _design/{ddoc} on fields (nfields names, borrowed, ascending). *created
 * (may be NULL) is 1 if it was created, 0 if it existed: creating it
 * again is a no-op.
 */
int gw_couch_index_create(gw_couch_t *c, const char *ddoc, const char *name,
                          const char *const *fields, size_t nfields,
                          int *created, gw_couch_result_t *res,
                          hlf_error_t *err);

/*
 * POST /{db}/_find with query (a Mango query object, borrowed). *resp is
 * new: {"docs":[...], "bookmark":..., "warning"?:...}. HLF_EPROTO if the
 * answer has no docs array.
 */
int gw_couch_find(gw_couch_t *c, const json_t *query, json_t **resp,
                  gw_couch_result_t *res, hlf_error_t *err);

/*
 * Where time goes, for benchmarks: totals since gw_couch_new. http_ns is
 * wall time inside curl (request on the wire + CouchDB's work + the
 * answer), encode_ns serializing request bodies, decode_ns parsing
 * answers. bytes_out / bytes_in count bodies.
 */
typedef struct gw_couch_stats_s {
    uint64_t requests;
    uint64_t failures;
    uint64_t http_ns;
    uint64_t encode_ns;
    uint64_t decode_ns;
    uint64_t bytes_out;
    uint64_t bytes_in;
} gw_couch_stats_t;

/* A snapshot. THREAD SAFETY: any thread. */
void gw_couch_stats(gw_couch_t *c, gw_couch_stats_t *st);

#ifdef __cplusplus
}
#endif
#endif /* GW_COUCH_H */
