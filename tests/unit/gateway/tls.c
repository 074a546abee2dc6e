/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTPS and mutual TLS on the gateway's listener (http.c, auth.c,
 * config.c), with certificates made by reso-certs for two orgs: org A's
 * peer TLS certificate serves HTTPS, org A's TLS CA is tls_client_ca,
 * User1@a is bound to identity Brokerage by a clientcert line. Checked:
 * HTTPS works and a client trusting another CA refuses the server; API
 * keys keep working over HTTPS (and win over a certificate); a bound
 * certificate authenticates as its identity, X-Reso-Identity for another
 * identity is 403; a verified certificate without a clientcert entry, a
 * certificate from another CA and no credentials at all are 401; the
 * config refuses clientcert without tls_client_ca, tls_client_ca without
 * tls_cert, half an HTTPS pair and a bad fingerprint.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "gwtest.h"
#include "hlf/crypto.h"
#include "task.h"

#ifndef RESO_CERTS_BIN
#define RESO_CERTS_BIN "reso-certs"
#endif

#define KEY_B "tls-test-key-brokerage-0123456789"

static char *certs; /* reso-certs output dir */

/* certs/peerOrganizations/<org>.example/<rest> into buf. */
static const char *
cpath(char *buf, size_t n, const char *org, const char *rest)
{
    snprintf(buf, n, "%s/peerOrganizations/%s.example/%s", certs, org,
             rest);
    return buf;
}

static void
make_certs(void)
{
    char cmd[2048];

    if (certs != NULL)
        return;
    certs = gwt_tmpdir();
    snprintf(cmd, sizeof(cmd), "'%s' generate --out '%s/c' --sans "
             "127.0.0.1,localhost --org A:AMSP:a.example --org "
             "B:BMSP:b.example --users 2 >/dev/null 2>&1", RESO_CERTS_BIN,
             certs);
    ASSERT_EQ(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s/c", certs);
    free(certs);
    certs = strdup(cmd);
    ASSERT_NOT_NULL(certs);
}

/* "AA:BB:..." SHA-256 of the DER encoding of the PEM certificate. */
static void
fingerprint(const char *pem_path, char out[96])
{
    FILE *fp = fopen(pem_path, "r");
    X509 *x;
    unsigned char *der = NULL;
    uint8_t d[32];
    int len, i;

    ASSERT_NOT_NULL(fp);
    x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    ASSERT_NOT_NULL(x);
    len = i2d_X509(x, &der);
    ASSERT(len > 0);
    hlf_sha256(der, (size_t)len, d);
    OPENSSL_free(der);
    X509_free(x);
    for (i = 0; i < 32; i++)
        snprintf(out + 3 * i, 4, i < 31 ? "%02X:" : "%02X", d[i]);
}

static int
h_who(gw_req_t *req)
{
    const gw_principal_t *p = gw_req_principal(req);

    return gw_reply_json(req, 200, json_pack("{s:s, s:s}", "key",
                                             p->key_name, "identity",
                                             p->identity->name),
                         NULL, 0);
}

static gw_config_t *
start_tls(int *port)
{
    char text[4096], hb[65], fp[96], p1[1024], p2[1024], p3[1024];
    gw_config_t *cfg;

    make_certs();
    gwt_sha256_hex(KEY_B, hb);
    fingerprint(cpath(p1, sizeof(p1), "a",
                      "users/User1@a.example/tls/client.crt"), fp);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:0\n"
             "access_log no\n"
             "rate_limit_per_key 0\n"
             "identity Brokerage BrokerageMSP /nonexistent/b\n"
             "identity MLS MLSMSP /nonexistent/m\n"
             "apikey brokerage-app Brokerage %s\n"
             "tls_cert %s\n"
             "tls_key %s\n"
             "tls_client_ca %s\n"
             "clientcert user1-a Brokerage %s\n",
             hb,
             cpath(p1, sizeof(p1), "a", "peers/peer0.a.example/tls/"
                                        "server.crt"),
             cpath(p2, sizeof(p2), "a", "peers/peer0.a.example/tls/"
                                        "server.key"),
             cpath(p3, sizeof(p3), "a", "tlsca/tlsca.a.example-cert.pem"),
             fp);
    cfg = gwt_config(text);
    ASSERT_EQ(cfg->nclientcerts, 1);
    ASSERT_EQ(gw_core_routes(), HLF_OK);
    ASSERT_EQ(gw_http_route("GET", "/t/who", h_who, GW_ROUTE_AUTH),
              HLF_OK);
    *port = gwt_start(cfg);
    return cfg;
}

/*
 * GET https://127.0.0.1:port/path trusting server_ca_org's TLS CA, with
 * the client certificate of user@org (NULL: none) and extra headers.
 */
