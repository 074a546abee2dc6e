/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Referral tracking (RCP-005, reso-model.md §4.5): a referral and its
 * sub-referrals from creation through split, compensation, acceptance and
 * close, recorded as ordinary events under a profile that has the RCP-005
 * values, and played back as one tree by GetReferral.
 *
 * How a sub-referral names its parent (docs/event-model.md "Referrals"):
 * every event whose SubjectType is "Subreferral" may carry
 * Context.ParentReferral = the parent's EventSubject, and the first event
 * of a sub-referral must. RecordEvent calls evl_referral_on_record, which
 * checks the link and, on a sub-referral's first event, writes it:
 *
 *   "refp" [child]                  -> parent   (one parent per child)
 *   "refc" [parent, ts, tid, child] -> child    (children in link order)
 *   "refn" [subject]                -> SubjectType of its first event
 *
 * refn marks every referral or sub-referral subject so that a link can
 * demand an existing parent with one point read instead of a range query
 * (a range read in a transaction makes it fail on any concurrent event of
 * the parent: Fabric re-runs ranges at commit). It is written blind on
 * every referral event, which concurrent transactions may do without
 * conflicting.
 *
 * Link rules, checked in this order after RecordEvent's own checks:
 * ParentReferral on an event that is not a sub-referral's -> INVALID_VALUE;
 * not a valid EventSubject -> INVALID_IDENTIFIER; equal to the event's
 * own subject -> INVALID_VALUE; a first sub-referral event without it ->
 * MISSING_FIELD; the parent is no referral on the ledger -> INVALID_VALUE;
 * the child already has another parent -> INVALID_VALUE; the child is an
 * ancestor of the parent (a cycle) -> INVALID_VALUE. The field is always
 * "Context.ParentReferral".
 *
 * THREAD SAFETY: like every contract function: state only in the stub.
 */
#include "evl_contract.h"

#include <stdlib.h>
#include <string.h>

#define KEY_PARENT "refp"
#define KEY_CHILD "refc"
#define KEY_NODE "refn"
#define FIELD "Context.ParentReferral"
#define ST_REFERRAL "Referral"
#define ST_SUBREFERRAL "Subreferral"

/* Bounds of one playback: the ledger keeps any tree, a read shows this. */
#define MAX_DEPTH 16
#define MAX_NODES 512

/* The value of key (NUL-terminated copy, free()) or NULL when unset. */
static int
read_key(hlf_stub_t *stub, const char *type, const char *const *attrs,
         size_t n, char **out)
{
    const char *key = NULL;
    const uint8_t *val = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = hlf_stub_create_composite_key(stub, type, attrs, n, &key);
    if (rc == HLF_OK)
        rc = hlf_stub_get_state(stub, key, &val, &len);
    if (rc != HLF_OK || val == NULL || len == 0)
        return rc;
    *out = malloc(len + 1);
    if (*out == NULL)
        return HLF_ENOMEM;
    memcpy(*out, val, len);
    (*out)[len] = '\0';
    return HLF_OK;
}

static int
write_key(hlf_stub_t *stub, const char *type, const char *const *attrs,
          size_t n, const char *value)
{
    const char *key = NULL;
    int rc;

    rc = hlf_stub_create_composite_key(stub, type, attrs, n, &key);
    if (rc == HLF_OK)
        rc = hlf_stub_put_state(stub, key, value, strlen(value));
    return rc;
}

/*
 * 1 if child is parent or one of its ancestors (linking child under
 * parent would close a cycle). Depth-bounded like playback.
 */
static int
is_ancestor(hlf_stub_t *stub, const char *child, const char *parent,
            int *rc)
{
    char *cur = NULL, *up = NULL;
    int depth, found = 0;

    *rc = HLF_OK;
    cur = strdup(parent);
    if (cur == NULL) {
        *rc = HLF_ENOMEM;
        return 0;
    }
    for (depth = 0; depth <= MAX_DEPTH && cur != NULL; depth++) {
        const char *attrs[1] = {cur};

        if (strcmp(cur, child) == 0) {
            found = 1;
            break;
        }
        *rc = read_key(stub, KEY_PARENT, attrs, 1, &up);
        if (*rc != HLF_OK)
            break;
        free(cur);
        cur = up;
        up = NULL;
    }
    free(cur);
    return found;
}

