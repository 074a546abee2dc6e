/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lookup catalog over REST (docs/event-model.md "Catalog"): the
 * chaincode's active profile, its profiles and the governance of changes.
 *
 *   GET  /v1/catalog                              GetCatalog
 *   GET  /v1/catalog/profiles                     GetProfiles
 *   POST /v1/catalog/proposals                    ProposeCatalogChange (201)
 *   GET  /v1/catalog/proposals/{id}               GetProposal
 *   POST /v1/catalog/proposals/{id}/approvals     ApproveCatalogChange
 *
 * The catalog lives on the ledger, so every route asks the chaincode (the
 * gateway holds no copy that could go stale). Proposals and approvals need
 * an org admin: the API key must be bound to an admin identity such as
 * "Brokerage-admin" (imported from network_env); the chaincode answers
 * NOT_ADMIN or NOT_MEMBER (403) otherwise. Chaincode refusals pass
 * through with status, code and field; a change is answered once
 * committed, or 202 {"txid","status":"PENDING"} with a Location when the
 * commit is not seen in time, as POST /v1/events does.
 *
 * THREAD SAFETY: handlers only check and defer; the Fabric calls run in
 * pool jobs. g_cfg is set once at init on the main thread.
 */
#include "gw.h"
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlf/mem.h"

static const gw_config_t *g_cfg;

static int
get_catalog(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "GetCatalog", NULL, 0, NULL);
}

static int
get_profiles(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "GetProfiles", NULL, 0, NULL);
}

static int
get_proposal(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "GetProposal",
                           gw_req_param(req, "id"), 0, NULL);
}

static int
post_proposal(gw_req_t *req)
{
    char *text = json_dumps(gw_req_json(req), JSON_COMPACT);
    int rc;

    if (text == NULL)
        return gw_reply_error(req, GW_ERR_INTERNAL, NULL, "out of memory");
    rc = gw_ledger_defer(req, g_cfg, "ProposeCatalogChange", text, 201,
                         NULL);
    free(text); /* json_dumps memory */
    return rc;
}

static int
post_approval(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "ApproveCatalogChange",
                           gw_req_param(req, "id"), 200, NULL);
}

static int
catalog_init(const gw_config_t *cfg, hlf_error_t *err)
{
    static const gw_route_def_t routes[] = {
        {"GET", "/v1/catalog", get_catalog, GW_ROUTE_AUTH},
        {"GET", "/v1/catalog/profiles", get_profiles, GW_ROUTE_AUTH},
        {"POST", "/v1/catalog/proposals", post_proposal,
         GW_ROUTE_AUTH | GW_ROUTE_JSON},
        {"GET", "/v1/catalog/proposals/{id}", get_proposal, GW_ROUTE_AUTH},
        {"POST", "/v1/catalog/proposals/{id}/approvals", post_approval,
         GW_ROUTE_AUTH},
    };
    int rc;

    g_cfg = cfg;
    rc = gw_http_routes(routes, sizeof(routes) / sizeof(routes[0]), err);
    if (rc != HLF_OK)
        return rc;
    return HLF_OK;
}

const gw_module_t gw_module_catalog = {
    "catalog",
    catalog_init,
    NULL,
    NULL,
};
