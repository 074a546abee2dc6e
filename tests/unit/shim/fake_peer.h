/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-process fake Fabric peer for the shim tests: a grpc-core client
 * that dials the chaincode server like a real peer does in CCaaS mode,
 * opens /protos.Chaincode/Connect and then drives the shim protocol one
 * message at a time. Every received request (types 8-23) is checked
 * against the peer's rule of one outstanding request per (channel, txid):
 * a second request for a pair before the fake answered the first fails the
 * test. Calls abort the test (via ASSERT) on protocol surprises.
 *
 * THREAD SAFETY: one fake peer per thread.
 */
#ifndef SHIM_FAKE_PEER_H
#define SHIM_FAKE_PEER_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

#include "peer/chaincode_shim.pb-c.h"

#define FP_MAX_OUTSTANDING 64

typedef struct {
    grpc_channel *channel;
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array initial_md;
    grpc_metadata_array trailing_md;
    grpc_status_code status;
    grpc_slice details;
    grpc_byte_buffer *recv_buf;
    int initmd_pending;
    int recv_pending;
    int ended;
    int status_done;
    /* (channel, txid) pairs with a request the fake has not answered. */
    char *outstanding[FP_MAX_OUTSTANDING];
    size_t n_outstanding;
    size_t max_outstanding_seen;
} fake_peer_t;

/* Dial 127.0.0.1:port without TLS and open the Connect stream. */
void fp_connect(fake_peer_t *fp, int port);

/*
 * Dial 127.0.0.1:port with creds (taken) and open the Connect stream
 * without waiting for anything; a failed TLS handshake shows up as the
 * stream ending (fp_recv_raw returns -1).
 */
void fp_connect_creds(fake_peer_t *fp, int port,
                      grpc_channel_credentials *creds);

/* The final status of the call, once the stream has ended. */
grpc_status_code fp_status(fake_peer_t *fp);

/* Expect REGISTER{name}, answer REGISTERED and READY. */
void fp_handshake(fake_peer_t *fp, const char *name);

/* Send raw bytes as one message. */
void fp_send_raw(fake_peer_t *fp, const void *bytes, size_t len);

/* Send a message. */
void fp_send(fake_peer_t *fp, const Protos__ChaincodeMessage *m);

/* Send a message of type with payload for (channel, txid). */
void fp_send_type(fake_peer_t *fp, Protos__ChaincodeMessage__Type type,
                  const char *channel, const char *txid, const void *payload,
                  size_t len);

/*
 * Receive one message as raw bytes (new, free()): 1, 0 on timeout,
 * -1 when the stream ended.
 */
int fp_recv_raw(fake_peer_t *fp, int timeout_ms, uint8_t **bytes,
                size_t *len);

/* Receive and decode one message (new) or NULL on timeout/end. */
Protos__ChaincodeMessage *fp_recv(fake_peer_t *fp, int timeout_ms);

/* Receive a message (5 s timeout) and assert its type. */
Protos__ChaincodeMessage *fp_expect(fake_peer_t *fp,
                                    Protos__ChaincodeMessage__Type type);

/* Answer req with RESPONSE{payload} or ERROR{text}. */
void fp_respond(fake_peer_t *fp, const Protos__ChaincodeMessage *req,
                const void *payload, size_t len);
void fp_respond_error(fake_peer_t *fp, const Protos__ChaincodeMessage *req,
                      const char *text);

/*
 * Start a TRANSACTION with args[0..argc) of lens[i] bytes (lens NULL: the
 * args are C strings). No proposal is attached.
 */
void fp_transaction(fake_peer_t *fp, const char *channel, const char *txid,
                    const char *const *args, const size_t *lens,
                    size_t argc);

/* Close the stream from the client side and free everything. */
void fp_close(fake_peer_t *fp);

/* Wait until the server ends the stream (timeout_ms), then free. */
void fp_wait_end_and_free(fake_peer_t *fp, int timeout_ms);

#endif /* SHIM_FAKE_PEER_H */
