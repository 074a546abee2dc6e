/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every RecordEvent rule and error code of reso-model.md §13 (the check
 * order of docs/event-model.md "Check order" and its "Errors" table) on
 * the real network, under both lookup profiles: 1.3, the network's
 * default, and 1.5-ext, activated through governance (`resoctl catalog
 * activate`) and restored to 1.3 afterwards, also when a case failed.
 *
 * Each case derives one input from a valid event (set keys, delete keys,
 * or a raw argument list), submits it through the Fabric Gateway of the
 * Brokerage peer as Brokerage's client and expects the exact status, code
 * and field. Refusals happen at endorsement, so nothing is ordered: after
 * all refusals the subject they used has an empty history on every peer.
 * One accepted event per profile is read back from another org's peer
 * field by field, with the Version it was validated under.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hlf/crypto.h"
#include "hlf/gateway.h"
#include "netfixture.h"
#include "task.h"

#define P13 1 /* the case applies under profile 1.3 */
#define PEXT 2 /* ... under 1.5-ext */
#define PBOTH (P13 | PEXT)

#define EXT "1.5-ext"

static const char *const ORGS[] = {"Brokerage", "Association", "MLS"};

static json_t *g_env;
static char g_subject[64]; /* the refusals' subject (history stays []) */
static char g_nobody[96];  /* a Recorder nobody registered */
static char g_nobody_legacy[32]; /* the same as a v1.3 bare token */

/*
 * One case. The input is the profile's valid event with the members of
 * set (a JSON object; new keys are appended in their order, existing
 * ones replaced in place) and without the keys listed in del (comma
 * separated); or raw as the one argument; fn NULL means RecordEvent;
 * argc 1 normally, 0 for no argument, 2 for a second argument "x".
 * Strings in set may name "@OTHER@" (Association's demo Recorder),
 * "@NOBODY@" and "@NOBODY_LEGACY@" (unregistered Recorders: a URN and a
 * bare token).
 */
typedef struct {
    int profiles;
    const char *what;
    const char *fn;
    int argc;
    const char *raw;
    const char *set;
    const char *del;
    int status;
    const char *code;
    const char *field; /* NULL: the error has no field */
} rule_t;

/* Inputs too long for the table (17 Audience entries, 33 Context keys,
 * long values) are built in draft_field_bounds_under_1_5_ext. */
