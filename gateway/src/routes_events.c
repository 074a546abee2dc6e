/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger routes of reso-gateway:
 *
 *   POST /v1/events                        record an event (RecordEvent)
 *   GET  /v1/events/{TransactionId}        one stored event (GetEvent)
 *   GET  /v1/subjects/{EventSubject}/events  a subject's history, paged
 *   GET  /v1/transactions/{txid}           commit status of a transaction
 *
 * Handlers run on MHD threads: they check the request, then defer the
 * Fabric work to the worker pool (gw_req_defer); the job replies. The
 * lookup catalog is the catalog module's (routes_catalog.c): it lives on
 * the ledger now.
 *
 * POST answers 201 {"event","txid","block"} once the commit is seen
 * within the request timeout, else 202 {"txid","status":"PENDING",
 * "event"} with Location: /v1/transactions/{txid}; Prefer: respond-async
 * answers 202 right after the orderer accepted the transaction. With an
 * Idempotency-Key the first definitive answer (201, 202 by preference,
 * chaincode 4xx) is persisted (idem.c) and replayed; a key whose
 * transaction went to the orderer without a known outcome is resolved
 * by looking that transaction up, never by writing again.
 */
#include "ledger.h"

#include "evl.h"
#include "hlf/log.h"
#include "hlf/mem.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Module state                                                       */
/* ------------------------------------------------------------------ */

/*
 * Set by init/start on the main thread before HTTP starts, read-only
 * afterwards, except the idempotency store pointer: jobs borrow it under
 * idem_lock (idem_users counts them) so that stop can close it only once
 * no job uses it.
 */
static const gw_config_t *g_cfg;
static gw_metric_t *m_submits, *m_submit_s, *m_commit_s;

static pthread_mutex_t idem_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idem_idle = PTHREAD_COND_INITIALIZER;
static gw_idem_t *g_idem;
static int idem_users;

static gw_idem_t *
idem_acquire(void)
{
    gw_idem_t *st;

    pthread_mutex_lock(&idem_lock);
    st = g_idem;
    if (st != NULL)
        idem_users++;
    pthread_mutex_unlock(&idem_lock);
    return st;
}

static void
idem_put(void)
{
    pthread_mutex_lock(&idem_lock);
    if (--idem_users == 0)
        pthread_cond_broadcast(&idem_idle);
    pthread_mutex_unlock(&idem_lock);
}

static void
count_outcome(const char *outcome)
{
    gw_counter_inc(m_submits, GW_LABELS(outcome));
}

