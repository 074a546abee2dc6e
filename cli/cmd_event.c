/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resoctl's ledger commands: record a RESO event, read one back, play back
 * a subject's history and follow committed events. They talk to the `reso`
 * chaincode through a peer's Gateway service with libhlf, as the client
 * identity of one organisation.
 *
 *   resoctl event record FILE|-        RecordEvent, waits for the commit
 *   resoctl event get TRANSACTION_ID   GetEvent
 *   resoctl subject history SUBJECT    GetSubjectHistory
 *   resoctl events tail [--from-block N] [--count K]
 *
 * Where the network is comes from `resoctl network env --json` for the run
 * directory (--run-dir), or from a saved copy of that JSON (--env FILE).
 * Results are JSON on stdout; errors go to stderr with a non-zero exit
 * status. When the chaincode rejects an event its error object
 * {"error":{"code","field","message"}} is printed on stderr as is and the
 * exit status is RESOCTL_EXIT_REJECTED.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hlf/events.h"
#include "hlf/gateway.h"

#include "netenv.h"
#include "resoctl.h"

/* Largest event document accepted from a file or stdin. */
#define EVENT_MAX_BYTES (1024 * 1024)

typedef struct {
    const char *run_dir;
    const char *env_file;
    const char *org;
    const char *user;      /* "client" or "admin" */
    int has_from_block;
    uint64_t from_block;
    long count;            /* events tail: stop after this many; 0 = never */
    const char *positional;
} opts_t;

/* Everything one command needs to talk to the ledger; see ctx_open. */
typedef struct {
    json_t *env;
    reso_org_t org;
} ctx_t;

static void
usage(FILE *out)
{
    fputs("usage: resoctl event record FILE|-    [options]\n"
          "       resoctl event get TRANSACTION_ID [options]\n"
          "       resoctl subject history SUBJECT  [options]\n"
          "       resoctl events tail [--from-block N] [--count K] "
          "[options]\n"
          "options:\n"
          "  --org ORG        organisation whose identity is used: "
          "Brokerage (default),\n"
          "                   Association or MLS\n"
          "  --user ROLE      client (default) or admin\n"
          "  --run-dir DIR    the network's run directory (default: "
          "<source>/run/network)\n"
          "  --env FILE       use this saved `resoctl network env --json` "
          "output instead\n",
          out);
}

static int
parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* Parse options after the sub-command; returns an exit status or -1 = ok. */
static int
parse_opts(int argc, char **argv, int first, opts_t *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->org = "Brokerage";
    o->user = "client";
    for (i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return RESOCTL_EXIT_OK;
        }
        if (strcmp(a, "--org") == 0 || strcmp(a, "--user") == 0 ||
            strcmp(a, "--run-dir") == 0 || strcmp(a, "--env") == 0 ||
            strcmp(a, "--from-block") == 0 || strcmp(a, "--count") == 0) {
            if (v == NULL) {
                fprintf(stderr, "resoctl: %s needs a value\n", a);
                return RESOCTL_EXIT_USAGE;
            }
            i++;
            if (strcmp(a, "--org") == 0) {
                o->org = v;
            } else if (strcmp(a, "--user") == 0) {
                if (strcmp(v, "client") != 0 && strcmp(v, "admin") != 0) {
                    fprintf(stderr, "resoctl: --user \"%s\": expected "
                            "client or admin\n", v);
                    return RESOCTL_EXIT_USAGE;
                }
                o->user = v;
            } else if (strcmp(a, "--run-dir") == 0) {
                o->run_dir = v;
            } else if (strcmp(a, "--env") == 0) {
                o->env_file = v;
            } else if (strcmp(a, "--from-block") == 0) {
                if (parse_u64(v, &o->from_block) != 0) {
                    fprintf(stderr, "resoctl: --from-block \"%s\": expected "
                            "a block number (0 or more)\n", v);
                    return RESOCTL_EXIT_USAGE;
                }
                o->has_from_block = 1;
            } else {
                uint64_t n;

                if (parse_u64(v, &n) != 0 || n == 0 || n > 100000000) {
                    fprintf(stderr, "resoctl: --count \"%s\": expected a "
                            "number from 1 to 100000000\n", v);
                    return RESOCTL_EXIT_USAGE;
                }
                o->count = (long)n;
            }
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "resoctl: unknown option %s\n", a);
            usage(stderr);
            return RESOCTL_EXIT_USAGE;
        }
        if (o->positional != NULL) {
            fprintf(stderr, "resoctl: unexpected argument \"%s\"\n", a);
            return RESOCTL_EXIT_USAGE;
        }
        o->positional = a;
    }
    return -1;
}