static const rule_t RULES[] = {
    /* 1. the function and the argument count */
    {PBOTH, "function name is case-sensitive", "recordEvent", 1, NULL, NULL,
     NULL, 400, "UNKNOWN_FUNCTION", NULL},
    {PBOTH, "no argument", NULL, 0, NULL, NULL, NULL, 400,
     "INVALID_ARGUMENTS", NULL},
    {PBOTH, "two arguments", NULL, 2, NULL, NULL, NULL, 400,
     "INVALID_ARGUMENTS", NULL},
    /* 2. JSON */
    {PBOTH, "not JSON", NULL, 1, "{not json", NULL, NULL, 400,
     "INVALID_JSON", NULL},
    {PBOTH, "not an object", NULL, 1, "[1,2]", NULL, NULL, 400,
     "INVALID_JSON", NULL},
    {PBOTH, "duplicate key", NULL, 1,
     "{\"EventSubject\":\"a\",\"EventSubject\":\"b\"}", NULL, NULL, 400,
     "INVALID_JSON", NULL},
    /* 3. system fields, in the order TransactionId, Timestamp, Version */
    {PBOTH, "TransactionId supplied", NULL, 1, NULL,
     "{\"TransactionId\":\"x\"}", NULL, 400, "SYSTEM_FIELD_SUPPLIED",
     "TransactionId"},
    {PBOTH, "Timestamp supplied as null", NULL, 1, NULL,
     "{\"Timestamp\":null}", NULL, 400, "SYSTEM_FIELD_SUPPLIED",
     "Timestamp"},
    {PBOTH, "Version supplied", NULL, 1, NULL, "{\"Version\":\"1.3\"}", NULL,
     400, "SYSTEM_FIELD_SUPPLIED", "Version"},
    {PBOTH, "Version and Timestamp: Timestamp first", NULL, 1, NULL,
     "{\"Version\":\"1.3\",\"Timestamp\":\"x\"}", NULL, 400,
     "SYSTEM_FIELD_SUPPLIED", "Timestamp"},
    {PBOTH, "system field beats unknown field", NULL, 1, NULL,
     "{\"Price\":\"1\",\"TransactionId\":\"x\"}", NULL, 400,
     "SYSTEM_FIELD_SUPPLIED", "TransactionId"},
    /* 4. unknown fields, the first in input order */
    {PBOTH, "unknown field", NULL, 1, NULL, "{\"Price\":\"100000\"}", NULL,
     400, "UNKNOWN_FIELD", "Price"},
    {PBOTH, "field names are case-sensitive", NULL, 1, NULL,
     "{\"recorder\":\"x\"}", NULL, 400, "UNKNOWN_FIELD", "recorder"},
    {PBOTH, "first unknown in input order", NULL, 1, NULL,
     "{\"Zeta\":\"1\",\"Alpha\":\"2\"}", NULL, 400, "UNKNOWN_FIELD", "Zeta"},
    {PBOTH, "unknown field beats missing field", NULL, 1, NULL,
     "{\"Foo\":\"1\"}", "Application", 400, "UNKNOWN_FIELD", "Foo"},
    {P13, "Audience is not a 1.3 field", NULL, 1, NULL,
     "{\"Audience\":[\"ae1643\"]}", NULL, 400, "UNKNOWN_FIELD", "Audience"},
    {P13, "Context is not a 1.3 field", NULL, 1, NULL,
     "{\"Context\":{\"A\":\"b\"}}", NULL, 400, "UNKNOWN_FIELD", "Context"},
    /* 5. missing fields, in spec-table order */
    {PBOTH, "EventSubject missing", NULL, 1, NULL, NULL, "EventSubject", 400,
     "MISSING_FIELD", "EventSubject"},
    {PBOTH, "System missing", NULL, 1, NULL, NULL, "System", 400,
     "MISSING_FIELD", "System"},
    {PBOTH, "SubjectType missing", NULL, 1, NULL, NULL, "SubjectType", 400,
     "MISSING_FIELD", "SubjectType"},
    {PBOTH, "Entity missing", NULL, 1, NULL, NULL, "Entity", 400,
     "MISSING_FIELD", "Entity"},
    {PBOTH, "Event missing", NULL, 1, NULL, NULL, "Event", 400,
     "MISSING_FIELD", "Event"},
    {PBOTH, "State missing", NULL, 1, NULL, NULL, "State", 400,
     "MISSING_FIELD", "State"},
    {PBOTH, "Recorder missing", NULL, 1, NULL, NULL, "Recorder", 400,
     "MISSING_FIELD", "Recorder"},
    {PBOTH, "Application missing", NULL, 1, NULL, NULL, "Application", 400,
     "MISSING_FIELD", "Application"},
    {PBOTH, "State and Recorder missing: State first", NULL, 1, NULL, NULL,
     "Recorder,State", 400, "MISSING_FIELD", "State"},
    {PBOTH, "missing Application beats bad System", NULL, 1, NULL,
     "{\"System\":\"Nope\"}", "Application", 400, "MISSING_FIELD",
     "Application"},
    /* 6. values: strings of 1..255 bytes; the draft fields' shapes */
    {PBOTH, "EventSubject is a number", NULL, 1, NULL,
     "{\"EventSubject\":123}", NULL, 400, "INVALID_VALUE", "EventSubject"},
    {PBOTH, "System is empty", NULL, 1, NULL, "{\"System\":\"\"}", NULL, 400,
     "INVALID_VALUE", "System"},
    {PBOTH, "Recorder is null", NULL, 1, NULL, "{\"Recorder\":null}", NULL,
     400, "INVALID_VALUE", "Recorder"},
    {PBOTH, "State is an array", NULL, 1, NULL, "{\"State\":[\"Recorded\"]}",
     NULL, 400, "INVALID_VALUE", "State"},
    {PBOTH, "bad value beats bad lookup", NULL, 1, NULL,
     "{\"System\":\"Nope\",\"Application\":\"\"}", NULL, 400,
     "INVALID_VALUE", "Application"},
    {PEXT, "Audience empty", NULL, 1, NULL, "{\"Audience\":[]}", NULL, 400,
     "INVALID_VALUE", "Audience"},
    {PEXT, "Audience not an array", NULL, 1, NULL,
     "{\"Audience\":\"ae1643\"}", NULL, 400, "INVALID_VALUE", "Audience"},
    {PEXT, "Audience item not a string", NULL, 1, NULL,
     "{\"Audience\":[\"ae1643\",7]}", NULL, 400, "INVALID_VALUE",
     "Audience[1]"},
    {PEXT, "Context empty", NULL, 1, NULL, "{\"Context\":{}}", NULL, 400,
     "INVALID_VALUE", "Context"},
    {PEXT, "Context not flat", NULL, 1, NULL,
     "{\"Context\":{\"Year\":2020,\"N\":{\"x\":1}}}", NULL, 400,
     "INVALID_VALUE", "Context.N"},
    {PEXT, "Context value null", NULL, 1, NULL,
     "{\"Context\":{\"N\":null}}", NULL, 400, "INVALID_VALUE", "Context.N"},
    {PEXT, "Context key not a name", NULL, 1, NULL,
     "{\"Context\":{\"1st\":\"x\"}}", NULL, 400, "INVALID_VALUE",
     "Context.1st"},
    {PEXT, "Context value empty", NULL, 1, NULL,
     "{\"Context\":{\"Note\":\"\"}}", NULL, 400, "INVALID_VALUE",
     "Context.Note"},
    {PEXT, "Audience checked before Context", NULL, 1, NULL,
     "{\"Context\":{},\"Audience\":[]}", NULL, 400, "INVALID_VALUE",
     "Audience"},
    /* 7. lookups, in the order System, SubjectType, Entity, Event, State */
    {PBOTH, "System not in the list", NULL, 1, NULL, "{\"System\":\"MLS\"}",
     NULL, 400, "INVALID_LOOKUP", "System"},
    {PBOTH, "SubjectType is case-sensitive", NULL, 1, NULL,
     "{\"SubjectType\":\"property\"}", NULL, 400, "INVALID_LOOKUP",
     "SubjectType"},
    {PBOTH, "Entity not in the list", NULL, 1, NULL,
     "{\"Entity\":\"Brokerage\"}", NULL, 400, "INVALID_LOOKUP", "Entity"},
    {PBOTH, "Event not in the list", NULL, 1, NULL,
     "{\"Event\":\"Teleport\"}", NULL, 400, "INVALID_LOOKUP", "Event"},
    {PBOTH, "State is not trimmed", NULL, 1, NULL,
     "{\"State\":\"Recorded \"}", NULL, 400, "INVALID_LOOKUP", "State"},
    {PBOTH, "bad System and bad State: System", NULL, 1, NULL,
     "{\"State\":\"Nope\",\"System\":\"Nope\"}", NULL, 400,
     "INVALID_LOOKUP", "System"},
    {PBOTH, "bad State beats bad EventSubject", NULL, 1, NULL,
     "{\"EventSubject\":\"has space\",\"State\":\"Nope\"}", NULL, 400,
     "INVALID_LOOKUP", "State"},
    {P13, "association System only in 1.5-ext", NULL, 1, NULL,
     "{\"System\":\"Association Management System\"}", NULL, 400,
     "INVALID_LOOKUP", "System"},
    {P13, "Member SubjectType only in 1.5-ext", NULL, 1, NULL,
     "{\"SubjectType\":\"Member\"}", NULL, 400, "INVALID_LOOKUP",
     "SubjectType"},
    {P13, "LicensingSovereign (RCP-003) only in 1.5-ext", NULL, 1, NULL,
     "{\"Entity\":\"LicensingSovereign\"}", NULL, 400, "INVALID_LOOKUP",
     "Entity"},
    {P13, "Education only in 1.5-ext", NULL, 1, NULL,
     "{\"Event\":\"Education\"}", NULL, 400, "INVALID_LOOKUP", "Event"},
    {P13, "Splitted (RCP-005) only in 1.5-ext", NULL, 1, NULL,
     "{\"State\":\"Splitted\"}", NULL, 400, "INVALID_LOOKUP", "State"},
    {PEXT, "1.5-ext is still closed", NULL, 1, NULL,
     "{\"Event\":\"Graduation\"}", NULL, 400, "INVALID_LOOKUP", "Event"},
    /* 8. identifiers, in the order EventSubject, Recorder, Application,
     * Audience[i] */
    {PBOTH, "EventSubject with a space", NULL, 1, NULL,
     "{\"EventSubject\":\"US 42049\"}", NULL, 400, "INVALID_IDENTIFIER",
     "EventSubject"},
    {PBOTH, "EventSubject URN with a 1-letter NID", NULL, 1, NULL,
     "{\"EventSubject\":\"urn:x:y\"}", NULL, 400, "INVALID_IDENTIFIER",
     "EventSubject"},
    {PBOTH, "EventSubject with U+10FFFF", NULL, 1, NULL,
     "{\"EventSubject\":\"urn:reso:upi:\\udbff\\udfff\"}", NULL, 400,
     "INVALID_IDENTIFIER", "EventSubject"},
    {PBOTH, "Recorder with a space", NULL, 1, NULL,
     "{\"Recorder\":\"ae 1643\"}", NULL, 400, "INVALID_IDENTIFIER",
     "Recorder"},
    {PBOTH, "Application starting with a space", NULL, 1, NULL,
     "{\"Application\":\" app\"}", NULL, 400, "INVALID_IDENTIFIER",
     "Application"},
    {PBOTH, "EventSubject before Recorder", NULL, 1, NULL,
     "{\"Recorder\":\"ae 1643\",\"EventSubject\":\"a b\"}", NULL, 400,
     "INVALID_IDENTIFIER", "EventSubject"},
    {PEXT, "Audience item not a Recorder id", NULL, 1, NULL,
     "{\"Audience\":[\"ae1643\",\"no spaces\"]}", NULL, 400,
     "INVALID_IDENTIFIER", "Audience[1]"},
    {PEXT, "Application before Audience", NULL, 1, NULL,
     "{\"Audience\":[\"a b\"],\"Application\":\" app\"}", NULL, 400,
     "INVALID_IDENTIFIER", "Application"},
    /* 8a. personal data in Context */
    {PEXT, "e-mail address", NULL, 1, NULL,
     "{\"Context\":{\"Contact\":\"jane.doe@example.com\"}}", NULL, 400,
     "PII_EMAIL", "Context.Contact"},
    {PEXT, "phone number", NULL, 1, NULL,
     "{\"Context\":{\"Year\":2020,\"Tel\":\"+1 555 123 4567\"}}", NULL, 400,
     "PII_PHONE", "Context.Tel"},
    {PEXT, "grouped phone number", NULL, 1, NULL,
     "{\"Context\":{\"Office\":\"call (555) 123-4567\"}}", NULL, 400,
     "PII_PHONE", "Context.Office"},
    {PEXT, "e-mail checked before phone in one value", NULL, 1, NULL,
     "{\"Context\":{\"C\":\"+1 555 123 4567 or a@b.org\"}}", NULL, 400,
     "PII_EMAIL", "Context.C"},
    {PEXT, "the first such value in key order", NULL, 1, NULL,
     "{\"Context\":{\"T\":\"555-123-4567\",\"M\":\"x@y.org\"}}", NULL, 400,
     "PII_PHONE", "Context.T"},
    {PEXT, "identifiers before personal data", NULL, 1, NULL,
     "{\"Recorder\":\"ae 1643\",\"Context\":{\"M\":\"x@y.org\"}}", NULL, 400,
     "INVALID_IDENTIFIER", "Recorder"},
    /* 9. Recorder binding (strict: the default) */
    {PBOTH, "another org's Recorder", NULL, 1, NULL,
     "{\"Recorder\":\"@OTHER@\"}", NULL, 403, "RECORDER_NOT_AUTHORIZED",
     "Recorder"},
    {PBOTH, "an unregistered Recorder", NULL, 1, NULL,
     "{\"Recorder\":\"@NOBODY@\"}", NULL, 403, "RECORDER_NOT_AUTHORIZED",
     "Recorder"},
    {PBOTH, "an unregistered legacy Recorder", NULL, 1, NULL,
     "{\"Recorder\":\"@NOBODY_LEGACY@\"}", NULL, 403,
     "RECORDER_NOT_AUTHORIZED", "Recorder"},
    {PBOTH, "lookups before the binding", NULL, 1, NULL,
     "{\"Recorder\":\"@OTHER@\",\"State\":\"Nope\"}", NULL, 400,
     "INVALID_LOOKUP", "State"},
    {PEXT, "personal data before the binding", NULL, 1, NULL,
     "{\"Recorder\":\"@OTHER@\",\"Context\":{\"M\":\"x@y.org\"}}", NULL, 400,
     "PII_EMAIL", "Context.M"},
};

