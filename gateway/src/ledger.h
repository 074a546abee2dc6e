/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger API of reso-gateway (private to routes_events.c, submit.c
 * and idem.c, the catalog, identity and referral routes, and their unit
 * tests): the REST routes that record and read
 * RESO events, the Fabric calls behind them with per-request deadlines
 * and peer failover, the one mapping of libhlf failures to REST answers
 * for these routes, and the persistent Idempotency-Key store.
 *
 * Threads: route handlers run on MHD threads and only validate and defer;
 * every Fabric call and every idempotency-file write runs on the worker
 * pool (gw_req_defer). The idempotency store has one lock.
 */
#ifndef GW_LEDGER_H
#define GW_LEDGER_H

#include "gw.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Limits and constants                                               */
/* ------------------------------------------------------------------ */

/* GET /v1/subjects/{EventSubject}/events page size. */
#define GW_PAGE_DEFAULT 100
#define GW_PAGE_MAX 1000

/* How long GET /v1/transactions/{txid} waits for a pending commit. */
#define GW_TX_STATUS_WAIT_MS 1000

/* Time kept back from the request timeout for answering (ms). */
#define GW_LEDGER_REPLY_MARGIN_MS 300

/* Idempotency keys: retention, size bound and the state-dir file. */
#define GW_IDEM_RETENTION_S (24 * 3600)
#define GW_IDEM_MAX_ENTRIES 100000
#define GW_IDEM_KEY_MAX 255
#define GW_IDEM_FILE "idempotency.jsonl"
/*
 * A transaction handed to the orderer whose commit is still unknown this
 * long after the hand-over is taken as never ordered (the network cuts a
 * block every 500 ms), so a retry may write again; before that a retry
 * answers 202 pending and never writes.
 */
#define GW_IDEM_SETTLE_S 30

/* Failures map to REST answers through the core's one table,
 * gw_hlf_error_answer / gw_reply_hlf_error (gw.h). */

/* ------------------------------------------------------------------ */
/* Fabric calls with deadlines and failover (submit.c)                */
/* ------------------------------------------------------------------ */

/*
 * Every call below tries the identity's upstreams in order (own org's
 * peers first, gw_identity_t) and moves to the next one when an attempt
 * fails with HLF_EUNAVAIL, HLF_ETIMEDOUT, HLF_ECLOSED, HLF_EEVALUATE or,
 * for submits, HLF_EENDORSE, i.e. only before anything reached the
 * orderer. deadline_ms is absolute on gw_now_ms(); each attempt gets a
 * gateway whose gRPC deadlines end by then (a non-last attempt at most
 * half of what is left, at least 1 s), so a dead or hung peer costs a
 * bounded share of the request. After the deadline: HLF_ETIMEDOUT.
 */

/* Evaluate fn(arg[0..len)). *res new (hlf_bytes_free). */
int gw_ledger_evaluate(const gw_config_t *cfg, const gw_identity_t *id,
                       const char *fn, const char *arg, size_t len,
                       int64_t deadline_ms, hlf_bytes_t *res,
                       hlf_error_t *err);

/* Where a submit stopped. */
typedef enum {
    GW_STAGE_ENDORSE = 0, /* nothing reached the orderer */
    GW_STAGE_SUBMIT = 1,  /* handed to the orderer; acceptance unknown */
    GW_STAGE_COMMIT = 2,  /* orderer accepted; commit unknown */
    GW_STAGE_DONE = 3     /* committed (or accepted, without wait) */
} gw_stage_t;

typedef struct gw_submit_s {
    /* In (borrowed for the call). */
    const gw_config_t *cfg;
    const gw_identity_t *id;
    const char *fn;
    const char *arg;
    size_t arglen;
    int64_t deadline_ms;
    int wait_commit;
    /*
     * Called with the transaction id after endorsement, before the
     * transaction goes to the orderer; a failure (negative code, err
     * filled) stops the submit at GW_STAGE_ENDORSE. May be NULL.
     */
    int (*before_submit)(void *ud, const char *txid, hlf_error_t *err);
    void *ud;
    /* Out. */
    gw_stage_t stage;
    char txid[65];
    char *result;      /* the chaincode result (new, hlf_free) */
    size_t result_len;
    uint64_t block;    /* when committed */
    int validation_code; /* -1 until known */
    double endorse_submit_s; /* endorse + submit duration */
    double commit_s;         /* orderer acceptance -> commit status */
} gw_submit_t;

