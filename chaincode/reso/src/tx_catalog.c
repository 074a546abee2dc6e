/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lookup catalog on the ledger and its governance (reso-model.md §3.5,
 * docs/event-model.md "Catalog"). The channel has one active lookup
 * profile; RecordEvent validates with it and stamps its Version. Profiles
 * are data: a built-in set compiled from chaincode/reso/profiles/, plus
 * any profile the consortium adds. Nobody changes the catalog alone: an
 * admin of a member org proposes a change, admins of a majority of the
 * member orgs approve it, and the approval that reaches the majority
 * applies it. Every step is one transaction with one chaincode event.
 * The member list itself changes the same way (SetMembers).
 *
 * Keys (composite, type "cat"):
 *   [active]            {"Version","Proposal","Since"}
 *   [members]           {"Members":[MSP ids]}
 *   [profile, Version]  the canonical profile document
 *   [proposal, Id]      the proposal document
 *   [recorder-binding]  {"Mode","Proposal","Since"}: strict or open
 * Until the first proposal the ledger holds none of them and the built-in
 * data applies (default profile, default member list); the first proposal
 * writes that state ("seeding"), so from then on the catalog is entirely
 * on-chain. Recorder binding has no built-in entry: absent means strict
 * (reso-model.md §13), so only a SetRecorderBinding change writes it.
 */
#include "evl_contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_TYPE "cat"

#define EVENT_PROPOSED EVL_EVENT_CATALOG_PROPOSED
#define EVENT_APPROVED EVL_EVENT_CATALOG_APPROVED
#define EVENT_EFFECTIVE EVL_EVENT_CATALOG_EFFECTIVE

/* At most this many member orgs (a consortium, not a crowd). */
#define MAX_MEMBERS 64

/* ---------------- small helpers ---------------- */

/* An INTERNAL rejection for a failed stub call, with the shim's detail. */
static int
stub_fail(hlf_stub_t *stub, evl_reject_t *rej, int rc, const char *what)
{
    const hlf_error_t *last = hlf_stub_last_error(stub);

    if (last != NULL && last->code != HLF_OK && last->text[0] != '\0')
        evl_reject(rej, EVL_INTERNAL, NULL, 0, "%s: %s (%s)", what,
                   hlf_err_name(rc), last->text);
    else
        evl_reject(rej, EVL_INTERNAL, NULL, 0, "%s: %s", what,
                   hlf_err_name(rc));
    return rc < 0 ? rc : HLF_EIO;
}

static int
oom(evl_reject_t *rej)
{
    evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
    return HLF_ENOMEM;
}

static int
make_key(hlf_stub_t *stub, const char *a0, const char *a1, const char **key,
         evl_reject_t *rej)
{
    const char *attrs[2] = {a0, a1};
    int rc;

    rc = hlf_stub_create_composite_key(stub, KEY_TYPE, attrs,
                                       a1 != NULL ? 2 : 1, key);
    if (rc != HLF_OK)
        return stub_fail(stub, rej, rc, "cannot build a catalog key");
    return HLF_OK;
}

/*
 * Read catalog key [a0, a1] as JSON: *out new reference, or NULL when the
 * key is absent. Stored documents are written by this file only, so a
 * document that does not parse is ledger damage (INTERNAL).
 */
static int
read_json(hlf_stub_t *stub, const char *a0, const char *a1, json_t **out,
          evl_reject_t *rej)
{
    const uint8_t *v = NULL;
    const char *key;
    size_t n = 0;
    int rc;

    *out = NULL;
    rc = make_key(stub, a0, a1, &key, rej);
    if (rc != HLF_OK)
        return rc;
    rc = hlf_stub_get_state(stub, key, &v, &n);
    if (rc != HLF_OK)
        return stub_fail(stub, rej, rc, "cannot read the catalog");
    if (v == NULL || n == 0)
        return HLF_OK;
    *out = json_loadb((const char *)v, n, 0, NULL);
    if (*out == NULL)
        return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                          "catalog entry %s%s%s is not JSON", a0,
                          a1 != NULL ? " " : "", a1 != NULL ? a1 : "");
    return HLF_OK;
}

static int
write_json(hlf_stub_t *stub, const char *a0, const char *a1,
           const json_t *doc, evl_reject_t *rej)
{
    const char *key;
    char *text;
    int rc;

    rc = make_key(stub, a0, a1, &key, rej);
    if (rc != HLF_OK)
        return rc;
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return oom(rej);
    rc = hlf_stub_put_state(stub, key, text, strlen(text));
    free(text);
    if (rc != HLF_OK)
        return stub_fail(stub, rej, rc, "cannot write the catalog");
    return HLF_OK;
}

