/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /v1/EntityEvent: the RESO EntityEvent pull feed (RCP-27,
 * reso-model.md §8) over the committed ledger events:
 *
 *   GET /v1/EntityEvent?$filter=EntityEventSequence gt 100&$top=2
 *   {"@reso.context":"urn:reso:metadata:2.0:resource:entityevent",
 *    "value":[{"EntityEventSequence":196608,"ResourceName":"LedgerEvent",
 *              "ResourceRecordKey":"<TransactionId>",
 *              "ResourceRecordUrl":"http://host/v1/events/<TransactionId>"},
 *             ...],
 *    "@odata.nextLink":"http://host/v1/EntityEvent?$filter=..."}
 *
 * EntityEventSequence is the event's sequence, (block << 16) | tx_index,
 * so it is immutable and only grows; a page is "the first $top events
 * after N", and the next page starts after the last sequence of this one.
 * That keeps paging exact while new events arrive: they can only appear
 * after everything already paged. @odata.nextLink is present when more
 * events existed when the page was made.
 *
 * The page is read through a temporary hub subscriber (GW_HUB_SYNC |
 * GW_HUB_SPILL) on a worker: the ring for recent events, a bounded
 * ledger replay for older ones. Only `EntityEventSequence gt|ge N` is
 * supported as $filter; anything else is a 400 naming the parameter.
 */
#include "hub.h"

#include "hlf/log.h"
#include "hlf/mem.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define EE_CONTEXT "urn:reso:metadata:2.0:resource:entityevent"
#define EE_TOP_DEFAULT 100
#define EE_TOP_MAX 1000

/* ------------------------------------------------------------------ */
/* Query parsing                                                      */
/* ------------------------------------------------------------------ */

/*
 * "EntityEventSequence gt N" / "... ge N" (spaces around the operator,
 * any amount, leading/trailing spaces allowed) -> the sequence events
 * must follow: gt N -> N; ge N -> N - 1 (ge 0 -> 0: sequence 0 would be
 * transaction 0 of the genesis block, which is a config transaction, so
 * no event ever has it). Returns 0 or -1.
 */
static int
parse_filter(const char *f, uint64_t *after)
{
    static const char field[] = "EntityEventSequence";
    const char *p = f, *num;
    uint64_t n;
    int ge;

    while (*p == ' ')
        p++;
    if (strncmp(p, field, sizeof(field) - 1) != 0)
        return -1;
    p += sizeof(field) - 1;
    if (*p != ' ')
        return -1;
    while (*p == ' ')
        p++;
    if (strncmp(p, "gt ", 3) == 0)
        ge = 0;
    else if (strncmp(p, "ge ", 3) == 0)
        ge = 1;
    else
        return -1;
    p += 2;
    while (*p == ' ')
        p++;
    num = p;
    while (*p >= '0' && *p <= '9')
        p++;
    if (gw_seq_parse(num, (size_t)(p - num), &n) != 0)
        return -1;
    while (*p == ' ')
        p++;
    if (*p != '\0')
        return -1;
    *after = ge && n > 0 ? n - 1 : n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The page                                                           */
/* ------------------------------------------------------------------ */

typedef struct ee_job_s {
    gw_req_t *req;
    uint64_t after;
    size_t top;
    char base[320]; /* gw_public_base: "http://host:port" */
} ee_job_t;


static json_t *
entity_event(const ee_job_t *j, const gw_event_t *ev)
{
    char url[512];

    snprintf(url, sizeof(url), "%s/v1/events/%s", j->base,
             ev->transaction_id);
    return json_pack("{s:I, s:s, s:s, s:s}", "EntityEventSequence",
                     (json_int_t)ev->sequence, "ResourceName", "LedgerEvent",
                     "ResourceRecordKey", ev->transaction_id,
                     "ResourceRecordUrl", url);
}

static void
ee_job(void *arg)
{
    ee_job_t *j = arg;
    gw_hub_t *hub = gw_stream_hub();
    gw_hub_sub_opts_t o;
    gw_hub_sub_t *sub = NULL;
    json_t *body = NULL, *value = NULL;
    gw_event_t *ev;
    uint64_t last = 0;
    size_t n = 0;
    hlf_error_t e;
    int rc, more = 0;

    if (hub == NULL) {
        gw_reply_error(j->req, GW_ERR_SERVICE_UNAVAILABLE, NULL,
                       "the event stream is not running");
        goto out;
    }
    memset(&o, 0, sizeof(o));
    o.has_after = 1;
    o.after = j->after;
    o.queue_max = j->top + 1;
    o.flags = GW_HUB_SYNC | GW_HUB_SPILL;
    o.name = "entityevent";
    hlf_error_clear(&e);
    rc = gw_hub_subscribe(hub, &o, &sub, &e);
    value = json_array();
    if (rc != HLF_OK || value == NULL)
        goto fail;
    for (;;) {
        if (gw_req_abandoned(j->req)) {
            rc = hlf_error_set(&e, HLF_ETIMEDOUT, "request abandoned");
            goto fail;
        }
        rc = gw_hub_sub_next(sub, &ev, &e);
        if (rc == 0)
            break;
        if (rc < 0)
            goto fail;
        if (n == j->top) {
            /* One more exists: the page is full and has a next. */
            gw_event_unref(ev);
            more = 1;
            break;
        }
        rc = json_array_append_new(value, entity_event(j, ev));
        last = ev->sequence;
        gw_event_unref(ev);
        if (rc != 0) {
            rc = hlf_error_set(&e, HLF_ENOMEM, "out of memory");
            goto fail;
        }
        n++;
    }
    body = json_pack("{s:s, s:o}", "@reso.context", EE_CONTEXT, "value",
                     value);
    value = NULL;
    if (body != NULL && more) {
        char link[512];

        snprintf(link, sizeof(link), "%s/v1/EntityEvent?$filter="
                 "EntityEventSequence%%20gt%%20%" PRIu64 "&$top=%zu",
                 j->base, last, j->top);
        json_object_set_new(body, "@odata.nextLink", json_string(link));
    }
    if (body == NULL)
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
    else
        gw_reply_json(j->req, 200, body, NULL, 0);
    goto out;
fail:
    hlf_log(HLF_LOG_WARN, "entityevent", "%s: page after %" PRIu64
            " failed: %s", gw_req_id(j->req), j->after, e.text);
    if (rc == HLF_ETIMEDOUT)
        gw_reply_error(j->req, GW_ERR_TIMEOUT, NULL, "%s", e.text);
    else if (rc == HLF_ENOMEM)
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL, "out of memory");
    else
        gw_reply_error(j->req, GW_ERR_LEDGER_UNAVAILABLE, NULL,
                       "cannot read events after %" PRIu64 ": %s", j->after,
                       e.text);
out:
    json_decref(value);
    gw_hub_unsubscribe(sub);
    hlf_free(j);
}

