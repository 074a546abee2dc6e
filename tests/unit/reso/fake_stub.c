/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stub double of fake_stub.h. Keys cross this API in the shim's form
 * (U+0000 written as C0 80) and are stored in wire form, so ordering and
 * prefix ranges behave as on a peer.
 */
#include "fake_stub.h"

#include "evl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *key; /* wire form */
    size_t key_len;
    char *val;
    size_t val_len;
};

struct fake_ledger_s {
    struct entry *e;
    size_t n;
    char fail_op[32];
    int fail_rc;
};

struct block {
    struct block *next;
    size_t pad; /* keeps the payload aligned for any type */
};

struct hlf_iter_s {
    hlf_stub_t *stub;
    size_t *idx; /* indexes into the ledger, captured at query time */
    size_t n, pos;
};

struct hlf_stub_s {
    fake_ledger_t *l;
    const uint8_t **argv;
    size_t *lens;
    size_t argc;
    const char *txid;
    int64_t secs;
    int32_t nanos;
    int has_ts;
    struct entry *w;
    size_t nw;
    char *event_name;
    char *event_payload;
    size_t event_len;
    struct block *arena;
    hlf_error_t last;
};

/* ---------------- helpers ---------------- */

static void
die(const char *what)
{
    fprintf(stderr, "fake_stub: %s\n", what);
    abort();
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        die("out of memory");
    return p;
}

static int
injected(hlf_stub_t *stub, const char *op)
{
    fake_ledger_t *l = stub->l;
    int rc;

    if (strcmp(l->fail_op, op) != 0)
        return 0;
    rc = l->fail_rc;
    l->fail_op[0] = '\0';
    hlf_error_set(&stub->last, rc, "injected");
    return rc;
}

/* Wire form of an API-form key (C0 80 -> 0x00). *len its length. */
static char *
to_wire(const char *key, size_t *len)
{
    size_t i, n = 0, k = strlen(key);
    char *w = xmalloc(k + 1);

    for (i = 0; i < k; i++) {
        if ((unsigned char)key[i] == 0xC0 &&
            (unsigned char)key[i + 1] == 0x80) {
            w[n++] = '\0';
            i++;
        } else {
            w[n++] = key[i];
        }
    }
    w[n] = '\0';
    *len = n;
    return w;
}

