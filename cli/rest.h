/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resoctl's REST client for reso-gateway: the gateway URL and an org's
 * demo API key out of the network description, and one libcurl request
 * with a bounded, growing answer buffer. Shared by the commands that
 * speak to the gateway rather than to a peer (doc, index), so that they
 * find the gateway, authenticate and report transport errors alike.
 *
 * THREAD SAFETY: main thread only, between curl_global_init and
 * curl_global_cleanup (the commands call both).
 */
#ifndef RESOCTL_REST_H
#define RESOCTL_REST_H

#include <jansson.h>
#include <stddef.h>

/*
 * A growing byte buffer. data is new (malloc; free() it), NUL-terminated
 * after len bytes, and NULL while nothing was added; max bounds len.
 */
typedef struct {
    char *data;
    size_t len, cap;
    size_t max;
} resoctl_buf_t;

/* Append n bytes of p. 0, or -1 past b->max or out of memory. */
int resoctl_buf_add(resoctl_buf_t *b, const void *p, size_t n);

/* The buffer's bytes as text: b->data, or "" while empty. Borrowed. */
const char *resoctl_buf_text(const resoctl_buf_t *b);

/*
 * The gateway's URL and org's API key from the network description
 * (run_dir and env_file as for reso_netenv_load; either may be NULL).
 * Returns -1 on success with *env new (json_decref) and *url, *key
 * borrowed from it; else an exit status (RESOCTL_EXIT_PREREQ) after
 * printing why, with *env NULL.
 */
int resoctl_rest_gateway(const char *run_dir, const char *env_file,
                         const char *org, json_t **env, const char **url,
                         const char **key);

/*
 * One request: method on url with the bearer key, waiting at most
 * timeout_s seconds. body (borrowed) is sent when not NULL (an empty
 * buffer sends an empty body); content_type, when not NULL, is sent as
 * Content-Type (without "Expect: 100-continue"). Fills *status and resp
 * (whose max bounds the answer; a larger one is a transport error).
 * Returns 0, or -1 after printing the transport error.
 */
int resoctl_rest_call(const char *method, const char *url, const char *key,
                      const char *content_type, const resoctl_buf_t *body,
                      long timeout_s, long *status, resoctl_buf_t *resp);

#endif /* RESOCTL_REST_H */
