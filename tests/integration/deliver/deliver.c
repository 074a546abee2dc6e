/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libhlf's Deliver client and block parser against the real Fabric network
 * of the ctest fixture "fabric": RESO events recorded through one org's
 * Gateway are read back as full blocks from the genesis block by another
 * org, with every field the reso-gateway follower relies on (header type,
 * tx id, creator, validation code, chaincode, response, chaincode event);
 * a transaction submitted twice shows up the second time with
 * DUPLICATE_TXID; a stream from the next commit sees the next block; the
 * peer's refusals come back as HLF_EPERM and HLF_ENOTFOUND.
 *
 * The fixture file (RESO_TEST_ENV_FILE) names the network's run directory;
 * `resoctl network env --json` (RESOCTL) describes it. Without Fabric the
 * fixture records NET_SKIP and every test here skips.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hlf/block.h"
#include "hlf/crypto.h"
#include "hlf/deliver.h"
#include "hlf/gateway.h"
#include "netfixture.h"
#include "task.h"

/* protos.TxValidationCode DUPLICATE_TXID. */
#define TX_DUPLICATE_TXID 9
/* No stream here may take longer than this to deliver what it waits for. */
#define WATCHDOG_SECONDS 90

typedef reso_org_t org_t;

/* ------------------------------------------------------------------ */
/* Network description                                                 */
/* ------------------------------------------------------------------ */


/* ------------------------------------------------------------------ */
/* Recording                                                           */
/* ------------------------------------------------------------------ */

/* One transaction as the submitter saw it. */
typedef struct {
    char tx_id[65];
    uint64_t block;
    json_t *stored; /* the chaincode's result: the stored event */
} recorded_t;

/*
 * A RESO event JSON no earlier run can have recorded, carrying recorder_id,
 * the Recorder registered to the submitting org (binding is strict).
 */
static char *
event_json(const char *state, const char *recorder_id)
{
    uint8_t r[6];
    char hex[13], subject[64];
    json_t *e;
    char *s;

    ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
    hlf_hex_encode(r, sizeof(r), hex);
    snprintf(subject, sizeof(subject), "US-42049-dlv-%s-R-N", hex);
    e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                  "EventSubject", subject,
                  "System", "Property Listing Service",
                  "SubjectType", "Property", "Entity", "Broker",
                  "Event", "Listing", "State", state,
                  "Recorder", recorder_id, "Application", "87478-a43");
    s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(e);
    return s;
}

static void
record(org_t *o, const char *recorder_id, const char *state, recorded_t *r)
{
    char *doc = event_json(state, recorder_id);
    hlf_bytes_t arg = hlf_bytes_str(doc), res = {0};
    hlf_error_t err;

    hlf_error_clear(&err);
    if (hlf_contract_submit(o->contract, "RecordEvent", &arg, 1, &res,
                            &err) != HLF_OK)
        TEST__FAIL("RecordEvent: %s | %s", err.text, err.chaincode_message);
    ASSERT_EQ(err.tx_validation_code, 0);
    memcpy(r->tx_id, err.tx_id, sizeof(r->tx_id));
    r->block = err.block_number;
    r->stored = json_loadb((const char *)res.data, res.len, 0, NULL);
    ASSERT_NOT_NULL(r->stored);
    hlf_bytes_free(&res);
    free(doc);
}

/*
 * Record an event, then submit the very same signed transaction again.
 * The orderer takes both; the peers commit the first and mark the second
 * DUPLICATE_TXID.
 */
