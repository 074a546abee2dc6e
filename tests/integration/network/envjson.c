/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for the network tests: reads the output of
 * `resoctl network env --json` and either checks it against the schema of
 * docs/network.md (every field present, nothing extra, values of the right
 * shape, every file path existing, every port inside the network's block of
 * 50) or prints one string field for a shell script. The couchdb section
 * (pouchdb-server, installed by scripts/setup.sh) is always required.
 *
 *   envjson check FILE [BASE_PORT [gateway|no-gateway]]
 *                                    exit 0 if valid, 1 with reasons; the
 *                                    gateway section must be present
 *                                    (gateway) or absent (no-gateway);
 *                                    without the word either is accepted
 *   envjson get FILE DOTTED.PATH     print the string, exit 1 if absent
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#define PORT_SPAN 50

typedef struct {
    int failures;
    long base;         /* -1: do not check the port block */
    long ports[32];    /* every port seen, to check they are distinct */
    size_t nports;
} checker_t;

static void
fail(checker_t *c, const char *where, const char *what)
{
    fprintf(stderr, "envjson: %s: %s\n", where, what);
    c->failures++;
}

/* Checks that obj has exactly the keys of the NULL-terminated list. */
static int
exact_keys(checker_t *c, const char *where, json_t *obj,
           const char *const *keys)
{
    const char *key;
    json_t *value;
    size_t n = 0, i;
    char msg[256];

    if (!json_is_object(obj)) {
        fail(c, where, "not an object");
        return -1;
    }
    for (i = 0; keys[i] != NULL; i++) {
        if (json_object_get(obj, keys[i]) == NULL) {
            snprintf(msg, sizeof(msg), "missing key \"%s\"", keys[i]);
            fail(c, where, msg);
        }
        n++;
    }
    json_object_foreach(obj, key, value) {
        int known = 0;

        (void)value;
        for (i = 0; keys[i] != NULL; i++) {
            known |= strcmp(key, keys[i]) == 0;
        }
        if (!known) {
            snprintf(msg, sizeof(msg), "unexpected key \"%s\"", key);
            fail(c, where, msg);
        }
    }
    return json_object_size(obj) == n ? 0 : -1;
}

static const char *
str_field(checker_t *c, const char *where, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    char msg[256];

    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(msg, sizeof(msg), "\"%s\" is not a non-empty string", key);
        fail(c, where, msg);
        return NULL;
    }
    return json_string_value(v);
}

static void
expect_str(checker_t *c, const char *where, json_t *obj, const char *key,
           const char *want)
{
    const char *got = str_field(c, where, obj, key);
    char msg[512];

    if (got != NULL && strcmp(got, want) != 0) {
        snprintf(msg, sizeof(msg), "\"%s\" is \"%s\", expected \"%s\"", key,
                 got, want);
        fail(c, where, msg);
    }
}

static void
expect_file(checker_t *c, const char *where, json_t *obj, const char *key,
            int want_dir)
{
    const char *path = str_field(c, where, obj, key);
    struct stat st;
    char msg[1024];

    if (path == NULL) {
        return;
    }
    if (path[0] != '/') {
        snprintf(msg, sizeof(msg), "\"%s\" is not absolute: %s", key, path);
        fail(c, where, msg);
    } else if (stat(path, &st) != 0) {
        snprintf(msg, sizeof(msg), "\"%s\" %s: %s", key, path,
                 strerror(errno));
        fail(c, where, msg);
    } else if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
        snprintf(msg, sizeof(msg), "\"%s\" %s is not a %s", key, path,
                 want_dir ? "directory" : "regular file");
        fail(c, where, msg);
    }
}

