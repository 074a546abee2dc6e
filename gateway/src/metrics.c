/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics for GET /metrics: counters, gauges and histograms with
 * fixed buckets, each family optionally labelled. Modules register a
 * family once and update series by label values from any thread; the
 * renderer writes the text exposition format 0.0.4.
 *
 * Every family has its own lock, so hot counters of different families
 * never contend; the registry lock only guards the family list. Series are
 * kept in insertion order in a small array per family: the label sets in
 * this daemon are few (routes x methods x statuses), so a linear search is
 * cheaper than hashing.
 */
#include "gw.h"

#include "hlf/mem.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 8
#define MAX_BUCKETS 32
#define MAX_COLLECTORS 32

typedef struct series_s {
    char **values;      /* one per label name */
    double value;       /* counter or gauge */
    uint64_t *buckets;  /* histogram: per bucket (not cumulative) */
    uint64_t count;
    double sum;
} series_t;

struct gw_metric_s {
    pthread_mutex_t lock; /* guards the series array and their values */
    gw_metric_type_t type;
    char *name;
    char *help;
    char *labels[MAX_LABELS];
    size_t nlabels;
    double bounds[MAX_BUCKETS];
    size_t nbounds;
    series_t *series;
    size_t nseries, capseries;
    struct gw_metric_s *next;
};

typedef struct collector_s {
    void (*fn)(void *ud);
    void *ud;
} collector_t;

/* Registry, guarded by reg_lock: families in registration order. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_metric_t *families, *families_tail;
static collector_t collectors[MAX_COLLECTORS];
static size_t ncollectors;

/* Request latency from 5 ms to 30 s: REST calls wait for a commit. */
static const double default_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,  1,     2.5,  5,
                                        10,    30};

/* ------------------------------------------------------------------ */
/* Text buffer                                                        */
/* ------------------------------------------------------------------ */

typedef struct buf_s {
    char *p;
    size_t len, cap;
    int oom;
} buf_t;

static void
buf_grow(buf_t *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 4096;
    char *np;

    while (cap < b->len + need + 1)
        cap *= 2;
    if (cap == b->cap)
        return;
    np = hlf_realloc(b->p, cap);
    if (np == NULL) {
        b->oom = 1;
        return;
    }
    b->p = np;
    b->cap = cap;
}

static void buf_printf(buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    buf_grow(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Escape a label value or help text: backslash, newline and (for label
 * values) the double quote. */
static void
buf_escaped(buf_t *b, const char *s, int quote)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            buf_printf(b, "\\\\");
        else if (*s == '\n')
            buf_printf(b, "\\n");
        else if (*s == '"' && quote)
            buf_printf(b, "\\\"");
        else
            buf_printf(b, "%c", *s);
    }
}

/* The shortest decimal that reads back as v ("0.1", not
 * "0.10000000000000001"). */
