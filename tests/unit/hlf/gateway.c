/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/gateway.c and events.c through the public API,
 * against the fake Gateway (fake_gateway.c) that checks tx ids, channels,
 * creators and every signature with OpenSSL the way a peer would.
 */
#include "fake_gateway.h"
#include "hlf/hlf.h" /* the umbrella header must compile on its own */
#include "task.h"
#include "testutil.h"

#include <pthread.h>
#include <unistd.h>

#define CC_JSON                                                              \
    "{\"error\":{\"code\":\"MISSING_FIELD\",\"field\":\"EventType\"}}"

/* One fake peer, one connection, one gateway, one contract. */
typedef struct {
    tu_msp_t msp;
    hlf_identity_t *id;
    fake_gateway_t fg;
    fake_server_t *fs;
    hlf_conn_t *conn;
    hlf_gateway_t *gw;
    hlf_network_t *net;
    hlf_contract_t *cc;
    uint8_t *creator; /* the fake's copy: it must outlive the identity */
} env_t;

static void
env_up(env_t *v)
{
    hlf_conn_opts_t co;
    hlf_gateway_opts_t go;
    hlf_error_t e;

    memset(v, 0, sizeof(*v));
    tu_msp_make(&v->msp, "User1@brokerage.test");
    ASSERT_EQ(hlf_identity_load_msp(v->msp.msp, "BrokerageMSP", &v->id, &e),
              HLF_OK);
    fake_gateway_init(&v->fg);
    v->fg.signer = v->msp.key;
    {
        /* The fake server may still check a late, cancelled call after
         * the gateway (and with it the identity) is gone: give it its
         * own copy of the creator bytes. */
        const uint8_t *c = hlf_identity_creator(v->id, &v->fg.creator_len);

        v->creator = malloc(v->fg.creator_len);
        ASSERT_NOT_NULL(v->creator);
        memcpy(v->creator, c, v->fg.creator_len);
        v->fg.creator = v->creator;
    }
    v->fs = fake_server_start(fake_gateway_handler, &v->fg, NULL);
    memset(&co, 0, sizeof(co));
    co.target = fake_server_target(v->fs);
    co.insecure_plaintext = 1;
    ASSERT_EQ(hlf_conn_new(&co, &v->conn, &e), HLF_OK);
    memset(&go, 0, sizeof(go));
    go.conn = v->conn;
    go.identity = v->id;
    go.commit_status_timeout_ms = 5000;
    ASSERT_EQ(hlf_gateway_connect(&v->gw, &go, &e), HLF_OK);
    /* The gateway holds its own reference from here on. */
    hlf_identity_unref(v->id);
    v->net = hlf_gateway_get_network(v->gw, "reso-events");
    ASSERT_NOT_NULL(v->net);
    v->cc = hlf_network_get_contract(v->net, "reso", NULL);
    ASSERT_NOT_NULL(v->cc);
}

static void
env_down(env_t *v)
{
    hlf_gateway_close(v->gw);
    hlf_conn_close(v->conn);
    fake_server_stop(v->fs);
    if (v->fg.bad_requests != 0)
        TEST__FAIL("fake gateway saw %d bad request(s), last: %s",
                   v->fg.bad_requests, v->fg.last_bad);
    fake_gateway_destroy(&v->fg);
    free(v->creator);
    tu_msp_free(&v->msp);
}

/* ------------------------------------------------------------------------
 * Handles
 * ---------------------------------------------------------------------- */

