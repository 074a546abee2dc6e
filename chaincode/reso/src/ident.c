/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identifier syntax checks for EventSubject, Recorder and Application
 * (reso-model.md §5.6). The patterns are written as small hand-made
 * matchers instead of <regex.h> so the result never depends on the
 * process locale, and so a mismatch can say exactly which byte broke it.
 *
 * Every matcher returns -1 when the whole input matches, otherwise the
 * byte offset where matching failed, and sets *why to a short phrase.
 * Bytes are bytes: a UTF-8 character outside ASCII fails every pattern
 * except a URN's NSS, which excludes only ASCII whitespace
 * ([^[:space:]] in the C locale: space, \t, \n, \v, \f, \r).
 */
#include "evl.h"

#include <stdio.h>
#include <string.h>

static int
is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9');
}

static int
is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
           (c >= 'a' && c <= 'f');
}

static int
is_legacy_char(unsigned char c)
{
    return is_alnum(c) || c == '-';
}

/* Not [:space:] in the C locale (space, \t, \n, \v, \f, \r). */
static int
is_not_c_space(unsigned char c)
{
    return c != ' ' && (c < '\t' || c > '\r');
}

static int
is_print(unsigned char c)
{
    return c >= 0x20 && c <= 0x7E;
}

/* Set *why to text and return off: how every matcher reports a mismatch. */
static long
fail(const char **why, const char *text, size_t off)
{
    *why = text;
    return (long)off;
}

/* First index in [from, len) whose byte fails ok, or len. */
static size_t
span(const unsigned char *s, size_t from, size_t len,
     int (*ok)(unsigned char))
{
    while (from < len && ok(s[from]))
        from++;
    return from;
}

/* idchar of the DID syntax: ALPHA / DIGIT / "." / "-" / "_". */
static int
is_idchar(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '-' || c == '_';
}

/* RFC 3986 fragment characters other than pct-encoded. */
static int
is_fragchar(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/?", c));
}

/* 1 if s[i] == '%' starts a pct-encoded triplet %XX, else sets *why. */
static int
pct_ok(const unsigned char *s, size_t len, size_t i, const char **why)
{
    if (i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2]))
        return 1;
    *why = "'%' must be followed by two hex digits";
    return 0;
}

/*
 * Number of leading bytes of s[0..len) that equal prefix (lower case),
 * ignoring ASCII letter case.
 */
static size_t
ci_prefix_len(const unsigned char *s, size_t len, const char *prefix)
{
    size_t i;
    unsigned char c;

    for (i = 0; i < len && prefix[i] != '\0'; i++) {
        c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)prefix[i])
            break;
    }
    return i;
}

static int
has_prefix_ci(const char *s, size_t len, const char *prefix)
{
    return ci_prefix_len((const unsigned char *)s, len, prefix) ==
           strlen(prefix);
}

/* LEGACY  ^[A-Za-z0-9-]+$ */
static long
match_legacy(const unsigned char *s, size_t len, const char **why)
{
    size_t i;

    if (len == 0)
        return fail(why, "it is empty", 0);
    i = span(s, 0, len, is_legacy_char);
    if (i < len)
        return fail(why, "only letters, digits and '-' are allowed", i);
    return -1;
}

/*
 * URN  ^[uU][rR][nN]:[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]:[^[:space:]]+$
 * The NID cannot contain ':', so it always ends at the first ':' after
 * "urn:" and the match is deterministic.
 */
static long
match_urn(const unsigned char *s, size_t len, const char **why)
{
    static const char prefix[] = "urn:";
    size_t i, nid_end;

    i = ci_prefix_len(s, len, prefix);
    if (i < 4)
        return fail(why, "a URN must start with 'urn:'", i);
    for (i = 4; i < len && s[i] != ':'; i++) {
        if (!is_alnum(s[i]) && (s[i] != '-' || i == 4))
            return fail(why,
                        i == 4 ? "the NID must start with a letter or digit"
                               : "the NID allows only letters, digits and '-'",
                        i);
        if (i - 4 >= 32)
            return fail(why, "the NID is longer than 32 characters", i);
    }
    nid_end = i;
    if (nid_end == len)
        return fail(why, "the ':' after the NID is missing", len);
    if (nid_end - 4 < 2)
        return fail(why, "the NID must be 2 to 32 characters long", nid_end);
    if (s[nid_end - 1] == '-')
        return fail(why, "the NID must end with a letter or digit",
                    nid_end - 1);
    if (nid_end + 1 == len)
        return fail(why, "the NSS after 'urn:<NID>:' is empty", len);
    i = span(s, nid_end + 1, len, is_not_c_space);
    if (i < len)
        return fail(why, "whitespace is not allowed in the NSS", i);
    return -1;
}

