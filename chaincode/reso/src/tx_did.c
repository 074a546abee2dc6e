/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DID registry for did:reso:* (reso-model.md §5.4): CreateDID,
 * UpdateDID, DeactivateDID and ResolveDID. A DID is controlled by the org
 * whose admin created it; only that org's admins may update or deactivate
 * it. Resolution answers a W3C DID Core document (@context, id,
 * controller, optional alsoKnownAs, verificationMethod and service) with
 * DID-resolution metadata whose times come from transaction timestamps,
 * so every endorser writes the same bytes.
 *
 * The org is named in the document as the DID did:reso:oid:<MSP id>
 * (RESO's organisation DID form, §5.2), because a DID Core controller
 * must itself be a DID. Relative ids ("#history") are made absolute
 * ("<did>#history") so the stored document needs no base to be read.
 *
 * Stored under composite key DID~<did> as
 *   {"didDocument":{...},"didDocumentMetadata":{"created","updated",
 *    "deactivated","versionId","controllerMsp"}}
 * A deactivated DID keeps its id and controller but loses its
 * verification methods and services: nothing should be verified or
 * fetched through it any more. No chaincode event is emitted (see
 * tx_recorder.c).
 */
#include "evl_contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DID_KEY "DID"
#define DID_PREFIX "did:reso:"
#define DID_CONTEXT "https://www.w3.org/ns/did/v1"
#define ORG_DID_PREFIX "did:reso:oid:"
#define DID_MAX_INPUT 16384
#define DID_MAX_ITEMS 32
#define DID_TYPE_MAX 128
#define DID_URI_MAX 2048

static int
bad_value(evl_reject_t *rej, const char *field, const char *what)
{
    return evl_reject(rej, EVL_INVALID_VALUE, field, (size_t)-1, "%s: %s",
                      field, what);
}

/* An absolute URI: scheme ":" then 1+ bytes of visible ASCII. */
static int
uri_ok(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t i, len = json_string_length(v);

    if (s == NULL || len < 3 || len > DID_URI_MAX)
        return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (i = 1; i < len && s[i] != ':'; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
              s[i] == '.'))
            return 0;
    if (i + 1 >= len)
        return 0;
    for (; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
            return 0;
    return 1;
}

/*
 * The absolute form of a member id: "#frag" or "<did>#frag" with a
 * non-empty RFC 3986 fragment. New string, or NULL when invalid.
 */
static json_t *
absolute_id(const char *did, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t dlen = strlen(did), len = json_string_length(v);
    char buf[EVL_MAX_VALUE_LEN + DID_TYPE_MAX + 2];
    json_t *out;

    if (s == NULL || len == 0 || memchr(s, '\0', len) != NULL)
        return NULL;
    if (s[0] == '#') {
        if (dlen + len >= sizeof(buf))
            return NULL;
        memcpy(buf, did, dlen);
        memcpy(buf + dlen, s, len + 1);
    } else {
        if (len >= sizeof(buf) || len <= dlen + 1 ||
            memcmp(s, did, dlen) != 0 || s[dlen] != '#')
            return NULL;
        memcpy(buf, s, len + 1);
    }
    /* did#frag must be a DID URL with a non-empty fragment. */
    len = strlen(buf);
    if (buf[len - 1] == '#' || !evl_ident_match(EVL_ID_DIDURL, buf, len))
        return NULL;
    out = json_string(buf);
    return out;
}

/* A type: a non-empty string of at most DID_TYPE_MAX, or 1..8 of them. */
static int
type_ok(const json_t *v)
{
    size_t i;
    json_t *t;

    if (json_is_string(v))
        return json_string_length(v) > 0 &&
               json_string_length(v) <= DID_TYPE_MAX;
    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > 8)
        return 0;
    json_array_foreach(v, i, t) {
        if (!type_ok(t) || json_is_array(t))
            return 0;
    }
    return 1;
}

/* A serviceEndpoint: an absolute URI, an object, or a set of those. */
static int
endpoint_ok(const json_t *v, int depth)
{
    size_t i;
    json_t *e;

    if (json_is_string(v))
        return uri_ok(v);
    if (json_is_object(v))
        return json_object_size(v) > 0;
    if (depth > 0 || !json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > 8)
        return 0;
    json_array_foreach(v, i, e) {
        if (!endpoint_ok(e, 1))
            return 0;
    }
    return 1;
}

