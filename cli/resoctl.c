/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resoctl: the operator command line of reso-ledger. This file holds only
 * main() and the dispatch table; each top-level command lives in its own
 * cmd_<name>.c and is listed once in commands.def.
 */
#include <stdio.h>
#include <string.h>

#include "resoctl.h"

typedef struct {
    const char *name;
    resoctl_cmd_fn fn;
    const char *summary;
} resoctl_command_t;

static const resoctl_command_t resoctl_commands[] = {
#define RESOCTL_COMMAND(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef RESOCTL_COMMAND
};

#define RESOCTL_NCOMMANDS \
    (sizeof(resoctl_commands) / sizeof(resoctl_commands[0]))

static void
usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: resoctl <command> [arguments]\n"
                 "       resoctl <command> --help\n\ncommands:\n");
    for (i = 0; i < RESOCTL_NCOMMANDS; i++) {
        fprintf(out, "  %-10s %s\n", resoctl_commands[i].name,
                resoctl_commands[i].summary);
    }
}

int
main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return RESOCTL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return RESOCTL_EXIT_OK;
    }
    for (i = 0; i < RESOCTL_NCOMMANDS; i++) {
        if (strcmp(argv[1], resoctl_commands[i].name) == 0) {
            return resoctl_commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "resoctl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return RESOCTL_EXIT_USAGE;
}
