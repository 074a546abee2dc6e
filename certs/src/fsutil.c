/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File-system helpers for reso-certs (see fsutil.h). Files are created
 * with O_EXCL and O_NOFOLLOW so that nothing pre-existing, and no link
 * planted by someone else, is ever written through.
 */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
certs_path_fmt(char *buf, size_t size, hlf_error_t *err, const char *fmt,
               ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return hlf_error_set(err, HLF_EINVAL,
                             "path too long (more than %zu bytes)",
                             size - 1);
    return HLF_OK;
}

static int
os_fail(hlf_error_t *err, const char *what, const char *path, int e)
{
    return hlf_error_set(err, HLF_EIO, "cannot %s \"%s\": %s", what, path,
                         strerror(e));
}

int
certs_mkdir_p(const char *path, hlf_error_t *err)
{
    char buf[PATH_MAX];
    struct stat st;
    size_t i, len = strlen(path);

    if (len == 0 || len >= sizeof(buf))
        return hlf_error_set(err, HLF_EINVAL, "bad directory path length");
    memcpy(buf, path, len + 1);
    /* Create each prefix ending before a '/', then the whole path. */
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, CERTS_DIR_MODE) != 0 && errno != EEXIST)
            return os_fail(err, "create directory", buf, errno);
        buf[i] = i < len ? '/' : '\0';
    }
    if (stat(path, &st) != 0)
        return os_fail(err, "create directory", path, errno);
    if (!S_ISDIR(st.st_mode))
        return os_fail(err, "create directory", path, ENOTDIR);
    return HLF_OK;
}

int
certs_write_file(const char *path, const void *data, size_t len,
                 mode_t mode, hlf_error_t *err)
{
    const char *p = data;
    ssize_t n;
    int fd;
    int e = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              mode);
    if (fd < 0)
        return os_fail(err, "create file", path, errno);
    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? errno : EIO;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e != 0) {
        unlink(path);
        return os_fail(err, "write file", path, e);
    }
    return HLF_OK;
}

/* Called for each entry of a directory; non-HLF_OK stops the walk. */
typedef int (*entry_fn)(const char *dir, const char *name, void *ctx,
                        hlf_error_t *err);

/* Call fn for every entry of directory path except "." and "..". */
static int
each_entry(const char *path, entry_fn fn, void *ctx, hlf_error_t *err)
{
    struct dirent *de;
    DIR *dir = opendir(path);
    int rc = HLF_OK;

    if (dir == NULL)
        return os_fail(err, "open directory", path, errno);
    while (rc == HLF_OK) {
        errno = 0;
        de = readdir(dir);
        if (de == NULL) {
            if (errno != 0)
                rc = os_fail(err, "read directory", path, errno);
            break;
        }
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            rc = fn(path, de->d_name, ctx, err);
    }
    closedir(dir);
    return rc;
}

static int
remove_entry(const char *dir, const char *name, void *ctx, hlf_error_t *err)
{
    char child[PATH_MAX];
    int rc = certs_path_fmt(child, sizeof(child), err, "%s/%s", dir, name);

    return rc != HLF_OK ? rc : certs_remove_tree(child, err);
}

int
certs_remove_tree(const char *path, hlf_error_t *err)
{
    struct stat st;
    int rc;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? HLF_OK
                               : os_fail(err, "inspect", path, errno);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0)
            return os_fail(err, "remove", path, errno);
        return HLF_OK;
    }
    /*
     * Entries are removed while the directory stream is open. POSIX leaves
     * it unspecified whether readdir returns a removed entry again; if it
     * does, lstat reports ENOENT and the recursion treats that as done.
     */
    rc = each_entry(path, remove_entry, NULL, err);
    if (rc == HLF_OK && rmdir(path) != 0)
        rc = os_fail(err, "remove directory", path, errno);
    return rc;
}

/* Where certs_dir_first_entry collects the smallest name. */
struct first_entry {
    char *name;
    size_t size;
    int found;
};

static int
note_entry(const char *dir, const char *name, void *ctx, hlf_error_t *err)
{
    struct first_entry *f = ctx;

    /* Report the alphabetically first entry, for stable messages. */
    if (!f->found || strcmp(name, f->name) < 0)
        snprintf(f->name, f->size, "%s", name);
    f->found = 1;
    return HLF_OK;
}

int
certs_dir_first_entry(const char *path, char *name, size_t size,
                      int *found, hlf_error_t *err)
{
    struct first_entry f = {name, size, 0};
    int rc;

    if (size > 0)
        name[0] = '\0';
    rc = each_entry(path, note_entry, &f, err);
    *found = f.found;
    return rc;
}
