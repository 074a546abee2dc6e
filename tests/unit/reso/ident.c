/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identifier syntax tables (reso-model.md §5.6): for each pattern a list
 * that must match and a list that must not, plus the per-field masks and
 * the diagnostics that name the offending byte.
 */
#include "evl.h"
#include "task.h"

/* A 32-character NID (the maximum) and a 33-character one. */
#define NID32 "abcdefghij0123456789ABCDEFGHIJ-z"
#define NID33 "abcdefghij0123456789ABCDEFGHIJ-zz"

static const char *const legacy_ok[] = {
    "US-42049-49888-1213666-R-N", "ae1643", "a", "-", "87478-a43",
    "ABCxyz019", "US040130050822009A", NULL,
};
static const char *const legacy_bad[] = {
    "a b", "a_b", "a.b", "urn:x:y", "\xc3\xa9", "a\n", "a:b", " a", NULL,
};
static const char *const urn_ok[] = {
    "urn:reso:listingkeynumeric:81123456",
    "URN:RESO:x",
    "uRn:ab:c",
    "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
    "urn:ipfs:QmXyS6Cj6PMpRfkRcfve1FykDdC2tdL8N4tkkWvt6yuiqA",
    "urn:reso:upi:2.0:US:48201:R000022230",
    "urn:reso:recorder:org1:ae1643",
    "urn:" NID32 ":x",
    "urn:a-b:x",
    "urn:ab:\xc3\xa9",
    "urn:ab:a#b?c=d/e",
    "urn:ab::",
    NULL,
};
static const char *const urn_bad[] = {
    "urn:a:x",      "urn:" NID33 ":x", "urn:-ab:x", "urn:ab-:x",
    "urn:a_b:x",    "urn:ab:",         "urn:ab",    "urn::x",
    "urn:ab:x y",   "urn:ab:x\t",      "urn ab:x",  "urx:ab:c",
    "urn:ab:\n",    "ur",              "urn:a.b:c", "urn:ab:x\r",
    "urn:ab:\x0bx", NULL,
};
static const char *const did_ok[] = {
    "did:reso:upid:US-42049-49888-1213666-R-N",
    "did:v1:nym:BcNkgGmGEpCGSJSMPB4BvWvwVM6YeTR52BSWcZTbzU23",
    "did:example:123456789abcdefghi",
    "did:a:b",
    "did:a:%41",
    "did:a::b",
    "did:web:example.com",
    "did:a:b.c-d_e",
    "did:reso:oid:abcdefgh12345678",
    NULL,
};
static const char *const did_bad[] = {
    "DID:a:b",  "did:A:b",   "did:a-b:c",  "did::b",       "did:a:",
    "did:a:b:", "did:a",     "did:a:b#x",  "did:a:%4",     "did:a:%zz",
    "did:a:b c", "did:a:b/c", "did:a:b?q", "did:a:\xc3\xa9", "did:",
    NULL,
};
static const char *const didurl_ok[] = {
    "did:reso:oid:abcdefgh12345678#0001",
    "did:a:b#",
    "did:a:b#key-1",
    "did:a:b#a/b?c:d@e!$&'()*+,;=~",
    "did:a:b#%20",
    "did:a:b",
    NULL,
};
static const char *const didurl_bad[] = {
    "did:a:b#a b", "did:a:b#x#y", "did:a:b#%2", "did:a:#x",
    "did:a:b#<",   "did:a:b#\xc3\xa9", "did:A:b#x", "#x",
    NULL,
};
static const char *const apptext_ok[] = {
    "API Server", "a", "~", "87478-a43", "a  b", "x!y\"z", NULL,
};
static const char *const apptext_bad[] = {
    " a", "a ", " ", "a\tb", "\xc3\xa9", "a\x7f", "\x01", NULL,
};

static void
check_table(unsigned id, const char *const *ok, const char *const *bad)
{
    size_t i;

    for (i = 0; ok[i] != NULL; i++) {
        if (!evl_ident_match(id, ok[i], strlen(ok[i])))
            TEST__FAIL("pattern %#x should accept \"%s\"", id, ok[i]);
    }
    for (i = 0; bad[i] != NULL; i++) {
        if (evl_ident_match(id, bad[i], strlen(bad[i])))
            TEST__FAIL("pattern %#x should reject \"%s\"", id, bad[i]);
    }
    /* The empty string matches no pattern. */
    ASSERT_EQ(evl_ident_match(id, "", 0), 0);
}

TEST_IMPL(ident_legacy)
{
    check_table(EVL_ID_LEGACY, legacy_ok, legacy_bad);
}

TEST_IMPL(ident_urn)
{
    check_table(EVL_ID_URN, urn_ok, urn_bad);
}

