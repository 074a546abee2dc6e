/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/block.c: blocks built layer by layer with
 * protobuf-c (blockgen.c) parsed back and every field compared; config,
 * invalid and multi-action transactions; missing and short validation
 * metadata; each layer of an envelope broken in turn; broken, truncated
 * and bit-flipped blocks; and an allocation-failure sweep that must give
 * HLF_ENOMEM (never a false "malformed") and leak nothing.
 */
#include "blockgen.h"
#include "hlf/block.h"
#include "hlf/mem.h"
#include "task.h"

#define CERT                                                                 \
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n"                    \
    "-----END CERTIFICATE-----\n"

static const uint8_t binary_payload[] = {'{', 0, 1, 0xff, '}'};

/* An endorser transaction of "reso" with an event, as tests start from. */
static void
endorser_tx(bg_tx_t *tx, const char *tx_id)
{
    memset(tx, 0, sizeof(*tx));
    tx->type = 3;
    tx->tx_id = tx_id;
    tx->channel = "reso-events";
    tx->ts_sec = 1700000123;
    tx->ts_nanos = 456789;
    tx->msp_id = "AssociationMSP";
    tx->cert = CERT;
    tx->nactions = 1;
    tx->actions[0].chaincode = "reso";
    tx->actions[0].version = "1.0";
    tx->actions[0].status = 200;
    tx->actions[0].message = "ok";
    tx->actions[0].result = (const uint8_t *)"{\"stored\":1}";
    tx->actions[0].result_len = 12;
    tx->actions[0].event_name = "RecordEvent";
    tx->actions[0].event_payload = binary_payload;
    tx->actions[0].event_len = sizeof(binary_payload);
}

static void
config_tx(bg_tx_t *tx)
{
    memset(tx, 0, sizeof(*tx));
    tx->type = 1;
    tx->channel = "reso-events";
    tx->ts_sec = 1690000000;
}

/* Build a block of n transactions, with codes (ncodes bytes) unless
 * metadata is 0, and parse it. */
static hlf_block_t *
parse_txs(uint64_t number, const bg_tx_t *txs, size_t n, int metadata,
          const uint8_t *codes, size_t ncodes)
{
    uint8_t *envs[16], *raw;
    size_t lens[16], len, i;
    bg_block_t b;
    hlf_block_t *blk = NULL;
    hlf_error_t e;

    ASSERT_LE(n, 16);
    for (i = 0; i < n; i++)
        envs[i] = bg_envelope(&txs[i], &lens[i]);
    memset(&b, 0, sizeof(b));
    b.number = number;
    b.envs = envs;
    b.lens = lens;
    b.n = n;
    b.metadata = metadata;
    b.codes = codes;
    b.ncodes = ncodes;
    raw = bg_block(&b, &len);
    hlf_error_clear(&e);
    if (hlf_block_parse(raw, len, &blk, &e) != HLF_OK)
        TEST__FAIL("parse: %s", e.text);
    ASSERT_NOT_NULL(blk);
    ASSERT_EQ(e.code, HLF_OK);
    for (i = 0; i < n; i++)
        free(envs[i]);
    free(raw);
    return blk;
}

