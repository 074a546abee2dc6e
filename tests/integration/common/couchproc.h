/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A private pouchdb-server (the CouchDB-API server of network/couchdb) as
 * a child process of a test: started on a free loopback port with its
 * data under a temporary directory, checked for readiness over HTTP, and
 * stopped by PID (SIGTERM, then SIGKILL after a bound). It can be stopped
 * and started again on the same port and data directory, which is how the
 * tests simulate "CouchDB went away and came back".
 *
 * The server program is $RESO_POUCHDB_SERVER, else the one installed by
 * scripts/setup.sh (network/couchdb/node_modules/.bin/pouchdb-server).
 * When it is not installed couchproc_start returns COUCHPROC_MISSING so
 * the test can skip with that reason.
 *
 * A server still running when the test process ends (normally or by a
 * failed assertion's abort) is killed from an atexit and SIGABRT
 * handler; if the test itself is killed, PR_SET_PDEATHSIG ends it.
 * THREAD SAFETY: one test thread uses a couchproc_t at a time.
 */
#ifndef RESO_COUCHPROC_H
#define RESO_COUCHPROC_H

#include <sys/types.h>

/* couchproc_start: the server program is not installed. */
#define COUCHPROC_MISSING 77

typedef struct couchproc_s {
    char dir[1024];   /* temp dir: data/, config.json, server.log */
    char url[64];     /* "http://127.0.0.1:<port>" */
    int port;
    pid_t pid;        /* running server, or 0 */
    long wait_ms;     /* readiness and stop bound (default 60 s) */
} couchproc_t;

/*
 * Make a temp dir, pick a free port and start the server; wait until it
 * answers GET / with 200. Returns 0, COUCHPROC_MISSING (not installed;
 * nothing started) or -1 (failed: the log's tail went to stderr and
 * nothing is left running).
 */
int couchproc_start(couchproc_t *p);

/* Stop by PID: SIGTERM, wait up to wait_ms, then SIGKILL. No-op when
 * not running. The data directory stays. Returns 0. */
int couchproc_stop(couchproc_t *p);

/* SIGKILL now (a crash) and reap. No-op when not running. */
void couchproc_kill9(couchproc_t *p);

/* Start again on the same port and data (after stop or kill9). 0 / -1. */
int couchproc_restart(couchproc_t *p);

/* Stop if running and remove the temp dir. */
void couchproc_free(couchproc_t *p);

/* Print the last lines of the server's log to stderr. */
void couchproc_dump_log(const couchproc_t *p, int lines);

/* The server program (borrowed, static). */
const char *couchproc_bin(void);

#endif /* RESO_COUCHPROC_H */
