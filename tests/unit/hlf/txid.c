/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/txid.c: fixed vectors, with the expected values
 * computed independently (a published SHA-256 vector and OpenSSL).
 */
#include "hlf/identity.h"
#include "hlf/txid.h"
#include "msp/identities.pb-c.h"
#include "task.h"
#include "testutil.h"

#include <ctype.h>

TEST_IMPL(txid_known_vector)
{
    char out[HLF_TXID_LEN + 1];

    /* SHA-256("abc") split as nonce "ab" || creator "c" (FIPS 180-2). */
    hlf_txid_compute((const uint8_t *)"ab", 2, (const uint8_t *)"c", 1, out);
    ASSERT_STR_EQ(out, "ba7816bf8f01cfea414140de5dae2223"
                       "b00361a396177a9cb410ff61f20015ad");
}

TEST_IMPL(txid_fixed_nonce_and_creator)
{
    Msp__SerializedIdentity si = MSP__SERIALIZED_IDENTITY__INIT;
    static const char pem[] = "-----BEGIN CERTIFICATE-----\n"
                              "MIIBdummy\n"
                              "-----END CERTIFICATE-----\n";
    uint8_t nonce[HLF_NONCE_LEN], creator[256];
    char got[HLF_TXID_LEN + 1], want[65];
    size_t n, i;

    for (i = 0; i < sizeof(nonce); i++)
        nonce[i] = (uint8_t)(i * 7 + 1);
    si.mspid = "BrokerageMSP";
    si.id_bytes.data = (uint8_t *)pem;
    si.id_bytes.len = strlen(pem);
    ASSERT_LE(msp__serialized_identity__get_packed_size(&si),
              sizeof(creator));
    n = msp__serialized_identity__pack(&si, creator);
    tu_sha256_hex(nonce, sizeof(nonce), creator, n, want);
    hlf_txid_compute(nonce, sizeof(nonce), creator, n, got);
    ASSERT_STR_EQ(got, want);
    ASSERT_EQ(strlen(got), 64);
    /* Order matters: creator || nonce is a different id. */
    hlf_txid_compute(creator, n, nonce, sizeof(nonce), got);
    ASSERT_NE(strcmp(got, want), 0);
}

TEST_IMPL(txid_new_random)
{
    EVP_PKEY *k = tu_keygen(NULL);
    X509 *x = tu_cert(k, "User1@test", NULL, NULL, 0, NULL);
    char *cert = tu_cert_pem(x), *key = tu_key_pem(k);
    uint8_t n1[HLF_NONCE_LEN], n2[HLF_NONCE_LEN];
    char t1[HLF_TXID_LEN + 1], t2[HLF_TXID_LEN + 1], want[65];
    const uint8_t *creator;
    hlf_identity_t *id;
    size_t clen;
    int i;

    ASSERT_EQ(hlf_identity_from_pem(cert, strlen(cert), key, strlen(key),
                                    "Org1MSP", &id, NULL),
              HLF_OK);
    ASSERT_EQ(hlf_txid_new(id, n1, t1), HLF_OK);
    ASSERT_EQ(hlf_txid_new(id, n2, t2), HLF_OK);
    ASSERT_NE(memcmp(n1, n2, sizeof(n1)), 0);
    ASSERT_NE(strcmp(t1, t2), 0);
    creator = hlf_identity_creator(id, &clen);
    tu_sha256_hex(n1, sizeof(n1), creator, clen, want);
    ASSERT_STR_EQ(t1, want);
    for (i = 0; i < HLF_TXID_LEN; i++)
        ASSERT(isxdigit((unsigned char)t1[i]) &&
               !isupper((unsigned char)t1[i]));
    hlf_identity_unref(id);
    free(cert);
    free(key);
    X509_free(x);
    EVP_PKEY_free(k);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(txid_known_vector),
    TEST_ENTRY(txid_fixed_nonce_and_creator),
    TEST_ENTRY(txid_new_random),
};

TEST_MAIN(tests)
