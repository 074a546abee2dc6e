/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reso contract over the real shim and its gRPC server, driven by the
 * shim's in-process fake peer (tests/unit/shim/fake_peer.c): the exact
 * ChaincodeMessages a peer would see for RecordEvent (GET_STATE, two
 * PUT_STATEs with 0x00-separated composite keys, COMPLETED with the
 * chaincode event), GetEvent, GetSubjectHistory (one partial-key range)
 * and error answers. Complements contract.c, which uses a stub double.
 */
#include "evl_contract.h"
#include "fake_peer.h"
#include "task.h"

#include "common/common.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "msp/identities.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/proposal.pb-c.h"

#include <pthread.h>

#define T(x) PROTOS__CHAINCODE_MESSAGE__TYPE__##x
#define CC_ID "reso_1.0:test"
#define CH "reso-events"
#define SUBJECT "US-42049-49888-1213666-R-N"
#define TX1 "045ef594d81d2f2134d61151ed71260d8f79e657c7cb6ed1d893688532017409"
#define UUID1 "6991d580-c6c3-8ceb-90a5-a40c89fb0224"
#define EVENT_IN                                                             \
    "{\"EventSubject\":\"" SUBJECT "\","                                     \
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\","  \
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","    \
    "\"Recorder\":\"ae1643\",\"Application\":\"87478-a43\"}"
#define STORED                                                               \
    "{\"TransactionId\":\"" UUID1 "\",\"EventSubject\":\"" SUBJECT "\","     \
    "\"System\":\"Property Listing Service\",\"SubjectType\":\"Property\","  \
    "\"Entity\":\"Broker\",\"Event\":\"Listing\",\"State\":\"Recorded\","    \
    "\"Recorder\":\"ae1643\",\"Timestamp\":\"Sun, 03 Jun 2018 13:04:05 "      \
    "GMT\",\"Version\":\"1.3\",\"Application\":\"87478-a43\"}"

/*
 * The submitter's identity in every proposal: a self-signed P-256
 * certificate (made once with `openssl req -x509`, valid until 2126),
 * since the shim reads the creator's MSP only from a parsable X.509.
 */
#define MSP "BrokerageMSP"
#define CREATOR_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIICIzCCAcmgAwIBAgIUH4EhHWWmFrK26f2QPvFCVt400YMwCgYIKoZIzj0EAwIw\n" \
    "ZjELMAkGA1UEBhMCVVMxHzAdBgNVBAoMFmJyb2tlcmFnZS5yZXNvLmV4YW1wbGUx\n" \
    "DzANBgNVBAsMBmNsaWVudDElMCMGA1UEAwwcVXNlcjFAYnJva2VyYWdlLnJlc28u\n" \
    "ZXhhbXBsZTAgFw0yNjExMjExODA4MjRaGA8yMTI2MTAyODE4MDgyNFowZjELMAkG\n" \
    "A1UEBhMCVVMxHzAdBgNVBAoMFmJyb2tlcmFnZS5yZXNvLmV4YW1wbGUxDzANBgNV\n" \
    "BAsMBmNsaWVudDElMCMGA1UEAwwcVXNlcjFAYnJva2VyYWdlLnJlc28uZXhhbXBs\n" \
    "ZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNphd2g4NX8L9H840pE/o6cjTJ2C\n" \
    "CJF98uNfrK2U8WTr/tNQaV3/LzxBR68J2MUKEk0ltJ7/lapLb5nieviK66ajUzBR\n" \
    "MB0GA1UdDgQWBBRSUA3lf/3XDsriD3X3aJOkI2z20TAfBgNVHSMEGDAWgBRSUA3l\n" \
    "f/3XDsriD3X3aJOkI2z20TAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gA\n" \
    "MEUCIQCrq8rzpoC6QYbSdNCtiSwi/5+wxxSobUIavPnwArJNZAIgMZ741zflorul\n" \
    "xgl4RS86PIcDgw7g9NNorHIgGQqNGgg=\n" \
    "-----END CERTIFICATE-----\n"
/* The registration of "ae1643" to the submitter's org, any client. */
#define REGISTRATION                                                         \
    "{\"Recorder\":\"ae1643\",\"Org\":\"" MSP "\",\"Registered\":"      \
    "\"Sun, 03 Jun 2018 13:04:05 GMT\",\"AllowedClients\":[],"              \
    "\"Status\":\"Active\",\"Updated\":\"Sun, 03 Jun 2018 13:04:05 GMT\"}"

