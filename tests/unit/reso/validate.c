/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RecordEvent validation under the "1.3" profile: every error code with
 * its exact field, the check order between codes and between fields, all
 * 57 lookup values, near-misses, and profiles as data.
 */
#include "evl.h"
#include "hlf/err.h"
#include "task.h"

#define BASE                                                                 \
    "{\"EventSubject\":\"US-42049-49888-1213666-R-N\","                      \
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\","  \
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","    \
    "\"Recorder\":\"ae1643\",\"Application\":\"87478-a43\"}"

static const evl_profile_t *
v13(void)
{
    const evl_profile_t *p = evl_profile_find("1.3");

    ASSERT_NOT_NULL(p);
    return p;
}

/* Validate text; expect a rejection with code and field ("" for none). */
static void
expect_reject_p(const evl_profile_t *p, const char *text, size_t len,
                evl_code_t code, const char *field, int line)
{
    evl_reject_t rej;
    json_t *out = (json_t *)1;
    int rc;

    memset(&rej, 0, sizeof(rej));
    rc = evl_validate_record(text, len, p, &out, &rej);
    if (rc != HLF_EINVAL || out != NULL || rej.code != code ||
        strcmp(rej.field, field) != 0)
        TEST__FAIL("line %d: rc %d code %s field '%s' (want %s '%s'): %s",
                   line, rc, evl_code_name(rej.code), rej.field,
                   evl_code_name(code), field, rej.message);
    ASSERT(strlen(rej.message) > 10);
}

#define EXPECT(text, code, field)                                            \
    expect_reject_p(v13(), (text), strlen(text), EVL_##code, (field),        \
                    __LINE__)

/* BASE with field set to the JSON fragment value (NULL deletes it). */
static char *
with(const char *text, const char *field, const char *value)
{
    json_t *o = json_loads(text, 0, NULL), *v = NULL;
    char *out;

    ASSERT_NOT_NULL(o);
    if (value != NULL) {
        v = json_loads(value, JSON_DECODE_ANY, NULL);
        ASSERT_NOT_NULL(v);
        ASSERT_EQ(json_object_set_new(o, field, v), 0);
    } else {
        ASSERT_EQ(json_object_del(o, field), 0);
    }
    out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ASSERT_NOT_NULL(out);
    json_decref(o);
    return out;
}

/* BASE-like text with one field changed must be rejected. */
#define EXPECT_WITH(text, set_field, value, code, field)                     \
    do {                                                                     \
        char *t_ = with((text), (set_field), (value));                       \
        EXPECT(t_, code, field);                                             \
        free(t_);                                                            \
    } while (0)

/* BASE with two fields changed must be rejected. */
#define EXPECT_WITH2(f1, v1, f2, v2, code, field)                            \
    do {                                                                     \
        char *t1_ = with(BASE, (f1), (v1));                                  \
        EXPECT_WITH(t1_, (f2), (v2), code, (field));                         \
        free(t1_);                                                           \
    } while (0)

/* A JSON string fragment for value. */
static char *
jstr(const char *value)
{
    json_t *s = json_string(value);
    char *out;

    ASSERT_NOT_NULL(s);
    out = json_dumps(s, JSON_ENCODE_ANY);
    json_decref(s);
    return out;
}

static void
expect_ok_text(const char *text, int line)
{
    evl_reject_t rej;
    json_t *out = NULL;
    int rc;

    memset(&rej, 0, sizeof(rej));
    rc = evl_validate_record(text, strlen(text), v13(), &out, &rej);
    if (rc != HLF_OK)
        TEST__FAIL("line %d: rejected %s (%s '%s'): %s", line, text,
                   evl_code_name(rej.code), rej.field, rej.message);
    ASSERT_NOT_NULL(out);
    ASSERT_EQ(json_object_size(out), 8);
    json_decref(out);
}

