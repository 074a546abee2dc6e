/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read functions. GetEvent(TransactionId) reads one event by its
 * key. GetSubjectHistory(EventSubject) plays a subject's events back in
 * chronological order with one partial-composite-key range over the
 * subject index: the index key's time attribute is fixed-width, so the
 * peer's key order is (seconds, nanoseconds, TransactionId) order
 * (reso-model.md §6 rule 5).
 */
#include "evl_contract.h"

#include <stdlib.h>
#include <string.h>

/*
 * Canonical (lower-case) form of a UUID written in either case, or -1 if
 * arg is not 8-4-4-4-12 hex digits.
 */
static int
canonical_uuid(const uint8_t *arg, size_t len, char out[EVL_UUID_LEN + 1])
{
    size_t i;
    char c;

    if (len != EVL_UUID_LEN)
        return -1;
    for (i = 0; i < len; i++) {
        c = (char)arg[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return -1;
        } else if (c >= 'A' && c <= 'F') {
            c = (char)(c - 'A' + 'a');
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return -1;
        }
        out[i] = c;
    }
    out[len] = '\0';
    return 0;
}

hlf_response_t
evl_tx_get_event(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    char id[EVL_UUID_LEN + 1], shown[EVL_ECHO_SIZE];
    const char *attrs[1] = {id}, *key = NULL;
    const uint8_t *val = NULL;
    size_t val_len = 0;
    evl_reject_t rej;
    int rc;

    if (canonical_uuid(arg, len, id) != 0) {
        evl_echo((const char *)arg, len, shown, sizeof(shown));
        evl_reject(&rej, EVL_INVALID_ARGUMENTS, "TransactionId", (size_t)-1,
                   "'%s' is not a TransactionId; expected a UUID such as "
                   "6991d580-c6c3-8ceb-90a5-a40c89fb0224",
                   shown);
        return evl_respond_reject(stub, &rej);
    }
    rc = hlf_stub_create_composite_key(stub, EVL_KEY_EVENT, attrs, 1, &key);
    if (rc != HLF_OK)
        return evl_respond_internal(stub, rc, "cannot build the event key");
    rc = hlf_stub_get_state(stub, key, &val, &val_len);
    if (rc != HLF_OK)
        return evl_respond_internal(stub, rc, "cannot read the event");
    if (val == NULL || val_len == 0) {
        evl_reject(&rej, EVL_EVENT_NOT_FOUND, NULL, 0,
                   "no event with TransactionId %s is recorded", id);
        return evl_respond_reject(stub, &rej);
    }
    return evl_respond_ok(stub, (const char *)val, val_len);
}

/*
 * The history argument must be an EventSubject that RecordEvent could
 * have accepted, with the same codes and fields (INVALID_VALUE, then
 * INVALID_IDENTIFIER) so a client sees one rule for one field.
 */
static int
check_subject(const uint8_t *arg, size_t len, evl_reject_t *rej)
{
    const evl_field_t *f = evl_field_find("EventSubject");
    const char *s = (const char *)arg;

    if (len == 0 || len > EVL_MAX_VALUE_LEN)
        return evl_reject(rej, EVL_INVALID_VALUE, f->name, (size_t)-1,
                          "EventSubject must be 1 to %d bytes long, got %zu "
                          "bytes",
                          EVL_MAX_VALUE_LEN, len);
    if (memchr(s, '\0', len) != NULL || !evl_utf8_valid(s, len))
        return evl_reject(rej, EVL_INVALID_VALUE, f->name, (size_t)-1,
                          "EventSubject must be UTF-8 text without NUL "
                          "characters");
    return evl_check_identifier(f, s, len, rej);
}

/*
 * A growable output buffer. It has no cap of its own: a history is
 * bounded by what the peer returns to one query.
 */
struct out {
    char *buf;
    size_t len, cap;
};

static int
out_put(struct out *o, const void *p, size_t n)
{
    size_t cap;
    char *nb;

    if (n > SIZE_MAX - o->len - 1)
        return HLF_ETOOBIG;
    if (o->len + n + 1 > o->cap) {
        cap = o->cap ? o->cap : 1024;
        while (cap < o->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? o->len + n + 1 : cap * 2;
        nb = realloc(o->buf, cap);
        if (nb == NULL)
            return HLF_ENOMEM;
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    o->buf[o->len] = '\0';
    return HLF_OK;
}

hlf_response_t
evl_tx_get_subject_history(hlf_stub_t *stub, const uint8_t *arg, size_t len)
{
    const char *attrs[1] = {(const char *)arg};
    struct out o = {NULL, 0, 0};
    hlf_iter_t *it = NULL;
    evl_reject_t rej;
    hlf_response_t resp;
    hlf_kv_t kv;
    size_t count = 0;
    int rc;

    rc = check_subject(arg, len, &rej);
    if (rc != HLF_OK)
        return evl_respond_reject(stub, &rej);
    rc = hlf_stub_get_state_by_partial_composite_key(stub, EVL_KEY_SUBJECT,
                                                     attrs, 1, &it);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "cannot query the history");
        goto out;
    }
    rc = out_put(&o, "[", 1);
    /*
     * Each value is a stored event, already compact canonical JSON, so
     * the array is assembled without re-parsing.
     */
    while (rc == HLF_OK) {
        rc = hlf_iter_next(it, &kv);
        if (rc <= 0)
            break;
        rc = HLF_OK;
        if (kv.value_len == 0)
            continue;
        if (count > 0)
            rc = out_put(&o, ",", 1);
        if (rc == HLF_OK)
            rc = out_put(&o, kv.value, kv.value_len);
        count++;
    }
    if (rc == HLF_OK)
        rc = out_put(&o, "]", 1);
    if (rc != HLF_OK) {
        resp = evl_respond_internal(stub, rc, "cannot read the history");
        goto out;
    }
    resp = evl_respond_ok(stub, o.buf, o.len);
out:
    hlf_iter_close(it);
    free(o.buf);
    return resp;
}