/* The fields endorser_tx(tx_id) produces, action 0 included. */
static void
check_endorser(const hlf_block_tx_t *t, size_t index, const char *tx_id,
               int code)
{
    const hlf_block_action_t *a;

    ASSERT_EQ(t->index, index);
    ASSERT_EQ(t->type, HLF_HEADER_TYPE_ENDORSER_TRANSACTION);
    ASSERT_STR_EQ(t->tx_id, tx_id);
    ASSERT_STR_EQ(t->channel, "reso-events");
    ASSERT_EQ(t->timestamp_sec, 1700000123);
    ASSERT_EQ(t->timestamp_nanos, 456789);
    ASSERT_STR_EQ(t->creator_msp_id, "AssociationMSP");
    ASSERT_STR_EQ(t->creator_cert, CERT);
    ASSERT_EQ(t->creator_cert_len, strlen(CERT));
    ASSERT_EQ(t->validation_code, code);
    ASSERT_NULL(t->error);
    ASSERT_EQ(t->nactions, 1);
    a = &t->actions[0];
    ASSERT_STR_EQ(a->chaincode, "reso");
    ASSERT_STR_EQ(a->chaincode_version, "1.0");
    ASSERT_EQ(a->response_status, 200);
    ASSERT_STR_EQ(a->response_message, "ok");
    ASSERT_EQ(a->response_payload_len, 12);
    ASSERT_STR_EQ((const char *)a->response_payload, "{\"stored\":1}");
    ASSERT_NOT_NULL(a->event);
    ASSERT_STR_EQ(a->event->chaincode_id, "reso");
    ASSERT_STR_EQ(a->event->tx_id, tx_id);
    ASSERT_STR_EQ(a->event->event_name, "RecordEvent");
    ASSERT_EQ(a->event->payload_len, sizeof(binary_payload));
    ASSERT_MEM_EQ(a->event->payload, binary_payload, sizeof(binary_payload));
    ASSERT_EQ(a->event->payload[sizeof(binary_payload)], 0);
}

/* ------------------------------------------------------------------------
 * Well-formed blocks
 * ---------------------------------------------------------------------- */

TEST_IMPL(block_endorser_tx_with_event)
{
    static const uint8_t codes[] = {0};
    hlf_block_t *blk;
    bg_tx_t tx;

    endorser_tx(&tx, "a1b2");
    blk = parse_txs(42, &tx, 1, 1, codes, 1);
    ASSERT_EQ(blk->number, 42);
    ASSERT_EQ(blk->validated, 1);
    ASSERT_EQ(blk->ntx, 1);
    check_endorser(&blk->txs[0], 0, "a1b2", HLF_TX_VALID);
    hlf_block_free(blk);
    hlf_block_free(NULL);
}

TEST_IMPL(block_config_tx)
{
    static const uint8_t codes[] = {0};
    const hlf_block_tx_t *t;
    hlf_block_t *blk;
    bg_tx_t tx;

    /* A genesis block: one CONFIG envelope without a creator. */
    config_tx(&tx);
    blk = parse_txs(0, &tx, 1, 1, codes, 1);
    ASSERT_EQ(blk->number, 0);
    ASSERT_EQ(blk->ntx, 1);
    t = &blk->txs[0];
    ASSERT_EQ(t->index, 0);
    ASSERT_EQ(t->type, HLF_HEADER_TYPE_CONFIG);
    ASSERT_STR_EQ(hlf_header_type_name(t->type), "CONFIG");
    ASSERT_STR_EQ(t->tx_id, "");
    ASSERT_STR_EQ(t->channel, "reso-events");
    ASSERT_EQ(t->timestamp_sec, 1690000000);
    ASSERT_EQ(t->timestamp_nanos, 0);
    ASSERT_STR_EQ(t->creator_msp_id, "");
    ASSERT_STR_EQ(t->creator_cert, "");
    ASSERT_EQ(t->creator_cert_len, 0);
    ASSERT_EQ(t->validation_code, 0);
    ASSERT_EQ(t->nactions, 0);
    ASSERT_NULL(t->actions);
    ASSERT_NULL(t->error);
    hlf_block_free(blk);

    /* A config update by an orderer admin keeps its creator. */
    tx.msp_id = "OrdererMSP";
    tx.cert = CERT;
    tx.tx_id = "cfg1";
    blk = parse_txs(7, &tx, 1, 1, codes, 1);
    ASSERT_STR_EQ(blk->txs[0].creator_msp_id, "OrdererMSP");
    ASSERT_STR_EQ(blk->txs[0].creator_cert, CERT);
    ASSERT_STR_EQ(blk->txs[0].tx_id, "cfg1");
    ASSERT_EQ(blk->txs[0].nactions, 0);
    hlf_block_free(blk);
}

