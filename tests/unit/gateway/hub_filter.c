/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the hub's event objects and filters (gateway/src/hub.c):
 * the exact JSON and SSE frame of an event, refusal of payloads that are
 * not stored events, sequence limits, filter matching (OR within a field,
 * AND across fields) and sequence parsing.
 */
#include "hub.h"
#include "task.h"

#include <string.h>

static const char STORED[] =
    "{\"TransactionId\":\"6991d580-c6c3-8ceb-90a5-a40c89fb0224\","
    "\"EventSubject\":\"US-42049-49888-1213666-R-N\","
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\","
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","
    "\"Recorder\":\"ae1643\",\"Timestamp\":\"Sun, 03 Jun 2018 13:04:05 GMT\","
    "\"Version\":\"1.3\",\"Application\":\"87478-a43\"}";

static gw_event_t *
event_of(uint64_t block, uint32_t tx, const char *payload)
{
    gw_event_t *ev = NULL;
    hlf_error_t e;

    hlf_error_clear(&e);
    if (gw_event_new(block, tx, "ab12", "BrokerageMSP",
                     (const uint8_t *)payload, strlen(payload), &ev, &e) !=
        HLF_OK)
        TEST__FAIL("gw_event_new: %s", e.text);
    return ev;
}

/* A stored event with the given lookup values. */
static gw_event_t *
event_with(uint64_t block, const char *system, const char *state,
           const char *subject, const char *recorder)
{
    char buf[1024];

    snprintf(buf, sizeof(buf),
             "{\"TransactionId\":\"00000000-0000-8000-8000-%012llu\","
             "\"EventSubject\":\"%s\",\"System\":\"%s\","
             "\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
             "\"Event\":\"Listing\",\"State\":\"%s\",\"Recorder\":\"%s\","
             "\"Timestamp\":\"t\",\"Version\":\"1.3\","
             "\"Application\":\"a\"}", (unsigned long long)block, subject,
             system, state, recorder);
    return event_of(block, 0, buf);
}

TEST_IMPL(event_json_and_frame)
{
    gw_event_t *ev = event_of(5, 3, STORED);
    const char *json =
        "{\"sequence\":327683,\"block\":5,\"tx_index\":3,\"txid\":\"ab12\","
        "\"TransactionId\":\"6991d580-c6c3-8ceb-90a5-a40c89fb0224\","
        "\"EventSubject\":\"US-42049-49888-1213666-R-N\","
        "\"System\":\"Property Listing Service\",\"SubjectType\":"
        "\"Property\",\"Entity\":\"Broker\",\"Event\":\"Listing\","
        "\"State\":\"Recorded\",\"Recorder\":\"ae1643\",\"Timestamp\":"
        "\"Sun, 03 Jun 2018 13:04:05 GMT\",\"Version\":\"1.3\","
        "\"Application\":\"87478-a43\",\"recorded_by\":\"BrokerageMSP\"}";
    char frame[2048];

    ASSERT_EQ(ev->sequence, (5u << 16) | 3u);
    ASSERT_EQ(ev->sequence, 327683);
    ASSERT_EQ(ev->block, 5);
    ASSERT_EQ(ev->tx_index, 3);
    ASSERT_STR_EQ(ev->txid, "ab12");
    ASSERT_STR_EQ(ev->recorded_by, "BrokerageMSP");
    ASSERT_STR_EQ(ev->transaction_id, "6991d580-c6c3-8ceb-90a5-a40c89fb0224");
    ASSERT_STR_EQ(ev->field[GW_EVF_SYSTEM], "Property Listing Service");
    ASSERT_STR_EQ(ev->field[GW_EVF_SUBJECT_TYPE], "Property");
    ASSERT_STR_EQ(ev->field[GW_EVF_ENTITY], "Broker");
    ASSERT_STR_EQ(ev->field[GW_EVF_EVENT], "Listing");
    ASSERT_STR_EQ(ev->field[GW_EVF_STATE], "Recorded");
    ASSERT_STR_EQ(ev->field[GW_EVF_EVENT_SUBJECT],
                  "US-42049-49888-1213666-R-N");
    ASSERT_STR_EQ(ev->field[GW_EVF_RECORDER], "ae1643");
    ASSERT_EQ(ev->json_len, strlen(json));
    ASSERT_MEM_EQ(ev->json, json, ev->json_len);
    snprintf(frame, sizeof(frame),
             "id: 327683\nevent: reso.event\ndata: %s\n\n", json);
    ASSERT_STR_EQ(ev->frame, frame);
    ASSERT_EQ(ev->frame_len, strlen(frame));
    /* The JSON lives inside the frame: serialized once. */
    ASSERT(ev->json > ev->frame && ev->json < ev->frame + ev->frame_len);
    ASSERT(gw_event_ref(ev) == ev);
    gw_event_unref(ev);
    gw_event_unref(ev);
    gw_event_unref(NULL);
}

