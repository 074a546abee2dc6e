/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Referral playback over REST (RCP-005): GET /v1/referrals/{EventSubject}
 * answers the chaincode's GetReferral tree unchanged, a referral with its
 * events in chronological order and its sub-referrals (recursively) in
 * the order they were split off; see docs/event-model.md "Referrals".
 * Errors are the ledger routes' (gw_reply_hlf_error): the chaincode's
 * 400/404 pass through with code and field, unreachable peers are 503.
 *
 * THREAD SAFETY: the handler only defers (gw_ledger_defer); the Fabric
 * call runs in a pool job. g_cfg is set once at init on the main thread.
 */
#include "gw.h"
#include "ledger.h"

static const gw_config_t *g_cfg;

static int
get_referral(gw_req_t *req)
{
    /* The router only matches non-empty segments. */
    return gw_ledger_defer(req, g_cfg, "GetReferral",
                           gw_req_param(req, "EventSubject"), 0, NULL);
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
