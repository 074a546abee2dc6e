/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Fabric side of the ledger routes: evaluate, submit step by step
 * (endorse, orderer, commit status) and commit-status look-ups, each
 * bounded by the request's deadline and failing over to the identity's
 * next upstream peer while nothing has reached the orderer. Failures
 * become REST answers through the core's one table (gw_hlf_error_answer).
 *
 * Deadlines: the config's gateways (gw_upstream_t.gw) carry fixed
 * per-step timeouts, so every attempt here opens a short-lived
 * hlf_gateway_t on the same connection and identity (no network I/O, a
 * few allocations) whose timeouts end before the request's deadline.
 */
#include "hub.h"
#include "ledger.h"

#include "hlf/log.h"
#include "hlf/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Attempts                                                           */
/* ------------------------------------------------------------------ */

/* Milliseconds for an attempt on one of `left` remaining upstreams. */
static int64_t
attempt_ms(int64_t deadline_ms, size_t left)
{
    int64_t rem = deadline_ms - gw_now_ms(), share;

    if (rem <= 0)
        return 0;
    if (left <= 1)
        return rem;
    share = rem / 2;
    if (share < 1000)
        share = rem < 1000 ? rem : 1000;
    return share;
}

/* A gateway on u for id whose steps end within the given budgets. */
static int
open_gw(const gw_config_t *cfg, const gw_identity_t *id,
        const gw_upstream_t *u, int64_t endorse_ms, int64_t submit_ms,
        hlf_gateway_t **gw, hlf_contract_t **contract, hlf_error_t *err)
{
    hlf_gateway_opts_t go;
    hlf_network_t *net;
    int rc;

    memset(&go, 0, sizeof(go));
    go.conn = u->peer->conn;
    go.identity = id->id;
    go.evaluate_timeout_ms = endorse_ms > 0 ? endorse_ms : 1;
    go.endorse_timeout_ms = go.evaluate_timeout_ms;
    go.submit_timeout_ms = submit_ms > 0 ? submit_ms : 1;
    go.commit_status_timeout_ms = go.evaluate_timeout_ms;
    rc = hlf_gateway_connect(gw, &go, err);
    if (rc != HLF_OK)
        return rc;
    net = hlf_gateway_get_network(*gw, cfg->channel);
    *contract = net != NULL ? hlf_network_get_contract(net, cfg->chaincode,
                                                       NULL)
                            : NULL;
    if (*contract == NULL) {
        hlf_gateway_close(*gw);
        *gw = NULL;
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    }
    return HLF_OK;
}

/* Worth trying the next upstream after this failure? */
static int
failover(int rc, int submit)
{
    return rc == HLF_EUNAVAIL || rc == HLF_ETIMEDOUT || rc == HLF_ECLOSED ||
           rc == HLF_EGRPC || (!submit && rc == HLF_EEVALUATE) ||
           (submit && rc == HLF_EENDORSE);
}

static int
no_upstream(const gw_identity_t *id, hlf_error_t *err)
{
    return hlf_error_set(err, HLF_EUNAVAIL, "identity %s has no peers",
                         id->name);
}

static int
out_of_time(hlf_error_t *err)
{
    return hlf_error_set(err, HLF_ETIMEDOUT, "DeadlineExceeded: no time "
                         "left for another peer within the request "
                         "timeout");
}

static void
log_failover(const char *what, const gw_upstream_t *u, const hlf_error_t *e)
{
    hlf_log(HLF_LOG_WARN, "ledger", "%s via %s failed (%s), trying the "
            "next peer: %s", what, u->peer->address, hlf_err_name(e->code),
            e->text);
}

/* One read attempt on an open gateway. */
typedef int (*attempt_fn)(const gw_config_t *cfg, hlf_gateway_t *gw,
                          hlf_contract_t *c, void *ud, hlf_error_t *e);

/*
 * Run fn on the identity's upstreams in order until one succeeds or fails
 * for a reason another peer would not change. split: a non-last attempt
 * gets only a share of the time left (attempt_ms), else all of it.
 * timeout_final: HLF_ETIMEDOUT ends the loop (commit status: "not yet").
 */