/* ------------------------------------------------------------------ */
/* Cursors                                                            */
/* ------------------------------------------------------------------ */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
gw_cursor_encode(size_t index, const char *tid, char *out, size_t n)
{
    char raw[96];
    size_t len, i, o = 0;
    int w;

    if (tid == NULL || tid[0] == '\0' || strlen(tid) > 64)
        return HLF_EINVAL;
    w = snprintf(raw, sizeof(raw), "c1:%zu:%s", index, tid);
    if (w < 0 || (size_t)w >= sizeof(raw))
        return HLF_EINVAL;
    len = (size_t)w;
    if ((len + 2) / 3 * 4 + 1 > n)
        return HLF_EINVAL;
    for (i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)raw[i] << 16;
        size_t k = len - i;

        if (k > 1)
            v |= (uint32_t)(unsigned char)raw[i + 1] << 8;
        if (k > 2)
            v |= (unsigned char)raw[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (k > 1)
            out[o++] = b64url[(v >> 6) & 63];
        if (k > 2)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return HLF_OK;
}

static int
b64val(char c)
{
    const char *p = c != '\0' ? strchr(b64url, c) : NULL;

    return p != NULL ? (int)(p - b64url) : -1;
}

int
gw_cursor_decode(const char *cursor, size_t *index, char *tid, size_t tn)
{
    char raw[96], *end;
    size_t len, i, o = 0;
    unsigned long long idx;
    const char *p;

    if (cursor == NULL)
        return HLF_EINVAL;
    len = strlen(cursor);
    if (len == 0 || len % 4 == 1 || len > (sizeof(raw) - 1) / 3 * 4)
        return HLF_EINVAL;
    for (i = 0; i < len; i += 4) {
        uint32_t v = 0;
        size_t k = len - i < 4 ? len - i : 4, j;

        for (j = 0; j < k; j++) {
            int d = b64val(cursor[i + j]);

            if (d < 0)
                return HLF_EINVAL;
            v |= (uint32_t)d << (18 - 6 * j);
        }
        raw[o++] = (char)(v >> 16);
        if (k > 2)
            raw[o++] = (char)(v >> 8);
        if (k > 3)
            raw[o++] = (char)v;
    }
    raw[o] = '\0';
    if (strlen(raw) != o || strncmp(raw, "c1:", 3) != 0 ||
        !isdigit((unsigned char)raw[3]))
        return HLF_EINVAL;
    idx = strtoull(raw + 3, &end, 10);
    if (*end != ':' || end - (raw + 3) > 9)
        return HLF_EINVAL;
    p = end + 1;
    if (*p == '\0' || strlen(p) > 64 || strlen(p) >= tn)
        return HLF_EINVAL;
    for (i = 0; p[i] != '\0'; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '-')
            return HLF_EINVAL;
    memcpy(tid, p, strlen(p) + 1);
    *index = (size_t)idx;
    return HLF_OK;
}

size_t
gw_cursor_resume(const json_t *history, size_t index, const char *tid)
{
    size_t n = json_array_size(history), i;

    if (tid == NULL)
        return 0;
    /* Look at the hint first: the usual case costs nothing. */
    if (index < n) {
        const char *t = json_string_value(json_object_get(
            json_array_get(history, index), "TransactionId"));

        if (t != NULL && strcmp(t, tid) == 0)
            return index + 1;
    }
    for (i = 0; i < n; i++) {
        const char *t = json_string_value(
            json_object_get(json_array_get(history, i), "TransactionId"));

        if (t != NULL && strcmp(t, tid) == 0)
            return i + 1;
    }
    return index + 1 < n ? index + 1 : n;
}

/* ------------------------------------------------------------------ */
/* Replies                                                            */
/* ------------------------------------------------------------------ */

static int64_t
deadline_of(gw_req_t *req)
{
    return gw_now_ms() + gw_req_remaining_ms(req) -
           GW_LEDGER_REPLY_MARGIN_MS;
}

static const char *
retry_after_value(char *buf, size_t n)
{
    snprintf(buf, n, "%d", g_cfg->retry_after_s > 0 ? g_cfg->retry_after_s
                                                    : GW_DEFAULT_RETRY_AFTER_S);
    return buf;
}


/* ------------------------------------------------------------------ */
/* POST /v1/events                                                    */
/* ------------------------------------------------------------------ */

typedef struct post_job_s {
    gw_req_t *req;
    const gw_identity_t *id;
    const char *client;   /* API key name, borrowed from the config */
    char *key;            /* Idempotency-Key or NULL */
    int async;
    gw_idem_t *idem;      /* borrowed via idem_acquire, or NULL */
    int owned;            /* the job owns its idempotency key */
    int replied;
} post_job_t;

static void
post_job_free(void *arg)
{
    post_job_t *j = arg;

    hlf_free(j->key);
    hlf_free(j);
}

/* 1 if Prefer lists respond-async (RFC 7240; tokens are
 * case-insensitive, several headers joined by commas). */
static int
prefers_async(const char *prefer)
{
    const char *p = prefer;

    while (p != NULL && *p != '\0') {
        size_t n;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        n = strcspn(p, ",;= \t");
        if (n == 13 && strncasecmp(p, "respond-async", 13) == 0)
            return 1;
        p = strchr(p, ',');
    }
    return 0;
}

/*
 * Send an answer of the POST and, if the job owns an idempotency key,
 * end its ownership: persist (definitive answers), release (nothing
 * written) or unlock (outcome in the orderer's hands). Takes body.
 */
enum { IDEM_PERSIST, IDEM_RELEASE, IDEM_UNLOCK };

static void
post_answer(post_job_t *j, int status, json_t *body, const char *txid,
            int retry_after, int idem_action)
{
    gw_header_t h[3];
    char loc[96], ra[16];
    size_t n = 0;
    hlf_error_t e;

    if (txid != NULL && status == 202) {
        snprintf(loc, sizeof(loc), "/v1/transactions/%s", txid);
        h[n].name = "Location";
        h[n++].value = loc;
        if (j->async) {
            h[n].name = "Preference-Applied";
            h[n++].value = "respond-async";
        }
    }
    if (retry_after) {
        h[n].name = "Retry-After";
        h[n++].value = retry_after_value(ra, sizeof(ra));
    }
    if (j->owned) {
        int rc = HLF_OK;

        hlf_error_clear(&e);
        if (idem_action == IDEM_PERSIST && body != NULL)
            rc = gw_idem_answer(j->idem, j->client, j->key, status, body,
                                n > 0 && status == 202 ? loc : NULL, &e);
        else if (idem_action == IDEM_RELEASE)
            rc = gw_idem_release(j->idem, j->client, j->key, &e);
        else
            gw_idem_unlock(j->idem, j->client, j->key);
        if (rc != HLF_OK)
            hlf_log(HLF_LOG_ERROR, "ledger", "request %s: idempotency "
                    "record not saved: %s", gw_req_id(j->req), e.text);
        j->owned = 0;
    }
    j->replied = 1;
    gw_reply_json(j->req, status, body, h, n);
}

/* Answer a failure of a ledger step; idem_action as above. */
static void
post_fail(post_job_t *j, const hlf_error_t *e, int idem_action,
          const char *outcome)
{
    gw_hlf_answer_t a;

    count_outcome(outcome);
    if (gw_hlf_error_answer(e, &a) != HLF_OK) {
        post_answer(j, 500, NULL, NULL, 0, IDEM_RELEASE);
        return;
    }
    post_answer(j, a.status, a.body, NULL, a.retry_after, idem_action);
}

/* 201 {"event","txid","block"}; event is taken. */
static void
post_committed(post_job_t *j, json_t *event, const char *txid,
               uint64_t block)
{
    json_t *body = json_pack("{s:o, s:s, s:I}", "event",
                             event != NULL ? event : json_null(), "txid",
                             txid, "block", (json_int_t)block);

    count_outcome("committed");
    post_answer(j, body != NULL ? 201 : 500, body, txid, 0,
                body != NULL ? IDEM_PERSIST : IDEM_UNLOCK);
}

/* 202 {"txid","status":"PENDING"[,"event"]}; event is taken. */
static void
post_pending(post_job_t *j, json_t *event, const char *txid, int persist)
{
    json_t *body = json_pack("{s:s, s:s}", "txid", txid, "status",
                             "PENDING");

    if (body != NULL && event != NULL)
        json_object_set(body, "event", event);
    json_decref(event);
    count_outcome(persist ? "accepted" : "pending");
    post_answer(j, body != NULL ? 202 : 500, body, txid, 0,
                persist && body != NULL ? IDEM_PERSIST : IDEM_UNLOCK);
}

static int
before_submit(void *ud, const char *txid, hlf_error_t *err)
{
    post_job_t *j = ud;

    return gw_idem_submitted(j->idem, j->client, j->key, txid, err);
}

/* Record the event: endorse, orderer, and commit unless async. */
static void
post_write(post_job_t *j)
{
    gw_submit_t s;
    hlf_error_t e;
    size_t len;
    const char *body = gw_req_body(j->req, &len);
    json_t *event;
    int rc;

    memset(&s, 0, sizeof(s));
    s.cfg = g_cfg;
    s.id = j->id;
    s.fn = "RecordEvent";
    s.arg = body != NULL ? body : "";
    s.arglen = body != NULL ? len : 0;
    s.deadline_ms = deadline_of(j->req);
    s.wait_commit = !j->async;
    if (j->owned) {
        s.before_submit = before_submit;
        s.ud = j;
    }
    rc = gw_ledger_submit(&s, &e);
    if (s.stage >= GW_STAGE_COMMIT)
        gw_histogram_observe(m_submit_s, NULL, s.endorse_submit_s);
    if (s.stage == GW_STAGE_DONE && !j->async)
        gw_histogram_observe(m_commit_s, NULL, s.commit_s);
    event = s.result != NULL ? json_loadb(s.result, s.result_len, 0, NULL)
                             : NULL;
    if (rc == HLF_OK) {
        if (j->async)
            post_pending(j, event, s.txid, 1);
        else
            post_committed(j, event, s.txid, s.block);
    } else if (rc == HLF_ECOMMIT) {
        /* Committed invalid: nothing was written, a retry may write. */
        json_decref(event);
        post_fail(j, &e, IDEM_RELEASE, "invalid");
    } else if (s.stage == GW_STAGE_COMMIT) {
        /* The orderer has it; the commit was not seen in time. */
        post_pending(j, event, s.txid, 0);
    } else if (s.stage == GW_STAGE_SUBMIT) {
        /* Maybe ordered: keep the key pointing at this transaction. */
        json_decref(event);
        post_fail(j, &e, IDEM_UNLOCK, "unavailable");
    } else {
        int cc4xx = rc == HLF_ECHAINCODE && e.chaincode_status >= 400 &&
                    e.chaincode_status < 500;

        json_decref(event);
        post_fail(j, &e, cc4xx ? IDEM_PERSIST : IDEM_RELEASE,
                  cc4xx ? "rejected"
                        : rc == HLF_EIO || rc == HLF_ENOMEM ? "failed"
                                                             : "unavailable");
    }
    gw_submit_dispose(&s);
}

/*
 * A retry of a key whose transaction txid went to the orderer without a
 * known outcome (gateway restarted, or the first answer was 202
 * pending/503). Returns 1 if it answered, 0 if the key was released and
 * the caller should write.
 */
static int
post_resolve(post_job_t *j, const char *txid, int64_t submitted_s)
{
    int64_t deadline = deadline_of(j->req);
    int64_t wait = gw_now_ms() + 2 * GW_TX_STATUS_WAIT_MS;
    hlf_commit_result_t cr;
    hlf_bytes_t res = {0};
    char uuid[EVL_UUID_LEN + 1];
    hlf_error_t e;
    json_t *event;
    int rc;

    rc = gw_ledger_commit_status(g_cfg, j->id, txid,
                                 wait < deadline ? wait : deadline, &cr, &e);
    if (rc == HLF_ECOMMIT ||
        (rc == HLF_ETIMEDOUT &&
         (int64_t)time(NULL) - submitted_s >= GW_IDEM_SETTLE_S)) {
        hlf_log(HLF_LOG_INFO, "ledger", "request %s: transaction %s of "
                "this Idempotency-Key %s; recording anew",
                gw_req_id(j->req), txid,
                rc == HLF_ECOMMIT ? "committed invalid"
                                  : "was never committed");
        if (gw_idem_release(j->idem, j->client, j->key, &e) != HLF_OK)
            hlf_log(HLF_LOG_ERROR, "ledger", "request %s: %s",
                    gw_req_id(j->req), e.text);
        j->owned = 0;
        return 0;
    }
    if (rc == HLF_ETIMEDOUT) {
        post_pending(j, NULL, txid, 0);
        return 1;
    }
    if (rc != HLF_OK) {
        post_fail(j, &e, IDEM_UNLOCK, "unavailable");
        return 1;
    }
    /* Committed valid: answer as the first request would have. */
    if (evl_uuid_from_txid(txid, strlen(txid), 0, uuid) != HLF_OK) {
        post_answer(j, 500, NULL, NULL, 0, IDEM_UNLOCK);
        return 1;
    }
    rc = gw_ledger_evaluate(g_cfg, j->id, "GetEvent", uuid, strlen(uuid),
                            deadline, &res, &e);
    if (rc != HLF_OK) {
        /* Committed, but not readable here yet: stay resolvable. */
        if (rc == HLF_ECHAINCODE)
            hlf_error_set(&e, HLF_EUNAVAIL, "transaction %s committed in "
                          "block %llu but its event is not readable yet",
                          txid, (unsigned long long)cr.block_number);
        post_fail(j, &e, IDEM_UNLOCK, "unavailable");
        return 1;
    }
    event = json_loadb((const char *)res.data, res.len, 0, NULL);
    hlf_bytes_free(&res);
    post_committed(j, event, txid, cr.block_number);
    return 1;
}

static void
post_replay(post_job_t *j, const gw_idem_lookup_t *l)
{
    gw_header_t h[2] = {{"Idempotent-Replayed", "true"},
                        {"Location", l->location}};

    count_outcome("replayed");
    j->replied = 1;
    gw_reply_raw(j->req, l->status, "application/json", l->body,
                 strlen(l->body), h, l->location != NULL ? 2 : 1);
}

static void
post_job(void *arg)
{
    post_job_t *j = arg;
    gw_idem_lookup_t l;
    hlf_error_t e;
    uint8_t hash[32];

    memset(&l, 0, sizeof(l));
    if (j->key != NULL) {
        j->idem = idem_acquire();
        if (j->idem == NULL) {
            gw_reply_error(j->req, GW_ERR_SERVICE_UNAVAILABLE, NULL,
                           "the gateway is shutting down");
            goto out;
        }
        if (gw_idem_hash(gw_req_json(j->req), hash) != HLF_OK ||
            gw_idem_begin(j->idem, j->client, j->key, hash, &l, &e) !=
                HLF_OK) {
            gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
            goto out;
        }
        switch (l.state) {
        case GW_IDEM_REPLAY:
            post_replay(j, &l);
            goto out;
        case GW_IDEM_CONFLICT:
            count_outcome("conflict");
            gw_reply_error(j->req, GW_ERR_IDEMPOTENCY_CONFLICT,
                           "Idempotency-Key", "this Idempotency-Key was "
                           "used with a different request body");
            goto out;
        case GW_IDEM_BUSY: {
            char ra[16];
            gw_header_t h = {"Retry-After", NULL};

            h.value = retry_after_value(ra, sizeof(ra));
            count_outcome("conflict");
            gw_reply_error_h(j->req, GW_ERR_IDEMPOTENCY_CONFLICT,
                             "Idempotency-Key", &h, 1, "a request with "
                             "this Idempotency-Key is in progress");
            goto out;
        }
        case GW_IDEM_SUBMITTED:
            j->owned = 1;
            if (post_resolve(j, l.txid, l.submitted_s))
                goto out;
            /* Released: write as a new request, owning the key again. */
            if (gw_idem_begin(j->idem, j->client, j->key, hash, &l, &e) !=
                    HLF_OK ||
                l.state != GW_IDEM_NEW) {
                gw_idem_lookup_dispose(&l);
                gw_reply_error(j->req, GW_ERR_IDEMPOTENCY_CONFLICT,
                               "Idempotency-Key", "a request with this "
                               "Idempotency-Key is in progress");
                goto out;
            }
            j->owned = 1;
            break;
        case GW_IDEM_NEW:
            j->owned = 1;
            break;
        }
    }
    post_write(j);
out:
    gw_idem_lookup_dispose(&l);
    if (j->owned) {
        /* Never expected: every path above answers through post_answer. */
        gw_idem_unlock(j->idem, j->client, j->key);
    }
    if (j->idem != NULL)
        idem_put();
    post_job_free(j);
}

static int
post_events(gw_req_t *req)
{
    const gw_principal_t *who = gw_req_principal(req);
    const char *key = gw_req_header(req, "Idempotency-Key");
    post_job_t *j;

    if (who == NULL || who->identity == NULL)
        return gw_reply_error(req, GW_ERR_UNAUTHORIZED, NULL,
                              "no identity bound to the caller");
    if (key != NULL && !gw_idem_key_valid(key))
        return gw_reply_error(req, GW_ERR_BAD_REQUEST, "Idempotency-Key",
                              "an Idempotency-Key is 1 to %d visible ASCII "
                              "characters", GW_IDEM_KEY_MAX);
    j = hlf_calloc(1, sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    j->req = req;
    j->id = who->identity;
    j->client = who->key_name;
    j->async = prefers_async(gw_req_header(req, "Prefer"));
    if (key != NULL && (j->key = hlf_strdup(key)) == NULL) {
        post_job_free(j);
        return HLF_ENOMEM;
    }
    return gw_req_defer(req, post_job, j, post_job_free);
}

/* ------------------------------------------------------------------ */
/* Reads                                                              */
/* ------------------------------------------------------------------ */

typedef struct read_job_s {
    gw_req_t *req;
    const gw_identity_t *id;
    int kind;             /* READ_EVENT, READ_HISTORY, READ_TX */
    const char *arg;      /* path parameter, borrowed from req */
    size_t limit;
    int has_cursor;
    size_t cursor_index;
    char cursor_tid[72];
    char txid[65];
} read_job_t;

enum { READ_EVENT, READ_HISTORY, READ_TX };

static void
read_event(read_job_t *j)
{
    hlf_bytes_t res = {0};
    hlf_error_t e;

    if (gw_ledger_evaluate(g_cfg, j->id, "GetEvent", j->arg,
                           strlen(j->arg), deadline_of(j->req), &res,
                           &e) != HLF_OK) {
        gw_reply_hlf_error(j->req, &e);
        return;
    }
    gw_reply_raw(j->req, 200, "application/json", res.data, res.len, NULL,
                 0);
    hlf_bytes_free(&res);
}

static void
read_history(read_job_t *j)
{
    hlf_bytes_t res = {0};
    hlf_error_t e;
    json_t *hist, *page, *body;
    size_t start, end, n, i;
    char next[GW_CURSOR_MAX];
    const char *next_s = NULL;

    if (gw_ledger_evaluate(g_cfg, j->id, "GetSubjectHistory", j->arg,
                           strlen(j->arg), deadline_of(j->req), &res,
                           &e) != HLF_OK) {
        gw_reply_hlf_error(j->req, &e);
        return;
    }
    hist = json_loadb((const char *)res.data, res.len, 0, NULL);
    hlf_bytes_free(&res);
    if (!json_is_array(hist)) {
        json_decref(hist);
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "the chaincode "
                       "answered GetSubjectHistory with a non-array");
        return;
    }
    n = json_array_size(hist);
    start = j->has_cursor
                ? gw_cursor_resume(hist, j->cursor_index, j->cursor_tid)
                : 0;
    end = n - start > j->limit ? start + j->limit : n;
    page = json_array();
    for (i = start; page != NULL && i < end; i++)
        if (json_array_append(page, json_array_get(hist, i)) != 0) {
            json_decref(page);
            page = NULL;
        }
    if (end > start) {
        const char *tid = json_string_value(json_object_get(
            json_array_get(hist, end - 1), "TransactionId"));

        if (tid != NULL &&
            gw_cursor_encode(end - 1, tid, next, sizeof(next)) == HLF_OK)
            next_s = next;
    } else if (j->has_cursor) {
        next_s = gw_req_query(j->req, "cursor");
    }
    body = page == NULL ? NULL
                        : json_pack("{s:s, s:o, s:s?, s:b}", "EventSubject",
                                    j->arg, "events", page, "next_cursor",
                                    next_s, "has_more", end < n);
    json_decref(hist);
    if (body == NULL) {
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
        return;
    }
    gw_reply_json(j->req, 200, body, NULL, 0);
}

static void
read_tx(read_job_t *j)
{
    int64_t deadline = deadline_of(j->req);
    int64_t wait = gw_now_ms() + GW_TX_STATUS_WAIT_MS;
    hlf_commit_result_t cr;
    hlf_error_t e;
    json_t *body;
    int rc;

    rc = gw_ledger_commit_status(g_cfg, j->id, j->txid,
                                 wait < deadline ? wait : deadline, &cr, &e);
    if (rc == HLF_ETIMEDOUT) {
        body = json_pack("{s:s, s:s}", "txid", j->txid, "status",
                         "PENDING");
    } else if (rc == HLF_OK || rc == HLF_ECOMMIT) {
        body = json_pack("{s:s, s:s, s:i, s:s, s:I}", "txid", j->txid,
                         "status", rc == HLF_OK ? "VALID" : "INVALID",
                         "validation_code", cr.validation_code,
                         "validation_code_name",
                         hlf_tx_validation_code_name(cr.validation_code),
                         "block", (json_int_t)cr.block_number);
    } else {
        gw_reply_hlf_error(j->req, &e);
        return;
    }
    if (body == NULL) {
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
        return;
    }
    gw_reply_json(j->req, 200, body, NULL, 0);
}

static void
read_job(void *arg)
{
    read_job_t *j = arg;

    if (j->kind == READ_EVENT)
        read_event(j);
    else if (j->kind == READ_HISTORY)
        read_history(j);
    else
        read_tx(j);
    hlf_free(j);
}

static int
defer_read(gw_req_t *req, read_job_t *tmpl)
{
    const gw_principal_t *who = gw_req_principal(req);
    read_job_t *j;

    if (who == NULL || who->identity == NULL)
        return gw_reply_error(req, GW_ERR_UNAUTHORIZED, NULL,
                              "no identity bound to the caller");
    j = hlf_malloc(sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    *j = *tmpl;
    j->req = req;
    j->id = who->identity;
    return gw_req_defer(req, read_job, j, hlf_free);
}

static int
get_event(gw_req_t *req)
{
    read_job_t t;

    memset(&t, 0, sizeof(t));
    t.kind = READ_EVENT;
    t.arg = gw_req_param(req, "TransactionId");
    return defer_read(req, &t);
}

static int
get_history(gw_req_t *req)
{
    const char *limit = gw_req_query(req, "limit");
    const char *cursor = gw_req_query(req, "cursor");
    read_job_t t;

    memset(&t, 0, sizeof(t));
    t.kind = READ_HISTORY;
    t.arg = gw_req_param(req, "EventSubject");
    t.limit = GW_PAGE_DEFAULT;
    if (limit != NULL) {
        char *end;
        long v = strtol(limit, &end, 10);

        if (*limit == '\0' || *end != '\0' || v < 1 || v > GW_PAGE_MAX)
            return gw_reply_error(req, GW_ERR_BAD_REQUEST, "limit",
                                  "limit must be an integer from 1 to %d",
                                  GW_PAGE_MAX);
        t.limit = (size_t)v;
    }
    if (cursor != NULL) {
        if (gw_cursor_decode(cursor, &t.cursor_index, t.cursor_tid,
                             sizeof(t.cursor_tid)) != HLF_OK)
            return gw_reply_error(req, GW_ERR_BAD_REQUEST, "cursor",
                                  "cursor is not one this gateway "
                                  "returned as next_cursor");
        t.has_cursor = 1;
    }
    return defer_read(req, &t);
}

static int
get_tx(gw_req_t *req)
{
    const char *txid = gw_req_param(req, "txid");
    read_job_t t;
    size_t i;

    memset(&t, 0, sizeof(t));
    t.kind = READ_TX;
    if (txid == NULL || strlen(txid) != 64)
        goto bad;
    for (i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)txid[i]))
            goto bad;
        t.txid[i] = (char)tolower((unsigned char)txid[i]);
    }
    t.txid[64] = '\0';
    return defer_read(req, &t);
