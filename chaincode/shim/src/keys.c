/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys: UTF-8 validation, the API-form/wire-form conversion and composite
 * keys.
 *
 * Fabric keys are proto3 strings, so they must be valid UTF-8, and
 * composite keys use U+0000 as separator. A C string cannot hold U+0000,
 * so the public API writes it as the overlong pair C0 80 (Modified UTF-8).
 * Strict UTF-8 never contains C0 80, which makes the mapping a bijection
 * between valid wire keys and valid API keys. Composite key layout (as in
 * the Go and Node shims): U+0000 type U+0000 attr1 U+0000 ... attrN U+0000.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hlf/err.h>
#include <hlf/shim.h>

#include "shim_internal.h"

#define SEP_LEN 2                       /* C0 80 */
static const char max_rune[] = "\xF4\x8F\xBF\xBF"; /* U+10FFFF */

/*
 * Decode one code point at s[0..len). Returns its byte length, or 0 when
 * the bytes are not valid UTF-8. With api_form, C0 80 is accepted as
 * U+0000. *cp receives the code point.
 */
static size_t
utf8_step(const unsigned char *s, size_t len, int api_form, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n, i;
    uint32_t v, min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (api_form && c == 0xC0 && len >= 2 && s[1] == 0x80) {
        *cp = 0;
        return 2;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* Validate s[0..len); api_form as in utf8_step. */
static int
utf8_check(const char *s, size_t len, int api_form)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;

    while (i < len) {
        size_t n = utf8_step(p + i, len - i, api_form, &cp);
        if (n == 0)
            return 0;
        /* A raw NUL is impossible in a C string, but wire data may hold
         * one; it is valid UTF-8 there. */
        i += n;
    }
    return 1;
}

int
hlf_utf8_valid(const char *s, size_t len)
{
    if (s == NULL)
        return len == 0;
    return utf8_check(s, len, 0);
}

int
hlf__key_valid(const char *key)
{
    return key != NULL && utf8_check(key, strlen(key), 1);
}

int
hlf__key_is_composite(const char *key)
{
    return key != NULL && (unsigned char)key[0] == 0xC0 &&
           (unsigned char)key[1] == 0x80;
}

/*
 * A composite key (API form) is well formed when it starts and ends with
 * the separator and has at least the type component between them.
 */
int
hlf__key_composite_wellformed(const char *key)
{
    size_t len;

    if (!hlf__key_is_composite(key) || !hlf__key_valid(key))
        return 0;
    len = strlen(key);
    return len >= 2 * SEP_LEN &&
           memcmp(key + len - SEP_LEN, HLF_KEY_SEP, SEP_LEN) == 0;
}

/* Wire length of an API-form key, which is already known to be valid. */
static size_t
wire_len(const char *key)
{
    size_t n = 0;

    for (; *key != '\0'; key++, n++) {
        if ((unsigned char)key[0] == 0xC0 && (unsigned char)key[1] == 0x80)
            key++;
    }
    return n;
}

/* Copy an API-form key as wire bytes into out (room for wire_len + 1). */
static void
to_wire_copy(const char *key, char *out)
{
    for (; *key != '\0'; key++) {
        if ((unsigned char)key[0] == 0xC0 && (unsigned char)key[1] == 0x80) {
            *out++ = '\0';
            key++;
        } else {
            *out++ = *key;
        }
    }
    *out = '\0';
}

/* API length of wire bytes (each 0x00 grows to two bytes). */
static size_t
api_len(const char *wire, size_t len)
{
    size_t i, n = len;

    for (i = 0; i < len; i++)
        if (wire[i] == '\0')
            n++;
    return n;
}

static void
from_wire_copy(const char *wire, size_t len, char *out)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (wire[i] == '\0') {
            *out++ = (char)0xC0;
            *out++ = (char)0x80;
        } else {
            *out++ = wire[i];
        }
    }
    *out = '\0';
}

int
hlf__key_to_wire_arena(hlf__arena_t *a, const char *key, char **wire,
                       size_t *len)
{
    size_t n;
    char *out;

    if (!hlf__key_valid(key))
        return HLF_EINVAL;
    n = wire_len(key);
    out = hlf__arena_alloc(a, n + 1);
    if (out == NULL)
        return HLF_ENOMEM;
    to_wire_copy(key, out);
    *wire = out;
    *len = n;
    return HLF_OK;
}

int
hlf__key_from_wire_arena(hlf__arena_t *a, const char *wire, size_t len,
                         char **key)
{
    char *out;

    if ((wire == NULL && len > 0) || !utf8_check(wire, len, 0))
        return HLF_EINVAL;
    out = hlf__arena_alloc(a, api_len(wire, len) + 1);
    if (out == NULL)
        return HLF_ENOMEM;
    from_wire_copy(wire, len, out);
    *key = out;
    return HLF_OK;
}

int
hlf_key_to_wire(const char *key, char **wire, size_t *len)
{
    size_t n;
    char *out;

    if (wire == NULL || len == NULL || !hlf__key_valid(key))
        return HLF_EINVAL;
    n = wire_len(key);
    out = malloc(n + 1);
    if (out == NULL)
        return HLF_ENOMEM;
    to_wire_copy(key, out);
    *wire = out;
    *len = n;
    return HLF_OK;
}

