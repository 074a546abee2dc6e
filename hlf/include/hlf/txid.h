/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fabric transaction ids. A tx id is the lowercase hex SHA-256 of
 * nonce || creator, where creator is the serialized SerializedIdentity of
 * the submitter; the endorsing peer recomputes it and rejects a mismatch.
 *
 * THREAD SAFETY: all functions are reentrant.
 */
#ifndef HLF_TXID_H
#define HLF_TXID_H

#include "hlf/identity.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Hex characters in a tx id (buffers need HLF_TXID_LEN + 1). */
#define HLF_TXID_LEN 64
/* Nonce length libhlf uses (the peer only requires a non-empty nonce). */
#define HLF_NONCE_LEN 24

/*
 * Deterministic: out = lowercase hex(SHA-256(nonce || creator)),
 * NUL-terminated. Both inputs are borrowed.
 */
void hlf_txid_compute(const uint8_t *nonce, size_t nonce_len,
                      const uint8_t *creator, size_t creator_len,
                      char out[HLF_TXID_LEN + 1]);

/*
 * Draw a fresh random nonce into nonce[0..HLF_NONCE_LEN) and compute the
 * matching tx id for id's creator. HLF_OK or HLF_ECRYPTO.
 */
int hlf_txid_new(const hlf_identity_t *id, uint8_t nonce[HLF_NONCE_LEN],
                 char out[HLF_TXID_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif /* HLF_TXID_H */
