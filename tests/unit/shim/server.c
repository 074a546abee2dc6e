/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End-to-end tests of libhlf_shim over real gRPC on loopback: the chaincode
 * server runs in a background thread on 127.0.0.1:<free port> and an
 * in-process fake peer (fake_peer.c) dials it, checks REGISTER, answers the
 * handshake and then drives transactions message by message, asserting the
 * exact bytes the shim sends (keys, values, composite-key ranges,
 * pagination metadata) and what the chaincode got back.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <grpc/grpc_security.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <hlf/crypto.h>
#include <hlf/shim.h>

#include "common/common.pb-c.h"
#include "fake_peer.h"
#include "ledger/queryresult/kv_query_result.pb-c.h"
#include "msp/identities.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "shim_internal.h"
#include "task.h"

#define CC_ID "reso_1.0:0123abcd"
#define T(name) PROTOS__CHAINCODE_MESSAGE__TYPE__##name

/* ------------------------------------------------------------------------ */
/* The chaincode under test                                                 */
/* ------------------------------------------------------------------------ */

static hlf_response_t
fail_resp(hlf_stub_t *stub, int rc)
{
    return hlf_error_response(
        500, hlf_stub_printf(stub, "%s: %s", hlf_err_name(rc),
                             hlf_stub_last_error(stub)->text));
}

/* Append text to an arena string (tests only build short strings). */
static char *
cat(hlf_stub_t *stub, const char *a, const char *b)
{
    return hlf_stub_printf(stub, "%s%s", a, b);
}

static hlf_response_t
ok_str(const char *s)
{
    return hlf_success(s, strlen(s));
}

static hlf_response_t
cc_range(hlf_stub_t *stub, int paged)
{
    const char *start = hlf_stub_get_string_arg(stub, 1);
    const char *end = hlf_stub_get_string_arg(stub, 2);
    long limit = strtol(hlf_stub_get_string_arg(stub, 3), NULL, 10);
    hlf_query_meta_t meta;
    hlf_iter_t *it;
    hlf_kv_t kv;
    char *out = "";
    long n = 0;
    int rc;

    if (paged)
        rc = hlf_stub_get_state_by_range_with_pagination(
            stub, start, end, (int32_t)limit,
            hlf_stub_get_string_arg(stub, 4), &it, &meta);
    else
        rc = hlf_stub_get_state_by_range(stub, start, end, &it);
    if (rc != HLF_OK)
        return fail_resp(stub, rc);
    while ((paged || n < limit) && (rc = hlf_iter_next(it, &kv)) == 1) {
        out = hlf_stub_printf(stub, "%s%s=%.*s;", out, kv.key,
                              (int)kv.value_len, (const char *)kv.value);
        n++;
    }
    if (rc < 0) {
        /* Build the response before close clears the last error. */
        hlf_response_t failed = fail_resp(stub, rc);
        hlf_iter_close(it);
        return failed;
    }
    rc = hlf_iter_close(it);
    if (rc != HLF_OK)
        return fail_resp(stub, rc);
    if (paged)
        out = hlf_stub_printf(stub, "%s|%d|%s", out, (int)meta.fetched,
                              meta.bookmark);
    return ok_str(out);
}

static hlf_response_t
cc_history(hlf_stub_t *stub)
{
    hlf_key_modification_t km;
    hlf_kv_t kv;
    hlf_iter_t *it;
    char *out = "";
    int rc;

    rc = hlf_stub_get_history_for_key(stub, hlf_stub_get_string_arg(stub, 1),
                                      &it);
    if (rc != HLF_OK)
        return fail_resp(stub, rc);
    /* The wrong accessor is refused without consuming anything. */
    if (hlf_iter_next(it, &kv) != HLF_EINVAL)
        return ok_str("history iterator accepted hlf_iter_next");
    while ((rc = hlf_iter_next_history(it, &km)) == 1)
        out = hlf_stub_printf(stub, "%s%s:%.*s:%lld:%d:%d;", out, km.tx_id,
                              (int)km.value_len, (const char *)km.value,
                              (long long)km.timestamp_seconds,
                              (int)km.timestamp_nanos, km.is_delete);
    if (rc < 0) {
        hlf_response_t failed = fail_resp(stub, rc);
        hlf_iter_close(it);
        return failed;
    }
    hlf_iter_close(it);
    return ok_str(out);
}

/* ck type a b: put the composite key, then query by its first attribute. */
static hlf_response_t
cc_composite(hlf_stub_t *stub)
{
    const char *attrs[2] = {hlf_stub_get_string_arg(stub, 2),
                            hlf_stub_get_string_arg(stub, 3)};
    const char *type = hlf_stub_get_string_arg(stub, 1);
    const char *key, *t;
    const char *const *parts;
    hlf_iter_t *it;
    hlf_kv_t kv;
    size_t n, i;
    char *out = "";
    int rc;

    rc = hlf_stub_create_composite_key(stub, type, attrs, 2, &key);
    if (rc == HLF_OK)
        rc = hlf_stub_put_state(stub, key, "v", 1);
    if (rc == HLF_OK)
        rc = hlf_stub_get_state_by_partial_composite_key(stub, type, attrs,
                                                         1, &it);
    if (rc != HLF_OK)
        return fail_resp(stub, rc);
    while ((rc = hlf_iter_next(it, &kv)) == 1) {
        rc = hlf_stub_split_composite_key(stub, kv.key, &t, &parts, &n);
        if (rc != HLF_OK)
            break;
        out = hlf_stub_printf(stub, "%s%s|", out, t);
        for (i = 0; i < n; i++)
            out = hlf_stub_printf(stub, "%s%s%s", out, i ? "," : "",
                                  parts[i]);
        out = cat(stub, out, ";");
    }
    if (rc < 0) {
        hlf_response_t failed = fail_resp(stub, rc);
        hlf_iter_close(it);
        return failed;
    }
    hlf_iter_close(it);
    return ok_str(out);
}

/* Keys that must be refused before anything reaches the peer. */
static hlf_response_t
cc_bad_keys(hlf_stub_t *stub)
{
    const char *bad_attr[] = {"\xFF"};
    const uint8_t *v;
    const char *key;
    hlf_iter_t *it;
    size_t n;
    int codes[8], i = 0;
    char *out = "";

    codes[i++] = hlf_stub_put_state(stub, "\xFF\xFE", "v", 1);
    codes[i++] = hlf_stub_get_state(stub, "bad\xC3", &v, &n);
    codes[i++] = hlf_stub_put_state(stub, "", "v", 1);
    codes[i++] = hlf_stub_put_state(stub, "\xC0\x80notcomposite", "v", 1);
    codes[i++] = hlf_stub_del_state(stub, "\xED\xA0\x80");
    codes[i++] = hlf_stub_create_composite_key(stub, "t", bad_attr, 1, &key);
    codes[i++] = hlf_stub_get_state_by_range(stub, "\xC0\x80x", "", &it);
    codes[i++] = hlf_stub_set_event(stub, "", "p", 1);
    for (int j = 0; j < i; j++)
        out = hlf_stub_printf(stub, "%s%s%s", out, j ? "," : "",
                              hlf_err_name(codes[j]));
    return ok_str(out);
}

/* multi tag: two reads and a write, strictly one after the other. */
static hlf_response_t
cc_multi(hlf_stub_t *stub)
{
    const char *tag = hlf_stub_get_string_arg(stub, 1);
    const uint8_t *x, *y;
    size_t xn, yn;
    char *out;
    int rc;

    rc = hlf_stub_get_state(stub, hlf_stub_printf(stub, "x%s", tag), &x,
                            &xn);
    if (rc == HLF_OK)
        rc = hlf_stub_get_state(stub, hlf_stub_printf(stub, "y%s", tag), &y,
                                &yn);
    if (rc != HLF_OK)
        return fail_resp(stub, rc);
    out = hlf_stub_printf(stub, "%.*s+%.*s", (int)xn, (const char *)x,
                          (int)yn, (const char *)y);
    rc = hlf_stub_put_state(stub, hlf_stub_printf(stub, "z%s", tag), out,
                            strlen(out));
    if (rc != HLF_OK)
        return fail_resp(stub, rc);
    return ok_str(out);
}

