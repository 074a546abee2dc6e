/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `resoctl network up|down|status|env`: checks the command line, then hands
 * over to network/network.sh (the bash implementation of the native Fabric
 * network) by exec, so the script's output and exit status are resoctl's.
 *
 * Where things are found:
 *   the scripts   $RESO_NETWORK_DIR, else the source tree's network/ (compile
 *                 definition RESOCTL_NETWORK_DIR);
 *   the run dir   --run-dir, else <source tree>/run/network;
 *   reso-certs, reso-chaincode and reso-gateway: $RESO_CERTS_BIN /
 *                 $RESO_CHAINCODE_BIN / $RESO_GATEWAY_BIN if set, else the
 *                 binaries of this build tree (exported to the script under
 *                 those names).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resoctl.h"

#ifndef RESOCTL_NETWORK_DIR
#error "RESOCTL_NETWORK_DIR must be defined by the build"
#endif
#ifndef RESOCTL_SOURCE_DIR
#error "RESOCTL_SOURCE_DIR must be defined by the build"
#endif
#ifndef RESOCTL_CERTS_BIN
#define RESOCTL_CERTS_BIN ""
#endif
#ifndef RESOCTL_CHAINCODE_BIN
#define RESOCTL_CHAINCODE_BIN ""
#endif
#ifndef RESOCTL_GATEWAY_BIN
#define RESOCTL_GATEWAY_BIN ""
#endif

/* Must match NET_PORT_SPAN in network/lib/common.sh. */
#define NETWORK_PORT_SPAN 50
#define NETWORK_MAX_TIMEOUT 99999

enum {
    SUB_UP = 1 << 0,
    SUB_DOWN = 1 << 1,
    SUB_STATUS = 1 << 2,
    SUB_ENV = 1 << 3,
    SUB_ALL = SUB_UP | SUB_DOWN | SUB_STATUS | SUB_ENV
};

typedef struct {
    const char *name;
    int mask;
} network_sub_t;

static const network_sub_t network_subs[] = {
    {"up", SUB_UP},
    {"down", SUB_DOWN},
    {"status", SUB_STATUS},
    {"env", SUB_ENV},
};

/* Options, the subcommands that accept them, and whether they take a value. */
typedef struct {
    const char *name;
    int subs;
    int takes_value;
} network_opt_t;

