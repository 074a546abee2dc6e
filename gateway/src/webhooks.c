/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Webhook subscriptions: committed events pushed to HTTP receivers in
 * RESO RCP-28 style.
 *
 *   POST   /v1/subscriptions        {url, filter, secret, after?} -> 201
 *   GET    /v1/subscriptions        the caller's identity's subscriptions
 *   GET    /v1/subscriptions/{id}
 *   DELETE /v1/subscriptions/{id}   -> 204
 *
 * A subscription belongs to the identity of the API key that created it;
 * other identities get 403. Its URL must be http(s) and its host must
 * resolve to public addresses only, unless webhook_allow_private_targets
 * is set; the same rule is applied again to every address curl connects
 * to, so a name that later resolves elsewhere (DNS rebinding) is refused
 * at delivery time too.
 *
 * Delivery. One thread owns a curl multi handle and every subscription's
 * delivery state. Each subscription is a hub subscriber (hub.h, with
 * GW_HUB_SPILL so it never loses its place) starting after its
 * checkpoint. The thread pulls up to webhook_batch_max events into a
 * batch, POSTs it signed with HMAC-SHA256 of the body under the
 * subscription's secret, and keeps exactly one batch in flight per
 * subscription, so a receiver sees sequences in increasing order. A 2xx
 * acknowledges the batch: only then is the checkpoint (the last sequence
 * of the batch) persisted, atomically, in <state_dir>/webhooks/<id>.json.
 * Anything else is retried with the same body and delivery id after an
 * exponential backoff (capped at webhook_retry_max_ms), or after the
 * receiver's Retry-After on 429 and 503. Attempts are abandoned after
 * webhook_timeout_ms. Nothing is skipped: a batch is retried until it is
 * acknowledged or the subscription is deleted.
 *
 * Guarantee: every matching event at least once, in order. A crash
 * between a receiver's 2xx and the checkpoint write sends that batch
 * again after the restart, so receivers deduplicate by
 * EntityEventSequence (which is stable across restarts).
 *
 * Threads and locks. g_lock guards the subscription table and the
 * status fields GET shows; MHD threads (GET) and pool jobs (POST,
 * DELETE: DNS and file I/O) take it briefly and never do I/O under it.
 * Each subscription's io_lock orders checkpoint writes (delivery thread)
 * against the removal of its file (DELETE job), so a deleted
 * subscription's file is never written again. Only the delivery thread
 * frees a subscription (after DELETE marked it), and only stop frees the
 * rest, after the thread has ended. The hub's notify callback only wakes
 * the multi handle, which outlives every hub subscriber.
 */
#define _GNU_SOURCE /* SOCK_CLOEXEC */
#include "webhooks.h"

#include "hlf/crypto.h"
#include "hlf/log.h"
#include "hlf/mem.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_COMPONENT "webhooks"
/* How long stop lets in-flight pushes finish before abandoning them. */
#define DRAIN_MS 2000
/* Longest idle sleep of the delivery thread between looks at its work. */
#define IDLE_MS 1000
#define FILTER_VALUE_MAX 255
#define FILTER_VALUES_MAX 64
/*
 * Record files: anything bigger is not ours. The bound must hold the
 * largest record POST /v1/subscriptions can create, whatever the body
 * cap (max_body_bytes goes up to 64 MiB, and the record adds id, owner,
 * dates and checkpoint to what the client sent): every event field with
 * FILTER_VALUES_MAX values of FILTER_VALUE_MAX bytes that JSON may escape
 * to six bytes each, plus the URL and the secret. A record the loader
 * refuses stops the module from starting after a restart.
 */
#define REC_FILE_MAX (1024 * 1024)
_Static_assert(GW_EVF__COUNT * FILTER_VALUES_MAX *
                       (6 * FILTER_VALUE_MAX + 3) +
                   2 * GW_WEBHOOK_URL_MAX + 6 * GW_WEBHOOK_SECRET_MAX +
                   4096 <
               REC_FILE_MAX,
               "REC_FILE_MAX holds the largest subscription record");

/* ------------------------------------------------------------------ */
/* Target addresses                                                   */
/* ------------------------------------------------------------------ */

static const struct {
    const char *name;
    int policy; /* 0 allowed, 1 only with allow_private, 2 never */
} addr_classes[GW_WEBHOOK_ADDR__COUNT] = {
#define GW__WHA_ROW(id, name, policy) {name, policy},
    GW_WEBHOOK_ADDR_MAP(GW__WHA_ROW)
#undef GW__WHA_ROW
};

const char *
gw_webhook_addr_name(gw_webhook_addr_t c)
{
    if ((int)c < 0 || c >= GW_WEBHOOK_ADDR__COUNT)
        return "?";
    return addr_classes[c].name;
}

int
gw_webhook_addr_allowed(gw_webhook_addr_t c, int allow_private)
{
    if ((int)c < 0 || c >= GW_WEBHOOK_ADDR__COUNT)
        return 0;
    return addr_classes[c].policy == 0 ||
           (addr_classes[c].policy == 1 && allow_private);
}

static gw_webhook_addr_t
classify_v4(const uint8_t *a)
{
    /* Special-purpose IPv4 ranges (IANA registry), most specific last
     * wins nothing: they do not overlap. */
    static const struct {
        uint32_t net;
        int bits;
        gw_webhook_addr_t c;
    } r[] = {
        {0x00000000u, 8, GW_WEBHOOK_ADDR_UNSPECIFIED}, /* "this network" */
        {0x0a000000u, 8, GW_WEBHOOK_ADDR_PRIVATE},
        {0x64400000u, 10, GW_WEBHOOK_ADDR_CGNAT},
        {0x7f000000u, 8, GW_WEBHOOK_ADDR_LOOPBACK},
        {0xa9fe0000u, 16, GW_WEBHOOK_ADDR_LINK_LOCAL},
        {0xac100000u, 12, GW_WEBHOOK_ADDR_PRIVATE},
        {0xc0000000u, 24, GW_WEBHOOK_ADDR_RESERVED},   /* IETF protocol */
        {0xc0000200u, 24, GW_WEBHOOK_ADDR_RESERVED},   /* TEST-NET-1 */
        {0xc0586300u, 24, GW_WEBHOOK_ADDR_RESERVED},   /* 6to4 relays */
        {0xc0a80000u, 16, GW_WEBHOOK_ADDR_PRIVATE},
        {0xc6120000u, 15, GW_WEBHOOK_ADDR_PRIVATE},    /* benchmarking */
        {0xc6336400u, 24, GW_WEBHOOK_ADDR_RESERVED},   /* TEST-NET-2 */
        {0xcb007100u, 24, GW_WEBHOOK_ADDR_RESERVED},   /* TEST-NET-3 */
        {0xe0000000u, 4, GW_WEBHOOK_ADDR_MULTICAST},
        {0xf0000000u, 4, GW_WEBHOOK_ADDR_RESERVED},    /* and broadcast */
    };
    uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                 (uint32_t)a[2] << 8 | (uint32_t)a[3];
    size_t i;

    for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
        if ((v >> (32 - r[i].bits)) == (r[i].net >> (32 - r[i].bits)))
            return r[i].c;
    return GW_WEBHOOK_ADDR_PUBLIC;
}

static gw_webhook_addr_t
classify_v6(const uint8_t *a)
{
    static const uint8_t zero[16];
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};

    if (memcmp(a, zero, 15) == 0)
        return a[15] == 0   ? GW_WEBHOOK_ADDR_UNSPECIFIED
               : a[15] == 1 ? GW_WEBHOOK_ADDR_LOOPBACK
                            : GW_WEBHOOK_ADDR_RESERVED;
    /* IPv4-mapped ::ffff:a.b.c.d reaches a.b.c.d. */
    if (memcmp(a, zero, 10) == 0 && a[10] == 0xff && a[11] == 0xff)
        return classify_v4(a + 12);
    /* The well-known NAT64 prefix 64:ff9b::/96 reaches its IPv4 too. */
    if (memcmp(a, nat64, 12) == 0)
        return classify_v4(a + 12);
    if (a[0] == 0xff)
        return GW_WEBHOOK_ADDR_MULTICAST;
    if ((a[0] & 0xfe) == 0xfc) /* unique local fc00::/7 */
        return GW_WEBHOOK_ADDR_PRIVATE;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return GW_WEBHOOK_ADDR_LINK_LOCAL;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) /* old site-local */
        return GW_WEBHOOK_ADDR_PRIVATE;
    if (memcmp(a, nat64, 4) == 0 && a[4] == 0 && a[5] == 1)
        return GW_WEBHOOK_ADDR_PRIVATE; /* local-use NAT64 64:ff9b:1::/48 */
    /* Only 2000::/3 is global unicast today. */
    if ((a[0] & 0xe0) != 0x20)
        return GW_WEBHOOK_ADDR_RESERVED;
    if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 carries its IPv4 */
        return classify_v4(a + 2);
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return GW_WEBHOOK_ADDR_RESERVED; /* documentation */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0)
        return GW_WEBHOOK_ADDR_RESERVED; /* Teredo tunnels */
    return GW_WEBHOOK_ADDR_PUBLIC;
}

