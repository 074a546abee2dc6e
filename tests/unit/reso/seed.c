/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seed.h: registering Recorders for contract-level tests through the
 * contract's own RegisterRecorder, so the registry entry is whatever the
 * chaincode writes and a test never depends on its key layout.
 */
#include "seed.h"

#include "evl_contract.h"
#include "fake_cid.h"
#include "task.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

void
seed_recorder(fake_ledger_t *l, const char *msp, const char *recorder)
{
    static unsigned n;
    fake_result_t res = {0};
    const char *args[2];
    json_t *obj = json_pack("{s:s}", "Recorder", recorder);
    char txid[32], *doc = obj != NULL ? json_dumps(obj, 0) : NULL;

    json_decref(obj);
    if (doc == NULL)
        TEST__FAIL("out of memory");
    snprintf(txid, sizeof(txid), "seed-recorder-%u", ++n);
    args[0] = "RegisterRecorder";
    args[1] = doc;
    fake_cid_set(msp, "admin", NULL, NULL);
    fake_invoke(l, txid, 1528031045, 0, 1, args, NULL, 2, evl_invoke, NULL,
                &res);
    fake_cid_reset();
    free(doc);
    if (res.status != 200)
        TEST__FAIL("RegisterRecorder %s for %s: %d %s", recorder, msp,
                   res.status, res.message);
    fake_result_dispose(&res);
}
