/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPFS CIDv0 of a file as `ipfs add` computes it (see cid.h), written by
 * hand: the dag-pb and UnixFS messages are small enough that a protobuf
 * library would add more than it saves, and their byte layout must match
 * the reference importer exactly anyway.
 *
 * Wire facts used here (dag-pb and unixfs.proto): PBNode has Links = 2
 * (repeated PBLink) and Data = 1 (bytes), and the canonical encoding puts
 * every link before the data. PBLink has Hash = 1 (the child's multihash
 * for CIDv0), Name = 2 (always present and empty for file chunks) and
 * Tsize = 3 (the child block's size plus everything below it). UnixFS Data
 * has Type = 1 (File = 2), Data = 2 (the chunk's bytes, omitted when
 * empty), filesize = 3 and blocksizes = 4 (repeated, not packed; the file
 * bytes below each link). The multihash of sha2-256 is 0x12 0x20 + digest.
 *
 * Tree shape (balanced layout): leaves are grouped 174 at a time into
 * parents, the parents again 174 at a time, until one node is left; the
 * last group of a level may be short, even a single node. A file of one
 * chunk is its leaf. The builder keeps one partial group per level, so
 * memory is bounded by one chunk plus 174 link records per level.
 */
#include "cid.h"

#include <string.h>

#include "hlf/crypto.h"
#include "hlf/mem.h"

#define MH_LEN 34     /* 0x12 0x20 + 32-byte digest */
#define MAX_LEVELS 12 /* 174^11 chunks is far beyond 2^63 bytes */
#define VARINT_MAX 10

/* One finished node as its parent sees it. */
typedef struct node_s {
    uint8_t mh[MH_LEN];
    uint64_t tsize; /* encoded block + all blocks below */
    uint64_t fsize; /* file bytes below */
} node_t;

struct gw_cid_builder_s {
    uint8_t *chunk;    /* GW_CID_CHUNK_SIZE bytes being filled */
    size_t chunk_len;
    uint8_t *block;    /* encoding scratch, big enough for any node */
    uint64_t total;    /* file bytes so far */
    uint64_t leaves;   /* leaves emitted so far */
    int finished;
    node_t levels[MAX_LEVELS][GW_CID_MAX_LINKS];
    size_t count[MAX_LEVELS];
};

/*
 * Scratch size: a leaf is at most tag + varint + UnixFS (type, data tag,
 * varint, chunk, filesize); a parent at most 174 links of (tag, varint,
 * hash tag, 1, 34, name tag, 0, tsize tag, varint) plus its UnixFS with
 * 174 blocksizes. 1 KiB of headroom covers every tag and varint.
 */
#define LINK_MAX (1 + 1 + 1 + 1 + MH_LEN + 2 + 1 + VARINT_MAX)
#define BLOCK_MAX                                                          \
    (GW_CID_CHUNK_SIZE + 1024 + GW_CID_MAX_LINKS * (LINK_MAX + 1 +         \
                                                    VARINT_MAX * 2))

static const char b58_alphabet[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static size_t
put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static size_t
varint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Hash an encoded block into the node's multihash. */
static void
seal(node_t *n, const uint8_t *block, size_t len)
{
    n->mh[0] = 0x12;
    n->mh[1] = 0x20;
    hlf_sha256(block, len, n->mh + 2);
}

/* Encode and hash the leaf of the current chunk. */
static void
make_leaf(gw_cid_builder_t *b, node_t *out)
{
    uint8_t *p = b->block;
    size_t ulen, n = b->chunk_len;

    /* UnixFS: Type, Data (when non-empty), filesize. */
    ulen = 2 + (n > 0 ? 1 + varint_len(n) + n : 0) + 1 + varint_len(n);
    *p++ = 0x0a; /* PBNode.Data */
    p += put_varint(p, ulen);
    *p++ = 0x08;
    *p++ = 0x02; /* File */
    if (n > 0) {
        *p++ = 0x12;
        p += put_varint(p, n);
        memcpy(p, b->chunk, n);
        p += n;
    }
    *p++ = 0x18;
    p += put_varint(p, n);
    seal(out, b->block, (size_t)(p - b->block));
    out->tsize = (uint64_t)(p - b->block);
    out->fsize = n;
}

/* Encode and hash the parent of kids[0..k). */
static void
make_parent(gw_cid_builder_t *b, const node_t *kids, size_t k, node_t *out)
{
    uint8_t *p = b->block;
    uint64_t fsize = 0, tsum = 0;
    size_t i, ulen;

    for (i = 0; i < k; i++) {
        size_t llen = 2 + MH_LEN + 2 + 1 + varint_len(kids[i].tsize);

        *p++ = 0x12; /* PBNode.Links */
        p += put_varint(p, llen);
        *p++ = 0x0a; /* PBLink.Hash */
        *p++ = MH_LEN;
        memcpy(p, kids[i].mh, MH_LEN);
        p += MH_LEN;
        *p++ = 0x12; /* PBLink.Name: present, empty */
        *p++ = 0x00;
        *p++ = 0x18; /* PBLink.Tsize */
        p += put_varint(p, kids[i].tsize);
        fsize += kids[i].fsize;
        tsum += kids[i].tsize;
    }
    ulen = 2 + 1 + varint_len(fsize);
    for (i = 0; i < k; i++)
        ulen += 1 + varint_len(kids[i].fsize);
    *p++ = 0x0a; /* PBNode.Data */
    p += put_varint(p, ulen);
    *p++ = 0x08;
    *p++ = 0x02; /* File */
    *p++ = 0x18; /* filesize */
    p += put_varint(p, fsize);
    for (i = 0; i < k; i++) {
        *p++ = 0x20; /* blocksizes */
        p += put_varint(p, kids[i].fsize);
    }
    seal(out, b->block, (size_t)(p - b->block));
    out->tsize = (uint64_t)(p - b->block) + tsum;
    out->fsize = fsize;
}

/* Add a node at level lv; a full group becomes a parent one level up. */
static void
push(gw_cid_builder_t *b, size_t lv, const node_t *n)
{
    node_t carry = *n;

    for (; lv < MAX_LEVELS; lv++) {
        b->levels[lv][b->count[lv]++] = carry;
        if (b->count[lv] < GW_CID_MAX_LINKS)
            return;
        make_parent(b, b->levels[lv], b->count[lv], &carry);
        b->count[lv] = 0;
    }
}

static void
emit_chunk(gw_cid_builder_t *b)
{
    node_t leaf;

    make_leaf(b, &leaf);
    b->chunk_len = 0;
    b->leaves++;
    push(b, 0, &leaf);
}

int
gw_cid_builder_new(gw_cid_builder_t **out)
{
    gw_cid_builder_t *b;

    if (out == NULL)
        return HLF_EINVAL;
    *out = NULL;
    b = hlf_calloc(1, sizeof(*b));
    if (b == NULL)
        return HLF_ENOMEM;
    b->chunk = hlf_malloc(GW_CID_CHUNK_SIZE);
    b->block = hlf_malloc(BLOCK_MAX);
    if (b->chunk == NULL || b->block == NULL) {
        gw_cid_builder_free(b);
        return HLF_ENOMEM;
    }
    *out = b;
    return HLF_OK;
}

int
gw_cid_builder_update(gw_cid_builder_t *b, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (b == NULL || b->finished || (data == NULL && len > 0))
        return HLF_EINVAL;
    if ((uint64_t)len > (UINT64_C(1) << 63) - b->total)
        return HLF_ETOOBIG;
    while (len > 0) {
        size_t take = GW_CID_CHUNK_SIZE - b->chunk_len;

        /*
         * A full chunk is emitted only when more bytes follow, so that
         * finish can tell a one-chunk file (its root is the leaf) from a
         * longer one.
         */
        if (take == 0) {
            emit_chunk(b);
            take = GW_CID_CHUNK_SIZE;
        }
        if (take > len)
            take = len;
        memcpy(b->chunk + b->chunk_len, p, take);
        b->chunk_len += take;
        b->total += take;
        p += take;
        len -= take;
    }
    return HLF_OK;
}

/* Highest level holding a node, or -1. */
static int
top_level(const gw_cid_builder_t *b)
{
    int lv;

    for (lv = MAX_LEVELS - 1; lv >= 0; lv--)
        if (b->count[lv] > 0)
            return lv;
    return -1;
}

int
gw_cid_builder_finish(gw_cid_builder_t *b, char cid[GW_CID_BUFSZ],
                      uint64_t *size)
{
    node_t root;
    size_t lv;
    int rc;

    memset(&root, 0, sizeof(root));
    if (b == NULL || cid == NULL || b->finished)
        return HLF_EINVAL;
    b->finished = 1;
    /* The last (possibly empty, for an empty file) chunk. */
    if (b->chunk_len > 0 || b->leaves == 0) {
        make_leaf(b, &root);
        b->chunk_len = 0;
        b->leaves++;
        if (b->leaves > 1)
            push(b, 0, &root);
    }
    if (b->leaves > 1) {
        /*
         * Fold every level's short group into the level above, bottom
         * up, until a level holds the only node left: the root.
         */
        for (lv = 0; lv < MAX_LEVELS; lv++) {
            node_t parent;

            if (b->count[lv] == 0)
                continue;
            if ((int)lv == top_level(b) && b->count[lv] == 1) {
                root = b->levels[lv][0];
                break;
            }
            make_parent(b, b->levels[lv], b->count[lv], &parent);
            b->count[lv] = 0;
            push(b, lv + 1, &parent);
        }
    }
    rc = gw_base58btc_encode(root.mh, MH_LEN, cid, GW_CID_BUFSZ);
    if (rc != HLF_OK)
        return rc;
    if (size != NULL)
        *size = b->total;
    return HLF_OK;
}

void
gw_cid_builder_free(gw_cid_builder_t *b)
{
    if (b == NULL)
        return;
    hlf_free(b->chunk);
    hlf_free(b->block);
    hlf_free(b);
}

int
gw_cid_of_buffer(const void *data, size_t len, char cid[GW_CID_BUFSZ])
{
    gw_cid_builder_t *b = NULL;
    int rc;

    rc = gw_cid_builder_new(&b);
    if (rc != HLF_OK)
        return rc;
    rc = gw_cid_builder_update(b, data, len);
    if (rc == HLF_OK)
        rc = gw_cid_builder_finish(b, cid, NULL);
    gw_cid_builder_free(b);
    return rc;
}

int
gw_base58btc_encode(const uint8_t *in, size_t len, char *out, size_t n)
{
    uint8_t digits[256];
    size_t zeros = 0, ndig = 0, i, j;

    if (in == NULL || out == NULL || len > 180)
        return len > 180 ? HLF_ETOOBIG : HLF_EINVAL;
    while (zeros < len && in[zeros] == 0)
        zeros++;
    /* Schoolbook base conversion: digits[] is little-endian base 58. */
    for (i = zeros; i < len; i++) {
        unsigned carry = in[i];

        for (j = 0; j < ndig; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            digits[ndig++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    if (zeros + ndig + 1 > n)
        return HLF_ETOOBIG;
    for (i = 0; i < zeros; i++)
        out[i] = '1';
    for (j = 0; j < ndig; j++)
        out[zeros + j] = b58_alphabet[digits[ndig - 1 - j]];
    out[zeros + ndig] = '\0';
    return HLF_OK;
}

int
gw_base58btc_decode(const char *s, uint8_t *out, size_t n, size_t *outlen)
{
    uint8_t bytes[256];
    size_t zeros = 0, nb = 0, i, j;

    if (s == NULL || out == NULL || outlen == NULL)
        return HLF_EINVAL;
    if (strlen(s) > 250)
        return HLF_ETOOBIG;
    while (s[zeros] == '1')
        zeros++;
    for (i = zeros; s[i] != '\0'; i++) {
        const char *d = strchr(b58_alphabet, s[i]);
        unsigned carry;

        if (d == NULL)
            return HLF_EINVAL;
        carry = (unsigned)(d - b58_alphabet);
        for (j = 0; j < nb; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        while (carry > 0) {
            bytes[nb++] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
    }
    if (zeros + nb > n)
        return HLF_ETOOBIG;
    memset(out, 0, zeros);
    for (j = 0; j < nb; j++)
        out[zeros + j] = bytes[nb - 1 - j];
    *outlen = zeros + nb;
    return HLF_OK;
}

int
gw_cid_is_valid(const char *s)
{
    uint8_t mh[64];
    size_t len = 0;

    if (s == NULL || strlen(s) != GW_CID_LEN || s[0] != 'Q' || s[1] != 'm')
        return 0;
    if (gw_base58btc_decode(s, mh, sizeof(mh), &len) != HLF_OK)
        return 0;
    return len == MH_LEN && mh[0] == 0x12 && mh[1] == 0x20;
}
