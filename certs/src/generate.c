/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reso-certs generator (see generate.h and docs/certs.md for the
 * layout). One org at a time: create its two CAs, write the org MSP, then
 * every node. Private keys exist in memory only while their files are
 * written; each key file is created 0600 and its PEM buffer wiped.
 */
#include "generate.h"

#include "fsutil.h"
#include "output.h"
#include "x509.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest CN or host: "User32@" + domain, with room to spare. */
#define NAME_LEN (CERTS_DOMAIN_MAX + 32)

/* SANs every TLS leaf gets before the --sans extras. */
#define BASE_SANS 4

/* What an org's nodes are and where their material goes. */
enum node_kind { NODE_ORDERER, NODE_PEER, NODE_ADMIN, NODE_CLIENT,
                 NODE_CCSERVER };

struct node_kind_info {
    const char *subdir; /* under the org directory */
    const char *ou;     /* NodeOU of the signcert; NULL: TLS material only */
    const char *tls;    /* base name of the TLS pair in tls/ */
};

static const struct node_kind_info kinds[] = {
    [NODE_ORDERER] = {"orderers", "orderer", "server"},
    [NODE_PEER] = {"peers", "peer", "server"},
    [NODE_ADMIN] = {"users", "admin", "client"},
    [NODE_CLIENT] = {"users", "client", "client"},
    [NODE_CCSERVER] = {"chaincode", NULL, "server"},
};

struct node {
    enum node_kind kind;
    char cn[NAME_LEN];   /* peer0.<domain>, Admin@<domain>, ... */
    char host[NAME_LEN]; /* peer0, Admin, ccserver, ... */
};

/* Everything shared by the nodes of one org. */
struct org_ctx {
    const struct certs_plan *plan;
    const struct certs_org *org;
    struct certs_validity validity;
    char dir[PATH_MAX];             /* root/<tree>/<domain> */
    char ca_file[NAME_LEN + 16];    /* ca.<domain>-cert.pem */
    char tlsca_file[NAME_LEN + 16]; /* tlsca.<domain>-cert.pem */
    struct certs_ca ca;
    struct certs_ca tlsca;
    char *ca_pem;
    size_t ca_pem_len;
    char *tlsca_pem;
    size_t tlsca_pem_len;
    char config_yaml[1024];
};

int
certs_config_yaml(const char *ca_file, char *buf, size_t size,
                  hlf_error_t *err)
{
    static const char *const roles[][2] = {
        {"Client", "client"},
        {"Peer", "peer"},
        {"Admin", "admin"},
        {"Orderer", "orderer"},
    };
    size_t used, i;
    int n;

    /* The same text cryptogen's YAML encoder produces. */
    n = snprintf(buf, size, "NodeOUs:\n  Enable: true\n");
    for (i = 0; n >= 0 && i < sizeof(roles) / sizeof(roles[0]); i++) {
        used = (size_t)n;
        if (used >= size)
            break;
        n = snprintf(buf + used, size - used,
                     "  %sOUIdentifier:\n"
                     "    Certificate: cacerts/%s\n"
                     "    OrganizationalUnitIdentifier: %s\n",
                     roles[i][0], ca_file, roles[i][1]);
        n = n < 0 ? n : n + (int)used;
    }
    if (n < 0 || (size_t)n >= size)
        return hlf_error_set(err, HLF_EINVAL, "config.yaml too long");
    return HLF_OK;
}

/*
 * Write data to <base>/<subdir>/<name> (<base>/<name> when subdir is
 * NULL) with mode, creating the directory first.
 */
static int
put_file(const char *base, const char *subdir, const char *name,
         const void *data, size_t len, mode_t mode, hlf_error_t *err)
{
    char dir[PATH_MAX], path[PATH_MAX];
    int rc;

    if (subdir != NULL)
        rc = certs_path_fmt(dir, sizeof(dir), err, "%s/%s", base, subdir);
    else
        rc = certs_path_fmt(dir, sizeof(dir), err, "%s", base);
    if (rc == HLF_OK)
        rc = certs_path_fmt(path, sizeof(path), err, "%s/%s", dir, name);
    if (rc == HLF_OK)
        rc = certs_mkdir_p(dir, err);
    if (rc == HLF_OK)
        rc = certs_write_file(path, data, len, mode, err);
    return rc;
}

