/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-process gRPC server for the libhlf unit tests (grpc-core, on
 * 127.0.0.1 with an OS-chosen port). It serves any method path: each call's
 * request is handed to a test-provided handler that decides the reply:
 * message, status, google.rpc.Status details, a delay, or for streaming
 * calls a list of messages and whether to hold the stream open until the
 * client cancels. Calls are served one at a time on the server's thread.
 */
#ifndef HLF_FAKE_SERVER_H
#define HLF_FAKE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#define FAKE_MAX_STREAM 16

/* What the handler wants sent back; every buffer is malloc'd and freed by
 * the server after sending. */
typedef struct {
    int status;           /* gRPC status code, 0 = OK */
    char *message;        /* status message (may be NULL) */
    uint8_t *details;     /* serialized google.rpc.Status (may be NULL) */
    size_t details_len;
    uint8_t *body;        /* unary reply message (NULL: none) */
    size_t body_len;
    int delay_ms;         /* sleep before replying */
    int streaming;        /* send stream[] as separate messages */
    uint8_t *stream[FAKE_MAX_STREAM];
    size_t stream_len[FAKE_MAX_STREAM];
    size_t nstream;
    int hold_open;        /* streaming: then wait for the client to cancel */
} fake_reply_t;

typedef void (*fake_handler_t)(void *ud, const char *method,
                               const uint8_t *req, size_t len,
                               fake_reply_t *reply);

/* TLS material for the server (PEM text); NULL means plaintext. */
typedef struct {
    const char *cert_pem;
    const char *key_pem;
    const char *client_ca_pem; /* non-NULL: require and verify client certs */
} fake_tls_t;

typedef struct fake_server_s fake_server_t;

fake_server_t *fake_server_start(fake_handler_t h, void *ud,
                                 const fake_tls_t *tls);
int fake_server_port(const fake_server_t *fs);
/* "127.0.0.1:<port>" in a static buffer per server. */
const char *fake_server_target(const fake_server_t *fs);
/* Calls fully handled so far and the method path of call i. */
int fake_server_calls(fake_server_t *fs);
const char *fake_server_method(fake_server_t *fs, int i);
void fake_server_stop(fake_server_t *fs);

/* Copy helper for handlers. */
uint8_t *fake_dup(const void *p, size_t len);

#endif /* HLF_FAKE_SERVER_H */
