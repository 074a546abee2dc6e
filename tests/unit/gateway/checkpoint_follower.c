/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the block follower (gateway/src/follower.c) resuming from
 * its checkpoint: what it publishes from real Fabric block encodings
 * (tests/unit/hlf/blockgen.c, parsed by libhlf's block parser), and that
 * across restarts, a checkpoint inside a block, a peer that disappears
 * mid-stream, a peer that is down, a peer that skips a block and a block
 * that cannot be trusted every event is published exactly once, in order.
 * Also the backoff between attempts, the ledger replay the follower
 * gives the hub, with failover, and the lag against the polled chain
 * height.
 *
 * The block source is an in-process fake of the Deliver client with one
 * shared ledger and per-peer faults; everything else is the real code.
 */
#include "blockgen.h"
#include "gwtest.h"
#include "hub.h"
#include "task.h"

#include "hlf/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The fake ledger and peers                                          */
/* ------------------------------------------------------------------ */

#define MAX_BLOCKS 64
#define MAX_PEERS 3
#define MAX_OPENS 256

typedef struct peer_s {
    int down;               /* open fails with EUNAVAIL */
    int fail_after;         /* > 0: a follow stream fails after n blocks */
    int fail_bounded_after; /* > 0: the same for bounded (replay) streams */
    int skip_block;         /* > 0: this block number is never sent */
    int height_down;        /* the chain height query fails */
    int heights;            /* chain height queries */
    int opens;
    int64_t open_ms[MAX_OPENS];
    uint64_t open_start[MAX_OPENS];
    int open_bounded[MAX_OPENS];
    char name[16];
} peer_t;

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint8_t *blocks[MAX_BLOCKS];
static size_t blens[MAX_BLOCKS];
static int nblocks;
static peer_t peers[MAX_PEERS];

typedef struct stream_s {
    size_t peer;
    uint64_t next;
    int has_stop;
    uint64_t stop;
    int delivered;
    int cancelled;
} stream_t;

static int
f_open(void *ud, size_t peer, uint64_t start, int has_stop, uint64_t stop,
       void **out, hlf_error_t *err)
{
    stream_t *s;
    peer_t *p = &peers[peer];

    ASSERT(ud == (void *)peers);
    pthread_mutex_lock(&lk);
    if (p->opens < MAX_OPENS) {
        p->open_ms[p->opens] = gw_now_ms();
        p->open_start[p->opens] = start;
        p->open_bounded[p->opens] = has_stop;
    }
    p->opens++;
    if (p->down) {
        pthread_mutex_unlock(&lk);
        return hlf_error_set(err, HLF_EUNAVAIL, "%s is down", p->name);
    }
    pthread_mutex_unlock(&lk);
    s = calloc(1, sizeof(*s));
    ASSERT_NOT_NULL(s);
    s->peer = peer;
    s->next = start;
    s->has_stop = has_stop;
    s->stop = stop;
    *out = s;
    return HLF_OK;
}

static int
f_next(void *ud, void *vs, hlf_block_t **blk, hlf_error_t *err)
{
    stream_t *s = vs;
    peer_t *p = &peers[s->peer];
    int limit;

    (void)ud;
    pthread_mutex_lock(&lk);
    for (;;) {
        limit = s->has_stop ? p->fail_bounded_after : p->fail_after;
        if (s->cancelled) {
            pthread_mutex_unlock(&lk);
            return hlf_error_set(err, HLF_ECLOSED, "cancelled");
        }
        if (limit > 0 && s->delivered >= limit) {
            pthread_mutex_unlock(&lk);
            return hlf_error_set(err, HLF_EUNAVAIL, "%s went away",
                                 p->name);
        }
        if (s->has_stop && s->next > s->stop) {
            pthread_mutex_unlock(&lk);
            return 0;
        }
        if (p->skip_block > 0 && s->next == (uint64_t)p->skip_block)
            s->next++;
        if (s->next < (uint64_t)nblocks) {
            int rc = hlf_block_parse(blocks[s->next], blens[s->next], blk,
                                     err);

            ASSERT_EQ(rc, HLF_OK);
            s->next++;
            s->delivered++;
            pthread_mutex_unlock(&lk);
            return 1;
        }
        pthread_cond_wait(&cv, &lk);
    }
}

static void
f_cancel(void *ud, void *vs)
{
    stream_t *s = vs;

    (void)ud;
    pthread_mutex_lock(&lk);
    s->cancelled = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lk);
}

static void
f_close(void *ud, void *vs)
{
    (void)ud;
    free(vs);
}