/*
 * DID  ^did:[a-z0-9]+:(([A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*:)*
 *      ([A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$
 * i.e. a non-empty run of idchar, pct-encoded and ':' not ending in ':'.
 */
static long
match_did(const unsigned char *s, size_t len, const char **why)
{
    static const char prefix[] = "did:";
    size_t i, m;

    for (i = 0; i < 4; i++) {
        if (i >= len || s[i] != (unsigned char)prefix[i])
            return fail(why, "a DID must start with 'did:' in lower case", i);
    }
    for (i = 4; i < len && s[i] != ':'; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return fail(why, "the DID method name allows only a-z and 0-9", i);
    }
    if (i == 4)
        return fail(why, "the DID method name is empty", 4);
    if (i == len)
        return fail(why, "the ':' after the DID method name is missing", len);
    m = i + 1;
    if (m == len)
        return fail(why, "the DID method-specific id is empty", len);
    for (i = m; i < len; i++) {
        if (s[i] == '%') {
            if (!pct_ok(s, len, i, why))
                return (long)i;
            i += 2;
        } else if (!is_idchar(s[i]) && s[i] != ':') {
            *why = "the DID method-specific id allows only letters, digits, "
                   "'.', '-', '_', ':' and %XX";
            return (long)i;
        }
    }
    if (s[len - 1] == ':')
        return fail(why, "a DID must not end with ':'", len - 1);
    return -1;
}

/* DIDURL  DID ["#" fragment], fragment = *( pchar / "/" / "?" ). */
static long
match_didurl(const unsigned char *s, size_t len, const char **why)
{
    const unsigned char *hash = memchr(s, '#', len);
    size_t base = hash != NULL ? (size_t)(hash - s) : len;
    size_t i;
    long off;

    off = match_did(s, base, why);
    if (off >= 0)
        return off;
    for (i = base + 1; i < len; i++) {
        if (s[i] == '%') {
            if (!pct_ok(s, len, i, why))
                return (long)i;
            i += 2;
        } else if (!is_fragchar(s[i])) {
            *why = "character not allowed in a URI fragment";
            return (long)i;
        }
    }
    return -1;
}

/* APPTEXT  ^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$ */
static long
match_apptext(const unsigned char *s, size_t len, const char **why)
{
    size_t i;

    if (len == 0)
        return fail(why, "it is empty", 0);
    i = span(s, 0, len, is_print);
    if (i < len)
        return fail(why, "only printable ASCII characters are allowed", i);
    if (s[0] == ' ')
        return fail(why, "leading spaces are not allowed", 0);
    if (s[len - 1] == ' ')
        return fail(why, "trailing spaces are not allowed", len - 1);
    return -1;
}

typedef long (*matcher_fn)(const unsigned char *, size_t, const char **);

static const struct {
    unsigned id;
    matcher_fn match;
    const char *name;
    const char *describe;
} syntaxes[] = {
    {EVL_ID_LEGACY, match_legacy, "a legacy id",
     "a legacy id of letters, digits and '-' (e.g. "
     "US-42049-49888-1213666-R-N)"},
    {EVL_ID_URN, match_urn, "a URN",
     "a URN urn:<NID>:<NSS> (NID of 2-32 letters, digits or '-'; NSS "
     "without whitespace)"},
    {EVL_ID_DID, match_did, "a DID",
     "a DID did:<method>:<id> (method of a-z, 0-9; id of letters, digits, "
     "'.', '-', '_', ':', %XX; no fragment)"},
    {EVL_ID_DIDURL, match_didurl, "a DID URL",
     "a DID URL (a DID followed by #fragment)"},
    {EVL_ID_APPTEXT, match_apptext, "application text",
     "printable ASCII text without leading or trailing spaces (e.g. "
     "API Server)"},
};

#define N_SYNTAXES (sizeof(syntaxes) / sizeof(syntaxes[0]))

int
evl_ident_match(unsigned id, const char *s, size_t len)
{
    const char *why = NULL;
    size_t i;

    for (i = 0; i < N_SYNTAXES; i++)
        if (syntaxes[i].id == id)
            return syntaxes[i].match((const unsigned char *)s, len, &why) <
                   0;
    return 0;
}

int
evl_ident_match_any(unsigned mask, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < N_SYNTAXES; i++)
        if ((mask & syntaxes[i].id) &&
            evl_ident_match(syntaxes[i].id, s, len))
            return 1;
    return 0;
}