static void
record_twice(org_t *o, const char *recorder_id, recorded_t *r)
{
    char *doc = event_json("Changed", recorder_id);
    hlf_bytes_t arg = hlf_bytes_str(doc);
    hlf_proposal_t *p = NULL;
    hlf_transaction_t *tx = NULL;
    hlf_commit_t *commit = NULL;
    hlf_commit_result_t res;
    hlf_error_t err;
    const uint8_t *result;
    size_t len;

    hlf_error_clear(&err);
    if (hlf_contract_new_proposal(o->contract, "RecordEvent", &arg, 1, NULL,
                                  &p, &err) != HLF_OK ||
        hlf_proposal_endorse(p, &tx, &err) != HLF_OK ||
        hlf_transaction_submit(tx, &commit, &err) != HLF_OK ||
        hlf_commit_status(commit, &res, &err) != HLF_OK)
        TEST__FAIL("RecordEvent step by step: %s", err.text);
    ASSERT_EQ(res.validation_code, 0);
    snprintf(r->tx_id, sizeof(r->tx_id), "%s", hlf_transaction_tx_id(tx));
    r->block = res.block_number;
    result = hlf_transaction_result(tx, &len);
    r->stored = json_loadb((const char *)result, len, 0, NULL);
    ASSERT_NOT_NULL(r->stored);
    if (hlf_transaction_submit(tx, NULL, &err) != HLF_OK)
        TEST__FAIL("second submit of %s: %s", r->tx_id, err.text);
    hlf_commit_free(commit);
    hlf_transaction_free(tx);
    hlf_proposal_free(p);
    free(doc);
}

/* ------------------------------------------------------------------ */
/* Streams with a watchdog                                             */
/* ------------------------------------------------------------------ */

/* Cancels a stream from its own thread after a number of seconds unless
 * stopped first: a test fails instead of hanging, or a test cancels a
 * stream another thread is blocked on. */
typedef struct {
    hlf_blocks_t *s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int seconds;
    int done;
    int fired;
} watchdog_t;

