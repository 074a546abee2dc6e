/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys and certificates for reso-certs, built with OpenSSL 3 to the same
 * profiles as Fabric's cryptogen (docs/certs.md lists them). Three
 * profiles exist: a self-signed CA (identity CA or TLS CA of an org), an
 * identity leaf (an MSP signcert carrying one node OU) and a TLS leaf (a
 * server or client certificate with subjectAltNames). Every signature this
 * module produces is low-S, because Fabric rewrites high-S certificate
 * signatures when it loads an MSP, which would change the bytes it hashes.
 *
 * This header is internal to certs/ (the executable and its unit tests);
 * it is the only place in certs/ that knows about X.509 structures.
 *
 * THREAD SAFETY: every function is reentrant; objects are not shared.
 */
#ifndef CERTS_X509_H
#define CERTS_X509_H

#include "hlf/err.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

/* Length of a subject key identifier: SHA-256 of the public point. */
#define CERTS_SKI_LEN 32

/* How many signatures certs_sign_low_s tries before giving up. */
#define CERTS_SIGN_TRIES 64

/*
 * Validity of every certificate in one run: notBefore = not_before,
 * notAfter = not_before + days. One run uses one value so that CA and leaf
 * validity line up exactly.
 */
struct certs_validity {
    time_t not_before;
    long days;
};

/* An issuing CA: certificate and private key, both owned by the struct. */
struct certs_ca {
    X509 *cert;
    EVP_PKEY *key;
};

/* Generate a fresh ECDSA P-256 key pair into *out (new; EVP_PKEY_free). */
int certs_key_generate(EVP_PKEY **out, hlf_error_t *err);

/*
 * Create a CA: a new P-256 key and a self-signed certificate with subject
 * C=US, ST=California, L=San Francisco, O=org, CN=cn, CA:TRUE and the CA
 * key usages. On success ca holds new objects (release with
 * certs_ca_dispose); on failure ca is left empty.
 */
int certs_ca_init(struct certs_ca *ca, const char *cn, const char *org,
                  const struct certs_validity *v, hlf_error_t *err);

/* Free what ca holds and empty it; safe on an empty or disposed ca. */
void certs_ca_dispose(struct certs_ca *ca);

/*
 * Issue an identity (MSP signcert) for the public half of key (borrowed):
 * subject C, ST, L, OU=ou, CN=cn; critical keyUsage digitalSignature, no
 * extendedKeyUsage, AKI = the CA's SKI. *out is new (X509_free).
 */
int certs_issue_identity(X509 **out, const struct certs_ca *ca,
                         EVP_PKEY *key, const char *cn, const char *ou,
                         const struct certs_validity *v, hlf_error_t *err);

/*
 * Issue a TLS certificate for key (borrowed): subject C, ST, L, CN=cn;
 * keyUsage digitalSignature+keyEncipherment, EKU serverAuth+clientAuth and
 * the subjectAltNames sans[0..n) in that order, each "DNS:<name>" or
 * "IP:<address>" (borrowed). *out is new (X509_free).
 */
int certs_issue_tls(X509 **out, const struct certs_ca *ca, EVP_PKEY *key,
                    const char *cn, const char *const *sans, size_t n,
                    const struct certs_validity *v, hlf_error_t *err);

/*
 * Decide whether a DER ECDSA-Sig-Value (SEQUENCE {r, s}) is low-S for
 * P-256, i.e. 0 < s <= n/2. *low is 1 or 0. HLF_EINVAL if der does not
 * parse as exactly one ECDSA-Sig-Value.
 */
int certs_sig_is_low_s(const unsigned char *der, size_t len, int *low,
                       hlf_error_t *err);

/*
 * Sign x with key over SHA-256, again and again until the signature is
 * low-S (about two tries on average; HLF_ECRYPTO after CERTS_SIGN_TRIES).
 */
int certs_sign_low_s(X509 *x, EVP_PKEY *key, hlf_error_t *err);

/*
 * The SKI Fabric and cryptogen use: SHA-256 of the uncompressed public
 * point 0x04||X||Y of key (borrowed).
 */
int certs_key_ski(EVP_PKEY *key, unsigned char out[CERTS_SKI_LEN],
                  hlf_error_t *err);

/* PEM text of x: *pem is new (free()), NUL-terminated, *len excludes NUL. */
int certs_cert_pem(X509 *x, char **pem, size_t *len, hlf_error_t *err);

/*
 * Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") of key. *pem is
 * new and secret: release it with certs_secret_free(*pem, *len).
 */
int certs_key_pem(EVP_PKEY *key, char **pem, size_t *len, hlf_error_t *err);

/* Wipe len bytes at p and free p (takes p; NULL is fine). */
void certs_secret_free(char *p, size_t len);

#endif /* CERTS_X509_H */