static hlf_response_t
cc_context(hlf_stub_t *stub)
{
    const char *const *ous;
    const uint8_t *b, *bind;
    size_t n, bn, nous, i;
    int64_t sec;
    int32_t nanos;
    char hex[65];
    char *out;

    if (hlf_stub_get_tx_timestamp(stub, &sec, &nanos) != HLF_OK ||
        hlf_stub_get_binding(stub, &bind, &bn) != HLF_OK ||
        hlf_stub_get_creator_ous(stub, &ous, &nous) != HLF_OK ||
        hlf_stub_get_transient(stub, "secret", &b, &n) != HLF_OK)
        return fail_resp(stub, hlf_stub_last_error(stub)->code);
    hlf_hex_encode(bind, bn, hex);
    out = hlf_stub_printf(
        stub, "%s|%s|%lld.%d|%s|%s|%s|%s|%s|%.*s|%s|%s|%d",
        hlf_stub_get_tx_id(stub), hlf_stub_get_channel_id(stub),
        (long long)sec, (int)nanos, hlf_stub_get_creator_msp_id(stub),
        hlf_stub_get_creator_subject(stub),
        hlf_stub_get_creator_common_name(stub),
        hlf_stub_get_creator_attribute(stub, "hf.role"),
        hlf_stub_get_msp_id(stub) ? hlf_stub_get_msp_id(stub) : "(none)",
        (int)n, (const char *)b, hex,
        hlf_stub_get_creator_id(stub),
        hlf_stub_creator_has_ou(stub, "client"));
    for (i = 0; i < nous; i++)
        out = hlf_stub_printf(stub, "%s|%s", out, ous[i]);
    if (hlf_stub_get_creator_attribute(stub, "missing") != NULL)
        return ok_str("missing attribute found");
    return ok_str(out);
}

static hlf_response_t
cc_invoke(hlf_stub_t *stub, void *ud)
{
    const char *fn = hlf_stub_get_function(stub);
    const uint8_t *const *argv;
    const size_t *lens;
    const uint8_t *val;
    size_t argc, len;
    int rc;

    (void)ud;
    hlf_stub_get_args(stub, &argv, &lens, &argc);
    if (strcmp(fn, "get") == 0) {
        rc = hlf_stub_get_state(stub, (const char *)argv[1], &val, &len);
        if (rc != HLF_OK)
            return fail_resp(stub, rc);
        return val == NULL ? ok_str("<absent>") : hlf_success(val, len);
    }
    if (strcmp(fn, "put") == 0) {
        rc = hlf_stub_put_state(stub, (const char *)argv[1], argv[2],
                                lens[2]);
        return rc == HLF_OK ? ok_str("put") : fail_resp(stub, rc);
    }
    if (strcmp(fn, "del") == 0) {
        rc = hlf_stub_del_state(stub, (const char *)argv[1]);
        return rc == HLF_OK ? ok_str("del") : fail_resp(stub, rc);
    }
    if (strcmp(fn, "range") == 0)
        return cc_range(stub, 0);
    if (strcmp(fn, "page") == 0)
        return cc_range(stub, 1);
    if (strcmp(fn, "hist") == 0)
        return cc_history(stub);
    if (strcmp(fn, "ck") == 0)
        return cc_composite(stub);
    if (strcmp(fn, "badkeys") == 0)
        return cc_bad_keys(stub);
    if (strcmp(fn, "multi") == 0)
        return cc_multi(stub);
    if (strcmp(fn, "ctx") == 0)
        return cc_context(stub);
    if (strcmp(fn, "event") == 0) {
        hlf_stub_set_event(stub, "first", "x", 1);
        rc = hlf_stub_set_event(stub, hlf_stub_get_string_arg(stub, 1),
                                argv[2], lens[2]);
        return rc == HLF_OK ? ok_str("evented") : fail_resp(stub, rc);
    }
    if (strcmp(fn, "fail") == 0)
        return hlf_error_response(403, "not allowed");
    return hlf_error_response(400, "unknown function");
}

static hlf_response_t
cc_init(hlf_stub_t *stub, void *ud)
{
    (void)ud;
    if (strcmp(hlf_stub_get_function(stub), "bad") == 0)
        return hlf_error_response(500, "init refused");
    return ok_str("initialised");
}

static const hlf_chaincode_t test_cc = {cc_init, cc_invoke, NULL};

/* ------------------------------------------------------------------------ */
/* Server in a background thread                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
    hlf_chaincode_server_t *srv;
    pthread_t thread;
    int rc;
} bg_server_t;

static void *
bg_main(void *arg)
{
    bg_server_t *bg = arg;
    hlf_error_t err;

    bg->rc = hlf_chaincode_server_serve(bg->srv, &err);
    return NULL;
}

static int
bg_start(bg_server_t *bg)
{
    hlf_chaincode_server_opts_t opts;
    hlf_error_t err;

    memset(&opts, 0, sizeof(opts));
    opts.address = "127.0.0.1:0";
    opts.chaincode_id = CC_ID;
    opts.workers = 4;
    memset(bg, 0, sizeof(*bg));
    ASSERT_EQ(hlf_chaincode_server_new(&bg->srv, &opts, &test_cc, &err),
              HLF_OK);
    ASSERT_GE(hlf_chaincode_server_port(bg->srv), 1);
    bg->rc = -999;
    ASSERT_EQ(pthread_create(&bg->thread, NULL, bg_main, bg), 0);
    return hlf_chaincode_server_port(bg->srv);
}

static void
bg_stop(bg_server_t *bg)
{
    hlf_chaincode_server_shutdown(bg->srv);
    ASSERT_EQ(pthread_join(bg->thread, NULL), 0);
    ASSERT_EQ(bg->rc, HLF_OK);
    hlf_chaincode_server_free(bg->srv);
}

/* Start a server and one fake peer that has done the handshake. */
static void
setup(bg_server_t *bg, fake_peer_t *fp)
{
    fp_connect(fp, bg_start(bg));
    fp_handshake(fp, CC_ID);
}

static void
teardown(bg_server_t *bg, fake_peer_t *fp)
{
    ASSERT_EQ(fp->n_outstanding, 0);
    fp_close(fp);
    bg_stop(bg);
}

/* ------------------------------------------------------------------------ */
/* Helpers for the fake peer side                                           */
/* ------------------------------------------------------------------------ */

