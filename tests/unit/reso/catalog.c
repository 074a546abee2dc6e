/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lookup catalog on the ledger and its governance (tx_catalog.c),
 * against the stub double with a settable creator (fake_cid.h): a
 * proposal alone changes nothing, a minority of approvals changes
 * nothing, the majority applies it; non-admins and non-members are
 * refused; an org approves once; a third profile arrives as data; and
 * RecordEvent validates with, and stamps, whichever profile is active,
 * including the draft fields and the no-personal-data rules of Context.
 */
#include "evl_contract.h"
#include "fake_cid.h"
#include "fake_stub.h"
#include "seed.h"
#include "task.h"

#include <stdio.h>
#include <string.h>

static fake_result_t res;
static unsigned tx_counter;

/* One transaction by the current fake identity; fresh txid each time. */
static void
call(fake_ledger_t *l, const char *fn, const char *arg)
{
    const char *args[2] = {fn, arg};
    char txid[32];

    snprintf(txid, sizeof(txid), "catalog-tx-%u", ++tx_counter);
    fake_result_dispose(&res);
    fake_invoke(l, txid, 1586441855, (int32_t)tx_counter, 1, args, NULL,
                arg != NULL ? 2 : 1, evl_invoke, NULL, &res);
}

/* As call, by an admin (OU=admin) of msp. */
static void
admin_call(fake_ledger_t *l, const char *msp, const char *fn,
           const char *arg)
{
    fake_cid_set(msp, "admin", NULL, NULL);
    call(l, fn, arg);
    fake_cid_reset();
}

static void
expect_error(int status, const char *code, const char *field, int line)
{
    json_t *body = json_loads(res.message, 0, NULL), *err;
    const char *got;

    if (res.status != status || body == NULL)
        TEST__FAIL("line %d: status %d message %s (want %d %s)", line,
                   res.status, res.message, status, code);
    err = json_object_get(body, "error");
    ASSERT_STR_EQ(json_string_value(json_object_get(err, "code")), code);
    got = json_string_value(json_object_get(err, "field"));
    if (field == NULL)
        ASSERT_NULL(got);
    else
        ASSERT_STR_EQ(got, field);
    ASSERT_EQ(res.writes, 0);
    ASSERT_NULL(res.event_name);
    json_decref(body);
}

#define EXPECT_ERROR(status, code, field)                                    \
    expect_error(status, code, field, __LINE__)

/* A string member of the last payload (parsed); "" when absent. */
static char last_str[256];

static const char *
payload_str(const char *key)
{
    json_t *doc = json_loads(res.payload, 0, NULL);
    const char *s = json_string_value(json_object_get(doc, key));

    snprintf(last_str, sizeof(last_str), "%s", s != NULL ? s : "");
    json_decref(doc);
    return last_str;
}

static json_int_t
payload_int(const char *key)
{
    json_t *doc = json_loads(res.payload, 0, NULL);
    json_int_t n = json_integer_value(json_object_get(doc, key));

    json_decref(doc);
    return n;
}

static size_t
payload_array_size(const char *key)
{
    json_t *doc = json_loads(res.payload, 0, NULL);
    size_t n = json_array_size(json_object_get(doc, key));

    json_decref(doc);
    return n;
}

#define EDU_EVENT(context)                                                   \
    "{\"EventSubject\":\"urn:reso:uaid:900765912\","                        \
    "\"System\":\"Association Management System\","                         \
    "\"SubjectType\":\"Member\",\"Entity\":\"Association\","                \
    "\"Event\":\"Education\",\"State\":\"Recorded\","                       \
    "\"Recorder\":\"urn:reso:recorder:org1:999888777666\","                 \
    "\"Application\":\"API Server\"" context "}"

#define V13_EVENT                                                            \
    "{\"EventSubject\":\"US-42049-49888-1213666-R-N\","                     \
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\"," \
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","   \
    "\"Recorder\":\"ae1643\",\"Application\":\"87478-a43\"}"

#define ACTIVATE(v) "{\"Kind\":\"ActivateProfile\",\"Version\":\"" v "\"}"

/* Propose change as BrokerageMSP's admin; the new proposal's Id. */
static void
propose(fake_ledger_t *l, const char *change, char id[64])
{
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange", change);
    if (res.status != 200)
        TEST__FAIL("propose: %d %s", res.status, res.message);
    snprintf(id, 64, "%s", payload_str("Id"));
}

