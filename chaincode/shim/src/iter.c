/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Query iterators. The peer answers a query with a QueryResponse holding
 * up to 100 results, has_more and an iterator id; the rest comes batch by
 * batch with QUERY_STATE_NEXT{id}. An iterator keeps one decoded batch and
 * one decoded item, so memory stays bounded however long the range is.
 * Items are queryresult.KV (state queries, decoded by hand because keys may
 * contain 0x00) or queryresult.KeyModification (history).
 */
#include <stdlib.h>
#include <string.h>

#include <hlf/err.h>

#include "ledger/queryresult/kv_query_result.pb-c.h"
#include "shim_internal.h"

#define T(name) PROTOS__CHAINCODE_MESSAGE__TYPE__##name

struct hlf_iter_s {
    hlf_stub_t *stub;
    hlf_iter_t *prev;
    hlf_iter_t *next;
    int history;
    Protos__QueryResponse *resp;         /* current batch */
    size_t idx;                          /* next result in resp */
    char *key;                           /* current KV key, API form */
    Queryresult__KeyModification *km;    /* current history item */
};

static void
drop_item(hlf_iter_t *it)
{
    free(it->key);
    it->key = NULL;
    if (it->km != NULL) {
        queryresult__key_modification__free_unpacked(it->km, NULL);
        it->km = NULL;
    }
}

static void
iter_free(hlf_iter_t *it)
{
    hlf_stub_t *stub = it->stub;

    if (it->prev != NULL)
        it->prev->next = it->next;
    else
        stub->iters = it->next;
    if (it->next != NULL)
        it->next->prev = it->prev;
    drop_item(it);
    if (it->resp != NULL)
        protos__query_response__free_unpacked(it->resp, NULL);
    free(it);
}

void
hlf__iters_free_all(hlf_stub_t *stub)
{
    while (stub->iters != NULL)
        iter_free(stub->iters);
}

/* Run a query request and decode its QueryResponse (new on HLF_OK). */
static int
query_request(hlf_stub_t *stub, Protos__ChaincodeMessage__Type type,
              const uint8_t *payload, size_t len,
              Protos__QueryResponse **resp)
{
    Protos__ChaincodeMessage *reply = NULL;
    int rc;

    *resp = NULL;
    rc = hlf__tx_request(stub, type, payload, len, &reply);
    if (rc != HLF_OK)
        return rc;
    *resp = protos__query_response__unpack(NULL, reply->payload.len,
                                           reply->payload.data);
    protos__chaincode_message__free_unpacked(reply, NULL);
    if (*resp == NULL)
        return hlf__stub_fail(stub, HLF_EPROTO, "malformed QueryResponse");
    return HLF_OK;
}

/* QueryResponseMetadata{fetched_records_count=1, bookmark=2}. */
static int
decode_meta(hlf_stub_t *stub, const ProtobufCBinaryData *raw,
            hlf_query_meta_t *meta)
{
    hlf__pbr_t r = {raw->data, raw->data + raw->len};
    hlf__pbfield_t f;
    const char *bm = "";
    size_t bmlen = 0;
    char *key;
    int rc;

    meta->fetched = 0;
    meta->bookmark = "";
    if (raw->len == 0)
        return HLF_OK;
    while ((rc = hlf__pbr_next(&r, &f)) == 1) {
        if (f.field == 1 && f.wire_type == 0)
            meta->fetched = (int32_t)f.varint;
        else if (f.field == 2 && f.wire_type == 2) {
            bm = (const char *)f.data;
            bmlen = f.len;
        }
    }
    if (rc < 0)
        return hlf__stub_fail(stub, HLF_EPROTO,
                              "malformed QueryResponseMetadata");
    /* A LevelDB bookmark is the next start key, so it may be composite. */
    rc = hlf__key_from_wire_arena(&stub->arena, bm, bmlen, &key);
    if (rc != HLF_OK)
        return hlf__stub_fail(stub, rc == HLF_EINVAL ? HLF_EPROTO : rc,
                              "bad bookmark in QueryResponseMetadata");
    meta->bookmark = key;
    return HLF_OK;
}

int
hlf__iter_start(hlf_stub_t *stub, Protos__ChaincodeMessage__Type type,
                const uint8_t *payload, size_t len, int history,
                hlf_iter_t **out, hlf_query_meta_t *meta)
{
    Protos__QueryResponse *resp;
    hlf_iter_t *it;
    int rc;

    *out = NULL;
    if (meta != NULL) {
        meta->fetched = 0;
        meta->bookmark = "";
    }
    rc = query_request(stub, type, payload, len, &resp);
    if (rc != HLF_OK)
        return rc;
    if (meta != NULL) {
        rc = decode_meta(stub, &resp->metadata, meta);
        if (rc != HLF_OK) {
            protos__query_response__free_unpacked(resp, NULL);
            return rc;
        }
    }
    it = calloc(1, sizeof(*it));
    if (it == NULL) {
        protos__query_response__free_unpacked(resp, NULL);
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    }
    it->stub = stub;
    it->history = history;
    it->resp = resp;
    it->next = stub->iters;
    if (stub->iters != NULL)
        stub->iters->prev = it;
    stub->iters = it;
    *out = it;
    return HLF_OK;
}

