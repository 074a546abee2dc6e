/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Index ingest benchmark (docs/benchmarks.md, "Off-chain index"): how fast
 * the gateway's indexer module empties a backlog of committed events into
 * a real pouchdb-server. The events (default 100,000, RESO-shaped, with
 * Context on every other one) are published into a hub as the follower
 * would before the module starts, so the indexer meets a full backlog;
 * the clock runs from module start until the checkpoint reaches the last
 * event. The time is then split into the indexer's document building,
 * time inside curl (on the wire plus CouchDB's work), request encoding
 * and answer decoding; what is left is hub reads, locks and waits.
 *
 *   index_ingest [EVENTS] [BATCH]
 *
 * Needs pouchdb-server (scripts/setup.sh). Loopback only; the server is
 * a child process stopped by PID at the end.
 */
#include "couch.h"
#include "couchproc.h"
#include "gwtest.h"
#include "hub.h"
#include "index.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

extern const gw_module_t gw_module_index;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of process pid so far, from /proc. */
static double
proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* Fields after the command name in parentheses: state is field 3,
     * utime 14 and stime 15. */
    p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
                            "%*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Event i: ten per block. */
static gw_event_t *
make_event(long i)
{
    char buf[1024], txid[80];
    gw_event_t *ev = NULL;

    snprintf(buf, sizeof(buf),
             "{\"TransactionId\":\"%08lx-0000-8000-8000-%012lx\","
             "\"EventSubject\":\"MBR-%ld\",\"System\":\"Association "
             "Management System\",\"SubjectType\":\"Member\",\"Entity\":"
             "\"Agent\",\"Event\":\"License%ld\",\"State\":\"%s\","
             "\"Recorder\":\"urn:reso:recorder:association:%ld\","
             "\"Application\":\"ams\",\"Version\":\"1.3\",\"Timestamp\":"
             "\"Sat, 21 Nov 2026 %02ld:%02ld:%02ld GMT\"%s}",
             i, i, i % 5000, 1 + i % 3, i % 2 ? "Verified" : "Submitted",
             i % 7, (i / 3600) % 24, (i / 60) % 60, i % 60,
             i % 2 ? ",\"Context\":{\"Course\":\"Ethics\",\"Hours\":3}"
                   : "");
    snprintf(txid, sizeof(txid), "%064lx", i);
    if (gw_event_new((uint64_t)(i / 10) + 1, (uint32_t)(i % 10), txid,
                     "AssociationMSP", (const uint8_t *)buf, strlen(buf),
                     &ev, NULL) != HLF_OK) {
        fprintf(stderr, "index_ingest: event %ld refused\n", i);
        exit(1);
    }
    return ev;
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000, i;
    long batch = argc > 2 ? strtol(argv[2], NULL, 10) : 500;
    char text[1024];
    couchproc_t srv;
    gw_config_t *cfg;
    gw_hub_t *hub = NULL;
    gw_event_t *ev;
    gw_index_status_t st;
    gw_couch_stats_t cs;
    hlf_error_t e;
    struct rusage ru0, ru1;
    double t0, t1, secs, cpu, srv0, srv1;
    uint64_t last;
    int rc;

    if (n < 1 || batch < 1 || batch > 10000) {
        fprintf(stderr, "usage: index_ingest [EVENTS] [BATCH 1..10000]\n");
        return 2;
    }
    rc = couchproc_start(&srv);
    if (rc != 0) {
        fprintf(stderr, "index_ingest: cannot start pouchdb-server\n");
        return rc == COUCHPROC_MISSING ? 77 : 1;
    }
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\naccess_log no\n"
             "identity Association AssociationMSP /nonexistent/a\n"
             "couch_url %s\nindex_batch_max %ld\n", srv.url, batch);
    cfg = gwt_config(text);
    if (gw_hub_new((size_t)n + 1, &hub) != HLF_OK)
        return 1;
    gw_stream_install_hub(hub);
    last = 0;
    for (i = 0; i < n; i++) {
        ev = make_event(i);
        last = ev->sequence;
        if (gw_hub_publish(hub, ev) != HLF_OK)
            return 1;
        gw_event_unref(ev);
    }
    if (gw_module_index.init(cfg, &e) != HLF_OK)
        return 1;
    gwt_start(cfg);
    getrusage(RUSAGE_SELF, &ru0);
    srv0 = proc_cpu_s(srv.pid);
    t0 = now_s();
    if (gw_module_index.start(cfg, &e) != HLF_OK) {
        fprintf(stderr, "index_ingest: %s\n", e.text);
        return 1;
    }
    for (;;) {
        gw_index_status(&st);
        if (st.checkpoint == last)
            break;
        gwt_sleep_ms(20);
    }
    t1 = now_s();
    srv1 = proc_cpu_s(srv.pid);
    getrusage(RUSAGE_SELF, &ru1);
    gw_index_couch_stats(&cs);
    secs = t1 - t0;
    cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
          (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
          (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
          (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    printf("index_ingest: %ld events, batch %ld: %.2f s, %.0f events/s\n",
           n, batch, secs, (double)n / secs);
    printf("  written %" PRIu64 ", conflicts %" PRIu64 ", batches %"
           PRIu64 ", failures %" PRIu64 ", requests %" PRIu64 "\n",
           st.indexed, st.conflicts, st.batches, st.failures, cs.requests);
    printf("  inside curl (wire + CouchDB): %.2f s (%.1f%%)\n",
           (double)cs.http_ns / 1e9, 100.0 * (double)cs.http_ns / 1e9 / secs);
    printf("  building documents:           %.2f s (%.1f%%)\n",
           (double)st.doc_ns / 1e9, 100.0 * (double)st.doc_ns / 1e9 / secs);
    printf("  encoding request bodies:      %.2f s (%.1f%%)\n",
           (double)cs.encode_ns / 1e9,
           100.0 * (double)cs.encode_ns / 1e9 / secs);
    printf("  decoding answers:             %.2f s (%.1f%%)\n",
           (double)cs.decode_ns / 1e9,
           100.0 * (double)cs.decode_ns / 1e9 / secs);
    printf("  bytes sent %.1f MiB, received %.1f MiB; gateway CPU %.2f s "
           "(%.0f%% of one core)\n", (double)cs.bytes_out / 1048576.0,
           (double)cs.bytes_in / 1048576.0, cpu, 100.0 * cpu / secs);
    printf("  pouchdb-server CPU %.2f s (%.0f%% of one core)\n", srv1 - srv0,
           100.0 * (srv1 - srv0) / secs);
    gw_module_index.stop();
    (void)gw_http_drain(2000);
    gwt_stop(cfg);
    gw_stream_install_hub(NULL);
    gw_hub_free(hub);
    couchproc_free(&srv);
    return st.indexed == (uint64_t)n ? 0 : 1;
}
