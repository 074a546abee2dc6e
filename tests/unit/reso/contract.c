/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Contract-level tests of RecordEvent, GetEvent and GetSubjectHistory,
 * driven in-process through the stub double of fake_stub.h: exact
 * results, keys, the chaincode event, every contract error with its
 * status, chronological history with nanosecond and TransactionId ties,
 * and 500 answers for ledger failures (with nothing committed).
 */
#include "evl_contract.h"
#include "fake_stub.h"
#include "seed.h"
#include "hlf/crypto.h"
#include "task.h"

#define EVENT(subject, state)                                                \
    "{\"EventSubject\":\"" subject "\","                                     \
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\","  \
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"" state "\","   \
    "\"Recorder\":\"ae1643\",\"Application\":\"87478-a43\"}"

#define SUBJECT "US-42049-49888-1213666-R-N"

/* SHA-256("tx-1") in hex: the first §11 vector. */
#define TX1 "045ef594d81d2f2134d61151ed71260d8f79e657c7cb6ed1d893688532017409"
#define TX1_UUID "6991d580-c6c3-8ceb-90a5-a40c89fb0224"

#define STORED_TX1                                                           \
    "{\"TransactionId\":\"" TX1_UUID "\",\"EventSubject\":\"" SUBJECT "\","  \
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\","  \
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","    \
    "\"Recorder\":\"ae1643\",\"Timestamp\":\"Sun, 03 Jun 2018 13:04:05 "      \
    "GMT\",\"Version\":\"1.3\",\"Application\":\"87478-a43\"}"

static fake_result_t res;

/* One transaction with function fn and zero or one argument. */
static void
call(fake_ledger_t *l, const char *txid, int64_t secs, int32_t nanos,
     const char *fn, const char *arg)
{
    const char *args[2] = {fn, arg};

    fake_result_dispose(&res);
    fake_invoke(l, txid, secs, nanos, 1, args, NULL, arg != NULL ? 2 : 1,
                evl_invoke, NULL, &res);
}

/* One transaction with raw arguments (lens NULL: C strings). */
static void
invoke_args(fake_ledger_t *l, const char *txid, const char *const *args,
            const size_t *lens, size_t argc)
{
    fake_result_dispose(&res);
    fake_invoke(l, txid, 1528031045, 0, 1, args, lens, argc, evl_invoke,
                NULL, &res);
}

static void
record(fake_ledger_t *l, const char *txid, int64_t secs, int32_t nanos,
       const char *event)
{
    call(l, txid, secs, nanos, "RecordEvent", event);
}

/* The last answer was an error with this status, code and field. */
static void
expect_error(int status, const char *code, const char *field, int line)
{
    json_t *body = json_loads(res.message, 0, NULL), *err;
    const char *got_field;

    if (res.status != status || body == NULL)
        TEST__FAIL("line %d: status %d message %s (want %d %s)", line,
                   res.status, res.message, status, code);
    err = json_object_get(body, "error");
    ASSERT_STR_EQ(json_string_value(json_object_get(err, "code")), code);
    got_field = json_string_value(json_object_get(err, "field"));
    if (field == NULL)
        ASSERT_NULL(got_field);
    else
        ASSERT_STR_EQ(got_field, field);
    ASSERT(json_string_length(json_object_get(err, "message")) > 10);
    ASSERT_EQ(json_object_size(err), field == NULL ? 2 : 3);
    ASSERT_EQ(res.payload_len, 0);
    ASSERT_NULL(res.event_name);
    json_decref(body);
}

#define EXPECT_ERROR(status, code, field)                                    \
    expect_error((status), (code), (field), __LINE__)

/* Query fn(arg) and expect an error answer. */
#define EXPECT_CALL(l, fn, arg, status, code, field)                         \
    do {                                                                     \
        call((l), "q", 1, 0, (fn), (arg));                                   \
        EXPECT_ERROR((status), (code), (field));                             \
    } while (0)

/* Hex txid of "tx-<n>", like the §11 vectors. */
static const char *
txid_of(int n, char out[65])
{
    char in[32];
    uint8_t d[HLF_SHA256_LEN];

    snprintf(in, sizeof(in), "tx-%d", n);
    hlf_sha256(in, strlen(in), d);
    hlf_hex_encode(d, sizeof(d), out);
    return out;
}

/*
 * A ledger where the default creator's org (BrokerageMSP) owns ae1643, the
 * Recorder of EVENT(): Recorder binding is strict, so an unregistered one
 * would be refused. One registry entry ("\0REC\0ae1643\0"), which sorts
 * between the EV and subj keys.
 */
