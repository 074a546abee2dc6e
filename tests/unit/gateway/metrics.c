/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of gateway/src/metrics.c and health.c: the exact Prometheus
 * text of counters, gauges and histograms, label escaping, registration
 * rules, thread safety of updates, collectors, and health aggregation.
 */
#include "gwtest.h"
#include "task.h"

#include "hlf/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char *
render(void)
{
    char *text = NULL;
    size_t len = 0;

    ASSERT_EQ(gw_metrics_render(&text, &len), HLF_OK);
    ASSERT_EQ(strlen(text), len);
    return text;
}

TEST_IMPL(metrics_text)
{
    static const double b[] = {0.1, 1, 2.5};
    gw_metric_t *c, *g, *h;
    char *text;

    c = gw_metric_register(GW_METRIC_COUNTER, "deliveries_total",
                           "Webhook deliveries\nby result", "sub,result",
                           NULL, 0);
    g = gw_metric_register(GW_METRIC_GAUGE, "follower_lag_blocks",
                           "Blocks behind", NULL, NULL, 0);
    h = gw_metric_register(GW_METRIC_HISTOGRAM, "commit_seconds",
                           "Commit latency", "org", b, 3);
    ASSERT_NOT_NULL(c);
    ASSERT_NOT_NULL(g);
    ASSERT_NOT_NULL(h);
    gw_counter_inc(c, GW_LABELS("s1", "ok"));
    gw_counter_add(c, GW_LABELS("s1", "ok"), 2);
    gw_counter_add(c, GW_LABELS("s1", "ok"), -5); /* ignored */
    gw_counter_inc(c, GW_LABELS("a\"b\\c\nd", "retry"));
    gw_gauge_set(g, NULL, 7);
    gw_gauge_add(g, NULL, -2.5);
    gw_histogram_observe(h, GW_LABELS("MLS"), 0.05);
    gw_histogram_observe(h, GW_LABELS("MLS"), 0.1);
    gw_histogram_observe(h, GW_LABELS("MLS"), 2);
    gw_histogram_observe(h, GW_LABELS("MLS"), 9);
    /* Wrong-type updates do nothing. */
    gw_gauge_set(c, GW_LABELS("s1", "ok"), 100);
    gw_counter_inc(g, NULL);
    text = render();
    ASSERT_STR_EQ(text,
                  "# HELP deliveries_total Webhook deliveries\\nby result\n"
                  "# TYPE deliveries_total counter\n"
                  "deliveries_total{sub=\"s1\",result=\"ok\"} 3\n"
                  "deliveries_total{sub=\"a\\\"b\\\\c\\nd\",result=\"retry\"}"
                  " 1\n"
                  "# HELP follower_lag_blocks Blocks behind\n"
                  "# TYPE follower_lag_blocks gauge\n"
                  "follower_lag_blocks 4.5\n"
                  "# HELP commit_seconds Commit latency\n"
                  "# TYPE commit_seconds histogram\n"
                  "commit_seconds_bucket{org=\"MLS\",le=\"0.1\"} 2\n"
                  "commit_seconds_bucket{org=\"MLS\",le=\"1\"} 2\n"
                  "commit_seconds_bucket{org=\"MLS\",le=\"2.5\"} 3\n"
                  "commit_seconds_bucket{org=\"MLS\",le=\"+Inf\"} 4\n"
                  "commit_seconds_sum{org=\"MLS\"} 11.15\n"
                  "commit_seconds_count{org=\"MLS\"} 4\n");
    hlf_free(text);
    gw_metrics_reset();
}

TEST_IMPL(metrics_register_rules)
{
    static const double bad[] = {1, 1};
    gw_metric_t *c = gw_metric_register(GW_METRIC_COUNTER, "x_total", "h",
                                        NULL, NULL, 0);

    ASSERT_NOT_NULL(c);
    /* Same name and type: the same family; another type: refused. */
    ASSERT(gw_metric_register(GW_METRIC_COUNTER, "x_total", "h", NULL, NULL,
                              0) == c);
    ASSERT_NULL(gw_metric_register(GW_METRIC_GAUGE, "x_total", "h", NULL,
                                   NULL, 0));
    ASSERT_NULL(gw_metric_register(GW_METRIC_GAUGE, "9lives", "h", NULL,
                                   NULL, 0));
    ASSERT_NULL(gw_metric_register(GW_METRIC_GAUGE, "a-b", "h", NULL, NULL,
                                   0));
    ASSERT_NULL(gw_metric_register(GW_METRIC_GAUGE, "ok", "h", "le", NULL,
                                   0));
    ASSERT_NULL(gw_metric_register(GW_METRIC_GAUGE, "ok", "h", "a,b-c",
                                   NULL, 0));
    ASSERT_NULL(gw_metric_register(GW_METRIC_HISTOGRAM, "hh", "h", NULL,
                                   bad, 2));
    ASSERT_NOT_NULL(gw_metric_register(GW_METRIC_HISTOGRAM, "hh", "h", NULL,
                                       NULL, 0));
    gw_metrics_reset();
}

