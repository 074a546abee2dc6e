/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface of resoctl, the operator command line of reso-ledger:
 * the exit statuses every command uses and the prototypes of the command
 * functions listed in commands.def.
 */
#ifndef RESOCTL_H
#define RESOCTL_H

/*
 * Exit statuses shared by all commands (and by network/network.sh, whose
 * status resoctl passes through unchanged).
 */
enum {
    RESOCTL_EXIT_OK = 0,
    RESOCTL_EXIT_FAIL = 1,   /* the operation failed; stderr says why */
    RESOCTL_EXIT_USAGE = 2,  /* bad command line; usage on stderr */
    RESOCTL_EXIT_DOWN = 3,   /* status: something is not running */
    RESOCTL_EXIT_PREREQ = 4, /* a required program or file is missing */
    RESOCTL_EXIT_REJECTED = 5, /* the chaincode rejected the input */
    RESOCTL_EXIT_NOTFOUND = 6  /* the ledger has no such record */
};

/*
 * A command: argv[0] is the command name (e.g. "network"), argc >= 1, and
 * argv is NULL-terminated. Returns one of the RESOCTL_EXIT_* statuses, or
 * does not return at all when it replaces the process (execvp).
 * THREAD SAFETY: commands run on the main thread only.
 */
typedef int (*resoctl_cmd_fn)(int argc, char **argv);

#define RESOCTL_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef RESOCTL_COMMAND

#endif /* RESOCTL_H */