gw_webhook_addr_t
gw_webhook_addr_classify(const struct sockaddr *sa, socklen_t len)
{
    if (sa == NULL)
        return GW_WEBHOOK_ADDR_RESERVED;
    if (sa->sa_family == AF_INET &&
        len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        return classify_v4((const uint8_t *)&in->sin_addr);
    }
    if (sa->sa_family == AF_INET6 &&
        len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        return classify_v6(in6->sin6_addr.s6_addr);
    }
    return GW_WEBHOOK_ADDR_RESERVED;
}

/* The address of sa as text ("?" if it cannot be printed). */
static void
addr_text(const struct sockaddr *sa, char *buf, size_t n)
{
    const void *a = NULL;

    if (sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (a == NULL || inet_ntop(sa->sa_family, a, buf, (socklen_t)n) == NULL)
        snprintf(buf, n, "?");
}

int
gw_webhook_url_parse(const char *url, char *host, size_t hostn, int *port,
                     hlf_error_t *err)
{
    CURLU *u = NULL;
    char *scheme = NULL, *h = NULL, *p = NULL, *extra = NULL;
    size_t hl;
    long pv;
    int rc = HLF_EINVAL;

    if (url == NULL || host == NULL || port == NULL)
        return hlf_error_set(err, HLF_EINVAL, "url: NULL argument");
    if (strlen(url) > GW_WEBHOOK_URL_MAX)
        return hlf_error_set(err, HLF_EINVAL, "url is longer than %d bytes",
                             GW_WEBHOOK_URL_MAX);
    u = curl_url();
    if (u == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "url: out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        hlf_error_set(err, rc, "url is not an absolute http(s) URL");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        hlf_error_set(err, rc, "url scheme must be http or https");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK) {
        hlf_error_set(err, rc, "url must not carry user credentials");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
        hlf_error_set(err, rc, "url must not have a fragment");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_ZONEID, &extra, 0) == CURLUE_OK) {
        hlf_error_set(err, rc, "url must not name an IPv6 zone");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || h[0] == '\0') {
        hlf_error_set(err, rc, "url has no host");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) !=
        CURLUE_OK) {
        hlf_error_set(err, rc, "url has no usable port");
        goto done;
    }
    pv = strtol(p, NULL, 10);
    hl = strlen(h);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        memmove(h, h + 1, hl - 2);
        hl -= 2;
        h[hl] = '\0';
    }
    if (hl + 1 > hostn || pv < 1 || pv > 65535) {
        hlf_error_set(err, rc, "url host or port out of range");
        goto done;
    }
    memcpy(host, h, hl + 1);
    *port = (int)pv;
    rc = HLF_OK;
done:
    curl_free(scheme);
    curl_free(h);
    curl_free(p);
    curl_free(extra);
    curl_url_cleanup(u);
    return rc;
}

int
gw_webhook_target_check(const char *host, int port, int allow_private,
                        hlf_error_t *err)
{
    struct addrinfo hints, *res = NULL, *ai;
    char ps[16], ip[INET6_ADDRSTRLEN];
    int g, rc = HLF_OK;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ps, sizeof(ps), "%d", port);
    g = getaddrinfo(host, ps, &hints, &res);
    if (g != 0 || res == NULL) {
        if (res != NULL)
            freeaddrinfo(res);
        return hlf_error_set(err, HLF_ENOTFOUND, "cannot resolve host %s: "
                             "%s", host, g != 0 ? gai_strerror(g) :
                             "no address");
    }
    /* Every address must pass: curl may connect to any of them. */
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        gw_webhook_addr_t c = gw_webhook_addr_classify(ai->ai_addr,
                                                       ai->ai_addrlen);

        if (!gw_webhook_addr_allowed(c, allow_private)) {
            addr_text(ai->ai_addr, ip, sizeof(ip));
            rc = hlf_error_set(err, HLF_EPERM, "host %s resolves to %s, in "
                               "the %s range; webhook targets must be "
                               "public%s", host, ip, gw_webhook_addr_name(c),
                               addr_classes[c].policy == 1 ?
                               " (webhook_allow_private_targets is no)" :
                               "");
            break;
        }
    }
    freeaddrinfo(res);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Signature, Retry-After, backoff                                    */
/* ------------------------------------------------------------------ */

int
gw_webhook_sign(const char *secret, size_t slen, const void *body,
                size_t len, char out[GW_WEBHOOK_SIG_LEN])
{
    uint8_t mac[HLF_SHA256_LEN];
    int rc;

    if (secret == NULL || out == NULL || (body == NULL && len))
        return HLF_EINVAL;
    rc = hlf_hmac_sha256(secret, slen, body, len, mac);
    if (rc != HLF_OK)
        return rc;
    memcpy(out, "sha256=", 7);
    hlf_hex_encode(mac, sizeof(mac), out + 7);
    return HLF_OK;
}

