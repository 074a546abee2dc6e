/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The follower's checkpoint: the (block, transaction index) of the last
 * transaction of a channel whose event, if any, was published. It lives
 * in <state_dir>/checkpoint-<channel>.json as one JSON object
 *
 *   {"channel":"reso-events","block":12,"tx_index":3,"sequence":786435}
 *
 * and is replaced atomically (temporary file, fsync, rename, fsync of the
 * directory), so a crash or kill -9 at any moment leaves either the old
 * or the new checkpoint, never a torn one. A file that exists but does
 * not parse is an error: guessing a position would either repeat or skip
 * events.
 */
#include "hub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest checkpoint file we accept; a real one is < 200 bytes. */
#define CKPT_MAX_BYTES 4096

static int
channel_ok(const char *channel)
{
    size_t i, n;

    if (channel == NULL)
        return 0;
    n = strlen(channel);
    if (n == 0 || n > 200 || strcmp(channel, ".") == 0 ||
        strcmp(channel, "..") == 0)
        return 0;
    for (i = 0; i < n; i++) {
        char c = channel[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int
ckpt_path(const char *dir, const char *channel, char *buf, size_t n,
          hlf_error_t *err)
{
    int len;

    if (dir == NULL || !channel_ok(channel))
        return hlf_error_set(err, HLF_EINVAL,
                             "checkpoint: bad state dir or channel name");
    len = snprintf(buf, n, "%s/checkpoint-%s.json", dir, channel);
    if (len < 0 || (size_t)len >= n)
        return hlf_error_set(err, HLF_EINVAL,
                             "checkpoint: state dir path too long");
    return HLF_OK;
}

/* Read at most CKPT_MAX_BYTES of path into buf (NUL-terminated). */
static int
read_small(const char *path, char *buf, size_t cap, size_t *len,
           hlf_error_t *err)
{
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            return HLF_ENOTFOUND;
        return hlf_error_set(err, HLF_EIO, "checkpoint %s: %s", path,
                             strerror(errno));
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;

            close(fd);
            return hlf_error_set(err, HLF_EIO, "checkpoint %s: %s", path,
                                 strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap - 1) {
            close(fd);
            return hlf_error_set(err, HLF_EPROTO,
                                 "checkpoint %s: larger than %zu bytes",
                                 path, cap - 1);
        }
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return HLF_OK;
}

int
gw_checkpoint_load(const char *dir, const char *channel, gw_checkpoint_t *cp,
                   hlf_error_t *err)
{
    char path[4096], buf[CKPT_MAX_BYTES + 1];
    json_t *root = NULL, *jb, *jt, *jc, *js;
    json_error_t jerr;
    size_t len = 0;
    json_int_t b, t;
    int rc;

    if (cp == NULL)
        return hlf_error_set(err, HLF_EINVAL, "checkpoint: NULL argument");
    memset(cp, 0, sizeof(*cp));
    rc = ckpt_path(dir, channel, path, sizeof(path), err);
    if (rc != HLF_OK)
        return rc;
    rc = read_small(path, buf, sizeof(buf), &len, err);
    if (rc == HLF_ENOTFOUND)
        return HLF_OK;
    if (rc != HLF_OK)
        return rc;
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        rc = hlf_error_set(err, HLF_EPROTO, "checkpoint %s: not JSON: %s",
                           path, jerr.text);
        goto fail;
    }
    jc = json_object_get(root, "channel");
    jb = json_object_get(root, "block");
    jt = json_object_get(root, "tx_index");
    js = json_object_get(root, "sequence");
    if (!json_is_string(jc) || strcmp(json_string_value(jc), channel) != 0) {
        rc = hlf_error_set(err, HLF_EPROTO,
                           "checkpoint %s: not for channel %s", path,
                           channel);
        goto fail;
    }
    if (!json_is_integer(jb) || !json_is_integer(jt) ||
        !json_is_integer(js)) {
        rc = hlf_error_set(err, HLF_EPROTO, "checkpoint %s: block, "
                           "tx_index and sequence must be integers", path);
        goto fail;
    }
    b = json_integer_value(jb);
    t = json_integer_value(jt);
    if (b < 0 || b >= ((json_int_t)1 << 47) || t < 0 ||
        t > (json_int_t)GW_SEQ_TX_MAX ||
        json_integer_value(js) != (json_int_t)GW_SEQ(b, t)) {
        rc = hlf_error_set(err, HLF_EPROTO, "checkpoint %s: inconsistent "
                           "block/tx_index/sequence", path);
        goto fail;
    }
    cp->valid = 1;
    cp->block = (uint64_t)b;
    cp->tx_index = (uint32_t)t;
    rc = HLF_OK;
fail:
    json_decref(root);
    return rc;
}

int
gw_checkpoint_save(const char *dir, const char *channel,
                   const gw_checkpoint_t *cp, hlf_error_t *err)
{
    char path[4096], text[512];
    int n, rc;

    if (cp == NULL || !cp->valid || cp->tx_index > GW_SEQ_TX_MAX ||
        cp->block >= ((uint64_t)1 << 47))
        return hlf_error_set(err, HLF_EINVAL, "checkpoint: invalid value");
    rc = ckpt_path(dir, channel, path, sizeof(path), err);
    if (rc != HLF_OK)
        return rc;
    n = snprintf(text, sizeof(text),
                 "{\"channel\":\"%s\",\"block\":%llu,\"tx_index\":%u,"
                 "\"sequence\":%llu}\n", channel,
                 (unsigned long long)cp->block, (unsigned)cp->tx_index,
                 (unsigned long long)GW_SEQ(cp->block, cp->tx_index));
    rc = gw_write_file_atomic(path, text, (size_t)n, 0600, err);
    if (rc != HLF_OK)
        hlf_error_prefix(err, "checkpoint");
    return rc;
}
