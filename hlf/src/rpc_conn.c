/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlf_conn_t: a grpc-core channel to one peer with the channel arguments
 * Fabric needs, TLS credentials, connectivity checks, and the library's
 * grpc_init/grpc_shutdown pairing (one grpc_init reference per open
 * connection, so grpc-core is torn down when the last one closes).
 */
#include "rpc_int.h"
#include "file.h"
#include "hlf/log.h"
#include "hlf/mem.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

/* A PEM file of CA certificates or a client certificate. */
#define TLS_FILE_MAX (1024 * 1024)
/*
 * Peer restarts are routine on a local network; cap reconnect backoff well
 * below grpc-core's two-minute default so calls recover quickly.
 */
#define MAX_RECONNECT_BACKOFF_MS 10000
#define KEEPALIVE_TIMEOUT_MS 20000

/*
 * grpc-core's own log lines (connection failures, TLS handshake errors) go
 * through hlf_log like everything else, as component "grpc", so every
 * binary has one log format.
 */
static void
grpc_to_hlf_log(gpr_log_func_args *a)
{
    const char *file = strrchr(a->file, '/');
    hlf_log_level_t level = HLF_LOG_DEBUG;

    if (a->severity == GPR_LOG_SEVERITY_ERROR)
        level = HLF_LOG_ERROR;
    else if (a->severity == GPR_LOG_SEVERITY_INFO)
        level = HLF_LOG_INFO;
    hlf_log(level, "grpc", "%s (%s:%d)", a->message,
            file != NULL ? file + 1 : a->file, a->line);
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void
install_log(void)
{
    gpr_set_log_function(grpc_to_hlf_log);
}

static int
check_opts(const hlf_conn_opts_t *o, hlf_error_t *err)
{
    int tls = o->tls_ca_file != NULL || o->tls_server_name != NULL ||
              o->tls_client_cert_file != NULL ||
              o->tls_client_key_file != NULL;

    if (o->target == NULL || o->target[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL, "connection: no target");
    if (o->keepalive_time_ms != 0 &&
        o->keepalive_time_ms < HLF_MIN_KEEPALIVE_TIME_MS)
        return hlf_error_set(err, HLF_EINVAL,
                             "connection %s: keepalive %lld ms is below the "
                             "%d ms Fabric peers accept",
                             o->target, (long long)o->keepalive_time_ms,
                             HLF_MIN_KEEPALIVE_TIME_MS);
    if (o->keepalive_time_ms > INT_MAX)
        return hlf_error_set(err, HLF_EINVAL,
                             "connection %s: keepalive %lld ms is too large",
                             o->target, (long long)o->keepalive_time_ms);
    if (o->insecure_plaintext && tls)
        return hlf_error_set(err, HLF_EINVAL,
                             "connection %s: TLS options given with "
                             "insecure_plaintext",
                             o->target);
    if (!o->insecure_plaintext && o->tls_ca_file == NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "connection %s: no TLS CA file", o->target);
    if ((o->tls_client_cert_file == NULL) !=
        (o->tls_client_key_file == NULL))
        return hlf_error_set(err, HLF_EINVAL,
                             "connection %s: mutual TLS needs both a client "
                             "certificate and a key",
                             o->target);
    return HLF_OK;
}

/* Build TLS credentials from the option files (read and wiped here). */
static int
tls_creds(const hlf_conn_opts_t *o, grpc_channel_credentials **out,
          hlf_error_t *err)
{
    char *ca = NULL, *cert = NULL, *key = NULL;
    size_t ca_len = 0, cert_len = 0, key_len = 0;
    grpc_ssl_pem_key_cert_pair pair;
    int rc;

    rc = hlf__read_file(o->tls_ca_file, TLS_FILE_MAX, &ca, &ca_len, err);
    if (rc == HLF_OK && o->tls_client_cert_file != NULL)
        rc = hlf__read_file(o->tls_client_cert_file, TLS_FILE_MAX, &cert,
                            &cert_len, err);
    if (rc == HLF_OK && o->tls_client_key_file != NULL)
        rc = hlf__read_file(o->tls_client_key_file, TLS_FILE_MAX, &key,
                            &key_len, err);
    if (rc != HLF_OK)
        goto done;
    pair.private_key = key;
    pair.cert_chain = cert;
    /* grpc-core copies the PEM strings, so ours can be wiped right away. */
    *out = grpc_ssl_credentials_create(ca, key != NULL ? &pair : NULL, NULL,
                                       NULL);
    if (*out == NULL)
        rc = hlf_error_set(err, HLF_EGRPC,
                           "connection %s: grpc-core rejected the TLS "
                           "credentials",
                           o->target);
done:
    hlf_free(ca);
    hlf_free(cert);
    hlf__free_secret(key, key_len);
    return rc;
}

static void
int_arg(grpc_arg *a, const char *key, int value)
{
    a->type = GRPC_ARG_INTEGER;
    a->key = (char *)key;
    a->value.integer = value;
}

int
hlf_conn_new(const hlf_conn_opts_t *opts, hlf_conn_t **out, hlf_error_t *err)
{
    grpc_channel_credentials *creds = NULL;
    grpc_channel_args cargs;
    grpc_arg args[8];
    hlf_conn_t *c = NULL;
    int rc;

    if (out == NULL || opts == NULL)
        return hlf_error_set(err, HLF_EINVAL, "connection: NULL argument");
    *out = NULL;
    rc = check_opts(opts, err);
    if (rc != HLF_OK)
        return rc;
    pthread_once(&log_once, install_log);
    grpc_init();
    if (opts->insecure_plaintext)
        creds = grpc_insecure_credentials_create();
    else {
        rc = tls_creds(opts, &creds, err);
        if (rc != HLF_OK)
            goto fail;
    }
    c = hlf_calloc(1, sizeof(*c));
    if (c == NULL || (c->target = hlf_strdup(opts->target)) == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "connection: out of memory");
        goto fail;
    }
    memset(args, 0, sizeof(args));
    cargs.num_args = 0;
    cargs.args = args;
    int_arg(&args[cargs.num_args++], GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
            HLF_MAX_MESSAGE_BYTES);
    int_arg(&args[cargs.num_args++], GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
            HLF_MAX_MESSAGE_BYTES);
    int_arg(&args[cargs.num_args++], GRPC_ARG_KEEPALIVE_TIME_MS,
            (int)(opts->keepalive_time_ms ? opts->keepalive_time_ms
                                          : HLF_DEFAULT_KEEPALIVE_TIME_MS));
    int_arg(&args[cargs.num_args++], GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
            KEEPALIVE_TIMEOUT_MS);
    /* Keep pinging an idle event stream so a dead peer is noticed. */
    int_arg(&args[cargs.num_args++], GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA,
            0);
    int_arg(&args[cargs.num_args++], GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
            MAX_RECONNECT_BACKOFF_MS);
    if (opts->tls_server_name != NULL) {
        args[cargs.num_args].type = GRPC_ARG_STRING;
        args[cargs.num_args].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
        args[cargs.num_args].value.string = (char *)opts->tls_server_name;
        cargs.num_args++;
    }
    c->channel = grpc_channel_create(opts->target, creds, &cargs);
    if (c->channel == NULL) {
        rc = hlf_error_set(err, HLF_EGRPC,
                           "connection %s: grpc-core refused the channel",
                           opts->target);
        goto fail;
    }
    grpc_channel_credentials_release(creds);
    *out = c;
    return HLF_OK;
fail:
    if (creds != NULL)
        grpc_channel_credentials_release(creds);
    if (c != NULL)
        hlf_free(c->target);
    hlf_free(c);
    grpc_shutdown();
    return rc;
}

const char *
hlf_conn_target(const hlf_conn_t *conn)
{
    return conn->target;
}

int
hlf_conn_wait_ready(hlf_conn_t *conn, int64_t timeout_ms, hlf_error_t *err)
{
    grpc_connectivity_state st;
    grpc_completion_queue *cq;
    gpr_timespec deadline;
    grpc_event ev;
    int rc = HLF_ETIMEDOUT;
    static int tag;

    deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                            gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    cq = grpc_completion_queue_create_for_pluck(NULL);
    st = grpc_channel_check_connectivity_state(conn->channel, 1);
    for (;;) {
        if (st == GRPC_CHANNEL_READY) {
            rc = HLF_OK;
            break;
        }
        if (st == GRPC_CHANNEL_TRANSIENT_FAILURE ||
            st == GRPC_CHANNEL_SHUTDOWN) {
            rc = hlf_error_set(err, HLF_EUNAVAIL,
                               "connection %s: cannot connect", conn->target);
            break;
        }
        grpc_channel_watch_connectivity_state(conn->channel, st, deadline, cq,
                                              &tag);
        ev = grpc_completion_queue_pluck(
            cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (!ev.success) {
            rc = hlf_error_set(err, HLF_ETIMEDOUT,
                               "connection %s: not ready after %lld ms",
                               conn->target, (long long)timeout_ms);
            break;
        }
        st = grpc_channel_check_connectivity_state(conn->channel, 1);
    }
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
    return rc;
}

void
hlf_conn_close(hlf_conn_t *conn)
{
    if (conn == NULL)
        return;
    grpc_channel_destroy(conn->channel);
    hlf_free(conn->target);
    hlf_free(conn);
    grpc_shutdown();
}
