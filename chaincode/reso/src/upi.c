/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unique Property Identifier helpers (reso-model.md §5.3): parse the
 * legacy dash form and the v2 URN form, build a URN from its parts, turn
 * a dash-form UPI into a URN and compute the SHA3-256 hashed URN that
 * stands in for a parcel number that may not be redistributed. They are
 * offline helpers (resoctl upi) and need no ledger; the chaincode only
 * checks identifier syntax, so a UPI is stored as the client sent it.
 */
#include "evl.h"

#include "hlf/crypto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define UPI_URN_PREFIX "urn:reso:upi:"
#define UPI_HASH_ALG "sha3-256"

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int
is_alnum_c(char c)
{
    return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z');
}

/* Record a parse failure: the sentence goes to why, HLF_EINVAL back. */
static int bad(char *why, size_t why_n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *why, size_t why_n, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && why_n > 0) {
        va_start(ap, fmt);
        vsnprintf(why, why_n, fmt, ap);
        va_end(ap);
    }
    return HLF_EINVAL;
}

/* Copy s[0..len) into dst (size n) as text; 0 when it does not fit. */
static int
copy_part(char *dst, size_t n, const char *s, size_t len)
{
    if (len >= n)
        return 0;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 1;
}

/* 1 if every byte of s is a letter or digit and s is not empty. */
static int
all_alnum(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!is_alnum_c(*s))
            return 0;
    return 1;
}

/* "<digits>.<digits>", e.g. 2.0. */
static int
version_ok(const char *v)
{
    size_t i = 0;

    if (!is_digit(v[i]))
        return 0;
    while (is_digit(v[i]))
        i++;
    if (v[i++] != '.' || !is_digit(v[i]))
        return 0;
    while (is_digit(v[i]))
        i++;
    return v[i] == '\0';
}

/* ISO 3166-1 alpha-2 shape: two upper-case letters. */
static int
country_ok(const char *c)
{
    return is_upper(c[0]) && is_upper(c[1]) && c[2] == '\0';
}

/* No whitespace or control bytes (they cannot appear in a URN). */
static int
urn_text_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7F)
            return 0;
    return 1;
}

/* PropertyCode: R, R<digits>, S, T or B. */
static int
property_code_ok(const char *p)
{
    size_t i;

    if (strcmp(p, "S") == 0 || strcmp(p, "T") == 0 || strcmp(p, "B") == 0)
        return 1;
    if (p[0] != 'R')
        return 0;
    for (i = 1; p[i] != '\0'; i++)
        if (!is_digit(p[i]))
            return 0;
    return 1;
}