static gw_metric_t *hot;

static void *
bump(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < 20000; i++)
        gw_counter_inc(hot, GW_LABELS(i % 2 ? "odd" : "even"));
    return NULL;
}

TEST_IMPL(metrics_threads)
{
    pthread_t t[4];
    char *text;
    int i;

    hot = gw_metric_register(GW_METRIC_COUNTER, "hot_total", "h", "k", NULL,
                             0);
    for (i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, bump, NULL), 0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    text = render();
    ASSERT_STR_EQ(text, "# HELP hot_total h\n# TYPE hot_total counter\n"
                        "hot_total{k=\"even\"} 40000\n"
                        "hot_total{k=\"odd\"} 40000\n");
    hlf_free(text);
    gw_metrics_reset();
}

static int collected;

static void
collect(void *ud)
{
    collected++;
    gw_gauge_set(ud, NULL, collected * 10);
}

TEST_IMPL(metrics_collector)
{
    gw_metric_t *g = gw_metric_register(GW_METRIC_GAUGE, "streams", "open",
                                        NULL, NULL, 0);
    char *text;

    ASSERT_EQ(gw_metrics_collector(collect, g), HLF_OK);
    text = render();
    ASSERT_STR_EQ(text, "# HELP streams open\n# TYPE streams gauge\n"
                        "streams 10\n");
    hlf_free(text);
    text = render();
    ASSERT_STR_EQ(text, "# HELP streams open\n# TYPE streams gauge\n"
                        "streams 20\n");
    hlf_free(text);
    gw_metrics_reset();
    text = render();
    ASSERT_STR_EQ(text, "");
    hlf_free(text);
    ASSERT_EQ(collected, 2);
}

static gw_health_t
h_ok(void *ud, char *detail, size_t n)
{
    (void)ud;
    snprintf(detail, n, "fine");
    return GW_HEALTH_OK;
}

static gw_health_t
h_degraded(void *ud, char *detail, size_t n)
{
    (void)ud;
    (void)detail;
    (void)n;
    return GW_HEALTH_DEGRADED;
}

TEST_IMPL(health_aggregate)
{
    gw_config_t cfg;
    json_t *body;
    char *text;

    ASSERT_EQ(gw_health_run(&body), GW_HEALTH_OK);
    text = json_dumps(body, JSON_COMPACT);
    ASSERT_STR_EQ(text, "{\"status\":\"ok\",\"live\":true,\"ready\":true,"
                        "\"components\":{}}");
    free(text);
    json_decref(body);
    ASSERT_EQ(gw_health_register("a", h_ok, NULL), HLF_OK);
    ASSERT_EQ(gw_health_register("b", h_degraded, NULL), HLF_OK);
    ASSERT_EQ(gw_health_register("", h_ok, NULL), HLF_EINVAL);
    ASSERT_EQ(gw_health_run(NULL), GW_HEALTH_DEGRADED);
    /* The peers component with no peer at all is down. */
    memset(&cfg, 0, sizeof(cfg));
    ASSERT_EQ(gw_health_register_peers(&cfg), HLF_OK);
    ASSERT_EQ(gw_health_run(&body), GW_HEALTH_DOWN);
    text = json_dumps(body, JSON_COMPACT);
    ASSERT_STR_EQ(text, "{\"status\":\"down\",\"live\":true,\"ready\":false,"
                        "\"components\":{\"a\":{\"status\":\"ok\","
                        "\"detail\":\"fine\"},\"b\":{\"status\":"
                        "\"degraded\"},\"peers\":{\"status\":\"down\","
                        "\"detail\":\"0/0 peers ready\"}}}");
    free(text);
    json_decref(body);
    /* Draining is never ready. */
    gw_health_reset();
    gw_shutdown_request();
    ASSERT_EQ(gw_health_run(&body), GW_HEALTH_DOWN);
    ASSERT_STR_EQ(json_string_value(json_object_get(body, "status")),
                  "draining");
    json_decref(body);
    ASSERT_STR_EQ(gw_health_name(GW_HEALTH_DEGRADED), "degraded");
}

static const test_entry_t tests[] = {
    TEST_ENTRY(metrics_text),
    TEST_ENTRY(metrics_register_rules),
    TEST_ENTRY(metrics_threads),
    TEST_ENTRY(metrics_collector),
    TEST_ENTRY(health_aggregate),
};

TEST_MAIN(tests)