/* "<scheme>127.0.0.1:<port>", port in the block, not seen before. */
static void
expect_addr_with(checker_t *c, const char *where, json_t *obj,
                 const char *key, const char *prefix)
{
    const char *addr = str_field(c, where, obj, key);
    char *end;
    long port;
    size_t i;
    char msg[512];

    if (addr == NULL) {
        return;
    }
    if (strncmp(addr, prefix, strlen(prefix)) != 0 ||
        !isdigit((unsigned char)addr[strlen(prefix)])) {
        snprintf(msg, sizeof(msg), "\"%s\" is \"%s\", not %s<port>",
                 key, addr, prefix);
        fail(c, where, msg);
        return;
    }
    errno = 0;
    port = strtol(addr + strlen(prefix), &end, 10);
    if (errno != 0 || *end != '\0' || port < 1 || port > 65535) {
        snprintf(msg, sizeof(msg), "\"%s\" has a bad port: %s", key, addr);
        fail(c, where, msg);
        return;
    }
    if (c->base >= 0 && (port < c->base || port >= c->base + PORT_SPAN)) {
        snprintf(msg, sizeof(msg), "\"%s\" port %ld outside %ld..%ld", key,
                 port, c->base, c->base + PORT_SPAN - 1);
        fail(c, where, msg);
    }
    for (i = 0; i < c->nports; i++) {
        if (c->ports[i] == port) {
            snprintf(msg, sizeof(msg), "\"%s\" port %ld used twice", key,
                     port);
            fail(c, where, msg);
        }
    }
    if (c->nports < sizeof(c->ports) / sizeof(c->ports[0])) {
        c->ports[c->nports++] = port;
    }
}

static void
expect_addr(checker_t *c, const char *where, json_t *obj, const char *key)
{
    expect_addr_with(c, where, obj, key, "127.0.0.1:");
}

static void
check_identity(checker_t *c, const char *where, json_t *id,
               const char *user, const char *domain)
{
    static const char *const keys[] = {"msp_dir", "cert", "key", NULL};
    char want[512];
    const char *cert;

    if (exact_keys(c, where, id, keys) != 0 && !json_is_object(id)) {
        return;
    }
    expect_file(c, where, id, "msp_dir", 1);
    expect_file(c, where, id, "cert", 0);
    expect_file(c, where, id, "key", 0);
    /* The cert must be the identity's own signcert, not any PEM. */
    snprintf(want, sizeof(want), "/signcerts/%s@%s-cert.pem", user, domain);
    cert = json_string_value(json_object_get(id, "cert"));
    if (cert != NULL && (strlen(cert) < strlen(want) ||
                         strcmp(cert + strlen(cert) - strlen(want), want))) {
        fail(c, where, "cert is not the identity's signcert");
    }
}

static void
check_org(checker_t *c, json_t *orgs, const char *name, const char *msp,
          const char *key)
{
    static const char *const org_keys[] = {"msp_id", "peer", "client",
                                           "admin", "chaincode_server",
                                           "recorder", NULL};
    static const char *const peer_keys[] = {"address", "tls_ca",
                                            "host_override", "operations",
                                            NULL};
    static const char *const cc_keys[] = {"address", "package_id",
                                          "pid_file", NULL};
    json_t *org = json_object_get(orgs, name);
    json_t *peer, *cc;
    char where[128], domain[128], host[160], prefix[128], recorder[128];
    const char *id;
    size_t i, n;

    snprintf(where, sizeof(where), "orgs.%s", name);
    snprintf(domain, sizeof(domain), "%s.reso.example", key);
    if (org == NULL) {
        return; /* reported by exact_keys on orgs */
    }
    exact_keys(c, where, org, org_keys);
    expect_str(c, where, org, "msp_id", msp);
    /* The demo Recorder `network up` registers to the org (strict
     * binding: the one its clients record with). */
    snprintf(recorder, sizeof(recorder), "urn:reso:recorder:%s:1", key);
    expect_str(c, where, org, "recorder", recorder);

    snprintf(where, sizeof(where), "orgs.%s.peer", name);
    snprintf(host, sizeof(host), "peer0.%s", domain);
    peer = json_object_get(org, "peer");
    exact_keys(c, where, peer, peer_keys);
    expect_addr(c, where, peer, "address");
    expect_addr(c, where, peer, "operations");
    expect_file(c, where, peer, "tls_ca", 0);
    expect_str(c, where, peer, "host_override", host);

    snprintf(where, sizeof(where), "orgs.%s.client", name);
    check_identity(c, where, json_object_get(org, "client"), "User1",
                   domain);
    snprintf(where, sizeof(where), "orgs.%s.admin", name);
    check_identity(c, where, json_object_get(org, "admin"), "Admin",
                   domain);

    snprintf(where, sizeof(where), "orgs.%s.chaincode_server", name);
    cc = json_object_get(org, "chaincode_server");
    exact_keys(c, where, cc, cc_keys);
    expect_addr(c, where, cc, "address");
    expect_file(c, where, cc, "pid_file", 0);
    /* Package ID = <label>:<64 hex>, label reso_1.0-<org key>. */
    id = str_field(c, where, cc, "package_id");
    snprintf(prefix, sizeof(prefix), "reso_1.0-%s:", key);
    if (id != NULL) {
        n = strlen(prefix);
        if (strncmp(id, prefix, n) != 0 || strlen(id) != n + 64) {
            fail(c, where, "package_id is not reso_1.0-<org>:<sha256 hex>");
        } else {
            for (i = n; id[i] != '\0'; i++) {
                if (!isxdigit((unsigned char)id[i]) ||
                    isupper((unsigned char)id[i])) {
                    fail(c, where, "package_id hash is not lowercase hex");
                    break;
                }
            }
        }
    }
}

