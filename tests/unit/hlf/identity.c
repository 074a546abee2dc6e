/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/identity.c: MSP directories and key files made
 * with OpenSSL in a temp dir (good, SEC1, extra keys, wrong key, missing
 * pieces), the serialized creator, 5000 signatures checked for low-S and
 * verified by OpenSSL, and sharing one identity between threads.
 */
#include "hlf/crypto.h"
#include "hlf/identity.h"
#include "hlf/mem.h"
#include "msp/identities.pb-c.h"
#include "task.h"
#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <pthread.h>
#include <unistd.h>

static void
path(char *out, size_t size, const char *a, const char *b)
{
    ASSERT((size_t)snprintf(out, size, "%s/%s", a, b) < size);
}

TEST_IMPL(identity_load_msp)
{
    Msp__SerializedIdentity *si;
    hlf_identity_t *id = NULL;
    const uint8_t *creator;
    const char *pem;
    char *want;
    size_t clen, plen;
    hlf_error_t e;
    tu_msp_t m;

    tu_msp_make(&m, "User1@brokerage.test");
    ASSERT_EQ(hlf_identity_load_msp(m.msp, "BrokerageMSP", &id, &e), HLF_OK);
    ASSERT_NOT_NULL(id);
    ASSERT_STR_EQ(hlf_identity_msp_id(id), "BrokerageMSP");
    want = tu_cert_pem(m.cert);
    pem = hlf_identity_cert_pem(id, &plen);
    ASSERT_STR_EQ(pem, want);
    ASSERT_EQ(plen, strlen(want));
    creator = hlf_identity_creator(id, &clen);
    si = msp__serialized_identity__unpack(NULL, clen, creator);
    ASSERT_NOT_NULL(si);
    ASSERT_STR_EQ(si->mspid, "BrokerageMSP");
    ASSERT_EQ(si->id_bytes.len, strlen(want));
    ASSERT_MEM_EQ(si->id_bytes.data, want, strlen(want));
    msp__serialized_identity__free_unpacked(si, NULL);
    free(want);
    hlf_identity_unref(id);
    tu_msp_free(&m);
}

TEST_IMPL(identity_sign_5000_low_s)
{
    hlf_identity_t *id;
    uint8_t *sig;
    size_t siglen;
    char msg[64];
    int i, n, high_raw = 0;
    tu_msp_t m;

    tu_msp_make(&m, "User1@sign.test");
    ASSERT_EQ(hlf_identity_load_msp(m.msp, "SignMSP", &id, NULL), HLF_OK);
    for (i = 0; i < 5000; i++) {
        n = snprintf(msg, sizeof(msg), "message number %d", i);
        ASSERT_EQ(hlf_identity_sign(id, msg, (size_t)n, &sig, &siglen),
                  HLF_OK);
        ASSERT_LE(siglen, HLF_ECDSA_P256_DER_MAX);
        if (!tu_verify(m.key, msg, (size_t)n, sig, siglen))
            TEST__FAIL("signature %d does not verify", i);
        if (!tu_is_low_s(sig, siglen))
            TEST__FAIL("signature %d is high-S", i);
        ASSERT_EQ(hlf_ecdsa_is_low_s(sig, siglen), 1);
        /* A wrong message must not verify (the check can fail). */
        if (i % 500 == 0)
            ASSERT_EQ(tu_verify(m.key, "other", 5, sig, siglen), 0);
        hlf_free(sig);
    }
    /* Raw OpenSSL signatures are high-S about half the time, which is
     * why the normalisation above matters. */
    for (i = 0; i < 200; i++) {
        uint8_t raw[80];
        size_t rawlen = sizeof(raw);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        ASSERT_EQ(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, m.key),
                  1);
        ASSERT_EQ(EVP_DigestSign(ctx, raw, &rawlen, (const uint8_t *)"x", 1),
                  1);
        EVP_MD_CTX_free(ctx);
        high_raw += !tu_is_low_s(raw, rawlen);
    }
    ASSERT_GE(high_raw, 40);
    ASSERT_LE(high_raw, 160);
    /* Empty messages are signable too. */
    ASSERT_EQ(hlf_identity_sign(id, NULL, 0, &sig, &siglen), HLF_OK);
    ASSERT_EQ(tu_verify(m.key, "", 0, sig, siglen), 1);
    hlf_free(sig);
    ASSERT_EQ(hlf_identity_sign(id, "x", 1, NULL, &siglen), HLF_EINVAL);
    hlf_identity_unref(id);
    tu_msp_free(&m);
}

