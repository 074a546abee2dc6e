/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hashing and encoding helpers. OpenSSL is used only behind this header
 * (and in certs/), so the rest of the code base never includes it.
 *
 * THREAD SAFETY: all functions are reentrant.
 */
#ifndef HLF_CRYPTO_H
#define HLF_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HLF_SHA256_LEN 32

/* out = SHA-256(data[0..len)). */
void hlf_sha256(const void *data, size_t len, uint8_t out[HLF_SHA256_LEN]);

/* out = SHA-256(a || b) without copying. */
void hlf_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
                  uint8_t out[HLF_SHA256_LEN]);

#define HLF_SHA3_256_LEN 32

/*
 * out = SHA3-256(data[0..len)) (FIPS 202). Used for the hashed form of
 * RESO UPI URNs. Aborts only when OpenSSL cannot allocate a digest.
 */
void hlf_sha3_256(const void *data, size_t len,
                  uint8_t out[HLF_SHA3_256_LEN]);

/*
 * Lower-case hex of len bytes into out, which must hold 2*len+1 bytes;
 * out is NUL-terminated.
 */
void hlf_hex_encode(const uint8_t *in, size_t len, char *out);

/*
 * out = HMAC-SHA256(key[0..klen), msg[0..mlen)) (RFC 2104 with SHA-256).
 * key may be NULL when klen is 0, msg when mlen is 0. Used to sign
 * webhook bodies; the key is the subscriber's shared secret.
 * Returns HLF_OK, HLF_EINVAL (NULL out, or NULL with a non-zero length)
 * or HLF_ECRYPTO (OpenSSL failure; out is then zeroed).
 */
int hlf_hmac_sha256(const void *key, size_t klen, const void *msg,
                    size_t mlen, uint8_t out[HLF_SHA256_LEN]);

/* Fill buf with len cryptographically random bytes. 0 or HLF_ECRYPTO. */
int hlf_random_bytes(void *buf, size_t len);

/*
 * Overwrite len bytes at p with zeros in a way the compiler cannot drop.
 * Used on key material and signing buffers before they are freed.
 */
void hlf_wipe(void *p, size_t len);

/* Largest DER ECDSA-P256 signature: SEQUENCE of two 33-byte INTEGERs. */
#define HLF_ECDSA_P256_DER_MAX 72

/*
 * Fabric accepts only "low-S" ECDSA signatures: s <= n/2 where n is the
 * P-256 group order. Both (r, s) and (r, n - s) are valid signatures of
 * the same digest, so a high-S signature is repaired by replacing s with
 * n - s.
 *
 * hlf_ecdsa_low_s: read the DER signature der[0..len) and write its low-S
 * form as DER into out (at least HLF_ECDSA_P256_DER_MAX bytes), setting
 * *outlen. A signature that is already low-S is re-encoded unchanged.
 * Returns HLF_OK, HLF_EINVAL (not a DER ECDSA signature, r or s not in
 * 1..n-1) or HLF_ENOMEM.
 *
 * hlf_ecdsa_is_low_s: 1 if s <= n/2, 0 if s > n/2, HLF_EINVAL if der is
 * not a DER ECDSA signature.
 */
int hlf_ecdsa_low_s(const uint8_t *der, size_t len, uint8_t *out,
                    size_t *outlen);
int hlf_ecdsa_is_low_s(const uint8_t *der, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* HLF_CRYPTO_H */
