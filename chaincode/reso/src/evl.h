/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event-ledger core of the reso chaincode: everything that does not
 * need the Fabric shim. It turns the bytes a client sent to RecordEvent
 * into either a validated event or a precise rejection, and derives the
 * ledger-assigned parts of an event (TransactionId, Timestamp, Version)
 * and its state keys deterministically, so every endorser computes the
 * same write set. The contract functions (evl_contract.h) glue this to the
 * shim; unit tests and the fuzz target use it directly.
 *
 * Names are prefixed evl_ (house style rule 8: executables use a local
 * prefix for cross-file symbols). Fallible functions return HLF_OK or a
 * negative HLF_E* code from hlf/err.h.
 *
 * THREAD SAFETY: every function here is reentrant; the field tables are
 * immutable and the built-in profiles are parsed once under pthread_once.
 */
#ifndef EVL_H
#define EVL_H

#include "hlf/err.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Error codes (reso-model.md §13, architecture.md decision 8)         */
/* ------------------------------------------------------------------ */

/*
 * XX(name, chaincode status). Client errors are 400, a refusal because of
 * who the caller is 403, something missing 404 and ledger or internal
 * failures 500. The RecordEvent rows are in check order (INVALID_JSON ..
 * RECORDER_NOT_AUTHORIZED); the catalog governance codes follow, then
 * the recorder and DID registry codes (tx_recorder.c, tx_did.c; 409 for
 * a DID that exists, 410 for a deactivated one).
 */
#define EVL_CODE_MAP(XX)                                                     \
    XX(INVALID_JSON, 400)                                                    \
    XX(SYSTEM_FIELD_SUPPLIED, 400)                                           \
    XX(UNKNOWN_FIELD, 400)                                                   \
    XX(MISSING_FIELD, 400)                                                   \
    XX(INVALID_VALUE, 400)                                                   \
    XX(INVALID_LOOKUP, 400)                                                  \
    XX(INVALID_IDENTIFIER, 400)                                              \
    XX(PII_EMAIL, 400)                                                       \
    XX(PII_PHONE, 400)                                                       \
    XX(RECORDER_NOT_AUTHORIZED, 403)                                         \
    XX(DUPLICATE_EVENT, 400)                                                 \
    XX(EVENT_NOT_FOUND, 404)                                                 \
    XX(UNKNOWN_FUNCTION, 400)                                                \
    XX(INVALID_ARGUMENTS, 400)                                               \
    XX(NOT_ADMIN, 403)                                                       \
    XX(NOT_MEMBER, 403)                                                      \
    XX(INVALID_PROFILE, 400)                                                 \
    XX(INVALID_PROPOSAL, 400)                                                \
    XX(PROFILE_NOT_FOUND, 404)                                               \
    XX(PROFILE_EXISTS, 400)                                                  \
    XX(PROPOSAL_NOT_FOUND, 404)                                              \
    XX(ALREADY_APPROVED, 400)                                                \
    XX(PROPOSAL_CLOSED, 400)                                                 \
    XX(NOT_OWNER, 403)                                                       \
    XX(RECORDER_NOT_FOUND, 404)                                              \
    XX(DID_NOT_FOUND, 404)                                                   \
    XX(DID_EXISTS, 409)                                                      \
    XX(DID_DEACTIVATED, 410)                                                 \
    XX(INTERNAL, 500)

typedef enum {
#define EVL__CODE_ENUM(name, status) EVL_##name,
    EVL_CODE_MAP(EVL__CODE_ENUM)
#undef EVL__CODE_ENUM
    EVL_CODE_COUNT
} evl_code_t;

/* "INVALID_LOOKUP" for EVL_INVALID_LOOKUP; "INTERNAL" when out of range. */
const char *evl_code_name(evl_code_t code);

/* Chaincode Response status of a code (400, 404 or 500). */
int evl_code_status(evl_code_t code);