static const char ev_key[] = "\0EV\0" UUID1 "\0";
/* The catalog's active-profile entry, read first by RecordEvent. */
static const char cat_key[] = "\0cat\0active\0";
/* The recorder registry key of the event's Recorder "ae1643". */
static const char rec_key[] = "\0REC\0ae1643\0";
/* The Recorder binding setting, read only for unregistered Recorders. */
static const char binding_key[] = "\0cat\0recorder-binding\0";
#define BINDING_OPEN                                                         \
    "{\"Mode\":\"open\",\"Proposal\":\"p\","                                  \
    "\"Since\":\"Sun, 03 Jun 2018 13:04:05 GMT\"}"
static const char subj_key[] = "\0subj\0" SUBJECT "\0"
                               "00000000001528031045000000123\0" UUID1 "\0";
static const char subj_start[] = "\0subj\0" SUBJECT "\0";

/* ---------------- the server in a thread ---------------- */

static hlf_chaincode_server_t *srv;
static pthread_t thread;
static int serve_rc = -999;
static const hlf_chaincode_t reso_cc = {NULL, evl_invoke, NULL};

static void *
serve_main(void *arg)
{
    hlf_error_t err;

    (void)arg;
    serve_rc = hlf_chaincode_server_serve(srv, &err);
    return NULL;
}

static void
setup(fake_peer_t *fp)
{
    hlf_chaincode_server_opts_t opts;
    hlf_error_t err;

    memset(&opts, 0, sizeof(opts));
    opts.address = "127.0.0.1:0";
    opts.chaincode_id = CC_ID;
    opts.workers = 2;
    ASSERT_EQ(hlf_chaincode_server_new(&srv, &opts, &reso_cc, &err), HLF_OK);
    ASSERT_EQ(pthread_create(&thread, NULL, serve_main, NULL), 0);
    fp_connect(fp, hlf_chaincode_server_port(srv));
    fp_handshake(fp, CC_ID);
}

static void
teardown(fake_peer_t *fp)
{
    ASSERT_EQ(fp->n_outstanding, 0);
    fp_close(fp);
    hlf_chaincode_server_shutdown(srv);
    ASSERT_EQ(pthread_join(thread, NULL), 0);
    ASSERT_EQ(serve_rc, HLF_OK);
    hlf_chaincode_server_free(srv);
}

/* ---------------- protobuf bits the generated code cannot do ---------- */

/*
 * Bytes of length-delimited field `field` of msg (keys carry 0x00, which
 * protobuf-c's char * strings would cut), or NULL when absent.
 */
static const uint8_t *
pb_field(const ProtobufCBinaryData *msg, uint32_t field, size_t *len)
{
    const uint8_t *p = msg->data, *end = msg->data + msg->len;
    uint64_t tag, n;
    int shift;

    while (p < end) {
        for (tag = 0, shift = 0; p < end && shift < 64; shift += 7) {
            tag |= (uint64_t)(*p & 0x7F) << shift;
            if (!(*p++ & 0x80))
                break;
        }
        ASSERT_EQ(tag & 7, 2); /* every field we read is length-delimited */
        for (n = 0, shift = 0; p < end && shift < 64; shift += 7) {
            n |= (uint64_t)(*p & 0x7F) << shift;
            if (!(*p++ & 0x80))
                break;
        }
        ASSERT(n <= (uint64_t)(end - p));
        if ((tag >> 3) == field) {
            *len = (size_t)n;
            return p;
        }
        p += n;
    }
    *len = 0;
    return NULL;
}

static void
assert_field(const ProtobufCBinaryData *msg, uint32_t field, const void *want,
             size_t want_len)
{
    size_t len;
    const uint8_t *got = pb_field(msg, field, &len);

    ASSERT_NOT_NULL(got);
    ASSERT_EQ(len, want_len);
    ASSERT_MEM_EQ(got, want, len);
}

/* Append a length-delimited field (lengths < 128 * 128 here). */
static size_t
pb_put(uint8_t *buf, size_t at, uint32_t field, const void *data, size_t n)
{
    buf[at++] = (uint8_t)(field << 3 | 2);
    if (n >= 128) {
        buf[at++] = (uint8_t)(n | 0x80);
        buf[at++] = (uint8_t)(n >> 7);
    } else {
        buf[at++] = (uint8_t)n;
    }
    memcpy(buf + at, data, n);
    return at + n;
}

