/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reso state keys built with the real shim's composite-key code (not
 * the stub double): exact wire bytes of the event and subject-index keys,
 * and byte order of index keys == chronological order, including equal
 * seconds (nanosecond order) and equal times (TransactionId order). Also
 * pins the stub double's key form to the shim's, so the contract tests'
 * ordering means what it says.
 */
#include "evl.h"
#include "hlf/shim.h"
#include "task.h"

/* Wire form of the subject-index key for (subject, secs, nanos, uuid). */
static char *
index_key(const char *subject, int64_t secs, int32_t nanos, const char *uuid,
          size_t *len)
{
    char ts[EVL_TS_LEN + 1], *api = NULL, *wire = NULL;
    const char *attrs[3] = {subject, ts, uuid};

    ASSERT_EQ(evl_key_ts(secs, nanos, ts), HLF_OK);
    ASSERT_EQ(hlf_composite_key_create(EVL_KEY_SUBJECT, attrs, 3, &api),
              HLF_OK);
    ASSERT_EQ(hlf_key_to_wire(api, &wire, len), HLF_OK);
    free(api);
    return wire;
}

TEST_IMPL(keys_exact_bytes)
{
    static const char want_ev[] =
        "\0EV\0" "6991d580-c6c3-8ceb-90a5-a40c89fb0224\0";
    static const char want_subj[] =
        "\0subj\0US-42049-49888-1213666-R-N\0"
        "00000000001528031045000000123\0"
        "6991d580-c6c3-8ceb-90a5-a40c89fb0224\0";
    static const char api_ev[] =
        "\xC0\x80" "EV\xC0\x80" "6991d580-c6c3-8ceb-90a5-a40c89fb0224"
        "\xC0\x80";
    const char *attrs[1] = {"6991d580-c6c3-8ceb-90a5-a40c89fb0224"};
    char *api = NULL, *wire = NULL;
    size_t len = 0;

    ASSERT_EQ(hlf_composite_key_create(EVL_KEY_EVENT, attrs, 1, &api),
              HLF_OK);
    /* The API form the stub double (fake_stub.c) also produces. */
    ASSERT_STR_EQ(api, api_ev);
    ASSERT_EQ(hlf_key_to_wire(api, &wire, &len), HLF_OK);
    ASSERT_EQ(len, sizeof(want_ev) - 1);
    ASSERT_MEM_EQ(wire, want_ev, len);
    free(api);
    free(wire);
    wire = index_key("US-42049-49888-1213666-R-N", 1528031045, 123,
                     "6991d580-c6c3-8ceb-90a5-a40c89fb0224", &len);
    ASSERT_EQ(len, sizeof(want_subj) - 1);
    ASSERT_MEM_EQ(wire, want_subj, len);
    free(wire);
}

static int
wire_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

TEST_IMPL(keys_order_is_chronological)
{
    /* Chronological, then TransactionId order (equal times last). */
    static const struct {
        int64_t s;
        int32_t ns;
        const char *uuid;
    } t[] = {
        {0, 0, "00000000-0000-8000-8000-000000000000"},
        {9, 999999999, "ffffffff-ffff-8fff-bfff-ffffffffffff"},
        {10, 0, "00000000-0000-8000-8000-000000000000"},
        {1528031045, 0, "ffffffff-ffff-8fff-bfff-ffffffffffff"},
        {1528031045, 1, "00000000-0000-8000-8000-000000000000"},
        {1528031045, 9, "00000000-0000-8000-8000-000000000000"},
        {1528031045, 10, "00000000-0000-8000-8000-000000000000"},
        {1528031045, 100000000, "40e8d977-54d1-8d90-b2f0-82c0dcdd182a"},
        {1528031045, 100000000, "5861a992-84fc-88be-b748-3c4ed37f7645"},
        {1528031045, 100000000, "6991d580-c6c3-8ceb-90a5-a40c89fb0224"},
        {1528031045, 100000000, "dee1e740-7de0-8e95-b7df-173a52f69b20"},
        {1528031045, 999999999, "00000000-0000-8000-8000-000000000000"},
        {1528031046, 0, "00000000-0000-8000-8000-000000000000"},
        {99999999999LL, 0, "00000000-0000-8000-8000-000000000000"},
        {INT64_MAX, 999999999, "00000000-0000-8000-8000-000000000000"},
    };
    size_t i, j, n = sizeof(t) / sizeof(t[0]), alen, blen;
    char *a, *b;

    for (i = 0; i < n; i++) {
        a = index_key("urn:reso:upi:2.0:US:48201:R1", t[i].s, t[i].ns,
                      t[i].uuid, &alen);
        for (j = 0; j < n; j++) {
            b = index_key("urn:reso:upi:2.0:US:48201:R1", t[j].s, t[j].ns,
                          t[j].uuid, &blen);
            ASSERT_EQ(wire_cmp(a, alen, b, blen),
                      i < j ? -1 : (i > j ? 1 : 0));
            free(b);
        }
        free(a);
    }
}

TEST_IMPL(keys_subject_prefix_is_exact)
{
    /*
     * The partial key for subject S ends with the separator, so it never
     * matches subject S-X or a subject that S extends.
     */
    const char *attrs[1] = {"US-42049"};
    char *api = NULL, *prefix = NULL, *k;
    size_t plen = 0, klen;

    ASSERT_EQ(hlf_composite_key_create(EVL_KEY_SUBJECT, attrs, 1, &api),
              HLF_OK);
    ASSERT_EQ(hlf_key_to_wire(api, &prefix, &plen), HLF_OK);
    k = index_key("US-42049", 5, 0, "00000000-0000-8000-8000-000000000000",
                  &klen);
    ASSERT(klen > plen && memcmp(k, prefix, plen) == 0);
    free(k);
    k = index_key("US-42049-X", 5, 0,
                  "00000000-0000-8000-8000-000000000000", &klen);
    ASSERT(memcmp(k, prefix, plen) != 0);
    free(k);
    free(api);
    free(prefix);
}

TEST_IMPL(keys_max_rune_refused)
{
    /* Why the validator refuses U+10FFFF in EventSubject. */
    const char *attrs[1] = {"urn:reso:\xF4\x8F\xBF\xBF"};
    char *api = NULL;

    ASSERT_EQ(hlf_composite_key_create(EVL_KEY_SUBJECT, attrs, 1, &api),
              HLF_EINVAL);
    ASSERT_NULL(api);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(keys_exact_bytes),
    TEST_ENTRY(keys_order_is_chronological),
    TEST_ENTRY(keys_subject_prefix_is_exact),
    TEST_ENTRY(keys_max_rune_refused),
};

TEST_MAIN(tests)