static fake_ledger_t *
new_ledger(void)
{
    fake_ledger_t *l = fake_ledger_new();

    seed_recorder(l, "BrokerageMSP", "ae1643");
    return l;
}

TEST_IMPL(record_event_exact)
{
    fake_ledger_t *l = new_ledger();
    static const char ev_key[] = "\0EV\0" TX1_UUID "\0";
    static const char subj_key[] =
        "\0subj\0" SUBJECT "\0" "00000000001528031045000000123\0" TX1_UUID
        "\0";
    const char *k, *v;
    size_t klen, vlen;

    record(l, TX1, 1528031045, 123, EVENT(SUBJECT, "Recorded"));
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(res.payload, STORED_TX1);
    ASSERT_EQ(res.payload_len, strlen(STORED_TX1));
    /* Exactly one chaincode event whose payload is the stored event. */
    ASSERT_STR_EQ(res.event_name, "RecordEvent");
    ASSERT_STR_EQ(res.event_payload, STORED_TX1);
    ASSERT_EQ(res.writes, 2);
    /* Two new keys, wire form, in key order: EV before subj (the
     * registry entry of new_ledger() sorts between them). */
    ASSERT_EQ(fake_ledger_count(l), 3);
    k = fake_ledger_key(l, 0, &klen);
    ASSERT_EQ(klen, sizeof(ev_key) - 1);
    ASSERT_MEM_EQ(k, ev_key, klen);
    v = fake_ledger_value(l, 0, &vlen);
    ASSERT_STR_EQ(v, STORED_TX1);
    k = fake_ledger_key(l, 1, &klen);
    ASSERT_EQ(klen, sizeof("\0REC\0ae1643\0") - 1);
    ASSERT_MEM_EQ(k, "\0REC\0ae1643\0", klen);
    k = fake_ledger_key(l, 2, &klen);
    ASSERT_EQ(klen, sizeof(subj_key) - 1);
    ASSERT_MEM_EQ(k, subj_key, klen);
    v = fake_ledger_value(l, 2, &vlen);
    ASSERT_STR_EQ(v, STORED_TX1);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(get_event)
{
    fake_ledger_t *l = new_ledger();

    record(l, TX1, 1528031045, 0, EVENT(SUBJECT, "Recorded"));
    ASSERT_EQ(res.status, 200);
    call(l, "q1", 1, 0, "GetEvent", TX1_UUID);
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(res.payload, STORED_TX1);
    ASSERT_NULL(res.event_name);
    ASSERT_EQ(res.writes, 0);
    /* Upper-case input names the same event. */
    call(l, "q2", 1, 0, "GetEvent", "6991D580-C6C3-8CEB-90A5-A40C89FB0224");
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(res.payload, STORED_TX1);
    /* A well-formed id that was never recorded. */
    EXPECT_CALL(l, "GetEvent", "5861a992-84fc-88be-b748-3c4ed37f7645",
                404, "EVENT_NOT_FOUND", NULL);
    ASSERT_STR_EQ(res.message,
                  "{\"error\":{\"code\":\"EVENT_NOT_FOUND\",\"message\":\"no "
                  "event with TransactionId "
                  "5861a992-84fc-88be-b748-3c4ed37f7645 is recorded\"}}");
    /* Not a UUID at all. */
    EXPECT_CALL(l, "GetEvent", "6991d580c6c38ceb90a5a40c89fb0224",
                400, "INVALID_ARGUMENTS", "TransactionId");
    EXPECT_CALL(l, "GetEvent", "6991d580-c6c3-8ceb-90a5-a40c89fb022g",
                400, "INVALID_ARGUMENTS", "TransactionId");
    EXPECT_CALL(l, "GetEvent", "", 400, "INVALID_ARGUMENTS", "TransactionId");
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(subject_history_order)
{
    /*
     * Recorded out of time order: equal seconds ordered by nanos, equal
     * seconds and nanos ordered by TransactionId; other subjects (one a
     * prefix of this one, one extending it) never leak in.
     */
    static const struct {
        int tx;
        int64_t secs;
        int32_t nanos;
        const char *subject;
    } rec[] = {
        {1, 1528031045, 500, SUBJECT},    {2, 1528031045, 20, SUBJECT},
        {3, 900000000, 0, SUBJECT},       {4, 1528031045, 500, SUBJECT},
        {5, 99999999999LL, 1, SUBJECT},   {6, 1528031045, 20, "US-42049"},
        {7, 1528031046, 0, SUBJECT "-X"}, {8, 1528031044, 999999999, SUBJECT},
    };
    fake_ledger_t *l = new_ledger();
    char txid[65], uuid[EVL_UUID_LEN + 1], event[512];
    char want[8][EVL_UUID_LEN + 1];
    json_t *arr, *ev;
    size_t i, n = 0;

    seed_recorder(l, "BrokerageMSP", "r1");
    for (i = 0; i < sizeof(rec) / sizeof(rec[0]); i++) {
        snprintf(event, sizeof(event),
                 "{\"EventSubject\":\"%s\",\"System\":\"Manual Input\","
                 "\"SubjectType\":\"Property\",\"Entity\":\"Owner\","
                 "\"Event\":\"Status\",\"State\":\"Changed\","
                 "\"Recorder\":\"r1\",\"Application\":\"app\"}",
                 rec[i].subject);
        record(l, txid_of(rec[i].tx, txid), rec[i].secs, rec[i].nanos,
               event);
        ASSERT_EQ(res.status, 200);
    }
    /* Expected order: tx3, tx8, tx2, then tx1/tx4 by UUID, then tx5. */
    {
        static const int order[] = {3, 8, 2, 1, 4, 5};

        for (i = 0; i < 6; i++) {
            ASSERT_EQ(evl_uuid_from_txid(txid_of(order[i], txid), 64, 0,
                                         want[n]),
                      HLF_OK);
            n++;
        }
        /* tx1 and tx4 tie on time: the smaller TransactionId first. */
        if (strcmp(want[3], want[4]) > 0) {
            memcpy(uuid, want[3], sizeof(uuid));
            memcpy(want[3], want[4], sizeof(uuid));
            memcpy(want[4], uuid, sizeof(uuid));
        }
    }
    call(l, "q", 1, 0, "GetSubjectHistory", SUBJECT);
    ASSERT_EQ(res.status, 200);
    arr = json_loads(res.payload, 0, NULL);
    ASSERT(json_is_array(arr));
    ASSERT_EQ(json_array_size(arr), 6);
    for (i = 0; i < 6; i++) {
        ev = json_array_get(arr, i);
        ASSERT_STR_EQ(json_string_value(json_object_get(ev, "TransactionId")),
                      want[i]);
        ASSERT_STR_EQ(json_string_value(json_object_get(ev, "EventSubject")),
                      SUBJECT);
        ASSERT_EQ(json_object_size(ev), 11);
    }
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(arr, 0),
                                                    "Timestamp")),
                  "Thu, 09 Jul 1998 16:00:00 GMT");
    json_decref(arr);
    /* The index keys, in ledger order, are the same chronology. */
    {
        size_t klen, k, seen = 0;
        const char *key;

        for (k = 0; k < fake_ledger_count(l); k++) {
            key = fake_ledger_key(l, k, &klen);
            if (klen < 6 + strlen(SUBJECT) + 1 ||
                memcmp(key, "\0subj\0" SUBJECT "\0",
                       6 + strlen(SUBJECT) + 1) != 0)
                continue;
            ASSERT(seen < 6);
            ASSERT_MEM_EQ(key + klen - 1 - EVL_UUID_LEN, want[seen],
                          EVL_UUID_LEN);
            seen++;
        }
        ASSERT_EQ(seen, 6);
    }
    /* A subject with no events has an empty history. */
    call(l, "q", 1, 0, "GetSubjectHistory", "urn:reso:none:1");
    ASSERT_EQ(res.status, 200);
    ASSERT_STR_EQ(res.payload, "[]");
    call(l, "q", 1, 0, "GetSubjectHistory", "US-42049");
    ASSERT_EQ(res.status, 200);
    arr = json_loads(res.payload, 0, NULL);
    ASSERT_EQ(json_array_size(arr), 1);
    json_decref(arr);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(subject_history_bad_argument)
{
    fake_ledger_t *l = new_ledger();
    const char *args[2] = {"GetSubjectHistory", "a\0b"};
    size_t lens[2] = {17, 3};
    char big[300];

    EXPECT_CALL(l, "GetSubjectHistory", "", 400, "INVALID_VALUE",
                "EventSubject");
    memset(big, 'a', 256);
    big[256] = '\0';
    EXPECT_CALL(l, "GetSubjectHistory", big, 400, "INVALID_VALUE",
                "EventSubject");
    EXPECT_CALL(l, "GetSubjectHistory", "urn:reso:\xff", 400, "INVALID_VALUE",
                "EventSubject");
    invoke_args(l, "q", args, lens, 2);
    EXPECT_ERROR(400, "INVALID_VALUE", "EventSubject");
    EXPECT_CALL(l, "GetSubjectHistory", "not a subject",
                400, "INVALID_IDENTIFIER", "EventSubject");
    EXPECT_CALL(l, "GetSubjectHistory", "did:reso:oid:x#1",
                400, "INVALID_IDENTIFIER", "EventSubject");
    EXPECT_CALL(l, "GetSubjectHistory", "urn:reso:\xf4\x8f\xbf\xbf",
                400, "INVALID_IDENTIFIER", "EventSubject");
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(dispatch_errors)
{
    fake_ledger_t *l = new_ledger();
    const char *args[3] = {"RecordEvent", EVENT(SUBJECT, "Recorded"), "x"};
    size_t lens[3] = {14, 0, 0};
    static const char *const fns[] = {"RecordEvent", "GetEvent",
                                      "GetSubjectHistory"};
    size_t i;

    EXPECT_CALL(l, "recordEvent", EVENT(SUBJECT, "Recorded"), 400,
                "UNKNOWN_FUNCTION", NULL);
    EXPECT_CALL(l, "UpdateEvent", TX1_UUID, 400, "UNKNOWN_FUNCTION", NULL);
    EXPECT_CALL(l, "DeleteEvent", TX1_UUID, 400, "UNKNOWN_FUNCTION", NULL);
    /* Unknown function beats an invalid event. */
    EXPECT_CALL(l, "Record", "{", 400, "UNKNOWN_FUNCTION", NULL);
    /* A name with a NUL byte after a valid prefix is not that name. */
    lens[0] = 14;
    args[0] = "RecordEvent\0xx";
    invoke_args(l, TX1, args, lens, 2);
    EXPECT_ERROR(400, "UNKNOWN_FUNCTION", NULL);
    /* No arguments at all. */
    invoke_args(l, TX1, args, NULL, 0);
    EXPECT_ERROR(400, "UNKNOWN_FUNCTION", NULL);
    /* The list of functions grows with the contract: check its shape. */
    ASSERT(strncmp(res.message,
                   "{\"error\":{\"code\":\"UNKNOWN_FUNCTION\",\"message\":"
                   "\"no function name given; the functions are "
                   "RecordEvent, GetEvent, GetSubjectHistory, ",
                   131) == 0);
    ASSERT(strstr(res.message, " GetCatalog, GetProfiles, "
                               "ProposeCatalogChange, ApproveCatalogChange, "
                               "GetProposal") != NULL);
    /* Wrong argument counts for each function: 0 and 2 arguments. */
    for (i = 0; i < 3; i++) {
        args[0] = fns[i];
        invoke_args(l, TX1, args, NULL, 1);
        EXPECT_ERROR(400, "INVALID_ARGUMENTS", NULL);
        invoke_args(l, TX1, args, NULL, 3);
        EXPECT_ERROR(400, "INVALID_ARGUMENTS", NULL);
    }
    ASSERT_STR_EQ(res.message,
                  "{\"error\":{\"code\":\"INVALID_ARGUMENTS\",\"message\":"
                  "\"GetSubjectHistory takes exactly 1 argument (an "
                  "EventSubject), got 2\"}}");
    ASSERT_EQ(fake_ledger_count(l), 1);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(record_validation_errors)
{
    /* Each validation code reaches the client as 400 with its field. */
    static const struct {
        const char *event, *code, *field;
    } cases[] = {
        {"not json", "INVALID_JSON", NULL},
        {"{\"Version\":\"1.3\"}", "SYSTEM_FIELD_SUPPLIED", "Version"},
        {"{\"Price\":1}", "UNKNOWN_FIELD", "Price"},
        {"{\"EventSubject\":\"a\"}", "MISSING_FIELD", "System"},
        {EVENT(SUBJECT, ""), "INVALID_VALUE", "State"},
        {EVENT(SUBJECT, "Sold"), "INVALID_LOOKUP", "State"},
        {EVENT("a b", "Recorded"), "INVALID_IDENTIFIER", "EventSubject"},
    };
    fake_ledger_t *l = new_ledger();
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        record(l, TX1, 1528031045, 0, cases[i].event);
        expect_error(400, cases[i].code, cases[i].field, __LINE__);
        ASSERT_EQ(res.writes, 0);
    }
    ASSERT_EQ(fake_ledger_count(l), 1);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(duplicate_event)
{
    fake_ledger_t *l = new_ledger();

    record(l, TX1, 1528031045, 0, EVENT(SUBJECT, "Recorded"));
    ASSERT_EQ(res.status, 200);
    /* The same Fabric txid again (impossible on a real channel). */
    record(l, TX1, 1528031099, 0, EVENT(SUBJECT, "Changed"));
    EXPECT_ERROR(400, "DUPLICATE_EVENT", NULL);
    ASSERT_EQ(fake_ledger_count(l), 3);
    call(l, "q", 1, 0, "GetEvent", TX1_UUID);
    ASSERT_STR_EQ(res.payload, STORED_TX1);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(internal_errors)
{
    static const char *const ops[] = {"get_state", "put_state", "set_event",
                                      "composite_key"};
    fake_ledger_t *l = new_ledger();
    const char *args[2] = {"RecordEvent", EVENT(SUBJECT, "Recorded")};
    size_t i;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        fake_ledger_fail(l, ops[i], HLF_EIO);
        record(l, TX1, 1528031045, 0, EVENT(SUBJECT, "Recorded"));
        EXPECT_ERROR(500, "INTERNAL", NULL);
        ASSERT(strstr(res.message, "EIO (injected)") != NULL);
    }
    ASSERT_EQ(fake_ledger_count(l), 1);
    /* No timestamp, a timestamp out of range, an empty txid. */
    fake_result_dispose(&res);
    fake_invoke(l, TX1, 0, 0, 0, args, NULL, 2, evl_invoke, NULL, &res);
    EXPECT_ERROR(500, "INTERNAL", NULL);
    record(l, TX1, -5, 0, EVENT(SUBJECT, "Recorded"));
    EXPECT_ERROR(500, "INTERNAL", NULL);
    record(l, TX1, 1, 1000000000, EVENT(SUBJECT, "Recorded"));
    EXPECT_ERROR(500, "INTERNAL", NULL);
    record(l, "", 1, 0, EVENT(SUBJECT, "Recorded"));
    EXPECT_ERROR(500, "INTERNAL", NULL);
    ASSERT_EQ(fake_ledger_count(l), 1);
    /* Read failures of the query functions. */
    fake_ledger_fail(l, "get_state", HLF_ECLOSED);
    EXPECT_CALL(l, "GetEvent", TX1_UUID, 500, "INTERNAL", NULL);
    fake_ledger_fail(l, "range", HLF_EIO);
    EXPECT_CALL(l, "GetSubjectHistory", SUBJECT, 500, "INTERNAL", NULL);
    record(l, TX1, 1528031045, 0, EVENT(SUBJECT, "Recorded"));
    ASSERT_EQ(res.status, 200);
    fake_ledger_fail(l, "iter_next", HLF_EPROTO);
    EXPECT_CALL(l, "GetSubjectHistory", SUBJECT, 500, "INTERNAL", NULL);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

TEST_IMPL(profile_from_ud)
{
    /* The profile passed as ud becomes the Version. */
    static const char *const sys[] = {"Manual Input", NULL};
    static const char *const st[] = {"Recorded", NULL};
    static const char *const subj[] = {"Property", NULL};
    static const char *const ent[] = {"Broker", NULL};
    static const char *const evt[] = {"Listing", NULL};
    static const evl_profile_t p = {"9.9-test", {sys, subj, ent, evt, st}, 0,
                                    ""};
    const char *args[2] = {
        "RecordEvent",
        "{\"EventSubject\":\"s1\",\"System\":\"Manual Input\","
        "\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
        "\"Event\":\"Listing\",\"State\":\"Recorded\",\"Recorder\":\"r\","
        "\"Application\":\"a\"}"};
    fake_ledger_t *l = new_ledger();
    json_t *ev;

    seed_recorder(l, "BrokerageMSP", "r");
    fake_result_dispose(&res);
    fake_invoke(l, TX1, 1, 0, 1, args, NULL, 2, evl_invoke, (void *)&p,
                &res);
    ASSERT_EQ(res.status, 200);
    ev = json_loads(res.payload, 0, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(ev, "Version")),
                  "9.9-test");
    json_decref(ev);
    fake_result_dispose(&res);
    fake_ledger_free(l);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(record_event_exact),
    TEST_ENTRY(get_event),
    TEST_ENTRY(subject_history_order),
    TEST_ENTRY(subject_history_bad_argument),
    TEST_ENTRY(dispatch_errors),
    TEST_ENTRY(record_validation_errors),
    TEST_ENTRY(duplicate_event),
    TEST_ENTRY(internal_errors),
    TEST_ENTRY(profile_from_ud),
};

TEST_MAIN(tests)