int
hlf_key_from_wire(const char *wire, size_t len, char **key)
{
    char *out;

    if (key == NULL || (wire == NULL && len > 0) ||
        !utf8_check(wire, len, 0))
        return HLF_EINVAL;
    out = malloc(api_len(wire, len) + 1);
    if (out == NULL)
        return HLF_ENOMEM;
    from_wire_copy(wire, len, out);
    *key = out;
    return HLF_OK;
}

/* ------------------------------------------------------------------------ */
/* Composite keys                                                           */
/* ------------------------------------------------------------------------ */

/*
 * A component must be strict UTF-8 (so no C0 80, i.e. no U+0000) and must
 * not contain U+10FFFF, which is reserved as the range-end marker.
 */
static int
component_valid(const char *s)
{
    return s != NULL && utf8_check(s, strlen(s), 0) &&
           strstr(s, max_rune) == NULL;
}

/*
 * Build the composite key into out (NULL to only measure). Returns the
 * length without the final NUL, or 0 when a component is invalid.
 */
static size_t
composite_build(const char *type, const char *const *attrs, size_t n,
                char *out)
{
    size_t total = SEP_LEN, i, len;

    if (!component_valid(type) || (n > 0 && attrs == NULL))
        return 0;
    for (i = 0; i < n; i++)
        if (!component_valid(attrs[i]))
            return 0;
    if (out != NULL)
        memcpy(out, HLF_KEY_SEP, SEP_LEN);
    for (i = 0; i <= n; i++) {
        const char *part = i == 0 ? type : attrs[i - 1];
        len = strlen(part);
        if (out != NULL) {
            memcpy(out + total, part, len);
            memcpy(out + total + len, HLF_KEY_SEP, SEP_LEN);
        }
        total += len + SEP_LEN;
    }
    if (out != NULL)
        out[total] = '\0';
    return total;
}

int
hlf_composite_key_create(const char *type, const char *const *attrs,
                         size_t n, char **key)
{
    size_t len;
    char *out;

    if (key == NULL)
        return HLF_EINVAL;
    len = composite_build(type, attrs, n, NULL);
    if (len == 0)
        return HLF_EINVAL;
    out = malloc(len + 1);
    if (out == NULL)
        return HLF_ENOMEM;
    composite_build(type, attrs, n, out);
    *key = out;
    return HLF_OK;
}

int
hlf_stub_create_composite_key(hlf_stub_t *stub, const char *type,
                              const char *const *attrs, size_t n,
                              const char **key)
{
    size_t len;
    char *out;

    if (stub == NULL || key == NULL)
        return HLF_EINVAL;
    hlf_error_clear(&stub->last_err);
    len = composite_build(type, attrs, n, NULL);
    if (len == 0)
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "composite key part is not valid UTF-8 or "
                              "contains U+0000/U+10FFFF");
    out = hlf__arena_alloc(&stub->arena, len + 1);
    if (out == NULL)
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    composite_build(type, attrs, n, out);
    *key = out;
    return HLF_OK;
}

/*
 * Split a well-formed composite key. Counts the parts (type included) and,
 * when out is not NULL, copies them into out as consecutive NUL-terminated
 * strings and stores their addresses in parts. Returns the part count or 0
 * when key is not a composite key.
 */
static size_t
composite_split(const char *key, char **parts, char *out)
{
    const char *p, *end, *sep;
    size_t count = 0, len;

    if (!hlf__key_composite_wellformed(key))
        return 0;
    p = key + SEP_LEN;
    end = key + strlen(key);
    while (p < end) {
        sep = strstr(p, HLF_KEY_SEP);
        /* Well-formedness guarantees the key ends with a separator. */
        len = (size_t)(sep - p);
        if (out != NULL) {
            memcpy(out, p, len);
            out[len] = '\0';
            parts[count] = out;
            out += len + 1;
        }
        count++;
        p = sep + SEP_LEN;
    }
    return count;
}

int
hlf_composite_key_split(const char *key, char ***parts, size_t *n)
{
    size_t count, klen;
    char **block;

    if (parts == NULL || n == NULL)
        return HLF_EINVAL;
    count = composite_split(key, NULL, NULL);
    if (count == 0)
        return HLF_EINVAL;
    klen = strlen(key);
    /* Pointer array first, then the strings (shorter than the key). */
    block = malloc(count * sizeof(char *) + klen + 1);
    if (block == NULL)
        return HLF_ENOMEM;
    composite_split(key, block, (char *)(block + count));
    *parts = block;
    *n = count - 1;
    return HLF_OK;
}

int
hlf_stub_split_composite_key(hlf_stub_t *stub, const char *key,
                             const char **type, const char *const **attrs,
                             size_t *n)
{
    size_t count;
    char **parts, *strings;

    if (stub == NULL || type == NULL || attrs == NULL || n == NULL)
        return HLF_EINVAL;
    hlf_error_clear(&stub->last_err);
    count = composite_split(key, NULL, NULL);
    if (count == 0)
        return hlf__stub_fail(stub, HLF_EINVAL, "not a composite key");
    parts = hlf__arena_alloc(&stub->arena, count * sizeof(char *));
    strings = hlf__arena_alloc(&stub->arena, strlen(key) + 1);
    if (parts == NULL || strings == NULL)
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    composite_split(key, parts, strings);
    *type = parts[0];
    *attrs = (const char *const *)(parts + 1);
    *n = count - 1;
    return HLF_OK;
}
