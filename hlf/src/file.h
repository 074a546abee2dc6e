/* SPDX-License-Identifier: Apache-2.0 */
/* Private: reading small files (certificates, keys) into memory. */
#ifndef HLF_FILE_H
#define HLF_FILE_H

#include "hlf/err.h"

#include <stddef.h>

/*
 * Read the regular file path (at most max bytes) into a new hlf_malloc'd,
 * NUL-terminated buffer *out of *len bytes. HLF_ENOTFOUND if it does not
 * exist, HLF_EINVAL if larger than max, HLF_EIO, HLF_ENOMEM; err->text
 * names the path. Buffers that may hold keys are released with
 * hlf__free_secret.
 */
int hlf__read_file(const char *path, size_t max, char **out, size_t *len,
                   hlf_error_t *err);

/* Wipe len bytes of buf, then free it (buf may be NULL). */
void hlf__free_secret(void *buf, size_t len);

#endif /* HLF_FILE_H */