/* Expect COMPLETED for txid with status and exact payload. */
static void
expect_completed(fake_peer_t *fp, const char *txid, int status,
                 const void *payload, size_t len)
{
    Protos__ChaincodeMessage *m = fp_expect(fp, T(COMPLETED));
    Protos__Response *r;

    ASSERT_STR_EQ(m->txid, txid);
    r = protos__response__unpack(NULL, m->payload.len, m->payload.data);
    ASSERT_NOT_NULL(r);
    if (r->status != status || r->payload.len != len ||
        (len > 0 && memcmp(r->payload.data, payload, len) != 0))
        TEST__FAIL("COMPLETED %s: status %d payload '%.*s' message '%s', "
                   "wanted %d '%.*s'", txid, (int)r->status,
                   (int)r->payload.len, (const char *)r->payload.data,
                   r->message, status, (int)len, (const char *)payload);
    protos__response__free_unpacked(r, NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
}

static void
expect_completed_str(fake_peer_t *fp, const char *txid, const char *payload)
{
    expect_completed(fp, txid, 200, payload, strlen(payload));
}

/* Expect COMPLETED with a failure status and exact message. */
static void
expect_failed(fake_peer_t *fp, const char *txid, int status,
              const char *message)
{
    Protos__ChaincodeMessage *m = fp_expect(fp, T(COMPLETED));
    Protos__Response *r;

    ASSERT_STR_EQ(m->txid, txid);
    r = protos__response__unpack(NULL, m->payload.len, m->payload.data);
    ASSERT_NOT_NULL(r);
    ASSERT_EQ(r->status, status);
    ASSERT_STR_EQ(r->message, message);
    ASSERT_EQ(r->payload.len, 0);
    protos__response__free_unpacked(r, NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
}

/* Field `field` (length-delimited) of an encoded message, or NULL. */
static const uint8_t *
field_bytes(const ProtobufCBinaryData *msg, uint32_t field, size_t *len)
{
    hlf__pbr_t r = {msg->data, msg->data + msg->len};
    hlf__pbfield_t f;
    const uint8_t *found = NULL;

    *len = 0;
    while (hlf__pbr_next(&r, &f) == 1) {
        if (f.field == field && f.wire_type == 2) {
            found = f.data;
            *len = f.len;
        }
    }
    return found;
}

static void
assert_field(const ProtobufCBinaryData *msg, uint32_t field,
             const void *want, size_t want_len)
{
    size_t len;
    const uint8_t *got = field_bytes(msg, field, &len);

    if (len != want_len || (want_len > 0 && memcmp(got, want, len) != 0))
        TEST__FAIL("field %u: got %zu bytes '%.*s', wanted %zu bytes '%.*s'",
                   field, len, (int)len, got ? (const char *)got : "",
                   want_len, (int)want_len, (const char *)want);
}

/* Encode queryresult.KV{namespace=1, key=2, value=3} (key may hold 0x00). */
static void
kv_encode(hlf__pbw_t *w, const char *key, size_t klen, const char *val)
{
    hlf__pbw_bytes_field(w, 1, "reso", 4);
    hlf__pbw_bytes_field(w, 2, key, klen);
    hlf__pbw_bytes_field(w, 3, val, strlen(val));
}

/*
 * Answer req with a QueryResponse of n KVs (keys[i] of klens[i] bytes, or
 * strlen when klens is NULL), has_more, id and raw metadata.
 */
static void
respond_kvs(fake_peer_t *fp, const Protos__ChaincodeMessage *req,
            const char *const *keys, const size_t *klens,
            const char *const *vals, size_t n, int has_more, const char *id,
            const hlf__pbw_t *meta)
{
    Protos__QueryResponse qr = PROTOS__QUERY_RESPONSE__INIT;
    Protos__QueryResultBytes rb[8], *rbp[8];
    hlf__pbw_t w[8];
    uint8_t *buf;
    size_t i, len;

    ASSERT(n <= 8);
    memset(w, 0, sizeof(w));
    for (i = 0; i < n; i++) {
        kv_encode(&w[i], keys[i], klens ? klens[i] : strlen(keys[i]),
                  vals[i]);
        protos__query_result_bytes__init(&rb[i]);
        rb[i].resultbytes.data = w[i].buf;
        rb[i].resultbytes.len = w[i].len;
        rbp[i] = &rb[i];
    }
    qr.n_results = n;
    qr.results = rbp;
    qr.has_more = has_more;
    qr.id = (char *)id;
    if (meta != NULL) {
        qr.metadata.data = meta->buf;
        qr.metadata.len = meta->len;
    }
    len = protos__query_response__get_packed_size(&qr);
    buf = malloc(len ? len : 1);
    protos__query_response__pack(&qr, buf);
    fp_respond(fp, req, buf, len);
    free(buf);
    for (i = 0; i < n; i++)
        hlf__pbw_dispose(&w[i]);
}

static void
tx(fake_peer_t *fp, const char *txid, const char *a0, const char *a1,
   const char *a2, const char *a3, const char *a4)
{
    const char *args[5] = {a0, a1, a2, a3, a4};
    size_t n = 0;

    while (n < 5 && args[n] != NULL)
        n++;
    fp_transaction(fp, "ch1", txid, args, NULL, n);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

TEST_IMPL(handshake_and_state_order)
{
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;

    fp_connect(&fp, bg_start(&bg));
    /* The chaincode speaks first, with the package id. */
    m = fp_expect(&fp, T(REGISTER));
    ASSERT_STR_EQ(m->txid, "");
    assert_field(&m->payload, 2, CC_ID, strlen(CC_ID));
    protos__chaincode_message__free_unpacked(m, NULL);

    /* A transaction before REGISTERED/READY is refused with ERROR. */
    tx(&fp, "early", "get", "k", NULL, NULL, NULL);
    m = fp_expect(&fp, T(ERROR));
    ASSERT_STR_EQ(m->txid, "early");
    ASSERT_STR_EQ(m->channel_id, "ch1");
    ASSERT_EQ(m->payload.len,
              strlen("unexpected message TRANSACTION (5) in state created"));
    ASSERT_MEM_EQ(m->payload.data,
                  "unexpected message TRANSACTION (5) in state created",
                  m->payload.len);
    protos__chaincode_message__free_unpacked(m, NULL);

    fp_send_type(&fp, T(REGISTERED), "", "", NULL, 0);
    /* A 3.x READY payload (ChaincodeAdditionalParams) is ignored. */
    fp_send_type(&fp, T(READY), "", "", "\x08\x01\x10\xe8\x07", 5);
    tx(&fp, "t1", "fail", NULL, NULL, NULL, NULL);
    expect_failed(&fp, "t1", 403, "not allowed");
    teardown(&bg, &fp);
}

TEST_IMPL(get_put_del_exact_bytes)
{
    static const char value[] = {'\0', '\x01', '\xfe', '\xff', 'z'};
    const char *args[3] = {"put", "listing/\xC3\xA9", value};
    const size_t lens[3] = {3, 10, sizeof(value)};
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;
    hlf__pbw_t want = {0};

    setup(&bg, &fp);

    tx(&fp, "g1", "get", "listing/1", NULL, NULL, NULL);
    m = fp_expect(&fp, T(GET_STATE));
    ASSERT_STR_EQ(m->txid, "g1");
    ASSERT_STR_EQ(m->channel_id, "ch1");
    /* GetState{key=1}: exactly one field, no collection. */
    ASSERT_EQ(m->payload.len, 11);
    ASSERT_MEM_EQ(m->payload.data, "\x0a\x09listing/1", 11);
    fp_respond(&fp, m, value, sizeof(value));
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed(&fp, "g1", 200, value, sizeof(value));

    /* An empty RESPONSE means "absent": the stub returns NULL. */
    tx(&fp, "g2", "get", "nothing", NULL, NULL, NULL);
    m = fp_expect(&fp, T(GET_STATE));
    fp_respond(&fp, m, NULL, 0);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "g2", "<absent>");

    fp_transaction(&fp, "ch1", "p1", args, lens, 3);
    m = fp_expect(&fp, T(PUT_STATE));
    hlf__pbw_bytes_field(&want, 1, "listing/\xC3\xA9", 10);
    hlf__pbw_bytes_field(&want, 2, value, sizeof(value));
    ASSERT_EQ(m->payload.len, want.len);
    ASSERT_MEM_EQ(m->payload.data, want.buf, want.len);
    hlf__pbw_dispose(&want);
    fp_respond(&fp, m, NULL, 0);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "p1", "put");

    tx(&fp, "d1", "del", "listing/1", NULL, NULL, NULL);
    m = fp_expect(&fp, T(DEL_STATE));
    ASSERT_EQ(m->payload.len, 11);
    ASSERT_MEM_EQ(m->payload.data, "\x0a\x09listing/1", 11);
    fp_respond(&fp, m, NULL, 0);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "d1", "del");
    teardown(&bg, &fp);
}

