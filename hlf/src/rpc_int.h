/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the layout of hlf_conn_t, shared by the rpc_*.c files only. */
#ifndef HLF_RPC_INT_H
#define HLF_RPC_INT_H

#include "hlf/conn.h"
#include "rpc.h"

#include <grpc/grpc.h>

struct hlf_conn_s {
    grpc_channel *channel;
    char *target;
};

#endif /* HLF_RPC_INT_H */
