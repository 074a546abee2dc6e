/* SPDX-License-Identifier: Apache-2.0 */
/* Open a gateway to one organisation's peer from the network env JSON. */
#include "netenv.h"

#include "resoctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The env JSON is small; anything larger is not what we asked for. */
#define ENV_MAX_BYTES (1024 * 1024)

static int
fail(char *errbuf, size_t errlen, const char *fmt, const char *a,
     const char *b)
{
    snprintf(errbuf, errlen, fmt, a ? a : "", b ? b : "");
    return -1;
}

/* Single-quote s for /bin/sh; refuses strings holding a quote. */
static int
shell_quote(const char *s, char *out, size_t n)
{
    int rc;

    if (strchr(s, '\'') != NULL)
        return -1;
    rc = snprintf(out, n, "'%s'", s);
    return rc < 0 || (size_t)rc >= n ? -1 : 0;
}

int
reso_netenv_load(const char *resoctl, const char *run_dir,
                 const char *env_file, json_t **out, char *errbuf,
                 size_t errlen)
{
    char self[4096], qself[4200], qrun[4200], cmd[8600];
    json_error_t jerr;
    char *text = NULL;
    size_t len = 0, cap = 0;
    FILE *p;
    int st;

    *out = NULL;
    if (env_file != NULL) {
        *out = json_load_file(env_file, 0, &jerr);
        if (*out == NULL) {
            snprintf(errbuf, errlen, "%s: %s (line %d)", env_file,
                     jerr.text, jerr.line);
            return -1;
        }
        return 0;
    }
    if (resoctl == NULL) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n <= 0)
            return fail(errbuf, errlen, "cannot find my own executable%s%s",
                        NULL, NULL);
        self[n] = '\0';
        resoctl = self;
    }
    if (shell_quote(resoctl, qself, sizeof(qself)) != 0 ||
        (run_dir != NULL && shell_quote(run_dir, qrun, sizeof(qrun)) != 0))
        return fail(errbuf, errlen, "paths containing ' are not supported"
                    "%s%s", NULL, NULL);
    snprintf(cmd, sizeof(cmd), "%s network env --json%s%s", qself,
             run_dir ? " --run-dir " : "", run_dir ? qrun : "");
    p = popen(cmd, "r");
    if (p == NULL)
        return fail(errbuf, errlen, "cannot run resoctl network env: %s%s",
                    strerror(errno), NULL);
    for (;;) {
        size_t got;

        if (len == cap) {
            char *nb;

            if (cap >= ENV_MAX_BYTES) {
                free(text);
                pclose(p);
                return fail(errbuf, errlen, "network env output is too "
                            "large%s%s", NULL, NULL);
            }
            cap = cap ? cap * 2 : 8192;
            nb = realloc(text, cap);
            if (nb == NULL) {
                free(text);
                pclose(p);
                return fail(errbuf, errlen, "out of memory%s%s", NULL,
                            NULL);
            }
            text = nb;
        }
        got = fread(text + len, 1, cap - len, p);
        if (got == 0)
            break;
        len += got;
    }
    st = pclose(p);
    if (st != 0) {
        free(text);
        return fail(errbuf, errlen, "no running network found in %s "
                    "(start one with: resoctl network up%s)",
                    run_dir ? run_dir : "the default run directory",
                    run_dir ? " --run-dir <dir>" : "");
    }
    *out = json_loadb(text, len, 0, &jerr);
    free(text);
    if (*out == NULL)
        return fail(errbuf, errlen, "network env is not JSON: %s%s",
                    jerr.text, NULL);
    return 0;
}

static const char *
env_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

void
reso_netenv_close_org(reso_org_t *o)
{
    hlf_gateway_close(o->gw);
    hlf_conn_close(o->conn);
    hlf_identity_unref(o->id);
    memset(o, 0, sizeof(*o));
}

