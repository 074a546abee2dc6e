/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the built reso-certs binary: the complete default tree checked
 * file by file against layout.md and the certificate profiles, custom
 * topologies, the --force rules, exit codes and exact messages.
 */
#include "check.h"

#include "task.h"

#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXTRA 8

/* What one org of a run should look like on disk. */
struct want_org {
    const char *name;
    const char *msp;
    const char *domain;
    int orderer;
    long peers;
    long users;
};

/* Settings shared by all orgs of a run. */
struct want_run {
    const char *crypto;
    long days;
    const char *extra[MAX_EXTRA]; /* canonical extra SANs */
    size_t n_extra;
    time_t t0, t1;                /* the run happened within [t0, t1] */
};

/* The trust anchors and their PEM text, per org. */
struct org_cas {
    X509 *ca;
    X509 *tlsca;
    char *ca_pem;
    char *tlsca_pem;
};

static char *
fmt(const char *f, const char *a, const char *b)
{
    char *p = malloc(PATH_MAX);

    ASSERT_NOT_NULL(p);
    snprintf(p, PATH_MAX, f, a, b);
    return p;
}

/* The file at path has exactly the text want. */
static void
same_text(const char *path, const char *want)
{
    char *got = check_read(path, NULL);

    ASSERT_STR_EQ(got, want);
    free(got);
}

static void
listing_is(const char *dir, const char *want)
{
    char *got = check_list(dir);

    ASSERT_STR_EQ(got, want);
    free(got);
}

/* notBefore is the run's clock minus five minutes. */
static void
check_time(X509 *x, const struct want_run *r)
{
    ASSERT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), r->t0 - 301), 1);
    ASSERT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), r->t1 - 299),
              -1);
}

/* An MSP directory's shared part: cacerts, tlscacerts, config.yaml. */
static void
check_msp_common(const char *msp, const struct want_org *o,
                 const struct org_cas *c, int local)
{
    char *p, *ca_file = fmt("ca.%s-cert.pem", o->domain, NULL);

    listing_is(msp, local ? "admincerts,cacerts,config.yaml,keystore,"
                            "signcerts,tlscacerts"
                          : "admincerts,cacerts,config.yaml,tlscacerts");
    p = fmt("%s/admincerts", msp, NULL);
    listing_is(p, "");
    free(p);
    p = fmt("%s/cacerts", msp, NULL);
    listing_is(p, ca_file);
    free(p);
    p = fmt("%s/cacerts/ca.%s-cert.pem", msp, o->domain);
    same_text(p, c->ca_pem);
    free(p);
    p = fmt("%s/tlscacerts/tlsca.%s-cert.pem", msp, o->domain);
    same_text(p, c->tlsca_pem);
    free(p);
    p = fmt("%s/config.yaml", msp, NULL);
    check_config_yaml(p, ca_file);
    free(p);
    free(ca_file);
}

