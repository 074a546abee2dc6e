/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small-file reading shared by identity loading and TLS setup. Buffers are
 * sized from fstat so a key is never copied through a growing buffer that
 * would leave unwiped fragments behind.
 */
#include "file.h"
#include "hlf/crypto.h"
#include "hlf/mem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int
hlf__read_file(const char *path, size_t max, char **out, size_t *len,
               hlf_error_t *err)
{
    struct stat st;
    FILE *fp;
    char *buf = NULL;
    size_t size = 0, n;
    int rc;

    fp = fopen(path, "rb");
    if (fp == NULL)
        return hlf_error_set(err, errno == ENOENT ? HLF_ENOTFOUND : HLF_EIO,
                             "%s: %s", path, strerror(errno));
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = hlf_error_set(err, HLF_EIO, "%s: not a regular file", path);
        goto fail;
    }
    if ((uintmax_t)st.st_size > max) {
        rc = hlf_error_set(err, HLF_EINVAL, "%s: larger than %zu bytes", path,
                           max);
        goto fail;
    }
    size = (size_t)st.st_size + 1;
    buf = hlf_malloc(size);
    if (buf == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    n = fread(buf, 1, size - 1, fp);
    if (ferror(fp)) {
        rc = hlf_error_set(err, HLF_EIO, "%s: read error", path);
        goto fail;
    }
    buf[n] = '\0';
    fclose(fp);
    *out = buf;
    *len = n;
    return HLF_OK;
fail:
    hlf__free_secret(buf, size);
    fclose(fp);
    return rc;
}

void
hlf__free_secret(void *buf, size_t len)
{
    if (buf != NULL) {
        hlf_wipe(buf, len);
        hlf_free(buf);
    }
}
