/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes and the error detail record shared by every libhlf module.
 *
 * Every fallible libhlf function returns int: HLF_OK (0) on success or a
 * negative HLF_E* code. Detail goes into an optional caller-provided
 * hlf_error_t; library code fills it and never logs. Codes are append-only:
 * a retired code keeps its number.
 */
#ifndef HLF_ERR_H
#define HLF_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, number, text) */
#define HLF_ERRNO_MAP(XX)                                                    \
    XX(ENOMEM, -1, "out of memory")                                          \
    XX(EINVAL, -2, "invalid argument")                                       \
    XX(EIO, -3, "input/output error")                                        \
    XX(EPROTO, -4, "malformed protocol message")                             \
    XX(ECRYPTO, -5, "cryptographic operation failed")                        \
    XX(ENOTFOUND, -6, "not found")                                           \
    XX(ETIMEDOUT, -7, "timed out")                                           \
    XX(EUNAVAIL, -8, "service unavailable")                                  \
    XX(EENDORSE, -9, "endorsement failed")                                   \
    XX(ESUBMIT, -10, "submit to ordering service failed")                    \
    XX(ECOMMIT, -11, "transaction committed invalid")                        \
    XX(ECOMMITSTATUS, -12, "commit status unavailable")                      \
    XX(EGRPC, -13, "gRPC call failed")                                       \
    XX(ECLOSED, -14, "connection or stream closed")                          \
    XX(EAGAIN, -15, "try again")                                             \
    XX(EEXIST, -16, "already exists")                                        \
    XX(EPERM, -17, "permission denied")                                      \
    XX(ETOOBIG, -18, "value too large")                                      \
    XX(ECHAINCODE, -19, "chaincode returned an error")                       \
    XX(EEVALUATE, -20, "evaluate failed")                                    \
    XX(ECONFIG, -21, "configuration error")

typedef enum {
    HLF_OK = 0,
#define HLF__ERR_ENUM(name, num, text) HLF_##name = (num),
    HLF_ERRNO_MAP(HLF__ERR_ENUM)
#undef HLF__ERR_ENUM
} hlf_errno_t;

/*
 * Detail about a failure. text is one line, NUL-terminated. For Fabric calls
 * grpc_status is the gRPC status code (0 when not a gRPC failure),
 * chaincode_status the chaincode Response status (0 when none), tx_id the
 * transaction and tx_validation_code the commit verdict (-1 when unknown).
 *
 * Fabric Gateway failures: text is "<gRPC code name>: <status message>" and,
 * when the peer attached gateway.ErrorDetail entries, " [<mspid>@<address>:
 * <detail message>; ...]" (see docs/api/client.md).
 *
 * chaincode_message: when the chaincode itself rejected the transaction
 * (Response status >= 400, reported by the gateway as "chaincode response
 * <status>, <message>"), chaincode_status holds that status and
 * chaincode_message the chaincode's message verbatim (for reso-chaincode a
 * JSON object {"error":{"code":..,"field":..,"message":..}}); otherwise it
 * is empty. Messages longer than the array are truncated.
 *
 * block_number: the block that committed tx_id, set by hlf_contract_submit
 * and hlf_commit_status once the commit status is known (0 otherwise).
 * Library calls that succeed may still fill tx_id and block_number.
 */
typedef struct hlf_error_s {
    int code;
    int grpc_status;
    int chaincode_status;
    int tx_validation_code;
    char tx_id[65];
    char text[1024];
    uint64_t block_number;
    char chaincode_message[1024];
} hlf_error_t;

/* Short name of a code ("EINVAL"), "UNKNOWN" for an unknown code. */
const char *hlf_err_name(int code);

/* Human text of a code ("invalid argument"). */
const char *hlf_strerror(int code);

/*
 * Name of a gRPC status code as grpc-go prints it ("Unavailable",
 * "DeadlineExceeded"); "UnknownCode" for a value outside 0..16.
 */
const char *hlf_grpc_code_name(int grpc_status);

/*
 * Reset err (if not NULL) to "no error": code HLF_OK, empty texts, zero
 * statuses and block number, tx_validation_code -1.
 */
void hlf_error_clear(hlf_error_t *err);

/*
 * Fill err (if not NULL) with code and a printf-style message; CR and LF
 * in the result are replaced by spaces so it stays one log line.
 * Returns code, so callers can write `return hlf_error_set(err, ...);`.
 */
int hlf_error_set(hlf_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like hlf_error_set but prefixes the existing text with a context phrase. */
int hlf_error_prefix(hlf_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif /* HLF_ERR_H */