static int
each_upstream(const gw_config_t *cfg, const gw_identity_t *id,
              int64_t deadline_ms, int split, int timeout_final,
              const char *what, attempt_fn fn, void *ud, hlf_error_t *err)
{
    hlf_error_t e;
    size_t i;
    int rc = no_upstream(id, &e);

    for (i = 0; i < id->nupstreams; i++) {
        const gw_upstream_t *u = &id->upstreams[i];
        int64_t ms = attempt_ms(deadline_ms, split ? id->nupstreams - i : 1);
        hlf_gateway_t *gw = NULL;
        hlf_contract_t *c;

        if (ms <= 0) {
            rc = i == 0 ? out_of_time(&e) : rc;
            break;
        }
        hlf_error_clear(&e);
        rc = open_gw(cfg, id, u, ms, ms, &gw, &c, &e);
        if (rc == HLF_OK)
            rc = fn(cfg, gw, c, ud, &e);
        hlf_gateway_close(gw);
        if (rc == HLF_OK || !failover(rc, 0) ||
            (timeout_final && rc == HLF_ETIMEDOUT))
            break;
        if (i + 1 < id->nupstreams)
            log_failover(what, u, &e);
    }
    if (err != NULL)
        *err = e;
    return rc;
}

typedef struct eval_s {
    const char *fn;
    hlf_bytes_t arg;
    hlf_bytes_t *res;
} eval_t;

static int
eval_attempt(const gw_config_t *cfg, hlf_gateway_t *gw, hlf_contract_t *c,
             void *ud, hlf_error_t *e)
{
    eval_t *ev = ud;

    (void)cfg;
    (void)gw;
    return hlf_contract_evaluate(c, ev->fn, &ev->arg, 1, ev->res, e);
}

int
gw_ledger_evaluate(const gw_config_t *cfg, const gw_identity_t *id,
                   const char *fn, const char *arg, size_t len,
                   int64_t deadline_ms, hlf_bytes_t *res, hlf_error_t *err)
{
    eval_t ev = {fn, {(uint8_t *)(uintptr_t)arg, len}, res};

    return each_upstream(cfg, id, deadline_ms, 1, 0, fn, eval_attempt, &ev,
                         err);
}

typedef struct status_s {
    const char *txid;
    hlf_commit_result_t *res;
} status_t;

static int
status_attempt(const gw_config_t *cfg, hlf_gateway_t *gw, hlf_contract_t *c,
               void *ud, hlf_error_t *e)
{
    status_t *st = ud;
    hlf_commit_t *cm = NULL;
    int rc;

    (void)c;
    rc = hlf_network_new_commit(hlf_gateway_get_network(gw, cfg->channel),
                                st->txid, &cm, e);
    if (rc == HLF_OK)
        rc = hlf_commit_status(cm, st->res, e);
    hlf_commit_free(cm);
    return rc;
}

int
gw_ledger_commit_status(const gw_config_t *cfg, const gw_identity_t *id,
                        const char *txid, int64_t deadline_ms,
                        hlf_commit_result_t *res, hlf_error_t *err)
{
    status_t st = {txid, res};

    /* A timeout means "not committed yet" far more often than a hung
     * peer, so only unreachable peers move on. */
    return each_upstream(cfg, id, deadline_ms, 0, 1, "CommitStatus",
                         status_attempt, &st, err);
}

