/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Referral tracking (tx_referral.c) through the contract and the stub
 * double, under the extended profile: the RCP-005 life of a referral split
 * into sub-referrals (one of them split again) played back by GetReferral
 * as one tree, each node's events in chronological order and the
 * sub-referrals in link order; every Context.ParentReferral rule with its
 * exact code and field and no write; the index keys; GetReferral's errors.
 */
#include "evl_contract.h"
#include "fake_stub.h"
#include "seed.h"
#include "task.h"

#include <stdio.h>
#include <string.h>

static fake_result_t res;
static int txn;
static int64_t clock_s = 1700000000;

static void
call(fake_ledger_t *l, const char *fn, const char *arg)
{
    const char *args[2] = {fn, arg};
    char txid[32];

    snprintf(txid, sizeof(txid), "tx-%d", ++txn);
    fake_result_dispose(&res);
    fake_invoke(l, txid, ++clock_s, 0, 1, args, NULL, 2, evl_invoke,
                (void *)evl_profile_find("1.5-ext"), &res);
}

/* The Recorder of every event here, registered to the default creator's
 * org by new_ledger() (binding is strict). */
#define RECORDER "urn:reso:recorder:brokerage:1234"

static fake_ledger_t *
new_ledger(void)
{
    fake_ledger_t *l = fake_ledger_new();

    seed_recorder(l, "BrokerageMSP", RECORDER);
    return l;
}

/* Record one referral event; ctx is the Context object text or NULL. */
static void
rec(fake_ledger_t *l, const char *subject, const char *stype,
    const char *event, const char *state, const char *ctx)
{
    char buf[1024];

    snprintf(buf, sizeof(buf),
             "{\"EventSubject\":\"%s\","
             "\"System\":\"Referral Marketplace Service\","
             "\"SubjectType\":\"%s\",\"Entity\":\"Broker\","
             "\"Event\":\"%s\",\"State\":\"%s\","
             "\"Recorder\":\"" RECORDER "\","
             "\"Application\":\"referral-app\"%s%s%s}",
             subject, stype, event, state, ctx ? ",\"Context\":" : "",
             ctx ? ctx : "", "");
    call(l, "RecordEvent", buf);
}

static void
ok_rec(fake_ledger_t *l, const char *subject, const char *stype,
       const char *event, const char *state, const char *ctx, int line)
{
    rec(l, subject, stype, event, state, ctx);
    if (res.status != 200)
        TEST__FAIL("line %d: %d %s", line, res.status, res.message);
}

static void
expect_error(int status, const char *code, const char *field, int line)
{
    json_t *body = json_loads(res.message, 0, NULL), *err;
    const char *got;

    if (res.status != status || body == NULL)
        TEST__FAIL("line %d: status %d message %s (want %d %s)", line,
                   res.status, res.message, status, code);
    err = json_object_get(body, "error");
    ASSERT_STR_EQ(json_string_value(json_object_get(err, "code")), code);
    got = json_string_value(json_object_get(err, "field"));
    if (field == NULL)
        ASSERT_NULL(got);
    else
        ASSERT_STR_EQ(got, field);
    ASSERT_EQ(res.writes, 0);
    json_decref(body);
}

#define PARENT(p) "{\"ParentReferral\":\"" p "\"}"
#define OK(s, t, e, st, c) ok_rec(l, s, t, e, st, c, __LINE__)

/*
 * The tree of RCP-005's typical sequence (reso-model.md §4.5). SUB-B is
 * linked before SUB-A, so link order differs from key order.
 */
static void
build_tree(fake_ledger_t *l)
{
    OK("REF-1", "Referral", "Referral", "Created", NULL);
    OK("REF-1", "Referral", "Source", "Added", NULL);
    OK("REF-1", "Referral", "Destination", "Added", NULL);
    OK("REF-1", "Referral", "Compensation", "Added", NULL);
    OK("REF-1", "Referral", "Subreferrals", "Splitted", NULL);
    OK("SUB-B", "Subreferral", "Referral", "Created", PARENT("REF-1"));
    OK("SUB-A", "Subreferral", "Referral", "Created", PARENT("REF-1"));
    OK("SUB-B", "Subreferral", "Compensation", "Added", NULL);
    /* Repeating the same parent is allowed. */
    OK("SUB-A", "Subreferral", "Source", "Added", PARENT("REF-1"));
    OK("SUB-C", "Subreferral", "Referral", "Created", PARENT("SUB-B"));
    OK("REF-1", "Referral", "Referral", "Accepted", NULL);
    OK("REF-1", "Referral", "Referral", "Closed", NULL);
}