bad:
    return gw_reply_error(req, GW_ERR_BAD_REQUEST, "txid", "a Fabric "
                          "transaction id is 64 hexadecimal digits");
}

/* ------------------------------------------------------------------ */
/* Module                                                             */
/* ------------------------------------------------------------------ */

static const double latency_buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                         1,    2,     5,    10,  30};

static int
events_init(const gw_config_t *cfg, hlf_error_t *err)
{
    static const gw_route_def_t routes[] = {
        {"POST", "/v1/events", post_events, GW_ROUTE_AUTH | GW_ROUTE_JSON},
        {"GET", "/v1/events/{TransactionId}", get_event, GW_ROUTE_AUTH},
        {"GET", "/v1/subjects/{EventSubject}/events", get_history,
         GW_ROUTE_AUTH},
        {"GET", "/v1/transactions/{txid}", get_tx, GW_ROUTE_AUTH},
    };
    int rc;

    g_cfg = cfg;
    rc = gw_http_routes(routes, sizeof(routes) / sizeof(routes[0]), err);
    if (rc != HLF_OK)
        return rc;
    m_submits = gw_metric_register(GW_METRIC_COUNTER, "ledger_submits_total",
                                   "POST /v1/events by outcome", "outcome",
                                   NULL, 0);
    m_submit_s = gw_metric_register(
        GW_METRIC_HISTOGRAM, "ledger_submit_duration_seconds",
        "Endorsement plus hand-over to the orderer", NULL, latency_buckets,
        sizeof(latency_buckets) / sizeof(latency_buckets[0]));
    m_commit_s = gw_metric_register(
        GW_METRIC_HISTOGRAM, "ledger_commit_duration_seconds",
        "Orderer acceptance to commit status", NULL, latency_buckets,
        sizeof(latency_buckets) / sizeof(latency_buckets[0]));
    if (m_submits == NULL || m_submit_s == NULL || m_commit_s == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "metrics: out of memory");
    return HLF_OK;
}

