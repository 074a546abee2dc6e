/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure part of the reports (gateway/src/reports.c): time parameters,
 * cursors, the Mango _find bodies built from query parameters and every
 * refusal, result pages, member-activity items on association events
 * (reso-model.md §4.3) and the onboarding aggregation on a fixture of
 * RCP-002 events (§4.4) with exact tiles, latest states, stuck list and
 * milestone medians.
 */
#include "reports.h"
#include "reports_fixture.h"
#include "task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY RF_DAY
static const int64_t NOW = 1700000000;
#define T0 (NOW - 100 * DAY)

/* Compact, key-sorted JSON text of j (caller frees). */
static char *
dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

    ASSERT_NOT_NULL(s);
    return s;
}

#define ASSERT_JSON(j, text)                                               \
    do {                                                                   \
        char *s_ = dump(j);                                                \
        ASSERT_STR_EQ(s_, text);                                           \
        free(s_);                                                          \
    } while (0)

/* ------------------------------------------------------------------ */

TEST_IMPL(time_forms)
{
    static const char *const same[] = {
        "1568061480",
        "2019-09-09T20:38:00Z",
        "2019-09-09t20:38:00z",
        "2019-09-09T22:38:00+02:00",
        "2019-09-09T22:38:00 02:00",
        "2019-09-09T18:38:00.999-02:00",
        "Mon, 09 Sep 2019 20:38:00 GMT",
    };
    int64_t t;
    size_t i;

    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        t = 0;
        ASSERT_EQ(gw_reports_parse_time(same[i], &t), HLF_OK);
        ASSERT_EQ(t, 1568061480);
    }
    ASSERT_EQ(gw_reports_parse_time("0", &t), HLF_OK);
    ASSERT_EQ(t, 0);
    ASSERT_EQ(gw_reports_parse_time("2020-02-29T00:00:00Z", &t), HLF_OK);
    ASSERT_EQ(t, 1582934400);
    ASSERT_EQ(gw_reports_parse_time("Sat, 29 Feb 2020 00:00:00 GMT", &t),
              HLF_OK);
    ASSERT_EQ(t, 1582934400);
}

TEST_IMPL(time_refused)
{
    static const char *const bad[] = {
        "",
        "-5",
        "1234567890123",
        "12a",
        "2019-09-09",
        "2019-09-09T20:38:00",
        "2019-09-09T20:38Z",
        "2019-02-29T00:00:00Z",
        "2019-04-31T00:00:00Z",
        "2019-09-09T24:00:00Z",
        "2019-09-09T20:60:00Z",
        "2019-09-09T20:38:00.Z",
        "2019-09-09T20:38:00+2:00",
        "2019-09-09T20:38:00Zjunk",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",
        "Tue, 09 Sep 2019 20:38:00 GMT",
        "Mon, 09 Sep 2019 20:38:00 UTC",
        "Mon, 9 Sep 2019 20:38:00 GMT",
        "Mon, 09 Sept 2019 20:38:00 GMT",
        "Mon  09 Sep 2019 20:38:00 GMT",
        "onM, 09 Sep 2019 20:38:00 GMT",
    };
    int64_t t = 42;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_EQ(gw_reports_parse_time(bad[i], &t), HLF_EINVAL);
        ASSERT_EQ(t, 42);
    }
    ASSERT_EQ(gw_reports_parse_time(NULL, &t), HLF_EINVAL);
    /* The indexer's Timestamp parser: IMF-fixdate only. */
    ASSERT_EQ(gw_reports_parse_imf("Sun, 03 Jun 2018 13:04:05 GMT", &t),
              HLF_OK);
    ASSERT_EQ(t, 1528031045);
    ASSERT_EQ(gw_reports_parse_imf("2018-06-03T13:04:05Z", &t), HLF_EINVAL);
    ASSERT_EQ(gw_reports_parse_imf("1528031045", &t), HLF_EINVAL);
    ASSERT_EQ(gw_reports_parse_imf("Mon, 03 Jun 2018 13:04:05 GMT", &t),
              HLF_EINVAL);
    ASSERT_EQ(t, 1528031045);
}

TEST_IMPL(cursors)
{
    char c[GW_REPORTS_CURSOR_MAX];
    int desc = -1;
    int64_t seq = -1;

    gw_reports_cursor_encode(0, 65537, c);
    ASSERT_STR_EQ(c, "a65537");
    gw_reports_cursor_encode(1, 0, c);
    ASSERT_STR_EQ(c, "d0");
    ASSERT_EQ(gw_reports_cursor_decode("d0", &desc, &seq), HLF_OK);
    ASSERT_EQ(desc, 1);
    ASSERT_EQ(seq, 0);
    ASSERT_EQ(gw_reports_cursor_decode("a9007199254740992", &desc, &seq),
              HLF_OK);
    ASSERT_EQ(desc, 0);
    ASSERT_EQ(seq, GW_REPORTS_SEQ_MAX);
    ASSERT_EQ(gw_reports_cursor_decode("a9007199254740993", &desc, &seq),
              HLF_EINVAL);
    ASSERT_EQ(gw_reports_cursor_decode("a", &desc, &seq), HLF_EINVAL);
    ASSERT_EQ(gw_reports_cursor_decode("a01", &desc, &seq), HLF_EINVAL);
    ASSERT_EQ(gw_reports_cursor_decode("a-1", &desc, &seq), HLF_EINVAL);
    ASSERT_EQ(gw_reports_cursor_decode("x5", &desc, &seq), HLF_EINVAL);
    ASSERT_EQ(gw_reports_cursor_decode("a5 ", &desc, &seq), HLF_EINVAL);
    ASSERT_EQ(gw_reports_cursor_decode("", &desc, &seq), HLF_EINVAL);
    ASSERT_EQ(gw_reports_cursor_decode(NULL, &desc, &seq), HLF_EINVAL);
    ASSERT_EQ(seq, GW_REPORTS_SEQ_MAX);
}