/*
 * The gateway section: its URL (a port of the block), one demo API key per
 * org and per org admin ("<org>-admin"; 64 lower-case hex digits, all
 * distinct) and its PID file.
 */
static void
check_gateway(checker_t *c, json_t *gw)
{
    static const char *const keys[] = {"url", "api_keys", "pid_file", NULL};
    static const char *const orgs[] = {
        "Brokerage",       "Association",       "MLS",
        "Brokerage-admin", "Association-admin", "MLS-admin", NULL};
    json_t *api;
    const char *k[6];
    char msg[256];
    size_t i, j;

    if (exact_keys(c, "gateway", gw, keys) != 0 && !json_is_object(gw)) {
        return;
    }
    expect_addr_with(c, "gateway", gw, "url", "http://127.0.0.1:");
    expect_file(c, "gateway", gw, "pid_file", 0);
    api = json_object_get(gw, "api_keys");
    if (exact_keys(c, "gateway.api_keys", api, orgs) != 0 &&
        !json_is_object(api)) {
        return;
    }
    for (i = 0; orgs[i] != NULL; i++) {
        k[i] = str_field(c, "gateway.api_keys", api, orgs[i]);
        if (k[i] == NULL) {
            continue;
        }
        for (j = 0; k[i][j] != '\0'; j++) {
            if (!isxdigit((unsigned char)k[i][j]) ||
                isupper((unsigned char)k[i][j])) {
                break;
            }
        }
        if (j != 64 || k[i][j] != '\0') {
            snprintf(msg, sizeof(msg), "%s is not 64 lower-case hex digits",
                     orgs[i]);
            fail(c, "gateway.api_keys", msg);
        }
        for (j = 0; j < i; j++) {
            if (k[j] != NULL && strcmp(k[i], k[j]) == 0) {
                snprintf(msg, sizeof(msg), "%s and %s share a key", orgs[j],
                         orgs[i]);
                fail(c, "gateway.api_keys", msg);
            }
        }
    }
}

/* The couchdb section: the local CouchDB's URL (a port of the block), its
 * database and PID file. */
static void
check_couchdb(checker_t *c, json_t *cd)
{
    static const char *const keys[] = {"url", "db", "pid_file", NULL};

    if (exact_keys(c, "couchdb", cd, keys) != 0 && !json_is_object(cd)) {
        return;
    }
    expect_addr_with(c, "couchdb", cd, "url", "http://127.0.0.1:");
    expect_str(c, "couchdb", cd, "db", "reso-events");
    expect_file(c, "couchdb", cd, "pid_file", 0);
}