static int
parse_dash(const char *s, evl_upi_t *out, char *why, size_t why_n)
{
    const char *dash[EVL_UPI_MAX];
    size_t nd = 0, i, len = strlen(s);

    for (i = 0; i < len; i++)
        if (s[i] == '-')
            dash[nd++] = s + i;
    if (nd < 5)
        return bad(why, why_n, "a dash-form UPI has at least 6 parts "
                               "separated by '-'");
    if (!copy_part(out->country, sizeof(out->country), s,
                   (size_t)(dash[0] - s)) ||
        !country_ok(out->country))
        return bad(why, why_n, "the Country must be two upper-case "
                               "letters (ISO 3166-1 alpha-2)");
    copy_part(out->subdivision, sizeof(out->subdivision), dash[0] + 1,
              (size_t)(dash[1] - dash[0] - 1));
    copy_part(out->subcounty, sizeof(out->subcounty), dash[1] + 1,
              (size_t)(dash[2] - dash[1] - 1));
    copy_part(out->parcel, sizeof(out->parcel), dash[2] + 1,
              (size_t)(dash[nd - 2] - dash[2] - 1));
    copy_part(out->property_code, sizeof(out->property_code),
              dash[nd - 2] + 1, (size_t)(dash[nd - 1] - dash[nd - 2] - 1));
    copy_part(out->sub, sizeof(out->sub), dash[nd - 1] + 1,
              (size_t)(s + len - dash[nd - 1] - 1));
    if (strcmp(out->country, "US") == 0) {
        for (i = 0; i < 5 && is_digit(out->subdivision[i]); i++)
            ;
        if (i != 5 || out->subdivision[5] != '\0')
            return bad(why, why_n, "the SubCountry '%s' must be the 5-digit "
                                   "FIPS state and county code for US",
                       out->subdivision);
    } else if (!all_alnum(out->subdivision)) {
        return bad(why, why_n, "the SubCountry '%s' must be letters and "
                               "digits", out->subdivision);
    }
    if (!all_alnum(out->subcounty))
        return bad(why, why_n, "the SubCounty '%s' must be letters and "
                               "digits, or N for none", out->subcounty);
    /* The ParcelId keeps its inner dashes; each piece must be non-empty. */
    if (out->parcel[0] == '\0' || strstr(out->parcel, "--") != NULL)
        return bad(why, why_n, "the ParcelId '%s' is empty or has an empty "
                               "part", out->parcel);
    for (i = 0; out->parcel[i] != '\0'; i++)
        if (!is_alnum_c(out->parcel[i]) && out->parcel[i] != '-')
            return bad(why, why_n, "the ParcelId '%s' must be letters and "
                                   "digits", out->parcel);
    if (!property_code_ok(out->property_code))
        return bad(why, why_n, "the PropertyCode '%s' must be R, R<n>, S, T "
                               "or B", out->property_code);
    if (!all_alnum(out->sub))
        return bad(why, why_n, "the SubProperty '%s' must be letters and "
                               "digits, or N for none", out->sub);
    return HLF_OK;
}

/* Split the next ':'-terminated part of *p into dst; 0 if none. */
static int
next_part(const char **p, char *dst, size_t n)
{
    const char *c = strchr(*p, ':');

    if (c == NULL || !copy_part(dst, n, *p, (size_t)(c - *p)))
        return 0;
    *p = c + 1;
    return 1;
}

static int
parse_urn(const char *s, evl_upi_t *out, char *why, size_t why_n)
{
    const char *p = s + strlen(UPI_URN_PREFIX), *sub;
    size_t i;

    out->urn = 1;
    if (!next_part(&p, out->version, sizeof(out->version)) ||
        !version_ok(out->version))
        return bad(why, why_n, "the UPI version must be <digits>.<digits> "
                               "followed by ':'");
    if (strncmp(p, UPI_HASH_ALG ":", strlen(UPI_HASH_ALG) + 1) == 0) {
        p += strlen(UPI_HASH_ALG) + 1;
        out->hashed = 1;
        for (i = 0; i < 64 && ((p[i] >= '0' && p[i] <= '9') ||
                               (p[i] >= 'a' && p[i] <= 'f'));
             i++)
            ;
        if (i != 64 || p[64] != '\0')
            return bad(why, why_n, "a hashed UPI ends in 64 lower-case hex "
                                   "digits");
        memcpy(out->hash, p, 65);
        return HLF_OK;
    }
    if (!next_part(&p, out->country, sizeof(out->country)) ||
        !country_ok(out->country))
        return bad(why, why_n, "the Country must be two upper-case "
                               "letters (ISO 3166-1 alpha-2)");
    if (!next_part(&p, out->subdivision, sizeof(out->subdivision)) ||
        !urn_text_ok(out->subdivision))
        return bad(why, why_n, "the CountrySubdivision is missing or "
                               "empty");
    /* The parcel may hold ':'; the first ":sub:" starts the subcomponent. */
    sub = strstr(p, ":sub:");
    if (sub != NULL) {
        copy_part(out->parcel, sizeof(out->parcel), p, (size_t)(sub - p));
        copy_part(out->sub, sizeof(out->sub), sub + 5, strlen(sub + 5));
        if (out->sub[0] == '\0')
            return bad(why, why_n, "the ParcelSubcomponent after ':sub:' is "
                                   "empty");
    } else {
        copy_part(out->parcel, sizeof(out->parcel), p, strlen(p));
    }
    if (out->parcel[0] == '\0')
        return bad(why, why_n, "the ParcelNumber is empty");
    return HLF_OK;
}

