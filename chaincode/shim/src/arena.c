/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-transaction arena. Everything the stub hands out as "borrowed"
 * (state values, split keys, identity strings, iterator bookmarks) lives
 * here and is released in one go when the transaction ends, so chaincode
 * code never frees shim results. Chunks grow geometrically; an allocation
 * larger than a chunk gets a chunk of its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shim_internal.h"

#define ARENA_MIN_CHUNK 4096
#define ARENA_ALIGN 16

struct hlf__arena_chunk {
    hlf__arena_chunk_t *next;
    size_t size;
    size_t used;
    /* Keep data aligned for any type. */
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void
hlf__arena_init(hlf__arena_t *a)
{
    a->head = NULL;
}

void
hlf__arena_dispose(hlf__arena_t *a)
{
    hlf__arena_chunk_t *c = a->head;

    while (c != NULL) {
        hlf__arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

void *
hlf__arena_alloc(hlf__arena_t *a, size_t n)
{
    hlf__arena_chunk_t *c = a->head;
    size_t need, size;

    /* Round up so the next allocation stays aligned; n == 0 is legal. */
    if (n > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need == 0)
        need = ARENA_ALIGN;
    if (c != NULL && c->size - c->used >= need) {
        void *p = c->data + c->used;
        c->used += need;
        return p;
    }
    size = c != NULL ? c->size * 2 : ARENA_MIN_CHUNK;
    if (size > 1024 * 1024)
        size = 1024 * 1024;
    if (size < need)
        size = need;
    if (size > SIZE_MAX - sizeof(*c))
        return NULL;
    c = malloc(sizeof(*c) + size);
    if (c == NULL)
        return NULL;
    c->size = size;
    c->used = need;
    /* A dedicated oversized chunk goes behind the head so the head's
     * remaining space is not wasted. */
    if (a->head != NULL && need == size) {
        c->next = a->head->next;
        a->head->next = c;
    } else {
        c->next = a->head;
        a->head = c;
    }
    return c->data;
}

void *
hlf__arena_memdup(hlf__arena_t *a, const void *p, size_t n)
{
    void *q = hlf__arena_alloc(a, n);

    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

char *
hlf__arena_strndup(hlf__arena_t *a, const void *p, size_t n)
{
    char *q;

    if (n == SIZE_MAX)
        return NULL;
    q = hlf__arena_alloc(a, n + 1);
    if (q == NULL)
        return NULL;
    if (n > 0)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}