/* The valid event of each profile, for subject (new). */
static json_t *
base_event(int profile, const char *subject)
{
    const char *rec = netfx_recorder(g_env, "Brokerage");

    if (profile == P13)
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                         "EventSubject", subject, "System",
                         "Property Listing Service", "SubjectType",
                         "Property", "Entity", "Broker", "Event", "Listing",
                         "State", "Recorded", "Recorder", rec,
                         "Application", "rules-it");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                     "EventSubject", subject, "System",
                     "Association Management System", "SubjectType",
                     "Member", "Entity", "Association", "Event", "Education",
                     "State", "Recorded", "Recorder", rec, "Application",
                     "rules-it");
}

/* @OTHER@ / @NOBODY@ in a string value of set, replaced in place. */
static void
resolve(json_t *set)
{
    const char *k;
    json_t *v;

    json_object_foreach(set, k, v) {
        const char *s = json_string_value(v);

        if (s != NULL && strcmp(s, "@OTHER@") == 0)
            json_object_set_new(set, k, json_string(netfx_recorder(
                                            g_env, "Association")));
        else if (s != NULL && strcmp(s, "@NOBODY@") == 0)
            json_object_set_new(set, k, json_string(g_nobody));
        else if (s != NULL && strcmp(s, "@NOBODY_LEGACY@") == 0)
            json_object_set_new(set, k, json_string(g_nobody_legacy));
    }
}

