/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TransactionId derivation (reso-model.md §11, architecture.md decision
 * 5). The model wants a ledger-independent UUID; chaincode must be
 * deterministic across endorsers, so the UUID is derived from the Fabric
 * txid instead of being random:
 *
 *   u = SHA-256("RESO-EM/txid/v1" || uint32_be(len(txid)) || txid ||
 *               uint32_be(i))[0..15]
 *   u[6] = (u[6] & 0x0F) | 0x80     version 8 (RFC 9562 custom)
 *   u[8] = (u[8] & 0x3F) | 0x80     RFC 9562 variant
 *
 * The tag is the 15 ASCII bytes without a terminator or length prefix;
 * the length prefix of the txid is a 4-byte big-endian byte count. These
 * two choices are the only ones that reproduce all four published
 * vectors (checked against uint8/uint16/varint/little-endian prefixes and
 * other hashes; see docs/event-model.md).
 */
#include "evl.h"

#include "hlf/crypto.h"
#include "hlf/err.h"

#include <string.h>

#define UUID_TAG "RESO-EM/txid/v1"

static void
put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

int
evl_uuid_from_txid(const char *txid, size_t txid_len, uint32_t index,
                   char out[EVL_UUID_LEN + 1])
{
    unsigned char msg[sizeof(UUID_TAG) - 1 + 4 + EVL_TXID_MAX + 4];
    uint8_t digest[HLF_SHA256_LEN];
    char hex[33];
    size_t n = sizeof(UUID_TAG) - 1;

    if (txid == NULL || txid_len == 0 || txid_len > EVL_TXID_MAX)
        return HLF_EINVAL;
    memcpy(msg, UUID_TAG, n);
    put_be32(msg + n, (uint32_t)txid_len);
    n += 4;
    memcpy(msg + n, txid, txid_len);
    n += txid_len;
    put_be32(msg + n, index);
    n += 4;
    hlf_sha256(msg, n, digest);
    digest[6] = (uint8_t)((digest[6] & 0x0F) | 0x80);
    digest[8] = (uint8_t)((digest[8] & 0x3F) | 0x80);
    hlf_hex_encode(digest, 16, hex);
    /* 8-4-4-4-12 */
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
    return HLF_OK;
}
