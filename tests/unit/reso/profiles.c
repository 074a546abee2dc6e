/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lookup profiles as data (profile.c) and the draft field Context
 * (context.c): the built-in data files parse to the exact lists of
 * reso-model.md §3.1 and §3.5, bad profile documents are refused with the
 * place named, a profile round-trips through its canonical JSON, and the
 * e-mail / phone detectors refuse contact data while leaving dates, codes,
 * identifiers and amounts alone. evl_validate_record under the extended
 * profile checks the draft fields in the documented order.
 */
#include "evl.h"
#include "task.h"

#include <stdlib.h>
#include <string.h>

TEST_IMPL(builtin_profiles)
{
    const evl_profile_t *v13 = evl_profile_find("1.3");
    const evl_profile_t *ext = evl_profile_find("1.5-ext");
    static const size_t v13_counts[EVL_LK_COUNT] = {9, 7, 11, 17, 13};
    static const size_t ext_counts[EVL_LK_COUNT] = {11, 9, 14, 37, 25};
    int lk;

    ASSERT_EQ(evl_builtin_count(), 2);
    ASSERT(evl_builtin_profile(0) == v13);
    ASSERT(evl_builtin_profile(1) == ext);
    ASSERT_NULL(evl_builtin_profile(2));
    ASSERT_NOT_NULL(v13);
    ASSERT_NOT_NULL(ext);
    ASSERT_EQ(v13->optional, 0);
    ASSERT_EQ(ext->optional, EVL_OPT_AUDIENCE | EVL_OPT_CONTEXT);
    for (lk = 0; lk < EVL_LK_COUNT; lk++) {
        ASSERT_EQ(evl_profile_count(v13, (evl_lookup_t)lk), v13_counts[lk]);
        ASSERT_EQ(evl_profile_count(ext, (evl_lookup_t)lk), ext_counts[lk]);
    }
    /* Spec order, exact text: first and last of each 1.3 list. */
    ASSERT_STR_EQ(v13->values[EVL_LK_SYSTEM][0], "Property Listing Service");
    ASSERT_STR_EQ(v13->values[EVL_LK_SYSTEM][8], "Manual Input");
    ASSERT_STR_EQ(v13->values[EVL_LK_STATE][12], "Published");
    ASSERT_STR_EQ(v13->values[EVL_LK_EVENT][16], "Status");
    /* The extended profile: 1.3 first, then the RCP and 2020 values. */
    for (lk = 0; lk < EVL_LK_COUNT; lk++) {
        size_t i;

        for (i = 0; i < v13_counts[lk]; i++)
            ASSERT_STR_EQ(ext->values[lk][i], v13->values[lk][i]);
    }
    ASSERT(evl_profile_has(ext, EVL_LK_ENTITY, "Transaction coordinator",
                           23));
    ASSERT(evl_profile_has(ext, EVL_LK_ENTITY, "LicensingSovereign", 18));
    ASSERT(evl_profile_has(ext, EVL_LK_EVENT, "Education", 9));
    ASSERT(evl_profile_has(ext, EVL_LK_STATE, "Splitted", 8));
    ASSERT(evl_profile_has(ext, EVL_LK_STATE, "Approved", 8));
    ASSERT(evl_profile_has(ext, EVL_LK_SUBJECT_TYPE, "Subreferral", 11));
    ASSERT(evl_profile_has(ext, EVL_LK_SYSTEM,
                           "Association Management System", 29));
    ASSERT(!evl_profile_has(ext, EVL_LK_ENTITY, "Transaction Coordinator",
                            23));
    ASSERT(!evl_profile_has(v13, EVL_LK_EVENT, "Education", 9));
    ASSERT_NULL(evl_profile_find("1.5-draft"));
    ASSERT_NULL(evl_profile_find(NULL));
    ASSERT_STR_EQ(evl_builtin_members(),
                  "{\n  \"Members\": [\"AssociationMSP\", \"BrokerageMSP\", "
                  "\"MLSMSP\"]\n}\n");
}

static void
expect_bad_profile(const char *text, const char *field, int line)
{
    evl_profile_t *p = (evl_profile_t *)1;
    evl_reject_t rej;

    if (evl_profile_parse(text, strlen(text), &p, &rej) != HLF_EINVAL)
        TEST__FAIL("line %d: profile accepted", line);
    ASSERT_NULL(p);
    ASSERT_EQ(rej.code, EVL_INVALID_PROFILE);
    ASSERT_STR_EQ(rej.field, field);
}