/* ------------------------------------------------------------------ */
/* Search and activity queries                                        */
/* ------------------------------------------------------------------ */

#define NP(a) (sizeof(a) / sizeof((a)[0]))

TEST_IMPL(search_query_default)
{
    json_t *f = NULL;
    size_t limit = 0;
    int desc = -1;

    ASSERT_EQ(gw_reports_search_query(NULL, 0, &f, &limit, &desc, NULL),
              HLF_OK);
    ASSERT_EQ(limit, GW_REPORTS_PAGE_DEFAULT);
    ASSERT_EQ(desc, 0);
    ASSERT_JSON(f, "{\"limit\":51,\"selector\":{\"sequence\":{\"$gte\":0},"
                   "\"type\":\"event\"},\"sort\":[{\"type\":\"asc\"},"
                   "{\"sequence\":\"asc\"}],\"use_index\":[\"reso\","
                   "\"by-sequence\"]}");
    json_decref(f);
}

TEST_IMPL(search_query_filters)
{
    const gw_reports_param_t p[] = {
        {"Event", "License1"},
        {"State", "Verified"},
        {"State", "Transferred"},
        {"Recorder", "urn:reso:recorder:org1:ae1643"},
        {"from", "2019-09-09T20:38:00Z"},
        {"to", "Mon, 09 Sep 2019 20:49:00 GMT"},
        {"limit", "2"},
        {"cursor", "a65536"},
    };
    json_t *f = NULL;
    size_t limit = 0;
    int desc = -1;

    ASSERT_EQ(gw_reports_search_query(p, NP(p), &f, &limit, &desc, NULL),
              HLF_OK);
    ASSERT_EQ(limit, 2);
    ASSERT_EQ(desc, 0);
    ASSERT_JSON(f, "{\"limit\":3,\"selector\":{\"Event\":\"License1\","
                   "\"Recorder\":\"urn:reso:recorder:org1:ae1643\","
                   "\"State\":{\"$in\":[\"Verified\",\"Transferred\"]},"
                   "\"sequence\":{\"$gte\":65537},\"ts\":{\"$gte\":"
                   "1568061480,\"$lte\":1568062139},\"type\":\"event\"},"
                   "\"sort\":[{\"type\":\"asc\"},{\"Recorder\":\"asc\"},"
                   "{\"sequence\":\"asc\"}],\"use_index\":[\"reso\","
                   "\"by-recorder-sequence\"]}");
    json_decref(f);
}

/* The index is the first of EventSubject, Recorder, Event, SubjectType
 * fixed to one value; several values of a field do not fix it. */
TEST_IMPL(search_query_index_choice)
{
    static const struct {
        gw_reports_param_t p[3];
        size_t n;
        const char *index, *middle;
    } cases[] = {
        {{{"Event", "Listing"}}, 1, "by-event-sequence", "Event"},
        {{{"Event", "Listing"}, {"SubjectType", "Property"}},
         2, "by-event-sequence", "Event"},
        {{{"Event", "Listing"}, {"Event", "Offer"},
          {"SubjectType", "Property"}},
         3, "by-subjecttype-sequence", "SubjectType"},
        {{{"Recorder", "a"}, {"Recorder", "b"}}, 2, "by-sequence", NULL},
        {{{"State", "Closed"}, {"System", "Manual Input"}},
         2, "by-sequence", NULL},
        {{{"Event", "Listing"}, {"EventSubject", "US-1"},
          {"Recorder", "r"}},
         3, "by-subject-sequence", "EventSubject"},
    };
    size_t i, limit;
    int desc;

    for (i = 0; i < NP(cases); i++) {
        json_t *f = NULL, *sort;

        ASSERT_EQ(gw_reports_search_query(cases[i].p, cases[i].n, &f,
                                          &limit, &desc, NULL),
                  HLF_OK);
        ASSERT_STR_EQ(json_string_value(json_array_get(
                          json_object_get(f, "use_index"), 1)),
                      cases[i].index);
        sort = json_object_get(f, "sort");
        ASSERT_EQ(json_array_size(sort), cases[i].middle != NULL ? 3 : 2);
        if (cases[i].middle != NULL)
            ASSERT_NOT_NULL(json_object_get(json_array_get(sort, 1),
                                            cases[i].middle));
        json_decref(f);
    }
}

TEST_IMPL(search_query_subject_desc)
{
    const gw_reports_param_t p[] = {
        {"cursor", "d131072"},
        {"EventSubject", "J26530"},
        {"order", "desc"},
        {"from", "1568061480"},
    };
    json_t *f = NULL;
    size_t limit = 0;
    int desc = -1;

    ASSERT_EQ(gw_reports_search_query(p, NP(p), &f, &limit, &desc, NULL),
              HLF_OK);
    ASSERT_EQ(desc, 1);
    ASSERT_JSON(f, "{\"limit\":51,\"selector\":{\"EventSubject\":"
                   "\"J26530\",\"sequence\":{\"$lte\":131071},\"ts\":"
                   "{\"$gte\":1568061480},\"type\":\"event\"},\"sort\":"
                   "[{\"type\":\"desc\"},{\"EventSubject\":\"desc\"},"
                   "{\"sequence\":\"desc\"}],"
                   "\"use_index\":[\"reso\",\"by-subject-sequence\"]}");
    json_decref(f);
}

