/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resoctl catalog: the channel's lookup catalog and its governance.
 *
 *   resoctl catalog show [--profiles]      the active profile (+ the list
 *                                          of profiles, members), or every
 *                                          profile document
 *   resoctl catalog propose FILE|-         an admin proposes a change
 *   resoctl catalog approve ID             an admin approves a proposal
 *   resoctl catalog proposal ID            read a proposal
 *   resoctl catalog activate VERSION       the whole flow on a local
 *                                          network: propose as --org's
 *                                          admin, then approve with the
 *                                          admins of the member orgs in
 *                                          the network env until the
 *                                          change is effective
 *   resoctl catalog binding strict|open    the same flow for the
 *                                          Recorder binding setting
 *
 * Changes are signed by the org's admin identity (the chaincode refuses
 * anyone else with NOT_ADMIN), look-ups by its client identity. Results
 * are JSON on stdout; a rejection prints the chaincode's {"error":{...}}
 * on stderr and exits RESOCTL_EXIT_REJECTED (RESOCTL_EXIT_NOTFOUND for
 * 404).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlf/gateway.h"

#include "netenv.h"
#include "resoctl.h"

/* Largest change document read from a file or stdin. */
#define CHANGE_MAX_BYTES (64 * 1024)

typedef struct {
    const char *run_dir, *env_file, *org, *user;
    const char *positional;
    int profiles;
} copts_t;

static void
catalog_usage(FILE *out)
{
    fputs("usage: resoctl catalog show [--profiles] [options]\n"
          "       resoctl catalog propose FILE|- [options]\n"
          "       resoctl catalog approve ID | proposal ID [options]\n"
          "       resoctl catalog activate VERSION [options]\n"
          "       resoctl catalog binding strict|open [options]\n"
          "activate and binding run the whole flow on a local network:\n"
          "propose as --org's admin, approve with the other orgs' admins\n"
          "a change is one JSON object:\n"
          "  {\"Kind\":\"ActivateProfile\",\"Version\":\"1.5-ext\"}\n"
          "  {\"Kind\":\"AddProfile\",\"Profile\":{...profile document...}}\n"
          "  {\"Kind\":\"AddValues\",\"Base\":\"1.5-ext\",\"Version\":"
          "\"1.5-ext.1\",\n"
          "   \"Values\":{\"Event\":[\"...\"]}}\n"
          "  {\"Kind\":\"SetMembers\",\"Members\":[\"AssociationMSP\",...]}\n"
          "  {\"Kind\":\"SetRecorderBinding\",\"Mode\":\"open\"}\n"
          "options:\n"
          "  --org ORG        Brokerage (default), Association or MLS\n"
          "  --user ROLE      client or admin (default: admin for changes,\n"
          "                   client for look-ups)\n"
          "  --run-dir DIR    the network's run directory\n"
          "  --env FILE       a saved `resoctl network env --json` output\n",
          out);
}

static int
catalog_opts(int argc, char **argv, copts_t *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->org = "Brokerage";
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            catalog_usage(stdout);
            return RESOCTL_EXIT_OK;
        }
        if (strcmp(a, "--profiles") == 0) {
            o->profiles = 1;
            continue;
        }
        if (strcmp(a, "--org") == 0)
            slot = &o->org;
        else if (strcmp(a, "--user") == 0)
            slot = &o->user;
        else if (strcmp(a, "--run-dir") == 0)
            slot = &o->run_dir;
        else if (strcmp(a, "--env") == 0)
            slot = &o->env_file;
        if (slot != NULL) {
            if (v == NULL) {
                fprintf(stderr, "resoctl: %s needs a value\n", a);
                return RESOCTL_EXIT_USAGE;
            }
            *slot = v;
            i++;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "resoctl: unknown option %s\n", a);
            catalog_usage(stderr);
            return RESOCTL_EXIT_USAGE;
        }
        if (o->positional != NULL) {
            fprintf(stderr, "resoctl: unexpected argument \"%s\"\n", a);
            return RESOCTL_EXIT_USAGE;
        }
        o->positional = a;
    }
    if (o->user != NULL && strcmp(o->user, "client") != 0 &&
        strcmp(o->user, "admin") != 0) {
        fprintf(stderr, "resoctl: --user \"%s\": expected client or admin\n",
                o->user);
        return RESOCTL_EXIT_USAGE;
    }
    return -1;
}

/*
 * One call of fn (with arg, or none when arg is NULL) as org's user:
 * submit when write, else evaluate. On success *out is the parsed answer
 * (new) and the result RESOCTL_EXIT_OK; otherwise the error is printed
 * and an exit status returned.
 */
static int
catalog_call(json_t *env, const char *org, const char *user, int write,
             const char *fn, const char *arg, json_t **out)
{
    hlf_bytes_t res = {0};
    int rc;

    *out = NULL;
    rc = reso_netenv_call(env, org, user, write, fn, arg, &res);
    if (rc == RESOCTL_EXIT_OK) {
        *out = json_loadb((const char *)res.data, res.len, 0, NULL);
        rc = *out != NULL ? RESOCTL_EXIT_OK : RESOCTL_EXIT_FAIL;
        if (*out == NULL)
            fprintf(stderr, "resoctl: %s answered something not JSON\n", fn);
    }
    hlf_bytes_free(&res);
    return rc;
}

static void
print_json(const json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
}

