/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The draft field Context (reso-model.md §2.3): a flat object of scalar
 * values that says what an event is about (an education record's course
 * code, an off-chain document's address). The ledger keeps it forever and
 * the model forbids personal data (§1: no PII, no detail), so besides
 * bounding its size we refuse values that look like e-mail addresses or
 * phone numbers. The detectors are deliberately simple shape tests,
 * documented in docs/event-model.md "Context", so a client can predict
 * them; they err on the side of refusing contact data, and they leave
 * dates, course codes, URNs, CIDs and amounts alone.
 */
#include "evl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Characters of an e-mail local part (RFC 5322 dot-atom, common subset). */
static int
is_local(char c)
{
    return is_alpha(c) || is_digit(c) ||
           (c != '\0' && strchr("._%+-!#$&'*/=?^`{|}~", c) != NULL);
}

/* Characters of a domain label. */
static int
is_label(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-';
}

int
evl_looks_like_email(const char *s, size_t len)
{
    size_t i, j, dot, last_label;

    for (i = 0; i < len; i++) {
        if (s[i] != '@' || i == 0 || !is_local(s[i - 1]))
            continue;
        /*
         * After the '@': labels separated by dots, at least one dot, and
         * a last label of two or more letters (a top-level domain).
         */
        dot = 0;
        last_label = 0;
        for (j = i + 1; j < len && (is_label(s[j]) || s[j] == '.'); j++) {
            if (s[j] == '.') {
                if (j == i + 1 || s[j - 1] == '.')
                    break;
                dot = 1;
                last_label = 0;
            } else {
                last_label = is_alpha(s[j]) ? last_label + 1 : 0;
            }
        }
        if (j > i + 1 && s[j - 1] == '.')
            last_label = 0;
        if (dot && last_label >= 2)
            return 1;
    }
    return 0;
}

static int
is_sep(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/*
 * 1 if the run r[0..n) starts like a calendar date: four digits, a
 * separator '-', '/' or '.', two digits, the same separator, two digits.
 */
static int
starts_with_date(const char *r, size_t n)
{
    if (n < 10)
        return 0;
    return is_digit(r[0]) && is_digit(r[1]) && is_digit(r[2]) &&
           is_digit(r[3]) && (r[4] == '-' || r[4] == '/' || r[4] == '.') &&
           is_digit(r[5]) && is_digit(r[6]) && r[7] == r[4] &&
           is_digit(r[8]) && is_digit(r[9]);
}

/*
 * Judge one run of digits and separators r[0..n) (starts with a digit or
 * '(', ends with a digit; plus is 1 when a '+' came right before it).
 */
static int
run_is_phone(const char *r, size_t n, int plus)
{
    size_t i, digits = 0, groups = 0, group_len = 0, seps = 0;
    size_t dots = 0;
    int thousands = 1, first = 1;
    char sep_kind = 0;

    for (i = 0; i < n; i++) {
        if (is_digit(r[i])) {
            digits++;
            group_len++;
            continue;
        }
        seps++;
        if (r[i] == '.')
            dots++;
        if (group_len > 0) {
            /* Groups after the first all of 3 digits: 1.250.000. */
            if (!first && group_len != 3)
                thousands = 0;
            if (sep_kind == 0)
                sep_kind = r[i];
            else if (sep_kind != r[i])
                thousands = 0;
            first = 0;
            groups++;
        }
        group_len = 0;
    }
    if (group_len > 0) {
        if (!first && group_len != 3)
            thousands = 0;
        groups++;
    }
    if (digits < 7 || digits > 15)
        return 0;
    if (plus)
        return 1;
    if (seps == 0 || groups < 2)
        return 0;
    if (starts_with_date(r, n))
        return 0;
    /* A decimal number such as 2500000.50. */
    if (groups == 2 && seps == 1 && dots == 1)
        return 0;
    if (thousands && (sep_kind == '.' || sep_kind == ' ' || sep_kind == 0))
        return 0;
    return 1;
}

int
evl_looks_like_phone(const char *s, size_t len)
{
    size_t i = 0, start, end;
    int plus;

    while (i < len) {
        if (!is_digit(s[i]) && s[i] != '(') {
            i++;
            continue;
        }
        /*
         * A run starts at a digit or '(' that does not continue a word:
         * "E-23456" and "ID42" are codes, not numbers.
         */
        if (i > 0 && (is_alpha(s[i - 1]) || s[i - 1] == '_' ||
                      (s[i - 1] == '-' && i > 1 && is_alpha(s[i - 2])))) {
            while (i < len && (is_digit(s[i]) || is_sep(s[i])))
                i++;
            continue;
        }
        plus = i > 0 && s[i - 1] == '+';
        start = i;
        end = i;
        while (i < len && (is_digit(s[i]) || is_sep(s[i]))) {
            if (is_digit(s[i]))
                end = i + 1;
            i++;
        }
        /* A number glued to letters after it ("4567abc") is a code. */
        if (end == i && i < len && is_alpha(s[i]))
            continue;
        if (end > start && run_is_phone(s + start, end - start, plus))
            return 1;
    }
    return 0;
}

static int
valid_key(const char *k, size_t len)
{
    size_t i;

    if (len == 0 || len > EVL_CONTEXT_KEY_MAX || !is_alpha(k[0]))
        return 0;
    for (i = 1; i < len; i++)
        if (!is_alpha(k[i]) && !is_digit(k[i]) && k[i] != '_')
            return 0;
    return 1;
}

int
evl_context_check_shape(const json_t *v, evl_reject_t *rej)
{
    char where[EVL_CONTEXT_KEY_MAX + 16], shown[EVL_ECHO_SIZE];
    const char *key;
    json_t *val;
    size_t n;
    char *text;

    if (!json_is_object(v))
        return evl_reject(rej, EVL_INVALID_VALUE, "Context", (size_t)-1,
                          "Context must be a JSON object of scalar values");
    n = json_object_size(v);
    if (n == 0 || n > EVL_CONTEXT_MAX_KEYS)
        return evl_reject(rej, EVL_INVALID_VALUE, "Context", (size_t)-1,
                          "Context must have 1 to %d keys, has %zu (omit "
                          "Context when there is nothing to say)",
                          EVL_CONTEXT_MAX_KEYS, n);
    /* jansson's iteration macro takes a non-const object; it only reads. */
    json_object_foreach((json_t *)v, key, val) {
        size_t klen = strlen(key);

        if (!valid_key(key, klen)) {
            evl_echo(key, klen, shown, sizeof(shown));
            snprintf(where, sizeof(where), "Context.%s", shown);
            return evl_reject(rej, EVL_INVALID_VALUE, where, (size_t)-1,
                              "Context key '%s' must be 1 to %d characters "
                              "of A-Z a-z 0-9 _ starting with a letter",
                              shown, EVL_CONTEXT_KEY_MAX);
        }
        snprintf(where, sizeof(where), "Context.%s", key);
        if (json_is_string(val)) {
            size_t vlen = json_string_length(val);

            if (vlen == 0 || vlen > EVL_CONTEXT_VALUE_MAX)
                return evl_reject(rej, EVL_INVALID_VALUE, where, (size_t)-1,
                                  "%s must be 1 to %d bytes long, got %zu "
                                  "bytes",
                                  where, EVL_CONTEXT_VALUE_MAX, vlen);
        } else if (!json_is_number(val) && !json_is_boolean(val)) {
            return evl_reject(rej, EVL_INVALID_VALUE, where, (size_t)-1,
                              "%s must be a string, number or boolean: "
                              "Context is flat, without null, objects or "
                              "arrays",
                              where);
        }
    }
    text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        evl_reject(rej, EVL_INTERNAL, NULL, 0, "out of memory");
        return HLF_ENOMEM;
    }
    n = strlen(text);
    free(text);
    if (n > EVL_CONTEXT_MAX_BYTES)
        return evl_reject(rej, EVL_INVALID_VALUE, "Context", (size_t)-1,
                          "Context is %zu bytes as compact JSON; at most %d "
                          "are allowed (put details in an off-chain "
                          "document and reference it)",
                          n, EVL_CONTEXT_MAX_BYTES);
    return HLF_OK;
}

int
evl_context_check_pii(const json_t *v, evl_reject_t *rej)
{
    char where[EVL_CONTEXT_KEY_MAX + 16];
    const char *key, *s;
    json_t *val;
    size_t len;

    json_object_foreach((json_t *)v, key, val) {
        if (!json_is_string(val))
            continue;
        s = json_string_value(val);
        len = json_string_length(val);
        snprintf(where, sizeof(where), "Context.%s", key);
        if (evl_looks_like_email(s, len))
            return evl_reject(rej, EVL_PII_EMAIL, where, (size_t)-1,
                              "%s looks like an e-mail address; the ledger "
                              "keeps no personal data (reference an "
                              "off-chain record instead)",
                              where);
        if (evl_looks_like_phone(s, len))
            return evl_reject(rej, EVL_PII_PHONE, where, (size_t)-1,
                              "%s looks like a phone number; the ledger "
                              "keeps no personal data (reference an "
                              "off-chain record instead)",
                              where);
    }
    return HLF_OK;
}