/* One refused parameter set: the code, field and start of the message. */
static void
refused(const gw_reports_param_t *p, size_t n, const char *code,
        const char *field, const char *msg)
{
    gw_reports_bad_t bad;
    json_t *f = (json_t *)1;
    size_t limit = 0;
    int desc = 0;

    memset(&bad, 0, sizeof(bad));
    ASSERT_EQ(gw_reports_search_query(p, n, &f, &limit, &desc, &bad),
              HLF_EINVAL);
    ASSERT_NULL(f);
    ASSERT_STR_EQ(bad.code, code);
    ASSERT_STR_EQ(bad.field, field);
    ASSERT_EQ(strncmp(bad.message, msg, strlen(msg)), 0);
}

TEST_IMPL(search_query_refused)
{
    const gw_reports_param_t unknown[] = {{"Event", "Listing"},
                                          {"colour", "red"}};
    const gw_reports_param_t lim0[] = {{"limit", "0"}};
    const gw_reports_param_t lim501[] = {{"limit", "501"}};
    const gw_reports_param_t limx[] = {{"limit", "5x"}};
    const gw_reports_param_t limneg[] = {{"limit", "-1"}};
    const gw_reports_param_t twice[] = {{"from", "1"}, {"from", "2"}};
    const gw_reports_param_t badtime[] = {{"to", "yesterday"}};
    const gw_reports_param_t range[] = {{"from", "100"}, {"to", "100"}};
    const gw_reports_param_t cur[] = {{"cursor", "zz"}};
    const gw_reports_param_t curdir[] = {{"cursor", "d5"}};
    const gw_reports_param_t order[] = {{"order", "up"}};
    const gw_reports_param_t empty[] = {{"State", ""}};
    const gw_reports_param_t novalue[] = {{"from", NULL}};
    const gw_reports_param_t stuck[] = {{"stuck_days", "3"}};
    /* Not UTF-8: a stray byte, an overlong '/', a surrogate. */
    const gw_reports_param_t bin[] = {{"EventSubject", "420-1-\xdf" "1"}};
    const gw_reports_param_t overlong[] = {{"Recorder", "a\xc0\xaf"}};
    const gw_reports_param_t surrogate[] = {{"State", "\xed\xa0\x80"}};
    const gw_reports_param_t binname[] = {{"Ev\xffnt", "Listing"}};
    const gw_reports_param_t utf8[] = {{"EventSubject", "Z\xc3\xbcrich-1"}};
    gw_reports_param_t many[GW_REPORTS_VALUES_MAX + 1];
    json_t *f = NULL;
    size_t i, limit;
    int desc;

    refused(unknown, NP(unknown), "UNKNOWN_PARAMETER", "colour",
            "colour is not a parameter");
    refused(lim0, 1, "BAD_REQUEST", "limit",
            "limit must be an integer from 1 to 500");
    refused(lim501, 1, "BAD_REQUEST", "limit", "limit must be");
    refused(limx, 1, "BAD_REQUEST", "limit", "limit must be");
    refused(limneg, 1, "BAD_REQUEST", "limit", "limit must be");
    refused(twice, 2, "BAD_REQUEST", "from", "from may be given once");
    refused(badtime, 1, "INVALID_TIME", "to", "to is not Unix seconds");
    refused(range, 2, "INVALID_TIME_RANGE", "to",
            "to (100) must be later than from (100)");
    refused(cur, 1, "BAD_REQUEST", "cursor", "cursor is not one");
    refused(curdir, 1, "BAD_REQUEST", "cursor",
            "the cursor belongs to a page in the other order");
    refused(order, 1, "BAD_REQUEST", "order", "order is asc or desc");
    refused(empty, 1, "BAD_REQUEST", "State", "State needs a value");
    refused(novalue, 1, "BAD_REQUEST", "from", "from needs a value");
    /* stuck_days belongs to the onboarding report only. */
    refused(stuck, 1, "UNKNOWN_PARAMETER", "stuck_days", "stuck_days is");
    /* Bytes that are not text: 400 naming the parameter, never 500. */
    refused(bin, 1, "BAD_REQUEST", "EventSubject",
            "the value of EventSubject is not UTF-8 text");
    refused(overlong, 1, "BAD_REQUEST", "Recorder", "the value of Recorder");
    refused(surrogate, 1, "BAD_REQUEST", "State", "the value of State");
    refused(binname, 1, "BAD_REQUEST", "query",
            "a parameter name is not UTF-8");
    ASSERT_EQ(gw_reports_search_query(utf8, 1, &f, &limit, &desc, NULL),
              HLF_OK);
    json_decref(f);
    for (i = 0; i < NP(many); i++) {
        many[i].name = "Recorder";
        many[i].value = "r";
    }
    refused(many, NP(many), "BAD_REQUEST", "Recorder",
            "at most 32 values of Recorder");
}

