/* SPDX-License-Identifier: Apache-2.0 */
/*
 * couchproc.h: a private pouchdb-server for tests. The server is a Node
 * program, so start-up takes a second or more on a loaded machine; the
 * readiness check therefore polls GET / with a plain socket (no client
 * library needed by the helper) until the bound or the child's exit.
 */
#include "couchproc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RESO_POUCHDB_SERVER_DEFAULT
#define RESO_POUCHDB_SERVER_DEFAULT \
    "network/couchdb/node_modules/.bin/pouchdb-server"
#endif

#define COUCHPROC_WAIT_MS 60000
#define COUCHPROC_MAX_LIVE 8

/* Servers started and not yet reaped, and the temp dirs not yet removed,
 * for the exit and abort handlers. */
static volatile pid_t live[COUCHPROC_MAX_LIVE];
static char live_dirs[COUCHPROC_MAX_LIVE][1024];
static int handlers_installed;
static struct sigaction old_abort;

static void
live_add(pid_t pid)
{
    int i;

    for (i = 0; i < COUCHPROC_MAX_LIVE; i++)
        if (live[i] == 0) {
            live[i] = pid;
            return;
        }
}

static void
live_del(pid_t pid)
{
    int i;

    for (i = 0; i < COUCHPROC_MAX_LIVE; i++)
        if (live[i] == pid)
            live[i] = 0;
}

static void
dir_add(const char *dir)
{
    int i;

    for (i = 0; i < COUCHPROC_MAX_LIVE; i++)
        if (live_dirs[i][0] == '\0') {
            snprintf(live_dirs[i], sizeof(live_dirs[i]), "%s", dir);
            return;
        }
}

static void
dir_del(const char *dir)
{
    int i;

    for (i = 0; i < COUCHPROC_MAX_LIVE; i++)
        if (strcmp(live_dirs[i], dir) == 0)
            live_dirs[i][0] = '\0';
}

/*
 * SIGKILL every live server (the data of a test server is disposable) and
 * remove the temp dirs of a test that failed before couchproc_free.
 * Async-signal-safe only (kill, waitpid, fork, execve), because SIGABRT
 * runs it.
 */
static void
kill_all(void)
{
    static char *const envp[] = {NULL};
    pid_t rm;
    int i;

    for (i = 0; i < COUCHPROC_MAX_LIVE; i++)
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
    for (i = 0; i < COUCHPROC_MAX_LIVE; i++) {
        char *argv[] = {"rm", "-rf", "--", live_dirs[i], NULL};
        if (live_dirs[i][0] == '\0')
            continue;
        rm = fork();
        if (rm == 0) {
            execve("/bin/rm", argv, envp);
            _exit(127);
        }
        if (rm > 0)
            waitpid(rm, NULL, 0);
        live_dirs[i][0] = '\0';
    }
}

/* Kill ours, then let whatever handled SIGABRT before us run too. */
static void
on_abort(int sig)
{
    kill_all();
    if (old_abort.sa_handler != SIG_DFL && old_abort.sa_handler != SIG_IGN &&
        !(old_abort.sa_flags & SA_SIGINFO))
        old_abort.sa_handler(sig);
}

static void
install_handlers(void)
{
    struct sigaction sa;

    if (handlers_installed)
        return;
    handlers_installed = 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_abort;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGABRT, &sa, &old_abort);
    atexit(kill_all);
}

