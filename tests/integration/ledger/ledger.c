/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The foundation's end-to-end checks on the real Fabric network started by
 * the ctest fixture "fabric": RESO events recorded with libhlf through each
 * organisation's peer Gateway, read back and played back; 200 concurrent
 * records all committed and readable; every RecordEvent error class coming
 * back with its code and field (a Recorder of another org or of none
 * refused under strict binding); chaincode events for what was recorded.
 *
 * The fixture file (RESO_TEST_ENV_FILE) names the network's run directory;
 * `resoctl network env --json` (RESOCTL) describes it. Without Fabric the
 * fixture records NET_SKIP and every test here skips.
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evl.h"
#include "hlf/crypto.h"
#include "hlf/events.h"
#include "hlf/gateway.h"
#include "netfixture.h"
#include "task.h"

static const char *const ORGS[] = {"Brokerage", "Association", "MLS"};

typedef reso_org_t org_t;

/* ------------------------------------------------------------------ */
/* Network description                                                 */
/* ------------------------------------------------------------------ */


static void
org_close(org_t *o)
{
    reso_netenv_close_org(o);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A subject no earlier run can have used: legacy UPI shape, unique part. */
static void
unique_subject(char *out, size_t n, const char *tag)
{
    uint8_t r[6];
    char hex[13];

    ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
    hlf_hex_encode(r, sizeof(r), hex);
    snprintf(out, n, "US-42049-%s-%s-R-N", tag, hex);
}

static char *
event_json(const char *subject, const char *state, const char *recorder)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "EventSubject", subject,
                          "System", "Property Listing Service",
                          "SubjectType", "Property", "Entity", "Broker",
                          "Event", "Listing", "State", state,
                          "Recorder", recorder, "Application", "87478-a43");
    char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(e);
    return s;
}

/* Submit RecordEvent; returns the stored event (new) and the Fabric txid. */
static json_t *
record(org_t *o, const char *doc, char txid[65], uint64_t *block)
{
    hlf_bytes_t arg = hlf_bytes_str(doc), res = {0};
    hlf_error_t err;
    json_t *ev;

    hlf_error_clear(&err);
    if (hlf_contract_submit(o->contract, "RecordEvent", &arg, 1, &res, &err) !=
        HLF_OK)
        TEST__FAIL("RecordEvent: %s | %s", err.text, err.chaincode_message);
    ASSERT_EQ(err.tx_validation_code, 0);
    if (txid != NULL)
        memcpy(txid, err.tx_id, 65);
    if (block != NULL)
        *block = err.block_number;
    ev = json_loadb((const char *)res.data, res.len, 0, NULL);
    ASSERT_NOT_NULL(ev);
    hlf_bytes_free(&res);
    return ev;
}

static json_t *
evaluate(org_t *o, const char *fn, const char *arg_s)
{
    hlf_bytes_t arg = hlf_bytes_str(arg_s), res = {0};
    hlf_error_t err;
    json_t *v;

    hlf_error_clear(&err);
    if (hlf_contract_evaluate(o->contract, fn, &arg, 1, &res, &err) != HLF_OK)
        TEST__FAIL("%s(%s): %s | %s", fn, arg_s, err.text,
                   err.chaincode_message);
    v = json_loadb((const char *)res.data, res.len, 0, NULL);
    ASSERT_NOT_NULL(v);
    hlf_bytes_free(&res);
    return v;
}

/*
 * GetEvent on another org's peer. A commit reported by one peer's gateway
 * reaches the other peers a moment later (each commits the block on its
 * own), so a not-found there is retried for up to 10 s; the recording
 * org's own peer must answer at once (see the callers).
 */
static json_t *
get_event_eventually(org_t *o, const char *id)
{
    int tries;

    for (tries = 0; tries < 100; tries++) {
        hlf_bytes_t arg = hlf_bytes_str(id), res = {0};
        hlf_error_t err;
        json_t *v;

        hlf_error_clear(&err);
        if (hlf_contract_evaluate(o->contract, "GetEvent", &arg, 1, &res,
                                  &err) == HLF_OK) {
            v = json_loadb((const char *)res.data, res.len, 0, NULL);
            ASSERT_NOT_NULL(v);
            hlf_bytes_free(&res);
            return v;
        }
        if (err.chaincode_status != 404)
            TEST__FAIL("GetEvent(%s): %s", id, err.text);
        usleep(100 * 1000);
    }
    TEST__FAIL("GetEvent(%s): still not found on another peer after 10 s",
               id);
}

