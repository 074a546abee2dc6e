/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generator: writes the cryptogen-compatible tree of layout.md for a
 * plan under a root directory (normally the staging directory of
 * output.h). Per org it creates the identity CA and the TLS CA, the org
 * (verifying) MSP, then one local MSP plus TLS pair per orderer, peer and
 * user, and for member orgs a TLS server pair for the chaincode server.
 *
 * THREAD SAFETY: reentrant; writes only below root.
 */
#ifndef CERTS_GENERATE_H
#define CERTS_GENERATE_H

#include "plan.h"

#include "hlf/err.h"

#include <stdio.h>

/*
 * Generate everything p describes under root (borrowed, an existing
 * directory whose org trees do not exist yet). After each org one line
 * "reso-certs: <Name> (<MSPID>, <domain>): ..." goes to progress (borrowed;
 * NULL for silence). Nothing secret is ever printed. On failure the
 * partial tree stays for the caller to remove.
 */
int certs_generate(const struct certs_plan *p, const char *root,
                   FILE *progress, hlf_error_t *err);

/*
 * The NodeOUs config.yaml for an MSP whose identity CA certificate is
 * cacerts/<ca_file>, into buf. HLF_EINVAL if it does not fit.
 */
int certs_config_yaml(const char *ca_file, char *buf, size_t size,
                      hlf_error_t *err);

#endif /* CERTS_GENERATE_H */
