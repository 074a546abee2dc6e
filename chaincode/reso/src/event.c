/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stored event: what RecordEvent writes to the ledger, emits as the
 * chaincode event payload and returns. The eight application-supplied
 * values are copied from the validated input as they are (the ledger must
 * not rewrite them, reso-model.md §6 rule 8) and the three ledger-assigned
 * ones are added; keys follow the spec table, so the serialization is
 * canonical: identical input, txid and timestamp give identical bytes on
 * every endorser.
 */
#include "evl.h"

#include <stdlib.h>
#include <string.h>

char *
evl_event_build(const json_t *input, const char *transaction_id,
                const char *timestamp, const char *version)
{
    json_t *ev, *v;
    const char *name;
    char *out = NULL;
    size_t i;
    int rc;

    if (input == NULL || transaction_id == NULL || timestamp == NULL ||
        version == NULL)
        return NULL;
    ev = json_object();
    if (ev == NULL)
        return NULL;
    for (i = 0; i < EVL_FIELD_COUNT; i++) {
        name = evl_fields[i].name;
        if (evl_fields[i].kind == EVL_FIELD_SUPPLIED) {
            /*
             * The value is shared by reference count, never modified,
             * so casting away const is safe.
             */
            v = json_object_get((json_t *)input, name);
            if (!json_is_string(v))
                goto fail;
            rc = json_object_set(ev, name, v);
        } else if (strcmp(name, "TransactionId") == 0) {
            rc = json_object_set_new(ev, name, json_string(transaction_id));
        } else if (strcmp(name, "Timestamp") == 0) {
            rc = json_object_set_new(ev, name, json_string(timestamp));
        } else {
            rc = json_object_set_new(ev, name, json_string(version));
        }
        if (rc != 0)
            goto fail;
    }
    /* The draft fields follow; validation admitted them for this profile. */
    for (i = 0; i < EVL_DRAFT_FIELD_COUNT; i++) {
        v = json_object_get((json_t *)input, evl_draft_fields[i].name);
        if (v != NULL && json_object_set(ev, evl_draft_fields[i].name, v) != 0)
            goto fail;
    }
    out = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
fail:
    json_decref(ev);
    return out;
}
