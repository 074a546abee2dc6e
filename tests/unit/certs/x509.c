/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for certs/src/x509.c: the three certificate profiles, the
 * low-S rule (detector and signing loop), key encoding and the SKI.
 */
#include "check.h"
#include "x509.h"

#include "task.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define DAYS 3650

/* floor(n/2) of P-256, and n itself. */
#define HALF_HEX                                                             \
    "7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8"
#define ORDER_HEX                                                            \
    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"

static struct certs_validity
validity(void)
{
    struct certs_validity v = {time(NULL), DAYS};

    return v;
}

/* DER of ECDSA-Sig-Value {r = 1, s = hex + delta}; *len set. */
static unsigned char *
sig_der(const char *s_hex, int delta, int *len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_new(), *s = NULL;
    unsigned char *der = NULL;

    ASSERT_NOT_NULL(sig);
    ASSERT_NOT_NULL(r);
    ASSERT_EQ(BN_one(r), 1);
    ASSERT(BN_hex2bn(&s, s_hex) > 0);
    if (delta > 0)
        ASSERT_EQ(BN_add_word(s, (BN_ULONG)delta), 1);
    if (delta < 0)
        ASSERT_EQ(BN_sub_word(s, (BN_ULONG)-delta), 1);
    ASSERT_EQ(ECDSA_SIG_set0(sig, r, s), 1);
    *len = i2d_ECDSA_SIG(sig, &der);
    ASSERT(*len > 0);
    ECDSA_SIG_free(sig);
    return der;
}

static int
low_s_of(const char *s_hex, int delta)
{
    int len = 0, low = -1;
    unsigned char *der = sig_der(s_hex, delta, &len);

    ASSERT_EQ(certs_sig_is_low_s(der, (size_t)len, &low, NULL), HLF_OK);
    OPENSSL_free(der);
    return low;
}

TEST_IMPL(low_s_boundaries)
{
    ASSERT_EQ(low_s_of(HALF_HEX, 0), 1);
    ASSERT_EQ(low_s_of(HALF_HEX, -1), 1);
    ASSERT_EQ(low_s_of(HALF_HEX, 1), 0);
    ASSERT_EQ(low_s_of(ORDER_HEX, -1), 0);
    ASSERT_EQ(low_s_of("1", 0), 1);
    ASSERT_EQ(low_s_of("0", 0), 0);
}

TEST_IMPL(low_s_rejects_bad_der)
{
    static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01};
    unsigned char *der, *longer;
    hlf_error_t err;
    int len = 0, low = 7;

    hlf_error_clear(&err);
    ASSERT_EQ(certs_sig_is_low_s(junk, sizeof(junk), &low, &err),
              HLF_EINVAL);
    ASSERT_EQ(low, 0);
    ASSERT_STR_EQ(err.text, "signature is not one DER ECDSA-Sig-Value");
    ASSERT_EQ(certs_sig_is_low_s(junk, 0, &low, NULL), HLF_EINVAL);
    /* A valid value followed by a stray byte is not one value. */
    der = sig_der("5", 0, &len);
    longer = malloc((size_t)len + 1);
    ASSERT_NOT_NULL(longer);
    memcpy(longer, der, (size_t)len);
    longer[len] = 0x00;
    ASSERT_EQ(certs_sig_is_low_s(longer, (size_t)len + 1, &low, NULL),
              HLF_EINVAL);
    ASSERT_EQ(certs_sig_is_low_s(der, (size_t)len, &low, NULL), HLF_OK);
    ASSERT_EQ(low, 1);
    free(longer);
    OPENSSL_free(der);
}

TEST_IMPL(ca_profile)
{
    struct certs_validity v = validity();
    struct certs_ca ca;
    time_t nb;

    ASSERT_EQ(certs_ca_init(&ca, "ca.org1.example.com", "org1.example.com",
                            &v, NULL),
              HLF_OK);
    check_ca_profile(ca.cert, "ca.org1.example.com", "org1.example.com",
                     DAYS);
    /* notBefore is exactly five minutes before the run's clock. */
    nb = v.not_before - 300;
    ASSERT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(ca.cert), nb), 0);
    ASSERT_EQ(EVP_PKEY_eq(ca.key, X509_get0_pubkey(ca.cert)), 1);
    certs_ca_dispose(&ca);
    ASSERT_NULL(ca.cert);
    ASSERT_NULL(ca.key);
    certs_ca_dispose(&ca); /* a second dispose is harmless */
}