static void *
watchdog_run(void *arg)
{
    watchdog_t *w = arg;
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += w->seconds;
    pthread_mutex_lock(&w->lock);
    while (!w->done &&
           pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
        ;
    if (!w->done) {
        w->fired = 1;
        hlf_blocks_cancel(w->s);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void
watchdog_start(watchdog_t *w, hlf_blocks_t *s, int seconds)
{
    memset(w, 0, sizeof(*w));
    w->s = s;
    w->seconds = seconds;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    ASSERT_EQ(pthread_create(&w->thread, NULL, watchdog_run, w), 0);
}

/* Stop the watchdog; returns 1 if it had to cancel the stream. */
static int
watchdog_stop(watchdog_t *w)
{
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    return w->fired;
}

static hlf_block_t *
next_block(hlf_blocks_t *s)
{
    hlf_block_t *b = NULL;
    hlf_error_t err;
    int rc;

    hlf_error_clear(&err);
    rc = hlf_blocks_next(s, &b, &err);
    if (rc != 1)
        TEST__FAIL("hlf_blocks_next: %d (%s) %s", rc, hlf_err_name(rc),
                   err.text);
    return b;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

/* The transaction with tx_id in blk at or after index from, or NULL. */
static const hlf_block_tx_t *
find_tx(const hlf_block_t *blk, const char *tx_id, size_t from)
{
    size_t i;

    for (i = from; i < blk->ntx; i++)
        if (strcmp(blk->txs[i].tx_id, tx_id) == 0)
            return &blk->txs[i];
    return NULL;
}

/* A RecordEvent transaction of the reso chaincode by recorder, as
 * committed with validation code code. */
static void
check_record_tx(const hlf_block_tx_t *t, const recorded_t *r,
                const org_t *recorder, const char *channel,
                const char *chaincode, int code)
{
    const hlf_block_action_t *a;
    const char *pem;
    size_t pem_len;
    json_t *v;
    time_t now = time(NULL);

    ASSERT_EQ(t->type, HLF_HEADER_TYPE_ENDORSER_TRANSACTION);
    ASSERT_STR_EQ(t->tx_id, r->tx_id);
    ASSERT_STR_EQ(t->channel, channel);
    ASSERT_LE(labs((long)(t->timestamp_sec - now)), 600);
    ASSERT(t->timestamp_nanos >= 0 && t->timestamp_nanos < 1000000000);
    ASSERT_STR_EQ(t->creator_msp_id, hlf_identity_msp_id(recorder->id));
    pem = hlf_identity_cert_pem(recorder->id, &pem_len);
    ASSERT_EQ(t->creator_cert_len, pem_len);
    ASSERT_STR_EQ(t->creator_cert, pem);
    if (t->validation_code != code)
        TEST__FAIL("tx %s: validation code %d (%s), expected %d", t->tx_id,
                   t->validation_code,
                   hlf_tx_validation_code_name(t->validation_code), code);
    ASSERT_NULL(t->error);
    ASSERT_EQ(t->nactions, 1);
    a = &t->actions[0];
    ASSERT_STR_EQ(a->chaincode, chaincode);
    ASSERT_EQ(a->response_status, 200);
    v = json_loadb((const char *)a->response_payload, a->response_payload_len,
                   0, NULL);
    ASSERT_NOT_NULL(v);
    ASSERT(json_equal(v, r->stored));
    json_decref(v);
    ASSERT_NOT_NULL(a->event);
    ASSERT_STR_EQ(a->event->event_name, "RecordEvent");
    ASSERT_STR_EQ(a->event->chaincode_id, chaincode);
    ASSERT_STR_EQ(a->event->tx_id, r->tx_id);
    v = json_loadb((const char *)a->event->payload, a->event->payload_len, 0,
                   NULL);
    ASSERT_NOT_NULL(v);
    ASSERT(json_equal(v, r->stored));
    json_decref(v);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

TEST_IMPL(blocks_from_genesis_carry_recorded_events)
{
    json_t *env = netfx_env();
    const char *channel = netfx_str(env, "channel");
    const char *chaincode = netfx_str(env, "chaincode");
    org_t recorder, reader;
    const char *rid;
    recorded_t rec[4], last;
    hlf_blocks_opts_t o;
    hlf_blocks_t *s = NULL;
    hlf_block_t *b;
    hlf_error_t err;
    watchdog_t w;
    uint64_t n;
    size_t i, found = 0, dup_seen = 0, total_tx = 0;
    int rc;

    netfx_org_open(env, "MLS", &recorder);
    netfx_org_open(env, "Brokerage", &reader);
    rid = netfx_recorder(env, "MLS");
    record(&recorder, rid, "Recorded", &rec[0]);
    record(&recorder, rid, "Changed", &rec[1]);
    record(&recorder, rid, "Removed", &rec[2]);
    record_twice(&recorder, rid, &rec[3]);
    /* Ordered after the second copy, so that copy is in a block <= this
     * one's. */
    record(&recorder, rid, "Changed", &last);
    for (i = 1; i < 4; i++)
        ASSERT_LE(rec[i - 1].block, rec[i].block);
    ASSERT_LE(rec[3].block, last.block);
    fprintf(stderr, "recorded in blocks %llu %llu %llu %llu, last %llu\n",
            (unsigned long long)rec[0].block,
            (unsigned long long)rec[1].block,
            (unsigned long long)rec[2].block,
            (unsigned long long)rec[3].block,
            (unsigned long long)last.block);

    /* Everything from the genesis block to the last record, read by
     * another org through its own peer. */
    memset(&o, 0, sizeof(o));
    o.has_start_block = 1;
    o.start_block = 0;
    o.has_stop_block = 1;
    o.stop_block = last.block;
    hlf_error_clear(&err);
    if (hlf_network_block_events(reader.net, &o, &s, &err) != HLF_OK)
        TEST__FAIL("block events: %s", err.text);
    watchdog_start(&w, s, WATCHDOG_SECONDS);
    for (n = 0; n <= last.block; n++) {
        b = next_block(s);
        ASSERT_EQ(b->number, n);
        ASSERT_EQ(b->validated, 1);
        total_tx += b->ntx;
        if (n == 0) {
            /* The genesis block: the channel's first configuration. */
            ASSERT_EQ(b->ntx, 1);
            ASSERT_EQ(b->txs[0].type, HLF_HEADER_TYPE_CONFIG);
            ASSERT_STR_EQ(b->txs[0].channel, channel);
            ASSERT_EQ(b->txs[0].validation_code, 0);
            ASSERT_EQ(b->txs[0].nactions, 0);
            ASSERT_NULL(b->txs[0].error);
        }
        for (i = 0; i < b->ntx; i++) {
            /* The real peer's blocks decode completely. */
            if (b->txs[i].error != NULL)
                TEST__FAIL("block %llu tx %zu: %s", (unsigned long long)n,
                           i, b->txs[i].error);
            ASSERT_EQ(b->txs[i].index, i);
        }
        for (i = 0; i < 4; i++) {
            const hlf_block_tx_t *t = find_tx(b, rec[i].tx_id, 0);

            if (rec[i].block == n) {
                ASSERT_NOT_NULL(t);
                check_record_tx(t, &rec[i], &recorder, channel, chaincode,
                                0);
                found++;
            } else if (n < rec[i].block) {
                ASSERT_NULL(t);
            }
        }
        /* Every copy of rec[3] after the committed one is invalid. */
        if (n >= rec[3].block) {
            const hlf_block_tx_t *t = find_tx(b, rec[3].tx_id, 0);

            if (t != NULL && n == rec[3].block)
                t = find_tx(b, rec[3].tx_id, t->index + 1);
            for (; t != NULL; t = find_tx(b, rec[3].tx_id, t->index + 1)) {
                check_record_tx(t, &rec[3], &recorder, channel, chaincode,
                                TX_DUPLICATE_TXID);
                dup_seen++;
            }
        }
        if (n == last.block) {
            const hlf_block_tx_t *t = find_tx(b, last.tx_id, 0);

            ASSERT_NOT_NULL(t);
            check_record_tx(t, &last, &recorder, channel, chaincode, 0);
        }
        hlf_block_free(b);
    }
    /* The stop block was the last: the peer ends with SUCCESS. */
    rc = hlf_blocks_next(s, &b, &err);
    if (rc != 0)
        TEST__FAIL("after the stop block: %d %s", rc, err.text);
    ASSERT_EQ(watchdog_stop(&w), 0);
    hlf_blocks_close(s);
    ASSERT_EQ(found, 4);
    ASSERT_EQ(dup_seen, 1);
    ASSERT_GE(total_tx, 6);
    fprintf(stderr, "read blocks 0..%llu: %zu envelopes\n",
            (unsigned long long)last.block, total_tx);
    for (i = 0; i < 4; i++)
        json_decref(rec[i].stored);
    json_decref(last.stored);
    reso_netenv_close_org(&recorder);
    reso_netenv_close_org(&reader);
    json_decref(env);
}

TEST_IMPL(blocks_from_next_commit)
{
    json_t *env = netfx_env();
    org_t recorder, reader;
    recorded_t r;
    hlf_blocks_t *s = NULL;
    hlf_block_t *b;
    hlf_error_t err;
    watchdog_t w;
    uint64_t first = 0, prev = 0;
    int got = 0, blocks = 0;

    netfx_org_open(env, "Association", &recorder);
    netfx_org_open(env, "MLS", &reader);
    hlf_error_clear(&err);
    if (hlf_network_block_events(reader.net, NULL, &s, &err) != HLF_OK)
        TEST__FAIL("block events: %s", err.text);
    watchdog_start(&w, s, WATCHDOG_SECONDS);
    record(&recorder, netfx_recorder(env, "Association"), "Recorded", &r);
    /* The stream starts at the height the peer had when the request
     * arrived, at the latest r's block, and runs in sequence up to it. */
    while (!got) {
        const hlf_block_tx_t *t;

        b = next_block(s);
        if (blocks == 0)
            first = b->number;
        else
            ASSERT_EQ(b->number, prev + 1);
        ASSERT_LE(b->number, r.block);
        prev = b->number;
        blocks++;
        t = find_tx(b, r.tx_id, 0);
        if (t != NULL) {
            ASSERT_EQ(b->number, r.block);
            check_record_tx(t, &r, &recorder, netfx_str(env, "channel"),
                            netfx_str(env, "chaincode"), 0);
            got = 1;
        }
        hlf_block_free(b);
    }
    ASSERT_LE(first, r.block);
    ASSERT_EQ(watchdog_stop(&w), 0);
    /*
     * Nothing else is being committed (network tests run one at a time),
     * so next() now waits until another thread cancels the stream.
     */
    watchdog_start(&w, s, 2);
    ASSERT_EQ(hlf_blocks_next(s, &b, &err), HLF_ECLOSED);
    ASSERT_NULL(b);
    ASSERT_EQ(watchdog_stop(&w), 1);
    ASSERT_EQ(hlf_blocks_next(s, &b, &err), HLF_ECLOSED);
    hlf_blocks_close(s);
    json_decref(r.stored);
    reso_netenv_close_org(&recorder);
    reso_netenv_close_org(&reader);
    json_decref(env);
}

/* Open a stream on net and read until it ends; the result and text. */
static int
first_result(hlf_network_t *net, hlf_error_t *err)
{
    hlf_blocks_opts_t o;
    hlf_blocks_t *s = NULL;
    hlf_block_t *b = NULL;
    watchdog_t w;
    int rc;

    memset(&o, 0, sizeof(o));
    o.has_start_block = 1;
    hlf_error_clear(err);
    ASSERT_EQ(hlf_network_block_events(net, &o, &s, err), HLF_OK);
    watchdog_start(&w, s, WATCHDOG_SECONDS);
    rc = hlf_blocks_next(s, &b, err);
    ASSERT_EQ(watchdog_stop(&w), 0);
    hlf_block_free(b);
    hlf_blocks_close(s);
    return rc;
}

TEST_IMPL(blocks_refused_by_the_peer)
{
    json_t *env = netfx_env();
    json_t *orderer = json_object_get(env, "orderer");
    const char *host = netfx_str(orderer, "host_override");
    const char *domain = strchr(host, '.');
    hlf_identity_t *oid = NULL;
    hlf_gateway_opts_t go;
    hlf_gateway_t *gw = NULL;
    hlf_error_t err;
    org_t reader;
    char msp[1024];
    int rc;

    netfx_org_open(env, "Brokerage", &reader);
    /* A channel this peer has not joined. */
    rc = first_result(hlf_gateway_get_network(reader.gw, "no-such-channel"),
                      &err);
    if (rc != HLF_ENOTFOUND)
        TEST__FAIL("unknown channel: %d %s", rc, err.text);
    ASSERT_STR_EQ(err.text, "Deliver no-such-channel: NOT_FOUND (404)");

    /* The orderer org's admin is known to the channel but is not one of
     * its application Readers. */
    ASSERT_NOT_NULL(domain);
    snprintf(msp, sizeof(msp),
             "%s/ordererOrganizations/%s/users/Admin@%s/msp",
             netfx_str(env, "crypto_dir"), domain + 1, domain + 1);
    hlf_error_clear(&err);
    if (hlf_identity_load_msp(msp, "OrdererMSP", &oid, &err) != HLF_OK)
        TEST__FAIL("orderer admin: %s", err.text);
    memset(&go, 0, sizeof(go));
    go.conn = reader.conn;
    go.identity = oid;
    ASSERT_EQ(hlf_gateway_connect(&gw, &go, &err), HLF_OK);
    rc = first_result(hlf_gateway_get_network(gw, netfx_str(env, "channel")),
                      &err);
    if (rc != HLF_EPERM)
        TEST__FAIL("orderer admin: %d %s", rc, err.text);
    ASSERT(strstr(err.text, ": FORBIDDEN (403)") != NULL);
    hlf_gateway_close(gw);
    hlf_identity_unref(oid);
    reso_netenv_close_org(&reader);
    json_decref(env);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(blocks_from_genesis_carry_recorded_events),
    TEST_ENTRY(blocks_from_next_commit),
    TEST_ENTRY(blocks_refused_by_the_peer),
};

TEST_MAIN(tests)