static int
f_height(void *ud, size_t peer, uint64_t *height, hlf_error_t *err)
{
    peer_t *p = &peers[peer];

    ASSERT(ud == (void *)peers);
    pthread_mutex_lock(&lk);
    p->heights++;
    if (p->height_down) {
        pthread_mutex_unlock(&lk);
        return hlf_error_set(err, HLF_EUNAVAIL, "%s is down", p->name);
    }
    *height = (uint64_t)nblocks;
    pthread_mutex_unlock(&lk);
    return HLF_OK;
}

static const char *
f_peer_name(void *ud, size_t peer)
{
    (void)ud;
    return peers[peer].name;
}

static gw_blocksrc_t
source(size_t npeers)
{
    gw_blocksrc_t s;

    memset(&s, 0, sizeof(s));
    s.npeers = npeers;
    s.ud = peers;
    s.open = f_open;
    s.next = f_next;
    s.cancel = f_cancel;
    s.close = f_close;
    s.peer_name = f_peer_name;
    return s;
}

static void
peers_reset(void)
{
    size_t i;

    pthread_mutex_lock(&lk);
    memset(peers, 0, sizeof(peers));
    for (i = 0; i < MAX_PEERS; i++)
        snprintf(peers[i].name, sizeof(peers[i].name), "peer%zu", i);
    pthread_mutex_unlock(&lk);
}

/* ------------------------------------------------------------------ */
/* Blocks                                                             */
/* ------------------------------------------------------------------ */

/* What a block holds (see add_block). */
enum { TX_PER_BLOCK = 5 };

static char *
stored_event(uint64_t block, int tx)
{
    char *buf = malloc(512);

    ASSERT_NOT_NULL(buf);
    snprintf(buf, 512,
             "{\"TransactionId\":\"id-%llu-%d\",\"EventSubject\":\"US-%llu\","
             "\"System\":\"Property Listing Service\",\"SubjectType\":"
             "\"Property\",\"Entity\":\"Broker\",\"Event\":\"Listing\","
             "\"State\":\"Recorded\",\"Recorder\":\"ae1643\",\"Timestamp\":"
             "\"t\",\"Version\":\"1.3\",\"Application\":\"a\"}",
             (unsigned long long)block, tx, (unsigned long long)block);
    return buf;
}

/*
 * Block `number` (0: a config block with one CONFIG envelope). Others
 * hold five transactions:
 *   0 reso, VALID, event          -> published
 *   1 reso, MVCC_READ_CONFLICT    -> not
 *   2 chaincode "other", VALID    -> not
 *   3 reso, VALID, event          -> published (payload bad_payload if set)
 *   4 reso, VALID, no event       -> not
 * broken_tx0: transaction 0 has an undecodable action payload.
 */
static int no_metadata; /* make_block leaves out validation codes */

static uint8_t *
make_block(uint64_t number, int broken_tx0, const char *bad_payload,
           size_t *len)
{
    uint8_t *envs[TX_PER_BLOCK], codes[TX_PER_BLOCK], *out;
    size_t lens[TX_PER_BLOCK], n = 0, i;
    char txid[64], *payloads[TX_PER_BLOCK] = {0};
    bg_block_t b;
    bg_tx_t tx;

    for (i = 0; i < (number == 0 ? 1u : (size_t)TX_PER_BLOCK); i++) {
        memset(&tx, 0, sizeof(tx));
        snprintf(txid, sizeof(txid), "tx-%llu-%zu",
                 (unsigned long long)number, i);
        tx.type = number == 0 ? 1 : 3;
        tx.tx_id = txid;
        tx.channel = "reso-events";
        tx.ts_sec = 1700000000;
        tx.msp_id = i == 3 ? "MLSMSP" : "BrokerageMSP";
        tx.cert = "-----BEGIN CERTIFICATE-----\nMIIB\n"
                  "-----END CERTIFICATE-----\n";
        codes[n] = i == 1 ? 11 : 0;
        if (number > 0) {
            tx.nactions = 1;
            tx.actions[0].chaincode = i == 2 ? "other" : "reso";
            tx.actions[0].version = "1";
            tx.actions[0].status = 200;
            payloads[i] = stored_event(number, (int)i);
            if (i == 3 && bad_payload != NULL)
                snprintf(payloads[i], 512, "%s", bad_payload);
            if (i != 4) {
                tx.actions[0].event_name = "RecordEvent";
                tx.actions[0].event_payload = (const uint8_t *)payloads[i];
                tx.actions[0].event_len = strlen(payloads[i]);
            }
            if (i == 0 && broken_tx0)
                tx.broken = BG_ACTION_PAYLOAD;
        }
        envs[n] = bg_envelope(&tx, &lens[n]);
        n++;
    }
    memset(&b, 0, sizeof(b));
    b.number = number;
    b.envs = envs;
    b.lens = lens;
    b.n = n;
    b.metadata = !no_metadata;
    b.codes = codes;
    b.ncodes = n;
    out = bg_block(&b, len);
    for (i = 0; i < n; i++) {
        free(envs[i]);
        free(payloads[i]);
    }
    return out;
}