/* One node: <org>/<sub>/<cn>/{msp,tls} (ou NULL: tls only). */
static void
check_node(const char *org_dir, const char *sub, const char *cn,
           const char *host, const char *ou, const char *tls,
           const struct want_org *o, const struct org_cas *c,
           const struct want_run *r)
{
    const char *sans[4 + MAX_EXTRA] = {NULL};
    char *node = malloc(PATH_MAX), *p, *q, *dns_cn, *dns_host;
    X509 *x;
    size_t i;

    ASSERT_NOT_NULL(node);
    snprintf(node, PATH_MAX, "%s/%s/%s", org_dir, sub, cn);
    listing_is(node, ou != NULL ? "msp,tls" : "tls");
    if (ou != NULL) {
        p = fmt("%s/msp", node, NULL);
        check_msp_common(p, o, c, 1);
        free(p);
        p = fmt("%s/msp/signcerts", node, NULL);
        q = fmt("%s-cert.pem", cn, NULL);
        listing_is(p, q);
        free(q);
        free(p);
        p = fmt("%s/msp/keystore", node, NULL);
        listing_is(p, "priv_sk");
        free(p);
        p = fmt("%s/msp/signcerts/%s-cert.pem", node, cn);
        x = check_load_cert(p);
        check_identity_profile(x, c->ca, cn, ou, r->days);
        check_time(x, r);
        free(p);
        p = fmt("%s/msp/keystore/priv_sk", node, NULL);
        check_key_file(p, x);
        free(p);
        X509_free(x);
    }
    p = fmt("%s/tls", node, NULL);
    q = fmt("ca.crt,%s.crt,%s.key", tls, tls);
    listing_is(p, q);
    free(q);
    free(p);
    p = fmt("%s/tls/ca.crt", node, NULL);
    same_text(p, c->tlsca_pem);
    free(p);
    dns_cn = fmt("DNS:%s", cn, NULL);
    dns_host = fmt("DNS:%s", host, NULL);
    sans[0] = dns_cn;
    sans[1] = dns_host;
    sans[2] = "DNS:localhost";
    sans[3] = "IP:127.0.0.1";
    for (i = 0; i < r->n_extra; i++)
        sans[4 + i] = r->extra[i];
    p = fmt("%s/tls/%s.crt", node, tls);
    x = check_load_cert(p);
    check_tls_profile(x, c->tlsca, cn, sans, 4 + r->n_extra, r->days);
    check_time(x, r);
    free(p);
    p = fmt("%s/tls/%s.key", node, tls);
    check_key_file(p, x);
    free(p);
    X509_free(x);
    free(dns_host);
    free(dns_cn);
    free(node);
}

/* Load and check <org>/<sub>/<sub>.<domain>-cert.pem and its key. */
static X509 *
load_ca(const char *org_dir, const char *sub, const struct want_org *o,
        char **pem, const struct want_run *r)
{
    char *cn = fmt("%s.%s", sub, o->domain);
    char *p = fmt("%s/%s", org_dir, sub);
    char *cert = fmt("%s/%s-cert.pem", p, cn);
    char *key = fmt("%s/priv_sk", p, NULL);
    X509 *x = check_load_cert(cert);

    *pem = check_read(cert, NULL);
    check_ca_profile(x, cn, o->domain, r->days);
    check_time(x, r);
    check_key_file(key, x);
    free(key);
    free(cert);
    free(p);
    free(cn);
    return x;
}

static void
load_cas(const char *org_dir, const struct want_org *o, struct org_cas *c,
         const struct want_run *r)
{
    c->ca = load_ca(org_dir, "ca", o, &c->ca_pem, r);
    c->tlsca = load_ca(org_dir, "tlsca", o, &c->tlsca_pem, r);
    /* Two independent CAs per org. */
    ASSERT_NE(X509_cmp(c->ca, c->tlsca), 0);
}

