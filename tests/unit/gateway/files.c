/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_write_file_atomic and gw_fsync_dir (gateway/src/files.c): exact
 * content and permission bits whatever the umask, replacement of an
 * existing file, no temporary file left behind on success or failure, the
 * target untouched when the write fails, bad arguments refused, and a
 * writer killed with SIGKILL at a random moment never leaves a torn file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw.h"
#include "gwtest.h"
#include "hlf/crypto.h"
#include "task.h"

/* The whole file (new, free()), or NULL if it does not exist. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;

    if (fp == NULL)
        return NULL;
    ASSERT_EQ(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    ASSERT(n >= 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    ASSERT_NOT_NULL(buf);
    ASSERT_EQ(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Entries of dir other than . and ..; the names joined by ',' in order
 * of strcmp, into out. */
static int
list_dir(const char *dir, char *out, size_t n)
{
    char names[16][256];
    struct dirent *de;
    DIR *d = opendir(dir);
    int count = 0, i, j;

    ASSERT_NOT_NULL(d);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        ASSERT(count < 16);
        snprintf(names[count++], sizeof(names[0]), "%s", de->d_name);
    }
    closedir(d);
    for (i = 1; i < count; i++) {
        for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[256];

            memcpy(t, names[j], sizeof(t));
            memcpy(names[j], names[j - 1], sizeof(t));
            memcpy(names[j - 1], t, sizeof(t));
        }
    }
    out[0] = '\0';
    for (i = 0; i < count; i++) {
        size_t l = strlen(out);

        snprintf(out + l, n - l, "%s%s", i ? "," : "", names[i]);
    }
    return count;
}