static void
shortest(char *out, size_t n, double v)
{
    int prec;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* Numbers: integers without a fraction, others as short as exact. */
static void
buf_number(buf_t *b, double v)
{
    char num[40];

    if (isnan(v)) {
        buf_printf(b, "NaN");
    } else if (isinf(v)) {
        buf_printf(b, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        buf_printf(b, "%.0f", v);
    } else {
        shortest(num, sizeof(num), v);
        buf_printf(b, "%s", num);
    }
}

/* ------------------------------------------------------------------ */
/* Registration                                                       */
/* ------------------------------------------------------------------ */

static int
valid_name(const char *s, int allow_colon)
{
    size_t i;

    if (s == NULL || *s == '\0')
        return 0;
    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_' || (allow_colon && c == ':');

        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static void
family_free(gw_metric_t *m)
{
    size_t i, j;

    for (i = 0; i < m->nseries; i++) {
        for (j = 0; j < m->nlabels; j++)
            hlf_free(m->series[i].values[j]);
        hlf_free(m->series[i].values);
        hlf_free(m->series[i].buckets);
    }
    for (j = 0; j < m->nlabels; j++)
        hlf_free(m->labels[j]);
    hlf_free(m->series);
    hlf_free(m->name);
    hlf_free(m->help);
    pthread_mutex_destroy(&m->lock);
    hlf_free(m);
}

/* Split "a,b,c" into m->labels; 0 or -1 on a bad name or OOM. */
static int
parse_labels(gw_metric_t *m, const char *labels)
{
    const char *p = labels;

    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *name;

        if (m->nlabels == MAX_LABELS)
            return -1;
        name = hlf_memdup(p, n);
        if (name == NULL)
            return -1;
        m->labels[m->nlabels++] = name;
        if (!valid_name(name, 0) || strcmp(name, "le") == 0)
            return -1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

gw_metric_t *
gw_metric_register(gw_metric_type_t type, const char *name,
                   const char *help, const char *labels,
                   const double *buckets, size_t nbuckets)
{
    gw_metric_t *m;
    size_t i;

    if (!valid_name(name, 1))
        return NULL;
    pthread_mutex_lock(&reg_lock);
    for (m = families; m != NULL; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            pthread_mutex_unlock(&reg_lock);
            return m->type == type ? m : NULL;
        }
    }
    m = hlf_calloc(1, sizeof(*m));
    if (m == NULL)
        goto fail;
    pthread_mutex_init(&m->lock, NULL);
    m->type = type;
    m->name = hlf_strdup(name);
    m->help = hlf_strdup(help ? help : "");
    if (m->name == NULL || m->help == NULL || parse_labels(m, labels) != 0)
        goto fail;
    if (type == GW_METRIC_HISTOGRAM) {
        if (buckets == NULL) {
            buckets = default_bounds;
            nbuckets = sizeof(default_bounds) / sizeof(default_bounds[0]);
        }
        if (nbuckets == 0 || nbuckets > MAX_BUCKETS)
            goto fail;
        for (i = 0; i < nbuckets; i++) {
            if (i > 0 && !(buckets[i] > buckets[i - 1]))
                goto fail;
            m->bounds[i] = buckets[i];
        }
        m->nbounds = nbuckets;
    }
    if (families_tail != NULL)
        families_tail->next = m;
    else
        families = m;
    families_tail = m;
    pthread_mutex_unlock(&reg_lock);
    return m;
fail:
    pthread_mutex_unlock(&reg_lock);
    if (m != NULL)
        family_free(m);
    return NULL;
}

int
gw_metrics_collector(void (*fn)(void *ud), void *ud)
{
    int rc = HLF_OK;

    if (fn == NULL)
        return HLF_EINVAL;
    pthread_mutex_lock(&reg_lock);
    if (ncollectors == MAX_COLLECTORS) {
        rc = HLF_ETOOBIG;
    } else {
        collectors[ncollectors].fn = fn;
        collectors[ncollectors].ud = ud;
        ncollectors++;
    }
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

void
gw_metrics_reset(void)
{
    gw_metric_t *m, *next;

    pthread_mutex_lock(&reg_lock);
    for (m = families; m != NULL; m = next) {
        next = m->next;
        family_free(m);
    }
    families = families_tail = NULL;
    ncollectors = 0;
    pthread_mutex_unlock(&reg_lock);
}

/* ------------------------------------------------------------------ */
/* Updates                                                            */
/* ------------------------------------------------------------------ */

/* The series for these label values, created on first use; NULL on OOM.
 * Called with m->lock held. */
static series_t *
series_get(gw_metric_t *m, const char *const *labels)
{
    series_t *s;
    size_t i, j;

    for (i = 0; i < m->nseries; i++) {
        s = &m->series[i];
        for (j = 0; j < m->nlabels; j++) {
            const char *v = labels && labels[j] ? labels[j] : "";

            if (strcmp(s->values[j], v) != 0)
                break;
        }
        if (j == m->nlabels)
            return s;
    }
    if (m->nseries == m->capseries) {
        size_t cap = m->capseries ? m->capseries * 2 : 8;
        series_t *ns = hlf_realloc(m->series, cap * sizeof(*ns));

        if (ns == NULL)
            return NULL;
        m->series = ns;
        m->capseries = cap;
    }
    s = &m->series[m->nseries];
    memset(s, 0, sizeof(*s));
    s->values = hlf_calloc(m->nlabels ? m->nlabels : 1, sizeof(char *));
    if (s->values == NULL)
        return NULL;
    for (j = 0; j < m->nlabels; j++) {
        s->values[j] = hlf_strdup(labels && labels[j] ? labels[j] : "");
        if (s->values[j] == NULL)
            goto fail;
    }
    if (m->type == GW_METRIC_HISTOGRAM) {
        s->buckets = hlf_calloc(m->nbounds, sizeof(uint64_t));
        if (s->buckets == NULL)
            goto fail;
    }
    m->nseries++;
    return s;
fail:
    for (j = 0; j < m->nlabels; j++)
        hlf_free(s->values[j]);
    hlf_free(s->values);
    return NULL;
}

/* op: 0 add, 1 set, 2 observe. */
static void
update(gw_metric_t *m, const char *const *labels, double v, int op)
{
    series_t *s;
    size_t i;

    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    s = series_get(m, labels);
    if (s != NULL) {
        if (op == 0) {
            s->value += v;
        } else if (op == 1) {
            s->value = v;
        } else {
            for (i = 0; i < m->nbounds; i++) {
                if (v <= m->bounds[i]) {
                    s->buckets[i]++;
                    break;
                }
            }
            s->count++;
            s->sum += v;
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void
gw_counter_add(gw_metric_t *m, const char *const *labels, double v)
{
    if (m != NULL && m->type == GW_METRIC_COUNTER && v >= 0)
        update(m, labels, v, 0);
}

void
gw_gauge_set(gw_metric_t *m, const char *const *labels, double v)
{
    if (m != NULL && m->type == GW_METRIC_GAUGE)
        update(m, labels, v, 1);
}

void
gw_gauge_add(gw_metric_t *m, const char *const *labels, double v)
{
    if (m != NULL && m->type == GW_METRIC_GAUGE)
        update(m, labels, v, 0);
}

void
gw_histogram_observe(gw_metric_t *m, const char *const *labels, double v)
{
    if (m != NULL && m->type == GW_METRIC_HISTOGRAM)
        update(m, labels, v, 2);
}

/* ------------------------------------------------------------------ */
/* Rendering                                                          */
/* ------------------------------------------------------------------ */

/* {a="x",b="y"[,le="..."]}; nothing when there are no labels at all. */
static void
render_labels(buf_t *b, const gw_metric_t *m, const series_t *s,
              const char *le)
{
    size_t j;

    if (m->nlabels == 0 && le == NULL)
        return;
    buf_printf(b, "{");
    for (j = 0; j < m->nlabels; j++) {
        buf_printf(b, "%s%s=\"", j ? "," : "", m->labels[j]);
        buf_escaped(b, s->values[j], 1);
        buf_printf(b, "\"");
    }
    if (le != NULL)
        buf_printf(b, "%sle=\"%s\"", m->nlabels ? "," : "", le);
    buf_printf(b, "}");
}

static void
render_family(buf_t *b, gw_metric_t *m)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    size_t i, k;

    pthread_mutex_lock(&m->lock);
    buf_printf(b, "# HELP %s ", m->name);
    buf_escaped(b, m->help, 0);
    buf_printf(b, "\n# TYPE %s %s\n", m->name, types[m->type]);
    for (i = 0; i < m->nseries; i++) {
        const series_t *s = &m->series[i];
        uint64_t cum = 0;

        if (m->type != GW_METRIC_HISTOGRAM) {
            buf_printf(b, "%s", m->name);
            render_labels(b, m, s, NULL);
            buf_printf(b, " ");
            buf_number(b, s->value);
            buf_printf(b, "\n");
            continue;
        }
        for (k = 0; k < m->nbounds; k++) {
            char le[64];

            cum += s->buckets[k];
            shortest(le, sizeof(le), m->bounds[k]);
            buf_printf(b, "%s_bucket", m->name);
            render_labels(b, m, s, le);
            buf_printf(b, " %llu\n", (unsigned long long)cum);
        }
        buf_printf(b, "%s_bucket", m->name);
        render_labels(b, m, s, "+Inf");
        buf_printf(b, " %llu\n%s_sum", (unsigned long long)s->count,
                   m->name);
        render_labels(b, m, s, NULL);
        buf_printf(b, " ");
        buf_number(b, s->sum);
        buf_printf(b, "\n%s_count", m->name);
        render_labels(b, m, s, NULL);
        buf_printf(b, " %llu\n", (unsigned long long)s->count);
    }
    pthread_mutex_unlock(&m->lock);
}

int
gw_metrics_render(char **out, size_t *len)
{
    collector_t snap[MAX_COLLECTORS];
    size_t n, i;
    gw_metric_t *m;
    buf_t b = {NULL, 0, 0, 0};

    /* Collectors update gauges, which takes family locks: run them
     * without holding the registry lock. */
    pthread_mutex_lock(&reg_lock);
    n = ncollectors;
    memcpy(snap, collectors, n * sizeof(snap[0]));
    pthread_mutex_unlock(&reg_lock);
    for (i = 0; i < n; i++)
        snap[i].fn(snap[i].ud);

    buf_grow(&b, 0);
    pthread_mutex_lock(&reg_lock);
    for (m = families; m != NULL; m = m->next)
        render_family(&b, m);
    pthread_mutex_unlock(&reg_lock);
    if (b.oom || b.p == NULL) {
        hlf_free(b.p);
        return HLF_ENOMEM;
    }
    b.p[b.len] = '\0';
    *out = b.p;
    *len = b.len;
    return HLF_OK;
}
