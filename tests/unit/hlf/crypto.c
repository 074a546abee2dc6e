/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/crypto.c: the low-S rule on hand-made signatures
 * (boundaries, forced high-S, malformed DER) and memory wiping. The
 * 5000-signature check through real keys is in identity.c. HMAC-SHA256
 * is checked against RFC 4231 vectors and against OpenSSL's one-shot
 * HMAC() (a different code path from the EVP_MAC one libhlf uses).
 */
#include "hlf/crypto.h"
#include "hlf/err.h"
#include "task.h"
#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static const char order_hex[] =
    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
static const char half_hex[] =
    "7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8";

static BIGNUM *
bn(const char *hex)
{
    BIGNUM *b = NULL;

    ASSERT(BN_hex2bn(&b, hex) > 0);
    return b;
}

/* DER of (r, s) with r = r_hex and s = s_bn (which is consumed). */
static size_t
der_sig(const char *r_hex, BIGNUM *s, uint8_t *out)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *p = out;
    int n;

    ASSERT_EQ(ECDSA_SIG_set0(sig, bn(r_hex), s), 1);
    n = i2d_ECDSA_SIG(sig, &p);
    ASSERT(n > 0 && n <= HLF_ECDSA_P256_DER_MAX);
    ECDSA_SIG_free(sig);
    return (size_t)n;
}

/* s of a DER signature, as upper-case hex (caller frees). */
static char *
s_hex(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *s;
    char *h;

    ASSERT_NOT_NULL(sig);
    ECDSA_SIG_get0(sig, NULL, &s);
    h = BN_bn2hex(s);
    ECDSA_SIG_free(sig);
    return h;
}

TEST_IMPL(low_s_boundaries)
{
    uint8_t der[HLF_ECDSA_P256_DER_MAX], out[HLF_ECDSA_P256_DER_MAX];
    BIGNUM *s;
    size_t len, outlen = 0;
    char *h;

    /* The published n/2 really is n >> 1. */
    s = bn(order_hex);
    ASSERT_EQ(BN_rshift1(s, s), 1);
    h = BN_bn2hex(s);
    ASSERT_STR_EQ(h, half_hex);
    OPENSSL_free(h);
    BN_free(s);

    /* s == n/2 is low and left alone. */
    len = der_sig("01", bn(half_hex), der);
    ASSERT_EQ(hlf_ecdsa_is_low_s(der, len), 1);
    ASSERT_EQ(hlf_ecdsa_low_s(der, len, out, &outlen), HLF_OK);
    ASSERT_EQ(outlen, len);
    ASSERT_MEM_EQ(out, der, len);

    /* s == n/2 + 1 is high; n - s is exactly n/2 (n is odd). */
    s = bn(half_hex);
    ASSERT_EQ(BN_add_word(s, 1), 1);
    len = der_sig("01", s, der);
    ASSERT_EQ(hlf_ecdsa_is_low_s(der, len), 0);
    ASSERT_EQ(hlf_ecdsa_low_s(der, len, out, &outlen), HLF_OK);
    ASSERT_EQ(hlf_ecdsa_is_low_s(out, outlen), 1);
    h = s_hex(out, outlen);
    ASSERT_STR_EQ(h, half_hex);
    OPENSSL_free(h);

    /* s == n - 1 becomes 1. */
    s = bn(order_hex);
    ASSERT_EQ(BN_sub_word(s, 1), 1);
    len = der_sig("05", s, der);
    ASSERT_EQ(hlf_ecdsa_low_s(der, len, out, &outlen), HLF_OK);
    h = s_hex(out, outlen);
    ASSERT_STR_EQ(h, "01");
    OPENSSL_free(h);
}

