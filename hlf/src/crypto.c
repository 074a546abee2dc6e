/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256, hex and randomness on OpenSSL 3. */
#include "hlf/crypto.h"
#include "hlf/err.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>

void
hlf_sha256(const void *data, size_t len, uint8_t out[HLF_SHA256_LEN])
{
    hlf_sha256_2(data, len, NULL, 0, out);
}

void
hlf_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
             uint8_t out[HLF_SHA256_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;

    /* Digest setup only fails on allocation failure; treat it as fatal. */
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        (alen && EVP_DigestUpdate(ctx, a, alen) != 1) ||
        (blen && EVP_DigestUpdate(ctx, b, blen) != 1) ||
        EVP_DigestFinal_ex(ctx, out, &n) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
}

void
hlf_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int
hlf_random_bytes(void *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? HLF_OK : HLF_ECRYPTO;
}
