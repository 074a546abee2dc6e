/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resoctl's commands for off-chain documents and referral playback
 * (issue 5 §5, §6):
 *
 *   resoctl doc put FILE|-             POST /v1/documents on the gateway
 *   resoctl doc get CID [-o FILE]      GET /v1/documents/{cid}
 *   resoctl referral show SUBJECT      GetReferral on the ledger
 *
 * Documents live in reso-gateway, so `doc` speaks REST to the gateway URL
 * of `resoctl network env --json` with the org's demo API key; it also
 * computes the CID itself (gateway/src/cid.c) and refuses an answer whose
 * CID differs, so a document is checked end to end, not only by the
 * gateway. `referral show` evaluates GetReferral through the org's peer
 * like `subject history`. Results are JSON on stdout (a fetched document
 * goes to stdout or -o FILE as raw bytes); errors go to stderr.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlf/gateway.h"

#include "cid.h"
#include "netenv.h"
#include "resoctl.h"
#include "rest.h"

/* Largest document read from a file or stdin. */
#define DOC_MAX_BYTES (1024L * 1024 * 1024)
/* Documents go as raw bytes; a large one may take minutes. */
#define DOC_CONTENT_TYPE "application/octet-stream"
#define DOC_TIMEOUT_S 300L

typedef struct {
    const char *run_dir;
    const char *env_file;
    const char *org;
    const char *out;        /* doc get -o FILE */
    const char *positional;
} doc_opts_t;

static void
doc_usage(FILE *out)
{
    fputs("usage: resoctl doc put FILE|-        [options]\n"
          "       resoctl doc get CID [-o FILE] [options]\n"
          "       resoctl referral show SUBJECT [options]\n"
          "options:\n"
          "  --org ORG        organisation whose API key (doc) or client "
          "identity\n"
          "                   (referral) is used: Brokerage (default), "
          "Association or MLS\n"
          "  --run-dir DIR    the network's run directory (default: "
          "<source>/run/network)\n"
          "  --env FILE       use this saved `resoctl network env --json` "
          "output instead\n",
          out);
}

static int
is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

static int
doc_parse(int argc, char **argv, int first, doc_opts_t *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->org = "Brokerage";
    for (i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (is_help(a)) {
            doc_usage(stdout);
            return RESOCTL_EXIT_OK;
        }
        if (strcmp(a, "--org") == 0 || strcmp(a, "--run-dir") == 0 ||
            strcmp(a, "--env") == 0 || strcmp(a, "-o") == 0) {
            if (v == NULL) {
                fprintf(stderr, "resoctl: %s needs a value\n", a);
                return RESOCTL_EXIT_USAGE;
            }
            i++;
            if (strcmp(a, "--org") == 0)
                o->org = v;
            else if (strcmp(a, "--run-dir") == 0)
                o->run_dir = v;
            else if (strcmp(a, "--env") == 0)
                o->env_file = v;
            else
                o->out = v;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "resoctl: unknown option %s\n", a);
            doc_usage(stderr);
            return RESOCTL_EXIT_USAGE;
        }
        if (o->positional != NULL) {
            fprintf(stderr, "resoctl: unexpected argument \"%s\"\n", a);
            return RESOCTL_EXIT_USAGE;
        }
        o->positional = a;
    }
    if (o->positional == NULL || o->positional[0] == '\0') {
        fprintf(stderr, "resoctl: missing argument\n");
        doc_usage(stderr);
        return RESOCTL_EXIT_USAGE;
    }
    return -1;
}

/* Print a non-2xx answer (the gateway's error JSON) and map the status. */
static int
http_failed(long status, const resoctl_buf_t *resp)
{
    fprintf(stderr, "%s\n", resoctl_buf_text(resp));
    if (status == 404)
        return RESOCTL_EXIT_NOTFOUND;
    return status >= 400 && status < 500 ? RESOCTL_EXIT_REJECTED
                                         : RESOCTL_EXIT_FAIL;
}

