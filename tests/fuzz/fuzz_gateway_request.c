/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for reso-gateway's HTTP input path. The input is the
 * text of one HTTP/1.1 request ("METHOD /path?query HTTP/1.1", header
 * lines, an empty line, the body). It is split the way libmicrohttpd
 * splits a request (the path as sent: the core routes on it and decodes
 * each segment; query arguments split on '&' and '=', '+' as space,
 * percent-decoded; headers with leading blanks trimmed; Content-Length
 * set from the body) and then goes through the
 * gateway's own request pipeline with gw__http_fuzz_request: routing and
 * path parameters, bearer authentication, rate limit, X-Reso-Identity,
 * body rules, Content-Type, body cap, JSON parsing and the handler of
 * every route the daemon serves (ledger API, SSE stream and EntityEvent
 * against an in-memory hub, webhook subscriptions, healthz, metrics).
 * The worker pool is not running, so a handler that passes its checks
 * answers 503 when it tries to defer: no Fabric call, DNS lookup or disk
 * write ever happens.
 *
 * Besides crashes, leaks and sanitizer reports, these invariants abort:
 * every request gets exactly one answer with a status of the API's error
 * table (never 500 or 504 here), an X-Request-Id, Allow on 405,
 * WWW-Authenticate on 401, Retry-After on 429 and 503; nothing but a
 * 401, 404 or 405 comes back for a protected route unless the request
 * carried a configured key and, if it named one, that key's identity
 * (or the path has a bad percent-escape: 400 before anything else);
 * POST /v1/events (Content-Type, body cap, JSON, Idempotency-Key),
 * /v1/stream (filters, after, Last-Event-ID) and /v1/EntityEvent
 * ($filter, $top) answer as an independent reading of the spec says;
 * and no hub subscriber outlives its request.
 */
#include "gw.h"
#include "hub.h"
#include "ledger.h"
#include "webhooks.h"

#include "hlf/crypto.h"
#include "hlf/log.h"

#include <microhttpd.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

#define MAX_HDRS 32
#define MAX_QUERY 80
#define BODY_CHUNK 300

/* The two API keys of the config and the identities they act for. */
static const struct {
    const char *token, *name, *identity, *msp;
} keys[] = {
    {"brokerage-demo-key-0123456789", "brokerage-demo", "Brokerage",
     "BrokerageMSP"},
    {"association-demo-key-9876543210", "association-demo", "Association",
     "AssociationMSP"},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Set up once; lives until the process exits. */
static gw_config_t *g_cfg;
static gw_hub_t *g_hub;
static int g_trace; /* FUZZ_GATEWAY_TRACE set: print each answer */
static uint64_t g_covered_from; /* the hub holds every event after it */
static regex_t g_ee_filter;     /* the one $filter EntityEvent takes */
static regex_t g_json_type;     /* Content-Type of a JSON body */

static void
check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gateway_request: invariant broken: %s\n",
                what);
        abort();
    }
}

static gw_config_t *
load_config(void)
{
    char path[] = "/tmp/fuzz-gateway-XXXXXX";
    char hex[NKEYS][65], text[1024];
    gw_config_t *cfg = NULL;
    uint8_t d[HLF_SHA256_LEN];
    hlf_error_t err;
    size_t i;
    int fd, n;
    FILE *fp;

    for (i = 0; i < NKEYS; i++) {
        hlf_sha256(keys[i].token, strlen(keys[i].token), d);
        hlf_hex_encode(d, sizeof(d), hex[i]);
    }
    n = snprintf(text, sizeof(text),
                 "listen 127.0.0.1:0\n"
                 "access_log no\n"
                 "max_body_bytes 1024\n"
                 "rate_limit_per_key 1000000 1000000000\n"
                 "sse_max_clients 4\n"
                 "hub_ring_events 16\n"
                 "identity %s %s /nonexistent/b\n"
                 "identity %s %s /nonexistent/a\n"
                 "apikey %s %s %s\n"
                 "apikey %s %s %s\n",
                 keys[0].identity, keys[0].msp, keys[1].identity,
                 keys[1].msp, keys[0].name, keys[0].identity, hex[0],
                 keys[1].name, keys[1].identity, hex[1]);
    check(n > 0 && (size_t)n < sizeof(text), "config text fits");
    fd = mkstemp(path);
    check(fd >= 0, "temporary config file");
    fp = fdopen(fd, "w");
    check(fp != NULL && fputs(text, fp) >= 0 && fclose(fp) == 0,
          "config written");
    check(gw_config_load(path, &cfg, stderr, &err) == HLF_OK,
          "config loads");
    unlink(path);
    return cfg;
}

