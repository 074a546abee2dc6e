/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the parsers and checks reso-gateway applies to
 * what clients send, called directly (fuzz_gateway_request drives them
 * through the request pipeline; here each gets the raw bytes and an
 * oracle of its own). The first input byte picks the parser:
 *
 *   history cursors (decode, and encode/decode round trips), event
 *   sequences, Idempotency-Key syntax and the request hash (whitespace
 *   and member order must not change it), webhook URLs with the SSRF
 *   check of numeric hosts (loopback, private, link-local, CGNAT,
 *   multicast and the IPv4 ranges reached through IPv6 must be refused),
 *   raw address classification, webhook filter objects (and that the hub
 *   filter built from one matches exactly the events the object names),
 *   Retry-After values (delay-seconds and HTTP-dates generated from a
 *   time), stored events from a chaincode payload (SSE frame, webhook
 *   batch body) and the subscription record written and read back, up
 *   to the largest one the route accepts.
 *
 * Only numeric hosts reach getaddrinfo, so no DNS query is made; records
 * go to a private directory under /dev/shm (or TMPDIR) removed at exit.
 */
#include "gw.h"
#include "hub.h"
#include "ledger.h"
#include "webhooks.h"

#include "hlf/mem.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <sanitizer/common_interface_defs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__ubsan_default_options(void);

/* Undefined behaviour is a finding: stop at the first report (the fuzz
 * build compiles UBSan in its recoverable mode). */
const char *
__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

static const char *const field_names[] = {
    "System", "SubjectType", "Entity", "Event", "State", "EventSubject",
    "Recorder"};
#define NFIELDS (sizeof(field_names) / sizeof(field_names[0]))

/* Events the filter oracle matches against; set up once. */
static gw_event_t *g_events[4];
static char g_dir[64]; /* record directory */

static void
cleanup(void)
{
    char path[128];

    if (g_dir[0] == '\0')
        return;
    snprintf(path, sizeof(path), "%s/sub-0123456789abcdef0123456789abcdef"
             ".json", g_dir);
    unlink(path);
    rmdir(g_dir);
}

static void
check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gateway_parsers: invariant broken: %s\n",
                what);
        cleanup();
        abort();
    }
}

static void
setup(void)
{
    static const char *const payloads[] = {
        "{\"TransactionId\":\"t-1\",\"System\":\"MLS\",\"SubjectType\":"
        "\"Property\",\"Entity\":\"Listing\",\"Event\":\"Created\","
        "\"State\":\"Active\",\"EventSubject\":\"ABC-1\"}",
        "{\"TransactionId\":\"t-2\",\"System\":\"AMS\",\"Event\":\"Joined\","
        "\"EventSubject\":\"M-7\"}",
        "{\"TransactionId\":\"t-3\",\"System\":\"MLS\",\"Event\":\"Updated\","
        "\"EventSubject\":\"ABC-1\",\"State\":\"Pending\"}",
        "{\"TransactionId\":\"t-4\"}",
    };
    const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                    : getenv("TMPDIR");
    size_t i;

    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
        check(gw_event_new(1, (uint32_t)i, "ab", i % 2 ? "AMSMSP" : "MLSMSP",
                           (const uint8_t *)payloads[i], strlen(payloads[i]),
                           &g_events[i], NULL) == HLF_OK,
              "oracle events build");
    snprintf(g_dir, sizeof(g_dir), "%s/fuzz-gw-XXXXXX",
             tmp != NULL ? tmp : "/tmp");
    check(mkdtemp(g_dir) != NULL, "record directory");
    atexit(cleanup);
    __sanitizer_set_death_callback(cleanup);
}

/* strcmp that treats NULL as different from everything. */
static int
streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* A NUL-terminated copy of data[0..n) (truncated at an inner NUL). */
static char *
cstr(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);

    check(s != NULL, "malloc");
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* ------------------------------------------------------------------ */
/* Cursors, sequences, Idempotency-Key                                */
/* ------------------------------------------------------------------ */

