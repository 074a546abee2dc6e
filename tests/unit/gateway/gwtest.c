/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers for the gateway unit tests (see gwtest.h). */
#include "gwtest.h"

#include "task.h"

#include "hlf/crypto.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct acc_s {
    char *p;
    size_t len;
} acc_t;

static size_t
acc_write(char *data, size_t size, size_t nmemb, void *ud)
{
    acc_t *a = ud;
    size_t n = size * nmemb;
    char *np = realloc(a->p, a->len + n + 1);

    if (np == NULL)
        return 0;
    memcpy(np + a->len, data, n);
    a->p = np;
    a->len += n;
    np[a->len] = '\0';
    return n;
}

/* Keep only the last header block (after a 100 Continue, for example). */
static size_t
hdr_write(char *data, size_t size, size_t nmemb, void *ud)
{
    acc_t *a = ud;

    if (size * nmemb >= 5 && strncmp(data, "HTTP/", 5) == 0)
        a->len = 0;
    return acc_write(data, size, nmemb, ud);
}

typedef struct src_s {
    const char *p;
    size_t left;
} src_t;

static size_t
src_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    src_t *s = ud;
    size_t n = size * nmemb;

    if (n > s->left)
        n = s->left;
    if (n > 1000)
        n = 1000; /* several chunks */
    memcpy(buf, s->p, n);
    s->p += n;
    s->left -= n;
    return n;
}

void
gwt_http(const char *method, int port, const char *path,
         const gwt_opts_t *o, gwt_resp_t *r)
{
    static const gwt_opts_t none;
    struct curl_slist *hl = NULL;
    acc_t body = {NULL, 0}, hdrs = {NULL, 0};
    src_t src;
    char url[1024];
    CURL *c;
    size_t i;

    if (o == NULL)
        o = &none;
    memset(r, 0, sizeof(*r));
    c = curl_easy_init();
    ASSERT_NOT_NULL(c);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     o->timeout_ms ? o->timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, acc_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hdr_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrs);
    for (i = 0; o->headers != NULL && o->headers[i] != NULL; i++)
        hl = curl_slist_append(hl, o->headers[i]);
    if (o->body != NULL && o->chunked) {
        src.p = o->body;
        src.left = o->body_len;
        hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, src_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    } else if (o->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)o->body_len);
    }
    /* No "Expect: 100-continue" round trip unless a test asks for it. */
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    r->curl_rc = (int)curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->secs);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    r->body = body.p ? body.p : calloc(1, 1);
    r->len = body.len;
    r->headers = hdrs.p ? hdrs.p : calloc(1, 1);
}

static void *
async_run(void *arg)
{
    gwt_async_t *a = arg;

    gwt_http(a->method, a->port, a->path, &a->o, &a->r);
    return NULL;
}

void
gwt_async_start(gwt_async_t *a, const char *method, int port,
                const char *path, const gwt_opts_t *o)
{
    memset(a, 0, sizeof(*a));
    a->method = method;
    a->port = port;
    a->path = path;
    if (o != NULL)
        a->o = *o;
    ASSERT_EQ(pthread_create(&a->t, NULL, async_run, a), 0);
}

void
gwt_async_join(gwt_async_t *a)
{
    pthread_join(a->t, NULL);
}

size_t
gwt_collect_body(char *data, size_t size, size_t nmemb, void *ud)
{
    gwt_resp_t *r = ud;
    size_t n = size * nmemb;
    char *nb = realloc(r->body, r->len + n + 1);

    if (nb == NULL)
        return 0;
    memcpy(nb + r->len, data, n);
    r->len += n;
    nb[r->len] = '\0';
    r->body = nb;
    return n;
}

void
gwt_tls_http(const char *scheme, const char *method, int port,
             const char *path, const char *ca_file, const char *cert_file,
             const char *key_file, const char *const *headers,
             const char *body, gwt_resp_t *r)
{
    struct curl_slist *hl = NULL;
    char url[512];
    CURL *c = curl_easy_init();

    ASSERT_NOT_NULL(c);
    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", scheme, port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    if (cert_file != NULL) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, cert_file);
        curl_easy_setopt(c, CURLOPT_SSLKEY, key_file);
    }
    while (headers != NULL && *headers != NULL)
        hl = curl_slist_append(hl, *headers++);
    if (body != NULL) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, gwt_collect_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
    r->curl_rc = (int)curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

void
gwt_resp_free(gwt_resp_t *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

const char *
gwt_header(const gwt_resp_t *r, const char *name, char *buf, size_t n)
{
    const char *p = r->headers;
    size_t nl = strlen(name);

    while (p != NULL && *p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);

        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t vl = len - nl - 1;

            while (vl > 0 && *v == ' ') {
                v++;
                vl--;
            }
            while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            if (vl >= n)
                vl = n - 1;
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            return buf;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

void
gwt_sha256_hex(const char *key, char out[65])
{
    uint8_t d[HLF_SHA256_LEN];

    hlf_sha256(key, strlen(key), d);
    hlf_hex_encode(d, sizeof(d), out);
}

char *
gwt_write(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    FILE *fp;

    ASSERT_NOT_NULL(path);
    snprintf(path, n, "%s/%s", dir, name);
    fp = fopen(path, "w");
    ASSERT_NOT_NULL(fp);
    fputs(text, fp);
    ASSERT_EQ(fclose(fp), 0);
    return path;
}

char *
gwt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    char *p;

    snprintf(tmpl, sizeof(tmpl), "%s/gwtest.XXXXXX", base ? base : "/tmp");
    p = mkdtemp(tmpl);
    ASSERT_NOT_NULL(p);
    return strdup(p);
}

void
gwt_rmrf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;

    if (d == NULL) {
        unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char sub[2048];

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        gwt_rmrf(sub);
    }
    closedir(d);
    rmdir(path);
}

gw_config_t *
gwt_config(const char *text)
{
    char *dir = gwt_tmpdir();
    char *path = gwt_write(dir, "gw.conf", text);
    gw_config_t *cfg = NULL;
    hlf_error_t err;
    int rc = gw_config_load(path, &cfg, stderr, &err);

    if (rc != HLF_OK)
        fprintf(stderr, "config: %s\n", err.text);
    ASSERT_EQ(rc, HLF_OK);
    gwt_rmrf(dir);
    free(path);
    free(dir);
    return cfg;
}

int
gwt_start(gw_config_t *cfg)
{
    hlf_error_t err;

    ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
    gw_config_install(cfg);
    ASSERT_EQ(gw_auth_init(cfg), HLF_OK);
    ASSERT_EQ(gw_pool_start(4, 64), HLF_OK);
    ASSERT_EQ(gw_http_start(cfg, &err), HLF_OK);
    ASSERT(gw_http_port() > 0);
    return gw_http_port();
}

void
gwt_stop(gw_config_t *cfg)
{
    gw_http_stop();
    gw_pool_stop();
    gw_auth_free();
    gw_health_reset();
    gw_metrics_reset();
    gw_config_free(cfg);
    curl_global_cleanup();
}

void
gwt_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

double
gwt_cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec * 1000.0 + ru.ru_utime.tv_usec / 1000.0 +
           ru.ru_stime.tv_sec * 1000.0 + ru.ru_stime.tv_usec / 1000.0;
}