static int
keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Index of key in the ledger, or the insertion point with *found 0. */
static size_t
find(const fake_ledger_t *l, const char *key, size_t len, int *found)
{
    size_t lo = 0, hi = l->n, mid;
    int c;

    while (lo < hi) {
        mid = (lo + hi) / 2;
        c = keycmp(l->e[mid].key, l->e[mid].key_len, key, len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static void
commit(fake_ledger_t *l, struct entry *w)
{
    int found;
    size_t at = find(l, w->key, w->key_len, &found);

    if (found) {
        free(l->e[at].key);
        free(l->e[at].val);
        l->e[at] = *w;
        return;
    }
    l->e = realloc(l->e, (l->n + 1) * sizeof(*l->e));
    if (l->e == NULL)
        die("out of memory");
    memmove(l->e + at + 1, l->e + at, (l->n - at) * sizeof(*l->e));
    l->e[at] = *w;
    l->n++;
}

/* ---------------- ledger API ---------------- */

fake_ledger_t *
fake_ledger_new(void)
{
    fake_ledger_t *l = xmalloc(sizeof(*l));

    memset(l, 0, sizeof(*l));
    return l;
}

void
fake_ledger_free(fake_ledger_t *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->n; i++) {
        free(l->e[i].key);
        free(l->e[i].val);
    }
    free(l->e);
    free(l);
}

size_t
fake_ledger_count(const fake_ledger_t *l)
{
    return l->n;
}

const char *
fake_ledger_key(const fake_ledger_t *l, size_t i, size_t *len)
{
    *len = l->e[i].key_len;
    return l->e[i].key;
}

const char *
fake_ledger_value(const fake_ledger_t *l, size_t i, size_t *len)
{
    *len = l->e[i].val_len;
    return l->e[i].val;
}

void
fake_ledger_fail(fake_ledger_t *l, const char *op, int rc)
{
    snprintf(l->fail_op, sizeof(l->fail_op), "%s", op);
    l->fail_rc = rc;
}

static char *
dup_n(const void *p, size_t n)
{
    char *s = xmalloc(n + 1);

    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

void
fake_invoke(fake_ledger_t *l, const char *txid, int64_t secs, int32_t nanos,
            int has_ts, const char *const *args, const size_t *lens,
            size_t argc, hlf_response_t (*invoke)(hlf_stub_t *, void *),
            void *ud, fake_result_t *res)
{
    hlf_stub_t stub;
    hlf_response_t r;
    struct block *b;
    size_t i;

    memset(&stub, 0, sizeof(stub));
    memset(res, 0, sizeof(*res));
    stub.l = l;
    stub.txid = txid;
    stub.secs = secs;
    stub.nanos = nanos;
    stub.has_ts = has_ts;
    stub.argc = argc;
    stub.argv = xmalloc(argc * sizeof(*stub.argv));
    stub.lens = xmalloc(argc * sizeof(*stub.lens));
    for (i = 0; i < argc; i++) {
        stub.lens[i] = lens != NULL ? lens[i] : strlen(args[i]);
        /* A private copy with a NUL after it, as the shim promises. */
        stub.argv[i] = (const uint8_t *)dup_n(args[i], stub.lens[i]);
    }
    hlf_error_clear(&stub.last);
    r = invoke(&stub, ud);
    res->status = r.status;
    res->message = dup_n(r.message ? r.message : "",
                         r.message ? strlen(r.message) : 0);
    res->payload = dup_n(r.payload, r.payload_len);
    res->payload_len = r.payload_len;
    res->writes = stub.nw;
    if (stub.event_name != NULL) {
        res->event_name = stub.event_name;
        res->event_payload = stub.event_payload;
        res->event_len = stub.event_len;
    }
    for (i = 0; i < stub.nw; i++) {
        if (r.status == 200) {
            commit(l, &stub.w[i]);
        } else {
            free(stub.w[i].key);
            free(stub.w[i].val);
        }
    }
    free(stub.w);
    for (i = 0; i < argc; i++)
        free((void *)stub.argv[i]);
    free(stub.argv);
    free(stub.lens);
    while (stub.arena != NULL) {
        b = stub.arena;
        stub.arena = b->next;
        free(b);
    }
}

void
fake_result_dispose(fake_result_t *res)
{
    free(res->message);
    free(res->payload);
    free(res->event_name);
    free(res->event_payload);
    memset(res, 0, sizeof(*res));
}

/* ---------------- the shim API subset ---------------- */

hlf_response_t
hlf_success(const void *payload, size_t len)
{
    hlf_response_t r = {200, NULL, payload, len};

    return r;
}

hlf_response_t
hlf_error_response(int32_t status, const char *msg)
{
    hlf_response_t r = {status, msg, NULL, 0};

    return r;
}

void *
hlf_stub_alloc(hlf_stub_t *stub, size_t n)
{
    struct block *b = xmalloc(sizeof(*b) + n);

    b->next = stub->arena;
    stub->arena = b;
    return b + 1;
}

char *
hlf_stub_strdup(hlf_stub_t *stub, const char *s)
{
    return hlf_stub_memdup(stub, s, strlen(s) + 1);
}

void *
hlf_stub_memdup(hlf_stub_t *stub, const void *p, size_t n)
{
    void *d = hlf_stub_alloc(stub, n);

    if (n > 0)
        memcpy(d, p, n);
    return d;
}

const hlf_error_t *
hlf_stub_last_error(const hlf_stub_t *stub)
{
    return &stub->last;
}

int
hlf_stub_get_args(hlf_stub_t *stub, const uint8_t *const **argv,
                  const size_t **lens, size_t *argc)
{
    *argv = stub->argv;
    *lens = stub->lens;
    *argc = stub->argc;
    return HLF_OK;
}

const char *
hlf_stub_get_tx_id(hlf_stub_t *stub)
{
    return stub->txid;
}

int
hlf_stub_get_tx_timestamp(hlf_stub_t *stub, int64_t *seconds, int32_t *nanos)
{
    hlf_error_clear(&stub->last);
    if (!stub->has_ts)
        return hlf_error_set(&stub->last, HLF_EINVAL, "no proposal");
    *seconds = stub->secs;
    *nanos = stub->nanos;
    return HLF_OK;
}

int
hlf_stub_create_composite_key(hlf_stub_t *stub, const char *type,
                              const char *const *attrs, size_t n,
                              const char **key)
{
    size_t i, len, total;
    char *k, *p;
    const char *part;
    int rc = injected(stub, "composite_key");

    if (rc != 0)
        return rc;
    hlf_error_clear(&stub->last);
    total = 2 + strlen(type) + 2;
    for (i = 0; i < n; i++)
        total += strlen(attrs[i]) + 2;
    if (type[0] == '\0')
        return hlf_error_set(&stub->last, HLF_EINVAL, "empty type");
    k = hlf_stub_alloc(stub, total + 1);
    p = k;
    for (i = 0; i <= n; i++) {
        part = i == 0 ? type : attrs[i - 1];
        len = strlen(part);
        if (!evl_utf8_valid(part, len) ||
            strstr(part, "\xF4\x8F\xBF\xBF") != NULL ||
            strstr(part, "\xC0\x80") != NULL)
            return hlf_error_set(&stub->last, HLF_EINVAL, "bad part");
        memcpy(p, "\xC0\x80", 2);
        memcpy(p + 2, part, len);
        p += 2 + len;
    }
    memcpy(p, "\xC0\x80", 2);
    p[2] = '\0';
    *key = k;
    return HLF_OK;
}

int
hlf_stub_get_state(hlf_stub_t *stub, const char *key, const uint8_t **val,
                   size_t *len)
{
    size_t wlen, at;
    char *w;
    int found, rc = injected(stub, "get_state");

    if (rc != 0)
        return rc;
    hlf_error_clear(&stub->last);
    w = to_wire(key, &wlen);
    at = find(stub->l, w, wlen, &found);
    free(w);
    *val = found ? (const uint8_t *)stub->l->e[at].val : NULL;
    *len = found ? stub->l->e[at].val_len : 0;
    return HLF_OK;
}

int
hlf_stub_put_state(hlf_stub_t *stub, const char *key, const void *val,
                   size_t len)
{
    struct entry *e;
    int rc = injected(stub, "put_state");

    if (rc != 0)
        return rc;
    hlf_error_clear(&stub->last);
    if (key[0] == '\0')
        return hlf_error_set(&stub->last, HLF_EINVAL, "empty key");
    stub->w = realloc(stub->w, (stub->nw + 1) * sizeof(*stub->w));
    if (stub->w == NULL)
        die("out of memory");
    e = &stub->w[stub->nw++];
    e->key = to_wire(key, &e->key_len);
    e->val = dup_n(val, len);
    e->val_len = len;
    return HLF_OK;
}

int
hlf_stub_set_event(hlf_stub_t *stub, const char *name, const void *payload,
                   size_t len)
{
    int rc = injected(stub, "set_event");

    if (rc != 0)
        return rc;
    if (name == NULL || name[0] == '\0')
        return hlf_error_set(&stub->last, HLF_EINVAL, "empty event name");
    free(stub->event_name);
    free(stub->event_payload);
    stub->event_name = dup_n(name, strlen(name));
    stub->event_payload = dup_n(payload, len);
    stub->event_len = len;
    return HLF_OK;
}

int
hlf_stub_get_state_by_partial_composite_key(hlf_stub_t *stub,
                                            const char *type,
                                            const char *const *attrs,
                                            size_t n, hlf_iter_t **it)
{
    const char *prefix;
    size_t plen, i;
    char *w;
    hlf_iter_t *r;
    int rc = injected(stub, "range");

    if (rc != 0)
        return rc;
    rc = hlf_stub_create_composite_key(stub, type, attrs, n, &prefix);
    if (rc != HLF_OK)
        return rc;
    w = to_wire(prefix, &plen);
    r = xmalloc(sizeof(*r));
    r->stub = stub;
    r->idx = xmalloc((stub->l->n + 1) * sizeof(*r->idx));
    r->n = 0;
    r->pos = 0;
    for (i = 0; i < stub->l->n; i++)
        if (stub->l->e[i].key_len >= plen &&
            memcmp(stub->l->e[i].key, w, plen) == 0)
            r->idx[r->n++] = i;
    free(w);
    *it = r;
    return HLF_OK;
}

int
hlf_iter_next(hlf_iter_t *it, hlf_kv_t *kv)
{
    struct entry *e;
    int rc = injected(it->stub, "iter_next");

    if (rc != 0)
        return rc;
    if (it->pos >= it->n)
        return 0;
    e = &it->stub->l->e[it->idx[it->pos++]];
    kv->key = "(not exposed by the fake)";
    kv->value = (const uint8_t *)e->val;
    kv->value_len = e->val_len;
    return 1;
}

int
hlf_iter_close(hlf_iter_t *it)
{
    if (it == NULL)
        return HLF_OK;
    free(it->idx);
    free(it);
    return HLF_OK;
}
