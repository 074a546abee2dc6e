/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Fabric Gateway client, shaped like the official fabric-gateway SDKs:
 *
 *   hlf_gateway_connect(identity, connection)          -> hlf_gateway_t
 *     hlf_gateway_get_network("reso-events")           -> hlf_network_t
 *       hlf_network_get_contract("reso", NULL)         -> hlf_contract_t
 *         hlf_contract_evaluate / hlf_contract_submit     (one call each)
 *         hlf_contract_new_proposal -> hlf_proposal_endorse
 *           -> hlf_transaction_submit -> hlf_commit_status  (step by step)
 *
 * All calls block the calling thread until the peer answers or the
 * gateway's per-step timeout expires. Failures return a negative code and
 * fill the optional hlf_error_t (see hlf/err.h for the text format and the
 * chaincode_status / chaincode_message fields):
 *
 *   HLF_EUNAVAIL     gRPC Unavailable (peer down, no peers or orderers
 *                    available); usually worth retrying
 *   HLF_ETIMEDOUT    gRPC DeadlineExceeded (our deadline or the gateway's)
 *   HLF_ECHAINCODE   the chaincode rejected the transaction (Response
 *                    status >= 400): chaincode_status and chaincode_message
 *                    hold its status and message verbatim; do not retry
 *   HLF_EEVALUATE    other Evaluate failures
 *   HLF_EENDORSE     other Endorse failures (policy, ACL, signature, ...)
 *   HLF_ESUBMIT      Submit failures (orderer rejected or unreachable)
 *   HLF_ECOMMITSTATUS  CommitStatus failures (status unknown, not invalid)
 *   HLF_ECOMMIT      committed but invalid: tx_validation_code is set
 *   HLF_EPROTO       the peer's reply could not be decoded
 *   HLF_EINVAL, HLF_ENOMEM, HLF_ECRYPTO
 * For every failure after the proposal was built, err->tx_id holds the
 * transaction id.
 *
 * THREAD SAFETY: gateways, networks and contracts may be shared by any
 * number of threads and all their functions may be called concurrently.
 * A proposal, transaction or commit object belongs to one thread at a time.
 */
#ifndef HLF_GATEWAY_H
#define HLF_GATEWAY_H

#include "hlf/conn.h"
#include "hlf/err.h"
#include "hlf/identity.h"
#include "hlf/mem.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hlf_gateway_s hlf_gateway_t;
typedef struct hlf_network_s hlf_network_t;
typedef struct hlf_contract_s hlf_contract_t;
typedef struct hlf_proposal_s hlf_proposal_t;
typedef struct hlf_transaction_s hlf_transaction_t;
typedef struct hlf_commit_s hlf_commit_t;

/* Per-step timeouts used when hlf_gateway_opts_t leaves them 0. */
#define HLF_DEFAULT_EVALUATE_TIMEOUT_MS 30000
#define HLF_DEFAULT_ENDORSE_TIMEOUT_MS 30000
#define HLF_DEFAULT_SUBMIT_TIMEOUT_MS 30000
#define HLF_DEFAULT_COMMIT_STATUS_TIMEOUT_MS 60000

typedef struct hlf_gateway_opts_s {
    /* Borrowed: must stay open until hlf_gateway_close. Required. */
    hlf_conn_t *conn;
    /* The signer; the gateway takes its own reference. Required. */
    hlf_identity_t *identity;
    /* Deadline of each gRPC call in milliseconds; 0 = default. */
    int64_t evaluate_timeout_ms;
    int64_t endorse_timeout_ms;
    int64_t submit_timeout_ms;
    int64_t commit_status_timeout_ms;
} hlf_gateway_opts_t;

/*
 * Create a gateway handle (no network I/O). *gw is new; release it with
 * hlf_gateway_close. HLF_EINVAL (missing conn/identity, negative timeout)
 * or HLF_ENOMEM.
 */
int hlf_gateway_connect(hlf_gateway_t **gw, const hlf_gateway_opts_t *o,
                        hlf_error_t *err);

/*
 * Free the gateway with its networks and contracts, and drop its identity
 * reference. The connection is not closed. Every proposal, transaction,
 * commit and event stream made from it must be freed first. NULL is a
 * no-op.
 */
void hlf_gateway_close(hlf_gateway_t *gw);

/* The gateway's identity (borrowed). */
hlf_identity_t *hlf_gateway_identity(const hlf_gateway_t *gw);

/*
 * The network (channel) named channel, created on first use and cached:
 * borrowed, lives as long as the gateway. NULL if channel is NULL/empty or
 * memory runs out.
 */
hlf_network_t *hlf_gateway_get_network(hlf_gateway_t *gw,
                                       const char *channel);

/* The channel name (borrowed). */
const char *hlf_network_name(const hlf_network_t *net);

/*
 * The contract of chaincode on this channel. contract_name selects a named
 * contract inside the chaincode (transaction names become "name:fn"); NULL
 * for the default contract. Cached and borrowed like networks. NULL if
 * chaincode is NULL/empty or memory runs out.
 */
hlf_contract_t *hlf_network_get_contract(hlf_network_t *net,
                                         const char *chaincode,
                                         const char *contract_name);

/* The chaincode name (borrowed). */
const char *hlf_contract_chaincode(const hlf_contract_t *c);

/*
 * Run transaction fn(args[0..nargs)) as a query on one peer (Evaluate):
 * nothing is ordered or committed. args are borrowed (nargs may be 0 with
 * args NULL). On success *result is new (hlf_bytes_free; NUL-terminated
 * for convenience) and err, if given, carries the tx_id used.
 */
int hlf_contract_evaluate(hlf_contract_t *c, const char *fn,
                          const hlf_bytes_t *args, size_t nargs,
                          hlf_bytes_t *result, hlf_error_t *err);

/*
 * Endorse, submit and wait for the commit of fn(args...): the whole
 * transaction in one call. On success *result is the chaincode's result
 * (new, as for hlf_contract_evaluate) and err, if given, has code HLF_OK,
 * tx_id, block_number and tx_validation_code 0. On failure err->tx_id
 * tells which transaction failed; HLF_ECOMMIT also sets block_number and
 * tx_validation_code. result may be NULL when the caller does not need it.
 */
int hlf_contract_submit(hlf_contract_t *c, const char *fn,
                        const hlf_bytes_t *args, size_t nargs,
                        hlf_bytes_t *result, hlf_error_t *err);

/* A transient-map entry: private input the chaincode sees but the ledger
 * does not. Borrowed. */
typedef struct hlf_transient_s {
    const char *key;
    hlf_bytes_t value;
} hlf_transient_t;

typedef struct hlf_proposal_opts_s {
    /* Transient map entries (borrowed); keys must be unique. */
    const hlf_transient_t *transient;
    size_t ntransient;
    /*
     * Endorse: the organisations (MSP ids) that must endorse, overriding
     * the gateway's plan. Evaluate: the organisations whose peers may run
     * the query. Borrowed; 0 for the gateway's choice.
     */
    const char *const *orgs;
    size_t norgs;
    /*
     * For tests and reproducible fixtures only: a fixed nonce (NULL for 24
     * random bytes) and a fixed channel-header timestamp (has_timestamp 0
     * for the current time).
     */
    const uint8_t *nonce;
    size_t nonce_len;
    int has_timestamp;
    int64_t timestamp_sec;
    int32_t timestamp_nanos;
} hlf_proposal_opts_t;

/*
 * Build and sign a proposal for fn(args...) without sending it. opts may be
 * NULL. *out is new (hlf_proposal_free). HLF_EINVAL (empty fn), HLF_ENOMEM,
 * HLF_ECRYPTO.
 */
int hlf_contract_new_proposal(hlf_contract_t *c, const char *fn,
                              const hlf_bytes_t *args, size_t nargs,
                              const hlf_proposal_opts_t *opts,
                              hlf_proposal_t **out, hlf_error_t *err);

/* The proposal's transaction id (borrowed, 64 hex characters). */
const char *hlf_proposal_tx_id(const hlf_proposal_t *p);

/* The serialized protos.Proposal that is signed (borrowed). */
const uint8_t *hlf_proposal_bytes(const hlf_proposal_t *p, size_t *len);

/* The DER low-S signature over it (borrowed). */
const uint8_t *hlf_proposal_signature(const hlf_proposal_t *p, size_t *len);

/* Evaluate the proposal; *result as for hlf_contract_evaluate. */
int hlf_proposal_evaluate(hlf_proposal_t *p, hlf_bytes_t *result,
                          hlf_error_t *err);

/*
 * Collect endorsements through the gateway. On success *tx is new
 * (hlf_transaction_free) and holds the prepared transaction and the
 * chaincode result. The proposal may be freed afterwards.
 */
int hlf_proposal_endorse(hlf_proposal_t *p, hlf_transaction_t **tx,
                         hlf_error_t *err);

/* Free a proposal. NULL is a no-op. */
void hlf_proposal_free(hlf_proposal_t *p);

/* The transaction id (borrowed). */
const char *hlf_transaction_tx_id(const hlf_transaction_t *tx);

/*
 * The chaincode result from the endorsement (borrowed, NUL-terminated,
 * lives as long as tx).
 */
const uint8_t *hlf_transaction_result(const hlf_transaction_t *tx,
                                      size_t *len);

/*
 * Sign the prepared transaction and send it to the ordering service via
 * the gateway. Returns once an orderer accepted it (not committed yet). On
 * success *commit is new (hlf_commit_free); commit may be NULL if the
 * caller will not wait for the commit.
 */
int hlf_transaction_submit(hlf_transaction_t *tx, hlf_commit_t **commit,
                           hlf_error_t *err);

/* Free a transaction. NULL is a no-op. */
void hlf_transaction_free(hlf_transaction_t *tx);

/*
 * A handle to wait for the commit of any transaction id on this network,
 * e.g. one submitted before a restart. *out is new (hlf_commit_free).
 */
int hlf_network_new_commit(hlf_network_t *net, const char *tx_id,
                           hlf_commit_t **out, hlf_error_t *err);

/* The commit's transaction id (borrowed). */
const char *hlf_commit_tx_id(const hlf_commit_t *commit);

/* Outcome of a commit: protos.TxValidationCode and the block number. */
typedef struct hlf_commit_result_s {
    int validation_code;
    uint64_t block_number;
} hlf_commit_result_t;

/*
 * Block until the transaction is committed (or the commit-status timeout
 * expires) and report how. HLF_OK if it is VALID; HLF_ECOMMIT if it was
 * committed invalid (err->tx_validation_code, e.g. 11 MVCC_READ_CONFLICT).
 * In both cases *res (may be NULL) and err->block_number are filled.
 * Otherwise HLF_ECOMMITSTATUS, HLF_EUNAVAIL or HLF_ETIMEDOUT: the outcome
 * is unknown and the call may be repeated.
 */
int hlf_commit_status(hlf_commit_t *commit, hlf_commit_result_t *res,
                      hlf_error_t *err);

/* Free a commit handle. NULL is a no-op. */
void hlf_commit_free(hlf_commit_t *commit);

/*
 * Name of a protos.TxValidationCode ("VALID", "MVCC_READ_CONFLICT", ...);
 * "UNKNOWN" for an unknown value.
 */
const char *hlf_tx_validation_code_name(int code);

#ifdef __cplusplus
}
#endif
#endif /* HLF_GATEWAY_H */
