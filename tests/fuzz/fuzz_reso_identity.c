/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the identifier helpers of the registries and
 * resoctl upi: arbitrary bytes go through evl_ident_canonical (the
 * registry lookup form) and evl_upi_parse. Oracles: the lookup form
 * exists exactly for the Recorder syntaxes without NUL bytes (apart
 * from a URN left without NSS), is never longer than the input, is idempotent and keeps
 * the syntax; a parsed URN UPI rebuilds to the same bytes and hashes to
 * a hashed form that parses back; a dash-form UPI converts to a URN that
 * parses with the same country and parcel. Any crash, sanitizer report
 * or broken invariant (abort) is a finding.
 */
#include "evl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static void
check_canonical(const char *s, size_t len)
{
    const unsigned ids = EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID |
                         EVL_ID_DIDURL;
    char a[EVL_IDENT_KEY_SIZE], b[EVL_IDENT_KEY_SIZE];
    int rc = evl_ident_canonical(s, len, a, sizeof(a));
    int urn = len > 0 && evl_ident_match(EVL_ID_URN, s, len);

    if (rc != HLF_OK) {
        /* Refused: not an identifier, too long, or a URN that is all
         * f-/q-/r-component. */
        check(len == 0 || len > EVL_MAX_VALUE_LEN ||
              memchr(s, '\0', len) != NULL ||
              !evl_ident_match_any(ids, s, len) || urn);
        return;
    }
    check(len <= EVL_MAX_VALUE_LEN && evl_ident_match_any(ids, s, len));
    check(strlen(a) <= len);
    if (urn) {
        check(evl_ident_match(EVL_ID_URN, a, strlen(a)));
    } else {
        check(strlen(a) == len && memcmp(a, s, len) == 0);
    }
    check(evl_ident_canonical(a, strlen(a), b, sizeof(b)) == HLF_OK);
    check(strcmp(a, b) == 0);
}

static void
check_upi(const char *s)
{
    char out[EVL_UPI_SIZE], hashed[EVL_UPI_SIZE], why[256];
    evl_upi_t u, v;

    if (evl_upi_parse(s, &u, why, sizeof(why)) != HLF_OK) {
        check(why[0] != '\0');
        return;
    }
    if (u.hashed) {
        check(strlen(u.hash) == 64);
        return;
    }
    if (u.urn) {
        check(evl_upi_build_urn(u.version, u.country, u.subdivision,
                                u.parcel, u.sub, out, sizeof(out), why,
                                sizeof(why)) == HLF_OK);
        check(strcmp(out, s) == 0);
        check(evl_upi_hash_urn(s, hashed, sizeof(hashed), why,
                               sizeof(why)) == HLF_OK);
        check(evl_upi_parse(hashed, &v, why, sizeof(why)) == HLF_OK);
        check(v.hashed && strcmp(v.version, u.version) == 0);
        return;
    }
    if (evl_upi_dash_to_urn(s, out, sizeof(out), why, sizeof(why)) ==
        HLF_OK) {
        check(evl_upi_parse(out, &v, why, sizeof(why)) == HLF_OK);
        check(v.urn && !v.hashed);
        check(strcmp(v.country, u.country) == 0);
        check(strcmp(v.parcel, u.parcel) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    check_canonical((const char *)data, size);
    if (size > 4 * EVL_UPI_SIZE)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_upi(s);
    free(s);
    return 0;
}
