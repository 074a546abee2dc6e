/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: building signed proposals and reading prepared transactions.
 * Pure protobuf-c plus hlf_identity_sign; no I/O.
 */
#ifndef HLF_PROPOSAL_H
#define HLF_PROPOSAL_H

#include "hlf/gateway.h"
#include "hlf/txid.h"

/* What goes into a proposal; every pointer is borrowed. */
typedef struct {
    const char *channel;
    const char *chaincode;
    /* Transaction name as sent: "fn" or "contract:fn". */
    const char *fn;
    const hlf_bytes_t *args;
    size_t nargs;
    const hlf_transient_t *transient;
    size_t ntransient;
    /* Required here; callers draw random bytes when the user gave none. */
    const uint8_t *nonce;
    size_t nonce_len;
    int64_t ts_sec;
    int32_t ts_nanos;
} hlf__proposal_in_t;

/* A signed proposal: Proposal bytes and signature (both new). */
typedef struct {
    char tx_id[HLF_TXID_LEN + 1];
    uint8_t *proposal;
    size_t proposal_len;
    uint8_t *signature;
    size_t signature_len;
} hlf__signed_proposal_t;

/*
 * Build the protos.Proposal for in (ChannelHeader type 3 ENDORSER_
 * TRANSACTION, version 0, epoch 0, ChaincodeHeaderExtension, SignatureHeader
 * {creator, nonce}, ChaincodeProposalPayload{ChaincodeInvocationSpec{fn,
 * args}, TransientMap}) and sign it with id. out is filled on success and
 * must be released with hlf__signed_proposal_clear (also safe after a
 * failure). HLF_EINVAL, HLF_ENOMEM, HLF_ECRYPTO.
 */
int hlf__proposal_build(const hlf_identity_t *id,
                        const hlf__proposal_in_t *in,
                        hlf__signed_proposal_t *out, hlf_error_t *err);

void hlf__signed_proposal_clear(hlf__signed_proposal_t *sp);

/*
 * From the payload of a prepared transaction Envelope (as returned by
 * Endorse): check that its channel header names tx_id and copy the
 * chaincode result (ChaincodeAction.response.payload of the first action)
 * into *result (new). HLF_EPROTO with a precise text if anything is
 * missing or malformed, HLF_ENOMEM.
 */
int hlf__prepared_result(const uint8_t *payload, size_t len,
                         const char *tx_id, hlf_bytes_t *result,
                         hlf_error_t *err);

#endif /* HLF_PROPOSAL_H */
