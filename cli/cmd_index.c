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

/* Largest status answer accepted (it is a few hundred bytes). */
#define IDX_MAX_ANSWER 65536
#define IDX_WAIT_DEFAULT_S 600

typedef struct {
    const char *run_dir;
    const char *env_file;
    const char *org;
    int json;
    int wait;
    long timeout_s;
} idx_opts_t;

typedef struct {
    char data[IDX_MAX_ANSWER];
    size_t len;
} answer_t;

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

static size_t
on_answer(char *p, size_t size, size_t n, void *ud)
{
    answer_t *a = ud;

    if (size * n >= sizeof(a->data) - a->len)
        return 0;
    memcpy(a->data + a->len, p, size * n);
    a->len += size * n;
    a->data[a->len] = '\0';
    return size * n;
}

/*
 * method on url + path with the bearer key. *status and a (the body).
 * 0, or -1 after printing the transport error.
 */
static int
call(const char *method, const char *url, const char *path, const char *key,
     long *status, answer_t *a)
{
    struct curl_slist *h = NULL;
    char auth[512], full[1024];
    CURLcode rc;
    CURL *c = curl_easy_init();

    if (c == NULL)
        return -1;
    a->len = 0;
    a->data[0] = '\0';
    snprintf(full, sizeof(full), "%s%s", url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    h = curl_slist_append(h, auth);
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    else
        fprintf(stderr, "resoctl: %s %s: %s\n", method, full,
                curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

/* GET the status as JSON (new) or NULL after printing why. */
static json_t *
get_status(const char *url, const char *key)
{
    answer_t *a = malloc(sizeof(*a));
    json_t *j = NULL;
    long status = 0;

    if (a == NULL)
        return NULL;
    if (call("GET", url, "/v1/index/status", key, &status, a) == 0) {
        if (status == 200)
            j = json_loadb(a->data, a->len, 0, NULL);
        if (j == NULL)
            fprintf(stderr, "resoctl: GET /v1/index/status: HTTP %ld %s\n",
                    status, a->data);
    }
    free(a);
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
    json_t *env = NULL, *gw, *st;
    const char *url, *key, *sub;
    answer_t *a = NULL;
    char why[1024];
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
    if (reso_netenv_load(NULL, o.run_dir, o.env_file, &env, why,
                         sizeof(why)) != 0) {
        fprintf(stderr, "resoctl: %s\n", why);
        return RESOCTL_EXIT_PREREQ;
    }
    gw = json_object_get(env, "gateway");
    url = json_string_value(json_object_get(gw, "url"));
    key = json_string_value(
        json_object_get(json_object_get(gw, "api_keys"), o.org));
    if (url == NULL || key == NULL) {
        fprintf(stderr, "resoctl: the network description has no gateway "
                "URL or no API key for org %s (is reso-gateway running?)\n",
                o.org);
        json_decref(env);
        return RESOCTL_EXIT_PREREQ;
    }
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
    a = malloc(sizeof(*a));
    if (a == NULL || call("POST", url, "/v1/index/rebuild", key, &status,
                          a) != 0)
        goto done;
    if (status != 202) {
        fprintf(stderr, "resoctl: POST /v1/index/rebuild: HTTP %ld %s\n",
                status, a->data);
        goto done;
    }
    if (!o.wait) {
        if (!o.json)
            printf("rebuild started: the gateway drops the index and "
                   "re-indexes from block 0\n(follow it with `resoctl "
                   "index status`)\n");
        else
            printf("%s\n", a->data);
        rc = RESOCTL_EXIT_OK;
        goto done;
    }
    /* The status still shows the old checkpoint until the indexer thread
     * took the request; wait_current only accepts "not rebuilding". */
    rc = wait_current(url, key, &o);

done:
    free(a);
    json_decref(env);
    curl_global_cleanup();
    return rc;
}
