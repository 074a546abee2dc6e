/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: the grpc-core transport under hlf_conn_t. Only rpc_*.c include
 * grpc headers; the rest of libhlf calls these functions with serialized
 * protobuf bytes.
 */
#ifndef HLF_RPC_H
#define HLF_RPC_H

#include "hlf/conn.h"
#include "hlf/err.h"

#include <stddef.h>
#include <stdint.h>

/* Gateway service method paths (package gateway, service Gateway). */
#define HLF__GW_EVALUATE "/gateway.Gateway/Evaluate"
#define HLF__GW_ENDORSE "/gateway.Gateway/Endorse"
#define HLF__GW_SUBMIT "/gateway.Gateway/Submit"
#define HLF__GW_COMMIT_STATUS "/gateway.Gateway/CommitStatus"
#define HLF__GW_CHAINCODE_EVENTS "/gateway.Gateway/ChaincodeEvents"

/*
 * One blocking unary call: send req[0..len), wait at most timeout_ms for
 * the reply, put it in a new hlf_malloc'd buffer *resp (*resp_len bytes;
 * never NULL on success). A non-OK status goes through
 * hlf__status_to_error (HLF_EUNAVAIL, HLF_ETIMEDOUT, HLF_ECLOSED or
 * HLF_EGRPC). HLF_EPROTO if the server sent no message with status OK.
 * Safe to call from many threads on one connection.
 */
int hlf__rpc_unary(hlf_conn_t *c, const char *method, const uint8_t *req,
                   size_t len, int64_t timeout_ms, uint8_t **resp,
                   size_t *resp_len, hlf_error_t *err);

/* A server-streaming call (a handle: lives until hlf__rpc_stream_close). */
typedef struct hlf__stream_s hlf__stream_t;

/*
 * Start a server-streaming call with one request message and no deadline.
 * Failures of the call itself (unreachable server, ACL) are reported by the
 * first hlf__rpc_stream_next. HLF_OK, HLF_ENOMEM or HLF_EGRPC.
 */
int hlf__rpc_stream_open(hlf_conn_t *c, const char *method,
                         const uint8_t *req, size_t len, hlf__stream_t **out,
                         hlf_error_t *err);

/*
 * Block for the next message: 1 and a new buffer (*msg, *len) when one
 * arrived, 0 when the server ended the stream with status OK, HLF_ECLOSED
 * after hlf__rpc_stream_cancel, or the error of a non-OK status. After 0 or
 * an error every further call returns the same result. One thread at a
 * time.
 */
int hlf__rpc_stream_next(hlf__stream_t *s, uint8_t **msg, size_t *len,
                         hlf_error_t *err);

/* Cancel the call; a blocked next() returns HLF_ECLOSED. Any thread. */
void hlf__rpc_stream_cancel(hlf__stream_t *s);

/* Cancel if still running, wait for grpc-core to let go, free. */
void hlf__rpc_stream_close(hlf__stream_t *s);

#endif /* HLF_RPC_H */
