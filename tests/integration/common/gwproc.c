/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway as a child process of a network test (gwproc.h): config,
 * start, readiness, SIGTERM/SIGKILL by PID and the safety net that stops
 * a gateway left running when the test process exits or aborts.
 */
#define _GNU_SOURCE
#include "gwproc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gwtest.h"
#include "hlf/crypto.h"
#include "task.h"

#ifndef RESO_GATEWAY_BIN_DEFAULT
#define RESO_GATEWAY_BIN_DEFAULT "reso-gateway"
#endif

#define GWPROC_DEFAULT_WAIT_MS 60000
/* How long the exit/abort safety net waits after SIGTERM. */
#define GWPROC_REAP_MS 10000
#define GWPROC_MAX_LIVE 8

/*
 * PIDs of the gateways this process started and has not reaped. Written
 * by the test thread; read by the atexit and SIGABRT handlers, which run
 * on that same thread, so sig_atomic_t-sized slots are enough.
 */
static volatile pid_t live[GWPROC_MAX_LIVE];
static int handlers_installed;

static void
live_add(pid_t pid)
{
    int i;

    for (i = 0; i < GWPROC_MAX_LIVE; i++) {
        if (live[i] == 0) {
            live[i] = pid;
            return;
        }
    }
    TEST__FAIL("more than %d gateways running at once", GWPROC_MAX_LIVE);
}

static void
live_del(pid_t pid)
{
    int i;

    for (i = 0; i < GWPROC_MAX_LIVE; i++)
        if (live[i] == pid)
            live[i] = 0;
}

/*
 * Stop every live gateway: SIGTERM, poll for up to GWPROC_REAP_MS, then
 * SIGKILL. Only async-signal-safe calls, because SIGABRT runs it.
 */
static void
reap_all(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    int i, t, left;

    for (i = 0; i < GWPROC_MAX_LIVE; i++)
        if (live[i] > 0)
            kill(live[i], SIGTERM);
    for (t = 0; t < GWPROC_REAP_MS / 10; t++) {
        left = 0;
        for (i = 0; i < GWPROC_MAX_LIVE; i++) {
            if (live[i] <= 0)
                continue;
            if (waitpid(live[i], NULL, WNOHANG) == live[i] ||
                (kill(live[i], 0) != 0 && errno == ESRCH))
                live[i] = 0;
            else
                left++;
        }
        if (left == 0)
            return;
        nanosleep(&ts, NULL);
    }
    for (i = 0; i < GWPROC_MAX_LIVE; i++) {
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
    }
}

static void
on_abort(int sig)
{
    (void)sig;
    reap_all();
}

static void
install_handlers(void)
{
    if (handlers_installed)
        return;
    handlers_installed = 1;
    signal(SIGABRT, on_abort);
    ASSERT_EQ(atexit(reap_all), 0);
}

const char *
gwproc_bin(void)
{
    const char *b = getenv("RESO_GATEWAY_BIN");

    return b != NULL && b[0] != '\0' ? b : RESO_GATEWAY_BIN_DEFAULT;
}

void
gwproc_prepare(gwproc_t *g, json_t *env, const gwproc_opts_t *o)
{
    const char *tag = o != NULL && o->tag != NULL ? o->tag : "it";
    char envpath[1100], line[512], hex[65];
    size_t cap = 16384, len = 0;
    char *text = malloc(cap);
    int n;

    ASSERT_NOT_NULL(text);
    memset(g, 0, sizeof(*g));
    g->wait_ms = GWPROC_DEFAULT_WAIT_MS;
    g->dir = gwt_tmpdir();
    snprintf(g->state, sizeof(g->state), "%s/state", g->dir);
    snprintf(g->conf, sizeof(g->conf), "%s/gateway.conf", g->dir);
    snprintf(g->log, sizeof(g->log), "%s/gateway.log", g->dir);
    snprintf(envpath, sizeof(envpath), "%s/env.json", g->dir);
    ASSERT_EQ(json_dump_file(env, envpath, JSON_INDENT(1)), 0);

    n = snprintf(text, cap, "listen 127.0.0.1:0\nstate_dir %s\n", g->state);
    ASSERT(n > 0 && (size_t)n < cap);
    len = (size_t)n;
    if (o != NULL && o->net != NULL)
        n = snprintf(text + len, cap - len, "%s\n", o->net);
    else
        n = snprintf(text + len, cap - len, "network_env %s\n", envpath);
    ASSERT(n > 0 && (size_t)n < cap - len);
    len += (size_t)n;

    while (o != NULL && o->identities != NULL &&
           o->identities[g->nkeys] != NULL) {
        const char *id = o->identities[g->nkeys];
        char k[sizeof(g->keys[0])], lower[32];
        uint8_t r[16];
        char rh[33];
        size_t i;

        ASSERT(g->nkeys < GWPROC_MAX_KEYS);
        for (i = 0; id[i] != '\0' && i + 1 < sizeof(lower); i++)
            lower[i] = (char)tolower((unsigned char)id[i]);
        lower[i] = '\0';
        ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
        hlf_hex_encode(r, sizeof(r), rh);
        n = snprintf(k, sizeof(k), "gwp-%.16s-%s-%s", tag, lower, rh);
        ASSERT(n > 0 && (size_t)n < sizeof(k));
        memcpy(g->keys[g->nkeys], k, (size_t)n + 1);
        snprintf(g->auth[g->nkeys], sizeof(g->auth[0]),
                 "Authorization: Bearer %s", k);
        gwt_sha256_hex(k, hex);
        snprintf(line, sizeof(line), "apikey %s-%s %s %s\n", lower, tag, id,
                 hex);
        n = snprintf(text + len, cap - len, "%s", line);
        ASSERT(n > 0 && (size_t)n < cap - len);
        len += (size_t)n;
        g->nkeys++;
    }
    if (o != NULL && o->extra != NULL) {
        n = snprintf(text + len, cap - len, "%s\n", o->extra);
        ASSERT(n > 0 && (size_t)n < cap - len);
    }
    free(gwt_write(g->dir, "gateway.conf", text));
    free(text);
}

