/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ledger set-up shared by the contract-level tests: Recorder binding is
 * strict by default (reso-model.md §13), so a test that records events
 * first registers the Recorders it uses, through the contract itself
 * (RegisterRecorder as the org's admin), exactly as an org would.
 * Test-only code.
 *
 * THREAD SAFETY: none; one test process, one thread.
 */
#ifndef RESO_SEED_H
#define RESO_SEED_H

#include "fake_stub.h"

/*
 * Register recorder to msp (e.g. "BrokerageMSP", the fake creator's
 * default org) in l, as one committed transaction by that org's admin;
 * fails the test unless the contract answers 200. Adds one ledger entry.
 * The creator is the default identity again afterwards.
 */
void seed_recorder(fake_ledger_t *l, const char *msp, const char *recorder);

#endif /* RESO_SEED_H */
