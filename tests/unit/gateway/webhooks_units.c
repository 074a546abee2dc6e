/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the pure parts of gateway/src/webhooks.c: the SSRF
 * address classes (IPv4, IPv6, IPv4-mapped, NAT64, 6to4) and policy,
 * URL parsing and resolution checks, the X-Reso-Signature value
 * (checked against OpenSSL's HMAC() and a fixed vector), Retry-After
 * parsing in every HTTP-date form, the backoff schedule, the RCP-28
 * batch body byte for byte, filter checking and the subscription record
 * files (round trip, mode 0600, atomic replacement, bad files).
 */
#include "gwtest.h"
#include "task.h"
#include "webhooks.h"

#include "hlf/crypto.h"
#include "hlf/mem.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* Addresses                                                          */
/* ------------------------------------------------------------------ */

static gw_webhook_addr_t
classify(const char *ip)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;

    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    if (inet_pton(AF_INET, ip, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        return gw_webhook_addr_classify((struct sockaddr *)&in, sizeof(in));
    }
    if (inet_pton(AF_INET6, ip, &in6.sin6_addr) != 1)
        TEST__FAIL("bad test address %s", ip);
    in6.sin6_family = AF_INET6;
    return gw_webhook_addr_classify((struct sockaddr *)&in6, sizeof(in6));
}

typedef struct {
    const char *ip;
    gw_webhook_addr_t c;
} addr_case_t;

static void
check_cases(const addr_case_t *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        gw_webhook_addr_t got = classify(v[i].ip);

        if (got != v[i].c)
            TEST__FAIL("%s: got %s, want %s", v[i].ip,
                       gw_webhook_addr_name(got),
                       gw_webhook_addr_name(v[i].c));
    }
}

#define PUB GW_WEBHOOK_ADDR_PUBLIC
#define LOOP GW_WEBHOOK_ADDR_LOOPBACK
#define PRIV GW_WEBHOOK_ADDR_PRIVATE
#define LINK GW_WEBHOOK_ADDR_LINK_LOCAL
#define CGN GW_WEBHOOK_ADDR_CGNAT
#define UNSP GW_WEBHOOK_ADDR_UNSPECIFIED
#define MCAST GW_WEBHOOK_ADDR_MULTICAST
#define RSVD GW_WEBHOOK_ADDR_RESERVED

/* Every IPv4 range at both edges and just outside. */
TEST_IMPL(ssrf_ipv4_ranges)
{
    static const addr_case_t v[] = {
        {"0.0.0.0", UNSP}, {"0.255.255.255", UNSP}, {"1.0.0.0", PUB},
        {"8.8.8.8", PUB}, {"9.255.255.255", PUB}, {"10.0.0.0", PRIV},
        {"10.255.255.255", PRIV}, {"11.0.0.0", PUB},
        {"100.63.255.255", PUB}, {"100.64.0.0", CGN},
        {"100.127.255.255", CGN}, {"100.128.0.0", PUB},
        {"126.255.255.255", PUB}, {"127.0.0.1", LOOP},
        {"127.255.255.255", LOOP}, {"128.0.0.0", PUB},
        {"169.253.255.255", PUB}, {"169.254.0.0", LINK},
        {"169.254.169.254", LINK}, {"169.255.0.0", PUB},
        {"172.15.255.255", PUB}, {"172.16.0.0", PRIV},
        {"172.31.255.255", PRIV}, {"172.32.0.0", PUB},
        {"192.0.0.8", RSVD}, {"192.0.1.0", PUB}, {"192.0.2.1", RSVD},
        {"192.88.99.1", RSVD}, {"192.167.255.255", PUB},
        {"192.168.0.0", PRIV}, {"192.168.255.255", PRIV},
        {"192.169.0.0", PUB}, {"198.17.255.255", PUB}, {"198.18.0.0", PRIV},
        {"198.19.255.255", PRIV}, {"198.20.0.0", PUB},
        {"198.51.100.7", RSVD}, {"203.0.113.9", RSVD},
        {"223.255.255.255", PUB}, {"224.0.0.1", MCAST},
        {"239.255.255.255", MCAST}, {"240.0.0.1", RSVD},
        {"255.255.255.255", RSVD},
    };

    check_cases(v, sizeof(v) / sizeof(v[0]));
}

