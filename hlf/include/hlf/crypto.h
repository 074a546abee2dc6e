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

/*
 * Lower-case hex of len bytes into out, which must hold 2*len+1 bytes;
 * out is NUL-terminated.
 */
void hlf_hex_encode(const uint8_t *in, size_t len, char *out);

/* Fill buf with len cryptographically random bytes. 0 or HLF_ECRYPTO. */
int hlf_random_bytes(void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* HLF_CRYPTO_H */
