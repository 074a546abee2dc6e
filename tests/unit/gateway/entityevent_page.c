/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of GET /v1/EntityEvent (gateway/src/entityevent.c) over real
 * HTTP: the exact RCP-27 page, $filter gt/ge parsing (and 400 naming the
 * parameter for everything else), $top limits, paging by
 * @odata.nextLink that yields every sequence exactly once even while new
 * events are published between pages, pages older than the ring (read
 * from the ledger replay), and an empty feed.
 */
#include "hub_fixture.h"
#include "task.h"

#include <inttypes.h>

static int port;

/* GET path; asserts status; returns the parsed body (new). */
static json_t *
get(const char *path, long status)
{
    const char *h[] = {HF_AUTH, NULL};
    gwt_opts_t o;
    gwt_resp_t r;
    json_t *j;

    memset(&o, 0, sizeof(o));
    o.headers = h;
    gwt_http("GET", port, path, &o, &r);
    if (r.status != status)
        TEST__FAIL("GET %s: status %ld (want %ld): %s", path, r.status,
                   status, r.body);
    j = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(j);
    gwt_resp_free(&r);
    return j;
}

/* A 400 naming field. */
static void
bad(const char *path, const char *field)
{
    json_t *j = get(path, 400), *e = json_object_get(j, "error");

    ASSERT_STR_EQ(json_string_value(json_object_get(e, "code")),
                  "BAD_REQUEST");
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "field")), field);
    ASSERT_NOT_NULL(json_string_value(json_object_get(e, "message")));
    json_decref(j);
}

/* The path part of a nextLink (after http://host:port), new. */
static char *
link_path(json_t *page)
{
    const char *l = json_string_value(json_object_get(page,
                                                      "@odata.nextLink"));
    char prefix[64];

    if (l == NULL)
        return NULL;
    snprintf(prefix, sizeof(prefix), "http://127.0.0.1:%d/", port);
    ASSERT_EQ(strncmp(l, prefix, strlen(prefix)), 0);
    return strdup(l + strlen(prefix) - 1);
}

/* Append the page's sequences to seqs (checking the item shape). */
static size_t
page_seqs(json_t *page, uint64_t *seqs, size_t n)
{
    json_t *v = json_object_get(page, "value"), *it;
    size_t i;

    ASSERT_STR_EQ(json_string_value(json_object_get(page, "@reso.context")),
                  "urn:reso:metadata:2.0:resource:entityevent");
    ASSERT(json_is_array(v));
    json_array_foreach(v, i, it) {
        ASSERT_EQ(json_object_size(it), 4);
        ASSERT_STR_EQ(json_string_value(json_object_get(it, "ResourceName")),
                      "LedgerEvent");
        seqs[n++] = (uint64_t)json_integer_value(
            json_object_get(it, "EntityEventSequence"));
    }
    return n;
}

TEST_IMPL(exact_page)
{
    char want[2048], *text, path[256];
    json_t *page;

    port = hf_start(64, NULL);
    hf_publish(0, 0);
    hf_publish(1, 0);
    hf_publish(2, 0);
    page = get("/v1/EntityEvent?$filter=EntityEventSequence%20gt%200"
               "&$top=2", 200);
    text = json_dumps(page, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(want, sizeof(want),
             "{\"@reso.context\":\"urn:reso:metadata:2.0:resource:"
             "entityevent\",\"value\":[{\"EntityEventSequence\":65536,"
             "\"ResourceName\":\"LedgerEvent\",\"ResourceRecordKey\":"
             "\"id-0\",\"ResourceRecordUrl\":\"http://127.0.0.1:%d/v1/"
             "events/id-0\"},{\"EntityEventSequence\":131073,"
             "\"ResourceName\":\"LedgerEvent\",\"ResourceRecordKey\":"
             "\"id-1\",\"ResourceRecordUrl\":\"http://127.0.0.1:%d/v1/"
             "events/id-1\"}],\"@odata.nextLink\":\"http://127.0.0.1:%d/"
             "v1/EntityEvent?$filter=EntityEventSequence%%20gt%%20131073"
             "&$top=2\"}", port, port, port);
    ASSERT_STR_EQ(text, want);
    free(text);
    json_decref(page);
    /* The last page has no nextLink. */
    snprintf(path, sizeof(path), "/v1/EntityEvent?$filter="
             "EntityEventSequence%%20gt%%20131073&$top=2");
    page = get(path, 200);
    ASSERT_EQ(json_array_size(json_object_get(page, "value")), 1);
    ASSERT_NULL(json_object_get(page, "@odata.nextLink"));
    json_decref(page);
    /* Exactly $top left: full page, but no more events: no nextLink. */
    page = get("/v1/EntityEvent?$filter=EntityEventSequence%20gt%2065536"
               "&$top=2", 200);
    ASSERT_EQ(json_array_size(json_object_get(page, "value")), 2);
    ASSERT_NULL(json_object_get(page, "@odata.nextLink"));
    json_decref(page);
    hf_stop();
}

/*
 * Links are absolute on public_url when it is set; otherwise on the
 * listen address, whatever Host header the client sends (a client must
 * not be able to plant links in pages others may be handed).
 */
TEST_IMPL(links_on_public_url_never_host)
{
    const char *h[] = {HF_AUTH, "Host: evil.example:666", NULL};
    char want[256];
    gwt_opts_t o;
    gwt_resp_t r;
    json_t *page, *it;

    port = hf_start(64, "public_url https://reso.example/gw/\n");
    hf_publish(0, 0);
    hf_publish(1, 0);
    page = get("/v1/EntityEvent?$filter=EntityEventSequence%20gt%200"
               "&$top=1", 200);
    it = json_array_get(json_object_get(page, "value"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(it,
                                                    "ResourceRecordUrl")),
                  "https://reso.example/gw/v1/events/id-0");
    ASSERT_STR_EQ(json_string_value(json_object_get(page,
                                                    "@odata.nextLink")),
                  "https://reso.example/gw/v1/EntityEvent?$filter="
                  "EntityEventSequence%20gt%2065536&$top=1");
    json_decref(page);
    hf_stop();

    port = hf_start(64, NULL);
    hf_publish(0, 0);
    hf_publish(1, 0);
    memset(&o, 0, sizeof(o));
    o.headers = h;
    gwt_http("GET", port, "/v1/EntityEvent?$filter=EntityEventSequence"
             "%20gt%200&$top=1", &o, &r);
    ASSERT_EQ(r.status, 200);
    page = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(page);
    gwt_resp_free(&r);
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/v1/EntityEvent?"
             "$filter=EntityEventSequence%%20gt%%2065536&$top=1", port);
    ASSERT_STR_EQ(json_string_value(json_object_get(page,
                                                    "@odata.nextLink")),
                  want);
    json_decref(page);
    hf_stop();
}

