/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deterministic file content shared by the CID tests and by
 * tests/interop/ipfs-cid.mjs, which computes the reference CIDs with
 * IPFS's own importer: xorshift32 seeded with size + 1, low byte of each
 * step. Both sides must generate the same bytes for a size.
 */
#ifndef CID_CONTENT_H
#define CID_CONTENT_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with the content of a file of size bytes. */
static inline void
cid_content(uint8_t *buf, size_t size)
{
    uint32_t x = (uint32_t)size + 1u;
    size_t i;

    for (i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(x & 0xff);
    }
}

#endif /* CID_CONTENT_H */