static int
put_cert(const char *base, const char *subdir, const char *name, X509 *x,
         hlf_error_t *err)
{
    char *pem = NULL;
    size_t len = 0;
    int rc = certs_cert_pem(x, &pem, &len, err);

    if (rc == HLF_OK)
        rc = put_file(base, subdir, name, pem, len, CERTS_PUBLIC_MODE, err);
    free(pem);
    return rc;
}

static int
put_key(const char *base, const char *subdir, const char *name,
        EVP_PKEY *key, hlf_error_t *err)
{
    char *pem = NULL;
    size_t len = 0;
    int rc = certs_key_pem(key, &pem, &len, err);

    if (rc == HLF_OK)
        rc = put_file(base, subdir, name, pem, len, CERTS_SECRET_MODE, err);
    certs_secret_free(pem, len);
    return rc;
}

/*
 * cacerts/, tlscacerts/, an empty admincerts/ (NodeOUs make it unused;
 * cryptogen creates it too) and config.yaml of an MSP directory.
 */
static int
put_msp_common(const struct org_ctx *c, const char *msp, hlf_error_t *err)
{
    char admincerts[PATH_MAX];
    int rc;

    rc = put_file(msp, "cacerts", c->ca_file, c->ca_pem, c->ca_pem_len,
                  CERTS_PUBLIC_MODE, err);
    if (rc == HLF_OK)
        rc = put_file(msp, "tlscacerts", c->tlsca_file, c->tlsca_pem,
                      c->tlsca_pem_len, CERTS_PUBLIC_MODE, err);
    if (rc == HLF_OK)
        rc = put_file(msp, NULL, "config.yaml", c->config_yaml,
                      strlen(c->config_yaml), CERTS_PUBLIC_MODE, err);
    if (rc == HLF_OK)
        rc = certs_path_fmt(admincerts, sizeof(admincerts), err,
                            "%s/admincerts", msp);
    if (rc == HLF_OK)
        rc = certs_mkdir_p(admincerts, err);
    return rc;
}