TEST_IMPL(block_several_txs_and_codes)
{
    static const uint8_t codes[] = {0, 11, 0, 10};
    const hlf_block_action_t *a;
    hlf_block_t *blk;
    bg_tx_t txs[4];

    endorser_tx(&txs[0], "t0");
    endorser_tx(&txs[1], "t1"); /* MVCC_READ_CONFLICT */
    endorser_tx(&txs[2], "t2");
    /* No event, no response, no chaincode id. */
    txs[2].actions[0].event_name = NULL;
    txs[2].actions[0].no_response = 1;
    txs[2].actions[0].chaincode = NULL;
    endorser_tx(&txs[3], "t3"); /* ENDORSEMENT_POLICY_FAILURE */
    txs[3].msp_id = "MLSMSP";
    blk = parse_txs(9, txs, 4, 1, codes, 4);
    ASSERT_EQ(blk->number, 9);
    ASSERT_EQ(blk->validated, 1);
    ASSERT_EQ(blk->ntx, 4);
    check_endorser(&blk->txs[0], 0, "t0", 0);
    check_endorser(&blk->txs[1], 1, "t1", HLF_TX_MVCC_READ_CONFLICT);
    ASSERT_EQ(blk->txs[1].validation_code, 11);
    ASSERT_EQ(blk->txs[2].index, 2);
    ASSERT_STR_EQ(blk->txs[2].tx_id, "t2");
    ASSERT_EQ(blk->txs[2].validation_code, 0);
    ASSERT_NULL(blk->txs[2].error);
    ASSERT_EQ(blk->txs[2].nactions, 1);
    a = &blk->txs[2].actions[0];
    ASSERT_STR_EQ(a->chaincode, "");
    ASSERT_STR_EQ(a->chaincode_version, "");
    ASSERT_EQ(a->response_status, 0);
    ASSERT_STR_EQ(a->response_message, "");
    ASSERT_EQ(a->response_payload_len, 0);
    ASSERT_STR_EQ((const char *)a->response_payload, "");
    ASSERT_NULL(a->event);
    ASSERT_EQ(blk->txs[3].index, 3);
    ASSERT_EQ(blk->txs[3].validation_code, 10);
    ASSERT_STR_EQ(blk->txs[3].creator_msp_id, "MLSMSP");
    hlf_block_free(blk);
}

TEST_IMPL(block_multiple_actions)
{
    static const uint8_t codes[] = {0};
    const hlf_block_tx_t *t;
    hlf_block_t *blk;
    bg_tx_t tx;

    endorser_tx(&tx, "multi");
    tx.nactions = 3;
    tx.actions[1] = tx.actions[0];
    tx.actions[1].chaincode = "other";
    tx.actions[1].version = "2.1";
    tx.actions[1].status = 201;
    tx.actions[1].event_name = NULL;
    tx.actions[2] = tx.actions[0];
    tx.actions[2].chaincode = "third";
    tx.actions[2].event_name = "Second";
    tx.actions[2].event_payload = (const uint8_t *)"";
    tx.actions[2].event_len = 0;
    blk = parse_txs(3, &tx, 1, 1, codes, 1);
    t = &blk->txs[0];
    ASSERT_NULL(t->error);
    ASSERT_EQ(t->nactions, 3);
    ASSERT_STR_EQ(t->actions[0].chaincode, "reso");
    ASSERT_STR_EQ(t->actions[0].event->event_name, "RecordEvent");
    ASSERT_STR_EQ(t->actions[1].chaincode, "other");
    ASSERT_STR_EQ(t->actions[1].chaincode_version, "2.1");
    ASSERT_EQ(t->actions[1].response_status, 201);
    ASSERT_NULL(t->actions[1].event);
    ASSERT_STR_EQ(t->actions[2].chaincode, "third");
    ASSERT_NOT_NULL(t->actions[2].event);
    ASSERT_STR_EQ(t->actions[2].event->chaincode_id, "third");
    ASSERT_STR_EQ(t->actions[2].event->event_name, "Second");
    ASSERT_EQ(t->actions[2].event->payload_len, 0);
    ASSERT_STR_EQ((const char *)t->actions[2].event->payload, "");
    hlf_block_free(blk);
}