TEST_IMPL(low_s_forced_high_signature)
{
    EVP_PKEY *key = tu_keygen(NULL);
    static const char msg[] = "forced high-S";
    uint8_t raw[HLF_ECDSA_P256_DER_MAX], hi[HLF_ECDSA_P256_DER_MAX],
        lo[HLF_ECDSA_P256_DER_MAX], out[HLF_ECDSA_P256_DER_MAX];
    size_t rawlen = sizeof(raw), hilen, lolen, outlen;
    const unsigned char *p;
    const BIGNUM *r, *s;
    BIGNUM *n = bn(order_hex), *half = bn(half_hex), *s_lo, *s_hi;
    ECDSA_SIG *sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *rh;

    /* A real signature, then both of its S forms built by hand. */
    ASSERT_EQ(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    ASSERT_EQ(EVP_DigestSign(ctx, raw, &rawlen, (const uint8_t *)msg,
                             strlen(msg)),
              1);
    EVP_MD_CTX_free(ctx);
    p = raw;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)rawlen);
    ASSERT_NOT_NULL(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    s_lo = BN_dup(s);
    if (BN_cmp(s_lo, half) > 0)
        ASSERT_EQ(BN_sub(s_lo, n, s), 1);
    s_hi = BN_new();
    ASSERT_EQ(BN_sub(s_hi, n, s_lo), 1);
    rh = BN_bn2hex(r);
    lolen = der_sig(rh, s_lo, lo);
    hilen = der_sig(rh, s_hi, hi);
    OPENSSL_free(rh);
    ECDSA_SIG_free(sig);

    /* OpenSSL accepts both; Fabric would reject the high one. */
    ASSERT_EQ(tu_verify(key, msg, strlen(msg), lo, lolen), 1);
    ASSERT_EQ(tu_verify(key, msg, strlen(msg), hi, hilen), 1);
    ASSERT_EQ(hlf_ecdsa_is_low_s(hi, hilen), 0);
    ASSERT_EQ(hlf_ecdsa_is_low_s(lo, lolen), 1);

    ASSERT_EQ(hlf_ecdsa_low_s(hi, hilen, out, &outlen), HLF_OK);
    ASSERT_EQ(outlen, lolen);
    ASSERT_MEM_EQ(out, lo, lolen);
    ASSERT_EQ(tu_verify(key, msg, strlen(msg), out, outlen), 1);
    ASSERT_EQ(hlf_ecdsa_low_s(lo, lolen, out, &outlen), HLF_OK);
    ASSERT_EQ(outlen, lolen);
    ASSERT_MEM_EQ(out, lo, lolen);
    BN_free(n);
    BN_free(half);
    EVP_PKEY_free(key);
}

TEST_IMPL(low_s_rejects_malformed)
{
    uint8_t der[HLF_ECDSA_P256_DER_MAX + 2], out[HLF_ECDSA_P256_DER_MAX];
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01};
    size_t len, outlen = 0;

    ASSERT_EQ(hlf_ecdsa_low_s(NULL, 0, out, &outlen), HLF_EINVAL);
    ASSERT_EQ(hlf_ecdsa_low_s(junk, sizeof(junk), out, &outlen),
              HLF_EINVAL);
    ASSERT_EQ(hlf_ecdsa_is_low_s(junk, sizeof(junk)), HLF_EINVAL);
    /* Trailing garbage after a valid SEQUENCE. */
    len = der_sig("01", bn("02"), der);
    der[len] = 0;
    ASSERT_EQ(hlf_ecdsa_low_s(der, len + 1, out, &outlen), HLF_EINVAL);
    ASSERT_EQ(hlf_ecdsa_low_s(der, len, out, &outlen), HLF_OK);
    /* s = 0, s = n and r = n are not signatures. */
    len = der_sig("01", BN_new(), der);
    ASSERT_EQ(hlf_ecdsa_low_s(der, len, out, &outlen), HLF_EINVAL);
    len = der_sig("01", bn(order_hex), der);
    ASSERT_EQ(hlf_ecdsa_low_s(der, len, out, &outlen), HLF_EINVAL);
    len = der_sig(order_hex, bn("01"), der);
    ASSERT_EQ(hlf_ecdsa_is_low_s(der, len), HLF_EINVAL);
}

