/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the shim's pure key helpers: UTF-8 validation, the
 * API-form (C0 80) <-> wire-form (0x00) conversion and composite keys,
 * with the byte vectors the Go and Node shims produce.
 */
#include <stdlib.h>
#include <string.h>

#include <hlf/shim.h>

#include "task.h"

TEST_IMPL(utf8_validation)
{
    ASSERT_EQ(hlf_utf8_valid("abc", 3), 1);
    ASSERT_EQ(hlf_utf8_valid("", 0), 1);
    ASSERT_EQ(hlf_utf8_valid("\xC3\xA9", 2), 1);         /* e acute */
    ASSERT_EQ(hlf_utf8_valid("\xF4\x8F\xBF\xBF", 4), 1); /* U+10FFFF */
    ASSERT_EQ(hlf_utf8_valid("a\0b", 3), 1);              /* raw U+0000 */
    ASSERT_EQ(hlf_utf8_valid("\xC0\x80", 2), 0);          /* overlong NUL */
    ASSERT_EQ(hlf_utf8_valid("\xE0\x80\x80", 3), 0);      /* overlong */
    ASSERT_EQ(hlf_utf8_valid("\xED\xA0\x80", 3), 0);      /* surrogate */
    ASSERT_EQ(hlf_utf8_valid("\xF4\x90\x80\x80", 4), 0);  /* > U+10FFFF */
    ASSERT_EQ(hlf_utf8_valid("\xE2\x82", 2), 0);          /* truncated */
    ASSERT_EQ(hlf_utf8_valid("\xFF", 1), 0);
    ASSERT_EQ(hlf_utf8_valid("\x80", 1), 0);
}

TEST_IMPL(composite_key_vector)
{
    const char *attrs[] = {"a", "b"};
    char *key = NULL, *wire = NULL, *back = NULL;
    size_t len = 0;

    ASSERT_EQ(hlf_composite_key_create("type", attrs, 2, &key), HLF_OK);
    ASSERT_STR_EQ(key, "\xC0\x80type\xC0\x80" "a\xC0\x80" "b\xC0\x80");
    ASSERT_EQ(hlf_key_to_wire(key, &wire, &len), HLF_OK);
    ASSERT_EQ(len, 10);
    ASSERT_MEM_EQ(wire, "\0type\0a\0b\0", 10);
    ASSERT_EQ(wire[10], '\0');
    ASSERT_EQ(hlf_key_from_wire(wire, len, &back), HLF_OK);
    ASSERT_STR_EQ(back, key);
    free(key);
    free(wire);
    free(back);
}

TEST_IMPL(composite_key_split)
{
    const char *attrs[] = {"listing-1", "", "\xC3\xA9t\xC3\xA9"};
    char *key = NULL, **parts = NULL;
    size_t n = 99;

    ASSERT_EQ(hlf_composite_key_create("evt", attrs, 3, &key), HLF_OK);
    ASSERT_EQ(hlf_composite_key_split(key, &parts, &n), HLF_OK);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(parts[0], "evt");
    ASSERT_STR_EQ(parts[1], "listing-1");
    ASSERT_STR_EQ(parts[2], "");
    ASSERT_STR_EQ(parts[3], "\xC3\xA9t\xC3\xA9");
    free(parts);
    free(key);

    /* No attributes, and an empty type (allowed, as in Go). */
    ASSERT_EQ(hlf_composite_key_create("t", NULL, 0, &key), HLF_OK);
    ASSERT_STR_EQ(key, "\xC0\x80t\xC0\x80");
    ASSERT_EQ(hlf_composite_key_split(key, &parts, &n), HLF_OK);
    ASSERT_EQ(n, 0);
    ASSERT_STR_EQ(parts[0], "t");
    free(parts);
    free(key);
    ASSERT_EQ(hlf_composite_key_create("", attrs, 1, &key), HLF_OK);
    ASSERT_STR_EQ(key, "\xC0\x80\xC0\x80listing-1\xC0\x80");
    free(key);
}