/* 1 if id is already in ids (an array of strings). */
static int
seen(const json_t *ids, const json_t *id)
{
    size_t i;
    json_t *v;

    json_array_foreach(ids, i, v) {
        if (json_equal(v, id))
            return 1;
    }
    return 0;
}

/*
 * Check and copy one list ("service" or "verificationMethod") of the
 * input into doc, making ids absolute. ids collects every id for the
 * uniqueness check. HLF_OK or HLF_EINVAL with rej.
 */
static int
copy_members(const char *did, const char *controller, const char *list,
             const json_t *in, json_t *doc, json_t *ids, evl_reject_t *rej)
{
    static const char *const svc_keys[] = {"id", "type", "serviceEndpoint",
                                           "description", NULL};
    static const char *const vm_keys[] = {"id", "type", "controller",
                                          "publicKeyMultibase",
                                          "publicKeyJwk", NULL};
    int is_svc = strcmp(list, "service") == 0;
    json_t *arr, *m, *copy, *id;
    char field[EVL_FIELD_MAX + 1];
    size_t i;
    int rc;

    if (in == NULL)
        return HLF_OK;
    if (!json_is_array(in) || json_array_size(in) > DID_MAX_ITEMS)
        return bad_value(rej, list, "must be an array of at most 32 objects");
    arr = json_array();
    if (arr == NULL || json_object_set_new(doc, list, arr) != 0)
        return evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
    json_array_foreach(in, i, m) {
        snprintf(field, sizeof(field), "%s[%zu]", list, i);
        if (!json_is_object(m))
            return bad_value(rej, field, "must be an object");
        rc = evl_check_keys(m, is_svc ? svc_keys : vm_keys, rej);
        if (rc != HLF_OK) {
            /* Name the member: "service[0].foo" (both cut at 64). */
            char key[65], name[EVL_FIELD_MAX + 1];

            snprintf(key, sizeof(key), "%.64s", rej->field);
            snprintf(name, sizeof(name), "%.64s.%.64s", field, key);
            return evl_reject(rej, EVL_UNKNOWN_FIELD, name, (size_t)-1,
                              "unknown key %s", name);
        }
        snprintf(field, sizeof(field), "%s[%zu].id", list, i);
        id = absolute_id(did, json_object_get(m, "id"));
        if (id == NULL)
            return bad_value(rej, field,
                             "must be \"#<fragment>\" or \"<did>#<fragment>\" "
                             "of this DID");
        if (seen(ids, id)) {
            json_decref(id);
            return bad_value(rej, field, "is used twice in the document");
        }
        json_array_append(ids, id);
        snprintf(field, sizeof(field), "%s[%zu].type", list, i);
        if (!type_ok(json_object_get(m, "type"))) {
            json_decref(id);
            return bad_value(rej, field, "must be a non-empty string (or a "
                                         "list of 1-8 of them)");
        }
        copy = json_deep_copy(m);
        if (copy == NULL) {
            json_decref(id);
            return evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
        }
        if (json_object_set_new(copy, "id", id) != 0 ||
            json_array_append_new(arr, copy) != 0)
            return evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
        if (is_svc) {
            snprintf(field, sizeof(field), "%s[%zu].serviceEndpoint", list,
                     i);
            if (!endpoint_ok(json_object_get(m, "serviceEndpoint"), 0))
                return bad_value(rej, field, "must be an absolute URI, an "
                                             "object, or a list of those");
            if (json_object_get(m, "description") != NULL &&
                !json_is_string(json_object_get(m, "description")))
                return bad_value(rej, field, "description must be a string");
            continue;
        }
        snprintf(field, sizeof(field), "%s[%zu]", list, i);
        if ((json_object_get(m, "publicKeyMultibase") != NULL) ==
            (json_object_get(m, "publicKeyJwk") != NULL))
            return bad_value(rej, field, "needs exactly one of "
                                         "publicKeyMultibase, publicKeyJwk");
        if (json_object_get(m, "publicKeyMultibase") != NULL &&
            (!json_is_string(json_object_get(m, "publicKeyMultibase")) ||
             json_string_length(json_object_get(m, "publicKeyMultibase")) <
                 2))
            return bad_value(rej, field, "publicKeyMultibase must be a "
                                         "multibase string");
        if (json_object_get(m, "publicKeyJwk") != NULL &&
            !json_is_object(json_object_get(m, "publicKeyJwk")))
            return bad_value(rej, field, "publicKeyJwk must be an object");
        if (json_object_get(m, "controller") == NULL) {
            if (json_object_set_new(copy, "controller",
                                    json_string(controller)) != 0)
                return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                                  "out of memory");
        } else if (!json_is_string(json_object_get(m, "controller")) ||
                   !evl_ident_match(
                       EVL_ID_DID,
                       json_string_value(json_object_get(m, "controller")),
                       json_string_length(json_object_get(m, "controller")))) {
            return bad_value(rej, field, "controller must be a DID");
        }
    }
    return HLF_OK;
}