/* ---------------- peer-side helpers ---------------- */

/* A TRANSACTION with a proposal whose channel header has ts. */
static void
send_tx(fake_peer_t *fp, const char *txid, const char *fn, const char *arg,
        int with_proposal)
{
    Protos__ChaincodeMessage m = PROTOS__CHAINCODE_MESSAGE__INIT;
    Protos__ChaincodeInput in = PROTOS__CHAINCODE_INPUT__INIT;
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;
    Protos__Proposal prop = PROTOS__PROPOSAL__INIT;
    Common__Header hdr = COMMON__HEADER__INIT;
    Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
    Common__SignatureHeader sh = COMMON__SIGNATURE_HEADER__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Msp__SerializedIdentity sid = MSP__SERIALIZED_IDENTITY__INIT;
    ProtobufCBinaryData a[2];
    uint8_t inb[1024], chb[256], shb[1024], sidb[1024], hdrb[2048];
    uint8_t propb[4096];

    a[0].data = (uint8_t *)fn;
    a[0].len = strlen(fn);
    a[1].data = (uint8_t *)arg;
    a[1].len = arg != NULL ? strlen(arg) : 0;
    in.n_args = arg != NULL ? 2 : 1;
    in.args = a;
    m.type = T(TRANSACTION);
    m.txid = (char *)txid;
    m.channel_id = CH;
    m.payload.data = inb;
    m.payload.len = protos__chaincode_input__pack(&in, inb);
    if (with_proposal) {
        ts.seconds = 1528031045;
        ts.nanos = 123;
        ch.type = COMMON__HEADER_TYPE__ENDORSER_TRANSACTION;
        ch.timestamp = &ts;
        ch.channel_id = CH;
        ch.tx_id = (char *)txid;
        hdr.channel_header.data = chb;
        hdr.channel_header.len = common__channel_header__pack(&ch, chb);
        sh.nonce.data = (uint8_t *)"nonce";
        sh.nonce.len = 5;
        /* The creator: the Recorder binding needs the submitter's MSP. */
        sid.mspid = MSP;
        sid.id_bytes.data = (uint8_t *)CREATOR_PEM;
        sid.id_bytes.len = strlen(CREATOR_PEM);
        sh.creator.data = sidb;
        sh.creator.len = msp__serialized_identity__pack(&sid, sidb);
        hdr.signature_header.data = shb;
        hdr.signature_header.len = common__signature_header__pack(&sh, shb);
        prop.header.data = hdrb;
        prop.header.len = common__header__pack(&hdr, hdrb);
        sp.proposal_bytes.data = propb;
        sp.proposal_bytes.len = protos__proposal__pack(&prop, propb);
        m.proposal = &sp;
    }
    fp_send(fp, &m);
}

/* COMPLETED for txid: the Response (new) and the event name/payload. */
static Protos__Response *
expect_completed(fake_peer_t *fp, const char *txid, char *event_name,
                 char *event_payload)
{
    Protos__ChaincodeMessage *m = fp_expect(fp, T(COMPLETED));
    Protos__Response *r;

    ASSERT_STR_EQ(m->txid, txid);
    r = protos__response__unpack(NULL, m->payload.len, m->payload.data);
    ASSERT_NOT_NULL(r);
    event_name[0] = event_payload[0] = '\0';
    if (m->chaincode_event != NULL) {
        snprintf(event_name, 64, "%s", m->chaincode_event->event_name);
        snprintf(event_payload, 1024, "%.*s",
                 (int)m->chaincode_event->payload.len,
                 (const char *)m->chaincode_event->payload.data);
    }
    protos__chaincode_message__free_unpacked(m, NULL);
    return r;
}

static void
expect_answer(fake_peer_t *fp, const char *txid, int status,
              const char *payload, const char *message)
{
    char name[64], evp[1024];
    Protos__Response *r = expect_completed(fp, txid, name, evp);

    ASSERT_EQ(r->status, status);
    ASSERT_EQ(r->payload.len, strlen(payload));
    if (r->payload.len > 0)
        ASSERT_MEM_EQ(r->payload.data, payload, r->payload.len);
    ASSERT_STR_EQ(r->message, message);
    ASSERT_STR_EQ(name, "");
    protos__response__free_unpacked(r, NULL);
}