int
reso_netenv_open_org(json_t *env, const char *org, const char *user,
                     reso_org_t *o, char *errbuf, size_t errlen)
{
    json_t *orgs = json_object_get(env, "orgs");
    json_t *jorg = json_object_get(orgs, org);
    json_t *peer, *juser;
    const char *channel, *msp_id, *msp_dir, *addr, *ca;
    hlf_conn_opts_t co;
    hlf_gateway_opts_t go;
    hlf_error_t err;

    memset(o, 0, sizeof(*o));
    hlf_error_clear(&err);
    if (!json_is_object(jorg)) {
        char names[512] = "";
        size_t used = 0;
        const char *name;
        json_t *v;

        json_object_foreach(orgs, name, v) {
            int n = snprintf(names + used, sizeof(names) - used, "%s%s",
                             used ? ", " : "", name);

            if (n < 0 || (size_t)n >= sizeof(names) - used)
                break;
            used += (size_t)n;
        }
        return fail(errbuf, errlen, "no organisation \"%s\" in this "
                    "network (it has: %s)", org, names);
    }
    peer = json_object_get(jorg, "peer");
    juser = json_object_get(jorg, user);
    channel = env_str(env, "channel");
    o->chaincode = env_str(env, "chaincode");
    msp_id = env_str(jorg, "msp_id");
    msp_dir = env_str(juser, "msp_dir");
    addr = env_str(peer, "address");
    ca = env_str(peer, "tls_ca");
    if (!channel || !o->chaincode || !msp_id || !msp_dir || !addr || !ca)
        return fail(errbuf, errlen, "network env lacks channel, chaincode "
                    "or the %s %s identity/peer fields", org, user);
    if (hlf_identity_load_msp(msp_dir, msp_id, &o->id, &err) != HLF_OK) {
        snprintf(errbuf, errlen, "identity %s of %s: %s", user, org,
                 err.text);
        goto fail;
    }
    memset(&co, 0, sizeof(co));
    co.target = addr;
    co.tls_ca_file = ca;
    co.tls_server_name = env_str(peer, "host_override");
    if (hlf_conn_new(&co, &o->conn, &err) != HLF_OK) {
        snprintf(errbuf, errlen, "peer %s: %s", addr, err.text);
        goto fail;
    }
    memset(&go, 0, sizeof(go));
    go.conn = o->conn;
    go.identity = o->id;
    if (hlf_gateway_connect(&o->gw, &go, &err) != HLF_OK) {
        snprintf(errbuf, errlen, "gateway: %s", err.text);
        goto fail;
    }
    o->net = hlf_gateway_get_network(o->gw, channel);
    o->contract = o->net ? hlf_network_get_contract(o->net, o->chaincode,
                                                    NULL)
                         : NULL;
    if (o->contract == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto fail;
    }
    return 0;
fail:
    reso_netenv_close_org(o);
    return -1;
}

int
reso_netenv_report(const char *what, const hlf_error_t *err)
{
    if (err->code == HLF_ECHAINCODE && err->chaincode_message[0] != '\0') {
        /* The chaincode's JSON refusal, for scripts to parse. */
        fprintf(stderr, "%s\n", err->chaincode_message);
        return err->chaincode_status == 404 ? RESOCTL_EXIT_NOTFOUND
                                            : RESOCTL_EXIT_REJECTED;
    }
    fprintf(stderr, "resoctl: %s failed: %s", what, err->text);
    if (err->tx_id[0] != '\0')
        fprintf(stderr, " (txid %s)", err->tx_id);
    fputc('\n', stderr);
    return RESOCTL_EXIT_FAIL;
}

int
reso_netenv_call(json_t *env, const char *org, const char *user, int write,
                 const char *fn, const char *arg, hlf_bytes_t *res)
{
    hlf_bytes_t a = hlf_bytes_str(arg != NULL ? arg : "");
    reso_org_t o;
    hlf_error_t err;
    char why[1024];
    int rc;

    memset(&o, 0, sizeof(o));
    if (reso_netenv_open_org(env, org, user, &o, why, sizeof(why)) != 0) {
        fprintf(stderr, "resoctl: --org %s: %s\n", org, why);
        return RESOCTL_EXIT_FAIL;
    }
    hlf_error_clear(&err);
    rc = write ? hlf_contract_submit(o.contract, fn, &a, arg != NULL, res,
                                     &err)
               : hlf_contract_evaluate(o.contract, fn, &a, arg != NULL, res,
                                       &err);
    rc = rc == HLF_OK ? RESOCTL_EXIT_OK : reso_netenv_report(fn, &err);
    reso_netenv_close_org(&o);
    return rc;
}

void
reso_netenv_print(const hlf_bytes_t *res)
{
    json_t *v = json_loadb((const char *)res->data, res->len, 0, NULL);

    if (v != NULL)
        json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    else
        fwrite(res->data, 1, res->len, stdout);
    fputc('\n', stdout);
    json_decref(v);
}
