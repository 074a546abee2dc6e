/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256, HMAC-SHA256, hex, randomness, memory wiping and the ECDSA
 * low-S rule, on OpenSSL 3. Together with identity.c this is the only
 * libhlf file that includes OpenSSL.
 */
#include "hlf/crypto.h"
#include "hlf/err.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
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
hlf_sha3_256(const void *data, size_t len, uint8_t out[HLF_SHA3_256_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;

    /* As for SHA-256: setup fails only when allocation fails. */
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha3_256(), NULL) != 1 ||
        (len && EVP_DigestUpdate(ctx, data, len) != 1) ||
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
hlf_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                uint8_t out[HLF_SHA256_LEN])
{
    /* A zero-length key still needs a non-NULL pointer: EVP_MAC_init
     * reads a NULL key as "keep the previous key". */
    static const unsigned char empty[1];
    OSSL_PARAM params[2];
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    size_t n = 0;
    int rc = HLF_ECRYPTO;

    if (out == NULL || (key == NULL && klen) || (msg == NULL && mlen))
        return HLF_EINVAL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL || (ctx = EVP_MAC_CTX_new(mac)) == NULL)
        goto done;
    if (EVP_MAC_init(ctx, klen ? key : empty, klen, params) != 1 ||
        (mlen && EVP_MAC_update(ctx, msg, mlen) != 1) ||
        EVP_MAC_final(ctx, out, &n, HLF_SHA256_LEN) != 1 ||
        n != HLF_SHA256_LEN)
        goto done;
    rc = HLF_OK;
done:
    if (rc != HLF_OK)
        OPENSSL_cleanse(out, HLF_SHA256_LEN);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

int
hlf_random_bytes(void *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? HLF_OK : HLF_ECRYPTO;
}

void
hlf_wipe(void *p, size_t len)
{
    if (p != NULL && len)
        OPENSSL_cleanse(p, len);
}

/* ------------------------------------------------------------------------
 * Low-S normalisation
 * ---------------------------------------------------------------------- */

/* The P-256 group order n (SEC 2, secp256r1). */
static const unsigned char p256_order[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
    0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

/*
 * Decode der into sig and check 0 < r, s < n. On success *n and *half
 * hold n and n >> 1 (caller frees all three).
 */
static int
decode_sig(const uint8_t *der, size_t len, ECDSA_SIG **sig, BIGNUM **n,
           BIGNUM **half)
{
    const unsigned char *p = der;
    const BIGNUM *r, *s;

    *sig = NULL;
    *n = BN_bin2bn(p256_order, sizeof(p256_order), NULL);
    *half = BN_new();
    if (*n == NULL || *half == NULL || !BN_rshift1(*half, *n))
        return HLF_ENOMEM;
    if (der == NULL || len == 0 || len > HLF_ECDSA_P256_DER_MAX)
        return HLF_EINVAL;
    *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    /* Trailing bytes after the SEQUENCE make the encoding ambiguous. */
    if (*sig == NULL || p != der + len)
        return HLF_EINVAL;
    ECDSA_SIG_get0(*sig, &r, &s);
    if (BN_is_zero(r) || BN_is_negative(r) || BN_cmp(r, *n) >= 0 ||
        BN_is_zero(s) || BN_is_negative(s) || BN_cmp(s, *n) >= 0)
        return HLF_EINVAL;
    return HLF_OK;
}

int
hlf_ecdsa_is_low_s(const uint8_t *der, size_t len)
{
    ECDSA_SIG *sig;
    BIGNUM *n, *half;
    const BIGNUM *s;
    int rc;

    rc = decode_sig(der, len, &sig, &n, &half);
    if (rc == HLF_OK) {
        ECDSA_SIG_get0(sig, NULL, &s);
        rc = BN_cmp(s, half) <= 0 ? 1 : 0;
    }
    ECDSA_SIG_free(sig);
    BN_free(n);
    BN_free(half);
    return rc;
}

int
hlf_ecdsa_low_s(const uint8_t *der, size_t len, uint8_t *out, size_t *outlen)
{
    ECDSA_SIG *sig;
    BIGNUM *n, *half, *r2 = NULL, *s2 = NULL;
    const BIGNUM *r, *s;
    unsigned char *q = out;
    int rc, m;

    rc = decode_sig(der, len, &sig, &n, &half);
    if (rc != HLF_OK)
        goto done;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_cmp(s, half) > 0) {
        r2 = BN_dup(r);
        s2 = BN_new();
        if (r2 == NULL || s2 == NULL || !BN_sub(s2, n, s) ||
            !ECDSA_SIG_set0(sig, r2, s2)) {
            rc = HLF_ENOMEM;
            goto done;
        }
        r2 = s2 = NULL; /* now owned by sig */
    }
    m = i2d_ECDSA_SIG(sig, NULL);
    if (m <= 0 || m > HLF_ECDSA_P256_DER_MAX) {
        rc = HLF_ECRYPTO;
        goto done;
    }
    m = i2d_ECDSA_SIG(sig, &q);
    *outlen = (size_t)m;
done:
    BN_free(r2);
    BN_free(s2);
    ECDSA_SIG_free(sig);
    BN_free(n);
    BN_free(half);
    return rc;
}