/* The case's argument (new string). */
static char *
case_input(const rule_t *r, int profile)
{
    json_t *ev, *set;
    char dels[128], *k, *comma, *out;

    if (r->raw != NULL)
        return strdup(r->raw);
    ev = base_event(profile, g_subject);
    ASSERT_NOT_NULL(ev);
    if (r->set != NULL) {
        set = json_loads(r->set, JSON_DECODE_ANY, NULL);
        if (set == NULL)
            TEST__FAIL("case '%s': set is not JSON", r->what);
        resolve(set);
        ASSERT_EQ(json_object_update(ev, set), 0);
        json_decref(set);
    }
    if (r->del != NULL) {
        snprintf(dels, sizeof(dels), "%s,", r->del);
        for (k = dels; (comma = strchr(k, ',')) != NULL; k = comma + 1) {
            *comma = '\0';
            json_object_del(ev, k);
        }
    }
    out = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);
    ASSERT_NOT_NULL(out);
    return out;
}

/*
 * Submit fn(args) as org's client. Returns the chaincode status (200 on
 * success); *body is the answer or the {"error":{...}} object (new).
 */
static int
submit(reso_org_t *o, const char *fn, const hlf_bytes_t *args, size_t n,
       json_t **body)
{
    hlf_bytes_t res = {0};
    hlf_error_t e;
    int rc;

    hlf_error_clear(&e);
    rc = hlf_contract_submit(o->contract, fn, args, n, &res, &e);
    if (rc == HLF_OK) {
        *body = json_loadb((const char *)res.data, res.len, 0, NULL);
        hlf_bytes_free(&res);
        return 200;
    }
    if (rc != HLF_ECHAINCODE)
        TEST__FAIL("%s: %s", fn, e.text);
    *body = json_loads(e.chaincode_message, 0, NULL);
    if (*body == NULL)
        TEST__FAIL("%s: the refusal is not JSON: %s", fn,
                   e.chaincode_message);
    return e.chaincode_status;
}