/* The whole of FILE or stdin ("-"), at most CHANGE_MAX_BYTES; malloc'd. */
static char *
read_change(const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf;
    size_t n = 0;

    if (fp == NULL) {
        fprintf(stderr, "resoctl: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    buf = malloc(CHANGE_MAX_BYTES + 1);
    if (buf != NULL)
        n = fread(buf, 1, CHANGE_MAX_BYTES + 1, fp);
    if (buf != NULL && (ferror(fp) || n > CHANGE_MAX_BYTES)) {
        fprintf(stderr, "resoctl: %s: %s\n", path,
                ferror(fp) ? "read error" : "larger than 64 KiB");
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
 * activate and binding: propose {"Kind": kind, field: o->positional} as
 * o->org's admin, then approve with the admins of every org of the env
 * (proposer included) until the proposal is Effective. When GetCatalog's
 * member shown already equals o->positional, prints the catalog instead.
 */
static int
govern(json_t *env, const copts_t *o, const char *kind, const char *field,
       const char *shown)
{
    json_t *cat = NULL, *prop = NULL, *change, *orgs, *v;
    const char *key, *status, *now;
    char *text, id[64];
    int rc;

    rc = catalog_call(env, o->org, "client", 0, "GetCatalog", NULL, &cat);
    if (rc != RESOCTL_EXIT_OK)
        return rc;
    now = json_string_value(json_object_get(cat, shown));
    if (now != NULL && strcmp(now, o->positional) == 0) {
        fprintf(stderr, "resoctl: the catalog's %s is %s already; "
                        "nothing to propose\n",
                shown, now);
        print_json(cat);
        json_decref(cat);
        return RESOCTL_EXIT_OK;
    }
    json_decref(cat);
    change = json_pack("{s:s, s:s}", "Kind", kind, field, o->positional);
    text = json_dumps(change, JSON_COMPACT);
    json_decref(change);
    if (text == NULL)
        return RESOCTL_EXIT_FAIL;
    rc = catalog_call(env, o->org, "admin", 1, "ProposeCatalogChange", text,
                      &prop);
    free(text);
    if (rc != RESOCTL_EXIT_OK)
        return rc;
    snprintf(id, sizeof(id), "%s",
             json_string_value(json_object_get(prop, "Id")));
    fprintf(stderr, "resoctl: proposal %s by %s\n", id, o->org);
    orgs = json_object_get(env, "orgs");
    json_object_foreach(orgs, key, v) {
        status = json_string_value(json_object_get(prop, "Status"));
        if (status != NULL && strcmp(status, "Effective") == 0)
            break;
        json_decref(prop);
        rc = catalog_call(env, key, "admin", 1, "ApproveCatalogChange", id,
                          &prop);
        if (rc != RESOCTL_EXIT_OK)
            return rc;
        fprintf(stderr, "resoctl: approved by %s: %s\n", key,
                json_string_value(json_object_get(prop, "Status")));
    }
    status = json_string_value(json_object_get(prop, "Status"));
    rc = status != NULL && strcmp(status, "Effective") == 0
             ? RESOCTL_EXIT_OK
             : RESOCTL_EXIT_FAIL;
    if (rc != RESOCTL_EXIT_OK)
        fprintf(stderr, "resoctl: the network's orgs are not a majority of "
                        "the catalog members; proposal %s stays pending\n",
                id);
    print_json(prop);
    json_decref(prop);
    return rc;
}

int
resoctl_cmd_catalog(int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : NULL;
    json_t *env = NULL, *out = NULL;
    char why[1024], *text = NULL;
    copts_t o;
    int rc;

    if (sub == NULL) {
        catalog_usage(stderr);
        return RESOCTL_EXIT_USAGE;
    }
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        catalog_usage(stdout);
        return RESOCTL_EXIT_OK;
    }
    rc = catalog_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (strcmp(sub, "show") != 0 && strcmp(sub, "propose") != 0 &&
        strcmp(sub, "approve") != 0 && strcmp(sub, "proposal") != 0 &&
        strcmp(sub, "activate") != 0 && strcmp(sub, "binding") != 0) {
        fprintf(stderr, "resoctl: unknown catalog command \"%s\"\n", sub);
        catalog_usage(stderr);
        return RESOCTL_EXIT_USAGE;
    }
    if ((strcmp(sub, "show") == 0) != (o.positional == NULL)) {
        fprintf(stderr, "resoctl: catalog %s %s\n", sub,
                o.positional == NULL ? "needs an argument"
                                     : "takes no argument");
        return RESOCTL_EXIT_USAGE;
    }
    if (reso_netenv_load(NULL, o.run_dir, o.env_file, &env, why,
                         sizeof(why)) != 0) {
        fprintf(stderr, "resoctl: %s\n", why);
        return RESOCTL_EXIT_PREREQ;
    }
    if (strcmp(sub, "show") == 0) {
        rc = catalog_call(env, o.org, o.user ? o.user : "client", 0,
                          o.profiles ? "GetProfiles" : "GetCatalog", NULL,
                          &out);
    } else if (strcmp(sub, "proposal") == 0) {
        rc = catalog_call(env, o.org, o.user ? o.user : "client", 0,
                          "GetProposal", o.positional, &out);
    } else if (strcmp(sub, "approve") == 0) {
        rc = catalog_call(env, o.org, o.user ? o.user : "admin", 1,
                          "ApproveCatalogChange", o.positional, &out);
    } else if (strcmp(sub, "propose") == 0) {
        text = read_change(o.positional);
        rc = text == NULL ? RESOCTL_EXIT_FAIL
                          : catalog_call(env, o.org,
                                         o.user ? o.user : "admin", 1,
                                         "ProposeCatalogChange", text, &out);
    } else if (strcmp(sub, "activate") == 0) {
        rc = govern(env, &o, "ActivateProfile", "Version", "Version");
    } else {
        rc = govern(env, &o, "SetRecorderBinding", "Mode",
                    "RecorderBinding");
    }
    if (out != NULL)
        print_json(out);
    json_decref(out);
    free(text);
    json_decref(env);
    return rc;
}
