/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway's entry point: command line, start order, waiting for
 * SIGTERM/SIGINT and the ordered drain (see gw.h for the sequence). The
 * daemon itself is gw_daemon_main so that tests can run it in a child
 * process with their own modules; main() passes the modules listed in
 * gateway/CMakeLists.txt.
 */
#include "gw.h"

#include "hlf/log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_CONFIG 2

static void
usage(FILE *fp)
{
    fprintf(fp,
            "usage: reso-gateway [--config FILE] [--check-config | "
            "--list-routes]\n"
            "\n"
            "  --config FILE   configuration file (default: $RESO_GW_CONFIG,"
            " else\n"
            "                  built-in defaults plus RESO_GW_* variables)\n"
            "  --check-config  validate the configuration (including the "
            "identity\n"
            "                  and TLS files it names) and exit: 0 valid, "
            "2 invalid\n"
            "  --list-routes   print METHOD PATTERN of every served route "
            "and exit\n"
            "  --help          this text and the configuration keys\n"
            "\n"
            "Signals: SIGTERM/SIGINT drain in-flight requests, save "
            "checkpoints and\n"
            "exit 0 (a second signal exits at once).\n"
            "\n"
            "Configuration keys (file lines `key value`, or environment "
            "RESO_GW_<KEY>):\n");
    gw_config_print_reference(fp);
}

static void
on_signal(int sig)
{
    (void)sig;
    if (gw_shutdown_requested())
        _exit(1);
    gw_shutdown_request();
}

static int
install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    return 0;
}

/* mkdir -p with mode 0700 for directories we create. */
static int
make_dirs(const char *path)
{
    char buf[4096];
    size_t i, n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        buf[i] = i < n ? '/' : '\0';
    }
    return 0;
}

/* Write state_dir/gateway.addr ("host:port\n") atomically, so scripts and
 * tests find a gateway started on port 0. */
static void
write_addr_file(const gw_config_t *cfg, int port)
{
    char path[4096], tmp[4200];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/gateway.addr", cfg->state_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fp = fopen(tmp, "w");
    if (fp == NULL) {
        hlf_log(HLF_LOG_WARN, "gw", "cannot write %s: %s", tmp,
                strerror(errno));
        return;
    }
    fprintf(fp, "%s:%d\n", cfg->listen_host, port);
    if (fclose(fp) != 0 || rename(tmp, path) != 0)
        hlf_log(HLF_LOG_WARN, "gw", "cannot write %s: %s", path,
                strerror(errno));
}

static int
init_modules(const gw_config_t *cfg, const gw_module_t *const *mods,
             size_t n)
{
    hlf_error_t err;
    size_t i;

    for (i = 0; i < n; i++) {
        hlf_error_clear(&err);
        if (mods[i]->init != NULL && mods[i]->init(cfg, &err) != HLF_OK) {
            hlf_log(HLF_LOG_ERROR, "gw", "module %s: init failed: %s",
                    mods[i]->name, err.text);
            return -1;
        }
    }
    return 0;
}

static void
stop_modules(const gw_module_t *const *mods, size_t started)
{
    while (started > 0) {
        const gw_module_t *m = mods[--started];

        if (m->stop != NULL) {
            hlf_log(HLF_LOG_INFO, "gw", "stopping module %s", m->name);
            m->stop();
        }
    }
}

static int
list_routes(const gw_config_t *cfg, const gw_module_t *const *mods,
            size_t n)
{
    int rc = 0;

    if (gw_core_routes() != HLF_OK || init_modules(cfg, mods, n) != 0)
        rc = 1;
    else
        gw_http_list_routes(stdout);
    gw_http_stop();
    gw_health_reset();
    gw_metrics_reset();
    return rc;
}

static int
check_config(gw_config_t *cfg)
{
    hlf_error_t err;

    if (gw_config_open(cfg, &err) != HLF_OK) {
        fprintf(stderr, "%s\n", err.text);
        return EXIT_CONFIG;
    }
    printf("%s: ok (%zu identities, %zu peers, %zu API keys, channel %s, "
           "chaincode %s)\n", cfg->file ? cfg->file : "(defaults)",
           cfg->nidentities, cfg->npeers, cfg->napikeys, cfg->channel,
           cfg->chaincode);
    return 0;
}