static int
read_input(const char *path, resoctl_buf_t *b)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = 0;

    if (fp == NULL) {
        fprintf(stderr, "resoctl: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (resoctl_buf_add(b, chunk, n) != 0) {
            fprintf(stderr, "resoctl: %s is larger than %ld bytes or "
                    "memory ran out\n", path, DOC_MAX_BYTES);
            rc = -1;
            break;
        }
    if (rc == 0 && ferror(fp)) {
        fprintf(stderr, "resoctl: reading %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static int
doc_put(const doc_opts_t *o)
{
    resoctl_buf_t in = {NULL, 0, 0, DOC_MAX_BYTES};
    resoctl_buf_t resp = {NULL, 0, 0, DOC_MAX_BYTES};
    json_t *env = NULL, *ans = NULL;
    const char *url, *key, *got;
    char cid[GW_CID_BUFSZ], full[2048];
    long status = 0;
    int rc;

    if (read_input(o->positional, &in) != 0)
        return RESOCTL_EXIT_FAIL;
    if (gw_cid_of_buffer(in.data, in.len, cid) != 0) {
        free(in.data);
        return RESOCTL_EXIT_FAIL;
    }
    rc = resoctl_rest_gateway(o->run_dir, o->env_file, o->org, &env, &url,
                              &key);
    if (rc >= 0) {
        free(in.data);
        return rc;
    }
    snprintf(full, sizeof(full), "%s/v1/documents", url);
    rc = RESOCTL_EXIT_FAIL;
    if (resoctl_rest_call("POST", full, key, DOC_CONTENT_TYPE, &in,
                          DOC_TIMEOUT_S, &status, &resp) != 0)
        goto out;
    if (status != 201) {
        rc = http_failed(status, &resp);
        goto out;
    }
    ans = json_loads(resp.data, 0, NULL);
    got = json_string_value(json_object_get(ans, "cid"));
    if (got == NULL || strcmp(got, cid) != 0) {
        fprintf(stderr, "resoctl: the gateway answered CID %s, but the "
                "file's CID is %s\n", got != NULL ? got : "(none)", cid);
        goto out;
    }
    json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    rc = RESOCTL_EXIT_OK;
out:
    json_decref(ans);
    json_decref(env);
    free(in.data);
    free(resp.data);
    return rc;
}

static int
doc_get(const doc_opts_t *o)
{
    const char *want = o->positional, *url, *key;
    char cid[GW_CID_BUFSZ], full[2048];
    resoctl_buf_t resp = {NULL, 0, 0, DOC_MAX_BYTES};
    json_t *env = NULL;
    long status = 0;
    FILE *fp;
    int rc;

    if (strncmp(want, "urn:ipfs:", 9) == 0)
        want += 9;
    if (!gw_cid_is_valid(want)) {
        fprintf(stderr, "resoctl: \"%s\" is not a CIDv0 (Qm + 44 base58 "
                "characters) or urn:ipfs: address\n", o->positional);
        return RESOCTL_EXIT_USAGE;
    }
    rc = resoctl_rest_gateway(o->run_dir, o->env_file, o->org, &env, &url,
                              &key);
    if (rc >= 0)
        return rc;
    snprintf(full, sizeof(full), "%s/v1/documents/%s", url, want);
    rc = RESOCTL_EXIT_FAIL;
    if (resoctl_rest_call("GET", full, key, DOC_CONTENT_TYPE, NULL,
                          DOC_TIMEOUT_S, &status, &resp) != 0)
        goto out;
    if (status != 200) {
        rc = http_failed(status, &resp);
        goto out;
    }
    if (gw_cid_of_buffer(resp.data, resp.len, cid) != 0 ||
        strcmp(cid, want) != 0) {
        fprintf(stderr, "resoctl: the bytes received hash to %s, not %s; "
                "nothing written\n", cid, want);
        goto out;
    }
    fp = o->out != NULL ? fopen(o->out, "wb") : stdout;
    if (fp == NULL) {
        fprintf(stderr, "resoctl: %s: %s\n", o->out, strerror(errno));
        goto out;
    }
    if (resp.len > 0 && fwrite(resp.data, 1, resp.len, fp) != resp.len)
        fprintf(stderr, "resoctl: writing the document: %s\n",
                strerror(errno));
    else
        rc = RESOCTL_EXIT_OK;
    if (fp != stdout && fclose(fp) != 0)
        rc = RESOCTL_EXIT_FAIL;
out:
    json_decref(env);
    free(resp.data);
    return rc;
}

int
resoctl_cmd_doc(int argc, char **argv)
{
    doc_opts_t o;
    int rc;

    if (argc < 2 || is_help(argv[1])) {
        doc_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? RESOCTL_EXIT_USAGE : RESOCTL_EXIT_OK;
    }
    rc = doc_parse(argc, argv, 2, &o);
    if (rc >= 0)
        return rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(argv[1], "put") == 0)
        rc = doc_put(&o);
    else if (strcmp(argv[1], "get") == 0)
        rc = doc_get(&o);
    else {
        fprintf(stderr, "resoctl: unknown sub-command 'doc %s'\n", argv[1]);
        doc_usage(stderr);
        rc = RESOCTL_EXIT_USAGE;
    }
    curl_global_cleanup();
    return rc;
}

int
resoctl_cmd_referral(int argc, char **argv)
{
    hlf_bytes_t result = {0};
    json_t *env = NULL;
    doc_opts_t o;
    char why[1024];
    int rc;

    if (argc < 2 || strcmp(argv[1], "show") != 0) {
        int help = argc >= 2 && is_help(argv[1]);

        doc_usage(help ? stdout : stderr);
        return help ? RESOCTL_EXIT_OK : RESOCTL_EXIT_USAGE;
    }
    rc = doc_parse(argc, argv, 2, &o);
    if (rc >= 0)
        return rc;
    if (reso_netenv_load(NULL, o.run_dir, o.env_file, &env, why,
                         sizeof(why)) != 0) {
        fprintf(stderr, "resoctl: %s\n", why);
        return RESOCTL_EXIT_PREREQ;
    }
    rc = reso_netenv_call(env, o.org, "client", 0, "GetReferral",
                          o.positional, &result);
    if (rc == RESOCTL_EXIT_OK)
        reso_netenv_print(&result);
    hlf_bytes_free(&result);
    json_decref(env);
    return rc;
}
