/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of gateway/src/cid.c and documents.c: CIDv0 of files from
 * empty to a two-level tree against the CIDs IPFS's own importer computes
 * (tests/interop/ipfs-cid.mjs printed the vectors below; the interop test
 * cid_vs_ipfs recomputes them), incremental feeding in odd pieces, base58btc,
 * CID validation, and the REST module in-process: store and serve round
 * trip, HEAD, dedup, corruption detection (500 DOCUMENT_CORRUPT, never the
 * bad bytes), bad and unknown CIDs, the size limit (413) and 401.
 */
#include "gwtest.h"
#include "task.h"
#include "cid.h"
#include "cid_content.h"

#include "hlf/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const gw_module_t gw_module_documents;

/* Reference CIDs from ipfs-unixfs-importer (profile unixfs-v0-2015). */
static const struct {
    size_t size;
    const char *cid;
} vectors[] = {
    {0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"},
    {1, "QmRTgroCjkxdw1bCFMb3r1Yq9wy6Rddhdkc2UFFuTBEAFa"},
    {262144, "QmaZpdPvNjRp5drszadf9AP7WqCUM76puSe6ibgWc3f5R4"},
    {262145, "QmXLhekxjDY5jT2gzDGhoJURFDJEAWY3Npdmg7z8YoGJfL"},
    {524288, "QmZqWUr24SLCGheZj8L7QPnUu4rYh8j3kiSsLhHDDwiu8N"},
    {45613056, "Qmf14JDgK58JuEwZk2SUFZ8kgUbYbGmRQjex7sAyqAnaeH"},
    {45613057, "QmQWXY5VzKnZzfRsQDTaR8G2DCpZLnnMjn1CSaAyjBBEf6"},
    {52428800, "QmUrM1Km6oSUR73UJiYYRub9X3oiXFj9PH7eaHeHP1966P"},
};
#define NVEC (sizeof(vectors) / sizeof(vectors[0]))

TEST_IMPL(cid_matches_ipfs)
{
    size_t i;

    for (i = 0; i < NVEC; i++) {
        size_t n = vectors[i].size;
        uint8_t *buf = malloc(n > 0 ? n : 1);
        char cid[GW_CID_BUFSZ];

        ASSERT_NOT_NULL(buf);
        cid_content(buf, n);
        ASSERT_EQ(gw_cid_of_buffer(buf, n, cid), HLF_OK);
        if (strcmp(cid, vectors[i].cid) != 0)
            TEST__FAIL("size %zu: got %s, IPFS says %s", n, cid,
                       vectors[i].cid);
        ASSERT(gw_cid_is_valid(cid));
        free(buf);
    }
}

/* Feeding in pieces that straddle chunk boundaries changes nothing. */
TEST_IMPL(cid_incremental)
{
    static const size_t pieces[] = {1, 7, 65536 + 3, 262143, 262144, 2};
    size_t n = 45613057, off = 0, k = 0;
    uint8_t *buf = malloc(n);
    gw_cid_builder_t *b = NULL;
    char cid[GW_CID_BUFSZ];
    uint64_t size = 0;

    ASSERT_NOT_NULL(buf);
    cid_content(buf, n);
    ASSERT_EQ(gw_cid_builder_new(&b), HLF_OK);
    while (off < n) {
        size_t take = pieces[k++ % (sizeof(pieces) / sizeof(pieces[0]))];

        if (take > n - off)
            take = n - off;
        ASSERT_EQ(gw_cid_builder_update(b, buf + off, take), HLF_OK);
        off += take;
    }
    ASSERT_EQ(gw_cid_builder_update(b, NULL, 0), HLF_OK);
    ASSERT_EQ(gw_cid_builder_finish(b, cid, &size), HLF_OK);
    ASSERT_STR_EQ(cid, "QmQWXY5VzKnZzfRsQDTaR8G2DCpZLnnMjn1CSaAyjBBEf6");
    ASSERT_EQ(size, (uint64_t)n);
    /* Finished builders refuse more. */
    ASSERT_EQ(gw_cid_builder_update(b, buf, 1), HLF_EINVAL);
    ASSERT_EQ(gw_cid_builder_finish(b, cid, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_cid_builder_update(NULL, buf, 1), HLF_EINVAL);
    gw_cid_builder_free(b);
    free(buf);
}

TEST_IMPL(base58btc)
{
    static const uint8_t hello[] = "Hello World!";
    static const uint8_t zeros[] = {0, 0, 0x28, 0x7f, 0xb4, 0xcd};
    uint8_t back[64];
    size_t len = 0;
    char out[64];

    ASSERT_EQ(gw_base58btc_encode(hello, 12, out, sizeof(out)), HLF_OK);
    ASSERT_STR_EQ(out, "2NEpo7TZRRrLZSi2U");
    ASSERT_EQ(gw_base58btc_encode(zeros, sizeof(zeros), out, sizeof(out)),
              HLF_OK);
    ASSERT_STR_EQ(out, "11233QC4");
    ASSERT_EQ(gw_base58btc_encode(hello, 0, out, sizeof(out)), HLF_OK);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(gw_base58btc_encode(hello, 12, out, 17), HLF_ETOOBIG);
    ASSERT_EQ(gw_base58btc_decode("11233QC4", back, sizeof(back), &len),
              HLF_OK);
    ASSERT_EQ(len, sizeof(zeros));
    ASSERT_MEM_EQ(back, zeros, sizeof(zeros));
    ASSERT_EQ(gw_base58btc_decode("2NEpo7TZRRrLZSi2U", back, sizeof(back),
                                  &len), HLF_OK);
    ASSERT_EQ(len, 12);
    ASSERT_MEM_EQ(back, hello, 12);
    /* 0, O, I and l are not in the alphabet. */
    ASSERT_EQ(gw_base58btc_decode("2NEp0", back, sizeof(back), &len),
              HLF_EINVAL);
    ASSERT_EQ(gw_base58btc_decode("Il", back, sizeof(back), &len),
              HLF_EINVAL);
    ASSERT_EQ(gw_base58btc_decode("2NEpo7TZRRrLZSi2U", back, 11, &len),
              HLF_ETOOBIG);
}

TEST_IMPL(cid_validation)
{
    ASSERT_EQ(gw_cid_is_valid(vectors[0].cid), 1);
    ASSERT_EQ(gw_cid_is_valid(NULL), 0);
    ASSERT_EQ(gw_cid_is_valid(""), 0);
    /* One character short, one too many, wrong prefix, bad alphabet. */
    ASSERT_EQ(gw_cid_is_valid("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQ"),
              0);
    ASSERT_EQ(
        gw_cid_is_valid("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQHH"),
        0);
    ASSERT_EQ(gw_cid_is_valid("QnbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"),
              0);
    ASSERT_EQ(gw_cid_is_valid("Qm0FMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"),
              0);
    ASSERT_EQ(gw_cid_is_valid("../../../../etc/passwd"), 0);
}

/* ------------------------------------------------------------------ */
/* The REST module in-process                                         */
/* ------------------------------------------------------------------ */

#define KEY "documents-test-key-00000000000001"
#define AUTH "Authorization: Bearer " KEY

static gw_config_t *cfg;
static char *state;
static int port;

static void
start(void)
{
    char hk[65], text[2048];
    hlf_error_t e;

    state = gwt_tmpdir();
    gwt_sha256_hex(KEY, hk);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "state_dir %s\n"
             "access_log no\n"
             "rate_limit_per_key 0\n"
             /* Smaller than the documents these tests upload: the
              * document route has its own limit. */
             "max_body_bytes 65536\n"
             "documents_max_bytes 300000\n"
             "identity Brokerage BrokerageMSP /nonexistent/b\n"
             "apikey brokerage Brokerage %s\n", state, hk);
    cfg = gwt_config(text);
    if (gw_module_documents.init(cfg, &e) != HLF_OK)
        TEST__FAIL("init: %s", e.text);
    port = gwt_start(cfg);
    if (gw_module_documents.start(cfg, &e) != HLF_OK)
        TEST__FAIL("start: %s", e.text);
}

static void
finish(void)
{
    (void)gw_http_drain(2000);
    gwt_stop(cfg);
    cfg = NULL;
    gwt_rmrf(state);
    free(state);
    state = NULL;
}

static json_t *
json_of(const gwt_resp_t *r)
{
    json_t *j = json_loads(r->body, 0, NULL);

    ASSERT_NOT_NULL(j);
    return j;
}

static const char *
error_code(json_t *j)
{
    return json_string_value(
        json_object_get(json_object_get(j, "error"), "code"));
}

/* POST n bytes of cid_content; returns the response (gwt_resp_free). */
static void
post(size_t n, const char *const *hdrs, gwt_resp_t *r)
{
    uint8_t *buf = malloc(n > 0 ? n : 1);
    gwt_opts_t o = {0};

    ASSERT_NOT_NULL(buf);
    cid_content(buf, n);
    o.headers = hdrs;
    o.body = (const char *)buf;
    o.body_len = n;
    gwt_http("POST", port, "/v1/documents", &o, r);
    free(buf);
}

TEST_IMPL(rest_round_trip)
{
    static const char *const hdrs[] = {AUTH,
                                       "Content-Type: application/pdf",
                                       NULL};
    static const char *const get_hdrs[] = {AUTH, NULL};
    const char *cid = vectors[3].cid; /* 262145 bytes: two chunks */
    gwt_opts_t o = {0};
    gwt_resp_t r;
    char path[128], h[128];
    uint8_t *want;
    json_t *j;

    start();
    post(262145, hdrs, &r);
    ASSERT_EQ(r.status, 201);
    j = json_of(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "cid")), cid);
    snprintf(path, sizeof(path), "urn:ipfs:%s", cid);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "address")), path);
    ASSERT_EQ(json_integer_value(json_object_get(j, "size")), 262145);
    ASSERT_EQ(json_object_size(j), 3);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/documents/%s", cid);
    ASSERT_STR_EQ(gwt_header(&r, "Location", h, sizeof(h)), path);
    gwt_resp_free(&r);

    /* Served back byte for byte. */
    o.headers = get_hdrs;
    gwt_http("GET", port, path, &o, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, 262145);
    want = malloc(262145);
    ASSERT_NOT_NULL(want);
    cid_content(want, 262145);
    ASSERT_MEM_EQ(r.body, want, 262145);
    free(want);
    ASSERT_STR_EQ(gwt_header(&r, "Content-Type", h, sizeof(h)),
                  "application/octet-stream");
    ASSERT_STR_EQ(gwt_header(&r, "X-Content-Type-Options", h, sizeof(h)),
                  "nosniff");
    snprintf(path, sizeof(path), "\"%s\"", cid);
    ASSERT_STR_EQ(gwt_header(&r, "ETag", h, sizeof(h)), path);
    gwt_resp_free(&r);

    /* The urn:ipfs: form names the same document; HEAD has no body. */
    snprintf(path, sizeof(path), "/v1/documents/urn:ipfs:%s", cid);
    gwt_http("GET", port, path, &o, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, 262145);
    gwt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/documents/%s", cid);
    gwt_http("HEAD", port, path, &o, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, 0);
    ASSERT_STR_EQ(gwt_header(&r, "Content-Length", h, sizeof(h)), "262145");
    gwt_resp_free(&r);

    /* Storing the same bytes again is the same address, still 201. */
    post(262145, hdrs, &r);
    ASSERT_EQ(r.status, 201);
    j = json_of(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "cid")), cid);
    json_decref(j);
    gwt_resp_free(&r);

    /* The empty document is a document too. */
    post(0, hdrs, &r);
    ASSERT_EQ(r.status, 201);
    j = json_of(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "cid")),
                  vectors[0].cid);
    ASSERT_EQ(json_integer_value(json_object_get(j, "size")), 0);
    json_decref(j);
    gwt_resp_free(&r);
    finish();
}