static void
run_case(reso_org_t *o, const rule_t *r, int profile)
{
    char *input = case_input(r, profile);
    hlf_bytes_t args[2];
    const char *code, *field, *msg;
    json_t *b = NULL, *err;
    int st;

    args[0] = hlf_bytes_str(input);
    args[1] = hlf_bytes_str("x");
    st = submit(o, r->fn != NULL ? r->fn : "RecordEvent", args,
                (size_t)r->argc, &b);
    err = json_object_get(b, "error");
    code = json_string_value(json_object_get(err, "code"));
    field = json_string_value(json_object_get(err, "field"));
    msg = json_string_value(json_object_get(err, "message"));
    if (st != r->status || code == NULL || strcmp(code, r->code) != 0 ||
        (r->field == NULL) != (field == NULL) ||
        (field != NULL && strcmp(field, r->field) != 0))
        TEST__FAIL("profile %s, case '%s': got %d %s field %s (%s), want "
                   "%d %s field %s; input %s",
                   profile == P13 ? "1.3" : EXT, r->what, st,
                   code != NULL ? code : "-", field != NULL ? field : "-",
                   msg != NULL ? msg : "", r->status, r->code,
                   r->field != NULL ? r->field : "-", input);
    /* A message for humans, saying something. */
    ASSERT(msg != NULL && strlen(msg) > 10);
    json_decref(b);
    free(input);
}

