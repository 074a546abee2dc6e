/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lookup catalog and its governance on the real network (issue 5 §1,
 * §2): with the peers' own endorsement and the network's reso-gateway.
 *
 * - a proposal alone changes nothing, one approval of three member orgs
 *   (a minority) changes nothing, the second makes it effective; an org
 *   counts once; client identities cannot propose or approve;
 * - RecordEvent under each profile, from all three orgs (each with the
 *   demo Recorder registered to it: Recorder binding is strict): a
 *   sample of the reso-model §13 codes under 1.3 and under 1.5-ext
 *   (draft fields, personal data in Context), and the Version stamped;
 *   a profile change leaves the binding strict;
 * - the same flow over REST with the admin-bound demo API keys
 *   ("<org>-admin"), and NOT_ADMIN for a client key;
 * - resoctl catalog show/activate agree.
 *
 * The network starts with the default profile 1.3. The test switches to
 * 1.5-ext and back; main() restores 1.3 with `resoctl catalog activate`
 * (a separate process) even when a test failed, so the tests after this
 * one see the default.
 */
#include "gwtest.h"
#include "netfixture.h"
#include "task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXT "1.5-ext"

static json_t *g_env;
static int g_port;
static char g_tag[24];

/* fn(arg) (none when arg is NULL) as org's user; chaincode status back. */
static int
call(const char *org, const char *user, int submit, const char *fn,
     const char *arg, json_t **out)
{
    hlf_bytes_t a = hlf_bytes_str(arg != NULL ? arg : ""), res = {0};
    reso_org_t o;
    hlf_error_t e;
    char why[512];
    int rc, status;

    if (reso_netenv_open_org(g_env, org, user, &o, why, sizeof(why)) != 0)
        TEST__FAIL("open %s %s: %s", org, user, why);
    hlf_error_clear(&e);
    rc = submit ? hlf_contract_submit(o.contract, fn, &a, arg != NULL, &res,
                                      &e)
                : hlf_contract_evaluate(o.contract, fn, &a, arg != NULL,
                                        &res, &e);
    status = rc == HLF_OK ? 200
             : e.code == HLF_ECHAINCODE ? e.chaincode_status
                                        : -1;
    if (status < 0)
        TEST__FAIL("%s by %s %s: %s", fn, org, user, e.text);
    /* The answer, or the chaincode's {"error":{...}} body. */
    if (out != NULL && rc == HLF_OK)
        *out = json_loadb((const char *)res.data, res.len, 0, NULL);
    else if (out != NULL)
        *out = json_loads(e.chaincode_message, 0, NULL);
    hlf_bytes_free(&res);
    reso_netenv_close_org(&o);
    return status;
}

/* The error code of an {"error":{...}} answer ("" when none). */
static const char *
code_of(json_t *body)
{
    const char *c = json_string_value(
        json_object_get(json_object_get(body, "error"), "code"));

    return c != NULL ? c : "";
}

/* Expect fn to be refused with status and code (and field, if given). */
static void
expect_refusal(const char *org, const char *user, int submit,
               const char *fn, const char *arg, int status,
               const char *code, const char *field)
{
    json_t *b = NULL;
    int got = call(org, user, submit, fn, arg, &b);

    if (got != status || strcmp(code_of(b), code) != 0)
        TEST__FAIL("%s by %s %s: %d %s (want %d %s)", fn, org, user, got,
                   code_of(b), status, code);
    if (field != NULL)
        ASSERT_STR_EQ(json_string_value(json_object_get(
                          json_object_get(b, "error"), "field")),
                      field);
    json_decref(b);
}

/*
 * The active profile's Version. A profile change never touches the
 * Recorder binding, which stays strict (the default) throughout.
 */
static const char *
active(void)
{
    static char v[64];
    json_t *cat = NULL;

    ASSERT_EQ(call("MLS", "client", 0, "GetCatalog", NULL, &cat), 200);
    snprintf(v, sizeof(v), "%s", netfx_str(cat, "Version"));
    ASSERT_STR_EQ(netfx_str(cat, "RecorderBinding"), "strict");
    json_decref(cat);
    return v;
}