TEST_IMPL(gateway_handles_cached)
{
    env_t v;
    hlf_gateway_t *gw = (hlf_gateway_t *)&v;
    hlf_gateway_opts_t go;
    hlf_error_t e;

    env_up(&v);
    ASSERT(hlf_gateway_get_network(v.gw, "reso-events") == v.net);
    ASSERT(hlf_gateway_get_network(v.gw, "other") != v.net);
    ASSERT_STR_EQ(hlf_network_name(v.net), "reso-events");
    ASSERT_NULL(hlf_gateway_get_network(v.gw, ""));
    ASSERT_NULL(hlf_gateway_get_network(v.gw, NULL));
    ASSERT(hlf_network_get_contract(v.net, "reso", NULL) == v.cc);
    ASSERT(hlf_network_get_contract(v.net, "reso", "") == v.cc);
    ASSERT(hlf_network_get_contract(v.net, "reso", "Events") != v.cc);
    ASSERT(hlf_network_get_contract(v.net, "reso", "Events") ==
           hlf_network_get_contract(v.net, "reso", "Events"));
    ASSERT_NULL(hlf_network_get_contract(v.net, "", NULL));
    ASSERT_STR_EQ(hlf_contract_chaincode(v.cc), "reso");
    ASSERT_STR_EQ(hlf_identity_msp_id(hlf_gateway_identity(v.gw)),
                  "BrokerageMSP");
    memset(&go, 0, sizeof(go));
    ASSERT_EQ(hlf_gateway_connect(&gw, &go, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "gateway: connection and identity required");
    go.conn = v.conn;
    go.identity = v.id;
    go.endorse_timeout_ms = -1;
    ASSERT_EQ(hlf_gateway_connect(&gw, &go, &e), HLF_EINVAL);
    ASSERT_NULL(gw);
    env_down(&v);
}

/* ------------------------------------------------------------------------
 * Evaluate
 * ---------------------------------------------------------------------- */

TEST_IMPL(gateway_evaluate)
{
    env_t v;
    hlf_bytes_t args[2], res;
    hlf_error_t e;

    env_up(&v);
    args[0] = hlf_bytes_str("L1");
    args[1] = hlf_bytes_str("{\"x\":1}");
    ASSERT_EQ(hlf_contract_evaluate(v.cc, "GetEvent", args, 2, &res, &e),
              HLF_OK);
    ASSERT_STR_EQ((char *)res.data, "{\"ok\":true}");
    ASSERT_EQ(res.len, 11);
    ASSERT_EQ(e.code, HLF_OK);
    ASSERT_STR_EQ(e.tx_id, v.fg.last_tx_id);
    ASSERT_STR_EQ(v.fg.last_fn, "GetEvent");
    ASSERT_EQ(v.fg.last_nargs, 2);
    ASSERT_STR_EQ(v.fg.last_args[0], "L1");
    ASSERT_STR_EQ(v.fg.last_args[1], "{\"x\":1}");
    ASSERT_EQ(v.fg.last_norgs, 0);
    hlf_bytes_free(&res);
    ASSERT_EQ(fake_server_calls(v.fs), 1);
    ASSERT_STR_EQ(fake_server_method(v.fs, 0), "/gateway.Gateway/Evaluate");
    env_down(&v);
}

TEST_IMPL(gateway_evaluate_chaincode_error)
{
    env_t v;
    hlf_bytes_t res;
    hlf_error_t e;
    const fg_detail_t d = {"BrokerageMSP", "peer0:7051",
                           "chaincode response 400, " CC_JSON};

    env_up(&v);
    v.fg.evaluate_status = 2;
    v.fg.message = "evaluate call to endorser returned error: chaincode "
                   "response 400, " CC_JSON;
    v.fg.details = &d;
    v.fg.ndetails = 1;
    ASSERT_EQ(hlf_contract_evaluate(v.cc, "GetEvent", NULL, 0, &res, &e),
              HLF_ECHAINCODE);
    ASSERT_NULL(res.data);
    ASSERT_EQ(e.code, HLF_ECHAINCODE);
    ASSERT_EQ(e.grpc_status, 2);
    ASSERT_EQ(e.chaincode_status, 400);
    ASSERT_STR_EQ(e.chaincode_message, CC_JSON);
    ASSERT_STR_EQ(e.tx_id, v.fg.last_tx_id);
    ASSERT_STR_EQ(e.text, "Unknown: evaluate call to endorser returned "
                          "error: chaincode response 400, " CC_JSON
                          " [BrokerageMSP@peer0:7051: chaincode response 400, "
                          CC_JSON "]");
    /* Other failures are HLF_EEVALUATE / HLF_EUNAVAIL. */
    v.fg.evaluate_status = 9;
    v.fg.message = "access denied";
    v.fg.ndetails = 0;
    ASSERT_EQ(hlf_contract_evaluate(v.cc, "GetEvent", NULL, 0, &res, &e),
              HLF_EEVALUATE);
    ASSERT_STR_EQ(e.text, "FailedPrecondition: access denied");
    ASSERT_EQ(e.chaincode_status, 0);
    v.fg.evaluate_status = 14;
    v.fg.message = "no peers available";
    ASSERT_EQ(hlf_contract_evaluate(v.cc, "GetEvent", NULL, 0, &res, &e),
              HLF_EUNAVAIL);
    env_down(&v);
}

/* ------------------------------------------------------------------------
 * Submit
 * ---------------------------------------------------------------------- */

TEST_IMPL(gateway_submit_whole_transaction)
{
    env_t v;
    hlf_bytes_t args[1], res;
    hlf_error_t e;

    env_up(&v);
    v.fg.result = "{\"EventId\":\"ev-1\"}";
    v.fg.block = 7;
    args[0] = hlf_bytes_str("{\"EventType\":\"ListingCreated\"}");
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", args, 1, &res, &e),
              HLF_OK);
    ASSERT_STR_EQ((char *)res.data, "{\"EventId\":\"ev-1\"}");
    ASSERT_EQ(e.code, HLF_OK);
    ASSERT_EQ(strlen(e.tx_id), 64);
    ASSERT_STR_EQ(e.tx_id, v.fg.last_tx_id);
    ASSERT_EQ(e.block_number, 7);
    ASSERT_EQ(e.tx_validation_code, 0);
    ASSERT_STR_EQ(v.fg.last_fn, "RecordEvent");
    ASSERT_EQ(fake_server_calls(v.fs), 3);
    ASSERT_STR_EQ(fake_server_method(v.fs, 0), "/gateway.Gateway/Endorse");
    ASSERT_STR_EQ(fake_server_method(v.fs, 1), "/gateway.Gateway/Submit");
    ASSERT_STR_EQ(fake_server_method(v.fs, 2),
                  "/gateway.Gateway/CommitStatus");
    hlf_bytes_free(&res);
    /* The result is optional. */
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", args, 1, NULL, &e),
              HLF_OK);
    env_down(&v);
}