/* The transaction time as an IMF-fixdate, for the audit fields. */
static int
tx_time(hlf_stub_t *stub, char out[EVL_IMFDATE_LEN + 1], evl_reject_t *rej)
{
    int64_t secs = 0;
    int32_t nanos = 0;
    int rc;

    rc = hlf_stub_get_tx_timestamp(stub, &secs, &nanos);
    if (rc == HLF_OK)
        rc = evl_imfdate(secs, out);
    if (rc != HLF_OK)
        return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                          "the transaction has no usable timestamp");
    return HLF_OK;
}

/*
 * A proposal id as given (a UUID in either case) into its stored form,
 * lower case; INVALID_ARGUMENTS otherwise.
 */
static int
proposal_id(const uint8_t *arg, size_t len, char out[EVL_UUID_LEN + 1],
            evl_reject_t *rej)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; len == EVL_UUID_LEN && i < len; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = (char)arg[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c + ('a' - 'A'));
        if (dash ? c != '-' : (c == '\0' || strchr(hex, c) == NULL))
            break;
        out[i] = c;
    }
    if (len != EVL_UUID_LEN || i != len)
        return evl_reject(rej, EVL_INVALID_ARGUMENTS, "Id", (size_t)-1,
                          "a proposal Id is a UUID (8-4-4-4-12 hex digits)");
    out[len] = '\0';
    return HLF_OK;
}

/* ---------------- profiles ---------------- */

/*
 * The profile called version: the ledger's document if there is one,
 * else the built-in. *owned is set when the result was allocated (free it
 * with evl_profile_free); *p is NULL when there is no such profile.
 */
static int
load_profile(hlf_stub_t *stub, const char *version, const evl_profile_t **p,
             evl_profile_t **owned, evl_reject_t *rej)
{
    json_t *doc = NULL;
    int rc;

    *p = NULL;
    *owned = NULL;
    rc = read_json(stub, "profile", version, &doc, rej);
    if (rc != HLF_OK)
        return rc;
    if (doc == NULL) {
        *p = evl_profile_find(version);
        return HLF_OK;
    }
    rc = evl_profile_from_json(doc, owned, rej);
    json_decref(doc);
    if (rc != HLF_OK)
        return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                          "stored profile %s does not parse", version);
    *p = *owned;
    return HLF_OK;
}

int
evl_catalog_active(hlf_stub_t *stub, const evl_profile_t *dflt,
                   const evl_profile_t **p, evl_profile_t **owned,
                   evl_reject_t *rej)
{
    json_t *active = NULL;
    const char *version;
    int rc;

    *p = NULL;
    *owned = NULL;
    rc = read_json(stub, "active", NULL, &active, rej);
    if (rc != HLF_OK)
        return rc;
    if (active == NULL) {
        *p = dflt;
        return HLF_OK;
    }
    version = json_string_value(json_object_get(active, "Version"));
    if (version == NULL) {
        json_decref(active);
        return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                          "the active-profile entry has no Version");
    }
    rc = load_profile(stub, version, p, owned, rej);
    if (rc == HLF_OK && *p == NULL)
        rc = evl_reject(rej, EVL_INTERNAL, NULL, 0,
                        "the active profile %s is not in the catalog",
                        version);
    json_decref(active);
    return rc;
}

/* The two modes of SetRecorderBinding; absent means the first. */
static const char *const binding_modes[] = {"strict", "open"};

static int
binding_mode(const char *mode)
{
    size_t i;

    for (i = 0; mode != NULL && i < 2; i++)
        if (strcmp(mode, binding_modes[i]) == 0)
            return (int)i;
    return -1;
}

/* The binding entry's Mode as an index of binding_modes (0 when absent). */
static int
binding_read(hlf_stub_t *stub, int *mode, evl_reject_t *rej)
{
    json_t *doc = NULL;
    int rc;

    *mode = 0;
    rc = read_json(stub, "recorder-binding", NULL, &doc, rej);
    if (rc != HLF_OK || doc == NULL)
        return rc;
    *mode = binding_mode(json_string_value(json_object_get(doc, "Mode")));
    json_decref(doc);
    if (*mode < 0)
        return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                          "the recorder-binding entry has no valid Mode");
    return HLF_OK;
}

int
evl_catalog_binding_strict(hlf_stub_t *stub, int *strict, evl_reject_t *rej)
{
    int mode = 0, rc;

    rc = binding_read(stub, &mode, rej);
    *strict = mode == 0;
    return rc;
}

/* ---------------- the catalog view ---------------- */

/*
 * What a governance transaction needs to know: the member list and the
 * active profile id, from the ledger or (before seeding) the built-ins.
 */
struct view {
    json_t *members; /* array of MSP id strings */
    char active[EVL_PROFILE_ID_MAX + 1];
    int seeded;
};