TEST_IMPL(ident_did)
{
    check_table(EVL_ID_DID, did_ok, did_bad);
}

TEST_IMPL(ident_didurl)
{
    check_table(EVL_ID_DIDURL, didurl_ok, didurl_bad);
}

TEST_IMPL(ident_apptext)
{
    check_table(EVL_ID_APPTEXT, apptext_ok, apptext_bad);
}

TEST_IMPL(ident_embedded_nul)
{
    /* Lengths are explicit: a NUL byte inside is just a bad byte. */
    ASSERT_EQ(evl_ident_match(EVL_ID_LEGACY, "ab\0c", 4), 0);
    ASSERT_EQ(evl_ident_match(EVL_ID_URN, "urn:ab:c\0d", 10), 1);
    ASSERT_EQ(evl_ident_match(EVL_ID_APPTEXT, "ab\0c", 4), 0);
    ASSERT_EQ(evl_ident_match(0x80u, "abc", 3), 0);
}

/* Field masks as the field table defines them. */
static unsigned
mask_of(const char *field)
{
    size_t i;

    for (i = 0; i < EVL_FIELD_COUNT; i++)
        if (strcmp(evl_fields[i].name, field) == 0)
            return evl_fields[i].ident;
    return 0;
}

TEST_IMPL(ident_field_masks)
{
    unsigned subj = mask_of("EventSubject"), rec = mask_of("Recorder");
    unsigned app = mask_of("Application");

    ASSERT_EQ(subj, EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID);
    ASSERT_EQ(rec, EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID | EVL_ID_DIDURL);
    ASSERT_EQ(app, EVL_ID_LEGACY | EVL_ID_APPTEXT);
    ASSERT_EQ(mask_of("System"), 0);
    /* A DID URL is a Recorder, never an EventSubject. */
    ASSERT_EQ(evl_ident_match_any(subj, "did:reso:oid:x#1", 16), 0);
    ASSERT_EQ(evl_ident_match_any(rec, "did:reso:oid:x#1", 16), 1);
    /* URNs and DIDs are not Applications; free text is not a subject. */
    ASSERT_EQ(evl_ident_match_any(app, "API Server", 10), 1);
    ASSERT_EQ(evl_ident_match_any(subj, "API Server", 10), 0);
    ASSERT_EQ(evl_ident_match_any(app, "urn:ab:c", 8), 1);
    ASSERT_EQ(evl_ident_match_any(app, "urn:ab:\xc3\xa9", 9), 0);
}

TEST_IMPL(ident_explain)
{
    char buf[192];

    evl_ident_explain(EVL_ID_LEGACY | EVL_ID_URN, "urn:ab:x y", 10, buf,
                      sizeof(buf));
    ASSERT_STR_EQ(buf, "as a URN, whitespace is not allowed in the NSS "
                       "(at byte 8)");
    evl_ident_explain(EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID, "did:A:b", 7,
                      buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "as a DID, the DID method name allows only a-z "
                       "and 0-9 (at byte 4)");
    evl_ident_explain(EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID, "did:a:b#1", 9,
                      buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "as a DID, a fragment ('#') is not allowed here "
                       "(at byte 7)");
    evl_ident_explain(EVL_ID_LEGACY | EVL_ID_URN, "US 42049", 8, buf,
                      sizeof(buf));
    ASSERT_STR_EQ(buf, "as a legacy id, only letters, digits and '-' are "
                       "allowed (at byte 2)");
    evl_ident_explain(EVL_ID_LEGACY | EVL_ID_APPTEXT, "API ", 4, buf,
                      sizeof(buf));
    ASSERT_STR_EQ(buf, "as application text, trailing spaces are not "
                       "allowed (at byte 3)");
    evl_ident_explain(EVL_ID_URN, "urx:ab:c", 8, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "as a URN, a URN must start with 'urn:' (at byte 2)");
}

TEST_IMPL(ident_describe)
{
    char buf[512];

    evl_ident_describe(EVL_ID_LEGACY | EVL_ID_APPTEXT, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "a legacy id of letters, digits and '-' (e.g. "
                       "US-42049-49888-1213666-R-N); or printable ASCII "
                       "text without leading or trailing spaces (e.g. API "
                       "Server)");
    evl_ident_describe(EVL_ID_URN, buf, 8);
    ASSERT_EQ(strlen(buf), 7);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(ident_legacy),      TEST_ENTRY(ident_urn),
    TEST_ENTRY(ident_did),         TEST_ENTRY(ident_didurl),
    TEST_ENTRY(ident_apptext),     TEST_ENTRY(ident_embedded_nul),
    TEST_ENTRY(ident_field_masks), TEST_ENTRY(ident_explain),
    TEST_ENTRY(ident_describe),
};

TEST_MAIN(tests)
