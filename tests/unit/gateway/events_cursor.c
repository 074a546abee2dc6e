/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subject-history cursors of GET /v1/subjects/{EventSubject}/events
 * (gateway/src/routes_events.c): the exact encoding, round trips, every
 * malformed form refused, and where a cursor resumes in a history that
 * grew (also before the cursor's event) since the cursor was issued.
 */
#include "ledger.h"
#include "task.h"

#include <string.h>

static const char TID[] = "6991d580-c6c3-8ceb-90a5-a40c89fb0224";

TEST_IMPL(cursor_encoding_vector)
{
    char out[GW_CURSOR_MAX];

    ASSERT_EQ(gw_cursor_encode(0, TID, out, sizeof(out)), HLF_OK);
    /* base64url("c1:0:6991d580-...") without padding. */
    ASSERT_STR_EQ(out, "YzE6MDo2OTkxZDU4MC1jNmMzLThjZWItOTBhNS1hNDBjODlmYjAy"
                       "MjQ");
    ASSERT_EQ(gw_cursor_encode(12, "a", out, sizeof(out)), HLF_OK);
    ASSERT_STR_EQ(out, "YzE6MTI6YQ");
    ASSERT_EQ(gw_cursor_encode(7, "ab", out, sizeof(out)), HLF_OK);
    ASSERT_STR_EQ(out, "YzE6NzphYg");
}

TEST_IMPL(cursor_round_trip)
{
    static const size_t idx[] = {0, 1, 99, 999, 123456789};
    char out[GW_CURSOR_MAX], tid[72], tid64[65];
    size_t i, got;

    for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        ASSERT_EQ(gw_cursor_encode(idx[i], TID, out, sizeof(out)), HLF_OK);
        ASSERT_EQ(gw_cursor_decode(out, &got, tid, sizeof(tid)), HLF_OK);
        ASSERT_EQ(got, idx[i]);
        ASSERT_STR_EQ(tid, TID);
    }
    memset(tid64, 'a', 64);
    tid64[64] = '\0';
    ASSERT_EQ(gw_cursor_encode(5, tid64, out, sizeof(out)), HLF_OK);
    ASSERT_EQ(strlen(out), 92);
    ASSERT_EQ(gw_cursor_decode(out, &got, tid, sizeof(tid)), HLF_OK);
    ASSERT_STR_EQ(tid, tid64);
}

TEST_IMPL(cursor_encode_refuses)
{
    char out[GW_CURSOR_MAX], small[8], tid65[66];

    ASSERT_EQ(gw_cursor_encode(0, "", out, sizeof(out)), HLF_EINVAL);
    ASSERT_EQ(gw_cursor_encode(0, NULL, out, sizeof(out)), HLF_EINVAL);
    memset(tid65, 'a', 65);
    tid65[65] = '\0';
    ASSERT_EQ(gw_cursor_encode(0, tid65, out, sizeof(out)), HLF_EINVAL);
    ASSERT_EQ(gw_cursor_encode(0, TID, small, sizeof(small)), HLF_EINVAL);
}

TEST_IMPL(cursor_decode_refuses)
{
    static const char *const bad[] = {
        "",                        /* empty */
        "Y",                       /* one char: not base64 */
        "YzE6MDo*",                /* '*' not in the alphabet */
        "YzE6MDo+",                /* standard base64, not url */
        "YzE6MDo=",                /* padding */
        "eDE6MDphYmM",             /* "x1:0:abc": wrong version */
        "YzE6OmFiYw",              /* "c1::abc": no index */
        "YzE6MDo",                 /* "c1:0:": no TransactionId */
        "YzE6MDphYiBj",            /* "c1:0:ab c": bad character */
        "YzE6MDphYgBj",            /* "c1:0:ab\0c": NUL inside */
        "YzE6MTIzNDU2Nzg5MDphYg",  /* index of 10 digits */
        "YzE6NTphYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"
        "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ", /* 65-char TransactionId */
    };
    char tid[72], big[200];
    size_t i, idx = 77;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_cursor_decode(bad[i], &idx, tid, sizeof(tid)) != HLF_EINVAL)
            TEST__FAIL("cursor %zu (\"%s\") was accepted", i, bad[i]);
    ASSERT_EQ(idx, 77);
    ASSERT_EQ(gw_cursor_decode(NULL, &idx, tid, sizeof(tid)), HLF_EINVAL);
    memset(big, 'Y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT_EQ(gw_cursor_decode(big, &idx, tid, sizeof(tid)), HLF_EINVAL);
    /* A buffer too small for the TransactionId. */
    ASSERT_EQ(gw_cursor_decode("YzE6NzphYg", &idx, tid, 2), HLF_EINVAL);
    ASSERT_EQ(gw_cursor_decode("YzE6NzphYg", &idx, tid, 3), HLF_OK);
    ASSERT_EQ(idx, 7);
    ASSERT_STR_EQ(tid, "ab");
}

static json_t *
history(const char *const *tids, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "TransactionId",
                                           tids[i], "State", "Recorded"));
    return a;
}

TEST_IMPL(cursor_resume_positions)
{
    static const char *const h1[] = {"t0", "t1", "t2", "t3"};
    /* Later: one event sorted in before t1, one appended. */
    static const char *const h2[] = {"t0", "tx", "t1", "t2", "t3", "t4"};
    json_t *a = history(h1, 4), *b = history(h2, 6), *empty = json_array();

    /* No cursor: from the start. */
    ASSERT_EQ(gw_cursor_resume(a, 0, NULL), 0);
    /* Hint matches. */
    ASSERT_EQ(gw_cursor_resume(a, 1, "t1"), 2);
    ASSERT_EQ(gw_cursor_resume(a, 3, "t3"), 4);
    /* The history grew before the position: found by TransactionId. */
    ASSERT_EQ(gw_cursor_resume(b, 1, "t1"), 3);
    ASSERT_EQ(gw_cursor_resume(b, 3, "t3"), 5);
    /* Hint out of range, id present. */
    ASSERT_EQ(gw_cursor_resume(a, 900, "t0"), 1);
    /* Id absent (never expected): the hint, clamped. */
    ASSERT_EQ(gw_cursor_resume(a, 1, "zz"), 2);
    ASSERT_EQ(gw_cursor_resume(a, 900, "zz"), 4);
    ASSERT_EQ(gw_cursor_resume(empty, 0, "t0"), 0);
    json_decref(a);
    json_decref(b);
    json_decref(empty);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(cursor_encoding_vector),
    TEST_ENTRY(cursor_round_trip),
    TEST_ENTRY(cursor_encode_refuses),
    TEST_ENTRY(cursor_decode_refuses),
    TEST_ENTRY(cursor_resume_positions),
};

TEST_MAIN(tests)
