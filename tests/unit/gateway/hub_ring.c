/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the hub's fan-out (gateway/src/hub.c): live delivery in
 * order, resume from a sequence out of the ring, resume from further back
 * through the ledger replay (an in-process fake replay source holding
 * every event published) in chunks and while new events arrive, a ring
 * that overtakes a slow reader, the drop of a slow subscriber without
 * slowing the others, GW_HUB_SPILL, notifications, closing, and a
 * multi-threaded run in which every subscriber must see exactly the
 * events after its start, in order.
 */
#include "hub.h"
#include "task.h"

#include "hlf/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Events and the fake ledger                                         */
/* ------------------------------------------------------------------ */

static const char *const STATES[] = {"Recorded", "Closed", "Active"};

/* Event number i: block i + 1, tx i % 3, State STATES[i % 3]. */
static uint64_t
seq_of(int i)
{
    return GW_SEQ((uint64_t)i + 1, (uint32_t)(i % 3));
}

static gw_event_t *
make_event(int i)
{
    char buf[512], txid[32];
    gw_event_t *ev = NULL;

    snprintf(buf, sizeof(buf),
             "{\"TransactionId\":\"id-%d\",\"EventSubject\":\"US-%d\","
             "\"System\":\"Property Listing Service\",\"SubjectType\":"
             "\"Property\",\"Entity\":\"Broker\",\"Event\":\"Listing\","
             "\"State\":\"%s\",\"Recorder\":\"r1\"}", i, i % 5,
             STATES[i % 3]);
    snprintf(txid, sizeof(txid), "tx-%d", i);
    ASSERT_EQ(gw_event_new((uint64_t)i + 1, (uint32_t)(i % 3), txid, "M",
                           (const uint8_t *)buf, strlen(buf), &ev, NULL),
              HLF_OK);
    return ev;
}

/* The ledger: every event ever published, for the replay source. */
#define LEDGER_MAX 20000
static gw_event_t *ledger[LEDGER_MAX];
static atomic_int nledger;
static atomic_int replay_calls;
static atomic_int replay_fail_next; /* fail this many calls */
static atomic_int replay_delay_ms;

static int
fake_replay(void *ud, uint64_t after, uint64_t upto, gw_hub_emit_fn emit,
            void *ctx, hlf_error_t *err)
{
    int i, n = atomic_load(&nledger);

    ASSERT(ud == (void *)ledger);
    atomic_fetch_add(&replay_calls, 1);
    if (atomic_load(&replay_fail_next) > 0) {
        atomic_fetch_sub(&replay_fail_next, 1);
        return hlf_error_set(err, HLF_EUNAVAIL, "fake peer down");
    }
    if (atomic_load(&replay_delay_ms) > 0)
        usleep((useconds_t)atomic_load(&replay_delay_ms) * 1000);
    for (i = 0; i < n; i++) {
        if (ledger[i]->sequence <= after)
            continue;
        if (ledger[i]->sequence > upto)
            break;
        if (emit(ctx, ledger[i]) != 0)
            break;
    }
    return HLF_OK;
}

/* Publish event i (and record it in the ledger). */
static void
publish(gw_hub_t *hub, int i)
{
    gw_event_t *ev = make_event(i);

    ASSERT_EQ(gw_hub_publish(hub, ev), HLF_OK);
    ASSERT(atomic_load(&nledger) < LEDGER_MAX);
    ledger[atomic_load(&nledger)] = ev;
    atomic_fetch_add(&nledger, 1);
}

static void
ledger_free(void)
{
    int i;

    for (i = 0; i < atomic_load(&nledger); i++)
        gw_event_unref(ledger[i]);
    atomic_store(&nledger, 0);
}

static gw_hub_t *
hub_new(size_t ring, int with_replay)
{
    gw_hub_t *hub = NULL;

    ASSERT_EQ(gw_hub_new(ring, &hub), HLF_OK);
    if (with_replay)
        gw_hub_set_replay(hub, fake_replay, ledger);
    return hub;
}

/* ------------------------------------------------------------------ */
/* Waiting consumers                                                  */
/* ------------------------------------------------------------------ */