void
gwproc_dump_log(const gwproc_t *g, int lines)
{
    char cmd[1200];

    fprintf(stderr, "--- last %d lines of %s ---\n", lines, g->log);
    snprintf(cmd, sizeof(cmd), "tail -n %d '%s' >&2", lines, g->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no gateway log)\n");
}

/* The port from state/gateway.addr ("host:port"), or 0 if not yet. */
static int
read_port(const gwproc_t *g)
{
    char path[1100], buf[128], *colon = NULL;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/gateway.addr", g->state);
    fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    if (fgets(buf, sizeof(buf), fp) != NULL && strchr(buf, '\n') != NULL)
        colon = strrchr(buf, ':');
    fclose(fp);
    return colon != NULL ? (int)strtol(colon + 1, NULL, 10) : 0;
}

void
gwproc_start(gwproc_t *g)
{
    char path[1100];
    long i;
    int st;

    ASSERT_EQ(g->pid, 0);
    install_handlers();
    snprintf(path, sizeof(path), "%s/gateway.addr", g->state);
    unlink(path);
    g->port = 0;
    g->pid = fork();
    ASSERT(g->pid >= 0);
    if (g->pid == 0) {
        int fd = open(g->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        /* The last resort if the test process dies by SIGKILL. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(gwproc_bin(), "reso-gateway", "--config", g->conf,
              (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", gwproc_bin(), strerror(errno));
        _exit(127);
    }
    live_add(g->pid);
    for (i = 0; i < g->wait_ms / 10; i++) {
        if ((g->port = read_port(g)) > 0)
            return;
        if (waitpid(g->pid, &st, WNOHANG) == g->pid) {
            live_del(g->pid);
            g->pid = 0;
            gwproc_dump_log(g, 60);
            TEST__FAIL("reso-gateway exited during start (status 0x%x)", st);
        }
        gwt_sleep_ms(10);
    }
    gwproc_dump_log(g, 60);
    TEST__FAIL("reso-gateway did not write %s within %ld ms", path,
               g->wait_ms);
}

void
gwproc_term(gwproc_t *g)
{
    pid_t pid = g->pid;
    int st = 0;
    long i;

    if (pid <= 0)
        return;
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    for (i = 0; i < g->wait_ms / 10; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        gwt_sleep_ms(10);
    }
    if (i == g->wait_ms / 10) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        live_del(pid);
        g->pid = 0;
        gwproc_dump_log(g, 60);
        TEST__FAIL("reso-gateway did not stop within %ld ms of SIGTERM",
                   g->wait_ms);
    }
    live_del(pid);
    g->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        gwproc_dump_log(g, 60);
        TEST__FAIL("reso-gateway ended with status 0x%x, want exit 0", st);
    }
}

void
gwproc_kill9(gwproc_t *g)
{
    pid_t pid = g->pid;
    int st = 0;

    ASSERT(pid > 0);
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    live_del(pid);
    g->pid = 0;
    ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

void
gwproc_free(gwproc_t *g)
{
    gwproc_term(g);
    if (g->dir != NULL) {
        gwt_rmrf(g->dir);
        free(g->dir);
        g->dir = NULL;
    }
}

void
gwproc_request(const gwproc_t *g, int key, const char *method,
               const char *path, const char *body,
               const char *const *extra, gwt_resp_t *r)
{
    const char *hdrs[16];
    gwt_opts_t o;
    size_t n = 0;

    memset(&o, 0, sizeof(o));
    if (key >= 0) {
        ASSERT((size_t)key < g->nkeys);
        hdrs[n++] = g->auth[key];
    }
    if (body != NULL) {
        hdrs[n++] = "Content-Type: application/json";
        o.body = body;
        o.body_len = strlen(body);
    }
    while (extra != NULL && *extra != NULL) {
        ASSERT(n < sizeof(hdrs) / sizeof(hdrs[0]) - 1);
        hdrs[n++] = *extra++;
    }
    hdrs[n] = NULL;
    o.headers = hdrs;
    o.timeout_ms = 30000;
    gwt_http(method, g->port, path, &o, r);
    if (r->curl_rc != 0)
        TEST__FAIL("%s %s: curl error %d", method, path, r->curl_rc);
}