TEST_IMPL(identity_keystore_scan)
{
    EVP_PKEY *other = tu_keygen(NULL);
    hlf_identity_t *id = NULL;
    char p[700];
    uint8_t *sig;
    size_t siglen;
    tu_msp_t m;

    /* Unrelated key and junk first; the right key in SEC1 form. */
    tu_msp_make(&m, "Admin@scan.test");
    ASSERT_EQ(remove(m.key_path), 0);
    path(p, sizeof(p), m.msp, "keystore/aaa_other_sk");
    tu_write_key(p, other, 0);
    path(p, sizeof(p), m.msp, "keystore/README");
    tu_write_file(p, "not a key\n");
    path(p, sizeof(p), m.msp, "keystore/zzz_sk");
    tu_write_key(p, m.key, 1);
    ASSERT_EQ(hlf_identity_load_msp(m.msp, "ScanMSP", &id, NULL), HLF_OK);
    ASSERT_EQ(hlf_identity_sign(id, "abc", 3, &sig, &siglen), HLF_OK);
    ASSERT_EQ(tu_verify(m.key, "abc", 3, sig, siglen), 1);
    ASSERT_EQ(tu_verify(other, "abc", 3, sig, siglen), 0);
    hlf_free(sig);
    hlf_identity_unref(id);
    EVP_PKEY_free(other);
    tu_msp_free(&m);
}

TEST_IMPL(identity_msp_errors)
{
    EVP_PKEY *other = tu_keygen(NULL);
    hlf_identity_t *id = (hlf_identity_t *)&other;
    char p[700], want[1400];
    hlf_error_t e;
    tu_msp_t m;

    ASSERT_EQ(hlf_identity_load_msp("/nonexistent/hlf/msp", "XMSP", &id, &e),
              HLF_ENOTFOUND);
    ASSERT_NULL(id);
    ASSERT_STR_EQ(e.text,
                  "MSP directory /nonexistent/hlf/msp: No such file or "
                  "directory");
    ASSERT_EQ(hlf_identity_load_msp(NULL, "XMSP", &id, &e), HLF_EINVAL);
    ASSERT_EQ(hlf_identity_load_msp("/tmp", "", &id, &e), HLF_EINVAL);

    /* Wrong key only. */
    tu_msp_make(&m, "User1@wrong.test");
    tu_write_key(m.key_path, other, 0);
    ASSERT_EQ(hlf_identity_load_msp(m.msp, "WrongMSP", &id, &e),
              HLF_ENOTFOUND);
    snprintf(want, sizeof(want),
             "MSP directory %s: no private key in keystore/ matches "
             "certificate %s (1 file tried)",
             m.msp, m.cert_path);
    ASSERT_STR_EQ(e.text, want);

    /* Two certificates. */
    path(p, sizeof(p), m.msp, "signcerts/second.pem");
    tu_write_cert(p, m.cert);
    ASSERT_EQ(hlf_identity_load_msp(m.msp, "WrongMSP", &id, &e), HLF_EINVAL);
    snprintf(want, sizeof(want),
             "MSP directory %s: signcerts/ holds 2 certificates, expected "
             "exactly one",
             m.msp);
    ASSERT_STR_EQ(e.text, want);

    /* No certificate (a non-.pem file does not count). */
    ASSERT_EQ(remove(p), 0);
    ASSERT_EQ(remove(m.cert_path), 0);
    path(p, sizeof(p), m.msp, "signcerts/cert.txt");
    tu_write_cert(p, m.cert);
    ASSERT_EQ(hlf_identity_load_msp(m.msp, "WrongMSP", &id, &e),
              HLF_ENOTFOUND);
    snprintf(want, sizeof(want),
             "MSP directory %s: no certificate (*.pem) in signcerts/",
             m.msp);
    ASSERT_STR_EQ(e.text, want);

    /* No keystore directory. */
    tu_write_cert(m.cert_path, m.cert);
    path(p, sizeof(p), m.msp, "keystore/priv_sk");
    ASSERT_EQ(remove(p), 0);
    path(p, sizeof(p), m.msp, "keystore");
    ASSERT_EQ(rmdir(p), 0);
    ASSERT_EQ(hlf_identity_load_msp(m.msp, "WrongMSP", &id, &e),
              HLF_ENOTFOUND);
    snprintf(want, sizeof(want),
             "MSP directory %s/keystore: No such file or directory", m.msp);
    ASSERT_STR_EQ(e.text, want);
    ASSERT_NULL(id);
    EVP_PKEY_free(other);
    tu_msp_free(&m);
}

