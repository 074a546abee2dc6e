/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EntityEvent paging benchmark for reso-gateway: T clients (one thread
 * and one keep-alive connection each) page through the RESO EntityEvent
 * feed for a fixed time:
 *
 *   GET /v1/EntityEvent?$filter=EntityEventSequence%20gt%200&$top=K
 *
 * then follow @odata.nextLink until a page has none, and start over from
 * the beginning. Every page is timed from the request's first byte to
 * the last byte of the answer.
 *
 * Prints one JSON object: {"clients":T,"top":K,"seconds":S,"pages":P,
 * "pages_per_s":..,"events_per_s":..,"p50_ms":..,"p99_ms":..,
 * "errors":E,"passes":W,"gw_cpu_s":..,"client_rss_mb":..} where passes
 * counts complete walks of the feed and gw_cpu_s is the gateway's CPU
 * time over the run (with --gateway-pid).
 *
 * usage: ee_pages --addr HOST:PORT --key-file FILE [--clients T]
 *                 [--seconds S] [--top K] [--gateway-pid PID]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"

typedef struct {
    const char *host;
    int port, top;
    char key[256];
    double deadline;
} cfg_t;

typedef struct {
    const cfg_t *cfg;
    double *lat;
    size_t n, cap;
    long events, errors, passes;
    pthread_t th;
} client_t;

static int
record(client_t *c, double ms)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        double *nl = realloc(c->lat, cap * sizeof(*nl));

        if (nl == NULL)
            return -1;
        c->lat = nl;
        c->cap = cap;
    }
    c->lat[c->n++] = ms;
    return 0;
}

static long
count_of(const char *s, const char *needle)
{
    long n = 0;

    while ((s = strstr(s, needle)) != NULL) {
        n++;
        s++;
    }
    return n;
}

static void *
client_main(void *arg)
{
    client_t *c = arg;
    const cfg_t *g = c->cfg;
    char first[160], path[600], link[600];
    bench_resp_t resp;
    int fd = -1;

    memset(&resp, 0, sizeof(resp));
    snprintf(first, sizeof(first), "/v1/EntityEvent?$filter="
             "EntityEventSequence%%20gt%%200&$top=%d", g->top);
    snprintf(path, sizeof(path), "%s", first);
    while (bench_now_ms() < g->deadline) {
        char req[1200];
        const char *v1;
        double t0;
        int rlen;

        if (fd < 0 && (fd = bench_connect(g->host, g->port, 0)) < 0) {
            c->errors++;
            usleep(100000);
            continue;
        }
        rlen = snprintf(req, sizeof(req),
                        "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
                        "Authorization: Bearer %s\r\n"
                        "Accept: application/json\r\n\r\n",
                        path, g->host, g->port, g->key);
        t0 = bench_now_ms();
        if (bench_roundtrip(fd, req, (size_t)rlen, &resp) != BENCH_RESP_DONE ||
            resp.status != 200) {
            if (c->errors++ < 3)
                fprintf(stderr, "ee_pages: %s: HTTP %d %s %.200s\n", path,
                        resp.status, resp.why, resp.body ? resp.body : "");
            close(fd);
            fd = -1;
            snprintf(path, sizeof(path), "%s", first);
            continue;
        }
        if (record(c, bench_now_ms() - t0) != 0)
            break;
        c->events += count_of(resp.body, "\"EntityEventSequence\":");
        if (resp.close) {
            close(fd);
            fd = -1;
        }
        /* nextLink is absolute: keep its path and query. */
        if (bench_json_str(resp.body, "@odata.nextLink", link,
                           sizeof(link)) == 0 &&
            (v1 = strstr(link, "/v1/")) != NULL) {
            snprintf(path, sizeof(path), "%s", v1);
        } else {
            c->passes++;
            snprintf(path, sizeof(path), "%s", first);
        }
    }
    if (fd >= 0)
        close(fd);
    bench_resp_free(&resp);
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *addr = NULL, *key_file = NULL;
    int nclients = 4, seconds = 20, gw_pid = 0, i;
    char host[64];
    cfg_t g;
    client_t *cl;
    double *all, t0, secs, cpu0, cpu1;
    size_t total = 0;
    long events = 0, errors = 0, passes = 0;

    memset(&g, 0, sizeof(g));
    g.top = 100;
    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL) {
            fprintf(stderr, "ee_pages: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--addr") == 0)
            addr = v;
        else if (strcmp(argv[i], "--key-file") == 0)
            key_file = v;
        else if (strcmp(argv[i], "--clients") == 0)
            nclients = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--top") == 0)
            g.top = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--gateway-pid") == 0)
            gw_pid = (int)strtol(v, NULL, 10);
        else {
            fprintf(stderr, "ee_pages: unknown option %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    if (addr == NULL || key_file == NULL || nclients < 1 || nclients > 256 ||
        seconds < 1 || g.top < 1 || g.top > 1000 ||
        bench_parse_addr(addr, host, sizeof(host), &g.port) != 0) {
        fprintf(stderr, "usage: ee_pages --addr HOST:PORT --key-file FILE "
                "[--clients 1..256] [--seconds S] [--top 1..1000] "
                "[--gateway-pid PID]\n");
        return 2;
    }
    if (bench_read_key(key_file, g.key, sizeof(g.key)) != 0) {
        fprintf(stderr, "ee_pages: cannot read a key from %s\n", key_file);
        return 2;
    }
    g.host = host;
    cl = calloc((size_t)nclients, sizeof(*cl));
    if (cl == NULL)
        return 1;
    cpu0 = gw_pid > 0 ? bench_proc_cpu_s(gw_pid) : 0;
    t0 = bench_now_ms();
    g.deadline = t0 + seconds * 1e3;
    for (i = 0; i < nclients; i++) {
        cl[i].cfg = &g;
        if (pthread_create(&cl[i].th, NULL, client_main, &cl[i]) != 0)
            return 1;
    }
    for (i = 0; i < nclients; i++) {
        pthread_join(cl[i].th, NULL);
        total += cl[i].n;
    }
    secs = (bench_now_ms() - t0) / 1e3;
    cpu1 = gw_pid > 0 ? bench_proc_cpu_s(gw_pid) : 0;
    all = calloc(total ? total : 1, sizeof(double));
    if (all == NULL)
        return 1;
    total = 0;
    for (i = 0; i < nclients; i++) {
        memcpy(all + total, cl[i].lat, cl[i].n * sizeof(double));
        total += cl[i].n;
        events += cl[i].events;
        errors += cl[i].errors;
        passes += cl[i].passes;
        free(cl[i].lat);
    }
    printf("{\"clients\":%d,\"top\":%d,\"seconds\":%.1f,\"pages\":%zu,"
           "\"pages_per_s\":%.1f,\"events_per_s\":%.0f,\"p50_ms\":%.2f,"
           "\"p99_ms\":%.2f,\"errors\":%ld,\"passes\":%ld,\"gw_cpu_s\":%.2f,"
           "\"client_rss_mb\":%.1f}\n",
           nclients, g.top, secs, total, total / secs, events / secs,
           bench_quantile(all, total, 0.50), bench_quantile(all, total, 0.99),
           errors, passes, cpu1 - cpu0, bench_proc_mb(0, "VmHWM"));
    free(all);
    free(cl);
    return errors ? 1 : 0;
}