/* BASE with field = string value must validate (or be rejected). */
static void
field_value(const char *field, const char *value, int ok, evl_code_t code,
            int line)
{
    char *frag = jstr(value), *text = with(BASE, field, frag);

    if (ok)
        expect_ok_text(text, line);
    else
        expect_reject_p(v13(), text, strlen(text), code, field, line);
    free(text);
    free(frag);
}

TEST_IMPL(validate_ok)
{
    evl_reject_t rej;
    json_t *out = NULL;

    ASSERT_EQ(evl_validate_record(BASE, strlen(BASE), v13(), &out, &rej),
              HLF_OK);
    ASSERT_NOT_NULL(out);
    ASSERT_STR_EQ(json_string_value(json_object_get(out, "System")),
                  "Property Listing Service");
    json_decref(out);
    /* Not NUL-terminated input: the length is what counts. */
    ASSERT_EQ(evl_validate_record(BASE "garbage", strlen(BASE), v13(), &out,
                                  &rej),
              HLF_OK);
    json_decref(out);
    /* A NULL rejection record is allowed. */
    ASSERT_EQ(evl_validate_record("{", 1, v13(), &out, NULL), HLF_EINVAL);
    ASSERT_NULL(out);
}

TEST_IMPL(validate_invalid_json)
{
    static const char *const bad[] = {
        "",          "not json", "[1,2]", "\"str\"", "42",   "null",
        "{",         "{}x",      "[]",    "{\"a\":}", "true", "{'a':1}",
        NULL,
    };
    char *big;
    size_t i, n;

    for (i = 0; bad[i] != NULL; i++)
        EXPECT(bad[i], INVALID_JSON, "");
    /* Duplicate keys are ambiguous, so not accepted. */
    EXPECT("{\"System\":\"Manual Input\",\"System\":\"Manual Input\"}",
           INVALID_JSON, "");
    /* Invalid UTF-8 and NUL characters. */
    EXPECT("{\"EventSubject\":\"\xff\"}", INVALID_JSON, "");
    EXPECT("{\"EventSubject\":\"a\\u0000b\"}", INVALID_JSON, "");
    expect_reject_p(v13(), "{\0}", 3, EVL_INVALID_JSON, "", __LINE__);
    /* Larger than EVL_MAX_INPUT, even if it would otherwise be valid. */
    n = EVL_MAX_INPUT + 1;
    big = malloc(n + 1);
    ASSERT_NOT_NULL(big);
    memset(big, ' ', n);
    memcpy(big + n - strlen(BASE), BASE, strlen(BASE));
    big[n] = '\0';
    EXPECT(big, INVALID_JSON, "");
    /* Exactly the limit is fine. */
    expect_ok_text(big + 1, __LINE__);
    free(big);
}

TEST_IMPL(validate_system_fields)
{
    EXPECT_WITH(BASE, "TransactionId", "\"x\"", SYSTEM_FIELD_SUPPLIED,
                "TransactionId");
    EXPECT_WITH(BASE, "Timestamp", "null", SYSTEM_FIELD_SUPPLIED,
                "Timestamp");
    EXPECT_WITH(BASE, "Version", "\"1.3\"", SYSTEM_FIELD_SUPPLIED,
                "Version");
    /* Spec order TransactionId, Timestamp, Version, not input order. */
    EXPECT("{\"Version\":1,\"Timestamp\":1}", SYSTEM_FIELD_SUPPLIED,
           "Timestamp");
    EXPECT("{\"Version\":1,\"TransactionId\":1,\"Timestamp\":1}",
           SYSTEM_FIELD_SUPPLIED, "TransactionId");
    /* Before unknown and missing fields. */
    EXPECT("{\"Foo\":1,\"Version\":\"1.3\"}", SYSTEM_FIELD_SUPPLIED,
           "Version");
}

