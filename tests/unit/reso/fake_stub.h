/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-process stub double for contract-level tests of the reso
 * chaincode: it implements the part of hlf/shim.h the contract calls,
 * over an in-memory world state kept in wire-key order (U+0000 as a real
 * 0x00 byte, as the peer sorts it). One fake_invoke() is one transaction:
 * reads see committed state only (the Fabric rule), and the write set is
 * committed only when the response status is 200. Test-only code: it is
 * linked instead of the real shim and never ships.
 *
 * THREAD SAFETY: none; one test process, one thread.
 */
#ifndef RESO_FAKE_STUB_H
#define RESO_FAKE_STUB_H

#include "hlf/shim.h"

typedef struct fake_ledger_s fake_ledger_t;

/* The outcome of one transaction (all fields new; fake_result_dispose). */
typedef struct {
    int32_t status;
    char *message;       /* NUL-terminated, "" when none */
    char *payload;       /* NUL-terminated copy of the payload */
    size_t payload_len;
    char *event_name;    /* NULL when no event was set */
    char *event_payload; /* NUL-terminated */
    size_t event_len;
    size_t writes;       /* put_state calls in the transaction */
} fake_result_t;

fake_ledger_t *fake_ledger_new(void);
void fake_ledger_free(fake_ledger_t *l);

/* Committed entries, in wire-key order: key i (wire form) and value. */
size_t fake_ledger_count(const fake_ledger_t *l);
const char *fake_ledger_key(const fake_ledger_t *l, size_t i, size_t *len);
const char *fake_ledger_value(const fake_ledger_t *l, size_t i, size_t *len);

/*
 * Make the next call of op ("get_state", "put_state", "set_event",
 * "range", "iter_next", "composite_key") fail with rc (and set the last
 * error to text "injected").
 */
void fake_ledger_fail(fake_ledger_t *l, const char *op, int rc);

/*
 * Run invoke(stub, ud) as transaction txid with timestamp secs.nanos
 * (has_ts 0: the transaction carries no timestamp) and arguments
 * args[0..argc) of lens[i] bytes (lens NULL: strlen). Fills res.
 */
void fake_invoke(fake_ledger_t *l, const char *txid, int64_t secs,
                 int32_t nanos, int has_ts, const char *const *args,
                 const size_t *lens, size_t argc,
                 hlf_response_t (*invoke)(hlf_stub_t *, void *), void *ud,
                 fake_result_t *res);

void fake_result_dispose(fake_result_t *res);

#endif /* RESO_FAKE_STUB_H */
