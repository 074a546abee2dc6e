/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replaceable allocator behind hlf/mem.h and the protobuf-c allocator
 * that routes protobuf-c's own allocations through it.
 */
#include "hlf/mem.h"
#include "hlf/err.h"
#include "pb.h"

#include <stdlib.h>
#include <string.h>

/*
 * Set once before the library is used (see hlf_set_alloc_funcs), then only
 * read, so no lock is needed.
 */
static hlf_malloc_fn do_malloc = malloc;
static hlf_realloc_fn do_realloc = realloc;
static hlf_free_fn do_free = free;

int
hlf_set_alloc_funcs(hlf_malloc_fn m, hlf_realloc_fn r, hlf_free_fn f)
{
    if (m == NULL || r == NULL || f == NULL)
        return HLF_EINVAL;
    do_malloc = m;
    do_realloc = r;
    do_free = f;
    return HLF_OK;
}

void *
hlf_malloc(size_t size)
{
    return size ? do_malloc(size) : NULL;
}

void *
hlf_calloc(size_t n, size_t size)
{
    void *p;

    if (n == 0 || size == 0 || n > SIZE_MAX / size)
        return NULL;
    p = do_malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *
hlf_realloc(void *ptr, size_t size)
{
    return do_realloc(ptr, size);
}

void
hlf_free(void *ptr)
{
    if (ptr != NULL)
        do_free(ptr);
}

char *
hlf_strdup(const char *s)
{
    return s ? hlf_memdup(s, strlen(s)) : NULL;
}

void *
hlf_memdup(const void *p, size_t len)
{
    uint8_t *q;

    if (len == SIZE_MAX)
        return NULL;
    q = do_malloc(len + 1);
    if (q == NULL)
        return NULL;
    if (len)
        memcpy(q, p, len);
    q[len] = 0;
    return q;
}

void
hlf_bytes_free(hlf_bytes_t *b)
{
    if (b == NULL)
        return;
    hlf_free(b->data);
    b->data = NULL;
    b->len = 0;
}

hlf_bytes_t
hlf_bytes_str(const char *s)
{
    hlf_bytes_t b;

    /* The cast is safe: argument bytes are documented as never written. */
    b.data = (uint8_t *)(uintptr_t)s;
    b.len = s ? strlen(s) : 0;
    return b;
}

/* protobuf-c calls these for every unpacked message and its fields. */
static void *
pb_alloc(void *ud, size_t size)
{
    (void)ud;
    return hlf_malloc(size ? size : 1);
}

static void
pb_free(void *ud, void *p)
{
    (void)ud;
    hlf_free(p);
}

ProtobufCAllocator hlf__pb_allocator = {pb_alloc, pb_free, NULL};

int
hlf__pb_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = hlf_malloc(n ? n : 1);

    if (buf == NULL)
        return HLF_ENOMEM;
    *len = protobuf_c_message_pack(msg, buf);
    *out = buf;
    return HLF_OK;
}
