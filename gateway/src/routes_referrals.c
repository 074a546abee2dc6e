/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Referral playback over REST (RCP-005): GET /v1/referrals/{EventSubject}
 * answers the chaincode's GetReferral tree unchanged, a referral with its
 * events in chronological order and its sub-referrals (recursively) in
 * the order they were split off; see docs/event-model.md "Referrals".
 * Errors are the ledger routes' (gw_reply_hlf_error): the chaincode's
 * 400/404 pass through with code and field, unreachable peers are 503.
 *
 * THREAD SAFETY: the handler only validates and defers; the Fabric call
 * runs in a pool job. g_cfg is set once at init on the main thread.
 */
#include "gw.h"
#include "ledger.h"

#include <string.h>

#include "hlf/mem.h"

static const gw_config_t *g_cfg;

typedef struct ref_job_s {
    gw_req_t *req;
    const gw_identity_t *id;
    const char *subject; /* borrowed from req */
} ref_job_t;

static void
ref_job(void *arg)
{
    ref_job_t *j = arg;
    int64_t deadline = gw_now_ms() + gw_req_remaining_ms(j->req) -
                       GW_LEDGER_REPLY_MARGIN_MS;
    hlf_bytes_t res = {0};
    hlf_error_t e;

    if (gw_ledger_evaluate(g_cfg, j->id, "GetReferral", j->subject,
                           strlen(j->subject), deadline, &res,
                           &e) != HLF_OK) {
        gw_reply_hlf_error(j->req, &e);
    } else {
        gw_reply_raw(j->req, 200, "application/json", res.data, res.len,
                     NULL, 0);
        hlf_bytes_free(&res);
    }
    hlf_free(j);
}

static int
get_referral(gw_req_t *req)
{
    const gw_principal_t *who = gw_req_principal(req);
    ref_job_t *j;

    if (who == NULL || who->identity == NULL)
        return gw_reply_error(req, GW_ERR_UNAUTHORIZED, NULL,
                              "no identity bound to the caller");
    j = hlf_calloc(1, sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    j->req = req;
    j->id = who->identity;
    /* The router only matches non-empty segments. */
    j->subject = gw_req_param(req, "EventSubject");
    return gw_req_defer(req, ref_job, j, hlf_free);
}

static int
referrals_init(const gw_config_t *cfg, hlf_error_t *err)
{
    int rc;

    g_cfg = cfg;
    rc = gw_http_route("GET", "/v1/referrals/{EventSubject}", get_referral,
                       GW_ROUTE_AUTH);
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "referrals route");
    return HLF_OK;
}

const gw_module_t gw_module_referrals = {
    "referrals",
    referrals_init,
    NULL,
    NULL,
};