/* Three committed events in the hub, after a start position that makes
 * older resumes (after < start) a 404 like a ring that moved on. */
static void
publish_events(void)
{
    static const char *const payloads[] = {
        "{\"TransactionId\":\"6991d580-c6c3-8ceb-90a5-a40c89fb0224\","
        "\"System\":\"MLS\",\"SubjectType\":\"Property\",\"Entity\":"
        "\"Listing\",\"Event\":\"Created\",\"State\":\"Active\","
        "\"EventSubject\":\"ABC-1\"}",
        "{\"TransactionId\":\"7a91d580-c6c3-8ceb-90a5-a40c89fb0225\","
        "\"System\":\"AMS\",\"SubjectType\":\"Member\",\"Entity\":"
        "\"Member\",\"Event\":\"Joined\",\"EventSubject\":\"M-7\"}",
        "{\"TransactionId\":\"8b91d580-c6c3-8ceb-90a5-a40c89fb0226\"}",
    };
    static const uint64_t blocks[] = {1, 1, 2};
    static const uint32_t txs[] = {1, 2, 0};
    size_t i;

    gw_hub_set_start(g_hub, GW_SEQ(1, 0));
    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        gw_event_t *ev = NULL;
        hlf_error_t err;

        check(gw_event_new(blocks[i], txs[i], "ab12cd", keys[i % 2].msp,
                           (const uint8_t *)payloads[i],
                           strlen(payloads[i]), &ev, &err) == HLF_OK,
              "seed event builds");
        check(gw_hub_publish(g_hub, ev) == HLF_OK, "seed event publishes");
        gw_event_unref(ev);
    }
}

static void
setup(void)
{
    hlf_error_t err;

    hlf_log_set_level(HLF_LOG_ERROR);
    g_trace = getenv("FUZZ_GATEWAY_TRACE") != NULL;
    g_cfg = load_config();
    gw_config_install(g_cfg);
    check(gw_auth_init(g_cfg) == HLF_OK, "auth init");
    check(gw_core_routes() == HLF_OK, "core routes");
    check(gw_module_events.init(g_cfg, &err) == HLF_OK, "events init");
    check(gw_sse_init(g_cfg) == HLF_OK, "sse init");
    check(gw_entityevent_init(g_cfg) == HLF_OK, "entityevent init");
    check(gw_module_webhooks.init(g_cfg, &err) == HLF_OK, "webhooks init");
    check(gw_hub_new((size_t)g_cfg->hub_ring_events, &g_hub) == HLF_OK,
          "hub");
    gw_stream_install_hub(g_hub);
    publish_events();
    {
        gw_hub_stats_t hs;

        gw_hub_stats(g_hub, &hs);
        g_covered_from = hs.covered_from;
    }
    check(regcomp(&g_ee_filter, "^ *EntityEventSequence +g[te] +([0-9]+) *$",
                  REG_EXTENDED) == 0, "regex");
    check(regcomp(&g_json_type, "^ *application/json *(;.*)?$",
                  REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0, "regex");
}

/* ------------------------------------------------------------------ */
/* Splitting the request as libmicrohttpd does                        */
/* ------------------------------------------------------------------ */

typedef struct fz_req_s {
    char *buf;                  /* a NUL-terminated copy of the input */
    char *method, *path, *body;
    char *raw;                  /* the path as sent (malloc) */
    int bad_path;               /* a bad escape or %00: 400 */
    int slash_path;             /* a %2F: names no route judged here */
    size_t body_len;
    gw_header_t query[MAX_QUERY];
    size_t nquery;
    gw_header_t hdrs[MAX_HDRS + 1];
    size_t nhdrs;
    char clen[24];
} fz_req_t;

/* Cut the line at *p (ended by LF, CRLF or the end); NULL at the end. */
static char *
next_line(char **p, char *end)
{
    char *s = *p, *nl;

    if (s >= end)
        return NULL;
    nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL) {
        *p = end;
        return s;
    }
    *nl = '\0';
    if (nl > s && nl[-1] == '\r')
        nl[-1] = '\0';
    *p = nl + 1;
    return s;
}

