/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim protocol on one peer stream, independent of the transport.
 *
 * A connection speaks first (REGISTER with the package id), then walks the
 * handshake created -> established (REGISTERED) -> ready (READY). In ready,
 * INIT/TRANSACTION messages become transactions that the transport runs on
 * worker threads, and RESPONSE/ERROR messages are handed to the one
 * transaction request waiting for them, found by (channel_id, txid).
 * KEEPALIVE is echoed in every state. Everything else is answered with
 * ERROR and logged; the stream stays up, because one odd message should not
 * cost every transaction in flight on it.
 *
 * Locking: conn->mu guards the handshake state, the transaction list, the
 * closed flag and every call into ops->send, which keeps sends on a stream
 * in order. A transaction waits for its answer on its own condition
 * variable under conn->mu, so requests of one transaction are strictly one
 * at a time (the peer silently drops a second concurrent request for the
 * same transaction) while different transactions proceed independently.
 */
#include <stdlib.h>
#include <string.h>

#include <hlf/err.h>
#include <hlf/log.h>

#include "peer/proposal_response.pb-c.h"
#include "shim_internal.h"

#define LOG_TEXT_MAX 300

static const char *
type_name(int type)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &protos__chaincode_message__type__descriptor, type);

    return v != NULL ? v->name : "UNKNOWN";
}

/* Pack m and hand it to the transport. Caller holds conn->mu. */
static void
send_locked(hlf__conn_t *conn, const Protos__ChaincodeMessage *m)
{
    size_t n;
    uint8_t *buf;

    if (conn->closed)
        return;
    n = protos__chaincode_message__get_packed_size(m);
    buf = malloc(n ? n : 1);
    if (buf == NULL) {
        hlf_log(HLF_LOG_ERROR, HLF__LOG_COMPONENT,
                "[%s] out of memory sending %s", conn->peer,
                type_name(m->type));
        return;
    }
    protos__chaincode_message__pack(m, buf);
    conn->ops->send(conn, buf, n);
}

/* Send ERROR with text for (channel, txid). Caller holds conn->mu. */
static void
send_error_locked(hlf__conn_t *conn, const char *channel, const char *txid,
                  const char *text)
{
    Protos__ChaincodeMessage m = PROTOS__CHAINCODE_MESSAGE__INIT;

    m.type = PROTOS__CHAINCODE_MESSAGE__TYPE__ERROR;
    m.payload.data = (uint8_t *)text;
    m.payload.len = strlen(text);
    m.txid = (char *)txid;
    m.channel_id = (char *)channel;
    send_locked(conn, &m);
}

int
hlf__conn_init(hlf__conn_t *conn, const hlf__conn_ops_t *ops,
               void *transport, const hlf_chaincode_t *cc,
               const char *chaincode_id, const char *msp_id,
               const char *peer)
{
    memset(conn, 0, sizeof(*conn));
    if (pthread_mutex_init(&conn->mu, NULL) != 0)
        return HLF_ENOMEM;
    conn->state = HLF__CONN_CREATED;
    conn->refs = 1;
    conn->cc = cc;
    conn->chaincode_id = chaincode_id;
    conn->msp_id = msp_id;
    conn->ops = ops;
    conn->transport = transport;
    snprintf(conn->peer, sizeof(conn->peer), "%s", peer ? peer : "peer");

    return HLF_OK;
}

void
hlf__conn_register(hlf__conn_t *conn)
{
    Protos__ChaincodeID id = PROTOS__CHAINCODE_ID__INIT;
    Protos__ChaincodeMessage m = PROTOS__CHAINCODE_MESSAGE__INIT;
    uint8_t *payload;
    size_t n;

    id.name = (char *)conn->chaincode_id;
    n = protos__chaincode_id__get_packed_size(&id);
    payload = malloc(n ? n : 1);
    if (payload == NULL) {
        hlf_log(HLF_LOG_ERROR, HLF__LOG_COMPONENT,
                "[%s] out of memory building REGISTER", conn->peer);
        return;
    }
    protos__chaincode_id__pack(&id, payload);
    m.type = PROTOS__CHAINCODE_MESSAGE__TYPE__REGISTER;
    m.payload.data = payload;
    m.payload.len = n;
    pthread_mutex_lock(&conn->mu);
    send_locked(conn, &m);
    pthread_mutex_unlock(&conn->mu);
    free(payload);
    hlf_log(HLF_LOG_DEBUG, HLF__LOG_COMPONENT, "[%s] sent REGISTER %s",
            conn->peer, conn->chaincode_id);
}