TEST_IMPL(validate_unknown_field)
{
    EXPECT_WITH(BASE, "Foo", "1", UNKNOWN_FIELD, "Foo");
    /* Before missing fields: unknown + missing reports UNKNOWN_FIELD. */
    EXPECT_WITH2("State", NULL, "Price", "659000",
                 UNKNOWN_FIELD, "Price");
    EXPECT("{\"Foo\":1}", UNKNOWN_FIELD, "Foo");
    /* The first unknown key in input order. */
    EXPECT("{\"Zeta\":1,\"EventSubject\":\"a\",\"Alpha\":2}", UNKNOWN_FIELD,
           "Zeta");
    /* Names are case-sensitive. */
    EXPECT("{\"eventSubject\":\"a\"}", UNKNOWN_FIELD, "eventSubject");
    EXPECT("{\"EventSubject \":\"a\"}", UNKNOWN_FIELD, "EventSubject ");
    EXPECT("{\"\":\"a\"}", UNKNOWN_FIELD, "");
    /* Draft 1.5 and v1.3 (a) fields are unknown under profile 1.3. */
    EXPECT_WITH(BASE, "Audience", "[]", UNKNOWN_FIELD, "Audience");
    EXPECT_WITH(BASE, "Context", "{}", UNKNOWN_FIELD, "Context");
    EXPECT_WITH(BASE, "Reference", "\"x\"", UNKNOWN_FIELD, "Reference");
}

static const char *const supplied[] = {
    "EventSubject", "System", "SubjectType", "Entity",
    "Event",        "State",  "Recorder",    "Application",
};

TEST_IMPL(validate_missing_field)
{
    size_t i;

    for (i = 0; i < 8; i++)
        EXPECT_WITH(BASE, supplied[i], NULL, MISSING_FIELD, supplied[i]);
    EXPECT("{}", MISSING_FIELD, "EventSubject");
    /* Spec-table order: System before State, Recorder before App. */
    EXPECT_WITH2("State", NULL, "System", NULL,
                 MISSING_FIELD, "System");
    EXPECT_WITH2("Application", NULL, "Recorder", NULL,
                 MISSING_FIELD, "Recorder");
    /* Missing beats a bad value and a bad lookup elsewhere. */
    EXPECT_WITH2("Application", NULL, "System", "42", MISSING_FIELD,
                 "Application");
    EXPECT_WITH2("Application", NULL, "State", "\"Sold\"", MISSING_FIELD,
                 "Application");
}

TEST_IMPL(validate_invalid_value)
{
    static const char *const kinds[] = {
        "1", "1.5", "null", "true", "false", "{}", "[]", "[\"a\"]", "\"\"",
    };
    char long_ok[EVL_MAX_VALUE_LEN + 1], long_bad[EVL_MAX_VALUE_LEN + 2];
    size_t i, k;

    for (i = 0; i < 8; i++) {
        for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            EXPECT_WITH(BASE, supplied[i], kinds[k], INVALID_VALUE,
                        supplied[i]);
    }
    /* 255 bytes is the maximum; 256 is too long. */
    memset(long_ok, 'A', sizeof(long_ok) - 1);
    long_ok[sizeof(long_ok) - 1] = '\0';
    memset(long_bad, 'A', sizeof(long_bad) - 1);
    long_bad[sizeof(long_bad) - 1] = '\0';
    for (i = 0; i < 8; i++) {
        if (i >= 1 && i <= 5)
            continue; /* lookups: a long value would be a lookup error */
        field_value(supplied[i], long_ok, 1, EVL_INVALID_VALUE, __LINE__);
        field_value(supplied[i], long_bad, 0, EVL_INVALID_VALUE, __LINE__);
    }
    field_value("System", long_bad, 0, EVL_INVALID_VALUE, __LINE__);
    field_value("State", long_bad, 0, EVL_INVALID_VALUE, __LINE__);
    /* The limit counts bytes: 128 x U+00E9 is 256 bytes. */
    {
        char u[257];

        for (i = 0; i < 128; i++)
            memcpy(u + 2 * i, "\xc3\xa9", 2);
        u[256] = '\0';
        field_value("Application", u, 0, EVL_INVALID_VALUE, __LINE__);
    }
    /* Field order: EventSubject before Application. */
    EXPECT_WITH2("Application", "7", "EventSubject", "\"\"",
                 INVALID_VALUE, "EventSubject");
    /* A bad value beats a bad lookup in an earlier field. */
    EXPECT_WITH2("System", "\"Nope\"", "Recorder", "[]",
                 INVALID_VALUE, "Recorder");
}