/* Append blocks until the ledger has `upto` + 1 of them. */
static void
grow_ledger(int upto)
{
    pthread_mutex_lock(&lk);
    while (nblocks <= upto) {
        ASSERT(nblocks < MAX_BLOCKS);
        blocks[nblocks] = make_block((uint64_t)nblocks, 0, NULL,
                                     &blens[nblocks]);
        nblocks++;
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&lk);
}

static void
replace_block(int number, int broken_tx0, const char *bad_payload)
{
    pthread_mutex_lock(&lk);
    free(blocks[number]);
    blocks[number] = make_block((uint64_t)number, broken_tx0, bad_payload,
                                &blens[number]);
    pthread_mutex_unlock(&lk);
}

static void
ledger_reset(void)
{
    int i;

    pthread_mutex_lock(&lk);
    for (i = 0; i < nblocks; i++)
        free(blocks[i]);
    nblocks = 0;
    pthread_mutex_unlock(&lk);
}

/* ------------------------------------------------------------------ */
/* Running a follower                                                 */
/* ------------------------------------------------------------------ */

typedef struct run_s {
    char *dir;
    gw_hub_t *hub;
    gw_hub_sub_t *sub;  /* everything published, from the start */
    gw_follower_t *f;
    uint64_t got[512];
    char txids[512][32];
    char msps[512][16];
    int n;
} run_t;

/* > 0: the next run_start gives the follower the fake's chain height,
 * polled this often. */
static int64_t height_poll_ms;

static void
run_start(run_t *r, const char *dir, size_t npeers, int64_t backoff_min,
          int64_t backoff_max)
{
    gw_follower_opts_t o;
    gw_hub_sub_opts_t so;
    gw_blocksrc_t src = source(npeers);
    hlf_error_t e;

    memset(r, 0, sizeof(*r));
    r->dir = strdup(dir);
    ASSERT_EQ(gw_hub_new(4, &r->hub), HLF_OK);
    memset(&o, 0, sizeof(o));
    o.channel = "reso-events";
    o.chaincode = "reso";
    o.state_dir = dir;
    o.src = &src;
    o.hub = r->hub;
    o.backoff_min_ms = backoff_min;
    o.backoff_max_ms = backoff_max;
    o.height_poll_ms = -1;
    if (height_poll_ms > 0) {
        src.height = f_height;
        o.height_poll_ms = height_poll_ms;
    }
    /* A live subscriber from the hub's start sees everything published.
     * It must exist before the follower's thread runs: a subscriber
     * without a position starts after the newest event, so one that
     * subscribed after the first publish silently missed it. That race
     * made checkpoint_inside_a_block flaky (its first block publishes at
     * once; the other tests first read the config block 0). Its queue
     * holds every event a test makes, so a test thread that is slow to
     * read never sends it to the ledger replay, whose extra opens of the
     * fake peers would upset the tests that count them. */
    memset(&so, 0, sizeof(so));
    so.flags = GW_HUB_SYNC | GW_HUB_SPILL;
    so.queue_max = 512;
    so.name = "test";
    ASSERT_EQ(gw_hub_subscribe(r->hub, &so, &r->sub, NULL), HLF_OK);
    hlf_error_clear(&e);
    if (gw_follower_start(&o, &r->f, &e) != HLF_OK)
        TEST__FAIL("follower: %s", e.text);
}

/* Collect events until there are `want` (or ms pass). */
static void
run_collect_for(run_t *r, int want, int64_t ms)
{
    int64_t deadline = gw_now_ms() + ms;

    while (r->n < want && gw_now_ms() < deadline) {
        gw_event_t *ev = NULL;
        hlf_error_t e;
        int rc;

        hlf_error_clear(&e);
        rc = gw_hub_sub_next(r->sub, &ev, &e);
        if (rc < 0)
            TEST__FAIL("next: %s", e.text);
        if (rc == 0) {
            gwt_sleep_ms(5);
            continue;
        }
        ASSERT(r->n < 512);
        r->got[r->n] = ev->sequence;
        snprintf(r->txids[r->n], sizeof(r->txids[0]), "%s", ev->txid);
        snprintf(r->msps[r->n], sizeof(r->msps[0]), "%s", ev->recorded_by);
        r->n++;
        gw_event_unref(ev);
    }
}

static void
run_collect(run_t *r, int want)
{
    run_collect_for(r, want, 5000);
}

/* Nothing beyond the r->n events so far turns up for a while. */
static void
run_no_more(run_t *r)
{
    int n = r->n;

    run_collect_for(r, n + 1, 150);
    ASSERT_EQ(r->n, n);
}

static void
run_stop(run_t *r)
{
    gw_hub_unsubscribe(r->sub);
    gw_hub_close(r->hub);
    gw_follower_free(r->f);
    gw_hub_free(r->hub);
    free(r->dir);
}