/* Expect GET_STATE of key[0..len) and answer value (NULL: absent). */
static void
expect_get(fake_peer_t *fp, const char *key, size_t len, const char *value)
{
    Protos__ChaincodeMessage *m = fp_expect(fp, T(GET_STATE));

    assert_field(&m->payload, 1, key, len);
    fp_respond(fp, m, value, value != NULL ? strlen(value) : 0);
    protos__chaincode_message__free_unpacked(m, NULL);
}

/*
 * RecordEvent reads the catalog's active-profile entry first; answer it
 * as absent (an unseeded ledger: the default profile 1.3 applies).
 */
static void
expect_catalog_read(fake_peer_t *fp)
{
    expect_get(fp, cat_key, sizeof(cat_key) - 1, NULL);
}

/* ---------------- tests ---------------- */

TEST_IMPL(record_event_on_the_wire)
{
    Protos__ChaincodeMessage *m;
    Protos__Response *r;
    char name[64], evp[1024];
    fake_peer_t fp;

    setup(&fp);
    send_tx(&fp, TX1, "RecordEvent", EVENT_IN, 1);
    expect_catalog_read(&fp);
    /* The recorder binding looks the Recorder up: registered to the
     * submitter's org, so the binding setting is not read. */
    expect_get(&fp, rec_key, sizeof(rec_key) - 1, REGISTRATION);
    /* The duplicate guard reads the event key next. */
    expect_get(&fp, ev_key, sizeof(ev_key) - 1, NULL);
    m = fp_expect(&fp, T(PUT_STATE));
    assert_field(&m->payload, 1, ev_key, sizeof(ev_key) - 1);
    assert_field(&m->payload, 2, STORED, strlen(STORED));
    fp_respond(&fp, m, NULL, 0);
    protos__chaincode_message__free_unpacked(m, NULL);
    m = fp_expect(&fp, T(PUT_STATE));
    assert_field(&m->payload, 1, subj_key, sizeof(subj_key) - 1);
    assert_field(&m->payload, 2, STORED, strlen(STORED));
    fp_respond(&fp, m, NULL, 0);
    protos__chaincode_message__free_unpacked(m, NULL);
    r = expect_completed(&fp, TX1, name, evp);
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(r->payload.len, strlen(STORED));
    ASSERT_MEM_EQ(r->payload.data, STORED, r->payload.len);
    ASSERT_STR_EQ(name, "RecordEvent");
    ASSERT_STR_EQ(evp, STORED);
    protos__response__free_unpacked(r, NULL);
    /* An existing event makes the same txid a DUPLICATE_EVENT. */
    send_tx(&fp, TX1, "RecordEvent", EVENT_IN, 1);
    expect_catalog_read(&fp);
    expect_get(&fp, rec_key, sizeof(rec_key) - 1, REGISTRATION);
    expect_get(&fp, ev_key, sizeof(ev_key) - 1, STORED);
    r = expect_completed(&fp, TX1, name, evp);
    ASSERT_EQ(r->status, 400);
    ASSERT(strstr(r->message, "\"code\":\"DUPLICATE_EVENT\"") != NULL);
    ASSERT_STR_EQ(name, "");
    protos__response__free_unpacked(r, NULL);
    /* Unregistered: the binding setting is read; absent means strict. */
    send_tx(&fp, "tx-unreg", "RecordEvent", EVENT_IN, 1);
    expect_catalog_read(&fp);
    expect_get(&fp, rec_key, sizeof(rec_key) - 1, NULL);
    expect_get(&fp, binding_key, sizeof(binding_key) - 1, NULL);
    r = expect_completed(&fp, "tx-unreg", name, evp);
    ASSERT_EQ(r->status, 403);
    ASSERT(strstr(r->message, "\"code\":\"RECORDER_NOT_AUTHORIZED\"") !=
           NULL);
    ASSERT_STR_EQ(name, "");
    protos__response__free_unpacked(r, NULL);
    teardown(&fp);
}