/* The history of g_subject on every org's peer: []. */
static void
nothing_written(void)
{
    hlf_bytes_t a = hlf_bytes_str(g_subject), res = {0};
    reso_org_t o;
    hlf_error_t e;
    size_t i;

    for (i = 0; i < 3; i++) {
        netfx_org_open(g_env, ORGS[i], &o);
        hlf_error_clear(&e);
        if (hlf_contract_evaluate(o.contract, "GetSubjectHistory", &a, 1,
                                  &res, &e) != HLF_OK)
            TEST__FAIL("GetSubjectHistory on %s: %s", ORGS[i], e.text);
        ASSERT_EQ(res.len, 2);
        ASSERT_MEM_EQ(res.data, "[]", 2);
        hlf_bytes_free(&res);
        reso_netenv_close_org(&o);
    }
}

/*
 * The profile's valid event (with the draft fields under 1.5-ext) is
 * accepted with its Version and reads back equal from MLS's peer.
 */
static void
accepted(reso_org_t *o, int profile)
{
    char subject[80], *doc;
    hlf_bytes_t a, res = {0};
    json_t *ev = NULL, *in, *got;
    hlf_error_t e;
    reso_org_t m;
    const char *k;
    json_t *v;
    int i;

    snprintf(subject, sizeof(subject), "%s-OK", g_subject);
    in = base_event(profile, subject);
    if (profile == PEXT) {
        /* The draft fields; the Fee is a number, not a phone number. */
        json_t *draft = json_pack(
            "{s:[s], s:{s:s, s:i, s:s, s:b}}", "Audience",
            "urn:reso:recorder:mls:1", "Context", "CourseCode", "ETH-101",
            "Year", 2026, "Fee", "12500000.50", "Online", 1);

        ASSERT_NOT_NULL(draft);
        ASSERT_EQ(json_object_update(in, draft), 0);
        json_decref(draft);
    }
    doc = json_dumps(in, JSON_COMPACT | JSON_PRESERVE_ORDER);
    a = hlf_bytes_str(doc);
    ASSERT_EQ(submit(o, "RecordEvent", &a, 1, &ev), 200);
    ASSERT_STR_EQ(netfx_str(ev, "Version"), profile == P13 ? "1.3" : EXT);
    ASSERT_EQ(json_object_size(ev),
              json_object_size(in) + 3); /* + TransactionId, Timestamp,
                                            Version */
    json_object_foreach(in, k, v) {
        if (!json_equal(v, json_object_get(ev, k)))
            TEST__FAIL("stored %s differs from the input", k);
    }
    /* Committed: MLS's peer has it (it may lag its block briefly). */
    netfx_org_open(g_env, "MLS", &m);
    a = hlf_bytes_str(netfx_str(ev, "TransactionId"));
    for (i = 0; i < 100; i++) {
        hlf_error_clear(&e);
        if (hlf_contract_evaluate(m.contract, "GetEvent", &a, 1, &res,
                                  &e) == HLF_OK)
            break;
        usleep(100 * 1000);
    }
    ASSERT(i < 100);
    got = json_loadb((const char *)res.data, res.len, 0, NULL);
    ASSERT(json_equal(got, ev));
    json_decref(got);
    hlf_bytes_free(&res);
    reso_netenv_close_org(&m);
    json_decref(ev);
    json_decref(in);
    free(doc);
}