/*
 * Endorse (with failover), call before_submit, submit, and if wait_commit
 * wait for the commit status until deadline_ms (trying other upstreams
 * when the peer becomes unavailable). HLF_OK: stage GW_STAGE_DONE.
 * Otherwise stage says how far it got; at GW_STAGE_COMMIT with
 * HLF_ETIMEDOUT/HLF_EUNAVAIL/HLF_ECOMMITSTATUS the transaction is in the
 * orderer's hands and may still commit. Free s->result with
 * gw_submit_dispose.
 */
int gw_ledger_submit(gw_submit_t *s, hlf_error_t *err);
void gw_submit_dispose(gw_submit_t *s);

/*
 * Submit fn(arg) (arg borrowed, NUL-terminated) as id, wait for the
 * commit until deadline_ms and answer req: ok_status with the chaincode's
 * result once committed; 202 {"txid","status":"PENDING"} with Location
 * /v1/transactions/{txid} when the transaction is in the orderer's hands
 * but its commit was not seen in time (it may still commit); else the
 * failure through gw_reply_hlf_error. The one answer of the governance
 * routes (catalog, recorders, DIDs); POST /v1/events has its own, with
 * idempotency.
 * THREAD SAFETY: a pool job (gw_req_defer); it blocks on Fabric.
 */
void gw_ledger_submit_reply(gw_req_t *req, const gw_config_t *cfg,
                            const gw_identity_t *id, const char *fn,
                            const char *arg, int64_t deadline_ms,
                            int ok_status);

/* How a route answers an evaluated result (data borrowed for the call). */
typedef void (*gw_ledger_answer_fn)(gw_req_t *req, const char *data,
                                    size_t len);

/*
 * From a route handler: defer fn(arg) (arg borrowed and copied; NULL for
 * "") as the caller's identity to a pool job, with the request's deadline
 * less GW_LEDGER_REPLY_MARGIN_MS. ok_status 0: evaluate and answer the
 * result with answer (NULL: 200 application/json as it is); else submit
 * and answer as gw_ledger_submit_reply with ok_status. No identity bound
 * to the caller: 401. Returns what the handler returns (gw_req_defer, or
 * the reply's status when it answered at once). cfg borrowed; it must
 * outlive the job.
 * THREAD SAFETY: an MHD handler thread, like every route handler.
 */
int gw_ledger_defer(gw_req_t *req, const gw_config_t *cfg, const char *fn,
                    const char *arg, int ok_status,
                    gw_ledger_answer_fn answer);

/*
 * The commit status of txid, waiting at most until deadline_ms: HLF_OK
 * (VALID) or HLF_ECOMMIT (invalid) with *res filled; HLF_ETIMEDOUT when
 * it is not committed (yet); HLF_EUNAVAIL when no peer answered.
 */
int gw_ledger_commit_status(const gw_config_t *cfg, const gw_identity_t *id,
                            const char *txid, int64_t deadline_ms,
                            hlf_commit_result_t *res, hlf_error_t *err);

/* ------------------------------------------------------------------ */
/* Subject-history cursors (routes_events.c)                          */
/* ------------------------------------------------------------------ */

/*
 * A cursor continues after a given event of a subject's history: it
 * carries that event's TransactionId and its index as a hint (the history
 * only grows, but an event with an earlier Timestamp may be inserted
 * before the position, so the TransactionId is what counts). Encoded as
 * base64url (no padding) of "c1:<index>:<TransactionId>".
 */
#define GW_CURSOR_MAX 128

/* Encode into out (size n >= GW_CURSOR_MAX). HLF_EINVAL if it does not
 * fit or tid is empty or too long. */
int gw_cursor_encode(size_t index, const char *tid, char *out, size_t n);

/* Decode; tid gets the TransactionId (size tn). HLF_EINVAL if malformed. */
int gw_cursor_decode(const char *cursor, size_t *index, char *tid,
                     size_t tn);

/*
 * The position after the cursor's event in history (a JSON array of
 * stored events): the index after the event with that TransactionId,
 * else (never expected) the hint clamped to the array. NULL cursor: 0.
 */
size_t gw_cursor_resume(const json_t *history, size_t index,
                        const char *tid);

/* ------------------------------------------------------------------ */
/* Idempotency store (idem.c)                                         */
/* ------------------------------------------------------------------ */

