/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Off-chain documents (reso-model §5.5): POST /v1/documents stores a
 * detail document such as an education certificate and answers with its
 * content address urn:ipfs:<CID>, the CIDv0 IPFS computes for the same
 * bytes (cid.c); GET (and HEAD) /v1/documents/{cid} serve it back. Events
 * reference the address in Context.OffchainAddress; the ledger holds only
 * the address, never the document.
 *
 * Storage: one file per document, <state_dir>/documents/<CID>, written
 * with gw_write_file_atomic (0600, temporary file, fsync, rename), so a
 * reader never sees a partial document and a second upload of the same
 * bytes changes nothing. Every GET recomputes the CID of the bytes it is
 * about to send, from the same buffer it sends, and answers 500
 * DOCUMENT_CORRUPT instead when they differ: bad bytes are never served.
 *
 * Documents are served as application/octet-stream with nosniff: the
 * content type of an upload is not part of its address, and serving
 * caller-chosen types from the API origin would let one member plant
 * active content for another.
 *
 * Size: a document may be up to documents_max_bytes (413 beyond): the
 * route is a GW_ROUTE_DOCUMENT route, so the HTTP core buffers its body up
 * to that limit instead of max_body_bytes (which bounds JSON bodies). The
 * body is held in memory while it is hashed and written; a streaming sink
 * would lower the peak for very large limits.
 *
 * THREAD SAFETY: handlers run on MHD threads and only validate; file I/O
 * runs in pool jobs. The module state (directory path, metrics) is set at
 * init/start on the main thread and read-only afterwards.
 */
#include "gw.h"
#include "cid.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hlf/log.h"
#include "hlf/mem.h"

#define URN_PREFIX "urn:ipfs:"

/* Set on the main thread at init/start, read-only afterwards. */
static char g_dir[4096];
static size_t g_max_bytes;
static gw_metric_t *m_docs;
/* Serialises document writes (see store). */
static pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;

/* A POST job: the body copied out of the request. */
typedef struct put_job_s {
    gw_req_t *req;
    char *data;
    size_t len;
} put_job_t;

/* A GET job: the validated CID. */
typedef struct get_job_s {
    gw_req_t *req;
    char cid[GW_CID_BUFSZ];
    int head;
} get_job_t;

static void
count(const char *op, const char *result)
{
    gw_counter_inc(m_docs, GW_LABELS(op, result));
}

/*
 * Store data under its CID. HLF_OK with cid set; HLF_EIO with err set on
 * any file system failure. Two uploads of the same bytes would share
 * gw_write_file_atomic's temporary name, so writes are serialised; they
 * are rare next to reads and bounded by the body limit.
 */
static int
store(const char *data, size_t len, char cid[GW_CID_BUFSZ],
      hlf_error_t *err)
{
    char dst[4200];
    int rc;

    rc = gw_cid_of_buffer(data, len, cid);
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "computing the CID failed");
    snprintf(dst, sizeof(dst), "%s/%s", g_dir, cid);
    pthread_mutex_lock(&g_write_lock);
    rc = gw_write_file_atomic(dst, data, len, 0600, err);
    pthread_mutex_unlock(&g_write_lock);
    return rc;
}

static void
put_job_free(void *arg)
{
    put_job_t *j = arg;

    if (j == NULL)
        return;
    hlf_free(j->data);
    hlf_free(j);
}

static void
put_job(void *arg)
{
    put_job_t *j = arg;
    char cid[GW_CID_BUFSZ], addr[sizeof(URN_PREFIX) + GW_CID_BUFSZ];
    char loc[32 + GW_CID_BUFSZ];
    hlf_error_t e = {0};
    json_t *body;

    if (store(j->data, j->len, cid, &e) != HLF_OK) {
        hlf_log(HLF_LOG_ERROR, "documents", "rid=%s store failed: %s",
                gw_req_id(j->req), e.text);
        count("put", "error");
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL,
                       "the document could not be stored");
        goto done;
    }
    snprintf(addr, sizeof(addr), URN_PREFIX "%s", cid);
    snprintf(loc, sizeof(loc), "/v1/documents/%s", cid);
    body = json_pack("{s:s, s:s, s:I}", "address", addr, "cid", cid,
                     "size", (json_int_t)j->len);
    hlf_log(HLF_LOG_INFO, "documents", "rid=%s stored %s (%zu bytes)",
            gw_req_id(j->req), cid, j->len);
    count("put", "ok");
    {
        gw_header_t h = {"Location", loc};

        gw_reply_json(j->req, 201, body, &h, 1);
    }
done:
    put_job_free(j);
}