void
evl_ident_explain(unsigned mask, const char *s, size_t len, char *buf,
                  size_t n)
{
    unsigned pick;
    const char *why = "it matches no allowed syntax";
    long off = 0;
    size_t i;

    /*
     * Diagnose the syntax the writer evidently meant: the scheme prefix
     * says URN or DID; otherwise the widest plain-text syntax allowed.
     */
    if ((mask & EVL_ID_URN) && has_prefix_ci(s, len, "urn:"))
        pick = EVL_ID_URN;
    else if ((mask & EVL_ID_DIDURL) && has_prefix_ci(s, len, "did:"))
        pick = EVL_ID_DIDURL;
    else if ((mask & EVL_ID_DID) && has_prefix_ci(s, len, "did:"))
        pick = EVL_ID_DID;
    else if (mask & EVL_ID_APPTEXT)
        pick = EVL_ID_APPTEXT;
    else if (mask & EVL_ID_LEGACY)
        pick = EVL_ID_LEGACY;
    else
        pick = mask & (~mask + 1u); /* the lowest syntax bit in mask */
    for (i = 0; i < N_SYNTAXES; i++) {
        if (syntaxes[i].id != pick)
            continue;
        off = syntaxes[i].match((const unsigned char *)s, len, &why);
        if (off < 0) {
            /* Cannot happen for a value that failed the mask. */
            why = "it matches no allowed syntax";
            off = 0;
        }
        if (pick == EVL_ID_DID && memchr(s, '#', len) != NULL)
            why = "a fragment ('#') is not allowed here";
        snprintf(buf, n, "as %s, %s (at byte %ld)", syntaxes[i].name, why,
                 off);
        return;
    }
    snprintf(buf, n, "%s", why);
}

void
evl_ident_describe(unsigned mask, char *buf, size_t n)
{
    size_t i, used = 0;

    if (n == 0)
        return;
    buf[0] = '\0';
    for (i = 0; i < N_SYNTAXES; i++)
        if (mask & syntaxes[i].id)
            used = evl_append(buf, n, used, "; or ", syntaxes[i].describe);
}

static unsigned char
hex_upper(unsigned char c)
{
    return c >= 'a' && c <= 'f' ? (unsigned char)(c - 'a' + 'A') : c;
}

/*
 * RFC 8141 lexical equivalence for a URN that already matched
 * match_urn: "urn" and the NID fold to lower case (the NID ends at the
 * second ':'), %XX hex digits fold to upper case, and the NSS ends where
 * an r-/q-component ("?+", "?=") or the f-component ("#") starts.
 */
static int
urn_canonical(const char *s, size_t len, char *out, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i, o = 0, nss = 0;
    int colons = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = u[i];

        if (colons == 2 && (c == '#' || (c == '?' && i + 1 < len &&
                                         (u[i + 1] == '+' ||
                                          u[i + 1] == '='))))
            break;
        /* A triplet needs 3 bytes, anything else 1; plus the NUL. */
        if (o + (c == '%' ? 3 : 1) >= n)
            return HLF_EINVAL;
        if (colons < 2) {
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            if (c == ':' && ++colons == 2)
                nss = o + 1;
            out[o++] = (char)c;
        } else if (c == '%' && i + 2 < len && is_hex(u[i + 1]) &&
                   is_hex(u[i + 2])) {
            out[o++] = '%';
            out[o++] = (char)hex_upper(u[i + 1]);
            out[o++] = (char)hex_upper(u[i + 2]);
            i += 2;
        } else {
            out[o++] = (char)c;
        }
    }
    /* "urn:ab:#x" has no NSS left once the f-component is dropped. */
    if (o == nss)
        return HLF_EINVAL;
    out[o] = '\0';
    return HLF_OK;
}

int
evl_ident_canonical(const char *s, size_t len, char *out, size_t n)
{
    /* The form is a C string (a key attribute): no NUL inside. */
    if (s == NULL || out == NULL || n == 0 || len == 0 ||
        len > EVL_MAX_VALUE_LEN || memchr(s, '\0', len) != NULL)
        return HLF_EINVAL;
    if (evl_ident_match(EVL_ID_URN, s, len))
        return urn_canonical(s, len, out, n);
    if (!evl_ident_match_any(EVL_ID_LEGACY | EVL_ID_DID | EVL_ID_DIDURL, s,
                             len) ||
        len >= n)
        return HLF_EINVAL;
    memcpy(out, s, len);
    out[len] = '\0';
    return HLF_OK;
}