TEST_IMPL(event_envelope_keys_win)
{
    /* A payload cannot overwrite the gateway's own keys. */
    static const char want[] =
        "{\"sequence\":65536,\"block\":1,\"tx_index\":0,\"txid\":\"ab12\","
        "\"TransactionId\":\"x\",\"Note\":\"keep\",\"recorded_by\":"
        "\"BrokerageMSP\"}";
    gw_event_t *ev = event_of(
        1, 0, "{\"TransactionId\":\"x\",\"sequence\":7,\"txid\":\"evil\","
              "\"recorded_by\":\"Other\",\"Note\":\"keep\"}");

    ASSERT_EQ(ev->json_len, strlen(want));
    ASSERT_MEM_EQ(ev->json, want, ev->json_len);
    /* Absent filter fields are empty strings. */
    ASSERT_STR_EQ(ev->field[GW_EVF_STATE], "");
    gw_event_unref(ev);
}

TEST_IMPL(event_refuses_bad_payloads)
{
    static const char *const bad[] = {
        "", "not json", "[1,2]", "\"s\"", "{}", "{\"TransactionId\":5}",
        "{\"TransactionId\":\"x\",\"State\":3}",
        "{\"TransactionId\":\"x\",\"Recorder\":null}",
        "{\"TransactionId\":\"x\",\"TransactionId\":\"y\"}"};
    gw_event_t *ev = (gw_event_t *)1;
    hlf_error_t e;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hlf_error_clear(&e);
        ASSERT_EQ(gw_event_new(1, 0, "t", "M", (const uint8_t *)bad[i],
                               strlen(bad[i]), &ev, &e), HLF_EPROTO);
        ASSERT_NULL(ev);
        ASSERT_EQ(e.code, HLF_EPROTO);
        ASSERT(strstr(e.text, "tx t") != NULL);
    }
    ASSERT_EQ(gw_event_new(1, 0, NULL, "M", (const uint8_t *)STORED,
                           strlen(STORED), &ev, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_event_new(1, 0, "t", "M", (const uint8_t *)STORED,
                           strlen(STORED), NULL, NULL), HLF_EINVAL);
}

TEST_IMPL(event_sequence_limits)
{
    gw_event_t *ev = NULL;

    ASSERT_EQ(gw_event_new(1, GW_SEQ_TX_MAX + 1, "t", "M",
                           (const uint8_t *)STORED, strlen(STORED), &ev,
                           NULL), HLF_ETOOBIG);
    ASSERT_NULL(ev);
    ASSERT_EQ(gw_event_new((uint64_t)1 << 47, 0, "t", "M",
                           (const uint8_t *)STORED, strlen(STORED), &ev,
                           NULL), HLF_ETOOBIG);
    ev = event_of(((uint64_t)1 << 47) - 1, GW_SEQ_TX_MAX, STORED);
    ASSERT_EQ(ev->sequence, (uint64_t)INT64_MAX);
    ASSERT_EQ(GW_SEQ_BLOCK(ev->sequence), ((uint64_t)1 << 47) - 1);
    ASSERT_EQ(GW_SEQ_TX(ev->sequence), GW_SEQ_TX_MAX);
    /* recorded_by may be unknown. */
    gw_event_unref(ev);
    ASSERT_EQ(gw_event_new(2, 1, "t", NULL, (const uint8_t *)STORED,
                           strlen(STORED), &ev, NULL), HLF_OK);
    ASSERT_STR_EQ(ev->recorded_by, "");
    gw_event_unref(ev);
}

TEST_IMPL(field_names)
{
    ASSERT_EQ(gw_evfield_from_name("System"), GW_EVF_SYSTEM);
    ASSERT_EQ(gw_evfield_from_name("SubjectType"), GW_EVF_SUBJECT_TYPE);
    ASSERT_EQ(gw_evfield_from_name("Entity"), GW_EVF_ENTITY);
    ASSERT_EQ(gw_evfield_from_name("Event"), GW_EVF_EVENT);
    ASSERT_EQ(gw_evfield_from_name("State"), GW_EVF_STATE);
    ASSERT_EQ(gw_evfield_from_name("EventSubject"), GW_EVF_EVENT_SUBJECT);
    ASSERT_EQ(gw_evfield_from_name("Recorder"), GW_EVF_RECORDER);
    ASSERT_EQ(gw_evfield_from_name("state"), -1);
    ASSERT_EQ(gw_evfield_from_name("Application"), -1);
    ASSERT_EQ(gw_evfield_from_name("TransactionId"), -1);
    ASSERT_EQ(gw_evfield_from_name(NULL), -1);
    ASSERT_STR_EQ(gw_evfield_name(GW_EVF_RECORDER), "Recorder");
    ASSERT_STR_EQ(gw_evfield_name(GW_EVF__COUNT), "?");
    ASSERT_EQ(GW_EVF__COUNT, 7);
}