int
evl_upi_parse(const char *s, evl_upi_t *out, char *why, size_t why_n)
{
    size_t len;

    if (s == NULL || out == NULL)
        return bad(why, why_n, "no UPI given");
    memset(out, 0, sizeof(*out));
    len = strlen(s);
    if (len == 0 || len > EVL_UPI_MAX)
        return bad(why, why_n, "a UPI has 1 to 255 bytes");
    if (strncmp(s, UPI_URN_PREFIX, strlen(UPI_URN_PREFIX)) == 0)
        return parse_urn(s, out, why, why_n);
    if (len > 4 && memchr(s, ':', len) != NULL)
        return bad(why, why_n, "a URN UPI starts with '%s' (lower case)",
                   UPI_URN_PREFIX);
    return parse_dash(s, out, why, why_n);
}

int
evl_upi_build_urn(const char *version, const char *country,
                  const char *subdivision, const char *parcel,
                  const char *sub, char *out, size_t n, char *why,
                  size_t why_n)
{
    evl_upi_t check;
    int w;

    if (version == NULL || country == NULL || subdivision == NULL ||
        parcel == NULL || out == NULL)
        return bad(why, why_n, "version, country, subdivision and parcel "
                               "are required");
    if (!version_ok(version))
        return bad(why, why_n, "the version '%s' must be <digits>.<digits>",
                   version);
    if (strchr(subdivision, ':') != NULL || !urn_text_ok(subdivision))
        return bad(why, why_n, "the subdivision '%s' must be non-empty "
                               "without ':' or whitespace", subdivision);
    if (strstr(parcel, ":sub:") != NULL)
        return bad(why, why_n, "the parcel '%s' must not contain ':sub:'",
                   parcel);
    if (sub != NULL && sub[0] != '\0')
        w = snprintf(out, n, UPI_URN_PREFIX "%s:%s:%s:%s:sub:%s", version,
                     country, subdivision, parcel, sub);
    else
        w = snprintf(out, n, UPI_URN_PREFIX "%s:%s:%s:%s", version, country,
                     subdivision, parcel);
    if (w < 0 || (size_t)w >= n || w > EVL_UPI_MAX)
        return bad(why, why_n, "the UPI is longer than 255 bytes");
    /* Parsing the result back checks the country and the empty parts. */
    return evl_upi_parse(out, &check, why, why_n);
}

int
evl_upi_hash_urn(const char *urn, char *out, size_t n, char *why,
                 size_t why_n)
{
    uint8_t md[HLF_SHA3_256_LEN];
    char hex[2 * HLF_SHA3_256_LEN + 1];
    evl_upi_t u;
    int w, rc;

    rc = evl_upi_parse(urn, &u, why, why_n);
    if (rc != HLF_OK)
        return rc;
    if (!u.urn || u.hashed)
        return bad(why, why_n, "only an unhashed URN UPI can be hashed");
    hlf_sha3_256(urn, strlen(urn), md);
    hlf_hex_encode(md, sizeof(md), hex);
    w = snprintf(out, n, UPI_URN_PREFIX "%s:" UPI_HASH_ALG ":%s", u.version,
                 hex);
    if (w < 0 || (size_t)w >= n)
        return bad(why, why_n, "the output buffer is too small");
    return HLF_OK;
}

int
evl_upi_dash_to_urn(const char *dash, char *out, size_t n, char *why,
                    size_t why_n)
{
    evl_upi_t u;
    int rc;

    rc = evl_upi_parse(dash, &u, why, why_n);
    if (rc != HLF_OK)
        return rc;
    if (u.urn)
        return bad(why, why_n, "'%s' is already a URN", dash);
    return evl_upi_build_urn("2.0", u.country, u.subdivision, u.parcel,
                             strcmp(u.sub, "N") == 0 ? NULL : u.sub, out, n,
                             why, why_n);
}
