/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Idempotency-Key store of POST /v1/events: which answer a key got,
 * and which transaction a key handed to the orderer before its answer was
 * known, kept in an append-only file in the state directory so that a
 * retry after a gateway restart (or crash) neither writes a second ledger
 * record nor loses the first answer. The file format, retention and
 * compaction are documented in ledger.h.
 *
 * Memory: a hash table of entries plus a list in creation order (oldest
 * first) for retention and the size bound. One mutex guards both and the
 * file descriptor; appends are written and fdatasync'ed under it, which
 * orders records of one key as the calls that produced them.
 */
#include "ledger.h"

#include "hlf/crypto.h"
#include "hlf/log.h"
#include "hlf/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { ST_PENDING = 0, ST_SUBMITTED = 1, ST_ANSWERED = 2 };

typedef struct ent_s {
    char *client;
    char *key;
    uint8_t hash[32];
    int64_t created_s;
    int64_t submitted_s;
    int state;
    int busy;            /* a request owns it now */
    int persisted;       /* some record of it is in the file */
    char txid[65];
    int status;
    char *body;          /* compact JSON */
    char *location;
    struct ent_s *hnext; /* hash chain */
    struct ent_s *prev, *next; /* creation order */
} ent_t;

struct gw_idem_s {
    pthread_mutex_t lock;
    char *path;
    int fd;
    int64_t retention_s;
    size_t max_entries;
    int64_t (*now_s)(void);
    ent_t **buckets;
    size_t nbuckets;
    size_t count;
    ent_t *head, *tail;
    size_t records; /* lines in the file since the last compaction */
};

static int64_t
wall_now(void)
{
    return (int64_t)time(NULL);
}