TEST_IMPL(range_paging_and_early_close)
{
    const char *k3[] = {"a", "b"}, *v3[] = {"1", "2"};
    const char *k1[] = {"c"}, *v1[] = {"3"};
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;

    setup(&bg, &fp);
    /* Full iteration over two batches. */
    tx(&fp, "r1", "range", "a", "d", "100", NULL);
    m = fp_expect(&fp, T(GET_STATE_BY_RANGE));
    assert_field(&m->payload, 1, "a", 1);
    assert_field(&m->payload, 2, "d", 1);
    assert_field(&m->payload, 4, NULL, 0);
    respond_kvs(&fp, m, k3, NULL, v3, 2, 1, "iter-1", NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
    m = fp_expect(&fp, T(QUERY_STATE_NEXT));
    assert_field(&m->payload, 1, "iter-1", 6);
    respond_kvs(&fp, m, k1, NULL, v1, 1, 0, "iter-1", NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "r1", "a=1;b=2;c=3;");

    /* Reading one item then closing sends QUERY_STATE_CLOSE; an empty
     * start key becomes 0x01 so composite keys stay out of the range. */
    tx(&fp, "r2", "range", "", "", "1", NULL);
    m = fp_expect(&fp, T(GET_STATE_BY_RANGE));
    assert_field(&m->payload, 1, "\x01", 1);
    assert_field(&m->payload, 2, NULL, 0);
    respond_kvs(&fp, m, k3, NULL, v3, 2, 1, "iter-2", NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
    m = fp_expect(&fp, T(QUERY_STATE_CLOSE));
    assert_field(&m->payload, 1, "iter-2", 6);
    respond_kvs(&fp, m, NULL, NULL, NULL, 0, 0, "iter-2", NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "r2", "a=1;");

    /* A peer ERROR on QUERY_STATE_NEXT reaches the chaincode. */
    tx(&fp, "r3", "range", "a", "z", "100", NULL);
    m = fp_expect(&fp, T(GET_STATE_BY_RANGE));
    respond_kvs(&fp, m, k1, NULL, v1, 1, 1, "iter-3", NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
    m = fp_expect(&fp, T(QUERY_STATE_NEXT));
    fp_respond_error(&fp, m, "query iterator not found");
    protos__chaincode_message__free_unpacked(m, NULL);
    m = fp_expect(&fp, T(QUERY_STATE_CLOSE));
    respond_kvs(&fp, m, NULL, NULL, NULL, 0, 0, "iter-3", NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_failed(&fp, "r3", 500, "EIO: query iterator not found");
    teardown(&bg, &fp);
}

TEST_IMPL(pagination_metadata)
{
    const char *keys[] = {"b", "c"}, *vals[] = {"2", "3"};
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;
    hlf__pbw_t want = {0}, meta = {0};
    size_t len;
    const uint8_t *md;

    setup(&bg, &fp);
    tx(&fp, "pg1", "page", "a", "z", "2", "b");
    m = fp_expect(&fp, T(GET_STATE_BY_RANGE));
    assert_field(&m->payload, 1, "a", 1);
    assert_field(&m->payload, 2, "z", 1);
    /* metadata = QueryMetadata{pageSize=2, bookmark="b"}. */
    md = field_bytes(&m->payload, 4, &len);
    hlf__pbw_varint_field(&want, 1, 2);
    hlf__pbw_bytes_field(&want, 2, "b", 1);
    ASSERT_EQ(len, want.len);
    ASSERT_MEM_EQ(md, want.buf, want.len);
    hlf__pbw_dispose(&want);
    /* QueryResponseMetadata{fetched_records_count=2, bookmark="d"}. */
    hlf__pbw_varint_field(&meta, 1, 2);
    hlf__pbw_bytes_field(&meta, 2, "d", 1);
    respond_kvs(&fp, m, keys, NULL, vals, 2, 0, "", &meta);
    hlf__pbw_dispose(&meta);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "pg1", "b=2;c=3;|2|d");

    /* Last page: empty bookmark and no results. */
    tx(&fp, "pg2", "page", "a", "z", "2", "d");
    m = fp_expect(&fp, T(GET_STATE_BY_RANGE));
    hlf__pbw_varint_field(&meta, 1, 0);
    respond_kvs(&fp, m, NULL, NULL, NULL, 0, 0, "", &meta);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "pg2", "|0|");
    teardown(&bg, &fp);
}

TEST_IMPL(history_items)
{
    Queryresult__KeyModification km[2];
    Google__Protobuf__Timestamp ts[2];
    Protos__QueryResultBytes rb[2], *rbp[2] = {&rb[0], &rb[1]};
    Protos__QueryResponse qr = PROTOS__QUERY_RESPONSE__INIT;
    uint8_t *bufs[2], *out;
    size_t i, n;
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;

    setup(&bg, &fp);
    tx(&fp, "h1", "hist", "listing/7", NULL, NULL, NULL);
    m = fp_expect(&fp, T(GET_HISTORY_FOR_KEY));
    ASSERT_EQ(m->payload.len, 11);
    ASSERT_MEM_EQ(m->payload.data, "\x0a\x09listing/7", 11);
    for (i = 0; i < 2; i++) {
        queryresult__key_modification__init(&km[i]);
        google__protobuf__timestamp__init(&ts[i]);
        km[i].timestamp = &ts[i];
    }
    km[0].tx_id = "txnew";
    km[0].is_delete = 1;
    ts[0].seconds = 1700000200;
    km[1].tx_id = "txold";
    km[1].value.data = (uint8_t *)"v1";
    km[1].value.len = 2;
    ts[1].seconds = 1700000100;
    ts[1].nanos = 5;
    for (i = 0; i < 2; i++) {
        n = queryresult__key_modification__get_packed_size(&km[i]);
        bufs[i] = malloc(n);
        queryresult__key_modification__pack(&km[i], bufs[i]);
        protos__query_result_bytes__init(&rb[i]);
        rb[i].resultbytes.data = bufs[i];
        rb[i].resultbytes.len = n;
    }
    qr.n_results = 2;
    qr.results = rbp;
    qr.id = "h-iter";
    n = protos__query_response__get_packed_size(&qr);
    out = malloc(n);
    protos__query_response__pack(&qr, out);
    fp_respond(&fp, m, out, n);
    free(out);
    free(bufs[0]);
    free(bufs[1]);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "h1",
                         "txnew::1700000200:0:1;txold:v1:1700000100:5:0;");
    teardown(&bg, &fp);
}

TEST_IMPL(composite_keys_on_the_wire)
{
    static const char ck[] = "\0listing\0L1\0open\0";
    static const char start[] = "\0listing\0L1\0";
    static const char end[] = "\0listing\0L1\0\xF4\x8F\xBF\xBF";
    const char *keys[] = {ck, "\0listing\0L1\0sold\0"};
    const size_t klens[] = {sizeof(ck) - 1, 17};
    const char *vals[] = {"v", "w"};
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;

    setup(&bg, &fp);
    tx(&fp, "c1", "ck", "listing", "L1", "open", NULL);
    m = fp_expect(&fp, T(PUT_STATE));
    /* 0x00 type 0x00 a 0x00 b 0x00 as real bytes on the wire. */
    assert_field(&m->payload, 1, ck, sizeof(ck) - 1);
    assert_field(&m->payload, 2, "v", 1);
    fp_respond(&fp, m, NULL, 0);
    protos__chaincode_message__free_unpacked(m, NULL);
    m = fp_expect(&fp, T(GET_STATE_BY_RANGE));
    assert_field(&m->payload, 1, start, sizeof(start) - 1);
    assert_field(&m->payload, 2, end, sizeof(end) - 1);
    respond_kvs(&fp, m, keys, klens, vals, 2, 0, "ck-iter", NULL);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "c1", "listing|L1,open;listing|L1,sold;");
    teardown(&bg, &fp);
}

