/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CouchDB client (gateway/src/couch.c) against a real pouchdb-server
 * started by the test (couchproc): database lifecycle, _bulk_docs with
 * per-document conflicts and failures, _local documents across clients,
 * Mango _index/_find, and every error path the indexer and the reports
 * depend on (404, 409, 412, 401, unreachable, bad options), each checked
 * by its exact code and HTTP status.
 */
#include "couch.h"
#include "couchproc.h"
#include "task.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static couchproc_t srv;

/* Start a private server (or skip when pouchdb-server is missing) and a
 * client for database db on it. */
static gw_couch_t *
start(const char *db)
{
    gw_couch_opts_t o;
    gw_couch_t *c = NULL;
    hlf_error_t e;
    int rc = couchproc_start(&srv);

    if (rc == COUCHPROC_MISSING)
        RETURN_SKIP("pouchdb-server is not installed (scripts/setup.sh)");
    ASSERT_EQ(rc, 0);
    memset(&o, 0, sizeof(o));
    o.url = srv.url;
    o.db = db;
    ASSERT_EQ(gw_couch_new(&o, &c, &e), HLF_OK);
    return c;
}

static json_t *
doc(const char *id, int x, const char *t)
{
    return json_pack("{s:s,s:i,s:s}", "_id", id, "x", x, "type", t);
}

TEST_IMPL(couch_db_lifecycle)
{
    gw_couch_t *c = start("reso-test");
    gw_couch_result_t r;
    hlf_error_t e;
    json_t *info = NULL;
    int created = -1;

    ASSERT_EQ(gw_couch_ping(c, &r, &e), HLF_OK);
    ASSERT_EQ(r.http_status, 200);
    ASSERT_EQ(gw_couch_db_info(c, &info, &r, &e), HLF_ENOTFOUND);
    ASSERT_EQ(r.http_status, 404);
    ASSERT_STR_EQ(r.error, "not_found");
    ASSERT_NULL(info);
    ASSERT_NOT_NULL(strstr(e.text, "CouchDB GET /reso-test: HTTP 404"));

    ASSERT_EQ(gw_couch_db_create(c, &created, &r, &e), HLF_OK);
    ASSERT_EQ(created, 1);
    ASSERT_EQ(r.http_status, 201);
    ASSERT_EQ(gw_couch_db_create(c, &created, &r, &e), HLF_OK);
    ASSERT_EQ(created, 0);
    ASSERT_EQ(r.http_status, 412);
    ASSERT_STR_EQ(r.error, "file_exists");

    ASSERT_EQ(gw_couch_db_info(c, &info, &r, &e), HLF_OK);
    ASSERT_STR_EQ(json_string_value(json_object_get(info, "db_name")),
                  "reso-test");
    ASSERT_EQ(json_integer_value(json_object_get(info, "doc_count")), 0);
    json_decref(info);

    ASSERT_EQ(gw_couch_db_delete(c, &r, &e), HLF_OK);
    ASSERT_EQ(r.http_status, 200);
    ASSERT_EQ(gw_couch_db_info(c, &info, &r, &e), HLF_ENOTFOUND);
    ASSERT_EQ(r.http_status, 404);
    gw_couch_free(c);
    couchproc_free(&srv);
}

