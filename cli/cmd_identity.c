/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resoctl's identity commands: the Registry of Recorders and the did:reso
 * DID registry on the ledger, and offline UPI helpers.
 *
 *   resoctl recorder register ID [--client FP|ID]... [--org-did DID]
 *   resoctl recorder show ID        resoctl recorder revoke ID
 *   resoctl did create FILE|-       resoctl did update FILE|-
 *   resoctl did resolve DID         resoctl did deactivate DID
 *   resoctl upi build --country C --subdivision S --parcel P [--sub X]
 *                     [--version V] [--hashed]
 *   resoctl upi convert DASH-UPI [--hashed]
 *   resoctl upi hash URN            resoctl upi parse UPI
 *
 * Changes (register, revoke, create, update, deactivate) are signed by the
 * org's admin identity by default, as the chaincode requires; look-ups by
 * its client identity. Results are JSON on stdout; a chaincode rejection
 * prints its {"error":{...}} object on stderr and exits
 * RESOCTL_EXIT_REJECTED (RESOCTL_EXIT_NOTFOUND for 404).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evl.h"
#include "hlf/gateway.h"

#include "netenv.h"
#include "resoctl.h"

/* Largest DID document read from a file or stdin. */
#define DOC_MAX_BYTES (64 * 1024)
#define MAX_CLIENTS 16

typedef struct {
    const char *run_dir, *env_file, *org, *user;
    const char *positional;
    const char *clients[MAX_CLIENTS];
    size_t nclients;
    const char *org_did;
    const char *country, *subdivision, *parcel, *sub, *version;
    int hashed;
} opts_t;

static void
usage(FILE *out)
{
    fputs("usage: resoctl recorder register ID [--client sha256:HEX|"
          "x509::SUBJECT::ISSUER]...\n"
          "                                  [--org-did DID] [options]\n"
          "       resoctl recorder show ID | revoke ID [options]\n"
          "       resoctl did create FILE|- | update FILE|- [options]\n"
          "       resoctl did resolve DID | deactivate DID [options]\n"
          "       resoctl upi build --country CC --subdivision S --parcel P "
          "[--sub X]\n"
          "                         [--version 2.0] [--hashed]\n"
          "       resoctl upi convert DASH-UPI [--hashed]\n"
          "       resoctl upi hash URN | parse UPI\n"
          "options:\n"
          "  --org ORG        Brokerage (default), Association or MLS\n"
          "  --user ROLE      client or admin (default: admin for changes,\n"
          "                   client for look-ups)\n"
          "  --run-dir DIR    the network's run directory\n"
          "  --env FILE       a saved `resoctl network env --json` output\n",
          out);
}

/* Options after the sub-command; an exit status, or -1 to go on. */
static int
parse_opts(int argc, char **argv, int first, opts_t *o)
{
    static const char *const valued[] = {
        "--org",     "--user",        "--run-dir", "--env",
        "--client",  "--org-did",     "--country", "--subdivision",
        "--parcel",  "--sub",         "--version", NULL};
    int i;
    size_t k;

    memset(o, 0, sizeof(*o));
    o->org = "Brokerage";
    o->version = "2.0";
    for (i = first; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return RESOCTL_EXIT_OK;
        }
        if (strcmp(a, "--hashed") == 0) {
            o->hashed = 1;
            continue;
        }
        for (k = 0; valued[k] != NULL && strcmp(valued[k], a) != 0; k++)
            ;
        if (valued[k] != NULL) {
            if (v == NULL) {
                fprintf(stderr, "resoctl: %s needs a value\n", a);
                return RESOCTL_EXIT_USAGE;
            }
            i++;
            if (strcmp(a, "--client") == 0) {
                if (o->nclients == MAX_CLIENTS) {
                    fprintf(stderr, "resoctl: at most %d --client\n",
                            MAX_CLIENTS);
                    return RESOCTL_EXIT_USAGE;
                }
                o->clients[o->nclients++] = v;
            } else if (strcmp(a, "--user") == 0 && strcmp(v, "client") != 0 &&
                       strcmp(v, "admin") != 0) {
                fprintf(stderr, "resoctl: --user \"%s\": expected client or "
                        "admin\n", v);
                return RESOCTL_EXIT_USAGE;
            } else {
                const char **slot[] = {&o->org,         &o->user,
                                       &o->run_dir,     &o->env_file,
                                       NULL,            &o->org_did,
                                       &o->country,     &o->subdivision,
                                       &o->parcel,      &o->sub,
                                       &o->version};

                *slot[k] = v;
            }
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "resoctl: unknown option %s\n", a);
            usage(stderr);
            return RESOCTL_EXIT_USAGE;
        }
        if (o->positional != NULL) {
            fprintf(stderr, "resoctl: unexpected argument \"%s\"\n", a);
            return RESOCTL_EXIT_USAGE;
        }
        o->positional = a;
    }
    return -1;
}

