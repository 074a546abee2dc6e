/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire vectors: the C half of the proto wire-compatibility test.
 *
 * pv_generate() builds one instance of every message type compiled into
 * hlf_proto (one per oneof arm where a message has a oneof), sets every
 * field to a distinctive non-default value, serializes each instance with
 * protobuf-c into <dir>/<instance>.bin and describes the expected values in
 * <dir>/manifest.json. tests/interop/proto-wire.js decodes those files
 * with Fabric's official Node classes and compares.
 *
 * pv_verify() is the other direction: it reads a manifest in the same
 * format (written by proto-wire.js from messages built with the official
 * classes), decodes each .bin with protobuf-c and compares every field.
 *
 * The engine walks protobuf-c descriptors, so a field added to proto/ is
 * filled and checked without touching this code, and no field can be
 * forgotten. Manifest values are typed JSON objects:
 *   {"t":"string","v":"..."}             {"t":"bytes","hex":"00ff..."}
 *   {"t":"int32"|"uint32"|"enum","v":N}  {"t":"bool","v":true}
 *   {"t":"int64"|"uint64","v":"decimal"}
 *   {"t":"message","type":"pkg.Name","fields":{"<proto name>":value}}
 *   {"t":"repeated","items":[value...]}
 *   {"t":"map","entries":[{"key":value,"value":value}...]}
 * A bytes value may carry "packed": a message value that the bytes are the
 * serialization of (google.protobuf.Any.value, nested Fabric headers). A
 * field value inside "fields" may carry "number" (the field number) and
 * "oneof": true.
 *
 * THREAD SAFETY: the functions keep no global state and are reentrant.
 */
#ifndef PV_WIRE_VECTORS_H
#define PV_WIRE_VECTORS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdio.h>

#include "hlf/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Name of the manifest file inside a vector directory. */
#define PV_MANIFEST "manifest.json"

/*
 * The message table: every top-level message type of hlf_proto, plus the
 * google.protobuf types it uses. Borrowed, static.
 */
extern const ProtobufCMessageDescriptor *const pv_messages[];
extern const size_t pv_n_messages;

/*
 * Descriptor of the message with the given full name ("common.Header"),
 * looked up in pv_messages; NULL when unknown. Borrowed, static.
 */
const ProtobufCMessageDescriptor *pv_find_message(const char *full_name);

/*
 * Write the vectors into dir (created if missing, mode 0755). On success
 * *n_written (if not NULL) is the number of .bin files. Returns HLF_OK,
 * HLF_EIO (file system), HLF_ENOMEM or HLF_EINVAL (a field type the
 * engine does not handle), with detail in err.
 */
int pv_generate(const char *dir, size_t *n_written, hlf_error_t *err);

/*
 * Check every instance listed in dir/manifest.json. Each mismatch is
 * written as one line "FAIL <instance>: <path>: <what>" to report (if not
 * NULL). *n_ok and *n_bad (if not NULL) count matching and failing
 * instances. Returns HLF_OK when all match and at least one was checked,
 * HLF_EPROTO when any differs, HLF_EIO or HLF_EINVAL when the manifest is
 * unreadable or malformed.
 */
int pv_verify(const char *dir, FILE *report, size_t *n_ok, size_t *n_bad,
              hlf_error_t *err);

#ifdef __cplusplus
}
#endif
#endif /* PV_WIRE_VECTORS_H */