TEST_IMPL(couch_bulk_conflicts_and_failures)
{
    gw_couch_t *c = start("reso-bulk");
    gw_couch_bulk_t b;
    gw_couch_result_t r;
    gw_couch_stats_t st;
    hlf_error_t e;
    json_t *docs, *res = NULL, *info = NULL, *guard;

    ASSERT_EQ(gw_couch_db_create(c, NULL, NULL, &e), HLF_OK);
    /* A validation function gives a per-document failure to count. */
    guard = json_pack("{s:s}", "validate_doc_update",
                      "function(d) { if (d.x === 5) "
                      "{ throw({forbidden: 'x is 5'}); } }");
    ASSERT_EQ(gw_couch_request(c, "PUT", "/reso-bulk/_design/guard", guard,
                               NULL, &r, &e), HLF_OK);
    ASSERT_EQ(r.http_status, 201);
    json_decref(guard);
    docs = json_array();
    json_array_append_new(docs, doc("ev:a", 1, "event"));
    json_array_append_new(docs, doc("ev:b", 2, "event"));
    json_array_append_new(docs, doc("ev:c", 3, "event"));
    ASSERT_EQ(gw_couch_bulk_docs(c, docs, &b, &res, &r, &e), HLF_OK);
    ASSERT_EQ(r.http_status, 201);
    ASSERT_EQ(b.ok, 3);
    ASSERT_EQ(b.conflicts, 0);
    ASSERT_EQ(b.failed, 0);
    ASSERT_EQ(json_array_size(res), 3);
    /* One result per document. CouchDB keeps the request's order;
     * pouchdb-server does not always, so compare as a set. */
    {
        int seen = 0;
        size_t i;

        for (i = 0; i < 3; i++) {
            const char *id = json_string_value(
                json_object_get(json_array_get(res, i), "id"));

            ASSERT_NOT_NULL(id);
            ASSERT(strlen(id) == 4 && strncmp(id, "ev:", 3) == 0 &&
                   id[3] >= 'a' && id[3] <= 'c');
            seen |= 1 << (id[3] - 'a');
        }
        ASSERT_EQ(seen, 7);
    }
    json_decref(res);
    json_decref(docs);

    /* A replay of two documents plus one new one and one the validation
     * function refuses. */
    docs = json_array();
    json_array_append_new(docs, doc("ev:b", 2, "event"));
    json_array_append_new(docs, doc("ev:d", 4, "event"));
    json_array_append_new(docs, doc("ev:bad", 5, "event"));
    json_array_append_new(docs, doc("ev:a", 1, "event"));
    ASSERT_EQ(gw_couch_bulk_docs(c, docs, &b, NULL, &r, &e), HLF_OK);
    ASSERT_EQ(b.ok, 1);
    ASSERT_EQ(b.conflicts, 2);
    ASSERT_EQ(b.failed, 1);
    ASSERT_STR_EQ(b.first_error, "ev:bad: forbidden: x is 5");
    json_decref(docs);

    ASSERT_EQ(gw_couch_db_info(c, &info, NULL, &e), HLF_OK);
    /* ev:a..ev:d and the design document. */
    ASSERT_EQ(json_integer_value(json_object_get(info, "doc_count")), 5);
    json_decref(info);

    /* Not an array: refused before any request. */
    docs = json_object();
    ASSERT_EQ(gw_couch_bulk_docs(c, docs, &b, NULL, NULL, &e), HLF_EINVAL);
    json_decref(docs);
    gw_couch_stats(c, &st);
    ASSERT_EQ(st.requests, 5);
    ASSERT_EQ(st.failures, 0);
    ASSERT(st.http_ns > 0);
    ASSERT(st.bytes_out > 0 && st.bytes_in > 0);

    /* Bulk into a database that does not exist. */
    ASSERT_EQ(gw_couch_db_delete(c, NULL, &e), HLF_OK);
    docs = json_array();
    json_array_append_new(docs, doc("ev:z", 1, "event"));
    ASSERT_EQ(gw_couch_bulk_docs(c, docs, &b, NULL, &r, &e), HLF_ENOTFOUND);
    ASSERT_EQ(r.http_status, 404);
    json_decref(docs);
    gw_couch_free(c);
    couchproc_free(&srv);
}

