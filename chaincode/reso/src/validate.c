/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RecordEvent input validation. The checks run in one fixed order and the
 * first failure is reported, so a client (and a test) always gets the
 * same error for the same input (reso-model.md §13):
 *
 *   1 INVALID_JSON           not JSON, not an object, duplicate keys, or
 *                            larger than EVL_MAX_INPUT
 *   2 SYSTEM_FIELD_SUPPLIED  TransactionId, Timestamp, Version
 *   3 UNKNOWN_FIELD          first unknown key in input order
 *   4 MISSING_FIELD          EventSubject, System, SubjectType, Entity,
 *                            Event, State, Recorder, Application
 *   5 INVALID_VALUE          a field that is not a string, is empty or is
 *                            longer than 255 bytes (same field order)
 *                            then the draft fields the profile allows:
 *                            Audience (1..16 strings), Context (shape
 *                            and bounds, "Context.<key>")
 *   6 INVALID_LOOKUP         System, SubjectType, Entity, Event, State
 *   7 INVALID_IDENTIFIER     EventSubject, Recorder, Application, then
 *                            each Audience entry ("Audience[i]")
 *   8 PII_EMAIL, PII_PHONE   the first Context string value, in key
 *                            order, shaped like contact data
 *
 * Audience and Context exist only under a profile whose "Fields" lists
 * them; anywhere else they are unknown fields (step 3).
 *
 * Recorder binding (RECORDER_NOT_AUTHORIZED) comes after step 7 but needs
 * the submitter's identity and the recorder registry, so it lives with the
 * contract (tx_record.c), not here.
 */
#include "evl.h"

#include "hlf/err.h"

#include <stdio.h>
#include <string.h>

/* Join the names of the application-supplied fields with ", ". */
static void
supplied_names(char *buf, size_t n)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; i < EVL_FIELD_COUNT; i++)
        if (evl_fields[i].kind == EVL_FIELD_SUPPLIED)
            used = evl_append(buf, n, used, ", ", evl_fields[i].name);
}

/*
 * Copy jansson's parse error text replacing anything outside printable
 * ASCII, because it may quote the offending (possibly non-UTF-8) input.
 */
static void
sanitize(const char *in, char *buf, size_t n)
{
    size_t i;

    for (i = 0; in[i] != '\0' && i + 1 < n; i++)
        buf[i] = (in[i] >= 0x20 && in[i] <= 0x7E) ? in[i] : '?';
    buf[i] = '\0';
}

static const char *
json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* 1 if key is an application field under profile p. */
static int
is_supplied(const evl_profile_t *p, const char *key)
{
    const evl_field_t *f = evl_field_find(key);
    size_t k;

    if (f != NULL && f->kind == EVL_FIELD_SUPPLIED)
        return 1;
    for (k = 0; k < EVL_DRAFT_FIELD_COUNT; k++)
        if ((p->optional & evl_draft_fields[k].bit) &&
            strcmp(key, evl_draft_fields[k].name) == 0)
            return 1;
    return 0;
}

/* Audience entries take Recorder's syntaxes (reso-model §2.3). */
static const evl_field_t audience_field = {
    "Audience", EVL_FIELD_SUPPLIED, -1,
    EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID | EVL_ID_DIDURL};

static int
check_audience_shape(const json_t *v, evl_reject_t *rej)
{
    char where[32];
    const json_t *e;
    size_t i, n;

    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > EVL_AUDIENCE_MAX)
        return evl_reject(rej, EVL_INVALID_VALUE, "Audience", (size_t)-1,
                          "Audience must be an array of 1 to %d identifier "
                          "strings",
                          EVL_AUDIENCE_MAX);
    for (i = 0; i < json_array_size(v); i++) {
        e = json_array_get(v, i);
        snprintf(where, sizeof(where), "Audience[%zu]", i);
        if (!json_is_string(e))
            return evl_reject(rej, EVL_INVALID_VALUE, where, (size_t)-1,
                              "%s must be a string, got %s", where,
                              json_kind(e));
        n = json_string_length(e);
        if (n == 0 || n > EVL_MAX_VALUE_LEN)
            return evl_reject(rej, EVL_INVALID_VALUE, where, (size_t)-1,
                              "%s must be 1 to %d bytes long, got %zu bytes",
                              where, EVL_MAX_VALUE_LEN, n);
    }
    return HLF_OK;
}