/* Longest field name kept in a rejection (longer ones are cut). */
#define EVL_FIELD_MAX 255
#define EVL_MESSAGE_MAX 1024

/*
 * A rejection: the error object a contract function answers with. field
 * is "" when the error concerns no single field. field and message are
 * always NUL-terminated valid UTF-8 (user text is cut on a character
 * boundary).
 */
typedef struct evl_reject_s {
    evl_code_t code;
    char field[EVL_FIELD_MAX + 1];
    char message[EVL_MESSAGE_MAX];
} evl_reject_t;

/*
 * Fill rej (if not NULL) with code, field (borrowed, copied; NULL or ""
 * for none; field_len bytes, or strlen when field_len is (size_t)-1) and
 * a printf-style message. Returns HLF_EINVAL for codes below 500 and
 * HLF_EIO for 500 so callers can write `return evl_reject(...)`.
 */
int evl_reject(evl_reject_t *rej, evl_code_t code, const char *field,
               size_t field_len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * The compact error body {"error":{"code":..,"field":..,"message":..}},
 * field omitted when empty. Returns new memory (free with free()) or NULL
 * on allocation failure.
 */
char *evl_reject_json(const evl_reject_t *rej);

/* Size of a buffer for evl_echo: 64 bytes of user text + "..." + NUL. */
#define EVL_ECHO_SIZE 68

/*
 * User text s[0..len) for a message: at most 64 bytes, cut on a UTF-8
 * character boundary, "..." appended when cut; into buf (size n).
 */
void evl_echo(const char *s, size_t len, char *buf, size_t n);

/*
 * Largest prefix length <= max of s[0..len) that does not end inside a
 * UTF-8 sequence. Used to cut user text for messages.
 */
size_t evl_utf8_cut(const char *s, size_t len, size_t max);

/*
 * Append sep (only when used > 0) and item to the NUL-terminated text of
 * length used in buf (size n), truncating at the end of buf. Returns the
 * new length, never more than n - 1. For building value lists.
 */
size_t evl_append(char *buf, size_t n, size_t used, const char *sep,
                  const char *item);

/* 1 if s[0..len) is well-formed UTF-8 (no surrogates, <= U+10FFFF). */
int evl_utf8_valid(const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* Event fields and lookup profiles (reso-model.md §2.1, §3)           */
/* ------------------------------------------------------------------ */

/* Lookup lists, in the spec's check order. */
typedef enum {
    EVL_LK_SYSTEM = 0,
    EVL_LK_SUBJECT_TYPE,
    EVL_LK_ENTITY,
    EVL_LK_EVENT,
    EVL_LK_STATE,
    EVL_LK_COUNT
} evl_lookup_t;

/* Identifier syntaxes (reso-model.md §5.6), as bits of a mask. */
#define EVL_ID_LEGACY 0x01u
#define EVL_ID_URN 0x02u
#define EVL_ID_DID 0x04u
#define EVL_ID_DIDURL 0x08u
#define EVL_ID_APPTEXT 0x10u

/* Who provides a field. */
typedef enum {
    EVL_FIELD_SYSTEM = 0,  /* assigned by the ledger */
    EVL_FIELD_SUPPLIED = 1 /* supplied by the application, required */
} evl_field_kind_t;

/*
 * One row of the v1.3 field table. lookup is the list the value must come
 * from (-1 for none); ident the mask of identifier syntaxes it must match
 * (0 for none).
 */
typedef struct evl_field_s {
    const char *name;
    evl_field_kind_t kind;
    int lookup;
    unsigned ident;
} evl_field_t;

#define EVL_FIELD_COUNT 11
#define EVL_MAX_VALUE_LEN 255

/* The 11 fields in spec-table order (TransactionId ... Application). */
extern const evl_field_t evl_fields[EVL_FIELD_COUNT];

/*
 * Draft fields (reso-model.md §2.3): optional, allowed only under a
 * profile that lists them in its "Fields", stored after Application in
 * this order. The bits are evl_profile_t.optional.
 */
#define EVL_OPT_AUDIENCE 0x01u
#define EVL_OPT_CONTEXT 0x02u
#define EVL_DRAFT_FIELD_COUNT 2

typedef struct evl_draft_field_s {
    const char *name;
    unsigned bit;
} evl_draft_field_t;

extern const evl_draft_field_t evl_draft_fields[EVL_DRAFT_FIELD_COUNT];

/* Audience: 1..EVL_AUDIENCE_MAX identifiers (Recorder syntaxes). */
#define EVL_AUDIENCE_MAX 16

/*
 * Context bounds: at most EVL_CONTEXT_MAX_KEYS keys of 1..
 * EVL_CONTEXT_KEY_MAX bytes ([A-Za-z][A-Za-z0-9_]*), string values of 1..
 * EVL_CONTEXT_VALUE_MAX bytes, and at most EVL_CONTEXT_MAX_BYTES for the
 * whole object serialized compact.
 */
#define EVL_CONTEXT_MAX_KEYS 32
#define EVL_CONTEXT_KEY_MAX 64
#define EVL_CONTEXT_VALUE_MAX 1024
#define EVL_CONTEXT_MAX_BYTES 4096

/* Name of a lookup list ("System", "SubjectType", ...). */
const char *evl_lookup_name(evl_lookup_t lk);

/*
 * A lookup profile: pure data, parsed from JSON (evl_profile_parse). id
 * becomes the Version of every event recorded under it; values[lk] is a
 * NULL-terminated list of the exact, case-sensitive values allowed for
 * lookup lk; optional holds the EVL_OPT_* draft fields it allows. The
 * built-in profiles are the files in chaincode/reso/profiles/, compiled in;
 * more arrive on the ledger through catalog governance (tx_catalog.c).
 */
typedef struct evl_profile_s {
    const char *id;
    const char *const *values[EVL_LK_COUNT];
    unsigned optional;
    const char *description;
} evl_profile_t;

/* The profile used when the ledger has none active: "1.3". */
#define EVL_DEFAULT_PROFILE "1.3"

/* Bounds of a profile document (checked by evl_profile_parse). */
#define EVL_PROFILE_ID_MAX 32
#define EVL_PROFILE_DESC_MAX 512
#define EVL_PROFILE_LIST_MAX 256
#define EVL_PROFILE_MAX_BYTES 32768

/*
 * The built-in profile with this id (borrowed, static, parsed once on
 * first use) or NULL.
 */
const evl_profile_t *evl_profile_find(const char *id);

/* Number of built-in profiles, and built-in number i (borrowed) or NULL. */
size_t evl_builtin_count(void);
const evl_profile_t *evl_builtin_profile(size_t i);

/* The default member list document, {"Members":[...]} (static text). */
const char *evl_builtin_members(void);

/*
 * Parse a profile document buf[0..len):
 *   {"Version": id, "Description": text, "Fields": ["Audience",
 *    "Context"], "Lookups": {"System": [...], "SubjectType": [...],
 *    "Entity": [...], "Event": [...], "State": [...]}}
 * Version 1..EVL_PROFILE_ID_MAX bytes of [A-Za-z0-9._+-]; Description
 * optional, at most EVL_PROFILE_DESC_MAX bytes; Fields optional, a subset
 * of the draft fields; each list 1..EVL_PROFILE_LIST_MAX distinct values
 * of 1..EVL_MAX_VALUE_LEN bytes; no other keys. On success *out is new
 * (evl_profile_free). A bad document gives HLF_EINVAL with an
 * INVALID_PROFILE rejection whose field names the place (for example
 * "Lookups.Event[3]"); HLF_ENOMEM on allocation failure.
 */
int evl_profile_parse(const char *buf, size_t len, evl_profile_t **out,
                      evl_reject_t *rej);

/* The same from a parsed JSON object (borrowed). */
int evl_profile_from_json(const json_t *doc, evl_profile_t **out,
                          evl_reject_t *rej);

/* Free a profile from evl_profile_parse (NULL is fine). */
void evl_profile_free(evl_profile_t *p);

/*
 * The canonical document of p (new reference): Version, Description,
 * Fields, Lookups in that order, lists in profile order.
 */
json_t *evl_profile_to_json(const evl_profile_t *p);

/* Number of values in list lk of profile p. */
size_t evl_profile_count(const evl_profile_t *p, evl_lookup_t lk);

/* 1 if s[0..len) is exactly one of the values of list lk, else 0. */
int evl_profile_has(const evl_profile_t *p, evl_lookup_t lk, const char *s,
                    size_t len);

/* ------------------------------------------------------------------ */
/* Identifier syntax (ident.c)                                         */
/* ------------------------------------------------------------------ */

/*
 * 1 if s[0..len) matches the single syntax bit id (one EVL_ID_*), else 0.
 * No length limit is applied here (the 1..255 byte rule is checked as
 * INVALID_VALUE before).
 */
int evl_ident_match(unsigned id, const char *s, size_t len);

/* 1 if s[0..len) matches at least one syntax in mask. */
int evl_ident_match_any(unsigned mask, const char *s, size_t len);

/*
 * Explain why s[0..len) matches none of mask: writes one sentence about
 * the most plausible syntax (chosen by prefix) naming the byte offset of
 * the first offending byte into buf (size n, always NUL-terminated).
 */
void evl_ident_explain(unsigned mask, const char *s, size_t len, char *buf,
                       size_t n);

/*
 * Human list of the syntaxes in mask ("a legacy id ...; or a URN ...")
 * into buf (size n, always NUL-terminated).
 */
void evl_ident_describe(unsigned mask, char *buf, size_t n);

/* Room for a canonical identifier: never longer than its input. */
#define EVL_IDENT_KEY_SIZE (EVL_MAX_VALUE_LEN + 1)

/*
 * The lookup form of identifier s[0..len) (reso-model.md §5.1): two
 * identifiers that denote the same thing get the same form, so registry
 * look-ups and uniqueness use it. A URN (RFC 8141 equivalence): "urn" and
 * the NID lower-cased, the hex digits of each %XX upper-cased, the r-, q-
 * and f-components ("?+", "?=", "#" and what follows) dropped, every other
 * byte kept. A legacy id, DID or DID URL is kept byte for byte (DIDs are
 * case-sensitive). Writes the form into out (size n, NUL-terminated).
 * Returns HLF_OK, or HLF_EINVAL when s is empty, longer than
 * EVL_MAX_VALUE_LEN, contains a NUL byte, matches none of LEGACY, URN,
 * DID, DIDURL, or out is too small.
 */
int evl_ident_canonical(const char *s, size_t len, char *out, size_t n);

/* ------------------------------------------------------------------ */
/* Unique Property Identifier helpers (upi.c, reso-model.md §5.3)      */
/* ------------------------------------------------------------------ */

/* Longest UPI text handled (dash form, URN or hashed URN). */
#define EVL_UPI_MAX 255
#define EVL_UPI_SIZE (EVL_UPI_MAX + 1)

/*
 * A UPI split into parts. Every member is NUL-terminated text inside the
 * struct. Dash form: country, subdivision (SubCountry), subcounty,
 * parcel, property_code, sub ("N" when none). URN v2 form: version,
 * country, subdivision, parcel and sub ("" when the URN has no ":sub:");
 * subcounty and property_code are "". hashed is 1 for
 * urn:reso:upi:<v>:sha3-256:<hex>, where only version and hash are set.
 */
typedef struct evl_upi_s {
    int urn;    /* 1: URN v2 form, 0: dash form */
    int hashed; /* 1: hashed URN form */
    char version[16];
    char country[3];
    char subdivision[EVL_UPI_SIZE];
    char subcounty[EVL_UPI_SIZE];
    char parcel[EVL_UPI_SIZE];
    char property_code[EVL_UPI_SIZE];
    char sub[EVL_UPI_SIZE];
    char hash[65];
} evl_upi_t;

/*
 * Parse s (NUL-terminated) as a dash-form UPI
 * (Country-SubCountry-SubCounty-ParcelId-PropertyCode-SubProperty, the
 * ParcelId taking every part between the third and the last two), a URN
 * v2 UPI (urn:reso:upi:<Version>:<Country>:<Subdivision>:<Parcel>
 * [:sub:<Sub>], split at the first ":sub:") or a hashed URN. Returns
 * HLF_OK, or HLF_EINVAL with one sentence naming the bad part in why
 * (size why_n; may be NULL).
 */
int evl_upi_parse(const char *s, evl_upi_t *out, char *why, size_t why_n);

/*
 * The URN v2 text of version, country, subdivision, parcel and sub
 * (NULL or "" for none) into out (size n). HLF_EINVAL when a part is
 * invalid (why says which) or the result does not fit.
 */
int evl_upi_build_urn(const char *version, const char *country,
                      const char *subdivision, const char *parcel,
                      const char *sub, char *out, size_t n, char *why,
                      size_t why_n);

/*
 * The hashed form urn:reso:upi:<version>:sha3-256:<hex> of a URN v2 UPI
 * (NUL-terminated, must parse as an unhashed URN): hex is SHA3-256 of the
 * URN's exact UTF-8 bytes, lower case. HLF_EINVAL as evl_upi_parse.
 */
int evl_upi_hash_urn(const char *urn, char *out, size_t n, char *why,
                     size_t why_n);

/*
 * The URN v2 form of a dash-form UPI, version "2.0": Country, SubCountry
 * as the subdivision, ParcelId as the parcel and SubProperty as ":sub:"
 * unless it is "N". Lossy: SubCounty and PropertyCode have no place in
 * the URN form. HLF_EINVAL as evl_upi_parse.
 */
int evl_upi_dash_to_urn(const char *dash, char *out, size_t n, char *why,
                        size_t why_n);

/* ------------------------------------------------------------------ */
/* Validation of RecordEvent input (validate.c)                        */
/* ------------------------------------------------------------------ */

/* RecordEvent input larger than this is rejected as INVALID_JSON. */
#define EVL_MAX_INPUT 65536

/*
 * Validate the RecordEvent argument buf[0..len) (need not be
 * NUL-terminated) under profile p, stopping at the first failing check in
 * the documented order (docs/event-model.md "Check order"):
 * INVALID_JSON, SYSTEM_FIELD_SUPPLIED, UNKNOWN_FIELD, MISSING_FIELD,
 * INVALID_VALUE, INVALID_LOOKUP, INVALID_IDENTIFIER, PII_EMAIL/PII_PHONE.
 *
 * On success returns HLF_OK and *out (new reference, json_decref) is the
 * parsed input object. On a client error returns HLF_EINVAL with rej
 * filled and *out NULL; HLF_ENOMEM on allocation failure and HLF_EIO
 * when called without a profile (rej says INTERNAL). rej may be NULL.
 */
int evl_validate_record(const char *buf, size_t len, const evl_profile_t *p,
                        json_t **out, evl_reject_t *rej);

/*
 * The identifier check of field f alone (step 7 for one field): HLF_OK
 * when f has no identifier syntax or s[0..len) matches one of its
 * syntaxes (and, for EventSubject, can be a key attribute); otherwise
 * HLF_EINVAL with an INVALID_IDENTIFIER rejection. The length and UTF-8
 * checks of step 5 are the caller's.
 */
int evl_check_identifier(const evl_field_t *f, const char *s, size_t len,
                         evl_reject_t *rej);

/* The row of the field table called name, or NULL. */
const evl_field_t *evl_field_find(const char *name);

/*
 * Shape and bounds of a Context value v (borrowed): HLF_OK, or HLF_EINVAL
 * with an INVALID_VALUE rejection (field "Context" or "Context.<key>").
 */
int evl_context_check_shape(const json_t *v, evl_reject_t *rej);

/*
 * The no-personal-data rule for Context v (borrowed): HLF_OK, or
 * HLF_EINVAL with PII_EMAIL or PII_PHONE and field "Context.<key>" for
 * the first string value, in key order, that looks like an e-mail address
 * or a phone number (docs/event-model.md "Context").
 */
int evl_context_check_pii(const json_t *v, evl_reject_t *rej);

/* 1 if s[0..len) contains something shaped like an e-mail address. */
int evl_looks_like_email(const char *s, size_t len);

/* 1 if s[0..len) contains something shaped like a phone number. */
int evl_looks_like_phone(const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* Ledger-assigned values (uuid.c, imfdate.c)                          */
/* ------------------------------------------------------------------ */

#define EVL_UUID_LEN 36

/* Longest Fabric txid accepted by evl_uuid_from_txid. */
#define EVL_TXID_MAX 256

/*
 * TransactionId of event number index of the Fabric transaction txid
 * (txid_len bytes of ASCII): the UUID
 *   SHA-256("RESO-EM/txid/v1" || uint32_be(txid_len) || txid ||
 *           uint32_be(index))[0..15]
 * with version nibble 8 and variant 10, as 36 lower-case characters +
 * NUL in out. Returns HLF_OK, or HLF_EINVAL for an empty txid or one
 * longer than EVL_TXID_MAX.
 */
int evl_uuid_from_txid(const char *txid, size_t txid_len, uint32_t index,
                       char out[EVL_UUID_LEN + 1]);

#define EVL_IMFDATE_LEN 29

/* Seconds range representable as an IMF-fixdate (years 0001..9999). */
#define EVL_IMFDATE_MIN_SECS (-62135596800LL)
#define EVL_IMFDATE_MAX_SECS 253402300799LL

/*
 * IMF-fixdate (RFC 9110 §5.6.7) of secs since the Unix epoch, e.g.
 * "Sun, 03 Jun 2018 13:04:05 GMT", into out (29 characters + NUL).
 * Returns HLF_OK or HLF_EINVAL when the year would leave 0001..9999.
 */
int evl_imfdate(int64_t secs, char out[EVL_IMFDATE_LEN + 1]);

/* ------------------------------------------------------------------ */
/* State keys (keys.c)                                                 */
/* ------------------------------------------------------------------ */

/* Composite key object types. */
#define EVL_KEY_EVENT "EV"
#define EVL_KEY_SUBJECT "subj"

/* 20-digit seconds + 9-digit nanoseconds. */
#define EVL_TS_LEN 29

/*
 * The sortable time attribute of the subject index: secs as 20 decimal
 * digits then nanos as 9, zero-padded, so byte order equals time order.
 * Returns HLF_EINVAL for secs < 0 or nanos outside 0..999999999.
 */
int evl_key_ts(int64_t secs, int32_t nanos, char out[EVL_TS_LEN + 1]);

/* ------------------------------------------------------------------ */
/* The stored event (event.c)                                          */
/* ------------------------------------------------------------------ */

/*
 * The stored event: the eight supplied fields of the validated input
 * (borrowed) passed through unchanged, plus TransactionId, Timestamp and
 * Version, in spec-table order, then the draft fields the input has
 * (Audience, Context), serialized compact. Returns new memory
 * (free with free()) or NULL when input lacks a supplied field or on
 * allocation failure.
 */
char *evl_event_build(const json_t *input, const char *transaction_id,
                      const char *timestamp, const char *version);

#endif /* EVL_H */
