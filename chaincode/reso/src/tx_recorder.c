/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Registry of Recorders (reso-model.md §5.2, §6 rule 10): an org
 * admin registers a Recorder id for its own org, optionally restricted to
 * given client certificates, and RecordEvent then accepts that Recorder
 * only from those identities. This is how "an entity stands behind the
 * event" becomes checkable on Fabric: the endorsers verified the
 * creator's signature, so its MSP id and certificate are facts.
 *
 * Functions: RegisterRecorder(json), GetRecorder(id), RevokeRecorder(id).
 * The record lives under composite key REC~<canonical id>, so the URN
 * forms that RFC 8141 calls equivalent share one registration
 * (evl_ident_canonical). The record JSON is
 *   {"Recorder","Org","AllowedClients":[...],"OrgDID"?,"Status",
 *    "Registered","Updated"}
 * with IMF-fixdate times from the transaction timestamp.
 *
 * A Recorder id nobody registered is accepted by RecordEvent (see
 * docs/event-model.md "Recorder registry" for why); a registered one is
 * bound strictly.
 *
 * The registry functions emit no chaincode event: Fabric allows one per
 * transaction and the gateway's stream carries RESO events only.
 */
#include "evl_contract.h"

#include "hlf/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_KEY "REC"
#define REC_MAX_INPUT 16384
#define REC_MAX_CLIENTS 16
#define REC_CLIENT_MAX 1024
#define FP_PREFIX "sha256:"
#define ID_PREFIX "x509::"

/* ------------------------------------------------------------------ */
/* Helpers shared with tx_did.c (declared in evl_contract.h)          */
/* ------------------------------------------------------------------ */

int
evl_require_admin(hlf_stub_t *stub, const char *what, evl_reject_t *rej)
{
    const char *msp = hlf_stub_get_creator_msp_id(stub);

    if (msp == NULL)
        return evl_reject(rej, EVL_NOT_ADMIN, NULL, 0,
                          "%s needs an org admin identity; the creator is "
                          "not an X.509 identity",
                          what);
    if (!hlf_stub_creator_has_ou(stub, "admin"))
        return evl_reject(rej, EVL_NOT_ADMIN, NULL, 0,
                          "%s needs an admin of the org (OU=admin); the "
                          "caller is a %s of %s",
                          what, "non-admin identity", msp);
    return HLF_OK;
}

int
evl_parse_object(const uint8_t *arg, size_t len, size_t max, json_t **out,
                 evl_reject_t *rej)
{
    json_error_t jerr;

    *out = NULL;
    if (len > max)
        return evl_reject(rej, EVL_INVALID_JSON, NULL, 0,
                          "the argument has %zu bytes; at most %zu are "
                          "allowed",
                          len, max);
    *out = json_loadb((const char *)arg, len, JSON_REJECT_DUPLICATES, &jerr);
    if (*out == NULL)
        return evl_reject(rej, EVL_INVALID_JSON, NULL, 0,
                          "the argument is not valid JSON: %s", jerr.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return evl_reject(rej, EVL_INVALID_JSON, NULL, 0,
                          "the argument must be a JSON object");
    }
    return HLF_OK;
}

int
evl_check_keys(const json_t *obj, const char *const *allowed,
               evl_reject_t *rej)
{
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach((json_t *)obj, key, v) {
        for (i = 0; allowed[i] != NULL; i++)
            if (strcmp(allowed[i], key) == 0)
                break;
        if (allowed[i] == NULL)
            return evl_reject(rej, EVL_UNKNOWN_FIELD, key, (size_t)-1,
                              "unknown key '%.64s'", key);
    }
    return HLF_OK;
}