/* Everything after a valid config: start, wait, drain, stop. */
static int
run(gw_config_t *cfg, const gw_module_t *const *mods, size_t nmods)
{
    hlf_error_t err;
    size_t started = 0;
    int rc = 1, left;

    if (make_dirs(cfg->state_dir) != 0) {
        hlf_log(HLF_LOG_ERROR, "gw", "cannot create state_dir %s: %s",
                cfg->state_dir, strerror(errno));
        return 1;
    }
    if (gw_config_open(cfg, &err) != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, "gw", "%s", err.text);
        return EXIT_CONFIG;
    }
    if (gw_auth_init(cfg) != HLF_OK ||
        gw_pool_start(cfg->workers, cfg->pool_queue_max) != HLF_OK ||
        gw_health_register_peers(cfg) != HLF_OK ||
        gw_core_routes() != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, "gw", "cannot start the core");
        goto out;
    }
    if (init_modules(cfg, mods, nmods) != 0)
        goto out;
    for (started = 0; started < nmods; started++) {
        const gw_module_t *m = mods[started];

        hlf_error_clear(&err);
        if (m->start != NULL && m->start(cfg, &err) != HLF_OK) {
            hlf_log(HLF_LOG_ERROR, "gw", "module %s: start failed: %s",
                    m->name, err.text);
            goto out;
        }
    }
    if (gw_http_start(cfg, &err) != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, "gw", "%s", err.text);
        goto out;
    }
    write_addr_file(cfg, gw_http_port());
    hlf_log(HLF_LOG_INFO, "gw", "listening on http://%s:%d (channel %s, "
            "%zu identities, %zu peers, %zu API keys)", cfg->listen_host,
            gw_http_port(), cfg->channel, cfg->nidentities, cfg->npeers,
            cfg->napikeys);
    if (gw_shutdown_wait() != HLF_OK)
        hlf_log(HLF_LOG_ERROR, "gw", "cannot wait for signals");
    hlf_log(HLF_LOG_INFO, "gw", "shutting down: draining %d request(s)",
            gw_http_in_flight());
    left = gw_http_drain(cfg->request_timeout_ms + 1000);
    if (left > 0)
        hlf_log(HLF_LOG_WARN, "gw", "%d request(s) did not finish", left);
    rc = 0;
out:
    stop_modules(mods, started);
    gw_http_stop();
    gw_pool_stop();
    gw_auth_free();
    gw_health_reset();
    gw_metrics_reset();
    if (rc == 0) {
        char path[4096];

        snprintf(path, sizeof(path), "%s/gateway.addr", cfg->state_dir);
        unlink(path);
        hlf_log(HLF_LOG_INFO, "gw", "stopped");
    }
    return rc;
}

int
gw_daemon_main(int argc, char **argv, const gw_module_t *const *mods,
               size_t nmods)
{
    const char *path = getenv("RESO_GW_CONFIG");
    int check = 0, routes_only = 0, i, rc;
    gw_config_t *cfg = NULL;
    hlf_error_t err;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--list-routes") == 0) {
            routes_only = 1;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "reso-gateway: unknown or incomplete argument "
                    "\"%s\"\n", argv[i]);
            usage(stderr);
            return EXIT_CONFIG;
        }
    }
    if (install_signals() != 0) {
        fprintf(stderr, "reso-gateway: cannot install signal handlers\n");
        return 1;
    }
    if (gw_config_load(path, &cfg, stderr, &err) != HLF_OK) {
        fprintf(stderr, "reso-gateway: invalid configuration\n");
        return EXIT_CONFIG;
    }
    if (cfg->log_level >= 0)
        hlf_log_set_level((hlf_log_level_t)cfg->log_level);
    gw_config_install(cfg);
    if (routes_only)
        rc = list_routes(cfg, mods, nmods);
    else if (check)
        rc = check_config(cfg);
    else
        rc = run(cfg, mods, nmods);
    gw_config_free(cfg);
    return rc;
}

#ifndef GW_NO_MAIN
/* gw_modules.h is generated from GW_MODULES in gateway/CMakeLists.txt:
 * one GW_MODULE(name) line per module, in start order. */
#define GW_MODULE(name) extern const gw_module_t gw_module_##name;
#include "gw_modules.h"
#undef GW_MODULE

static const gw_module_t *const modules[] = {
#define GW_MODULE(name) &gw_module_##name,
#include "gw_modules.h"
#undef GW_MODULE
    NULL};

int
main(int argc, char **argv)
{
    return gw_daemon_main(argc, argv, modules,
                          sizeof(modules) / sizeof(modules[0]) - 1);
}
#endif