TEST_IMPL(block_validation_metadata)
{
    static const uint8_t codes[] = {0, 11};
    hlf_block_t *blk;
    bg_tx_t txs[2];

    endorser_tx(&txs[0], "m0");
    endorser_tx(&txs[1], "m1");
    /* No BlockMetadata at all (a block straight from an orderer). */
    blk = parse_txs(5, txs, 2, 0, NULL, 0);
    ASSERT_EQ(blk->validated, 0);
    ASSERT_EQ(blk->txs[0].validation_code, HLF_TX_NOT_VALIDATED);
    ASSERT_EQ(blk->txs[1].validation_code, 254);
    check_endorser(&blk->txs[0], 0, "m0", 254);
    hlf_block_free(blk);
    /* Metadata without a filter entry's bytes. */
    blk = parse_txs(5, txs, 2, 1, NULL, 0);
    ASSERT_EQ(blk->validated, 0);
    ASSERT_EQ(blk->txs[0].validation_code, 254);
    ASSERT_EQ(blk->txs[1].validation_code, 254);
    hlf_block_free(blk);
    /* A filter of the wrong size is not trusted for any transaction. */
    blk = parse_txs(5, txs, 2, 1, codes, 1);
    ASSERT_EQ(blk->validated, 0);
    ASSERT_EQ(blk->txs[0].validation_code, 254);
    ASSERT_EQ(blk->txs[1].validation_code, 254);
    hlf_block_free(blk);
    blk = parse_txs(5, txs, 1, 1, codes, 2);
    ASSERT_EQ(blk->validated, 0);
    ASSERT_EQ(blk->ntx, 1);
    ASSERT_EQ(blk->txs[0].validation_code, 254);
    hlf_block_free(blk);
    /* Exactly one byte each. */
    blk = parse_txs(5, txs, 2, 1, codes, 2);
    ASSERT_EQ(blk->validated, 1);
    ASSERT_EQ(blk->txs[0].validation_code, 0);
    ASSERT_EQ(blk->txs[1].validation_code, 11);
    hlf_block_free(blk);
    /* An empty block. */
    blk = parse_txs(6, txs, 0, 1, NULL, 0);
    ASSERT_EQ(blk->number, 6);
    ASSERT_EQ(blk->ntx, 0);
    ASSERT_NULL(blk->txs);
    ASSERT_EQ(blk->validated, 1);
    hlf_block_free(blk);
}

TEST_IMPL(block_big_and_many)
{
    uint8_t *big = malloc(100000), *raw;
    uint8_t codes[16];
    hlf_block_t *blk;
    hlf_error_t e;
    bg_tx_t txs[16];
    size_t i, len;

    /* Payloads bigger than an arena chunk, between small strings. */
    ASSERT_NOT_NULL(big);
    for (i = 0; i < 100000; i++)
        big[i] = (uint8_t)(i * 7);
    for (i = 0; i < 16; i++) {
        endorser_tx(&txs[i], "big");
        if (i % 3 == 0) {
            txs[i].actions[0].event_payload = big;
            txs[i].actions[0].event_len = 100000 - i;
        }
        codes[i] = (uint8_t)i;
    }
    blk = parse_txs(77, txs, 16, 1, codes, 16);
    ASSERT_EQ(blk->ntx, 16);
    for (i = 0; i < 16; i++) {
        const hlf_chaincode_event_t *ev = blk->txs[i].actions[0].event;

        ASSERT_EQ(blk->txs[i].validation_code, (int)i);
        ASSERT_STR_EQ(blk->txs[i].creator_cert, CERT);
        if (i % 3 == 0) {
            ASSERT_EQ(ev->payload_len, 100000 - i);
            ASSERT_MEM_EQ(ev->payload, big, 100000 - i);
        } else {
            ASSERT_EQ(ev->payload_len, sizeof(binary_payload));
        }
    }
    hlf_block_free(blk);
    free(big);
    /* 64 transactions fill several chunks. */
    raw = bg_simple_block(1000, 64, &len);
    ASSERT_EQ(hlf_block_parse(raw, len, &blk, &e), HLF_OK);
    ASSERT_EQ(blk->ntx, 64);
    for (i = 0; i < 64; i++) {
        char want[64];

        snprintf(want, sizeof(want), "tx-1000-%zu", i);
        ASSERT_STR_EQ(blk->txs[i].tx_id, want);
        ASSERT_STR_EQ(blk->txs[i].actions[0].event->tx_id, want);
    }
    hlf_block_free(blk);
    free(raw);
}