static void
tls_get(int port, const char *path, const char *server_ca_org,
        const char *user, const char *org, const char *const *hdrs,
        gwt_resp_t *r)
{
    char ca[1024], crt[1024], key[1024], rest[256];

    snprintf(rest, sizeof(rest), "tlsca/tlsca.%s.example-cert.pem",
             server_ca_org);
    cpath(ca, sizeof(ca), server_ca_org, rest);
    if (user != NULL) {
        snprintf(rest, sizeof(rest), "users/%s@%s.example/tls/client.crt",
                 user, org);
        cpath(crt, sizeof(crt), org, rest);
        snprintf(rest, sizeof(rest), "users/%s@%s.example/tls/client.key",
                 user, org);
        cpath(key, sizeof(key), org, rest);
    }
    gwt_tls_http("https", "GET", port, path, ca, user != NULL ? crt : NULL,
                 user != NULL ? key : NULL, hdrs, NULL, r);
}

static void
expect_who(const gwt_resp_t *r, const char *key, const char *identity)
{
    json_t *j;

    if (r->curl_rc != 0 || r->status != 200)
        TEST__FAIL("curl %d, status %ld: %s", r->curl_rc, r->status,
                   r->body ? r->body : "");
    j = json_loads(r->body, 0, NULL);
    ASSERT_NOT_NULL(j);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "key")), key);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "identity")),
                  identity);
    json_decref(j);
}

static void
expect_error(const gwt_resp_t *r, long status, const char *code,
             const char *msg_part)
{
    json_t *j, *e;

    if (r->curl_rc != 0 || r->status != status)
        TEST__FAIL("curl %d, status %ld (want %ld): %s", r->curl_rc,
                   r->status, status, r->body ? r->body : "");
    j = json_loads(r->body, 0, NULL);
    ASSERT_NOT_NULL(j);
    e = json_object_get(j, "error");
    ASSERT_STR_EQ(json_string_value(json_object_get(e, "code")), code);
    if (strstr(json_string_value(json_object_get(e, "message")),
               msg_part) == NULL)
        TEST__FAIL("message %s lacks \"%s\"", r->body, msg_part);
    json_decref(j);
}

