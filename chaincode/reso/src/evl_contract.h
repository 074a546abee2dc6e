/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reso event-ledger contract on the C shim: function dispatch and the
 * three transaction functions RecordEvent, GetEvent and GetSubjectHistory.
 * Every answer is either the result JSON (status 200) or the error body of
 * evl_reject_json() with the code's status (400, 404 or 500); see
 * docs/event-model.md for the full contract.
 *
 * THREAD SAFETY: evl_invoke may run concurrently for different
 * transactions; it keeps no state outside the stub and the immutable
 * profile tables.
 */
#ifndef EVL_CONTRACT_H
#define EVL_CONTRACT_H

#include "evl.h"

#include "hlf/shim.h"

/* Name of the chaincode event RecordEvent emits (payload: the event). */
#define EVL_EVENT_NAME "RecordEvent"

/*
 * The invoke callback of hlf_chaincode_t. ud is the active lookup profile
 * (const evl_profile_t *, borrowed for the server's lifetime); NULL means
 * EVL_DEFAULT_PROFILE. Dispatches on args[0]; unknown names answer
 * UNKNOWN_FUNCTION and a wrong argument count INVALID_ARGUMENTS. The
 * response's message and payload live in the transaction arena.
 */
hlf_response_t evl_invoke(hlf_stub_t *stub, void *ud);

/* ------------------------------------------------------------------ */
/* Cross-file internals of the contract                               */
/* ------------------------------------------------------------------ */

/*
 * RecordEvent(eventJSON): validate under the active profile (p is the
 * default while the ledger has none), stamp, store, index, emit.
 */
hlf_response_t evl_tx_record_event(hlf_stub_t *stub, const evl_profile_t *p,
                                   const uint8_t *arg, size_t len);

/* GetEvent(TransactionId): the stored event or EVENT_NOT_FOUND. */
hlf_response_t evl_tx_get_event(hlf_stub_t *stub, const uint8_t *arg,
                                size_t len);

/* GetSubjectHistory(EventSubject): JSON array in chronological order. */
hlf_response_t evl_tx_get_subject_history(hlf_stub_t *stub,
                                          const uint8_t *arg, size_t len);

/* The chaincode events of catalog governance (payload: the proposal). */
#define EVL_EVENT_CATALOG_PROPOSED "CatalogChangeProposed"
#define EVL_EVENT_CATALOG_APPROVED "CatalogChangeApproved"
#define EVL_EVENT_CATALOG_EFFECTIVE "CatalogChangeEffective"

/*
 * The active lookup profile of the channel (tx_catalog.c): the ledger's
 * choice, or dflt (borrowed) while the ledger has none. *p is borrowed;
 * when it had to be allocated *owned is set too (evl_profile_free it
 * after use). HLF_OK, or a negative code with an INTERNAL rejection.
 */
int evl_catalog_active(hlf_stub_t *stub, const evl_profile_t *dflt,
                       const evl_profile_t **p, evl_profile_t **owned,
                       evl_reject_t *rej);

/*
 * The channel's Recorder binding (tx_catalog.c): *strict is 1 unless a
 * SetRecorderBinding change made it open (reso-model.md §13: strict
 * unless configured otherwise). Reading it puts the setting in the read
 * set. HLF_OK, or a negative code with an INTERNAL rejection.
 */
int evl_catalog_binding_strict(hlf_stub_t *stub, int *strict,
                               evl_reject_t *rej);

/* Catalog governance and reading (tx_catalog.c); dflt as above. */
hlf_response_t evl_tx_propose_catalog_change(hlf_stub_t *stub,
                                             const evl_profile_t *dflt,
                                             const uint8_t *arg, size_t len);
hlf_response_t evl_tx_approve_catalog_change(hlf_stub_t *stub,
                                             const evl_profile_t *dflt,
                                             const uint8_t *arg, size_t len);
hlf_response_t evl_tx_get_proposal(hlf_stub_t *stub,
                                   const evl_profile_t *dflt,
                                   const uint8_t *arg, size_t len);
hlf_response_t evl_tx_get_catalog(hlf_stub_t *stub, const evl_profile_t *dflt,
                                  const uint8_t *arg, size_t len);
hlf_response_t evl_tx_get_profiles(hlf_stub_t *stub,
                                   const evl_profile_t *dflt,
                                   const uint8_t *arg, size_t len);

/* ------------------------------------------------------------------ */
/* Recorder registry (tx_recorder.c)                                  */
/* ------------------------------------------------------------------ */

/* RegisterRecorder(json): an org admin binds a Recorder id to its org. */
hlf_response_t evl_tx_register_recorder(hlf_stub_t *stub, const uint8_t *arg,
                                        size_t len);

/* GetRecorder(id): the registration, or RECORDER_NOT_FOUND. */
hlf_response_t evl_tx_get_recorder(hlf_stub_t *stub, const uint8_t *arg,
                                   size_t len);

/* RevokeRecorder(id): the owning org's admin marks the id Revoked. */
hlf_response_t evl_tx_revoke_recorder(hlf_stub_t *stub, const uint8_t *arg,
                                      size_t len);