/*
 * An association Education event (1.5-ext values) for subject part sub,
 * submitted by org: Recorder binding is strict, so the event carries the
 * demo Recorder registered to org. extra ends the JSON.
 */
static void
education(char *buf, size_t n, const char *org, const char *sub,
          const char *extra)
{
    snprintf(buf, n,
             "{\"EventSubject\":\"urn:reso:uaid:c1-%s-%s\","
             "\"System\":\"Association Management System\","
             "\"SubjectType\":\"Member\",\"Entity\":\"Association\","
             "\"Event\":\"Education\",\"State\":\"Recorded\","
             "\"Recorder\":\"%s\",\"Application\":\"catalog-it\"%s}",
             sub, g_tag, netfx_recorder(g_env, org), extra);
}

/* A strict v1.3 listing event submitted by org (its demo Recorder). */
static void
listing(char *buf, size_t n, const char *org)
{
    snprintf(buf, n,
             "{\"EventSubject\":\"US-C1-%s-%s\",\"System\":\"Property "
             "Listing Service\",\"SubjectType\":\"Property\",\"Entity\":"
             "\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","
             "\"Recorder\":\"%s\",\"Application\":\"catalog-it\"}",
             org, g_tag, netfx_recorder(g_env, org));
}

static const char *const orgs[] = {"Brokerage", "Association", "MLS"};

/* Record ev as org's client: expect 200 with Version v, org's Recorder. */
static void
record_ok(const char *org, const char *ev, const char *v)
{
    json_t *b = NULL;
    int st = call(org, "client", 1, "RecordEvent", ev, &b);

    if (st != 200)
        TEST__FAIL("RecordEvent by %s: %d %s", org, st, code_of(b));
    ASSERT_STR_EQ(netfx_str(b, "Version"), v);
    ASSERT_STR_EQ(netfx_str(b, "Recorder"), netfx_recorder(g_env, org));
    json_decref(b);
}

/* Under profile 1.3: a sample of §13 codes and the Version, every org. */
static void
check_v13_rules(void)
{
    char ev[1024];
    size_t i;

    for (i = 0; i < 3; i++) {
        listing(ev, sizeof(ev), orgs[i]);
        record_ok(orgs[i], ev, "1.3");
        education(ev, sizeof(ev), orgs[i], orgs[i], "");
        expect_refusal(orgs[i], "client", 1, "RecordEvent", ev, 400,
                       "INVALID_LOOKUP", "System");
    }
    education(ev, sizeof(ev), "MLS", "x",
              ",\"Context\":{\"A\":\"b\"}");
    expect_refusal("MLS", "client", 1, "RecordEvent", ev, 400,
                   "UNKNOWN_FIELD", "Context");
    expect_refusal("MLS", "client", 1, "RecordEvent",
                   "{\"EventSubject\":\"s\",\"Version\":\"1.3\"}", 400,
                   "SYSTEM_FIELD_SUPPLIED", "Version");
}

/* Under 1.5-ext: association events with Context, personal data refused. */
static void
check_ext_rules(void)
{
    char ev[1024];
    size_t i;

    for (i = 0; i < 3; i++) {
        education(ev, sizeof(ev), orgs[i], orgs[i],
                  ",\"Context\":{\"Organization\":\"OREA\",\"Year\":2020,"
                  "\"CourseCode\":\"I-567\",\"CompletionDate\":"
                  "\"2020-04-09\"},\"Audience\":[\"urn:reso:recorder:org2:"
                  "1143\"]");
        record_ok(orgs[i], ev, EXT);
        listing(ev, sizeof(ev), orgs[i]);
        record_ok(orgs[i], ev, EXT);
    }
    education(ev, sizeof(ev), "Brokerage", "p1",
              ",\"Context\":{\"Contact\":\"jane.doe@example.com\"}");
    expect_refusal("Brokerage", "client", 1, "RecordEvent", ev, 400,
                   "PII_EMAIL", "Context.Contact");
    education(ev, sizeof(ev), "Association", "p2",
              ",\"Context\":{\"Tel\":\"+1 555 123 4567\"}");
    expect_refusal("Association", "client", 1, "RecordEvent", ev, 400,
                   "PII_PHONE", "Context.Tel");
    education(ev, sizeof(ev), "MLS", "p3",
              ",\"Context\":{\"N\":{\"x\":1}}");
    expect_refusal("MLS", "client", 1, "RecordEvent", ev, 400,
                   "INVALID_VALUE", "Context.N");
    education(ev, sizeof(ev), "MLS", "p4",
              ",\"Audience\":[\"no spaces\"]");
    expect_refusal("MLS", "client", 1, "RecordEvent", ev, 400,
                   "INVALID_IDENTIFIER", "Audience[0]");
    education(ev, sizeof(ev), "MLS", "p5", ",\"Payload\":{}");
    expect_refusal("MLS", "client", 1, "RecordEvent", ev, 400,
                   "UNKNOWN_FIELD", "Payload");
}