static void
view_dispose(struct view *v)
{
    json_decref(v->members);
    v->members = NULL;
}

static int
members_valid(const json_t *arr)
{
    size_t i, k;

    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > MAX_MEMBERS)
        return 0;
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *m = json_array_get(arr, i);

        if (!json_is_string(m) || json_string_length(m) == 0 ||
            json_string_length(m) > EVL_MAX_VALUE_LEN)
            return 0;
        for (k = 0; k < i; k++)
            if (json_equal(m, json_array_get(arr, k)))
                return 0;
    }
    return 1;
}

static int
view_load(hlf_stub_t *stub, const evl_profile_t *dflt, struct view *v,
          evl_reject_t *rej)
{
    json_t *doc = NULL, *active = NULL;
    const char *id;
    int rc;

    memset(v, 0, sizeof(*v));
    rc = read_json(stub, "members", NULL, &doc, rej);
    if (rc != HLF_OK)
        return rc;
    v->seeded = doc != NULL;
    if (doc == NULL) {
        doc = json_loads(evl_builtin_members(), 0, NULL);
        if (doc == NULL)
            return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                              "the built-in member list does not parse");
    }
    v->members = json_incref(json_object_get(doc, "Members"));
    json_decref(doc);
    if (!members_valid(v->members))
        return evl_reject(rej, EVL_INTERNAL, NULL, 0,
                          "the member list is malformed");
    rc = read_json(stub, "active", NULL, &active, rej);
    if (rc != HLF_OK)
        return rc;
    id = active != NULL
             ? json_string_value(json_object_get(active, "Version"))
             : dflt->id;
    snprintf(v->active, sizeof(v->active), "%s", id != NULL ? id : "");
    json_decref(active);
    return HLF_OK;
}

static int
is_member(const struct view *v, const char *msp)
{
    size_t i;

    for (i = 0; i < json_array_size(v->members); i++)
        if (strcmp(json_string_value(json_array_get(v->members, i)), msp) ==
            0)
            return 1;
    return 0;
}

/* A strict majority of the member orgs. */
static size_t
required(const struct view *v)
{
    return json_array_size(v->members) / 2 + 1;
}

/*
 * Write the built-in state the ledger did not have yet: the member list,
 * every built-in profile, the default profile and the active entry. Runs
 * in the first proposal's transaction.
 */
static int
seed(hlf_stub_t *stub, const evl_profile_t *dflt, const struct view *v,
     evl_reject_t *rej)
{
    json_t *doc;
    size_t i;
    int rc = HLF_OK;

    if (v->seeded)
        return HLF_OK;
    doc = json_pack("{s:O}", "Members", v->members);
    if (doc == NULL)
        return oom(rej);
    rc = write_json(stub, "members", NULL, doc, rej);
    json_decref(doc);
    for (i = 0; rc == HLF_OK && i <= evl_builtin_count(); i++) {
        const evl_profile_t *p =
            i < evl_builtin_count() ? evl_builtin_profile(i) : dflt;

        /* The default is written too when it is not a built-in. */
        if (i == evl_builtin_count() && evl_profile_find(dflt->id) != NULL)
            break;
        doc = evl_profile_to_json(p);
        if (doc == NULL)
            return oom(rej);
        rc = write_json(stub, "profile", p->id, doc, rej);
        json_decref(doc);
    }
    if (rc != HLF_OK)
        return rc;
    doc = json_pack("{s:s, s:n, s:n}", "Version", dflt->id, "Proposal",
                    "Since");
    if (doc == NULL)
        return oom(rej);
    rc = write_json(stub, "active", NULL, doc, rej);
    json_decref(doc);
    return rc;
}

/* ---------------- caller checks ---------------- */

static int
require_member_admin(hlf_stub_t *stub, const struct view *v,
                     const char *action, evl_reject_t *rej)
{
    const char *msp;
    int rc;

    /* NOT_ADMIN first (tx_recorder.c's check), then membership. */
    rc = evl_require_admin(stub, action, rej);
    if (rc != HLF_OK)
        return rc;
    msp = hlf_stub_get_creator_msp_id(stub);
    if (!is_member(v, msp))
        return evl_reject(rej, EVL_NOT_MEMBER, NULL, 0,
                          "%s is not a member org of the catalog "
                          "consortium; only member orgs may %s",
                          msp, action);
    return HLF_OK;
}

/* ---------------- proposals ---------------- */

/* 1 if a profile with this Version exists on the ledger or built in. */
static int
profile_exists(hlf_stub_t *stub, const char *version, int *exists,
               evl_reject_t *rej)
{
    const evl_profile_t *p;
    evl_profile_t *owned;
    int rc;

    rc = load_profile(stub, version, &p, &owned, rej);
    *exists = p != NULL;
    evl_profile_free(owned);
    return rc;
}