/* ------------------------------------------------------------------------
 * Broken envelopes and blocks
 * ---------------------------------------------------------------------- */

/* What is known of a transaction broken at a layer. */
typedef struct {
    bg_break_t layer;
    const char *error;
    int header;      /* channel header fields filled */
    int creator;     /* creator filled */
    size_t nactions; /* actions decoded before the failure (of 2) */
} broken_case_t;

static const broken_case_t broken_cases[] = {
    {BG_ENVELOPE, "malformed Envelope", 0, 0, 0},
    {BG_PAYLOAD, "malformed Payload", 0, 0, 0},
    {BG_NO_HEADER, "Payload has no header", 0, 0, 0},
    {BG_CHANNEL_HEADER, "malformed ChannelHeader", 0, 0, 0},
    {BG_SIGNATURE_HEADER, "malformed SignatureHeader", 1, 0, 0},
    {BG_CREATOR, "malformed SerializedIdentity (creator)", 1, 0, 0},
    {BG_TRANSACTION, "malformed Transaction", 1, 1, 0},
    {BG_NO_ACTIONS, "Transaction has no actions", 1, 1, 0},
    {BG_ACTION_PAYLOAD, "malformed ChaincodeActionPayload", 1, 1, 1},
    {BG_NO_ENDORSED_ACTION, "ChaincodeActionPayload has no action", 1, 1,
     1},
    {BG_RESPONSE_PAYLOAD, "malformed ProposalResponsePayload", 1, 1, 1},
    {BG_CHAINCODE_ACTION, "malformed ChaincodeAction", 1, 1, 1},
    {BG_EVENT, "malformed ChaincodeEvent", 1, 1, 1},
};

TEST_IMPL(block_broken_layers)
{
    static const uint8_t codes[] = {0, 2, 0};
    const broken_case_t *c;
    const hlf_block_tx_t *t;
    hlf_block_t *blk;
    bg_tx_t txs[3];
    size_t i;

    for (i = 0; i < sizeof(broken_cases) / sizeof(broken_cases[0]); i++) {
        c = &broken_cases[i];
        endorser_tx(&txs[0], "before");
        endorser_tx(&txs[1], "broken");
        txs[1].nactions = 2;
        txs[1].actions[1] = txs[1].actions[0];
        txs[1].broken = c->layer;
        endorser_tx(&txs[2], "after");
        blk = parse_txs(11, txs, 3, 1, codes, 3);
        ASSERT_EQ(blk->ntx, 3);
        /* The neighbours are untouched. */
        check_endorser(&blk->txs[0], 0, "before", 0);
        check_endorser(&blk->txs[2], 2, "after", 0);
        t = &blk->txs[1];
        ASSERT_EQ(t->index, 1);
        ASSERT_EQ(t->validation_code, 2);
        if (t->error == NULL)
            TEST__FAIL("layer %d: no error", (int)c->layer);
        ASSERT_STR_EQ(t->error, c->error);
        ASSERT_EQ(t->type, c->header ? 3 : HLF_HEADER_TYPE_UNKNOWN);
        ASSERT_STR_EQ(t->tx_id, c->header ? "broken" : "");
        ASSERT_STR_EQ(t->channel, c->header ? "reso-events" : "");
        ASSERT_EQ(t->timestamp_sec, c->header ? 1700000123 : 0);
        ASSERT_STR_EQ(t->creator_msp_id, c->creator ? "AssociationMSP" : "");
        ASSERT_EQ(t->creator_cert_len, c->creator ? strlen(CERT) : 0);
        ASSERT_EQ(t->nactions, c->nactions);
        if (c->nactions) {
            ASSERT_STR_EQ(t->actions[0].chaincode, "reso");
            ASSERT_STR_EQ(t->actions[0].event->event_name, "RecordEvent");
        }
        hlf_block_free(blk);
    }
}