/* IPv6 ranges, and IPv4 carried inside IPv6 judged by the IPv4. */
TEST_IMPL(ssrf_ipv6_and_mapped)
{
    static const addr_case_t v[] = {
        {"::", UNSP}, {"::1", LOOP}, {"::2", RSVD},
        {"::ffff:127.0.0.1", LOOP}, {"::ffff:10.1.2.3", PRIV},
        {"::ffff:169.254.169.254", LINK}, {"::ffff:100.64.1.1", CGN},
        {"::ffff:0.0.0.0", UNSP}, {"::ffff:8.8.8.8", PUB},
        {"::ffff:224.0.0.1", MCAST}, {"::127.0.0.1", RSVD},
        {"64:ff9b::7f00:1", LOOP}, {"64:ff9b::a00:1", PRIV},
        {"64:ff9b::808:808", PUB}, {"64:ff9b:1::1", PRIV},
        {"fe80::1", LINK}, {"febf:ffff::1", LINK}, {"fec0::1", PRIV},
        {"fc00::1", PRIV}, {"fdff:ffff::1", PRIV}, {"fe00::1", RSVD},
        {"ff02::1", MCAST}, {"ff0e::1", MCAST}, {"2001:db8::1", RSVD},
        {"2001:0:4136:e378::1", RSVD}, {"2002:7f00:1::1", LOOP},
        {"2002:c0a8:101::1", PRIV}, {"2002:808:808::1", PUB},
        {"2001:4860:4860::8888", PUB}, {"2606:4700:4700::1111", PUB},
        {"3fff:ffff::1", PUB}, {"4000::1", RSVD}, {"100::1", RSVD},
        {"1fff::1", RSVD},
    };

    check_cases(v, sizeof(v) / sizeof(v[0]));
}

TEST_IMPL(ssrf_policy_and_odd_input)
{
    struct sockaddr_in in;
    struct sockaddr sa;
    int c;

    /* Which classes each setting lets through. */
    static const int allowed[GW_WEBHOOK_ADDR__COUNT][2] = {
        [GW_WEBHOOK_ADDR_PUBLIC] = {1, 1},
        [GW_WEBHOOK_ADDR_LOOPBACK] = {0, 1},
        [GW_WEBHOOK_ADDR_PRIVATE] = {0, 1},
        [GW_WEBHOOK_ADDR_LINK_LOCAL] = {0, 1},
        [GW_WEBHOOK_ADDR_CGNAT] = {0, 1},
        [GW_WEBHOOK_ADDR_UNSPECIFIED] = {0, 0},
        [GW_WEBHOOK_ADDR_MULTICAST] = {0, 0},
        [GW_WEBHOOK_ADDR_RESERVED] = {0, 0},
    };

    for (c = 0; c < GW_WEBHOOK_ADDR__COUNT; c++) {
        ASSERT_EQ(gw_webhook_addr_allowed((gw_webhook_addr_t)c, 0),
                  allowed[c][0]);
        ASSERT_EQ(gw_webhook_addr_allowed((gw_webhook_addr_t)c, 1),
                  allowed[c][1]);
    }
    ASSERT_EQ(gw_webhook_addr_allowed(GW_WEBHOOK_ADDR__COUNT, 1), 0);
    ASSERT_STR_EQ(gw_webhook_addr_name(GW_WEBHOOK_ADDR_CGNAT),
                  "carrier-grade NAT");
    ASSERT_STR_EQ(gw_webhook_addr_name(GW_WEBHOOK_ADDR__COUNT), "?");
    /* Too short for its family, another family, NULL: reserved. */
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(0x08080808u);
    ASSERT_EQ(gw_webhook_addr_classify((struct sockaddr *)&in, sizeof(in)),
              GW_WEBHOOK_ADDR_PUBLIC);
    ASSERT_EQ(gw_webhook_addr_classify((struct sockaddr *)&in, 4),
              GW_WEBHOOK_ADDR_RESERVED);
    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNIX;
    ASSERT_EQ(gw_webhook_addr_classify(&sa, sizeof(sa)),
              GW_WEBHOOK_ADDR_RESERVED);
    ASSERT_EQ(gw_webhook_addr_classify(NULL, 0), GW_WEBHOOK_ADDR_RESERVED);
}

