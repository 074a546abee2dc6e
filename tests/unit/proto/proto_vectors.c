/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto_vectors: the C side of the proto wire-compatibility test
 * (ctest proto_wire_compat, driven by proto_wire_compat.cmake).
 *
 *   proto_vectors generate DIR   one instance of every hlf_proto message
 *                                type, every field set, serialized with
 *                                protobuf-c: DIR/<name>.bin + manifest.json
 *   proto_vectors verify DIR     decode DIR/<name>.bin with protobuf-c and
 *                                compare with DIR/manifest.json (written
 *                                by tests/interop/proto-wire.js from the
 *                                official Fabric Node classes)
 *
 * Exit status: 0 all good, 1 a mismatch or an error, 2 bad usage. Every
 * mismatch is printed on its own line so a failure names the message, the
 * field path, the expected and the decoded value.
 */
#include <stdio.h>
#include <string.h>

#include "wire_vectors.h"

static int
usage(void)
{
    fputs("usage: proto_vectors generate DIR\n"
          "       proto_vectors verify DIR\n",
          stderr);
    return 2;
}

int
main(int argc, char **argv)
{
    hlf_error_t err;
    size_t n = 0, bad = 0;
    int rc;

    hlf_error_clear(&err);
    if (argc != 3)
        return usage();
    if (strcmp(argv[1], "generate") == 0) {
        rc = pv_generate(argv[2], &n, &err);
        if (rc != HLF_OK) {
            fprintf(stderr, "proto_vectors: generate: %s\n", err.text);
            return 1;
        }
        printf("proto_vectors: wrote %zu messages to %s\n", n, argv[2]);
        return 0;
    }
    if (strcmp(argv[1], "verify") == 0) {
        rc = pv_verify(argv[2], stderr, &n, &bad, &err);
        if (rc != HLF_OK) {
            fprintf(stderr, "proto_vectors: verify: %s\n", err.text);
            return 1;
        }
        printf("proto_vectors: %zu messages from %s decode as expected\n", n,
               argv[2]);
        return 0;
    }
    return usage();
}