TEST_IMPL(validate_lookup_values)
{
    static const char *const fields[EVL_LK_COUNT] = {
        "System", "SubjectType", "Entity", "Event", "State",
    };
    static const size_t counts[EVL_LK_COUNT] = {9, 7, 11, 17, 13};
    const evl_profile_t *p = v13();
    size_t total = 0, i;
    int lk;

    for (lk = 0; lk < EVL_LK_COUNT; lk++) {
        ASSERT_STR_EQ(evl_lookup_name((evl_lookup_t)lk), fields[lk]);
        ASSERT_EQ(evl_profile_count(p, (evl_lookup_t)lk), counts[lk]);
        for (i = 0; p->values[lk][i] != NULL; i++) {
            field_value(fields[lk], p->values[lk][i], 1, EVL_INVALID_LOOKUP,
                        __LINE__);
            total++;
        }
    }
    ASSERT_EQ(total, 57);
    /* Spot-check exact spellings and spec order. */
    ASSERT_STR_EQ(p->values[EVL_LK_SYSTEM][0], "Property Listing Service");
    ASSERT_STR_EQ(p->values[EVL_LK_SYSTEM][8], "Manual Input");
    ASSERT_STR_EQ(p->values[EVL_LK_ENTITY][8], "MLS");
    ASSERT_STR_EQ(p->values[EVL_LK_EVENT][12], "Openhouse");
    ASSERT_STR_EQ(p->values[EVL_LK_STATE][12], "Published");
}