/*
 * Validate the CreateDID/UpdateDID argument and build the DID document
 * (new in *doc) controlled by controller. *did receives the id (points
 * into *in; valid while *in lives). HLF_OK or HLF_EINVAL with rej.
 */
static int
parse_document(const uint8_t *arg, size_t len, const char *controller,
               json_t **in, json_t **doc, const char **did,
               evl_reject_t *rej)
{
    static const char *const keys[] = {"@context", "id", "alsoKnownAs",
                                       "verificationMethod", "service", NULL};
    char canon[EVL_IDENT_KEY_SIZE];
    json_t *v, *ids = NULL;
    size_t i;
    int rc;

    *doc = NULL;
    rc = evl_parse_object(arg, len, DID_MAX_INPUT, in, rej);
    if (rc != HLF_OK)
        return rc;
    if (json_object_get(*in, "controller") != NULL)
        return evl_reject(rej, EVL_SYSTEM_FIELD_SUPPLIED, "controller",
                          (size_t)-1,
                          "controller is set by the ledger to the creating "
                          "org (%s<MSP id>)",
                          ORG_DID_PREFIX);
    rc = evl_check_keys(*in, keys, rej);
    if (rc != HLF_OK)
        return rc;
    v = json_object_get(*in, "id");
    if (v == NULL)
        return evl_reject(rej, EVL_MISSING_FIELD, "id", (size_t)-1,
                          "id (the DID) is required");
    if (!json_is_string(v))
        return bad_value(rej, "id", "must be a string");
    rc = evl_ident_key("id", json_string_value(v), json_string_length(v),
                       EVL_ID_DID, canon, rej);
    if (rc != HLF_OK)
        return rc;
    *did = json_string_value(v);
    if (strncmp(*did, DID_PREFIX, strlen(DID_PREFIX)) != 0)
        return evl_reject(rej, EVL_INVALID_IDENTIFIER, "id", (size_t)-1,
                          "this registry holds only %s* DIDs", DID_PREFIX);
    v = json_object_get(*in, "@context");
    if (v != NULL &&
        !(json_is_string(v) && strcmp(json_string_value(v), DID_CONTEXT) == 0) &&
        !(json_is_array(v) && json_array_size(v) > 0 &&
          json_is_string(json_array_get(v, 0)) &&
          strcmp(json_string_value(json_array_get(v, 0)), DID_CONTEXT) == 0))
        return bad_value(rej, "@context", "must be \"" DID_CONTEXT "\" or a "
                                          "list starting with it");
    *doc = json_object();
    ids = json_array();
    if (*doc == NULL || ids == NULL ||
        json_object_set_new(*doc, "@context",
                            v != NULL ? json_deep_copy(v)
                                      : json_string(DID_CONTEXT)) != 0 ||
        json_object_set_new(*doc, "id", json_string(*did)) != 0 ||
        json_object_set_new(*doc, "controller", json_string(controller)) != 0) {
        json_decref(ids);
        return evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
    }
    v = json_object_get(*in, "alsoKnownAs");
    if (v != NULL) {
        json_t *a;

        if (!json_is_array(v) || json_array_size(v) > 16) {
            json_decref(ids);
            return bad_value(rej, "alsoKnownAs", "must be a list of at most "
                                                 "16 absolute URIs");
        }
        json_array_foreach(v, i, a) {
            if (!uri_ok(a)) {
                json_decref(ids);
                return bad_value(rej, "alsoKnownAs", "must be a list of "
                                                     "absolute URIs");
            }
        }
        json_object_set_new(*doc, "alsoKnownAs", json_deep_copy(v));
    }
    rc = copy_members(*did, controller, "verificationMethod",
                      json_object_get(*in, "verificationMethod"), *doc, ids,
                      rej);
    if (rc == HLF_OK)
        rc = copy_members(*did, controller, "service",
                          json_object_get(*in, "service"), *doc, ids, rej);
    json_decref(ids);
    return rc;
}

