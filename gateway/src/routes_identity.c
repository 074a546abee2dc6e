/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The identity routes of reso-gateway: the Registry of Recorders and the
 * did:reso DID registry of the chaincode (docs/event-model.md "Recorder
 * registry", "DID registry"):
 *
 *   POST   /v1/recorders                  RegisterRecorder (201)
 *   GET    /v1/recorders/{id}             GetRecorder
 *   DELETE /v1/recorders/{id}             RevokeRecorder
 *   POST   /v1/dids                       CreateDID (201, resolution)
 *   GET    /v1/dids/{did}                 the DID document alone, as
 *                                         application/did+json
 *   GET    /v1/dids/{did}/resolution      document + metadata (ResolveDID)
 *   PUT    /v1/dids/{did}                 UpdateDID (body id = path DID)
 *   DELETE /v1/dids/{did}                 DeactivateDID
 *
 * Changes need an org admin: the API key must be bound to an admin
 * identity (e.g. "Brokerage-admin"); the chaincode answers NOT_ADMIN
 * (403) otherwise, and every chaincode refusal passes through with its
 * status, code and field (gw_reply_hlf_error). A change is submitted and
 * answered once committed; when the commit is not seen in time the
 * answer is 202 {"txid","status":"PENDING"} with Location:
 * /v1/transactions/{txid}, as POST /v1/events does.
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

/* The DID document out of a resolution result, as application/did+json. */
static void
reply_document(gw_req_t *req, const char *data, size_t len)
{
    json_t *res = json_loadb(data, len, 0, NULL);
    json_t *doc = json_object_get(res, "didDocument");
    char *text = json_is_object(doc) ? json_dumps(doc, JSON_COMPACT) : NULL;

    if (text == NULL)
        gw_reply_error(req, GW_ERR_INTERNAL, NULL,
                       "the chaincode answered ResolveDID without a "
                       "didDocument");
    else
        gw_reply_raw(req, 200, "application/did+json", text, strlen(text),
                     NULL, 0);
    free(text); /* json_dumps memory */
    json_decref(res);
}

/* The JSON body as compact text (new), or NULL after replying 500. */
static char *
body_text(gw_req_t *req, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);

    if (text == NULL)
        gw_reply_error(req, GW_ERR_INTERNAL, NULL, "out of memory");
    return text;
}

static int
post_recorder(gw_req_t *req)
{
    char *text = body_text(req, gw_req_json(req));
    int rc;

    if (text == NULL)
        return HLF_OK;
    rc = gw_ledger_defer(req, g_cfg, "RegisterRecorder", text, 201, NULL);
    free(text); /* json_dumps memory */
    return rc;
}

static int
get_recorder(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "GetRecorder",
                           gw_req_param(req, "id"), 0, NULL);
}

static int
delete_recorder(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "RevokeRecorder",
                           gw_req_param(req, "id"), 200, NULL);
}

static int
post_did(gw_req_t *req)
{
    char *text = body_text(req, gw_req_json(req));
    int rc;

    if (text == NULL)
        return HLF_OK;
    rc = gw_ledger_defer(req, g_cfg, "CreateDID", text, 201, NULL);
    free(text); /* json_dumps memory */
    return rc;
}

static int
get_did(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "ResolveDID",
                           gw_req_param(req, "did"), 0, reply_document);
}

static int
get_did_resolution(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "ResolveDID",
                           gw_req_param(req, "did"), 0, NULL);
}

/*
 * PUT names the DID in the path; the body may omit "id" (it is filled
 * in) but may not name another DID.
 */
static int
put_did(gw_req_t *req)
{
    const char *did = gw_req_param(req, "did");
    json_t *body = gw_req_json(req), *id;
    char *text;
    int rc;

    if (!json_is_object(body))
        return gw_reply_error(req, GW_ERR_BAD_REQUEST, NULL,
                              "the body must be a DID document object");
    id = json_object_get(body, "id");
    if (id == NULL) {
        if (json_object_set_new(body, "id", json_string(did)) != 0)
            return gw_reply_error(req, GW_ERR_INTERNAL, NULL,
                                  "out of memory");
    } else if (!json_is_string(id) || strcmp(json_string_value(id), did)) {
        return gw_reply_error(req, GW_ERR_BAD_REQUEST, "id",
                              "the body's id must be the DID of the path");
    }
    text = body_text(req, body);
    if (text == NULL)
        return HLF_OK;
    rc = gw_ledger_defer(req, g_cfg, "UpdateDID", text, 200, NULL);
    free(text); /* json_dumps memory */
    return rc;
}

static int
delete_did(gw_req_t *req)
{
    return gw_ledger_defer(req, g_cfg, "DeactivateDID",
                           gw_req_param(req, "did"), 200, NULL);
}

static int
identity_init(const gw_config_t *cfg, hlf_error_t *err)
{
    static const gw_route_def_t routes[] = {
        {"POST", "/v1/recorders", post_recorder,
         GW_ROUTE_AUTH | GW_ROUTE_JSON},
        {"GET", "/v1/recorders/{id}", get_recorder, GW_ROUTE_AUTH},
        {"DELETE", "/v1/recorders/{id}", delete_recorder, GW_ROUTE_AUTH},
        {"POST", "/v1/dids", post_did, GW_ROUTE_AUTH | GW_ROUTE_JSON},
        {"GET", "/v1/dids/{did}", get_did, GW_ROUTE_AUTH},
        {"GET", "/v1/dids/{did}/resolution", get_did_resolution,
         GW_ROUTE_AUTH},
        {"PUT", "/v1/dids/{did}", put_did, GW_ROUTE_AUTH | GW_ROUTE_JSON},
        {"DELETE", "/v1/dids/{did}", delete_did, GW_ROUTE_AUTH},
    };
    int rc;

    g_cfg = cfg;
    rc = gw_http_routes(routes, sizeof(routes) / sizeof(routes[0]), err);
    if (rc != HLF_OK)
        return rc;
    return HLF_OK;
}

const gw_module_t gw_module_identity = {
    "identity", identity_init, NULL, NULL,
};