TEST_IMPL(activity_query)
{
    const gw_reports_param_t p[] = {{"limit", "10"}, {"cursor", "d7"}};
    const gw_reports_param_t asc[] = {{"cursor", "a7"}};
    const gw_reports_param_t filt[] = {{"Event", "Education"}};
    gw_reports_bad_t bad;
    json_t *f = NULL;
    size_t limit = 0;

    ASSERT_EQ(gw_reports_activity_query("urn:reso:ulid:900765912", p,
                                        NP(p), &f, &limit, NULL),
              HLF_OK);
    ASSERT_EQ(limit, 10);
    ASSERT_JSON(f, "{\"limit\":11,\"selector\":{\"EventSubject\":"
                   "\"urn:reso:ulid:900765912\",\"sequence\":{\"$lte\":6},"
                   "\"type\":\"event\"},\"sort\":[{\"type\":\"desc\"},"
                   "{\"EventSubject\":\"desc\"},{\"sequence\":\"desc\"}],"
                   "\"use_index\":"
                   "[\"reso\",\"by-subject-sequence\"]}");
    json_decref(f);
    ASSERT_EQ(gw_reports_activity_query("m", NULL, 0, &f, &limit, NULL),
              HLF_OK);
    ASSERT_EQ(limit, GW_REPORTS_PAGE_DEFAULT);
    ASSERT_JSON(json_object_get(f, "selector"),
                "{\"EventSubject\":\"m\",\"sequence\":{\"$gte\":0},"
                "\"type\":\"event\"}");
    json_decref(f);
    ASSERT_EQ(gw_reports_activity_query("m", asc, 1, &f, &limit, &bad),
              HLF_EINVAL);
    ASSERT_STR_EQ(bad.field, "cursor");
    ASSERT_EQ(gw_reports_activity_query("m", filt, 1, &f, &limit, &bad),
              HLF_EINVAL);
    ASSERT_STR_EQ(bad.code, "UNKNOWN_PARAMETER");
    ASSERT_STR_EQ(bad.field, "Event");
    ASSERT_EQ(gw_reports_activity_query("", NULL, 0, &f, &limit, &bad),
              HLF_EINVAL);
    ASSERT_STR_EQ(bad.field, "EventSubject");
    ASSERT_NULL(f);
}

/* ------------------------------------------------------------------ */
/* Pages and member-activity items                                    */
/* ------------------------------------------------------------------ */

TEST_IMPL(activity_items)
{
    json_t *docs = rf_association_docs(), *it;

    it = gw_reports_activity_item(json_array_get(docs, 1));
    ASSERT_JSON(it,
                "{\"Details\":{\"OffchainAddress\":\"urn:ipfs:QmXyS6Cj6PMp"
                "RfkRcfve1FykDdC2tdL8N4tkkWvt6yuiqA\",\"Organization\":"
                "\"OREA\",\"Year\":2020},\"Entity\":\"Association\","
                "\"Event\":\"Education\",\"State\":\"Recorded\","
                "\"SubjectType\":\"Member\",\"Transaction\":{"
                "\"Application\":\"15435-dd6\",\"Identifier\":"
                "\"f3bf7a16-f667-425f-b198-4ef5083cd7a8\",\"Recorded\":"
                "\"Sat, 21 Jul 2018 18:34:22 GMT\",\"Recorder\":"
                "\"urn:reso:recorder:org2:lae643\",\"System\":"
                "\"Association Management System\"},\"Version\":"
                "\"1.5-draft\",\"block\":0,\"sequence\":11,\"txid\":"
                "\"ab12\"}");
    json_decref(it);
    /* No Context: Details is null; Audience only when present. */
    it = gw_reports_activity_item(json_array_get(docs, 3));
    ASSERT(json_is_null(json_object_get(it, "Details")));
    ASSERT_JSON(json_object_get(it, "Audience"), "[\"urn:reso:org:board\"]");
    json_decref(it);
    it = gw_reports_activity_item(json_array_get(docs, 0));
    ASSERT_NULL(json_object_get(it, "Audience"));
    json_decref(it);
    it = json_string("x");
    ASSERT_NULL(gw_reports_activity_item(it));
    json_decref(it);
    json_decref(docs);
}

TEST_IMPL(activity_page_newest_first)
{
    json_t *all = rf_association_docs(), *docs = json_array(), *page = NULL;
    json_t *ev;
    size_t i;

    /* As the desc _find returns them with limit + 1 = 3. */
    for (i = 5; i-- > 2;)
        json_array_append(docs, json_array_get(all, i));
    ASSERT_EQ(gw_reports_activity_page("urn:reso:ulid:900765912", docs, 2,
                                       NULL, &page),
              HLF_OK);
    ev = json_object_get(page, "events");
    ASSERT_EQ(json_array_size(ev), 2);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(ev, 0),
                                                    "Event")),
                  "Appointment");
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(ev, 0),
                                                 "sequence")),
              14);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(ev, 1),
                                                    "Event")),
                  "Election");
    ASSERT_STR_EQ(json_string_value(json_object_get(page, "next_cursor")),
                  "d13");
    ASSERT(json_is_true(json_object_get(page, "has_more")));
    ASSERT_STR_EQ(json_string_value(json_object_get(page, "EventSubject")),
                  "urn:reso:ulid:900765912");
    json_decref(page);
    json_decref(docs);
    json_decref(all);
}

