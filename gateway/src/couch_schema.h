/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CouchDB index schema shared by the indexer (indexer.c) and the
 * report queries (reports.c): document ids, the checkpoint document and
 * the Mango indexes the indexer creates at start. The schema itself (the
 * fields of an event document) is described in docs/index.md.
 *
 * Every event document is the stored event's JSON as the stream carries
 * it (every field the chaincode wrote, plus sequence, block, tx_index,
 * txid, recorded_by) with _id "ev:<TransactionId>", type "event", ts
 * (Unix seconds of Timestamp) and ts_ns added.
 *
 * THREAD SAFETY: constants only.
 */
#ifndef GW_COUCH_SCHEMA_H
#define GW_COUCH_SCHEMA_H

#ifdef __cplusplus
extern "C" {
#endif

/* _id of an event document: prefix + TransactionId. */
#define GW_COUCH_EVENT_ID_PREFIX "ev:"
/* The value of "type" in every event document. */
#define GW_COUCH_EVENT_TYPE "event"
/* The checkpoint: _local/<id> {"sequence","block","tx_index","updated"}. */
#define GW_COUCH_CHECKPOINT_ID "reso-indexer"
/* The design document holding every Mango index ("use_index"). */
#define GW_COUCH_DDOC "reso"

/*
 * XX(name, fields...): the Mango indexes, created idempotently at start
 * (same ddoc and name: a no-op when they exist). Queries name theirs with
 * "use_index": [GW_COUCH_DDOC, name]. Report engineers append theirs.
 */
#define GW_COUCH_INDEX_MAP(XX)                                             \
    XX("by-sequence", "type", "sequence")                                  \
    XX("by-subject-ts", "type", "EventSubject", "ts")                      \
    XX("by-recorder-ts", "type", "Recorder", "ts")                         \
    XX("by-event-state-ts", "type", "Event", "State", "ts")                \
    XX("by-subject-sequence", "type", "EventSubject", "sequence")          \
    XX("by-subjecttype-sequence", "type", "SubjectType", "sequence")       \
    XX("by-recorder-sequence", "type", "Recorder", "sequence")             \
    XX("by-event-sequence", "type", "Event", "sequence")

#ifdef __cplusplus
}
#endif
#endif /* GW_COUCH_SCHEMA_H */
