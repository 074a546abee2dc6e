/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reports and search over the off-chain CouchDB index (issue 4): the
 * member activity report, the onboarding dashboard and event search.
 * The gateway module in reports.c serves them as
 *
 *   GET /v1/reports/member-activity/{EventSubject}
 *   GET /v1/reports/onboarding
 *   GET /v1/events
 *
 * This header is the pure part, kept free of HTTP and CouchDB so that
 * unit tests drive it with plain JSON documents shaped like the index's
 * (one document per event: the stored event's fields plus sequence,
 * block, tx_index, txid, ts, ts_ns; /work/notes/s2/B_schema.md and
 * docs/reports.md). It turns query parameters into Mango _find bodies,
 * _find results into reply pages, and onboarding documents into the
 * dashboard's tiles, latest states, stuck list and milestone medians.
 *
 * Conventions: functions return HLF_OK or a negative HLF_E* code; a bad
 * request is HLF_EINVAL with the REST error (code, field, message) in a
 * gw_reports_bad_t; pointers are new / borrowed / takes as documented;
 * every declaration has a THREAD SAFETY line.
 */
#ifndef GW_REPORTS_H
#define GW_REPORTS_H

#include "gw.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Page sizes of search and member activity. */
#define GW_REPORTS_PAGE_DEFAULT 50
#define GW_REPORTS_PAGE_MAX 500

/* Values one repeatable filter parameter may carry. */
#define GW_REPORTS_VALUES_MAX 32

/* Longest filter value accepted (bytes). */
#define GW_REPORTS_VALUE_MAX 512

/* Onboarding: events fetched per _find while scanning, and the most the
 * report aggregates before it asks the caller to narrow the filters. */
#define GW_REPORTS_SCAN_BATCH 2000
#define GW_REPORTS_SCAN_MAX 200000

/* Largest stuck_days override. */
#define GW_REPORTS_STUCK_DAYS_MAX 3650

/* Largest sequence a cursor may carry: 2^53, exact in a JSON number. */
#define GW_REPORTS_SEQ_MAX 9007199254740992LL

/* The Mango indexes the queries use ("use_index": [GW_COUCH_DDOC, name]);
 * couch_schema.h lists them with their fields. */
#define GW_REPORTS_IDX_SEQUENCE "by-sequence"
#define GW_REPORTS_IDX_SUBJECT "by-subject-sequence"
#define GW_REPORTS_IDX_SUBJECT_TYPE "by-subjecttype-sequence"
#define GW_REPORTS_IDX_RECORDER "by-recorder-sequence"
#define GW_REPORTS_IDX_EVENT "by-event-sequence"

/*
 * A refused request: the REST error the handler answers with status 400
 * (code and message always set, field NULL when not about one parameter;
 * code and field are static strings or borrowed from the parameters).
 * Codes: BAD_REQUEST (limit, cursor, order, stuck_days, a filter value),
 * UNKNOWN_PARAMETER, INVALID_TIME, INVALID_TIME_RANGE.
 */
typedef struct gw_reports_bad_s {
    const char *code;
    const char *field;
    char message[192];
} gw_reports_bad_t;

/*
 * A time parameter (from, to) in one of three forms, into Unix seconds:
 *   Unix seconds       "1568061480" (decimal digits only, at most 12)
 *   RFC 3339           "2019-09-09T20:38:00Z", "2019-09-09T22:38:00+02:00",
 *                      fraction allowed and dropped ("...:00.250Z");
 *                      't'/'z' in lower case too; a space in place of
 *                      the '+' of the offset (an unencoded '+' in a
 *                      query string arrives as a space)
 *   IMF-fixdate        "Mon, 09 Sep 2019 20:38:00 GMT" (the weekday
 *                      must match the date)
 * Years 1970..9999. HLF_OK or HLF_EINVAL (never a partial parse).
 * THREAD SAFETY: reentrant.
 */
int gw_reports_parse_time(const char *s, int64_t *out);

/*
 * The IMF-fixdate form alone ("Mon, 09 Sep 2019 20:38:00 GMT", weekday
 * checked): what the chaincode stamps as an event's Timestamp. HLF_OK or
 * HLF_EINVAL. THREAD SAFETY: reentrant.
 */
int gw_reports_parse_imf(const char *s, int64_t *out);