static int
post_document(gw_req_t *req)
{
    const char *data;
    size_t len = 0;
    put_job_t *j;

    data = gw_req_body(req, &len);
    if (len > g_max_bytes) {
        count("put", "too_large");
        return gw_reply_error(req, GW_ERR_PAYLOAD_TOO_LARGE, NULL,
                              "document of %zu bytes exceeds the limit of "
                              "%zu (documents_max_bytes)", len,
                              g_max_bytes);
    }
    j = hlf_calloc(1, sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    j->req = req;
    j->len = len;
    j->data = hlf_malloc(len > 0 ? len : 1);
    if (j->data == NULL) {
        put_job_free(j);
        return HLF_ENOMEM;
    }
    if (len > 0)
        memcpy(j->data, data, len);
    return gw_req_defer(req, put_job, j, put_job_free);
}

/*
 * Read the whole file at path into a new buffer (*out, hlf_free).
 * HLF_ENOTFOUND, HLF_EIO, HLF_ENOMEM.
 */
static int
read_file(const char *path, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd, rc;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? HLF_ENOTFOUND : HLF_EIO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
        rc = HLF_EIO;
        goto fail;
    }
    buf = hlf_malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = HLF_ENOMEM;
        goto fail;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = HLF_EIO;
            goto fail;
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = got;
    return HLF_OK;
fail:
    close(fd);
    hlf_free(buf);
    return rc;
}

static void
get_job(void *arg)
{
    get_job_t *j = arg;
    char path[4200], actual[GW_CID_BUFSZ], etag[GW_CID_BUFSZ + 2];
    char *data = NULL;
    size_t len = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", g_dir, j->cid);
    rc = read_file(path, &data, &len);
    if (rc == HLF_ENOTFOUND) {
        count("get", "not_found");
        gw_reply_error(j->req, GW_ERR_NOT_FOUND, "cid",
                       "no document with CID %s", j->cid);
        goto done;
    }
    if (rc == HLF_OK)
        rc = gw_cid_of_buffer(data, len, actual);
    if (rc != HLF_OK) {
        count("get", "error");
        gw_reply_error(j->req, GW_ERR_INTERNAL, NULL,
                       "the document could not be read");
        goto done;
    }
    if (strcmp(actual, j->cid) != 0) {
        json_t *err;

        hlf_log(HLF_LOG_ERROR, "documents", "rid=%s %s is corrupt: its "
                "content hashes to %s", gw_req_id(j->req), j->cid, actual);
        count("get", "corrupt");
        err = json_pack("{s:{s:s, s:s, s:s}}", "error", "code",
                        "DOCUMENT_CORRUPT", "field", "cid", "message",
                        "the stored document does not match its CID");
        gw_reply_json(j->req, 500, err, NULL, 0);
        goto done;
    }
    snprintf(etag, sizeof(etag), "\"%s\"", j->cid);
    count(j->head ? "head" : "get", "ok");
    {
        const gw_header_t h[] = {
            {"ETag", etag},
            {"X-Content-Type-Options", "nosniff"},
            {"Cache-Control", "public, max-age=31536000, immutable"},
        };

        gw_reply_raw(j->req, 200, "application/octet-stream", data, len, h,
                     sizeof(h) / sizeof(h[0]));
    }
done:
    hlf_free(data);
    hlf_free(j);
}

static int
get_document(gw_req_t *req)
{
    const char *cid = gw_req_param(req, "cid");
    get_job_t *j;

    /* Either the bare CID or its full urn:ipfs: address. */
    if (cid != NULL && strncmp(cid, URN_PREFIX, strlen(URN_PREFIX)) == 0)
        cid += strlen(URN_PREFIX);
    if (!gw_cid_is_valid(cid)) {
        count("get", "bad_cid");
        return gw_reply_error(req, GW_ERR_BAD_REQUEST, "cid",
                              "not a CIDv0 (Qm + 44 base58btc characters "
                              "of a sha2-256 multihash)");
    }
    j = hlf_calloc(1, sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    j->req = req;
    j->head = strcmp(gw_req_method(req), "HEAD") == 0;
    memcpy(j->cid, cid, GW_CID_BUFSZ);
    return gw_req_defer(req, get_job, j, hlf_free);
}

static int
documents_init(const gw_config_t *cfg, hlf_error_t *err)
{
    int rc;

    g_max_bytes = cfg->documents_max_bytes;
    if (snprintf(g_dir, sizeof(g_dir), "%s/documents", cfg->state_dir) >=
        (int)sizeof(g_dir))
        return hlf_error_set(err, HLF_ECONFIG, "state_dir is too long");
    m_docs = gw_metric_register(GW_METRIC_COUNTER, "documents_total",
                                "Off-chain document requests by operation "
                                "and result", "op,result", NULL, 0);
    if (m_docs == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "documents metric");
    rc = gw_http_route("POST", "/v1/documents", post_document,
                       GW_ROUTE_AUTH | GW_ROUTE_DOCUMENT);
    if (rc == HLF_OK)
        rc = gw_http_route("GET", "/v1/documents/{cid}", get_document,
                           GW_ROUTE_AUTH);
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "documents routes");
    return HLF_OK;
}

static int
documents_start(const gw_config_t *cfg, hlf_error_t *err)
{
    (void)cfg;
    if (mkdir(g_dir, 0700) != 0 && errno != EEXIST)
        return hlf_error_set(err, HLF_EIO, "mkdir %s: %s", g_dir,
                             strerror(errno));
    return HLF_OK;
}

const gw_module_t gw_module_documents = {
    "documents",
    documents_init,
    documents_start,
    NULL,
};