/* The stored event must carry the input and the ledger-assigned fields. */
static void
check_stored(json_t *ev, const char *doc, const char *fabric_txid)
{
    json_t *in = json_loads(doc, 0, NULL);
    const char *key;
    json_t *v;
    char uuid[EVL_UUID_LEN + 1];
    const char *ts;

    ASSERT_NOT_NULL(in);
    json_object_foreach(in, key, v)
        ASSERT(json_equal(v, json_object_get(ev, key)));
    ASSERT_EQ(json_object_size(ev), json_object_size(in) + 3);
    /* TransactionId is the UUID derived from the Fabric txid (index 0). */
    ASSERT_EQ(evl_uuid_from_txid(fabric_txid, strlen(fabric_txid), 0, uuid),
              HLF_OK);
    ASSERT_STR_EQ(netfx_str(ev, "TransactionId"), uuid);
    ASSERT_STR_EQ(netfx_str(ev, "Version"), "1.3");
    /* IMF-fixdate within a few minutes of now. */
    ts = netfx_str(ev, "Timestamp");
    ASSERT_EQ(strlen(ts), 29);
    ASSERT_STR_EQ(ts + 25, " GMT");
    {
        struct tm tm;
        char *end;
        time_t t;

        memset(&tm, 0, sizeof(tm));
        end = strptime(ts, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        ASSERT(end != NULL && *end == '\0');
        t = timegm(&tm);
        ASSERT_LE(labs((long)(t - time(NULL))), 600);
    }
    json_decref(in);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

TEST_IMPL(record_get_history_each_org)
{
    static const char *const states[] = {"Recorded", "Changed", "Removed"};
    json_t *env = netfx_env();
    org_t orgs[3];
    char subject[64];
    char ids[3][EVL_UUID_LEN + 1];
    size_t i, j;

    unique_subject(subject, sizeof(subject), "1");
    for (i = 0; i < 3; i++)
        netfx_org_open(env, ORGS[i], &orgs[i]);
    for (i = 0; i < 3; i++) {
        char *doc = event_json(subject, states[i],
                               netfx_recorder(env, ORGS[i]));
        char txid[65];
        json_t *ev = record(&orgs[i], doc, txid, NULL);

        check_stored(ev, doc, txid);
        snprintf(ids[i], sizeof(ids[i]), "%s", netfx_str(ev, "TransactionId"));
        /* Every org reads back exactly what was stored; the recording
         * org's peer at once (it reported the commit). */
        for (j = 0; j < 3; j++) {
            json_t *got = j == i ? evaluate(&orgs[j], "GetEvent", ids[i])
                                 : get_event_eventually(&orgs[j], ids[i]);

            ASSERT(json_equal(got, ev));
            json_decref(got);
        }
        json_decref(ev);
        free(doc);
    }
    /* Playback from each org: the three events in recording order. */
    for (j = 0; j < 3; j++) {
        json_t *hist = evaluate(&orgs[j], "GetSubjectHistory", subject);

        ASSERT(json_is_array(hist));
        ASSERT_EQ(json_array_size(hist), 3);
        for (i = 0; i < 3; i++) {
            json_t *e = json_array_get(hist, i);

            ASSERT_STR_EQ(netfx_str(e, "TransactionId"), ids[i]);
            ASSERT_STR_EQ(netfx_str(e, "State"), states[i]);
            ASSERT_STR_EQ(netfx_str(e, "EventSubject"), subject);
        }
        json_decref(hist);
    }
    for (i = 0; i < 3; i++)
        org_close(&orgs[i]);
    json_decref(env);
}

#define MANY 200
#define THREADS 8

typedef struct {
    org_t *org;
    const char *recorder; /* The org's own Recorder (borrowed). */
    const char *subject;
    int first, count;
    char (*ids)[EVL_UUID_LEN + 1];
    int failures;
} worker_t;

static void *
record_worker(void *arg)
{
    worker_t *w = arg;
    int i;

    for (i = w->first; i < w->first + w->count; i++) {
        char *doc = event_json(w->subject, "Changed", w->recorder);
        hlf_bytes_t a = hlf_bytes_str(doc), res = {0};
        hlf_error_t err;
        json_t *ev;

        hlf_error_clear(&err);
        if (hlf_contract_submit(w->org->contract, "RecordEvent", &a, 1, &res,
                                &err) != HLF_OK) {
            fprintf(stderr, "record %d: %s\n", i, err.text);
            w->failures++;
        } else {
            ev = json_loadb((const char *)res.data, res.len, 0, NULL);
            if (ev == NULL)
                w->failures++;
            else
                snprintf(w->ids[i], sizeof(w->ids[i]), "%s",
                         json_string_value(
                             json_object_get(ev, "TransactionId")));
            json_decref(ev);
        }
        hlf_bytes_free(&res);
        free(doc);
    }
    return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

TEST_IMPL(two_hundred_records_all_readable)
{
    json_t *env = netfx_env();
    org_t orgs[3];
    pthread_t th[THREADS];
    worker_t w[THREADS];
    static char ids[MANY][EVL_UUID_LEN + 1];
    static char hist_ids[MANY][EVL_UUID_LEN + 1];
    char subject[64];
    json_t *hist;
    size_t i;
    int failures = 0;

    unique_subject(subject, sizeof(subject), "200");
    for (i = 0; i < 3; i++)
        netfx_org_open(env, ORGS[i], &orgs[i]);
    /* Spread the writers over the three orgs' gateways. */
    for (i = 0; i < THREADS; i++) {
        w[i].org = &orgs[i % 3];
        w[i].recorder = netfx_recorder(env, ORGS[i % 3]);
        w[i].subject = subject;
        w[i].first = (int)i * (MANY / THREADS);
        w[i].count = MANY / THREADS;
        w[i].ids = ids;
        w[i].failures = 0;
        ASSERT_EQ(pthread_create(&th[i], NULL, record_worker, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
    }
    ASSERT_EQ(failures, 0);
    /* Each one is readable, by an org other than the recorder's. */
    for (i = 0; i < MANY; i++) {
        json_t *ev = get_event_eventually(&orgs[(i + 1) % 3], ids[i]);

        ASSERT_STR_EQ(netfx_str(ev, "TransactionId"), ids[i]);
        ASSERT_STR_EQ(netfx_str(ev, "EventSubject"), subject);
        json_decref(ev);
    }
    /* Playback holds exactly the 200, in non-decreasing time order. */
    hist = evaluate(&orgs[2], "GetSubjectHistory", subject);
    ASSERT_EQ(json_array_size(hist), MANY);
    for (i = 0; i < MANY; i++) {
        json_t *e = json_array_get(hist, i);

        snprintf(hist_ids[i], sizeof(hist_ids[i]), "%s",
                 netfx_str(e, "TransactionId"));
        if (i > 0) {
            struct tm a, b;

            memset(&a, 0, sizeof(a));
            memset(&b, 0, sizeof(b));
            strptime(netfx_str(json_array_get(hist, i - 1), "Timestamp"),
                     "%a, %d %b %Y %H:%M:%S GMT", &a);
            strptime(netfx_str(e, "Timestamp"), "%a, %d %b %Y %H:%M:%S GMT",
                     &b);
            ASSERT_LE(timegm(&a), timegm(&b));
        }
    }
    qsort(ids, MANY, sizeof(ids[0]), cmp_str);
    qsort(hist_ids, MANY, sizeof(hist_ids[0]), cmp_str);
    for (i = 0; i < MANY; i++) {
        ASSERT_STR_EQ(ids[i], hist_ids[i]);
        if (i > 0)
            ASSERT(strcmp(ids[i - 1], ids[i]) != 0);
    }
    json_decref(hist);
    for (i = 0; i < 3; i++)
        org_close(&orgs[i]);
    json_decref(env);
}

/*
 * Submit doc and expect the chaincode to reject it with code/field and,
 * when part is not NULL, a message that contains part.
 */
static void
expect_reject_msg(org_t *o, const char *fn, const char *doc, int status,
                  const char *code, const char *field, const char *part)
{
    hlf_bytes_t arg = hlf_bytes_str(doc), res = {0};
    hlf_error_t err;
    json_t *msg, *e;
    int rc;

    hlf_error_clear(&err);
    rc = hlf_contract_submit(o->contract, fn, &arg, 1, &res, &err);
    ASSERT_EQ(rc, HLF_ECHAINCODE);
    ASSERT_EQ(err.chaincode_status, status);
    msg = json_loads(err.chaincode_message, 0, NULL);
    if (msg == NULL)
        TEST__FAIL("chaincode message is not JSON: %s",
                   err.chaincode_message);
    e = json_object_get(msg, "error");
    ASSERT_STR_EQ(netfx_str(e, "code"), code);
    if (field != NULL)
        ASSERT_STR_EQ(netfx_str(e, "field"), field);
    else
        ASSERT_NULL(json_object_get(e, "field"));
    ASSERT(strlen(netfx_str(e, "message")) > 10);
    if (part != NULL && strstr(netfx_str(e, "message"), part) == NULL)
        TEST__FAIL("%s: message '%s' does not name '%s'", code,
                   netfx_str(e, "message"), part);
    /* The same rejection through Evaluate (no endorsement, no ordering). */
    hlf_error_clear(&err);
    rc = hlf_contract_evaluate(o->contract, fn, &arg, 1, &res, &err);
    ASSERT_EQ(rc, HLF_ECHAINCODE);
    ASSERT_EQ(err.chaincode_status, status);
    json_decref(msg);
    msg = json_loads(err.chaincode_message, 0, NULL);
    ASSERT_NOT_NULL(msg);
    ASSERT_STR_EQ(netfx_str(json_object_get(msg, "error"), "code"), code);
    json_decref(msg);
    hlf_bytes_free(&res);
}

static void
expect_reject(org_t *o, const char *fn, const char *doc, int status,
              const char *code, const char *field)
{
    expect_reject_msg(o, fn, doc, status, code, field, NULL);
}

/*
 * RecordEvent of the valid event good with key set to the string value
 * must be rejected with status/code, field key and a message containing
 * part (NULL: any).
 */
static void
expect_reject_set(org_t *o, const char *good, const char *key,
                  const char *value, int status, const char *code,
                  const char *part)
{
    json_t *e = json_loads(good, 0, NULL);
    char *doc;

    ASSERT_NOT_NULL(e);
    json_object_set_new(e, key, json_string(value));
    doc = json_dumps(e, 0);
    expect_reject_msg(o, "RecordEvent", doc, status, code, key, part);
    free(doc);
    json_decref(e);
}

TEST_IMPL(invalid_events_rejected_with_code_and_field)
{
    json_t *env = netfx_env();
    org_t o;
    char subject[64], why[256];
    char *good;
    json_t *e;
    char *doc;

    netfx_org_open(env, "Association", &o);
    unique_subject(subject, sizeof(subject), "bad");
    good = event_json(subject, "Recorded",
                      netfx_recorder(env, "Association"));

    expect_reject(&o, "RecordEvent", "{not json", 400, "INVALID_JSON",
                  NULL);

    e = json_loads(good, 0, NULL);
    json_object_set_new(e, "TransactionId", json_string("x"));
    doc = json_dumps(e, 0);
    expect_reject(&o, "RecordEvent", doc, 400, "SYSTEM_FIELD_SUPPLIED",
                  "TransactionId");
    free(doc);
    json_decref(e);

    expect_reject_set(&o, good, "Price", "100000", 400, "UNKNOWN_FIELD",
                      NULL);

    e = json_loads(good, 0, NULL);
    json_object_del(e, "Recorder");
    doc = json_dumps(e, 0);
    expect_reject(&o, "RecordEvent", doc, 400, "MISSING_FIELD", "Recorder");
    free(doc);
    json_decref(e);

    e = json_loads(good, 0, NULL);
    json_object_set_new(e, "System", json_string("Association Management "
                                                 "System"));
    json_object_set_new(e, "State", json_string("Bogus"));
    doc = json_dumps(e, 0);
    expect_reject(&o, "RecordEvent", doc, 400, "INVALID_LOOKUP", "System");
    free(doc);
    json_decref(e);

    expect_reject_set(&o, good, "EventSubject", "has spaces", 400,
                      "INVALID_IDENTIFIER", NULL);

    /*
     * Strict Recorder binding: another org's registered Recorder is
     * refused to this org's client, and so is a Recorder nobody
     * registered (the old demo literal).
     */
    snprintf(why, sizeof(why),
             "is registered to %s; the submitter belongs to %s",
             netfx_str(json_object_get(json_object_get(env, "orgs"),
                                       "Brokerage"), "msp_id"),
             netfx_str(json_object_get(json_object_get(env, "orgs"),
                                       "Association"), "msp_id"));
    expect_reject_set(&o, good, "Recorder", netfx_recorder(env, "Brokerage"),
                      403, "RECORDER_NOT_AUTHORIZED", why);
    expect_reject_set(&o, good, "Recorder", "ae1643", 403,
                      "RECORDER_NOT_AUTHORIZED",
                      "'ae1643' is not registered");

    expect_reject(&o, "NoSuchFunction", good, 400, "UNKNOWN_FUNCTION",
                  NULL);
    {
        hlf_bytes_t arg = hlf_bytes_str("00000000-0000-8000-8000-"
                                        "000000000000"),
                    res = {0};
        hlf_error_t err;

        hlf_error_clear(&err);
        ASSERT_EQ(hlf_contract_evaluate(o.contract, "GetEvent", &arg, 1, &res,
                                        &err),
                  HLF_ECHAINCODE);
        ASSERT_EQ(err.chaincode_status, 404);
        ASSERT(strstr(err.chaincode_message, "EVENT_NOT_FOUND") != NULL);
    }
    /* Nothing was written for the subject by any rejected call. */
    {
        json_t *hist = evaluate(&o, "GetSubjectHistory", subject);

        ASSERT_EQ(json_array_size(hist), 0);
        json_decref(hist);
    }
    free(good);
    org_close(&o);
    json_decref(env);
}

TEST_IMPL(chaincode_events_carry_recorded_events)
{
    json_t *env = netfx_env();
    org_t o, reader;
    char subject[64];
    char txids[3][65];
    json_t *stored[3];
    uint64_t first_block = 0;
    hlf_events_opts_t eo;
    hlf_events_t *ev = NULL;
    hlf_error_t err;
    int found = 0, i;

    netfx_org_open(env, "MLS", &o);
    netfx_org_open(env, "Brokerage", &reader);
    unique_subject(subject, sizeof(subject), "ev");
    for (i = 0; i < 3; i++) {
        char *doc = event_json(subject, i == 0 ? "Recorded" : "Changed",
                               netfx_recorder(env, "MLS"));
        uint64_t blk;

        stored[i] = record(&o, doc, txids[i], &blk);
        if (i == 0)
            first_block = blk;
        free(doc);
    }
    /* Replay from the first block; the three events come in order. */
    memset(&eo, 0, sizeof(eo));
    eo.has_start_block = 1;
    eo.start_block = first_block;
    hlf_error_clear(&err);
    ASSERT_EQ(hlf_network_chaincode_events(reader.net, netfx_str(env,
                                                            "chaincode"),
                                           &eo, &ev, &err),
              HLF_OK);
    while (found < 3) {
        hlf_event_block_t *blk = NULL;
        size_t k;
        int n = hlf_events_next(ev, &blk, &err);

        if (n != 1)
            TEST__FAIL("events_next: %d %s", n, err.text);
        ASSERT_GE(blk->block_number, first_block);
        for (k = 0; k < blk->nevents && found < 3; k++) {
            const hlf_chaincode_event_t *ce = &blk->events[k];
            json_t *payload;

            if (strcmp(ce->tx_id, txids[found]) != 0)
                continue;
            payload = json_loadb((const char *)ce->payload, ce->payload_len,
                                 0, NULL);
            ASSERT_NOT_NULL(payload);
            ASSERT(json_equal(payload, stored[found]));
            ASSERT_STR_EQ(ce->chaincode_id, netfx_str(env, "chaincode"));
            json_decref(payload);
            found++;
        }
        hlf_event_block_free(blk);
    }
    hlf_events_close(ev);
    for (i = 0; i < 3; i++)
        json_decref(stored[i]);
    org_close(&o);
    org_close(&reader);
    json_decref(env);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(record_get_history_each_org),
    TEST_ENTRY(invalid_events_rejected_with_code_and_field),
    TEST_ENTRY(chaincode_events_carry_recorded_events),
    TEST_ENTRY(two_hundred_records_all_readable),
};

TEST_MAIN(tests)