#define LISTS                                                                \
    "\"System\":[\"S\"],\"SubjectType\":[\"T\"],\"Entity\":[\"E\"],"       \
    "\"Event\":[\"V\"],\"State\":[\"X\"]"

TEST_IMPL(profile_documents)
{
    static const char good[] =
        "{\"Version\":\"2.0-x\",\"Description\":\"d\",\"Fields\":"
        "[\"Context\"],\"Lookups\":{" LISTS "}}";
    evl_profile_t *p = NULL;
    json_t *doc;
    char *text;

    ASSERT_EQ(evl_profile_parse(good, strlen(good), &p, NULL), HLF_OK);
    ASSERT_STR_EQ(p->id, "2.0-x");
    ASSERT_STR_EQ(p->description, "d");
    ASSERT_EQ(p->optional, EVL_OPT_CONTEXT);
    ASSERT_STR_EQ(p->values[EVL_LK_STATE][0], "X");
    ASSERT_NULL(p->values[EVL_LK_STATE][1]);
    doc = evl_profile_to_json(p);
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ASSERT_STR_EQ(text, good);
    free(text);
    json_decref(doc);
    evl_profile_free(p);

    expect_bad_profile("[]", "", __LINE__);
    expect_bad_profile("{", "", __LINE__);
    expect_bad_profile("{\"Lookups\":{" LISTS "}}", "Version", __LINE__);
    expect_bad_profile("{\"Version\":\"a b\",\"Lookups\":{" LISTS "}}",
                       "Version", __LINE__);
    expect_bad_profile("{\"Version\":\"123456789012345678901234567890123\","
                       "\"Lookups\":{" LISTS "}}",
                       "Version", __LINE__);
    expect_bad_profile("{\"Version\":\"v\",\"Extra\":1,\"Lookups\":{" LISTS
                       "}}",
                       "Extra", __LINE__);
    expect_bad_profile("{\"Version\":\"v\",\"Fields\":[\"Payload\"],"
                       "\"Lookups\":{" LISTS "}}",
                       "Fields", __LINE__);
    expect_bad_profile("{\"Version\":\"v\",\"Fields\":[\"Context\","
                       "\"Context\"],\"Lookups\":{" LISTS "}}",
                       "Fields", __LINE__);
    expect_bad_profile("{\"Version\":\"v\",\"Lookups\":{\"System\":[\"S\"]}}",
                       "Lookups", __LINE__);
    expect_bad_profile("{\"Version\":\"v\",\"Lookups\":{\"System\":[\"S\"],"
                       "\"SubjectType\":[\"T\"],\"Entity\":[\"E\"],"
                       "\"Event\":[\"V\",\"W\",\"V\"],\"State\":[\"X\"]}}",
                       "Lookups.Event[2]", __LINE__);
    expect_bad_profile("{\"Version\":\"v\",\"Lookups\":{\"System\":[\"\"],"
                       "\"SubjectType\":[\"T\"],\"Entity\":[\"E\"],"
                       "\"Event\":[\"V\"],\"State\":[\"X\"]}}",
                       "Lookups.System[0]", __LINE__);
    expect_bad_profile("{\"Version\":\"v\",\"Lookups\":{\"System\":[],"
                       "\"SubjectType\":[\"T\"],\"Entity\":[\"E\"],"
                       "\"Event\":[\"V\"],\"State\":[\"X\"]}}",
                       "", __LINE__);
    expect_bad_profile("{\"Version\":\"v\",\"Lookups\":{\"System\":[\"S\"],"
                       "\"SubjectType\":[\"T\"],\"Entity\":[\"E\"],"
                       "\"Event\":[\"V\"],\"Status\":[\"X\"]}}",
                       "", __LINE__);
}

