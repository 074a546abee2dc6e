/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output directory of a reso-certs run. Material is generated into a
 * private staging directory inside the output directory and moved into
 * place only when every file has been written, so a failed or interrupted
 * run never leaves a half-written tree where Fabric would look for it, and
 * --force replaces the old material only after the new one is complete.
 *
 * Without --force a non-empty output directory is refused (HLF_EEXIST).
 * With --force only the trees this tool owns, ordererOrganizations/ and
 * peerOrganizations/, are replaced; other entries are left alone.
 *
 * THREAD SAFETY: one run at a time per output directory.
 */
#ifndef CERTS_OUTPUT_H
#define CERTS_OUTPUT_H

#include "hlf/err.h"

#include <limits.h>

/* The two trees the generator writes and --force replaces. */
#define CERTS_ORDERER_TREE "ordererOrganizations"
#define CERTS_PEER_TREE "peerOrganizations"

/* Name prefix of the staging directory (mkdtemp adds six characters). */
#define CERTS_STAGING_PREFIX ".reso-certs-staging-"

struct certs_output {
    char dir[PATH_MAX];     /* the output directory as given */
    char staging[PATH_MAX]; /* dir/.reso-certs-staging-XXXXXX, or "" */
};

/*
 * Create dir (and parents) if needed, refuse a non-empty dir unless force
 * (HLF_EEXIST, the text naming the first entry found and how to proceed),
 * then create the staging directory o->staging.
 */
int certs_output_open(struct certs_output *o, const char *dir, int force,
                      hlf_error_t *err);

/*
 * Move every generated tree from staging into dir, replacing the old one,
 * then remove the staging directory (with the replaced trees in it). If a
 * move fails, the trees already moved are put back as they were.
 */
int certs_output_commit(struct certs_output *o, hlf_error_t *err);

/* Remove the staging directory after a failure (best effort). */
void certs_output_abort(struct certs_output *o);

#endif /* CERTS_OUTPUT_H */