/* Propose and approve by two of the three member orgs. */
static void
govern(fake_ledger_t *l, const char *change)
{
    char id[64];

    propose(l, change, id);
    admin_call(l, "AssociationMSP", "ApproveCatalogChange", id);
    ASSERT_EQ(res.status, 200);
    admin_call(l, "MLSMSP", "ApproveCatalogChange", id);
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(res.event_name, "CatalogChangeEffective");
}

TEST_IMPL(catalog_before_seeding)
{
    fake_ledger_t *l = fake_ledger_new();
    json_t *doc, *profiles;

    call(l, "GetCatalog", NULL);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(res.writes, 0);
    doc = json_loads(res.payload, 0, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "Version")), "1.3");
    ASSERT_EQ(json_array_size(json_object_get(
                  json_object_get(doc, "Lookups"), "Event")),
              17);
    ASSERT_EQ(json_array_size(json_object_get(doc, "Fields")), 0);
    profiles = json_object_get(doc, "Profiles");
    ASSERT_EQ(json_array_size(profiles), 2);
    ASSERT_STR_EQ(json_string_value(json_array_get(profiles, 0)), "1.3");
    ASSERT_STR_EQ(json_string_value(json_array_get(profiles, 1)),
                  "1.5-ext");
    ASSERT_EQ(json_array_size(json_object_get(doc, "Members")), 3);
    ASSERT(json_is_null(json_object_get(doc, "Proposal")));
    json_decref(doc);
    call(l, "GetProfiles", NULL);
    ASSERT_EQ(res.status, 200);
    doc = json_loads(res.payload, 0, NULL);
    ASSERT_EQ(json_array_size(doc), 2);
    ASSERT_STR_EQ(json_string_value(
                      json_object_get(json_array_get(doc, 1), "Version")),
                  "1.5-ext");
    json_decref(doc);
    call(l, "GetCatalog", "x");
    EXPECT_ERROR(400, "INVALID_ARGUMENTS", NULL);
    /* One empty argument is the same as none. */
    call(l, "GetCatalog", "");
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(payload_str("Version"), "1.3");
    ASSERT_EQ(fake_ledger_count(l), 0);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(majority_makes_it_effective)
{
    fake_ledger_t *l = fake_ledger_new();
    char id[64], upper[64];
    size_t i;

    seed_recorder(l, "BrokerageMSP", "urn:reso:recorder:org1:999888777666");
    seed_recorder(l, "BrokerageMSP", "ae1643");

    /* Under 1.3 the association event is refused. */
    call(l, "RecordEvent", EDU_EVENT(""));
    EXPECT_ERROR(400, "INVALID_LOOKUP", "System");

    propose(l, ACTIVATE("1.5-ext"), id);
    ASSERT_STR_EQ(res.event_name, "CatalogChangeProposed");
    ASSERT_STR_EQ(payload_str("Status"), "Pending");
    ASSERT_STR_EQ(payload_str("ProposedBy"), "BrokerageMSP");
    ASSERT_EQ(payload_array_size("Approvals"), 0);
    ASSERT_EQ(payload_int("Required"), 2);
    ASSERT_EQ(strlen(id), 36);
    /* Seeding: members, two built-in profiles, active, the proposal. */
    ASSERT_EQ(res.writes, 5);
    /* A proposal alone has no effect. */
    call(l, "RecordEvent", EDU_EVENT(""));
    EXPECT_ERROR(400, "INVALID_LOOKUP", "System");

    /* One approval of three members is a minority: no effect. */
    admin_call(l, "AssociationMSP", "ApproveCatalogChange", id);
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(res.event_name, "CatalogChangeApproved");
    ASSERT_STR_EQ(payload_str("Status"), "Pending");
    ASSERT_EQ(payload_array_size("Approvals"), 1);
    call(l, "RecordEvent", EDU_EVENT(""));
    EXPECT_ERROR(400, "INVALID_LOOKUP", "System");
    call(l, "GetCatalog", NULL);
    ASSERT_STR_EQ(payload_str("Version"), "1.3");

    /* The same org again does not count twice. */
    admin_call(l, "AssociationMSP", "ApproveCatalogChange", id);
    EXPECT_ERROR(400, "ALREADY_APPROVED", "Id");

    /* The second org is the majority: effective in that transaction. */
    for (i = 0; id[i] != '\0'; i++)
        upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
    upper[i] = '\0';
    admin_call(l, "MLSMSP", "ApproveCatalogChange", upper);
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(res.event_name, "CatalogChangeEffective");
    ASSERT_STR_EQ(payload_str("Status"), "Effective");
    ASSERT_EQ(payload_array_size("Approvals"), 2);
    /* The proposal and the active entry. */
    ASSERT_EQ(res.writes, 2);

    call(l, "RecordEvent",
         EDU_EVENT(",\"Context\":{\"Organization\":\"OREA\",\"Year\":2020,"
                   "\"CourseCode\":\"I-567\",\"CompletionDate\":"
                   "\"2020-04-09\",\"OffchainAddress\":\"urn:ipfs:"
                   "QmXyS6Cj6PMpRfkRcfve1FykDdC2tdL8N4tkkWvt6yuiqA\"},"
                   "\"Audience\":[\"urn:reso:recorder:org2:1143\"]"));
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(payload_str("Version"), "1.5-ext");
    ASSERT(strstr(res.payload,
                  "\"Application\":\"API Server\",\"Audience\":[\"urn:reso:"
                  "recorder:org2:1143\"],\"Context\":{\"Organization\":"
                  "\"OREA\",\"Year\":2020,") != NULL);
    /* 1.3 values stay valid in the extended profile. */
    call(l, "RecordEvent", V13_EVENT);
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(payload_str("Version"), "1.5-ext");

    admin_call(l, "BrokerageMSP", "ApproveCatalogChange", id);
    EXPECT_ERROR(400, "PROPOSAL_CLOSED", "Id");
    call(l, "GetCatalog", NULL);
    ASSERT_STR_EQ(payload_str("Version"), "1.5-ext");
    ASSERT_STR_EQ(payload_str("Proposal"), id);
    call(l, "GetProposal", upper);
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(payload_str("Id"), id);
    ASSERT_STR_EQ(payload_str("Status"), "Effective");
    ASSERT_EQ(res.writes, 0);

    /* And back to 1.3 the same way. */
    govern(l, ACTIVATE("1.3"));
    call(l, "RecordEvent", EDU_EVENT(""));
    EXPECT_ERROR(400, "INVALID_LOOKUP", "System");
    call(l, "RecordEvent", V13_EVENT);
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(payload_str("Version"), "1.3");
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(only_member_admins)
{
    fake_ledger_t *l = fake_ledger_new();
    char id[64];

    /* The default fake identity is a client of BrokerageMSP. */
    call(l, "ProposeCatalogChange", ACTIVATE("1.5-ext"));
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    fake_cid_set(NULL, NULL, NULL, NULL);
    call(l, "ProposeCatalogChange", ACTIVATE("1.5-ext"));
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    fake_cid_reset();
    admin_call(l, "OutsiderMSP", "ProposeCatalogChange", ACTIVATE("1.5-ext"));
    EXPECT_ERROR(403, "NOT_MEMBER", NULL);
    ASSERT_EQ(fake_ledger_count(l), 0);

    propose(l, ACTIVATE("1.5-ext"), id);
    call(l, "ApproveCatalogChange", id);
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    fake_cid_set("MLSMSP", "peer", NULL, NULL);
    call(l, "ApproveCatalogChange", id);
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    admin_call(l, "OutsiderMSP", "ApproveCatalogChange", id);
    EXPECT_ERROR(403, "NOT_MEMBER", NULL);
    admin_call(l, "OutsiderMSP", "ApproveCatalogChange", id);
    EXPECT_ERROR(403, "NOT_MEMBER", NULL);
    /* Refused approvals left it pending with none. */
    call(l, "GetProposal", id);
    ASSERT_STR_EQ(payload_str("Status"), "Pending");
    ASSERT_EQ(payload_array_size("Approvals"), 0);
    /* The proposer's own approval counts like any member's. */
    admin_call(l, "BrokerageMSP", "ApproveCatalogChange", id);
    ASSERT_STR_EQ(res.event_name, "CatalogChangeApproved");
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(proposal_errors)
{
    fake_ledger_t *l = fake_ledger_new();

    admin_call(l, "BrokerageMSP", "ProposeCatalogChange", "not json");
    EXPECT_ERROR(400, "INVALID_PROPOSAL", NULL);
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange", "{}");
    EXPECT_ERROR(400, "INVALID_PROPOSAL", "Kind");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"DropTable\"}");
    EXPECT_ERROR(400, "INVALID_PROPOSAL", "Kind");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"ActivateProfile\",\"Version\":\"1.5-ext\","
               "\"Now\":true}");
    EXPECT_ERROR(400, "INVALID_PROPOSAL", "Now");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange", ACTIVATE("9.9"));
    EXPECT_ERROR(404, "PROFILE_NOT_FOUND", "Version");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange", ACTIVATE("1.3"));
    EXPECT_ERROR(400, "INVALID_PROPOSAL", "Version");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"AddValues\",\"Base\":\"1.3\",\"Version\":\"1.3\","
               "\"Values\":{\"Event\":[\"Graduation\"]}}");
    EXPECT_ERROR(400, "PROFILE_EXISTS", "Version");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"AddValues\",\"Base\":\"7\",\"Version\":\"8\","
               "\"Values\":{\"Event\":[\"Graduation\"]}}");
    EXPECT_ERROR(404, "PROFILE_NOT_FOUND", "Base");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"AddValues\",\"Base\":\"1.3\",\"Version\":\"8\","
               "\"Values\":{\"Event\":[\"Listing\"]}}");
    EXPECT_ERROR(400, "INVALID_PROFILE", "Lookups.Event[17]");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"AddProfile\",\"Profile\":{\"Version\":\"x y\"}}");
    EXPECT_ERROR(400, "INVALID_PROFILE", "Version");
    ASSERT_EQ(fake_ledger_count(l), 0);
    call(l, "GetProposal", "6991d580-c6c3-8ceb-90a5-a40c89fb0224");
    EXPECT_ERROR(404, "PROPOSAL_NOT_FOUND", "Id");
    call(l, "GetProposal", "nope");
    EXPECT_ERROR(400, "INVALID_ARGUMENTS", "Id");
    admin_call(l, "MLSMSP", "ApproveCatalogChange",
               "6991d580-c6c3-8ceb-90a5-a40c89fb0224");
    EXPECT_ERROR(404, "PROPOSAL_NOT_FOUND", "Id");
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(new_profiles_are_data)
{
    static const char add[] =
        "{\"Kind\":\"AddProfile\",\"Profile\":{\"Version\":\"2.0-test\","
        "\"Description\":\"a test profile\",\"Fields\":[\"Context\"],"
        "\"Lookups\":{\"System\":[\"Manual Input\"],\"SubjectType\":"
        "[\"Property\"],\"Entity\":[\"Broker\"],\"Event\":[\"Listing\"],"
        "\"State\":[\"Recorded\"]}}}";
    fake_ledger_t *l = fake_ledger_new();
    json_t *doc;

    seed_recorder(l, "BrokerageMSP", "ae1643");
    seed_recorder(l, "BrokerageMSP", "r");
    govern(l, add);
    call(l, "GetProfiles", NULL);
    doc = json_loads(res.payload, 0, NULL);
    ASSERT_EQ(json_array_size(doc), 3);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(doc, 2),
                                                    "Version")),
                  "2.0-test");
    json_decref(doc);
    /* Added is not active. */
    call(l, "RecordEvent", V13_EVENT);
    ASSERT_STR_EQ(payload_str("Version"), "1.3");
    govern(l, ACTIVATE("2.0-test"));
    call(l, "RecordEvent", V13_EVENT);
    EXPECT_ERROR(400, "INVALID_LOOKUP", "System");
    call(l, "RecordEvent",
         "{\"EventSubject\":\"s1\",\"System\":\"Manual Input\","
         "\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
         "\"Event\":\"Listing\",\"State\":\"Recorded\",\"Recorder\":\"r\","
         "\"Application\":\"a\",\"Context\":{\"Note\":\"n\"}}");
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(payload_str("Version"), "2.0-test");
    /* Audience is not in this profile's Fields. */
    call(l, "RecordEvent",
         "{\"EventSubject\":\"s1\",\"System\":\"Manual Input\","
         "\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
         "\"Event\":\"Listing\",\"State\":\"Recorded\",\"Recorder\":\"r\","
         "\"Application\":\"a\",\"Audience\":[\"x\"]}");
    EXPECT_ERROR(400, "UNKNOWN_FIELD", "Audience");
    /* AddValues derives a new Version from a base. */
    govern(l, "{\"Kind\":\"AddValues\",\"Base\":\"1.5-ext\",\"Version\":"
              "\"1.5-ext.1\",\"Values\":{\"Event\":[\"Graduation\"]}}");
    govern(l, ACTIVATE("1.5-ext.1"));
    call(l, "GetCatalog", NULL);
    ASSERT_STR_EQ(payload_str("Version"), "1.5-ext.1");
    ASSERT_EQ(payload_array_size("Profiles"), 4);
    call(l, "RecordEvent",
         "{\"EventSubject\":\"urn:reso:uaid:1\",\"System\":\"Association "
         "Management System\",\"SubjectType\":\"Member\",\"Entity\":"
         "\"Association\",\"Event\":\"Graduation\",\"State\":\"Recorded\","
         "\"Recorder\":\"r\",\"Application\":\"a\"}");
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(payload_str("Version"), "1.5-ext.1");
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

