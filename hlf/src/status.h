/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: turning a failed gRPC call (code, message and the
 * google.rpc.Status from trailing metadata grpc-status-details-bin) into an
 * hlf_error_t. Pure protobuf, no grpc-core, so it is unit-tested from
 * hand-built bytes.
 */
#ifndef HLF_STATUS_H
#define HLF_STATUS_H

#include "hlf/err.h"

#include <stddef.h>
#include <stdint.h>

/* gRPC status codes used by libhlf (values fixed by the gRPC spec). */
enum {
    HLF__GRPC_OK = 0,
    HLF__GRPC_CANCELLED = 1,
    HLF__GRPC_UNKNOWN = 2,
    HLF__GRPC_DEADLINE_EXCEEDED = 4,
    HLF__GRPC_ABORTED = 10,
    HLF__GRPC_UNAVAILABLE = 14
};

/*
 * Fill err from a non-OK status. message (msg_len bytes, need not be
 * NUL-terminated) is the grpc-message; details (may be NULL) the raw
 * google.rpc.Status bytes. err->text becomes
 *   "<code name>: <message>[ [<mspid>@<address>: <detail>; ...]]"
 * and, when a "chaincode response <n>, <message>" is found in the message
 * or in an ErrorDetail, err->chaincode_status/chaincode_message are set.
 * Undecodable details are ignored (the message alone is still reported).
 * Returns and stores in err->code: HLF_EUNAVAIL for Unavailable,
 * HLF_ETIMEDOUT for DeadlineExceeded, HLF_ECLOSED for Cancelled, otherwise
 * HLF_EGRPC.
 */
int hlf__status_to_error(int grpc_status, const char *message,
                         size_t msg_len, const uint8_t *details,
                         size_t details_len, hlf_error_t *err);

/*
 * Re-label a failure of a Gateway step: chaincode rejections become
 * HLF_ECHAINCODE, HLF_EGRPC becomes phase_code (HLF_EEVALUATE,
 * HLF_EENDORSE, HLF_ESUBMIT, HLF_ECOMMITSTATUS); HLF_EUNAVAIL,
 * HLF_ETIMEDOUT and non-gRPC codes are kept. Returns the new code (also
 * stored in err->code when err is not NULL).
 */
int hlf__status_phase(int rc, int phase_code, hlf_error_t *err);

#endif /* HLF_STATUS_H */