/*
 * Make it->resp->results[it->idx] available, fetching batches as needed.
 * 1 when there is an item, 0 at the end, negative on error.
 */
static int
advance(hlf_iter_t *it, const ProtobufCBinaryData **item)
{
    hlf__pbw_t w = {0};
    Protos__QueryResponse *next;
    int rc;

    drop_item(it);
    while (it->idx >= it->resp->n_results) {
        if (!it->resp->has_more)
            return 0;
        /* QueryStateNext{id=1}. */
        hlf__pbw_bytes_field(&w, 1, it->resp->id, strlen(it->resp->id));
        if (w.oom) {
            hlf__pbw_dispose(&w);
            return hlf__stub_fail(it->stub, HLF_ENOMEM, "out of memory");
        }
        rc = query_request(it->stub, T(QUERY_STATE_NEXT), w.buf, w.len,
                           &next);
        hlf__pbw_dispose(&w);
        if (rc != HLF_OK)
            return rc;
        protos__query_response__free_unpacked(it->resp, NULL);
        it->resp = next;
        it->idx = 0;
    }
    *item = &it->resp->results[it->idx++]->resultbytes;
    return 1;
}

int
hlf_iter_next(hlf_iter_t *it, hlf_kv_t *kv)
{
    const ProtobufCBinaryData *item;
    hlf__pbr_t r;
    hlf__pbfield_t f;
    const char *key = "";
    size_t klen = 0;
    int rc;

    if (it == NULL || kv == NULL)
        return HLF_EINVAL;
    hlf_error_clear(&it->stub->last_err);
    memset(kv, 0, sizeof(*kv));
    if (it->history)
        return hlf__stub_fail(it->stub, HLF_EINVAL,
                              "history iterator: use hlf_iter_next_history");
    rc = advance(it, &item);
    if (rc <= 0)
        return rc;
    /* queryresult.KV{namespace=1, key=2, value=3}. */
    r.p = item->data;
    r.end = item->data + item->len;
    while ((rc = hlf__pbr_next(&r, &f)) == 1) {
        if (f.field == 2 && f.wire_type == 2) {
            key = (const char *)f.data;
            klen = f.len;
        } else if (f.field == 3 && f.wire_type == 2) {
            kv->value = f.len ? f.data : NULL;
            kv->value_len = f.len;
        }
    }
    if (rc < 0 || hlf_key_from_wire(key, klen, &it->key) != HLF_OK) {
        memset(kv, 0, sizeof(*kv));
        return hlf__stub_fail(it->stub, HLF_EPROTO,
                              "malformed KV in query result");
    }
    kv->key = it->key;
    return 1;
}

int
hlf_iter_next_history(hlf_iter_t *it, hlf_key_modification_t *km)
{
    const ProtobufCBinaryData *item;
    int rc;

    if (it == NULL || km == NULL)
        return HLF_EINVAL;
    hlf_error_clear(&it->stub->last_err);
    memset(km, 0, sizeof(*km));
    if (!it->history)
        return hlf__stub_fail(it->stub, HLF_EINVAL,
                              "state iterator: use hlf_iter_next");
    rc = advance(it, &item);
    if (rc <= 0)
        return rc;
    it->km = queryresult__key_modification__unpack(NULL, item->len,
                                                   item->data);
    if (it->km == NULL)
        return hlf__stub_fail(it->stub, HLF_EPROTO,
                              "malformed KeyModification in history");
    km->tx_id = it->km->tx_id;
    km->value = it->km->value.len ? it->km->value.data : NULL;
    km->value_len = it->km->value.len;
    if (it->km->timestamp != NULL) {
        km->timestamp_seconds = it->km->timestamp->seconds;
        km->timestamp_nanos = it->km->timestamp->nanos;
    }
    km->is_delete = it->km->is_delete ? 1 : 0;
    return 1;
}

int
hlf_iter_close(hlf_iter_t *it)
{
    hlf__pbw_t w = {0};
    Protos__QueryResponse *resp = NULL;
    int rc = HLF_OK;

    if (it == NULL)
        return HLF_OK;
    hlf_error_clear(&it->stub->last_err);
    /* When has_more is false the peer has already released the iterator;
     * otherwise tell it to, as the Go shim does. */
    if (it->resp->has_more) {
        /* QueryStateClose{id=1}. */
        hlf__pbw_bytes_field(&w, 1, it->resp->id, strlen(it->resp->id));
        if (w.oom)
            rc = hlf__stub_fail(it->stub, HLF_ENOMEM, "out of memory");
        else
            rc = query_request(it->stub, T(QUERY_STATE_CLOSE), w.buf, w.len,
                               &resp);
        hlf__pbw_dispose(&w);
        if (resp != NULL)
            protos__query_response__free_unpacked(resp, NULL);
    }
    iter_free(it);
    return rc;
}