TEST_IMPL(contact_data_detectors)
{
    static const char *const emails[] = {
        "jane.doe@example.com", "Contact: a@b.org now", "x+tag@mail.co.id",
    };
    static const char *const not_emails[] = {
        "urn:ipfs:QmXyS6Cj6PMpRfkRcfve1FykDdC2tdL8N4tkkWvt6yuiqA",
        "@handle", "user@localhost", "a@b.c", "did:reso:oid:abc#0001",
        "50 @ 3.5%",
    };
    static const char *const phones[] = {
        "+1 555 123 4567", "(555) 123-4567", "555-123-4567",
        "+6281234567890",  "call 555.123.4567 today", "555 1234",
    };
    static const char *const not_phones[] = {
        "2020-04-09", "2020-04-09 14:17:35", "E-23456", "I-567", "2020",
        "US-42049-49888-1213666-R-N", "12500000.50", "2.500.000.000",
        "1 250 000", "1717200000000", "urn:reso:uaid:900765912",
        "Intro to Ethics", "QmZWwV5DydtkkY1sid4vSg6UB3tDWmTvhHVBjw6KNX9vP",
    };
    size_t i;

    for (i = 0; i < sizeof(emails) / sizeof(emails[0]); i++)
        if (!evl_looks_like_email(emails[i], strlen(emails[i])))
            TEST__FAIL("not seen as e-mail: %s", emails[i]);
    for (i = 0; i < sizeof(not_emails) / sizeof(not_emails[0]); i++)
        if (evl_looks_like_email(not_emails[i], strlen(not_emails[i])))
            TEST__FAIL("seen as e-mail: %s", not_emails[i]);
    for (i = 0; i < sizeof(phones) / sizeof(phones[0]); i++)
        if (!evl_looks_like_phone(phones[i], strlen(phones[i])))
            TEST__FAIL("not seen as phone: %s", phones[i]);
    for (i = 0; i < sizeof(not_phones) / sizeof(not_phones[0]); i++)
        if (evl_looks_like_phone(not_phones[i], strlen(not_phones[i])))
            TEST__FAIL("seen as phone: %s", not_phones[i]);
}

#define BASE                                                                 \
    "{\"EventSubject\":\"urn:reso:uaid:900765912\","                        \
    "\"System\":\"Association Management System\","                         \
    "\"SubjectType\":\"Member\",\"Entity\":\"Association\","                \
    "\"Event\":\"Education\",\"State\":\"Recorded\","                       \
    "\"Recorder\":\"urn:reso:recorder:org1:ae1643\","                       \
    "\"Application\":\"87478-a43\""

static void
expect_reject(const char *text, evl_code_t code, const char *field,
              int line)
{
    const evl_profile_t *p = evl_profile_find("1.5-ext");
    json_t *out = NULL;
    evl_reject_t rej;

    if (evl_validate_record(text, strlen(text), p, &out, &rej) !=
        HLF_EINVAL)
        TEST__FAIL("line %d: accepted", line);
    ASSERT_NULL(out);
    if (rej.code != code)
        TEST__FAIL("line %d: code %s (want %s): %s", line,
                   evl_code_name(rej.code), evl_code_name(code),
                   rej.message);
    ASSERT_STR_EQ(rej.field, field);
}

TEST_IMPL(context_bounds)
{
    char big[2 * EVL_CONTEXT_MAX_BYTES], *w;
    const evl_profile_t *p = evl_profile_find("1.5-ext");
    json_t *out = NULL;
    size_t i;

    /* 33 keys: one too many. */
    w = big;
    w += snprintf(w, sizeof(big), "%s,\"Context\":{", BASE);
    for (i = 0; i < EVL_CONTEXT_MAX_KEYS + 1; i++)
        w += snprintf(w, sizeof(big) - (size_t)(w - big), "%s\"K%zu\":1",
                      i ? "," : "", i);
    snprintf(w, sizeof(big) - (size_t)(w - big), "}}");
    expect_reject(big, EVL_INVALID_VALUE, "Context", __LINE__);
    /* Exactly 32 keys pass. */
    w = big;
    w += snprintf(w, sizeof(big), "%s,\"Context\":{", BASE);
    for (i = 0; i < EVL_CONTEXT_MAX_KEYS; i++)
        w += snprintf(w, sizeof(big) - (size_t)(w - big), "%s\"K%zu\":1",
                      i ? "," : "", i);
    snprintf(w, sizeof(big) - (size_t)(w - big), "}}");
    ASSERT_EQ(evl_validate_record(big, strlen(big), p, &out, NULL), HLF_OK);
    json_decref(out);
    /* A value of 1025 bytes; then five of 1000 (over 4096 in all). */
    w = big;
    w += snprintf(w, sizeof(big), "%s,\"Context\":{\"A\":\"", BASE);
    memset(w, 'x', EVL_CONTEXT_VALUE_MAX + 1);
    w += EVL_CONTEXT_VALUE_MAX + 1;
    snprintf(w, sizeof(big) - (size_t)(w - big), "\"}}");
    expect_reject(big, EVL_INVALID_VALUE, "Context.A", __LINE__);
    w = big;
    w += snprintf(w, sizeof(big), "%s,\"Context\":{", BASE);
    for (i = 0; i < 5; i++) {
        w += snprintf(w, sizeof(big) - (size_t)(w - big), "%s\"K%zu\":\"",
                      i ? "," : "", i);
        memset(w, 'y', 1000);
        w += 1000;
        *w++ = '"';
    }
    snprintf(w, sizeof(big) - (size_t)(w - big), "}}");
    expect_reject(big, EVL_INVALID_VALUE, "Context", __LINE__);
    /* A key of 65 characters (the field echoes its first 64). */
    snprintf(big, sizeof(big),
             "%s,\"Context\":{\"K123456789012345678901234567890"
             "1234567890123456789012345678900123\":1}}",
             BASE);
    expect_reject(big, EVL_INVALID_VALUE,
                  "Context.K123456789012345678901234567890"
                  "123456789012345678901234567890012...",
                  __LINE__);
    /* 17 audience entries. */
    snprintf(big, sizeof(big),
             "%s,\"Audience\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
             "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]}",
             BASE);
    expect_reject(big, EVL_INVALID_VALUE, "Audience", __LINE__);
}

