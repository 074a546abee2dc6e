/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Webhook subscriptions (webhooks.c): the pieces of the module that are
 * pure functions or small file formats, exposed so the unit tests can
 * check them one by one. The module itself (routes, delivery thread) is
 * `gw_module_webhooks`; docs/gateway.md "Webhooks" describes what a
 * receiver sees.
 *
 * Conventions: functions return HLF_OK or a negative HLF_E* code with
 * detail in an optional hlf_error_t; every declaration has a THREAD
 * SAFETY line.
 */
#ifndef GW_WEBHOOKS_H
#define GW_WEBHOOKS_H

#include "hub.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The RESO context of every pushed batch (RCP-28 over RCP-27 records). */
#define GW_WEBHOOK_CONTEXT "urn:reso:metadata:2.0:resource:entityevent"

/* "sha256=" + 64 hex digits + NUL. */
#define GW_WEBHOOK_SIG_LEN 72

/* Limits of a subscription request. */
#define GW_WEBHOOK_URL_MAX 2048
#define GW_WEBHOOK_SECRET_MIN 16
#define GW_WEBHOOK_SECRET_MAX 512
#define GW_WEBHOOK_MAX_PER_IDENTITY 100

/* First retry waits about this long; each further one twice as long. */
#define GW_WEBHOOK_BACKOFF_BASE_MS 250
/* A Retry-After is honoured up to this long (a receiver asking for a
 * day would otherwise stall the subscription silently). */
#define GW_WEBHOOK_RETRY_AFTER_MAX_MS 3600000
/* Shortest wait between two attempts, even after "Retry-After: 0". */
#define GW_WEBHOOK_RETRY_MIN_MS 100

/* ------------------------------------------------------------------ */
/* Target addresses (SSRF)                                            */
/* ------------------------------------------------------------------ */

/* XX(id, name, refused unless webhook_allow_private_targets). */
#define GW_WEBHOOK_ADDR_MAP(XX)                                            \
    XX(PUBLIC, "public", 0)                                                \
    XX(LOOPBACK, "loopback", 1)                                            \
    XX(PRIVATE, "private", 1)                                              \
    XX(LINK_LOCAL, "link-local", 1)                                        \
    XX(CGNAT, "carrier-grade NAT", 1)                                      \
    XX(UNSPECIFIED, "unspecified", 2)                                      \
    XX(MULTICAST, "multicast", 2)                                          \
    XX(RESERVED, "reserved", 2)

typedef enum {
#define GW__WHA_ENUM(id, name, policy) GW_WEBHOOK_ADDR_##id,
    GW_WEBHOOK_ADDR_MAP(GW__WHA_ENUM)
#undef GW__WHA_ENUM
    GW_WEBHOOK_ADDR__COUNT
} gw_webhook_addr_t;

/*
 * The range an address falls in. IPv4: 0/8 unspecified, 10/8,
 * 172.16/12, 192.168/16 and 198.18/15 private, 100.64/10 CGNAT, 127/8
 * loopback, 169.254/16 link-local, 224/4 multicast, 192.0.0/24, the
 * documentation nets, 240/4 and 255.255.255.255 reserved. IPv6: ::
 * unspecified, ::1 loopback, fe80::/10 link-local, fc00::/7 and
 * fec0::/10 private, ff00::/8 multicast; IPv4-mapped (::ffff:0:0/96),
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the
 * IPv4 address they carry; everything outside 2000::/3, plus
 * 2001:db8::/32, Teredo and IPv4-compatible addresses, is reserved.
 * sa of another family, or too short for its family, is RESERVED.
 * THREAD SAFETY: reentrant.
 */
gw_webhook_addr_t gw_webhook_addr_classify(const struct sockaddr *sa,
                                           socklen_t len);

/* "loopback", ... ("?" out of range). THREAD SAFETY: any thread. */
const char *gw_webhook_addr_name(gw_webhook_addr_t c);