TEST_IMPL(block_level_errors)
{
    static const uint8_t junk[] = {0x0a, 0x05, 0x01};
    hlf_block_t *blk = (hlf_block_t *)junk;
    uint8_t *env, *raw;
    size_t elen, len;
    hlf_error_t e;
    bg_block_t b;
    bg_tx_t tx;

    ASSERT_EQ(hlf_block_parse(junk, sizeof(junk), &blk, &e), HLF_EPROTO);
    ASSERT_NULL(blk);
    ASSERT_EQ(e.code, HLF_EPROTO);
    ASSERT_STR_EQ(e.text, "block: malformed Block");
    /* Nothing at all: a Block without header. */
    ASSERT_EQ(hlf_block_parse(NULL, 0, &blk, &e), HLF_EPROTO);
    ASSERT_STR_EQ(e.text, "block: no BlockHeader");
    ASSERT_EQ(hlf_block_parse(NULL, 1, &blk, &e), HLF_EINVAL);
    ASSERT_EQ(hlf_block_parse(junk, 1, NULL, &e), HLF_EINVAL);
    ASSERT_EQ(hlf_block_parse(junk, 1, NULL, NULL), HLF_EINVAL);

    endorser_tx(&tx, "x");
    env = bg_envelope(&tx, &elen);
    memset(&b, 0, sizeof(b));
    b.number = 7;
    b.envs = &env;
    b.lens = &elen;
    b.n = 1;
    b.no_header = 1;
    raw = bg_block(&b, &len);
    ASSERT_EQ(hlf_block_parse(raw, len, &blk, &e), HLF_EPROTO);
    ASSERT_STR_EQ(e.text, "block: no BlockHeader");
    ASSERT_NULL(blk);
    free(raw);
    b.no_header = 0;
    b.no_data = 1;
    raw = bg_block(&b, &len);
    ASSERT_EQ(hlf_block_parse(raw, len, &blk, NULL), HLF_EPROTO);
    ASSERT_EQ(hlf_block_parse(raw, len, &blk, &e), HLF_EPROTO);
    ASSERT_STR_EQ(e.text, "block 7: no BlockData");
    free(raw);
    free(env);
}

TEST_IMPL(block_truncated_and_flipped)
{
    uint8_t *raw, *copy;
    hlf_block_t *blk;
    hlf_error_t e;
    size_t len, i, ok = 0;
    int rc, bit;

    /* Every prefix of a block: decoded or refused, never more. */
    raw = bg_simple_block(3, 3, &len);
    for (i = 0; i < len; i++) {
        copy = malloc(i + 1);
        ASSERT_NOT_NULL(copy);
        memcpy(copy, raw, i);
        rc = hlf_block_parse(copy, i, &blk, &e);
        ASSERT(rc == HLF_OK || rc == HLF_EPROTO);
        if (rc == HLF_OK) {
            ASSERT_LE(blk->ntx, 3);
            ok++;
        } else {
            ASSERT_NULL(blk);
        }
        hlf_block_free(blk);
        free(copy);
    }
    /* Only the prefix that ends right after BlockData decodes (as a block
     * without metadata); any other cut is inside a field or before it. */
    ASSERT_EQ(ok, 1);
    /* Every single-bit flip. */
    copy = malloc(len);
    ASSERT_NOT_NULL(copy);
    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(copy, raw, len);
            copy[i] ^= (uint8_t)(1u << bit);
            rc = hlf_block_parse(copy, len, &blk, &e);
            ASSERT(rc == HLF_OK || rc == HLF_EPROTO);
            if (rc == HLF_OK) {
                size_t k;

                for (k = 0; k < blk->ntx; k++)
                    ASSERT_EQ(blk->txs[k].index, k);
            }
            hlf_block_free(blk);
        }
    }
    free(copy);
    free(raw);
}