TEST_IMPL(event_on_completed)
{
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;
    Protos__Response *r;

    setup(&bg, &fp);
    tx(&fp, "e1", "event", "ListingCreated", "{\"id\":1}", NULL, NULL);
    m = fp_expect(&fp, T(COMPLETED));
    ASSERT_NOT_NULL(m->chaincode_event);
    /* The last set_event wins; chaincode_id/tx_id are the peer's job. */
    ASSERT_STR_EQ(m->chaincode_event->event_name, "ListingCreated");
    ASSERT_EQ(m->chaincode_event->payload.len, 8);
    ASSERT_MEM_EQ(m->chaincode_event->payload.data, "{\"id\":1}", 8);
    ASSERT_STR_EQ(m->chaincode_event->tx_id, "");
    r = protos__response__unpack(NULL, m->payload.len, m->payload.data);
    ASSERT_EQ(r->status, 200);
    protos__response__free_unpacked(r, NULL);
    protos__chaincode_message__free_unpacked(m, NULL);

    /* No event set: none sent. */
    tx(&fp, "e2", "fail", NULL, NULL, NULL, NULL);
    m = fp_expect(&fp, T(COMPLETED));
    ASSERT_NULL(m->chaincode_event);
    protos__chaincode_message__free_unpacked(m, NULL);
    teardown(&bg, &fp);
}

/*
 * Three transactions at once on one stream (two share a txid on different
 * channels). The fake answers only after the stream has gone quiet, in
 * reverse order, and fp_recv fails the test if any (channel, txid) ever
 * has two requests outstanding.
 */
TEST_IMPL(interleaved_transactions)
{
    const char *a[] = {"multi", "A"}, *b[] = {"multi", "B"};
    Protos__ChaincodeMessage *held[8], *m;
    bg_server_t bg;
    fake_peer_t fp;
    size_t n_held = 0, n_done = 0, rounds = 0, waits = 0, i;

    setup(&bg, &fp);
    fp_transaction(&fp, "ch1", "tA", a, NULL, 2);
    fp_transaction(&fp, "ch1", "tB", b, NULL, 2);
    fp_transaction(&fp, "ch2", "tA", b, NULL, 2);
    while (n_done < 3) {
        m = fp_recv(&fp, 500);
        if (m != NULL && m->type == T(COMPLETED)) {
            Protos__Response *r = protos__response__unpack(
                NULL, m->payload.len, m->payload.data);
            char *want = malloc(64);
            const char *tag = strcmp(m->txid, "tA") == 0 &&
                                      strcmp(m->channel_id, "ch1") == 0
                                  ? "A"
                                  : "B";
            snprintf(want, 64, "x%s@%s+y%s@%s", tag, m->channel_id, tag,
                     m->channel_id);
            ASSERT_EQ(r->status, 200);
            ASSERT_EQ(r->payload.len, strlen(want));
            ASSERT_MEM_EQ(r->payload.data, want, strlen(want));
            free(want);
            protos__response__free_unpacked(r, NULL);
            n_done++;
            protos__chaincode_message__free_unpacked(m, NULL);
            continue;
        }
        if (m != NULL) {
            ASSERT(n_held < 8);
            held[n_held++] = m;
            continue;
        }
        /* The first round waits for all three (a loaded machine may be
         * slow to start workers), so all three are outstanding at once. */
        if (rounds == 0 && n_held < 3) {
            ASSERT(++waits < 20);
            continue;
        }
        /* Quiet: every transaction is blocked on its single request. */
        ASSERT_GE(n_held, 1);
        for (i = n_held; i > 0; i--) {
            Protos__ChaincodeMessage *q = held[i - 1];
            if (q->type == T(GET_STATE)) {
                size_t klen;
                const uint8_t *k = field_bytes(&q->payload, 1, &klen);
                char val[64];
                snprintf(val, sizeof(val), "%.*s@%s", (int)klen,
                         (const char *)k, q->channel_id);
                fp_respond(&fp, q, val, strlen(val));
            } else {
                ASSERT_EQ(q->type, T(PUT_STATE));
                fp_respond(&fp, q, NULL, 0);
            }
            protos__chaincode_message__free_unpacked(q, NULL);
        }
        n_held = 0;
        ASSERT(++rounds <= 9);
    }
    /* All three were really concurrent at some point, and each needed
     * three separate round trips (get, get, put). */
    ASSERT_EQ(fp.max_outstanding_seen, 3);
    ASSERT_GE(rounds, 3);
    teardown(&bg, &fp);
}

TEST_IMPL(keepalive_echo)
{
    static const char payload[] = "ka\x00\x01";
    Protos__ChaincodeMessage ka = PROTOS__CHAINCODE_MESSAGE__INIT;
    bg_server_t bg;
    fake_peer_t fp;
    uint8_t *sent, *got;
    size_t n, glen;

    setup(&bg, &fp);
    ka.type = T(KEEPALIVE);
    ka.txid = "keepalive-1";
    ka.payload.data = (uint8_t *)payload;
    ka.payload.len = sizeof(payload) - 1;
    n = protos__chaincode_message__get_packed_size(&ka);
    sent = malloc(n);
    protos__chaincode_message__pack(&ka, sent);
    fp_send_raw(&fp, sent, n);
    ASSERT_EQ(fp_recv_raw(&fp, 5000, &got, &glen), 1);
    ASSERT_EQ(glen, n);
    ASSERT_MEM_EQ(got, sent, n);
    free(got);
    free(sent);
    teardown(&bg, &fp);
}

TEST_IMPL(peer_error_reaches_chaincode)
{
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;

    setup(&bg, &fp);
    tx(&fp, "x1", "get", "k", NULL, NULL, NULL);
    m = fp_expect(&fp, T(GET_STATE));
    fp_respond_error(&fp, m, "GET_STATE failed: no ledger context");
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_failed(&fp, "x1", 500, "EIO: GET_STATE failed: no ledger context");
    teardown(&bg, &fp);
}

TEST_IMPL(malformed_input_answered_with_error)
{
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;

    setup(&bg, &fp);
    /* Not a ChaincodeMessage at all. */
    fp_send_raw(&fp, "\xff\xff\xff\xff", 4);
    m = fp_expect(&fp, T(ERROR));
    ASSERT_STR_EQ(m->txid, "");
    ASSERT_EQ(m->payload.len, strlen("malformed ChaincodeMessage"));
    ASSERT_MEM_EQ(m->payload.data, "malformed ChaincodeMessage",
                  m->payload.len);
    protos__chaincode_message__free_unpacked(m, NULL);

    /* A TRANSACTION whose ChaincodeInput does not decode. */
    fp_send_type(&fp, T(TRANSACTION), "ch1", "bad1", "\x0a\x05" "ab", 4);
    m = fp_expect(&fp, T(ERROR));
    ASSERT_STR_EQ(m->txid, "bad1");
    ASSERT_MEM_EQ(m->payload.data, "failed to decode ChaincodeInput",
                  m->payload.len);
    protos__chaincode_message__free_unpacked(m, NULL);

    /* A message type the chaincode never receives, and a stray RESPONSE. */
    fp_send_type(&fp, T(GET_STATE), "ch1", "odd", NULL, 0);
    m = fp_expect(&fp, T(ERROR));
    ASSERT_STR_EQ(m->txid, "odd");
    protos__chaincode_message__free_unpacked(m, NULL);
    fp_send_type(&fp, (Protos__ChaincodeMessage__Type)99, "ch1", "odd2",
                 NULL, 0);
    m = fp_expect(&fp, T(ERROR));
    ASSERT_STR_EQ(m->txid, "odd2");
    protos__chaincode_message__free_unpacked(m, NULL);
    fp_send_type(&fp, T(RESPONSE), "ch1", "nobody", "x", 1);
    m = fp_expect(&fp, T(ERROR));
    ASSERT_STR_EQ(m->txid, "nobody");
    protos__chaincode_message__free_unpacked(m, NULL);

    /* The stream still works. */
    tx(&fp, "after", "fail", NULL, NULL, NULL, NULL);
    expect_failed(&fp, "after", 403, "not allowed");
    teardown(&bg, &fp);
}

TEST_IMPL(invalid_keys_rejected_locally)
{
    bg_server_t bg;
    fake_peer_t fp;

    setup(&bg, &fp);
    tx(&fp, "bk", "badkeys", NULL, NULL, NULL, NULL);
    /* COMPLETED comes straight away: no request reached the peer. */
    expect_completed_str(&fp, "bk",
                         "EINVAL,EINVAL,EINVAL,EINVAL,EINVAL,EINVAL,EINVAL,"
                         "EINVAL");
    teardown(&bg, &fp);
}