TEST_IMPL(queries_on_the_wire)
{
    static const char end_suffix[] = "\xF4\x8F\xBF\xBF";
    Protos__QueryResponse qr = PROTOS__QUERY_RESPONSE__INIT;
    Protos__QueryResultBytes rb[2], *rbp[2];
    uint8_t kv[2][1024], qbuf[4096];
    char end[sizeof(subj_start) - 1 + 4];
    Protos__ChaincodeMessage *m;
    fake_peer_t fp;
    size_t i, n;

    setup(&fp);
    send_tx(&fp, "g1", "GetEvent", UUID1, 0);
    expect_get(&fp, ev_key, sizeof(ev_key) - 1, STORED);
    expect_answer(&fp, "g1", 200, STORED, "");

    send_tx(&fp, "h1", "GetSubjectHistory", SUBJECT, 0);
    m = fp_expect(&fp, T(GET_STATE_BY_RANGE));
    assert_field(&m->payload, 1, subj_start, sizeof(subj_start) - 1);
    memcpy(end, subj_start, sizeof(subj_start) - 1);
    memcpy(end + sizeof(subj_start) - 1, end_suffix, 4);
    assert_field(&m->payload, 2, end, sizeof(end));
    /* Two queryresult.KV {namespace=1, key=2, value=3}. */
    for (i = 0; i < 2; i++) {
        n = pb_put(kv[i], 0, 1, "reso", 4);
        n = pb_put(kv[i], n, 2, subj_key, sizeof(subj_key) - 1);
        n = pb_put(kv[i], n, 3, i == 0 ? "{\"a\":1}" : "{\"b\":2}", 7);
        protos__query_result_bytes__init(&rb[i]);
        rb[i].resultbytes.data = kv[i];
        rb[i].resultbytes.len = n;
        rbp[i] = &rb[i];
    }
    qr.n_results = 2;
    qr.results = rbp;
    qr.id = "it-1";
    n = protos__query_response__pack(&qr, qbuf);
    fp_respond(&fp, m, qbuf, n);
    protos__chaincode_message__free_unpacked(m, NULL);
    expect_answer(&fp, "h1", 200, "[{\"a\":1},{\"b\":2}]", "");
    teardown(&fp);
}

TEST_IMPL(errors_on_the_wire)
{
    fake_peer_t fp;
    char name[64], evp[1024];
    Protos__Response *r;

    setup(&fp);
    send_tx(&fp, "e1", "Nope", NULL, 0);
    /* The list of functions grows with the contract: check its shape. */
    r = expect_completed(&fp, "e1", name, evp);
    ASSERT_EQ(r->status, 400);
    ASSERT_EQ(r->payload.len, 0);
    ASSERT(strncmp(r->message,
                   "{\"error\":{\"code\":\"UNKNOWN_FUNCTION\",\"message\":"
                   "\"unknown function 'Nope'; the functions are RecordEvent, "
                   "GetEvent, GetSubjectHistory, ",
                   132) == 0);
    ASSERT(strstr(r->message, " GetCatalog, ") != NULL);
    ASSERT(strstr(r->message, "(names are case-sensitive)\"}}") != NULL);
    ASSERT_STR_EQ(name, "");
    protos__response__free_unpacked(r, NULL);
    send_tx(&fp, "e2", "RecordEvent", "{\"Version\":\"1.3\"}", 1);
    expect_catalog_read(&fp);
    r = expect_completed(&fp, "e2", name, evp);
    ASSERT_EQ(r->status, 400);
    ASSERT(strstr(r->message, "\"code\":\"SYSTEM_FIELD_SUPPLIED\","
                              "\"field\":\"Version\"") != NULL);
    protos__response__free_unpacked(r, NULL);
    /*
     * A transaction without a proposal has no timestamp: 500. It has no
     * creator either, so it passes the binding only as an unregistered
     * Recorder on a channel whose binding is open.
     */
    send_tx(&fp, "e3", "RecordEvent", EVENT_IN, 0);
    expect_catalog_read(&fp);
    expect_get(&fp, rec_key, sizeof(rec_key) - 1, NULL);
    expect_get(&fp, binding_key, sizeof(binding_key) - 1, BINDING_OPEN);
    r = expect_completed(&fp, "e3", name, evp);
    ASSERT_EQ(r->status, 500);
    ASSERT(strstr(r->message, "\"code\":\"INTERNAL\"") != NULL);
    ASSERT(strstr(r->message, "no timestamp") != NULL);
    ASSERT_STR_EQ(name, "");
    protos__response__free_unpacked(r, NULL);
    teardown(&fp);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(record_event_on_the_wire),
    TEST_ENTRY(queries_on_the_wire),
    TEST_ENTRY(errors_on_the_wire),
};

TEST_MAIN(tests)