TEST_IMPL(validate_lookup_near_misses)
{
    static const struct {
        const char *field, *value;
    } bad[] = {
        {"System", "property listing service"},
        {"System", "PROPERTY LISTING SERVICE"},
        {"System", " Property Listing Service"},
        {"System", "Property Listing Service "},
        {"System", "Property Listing Service\t"},
        {"System", "Property  Listing Service"},
        {"System", "Property\xc2\xa0Listing Service"},
        {"System", "Transaction Management"},
        {"System", "Association Management System"},
        {"System", "Referral Marketplace Service"},
        {"System", "Agent"},
        {"SubjectType", "property"},
        {"SubjectType", "Member"},
        {"SubjectType", "Subreferral"},
        {"Entity", "mls"},
        {"Entity", "Mls"},
        {"Entity", "LicensingSovereign"},
        {"Entity", "Association"},
        {"Entity", "Transaction coordinator"},
        {"Event", "Lein"},
        {"Event", "OpenHouse"},
        {"Event", "Education"},
        {"Event", "Sale"},
        {"State", "Approved"},
        {"State", "Complete"},
        {"State", "recorded"},
        {"State", "Splitted"},
        {"State", "Active"},
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        field_value(bad[i].field, bad[i].value, 0, EVL_INVALID_LOOKUP,
                    __LINE__);
}

TEST_IMPL(validate_lookup_order_and_message)
{
    evl_reject_t rej;
    json_t *out;
    char *t;

    /* Two bad lookups report System first; then the list order. */
    EXPECT_WITH2("State", "\"Sold\"", "System", "\"MLS\"", INVALID_LOOKUP,
                 "System");
    EXPECT_WITH2("State", "\"Sold\"", "Entity", "\"Nobody\"", INVALID_LOOKUP,
                 "Entity");
    EXPECT_WITH2("Entity", "\"Nobody\"", "SubjectType", "\"Thing\"",
                 INVALID_LOOKUP, "SubjectType");
    EXPECT_WITH2("State", "\"Sold\"", "Event", "\"Sale\"", INVALID_LOOKUP,
                 "Event");
    EXPECT_WITH(BASE, "State", "\"Sold\"", INVALID_LOOKUP, "State");
    /* A bad lookup beats a bad identifier in an earlier field. */
    EXPECT_WITH2("State", "\"Sold\"", "EventSubject", "\"a b\"",
                 INVALID_LOOKUP, "State");
    /* The message lists the allowed values and spots a near-miss. */
    t = with(BASE, "Entity", "\"mls\"");
    ASSERT_EQ(evl_validate_record(t, strlen(t), v13(), &out, &rej),
              HLF_EINVAL);
    ASSERT_STR_EQ(rej.message,
                  "'mls' is not in the Entity list of lookup profile 1.3 (did "
                  "you mean 'MLS'? values match exactly, case-sensitive); "
                  "allowed: Agent, Broker, Builder, Buyer, City, County, "
                  "Escrow, Lender, MLS, Owner, Vendor");
    free(t);
}

TEST_IMPL(validate_identifiers)
{
    static const struct {
        const char *field, *value;
        int ok;
    } cases[] = {
        {"EventSubject", "US-42049-49888-1213666-R-N", 1},
        {"EventSubject", "urn:reso:ulid:900765912", 1},
        {"EventSubject", "did:reso:upid:US-42049-49888-1213666-R-N", 1},
        {"EventSubject", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", 1},
        {"EventSubject", "did:reso:oid:abcdefgh12345678#0001", 0},
        {"EventSubject", "US 42049", 0},
        {"EventSubject", "urn:x:y", 0},
        {"EventSubject", "urn:reso:a b", 0},
        {"EventSubject", "DID:reso:x", 0},
        {"EventSubject", "urn:reso:\xf4\x8f\xbf\xbf", 0},
        {"EventSubject", "urn:reso:\xf4\x8f\xbf\xbe", 1},
        {"Recorder", "ae1643", 1},
        {"Recorder", "urn:reso:recorder:org1:ae1643", 1},
        {"Recorder", "did:reso:oid:abcdefgh12345678#0001", 1},
        {"Recorder", "did:reso:oid:abcdefgh12345678", 1},
        {"Recorder", "did:reso:oid:x#a b", 0},
        {"Recorder", "ae 1643", 0},
        {"Recorder", "API Server", 0},
        {"Application", "87478-a43", 1},
        {"Application", "API Server", 1},
        {"Application", "urn:reso:app:1", 1},
        {"Application", " API Server", 0},
        {"Application", "API Server ", 0},
        {"Application", "API\tServer", 0},
        {"Application", "Appli\xc3\xa9", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        field_value(cases[i].field, cases[i].value, cases[i].ok,
                    EVL_INVALID_IDENTIFIER, __LINE__);
}

TEST_IMPL(validate_identifier_order_and_message)
{
    evl_reject_t rej;
    json_t *out;
    char *t;

    EXPECT_WITH2("Application", "\" x\"", "EventSubject", "\"a b\"",
                 INVALID_IDENTIFIER, "EventSubject");
    EXPECT_WITH2("Application", "\" x\"", "Recorder", "\"a b\"",
                 INVALID_IDENTIFIER, "Recorder");
    EXPECT_WITH(BASE, "Application", "\" x\"", INVALID_IDENTIFIER,
                "Application");
    t = with(BASE, "EventSubject", "\"urn:reso:a b\"");
    ASSERT_EQ(evl_validate_record(t, strlen(t), v13(), &out, &rej),
              HLF_EINVAL);
    ASSERT_STR_EQ(
        rej.message,
        "EventSubject 'urn:reso:a b' is not a valid identifier: as a URN, "
        "whitespace is not allowed in the NSS (at byte 10); allowed: a "
        "legacy id of letters, digits and '-' (e.g. "
        "US-42049-49888-1213666-R-N); or a URN urn:<NID>:<NSS> (NID of 2-32 "
        "letters, digits or '-'; NSS without whitespace); or a DID "
        "did:<method>:<id> (method of a-z, 0-9; id of letters, digits, '.', "
        "'-', '_', ':', %XX; no fragment)");
    free(t);
}

/* A profile defined by a test, to show profiles are data only. */
static const char *const t_system[] = {"Association Management System",
                                       NULL};
static const char *const t_subject[] = {"Member", NULL};
static const char *const t_entity[] = {"Association", NULL};
static const char *const t_event[] = {"Education", NULL};
static const char *const t_state[] = {"Recorded", NULL};
static const evl_profile_t test_profile = {
    "test-draft", {t_system, t_subject, t_entity, t_event, t_state}, 0, ""};

TEST_IMPL(validate_profile_is_data)
{
    static const char text[] =
        "{\"EventSubject\":\"urn:reso:ulid:900765912\","
        "\"System\":\"Association Management System\","
        "\"SubjectType\":\"Member\",\"Entity\":\"Association\","
        "\"Event\":\"Education\",\"State\":\"Recorded\","
        "\"Recorder\":\"urn:reso:recorder:org1:ae1643\","
        "\"Application\":\"API Server\"}";
    json_t *out = NULL;
    evl_reject_t rej;

    ASSERT_EQ(evl_validate_record(text, strlen(text), &test_profile, &out,
                                  &rej),
              HLF_OK);
    json_decref(out);
    expect_reject_p(v13(), text, strlen(text), EVL_INVALID_LOOKUP, "System",
                    __LINE__);
    expect_reject_p(&test_profile, BASE, strlen(BASE), EVL_INVALID_LOOKUP,
                    "System", __LINE__);
    ASSERT_NULL(evl_profile_find("1.5-draft"));
    ASSERT_NULL(evl_profile_find(NULL));
    ASSERT_STR_EQ(evl_profile_find(EVL_DEFAULT_PROFILE)->id, "1.3");
    /* No profile is an internal error, not a client one. */
    ASSERT_EQ(evl_validate_record(BASE, strlen(BASE), NULL, &out, &rej),
              HLF_EIO);
    ASSERT_EQ(rej.code, EVL_INTERNAL);
}

TEST_IMPL(validate_messages_are_valid_utf8)
{
    evl_reject_t rej;
    json_t *out;
    char key[400], text[600];
    size_t i;

    /* A long multi-byte unknown key is cut on a character boundary. */
    for (i = 0; i + 2 <= 300; i += 2)
        memcpy(key + i, "\xc3\xa9", 2);
    key[300] = '\0';
    snprintf(text, sizeof(text), "{\"%s\":1}", key);
    ASSERT_EQ(evl_validate_record(text, strlen(text), v13(), &out, &rej),
              HLF_EINVAL);
    ASSERT_EQ(rej.code, EVL_UNKNOWN_FIELD);
    ASSERT_EQ(strlen(rej.field), 254);
    ASSERT(evl_utf8_valid(rej.field, strlen(rej.field)));
    ASSERT(evl_utf8_valid(rej.message, strlen(rej.message)));
}

static const test_entry_t tests[] = {
    TEST_ENTRY(validate_ok),
    TEST_ENTRY(validate_invalid_json),
    TEST_ENTRY(validate_system_fields),
    TEST_ENTRY(validate_unknown_field),
    TEST_ENTRY(validate_missing_field),
    TEST_ENTRY(validate_invalid_value),
    TEST_ENTRY(validate_lookup_values),
    TEST_ENTRY(validate_lookup_near_misses),
    TEST_ENTRY(validate_lookup_order_and_message),
    TEST_ENTRY(validate_identifiers),
    TEST_ENTRY(validate_identifier_order_and_message),
    TEST_ENTRY(validate_profile_is_data),
    TEST_ENTRY(validate_messages_are_valid_utf8),
};

TEST_MAIN(tests)