TEST_IMPL(https_and_api_keys)
{
    const char *auth[] = {"Authorization: Bearer " KEY_B, NULL};
    const char *bad[] = {"Authorization: Bearer wrong", NULL};
    int port;
    gw_config_t *cfg = start_tls(&port);
    gwt_resp_t r;
    char base[256], want[64];

    /* Links name https once tls_cert is set. */
    ASSERT_EQ(gw_public_base(base, sizeof(base)), HLF_OK);
    snprintf(want, sizeof(want), "https://127.0.0.1:%d", port);
    ASSERT_STR_EQ(base, want);
    /* HTTPS with an API key, no client certificate. */
    tls_get(port, "/t/who", "a", NULL, NULL, auth, &r);
    expect_who(&r, "brokerage-app", "Brokerage");
    gwt_resp_free(&r);
    /* Open routes need no credential over HTTPS either. */
    tls_get(port, "/healthz", "a", NULL, NULL, NULL, &r);
    ASSERT_EQ(r.curl_rc, 0);
    ASSERT(r.status == 200 || r.status == 503);
    gwt_resp_free(&r);
    /* No credential at all: 401. */
    tls_get(port, "/t/who", "a", NULL, NULL, NULL, &r);
    expect_error(&r, 401, "UNAUTHORIZED", "missing credentials");
    gwt_resp_free(&r);
    /* A client that trusts another CA refuses the server. */
    tls_get(port, "/t/who", "b", NULL, NULL, auth, &r);
    ASSERT_EQ(r.curl_rc, CURLE_PEER_FAILED_VERIFICATION);
    ASSERT_EQ(r.status, 0);
    gwt_resp_free(&r);
    /* Plain HTTP on the HTTPS port gets no answer. */
    gwt_http("GET", port, "/t/who", NULL, &r);
    ASSERT(r.curl_rc != 0 || r.status == 400);
    gwt_resp_free(&r);
    /* With a bound certificate, an Authorization header still decides:
     * a wrong key is 401, not the certificate's identity. */
    tls_get(port, "/t/who", "a", "User1", "a", bad, &r);
    expect_error(&r, 401, "UNAUTHORIZED", "invalid API key");
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

TEST_IMPL(mutual_tls_identity)
{
    const char *as_mls[] = {"X-Reso-Identity: MLS", NULL};
    const char *as_b[] = {"X-Reso-Identity: Brokerage", NULL};
    int port;
    gw_config_t *cfg = start_tls(&port);
    gwt_resp_t r;

    /* The bound certificate is the identity, like an API key. */
    tls_get(port, "/t/who", "a", "User1", "a", NULL, &r);
    expect_who(&r, "user1-a", "Brokerage");
    gwt_resp_free(&r);
    tls_get(port, "/t/who", "a", "User1", "a", as_b, &r);
    expect_who(&r, "user1-a", "Brokerage");
    gwt_resp_free(&r);
    /* Acting for another identity: 403. */
    tls_get(port, "/t/who", "a", "User1", "a", as_mls, &r);
    expect_error(&r, 403, "FORBIDDEN", "may act only as Brokerage");
    gwt_resp_free(&r);
    /* Verified by the CA but bound to nothing: 401. */
    tls_get(port, "/t/who", "a", "User2", "a", NULL, &r);
    expect_error(&r, 401, "UNAUTHORIZED", "no clientcert entry");
    gwt_resp_free(&r);
    /* Issued by another CA: refused (401, or the handshake fails). */
    tls_get(port, "/t/who", "a", "User1", "b", NULL, &r);
    if (r.curl_rc == 0)
        expect_error(&r, 401, "UNAUTHORIZED", "not issued by the "
                     "configured client CA");
    else
        ASSERT_EQ(r.status, 0);
    gwt_resp_free(&r);
    gwt_stop(cfg);
}

/* Load text as a config; returns the rc, err text into msg. */
static int
load(const char *text, char *msg, size_t n)
{
    char *dir = gwt_tmpdir(), *path = gwt_write(dir, "gw.conf", text);
    gw_config_t *cfg = NULL;
    hlf_error_t e;
    int rc;

    hlf_error_clear(&e);
    rc = gw_config_load(path, &cfg, NULL, &e);
    snprintf(msg, n, "%s", e.text);
    gw_config_free(cfg);
    gwt_rmrf(dir);
    free(path);
    free(dir);
    return rc;
}

TEST_IMPL(config_rules)
{
    static const char *const ids =
        "identity Brokerage BrokerageMSP /x\n"
        "identity MLS MLSMSP /y\n";
    static const char *const fp =
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char text[2048], msg[sizeof(((hlf_error_t *)0)->text)];

    /* Colons and either case; a second certificate for another name. */
    snprintf(text, sizeof(text), "%stls_cert /c.pem\ntls_key /k.pem\n"
             "tls_client_ca /ca.pem\n"
             "clientcert a Brokerage "
             "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
             "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\n"
             "clientcert b MLS 0f%s\n", ids, fp + 2);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_OK);
    /* clientcert without tls_client_ca. */
    snprintf(text, sizeof(text), "%stls_cert /c.pem\ntls_key /k.pem\n"
             "clientcert a Brokerage %s\n", ids, fp);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_ECONFIG);
    ASSERT(strstr(msg, "needs tls_client_ca") != NULL);
    /* tls_client_ca without HTTPS. */
    snprintf(text, sizeof(text), "%stls_client_ca /ca.pem\n", ids);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_ECONFIG);
    ASSERT(strstr(msg, "mutual TLS needs HTTPS") != NULL);
    /* Half an HTTPS pair. */
    snprintf(text, sizeof(text), "%stls_cert /c.pem\n", ids);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_ECONFIG);
    ASSERT(strstr(msg, "both tls_cert and tls_key") != NULL);
    /* Bad fingerprints: short, not hex, a colon too many. */
    snprintf(text, sizeof(text), "%stls_cert /c.pem\ntls_key /k.pem\n"
             "tls_client_ca /ca.pem\nclientcert a Brokerage 0011\n", ids);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_ECONFIG);
    ASSERT(strstr(msg, "invalid fingerprint") != NULL);
    snprintf(text, sizeof(text), "%stls_cert /c.pem\ntls_key /k.pem\n"
             "tls_client_ca /ca.pem\nclientcert a Brokerage zz%s\n", ids,
             fp + 2);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_ECONFIG);
    snprintf(text, sizeof(text), "%stls_cert /c.pem\ntls_key /k.pem\n"
             "tls_client_ca /ca.pem\nclientcert a Brokerage :%s\n", ids,
             fp);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_ECONFIG);
    /* One certificate, one identity; unknown identity. */
    snprintf(text, sizeof(text), "%stls_cert /c.pem\ntls_key /k.pem\n"
             "tls_client_ca /ca.pem\nclientcert a Brokerage %s\n"
             "clientcert b MLS %s\n", ids, fp, fp);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_ECONFIG);
    ASSERT(strstr(msg, "same fingerprint") != NULL);
    snprintf(text, sizeof(text), "%stls_cert /c.pem\ntls_key /k.pem\n"
             "tls_client_ca /ca.pem\nclientcert a Nobody %s\n", ids, fp);
    ASSERT_EQ(load(text, msg, sizeof(msg)), HLF_ECONFIG);
    ASSERT(strstr(msg, "unknown identity") != NULL);
}

static void
cleanup_certs(void)
{
    if (certs != NULL) {
        char *top = strdup(certs);

        ASSERT_NOT_NULL(top);
        top[strlen(top) - 2] = '\0'; /* drop "/c" */
        gwt_rmrf(top);
        free(top);
        free(certs);
        certs = NULL;
    }
}

TEST_IMPL(https_and_api_keys_run)
{
    test_https_and_api_keys();
    cleanup_certs();
}

TEST_IMPL(mutual_tls_identity_run)
{
    test_mutual_tls_identity();
    cleanup_certs();
}

static const test_entry_t tests[] = {
    TEST_ENTRY(https_and_api_keys_run),
    TEST_ENTRY(mutual_tls_identity_run),
    TEST_ENTRY(config_rules),
};

TEST_MAIN(tests)