static int
only_keys(const json_t *obj, const char *const *keys, size_t n,
          evl_reject_t *rej)
{
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach((json_t *)obj, key, v) {
        for (i = 0; i < n; i++)
            if (strcmp(key, keys[i]) == 0)
                break;
        if (i == n) {
            char shown[EVL_ECHO_SIZE];

            evl_echo(key, strlen(key), shown, sizeof(shown));
            return evl_reject(rej, EVL_INVALID_PROPOSAL, key, (size_t)-1,
                              "unknown key '%s' in the change", shown);
        }
    }
    return HLF_OK;
}

/*
 * The profile AddValues produces: base's document with values appended
 * to the named lists, a new Version and optionally a new Description.
 */
static int
derive_profile(hlf_stub_t *stub, const json_t *change, json_t **out,
               evl_reject_t *rej)
{
    const char *base = json_string_value(json_object_get(change, "Base"));
    const json_t *values = json_object_get(change, "Values");
    const json_t *desc = json_object_get(change, "Description");
    const evl_profile_t *p;
    evl_profile_t *owned;
    json_t *doc, *lists, *v;
    const char *key;
    size_t i;
    int rc;

    *out = NULL;
    if (base == NULL)
        return evl_reject(rej, EVL_INVALID_PROPOSAL, "Base", (size_t)-1,
                          "AddValues needs Base, the Version of the "
                          "profile to extend");
    if (!json_is_object(values) || json_object_size(values) == 0)
        return evl_reject(rej, EVL_INVALID_PROPOSAL, "Values", (size_t)-1,
                          "AddValues needs Values, an object of lookup "
                          "list name to an array of new values");
    rc = load_profile(stub, base, &p, &owned, rej);
    if (rc != HLF_OK)
        return rc;
    if (p == NULL)
        return evl_reject(rej, EVL_PROFILE_NOT_FOUND, "Base", (size_t)-1,
                          "there is no profile %s to extend", base);
    doc = evl_profile_to_json(p);
    evl_profile_free(owned);
    if (doc == NULL)
        return oom(rej);
    lists = json_object_get(doc, "Lookups");
    json_object_foreach((json_t *)values, key, v) {
        json_t *list = json_object_get(lists, key);

        if (list == NULL || !json_is_array(v)) {
            json_decref(doc);
            return evl_reject(rej, EVL_INVALID_PROPOSAL, "Values",
                              (size_t)-1,
                              "Values must map System, SubjectType, "
                              "Entity, Event or State to an array of "
                              "strings");
        }
        for (i = 0; i < json_array_size(v); i++)
            json_array_append(list, json_array_get(v, i));
    }
    if (json_object_set(doc, "Version", json_object_get(change, "Version")) !=
            0 ||
        (desc != NULL && json_object_set(doc, "Description",
                                         (json_t *)desc) != 0)) {
        json_decref(doc);
        return oom(rej);
    }
    *out = doc;
    return HLF_OK;
}

/*
 * Check a proposed change against the current catalog and build the
 * proposal document's change part into prop (Kind, Version, and Base,
 * Values, Profile as the kind has them).
 */