/*
 * The RecordEvent binding check of recorder[0..len) (already a valid
 * Recorder): HLF_OK when the creator is bound to it, or when the id is
 * unregistered and the channel's Recorder binding is open; HLF_EINVAL
 * with RECORDER_NOT_AUTHORIZED in rej when it is revoked, registered to
 * another MSP, restricted to other certificates, or unregistered under
 * strict binding (the default); when the registry cannot be read, the
 * stub's error code with an INTERNAL rejection whose message says which
 * step failed (for evl_respond_internal).
 */
int evl_recorder_check(hlf_stub_t *stub, const char *recorder, size_t len,
                       evl_reject_t *rej);

/* ------------------------------------------------------------------ */
/* DID registry for did:reso:* (tx_did.c)                             */
/* ------------------------------------------------------------------ */

/* CreateDID(document JSON): an org admin creates a DID its org controls. */
hlf_response_t evl_tx_create_did(hlf_stub_t *stub, const uint8_t *arg,
                                 size_t len);

/* UpdateDID(document JSON): the controlling org's admin replaces it. */
hlf_response_t evl_tx_update_did(hlf_stub_t *stub, const uint8_t *arg,
                                 size_t len);

/* DeactivateDID(did): the controlling org's admin deactivates it. */
hlf_response_t evl_tx_deactivate_did(hlf_stub_t *stub, const uint8_t *arg,
                                     size_t len);

/* ResolveDID(did): the DID resolution result, or DID_NOT_FOUND. */
hlf_response_t evl_tx_resolve_did(hlf_stub_t *stub, const uint8_t *arg,
                                  size_t len);

/*
 * Read the JSON object stored under composite key type~attr: *key is
 * the key (arena), *rec new or NULL when the key is absent. HLF_OK, or
 * the stub's error / HLF_EPROTO (not an object) with *what saying which
 * step failed.
 */
int evl_load_json(hlf_stub_t *stub, const char *type, const char *attr,
                  const char **key, json_t **rec, const char **what);

/*
 * HLF_OK when the creator is an org admin (X.509, OU=admin); otherwise
 * HLF_EINVAL with NOT_ADMIN naming what (borrowed) needed it.
 */
int evl_require_admin(hlf_stub_t *stub, const char *what, evl_reject_t *rej);

/*
 * Parse arg[0..len) as one JSON object of at most max bytes (duplicate
 * keys refused). HLF_OK with *out new; else HLF_EINVAL and INVALID_JSON.
 */
int evl_parse_object(const uint8_t *arg, size_t len, size_t max,
                     json_t **out, evl_reject_t *rej);

/*
 * HLF_OK when every key of obj is in the NULL-terminated allowed list;
 * else HLF_EINVAL with UNKNOWN_FIELD for the first other key.
 */
int evl_check_keys(const json_t *obj, const char *const *allowed,
                   evl_reject_t *rej);

/*
 * Check s[0..len) as the identifier field (1..255 bytes of UTF-8 without
 * NUL, else INVALID_VALUE; one of the syntaxes in mask, else
 * INVALID_IDENTIFIER) and write its registry key (evl_ident_canonical)
 * into out. HLF_OK or HLF_EINVAL with rej filled.
 */
int evl_ident_key(const char *field, const char *s, size_t len,
                  unsigned mask, char out[EVL_IDENT_KEY_SIZE],
                  evl_reject_t *rej);

/*
 * Response helpers. The JSON (borrowed) is copied into the transaction
 * arena; on arena exhaustion they degrade to a static 500 response.
 */
hlf_response_t evl_respond_ok(hlf_stub_t *stub, const char *json,
                              size_t len);
hlf_response_t evl_respond_reject(hlf_stub_t *stub, const evl_reject_t *rej);

/*
 * A 500 INTERNAL answer saying what failed (a printf-style phrase) and,
 * when the failing call was a stub call, the shim's last error text.
 */
hlf_response_t evl_respond_internal(hlf_stub_t *stub, int rc,
                                    const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ */
/* Referrals (tx_referral.c)                                          */
/* ------------------------------------------------------------------ */

/*
 * RecordEvent's referral step for a validated input (borrowed), run
 * before anything is written, with the event's key time ts and
 * TransactionId tid: checks Context.ParentReferral and, on the first event
 * of a sub-referral, writes the parent link and the parent's child index
 * (docs/event-model.md "Referrals"). HLF_OK (also for events that are no
 * referral's), HLF_EINVAL with rej (field Context.ParentReferral), or
 * HLF_EIO with an INTERNAL rejection.
 */
int evl_referral_on_record(hlf_stub_t *stub, const json_t *input,
                           const char *ts, const char *tid,
                           evl_reject_t *rej);

/*
 * GetReferral(EventSubject): the referral and its sub-referrals as one
 * tree {"EventSubject","Events":[chronological],"Subreferrals":[nodes in
 * link order]}; EVENT_NOT_FOUND when no referral has that subject.
 */
hlf_response_t evl_tx_get_referral(hlf_stub_t *stub, const uint8_t *arg,
                                   size_t len);

#endif /* EVL_CONTRACT_H */
