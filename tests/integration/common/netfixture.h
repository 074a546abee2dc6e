/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for C tests that run on the ctest fixture network ("fabric"):
 * find the network from the fixture file, load `resoctl network env
 * --json` and open organisations' gateways. Failures abort the test with
 * an assertion; a fixture without Fabric makes the test skip.
 */
#ifndef RESO_NETFIXTURE_H
#define RESO_NETFIXTURE_H

#include <jansson.h>

#include "netenv.h"

/*
 * The network's run directory (new, free()) from the file named by
 * RESO_TEST_ENV_FILE; skips the test (exit 77) when the fixture recorded
 * NET_SKIP or did not run.
 */
char *netfx_run_dir(void);

/* The fixture network's env JSON (new reference), via $RESOCTL. */
json_t *netfx_env(void);

/* The string member key of obj (borrowed); fails the test if absent. */
const char *netfx_str(json_t *obj, const char *key);

/* Open org's client identity gateway; fails the test on error. */
void netfx_org_open(json_t *env, const char *org, reso_org_t *o);

/*
 * The demo Recorder registered to org when the network came up (borrowed
 * from env). Recorder binding is strict, so an org's client records with
 * its own org's Recorder; fails the test if env has none.
 */
const char *netfx_recorder(json_t *env, const char *org);

/*
 * Run `$RESOCTL <args> --run-dir <the fixture network>` as a separate
 * process (args: trusted, already quoted text such as "catalog activate
 * 1.3"): 0 when it exits 0, else -1 with its output on stderr. Tests use
 * it to restore shared state (profile, binding) even after a failure.
 */
int netfx_resoctl(const char *args);

#endif /* RESO_NETFIXTURE_H */