/* The events blocks first..last publish, in order: (b, 0) and (b, 3). */
static void
assert_events(const run_t *r, int from, uint64_t first, uint64_t last,
              int first_tx3_only)
{
    uint64_t b;
    int i = from;

    for (b = first; b <= last; b++) {
        if (!(b == first && first_tx3_only)) {
            ASSERT(i < r->n);
            ASSERT_EQ(r->got[i], GW_SEQ(b, 0));
            i++;
        }
        ASSERT(i < r->n);
        ASSERT_EQ(r->got[i], GW_SEQ(b, 3));
        i++;
    }
    ASSERT_EQ(i, r->n);
}

/* Everything after `after` that a new SYNC subscriber gets, into view. */
static void
read_after(run_t *r, uint64_t after, size_t qmax, run_t *view)
{
    gw_hub_sub_opts_t so;
    gw_hub_sub_t *s = NULL;

    memset(view, 0, sizeof(*view));
    memset(&so, 0, sizeof(so));
    so.has_after = 1;
    so.after = after;
    so.flags = GW_HUB_SYNC;
    so.queue_max = qmax;
    ASSERT_EQ(gw_hub_subscribe(r->hub, &so, &s, NULL), HLF_OK);
    for (;;) {
        gw_event_t *ev = NULL;
        hlf_error_t e;
        int rc;

        hlf_error_clear(&e);
        rc = gw_hub_sub_next(s, &ev, &e);
        if (rc < 0)
            TEST__FAIL("next: %s", e.text);
        if (rc == 0)
            break;
        ASSERT(view->n < 512);
        view->got[view->n++] = ev->sequence;
        gw_event_unref(ev);
    }
    gw_hub_unsubscribe(s);
}

static gw_checkpoint_t
saved(const char *dir)
{
    gw_checkpoint_t cp;

    ASSERT_EQ(gw_checkpoint_load(dir, "reso-events", &cp, NULL), HLF_OK);
    return cp;
}

/* Wait until the follower's checkpoint reaches block b. */
static void
wait_checkpoint(run_t *r, uint64_t b)
{
    int64_t deadline = gw_now_ms() + 5000;
    gw_follower_status_t st;

    do {
        gw_follower_status(r->f, &st);
        if (st.checkpoint.valid && st.checkpoint.block >= b)
            return;
        gwt_sleep_ms(5);
    } while (gw_now_ms() < deadline);
    TEST__FAIL("checkpoint stuck at block %llu (want %llu): %s",
               (unsigned long long)st.checkpoint.block,
               (unsigned long long)b, st.last_error);
}

/* Wait until the follower has had n streams fail. */
static void
wait_reconnects(run_t *r, uint64_t n)
{
    int64_t deadline = gw_now_ms() + 5000;
    gw_follower_status_t st;

    do {
        gw_follower_status(r->f, &st);
        if (st.reconnects >= n)
            return;
        gwt_sleep_ms(5);
    } while (gw_now_ms() < deadline);
    TEST__FAIL("%llu reconnects, want %llu",
               (unsigned long long)st.reconnects, (unsigned long long)n);
}

/* A fresh state dir and healthy peers. */
static char *
begin(void)
{
    peers_reset();
    return gwt_tmpdir();
}