/* Endorse on upstream i, then hand over to the orderer. */
static int
submit_on(gw_submit_t *s, const gw_upstream_t *u, int64_t endorse_ms,
          int64_t submit_ms, int *hook_failed, hlf_error_t *e)
{
    hlf_bytes_t a = {(uint8_t *)(uintptr_t)s->arg, s->arglen};
    hlf_gateway_t *gw = NULL;
    hlf_contract_t *c;
    hlf_proposal_t *p = NULL;
    hlf_transaction_t *tx = NULL;
    const uint8_t *res;
    size_t len;
    int64_t t0 = gw_now_ms();
    int rc;

    s->stage = GW_STAGE_ENDORSE;
    rc = open_gw(s->cfg, s->id, u, endorse_ms, submit_ms, &gw, &c, e);
    if (rc != HLF_OK)
        goto out;
    rc = hlf_contract_new_proposal(c, s->fn, &a, 1, NULL, &p, e);
    if (rc != HLF_OK)
        goto out;
    memcpy(s->txid, hlf_proposal_tx_id(p), 65);
    rc = hlf_proposal_endorse(p, &tx, e);
    if (rc != HLF_OK)
        goto out;
    res = hlf_transaction_result(tx, &len);
    s->result = hlf_malloc(len + 1);
    if (s->result == NULL) {
        rc = hlf_error_set(e, HLF_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(s->result, res, len);
    s->result[len] = '\0';
    s->result_len = len;
    if (s->before_submit != NULL) {
        rc = s->before_submit(s->ud, s->txid, e);
        if (rc != HLF_OK) {
            *hook_failed = 1;
            goto out;
        }
    }
    s->stage = GW_STAGE_SUBMIT;
    rc = hlf_transaction_submit(tx, NULL, e);
    if (rc == HLF_OK)
        s->stage = GW_STAGE_COMMIT;
    s->endorse_submit_s = (double)(gw_now_ms() - t0) / 1000.0;
out:
    hlf_transaction_free(tx);
    hlf_proposal_free(p);
    hlf_gateway_close(gw);
    return rc;
}

int
gw_ledger_submit(gw_submit_t *s, hlf_error_t *err)
{
    const gw_identity_t *id = s->id;
    hlf_commit_result_t cr;
    hlf_error_t e;
    size_t i;
    int64_t t0;
    int rc = no_upstream(id, &e), hook_failed = 0;

    s->stage = GW_STAGE_ENDORSE;
    s->txid[0] = '\0';
    s->result = NULL;
    s->result_len = 0;
    s->block = 0;
    s->validation_code = -1;
    s->endorse_submit_s = s->commit_s = 0;
    for (i = 0; i < id->nupstreams; i++) {
        int64_t rem = s->deadline_ms - gw_now_ms();
        /* Keep a share for the orderer hand-over. */
        int64_t sub = rem / 3 < 5000 ? rem / 3 : 5000;
        int64_t ms = attempt_ms(s->deadline_ms - sub, id->nupstreams - i);

        if (ms <= 0 || sub <= 0) {
            rc = i == 0 ? out_of_time(&e) : rc;
            break;
        }
        hlf_error_clear(&e);
        hlf_free(s->result);
        s->result = NULL;
        rc = submit_on(s, &id->upstreams[i], ms,
                       s->deadline_ms - gw_now_ms() - ms, &hook_failed,
                       &e);
        /* Only a submit that never reached the orderer may move on; the
         * next attempt is a new proposal with a new transaction id. */
        if (rc == HLF_OK || s->stage != GW_STAGE_ENDORSE ||
            !failover(rc, 1) || hook_failed)
            break;
        if (i + 1 < id->nupstreams)
            log_failover(s->fn, &id->upstreams[i], &e);
    }
    if (rc != HLF_OK || !s->wait_commit) {
        if (rc == HLF_OK)
            s->stage = GW_STAGE_DONE;
        goto out;
    }
    t0 = gw_now_ms();
    rc = gw_ledger_commit_status(s->cfg, id, s->txid, s->deadline_ms, &cr,
                                 &e);
    s->commit_s = (double)(gw_now_ms() - t0) / 1000.0;
    if (rc == HLF_OK || rc == HLF_ECOMMIT) {
        s->block = cr.block_number;
        gw_stream_note_block(cr.block_number); /* follower lag */
        s->validation_code = cr.validation_code;
        s->stage = GW_STAGE_DONE;
    }
out:
    if (err != NULL)
        *err = e;
    return rc;
}

void
gw_submit_dispose(gw_submit_t *s)
{
    hlf_free(s->result);
    s->result = NULL;
    s->result_len = 0;
}

void
gw_ledger_submit_reply(gw_req_t *req, const gw_config_t *cfg,
                       const gw_identity_t *id, const char *fn,
                       const char *arg, int64_t deadline_ms, int ok_status)
{
    char where[96];
    gw_header_t loc = {"Location", where};
    gw_submit_t s;
    hlf_error_t e;

    memset(&s, 0, sizeof(s));
    hlf_error_clear(&e);
    s.cfg = cfg;
    s.id = id;
    s.fn = fn;
    s.arg = arg;
    s.arglen = strlen(arg);
    s.deadline_ms = deadline_ms;
    s.wait_commit = 1;
    s.validation_code = -1;
    if (gw_ledger_submit(&s, &e) == HLF_OK) {
        gw_reply_raw(req, ok_status, "application/json", s.result,
                     s.result_len, NULL, 0);
    } else if (s.stage == GW_STAGE_COMMIT &&
               (e.code == HLF_ETIMEDOUT || e.code == HLF_EUNAVAIL ||
                e.code == HLF_ECOMMITSTATUS)) {
        /* In the orderer's hands: it may still commit. */
        snprintf(where, sizeof(where), "/v1/transactions/%s", s.txid);
        gw_reply_json(req, 202,
                      json_pack("{s:s,s:s}", "txid", s.txid, "status",
                                "PENDING"),
                      &loc, 1);
    } else {
        gw_reply_hlf_error(req, &e);
    }
    gw_submit_dispose(&s);
}

/* A deferred governance call (gw_ledger_defer). */
typedef struct ledger_job_s {
    gw_req_t *req;
    const gw_config_t *cfg;
    const gw_identity_t *id;
    const char *fn;
    char *arg; /* new (hlf_malloc) */
    int ok_status;
    gw_ledger_answer_fn answer;
} ledger_job_t;

static void
ledger_job_free(void *p)
{
    ledger_job_t *j = p;

    if (j != NULL)
        hlf_free(j->arg);
    hlf_free(j);
}

static void
ledger_job(void *p)
{
    ledger_job_t *j = p;
    int64_t deadline = gw_now_ms() + gw_req_remaining_ms(j->req) -
                       GW_LEDGER_REPLY_MARGIN_MS;
    hlf_bytes_t res = {0};
    hlf_error_t e;

    hlf_error_clear(&e);
    if (j->ok_status != 0)
        gw_ledger_submit_reply(j->req, j->cfg, j->id, j->fn, j->arg,
                               deadline, j->ok_status);
    else if (gw_ledger_evaluate(j->cfg, j->id, j->fn, j->arg,
                                strlen(j->arg), deadline, &res,
                                &e) != HLF_OK)
        gw_reply_hlf_error(j->req, &e);
    else if (j->answer != NULL)
        j->answer(j->req, (const char *)res.data, res.len);
    else
        gw_reply_raw(j->req, 200, "application/json", res.data, res.len,
                     NULL, 0);
    hlf_bytes_free(&res);
    ledger_job_free(j);
}

int
gw_ledger_defer(gw_req_t *req, const gw_config_t *cfg, const char *fn,
                const char *arg, int ok_status, gw_ledger_answer_fn answer)
{
    const gw_principal_t *who = gw_req_principal(req);
    ledger_job_t *j;

    if (who == NULL || who->identity == NULL)
        return gw_reply_error(req, GW_ERR_UNAUTHORIZED, NULL,
                              "no identity bound to the caller");
    j = hlf_calloc(1, sizeof(*j));
    if (j == NULL || (j->arg = hlf_strdup(arg != NULL ? arg : "")) == NULL) {
        ledger_job_free(j);
        return gw_reply_error(req, GW_ERR_INTERNAL, NULL, "out of memory");
    }
    j->req = req;
    j->cfg = cfg;
    j->id = who->identity;
    j->fn = fn;
    j->ok_status = ok_status;
    j->answer = answer;
    return gw_req_defer(req, ledger_job, j, ledger_job_free);
}
