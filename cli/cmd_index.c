/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resoctl's commands for the off-chain CouchDB index (issue 4 §3):
 *
 *   resoctl index status              GET /v1/index/status
 *   resoctl index rebuild [--wait]    POST /v1/index/rebuild
 *
 * The indexer runs inside reso-gateway (docs/index.md), so both speak
 * REST to the gateway URL of `resoctl network env --json` with the org's
 * demo API key. `rebuild` makes the running gateway drop its database and
 * replay the ledger from block 0; with --wait it polls the status until
 * the rebuilt index has caught up with the stream again.
 *
 * Exit statuses: 0; 3 (status) when the index is not ok or lags; 1 when
 * the gateway is unreachable or --wait timed out; 2 usage; 4 no gateway
 * in the network description.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netenv.h"
#include "resoctl.h"
#include "rest.h"

/* Largest status answer accepted (it is a few hundred bytes). */
#define IDX_MAX_ANSWER 65536
#define IDX_TIMEOUT_S 30L
#define IDX_WAIT_DEFAULT_S 600

typedef struct {
    const char *run_dir;
    const char *env_file;
    const char *org;
    int json;
    int wait;
    long timeout_s;
} idx_opts_t;

static void
idx_usage(FILE *out)
{
    fputs("usage: resoctl index status  [--json] [options]\n"
          "       resoctl index rebuild [--wait] [--timeout SECONDS] "
          "[options]\n"
          "status: state, checkpoint and lag of the gateway's CouchDB "
          "index\n"
          "rebuild: drop the index and re-index the ledger from block 0\n"
          "options:\n"
          "  --org ORG        whose demo API key is used: Brokerage "
          "(default),\n"
          "                   Association or MLS\n"
          "  --run-dir DIR    the network's run directory (default: "
          "<source>/run/network)\n"
          "  --env FILE       use this saved `resoctl network env --json` "
          "output instead\n",
          out);
}

/*
 * method on url + path with the bearer key (a POST has an empty body).
 * *status and a (the body, new). 0, or -1 after printing the transport
 * error.
 */
static int
call(const char *method, const char *url, const char *path, const char *key,
     long *status, resoctl_buf_t *a)
{
    static const resoctl_buf_t empty = {NULL, 0, 0, 0};
    char full[1024];

    a->data = NULL;
    a->len = a->cap = 0;
    a->max = IDX_MAX_ANSWER - 1;
    snprintf(full, sizeof(full), "%s%s", url, path);
    return resoctl_rest_call(method, full, key, NULL,
                             strcmp(method, "POST") == 0 ? &empty : NULL,
                             IDX_TIMEOUT_S, status, a);
}

/* GET the status as JSON (new) or NULL after printing why. */
static json_t *
get_status(const char *url, const char *key)
{
    resoctl_buf_t a;
    json_t *j = NULL;
    long status = 0;

    if (call("GET", url, "/v1/index/status", key, &status, &a) == 0) {
        if (status == 200)
            j = json_loadb(resoctl_buf_text(&a), a.len, 0, NULL);
        if (j == NULL)
            fprintf(stderr, "resoctl: GET /v1/index/status: HTTP %ld %s\n",
                    status, resoctl_buf_text(&a));
    }
    free(a.data);
    return j;
}

static json_int_t
num(json_t *st, const char *k)
{
    return json_integer_value(json_object_get(st, k));
}