int
evl_ident_key(const char *field, const char *s, size_t len, unsigned mask,
              char out[EVL_IDENT_KEY_SIZE], evl_reject_t *rej)
{
    char why[256], shown[EVL_ECHO_SIZE];

    if (len == 0 || len > EVL_MAX_VALUE_LEN || !evl_utf8_valid(s, len) ||
        memchr(s, '\0', len) != NULL)
        return evl_reject(rej, EVL_INVALID_VALUE, field, (size_t)-1,
                          "%s must be 1 to %d bytes of UTF-8 without NUL",
                          field, EVL_MAX_VALUE_LEN);
    evl_echo(s, len, shown, sizeof(shown));
    if (!evl_ident_match_any(mask, s, len)) {
        evl_ident_explain(mask, s, len, why, sizeof(why));
        return evl_reject(rej, EVL_INVALID_IDENTIFIER, field, (size_t)-1,
                          "%s '%s' is not valid: %s", field, shown, why);
    }
    /* U+10FFFF is the range end of composite keys: it cannot be a key. */
    if (evl_ident_canonical(s, len, out, EVL_IDENT_KEY_SIZE) != HLF_OK ||
        strstr(out, "\xf4\x8f\xbf\xbf") != NULL)
        return evl_reject(rej, EVL_INVALID_IDENTIFIER, field, (size_t)-1,
                          "%s '%s' cannot be used as a registry key", field,
                          shown);
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Client certificate fingerprint                                     */
/* ------------------------------------------------------------------ */

static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * "sha256:<hex>" of the DER certificate inside the first PEM block of pem
 * into out. The DER is the block's base64 body decoded; whitespace is
 * skipped and '=' ends it. Returns HLF_OK or HLF_EINVAL (no PEM block,
 * bad base64) or HLF_ENOMEM.
 */
static int
cert_fingerprint(const char *pem, char out[80])
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    const char *p, *end;
    uint8_t *der, md[HLF_SHA256_LEN];
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0, v;

    p = pem != NULL ? strstr(pem, begin) : NULL;
    if (p == NULL)
        return HLF_EINVAL;
    p += sizeof(begin) - 1;
    end = strstr(p, "-----END");
    if (end == NULL)
        return HLF_EINVAL;
    der = malloc((size_t)(end - p) + 1);
    if (der == NULL)
        return HLF_ENOMEM;
    for (; p < end && *p != '='; p++) {
        if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
            continue;
        v = b64_value((unsigned char)*p);
        if (v < 0) {
            free(der);
            return HLF_EINVAL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            der[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1u;
        }
    }
    if (n == 0) {
        free(der);
        return HLF_EINVAL;
    }
    hlf_sha256(der, n, md);
    free(der);
    memcpy(out, FP_PREFIX, sizeof(FP_PREFIX) - 1);
    hlf_hex_encode(md, sizeof(md), out + sizeof(FP_PREFIX) - 1);
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Registry records                                                   */
/* ------------------------------------------------------------------ */

/* The IMF-fixdate of this transaction's timestamp into out. */
static int
tx_imfdate(hlf_stub_t *stub, char out[EVL_IMFDATE_LEN + 1])
{
    int64_t secs = 0;
    int32_t nanos = 0;
    int rc = hlf_stub_get_tx_timestamp(stub, &secs, &nanos);

    return rc == HLF_OK ? evl_imfdate(secs, out) : rc;
}

int
evl_load_json(hlf_stub_t *stub, const char *type, const char *attr,
              const char **key, json_t **rec, const char **what)
{
    const uint8_t *val = NULL;
    size_t len = 0;
    int rc;

    *rec = NULL;
    rc = hlf_stub_create_composite_key(stub, type, &attr, 1, key);
    if (rc != HLF_OK) {
        *what = "cannot build the registry key";
        return rc;
    }
    rc = hlf_stub_get_state(stub, *key, &val, &len);
    if (rc != HLF_OK) {
        *what = "cannot read the registry";
        return rc;
    }
    if (val == NULL || len == 0)
        return HLF_OK;
    *rec = json_loadb((const char *)val, len, 0, NULL);
    if (!json_is_object(*rec)) {
        json_decref(*rec);
        *rec = NULL;
        *what = "a stored registry record is not a JSON object";
        return HLF_EPROTO;
    }
    return HLF_OK;
}

/* The registration under canonical id (see evl_load_json). */
static int
load_record(hlf_stub_t *stub, const char *canon, const char **key,
            json_t **rec, const char **what)
{
    return evl_load_json(stub, REC_KEY, canon, key, rec, what);
}

/* Serialize rec, write it under key and answer it. */
static hlf_response_t
store_and_answer(hlf_stub_t *stub, const char *key, json_t *rec)
{
    char *text = json_dumps(rec, JSON_COMPACT);
    hlf_response_t resp;
    int rc;

    if (text == NULL)
        return evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the recorder");
    rc = hlf_stub_put_state(stub, key, text, strlen(text));
    if (rc != HLF_OK)
        resp = evl_respond_internal(stub, rc, "cannot write the recorder");
    else
        resp = evl_respond_ok(stub, text, strlen(text));
    free(text);
    return resp;
}

static hlf_response_t
answer_record(hlf_stub_t *stub, const json_t *rec)
{
    char *text = json_dumps(rec, JSON_COMPACT);
    hlf_response_t resp;

    if (text == NULL)
        return evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the recorder");
    resp = evl_respond_ok(stub, text, strlen(text));
    free(text);
    return resp;
}

/*
 * The AllowedClients array of the input (NULL: none given) as a new
 * array of normalised entries: "sha256:" + 64 hex digits (lower-cased) or
 * "x509::<subject>::<issuer>" as given. HLF_OK or an INVALID_VALUE
 * rejection.
 */
static int
parse_clients(const json_t *in, json_t **out, evl_reject_t *rej)
{
    static const char field[] = "AllowedClients";
    const size_t fp_len = sizeof(FP_PREFIX) - 1 + 2 * HLF_SHA256_LEN;
    json_t *v;
    size_t i, j, len;
    char buf[80];
    const char *s;

    *out = json_array();
    if (*out == NULL)
        return evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
    if (in == NULL)
        return HLF_OK;
    if (!json_is_array(in) || json_array_size(in) > REC_MAX_CLIENTS)
        goto bad;
    json_array_foreach(in, i, v) {
        s = json_string_value(v);
        len = json_string_length(v);
        if (s == NULL || len > REC_CLIENT_MAX || memchr(s, '\0', len))
            goto bad;
        if (len == fp_len && (s[0] == 's' || s[0] == 'S')) {
            /* Fold to lower case: "SHA256:AB.." is the same fingerprint. */
            for (j = 0; j < len; j++) {
                char c = s[j];

                if (c >= 'A' && c <= 'Z')
                    c = (char)(c - 'A' + 'a');
                if (j < 7 ? c != FP_PREFIX[j]
                          : !((c >= '0' && c <= '9') ||
                              (c >= 'a' && c <= 'f')))
                    goto bad;
                buf[j] = c;
            }
            buf[len] = '\0';
            s = buf;
        } else if (len <= sizeof(ID_PREFIX) + 2 ||
                   strncmp(s, ID_PREFIX, sizeof(ID_PREFIX) - 1) != 0 ||
                   strstr(s + sizeof(ID_PREFIX) - 1, "::") == NULL) {
            goto bad;
        }
        if (json_array_append_new(*out, json_string(s)) != 0)
            return evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
    }
    return HLF_OK;
bad:
    json_decref(*out);
    *out = NULL;
    return evl_reject(rej, EVL_INVALID_VALUE, field, (size_t)-1,
                      "AllowedClients must be an array of at most %d "
                      "strings, each \"sha256:<64 hex digits of the DER "
                      "certificate>\" or \"x509::<subject DN>::<issuer DN>\"",
                      REC_MAX_CLIENTS);
}

/* 1 if the creator is one of the record's AllowedClients (or none set). */
static int
client_allowed(hlf_stub_t *stub, const json_t *clients, int *internal)
{
    const char *id = NULL;
    char fp[80];
    int have_fp = -1;
    json_t *v;
    size_t i;

    *internal = 0;
    if (json_array_size(clients) == 0)
        return 1;
    json_array_foreach(clients, i, v) {
        const char *s = json_string_value(v);

        if (s == NULL)
            continue;
        if (strncmp(s, FP_PREFIX, sizeof(FP_PREFIX) - 1) == 0) {
            if (have_fp < 0) {
                int rc = cert_fingerprint(
                    hlf_stub_get_creator_cert_pem(stub), fp);

                if (rc == HLF_ENOMEM) {
                    *internal = 1;
                    return 0;
                }
                have_fp = rc == HLF_OK;
            }
            if (have_fp && strcmp(fp, s) == 0)
                return 1;
        } else {
            if (id == NULL)
                id = hlf_stub_get_creator_id(stub);
            if (id != NULL && strcmp(id, s) == 0)
                return 1;
        }
    }
    return 0;
}

int
evl_recorder_check(hlf_stub_t *stub, const char *recorder, size_t len,
                   evl_reject_t *rej)
{
    char canon[EVL_IDENT_KEY_SIZE], shown[EVL_ECHO_SIZE];
    const char *key = NULL, *what = NULL, *msp, *org, *status;
    json_t *rec = NULL;
    int rc, internal = 0, strict = 1;

    /* An id that cannot be a registry key was never registered. */
    if (evl_ident_canonical(recorder, len, canon, sizeof(canon)) == HLF_OK &&
        strstr(canon, "\xf4\x8f\xbf\xbf") == NULL) {
        rc = load_record(stub, canon, &key, &rec, &what);
        if (rc != HLF_OK) {
            /* The caller adds the shim's detail (evl_respond_internal). */
            evl_reject(rej, EVL_INTERNAL, NULL, 0, "%s", what);
            return rc;
        }
    }
    evl_echo(recorder, len, shown, sizeof(shown));
    if (rec == NULL) {
        /*
         * Unregistered: the setting decides, read only now so that the
         * common path (a registered Recorder) costs one read.
         */
        rc = evl_catalog_binding_strict(stub, &strict, rej);
        if (rc != HLF_OK || !strict)
            return rc;
        return evl_reject(rej, EVL_RECORDER_NOT_AUTHORIZED, "Recorder",
                          (size_t)-1,
                          "Recorder '%s' is not registered and Recorder "
                          "binding is strict; an admin of your org "
                          "registers it first (RegisterRecorder, "
                          "POST /v1/recorders, resoctl recorder register)",
                          shown);
    }
    org = json_string_value(json_object_get(rec, "Org"));
    msp = hlf_stub_get_creator_msp_id(stub);
    status = json_string_value(json_object_get(rec, "Status"));
    if (status == NULL || strcmp(status, "Active") != 0)
        rc = evl_reject(rej, EVL_RECORDER_NOT_AUTHORIZED, "Recorder",
                        (size_t)-1, "Recorder '%s' is revoked", shown);
    else if (msp == NULL || org == NULL || strcmp(msp, org) != 0)
        rc = evl_reject(rej, EVL_RECORDER_NOT_AUTHORIZED, "Recorder",
                        (size_t)-1,
                        "Recorder '%s' is registered to %s; the submitter "
                        "belongs to %s",
                        shown, org != NULL ? org : "?",
                        msp != NULL ? msp : "no X.509 identity");
    else if (!client_allowed(stub, json_object_get(rec, "AllowedClients"),
                             &internal))
        rc = internal ? evl_reject(rej, EVL_INTERNAL, NULL, 0,
                                   "out of memory")
                      : evl_reject(rej, EVL_RECORDER_NOT_AUTHORIZED,
                                   "Recorder", (size_t)-1,
                                   "the submitting certificate is not one "
                                   "of the AllowedClients of Recorder '%s'",
                                   shown);
    json_decref(rec);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Transaction functions                                              */
/* ------------------------------------------------------------------ */

hlf_response_t
evl_tx_register_recorder(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    static const char *const keys[] = {"Recorder", "AllowedClients",
                                       "OrgDID", NULL};
    char canon[EVL_IDENT_KEY_SIZE], did[EVL_IDENT_KEY_SIZE];
    char now[EVL_IMFDATE_LEN + 1];
    const char *key = NULL, *what = NULL, *msp, *org, *s;
    json_t *in = NULL, *rec = NULL, *clients = NULL, *v;
    evl_reject_t rej;
    hlf_response_t resp;
    int rc;

    rc = evl_require_admin(stub, "RegisterRecorder", &rej);
    if (rc == HLF_OK)
        rc = evl_parse_object(arg, len, REC_MAX_INPUT, &in, &rej);
    if (rc == HLF_OK)
        rc = evl_check_keys(in, keys, &rej);
    if (rc == HLF_OK && json_object_get(in, "Recorder") == NULL)
        rc = evl_reject(&rej, EVL_MISSING_FIELD, "Recorder", (size_t)-1,
                        "Recorder is required");
    if (rc == HLF_OK) {
        v = json_object_get(in, "Recorder");
        if (!json_is_string(v))
            rc = evl_reject(&rej, EVL_INVALID_VALUE, "Recorder", (size_t)-1,
                            "Recorder must be a string");
        else
            rc = evl_ident_key("Recorder", json_string_value(v),
                               json_string_length(v),
                               EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID |
                                   EVL_ID_DIDURL,
                               canon, &rej);
    }
    if (rc == HLF_OK)
        rc = parse_clients(json_object_get(in, "AllowedClients"), &clients,
                           &rej);
    if (rc == HLF_OK && (v = json_object_get(in, "OrgDID")) != NULL) {
        if (!json_is_string(v))
            rc = evl_reject(&rej, EVL_INVALID_VALUE, "OrgDID", (size_t)-1,
                            "OrgDID must be a string");
        else
            rc = evl_ident_key("OrgDID", json_string_value(v),
                               json_string_length(v), EVL_ID_DID, did, &rej);
    }
    if (rc != HLF_OK) {
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    rc = load_record(stub, canon, &key, &rec, &what);
    if (rc == HLF_OK)
        rc = tx_imfdate(stub, now);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "%s",
                                    what != NULL ? what
                                                 : "the transaction has no "
                                                   "usable timestamp");
        goto out;
    }
    msp = hlf_stub_get_creator_msp_id(stub);
    if (rec != NULL) {
        org = json_string_value(json_object_get(rec, "Org"));
        if (org == NULL || strcmp(org, msp) != 0) {
            evl_reject(&rej, EVL_NOT_OWNER, "Recorder", (size_t)-1,
                       "Recorder '%s' is registered to %s; only its admins "
                       "may change it",
                       canon, org != NULL ? org : "another org");
            resp = evl_respond_reject(stub, &rej);
            goto out;
        }
    } else {
        rec = json_object();
        if (rec == NULL ||
            json_object_set_new(rec, "Recorder", json_string(canon)) != 0 ||
            json_object_set_new(rec, "Org", json_string(msp)) != 0 ||
            json_object_set_new(rec, "Registered", json_string(now)) != 0) {
            resp = evl_respond_internal(stub, HLF_ENOMEM,
                                        "cannot build the recorder");
            goto out;
        }
    }
    s = json_string_value(json_object_get(in, "OrgDID"));
    /*
     * Re-registering by the owner replaces the client list and the org
     * DID and re-activates a revoked id: the admin states the whole
     * binding every time, so the record never mixes two requests.
     */
    if (s == NULL)
        json_object_del(rec, "OrgDID"); /* -1 when absent: nothing to do */
    if (json_object_set(rec, "AllowedClients", clients) != 0 ||
        (s != NULL &&
         json_object_set_new(rec, "OrgDID", json_string(s)) != 0) ||
        json_object_set_new(rec, "Status", json_string("Active")) != 0 ||
        json_object_set_new(rec, "Updated", json_string(now)) != 0) {
        resp = evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot build the recorder");
        goto out;
    }
    resp = store_and_answer(stub, key, rec);
out:
    json_decref(clients);
    json_decref(rec);
    json_decref(in);
    return resp;
}

/*
 * The registration of the id in arg (reject answer in *resp when the id
 * is bad, unknown or unreadable). HLF_OK with *rec (new) and *key.
 */
static int
lookup_arg(hlf_stub_t *stub, const uint8_t *arg, size_t len,
           const char **key, json_t **rec, hlf_response_t *resp)
{
    char canon[EVL_IDENT_KEY_SIZE];
    const char *what = NULL;
    evl_reject_t rej;
    int rc;

    *rec = NULL;
    rc = evl_ident_key("Recorder", (const char *)arg, len,
                       EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID |
                           EVL_ID_DIDURL,
                       canon, &rej);
    if (rc != HLF_OK) {
        *resp = evl_respond_reject(stub, &rej);
        return rc;
    }
    rc = load_record(stub, canon, key, rec, &what);
    if (rc != HLF_OK) {
        *resp = evl_respond_internal(stub, rc, "%s", what);
        return rc;
    }
    if (*rec == NULL) {
        evl_reject(&rej, EVL_RECORDER_NOT_FOUND, "Recorder", (size_t)-1,
                   "no Recorder '%s' is registered", canon);
        *resp = evl_respond_reject(stub, &rej);
        return HLF_EINVAL;
    }
    return HLF_OK;
}

hlf_response_t
evl_tx_get_recorder(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    const char *key = NULL;
    json_t *rec = NULL;
    hlf_response_t resp;

    if (lookup_arg(stub, arg, len, &key, &rec, &resp) != HLF_OK)
        return resp;
    resp = answer_record(stub, rec);
    json_decref(rec);
    return resp;
}

hlf_response_t
evl_tx_revoke_recorder(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    char now[EVL_IMFDATE_LEN + 1];
    const char *key = NULL, *org, *msp;
    json_t *rec = NULL;
    evl_reject_t rej;
    hlf_response_t resp;
    int rc;

    if (evl_require_admin(stub, "RevokeRecorder", &rej) != HLF_OK)
        return evl_respond_reject(stub, &rej);
    if (lookup_arg(stub, arg, len, &key, &rec, &resp) != HLF_OK)
        return resp;
    org = json_string_value(json_object_get(rec, "Org"));
    msp = hlf_stub_get_creator_msp_id(stub);
    if (org == NULL || strcmp(org, msp) != 0) {
        evl_reject(&rej, EVL_NOT_OWNER, "Recorder", (size_t)-1,
                   "Recorder '%s' is registered to %s; only its admins may "
                   "revoke it",
                   json_string_value(json_object_get(rec, "Recorder")),
                   org != NULL ? org : "another org");
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    rc = tx_imfdate(stub, now);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "the transaction has no "
                                              "usable timestamp");
        goto out;
    }
    if (json_object_set_new(rec, "Status", json_string("Revoked")) != 0 ||
        json_object_set_new(rec, "Updated", json_string(now)) != 0) {
        resp = evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot build the recorder");
        goto out;
    }
    resp = store_and_answer(stub, key, rec);
out:
    json_decref(rec);
    return resp;
}