TEST_IMPL(block_header_type_names)
{
    ASSERT_STR_EQ(hlf_header_type_name(0), "MESSAGE");
    ASSERT_STR_EQ(hlf_header_type_name(1), "CONFIG");
    ASSERT_STR_EQ(hlf_header_type_name(2), "CONFIG_UPDATE");
    ASSERT_STR_EQ(hlf_header_type_name(3), "ENDORSER_TRANSACTION");
    ASSERT_STR_EQ(hlf_header_type_name(4), "ORDERER_TRANSACTION");
    ASSERT_STR_EQ(hlf_header_type_name(5), "DELIVER_SEEK_INFO");
    ASSERT_STR_EQ(hlf_header_type_name(6), "CHAINCODE_PACKAGE");
    ASSERT_STR_EQ(hlf_header_type_name(7), "UNKNOWN");
    ASSERT_STR_EQ(hlf_header_type_name(-1), "UNKNOWN");
    ASSERT_EQ(HLF_HEADER_TYPE_ENDORSER_TRANSACTION, 3);
}

/* ------------------------------------------------------------------------
 * Allocation failures
 * ---------------------------------------------------------------------- */

static long alloc_count;
static long fail_at; /* 0: never */

static void *
failing_malloc(size_t n)
{
    return ++alloc_count == fail_at ? NULL : malloc(n);
}

static void *
failing_realloc(void *p, size_t n)
{
    return ++alloc_count == fail_at ? NULL : realloc(p, n);
}

TEST_IMPL(block_out_of_memory_sweep)
{
    static const uint8_t codes[] = {0, 2, 0};
    uint8_t *envs[3], *raw;
    size_t lens[3], len, i;
    hlf_block_t *blk;
    hlf_error_t e;
    bg_block_t b;
    bg_tx_t txs[3];
    long n;
    int rc;

    endorser_tx(&txs[0], "o0");
    endorser_tx(&txs[1], "o1");
    txs[1].broken = BG_CHAINCODE_ACTION;
    endorser_tx(&txs[2], "o2");
    for (i = 0; i < 3; i++)
        envs[i] = bg_envelope(&txs[i], &lens[i]);
    memset(&b, 0, sizeof(b));
    b.number = 1;
    b.envs = envs;
    b.lens = lens;
    b.n = 3;
    b.metadata = 1;
    b.codes = codes;
    b.ncodes = 3;
    raw = bg_block(&b, &len);
    ASSERT_EQ(hlf_set_alloc_funcs(failing_malloc, failing_realloc, free),
              HLF_OK);
    for (n = 1;; n++) {
        alloc_count = 0;
        fail_at = n;
        rc = hlf_block_parse(raw, len, &blk, &e);
        fail_at = 0;
        if (rc == HLF_OK)
            break;
        /* Never mistaken for a malformed block or envelope. */
        ASSERT_EQ(rc, HLF_ENOMEM);
        ASSERT(strcmp(e.text, "block: out of memory") == 0 ||
               strcmp(e.text, "block 1: out of memory") == 0);
        ASSERT_NULL(blk);
    }
    ASSERT_GE(n, 40);
    check_endorser(&blk->txs[0], 0, "o0", 0);
    ASSERT_STR_EQ(blk->txs[1].error, "malformed ChaincodeAction");
    check_endorser(&blk->txs[2], 2, "o2", 0);
    hlf_block_free(blk);
    for (i = 0; i < 3; i++)
        free(envs[i]);
    free(raw);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(block_endorser_tx_with_event),
    TEST_ENTRY(block_config_tx),
    TEST_ENTRY(block_several_txs_and_codes),
    TEST_ENTRY(block_multiple_actions),
    TEST_ENTRY(block_validation_metadata),
    TEST_ENTRY(block_big_and_many),
    TEST_ENTRY(block_broken_layers),
    TEST_ENTRY(block_level_errors),
    TEST_ENTRY(block_truncated_and_flipped),
    TEST_ENTRY(block_header_type_names),
    TEST_ENTRY(block_out_of_memory_sweep),
};

TEST_MAIN(tests)