/*
 * Cursors: "a<sequence>" (ascending pages continue after it) and
 * "d<sequence>" (descending pages continue before it). out needs
 * GW_REPORTS_CURSOR_MAX bytes. Decode: HLF_OK, or HLF_EINVAL for
 * anything else (wrong direction letter, sign, leading zero, over
 * GW_REPORTS_SEQ_MAX). THREAD SAFETY: reentrant.
 */
#define GW_REPORTS_CURSOR_MAX 24
void gw_reports_cursor_encode(int desc, int64_t seq,
                              char out[GW_REPORTS_CURSOR_MAX]);
int gw_reports_cursor_decode(const char *s, int *desc, int64_t *seq);

/*
 * Query parameters as the handlers hand them over: the request's pairs
 * in order (name and value borrowed; a NULL value is "?k").
 */
typedef struct gw_reports_param_s {
    const char *name;
    const char *value;
} gw_reports_param_t;

/*
 * GET /v1/events parameters into a _find body (new, json_decref):
 *   System, SubjectType, Entity, Event, State, EventSubject, Recorder
 *       repeatable; one value matches exactly, several match any
 *   from, to       time range on ts: from <= ts < to (once each)
 *   order          asc (default: commit order) or desc (newest first)
 *   limit          1..GW_REPORTS_PAGE_MAX (default GW_REPORTS_PAGE_DEFAULT)
 *   cursor         next_cursor of a previous page with the same order
 * The body asks for limit + 1 documents so that the page knows whether
 * more follow. It reads the index of the first of EventSubject,
 * Recorder, Event, SubjectType given with one value, else by-sequence.
 * *limit gets the page size, *desc the order.
 * HLF_EINVAL (bad filled), HLF_ENOMEM. THREAD SAFETY: reentrant.
 */
int gw_reports_search_query(const gw_reports_param_t *p, size_t n,
                            json_t **find, size_t *limit, int *desc,
                            gw_reports_bad_t *bad);

/*
 * GET /v1/reports/member-activity/{EventSubject} parameters (limit,
 * cursor; newest first) into a _find body (new). As above.
 */
int gw_reports_activity_query(const char *subject,
                              const gw_reports_param_t *p, size_t n,
                              json_t **find, size_t *limit,
                              gw_reports_bad_t *bad);

/*
 * A page from a _find "docs" array (borrowed) fetched with limit + 1:
 * at most limit items, has_more when there was one more, next_cursor
 * after the last item (the request's cursor, or null, when the page is
 * empty, so a client polling a live feed keeps its place).
 *   search:   {"events":[doc...], "order", "next_cursor", "has_more"}
 *             each doc without _id, _rev and type
 *   activity: {"EventSubject", "events":[item...], "next_cursor",
 *             "has_more"}; item = {"Event", "State", "SubjectType",
 *             "Entity", "Details" (Context or null), "Audience" (when
 *             present), "Transaction": {"Recorder", "Application",
 *             "System", "Identifier" (TransactionId), "Recorded"
 *             (Timestamp)}, "Version", "sequence", "block", "txid"}
 * cursor is borrowed (NULL: none). *out is new. HLF_EINVAL (docs not an
 * array, a document without a numeric sequence), HLF_ENOMEM.
 * THREAD SAFETY: reentrant.
 */
int gw_reports_search_page(const json_t *docs, size_t limit, int desc,
                           const char *cursor, json_t **out);
int gw_reports_activity_page(const char *subject, const json_t *docs,
                             size_t limit, const char *cursor,
                             json_t **out);

/* One member-activity item for an index document (new, or NULL if doc
 * is not an object or out of memory). THREAD SAFETY: reentrant. */
json_t *gw_reports_activity_item(const json_t *doc);

/* ------------------------------------------------------------------ */
/* Scanning an index range                                            */
/* ------------------------------------------------------------------ */

/*
 * pouchdb-server reads a whole index range before it applies "limit"
 * when the selector has conditions the index does not answer, so the
 * report job asks only the index's own conditions of CouchDB, in
 * batches along the sequence, and checks the rest here.
 */

/* Documents one page request scans at most; a page cut there is
 * returned with has_more and a cursor after the last scanned event. */
#define GW_REPORTS_PAGE_SCAN_MAX 20000

/* Documents per _find while scanning for a page with other conditions. */
#define GW_REPORTS_PAGE_BATCH 1000

/*
 * 1 if doc satisfies every condition of selector (as this module builds
 * them: a value for equality, $in, and numeric $gte/$lte/$gt/$lt), else
 * 0. THREAD SAFETY: reentrant.
 */
int gw_reports_match(const json_t *selector, const json_t *doc);