TEST_IMPL(init_and_duplicate_tx)
{
    Protos__ChaincodeInput in = PROTOS__CHAINCODE_INPUT__INIT;
    ProtobufCBinaryData arg = {3, (uint8_t *)"bad"};
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;
    uint8_t buf[16];
    size_t n;

    setup(&bg, &fp);
    /* INIT with status >= 500 becomes ERROR carrying the message. */
    in.n_args = 1;
    in.args = &arg;
    in.is_init = 1;
    n = protos__chaincode_input__pack(&in, buf);
    fp_send_type(&fp, T(INIT), "ch1", "i1", buf, n);
    m = fp_expect(&fp, T(ERROR));
    ASSERT_STR_EQ(m->txid, "i1");
    ASSERT_EQ(m->payload.len, strlen("init refused"));
    ASSERT_MEM_EQ(m->payload.data, "init refused", m->payload.len);
    protos__chaincode_message__free_unpacked(m, NULL);

    /* A second TRANSACTION with a txid still executing is refused. */
    tx(&fp, "dup", "get", "k", NULL, NULL, NULL);
    m = fp_expect(&fp, T(GET_STATE));
    tx(&fp, "dup", "get", "k", NULL, NULL, NULL);
    {
        Protos__ChaincodeMessage *e = fp_expect(&fp, T(ERROR));
        ASSERT_STR_EQ(e->txid, "dup");
        ASSERT_MEM_EQ(e->payload.data, "duplicate transaction",
                      strlen("duplicate transaction"));
        protos__chaincode_message__free_unpacked(e, NULL);
    }
    fp_respond(&fp, m, "v", 1);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_completed_str(&fp, "dup", "v");
    teardown(&bg, &fp);
}

TEST_IMPL(two_peers_concurrently)
{
    bg_server_t bg;
    fake_peer_t p1, p2;
    Protos__ChaincodeMessage *m1, *m2;
    int port = bg_start(&bg);

    fp_connect(&p1, port);
    fp_handshake(&p1, CC_ID);
    fp_connect(&p2, port);
    fp_handshake(&p2, CC_ID);
    /* The same txid on both streams: each stream has its own registry. */
    tx(&p1, "same", "get", "k1", NULL, NULL, NULL);
    tx(&p2, "same", "get", "k2", NULL, NULL, NULL);
    m1 = fp_expect(&p1, T(GET_STATE));
    m2 = fp_expect(&p2, T(GET_STATE));
    assert_field(&m1->payload, 1, "k1", 2);
    assert_field(&m2->payload, 1, "k2", 2);
    fp_respond(&p2, m2, "two", 3);
    fp_respond(&p1, m1, "one", 3);
    protos__chaincode_message__free_unpacked(m1, NULL);
    protos__chaincode_message__free_unpacked(m2, NULL);
    expect_completed_str(&p2, "same", "two");
    expect_completed_str(&p1, "same", "one");

    /* Closing one stream leaves the other serving. */
    fp_close(&p1);
    tx(&p2, "later", "fail", NULL, NULL, NULL, NULL);
    expect_failed(&p2, "later", 403, "not allowed");
    teardown(&bg, &p2);
}

TEST_IMPL(stop_while_idle_and_mid_transaction)
{
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *m;

    /* No peer at all. */
    bg_start(&bg);
    bg_stop(&bg);

    /* An idle stream: the server ends it and returns. */
    setup(&bg, &fp);
    bg_stop(&bg);
    fp_wait_end_and_free(&fp, 5000);

    /* A transaction blocked on the peer is released with ECLOSED. */
    setup(&bg, &fp);
    tx(&fp, "blocked", "get", "k", NULL, NULL, NULL);
    m = fp_expect(&fp, T(GET_STATE));
    protos__chaincode_message__free_unpacked(m, NULL);
    bg_stop(&bg);
    fp_wait_end_and_free(&fp, 5000);

    /* Never served: new + free only. */
    {
        hlf_chaincode_server_opts_t opts = {"127.0.0.1:0", CC_ID, NULL,
                                            NULL, NULL, 1};
        hlf_chaincode_server_t *srv;
        ASSERT_EQ(hlf_chaincode_server_new(&srv, &opts, &test_cc, NULL),
                  HLF_OK);
        hlf_chaincode_server_free(srv);
    }
}

TEST_IMPL(global_stop_function)
{
    bg_server_t bg;

    bg_start(&bg);
    hlf_chaincode_server_stop();
    ASSERT_EQ(pthread_join(bg.thread, NULL), 0);
    ASSERT_EQ(bg.rc, HLF_OK);
    hlf_chaincode_server_free(bg.srv);
}

TEST_IMPL(server_option_errors)
{
    hlf_chaincode_server_opts_t opts;
    hlf_chaincode_server_t *srv = NULL;
    hlf_chaincode_t no_invoke = {NULL, NULL, NULL};
    hlf_error_t err;

    memset(&opts, 0, sizeof(opts));
    opts.address = "127.0.0.1:0";
    ASSERT_EQ(hlf_chaincode_server_new(&srv, &opts, &test_cc, &err),
              HLF_EINVAL);
    ASSERT_STR_EQ(err.text, "chaincode id is empty");
    opts.chaincode_id = CC_ID;
    ASSERT_EQ(hlf_chaincode_server_new(&srv, &opts, &no_invoke, &err),
              HLF_EINVAL);
    opts.tls_cert_file = "/nonexistent/cert.pem";
    ASSERT_EQ(hlf_chaincode_server_new(&srv, &opts, &test_cc, &err),
              HLF_EINVAL);
    ASSERT_STR_EQ(err.text, "TLS needs both a certificate and a key");
    opts.tls_key_file = "/nonexistent/key.pem";
    ASSERT_EQ(hlf_chaincode_server_new(&srv, &opts, &test_cc, &err),
              HLF_ECONFIG);
    ASSERT(strstr(err.text, "/nonexistent/cert.pem") != NULL);
    opts.tls_cert_file = opts.tls_key_file = NULL;
    opts.address = "127.0.0.1:0";
    opts.client_ca_file = "/ca.pem";
    ASSERT_EQ(hlf_chaincode_server_new(&srv, &opts, &test_cc, &err),
              HLF_EINVAL);
    opts.client_ca_file = NULL;
    /* A port in use is an error (no SO_REUSEPORT sharing). */
    {
        hlf_chaincode_server_t *first = NULL;
        char addr[64];
        ASSERT_EQ(hlf_chaincode_server_new(&first, &opts, &test_cc, &err),
                  HLF_OK);
        snprintf(addr, sizeof(addr), "127.0.0.1:%d",
                 hlf_chaincode_server_port(first));
        opts.address = addr;
        ASSERT_EQ(hlf_chaincode_server_new(&srv, &opts, &test_cc, &err),
                  HLF_EIO);
        ASSERT_NULL(srv);
        hlf_chaincode_server_free(first);
    }
}

