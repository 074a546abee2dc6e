/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chaincode event streams: the signed ChaincodeEventsRequest, decoding of
 * each ChaincodeEventsResponse into an hlf_event_block_t, and the optional
 * push thread that feeds a callback.
 */
#include "hlf/events.h"
#include "gateway/gateway.pb-c.h"
#include "gateway_int.h"
#include "hlf/mem.h"
#include "orderer/ab.pb-c.h"
#include "pb.h"
#include "rpc.h"

#include <string.h>

struct hlf_events_s {
    hlf__stream_t *stream;
    hlf_events_cb cb;
    void *ud;
    pthread_t thread;
    int pushing; /* hlf_events_start succeeded: the thread owns next() */
    int pulled;  /* hlf_events_next was used: push mode is refused */
};

/* A block as handed out: the public part first, so a pointer to it is a
 * pointer to the whole. */
typedef struct {
    hlf_event_block_t pub;
    Gateway__ChaincodeEventsResponse *msg;
    hlf_chaincode_event_t *events;
} block_t;

int
hlf_network_chaincode_events(hlf_network_t *net, const char *chaincode,
                             const hlf_events_opts_t *opts,
                             hlf_events_t **out, hlf_error_t *err)
{
    Gateway__ChaincodeEventsRequest req =
        GATEWAY__CHAINCODE_EVENTS_REQUEST__INIT;
    Orderer__SeekPosition pos = ORDERER__SEEK_POSITION__INIT;
    Orderer__SeekSpecified spec = ORDERER__SEEK_SPECIFIED__INIT;
    Orderer__SeekNextCommit next = ORDERER__SEEK_NEXT_COMMIT__INIT;
    hlf_events_t *ev;
    hlf_gateway_t *gw;
    uint8_t *signed_req = NULL;
    size_t len = 0;
    int rc;

    hlf__op_begin(err, NULL);
    if (out != NULL)
        *out = NULL;
    if (net == NULL || chaincode == NULL || chaincode[0] == '\0' ||
        out == NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "chaincode events: network, chaincode and "
                             "output are required");
    gw = net->gw;
    if (opts != NULL && opts->has_start_block) {
        spec.number = opts->start_block;
        pos.type_case = ORDERER__SEEK_POSITION__TYPE_SPECIFIED;
        pos.specified = &spec;
    } else {
        pos.type_case = ORDERER__SEEK_POSITION__TYPE_NEXT_COMMIT;
        pos.next_commit = &next;
    }
    req.channel_id = net->name;
    req.chaincode_id = (char *)chaincode;
    req.identity.data =
        (uint8_t *)(uintptr_t)hlf_identity_creator(gw->id, &req.identity.len);
    req.start_position = &pos;
    if (opts != NULL && opts->after_tx_id != NULL)
        req.after_transaction_id = (char *)opts->after_tx_id;
    rc = hlf__sign_request(gw->id, &req.base, &signed_req, &len, err);
    if (rc != HLF_OK)
        return rc;
    ev = hlf_calloc(1, sizeof(*ev));
    if (ev == NULL) {
        hlf_free(signed_req);
        return hlf_error_set(err, HLF_ENOMEM,
                             "chaincode events: out of memory");
    }
    rc = hlf__rpc_stream_open(gw->conn, HLF__GW_CHAINCODE_EVENTS, signed_req,
                              len, &ev->stream, err);
    hlf_free(signed_req);
    if (rc != HLF_OK) {
        hlf_free(ev);
        return rc;
    }
    *out = ev;
    return HLF_OK;
}