static int
tid_ok(const char *t)
{
    size_t n = strlen(t);

    return n >= 1 && n <= 64 &&
           strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-") == n;
}

static void
fuzz_cursor_decode(const uint8_t *data, size_t size)
{
    char *s = cstr(data, size), tid[72], tid2[72], enc[GW_CURSOR_MAX];
    size_t idx, idx2;

    if (gw_cursor_decode(s, &idx, tid, sizeof(tid)) == HLF_OK) {
        check(tid_ok(tid), "a decoded TransactionId is 1..64 [A-Za-z0-9-]");
        check(idx <= 999999999, "a decoded index has at most 9 digits");
        check(gw_cursor_encode(idx, tid, enc, sizeof(enc)) == HLF_OK,
              "a decoded cursor encodes again");
        check(gw_cursor_decode(enc, &idx2, tid2, sizeof(tid2)) == HLF_OK &&
                  idx2 == idx && strcmp(tid2, tid) == 0,
              "cursor round trip");
    }
    free(s);
}

static void
fuzz_cursor_encode(const uint8_t *data, size_t size)
{
    char *tid, tid2[72], enc[GW_CURSOR_MAX];
    size_t idx = 0, idx2, i;

    for (i = 0; i < 4 && i < size; i++)
        idx = idx << 8 | data[i];
    idx %= 1000000000;
    tid = cstr(data + i, size - i);
    if (gw_cursor_encode(idx, tid, enc, sizeof(enc)) == HLF_OK &&
        tid_ok(tid)) {
        check(strlen(enc) < GW_CURSOR_MAX, "cursor fits GW_CURSOR_MAX");
        check(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                          "wxyz0123456789-_") == strlen(enc),
              "a cursor is base64url");
        check(gw_cursor_decode(enc, &idx2, tid2, sizeof(tid2)) == HLF_OK &&
                  idx2 == idx && strcmp(tid2, tid) == 0,
              "cursor round trip");
    } else if (tid_ok(tid)) {
        check(0, "every valid TransactionId encodes");
    }
    free(tid);
}

static void
fuzz_seq(const uint8_t *data, size_t size)
{
    uint64_t v = 0, want = 0;
    size_t i;
    int ok = size >= 1 && size <= 19, rc;

    for (i = 0; ok && i < size; i++) {
        ok = data[i] >= '0' && data[i] <= '9';
        want = want * 10 + (uint64_t)(data[i] - '0');
    }
    ok = ok && want <= (uint64_t)INT64_MAX;
    rc = gw_seq_parse((const char *)data, size, &v);
    check((rc == 0) == ok, "sequence syntax: 1..19 digits <= INT64_MAX");
    check(!ok || v == want, "sequence value");
}

static void
fuzz_idem(const uint8_t *data, size_t size)
{
    char *s = cstr(data, size), *pretty;
    size_t n = strlen(s), i;
    int want = n >= 1 && n <= GW_IDEM_KEY_MAX;
    uint8_t h1[32], h2[32];
    json_t *j, *k;

    for (i = 0; i < n; i++)
        want = want && (unsigned char)s[i] >= 0x21 &&
               (unsigned char)s[i] <= 0x7e;
    check(gw_idem_key_valid(s) == want,
          "Idempotency-Key: 1..255 visible ASCII characters");
    /* The same request body in another layout hashes the same. */
    j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL) {
        check(gw_idem_hash(j, h1) == HLF_OK, "hash");
        pretty = json_dumps(j, JSON_INDENT(3) | JSON_ENCODE_ANY);
        check(pretty != NULL, "dump");
        k = json_loads(pretty, JSON_DECODE_ANY, NULL);
        check(k != NULL && gw_idem_hash(k, h2) == HLF_OK &&
                  memcmp(h1, h2, sizeof(h1)) == 0,
              "layout does not change the request hash");
        json_decref(k);
        free(pretty);
        json_decref(j);
    }
    free(s);
}