TEST_IMPL(gateway_submit_commit_invalid)
{
    env_t v;
    hlf_bytes_t res;
    hlf_error_t e;
    char want[256];

    env_up(&v);
    v.fg.validation_code = 11;
    v.fg.block = 9;
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", NULL, 0, &res, &e),
              HLF_ECOMMIT);
    ASSERT_NULL(res.data);
    ASSERT_EQ(e.tx_validation_code, 11);
    ASSERT_EQ(e.block_number, 9);
    snprintf(want, sizeof(want),
             "transaction %s committed invalid in block 9: "
             "MVCC_READ_CONFLICT (11)",
             e.tx_id);
    ASSERT_STR_EQ(e.text, want);
    ASSERT_STR_EQ(hlf_tx_validation_code_name(0), "VALID");
    ASSERT_STR_EQ(hlf_tx_validation_code_name(255), "INVALID_OTHER_REASON");
    ASSERT_STR_EQ(hlf_tx_validation_code_name(77), "UNKNOWN");
    env_down(&v);
}

TEST_IMPL(gateway_submit_failures)
{
    env_t v;
    hlf_bytes_t res;
    hlf_error_t e;
    const fg_detail_t cc = {"BrokerageMSP", "peer0:7051",
                            "chaincode response 400, " CC_JSON};
    const fg_detail_t acl = {"BrokerageMSP", "peer0:7051",
                             "access denied: channel [reso-events] creator "
                             "org [BrokerageMSP]"};

    env_up(&v);
    /* The chaincode rejects the transaction during endorsement. */
    v.fg.endorse_status = 10;
    v.fg.message = "failed to endorse transaction, see attached details for "
                   "more info";
    v.fg.details = &cc;
    v.fg.ndetails = 1;
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", NULL, 0, &res, &e),
              HLF_ECHAINCODE);
    ASSERT_EQ(e.chaincode_status, 400);
    ASSERT_STR_EQ(e.chaincode_message, CC_JSON);
    ASSERT_STR_EQ(e.tx_id, v.fg.last_tx_id);
    ASSERT_EQ(e.grpc_status, 10);
    /* Any other endorsement failure. */
    v.fg.details = &acl;
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", NULL, 0, &res, &e),
              HLF_EENDORSE);
    ASSERT_STR_EQ(e.text, "Aborted: failed to endorse transaction, see "
                          "attached details for more info [BrokerageMSP@"
                          "peer0:7051: access denied: channel [reso-events] "
                          "creator org [BrokerageMSP]]");
    /* The orderer refuses. */
    v.fg.endorse_status = 0;
    v.fg.submit_status = 10;
    v.fg.message = "received unsuccessful response from orderer: "
                   "status=FORBIDDEN, info=";
    v.fg.ndetails = 0;
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", NULL, 0, &res, &e),
              HLF_ESUBMIT);
    ASSERT_STR_EQ(e.tx_id, v.fg.last_tx_id);
    ASSERT_STR_EQ(e.text, "Aborted: received unsuccessful response from "
                          "orderer: status=FORBIDDEN, info=");
    /* No orderer reachable. */
    v.fg.submit_status = 14;
    v.fg.message = "no orderers could successfully process transaction";
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", NULL, 0, &res, &e),
              HLF_EUNAVAIL);
    /* Commit status not available (e.g. ACL). */
    v.fg.submit_status = 0;
    v.fg.commit_status = 7;
    v.fg.message = "access denied";
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", NULL, 0, &res, &e),
              HLF_ECOMMITSTATUS);
    ASSERT_EQ(e.tx_validation_code, -1);
    ASSERT_NULL(res.data);
    env_down(&v);
}

