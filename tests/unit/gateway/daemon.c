/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of gateway/src/main.c: the whole daemon (gw_daemon_main) in a
 * child process with a test-only module, on 127.0.0.1 port 0: SIGTERM
 * drains (a slow in-flight request completes with 200, a new request
 * gets 503 "shutting down", module stop hooks run, exit 0), /healthz reports the
 * unreachable peer, --check-config and --list-routes exit codes and
 * output.
 */
#include "gwtest.h"
#include "task.h"
#include "testutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY "daemon-test-key-42"

/* ------------------------------------------------------------------ */
/* The test module                                                    */
/* ------------------------------------------------------------------ */

typedef struct slow_s {
    gw_req_t *req;
} slow_t;

static void
slow_job(void *arg)
{
    slow_t *s = arg;

    gwt_sleep_ms(800);
    gw_reply_json(s->req, 200, json_pack("{s:i}", "slept", 800), NULL, 0);
    free(s);
}

static int
h_slow(gw_req_t *req)
{
    slow_t *s = malloc(sizeof(*s));

    s->req = req;
    return gw_req_defer(req, slow_job, s, free);
}

static void
marker(const char *name)
{
    char path[1024];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", gw_config()->state_dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0)
        close(fd);
}

static int
t_init(const gw_config_t *cfg, hlf_error_t *err)
{
    (void)cfg;
    (void)err;
    return gw_http_route("GET", "/t/slow", h_slow, GW_ROUTE_AUTH);
}

static int
t_start(const gw_config_t *cfg, hlf_error_t *err)
{
    (void)cfg;
    (void)err;
    marker("started");
    return HLF_OK;
}

static void
t_stop(void)
{
    marker("stopped");
}

static const gw_module_t test_module = {"testslow", t_init, t_start,
                                        t_stop};
static const gw_module_t *const mods[] = {&test_module};

/* ------------------------------------------------------------------ */
/* Fixture                                                            */
/* ------------------------------------------------------------------ */

typedef struct fix_s {
    char *dir;
    char *conf;
    char state[1024];
    tu_msp_t msp;
    int peer_port;
} fix_t;

static void
fix_make(fix_t *f)
{
    char text[4096], hex[65];

    f->dir = gwt_tmpdir();
    tu_msp_make(&f->msp, "User1@brokerage");
    f->peer_port = tu_closed_port();
    gwt_sha256_hex(KEY, hex);
    snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "state_dir state\n"
             "channel reso-events\n"
             "chaincode reso\n"
             "identity Brokerage BrokerageMSP %s\n"
             "peer BrokerageMSP 127.0.0.1:%d %s\n"
             "apikey app Brokerage %s\n"
             "workers 2\n"
             "request_timeout_ms 5000\n"
             "peer_ready_timeout_ms 500\n",
             f->msp.msp, f->peer_port, f->msp.cert_path, hex);
    f->conf = gwt_write(f->dir, "gw.conf", text);
}

static void
fix_free(fix_t *f)
{
    tu_msp_free(&f->msp);
    gwt_rmrf(f->dir);
    free(f->dir);
    free(f->conf);
}

/* Start the daemon in a child that dies with us. */
static pid_t
daemon_start(fix_t *f)
{
    pid_t pid = fork();

    ASSERT(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"reso-gateway", "--config", f->conf, NULL};

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(gw_daemon_main(3, argv, mods, 1) == 0 ? 0 : 3);
    }
    return pid;
}

/* The port from state/gateway.addr, waiting up to 20 s. */
static int
daemon_port(fix_t *f)
{
    char path[1100], buf[128];
    int i;

    snprintf(path, sizeof(path), "%s/gateway.addr", f->state);
    for (i = 0; i < 2000; i++) {
        FILE *fp = fopen(path, "r");

        if (fp != NULL) {
            char *colon;
            int ok = fgets(buf, sizeof(buf), fp) != NULL;

            fclose(fp);
            colon = ok ? strrchr(buf, ':') : NULL;
            ASSERT_NOT_NULL(colon);
            ASSERT_EQ(strncmp(buf, "127.0.0.1:", 10), 0);
            return (int)strtol(colon + 1, NULL, 10);
        }
        gwt_sleep_ms(10);
    }
    ASSERT(0 && "gateway.addr never appeared");
    return 0;
}