static int
h_entityevent(gw_req_t *req)
{
    size_t i, nq = gw_req_query_count(req);
    const char *filter = NULL, *top = NULL;
    uint64_t after = 0, t = EE_TOP_DEFAULT;
    ee_job_t *j;

    for (i = 0; i < nq; i++) {
        const char *k, *v;

        gw_req_query_at(req, i, &k, &v);
        if (strcmp(k, "$filter") == 0 && filter == NULL) {
            filter = v;
        } else if (strcmp(k, "$top") == 0 && top == NULL) {
            top = v;
        } else if (strcmp(k, "$filter") == 0 || strcmp(k, "$top") == 0) {
            return gw_reply_error(req, GW_ERR_BAD_REQUEST, k, "given more "
                                  "than once");
        } else {
            return gw_reply_error(req, GW_ERR_BAD_REQUEST, k,
                                  "unsupported query option; supported: "
                                  "$filter=EntityEventSequence gt|ge N, "
                                  "$top=K");
        }
    }
    if (filter != NULL && parse_filter(filter, &after) != 0)
        return gw_reply_error(req, GW_ERR_BAD_REQUEST, "$filter",
                              "unsupported filter; supported: "
                              "'EntityEventSequence gt N' or "
                              "'EntityEventSequence ge N' with N a "
                              "non-negative integer");
    if (top != NULL && (gw_seq_parse(top, strlen(top), &t) != 0 || t == 0))
        return gw_reply_error(req, GW_ERR_BAD_REQUEST, "$top", "$top must "
                              "be a positive integer (pages hold at most "
                              "%d)", EE_TOP_MAX);
    if (t > EE_TOP_MAX)
        t = EE_TOP_MAX; /* server-driven paging: nextLink continues */
    j = hlf_calloc(1, sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    j->req = req;
    j->after = after;
    j->top = (size_t)t;
    /* public_url or the listen address, never the Host header. */
    gw_public_base(j->base, sizeof(j->base));
    return gw_req_defer(req, ee_job, j, hlf_free);
}

int
gw_entityevent_init(const gw_config_t *cfg)
{
    (void)cfg;
    return gw_http_route("GET", "/v1/EntityEvent", h_entityevent,
                         GW_ROUTE_AUTH);
}