TEST_IMPL(governance_through_the_peers)
{
    char change[128], id[64];
    json_t *b = NULL;

    ASSERT_STR_EQ(active(), "1.3");
    check_v13_rules();
    snprintf(change, sizeof(change),
             "{\"Kind\":\"ActivateProfile\",\"Version\":\"%s\"}", EXT);
    /* Clients cannot propose. */
    expect_refusal("Brokerage", "client", 1, "ProposeCatalogChange", change,
                   403, "NOT_ADMIN", NULL);
    ASSERT_EQ(call("Brokerage", "admin", 1, "ProposeCatalogChange", change,
                   &b),
              200);
    snprintf(id, sizeof(id), "%s", netfx_str(b, "Id"));
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Pending");
    ASSERT_EQ(json_integer_value(json_object_get(b, "Required")), 2);
    json_decref(b);
    /* The proposal alone has no effect. */
    ASSERT_STR_EQ(active(), "1.3");
    check_v13_rules();
    /* Clients cannot approve. */
    expect_refusal("Association", "client", 1, "ApproveCatalogChange", id,
                   403, "NOT_ADMIN", NULL);
    /* One of three is a minority: no effect. */
    ASSERT_EQ(call("Association", "admin", 1, "ApproveCatalogChange", id,
                   &b),
              200);
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Pending");
    json_decref(b);
    ASSERT_STR_EQ(active(), "1.3");
    check_v13_rules();
    expect_refusal("Association", "admin", 1, "ApproveCatalogChange", id,
                   400, "ALREADY_APPROVED", "Id");
    /* The second org is the majority. */
    ASSERT_EQ(call("MLS", "admin", 1, "ApproveCatalogChange", id, &b), 200);
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Effective");
    ASSERT_EQ(json_array_size(json_object_get(b, "Approvals")), 2);
    json_decref(b);
    ASSERT_STR_EQ(active(), EXT);
    check_ext_rules();
    expect_refusal("Brokerage", "admin", 1, "ApproveCatalogChange", id, 400,
                   "PROPOSAL_CLOSED", "Id");
    ASSERT_EQ(call("MLS", "client", 0, "GetProposal", id, &b), 200);
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Effective");
    json_decref(b);
}

/* REST with the network gateway's demo keys (org and "<org>-admin"). */
static void
rest(const char *key_name, const char *method, const char *path,
     const char *body, gwt_resp_t *r)
{
    char auth[256];
    const char *hdrs[3] = {auth, "Content-Type: application/json", NULL};
    gwt_opts_t o = {0};

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             netfx_str(json_object_get(json_object_get(g_env, "gateway"),
                                       "api_keys"),
                       key_name));
    o.headers = hdrs;
    o.body = body;
    o.body_len = body != NULL ? strlen(body) : 0;
    o.timeout_ms = 60000;
    gwt_http(method, g_port, path, &o, r);
    if (r->curl_rc != 0)
        TEST__FAIL("%s %s: curl error %d", method, path, r->curl_rc);
}