TEST_IMPL(search_pages)
{
    json_t *all = rf_association_docs(), *docs = json_array(), *page = NULL;
    json_t *first;

    json_object_set_new(json_array_get(all, 0), "_rev",
                        json_string("1-abc"));
    json_array_append(docs, json_array_get(all, 0));
    json_array_append(docs, json_array_get(all, 1));
    ASSERT_EQ(gw_reports_search_page(docs, 2, 0, "a9", &page), HLF_OK);
    ASSERT_EQ(json_array_size(json_object_get(page, "events")), 2);
    ASSERT(json_is_false(json_object_get(page, "has_more")));
    ASSERT_STR_EQ(json_string_value(json_object_get(page, "next_cursor")),
                  "a11");
    ASSERT_STR_EQ(json_string_value(json_object_get(page, "order")), "asc");
    first = json_array_get(json_object_get(page, "events"), 0);
    ASSERT_NULL(json_object_get(first, "_id"));
    ASSERT_NULL(json_object_get(first, "_rev"));
    ASSERT_NULL(json_object_get(first, "type"));
    ASSERT_EQ(json_object_size(first),
              json_object_size(json_array_get(all, 0)) - 3);
    ASSERT_STR_EQ(json_string_value(json_object_get(first, "Event")),
                  "Appointment");
    json_decref(page);
    /* Empty page: the caller's cursor again, or null without one. */
    json_array_clear(docs);
    ASSERT_EQ(gw_reports_search_page(docs, 5, 1, "d9", &page), HLF_OK);
    ASSERT_STR_EQ(json_string_value(json_object_get(page, "next_cursor")),
                  "d9");
    ASSERT_STR_EQ(json_string_value(json_object_get(page, "order")),
                  "desc");
    json_decref(page);
    ASSERT_EQ(gw_reports_search_page(docs, 5, 0, NULL, &page), HLF_OK);
    ASSERT(json_is_null(json_object_get(page, "next_cursor")));
    ASSERT_EQ(json_array_size(json_object_get(page, "events")), 0);
    json_decref(page);
    /* A document without a sequence is not from this index. */
    json_array_append_new(docs, json_pack("{s:s}", "Event", "x"));
    ASSERT_EQ(gw_reports_search_page(docs, 5, 0, NULL, &page), HLF_EINVAL);
    ASSERT_NULL(page);
    ASSERT_EQ(gw_reports_search_page(json_object_get(all, "x"), 5, 0, NULL,
                                     &page),
              HLF_EINVAL);
    json_decref(docs);
    json_decref(all);
}

/* ------------------------------------------------------------------ */
/* Onboarding                                                         */
/* ------------------------------------------------------------------ */

/* The fixture plus documents the report must skip: the association
 * events, an Agent event outside RCP-002 and a document without ts. */
static json_t *
onboarding_docs(void)
{
    json_t *docs = rf_onboarding_docs(NOW), *assoc = rf_association_docs();
    json_t *d;

    json_array_extend(docs, assoc);
    json_decref(assoc);
    json_array_append_new(docs, rf_onboarding_doc("J26530", "Listing",
                                                  "Created", T0, 200));
    d = rf_onboarding_doc("J26536", "Application", "Started", T0, 201);
    json_object_del(d, "ts");
    json_array_append_new(docs, d);
    return docs;
}

static json_t *
aggregate(const json_t *docs, int reverse, int stuck_days)
{
    gw_onboarding_t *o = NULL;
    json_t *r = NULL;
    size_t i, n = json_array_size(docs);

    ASSERT_EQ(gw_onboarding_new(&o), HLF_OK);
    for (i = 0; i < n; i++)
        ASSERT_EQ(gw_onboarding_add(
                      o, json_array_get(docs, reverse ? n - 1 - i : i)),
                  HLF_OK);
    ASSERT_EQ(gw_onboarding_count(o), 19);
    ASSERT_EQ(gw_onboarding_skipped(o), 7);
    ASSERT_EQ(gw_onboarding_result(o, NOW, stuck_days, &r), HLF_OK);
    gw_onboarding_free(o);
    return r;
}

TEST_IMPL(onboarding_tiles_latest)
{
    json_t *docs = onboarding_docs(), *r = aggregate(docs, 0, 30);

    ASSERT_EQ(json_integer_value(json_object_get(r, "events")), 19);
    ASSERT_EQ(json_integer_value(json_object_get(r, "applicants")), 6);
    ASSERT_EQ(json_integer_value(json_object_get(r, "as_of")), NOW);
    ASSERT_EQ(json_integer_value(json_object_get(r, "stuck_days")), 30);
    ASSERT_JSON(json_object_get(r, "tiles"), RF_ONBOARDING_TILES);
    {
        static const struct {
            const char *subject, *event, *state;
            int terminal;
            int64_t seq;
        } want[] = {
            {"J26530", "Firm", "Joined", 1, 106},
            {"J26531", "License1", "Verified", 0, 110},
            {"J26532", "Application", "Started", 0, 111},
            {"J26533", "License1", "Denied", 0, 114},
            {"J26534", "Verification", "Failed", 1, 116},
            {"J26535", "Application", "Started", 0, 118},
        };
        json_t *latest = json_object_get(r, "latest");
        size_t i;

        ASSERT_EQ(json_array_size(latest), NP(want));
        for (i = 0; i < NP(want); i++) {
            json_t *a = json_array_get(latest, i);

            ASSERT_STR_EQ(json_string_value(json_object_get(
                              a, "EventSubject")),
                          want[i].subject);
            ASSERT_STR_EQ(json_string_value(json_object_get(a, "Event")),
                          want[i].event);
            ASSERT_STR_EQ(json_string_value(json_object_get(a, "State")),
                          want[i].state);
            ASSERT_EQ(json_is_true(json_object_get(a, "terminal")),
                      want[i].terminal);
            ASSERT_EQ(json_integer_value(json_object_get(a, "sequence")),
                      want[i].seq);
        }
        /* The Timestamp string comes from the latest event. */
        ASSERT_STR_EQ(json_string_value(json_object_get(
                          json_array_get(latest, 0), "Timestamp")),
                      "Thu, 10 Aug 2023 22:13:20 GMT");
    }
    json_decref(r);
    json_decref(docs);
}

