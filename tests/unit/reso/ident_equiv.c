/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lookup form of identifiers (evl_ident_canonical, reso-model.md
 * §5.1): URNs that RFC 8141 calls equivalent get the same form, and
 * everything that is not a URN is kept byte for byte.
 */
#include "evl.h"
#include "task.h"

#include <string.h>

/* The canonical form of s, or "<EINVAL>" when refused. */
static const char *
canon(const char *s)
{
    static char out[EVL_IDENT_KEY_SIZE];

    if (evl_ident_canonical(s, strlen(s), out, sizeof(out)) != HLF_OK)
        return "<EINVAL>";
    return out;
}

/* 1 if a and b have the same canonical form (both accepted). */
static int
same(const char *a, const char *b)
{
    char ca[EVL_IDENT_KEY_SIZE], cb[EVL_IDENT_KEY_SIZE];

    if (evl_ident_canonical(a, strlen(a), ca, sizeof(ca)) != HLF_OK ||
        evl_ident_canonical(b, strlen(b), cb, sizeof(cb)) != HLF_OK)
        return 0;
    return strcmp(ca, cb) == 0;
}

TEST_IMPL(urn_scheme_and_nid_fold)
{
    ASSERT_STR_EQ(canon("URN:RESO:recorder:org1:1234"),
                  "urn:reso:recorder:org1:1234");
    ASSERT_STR_EQ(canon("uRn:ReSo:recorder:org1:1234"),
                  "urn:reso:recorder:org1:1234");
    /* The NSS stays case-sensitive. */
    ASSERT_STR_EQ(canon("urn:reso:Recorder:ORG1:ae1643"),
                  "urn:reso:Recorder:ORG1:ae1643");
    ASSERT(!same("urn:reso:recorder:org1:AE1643",
                 "urn:reso:recorder:org1:ae1643"));
    ASSERT(same("URN:Reso:x", "urn:reso:x"));
}

TEST_IMPL(urn_percent_hex_upper)
{
    ASSERT_STR_EQ(canon("urn:example:a%2fb%c3%a9"),
                  "urn:example:a%2Fb%C3%A9");
    ASSERT(same("urn:example:a%2Fb", "urn:example:a%2fb"));
    /* Percent-encodings are not decoded: %41 is not "A". */
    ASSERT(!same("urn:example:%41", "urn:example:A"));
    ASSERT(same("URN:EXAMPLE:a%2f?+r#f", "urn:example:a%2F"));
    /* A lone '%' or a bad triplet is kept as is. */
    ASSERT_STR_EQ(canon("urn:example:100%"), "urn:example:100%");
    ASSERT_STR_EQ(canon("urn:example:%zz"), "urn:example:%zz");
    /* The NID is not an NSS: hex-looking NID letters are lower-cased. */
    ASSERT_STR_EQ(canon("urn:AB:%ab"), "urn:ab:%AB");
}

TEST_IMPL(urn_rqf_components_dropped)
{
    ASSERT_STR_EQ(canon("urn:example:a123?+abc"), "urn:example:a123");
    ASSERT_STR_EQ(canon("urn:example:a123?=xyz"), "urn:example:a123");
    ASSERT_STR_EQ(canon("urn:example:a123#frag"), "urn:example:a123");
    ASSERT_STR_EQ(canon("urn:example:a123?+r?=q#f"), "urn:example:a123");
    /* '/' and what follows is significant; a plain '?' is kept. */
    ASSERT_STR_EQ(canon("urn:example:a123/b"), "urn:example:a123/b");
    ASSERT_STR_EQ(canon("urn:example:a?b"), "urn:example:a?b");
    /* Nothing left of the NSS: refused. */
    ASSERT_STR_EQ(canon("urn:example:#x"), "<EINVAL>");
    ASSERT_STR_EQ(canon("urn:example:?+x"), "<EINVAL>");
}

TEST_IMPL(non_urn_kept_exactly)
{
    ASSERT_STR_EQ(canon("ae1643"), "ae1643");
    ASSERT_STR_EQ(canon("AE1643"), "AE1643");
    ASSERT_STR_EQ(canon("did:reso:oid:abcdefgh12345678#0001"),
                  "did:reso:oid:abcdefgh12345678#0001");
    ASSERT_STR_EQ(canon("did:reso:oid:ABC%2f"), "did:reso:oid:ABC%2f");
    ASSERT_STR_EQ(canon("did:reso:upid:US-42049-49888-1213666-R-N"),
                  "did:reso:upid:US-42049-49888-1213666-R-N");
}

TEST_IMPL(refused_inputs)
{
    char out[8];
    char big[300];

    ASSERT_STR_EQ(canon(""), "<EINVAL>");
    ASSERT_STR_EQ(canon("API Server"), "<EINVAL>");
    ASSERT_STR_EQ(canon("DID:reso:x"), "<EINVAL>");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT_STR_EQ(canon(big), "<EINVAL>");
    ASSERT_EQ(evl_ident_canonical("abcdefgh", 8, out, sizeof(out)),
              HLF_EINVAL);
    ASSERT_EQ(evl_ident_canonical("abcdefg", 7, out, sizeof(out)), HLF_OK);
    ASSERT_STR_EQ(out, "abcdefg");
    ASSERT_EQ(evl_ident_canonical("urn:ab:cdef", 11, out, sizeof(out)),
              HLF_EINVAL);
    ASSERT_EQ(evl_ident_canonical(NULL, 1, out, sizeof(out)), HLF_EINVAL);
    /* A NUL in a URN's NSS matches the URN pattern but is no key. */
    ASSERT_EQ(evl_ident_canonical("urn:ab:c\0d", 10, out, sizeof(out)),
              HLF_EINVAL);
}

TEST_IMPL(max_length_fits)
{
    char in[EVL_MAX_VALUE_LEN + 1], out[EVL_IDENT_KEY_SIZE];

    memcpy(in, "URN:ab:", 7);
    memset(in + 7, 'x', EVL_MAX_VALUE_LEN - 7);
    in[EVL_MAX_VALUE_LEN] = '\0';
    ASSERT_EQ(evl_ident_canonical(in, EVL_MAX_VALUE_LEN, out, sizeof(out)),
              HLF_OK);
    ASSERT_EQ(strlen(out), EVL_MAX_VALUE_LEN);
    ASSERT_MEM_EQ(out, "urn:ab:xxx", 10);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(urn_scheme_and_nid_fold),
    TEST_ENTRY(urn_percent_hex_upper),
    TEST_ENTRY(urn_rqf_components_dropped),
    TEST_ENTRY(non_urn_kept_exactly),
    TEST_ENTRY(refused_inputs),
    TEST_ENTRY(max_length_fits),
};

TEST_MAIN(tests)