TEST_IMPL(options_from_env)
{
    hlf_chaincode_server_opts_t o;
    hlf_error_t err;

    unsetenv("CHAINCODE_ID");
    unsetenv("CHAINCODE_TLS_DISABLED");
    unsetenv("CHAINCODE_CLIENT_CA_CERT");
    unsetenv("HLF_SHIM_WORKERS");
    setenv("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:9999", 1);
    ASSERT_EQ(hlf_chaincode_server_opts_from_env(&o, &err), HLF_ECONFIG);
    ASSERT_STR_EQ(err.text, "CHAINCODE_ID is not set (the package id)");
    setenv("CHAINCODE_ID", CC_ID, 1);
    ASSERT_EQ(hlf_chaincode_server_opts_from_env(&o, &err), HLF_OK);
    ASSERT_STR_EQ(o.chaincode_id, CC_ID);
    ASSERT_STR_EQ(o.address, "127.0.0.1:9999");
    ASSERT_NULL(o.tls_cert_file);
    ASSERT_EQ(o.workers, 0);
    setenv("CHAINCODE_TLS_DISABLED", "false", 1);
    ASSERT_EQ(hlf_chaincode_server_opts_from_env(&o, &err), HLF_ECONFIG);
    ASSERT(strstr(err.text, "CHAINCODE_TLS_CERT") != NULL);
    setenv("CHAINCODE_TLS_CERT", "/c.pem", 1);
    setenv("CHAINCODE_TLS_KEY", "/k.pem", 1);
    setenv("CHAINCODE_CLIENT_CA_CERT", "/ca.pem", 1);
    setenv("HLF_SHIM_WORKERS", "3", 1);
    ASSERT_EQ(hlf_chaincode_server_opts_from_env(&o, &err), HLF_OK);
    ASSERT_STR_EQ(o.tls_cert_file, "/c.pem");
    ASSERT_STR_EQ(o.tls_key_file, "/k.pem");
    ASSERT_STR_EQ(o.client_ca_file, "/ca.pem");
    ASSERT_EQ(o.workers, 3);
    setenv("HLF_SHIM_WORKERS", "many", 1);
    ASSERT_EQ(hlf_chaincode_server_opts_from_env(&o, &err), HLF_ECONFIG);
    unsetenv("HLF_SHIM_WORKERS");
    setenv("CHAINCODE_TLS_DISABLED", "true", 1);
    ASSERT_EQ(hlf_chaincode_server_opts_from_env(&o, &err), HLF_ECONFIG);
    ASSERT(strstr(err.text, "CHAINCODE_CLIENT_CA_CERT") != NULL);
    setenv("CHAINCODE_TLS_DISABLED", "maybe", 1);
    ASSERT_EQ(hlf_chaincode_server_opts_from_env(&o, &err), HLF_ECONFIG);
}

/* ------------------------------------------------------------------------ */
/* Transaction context from a real signed proposal                          */
/* ------------------------------------------------------------------------ */

static char *bio_string(BIO *bio);

/* A self-signed certificate like a Fabric CA enrollment cert (PEM, new). */
static char *
make_cert_pem(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509_EXTENSION *ext;
    ASN1_OBJECT *oid;
    ASN1_OCTET_STRING *val;
    static const char json[] = "{\"attrs\":{\"hf.role\":\"agent\"}}";
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;

    ASSERT_NOT_NULL(key);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
#define ADD(f, v)                                                            \
    X509_NAME_add_entry_by_txt(name, f, MBSTRING_UTF8,                       \
                               (const unsigned char *)(v), -1, -1, 0)
    ADD("C", "US");
    ADD("ST", "California");
    ADD("L", "San Francisco");
    ADD("O", "brokerage.reso.example");
    ADD("OU", "client");
    ADD("OU", "brokerage");
    ADD("CN", "User1@brokerage.reso.example");
#undef ADD
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    X509_NAME_free(name);
    X509_set_pubkey(x, key);
    oid = OBJ_txt2obj("1.2.3.4.5.6.7.8.1", 1);
    val = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(val, (const unsigned char *)json,
                          (int)strlen(json));
    ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, val);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(val);
    ASN1_OBJECT_free(oid);
    ASSERT(X509_sign(x, key, EVP_sha256()) > 0);
    PEM_write_bio_X509(bio, x);
    pem = bio_string(bio);
    X509_free(x);
    EVP_PKEY_free(key);
    return pem;
}

/* Pack a protobuf-c message into a new buffer. */
static ProtobufCBinaryData
packed(const ProtobufCMessage *msg)
{
    ProtobufCBinaryData b;

    b.len = protobuf_c_message_get_packed_size(msg);
    b.data = malloc(b.len ? b.len : 1);
    protobuf_c_message_pack(msg, b.data);
    return b;
}

TEST_IMPL(context_from_signed_proposal)
{
    static const uint8_t nonce[4] = {1, 2, 3, 4};
    Msp__SerializedIdentity sid = MSP__SERIALIZED_IDENTITY__INIT;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    Common__Header hdr = COMMON__HEADER__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Protos__ChaincodeProposalPayload pp =
        PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__INIT;
    Protos__ChaincodeProposalPayload__TransientMapEntry te =
        PROTOS__CHAINCODE_PROPOSAL_PAYLOAD__TRANSIENT_MAP_ENTRY__INIT;
    Protos__ChaincodeProposalPayload__TransientMapEntry *tep = &te;
    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    Protos__ChaincodeInput in = PROTOS__CHAINCODE_INPUT__INIT;
    Protos__ChaincodeMessage m = PROTOS__CHAINCODE_MESSAGE__INIT;
    ProtobufCBinaryData arg = {3, (uint8_t *)"ctx"};
    ProtobufCBinaryData creator, chb, shb, hb, ppb, pb, inb;
    uint8_t *bind_in, bind[32];
    char hex[65], *pem, *want;
    const char *subject = "CN=User1@brokerage.reso.example,"
                          "OU=client+OU=brokerage,"
                          "O=brokerage.reso.example,L=San Francisco,"
                          "ST=California,C=US";
    bg_server_t bg;
    fake_peer_t fp;
    Protos__ChaincodeMessage *done;
    Protos__Response *r;

    setenv("CORE_PEER_LOCALMSPID", "BrokerageMSP", 1);
    pem = make_cert_pem();
    sid.mspid = "BrokerageMSP";
    sid.id_bytes.data = (uint8_t *)pem;
    sid.id_bytes.len = strlen(pem);
    creator = packed(&sid.base);
    ts.seconds = 1700000000;
    ts.nanos = 123;
    ch.type = 3;
    ch.timestamp = &ts;
    ch.channel_id = "ch1";
    ch.tx_id = "ctx1";
    chb = packed(&ch.base);
    sh.creator = creator;
    sh.nonce.data = (uint8_t *)nonce;
    sh.nonce.len = sizeof(nonce);
    shb = packed(&sh.base);
    hdr.channel_header = chb;
    hdr.signature_header = shb;
    hb = packed(&hdr.base);
    te.key = "secret";
    te.value.data = (uint8_t *)"s3cr3t";
    te.value.len = 6;
    pp.n_transientmap = 1;
    pp.transientmap = &tep;
    ppb = packed(&pp.base);
    prop.header = hb;
    prop.payload = ppb;
    pb = packed(&prop.base);
    sp.proposal_bytes = pb;
    in.n_args = 1;
    in.args = &arg;
    inb = packed(&in.base);
    m.type = T(TRANSACTION);
    m.txid = "ctx1";
    m.channel_id = "ch1";
    m.payload = inb;
    m.proposal = &sp;

    /* Expected binding: SHA-256(nonce || creator || epoch 0 as 8 LE). */
    bind_in = calloc(1, sizeof(nonce) + creator.len + 8);
    memcpy(bind_in, nonce, sizeof(nonce));
    memcpy(bind_in + sizeof(nonce), creator.data, creator.len);
    hlf_sha256(bind_in, sizeof(nonce) + creator.len + 8, bind);
    hlf_hex_encode(bind, 32, hex);
    want = malloc(2048);
    snprintf(want, 2048,
             "ctx1|ch1|1700000000.123|BrokerageMSP|%s|"
             "User1@brokerage.reso.example|agent|BrokerageMSP|s3cr3t|%s|"
             "x509::%s::%s|1|client|brokerage",
             subject, hex, subject, subject);

    setup(&bg, &fp);
    fp_send(&fp, &m);
    done = fp_expect(&fp, T(COMPLETED));
    r = protos__response__unpack(NULL, done->payload.len,
                                 done->payload.data);
    if (r->status != 200 || r->payload.len != strlen(want) ||
        memcmp(r->payload.data, want, r->payload.len) != 0)
        TEST__FAIL("context: got %d '%.*s' (%s)\nwanted '%s'",
                   (int)r->status, (int)r->payload.len,
                   (const char *)r->payload.data, r->message, want);
    protos__response__free_unpacked(r, NULL);
    protos__chaincode_message__free_unpacked(done, NULL);

    /* A proposal whose channel header type is not 3 or 1 is refused. */
    ch.type = 5;
    free(chb.data);
    chb = packed(&ch.base);
    hdr.channel_header = chb;
    free(hb.data);
    hb = packed(&hdr.base);
    prop.header = hb;
    free(pb.data);
    pb = packed(&prop.base);
    sp.proposal_bytes = pb;
    m.txid = "ctx2";
    fp_send(&fp, &m);
    done = fp_expect(&fp, T(ERROR));
    ASSERT_STR_EQ(done->txid, "ctx2");
    ASSERT_MEM_EQ(done->payload.data, "invalid channel header type 5",
                  done->payload.len);
    protos__chaincode_message__free_unpacked(done, NULL);
    teardown(&bg, &fp);

    free(want);
    free(bind_in);
    free(creator.data);
    free(chb.data);
    free(shb.data);
    free(hb.data);
    free(ppb.data);
    free(pb.data);
    free(inb.data);
    free(pem);
}


