/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RecordEvent(eventJSON): the only function that writes. It validates
 * the client's eight fields, stamps the three ledger-assigned ones from
 * the transaction itself (so every endorser computes identical bytes),
 * writes the event and its subject-index entry, and emits the event as
 * this transaction's single chaincode event. Nothing is ever updated or
 * deleted: the ledger is append-only (reso-model.md §6 rule 4).
 */
#include "evl_contract.h"

#include <stdlib.h>
#include <string.h>

/*
 * The ledger-assigned values of this transaction: TransactionId from the
 * Fabric txid (event index 0: one event per transaction), Timestamp from
 * the proposal's channel-header time, ts the sortable index time.
 */
struct stamp {
    char transaction_id[EVL_UUID_LEN + 1];
    char timestamp[EVL_IMFDATE_LEN + 1];
    char ts[EVL_TS_LEN + 1];
};

static int
make_stamp(hlf_stub_t *stub, struct stamp *st, const char **what)
{
    const char *txid = hlf_stub_get_tx_id(stub);
    int64_t secs = 0;
    int32_t nanos = 0;
    int rc;

    rc = evl_uuid_from_txid(txid, strlen(txid), 0, st->transaction_id);
    if (rc != HLF_OK) {
        *what = "cannot derive a TransactionId from the Fabric txid";
        return rc;
    }
    rc = hlf_stub_get_tx_timestamp(stub, &secs, &nanos);
    if (rc != HLF_OK) {
        *what = "the transaction has no timestamp";
        return rc;
    }
    rc = evl_imfdate(secs, st->timestamp);
    if (rc == HLF_OK)
        rc = evl_key_ts(secs, nanos, st->ts);
    if (rc != HLF_OK)
        *what = "the transaction timestamp is out of range";
    return rc;
}

hlf_response_t
evl_tx_record_event(hlf_stub_t *stub, const evl_profile_t *p,
                    const uint8_t *arg, size_t len)
{
    const char *event_key = NULL, *index_key = NULL, *what = NULL;
    const char *attrs[3];
    const uint8_t *old = NULL;
    size_t old_len = 0;
    json_t *input = NULL;
    evl_profile_t *owned = NULL;
    char *event = NULL;
    struct stamp st;
    evl_reject_t rej;
    hlf_response_t resp;
    int rc;

    /*
     * The channel's active profile decides the lookup lists, the draft
     * fields and the Version; reading it also puts the catalog entry in
     * the read set, so an event endorsed under a profile that has just
     * been replaced fails validation instead of committing stale.
     */
    rc = evl_catalog_active(stub, p, &p, &owned, &rej);
    if (rc == HLF_OK)
        rc = evl_validate_record((const char *)arg, len, p, &input, &rej);
    if (rc != HLF_OK) {
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    /*
     * Recorder binding, after the identifier checks (reso-model.md §5.2,
     * §13): a registered Recorder is accepted only from the identities
     * its registration allows (tx_recorder.c); an unregistered one only
     * when the channel's binding is open (docs/event-model.md "Recorder
     * registry").
     */
    {
        json_t *r = json_object_get(input, "Recorder");

        rc = evl_recorder_check(stub, json_string_value(r),
                                json_string_length(r), &rej);
        if (rc != HLF_OK) {
            resp = rej.code == EVL_INTERNAL
                       ? evl_respond_internal(stub, rc, "%s", rej.message)
                       : evl_respond_reject(stub, &rej);
            goto out;
        }
    }
    rc = make_stamp(stub, &st, &what);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "%s", what);
        goto out;
    }
    attrs[0] = st.transaction_id;
    rc = hlf_stub_create_composite_key(stub, EVL_KEY_EVENT, attrs, 1,
                                       &event_key);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "cannot build the event key");
        goto out;
    }
    /*
     * A TransactionId is derived from a unique Fabric txid, so this can
     * only trigger if the derivation or the ledger is broken; checking
     * costs one read and keeps "append-only" true by construction and by
     * test.
     */
    rc = hlf_stub_get_state(stub, event_key, &old, &old_len);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "cannot read the event key");
        goto out;
    }
    if (old != NULL && old_len > 0) {
        evl_reject(&rej, EVL_DUPLICATE_EVENT, NULL, 0,
                   "an event with TransactionId %s is already recorded; "
                   "events are append-only",
                   st.transaction_id);
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    /* Referral links (tx_referral.c) are checked and written here. */
    rc = evl_referral_on_record(stub, input, st.ts, st.transaction_id,
                                &rej);
    if (rc != HLF_OK) {
        resp = evl_respond_reject(stub, &rej);
        goto out;
    }
    attrs[0] = json_string_value(json_object_get(input, "EventSubject"));
    attrs[1] = st.ts;
    attrs[2] = st.transaction_id;
    rc = hlf_stub_create_composite_key(stub, EVL_KEY_SUBJECT, attrs, 3,
                                       &index_key);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc,
                                    "cannot build the subject index key");
        goto out;
    }
    event = evl_event_build(input, st.transaction_id, st.timestamp, p->id);
    if (event == NULL) {
        resp = evl_respond_internal(stub, HLF_ENOMEM,
                                    "cannot serialize the event");
        goto out;
    }
    len = strlen(event);
    /*
     * The index entry carries a copy of the event, so a history is one
     * range scan instead of one read per event. Both writes are in the
     * same transaction and never change afterwards, so they cannot
     * drift apart.
     */
    rc = hlf_stub_put_state(stub, event_key, event, len);
    if (rc == HLF_OK)
        rc = hlf_stub_put_state(stub, index_key, event, len);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "cannot write the event");
        goto out;
    }
    rc = hlf_stub_set_event(stub, EVL_EVENT_NAME, event, len);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "cannot set the event");
        goto out;
    }
    resp = evl_respond_ok(stub, event, len);
out:
    free(event);
    json_decref(input);
    evl_profile_free(owned);
    return resp;
}