TEST_IMPL(couch_local_docs)
{
    gw_couch_t *c = start("reso-local"), *c2 = NULL;
    gw_couch_opts_t o;
    gw_couch_result_t r;
    hlf_error_t e;
    json_t *d = NULL, *ck;
    int i;

    ASSERT_EQ(gw_couch_db_create(c, NULL, NULL, &e), HLF_OK);
    ASSERT_EQ(gw_couch_local_get(c, "reso-indexer", &d, &r, &e),
              HLF_ENOTFOUND);
    ASSERT_EQ(r.http_status, 404);
    ASSERT_NULL(d);
    for (i = 1; i <= 3; i++) {
        ck = json_pack("{s:I,s:I}", "sequence", (json_int_t)(i * 65536),
                       "block", (json_int_t)i);
        ASSERT_EQ(gw_couch_local_put(c, "reso-indexer", ck, &r, &e), HLF_OK);
        json_decref(ck);
    }
    ASSERT_EQ(gw_couch_local_get(c, "reso-indexer", &d, &r, &e), HLF_OK);
    ASSERT_EQ(json_object_size(d), 2);
    ASSERT_EQ(json_integer_value(json_object_get(d, "sequence")), 196608);
    ASSERT_NULL(json_object_get(d, "_rev"));
    json_decref(d);

    /* A second client (another gateway run) knows no revision: its first
     * put conflicts internally and must still succeed. */
    memset(&o, 0, sizeof(o));
    o.url = srv.url;
    o.db = "reso-local";
    ASSERT_EQ(gw_couch_new(&o, &c2, &e), HLF_OK);
    ck = json_pack("{s:i}", "sequence", 7);
    ASSERT_EQ(gw_couch_local_put(c2, "reso-indexer", ck, &r, &e), HLF_OK);
    json_decref(ck);
    /* And the first client's cached revision is now stale. */
    ck = json_pack("{s:i}", "sequence", 8);
    ASSERT_EQ(gw_couch_local_put(c, "reso-indexer", ck, &r, &e), HLF_OK);
    json_decref(ck);
    ASSERT_EQ(gw_couch_local_get(c2, "reso-indexer", &d, NULL, &e), HLF_OK);
    ASSERT_EQ(json_integer_value(json_object_get(d, "sequence")), 8);
    json_decref(d);

    ASSERT_EQ(gw_couch_local_get(c, "bad/id", &d, NULL, &e), HLF_EINVAL);
    gw_couch_free(c2);
    gw_couch_free(c);
    couchproc_free(&srv);
}

TEST_IMPL(couch_index_and_find)
{
    static const char *const fields[] = {"type", "x"};
    gw_couch_t *c = start("reso-find");
    gw_couch_result_t r;
    hlf_error_t e;
    json_t *docs, *q, *ans = NULL, *got;
    int created = -1, i;

    ASSERT_EQ(gw_couch_db_create(c, NULL, NULL, &e), HLF_OK);
    docs = json_array();
    for (i = 1; i <= 6; i++) {
        char id[16];
        snprintf(id, sizeof(id), "ev:%d", i);
        json_array_append_new(docs, doc(id, i * 10, i % 2 ? "event" : "x"));
    }
    ASSERT_EQ(gw_couch_bulk_docs(c, docs, NULL, NULL, NULL, &e), HLF_OK);
    json_decref(docs);

    ASSERT_EQ(gw_couch_index_create(c, "reso", "by-type-x", fields, 2,
                                    &created, &r, &e), HLF_OK);
    ASSERT_EQ(created, 1);
    ASSERT_EQ(gw_couch_index_create(c, "reso", "by-type-x", fields, 2,
                                    &created, &r, &e), HLF_OK);
    ASSERT_EQ(created, 0);

    q = json_pack("{s:{s:s,s:{s:i}},s:[s,s],s:[{s:s},{s:s}],s:i}",
                  "selector", "type", "event", "x", "$gt", 10,
                  "use_index", "reso", "by-type-x",
                  "sort", "type", "desc", "x", "desc", "limit", 10);
    ASSERT_EQ(gw_couch_find(c, q, &ans, &r, &e), HLF_OK);
    got = json_object_get(ans, "docs");
    ASSERT_EQ(json_array_size(got), 2);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(got, 0),
                                                    "_id")), "ev:5");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(got, 1),
                                                    "_id")), "ev:3");
    json_decref(ans);
    json_decref(q);

    /* A malformed query is CouchDB's 400, reported as HLF_EINVAL. */
    q = json_pack("{s:s}", "selector", "not an object");
    ASSERT_EQ(gw_couch_find(c, q, &ans, &r, &e), HLF_EINVAL);
    ASSERT_EQ(r.http_status, 400);
    ASSERT_NULL(ans);
    json_decref(q);
    gw_couch_free(c);
    couchproc_free(&srv);
}