/* ------------------------------------------------------------------------ */
/* TLS and mutual TLS                                                       */
/* ------------------------------------------------------------------------ */

/* A certificate for key, signed by ca/ca_key (self-signed when NULL). */
static X509 *
new_cert(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *ca_key,
         int is_ca)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), is_ca ? 1 : 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);
    X509_NAME_free(name);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, ca ? ca : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                              is_ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!is_ca) {
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
                                  "IP:127.0.0.1,DNS:localhost");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    ASSERT(X509_sign(x, ca_key ? ca_key : key, EVP_sha256()) > 0);
    return x;
}

/* The contents of a memory BIO as a new string; frees the BIO. */
static char *
bio_string(BIO *bio)
{
    char *data, *out;
    long n = BIO_get_mem_data(bio, &data);

    out = strndup(data, (size_t)n);
    BIO_free(bio);
    ASSERT_NOT_NULL(out);
    return out;
}

static char *
cert_pem(X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());

    PEM_write_bio_X509(bio, x);
    return bio_string(bio);
}

static char *
key_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());

    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    return bio_string(bio);
}

static void
write_file(const char *dir, const char *name, const char *text, char *path,
           size_t pathlen)
{
    FILE *fp;

    snprintf(path, pathlen, "%s/%s", dir, name);
    fp = fopen(path, "w");
    ASSERT_NOT_NULL(fp);
    ASSERT_EQ(fwrite(text, 1, strlen(text), fp), strlen(text));
    fclose(fp);
}

/* One TLS fixture: CA, server cert (SAN 127.0.0.1) and a client cert. */
typedef struct {
    char dir[64];
    char ca_file[128], cert_file[128], key_file[128];
    char *ca, *client_cert, *client_key;
} tls_fixture_t;

static void
tls_fixture(tls_fixture_t *f)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256");
    EVP_PKEY *cli_key = EVP_EC_gen("P-256");
    X509 *ca = new_cert(ca_key, "tlsca.test", NULL, NULL, 1);
    X509 *srv = new_cert(srv_key, "ccserver.test", ca, ca_key, 0);
    X509 *cli = new_cert(cli_key, "peer0.test", ca, ca_key, 0);
    char *pem;

    snprintf(f->dir, sizeof(f->dir), "/tmp/shim-tls-XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(f->dir));
    f->ca = cert_pem(ca);
    write_file(f->dir, "ca.crt", f->ca, f->ca_file, sizeof(f->ca_file));
    pem = cert_pem(srv);
    write_file(f->dir, "server.crt", pem, f->cert_file, sizeof(f->cert_file));
    free(pem);
    pem = key_pem(srv_key);
    write_file(f->dir, "server.key", pem, f->key_file, sizeof(f->key_file));
    free(pem);
    f->client_cert = cert_pem(cli);
    f->client_key = key_pem(cli_key);
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
}

static void
tls_fixture_free(tls_fixture_t *f)
{
    unlink(f->ca_file);
    unlink(f->cert_file);
    unlink(f->key_file);
    rmdir(f->dir);
    free(f->ca);
    free(f->client_cert);
    free(f->client_key);
}

static int
tls_server(bg_server_t *bg, const tls_fixture_t *f, int mutual)
{
    hlf_chaincode_server_opts_t opts;
    hlf_error_t err;

    memset(&opts, 0, sizeof(opts));
    opts.address = "127.0.0.1:0";
    opts.chaincode_id = CC_ID;
    opts.tls_cert_file = f->cert_file;
    opts.tls_key_file = f->key_file;
    opts.client_ca_file = mutual ? f->ca_file : NULL;
    memset(bg, 0, sizeof(*bg));
    ASSERT_EQ(hlf_chaincode_server_new(&bg->srv, &opts, &test_cc, &err),
              HLF_OK);
    bg->rc = -999;
    ASSERT_EQ(pthread_create(&bg->thread, NULL, bg_main, bg), 0);
    return hlf_chaincode_server_port(bg->srv);
}

static grpc_channel_credentials *
tls_creds(const tls_fixture_t *f, int with_client_cert)
{
    grpc_ssl_pem_key_cert_pair pair = {f->client_key, f->client_cert};

    return grpc_ssl_credentials_create(f->ca, with_client_cert ? &pair : NULL,
                                       NULL, NULL);
}

/* Handshake and one transaction over an established TLS stream. */
static void
tls_round_trip(fake_peer_t *fp)
{
    fp_handshake(fp, CC_ID);
    tx(fp, "tls1", "fail", NULL, NULL, NULL, NULL);
    expect_failed(fp, "tls1", 403, "not allowed");
}

TEST_IMPL(tls_and_mutual_tls)
{
    tls_fixture_t f;
    bg_server_t bg;
    fake_peer_t fp;
    int port;

    tls_fixture(&f);
    /* Server-side TLS: a peer that trusts the CA gets through. */
    port = tls_server(&bg, &f, 0);
    fp_connect_creds(&fp, port, tls_creds(&f, 0));
    tls_round_trip(&fp);
    fp_close(&fp);
    /* A plaintext client cannot talk to a TLS server. */
    fp_connect_creds(&fp, port, grpc_insecure_credentials_create());
    ASSERT_EQ(fp_status(&fp), GRPC_STATUS_UNAVAILABLE);
    fp_wait_end_and_free(&fp, 5000);
    bg_stop(&bg);

    /* Mutual TLS: a client certificate is required and verified. */
    port = tls_server(&bg, &f, 1);
    fp_connect_creds(&fp, port, tls_creds(&f, 0));
    ASSERT_EQ(fp_status(&fp), GRPC_STATUS_UNAVAILABLE);
    fp_wait_end_and_free(&fp, 5000);
    fp_connect_creds(&fp, port, tls_creds(&f, 1));
    tls_round_trip(&fp);
    fp_close(&fp);
    bg_stop(&bg);
    tls_fixture_free(&f);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(handshake_and_state_order),
    TEST_ENTRY(get_put_del_exact_bytes),
    TEST_ENTRY(range_paging_and_early_close),
    TEST_ENTRY(pagination_metadata),
    TEST_ENTRY(history_items),
    TEST_ENTRY(composite_keys_on_the_wire),
    TEST_ENTRY(event_on_completed),
    TEST_ENTRY(interleaved_transactions),
    TEST_ENTRY(keepalive_echo),
    TEST_ENTRY(peer_error_reaches_chaincode),
    TEST_ENTRY(malformed_input_answered_with_error),
    TEST_ENTRY(invalid_keys_rejected_locally),
    TEST_ENTRY(init_and_duplicate_tx),
    TEST_ENTRY(two_peers_concurrently),
    TEST_ENTRY(stop_while_idle_and_mid_transaction),
    TEST_ENTRY(global_stop_function),
    TEST_ENTRY(server_option_errors),
    TEST_ENTRY(options_from_env),
    TEST_ENTRY(context_from_signed_proposal),
    TEST_ENTRY(tls_and_mutual_tls),
};

TEST_MAIN(tests)