typedef struct waiter_s {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int signalled;
    atomic_int notifies;
} waiter_t;

static void
waiter_init(waiter_t *w)
{
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->signalled = 0;
    atomic_init(&w->notifies, 0);
}

static void
waiter_dispose(waiter_t *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

static void
waiter_notify(void *ud)
{
    waiter_t *w = ud;

    atomic_fetch_add(&w->notifies, 1);
    pthread_mutex_lock(&w->lock);
    w->signalled = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Wait up to ms for a notification; returns 1 if one came. */
static int
waiter_wait(waiter_t *w, int64_t ms)
{
    struct timespec ts;
    int got;

    gw_abstime_in(&ts, ms);
    pthread_mutex_lock(&w->lock);
    while (!w->signalled &&
           pthread_cond_timedwait(&w->cond, &w->lock, &ts) == 0)
        ;
    got = w->signalled;
    w->signalled = 0;
    pthread_mutex_unlock(&w->lock);
    return got;
}

static gw_hub_sub_t *
subscribe(gw_hub_t *hub, int has_after, uint64_t after, size_t qmax,
          unsigned flags, waiter_t *w, gw_filter_t *filter)
{
    gw_hub_sub_opts_t o;
    gw_hub_sub_t *sub = NULL;
    hlf_error_t e;

    memset(&o, 0, sizeof(o));
    o.filter = filter;
    o.has_after = has_after;
    o.after = after;
    o.queue_max = qmax;
    o.flags = flags;
    o.notify = w != NULL ? waiter_notify : NULL;
    o.ud = w;
    o.name = "test";
    hlf_error_clear(&e);
    if (gw_hub_subscribe(hub, &o, &sub, &e) != HLF_OK)
        TEST__FAIL("subscribe: %s", e.text);
    return sub;
}

/*
 * Read events until `count` arrived (waiting on w when next says 0, at
 * most 5 s of silence), appending their sequences to out. Returns how
 * many were read.
 */
static int
read_n(gw_hub_sub_t *sub, waiter_t *w, int count, uint64_t *out)
{
    int n = 0;

    while (n < count) {
        gw_event_t *ev = NULL;
        hlf_error_t e;
        int rc;

        hlf_error_clear(&e);
        rc = gw_hub_sub_next(sub, &ev, &e);
        if (rc == 1) {
            out[n++] = ev->sequence;
            gw_event_unref(ev);
            continue;
        }
        if (rc < 0)
            TEST__FAIL("next: %s (%d) after %d events", e.text, rc, n);
        if (w == NULL || !waiter_wait(w, 5000))
            break;
    }
    return n;
}

/* Assert out[0..n) == seq_of(first..first+n), i.e. exactly in order. */
static void
assert_run(const uint64_t *got, int n, int first)
{
    int i;

    for (i = 0; i < n; i++)
        if (got[i] != seq_of(first + i))
            TEST__FAIL("event %d: got sequence %llu, want %llu (event %d)",
                       i, (unsigned long long)got[i],
                       (unsigned long long)seq_of(first + i), first + i);
}

/* Nothing more right now. */
static void
assert_idle(gw_hub_sub_t *sub)
{
    gw_event_t *ev = NULL;

    ASSERT_EQ(gw_hub_sub_next(sub, &ev, NULL), 0);
    ASSERT_NULL(ev);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

TEST_IMPL(live_in_order)
{
    gw_hub_t *hub = hub_new(16, 0);
    gw_hub_sub_t *a, *b;
    waiter_t wa;
    uint64_t got[64];
    gw_hub_stats_t st;
    int i;

    waiter_init(&wa);
    a = subscribe(hub, 0, 0, 0, 0, &wa, NULL);
    b = subscribe(hub, 0, 0, 0, 0, &wa, NULL);
    assert_idle(a);
    ASSERT_EQ(atomic_load(&wa.notifies), 0);
    for (i = 0; i < 40; i++)
        publish(hub, i);
    /* a asked (next said 0) so it was notified once; b never asked. */
    ASSERT_EQ(atomic_load(&wa.notifies), 1);
    ASSERT_EQ(read_n(a, NULL, 64, got), 40);
    assert_run(got, 40, 0);
    ASSERT_EQ(read_n(b, NULL, 64, got), 40);
    assert_run(got, 40, 0);
    ASSERT_EQ(gw_hub_sub_cursor(a), seq_of(39));
    assert_idle(a);
    gw_hub_stats(hub, &st);
    ASSERT_EQ(st.published, 40);
    ASSERT_EQ(st.ring_events, 16);
    ASSERT_EQ(st.last_sequence, seq_of(39));
    ASSERT_EQ(st.covered_from, seq_of(23)); /* the last one evicted */
    ASSERT_EQ(st.subscribers, 2);
    ASSERT_EQ(st.dropped, 0);
    gw_hub_unsubscribe(a);
    gw_hub_unsubscribe(b);
    gw_hub_free(hub);
    ledger_free();
    waiter_dispose(&wa);
}

TEST_IMPL(publish_must_increase)
{
    gw_hub_t *hub = hub_new(4, 0);
    gw_event_t *e3 = make_event(3), *e1 = make_event(1);

    gw_hub_set_start(hub, seq_of(2));
    /* At or before the start: refused. */
    ASSERT_EQ(gw_hub_publish(hub, e1), HLF_EINVAL);
    ASSERT_EQ(gw_hub_publish(hub, e3), HLF_OK);
    ASSERT_EQ(gw_hub_publish(hub, e3), HLF_EINVAL);
    ASSERT_EQ(gw_hub_publish(hub, e1), HLF_EINVAL);
    ASSERT_EQ(gw_hub_publish(hub, NULL), HLF_EINVAL);
    gw_hub_close(hub);
    ASSERT_EQ(gw_hub_publish(hub, e1), HLF_ECLOSED);
    gw_event_unref(e1);
    gw_event_unref(e3);
    gw_hub_free(hub);
}

TEST_IMPL(resume_from_ring)
{
    gw_hub_t *hub = hub_new(8, 0);
    gw_hub_sub_t *s;
    waiter_t w;
    uint64_t got[64];
    int i;

    waiter_init(&w);
    for (i = 0; i < 20; i++)
        publish(hub, i);
    /* The ring holds events 12..19; resume after 14: 15..19. */
    s = subscribe(hub, 1, seq_of(14), 0, 0, &w, NULL);
    ASSERT_EQ(read_n(s, NULL, 64, got), 5);
    assert_run(got, 5, 15);
    /* Caught up: the next ones are pushed live, then nothing more. */
    for (i = 20; i < 25; i++)
        publish(hub, i);
    ASSERT_EQ(atomic_load(&w.notifies), 1);
    ASSERT_EQ(read_n(s, NULL, 64, got), 5);
    assert_run(got, 5, 20);
    assert_idle(s);
    gw_hub_unsubscribe(s);

    /* Exactly at the oldest ring event's predecessor: all of the ring. */
    s = subscribe(hub, 1, seq_of(16), 0, 0, &w, NULL);
    ASSERT_EQ(read_n(s, NULL, 64, got), 8);
    assert_run(got, 8, 17);
    gw_hub_unsubscribe(s);
    /* At the newest: nothing until the next publish. */
    s = subscribe(hub, 1, seq_of(24), 0, 0, &w, NULL);
    assert_idle(s);
    publish(hub, 25);
    ASSERT_EQ(read_n(s, NULL, 64, got), 1);
    assert_run(got, 1, 25);
    gw_hub_unsubscribe(s);
    /* After a sequence not published yet: only later events. */
    s = subscribe(hub, 1, seq_of(27), 0, 0, &w, NULL);
    publish(hub, 26);
    publish(hub, 27);
    publish(hub, 28);
    ASSERT_EQ(read_n(s, NULL, 64, got), 1);
    assert_run(got, 1, 28);
    gw_hub_unsubscribe(s);
    gw_hub_free(hub);
    ledger_free();
    waiter_dispose(&w);
}

TEST_IMPL(older_than_ring_needs_replay)
{
    gw_hub_t *hub = hub_new(4, 0);
    gw_hub_sub_opts_t o;
    gw_hub_sub_t *s = (gw_hub_sub_t *)1;
    waiter_t w;
    hlf_error_t e;
    int i;

    waiter_init(&w);
    for (i = 0; i < 10; i++)
        publish(hub, i);
    memset(&o, 0, sizeof(o));
    o.has_after = 1;
    o.after = seq_of(2);
    o.notify = waiter_notify;
    o.ud = &w;
    hlf_error_clear(&e);
    ASSERT_EQ(gw_hub_subscribe(hub, &o, &s, &e), HLF_ENOTFOUND);
    ASSERT_NULL(s);
    ASSERT(strstr(e.text, "no longer in memory") != NULL);
    /* notify is required unless GW_HUB_SYNC. */
    o.notify = NULL;
    o.has_after = 0;
    ASSERT_EQ(gw_hub_subscribe(hub, &o, &s, &e), HLF_EINVAL);
    gw_hub_free(hub);
    ledger_free();
    waiter_dispose(&w);
}

/* Resume through the ledger in chunks of 3, on the pool or inline. */
static void
replay_resume(unsigned flags)
{
    gw_hub_t *hub = hub_new(4, 1);
    gw_hub_sub_t *s;
    waiter_t w;
    uint64_t got[128];
    gw_hub_stats_t st;
    int i, n;

    waiter_init(&w);
    atomic_store(&replay_calls, 0);
    for (i = 0; i < 30; i++)
        publish(hub, i);
    /* Ring: 26..29. After event 3: 4..25 from the ledger, then the ring. */
    s = subscribe(hub, 1, seq_of(3), 3, flags,
                  (flags & GW_HUB_SYNC) ? NULL : &w, NULL);
    n = read_n(s, (flags & GW_HUB_SYNC) ? NULL : &w, 26, got);
    ASSERT_EQ(n, 26);
    assert_run(got, 26, 4);
    /* Chunks hold at most 3 events: 22 replayed need >= 8 rounds. */
    ASSERT_GE(atomic_load(&replay_calls), 8);
    gw_hub_stats(hub, &st);
    ASSERT_EQ(st.replays, (uint64_t)atomic_load(&replay_calls));
    assert_idle(s);
    /* Live afterwards. */
    publish(hub, 30);
    n = read_n(s, (flags & GW_HUB_SYNC) ? NULL : &w, 1, got);
    ASSERT_EQ(n, 1);
    assert_run(got, 1, 30);
    gw_hub_unsubscribe(s);
    gw_hub_free(hub);
    ledger_free();
    waiter_dispose(&w);
}

TEST_IMPL(resume_from_ledger_async)
{
    ASSERT_EQ(gw_pool_start(2, 100), HLF_OK);
    replay_resume(0);
    gw_pool_stop();
}

TEST_IMPL(resume_from_ledger_sync)
{
    replay_resume(GW_HUB_SYNC);
}

TEST_IMPL(resume_while_publishing)
{
    /* The ring moves on while the subscriber replays: it must go back to
     * the ledger for what was evicted meanwhile, then join live. */
    gw_hub_t *hub = hub_new(4, 1);
    gw_hub_sub_t *s;
    waiter_t w;
    uint64_t got[512];
    int i, n = 0;

    ASSERT_EQ(gw_pool_start(2, 100), HLF_OK);
    waiter_init(&w);
    for (i = 0; i < 20; i++)
        publish(hub, i);
    atomic_store(&replay_delay_ms, 5);
    s = subscribe(hub, 1, seq_of(0), 2, 0, &w, NULL);
    for (i = 20; i < 200; i++) {
        publish(hub, i);
        if (i % 10 == 0)
            n += read_n(s, NULL, 199 - n, got + n);
    }
    atomic_store(&replay_delay_ms, 0);
    n += read_n(s, &w, 199 - n, got + n);
    ASSERT_EQ(n, 199);
    assert_run(got, 199, 1);
    assert_idle(s);
    gw_hub_unsubscribe(s);
    gw_hub_free(hub);
    gw_pool_stop();
    ledger_free();
    waiter_dispose(&w);
}

TEST_IMPL(ring_overtakes_reader)
{
    /* A subscriber reading the ring slowly loses its place to eviction
     * and continues from the ledger without a gap. */
    gw_hub_t *hub = hub_new(4, 1);
    gw_hub_sub_t *s;
    uint64_t got[64];
    int i;

    for (i = 0; i < 8; i++)
        publish(hub, i);
    s = subscribe(hub, 1, seq_of(4), 0, GW_HUB_SYNC, NULL, NULL);
    ASSERT_EQ(read_n(s, NULL, 1, got), 1);
    assert_run(got, 1, 5);
    atomic_store(&replay_calls, 0);
    for (i = 8; i < 20; i++)
        publish(hub, i);
    ASSERT_EQ(read_n(s, NULL, 64, got), 14);
    assert_run(got, 14, 6);
    ASSERT_GE(atomic_load(&replay_calls), 1);
    gw_hub_unsubscribe(s);
    gw_hub_free(hub);
    ledger_free();
}

TEST_IMPL(filtered_resume)
{
    gw_hub_t *hub = hub_new(4, 1);
    gw_filter_t *f = NULL;
    gw_hub_sub_t *s;
    uint64_t got[64];
    int i, n;

    for (i = 0; i < 30; i++)
        publish(hub, i);
    ASSERT_EQ(gw_filter_new(&f), HLF_OK);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_STATE, "Closed"), HLF_OK);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_EVENT_SUBJECT, "US-1"), HLF_OK);
    ASSERT_EQ(gw_filter_add(f, GW_EVF_EVENT_SUBJECT, "US-2"), HLF_OK);
    s = subscribe(hub, 1, seq_of(0), 2, GW_HUB_SYNC, NULL, f);
    n = read_n(s, NULL, 64, got);
    /* i % 3 == 1 (Closed) and i % 5 in {1, 2}, i in 1..29: 1, 7, 16, 22. */
    ASSERT_EQ(n, 4);
    ASSERT_EQ(got[0], seq_of(1));
    ASSERT_EQ(got[1], seq_of(7));
    ASSERT_EQ(got[2], seq_of(16));
    ASSERT_EQ(got[3], seq_of(22));
    /* The cursor is the last event returned; non-matching live events
     * are skipped silently. */
    ASSERT_EQ(gw_hub_sub_cursor(s), seq_of(22));
    publish(hub, 30); /* Recorded */
    publish(hub, 32); /* Active */
    assert_idle(s);
    gw_hub_unsubscribe(s);
    gw_hub_free(hub);
    ledger_free();
}