/* '+' is a space in query arguments (before percent-decoding). */
static void
unescape_arg(char *s)
{
    char *c;

    for (c = s; *c != '\0'; c++)
        if (*c == '+')
            *c = ' ';
    MHD_http_unescape(s);
}

static void
split_query(fz_req_t *r, char *q)
{
    while (q != NULL && r->nquery < MAX_QUERY) {
        char *amp = strchr(q, '&'), *eq;

        if (amp != NULL)
            *amp = '\0';
        if (*q != '\0') {
            eq = strchr(q, '=');
            if (eq != NULL) {
                *eq = '\0';
                unescape_arg(eq + 1);
            }
            unescape_arg(q);
            r->query[r->nquery].name = q;
            r->query[r->nquery++].value = eq != NULL ? eq + 1 : NULL;
        }
        q = amp != NULL ? amp + 1 : NULL;
    }
}

/* 0, or -1 when there is no request line. */
static int
hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* What the core's per-segment decoding makes of raw: a '%' without two
 * hex digits or a %00 is a bad path (400); an encoded '/' stays inside
 * its segment, so the whole-path decoding below no longer names the
 * route the core matches. */
static void
path_flags(fz_req_t *r)
{
    const char *c;

    for (c = r->raw; *c != '\0'; c++) {
        int hi, lo;

        if (*c != '%')
            continue;
        hi = hexv(c[1]);
        lo = hi >= 0 ? hexv(c[2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            r->bad_path = 1;
            continue;
        }
        if (hi == 2 && lo == 15)
            r->slash_path = 1;
        c += 2;
    }
}

static int
split_request(fz_req_t *r, const uint8_t *data, size_t size)
{
    char *p, *end, *line, *sp, *q;
    int chunked = 0;

    memset(r, 0, sizeof(*r));
    r->buf = malloc(size + 1);
    if (r->buf == NULL)
        return -1;
    memcpy(r->buf, data, size);
    r->buf[size] = '\0';
    p = r->buf;
    end = r->buf + size;
    line = next_line(&p, end);
    if (line == NULL || (sp = strchr(line, ' ')) == NULL || sp == line)
        return -1;
    *sp = '\0';
    r->method = line;
    r->path = sp + 1;
    sp = strchr(r->path, ' '); /* " HTTP/1.1" */
    if (sp != NULL)
        *sp = '\0';
    q = strchr(r->path, '?');
    if (q != NULL)
        *q++ = '\0';
    r->raw = strdup(r->path);
    if (r->raw == NULL)
        return -1;
    path_flags(r);
    MHD_http_unescape(r->path);
    split_query(r, q);
    while ((line = next_line(&p, end)) != NULL && *line != '\0') {
        char *colon = strchr(line, ':'), *v;

        if (colon == NULL || colon == line || r->nhdrs == MAX_HDRS)
            continue;
        *colon = '\0';
        v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        /* MHD counts the body itself: the length is the real one. */
        if (strcasecmp(line, "Content-Length") == 0)
            continue;
        if (strcasecmp(line, "Transfer-Encoding") == 0)
            chunked = 1;
        r->hdrs[r->nhdrs].name = line;
        r->hdrs[r->nhdrs++].value = v;
    }
    r->body = p;
    r->body_len = (size_t)(end - p);
    if (r->body_len > 0 && !chunked) {
        snprintf(r->clen, sizeof(r->clen), "%zu", r->body_len);
        r->hdrs[r->nhdrs].name = "Content-Length";
        r->hdrs[r->nhdrs++].value = r->clen;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The oracle                                                         */
/* ------------------------------------------------------------------ */

/* The request header as the core sees it: the first one with the name. */
static const char *
req_header(const fz_req_t *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

/* Only spaces in s[0..n). */
static int
blank(const char *s, size_t n)
{
    return strspn(s, " ") >= n;
}

/*
 * The key the Authorization header carries, or -1: the scheme "Bearer"
 * (any case), at least one space, a configured token, nothing else but
 * spaces.
 */
static int
bearer_key(const fz_req_t *r)
{
    const char *h = req_header(r, "Authorization"), *t;
    size_t i;

    if (h == NULL || strncasecmp(h, "bearer", 6) != 0)
        return -1;
    for (i = 0; i < NKEYS; i++) {
        t = strstr(h + 6, keys[i].token);
        if (t != NULL && t > h + 6 && blank(h + 6, (size_t)(t - h - 6)) &&
            blank(t + strlen(keys[i].token), strlen(t) -
                                                 strlen(keys[i].token)))
            return (int)i;
    }
    return -1;
}

static int
status_known(int st)
{
    static const int ok[] = {200, 201, 202, 204, 400, 401, 403, 404,
                             405, 409, 413, 415, 429, 503};
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (st == ok[i])
            return 1;
    return 0;
}

static int
has_header(void *resp, const char *name)
{
    const char *v = MHD_get_response_header(resp, name);

    return v != NULL && *v != '\0';
}

/* A sequence as the API defines it: 1..19 digits, at most INT64_MAX. */
static int
seq_ok(const char *s, uint64_t *v)
{
    size_t n = s != NULL ? strspn(s, "0123456789") : 0;
    char *end;
    unsigned long long x;

    if (n == 0 || n > 19 || s[n] != '\0')
        return 0;
    x = strtoull(s, &end, 10);
    if (x > INT64_MAX)
        return 0;
    *v = x;
    return 1;
}

static int
is_event_field(const char *k)
{
    static const char *const names[] = {"System", "SubjectType", "Entity",
                                        "Event", "State", "EventSubject",
                                        "Recorder"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(k, names[i]) == 0)
            return (int)i;
    return -1;
}

/* GET /v1/stream: 400 for a bad parameter, 404 for a resume point older
 * than the hub holds (no ledger replay here), else 200. */
static int
expect_stream(const fz_req_t *r)
{
    const char *lei = req_header(r, "Last-Event-ID");
    size_t counts[7] = {0}, i;
    uint64_t after = 0;
    int has_after = 0;

    for (i = 0; i < r->nquery; i++) {
        const char *k = r->query[i].name, *v = r->query[i].value;
        int f = is_event_field(k);

        if (strcmp(k, "after") == 0) {
            if (!seq_ok(v, &after))
                return 400;
            has_after = 1;
        } else if (f < 0 || v == NULL || *v == '\0' || ++counts[f] > 64) {
            return 400;
        }
    }
    if (lei != NULL) {
        if (!seq_ok(lei, &after))
            return 400;
        has_after = 1;
    }
    return has_after && after < g_covered_from ? 404 : 200;
}

/* GET /v1/EntityEvent: 400 for anything but one $filter of the supported
 * form and one positive $top, else 503 (the page job cannot be queued). */
static int
expect_entityevent(const fz_req_t *r)
{
    const char *filter = NULL, *top = NULL;
    regmatch_t m[2];
    uint64_t v;
    size_t i;

    for (i = 0; i < r->nquery; i++) {
        const char *k = r->query[i].name, *val = r->query[i].value;

        if (val == NULL)
            val = "";
        if (strcmp(k, "$filter") == 0 && filter == NULL)
            filter = val;
        else if (strcmp(k, "$top") == 0 && top == NULL)
            top = val;
        else
            return 400;
    }
    if (filter != NULL) {
        char digits[32];
        size_t n;

        if (regexec(&g_ee_filter, filter, 2, m, 0) != 0)
            return 400;
        n = (size_t)(m[1].rm_eo - m[1].rm_so);
        if (n >= sizeof(digits))
            return 400;
        memcpy(digits, filter + m[1].rm_so, n);
        digits[n] = '\0';
        if (!seq_ok(digits, &v))
            return 400;
    }
    if (top != NULL && (!seq_ok(top, &v) || v == 0))
        return 400;
    return 503;
}

/* 1 if every byte of s is visible ASCII and there are 1..255. */
static int
idem_key_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++)
        if (s[i] < '!' || s[i] > '~')
            return 0;
    return i >= 1 && i <= 255;
}

/* POST /v1/events up to the point where the job would be queued: 415
 * unless the body is declared JSON, 413 over max_body_bytes, 400 for an
 * empty or malformed body or a bad Idempotency-Key, else 503. */
static int
expect_post_event(const fz_req_t *r)
{
    const char *ct = req_header(r, "Content-Type");
    const char *key = req_header(r, "Idempotency-Key");
    json_t *j;

    if (ct == NULL || regexec(&g_json_type, ct, 0, NULL, 0) != 0)
        return 415;
    if (r->body_len > g_cfg->max_body_bytes)
        return 413;
    j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
    json_decref(j);
    if (j == NULL)
        return 400;
    return key != NULL && !idem_key_ok(key) ? 400 : 503;
}

/* The answer an authenticated request that acts for no other identity
 * must get, or 0 when the request is not one the oracle judges. */
static int
expected_status(const fz_req_t *r)
{
    if (r->bad_path)
        return 400;
    if (r->slash_path)
        return 0;
    if (req_header(r, "X-Reso-Identity") != NULL || bearer_key(r) < 0)
        return 0;
    if (strcmp(r->method, "POST") == 0 && strcmp(r->path, "/v1/events") == 0)
        return expect_post_event(r);
    if (strcmp(r->method, "GET") != 0 || r->body_len > 0 ||
        req_header(r, "Transfer-Encoding") != NULL)
        return 0;
    if (strcmp(r->path, "/v1/stream") == 0)
        return expect_stream(r);
    if (strcmp(r->path, "/v1/EntityEvent") == 0)
        return expect_entityevent(r);
    return 0;
}

static void
check_reply(const fz_req_t *r, int st, void *resp)
{
    int open_route = !r->slash_path && (strcmp(r->path, "/healthz") == 0 ||
                                        strcmp(r->path, "/metrics") == 0);
    gw_hub_stats_t hs;
    int want = expected_status(r);

    check(st != 0 && resp != NULL, "every request gets one answer");
    if (want != 0 && st != want) {
        fprintf(stderr, "%s %s: status %d, expected %d\n", r->method,
                r->path, st, want);
        check(0, "request judged as specified");
    }
    check(status_known(st), "status is one of the API's");
    check(has_header(resp, "X-Request-Id"), "X-Request-Id");
    if (st == 405)
        check(has_header(resp, "Allow"), "Allow on 405");
    if (st == 401)
        check(has_header(resp, "WWW-Authenticate"), "WWW-Authenticate");
    if (st == 429 || st == 503)
        check(has_header(resp, "Retry-After"), "Retry-After");
    if (!open_route && !r->bad_path && st != 401 && st != 404 &&
        st != 405) {
        int k = bearer_key(r);
        const char *as = req_header(r, "X-Reso-Identity");

        check(k >= 0, "only a configured key passes authentication");
        check(as == NULL || strcmp(as, keys[k].identity) == 0 ||
                  strcmp(as, keys[k].msp) == 0 || st == 403,
              "acting for another identity is 403");
    }
    MHD_destroy_response(resp);
    /* Destroying an SSE reply closes its client and its subscription. */
    gw_hub_stats(g_hub, &hs);
    check(hs.subscribers == 0, "no subscriber outlives its request");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_req_t r;
    void *resp = NULL;
    int st = 0, rc;

    if (g_cfg == NULL)
        setup();
    if (split_request(&r, data, size) == 0) {
        rc = gw__http_fuzz_request(g_cfg, r.method, r.raw, r.query,
                                   r.nquery, r.hdrs, r.nhdrs, r.body,
                                   r.body_len, BODY_CHUNK, &st, &resp);
        check(rc == HLF_OK, "gw__http_fuzz_request");
        if (g_trace)
            fprintf(stderr, "%d %s %s\n", st, r.method, r.path);
        check_reply(&r, st, resp);
    }
    free(r.raw);
    free(r.buf);
    return 0;
}
