/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reports and search over the off-chain CouchDB index, the pure part:
 * query parameters into Mango _find bodies, _find results into pages,
 * and the onboarding aggregation (reports.h). Nothing here does I/O;
 * the gateway module that serves the routes is in reports_routes.c.
 *
 * Onboarding (docs/reports.md): an applicant is an EventSubject with
 * SubjectType "Agent"; its events are the RCP-002 onboarding Events.
 * The aggregation is done in C over the _find result set rather than in
 * CouchDB views because the report needs per-applicant ordering (latest
 * state, first time each milestone was reached) under filters chosen per
 * request (System, Recorder, time range): a view would need one key
 * layout per filter combination, Mango needs none. The cost is one scan
 * of the matching events per request, bounded by GW_REPORTS_SCAN_MAX.
 */
/* timegm needs _DEFAULT_SOURCE, which the build defines everywhere. */
#include "reports.h"

#include "couch_schema.h"
#include "hub.h"
#include "hlf/mem.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

static int
bad_set(gw_reports_bad_t *bad, const char *code, const char *field,
        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
bad_set(gw_reports_bad_t *bad, const char *code, const char *field,
        const char *fmt, ...)
{
    va_list ap;

    if (bad != NULL) {
        bad->code = code;
        bad->field = field;
        va_start(ap, fmt);
        vsnprintf(bad->message, sizeof(bad->message), fmt, ap);
        va_end(ap);
    }
    return HLF_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Time parameters                                                    */
/* ------------------------------------------------------------------ */

/*
 * 1 if s has the shape of tmpl: 'd' stands for a decimal digit, 'a' for
 * a letter, anything else for itself. The fixed shapes make the sscanf
 * conversions below exact (no signs, spaces or short fields slip in).
 */
static int
shaped(const char *s, const char *tmpl)
{
    for (; *tmpl != '\0'; s++, tmpl++) {
        if (*tmpl == 'd' ? (*s < '0' || *s > '9')
            : *tmpl == 'a' ? !((*s >= 'A' && *s <= 'Z') ||
                               (*s >= 'a' && *s <= 'z'))
                           : *s != *tmpl)
            return 0;
    }
    return *s == '\0';
}

/*
 * Seconds of a UTC civil time, or -1 if a field is out of range (the
 * date is converted and back, so 31 April and 29 February of a common
 * year are refused). wday (0 = Sunday), if >= 0, must match.
 */
static int
civil_secs(int y, int mon, int d, int h, int mi, int s, int wday,
           int64_t *out)
{
    struct tm tm, back;
    time_t t;

    if (y < 1970 || y > 9999 || mon < 1 || mon > 12 || d < 1 || d > 31 ||
        h > 23 || mi > 59 || s > 59)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm);
    if (gmtime_r(&t, &back) == NULL || back.tm_mday != d ||
        back.tm_mon != mon - 1 || (wday >= 0 && back.tm_wday != wday))
        return -1;
    *out = (int64_t)t;
    return 0;
}

static int
parse_unix(const char *s, int64_t *out)
{
    size_t i, n = strlen(s);
    int64_t v = 0;

    if (n == 0 || n > 12)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* RFC 3339 date-time: date 'T' time [fraction] ('Z' | offset). */
static int
parse_rfc3339(const char *s, int64_t *out)
{
    char head[20], zone[8];
    const char *p = s + 19;
    int y, mon, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t t;

    if (strlen(s) < 20)
        return -1;
    memcpy(head, s, 19);
    head[19] = '\0';
    if (head[10] == 't')
        head[10] = 'T';
    if (!shaped(head, "dddd-dd-ddTdd:dd:dd") ||
        sscanf(head, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mon, &d, &h, &mi,
               &sec) != 6)
        return -1;
    if (*p == '.') {
        /* A fraction of a second: at least one digit, dropped. */
        if (p[1] < '0' || p[1] > '9')
            return -1;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if (strlen(p) >= sizeof(zone))
        return -1;
    memcpy(zone, p, strlen(p) + 1);
    if (strcmp(zone, "Z") != 0 && strcmp(zone, "z") != 0) {
        /* An unencoded '+' in a query string arrives as a space. */
        if (zone[0] != '+' && zone[0] != '-' && zone[0] != ' ')
            return -1;
        sign = zone[0] == '-' ? -1 : 1;
        zone[0] = '+';
        if (!shaped(zone, "+dd:dd") ||
            sscanf(zone, "+%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
            return -1;
    }
    if (civil_secs(y, mon, d, h, mi, sec, -1, &t) != 0)
        return -1;
    /* The local time is ahead of UTC by the offset. */
    t -= (int64_t)sign * (oh * 3600 + om * 60);
    if (t < 0)
        return -1;
    *out = t;
    return 0;
}

/* The index of the three letters at s in a list of three-letter names,
 * or -1. */
static int
name3(const char *list, const char *s)
{
    size_t i, n = strlen(list) / 3;

    for (i = 0; i < n; i++)
        if (strncmp(list + 3 * i, s, 3) == 0)
            return (int)i;
    return -1;
}

/* IMF-fixdate: "Mon, 09 Sep 2019 20:38:00 GMT". */
static int
parse_imf(const char *s, int64_t *out)
{
    int wday, mon, d, y, h, mi, sec;

    if (!shaped(s, "aaa, dd aaa dddd dd:dd:dd GMT") ||
        (wday = name3("SunMonTueWedThuFriSat", s)) < 0 ||
        (mon = name3("JanFebMarAprMayJunJulAugSepOctNovDec", s + 8)) < 0 ||
        sscanf(s + 5, "%2d", &d) != 1 ||
        sscanf(s + 12, "%4d %2d:%2d:%2d", &y, &h, &mi, &sec) != 4)
        return -1;
    return civil_secs(y, mon + 1, d, h, mi, sec, wday, out);
}

int
gw_reports_parse_imf(const char *s, int64_t *out)
{
    int64_t v;

    if (s == NULL || out == NULL || parse_imf(s, &v) != 0)
        return HLF_EINVAL;
    *out = v;
    return HLF_OK;
}

int
gw_reports_parse_time(const char *s, int64_t *out)
{
    int64_t v;

    if (s == NULL || out == NULL)
        return HLF_EINVAL;
    if (parse_unix(s, &v) != 0 && parse_rfc3339(s, &v) != 0 &&
        parse_imf(s, &v) != 0)
        return HLF_EINVAL;
    *out = v;
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Cursors                                                            */
/* ------------------------------------------------------------------ */

void
gw_reports_cursor_encode(int desc, int64_t seq,
                         char out[GW_REPORTS_CURSOR_MAX])
{
    snprintf(out, GW_REPORTS_CURSOR_MAX, "%c%" PRId64, desc ? 'd' : 'a',
             seq);
}

int
gw_reports_cursor_decode(const char *s, int *desc, int64_t *seq)
{
    size_t i, n;
    int64_t v = 0;

    if (s == NULL || (s[0] != 'a' && s[0] != 'd'))
        return HLF_EINVAL;
    n = strlen(s + 1);
    if (n == 0 || n > 16 || (n > 1 && s[1] == '0'))
        return HLF_EINVAL;
    for (i = 1; i <= n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return HLF_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v > GW_REPORTS_SEQ_MAX)
        return HLF_EINVAL;
    *desc = s[0] == 'd';
    *seq = v;
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Query parameters                                                   */
/* ------------------------------------------------------------------ */

static const char *const filter_names[] = {
#define GW__EVF_NAME(id, name) name,
    GW_EVFIELD_MAP(GW__EVF_NAME)
#undef GW__EVF_NAME
};
#define NFILTERS (sizeof(filter_names) / sizeof(filter_names[0]))

/* Which parameters a report accepts besides its filters. */
enum {
    P_TIME = 1 << 0,   /* from, to */
    P_PAGE = 1 << 1,   /* limit, cursor */
    P_ORDER = 1 << 2,  /* order */
    P_STUCK = 1 << 3   /* stuck_days */
};

/* What the parameters said. */
typedef struct params_s {
    json_t *selector;   /* filters and time range so far */
    int has_from, has_to;
    int64_t from, to;
    size_t limit;
    int has_cursor, cursor_desc, desc;
    int64_t cursor_seq;
    const char *cursor;
    int stuck_days;
} params_t;

static int
once(const gw_reports_param_t *p, size_t at, gw_reports_bad_t *bad)
{
    size_t i;

    for (i = 0; i < at; i++)
        if (strcmp(p[i].name, p[at].name) == 0)
            return bad_set(bad, "BAD_REQUEST", p[at].name,
                           "%s may be given once", p[at].name);
    if (p[at].value == NULL || p[at].value[0] == '\0')
        return bad_set(bad, "BAD_REQUEST", p[at].name, "%s needs a value",
                       p[at].name);
    return HLF_OK;
}

/* Add value to the selector's condition on name: a string, or $in. */
static int
add_filter(json_t *sel, const char *name, const char *value,
           gw_reports_bad_t *bad)
{
    json_t *cur = json_object_get(sel, name), *in;

    if (value == NULL || value[0] == '\0' ||
        strlen(value) > GW_REPORTS_VALUE_MAX)
        return bad_set(bad, "BAD_REQUEST", name,
                       "%s needs a value of 1 to %d bytes", name,
                       GW_REPORTS_VALUE_MAX);
    if (cur == NULL)
        return json_object_set_new(sel, name, json_string(value)) == 0
                   ? HLF_OK
                   : HLF_ENOMEM;
    if (json_is_string(cur)) {
        in = json_pack("{s:[O]}", "$in", cur);
        if (in == NULL || json_object_set_new(sel, name, in) != 0)
            return HLF_ENOMEM;
        cur = in;
    }
    in = json_object_get(cur, "$in");
    if (json_array_size(in) >= GW_REPORTS_VALUES_MAX)
        return bad_set(bad, "BAD_REQUEST", name,
                       "at most %d values of %s", GW_REPORTS_VALUES_MAX,
                       name);
    return json_array_append_new(in, json_string(value)) == 0 ? HLF_OK
                                                              : HLF_ENOMEM;
}

static int
param_int(const char *name, const char *v, long lo, long hi, long *out,
          gw_reports_bad_t *bad)
{
    char *end;
    long x;

    x = strtol(v, &end, 10);
    if (*end != '\0' || v[0] < '0' || v[0] > '9' || x < lo || x > hi)
        return bad_set(bad, "BAD_REQUEST", name,
                       "%s must be an integer from %ld to %ld", name, lo,
                       hi);
    *out = x;
    return HLF_OK;
}

/* One non-filter parameter. */
static int
param_other(params_t *ps, unsigned allow, const gw_reports_param_t *p,
            size_t i, gw_reports_bad_t *bad)
{
    const char *k = p[i].name, *v = p[i].value;
    long x;
    int rc;

    if ((allow & P_TIME) &&
        (strcmp(k, "from") == 0 || strcmp(k, "to") == 0)) {
        int64_t t;

        if ((rc = once(p, i, bad)) != HLF_OK)
            return rc;
        if (gw_reports_parse_time(v, &t) != HLF_OK)
            return bad_set(bad, "INVALID_TIME", k,
                           "%s is not Unix seconds, an RFC 3339 time "
                           "(2019-09-09T20:38:00Z) or an IMF-fixdate "
                           "(Mon, 09 Sep 2019 20:38:00 GMT)", k);
        if (k[0] == 'f') {
            ps->has_from = 1;
            ps->from = t;
        } else {
            ps->has_to = 1;
            ps->to = t;
        }
        return HLF_OK;
    }
    if ((allow & P_PAGE) && strcmp(k, "limit") == 0) {
        if ((rc = once(p, i, bad)) != HLF_OK ||
            (rc = param_int(k, v, 1, GW_REPORTS_PAGE_MAX, &x, bad)) !=
                HLF_OK)
            return rc;
        ps->limit = (size_t)x;
        return HLF_OK;
    }
    if ((allow & P_PAGE) && strcmp(k, "cursor") == 0) {
        if ((rc = once(p, i, bad)) != HLF_OK)
            return rc;
        if (gw_reports_cursor_decode(v, &ps->cursor_desc,
                                     &ps->cursor_seq) != HLF_OK)
            return bad_set(bad, "BAD_REQUEST", k, "cursor is not one this "
                           "gateway returned as next_cursor");
        ps->has_cursor = 1;
        ps->cursor = v;
        return HLF_OK;
    }
    if ((allow & P_ORDER) && strcmp(k, "order") == 0) {
        if ((rc = once(p, i, bad)) != HLF_OK)
            return rc;
        if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0)
            return bad_set(bad, "BAD_REQUEST", k,
                           "order is asc or desc");
        ps->desc = v[0] == 'd';
        return HLF_OK;
    }
    if ((allow & P_STUCK) && strcmp(k, "stuck_days") == 0) {
        if ((rc = once(p, i, bad)) != HLF_OK ||
            (rc = param_int(k, v, 0, GW_REPORTS_STUCK_DAYS_MAX, &x,
                            bad)) != HLF_OK)
            return rc;
        ps->stuck_days = (int)x;
        return HLF_OK;
    }
    return bad_set(bad, "UNKNOWN_PARAMETER", k,
                   "%s is not a parameter of this report", k);
}

/* 1 if s is well-formed UTF-8 (no overlongs, surrogates or code points
 * above U+10FFFF): query strings arrive as raw bytes, and a value that is
 * not text cannot be a field value of an event. */
static int
utf8_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    while (*u != 0) {
        unsigned c = *u, need, cp, min;

        if (c < 0x80) {
            u++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, cp = c & 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        u++;
        while (need-- > 0) {
            if ((*u & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (*u++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
    }
    return 1;
}

/*
 * Read every parameter: filters named in filters (mask over
 * filter_names) go into ps->selector, the others per allow. Then check
 * the time range and the cursor's direction.
 */
static int
params_read(params_t *ps, unsigned filters, unsigned allow,
            const gw_reports_param_t *p, size_t n, gw_reports_bad_t *bad)
{
    size_t i, f;
    int rc;

    for (i = 0; i < n; i++) {
        if (p[i].name == NULL || !utf8_ok(p[i].name))
            return bad_set(bad, "BAD_REQUEST", "query",
                           "a parameter name is not UTF-8 text");
        if (p[i].value != NULL && !utf8_ok(p[i].value))
            return bad_set(bad, "BAD_REQUEST", p[i].name,
                           "the value of %s is not UTF-8 text", p[i].name);
        for (f = 0; f < NFILTERS; f++)
            if ((filters & (1u << f)) &&
                strcmp(p[i].name, filter_names[f]) == 0)
                break;
        rc = f < NFILTERS
                 ? add_filter(ps->selector, p[i].name, p[i].value, bad)
                 : param_other(ps, allow, p, i, bad);
        if (rc != HLF_OK)
            return rc;
    }
    if (ps->has_from && ps->has_to && ps->from >= ps->to)
        return bad_set(bad, "INVALID_TIME_RANGE", "to",
                       "to (%" PRId64 ") must be later than from (%" PRId64
                       ")", ps->to, ps->from);
    if (ps->has_cursor && ps->cursor_desc != ps->desc)
        return bad_set(bad, "BAD_REQUEST", "cursor", "the cursor belongs "
                       "to a page in the other order");
    if (ps->has_from || ps->has_to) {
        json_t *ts = json_object();

        if (ts == NULL || json_object_set_new(ps->selector, "ts", ts) != 0)
            return HLF_ENOMEM;
        if ((ps->has_from &&
             json_object_set_new(ts, "$gte", json_integer(ps->from)) != 0) ||
            (ps->has_to &&
             json_object_set_new(ts, "$lte", json_integer(ps->to - 1)) != 0))
            return HLF_ENOMEM;
    }
    return HLF_OK;
}

static void
params_init(params_t *ps)
{
    memset(ps, 0, sizeof(*ps));
    ps->limit = GW_REPORTS_PAGE_DEFAULT;
    ps->selector = json_pack("{s:s}", "type", "event");
}

/*
 * The sequence condition of a page: after (asc) or before (desc) the
 * cursor, else every sequence. Mango wants the sort fields in the
 * selector for the index to be usable, so the condition is always set.
 *
 * Bounds are inclusive ($gte cursor + 1, $lte cursor - 1; sequences and
 * ts are integers): pouchdb-server 4.2 (pouchdb-find) applies the limit
 * before it drops the row equal to an exclusive bound ($gt, $lt) of an
 * index range, so a page asked for limit + 1 came back one short and
 * paging stopped early (tests/unit/gateway/reports_routes.c caught it).
 */
static int
seq_condition(json_t *sel, const params_t *ps)
{
    json_t *c;

    if (!ps->has_cursor)
        c = json_pack("{s:i}", "$gte", 0);
    else
        c = json_pack("{s:I}", ps->desc ? "$lte" : "$gte",
                      (json_int_t)(ps->desc ? ps->cursor_seq - 1
                                            : ps->cursor_seq + 1));
    return c != NULL && json_object_set_new(sel, "sequence", c) == 0
               ? HLF_OK
               : HLF_ENOMEM;
}

/*
 * {"selector", "sort", "limit", "use_index"} (takes sel). Every index
 * of couch_schema.h starts with "type" and ends with "sequence"; first
 * (or NULL) is the field between them. The sort names every index field
 * in the same direction so that CouchDB and pouchdb-server both read the
 * index in order instead of sorting in memory; the selector fixes type
 * and first by equality, so the order is the sequence order.
 */
static json_t *
find_body(json_t *sel, const char *first, const char *index, int desc,
          size_t limit)
{
    const char *dir = desc ? "desc" : "asc";
    json_t *sort;

    sort = first != NULL
               ? json_pack("[{s:s},{s:s},{s:s}]", "type", dir, first, dir,
                           "sequence", dir)
               : json_pack("[{s:s},{s:s}]", "type", dir, "sequence", dir);
    if (sort == NULL) {
        json_decref(sel);
        return NULL;
    }
    return json_pack("{s:o, s:o, s:I, s:[s,s]}", "selector", sel, "sort",
                     sort, "limit", (json_int_t)limit, "use_index",
                     GW_COUCH_DDOC, index);
}

/*
 * The index a search reads: the first field, in this order, that the
 * selector fixes to one value, so that the index range holds only
 * candidates; the other filters are checked while reading it. Fields
 * listed from the most to the least selective in the data the reports
 * serve (a subject has few events, a recorder many, an Event value
 * more).
 */
static const struct {
    const char *field, *index;
} search_indexes[] = {
    {"EventSubject", GW_REPORTS_IDX_SUBJECT},
    {"Recorder", GW_REPORTS_IDX_RECORDER},
    {"Event", GW_REPORTS_IDX_EVENT},
    {"SubjectType", GW_REPORTS_IDX_SUBJECT_TYPE},
};

int
gw_reports_search_query(const gw_reports_param_t *p, size_t n,
                        json_t **find, size_t *limit, int *desc,
                        gw_reports_bad_t *bad)
{
    const char *field = NULL, *index = GW_REPORTS_IDX_SEQUENCE;
    params_t ps;
    size_t i;
    int rc;

    *find = NULL;
    params_init(&ps);
    if (ps.selector == NULL)
        return HLF_ENOMEM;
    rc = params_read(&ps, (1u << NFILTERS) - 1, P_TIME | P_PAGE | P_ORDER,
                     p, n, bad);
    if (rc == HLF_OK)
        rc = seq_condition(ps.selector, &ps);
    if (rc != HLF_OK) {
        json_decref(ps.selector);
        return rc;
    }
    for (i = 0; field == NULL && i < sizeof(search_indexes) /
                                         sizeof(search_indexes[0]);
         i++)
        if (json_is_string(json_object_get(ps.selector,
                                           search_indexes[i].field))) {
            field = search_indexes[i].field;
            index = search_indexes[i].index;
        }
    *find = find_body(ps.selector, field, index, ps.desc, ps.limit + 1);
    if (*find == NULL)
        return HLF_ENOMEM;
    *limit = ps.limit;
    *desc = ps.desc;
    return HLF_OK;
}

int
gw_reports_activity_query(const char *subject,
                          const gw_reports_param_t *p, size_t n,
                          json_t **find, size_t *limit,
                          gw_reports_bad_t *bad)
{
    params_t ps;
    int rc;

    *find = NULL;
    if (subject == NULL || subject[0] == '\0' ||
        strlen(subject) > GW_REPORTS_VALUE_MAX || !utf8_ok(subject))
        return bad_set(bad, "BAD_REQUEST", "EventSubject",
                       "EventSubject needs 1 to %d bytes of UTF-8 text",
                       GW_REPORTS_VALUE_MAX);
    params_init(&ps);
    if (ps.selector == NULL)
        return HLF_ENOMEM;
    ps.desc = 1;
    rc = params_read(&ps, 0, P_PAGE, p, n, bad);
    if (rc == HLF_OK &&
        json_object_set_new(ps.selector, "EventSubject",
                            json_string(subject)) != 0)
        rc = HLF_ENOMEM;
    if (rc == HLF_OK)
        rc = seq_condition(ps.selector, &ps);
    if (rc != HLF_OK) {
        json_decref(ps.selector);
        return rc;
    }
    *find = find_body(ps.selector, "EventSubject", GW_REPORTS_IDX_SUBJECT,
                      1, ps.limit + 1);
    if (*find == NULL)
        return HLF_ENOMEM;
    *limit = ps.limit;
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Pages                                                              */
/* ------------------------------------------------------------------ */

/* Shared by both pages: items built by make, the cursor and has_more
 * into obj (a new object the caller filled with its own keys). */
static int
page_fill(json_t *obj, const json_t *docs, size_t limit, int desc,
          const char *cursor, json_t *(*make)(const json_t *))
{
    json_t *items = json_array();
    const json_t *last = NULL;
    size_t i, n;
    char next[GW_REPORTS_CURSOR_MAX];

    if (!json_is_array(docs)) {
        json_decref(items);
        return HLF_EINVAL;
    }
    n = json_array_size(docs);
    for (i = 0; items != NULL && i < n && i < limit; i++) {
        const json_t *d = json_array_get(docs, i);

        if (!json_is_integer(json_object_get(d, "sequence"))) {
            json_decref(items);
            return HLF_EINVAL;
        }
        if (json_array_append_new(items, make(d)) != 0) {
            json_decref(items);
            items = NULL;
        }
        last = d;
    }
    if (items == NULL)
        return HLF_ENOMEM;
    if (json_object_set_new(obj, "events", items) != 0)
        return HLF_ENOMEM;
    if (last != NULL) {
        gw_reports_cursor_encode(
            desc, json_integer_value(json_object_get(last, "sequence")),
            next);
        cursor = next;
    }
    if (json_object_set_new(obj, "next_cursor",
                            cursor != NULL ? json_string(cursor)
                                           : json_null()) != 0 ||
        json_object_set_new(obj, "has_more", json_boolean(n > limit)) != 0)
        return HLF_ENOMEM;
    return HLF_OK;
}

/* A search item: the document without CouchDB's and the schema's
 * bookkeeping keys. */
static json_t *
search_item(const json_t *doc)
{
    json_t *c = json_deep_copy(doc);

    if (c != NULL) {
        json_object_del(c, "_id");
        json_object_del(c, "_rev");
        json_object_del(c, "type");
    }
    return c;
}

int
gw_reports_search_page(const json_t *docs, size_t limit, int desc,
                       const char *cursor, json_t **out)
{
    json_t *o = json_pack("{s:s}", "order", desc ? "desc" : "asc");
    int rc;

    *out = NULL;
    if (o == NULL)
        return HLF_ENOMEM;
    rc = page_fill(o, docs, limit, desc, cursor, search_item);
    if (rc != HLF_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return HLF_OK;
}

/* A copy of doc's key, or JSON null when absent. */
static json_t *
copy_or_null(const json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);

    return v != NULL ? json_deep_copy(v) : json_null();
}

json_t *
gw_reports_activity_item(const json_t *doc)
{
    json_t *tx, *it;

    if (!json_is_object(doc))
        return NULL;
    tx = json_pack("{s:o, s:o, s:o, s:o, s:o}",
                   "Recorder", copy_or_null(doc, "Recorder"),
                   "Application", copy_or_null(doc, "Application"),
                   "System", copy_or_null(doc, "System"),
                   "Identifier", copy_or_null(doc, "TransactionId"),
                   "Recorded", copy_or_null(doc, "Timestamp"));
    if (tx == NULL)
        return NULL;
    it = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                   "Event", copy_or_null(doc, "Event"),
                   "State", copy_or_null(doc, "State"),
                   "SubjectType", copy_or_null(doc, "SubjectType"),
                   "Entity", copy_or_null(doc, "Entity"),
                   "Details", copy_or_null(doc, "Context"),
                   "Transaction", tx,
                   "Version", copy_or_null(doc, "Version"),
                   "sequence", copy_or_null(doc, "sequence"),
                   "block", copy_or_null(doc, "block"),
                   "txid", copy_or_null(doc, "txid"));
    if (it != NULL && json_object_get(doc, "Audience") != NULL &&
        json_object_set_new(it, "Audience",
                            copy_or_null(doc, "Audience")) != 0) {
        json_decref(it);
        return NULL;
    }
    return it;
}

int
gw_reports_activity_page(const char *subject, const json_t *docs,
                         size_t limit, const char *cursor, json_t **out)
{
    json_t *o = json_pack("{s:s}", "EventSubject", subject);
    int rc;

    *out = NULL;
    if (o == NULL)
        return HLF_ENOMEM;
    rc = page_fill(o, docs, limit, 1, cursor, gw_reports_activity_item);
    if (rc != HLF_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Onboarding                                                         */
/* ------------------------------------------------------------------ */

/* The RCP-002 Event values, in the proposal's order (tile order). */
static const char *const ob_events[] = {
    "Application", "Personal", "License1", "License2", "Experience",
    "Financial",   "Verification", "Approval", "Review", "Transfer",
    "Email",       "ICA",      "Firm",     "Agent",
};
#define NOB_EVENTS (sizeof(ob_events) / sizeof(ob_events[0]))

typedef struct pair_s {
    const char *event, *state;
} pair_t;

/*
 * Milestones, in the order reso-model.md §4.4 lists the stages of the
 * join process ("Events with States"): application, license, contract,
 * verification, approval, joining the firm. Each is reached the first
 * time the applicant records it.
 */
static const pair_t milestones[] = {
    {"Application", "Started"}, {"License1", "Provided"},
    {"ICA", "Signed"},          {"License1", "Verified"},
    {"Verification", "Complete"}, {"Approval", "Complete"},
    {"Firm", "Joined"},
};
#define NMILESTONES (sizeof(milestones) / sizeof(milestones[0]))

/*
 * Where onboarding ends: approved, joined the firm, active as an agent
 * (reso-model.md §4.4), or verification failed (rejected). A denied
 * license is not terminal: the applicant may provide another one, and
 * is exactly who a specialist should follow up.
 */
static const pair_t terminals[] = {
    {"Approval", "Complete"},
    {"Firm", "Joined"},
    {"Agent", "Active"},
    {"Verification", "Failed"},
};

int
gw_reports_onboarding_terminal(const char *event, const char *state)
{
    size_t i;

    for (i = 0; event != NULL && state != NULL &&
                i < sizeof(terminals) / sizeof(terminals[0]);
         i++)
        if (strcmp(terminals[i].event, event) == 0 &&
            strcmp(terminals[i].state, state) == 0)
            return 1;
    return 0;
}

static int
ob_event_index(const char *event)
{
    size_t i;

    for (i = 0; i < NOB_EVENTS; i++)
        if (strcmp(ob_events[i], event) == 0)
            return (int)i;
    return -1;
}

int
gw_reports_onboarding_params(const gw_reports_param_t *p, size_t n,
                             int default_stuck_days, json_t **selector,
                             int *stuck_days, gw_reports_bad_t *bad)
{
    unsigned filters = (1u << GW_EVF_SYSTEM) | (1u << GW_EVF_RECORDER);
    params_t ps;
    int rc = HLF_OK;

    *selector = NULL;
    params_init(&ps);
    ps.stuck_days = default_stuck_days;
    /*
     * Only SubjectType, fixed by the index: the Event is checked by the
     * aggregation (gw_onboarding_add), because a condition the index
     * cannot answer makes pouchdb-server read the whole remaining index
     * range for every batch before it applies the limit.
     */
    if (ps.selector == NULL ||
        json_object_set_new(ps.selector, "SubjectType",
                            json_string("Agent")) != 0)
        rc = HLF_ENOMEM;
    if (rc == HLF_OK)
        rc = params_read(&ps, filters, P_TIME | P_STUCK, p, n, bad);
    if (rc != HLF_OK) {
        json_decref(ps.selector);
        return rc;
    }
    *selector = ps.selector;
    *stuck_days = ps.stuck_days;
    return HLF_OK;
}

json_t *
gw_reports_onboarding_batch(const json_t *selector, int64_t after)
{
    json_t *sel = json_deep_copy(selector);

    if (sel == NULL ||
        json_object_set_new(sel, "sequence",
                            json_pack("{s:I}", "$gte",
                                      (json_int_t)(after < 0 ? 0
                                                             : after + 1))) !=
            0) {
        json_decref(sel);
        return NULL;
    }
    /* One Recorder: its own index holds fewer events than all Agents. */
    if (json_is_string(json_object_get(sel, "Recorder")))
        return find_body(sel, "Recorder", GW_REPORTS_IDX_RECORDER, 0,
                         GW_REPORTS_SCAN_BATCH);
    return find_body(sel, "SubjectType", GW_REPORTS_IDX_SUBJECT_TYPE, 0,
                     GW_REPORTS_SCAN_BATCH);
}

/* One applicant: its latest event and when it first reached each
 * milestone (INT64_MIN: not yet). */
typedef struct applicant_s {
    char *subject;
    int64_t seq, ts;
    int event;          /* index into ob_events */
    char *state;
    char *timestamp;    /* the event's Timestamp string, or NULL */
    int64_t first[NMILESTONES];
} applicant_t;

/* A tile: events counted per (Event, State). */
typedef struct tile_s {
    int event;
    char *state;
    size_t count;
} tile_t;

struct gw_onboarding_s {
    applicant_t **slots;   /* open addressing by subject */
    size_t nslots, napplicants;
    tile_t *tiles;
    size_t ntiles, tiles_cap;
    size_t count, skipped;
};

int
gw_onboarding_new(gw_onboarding_t **out)
{
    gw_onboarding_t *o = hlf_calloc(1, sizeof(*o));

    *out = NULL;
    if (o == NULL)
        return HLF_ENOMEM;
    o->nslots = 64;
    o->slots = hlf_calloc(o->nslots, sizeof(*o->slots));
    if (o->slots == NULL) {
        hlf_free(o);
        return HLF_ENOMEM;
    }
    *out = o;
    return HLF_OK;
}

static void
applicant_free(applicant_t *a)
{
    if (a != NULL) {
        hlf_free(a->subject);
        hlf_free(a->state);
        hlf_free(a->timestamp);
        hlf_free(a);
    }
}

void
gw_onboarding_free(gw_onboarding_t *o)
{
    size_t i;

    if (o == NULL)
        return;
    for (i = 0; i < o->nslots; i++)
        applicant_free(o->slots[i]);
    for (i = 0; i < o->ntiles; i++)
        hlf_free(o->tiles[i].state);
    hlf_free(o->slots);
    hlf_free(o->tiles);
    hlf_free(o);
}

size_t
gw_onboarding_count(const gw_onboarding_t *o)
{
    return o->count;
}

size_t
gw_onboarding_skipped(const gw_onboarding_t *o)
{
    return o->skipped;
}

/* FNV-1a: spreads subject ids that differ in their last characters. */
static size_t
str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

/* The slot of subject: its applicant, or the empty slot to put it in. */
static applicant_t **
slot_of(applicant_t **slots, size_t nslots, const char *subject)
{
    size_t i = str_hash(subject) & (nslots - 1);

    while (slots[i] != NULL && strcmp(slots[i]->subject, subject) != 0)
        i = (i + 1) & (nslots - 1);
    return &slots[i];
}

/* Double the table when it is half full. */
static int
grow(gw_onboarding_t *o)
{
    size_t i, n = o->nslots * 2;
    applicant_t **s;

    if (o->napplicants + 1 <= o->nslots / 2)
        return HLF_OK;
    s = hlf_calloc(n, sizeof(*s));
    if (s == NULL)
        return HLF_ENOMEM;
    for (i = 0; i < o->nslots; i++)
        if (o->slots[i] != NULL)
            *slot_of(s, n, o->slots[i]->subject) = o->slots[i];
    hlf_free(o->slots);
    o->slots = s;
    o->nslots = n;
    return HLF_OK;
}

static int
tile_count(gw_onboarding_t *o, int event, const char *state)
{
    size_t i;

    for (i = 0; i < o->ntiles; i++)
        if (o->tiles[i].event == event &&
            strcmp(o->tiles[i].state, state) == 0) {
            o->tiles[i].count++;
            return HLF_OK;
        }
    if (o->ntiles == o->tiles_cap) {
        size_t cap = o->tiles_cap ? o->tiles_cap * 2 : 16;
        tile_t *t = hlf_realloc(o->tiles, cap * sizeof(*t));

        if (t == NULL)
            return HLF_ENOMEM;
        o->tiles = t;
        o->tiles_cap = cap;
    }
    o->tiles[o->ntiles].state = hlf_strdup(state);
    if (o->tiles[o->ntiles].state == NULL)
        return HLF_ENOMEM;
    o->tiles[o->ntiles].event = event;
    o->tiles[o->ntiles].count = 1;
    o->ntiles++;
    return HLF_OK;
}

/* Replace *dst with a copy of src (NULL allowed). */
static int
set_str(char **dst, const char *src)
{
    char *c = NULL;

    if (src != NULL && (c = hlf_strdup(src)) == NULL)
        return HLF_ENOMEM;
    hlf_free(*dst);
    *dst = c;
    return HLF_OK;
}

static applicant_t *
applicant_get(gw_onboarding_t *o, const char *subject)
{
    applicant_t **slot, *a;
    size_t m;

    if (grow(o) != HLF_OK)
        return NULL;
    slot = slot_of(o->slots, o->nslots, subject);
    if (*slot != NULL)
        return *slot;
    a = hlf_calloc(1, sizeof(*a));
    if (a == NULL || (a->subject = hlf_strdup(subject)) == NULL) {
        hlf_free(a);
        return NULL;
    }
    a->seq = -1;
    for (m = 0; m < NMILESTONES; m++)
        a->first[m] = INT64_MIN;
    *slot = a;
    o->napplicants++;
    return a;
}

int
gw_onboarding_add(gw_onboarding_t *o, const json_t *doc)
{
    const char *subject, *event, *state, *stype;
    const json_t *jts, *jseq;
    applicant_t *a;
    int64_t ts, seq;
    int ev;
    size_t m;

    subject = json_string_value(json_object_get(doc, "EventSubject"));
    event = json_string_value(json_object_get(doc, "Event"));
    state = json_string_value(json_object_get(doc, "State"));
    stype = json_string_value(json_object_get(doc, "SubjectType"));
    jts = json_object_get(doc, "ts");
    jseq = json_object_get(doc, "sequence");
    if (subject == NULL || event == NULL || state == NULL ||
        stype == NULL || strcmp(stype, "Agent") != 0 ||
        !json_is_integer(jts) || !json_is_integer(jseq) ||
        (ev = ob_event_index(event)) < 0) {
        o->skipped++;
        return HLF_OK;
    }
    ts = json_integer_value(jts);
    seq = json_integer_value(jseq);
    if (tile_count(o, ev, state) != HLF_OK ||
        (a = applicant_get(o, subject)) == NULL)
        return HLF_ENOMEM;
    o->count++;
    if (seq > a->seq) {
        if (set_str(&a->state, state) != HLF_OK ||
            set_str(&a->timestamp, json_string_value(json_object_get(
                                       doc, "Timestamp"))) != HLF_OK)
            return HLF_ENOMEM;
        a->seq = seq;
        a->ts = ts;
        a->event = ev;
    }
    for (m = 0; m < NMILESTONES; m++)
        if (strcmp(milestones[m].event, event) == 0 &&
            strcmp(milestones[m].state, state) == 0 &&
            (a->first[m] == INT64_MIN || ts < a->first[m]))
            a->first[m] = ts;
    return HLF_OK;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

double
gw_reports_median(int64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_i64);
    if (n % 2 == 1)
        return (double)v[n / 2];
    return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

static int
cmp_subject(const void *a, const void *b)
{
    const applicant_t *x = *(applicant_t *const *)a;
    const applicant_t *y = *(applicant_t *const *)b;

    return strcmp(x->subject, y->subject);
}

/* Longest stuck first: oldest latest event, then by subject. */
static int
cmp_stuck(const void *a, const void *b)
{
    const applicant_t *x = *(applicant_t *const *)a;
    const applicant_t *y = *(applicant_t *const *)b;

    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return strcmp(x->subject, y->subject);
}

/* Tiles: Event in RCP-002 order, then count descending, then State. */
static int
cmp_tile(const void *a, const void *b)
{
    const tile_t *x = a, *y = b;

    if (x->event != y->event)
        return x->event - y->event;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->state, y->state);
}

static json_t *
tiles_json(gw_onboarding_t *o)
{
    json_t *arr = json_array(), *tile = NULL, *states = NULL;
    size_t i, total = 0;

    if (o->ntiles > 1)
        qsort(o->tiles, o->ntiles, sizeof(*o->tiles), cmp_tile);
    for (i = 0; arr != NULL && i < o->ntiles; i++) {
        const tile_t *t = &o->tiles[i];

        if (i == 0 || o->tiles[i - 1].event != t->event) {
            total = 0;
            tile = json_pack("{s:s, s:i, s:[]}", "Event",
                             ob_events[t->event], "total", 0, "states");
            if (tile == NULL || json_array_append_new(arr, tile) != 0)
                goto fail;
            states = json_object_get(tile, "states");
        }
        total += t->count;
        if (json_array_append_new(states,
                                  json_pack("{s:s, s:I}", "State",
                                            t->state, "count",
                                            (json_int_t)t->count)) != 0 ||
            json_object_set_new(tile, "total",
                                json_integer((json_int_t)total)) != 0)
            goto fail;
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}

static json_t *
applicant_json(const applicant_t *a)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I}", "EventSubject",
                     a->subject, "Event", ob_events[a->event], "State",
                     a->state, "Timestamp", a->timestamp, "ts",
                     (json_int_t)a->ts, "sequence", (json_int_t)a->seq);
}

static json_t *
milestones_json(applicant_t *const *all, size_t n)
{
    json_t *arr = json_array();
    int64_t *d = hlf_malloc((n ? n : 1) * sizeof(*d));
    size_t m, i, nd, late;
    char from[64], to[64];

    if (arr == NULL || d == NULL)
        goto fail;
    for (m = 0; m + 1 < NMILESTONES; m++) {
        nd = late = 0;
        for (i = 0; i < n; i++) {
            int64_t a = all[i]->first[m], b = all[i]->first[m + 1];

            if (a == INT64_MIN || b == INT64_MIN)
                continue;
            if (b < a)
                late++;
            else
                d[nd++] = b - a;
        }
        snprintf(from, sizeof(from), "%s %s", milestones[m].event,
                 milestones[m].state);
        snprintf(to, sizeof(to), "%s %s", milestones[m + 1].event,
                 milestones[m + 1].state);
        if (json_array_append_new(
                arr, json_pack("{s:s, s:s, s:I, s:I, s:o}", "from", from,
                               "to", to, "applicants", (json_int_t)nd,
                               "out_of_order", (json_int_t)late,
                               "median_seconds",
                               nd ? json_real(gw_reports_median(d, nd))
                                  : json_null())) != 0)
            goto fail;
    }
    hlf_free(d);
    return arr;
fail:
    hlf_free(d);
    json_decref(arr);
    return NULL;
}

int
gw_onboarding_result(gw_onboarding_t *o, int64_t now,
                     int stuck_days, json_t **out)
{
    applicant_t **all = NULL;
    json_t *latest = NULL, *stuck = NULL, *r = NULL, *tiles, *ms;
    int64_t limit = (int64_t)stuck_days * 86400;
    size_t i, n = 0;
    int rc = HLF_ENOMEM;

    *out = NULL;
    all = hlf_malloc((o->napplicants ? o->napplicants : 1) * sizeof(*all));
    latest = json_array();
    stuck = json_array();
    if (all == NULL || latest == NULL || stuck == NULL)
        goto fail;
    for (i = 0; i < o->nslots; i++)
        if (o->slots[i] != NULL)
            all[n++] = o->slots[i];
    qsort(all, n, sizeof(*all), cmp_subject);
    for (i = 0; i < n; i++) {
        json_t *j = applicant_json(all[i]);
        int term = gw_reports_onboarding_terminal(ob_events[all[i]->event],
                                                  all[i]->state);

        if (j == NULL ||
            json_object_set_new(j, "terminal", json_boolean(term)) != 0 ||
            json_array_append_new(latest, j) != 0)
            goto fail;
    }
    tiles = tiles_json(o);
    ms = milestones_json(all, n);
    r = json_pack("{s:I, s:i, s:I, s:I, s:o*, s:O, s:o*}", "as_of",
                  (json_int_t)now, "stuck_days", stuck_days, "events",
                  (json_int_t)o->count, "applicants", (json_int_t)n,
                  "tiles", tiles, "latest", latest, "milestones", ms);
    if (r == NULL || tiles == NULL || ms == NULL)
        goto fail;
    qsort(all, n, sizeof(*all), cmp_stuck);
    for (i = 0; i < n; i++) {
        json_t *j;

        if (gw_reports_onboarding_terminal(ob_events[all[i]->event],
                                           all[i]->state) ||
            now - all[i]->ts <= limit)
            continue;
        j = applicant_json(all[i]);
        if (j == NULL ||
            json_object_set_new(j, "stuck_seconds",
                                json_integer(now - all[i]->ts)) != 0 ||
            json_array_append_new(stuck, j) != 0)
            goto fail;
    }
    if (json_object_set(r, "stuck", stuck) != 0)
        goto fail;
    *out = r;
    r = NULL;
    rc = HLF_OK;
fail:
    hlf_free(all);
    json_decref(latest);
    json_decref(stuck);
    json_decref(r);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Scanning an index range                                            */
/* ------------------------------------------------------------------ */

/* One condition of a selector on one document value (NULL: absent). */
static int
cond_match(const json_t *cond, const json_t *v)
{
    const char *op;
    json_t *arg;
    size_t i;

    if (!json_is_object(cond))
        return v != NULL && json_equal(cond, v);
    if (v == NULL)
        return 0;
    json_object_foreach((json_t *)cond, op, arg) {
        if (strcmp(op, "$in") == 0) {
            int hit = 0;

            for (i = 0; !hit && i < json_array_size(arg); i++)
                hit = json_equal(json_array_get(arg, i), v);
            if (!hit)
                return 0;
        } else if (json_is_number(arg) && json_is_number(v)) {
            double a = json_number_value(arg), x = json_number_value(v);

            if ((strcmp(op, "$gte") == 0 && !(x >= a)) ||
                (strcmp(op, "$lte") == 0 && !(x <= a)) ||
                (strcmp(op, "$gt") == 0 && !(x > a)) ||
                (strcmp(op, "$lt") == 0 && !(x < a)) ||
                (strcmp(op, "$gte") != 0 && strcmp(op, "$lte") != 0 &&
                 strcmp(op, "$gt") != 0 && strcmp(op, "$lt") != 0))
                return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

int
gw_reports_match(const json_t *selector, const json_t *doc)
{
    const char *k;
    json_t *cond;

    if (!json_is_object(selector) || !json_is_object(doc))
        return 0;
    json_object_foreach((json_t *)selector, k, cond)
        if (!cond_match(cond, json_object_get(doc, k)))
            return 0;
    return 1;
}

/* 1 if field is one of the sort's (= the index's) fields. */
static int
in_sort(const json_t *sort, const char *field)
{
    size_t i;

    for (i = 0; i < json_array_size(sort); i++)
        if (json_object_get(json_array_get(sort, i), field) != NULL)
            return 1;
    return 0;
}

int
gw_reports_residual(const json_t *find)
{
    const json_t *sort = json_object_get(find, "sort");
    const char *k;
    json_t *cond;

    json_object_foreach(json_object_get(find, "selector"), k, cond)
        if (!in_sort(sort, k))
            return 1;
    return 0;
}

json_t *
gw_reports_scan_find(const json_t *find, int64_t after, size_t batch)
{
    json_t *q = json_deep_copy(find), *sel, *sort, *idx;
    const char *k, *dir;
    json_t *cond;
    int desc;

    if (q == NULL)
        return NULL;
    sel = json_object_get(q, "selector");
    sort = json_object_get(q, "sort");
    idx = json_object();
    json_object_foreach(sel, k, cond)
        if (idx != NULL && in_sort(sort, k) &&
            json_object_set(idx, k, cond) != 0) {
            json_decref(idx);
            idx = NULL;
        }
    dir = json_string_value(json_object_get(json_array_get(sort, 0),
                                            "type"));
    desc = dir != NULL && strcmp(dir, "desc") == 0;
    if (idx == NULL ||
        (after >= 0 &&
         json_object_set_new(idx, "sequence",
                             json_pack("{s:I}", desc ? "$lte" : "$gte",
                                       (json_int_t)(desc ? after - 1
                                                         : after + 1))) !=
             0) ||
        json_object_set_new(q, "selector", idx) != 0 ||
        json_object_set_new(q, "limit", json_integer((json_int_t)batch)) !=
            0) {
        json_decref(q);
        return NULL;
    }
    return q;
}
