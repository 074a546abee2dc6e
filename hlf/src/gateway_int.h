/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: the layout of the gateway objects, shared by gateway.c and
 * events.c, and the helpers both use.
 */
#ifndef HLF_GATEWAY_INT_H
#define HLF_GATEWAY_INT_H

#include "hlf/gateway.h"
#include "hlf/txid.h"
#include "proposal.h"

#include <pthread.h>
#include <protobuf-c/protobuf-c.h>

struct hlf_gateway_s {
    hlf_conn_t *conn;    /* borrowed */
    hlf_identity_t *id;  /* own reference */
    int64_t evaluate_ms;
    int64_t endorse_ms;
    int64_t submit_ms;
    int64_t commit_status_ms;
    /* Guards the network list and every network's contract list. */
    pthread_mutex_t lock;
    hlf_network_t *networks;
};

struct hlf_network_s {
    hlf_gateway_t *gw;
    char *name;
    hlf_contract_t *contracts;
    hlf_network_t *next;
};

struct hlf_contract_s {
    hlf_network_t *net;
    char *chaincode;
    char *name; /* NULL for the default contract */
    hlf_contract_t *next;
};

/*
 * Reset err for a new operation on tx_id (may be NULL): code HLF_OK,
 * tx_validation_code -1, tx_id copied so every later failure carries it.
 */
void hlf__op_begin(hlf_error_t *err, const char *tx_id);

/*
 * Serialize msg, sign those bytes with id and pack {request=1: bytes,
 * signature=2: DER signature} into *out (new, *len bytes). That is the wire
 * form of both SignedCommitStatusRequest and SignedChaincodeEventsRequest.
 * HLF_OK, HLF_ENOMEM or HLF_ECRYPTO (err filled).
 */
int hlf__sign_request(const hlf_identity_t *id, const ProtobufCMessage *msg,
                      uint8_t **out, size_t *len, hlf_error_t *err);

#endif /* HLF_GATEWAY_INT_H */