TEST_IMPL(identity_profile)
{
    struct certs_validity v = validity();
    struct certs_ca ca;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;

    ASSERT_EQ(certs_ca_init(&ca, "ca.org1.example.com", "org1.example.com",
                            &v, NULL),
              HLF_OK);
    ASSERT_EQ(certs_key_generate(&key, NULL), HLF_OK);
    ASSERT_EQ(certs_issue_identity(&x, &ca, key, "peer0.org1.example.com",
                                   "peer", &v, NULL),
              HLF_OK);
    check_identity_profile(x, ca.cert, "peer0.org1.example.com", "peer",
                           DAYS);
    ASSERT_EQ(EVP_PKEY_eq(key, X509_get0_pubkey(x)), 1);
    X509_free(x);
    EVP_PKEY_free(key);
    certs_ca_dispose(&ca);
}

TEST_IMPL(tls_profile)
{
    static const char *const sans[] = {
        "DNS:peer0.org1.example.com", "DNS:peer0", "DNS:localhost",
        "IP:127.0.0.1", "IP:::1", "DNS:*.example.org",
    };
    struct certs_validity v = validity();
    struct certs_ca ca;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;

    ASSERT_EQ(certs_ca_init(&ca, "tlsca.org1.example.com",
                            "org1.example.com", &v, NULL),
              HLF_OK);
    ASSERT_EQ(certs_key_generate(&key, NULL), HLF_OK);
    ASSERT_EQ(certs_issue_tls(&x, &ca, key, "peer0.org1.example.com", sans,
                              6, &v, NULL),
              HLF_OK);
    check_tls_profile(x, ca.cert, "peer0.org1.example.com", sans, 6, DAYS);
    X509_free(x);
    EVP_PKEY_free(key);
    certs_ca_dispose(&ca);
}

TEST_IMPL(tls_bad_san)
{
    static const char *const sans[] = {"DNS:ok.example", "ok.example"};
    struct certs_validity v = validity();
    struct certs_ca ca;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    hlf_error_t err;

    hlf_error_clear(&err);
    ASSERT_EQ(certs_ca_init(&ca, "tlsca.a.example", "a.example", &v, NULL),
              HLF_OK);
    ASSERT_EQ(certs_key_generate(&key, NULL), HLF_OK);
    ASSERT_EQ(certs_issue_tls(&x, &ca, key, "n.a.example", sans, 2, &v,
                              &err),
              HLF_EINVAL);
    ASSERT_NULL(x);
    ASSERT_STR_EQ(err.text, "certificate \"n.a.example\": bad "
                            "subjectAltName \"ok.example\"");
    EVP_PKEY_free(key);
    certs_ca_dispose(&ca);
}