/* Identity key and signcert of a node, in <node>/msp. */
static int
put_identity(const struct org_ctx *c, const struct node *n,
             const char *node_dir, hlf_error_t *err)
{
    char msp[PATH_MAX], signcert[NAME_LEN + 16];
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc;

    rc = certs_path_fmt(msp, sizeof(msp), err, "%s/msp", node_dir);
    if (rc == HLF_OK)
        rc = certs_path_fmt(signcert, sizeof(signcert), err, "%s-cert.pem",
                            n->cn);
    if (rc == HLF_OK)
        rc = certs_key_generate(&key, err);
    if (rc == HLF_OK)
        rc = certs_issue_identity(&cert, &c->ca, key, n->cn,
                                  kinds[n->kind].ou, &c->validity, err);
    if (rc == HLF_OK)
        rc = put_msp_common(c, msp, err);
    if (rc == HLF_OK)
        rc = put_cert(msp, "signcerts", signcert, cert, err);
    if (rc == HLF_OK)
        rc = put_key(msp, "keystore", "priv_sk", key, err);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

/*
 * The SAN list of a node: DNS:<cn>, DNS:<host>, DNS:localhost,
 * IP:127.0.0.1, then the --sans extras not already present.
 */
static size_t
node_sans(const struct org_ctx *c, const struct node *n,
          char buf[][CERTS_SAN_MAX], const char **sans)
{
    size_t count = 0, i, j;

    snprintf(buf[count++], CERTS_SAN_MAX, "DNS:%s", n->cn);
    snprintf(buf[count++], CERTS_SAN_MAX, "DNS:%s", n->host);
    snprintf(buf[count++], CERTS_SAN_MAX, "DNS:localhost");
    snprintf(buf[count++], CERTS_SAN_MAX, "IP:127.0.0.1");
    for (i = 0; i < c->plan->n_extra_sans; i++) {
        for (j = 0; j < count; j++)
            if (strcasecmp(buf[j], c->plan->extra_sans[i]) == 0)
                break;
        if (j == count)
            memcpy(buf[count++], c->plan->extra_sans[i], CERTS_SAN_MAX);
    }
    for (i = 0; i < count; i++)
        sans[i] = buf[i];
    return count;
}

/* TLS key and certificate of a node, in <node>/tls. */
static int
put_tls(const struct org_ctx *c, const struct node *n, const char *node_dir,
        hlf_error_t *err)
{
    char san_buf[BASE_SANS + CERTS_MAX_EXTRA_SANS][CERTS_SAN_MAX];
    const char *sans[BASE_SANS + CERTS_MAX_EXTRA_SANS];
    char crt[32], key_name[32];
    size_t n_sans = node_sans(c, n, san_buf, sans);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc;

    snprintf(crt, sizeof(crt), "%s.crt", kinds[n->kind].tls);
    snprintf(key_name, sizeof(key_name), "%s.key", kinds[n->kind].tls);
    rc = certs_key_generate(&key, err);
    if (rc == HLF_OK)
        rc = certs_issue_tls(&cert, &c->tlsca, key, n->cn, sans, n_sans,
                             &c->validity, err);
    if (rc == HLF_OK)
        rc = put_file(node_dir, "tls", "ca.crt", c->tlsca_pem,
                      c->tlsca_pem_len, CERTS_PUBLIC_MODE, err);
    if (rc == HLF_OK)
        rc = put_cert(node_dir, "tls", crt, cert, err);
    if (rc == HLF_OK)
        rc = put_key(node_dir, "tls", key_name, key, err);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

static int
put_node(const struct org_ctx *c, const struct node *n, hlf_error_t *err)
{
    char node_dir[PATH_MAX];
    int rc;

    rc = certs_path_fmt(node_dir, sizeof(node_dir), err, "%s/%s/%s", c->dir,
                        kinds[n->kind].subdir, n->cn);
    if (rc == HLF_OK && kinds[n->kind].ou != NULL)
        rc = put_identity(c, n, node_dir, err);
    if (rc == HLF_OK)
        rc = put_tls(c, n, node_dir, err);
    if (rc != HLF_OK)
        hlf_error_prefix(err, "%s", n->cn);
    return rc;
}

/* Create the CAs, their PEM texts and the org MSP. */
static int
setup_org(struct org_ctx *c, const char *root, const char *tree,
          hlf_error_t *err)
{
    char name[NAME_LEN], msp[PATH_MAX];
    const char *d = c->org->domain;
    int rc;

    rc = certs_path_fmt(c->dir, sizeof(c->dir), err, "%s/%s/%s", root, tree,
                        d);
    if (rc == HLF_OK)
        rc = certs_path_fmt(c->ca_file, sizeof(c->ca_file), err,
                            "ca.%s-cert.pem", d);
    if (rc == HLF_OK)
        rc = certs_path_fmt(c->tlsca_file, sizeof(c->tlsca_file), err,
                            "tlsca.%s-cert.pem", d);
    if (rc == HLF_OK)
        rc = certs_config_yaml(c->ca_file, c->config_yaml,
                               sizeof(c->config_yaml), err);
    if (rc == HLF_OK)
        rc = certs_path_fmt(name, sizeof(name), err, "ca.%s", d);
    if (rc == HLF_OK)
        rc = certs_ca_init(&c->ca, name, d, &c->validity, err);
    if (rc == HLF_OK)
        rc = certs_path_fmt(name, sizeof(name), err, "tlsca.%s", d);
    if (rc == HLF_OK)
        rc = certs_ca_init(&c->tlsca, name, d, &c->validity, err);
    if (rc == HLF_OK)
        rc = certs_cert_pem(c->ca.cert, &c->ca_pem, &c->ca_pem_len, err);
    if (rc == HLF_OK)
        rc = certs_cert_pem(c->tlsca.cert, &c->tlsca_pem,
                            &c->tlsca_pem_len, err);
    if (rc == HLF_OK)
        rc = put_file(c->dir, "ca", c->ca_file, c->ca_pem, c->ca_pem_len,
                      CERTS_PUBLIC_MODE, err);
    if (rc == HLF_OK)
        rc = put_key(c->dir, "ca", "priv_sk", c->ca.key, err);
    if (rc == HLF_OK)
        rc = put_file(c->dir, "tlsca", c->tlsca_file, c->tlsca_pem,
                      c->tlsca_pem_len, CERTS_PUBLIC_MODE, err);
    if (rc == HLF_OK)
        rc = put_key(c->dir, "tlsca", "priv_sk", c->tlsca.key, err);
    if (rc == HLF_OK)
        rc = certs_path_fmt(msp, sizeof(msp), err, "%s/msp", c->dir);
    if (rc == HLF_OK)
        rc = put_msp_common(c, msp, err);
    return rc;
}

static void
dispose_org(struct org_ctx *c)
{
    certs_ca_dispose(&c->ca);
    certs_ca_dispose(&c->tlsca);
    free(c->ca_pem);
    free(c->tlsca_pem);
    c->ca_pem = NULL;
    c->tlsca_pem = NULL;
}

/*
 * A run of nodes of one kind: hosts <prefix><first> .. <prefix><first +
 * count - 1> when numbered, a single host <prefix> otherwise.
 */
struct node_group {
    enum node_kind kind;
    const char *prefix;
    int numbered;
    long first;
    long count;
};

/* Generate the nodes of g; their CN is <host>.<domain> or <host>@<domain>. */
static int
put_group(const struct org_ctx *c, const struct node_group *g,
          hlf_error_t *err)
{
    int is_user = g->kind == NODE_ADMIN || g->kind == NODE_CLIENT;
    struct node n;
    long i;
    int rc = HLF_OK;

    n.kind = g->kind;
    for (i = g->first; rc == HLF_OK && i < g->first + g->count; i++) {
        if (g->numbered)
            rc = certs_path_fmt(n.host, sizeof(n.host), err, "%s%ld",
                                g->prefix, i);
        else
            rc = certs_path_fmt(n.host, sizeof(n.host), err, "%s",
                                g->prefix);
        if (rc == HLF_OK)
            rc = certs_path_fmt(n.cn, sizeof(n.cn), err, "%s%c%s", n.host,
                                is_user ? '@' : '.', c->org->domain);
        if (rc == HLF_OK)
            rc = put_node(c, &n, err);
    }
    return rc;
}

/*
 * The nodes of an org. Orderer org: orderer0 and Admin. Member org:
 * peer0.., Admin, User1.. and the chaincode server ccserver.
 */
static int
put_nodes(const struct org_ctx *c, int is_orderer, hlf_error_t *err)
{
    const struct node_group orderer[] = {
        {NODE_ORDERER, "orderer", 1, 0, 1},
        {NODE_ADMIN, "Admin", 0, 0, 1},
    };
    const struct node_group member[] = {
        {NODE_PEER, "peer", 1, 0, c->plan->peers},
        {NODE_ADMIN, "Admin", 0, 0, 1},
        {NODE_CLIENT, "User", 1, 1, c->plan->users},
        {NODE_CCSERVER, "ccserver", 0, 0, 1},
    };
    const struct node_group *g = is_orderer ? orderer : member;
    size_t i, n = is_orderer ? sizeof(orderer) / sizeof(orderer[0])
                             : sizeof(member) / sizeof(member[0]);
    int rc = HLF_OK;

    for (i = 0; rc == HLF_OK && i < n; i++)
        rc = put_group(c, &g[i], err);
    return rc;
}

static int
generate_org(const struct certs_plan *p, const struct certs_org *org,
             int is_orderer, const char *root, FILE *progress,
             hlf_error_t *err)
{
    struct org_ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.plan = p;
    c.org = org;
    c.validity.not_before = p->now;
    c.validity.days = p->days;
    rc = setup_org(&c, root, is_orderer ? CERTS_ORDERER_TREE
                                        : CERTS_PEER_TREE, err);
    if (rc == HLF_OK)
        rc = put_nodes(&c, is_orderer, err);
    dispose_org(&c);
    if (rc != HLF_OK) {
        hlf_error_prefix(err, "org %s", org->name);
        return rc;
    }
    if (progress == NULL)
        return HLF_OK;
    if (is_orderer)
        fprintf(progress, "reso-certs: %s (%s, %s): CAs, org MSP, "
                "orderer0, Admin\n", org->name, org->msp_id, org->domain);
    else
        fprintf(progress, "reso-certs: %s (%s, %s): CAs, org MSP, "
                "%ld peer(s), Admin, %ld user(s), chaincode server\n",
                org->name, org->msp_id, org->domain, p->peers, p->users);
    fflush(progress);
    return HLF_OK;
}

int
certs_generate(const struct certs_plan *p, const char *root, FILE *progress,
               hlf_error_t *err)
{
    size_t i;
    int rc;

    rc = generate_org(p, &p->orderer, 1, root, progress, err);
    for (i = 0; rc == HLF_OK && i < p->n_members; i++)
        rc = generate_org(p, &p->members[i], 0, root, progress, err);
    return rc;
}