TEST_IMPL(couch_unreachable)
{
    gw_couch_t *c = start("reso-down");
    gw_couch_result_t r;
    hlf_error_t e;
    json_t *ck = json_pack("{s:i}", "sequence", 1), *docs, *info = NULL;

    ASSERT_EQ(gw_couch_db_create(c, NULL, NULL, &e), HLF_OK);
    docs = json_array();
    json_array_append_new(docs, doc("ev:1", 1, "event"));
    ASSERT_EQ(gw_couch_bulk_docs(c, docs, NULL, NULL, NULL, &e), HLF_OK);
    json_decref(docs);
    ASSERT_EQ(couchproc_stop(&srv), 0);
    ASSERT_EQ(gw_couch_ping(c, &r, &e), HLF_EUNAVAIL);
    ASSERT_EQ(r.http_status, 0);
    ASSERT_EQ(strncmp(e.text, "CouchDB GET /: ", 15), 0);
    ASSERT_EQ(gw_couch_local_put(c, "reso-indexer", ck, &r, &e),
              HLF_EUNAVAIL);
    /* Back on the same port and data: the same client works again. */
    ASSERT_EQ(couchproc_restart(&srv), 0);
    ASSERT_EQ(gw_couch_db_info(c, &info, NULL, &e), HLF_OK);
    ASSERT_EQ(json_integer_value(json_object_get(info, "doc_count")), 1);
    json_decref(info);
    ASSERT_EQ(gw_couch_local_put(c, "reso-indexer", ck, &r, &e), HLF_OK);
    ASSERT_EQ(gw_couch_db_create(c, NULL, &r, &e), HLF_OK);
    ASSERT_EQ(r.http_status, 412);
    json_decref(ck);
    gw_couch_free(c);
    couchproc_free(&srv);
}

TEST_IMPL(couch_options)
{
    gw_couch_opts_t o;
    gw_couch_t *c = NULL;
    gw_config_t cfg;
    hlf_error_t e;
    char dir[] = "/tmp/reso-couchopt-XXXXXX", pw[64];
    FILE *fp;

    memset(&o, 0, sizeof(o));
    o.url = "ftp://127.0.0.1:1";
    o.db = "reso-events";
    ASSERT_EQ(gw_couch_new(&o, &c, &e), HLF_EINVAL);
    o.url = "http://admin:secret@127.0.0.1:5984";
    ASSERT_EQ(gw_couch_new(&o, &c, &e), HLF_EINVAL);
    ASSERT_NULL(strstr(e.text, "secret"));
    o.url = "http://127.0.0.1:5984/";
    o.db = "Reso";
    ASSERT_EQ(gw_couch_new(&o, &c, &e), HLF_EINVAL);
    o.db = "reso/events";
    o.user = "admin";
    o.password_file = "/nonexistent/couch.pw";
    ASSERT_EQ(gw_couch_new(&o, &c, &e), HLF_EIO);
    ASSERT_NULL(c);

    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(pw, sizeof(pw), "%s/pw", dir);
    fp = fopen(pw, "w");
    ASSERT_NOT_NULL(fp);
    fputs("s3cret\n", fp);
    fclose(fp);
    o.password_file = pw;
    ASSERT_EQ(gw_couch_new(&o, &c, &e), HLF_OK);
    ASSERT_STR_EQ(gw_couch_url(c), "http://127.0.0.1:5984");
    ASSERT_STR_EQ(gw_couch_db(c), "reso/events");
    gw_couch_free(c);
    remove(pw);
    rmdir(dir);

    memset(&cfg, 0, sizeof(cfg));
    ASSERT_EQ(gw_couch_from_config(&cfg, &c, &e), HLF_ENOTFOUND);
    cfg.couch_url = "http://127.0.0.1:5984";
    ASSERT_EQ(gw_couch_from_config(&cfg, &c, &e), HLF_OK);
    ASSERT_STR_EQ(gw_couch_db(c), GW_DEFAULT_COUCH_DB);
    gw_couch_free(c);
}

