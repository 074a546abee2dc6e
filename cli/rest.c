/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resoctl's REST client for reso-gateway (rest.h): finding the gateway
 * in the network description and one libcurl request per call. Each call
 * has its own easy handle; resoctl makes a handful of requests, so
 * connection reuse is not worth the state.
 */
#include "rest.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netenv.h"
#include "resoctl.h"

/* First allocation of a buffer; it doubles from there. */
#define BUF_FIRST_CAP 65536

int
resoctl_buf_add(resoctl_buf_t *b, const void *p, size_t n)
{
    if (b->len > b->max || n > b->max - b->len)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : BUF_FIRST_CAP;
        char *nd;

        while (cap < b->len + n + 1)
            cap *= 2;
        nd = realloc(b->data, cap);
        if (nd == NULL)
            return -1;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

const char *
resoctl_buf_text(const resoctl_buf_t *b)
{
    return b->data != NULL ? b->data : "";
}

/* libcurl write callback: a short count makes curl fail the transfer. */
static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
    return resoctl_buf_add(ud, p, size * n) == 0 ? size * n : 0;
}

int
resoctl_rest_gateway(const char *run_dir, const char *env_file,
                     const char *org, json_t **env, const char **url,
                     const char **key)
{
    char why[1024];
    json_t *gw;

    if (reso_netenv_load(NULL, run_dir, env_file, env, why,
                         sizeof(why)) != 0) {
        fprintf(stderr, "resoctl: %s\n", why);
        return RESOCTL_EXIT_PREREQ;
    }
    gw = json_object_get(*env, "gateway");
    *url = json_string_value(json_object_get(gw, "url"));
    *key = json_string_value(
        json_object_get(json_object_get(gw, "api_keys"), org));
    if (*url == NULL || *key == NULL) {
        fprintf(stderr, "resoctl: the network description has no gateway "
                "URL or no API key for org %s (is reso-gateway running?)\n",
                org);
        json_decref(*env);
        *env = NULL;
        return RESOCTL_EXIT_PREREQ;
    }
    return -1;
}

int
resoctl_rest_call(const char *method, const char *url, const char *key,
                  const char *content_type, const resoctl_buf_t *body,
                  long timeout_s, long *status, resoctl_buf_t *resp)
{
    struct curl_slist *h = NULL;
    char auth[512], ctype[256];
    CURL *c;
    CURLcode rc;

    c = curl_easy_init();
    if (c == NULL)
        return -1;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    h = curl_slist_append(h, auth);
    if (content_type != NULL) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
        h = curl_slist_append(h, ctype);
        /* An empty Expect: keeps curl from waiting for 100-continue. */
        h = curl_slist_append(h, "Expect:");
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, resoctl_buf_text(body));
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)body->len);
    }
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    else
        fprintf(stderr, "resoctl: %s %s: %s\n", method, url,
                curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}