TEST_IMPL(filter_forms)
{
    uint64_t seqs[16];
    json_t *page;
    char path[256];

    port = hf_start(64, NULL);
    hf_publish(0, 0);
    hf_publish(1, 0);
    hf_publish(2, 0);
    /* ge includes the sequence itself, gt does not. */
    snprintf(path, sizeof(path), "/v1/EntityEvent?$filter="
             "EntityEventSequence%%20ge%%20%" PRIu64, hf_seq(1));
    page = get(path, 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 2);
    ASSERT_EQ(seqs[0], hf_seq(1));
    ASSERT_EQ(seqs[1], hf_seq(2));
    json_decref(page);
    snprintf(path, sizeof(path), "/v1/EntityEvent?$filter="
             "EntityEventSequence%%20gt%%20%" PRIu64, hf_seq(1));
    page = get(path, 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 1);
    ASSERT_EQ(seqs[0], hf_seq(2));
    json_decref(page);
    /* ge 0, no filter, extra spaces: all three. */
    page = get("/v1/EntityEvent?$filter=EntityEventSequence%20ge%200", 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 3);
    json_decref(page);
    page = get("/v1/EntityEvent", 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 3);
    ASSERT_EQ(seqs[0], hf_seq(0));
    json_decref(page);
    page = get("/v1/EntityEvent?$filter=%20%20EntityEventSequence%20%20gt"
               "%20%200%20", 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 3);
    json_decref(page);
    /* Beyond the newest: empty, no nextLink. */
    page = get("/v1/EntityEvent?$filter=EntityEventSequence%20gt%20"
               "9223372036854775807", 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 0);
    ASSERT_NULL(json_object_get(page, "@odata.nextLink"));
    json_decref(page);
    hf_stop();
}

TEST_IMPL(unsupported_is_400)
{
    port = hf_start(64, NULL);
    bad("/v1/EntityEvent?$filter=EntityEventSequence%20lt%205", "$filter");
    bad("/v1/EntityEvent?$filter=EntityEventSequence%20eq%205", "$filter");
    bad("/v1/EntityEvent?$filter=ResourceName%20eq%20'LedgerEvent'",
        "$filter");
    bad("/v1/EntityEvent?$filter=EntityEventSequence%20gt%205%20and%20"
        "EntityEventSequence%20lt%209", "$filter");
    bad("/v1/EntityEvent?$filter=EntityEventSequence%20gt%20-1", "$filter");
    bad("/v1/EntityEvent?$filter=EntityEventSequence%20gt%201.5",
        "$filter");
    bad("/v1/EntityEvent?$filter=EntityEventSequence%20gt%20"
        "9223372036854775808", "$filter");
    bad("/v1/EntityEvent?$filter=entityeventsequence%20gt%201", "$filter");
    bad("/v1/EntityEvent?$filter=EntityEventSequence%20GT%201", "$filter");
    bad("/v1/EntityEvent?$filter=EntityEventSequencegt%201", "$filter");
    bad("/v1/EntityEvent?$filter=", "$filter");
    bad("/v1/EntityEvent?$top=0", "$top");
    bad("/v1/EntityEvent?$top=-3", "$top");
    bad("/v1/EntityEvent?$top=ten", "$top");
    bad("/v1/EntityEvent?$top=", "$top");
    bad("/v1/EntityEvent?$top=1&$top=2", "$top");
    bad("/v1/EntityEvent?$orderby=EntityEventSequence", "$orderby");
    bad("/v1/EntityEvent?$skip=10", "$skip");
    bad("/v1/EntityEvent?after=10", "after");
    {
        gwt_resp_t r;

        gwt_http("GET", port, "/v1/EntityEvent", NULL, &r);
        ASSERT_EQ(r.status, 401);
        gwt_resp_free(&r);
    }
    hf_stop();
}