/* "Event/State" of every event of node, comma-separated, into buf. */
static const char *
steps(json_t *node, char *buf, size_t n)
{
    json_t *events = json_object_get(node, "Events");
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < json_array_size(events); i++) {
        json_t *ev = json_array_get(events, i);

        o += (size_t)snprintf(
            buf + o, n - o, "%s%s/%s", i ? "," : "",
            json_string_value(json_object_get(ev, "Event")),
            json_string_value(json_object_get(ev, "State")));
        ASSERT(o < n);
    }
    return buf;
}

static json_t *
child(json_t *node, size_t i)
{
    return json_array_get(json_object_get(node, "Subreferrals"), i);
}

static const char *
subject(json_t *node)
{
    return json_string_value(json_object_get(node, "EventSubject"));
}

TEST_IMPL(referral_tree_playback)
{
    fake_ledger_t *l = new_ledger();
    json_t *tree, *b, *a, *c;
    char buf[512];

    build_tree(l);
    call(l, "GetReferral", "REF-1");
    ASSERT_EQ(res.status, 200);
    tree = json_loads(res.payload, 0, NULL);
    ASSERT_NOT_NULL(tree);
    ASSERT_EQ(json_object_size(tree), 3);
    ASSERT_STR_EQ(subject(tree), "REF-1");
    ASSERT_STR_EQ(steps(tree, buf, sizeof(buf)),
                  "Referral/Created,Source/Added,Destination/Added,"
                  "Compensation/Added,Subreferrals/Splitted,"
                  "Referral/Accepted,Referral/Closed");
    ASSERT_EQ(json_array_size(json_object_get(tree, "Subreferrals")), 2);
    b = child(tree, 0);
    a = child(tree, 1);
    ASSERT_STR_EQ(subject(b), "SUB-B");
    ASSERT_STR_EQ(steps(b, buf, sizeof(buf)),
                  "Referral/Created,Compensation/Added");
    ASSERT_STR_EQ(subject(a), "SUB-A");
    ASSERT_STR_EQ(steps(a, buf, sizeof(buf)),
                  "Referral/Created,Source/Added");
    ASSERT_EQ(json_array_size(json_object_get(a, "Subreferrals")), 0);
    ASSERT_EQ(json_array_size(json_object_get(b, "Subreferrals")), 1);
    c = child(b, 0);
    ASSERT_STR_EQ(subject(c), "SUB-C");
    ASSERT_STR_EQ(steps(c, buf, sizeof(buf)), "Referral/Created");
    ASSERT_EQ(json_array_size(json_object_get(c, "Subreferrals")), 0);
    /* The stored events are served verbatim, Context included. */
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(json_array_get(
                                          json_object_get(a, "Events"), 0),
                                      "Context"),
                      "ParentReferral")),
                  "REF-1");
    json_decref(tree);

    /* A sub-referral plays back as the root of its own subtree. */
    call(l, "GetReferral", "SUB-B");
    ASSERT_EQ(res.status, 200);
    tree = json_loads(res.payload, 0, NULL);
    ASSERT_STR_EQ(subject(tree), "SUB-B");
    ASSERT_STR_EQ(subject(child(tree, 0)), "SUB-C");
    ASSERT_EQ(json_array_size(json_object_get(tree, "Subreferrals")), 1);
    json_decref(tree);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(referral_link_rules)
{
    fake_ledger_t *l = new_ledger();

    build_tree(l);
    /* A parent named on an event that is not a sub-referral's. */
    rec(l, "REF-2", "Referral", "Referral", "Created", PARENT("REF-1"));
    expect_error(400, "INVALID_VALUE", "Context.ParentReferral", __LINE__);
    /* Not an EventSubject. */
    rec(l, "SUB-X", "Subreferral", "Referral", "Created",
        PARENT("no spaces!"));
    expect_error(400, "INVALID_IDENTIFIER", "Context.ParentReferral",
                 __LINE__);
    rec(l, "SUB-X", "Subreferral", "Referral", "Created",
        "{\"ParentReferral\":7}");
    ASSERT_NE(res.status, 200);
    ASSERT_EQ(res.writes, 0);
    /* Its own parent. */
    rec(l, "SUB-X", "Subreferral", "Referral", "Created", PARENT("SUB-X"));
    expect_error(400, "INVALID_VALUE", "Context.ParentReferral", __LINE__);
    /* A first sub-referral event must name its parent. */
    rec(l, "SUB-X", "Subreferral", "Referral", "Created", NULL);
    expect_error(400, "MISSING_FIELD", "Context.ParentReferral", __LINE__);
    rec(l, "SUB-X", "Subreferral", "Referral", "Created",
        "{\"Note\":\"x\"}");
    expect_error(400, "MISSING_FIELD", "Context.ParentReferral", __LINE__);
    /* The parent must be a referral on the ledger. */
    rec(l, "SUB-X", "Subreferral", "Referral", "Created", PARENT("NOPE"));
    expect_error(400, "INVALID_VALUE", "Context.ParentReferral", __LINE__);
    /* One parent per sub-referral. */
    rec(l, "SUB-A", "Subreferral", "Referral", "Accepted", PARENT("SUB-B"));
    expect_error(400, "INVALID_VALUE", "Context.ParentReferral", __LINE__);
    /* REF-1 under its own grandchild would close a cycle. */
    rec(l, "REF-1", "Subreferral", "Referral", "Changed", PARENT("SUB-C"));
    expect_error(400, "INVALID_VALUE", "Context.ParentReferral", __LINE__);
    /* A later event of a linked sub-referral needs no parent. */
    OK("SUB-C", "Subreferral", "Referral", "Accepted", NULL);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

/* The link writes exactly the documented keys, once. */
TEST_IMPL(referral_index_keys)
{
    fake_ledger_t *l = new_ledger();
    size_t i, n, refp = 0, refc = 0, refn = 0, len;

    OK("REF-1", "Referral", "Referral", "Created", NULL);
    /* Event key, subject index entry, refn. */
    ASSERT_EQ(res.writes, 3);
    OK("SUB-A", "Subreferral", "Referral", "Created", PARENT("REF-1"));
    /* Event key, subject index entry, refp, refc, refn. */
    ASSERT_EQ(res.writes, 5);
    OK("SUB-A", "Subreferral", "Source", "Added", PARENT("REF-1"));
    ASSERT_EQ(res.writes, 3);
    n = fake_ledger_count(l);
    for (i = 0; i < n; i++) {
        const char *k = fake_ledger_key(l, i, &len);
        size_t vlen;
        const char *v = fake_ledger_value(l, i, &vlen);

        /* Composite keys start with U+0000, then the object type. */
        if (len > 5 && memcmp(k, "\0refp\0", 6) == 0) {
            refp++;
            ASSERT_EQ(len, 6 + strlen("SUB-A") + 1);
            ASSERT_EQ(vlen, 5);
            ASSERT_MEM_EQ(v, "REF-1", 5);
        } else if (len > 5 && memcmp(k, "\0refc\0REF-1\0", 12) == 0) {
            refc++;
            ASSERT_EQ(vlen, 5);
            ASSERT_MEM_EQ(v, "SUB-A", 5);
        } else if (len > 5 && memcmp(k, "\0refn\0", 6) == 0) {
            refn++;
        }
    }
    ASSERT_EQ(refp, 1);
    ASSERT_EQ(refc, 1);
    ASSERT_EQ(refn, 2);
    /* Events of other subject types leave the index alone. */
    rec(l, "US-42049-49888-1213666-R-N", "Property", "Listing", "Recorded",
        NULL);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(res.writes, 2);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(referral_get_errors)
{
    fake_ledger_t *l = new_ledger();

    OK("REF-1", "Referral", "Referral", "Created", NULL);
    rec(l, "US-42049-49888-1213666-R-N", "Property", "Listing", "Recorded",
        NULL);
    ASSERT_EQ(res.status, 200);
    call(l, "GetReferral", "NOPE");
    expect_error(404, "EVENT_NOT_FOUND", "EventSubject", __LINE__);
    /* A subject with events that is no referral. */
    call(l, "GetReferral", "US-42049-49888-1213666-R-N");
    expect_error(404, "EVENT_NOT_FOUND", "EventSubject", __LINE__);
    call(l, "GetReferral", "not a subject");
    expect_error(400, "INVALID_IDENTIFIER", "EventSubject", __LINE__);
    call(l, "GetReferral", "");
    expect_error(400, "INVALID_VALUE", "EventSubject", __LINE__);
    /* Ledger failures are 500 INTERNAL, never a partial tree. */
    fake_ledger_fail(l, "range", HLF_EIO);
    call(l, "GetReferral", "REF-1");
    expect_error(500, "INTERNAL", NULL, __LINE__);
    fake_ledger_fail(l, "get_state", HLF_EIO);
    call(l, "GetReferral", "REF-1");
    expect_error(500, "INTERNAL", NULL, __LINE__);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(referral_tree_playback),
    TEST_ENTRY(referral_link_rules),
    TEST_ENTRY(referral_index_keys),
    TEST_ENTRY(referral_get_errors),
};

TEST_MAIN(tests)