/* FNV-1a over client, a separator and key. */
static size_t
ent_hash(const char *client, const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *p;

    for (p = (const unsigned char *)client; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

static ent_t *
find(gw_idem_t *st, const char *client, const char *key)
{
    ent_t *e = st->buckets[ent_hash(client, key) & (st->nbuckets - 1)];

    for (; e != NULL; e = e->hnext)
        if (strcmp(e->client, client) == 0 && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void
ent_free(ent_t *e)
{
    if (e == NULL)
        return;
    hlf_free(e->client);
    hlf_free(e->key);
    hlf_free(e->body);
    hlf_free(e->location);
    hlf_free(e);
}

/* Unlink e from the table and the order list and free it. */
static void
remove_ent(gw_idem_t *st, ent_t *e)
{
    ent_t **pp = &st->buckets[ent_hash(e->client, e->key) &
                              (st->nbuckets - 1)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        st->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        st->tail = e->prev;
    st->count--;
    ent_free(e);
}

/* Double the table when it is fuller than one entry per bucket. */
static void
maybe_grow(gw_idem_t *st)
{
    ent_t **nb;
    size_t n = st->nbuckets * 2, i;

    if (st->count < st->nbuckets)
        return;
    nb = hlf_calloc(n, sizeof(*nb));
    if (nb == NULL)
        return; /* longer chains, still correct */
    for (i = 0; i < st->nbuckets; i++) {
        ent_t *e = st->buckets[i], *next;

        for (; e != NULL; e = next) {
            size_t b = ent_hash(e->client, e->key) & (n - 1);

            next = e->hnext;
            e->hnext = nb[b];
            nb[b] = e;
        }
    }
    hlf_free(st->buckets);
    st->buckets = nb;
    st->nbuckets = n;
}

/* A new entry at the end of the order list, or NULL (ENOMEM). */
static ent_t *
insert(gw_idem_t *st, const char *client, const char *key)
{
    ent_t *e = hlf_calloc(1, sizeof(*e));
    size_t b;

    if (e == NULL)
        return NULL;
    e->client = hlf_strdup(client);
    e->key = hlf_strdup(key);
    if (e->client == NULL || e->key == NULL) {
        ent_free(e);
        return NULL;
    }
    maybe_grow(st);
    b = ent_hash(client, key) & (st->nbuckets - 1);
    e->hnext = st->buckets[b];
    st->buckets[b] = e;
    e->prev = st->tail;
    if (st->tail != NULL)
        st->tail->next = e;
    else
        st->head = e;
    st->tail = e;
    st->count++;
    return e;
}

/* Drop expired entries and, beyond max_entries, the oldest ones; entries
 * a request owns stay. */
static void
trim(gw_idem_t *st)
{
    int64_t cutoff = st->now_s() - st->retention_s;
    ent_t *e = st->head, *next;

    for (; e != NULL; e = next) {
        next = e->next;
        if (e->busy)
            continue;
        if (e->created_s < cutoff || st->count > st->max_entries)
            remove_ent(st, e);
        else
            break;
    }
}

/* ------------------------------------------------------------------ */
/* Records                                                            */
/* ------------------------------------------------------------------ */

static json_t *
record_json(const ent_t *e, char op)
{
    char hex[65];
    json_t *r, *body;

    if (op == 'R')
        return json_pack("{s:s, s:s, s:s}", "op", "R", "client", e->client,
                         "key", e->key);
    hlf_hex_encode(e->hash, sizeof(e->hash), hex);
    if (op == 'S')
        return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "op", "S",
                         "client", e->client, "key", e->key, "hash", hex,
                         "created", (json_int_t)e->created_s, "submitted",
                         (json_int_t)e->submitted_s, "txid", e->txid);
    body = json_loads(e->body, 0, NULL);
    if (body == NULL)
        return NULL;
    r = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:o}", "op", "A",
                  "client", e->client, "key", e->key, "hash", hex,
                  "created", (json_int_t)e->created_s, "status", e->status,
                  "body", body);
    if (r != NULL && e->location != NULL &&
        json_object_set_new(r, "location", json_string(e->location)) != 0) {
        json_decref(r);
        r = NULL;
    }
    return r;
}

static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* One record as a line into fd; no sync. */
static int
put_record(int fd, const ent_t *e, char op)
{
    json_t *r = record_json(e, op);
    char *s;
    int rc;

    if (r == NULL)
        return HLF_ENOMEM;
    s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(r);
    if (s == NULL)
        return HLF_ENOMEM;
    rc = write_all(fd, s, strlen(s)) == 0 && write_all(fd, "\n", 1) == 0
             ? HLF_OK
             : HLF_EIO;
    free(s);
    return rc;
}

/* Rewrite the file with one record per live entry (replaced atomically
 * through gw_write_file_atomic) and reopen it for appending. */
static int
compact(gw_idem_t *st, hlf_error_t *err)
{
    char *buf = NULL;
    size_t len = 0, cap = 0, records = 0;
    const ent_t *e;
    int rc;

    for (e = st->head; e != NULL; e = e->next) {
        json_t *r;
        char *line, *grown;
        size_t n;

        if (e->state == ST_PENDING)
            continue;
        r = record_json(e, e->state == ST_SUBMITTED ? 'S' : 'A');
        line = r != NULL ? json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER)
                         : NULL;
        json_decref(r);
        if (line == NULL) {
            rc = hlf_error_set(err, HLF_ENOMEM, "%s: out of memory",
                               st->path);
            goto fail;
        }
        n = strlen(line);
        if (len + n + 1 > cap) {
            size_t want = (cap == 0 ? 4096 : cap * 2) + n + 1;

            grown = hlf_realloc(buf, want);
            if (grown == NULL) {
                free(line);
                rc = hlf_error_set(err, HLF_ENOMEM, "%s: out of memory",
                                   st->path);
                goto fail;
            }
            buf = grown;
            cap = want;
        }
        memcpy(buf + len, line, n);
        buf[len + n] = '\n';
        len += n + 1;
        records++;
        free(line);
    }
    rc = gw_write_file_atomic(st->path, buf, len, 0600, err);
    if (rc != HLF_OK)
        goto fail;
    st->records = records;
    if (st->fd >= 0)
        close(st->fd);
    st->fd = open(st->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (st->fd < 0) {
        rc = hlf_error_set(err, HLF_EIO, "%s: %s", st->path,
                           strerror(errno));
        goto fail;
    }
    rc = HLF_OK;
fail:
    hlf_free(buf);
    return rc;
}

/* Append one record of e durably; compacts when the file is mostly
 * superseded records. */
static int
append(gw_idem_t *st, const ent_t *e, char op, hlf_error_t *err)
{
    int rc;

    if (st->fd < 0)
        return hlf_error_set(err, HLF_EIO, "%s is not open", st->path);
    rc = put_record(st->fd, e, op);
    if (rc == HLF_OK && fdatasync(st->fd) != 0)
        rc = HLF_EIO;
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "%s: cannot append: %s", st->path,
                             rc == HLF_EIO ? strerror(errno)
                                           : "out of memory");
    st->records++;
    if (st->records >= 1024 && st->records > 2 * st->count) {
        hlf_error_t cerr;

        if (compact(st, &cerr) != HLF_OK)
            hlf_log(HLF_LOG_WARN, "idem", "compaction failed: %s",
                    cerr.text);
    }
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Loading                                                            */
/* ------------------------------------------------------------------ */

static int
hex_decode32(const char *hex, uint8_t out[32])
{
    size_t i;

    if (hex == NULL || strlen(hex) != 64)
        return -1;
    for (i = 0; i < 64; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;

        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

/* Apply one parsed record; -1 if it is not a valid record. */
static int
apply_record(gw_idem_t *st, json_t *r)
{
    const char *op = json_string_value(json_object_get(r, "op"));
    const char *client = json_string_value(json_object_get(r, "client"));
    const char *key = json_string_value(json_object_get(r, "key"));
    json_t *created = json_object_get(r, "created");
    uint8_t hash[32];
    ent_t *e;

    if (op == NULL || client == NULL || key == NULL)
        return -1;
    e = find(st, client, key);
    if (strcmp(op, "R") == 0) {
        if (e != NULL)
            remove_ent(st, e);
        return 0;
    }
    if (hex_decode32(json_string_value(json_object_get(r, "hash")), hash) !=
            0 ||
        !json_is_integer(created))
        return -1;
    if (strcmp(op, "S") == 0) {
        const char *txid = json_string_value(json_object_get(r, "txid"));
        json_t *sub = json_object_get(r, "submitted");

        if (txid == NULL || strlen(txid) != 64 || !json_is_integer(sub))
            return -1;
        if (e == NULL && (e = insert(st, client, key)) == NULL)
            return -1;
        e->state = ST_SUBMITTED;
        memcpy(e->txid, txid, 65);
        e->submitted_s = json_integer_value(sub);
    } else if (strcmp(op, "A") == 0) {
        json_t *status = json_object_get(r, "status");
        json_t *body = json_object_get(r, "body");
        json_t *loc = json_object_get(r, "location");
        char *s;

        if (!json_is_integer(status) || body == NULL ||
            (loc != NULL && !json_is_string(loc)))
            return -1;
        s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                 JSON_ENCODE_ANY);
        if (s == NULL)
            return -1;
        if (e == NULL && (e = insert(st, client, key)) == NULL) {
            free(s);
            return -1;
        }
        hlf_free(e->body);
        e->body = hlf_strdup(s);
        free(s);
        hlf_free(e->location);
        e->location = loc != NULL ? hlf_strdup(json_string_value(loc))
                                  : NULL;
        if (e->body == NULL) {
            remove_ent(st, e);
            return -1;
        }
        e->state = ST_ANSWERED;
        e->status = (int)json_integer_value(status);
    } else {
        return -1;
    }
    memcpy(e->hash, hash, 32);
    e->created_s = json_integer_value(created);
    e->persisted = 1;
    return 0;
}

static int
load(gw_idem_t *st, hlf_error_t *err)
{
    FILE *fp = fopen(st->path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0, bad = 0;
    ssize_t n;

    if (fp == NULL) {
        if (errno == ENOENT)
            return HLF_OK;
        return hlf_error_set(err, HLF_EIO, "%s: %s", st->path,
                             strerror(errno));
    }
    while ((n = getline(&line, &cap, fp)) >= 0) {
        json_t *r;

        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0)
            continue;
        r = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
        if (r == NULL || !json_is_object(r) || apply_record(st, r) != 0) {
            /* A torn last line after a crash is expected; either way
             * the record is unusable and skipping it loses only that
             * record, never an earlier answer. */
            hlf_log(HLF_LOG_WARN, "idem", "%s:%zu: ignoring a corrupt "
                    "record", st->path, lineno);
            bad++;
        }
        json_decref(r);
    }
    free(line);
    fclose(fp);
    if (bad > 0)
        hlf_log(HLF_LOG_WARN, "idem", "%s: %zu corrupt record(s) ignored",
                st->path, bad);
    return HLF_OK;
}

/* ------------------------------------------------------------------ */
/* Public                                                             */
/* ------------------------------------------------------------------ */

int
gw_idem_open(const char *path, const gw_idem_opts_t *opts, gw_idem_t **out,
             hlf_error_t *err)
{
    gw_idem_t *st;
    int rc;

    *out = NULL;
    st = hlf_calloc(1, sizeof(*st));
    if (st == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    st->fd = -1;
    st->nbuckets = 1024;
    st->buckets = hlf_calloc(st->nbuckets, sizeof(*st->buckets));
    st->path = hlf_strdup(path);
    if (st->buckets == NULL || st->path == NULL ||
        pthread_mutex_init(&st->lock, NULL) != 0) {
        hlf_free(st->buckets);
        hlf_free(st->path);
        hlf_free(st);
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    }
    st->retention_s = opts != NULL && opts->retention_s > 0
                          ? opts->retention_s
                          : GW_IDEM_RETENTION_S;
    st->max_entries = opts != NULL && opts->max_entries > 0
                          ? opts->max_entries
                          : GW_IDEM_MAX_ENTRIES;
    st->now_s = opts != NULL && opts->now_s != NULL ? opts->now_s
                                                    : wall_now;
    rc = load(st, err);
    if (rc == HLF_OK) {
        trim(st);
        rc = compact(st, err);
    }
    if (rc != HLF_OK) {
        gw_idem_close(st);
        return rc;
    }
    hlf_log(HLF_LOG_INFO, "idem", "%s: %zu idempotency key(s) loaded",
            st->path, st->count);
    *out = st;
    return HLF_OK;
}

void
gw_idem_close(gw_idem_t *st)
{
    if (st == NULL)
        return;
    while (st->head != NULL)
        remove_ent(st, st->head);
    if (st->fd >= 0)
        close(st->fd);
    pthread_mutex_destroy(&st->lock);
    hlf_free(st->buckets);
    hlf_free(st->path);
    hlf_free(st);
}

int
gw_idem_begin(gw_idem_t *st, const char *client, const char *key,
              const uint8_t hash[32], gw_idem_lookup_t *out,
              hlf_error_t *err)
{
    ent_t *e;
    int rc = HLF_OK;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&st->lock);
    trim(st);
    e = find(st, client, key);
    if (e == NULL) {
        e = insert(st, client, key);
        if (e == NULL) {
            rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(e->hash, hash, 32);
        e->created_s = st->now_s();
        e->busy = 1;
        out->state = GW_IDEM_NEW;
        trim(st);
    } else if (memcmp(e->hash, hash, 32) != 0) {
        out->state = GW_IDEM_CONFLICT;
    } else if (e->busy) {
        out->state = GW_IDEM_BUSY;
    } else if (e->state == ST_ANSWERED) {
        out->state = GW_IDEM_REPLAY;
        out->status = e->status;
        out->body = hlf_strdup(e->body);
        out->location = e->location ? hlf_strdup(e->location) : NULL;
        if (out->body == NULL || (e->location && out->location == NULL)) {
            gw_idem_lookup_dispose(out);
            rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        }
    } else {
        /* SUBMITTED (PENDING entries are always busy). */
        out->state = GW_IDEM_SUBMITTED;
        memcpy(out->txid, e->txid, 65);
        out->submitted_s = e->submitted_s;
        e->busy = 1;
    }
out:
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int
gw_idem_submitted(gw_idem_t *st, const char *client, const char *key,
                  const char *txid, hlf_error_t *err)
{
    ent_t *e;
    int rc;

    if (txid == NULL || strlen(txid) != 64)
        return hlf_error_set(err, HLF_EINVAL, "bad txid");
    pthread_mutex_lock(&st->lock);
    e = find(st, client, key);
    if (e == NULL || !e->busy) {
        rc = hlf_error_set(err, HLF_EINVAL, "key is not owned");
        goto out;
    }
    memcpy(e->txid, txid, 65);
    e->submitted_s = st->now_s();
    e->state = ST_SUBMITTED;
    rc = append(st, e, 'S', err);
    if (rc == HLF_OK)
        e->persisted = 1;
out:
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int
gw_idem_answer(gw_idem_t *st, const char *client, const char *key,
               int status, const json_t *body, const char *location,
               hlf_error_t *err)
{
    char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                   JSON_ENCODE_ANY);
    ent_t *e;
    int rc;

    pthread_mutex_lock(&st->lock);
    e = find(st, client, key);
    if (e == NULL || !e->busy) {
        rc = hlf_error_set(err, HLF_EINVAL, "key is not owned");
        goto out;
    }
    e->busy = 0;
    hlf_free(e->body);
    hlf_free(e->location);
    e->body = s != NULL ? hlf_strdup(s) : NULL;
    e->location = location != NULL ? hlf_strdup(location) : NULL;
    if (e->body == NULL || (location != NULL && e->location == NULL)) {
        /* Not kept: a retry is treated as a new request (or looks up its
         * transaction if one was submitted). */
        hlf_free(e->location);
        e->location = NULL;
        if (e->state == ST_PENDING)
            remove_ent(st, e);
        rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        goto out;
    }
    e->state = ST_ANSWERED;
    e->status = status;
    rc = append(st, e, 'A', err);
    if (rc == HLF_OK)
        e->persisted = 1;
out:
    pthread_mutex_unlock(&st->lock);
    free(s);
    return rc;
}

int
gw_idem_release(gw_idem_t *st, const char *client, const char *key,
                hlf_error_t *err)
{
    ent_t *e;
    int rc = HLF_OK;

    pthread_mutex_lock(&st->lock);
    e = find(st, client, key);
    if (e != NULL && e->busy) {
        if (e->persisted)
            rc = append(st, e, 'R', err);
        remove_ent(st, e);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void
gw_idem_unlock(gw_idem_t *st, const char *client, const char *key)
{
    ent_t *e;

    pthread_mutex_lock(&st->lock);
    e = find(st, client, key);
    if (e != NULL && e->busy) {
        e->busy = 0;
        if (e->state == ST_PENDING)
            remove_ent(st, e);
    }
    pthread_mutex_unlock(&st->lock);
}

size_t
gw_idem_count(gw_idem_t *st)
{
    size_t n;

    pthread_mutex_lock(&st->lock);
    n = st->count;
    pthread_mutex_unlock(&st->lock);
    return n;
}

void
gw_idem_lookup_dispose(gw_idem_lookup_t *l)
{
    if (l == NULL)
        return;
    hlf_free(l->body);
    hlf_free(l->location);
    l->body = NULL;
    l->location = NULL;
}

int
gw_idem_hash(const json_t *body, uint8_t out[32])
{
    char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS |
                                   JSON_ENCODE_ANY);

    if (s == NULL)
        return HLF_ENOMEM;
    hlf_sha256(s, strlen(s), out);
    free(s);
    return HLF_OK;
}

int
gw_idem_key_valid(const char *key)
{
    size_t n = 0;

    if (key == NULL)
        return 0;
    for (; key[n] != '\0'; n++)
        if ((unsigned char)key[n] < 0x21 || (unsigned char)key[n] > 0x7e)
            return 0;
    return n >= 1 && n <= GW_IDEM_KEY_MAX;
}
