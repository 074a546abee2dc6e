/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builders for the Fabric messages a peer's Gateway sends back (prepared
 * transactions, google.rpc.Status with gateway.ErrorDetail) and a fake
 * Gateway service on top of fake_server that checks every request the way
 * a peer would (tx id, channel, signatures, creator) before answering.
 */
#ifndef HLF_FAKE_GATEWAY_H
#define HLF_FAKE_GATEWAY_H

#include "fake_server.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* One gateway.ErrorDetail. */
typedef struct {
    const char *msp_id;
    const char *address;
    const char *message;
} fg_detail_t;

/*
 * Serialized google.rpc.Status{code, message, details}: each detail as
 * Any{type.googleapis.com/gateway.ErrorDetail}, plus one foreign Any
 * (google.rpc.DebugInfo) when with_foreign is set. malloc'd.
 */
uint8_t *fg_status(int code, const char *message, const fg_detail_t *d,
                   size_t n, int with_foreign, size_t *len);

/*
 * Serialized common.Payload of a prepared transaction as the gateway
 * builds it, whose chaincode action response carries result. malloc'd.
 */
uint8_t *fg_prepared_payload(const char *channel, const char *tx_id,
                             const uint8_t *result, size_t result_len,
                             size_t *len);

/* What the fake Gateway does. Fields set by the test before calls. */
typedef struct {
    EVP_PKEY *signer;        /* public key every signature must verify with */
    const uint8_t *creator;  /* expected creator bytes */
    size_t creator_len;
    const char *channel;     /* expected channel */
    const char *result;      /* chaincode result to return */
    int evaluate_status;     /* gRPC status for Evaluate (0 = OK) */
    int endorse_status;      /* gRPC status for Endorse */
    int submit_status;       /* gRPC status for Submit */
    int commit_status;       /* gRPC status for CommitStatus */
    int validation_code;     /* CommitStatus result */
    uint64_t block;          /* CommitStatus block number */
    const char *message;     /* status message of a failing step */
    const fg_detail_t *details; /* its ErrorDetails */
    size_t ndetails;
    int endorse_wrong_tx;    /* prepared transaction for another tx id */
    int endorse_empty;       /* EndorseResponse without a transaction */
    /* ChaincodeEvents: blocks[i] events, hold the stream open after. */
    int events_status;
    int events_hold;
    size_t nblocks;
    /* Filled by the fake (guarded by lock). */
    pthread_mutex_t lock;
    int bad_requests;        /* requests that failed a check */
    char last_bad[256];
    char last_tx_id[65];
    char last_fn[128];       /* args[0] of the last proposal */
    size_t last_nargs;
    char last_args[4][128];
    size_t last_norgs;
    char last_orgs[4][64];
    uint64_t events_start;   /* start block of the last events request */
    int events_start_set;
    char events_after[65];
    char events_chaincode[64];
} fake_gateway_t;

void fake_gateway_init(fake_gateway_t *g);
void fake_gateway_destroy(fake_gateway_t *g);

/* fake_server handler: pass the fake_gateway_t as ud. */
void fake_gateway_handler(void *ud, const char *method, const uint8_t *req,
                          size_t len, fake_reply_t *r);

#endif /* HLF_FAKE_GATEWAY_H */
