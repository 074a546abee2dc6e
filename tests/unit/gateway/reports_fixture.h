/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Index documents for the reports tests, shaped as the indexer writes
 * them (/work/notes/s2/B_schema.md): the association events of
 * reso-model.md §4.3 and an RCP-002 onboarding fixture of six applicants
 * (§4.4) whose expected report is spelled out in reports_logic.c.
 */
#ifndef REPORTS_FIXTURE_H
#define REPORTS_FIXTURE_H

#include "gw.h"
#include "hub.h"

#include <jansson.h>
#include <stdint.h>

#define RF_DAY 86400

/* Five association events of member urn:reso:ulid:900765912, sequences
 * 10..14 in commit order; the Education ones carry a Context and the
 * Election one an Audience. New array. */
json_t *rf_association_docs(void);

/* One onboarding document (SubjectType Agent) at ts with sequence seq;
 * TransactionId "tx-<seq>", _id "ev:tx-<seq>". New. */
json_t *rf_onboarding_doc(const char *subject, const char *event,
                          const char *state, int64_t ts, int64_t seq);

/* The 19 onboarding events of applicants J26530..J26535 relative to now
 * (most start 100 days before it), sequences 100..118. New array. */
json_t *rf_onboarding_docs(int64_t now);

/* The expected tiles of that fixture (compact JSON, keys sorted): counts
 * per Event x State, Events in RCP-002 order, states by count. */
#define RF_ONBOARDING_TILES                                                \
    "[{\"Event\":\"Application\",\"states\":[{\"State\":\"Started\","        \
    "\"count\":6}],\"total\":6},"                                          \
    "{\"Event\":\"License1\",\"states\":[{\"State\":\"Provided\","         \
    "\"count\":4},{\"State\":\"Verified\",\"count\":2},{\"State\":"       \
    "\"Denied\",\"count\":1}],\"total\":7},"                                \
    "{\"Event\":\"Verification\",\"states\":[{\"State\":\"Complete\","     \
    "\"count\":1},{\"State\":\"Failed\",\"count\":1}],\"total\":2},"       \
    "{\"Event\":\"Approval\",\"states\":[{\"State\":\"Complete\","         \
    "\"count\":1}],\"total\":1},"                                          \
    "{\"Event\":\"ICA\",\"states\":[{\"State\":\"Signed\",\"count\":2}]," \
    "\"total\":2},"                                                        \
    "{\"Event\":\"Firm\",\"states\":[{\"State\":\"Joined\",\"count\":1}" \
    "],\"total\":1}]"

/*
 * (reports_inproc.c) reso-gateway's index and reports modules in-process
 * for cfg (takes it): a hub of ring events installed as the stream's, both modules
 * initialised, HTTP started (gwtest.h gwt_start) and the modules
 * started. Returns the port; *hub is new (rf_gateway_stop frees it).
 * Fails the test (TEST__FAIL) on an error.
 */
int rf_gateway_start(gw_config_t *cfg, size_t ring, gw_hub_t **hub);

/* Stop the modules, drain, stop HTTP, free cfg and hub. */
void rf_gateway_stop(gw_config_t *cfg, gw_hub_t *hub);

#endif /* REPORTS_FIXTURE_H */