TEST_IMPL(onboarding_stuck)
{
    json_t *docs = onboarding_docs(), *r, *stuck;

    r = aggregate(docs, 0, 30);
    stuck = json_object_get(r, "stuck");
    ASSERT_EQ(json_array_size(stuck), 3);
    ASSERT_JSON(json_array_get(stuck, 0),
                "{\"Event\":\"Application\",\"EventSubject\":\"J26535\","
                "\"State\":\"Started\",\"Timestamp\":\"Sun, 06 Aug 2023 "
                "22:23:20 GMT\",\"sequence\":118,\"stuck_seconds\":8639400,"
                "\"ts\":1691360600}");
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(stuck, 1), "EventSubject")),
                  "J26533");
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(stuck, 1),
                                                 "stuck_seconds")),
              8553100);
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(stuck, 2), "EventSubject")),
                  "J26531");
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(stuck, 2),
                                                 "stuck_seconds")),
              8466200);
    json_decref(r);
    /* 99 days: only J26535 is older. */
    r = aggregate(docs, 0, 99);
    stuck = json_object_get(r, "stuck");
    ASSERT_EQ(json_array_size(stuck), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(stuck, 0), "EventSubject")),
                  "J26535");
    json_decref(r);
    /* Exactly five days is not longer than five days; four is. */
    r = aggregate(docs, 0, 5);
    ASSERT_EQ(json_array_size(json_object_get(r, "stuck")), 3);
    json_decref(r);
    r = aggregate(docs, 0, 4);
    stuck = json_object_get(r, "stuck");
    ASSERT_EQ(json_array_size(stuck), 4);
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(stuck, 3), "EventSubject")),
                  "J26532");
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(stuck, 3),
                                                 "stuck_seconds")),
              5 * DAY);
    json_decref(r);
    json_decref(docs);
}

TEST_IMPL(onboarding_milestones)
{
    json_t *docs = onboarding_docs(), *r = aggregate(docs, 0, 30);

    ASSERT_JSON(
        json_object_get(r, "milestones"),
        "[{\"applicants\":3,\"from\":\"Application Started\",\"median_"
        "seconds\":5400.0,\"out_of_order\":1,\"to\":\"License1 Provided\"},"
        "{\"applicants\":2,\"from\":\"License1 Provided\",\"median_seconds"
        "\":2700.5,\"out_of_order\":0,\"to\":\"ICA Signed\"},"
        "{\"applicants\":2,\"from\":\"ICA Signed\",\"median_seconds\":"
        "122399.5,\"out_of_order\":0,\"to\":\"License1 Verified\"},"
        "{\"applicants\":1,\"from\":\"License1 Verified\",\"median_seconds"
        "\":86400.0,\"out_of_order\":0,\"to\":\"Verification Complete\"},"
        "{\"applicants\":1,\"from\":\"Verification Complete\",\"median_"
        "seconds\":86400.0,\"out_of_order\":0,\"to\":\"Approval Complete\"},"
        "{\"applicants\":1,\"from\":\"Approval Complete\",\"median_seconds"
        "\":86400.0,\"out_of_order\":0,\"to\":\"Firm Joined\"}]");
    json_decref(r);
    json_decref(docs);
}

TEST_IMPL(onboarding_order_independent)
{
    json_t *docs = onboarding_docs();
    json_t *a = aggregate(docs, 0, 30), *b = aggregate(docs, 1, 30);

    ASSERT(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    json_decref(docs);
}

TEST_IMPL(onboarding_empty_and_many)
{
    gw_onboarding_t *o = NULL;
    json_t *r = NULL, *ms;
    char subject[16];
    int i;

    ASSERT_EQ(gw_onboarding_new(&o), HLF_OK);
    ASSERT_EQ(gw_onboarding_result(o, NOW, 30, &r), HLF_OK);
    ASSERT_JSON(r, "{\"applicants\":0,\"as_of\":1700000000,\"events\":0,"
                   "\"latest\":[],\"milestones\":[{\"applicants\":0,"
                   "\"from\":\"Application Started\",\"median_seconds\":"
                   "null,\"out_of_order\":0,\"to\":\"License1 Provided\"},"
                   "{\"applicants\":0,\"from\":\"License1 Provided\","
                   "\"median_seconds\":null,\"out_of_order\":0,\"to\":"
                   "\"ICA Signed\"},{\"applicants\":0,\"from\":\"ICA "
                   "Signed\",\"median_seconds\":null,\"out_of_order\":0,"
                   "\"to\":\"License1 Verified\"},{\"applicants\":0,"
                   "\"from\":\"License1 Verified\",\"median_seconds\":"
                   "null,\"out_of_order\":0,\"to\":\"Verification "
                   "Complete\"},{\"applicants\":0,\"from\":\"Verification "
                   "Complete\",\"median_seconds\":null,\"out_of_order\":0,"
                   "\"to\":\"Approval Complete\"},{\"applicants\":0,"
                   "\"from\":\"Approval Complete\",\"median_seconds\":null,"
                   "\"out_of_order\":0,\"to\":\"Firm Joined\"}],\"stuck\":"
                   "[],\"stuck_days\":30,\"tiles\":[]}");
    json_decref(r);
    /* 5000 applicants grow the table; medians over i * 10 seconds. */
    for (i = 0; i < 5000; i++) {
        json_t *d;

        snprintf(subject, sizeof(subject), "A%05d", i);
        d = rf_onboarding_doc(subject, "Application", "Started", T0, 2 * i);
        ASSERT_EQ(gw_onboarding_add(o, d), HLF_OK);
        json_decref(d);
        d = rf_onboarding_doc(subject, "License1", "Provided", T0 + 10 * i,
                              2 * i + 1);
        ASSERT_EQ(gw_onboarding_add(o, d), HLF_OK);
        json_decref(d);
    }
    ASSERT_EQ(gw_onboarding_result(o, NOW, 30, &r), HLF_OK);
    ASSERT_EQ(json_integer_value(json_object_get(r, "applicants")), 5000);
    ASSERT_EQ(json_array_size(json_object_get(r, "stuck")), 5000);
    ms = json_array_get(json_object_get(r, "milestones"), 0);
    ASSERT_EQ(json_integer_value(json_object_get(ms, "applicants")), 5000);
    /* Middle values 2499 * 10 and 2500 * 10. */
    ASSERT(json_real_value(json_object_get(ms, "median_seconds")) ==
           24995.0);
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(json_object_get(r, "latest"), 4999),
                      "EventSubject")),
                  "A04999");
    json_decref(r);
    gw_onboarding_free(o);
}