/* ------------------------------------------------------------------ */
/* Webhook targets                                                    */
/* ------------------------------------------------------------------ */

/* IPv4 ranges a webhook may never reach without allow_private (a few
 * of RFC 6890's, checked independently of the classifier). */
static int
v4_must_refuse(const uint8_t *a)
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127 ||
           (a[0] == 100 && (a[1] & 0xc0) == 64) ||
           (a[0] == 169 && a[1] == 254) ||
           (a[0] == 172 && (a[1] & 0xf0) == 16) ||
           (a[0] == 192 && a[1] == 168) || a[0] >= 224;
}

/* The same for IPv6, including IPv4 reached through mapped, NAT64 and
 * 6to4 addresses. */
static int
v6_must_refuse(const uint8_t *a)
{
    static const uint8_t zero[16], mapped[12] = {[10] = 0xff, [11] = 0xff};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};

    if (memcmp(a, zero, 15) == 0 || a[0] == 0xff ||
        (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
        return 1;
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return v4_must_refuse(a + 12);
    if (a[0] == 0x20 && a[1] == 0x02)
        return v4_must_refuse(a + 2);
    return 0;
}

/* Loopback and RFC 1918 IPv4: allowed once private targets are. */
static int
v4_private(const uint8_t *a)
{
    return a[0] == 127 || a[0] == 10 ||
           (a[0] == 172 && (a[1] & 0xf0) == 16) ||
           (a[0] == 192 && a[1] == 168);
}

static void
fuzz_classify(const uint8_t *data, size_t size)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    gw_webhook_addr_t c;

    if (size >= 16) {
        memset(&in6, 0, sizeof(in6));
        in6.sin6_family = AF_INET6;
        memcpy(in6.sin6_addr.s6_addr, data, 16);
        c = gw_webhook_addr_classify((struct sockaddr *)&in6, sizeof(in6));
        check((int)c >= 0 && (int)c < GW_WEBHOOK_ADDR__COUNT,
              "class in range");
        if (v6_must_refuse(data))
            check(!gw_webhook_addr_allowed(c, 0), "SSRF: IPv6 refused");
        check(gw_webhook_addr_classify((struct sockaddr *)&in6,
                                       sizeof(in6) - 1) ==
                  GW_WEBHOOK_ADDR_RESERVED,
              "a short sockaddr is reserved");
    }
    if (size >= 4) {
        memset(&in, 0, sizeof(in));
        in.sin_family = AF_INET;
        memcpy(&in.sin_addr, data, 4);
        c = gw_webhook_addr_classify((struct sockaddr *)&in, sizeof(in));
        check((int)c >= 0 && (int)c < GW_WEBHOOK_ADDR__COUNT,
              "class in range");
        if (v4_must_refuse(data))
            check(!gw_webhook_addr_allowed(c, 0), "SSRF: IPv4 refused");
        if (v4_private(data))
            check(gw_webhook_addr_allowed(c, 1), "private allowed if asked");
    }
}

static void
fuzz_url(const uint8_t *data, size_t size)
{
    char *url = cstr(data, size), host[512];
    uint8_t a[16];
    hlf_error_t e;
    int port = -1, rc;

    hlf_error_clear(&e);
    rc = gw_webhook_url_parse(url, host, sizeof(host), &port, &e);
    if (rc != HLF_OK) {
        check(rc == HLF_EINVAL && e.text[0] != '\0', "url error says why");
        free(url);
        return;
    }
    check(host[0] != '\0' && port >= 1 && port <= 65535, "host and port");
    check(strlen(url) <= GW_WEBHOOK_URL_MAX, "url length bound");
    /* Numeric hosts only: getaddrinfo answers them without DNS. */
    if (inet_pton(AF_INET, host, a) == 1) {
        rc = gw_webhook_target_check(host, port, 0, NULL);
        if (v4_must_refuse(a))
            check(rc == HLF_EPERM, "SSRF: IPv4 target refused");
        if (v4_private(a))
            check(gw_webhook_target_check(host, port, 1, NULL) == HLF_OK,
                  "private IPv4 target allowed if asked");
    } else if (inet_pton(AF_INET6, host, a) == 1) {
        rc = gw_webhook_target_check(host, port, 0, NULL);
        if (v6_must_refuse(a))
            check(rc == HLF_EPERM, "SSRF: IPv6 target refused");
    }
    free(url);
}