/* RecordEvent's draft-field rules, in check order, under 1.5-ext. */
TEST_IMPL(draft_fields_under_extended_profile)
{
    static const struct {
        const char *extra;
        const char *code;
        const char *field;
    } cases[] = {
        {",\"Context\":{\"Contact\":\"jane.doe@example.com\"}", "PII_EMAIL",
         "Context.Contact"},
        {",\"Context\":{\"Note\":\"call +1 555 123 4567\"}", "PII_PHONE",
         "Context.Note"},
        {",\"Context\":{\"A\":\"ok\",\"Tel\":\"(555) 123-4567\"}",
         "PII_PHONE", "Context.Tel"},
        {",\"Context\":[]", "INVALID_VALUE", "Context"},
        {",\"Context\":{}", "INVALID_VALUE", "Context"},
        {",\"Context\":{\"Nested\":{\"a\":1}}", "INVALID_VALUE",
         "Context.Nested"},
        {",\"Context\":{\"N\":null}", "INVALID_VALUE", "Context.N"},
        {",\"Context\":{\"bad key\":\"x\"}", "INVALID_VALUE",
         "Context.bad key"},
        {",\"Context\":{\"E\":\"\"}", "INVALID_VALUE", "Context.E"},
        {",\"Audience\":\"urn:reso:x:1\"", "INVALID_VALUE", "Audience"},
        {",\"Audience\":[\"ok-1\",7]", "INVALID_VALUE", "Audience[1]"},
        {",\"Audience\":[\"ok-1\",\"not an id\"]", "INVALID_IDENTIFIER",
         "Audience[1]"},
        {",\"Version\":\"1.5-ext\"", "SYSTEM_FIELD_SUPPLIED", "Version"},
        {",\"Payload\":{}", "UNKNOWN_FIELD", "Payload"},
    };
    fake_ledger_t *l = fake_ledger_new();
    char buf[1024];
    size_t i;

    seed_recorder(l, "BrokerageMSP", "r");

    /* Under 1.3 the draft fields are unknown. */
    call(l, "RecordEvent",
         "{\"EventSubject\":\"s\",\"System\":\"Manual Input\","
         "\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
         "\"Event\":\"Listing\",\"State\":\"Recorded\",\"Recorder\":\"r\","
         "\"Application\":\"a\",\"Context\":{\"A\":\"b\"}}");
    EXPECT_ERROR(400, "UNKNOWN_FIELD", "Context");
    govern(l, ACTIVATE("1.5-ext"));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(buf, sizeof(buf), EDU_EVENT("%s"), cases[i].extra);
        call(l, "RecordEvent", buf);
        expect_error(400, cases[i].code, cases[i].field, (int)i);
    }
    /* A bad lookup or identifier is reported before personal data. */
    call(l, "RecordEvent",
         "{\"EventSubject\":\"s\",\"System\":\"AMS\","
         "\"SubjectType\":\"Member\",\"Entity\":\"Association\","
         "\"Event\":\"Education\",\"State\":\"Recorded\",\"Recorder\":\"r\","
         "\"Application\":\"a\",\"Context\":{\"M\":\"a@b.org\"}}");
    EXPECT_ERROR(400, "INVALID_LOOKUP", "System");
    call(l, "RecordEvent",
         "{\"EventSubject\":\"s s\",\"System\":\"Manual Input\","
         "\"SubjectType\":\"Member\",\"Entity\":\"Association\","
         "\"Event\":\"Education\",\"State\":\"Recorded\",\"Recorder\":\"r\","
         "\"Application\":\"a\",\"Context\":{\"M\":\"a@b.org\"}}");
    EXPECT_ERROR(400, "INVALID_IDENTIFIER", "EventSubject");
    /* The remaining §13 codes under 1.5-ext. */
    call(l, "RecordEvent", "{\"EventSubject\":");
    EXPECT_ERROR(400, "INVALID_JSON", NULL);
    call(l, "RecordEvent",
         "{\"EventSubject\":\"s\",\"System\":\"Manual Input\","
         "\"SubjectType\":\"Member\",\"Entity\":\"Association\","
         "\"Event\":\"Education\",\"State\":\"Recorded\",\"Recorder\":\"r\","
         "\"Context\":{\"M\":\"a@b.org\"}}");
    EXPECT_ERROR(400, "MISSING_FIELD", "Application");
    call(l, "RecordEvent",
         "{\"EventSubject\":\"s\",\"System\":\"Manual Input\","
         "\"SubjectType\":\"Member\",\"Entity\":\"Association\","
         "\"Event\":\"Education\",\"State\":\"Graduated\",\"Recorder\":\"r\","
         "\"Application\":\"a\"}");
    EXPECT_ERROR(400, "INVALID_LOOKUP", "State");
    /* Recorder binding (tx_recorder.c) comes after personal data. */
    admin_call(l, "BrokerageMSP", "RegisterRecorder",
               "{\"Recorder\":\"urn:reso:recorder:org1:999888777666\"}");
    ASSERT_EQ(res.status, 200);
    fake_cid_set("AssociationMSP", "client", NULL, NULL);
    call(l, "RecordEvent",
         EDU_EVENT(",\"Context\":{\"M\":\"a@b.org\"}"));
    EXPECT_ERROR(400, "PII_EMAIL", "Context.M");
    call(l, "RecordEvent", EDU_EVENT(",\"Context\":{\"Year\":2020}"));
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    fake_cid_reset();
    call(l, "RecordEvent", EDU_EVENT(",\"Context\":{\"Year\":2020}"));
    ASSERT_EQ(res.status, 200);
    /* Values that are not contact data pass. */
    call(l, "RecordEvent",
         EDU_EVENT(",\"Context\":{\"Date\":\"2020-04-09\",\"Code\":"
                   "\"E-23456\",\"Amount\":\"12500000.50\",\"Big\":"
                   "\"2.500.000.000\",\"Upi\":\"US-42049-49888-1213666-R-N\","
                   "\"Paid\":true,\"Rate\":0.5}"));
    ASSERT_EQ(res.status, 200);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(member_list_is_governed_too)
{
    fake_ledger_t *l = fake_ledger_new();
    char id[64];

    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"SetMembers\",\"Members\":[]}");
    EXPECT_ERROR(400, "INVALID_PROPOSAL", "Members");
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"SetMembers\",\"Members\":[\"A\",\"A\"]}");
    EXPECT_ERROR(400, "INVALID_PROPOSAL", "Members");
    /* TitleMSP is not a member yet: it cannot approve. */
    propose(l, "{\"Kind\":\"SetMembers\",\"Members\":[\"AssociationMSP\","
               "\"BrokerageMSP\",\"MLSMSP\",\"TitleMSP\"]}",
            id);
    admin_call(l, "TitleMSP", "ApproveCatalogChange", id);
    EXPECT_ERROR(403, "NOT_MEMBER", NULL);
    admin_call(l, "BrokerageMSP", "ApproveCatalogChange", id);
    ASSERT_STR_EQ(payload_str("Status"), "Pending");
    admin_call(l, "MLSMSP", "ApproveCatalogChange", id);
    ASSERT_STR_EQ(payload_str("Status"), "Effective");
    call(l, "GetCatalog", NULL);
    ASSERT_EQ(payload_array_size("Members"), 4);
    /* Four members: a majority is three. */
    propose(l, ACTIVATE("1.5-ext"), id);
    ASSERT_EQ(payload_int("Required"), 3);
    admin_call(l, "BrokerageMSP", "ApproveCatalogChange", id);
    admin_call(l, "MLSMSP", "ApproveCatalogChange", id);
    ASSERT_STR_EQ(payload_str("Status"), "Pending");
    call(l, "GetCatalog", NULL);
    ASSERT_STR_EQ(payload_str("Version"), "1.3");
    admin_call(l, "TitleMSP", "ApproveCatalogChange", id);
    ASSERT_STR_EQ(res.event_name, "CatalogChangeEffective");
    call(l, "GetCatalog", NULL);
    ASSERT_STR_EQ(payload_str("Version"), "1.5-ext");
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

