/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for what libhlf parses from a peer's Gateway: the
 * prepared transaction of an EndorseResponse (down to the chaincode
 * Response inside it) and the google.rpc.Status details of a failed call,
 * including the chaincode-error text scan. The first input byte picks the
 * parser; the rest is the peer's bytes. Must never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway_int.h"
#include "hlf/err.h"
#include "hlf/mem.h"
#include "proposal.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hlf_error_t err;
    hlf_bytes_t result = {0};

    if (size < 1)
        return 0;
    hlf_error_clear(&err);
    switch (data[0] % 3) {
    case 0:
        hlf__prepared_result(data + 1, size - 1, "txid", &result, &err);
        hlf_bytes_free(&result);
        break;
    case 1:
        /* Message as text, details as the status-details trailer. */
        hlf__status_to_error(data[0] >> 2, (const char *)data + 1,
                             (size - 1) / 2, data + 1 + (size - 1) / 2,
                             size - 1 - (size - 1) / 2, &err);
        break;
    default:
        hlf__status_to_error(2, (const char *)data + 1, size - 1, NULL, 0,
                             &err);
        break;
    }
    /* The error text must stay one NUL-terminated line. */
    if (memchr(err.text, '\0', sizeof(err.text)) == NULL ||
        strchr(err.text, '\n') != NULL)
        __builtin_trap();
    return 0;
}
