/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A connection handle to one Fabric peer (or any gRPC endpoint): one
 * grpc-core channel with TLS (optionally mutual), Fabric-friendly channel
 * arguments (100 MiB messages, keepalive pings no more often than the
 * peer's 60 s minimum) and lazy connection with automatic reconnects.
 *
 * Every Gateway call made through the connection gets its own deadline and
 * completion queue, so one connection serves any number of threads. A
 * hlf_gateway_t borrows a connection and never closes it. Each open
 * connection holds one grpc_init() reference; grpc-core's log lines are
 * routed to hlf_log (component "grpc").
 *
 * THREAD SAFETY: a connection may be used by many threads at once
 * (gateways, calls, event streams). hlf_conn_close must be called exactly
 * once, after every gateway and event stream using the connection is
 * closed.
 */
#ifndef HLF_CONN_H
#define HLF_CONN_H

#include "hlf/err.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hlf_conn_s hlf_conn_t;

/* Keepalive ping interval when hlf_conn_opts_t.keepalive_time_ms is 0. */
#define HLF_DEFAULT_KEEPALIVE_TIME_MS 120000
/* Fabric peers and orderers send GOAWAY to clients pinging more often. */
#define HLF_MIN_KEEPALIVE_TIME_MS 60000
/* Largest message sent or received (Fabric's default limit). */
#define HLF_MAX_MESSAGE_BYTES (100 * 1024 * 1024)

/* Options for hlf_conn_new; all strings are borrowed for the call only. */
typedef struct hlf_conn_opts_s {
    /* "host:port", e.g. "127.0.0.1:7051". Required. */
    const char *target;
    /*
     * PEM file with the CA certificate(s) that issued the server's TLS
     * certificate (e.g. the peer's tls/ca.crt). Required unless
     * insecure_plaintext is set.
     */
    const char *tls_ca_file;
    /*
     * Name to verify the server certificate against instead of the host in
     * target (e.g. "peer0.brokerage.reso.example"); NULL to use the target
     * host (the reso-certs TLS certificates also carry IP:127.0.0.1).
     */
    const char *tls_server_name;
    /* Client certificate and key PEM files for mutual TLS: both or none. */
    const char *tls_client_cert_file;
    const char *tls_client_key_file;
    /* Keepalive ping interval; 0 for the default, else >= 60000. */
    int64_t keepalive_time_ms;
    /*
     * Plaintext HTTP/2 without TLS. ONLY for in-process unit-test servers;
     * Fabric peers always use TLS. tls_* must then be NULL.
     */
    int insecure_plaintext;
} hlf_conn_opts_t;

/*
 * Create a connection (no network I/O happens yet: the channel connects on
 * first use and reconnects with backoff). The TLS files are read now.
 * On success *out is new; release it with hlf_conn_close.
 * Errors: HLF_EINVAL (missing target, keepalive below 60 s, half a client
 * key pair, TLS options with insecure_plaintext), HLF_ENOTFOUND/HLF_EIO
 * (TLS file), HLF_ENOMEM, HLF_EGRPC (grpc-core refused the channel).
 */
int hlf_conn_new(const hlf_conn_opts_t *opts, hlf_conn_t **out,
                 hlf_error_t *err);

/*
 * Try to reach the server within timeout_ms: HLF_OK once the channel is
 * READY, HLF_EUNAVAIL if the connection attempt failed, HLF_ETIMEDOUT if it
 * is still connecting when the time is up. Optional: calls connect on
 * their own; this is for startup checks and health probes.
 */
int hlf_conn_wait_ready(hlf_conn_t *conn, int64_t timeout_ms,
                        hlf_error_t *err);

/* The target string (borrowed, lives as long as the connection). */
const char *hlf_conn_target(const hlf_conn_t *conn);

/*
 * Close the channel and free the handle. Only after every gateway, call
 * and event stream using it has finished (see THREAD SAFETY above). The
 * last open connection also releases grpc-core (grpc_shutdown). NULL is a
 * no-op.
 */
void hlf_conn_close(hlf_conn_t *conn);

#ifdef __cplusplus
}
#endif
#endif /* HLF_CONN_H */
