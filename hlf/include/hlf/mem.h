/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation entry points for libhlf. Every allocation libhlf makes itself
 * (including protobuf-c messages it packs or unpacks) goes through these, so
 * a test can install a failing allocator and check that every out-of-memory
 * path returns HLF_ENOMEM without leaking. OpenSSL and grpc-core keep their
 * own allocators.
 *
 * THREAD SAFETY: hlf_malloc/hlf_calloc/hlf_realloc/hlf_free/hlf_strdup/
 * hlf_memdup may be called from any thread. hlf_set_alloc_funcs must be
 * called before any other libhlf function, while no other thread uses the
 * library.
 */
#ifndef HLF_MEM_H
#define HLF_MEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void *(*hlf_malloc_fn)(size_t size);
typedef void *(*hlf_realloc_fn)(void *ptr, size_t size);
typedef void (*hlf_free_fn)(void *ptr);

/*
 * Replace the allocator. All three functions must be given (HLF_EINVAL
 * otherwise); passing the libc functions restores the default. Memory must
 * be freed by the allocator that allocated it, so switch only while libhlf
 * holds no allocation.
 */
int hlf_set_alloc_funcs(hlf_malloc_fn m, hlf_realloc_fn r, hlf_free_fn f);

/* Like malloc/calloc/realloc/free; NULL on failure (and for size 0). */
void *hlf_malloc(size_t size);
void *hlf_calloc(size_t n, size_t size);
void *hlf_realloc(void *ptr, size_t size);
void hlf_free(void *ptr);

/* New NUL-terminated copy of s (NULL if s is NULL or on failure). */
char *hlf_strdup(const char *s);

/*
 * New copy of len bytes plus a trailing NUL byte that is not counted, so
 * text results can be used as C strings. NULL on failure.
 */
void *hlf_memdup(const void *p, size_t len);

/*
 * A byte string. As an argument (const hlf_bytes_t *) it is borrowed and
 * never modified. As a result filled by libhlf it is new: data points to
 * len bytes followed by one NUL byte (so text results are C strings; data
 * is not NULL even when len is 0), and the caller releases it with
 * hlf_bytes_free. After a failure a result is left empty (data NULL).
 */
typedef struct hlf_bytes_s {
    uint8_t *data;
    size_t len;
} hlf_bytes_t;

/* Free b->data and reset b to empty. b may be NULL. */
void hlf_bytes_free(hlf_bytes_t *b);

/*
 * Borrowed view of a C string as bytes (no copy, no NUL counted). Handy for
 * building argument arrays: hlf_bytes_t args[] = {hlf_bytes_str("x")}.
 */
hlf_bytes_t hlf_bytes_str(const char *s);

#ifdef __cplusplus
}
#endif
#endif /* HLF_MEM_H */
