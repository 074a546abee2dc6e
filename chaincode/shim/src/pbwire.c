/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal protobuf wire encoding and decoding for the messages that carry
 * keys. protobuf-c represents proto3 `string` fields as NUL-terminated
 * char *, so a composite key (which contains 0x00 bytes) would be cut at
 * its first byte. The handful of shim requests with key fields (GetState,
 * PutState, GetStateByRange, QueryMetadata, ...) and the two results with
 * key fields (queryresult.KV, QueryResponseMetadata) are therefore encoded
 * and decoded here; everything else uses the generated protobuf-c code.
 */
#include <stdlib.h>
#include <string.h>

#include <hlf/err.h>

#include "shim_internal.h"

/* Make room for n more bytes; sets w->oom and returns 0 on failure. */
static int
pbw_reserve(hlf__pbw_t *w, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (w->oom)
        return 0;
    if (w->cap - w->len >= n)
        return 1;
    cap = w->cap ? w->cap : 64;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->oom = 1;
            return 0;
        }
        cap *= 2;
    }
    p = realloc(w->buf, cap);
    if (p == NULL) {
        w->oom = 1;
        return 0;
    }
    w->buf = p;
    w->cap = cap;
    return 1;
}

static void
pbw_varint(hlf__pbw_t *w, uint64_t v)
{
    if (!pbw_reserve(w, 10))
        return;
    while (v >= 0x80) {
        w->buf[w->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    w->buf[w->len++] = (uint8_t)v;
}

void
hlf__pbw_varint_field(hlf__pbw_t *w, uint32_t field, uint64_t v)
{
    if (v == 0)
        return;
    pbw_varint(w, (uint64_t)field << 3);
    pbw_varint(w, v);
}

void
hlf__pbw_bytes_field_always(hlf__pbw_t *w, uint32_t field, const void *p,
                            size_t n)
{
    pbw_varint(w, ((uint64_t)field << 3) | 2);
    pbw_varint(w, n);
    if (n > 0 && pbw_reserve(w, n)) {
        memcpy(w->buf + w->len, p, n);
        w->len += n;
    }
}

void
hlf__pbw_bytes_field(hlf__pbw_t *w, uint32_t field, const void *p, size_t n)
{
    if (n > 0)
        hlf__pbw_bytes_field_always(w, field, p, n);
}

void
hlf__pbw_dispose(hlf__pbw_t *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

static int
pbr_varint(hlf__pbr_t *r, uint64_t *v)
{
    uint64_t out = 0;
    unsigned shift = 0;

    while (r->p < r->end && shift < 64) {
        uint8_t b = *r->p++;
        out |= (uint64_t)(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            *v = out;
            return 1;
        }
        shift += 7;
    }
    return 0;
}

int
hlf__pbr_next(hlf__pbr_t *r, hlf__pbfield_t *f)
{
    uint64_t key, len;

    if (r->p >= r->end)
        return 0;
    if (!pbr_varint(r, &key) || (key >> 3) == 0 || (key >> 3) > 0x1FFFFFFF)
        return HLF_EPROTO;
    memset(f, 0, sizeof(*f));
    f->field = (uint32_t)(key >> 3);
    f->wire_type = (int)(key & 7);
    switch (f->wire_type) {
    case 0:
        if (!pbr_varint(r, &f->varint))
            return HLF_EPROTO;
        return 1;
    case 1:
    case 5: {
        size_t n = f->wire_type == 1 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n)
            return HLF_EPROTO;
        r->p += n;
        return 1;
    }
    case 2:
        if (!pbr_varint(r, &len) || len > (uint64_t)(r->end - r->p))
            return HLF_EPROTO;
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        return 1;
    default:
        /* Groups (3, 4) are not used by any Fabric message. */
        return HLF_EPROTO;
    }
}
