/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: the block parser's entry point for a Block protobuf-c has
 * already unpacked (the Deliver stream gets one inside each
 * DeliverResponse), and the allocation-tracking protobuf-c allocator both
 * use to tell "malformed" from "out of memory".
 */
#ifndef HLF_BLOCK_INT_H
#define HLF_BLOCK_INT_H

#include "common/common.pb-c.h"
#include "hlf/block.h"

#include <protobuf-c/protobuf-c.h>

/*
 * A protobuf-c allocator over hlf_malloc/hlf_free that remembers whether
 * an allocation failed. protobuf-c's unpack returns NULL both for bad bytes
 * and for a failed allocation; with this allocator a NULL result with
 * failed set is HLF_ENOMEM, otherwise HLF_EPROTO. Messages unpacked with it
 * are freed with the same allocator (&t->base). One per parse; not shared
 * between threads.
 */
typedef struct {
    ProtobufCAllocator base;
    int failed;
} hlf__pb_track_t;

void hlf__pb_track_init(hlf__pb_track_t *t);

/*
 * hlf_block_parse for an unpacked Block (borrowed; nothing in *out points
 * into it). Same results.
 */
int hlf__block_from_msg(const Common__Block *msg, hlf_block_t **out,
                        hlf_error_t *err);

#endif /* HLF_BLOCK_INT_H */
