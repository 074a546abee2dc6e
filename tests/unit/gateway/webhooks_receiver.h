/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A webhook receiver for tests (unit and network): a libmicrohttpd
 * server on 127.0.0.1 (a free port) that checks every push the way a
 * careful consumer would and records what it acknowledged.
 *
 * Each POST is checked: Content-Type application/json, X-Reso-Delivery
 * of 32 hex digits, X-Reso-Signature equal to "sha256=" + hex of
 * OpenSSL's HMAC-SHA256(secret, body) (computed here, independently of
 * the gateway), and the RCP-28 body shape: @reso.context, a value array
 * of 1..batch_max records with EntityEventSequence increasing within the
 * batch, ResourceName LedgerEvent, ResourceRecordKey equal to
 * Event.TransactionId and ResourceRecordUrl ending in
 * /v1/events/<key>. A push failing a check is answered 400 and counted
 * in `bad`. Otherwise the receiver answers as planned (whr_plan): 200,
 * or a failure status with an optional Retry-After for the next n
 * requests; only 2xx answers record the batch's events.
 *
 * THREAD SAFETY: every function may be called from any thread; the
 * server runs its own thread.
 */
#ifndef WEBHOOKS_RECEIVER_H
#define WEBHOOKS_RECEIVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct whr_s whr_t;

/* One request as the receiver saw it. */
typedef struct whr_req_s {
    int64_t at_ms;       /* monotonic arrival time */
    int status;          /* what it answered */
    char delivery[40];   /* X-Reso-Delivery */
    size_t nevents;
    uint64_t first, last; /* sequences of the batch (0 if unparsed) */
} whr_req_t;

/* One acknowledged event, in arrival order. */
typedef struct whr_event_s {
    uint64_t seq;
    json_t *event;       /* the "Event" object (owned by the receiver) */
    char delivery[40];
    char url[256];       /* its ResourceRecordUrl */
} whr_event_t;

/* Start on a free loopback port; batch_max bounds value[]. Asserts. */
whr_t *whr_start(const char *secret, size_t batch_max);
int whr_port(const whr_t *r);
/* "http://127.0.0.1:<port><path>" into buf. */
void whr_url(const whr_t *r, const char *path, char *buf, size_t n);

/*
 * Answer the next n requests (n < 0: until the next plan) with status
 * and, if retry_after is not NULL, that Retry-After value; delay_ms
 * before answering (to exceed the gateway's timeout). status 200, n 0
 * restores normal answers.
 */
void whr_plan(whr_t *r, int status, const char *retry_after, int n,
              int delay_ms);

/* Counters: requests, bad (failed a check), ok (2xx answered). */
void whr_counts(whr_t *r, size_t *requests, size_t *bad, size_t *ok);

/* Number of distinct sequences acknowledged so far. */
size_t whr_unique(whr_t *r);

/* Wait until at least n distinct sequences were acknowledged, or
 * timeout_ms passed; returns the number then. */
size_t whr_wait_unique(whr_t *r, size_t n, int64_t timeout_ms);

/* Wait until at least n requests arrived (any answer). */
size_t whr_wait_requests(whr_t *r, size_t n, int64_t timeout_ms);

/* Copies (caller frees with whr_events_free / free): acknowledged
 * events in arrival order, and the request log. */
whr_event_t *whr_events(whr_t *r, size_t *n);
void whr_events_free(whr_event_t *v, size_t n);
whr_req_t *whr_requests(whr_t *r, size_t *n);

/* Last seen values of the EntityEventSource and User-Agent headers. */
void whr_last_headers(whr_t *r, char *source, size_t n);

/* Stop the server and free everything. NULL is a no-op. */
void whr_stop(whr_t *r);

#endif /* WEBHOOKS_RECEIVER_H */