TEST_IMPL(gateway_bad_endorse_responses)
{
    env_t v;
    hlf_bytes_t res;
    hlf_error_t e;

    env_up(&v);
    v.fg.endorse_empty = 1;
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", NULL, 0, &res, &e),
              HLF_EPROTO);
    ASSERT_STR_EQ(e.text, "endorse: EndorseResponse without a prepared "
                          "transaction");
    v.fg.endorse_empty = 0;
    v.fg.endorse_wrong_tx = 1;
    ASSERT_EQ(hlf_contract_submit(v.cc, "RecordEvent", NULL, 0, &res, &e),
              HLF_EPROTO);
    ASSERT_EQ(strncmp(e.text, "prepared transaction is for tx 0123", 35), 0);
    /* Nothing was submitted. */
    ASSERT_EQ(fake_server_calls(v.fs), 2);
    env_down(&v);
}

TEST_IMPL(gateway_step_by_step)
{
    env_t v;
    hlf_contract_t *named;
    hlf_proposal_t *p;
    hlf_transaction_t *tx;
    hlf_commit_t *commit, *again;
    hlf_commit_result_t cr;
    hlf_proposal_opts_t po;
    const char *orgs[2] = {"BrokerageMSP", "MLSMSP"};
    hlf_transient_t tr = {"key", {(uint8_t *)"v", 1}};
    hlf_bytes_t res;
    const uint8_t *r;
    size_t len;
    hlf_error_t e;
    char tx_id[65];

    env_up(&v);
    named = hlf_network_get_contract(v.net, "reso", "Events");
    memset(&po, 0, sizeof(po));
    po.orgs = orgs;
    po.norgs = 2;
    po.transient = &tr;
    po.ntransient = 1;
    ASSERT_EQ(hlf_contract_new_proposal(named, "Record", NULL, 0, &po, &p,
                                        &e),
              HLF_OK);
    ASSERT_STR_EQ(e.tx_id, hlf_proposal_tx_id(p));
    ASSERT_NOT_NULL(hlf_proposal_bytes(p, &len));
    ASSERT(len > 100);
    ASSERT_NOT_NULL(hlf_proposal_signature(p, &len));
    ASSERT(len >= 8 && len <= 72);
    ASSERT_EQ(hlf_proposal_endorse(p, &tx, &e), HLF_OK);
    ASSERT_STR_EQ(v.fg.last_fn, "Events:Record");
    ASSERT_EQ(v.fg.last_norgs, 2);
    ASSERT_STR_EQ(v.fg.last_orgs[0], "BrokerageMSP");
    ASSERT_STR_EQ(v.fg.last_orgs[1], "MLSMSP");
    ASSERT_STR_EQ(hlf_transaction_tx_id(tx), hlf_proposal_tx_id(p));
    /* The same proposal can also be evaluated. */
    ASSERT_EQ(hlf_proposal_evaluate(p, &res, &e), HLF_OK);
    hlf_bytes_free(&res);
    snprintf(tx_id, sizeof(tx_id), "%s", hlf_proposal_tx_id(p));
    hlf_proposal_free(p);
    r = hlf_transaction_result(tx, &len);
    ASSERT_EQ(len, 11);
    ASSERT_STR_EQ((const char *)r, "{\"ok\":true}");
    v.fg.block = 12;
    ASSERT_EQ(hlf_transaction_submit(tx, &commit, &e), HLF_OK);
    ASSERT_STR_EQ(hlf_commit_tx_id(commit), tx_id);
    ASSERT_EQ(hlf_commit_status(commit, &cr, &e), HLF_OK);
    ASSERT_EQ(cr.validation_code, 0);
    ASSERT_EQ(cr.block_number, 12);
    ASSERT_EQ(e.block_number, 12);
    /* Asking again (e.g. after a restart) for the same tx id. */
    ASSERT_EQ(hlf_network_new_commit(v.net, tx_id, &again, &e), HLF_OK);
    ASSERT_EQ(hlf_commit_status(again, NULL, &e), HLF_OK);
    ASSERT_STR_EQ(e.tx_id, tx_id);
    hlf_commit_free(again);
    ASSERT_EQ(hlf_network_new_commit(v.net, "short", &again, &e),
              HLF_EINVAL);
    ASSERT_NULL(again);
    hlf_commit_free(commit);
    /* Submit without waiting for the commit. */
    ASSERT_EQ(hlf_transaction_submit(tx, NULL, &e), HLF_OK);
    hlf_transaction_free(tx);
    ASSERT_EQ(hlf_contract_new_proposal(v.cc, "", NULL, 0, NULL, &p, &e),
              HLF_EINVAL);
    ASSERT_NULL(p);
    env_down(&v);
}