TEST_IMPL(slow_subscriber_dropped)
{
    gw_hub_t *hub = hub_new(64, 0);
    gw_hub_sub_t *slow, *fast;
    waiter_t ws, wf;
    uint64_t got[64];
    gw_event_t *ev = (gw_event_t *)1;
    hlf_error_t e;
    gw_hub_stats_t st;
    int i, n = 0;

    waiter_init(&ws);
    waiter_init(&wf);
    slow = subscribe(hub, 0, 0, 4, 0, &ws, NULL);
    fast = subscribe(hub, 0, 0, 4, 0, &wf, NULL);
    assert_idle(slow);
    for (i = 0; i < 10; i++) {
        publish(hub, i);
        n += read_n(fast, NULL, 64, got + n);
    }
    ASSERT_EQ(n, 10);
    assert_run(got, 10, 0);
    /* slow was notified once for the first event and never read: its
     * fifth pending event overflowed the queue of 4. */
    hlf_error_clear(&e);
    ASSERT_EQ(gw_hub_sub_next(slow, &ev, &e), HLF_ETOOBIG);
    ASSERT_NULL(ev);
    ASSERT(strstr(e.text, "too slow") != NULL);
    ASSERT(strstr(e.text, "after sequence 0") != NULL);
    ASSERT_EQ(gw_hub_sub_next(slow, &ev, &e), HLF_ETOOBIG);
    gw_hub_stats(hub, &st);
    ASSERT_EQ(st.dropped, 1);
    ASSERT_EQ(atomic_load(&ws.notifies), 1);
    /* The fast one goes on. */
    publish(hub, 10);
    ASSERT_EQ(read_n(fast, NULL, 64, got), 1);
    assert_run(got, 1, 10);
    /* Resubscribing from the cursor gets exactly what was missed. */
    gw_hub_unsubscribe(slow);
    slow = subscribe(hub, 1, 0, 4, GW_HUB_SPILL, &ws, NULL);
    ASSERT_EQ(read_n(slow, NULL, 64, got), 11);
    assert_run(got, 11, 0);
    gw_hub_unsubscribe(slow);
    gw_hub_unsubscribe(fast);
    gw_hub_free(hub);
    ledger_free();
    waiter_dispose(&ws);
    waiter_dispose(&wf);
}