/* Exit status of pid within ms, or -1 (then it is killed). */
static int
daemon_wait(pid_t pid, long ms)
{
    int st, i;

    for (i = 0; i < ms / 10; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        gwt_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static int
exists(const char *dir, const char *name)
{
    char path[1100];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

TEST_IMPL(daemon_sigterm_drain)
{
    const char *const auth[] = {"Authorization: Bearer " KEY, NULL};
    fix_t f;
    gwt_async_t c;
    gwt_opts_t o;
    gwt_resp_t r;
    pid_t pid;
    int port;
    char want[512];

    ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
    fix_make(&f);
    pid = daemon_start(&f);
    port = daemon_port(&f);
    ASSERT(exists(f.state, "started"));
    /* The peer is down: not ready. */
    gwt_http("GET", port, "/healthz", NULL, &r);
    ASSERT_EQ(r.status, 503);
    snprintf(want, sizeof(want),
             "{\"status\":\"down\",\"live\":true,\"ready\":false,"
             "\"components\":{\"peers\":{\"status\":\"down\",\"detail\":"
             "\"0/1 peers ready; 127.0.0.1:%d (BrokerageMSP) "
             "unreachable\"}}}", f.peer_port);
    ASSERT_STR_EQ(r.body, want);
    gwt_resp_free(&r);
    /* A slow request in flight while SIGTERM arrives. */
    memset(&o, 0, sizeof(o));
    o.headers = auth;
    gwt_async_start(&c, "GET", port, "/t/slow", &o);
    gwt_sleep_ms(250);
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    gwt_sleep_ms(150);
    /* Draining: a new request is answered 503, the slow one finishes. */
    gwt_http("GET", port, "/healthz", NULL, &r);
    ASSERT_EQ(r.status, 503);
    ASSERT(strstr(r.body, "shutting down") != NULL);
    gwt_resp_free(&r);
    gwt_async_join(&c);
    ASSERT_EQ(c.r.curl_rc, 0);
    ASSERT_EQ(c.r.status, 200);
    ASSERT_STR_EQ(c.r.body, "{\"slept\":800}");
    gwt_resp_free(&c.r);
    ASSERT_EQ(daemon_wait(pid, 20000), 0);
    ASSERT(exists(f.state, "stopped"));
    ASSERT(!exists(f.state, "gateway.addr"));
    fix_free(&f);
    curl_global_cleanup();
}

/* Run gw_daemon_main here with stdout/stderr captured into *out. */
static int
run_captured(int argc, char **argv, char **out)
{
    char path[] = "/tmp/gwdaemon.XXXXXX";
    int fd = mkstemp(path), o1 = dup(1), o2 = dup(2), rc;
    FILE *fp;
    long n;

    ASSERT(fd >= 0);
    fflush(stdout);
    fflush(stderr);
    dup2(fd, 1);
    dup2(fd, 2);
    rc = gw_daemon_main(argc, argv, mods, 1);
    fflush(stdout);
    fflush(stderr);
    dup2(o1, 1);
    dup2(o2, 2);
    close(o1);
    close(o2);
    close(fd);
    fp = fopen(path, "r");
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    *out = calloc(1, (size_t)n + 1);
    ASSERT_EQ(fread(*out, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    unlink(path);
    return rc;
}

TEST_IMPL(daemon_check_config)
{
    fix_t f;
    char *out, want[1200], *bad;
    char *ok_argv[] = {"reso-gateway", "--check-config", "--config", NULL,
                       NULL};

    fix_make(&f);
    ok_argv[3] = f.conf;
    ASSERT_EQ(run_captured(4, ok_argv, &out), 0);
    snprintf(want, sizeof(want), "%s: ok (1 identities, 1 peers, 1 API keys, "
             "channel reso-events, chaincode reso)\n", f.conf);
    ASSERT_STR_EQ(out, want);
    free(out);
    bad = gwt_write(f.dir, "bad.conf", "workers 2\nworkers x\n");
    ok_argv[3] = bad;
    ASSERT_EQ(run_captured(4, ok_argv, &out), 2);
    snprintf(want, sizeof(want), "%s:2: workers: set twice (first at %s:1)\n"
             "reso-gateway: invalid configuration\n", bad, bad);
    ASSERT_STR_EQ(out, want);
    free(out);
    free(bad);
    /* Valid syntax, but the identity cannot be loaded: still exit 2. */
    bad = gwt_write(f.dir, "bad2.conf",
                    "channel c\nchaincode reso\nidentity B BMSP /nonexistent"
                    "\npeer BMSP 127.0.0.1:1 /nonexistent.pem\n");
    ok_argv[3] = bad;
    ASSERT_EQ(run_captured(4, ok_argv, &out), 2);
    ASSERT(strncmp(out, "peer 127.0.0.1:1 (BMSP): ", 25) == 0);
    free(out);
    free(bad);
    fix_free(&f);
}

TEST_IMPL(daemon_list_routes)
{
    char *out;
    char *argv[] = {"reso-gateway", "--list-routes", NULL};
    char *bad[] = {"reso-gateway", "--bogus", NULL};

    ASSERT_EQ(run_captured(2, argv, &out), 0);
    ASSERT_STR_EQ(out, "GET /healthz\nGET /metrics\nGET /t/slow\n");
    free(out);
    ASSERT_EQ(run_captured(2, bad, &out), 2);
    ASSERT(strncmp(out, "reso-gateway: unknown or incomplete argument "
                        "\"--bogus\"\nusage: reso-gateway", 66) == 0);
    free(out);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(daemon_sigterm_drain),
    TEST_ENTRY(daemon_check_config),
    TEST_ENTRY(daemon_list_routes),
};

TEST_MAIN(tests)
