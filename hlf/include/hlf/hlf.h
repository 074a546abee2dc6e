/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libhlf umbrella header: everything a Fabric client needs. See
 * docs/api/client.md for the guided tour; each header documents ownership
 * and thread safety per function.
 *
 *   hlf/err.h       error codes, hlf_error_t
 *   hlf/log.h       hlf_log
 *   hlf/mem.h       allocator hooks, hlf_bytes_t
 *   hlf/crypto.h    SHA-256, hex, randomness, low-S helpers
 *   hlf/identity.h  MSP identities and signing
 *   hlf/txid.h      transaction ids
 *   hlf/conn.h      connections to a peer (grpc-core, TLS)
 *   hlf/gateway.h   gateway, network, contract, proposal, transaction, commit
 *   hlf/events.h    chaincode event streams
 *   hlf/block.h     parsed blocks (hlf_block_parse)
 *   hlf/deliver.h   block streams from a peer's Deliver service
 */
#ifndef HLF_HLF_H
#define HLF_HLF_H

#include "hlf/block.h"
#include "hlf/conn.h"
#include "hlf/crypto.h"
#include "hlf/deliver.h"
#include "hlf/err.h"
#include "hlf/events.h"
#include "hlf/gateway.h"
#include "hlf/identity.h"
#include "hlf/log.h"
#include "hlf/mem.h"
#include "hlf/txid.h"

#endif /* HLF_HLF_H */