TEST_IMPL(spill_never_drops)
{
    gw_hub_t *hub = hub_new(8, 1);
    gw_hub_sub_t *s;
    uint64_t got[128];
    gw_hub_stats_t st;
    int i;

    s = subscribe(hub, 0, 0, 2, GW_HUB_SPILL | GW_HUB_SYNC, NULL, NULL);
    assert_idle(s);
    /* 50 events with a queue of 2 and a ring of 8: queue, then ring,
     * then ledger. */
    for (i = 0; i < 50; i++)
        publish(hub, i);
    ASSERT_EQ(read_n(s, NULL, 128, got), 50);
    assert_run(got, 50, 0);
    gw_hub_stats(hub, &st);
    ASSERT_EQ(st.dropped, 0);
    assert_idle(s);
    gw_hub_unsubscribe(s);
    gw_hub_free(hub);
    ledger_free();
}

TEST_IMPL(replay_failure_reported)
{
    gw_hub_t *hub = hub_new(2, 1);
    gw_hub_sub_t *s;
    gw_event_t *ev = NULL;
    hlf_error_t e;
    int i;

    for (i = 0; i < 10; i++)
        publish(hub, i);
    atomic_store(&replay_fail_next, 1);
    s = subscribe(hub, 1, seq_of(1), 0, GW_HUB_SYNC, NULL, NULL);
    hlf_error_clear(&e);
    ASSERT_EQ(gw_hub_sub_next(s, &ev, &e), HLF_EUNAVAIL);
    ASSERT(strstr(e.text, "ledger replay after") != NULL);
    ASSERT(strstr(e.text, "fake peer down") != NULL);
    ASSERT_EQ(gw_hub_sub_next(s, &ev, &e), HLF_EUNAVAIL);
    gw_hub_unsubscribe(s);
    gw_hub_free(hub);
    ledger_free();
}