static int
check_shape(const char *buf, size_t len, json_t **obj, evl_reject_t *rej)
{
    json_error_t jerr;
    char text[sizeof(jerr.text)];

    if (len > EVL_MAX_INPUT)
        return evl_reject(rej, EVL_INVALID_JSON, NULL, 0,
                          "the event JSON is %zu bytes; at most %d bytes "
                          "are accepted",
                          len, EVL_MAX_INPUT);
    *obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (*obj == NULL && json_error_code(&jerr) == json_error_out_of_memory) {
        evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
        return HLF_ENOMEM;
    }
    if (*obj == NULL) {
        sanitize(jerr.text, text, sizeof(text));
        return evl_reject(rej, EVL_INVALID_JSON, NULL, 0,
                          "the argument is not valid JSON (line %d, column "
                          "%d): %s; send one JSON object with the eight "
                          "event fields",
                          jerr.line, jerr.column, text);
    }
    if (!json_is_object(*obj))
        return evl_reject(rej, EVL_INVALID_JSON, NULL, 0,
                          "the event must be a JSON object, got %s",
                          json_kind(*obj));
    return HLF_OK;
}

static int
check_fields(json_t *obj, const evl_profile_t *p, evl_reject_t *rej)
{
    char names[256];
    const char *key;
    json_t *v;
    size_t i;

    for (i = 0; i < EVL_FIELD_COUNT; i++) {
        if (evl_fields[i].kind == EVL_FIELD_SYSTEM &&
            json_object_get(obj, evl_fields[i].name) != NULL)
            return evl_reject(rej, EVL_SYSTEM_FIELD_SUPPLIED,
                              evl_fields[i].name, (size_t)-1,
                              "%s is assigned by the ledger and must not be "
                              "supplied (TransactionId, Timestamp and "
                              "Version are all ledger-assigned)",
                              evl_fields[i].name);
    }
    supplied_names(names, sizeof(names));
    json_object_foreach(obj, key, v) {
        if (!is_supplied(p, key)) {
            char shown[EVL_ECHO_SIZE];

            evl_echo(key, strlen(key), shown, sizeof(shown));
            return evl_reject(rej, EVL_UNKNOWN_FIELD, key, (size_t)-1,
                              "unknown field '%s'; an event has exactly "
                              "these fields: %s",
                              shown, names);
        }
    }
    for (i = 0; i < EVL_FIELD_COUNT; i++) {
        if (evl_fields[i].kind == EVL_FIELD_SUPPLIED &&
            json_object_get(obj, evl_fields[i].name) == NULL)
            return evl_reject(rej, EVL_MISSING_FIELD, evl_fields[i].name,
                              (size_t)-1,
                              "required field %s is missing; every event "
                              "needs %s",
                              evl_fields[i].name, names);
    }
    for (i = 0; i < EVL_FIELD_COUNT; i++) {
        const char *name = evl_fields[i].name;
        size_t n;

        if (evl_fields[i].kind != EVL_FIELD_SUPPLIED)
            continue;
        v = json_object_get(obj, name);
        if (!json_is_string(v))
            return evl_reject(rej, EVL_INVALID_VALUE, name, (size_t)-1,
                              "%s must be a JSON string of 1 to %d bytes, "
                              "got %s",
                              name, EVL_MAX_VALUE_LEN, json_kind(v));
        n = json_string_length(v);
        if (n == 0 || n > EVL_MAX_VALUE_LEN)
            return evl_reject(rej, EVL_INVALID_VALUE, name, (size_t)-1,
                              "%s must be 1 to %d bytes long, got %zu bytes",
                              name, EVL_MAX_VALUE_LEN, n);
    }
    v = json_object_get(obj, "Audience");
    if (v != NULL) {
        int rc = check_audience_shape(v, rej);

        if (rc != HLF_OK)
            return rc;
    }
    v = json_object_get(obj, "Context");
    if (v != NULL)
        return evl_context_check_shape(v, rej);
    return HLF_OK;
}

/* Index of a value that equals s up to ASCII case and outer spaces. */
static long
near_miss(const evl_profile_t *p, evl_lookup_t lk, const char *s,
          size_t len)
{
    const char *const *v = p->values[lk];
    size_t i, k;

    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    for (i = 0; v[i] != NULL; i++) {
        if (strlen(v[i]) != len)
            continue;
        for (k = 0; k < len; k++) {
            unsigned char a = (unsigned char)v[i][k];
            unsigned char b = (unsigned char)s[k];

            if (a >= 'A' && a <= 'Z')
                a = (unsigned char)(a - 'A' + 'a');
            if (b >= 'A' && b <= 'Z')
                b = (unsigned char)(b - 'A' + 'a');
            if (a != b)
                break;
        }
        if (k == len)
            return (long)i;
    }
    return -1;
}