static hlf_stub_t *
find_tx_locked(hlf__conn_t *conn, const char *channel, const char *txid)
{
    hlf_stub_t *s;

    for (s = conn->txs; s != NULL; s = s->next)
        if (strcmp(s->msg->txid, txid) == 0 &&
            strcmp(s->msg->channel_id, channel) == 0)
            return s;
    return NULL;
}

/* INIT or TRANSACTION in the ready state: build a stub and spawn it. */
static void
start_tx(hlf__conn_t *conn, Protos__ChaincodeMessage *msg)
{
    hlf_stub_t *stub = NULL;
    hlf_error_t err;
    int rc;

    hlf_error_clear(&err);
    if (msg->txid[0] == '\0') {
        hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT,
                "[%s] %s without txid refused", conn->peer,
                type_name(msg->type));
        pthread_mutex_lock(&conn->mu);
        send_error_locked(conn, msg->channel_id, msg->txid,
                          "transaction without txid");
        pthread_mutex_unlock(&conn->mu);
        protos__chaincode_message__free_unpacked(msg, NULL);
        return;
    }
    rc = hlf__stub_new(&stub, conn, msg, &err);
    if (rc != HLF_OK) {
        hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT, "[%s] [%s:%.8s] %s: %s",
                conn->peer, msg->channel_id, msg->txid, type_name(msg->type),
                err.text);
        pthread_mutex_lock(&conn->mu);
        send_error_locked(conn, msg->channel_id, msg->txid, err.text);
        pthread_mutex_unlock(&conn->mu);
        protos__chaincode_message__free_unpacked(msg, NULL);
        return;
    }
    pthread_mutex_lock(&conn->mu);
    if (find_tx_locked(conn, msg->channel_id, msg->txid) != NULL) {
        hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT,
                "[%s] [%s:%.8s] duplicate transaction refused", conn->peer,
                msg->channel_id, msg->txid);
        send_error_locked(conn, msg->channel_id, msg->txid,
                          "duplicate transaction: already executing");
        pthread_mutex_unlock(&conn->mu);
        hlf__stub_free(stub);
        return;
    }
    stub->next = conn->txs;
    conn->txs = stub;
    conn->refs++;
    pthread_mutex_unlock(&conn->mu);
    conn->ops->spawn(conn, stub);
}

/* RESPONSE or ERROR: hand it to the waiting request. Takes msg. */
static void
route_reply(hlf__conn_t *conn, Protos__ChaincodeMessage *msg)
{
    hlf_stub_t *stub;

    pthread_mutex_lock(&conn->mu);
    stub = find_tx_locked(conn, msg->channel_id, msg->txid);
    if (stub != NULL && stub->waiting && stub->reply == NULL) {
        stub->reply = msg;
        pthread_cond_signal(&stub->cond);
        pthread_mutex_unlock(&conn->mu);
        return;
    }
    hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT,
            "[%s] [%s:%.8s] %s for no pending request", conn->peer,
            msg->channel_id, msg->txid, type_name(msg->type));
    /* Answering an ERROR with an ERROR could ping-pong; only a stray
     * RESPONSE gets one. */
    if (msg->type == PROTOS__CHAINCODE_MESSAGE__TYPE__RESPONSE)
        send_error_locked(conn, msg->channel_id, msg->txid,
                          "no request pending for this transaction");
    pthread_mutex_unlock(&conn->mu);
    protos__chaincode_message__free_unpacked(msg, NULL);
}

/* Answer a message that is not valid in the current state. Takes msg. */
static void
unexpected(hlf__conn_t *conn, Protos__ChaincodeMessage *msg)
{
    static const char *const states[] = {"created", "established", "ready"};
    char text[160];

    snprintf(text, sizeof(text), "unexpected message %s (%d) in state %s",
             type_name(msg->type), (int)msg->type, states[conn->state]);
    hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT, "[%s] [%s:%.8s] %s",
            conn->peer, msg->channel_id, msg->txid, text);
    /* Never answer an ERROR with an ERROR (no ping-pong). */
    if (msg->type != PROTOS__CHAINCODE_MESSAGE__TYPE__ERROR) {
        pthread_mutex_lock(&conn->mu);
        send_error_locked(conn, msg->channel_id, msg->txid, text);
        pthread_mutex_unlock(&conn->mu);
    }
    protos__chaincode_message__free_unpacked(msg, NULL);
}