/* Decode one ChaincodeEventsResponse into a new block. */
static int
decode_block(const uint8_t *data, size_t len, hlf_event_block_t **out,
             hlf_error_t *err)
{
    Gateway__ChaincodeEventsResponse *msg;
    const Protos__ChaincodeEvent *e;
    block_t *b;
    size_t i;

    msg = HLF__PB_UNPACK(gateway__chaincode_events_response, len, data);
    if (msg == NULL)
        return hlf_error_set(err, HLF_EPROTO,
                             "chaincode events: malformed "
                             "ChaincodeEventsResponse");
    b = hlf_calloc(1, sizeof(*b));
    if (b == NULL ||
        (msg->n_events &&
         (b->events = hlf_calloc(msg->n_events, sizeof(*b->events))) ==
             NULL)) {
        hlf_free(b);
        HLF__PB_FREE(gateway__chaincode_events_response, msg);
        return hlf_error_set(err, HLF_ENOMEM,
                             "chaincode events: out of memory");
    }
    for (i = 0; i < msg->n_events; i++) {
        e = msg->events[i];
        b->events[i].chaincode_id = e->chaincode_id;
        b->events[i].tx_id = e->tx_id;
        b->events[i].event_name = e->event_name;
        b->events[i].payload = e->payload.data;
        b->events[i].payload_len = e->payload.len;
    }
    b->msg = msg;
    b->pub.block_number = msg->block_number;
    b->pub.nevents = msg->n_events;
    b->pub.events = b->events;
    *out = &b->pub;
    return HLF_OK;
}

/* Read and decode the next block; results as hlf_events_next. */
static int
next_block(hlf_events_t *ev, hlf_event_block_t **blk, hlf_error_t *err)
{
    uint8_t *msg;
    size_t len;
    int rc;

    rc = hlf__rpc_stream_next(ev->stream, &msg, &len, err);
    if (rc != 1)
        return rc;
    rc = decode_block(msg, len, blk, err);
    hlf_free(msg);
    return rc == HLF_OK ? 1 : rc;
}

int
hlf_events_next(hlf_events_t *ev, hlf_event_block_t **blk, hlf_error_t *err)
{
    if (ev == NULL || blk == NULL)
        return hlf_error_set(err, HLF_EINVAL, "events: NULL argument");
    *blk = NULL;
    if (ev->pushing)
        return hlf_error_set(err, HLF_EINVAL,
                             "events: stream is in push mode");
    ev->pulled = 1;
    return next_block(ev, blk, err);
}

void
hlf_event_block_free(hlf_event_block_t *blk)
{
    block_t *b = (block_t *)blk;

    if (b == NULL)
        return;
    HLF__PB_FREE(gateway__chaincode_events_response, b->msg);
    hlf_free(b->events);
    hlf_free(b);
}

static void *
push_thread(void *arg)
{
    hlf_events_t *ev = arg;
    hlf_event_block_t *blk;
    hlf_error_t end;
    int rc;

    hlf_error_clear(&end);
    for (;;) {
        rc = next_block(ev, &blk, &end);
        if (rc != 1)
            break;
        rc = ev->cb(blk, NULL, ev->ud);
        hlf_event_block_free(blk);
        if (rc != 0) {
            /* The consumer has had enough: end the call, report "OK". */
            hlf__rpc_stream_cancel(ev->stream);
            rc = 0;
            break;
        }
    }
    if (rc == 0)
        hlf_error_clear(&end);
    ev->cb(NULL, &end, ev->ud);
    return NULL;
}

int
hlf_events_start(hlf_events_t *ev, hlf_events_cb cb, void *ud,
                 hlf_error_t *err)
{
    if (ev == NULL || cb == NULL)
        return hlf_error_set(err, HLF_EINVAL, "events: NULL argument");
    if (ev->pushing || ev->pulled)
        return hlf_error_set(err, HLF_EINVAL,
                             "events: stream already being read");
    ev->cb = cb;
    ev->ud = ud;
    if (pthread_create(&ev->thread, NULL, push_thread, ev) != 0)
        return hlf_error_set(err, HLF_ENOMEM,
                             "events: cannot start a thread");
    ev->pushing = 1;
    return HLF_OK;
}

void
hlf_events_cancel(hlf_events_t *ev)
{
    if (ev != NULL)
        hlf__rpc_stream_cancel(ev->stream);
}

void
hlf_events_close(hlf_events_t *ev)
{
    if (ev == NULL)
        return;
    hlf__rpc_stream_cancel(ev->stream);
    if (ev->pushing)
        pthread_join(ev->thread, NULL);
    hlf__rpc_stream_close(ev->stream);
    hlf_free(ev);
}
