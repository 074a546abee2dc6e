/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny test runner for reso-ledger's C tests (after libuv's task.h).
 *
 * A test file writes TEST_IMPL(name) bodies and one table:
 *
 *     TEST_IMPL(txid_vector) { ASSERT_STR_EQ(got, "045e..."); }
 *     static const test_entry_t tests[] = { TEST_ENTRY(txid_vector) };
 *     TEST_MAIN(tests)
 *
 * Each test runs in its own child process with a timeout
 * (RESO_TEST_TIMEOUT seconds, default 120), so a crash, an abort or a hang
 * fails that test only. `prog NAME` runs one test; `prog` runs all and ends
 * with the line "N passed, N failed". Assertions print both operands with
 * file:line and abort.
 */
#ifndef RESO_TASK_H
#define RESO_TASK_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} test_entry_t;

#define TEST_IMPL(name) static void test_##name(void)
#define TEST_ENTRY(name) {#name, test_##name}
#define TEST_MAIN(table)                                                     \
    int main(int argc, char **argv)                                          \
    {                                                                        \
        return test_run_main(argc, argv, table,                              \
                             sizeof(table) / sizeof((table)[0]));            \
    }

int test_run_main(int argc, char **argv, const test_entry_t *tests,
                  size_t n);

/* Mark the running test as skipped (exit code 77) with a reason. */
void test_skip(const char *file, int line, const char *why)
    __attribute__((noreturn));
#define RETURN_SKIP(why) test_skip(__FILE__, __LINE__, (why))

#define TEST__FAIL(...)                                                      \
    do {                                                                     \
        fprintf(stderr, "%s:%d: assertion failed: ", __FILE__, __LINE__);   \
        fprintf(stderr, __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                 \
        abort();                                                             \
    } while (0)

#define ASSERT(expr)                                                         \
    do {                                                                     \
        if (!(expr))                                                         \
            TEST__FAIL("%s", #expr);                                         \
    } while (0)

#define ASSERT_EQ(a, b)                                                      \
    do {                                                                     \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                        \
        if (a_ != b_)                                                        \
            TEST__FAIL("%s == %s (%" PRId64 " vs %" PRId64 ")", #a, #b, a_,  \
                       b_);                                                  \
    } while (0)

#define ASSERT_NE(a, b)                                                      \
    do {                                                                     \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                        \
        if (a_ == b_)                                                        \
            TEST__FAIL("%s != %s (both %" PRId64 ")", #a, #b, a_);           \
    } while (0)

#define ASSERT_LE(a, b)                                                      \
    do {                                                                     \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                        \
        if (!(a_ <= b_))                                                     \
            TEST__FAIL("%s <= %s (%" PRId64 " vs %" PRId64 ")", #a, #b, a_,  \
                       b_);                                                  \
    } while (0)

#define ASSERT_GE(a, b) ASSERT_LE(b, a)

#define ASSERT_STR_EQ(a, b)                                                  \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                 \
            TEST__FAIL("%s == %s (\"%s\" vs \"%s\")", #a, #b,                \
                       a_ ? a_ : "(null)", b_ ? b_ : "(null)");              \
    } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                               \
    do {                                                                     \
        if (memcmp((a), (b), (n)) != 0)                                      \
            TEST__FAIL("%s == %s over %zu bytes", #a, #b, (size_t)(n));      \
    } while (0)

#define ASSERT_NULL(p)                                                       \
    do {                                                                     \
        if ((p) != NULL)                                                     \
            TEST__FAIL("%s is NULL", #p);                                    \
    } while (0)

#define ASSERT_NOT_NULL(p)                                                   \
    do {                                                                     \
        if ((p) == NULL)                                                     \
            TEST__FAIL("%s is not NULL", #p);                                \
    } while (0)

#endif /* RESO_TASK_H */
