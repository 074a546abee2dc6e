/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's CouchDB client (couch.h): libcurl easy handles kept in a
 * small free list so concurrent callers (the indexer thread and report
 * jobs on the worker pool) each get their own handle while idle
 * connections are reused, jansson for bodies, and one mapping of HTTP
 * and curl failures to HLF_E* codes so every caller reports CouchDB
 * problems the same way.
 */
#include "couch.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Idle curl handles kept for reuse; more callers than this get fresh
 * handles that are closed after their call. */
#define COUCH_IDLE_MAX 8
/* Longest password file we accept: a password, not a key file. */
#define COUCH_PASSWORD_MAX 1024
/* How often gw_couch_local_put re-reads a revision after a conflict. */
#define COUCH_LOCAL_TRIES 3

struct gw_couch_s {
    char *base;      /* URL without a trailing '/' */
    char *db;        /* name as given */
    char *db_path;   /* "/" + name with '/' encoded as %2F */
    char *user;      /* NULL: no auth */
    char *password;  /* wiped on free */
    char *ca_file;
    long timeout_ms;
    long connect_timeout_ms;

    pthread_mutex_t lock; /* guards idle[], nidle, local_* */
    CURL *idle[COUCH_IDLE_MAX];
    size_t nidle;
    /* The last known revision of one _local document (the checkpoint),
     * so a steady writer needs one request per update, not two. */
    char local_id[129];
    char local_rev[64];