/* Stop the run and remove everything it left. */
static void
finish(run_t *r, char *dir)
{
    run_stop(r);
    ledger_reset();
    gwt_rmrf(dir);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

typedef struct collect_s {
    uint64_t seqs[16];
    int n;
    int stop_at; /* return `ret` at this call (1-based), 0: never */
    int ret;
} collect_t;

static int
collect(void *ctx, gw_event_t *ev)
{
    collect_t *c = ctx;

    ASSERT(c->n < 16);
    c->seqs[c->n++] = ev->sequence;
    return c->n == c->stop_at ? c->ret : 0;
}

static hlf_block_t *
parsed(uint64_t number, int broken, int no_codes)
{
    hlf_block_t *blk = NULL;
    uint8_t *bytes;
    size_t len;

    no_metadata = no_codes;
    bytes = make_block(number, broken, NULL, &len);
    no_metadata = 0;
    ASSERT_EQ(hlf_block_parse(bytes, len, &blk, NULL), HLF_OK);
    free(bytes);
    return blk;
}

TEST_IMPL(block_events_selection)
{
    hlf_block_t *blk = parsed(7, 0, 0);
    uint64_t skipped = 0;
    collect_t c;
    hlf_error_t e;

    memset(&c, 0, sizeof(c));
    ASSERT_EQ(gw_block_events(blk, "reso", 0, 0, collect, &c, &skipped,
                              NULL), HLF_OK);
    ASSERT_EQ(c.n, 2);
    ASSERT_EQ(c.seqs[0], GW_SEQ(7, 0));
    ASSERT_EQ(c.seqs[1], GW_SEQ(7, 3));
    ASSERT_EQ(skipped, 0);
    /* Only the other chaincode's event. */
    memset(&c, 0, sizeof(c));
    ASSERT_EQ(gw_block_events(blk, "other", 0, 0, collect, &c, NULL, NULL),
              HLF_OK);
    ASSERT_EQ(c.n, 1);
    ASSERT_EQ(c.seqs[0], GW_SEQ(7, 2));
    /* Skipping what a checkpoint covers. */
    memset(&c, 0, sizeof(c));
    ASSERT_EQ(gw_block_events(blk, "reso", 1, 0, collect, &c, NULL, NULL),
              HLF_OK);
    ASSERT_EQ(c.n, 1);
    ASSERT_EQ(c.seqs[0], GW_SEQ(7, 3));
    memset(&c, 0, sizeof(c));
    ASSERT_EQ(gw_block_events(blk, "reso", 1, 3, collect, &c, NULL, NULL),
              HLF_OK);
    ASSERT_EQ(c.n, 0);
    /* The callback stops (> 0) or fails (< 0): returned as is. */
    memset(&c, 0, sizeof(c));
    c.stop_at = 1;
    c.ret = 1;
    ASSERT_EQ(gw_block_events(blk, "reso", 0, 0, collect, &c, NULL, NULL),
              1);
    ASSERT_EQ(c.n, 1);
    memset(&c, 0, sizeof(c));
    c.stop_at = 2;
    c.ret = HLF_ECLOSED;
    ASSERT_EQ(gw_block_events(blk, "reso", 0, 0, collect, &c, NULL, NULL),
              HLF_ECLOSED);
    ASSERT_EQ(gw_block_events(NULL, "reso", 0, 0, collect, &c, NULL, NULL),
              HLF_EINVAL);
    hlf_block_free(blk);

    /* Untrusted blocks: nothing is published from them. */
    blk = parsed(8, 1, 0);
    memset(&c, 0, sizeof(c));
    hlf_error_clear(&e);
    ASSERT_EQ(gw_block_events(blk, "reso", 0, 0, collect, &c, NULL, &e),
              HLF_EPROTO);
    ASSERT_EQ(c.n, 0);
    ASSERT(strstr(e.text, "block 8 tx 0 is VALID but unreadable") != NULL);
    hlf_block_free(blk);
    blk = parsed(9, 0, 1);
    ASSERT_EQ(blk->validated, 0);
    ASSERT_EQ(blk->ntx, 5);
    hlf_error_clear(&e);
    ASSERT_EQ(gw_block_events(blk, "reso", 0, 0, collect, &c, NULL, &e),
              HLF_EPROTO);
    ASSERT_EQ(c.n, 0);
    ASSERT(strstr(e.text, "block 9 carries no validation codes") != NULL);
    hlf_block_free(blk);
}

TEST_IMPL(follows_from_genesis)
{
    char *dir = begin();
    gw_follower_status_t st;
    gw_checkpoint_t cp;
    run_t r;

    grow_ledger(4);
    run_start(&r, dir, 1, 10, 40);
    run_collect(&r, 8);
    assert_events(&r, 0, 1, 4, 0);
    ASSERT_STR_EQ(r.txids[0], "tx-1-0");
    ASSERT_STR_EQ(r.msps[0], "BrokerageMSP");
    ASSERT_STR_EQ(r.txids[1], "tx-1-3");
    ASSERT_STR_EQ(r.msps[1], "MLSMSP");
    wait_checkpoint(&r, 4);
    cp = saved(dir);
    ASSERT_EQ(cp.block, 4);
    ASSERT_EQ(cp.tx_index, 4);
    /* New blocks are followed live. */
    grow_ledger(6);
    run_collect(&r, 12);
    assert_events(&r, 0, 1, 6, 0);
    wait_checkpoint(&r, 6);
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.connected, 1);
    ASSERT_EQ(st.events, 12);
    ASSERT_EQ(st.reconnects, 0);
    ASSERT_EQ(st.skipped, 0);
    ASSERT_EQ(st.checkpoint.block, 6);
    ASSERT_EQ(st.latest_block, 6);
    ASSERT_EQ(st.lag_blocks, 0);
    ASSERT_STR_EQ(st.peer_name, "peer0");
    ASSERT_STR_EQ(st.last_error, "");
    gw_follower_note_block(r.f, 9);
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.latest_block, 9);
    ASSERT_EQ(st.lag_blocks, 3);
    ASSERT_EQ(peers[0].opens, 1);
    ASSERT_EQ(peers[0].open_start[0], 0);
    finish(&r, dir);
}

