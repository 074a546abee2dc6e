/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Idempotency-Key store (gateway/src/idem.c): every state a key can
 * be in, that a restart reloads exactly what was answered or submitted,
 * that a torn or corrupt line is skipped with a warning without losing
 * the other records, retention and the size bound (with a fake clock),
 * compaction, the file mode, and the request hash and key syntax.
 */
#include "gwtest.h"
#include "ledger.h"
#include "task.h"

#include "hlf/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char TXID[] =
    "045ef5947de7155ed9e2a3ce4e1f2f9f25c7c3f35d0c44e8f1b0b2e8c9b57409";
static const char TXID2[] =
    "0ab25f30000000000000000000000000000000000000000000000000000f5f75";

static int64_t fake_now = 1700000000;

static int64_t
clock_fake(void)
{
    return fake_now;
}

typedef struct fix_s {
    char *dir;
    char path[1024];
    gw_idem_opts_t opts;
} fix_t;

static void
fix_make(fix_t *f)
{
    f->dir = gwt_tmpdir();
    snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, GW_IDEM_FILE);
    memset(&f->opts, 0, sizeof(f->opts));
    f->opts.now_s = clock_fake;
    fake_now = 1700000000;
}

static void
fix_free(fix_t *f)
{
    gwt_rmrf(f->dir);
    free(f->dir);
}

static gw_idem_t *
open_store(fix_t *f)
{
    gw_idem_t *st = NULL;
    hlf_error_t e;

    hlf_error_clear(&e);
    if (gw_idem_open(f->path, &f->opts, &st, &e) != HLF_OK)
        TEST__FAIL("gw_idem_open: %s", e.text);
    ASSERT_NOT_NULL(st);
    return st;
}

static void
hash_of(const char *json, uint8_t h[32])
{
    json_t *v = json_loads(json, 0, NULL);

    ASSERT_NOT_NULL(v);
    ASSERT_EQ(gw_idem_hash(v, h), HLF_OK);
    json_decref(v);
}

static gw_idem_state_t
begin(gw_idem_t *st, const char *client, const char *key, const char *body,
      gw_idem_lookup_t *l)
{
    uint8_t h[32];

    hash_of(body, h);
    ASSERT_EQ(gw_idem_begin(st, client, key, h, l, NULL), HLF_OK);
    return l->state;
}

static void
answer(gw_idem_t *st, const char *client, const char *key, int status,
       const char *body, const char *loc)
{
    json_t *b = json_loads(body, 0, NULL);

    ASSERT_NOT_NULL(b);
    ASSERT_EQ(gw_idem_answer(st, client, key, status, b, loc, NULL), HLF_OK);
    json_decref(b);
}

static size_t
file_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    size_t n = 0;
    int c;

    ASSERT_NOT_NULL(fp);
    while ((c = fgetc(fp)) != EOF)
        n += c == '\n';
    fclose(fp);
    return n;
}

static void
append_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "a");

    ASSERT_NOT_NULL(fp);
    fputs(text, fp);
    fclose(fp);
}

/* ------------------------------------------------------------------ */

