/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private protobuf-c helpers: the allocator that routes protobuf-c through
 * hlf_malloc, and packing into a new buffer. Ownership rule for the whole
 * library: a message unpacked with hlf__pb_allocator is released with its
 * *__free_unpacked(msg, &hlf__pb_allocator), in the module that unpacked it.
 */
#ifndef HLF_PB_H
#define HLF_PB_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

extern ProtobufCAllocator hlf__pb_allocator;

/*
 * Serialize msg into a new hlf_malloc'd buffer (*out, *len). An empty
 * message gives a 1-byte allocation with *len == 0, so *out is never NULL
 * on success. HLF_OK or HLF_ENOMEM.
 */
int hlf__pb_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len);

/*
 * A bytes field that borrows data[0..len) (the cast is safe: packing only
 * reads it).
 */
static inline ProtobufCBinaryData
hlf__pb_bin(const void *data, size_t len)
{
    ProtobufCBinaryData d;

    d.data = (uint8_t *)(uintptr_t)data;
    d.len = len;
    return d;
}

/* Unpack len bytes as desc with hlf__pb_allocator; NULL if malformed/OOM. */
#define HLF__PB_UNPACK(prefix, len, data)                                    \
    prefix##__unpack(&hlf__pb_allocator, (len), (data))

/* Free a message from HLF__PB_UNPACK (msg may be NULL). */
#define HLF__PB_FREE(prefix, msg)                                            \
    do {                                                                     \
        if ((msg) != NULL)                                                   \
            prefix##__free_unpacked((msg), &hlf__pb_allocator);              \
    } while (0)

#endif /* HLF_PB_H */