/* ------------------------------------------------------------------ */
/* Webhook filters                                                    */
/* ------------------------------------------------------------------ */

/* Does ev pass the normalized filter object? (the spec: per field one
 * of the values; fields combine with AND; absent fields compare as "") */
static int
oracle_match(json_t *filter, const gw_event_t *ev)
{
    size_t f, i;

    for (f = 0; f < NFIELDS; f++) {
        json_t *arr = json_object_get(filter, field_names[f]), *x;
        int hit = arr == NULL;

        json_array_foreach(arr, i, x)
            hit = hit || strcmp(json_string_value(x), ev->field[f]) == 0;
        if (!hit)
            return 0;
    }
    return 1;
}

static void
check_normalized(json_t *norm)
{
    const char *k;
    json_t *arr, *x;
    size_t i;

    check(json_is_object(norm), "normalized filter is an object");
    json_object_foreach(norm, k, arr) {
        check(gw_evfield_from_name(k) >= 0, "filter keys are event fields");
        check(json_is_array(arr) && json_array_size(arr) >= 1 &&
                  json_array_size(arr) <= 64,
              "1..64 values per field");
        json_array_foreach(arr, i, x)
            check(json_is_string(x) && json_string_length(x) >= 1 &&
                      json_string_length(x) <= 255 &&
                      strlen(json_string_value(x)) == json_string_length(x),
                  "values are 1..255-byte strings without NUL");
    }
}

static void
fuzz_filter(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size,
                            JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    json_t *norm = NULL;
    gw_filter_t *f = NULL;
    char field[96];
    hlf_error_t e;
    size_t i;

    if (in == NULL)
        return;
    hlf_error_clear(&e);
    if (gw_webhook_filter_check(in, &norm, field, sizeof(field), &e) !=
        HLF_OK) {
        check(norm == NULL && strncmp(field, "filter", 6) == 0 &&
                  e.code == HLF_EINVAL,
              "a refused filter names its field");
        json_decref(in);
        return;
    }
    check_normalized(norm);
    check(json_object_size(norm) == json_object_size(in),
          "every field is kept");
    check(gw_webhook_filter_build(norm, &f) == HLF_OK, "filter builds");
    for (i = 0; i < sizeof(g_events) / sizeof(g_events[0]); i++)
        check(gw_filter_match(f, g_events[i]) ==
                  oracle_match(norm, g_events[i]),
              "hub filter matches what the object names");
    gw_filter_free(f);
    json_decref(norm);
    json_decref(in);
}

/* ------------------------------------------------------------------ */
/* Retry-After                                                        */
/* ------------------------------------------------------------------ */

static void
fuzz_retry_after_text(const uint8_t *data, size_t size)
{
    char *s = cstr(data, size);
    const char *p = s;
    int64_t d = -1;
    size_t n;

    if (gw_webhook_retry_after(s, NOW, &d) == HLF_OK)
        check(d >= 0 && d <= GW_WEBHOOK_RETRY_AFTER_MAX_MS,
              "Retry-After delay bounds");
    /* delay-seconds: surrounding blanks, digits, capped at the max. */
    while (*p == ' ' || *p == '\t')
        p++;
    n = strspn(p, "0123456789");
    if (n > 0 && p[n + strspn(p + n, " \t")] == '\0' && strlen(s) < 64) {
        unsigned long long secs;

        while (n > 1 && *p == '0') {
            p++;
            n--;
        }
        secs = n > 12 ? ~0ULL : strtoull(p, NULL, 10);
        check(gw_webhook_retry_after(s, NOW, &d) == HLF_OK &&
                  d == (secs >= GW_WEBHOOK_RETRY_AFTER_MAX_MS / 1000
                            ? GW_WEBHOOK_RETRY_AFTER_MAX_MS
                            : (int64_t)secs * 1000),
              "delay-seconds value");
    }
    free(s);
}