TEST_IMPL(identity_load_files)
{
    EVP_PKEY *other = tu_keygen(NULL), *p384 = tu_keygen("P-384");
    X509 *x384 = tu_cert(p384, "p384", NULL, NULL, 0, NULL);
    hlf_identity_t *id = NULL;
    char p[700], want[1500];
    hlf_error_t e;
    tu_msp_t m;

    tu_msp_make(&m, "User1@files.test");
    ASSERT_EQ(hlf_identity_load_files(m.cert_path, m.key_path, "FilesMSP",
                                      &id, &e),
              HLF_OK);
    ASSERT_STR_EQ(hlf_identity_msp_id(id), "FilesMSP");
    /* Reference counting: two extra references, three unrefs. */
    ASSERT(hlf_identity_ref(id) == id);
    hlf_identity_ref(id);
    hlf_identity_unref(id);
    hlf_identity_unref(id);
    hlf_identity_unref(id);
    hlf_identity_unref(NULL);

    path(p, sizeof(p), m.dir, "other.key");
    tu_write_key(p, other, 0);
    ASSERT_EQ(hlf_identity_load_files(m.cert_path, p, "FilesMSP", &id, &e),
              HLF_EINVAL);
    snprintf(want, sizeof(want),
             "private key %s does not match the public key of %s", p,
             m.cert_path);
    ASSERT_STR_EQ(e.text, want);

    ASSERT_EQ(hlf_identity_load_files(m.cert_path, "/nonexistent/key",
                                      "FilesMSP", &id, &e),
              HLF_ENOTFOUND);
    ASSERT_STR_EQ(e.text, "/nonexistent/key: No such file or directory");

    /* A key file holding a certificate only. */
    ASSERT_EQ(hlf_identity_load_files(m.cert_path, m.cert_path, "FilesMSP",
                                      &id, &e),
              HLF_EINVAL);
    snprintf(want, sizeof(want),
             "private key %s: no unencrypted PEM private key found",
             m.cert_path);
    ASSERT_STR_EQ(e.text, want);

    /* P-384 is not what Fabric's default BCCSP signs with. */
    path(p, sizeof(p), m.dir, "p384.pem");
    tu_write_cert(p, x384);
    ASSERT_EQ(hlf_identity_load_files(p, m.key_path, "FilesMSP", &id, &e),
              HLF_EINVAL);
    snprintf(want, sizeof(want), "%s: certificate key is not ECDSA P-256", p);
    ASSERT_STR_EQ(e.text, want);
    ASSERT_NULL(id);
    X509_free(x384);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(other);
    tu_msp_free(&m);
}

TEST_IMPL(identity_from_pem)
{
    EVP_PKEY *k = tu_keygen(NULL);
    X509 *x = tu_cert(k, "mem", NULL, NULL, 0, NULL);
    char *cert = tu_cert_pem(x), *key = tu_key_pem(k);
    hlf_identity_t *id = NULL;
    hlf_error_t e;

    ASSERT_EQ(hlf_identity_from_pem(cert, strlen(cert), key, strlen(key),
                                    "MemMSP", &id, &e),
              HLF_OK);
    hlf_identity_unref(id);
    ASSERT_EQ(hlf_identity_from_pem("garbage", 7, key, strlen(key), "MemMSP",
                                    &id, &e),
              HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "certificate: no PEM certificate found");
    ASSERT_EQ(hlf_identity_from_pem(cert, strlen(cert), "x", 1, "MemMSP",
                                    &id, &e),
              HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "private key: no unencrypted PEM private key found");
    free(cert);
    free(key);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* Many threads signing with one identity and taking references. */
typedef struct {
    hlf_identity_t *id;
    EVP_PKEY *pub;
    int ok;
} signer_t;

static void *
signer(void *arg)
{
    signer_t *s = arg;
    hlf_identity_t *mine = hlf_identity_ref(s->id);
    uint8_t *sig;
    size_t len;
    int i;

    for (i = 0; i < 300; i++) {
        if (hlf_identity_sign(mine, &i, sizeof(i), &sig, &len) != HLF_OK)
            continue;
        s->ok += tu_verify(s->pub, &i, sizeof(i), sig, len) &&
                 hlf_ecdsa_is_low_s(sig, len) == 1;
        hlf_free(sig);
    }
    hlf_identity_unref(mine);
    return NULL;
}

TEST_IMPL(identity_shared_between_threads)
{
    pthread_t th[6];
    signer_t s[6];
    hlf_identity_t *id;
    tu_msp_t m;
    int i;

    tu_msp_make(&m, "User1@threads.test");
    ASSERT_EQ(hlf_identity_load_msp(m.msp, "ThreadsMSP", &id, NULL), HLF_OK);
    for (i = 0; i < 6; i++) {
        s[i].id = id;
        s[i].pub = m.key;
        s[i].ok = 0;
        ASSERT_EQ(pthread_create(&th[i], NULL, signer, &s[i]), 0);
    }
    for (i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(s[i].ok, 300);
    }
    hlf_identity_unref(id);
    tu_msp_free(&m);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(identity_load_msp),
    TEST_ENTRY(identity_sign_5000_low_s),
    TEST_ENTRY(identity_keystore_scan),
    TEST_ENTRY(identity_msp_errors),
    TEST_ENTRY(identity_load_files),
    TEST_ENTRY(identity_from_pem),
    TEST_ENTRY(identity_shared_between_threads),
};

TEST_MAIN(tests)