/* Wait until every org's peer answers GetCatalog with version. */
static void
wait_profile(const char *version)
{
    hlf_bytes_t none = hlf_bytes_str(""), res = {0};
    reso_org_t o;
    hlf_error_t e;
    json_t *cat;
    size_t i;
    int t;

    for (i = 0; i < 3; i++) {
        netfx_org_open(g_env, ORGS[i], &o);
        for (t = 0; t < 200; t++) {
            hlf_error_clear(&e);
            if (hlf_contract_evaluate(o.contract, "GetCatalog", &none, 0,
                                      &res, &e) != HLF_OK)
                TEST__FAIL("GetCatalog on %s: %s", ORGS[i], e.text);
            cat = json_loadb((const char *)res.data, res.len, 0, NULL);
            hlf_bytes_free(&res);
            if (strcmp(netfx_str(cat, "Version"), version) == 0) {
                ASSERT_STR_EQ(netfx_str(cat, "RecorderBinding"), "strict");
                json_decref(cat);
                break;
            }
            json_decref(cat);
            usleep(100 * 1000);
        }
        if (t == 200)
            TEST__FAIL("%s never shows profile %s", ORGS[i], version);
        reso_netenv_close_org(&o);
    }
}

/* `resoctl catalog activate version` in a separate process. */
static int
activate(const char *version)
{
    char args[64];

    snprintf(args, sizeof(args), "catalog activate %s", version);
    return netfx_resoctl(args);
}

