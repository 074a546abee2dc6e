/* SPDX-License-Identifier: Apache-2.0 */
/* Transaction ids: hex(SHA-256(nonce || creator)). */
#include "hlf/txid.h"
#include "hlf/crypto.h"
#include "hlf/err.h"

void
hlf_txid_compute(const uint8_t *nonce, size_t nonce_len,
                 const uint8_t *creator, size_t creator_len,
                 char out[HLF_TXID_LEN + 1])
{
    uint8_t digest[HLF_SHA256_LEN];

    hlf_sha256_2(nonce, nonce_len, creator, creator_len, digest);
    hlf_hex_encode(digest, sizeof(digest), out);
}

int
hlf_txid_new(const hlf_identity_t *id, uint8_t nonce[HLF_NONCE_LEN],
             char out[HLF_TXID_LEN + 1])
{
    const uint8_t *creator;
    size_t len;

    if (hlf_random_bytes(nonce, HLF_NONCE_LEN) != HLF_OK)
        return HLF_ECRYPTO;
    creator = hlf_identity_creator(id, &len);
    hlf_txid_compute(nonce, HLF_NONCE_LEN, creator, len, out);
    return HLF_OK;
}