TEST_IMPL(close_wakes_and_refuses)
{
    gw_hub_t *hub = hub_new(4, 0);
    gw_hub_sub_t *s, *s2 = NULL;
    gw_hub_sub_opts_t o;
    gw_event_t *ev = NULL;
    waiter_t w;
    hlf_error_t e;

    waiter_init(&w);
    s = subscribe(hub, 0, 0, 0, 0, &w, NULL);
    assert_idle(s);
    gw_hub_close(hub);
    ASSERT_EQ(atomic_load(&w.notifies), 1);
    hlf_error_clear(&e);
    ASSERT_EQ(gw_hub_sub_next(s, &ev, &e), HLF_ECLOSED);
    ASSERT(strstr(e.text, "shutting down") != NULL);
    memset(&o, 0, sizeof(o));
    o.flags = GW_HUB_SYNC;
    ASSERT_EQ(gw_hub_subscribe(hub, &o, &s2, NULL), HLF_ECLOSED);
    ASSERT_NULL(s2);
    gw_hub_close(hub); /* idempotent */
    gw_hub_unsubscribe(s);
    gw_hub_unsubscribe(NULL);
    gw_hub_free(hub);
    gw_hub_free(NULL);
    waiter_dispose(&w);
}

/* ------------------------------------------------------------------ */
/* Threads                                                            */
/* ------------------------------------------------------------------ */