TEST_IMPL(filter_or_within_and_across)
{
    gw_event_t *a = event_with(1, "Property Listing Service", "Recorded",
                               "US-1", "r1");
    gw_event_t *b = event_with(2, "Property Listing Service", "Closed",
                               "US-2", "r2");
    gw_event_t *c = event_with(3, "Association Management System",
                               "Closed", "US-1", "r1");
    gw_filter_t *f = NULL;

    ASSERT_EQ(gw_filter_match(NULL, a), 1);
    ASSERT_EQ(gw_filter_is_empty(NULL), 1);
    ASSERT_EQ(gw_filter_new(&f), HLF_OK);
    ASSERT_EQ(gw_filter_is_empty(f), 1);
    ASSERT_EQ(gw_filter_match(f, a), 1);

    /* One field, two values: either. */
    ASSERT_EQ(gw_filter_add(f, GW_EVF_STATE, "Closed"), HLF_OK);
    ASSERT_EQ(gw_filter_is_empty(f), 0);
    ASSERT_EQ(gw_filter_match(f, a), 0);
    ASSERT_EQ(gw_filter_match(f, b), 1);
    ASSERT_EQ(gw_filter_match(f, c), 1);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_STATE, "Recorded"), HLF_OK);
    ASSERT_EQ(gw_filter_match(f, a), 1);

    /* A second field: both must hold. */
    ASSERT_EQ(gw_filter_add(f, GW_EVF_EVENT_SUBJECT, "US-1"), HLF_OK);
    ASSERT_EQ(gw_filter_match(f, a), 1);
    ASSERT_EQ(gw_filter_match(f, b), 0);
    ASSERT_EQ(gw_filter_match(f, c), 1);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_SYSTEM, "Property Listing Service"),
              HLF_OK);
    ASSERT_EQ(gw_filter_match(f, a), 1);
    ASSERT_EQ(gw_filter_match(f, c), 0);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_RECORDER, "r2"), HLF_OK);
    ASSERT_EQ(gw_filter_match(f, a), 0);
    gw_filter_free(f);

    /* Exact and case-sensitive. */
    ASSERT_EQ(gw_filter_new(&f), HLF_OK);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_STATE, "closed"), HLF_OK);
    ASSERT_EQ(gw_filter_match(f, b), 0);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_STATE, "Close"), HLF_OK);
    ASSERT_EQ(gw_filter_match(f, b), 0);
    gw_filter_free(f);
    gw_filter_free(NULL);
    gw_event_unref(a);
    gw_event_unref(b);
    gw_event_unref(c);
}

TEST_IMPL(filter_limits)
{
    gw_filter_t *f = NULL;
    char v[16];
    int i;

    ASSERT_EQ(gw_filter_new(&f), HLF_OK);
    ASSERT_EQ(gw_filter_add(f, GW_EVF__COUNT, "x"), HLF_EINVAL);
    ASSERT_EQ(gw_filter_add(f, (gw_evfield_t)-1, "x"), HLF_EINVAL);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_STATE, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_filter_add(NULL, GW_EVF_STATE, "x"), HLF_EINVAL);
    for (i = 0; i < 64; i++) {
        snprintf(v, sizeof(v), "v%d", i);
        ASSERT_EQ(gw_filter_add(f, GW_EVF_RECORDER, v), HLF_OK);
    }
    ASSERT_EQ(gw_filter_add(f, GW_EVF_RECORDER, "one-too-many"),
              HLF_ETOOBIG);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_STATE, "other fields still take"),
              HLF_OK);
    gw_filter_free(f);
}

TEST_IMPL(sequence_parsing)
{
    uint64_t v = 42;

    ASSERT_EQ(gw_seq_parse("0", 1, &v), 0);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(gw_seq_parse("196608", 6, &v), 0);
    ASSERT_EQ(v, 196608);
    ASSERT_EQ(gw_seq_parse("9223372036854775807", 19, &v), 0);
    ASSERT_EQ(v, (uint64_t)INT64_MAX);
    v = 42;
    ASSERT_EQ(gw_seq_parse("9223372036854775808", 19, &v), -1);
    ASSERT_EQ(gw_seq_parse("10000000000000000000", 20, &v), -1);
    ASSERT_EQ(gw_seq_parse("", 0, &v), -1);
    ASSERT_EQ(gw_seq_parse("-1", 2, &v), -1);
    ASSERT_EQ(gw_seq_parse("+1", 2, &v), -1);
    ASSERT_EQ(gw_seq_parse(" 1", 2, &v), -1);
    ASSERT_EQ(gw_seq_parse("1 ", 2, &v), -1);
    ASSERT_EQ(gw_seq_parse("0x10", 4, &v), -1);
    ASSERT_EQ(gw_seq_parse(NULL, 1, &v), -1);
    ASSERT_EQ(v, 42);
    /* Only len bytes count. */
    ASSERT_EQ(gw_seq_parse("12abc", 2, &v), 0);
    ASSERT_EQ(v, 12);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(event_json_and_frame),
    TEST_ENTRY(event_envelope_keys_win),
    TEST_ENTRY(event_refuses_bad_payloads),
    TEST_ENTRY(event_sequence_limits),
    TEST_ENTRY(field_names),
    TEST_ENTRY(filter_or_within_and_across),
    TEST_ENTRY(filter_limits),
    TEST_ENTRY(sequence_parsing),
};

TEST_MAIN(tests)