/* Everything below <crypto>/<tree>/<domain>, against layout.md. */
static void
check_org(const struct want_org *o, const struct want_run *r)
{
    char *org_dir, *p, *cn, *host, *list;
    struct org_cas c;
    size_t len;
    long i;

    org_dir = fmt("%s/%s", r->crypto, o->orderer ? "ordererOrganizations"
                                                 : "peerOrganizations");
    p = fmt("%s/%s", org_dir, o->domain);
    free(org_dir);
    org_dir = p;
    listing_is(org_dir, o->orderer ? "ca,msp,orderers,tlsca,users"
                                   : "ca,chaincode,msp,peers,tlsca,users");
    p = fmt("%s/ca", org_dir, NULL);
    cn = fmt("ca.%s-cert.pem,priv_sk", o->domain, NULL);
    listing_is(p, cn);
    free(cn);
    free(p);
    p = fmt("%s/tlsca", org_dir, NULL);
    cn = fmt("priv_sk,tlsca.%s-cert.pem", o->domain, NULL);
    listing_is(p, cn);
    free(cn);
    free(p);
    load_cas(org_dir, o, &c, r);
    p = fmt("%s/msp", org_dir, NULL);
    check_msp_common(p, o, &c, 0);
    free(p);

    if (o->orderer) {
        p = fmt("%s/orderers", org_dir, NULL);
        cn = fmt("orderer0.%s", o->domain, NULL);
        listing_is(p, cn);
        check_node(org_dir, "orderers", cn, "orderer0", "orderer", "server",
                   o, &c, r);
        free(cn);
        free(p);
    } else {
        list = calloc(1, 4096);
        ASSERT_NOT_NULL(list);
        for (i = 0, len = 0; i < o->peers; i++) {
            host = malloc(32);
            ASSERT_NOT_NULL(host);
            snprintf(host, 32, "peer%ld", i);
            cn = fmt("%s.%s", host, o->domain);
            len += (size_t)snprintf(list + len, 4096 - len, "%s%s",
                                    i ? "," : "", cn);
            check_node(org_dir, "peers", cn, host, "peer", "server", o, &c,
                       r);
            free(cn);
            free(host);
        }
        p = fmt("%s/peers", org_dir, NULL);
        listing_is(p, list);
        free(p);
        free(list);
        p = fmt("%s/chaincode", org_dir, NULL);
        cn = fmt("ccserver.%s", o->domain, NULL);
        listing_is(p, cn);
        check_node(org_dir, "chaincode", cn, "ccserver", NULL, "server", o,
                   &c, r);
        free(cn);
        free(p);
    }
    /* Users: Admin (OU admin) and, in member orgs, User1.. (OU client). */
    list = calloc(1, 4096);
    ASSERT_NOT_NULL(list);
    cn = fmt("Admin@%s", o->domain, NULL);
    len = (size_t)snprintf(list, 4096, "%s", cn);
    check_node(org_dir, "users", cn, "Admin", "admin", "client", o, &c, r);
    free(cn);
    for (i = 1; !o->orderer && i <= o->users; i++) {
        host = malloc(32);
        ASSERT_NOT_NULL(host);
        snprintf(host, 32, "User%ld", i);
        cn = fmt("%s@%s", host, o->domain);
        len += (size_t)snprintf(list + len, 4096 - len, ",%s", cn);
        check_node(org_dir, "users", cn, host, "client", "client", o, &c, r);
        free(cn);
        free(host);
    }
    p = fmt("%s/users", org_dir, NULL);
    listing_is(p, list);
    free(p);
    free(list);

    X509_free(c.ca);
    X509_free(c.tlsca);
    free(c.ca_pem);
    free(c.tlsca_pem);
    free(org_dir);
}

/* Run reso-certs with args (NULL-terminated after argv[0]). */
static int
certs_run(char **out, char **err, char *const args[])
{
    char *argv[32];
    size_t i;

    argv[0] = (char *)check_certs_bin();
    for (i = 0; args[i] != NULL; i++) {
        ASSERT_LE(i + 2, 32);
        argv[i + 1] = args[i];
    }
    argv[i + 1] = NULL;
    return check_run(argv, NULL, out, err);
}

#define RUN(out, err, ...)                                                   \
    certs_run(out, err, (char *const[]){__VA_ARGS__, NULL})

static const struct want_org default_orgs[] = {
    {"Orderer", "OrdererMSP", "orderer.reso.example", 1, 0, 0},
    {"Brokerage", "BrokerageMSP", "brokerage.reso.example", 0, 1, 1},
    {"Association", "AssociationMSP", "association.reso.example", 0, 1, 1},
    {"MLS", "MLSMSP", "mls.reso.example", 0, 1, 1},
};