TEST_IMPL(url_parse)
{
    static const struct {
        const char *url, *host;
        int port;
    } ok[] = {
        {"http://127.0.0.1:8080/hook", "127.0.0.1", 8080},
        {"https://example.com/x?y=1", "example.com", 443},
        {"http://example.com", "example.com", 80},
        {"http://[::1]:9/p", "::1", 9},
        {"HTTPS://[2001:db8::5]/", "2001:db8::5", 443},
    };
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"ftp://example.com/", "url scheme must be http or https"},
        {"file:///etc/passwd", "url scheme must be http or https"},
        {"gopher://example.com/", "url scheme must be http or https"},
        {"http://user:pw@example.com/", "url must not carry user "
                                        "credentials"},
        {"http://example.com/#frag", "url must not have a fragment"},
        {"http://[fe80::1%25eth0]/", "url must not name an IPv6 zone"},
        {"/relative/path", "url is not an absolute http(s) URL"},
        {"", "url is not an absolute http(s) URL"},
        {"http://exa mple.com/", "url is not an absolute http(s) URL"},
        {"http://example.com:0/", "url host or port out of range"},
    };
    char host[256], longurl[GW_WEBHOOK_URL_MAX + 2];
    hlf_error_t e;
    size_t i;
    int port;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        port = -1;
        if (gw_webhook_url_parse(ok[i].url, host, sizeof(host), &port,
                                 &e) != HLF_OK)
            TEST__FAIL("%s: %s", ok[i].url, e.text);
        ASSERT_STR_EQ(host, ok[i].host);
        ASSERT_EQ(port, ok[i].port);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hlf_error_clear(&e);
        if (gw_webhook_url_parse(bad[i].url, host, sizeof(host), &port,
                                 &e) != HLF_EINVAL)
            TEST__FAIL("%s accepted", bad[i].url);
        ASSERT_STR_EQ(e.text, bad[i].why);
    }
    /* The host must fit the caller's buffer. */
    ASSERT_EQ(gw_webhook_url_parse("http://example.com/", host, 5, &port,
                                   NULL), HLF_EINVAL);
    memcpy(longurl, "http://a/", 9);
    memset(longurl + 9, 'x', sizeof(longurl) - 10);
    longurl[sizeof(longurl) - 1] = '\0';
    ASSERT_EQ(gw_webhook_url_parse(longurl, host, sizeof(host), &port, &e),
              HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "url is longer than 2048 bytes");
    longurl[sizeof(longurl) - 2] = '\0'; /* exactly the limit */
    ASSERT_EQ(gw_webhook_url_parse(longurl, host, sizeof(host), &port, &e),
              HLF_OK);
}

/* Address literals and localhost resolve without a network. */
TEST_IMPL(target_check)
{
    hlf_error_t e;

    ASSERT_EQ(gw_webhook_target_check("127.0.0.1", 80, 0, &e), HLF_EPERM);
    ASSERT_STR_EQ(e.text, "host 127.0.0.1 resolves to 127.0.0.1, in the "
                  "loopback range; webhook targets must be public "
                  "(webhook_allow_private_targets is no)");
    ASSERT_EQ(gw_webhook_target_check("127.0.0.1", 80, 1, &e), HLF_OK);
    ASSERT_EQ(gw_webhook_target_check("localhost", 80, 0, &e), HLF_EPERM);
    ASSERT_EQ(gw_webhook_target_check("::ffff:10.0.0.1", 80, 0, &e),
              HLF_EPERM);
    ASSERT_STR_EQ(e.text, "host ::ffff:10.0.0.1 resolves to ::ffff:10.0.0.1,"
                  " in the private range; webhook targets must be public "
                  "(webhook_allow_private_targets is no)");
    ASSERT_EQ(gw_webhook_target_check("169.254.169.254", 80, 0, &e),
              HLF_EPERM);
    ASSERT_EQ(gw_webhook_target_check("100.64.0.1", 80, 0, &e), HLF_EPERM);
    /* Never allowed, whatever the setting. */
    ASSERT_EQ(gw_webhook_target_check("0.0.0.0", 80, 1, &e), HLF_EPERM);
    ASSERT_STR_EQ(e.text, "host 0.0.0.0 resolves to 0.0.0.0, in the "
                  "unspecified range; webhook targets must be public");
    ASSERT_EQ(gw_webhook_target_check("::", 80, 1, &e), HLF_EPERM);
    ASSERT_EQ(gw_webhook_target_check("224.0.0.1", 80, 1, &e), HLF_EPERM);
    ASSERT_EQ(gw_webhook_target_check("8.8.8.8", 443, 0, &e), HLF_OK);
    ASSERT_EQ(gw_webhook_target_check("2606:4700:4700::1111", 443, 0, &e),
              HLF_OK);
    /* .invalid never resolves (RFC 6761). */
    ASSERT_EQ(gw_webhook_target_check("no-such-host.invalid", 80, 1, &e),
              HLF_ENOTFOUND);
    ASSERT(strncmp(e.text, "cannot resolve host no-such-host.invalid: ",
                   42) == 0);
}