TEST_IMPL(restart_resumes_exactly)
{
    char *dir = begin();
    gw_hub_stats_t hs;
    run_t r, view;

    grow_ledger(3);
    run_start(&r, dir, 1, 10, 40);
    run_collect(&r, 6);
    wait_checkpoint(&r, 3);
    run_stop(&r);
    ASSERT_EQ(saved(dir).block, 3);

    /* Restart: the hub starts at the checkpoint. Checked before new
     * blocks exist, as publishing more than the ring holds moves it. */
    run_start(&r, dir, 1, 10, 40);
    gw_hub_stats(r.hub, &hs);
    ASSERT_EQ(hs.covered_from, GW_SEQ(3, 4));
    ASSERT_EQ(hs.last_sequence, GW_SEQ(3, 4));
    /* Three more blocks: only their events, none again. */
    grow_ledger(6);
    run_collect(&r, 6);
    run_no_more(&r);
    assert_events(&r, 0, 4, 6, 0);
    ASSERT_EQ(peers[0].open_start[1], 3);

    /* A subscriber resuming from before the restart gets the older
     * events from the ledger (replay), then the new ones: exactly. */
    read_after(&r, GW_SEQ(1, 0), 3, &view);
    assert_events(&view, 0, 1, 6, 1);
    finish(&r, dir);
}

TEST_IMPL(checkpoint_inside_a_block)
{
    char *dir = begin();
    gw_checkpoint_t cp;
    run_t r;

    grow_ledger(3);
    /* Transaction 0 of block 2 was the last published before a crash. */
    cp.valid = 1;
    cp.block = 2;
    cp.tx_index = 0;
    ASSERT_EQ(gw_checkpoint_save(dir, "reso-events", &cp, NULL), HLF_OK);
    run_start(&r, dir, 1, 10, 40);
    run_collect(&r, 3);
    run_no_more(&r);
    assert_events(&r, 0, 2, 3, 1);
    finish(&r, dir);
}

TEST_IMPL(failover_when_peer_goes_away)
{
    char *dir = begin();
    gw_follower_status_t st;
    run_t r;

    peers[0].fail_after = 2; /* blocks 0 and 1, then gone */
    grow_ledger(5);
    run_start(&r, dir, 2, 10, 40);
    run_collect(&r, 10);
    run_no_more(&r);
    assert_events(&r, 0, 1, 5, 0);
    wait_checkpoint(&r, 5);
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.reconnects, 1);
    ASSERT_EQ(st.peer, 1);
    ASSERT_STR_EQ(st.peer_name, "peer1");
    ASSERT(strstr(st.last_error, "peer0: peer0 went away") != NULL);
    /* peer1 started at the checkpoint block (1), not at 0. */
    ASSERT_EQ(peers[1].opens, 1);
    ASSERT_EQ(peers[1].open_start[0], 1);
    finish(&r, dir);
}

TEST_IMPL(failover_when_peer_down)
{
    char *dir = begin();
    gw_follower_status_t st;
    run_t r;

    peers[0].down = 1;
    peers[1].down = 1;
    grow_ledger(3);
    run_start(&r, dir, 3, 10, 40);
    run_collect(&r, 6);
    assert_events(&r, 0, 1, 3, 0);
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.peer, 2);
    ASSERT_EQ(st.reconnects, 2);
    ASSERT_EQ(peers[0].opens, 1);
    ASSERT_EQ(peers[1].opens, 1);
    ASSERT_EQ(peers[2].opens, 1);
    finish(&r, dir);
}

/* The waits the follower announced ("retrying via X in N ms"), in
 * order, from its log file, up to the first "went away" failure, whose
 * wait goes to *went_away (-1 if none yet). Returns how many waits. The
 * file is read through its own FILE: the log's writer keeps appending. */
static int
logged_waits(const char *path, int64_t *w, int max, int64_t *went_away)
{
    char line[1024];
    int n = 0;
    FILE *fp = fopen(path, "r");

    *went_away = -1;
    ASSERT_NOT_NULL(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        char *at = strstr(line, "; retrying via ");
        long long ms;

        if (at == NULL || (at = strstr(at, " in ")) == NULL ||
            sscanf(at, " in %lld ms", &ms) != 1)
            continue;
        if (strstr(line, "went away") != NULL) {
            *went_away = ms;
            break; /* what follows belongs to the next round */
        }
        if (n < max)
            w[n++] = ms;
    }
    fclose(fp);
    return n;
}