TEST_IMPL(idem_states_in_memory)
{
    fix_t f;
    gw_idem_t *st;
    gw_idem_lookup_t l;

    fix_make(&f);
    st = open_store(&f);
    ASSERT_EQ(gw_idem_count(st), 0);
    ASSERT_EQ(begin(st, "app", "k1", "{\"a\":1}", &l), GW_IDEM_NEW);
    /* While owned: the same request is busy, another body conflicts. */
    ASSERT_EQ(begin(st, "app", "k1", "{\"a\":1}", &l), GW_IDEM_BUSY);
    ASSERT_EQ(begin(st, "app", "k1", "{\"a\":2}", &l), GW_IDEM_CONFLICT);
    /* Keys are scoped per client. */
    ASSERT_EQ(begin(st, "other", "k1", "{\"a\":2}", &l), GW_IDEM_NEW);
    gw_idem_unlock(st, "other", "k1");
    ASSERT_EQ(gw_idem_count(st), 1);
    answer(st, "app", "k1", 201, "{\"txid\":\"x\",\"block\":7}", NULL);
    ASSERT_EQ(begin(st, "app", "k1", "{ \"a\" : 1 }", &l), GW_IDEM_REPLAY);
    ASSERT_EQ(l.status, 201);
    ASSERT_STR_EQ(l.body, "{\"txid\":\"x\",\"block\":7}");
    ASSERT_NULL(l.location);
    gw_idem_lookup_dispose(&l);
    ASSERT_EQ(begin(st, "app", "k1", "{\"a\":3}", &l), GW_IDEM_CONFLICT);
    /* Release forgets the key entirely. */
    ASSERT_EQ(begin(st, "app", "k2", "{}", &l), GW_IDEM_NEW);
    ASSERT_EQ(gw_idem_release(st, "app", "k2", NULL), HLF_OK);
    ASSERT_EQ(gw_idem_count(st), 1);
    ASSERT_EQ(begin(st, "app", "k2", "{\"b\":1}", &l), GW_IDEM_NEW);
    gw_idem_unlock(st, "app", "k2");
    ASSERT_EQ(gw_idem_count(st), 1);
    /* Not owned: submitted/answer refuse. */
    ASSERT_EQ(gw_idem_submitted(st, "app", "k9", TXID, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_idem_submitted(st, "app", "k1", TXID, NULL), HLF_EINVAL);
    gw_idem_close(st);
    fix_free(&f);
}

TEST_IMPL(idem_restart_reloads)
{
    fix_t f;
    gw_idem_t *st;
    gw_idem_lookup_t l;
    struct stat sb;

    fix_make(&f);
    st = open_store(&f);
    ASSERT_EQ(begin(st, "app", "answered", "{\"a\":1}", &l), GW_IDEM_NEW);
    answer(st, "app", "answered", 202, "{\"txid\":\"t\",\"status\":"
           "\"PENDING\"}", "/v1/transactions/t");
    ASSERT_EQ(begin(st, "app", "rejected", "{\"a\":2}", &l), GW_IDEM_NEW);
    answer(st, "app", "rejected", 400, "{\"error\":{\"code\":"
           "\"INVALID_LOOKUP\",\"field\":\"System\",\"message\":\"m\"}}",
           NULL);
    ASSERT_EQ(begin(st, "app", "inflight", "{\"a\":3}", &l), GW_IDEM_NEW);
    ASSERT_EQ(gw_idem_submitted(st, "app", "inflight", TXID, NULL), HLF_OK);
    gw_idem_unlock(st, "app", "inflight");
    ASSERT_EQ(begin(st, "app", "released", "{\"a\":4}", &l), GW_IDEM_NEW);
    ASSERT_EQ(gw_idem_submitted(st, "app", "released", TXID2, NULL),
              HLF_OK);
    ASSERT_EQ(gw_idem_release(st, "app", "released", NULL), HLF_OK);
    /* Owned but never persisted: must not survive a crash. */
    ASSERT_EQ(begin(st, "app", "pending", "{\"a\":5}", &l), GW_IDEM_NEW);
    /* A, A, S, S, R appended (the pending key wrote nothing). */
    ASSERT_EQ(file_lines(f.path), 5);
    ASSERT_EQ(stat(f.path, &sb), 0);
    ASSERT_EQ(sb.st_mode & 0777, 0600);
    /* "Crash": drop the store without ending the pending key. */
    gw_idem_close(st);

    st = open_store(&f);
    ASSERT_EQ(gw_idem_count(st), 3);
    /* Compacted at open: one record per live key. */
    ASSERT_EQ(file_lines(f.path), 3);
    ASSERT_EQ(begin(st, "app", "answered", "{\"a\":1}", &l), GW_IDEM_REPLAY);
    ASSERT_EQ(l.status, 202);
    ASSERT_STR_EQ(l.body, "{\"txid\":\"t\",\"status\":\"PENDING\"}");
    ASSERT_STR_EQ(l.location, "/v1/transactions/t");
    gw_idem_lookup_dispose(&l);
    ASSERT_EQ(begin(st, "app", "rejected", "{\"a\":2}", &l), GW_IDEM_REPLAY);
    ASSERT_EQ(l.status, 400);
    ASSERT_STR_EQ(l.body, "{\"error\":{\"code\":\"INVALID_LOOKUP\","
                          "\"field\":\"System\",\"message\":\"m\"}}");
    gw_idem_lookup_dispose(&l);
    ASSERT_EQ(begin(st, "app", "rejected", "{\"a\":9}", &l),
              GW_IDEM_CONFLICT);
    /* The in-flight key comes back as SUBMITTED with its txid, owned. */
    ASSERT_EQ(begin(st, "app", "inflight", "{\"a\":3}", &l),
              GW_IDEM_SUBMITTED);
    ASSERT_STR_EQ(l.txid, TXID);
    ASSERT_EQ(l.submitted_s, 1700000000);
    ASSERT_EQ(begin(st, "app", "inflight", "{\"a\":3}", &l), GW_IDEM_BUSY);
    answer(st, "app", "inflight", 201, "{\"txid\":\"abc\"}", NULL);
    ASSERT_EQ(begin(st, "app", "released", "{\"a\":4}", &l), GW_IDEM_NEW);
    gw_idem_unlock(st, "app", "released");
    ASSERT_EQ(begin(st, "app", "pending", "{\"a\":5}", &l), GW_IDEM_NEW);
    gw_idem_unlock(st, "app", "pending");
    gw_idem_close(st);

    /* The answer given after the restart is what the next one sees. */
    st = open_store(&f);
    ASSERT_EQ(gw_idem_count(st), 3);
    ASSERT_EQ(begin(st, "app", "inflight", "{\"a\":3}", &l), GW_IDEM_REPLAY);
    ASSERT_EQ(l.status, 201);
    ASSERT_STR_EQ(l.body, "{\"txid\":\"abc\"}");
    gw_idem_lookup_dispose(&l);
    gw_idem_close(st);
    fix_free(&f);
}

TEST_IMPL(idem_corrupt_lines_skipped)
{
    fix_t f;
    gw_idem_t *st;
    gw_idem_lookup_t l;
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *logfp;

    fix_make(&f);
    st = open_store(&f);
    ASSERT_EQ(begin(st, "app", "k1", "{\"a\":1}", &l), GW_IDEM_NEW);
    answer(st, "app", "k1", 201, "{\"n\":1}", NULL);
    gw_idem_close(st);
    /* A record of another kind, a record missing its hash, then a torn
     * last line (crash in the middle of a write, no newline). */
    append_text(f.path, "{\"op\":\"X\",\"client\":\"app\",\"key\":\"k2\"}\n");
    append_text(f.path, "{\"op\":\"A\",\"client\":\"app\",\"key\":\"k3\","
                        "\"created\":1,\"status\":201,\"body\":{}}\n");
    append_text(f.path, "{\"op\":\"A\",\"client\":\"app\",\"key\":\"k1\","
                        "\"hash\":\"00");
    logfp = open_memstream(&logbuf, &loglen);
    ASSERT_NOT_NULL(logfp);
    hlf_log_set_file(logfp);
    st = open_store(&f);
    hlf_log_set_file(NULL);
    fclose(logfp);
    ASSERT_NOT_NULL(strstr(logbuf, "idempotency.jsonl:2: ignoring a "
                                   "corrupt record"));
    ASSERT_NOT_NULL(strstr(logbuf, "idempotency.jsonl:3: ignoring a "
                                   "corrupt record"));
    ASSERT_NOT_NULL(strstr(logbuf, "idempotency.jsonl:4: ignoring a "
                                   "corrupt record"));
    ASSERT_NOT_NULL(strstr(logbuf, "3 corrupt record(s) ignored"));
    free(logbuf);
    ASSERT_EQ(gw_idem_count(st), 1);
    ASSERT_EQ(begin(st, "app", "k1", "{\"a\":1}", &l), GW_IDEM_REPLAY);
    ASSERT_EQ(l.status, 201);
    ASSERT_STR_EQ(l.body, "{\"n\":1}");
    gw_idem_lookup_dispose(&l);
    /* The rewrite dropped the junk, and appends start on a fresh line. */
    ASSERT_EQ(begin(st, "app", "k4", "{}", &l), GW_IDEM_NEW);
    answer(st, "app", "k4", 201, "{\"n\":4}", NULL);
    ASSERT_EQ(file_lines(f.path), 2);
    gw_idem_close(st);
    st = open_store(&f);
    ASSERT_EQ(gw_idem_count(st), 2);
    gw_idem_close(st);
    fix_free(&f);
}

TEST_IMPL(idem_retention_and_bound)
{
    fix_t f;
    gw_idem_t *st;
    gw_idem_lookup_t l;
    char key[16];
    int i;

    fix_make(&f);
    f.opts.retention_s = 100;
    f.opts.max_entries = 3;
    st = open_store(&f);
    for (i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        fake_now = 1700000000 + i * 10;
        ASSERT_EQ(begin(st, "app", key, "{}", &l), GW_IDEM_NEW);
        answer(st, "app", key, 201, "{}", NULL);
    }
    /* The bound evicted the oldest (k0) when k3 came. */
    ASSERT_EQ(gw_idem_count(st), 3);
    ASSERT_EQ(begin(st, "app", "k1", "{}", &l), GW_IDEM_REPLAY);
    gw_idem_lookup_dispose(&l);
    /* k0 is gone: a first use again, whose entry evicts k1 now. */
    ASSERT_EQ(begin(st, "app", "k0", "{\"x\":1}", &l), GW_IDEM_NEW);
    gw_idem_unlock(st, "app", "k0");
    ASSERT_EQ(gw_idem_count(st), 2);
    ASSERT_EQ(begin(st, "app", "k2", "{}", &l), GW_IDEM_REPLAY);
    gw_idem_lookup_dispose(&l);
    /* k2 was created at +20: expired at +121, k3 (+30) not yet. */
    fake_now = 1700000000 + 121;
    ASSERT_EQ(begin(st, "app", "k3", "{}", &l), GW_IDEM_REPLAY);
    gw_idem_lookup_dispose(&l);
    ASSERT_EQ(gw_idem_count(st), 1);
    ASSERT_EQ(begin(st, "app", "k2", "{\"x\":1}", &l), GW_IDEM_NEW);
    gw_idem_unlock(st, "app", "k2");
    ASSERT_EQ(gw_idem_count(st), 1);
    gw_idem_close(st);
    /* A restart much later keeps nothing. */
    fake_now = 1700000000 + 1000;
    st = open_store(&f);
    ASSERT_EQ(gw_idem_count(st), 0);
    ASSERT_EQ(file_lines(f.path), 0);
    gw_idem_close(st);
    fix_free(&f);
}

TEST_IMPL(idem_compaction_while_running)
{
    fix_t f;
    gw_idem_t *st;
    gw_idem_lookup_t l;
    int i;

    fix_make(&f);
    st = open_store(&f);
    ASSERT_EQ(begin(st, "app", "keep", "{}", &l), GW_IDEM_NEW);
    answer(st, "app", "keep", 201, "{\"k\":1}", NULL);
    /* 600 keys each submitted then released: 1200 superseded records. */
    for (i = 0; i < 600; i++) {
        char key[16];

        snprintf(key, sizeof(key), "t%d", i);
        ASSERT_EQ(begin(st, "app", key, "{}", &l), GW_IDEM_NEW);
        ASSERT_EQ(gw_idem_submitted(st, "app", key, TXID, NULL), HLF_OK);
        ASSERT_EQ(gw_idem_release(st, "app", key, NULL), HLF_OK);
    }
    ASSERT_EQ(gw_idem_count(st), 1);
    /*
     * The 1024th record was the S of t511 (1 + 2 * 511 + 1): compaction
     * then rewrote the file as keep + t511's S, and t511's R and the
     * 88 keys after it appended 1 + 176 records.
     */
    ASSERT_EQ(file_lines(f.path), 2 + 1 + 176);
    gw_idem_close(st);
    st = open_store(&f);
    ASSERT_EQ(gw_idem_count(st), 1);
    ASSERT_EQ(file_lines(f.path), 1);
    ASSERT_EQ(begin(st, "app", "keep", "{}", &l), GW_IDEM_REPLAY);
    ASSERT_STR_EQ(l.body, "{\"k\":1}");
    gw_idem_lookup_dispose(&l);
    gw_idem_close(st);
    fix_free(&f);
}

TEST_IMPL(idem_open_errors)
{
    gw_idem_t *st = (gw_idem_t *)1;
    hlf_error_t e;

    hlf_error_clear(&e);
    ASSERT_EQ(gw_idem_open("/nonexistent-dir/x/idempotency.jsonl", NULL, &st,
                           &e),
              HLF_EIO);
    ASSERT_NULL(st);
    ASSERT_NOT_NULL(strstr(e.text, "/nonexistent-dir/x/"));
}

TEST_IMPL(idem_hash_and_key_syntax)
{
    uint8_t a[32], b[32], c[32];
    char longkey[300];

    /* Member order and whitespace do not matter, values do. */
    hash_of("{\"x\":1,\"y\":\"z\"}", a);
    hash_of("{ \"y\" : \"z\",\n \"x\" : 1 }", b);
    hash_of("{\"x\":1,\"y\":\"Z\"}", c);
    ASSERT_MEM_EQ(a, b, 32);
    ASSERT(memcmp(a, c, 32) != 0);
    ASSERT_EQ(gw_idem_key_valid("a"), 1);
    ASSERT_EQ(gw_idem_key_valid("order-42/retry_1:x"), 1);
    ASSERT_EQ(gw_idem_key_valid(""), 0);
    ASSERT_EQ(gw_idem_key_valid("has space"), 0);
    ASSERT_EQ(gw_idem_key_valid("tab\t"), 0);
    ASSERT_EQ(gw_idem_key_valid("\xc3\xa9"), 0);
    ASSERT_EQ(gw_idem_key_valid(NULL), 0);
    memset(longkey, 'k', sizeof(longkey));
    longkey[255] = '\0';
    ASSERT_EQ(gw_idem_key_valid(longkey), 1);
    longkey[255] = 'k';
    longkey[256] = '\0';
    ASSERT_EQ(gw_idem_key_valid(longkey), 0);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(idem_states_in_memory),
    TEST_ENTRY(idem_restart_reloads),
    TEST_ENTRY(idem_corrupt_lines_skipped),
    TEST_ENTRY(idem_retention_and_bound),
    TEST_ENTRY(idem_compaction_while_running),
    TEST_ENTRY(idem_open_errors),
    TEST_ENTRY(idem_hash_and_key_syntax),
};

TEST_MAIN(tests)