void
hlf__conn_dispatch(hlf__conn_t *conn, const uint8_t *bytes, size_t len)
{
    Protos__ChaincodeMessage *msg;
    uint8_t *copy;
    int type;

    msg = protos__chaincode_message__unpack(NULL, len, bytes);
    if (msg == NULL) {
        hlf_log(HLF_LOG_WARN, HLF__LOG_COMPONENT,
                "[%s] undecodable ChaincodeMessage (%zu bytes)", conn->peer,
                len);
        pthread_mutex_lock(&conn->mu);
        send_error_locked(conn, "", "", "malformed ChaincodeMessage");
        pthread_mutex_unlock(&conn->mu);
        return;
    }
    type = (int)msg->type;
    if (type == PROTOS__CHAINCODE_MESSAGE__TYPE__KEEPALIVE) {
        /* Echo the bytes exactly as received. */
        copy = malloc(len ? len : 1);
        pthread_mutex_lock(&conn->mu);
        if (copy != NULL) {
            if (len > 0)
                memcpy(copy, bytes, len);
            if (conn->closed)
                free(copy);
            else
                conn->ops->send(conn, copy, len);
        }
        pthread_mutex_unlock(&conn->mu);
        protos__chaincode_message__free_unpacked(msg, NULL);
        return;
    }

    switch (conn->state) {
    case HLF__CONN_CREATED:
        if (type == PROTOS__CHAINCODE_MESSAGE__TYPE__REGISTERED) {
            conn->state = HLF__CONN_ESTABLISHED;
            protos__chaincode_message__free_unpacked(msg, NULL);
            return;
        }
        if (type == PROTOS__CHAINCODE_MESSAGE__TYPE__ERROR) {
            /* Typically "peer will not accept external chaincode
             * connection": the package id does not match. */
            hlf_log(HLF_LOG_ERROR, HLF__LOG_COMPONENT,
                    "[%s] peer refused REGISTER %s: %.*s", conn->peer,
                    conn->chaincode_id,
                    (int)(msg->payload.len < LOG_TEXT_MAX ? msg->payload.len
                                                          : LOG_TEXT_MAX),
                    (const char *)msg->payload.data);
            protos__chaincode_message__free_unpacked(msg, NULL);
            return;
        }
        break;
    case HLF__CONN_ESTABLISHED:
        if (type == PROTOS__CHAINCODE_MESSAGE__TYPE__READY) {
            /* Fabric 3.1+ puts ChaincodeAdditionalParams in the payload;
             * this shim uses only 2.5 message types, so it is ignored. */
            conn->state = HLF__CONN_READY;
            hlf_log(HLF_LOG_INFO, HLF__LOG_COMPONENT,
                    "[%s] stream ready for %s", conn->peer,
                    conn->chaincode_id);
            protos__chaincode_message__free_unpacked(msg, NULL);
            return;
        }
        break;
    case HLF__CONN_READY:
        if (type == PROTOS__CHAINCODE_MESSAGE__TYPE__TRANSACTION ||
            type == PROTOS__CHAINCODE_MESSAGE__TYPE__INIT) {
            start_tx(conn, msg);
            return;
        }
        if (type == PROTOS__CHAINCODE_MESSAGE__TYPE__RESPONSE ||
            type == PROTOS__CHAINCODE_MESSAGE__TYPE__ERROR) {
            route_reply(conn, msg);
            return;
        }
        break;
    }
    unexpected(conn, msg);
}

void
hlf__conn_close(hlf__conn_t *conn)
{
    hlf_stub_t *s;

    pthread_mutex_lock(&conn->mu);
    conn->closed = 1;
    for (s = conn->txs; s != NULL; s = s->next)
        pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&conn->mu);
}

