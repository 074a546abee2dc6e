/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the libhlf unit tests: temporary directories and throwaway
 * ECDSA keys and X.509 certificates made with OpenSSL (the project's own
 * reso-certs generator is not a dependency of these tests).
 */
#ifndef HLF_TESTUTIL_H
#define HLF_TESTUTIL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* A new P-256 key (curve "P-256") or another curve by name. */
EVP_PKEY *tu_keygen(const char *curve);

/*
 * A certificate for key with subject CN=cn, signed by issuer_key (self
 * signed when issuer is NULL). is_ca adds CA:TRUE + keyCertSign; san
 * (e.g. "DNS:peer0.test.example,IP:127.0.0.1") may be NULL.
 */
X509 *tu_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
              EVP_PKEY *issuer_key, int is_ca, const char *san);

/* Write key as PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"), 0600. */
void tu_write_key(const char *path, EVP_PKEY *key, int sec1);
void tu_write_cert(const char *path, X509 *x);
void tu_write_file(const char *path, const char *text);

/* PEM text of a certificate/key as a new malloc'd string. */
char *tu_cert_pem(X509 *x);
char *tu_key_pem(EVP_PKEY *key);

/* mkdtemp under TMPDIR or /tmp; the returned path is malloc'd. */
char *tu_mkdtemp(void);
/* mkdir -p for one level below an existing directory. */
void tu_mkdir(const char *path);
/* Remove a directory tree created by a test. */
void tu_rmrf(const char *path);

/* Lower-case hex SHA-256 computed directly with OpenSSL. */
void tu_sha256_hex(const void *a, size_t alen, const void *b, size_t blen,
                   char out[65]);

/* Verify a DER ECDSA signature over SHA-256(msg) with OpenSSL. 1 if ok. */
int tu_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig,
              size_t siglen);

/*
 * 1 if the DER signature is strict DER and s <= n/2 for P-256, decided
 * with OpenSSL alone (independently of hlf_ecdsa_is_low_s).
 */
int tu_is_low_s(const uint8_t *der, size_t len);

/*
 * An MSP-style identity written to disk under a new temp dir:
 * dir/msp/signcerts/<cn>-cert.pem (self-signed P-256) and
 * dir/msp/keystore/priv_sk (PKCS#8). tu_msp_free removes dir and frees.
 */
typedef struct {
    char *dir;
    char msp[512];
    char cert_path[600];
    char key_path[600];
    EVP_PKEY *key;
    X509 *cert;
} tu_msp_t;

void tu_msp_make(tu_msp_t *m, const char *cn);
void tu_msp_free(tu_msp_t *m);

/* A port on 127.0.0.1 that nobody listens on (bound, then closed). */
int tu_closed_port(void);

#endif /* HLF_TESTUTIL_H */
