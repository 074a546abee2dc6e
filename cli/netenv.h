/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connecting to a reso-ledger network as one organisation, from the
 * network description that `resoctl network env --json` prints (schema in
 * docs/network.md). Shared by resoctl's ledger commands, the integration
 * tests and the benchmarks so that all of them reach the ledger the same
 * way.
 *
 * THREAD SAFETY: a reso_org_t may be used by many threads at once (its
 * gateway and contract are thread-safe); open and close it on one thread.
 * reso_netenv_call and reso_netenv_print write to stdio: main thread.
 */
#ifndef RESO_NETENV_H
#define RESO_NETENV_H

#include <jansson.h>
#include <stddef.h>

#include "hlf/conn.h"
#include "hlf/gateway.h"
#include "hlf/identity.h"

/* One organisation's open connection to its own peer's Gateway. */
typedef struct reso_org_s {
    hlf_identity_t *id;
    hlf_conn_t *conn;
    hlf_gateway_t *gw;
    hlf_network_t *net;      /* borrowed from gw */
    hlf_contract_t *contract; /* borrowed from gw */
    const char *chaincode;    /* borrowed from the env JSON */
} reso_org_t;

/*
 * Load the network description: from env_file (a saved copy of the JSON)
 * if given, else by running `<resoctl> network env --json [--run-dir
 * run_dir]` where resoctl is the given executable path (NULL: this
 * process's own executable, i.e. when called from resoctl). *out is a new
 * reference. Returns 0, or -1 with a one-line reason in errbuf.
 */
int reso_netenv_load(const char *resoctl, const char *run_dir,
                     const char *env_file, json_t **out, char *errbuf,
                     size_t errlen);

/*
 * Open org (e.g. "Brokerage") as its "client" or "admin" user: load the
 * identity from its MSP directory and open a TLS connection and gateway to
 * the org's peer. Returns 0 and fills *o; -1 with the reason in errbuf
 * (unknown org: the reason lists the network's orgs). env must outlive o.
 */
int reso_netenv_open_org(json_t *env, const char *org, const char *user,
                         reso_org_t *o, char *errbuf, size_t errlen);

/* Close what reso_netenv_open_org opened. Safe on a zeroed struct. */
void reso_netenv_close_org(reso_org_t *o);

/*
 * For resoctl's ledger commands: fn on env's org as user (opened and
 * closed here), submitted when write is 1, else evaluated, with arg
 * (borrowed) as its one argument, or none when arg is NULL. Returns
 * RESOCTL_EXIT_OK with *res new (hlf_bytes_free); otherwise prints why
 * on stderr and returns RESOCTL_EXIT_FAIL (the org did not open or the
 * call failed) or, for a chaincode refusal, whose message is printed
 * verbatim, RESOCTL_EXIT_NOTFOUND (status 404) or RESOCTL_EXIT_REJECTED.
 */
/*
 * Print why the ledger call what failed (err borrowed) and return its
 * resoctl exit code: a chaincode refusal prints the chaincode's JSON
 * verbatim (RESOCTL_EXIT_NOTFOUND for status 404, else
 * RESOCTL_EXIT_REJECTED); any other failure prints one line with the
 * transaction id when known (RESOCTL_EXIT_FAIL).
 */
int reso_netenv_report(const char *what, const hlf_error_t *err);

int reso_netenv_call(json_t *env, const char *org, const char *user,
                     int write, const char *fn, const char *arg,
                     hlf_bytes_t *res);

/* Print res (borrowed) on stdout: indented JSON, or the bytes as they
 * are when they are not JSON, then a newline. */
void reso_netenv_print(const hlf_bytes_t *res);

#endif /* RESO_NETENV_H */