static void
print_status(json_t *st, int as_json)
{
    json_t *ck = json_object_get(st, "checkpoint");
    const char *detail = json_string_value(json_object_get(st, "detail"));

    if (as_json) {
        json_dumpf(st, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        return;
    }
    printf("state:       %s%s\n",
           json_string_value(json_object_get(st, "state")),
           json_is_true(json_object_get(st, "rebuilding")) ? " (rebuilding)"
                                                          : "");
    printf("checkpoint:  sequence %" JSON_INTEGER_FORMAT " (block %"
           JSON_INTEGER_FORMAT ", tx %" JSON_INTEGER_FORMAT ")\n",
           num(ck, "sequence"), num(ck, "block"), num(ck, "tx_index"));
    printf("stream head: sequence %" JSON_INTEGER_FORMAT "\n",
           num(st, "head_sequence"));
    printf("lag:         %" JSON_INTEGER_FORMAT " events (%"
           JSON_INTEGER_FORMAT " blocks)\n", num(st, "lag"),
           num(st, "lag_blocks"));
    printf("since start: %" JSON_INTEGER_FORMAT " written, %"
           JSON_INTEGER_FORMAT " already present, %" JSON_INTEGER_FORMAT
           " batches, %" JSON_INTEGER_FORMAT " failed attempts\n",
           num(st, "indexed"), num(st, "conflicts"), num(st, "batches"),
           num(st, "failures"));
    if (detail != NULL && detail[0] != '\0')
        printf("last error:  %s\n", detail);
}

/* 1 when the index is ok, not rebuilding and has no lag. */
static int
current(json_t *st)
{
    const char *s = json_string_value(json_object_get(st, "state"));

    return s != NULL && strcmp(s, "ok") == 0 &&
           !json_is_true(json_object_get(st, "rebuilding")) &&
           num(st, "lag") == 0;
}

static int
idx_parse(int argc, char **argv, idx_opts_t *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->org = "Brokerage";
    o->timeout_s = IDX_WAIT_DEFAULT_S;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            idx_usage(stdout);
            return RESOCTL_EXIT_OK;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(a, "--wait") == 0) {
            o->wait = 1;
            continue;
        }
        if (strcmp(a, "--org") != 0 && strcmp(a, "--run-dir") != 0 &&
            strcmp(a, "--env") != 0 && strcmp(a, "--timeout") != 0) {
            fprintf(stderr, "resoctl: unknown option %s\n", a);
            idx_usage(stderr);
            return RESOCTL_EXIT_USAGE;
        }
        if (v == NULL) {
            fprintf(stderr, "resoctl: %s needs a value\n", a);
            return RESOCTL_EXIT_USAGE;
        }
        i++;
        if (strcmp(a, "--org") == 0) {
            o->org = v;
        } else if (strcmp(a, "--run-dir") == 0) {
            o->run_dir = v;
        } else if (strcmp(a, "--env") == 0) {
            o->env_file = v;
        } else {
            o->timeout_s = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || o->timeout_s < 1 ||
                o->timeout_s > 86400) {
                fprintf(stderr, "resoctl: --timeout must be 1..86400 "
                        "seconds\n");
                return RESOCTL_EXIT_USAGE;
            }
        }
    }
    return -1;
}

static int
wait_current(const char *url, const char *key, const idx_opts_t *o)
{
    struct timespec half = {0, 500000000L};
    time_t deadline = time(NULL) + o->timeout_s;
    json_t *st = NULL;

    for (;;) {
        json_decref(st);
        st = get_status(url, key);
        if (st != NULL && current(st)) {
            print_status(st, o->json);
            json_decref(st);
            return RESOCTL_EXIT_OK;
        }
        if (time(NULL) >= deadline)
            break;
        nanosleep(&half, NULL);
    }
    fprintf(stderr, "resoctl: the index did not catch up within %ld s\n",
            o->timeout_s);
    if (st != NULL)
        print_status(st, o->json);
    json_decref(st);
    return RESOCTL_EXIT_FAIL;
}

int
resoctl_cmd_index(int argc, char **argv)
{
    idx_opts_t o;
    json_t *env = NULL, *st;
    const char *url, *key, *sub;
    resoctl_buf_t a = {NULL, 0, 0, 0};
    long status = 0;
    int rc;

    sub = argc >= 2 ? argv[1] : NULL;
    if (sub == NULL || strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        idx_usage(sub == NULL ? stderr : stdout);
        return sub == NULL ? RESOCTL_EXIT_USAGE : RESOCTL_EXIT_OK;
    }
    if (strcmp(sub, "status") != 0 && strcmp(sub, "rebuild") != 0) {
        fprintf(stderr, "resoctl: unknown index command \"%s\"\n", sub);
        idx_usage(stderr);
        return RESOCTL_EXIT_USAGE;
    }
    if ((rc = idx_parse(argc, argv, &o)) >= 0)
        return rc;
    rc = resoctl_rest_gateway(o.run_dir, o.env_file, o.org, &env, &url,
                              &key);
    if (rc >= 0)
        return rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(sub, "status") == 0) {
        st = get_status(url, key);
        rc = RESOCTL_EXIT_FAIL;
        if (st != NULL) {
            print_status(st, o.json);
            rc = current(st) ? RESOCTL_EXIT_OK : RESOCTL_EXIT_DOWN;
            json_decref(st);
        }
        goto done;
    }
    rc = RESOCTL_EXIT_FAIL;
    if (call("POST", url, "/v1/index/rebuild", key, &status, &a) != 0)
        goto done;
    if (status != 202) {
        fprintf(stderr, "resoctl: POST /v1/index/rebuild: HTTP %ld %s\n",
                status, resoctl_buf_text(&a));
        goto done;
    }
    if (!o.wait) {
        if (!o.json)
            printf("rebuild started: the gateway drops the index and "
                   "re-indexes from block 0\n(follow it with `resoctl "
                   "index status`)\n");
        else
            printf("%s\n", resoctl_buf_text(&a));
        rc = RESOCTL_EXIT_OK;
        goto done;
    }
    /* The status still shows the old checkpoint until the indexer thread
     * took the request; wait_current only accepts "not rebuilding". */
    rc = wait_current(url, key, &o);

done:
    free(a.data);
    json_decref(env);
    curl_global_cleanup();
    return rc;
}
