/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test webhook receiver (webhooks_receiver.h): libmicrohttpd with a
 * thread per connection, so a planned slow answer delays only its own
 * request. The signature is recomputed with OpenSSL's HMAC() directly,
 * not through libhlf, so a wrong signature in the gateway cannot be
 * matched by the same mistake here.
 */
#include "webhooks_receiver.h"

#include "task.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct whr_s {
    struct MHD_Daemon *d;
    int port;
    char secret[600];
    size_t batch_max;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;
    int plan_status, plan_n, plan_delay_ms;
    char plan_retry_after[64];
    size_t requests, bad, ok;
    whr_req_t *reqs;
    size_t nreqs, capreqs;
    whr_event_t *evs;
    size_t nevs, capevs;
    uint64_t *seen;       /* distinct acknowledged sequences, sorted */
    size_t nseen, capseen;
    char source[300];
};

typedef struct body_s {
    char *p;
    size_t len, cap;
} body_t;

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* NULL if the body is a well-formed batch, else why not. On success
 * *out is the parsed body (json_decref). */
static const char *
check_body(whr_t *r, const char *body, size_t len, json_t **out)
{
    json_t *o = json_loadb(body, len, 0, NULL), *v, *it, *ev;
    const char *key, *url, *tid;
    uint64_t prev = 0;
    size_t i, klen, ulen;

    *out = NULL;
    if (!json_is_object(o))
        return "body is not a JSON object";
    v = json_object_get(o, "value");
    if (json_object_size(o) != 2 ||
        !json_is_string(json_object_get(o, "@reso.context")) ||
        strcmp(json_string_value(json_object_get(o, "@reso.context")),
               "urn:reso:metadata:2.0:resource:entityevent") != 0 ||
        !json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > r->batch_max) {
        json_decref(o);
        return "bad envelope";
    }
    json_array_foreach(v, i, it) {
        json_t *seq = json_object_get(it, "EntityEventSequence");

        ev = json_object_get(it, "Event");
        key = json_string_value(json_object_get(it, "ResourceRecordKey"));
        url = json_string_value(json_object_get(it, "ResourceRecordUrl"));
        tid = json_string_value(json_object_get(ev, "TransactionId"));
        if (json_object_size(it) != 5 || !json_is_integer(seq) ||
            json_integer_value(seq) <= 0 ||
            (uint64_t)json_integer_value(seq) <= prev ||
            !json_is_object(ev) || key == NULL || url == NULL ||
            tid == NULL || strcmp(key, tid) != 0 ||
            !json_is_string(json_object_get(it, "ResourceName")) ||
            strcmp(json_string_value(json_object_get(it, "ResourceName")),
                   "LedgerEvent") != 0) {
            json_decref(o);
            return "bad record";
        }
        klen = strlen(key);
        ulen = strlen(url);
        /* Keys are UUIDs here, so the URL carries them verbatim. */
        if (ulen < klen + 11 || strncmp(url + ulen - klen - 11,
                                        "/v1/events/", 11) != 0 ||
            strcmp(url + ulen - klen, key) != 0) {
            json_decref(o);
            return "bad ResourceRecordUrl";
        }
        prev = (uint64_t)json_integer_value(seq);
    }
    *out = o;
    return NULL;
}

