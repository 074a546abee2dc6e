/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Health for GET /healthz: named components (peer connectivity, follower
 * lag, ...) each report ok, degraded or down with a one-line detail. The
 * gateway is ready (200) while no component is down and it is not
 * draining; otherwise /healthz answers 503, so a load balancer stops
 * sending traffic before requests would fail.
 */
#include "gw.h"

#include "hlf/mem.h"

#include <pthread.h>
#include <string.h>

#define MAX_COMPONENTS 32

typedef struct component_s {
    char *name;
    gw_health_fn fn;
    void *ud;
} component_t;

/* Registered on the main thread before the daemon starts; read-only
 * afterwards, so checks read it without a lock. */
static component_t components[MAX_COMPONENTS];
static size_t ncomponents;

const char *
gw_health_name(gw_health_t h)
{
    switch (h) {
    case GW_HEALTH_OK:
        return "ok";
    case GW_HEALTH_DEGRADED:
        return "degraded";
    default:
        return "down";
    }
}

int
gw_health_register(const char *name, gw_health_fn fn, void *ud)
{
    size_t i;

    if (name == NULL || *name == '\0' || fn == NULL)
        return HLF_EINVAL;
    for (i = 0; i < ncomponents; i++)
        if (strcmp(components[i].name, name) == 0)
            return HLF_EEXIST;
    if (ncomponents == MAX_COMPONENTS)
        return HLF_ETOOBIG;
    components[ncomponents].name = hlf_strdup(name);
    if (components[ncomponents].name == NULL)
        return HLF_ENOMEM;
    components[ncomponents].fn = fn;
    components[ncomponents].ud = ud;
    ncomponents++;
    return HLF_OK;
}

void
gw_health_reset(void)
{
    size_t i;

    for (i = 0; i < ncomponents; i++)
        hlf_free(components[i].name);
    memset(components, 0, sizeof(components));
    ncomponents = 0;
}

gw_health_t
gw_health_run(json_t **body)
{
    gw_health_t worst = GW_HEALTH_OK;
    json_t *comps = json_object();
    json_t *root = json_object();
    int draining = gw_shutdown_requested();
    size_t i;

    for (i = 0; i < ncomponents; i++) {
        char detail[512] = "";
        gw_health_t h = components[i].fn(components[i].ud, detail,
                                         sizeof(detail));
        json_t *c = json_object();

        detail[sizeof(detail) - 1] = '\0';
        if (h > worst)
            worst = h;
        json_object_set_new(c, "status", json_string(gw_health_name(h)));
        if (detail[0] != '\0')
            json_object_set_new(c, "detail", json_string(detail));
        json_object_set_new(comps, components[i].name, c);
    }
    if (draining)
        worst = GW_HEALTH_DOWN;
    json_object_set_new(root, "status", json_string(
        draining ? "draining" : gw_health_name(worst)));
    json_object_set_new(root, "live", json_true());
    json_object_set_new(root, "ready", json_boolean(worst != GW_HEALTH_DOWN));
    json_object_set_new(root, "components", comps);
    if (body != NULL)
        *body = root;
    else
        json_decref(root);
    return worst;
}

/* ------------------------------------------------------------------ */
/* The core "peers" component                                         */
/* ------------------------------------------------------------------ */

/*
 * Probe every peer (hlf_conn_wait_ready also starts a connection attempt
 * if the channel is idle). An identity without any reachable peer cannot
 * serve requests: down. Some peer unreachable but every identity has one:
 * degraded (failover in use).
 */
static gw_health_t
peers_check(void *ud, char *detail, size_t n)
{
    const gw_config_t *cfg = ud;
    int ready[64];
    size_t i, j, nready = 0, np = cfg->npeers < 64 ? cfg->npeers : 64;
    size_t used = 0;
    gw_health_t h = GW_HEALTH_OK;

    for (i = 0; i < np; i++) {
        hlf_error_t err;

        ready[i] = cfg->peers[i].conn != NULL &&
                   hlf_conn_wait_ready(cfg->peers[i].conn,
                                       cfg->peer_ready_timeout_ms,
                                       &err) == HLF_OK;
        nready += (size_t)ready[i];
    }
    used = (size_t)snprintf(detail, n, "%zu/%zu peers ready", nready, np);
    for (i = 0; i < np && used < n; i++) {
        if (!ready[i]) {
            int w = snprintf(detail + used, n - used, "; %s (%s) unreachable",
                             cfg->peers[i].address, cfg->peers[i].org_msp);

            used += w > 0 ? (size_t)w : 0;
            h = GW_HEALTH_DEGRADED;
        }
    }
    for (i = 0; i < cfg->nidentities; i++) {
        const gw_identity_t *id = &cfg->identities[i];
        int any = 0;

        for (j = 0; j < id->nupstreams; j++) {
            size_t k = (size_t)(id->upstreams[j].peer - cfg->peers);

            if (k < np && ready[k])
                any = 1;
        }
        if (!any)
            h = GW_HEALTH_DOWN;
    }
    if (np == 0)
        h = GW_HEALTH_DOWN;
    return h;
}

int
gw_health_register_peers(const gw_config_t *cfg)
{
    return gw_health_register("peers", peers_check, (void *)cfg);
}