/* Read all of fp (at most EVENT_MAX_BYTES); *out is malloc'd, NUL-ended. */
static int
read_all(FILE *fp, const char *what, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);

    if (buf == NULL)
        return -1;
    for (;;) {
        size_t got;

        if (n == cap) {
            char *nb;

            if (cap >= EVENT_MAX_BYTES) {
                fprintf(stderr, "resoctl: %s is larger than %d bytes\n",
                        what, EVENT_MAX_BYTES);
                free(buf);
                return -1;
            }
            cap *= 2;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                return -1;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        fprintf(stderr, "resoctl: reading %s: %s\n", what, strerror(errno));
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static void
ctx_close(ctx_t *c)
{
    reso_netenv_close_org(&c->org);
    json_decref(c->env);
    c->env = NULL;
}

/* Load the network description and open the org's gateway. */
static int
ctx_open(const opts_t *o, ctx_t *c)
{
    char why[1024];

    memset(c, 0, sizeof(*c));
    if (reso_netenv_load(NULL, o->run_dir, o->env_file, &c->env, why,
                         sizeof(why)) != 0) {
        fprintf(stderr, "resoctl: %s\n", why);
        return RESOCTL_EXIT_PREREQ;
    }
    if (reso_netenv_open_org(c->env, o->org, o->user, &c->org, why,
                             sizeof(why)) != 0) {
        fprintf(stderr, "resoctl: --org %s: %s\n", o->org, why);
        ctx_close(c);
        return RESOCTL_EXIT_FAIL;
    }
    return -1;
}

static int
cmd_record(const opts_t *o)
{
    ctx_t c;
    hlf_error_t err;
    hlf_bytes_t arg, result = {0};
    char *doc = NULL;
    size_t len = 0;
    int rc;

    if (o->positional == NULL) {
        fprintf(stderr, "resoctl: event record needs FILE or - (stdin)\n");
        return RESOCTL_EXIT_USAGE;
    }
    if (strcmp(o->positional, "-") == 0) {
        if (read_all(stdin, "stdin", &doc, &len) != 0)
            return RESOCTL_EXIT_FAIL;
    } else {
        FILE *fp = fopen(o->positional, "rb");

        if (fp == NULL) {
            fprintf(stderr, "resoctl: %s: %s\n", o->positional,
                    strerror(errno));
            return RESOCTL_EXIT_FAIL;
        }
        rc = read_all(fp, o->positional, &doc, &len);
        fclose(fp);
        if (rc != 0)
            return RESOCTL_EXIT_FAIL;
    }
    rc = ctx_open(o, &c);
    if (rc >= 0) {
        free(doc);
        return rc;
    }
    hlf_error_clear(&err);
    arg.data = (uint8_t *)doc;
    arg.len = len;
    if (hlf_contract_submit(c.org.contract, "RecordEvent", &arg, 1, &result,
                            &err) != HLF_OK) {
        rc = reso_netenv_report("RecordEvent", &err);
    } else {
        reso_netenv_print(&result);
        fprintf(stderr, "recorded by %s in block %llu, Fabric txid %s\n",
                o->org, (unsigned long long)err.block_number, err.tx_id);
        rc = RESOCTL_EXIT_OK;
    }
    hlf_bytes_free(&result);
    free(doc);
    ctx_close(&c);
    return rc;
}

/* Evaluate fn(arg) and print its JSON result. */
static int
cmd_query(const opts_t *o, const char *fn, const char *what)
{
    ctx_t c;
    hlf_error_t err;
    hlf_bytes_t arg, result = {0};
    int rc;

    if (o->positional == NULL || o->positional[0] == '\0') {
        fprintf(stderr, "resoctl: %s is required\n", what);
        return RESOCTL_EXIT_USAGE;
    }
    rc = ctx_open(o, &c);
    if (rc >= 0)
        return rc;
    hlf_error_clear(&err);
    arg = hlf_bytes_str(o->positional);
    if (hlf_contract_evaluate(c.org.contract, fn, &arg, 1, &result, &err) !=
        HLF_OK) {
        rc = reso_netenv_report(fn, &err);
    } else {
        reso_netenv_print(&result);
        rc = RESOCTL_EXIT_OK;
    }
    hlf_bytes_free(&result);
    ctx_close(&c);
    return rc;
}

/*
 * events tail ends on SIGINT/SIGTERM. The signals are blocked in every
 * thread and taken by a watcher thread with sigwait, so the cancel runs in
 * normal thread context rather than in a signal handler.
 */
typedef struct {
    hlf_events_t *ev;
    sigset_t set;
} watcher_t;

static void *
watch_signals(void *arg)
{
    watcher_t *w = arg;
    int sig;

    if (sigwait(&w->set, &sig) == 0)
        hlf_events_cancel(w->ev);
    return NULL;
}

static int
cmd_tail(const opts_t *o)
{
    ctx_t c;
    hlf_error_t err;
    hlf_events_opts_t eo;
    hlf_events_t *ev = NULL;
    hlf_event_block_t *blk = NULL;
    watcher_t w;
    pthread_t watcher;
    long seen = 0;
    int rc, n;

    rc = ctx_open(o, &c);
    if (rc >= 0)
        return rc;
    hlf_error_clear(&err);
    memset(&eo, 0, sizeof(eo));
    eo.has_start_block = o->has_from_block;
    eo.start_block = o->from_block;
    if (hlf_network_chaincode_events(c.org.net, c.org.chaincode, &eo, &ev, &err) !=
        HLF_OK) {
        rc = reso_netenv_report("ChaincodeEvents", &err);
        ctx_close(&c);
        return rc;
    }
    w.ev = ev;
    sigemptyset(&w.set);
    sigaddset(&w.set, SIGINT);
    sigaddset(&w.set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &w.set, NULL);
    if (pthread_create(&watcher, NULL, watch_signals, &w) != 0) {
        fprintf(stderr, "resoctl: cannot start the signal watcher\n");
        hlf_events_close(ev);
        ctx_close(&c);
        return RESOCTL_EXIT_FAIL;
    }
    rc = RESOCTL_EXIT_OK;
    while (o->count == 0 || seen < o->count) {
        size_t i;

        n = hlf_events_next(ev, &blk, &err);
        if (n == 0 || n == HLF_ECLOSED)
            break;
        if (n < 0) {
            rc = reso_netenv_report("ChaincodeEvents", &err);
            break;
        }
        for (i = 0; i < blk->nevents && (o->count == 0 || seen < o->count);
             i++) {
            const hlf_chaincode_event_t *e = &blk->events[i];
            json_t *line = json_object();
            json_t *payload = json_loadb((const char *)e->payload,
                                         e->payload_len, 0, NULL);

            json_object_set_new(line, "block",
                                json_integer((json_int_t)blk->block_number));
            json_object_set_new(line, "txid", json_string(e->tx_id));
            json_object_set_new(line, "event_name",
                                json_string(e->event_name));
            json_object_set_new(line, "event",
                                payload ? payload
                                        : json_stringn((const char *)
                                                       e->payload,
                                                       e->payload_len));
            json_dumpf(line, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            fflush(stdout);
            json_decref(line);
            seen++;
        }
        hlf_event_block_free(blk);
        blk = NULL;
    }
    /* Wake the watcher (the signal is blocked, so sigwait takes it). */
    pthread_kill(watcher, SIGTERM);
    pthread_join(watcher, NULL);
    hlf_events_close(ev);
    ctx_close(&c);
    return rc;
}

int
resoctl_cmd_event(int argc, char **argv)
{
    opts_t o;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? RESOCTL_EXIT_USAGE : RESOCTL_EXIT_OK;
    }
    rc = parse_opts(argc, argv, 2, &o);
    if (rc >= 0)
        return rc;
    if (strcmp(argv[1], "record") == 0)
        return cmd_record(&o);
    if (strcmp(argv[1], "get") == 0)
        return cmd_query(&o, "GetEvent", "TRANSACTION_ID");
    fprintf(stderr, "resoctl: unknown sub-command 'event %s'\n", argv[1]);
    usage(stderr);
    return RESOCTL_EXIT_USAGE;
}

int
resoctl_cmd_subject(int argc, char **argv)
{
    opts_t o;
    int rc;

    if (argc < 2 || strcmp(argv[1], "history") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                          strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return RESOCTL_EXIT_OK;
        }
        fprintf(stderr, "resoctl: expected 'subject history SUBJECT'\n");
        return RESOCTL_EXIT_USAGE;
    }
    rc = parse_opts(argc, argv, 2, &o);
    if (rc >= 0)
        return rc;
    return cmd_query(&o, "GetSubjectHistory", "SUBJECT");
}

int
resoctl_cmd_events(int argc, char **argv)
{
    opts_t o;
    int rc;

    if (argc < 2 || strcmp(argv[1], "tail") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                          strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return RESOCTL_EXIT_OK;
        }
        fprintf(stderr, "resoctl: expected 'events tail'\n");
        return RESOCTL_EXIT_USAGE;
    }
    rc = parse_opts(argc, argv, 2, &o);
    if (rc >= 0)
        return rc;
    if (o.positional != NULL) {
        fprintf(stderr, "resoctl: events tail takes no argument \"%s\"\n",
                o.positional);
        return RESOCTL_EXIT_USAGE;
    }
    return cmd_tail(&o);
}