    _Atomic uint64_t requests, failures, http_ns, encode_ns, decode_ns,
        bytes_out, bytes_in;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void
curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0
                                                                      : -1;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Overwrite a secret so it does not linger in freed memory. */
static void
wipe(char *s)
{
    volatile char *p = s;

    if (s == NULL)
        return;
    while (*p != '\0')
        *p++ = '\0';
}

static char *
dup_or_null(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

/* CouchDB's database name rule: ^[a-z][a-z0-9_$()+/-]*$, <= 238. */
static int
db_name_ok(const char *db)
{
    size_t i, n = strlen(db);

    if (n == 0 || n > 238 || db[0] < 'a' || db[0] > 'z')
        return 0;
    for (i = 1; i < n; i++) {
        char ch = db[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
            continue;
        if (strchr("_$()+/-", ch) == NULL)
            return 0;
    }
    return 1;
}

/* Our own _local ids are plain tokens, so they never need encoding. */
static int
local_id_ok(const char *id)
{
    size_t i, n = id == NULL ? 0 : strlen(id);

    if (n == 0 || n > 128)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = id[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

/* Read the password file: the first line, without its line ending. */
static int
read_password(const char *path, char **out, hlf_error_t *err)
{
    char buf[COUCH_PASSWORD_MAX + 2];
    size_t n;
    FILE *fp = fopen(path, "r");

    if (fp == NULL)
        return hlf_error_set(err, HLF_EIO, "couch_password_file %s: %s",
                             path, strerror(errno));
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    if (n > COUCH_PASSWORD_MAX) {
        wipe(buf);
        return hlf_error_set(err, HLF_ETOOBIG,
                             "couch_password_file %s: longer than %d bytes",
                             path, COUCH_PASSWORD_MAX);
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    *out = strdup(buf);
    wipe(buf);
    return *out == NULL ? hlf_error_set(err, HLF_ENOMEM, "out of memory")
                        : HLF_OK;
}

int
gw_couch_new(const gw_couch_opts_t *o, gw_couch_t **out, hlf_error_t *err)
{
    gw_couch_t *c = NULL;
    size_t n, i, j;
    int rc;

    if (o == NULL || out == NULL || o->url == NULL || o->db == NULL)
        return hlf_error_set(err, HLF_EINVAL, "couch: missing url or db");
    *out = NULL;
    if (strncmp(o->url, "http://", 7) != 0 &&
        strncmp(o->url, "https://", 8) != 0)
        return hlf_error_set(err, HLF_EINVAL,
                             "couch_url must start with http:// or "
                             "https://");
    if (strchr(o->url + 7, '@') != NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "couch_url must not carry credentials: use "
                             "couch_user and couch_password_file");
    if (!db_name_ok(o->db))
        return hlf_error_set(err, HLF_EINVAL,
                             "couch_db \"%s\" is not a CouchDB database "
                             "name (^[a-z][a-z0-9_$()+/-]*$)", o->db);
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != 0)
        return hlf_error_set(err, HLF_EIO, "curl_global_init failed");

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    rc = HLF_ENOMEM;
    c->base = strdup(o->url);
    c->db = strdup(o->db);
    c->user = dup_or_null(o->user);
    c->ca_file = dup_or_null(o->ca_file);
    n = strlen(o->db);
    c->db_path = malloc(1 + 3 * n + 1);
    if (c->base == NULL || c->db == NULL || c->db_path == NULL ||
        (o->user != NULL && c->user == NULL) ||
        (o->ca_file != NULL && c->ca_file == NULL))
        goto fail;
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    c->db_path[0] = '/';
    for (i = 0, j = 1; o->db[i] != '\0'; i++) {
        if (o->db[i] == '/') {
            memcpy(c->db_path + j, "%2F", 3);
            j += 3;
        } else {
            c->db_path[j++] = o->db[i];
        }
    }
    c->db_path[j] = '\0';
    if (o->user != NULL) {
        if (o->password_file != NULL) {
            rc = read_password(o->password_file, &c->password, err);
            if (rc != HLF_OK)
                goto fail;
        } else if ((c->password = strdup("")) == NULL) {
            goto fail;
        }
    }
    c->timeout_ms = (long)(o->timeout_ms > 0 ? o->timeout_ms
                                             : GW_COUCH_TIMEOUT_MS);
    c->connect_timeout_ms =
        (long)(o->connect_timeout_ms > 0 ? o->connect_timeout_ms
                                         : GW_COUCH_CONNECT_TIMEOUT_MS);
    *out = c;
    return HLF_OK;

fail:
    if (rc == HLF_ENOMEM)
        hlf_error_set(err, HLF_ENOMEM, "out of memory");
    gw_couch_free(c);
    return rc;
}

int
gw_couch_from_config(const gw_config_t *cfg, gw_couch_t **out,
                     hlf_error_t *err)
{
    gw_couch_opts_t o;

    if (cfg == NULL || cfg->couch_url == NULL || cfg->couch_url[0] == '\0')
        return hlf_error_set(err, HLF_ENOTFOUND,
                             "couch_url is not set: the index is disabled");
    memset(&o, 0, sizeof(o));
    o.url = cfg->couch_url;
    o.db = cfg->couch_db != NULL ? cfg->couch_db : GW_DEFAULT_COUCH_DB;
    o.user = cfg->couch_user;
    o.password_file = cfg->couch_password_file;
    o.ca_file = cfg->couch_ca;
    return gw_couch_new(&o, out, err);
}

void
gw_couch_free(gw_couch_t *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    pthread_mutex_destroy(&c->lock);
    wipe(c->password);
    free(c->password);
    free(c->base);
    free(c->db);
    free(c->db_path);
    free(c->user);
    free(c->ca_file);
    free(c);
}

const char *
gw_couch_db(const gw_couch_t *c)
{
    return c->db;
}

const char *
gw_couch_url(const gw_couch_t *c)
{
    return c->base;
}

static CURL *
handle_get(gw_couch_t *c)
{
    CURL *h = NULL;

    pthread_mutex_lock(&c->lock);
    if (c->nidle > 0)
        h = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->lock);
    if (h != NULL)
        curl_easy_reset(h);
    else
        h = curl_easy_init();
    return h;
}

static void
handle_put(gw_couch_t *c, CURL *h)
{
    pthread_mutex_lock(&c->lock);
    if (c->nidle < COUCH_IDLE_MAX) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* The answer body, bounded by GW_COUCH_MAX_RESPONSE. */
typedef struct {
    char *data;
    size_t len, cap;
    int too_big;
} body_t;

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    body_t *b = ud;
    size_t n = size * nmemb;

    if (b->len + n + 1 > GW_COUCH_MAX_RESPONSE) {
        b->too_big = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->data, cap);
        if (p == NULL)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static int
map_curl_error(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return HLF_ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return HLF_ENOMEM;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
        return HLF_ECRYPTO;
    case CURLE_WRITE_ERROR:
        return HLF_ETOOBIG;
    default:
        return HLF_EUNAVAIL;
    }
}

static int
map_status(long st)
{
    if (st >= 500)
        return HLF_EUNAVAIL;
    switch (st) {
    case 400:
        return HLF_EINVAL;
    case 401:
    case 403:
        return HLF_EPERM;
    case 404:
        return HLF_ENOTFOUND;
    case 409:
    case 412:
        return HLF_EEXIST;
    case 413:
        return HLF_ETOOBIG;
    default:
        return HLF_EPROTO;
    }
}

/* Copy CouchDB's {"error","reason"} of an error answer into res. */
static void
error_fields(const json_t *j, gw_couch_result_t *res)
{
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *r = json_string_value(json_object_get(j, "reason"));

    snprintf(res->error, sizeof(res->error), "%s", e != NULL ? e : "");
    snprintf(res->reason, sizeof(res->reason), "%s", r != NULL ? r : "");
}

int
gw_couch_request(gw_couch_t *c, const char *method, const char *path,
                 const json_t *body, json_t **resp, gw_couch_result_t *res,
                 hlf_error_t *err)
{
    gw_couch_result_t local;
    struct curl_slist *hdrs = NULL, *h2;
    body_t in = {NULL, 0, 0, 0};
    char *out = NULL, *url = NULL, ebuf[CURL_ERROR_SIZE];
    size_t out_len = 0, ulen;
    json_t *j = NULL;
    json_error_t jerr;
    CURL *h = NULL;
    CURLcode cc;
    uint64_t t0;
    int rc;

    if (res == NULL)
        res = &local;
    memset(res, 0, sizeof(*res));
    if (resp != NULL)
        *resp = NULL;
    if (c == NULL || method == NULL || path == NULL || path[0] != '/')
        return hlf_error_set(err, HLF_EINVAL, "couch: bad request");
    atomic_fetch_add(&c->requests, 1);

    if (body != NULL) {
        t0 = now_ns();
        out = json_dumps(body, JSON_COMPACT);
        atomic_fetch_add(&c->encode_ns, now_ns() - t0);
        if (out == NULL) {
            rc = hlf_error_set(err, HLF_EINVAL,
                               "CouchDB %s %s: body is not serializable",
                               method, path);
            goto fail;
        }
        out_len = strlen(out);
        atomic_fetch_add(&c->bytes_out, out_len);
    }
    ulen = strlen(c->base) + strlen(path) + 1;
    url = malloc(ulen);
    h = handle_get(c);
    h2 = curl_slist_append(NULL, "Accept: application/json");
    if (h2 != NULL)
        hdrs = h2;
    if (h2 != NULL && body != NULL) {
        h2 = curl_slist_append(hdrs, "Content-Type: application/json");
        if (h2 != NULL)
            h2 = curl_slist_append(h2, "Expect:");
    }
    if (url == NULL || h == NULL || h2 == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(url, ulen, "%s%s", c->base, path);

    ebuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &in);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, out != NULL ? out : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)out_len);
    }
    if (c->user != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
    }
    if (c->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);

    t0 = now_ns();
    cc = curl_easy_perform(h);
    atomic_fetch_add(&c->http_ns, now_ns() - t0);
    atomic_fetch_add(&c->bytes_in, in.len);
    if (cc != CURLE_OK) {
        rc = in.too_big ? HLF_ETOOBIG : map_curl_error(cc);
        rc = hlf_error_set(err, rc, "CouchDB %s %s: %s", method, path,
                           in.too_big ? "answer too large"
                           : ebuf[0] != '\0' ? ebuf
                                             : curl_easy_strerror(cc));
        goto fail;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);

    t0 = now_ns();
    j = in.len > 0 ? json_loadb(in.data, in.len, 0, &jerr) : NULL;
    atomic_fetch_add(&c->decode_ns, now_ns() - t0);
    if (res->http_status < 200 || res->http_status > 299) {
        if (j != NULL)
            error_fields(j, res);
        rc = hlf_error_set(err, map_status(res->http_status),
                           "CouchDB %s %s: HTTP %ld %s: %s", method, path,
                           res->http_status,
                           res->error[0] != '\0' ? res->error : "error",
                           res->reason[0] != '\0' ? res->reason
                                                  : "(no reason given)");
        goto fail;
    }
    if (j == NULL) {
        rc = hlf_error_set(err, HLF_EPROTO,
                           "CouchDB %s %s: HTTP %ld with a body that is not "
                           "JSON", method, path, res->http_status);
        goto fail;
    }
    if (resp != NULL) {
        *resp = j;
        j = NULL;
    }
    rc = HLF_OK;

fail:
    if (rc != HLF_OK)
        atomic_fetch_add(&c->failures, 1);
    json_decref(j);
    if (h != NULL) {
        /* The header list and buffers die here: detach them first. */
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        handle_put(c, h);
    }
    curl_slist_free_all(hdrs);
    free(in.data);
    free(out);
    free(url);
    return rc;
}

int
gw_couch_ping(gw_couch_t *c, gw_couch_result_t *res, hlf_error_t *err)
{
    return gw_couch_request(c, "GET", "/", NULL, NULL, res, err);
}

int
gw_couch_db_create(gw_couch_t *c, int *created, gw_couch_result_t *res,
                   hlf_error_t *err)
{
    gw_couch_result_t local;
    int rc;

    if (res == NULL)
        res = &local;
    rc = gw_couch_request(c, "PUT", c->db_path, NULL, NULL, res, err);
    if (created != NULL)
        *created = rc == HLF_OK;
    if (rc == HLF_EEXIST && res->http_status == 412) {
        hlf_error_clear(err);
        return HLF_OK;
    }
    return rc;
}

int
gw_couch_db_delete(gw_couch_t *c, gw_couch_result_t *res, hlf_error_t *err)
{
    return gw_couch_request(c, "DELETE", c->db_path, NULL, NULL, res, err);
}

int
gw_couch_db_info(gw_couch_t *c, json_t **info, gw_couch_result_t *res,
                 hlf_error_t *err)
{
    return gw_couch_request(c, "GET", c->db_path, NULL, info, res, err);
}

/* "/{db}" + suffix into a new string, or NULL. */
static char *
db_sub(const gw_couch_t *c, const char *suffix)
{
    size_t n = strlen(c->db_path) + strlen(suffix) + 1;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s%s", c->db_path, suffix);
    return p;
}

int
gw_couch_bulk_docs(gw_couch_t *c, const json_t *docs, gw_couch_bulk_t *out,
                   json_t **results, gw_couch_result_t *res,
                   hlf_error_t *err)
{
    json_t *body = NULL, *ans = NULL, *r;
    char *path = NULL;
    size_t i;
    int rc;

    if (results != NULL)
        *results = NULL;
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (c == NULL || !json_is_array(docs))
        return hlf_error_set(err, HLF_EINVAL, "couch: docs not an array");
    body = json_object();
    path = db_sub(c, "/_bulk_docs");
    if (body == NULL || path == NULL ||
        json_object_set(body, "docs", (json_t *)docs) != 0) {
        rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        goto fail;
    }
    rc = gw_couch_request(c, "POST", path, body, &ans, res, err);
    if (rc != HLF_OK)
        goto fail;
    if (!json_is_array(ans) || json_array_size(ans) != json_array_size(docs)) {
        rc = hlf_error_set(err, HLF_EPROTO,
                           "CouchDB POST %s: %zu results for %zu documents",
                           path, json_is_array(ans) ? json_array_size(ans)
                                                    : (size_t)0,
                           json_array_size(docs));
        goto fail;
    }
    json_array_foreach(ans, i, r) {
        const char *e = json_string_value(json_object_get(r, "error"));
        if (out == NULL)
            break;
        if (e == NULL) {
            out->ok++;
        } else if (strcmp(e, "conflict") == 0) {
            out->conflicts++;
        } else {
            const char *id = json_string_value(json_object_get(r, "id"));
            const char *why =
                json_string_value(json_object_get(r, "reason"));
            if (out->failed++ == 0)
                snprintf(out->first_error, sizeof(out->first_error),
                         "%s: %s: %s", id != NULL ? id : "?", e,
                         why != NULL ? why : "");
        }
    }
    if (results != NULL) {
        *results = ans;
        ans = NULL;
    }

fail:
    json_decref(ans);
    json_decref(body);
    free(path);
    return rc;
}

int
gw_couch_local_get(gw_couch_t *c, const char *id, json_t **doc,
                   gw_couch_result_t *res, hlf_error_t *err)
{
    char suffix[160], *path;
    json_t *j = NULL;
    const char *rev;
    int rc;

    if (doc != NULL)
        *doc = NULL;
    if (c == NULL || !local_id_ok(id))
        return hlf_error_set(err, HLF_EINVAL, "couch: bad _local id");
    snprintf(suffix, sizeof(suffix), "/_local/%s", id);
    if ((path = db_sub(c, suffix)) == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    rc = gw_couch_request(c, "GET", path, NULL, &j, res, err);
    free(path);
    if (rc != HLF_OK)
        return rc;
    rev = json_string_value(json_object_get(j, "_rev"));
    pthread_mutex_lock(&c->lock);
    if (rev != NULL && strlen(rev) < sizeof(c->local_rev)) {
        snprintf(c->local_id, sizeof(c->local_id), "%s", id);
        snprintf(c->local_rev, sizeof(c->local_rev), "%s", rev);
    }
    pthread_mutex_unlock(&c->lock);
    json_object_del(j, "_id");
    json_object_del(j, "_rev");
    if (doc != NULL)
        *doc = j;
    else
        json_decref(j);
    return HLF_OK;
}

int
gw_couch_local_put(gw_couch_t *c, const char *id, const json_t *doc,
                   gw_couch_result_t *res, hlf_error_t *err)
{
    char suffix[160], rev[64], *path = NULL;
    json_t *body = NULL, *ans = NULL;
    gw_couch_result_t local;
    const char *nrev;
    int rc = HLF_EINVAL, tries;

    if (res == NULL)
        res = &local;
    if (c == NULL || !local_id_ok(id) || !json_is_object(doc))
        return hlf_error_set(err, HLF_EINVAL, "couch: bad _local put");
    snprintf(suffix, sizeof(suffix), "/_local/%s", id);
    path = db_sub(c, suffix);
    body = json_deep_copy(doc);
    if (path == NULL || body == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        goto fail;
    }
    json_object_del(body, "_id");
    for (tries = 0; tries < COUCH_LOCAL_TRIES; tries++) {
        rev[0] = '\0';
        pthread_mutex_lock(&c->lock);
        if (strcmp(c->local_id, id) == 0)
            snprintf(rev, sizeof(rev), "%s", c->local_rev);
        pthread_mutex_unlock(&c->lock);
        json_object_del(body, "_rev");
        if (rev[0] != '\0' &&
            json_object_set_new(body, "_rev", json_string(rev)) != 0) {
            rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
            goto fail;
        }
        rc = gw_couch_request(c, "PUT", path, body, &ans, res, err);
        if (rc == HLF_OK)
            break;
        if (rc != HLF_EEXIST)
            goto fail;
        /* Someone (or a previous run) moved the revision: re-read it. */
        rc = gw_couch_local_get(c, id, NULL, NULL, err);
        if (rc == HLF_ENOTFOUND) {
            pthread_mutex_lock(&c->lock);
            c->local_id[0] = '\0';
            pthread_mutex_unlock(&c->lock);
        } else if (rc != HLF_OK) {
            goto fail;
        }
        rc = hlf_error_set(err, HLF_EEXIST,
                           "CouchDB PUT %s: still conflicting after %d "
                           "tries", path, COUCH_LOCAL_TRIES);
    }
    if (rc != HLF_OK)
        goto fail;
    nrev = json_string_value(json_object_get(ans, "rev"));
    pthread_mutex_lock(&c->lock);
    if (nrev != NULL && strlen(nrev) < sizeof(c->local_rev)) {
        snprintf(c->local_id, sizeof(c->local_id), "%s", id);
        snprintf(c->local_rev, sizeof(c->local_rev), "%s", nrev);
    } else {
        c->local_id[0] = '\0';
    }
    pthread_mutex_unlock(&c->lock);

fail:
    json_decref(ans);
    json_decref(body);
    free(path);
    return rc;
}

int
gw_couch_index_create(gw_couch_t *c, const char *ddoc, const char *name,
                      const char *const *fields, size_t nfields,
                      int *created, gw_couch_result_t *res,
                      hlf_error_t *err)
{
    json_t *body = NULL, *arr, *ans = NULL;
    const char *result;
    char *path = NULL;
    size_t i;
    int rc;

    if (created != NULL)
        *created = 0;
    if (c == NULL || ddoc == NULL || name == NULL || fields == NULL ||
        nfields == 0)
        return hlf_error_set(err, HLF_EINVAL, "couch: bad index");
    arr = json_array();
    for (i = 0; arr != NULL && i < nfields; i++)
        if (json_array_append_new(arr, json_string(fields[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    body = json_pack("{s:{s:o?},s:s,s:s,s:s}", "index", "fields", arr,
                     "ddoc", ddoc, "name", name, "type", "json");
    path = db_sub(c, "/_index");
    if (arr == NULL || body == NULL || path == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        goto fail;
    }
    rc = gw_couch_request(c, "POST", path, body, &ans, res, err);
    if (rc != HLF_OK)
        goto fail;
    result = json_string_value(json_object_get(ans, "result"));
    if (result == NULL) {
        rc = hlf_error_set(err, HLF_EPROTO,
                           "CouchDB POST %s: answer has no result", path);
        goto fail;
    }
    if (created != NULL)
        *created = strcmp(result, "created") == 0;

fail:
    json_decref(ans);
    json_decref(body);
    free(path);
    return rc;
}

int
gw_couch_find(gw_couch_t *c, const json_t *query, json_t **resp,
              gw_couch_result_t *res, hlf_error_t *err)
{
    json_t *ans = NULL;
    char *path;
    int rc;

    if (resp != NULL)
        *resp = NULL;
    if (c == NULL || !json_is_object(query))
        return hlf_error_set(err, HLF_EINVAL, "couch: query not an object");
    if ((path = db_sub(c, "/_find")) == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    rc = gw_couch_request(c, "POST", path, query, &ans, res, err);
    if (rc == HLF_OK && !json_is_array(json_object_get(ans, "docs")))
        rc = hlf_error_set(err, HLF_EPROTO,
                           "CouchDB POST %s: answer has no docs array",
                           path);
    free(path);
    if (rc == HLF_OK && resp != NULL) {
        *resp = ans;
        ans = NULL;
    }
    json_decref(ans);
    return rc;
}

void
gw_couch_stats(gw_couch_t *c, gw_couch_stats_t *st)
{
    st->requests = atomic_load(&c->requests);
    st->failures = atomic_load(&c->failures);
    st->http_ns = atomic_load(&c->http_ns);
    st->encode_ns = atomic_load(&c->encode_ns);
    st->decode_ns = atomic_load(&c->decode_ns);
    st->bytes_out = atomic_load(&c->bytes_out);
    st->bytes_in = atomic_load(&c->bytes_in);
}