/* The whole of FILE or stdin ("-"), at most DOC_MAX_BYTES; malloc'd. */
static char *
slurp(const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf;
    size_t n;

    if (fp == NULL) {
        fprintf(stderr, "resoctl: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    buf = malloc(DOC_MAX_BYTES + 1);
    n = buf != NULL ? fread(buf, 1, DOC_MAX_BYTES + 1, fp) : 0;
    if (buf != NULL && (ferror(fp) || n > DOC_MAX_BYTES)) {
        fprintf(stderr, "resoctl: %s: %s\n", path,
                ferror(fp) ? strerror(errno) : "larger than 64 KiB");
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        buf[n] = '\0';
    if (fp != stdin)
        fclose(fp);
    return buf;
}

/*
 * Run fn(arg) on the ledger as o->org's o->user (default_user when not
 * given): submit when write is 1, else evaluate. Prints the JSON result.
 */
static int
ledger_call(const opts_t *o, const char *default_user, int write,
            const char *fn, const char *arg)
{
    hlf_bytes_t res = {0};
    json_t *env = NULL;
    char why[1024];
    int rc;

    if (reso_netenv_load(NULL, o->run_dir, o->env_file, &env, why,
                         sizeof(why)) != 0) {
        fprintf(stderr, "resoctl: %s\n", why);
        return RESOCTL_EXIT_PREREQ;
    }
    rc = reso_netenv_call(env, o->org,
                          o->user != NULL ? o->user : default_user, write,
                          fn, arg, &res);
    if (rc == RESOCTL_EXIT_OK)
        reso_netenv_print(&res);
    hlf_bytes_free(&res);
    json_decref(env);
    return rc;
}

/* The sub-command name, or NULL after printing usage. */
static const char *
subcommand(int argc, char **argv, int *rc)
{
    *rc = RESOCTL_EXIT_USAGE;
    if (argc < 2) {
        usage(stderr);
        return NULL;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        *rc = RESOCTL_EXIT_OK;
        return NULL;
    }
    return argv[1];
}

static int
need_positional(const opts_t *o, const char *what)
{
    if (o->positional == NULL || o->positional[0] == '\0') {
        fprintf(stderr, "resoctl: %s is required\n", what);
        return RESOCTL_EXIT_USAGE;
    }
    return -1;
}

int
resoctl_cmd_recorder(int argc, char **argv)
{
    int rc0;
    const char *sub = subcommand(argc, argv, &rc0);
    json_t *doc, *clients;
    char *text;
    opts_t o;
    size_t i;
    int rc;

    if (sub == NULL)
        return rc0;
    rc = parse_opts(argc, argv, 2, &o);
    if (rc < 0)
        rc = need_positional(&o, "a Recorder id");
    if (rc >= 0)
        return rc;
    if (strcmp(sub, "show") == 0)
        return ledger_call(&o, "client", 0, "GetRecorder", o.positional);
    if (strcmp(sub, "revoke") == 0)
        return ledger_call(&o, "admin", 1, "RevokeRecorder", o.positional);
    if (strcmp(sub, "register") != 0) {
        fprintf(stderr, "resoctl: recorder %s: expected register, show or "
                "revoke\n", sub);
        return RESOCTL_EXIT_USAGE;
    }
    clients = json_array();
    for (i = 0; clients != NULL && i < o.nclients; i++)
        json_array_append_new(clients, json_string(o.clients[i]));
    doc = json_pack("{s:s,s:o}", "Recorder", o.positional, "AllowedClients",
                    clients);
    if (doc != NULL && o.org_did != NULL)
        json_object_set_new(doc, "OrgDID", json_string(o.org_did));
    text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL) {
        fprintf(stderr, "resoctl: out of memory\n");
        return RESOCTL_EXIT_FAIL;
    }
    rc = ledger_call(&o, "admin", 1, "RegisterRecorder", text);
    free(text);
    return rc;
}

int
resoctl_cmd_did(int argc, char **argv)
{
    int rc0;
    const char *sub = subcommand(argc, argv, &rc0);
    char *text;
    opts_t o;
    int rc;

    if (sub == NULL)
        return rc0;
    rc = parse_opts(argc, argv, 2, &o);
    if (rc < 0)
        rc = need_positional(&o, strcmp(sub, "create") == 0 ||
                                         strcmp(sub, "update") == 0
                                     ? "FILE or - (stdin)"
                                     : "a DID");
    if (rc >= 0)
        return rc;
    if (strcmp(sub, "resolve") == 0)
        return ledger_call(&o, "client", 0, "ResolveDID", o.positional);
    if (strcmp(sub, "deactivate") == 0)
        return ledger_call(&o, "admin", 1, "DeactivateDID", o.positional);
    if (strcmp(sub, "create") != 0 && strcmp(sub, "update") != 0) {
        fprintf(stderr, "resoctl: did %s: expected create, resolve, update "
                "or deactivate\n", sub);
        return RESOCTL_EXIT_USAGE;
    }
    text = slurp(o.positional);
    if (text == NULL)
        return RESOCTL_EXIT_FAIL;
    rc = ledger_call(&o, "admin", 1,
                     strcmp(sub, "create") == 0 ? "CreateDID" : "UpdateDID",
                     text);
    free(text);
    return rc;
}

/* Print {"upi": text} plus the hashed form when asked (or given). */
static int
print_upi(const char *text, int hashed)
{
    char hash[EVL_UPI_SIZE], why[256];
    json_t *out;

    out = json_pack("{s:s}", "upi", text);
    if (out == NULL)
        return RESOCTL_EXIT_FAIL;
    if (hashed) {
        if (evl_upi_hash_urn(text, hash, sizeof(hash), why, sizeof(why)) !=
            HLF_OK) {
            fprintf(stderr, "resoctl: %s\n", why);
            json_decref(out);
            return RESOCTL_EXIT_REJECTED;
        }
        json_object_set_new(out, "hashed", json_string(hash));
    }
    json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(out);
    return RESOCTL_EXIT_OK;
}

static int
upi_parse_cmd(const char *text)
{
    char why[256];
    evl_upi_t u;
    json_t *out;

    if (evl_upi_parse(text, &u, why, sizeof(why)) != HLF_OK) {
        fprintf(stderr, "resoctl: not a UPI: %s\n", why);
        return RESOCTL_EXIT_REJECTED;
    }
    if (u.hashed)
        out = json_pack("{s:s,s:s,s:s}", "form", "urn-hashed", "version",
                        u.version, "sha3-256", u.hash);
    else if (u.urn)
        out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?}", "form", "urn",
                        "version", u.version, "country", u.country,
                        "subdivision", u.subdivision, "parcel", u.parcel,
                        "sub", u.sub[0] != '\0' ? u.sub : NULL);
    else
        out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "form", "dash",
                        "country", u.country, "subCountry", u.subdivision,
                        "subCounty", u.subcounty, "parcelId", u.parcel,
                        "propertyCode", u.property_code, "subProperty",
                        u.sub);
    if (out == NULL)
        return RESOCTL_EXIT_FAIL;
    json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(out);
    return RESOCTL_EXIT_OK;
}