TEST_IMPL(backoff_grows_caps_and_resets)
{
    char *dir = begin();
    int64_t t[64], w[64], went_away, deadline;
    int n = 0, nw, i, j, k;
    char logpath[1024];
    FILE *logf;
    run_t r;

    /* The follower's log says which wait it chose; the clock only gives
     * lower bounds (a loaded machine may sleep longer, never shorter).
     * Append mode: writes go to the end whatever the readers do. */
    snprintf(logpath, sizeof(logpath), "%s/follower.log", dir);
    logf = fopen(logpath, "a");
    ASSERT_NOT_NULL(logf);
    hlf_log_set_file(logf);
    peers[0].down = 1;
    peers[1].down = 1;
    grow_ledger(2);
    run_start(&r, dir, 2, 20, 80);
    deadline = gw_now_ms() + 10000;
    for (;;) {
        pthread_mutex_lock(&lk);
        k = peers[0].opens + peers[1].opens;
        pthread_mutex_unlock(&lk);
        if (k >= 7 || gw_now_ms() > deadline)
            break;
        gwt_sleep_ms(10);
    }
    ASSERT_GE(k, 7);
    /* Merge both peers' attempts in time order (they alternate). */
    pthread_mutex_lock(&lk);
    for (i = 0, j = 0; n < 64 && (i < peers[0].opens || j < peers[1].opens);)
        t[n++] = j >= peers[1].opens ||
                         (i < peers[0].opens &&
                          peers[0].open_ms[i] <= peers[1].open_ms[j])
                     ? peers[0].open_ms[i++]
                     : peers[1].open_ms[j++];
    ASSERT_LE(peers[1].opens, peers[0].opens);
    ASSERT_GE(peers[1].opens, peers[0].opens - 1);
    /* A peer comes back: events flow, then the backoff starts over. */
    peers[1].down = 0;
    peers[1].fail_after = 3;
    pthread_mutex_unlock(&lk);
    run_collect(&r, 4);
    assert_events(&r, 0, 1, 2, 0);
    /* Wait for the failure after the three blocks to be logged. */
    deadline = gw_now_ms() + 10000;
    do {
        gwt_sleep_ms(10);
        nw = logged_waits(logpath, w, 64, &went_away);
    } while (went_away < 0 && gw_now_ms() < deadline);
    /* hlf_log writes under its lock: once this returns, nothing writes
     * to logf any more. */
    hlf_log_set_file(NULL);
    fclose(logf);
    finish(&r, dir);

    /* 20, 40, 80, 80, ...: doubling, capped at the maximum. */
    ASSERT_GE(nw, n - 1);
    for (k = 0; k < nw; k++)
        ASSERT_EQ(w[k], k == 0 ? 20 : k == 1 ? 40 : 80);
    /* Attempt k came at least wait k - 1 after attempt k - 1. */
    for (k = 1; k < n; k++)
        ASSERT_GE(t[k] - t[k - 1], w[k - 1] - 2);
    /* A stream that delivered blocks resets the backoff. */
    ASSERT_EQ(went_away, 20);
}

TEST_IMPL(skipped_block_is_caught)
{
    char *dir = begin();
    gw_follower_status_t st;
    run_t r;

    peers[0].skip_block = 2;
    grow_ledger(4);
    run_start(&r, dir, 2, 10, 40);
    run_collect(&r, 8);
    run_no_more(&r);
    assert_events(&r, 0, 1, 4, 0);
    gw_follower_status(r.f, &st);
    ASSERT_GE(st.reconnects, 1);
    ASSERT(strstr(st.last_error, "block 3 arrived but the next one to "
                                 "process is 2") != NULL);
    finish(&r, dir);
}

TEST_IMPL(untrusted_block_stops_until_fixed)
{
    char *dir = begin();
    gw_follower_status_t st;
    run_t r;

    grow_ledger(4);
    replace_block(2, 1, NULL);
    run_start(&r, dir, 1, 10, 40);
    run_collect(&r, 2);
    /* Once block 2 was refused (a failed stream), block 1 is
     * checkpointed and nothing of block 2 (or later) was published. */
    wait_reconnects(&r, 1);
    run_no_more(&r);
    assert_events(&r, 0, 1, 1, 0);
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.checkpoint.block, 1);
    ASSERT(strstr(st.last_error, "VALID but unreadable") != NULL);
    replace_block(2, 0, NULL);
    run_collect(&r, 8);
    assert_events(&r, 0, 1, 4, 0);
    finish(&r, dir);
}

TEST_IMPL(unparseable_payload_is_a_gap)
{
    char *dir = begin();
    gw_follower_status_t st;
    run_t r;

    grow_ledger(3);
    replace_block(2, 0, "not a stored event");
    run_start(&r, dir, 1, 10, 40);
    run_collect(&r, 5);
    wait_checkpoint(&r, 3);
    ASSERT_EQ(r.n, 5);
    ASSERT_EQ(r.got[0], GW_SEQ(1, 0));
    ASSERT_EQ(r.got[1], GW_SEQ(1, 3));
    ASSERT_EQ(r.got[2], GW_SEQ(2, 0));
    ASSERT_EQ(r.got[3], GW_SEQ(3, 0));
    ASSERT_EQ(r.got[4], GW_SEQ(3, 3));
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.skipped, 1);
    ASSERT_EQ(st.events, 5);
    finish(&r, dir);
}