/*
 * Recorder binding is strict until the consortium opens it: the setting is
 * a catalog change like any other (reso-model.md §13, §5.2).
 */
TEST_IMPL(recorder_binding_is_governed)
{
    static const struct {
        const char *change;
        const char *field;
    } bad[] = {
        {"{\"Kind\":\"SetRecorderBinding\"}", "Mode"},
        {"{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"loose\"}", "Mode"},
        /* strict is in force already */
        {"{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"strict\"}", "Mode"},
        {"{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"open\","
         "\"Version\":\"1.3\"}",
         "Version"},
    };
    fake_ledger_t *l = fake_ledger_new();
    char id[64];
    size_t i;

    call(l, "GetCatalog", NULL);
    ASSERT_STR_EQ(payload_str("RecorderBinding"), "strict");
    call(l, "RecordEvent", V13_EVENT);
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    ASSERT(strstr(res.message, "not registered") != NULL);
    /* Bad and pointless changes: 400 INVALID_PROPOSAL naming the key. */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        admin_call(l, "BrokerageMSP", "ProposeCatalogChange", bad[i].change);
        EXPECT_ERROR(400, "INVALID_PROPOSAL", bad[i].field);
    }
    call(l, "ProposeCatalogChange",
         "{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"open\"}");
    EXPECT_ERROR(403, "NOT_ADMIN", NULL);
    /* Proposed and approved by one org of three: no effect yet. */
    propose(l, "{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"open\"}", id);
    ASSERT_STR_EQ(payload_str("Mode"), "open");
    admin_call(l, "BrokerageMSP", "ApproveCatalogChange", id);
    ASSERT_STR_EQ(payload_str("Status"), "Pending");
    call(l, "RecordEvent", V13_EVENT);
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    admin_call(l, "MLSMSP", "ApproveCatalogChange", id);
    ASSERT_STR_EQ(res.event_name, "CatalogChangeEffective");
    ASSERT_EQ(res.writes, 2);
    call(l, "GetCatalog", NULL);
    ASSERT_STR_EQ(payload_str("RecorderBinding"), "open");
    /* Open: unregistered Recorders from any org... */
    call(l, "RecordEvent", V13_EVENT);
    ASSERT_EQ(res.status, 200);
    fake_cid_set("MLSMSP", "client", NULL, NULL);
    call(l, "RecordEvent", V13_EVENT);
    fake_cid_reset();
    ASSERT_EQ(res.status, 200);
    /* ...but a registered one stays bound to its org. */
    seed_recorder(l, "BrokerageMSP", "ae1643");
    fake_cid_set("MLSMSP", "client", NULL, NULL);
    call(l, "RecordEvent", V13_EVENT);
    fake_cid_reset();
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    ASSERT(strstr(res.message, "registered to BrokerageMSP") != NULL);
    /* And back to strict. */
    admin_call(l, "BrokerageMSP", "ProposeCatalogChange",
               "{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"open\"}");
    EXPECT_ERROR(400, "INVALID_PROPOSAL", "Mode");
    govern(l, "{\"Kind\":\"SetRecorderBinding\",\"Mode\":\"strict\"}");
    call(l, "GetCatalog", NULL);
    ASSERT_STR_EQ(payload_str("RecorderBinding"), "strict");
    fake_cid_set("MLSMSP", "client", NULL, NULL);
    call(l, "RecordEvent",
         "{\"EventSubject\":\"s1\",\"System\":\"Manual Input\","
         "\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
         "\"Event\":\"Listing\",\"State\":\"Recorded\","
         "\"Recorder\":\"cf67de\",\"Application\":\"a\"}");
    fake_cid_reset();
    EXPECT_ERROR(403, "RECORDER_NOT_AUTHORIZED", "Recorder");
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(catalog_before_seeding),
    TEST_ENTRY(majority_makes_it_effective),
    TEST_ENTRY(only_member_admins),
    TEST_ENTRY(proposal_errors),
    TEST_ENTRY(new_profiles_are_data),
    TEST_ENTRY(draft_fields_under_extended_profile),
    TEST_ENTRY(member_list_is_governed_too),
    TEST_ENTRY(recorder_binding_is_governed),
};

TEST_MAIN(tests)
