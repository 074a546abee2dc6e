/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway as a child process of a network test. One helper writes
 * the gateway's config from the fixture network's `resoctl network env
 * --json` (plus API keys and any extra config lines) under a temporary
 * directory, starts the binary (RESO_GATEWAY_BIN, else the one built next
 * to the test, so an ASan build is tested the same way) on a free
 * loopback port, waits until it listens, and stops it by PID: SIGTERM
 * with an exit-status check, SIGKILL for crash tests, and a restart on
 * the same state directory.
 *
 * A gateway that is still running when the test process ends, normally
 * or by a failed assertion (abort), is stopped from an atexit handler and
 * the SIGABRT handler: SIGTERM, then SIGKILL after a bound. A test killed
 * by the runner's timeout leaves it to PR_SET_PDEATHSIG (SIGKILL).
 *
 * Failures abort the test with an assertion and the tail of the log.
 * THREAD SAFETY: one test thread uses a gwproc_t at a time.
 */
#ifndef RESO_GWPROC_H
#define RESO_GWPROC_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "gwtest.h"

/* API keys a gateway can be given (one per identity). */
#define GWPROC_MAX_KEYS 4

typedef struct gwproc_s {
    char *dir;          /* temp dir (gwproc_free removes it) */
    char state[1024];   /* state_dir: dir/state */
    char conf[1024];    /* dir/gateway.conf */
    char log[1024];     /* dir/gateway.log: the gateway's stdout+stderr */
    pid_t pid;          /* running gateway, or 0 */
    int port;           /* its port once started */
    long wait_ms;       /* start and SIGTERM bound (default 60 s) */
    size_t nkeys;
    char keys[GWPROC_MAX_KEYS][96];  /* bearer tokens, per identity */
    char auth[GWPROC_MAX_KEYS][128]; /* "Authorization: Bearer <key>" */
} gwproc_t;

/* What to write into the config besides listen and state_dir. */
typedef struct gwproc_opts_s {
    /*
     * Identities (NULL-terminated, at most GWPROC_MAX_KEYS) that get one
     * random API key each, named "<lower-case identity>-<tag>"; keys[i]
     * and auth[i] follow this order.
     */
    const char *const *identities;
    const char *tag;   /* NULL: "it" */
    /* Lines naming channel, chaincode, identities and peers; NULL:
     * "network_env <dir>/env.json" imports them all from env. */
    const char *net;
    const char *extra; /* more config lines, or NULL */
} gwproc_opts_t;

/*
 * Create the temp dir, write env (borrowed) to dir/env.json and the
 * config. g is overwritten.
 */
void gwproc_prepare(gwproc_t *g, json_t *env, const gwproc_opts_t *o);

/*
 * Start the gateway and wait (wait_ms) until it listens: it writes
 * state/gateway.addr after binding. Fails the test (with the log's tail)
 * if it exits or does not get ready.
 */
void gwproc_start(gwproc_t *g);

/*
 * SIGTERM and wait up to wait_ms: the gateway must exit with status 0
 * (drained; under ASan also leak-free). SIGKILL and a test failure
 * otherwise. No-op when not running.
 */
void gwproc_term(gwproc_t *g);

/* SIGKILL (a crash: no drain, no checkpoint on the way out). */
void gwproc_kill9(gwproc_t *g);

/* gwproc_term if running, then remove dir and free it. */
void gwproc_free(gwproc_t *g);

/* Print the last `lines` lines of the gateway's log to stderr. */
void gwproc_dump_log(const gwproc_t *g, int lines);

/*
 * One request to the gateway as API key `key` (index into keys; -1: no
 * Authorization), with a JSON body (NULL: none; sets Content-Type) and
 * extra "Name: value" headers (NULL-terminated list or NULL). 30 s
 * timeout; a transport failure fails the test. r as gwt_http.
 */
void gwproc_request(const gwproc_t *g, int key, const char *method,
                    const char *path, const char *body,
                    const char *const *extra, gwt_resp_t *r);

/* The binary: $RESO_GATEWAY_BIN or RESO_GATEWAY_BIN_DEFAULT. */
const char *gwproc_bin(void);

#endif /* RESO_GWPROC_H */
