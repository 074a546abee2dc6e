/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the reso-gateway unit tests: load a config from text, run
 * the gateway's HTTP core in-process on 127.0.0.1 (port 0), and make HTTP
 * requests with libcurl. Every test process frees what it started, so the
 * tests stay leak-free under ASan.
 */
#ifndef GWTEST_H
#define GWTEST_H

#include "gw.h"

#include <pthread.h>
#include <stddef.h>

/* An HTTP answer; curl_rc is the CURLcode (0 when a response arrived). */
typedef struct gwt_resp_s {
    int curl_rc;
    long status;
    char *body;    /* NUL-terminated */
    size_t len;
    char *headers; /* raw header block of the final response */
    double secs;   /* total time */
} gwt_resp_t;

/* Options of one request; zero-initialise and set what you need. */
typedef struct gwt_opts_s {
    const char *const *headers; /* "Name: value" strings, NULL-terminated */
    const char *body;           /* sent as-is (NULL: none) */
    size_t body_len;
    int chunked;                /* send the body with chunked encoding */
    long timeout_ms;            /* 0: 10 s */
} gwt_opts_t;

/* method path on 127.0.0.1:port; fills r (gwt_resp_free). */
void gwt_http(const char *method, int port, const char *path,
              const gwt_opts_t *o, gwt_resp_t *r);
void gwt_resp_free(gwt_resp_t *r);

/*
 * A libcurl CURLOPT_WRITEFUNCTION for tests that drive curl themselves
 * (TLS options, for example): appends to the gwt_resp_t passed as
 * CURLOPT_WRITEDATA (body kept NUL-terminated, len updated).
 */
size_t gwt_collect_body(char *data, size_t size, size_t nmemb, void *ud);

/* Value of a response header (case-insensitive), trimmed, in buf; NULL if
 * absent. */
const char *gwt_header(const gwt_resp_t *r, const char *name, char *buf,
                       size_t n);

/* A request made on its own thread (streams, drains): start, then join
 * to read a->r. o (copied) and its strings must outlive the request. */
typedef struct gwt_async_s {
    const char *method;
    int port;
    const char *path;
    gwt_opts_t o;
    gwt_resp_t r;
    pthread_t t;
} gwt_async_t;

void gwt_async_start(gwt_async_t *a, const char *method, int port,
                     const char *path, const gwt_opts_t *o);
void gwt_async_join(gwt_async_t *a);

/*
 * method scheme://127.0.0.1:port/path with curl's TLS options: trust
 * ca_file, present cert_file/key_file (NULL: no client certificate),
 * send the headers (NULL-terminated, or NULL) and body (NULL: none; else
 * as application/json). 60 s timeout. Fills r like gwt_http; a TLS
 * failure is r->curl_rc.
 */
void gwt_tls_http(const char *scheme, const char *method, int port,
                  const char *path, const char *ca_file,
                  const char *cert_file, const char *key_file,
                  const char *const *headers, const char *body,
                  gwt_resp_t *r);

/* Lower-case hex SHA-256 of a key, for apikey lines. */
void gwt_sha256_hex(const char *key, char out[65]);

/* Write text to dir/name; returns the new path (free()). */
char *gwt_write(const char *dir, const char *name, const char *text);

/* New temporary directory (free() the path; gwt_rmrf to remove). */
char *gwt_tmpdir(void);
void gwt_rmrf(const char *path);

/* Load a config from text (written to a temp file); asserts success. */
gw_config_t *gwt_config(const char *text);

/* Start auth, a 4-worker pool and HTTP for cfg (routes registered before);
 * returns the port. gwt_stop undoes everything including cfg. */
int gwt_start(gw_config_t *cfg);
void gwt_stop(gw_config_t *cfg);

/* Sleep ms milliseconds. */
void gwt_sleep_ms(long ms);

/* CPU time (user + system) of this process in milliseconds. */
double gwt_cpu_ms(void);

#endif /* GWTEST_H */