const char *
couchproc_bin(void)
{
    const char *b = getenv("RESO_POUCHDB_SERVER");

    return b != NULL && b[0] != '\0' ? b : RESO_POUCHDB_SERVER_DEFAULT;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* A port nobody listens on right now (bind 0, read it, close). */
static int
free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* 1 if GET / on the port answers "HTTP/1.x 200". */
static int
answers(int port)
{
    static const char req[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    struct sockaddr_in a;
    struct timeval tv = {2, 0};
    char buf[32];
    ssize_t n;
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;

    if (fd < 0)
        return 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1)) {
        while (got < 12 &&
               (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
            got += (size_t)n;
        buf[got] = '\0';
        ok = got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 &&
             strncmp(buf + 9, "200", 3) == 0;
    }
    close(fd);
    return ok;
}

void
couchproc_dump_log(const couchproc_t *p, int lines)
{
    char path[1100], cmd[1200];

    snprintf(path, sizeof(path), "%s/server.log", p->dir);
    snprintf(cmd, sizeof(cmd), "tail -n %d '%s' >&2", lines, path);
    fprintf(stderr, "--- pouchdb-server log (%s) ---\n", path);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}

/* Fork and exec the server, then wait until it answers. */
static int
spawn(couchproc_t *p)
{
    char data[1100], conf[1100], logp[1100], port[16];
    long waited;
    pid_t pid;
    int fd, st;

    snprintf(data, sizeof(data), "%s/data", p->dir);
    snprintf(conf, sizeof(conf), "%s/config.json", p->dir);
    snprintf(logp, sizeof(logp), "%s/server.log", p->dir);
    snprintf(port, sizeof(port), "%d", p->port);
    if (mkdir(data, 0700) != 0 && errno != EEXIST)
        return -1;
    install_handlers();
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (chdir(p->dir) != 0)
            _exit(126);
        execl(couchproc_bin(), couchproc_bin(), "--host", "127.0.0.1",
              "--port", port, "--dir", data, "--config", conf,
              "--no-stdout-logs", (char *)NULL);
        _exit(127);
    }
    p->pid = pid;
    live_add(pid);
    for (waited = 0; waited < p->wait_ms; waited += 100) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            live_del(pid);
            p->pid = 0;
            fprintf(stderr, "couchproc: pouchdb-server exited early "
                    "(status %d)\n", st);
            couchproc_dump_log(p, 30);
            return -1;
        }
        if (answers(p->port))
            return 0;
        sleep_ms(100);
    }
    fprintf(stderr, "couchproc: pouchdb-server not ready on port %d after "
            "%ld ms\n", p->port, p->wait_ms);
    couchproc_dump_log(p, 30);
    couchproc_kill9(p);
    return -1;
}

int
couchproc_start(couchproc_t *p)
{
    char tmpl[] = "/tmp/reso-couch-XXXXXX";

    memset(p, 0, sizeof(*p));
    p->wait_ms = COUCHPROC_WAIT_MS;
    if (access(couchproc_bin(), X_OK) != 0) {
        fprintf(stderr, "couchproc: %s is not installed (run "
                "scripts/setup.sh)\n", couchproc_bin());
        return COUCHPROC_MISSING;
    }
    if (mkdtemp(tmpl) == NULL)
        return -1;
    snprintf(p->dir, sizeof(p->dir), "%s", tmpl);
    install_handlers();
    dir_add(p->dir);
    p->port = free_port();
    if (p->port <= 0)
        return -1;
    snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%d", p->port);
    return spawn(p);
}

int
couchproc_restart(couchproc_t *p)
{
    if (p->pid > 0)
        couchproc_stop(p);
    return spawn(p);
}

int
couchproc_stop(couchproc_t *p)
{
    long waited;

    if (p->pid <= 0)
        return 0;
    kill(p->pid, SIGTERM);
    for (waited = 0; waited < p->wait_ms; waited += 50) {
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid)
            break;
        sleep_ms(50);
    }
    if (waited >= p->wait_ms) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    live_del(p->pid);
    p->pid = 0;
    return 0;
}

void
couchproc_kill9(couchproc_t *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    live_del(p->pid);
    p->pid = 0;
}

void
couchproc_free(couchproc_t *p)
{
    char cmd[1100];

    couchproc_stop(p);
    if (p->dir[0] == '\0')
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "couchproc: could not remove %s\n", p->dir);
    dir_del(p->dir);
    p->dir[0] = '\0';
}