void
hlf__conn_unref(hlf__conn_t *conn)
{
    int refs;

    pthread_mutex_lock(&conn->mu);
    refs = --conn->refs;
    pthread_mutex_unlock(&conn->mu);
    if (refs > 0)
        return;
    pthread_mutex_destroy(&conn->mu);
    conn->ops->destroy(conn);
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

/* Build the COMPLETED (or, for a failed init, ERROR) message and send it. */
static void
finish_tx_locked(hlf_stub_t *stub, const hlf_response_t *r)
{
    hlf__conn_t *conn = stub->conn;
    Protos__ChaincodeMessage m = PROTOS__CHAINCODE_MESSAGE__INIT;
    Protos__ChaincodeEvent ev = PROTOS__CHAINCODE_EVENT__INIT;
    Protos__Response resp = PROTOS__RESPONSE__INIT;
    uint8_t *payload = NULL;
    size_t n;

    m.txid = stub->msg->txid;
    m.channel_id = stub->msg->channel_id;
    if (stub->event_name != NULL) {
        ev.event_name = stub->event_name;
        ev.payload.data = stub->event_payload;
        ev.payload.len = stub->event_len;
        m.chaincode_event = &ev;
    }
    if (stub->is_init && r->status >= HLF_STATUS_ERROR) {
        /* Same rule as the Go shim: a failed init is an ERROR. */
        m.type = PROTOS__CHAINCODE_MESSAGE__TYPE__ERROR;
        m.payload.data = (uint8_t *)(r->message ? r->message : "");
        m.payload.len = r->message ? strlen(r->message) : 0;
        send_locked(conn, &m);
        return;
    }
    resp.status = r->status;
    resp.message = (char *)(r->message ? r->message : "");
    resp.payload.data = (uint8_t *)r->payload;
    resp.payload.len = r->payload ? r->payload_len : 0;
    n = protos__response__get_packed_size(&resp);
    payload = malloc(n ? n : 1);
    if (payload == NULL) {
        m.type = PROTOS__CHAINCODE_MESSAGE__TYPE__ERROR;
        m.payload.data = (uint8_t *)"chaincode out of memory";
        m.payload.len = strlen("chaincode out of memory");
        m.chaincode_event = NULL;
        send_locked(conn, &m);
        return;
    }
    protos__response__pack(&resp, payload);
    m.type = PROTOS__CHAINCODE_MESSAGE__TYPE__COMPLETED;
    m.payload.data = payload;
    m.payload.len = n;
    send_locked(conn, &m);
    free(payload);
}

void
hlf__tx_run(hlf_stub_t *stub)
{
    hlf__conn_t *conn = stub->conn;
    const hlf_chaincode_t *cc = conn->cc;
    hlf_response_t r;
    hlf_stub_t **pp;
    int closed;

    pthread_mutex_lock(&conn->mu);
    closed = conn->closed;
    pthread_mutex_unlock(&conn->mu);
    if (closed)
        /* Nobody can receive the result; do not run the chaincode. */
        r = hlf_error_response(HLF_STATUS_ERROR, "stream closed");
    else if (stub->is_init)
        r = cc->init != NULL ? cc->init(stub, cc->ud) : hlf_success(NULL, 0);
    else if (cc->invoke != NULL)
        r = cc->invoke(stub, cc->ud);
    else
        r = hlf_error_response(HLF_STATUS_ERROR, "chaincode has no invoke");

    hlf_log(HLF_LOG_DEBUG, HLF__LOG_COMPONENT,
            "[%s] [%s:%.8s] %s done, status %d", conn->peer,
            stub->msg->channel_id, stub->msg->txid,
            stub->is_init ? "INIT" : "TRANSACTION", (int)r.status);
    pthread_mutex_lock(&conn->mu);
    finish_tx_locked(stub, &r);
    for (pp = &conn->txs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == stub) {
            *pp = stub->next;
            break;
        }
    }
    pthread_mutex_unlock(&conn->mu);
    hlf__stub_free(stub);
    hlf__conn_unref(conn);
}

int
hlf__tx_request(hlf_stub_t *stub, Protos__ChaincodeMessage__Type type,
                const uint8_t *payload, size_t len,
                Protos__ChaincodeMessage **reply)
{
    hlf__conn_t *conn = stub->conn;
    Protos__ChaincodeMessage m = PROTOS__CHAINCODE_MESSAGE__INIT;
    Protos__ChaincodeMessage *r;
    uint8_t *buf;
    size_t n;
    int rc;

    *reply = NULL;
    m.type = type;
    m.payload.data = (uint8_t *)payload;
    m.payload.len = len;
    m.txid = stub->msg->txid;
    m.channel_id = stub->msg->channel_id;
    n = protos__chaincode_message__get_packed_size(&m);
    buf = malloc(n ? n : 1);
    if (buf == NULL)
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    protos__chaincode_message__pack(&m, buf);

    pthread_mutex_lock(&conn->mu);
    if (conn->closed) {
        pthread_mutex_unlock(&conn->mu);
        free(buf);
        return hlf__stub_fail(stub, HLF_ECLOSED,
                              "%s: stream to the peer is closed",
                              type_name(type));
    }
    stub->waiting = 1;
    stub->reply = NULL;
    conn->ops->send(conn, buf, n);
    while (stub->reply == NULL && !conn->closed)
        pthread_cond_wait(&stub->cond, &conn->mu);
    r = stub->reply;
    stub->reply = NULL;
    stub->waiting = 0;
    pthread_mutex_unlock(&conn->mu);

    if (r == NULL)
        return hlf__stub_fail(stub, HLF_ECLOSED,
                              "%s: stream to the peer closed while waiting",
                              type_name(type));
    if (r->type == PROTOS__CHAINCODE_MESSAGE__TYPE__RESPONSE) {
        *reply = r;
        return HLF_OK;
    }
    rc = hlf__stub_fail(stub, HLF_EIO, "%.*s",
                        (int)(r->payload.len < 400 ? r->payload.len : 400),
                        r->payload.data ? (const char *)r->payload.data
                                        : "");
    protos__chaincode_message__free_unpacked(r, NULL);
    return rc;
}
