/* SPDX-License-Identifier: Apache-2.0 */
/* The stream routes' test fixture (see hub_fixture.h). */
#include "hub_fixture.h"
#include "task.h"

#include <pthread.h>
#include <stdatomic.h>

#define LEDGER_MAX 100000

/* The fixture's state: one per test process. The ledger array is
 * appended by the test thread and read by replay workers; nledger is the
 * published length. */
static gw_config_t *cfg;
static gw_hub_t *hub;
static gw_event_t **ledger;
static atomic_int nledger;
static atomic_int replays;

static int
fake_replay(void *ud, uint64_t after, uint64_t upto, gw_hub_emit_fn emit,
            void *ctx, hlf_error_t *err)
{
    int i, n = atomic_load(&nledger);

    (void)ud;
    (void)err;
    atomic_fetch_add(&replays, 1);
    for (i = 0; i < n; i++) {
        if (ledger[i]->sequence <= after)
            continue;
        if (ledger[i]->sequence > upto || emit(ctx, ledger[i]) != 0)
            break;
    }
    return HLF_OK;
}

int
hf_start(size_t ring_events, const char *extra)
{
    char hash[65], text[4096];

    gwt_sha256_hex(HF_KEY, hash);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "access_log no\n"
             "rate_limit_per_key 0\n"
             "identity Brokerage BrokerageMSP /nonexistent/b\n"
             "apikey stream-test Brokerage %s\n"
             "%s", hash, extra != NULL ? extra : "");
    cfg = gwt_config(text);
    ledger = calloc(LEDGER_MAX, sizeof(*ledger));
    ASSERT_NOT_NULL(ledger);
    atomic_store(&nledger, 0);
    ASSERT_EQ(gw_hub_new(ring_events, &hub), HLF_OK);
    gw_hub_set_replay(hub, fake_replay, NULL);
    gw_stream_install_hub(hub);
    ASSERT_EQ(gw_core_routes(), HLF_OK);
    ASSERT_EQ(gw_sse_init(cfg), HLF_OK);
    ASSERT_EQ(gw_entityevent_init(cfg), HLF_OK);
    ASSERT_EQ(gw_sse_start(cfg), HLF_OK);
    return gwt_start(cfg);
}

void
hf_stop(void)
{
    int i;

    gw_sse_shutdown();
    (void)gw_http_drain(2000);
    gwt_stop(cfg);
    gw_stream_install_hub(NULL);
    gw_hub_free(hub);
    for (i = 0; i < atomic_load(&nledger); i++)
        gw_event_unref(ledger[i]);
    free(ledger);
}

gw_hub_t *
hf_hub(void)
{
    return hub;
}

uint64_t
hf_seq(int i)
{
    return GW_SEQ((uint64_t)i + 1, (uint32_t)(i % 3));
}

void
hf_publish(int i, size_t pad)
{
    static const char *const states[] = {"Recorded", "Closed", "Active"};
    size_t cap = 600 + pad;
    char *buf = malloc(cap), *padding = malloc(pad + 1), txid[32];
    gw_event_t *ev = NULL;

    ASSERT_NOT_NULL(buf);
    ASSERT_NOT_NULL(padding);
    memset(padding, 'p', pad);
    padding[pad] = '\0';
    snprintf(buf, cap,
             "{\"TransactionId\":\"id-%d\",\"EventSubject\":\"US-%d\","
             "\"System\":\"Property Listing Service\",\"SubjectType\":"
             "\"Property\",\"Entity\":\"Broker\",\"Event\":\"Listing\","
             "\"State\":\"%s\",\"Recorder\":\"r%d\",\"Timestamp\":\"t\","
             "\"Version\":\"1.3\",\"Application\":\"a%s\"}", i, i % 5,
             states[i % 3], i % 2, padding);
    snprintf(txid, sizeof(txid), "tx-%d", i);
    ASSERT_EQ(gw_event_new((uint64_t)i + 1, (uint32_t)(i % 3), txid,
                           "BrokerageMSP", (const uint8_t *)buf,
                           strlen(buf), &ev, NULL), HLF_OK);
    free(buf);
    free(padding);
    ASSERT(atomic_load(&nledger) < LEDGER_MAX);
    ledger[atomic_load(&nledger)] = ev;
    atomic_fetch_add(&nledger, 1);
    ASSERT_EQ(gw_hub_publish(hub, ev), HLF_OK);
}

int
hf_replays(void)
{
    return atomic_load(&replays);
}

char *
hf_metrics(void)
{
    char *text = NULL, *copy;
    size_t len = 0;

    ASSERT_EQ(gw_metrics_render(&text, &len), HLF_OK);
    copy = strdup(text);
    hlf_free(text);
    return copy;
}