/* ------------------------------------------------------------------ */
/* Signature, Retry-After, backoff                                    */
/* ------------------------------------------------------------------ */

TEST_IMPL(signature_vector)
{
    static const char secret[] = "whsec-test-0123456789";
    char sig[GW_WEBHOOK_SIG_LEN], hex[65];
    unsigned char ref[EVP_MAX_MD_SIZE];
    unsigned int rlen = 0;
    const char *body = "{\"@reso.context\":\"x\",\"value\":[]}";

    /* Fixed vector (computed once with Python's hmac module). */
    ASSERT_EQ(gw_webhook_sign(secret, strlen(secret), "{\"a\":1}", 7, sig),
              HLF_OK);
    ASSERT_STR_EQ(sig, "sha256=7923f48af899b46d9209349a08b3b492ab35614c6e7"
                  "adf131012f039044a3c04");
    /* And OpenSSL's own HMAC over another body. */
    ASSERT_NOT_NULL(HMAC(EVP_sha256(), secret, (int)strlen(secret),
                         (const unsigned char *)body, strlen(body), ref,
                         &rlen));
    ASSERT_EQ(rlen, 32);
    hlf_hex_encode(ref, 32, hex);
    ASSERT_EQ(gw_webhook_sign(secret, strlen(secret), body, strlen(body),
                              sig), HLF_OK);
    ASSERT_EQ(strlen(sig), GW_WEBHOOK_SIG_LEN - 1);
    ASSERT(strncmp(sig, "sha256=", 7) == 0);
    ASSERT_STR_EQ(sig + 7, hex);
    /* One byte of the body or the key changes it. */
    ASSERT_EQ(gw_webhook_sign(secret, strlen(secret) - 1, body,
                              strlen(body), sig), HLF_OK);
    ASSERT(strcmp(sig + 7, hex) != 0);
    ASSERT_EQ(gw_webhook_sign(NULL, 0, body, 1, sig), HLF_EINVAL);
    ASSERT_EQ(gw_webhook_sign(secret, 1, NULL, 1, sig), HLF_EINVAL);
}

TEST_IMPL(retry_after_seconds)
{
    static const struct {
        const char *v;
        int64_t ms;
    } ok[] = {
        {"120", 120000}, {" 5 ", 5000}, {"\t7", 7000}, {"0", 0},
        {"3600", 3600000}, {"3601", GW_WEBHOOK_RETRY_AFTER_MAX_MS},
        {"99999999999999999999999", GW_WEBHOOK_RETRY_AFTER_MAX_MS},
    };
    static const char *const bad[] = {"", "  ", "-1", "1.5", "12abc",
                                      "1 2", "+3", "0x10"};
    int64_t ms;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ms = -7;
        if (gw_webhook_retry_after(ok[i].v, 1000, &ms) != HLF_OK)
            TEST__FAIL("'%s' refused", ok[i].v);
        ASSERT_EQ(ms, ok[i].ms);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_webhook_retry_after(bad[i], 1000, &ms) != HLF_EINVAL)
            TEST__FAIL("'%s' accepted", bad[i]);
    ASSERT_EQ(gw_webhook_retry_after(NULL, 0, &ms), HLF_EINVAL);
}

