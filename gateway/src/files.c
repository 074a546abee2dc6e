/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable file replacement for the gateway's state directory: the one
 * implementation of "write a temporary file, fsync it, rename it over the
 * target, fsync the directory" that checkpoints, webhook subscriptions
 * and the idempotency store rely on to survive a crash or power loss with
 * either the old or the new content, never a torn file.
 */
#include "gw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
gw_fsync_dir(const char *dir)
{
    int fd, rc;

    if (dir == NULL || dir[0] == '\0')
        return HLF_EINVAL;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return HLF_EIO;
    rc = fsync(fd);
    close(fd);
    return rc == 0 ? HLF_OK : HLF_EIO;
}

/* Split path into its directory (into dir, n bytes) and base name. */
static int
split_path(const char *path, char *dir, size_t n, const char **base)
{
    const char *slash = strrchr(path, '/');
    size_t dlen;

    if (slash == NULL) {
        if (n < 2)
            return HLF_EINVAL;
        memcpy(dir, ".", 2);
        *base = path;
        return HLF_OK;
    }
    dlen = slash == path ? 1 : (size_t)(slash - path);
    if (dlen >= n)
        return HLF_EINVAL;
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    *base = slash + 1;
    return HLF_OK;
}

int
gw_write_file_atomic(const char *path, const void *data, size_t len,
                     mode_t mode, hlf_error_t *err)
{
    char dir[4096], tmp[4200];
    const char *base = NULL, *p = data;
    size_t off = 0;
    int fd = -1, n, rc;

    if (path == NULL || (data == NULL && len > 0))
        return hlf_error_set(err, HLF_EINVAL, "write: no path or data");
    if (split_path(path, dir, sizeof(dir), &base) != HLF_OK ||
        base[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL, "write %s: not a file path",
                             path);
    /*
     * A hidden name in the same directory (rename does not cross file
     * systems) that no loader globbing "*.json" picks up; the pid keeps
     * two processes on one state dir from sharing it. A leftover from a
     * crash is truncated and reused by the next write of this process id.
     */
    n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, base,
                 (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return hlf_error_set(err, HLF_EINVAL, "write %s: path too long",
                             path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
    if (fd < 0)
        return hlf_error_set(err, HLF_EIO, "write %s: create %s: %s", path,
                             tmp, strerror(errno));
    /* The umask must not loosen or tighten what the caller asked for. */
    if (fchmod(fd, mode & 07777) != 0) {
        rc = hlf_error_set(err, HLF_EIO, "write %s: chmod: %s", path,
                           strerror(errno));
        goto fail;
    }
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = hlf_error_set(err, HLF_EIO, "write %s: %s", path,
                               w < 0 ? strerror(errno) : "short write");
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = hlf_error_set(err, HLF_EIO, "write %s: fsync: %s", path,
                           strerror(errno));
        goto fail;
    }
    rc = close(fd);
    fd = -1;
    if (rc != 0) {
        rc = hlf_error_set(err, HLF_EIO, "write %s: close: %s", path,
                           strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        rc = hlf_error_set(err, HLF_EIO, "write %s: rename: %s", path,
                           strerror(errno));
        goto fail;
    }
    /* The rename is durable only once the directory entry is. */
    if (gw_fsync_dir(dir) != HLF_OK)
        return hlf_error_set(err, HLF_EIO, "write %s: fsync of %s: %s",
                             path, dir, strerror(errno));
    return HLF_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}
