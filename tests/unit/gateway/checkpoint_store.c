/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the follower checkpoint (gateway/src/checkpoint.c): the
 * exact file, reload, refusal of anything that is not a checkpoint of the
 * channel, bad arguments, and atomicity: a writer killed with SIGKILL at
 * random moments never leaves a torn or missing checkpoint behind.
 */
#include "gwtest.h"
#include "hub.h"
#include "task.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const CH = "reso-events";

/* Directory entries other than . and .. (a temporary file left behind
 * would count). */
static int
count_entries(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int n = 0;

    ASSERT_NOT_NULL(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static char *
read_text(const char *dir, const char *name)
{
    char path[4096], *buf;
    FILE *fp;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    buf = calloc(1, 8192);
    ASSERT_NOT_NULL(buf);
    n = (long)fread(buf, 1, 8191, fp);
    ASSERT(n >= 0);
    fclose(fp);
    return buf;
}

static void
write_text(const char *dir, const char *name, const char *text)
{
    free(gwt_write(dir, name, text));
}

static gw_checkpoint_t
cp_of(uint64_t block, uint32_t tx)
{
    gw_checkpoint_t cp;

    cp.valid = 1;
    cp.block = block;
    cp.tx_index = tx;
    return cp;
}

TEST_IMPL(missing_means_start)
{
    char *dir = gwt_tmpdir();
    gw_checkpoint_t cp;

    memset(&cp, 0x5a, sizeof(cp));
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &cp, NULL), HLF_OK);
    ASSERT_EQ(cp.valid, 0);
    ASSERT_EQ(cp.block, 0);
    ASSERT_EQ(cp.tx_index, 0);
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(save_and_reload)
{
    char *dir = gwt_tmpdir(), *text, path[4096];
    gw_checkpoint_t cp = cp_of(12, 3), got;
    struct stat st;

    ASSERT_EQ(gw_checkpoint_save(dir, CH, &cp, NULL), HLF_OK);
    text = read_text(dir, "checkpoint-reso-events.json");
    ASSERT_STR_EQ(text, "{\"channel\":\"reso-events\",\"block\":12,"
                        "\"tx_index\":3,\"sequence\":786435}\n");
    free(text);
    snprintf(path, sizeof(path), "%s/checkpoint-reso-events.json", dir);
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_OK);
    ASSERT_EQ(got.valid, 1);
    ASSERT_EQ(got.block, 12);
    ASSERT_EQ(got.tx_index, 3);

    /* Replaced, not appended; extremes survive. */
    cp = cp_of(((uint64_t)1 << 47) - 1, GW_SEQ_TX_MAX);
    ASSERT_EQ(gw_checkpoint_save(dir, CH, &cp, NULL), HLF_OK);
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_OK);
    ASSERT_EQ(got.block, ((uint64_t)1 << 47) - 1);
    ASSERT_EQ(got.tx_index, GW_SEQ_TX_MAX);
    cp = cp_of(0, 0);
    ASSERT_EQ(gw_checkpoint_save(dir, CH, &cp, NULL), HLF_OK);
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_OK);
    ASSERT_EQ(got.valid, 1);
    ASSERT_EQ(got.block, 0);
    ASSERT_EQ(got.tx_index, 0);

    /* Channels are separate files; no temporary file is left. */
    cp = cp_of(7, 1);
    ASSERT_EQ(gw_checkpoint_save(dir, "other.ch_1", &cp, NULL), HLF_OK);
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_OK);
    ASSERT_EQ(got.block, 0);
    ASSERT_EQ(gw_checkpoint_load(dir, "other.ch_1", &got, NULL), HLF_OK);
    ASSERT_EQ(got.block, 7);
    ASSERT_EQ(count_entries(dir), 2);
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(refuses_what_is_not_a_checkpoint)
{
    static const char *const bad[] = {
        "",
        "garbage",
        "{\"channel\":\"reso-events\",\"block\":12,\"tx_index\":3}",
        "{\"channel\":\"other\",\"block\":12,\"tx_index\":3,"
        "\"sequence\":786435}",
        "{\"channel\":\"reso-events\",\"block\":12,\"tx_index\":3,"
        "\"sequence\":786436}",
        "{\"channel\":\"reso-events\",\"block\":-1,\"tx_index\":0,"
        "\"sequence\":-65536}",
        "{\"channel\":\"reso-events\",\"block\":1,\"tx_index\":65536,"
        "\"sequence\":131072}",
        "{\"channel\":\"reso-events\",\"block\":\"12\",\"tx_index\":3,"
        "\"sequence\":786435}",
        "{\"channel\":\"reso-events\",\"block\":12,\"block\":12,"
        "\"tx_index\":3,\"sequence\":786435}",
        "[12,3]",
    };
    char *dir = gwt_tmpdir(), big[6000];
    gw_checkpoint_t got;
    hlf_error_t e;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_text(dir, "checkpoint-reso-events.json", bad[i]);
        hlf_error_clear(&e);
        got.valid = 1;
        if (gw_checkpoint_load(dir, CH, &got, &e) != HLF_EPROTO)
            TEST__FAIL("case %zu accepted: %s", i, bad[i]);
        ASSERT_EQ(got.valid, 0);
        ASSERT(strstr(e.text, "checkpoint-reso-events.json") != NULL);
    }
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_text(dir, "checkpoint-reso-events.json", big);
    hlf_error_clear(&e);
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, &e), HLF_EPROTO);
    ASSERT(strstr(e.text, "larger than") != NULL);
    /* A directory where the file should be. */
    gwt_rmrf(dir);
    ASSERT_EQ(mkdir(dir, 0700), 0);
    {
        char sub[4096];

        snprintf(sub, sizeof(sub), "%s/checkpoint-reso-events.json", dir);
        ASSERT_EQ(mkdir(sub, 0700), 0);
        ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_EIO);
    }
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(bad_arguments)
{
    static const char *const names[] = {"", "a/b", "..", ".", "a b",
                                        "ch\n", "é"};
    char *dir = gwt_tmpdir(), longname[202], file[4200];
    gw_checkpoint_t cp = cp_of(1, 1), got;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ASSERT_EQ(gw_checkpoint_save(dir, names[i], &cp, NULL), HLF_EINVAL);
        ASSERT_EQ(gw_checkpoint_load(dir, names[i], &got, NULL),
                  HLF_EINVAL);
    }
    memset(longname, 'a', 201);
    longname[201] = '\0';
    ASSERT_EQ(gw_checkpoint_save(dir, longname, &cp, NULL), HLF_EINVAL);
    longname[200] = '\0';
    ASSERT_EQ(gw_checkpoint_save(dir, longname, &cp, NULL), HLF_OK);
    ASSERT_EQ(gw_checkpoint_save(dir, NULL, &cp, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_checkpoint_save(NULL, CH, &cp, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_checkpoint_load(dir, CH, NULL, NULL), HLF_EINVAL);
    cp.valid = 0;
    ASSERT_EQ(gw_checkpoint_save(dir, CH, &cp, NULL), HLF_EINVAL);
    cp = cp_of(1, GW_SEQ_TX_MAX + 1);
    ASSERT_EQ(gw_checkpoint_save(dir, CH, &cp, NULL), HLF_EINVAL);
    cp = cp_of((uint64_t)1 << 47, 0);
    ASSERT_EQ(gw_checkpoint_save(dir, CH, &cp, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_checkpoint_save(dir, CH, NULL, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_OK);
    ASSERT_EQ(got.valid, 0);
    /* A state "dir" that is a file: an I/O error naming the path. */
    snprintf(file, sizeof(file), "%s/plainfile", dir);
    write_text(dir, "plainfile", "x");
    cp = cp_of(1, 1);
    {
        hlf_error_t e;

        hlf_error_clear(&e);
        ASSERT_EQ(gw_checkpoint_save(file, CH, &cp, &e), HLF_EIO);
        ASSERT(strstr(e.text, "plainfile/checkpoint-reso-events.json")
               != NULL);
    }
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(leftover_temp_is_harmless)
{
    char *dir = gwt_tmpdir();
    gw_checkpoint_t cp = cp_of(5, 2), got;

    ASSERT_EQ(gw_checkpoint_save(dir, CH, &cp, NULL), HLF_OK);
    /* What a crash between write and rename leaves: a torn temp file. */
    write_text(dir, "checkpoint-reso-events.json.tmp.1", "{\"chan");
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_OK);
    ASSERT_EQ(got.block, 5);
    ASSERT_EQ(got.tx_index, 2);
    cp = cp_of(6, 0);
    ASSERT_EQ(gw_checkpoint_save(dir, CH, &cp, NULL), HLF_OK);
    ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_OK);
    ASSERT_EQ(got.block, 6);
    ASSERT_EQ(got.tx_index, 0);
    gwt_rmrf(dir);
    free(dir);
}

/*
 * A child saves checkpoints (i, i % 7) for i = 1, 2, ... as fast as it
 * can; after a random delay it is killed with SIGKILL. Whatever moment
 * the kill hit, the file must hold a complete checkpoint of the series,
 * not older than one the child had reported as saved.
 */
TEST_IMPL(kill_9_never_tears)
{
    char *dir = gwt_tmpdir();
    int round, mid_series = 0;

    for (round = 0; round < 25; round++) {
        uint64_t base = (uint64_t)round * 100000, reported = base, v;
        char path[4096];
        gw_checkpoint_t got;
        int fds[2], status;
        pid_t pid;

        snprintf(path, sizeof(path), "%s/checkpoint-reso-events.json", dir);
        unlink(path);
        ASSERT_EQ(pipe(fds), 0);
        pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
            uint64_t i;

            close(fds[0]);
            for (i = 1;; i++) {
                gw_checkpoint_t cp = cp_of(base + i, (uint32_t)(i % 7));

                if (gw_checkpoint_save(dir, CH, &cp, NULL) != HLF_OK)
                    _exit(3);
                v = cp.block;
                if (write(fds[1], &v, sizeof(v)) != (ssize_t)sizeof(v))
                    _exit(4);
            }
        }
        close(fds[1]);
        /* Kill only after the child reported a few saves (more in later
         * rounds), so every kill lands inside a series however slow the
         * machine is; the moment itself is up to the scheduler. */
        while (reported < base + 2 + (uint64_t)(round % 5) &&
               read(fds[0], &v, sizeof(v)) == (ssize_t)sizeof(v))
            reported = v;
        ASSERT_GE(reported, base + 2 + (uint64_t)(round % 5));
        usleep((useconds_t)((round * 7919) % 3000));
        ASSERT_EQ(kill(pid, SIGKILL), 0);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT(WIFSIGNALED(status));
        while (read(fds[0], &v, sizeof(v)) == (ssize_t)sizeof(v))
            reported = v;
        close(fds[0]);
        ASSERT_EQ(gw_checkpoint_load(dir, CH, &got, NULL), HLF_OK);
        ASSERT_EQ(got.valid, 1);
        ASSERT_EQ(got.tx_index, (got.block - base) % 7);
        /* Saved means durable: never behind what the child reported (it
         * may be one ahead: renamed but not reported yet). */
        ASSERT_GE(got.block, reported);
        ASSERT_LE(got.block, reported + 1);
        ASSERT_GE(got.block, base + 1);
        mid_series += got.block > base + 1;
    }
    /* Every kill landed in the middle of a series of saves. */
    ASSERT_EQ(mid_series, 25);
    gwt_rmrf(dir);
    free(dir);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(missing_means_start),
    TEST_ENTRY(save_and_reload),
    TEST_ENTRY(refuses_what_is_not_a_checkpoint),
    TEST_ENTRY(bad_arguments),
    TEST_ENTRY(leftover_temp_is_harmless),
    TEST_ENTRY(kill_9_never_tears),
};

TEST_MAIN(tests)
