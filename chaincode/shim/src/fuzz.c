/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fuzzing entry point: one peer message into a fresh in-memory
 * connection, with a transport that discards what the shim sends and runs
 * transactions inline. tests/fuzz/fuzz_shim_message.c calls it with
 * arbitrary bytes; it exercises decoding, the handshake states, the
 * transaction set-up (proposal, headers, transient map, creator parsing)
 * and the reply routing without gRPC.
 */
#include <stdlib.h>
#include <string.h>

#include <hlf/err.h>

#include "shim_internal.h"

typedef struct {
    hlf__conn_t conn;
    size_t sent;
} fuzz_conn_t;

static void
fuzz_send(hlf__conn_t *conn, uint8_t *bytes, size_t len)
{
    fuzz_conn_t *fc = (fuzz_conn_t *)(void *)conn;

    fc->sent += len;
    free(bytes);
}

/*
 * Inline run on the dispatching thread. The chaincode below must never
 * send a request: it would wait for an answer only this thread could
 * deliver.
 */
static void
fuzz_spawn(hlf__conn_t *conn, hlf_stub_t *stub)
{
    hlf__tx_run(stub);
}

static void
fuzz_destroy(hlf__conn_t *conn)
{
    (void)conn;
}

static const hlf__conn_ops_t fuzz_ops = {fuzz_send, fuzz_spawn,
                                         fuzz_destroy};

/* Touch everything a chaincode can read without talking to the peer. */
static hlf_response_t
fuzz_invoke(hlf_stub_t *stub, void *ud)
{
    const uint8_t *const *argv;
    const size_t *lens;
    const uint8_t *b;
    const char *const *ous;
    size_t argc, n;
    int64_t sec;
    int32_t nanos;
    const char *key;

    (void)ud;
    hlf_stub_get_args(stub, &argv, &lens, &argc);
    (void)hlf_stub_get_function(stub);
    hlf_stub_get_tx_timestamp(stub, &sec, &nanos);
    hlf_stub_get_creator(stub, &b, &n);
    hlf_stub_get_signed_proposal(stub, &b, &n);
    hlf_stub_get_transient(stub, "k", &b, &n);
    hlf_stub_get_binding(stub, &b, &n);
    hlf_stub_get_decoration(stub, "d", &b, &n);
    (void)hlf_stub_get_creator_msp_id(stub);
    (void)hlf_stub_get_creator_id(stub);
    hlf_stub_get_creator_ous(stub, &ous, &n);
    (void)hlf_stub_get_creator_attribute(stub, "role");
    if (argc > 1 && hlf_stub_create_composite_key(
                        stub, (const char *)argv[0],
                        (const char *const *)(const void *)(argv + 1),
                        argc - 1, &key) == HLF_OK) {
        const char *type;
        const char *const *attrs;
        hlf_stub_split_composite_key(stub, key, &type, &attrs, &n);
    }
    return hlf_success(argc ? argv[0] : NULL, argc ? lens[0] : 0);
}

static const hlf_chaincode_t fuzz_cc = {NULL, fuzz_invoke, NULL};

int
hlf__shim_fuzz_message(const uint8_t *data, size_t size)
{
    fuzz_conn_t fc;

    if (size == 0)
        return 0;
    memset(&fc, 0, sizeof(fc));
    if (hlf__conn_init(&fc.conn, &fuzz_ops, &fc, &fuzz_cc, "fuzz:cc",
                       "FuzzMSP", "fuzz") != HLF_OK)
        return 0;
    fc.conn.state = (hlf__conn_state_t)(data[0] % 3);
    hlf__conn_dispatch(&fc.conn, data + 1, size - 1);
    /* A transaction ran inline: its reference is already gone. */
    hlf__conn_close(&fc.conn);
    hlf__conn_unref(&fc.conn);
    return 0;
}
