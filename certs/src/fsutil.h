/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File-system helpers for reso-certs: joining paths with a length check,
 * creating directories, writing new files with an exact mode (keys are
 * created 0600 by open(2), never chmod-ed afterwards), and removing a tree
 * without following symbolic links. Every failure names the path and the
 * OS error in err.
 *
 * THREAD SAFETY: reentrant, but error texts use strerror(3), so call from
 * one thread at a time (reso-certs is single-threaded).
 */
#ifndef CERTS_FSUTIL_H
#define CERTS_FSUTIL_H

#include "hlf/err.h"

#include <stddef.h>
#include <sys/types.h>

/* Mode of created directories and of certificate and config files. */
#define CERTS_DIR_MODE 0755
#define CERTS_PUBLIC_MODE 0644
/* Mode of private key files. */
#define CERTS_SECRET_MODE 0600

/*
 * snprintf into buf; HLF_EINVAL ("path too long") if it does not fit.
 */
int certs_path_fmt(char *buf, size_t size, hlf_error_t *err,
                   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Create path and any missing parents (mode CERTS_DIR_MODE). */
int certs_mkdir_p(const char *path, hlf_error_t *err);

/*
 * Create the new file path with mode (it must not exist; a symlink at
 * path is refused) and write len bytes of data (borrowed) to it. On
 * failure the partial file is removed.
 */
int certs_write_file(const char *path, const void *data, size_t len,
                     mode_t mode, hlf_error_t *err);

/*
 * Remove path recursively. Symbolic links are removed, never followed.
 * A missing path is not an error.
 */
int certs_remove_tree(const char *path, hlf_error_t *err);

/*
 * Look for an entry other than "." and ".." in directory path. *found is
 * 1 and name holds the alphabetically first entry (truncated to size),
 * or *found is 0 for an empty directory. HLF_EIO if path cannot be read.
 */
int certs_dir_first_entry(const char *path, char *name, size_t size,
                          int *found, hlf_error_t *err);

#endif /* CERTS_FSUTIL_H */