/*
 * Keys are scoped per API key: (client = API key name, key = the
 * Idempotency-Key header). The request is identified by hash = SHA-256
 * of its JSON body re-serialized compact with sorted keys (gw_idem_hash),
 * so whitespace and member order do not make a different request.
 *
 * File (state_dir/idempotency.jsonl): one JSON object per line, appended
 * and fdatasync'ed before the answer is sent; last record of a key wins:
 *   {"op":"S","client","key","hash","created","submitted","txid"}
 *       the transaction went to the orderer; its answer is not known
 *   {"op":"A","client","key","hash","created","status","body"[,"location"]}
 *       the answer that was sent
 *   {"op":"R","client","key"}   forgotten (the key may be used again)
 * created/submitted are Unix seconds. Opening reads the file (a line that
 * does not parse, e.g. a torn last line after a crash, is skipped with a
 * warning), drops entries older than the retention or beyond max_entries
 * (oldest first) and rewrites the file compacted (temp file, fsync,
 * rename). The file is compacted again when it holds more than twice the
 * live entries (and at least 1024 records).
 */
typedef struct gw_idem_s gw_idem_t;

typedef struct gw_idem_opts_s {
    int64_t retention_s;    /* 0: GW_IDEM_RETENTION_S */
    size_t max_entries;     /* 0: GW_IDEM_MAX_ENTRIES */
    int64_t (*now_s)(void); /* wall clock (tests); NULL: time() */
} gw_idem_opts_t;

/*
 * Open (creating it 0600 if needed) and load the store at path. opts may
 * be NULL. *out new (gw_idem_close). HLF_EIO (file), HLF_ENOMEM.
 * THREAD SAFETY: any thread; the store is then shared.
 */
int gw_idem_open(const char *path, const gw_idem_opts_t *opts,
                 gw_idem_t **out, hlf_error_t *err);

/* Close the file and free everything. NULL is a no-op.
 * THREAD SAFETY: once nobody uses the store. */
void gw_idem_close(gw_idem_t *st);

typedef enum {
    GW_IDEM_NEW = 0,   /* first use: the caller owns the key now */
    GW_IDEM_REPLAY,    /* answered before: status, body, location */
    GW_IDEM_CONFLICT,  /* same key, different request */
    GW_IDEM_BUSY,      /* a request with this key is being handled */
    GW_IDEM_SUBMITTED  /* owned now; txid went to the orderer, outcome
                          unknown: look it up before writing again */
} gw_idem_state_t;

typedef struct gw_idem_lookup_s {
    gw_idem_state_t state;
    int status;             /* REPLAY */
    char *body;             /* REPLAY: compact JSON, new */
    char *location;         /* REPLAY: new or NULL */
    char txid[65];          /* SUBMITTED */
    int64_t submitted_s;    /* SUBMITTED: Unix seconds */
} gw_idem_lookup_t;

/*
 * Look up (client, key) and, for NEW and SUBMITTED, take ownership: the
 * owner ends it with exactly one of gw_idem_answer, gw_idem_release or
 * gw_idem_unlock (gw_idem_submitted may come before). out is filled (free
 * with gw_idem_lookup_dispose). HLF_ENOMEM.
 * THREAD SAFETY: any thread.
 */
int gw_idem_begin(gw_idem_t *st, const char *client, const char *key,
                  const uint8_t hash[32], gw_idem_lookup_t *out,
                  hlf_error_t *err);

/* Persist "txid went to the orderer" (S record, fdatasync) for an owned
 * key. HLF_EIO: not persisted, do not submit. */
int gw_idem_submitted(gw_idem_t *st, const char *client, const char *key,
                      const char *txid, hlf_error_t *err);

/* Persist the answer (A record, fdatasync) and end ownership. body is
 * borrowed, location may be NULL. HLF_EIO: kept in memory only. */
int gw_idem_answer(gw_idem_t *st, const char *client, const char *key,
                   int status, const json_t *body, const char *location,
                   hlf_error_t *err);

/* Forget the key (R record if anything was persisted) and end ownership:
 * nothing was written to the ledger, a retry may write. */
int gw_idem_release(gw_idem_t *st, const char *client, const char *key,
                    hlf_error_t *err);

/* End ownership and keep the state (a SUBMITTED key stays SUBMITTED). */
void gw_idem_unlock(gw_idem_t *st, const char *client, const char *key);

/* Live entries now. THREAD SAFETY: any thread. */
size_t gw_idem_count(gw_idem_t *st);

void gw_idem_lookup_dispose(gw_idem_lookup_t *l);

/* The request hash of a JSON body (see above). HLF_ENOMEM. */
int gw_idem_hash(const json_t *body, uint8_t out[32]);

/* 1 if key is a valid Idempotency-Key: 1..255 visible ASCII bytes. */
int gw_idem_key_valid(const char *key);

/* The module (routes_events.c). */
extern const gw_module_t gw_module_events;

#ifdef __cplusplus
}
#endif
#endif /* GW_LEDGER_H */