TEST_IMPL(onboarding_params)
{
    const gw_reports_param_t p[] = {
        {"System", "Transaction Management Service"},
        {"Recorder", "a"},
        {"Recorder", "b"},
        {"stuck_days", "7"},
        {"from", "1568061480"},
    };
    const gw_reports_param_t bad_p[] = {{"Event", "License1"}};
    const gw_reports_param_t bad_s[] = {{"stuck_days", "3651"}};
    gw_reports_bad_t bad;
    json_t *sel = NULL, *b;
    int stuck = 0;

    ASSERT_EQ(gw_reports_onboarding_params(p, NP(p), 30, &sel, &stuck,
                                           NULL),
              HLF_OK);
    ASSERT_EQ(stuck, 7);
    ASSERT_JSON(sel,
                "{\"Recorder\":"
                "{\"$in\":[\"a\",\"b\"]},\"SubjectType\":\"Agent\","
                "\"System\":\"Transaction Management Service\",\"ts\":"
                "{\"$gte\":1568061480},\"type\":\"event\"}");
    b = gw_reports_onboarding_batch(sel, 65536);
    ASSERT_JSON(json_object_get(b, "sort"),
                "[{\"type\":\"asc\"},{\"SubjectType\":\"asc\"},"
                "{\"sequence\":\"asc\"}]");
    ASSERT_JSON(json_object_get(json_object_get(b, "selector"),
                                "sequence"),
                "{\"$gte\":65537}");
    ASSERT_EQ(json_integer_value(json_object_get(b, "limit")),
              GW_REPORTS_SCAN_BATCH);
    ASSERT_JSON(json_object_get(b, "use_index"),
                "[\"reso\",\"by-subjecttype-sequence\"]");
    json_decref(b);
    b = gw_reports_onboarding_batch(sel, -1);
    ASSERT_JSON(json_object_get(json_object_get(b, "selector"),
                                "sequence"),
                "{\"$gte\":0}");
    /* The caller's selector is not changed by a batch. */
    ASSERT_NULL(json_object_get(sel, "sequence"));
    json_decref(b);
    json_decref(sel);
    ASSERT_EQ(gw_reports_onboarding_params(NULL, 0, 30, &sel, &stuck, NULL),
              HLF_OK);
    ASSERT_EQ(stuck, 30);
    json_decref(sel);
    /* One Recorder: the scan reads that Recorder's index. */
    ASSERT_EQ(gw_reports_onboarding_params(&p[1], 1, 30, &sel, &stuck,
                                           NULL),
              HLF_OK);
    b = gw_reports_onboarding_batch(sel, -1);
    ASSERT_JSON(json_object_get(b, "use_index"),
                "[\"reso\",\"by-recorder-sequence\"]");
    ASSERT_JSON(json_object_get(b, "sort"),
                "[{\"type\":\"asc\"},{\"Recorder\":\"asc\"},"
                "{\"sequence\":\"asc\"}]");
    json_decref(b);
    json_decref(sel);
    ASSERT_EQ(gw_reports_onboarding_params(bad_p, 1, 30, &sel, &stuck,
                                           &bad),
              HLF_EINVAL);
    ASSERT_STR_EQ(bad.code, "UNKNOWN_PARAMETER");
    ASSERT_NULL(sel);
    ASSERT_EQ(gw_reports_onboarding_params(bad_s, 1, 30, &sel, &stuck,
                                           &bad),
              HLF_EINVAL);
    ASSERT_STR_EQ(bad.field, "stuck_days");
    ASSERT_STR_EQ(bad.message, "stuck_days must be an integer from 0 to "
                               "3650");
}

TEST_IMPL(terminal_and_median)
{
    int64_t v[] = {5, 1, 3}, w[] = {4, 1}, *none = NULL;

    ASSERT_EQ(gw_reports_onboarding_terminal("Approval", "Complete"), 1);
    ASSERT_EQ(gw_reports_onboarding_terminal("Firm", "Joined"), 1);
    ASSERT_EQ(gw_reports_onboarding_terminal("Agent", "Active"), 1);
    ASSERT_EQ(gw_reports_onboarding_terminal("Verification", "Failed"), 1);
    ASSERT_EQ(gw_reports_onboarding_terminal("License1", "Denied"), 0);
    ASSERT_EQ(gw_reports_onboarding_terminal("Verification", "Complete"),
              0);
    ASSERT_EQ(gw_reports_onboarding_terminal(NULL, "Complete"), 0);
    ASSERT(gw_reports_median(v, 3) == 3.0);
    ASSERT(gw_reports_median(w, 2) == 2.5);
    ASSERT(gw_reports_median(none, 0) == 0.0);
}