#define STRESS_EVENTS 3000

typedef struct reader_s {
    gw_hub_t *hub;
    int start;    /* -1: live from subscription; else after event start */
    int sync;
    int got;
    int first;    /* index of the first event seen */
    int ok;
    pthread_t thread;
} reader_t;

static void *
reader_main(void *arg)
{
    reader_t *r = arg;
    waiter_t w;
    gw_hub_sub_t *sub;
    int expect = -1;

    waiter_init(&w);
    sub = subscribe(r->hub, r->start >= 0, r->start >= 0 ? seq_of(r->start)
                                                         : 0,
                    16, r->sync ? GW_HUB_SPILL | GW_HUB_SYNC : 0, &w, NULL);
    if (r->start >= 0)
        expect = r->start + 1;
    r->ok = 1;
    while (r->ok) {
        gw_event_t *ev = NULL;
        int rc = gw_hub_sub_next(sub, &ev, NULL);

        if (rc == 1) {
            if (expect < 0) {
                /* Live start: anything, then strictly consecutive. */
                expect = (int)GW_SEQ_BLOCK(ev->sequence) - 1;
                r->first = expect;
            }
            if (ev->sequence != seq_of(expect))
                r->ok = 0;
            expect++;
            r->got++;
            gw_event_unref(ev);
            if (expect == STRESS_EVENTS)
                break;
            continue;
        }
        if (rc < 0) {
            /* A dropped (slow) live reader: legitimate, stop counting. */
            r->ok = rc == HLF_ETOOBIG ? 2 : 0;
            break;
        }
        if (!waiter_wait(&w, 10000))
            r->ok = 0;
    }
    if (r->start >= 0)
        r->first = r->start + 1;
    gw_hub_unsubscribe(sub);
    waiter_dispose(&w);
    return NULL;
}