TEST_IMPL(rest_corrupt_never_served)
{
    static const char *const hdrs[] = {AUTH, NULL};
    const char *cid = vectors[1].cid;
    gwt_opts_t o = {0};
    gwt_resp_t r;
    char path[128], file[4200];
    FILE *fp;
    json_t *j;

    start();
    post(1, hdrs, &r);
    ASSERT_EQ(r.status, 201);
    gwt_resp_free(&r);
    /* Flip the stored byte behind the gateway's back. */
    snprintf(file, sizeof(file), "%s/documents/%s", state, cid);
    fp = fopen(file, "wb");
    ASSERT_NOT_NULL(fp);
    ASSERT_EQ(fputc('X', fp), 'X');
    ASSERT_EQ(fclose(fp), 0);
    o.headers = hdrs;
    snprintf(path, sizeof(path), "/v1/documents/%s", cid);
    gwt_http("GET", port, path, &o, &r);
    ASSERT_EQ(r.status, 500);
    j = json_of(&r);
    ASSERT_STR_EQ(error_code(j), "DOCUMENT_CORRUPT");
    ASSERT_NULL(strchr(r.body, 'X'));
    json_decref(j);
    gwt_resp_free(&r);
    finish();
}

TEST_IMPL(rest_errors)
{
    static const char *const hdrs[] = {AUTH, NULL};
    gwt_opts_t o = {0};
    gwt_resp_t r;
    json_t *j;

    start();
    o.headers = hdrs;
    /* A well-formed CID nobody stored: 404. */
    gwt_http("GET", port,
             "/v1/documents/QmXLhekxjDY5jT2gzDGhoJURFDJEAWY3Npdmg7z8YoGJfL",
             &o, &r);
    ASSERT_EQ(r.status, 404);
    j = json_of(&r);
    ASSERT_STR_EQ(error_code(j), "NOT_FOUND");
    json_decref(j);
    gwt_resp_free(&r);
    /* Not a CID (and never a path): 400 naming the field. */
    gwt_http("GET", port, "/v1/documents/not-a-cid", &o, &r);
    ASSERT_EQ(r.status, 400);
    j = json_of(&r);
    ASSERT_STR_EQ(error_code(j), "BAD_REQUEST");
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(j, "error"), "field")), "cid");
    json_decref(j);
    gwt_resp_free(&r);
    /* One byte over documents_max_bytes: 413, nothing stored. */
    post(300001, hdrs, &r);
    ASSERT_EQ(r.status, 413);
    j = json_of(&r);
    ASSERT_STR_EQ(error_code(j), "PAYLOAD_TOO_LARGE");
    json_decref(j);
    gwt_resp_free(&r);
    /* Exactly the limit is fine. */
    post(300000, hdrs, &r);
    ASSERT_EQ(r.status, 201);
    gwt_resp_free(&r);
    /* No credentials: 401 for both routes. */
    post(10, NULL, &r);
    ASSERT_EQ(r.status, 401);
    gwt_resp_free(&r);
    o.headers = NULL;
    gwt_http("GET", port,
             "/v1/documents/QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
             &o, &r);
    ASSERT_EQ(r.status, 401);
    gwt_resp_free(&r);
    finish();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(cid_matches_ipfs),
    TEST_ENTRY(cid_incremental),
    TEST_ENTRY(base58btc),
    TEST_ENTRY(cid_validation),
    TEST_ENTRY(rest_round_trip),
    TEST_ENTRY(rest_corrupt_never_served),
    TEST_ENTRY(rest_errors),
};

TEST_MAIN(tests)