/*
 * A stand-in for a CouchDB that refuses the credentials: it keeps the
 * Authorization header it got and answers 401 with CouchDB's error body,
 * so the test sees what the client sent and how it reports the refusal.
 */
static char auth_seen[256];

static enum MHD_Result
refuse(void *cls, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version, const char *data,
       size_t *size, void **state)
{
    static const char body[] = "{\"error\":\"unauthorized\",\"reason\":"
                               "\"Name or password is incorrect.\"}";
    struct MHD_Response *r;
    const char *a;
    enum MHD_Result rc;

    (void)cls, (void)url, (void)method, (void)version, (void)data;
    if (*state == NULL) {
        *state = conn;
        return MHD_YES;
    }
    *size = 0;
    a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_AUTHORIZATION);
    snprintf(auth_seen, sizeof(auth_seen), "%s", a != NULL ? a : "");
    r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
                                        MHD_RESPMEM_PERSISTENT);
    rc = MHD_queue_response(conn, 401, r);
    MHD_destroy_response(r);
    return rc;
}

TEST_IMPL(couch_credentials_refused)
{
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *di;
    gw_couch_opts_t o;
    gw_couch_result_t r;
    gw_couch_t *c = NULL;
    hlf_error_t e;
    char dir[] = "/tmp/reso-couchauth-XXXXXX", pw[64], url[64];
    FILE *fp;

    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                         refuse, NULL, MHD_OPTION_END);
    ASSERT_NOT_NULL(d);
    di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    ASSERT_NOT_NULL(di);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", di->port);
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(pw, sizeof(pw), "%s/pw", dir);
    fp = fopen(pw, "w");
    ASSERT_NOT_NULL(fp);
    fputs("open sesame\r\n", fp);
    fclose(fp);

    memset(&o, 0, sizeof(o));
    o.url = url;
    o.db = "reso-events";
    o.user = "indexer";
    o.password_file = pw;
    ASSERT_EQ(gw_couch_new(&o, &c, &e), HLF_OK);
    ASSERT_EQ(gw_couch_db_create(c, NULL, &r, &e), HLF_EPERM);
    ASSERT_EQ(r.http_status, 401);
    ASSERT_STR_EQ(r.error, "unauthorized");
    ASSERT_STR_EQ(r.reason, "Name or password is incorrect.");
    /* Basic auth of "indexer:open sesame" (line ending stripped). */
    ASSERT_STR_EQ(auth_seen, "Basic aW5kZXhlcjpvcGVuIHNlc2FtZQ==");
    ASSERT_STR_EQ(e.text, "CouchDB PUT /reso-events: HTTP 401 unauthorized: "
                          "Name or password is incorrect.");
    ASSERT_NULL(strstr(e.text, "sesame"));
    gw_couch_free(c);
    MHD_stop_daemon(d);
    remove(pw);
    rmdir(dir);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(couch_db_lifecycle),
    TEST_ENTRY(couch_bulk_conflicts_and_failures),
    TEST_ENTRY(couch_local_docs),
    TEST_ENTRY(couch_index_and_find),
    TEST_ENTRY(couch_unreachable),
    TEST_ENTRY(couch_options),
    TEST_ENTRY(couch_credentials_refused),
};

TEST_MAIN(tests)