static int
check_change(hlf_stub_t *stub, const struct view *v, const json_t *change,
             json_t *prop, evl_reject_t *rej)
{
    static const char *const add_keys[] = {"Kind", "Profile"};
    static const char *const act_keys[] = {"Kind", "Version"};
    static const char *const mem_keys[] = {"Kind", "Members"};
    static const char *const bind_keys[] = {"Kind", "Mode"};
    static const char *const val_keys[] = {"Kind", "Base", "Version",
                                           "Values", "Description"};
    const char *kind = json_string_value(json_object_get(change, "Kind"));
    json_t *doc = NULL;
    evl_profile_t *parsed = NULL;
    const char *version;
    int rc, exists = 0;

    if (kind == NULL)
        return evl_reject(rej, EVL_INVALID_PROPOSAL, "Kind", (size_t)-1,
                          "the change needs Kind: AddProfile, "
                          "ActivateProfile, AddValues, SetMembers or "
                          "SetRecorderBinding");
    if (strcmp(kind, "SetMembers") == 0) {
        const json_t *m = json_object_get(change, "Members");

        rc = only_keys(change, mem_keys, 2, rej);
        if (rc != HLF_OK)
            return rc;
        if (!members_valid(m))
            return evl_reject(rej, EVL_INVALID_PROPOSAL, "Members",
                              (size_t)-1,
                              "Members must be 1 to %d distinct MSP ids",
                              MAX_MEMBERS);
        json_object_set_new(prop, "Kind", json_string(kind));
        json_object_set(prop, "Members", (json_t *)m);
        return HLF_OK;
    }
    if (strcmp(kind, "SetRecorderBinding") == 0) {
        const char *mode = json_string_value(json_object_get(change, "Mode"));
        int now = 0;

        rc = only_keys(change, bind_keys, 2, rej);
        if (rc != HLF_OK)
            return rc;
        if (binding_mode(mode) < 0)
            return evl_reject(rej, EVL_INVALID_PROPOSAL, "Mode", (size_t)-1,
                              "SetRecorderBinding needs Mode: \"strict\" "
                              "(only registered Recorders, each from the "
                              "identities bound to it) or \"open\" "
                              "(unregistered Recorders accepted too)");
        rc = binding_read(stub, &now, rej);
        if (rc != HLF_OK)
            return rc;
        if (binding_mode(mode) == now)
            return evl_reject(rej, EVL_INVALID_PROPOSAL, "Mode", (size_t)-1,
                              "Recorder binding is %s already", mode);
        json_object_set_new(prop, "Kind", json_string(kind));
        json_object_set_new(prop, "Mode", json_string(mode));
        return HLF_OK;
    }
    if (strcmp(kind, "ActivateProfile") == 0) {
        rc = only_keys(change, act_keys, 2, rej);
        if (rc != HLF_OK)
            return rc;
        version = json_string_value(json_object_get(change, "Version"));
        if (version == NULL)
            return evl_reject(rej, EVL_INVALID_PROPOSAL, "Version",
                              (size_t)-1,
                              "ActivateProfile needs Version, the profile "
                              "to make active");
        rc = profile_exists(stub, version, &exists, rej);
        if (rc != HLF_OK)
            return rc;
        if (!exists) {
            char shown[EVL_ECHO_SIZE];

            evl_echo(version, strlen(version), shown, sizeof(shown));
            return evl_reject(rej, EVL_PROFILE_NOT_FOUND, "Version",
                              (size_t)-1,
                              "there is no profile '%s' in the catalog",
                              shown);
        }
        if (strcmp(version, v->active) == 0)
            return evl_reject(rej, EVL_INVALID_PROPOSAL, "Version",
                              (size_t)-1, "profile %s is already active",
                              version);
        json_object_set_new(prop, "Kind", json_string(kind));
        json_object_set_new(prop, "Version", json_string(version));
        return HLF_OK;
    }
    if (strcmp(kind, "AddProfile") == 0) {
        rc = only_keys(change, add_keys, 2, rej);
        if (rc != HLF_OK)
            return rc;
        doc = json_incref(json_object_get(change, "Profile"));
        if (doc == NULL)
            return evl_reject(rej, EVL_INVALID_PROPOSAL, "Profile",
                              (size_t)-1,
                              "AddProfile needs Profile, the profile "
                              "document");
    } else if (strcmp(kind, "AddValues") == 0) {
        rc = only_keys(change, val_keys, 5, rej);
        if (rc != HLF_OK)
            return rc;
        if (!json_is_string(json_object_get(change, "Version")))
            return evl_reject(rej, EVL_INVALID_PROPOSAL, "Version",
                              (size_t)-1,
                              "AddValues needs Version, the id of the new "
                              "profile (a profile never changes once "
                              "events carry its Version)");
        rc = derive_profile(stub, change, &doc, rej);
        if (rc != HLF_OK)
            return rc;
    } else {
        char shown[EVL_ECHO_SIZE];

        evl_echo(kind, strlen(kind), shown, sizeof(shown));
        return evl_reject(rej, EVL_INVALID_PROPOSAL, "Kind", (size_t)-1,
                          "unknown Kind '%s'; the kinds are AddProfile, "
                          "ActivateProfile, AddValues, SetMembers, "
                          "SetRecorderBinding",
                          shown);
    }
    /* Both adding kinds end in a whole new profile; parse it as one. */
    rc = evl_profile_from_json(doc, &parsed, rej);
    if (rc == HLF_OK)
        rc = profile_exists(stub, parsed->id, &exists, rej);
    if (rc == HLF_OK && exists)
        rc = evl_reject(rej, EVL_PROFILE_EXISTS, "Version", (size_t)-1,
                        "a profile %s exists already; a profile never "
                        "changes, propose a new Version",
                        parsed->id);
    if (rc == HLF_OK) {
        json_t *canon = evl_profile_to_json(parsed);

        if (canon == NULL)
            rc = oom(rej);
        else {
            json_object_set_new(prop, "Kind", json_string(kind));
            json_object_set_new(prop, "Version", json_string(parsed->id));
            if (strcmp(kind, "AddValues") == 0) {
                json_object_set(prop, "Base",
                                json_object_get(change, "Base"));
                json_object_set(prop, "Values",
                                json_object_get(change, "Values"));
            }
            json_object_set_new(prop, "Profile", canon);
        }
    }
    evl_profile_free(parsed);
    json_decref(doc);
    return rc;
}

