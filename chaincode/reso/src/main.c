/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-chaincode: the reso event-ledger contract as a chaincode-as-a-
 * service server. The peer dials it; configuration comes only from the
 * environment (docs/event-model.md "Running"):
 *
 *   CHAINCODE_ID               package id (required)
 *   CHAINCODE_SERVER_ADDRESS   host:port to listen on (required)
 *   CORE_PEER_LOCALMSPID       the organisation's MSP id
 *   CHAINCODE_TLS_DISABLED     "true" (default) or "false"
 *   CHAINCODE_TLS_CERT/_KEY    PEM files, required when TLS is on
 *   CHAINCODE_CLIENT_CA_CERT   PEM file; requires client certificates
 *
 * Exit status: 0 after SIGTERM/SIGINT once streams are closed, 2 for a
 * configuration error, 1 for any other failure.
 */
#include "evl_contract.h"

#include "hlf/log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMPONENT "reso-chaincode"

/*
 * Set by the signal handler; the server pointer is published before the
 * flag is checked, so a signal at any moment stops the server.
 */
static volatile sig_atomic_t stop_requested;
static hlf_chaincode_server_t *volatile running_server;

static void
on_signal(int sig)
{
    hlf_chaincode_server_t *srv = running_server;

    (void)sig;
    stop_requested = 1;
    if (srv != NULL)
        hlf_chaincode_server_shutdown(srv);
}

static int
install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    /* A peer that goes away must not kill the process mid-write. */
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

static void
usage(FILE *fp)
{
    fprintf(fp,
            "usage: reso-chaincode\n"
            "Serves the reso chaincode (chaincode as a service). Configure "
            "it with\nCHAINCODE_ID, CHAINCODE_SERVER_ADDRESS, "
            "CORE_PEER_LOCALMSPID, CHAINCODE_TLS_DISABLED,\n"
            "CHAINCODE_TLS_CERT, CHAINCODE_TLS_KEY and "
            "CHAINCODE_CLIENT_CA_CERT.\n");
}

int
main(int argc, char **argv)
{
    const evl_profile_t *profile = evl_profile_find(EVL_DEFAULT_PROFILE);
    hlf_chaincode_server_opts_t opts;
    hlf_chaincode_server_t *srv = NULL;
    hlf_chaincode_t cc;
    hlf_error_t err;
    const char *msp;
    int rc;

    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0 ||
                   strcmp(argv[1], "-h") == 0;

        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    hlf_error_clear(&err);
    memset(&opts, 0, sizeof(opts));
    rc = hlf_chaincode_server_opts_from_env(&opts, &err);
    if (rc != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, COMPONENT, "configuration error: %s",
                err.text[0] ? err.text : hlf_strerror(rc));
        return 2;
    }
    msp = getenv("CORE_PEER_LOCALMSPID");
    if (msp == NULL || msp[0] == '\0')
        hlf_log(HLF_LOG_WARN, COMPONENT,
                "CORE_PEER_LOCALMSPID is not set; GetMSPID will be empty");
    if (install_signals() != 0) {
        hlf_log(HLF_LOG_ERROR, COMPONENT, "cannot install signal handlers");
        return 1;
    }
    cc.init = NULL;
    cc.invoke = evl_invoke;
    cc.ud = (void *)profile;
    rc = hlf_chaincode_server_new(&srv, &opts, &cc, &err);
    if (rc != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, COMPONENT, "cannot start on %s: %s",
                opts.address, err.text[0] ? err.text : hlf_strerror(rc));
        return rc == HLF_ECONFIG || rc == HLF_EINVAL ? 2 : 1;
    }
    running_server = srv;
    if (stop_requested)
        hlf_chaincode_server_shutdown(srv);
    /* Paths and ids only: never key material. */
    hlf_log(HLF_LOG_INFO, COMPONENT,
            "serving chaincode_id=%s address=%s port=%d tls=%s "
            "client_auth=%s msp_id=%s lookup_profile=%s",
            opts.chaincode_id, opts.address,
            hlf_chaincode_server_port(srv),
            opts.tls_cert_file != NULL ? "on" : "off",
            opts.client_ca_file != NULL ? "required" : "off",
            msp != NULL && msp[0] != '\0' ? msp : "(unset)", profile->id);
    rc = hlf_chaincode_server_serve(srv, &err);
    running_server = NULL;
    hlf_chaincode_server_free(srv);
    if (rc != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, COMPONENT, "server failed: %s",
                err.text[0] ? err.text : hlf_strerror(rc));
        return 1;
    }
    hlf_log(HLF_LOG_INFO, COMPONENT, "stopped");
    return 0;
}