TEST_IMPL(retry_after_http_date)
{
    /* Sun, 06 Nov 1994 08:49:37 GMT */
    const time_t t = 784111777;
    static const char *const bad[] = {
        "Sun, 06 Nov 1994 08:49:37 UTC",   /* zone must be GMT */
        "Sun, 6 Nov 1994 08:49:37 GMT",    /* two-digit day */
        "Sun, 06 Nov 94 08:49:37 GMT",     /* four-digit year */
        "Sun, 06 Nox 1994 08:49:37 GMT",   /* month */
        "Sun, 06 Nov 1994 24:00:00 GMT",   /* hour */
        "Sun, 06 Nov 1994 08:60:00 GMT",   /* minute */
        "Sat, 31 Feb 2024 00:00:00 GMT",   /* no such day */
        "Sat, 29 Feb 2023 00:00:00 GMT",   /* not a leap year */
        "Sun, 06 Nov 1994 08:49:37 GMT x", /* trailing text */
        "Sunday, 06-Nov-94 08:49:37",      /* RFC 850 without GMT */
        "Sun Nov 6 08:49:37 1994",         /* asctime pads the day */
        "S, 06 Nov 1994 08:49:37 GMT",
        "tomorrow",
    };
    int64_t ms;
    size_t i;

    ASSERT_EQ(gw_webhook_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                                     t - 30, &ms), HLF_OK);
    ASSERT_EQ(ms, 30000);
    ASSERT_EQ(gw_webhook_retry_after("Sunday, 06-Nov-94 08:49:37 GMT",
                                     t - 10, &ms), HLF_OK);
    ASSERT_EQ(ms, 10000);
    ASSERT_EQ(gw_webhook_retry_after("Sun Nov  6 08:49:37 1994", t - 7,
                                     &ms), HLF_OK);
    ASSERT_EQ(ms, 7000);
    ASSERT_EQ(gw_webhook_retry_after("Sun Nov 16 08:49:37 1994", t, &ms),
              HLF_OK);
    ASSERT_EQ(ms, GW_WEBHOOK_RETRY_AFTER_MAX_MS); /* 10 days: capped */
    /* In the past: retry now. */
    ASSERT_EQ(gw_webhook_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                                     t + 5, &ms), HLF_OK);
    ASSERT_EQ(ms, 0);
    /* Leap day and the end of a leap year, from the epoch. */
    ASSERT_EQ(gw_webhook_retry_after("Thu, 29 Feb 2024 00:00:00 GMT",
                                     1709164800 - 2, &ms), HLF_OK);
    ASSERT_EQ(ms, 2000);
    ASSERT_EQ(gw_webhook_retry_after("Tue, 31 Dec 2024 23:59:59 GMT",
                                     1735689599 - 1, &ms), HLF_OK);
    ASSERT_EQ(ms, 1000);
    /* RFC 850 two-digit years: within 50 years ahead, else last century
     * (now = 2024-02-29). */
    ASSERT_EQ(gw_webhook_retry_after("Monday, 01-Jan-74 00:00:00 GMT",
                                     1709164800, &ms), HLF_OK);
    ASSERT_EQ(ms, GW_WEBHOOK_RETRY_AFTER_MAX_MS); /* 2074: ahead */
    ASSERT_EQ(gw_webhook_retry_after("Monday, 01-Jan-75 00:00:00 GMT",
                                     1709164800, &ms), HLF_OK);
    ASSERT_EQ(ms, 0); /* 1975: past */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_webhook_retry_after(bad[i], t, &ms) != HLF_EINVAL)
            TEST__FAIL("'%s' accepted", bad[i]);
}

TEST_IMPL(backoff_schedule)
{
    /* rnd 0: the lower edge, base - base/2, doubling up to the cap. */
    static const int64_t low[] = {125, 125, 250, 500, 1000, 2000, 4000,
                                  8000, 16000, 30000, 30000};
    unsigned a;

    for (a = 0; a < sizeof(low) / sizeof(low[0]); a++)
        ASSERT_EQ(gw_webhook_backoff_ms(a, 60000, 0), low[a]);
    /* rnd == base/2: the upper edge, the base itself. */
    ASSERT_EQ(gw_webhook_backoff_ms(1, 60000, 125), 250);
    ASSERT_EQ(gw_webhook_backoff_ms(3, 60000, 500), 1000);
    ASSERT_EQ(gw_webhook_backoff_ms(9, 60000, 30000), 60000);
    /* rnd wraps modulo base/2 + 1. */
    ASSERT_EQ(gw_webhook_backoff_ms(3, 60000, 501), 500);
    ASSERT_EQ(gw_webhook_backoff_ms(1, 60000, 0xffffffffu), 128);
    /* Huge attempts stay at the cap without overflowing. */
    ASSERT_EQ(gw_webhook_backoff_ms(4000000000u, 60000, 0), 30000);
    ASSERT_EQ(gw_webhook_backoff_ms(4000000000u, 86400000, 43200000),
              86400000);
    /* A cap below the base: the cap, halved by jitter. */
    ASSERT_EQ(gw_webhook_backoff_ms(1, 100, 0), 50);
    ASSERT_EQ(gw_webhook_backoff_ms(7, 100, 50), 100);
    ASSERT_EQ(gw_webhook_backoff_ms(1, 0, 0), 1);
}