static unsigned
mode_of(const char *path)
{
    struct stat st;

    ASSERT_EQ(stat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

TEST_IMPL(writes_replaces_with_exact_mode)
{
    char *dir = gwt_tmpdir(), path[1024], names[1024], *got;
    hlf_error_t e;
    size_t len = 0;
    mode_t old;

    snprintf(path, sizeof(path), "%s/state.json", dir);
    /* A permissive umask must not widen 0600 ... */
    old = umask(0);
    ASSERT_EQ(gw_write_file_atomic(path, "first\n", 6, 0600, &e), HLF_OK);
    ASSERT_EQ(mode_of(path), 0600u);
    got = slurp(path, &len);
    ASSERT_EQ(len, 6);
    ASSERT_MEM_EQ(got, "first\n", 6);
    free(got);

    /* ... and a strict one must not narrow 0644; the old content is
     * replaced entirely (shorter), the mode is the new call's. */
    umask(077);
    ASSERT_EQ(gw_write_file_atomic(path, "2nd", 3, 0644, &e), HLF_OK);
    umask(old);
    ASSERT_EQ(mode_of(path), 0644u);
    got = slurp(path, &len);
    ASSERT_EQ(len, 3);
    ASSERT_MEM_EQ(got, "2nd", 3);
    free(got);

    /* Empty content is a valid (empty) file. */
    ASSERT_EQ(gw_write_file_atomic(path, NULL, 0, 0600, &e), HLF_OK);
    got = slurp(path, &len);
    ASSERT_EQ(len, 0);
    free(got);

    /* Binary data, NULs included, byte for byte. */
    {
        uint8_t data[3000];

        ASSERT_EQ(hlf_random_bytes(data, sizeof(data)), HLF_OK);
        data[0] = 0;
        ASSERT_EQ(gw_write_file_atomic(path, data, sizeof(data), 0600, &e),
                  HLF_OK);
        got = slurp(path, &len);
        ASSERT_EQ(len, sizeof(data));
        ASSERT_MEM_EQ(got, data, sizeof(data));
        free(got);
    }

    /* No temporary file is left next to it. */
    ASSERT_EQ(list_dir(dir, names, sizeof(names)), 1);
    ASSERT_STR_EQ(names, "state.json");
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(relative_path_in_cwd)
{
    char *dir = gwt_tmpdir(), names[1024], cwd[1024], *got;
    size_t len = 0;

    ASSERT_NOT_NULL(getcwd(cwd, sizeof(cwd)));
    ASSERT_EQ(chdir(dir), 0);
    ASSERT_EQ(gw_write_file_atomic("plain", "x", 1, 0600, NULL), HLF_OK);
    got = slurp("plain", &len);
    ASSERT_EQ(len, 1);
    ASSERT_MEM_EQ(got, "x", 1);
    free(got);
    ASSERT_EQ(chdir(cwd), 0);
    ASSERT_EQ(list_dir(dir, names, sizeof(names)), 1);
    ASSERT_STR_EQ(names, "plain");
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(failure_leaves_target_and_no_temp)
{
    char *dir = gwt_tmpdir(), path[1100], sub[1024], names[1024], *got;
    hlf_error_t e;
    size_t len = 0;

    /* The directory does not exist: HLF_EIO naming the file. */
    snprintf(path, sizeof(path), "%s/missing/state.json", dir);
    hlf_error_clear(&e);
    ASSERT_EQ(gw_write_file_atomic(path, "x", 1, 0600, &e), HLF_EIO);
    ASSERT(strstr(e.text, "missing/state.json: create ") != NULL);

    /* The target is a non-empty directory: rename fails; the directory
     * and its content stay, the temporary file is removed. */
    snprintf(sub, sizeof(sub), "%s/busy", dir);
    ASSERT_EQ(mkdir(sub, 0700), 0);
    free(gwt_write(sub, "inside", "keep"));
    hlf_error_clear(&e);
    ASSERT_EQ(gw_write_file_atomic(sub, "x", 1, 0600, &e), HLF_EIO);
    ASSERT(strstr(e.text, "rename") != NULL);
    ASSERT_EQ(list_dir(dir, names, sizeof(names)), 1);
    ASSERT_STR_EQ(names, "busy");
    snprintf(path, sizeof(path), "%s/inside", sub);
    got = slurp(path, &len);
    ASSERT_NOT_NULL(got);
    ASSERT_STR_EQ(got, "keep");
    free(got);

    /* A read-only directory: the old file is still the old file. */
    snprintf(path, sizeof(path), "%s/busy/inside", dir);
    ASSERT_EQ(chmod(sub, 0500), 0);
    if (access(sub, W_OK) != 0) { /* root may write anyway */
        hlf_error_clear(&e);
        ASSERT_EQ(gw_write_file_atomic(path, "new", 3, 0600, &e), HLF_EIO);
        got = slurp(path, &len);
        ASSERT_STR_EQ(got, "keep");
        free(got);
    }
    ASSERT_EQ(chmod(sub, 0700), 0);
    ASSERT_EQ(list_dir(sub, names, sizeof(names)), 1);
    ASSERT_STR_EQ(names, "inside");
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(bad_arguments)
{
    char *dir = gwt_tmpdir(), path[1024], names[1024];
    char long_name[300];
    hlf_error_t e;

    hlf_error_clear(&e);
    ASSERT_EQ(gw_write_file_atomic(NULL, "x", 1, 0600, &e), HLF_EINVAL);
    ASSERT_EQ(gw_write_file_atomic("", "x", 1, 0600, &e), HLF_EINVAL);
    snprintf(path, sizeof(path), "%s/", dir);
    ASSERT_EQ(gw_write_file_atomic(path, "x", 1, 0600, &e), HLF_EINVAL);
    snprintf(path, sizeof(path), "%s/f", dir);
    ASSERT_EQ(gw_write_file_atomic(path, NULL, 1, 0600, &e), HLF_EINVAL);
    /* A name the file system refuses (over NAME_MAX): HLF_EIO, nothing
     * written. */
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    snprintf(path, sizeof(path), "%s/%s", dir, long_name);
    ASSERT_EQ(gw_write_file_atomic(path, "x", 1, 0600, &e), HLF_EIO);
    ASSERT_EQ(list_dir(dir, names, sizeof(names)), 0);

    ASSERT_EQ(gw_fsync_dir(dir), HLF_OK);
    ASSERT_EQ(gw_fsync_dir(NULL), HLF_EINVAL);
    ASSERT_EQ(gw_fsync_dir(""), HLF_EINVAL);
    snprintf(path, sizeof(path), "%s/none", dir);
    ASSERT_EQ(gw_fsync_dir(path), HLF_EIO);
    gwt_rmrf(dir);
    free(dir);
}

/*
 * A child rewrites one file with 4096 copies of 'A', then 'B', ... as
 * fast as it can and is killed with SIGKILL after a random delay; the
 * file must then hold 4096 copies of one letter, never a mix or a short
 * file. Twenty rounds.
 */
TEST_IMPL(sigkill_never_tears)
{
    char *dir = gwt_tmpdir(), path[1024], *got;
    int round;

    snprintf(path, sizeof(path), "%s/torn.json", dir);
    ASSERT_EQ(gw_write_file_atomic(path, "", 0, 0600, NULL), HLF_OK);
    for (round = 0; round < 20; round++) {
        uint8_t r;
        size_t len = 0, i;
        pid_t pid;
        int st;

        ASSERT_EQ(hlf_random_bytes(&r, 1), HLF_OK);
        pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
            char buf[4096];
            int k;

            for (k = 0;; k++) {
                memset(buf, 'A' + k % 26, sizeof(buf));
                if (gw_write_file_atomic(path, buf, sizeof(buf), 0600,
                                         NULL) != HLF_OK)
                    _exit(3);
            }
        }
        gwt_sleep_ms(5 + r % 40);
        ASSERT_EQ(kill(pid, SIGKILL), 0);
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        ASSERT(WIFSIGNALED(st));
        got = slurp(path, &len);
        ASSERT_NOT_NULL(got);
        if (len != 0) {
            ASSERT_EQ(len, 4096);
            for (i = 1; i < len; i++)
                if (got[i] != got[0])
                    TEST__FAIL("torn file: byte %zu is %c, byte 0 %c", i,
                               got[i], got[0]);
        }
        free(got);
    }
    gwt_rmrf(dir);
    free(dir);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(writes_replaces_with_exact_mode),
    TEST_ENTRY(relative_path_in_cwd),
    TEST_ENTRY(failure_leaves_target_and_no_temp),
    TEST_ENTRY(bad_arguments),
    TEST_ENTRY(sigkill_never_tears),
};

TEST_MAIN(tests)
