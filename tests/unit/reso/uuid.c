/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TransactionId derivation: the four published vectors of reso-model.md
 * §11 (txid = SHA-256("tx-N") in hex), plus the version/variant bits, the
 * event index and the argument checks.
 */
#include "evl.h"
#include "hlf/err.h"
#include "task.h"

static const struct {
    const char *txid;
    const char *uuid;
} vectors[] = {
    {"045ef594d81d2f2134d61151ed71260d8f79e657c7cb6ed1d893688532017409",
     "6991d580-c6c3-8ceb-90a5-a40c89fb0224"},
    {"0ab25f3049004ce5969100672c92a2768481db2abf7e0267a3b0828a639d5f75",
     "5861a992-84fc-88be-b748-3c4ed37f7645"},
    {"eea1ad3fbf2142ede510d0220518d902a5ba9b502851530d7fc1454f5147206c",
     "dee1e740-7de0-8e95-b7df-173a52f69b20"},
    {"54cc301a70fd9f3b497965ba192cda510ea6f789d9cbfd25b83864e5deef5c15",
     "40e8d977-54d1-8d90-b2f0-82c0dcdd182a"},
};

TEST_IMPL(uuid_vectors)
{
    char out[EVL_UUID_LEN + 1];
    size_t i;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        memset(out, 'x', sizeof(out));
        ASSERT_EQ(evl_uuid_from_txid(vectors[i].txid,
                                     strlen(vectors[i].txid), 0, out),
                  HLF_OK);
        ASSERT_STR_EQ(out, vectors[i].uuid);
    }
}

TEST_IMPL(uuid_shape)
{
    char out[EVL_UUID_LEN + 1];
    uint32_t i;

    /* Every index gives a different, well-formed version-8 UUID. */
    for (i = 0; i < 64; i++) {
        ASSERT_EQ(evl_uuid_from_txid("abc", 3, i, out), HLF_OK);
        ASSERT_EQ(strlen(out), 36);
        ASSERT_EQ(out[8], '-');
        ASSERT_EQ(out[13], '-');
        ASSERT_EQ(out[18], '-');
        ASSERT_EQ(out[23], '-');
        ASSERT_EQ(out[14], '8');
        ASSERT(strchr("89ab", out[19]) != NULL);
        ASSERT_EQ(strspn(out, "0123456789abcdef-"), 36);
    }
}

TEST_IMPL(uuid_index_matters)
{
    char a[EVL_UUID_LEN + 1], b[EVL_UUID_LEN + 1];

    ASSERT_EQ(evl_uuid_from_txid(vectors[0].txid, 64, 0, a), HLF_OK);
    ASSERT_EQ(evl_uuid_from_txid(vectors[0].txid, 64, 1, b), HLF_OK);
    ASSERT(strcmp(a, b) != 0);
    /* The length prefix makes "ab"+index differ from "a"+other bytes. */
    ASSERT_EQ(evl_uuid_from_txid(vectors[0].txid, 63, 0, b), HLF_OK);
    ASSERT(strcmp(a, b) != 0);
}

TEST_IMPL(uuid_bad_args)
{
    char out[EVL_UUID_LEN + 1];
    char big[EVL_TXID_MAX + 1];

    memset(big, 'a', sizeof(big));
    ASSERT_EQ(evl_uuid_from_txid("", 0, 0, out), HLF_EINVAL);
    ASSERT_EQ(evl_uuid_from_txid(NULL, 3, 0, out), HLF_EINVAL);
    ASSERT_EQ(evl_uuid_from_txid(big, sizeof(big), 0, out), HLF_EINVAL);
    ASSERT_EQ(evl_uuid_from_txid(big, EVL_TXID_MAX, 0, out), HLF_OK);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(uuid_vectors),
    TEST_ENTRY(uuid_shape),
    TEST_ENTRY(uuid_index_matters),
    TEST_ENTRY(uuid_bad_args),
};

TEST_MAIN(tests)