TEST_IMPL(replay_fails_over)
{
    char *dir = begin();
    int opens1;
    run_t r, view;

    peers[0].fail_bounded_after = 2;
    grow_ledger(8);
    run_start(&r, dir, 2, 10, 40);
    run_collect(&r, 16);
    wait_checkpoint(&r, 8);
    pthread_mutex_lock(&lk);
    opens1 = peers[1].opens;
    pthread_mutex_unlock(&lk);
    /* The ring (4) holds blocks 7..8; from event (1, 3) on is replayed:
     * peer0 gives up after two blocks, peer1 continues after the last
     * event peer0 delivered. */
    read_after(&r, GW_SEQ(1, 0), 64, &view);
    assert_events(&view, 0, 1, 8, 1);
    pthread_mutex_lock(&lk);
    ASSERT_EQ(peers[1].opens, opens1 + 1);
    ASSERT_EQ(peers[1].open_bounded[opens1], 1);
    /* peer0 delivered blocks 1 and 2: peer1 resumes at block 2. */
    ASSERT_EQ(peers[1].open_start[opens1], 2);
    pthread_mutex_unlock(&lk);
    finish(&r, dir);
}

/* Wait until the follower knows block b exists. */
static void
wait_latest(run_t *r, uint64_t b)
{
    int64_t deadline = gw_now_ms() + 5000;
    gw_follower_status_t st;

    do {
        gw_follower_status(r->f, &st);
        if (st.latest_block >= b)
            return;
        gwt_sleep_ms(5);
    } while (gw_now_ms() < deadline);
    TEST__FAIL("latest block stuck at %llu (want %llu)",
               (unsigned long long)st.latest_block, (unsigned long long)b);
}

TEST_IMPL(lag_from_chain_height)
{
    char *dir = begin();
    gw_follower_status_t st;
    gw_checkpoint_t cp;
    run_t r;

    /* Blocks 0..6 exist; the checkpoint says 2 is done. Both peers'
     * Deliver is down; only peer1 answers the height query. */
    grow_ledger(6);
    cp.valid = 1;
    cp.block = 2;
    cp.tx_index = 4;
    ASSERT_EQ(gw_checkpoint_save(dir, "reso-events", &cp, NULL), HLF_OK);
    peers[0].down = 1;
    peers[1].down = 1;
    peers[0].height_down = 1;
    height_poll_ms = 20;
    run_start(&r, dir, 2, 10, 40);
    height_poll_ms = 0;
    wait_latest(&r, 6);
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.connected, 0);
    ASSERT_EQ(st.checkpoint.block, 2);
    ASSERT_EQ(st.latest_block, 6);
    ASSERT_EQ(st.lag_blocks, 4);
    ASSERT_EQ(r.n, 0);
    pthread_mutex_lock(&lk);
    ASSERT_GE(peers[0].heights, 1);
    ASSERT_GE(peers[1].heights, 1);
    pthread_mutex_unlock(&lk);

    /* peer1's Deliver is back: the follower catches up, lag 0. */
    pthread_mutex_lock(&lk);
    peers[1].down = 0;
    pthread_mutex_unlock(&lk);
    run_collect(&r, 8);
    assert_events(&r, 0, 3, 6, 0);
    wait_checkpoint(&r, 6);
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.latest_block, 6);
    ASSERT_EQ(st.lag_blocks, 0);

    /* The chain grows: once followed, the lag is 0 again. */
    grow_ledger(9);
    run_collect(&r, 14);
    assert_events(&r, 0, 3, 9, 0);
    wait_checkpoint(&r, 9);
    wait_latest(&r, 9);
    gw_follower_status(r.f, &st);
    ASSERT_EQ(st.checkpoint.block, 9);
    ASSERT_EQ(st.latest_block, 9);
    ASSERT_EQ(st.lag_blocks, 0);
    finish(&r, dir);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(block_events_selection),
    TEST_ENTRY(follows_from_genesis),
    TEST_ENTRY(restart_resumes_exactly),
    TEST_ENTRY(checkpoint_inside_a_block),
    TEST_ENTRY(failover_when_peer_goes_away),
    TEST_ENTRY(failover_when_peer_down),
    TEST_ENTRY(backoff_grows_caps_and_resets),
    TEST_ENTRY(skipped_block_is_caught),
    TEST_ENTRY(untrusted_block_stops_until_fixed),
    TEST_ENTRY(unparseable_payload_is_a_gap),
    TEST_ENTRY(replay_fails_over),
    TEST_ENTRY(lag_from_chain_height),
};

TEST_MAIN(tests)