static void
fuzz_retry_after_date(const uint8_t *data, size_t size)
{
    static const char *const forms[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                        "%A, %d-%b-%y %H:%M:%S GMT",
                                        "%a %b %e %H:%M:%S %Y"};
    uint64_t raw = 0;
    int64_t off, d = -1, want;
    char text[64];
    struct tm tm;
    time_t t;
    size_t i;
    int form;

    if (size < 1)
        return;
    form = data[0] % 3;
    for (i = 1; i < 9 && i < size; i++)
        raw = raw << 8 | data[i];
    /* RFC 850 years have two digits: stay within 49 years of now. */
    off = (int64_t)(raw % (form == 1 ? 49ULL * 365 * 86400
                                     : 4000ULL * 366 * 86400));
    if (size > 9 && (data[9] & 1))
        off = -off;
    t = NOW + (time_t)off;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1000 ||
        tm.tm_year + 1900 > 9999)
        return;
    strftime(text, sizeof(text), forms[form], &tm);
    want = off <= 0 ? 0
           : off >= GW_WEBHOOK_RETRY_AFTER_MAX_MS / 1000
               ? GW_WEBHOOK_RETRY_AFTER_MAX_MS
               : off * 1000;
    if (gw_webhook_retry_after(text, NOW, &d) != HLF_OK || d != want) {
        fprintf(stderr, "Retry-After \"%s\": %lld ms, expected %lld\n",
                text, (long long)d, (long long)want);
        check(0, "HTTP-date Retry-After");
    }
}

/* ------------------------------------------------------------------ */
/* Events from the ledger and what goes out of them                   */
/* ------------------------------------------------------------------ */

static void
fuzz_event(const uint8_t *data, size_t size)
{
    gw_event_t *ev = NULL;
    gw_filter_t *f = NULL;
    hlf_error_t e;
    char head[64], *body = NULL;
    size_t len = 0, i, n;
    json_t *j, *rec;
    uint64_t block = 0;
    uint32_t tx = 0;

    for (i = 0; i < 4 && i < size; i++)
        block = block << 8 | data[i];
    for (; i < 6 && i < size; i++)
        tx = tx << 8 | data[i];
    hlf_error_clear(&e);
    if (gw_event_new(block, tx, "ab12", "MLSMSP", data + i, size - i, &ev,
                     &e) != HLF_OK) {
        check(ev == NULL && e.text[0] != '\0', "a refused payload says why");
        return;
    }
    check(ev->sequence == GW_SEQ(block, tx), "sequence of (block, tx)");
    n = (size_t)snprintf(head, sizeof(head),
                         "id: %llu\nevent: reso.event\ndata: ",
                         (unsigned long long)ev->sequence);
    check(ev->frame_len == strlen(ev->frame) && ev->frame_len > n + 2 &&
              memcmp(ev->frame, head, n) == 0 &&
              ev->json == ev->frame + n &&
              ev->json_len == ev->frame_len - n - 2 &&
              memcmp(ev->frame + ev->frame_len - 2, "\n\n", 2) == 0,
          "SSE frame layout");
    check(memchr(ev->json, '\n', ev->json_len) == NULL &&
              memchr(ev->json, '\r', ev->json_len) == NULL,
          "event data cannot break SSE framing");
    j = json_loadb(ev->json, ev->json_len, JSON_REJECT_DUPLICATES, NULL);
    check(json_is_object(j) &&
              streq(json_string_value(json_object_get(j, "TransactionId")),
                    ev->transaction_id),
          "event JSON carries its TransactionId");
    json_decref(j);
    /* A filter naming the event's own values matches it. */
    check(gw_filter_new(&f) == HLF_OK, "filter");
    for (i = 0; i < NFIELDS; i++)
        if (ev->field[i][0] != '\0')
            check(gw_filter_add(f, (gw_evfield_t)i, ev->field[i]) == HLF_OK,
                  "filter add");
    check(gw_filter_match(f, ev) == 1, "own values match");
    gw_filter_free(f);
    /* The webhook batch of it. */
    check(gw_webhook_batch_body(&ev, 1, "http://gw.example:8080", &body,
                                &len, &e) == HLF_OK,
          "batch body builds");
    j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    rec = json_array_get(json_object_get(j, "value"), 0);
    check(json_array_size(json_object_get(j, "value")) == 1 &&
              streq(json_string_value(json_object_get(
                        rec, "ResourceRecordKey")),
                    ev->transaction_id) &&
              json_integer_value(json_object_get(
                  rec, "EntityEventSequence")) == (json_int_t)ev->sequence &&
              json_object_get(json_object_get(rec, "Event"), "txid") ==
                  NULL,
          "batch record");
    json_decref(j);
    hlf_free(body);
    gw_event_unref(ev);
}