/* 1 if find's selector has conditions on fields outside its sort (the
 * index), else 0. THREAD SAFETY: reentrant. */
int gw_reports_residual(const json_t *find);

/*
 * The _find body of one scan batch of find (borrowed): its selector cut
 * to the index's fields (those of its sort), the sequence condition
 * replaced by "after the sequence after" in the sort's direction when
 * after >= 0, and limit batch. New, or NULL when out of memory.
 * THREAD SAFETY: reentrant.
 */
json_t *gw_reports_scan_find(const json_t *find, int64_t after,
                             size_t batch);

/* ------------------------------------------------------------------ */
/* Onboarding (RCP-002; docs/reports.md "Onboarding")                 */
/* ------------------------------------------------------------------ */

/*
 * Onboarding parameters:
 *   System, Recorder   repeatable filters
 *   from, to           time range on ts (from <= ts < to)
 *   stuck_days         0..GW_REPORTS_STUCK_DAYS_MAX, default cfg's
 * into the _find selector (new) for the scan (SubjectType "Agent" and
 * the filters; the aggregation keeps the RCP-002 Events) and
 * *stuck_days.
 * HLF_EINVAL (bad filled), HLF_ENOMEM. THREAD SAFETY: reentrant.
 */
int gw_reports_onboarding_params(const gw_reports_param_t *p, size_t n,
                                 int default_stuck_days, json_t **selector,
                                 int *stuck_days, gw_reports_bad_t *bad);

/*
 * The _find body of one scan batch: selector (borrowed, copied into the
 * body) plus sequence > after (after < 0: from the start), ascending,
 * GW_REPORTS_SCAN_BATCH documents, on the by-recorder-sequence index
 * when the selector fixes one Recorder, else by-subjecttype-sequence. New, or NULL when out of memory.
 * THREAD SAFETY: reentrant.
 */
json_t *gw_reports_onboarding_batch(const json_t *selector, int64_t after);

/*
 * The aggregation. Add every matching document (any order: latest
 * state is taken by sequence and milestones by earliest ts, so the
 * result does not depend on the order); documents that are not
 * onboarding events (SubjectType other than "Agent", Event outside the
 * RCP-002 onboarding events) or lack EventSubject, Event, State, a
 * numeric ts or sequence are skipped and counted as skipped.
 */
typedef struct gw_onboarding_s gw_onboarding_t;

/* New aggregation (*out new, gw_onboarding_free). HLF_ENOMEM.
 * THREAD SAFETY: reentrant; one aggregation per thread at a time. */
int gw_onboarding_new(gw_onboarding_t **out);

/* Add one document (borrowed for the call). HLF_OK (also when skipped),
 * HLF_ENOMEM. */
int gw_onboarding_add(gw_onboarding_t *o, const json_t *doc);

/* Documents counted and skipped so far. */
size_t gw_onboarding_count(const gw_onboarding_t *o);
size_t gw_onboarding_skipped(const gw_onboarding_t *o);

/*
 * The report as of now (Unix seconds) with the stuck threshold in days:
 * {"as_of", "stuck_days", "events", "applicants",
 *  "tiles":[{"Event","total","states":[{"State","count"}]}]
 *      Events in RCP-002 order, states by count descending then name,
 *  "latest":[{"EventSubject","Event","State","Timestamp","ts",
 *      "sequence","terminal"}]   by EventSubject,
 *  "stuck":[{"EventSubject","Event","State","Timestamp","ts",
 *      "stuck_seconds"}]   non-terminal and now - ts > stuck_days days,
 *      longest stuck first (then EventSubject),
 *  "milestones":[{"from","to","applicants","out_of_order",
 *      "median_seconds" (number or null)}]   consecutive pairs}
 * Sorts the aggregation's tiles in place (hence not const).
 * *out is new. HLF_ENOMEM. THREAD SAFETY: as gw_onboarding_new.
 */
int gw_onboarding_result(gw_onboarding_t *o, int64_t now,
                         int stuck_days, json_t **out);

/* Free (NULL is a no-op). */
void gw_onboarding_free(gw_onboarding_t *o);

/* The median of n values (sorted in place); 0 when n is 0. The mean of
 * the two middle values when n is even. THREAD SAFETY: reentrant. */
double gw_reports_median(int64_t *v, size_t n);

/* 1 if (event, state) ends onboarding (docs/reports.md), else 0. */
int gw_reports_onboarding_terminal(const char *event, const char *state);

#ifdef __cplusplus
}
#endif
#endif /* GW_REPORTS_H */
