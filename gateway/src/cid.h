/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content addresses of off-chain documents: the IPFS CIDv0 that `ipfs add`
 * with its default settings computes for a file, without an IPFS daemon.
 * The file is cut into 262144-byte chunks; each chunk becomes a dag-pb
 * node holding a UnixFS File message with the bytes; a file of one chunk
 * is that node; longer files get a balanced tree of parent nodes with at
 * most 174 links each, whose UnixFS messages list the file bytes below
 * every link (blocksizes). The CID is the base58btc text of the sha2-256
 * multihash of the root node. The builder is incremental so that a
 * document can be hashed while it is streamed to disk.
 */
#ifndef GW_CID_H
#define GW_CID_H

#include <stddef.h>
#include <stdint.h>

#include "hlf/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Text of a CIDv0: "Qm" + 44 base58btc characters, plus the NUL. */
#define GW_CID_LEN 46
#define GW_CID_BUFSZ (GW_CID_LEN + 1)

/* The importer's defaults, fixed by the IPFS format we interoperate with. */
#define GW_CID_CHUNK_SIZE 262144
#define GW_CID_MAX_LINKS 174

typedef struct gw_cid_builder_s gw_cid_builder_t;

/*
 * A new builder for one file. *out is new (gw_cid_builder_free).
 * HLF_ENOMEM. THREAD SAFETY: reentrant; one builder per thread at a time.
 */
int gw_cid_builder_new(gw_cid_builder_t **out);

/*
 * Feed the next len bytes of the file (data borrowed for the call; NULL
 * only with len 0). HLF_EINVAL after finish or on NULL data; HLF_ETOOBIG
 * when the file would exceed 2^63 bytes.
 */
int gw_cid_builder_update(gw_cid_builder_t *b, const void *data,
                          size_t len);

/*
 * End of file: write the CID text into cid (GW_CID_BUFSZ bytes) and the
 * file size into *size (may be NULL). The builder accepts nothing more.
 * HLF_EINVAL when called twice.
 */
int gw_cid_builder_finish(gw_cid_builder_t *b, char cid[GW_CID_BUFSZ],
                          uint64_t *size);

/* Free a builder (takes; NULL is a no-op). */
void gw_cid_builder_free(gw_cid_builder_t *b);

/*
 * The CID of len bytes in memory (data borrowed; NULL only with len 0).
 * HLF_ENOMEM, HLF_EINVAL. THREAD SAFETY: reentrant.
 */
int gw_cid_of_buffer(const void *data, size_t len, char cid[GW_CID_BUFSZ]);

/*
 * 1 if s is the text of a CIDv0 this module produces (46 base58btc
 * characters decoding to a 34-byte sha2-256 multihash), else 0. Used to
 * validate path parameters before they name a file.
 * THREAD SAFETY: reentrant.
 */
int gw_cid_is_valid(const char *s);

/*
 * Base58btc (Bitcoin alphabet; each leading zero byte becomes '1') of
 * len bytes into out (n bytes, NUL-terminated). HLF_ETOOBIG when out is
 * too small (1 + len * 138 / 100 + 1 bytes always suffice).
 * THREAD SAFETY: reentrant.
 */
int gw_base58btc_encode(const uint8_t *in, size_t len, char *out, size_t n);

/*
 * Decode base58btc text s into out (n bytes); *outlen gets the length.
 * HLF_EINVAL on a character outside the alphabet, HLF_ETOOBIG when out
 * is too small. THREAD SAFETY: reentrant.
 */
int gw_base58btc_decode(const char *s, uint8_t *out, size_t n,
                        size_t *outlen);

#ifdef __cplusplus
}
#endif
#endif /* GW_CID_H */