/* XML Schema dateTime in UTC without fractions, as DID Core asks. */
static int
tx_datetime(hlf_stub_t *stub, char out[32])
{
    int64_t secs = 0;
    int32_t nanos = 0;
    struct tm tm;
    time_t t;
    int rc = hlf_stub_get_tx_timestamp(stub, &secs, &nanos);

    if (rc != HLF_OK)
        return rc;
    if (secs < 0 || secs > EVL_IMFDATE_MAX_SECS)
        return HLF_EINVAL;
    t = (time_t)secs;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return HLF_EINVAL;
    return HLF_OK;
}

/* Read the record of did (new in *rec, NULL when absent) and its key. */
static int
load_did(hlf_stub_t *stub, const char *did, const char **key, json_t **rec,
         const char **what)
{
    int rc = evl_load_json(stub, DID_KEY, did, key, rec, what);

    if (rc == HLF_OK && *rec != NULL &&
        !json_is_object(json_object_get(*rec, "didDocumentMetadata"))) {
        json_decref(*rec);
        *rec = NULL;
        *what = "the stored DID record is malformed";
        return HLF_EPROTO;
    }
    return rc;
}

/* The resolution result of a stored record as a response. */
static hlf_response_t
answer_resolution(hlf_stub_t *stub, const json_t *rec)
{
    json_t *out = json_pack("{s:s,s:O,s:O,s:{s:s}}", "@context",
                            "https://w3id.org/did-resolution/v1",
                            "didDocument",
                            json_object_get(rec, "didDocument"),
                            "didDocumentMetadata",
                            json_object_get(rec, "didDocumentMetadata"),
                            "didResolutionMetadata", "contentType",
                            "application/did+json");
    char *text = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
    hlf_response_t resp;

    json_decref(out);
    if (text == NULL)
        return evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the DID");
    resp = evl_respond_ok(stub, text, strlen(text));
    free(text);
    return resp;
}

/* Write rec under key and answer its resolution. */
static hlf_response_t
store_did(hlf_stub_t *stub, const char *key, const json_t *rec)
{
    char *text = json_dumps(rec, JSON_COMPACT);
    int rc;

    if (text == NULL)
        return evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the DID");
    rc = hlf_stub_put_state(stub, key, text, strlen(text));
    free(text);
    if (rc != HLF_OK)
        return evl_respond_internal(stub, rc, "cannot write the DID");
    return answer_resolution(stub, rec);
}

/*
 * The checks UpdateDID and DeactivateDID share once the DID is known:
 * it exists (DID_NOT_FOUND), the caller's org controls it (NOT_OWNER) and
 * it is active (DID_DEACTIVATED). HLF_OK with *rec (new) and *key, or
 * the answer in *resp.
 */
static int
load_controlled(hlf_stub_t *stub, const char *did, const char **key,
                json_t **rec, hlf_response_t *resp)
{
    const char *what = NULL, *owner, *msp;
    evl_reject_t rej;
    json_t *meta;
    int rc;

    rc = load_did(stub, did, key, rec, &what);
    if (rc != HLF_OK) {
        *resp = evl_respond_internal(stub, rc, "%s", what);
        return rc;
    }
    if (*rec == NULL) {
        evl_reject(&rej, EVL_DID_NOT_FOUND, "id", (size_t)-1,
                   "no DID '%.200s' is registered", did);
        *resp = evl_respond_reject(stub, &rej);
        return HLF_EINVAL;
    }
    meta = json_object_get(*rec, "didDocumentMetadata");
    owner = json_string_value(json_object_get(meta, "controllerMsp"));
    msp = hlf_stub_get_creator_msp_id(stub);
    if (owner == NULL || msp == NULL || strcmp(owner, msp) != 0) {
        evl_reject(&rej, EVL_NOT_OWNER, "id", (size_t)-1,
                   "DID '%.200s' is controlled by %s; only its admins may "
                   "change it",
                   did, owner != NULL ? owner : "another org");
        rc = HLF_EINVAL;
    } else if (json_is_true(json_object_get(meta, "deactivated"))) {
        evl_reject(&rej, EVL_DID_DEACTIVATED, "id", (size_t)-1,
                   "DID '%.200s' is deactivated; it cannot change any more",
                   did);
        rc = HLF_EINVAL;
    }
    if (rc != HLF_OK) {
        *resp = evl_respond_reject(stub, &rej);
        json_decref(*rec);
        *rec = NULL;
    }
    return rc;
}

