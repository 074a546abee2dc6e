/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Submit throughput and commit latency of the C client (libhlf) against a
 * running reso-ledger network: N RecordEvent transactions, C of them in
 * flight at once (one thread each), every one timed from the start of
 * endorsement to its VALID commit status. Prints one JSON object:
 *   {"client":"c-libhlf","count":N,"concurrency":C,"errors":E,
 *    "seconds":S,"tps":T,"p50_ms":..,"p99_ms":..,"rss_mb":..}
 * where rss_mb is this process's peak resident set (VmHWM). Recorder
 * binding is strict, so every event carries ORG's own Recorder, the one
 * `network up` registered (orgs.<ORG>.recorder in the env JSON).
 *
 * usage: bench_submit [--run-dir DIR | --env FILE] [--resoctl PATH]
 *                     [--org ORG] [--count N] [--concurrency C]
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hlf/crypto.h"
#include "hlf/gateway.h"
#include "netenv.h"

typedef struct {
    reso_org_t *org;
    const char *recorder; /* the org's Recorder (borrowed from the env) */
    int next;          /* guarded by lock: next transaction number */
    int count;
    int errors;        /* guarded by lock */
    double *lat_ms;    /* one slot per transaction */
    char run_tag[16];
    pthread_mutex_t lock;
} bench_t;

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *
worker(void *arg)
{
    bench_t *b = arg;

    for (;;) {
        char doc[512];
        hlf_bytes_t a;
        hlf_error_t err;
        double t0;
        int i;

        pthread_mutex_lock(&b->lock);
        i = b->next++;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->count)
            return NULL;
        /* One subject per transaction, like independent listings. */
        snprintf(doc, sizeof(doc),
                 "{\"EventSubject\":\"US-42049-%s-%d-R-N\","
                 "\"System\":\"Property Listing Service\","
                 "\"SubjectType\":\"Property\",\"Entity\":\"Broker\","
                 "\"Event\":\"Listing\",\"State\":\"Recorded\","
                 "\"Recorder\":\"%s\",\"Application\":\"bench-c\"}",
                 b->run_tag, i, b->recorder);
        a = hlf_bytes_str(doc);
        hlf_error_clear(&err);
        t0 = now_ms();
        if (hlf_contract_submit(b->org->contract, "RecordEvent", &a, 1, NULL,
                                &err) != HLF_OK) {
            fprintf(stderr, "bench_submit: tx %d: %s\n", i, err.text);
            pthread_mutex_lock(&b->lock);
            b->errors++;
            pthread_mutex_unlock(&b->lock);
            b->lat_ms[i] = -1;
            continue;
        }
        b->lat_ms[i] = now_ms() - t0;
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double
peak_rss_mb(void)
{
    char line[256];
    double mb = 0;
    FILE *fp = fopen("/proc/self/status", "r");

    if (fp == NULL)
        return 0;
    while (fgets(line, sizeof(line), fp) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0)
            mb = strtod(line + 6, NULL) / 1024.0;
    fclose(fp);
    return mb;
}

int
main(int argc, char **argv)
{
    const char *run_dir = NULL, *env_file = NULL, *org = "Brokerage";
    const char *resoctl = getenv("RESOCTL");
    int count = 200, conc = 16, i, n = 0;
    char why[1024];
    json_t *env = NULL;
    reso_org_t o;
    bench_t b;
    pthread_t *th;
    double t0, secs, *ok;
    uint8_t r[4];

    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL) {
            fprintf(stderr, "bench_submit: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--run-dir") == 0)
            run_dir = v;
        else if (strcmp(argv[i], "--env") == 0)
            env_file = v;
        else if (strcmp(argv[i], "--resoctl") == 0)
            resoctl = v;
        else if (strcmp(argv[i], "--org") == 0)
            org = v;
        else if (strcmp(argv[i], "--count") == 0)
            count = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--concurrency") == 0)
            conc = (int)strtol(v, NULL, 10);
        else {
            fprintf(stderr, "bench_submit: unknown option %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    if (count < 1 || conc < 1 || conc > 1024) {
        fprintf(stderr, "bench_submit: --count >= 1, --concurrency 1..1024\n");
        return 2;
    }
    if (env_file == NULL && resoctl == NULL) {
        fprintf(stderr, "bench_submit: give --env FILE or --resoctl PATH\n");
        return 2;
    }
    if (reso_netenv_load(resoctl, run_dir, env_file, &env, why,
                         sizeof(why)) != 0 ||
        reso_netenv_open_org(env, org, "client", &o, why, sizeof(why)) != 0) {
        fprintf(stderr, "bench_submit: %s\n", why);
        json_decref(env);
        return 1;
    }
    memset(&b, 0, sizeof(b));
    b.org = &o;
    b.recorder = json_string_value(json_object_get(
        json_object_get(json_object_get(env, "orgs"), org), "recorder"));
    if (b.recorder == NULL || strlen(b.recorder) > 128) {
        fprintf(stderr, "bench_submit: the network env has no usable "
                        "orgs.%s.recorder (binding is strict: %s records "
                        "with its own Recorder)\n", org, org);
        reso_netenv_close_org(&o);
        json_decref(env);
        return 1;
    }
    b.count = count;
    b.lat_ms = calloc((size_t)count, sizeof(double));
    th = calloc((size_t)conc, sizeof(pthread_t));
    ok = calloc((size_t)count, sizeof(double));
    if (b.lat_ms == NULL || th == NULL || ok == NULL ||
        hlf_random_bytes(r, sizeof(r)) != HLF_OK)
        return 1;
    hlf_hex_encode(r, sizeof(r), b.run_tag);
    pthread_mutex_init(&b.lock, NULL);
    t0 = now_ms();
    for (i = 0; i < conc; i++)
        if (pthread_create(&th[i], NULL, worker, &b) != 0)
            return 1;
    for (i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    secs = (now_ms() - t0) / 1e3;
    for (i = 0; i < count; i++)
        if (b.lat_ms[i] >= 0)
            ok[n++] = b.lat_ms[i];
    qsort(ok, (size_t)n, sizeof(double), cmp_double);
    printf("{\"client\":\"c-libhlf\",\"count\":%d,\"concurrency\":%d,"
           "\"errors\":%d,\"seconds\":%.3f,\"tps\":%.1f,\"p50_ms\":%.1f,"
           "\"p99_ms\":%.1f,\"rss_mb\":%.1f}\n",
           count, conc, b.errors, secs, n / secs,
           n ? ok[(n - 1) / 2] : 0.0,
           n ? ok[(int)((n - 1) * 0.99)] : 0.0, peak_rss_mb());
    pthread_mutex_destroy(&b.lock);
    free(ok);
    free(th);
    free(b.lat_ms);
    reso_netenv_close_org(&o);
    json_decref(env);
    return b.errors ? 1 : 0;
}