TEST_IMPL(default_topology)
{
    char *dir = check_tmpdir(), *out = NULL, *err = NULL;
    char *crypto = fmt("%s/run/crypto", dir, NULL);
    struct want_run r = {crypto, 3650, {NULL}, 0, 0, 0};
    size_t i, certs = 0, keys = 0;
    char want[2048];

    umask(022);
    r.t0 = time(NULL);
    ASSERT_EQ(RUN(&out, &err, "generate", "--out", crypto), 0);
    r.t1 = time(NULL);
    ASSERT_STR_EQ(out, "");
    snprintf(want, sizeof(want),
             "reso-certs: Orderer (OrdererMSP, orderer.reso.example): CAs, "
             "org MSP, orderer0, Admin\n"
             "reso-certs: Brokerage (BrokerageMSP, brokerage.reso.example): "
             "CAs, org MSP, 1 peer(s), Admin, 1 user(s), chaincode server\n"
             "reso-certs: Association (AssociationMSP, "
             "association.reso.example): CAs, org MSP, 1 peer(s), Admin, "
             "1 user(s), chaincode server\n"
             "reso-certs: MLS (MLSMSP, mls.reso.example): CAs, org MSP, "
             "1 peer(s), Admin, 1 user(s), chaincode server\n"
             "reso-certs: wrote 4 orgs to %s\n", crypto);
    ASSERT_STR_EQ(err, want);
    listing_is(crypto, "ordererOrganizations,peerOrganizations");
    for (i = 0; i < sizeof(default_orgs) / sizeof(default_orgs[0]); i++)
        check_org(&default_orgs[i], &r);
    {
        char *p = fmt("%s/peerOrganizations", crypto, NULL);

        listing_is(p, "association.reso.example,brokerage.reso.example,"
                      "mls.reso.example");
        free(p);
    }
    /* 14 certificate files in the orderer org and 21 in each member. */
    check_all_files(crypto, &certs, &keys);
    ASSERT_EQ(certs, 14 + 3 * 21);
    ASSERT_EQ(keys, 6 + 3 * 9);
    free(out);
    free(err);
    check_rmtree(dir);
    free(crypto);
    free(dir);
}

TEST_IMPL(custom_topology)
{
    char *dir = check_tmpdir(), *err = NULL;
    char *crypto = fmt("%s/c", dir, NULL);
    struct want_run r = {crypto, 30, {"IP:10.1.2.3", "DNS:extra.example",
                                      "IP:fd00::5"},
                         3, 0, 0};
    static const struct want_org orgs[] = {
        {"Ord", "OrdMSP", "ord.example", 1, 0, 0},
        {"Title", "TitleMSP", "title.example", 0, 2, 3},
        {"Bank_2", "Bank2MSP", "bank-2.example", 0, 2, 3},
    };
    size_t i, certs = 0, keys = 0;

    umask(022);
    r.t0 = time(NULL);
    ASSERT_EQ(RUN(NULL, &err, "generate", "--days", "30", "--out", crypto,
                  "--orderer-org", "Ord:OrdMSP:ord.example",
                  "--org=Title:TitleMSP:title.example", "--org",
                  "Bank_2:Bank2MSP:bank-2.example", "--peers", "2",
                  "--users=3", "--sans", "10.1.2.3,127.0.0.1,extra.example",
                  "--sans=IP:fd00:0::5,localhost"),
              0);
    r.t1 = time(NULL);
    ASSERT_NOT_NULL(strstr(err, "reso-certs: Title (TitleMSP, "
                                "title.example): CAs, org MSP, 2 peer(s), "
                                "Admin, 3 user(s), chaincode server\n"));
    for (i = 0; i < sizeof(orgs) / sizeof(orgs[0]); i++)
        check_org(&orgs[i], &r);
    /* Orderer 14; members 4 + 2x5 + 5 + 3x5 + 2 = 36 certs, 2+12+1 keys. */
    check_all_files(crypto, &certs, &keys);
    ASSERT_EQ(certs, 14 + 2 * 36);
    ASSERT_EQ(keys, 6 + 2 * 15);
    free(err);
    check_rmtree(dir);
    free(crypto);
    free(dir);
}