/* want_gateway: 1 required, 0 forbidden, -1 either. */
static int
cmd_check(json_t *root, long base, int want_gateway)
{
    static const char *const top_keys[] = {"channel", "chaincode", "run_dir",
                                           "crypto_dir", "orderer", "orgs",
                                           "couchdb", NULL};
    static const char *const top_keys_gw[] = {"channel", "chaincode",
                                              "run_dir", "crypto_dir",
                                              "orderer", "orgs", "couchdb",
                                              "gateway", NULL};
    static const char *const orderer_keys[] = {"address", "tls_ca",
                                               "host_override",
                                               "admin_address", NULL};
    static const char *const org_names[] = {"Brokerage", "Association",
                                            "MLS", NULL};
    checker_t c = {0, base, {0}, 0};
    const char *run_dir;
    char want[4096];
    json_t *orderer, *gw;
    size_t want_ports;

    gw = json_object_get(root, "gateway");
    if (want_gateway < 0) {
        want_gateway = gw != NULL;
    }
    exact_keys(&c, "top level", root, want_gateway ? top_keys_gw : top_keys);
    expect_str(&c, "top level", root, "channel", "reso-events");
    expect_str(&c, "top level", root, "chaincode", "reso");
    expect_file(&c, "top level", root, "run_dir", 1);
    expect_file(&c, "top level", root, "crypto_dir", 1);
    run_dir = json_string_value(json_object_get(root, "run_dir"));
    if (run_dir != NULL) {
        snprintf(want, sizeof(want), "%s/crypto", run_dir);
        expect_str(&c, "top level", root, "crypto_dir", want);
    }

    orderer = json_object_get(root, "orderer");
    exact_keys(&c, "orderer", orderer, orderer_keys);
    expect_addr(&c, "orderer", orderer, "address");
    expect_addr(&c, "orderer", orderer, "admin_address");
    expect_file(&c, "orderer", orderer, "tls_ca", 0);
    expect_str(&c, "orderer", orderer, "host_override",
               "orderer0.orderer.reso.example");

    exact_keys(&c, "orgs", json_object_get(root, "orgs"), org_names);
    check_org(&c, json_object_get(root, "orgs"), "Brokerage", "BrokerageMSP",
              "brokerage");
    check_org(&c, json_object_get(root, "orgs"), "Association",
              "AssociationMSP", "association");
    check_org(&c, json_object_get(root, "orgs"), "MLS", "MLSMSP", "mls");
    check_couchdb(&c, json_object_get(root, "couchdb"));
    if (want_gateway && gw != NULL) {
        check_gateway(&c, gw);
    }
    /* Orderer gRPC and admin, per org: peer, operations, chaincode, the
     * CouchDB URL and the gateway's URL. */
    want_ports = want_gateway ? 13 : 12;
    if (c.nports != want_ports) {
        snprintf(want, sizeof(want), "expected %zu distinct addresses, got "
                 "%zu", want_ports, c.nports);
        fail(&c, "ports", want);
    }
    if (c.failures == 0) {
        printf("envjson: schema OK, %zu distinct ports, all paths exist\n",
               c.nports);
    }
    return c.failures == 0 ? 0 : 1;
}

static int
cmd_get(json_t *root, const char *path)
{
    char buf[512];
    char *part, *next;
    json_t *v = root;

    if (strlen(path) >= sizeof(buf)) {
        return 1;
    }
    memcpy(buf, path, strlen(path) + 1);
    for (part = buf; part != NULL && v != NULL; part = next) {
        next = strchr(part, '.');
        if (next != NULL) {
            *next++ = '\0';
        }
        v = json_object_get(v, part);
    }
    if (!json_is_string(v)) {
        fprintf(stderr, "envjson: no string at %s\n", path);
        return 1;
    }
    printf("%s\n", json_string_value(v));
    return 0;
}

int
main(int argc, char **argv)
{
    json_error_t jerr;
    json_t *root;
    long base = -1;
    int want_gateway = -1;
    char *end;
    int rc;

    if (argc < 3 || (strcmp(argv[1], "check") != 0 &&
                     strcmp(argv[1], "get") != 0) ||
        (strcmp(argv[1], "get") == 0 && argc != 4) ||
        (strcmp(argv[1], "check") == 0 && argc > 5)) {
        fprintf(stderr, "usage: envjson check FILE [BASE_PORT "
                        "[gateway|no-gateway]]\n"
                        "       envjson get FILE DOTTED.PATH\n");
        return 2;
    }
    if (argc == 5) {
        if (strcmp(argv[4], "gateway") == 0) {
            want_gateway = 1;
        } else if (strcmp(argv[4], "no-gateway") == 0) {
            want_gateway = 0;
        } else {
            fprintf(stderr, "envjson: expected gateway or no-gateway, not "
                    "%s\n", argv[4]);
            return 2;
        }
    }
    root = json_load_file(argv[2], JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        fprintf(stderr, "envjson: %s:%d: %s\n", argv[2], jerr.line,
                jerr.text);
        return 1;
    }
    if (strcmp(argv[1], "check") == 0) {
        if (argc >= 4) {
            base = strtol(argv[3], &end, 10);
            if (*end != '\0' || base < 1) {
                fprintf(stderr, "envjson: bad base port %s\n", argv[3]);
                json_decref(root);
                return 2;
            }
        }
        rc = cmd_check(root, base, want_gateway);
    } else {
        rc = cmd_get(root, argv[3]);
    }
    json_decref(root);
    return rc;
}