TEST_IMPL(composite_key_rejects)
{
    const char *bad_utf8[] = {"ok", "\xFF"};
    const char *max_rune[] = {"a\xF4\x8F\xBF\xBF"};
    const char *nul[] = {"a\xC0\x80" "b"};
    char *key = (char *)"untouched", **parts = NULL;
    size_t n = 0;

    ASSERT_EQ(hlf_composite_key_create("t", bad_utf8, 2, &key), HLF_EINVAL);
    ASSERT_EQ(hlf_composite_key_create("t", max_rune, 1, &key), HLF_EINVAL);
    ASSERT_EQ(hlf_composite_key_create("t", nul, 1, &key), HLF_EINVAL);
    ASSERT_EQ(hlf_composite_key_create("\xC0\x80", NULL, 0, &key),
              HLF_EINVAL);
    ASSERT_EQ(hlf_composite_key_create(NULL, NULL, 0, &key), HLF_EINVAL);
    ASSERT_STR_EQ(key, "untouched");

    ASSERT_EQ(hlf_composite_key_split("plain", &parts, &n), HLF_EINVAL);
    ASSERT_EQ(hlf_composite_key_split("\xC0\x80t", &parts, &n), HLF_EINVAL);
    ASSERT_EQ(hlf_composite_key_split("\xC0\x80", &parts, &n), HLF_EINVAL);
    ASSERT_EQ(hlf_composite_key_split("\xC0\x80t\xC0\x80\xFF\xC0\x80",
                                      &parts, &n),
              HLF_EINVAL);
    ASSERT_NULL(parts);
}

TEST_IMPL(key_wire_conversion)
{
    char *out = NULL;
    size_t len = 0;

    /* Plain keys pass through unchanged. */
    ASSERT_EQ(hlf_key_to_wire("listing/123", &out, &len), HLF_OK);
    ASSERT_EQ(len, 11);
    ASSERT_STR_EQ(out, "listing/123");
    free(out);
    /* Invalid UTF-8 in either direction is refused. */
    ASSERT_EQ(hlf_key_to_wire("a\xFF", &out, &len), HLF_EINVAL);
    ASSERT_EQ(hlf_key_to_wire("\xE2\x82", &out, &len), HLF_EINVAL);
    ASSERT_EQ(hlf_key_from_wire("a\xC0\x80", 3, &out), HLF_EINVAL);
    ASSERT_EQ(hlf_key_from_wire("\xED\xA0\x80", 3, &out), HLF_EINVAL);
    /* A raw 0x00 on the wire becomes C0 80. */
    ASSERT_EQ(hlf_key_from_wire("\0x\0", 3, &out), HLF_OK);
    ASSERT_STR_EQ(out, "\xC0\x80x\xC0\x80");
    free(out);
    ASSERT_EQ(hlf_key_from_wire("", 0, &out), HLF_OK);
    ASSERT_STR_EQ(out, "");
    free(out);
}

TEST_IMPL(response_helpers)
{
    hlf_response_t ok = hlf_success("abc", 3);
    hlf_response_t empty = hlf_success(NULL, 5);
    hlf_response_t err = hlf_error_response(404, "no such listing");

    ASSERT_EQ(ok.status, 200);
    ASSERT_EQ(ok.payload_len, 3);
    ASSERT_MEM_EQ(ok.payload, "abc", 3);
    ASSERT_NULL(ok.message);
    ASSERT_EQ(empty.payload_len, 0);
    ASSERT_EQ(err.status, 404);
    ASSERT_STR_EQ(err.message, "no such listing");
    ASSERT_NULL(err.payload);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(utf8_validation),
    TEST_ENTRY(composite_key_vector),
    TEST_ENTRY(composite_key_split),
    TEST_ENTRY(composite_key_rejects),
    TEST_ENTRY(key_wire_conversion),
    TEST_ENTRY(response_helpers),
};

TEST_MAIN(tests)
