/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Fabric client identity: an MSP id, an X.509 certificate (PEM) and the
 * matching ECDSA P-256 private key. It produces the serialized creator
 * (msp.SerializedIdentity{mspid, id_bytes = certificate PEM text}) that goes
 * into every proposal and request, and the low-S ECDSA signatures Fabric
 * accepts.
 *
 * An identity is a long-lived, reference-counted, immutable handle: load it
 * once and share it between threads, gateways and requests. The private key
 * never leaves the object and its memory is wiped when the last reference
 * is dropped. Neither the key nor any signature is ever logged.
 *
 * THREAD SAFETY: every function may be called concurrently on the same
 * identity from any thread (hlf_identity_unref only by the holder of the
 * reference it drops).
 */
#ifndef HLF_IDENTITY_H
#define HLF_IDENTITY_H

#include "hlf/err.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hlf_identity_s hlf_identity_t;

/*
 * Load the identity of an MSP directory, e.g. .../users/User1@org/msp:
 * msp_dir/signcerts must hold exactly one "*.pem" certificate, and
 * msp_dir/keystore the matching private key (any file name, e.g. priv_sk;
 * PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY" PEM, unencrypted). Every
 * regular file in keystore/ is tried and the one whose public key equals
 * the certificate's is used, so unrelated keys may sit next to it.
 *
 * On success *out is a new identity with one reference (release it with
 * hlf_identity_unref). Errors (err->text names the path):
 *   HLF_ENOTFOUND  msp_dir, signcerts/ or keystore/ missing, no *.pem
 *                  certificate, or no key in keystore/ matches it;
 *   HLF_EINVAL     NULL/empty argument, more than one certificate, a
 *                  certificate that is not ECDSA P-256 or not parseable;
 *   HLF_EIO        a file cannot be read; HLF_ENOMEM.
 */
int hlf_identity_load_msp(const char *msp_dir, const char *msp_id,
                          hlf_identity_t **out, hlf_error_t *err);

/*
 * Load an identity from a certificate PEM file and a private key PEM file.
 * HLF_EINVAL if the key does not match the certificate (or is not P-256),
 * HLF_ENOTFOUND if a file does not exist, HLF_EIO, HLF_ENOMEM. *out as for
 * hlf_identity_load_msp.
 */
int hlf_identity_load_files(const char *cert_path, const char *key_path,
                            const char *msp_id, hlf_identity_t **out,
                            hlf_error_t *err);

/*
 * Same from PEM text in memory (borrowed; key_pem may hold secrets and is
 * not retained). Errors as hlf_identity_load_files.
 */
int hlf_identity_from_pem(const char *cert_pem, size_t cert_len,
                          const char *key_pem, size_t key_len,
                          const char *msp_id, hlf_identity_t **out,
                          hlf_error_t *err);

/* Take another reference; returns id. */
hlf_identity_t *hlf_identity_ref(hlf_identity_t *id);

/* Drop a reference; the last one wipes the key and frees. NULL is a no-op. */
void hlf_identity_unref(hlf_identity_t *id);

/* The MSP id (borrowed, lives as long as the identity). */
const char *hlf_identity_msp_id(const hlf_identity_t *id);

/*
 * The certificate as canonical PEM text (borrowed): re-encoded from the
 * parsed certificate with 64-column base64 and LF line ends, as cryptogen
 * writes it and the Go gateway client sends it. These are the id_bytes
 * Fabric sees; *len (if not NULL) gets its length.
 */
const char *hlf_identity_cert_pem(const hlf_identity_t *id, size_t *len);

/*
 * The serialized msp.SerializedIdentity ("creator" bytes), computed once at
 * load time (borrowed).
 */
const uint8_t *hlf_identity_creator(const hlf_identity_t *id, size_t *len);

/*
 * Sign msg[0..len): ECDSA P-256 over SHA-256(msg), DER-encoded, normalised
 * to low-S (s <= n/2) as Fabric requires. *sig is new (release with
 * hlf_free), *siglen its length (at most HLF_ECDSA_P256_DER_MAX).
 * HLF_OK, HLF_EINVAL (NULL argument), HLF_ECRYPTO or HLF_ENOMEM.
 */
int hlf_identity_sign(const hlf_identity_t *id, const void *msg, size_t len,
                      uint8_t **sig, size_t *siglen);

#ifdef __cplusplus
}
#endif
#endif /* HLF_IDENTITY_H */