/* ------------------------------------------------------------------ */
/* Subscription records                                               */
/* ------------------------------------------------------------------ */

/*
 * A subscription as POST /v1/subscriptions accepts it (url, secret,
 * filter from the input JSON) is written and read back unchanged: what a
 * restarted gateway loads is what the client was promised.
 */
static void
fuzz_record(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size,
                            JSON_REJECT_DUPLICATES, NULL);
    json_t *url, *secret, *filter, *norm = NULL;
    gw_webhook_rec_t rec, back;
    char host[512], field[96], path[128];
    int port, ok;

    url = json_object_get(in, "url");
    filter = json_object_get(in, "filter");
    secret = json_object_get(in, "secret");
    if (!json_is_string(url) || !json_is_string(secret) ||
        json_string_length(secret) < GW_WEBHOOK_SECRET_MIN ||
        json_string_length(secret) > GW_WEBHOOK_SECRET_MAX ||
        strlen(json_string_value(secret)) != json_string_length(secret) ||
        gw_webhook_url_parse(json_string_value(url), host, sizeof(host),
                             &port, NULL) != HLF_OK ||
        (filter != NULL &&
         gw_webhook_filter_check(filter, &norm, field, sizeof(field),
                                 NULL) != HLF_OK)) {
        json_decref(in);
        return;
    }
    if (norm == NULL)
        norm = json_object();
    check(norm != NULL, "json_object");
    memset(&rec, 0, sizeof(rec));
    snprintf(rec.id, sizeof(rec.id), "sub-0123456789abcdef0123456789abcdef");
    rec.owner = (char *)"Brokerage";
    rec.url = (char *)json_string_value(url);
    rec.secret = (char *)json_string_value(secret);
    rec.filter = norm;
    snprintf(rec.created, sizeof(rec.created), "2023-11-14T22:13:20Z");
    rec.start = rec.acked = GW_SEQ(7, 3);
    check(gw_webhook_rec_save(g_dir, &rec, NULL) == HLF_OK, "record saves");
    snprintf(path, sizeof(path), "%s/%s.json", g_dir, rec.id);
    ok = gw_webhook_rec_load(path, &back, NULL) == HLF_OK;
    check(ok, "an accepted subscription loads back");
    check(streq(back.url, rec.url) && streq(back.secret, rec.secret) &&
              streq(back.owner, rec.owner) &&
              json_equal(back.filter, norm) && back.start == rec.start &&
              back.acked == rec.acked && streq(back.id, rec.id),
          "record round trip");
    gw_webhook_rec_clear(&back);
    json_decref(norm);
    json_decref(in);
}