static void
run_profile(int profile)
{
    reso_org_t o;
    size_t i, n = 0;
    uint8_t r[6];
    char hex[13];

    ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
    hlf_hex_encode(r, sizeof(r), hex);
    snprintf(g_subject, sizeof(g_subject), "US-RULES-%s-%s",
             profile == P13 ? "13" : "EXT", hex);
    snprintf(g_nobody, sizeof(g_nobody), "urn:reso:recorder:nobody:%s",
             hex);
    snprintf(g_nobody_legacy, sizeof(g_nobody_legacy), "nb%s", hex);
    netfx_org_open(g_env, "Brokerage", &o);
    for (i = 0; i < sizeof(RULES) / sizeof(RULES[0]); i++) {
        if (!(RULES[i].profiles & profile))
            continue;
        run_case(&o, &RULES[i], profile);
        n++;
    }
    fprintf(stderr, "profile %s: %zu refusals as specified\n",
            profile == P13 ? "1.3" : EXT, n);
    nothing_written();
    accepted(&o, profile);
    reso_netenv_close_org(&o);
}

TEST_IMPL(record_event_rules_under_1_3)
{
    wait_profile("1.3");
    run_profile(P13);
}

TEST_IMPL(record_event_rules_under_1_5_ext)
{
    ASSERT_EQ(activate(EXT), 0);
    wait_profile(EXT);
    run_profile(PEXT);
}

/* The draft-field limits that need long inputs, built here. */
TEST_IMPL(draft_field_bounds_under_1_5_ext)
{
    static const rule_t big[] = {
        {PEXT, "17 Audience entries", NULL, 1, NULL, NULL, NULL, 400,
         "INVALID_VALUE", "Audience"},
        {PEXT, "33 Context keys", NULL, 1, NULL, NULL, NULL, 400,
         "INVALID_VALUE", "Context"},
        {PEXT, "a 1025-byte Context value", NULL, 1, NULL, NULL, NULL, 400,
         "INVALID_VALUE", "Context.Note"},
        {PEXT, "a 256-byte Application", NULL, 1, NULL, NULL, NULL, 400,
         "INVALID_VALUE", "Application"},
    };
    char long_s[1100], key[8];
    json_t *ev, *arr, *ctx;
    rule_t r;
    reso_org_t o;
    size_t i;
    int k;

    ASSERT_EQ(activate(EXT), 0);
    wait_profile(EXT);
    snprintf(g_subject, sizeof(g_subject), "US-RULES-BIG-%ld",
             (long)getpid());
    netfx_org_open(g_env, "Brokerage", &o);
    for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        ev = base_event(PEXT, g_subject);
        if (i == 0) {
            arr = json_array();
            for (k = 0; k < 17; k++)
                json_array_append_new(arr, json_string("ae1643"));
            json_object_set_new(ev, "Audience", arr);
        } else if (i == 1) {
            ctx = json_object();
            for (k = 0; k < 33; k++) {
                snprintf(key, sizeof(key), "K%d", k);
                json_object_set_new(ctx, key, json_integer(k));
            }
            json_object_set_new(ev, "Context", ctx);
        } else {
            memset(long_s, 'a', sizeof(long_s));
            long_s[i == 2 ? 1025 : 256] = '\0';
            if (i == 2)
                json_object_set_new(ev, "Context",
                                    json_pack("{s:s}", "Note", long_s));
            else
                json_object_set_new(ev, "Application", json_string(long_s));
        }
        r = big[i];
        r.raw = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
        run_case(&o, &r, PEXT);
        free((char *)r.raw);
        json_decref(ev);
    }
    nothing_written();
    reso_netenv_close_org(&o);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(record_event_rules_under_1_3),
    TEST_ENTRY(record_event_rules_under_1_5_ext),
    TEST_ENTRY(draft_field_bounds_under_1_5_ext),
};

int
main(int argc, char **argv)
{
    int rc;

    g_env = netfx_env();
    rc = test_run_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
    /* Whatever happened, leave the default profile for the next tests. */
    if (activate("1.3") != 0) {
        fprintf(stderr, "could not re-activate profile 1.3\n");
        rc = 1;
    }
    json_decref(g_env);
    return rc;
}