/* Type of the first subject entry with nid. */
static int
entry_type(X509 *x, int nid)
{
    X509_NAME *name = X509_get_subject_name(x);
    int idx = X509_NAME_get_index_by_NID(name, nid, -1);

    ASSERT_GE(idx, 0);
    return ASN1_STRING_type(
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
}

TEST_IMPL(subject_string_types)
{
    struct certs_validity v = validity();
    struct certs_ca ca;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;

    /* Go's encoder: PrintableString when possible, else UTF8String. */
    ASSERT_EQ(certs_ca_init(&ca, "ca.b.example", "b.example", &v, NULL),
              HLF_OK);
    ASSERT_EQ(entry_type(ca.cert, NID_countryName), V_ASN1_PRINTABLESTRING);
    ASSERT_EQ(entry_type(ca.cert, NID_commonName), V_ASN1_PRINTABLESTRING);
    ASSERT_EQ(certs_key_generate(&key, NULL), HLF_OK);
    ASSERT_EQ(certs_issue_identity(&x, &ca, key, "Admin@b.example", "admin",
                                   &v, NULL),
              HLF_OK);
    ASSERT_EQ(entry_type(x, NID_commonName), V_ASN1_UTF8STRING);
    ASSERT_EQ(entry_type(x, NID_organizationalUnitName),
              V_ASN1_PRINTABLESTRING);
    X509_free(x);
    EVP_PKEY_free(key);
    certs_ca_dispose(&ca);
}

TEST_IMPL(signing_is_always_low_s)
{
    struct certs_validity v = validity();
    struct certs_ca ca;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int i;

    /*
     * Without the re-signing loop about half of these would be high-S;
     * all 64 being low-S by chance has probability 2^-64.
     */
    ASSERT_EQ(certs_ca_init(&ca, "ca.c.example", "c.example", &v, NULL),
              HLF_OK);
    ASSERT_EQ(certs_key_generate(&key, NULL), HLF_OK);
    for (i = 0; i < 64; i++) {
        ASSERT_EQ(certs_issue_identity(&x, &ca, key, "u.c.example",
                                       "client", &v, NULL),
                  HLF_OK);
        ASSERT_EQ(check_low_s(x), 1);
        X509_free(x);
    }
    EVP_PKEY_free(key);
    certs_ca_dispose(&ca);
}

TEST_IMPL(key_pem_is_pkcs8)
{
    EVP_PKEY *key = NULL, *back = NULL;
    char *pem = NULL;
    size_t len = 0;
    BIO *bio;

    ASSERT_EQ(certs_key_generate(&key, NULL), HLF_OK);
    ASSERT_EQ(certs_key_pem(key, &pem, &len, NULL), HLF_OK);
    ASSERT_EQ(strlen(pem), len);
    ASSERT_EQ(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28), 0);
    ASSERT_NULL(strstr(pem + 1, "-----BEGIN"));
    ASSERT_EQ(strcmp(pem + len - 26, "-----END PRIVATE KEY-----\n"), 0);
    bio = BIO_new_mem_buf(pem, (int)len);
    ASSERT_NOT_NULL(bio);
    back = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    ASSERT_NOT_NULL(back);
    ASSERT_EQ(EVP_PKEY_eq(key, back), 1);
    BIO_free(bio);
    EVP_PKEY_free(back);
    certs_secret_free(pem, len);
    certs_secret_free(NULL, 0);
    EVP_PKEY_free(key);
}

TEST_IMPL(ski_is_sha256_of_point)
{
    unsigned char ski[CERTS_SKI_LEN], point[65], digest[32];
    unsigned char *der = NULL;
    EVP_PKEY *key = NULL;
    int len;

    ASSERT_EQ(certs_key_generate(&key, NULL), HLF_OK);
    ASSERT_EQ(certs_key_ski(key, ski, NULL), HLF_OK);
    /* i2d_PublicKey of an EC key is the uncompressed point. */
    len = i2d_PublicKey(key, &der);
    ASSERT_EQ(len, 65);
    memcpy(point, der, 65);
    ASSERT_EQ(point[0], 0x04);
    ASSERT_EQ(EVP_Digest(point, 65, digest, NULL, EVP_sha256(), NULL), 1);
    ASSERT_MEM_EQ(ski, digest, 32);
    OPENSSL_free(der);
    EVP_PKEY_free(key);
}

TEST_IMPL(cert_pem_round_trip)
{
    struct certs_validity v = validity();
    struct certs_ca ca;
    char *pem = NULL;
    size_t len = 0;
    BIO *bio;
    X509 *back;

    ASSERT_EQ(certs_ca_init(&ca, "ca.d.example", "d.example", &v, NULL),
              HLF_OK);
    ASSERT_EQ(certs_cert_pem(ca.cert, &pem, &len, NULL), HLF_OK);
    ASSERT_EQ(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28), 0);
    bio = BIO_new_mem_buf(pem, (int)len);
    ASSERT_NOT_NULL(bio);
    back = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    ASSERT_NOT_NULL(back);
    ASSERT_EQ(X509_cmp(back, ca.cert), 0);
    X509_free(back);
    BIO_free(bio);
    free(pem);
    certs_ca_dispose(&ca);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(low_s_boundaries),
    TEST_ENTRY(low_s_rejects_bad_der),
    TEST_ENTRY(ca_profile),
    TEST_ENTRY(identity_profile),
    TEST_ENTRY(tls_profile),
    TEST_ENTRY(tls_bad_san),
    TEST_ENTRY(subject_string_types),
    TEST_ENTRY(signing_is_always_low_s),
    TEST_ENTRY(key_pem_is_pkcs8),
    TEST_ENTRY(ski_is_sha256_of_point),
    TEST_ENTRY(cert_pem_round_trip),
};

TEST_MAIN(tests)