TEST_IMPL(refuses_existing_output)
{
    char *dir = check_tmpdir(), *err = NULL;
    unsigned char before[32], after[32];
    char want[PATH_MAX + 256];

    ASSERT_EQ(RUN(NULL, NULL, "generate", "--out", dir), 0);
    check_tree_digest(dir, before);
    ASSERT_EQ(RUN(NULL, &err, "generate", "--out", dir), 2);
    snprintf(want, sizeof(want),
             "reso-certs: output directory \"%s\" is not empty (it contains "
             "\"ordererOrganizations\"); pass --force to replace the "
             "generated material, or choose an empty --out\n", dir);
    ASSERT_STR_EQ(err, want);
    check_tree_digest(dir, after);
    ASSERT_MEM_EQ(before, after, 32);
    free(err);
    check_rmtree(dir);
    free(dir);
}

TEST_IMPL(force_regenerates)
{
    char *dir = check_tmpdir(), *err = NULL;
    char *ca = fmt("%s/peerOrganizations/mls.reso.example/ca/"
                   "ca.mls.reso.example-cert.pem", dir, NULL);
    char *peers = fmt("%s/peerOrganizations/mls.reso.example/peers", dir,
                      NULL);
    char *users = fmt("%s/peerOrganizations/mls.reso.example/users", dir,
                      NULL);
    char *note = fmt("%s/notes.txt", dir, NULL);
    struct want_run r = {dir, 3650, {NULL}, 0, 0, 0};
    char *old_ca, *new_ca;
    size_t i;

    ASSERT_EQ(RUN(NULL, NULL, "generate", "--out", dir, "--peers", "2",
                  "--users", "2"),
              0);
    listing_is(peers, "peer0.mls.reso.example,peer1.mls.reso.example");
    old_ca = check_read(ca, NULL);
    check_write(note, "operator notes");
    r.t0 = time(NULL);
    ASSERT_EQ(RUN(NULL, &err, "generate", "--out", dir, "--force"), 0);
    r.t1 = time(NULL);
    new_ca = check_read(ca, NULL);
    ASSERT_NE(strcmp(old_ca, new_ca), 0);
    /* The old trees are gone entirely (no stale peer1 or User2)... */
    listing_is(peers, "peer0.mls.reso.example");
    listing_is(users, "Admin@mls.reso.example,User1@mls.reso.example");
    /* ...other entries stay, and no staging directory is left behind. */
    listing_is(dir, "notes.txt,ordererOrganizations,peerOrganizations");
    same_text(note, "operator notes");
    for (i = 0; i < sizeof(default_orgs) / sizeof(default_orgs[0]); i++)
        check_org(&default_orgs[i], &r);
    free(new_ca);
    free(old_ca);
    free(err);
    check_rmtree(dir);
    free(note);
    free(users);
    free(peers);
    free(ca);
    free(dir);
}

/* One bad command line: its exit status and exact stderr. */
struct bad_case {
    char *args[12];
    int rc;
    const char *err;
};

#define TRY "\nTry 'reso-certs --help'.\n"

