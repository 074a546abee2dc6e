/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stub: one transaction as the chaincode sees it.
 *
 * hlf__stub_new decodes the INIT/TRANSACTION message once (arguments, and
 * from the signed proposal the channel header, signature header and
 * transient map) so the getters are plain field reads. The state calls
 * encode their request, run it through hlf__tx_request (one outstanding
 * request per transaction) and copy the answer into the transaction arena.
 * Requests that carry keys are encoded with pbwire.c because keys may hold
 * 0x00 bytes (see keys.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hlf/crypto.h>
#include <hlf/err.h>

#include "peer/proposal_response.pb-c.h"
#include "shim_internal.h"

#define T(name) PROTOS__CHAINCODE_MESSAGE__TYPE__##name
#define VALIDATION_PARAMETER "VALIDATION_PARAMETER"

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

int
hlf__stub_fail(hlf_stub_t *stub, int code, const char *fmt, ...)
{
    char text[sizeof(stub->last_err.text)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return hlf_error_set(&stub->last_err, code, "%s", text);
}

/* Decode the signed proposal down to the headers and transient map. */
static int
decode_proposal(hlf_stub_t *stub, const Protos__SignedProposal *sp,
                hlf_error_t *err)
{
    Protos__Proposal *prop;

    prop = protos__proposal__unpack(NULL, sp->proposal_bytes.len,
                                    sp->proposal_bytes.data);
    if (prop == NULL)
        return hlf_error_set(err, HLF_EPROTO, "failed to decode Proposal");
    stub->proposal = prop;
    stub->header = common__header__unpack(NULL, prop->header.len,
                                          prop->header.data);
    if (stub->header == NULL)
        return hlf_error_set(err, HLF_EPROTO,
                             "failed to decode proposal Header");
    stub->chdr = common__channel_header__unpack(
        NULL, stub->header->channel_header.len,
        stub->header->channel_header.data);
    if (stub->chdr == NULL)
        return hlf_error_set(err, HLF_EPROTO,
                             "failed to decode ChannelHeader");
    /* The Go shim accepts only these two header types. */
    if (stub->chdr->type != COMMON__HEADER_TYPE__ENDORSER_TRANSACTION &&
        stub->chdr->type != COMMON__HEADER_TYPE__CONFIG)
        return hlf_error_set(err, HLF_EPROTO,
                             "invalid channel header type %d",
                             (int)stub->chdr->type);
    stub->shdr = common__signature_header__unpack(
        NULL, stub->header->signature_header.len,
        stub->header->signature_header.data);
    if (stub->shdr == NULL)
        return hlf_error_set(err, HLF_EPROTO,
                             "failed to decode SignatureHeader");
    stub->ccpp = protos__chaincode_proposal_payload__unpack(
        NULL, prop->payload.len, prop->payload.data);
    if (stub->ccpp == NULL)
        return hlf_error_set(err, HLF_EPROTO,
                             "failed to decode ChaincodeProposalPayload");
    return HLF_OK;
}

int
hlf__stub_new(hlf_stub_t **out, hlf__conn_t *conn,
              Protos__ChaincodeMessage *msg, hlf_error_t *err)
{
    hlf_stub_t *stub;
    size_t i;
    int rc;

    *out = NULL;
    stub = calloc(1, sizeof(*stub));
    if (stub == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    if (pthread_cond_init(&stub->cond, NULL) != 0) {
        free(stub);
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    }
    hlf__arena_init(&stub->arena);
    hlf_error_clear(&stub->last_err);
    stub->conn = conn;
    stub->is_init = msg->type == T(INIT);

    stub->input = protos__chaincode_input__unpack(NULL, msg->payload.len,
                                                  msg->payload.data);
    if (stub->input == NULL) {
        rc = hlf_error_set(err, HLF_EPROTO,
                           "failed to decode ChaincodeInput");
        goto fail;
    }
    stub->argc = stub->input->n_args;
    stub->argv = hlf__arena_alloc(&stub->arena,
                                  (stub->argc + 1) * sizeof(*stub->argv));
    stub->lens = hlf__arena_alloc(&stub->arena,
                                  (stub->argc + 1) * sizeof(*stub->lens));
    if (stub->argv == NULL || stub->lens == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < stub->argc; i++) {
        const ProtobufCBinaryData *a = &stub->input->args[i];
        /* Copy so every argument is NUL-terminated. */
        stub->argv[i] = (const uint8_t *)hlf__arena_strndup(
            &stub->arena, a->data, a->len);
        stub->lens[i] = a->len;
        if (stub->argv[i] == NULL) {
            rc = hlf_error_set(err, HLF_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (msg->proposal != NULL) {
        rc = decode_proposal(stub, msg->proposal, err);
        if (rc != HLF_OK)
            goto fail;
    }
    stub->msg = msg;
    *out = stub;
    return HLF_OK;

fail:
    hlf__stub_free(stub);
    return rc;
}

void
hlf__stub_free(hlf_stub_t *stub)
{
    ProtobufCMessage *owned[8];
    size_t i;

    if (stub == NULL)
        return;
    /* Every decoded message the stub owns (NULL when absent). */
    owned[0] = (ProtobufCMessage *)stub->reply;
    owned[1] = (ProtobufCMessage *)stub->msg;
    owned[2] = (ProtobufCMessage *)stub->input;
    owned[3] = (ProtobufCMessage *)stub->proposal;
    owned[4] = (ProtobufCMessage *)stub->header;
    owned[5] = (ProtobufCMessage *)stub->chdr;
    owned[6] = (ProtobufCMessage *)stub->shdr;
    owned[7] = (ProtobufCMessage *)stub->ccpp;
    hlf__iters_free_all(stub);
    for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
        if (owned[i] != NULL)
            protobuf_c_message_free_unpacked(owned[i], NULL);
    hlf__cid_free(stub->cid);
    free(stub->event_name);
    free(stub->event_payload);
    hlf__arena_dispose(&stub->arena);
    pthread_cond_destroy(&stub->cond);
    free(stub);
}

/* ------------------------------------------------------------------------ */
/* Responses, arena, errors                                                 */
/* ------------------------------------------------------------------------ */

hlf_response_t
hlf_success(const void *payload, size_t len)
{
    hlf_response_t r;

    r.status = HLF_STATUS_OK;
    r.message = NULL;
    r.payload = payload;
    r.payload_len = payload != NULL ? len : 0;
    return r;
}

hlf_response_t
hlf_error_response(int32_t status, const char *msg)
{
    hlf_response_t r;

    r.status = status;
    r.message = msg;
    r.payload = NULL;
    r.payload_len = 0;
    return r;
}

void *
hlf_stub_alloc(hlf_stub_t *stub, size_t n)
{
    return stub != NULL ? hlf__arena_alloc(&stub->arena, n) : NULL;
}

char *
hlf_stub_strdup(hlf_stub_t *stub, const char *s)
{
    if (stub == NULL || s == NULL)
        return NULL;
    return hlf__arena_strndup(&stub->arena, s, strlen(s));
}

void *
hlf_stub_memdup(hlf_stub_t *stub, const void *p, size_t n)
{
    if (stub == NULL || (p == NULL && n > 0))
        return NULL;
    return hlf__arena_memdup(&stub->arena, p, n);
}

char *
hlf_stub_printf(hlf_stub_t *stub, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *out;

    if (stub == NULL || fmt == NULL)
        return NULL;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    out = hlf__arena_alloc(&stub->arena, (size_t)n + 1);
    if (out == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

const hlf_error_t *
hlf_stub_last_error(const hlf_stub_t *stub)
{
    return stub != NULL ? &stub->last_err : NULL;
}

/* ------------------------------------------------------------------------ */
/* Arguments and context                                                    */
/* ------------------------------------------------------------------------ */

int
hlf_stub_get_args(hlf_stub_t *stub, const uint8_t *const **argv,
                  const size_t **lens, size_t *argc)
{
    if (stub == NULL || argv == NULL || lens == NULL || argc == NULL)
        return HLF_EINVAL;
    *argv = stub->argv;
    *lens = stub->lens;
    *argc = stub->argc;
    return HLF_OK;
}

size_t
hlf_stub_get_argc(hlf_stub_t *stub)
{
    return stub != NULL ? stub->argc : 0;
}

const char *
hlf_stub_get_function(hlf_stub_t *stub)
{
    if (stub == NULL || stub->argc == 0)
        return "";
    return (const char *)stub->argv[0];
}

const char *
hlf_stub_get_string_arg(hlf_stub_t *stub, size_t i)
{
    if (stub == NULL || i >= stub->argc)
        return NULL;
    return (const char *)stub->argv[i];
}

const char *
hlf_stub_get_tx_id(hlf_stub_t *stub)
{
    return stub != NULL ? stub->msg->txid : "";
}

const char *
hlf_stub_get_channel_id(hlf_stub_t *stub)
{
    return stub != NULL ? stub->msg->channel_id : "";
}

/* Common guard of the proposal-derived getters. */
static int
need_proposal(hlf_stub_t *stub)
{
    hlf_error_clear(&stub->last_err);
    if (stub->proposal == NULL)
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "transaction carries no signed proposal");
    return HLF_OK;
}

int
hlf_stub_get_tx_timestamp(hlf_stub_t *stub, int64_t *seconds,
                          int32_t *nanos)
{
    int rc;

    if (stub == NULL || seconds == NULL || nanos == NULL)
        return HLF_EINVAL;
    rc = need_proposal(stub);
    if (rc != HLF_OK)
        return rc;
    if (stub->chdr->timestamp == NULL) {
        *seconds = 0;
        *nanos = 0;
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "channel header has no timestamp");
    }
    *seconds = stub->chdr->timestamp->seconds;
    *nanos = stub->chdr->timestamp->nanos;
    return HLF_OK;
}

int
hlf_stub_get_creator(hlf_stub_t *stub, const uint8_t **bytes, size_t *len)
{
    int rc;

    if (stub == NULL || bytes == NULL || len == NULL)
        return HLF_EINVAL;
    rc = need_proposal(stub);
    if (rc != HLF_OK)
        return rc;
    *bytes = stub->shdr->creator.data;
    *len = stub->shdr->creator.len;
    return HLF_OK;
}

int
hlf_stub_get_signed_proposal(hlf_stub_t *stub, const uint8_t **bytes,
                             size_t *len)
{
    const Protos__SignedProposal *sp;
    size_t n;
    uint8_t *buf;
    int rc;

    if (stub == NULL || bytes == NULL || len == NULL)
        return HLF_EINVAL;
    rc = need_proposal(stub);
    if (rc != HLF_OK)
        return rc;
    /* Re-encoding the decoded SignedProposal gives back the received bytes:
     * both of its fields are opaque bytes, so nothing can be normalised. */
    sp = stub->msg->proposal;
    n = protos__signed_proposal__get_packed_size(sp);
    buf = hlf__arena_alloc(&stub->arena, n);
    if (buf == NULL)
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    protos__signed_proposal__pack(sp, buf);
    *bytes = buf;
    *len = n;
    return HLF_OK;
}

/*
 * Look key up in a decoded proto map (entries with key and bytes value;
 * protobuf-c generates one entry type per map, hence a macro).
 */
#define MAP_FIND(entries, n, k, val, len)                                    \
    do {                                                                     \
        size_t i_;                                                           \
        for (i_ = 0; i_ < (n); i_++) {                                       \
            if ((entries)[i_]->key != NULL &&                                \
                strcmp((entries)[i_]->key, (k)) == 0) {                      \
                *(val) = (entries)[i_]->value.len                            \
                             ? (entries)[i_]->value.data                     \
                             : NULL;                                         \
                *(len) = (entries)[i_]->value.len;                           \
                break;                                                       \
            }                                                                \
        }                                                                    \
    } while (0)

int
hlf_stub_get_transient(hlf_stub_t *stub, const char *key,
                       const uint8_t **val, size_t *len)
{
    if (stub == NULL || key == NULL || val == NULL || len == NULL)
        return HLF_EINVAL;
    hlf_error_clear(&stub->last_err);
    *val = NULL;
    *len = 0;
    if (stub->ccpp != NULL)
        MAP_FIND(stub->ccpp->transientmap, stub->ccpp->n_transientmap, key,
                 val, len);
    return HLF_OK;
}

int
hlf_stub_get_binding(hlf_stub_t *stub, const uint8_t **bytes, size_t *len)
{
    const ProtobufCBinaryData *nonce, *creator;
    uint64_t epoch;
    uint8_t *buf;
    size_t n, i;
    int rc;

    if (stub == NULL || bytes == NULL || len == NULL)
        return HLF_EINVAL;
    rc = need_proposal(stub);
    if (rc != HLF_OK)
        return rc;
    if (!stub->have_binding) {
        nonce = &stub->shdr->nonce;
        creator = &stub->shdr->creator;
        epoch = stub->chdr->epoch;
        n = nonce->len + creator->len + 8;
        buf = hlf__arena_alloc(&stub->arena, n);
        if (buf == NULL)
            return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
        if (nonce->len > 0)
            memcpy(buf, nonce->data, nonce->len);
        if (creator->len > 0)
            memcpy(buf + nonce->len, creator->data, creator->len);
        for (i = 0; i < 8; i++)
            buf[nonce->len + creator->len + i] = (uint8_t)(epoch >> (8 * i));
        hlf_sha256(buf, n, stub->binding);
        stub->have_binding = 1;
    }
    *bytes = stub->binding;
    *len = sizeof(stub->binding);
    return HLF_OK;
}

int
hlf_stub_get_decoration(hlf_stub_t *stub, const char *key,
                        const uint8_t **val, size_t *len)
{
    if (stub == NULL || key == NULL || val == NULL || len == NULL)
        return HLF_EINVAL;
    *val = NULL;
    *len = 0;
    MAP_FIND(stub->input->decorations, stub->input->n_decorations, key, val,
             len);
    return HLF_OK;
}

const char *
hlf_stub_get_msp_id(hlf_stub_t *stub)
{
    return stub != NULL ? stub->conn->msp_id : NULL;
}

/* ------------------------------------------------------------------------ */
/* World state                                                              */
/* ------------------------------------------------------------------------ */

/* Convert key to wire form or fail with a message naming `what`. */
static int
wire_key(hlf_stub_t *stub, const char *key, const char *what, char **wire,
         size_t *len)
{
    int rc;

    if (key == NULL)
        return hlf__stub_fail(stub, HLF_EINVAL, "%s is NULL", what);
    rc = hlf__key_to_wire_arena(&stub->arena, key, wire, len);
    if (rc == HLF_EINVAL)
        return hlf__stub_fail(stub, rc, "%s is not valid UTF-8", what);
    if (rc != HLF_OK)
        return hlf__stub_fail(stub, rc, "out of memory");
    return HLF_OK;
}

/*
 * Validate a key for put/del and convert it to wire form. Keys written must
 * be non-empty, and a leading U+0000 is allowed only as part of a
 * well-formed composite key (the simple-key namespace never starts with
 * U+0000, which keeps range queries and composite keys apart).
 */
static int
write_key_wire(hlf_stub_t *stub, const char *key, char **wk, size_t *wlen)
{
    hlf_error_clear(&stub->last_err);
    if (key == NULL || key[0] == '\0')
        return hlf__stub_fail(stub, HLF_EINVAL, "key must not be empty");
    if (hlf__key_is_composite(key) && !hlf__key_composite_wellformed(key))
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "key starts with U+0000 but is not a "
                              "composite key");
    return wire_key(stub, key, "key", wk, wlen);
}

/*
 * Send an encoded request and copy the RESPONSE payload into the arena
 * (*val NULL when empty).
 */
static int
value_request(hlf_stub_t *stub, Protos__ChaincodeMessage__Type type,
              hlf__pbw_t *w, const uint8_t **val, size_t *len)
{
    Protos__ChaincodeMessage *reply = NULL;
    int rc;

    *val = NULL;
    *len = 0;
    if (w->oom) {
        hlf__pbw_dispose(w);
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    }
    rc = hlf__tx_request(stub, type, w->buf, w->len, &reply);
    hlf__pbw_dispose(w);
    if (rc != HLF_OK)
        return rc;
    if (reply->payload.len > 0) {
        *val = hlf__arena_memdup(&stub->arena, reply->payload.data,
                                 reply->payload.len);
        if (*val == NULL) {
            protos__chaincode_message__free_unpacked(reply, NULL);
            return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
        }
        *len = reply->payload.len;
    }
    protos__chaincode_message__free_unpacked(reply, NULL);
    return HLF_OK;
}

/* Send an encoded request whose answer carries nothing of interest. */
static int
simple_request(hlf_stub_t *stub, Protos__ChaincodeMessage__Type type,
               hlf__pbw_t *w)
{
    const uint8_t *ignored;
    size_t n;

    return value_request(stub, type, w, &ignored, &n);
}

/* GetState{key=1, collection=2}-shaped reads (GET_STATE, hash). */
static int
read_key(hlf_stub_t *stub, Protos__ChaincodeMessage__Type type,
         const char *collection, const char *key, const uint8_t **val,
         size_t *len)
{
    hlf__pbw_t w = {0};
    char *wk;
    size_t wlen;
    int rc;

    if (stub == NULL || val == NULL || len == NULL)
        return HLF_EINVAL;
    hlf_error_clear(&stub->last_err);
    *val = NULL;
    *len = 0;
    rc = wire_key(stub, key, "key", &wk, &wlen);
    if (rc != HLF_OK)
        return rc;
    hlf__pbw_bytes_field(&w, 1, wk, wlen);
    hlf__pbw_bytes_field(&w, 2, collection, strlen(collection));
    return value_request(stub, type, &w, val, len);
}

static int
write_key(hlf_stub_t *stub, const char *collection, const char *key,
          const void *val, size_t len)
{
    hlf__pbw_t w = {0};
    char *wk;
    size_t wlen;
    int rc;

    if (stub == NULL || (val == NULL && len > 0))
        return HLF_EINVAL;
    rc = write_key_wire(stub, key, &wk, &wlen);
    if (rc != HLF_OK)
        return rc;
    hlf__pbw_bytes_field(&w, 1, wk, wlen);
    hlf__pbw_bytes_field(&w, 2, val, len);
    hlf__pbw_bytes_field(&w, 3, collection, strlen(collection));
    return simple_request(stub, T(PUT_STATE), &w);
}

static int
delete_key(hlf_stub_t *stub, const char *collection, const char *key)
{
    hlf__pbw_t w = {0};
    char *wk;
    size_t wlen;
    int rc;

    if (stub == NULL)
        return HLF_EINVAL;
    rc = write_key_wire(stub, key, &wk, &wlen);
    if (rc != HLF_OK)
        return rc;
    hlf__pbw_bytes_field(&w, 1, wk, wlen);
    hlf__pbw_bytes_field(&w, 2, collection, strlen(collection));
    return simple_request(stub, T(DEL_STATE), &w);
}

int
hlf_stub_get_state(hlf_stub_t *stub, const char *key, const uint8_t **val,
                   size_t *len)
{
    return read_key(stub, T(GET_STATE), "", key, val, len);
}

int
hlf_stub_put_state(hlf_stub_t *stub, const char *key, const void *val,
                   size_t len)
{
    return write_key(stub, "", key, val, len);
}

int
hlf_stub_del_state(hlf_stub_t *stub, const char *key)
{
    return delete_key(stub, "", key);
}

/* Private data calls need a collection name. */
static int
check_collection(hlf_stub_t *stub, const char *collection)
{
    if (stub == NULL)
        return HLF_EINVAL;
    hlf_error_clear(&stub->last_err);
    if (collection == NULL || collection[0] == '\0')
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "collection must not be empty");
    return HLF_OK;
}

int
hlf_stub_get_private_data(hlf_stub_t *stub, const char *collection,
                          const char *key, const uint8_t **val, size_t *len)
{
    int rc = check_collection(stub, collection);

    if (rc != HLF_OK)
        return rc;
    return read_key(stub, T(GET_STATE), collection, key, val, len);
}

int
hlf_stub_put_private_data(hlf_stub_t *stub, const char *collection,
                          const char *key, const void *val, size_t len)
{
    int rc = check_collection(stub, collection);

    if (rc != HLF_OK)
        return rc;
    return write_key(stub, collection, key, val, len);
}

int
hlf_stub_del_private_data(hlf_stub_t *stub, const char *collection,
                          const char *key)
{
    int rc = check_collection(stub, collection);

    if (rc != HLF_OK)
        return rc;
    return delete_key(stub, collection, key);
}

int
hlf_stub_get_private_data_hash(hlf_stub_t *stub, const char *collection,
                               const char *key, const uint8_t **hash,
                               size_t *len)
{
    int rc = check_collection(stub, collection);

    if (rc != HLF_OK)
        return rc;
    return read_key(stub, T(GET_PRIVATE_DATA_HASH), collection, key, hash,
                    len);
}

/* ------------------------------------------------------------------------ */
/* Key-level endorsement                                                    */
/* ------------------------------------------------------------------------ */

int
hlf_stub_set_state_validation_parameter(hlf_stub_t *stub, const char *key,
                                        const void *ep, size_t len)
{
    hlf__pbw_t w = {0}, md = {0};
    char *wk;
    size_t wlen;
    int rc;

    if (stub == NULL || (ep == NULL && len > 0))
        return HLF_EINVAL;
    rc = write_key_wire(stub, key, &wk, &wlen);
    if (rc != HLF_OK)
        return rc;
    /* PutStateMetadata{key=1, collection=3, metadata=4 StateMetadata{
     * metakey=1, value=2}}. */
    hlf__pbw_bytes_field(&md, 1, VALIDATION_PARAMETER,
                         strlen(VALIDATION_PARAMETER));
    hlf__pbw_bytes_field(&md, 2, ep, len);
    hlf__pbw_bytes_field(&w, 1, wk, wlen);
    hlf__pbw_bytes_field_always(&w, 4, md.buf, md.len);
    if (md.oom)
        w.oom = 1;
    hlf__pbw_dispose(&md);
    return simple_request(stub, T(PUT_STATE_METADATA), &w);
}

int
hlf_stub_get_state_validation_parameter(hlf_stub_t *stub, const char *key,
                                        const uint8_t **ep, size_t *len)
{
    Protos__StateMetadataResult *res;
    const uint8_t *raw;
    size_t rawlen, i;
    int rc;

    if (stub == NULL || ep == NULL || len == NULL)
        return HLF_EINVAL;
    rc = read_key(stub, T(GET_STATE_METADATA), "", key, &raw, &rawlen);
    *ep = NULL;
    *len = 0;
    if (rc != HLF_OK)
        return rc;
    res = protos__state_metadata_result__unpack(NULL, rawlen, raw);
    if (res == NULL)
        return hlf__stub_fail(stub, HLF_EPROTO,
                              "malformed StateMetadataResult");
    for (i = 0; i < res->n_entries; i++) {
        const Protos__StateMetadata *e = res->entries[i];
        if (strcmp(e->metakey, VALIDATION_PARAMETER) == 0 &&
            e->value.len > 0) {
            *ep = hlf__arena_memdup(&stub->arena, e->value.data,
                                    e->value.len);
            *len = e->value.len;
            if (*ep == NULL)
                rc = hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
            break;
        }
    }
    protos__state_metadata_result__free_unpacked(res, NULL);
    if (rc != HLF_OK)
        *len = 0;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * GetStateByRange{startKey=1, endKey=2, collection=3, metadata=4} with wire
 * keys; paginated adds QueryMetadata{pageSize=1, bookmark=2}.
 */
static int
range_query(hlf_stub_t *stub, const char *start, size_t slen,
            const char *end, size_t elen, int paginated, int32_t page_size,
            const char *bookmark, hlf_iter_t **it, hlf_query_meta_t *meta)
{
    hlf__pbw_t w = {0}, qm = {0};
    char *wb = NULL;
    size_t blen = 0;
    int rc;

    if (paginated) {
        if (page_size < 0)
            return hlf__stub_fail(stub, HLF_EINVAL,
                                  "page size must not be negative");
        if (bookmark != NULL && bookmark[0] != '\0') {
            rc = wire_key(stub, bookmark, "bookmark", &wb, &blen);
            if (rc != HLF_OK)
                return rc;
        }
        hlf__pbw_varint_field(&qm, 1, (uint32_t)page_size);
        hlf__pbw_bytes_field(&qm, 2, wb, blen);
    }
    hlf__pbw_bytes_field(&w, 1, start, slen);
    hlf__pbw_bytes_field(&w, 2, end, elen);
    if (paginated)
        hlf__pbw_bytes_field_always(&w, 4, qm.buf, qm.len);
    if (qm.oom || w.oom) {
        hlf__pbw_dispose(&qm);
        hlf__pbw_dispose(&w);
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    }
    rc = hlf__iter_start(stub, T(GET_STATE_BY_RANGE), w.buf, w.len, 0, it,
                         meta);
    hlf__pbw_dispose(&qm);
    hlf__pbw_dispose(&w);
    return rc;
}

static int
simple_range(hlf_stub_t *stub, const char *start, const char *end,
             int paginated, int32_t page_size, const char *bookmark,
             hlf_iter_t **it, hlf_query_meta_t *meta)
{
    char *ws, *we;
    size_t slen, elen;
    int rc;

    if (stub == NULL || it == NULL)
        return HLF_EINVAL;
    *it = NULL;
    hlf_error_clear(&stub->last_err);
    if (start == NULL || end == NULL)
        return hlf__stub_fail(stub, HLF_EINVAL, "range key is NULL");
    if (hlf__key_is_composite(start) || hlf__key_is_composite(end))
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "range keys must not be composite keys");
    /* An empty start would include the composite-key namespace. */
    if (start[0] == '\0')
        start = "\x01";
    rc = wire_key(stub, start, "start key", &ws, &slen);
    if (rc == HLF_OK)
        rc = wire_key(stub, end, "end key", &we, &elen);
    if (rc != HLF_OK)
        return rc;
    return range_query(stub, ws, slen, we, elen, paginated, page_size,
                       bookmark, it, meta);
}

int
hlf_stub_get_state_by_range(hlf_stub_t *stub, const char *start,
                            const char *end, hlf_iter_t **it)
{
    return simple_range(stub, start, end, 0, 0, NULL, it, NULL);
}

int
hlf_stub_get_state_by_range_with_pagination(hlf_stub_t *stub,
                                            const char *start,
                                            const char *end,
                                            int32_t page_size,
                                            const char *bookmark,
                                            hlf_iter_t **it,
                                            hlf_query_meta_t *meta)
{
    return simple_range(stub, start, end, 1, page_size, bookmark, it, meta);
}

static int
partial_composite(hlf_stub_t *stub, const char *type,
                  const char *const *attrs, size_t n, int paginated,
                  int32_t page_size, const char *bookmark, hlf_iter_t **it,
                  hlf_query_meta_t *meta)
{
    static const char max_rune[] = "\xF4\x8F\xBF\xBF";
    const char *prefix;
    char *ws, *we;
    size_t slen;
    int rc;

    if (stub == NULL || it == NULL)
        return HLF_EINVAL;
    *it = NULL;
    rc = hlf_stub_create_composite_key(stub, type, attrs, n, &prefix);
    if (rc != HLF_OK)
        return rc;
    rc = wire_key(stub, prefix, "key", &ws, &slen);
    if (rc != HLF_OK)
        return rc;
    /* End = start + U+10FFFF: just past every key with this prefix. */
    we = hlf__arena_alloc(&stub->arena, slen + sizeof(max_rune));
    if (we == NULL)
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    memcpy(we, ws, slen);
    memcpy(we + slen, max_rune, sizeof(max_rune));
    return range_query(stub, ws, slen, we, slen + sizeof(max_rune) - 1,
                       paginated, page_size, bookmark, it, meta);
}

int
hlf_stub_get_state_by_partial_composite_key(hlf_stub_t *stub,
                                            const char *type,
                                            const char *const *attrs,
                                            size_t n, hlf_iter_t **it)
{
    return partial_composite(stub, type, attrs, n, 0, 0, NULL, it, NULL);
}

int
hlf_stub_get_state_by_partial_composite_key_with_pagination(
    hlf_stub_t *stub, const char *type, const char *const *attrs, size_t n,
    int32_t page_size, const char *bookmark, hlf_iter_t **it,
    hlf_query_meta_t *meta)
{
    return partial_composite(stub, type, attrs, n, 1, page_size, bookmark,
                             it, meta);
}

static int
rich_query(hlf_stub_t *stub, const char *query, int paginated,
           int32_t page_size, const char *bookmark, hlf_iter_t **it,
           hlf_query_meta_t *meta)
{
    hlf__pbw_t w = {0}, qm = {0};
    int rc;

    if (stub == NULL || it == NULL)
        return HLF_EINVAL;
    *it = NULL;
    hlf_error_clear(&stub->last_err);
    if (query == NULL || !hlf_utf8_valid(query, strlen(query)))
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "query is NULL or not valid UTF-8");
    if (paginated) {
        if (page_size < 0)
            return hlf__stub_fail(stub, HLF_EINVAL,
                                  "page size must not be negative");
        if (bookmark == NULL)
            bookmark = "";
        if (!hlf_utf8_valid(bookmark, strlen(bookmark)))
            return hlf__stub_fail(stub, HLF_EINVAL,
                                  "bookmark is not valid UTF-8");
        hlf__pbw_varint_field(&qm, 1, (uint32_t)page_size);
        hlf__pbw_bytes_field(&qm, 2, bookmark, strlen(bookmark));
    }
    /* GetQueryResult{query=1, collection=2, metadata=3}. */
    hlf__pbw_bytes_field(&w, 1, query, strlen(query));
    if (paginated)
        hlf__pbw_bytes_field_always(&w, 3, qm.buf, qm.len);
    if (qm.oom || w.oom) {
        rc = hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    } else {
        rc = hlf__iter_start(stub, T(GET_QUERY_RESULT), w.buf, w.len, 0, it,
                             meta);
    }
    hlf__pbw_dispose(&qm);
    hlf__pbw_dispose(&w);
    return rc;
}

int
hlf_stub_get_query_result(hlf_stub_t *stub, const char *query,
                          hlf_iter_t **it)
{
    return rich_query(stub, query, 0, 0, NULL, it, NULL);
}

int
hlf_stub_get_query_result_with_pagination(hlf_stub_t *stub,
                                          const char *query,
                                          int32_t page_size,
                                          const char *bookmark,
                                          hlf_iter_t **it,
                                          hlf_query_meta_t *meta)
{
    return rich_query(stub, query, 1, page_size, bookmark, it, meta);
}

int
hlf_stub_get_history_for_key(hlf_stub_t *stub, const char *key,
                             hlf_iter_t **it)
{
    hlf__pbw_t w = {0};
    char *wk;
    size_t wlen;
    int rc;

    if (stub == NULL || it == NULL)
        return HLF_EINVAL;
    *it = NULL;
    hlf_error_clear(&stub->last_err);
    rc = wire_key(stub, key, "key", &wk, &wlen);
    if (rc != HLF_OK)
        return rc;
    /* GetHistoryForKey{key=1}. */
    hlf__pbw_bytes_field(&w, 1, wk, wlen);
    if (w.oom)
        rc = hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    else
        rc = hlf__iter_start(stub, T(GET_HISTORY_FOR_KEY), w.buf, w.len, 1,
                             it, NULL);
    hlf__pbw_dispose(&w);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Events and chaincode-to-chaincode calls                                  */
/* ------------------------------------------------------------------------ */

int
hlf_stub_set_event(hlf_stub_t *stub, const char *name, const void *payload,
                   size_t len)
{
    char *n;
    uint8_t *p = NULL;

    if (stub == NULL)
        return HLF_EINVAL;
    hlf_error_clear(&stub->last_err);
    if (name == NULL || name[0] == '\0')
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "event name must not be empty");
    if (payload == NULL && len > 0)
        return hlf__stub_fail(stub, HLF_EINVAL, "event payload is NULL");
    n = strdup(name);
    if (len > 0)
        p = malloc(len);
    if (n == NULL || (len > 0 && p == NULL)) {
        free(n);
        free(p);
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    }
    if (len > 0)
        memcpy(p, payload, len);
    free(stub->event_name);
    free(stub->event_payload);
    stub->event_name = n;
    stub->event_payload = p;
    stub->event_len = len;
    return HLF_OK;
}

/* Fill resp from the callee's COMPLETED/ERROR message (copies to arena). */
static int
callee_response(hlf_stub_t *stub, const Protos__ChaincodeMessage *inner,
                hlf_response_t *resp)
{
    Protos__Response *r;

    if (inner->type != T(COMPLETED)) {
        /* As in the Go shim, a callee ERROR becomes a 500 response. */
        resp->status = HLF_STATUS_ERROR;
        resp->message = hlf__arena_strndup(&stub->arena, inner->payload.data,
                                           inner->payload.len);
        return resp->message != NULL
                   ? HLF_OK
                   : hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    }
    r = protos__response__unpack(NULL, inner->payload.len,
                                 inner->payload.data);
    if (r == NULL)
        return hlf__stub_fail(stub, HLF_EPROTO,
                              "malformed Response from callee");
    resp->status = r->status;
    resp->message = hlf__arena_strndup(&stub->arena, r->message,
                                       strlen(r->message));
    resp->payload_len = r->payload.len;
    resp->payload = r->payload.len ? hlf__arena_memdup(&stub->arena,
                                                       r->payload.data,
                                                       r->payload.len)
                                   : NULL;
    protos__response__free_unpacked(r, NULL);
    if (resp->message == NULL || (resp->payload_len && !resp->payload))
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    return HLF_OK;
}

int
hlf_stub_invoke_chaincode(hlf_stub_t *stub, const char *name,
                          const char *channel, const uint8_t *const *argv,
                          const size_t *lens, size_t argc,
                          hlf_response_t *resp)
{
    Protos__ChaincodeSpec spec = PROTOS__CHAINCODE_SPEC__INIT;
    Protos__ChaincodeID id = PROTOS__CHAINCODE_ID__INIT;
    Protos__ChaincodeInput input = PROTOS__CHAINCODE_INPUT__INIT;
    Protos__ChaincodeMessage *reply = NULL, *inner;
    ProtobufCBinaryData *args = NULL;
    uint8_t *buf = NULL;
    size_t n, i;
    int rc;

    if (stub == NULL || resp == NULL || (argc > 0 && (!argv || !lens)))
        return HLF_EINVAL;
    hlf_error_clear(&stub->last_err);
    memset(resp, 0, sizeof(*resp));
    if (name == NULL || name[0] == '\0')
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "chaincode name must not be empty");
    /* The peer reads "name/channel" for a call to another channel. */
    id.name = channel != NULL && channel[0] != '\0'
                  ? hlf_stub_printf(stub, "%s/%s", name, channel)
                  : (char *)name;
    args = argc ? hlf__arena_alloc(&stub->arena, argc * sizeof(*args)) : NULL;
    if (id.name == NULL || (argc > 0 && args == NULL))
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    for (i = 0; i < argc; i++) {
        args[i].data = (uint8_t *)argv[i];
        args[i].len = lens[i];
    }
    input.n_args = argc;
    input.args = args;
    spec.chaincode_id = &id;
    spec.input = &input;
    n = protos__chaincode_spec__get_packed_size(&spec);
    buf = malloc(n ? n : 1);
    if (buf == NULL)
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    protos__chaincode_spec__pack(&spec, buf);
    rc = hlf__tx_request(stub, T(INVOKE_CHAINCODE), buf, n, &reply);
    free(buf);
    if (rc != HLF_OK)
        return rc;
    /* The RESPONSE payload is the callee's whole ChaincodeMessage. */
    inner = protos__chaincode_message__unpack(NULL, reply->payload.len,
                                              reply->payload.data);
    protos__chaincode_message__free_unpacked(reply, NULL);
    if (inner == NULL)
        return hlf__stub_fail(stub, HLF_EPROTO,
                              "malformed INVOKE_CHAINCODE response");
    rc = callee_response(stub, inner, resp);
    protos__chaincode_message__free_unpacked(inner, NULL);
    return rc;
}