/*
 * The largest subscriptions: the input only picks the dimensions (fields,
 * values per field, value length, a fill character that may need JSON
 * escaping, secret and URL length), so records up to the limits of
 * POST /v1/subscriptions (7 fields x 64 values x 255 bytes) are built
 * from a few bytes. The route's body cap is configurable (max_body_bytes
 * up to 64 MiB), so every such subscription can be accepted and must
 * survive a restart.
 */
static void
fuzz_record_big(const uint8_t *data, size_t size)
{
    char url[GW_WEBHOOK_URL_MAX + 1], host[512], value[256], secret[513];
    char field[96], path[128];
    json_t *filter, *arr, *norm = NULL;
    gw_webhook_rec_t rec, back;
    size_t nf, nv, vlen, slen, ulen, f, i;
    int port, ok;
    char c;

    if (size < 6)
        return;
    c = (char)(data[0] & 0x7f) != 0 ? (char)(data[0] & 0x7f) : 1;
    nf = data[1] % NFIELDS + 1;
    nv = data[2] % 64 + 1;
    vlen = data[3] % 255 + 1;
    slen = GW_WEBHOOK_SECRET_MIN +
           data[4] % (GW_WEBHOOK_SECRET_MAX - GW_WEBHOOK_SECRET_MIN + 1);
    ulen = 26 + (size_t)data[5] * 8;
    if (ulen > GW_WEBHOOK_URL_MAX)
        ulen = GW_WEBHOOK_URL_MAX;
    memset(value, c, vlen);
    value[vlen] = '\0';
    memset(secret, c, slen);
    secret[slen] = '\0';
    memcpy(url, "https://hooks.example.com/", 26);
    memset(url + 26, 'a', ulen - 26);
    url[ulen] = '\0';
    filter = json_object();
    for (f = 0; f < nf; f++) {
        arr = json_array();
        for (i = 0; i < nv; i++)
            json_array_append_new(arr, json_string(value));
        json_object_set_new(filter, field_names[f], arr);
    }
    check(gw_webhook_url_parse(url, host, sizeof(host), &port, NULL) ==
                  HLF_OK &&
              gw_webhook_filter_check(filter, &norm, field, sizeof(field),
                                      NULL) == HLF_OK,
          "a subscription within the limits is accepted");
    memset(&rec, 0, sizeof(rec));
    snprintf(rec.id, sizeof(rec.id), "sub-0123456789abcdef0123456789abcdef");
    rec.owner = (char *)"Association";
    rec.url = url;
    rec.secret = secret;
    rec.filter = norm;
    snprintf(rec.created, sizeof(rec.created), "2023-11-14T22:13:20Z");
    rec.start = rec.acked = GW_SEQ((uint64_t)1 << 40, 65535);
    check(gw_webhook_rec_save(g_dir, &rec, NULL) == HLF_OK, "record saves");
    snprintf(path, sizeof(path), "%s/%s.json", g_dir, rec.id);
    ok = gw_webhook_rec_load(path, &back, NULL) == HLF_OK;
    check(ok, "a subscription at the limits loads back");
    check(json_equal(back.filter, norm) && streq(back.secret, secret) &&
              streq(back.url, url) && back.acked == rec.acked,
          "record round trip");
    gw_webhook_rec_clear(&back);
    json_decref(norm);
    json_decref(filter);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void (*const parsers[])(const uint8_t *, size_t) = {
        fuzz_cursor_decode, fuzz_cursor_encode, fuzz_seq,
        fuzz_idem,          fuzz_url,           fuzz_classify,
        fuzz_filter,        fuzz_retry_after_text,
        fuzz_retry_after_date, fuzz_event,      fuzz_record,
        fuzz_record_big,
    };

    if (g_events[0] == NULL)
        setup();
    if (size < 1)
        return 0;
    parsers[data[0] % (sizeof(parsers) / sizeof(parsers[0]))](data + 1,
                                                              size - 1);
    return 0;
}