/* Apply an approved proposal: write the profile and/or the active entry. */
static int
apply(hlf_stub_t *stub, const json_t *prop, const char *when,
      evl_reject_t *rej)
{
    const char *kind = json_string_value(json_object_get(prop, "Kind"));
    const char *version = json_string_value(json_object_get(prop, "Version"));
    json_t *doc;
    int rc, exists = 0;

    /* The member list is replaced; approvals count against the new one. */
    if (strcmp(kind, "SetMembers") == 0) {
        doc = json_pack("{s:O}", "Members",
                        json_object_get(prop, "Members"));
        if (doc == NULL)
            return oom(rej);
        rc = write_json(stub, "members", NULL, doc, rej);
        json_decref(doc);
        return rc;
    }
    if (strcmp(kind, "SetRecorderBinding") == 0) {
        doc = json_pack("{s:O, s:O, s:s}", "Mode",
                        json_object_get(prop, "Mode"), "Proposal",
                        json_object_get(prop, "Id"), "Since", when);
        if (doc == NULL)
            return oom(rej);
        rc = write_json(stub, "recorder-binding", NULL, doc, rej);
        json_decref(doc);
        return rc;
    }
    rc = profile_exists(stub, version, &exists, rej);
    if (rc != HLF_OK)
        return rc;
    if (strcmp(kind, "ActivateProfile") == 0) {
        if (!exists)
            return evl_reject(rej, EVL_PROFILE_NOT_FOUND, "Version",
                              (size_t)-1,
                              "profile %s is no longer in the catalog",
                              version);
        doc = json_pack("{s:s, s:O, s:s}", "Version", version, "Proposal",
                        json_object_get(prop, "Id"), "Since", when);
        if (doc == NULL)
            return oom(rej);
        rc = write_json(stub, "active", NULL, doc, rej);
        json_decref(doc);
        return rc;
    }
    /* Another proposal may have added the same Version meanwhile. */
    if (exists)
        return evl_reject(rej, EVL_PROFILE_EXISTS, "Version", (size_t)-1,
                          "a profile %s was added since this proposal; "
                          "it cannot take effect",
                          version);
    return write_json(stub, "profile", version,
                      json_object_get(prop, "Profile"), rej);
}