TEST_IMPL(threads_exactly_once)
{
    gw_hub_t *hub = hub_new(32, 1);
    reader_t r[8];
    int i, dropped = 0;

    ASSERT_EQ(gw_pool_start(3, 1000), HLF_OK);
    for (i = 0; i < 100; i++)
        publish(hub, i);
    for (i = 0; i < 8; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].hub = hub;
        r[i].start = i == 0 ? -1 : (i * 13) % 100;
        r[i].sync = i % 2;
        ASSERT_EQ(pthread_create(&r[i].thread, NULL, reader_main, &r[i]), 0);
    }
    for (i = 100; i < STRESS_EVENTS; i++) {
        publish(hub, i);
        if (i % 100 == 0)
            usleep(1000);
    }
    for (i = 0; i < 8; i++) {
        ASSERT_EQ(pthread_join(r[i].thread, NULL), 0);
        if (r[i].ok == 2) {
            /* Only a pushed-to reader may be dropped, never a spilling
             * one, and what it got until then was in order. */
            ASSERT_EQ(r[i].sync, 0);
            dropped++;
            continue;
        }
        ASSERT_EQ(r[i].ok, 1);
        ASSERT_EQ(r[i].got, STRESS_EVENTS - r[i].first);
    }
    ASSERT_LE(dropped, 4);
    gw_hub_free(hub);
    gw_pool_stop();
    ledger_free();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(live_in_order),
    TEST_ENTRY(publish_must_increase),
    TEST_ENTRY(resume_from_ring),
    TEST_ENTRY(older_than_ring_needs_replay),
    TEST_ENTRY(resume_from_ledger_async),
    TEST_ENTRY(resume_from_ledger_sync),
    TEST_ENTRY(resume_while_publishing),
    TEST_ENTRY(ring_overtakes_reader),
    TEST_ENTRY(filtered_resume),
    TEST_ENTRY(slow_subscriber_dropped),
    TEST_ENTRY(spill_never_drops),
    TEST_ENTRY(replay_failure_reported),
    TEST_ENTRY(close_wakes_and_refuses),
    TEST_ENTRY(threads_exactly_once),
};

TEST_MAIN(tests)