/*
 * 1 if a webhook may connect to an address of class c: PUBLIC always;
 * LOOPBACK, PRIVATE, LINK_LOCAL and CGNAT only with allow_private;
 * UNSPECIFIED, MULTICAST and RESERVED never (no receiver lives there).
 * THREAD SAFETY: any thread.
 */
int gw_webhook_addr_allowed(gw_webhook_addr_t c, int allow_private);

/*
 * Parse a subscription URL: http or https, a host, no user info, no
 * fragment, at most GW_WEBHOOK_URL_MAX bytes. host (size hostn) gets the
 * host name or address without IPv6 brackets, *port the explicit or
 * default port. HLF_EINVAL with err saying what is wrong.
 * THREAD SAFETY: reentrant.
 */
int gw_webhook_url_parse(const char *url, char *host, size_t hostn,
                         int *port, hlf_error_t *err);

/*
 * Resolve host (blocking: getaddrinfo) and check every address it has.
 * HLF_OK when all are allowed; HLF_ENOTFOUND when it does not resolve;
 * HLF_EPERM when one is in a refused range (err names the address and
 * its class). THREAD SAFETY: reentrant; never on an MHD thread.
 */
int gw_webhook_target_check(const char *host, int port, int allow_private,
                            hlf_error_t *err);

/* ------------------------------------------------------------------ */
/* Delivery arithmetic                                                */
/* ------------------------------------------------------------------ */

/*
 * The X-Reso-Signature value of body under secret:
 * "sha256=<lower-case hex HMAC-SHA256(secret, body)>" into out.
 * HLF_EINVAL (NULL), HLF_ECRYPTO. THREAD SAFETY: reentrant.
 */
int gw_webhook_sign(const char *secret, size_t slen, const void *body,
                    size_t len, char out[GW_WEBHOOK_SIG_LEN]);

/*
 * A Retry-After value (RFC 9110 10.2.3): delay-seconds, or an HTTP-date
 * in IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), obsolete RFC 850
 * ("Sunday, 06-Nov-94 08:49:37 GMT") or asctime ("Sun Nov  6 08:49:37
 * 1994") form, surrounding spaces allowed. now is the wall clock
 * (seconds since the epoch) a date is measured from. *delay_ms gets the
 * wait in milliseconds: 0 for a date in the past, at most
 * GW_WEBHOOK_RETRY_AFTER_MAX_MS. HLF_EINVAL for anything else.
 * THREAD SAFETY: reentrant.
 */
int gw_webhook_retry_after(const char *value, time_t now,
                           int64_t *delay_ms);

/*
 * The wait before retry number attempt (1 = the first retry):
 * base = min(cap_ms, GW_WEBHOOK_BACKOFF_BASE_MS * 2^(attempt - 1)), and
 * the result is in [base - base/2, base]: the upper half is spread by
 * rnd (rnd % (base/2 + 1)) so that receivers recovering from an outage
 * are not hit by every gateway at the same instant. attempt 0 counts as
 * 1; cap_ms below 1 counts as 1.
 * THREAD SAFETY: any thread.
 */
int64_t gw_webhook_backoff_ms(unsigned attempt, int64_t cap_ms,
                              uint32_t rnd);

/*
 * The body of one push: {"@reso.context": GW_WEBHOOK_CONTEXT, "value":
 * [{"EntityEventSequence", "ResourceName": "LedgerEvent",
 * "ResourceRecordKey": TransactionId, "ResourceRecordUrl":
 * base_url + "/v1/events/" + TransactionId, "Event": the stored event
 * (the hub's JSON without its envelope keys sequence, block, tx_index,
 * txid, recorded_by)}, ...]} for evs[0..n) (borrowed), compact. *out is
 * new (hlf_free), NUL-terminated, *len excludes the NUL. HLF_EINVAL
 * (n == 0), HLF_EPROTO (an event's JSON does not parse), HLF_ENOMEM.
 * THREAD SAFETY: reentrant.
 */
int gw_webhook_batch_body(gw_event_t *const *evs, size_t n,
                          const char *base_url, char **out, size_t *len,
                          hlf_error_t *err);