/* Many threads on one gateway, creating handles as they go. */
typedef struct {
    env_t *v;
    int ok;
} eval_worker_t;

static void *
eval_worker(void *arg)
{
    eval_worker_t *w = arg;
    hlf_network_t *net;
    hlf_contract_t *c;
    hlf_bytes_t res;
    int i;

    for (i = 0; i < 15; i++) {
        net = hlf_gateway_get_network(w->v->gw, "reso-events");
        c = hlf_network_get_contract(net, "reso", i % 2 ? "A" : NULL);
        if (hlf_contract_evaluate(c, "Get", NULL, 0, &res, NULL) != HLF_OK)
            continue;
        w->ok += strcmp((char *)res.data, "{\"ok\":true}") == 0;
        hlf_bytes_free(&res);
    }
    return NULL;
}

TEST_IMPL(gateway_concurrent_evaluate)
{
    env_t v;
    pthread_t th[8];
    eval_worker_t w[8];
    int i;

    env_up(&v);
    for (i = 0; i < 8; i++) {
        w[i].v = &v;
        w[i].ok = 0;
        ASSERT_EQ(pthread_create(&th[i], NULL, eval_worker, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(w[i].ok, 15);
    }
    ASSERT_EQ(fake_server_calls(v.fs), 8 * 15);
    env_down(&v);
}

/* ------------------------------------------------------------------------
 * Chaincode events
 * ---------------------------------------------------------------------- */

static void
check_block(const hlf_event_block_t *b, uint64_t number, size_t n)
{
    char tx[64], payload[64];
    size_t i;

    ASSERT_EQ(b->block_number, number);
    ASSERT_EQ(b->nevents, n);
    for (i = 0; i < n; i++) {
        snprintf(tx, sizeof(tx), "tx-%llu-%zu", (unsigned long long)number,
                 i);
        snprintf(payload, sizeof(payload), "{\"block\":%llu,\"i\":%zu}",
                 (unsigned long long)number, i);
        ASSERT_STR_EQ(b->events[i].tx_id, tx);
        ASSERT_STR_EQ(b->events[i].chaincode_id, "reso");
        ASSERT_STR_EQ(b->events[i].event_name, "EventRecorded");
        ASSERT_EQ(b->events[i].payload_len, strlen(payload));
        ASSERT_MEM_EQ(b->events[i].payload, payload, strlen(payload));
    }
}

TEST_IMPL(events_pull)
{
    env_t v;
    hlf_events_opts_t o;
    hlf_events_t *ev;
    hlf_event_block_t *b;
    hlf_error_t e;

    env_up(&v);
    v.fg.nblocks = 3;
    memset(&o, 0, sizeof(o));
    o.has_start_block = 1;
    o.start_block = 5;
    o.after_tx_id = "tx-5-0";
    ASSERT_EQ(hlf_network_chaincode_events(v.net, "reso", &o, &ev, &e),
              HLF_OK);
    ASSERT_EQ(hlf_events_next(ev, &b, &e), 1);
    check_block(b, 5, 1);
    hlf_event_block_free(b);
    ASSERT_EQ(hlf_events_next(ev, &b, &e), 1);
    check_block(b, 6, 2);
    hlf_event_block_free(b);
    ASSERT_EQ(hlf_events_next(ev, &b, &e), 1);
    check_block(b, 7, 3);
    hlf_event_block_free(b);
    ASSERT_EQ(hlf_events_next(ev, &b, &e), 0);
    ASSERT_NULL(b);
    ASSERT_EQ(hlf_events_next(ev, &b, &e), 0);
    ASSERT_EQ(hlf_events_start(ev, NULL, NULL, &e), HLF_EINVAL);
    hlf_events_close(ev);
    ASSERT_EQ(v.fg.events_start_set, 1);
    ASSERT_EQ(v.fg.events_start, 5);
    ASSERT_STR_EQ(v.fg.events_after, "tx-5-0");
    ASSERT_STR_EQ(v.fg.events_chaincode, "reso");

    /* Without a start block the stream starts at the next commit. */
    v.fg.nblocks = 1;
    ASSERT_EQ(hlf_network_chaincode_events(v.net, "reso", NULL, &ev, &e),
              HLF_OK);
    ASSERT_EQ(hlf_events_next(ev, &b, &e), 1);
    check_block(b, 100, 1);
    hlf_event_block_free(b);
    hlf_events_close(ev);
    ASSERT_EQ(v.fg.events_start_set, 0);
    ASSERT_STR_EQ(v.fg.events_after, "");
    env_down(&v);
}

TEST_IMPL(events_error_status)
{
    env_t v;
    hlf_events_t *ev;
    hlf_event_block_t *b;
    hlf_error_t e;

    env_up(&v);
    v.fg.events_status = 7;
    v.fg.message = "access denied";
    ASSERT_EQ(hlf_network_chaincode_events(v.net, "reso", NULL, &ev, &e),
              HLF_OK);
    ASSERT_EQ(hlf_events_next(ev, &b, &e), HLF_EGRPC);
    ASSERT_EQ(e.grpc_status, 7);
    ASSERT_STR_EQ(e.text, "PermissionDenied: access denied");
    hlf_events_close(ev);
    ASSERT_EQ(hlf_network_chaincode_events(v.net, "", NULL, &ev, &e),
              HLF_EINVAL);
    env_down(&v);
}

/* Push mode: what the callback saw. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int blocks;
    uint64_t numbers[8];
    int ends;
    int end_code;
    char end_text[1024];
    int stop_after; /* return non-zero after this many blocks (0: never) */
} seen_t;

static int
on_block(const hlf_event_block_t *blk, const hlf_error_t *end, void *ud)
{
    seen_t *s = ud;
    int stop = 0;

    pthread_mutex_lock(&s->lock);
    if (blk != NULL) {
        ASSERT_NULL(end);
        if (s->blocks < 8)
            s->numbers[s->blocks] = blk->block_number;
        s->blocks++;
        stop = s->stop_after && s->blocks >= s->stop_after;
    } else {
        ASSERT_NOT_NULL(end);
        s->ends++;
        s->end_code = end->code;
        snprintf(s->end_text, sizeof(s->end_text), "%s", end->text);
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return stop;
}

static void
seen_init(seen_t *s, int stop_after)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->stop_after = stop_after;
}

static void
wait_blocks(seen_t *s, int blocks, int ends)
{
    pthread_mutex_lock(&s->lock);
    while (s->blocks < blocks || s->ends < ends)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

TEST_IMPL(events_push_cancel)
{
    env_t v;
    hlf_events_t *ev;
    hlf_event_block_t *b;
    hlf_error_t e;
    seen_t s;

    env_up(&v);
    v.fg.nblocks = 2;
    v.fg.events_hold = 1;
    seen_init(&s, 0);
    ASSERT_EQ(hlf_network_chaincode_events(v.net, "reso", NULL, &ev, &e),
              HLF_OK);
    ASSERT_EQ(hlf_events_start(ev, on_block, &s, &e), HLF_OK);
    ASSERT_EQ(hlf_events_start(ev, on_block, &s, &e), HLF_EINVAL);
    ASSERT_EQ(hlf_events_next(ev, &b, &e), HLF_EINVAL);
    wait_blocks(&s, 2, 0);
    usleep(100 * 1000);
    ASSERT_EQ(s.ends, 0); /* still open: the fake holds the stream */
    hlf_events_cancel(ev);
    wait_blocks(&s, 2, 1);
    hlf_events_close(ev);
    ASSERT_EQ(s.blocks, 2);
    ASSERT_EQ(s.numbers[0], 100);
    ASSERT_EQ(s.numbers[1], 101);
    ASSERT_EQ(s.ends, 1);
    ASSERT_EQ(s.end_code, HLF_ECLOSED);
    ASSERT_STR_EQ(s.end_text,
                  "/gateway.Gateway/ChaincodeEvents: stream cancelled");
    env_down(&v);
}

TEST_IMPL(events_push_callback_stops)
{
    env_t v;
    hlf_events_t *ev;
    hlf_error_t e;
    seen_t s;

    env_up(&v);
    v.fg.nblocks = 3;
    v.fg.events_hold = 1;
    seen_init(&s, 1);
    ASSERT_EQ(hlf_network_chaincode_events(v.net, "reso", NULL, &ev, &e),
              HLF_OK);
    ASSERT_EQ(hlf_events_start(ev, on_block, &s, &e), HLF_OK);
    wait_blocks(&s, 1, 1);
    hlf_events_close(ev);
    ASSERT_EQ(s.blocks, 1);
    ASSERT_EQ(s.ends, 1);
    ASSERT_EQ(s.end_code, HLF_OK);
    env_down(&v);
}

TEST_IMPL(events_push_stream_end)
{
    env_t v;
    hlf_events_t *ev;
    hlf_error_t e;
    seen_t s;

    /* Closing right after start, before anything arrived, must not hang
     * and still delivers exactly one final callback. */
    env_up(&v);
    v.fg.nblocks = 2;
    seen_init(&s, 0);
    ASSERT_EQ(hlf_network_chaincode_events(v.net, "reso", NULL, &ev, &e),
              HLF_OK);
    ASSERT_EQ(hlf_events_start(ev, on_block, &s, &e), HLF_OK);
    wait_blocks(&s, 2, 1);
    hlf_events_close(ev);
    ASSERT_EQ(s.ends, 1);
    ASSERT_EQ(s.end_code, HLF_OK);
    seen_init(&s, 0);
    ASSERT_EQ(hlf_network_chaincode_events(v.net, "reso", NULL, &ev, &e),
              HLF_OK);
    ASSERT_EQ(hlf_events_start(ev, on_block, &s, &e), HLF_OK);
    hlf_events_close(ev);
    ASSERT_EQ(s.ends, 1);
    env_down(&v);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(gateway_handles_cached),
    TEST_ENTRY(gateway_evaluate),
    TEST_ENTRY(gateway_evaluate_chaincode_error),
    TEST_ENTRY(gateway_submit_whole_transaction),
    TEST_ENTRY(gateway_submit_commit_invalid),
    TEST_ENTRY(gateway_submit_failures),
    TEST_ENTRY(gateway_bad_endorse_responses),
    TEST_ENTRY(gateway_step_by_step),
    TEST_ENTRY(gateway_concurrent_evaluate),
    TEST_ENTRY(events_pull),
    TEST_ENTRY(events_error_status),
    TEST_ENTRY(events_push_cancel),
    TEST_ENTRY(events_push_callback_stops),
    TEST_ENTRY(events_push_stream_end),
};

TEST_MAIN(tests)
