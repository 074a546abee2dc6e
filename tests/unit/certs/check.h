/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Assertions and helpers shared by the reso-certs tests. The certificate
 * checks re-derive every property with plain OpenSSL calls (and their own
 * copy of the P-256 order) instead of trusting certs/src, so that a bug in
 * the generator cannot hide itself in the test. Every helper aborts the
 * test through task.h on a mismatch.
 */
#ifndef CERTS_TEST_CHECK_H
#define CERTS_TEST_CHECK_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

/* Fresh directory under $TMPDIR (or /tmp); new, free() it. */
char *check_tmpdir(void);

/* Remove a tree made by a test (missing is fine). */
void check_rmtree(const char *path);

/* Whole file as a NUL-terminated string; new, free() it. */
char *check_read(const char *path, size_t *len);

/* Write a small text file (mode 0644), creating or truncating it. */
void check_write(const char *path, const char *text);

/*
 * Run argv[0] with argv, stdout and stderr captured into the new strings
 * *out and *err (either pointer may be NULL to discard). extra_env is a
 * NULL-terminated list of NAME=VALUE added to the environment, or NULL.
 * Returns the exit status, or 128 + signal number.
 */
int check_run(char *const argv[], char *const extra_env[], char **out,
              char **err);

/* snprintf into buf, failing the test if the result does not fit. */
void check_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Path of the built reso-certs binary (from RESO_CERTS_BIN). */
const char *check_certs_bin(void);

X509 *check_load_cert(const char *path);
EVP_PKEY *check_load_key(const char *path);

/* Subject on one line, "C=US, ST=..., CN=..."; new, free() it. */
char *check_subject(X509 *x);

/* 1 if the signature of x has 0 < s <= n/2 of P-256, else 0. */
int check_low_s(X509 *x);

/*
 * The profile of an identity CA or TLS CA: v3, self-signed and verified,
 * subject C=US, ST=California, L=San Francisco, O=org, CN=cn, critical
 * CA:TRUE, critical KU digitalSignature+keyEncipherment+keyCertSign+
 * cRLSign, EKU exactly clientAuth+serverAuth, SKI = SHA-256 of the public
 * point (32 bytes), no AKI, no SAN, positive serial <= 128 bits,
 * ecdsa-with-SHA256, low-S, notAfter - notBefore == days.
 */
void check_ca_profile(X509 *ca, const char *cn, const char *org, long days);

/*
 * An identity leaf: subject C, ST, L, OU=ou (exactly one OU), CN=cn;
 * critical KU digitalSignature only, no EKU, critical CA:FALSE,
 * AKI = SKI of ca, no SAN; verifies against ca with X509_verify_cert.
 */
void check_identity_profile(X509 *x, X509 *ca, const char *cn,
                            const char *ou, long days);

/*
 * A TLS leaf: subject C, ST, L, CN=cn (no O, no OU); critical KU
 * digitalSignature+keyEncipherment, EKU exactly serverAuth+clientAuth,
 * critical CA:FALSE, AKI = SKI of ca, SANs exactly sans[0..n) in order
 * ("DNS:x" / "IP:a.b.c.d"); verifies against ca as TLS server and client.
 */
void check_tls_profile(X509 *x, X509 *ca, const char *cn,
                       const char *const *sans, size_t n, long days);

/*
 * A private key file: mode 0600 exactly, one PEM block starting
 * "-----BEGIN PRIVATE KEY-----", a P-256 key equal to cert's public key.
 */
void check_key_file(const char *path, X509 *cert);

/* The NodeOUs config.yaml reso-certs writes for CA file ca_file. */
void check_config_yaml(const char *path, const char *ca_file);

/*
 * Names in directory path, sorted, joined with ","; new, free() it.
 * "" for an empty directory.
 */
char *check_list(const char *path);

/* SHA-256 over every path, type, mode and content below root. */
void check_tree_digest(const char *root, unsigned char out[32]);

/*
 * Walk root; for every *.pem and *.crt assert low-S and count it into
 * *certs, for every priv_sk and *.key assert mode 0600 and the PKCS#8
 * header and count it into *keys.
 */
void check_all_files(const char *root, size_t *certs, size_t *keys);

#endif /* CERTS_TEST_CHECK_H */
