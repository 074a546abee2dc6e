/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of gateway/src/config.c: defaults, the file format, every
 * class of error with its FILE:LINE message, environment overrides, the
 * network_env import and opening identities, peers and upstreams.
 */
#include "gwtest.h"
#include "task.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* Load text as dir/gw.conf; returns the rc, the error output in *errs. */
static int
load_text(const char *dir, const char *text, gw_config_t **cfg,
          char **errs, hlf_error_t *err)
{
    char *path = gwt_write(dir, "gw.conf", text);
    size_t len = 0;
    FILE *fp = open_memstream(errs, &len);
    int rc;

    ASSERT_NOT_NULL(fp);
    rc = gw_config_load(path, cfg, fp, err);
    fclose(fp);
    free(path);
    return rc;
}

static const char *HEX_A =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
static const char *HEX_B =
    "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

TEST_IMPL(config_defaults)
{
    gw_config_t *cfg = NULL;
    hlf_error_t err;

    ASSERT_EQ(gw_config_load(NULL, &cfg, stderr, &err), HLF_OK);
    ASSERT_NULL(cfg->file);
    ASSERT_STR_EQ(cfg->listen_host, "127.0.0.1");
    ASSERT_EQ(cfg->listen_port, 8080);
    ASSERT_STR_EQ(cfg->state_dir, "./run/gateway");
    ASSERT_NULL(cfg->network_env);
    ASSERT_NULL(cfg->channel);
    ASSERT_EQ(cfg->workers, 32);
    ASSERT_EQ(cfg->pool_queue_max, 4096);
    ASSERT_EQ(cfg->http_threads, 2);
    ASSERT_EQ(cfg->max_connections, 12000);
    ASSERT_EQ(cfg->http_conn_memory, 16384);
    ASSERT_EQ(cfg->request_timeout_ms, 30000);
    ASSERT_EQ(cfg->idle_timeout_ms, 60000);
    ASSERT_EQ(cfg->max_body_bytes, 65536);
    ASSERT(cfg->rate_limit_rps == 50.0);
    ASSERT(cfg->rate_limit_burst == 100.0);
    ASSERT_EQ(cfg->retry_after_s, 1);
    ASSERT_EQ(cfg->peer_ready_timeout_ms, 1000);
    ASSERT_EQ(cfg->access_log, 1);
    ASSERT_EQ(cfg->log_level, -1);
    ASSERT_EQ(cfg->sse_heartbeat_ms, 15000);
    ASSERT_EQ(cfg->sse_max_clients, 10000);
    ASSERT_EQ(cfg->sse_queue_events, 1024);
    ASSERT_EQ(cfg->hub_ring_events, 65536);
    ASSERT_EQ(cfg->webhook_allow_private_targets, 0);
    ASSERT_EQ(cfg->webhook_batch_max, 100);
    ASSERT_EQ(cfg->webhook_timeout_ms, 10000);
    ASSERT_EQ(cfg->webhook_retry_max_ms, 60000);
    ASSERT_EQ(cfg->nidentities + cfg->npeers + cfg->napikeys, 0);
    gw_config_free(cfg);
}