static json_t *
rest_json(const char *key_name, const char *method, const char *path,
          const char *body, long status)
{
    gwt_resp_t r;
    json_t *b;

    rest(key_name, method, path, body, &r);
    if (r.status != status)
        TEST__FAIL("%s %s as %s: %ld %s (want %ld)", method, path, key_name,
                   r.status, r.body, status);
    b = json_loads(r.body, 0, NULL);
    gwt_resp_free(&r);
    ASSERT_NOT_NULL(b);
    return b;
}

TEST_IMPL(governance_over_rest)
{
    char path[160], change[128], target[16];
    json_t *b;

    /* Switch the other way from what is active (normally 1.5-ext now). */
    b = rest_json("MLS", "GET", "/v1/catalog", NULL, 200);
    snprintf(target, sizeof(target), "%s",
             strcmp(netfx_str(b, "Version"), EXT) == 0 ? "1.3" : EXT);
    ASSERT_EQ(json_array_size(json_object_get(b, "Members")), 3);
    json_decref(b);
    b = rest_json("MLS", "GET", "/v1/catalog/profiles", NULL, 200);
    ASSERT(json_array_size(b) >= 2);
    ASSERT_STR_EQ(netfx_str(json_array_get(b, 0), "Version"), "1.3");
    ASSERT_STR_EQ(netfx_str(json_array_get(b, 1), "Version"), EXT);
    json_decref(b);
    snprintf(change, sizeof(change),
             "{\"Kind\":\"ActivateProfile\",\"Version\":\"%s\"}", target);
    b = rest_json("Brokerage", "POST", "/v1/catalog/proposals", change, 403);
    ASSERT_STR_EQ(code_of(b), "NOT_ADMIN");
    json_decref(b);
    b = rest_json("MLS-admin", "POST", "/v1/catalog/proposals", change, 201);
    snprintf(path, sizeof(path), "/v1/catalog/proposals/%s/approvals",
             netfx_str(b, "Id"));
    json_decref(b);
    b = rest_json("Brokerage-admin", "POST", path, NULL, 200);
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Pending");
    json_decref(b);
    b = rest_json("MLS", "GET", "/v1/catalog", NULL, 200);
    ASSERT(strcmp(netfx_str(b, "Version"), target) != 0);
    json_decref(b);
    b = rest_json("Association", "POST", path, NULL, 403);
    ASSERT_STR_EQ(code_of(b), "NOT_ADMIN");
    json_decref(b);
    b = rest_json("Association-admin", "POST", path, NULL, 200);
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Effective");
    json_decref(b);
    path[strlen(path) - strlen("/approvals")] = '\0';
    b = rest_json("Brokerage", "GET", path, NULL, 200);
    ASSERT_STR_EQ(netfx_str(b, "Status"), "Effective");
    json_decref(b);
    b = rest_json("MLS", "GET", "/v1/catalog", NULL, 200);
    ASSERT_STR_EQ(netfx_str(b, "Version"), target);
    json_decref(b);
    if (strcmp(target, "1.3") == 0)
        check_v13_rules();
    else
        check_ext_rules();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(governance_through_the_peers),
    TEST_ENTRY(governance_over_rest),
};

/*
 * Whatever happened, leave 1.3 active for the tests after this one:
 * `resoctl catalog activate 1.3` as a separate process (it does nothing
 * when 1.3 is active already).
 */
static int
restore_default(void)
{
    return netfx_resoctl("catalog activate 1.3");
}

int
main(int argc, char **argv)
{
    json_t *gw;
    const char *url;
    int rc;

    g_env = netfx_env();
    if (g_env == NULL)
        return 77;
    gw = json_object_get(g_env, "gateway");
    url = json_string_value(json_object_get(gw, "url"));
    if (url == NULL || strrchr(url, ':') == NULL) {
        fprintf(stderr, "the network runs no gateway\n");
        json_decref(g_env);
        return 1;
    }
    g_port = (int)strtol(strrchr(url, ':') + 1, NULL, 10);
    snprintf(g_tag, sizeof(g_tag), "%ld", (long)getpid());
    rc = test_run_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
    if (restore_default() != 0) {
        fprintf(stderr, "could not re-activate profile 1.3\n");
        rc = 1;
    }
    json_decref(g_env);
    return rc;
}