/* ------------------------------------------------------------------ */
/* Batch body                                                         */
/* ------------------------------------------------------------------ */

static gw_event_t *
event(uint64_t block, uint32_t tx, const char *payload)
{
    gw_event_t *ev = NULL;
    hlf_error_t e;

    if (gw_event_new(block, tx, "f00d", "MLSMSP", (const uint8_t *)payload,
                     strlen(payload), &ev, &e) != HLF_OK)
        TEST__FAIL("gw_event_new: %s", e.text);
    return ev;
}

TEST_IMPL(batch_body_shape)
{
    static const char p1[] =
        "{\"TransactionId\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\","
        "\"EventSubject\":\"US-1\",\"System\":\"MLS\",\"SubjectType\":"
        "\"Property\",\"Entity\":\"Listing\",\"Event\":\"Listed\","
        "\"State\":\"Active\",\"Recorder\":\"urn:r:1\",\"Version\":\"1.3\"}";
    /* A payload key named like an envelope key is dropped by the hub. */
    static const char p2[] = "{\"TransactionId\":\"a b/c\",\"txid\":\"x\","
                             "\"State\":\"Closed\"}";
    gw_event_t *evs[2];
    char *body = NULL;
    size_t len = 0;
    hlf_error_t e;

    evs[0] = event(1, 2, p1);
    evs[1] = event(3, 0, p2);
    ASSERT_EQ(gw_webhook_batch_body(evs, 2, "http://127.0.0.1:8080", &body,
                                    &len, &e), HLF_OK);
    ASSERT_STR_EQ(body,
        "{\"@reso.context\":\"urn:reso:metadata:2.0:resource:entityevent\","
        "\"value\":[{\"EntityEventSequence\":65538,\"ResourceName\":"
        "\"LedgerEvent\",\"ResourceRecordKey\":"
        "\"7c9e6679-7425-40de-944b-e07fc1f90ae7\",\"ResourceRecordUrl\":"
        "\"http://127.0.0.1:8080/v1/events/"
        "7c9e6679-7425-40de-944b-e07fc1f90ae7\",\"Event\":"
        "{\"TransactionId\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\","
        "\"EventSubject\":\"US-1\",\"System\":\"MLS\",\"SubjectType\":"
        "\"Property\",\"Entity\":\"Listing\",\"Event\":\"Listed\","
        "\"State\":\"Active\",\"Recorder\":\"urn:r:1\",\"Version\":\"1.3\"}},"
        "{\"EntityEventSequence\":196608,\"ResourceName\":\"LedgerEvent\","
        "\"ResourceRecordKey\":\"a b/c\",\"ResourceRecordUrl\":"
        "\"http://127.0.0.1:8080/v1/events/a%20b%2Fc\",\"Event\":"
        "{\"TransactionId\":\"a b/c\",\"State\":\"Closed\"}}]}");
    ASSERT_EQ(len, strlen(body));
    hlf_free(body);
    ASSERT_EQ(gw_webhook_batch_body(evs, 0, "http://x", &body, &len, &e),
              HLF_EINVAL);
    ASSERT_NULL(body);
    gw_event_unref(evs[0]);
    gw_event_unref(evs[1]);
}

/* ------------------------------------------------------------------ */
/* Filters                                                            */
/* ------------------------------------------------------------------ */

static int
filter_rc(const char *json, char *field, size_t n, hlf_error_t *e)
{
    json_t *in = json_loads(json, JSON_ALLOW_NUL, NULL), *out = NULL;
    int rc;

    ASSERT_NOT_NULL(in);
    rc = gw_webhook_filter_check(in, &out, field, n, e);
    if (rc != HLF_OK)
        ASSERT_NULL(out);
    json_decref(out);
    json_decref(in);
    return rc;
}