TEST_IMPL(config_file)
{
    char *dir = gwt_tmpdir(), *errs = NULL, text[2048], abs[1024];
    gw_config_t *cfg = NULL;
    hlf_error_t err;

    snprintf(text, sizeof(text),
             "# reso-gateway test config\n"
             "\n"
             "   listen [::1]:0    # any port\n"
             "state_dir state\n"
             "channel reso-events\n"
             "chaincode reso\n"
             "identity Brokerage BrokerageMSP \"msp dirs/b#1\"\n"
             "identity MLS MLSMSP /abs/mls\n"
             "peer MLSMSP 127.0.0.1:7051 tls/mls.pem\n"
             "peer BrokerageMSP localhost:7061 /ca.pem peer0.b.example\n"
             "apikey app-1 Brokerage %s\n"
             "apikey feed MLS %s\n"
             "max_body_bytes 2k\n"
             "rate_limit_per_key 2.5\n"
             "access_log off\n"
             "log_level WARN\n"
             "webhook_allow_private_targets yes\n",
             HEX_A, HEX_B);
    ASSERT_EQ(load_text(dir, text, &cfg, &errs, &err), HLF_OK);
    ASSERT_STR_EQ(errs, "");
    ASSERT_STR_EQ(cfg->listen_host, "::1");
    ASSERT_EQ(cfg->listen_port, 0);
    snprintf(abs, sizeof(abs), "%s/state", dir);
    ASSERT_STR_EQ(cfg->state_dir, abs);
    ASSERT_STR_EQ(cfg->channel, "reso-events");
    ASSERT_STR_EQ(cfg->chaincode, "reso");
    ASSERT_EQ(cfg->nidentities, 2);
    ASSERT_STR_EQ(cfg->identities[0].name, "Brokerage");
    ASSERT_STR_EQ(cfg->identities[0].msp_id, "BrokerageMSP");
    snprintf(abs, sizeof(abs), "%s/msp dirs/b#1", dir);
    ASSERT_STR_EQ(cfg->identities[0].msp_dir, abs);
    ASSERT_STR_EQ(cfg->identities[1].msp_dir, "/abs/mls");
    ASSERT_NULL(cfg->identities[0].id);
    ASSERT_EQ(cfg->npeers, 2);
    ASSERT_STR_EQ(cfg->peers[0].org_msp, "MLSMSP");
    ASSERT_STR_EQ(cfg->peers[0].address, "127.0.0.1:7051");
    snprintf(abs, sizeof(abs), "%s/tls/mls.pem", dir);
    ASSERT_STR_EQ(cfg->peers[0].tls_ca, abs);
    ASSERT_NULL(cfg->peers[0].host_override);
    ASSERT_STR_EQ(cfg->peers[1].host_override, "peer0.b.example");
    ASSERT_EQ(cfg->napikeys, 2);
    ASSERT_STR_EQ(cfg->apikeys[0].name, "app-1");
    ASSERT(cfg->apikeys[0].identity == &cfg->identities[0]);
    ASSERT(cfg->apikeys[1].identity == &cfg->identities[1]);
    ASSERT_EQ(cfg->apikeys[0].sha256[0], 0x9f);
    ASSERT_EQ(cfg->apikeys[0].sha256[31], 0x08);
    ASSERT_EQ(cfg->max_body_bytes, 2048);
    ASSERT(cfg->rate_limit_rps == 2.5);
    ASSERT(cfg->rate_limit_burst == 2.5);
    ASSERT_EQ(cfg->access_log, 0);
    ASSERT_EQ(cfg->log_level, 2);
    ASSERT_EQ(cfg->webhook_allow_private_targets, 1);
    ASSERT(gw_config_identity(cfg, "MLS") == &cfg->identities[1]);
    ASSERT_NULL(gw_config_identity(cfg, "Association"));
    gw_config_free(cfg);
    free(errs);
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(config_errors)
{
    char *dir = gwt_tmpdir(), *errs = NULL, text[2048], want[4096];
    char *f;
    gw_config_t *cfg = NULL;
    hlf_error_t err;

    snprintf(text, sizeof(text),
             "listen 127.0.0.1\n"                      /* 1 */
             "workers 0\n"                             /* 2 */
             "access_log maybe\n"                      /* 3 */
             "http_threads 17\n"                       /* 4 */
             "rate_limit_per_key -1\n"                 /* 5 */
             "max_body_bytes 10x\n"                    /* 6 */
             "nonsense 1\n"                            /* 7 */
             "identity A AMSP\n"                       /* 8 */
             "apikey k1 Nobody %s\n"                   /* 9 */
             "log_level loud\n"                        /* 10 */
             "request_timeout_ms 5\n"                  /* 11 */
             "state_dir a b\n"                         /* 12 */
             "peer P 127.0.0.1:0 ca\n"                 /* 13 */
             "apikey k2 A abc\n"                       /* 14 */
             "state_dir \"x\n"                         /* 15 */
             "retry_after_s 2\n"                       /* 16 */
             "retry_after_s 3\n"                       /* 17 */
             "rate_limit_per_key 10 0.5\n"             /* 18 */
             "channel bad/name\n"                      /* 19 */
             "identity A AMSP /a\n"                    /* 20 */
             "identity A AMSP /b\n",                   /* 21 */
             HEX_A);
    ASSERT_EQ(load_text(dir, text, &cfg, &errs, &err), HLF_ECONFIG);
    ASSERT_NULL(cfg);
    f = malloc(strlen(dir) + 16);
    snprintf(f, strlen(dir) + 16, "%s/gw.conf", dir);
    snprintf(want, sizeof(want),
             "%s:1: listen: invalid value \"127.0.0.1\": expected HOST:PORT "
             "(port 0-65535)\n"
             "%s:2: workers: invalid value \"0\": expected an integer from "
             "1 to 1024\n"
             "%s:3: access_log: invalid value \"maybe\": expected yes or "
             "no\n"
             "%s:4: http_threads: invalid value \"17\": expected an integer "
             "from 1 to 16\n"
             "%s:5: rate_limit_per_key: invalid rate \"-1\": expected a "
             "number of requests per second >= 0\n"
             "%s:6: max_body_bytes: invalid value \"10x\": expected a byte "
             "count from 1 to 67108864 (k, m suffixes allowed)\n"
             "%s:7: nonsense: unknown key (see reso-gateway --help for the "
             "list)\n"
             "%s:8: identity: expected \"NAME MSP_ID MSP_DIR\", got 2 "
             "value(s)\n"
             "%s:10: log_level: invalid value \"loud\": expected debug, "
             "info, warn or error\n"
             "%s:11: request_timeout_ms: invalid value \"5\": expected an "
             "integer from 100 to 600000\n"
             "%s:12: state_dir: expected \"DIR\", got 2 value(s)\n"
             "%s:13: peer: invalid address \"127.0.0.1:0\": expected "
             "HOST:PORT\n"
             "%s:14: apikey: invalid SHA-256 \"abc\": expected 64 hex digits "
             "(sha256sum of the key), got 3 characters\n"
             "%s:15: state_dir: set twice (first at %s:12)\n"
             "%s:17: retry_after_s: set twice (first at %s:16)\n"
             "%s:18: rate_limit_per_key: set twice (first at %s:5)\n"
             "%s:19: channel: invalid name \"bad/name\": use letters, "
             "digits, '_', '.', '-' (at most 64)\n"
             "%s:21: identity: duplicate name \"A\" (first at %s:20)\n"
             "%s:9: apikey: unknown identity \"Nobody\" for key \"k1\" "
             "(define it with identity or network_env)\n",
             f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f,
             f, f);
    ASSERT_STR_EQ(errs, want);
    /* The first error is also in err. */
    snprintf(want, sizeof(want), "%s:1: listen: invalid value \"127.0.0.1\": "
             "expected HOST:PORT (port 0-65535)", f);
    ASSERT_EQ(err.code, HLF_ECONFIG);
    ASSERT_STR_EQ(err.text, want);
    free(errs);
    /* A quote that never closes, and more errors of the same lines. */
    ASSERT_EQ(load_text(dir, "state_dir \"x\nrate_limit_per_key 10 0.5\n"
                             "workers 1 2\n", &cfg, &errs, &err),
              HLF_ECONFIG);
    snprintf(want, sizeof(want),
             "%s:1: state_dir: unterminated quote or more than 8 values in: "
             "\"x\n"
             "%s:2: rate_limit_per_key: invalid burst \"0.5\": expected a "
             "number >= 1\n"
             "%s:3: workers: expected \"N\", got 2 value(s)\n", f, f, f);
    ASSERT_STR_EQ(errs, want);
    free(errs);
    /* Duplicate API keys. */
    snprintf(text, sizeof(text),
             "identity A AMSP /a\napikey k A %s\napikey k A %s\n"
             "apikey j A %s\n", HEX_A, HEX_B, HEX_A);
    ASSERT_EQ(load_text(dir, text, &cfg, &errs, &err), HLF_ECONFIG);
    snprintf(want, sizeof(want),
             "%s:3: apikey: duplicate name \"k\" (first at %s:2)\n"
             "%s:4: apikey: key \"j\" has the same SHA-256 as \"k\" (%s:2)\n",
             f, f, f, f);
    ASSERT_STR_EQ(errs, want);
    free(errs);
    free(f);
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(config_missing_file)
{
    gw_config_t *cfg = NULL;
    hlf_error_t err;

    ASSERT_EQ(gw_config_load("/nonexistent/gw.conf", &cfg, NULL, &err),
              HLF_ENOTFOUND);
    ASSERT_NULL(cfg);
    ASSERT_STR_EQ(err.text, "/nonexistent/gw.conf: cannot open: No such "
                            "file or directory");
}

TEST_IMPL(config_env_overrides)
{
    char *dir = gwt_tmpdir(), *errs = NULL, env[512];
    gw_config_t *cfg = NULL;
    hlf_error_t err;

    setenv("RESO_GW_WORKERS", "7", 1);
    setenv("RESO_GW_LISTEN", "0.0.0.0:9090", 1);
    snprintf(env, sizeof(env), "k1 A %s; k2 A %s", HEX_A, HEX_B);
    setenv("RESO_GW_APIKEY", env, 1);
    setenv("RESO_GW_STATE_DIR", "rel/dir", 1);
    ASSERT_EQ(load_text(dir, "workers 3\nidentity A AMSP /a\n"
                             "apikey k0 A 0000000000000000000000000000000000"
                             "000000000000000000000000000000\n",
                        &cfg, &errs, &err), HLF_OK);
    ASSERT_STR_EQ(errs, "");
    ASSERT_EQ(cfg->workers, 7); /* the environment wins over the file */
    ASSERT_STR_EQ(cfg->listen_host, "0.0.0.0");
    ASSERT_EQ(cfg->listen_port, 9090);
    ASSERT_STR_EQ(cfg->state_dir, "rel/dir"); /* env: relative to cwd */
    ASSERT_EQ(cfg->napikeys, 3);
    ASSERT_STR_EQ(cfg->apikeys[0].name, "k0");
    ASSERT_STR_EQ(cfg->apikeys[1].name, "k1");
    ASSERT_STR_EQ(cfg->apikeys[2].name, "k2");
    gw_config_free(cfg);
    free(errs);
    setenv("RESO_GW_WORKERS", "many", 1);
    ASSERT_EQ(load_text(dir, "identity A AMSP /a\n", &cfg, &errs, &err),
              HLF_ECONFIG);
    ASSERT_STR_EQ(errs, "RESO_GW_WORKERS: workers: invalid value \"many\": "
                        "expected an integer from 1 to 1024\n");
    free(errs);
    gwt_rmrf(dir);
    free(dir);
}

/* A network description as `resoctl network env --json` prints it. */
static const char ENV_JSON[] =
    "{\"channel\":\"reso-events\",\"chaincode\":\"reso\",\"orgs\":{"
    "\"Brokerage\":{\"msp_id\":\"BrokerageMSP\",\"peer\":{\"address\":"
    "\"127.0.0.1:7060\",\"tls_ca\":\"/c/b.pem\",\"host_override\":"
    "\"peer0.brokerage.reso.example\"},\"client\":{\"msp_dir\":\"/m/b\"},"
    "\"admin\":{\"msp_dir\":\"/m/ba\"}},"
    "\"Association\":{\"msp_id\":\"AssociationMSP\",\"peer\":{\"address\":"
    "\"127.0.0.1:7070\",\"tls_ca\":\"/c/a.pem\"},\"client\":{\"msp_dir\":"
    "\"/m/a\"}},"
    "\"MLS\":{\"msp_id\":\"MLSMSP\",\"peer\":{\"address\":\"127.0.0.1:7080\","
    "\"tls_ca\":\"/c/m.pem\"},\"client\":{\"msp_dir\":\"/m/m\"}}}}";

TEST_IMPL(config_network_env)
{
    char *dir = gwt_tmpdir(), *errs = NULL, *envf, text[1024];
    gw_config_t *cfg = NULL;
    hlf_error_t err;

    envf = gwt_write(dir, "env.json", ENV_JSON);
    snprintf(text, sizeof(text),
             "network_env env.json\n"
             "chaincode reso2\n"
             "identity MLS MLSMSP /explicit/mls\n"
             "apikey feed MLS %s\n"
             "apikey app Brokerage %s\n", HEX_A, HEX_B);
    ASSERT_EQ(load_text(dir, text, &cfg, &errs, &err), HLF_OK);
    ASSERT_STR_EQ(errs, "");
    ASSERT_STR_EQ(cfg->network_env, envf);
    ASSERT_STR_EQ(cfg->channel, "reso-events");
    ASSERT_STR_EQ(cfg->chaincode, "reso2"); /* explicit wins */
    /* An org's admin (when the env has one) is "<org>-admin". */
    ASSERT_EQ(cfg->nidentities, 4);
    ASSERT_STR_EQ(cfg->identities[0].name, "MLS");
    ASSERT_STR_EQ(cfg->identities[0].msp_dir, "/explicit/mls");
    ASSERT_STR_EQ(cfg->identities[1].name, "Brokerage");
    ASSERT_STR_EQ(cfg->identities[1].msp_id, "BrokerageMSP");
    ASSERT_STR_EQ(cfg->identities[1].msp_dir, "/m/b");
    ASSERT_STR_EQ(cfg->identities[2].name, "Brokerage-admin");
    ASSERT_STR_EQ(cfg->identities[2].msp_id, "BrokerageMSP");
    ASSERT_STR_EQ(cfg->identities[2].msp_dir, "/m/ba");
    ASSERT_STR_EQ(cfg->identities[3].name, "Association");
    ASSERT_STR_EQ(cfg->identities[3].msp_dir, "/m/a");
    ASSERT_EQ(cfg->npeers, 3);
    ASSERT_STR_EQ(cfg->peers[0].org_msp, "BrokerageMSP");
    ASSERT_STR_EQ(cfg->peers[0].address, "127.0.0.1:7060");
    ASSERT_STR_EQ(cfg->peers[0].tls_ca, "/c/b.pem");
    ASSERT_STR_EQ(cfg->peers[0].host_override,
                  "peer0.brokerage.reso.example");
    ASSERT_STR_EQ(cfg->peers[1].org_msp, "AssociationMSP");
    ASSERT_NULL(cfg->peers[1].host_override);
    ASSERT_STR_EQ(cfg->peers[2].address, "127.0.0.1:7080");
    ASSERT(cfg->apikeys[0].identity == &cfg->identities[0]);
    ASSERT(cfg->apikeys[1].identity == &cfg->identities[1]);
    gw_config_free(cfg);
    free(errs);
    /* Errors name the network_env line and what is missing. */
    free(gwt_write(dir, "bad.json",
                   "{\"orgs\":{\"X\":{\"msp_id\":\"XMSP\"}}}"));
    ASSERT_EQ(load_text(dir, "\nnetwork_env bad.json\n", &cfg, &errs, &err),
              HLF_ECONFIG);
    snprintf(text, sizeof(text), "%s/gw.conf:2: network_env: \"%s/bad.json\": "
             "orgs.X lacks a valid msp_id, client.msp_dir, peer.address or "
             "peer.tls_ca\n", dir, dir);
    ASSERT_STR_EQ(errs, text);
    free(errs);
    ASSERT_EQ(load_text(dir, "network_env none.json\n", &cfg, &errs, &err),
              HLF_ECONFIG);
    snprintf(text, sizeof(text), "%s/gw.conf:1: network_env: cannot load "
             "\"%s/none.json\": unable to open %s/none.json: No such file "
             "or directory (line -1)\n", dir, dir, dir);
    ASSERT_STR_EQ(errs, text);
    free(errs);
    free(envf);
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(config_open_upstreams)
{
    char *dir = gwt_tmpdir(), *errs = NULL, text[4096];
    tu_msp_t mb, mm;
    gw_config_t *cfg = NULL;
    gw_identity_t *id;
    hlf_error_t err;

    tu_msp_make(&mb, "User1@brokerage");
    tu_msp_make(&mm, "User1@mls");
    snprintf(text, sizeof(text),
             "channel reso-events\nchaincode reso\n"
             "identity Brokerage BrokerageMSP %s\n"
             "identity MLS MLSMSP %s\n"
             "peer MLSMSP 127.0.0.1:7080 %s\n"
             "peer BrokerageMSP 127.0.0.1:7060 %s\n"
             "peer MLSMSP 127.0.0.1:7081 %s\n",
             mb.msp, mm.msp, mb.cert_path, mb.cert_path, mb.cert_path);
    ASSERT_EQ(load_text(dir, text, &cfg, &errs, &err), HLF_OK);
    ASSERT_EQ(gw_config_open(cfg, &err), HLF_OK);
    id = gw_config_identity(cfg, "Brokerage");
    ASSERT_NOT_NULL(id->id);
    ASSERT_STR_EQ(hlf_identity_msp_id(id->id), "BrokerageMSP");
    ASSERT_EQ(id->nupstreams, 3);
    ASSERT_STR_EQ(id->upstreams[0].peer->address, "127.0.0.1:7060");
    ASSERT_STR_EQ(id->upstreams[1].peer->address, "127.0.0.1:7080");
    ASSERT_STR_EQ(id->upstreams[2].peer->address, "127.0.0.1:7081");
    ASSERT_NOT_NULL(id->upstreams[0].contract);
    ASSERT_STR_EQ(hlf_contract_chaincode(id->upstreams[0].contract), "reso");
    ASSERT_STR_EQ(hlf_network_name(id->upstreams[2].net), "reso-events");
    id = gw_config_identity(cfg, "MLS");
    ASSERT_STR_EQ(id->upstreams[0].peer->address, "127.0.0.1:7080");
    ASSERT_STR_EQ(id->upstreams[1].peer->address, "127.0.0.1:7081");
    ASSERT_STR_EQ(id->upstreams[2].peer->address, "127.0.0.1:7060");
    ASSERT_NOT_NULL(cfg->peers[0].conn);
    gw_config_free(cfg);
    free(errs);
    /* An identity that cannot be loaded is a configuration error. */
    snprintf(text, sizeof(text),
             "channel c\nchaincode reso\nidentity B BMSP %s/none\n"
             "peer BMSP 127.0.0.1:7060 %s\n", dir, mb.cert_path);
    ASSERT_EQ(load_text(dir, text, &cfg, &errs, &err), HLF_OK);
    ASSERT_EQ(gw_config_open(cfg, &err), HLF_ECONFIG);
    ASSERT(strncmp(err.text, "identity B: ", 12) == 0);
    ASSERT_NULL(cfg->identities[0].id);
    ASSERT_NULL(cfg->peers[0].conn);
    gw_config_free(cfg);
    free(errs);
    /* Nothing to open. */
    ASSERT_EQ(load_text(dir, "channel c\n", &cfg, &errs, &err), HLF_OK);
    ASSERT_EQ(gw_config_open(cfg, &err), HLF_ECONFIG);
    snprintf(text, sizeof(text), "%s/gw.conf: no channel or chaincode (set "
             "channel and chaincode, or network_env)", dir);
    ASSERT_STR_EQ(err.text, text);
    gw_config_free(cfg);
    free(errs);
    tu_msp_free(&mb);
    tu_msp_free(&mm);
    gwt_rmrf(dir);
    free(dir);
}

/* The shipped example stays loadable as the reference drifts. */
TEST_IMPL(config_example_loads)
{
    gw_config_t *cfg = NULL;
    hlf_error_t err;

    ASSERT_EQ(gw_config_load(GW_CONF_EXAMPLE, &cfg, stderr, &err), HLF_OK);
    ASSERT_EQ(cfg->listen_port, 8080);
    ASSERT_EQ(cfg->workers, 32);
    ASSERT_EQ(cfg->webhook_allow_private_targets, 0);
    gw_config_free(cfg);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(config_defaults),
    TEST_ENTRY(config_file),
    TEST_ENTRY(config_errors),
    TEST_ENTRY(config_missing_file),
    TEST_ENTRY(config_env_overrides),
    TEST_ENTRY(config_network_env),
    TEST_ENTRY(config_open_upstreams),
    TEST_ENTRY(config_example_loads),
};

TEST_MAIN(tests)