TEST_IMPL(wipe_and_hex)
{
    uint8_t buf[5] = {1, 2, 3, 0xab, 0xff};
    char hex[11];

    hlf_hex_encode(buf, sizeof(buf), hex);
    ASSERT_STR_EQ(hex, "010203abff");
    hlf_wipe(buf, sizeof(buf));
    ASSERT_MEM_EQ(buf, "\0\0\0\0\0", 5);
    hlf_wipe(NULL, 4); /* tolerated */
}

/* RFC 4231 test cases 1, 2, 4 and 6 (6: a key longer than the block). */
TEST_IMPL(hmac_sha256_rfc4231)
{
    static const struct {
        const char *key_hex;
        const char *msg;
        const char *mac_hex;
    } v[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"4a656665", "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"0102030405060708090a0b0c0d0e0f10111213141516171819", NULL,
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"aa", "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    };
    uint8_t key[131], msg[64], mac[HLF_SHA256_LEN];
    char hex[2 * HLF_SHA256_LEN + 1];
    size_t i, j, klen, mlen;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        klen = strlen(v[i].key_hex) / 2;
        for (j = 0; j < klen; j++) {
            char byte[3] = {v[i].key_hex[2 * j], v[i].key_hex[2 * j + 1],
                            '\0'};

            key[j] = (uint8_t)strtol(byte, NULL, 16);
        }
        if (i == 3) { /* 131 bytes of 0xaa */
            klen = sizeof(key);
            memset(key, 0xaa, klen);
        }
        if (v[i].msg != NULL) {
            mlen = strlen(v[i].msg);
            memcpy(msg, v[i].msg, mlen);
        } else { /* case 4: 50 bytes of 0xcd */
            mlen = 50;
            memset(msg, 0xcd, mlen);
        }
        ASSERT_EQ(hlf_hmac_sha256(key, klen, msg, mlen, mac), HLF_OK);
        hlf_hex_encode(mac, sizeof(mac), hex);
        ASSERT_STR_EQ(hex, v[i].mac_hex);
    }
}

/* Every key and message length 0..80 agrees with OpenSSL's HMAC(). */
TEST_IMPL(hmac_sha256_matches_openssl)
{
    uint8_t key[80], msg[80], mine[HLF_SHA256_LEN], ref[EVP_MAX_MD_SIZE];
    unsigned int rlen;
    size_t kl, ml;

    for (kl = 0; kl < sizeof(key); kl++)
        key[kl] = (uint8_t)(kl * 7 + 3);
    for (ml = 0; ml < sizeof(msg); ml++)
        msg[ml] = (uint8_t)(ml * 13 + 1);
    for (kl = 0; kl <= sizeof(key); kl += 5) {
        for (ml = 0; ml <= sizeof(msg); ml += 3) {
            rlen = 0;
            ASSERT_NOT_NULL(HMAC(EVP_sha256(), key, (int)kl, msg, ml, ref,
                                 &rlen));
            ASSERT_EQ(rlen, HLF_SHA256_LEN);
            ASSERT_EQ(hlf_hmac_sha256(kl ? key : NULL, kl, ml ? msg : NULL,
                                      ml, mine), HLF_OK);
            ASSERT_MEM_EQ(mine, ref, HLF_SHA256_LEN);
        }
    }
    /* A NULL pointer with a length, or no output, is refused. */
    ASSERT_EQ(hlf_hmac_sha256(NULL, 1, msg, 1, mine), HLF_EINVAL);
    ASSERT_EQ(hlf_hmac_sha256(key, 1, NULL, 1, mine), HLF_EINVAL);
    ASSERT_EQ(hlf_hmac_sha256(key, 1, msg, 1, NULL), HLF_EINVAL);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(low_s_boundaries),
    TEST_ENTRY(low_s_forced_high_signature),
    TEST_ENTRY(low_s_rejects_malformed),
    TEST_ENTRY(wipe_and_hex),
    TEST_ENTRY(hmac_sha256_rfc4231),
    TEST_ENTRY(hmac_sha256_matches_openssl),
};

TEST_MAIN(tests)