static int
is_hex32(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 32)
        return 0;
    for (i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static const char *
check_signature(whr_t *r, const char *sig, const char *body, size_t len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0, i;
    char want[80];

    if (HMAC(EVP_sha256(), r->secret, (int)strlen(r->secret),
             (const unsigned char *)body, len, mac, &mlen) == NULL ||
        mlen != 32)
        return "HMAC failed";
    memcpy(want, "sha256=", 7);
    for (i = 0; i < 32; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
    if (sig == NULL || strcmp(sig, want) != 0)
        return "bad signature";
    return NULL;
}

/* Remember an acknowledged sequence (sorted set). Lock held. */
static void
seen_add(whr_t *r, uint64_t seq)
{
    size_t lo = 0, hi = r->nseen;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (r->seen[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < r->nseen && r->seen[lo] == seq)
        return;
    if (r->nseen == r->capseen) {
        r->capseen = r->capseen ? r->capseen * 2 : 64;
        r->seen = realloc(r->seen, r->capseen * sizeof(*r->seen));
        ASSERT_NOT_NULL(r->seen);
    }
    memmove(r->seen + lo + 1, r->seen + lo,
            (r->nseen - lo) * sizeof(*r->seen));
    r->seen[lo] = seq;
    r->nseen++;
}

/* Decide and record the answer to one complete request. */
static int
handle(whr_t *r, struct MHD_Connection *c, const body_t *b, int *delay_ms,
       char *retry_after, size_t ran)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 "Content-Type");
    const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  "X-Reso-Signature");
    const char *del = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  "X-Reso-Delivery");
    const char *src = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  "EntityEventSource");
    const char *why = NULL;
    json_t *body = NULL, *v, *it;
    whr_req_t q;
    size_t i;
    int status;

    memset(&q, 0, sizeof(q));
    q.at_ms = now_ms();
    snprintf(q.delivery, sizeof(q.delivery), "%s", del ? del : "");
    if (ct == NULL || strcmp(ct, "application/json") != 0)
        why = "bad Content-Type";
    else if (!is_hex32(del))
        why = "bad X-Reso-Delivery";
    if (why == NULL)
        why = check_signature(r, sig, b->p ? b->p : "", b->len);
    if (why == NULL)
        why = check_body(r, b->p ? b->p : "", b->len, &body);
    if (body != NULL) {
        v = json_object_get(body, "value");
        q.nevents = json_array_size(v);
        q.first = (uint64_t)json_integer_value(json_object_get(
            json_array_get(v, 0), "EntityEventSequence"));
        q.last = (uint64_t)json_integer_value(json_object_get(
            json_array_get(v, q.nevents - 1), "EntityEventSequence"));
    }
    pthread_mutex_lock(&r->lock);
    r->requests++;
    if (src != NULL)
        snprintf(r->source, sizeof(r->source), "%s", src);
    retry_after[0] = '\0';
    *delay_ms = 0;
    if (why != NULL) {
        fprintf(stderr, "receiver: refusing push: %s\n", why);
        r->bad++;
        status = 400;
    } else if (r->plan_n != 0) {
        status = r->plan_status;
        snprintf(retry_after, ran, "%s", r->plan_retry_after);
        *delay_ms = r->plan_delay_ms;
        if (r->plan_n > 0)
            r->plan_n--;
    } else {
        status = 200;
    }
    q.status = status;
    if (status >= 200 && status <= 299 && body != NULL) {
        r->ok++;
        v = json_object_get(body, "value");
        json_array_foreach(v, i, it) {
            whr_event_t *e;

            if (r->nevs == r->capevs) {
                r->capevs = r->capevs ? r->capevs * 2 : 64;
                r->evs = realloc(r->evs, r->capevs * sizeof(*r->evs));
                ASSERT_NOT_NULL(r->evs);
            }
            e = &r->evs[r->nevs++];
            e->seq = (uint64_t)json_integer_value(json_object_get(
                it, "EntityEventSequence"));
            e->event = json_incref(json_object_get(it, "Event"));
            snprintf(e->delivery, sizeof(e->delivery), "%s", q.delivery);
            snprintf(e->url, sizeof(e->url), "%s",
                     json_string_value(json_object_get(it,
                                                       "ResourceRecordUrl")));
            seen_add(r, e->seq);
        }
    }
    if (r->nreqs == r->capreqs) {
        r->capreqs = r->capreqs ? r->capreqs * 2 : 64;
        r->reqs = realloc(r->reqs, r->capreqs * sizeof(*r->reqs));
        ASSERT_NOT_NULL(r->reqs);
    }
    r->reqs[r->nreqs++] = q;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    json_decref(body);
    return status;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *data,
           size_t *size, void **con_cls)
{
    whr_t *r = cls;
    body_t *b = *con_cls;
    struct MHD_Response *resp;
    char ra[64];
    int status, delay;
    enum MHD_Result ret;

    (void)url;
    (void)version;
    if (b == NULL) {
        b = calloc(1, sizeof(*b));
        if (b == NULL)
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*size > 0) {
        if (b->len + *size + 1 > b->cap) {
            b->cap = (b->len + *size + 1) * 2;
            b->p = realloc(b->p, b->cap);
            if (b->p == NULL)
                return MHD_NO;
        }
        memcpy(b->p + b->len, data, *size);
        b->len += *size;
        b->p[b->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    status = strcmp(method, "POST") == 0 ? handle(r, c, b, &delay, ra,
                                                  sizeof(ra))
                                         : 405;
    if (status != 405 && delay > 0)
        sleep_ms(delay);
    resp = MHD_create_response_from_buffer(2, (void *)"ok",
                                           MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    if (status != 405 && ra[0] != '\0')
        MHD_add_response_header(resp, "Retry-After", ra);
    ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    body_t *b = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (b != NULL) {
        free(b->p);
        free(b);
        *con_cls = NULL;
    }
}

whr_t *
whr_start(const char *secret, size_t batch_max)
{
    whr_t *r = calloc(1, sizeof(*r));
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;

    ASSERT_NOT_NULL(r);
    ASSERT(strlen(secret) < sizeof(r->secret));
    snprintf(r->secret, sizeof(r->secret), "%s", secret);
    r->batch_max = batch_max;
    r->plan_status = 200;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, on_request, r,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, r,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_END);
    ASSERT_NOT_NULL(r->d);
    info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
    ASSERT_NOT_NULL(info);
    r->port = info->port;
    ASSERT(r->port > 0);
    return r;
}

int
whr_port(const whr_t *r)
{
    return r->port;
}

void
whr_url(const whr_t *r, const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "http://127.0.0.1:%d%s", r->port, path);
}

void
whr_plan(whr_t *r, int status, const char *retry_after, int n,
         int delay_ms)
{
    pthread_mutex_lock(&r->lock);
    r->plan_status = status;
    r->plan_n = n;
    r->plan_delay_ms = delay_ms;
    snprintf(r->plan_retry_after, sizeof(r->plan_retry_after), "%s",
             retry_after != NULL ? retry_after : "");
    pthread_mutex_unlock(&r->lock);
}

void
whr_counts(whr_t *r, size_t *requests, size_t *bad, size_t *ok)
{
    pthread_mutex_lock(&r->lock);
    *requests = r->requests;
    *bad = r->bad;
    *ok = r->ok;
    pthread_mutex_unlock(&r->lock);
}

size_t
whr_unique(whr_t *r)
{
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = r->nseen;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Wait until *field (guarded by the lock) reaches n. */
static size_t
wait_for(whr_t *r, const size_t *field, size_t n, int64_t timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    size_t got;

    pthread_mutex_lock(&r->lock);
    while (*field < n && now_ms() < end) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
    }
    got = *field;
    pthread_mutex_unlock(&r->lock);
    return got;
}

size_t
whr_wait_unique(whr_t *r, size_t n, int64_t timeout_ms)
{
    return wait_for(r, &r->nseen, n, timeout_ms);
}

size_t
whr_wait_requests(whr_t *r, size_t n, int64_t timeout_ms)
{
    return wait_for(r, &r->requests, n, timeout_ms);
}

whr_event_t *
whr_events(whr_t *r, size_t *n)
{
    whr_event_t *v;
    size_t i;

    pthread_mutex_lock(&r->lock);
    *n = r->nevs;
    v = calloc(r->nevs + 1, sizeof(*v));
    ASSERT_NOT_NULL(v);
    for (i = 0; i < r->nevs; i++) {
        v[i] = r->evs[i];
        json_incref(v[i].event);
    }
    pthread_mutex_unlock(&r->lock);
    return v;
}

void
whr_events_free(whr_event_t *v, size_t n)
{
    size_t i;

    for (i = 0; v != NULL && i < n; i++)
        json_decref(v[i].event);
    free(v);
}

whr_req_t *
whr_requests(whr_t *r, size_t *n)
{
    whr_req_t *v;

    pthread_mutex_lock(&r->lock);
    *n = r->nreqs;
    v = calloc(r->nreqs + 1, sizeof(*v));
    ASSERT_NOT_NULL(v);
    memcpy(v, r->reqs, r->nreqs * sizeof(*v));
    pthread_mutex_unlock(&r->lock);
    return v;
}

void
whr_last_headers(whr_t *r, char *source, size_t n)
{
    pthread_mutex_lock(&r->lock);
    snprintf(source, n, "%s", r->source);
    pthread_mutex_unlock(&r->lock);
}

void
whr_stop(whr_t *r)
{
    size_t i;

    if (r == NULL)
        return;
    MHD_stop_daemon(r->d);
    for (i = 0; i < r->nevs; i++)
        json_decref(r->evs[i].event);
    free(r->evs);
    free(r->reqs);
    free(r->seen);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r);
}
