/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rejections: the error codes of the reso contract, their chaincode
 * status, and the one JSON shape every error answer takes
 * ({"error":{"code","field","message"}}, architecture.md decision 8).
 * Also the small UTF-8 helpers that keep user text echoed in messages
 * valid, because jansson refuses to serialize broken UTF-8.
 */
#include "evl.h"

#include "hlf/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int status;
} codes[] = {
#define EVL__CODE_ROW(name, status) {#name, status},
    EVL_CODE_MAP(EVL__CODE_ROW)
#undef EVL__CODE_ROW
};

const char *
evl_code_name(evl_code_t code)
{
    if ((int)code < 0 || code >= EVL_CODE_COUNT)
        return "INTERNAL";
    return codes[code].name;
}

int
evl_code_status(evl_code_t code)
{
    if ((int)code < 0 || code >= EVL_CODE_COUNT)
        return 500;
    return codes[code].status;
}

/* Length of the UTF-8 sequence starting at s[i], or 0 if malformed. */
static size_t
utf8_seq(const unsigned char *s, size_t len, size_t i)
{
    unsigned char c = s[i];
    size_t n, k;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len - i < n)
        return 0;
    for (k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    /* Reject overlong forms, surrogates and values past U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

int
evl_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;

    while (i < len) {
        n = utf8_seq(u, len, i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

size_t
evl_utf8_cut(const char *s, size_t len, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;

    /*
     * Walk whole characters; anything malformed ends the prefix, so the
     * result is always valid UTF-8 even for arbitrary bytes.
     */
    while (i < len) {
        n = utf8_seq(u, len, i);
        if (n == 0 || i + n > max)
            break;
        i += n;
    }
    return i;
}

void
evl_echo(const char *s, size_t len, char *buf, size_t n)
{
    size_t k = evl_utf8_cut(s, len, EVL_ECHO_SIZE - 4);

    snprintf(buf, n, "%.*s%s", (int)k, s, k < len ? "..." : "");
}

size_t
evl_append(char *buf, size_t n, size_t used, const char *sep,
           const char *item)
{
    int w;

    if (n == 0 || used >= n - 1)
        return n == 0 ? 0 : n - 1;
    w = snprintf(buf + used, n - used, "%s%s", used > 0 ? sep : "", item);
    if (w < 0)
        return used;
    return used + (size_t)w >= n ? n - 1 : used + (size_t)w;
}

int
evl_reject(evl_reject_t *rej, evl_code_t code, const char *field,
           size_t field_len, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    int rc = evl_code_status(code) >= 500 ? HLF_EIO : HLF_EINVAL;

    if (rej == NULL)
        return rc;
    rej->code = code;
    rej->field[0] = '\0';
    if (field != NULL) {
        if (field_len == (size_t)-1)
            field_len = strlen(field);
        n = evl_utf8_cut(field, field_len, EVL_FIELD_MAX);
        memcpy(rej->field, field, n);
        rej->field[n] = '\0';
    }
    va_start(ap, fmt);
    vsnprintf(rej->message, sizeof(rej->message), fmt, ap);
    va_end(ap);
    /* A long message may have been cut inside a character. */
    n = strlen(rej->message);
    rej->message[evl_utf8_cut(rej->message, n, n)] = '\0';
    return rc;
}

char *
evl_reject_json(const evl_reject_t *rej)
{
    json_t *body = NULL, *error = NULL;
    char *out = NULL;

    body = json_object();
    error = json_object();
    if (body == NULL || error == NULL)
        goto fail;
    if (json_object_set_new(error, "code",
                            json_string(evl_code_name(rej->code))) != 0)
        goto fail;
    if (rej->field[0] != '\0' &&
        json_object_set_new(error, "field", json_string(rej->field)) != 0)
        goto fail;
    if (json_object_set_new(error, "message", json_string(rej->message)) !=
        0)
        goto fail;
    if (json_object_set(body, "error", error) != 0)
        goto fail;
    out = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
fail:
    json_decref(error);
    json_decref(body);
    return out;
}
