/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Staging and installation of generated material (see output.h). The
 * replacement is two renames per tree within one file system: the old tree
 * moves into the staging directory, the new one moves out of it, and the
 * staging directory is deleted last.
 */
#include "output.h"

#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The trees the generator writes under the output directory. */
static const char *const owned_trees[] = {
    CERTS_ORDERER_TREE,
    CERTS_PEER_TREE,
};

#define N_TREES (sizeof(owned_trees) / sizeof(owned_trees[0]))

/* Sub-directory of staging that receives the replaced trees. */
#define REPLACED_DIR "replaced"

/* Where one tree lives during an installation, and what was done to it. */
struct tree_move {
    char src[PATH_MAX]; /* staging/<name>: the new tree */
    char dst[PATH_MAX]; /* dir/<name>: where it goes */
    char old[PATH_MAX]; /* staging/replaced/<name>: the previous tree */
    int moved_old;
    int moved_new;
};

int
certs_output_open(struct certs_output *o, const char *dir, int force,
                  hlf_error_t *err)
{
    char first[256];
    int found = 0;
    int rc;

    o->staging[0] = '\0';
    rc = certs_path_fmt(o->dir, sizeof(o->dir), err, "%s", dir);
    if (rc == HLF_OK)
        rc = certs_mkdir_p(dir, err);
    if (rc == HLF_OK && !force)
        rc = certs_dir_first_entry(dir, first, sizeof(first), &found, err);
    if (rc != HLF_OK)
        return rc;
    if (found)
        return hlf_error_set(err, HLF_EEXIST,
                             "output directory \"%s\" is not empty (it "
                             "contains \"%s\"); pass --force to replace the "
                             "generated material, or choose an empty --out",
                             dir, first);
    rc = certs_path_fmt(o->staging, sizeof(o->staging), err,
                        "%s/" CERTS_STAGING_PREFIX "XXXXXX", dir);
    if (rc != HLF_OK)
        return rc;
    if (mkdtemp(o->staging) == NULL) {
        rc = hlf_error_set(err, HLF_EIO,
                           "cannot create staging directory \"%s\": %s",
                           o->staging, strerror(errno));
        o->staging[0] = '\0';
    }
    return rc;
}

static int
move_paths(const struct certs_output *o, const char *name,
           struct tree_move *m, hlf_error_t *err)
{
    int rc;

    m->moved_old = 0;
    m->moved_new = 0;
    rc = certs_path_fmt(m->src, sizeof(m->src), err, "%s/%s", o->staging,
                        name);
    if (rc == HLF_OK)
        rc = certs_path_fmt(m->dst, sizeof(m->dst), err, "%s/%s", o->dir,
                            name);
    if (rc == HLF_OK)
        rc = certs_path_fmt(m->old, sizeof(m->old), err,
                            "%s/" REPLACED_DIR "/%s", o->staging, name);
    return rc;
}

/* Move the old tree (if any) aside, then the new tree (if any) in. */
static int
install_tree(struct tree_move *m, hlf_error_t *err)
{
    struct stat st;

    if (lstat(m->src, &st) != 0)
        return HLF_OK; /* this run generated no such tree */
    if (lstat(m->dst, &st) == 0) {
        if (rename(m->dst, m->old) != 0)
            return hlf_error_set(err, HLF_EIO,
                                 "cannot move \"%s\" aside: %s", m->dst,
                                 strerror(errno));
        m->moved_old = 1;
    }
    if (rename(m->src, m->dst) != 0)
        return hlf_error_set(err, HLF_EIO,
                             "cannot move new material to \"%s\": %s",
                             m->dst, strerror(errno));
    m->moved_new = 1;
    return HLF_OK;
}

/* Best-effort reversal of install_tree, used only after a failure. */
static void
undo_tree(const struct tree_move *m)
{
    if (m->moved_new)
        (void)rename(m->dst, m->src);
    if (m->moved_old)
        (void)rename(m->old, m->dst);
}

int
certs_output_commit(struct certs_output *o, hlf_error_t *err)
{
    struct tree_move moves[N_TREES];
    char keep[PATH_MAX];
    size_t i, n = 0;
    int rc;

    rc = certs_path_fmt(keep, sizeof(keep), err, "%s/" REPLACED_DIR,
                        o->staging);
    if (rc == HLF_OK)
        rc = certs_mkdir_p(keep, err);
    for (; rc == HLF_OK && n < N_TREES; n++) {
        rc = move_paths(o, owned_trees[n], &moves[n], err);
        if (rc == HLF_OK)
            rc = install_tree(&moves[n], err);
    }
    if (rc != HLF_OK) {
        /* Restore the previous state in reverse order. */
        for (i = n; i > 0; i--)
            undo_tree(&moves[i - 1]);
        return rc;
    }
    rc = certs_remove_tree(o->staging, err);
    if (rc == HLF_OK)
        o->staging[0] = '\0';
    return rc;
}

void
certs_output_abort(struct certs_output *o)
{
    if (o->staging[0] != '\0')
        (void)certs_remove_tree(o->staging, NULL);
    o->staging[0] = '\0';
}