/* Bump versionId and set updated (and created when new) in meta. */
static int
stamp_meta(json_t *meta, const char *now, int created)
{
    long long v = 0;
    char buf[24];
    const char *old = json_string_value(json_object_get(meta, "versionId"));

    if (old != NULL)
        v = strtoll(old, NULL, 10);
    snprintf(buf, sizeof(buf), "%lld", v + 1);
    if ((created && json_object_set_new(meta, "created",
                                        json_string(now)) != 0) ||
        json_object_set_new(meta, "updated", json_string(now)) != 0 ||
        json_object_set_new(meta, "versionId", json_string(buf)) != 0)
        return HLF_ENOMEM;
    return HLF_OK;
}

/* The caller's org as a DID, did:reso:oid:<MSP id>, into out. */
static int
controller_did(hlf_stub_t *stub, char *out, size_t n, evl_reject_t *rej)
{
    const char *msp = hlf_stub_get_creator_msp_id(stub);
    int w = snprintf(out, n, ORG_DID_PREFIX "%s", msp != NULL ? msp : "");

    if (w < 0 || (size_t)w >= n ||
        !evl_ident_match(EVL_ID_DID, out, (size_t)w))
        return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                          "the MSP id '%.64s' cannot form a DID",
                          msp != NULL ? msp : "");
    return HLF_OK;
}

/*
 * The common front of CreateDID and UpdateDID: the caller is an admin
 * (NOT_ADMIN), its org as controller DID into ctl (size n), and the
 * document checked and built (parse_document).
 */
static int
admit_document(hlf_stub_t *stub, const char *fn, const uint8_t *arg,
               size_t len, char *ctl, size_t n, json_t **in, json_t **doc,
               const char **did, evl_reject_t *rej)
{
    int rc = evl_require_admin(stub, fn, rej);

    if (rc == HLF_OK)
        rc = controller_did(stub, ctl, n, rej);
    if (rc == HLF_OK)
        rc = parse_document(arg, len, ctl, in, doc, did, rej);
    return rc;
}

hlf_response_t
evl_tx_create_did(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    char ctl[EVL_MAX_VALUE_LEN + 1], now[32];
    const char *did = NULL, *key = NULL, *what = NULL;
    json_t *in = NULL, *doc = NULL, *rec = NULL, *old = NULL;
    evl_reject_t rej;
    hlf_response_t resp;
    int rc;

    rc = admit_document(stub, "CreateDID", arg, len, ctl, sizeof(ctl), &in,
                        &doc, &did, &rej);
    if (rc != HLF_OK) {
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    rc = load_did(stub, did, &key, &old, &what);
    if (rc == HLF_OK && old == NULL) {
        rc = tx_datetime(stub, now);
        what = "the transaction has no usable timestamp";
    }
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "%s", what);
        goto out;
    }
    if (old != NULL) {
        evl_reject(&rej, EVL_DID_EXISTS, "id", (size_t)-1,
                   "DID '%.200s' exists already; use UpdateDID", did);
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    rec = json_pack("{s:O,s:{s:b,s:s}}", "didDocument", doc,
                    "didDocumentMetadata", "deactivated", 0, "controllerMsp",
                    hlf_stub_get_creator_msp_id(stub));
    if (rec == NULL ||
        stamp_meta(json_object_get(rec, "didDocumentMetadata"), now, 1) !=
            HLF_OK) {
        resp = evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot build the DID record");
        goto out;
    }
    resp = store_did(stub, key, rec);
out:
    json_decref(old);
    json_decref(rec);
    json_decref(doc);
    json_decref(in);
    return resp;
}

