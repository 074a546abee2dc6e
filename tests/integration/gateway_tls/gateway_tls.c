/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway over HTTPS with mutual TLS on the real network: the
 * network's own certificates (peer0.brokerage's TLS pair serves HTTPS,
 * Brokerage's TLS CA verifies clients, User1@brokerage's TLS client
 * certificate is bound to identity Brokerage by a clientcert line; docs/
 * gateway.md "HTTPS and client certificates").
 *
 * - a client certificate alone (no API key) records an event: 201, the
 *   event committed on the ledger and read back over HTTPS;
 * - an API key works over HTTPS as well;
 * - a verified certificate that no clientcert line binds (Admin@brokerage)
 *   is 401, and so is a certificate of another org's CA (User1@mls);
 * - a client that trusts another CA refuses the server; plain HTTP on the
 *   HTTPS port gets no HTTP answer.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gwproc.h"
#include "netfixture.h"
#include "task.h"

static const char *const IDS[] = {"Brokerage", NULL};

static const char *g_crypto; /* the network's crypto_dir */

/* <crypto>/peerOrganizations/<org>.reso.example/<rest> into buf. */
static const char *
cpath(char *buf, size_t n, const char *org, const char *rest)
{
    snprintf(buf, n, "%s/peerOrganizations/%s.reso.example/%s", g_crypto,
             org, rest);
    return buf;
}

/* The client TLS certificate or key (what: "crt"/"key") of user@org. */
static const char *
user_tls(char *buf, size_t n, const char *user, const char *org,
         const char *what)
{
    char rest[256];

    snprintf(rest, sizeof(rest), "users/%s@%s.reso.example/tls/client.%s",
             user, org, what);
    return cpath(buf, n, org, rest);
}

/* "AA:BB:..." SHA-256 of a PEM certificate, as `openssl x509` prints it. */
static void
fingerprint(const char *pem, char out[128])
{
    char cmd[1400], line[256], *eq;
    FILE *fp;

    snprintf(cmd, sizeof(cmd),
             "openssl x509 -noout -fingerprint -sha256 -in '%s'", pem);
    fp = popen(cmd, "r");
    ASSERT_NOT_NULL(fp);
    if (fgets(line, sizeof(line), fp) == NULL)
        line[0] = '\0';
    ASSERT_EQ(pclose(fp), 0);
    eq = strchr(line, '=');
    ASSERT_NOT_NULL(eq);
    eq[strcspn(eq, "\r\n")] = '\0';
    ASSERT_EQ(strlen(eq + 1), 95);
    snprintf(out, 128, "%s", eq + 1);
}

/*
 * method https://127.0.0.1:port/path (scheme "http" for plain) trusting
 * ca_org's TLS CA, with user@org's client certificate (user NULL: none),
 * header hdr (NULL: none) and body (NULL: none).
 */
static void
request(const char *scheme, int port, const char *method, const char *path,
        const char *ca_org, const char *user, const char *org,
        const char *hdr, const char *body, gwt_resp_t *r)
{
    char ca[1024], crt[1024], key[1024], rest[256];
    const char *hdrs[] = {hdr, NULL};

    snprintf(rest, sizeof(rest), "tlsca/tlsca.%s.reso.example-cert.pem",
             ca_org);
    cpath(ca, sizeof(ca), ca_org, rest);
    if (user != NULL) {
        user_tls(crt, sizeof(crt), user, org, "crt");
        user_tls(key, sizeof(key), user, org, "key");
    }
    gwt_tls_http(scheme, method, port, path, ca, user != NULL ? crt : NULL,
                 user != NULL ? key : NULL, hdrs, body, r);
}

static void
expect_status(const gwt_resp_t *r, long status, const char *what)
{
    if (r->curl_rc != 0 || r->status != status)
        TEST__FAIL("%s: curl %d, HTTP %ld (want %ld): %s", what, r->curl_rc,
                   r->status, status, r->body != NULL ? r->body : "");
}