static int
events_start(const gw_config_t *cfg, hlf_error_t *err)
{
    size_t n = strlen(cfg->state_dir) + sizeof(GW_IDEM_FILE) + 2;
    char *path = hlf_malloc(n);
    gw_idem_t *st;
    int rc;

    if (path == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    snprintf(path, n, "%s/%s", cfg->state_dir, GW_IDEM_FILE);
    rc = gw_idem_open(path, NULL, &st, err);
    hlf_free(path);
    if (rc != HLF_OK)
        return rc;
    pthread_mutex_lock(&idem_lock);
    g_idem = st;
    pthread_mutex_unlock(&idem_lock);
    return HLF_OK;
}

static void
events_stop(void)
{
    struct timespec until;
    gw_idem_t *st;
    int busy;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5 + (g_cfg != NULL ? g_cfg->request_timeout_ms / 1000
                                       : 0);
    pthread_mutex_lock(&idem_lock);
    st = g_idem;
    g_idem = NULL;
    while (idem_users > 0 &&
           pthread_cond_timedwait(&idem_idle, &idem_lock, &until) == 0)
        ;
    busy = idem_users;
    pthread_mutex_unlock(&idem_lock);
    if (busy > 0)
        hlf_log(HLF_LOG_WARN, "ledger", "%d request(s) still use the "
                "idempotency store; leaving it open", busy);
    else
        gw_idem_close(st);
}

const gw_module_t gw_module_events = {
    "events", events_init, events_start, events_stop,
};