TEST_IMPL(top_limits)
{
    uint64_t *seqs = calloc(1200, sizeof(*seqs));
    json_t *page;
    char *next;
    int i;

    ASSERT_NOT_NULL(seqs);
    port = hf_start(2048, NULL);
    for (i = 0; i < 1100; i++)
        hf_publish(i, 0);
    /* Default 100. */
    page = get("/v1/EntityEvent", 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 100);
    next = link_path(page);
    ASSERT_NOT_NULL(next);
    ASSERT(strstr(next, "&$top=100") != NULL);
    free(next);
    json_decref(page);
    /* More than 1000 is served as 1000. */
    page = get("/v1/EntityEvent?$top=5000", 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 1000);
    ASSERT_EQ(seqs[999], hf_seq(999));
    next = link_path(page);
    ASSERT_NOT_NULL(next);
    ASSERT(strstr(next, "&$top=1000") != NULL);
    json_decref(page);
    page = get(next, 200);
    ASSERT_EQ(page_seqs(page, seqs, 0), 100);
    ASSERT_EQ(seqs[0], hf_seq(1000));
    ASSERT_NULL(json_object_get(page, "@odata.nextLink"));
    free(next);
    json_decref(page);
    free(seqs);
    hf_stop();
}

/* Follow nextLinks from path, publishing `per_page` new events after
 * each page that has a next one; returns the sequences read. */
static size_t
crawl(const char *path, int *published, int per_page, uint64_t *seqs)
{
    char *next = strdup(path);
    size_t n = 0;
    int pages = 0;

    while (next != NULL) {
        json_t *page = get(next, 200);
        int k;

        n = page_seqs(page, seqs, n);
        free(next);
        next = link_path(page);
        json_decref(page);
        for (k = 0; next != NULL && k < per_page; k++)
            hf_publish((*published)++, 0);
        pages++;
        ASSERT_LE(pages, 100);
    }
    return n;
}

TEST_IMPL(paging_while_events_arrive)
{
    uint64_t seqs[512];
    int published = 0, i;
    size_t n;

    port = hf_start(1024, NULL);
    for (i = 0; i < 25; i++)
        hf_publish(published++, 0);
    n = crawl("/v1/EntityEvent?$filter=EntityEventSequence%20ge%200"
              "&$top=7", &published, 3, seqs);
    /* Pages of 7 over 25 events plus 3 more after each page with a next:
     * the sixth page finds 5 and ends; all 40 read once, in order. */
    ASSERT_EQ(published, 40);
    ASSERT_EQ(n, (size_t)published);
    for (i = 0; i < published; i++)
        ASSERT_EQ(seqs[i], hf_seq(i));
    hf_stop();
}

TEST_IMPL(pages_older_than_the_ring)
{
    uint64_t seqs[128];
    int published = 0, i;
    size_t n;

    port = hf_start(4, NULL);
    for (i = 0; i < 40; i++)
        hf_publish(published++, 0);
    n = crawl("/v1/EntityEvent?$filter=EntityEventSequence%20gt%200"
              "&$top=6", &published, 0, seqs);
    ASSERT_EQ(n, 40);
    for (i = 0; i < 40; i++)
        ASSERT_EQ(seqs[i], hf_seq(i));
    ASSERT_GE(hf_replays(), 6);
    hf_stop();
}

TEST_IMPL(empty_feed)
{
    json_t *page;

    port = hf_start(4, NULL);
    page = get("/v1/EntityEvent?$filter=EntityEventSequence%20ge%200", 200);
    ASSERT_EQ(json_array_size(json_object_get(page, "value")), 0);
    ASSERT_NULL(json_object_get(page, "@odata.nextLink"));
    json_decref(page);
    hf_stop();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(links_on_public_url_never_host),
    TEST_ENTRY(exact_page),
    TEST_ENTRY(filter_forms),
    TEST_ENTRY(unsupported_is_400),
    TEST_ENTRY(top_limits),
    TEST_ENTRY(paging_while_events_arrive),
    TEST_ENTRY(pages_older_than_the_ring),
    TEST_ENTRY(empty_feed),
};

TEST_MAIN(tests)