/* ------------------------------------------------------------------ */
/* Stored subscriptions                                               */
/* ------------------------------------------------------------------ */

/*
 * One subscription as stored in <state_dir>/webhooks/<id>.json (mode
 * 0600: it holds the secret). acked is the checkpoint: the sequence of
 * the last event a receiver acknowledged with a 2xx (or the start
 * position before the first one); delivery resumes after it.
 */
typedef struct gw_webhook_rec_s {
    char id[40];        /* "sub-" + 32 hex digits */
    char *owner;        /* identity name */
    char *url;
    json_t *filter;     /* {"System":["..."], ...}; every value an array */
    char *secret;
    char created[32];   /* RFC 3339 UTC */
    uint64_t start;     /* the position it was created at */
    uint64_t acked;
} gw_webhook_rec_t;

/* 1 if id has the form of a subscription id. THREAD SAFETY: any. */
int gw_webhook_id_valid(const char *id);

/*
 * Check a filter object from a request: keys are event fields
 * (gw_evfield_from_name), each value a string or an array of 1..64
 * strings of 1..255 bytes. *out is a new normalized copy (json_decref)
 * with every value an array. HLF_EINVAL with err naming the problem and
 * field (size fieldn) the offending key ("filter" if the object itself).
 * THREAD SAFETY: reentrant.
 */
int gw_webhook_filter_check(json_t *in, json_t **out, char *field,
                            size_t fieldn, hlf_error_t *err);

/* A hub filter for a normalized filter object. *out is new
 * (gw_filter_free). HLF_EINVAL, HLF_ENOMEM. THREAD SAFETY: reentrant. */
int gw_webhook_filter_build(json_t *filter, gw_filter_t **out);

/*
 * Persist rec as <dir>/<id>.json atomically (temporary file, fsync,
 * rename, fsync of dir), mode 0600. After a crash the file holds either
 * the old or the new record. HLF_EINVAL (bad id), HLF_EIO, HLF_ENOMEM.
 * THREAD SAFETY: reentrant; one writer per subscription.
 */
int gw_webhook_rec_save(const char *dir, const gw_webhook_rec_t *rec,
                        hlf_error_t *err);

/*
 * Read a record file into rec (fields new; gw_webhook_rec_clear).
 * HLF_ENOTFOUND (no file), HLF_EPROTO (not a valid record: err names the
 * file and the field), HLF_EIO. THREAD SAFETY: reentrant.
 */
int gw_webhook_rec_load(const char *path, gw_webhook_rec_t *rec,
                        hlf_error_t *err);

/* Remove <dir>/<id>.json durably. A missing file is HLF_OK.
 * HLF_EINVAL (bad id), HLF_EIO. THREAD SAFETY: reentrant. */
int gw_webhook_rec_remove(const char *dir, const char *id,
                          hlf_error_t *err);

/* Free the fields of rec (wiping the secret) and zero it. */
void gw_webhook_rec_clear(gw_webhook_rec_t *rec);

/* ------------------------------------------------------------------ */
/* The module                                                         */
/* ------------------------------------------------------------------ */

/* Registered in gateway/CMakeLists.txt after "stream": init registers
 * the routes and metrics, start loads the subscriptions and starts the
 * delivery thread, stop drains it and saves nothing new. */
extern const gw_module_t gw_module_webhooks;

/*
 * A snapshot of the delivery counters (tests and logs): subscriptions
 * live, batches acknowledged, failed attempts, retries started.
 * THREAD SAFETY: any thread.
 */
typedef struct gw_webhook_stats_s {
    size_t subscriptions;
    uint64_t delivered_batches;
    uint64_t delivered_events;
    uint64_t failed_attempts;
    uint64_t retries;
} gw_webhook_stats_t;
void gw_webhook_stats(gw_webhook_stats_t *st);

#ifdef __cplusplus
}
#endif
#endif /* GW_WEBHOOKS_H */