/* Store prop, emit it as event name and answer it. */
static hlf_response_t
finish(hlf_stub_t *stub, const json_t *prop, const char *name)
{
    const char *id = json_string_value(json_object_get(prop, "Id"));
    hlf_response_t resp;
    evl_reject_t rej;
    char *text = NULL;
    int rc;

    rc = write_json(stub, "proposal", id, prop, &rej);
    if (rc != HLF_OK)
        return evl_respond_reject(stub, &rej);
    text = json_dumps(prop, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the proposal");
    rc = hlf_stub_set_event(stub, name, text, strlen(text));
    if (rc != HLF_OK)
        resp = evl_respond_internal(stub, rc, "cannot set the event");
    else
        resp = evl_respond_ok(stub, text, strlen(text));
    free(text);
    return resp;
}

hlf_response_t
evl_tx_propose_catalog_change(hlf_stub_t *stub, const evl_profile_t *dflt,
                              const uint8_t *arg, size_t len)
{
    char when[EVL_IMFDATE_LEN + 1], id[EVL_UUID_LEN + 1];
    const char *txid = hlf_stub_get_tx_id(stub);
    json_t *change = NULL, *prop = NULL;
    struct view v;
    evl_reject_t rej;
    hlf_response_t resp;
    json_error_t jerr;
    int rc;

    rc = view_load(stub, dflt, &v, &rej);
    if (rc == HLF_OK)
        rc = require_member_admin(stub, &v, "propose catalog changes", &rej);
    if (rc == HLF_OK) {
        change = json_loadb((const char *)arg, len, JSON_REJECT_DUPLICATES,
                            &jerr);
        if (!json_is_object(change))
            rc = evl_reject(&rej, EVL_INVALID_PROPOSAL, NULL, 0,
                            "the change must be one JSON object with Kind");
    }
    if (rc == HLF_OK) {
        prop = json_object();
        if (prop == NULL ||
            evl_uuid_from_txid(txid, strlen(txid), 0, id) != HLF_OK)
            rc = evl_reject(&rej, EVL_INTERNAL, NULL, 0,
                            "cannot derive the proposal id");
    }
    if (rc == HLF_OK)
        rc = tx_time(stub, when, &rej);
    if (rc == HLF_OK) {
        json_object_set_new(prop, "Id", json_string(id));
        rc = check_change(stub, &v, change, prop, &rej);
    }
    if (rc == HLF_OK)
        rc = seed(stub, dflt, &v, &rej);
    if (rc != HLF_OK) {
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    json_object_set_new(prop, "Status", json_string("Pending"));
    json_object_set_new(prop, "ProposedBy",
                        json_string(hlf_stub_get_creator_msp_id(stub)));
    json_object_set_new(prop, "ProposedAt", json_string(when));
    json_object_set_new(prop, "Approvals", json_array());
    json_object_set_new(prop, "Required",
                        json_integer((json_int_t)required(&v)));
    resp = finish(stub, prop, EVENT_PROPOSED);
out:
    json_decref(change);
    json_decref(prop);
    view_dispose(&v);
    return resp;
}

hlf_response_t
evl_tx_approve_catalog_change(hlf_stub_t *stub, const evl_profile_t *dflt,
                              const uint8_t *arg, size_t len)
{
    char when[EVL_IMFDATE_LEN + 1], id[EVL_UUID_LEN + 1];
    json_t *prop = NULL, *approvals, *a;
    const char *msp, *event = EVENT_APPROVED;
    struct view v;
    evl_reject_t rej;
    hlf_response_t resp;
    size_t i;
    int rc;

    rc = view_load(stub, dflt, &v, &rej);
    if (rc == HLF_OK)
        rc = require_member_admin(stub, &v, "approve catalog changes", &rej);
    if (rc == HLF_OK)
        rc = proposal_id(arg, len, id, &rej);
    if (rc == HLF_OK)
        rc = read_json(stub, "proposal", id, &prop, &rej);
    if (rc == HLF_OK && prop == NULL)
        rc = evl_reject(&rej, EVL_PROPOSAL_NOT_FOUND, "Id", (size_t)-1,
                        "there is no catalog proposal %s", id);
    if (rc == HLF_OK &&
        strcmp(json_string_value(json_object_get(prop, "Status")),
               "Pending") != 0)
        rc = evl_reject(&rej, EVL_PROPOSAL_CLOSED, "Id", (size_t)-1,
                        "proposal %s is %s already; it takes no more "
                        "approvals",
                        id,
                        json_string_value(json_object_get(prop, "Status")));
    if (rc != HLF_OK)
        goto reject;
    msp = hlf_stub_get_creator_msp_id(stub);
    approvals = json_object_get(prop, "Approvals");
    json_array_foreach(approvals, i, a) {
        if (strcmp(json_string_value(json_object_get(a, "Org")), msp) == 0) {
            rc = evl_reject(&rej, EVL_ALREADY_APPROVED, "Id", (size_t)-1,
                            "%s approved proposal %s already; an org "
                            "counts once",
                            msp, id);
            goto reject;
        }
    }
    rc = tx_time(stub, when, &rej);
    if (rc != HLF_OK)
        goto reject;
    json_array_append_new(approvals,
                          json_pack("{s:s, s:s}", "Org", msp, "At", when));
    json_object_set_new(prop, "Required",
                        json_integer((json_int_t)required(&v)));
    /* Approvals of orgs that have left the consortium do not count. */
    {
        size_t count = 0;

        json_array_foreach(approvals, i, a)
            count += is_member(&v, json_string_value(
                                       json_object_get(a, "Org")));
        if (count >= required(&v)) {
            rc = apply(stub, prop, when, &rej);
            if (rc != HLF_OK)
                goto reject;
            json_object_set_new(prop, "Status", json_string("Effective"));
            json_object_set_new(prop, "EffectiveAt", json_string(when));
            event = EVENT_EFFECTIVE;
        }
    }
    resp = finish(stub, prop, event);
    goto out;
reject:
    resp = evl_respond_reject(stub, &rej);
out:
    json_decref(prop);
    view_dispose(&v);
    return resp;
}

hlf_response_t
evl_tx_get_proposal(hlf_stub_t *stub, const evl_profile_t *dflt,
                    const uint8_t *arg, size_t len)
{
    char id[EVL_UUID_LEN + 1];
    json_t *prop = NULL;
    evl_reject_t rej;
    hlf_response_t resp;
    char *text;
    int rc;

    (void)dflt;
    rc = proposal_id(arg, len, id, &rej);
    if (rc == HLF_OK)
        rc = read_json(stub, "proposal", id, &prop, &rej);
    if (rc == HLF_OK && prop == NULL)
        rc = evl_reject(&rej, EVL_PROPOSAL_NOT_FOUND, "Id", (size_t)-1,
                        "there is no catalog proposal %s", id);
    if (rc != HLF_OK)
        return evl_respond_reject(stub, &rej);
    text = json_dumps(prop, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(prop);
    if (text == NULL)
        return evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the proposal");
    resp = evl_respond_ok(stub, text, strlen(text));
    free(text);
    return resp;
}

/* ---------------- reading the catalog ---------------- */

/*
 * Every profile: built-ins first (in build order; a ledger copy of a
 * built-in replaces it), then the ones added on the ledger, in key order.
 * Appends canonical documents to arr.
 */
static int
all_profiles(hlf_stub_t *stub, json_t *arr, evl_reject_t *rej)
{
    const char *attrs[1] = {"profile"};
    hlf_iter_t *it = NULL;
    json_t *doc;
    hlf_kv_t kv;
    size_t i;
    int rc;

    for (i = 0; i < evl_builtin_count(); i++) {
        doc = evl_profile_to_json(evl_builtin_profile(i));
        if (doc == NULL || json_array_append_new(arr, doc) != 0)
            return oom(rej);
    }
    rc = hlf_stub_get_state_by_partial_composite_key(stub, KEY_TYPE, attrs,
                                                     1, &it);
    if (rc != HLF_OK)
        return stub_fail(stub, rej, rc, "cannot list the profiles");
    while ((rc = hlf_iter_next(it, &kv)) > 0) {
        const char *ver;

        doc = json_loadb((const char *)kv.value, kv.value_len, 0, NULL);
        ver = json_string_value(json_object_get(doc, "Version"));
        if (ver == NULL) {
            json_decref(doc);
            continue;
        }
        if (evl_profile_find(ver) != NULL) {
            json_decref(doc);
            continue;
        }
        if (json_array_append_new(arr, doc) != 0) {
            hlf_iter_close(it);
            return oom(rej);
        }
    }
    if (rc < 0) {
        rc = stub_fail(stub, rej, rc, "cannot list the profiles");
        hlf_iter_close(it);
        return rc;
    }
    hlf_iter_close(it);
    return HLF_OK;
}

static hlf_response_t
respond_json(hlf_stub_t *stub, json_t *doc)
{
    hlf_response_t resp;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(doc);
    if (text == NULL)
        return evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the answer");
    resp = evl_respond_ok(stub, text, strlen(text));
    free(text);
    return resp;
}

hlf_response_t
evl_tx_get_catalog(hlf_stub_t *stub, const evl_profile_t *dflt,
                   const uint8_t *arg, size_t len)
{
    const evl_profile_t *p = NULL;
    evl_profile_t *owned = NULL;
    json_t *doc = NULL, *active = NULL, *all = NULL, *ids, *e;
    struct view v;
    evl_reject_t rej;
    size_t i;
    int rc, mode = 0;

    (void)arg;
    (void)len;
    rc = view_load(stub, dflt, &v, &rej);
    if (rc == HLF_OK)
        rc = evl_catalog_active(stub, dflt, &p, &owned, &rej);
    if (rc == HLF_OK)
        rc = binding_read(stub, &mode, &rej);
    if (rc == HLF_OK)
        rc = read_json(stub, "active", NULL, &active, &rej);
    all = json_array();
    if (rc == HLF_OK && all == NULL)
        rc = oom(&rej);
    if (rc == HLF_OK)
        rc = all_profiles(stub, all, &rej);
    if (rc == HLF_OK) {
        doc = evl_profile_to_json(p);
        ids = json_array();
        if (doc == NULL || ids == NULL) {
            json_decref(ids);
            rc = oom(&rej);
        } else {
            json_array_foreach(all, i, e)
                json_array_append(ids, json_object_get(e, "Version"));
            json_object_set(doc, "Members", v.members);
            json_object_set_new(doc, "RecorderBinding",
                                json_string(binding_modes[mode]));
            json_object_set_new(doc, "Profiles", ids);
            json_object_set(doc, "Proposal",
                            active != NULL
                                ? json_object_get(active, "Proposal")
                                : json_null());
            json_object_set(doc, "Since",
                            active != NULL ? json_object_get(active, "Since")
                                           : json_null());
        }
    }
    json_decref(all);
    json_decref(active);
    evl_profile_free(owned);
    view_dispose(&v);
    if (rc != HLF_OK) {
        json_decref(doc);
        return evl_respond_reject(stub, &rej);
    }
    return respond_json(stub, doc);
}

hlf_response_t
evl_tx_get_profiles(hlf_stub_t *stub, const evl_profile_t *dflt,
                    const uint8_t *arg, size_t len)
{
    json_t *all = json_array();
    evl_reject_t rej;
    int rc;

    (void)dflt;
    (void)arg;
    (void)len;
    rc = all == NULL ? oom(&rej) : all_profiles(stub, all, &rej);
    if (rc != HLF_OK) {
        json_decref(all);
        return evl_respond_reject(stub, &rej);
    }
    return respond_json(stub, all);
}
