/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for hlf/src/err.c. */
#include "hlf/err.h"
#include "task.h"

TEST_IMPL(err_names)
{
    ASSERT_STR_EQ(hlf_err_name(HLF_OK), "OK");
    ASSERT_STR_EQ(hlf_err_name(HLF_EINVAL), "EINVAL");
    ASSERT_STR_EQ(hlf_err_name(HLF_ECONFIG), "ECONFIG");
    ASSERT_STR_EQ(hlf_err_name(12345), "UNKNOWN");
    ASSERT_STR_EQ(hlf_strerror(HLF_ENOMEM), "out of memory");
}

TEST_IMPL(err_set_one_line)
{
    hlf_error_t e;

    hlf_error_clear(&e);
    ASSERT_EQ(e.tx_validation_code, -1);
    ASSERT_EQ(hlf_error_set(&e, HLF_EPROTO, "bad\r\nframe %d", 7), HLF_EPROTO);
    ASSERT_EQ(e.code, HLF_EPROTO);
    ASSERT_STR_EQ(e.text, "bad  frame 7");
    hlf_error_prefix(&e, "decode %s", "block");
    ASSERT_STR_EQ(e.text, "decode block: bad  frame 7");
    ASSERT_EQ(hlf_error_set(NULL, HLF_EIO, "x"), HLF_EIO);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(err_names),
    TEST_ENTRY(err_set_one_line),
};

TEST_MAIN(tests)
