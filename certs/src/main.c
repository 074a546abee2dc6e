/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-certs: command-line front end of the crypto material generator.
 * It parses the command line into a plan (plan.h), prepares the output
 * directory (output.h), runs the generator (generate.h) into a staging
 * directory and moves the result into place. Exit status: 0 success,
 * 1 runtime failure (the message names the path and the OS error),
 * 2 bad arguments or an output directory that is not empty without
 * --force. Usage and docs: certs/README.md, docs/certs.md.
 */
#include "generate.h"
#include "output.h"
#include "plan.h"

#include "hlf/err.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef RESO_VERSION
#define RESO_VERSION "0.0.0"
#endif

enum { EXIT_GENERATED = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Longest --out accepted: PATH_MAX minus room for org trees. */
#define OUT_PATH_MAX (PATH_MAX - 1024)

/* Longest echo of a user-supplied value in a message. */
#define ECHO_MAX 160

static const char usage_text[] =
    "Usage:\n"
    "  reso-certs generate --out DIR [--force] [--days N] [--sans LIST]\n"
    "                      [--org Name:MSPID:domain ...]\n"
    "                      [--orderer-org Name:MSPID:domain]\n"
    "                      [--peers N] [--users N]\n"
    "  reso-certs help | --help\n"
    "  reso-certs version | --version\n"
    "\n"
    "Generates the X.509 keys, certificates and MSP directories of a\n"
    "Hyperledger Fabric 2.5 network in cryptogen's layout under DIR:\n"
    "DIR/ordererOrganizations/<domain>/ and DIR/peerOrganizations/<domain>/.\n"
    "\n"
    "Options of generate:\n"
    "  --out DIR        output directory, created if missing (required)\n"
    "  --force          replace existing ordererOrganizations/ and\n"
    "                   peerOrganizations/ in DIR; without it a non-empty\n"
    "                   DIR is refused\n"
    "  --days N         certificate lifetime in days, 1-36500 (3650)\n"
    "  --sans LIST      extra subjectAltNames for every TLS certificate,\n"
    "                   comma-separated DNS names and IP addresses (an\n"
    "                   entry may be prefixed DNS: or IP:); repeatable\n"
    "  --org SPEC       a member org Name:MSPID:domain; repeatable; replaces\n"
    "                   the default Brokerage, Association and MLS orgs\n"
    "  --orderer-org SPEC\n"
    "                   the orderer org (Orderer:OrdererMSP:"
    "orderer.reso.example)\n"
    "  --peers N        peers per member org, 1-32 (1)\n"
    "  --users N        users besides Admin per member org, 0-32 (1)\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 bad arguments or a\n"
    "non-empty output directory without --force.\n";

/* Everything the command line sets. */
struct cli {
    struct certs_plan plan;
    const char *out;
    int force;
    int seen_orderer;
    int seen_days;
    int seen_peers;
    int seen_users;
};

/* Apply one option value; on error err says what was expected. */
typedef int (*apply_fn)(struct cli *c, const char *value, hlf_error_t *err);

struct option_desc {
    const char *name;
    int takes_value;
    apply_fn apply;
};

static int
once(int *seen, hlf_error_t *err)
{
    if (*seen)
        return hlf_error_set(err, HLF_EINVAL,
                             "given twice; expected it at most once");
    *seen = 1;
    return HLF_OK;
}

static int
opt_out(struct cli *c, const char *value, hlf_error_t *err)
{
    if (c->out != NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "given twice; expected one directory");
    if (value[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL,
                             "expected a non-empty directory path");
    /* Leave room below it for the deepest generated path. */
    if (strlen(value) > OUT_PATH_MAX)
        return hlf_error_set(err, HLF_EINVAL,
                             "expected a directory path of at most %d "
                             "bytes", OUT_PATH_MAX);
    c->out = value;
    return HLF_OK;
}

static int
opt_force(struct cli *c, const char *value, hlf_error_t *err)
{
    c->force = 1;
    return HLF_OK;
}

/* An integer option that may be given once, within [min, max]. */
static int
bounded(int *seen, const char *value, long min, long max, long *out,
        hlf_error_t *err)
{
    int rc = once(seen, err);

    return rc != HLF_OK ? rc : certs_parse_long(value, min, max, out, err);
}

static int
opt_days(struct cli *c, const char *value, hlf_error_t *err)
{
    return bounded(&c->seen_days, value, CERTS_MIN_DAYS, CERTS_MAX_DAYS,
                   &c->plan.days, err);
}

static int
opt_peers(struct cli *c, const char *value, hlf_error_t *err)
{
    return bounded(&c->seen_peers, value, 1, CERTS_MAX_PEERS,
                   &c->plan.peers, err);
}

static int
opt_users(struct cli *c, const char *value, hlf_error_t *err)
{
    return bounded(&c->seen_users, value, 0, CERTS_MAX_USERS,
                   &c->plan.users, err);
}

static int
opt_sans(struct cli *c, const char *value, hlf_error_t *err)
{
    return certs_plan_add_sans(&c->plan, value, err);
}

static int
opt_org(struct cli *c, const char *value, hlf_error_t *err)
{
    struct certs_org org;
    int rc = certs_org_parse(value, &org, err);

    return rc != HLF_OK ? rc : certs_plan_add_member(&c->plan, &org, err);
}

static int
opt_orderer_org(struct cli *c, const char *value, hlf_error_t *err)
{
    int rc = once(&c->seen_orderer, err);

    return rc != HLF_OK ? rc : certs_org_parse(value, &c->plan.orderer, err);
}

static const struct option_desc options[] = {
    {"--out", 1, opt_out},
    {"--force", 0, opt_force},
    {"--days", 1, opt_days},
    {"--sans", 1, opt_sans},
    {"--org", 1, opt_org},
    {"--orderer-org", 1, opt_orderer_org},
    {"--peers", 1, opt_peers},
    {"--users", 1, opt_users},
};

/*
 * Copy a user-supplied value for a message: control and non-ASCII bytes
 * become '?', and long values are cut with "...", so a message stays one
 * readable line whatever was typed.
 */
static const char *
echo(const char *value, char buf[ECHO_MAX + 4])
{
    size_t i;

    for (i = 0; value[i] != '\0' && i < ECHO_MAX; i++)
        buf[i] = value[i] >= 0x20 && value[i] < 0x7f ? value[i] : '?';
    if (value[i] != '\0') {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Print "reso-certs: <message>" and a pointer to --help; EXIT_USAGE. */
static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("reso-certs: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'reso-certs --help'.\n", stderr);
    return EXIT_USAGE;
}

/* Find the descriptor of arg ("--name" or "--name=value"). */
static const struct option_desc *
find_option(const char *arg, const char **inline_value)
{
    size_t i, len;

    *inline_value = NULL;
    for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        len = strlen(options[i].name);
        if (strncmp(arg, options[i].name, len) != 0)
            continue;
        if (arg[len] == '\0')
            return &options[i];
        if (arg[len] == '=') {
            *inline_value = arg + len + 1;
            return &options[i];
        }
    }
    return NULL;
}

/* Parse generate's arguments into c; EXIT_GENERATED or EXIT_USAGE. */
static int
parse_generate(int argc, char **argv, struct cli *c)
{
    char e1[ECHO_MAX + 4];
    const struct option_desc *o;
    const char *value;
    hlf_error_t err;
    int i;

    for (i = 2; i < argc; i++) {
        hlf_error_clear(&err);
        o = find_option(argv[i], &value);
        if (o == NULL)
            return usage_error("generate: unknown argument \"%s\"",
                               echo(argv[i], e1));
        if (!o->takes_value && value != NULL)
            return usage_error("%s takes no value", o->name);
        if (o->takes_value && value == NULL) {
            if (i + 1 == argc)
                return usage_error("%s: missing value", o->name);
            value = argv[++i];
        }
        if (o->apply(c, value != NULL ? value : "", &err) != HLF_OK) {
            if (o->takes_value)
                return usage_error("%s \"%s\": %s", o->name,
                                   echo(value, e1), err.text);
            return usage_error("%s: %s", o->name, err.text);
        }
    }
    if (c->out == NULL)
        return usage_error("generate: --out DIR is required");
    hlf_error_clear(&err);
    if (certs_plan_finish(&c->plan, &err) != HLF_OK)
        return usage_error("generate: %s", err.text);
    return EXIT_GENERATED;
}

static int
run_generate(struct cli *c)
{
    struct certs_output out;
    hlf_error_t err;
    int rc;

    hlf_error_clear(&err);
    rc = certs_output_open(&out, c->out, c->force, &err);
    if (rc == HLF_OK)
        rc = certs_generate(&c->plan, out.staging, stderr, &err);
    if (rc == HLF_OK)
        rc = certs_output_commit(&out, &err);
    if (rc != HLF_OK) {
        certs_output_abort(&out);
        fprintf(stderr, "reso-certs: %s\n", err.text);
        /* A refused output directory is the caller's choice to make. */
        return rc == HLF_EEXIST || rc == HLF_EINVAL ? EXIT_USAGE
                                                    : EXIT_RUNTIME;
    }
    fprintf(stderr, "reso-certs: wrote %zu orgs to %s\n",
            c->plan.n_members + 1, c->out);
    return EXIT_GENERATED;
}

int
main(int argc, char **argv)
{
    char e1[ECHO_MAX + 4];
    const char *cmd = argc > 1 ? argv[1] : NULL;
    struct cli c;
    int i, rc;

    if (cmd == NULL) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        return EXIT_GENERATED;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("reso-certs %s (%s)\n", RESO_VERSION,
               OpenSSL_version(OPENSSL_VERSION));
        return EXIT_GENERATED;
    }
    if (strcmp(cmd, "generate") != 0)
        return usage_error("unknown command \"%s\"", echo(cmd, e1));
    for (i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return EXIT_GENERATED;
        }
    memset(&c, 0, sizeof(c));
    certs_plan_init(&c.plan);
    rc = parse_generate(argc, argv, &c);
    return rc != EXIT_GENERATED ? rc : run_generate(&c);
}