TEST_IMPL(https_and_client_certificates_on_the_network)
{
    json_t *env = netfx_env(), *ans, *ev;
    char extra[4096], p1[1024], p2[1024], p3[1024], fp[128], body[1024];
    char path[256], auth[160];
    gwproc_opts_t o;
    gwproc_t g;
    gwt_resp_t r;

    g_crypto = netfx_str(env, "crypto_dir");
    fingerprint(user_tls(p1, sizeof(p1), "User1", "brokerage", "crt"), fp);
    snprintf(extra, sizeof(extra),
             "tls_cert %s\ntls_key %s\ntls_client_ca %s\n"
             "clientcert user1-brokerage Brokerage %s",
             cpath(p1, sizeof(p1), "brokerage",
                   "peers/peer0.brokerage.reso.example/tls/server.crt"),
             cpath(p2, sizeof(p2), "brokerage",
                   "peers/peer0.brokerage.reso.example/tls/server.key"),
             cpath(p3, sizeof(p3), "brokerage",
                   "tlsca/tlsca.brokerage.reso.example-cert.pem"),
             fp);
    memset(&o, 0, sizeof(o));
    o.identities = IDS;
    o.tag = "tls";
    o.extra = extra;
    gwproc_prepare(&g, env, &o);
    gwproc_start(&g);

    /* The client certificate alone: 201, committed. */
    snprintf(body, sizeof(body),
             "{\"EventSubject\":\"US-42049-TLS%ld-%d-R-N\",\"System\":"
             "\"Property Listing Service\",\"SubjectType\":\"Property\","
             "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":"
             "\"Recorded\",\"Recorder\":\"%s\",\"Application\":\"tls-it\"}",
             (long)time(NULL) % 100000, (int)getpid(),
             netfx_recorder(env, "Brokerage"));
    request("https", g.port, "POST", "/v1/events", "brokerage", "User1",
            "brokerage", NULL, body, &r);
    expect_status(&r, 201, "POST with User1@brokerage's certificate");
    ans = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(ans);
    ev = json_object_get(ans, "event");
    ASSERT_STR_EQ(netfx_str(ev, "Recorder"),
                  netfx_recorder(env, "Brokerage"));
    ASSERT(json_integer_value(json_object_get(ans, "block")) > 0);
    snprintf(path, sizeof(path), "/v1/events/%s",
             netfx_str(ev, "TransactionId"));
    gwt_resp_free(&r);

    /* Read back over HTTPS with the API key (no certificate). */
    snprintf(auth, sizeof(auth), "%s", g.auth[0]);
    request("https", g.port, "GET", path, "brokerage", NULL, NULL, auth,
            NULL, &r);
    expect_status(&r, 200, "GET with the API key over HTTPS");
    {
        json_t *got = json_loads(r.body, 0, NULL);

        ASSERT_NOT_NULL(got);
        if (!json_equal(json_object_get(got, "event") != NULL
                            ? json_object_get(got, "event")
                            : got,
                        ev))
            TEST__FAIL("read back %s, recorded %s", r.body,
                       json_dumps(ev, JSON_COMPACT));
        json_decref(got);
    }
    gwt_resp_free(&r);

    /* Verified, but bound to nothing: 401. Another org's CA: 401. */
    request("https", g.port, "POST", "/v1/events", "brokerage", "Admin",
            "brokerage", NULL, body, &r);
    expect_status(&r, 401, "POST with Admin@brokerage's certificate");
    ASSERT(strstr(r.body, "\"UNAUTHORIZED\"") != NULL);
    gwt_resp_free(&r);
    request("https", g.port, "POST", "/v1/events", "brokerage", "User1",
            "mls", NULL, body, &r);
    expect_status(&r, 401, "POST with User1@mls's certificate");
    gwt_resp_free(&r);

    /* The server is peer0.brokerage: a client trusting MLS's CA refuses
     * it; plain HTTP gets no HTTP answer. */
    request("https", g.port, "GET", path, "mls", NULL, NULL, auth, NULL, &r);
    ASSERT_EQ(r.curl_rc, CURLE_PEER_FAILED_VERIFICATION);
    gwt_resp_free(&r);
    request("http", g.port, "GET", path, "brokerage", NULL, NULL, auth, NULL,
            &r);
    ASSERT(r.curl_rc != 0 || r.status != 200);
    gwt_resp_free(&r);

    json_decref(ans);
    gwproc_free(&g);
    json_decref(env);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(https_and_client_certificates_on_the_network),
};

TEST_MAIN(tests)
