/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State keys of the event ledger. Events live under the composite key
 * EV/<TransactionId>; the subject index under
 * subj/<EventSubject>/<ts>/<TransactionId>, where ts is fixed-width
 * decimal so that the peer's byte-wise key order is chronological order
 * and a partial-key range over subj/<EventSubject> plays a subject's
 * history back in time order (reso-model.md §6 rule 5, §11).
 */
#include "evl.h"

#include "hlf/err.h"

#include <inttypes.h>
#include <stdio.h>

int
evl_key_ts(int64_t secs, int32_t nanos, char out[EVL_TS_LEN + 1])
{
    if (secs < 0 || nanos < 0 || nanos > 999999999)
        return HLF_EINVAL;
    snprintf(out, EVL_TS_LEN + 1, "%020" PRId64 "%09" PRId32, secs, nanos);
    return HLF_OK;
}