TEST_IMPL(filter_check_and_build)
{
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"[]", "filter"},
        {"{\"Foo\":\"x\"}", "filter.Foo"},
        {"{\"System\":1}", "filter.System"},
        {"{\"System\":[]}", "filter.System"},
        {"{\"State\":[\"a\",2]}", "filter.State"},
        {"{\"State\":\"\"}", "filter.State"},
        {"{\"Recorder\":\"a\\u0000b\"}", "filter.Recorder"},
        {"{\"Event\":null}", "filter.Event"},
    };
    json_t *in, *out = NULL;
    gw_filter_t *f = NULL;
    gw_event_t *e1, *e2;
    char field[64], *text, big[300], many[64 * 5 + 32];
    hlf_error_t e;
    size_t i, o;

    in = json_loads("{\"System\":\"MLS\",\"State\":[\"Active\",\"Closed\"]}",
                    0, NULL);
    ASSERT_EQ(gw_webhook_filter_check(in, &out, field, sizeof(field), &e),
              HLF_OK);
    text = json_dumps(out, JSON_COMPACT);
    ASSERT_STR_EQ(text, "{\"System\":[\"MLS\"],\"State\":[\"Active\","
                  "\"Closed\"]}");
    free(text);
    ASSERT_EQ(gw_webhook_filter_build(out, &f), HLF_OK);
    e1 = event(1, 0, "{\"TransactionId\":\"t1\",\"System\":\"MLS\","
               "\"State\":\"Closed\"}");
    e2 = event(1, 1, "{\"TransactionId\":\"t2\",\"System\":\"MLS\","
               "\"State\":\"Pending\"}");
    ASSERT_EQ(gw_filter_match(f, e1), 1);
    ASSERT_EQ(gw_filter_match(f, e2), 0);
    gw_filter_free(f);
    gw_event_unref(e1);
    gw_event_unref(e2);
    json_decref(out);
    json_decref(in);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (filter_rc(bad[i].json, field, sizeof(field), &e) != HLF_EINVAL)
            TEST__FAIL("%s accepted", bad[i].json);
        ASSERT_STR_EQ(field, bad[i].field);
    }
    /* 255 bytes pass, 256 do not; 64 values pass, 65 do not. */
    memcpy(big, "{\"Event\":\"", 10);
    memset(big + 10, 'x', 255);
    memcpy(big + 265, "\"}", 3);
    ASSERT_EQ(filter_rc(big, field, sizeof(field), &e), HLF_OK);
    memset(big + 10, 'x', 256);
    memcpy(big + 266, "\"}", 3);
    ASSERT_EQ(filter_rc(big, field, sizeof(field), &e), HLF_EINVAL);
    o = (size_t)snprintf(many, sizeof(many), "{\"State\":[");
    for (i = 0; i < 64; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o, "%s\"%02zx\"",
                              i ? "," : "", i);
    snprintf(many + o, sizeof(many) - o, "]}");
    ASSERT_EQ(filter_rc(many, field, sizeof(field), &e), HLF_OK);
    snprintf(many + o, sizeof(many) - o, ",\"z\"]}");
    ASSERT_EQ(filter_rc(many, field, sizeof(field), &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "must be a string or an array of 1 to 64 strings "
                  "of 1 to 255 bytes");
}

/* ------------------------------------------------------------------ */
/* Record files                                                       */
/* ------------------------------------------------------------------ */

#define ID1 "sub-0123456789abcdef0123456789abcdef"

static void
rec_fill(gw_webhook_rec_t *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", ID1);
    r->owner = hlf_strdup("Brokerage");
    r->url = hlf_strdup("http://127.0.0.1:9999/hook");
    r->filter = json_loads("{\"State\":[\"Closed\"]}", 0, NULL);
    r->secret = hlf_strdup("0123456789abcdef-secret");
    snprintf(r->created, sizeof(r->created), "2024-02-29T12:00:00Z");
    r->start = 65536;
    r->acked = 65536;
}

static size_t
dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    ASSERT_NOT_NULL(d);
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