TEST_IMPL(bad_arguments)
{
    char *dir = check_tmpdir();
    char *never = fmt("%s/never", dir, NULL);
    const struct bad_case cases[] = {
        {{"bogus"}, 2, "reso-certs: unknown command \"bogus\"" TRY},
        {{"generate"}, 2, "reso-certs: generate: --out DIR is required" TRY},
        {{"generate", "--out"}, 2, "reso-certs: --out: missing value" TRY},
        {{"generate", "--out", ""}, 2,
         "reso-certs: --out \"\": expected a non-empty directory path" TRY},
        {{"generate", "--out", never, "--out", never}, 2, NULL},
        {{"generate", "--out", never, "--org", "Foo"}, 2,
         "reso-certs: --org \"Foo\": expected Name:MSPID:domain" TRY},
        {{"generate", "--out", never, "--org", "A:B:Bad_Domain"}, 2,
         "reso-certs: --org \"A:B:Bad_Domain\": expected Name:MSPID:domain "
         "with a lower-case DNS domain of at most 128 characters" TRY},
        {{"generate", "--out", never, "--org", "a\nb\033"}, 2,
         "reso-certs: --org \"a?b?\": expected Name:MSPID:domain" TRY},
        {{"generate", "--out", never, "--orderer-org", "O:OM:o.example",
          "--orderer-org", "P:PM:p.example"},
         2,
         "reso-certs: --orderer-org \"P:PM:p.example\": given twice; "
         "expected it at most once" TRY},
        {{"generate", "--out", never, "--days", "0"}, 2,
         "reso-certs: --days \"0\": expected an integer from 1 to 36500" TRY},
        {{"generate", "--out", never, "--days", "ten"}, 2,
         "reso-certs: --days \"ten\": expected an integer from 1 to 36500"
         TRY},
        {{"generate", "--out", never, "--peers", "33"}, 2,
         "reso-certs: --peers \"33\": expected an integer from 1 to 32" TRY},
        {{"generate", "--out", never, "--peers=0"}, 2,
         "reso-certs: --peers \"0\": expected an integer from 1 to 32" TRY},
        {{"generate", "--out", never, "--users", "-1"}, 2,
         "reso-certs: --users \"-1\": expected an integer from 0 to 32" TRY},
        {{"generate", "--out", never, "--sans", "a.example,,b.example"}, 2,
         "reso-certs: --sans \"a.example,,b.example\": expected a "
         "comma-separated list of DNS names and IP addresses with no empty "
         "entry" TRY},
        {{"generate", "--out", never, "--sans", "IP:1.2.3"}, 2,
         "reso-certs: --sans \"IP:1.2.3\": entry \"IP:1.2.3\": expected an "
         "IPv4 or IPv6 address after IP:" TRY},
        {{"generate", "--out", never, "--force=yes"}, 2,
         "reso-certs: --force takes no value" TRY},
        {{"generate", "--out", never, "--frobnicate"}, 2,
         "reso-certs: generate: unknown argument \"--frobnicate\"" TRY},
        {{"generate", "--out", never, "extra"}, 2,
         "reso-certs: generate: unknown argument \"extra\"" TRY},
        {{"generate", "--out", never, "--org", "A:AMSP:a.example", "--org",
          "B:AMSP:b.example"},
         2,
         "reso-certs: generate: MSP ID \"AMSP\" is used twice; expected "
         "unique MSP IDs" TRY},
        {{"generate", "--out", never, "--org", "Orderer:X:x.example"}, 2,
         "reso-certs: generate: org name \"Orderer\" is used twice; "
         "expected unique names" TRY},
    };
    char dup_out[PATH_MAX + 128];
    char *err;
    size_t i;

    snprintf(dup_out, sizeof(dup_out),
             "reso-certs: --out \"%s\": given twice; expected one "
             "directory" TRY, never);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err = NULL;
        ASSERT_EQ(certs_run(NULL, &err, cases[i].args), cases[i].rc);
        ASSERT_STR_EQ(err, cases[i].err != NULL ? cases[i].err : dup_out);
        free(err);
        /* Bad arguments never touch the file system. */
        ASSERT_EQ(access(never, F_OK), -1);
    }
    /* An --out too long to hold the tree below it. */
    {
        char *longer = malloc(PATH_MAX);
        char *args[] = {"generate", "--out", longer, NULL};

        ASSERT_NOT_NULL(longer);
        memset(longer, 'd', PATH_MAX - 1024 + 1);
        longer[PATH_MAX - 1024 + 1] = '\0';
        ASSERT_EQ(certs_run(NULL, &err, args), 2);
        ASSERT_NOT_NULL(strstr(err, "...\": expected a directory path of "
                                    "at most 3072 bytes" TRY));
        free(err);
        free(longer);
    }
    check_rmtree(dir);
    free(never);
    free(dir);
}