TEST_IMPL(draft_field_order)
{
    const evl_profile_t *v13 = evl_profile_find("1.3");
    static const char ok[] =
        BASE ",\"Context\":{\"CourseCode\":\"E-23456\"},\"Audience\":"
             "[\"did:reso:oid:abc#0001\"]}";
    json_t *out = NULL;
    char *ev;

    /* Shape before lookups before identifiers before personal data. */
    expect_reject(BASE ",\"Context\":{\"M\":\"a@b.org\"},\"Audience\":[1]}",
                  EVL_INVALID_VALUE, "Audience[0]", __LINE__);
    expect_reject("{\"EventSubject\":\"s\",\"System\":\"S\",\"SubjectType\":"
                  "\"Member\",\"Entity\":\"Association\",\"Event\":"
                  "\"Education\",\"State\":\"Recorded\",\"Recorder\":\"r\","
                  "\"Application\":\"a\",\"Context\":{\"N\":null}}",
                  EVL_INVALID_VALUE, "Context.N", __LINE__);
    expect_reject(BASE ",\"Context\":{\"M\":\"a@b.org\"},\"Audience\":"
                       "[\"a b\"]}",
                  EVL_INVALID_IDENTIFIER, "Audience[0]", __LINE__);
    expect_reject(BASE ",\"Context\":{\"P\":\"555-123-4567\",\"M\":"
                       "\"a@b.org\"}}",
                  EVL_PII_PHONE, "Context.P", __LINE__);
    /* Under 1.3 the same input stops at UNKNOWN_FIELD. */
    ASSERT_EQ(evl_validate_record(ok, strlen(ok), v13, &out, NULL),
              HLF_EINVAL);
    ASSERT_EQ(evl_validate_record(ok, strlen(ok),
                                  evl_profile_find("1.5-ext"), &out, NULL),
              HLF_OK);
    ev = evl_event_build(out, "u", "t", "1.5-ext");
    ASSERT_STR_EQ(ev,
                  "{\"TransactionId\":\"u\",\"EventSubject\":\"urn:reso:uaid:"
                  "900765912\",\"System\":\"Association Management "
                  "System\",\"SubjectType\":\"Member\",\"Entity\":"
                  "\"Association\",\"Event\":\"Education\",\"State\":"
                  "\"Recorded\",\"Recorder\":\"urn:reso:recorder:org1:"
                  "ae1643\",\"Timestamp\":\"t\",\"Version\":\"1.5-ext\","
                  "\"Application\":\"87478-a43\",\"Audience\":[\"did:reso:"
                  "oid:abc#0001\"],\"Context\":{\"CourseCode\":"
                  "\"E-23456\"}}");
    free(ev);
    json_decref(out);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(builtin_profiles),
    TEST_ENTRY(profile_documents),
    TEST_ENTRY(contact_data_detectors),
    TEST_ENTRY(context_bounds),
    TEST_ENTRY(draft_field_order),
};

TEST_MAIN(tests)