TEST_IMPL(record_round_trip)
{
    char *dir = gwt_tmpdir(), path[1024], *text;
    gw_webhook_rec_t r, back;
    struct stat st;
    hlf_error_t e;

    rec_fill(&r);
    ASSERT_EQ(gw_webhook_rec_save(dir, &r, &e), HLF_OK);
    snprintf(path, sizeof(path), "%s/%s.json", dir, ID1);
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(gw_webhook_rec_load(path, &back, &e), HLF_OK);
    ASSERT_STR_EQ(back.id, ID1);
    ASSERT_STR_EQ(back.owner, "Brokerage");
    ASSERT_STR_EQ(back.url, "http://127.0.0.1:9999/hook");
    ASSERT_STR_EQ(back.secret, "0123456789abcdef-secret");
    ASSERT_STR_EQ(back.created, "2024-02-29T12:00:00Z");
    ASSERT_EQ(back.start, 65536);
    ASSERT_EQ(back.acked, 65536);
    text = json_dumps(back.filter, JSON_COMPACT);
    ASSERT_STR_EQ(text, "{\"State\":[\"Closed\"]}");
    free(text);
    gw_webhook_rec_clear(&back);
    /* A checkpoint replaces the file; no temporary file stays. */
    r.acked = GW_SEQ(9, 3);
    ASSERT_EQ(gw_webhook_rec_save(dir, &r, &e), HLF_OK);
    ASSERT_EQ(gw_webhook_rec_load(path, &back, &e), HLF_OK);
    ASSERT_EQ(back.acked, GW_SEQ(9, 3));
    ASSERT_EQ(back.start, 65536);
    gw_webhook_rec_clear(&back);
    ASSERT_EQ(dir_entries(dir), 1);
    ASSERT_EQ(gw_webhook_rec_remove(dir, ID1, &e), HLF_OK);
    ASSERT_EQ(dir_entries(dir), 0);
    ASSERT_EQ(gw_webhook_rec_remove(dir, ID1, &e), HLF_OK);
    ASSERT_EQ(gw_webhook_rec_load(path, &back, &e), HLF_ENOTFOUND);
    /* Bad ids are refused before touching the disk. */
    snprintf(r.id, sizeof(r.id), "sub-../../etc/passwd");
    ASSERT_EQ(gw_webhook_rec_save(dir, &r, &e), HLF_EINVAL);
    ASSERT_EQ(gw_webhook_rec_remove(dir, "../x", &e), HLF_EINVAL);
    snprintf(r.id, sizeof(r.id), "%s", ID1);
    gw_webhook_rec_clear(&r);
    ASSERT_EQ(gw_webhook_id_valid(ID1), 1);
    ASSERT_EQ(gw_webhook_id_valid("sub-0123456789ABCDEF0123456789abcdef"),
              0);
    ASSERT_EQ(gw_webhook_id_valid("sub-0123456789abcdef0123456789abcde"),
              0);
    ASSERT_EQ(gw_webhook_id_valid(NULL), 0);
    gwt_rmrf(dir);
    free(dir);
}

TEST_IMPL(record_bad_files)
{
    static const struct {
        const char *text, *field;
    } bad[] = {
        {"{\"version\":2}", "version"},
        {"{\"version\":1,\"id\":\"x\"}", "id"},
        {"{\"version\":1,\"id\":\"" ID1 "\",\"owner\":\"\"}", "owner"},
        {"{\"version\":1,\"id\":\"" ID1 "\",\"owner\":\"B\",\"url\":\"u\","
         "\"secret\":\"short\"}", "secret"},
        {"{\"version\":1,\"id\":\"" ID1 "\",\"owner\":\"B\",\"url\":\"u\","
         "\"secret\":\"0123456789abcdef\",\"created\":\"c\",\"start\":-1}",
         "start"},
        {"{\"version\":1,\"id\":\"" ID1 "\",\"owner\":\"B\",\"url\":\"u\","
         "\"secret\":\"0123456789abcdef\",\"created\":\"c\",\"start\":1,"
         "\"acked\":2,\"filter\":{\"Nope\":[\"x\"]}}", "filter"},
    };
    char *dir = gwt_tmpdir(), *path, want[1200];
    gw_webhook_rec_t r;
    hlf_error_t e;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        path = gwt_write(dir, "r.json", bad[i].text);
        ASSERT_EQ(gw_webhook_rec_load(path, &r, &e), HLF_EPROTO);
        snprintf(want, sizeof(want), "%s: not a valid subscription (%s)",
                 path, bad[i].field);
        ASSERT_STR_EQ(e.text, want);
        ASSERT_NULL(r.owner);
        free(path);
    }
    path = gwt_write(dir, "r.json", "{\"version\":1,");
    ASSERT_EQ(gw_webhook_rec_load(path, &r, &e), HLF_EPROTO);
    free(path);
    gwt_rmrf(dir);
    free(dir);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(ssrf_ipv4_ranges),
    TEST_ENTRY(ssrf_ipv6_and_mapped),
    TEST_ENTRY(ssrf_policy_and_odd_input),
    TEST_ENTRY(url_parse),
    TEST_ENTRY(target_check),
    TEST_ENTRY(signature_vector),
    TEST_ENTRY(retry_after_seconds),
    TEST_ENTRY(retry_after_http_date),
    TEST_ENTRY(backoff_schedule),
    TEST_ENTRY(batch_body_shape),
    TEST_ENTRY(filter_check_and_build),
    TEST_ENTRY(record_round_trip),
    TEST_ENTRY(record_bad_files),
};

TEST_MAIN(tests)
