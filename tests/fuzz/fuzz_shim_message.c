/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the chaincode shim's message handling: the first
 * byte picks the handshake state (created, established, ready), the rest is
 * fed to the shim as one ChaincodeMessage received from the peer. That
 * covers ChaincodeMessage decoding, the state machine, transaction set-up
 * (ChaincodeInput, SignedProposal, Proposal, Header, ChannelHeader,
 * SignatureHeader, transient map, the creator's SerializedIdentity and
 * X.509 certificate with its attribute extension), composite-key
 * creation/splitting from the arguments and reply routing. Any crash,
 * leak or sanitizer report is a finding; malformed input must only ever
 * produce an ERROR message.
 */
#include <stddef.h>
#include <stdint.h>

#include <hlf/log.h>

/* Internal entry point of libhlf_shim (chaincode/shim/src/fuzz.c). */
int hlf__shim_fuzz_message(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;

    /* Every malformed input is logged as a warning; keep the run fast. */
    if (!quiet) {
        hlf_log_set_level(HLF_LOG_ERROR);
        quiet = 1;
    }
    return hlf__shim_fuzz_message(data, size);
}