TEST_IMPL(runtime_failures)
{
    char *dir = check_tmpdir(), *err = NULL;
    char *file = fmt("%s/file", dir, NULL);
    char *under = fmt("%s/file/crypto", dir, NULL);
    char want[PATH_MAX + 128];

    check_write(file, "not a directory");
    ASSERT_EQ(RUN(NULL, &err, "generate", "--out", under), 1);
    snprintf(want, sizeof(want), "reso-certs: cannot create directory "
             "\"%s\": Not a directory\n", under);
    ASSERT_STR_EQ(err, want);
    free(err);
    ASSERT_EQ(RUN(NULL, &err, "generate", "--out", file, "--force"), 1);
    snprintf(want, sizeof(want), "reso-certs: cannot create directory "
             "\"%s\": Not a directory\n", file);
    ASSERT_STR_EQ(err, want);
    free(err);
    same_text(file, "not a directory");
    check_rmtree(dir);
    free(under);
    free(file);
    free(dir);
}

TEST_IMPL(help_and_version)
{
    static const char *const helps[] = {"--help", "help", "-h"};
    char *out = NULL, *err = NULL;
    size_t i;

    for (i = 0; i < 3; i++) {
        ASSERT_EQ(RUN(&out, &err, (char *)helps[i]), 0);
        ASSERT_EQ(strncmp(out, "Usage:\n  reso-certs generate --out DIR",
                          37),
                  0);
        ASSERT_NOT_NULL(strstr(out, "  --force "));
        ASSERT_STR_EQ(err, "");
        free(out);
        free(err);
    }
    ASSERT_EQ(RUN(&out, &err, "generate", "--help"), 0);
    ASSERT_EQ(strncmp(out, "Usage:\n", 7), 0);
    free(out);
    free(err);
    ASSERT_EQ(certs_run(&out, &err, (char *const[]){NULL}), 2);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(strncmp(err, "Usage:\n", 7), 0);
    free(out);
    free(err);
    ASSERT_EQ(RUN(&out, &err, "version"), 0);
    ASSERT_EQ(strncmp(out, "reso-certs " RESO_VERSION " (OpenSSL 3.",
                      strlen("reso-certs " RESO_VERSION " (OpenSSL 3.")),
              0);
    ASSERT_STR_EQ(err, "");
    free(out);
    free(err);
    ASSERT_EQ(RUN(&out, NULL, "--version"), 0);
    ASSERT_EQ(strncmp(out, "reso-certs ", 11), 0);
    free(out);
}

TEST_IMPL(nothing_secret_printed)
{
    char *dir = check_tmpdir(), *out = NULL, *err = NULL;
    char *key_path = fmt("%s/peerOrganizations/mls.reso.example/ca/priv_sk",
                         dir, NULL);
    char *key, *body, *nl;

    ASSERT_EQ(RUN(&out, &err, "generate", "--out", dir), 0);
    ASSERT_NULL(strstr(out, "BEGIN"));
    ASSERT_NULL(strstr(err, "BEGIN"));
    /* The first base64 line of a key appears nowhere in the output. */
    key = check_read(key_path, NULL);
    body = strchr(key, '\n');
    ASSERT_NOT_NULL(body);
    body++;
    nl = strchr(body, '\n');
    ASSERT_NOT_NULL(nl);
    *nl = '\0';
    ASSERT_EQ(strlen(body), 64);
    ASSERT_NULL(strstr(out, body));
    ASSERT_NULL(strstr(err, body));
    free(key);
    free(out);
    free(err);
    check_rmtree(dir);
    free(key_path);
    free(dir);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(default_topology),
    TEST_ENTRY(custom_topology),
    TEST_ENTRY(refuses_existing_output),
    TEST_ENTRY(force_regenerates),
    TEST_ENTRY(bad_arguments),
    TEST_ENTRY(runtime_failures),
    TEST_ENTRY(help_and_version),
    TEST_ENTRY(nothing_secret_printed),
};

TEST_MAIN(tests)