static const network_opt_t network_opts[] = {
    {"--run-dir", SUB_ALL, 1},
    {"--base-port", SUB_UP, 1},
    {"--timeout", SUB_UP, 1},
    {"--no-gateway", SUB_UP, 0},
    {"--purge", SUB_DOWN, 0},
    {"--json", SUB_ENV, 0},
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* bash, script, subcommand, 2 per option, NULL. */
#define NETWORK_MAX_ARGV (3 + 2 * NELEMS(network_opts) + 1)

static void
network_synopsis(FILE *out)
{
    fputs("usage: resoctl network up     [--run-dir DIR] "
          "[--base-port N|auto] [--timeout SECONDS]\n"
          "                              [--no-gateway]\n"
          "       resoctl network down   [--run-dir DIR] [--purge]\n"
          "       resoctl network status [--run-dir DIR]\n"
          "       resoctl network env    [--run-dir DIR] [--json]\n",
          out);
}

static void
network_usage(FILE *out)
{
    network_synopsis(out);
    fprintf(out,
            "\n"
            "  up       start (or resume) the network; waits until every\n"
            "           peer answers a chaincode query, then starts\n"
            "           reso-gateway and waits for its /healthz\n"
            "  down     stop exactly the processes up started; --purge\n"
            "           also deletes the run directory\n"
            "  status   list each process with pid, port and up/down;\n"
            "           exit 0 if all are up, 3 otherwise\n"
            "  env      print endpoints and file paths (--json: the schema\n"
            "           of docs/network.md)\n"
            "\n"
            "  --run-dir DIR      all state (default %s/run/network)\n"
            "  --base-port N      ports N..N+%d (default 7050); auto picks\n"
            "                     a free block\n"
            "  --timeout SECONDS  limit for each readiness wait (default "
            "120)\n"
            "  --no-gateway       run the network without reso-gateway\n",
            RESOCTL_SOURCE_DIR, NETWORK_PORT_SPAN - 1);
}

static int
usage_error(const char *fmt, const char *arg)
{
    fputs("resoctl network: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    network_synopsis(stderr);
    return RESOCTL_EXIT_USAGE;
}

/* Parses a whole decimal string within [lo, hi]; returns 0 or -1. */
static int
parse_bounded(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int
check_value(const char *opt, const char *value)
{
    long v;

    if (strcmp(opt, "--base-port") == 0) {
        if (strcmp(value, "auto") != 0 &&
            parse_bounded(value, 1024, 65535 - NETWORK_PORT_SPAN + 1, &v)
                != 0) {
            return usage_error("--base-port must be auto or a number from "
                               "1024 to 65486, not '%s'", value);
        }
    } else if (strcmp(opt, "--timeout") == 0) {
        if (parse_bounded(value, 1, NETWORK_MAX_TIMEOUT, &v) != 0) {
            return usage_error("--timeout must be a number of seconds from "
                               "1 to 99999, not '%s'", value);
        }
    } else if (value[0] == '\0') {
        return usage_error("%s must not be empty", opt);
    }
    return RESOCTL_EXIT_OK;
}

static const network_opt_t *
find_opt(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < NELEMS(network_opts); i++) {
        if (strlen(network_opts[i].name) == len &&
            strncmp(network_opts[i].name, name, len) == 0) {
            return &network_opts[i];
        }
    }
    return NULL;
}

/* Exports a default for the script unless the caller set the variable. */
static void
export_default(const char *var, const char *value)
{
    if (value[0] != '\0') {
        (void)setenv(var, value, 0);
    }
}

int
resoctl_cmd_network(int argc, char **argv)
{
    static char script[4096];
    static char default_run_dir[4096];
    const char *args[NETWORK_MAX_ARGV];
    const char *values[NELEMS(network_opts)] = {NULL};
    const network_sub_t *sub = NULL;
    const char *dir;
    size_t i, nargs = 0;
    int i_arg, rc;

    if (argc < 2) {
        return usage_error("%s", "missing subcommand");
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        network_usage(stdout);
        return RESOCTL_EXIT_OK;
    }
    for (i = 0; i < NELEMS(network_subs); i++) {
        if (strcmp(argv[1], network_subs[i].name) == 0) {
            sub = &network_subs[i];
        }
    }
    if (sub == NULL) {
        return usage_error("unknown subcommand '%s'", argv[1]);
    }

    for (i_arg = 2; i_arg < argc; i_arg++) {
        const char *arg = argv[i_arg];
        const char *eq = strchr(arg, '=');
        size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        const network_opt_t *opt;
        const char *value;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            network_usage(stdout);
            return RESOCTL_EXIT_OK;
        }
        opt = find_opt(arg, len);
        if (opt == NULL || (opt->subs & sub->mask) == 0) {
            fprintf(stderr, "resoctl network: unknown option '%.*s' for "
                    "'%s'\n", (int)len, arg, sub->name);
            network_synopsis(stderr);
            return RESOCTL_EXIT_USAGE;
        }
        if (!opt->takes_value) {
            if (eq != NULL) {
                return usage_error("%s takes no value", opt->name);
            }
            value = "";
        } else if (eq != NULL) {
            value = eq + 1;
        } else if (i_arg + 1 < argc) {
            value = argv[++i_arg];
        } else {
            return usage_error("%s needs a value", opt->name);
        }
        if (opt->takes_value && (rc = check_value(opt->name, value)) != 0) {
            return rc;
        }
        values[opt - network_opts] = value;
    }

    dir = getenv("RESO_NETWORK_DIR");
    if (dir == NULL || dir[0] == '\0') {
        dir = RESOCTL_NETWORK_DIR;
    }
    rc = snprintf(script, sizeof(script), "%s/network.sh", dir);
    if (rc < 0 || (size_t)rc >= sizeof(script)) {
        fprintf(stderr, "resoctl network: RESO_NETWORK_DIR is too long\n");
        return RESOCTL_EXIT_USAGE;
    }
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "resoctl network: cannot read %s: %s (set "
                "RESO_NETWORK_DIR to the network/ directory of a "
                "reso-ledger checkout)\n", script, strerror(errno));
        return RESOCTL_EXIT_PREREQ;
    }
    if (values[0] == NULL) {
        rc = snprintf(default_run_dir, sizeof(default_run_dir),
                      "%s/run/network", RESOCTL_SOURCE_DIR);
        if (rc < 0 || (size_t)rc >= sizeof(default_run_dir)) {
            fprintf(stderr, "resoctl network: source path too long\n");
            return RESOCTL_EXIT_FAIL;
        }
        values[0] = default_run_dir;
    }

    args[nargs++] = "bash";
    args[nargs++] = script;
    args[nargs++] = sub->name;
    for (i = 0; i < NELEMS(network_opts); i++) {
        if (values[i] == NULL) {
            continue;
        }
        args[nargs++] = network_opts[i].name;
        if (network_opts[i].takes_value) {
            args[nargs++] = values[i];
        }
    }
    args[nargs] = NULL;

    export_default("RESO_CERTS_BIN", RESOCTL_CERTS_BIN);
    export_default("RESO_CHAINCODE_BIN", RESOCTL_CHAINCODE_BIN);
    export_default("RESO_GATEWAY_BIN", RESOCTL_GATEWAY_BIN);
    {
        /* So that the summary can print commands that work as pasted. */
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n > 0) {
            self[n] = '\0';
            export_default("RESOCTL_BIN", self);
        }
    }
    fflush(stdout);
    fflush(stderr);
    /* execvp takes char *const[]; the strings are never modified. */
    execvp("bash", (char *const *)(void *)args);
    fprintf(stderr, "resoctl network: cannot run bash %s: %s\n", script,
            strerror(errno));
    return RESOCTL_EXIT_FAIL;
}