hlf_response_t
evl_tx_update_did(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    char ctl[EVL_MAX_VALUE_LEN + 1], now[32];
    const char *did = NULL, *key = NULL;
    json_t *in = NULL, *doc = NULL, *rec = NULL;
    evl_reject_t rej;
    hlf_response_t resp;
    int rc;

    rc = admit_document(stub, "UpdateDID", arg, len, ctl, sizeof(ctl), &in,
                        &doc, &did, &rej);
    if (rc != HLF_OK) {
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    if (load_controlled(stub, did, &key, &rec, &resp) != HLF_OK)
        goto out;
    rc = tx_datetime(stub, now);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "the transaction has no "
                                              "usable timestamp");
        goto out;
    }
    if (json_object_set(rec, "didDocument", doc) != 0 ||
        stamp_meta(json_object_get(rec, "didDocumentMetadata"), now, 0) !=
            HLF_OK) {
        resp = evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot build the DID record");
        goto out;
    }
    resp = store_did(stub, key, rec);
out:
    json_decref(rec);
    json_decref(doc);
    json_decref(in);
    return resp;
}

/* Check arg as a did:reso DID (field "id"); answer in *resp if not. */
static int
did_arg(hlf_stub_t *stub, const uint8_t *arg, size_t len,
        hlf_response_t *resp)
{
    char canon[EVL_IDENT_KEY_SIZE];
    evl_reject_t rej;
    int rc;

    rc = evl_ident_key("id", (const char *)arg, len, EVL_ID_DID, canon,
                       &rej);
    if (rc == HLF_OK &&
        strncmp((const char *)arg, DID_PREFIX, strlen(DID_PREFIX)) != 0)
        rc = evl_reject(&rej, EVL_INVALID_IDENTIFIER, "id", (size_t)-1,
                        "this registry holds only %s* DIDs", DID_PREFIX);
    if (rc != HLF_OK)
        *resp = evl_respond_reject(stub, &rej);
    return rc;
}

hlf_response_t
evl_tx_deactivate_did(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    char now[32];
    const char *key = NULL;
    json_t *rec = NULL, *doc;
    evl_reject_t rej;
    hlf_response_t resp;
    int rc;

    if (evl_require_admin(stub, "DeactivateDID", &rej) != HLF_OK)
        return evl_respond_reject(stub, &rej);
    if (did_arg(stub, arg, len, &resp) != HLF_OK)
        return resp;
    if (load_controlled(stub, (const char *)arg, &key, &rec, &resp) !=
        HLF_OK)
        return resp;
    rc = tx_datetime(stub, now);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "the transaction has no "
                                              "usable timestamp");
        goto out;
    }
    doc = json_object_get(rec, "didDocument");
    json_object_del(doc, "verificationMethod");
    json_object_del(doc, "service");
    if (json_object_set_new(json_object_get(rec, "didDocumentMetadata"),
                            "deactivated", json_true()) != 0 ||
        stamp_meta(json_object_get(rec, "didDocumentMetadata"), now, 0) !=
            HLF_OK) {
        resp = evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot build the DID record");
        goto out;
    }
    resp = store_did(stub, key, rec);
out:
    json_decref(rec);
    return resp;
}

hlf_response_t
evl_tx_resolve_did(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    const char *key = NULL, *what = NULL;
    json_t *rec = NULL;
    evl_reject_t rej;
    hlf_response_t resp;
    int rc;

    if (did_arg(stub, arg, len, &resp) != HLF_OK)
        return resp;
    rc = load_did(stub, (const char *)arg, &key, &rec, &what);
    if (rc != HLF_OK)
        return evl_respond_internal(stub, rc, "%s", what);
    if (rec == NULL) {
        evl_reject(&rej, EVL_DID_NOT_FOUND, "id", (size_t)-1,
                   "no DID '%.200s' is registered", (const char *)arg);
        return evl_respond_reject(stub, &rej);
    }
    resp = answer_resolution(stub, rec);
    json_decref(rec);
    return resp;
}
