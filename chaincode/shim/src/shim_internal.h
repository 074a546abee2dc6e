/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private declarations shared by the files of libhlf_shim.
 *
 * The shim is layered so that the protocol can be tested and fuzzed without
 * gRPC: conn.c is the transport-agnostic shim state machine (handshake,
 * transaction registry, request/response rendezvous), stub.c and iter.c
 * implement the chaincode-facing API on top of it, keys.c and pbwire.c are
 * pure helpers, cid.c parses the creator certificate, and server.c is the
 * only file that knows about gRPC: it owns the listening server, one
 * transport per peer stream and the worker pool, and plugs into conn.c
 * through hlf__conn_ops_t. docs/internals/shim.md describes the design.
 */
#ifndef HLF_SHIM_INTERNAL_H
#define HLF_SHIM_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <hlf/shim.h>

#include "common/common.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/chaincode_shim.pb-c.h"
#include "peer/proposal.pb-c.h"

#define HLF__LOG_COMPONENT "shim"

/* ------------------------------------------------------------------------ */
/* Arena (arena.c)                                                          */
/* ------------------------------------------------------------------------ */

/*
 * A bump allocator made of malloc'd chunks; everything is released at once
 * by hlf__arena_dispose. Not thread-safe (one transaction, one thread).
 */
typedef struct hlf__arena_chunk hlf__arena_chunk_t;
typedef struct {
    hlf__arena_chunk_t *head;
} hlf__arena_t;

void hlf__arena_init(hlf__arena_t *a);
void hlf__arena_dispose(hlf__arena_t *a);
void *hlf__arena_alloc(hlf__arena_t *a, size_t n);
void *hlf__arena_memdup(hlf__arena_t *a, const void *p, size_t n);
/* Copy of p[0..n) followed by a NUL byte. */
char *hlf__arena_strndup(hlf__arena_t *a, const void *p, size_t n);

/* ------------------------------------------------------------------------ */
/* Keys (keys.c)                                                            */
/* ------------------------------------------------------------------------ */

/* 1 if key (this API's form) is valid: UTF-8 where C0 80 means U+0000. */
int hlf__key_valid(const char *key);

/* 1 if key (API form) starts with U+0000, i.e. looks composite. */
int hlf__key_is_composite(const char *key);

/* 1 if key (API form) is a well-formed composite key. */
int hlf__key_composite_wellformed(const char *key);

/*
 * API form -> wire form in arena a (*wire NUL-terminated, *len its length
 * without that NUL). HLF_EINVAL if key is invalid.
 */
int hlf__key_to_wire_arena(hlf__arena_t *a, const char *key, char **wire,
                           size_t *len);

/* Wire form -> API form in arena a. HLF_EINVAL on invalid UTF-8. */
int hlf__key_from_wire_arena(hlf__arena_t *a, const char *wire, size_t len,
                             char **key);

/* ------------------------------------------------------------------------ */
/* Protobuf wire helpers (pbwire.c)                                         */
/* ------------------------------------------------------------------------ */

/*
 * A growable output buffer for hand-encoded messages. protobuf-c models
 * proto3 `string` as a NUL-terminated char *, which cannot carry the 0x00
 * bytes of composite keys, so every request that holds a key is encoded by
 * hand with these helpers (the wire format of string and bytes is the same).
 */
typedef struct {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int oom;
} hlf__pbw_t;

void hlf__pbw_varint_field(hlf__pbw_t *w, uint32_t field, uint64_t v);
/* A length-delimited field; omitted when n is 0 (proto3 default). */
void hlf__pbw_bytes_field(hlf__pbw_t *w, uint32_t field, const void *p,
                          size_t n);
/* Like hlf__pbw_bytes_field but written even when empty. */
void hlf__pbw_bytes_field_always(hlf__pbw_t *w, uint32_t field,
                                 const void *p, size_t n);
void hlf__pbw_dispose(hlf__pbw_t *w);

/* A cursor over an encoded message. */
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} hlf__pbr_t;

/* One decoded field: varint value or length-delimited data. */
typedef struct {
    uint32_t field;
    int wire_type;
    uint64_t varint;
    const uint8_t *data;
    size_t len;
} hlf__pbfield_t;

/* 1 and *f filled, 0 at the end, HLF_EPROTO on malformed input. */
int hlf__pbr_next(hlf__pbr_t *r, hlf__pbfield_t *f);

/* ------------------------------------------------------------------------ */
/* Connection: the shim protocol on one stream (conn.c)                     */
/* ------------------------------------------------------------------------ */

typedef struct hlf__conn_s hlf__conn_t;

/*
 * What a transport provides. send: queue bytes (takes them; malloc'd) for
 * the peer, called with conn->mu held, never blocks. spawn: run
 * hlf__tx_run(stub) somewhere (a worker thread), called without conn->mu.
 * destroy: the connection's last reference is gone; free the transport.
 */
typedef struct {
    void (*send)(hlf__conn_t *conn, uint8_t *bytes, size_t len);
    void (*spawn)(hlf__conn_t *conn, hlf_stub_t *stub);
    void (*destroy)(hlf__conn_t *conn);
} hlf__conn_ops_t;

typedef enum {
    HLF__CONN_CREATED = 0,   /* REGISTER sent, waiting for REGISTERED */
    HLF__CONN_ESTABLISHED,   /* REGISTERED received, waiting for READY */
    HLF__CONN_READY          /* transactions may run */
} hlf__conn_state_t;

