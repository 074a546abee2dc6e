/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for certs/src/fsutil.c, output.c and generate.c run
 * in-process: exclusive file creation with exact modes, symlink-safe tree
 * removal, the refusal and replacement rules of the output directory, and
 * the generator's layout and progress lines for a small plan.
 */
#include "check.h"
#include "fsutil.h"
#include "generate.h"
#include "output.h"
#include "plan.h"

#include "task.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
path_of(const char *dir, const char *name)
{
    char *p = malloc(PATH_MAX);

    ASSERT_NOT_NULL(p);
    snprintf(p, PATH_MAX, "%s/%s", dir, name);
    return p;
}

static unsigned
mode_of(const char *path)
{
    struct stat st;

    ASSERT_EQ(lstat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

TEST_IMPL(write_file_modes)
{
    char *dir = check_tmpdir();
    char *key = path_of(dir, "priv_sk"), *pub = path_of(dir, "c.pem");
    char *link = path_of(dir, "link"), *want = malloc(PATH_MAX);
    hlf_error_t err;
    char *text;

    ASSERT_NOT_NULL(want);
    umask(022);
    ASSERT_EQ(certs_write_file(key, "secret", 6, CERTS_SECRET_MODE, NULL),
              HLF_OK);
    ASSERT_EQ(mode_of(key), 0600);
    ASSERT_EQ(certs_write_file(pub, "cert", 4, CERTS_PUBLIC_MODE, NULL),
              HLF_OK);
    ASSERT_EQ(mode_of(pub), 0644);
    text = check_read(key, NULL);
    ASSERT_STR_EQ(text, "secret");
    free(text);
    /* An existing file is never overwritten. */
    hlf_error_clear(&err);
    ASSERT_EQ(certs_write_file(key, "other", 5, CERTS_SECRET_MODE, &err),
              HLF_EIO);
    snprintf(want, PATH_MAX, "cannot create file \"%s\": File exists", key);
    ASSERT_STR_EQ(err.text, want);
    text = check_read(key, NULL);
    ASSERT_STR_EQ(text, "secret");
    free(text);
    /* Nor is a symlink followed, even a dangling one. */
    ASSERT_EQ(symlink("/nonexistent/reso-certs-target", link), 0);
    ASSERT_EQ(certs_write_file(link, "x", 1, CERTS_SECRET_MODE, NULL),
              HLF_EIO);
    check_rmtree(dir);
    free(want);
    free(link);
    free(pub);
    free(key);
    free(dir);
}

TEST_IMPL(mkdir_p_and_errors)
{
    char *dir = check_tmpdir();
    char *deep = path_of(dir, "a/b/c"), *file = path_of(dir, "f");
    char *under = path_of(dir, "f/x"), *want = malloc(PATH_MAX);
    hlf_error_t err;

    ASSERT_NOT_NULL(want);
    ASSERT_EQ(certs_mkdir_p(deep, NULL), HLF_OK);
    ASSERT_EQ(certs_mkdir_p(deep, NULL), HLF_OK); /* idempotent */
    ASSERT_EQ(mode_of(deep) & 0700, 0700);
    check_write(file, "x");
    hlf_error_clear(&err);
    ASSERT_EQ(certs_mkdir_p(under, &err), HLF_EIO);
    snprintf(want, PATH_MAX, "cannot create directory \"%s\": Not a "
                             "directory", under);
    ASSERT_STR_EQ(err.text, want);
    hlf_error_clear(&err);
    ASSERT_EQ(certs_mkdir_p(file, &err), HLF_EIO);
    snprintf(want, PATH_MAX, "cannot create directory \"%s\": Not a "
                             "directory", file);
    ASSERT_STR_EQ(err.text, want);
    check_rmtree(dir);
    free(want);
    free(under);
    free(file);
    free(deep);
    free(dir);
}

TEST_IMPL(remove_tree_keeps_link_targets)
{
    char *outside = check_tmpdir(), *dir = check_tmpdir();
    char *victim = path_of(outside, "keep.txt");
    char *tree = path_of(dir, "tree"), *sub = path_of(dir, "tree/sub");
    char *link = path_of(dir, "tree/sub/to-outside");
    char *flink = path_of(dir, "tree/to-file");

    check_write(victim, "keep");
    ASSERT_EQ(certs_mkdir_p(sub, NULL), HLF_OK);
    ASSERT_EQ(symlink(outside, link), 0);
    ASSERT_EQ(symlink(victim, flink), 0);
    ASSERT_EQ(certs_remove_tree(tree, NULL), HLF_OK);
    ASSERT_EQ(access(tree, F_OK), -1);
    ASSERT_EQ(access(victim, F_OK), 0);
    ASSERT_EQ(certs_remove_tree(tree, NULL), HLF_OK); /* missing is fine */
    check_rmtree(dir);
    check_rmtree(outside);
    free(flink);
    free(link);
    free(sub);
    free(tree);
    free(victim);
    free(dir);
    free(outside);
}

TEST_IMPL(first_entry)
{
    char *dir = check_tmpdir();
    char *b = path_of(dir, "b"), *a = path_of(dir, "a.dir");
    char name[64];
    int found = -1;

    ASSERT_EQ(certs_dir_first_entry(dir, name, sizeof(name), &found, NULL),
              HLF_OK);
    ASSERT_EQ(found, 0);
    ASSERT_STR_EQ(name, "");
    check_write(b, "b");
    ASSERT_EQ(certs_mkdir_p(a, NULL), HLF_OK);
    ASSERT_EQ(certs_dir_first_entry(dir, name, sizeof(name), &found, NULL),
              HLF_OK);
    ASSERT_EQ(found, 1);
    ASSERT_STR_EQ(name, "a.dir");
    check_rmtree(dir);
    ASSERT_EQ(certs_dir_first_entry(dir, name, sizeof(name), &found, NULL),
              HLF_EIO);
    free(a);
    free(b);
    free(dir);
}

TEST_IMPL(output_refuses_non_empty)
{
    char *dir = check_tmpdir();
    char *note = path_of(dir, "notes.txt"), *want = malloc(PATH_MAX);
    struct certs_output o;
    hlf_error_t err;
    char *listing;

    ASSERT_NOT_NULL(want);
    check_write(note, "mine");
    hlf_error_clear(&err);
    ASSERT_EQ(certs_output_open(&o, dir, 0, &err), HLF_EEXIST);
    snprintf(want, PATH_MAX, "output directory \"%s\" is not empty (it "
             "contains \"notes.txt\"); pass --force to replace the "
             "generated material, or choose an empty --out", dir);
    ASSERT_STR_EQ(err.text, want);
    ASSERT_STR_EQ(o.staging, "");
    listing = check_list(dir);
    ASSERT_STR_EQ(listing, "notes.txt");
    free(listing);
    /* With force: a private staging directory inside dir. */
    ASSERT_EQ(certs_output_open(&o, dir, 1, NULL), HLF_OK);
    ASSERT_EQ(strncmp(o.staging, dir, strlen(dir)), 0);
    ASSERT_EQ(strncmp(o.staging + strlen(dir), "/" CERTS_STAGING_PREFIX,
                      strlen(CERTS_STAGING_PREFIX) + 1),
              0);
    ASSERT_EQ(mode_of(o.staging), 0700);
    certs_output_abort(&o);
    ASSERT_STR_EQ(o.staging, "");
    listing = check_list(dir);
    ASSERT_STR_EQ(listing, "notes.txt");
    free(listing);
    check_rmtree(dir);
    free(want);
    free(note);
    free(dir);
}

TEST_IMPL(output_commit_replaces_owned_trees)
{
    char *dir = check_tmpdir();
    char *old_peer = path_of(dir, "peerOrganizations/stale.example");
    char *old_ord = path_of(dir, "ordererOrganizations/old.example");
    char *note = path_of(dir, "keep.txt");
    char path[PATH_MAX + 64];
    struct certs_output o;
    char *listing;

    ASSERT_EQ(certs_mkdir_p(old_peer, NULL), HLF_OK);
    ASSERT_EQ(certs_mkdir_p(old_ord, NULL), HLF_OK);
    check_write(note, "keep");
    ASSERT_EQ(certs_output_open(&o, dir, 1, NULL), HLF_OK);
    snprintf(path, sizeof(path), "%s/peerOrganizations/new.example",
             o.staging);
    ASSERT_EQ(certs_mkdir_p(path, NULL), HLF_OK);
    snprintf(path, sizeof(path), "%s/ordererOrganizations/o.example",
             o.staging);
    ASSERT_EQ(certs_mkdir_p(path, NULL), HLF_OK);
    ASSERT_EQ(certs_output_commit(&o, NULL), HLF_OK);
    ASSERT_STR_EQ(o.staging, "");
    listing = check_list(dir);
    ASSERT_STR_EQ(listing, "keep.txt,ordererOrganizations,"
                           "peerOrganizations");
    free(listing);
    snprintf(path, sizeof(path), "%s/peerOrganizations", dir);
    listing = check_list(path);
    ASSERT_STR_EQ(listing, "new.example");
    free(listing);
    snprintf(path, sizeof(path), "%s/ordererOrganizations", dir);
    listing = check_list(path);
    ASSERT_STR_EQ(listing, "o.example");
    free(listing);
    check_rmtree(dir);
    free(note);
    free(old_ord);
    free(old_peer);
    free(dir);
}

TEST_IMPL(config_yaml_text)
{
    char *dir = check_tmpdir();
    char *file = path_of(dir, "config.yaml");
    char buf[1024], small[64];
    hlf_error_t err;

    ASSERT_EQ(certs_config_yaml("ca.x.example-cert.pem", buf, sizeof(buf),
                                NULL),
              HLF_OK);
    check_write(file, buf);
    check_config_yaml(file, "ca.x.example-cert.pem");
    hlf_error_clear(&err);
    ASSERT_EQ(certs_config_yaml("ca.x.example-cert.pem", small,
                                sizeof(small), &err),
              HLF_EINVAL);
    ASSERT_STR_EQ(err.text, "config.yaml too long");
    check_rmtree(dir);
    free(file);
    free(dir);
}

TEST_IMPL(generate_small_plan)
{
    char *dir = check_tmpdir();
    struct certs_plan p;
    struct certs_org org;
    char path[PATH_MAX + 64];
    char *progress = NULL, *listing;
    size_t plen = 0, certs = 0, keys = 0;
    FILE *fp = open_memstream(&progress, &plen);

    ASSERT_NOT_NULL(fp);
    certs_plan_init(&p);
    ASSERT_EQ(certs_org_parse("Solo:SoloMSP:solo.example", &org, NULL),
              HLF_OK);
    ASSERT_EQ(certs_plan_add_member(&p, &org, NULL), HLF_OK);
    p.peers = 2;
    p.users = 0;
    p.days = 30;
    ASSERT_EQ(certs_plan_finish(&p, NULL), HLF_OK);
    ASSERT_EQ(certs_generate(&p, dir, fp, NULL), HLF_OK);
    ASSERT_EQ(fclose(fp), 0);
    ASSERT_STR_EQ(progress,
                  "reso-certs: Orderer (OrdererMSP, orderer.reso.example): "
                  "CAs, org MSP, orderer0, Admin\n"
                  "reso-certs: Solo (SoloMSP, solo.example): CAs, org MSP, "
                  "2 peer(s), Admin, 0 user(s), chaincode server\n");
    free(progress);
    snprintf(path, sizeof(path), "%s/peerOrganizations/solo.example", dir);
    listing = check_list(path);
    ASSERT_STR_EQ(listing, "ca,chaincode,msp,peers,tlsca,users");
    free(listing);
    snprintf(path, sizeof(path), "%s/peerOrganizations/solo.example/peers",
             dir);
    listing = check_list(path);
    ASSERT_STR_EQ(listing, "peer0.solo.example,peer1.solo.example");
    free(listing);
    snprintf(path, sizeof(path), "%s/peerOrganizations/solo.example/users",
             dir);
    listing = check_list(path);
    ASSERT_STR_EQ(listing, "Admin@solo.example");
    free(listing);
    /* Orderer org 14 certs + 6 keys; Solo 4 + 2x5 + 5 + 2 = 21 and 9. */
    check_all_files(dir, &certs, &keys);
    ASSERT_EQ(certs, 14 + 21);
    ASSERT_EQ(keys, 6 + 9);
    check_rmtree(dir);
    free(dir);
}

TEST_IMPL(generate_reports_io_errors)
{
    char *dir = check_tmpdir();
    char *blocker = path_of(dir, "peerOrganizations");
    char want[PATH_MAX + 256];
    struct certs_plan p;
    hlf_error_t err;

    /* A file where the peer tree must go makes mkdir fail mid-run. */
    check_write(blocker, "in the way");
    certs_plan_init(&p);
    ASSERT_EQ(certs_plan_finish(&p, NULL), HLF_OK);
    hlf_error_clear(&err);
    ASSERT_EQ(certs_generate(&p, dir, NULL, &err), HLF_EIO);
    snprintf(want, sizeof(want), "org Brokerage: cannot create directory "
             "\"%s/peerOrganizations/brokerage.reso.example\": Not a "
             "directory", dir);
    ASSERT_STR_EQ(err.text, want);
    check_rmtree(dir);
    free(blocker);
    free(dir);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(write_file_modes),
    TEST_ENTRY(mkdir_p_and_errors),
    TEST_ENTRY(remove_tree_keeps_link_targets),
    TEST_ENTRY(first_entry),
    TEST_ENTRY(output_refuses_non_empty),
    TEST_ENTRY(output_commit_replaces_owned_trees),
    TEST_ENTRY(config_yaml_text),
    TEST_ENTRY(generate_small_plan),
    TEST_ENTRY(generate_reports_io_errors),
};

TEST_MAIN(tests)