int
resoctl_cmd_upi(int argc, char **argv)
{
    int rc0;
    const char *sub = subcommand(argc, argv, &rc0);
    char urn[EVL_UPI_SIZE], why[256];
    opts_t o;
    int rc;

    if (sub == NULL)
        return rc0;
    rc = parse_opts(argc, argv, 2, &o);
    if (rc >= 0)
        return rc;
    if (strcmp(sub, "build") == 0) {
        if (o.country == NULL || o.subdivision == NULL || o.parcel == NULL) {
            fprintf(stderr, "resoctl: upi build needs --country, "
                    "--subdivision and --parcel\n");
            return RESOCTL_EXIT_USAGE;
        }
        if (evl_upi_build_urn(o.version, o.country, o.subdivision, o.parcel,
                              o.sub, urn, sizeof(urn), why,
                              sizeof(why)) != HLF_OK) {
            fprintf(stderr, "resoctl: %s\n", why);
            return RESOCTL_EXIT_REJECTED;
        }
        return print_upi(urn, o.hashed);
    }
    rc = need_positional(&o, "a UPI");
    if (rc >= 0)
        return rc;
    if (strcmp(sub, "parse") == 0)
        return upi_parse_cmd(o.positional);
    if (strcmp(sub, "hash") == 0)
        return print_upi(o.positional, 1);
    if (strcmp(sub, "convert") == 0) {
        if (evl_upi_dash_to_urn(o.positional, urn, sizeof(urn), why,
                                sizeof(why)) != HLF_OK) {
            fprintf(stderr, "resoctl: %s\n", why);
            return RESOCTL_EXIT_REJECTED;
        }
        return print_upi(urn, o.hashed);
    }
    fprintf(stderr, "resoctl: upi %s: expected build, convert, hash or "
            "parse\n", sub);
    return RESOCTL_EXIT_USAGE;
}
