/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Index documents for the reports tests (reports_fixture.h).
 */
#include "reports_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The association fixture of reso-model.md §4.3 as index documents,
 * sequences 10..14 in commit order. */
json_t *
rf_association_docs(void)
{
    static const struct {
        const char *event, *recorder, *app, *tid, *when;
        int64_t ts;
    } rows[] = {
        {"Appointment", "urn:reso:recorder:org1:ae1643", "87478-a43",
         "4b46aadd-0f2a-4e79-b3a6-e2e45927d2a2",
         "Sun, 03 Jun 2018 13:04:05 GMT", 1528031045},
        {"Education", "urn:reso:recorder:org2:lae643", "15435-dd6",
         "f3bf7a16-f667-425f-b198-4ef5083cd7a8",
         "Sat, 21 Jul 2018 18:34:22 GMT", 1532198062},
        {"Education", "urn:reso:recorder:org2:lae643", "15435-dd6",
         "b38f91a1-0b79-4f97-a2c8-21feb0eee251",
         "Sun, 19 Aug 2018 12:01:45 GMT", 1534680105},
        {"Election", "urn:reso:recorder:org1:ae1643", "87478-a43",
         "2ad753f4-d3b4-4e47-8402-604bbe788643",
         "Tue, 28 Aug 2018 18:11:22 GMT", 1535479882},
        {"Appointment", "urn:reso:recorder:org3:76pae989", "438-f32",
         "e27a353f-d3b4-42e8-8629-604bbe237802",
         "Wed, 03 Oct 2018 12:01:48 GMT", 1538568108},
    };
    json_t *docs = json_array();
    char id[80];
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *d = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
            " s:I, s:I, s:i, s:s, s:I}",
            "type", "event", "EventSubject",
            "urn:reso:ulid:900765912", "System",
            "Association Management System", "SubjectType", "Member",
            "Entity", "Association", "Event", rows[i].event, "State",
            "Recorded", "Recorder", rows[i].recorder, "Application",
            rows[i].app, "TransactionId", rows[i].tid, "sequence",
            (json_int_t)(10 + i), "block", (json_int_t)0, "tx_index",
            (int)(10 + i), "Timestamp", rows[i].when, "ts",
            (json_int_t)rows[i].ts);

        if (d == NULL)
            abort();
        snprintf(id, sizeof(id), "ev:%s", rows[i].tid);
        json_object_set_new(d, "_id", json_string(id));
        json_object_set_new(d, "Version", json_string("1.5-draft"));
        json_object_set_new(d, "txid", json_string("ab12"));
        if (strcmp(rows[i].event, "Education") == 0)
            json_object_set_new(
                d, "Context",
                json_pack("{s:s, s:i, s:s}", "Organization", "OREA", "Year",
                          2020, "OffchainAddress",
                          "urn:ipfs:QmXyS6Cj6PMpRfkRcfve1FykDdC2tdL8N4tkkW"
                          "vt6yuiqA"));
        if (i == 3)
            json_object_set_new(d, "Audience",
                                json_pack("[s]", "urn:reso:org:board"));
        json_array_append_new(docs, d);
    }
    return docs;
}

json_t *
rf_onboarding_doc(const char *subject, const char *event, const char *state,
                  int64_t ts, int64_t seq)
{
    char when[40], tid[32], id[40];
    time_t t = (time_t)ts;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(tid, sizeof(tid), "tx-%lld", (long long)seq);
    snprintf(id, sizeof(id), "ev:%s", tid);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                     " s:s, s:I, s:I, s:s, s:I, s:I, s:s, s:s}",
                     "_id", id, "TransactionId", tid, "type", "event",
                     "EventSubject", subject, "System",
                     "Transaction Management Service", "SubjectType",
                     "Agent", "Entity", "Agent", "Event", event, "State",
                     state, "Recorder", "urn:reso:recorder:exp:1",
                     "Application", "join-app", "ts", (json_int_t)ts,
                     "sequence", (json_int_t)seq, "Timestamp", when,
                     "block", (json_int_t)(seq >> 16), "tx_index",
                     (json_int_t)(seq & 0xffff), "txid", "0a1b", "Version",
                     "1.5-draft");
}

json_t *
rf_onboarding_docs(int64_t now)
{
    /* ts = start + offset, start 100 days before now (J26532: 5 days). */
    static const struct {
        const char *subject, *event, *state;
        int recent;
        int64_t off;
    } rows[] = {
        /* J26530 goes all the way and joins the firm. */
        {"J26530", "Application", "Started", 0, 0},
        {"J26530", "License1", "Provided", 0, 3600},
        {"J26530", "ICA", "Signed", 0, 7200},
        {"J26530", "License1", "Verified", 0, RF_DAY},
        {"J26530", "Verification", "Complete", 0, 2 * RF_DAY},
        {"J26530", "Approval", "Complete", 0, 3 * RF_DAY},
        {"J26530", "Firm", "Joined", 0, 4 * RF_DAY},
        /* J26531 stops after license verification: stuck. */
        {"J26531", "Application", "Started", 0, 1000},
        {"J26531", "License1", "Provided", 0, 1000 + 5400},
        {"J26531", "ICA", "Signed", 0, 1000 + 5400 + 1801},
        {"J26531", "License1", "Verified", 0, 1000 + 2 * RF_DAY},
        /* J26532 started five days ago. */
        {"J26532", "Application", "Started", 1, 0},
        /* J26533: license denied (not terminal): stuck. */
        {"J26533", "Application", "Started", 0, 500},
        {"J26533", "License1", "Provided", 0, 500 + 7200},
        {"J26533", "License1", "Denied", 0, 500 + RF_DAY},
        /* J26534: verification failed (terminal). */
        {"J26534", "Application", "Started", 0, 200},
        {"J26534", "Verification", "Failed", 0, 200 + RF_DAY},
        /* J26535 provided the license before starting: out of order. */
        {"J26535", "License1", "Provided", 0, 0},
        {"J26535", "Application", "Started", 0, 600},
    };
    json_t *docs = json_array();
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t start = now - (rows[i].recent ? 5 : 100) * RF_DAY;

        json_array_append_new(docs, rf_onboarding_doc(
                                        rows[i].subject, rows[i].event,
                                        rows[i].state, start + rows[i].off,
                                        (int64_t)(100 + i)));
    }
    return docs;
}