static int
check_lookups(json_t *obj, const evl_profile_t *p, evl_reject_t *rej)
{
    char allowed[512], shown[EVL_ECHO_SIZE], hint[128];
    size_t i, used, len;
    const char *name, *s;
    const char *const *v;
    long near;
    int lk;

    for (lk = 0; lk < EVL_LK_COUNT; lk++) {
        for (i = 0; i < EVL_FIELD_COUNT; i++)
            if (evl_fields[i].lookup == lk)
                break;
        name = evl_fields[i].name;
        s = json_string_value(json_object_get(obj, name));
        len = json_string_length(json_object_get(obj, name));
        if (evl_profile_has(p, (evl_lookup_t)lk, s, len))
            continue;
        used = 0;
        allowed[0] = '\0';
        for (v = p->values[lk]; *v != NULL; v++)
            used = evl_append(allowed, sizeof(allowed), used, ", ", *v);
        hint[0] = '\0';
        near = near_miss(p, (evl_lookup_t)lk, s, len);
        if (near >= 0)
            snprintf(hint, sizeof(hint),
                     " (did you mean '%s'? values match exactly, "
                     "case-sensitive)",
                     p->values[lk][near]);
        evl_echo(s, len, shown, sizeof(shown));
        return evl_reject(rej, EVL_INVALID_LOOKUP, name, (size_t)-1,
                          "'%s' is not in the %s list of lookup profile %s%s; "
                          "allowed: %s",
                          shown, name, p->id, hint, allowed);
    }
    return HLF_OK;
}

/* 1 if s[0..len) contains U+10FFFF (UTF-8 F4 8F BF BF). */
static int
has_max_rune(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i + 4 <= len; i++)
        if (memcmp(s + i, "\xF4\x8F\xBF\xBF", 4) == 0)
            return 1;
    return 0;
}

int
evl_check_identifier(const evl_field_t *f, const char *s, size_t len,
                     evl_reject_t *rej)
{
    char shown[EVL_ECHO_SIZE], why[192], allowed[512];

    if (f->ident == 0)
        return HLF_OK;
    if (!evl_ident_match_any(f->ident, s, len)) {
        evl_echo(s, len, shown, sizeof(shown));
        evl_ident_explain(f->ident, s, len, why, sizeof(why));
        evl_ident_describe(f->ident, allowed, sizeof(allowed));
        return evl_reject(rej, EVL_INVALID_IDENTIFIER, f->name, (size_t)-1,
                          "%s '%s' is not a valid identifier: %s; allowed: "
                          "%s",
                          f->name, shown, why, allowed);
    }
    /*
     * EventSubject becomes a composite-key attribute, and Fabric refuses
     * U+10FFFF there (it is the range-end marker). Only a URN's NSS can
     * carry it, so this is an identifier error.
     */
    if (strcmp(f->name, "EventSubject") == 0 && has_max_rune(s, len))
        return evl_reject(rej, EVL_INVALID_IDENTIFIER, f->name, (size_t)-1,
                          "%s contains U+10FFFF, which cannot be part of a "
                          "ledger key",
                          f->name);
    return HLF_OK;
}

static int
check_identifiers(json_t *obj, evl_reject_t *rej)
{
    json_t *v;
    size_t i;
    int rc;

    for (i = 0; i < EVL_FIELD_COUNT; i++) {
        if (evl_fields[i].ident == 0)
            continue;
        v = json_object_get(obj, evl_fields[i].name);
        rc = evl_check_identifier(&evl_fields[i], json_string_value(v),
                                  json_string_length(v), rej);
        if (rc != HLF_OK)
            return rc;
    }
    v = json_object_get(obj, "Audience");
    for (i = 0; i < json_array_size(v); i++) {
        const json_t *e = json_array_get(v, i);
        char where[32];

        rc = evl_check_identifier(&audience_field, json_string_value(e),
                                  json_string_length(e), rej);
        if (rc != HLF_OK) {
            /* Same message, but the field names the entry. */
            snprintf(where, sizeof(where), "Audience[%zu]", i);
            if (rej != NULL)
                snprintf(rej->field, sizeof(rej->field), "%s", where);
            return rc;
        }
    }
    return HLF_OK;
}

int
evl_validate_record(const char *buf, size_t len, const evl_profile_t *p,
                    json_t **out, evl_reject_t *rej)
{
    json_t *obj = NULL;
    int rc;

    *out = NULL;
    if (p == NULL || (buf == NULL && len != 0))
        return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                          "validator called without profile or input");
    rc = check_shape(buf != NULL ? buf : "", len, &obj, rej);
    if (rc == HLF_OK)
        rc = check_fields(obj, p, rej);
    if (rc == HLF_OK)
        rc = check_lookups(obj, p, rej);
    if (rc == HLF_OK)
        rc = check_identifiers(obj, rej);
    if (rc == HLF_OK && json_object_get(obj, "Context") != NULL)
        rc = evl_context_check_pii(json_object_get(obj, "Context"), rej);
    if (rc != HLF_OK)
        goto fail;
    *out = obj;
    return HLF_OK;
fail:
    json_decref(obj);
    return rc;
}