struct hlf__conn_s {
    pthread_mutex_t mu;
    hlf__conn_state_t state;
    int closed;               /* the stream is gone: requests fail */
    int refs;                 /* transport + one per live transaction */
    const hlf_chaincode_t *cc;
    const char *chaincode_id; /* borrowed from the server */
    const char *msp_id;       /* borrowed; may be NULL */
    char peer[64];            /* peer address for log lines */
    hlf_stub_t *txs;          /* live transactions (linked via stub->next) */
    const hlf__conn_ops_t *ops;
    void *transport;
};

/*
 * Prepare conn (refs = 1, owned by the transport). HLF_ENOMEM if the
 * mutex cannot be created. Nothing is sent yet.
 */
int hlf__conn_init(hlf__conn_t *conn, const hlf__conn_ops_t *ops,
                   void *transport, const hlf_chaincode_t *cc,
                   const char *chaincode_id, const char *msp_id,
                   const char *peer);

/* Send REGISTER: the chaincode speaks first on every stream. */
void hlf__conn_register(hlf__conn_t *conn);

/*
 * Handle one message received from the peer (bytes borrowed). Never fails:
 * malformed or unexpected input is logged and answered with ERROR.
 * Called by the transport's receive path, one message at a time.
 */
void hlf__conn_dispatch(hlf__conn_t *conn, const uint8_t *bytes,
                        size_t len);

/*
 * The stream ended: wake every transaction waiting for an answer (they get
 * HLF_ECLOSED) and drop everything sent from now on. Idempotent.
 */
void hlf__conn_close(hlf__conn_t *conn);

/* Drop a reference; the last one calls ops->destroy. */
void hlf__conn_unref(hlf__conn_t *conn);

/* Run a spawned transaction to completion (worker thread). Takes stub. */
void hlf__tx_run(hlf_stub_t *stub);

/*
 * Send request `type` with payload for stub's transaction and wait for the
 * answer. On HLF_OK *reply is the RESPONSE (new: free with
 * protos__chaincode_message__free_unpacked). A peer ERROR gives HLF_EIO with
 * its text in stub->last_err.
 */
int hlf__tx_request(hlf_stub_t *stub, Protos__ChaincodeMessage__Type type,
                    const uint8_t *payload, size_t len,
                    Protos__ChaincodeMessage **reply);

/* ------------------------------------------------------------------------ */
/* Stub (stub.c, iter.c, cid.c)                                             */
/* ------------------------------------------------------------------------ */

typedef struct hlf__cid_s hlf__cid_t;

struct hlf_stub_s {
    hlf__conn_t *conn;
    hlf_stub_t *next;                 /* in conn->txs */
    hlf_stub_t *job_next;             /* in the transport's run queue */
    Protos__ChaincodeMessage *msg;    /* the INIT/TRANSACTION; owned */
    int is_init;
    Protos__ChaincodeInput *input;    /* owned */
    const uint8_t **argv;             /* arena */
    size_t *lens;                     /* arena */
    size_t argc;
    Protos__Proposal *proposal;       /* owned; NULL without proposal */
    Common__Header *header;           /* owned */
    Common__ChannelHeader *chdr;      /* owned */
    Common__SignatureHeader *shdr;    /* owned */
    Protos__ChaincodeProposalPayload *ccpp; /* owned; may be NULL */
    hlf__arena_t arena;
    hlf_error_t last_err;

    /* Request rendezvous, guarded by conn->mu. */
    pthread_cond_t cond;
    int waiting;
    Protos__ChaincodeMessage *reply;

    /* The chaincode event (owned) and open iterators. */
    char *event_name;
    uint8_t *event_payload;
    size_t event_len;
    hlf_iter_t *iters;

    hlf__cid_t *cid;                  /* parsed creator, lazily */
    int cid_failed;
    uint8_t binding[32];
    int have_binding;
};

/*
 * Build a stub from a received INIT/TRANSACTION (takes msg on HLF_OK).
 * HLF_EPROTO with a reason in err when the payload or proposal is
 * malformed.
 */
int hlf__stub_new(hlf_stub_t **stub, hlf__conn_t *conn,
                  Protos__ChaincodeMessage *msg, hlf_error_t *err);

/* Free a stub and everything it owns (open iterators included). */
void hlf__stub_free(hlf_stub_t *stub);

/* Set stub->last_err and return code. */
int hlf__stub_fail(hlf_stub_t *stub, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Free all iterators still open on stub (iter.c). */
void hlf__iters_free_all(hlf_stub_t *stub);

/*
 * Start a query: send `type` with payload, decode the QueryResponse into a
 * new iterator of kind `history` (0/1), linked to stub (iter.c).
 * meta (may be NULL) receives pagination metadata.
 */
int hlf__iter_start(hlf_stub_t *stub, Protos__ChaincodeMessage__Type type,
                    const uint8_t *payload, size_t len, int history,
                    hlf_iter_t **it, hlf_query_meta_t *meta);

/* Free the parsed creator (cid.c). */
void hlf__cid_free(hlf__cid_t *cid);

/* ------------------------------------------------------------------------ */
/* Fuzzing entry point (fuzz.c)                                             */
/* ------------------------------------------------------------------------ */

/*
 * Feed one peer->chaincode message to a fresh in-memory connection. The
 * first byte selects the handshake state to start in (created, established
 * or ready); the rest is the ChaincodeMessage bytes. Transactions run
 * inline with a chaincode that reads its arguments and context but sends no
 * requests. Everything is freed before returning. Always returns 0.
 */
int hlf__shim_fuzz_message(const uint8_t *data, size_t size);

#endif /* HLF_SHIM_INTERNAL_H */