/* Exactly n decimal digits at *p into *v; advances *p. 0 or -1. */
static int
take_digits(const char **p, int n, int *v)
{
    int i, x = 0;

    for (i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return -1;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

/* The literal s at *p; advances *p. 0 or -1. */
static int
take_lit(const char **p, const char *s)
{
    size_t n = strlen(s);

    if (strncmp(*p, s, n) != 0)
        return -1;
    *p += n;
    return 0;
}

/* A three-letter month name at *p (0..11); advances *p. -1 if none. */
static int
take_month(const char **p)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int m;

    for (m = 0; m < 12; m++) {
        if (strncmp(*p, names + 3 * m, 3) == 0) {
            *p += 3;
            return m;
        }
    }
    return -1;
}

/* "HH:MM:SS" at *p into seconds of the day. 0 or -1. */
static int
take_time(const char **p, int *secs)
{
    int h, m, s;

    if (take_digits(p, 2, &h) || take_lit(p, ":") ||
        take_digits(p, 2, &m) || take_lit(p, ":") || take_digits(p, 2, &s) ||
        h > 23 || m > 59 || s > 60)
        return -1;
    *secs = h * 3600 + m * 60 + s;
    return 0;
}

/* Days from 1970-01-01 to year-mon-day (mon 1..12), proleptic
 * Gregorian: count from a March-based year so leap days come last. */
static int64_t
days_from_civil(int64_t year, int mon, int day)
{
    int64_t y = mon <= 2 ? year - 1 : year;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = mon > 2 ? mon - 3 : mon + 9;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

static int
days_in_month(int year, int mon)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                              31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return mon == 2 && leap ? 29 : d[mon - 1];
}

/* An HTTP-date in any of its three forms into seconds since the epoch. */
static int
parse_http_date(const char *s, time_t now, int64_t *out)
{
    const char *p = s;
    size_t wl = 0;
    int day, mon, year, secs;

    while ((p[wl] >= 'A' && p[wl] <= 'Z') || (p[wl] >= 'a' && p[wl] <= 'z'))
        wl++;
    if (wl < 3)
        return -1;
    p += wl;
    if (wl == 3 && take_lit(&p, ", ") == 0) {
        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        if (take_digits(&p, 2, &day) || take_lit(&p, " ") ||
            (mon = take_month(&p)) < 0 || take_lit(&p, " ") ||
            take_digits(&p, 4, &year) || take_lit(&p, " ") ||
            take_time(&p, &secs) || take_lit(&p, " GMT"))
            return -1;
    } else if (wl > 3 && take_lit(&p, ", ") == 0) {
        /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT. A two-digit year
         * more than 50 years ahead of now is in the previous century
         * (RFC 9110 5.6.7). */
        struct tm tm;
        time_t t = now;
        int yy, cur;

        if (take_digits(&p, 2, &day) || take_lit(&p, "-") ||
            (mon = take_month(&p)) < 0 || take_lit(&p, "-") ||
            take_digits(&p, 2, &yy) || take_lit(&p, " ") ||
            take_time(&p, &secs) || take_lit(&p, " GMT") ||
            gmtime_r(&t, &tm) == NULL)
            return -1;
        cur = tm.tm_year + 1900;
        year = cur - cur % 100 + yy;
        if (year > cur + 50)
            year -= 100;
    } else if (wl == 3 && take_lit(&p, " ") == 0) {
        /* asctime: Sun Nov  6 08:49:37 1994 */
        if ((mon = take_month(&p)) < 0 || take_lit(&p, " "))
            return -1;
        if (*p == ' ') {
            p++;
            if (take_digits(&p, 1, &day))
                return -1;
        } else if (take_digits(&p, 2, &day)) {
            return -1;
        }
        if (take_lit(&p, " ") || take_time(&p, &secs) ||
            take_lit(&p, " ") || take_digits(&p, 4, &year))
            return -1;
    } else {
        return -1;
    }
    if (*p != '\0' || day < 1 || day > days_in_month(year, mon + 1))
        return -1;
    *out = days_from_civil(year, mon + 1, day) * 86400 + secs;
    return 0;
}

int
gw_webhook_retry_after(const char *value, time_t now, int64_t *delay_ms)
{
    char buf[64];
    const char *p;
    size_t n;
    int64_t when, ms;

    if (value == NULL || delay_ms == NULL)
        return HLF_EINVAL;
    while (*value == ' ' || *value == '\t')
        value++;
    n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return HLF_EINVAL;
    memcpy(buf, value, n);
    buf[n] = '\0';
    if (buf[0] >= '0' && buf[0] <= '9') {
        /* delay-seconds; a huge number is simply "as long as we wait". */
        ms = 0;
        for (p = buf; *p != '\0'; p++) {
            if (*p < '0' || *p > '9')
                return HLF_EINVAL;
            if (ms <= GW_WEBHOOK_RETRY_AFTER_MAX_MS)
                ms = ms * 10 + (*p - '0') * 1000;
        }
    } else {
        if (parse_http_date(buf, now, &when) != 0)
            return HLF_EINVAL;
        ms = when <= (int64_t)now ? 0 : (when - (int64_t)now) * 1000;
        if (when - (int64_t)now > GW_WEBHOOK_RETRY_AFTER_MAX_MS / 1000)
            ms = GW_WEBHOOK_RETRY_AFTER_MAX_MS;
    }
    *delay_ms = ms > GW_WEBHOOK_RETRY_AFTER_MAX_MS ?
                GW_WEBHOOK_RETRY_AFTER_MAX_MS : ms;
    return HLF_OK;
}

int64_t
gw_webhook_backoff_ms(unsigned attempt, int64_t cap_ms, uint32_t rnd)
{
    int64_t base = GW_WEBHOOK_BACKOFF_BASE_MS, half;
    unsigned i;

    if (cap_ms < 1)
        cap_ms = 1;
    for (i = 1; i < attempt && base < cap_ms; i++)
        base *= 2;
    if (base > cap_ms)
        base = cap_ms;
    half = base / 2;
    return base - half + (int64_t)(rnd % (uint64_t)(half + 1));
}

/* ------------------------------------------------------------------ */
/* Batch body                                                         */
/* ------------------------------------------------------------------ */

/* The keys gw_event_new puts around the stored event. */
static const char *const envelope_keys[] = {"sequence", "block", "tx_index",
                                            "txid", "recorded_by"};

/* Percent-encode everything but RFC 3986 unreserved characters. */
static void
url_escape(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0' && o + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* Serialize o compactly into a new hlf buffer. */
static int
dump_json(json_t *o, char **out, size_t *len)
{
    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *buf;

    if (n == 0 || (buf = hlf_malloc(n + 1)) == NULL)
        return HLF_ENOMEM;
    if (json_dumpb(o, buf, n, JSON_COMPACT | JSON_PRESERVE_ORDER) != n) {
        hlf_free(buf);
        return HLF_ENOMEM;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return HLF_OK;
}

int
gw_webhook_batch_body(gw_event_t *const *evs, size_t n, const char *base_url,
                      char **out, size_t *len, hlf_error_t *err)
{
    json_t *value = NULL, *body = NULL, *stored, *rec;
    char url[1024], key[600];
    size_t i, k;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (evs == NULL || n == 0 || base_url == NULL || out == NULL ||
        len == NULL)
        return hlf_error_set(err, HLF_EINVAL, "batch: no events");
    value = json_array();
    if (value == NULL)
        goto oom;
    for (i = 0; i < n; i++) {
        stored = json_loadb(evs[i]->json, evs[i]->json_len, 0, NULL);
        if (!json_is_object(stored)) {
            json_decref(stored);
            rc = hlf_error_set(err, HLF_EPROTO, "batch: event %" PRIu64
                               " is not a JSON object", evs[i]->sequence);
            goto fail;
        }
        for (k = 0; k < sizeof(envelope_keys) / sizeof(envelope_keys[0]);
             k++)
            json_object_del(stored, envelope_keys[k]);
        url_escape(evs[i]->transaction_id, key, sizeof(key));
        snprintf(url, sizeof(url), "%s/v1/events/%s", base_url, key);
        rec = json_pack("{s:I, s:s, s:s, s:s, s:o}", "EntityEventSequence",
                        (json_int_t)evs[i]->sequence, "ResourceName",
                        "LedgerEvent", "ResourceRecordKey",
                        evs[i]->transaction_id, "ResourceRecordUrl", url,
                        "Event", stored);
        if (rec == NULL || json_array_append_new(value, rec) != 0)
            goto oom;
    }
    body = json_pack("{s:s, s:o}", "@reso.context", GW_WEBHOOK_CONTEXT,
                     "value", value);
    value = NULL;
    if (body == NULL || dump_json(body, out, len) != HLF_OK)
        goto oom;
    json_decref(body);
    return HLF_OK;
oom:
    rc = hlf_error_set(err, HLF_ENOMEM, "batch: out of memory");
fail:
    json_decref(value);
    json_decref(body);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Filters                                                            */
/* ------------------------------------------------------------------ */

/* A filter value: a non-empty string without NUL of bounded length. */
static int
filter_value_ok(json_t *v)
{
    size_t n;

    if (!json_is_string(v))
        return 0;
    n = json_string_length(v);
    return n >= 1 && n <= FILTER_VALUE_MAX &&
           strlen(json_string_value(v)) == n;
}

int
gw_webhook_filter_check(json_t *in, json_t **out, char *field,
                        size_t fieldn, hlf_error_t *err)
{
    json_t *norm = NULL, *arr, *v, *x;
    const char *k;
    size_t i;

    *out = NULL;
    snprintf(field, fieldn, "filter");
    if (!json_is_object(in))
        return hlf_error_set(err, HLF_EINVAL, "filter must be an object");
    norm = json_object();
    if (norm == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    json_object_foreach(in, k, v) {
        snprintf(field, fieldn, "filter.%s", k);
        if (gw_evfield_from_name(k) < 0) {
            json_decref(norm);
            return hlf_error_set(err, HLF_EINVAL, "unknown filter field; "
                                 "known: System, SubjectType, Entity, "
                                 "Event, State, EventSubject, Recorder");
        }
        arr = json_array();
        if (arr == NULL || json_object_set_new(norm, k, arr) != 0) {
            json_decref(norm);
            return hlf_error_set(err, HLF_ENOMEM, "out of memory");
        }
        if (json_is_string(v)) {
            if (!filter_value_ok(v) || json_array_append(arr, v) != 0)
                goto bad;
            continue;
        }
        if (!json_is_array(v) || json_array_size(v) == 0 ||
            json_array_size(v) > FILTER_VALUES_MAX)
            goto bad;
        json_array_foreach(v, i, x) {
            if (!filter_value_ok(x) || json_array_append(arr, x) != 0)
                goto bad;
        }
    }
    snprintf(field, fieldn, "filter");
    *out = norm;
    return HLF_OK;
bad:
    json_decref(norm);
    return hlf_error_set(err, HLF_EINVAL, "must be a string or an array of "
                         "1 to %d strings of 1 to %d bytes",
                         FILTER_VALUES_MAX, FILTER_VALUE_MAX);
}

int
gw_webhook_filter_build(json_t *filter, gw_filter_t **out)
{
    gw_filter_t *f = NULL;
    json_t *arr, *x;
    const char *k;
    size_t i;
    int rc;

    *out = NULL;
    if (!json_is_object(filter))
        return HLF_EINVAL;
    rc = gw_filter_new(&f);
    if (rc != HLF_OK)
        return rc;
    json_object_foreach(filter, k, arr) {
        int field = gw_evfield_from_name(k);

        if (field < 0 || !json_is_array(arr)) {
            gw_filter_free(f);
            return HLF_EINVAL;
        }
        json_array_foreach(arr, i, x) {
            rc = json_is_string(x) ?
                 gw_filter_add(f, (gw_evfield_t)field, json_string_value(x)) :
                 HLF_EINVAL;
            if (rc != HLF_OK) {
                gw_filter_free(f);
                return rc;
            }
        }
    }
    *out = f;
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Stored subscriptions                                               */
/* ------------------------------------------------------------------ */

int
gw_webhook_id_valid(const char *id)
{
    size_t i;

    if (id == NULL || strncmp(id, "sub-", 4) != 0 || strlen(id) != 36)
        return 0;
    for (i = 4; i < 36; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

int
gw_webhook_rec_save(const char *dir, const gw_webhook_rec_t *rec,
                    hlf_error_t *err)
{
    char path[4096];
    json_t *o;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (dir == NULL || rec == NULL || !gw_webhook_id_valid(rec->id))
        return hlf_error_set(err, HLF_EINVAL, "subscription: bad id");
    o = json_pack("{s:i, s:s, s:s, s:s, s:O, s:s, s:s, s:I, s:I}",
                  "version", 1, "id", rec->id, "owner", rec->owner, "url",
                  rec->url, "filter", rec->filter, "secret", rec->secret,
                  "created", rec->created, "start", (json_int_t)rec->start,
                  "acked", (json_int_t)rec->acked);
    if (o == NULL || dump_json(o, &text, &len) != HLF_OK) {
        json_decref(o);
        return hlf_error_set(err, HLF_ENOMEM, "subscription: out of memory");
    }
    json_decref(o);
    snprintf(path, sizeof(path), "%s/%s.json", dir, rec->id);
    /* 0600: the record holds the subscription's signing secret. */
    rc = gw_write_file_atomic(path, text, len, 0600, err);
    hlf_wipe(text, len);
    hlf_free(text);
    return rc;
}

/* A string member of o as a new copy, or NULL. */
static char *
str_member(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? hlf_strdup(json_string_value(v)) : NULL;
}

/* A non-negative integer member of o: 0 or -1. */
static int
seq_member(json_t *o, const char *k, uint64_t *out)
{
    json_t *v = json_object_get(o, k);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int
gw_webhook_rec_load(const char *path, gw_webhook_rec_t *rec,
                    hlf_error_t *err)
{
    json_error_t jerr;
    json_t *o = NULL, *filter = NULL;
    const char *id, *created, *bad = NULL;
    char field[80];
    size_t slen;
    struct stat st;

    memset(rec, 0, sizeof(*rec));
    if (stat(path, &st) != 0)
        return hlf_error_set(err, errno == ENOENT ? HLF_ENOTFOUND : HLF_EIO,
                             "%s: %s", path, strerror(errno));
    if (st.st_size > REC_FILE_MAX)
        return hlf_error_set(err, HLF_EPROTO, "%s: not a subscription "
                             "(larger than %d bytes)", path, REC_FILE_MAX);
    o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        return hlf_error_set(err, HLF_EPROTO, "%s: not a subscription: %s",
                             path, jerr.text);
    id = json_string_value(json_object_get(o, "id"));
    created = json_string_value(json_object_get(o, "created"));
    rec->owner = str_member(o, "owner");
    rec->url = str_member(o, "url");
    rec->secret = str_member(o, "secret");
    slen = rec->secret != NULL ? strlen(rec->secret) : 0;
    if (json_integer_value(json_object_get(o, "version")) != 1)
        bad = "version";
    else if (!gw_webhook_id_valid(id))
        bad = "id";
    else if (rec->owner == NULL || rec->owner[0] == '\0')
        bad = "owner";
    else if (rec->url == NULL)
        bad = "url";
    else if (slen < GW_WEBHOOK_SECRET_MIN || slen > GW_WEBHOOK_SECRET_MAX)
        bad = "secret";
    else if (created == NULL || strlen(created) >= sizeof(rec->created))
        bad = "created";
    else if (seq_member(o, "start", &rec->start) != 0)
        bad = "start";
    else if (seq_member(o, "acked", &rec->acked) != 0)
        bad = "acked";
    else if (gw_webhook_filter_check(json_object_get(o, "filter"), &filter,
                                     field, sizeof(field), NULL) != HLF_OK)
        bad = "filter";
    if (bad != NULL) {
        json_decref(o);
        gw_webhook_rec_clear(rec);
        return hlf_error_set(err, HLF_EPROTO, "%s: not a valid subscription"
                             " (%s)", path, bad);
    }
    snprintf(rec->id, sizeof(rec->id), "%s", id);
    snprintf(rec->created, sizeof(rec->created), "%s", created);
    rec->filter = filter;
    /* The secret also sits in the parsed tree: wipe it there. */
    hlf_wipe((char *)json_string_value(json_object_get(o, "secret")), slen);
    json_decref(o);
    return HLF_OK;
}

int
gw_webhook_rec_remove(const char *dir, const char *id, hlf_error_t *err)
{
    char path[4096];

    if (dir == NULL || !gw_webhook_id_valid(id))
        return hlf_error_set(err, HLF_EINVAL, "subscription: bad id");
    snprintf(path, sizeof(path), "%s/%s.json", dir, id);
    if (unlink(path) != 0 && errno != ENOENT)
        return hlf_error_set(err, HLF_EIO, "%s: %s", path, strerror(errno));
    if (gw_fsync_dir(dir) != HLF_OK)
        return hlf_error_set(err, HLF_EIO, "%s: fsync: %s", dir,
                             strerror(errno));
    return HLF_OK;
}

void
gw_webhook_rec_clear(gw_webhook_rec_t *rec)
{
    if (rec == NULL)
        return;
    if (rec->secret != NULL)
        hlf_wipe(rec->secret, strlen(rec->secret));
    hlf_free(rec->secret);
    hlf_free(rec->owner);
    hlf_free(rec->url);
    json_decref(rec->filter);
    memset(rec, 0, sizeof(*rec));
}

/* ------------------------------------------------------------------ */
/* Module state                                                       */
/* ------------------------------------------------------------------ */

typedef struct wh_sub_s {
    /* Immutable once listed, except rec.acked (delivery thread). */
    gw_webhook_rec_t rec;
    size_t secret_len;
    struct wh_sub_s *next; /* table order = creation order; g_lock */

    /* Guarded by g_lock: what GET shows and what DELETE marks. */
    int deleting;       /* DELETE is removing it: hidden from the API */
    int deleted;        /* its file is gone: the delivery thread frees it */
    uint64_t acked;
    int caught_up;
    unsigned failures;  /* failed attempts of the current batch */
    long last_status;
    char last_error[256];

    /* io_lock orders checkpoint writes against the file's removal. */
    pthread_mutex_t io_lock;
    int file_gone;

    /* The delivery thread's own. */
    gw_hub_sub_t *hsub;
    uint64_t pulled;        /* last sequence taken from the hub */
    unsigned resub_tries;
    int64_t resub_at;
    gw_event_t **batch;
    size_t nbatch;
    char *body;
    size_t body_len;
    char delivery[33];
    unsigned attempt;       /* retries of this batch so far */
    int64_t next_at;
    CURL *easy;
    struct curl_slist *hdrs;
    char refused[200];      /* why open_socket refused, this attempt */
} wh_sub_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
/* Guarded by g_lock. */
static wh_sub_t *g_subs;
static int g_running;   /* between start and stop: jobs may run */
static int g_stopping;  /* stop asked the delivery thread to end */
static int g_jobs;      /* REST jobs in progress */
static gw_webhook_stats_t g_stats;

/*
 * Written by the main thread in init/start/stop only; read by the
 * delivery thread, jobs and handlers in between. g_multi lives from
 * start until after the delivery thread ended and every hub subscriber
 * is gone, so notify callbacks may use it without a lock.
 */
static const gw_config_t *g_cfg;
static char g_dir[4096];
static CURLM *g_multi;
static pthread_t g_thread;
static int g_thread_started;
static int g_curl_inited;
static gw_metric_t *m_deliveries, *m_retries, *m_lag, *m_subs;

/* Wake the delivery thread (any thread). */
static void
wake(void)
{
    CURLM *m;

    pthread_mutex_lock(&g_lock);
    m = g_multi;
    if (m != NULL)
        curl_multi_wakeup(m);
    pthread_mutex_unlock(&g_lock);
}

/* Hub notify: events are waiting. Must not block or call the hub. */
static void
sub_notify(void *ud)
{
    (void)ud;
    curl_multi_wakeup(g_multi);
}

static void
set_status(wh_sub_t *s, long status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the outcome of an attempt for GET (fmt NULL: success). */
static void
set_status(wh_sub_t *s, long status, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&g_lock);
    s->last_status = status;
    if (fmt == NULL) {
        s->failures = 0;
        s->last_error[0] = '\0';
    } else {
        s->failures++;
        va_start(ap, fmt);
        vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&g_lock);
}

static void
batch_release(wh_sub_t *s)
{
    size_t i;

    for (i = 0; i < s->nbatch; i++)
        gw_event_unref(s->batch[i]);
    s->nbatch = 0;
    hlf_free(s->body);
    s->body = NULL;
    s->body_len = 0;
    s->attempt = 0;
    s->next_at = 0;
}

static void
transfer_end(wh_sub_t *s)
{
    if (s->easy != NULL) {
        curl_multi_remove_handle(g_multi, s->easy);
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
}

/* Free a subscription the delivery thread (or stop) owns entirely. */
static void
sub_free(wh_sub_t *s)
{
    if (s == NULL)
        return;
    transfer_end(s);
    gw_hub_unsubscribe(s->hsub);
    batch_release(s);
    hlf_free(s->batch);
    gw_webhook_rec_clear(&s->rec);
    pthread_mutex_destroy(&s->io_lock);
    hlf_free(s);
}

/* A new subscription for rec (taken, even on failure). */
static wh_sub_t *
sub_new(gw_webhook_rec_t *rec)
{
    wh_sub_t *s = hlf_calloc(1, sizeof(*s));
    size_t bmax = g_cfg != NULL ? (size_t)g_cfg->webhook_batch_max
                                : GW_DEFAULT_WEBHOOK_BATCH_MAX;

    if (s == NULL || (s->batch = hlf_calloc(bmax, sizeof(*s->batch))) ==
                         NULL) {
        hlf_free(s);
        gw_webhook_rec_clear(rec);
        return NULL;
    }
    s->rec = *rec;
    memset(rec, 0, sizeof(*rec));
    s->secret_len = strlen(s->rec.secret);
    s->acked = s->rec.acked;
    s->pulled = s->rec.acked;
    pthread_mutex_init(&s->io_lock, NULL);
    return s;
}

/* ------------------------------------------------------------------ */
/* Delivery                                                           */
/* ------------------------------------------------------------------ */

static uint32_t
random_u32(void)
{
    uint32_t r = 0;

    if (hlf_random_bytes(&r, sizeof(r)) != HLF_OK)
        r = (uint32_t)gw_now_ms();
    return r;
}


static void
min_wait(int64_t *wait_ms, int64_t at, int64_t now)
{
    int64_t d = at > now ? at - now : 0;

    if (d < *wait_ms)
        *wait_ms = d;
}

/* The hub subscriber failed or could not be made: try again later. */
static void
resub_later(wh_sub_t *s, int64_t now, const char *why)
{
    gw_hub_unsubscribe(s->hsub);
    s->hsub = NULL;
    s->resub_tries++;
    s->resub_at = now + gw_webhook_backoff_ms(
                            s->resub_tries,
                            g_cfg->webhook_retry_max_ms, random_u32());
    hlf_log(HLF_LOG_WARN, LOG_COMPONENT, "subscription %s: event source: "
            "%s; retrying after %" PRIu64, s->rec.id, why, s->pulled);
    set_status(s, 0, "event source: %s", why);
}

static int
sub_subscribe(wh_sub_t *s, int64_t now)
{
    gw_hub_t *hub = gw_stream_hub();
    gw_hub_sub_opts_t o;
    hlf_error_t e;
    char name[64];
    int rc;

    if (now < s->resub_at)
        return HLF_EAGAIN;
    if (hub == NULL) {
        resub_later(s, now, "the event stream is not running");
        return HLF_EAGAIN;
    }
    memset(&o, 0, sizeof(o));
    if (gw_webhook_filter_build(s->rec.filter, &o.filter) != HLF_OK) {
        resub_later(s, now, "cannot build its filter");
        return HLF_ENOMEM;
    }
    snprintf(name, sizeof(name), "webhook %s", s->rec.id);
    o.has_after = 1;
    o.after = s->pulled;
    /* Enough to fill the next batch while one is in flight; SPILL makes
     * a full queue fall back to the ring and ledger, never drop us. */
    o.queue_max = (size_t)g_cfg->webhook_batch_max * 2;
    o.flags = GW_HUB_SPILL;
    o.notify = sub_notify;
    o.ud = s;
    o.name = name;
    hlf_error_clear(&e);
    rc = gw_hub_subscribe(hub, &o, &s->hsub, &e);
    if (rc != HLF_OK) {
        s->hsub = NULL;
        resub_later(s, now, e.text);
        return rc;
    }
    s->resub_tries = 0;
    return HLF_OK;
}

/* Fill an empty batch from the hub and build its body. */
static void
sub_pull(wh_sub_t *s, int64_t now)
{
    size_t bmax = (size_t)g_cfg->webhook_batch_max;
    char base[320];
    uint8_t rnd[16];
    hlf_error_t e;
    gw_event_t *ev;
    int rc;

    hlf_error_clear(&e);
    while (s->nbatch < bmax) {
        rc = gw_hub_sub_next(s->hsub, &ev, &e);
        if (rc == 0)
            break;
        if (rc < 0) {
            /* Send what we have; resubscribe after its last event. */
            resub_later(s, now, e.text);
            break;
        }
        s->batch[s->nbatch++] = ev;
        s->pulled = ev->sequence;
    }
    if (s->nbatch == 0)
        return;
    gw_public_base(base, sizeof(base));
    rc = gw_webhook_batch_body(s->batch, s->nbatch, base, &s->body,
                               &s->body_len, &e);
    if (rc != HLF_OK) {
        /* Give the events back: read them again from the checkpoint. */
        batch_release(s);
        s->pulled = s->rec.acked;
        resub_later(s, now, e.text);
        return;
    }
    if (hlf_random_bytes(rnd, sizeof(rnd)) != HLF_OK)
        memset(rnd, 0, sizeof(rnd));
    hlf_hex_encode(rnd, sizeof(rnd), s->delivery);
    s->attempt = 0;
    s->next_at = now;
}

/* Refuse connections to addresses the policy forbids (DNS rebinding). */
static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    wh_sub_t *s = clientp;
    gw_webhook_addr_t c;
    char ip[INET6_ADDRSTRLEN];

    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    c = gw_webhook_addr_classify(&a->addr, a->addrlen);
    if (!gw_webhook_addr_allowed(c, g_cfg->webhook_allow_private_targets)) {
        addr_text(&a->addr, ip, sizeof(ip));
        snprintf(s->refused, sizeof(s->refused), "refused to connect to "
                 "%s (%s range)", ip, gw_webhook_addr_name(c));
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Receivers' bodies are not needed. */
static size_t
discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static struct curl_slist *
add_header(struct curl_slist *l, const char *name, const char *value,
           int *ok)
{
    char line[512];
    struct curl_slist *n;

    /* "Name:" with nothing after the colon tells curl not to send its
     * own header of that name. */
    snprintf(line, sizeof(line), value[0] != '\0' ? "%s: %s" : "%s:", name,
             value);
    n = curl_slist_append(l, line);
    if (n == NULL) {
        *ok = 0;
        return l;
    }
    return n;
}

static void attempt_failed(wh_sub_t *s, int64_t now, long status,
                           const char *retry_after, const char *outcome,
                           const char *why);

/* Start one attempt of the current batch. */
static void
sub_send(wh_sub_t *s, int64_t now)
{
    char sig[GW_WEBHOOK_SIG_LEN], source[300];
    CURL *c;
    int ok = 1;

    s->refused[0] = '\0';
    if (gw_webhook_sign(s->rec.secret, s->secret_len, s->body, s->body_len,
                        sig) != HLF_OK) {
        attempt_failed(s, now, 0, NULL, "error", "cannot sign the body");
        return;
    }
    snprintf(source, sizeof(source), "reso-ledger:%s", g_cfg->channel != NULL
             ? g_cfg->channel : "default");
    s->hdrs = add_header(NULL, "Content-Type", "application/json", &ok);
    s->hdrs = add_header(s->hdrs, "X-Reso-Signature", sig, &ok);
    s->hdrs = add_header(s->hdrs, "X-Reso-Delivery", s->delivery, &ok);
    s->hdrs = add_header(s->hdrs, "EntityEventSource", source, &ok);
    /* No "Expect: 100-continue" round trip before larger bodies. */
    s->hdrs = add_header(s->hdrs, "Expect", "", &ok);
    c = curl_easy_init();
    if (!ok || c == NULL) {
        curl_easy_cleanup(c);
        curl_slist_free_all(s->hdrs);
        s->hdrs = NULL;
        attempt_failed(s, now, 0, NULL, "error", "out of memory");
        return;
    }
    curl_easy_setopt(c, CURLOPT_URL, s->rec.url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)s->body_len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)g_cfg->webhook_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    /* Connect directly: a proxy from the environment would hide the
     * address the SSRF check must see. */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "reso-gateway");
    curl_easy_setopt(c, CURLOPT_PRIVATE, s);
    if (curl_multi_add_handle(g_multi, c) != CURLM_OK) {
        curl_easy_cleanup(c);
        curl_slist_free_all(s->hdrs);
        s->hdrs = NULL;
        attempt_failed(s, now, 0, NULL, "error", "cannot start the request");
        return;
    }
    s->easy = c;
    if (s->attempt > 0) {
        gw_counter_inc(m_retries, NULL);
        pthread_mutex_lock(&g_lock);
        g_stats.retries++;
        pthread_mutex_unlock(&g_lock);
    }
}

/* One attempt did not get a 2xx: schedule the next. */
static void
attempt_failed(wh_sub_t *s, int64_t now, long status,
               const char *retry_after, const char *outcome, const char *why)
{
    int64_t delay = -1;

    s->attempt++;
    if ((status == 429 || status == 503) && retry_after != NULL &&
        gw_webhook_retry_after(retry_after, time(NULL), &delay) != HLF_OK)
        delay = -1;
    if (delay < 0)
        delay = gw_webhook_backoff_ms(s->attempt,
                                      g_cfg->webhook_retry_max_ms,
                                      random_u32());
    if (delay < GW_WEBHOOK_RETRY_MIN_MS)
        delay = GW_WEBHOOK_RETRY_MIN_MS;
    s->next_at = now + delay;
    gw_counter_inc(m_deliveries, GW_LABELS(outcome));
    pthread_mutex_lock(&g_lock);
    g_stats.failed_attempts++;
    pthread_mutex_unlock(&g_lock);
    set_status(s, status, "%s", why);
    hlf_log(HLF_LOG_WARN, LOG_COMPONENT, "subscription %s: delivery %s "
            "(%zu events, %" PRIu64 "..%" PRIu64 ") attempt %u: %s; next "
            "attempt in %" PRId64 " ms", s->rec.id, s->delivery, s->nbatch,
            s->batch[0]->sequence, s->batch[s->nbatch - 1]->sequence,
            s->attempt, why, delay);
}

/* A 2xx: persist the checkpoint, then forget the batch. */
static void
attempt_ok(wh_sub_t *s, long status)
{
    uint64_t last = s->batch[s->nbatch - 1]->sequence;
    hlf_error_t e;
    int rc = HLF_OK;

    s->rec.acked = last;
    hlf_error_clear(&e);
    pthread_mutex_lock(&s->io_lock);
    if (!s->file_gone)
        rc = gw_webhook_rec_save(g_dir, &s->rec, &e);
    pthread_mutex_unlock(&s->io_lock);
    if (rc != HLF_OK)
        hlf_log(HLF_LOG_ERROR, LOG_COMPONENT, "subscription %s: checkpoint "
                "%" PRIu64 " not saved (after a restart the receiver gets "
                "these events again): %s", s->rec.id, last, e.text);
    gw_counter_inc(m_deliveries, GW_LABELS("success"));
    pthread_mutex_lock(&g_lock);
    s->acked = last;
    g_stats.delivered_batches++;
    g_stats.delivered_events += s->nbatch;
    pthread_mutex_unlock(&g_lock);
    set_status(s, status, NULL);
    batch_release(s);
}

/* A transfer of s finished with result res. */
static void
sub_done(wh_sub_t *s, CURLcode res, int64_t now)
{
    struct curl_header *h = NULL;
    char ra[64] = "", why[320];
    long status = 0;
    const char *outcome;

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (res == CURLE_OK &&
        curl_easy_header(s->easy, "Retry-After", 0, CURLH_HEADER, -1, &h) ==
            CURLHE_OK && h != NULL)
        snprintf(ra, sizeof(ra), "%s", h->value);
    transfer_end(s);
    if (res == CURLE_OK && status >= 200 && status <= 299) {
        attempt_ok(s, status);
        return;
    }
    if (res != CURLE_OK) {
        outcome = s->refused[0] != '\0' ? "refused"
                  : res == CURLE_OPERATION_TIMEDOUT ? "timeout"
                                                     : "error";
        snprintf(why, sizeof(why), "%s%s%s", curl_easy_strerror(res),
                 s->refused[0] != '\0' ? ": " : "", s->refused);
        status = 0;
    } else {
        outcome = status == 429 || status == 503 ? "throttled" : "rejected";
        snprintf(why, sizeof(why), "HTTP %ld%s%s", status,
                 ra[0] != '\0' ? ", Retry-After " : "", ra);
    }
    attempt_failed(s, now, status, ra[0] != '\0' ? ra : NULL, outcome, why);
}

/* Advance s: subscribe, fill a batch, send it when due. */
static void
sub_step(wh_sub_t *s, int64_t now, int64_t *wait_ms)
{
    int idle;

    if (s->easy != NULL)
        return;
    if (s->hsub == NULL && s->nbatch == 0 &&
        sub_subscribe(s, now) != HLF_OK) {
        min_wait(wait_ms, s->resub_at, now);
        return;
    }
    if (s->nbatch == 0 && s->hsub != NULL)
        sub_pull(s, now);
    idle = s->nbatch == 0 && s->hsub != NULL;
    pthread_mutex_lock(&g_lock);
    s->caught_up = idle;
    pthread_mutex_unlock(&g_lock);
    if (s->nbatch == 0) {
        if (s->hsub == NULL)
            min_wait(wait_ms, s->resub_at, now);
        return;
    }
    if (now < s->next_at) {
        min_wait(wait_ms, s->next_at, now);
        return;
    }
    sub_send(s, now);
}

/*
 * Under g_lock: unlink deleted subscriptions (returned in *dead) and
 * copy the others that are not being deleted into *snap.
 */
static size_t
snapshot(wh_sub_t ***snap, size_t *cap, wh_sub_t **dead, int *stopping)
{
    wh_sub_t **pp, *s;
    size_t n = 0;

    *dead = NULL;
    pthread_mutex_lock(&g_lock);
    *stopping = g_stopping;
    for (pp = &g_subs; (s = *pp) != NULL;) {
        if (s->deleted) {
            *pp = s->next;
            s->next = *dead;
            *dead = s;
            continue;
        }
        pp = &s->next;
        if (s->deleting)
            continue;
        if (n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            wh_sub_t **ns = hlf_realloc(*snap, nc * sizeof(*ns));

            if (ns == NULL)
                break; /* the rest waits for the next round */
            *snap = ns;
            *cap = nc;
        }
        (*snap)[n++] = s;
    }
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* Handle every finished transfer; returns how many there were. */
static int
collect_done(int64_t now)
{
    CURLMsg *m;
    int left, k = 0;

    while ((m = curl_multi_info_read(g_multi, &left)) != NULL) {
        CURL *c = m->easy_handle;
        CURLcode res = m->data.result;
        char *priv = NULL;
        wh_sub_t *s;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(c, CURLINFO_PRIVATE, &priv);
        s = (wh_sub_t *)(void *)priv;
        if (s != NULL && s->easy == c) {
            sub_done(s, res, now);
            k++;
        }
    }
    return k;
}

static void *
deliver_main(void *arg)
{
    wh_sub_t **snap = NULL, *dead, *next;
    size_t cap = 0, n, i;
    int64_t drain_until = 0;
    int running;

    (void)arg;
    for (;;) {
        int64_t now = gw_now_ms(), wait_ms = IDLE_MS;
        int stopping, busy = 0;

        n = snapshot(&snap, &cap, &dead, &stopping);
        for (; dead != NULL; dead = next) {
            next = dead->next;
            hlf_log(HLF_LOG_INFO, LOG_COMPONENT, "subscription %s deleted",
                    dead->rec.id);
            sub_free(dead);
        }
        if (stopping && drain_until == 0)
            drain_until = now + DRAIN_MS;
        for (i = 0; i < n; i++) {
            if (!stopping)
                sub_step(snap[i], now, &wait_ms);
            busy += snap[i]->easy != NULL;
        }
        if (stopping && (busy == 0 || now >= drain_until))
            break;
        curl_multi_perform(g_multi, &running);
        if (collect_done(gw_now_ms()) > 0)
            continue; /* acknowledged batches make room: pull again */
        curl_multi_poll(g_multi, NULL, 0, (int)wait_ms, NULL);
        curl_multi_perform(g_multi, &running);
        collect_done(gw_now_ms());
    }
    hlf_free(snap);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* REST                                                               */
/* ------------------------------------------------------------------ */

static int
reply_code(gw_req_t *req, int status, const char *code, const char *field,
           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* An error with a code of this module, in the one error shape. */
static int
reply_code(gw_req_t *req, int status, const char *code, const char *field,
           const char *fmt, ...)
{
    char msg[600];
    json_t *e;
    va_list ap;
    size_t i;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (i = 0; msg[i] != '\0'; i++)
        if (msg[i] == '\r' || msg[i] == '\n')
            msg[i] = ' ';
    e = json_object();
    if (e != NULL) {
        json_object_set_new(e, "code", json_string(code));
        if (field != NULL)
            json_object_set_new(e, "field", json_string(field));
        json_object_set_new(e, "message", json_string(msg));
    }
    return gw_reply_json(req, status, json_pack("{s:o}", "error", e), NULL,
                         0);
}

static const char *
caller(gw_req_t *req)
{
    const gw_principal_t *p = gw_req_principal(req);

    return p != NULL && p->identity != NULL ? p->identity->name : NULL;
}

/* The public view of s (no secret). g_lock held. */
static json_t *
sub_json(const wh_sub_t *s)
{
    json_t *d = json_pack("{s:I, s:b, s:i}", "acknowledged",
                          (json_int_t)s->acked, "caught_up", s->caught_up,
                          "failures", (int)s->failures);

    if (d != NULL && s->last_status != 0)
        json_object_set_new(d, "last_status", json_integer(s->last_status));
    if (d != NULL && s->last_error[0] != '\0')
        json_object_set_new(d, "last_error", json_string(s->last_error));
    return json_pack("{s:s, s:s, s:O, s:I, s:s, s:s, s:o*}", "id",
                     s->rec.id, "url", s->rec.url, "filter", s->rec.filter,
                     "after", (json_int_t)s->rec.start, "created",
                     s->rec.created, "identity", s->rec.owner, "delivery",
                     d);
}

/* The listed subscription id, unless being deleted. g_lock held. */
static wh_sub_t *
find_locked(const char *id)
{
    wh_sub_t *s;

    for (s = g_subs; s != NULL; s = s->next)
        if (!s->deleting && strcmp(s->rec.id, id) == 0)
            return s;
    return NULL;
}

static size_t
count_owner_locked(const char *owner)
{
    wh_sub_t *s;
    size_t n = 0;

    for (s = g_subs; s != NULL; s = s->next)
        n += !s->deleting && strcmp(s->rec.owner, owner) == 0;
    return n;
}

/* A job may run (1) until stop; job_leave when done. */
static int
job_enter(void)
{
    int ok;

    pthread_mutex_lock(&g_lock);
    ok = g_running && !g_stopping;
    if (ok)
        g_jobs++;
    pthread_mutex_unlock(&g_lock);
    return ok;
}

static void
job_leave(void)
{
    pthread_mutex_lock(&g_lock);
    if (--g_jobs == 0)
        pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

typedef struct create_job_s {
    gw_req_t *req;
    gw_webhook_rec_t rec; /* url, filter, secret, owner filled */
    char host[512];
    int port;
    int has_after;
    uint64_t after;
} create_job_t;

static void
create_job_free(void *arg)
{
    create_job_t *j = arg;

    gw_webhook_rec_clear(&j->rec);
    hlf_free(j);
}

static void
create_job(void *arg)
{
    create_job_t *j = arg;
    gw_req_t *req = j->req;
    gw_hub_stats_t hs;
    gw_hub_t *hub;
    wh_sub_t *s = NULL;
    json_t *body;
    hlf_error_t e;
    uint8_t rnd[16];
    char loc[80];
    struct tm tm;
    time_t t = time(NULL);
    size_t n;
    int rc;

    if (!job_enter()) {
        gw_reply_error(req, GW_ERR_SERVICE_UNAVAILABLE, NULL, "webhooks are "
                       "shutting down");
        create_job_free(j);
        return;
    }
    hlf_error_clear(&e);
    rc = gw_webhook_target_check(j->host, j->port,
                                 g_cfg->webhook_allow_private_targets, &e);
    if (rc == HLF_ENOTFOUND) {
        reply_code(req, 400, "WEBHOOK_TARGET_UNRESOLVABLE", "url", "%s",
                   e.text);
        goto out;
    }
    if (rc != HLF_OK) {
        reply_code(req, 400, "WEBHOOK_TARGET_FORBIDDEN", "url", "%s",
                   e.text);
        goto out;
    }
    hub = gw_stream_hub();
    if (!j->has_after && hub == NULL) {
        gw_reply_error(req, GW_ERR_SERVICE_UNAVAILABLE, NULL, "the event "
                       "stream is not running");
        goto out;
    }
    if (!j->has_after) {
        /* "From now": after the newest event the hub has published. */
        gw_hub_stats(hub, &hs);
        j->after = hs.last_sequence;
    }
    if (hlf_random_bytes(rnd, sizeof(rnd)) != HLF_OK) {
        gw_reply_error(req, GW_ERR_INTERNAL, NULL, "no randomness");
        goto out;
    }
    memcpy(j->rec.id, "sub-", 4);
    hlf_hex_encode(rnd, sizeof(rnd), j->rec.id + 4);
    gmtime_r(&t, &tm);
    strftime(j->rec.created, sizeof(j->rec.created), "%Y-%m-%dT%H:%M:%SZ",
             &tm);
    j->rec.start = j->rec.acked = j->after;
    pthread_mutex_lock(&g_lock);
    n = count_owner_locked(j->rec.owner);
    pthread_mutex_unlock(&g_lock);
    if (n >= GW_WEBHOOK_MAX_PER_IDENTITY)
        goto limit;
    rc = gw_webhook_rec_save(g_dir, &j->rec, &e);
    if (rc != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, LOG_COMPONENT, "%s: cannot save "
                "subscription %s: %s", gw_req_id(req), j->rec.id, e.text);
        gw_reply_error(req, GW_ERR_INTERNAL, NULL, "cannot save the "
                       "subscription");
        goto out;
    }
    s = sub_new(&j->rec);
    if (s == NULL) {
        gw_reply_error(req, GW_ERR_INTERNAL, NULL, "out of memory");
        goto out;
    }
    snprintf(loc, sizeof(loc), "/v1/subscriptions/%s", s->rec.id);
    pthread_mutex_lock(&g_lock);
    /* Count again: concurrent creates of one identity race past the
     * first check, and the limit is exact. */
    if (count_owner_locked(s->rec.owner) >= GW_WEBHOOK_MAX_PER_IDENTITY) {
        pthread_mutex_unlock(&g_lock);
        gw_webhook_rec_remove(g_dir, s->rec.id, NULL);
        sub_free(s);
        goto limit;
    }
    {
        wh_sub_t **pp = &g_subs;

        while (*pp != NULL)
            pp = &(*pp)->next;
        *pp = s;
    }
    body = sub_json(s);
    pthread_mutex_unlock(&g_lock);
    hlf_log(HLF_LOG_INFO, LOG_COMPONENT, "%s: subscription %s created for "
            "%s, after %" PRIu64, gw_req_id(req), s->rec.id, s->rec.owner,
            s->rec.start);
    wake();
    {
        gw_header_t h = {"Location", loc};

        gw_reply_json(req, 201, body, &h, 1);
    }
    goto out;
limit:
    reply_code(req, 409, "SUBSCRIPTION_LIMIT", NULL, "an identity may "
               "have at most %d subscriptions", GW_WEBHOOK_MAX_PER_IDENTITY);
out:
    job_leave();
    create_job_free(j);
}

static int
h_create(gw_req_t *req)
{
    static const char *const known[] = {"url", "filter", "secret", "after"};
    json_t *in = gw_req_json(req), *v;
    const char *k, *who = caller(req);
    char field[96];
    create_job_t *j;
    hlf_error_t e;
    size_t i, slen;
    int rc;

    if (who == NULL)
        return HLF_EINVAL;
    if (!json_is_object(in))
        return gw_reply_error(req, GW_ERR_BAD_REQUEST, NULL, "the body must "
                              "be a JSON object");
    json_object_foreach(in, k, v) {
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(k, known[i]) == 0)
                break;
        if (i == sizeof(known) / sizeof(known[0]))
            return gw_reply_error(req, GW_ERR_BAD_REQUEST, k, "unknown "
                                  "field; known: url, filter, secret, "
                                  "after");
    }
    j = hlf_calloc(1, sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    j->req = req;
    hlf_error_clear(&e);
    v = json_object_get(in, "url");
    if (!json_is_string(v)) {
        rc = gw_reply_error(req, GW_ERR_BAD_REQUEST, "url", "url is "
                            "required and must be a string");
        goto done;
    }
    if (gw_webhook_url_parse(json_string_value(v), j->host, sizeof(j->host),
                             &j->port, &e) != HLF_OK) {
        rc = gw_reply_error(req, GW_ERR_BAD_REQUEST, "url", "%s", e.text);
        goto done;
    }
    v = json_object_get(in, "secret");
    slen = json_is_string(v) ? json_string_length(v) : 0;
    if (!json_is_string(v) || slen < GW_WEBHOOK_SECRET_MIN ||
        slen > GW_WEBHOOK_SECRET_MAX ||
        strlen(json_string_value(v)) != slen) {
        rc = gw_reply_error(req, GW_ERR_BAD_REQUEST, "secret", "secret is "
                            "required: a string of %d to %d bytes",
                            GW_WEBHOOK_SECRET_MIN, GW_WEBHOOK_SECRET_MAX);
        goto done;
    }
    v = json_object_get(in, "filter");
    if (v == NULL || json_is_null(v)) {
        j->rec.filter = json_object();
    } else if (gw_webhook_filter_check(v, &j->rec.filter, field,
                                       sizeof(field), &e) != HLF_OK) {
        rc = gw_reply_error(req, GW_ERR_BAD_REQUEST, field, "%s", e.text);
        goto done;
    }
    v = json_object_get(in, "after");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            rc = gw_reply_error(req, GW_ERR_BAD_REQUEST, "after", "after "
                                "must be a non-negative integer sequence");
            goto done;
        }
        j->has_after = 1;
        j->after = (uint64_t)json_integer_value(v);
    }
    j->rec.url = hlf_strdup(json_string_value(json_object_get(in, "url")));
    j->rec.secret = hlf_strdup(json_string_value(json_object_get(in,
                                                                 "secret")));
    j->rec.owner = hlf_strdup(who);
    if (j->rec.filter == NULL || j->rec.url == NULL ||
        j->rec.secret == NULL || j->rec.owner == NULL) {
        create_job_free(j);
        return HLF_ENOMEM;
    }
    return gw_req_defer(req, create_job, j, create_job_free);
done:
    create_job_free(j);
    return rc;
}

static int
h_list(gw_req_t *req)
{
    const char *who = caller(req);
    json_t *arr = json_array();
    wh_sub_t *s;

    if (who == NULL || arr == NULL) {
        json_decref(arr);
        return HLF_ENOMEM;
    }
    pthread_mutex_lock(&g_lock);
    for (s = g_subs; s != NULL; s = s->next)
        if (!s->deleting && strcmp(s->rec.owner, who) == 0)
            json_array_append_new(arr, sub_json(s));
    pthread_mutex_unlock(&g_lock);
    return gw_reply_json(req, 200, json_pack("{s:o}", "value", arr), NULL,
                         0);
}

/* Find id for the caller: NULL after replying 404 or 403. g_lock held on
 * success only. */
static wh_sub_t *
lookup_locked(gw_req_t *req, const char *id)
{
    wh_sub_t *s;

    pthread_mutex_lock(&g_lock);
    s = gw_webhook_id_valid(id) ? find_locked(id) : NULL;
    if (s == NULL) {
        pthread_mutex_unlock(&g_lock);
        gw_reply_error(req, GW_ERR_NOT_FOUND, "id", "no subscription %s",
                       id);
        return NULL;
    }
    if (strcmp(s->rec.owner, caller(req)) != 0) {
        pthread_mutex_unlock(&g_lock);
        gw_reply_error(req, GW_ERR_FORBIDDEN, "id", "subscription %s "
                       "belongs to another identity", id);
        return NULL;
    }
    return s;
}

static int
h_get(gw_req_t *req)
{
    wh_sub_t *s;
    json_t *body;

    if (caller(req) == NULL)
        return HLF_EINVAL;
    s = lookup_locked(req, gw_req_param(req, "id"));
    if (s == NULL)
        return HLF_OK;
    body = sub_json(s);
    pthread_mutex_unlock(&g_lock);
    return gw_reply_json(req, 200, body, NULL, 0);
}

static void
delete_job(void *arg)
{
    gw_req_t *req = arg;
    const char *id = gw_req_param(req, "id");
    wh_sub_t *s;
    hlf_error_t e;
    int rc;

    if (!job_enter()) {
        gw_reply_error(req, GW_ERR_SERVICE_UNAVAILABLE, NULL, "webhooks are "
                       "shutting down");
        return;
    }
    s = lookup_locked(req, id);
    if (s == NULL)
        goto out;
    s->deleting = 1;
    pthread_mutex_unlock(&g_lock);
    /* s stays allocated: only the delivery thread frees it, and only
     * once `deleted` is set below. */
    hlf_error_clear(&e);
    pthread_mutex_lock(&s->io_lock);
    rc = gw_webhook_rec_remove(g_dir, s->rec.id, &e);
    if (rc == HLF_OK)
        s->file_gone = 1;
    pthread_mutex_unlock(&s->io_lock);
    pthread_mutex_lock(&g_lock);
    if (rc == HLF_OK)
        s->deleted = 1;
    else
        s->deleting = 0;
    pthread_mutex_unlock(&g_lock);
    if (rc != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, LOG_COMPONENT, "%s: cannot delete "
                "subscription %s: %s", gw_req_id(req), id, e.text);
        gw_reply_error(req, GW_ERR_INTERNAL, NULL, "cannot delete the "
                       "subscription");
        goto out;
    }
    wake();
    gw_reply_json(req, 204, NULL, NULL, 0);
out:
    job_leave();
}

static int
h_delete(gw_req_t *req)
{
    if (caller(req) == NULL)
        return HLF_EINVAL;
    return gw_req_defer(req, delete_job, req, NULL);
}

/* ------------------------------------------------------------------ */
/* Metrics                                                            */
/* ------------------------------------------------------------------ */

/* webhook_lag: blocks between the newest published event and the
 * furthest-behind subscription's checkpoint (0 when all caught up). */
static void
collect(void *ud)
{
    gw_hub_t *hub = gw_stream_hub();
    gw_hub_stats_t hs;
    uint64_t lag = 0, head;
    size_t n = 0;
    wh_sub_t *s;

    (void)ud;
    memset(&hs, 0, sizeof(hs));
    if (hub != NULL)
        gw_hub_stats(hub, &hs);
    head = GW_SEQ_BLOCK(hs.last_sequence);
    pthread_mutex_lock(&g_lock);
    for (s = g_subs; s != NULL; s = s->next) {
        if (s->deleting)
            continue;
        n++;
        if (!s->caught_up && head > GW_SEQ_BLOCK(s->acked) &&
            head - GW_SEQ_BLOCK(s->acked) > lag)
            lag = head - GW_SEQ_BLOCK(s->acked);
    }
    pthread_mutex_unlock(&g_lock);
    gw_gauge_set(m_lag, NULL, (double)lag);
    gw_gauge_set(m_subs, NULL, (double)n);
}

void
gw_webhook_stats(gw_webhook_stats_t *st)
{
    wh_sub_t *s;

    pthread_mutex_lock(&g_lock);
    *st = g_stats;
    st->subscriptions = 0;
    for (s = g_subs; s != NULL; s = s->next)
        st->subscriptions += !s->deleting;
    pthread_mutex_unlock(&g_lock);
}

/* ------------------------------------------------------------------ */
/* The module                                                         */
/* ------------------------------------------------------------------ */

static int
wh_init(const gw_config_t *cfg, hlf_error_t *err)
{
    static const gw_route_def_t routes[] = {
        {"POST", "/v1/subscriptions", h_create,
         GW_ROUTE_AUTH | GW_ROUTE_JSON},
        {"GET", "/v1/subscriptions", h_list, GW_ROUTE_AUTH},
        {"GET", "/v1/subscriptions/{id}", h_get, GW_ROUTE_AUTH},
        {"DELETE", "/v1/subscriptions/{id}", h_delete, GW_ROUTE_AUTH},
    };
    int rc;

    g_cfg = cfg;
    rc = gw_http_routes(routes, sizeof(routes) / sizeof(routes[0]), err);
    if (rc != HLF_OK)
        return rc;
    m_deliveries = gw_metric_register(GW_METRIC_COUNTER,
                                      "webhook_deliveries_total",
                                      "Webhook push attempts by outcome "
                                      "(success, rejected, throttled, "
                                      "timeout, refused, error)", "outcome",
                                      NULL, 0);
    m_retries = gw_metric_register(GW_METRIC_COUNTER,
                                   "webhook_retries_total",
                                   "Webhook batches sent again after a "
                                   "failed attempt", NULL, NULL, 0);
    m_lag = gw_metric_register(GW_METRIC_GAUGE, "webhook_lag",
                               "Blocks between the newest event and the "
                               "furthest-behind webhook checkpoint", NULL,
                               NULL, 0);
    m_subs = gw_metric_register(GW_METRIC_GAUGE, "webhook_subscriptions",
                                "Webhook subscriptions", NULL, NULL, 0);
    if (m_deliveries == NULL || m_retries == NULL || m_lag == NULL ||
        m_subs == NULL || gw_metrics_collector(collect, NULL) != HLF_OK)
        return hlf_error_set(err, HLF_ENOMEM, "webhooks: cannot register "
                             "metrics");
    return HLF_OK;
}

static int
mkdir_0700(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Load every <id>.json of g_dir into the table (empty before). */
static int
load_all(hlf_error_t *err)
{
    DIR *d = opendir(g_dir);
    struct dirent *de;
    wh_sub_t **tail = &g_subs;
    int rc = HLF_OK, n = 0;

    if (d == NULL)
        return hlf_error_set(err, HLF_EIO, "webhooks: %s: %s", g_dir,
                             strerror(errno));
    while ((de = readdir(d)) != NULL) {
        char path[4400], id[64];
        size_t len = strlen(de->d_name);
        gw_webhook_rec_t rec;
        wh_sub_t *s;

        if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp.") != NULL) {
            /* A temporary file a crash left behind. */
            snprintf(path, sizeof(path), "%s/%s", g_dir, de->d_name);
            unlink(path);
            continue;
        }
        if (len != 41 || strcmp(de->d_name + 36, ".json") != 0)
            continue;
        memcpy(id, de->d_name, 36);
        id[36] = '\0';
        if (!gw_webhook_id_valid(id))
            continue;
        snprintf(path, sizeof(path), "%s/%s", g_dir, de->d_name);
        rc = gw_webhook_rec_load(path, &rec, err);
        if (rc == HLF_OK && strcmp(rec.id, id) != 0) {
            gw_webhook_rec_clear(&rec);
            rc = hlf_error_set(err, HLF_EPROTO, "%s: holds subscription "
                               "of another id", path);
        }
        if (rc != HLF_OK)
            break;
        s = sub_new(&rec);
        if (s == NULL) {
            rc = hlf_error_set(err, HLF_ENOMEM, "webhooks: out of memory");
            break;
        }
        *tail = s;
        tail = &s->next;
        n++;
    }
    closedir(d);
    if (rc == HLF_OK)
        hlf_log(HLF_LOG_INFO, LOG_COMPONENT, "%d subscriptions loaded from "
                "%s", n, g_dir);
    return rc;
}

static void
free_all(void)
{
    wh_sub_t *s, *next;

    pthread_mutex_lock(&g_lock);
    s = g_subs;
    g_subs = NULL;
    pthread_mutex_unlock(&g_lock);
    for (; s != NULL; s = next) {
        next = s->next;
        sub_free(s);
    }
}

static void wh_stop(void);

static int
wh_start(const gw_config_t *cfg, hlf_error_t *err)
{
    CURLM *m;
    int rc;

    g_cfg = cfg;
    snprintf(g_dir, sizeof(g_dir), "%s/webhooks", cfg->state_dir);
    if (mkdir_0700(cfg->state_dir) != 0 || mkdir_0700(g_dir) != 0)
        return hlf_error_set(err, HLF_EIO, "webhooks: cannot create %s: %s",
                             g_dir, strerror(errno));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return hlf_error_set(err, HLF_EIO, "webhooks: libcurl init failed");
    g_curl_inited = 1;
    memset(&g_stats, 0, sizeof(g_stats));
    rc = load_all(err);
    if (rc != HLF_OK)
        goto fail;
    m = curl_multi_init();
    if (m == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "webhooks: curl_multi_init");
        goto fail;
    }
    pthread_mutex_lock(&g_lock);
    g_multi = m;
    g_stopping = 0;
    g_running = 1;
    pthread_mutex_unlock(&g_lock);
    if (pthread_create(&g_thread, NULL, deliver_main, NULL) != 0) {
        rc = hlf_error_set(err, HLF_ENOMEM, "webhooks: cannot start the "
                           "delivery thread");
        goto fail;
    }
    g_thread_started = 1;
    return HLF_OK;
fail:
    wh_stop();
    return rc;
}

static void
wh_stop(void)
{
    struct timespec ts;
    CURLM *m;

    pthread_mutex_lock(&g_lock);
    g_stopping = 1;
    g_running = 0;
    pthread_mutex_unlock(&g_lock);
    wake();
    if (g_thread_started) {
        pthread_join(g_thread, NULL);
        g_thread_started = 0;
    }
    /* Jobs that started before stop finish first (DNS is bounded by the
     * resolver's timeouts); a stuck one is left running rather than
     * freeing what it uses. */
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&g_lock);
    while (g_jobs > 0 &&
           pthread_cond_timedwait(&g_cond, &g_lock, &ts) == 0)
        ;
    if (g_jobs > 0) {
        pthread_mutex_unlock(&g_lock);
        hlf_log(HLF_LOG_ERROR, LOG_COMPONENT, "%d jobs still running at "
                "stop", g_jobs);
        return;
    }
    pthread_mutex_unlock(&g_lock);
    free_all();
    pthread_mutex_lock(&g_lock);
    m = g_multi;
    g_multi = NULL;
    pthread_mutex_unlock(&g_lock);
    if (m != NULL)
        curl_multi_cleanup(m);
    if (g_curl_inited) {
        curl_global_cleanup();
        g_curl_inited = 0;
    }
}

const gw_module_t gw_module_webhooks = {"webhooks", wh_init, wh_start,
                                        wh_stop};
