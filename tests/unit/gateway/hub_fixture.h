/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fixture for the tests of the stream module's HTTP routes (SSE,
 * EntityEvent): the gateway's HTTP core in-process on 127.0.0.1 with the
 * routes of sse.c and entityevent.c, a hub installed as the daemon's, a
 * fake ledger (every event published, for the hub's replay) and helpers
 * to publish RESO events. One API key: HF_KEY (Brokerage).
 */
#ifndef HUB_FIXTURE_H
#define HUB_FIXTURE_H

#include "gwtest.h"
#include "hub.h"

#define HF_KEY "stream-test-key-0123456789abcdef"
#define HF_AUTH "Authorization: Bearer " HF_KEY

/*
 * Start: config `extra` lines (may be NULL) appended to a base config,
 * a hub of ring_events, routes, SSE heartbeats, HTTP. Returns the port.
 */
int hf_start(size_t ring_events, const char *extra);

/* Stop everything hf_start started and free the ledger. */
void hf_stop(void);

/* The hub. */
gw_hub_t *hf_hub(void);

/* Publish event number i: block i + 1, tx i % 3, State Recorded / Closed /
 * Active by i % 3, EventSubject US-(i % 5), TransactionId id-<i>, plus
 * pad bytes of padding in Application. */
void hf_publish(int i, size_t pad);

/* The sequence of event number i. */
uint64_t hf_seq(int i);

/* Calls of the fake replay so far. */
int hf_replays(void);

/* The /metrics text (free()). */
char *hf_metrics(void);

#endif /* HUB_FIXTURE_H */