TEST_IMPL(match_conditions)
{
    json_t *doc = json_pack("{s:s, s:s, s:I, s:s}", "type", "event",
                            "Event", "Listing", "ts", (json_int_t)100,
                            "State", "Closed");
    static const struct {
        const char *sel;
        int want;
    } cases[] = {
        {"{}", 1},
        {"{\"type\":\"event\",\"Event\":\"Listing\"}", 1},
        {"{\"Event\":\"Offer\"}", 0},
        {"{\"Recorder\":\"r\"}", 0},
        {"{\"State\":{\"$in\":[\"Changed\",\"Closed\"]}}", 1},
        {"{\"State\":{\"$in\":[\"Changed\"]}}", 0},
        {"{\"ts\":{\"$gte\":100,\"$lte\":100}}", 1},
        {"{\"ts\":{\"$gte\":101}}", 0},
        {"{\"ts\":{\"$lte\":99}}", 0},
        {"{\"ts\":{\"$gt\":99,\"$lt\":101}}", 1},
        {"{\"ts\":{\"$gt\":100}}", 0},
        {"{\"ts\":{\"$lt\":100}}", 0},
        {"{\"ts\":{\"$ne\":5}}", 0},
        {"{\"ts\":{\"$gte\":\"0\"}}", 0},
        {"{\"ts\":100}", 1},
        {"{\"Missing\":{\"$in\":[\"x\"]}}", 0},
    };
    size_t i;

    for (i = 0; i < NP(cases); i++) {
        json_t *sel = json_loads(cases[i].sel, 0, NULL);

        ASSERT_NOT_NULL(sel);
        if (gw_reports_match(sel, doc) != cases[i].want)
            TEST__FAIL("%s: want %d", cases[i].sel, cases[i].want);
        json_decref(sel);
    }
    ASSERT_EQ(gw_reports_match(NULL, doc), 0);
    json_decref(doc);
}

TEST_IMPL(scan_batches)
{
    const gw_reports_param_t p[] = {
        {"Recorder", "r1"}, {"Event", "Listing"}, {"cursor", "d70000"},
        {"order", "desc"}, {"from", "10"}};
    const gw_reports_param_t only[] = {{"Event", "Listing"}};
    json_t *f = NULL, *q;
    size_t limit;
    int desc;

    ASSERT_EQ(gw_reports_search_query(p, NP(p), &f, &limit, &desc, NULL),
              HLF_OK);
    ASSERT_EQ(gw_reports_residual(f), 1);
    /* First batch: the index's conditions and the page's own bound. */
    q = gw_reports_scan_find(f, -1, 1000);
    ASSERT_JSON(json_object_get(q, "selector"),
                "{\"Recorder\":\"r1\",\"sequence\":{\"$lte\":69999},"
                "\"type\":\"event\"}");
    ASSERT_EQ(json_integer_value(json_object_get(q, "limit")), 1000);
    ASSERT_JSON(json_object_get(q, "use_index"),
                "[\"reso\",\"by-recorder-sequence\"]");
    json_decref(q);
    /* Next batch: before the last scanned sequence (descending). */
    q = gw_reports_scan_find(f, 65540, 1000);
    ASSERT_JSON(json_object_get(json_object_get(q, "selector"), "sequence"),
                "{\"$lte\":65539}");
    json_decref(q);
    /* The whole selector is unchanged for matching. */
    ASSERT_NOT_NULL(json_object_get(json_object_get(f, "selector"), "ts"));
    json_decref(f);
    ASSERT_EQ(gw_reports_search_query(only, 1, &f, &limit, &desc, NULL),
              HLF_OK);
    ASSERT_EQ(gw_reports_residual(f), 0);
    q = gw_reports_scan_find(f, 131072, 51);
    ASSERT_JSON(json_object_get(q, "selector"),
                "{\"Event\":\"Listing\",\"sequence\":{\"$gte\":"
                "131073},\"type\":\"event\"}");
    json_decref(q);
    json_decref(f);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(time_forms),
    TEST_ENTRY(time_refused),
    TEST_ENTRY(cursors),
    TEST_ENTRY(search_query_default),
    TEST_ENTRY(search_query_filters),
    TEST_ENTRY(search_query_index_choice),
    TEST_ENTRY(search_query_subject_desc),
    TEST_ENTRY(search_query_refused),
    TEST_ENTRY(activity_query),
    TEST_ENTRY(activity_items),
    TEST_ENTRY(activity_page_newest_first),
    TEST_ENTRY(search_pages),
    TEST_ENTRY(onboarding_tiles_latest),
    TEST_ENTRY(onboarding_stuck),
    TEST_ENTRY(onboarding_milestones),
    TEST_ENTRY(onboarding_order_independent),
    TEST_ENTRY(onboarding_empty_and_many),
    TEST_ENTRY(onboarding_params),
    TEST_ENTRY(terminal_and_median),
    TEST_ENTRY(match_conditions),
    TEST_ENTRY(scan_batches),
};

TEST_MAIN(tests)