int
evl_referral_on_record(hlf_stub_t *stub, const json_t *input,
                       const char *ts, const char *tid, evl_reject_t *rej)
{
    const char *subject, *stype, *parent = NULL;
    const json_t *ctx, *pv;
    char *linked = NULL, *node = NULL;
    const char *attrs[4];
    int rc, is_sub, is_ref;

    subject = json_string_value(json_object_get(input, "EventSubject"));
    stype = json_string_value(json_object_get(input, "SubjectType"));
    if (subject == NULL || stype == NULL)
        return HLF_OK; /* RecordEvent's validation guarantees both. */
    is_sub = strcmp(stype, ST_SUBREFERRAL) == 0;
    is_ref = is_sub || strcmp(stype, ST_REFERRAL) == 0;
    ctx = json_object_get(input, "Context");
    pv = json_is_object(ctx) ? json_object_get(ctx, "ParentReferral")
                             : NULL;
    if (pv != NULL) {
        const evl_field_t *f = evl_field_find("EventSubject");
        size_t plen = json_string_length(pv);

        if (!is_sub)
            return evl_reject(rej, EVL_INVALID_VALUE, FIELD, (size_t)-1,
                              "only events with SubjectType '%s' name a "
                              "parent referral, this one has '%s'",
                              ST_SUBREFERRAL, stype);
        parent = json_string_value(pv);
        if (parent == NULL || plen == 0 || plen > EVL_MAX_VALUE_LEN)
            return evl_reject(rej, EVL_INVALID_VALUE, FIELD, (size_t)-1,
                              "ParentReferral must be the parent's "
                              "EventSubject (1 to %d bytes of text)",
                              EVL_MAX_VALUE_LEN);
        if (evl_check_identifier(f, parent, plen, rej) != HLF_OK) {
            snprintf(rej->field, sizeof(rej->field), "%s", FIELD);
            return HLF_EINVAL;
        }
        if (strcmp(parent, subject) == 0)
            return evl_reject(rej, EVL_INVALID_VALUE, FIELD, (size_t)-1,
                              "a referral cannot be its own parent");
    }
    if (!is_ref)
        return HLF_OK;
    attrs[0] = subject;
    if (is_sub) {
        rc = read_key(stub, KEY_PARENT, attrs, 1, &linked);
        if (rc != HLF_OK)
            goto internal;
        if (linked == NULL && parent == NULL)
            return evl_reject(rej, EVL_MISSING_FIELD, FIELD, (size_t)-1,
                              "the first event of sub-referral must name "
                              "its parent referral in "
                              "Context.ParentReferral");
        if (linked != NULL && parent != NULL && strcmp(linked, parent)) {
            char shown[EVL_ECHO_SIZE];

            evl_echo(linked, strlen(linked), shown, sizeof(shown));
            free(linked);
            return evl_reject(rej, EVL_INVALID_VALUE, FIELD, (size_t)-1,
                              "this sub-referral already belongs to "
                              "referral '%s'", shown);
        }
    }
    if (is_sub && linked == NULL) {
        const char *pattrs[1] = {parent};
        int cycle;

        rc = read_key(stub, KEY_NODE, pattrs, 1, &node);
        if (rc != HLF_OK)
            goto internal;
        if (node == NULL)
            return evl_reject(rej, EVL_INVALID_VALUE, FIELD, (size_t)-1,
                              "no referral or sub-referral with that "
                              "EventSubject is recorded");
        free(node);
        cycle = is_ancestor(stub, subject, parent, &rc);
        if (rc != HLF_OK)
            goto internal;
        if (cycle)
            return evl_reject(rej, EVL_INVALID_VALUE, FIELD, (size_t)-1,
                              "the parent is a sub-referral of this one; "
                              "the link would close a cycle");
        rc = write_key(stub, KEY_PARENT, attrs, 1, parent);
        if (rc == HLF_OK) {
            const char *cattrs[4] = {parent, ts, tid, subject};

            rc = write_key(stub, KEY_CHILD, cattrs, 4, subject);
        }
        if (rc != HLF_OK)
            goto internal;
    }
    free(linked);
    rc = write_key(stub, KEY_NODE, attrs, 1, stype);
    if (rc != HLF_OK)
        goto internal_nofree;
    return HLF_OK;
internal:
    free(linked);
internal_nofree:
    return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                      "cannot read or write the referral index: %s",
                      hlf_err_name(rc));
}

/* ------------------------------------------------------------------ */
/* GetReferral                                                        */
/* ------------------------------------------------------------------ */

/* Events of subject in chronological order (the subject index). */
static int
history(hlf_stub_t *stub, const char *subject, json_t *events)
{
    const char *attrs[1] = {subject};
    hlf_iter_t *it = NULL;
    hlf_kv_t kv;
    int rc;

    rc = hlf_stub_get_state_by_partial_composite_key(stub, EVL_KEY_SUBJECT,
                                                     attrs, 1, &it);
    if (rc != HLF_OK)
        return rc;
    while ((rc = hlf_iter_next(it, &kv)) > 0) {
        json_t *ev;

        if (kv.value_len == 0)
            continue;
        ev = json_loadb((const char *)kv.value, kv.value_len, 0, NULL);
        if (ev == NULL || json_array_append_new(events, ev) != 0) {
            rc = HLF_EPROTO;
            break;
        }
    }
    hlf_iter_close(it);
    return rc < 0 ? rc : HLF_OK;
}

/* Children of parent in link order (new strings appended to kids). */
static int
children(hlf_stub_t *stub, const char *parent, json_t *kids)
{
    const char *attrs[1] = {parent};
    hlf_iter_t *it = NULL;
    hlf_kv_t kv;
    int rc;

    rc = hlf_stub_get_state_by_partial_composite_key(stub, KEY_CHILD, attrs,
                                                     1, &it);
    if (rc != HLF_OK)
        return rc;
    while ((rc = hlf_iter_next(it, &kv)) > 0) {
        json_t *s;

        if (kv.value_len == 0)
            continue;
        s = json_stringn((const char *)kv.value, kv.value_len);
        if (s == NULL || json_array_append_new(kids, s) != 0) {
            rc = HLF_EPROTO;
            break;
        }
    }
    hlf_iter_close(it);
    return rc < 0 ? rc : HLF_OK;
}

/* One node and, depth first, its sub-referrals. */
static int
build(hlf_stub_t *stub, const char *subject, int depth, size_t *nodes,
      json_t **out)
{
    json_t *node, *events, *subs, *kids;
    size_t i;
    int rc;

    *out = NULL;
    if (depth > MAX_DEPTH || ++*nodes > MAX_NODES)
        return HLF_ETOOBIG;
    node = json_object();
    events = json_array();
    subs = json_array();
    kids = json_array();
    if (node == NULL || events == NULL || subs == NULL || kids == NULL) {
        rc = HLF_ENOMEM;
        goto fail;
    }
    rc = history(stub, subject, events);
    if (rc == HLF_OK)
        rc = children(stub, subject, kids);
    for (i = 0; rc == HLF_OK && i < json_array_size(kids); i++) {
        json_t *child = NULL;

        rc = build(stub, json_string_value(json_array_get(kids, i)),
                   depth + 1, nodes, &child);
        if (rc == HLF_OK && json_array_append_new(subs, child) != 0)
            rc = HLF_ENOMEM;
    }
    if (rc != HLF_OK)
        goto fail;
    /* set_new takes each value even when it fails. */
    rc = json_object_set_new(node, "EventSubject", json_string(subject));
    rc |= json_object_set_new(node, "Events", events);
    rc |= json_object_set_new(node, "Subreferrals", subs);
    events = subs = NULL;
    if (rc != 0) {
        rc = HLF_ENOMEM;
        goto fail;
    }
    json_decref(kids);
    *out = node;
    return HLF_OK;
fail:
    json_decref(node);
    json_decref(events);
    json_decref(subs);
    json_decref(kids);
    return rc;
}

hlf_response_t
evl_tx_get_referral(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    const evl_field_t *f = evl_field_find("EventSubject");
    char subject[EVL_MAX_VALUE_LEN + 1], *body = NULL, *node = NULL;
    const char *attrs[1] = {subject};
    hlf_response_t resp;
    json_t *tree = NULL;
    size_t nodes = 0;
    evl_reject_t rej;
    int rc;

    if (len == 0 || len > EVL_MAX_VALUE_LEN ||
        memchr(arg, '\0', len) != NULL ||
        !evl_utf8_valid((const char *)arg, len)) {
        evl_reject(&rej, EVL_INVALID_VALUE, "EventSubject", (size_t)-1,
                   "EventSubject must be 1 to %d bytes of UTF-8 text "
                   "without NUL characters", EVL_MAX_VALUE_LEN);
        return evl_respond_reject(stub, &rej);
    }
    if (evl_check_identifier(f, (const char *)arg, len, &rej) != HLF_OK)
        return evl_respond_reject(stub, &rej);
    memcpy(subject, arg, len);
    subject[len] = '\0';
    rc = read_key(stub, KEY_NODE, attrs, 1, &node);
    if (rc != HLF_OK)
        return evl_respond_internal(stub, rc, "cannot read the referral");
    if (node == NULL) {
        char shown[EVL_ECHO_SIZE];

        evl_echo(subject, len, shown, sizeof(shown));
        evl_reject(&rej, EVL_EVENT_NOT_FOUND, "EventSubject", (size_t)-1,
                   "no referral or sub-referral '%s' is recorded", shown);
        return evl_respond_reject(stub, &rej);
    }
    free(node);
    rc = build(stub, subject, 0, &nodes, &tree);
    if (rc == HLF_ETOOBIG) {
        evl_reject(&rej, EVL_INVALID_ARGUMENTS, "EventSubject", (size_t)-1,
                   "the referral tree is deeper than %d or larger than %d "
                   "nodes; read its sub-referrals one by one", MAX_DEPTH,
                   MAX_NODES);
        return evl_respond_reject(stub, &rej);
    }
    if (rc != HLF_OK)
        return evl_respond_internal(stub, rc, "cannot read the referral");
    body = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(tree);
    if (body == NULL)
        return evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the referral");
    resp = evl_respond_ok(stub, body, strlen(body));
    free(body);
    return resp;
}
