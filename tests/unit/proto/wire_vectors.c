/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire vectors: build, serialize and check one instance of every hlf_proto
 * message type (see wire_vectors.h for the manifest format).
 *
 * Generation walks each protobuf-c descriptor and fills every field from a
 * running counter, so each value in the whole vector set is different: a
 * field decoded into its neighbour's slot, or two fields with swapped
 * numbers, can never compare equal by accident. The values are chosen to
 * exercise the encodings that differ between careless implementations:
 * negative int32 (ten-byte varints), uint32 above 2^31, uint64 above 2^63
 * (yet exactly representable as a double, because the official Node
 * classes return 64-bit fields as JavaScript numbers), non-zero enums,
 * strings with two-, three- and four-byte UTF-8 sequences, bytes holding
 * 0x00 and 0xff, two items in every repeated field and two entries in
 * every map.
 */
#include "wire_vectors.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.pb-c.h"
#include "gateway/gateway.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "hlf/crypto.h"
#include "ledger/queryresult/kv_query_result.pb-c.h"
#include "ledger/rwset/kvrwset/kv_rwset.pb-c.h"
#include "ledger/rwset/rwset.pb-c.h"
#include "msp/identities.pb-c.h"
#include "orderer/ab.pb-c.h"
#include "peer/chaincode.pb-c.h"
#include "peer/chaincode_event.pb-c.h"
#include "peer/chaincode_shim.pb-c.h"
#include "peer/events.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "peer/proposal_response.pb-c.h"
#include "peer/transaction.pb-c.h"

/* Items in every repeated field and entries in every map. */
#define PV_REPEAT 2
/* No hlf_proto type nests deeper; a deeper walk means a recursive type. */
#define PV_MAX_DEPTH 12
#define PV_PATH_MAX 1024
#define PV_MAX_FILE (16u * 1024u * 1024u)
/* What google.protobuf.Any instances carry, as the gateway's errors do. */
#define PV_ANY_TYPE "gateway.ErrorDetail"
#define PV_ANY_URL "type.googleapis.com/" PV_ANY_TYPE

/* Keep in the order of proto/CMakeLists.txt, one line per message. */
const ProtobufCMessageDescriptor *const pv_messages[] = {
    &common__last_config__descriptor,
    &common__metadata__descriptor,
    &common__metadata_signature__descriptor,
    &common__header__descriptor,
    &common__channel_header__descriptor,
    &common__signature_header__descriptor,
    &common__payload__descriptor,
    &common__envelope__descriptor,
    &common__block__descriptor,
    &common__block_header__descriptor,
    &common__block_data__descriptor,
    &common__block_metadata__descriptor,
    &msp__serialized_identity__descriptor,
    &protos__chaincode_id__descriptor,
    &protos__chaincode_input__descriptor,
    &protos__chaincode_spec__descriptor,
    &protos__chaincode_invocation_spec__descriptor,
    &protos__chaincode_additional_params__descriptor,
    &protos__chaincode_event__descriptor,
    &protos__chaincode_message__descriptor,
    &protos__get_state__descriptor,
    &protos__get_state_metadata__descriptor,
    &protos__put_state__descriptor,
    &protos__put_state_metadata__descriptor,
    &protos__del_state__descriptor,
    &protos__get_state_by_range__descriptor,
    &protos__get_query_result__descriptor,
    &protos__query_metadata__descriptor,
    &protos__get_history_for_key__descriptor,
    &protos__query_state_next__descriptor,
    &protos__query_state_close__descriptor,
    &protos__query_result_bytes__descriptor,
    &protos__query_response__descriptor,
    &protos__query_response_metadata__descriptor,
    &protos__state_metadata__descriptor,
    &protos__state_metadata_result__descriptor,
    &protos__signed_proposal__descriptor,
    &protos__proposal__descriptor,
    &protos__chaincode_header_extension__descriptor,
    &protos__chaincode_proposal_payload__descriptor,
    &protos__chaincode_action__descriptor,
    &protos__proposal_response__descriptor,
    &protos__response__descriptor,
    &protos__proposal_response_payload__descriptor,
    &protos__endorsement__descriptor,
    &protos__transaction__descriptor,
    &protos__transaction_action__descriptor,
    &protos__chaincode_action_payload__descriptor,
    &protos__chaincode_endorsed_action__descriptor,
    &protos__filtered_block__descriptor,
    &protos__filtered_transaction__descriptor,
    &protos__filtered_transaction_actions__descriptor,
    &protos__filtered_chaincode_action__descriptor,
    &protos__deliver_response__descriptor,
    &orderer__broadcast_response__descriptor,
    &orderer__seek_newest__descriptor,
    &orderer__seek_oldest__descriptor,
    &orderer__seek_specified__descriptor,
    &orderer__seek_next_commit__descriptor,
    &orderer__seek_position__descriptor,
    &orderer__seek_info__descriptor,
    &orderer__deliver_response__descriptor,
    &gateway__endorse_request__descriptor,
    &gateway__endorse_response__descriptor,
    &gateway__submit_request__descriptor,
    &gateway__submit_response__descriptor,
    &gateway__signed_commit_status_request__descriptor,
    &gateway__commit_status_request__descriptor,
    &gateway__commit_status_response__descriptor,
    &gateway__evaluate_request__descriptor,
    &gateway__evaluate_response__descriptor,
    &gateway__signed_chaincode_events_request__descriptor,
    &gateway__chaincode_events_request__descriptor,
    &gateway__chaincode_events_response__descriptor,
    &gateway__error_detail__descriptor,
    &queryresult__kv__descriptor,
    &queryresult__key_modification__descriptor,
    &rwset__tx_read_write_set__descriptor,
    &rwset__ns_read_write_set__descriptor,
    &rwset__collection_hashed_read_write_set__descriptor,
    &kvrwset__kvrwset__descriptor,
    &kvrwset__kvread__descriptor,
    &kvrwset__kvwrite__descriptor,
    &kvrwset__kvmetadata_write__descriptor,
    &kvrwset__kvmetadata_entry__descriptor,
    &kvrwset__version__descriptor,
    &google__rpc__status__descriptor,
    &google__protobuf__timestamp__descriptor,
    &google__protobuf__any__descriptor,
};
const size_t pv_n_messages = sizeof(pv_messages) / sizeof(pv_messages[0]);

const ProtobufCMessageDescriptor *
pv_find_message(const char *full_name)
{
    size_t i;

    for (i = 0; i < pv_n_messages; i++) {
        if (strcmp(pv_messages[i]->name, full_name) == 0)
            return pv_messages[i];
    }
    return NULL;
}

/* ---- Field layout helpers ---------------------------------------------- */

/* Size of one element of a repeated field of type t; 0 if unsupported. */
static size_t
elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        /* Floating point: no Fabric message uses it, so no value scheme. */
        return 0;
    }
}

/*
 * protobuf-c has no map flag: a map is a repeated field whose element type
 * is the nested "<Parent>.<Name>Entry" message with fields key=1, value=2.
 */
static int
is_map_field(const ProtobufCMessageDescriptor *owner,
             const ProtobufCFieldDescriptor *fd)
{
    const ProtobufCMessageDescriptor *sub = fd->descriptor;
    size_t olen = strlen(owner->name), slen;

    if (fd->label != PROTOBUF_C_LABEL_REPEATED ||
        fd->type != PROTOBUF_C_TYPE_MESSAGE || sub->n_fields != 2)
        return 0;
    slen = strlen(sub->name);
    return strncmp(sub->name, owner->name, olen) == 0 &&
           sub->name[olen] == '.' && slen > 5 &&
           strcmp(sub->name + slen - 5, "Entry") == 0 &&
           sub->fields[0].id == 1 && sub->fields[1].id == 2;
}

/* Position of fd among the arms of its oneof, and the number of arms. */
static void
oneof_arm(const ProtobufCMessageDescriptor *d,
          const ProtobufCFieldDescriptor *fd, unsigned *idx, unsigned *n)
{
    unsigned i;

    *idx = 0;
    *n = 0;
    for (i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];

        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
            f->quantifier_offset != fd->quantifier_offset)
            continue;
        if (f == fd)
            *idx = *n;
        (*n)++;
    }
}

/* Whether instance `choice` of d sets oneof arm fd. */
static int
oneof_chosen(const ProtobufCMessageDescriptor *d,
             const ProtobufCFieldDescriptor *fd, unsigned choice)
{
    unsigned idx, n;

    oneof_arm(d, fd, &idx, &n);
    return idx == choice % n;
}

/* Instances needed so that every arm of every oneof of d is set once. */
static unsigned
instance_count(const ProtobufCMessageDescriptor *d)
{
    unsigned i, idx, n, most = 1;

    for (i = 0; i < d->n_fields; i++) {
        if (!(d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        oneof_arm(d, &d->fields[i], &idx, &n);
        if (n > most)
            most = n;
    }
    return most;
}

/* ---- Small I/O helpers ------------------------------------------------- */

static int
join_path(char *out, size_t cap, const char *dir, const char *name,
          hlf_error_t *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= cap)
        return hlf_error_set(err, HLF_EINVAL, "path too long: %s/%s", dir,
                             name);
    return HLF_OK;
}

static int
write_file(const char *path, const void *buf, size_t len, hlf_error_t *err)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        return hlf_error_set(err, HLF_EIO, "cannot create %s: %s", path,
                             strerror(errno));
    if (len > 0 && fwrite(buf, 1, len, f) != len) {
        fclose(f);
        return hlf_error_set(err, HLF_EIO, "cannot write %s", path);
    }
    if (fclose(f) != 0)
        return hlf_error_set(err, HLF_EIO, "cannot write %s: %s", path,
                             strerror(errno));
    return HLF_OK;
}

/* Read a whole file into *buf (new, free()) of *len bytes. */
static int
read_file(const char *path, uint8_t **buf, size_t *len, hlf_error_t *err)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t n = 0, cap = 0, got;
    int rc;

    if (f == NULL)
        return hlf_error_set(err, HLF_EIO, "cannot open %s: %s", path,
                             strerror(errno));
    for (;;) {
        if (n == cap) {
            uint8_t *bigger;

            if (cap >= PV_MAX_FILE) {
                rc = hlf_error_set(err, HLF_ETOOBIG, "%s is over %u bytes",
                                   path, PV_MAX_FILE);
                goto fail;
            }
            cap = cap ? cap * 2 : 4096;
            bigger = realloc(data, cap);
            if (bigger == NULL) {
                rc = hlf_error_set(err, HLF_ENOMEM, "reading %s", path);
                goto fail;
            }
            data = bigger;
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = hlf_error_set(err, HLF_EIO, "cannot read %s", path);
        goto fail;
    }
    fclose(f);
    *buf = data;
    *len = n;
    return HLF_OK;

fail:
    fclose(f);
    free(data);
    return rc;
}

/* New JSON string of lower-case hex; NULL when out of memory. */
static json_t *
hex_json(const uint8_t *data, size_t len)
{
    char *hex = malloc(2 * len + 1);
    json_t *j;

    if (hex == NULL)
        return NULL;
    hlf_hex_encode(data, len, hex);
    j = json_string(hex);
    free(hex);
    return j;
}

/* ---- Generation -------------------------------------------------------- */

typedef struct {
    unsigned seq;      /* bumped for every value, so all values differ */
    hlf_error_t *err;
} pv_gen_t;

static int gen_message(pv_gen_t *g, const ProtobufCMessageDescriptor *d,
                       unsigned choice, int depth, ProtobufCMessage **out,
                       json_t **jout);

static int
nomem(pv_gen_t *g, const char *what)
{
    return hlf_error_set(g->err, HLF_ENOMEM, "out of memory: %s", what);
}

/* {"t": t, "v": integer}, new. */
static json_t *
jv_int(const char *t, json_int_t v)
{
    return json_pack("{s:s, s:I}", "t", t, "v", v);
}

/* {"t": t, "v": "<decimal>"}, new: 64-bit values travel as strings. */
static json_t *
jv_dec(const char *t, const char *fmt, ...)
{
    char buf[32];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return json_pack("{s:s, s:s}", "t", t, "v", buf);
}

/* A non-zero value of the enum, varied by s; the zero value if it is alone. */
static const ProtobufCEnumValue *
pick_enum(const ProtobufCEnumDescriptor *ed, unsigned s)
{
    unsigned i, nonzero = 0, want;

    for (i = 0; i < ed->n_values; i++)
        nonzero += ed->values[i].value != 0;
    if (nonzero == 0)
        return &ed->values[0];
    want = s % nonzero;
    for (i = 0; i < ed->n_values; i++) {
        if (ed->values[i].value != 0 && want-- == 0)
            return &ed->values[i];
    }
    return &ed->values[0];
}

/* Distinctive bytes: always 0x00 and 0xff, then the counter, 6..10 long. */
static int
gen_bytes(pv_gen_t *g, unsigned s, ProtobufCBinaryData *bd, json_t **jout)
{
    static const uint8_t tail[] = {0x80, 0x01, 0xfe, 0x7f, 0x00, 0xff};
    size_t len = 6 + s % 5;
    uint8_t *p = malloc(len);

    if (p == NULL)
        return nomem(g, "bytes");
    p[0] = 0x00;
    p[1] = 0xff;
    p[2] = (uint8_t)(s & 0xff);
    p[3] = (uint8_t)((s >> 8) & 0xff);
    memcpy(p + 4, tail, len - 4);
    bd->data = p;
    bd->len = len;
    *jout = json_pack("{s:s, s:o}", "t", "bytes", "hex", hex_json(p, len));
    return *jout ? HLF_OK : nomem(g, "bytes json");
}

/* Fill one non-message value of fd's type into slot. */
static int
gen_scalar(pv_gen_t *g, const ProtobufCMessageDescriptor *owner,
           const ProtobufCFieldDescriptor *fd, void *slot, json_t **jout)
{
    /* Timestamps get valid values: Fabric rejects negative nanos. */
    int is_ts = owner == &google__protobuf__timestamp__descriptor;
    unsigned s = ++g->seq;
    char buf[160];

    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        int32_t v = is_ts ? (int32_t)(100000000 + s)
                          : -(int32_t)(100000 + 7 * s);

        memcpy(slot, &v, sizeof(v));
        *jout = jv_int("int32", v);
        break;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t v = 3000000000u + s;

        memcpy(slot, &v, sizeof(v));
        *jout = jv_int("uint32", v);
        break;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v = is_ts ? INT64_C(1700000000) + s
                          : -(INT64_C(1) << 50) - (int64_t)s;

        memcpy(slot, &v, sizeof(v));
        *jout = jv_dec("int64", "%" PRId64, v);
        break;
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        /* Above 2^63, with no bits below 2^11 so a double holds it. */
        uint64_t v = (UINT64_C(1) << 63) + ((uint64_t)s << 11);

        memcpy(slot, &v, sizeof(v));
        *jout = jv_dec("uint64", "%" PRIu64, v);
        break;
    }
    case PROTOBUF_C_TYPE_BOOL: {
        protobuf_c_boolean v = 1;

        memcpy(slot, &v, sizeof(v));
        *jout = json_pack("{s:s, s:b}", "t", "bool", "v", 1);
        break;
    }
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev = pick_enum(fd->descriptor, s);
        int v = ev->value;

        memcpy(slot, &v, sizeof(v));
        *jout = json_pack("{s:s, s:i, s:s}", "t", "enum", "v", v, "name",
                          ev->name);
        /* Say so when zero is the enum's only value (rwset.DataModel). */
        if (*jout != NULL && v == 0 &&
            json_object_set_new(*jout, "sole_value", json_true()) != 0)
            return nomem(g, "enum json");
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        /* U+00FC, U+20AC and U+1D11E: two-, three- and four-byte UTF-8. */
        int n = snprintf(buf, sizeof(buf),
                         "%s-\xc3\xbc\xe2\x82\xac\xf0\x9d\x84\x9e-%06u",
                         fd->name, s);
        char *p;

        if (n < 0 || (size_t)n >= sizeof(buf))
            return hlf_error_set(g->err, HLF_EINVAL, "field name too long");
        p = malloc((size_t)n + 1);
        if (p == NULL)
            return nomem(g, "string");
        memcpy(p, buf, (size_t)n + 1);
        memcpy(slot, &p, sizeof(p));
        *jout = json_pack("{s:s, s:s}", "t", "string", "v", p);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return gen_bytes(g, s, slot, jout);
    default:
        return hlf_error_set(g->err, HLF_EINVAL,
                             "%s.%s: field type %d has no value scheme",
                             owner->name, fd->name, (int)fd->type);
    }
    return *jout ? HLF_OK : nomem(g, "value json");
}

/* One value (scalar or message) of fd into slot. */
static int
gen_value(pv_gen_t *g, const ProtobufCMessageDescriptor *owner,
          const ProtobufCFieldDescriptor *fd, void *slot, int depth,
          json_t **jout)
{
    ProtobufCMessage *sub = NULL;
    int rc;

    if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
        return gen_scalar(g, owner, fd, slot, jout);
    /* Nested oneofs pick their arm from the counter, so arms vary. */
    rc = gen_message(g, fd->descriptor, ++g->seq, depth + 1, &sub, jout);
    if (rc != HLF_OK)
        return rc;
    memcpy(slot, &sub, sizeof(sub));
    return HLF_OK;
}

/* A repeated field (or map) with PV_REPEAT elements. */
static int
gen_repeated(pv_gen_t *g, const ProtobufCMessageDescriptor *d,
             ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
             int depth, json_t *jv)
{
    int map = is_map_field(d, fd);
    json_t *list = json_object_get(jv, map ? "entries" : "items");
    size_t es = elem_size(fd->type), i;
    char *base = (char *)m;
    char *arr;
    int rc;

    if (es == 0)
        return hlf_error_set(g->err, HLF_EINVAL,
                             "%s.%s: field type %d has no value scheme",
                             d->name, fd->name, (int)fd->type);
    arr = calloc(PV_REPEAT, es);
    if (arr == NULL)
        return nomem(g, "repeated field");
    /* The message owns the zeroed array from here on, for cleanup. */
    memcpy(base + fd->offset, &arr, sizeof(arr));
    *(size_t *)(void *)(base + fd->quantifier_offset) = PV_REPEAT;
    for (i = 0; i < PV_REPEAT; i++) {
        json_t *item = NULL, *entry;

        rc = gen_value(g, d, fd, arr + i * es, depth, &item);
        if (rc != HLF_OK) {
            json_decref(item);
            return rc;
        }
        if (map) {
            json_t *f = json_object_get(item, "fields");

            entry = json_pack("{s:O, s:O}", "key", json_object_get(f, "key"),
                              "value", json_object_get(f, "value"));
            json_decref(item);
            item = entry;
        }
        if (item == NULL || json_array_append_new(list, item) != 0)
            return nomem(g, "repeated json");
    }
    return HLF_OK;
}

static int
gen_field(pv_gen_t *g, const ProtobufCMessageDescriptor *d,
          ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd, int depth,
          json_t **jout)
{
    char *base = (char *)m;
    json_t *jv = NULL;
    int rc;

    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        int map = is_map_field(d, fd);

        jv = json_pack("{s:s, s:[]}", "t", map ? "map" : "repeated",
                       map ? "entries" : "items");
        if (jv == NULL)
            return nomem(g, "repeated json");
        rc = gen_repeated(g, d, m, fd, depth, jv);
    } else {
        rc = gen_value(g, d, fd, base + fd->offset, depth, &jv);
        if (rc == HLF_OK && (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
            *(uint32_t *)(void *)(base + fd->quantifier_offset) = fd->id;
            rc = json_object_set_new(jv, "oneof", json_true());
        } else if (rc == HLF_OK && fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
                   fd->type != PROTOBUF_C_TYPE_MESSAGE &&
                   fd->type != PROTOBUF_C_TYPE_STRING) {
            *(protobuf_c_boolean *)(void *)(base + fd->quantifier_offset) = 1;
        }
    }
    if (rc == HLF_OK && json_object_set_new(jv, "number",
                                            json_integer(fd->id)) != 0)
        rc = nomem(g, "field json");
    if (rc != HLF_OK) {
        json_decref(jv);
        return rc;
    }
    *jout = jv;
    return HLF_OK;
}

/*
 * Any carries a real packed gateway.ErrorDetail, the way the gateway puts
 * error details into google.rpc.Status.
 */
static int
gen_any(pv_gen_t *g, Google__Protobuf__Any *any, int depth, json_t *fields)
{
    const ProtobufCMessageDescriptor *inner = pv_find_message(PV_ANY_TYPE);
    ProtobufCMessage *m = NULL;
    json_t *jm = NULL, *jv;
    int rc;

    any->type_url = strdup(PV_ANY_URL);
    if (any->type_url == NULL)
        return nomem(g, "type_url");
    rc = gen_message(g, inner, 0, depth + 1, &m, &jm);
    if (rc != HLF_OK)
        return rc;
    any->value.len = protobuf_c_message_get_packed_size(m);
    any->value.data = malloc(any->value.len);
    if (any->value.data == NULL) {
        rc = nomem(g, "any value");
        goto done;
    }
    protobuf_c_message_pack(m, any->value.data);
    jv = json_pack("{s:s, s:i}", "t", "string", "number", 1);
    if (jv == NULL || json_object_set_new(jv, "v", json_string(PV_ANY_URL)) ||
        json_object_set_new(fields, "type_url", jv)) {
        rc = nomem(g, "any json");
        goto done;
    }
    jv = json_pack("{s:s, s:o, s:O, s:i}", "t", "bytes", "hex",
                   hex_json(any->value.data, any->value.len), "packed", jm,
                   "number", 2);
    if (jv == NULL || json_object_set_new(fields, "value", jv) != 0)
        rc = nomem(g, "any json");

done:
    protobuf_c_message_free_unpacked(m, NULL);
    json_decref(jm);
    return rc;
}

/*
 * A new message of type d with every field set (for oneofs: the arm picked
 * by choice), and its manifest value. On failure nothing is returned and
 * everything built so far is freed.
 */
static int
gen_message(pv_gen_t *g, const ProtobufCMessageDescriptor *d,
            unsigned choice, int depth, ProtobufCMessage **out, json_t **jout)
{
    ProtobufCMessage *m = NULL;
    json_t *jm = NULL, *fields;
    unsigned i;
    int rc;

    if (depth > PV_MAX_DEPTH)
        return hlf_error_set(g->err, HLF_EINVAL, "%s nests too deep",
                             d->name);
    m = calloc(1, d->sizeof_message);
    jm = json_pack("{s:s, s:s, s:{}}", "t", "message", "type", d->name,
                   "fields");
    if (m == NULL || jm == NULL) {
        free(m);
        m = NULL;
        rc = nomem(g, d->name);
        goto fail;
    }
    d->message_init(m);
    fields = json_object_get(jm, "fields");
    if (d == &google__protobuf__any__descriptor) {
        rc = gen_any(g, (Google__Protobuf__Any *)m, depth, fields);
        if (rc != HLF_OK)
            goto fail;
    } else {
        for (i = 0; i < d->n_fields; i++) {
            const ProtobufCFieldDescriptor *fd = &d->fields[i];
            json_t *jv = NULL;

            if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                !oneof_chosen(d, fd, choice))
                continue;
            rc = gen_field(g, d, m, fd, depth, &jv);
            if (rc != HLF_OK)
                goto fail;
            if (json_object_set_new(fields, fd->name, jv) != 0) {
                rc = nomem(g, "fields json");
                goto fail;
            }
        }
    }
    *out = m;
    *jout = jm;
    return HLF_OK;

fail:
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    json_decref(jm);
    return rc;
}

/* Instance name: the type, plus the chosen arm when d has a oneof. */
static int
instance_name(const ProtobufCMessageDescriptor *d, unsigned choice,
              unsigned count, char *out, size_t cap)
{
    const char *arm = NULL;
    unsigned i;
    int n;

    for (i = 0; count > 1 && arm == NULL && i < d->n_fields; i++) {
        if ((d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            oneof_chosen(d, &d->fields[i], choice))
            arm = d->fields[i].name;
    }
    n = arm ? snprintf(out, cap, "%s.%s", d->name, arm)
            : snprintf(out, cap, "%s", d->name);
    return n < 0 || (size_t)n >= cap ? HLF_EINVAL : HLF_OK;
}

static int
gen_instance(pv_gen_t *g, const char *dir, const ProtobufCMessageDescriptor *d,
             unsigned choice, unsigned count, json_t *instances)
{
    char name[256], file[300], path[PV_PATH_MAX];
    ProtobufCMessage *m = NULL;
    json_t *jm = NULL, *inst;
    uint8_t *buf = NULL;
    size_t len;
    int rc;

    if (instance_name(d, choice, count, name, sizeof(name)) != HLF_OK)
        return hlf_error_set(g->err, HLF_EINVAL, "name of %s", d->name);
    snprintf(file, sizeof(file), "%s.bin", name);
    rc = join_path(path, sizeof(path), dir, file, g->err);
    if (rc != HLF_OK)
        return rc;
    rc = gen_message(g, d, choice, 0, &m, &jm);
    if (rc != HLF_OK)
        return rc;
    len = protobuf_c_message_get_packed_size(m);
    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        rc = nomem(g, "packed message");
        goto done;
    }
    if (protobuf_c_message_pack(m, buf) != len) {
        rc = hlf_error_set(g->err, HLF_EPROTO, "%s: packed size changed",
                           name);
        goto done;
    }
    rc = write_file(path, buf, len, g->err);
    if (rc != HLF_OK)
        goto done;
    inst = json_pack("{s:s, s:s, s:O}", "name", name, "file", file,
                     "message", jm);
    if (inst == NULL || json_array_append_new(instances, inst) != 0)
        rc = nomem(g, "manifest");

done:
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
    json_decref(jm);
    return rc;
}

int
pv_generate(const char *dir, size_t *n_written, hlf_error_t *err)
{
    pv_gen_t g = {0, err};
    char path[PV_PATH_MAX];
    json_t *manifest, *instances;
    size_t i;
    int rc;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return hlf_error_set(err, HLF_EIO, "cannot create %s: %s", dir,
                             strerror(errno));
    manifest = json_pack("{s:i, s:s, s:[]}", "version", 1, "generator",
                         "tests/unit/proto/proto_vectors (protobuf-c "
                         PROTOBUF_C_VERSION ")",
                         "instances");
    if (manifest == NULL)
        return nomem(&g, "manifest");
    instances = json_object_get(manifest, "instances");
    for (i = 0; i < pv_n_messages; i++) {
        unsigned k, count = instance_count(pv_messages[i]);

        for (k = 0; k < count; k++) {
            rc = gen_instance(&g, dir, pv_messages[i], k, count, instances);
            if (rc != HLF_OK)
                goto done;
        }
    }
    rc = join_path(path, sizeof(path), dir, PV_MANIFEST, err);
    if (rc != HLF_OK)
        goto done;
    if (json_dump_file(manifest, path, JSON_INDENT(1)) != 0) {
        rc = hlf_error_set(err, HLF_EIO, "cannot write %s", path);
        goto done;
    }
    if (n_written != NULL)
        *n_written = json_array_size(instances);

done:
    json_decref(manifest);
    return rc;
}

/* ---- Verification ------------------------------------------------------ */

typedef struct {
    FILE *report;          /* may be NULL: count only */
    const char *instance;
    unsigned mismatches;
} pv_chk_t;

static void check_message(pv_chk_t *c, const ProtobufCMessage *m,
                          json_t *jm, const char *path);

static void
mismatch(pv_chk_t *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
mismatch(pv_chk_t *c, const char *path, const char *fmt, ...)
{
    va_list ap;

    c->mismatches++;
    if (c->report == NULL)
        return;
    fprintf(c->report, "FAIL %s: %s: ", c->instance, path);
    va_start(ap, fmt);
    vfprintf(c->report, fmt, ap);
    va_end(ap);
    fputc('\n', c->report);
}

/*
 * Build a field path for messages. Paths only label reports, so a path
 * cut at PV_PATH_MAX is fine (vsnprintf keeps it NUL-terminated).
 */
static void
sub_path(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sub_path(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

/* The manifest's "t" of a value, "" when missing. */
static const char *
jv_type(json_t *jv)
{
    const char *t = json_string_value(json_object_get(jv, "t"));

    return t ? t : "";
}

/* The "t" a value of protobuf-c type t must have in the manifest. */
static const char *
manifest_type(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return "int32";
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return "uint32";
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return "int64";
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return "uint64";
    case PROTOBUF_C_TYPE_BOOL:
        return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return "enum";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "message";
    default:
        return "?";
    }
}

static void
check_bytes(pv_chk_t *c, const ProtobufCBinaryData *bd, json_t *jv,
            const char *path)
{
    const char *want = json_string_value(json_object_get(jv, "hex"));
    json_t *packed = json_object_get(jv, "packed");
    char *got = malloc(2 * bd->len + 1);
    char sub[PV_PATH_MAX];

    if (got == NULL) {
        mismatch(c, path, "out of memory");
        return;
    }
    hlf_hex_encode(bd->data, bd->len, got);
    if (want == NULL || strcmp(want, got) != 0)
        mismatch(c, path, "expected hex %s, got hex %s",
                 want ? want : "(none)", got);
    free(got);
    if (packed != NULL) {
        const char *type = json_string_value(json_object_get(packed, "type"));
        const ProtobufCMessageDescriptor *d =
            type ? pv_find_message(type) : NULL;
        ProtobufCMessage *inner;

        sub_path(sub, sizeof(sub), "%s<%s>", path, type ? type : "?");
        if (d == NULL) {
            mismatch(c, sub, "packed type unknown to hlf_proto");
            return;
        }
        inner = protobuf_c_message_unpack(d, NULL, bd->len, bd->data);
        if (inner == NULL) {
            mismatch(c, sub, "protobuf-c cannot decode the packed bytes");
            return;
        }
        check_message(c, inner, packed, sub);
        protobuf_c_message_free_unpacked(inner, NULL);
    }
}

/* Compare one value of fd's type at slot with the manifest value jv. */
static void
check_value(pv_chk_t *c, const ProtobufCFieldDescriptor *fd,
            const void *slot, json_t *jv, const char *path)
{
    const char *want_t = manifest_type(fd->type);
    json_int_t want = json_integer_value(json_object_get(jv, "v"));

    if (strcmp(jv_type(jv), want_t) != 0) {
        mismatch(c, path, "manifest says type \"%s\", proto/ says %s",
                 jv_type(jv), want_t);
        return;
    }
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t v;

        memcpy(&v, slot, sizeof(v));
        if (!json_is_integer(json_object_get(jv, "v")) || want != v)
            mismatch(c, path, "expected %" JSON_INTEGER_FORMAT ", got %d",
                     want, (int)v);
        break;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t v;

        memcpy(&v, slot, sizeof(v));
        if (!json_is_integer(json_object_get(jv, "v")) ||
            want != (json_int_t)v)
            mismatch(c, path, "expected %" JSON_INTEGER_FORMAT ", got %u",
                     want, (unsigned)v);
        break;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        /* Both sides write canonical decimal, so compare the text. */
        const char *want_s = json_string_value(json_object_get(jv, "v"));
        char got[24];
        uint64_t u;
        int64_t i;

        memcpy(&u, slot, sizeof(u));
        memcpy(&i, slot, sizeof(i));
        if (strcmp(want_t, "int64") == 0)
            snprintf(got, sizeof(got), "%" PRId64, i);
        else
            snprintf(got, sizeof(got), "%" PRIu64, u);
        if (want_s == NULL || strcmp(want_s, got) != 0)
            mismatch(c, path, "expected %s, got %s",
                     want_s ? want_s : "(none)", got);
        break;
    }
    case PROTOBUF_C_TYPE_BOOL: {
        protobuf_c_boolean v;

        memcpy(&v, slot, sizeof(v));
        if (!json_is_boolean(json_object_get(jv, "v")) ||
            json_is_true(json_object_get(jv, "v")) != (v != 0))
            mismatch(c, path, "expected %s, got %s",
                     json_is_true(json_object_get(jv, "v")) ? "true"
                                                            : "false",
                     v ? "true" : "false");
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *want_s = json_string_value(json_object_get(jv, "v"));
        const char *v;

        memcpy(&v, slot, sizeof(v));
        if (want_s == NULL || v == NULL || strcmp(want_s, v) != 0)
            mismatch(c, path, "expected \"%s\", got \"%s\"",
                     want_s ? want_s : "(none)", v ? v : "(null)");
        break;
    }
    case PROTOBUF_C_TYPE_BYTES:
        check_bytes(c, slot, jv, path);
        break;
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub;

        memcpy(&sub, slot, sizeof(sub));
        if (sub == NULL)
            mismatch(c, path, "expected a %s, got none",
                     json_string_value(json_object_get(jv, "type")));
        else
            check_message(c, sub, jv, path);
        break;
    }
    default:
        mismatch(c, path, "field type %d is not supported", (int)fd->type);
    }
}

/*
 * The manifest list under key ("items" or "entries") of a value of type t,
 * if it has n elements like the wire; otherwise report and return NULL.
 */
static json_t *
expect_list(pv_chk_t *c, json_t *jv, const char *t, const char *key,
            size_t n, const char *path)
{
    json_t *list = json_object_get(jv, key);

    if (strcmp(jv_type(jv), t) != 0 || !json_is_array(list)) {
        mismatch(c, path, "manifest value is not a %s", t);
        return NULL;
    }
    if (json_array_size(list) != n) {
        mismatch(c, path, "expected %zu %s, got %zu", json_array_size(list),
                 key, n);
        return NULL;
    }
    return list;
}

/* Map entries match by key, whatever their order on the wire. */
static void
check_map(pv_chk_t *c, const ProtobufCFieldDescriptor *fd,
          ProtobufCMessage *const *entries, size_t n, json_t *jv,
          const char *path)
{
    const ProtobufCMessageDescriptor *ed = fd->descriptor;
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    json_t *want = expect_list(c, jv, "map", "entries", n, path), *we;
    char sub[PV_PATH_MAX];
    size_t i, k;

    if (want == NULL)
        return;
    json_array_foreach(want, i, we) {
        json_t *jk = json_object_get(we, "key");
        const ProtobufCMessage *hit = NULL;

        for (k = 0; k < n && hit == NULL; k++) {
            pv_chk_t quiet = {NULL, c->instance, 0};

            check_value(&quiet, kf,
                        (const char *)entries[k] + kf->offset, jk, path);
            if (quiet.mismatches == 0)
                hit = entries[k];
        }
        sub_path(sub, sizeof(sub), "%s[%s]", path,
                 json_string_value(json_object_get(jk, "v")) ?
                 json_string_value(json_object_get(jk, "v")) : "?");
        if (hit == NULL)
            mismatch(c, sub, "expected map key, not on the wire");
        else
            check_value(c, vf, (const char *)hit + vf->offset,
                        json_object_get(we, "value"), sub);
    }
}

static void
check_repeated(pv_chk_t *c, const ProtobufCMessageDescriptor *d,
               const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
               json_t *jv, const char *path)
{
    const char *base = (const char *)m;
    size_t n = *(const size_t *)(const void *)(base + fd->quantifier_offset);
    const char *arr = *(char *const *)(const void *)(base + fd->offset);
    size_t es = elem_size(fd->type), i;
    char sub[PV_PATH_MAX];
    json_t *items, *item;

    if (is_map_field(d, fd)) {
        check_map(c, fd, (ProtobufCMessage *const *)(const void *)arr, n, jv,
                  path);
        return;
    }
    items = expect_list(c, jv, "repeated", "items", n, path);
    if (items == NULL)
        return;
    json_array_foreach(items, i, item) {
        sub_path(sub, sizeof(sub), "%s[%zu]", path, i);
        check_value(c, fd, arr + i * es, item, sub);
    }
}

/* A field the manifest does not list must be unset on the wire. */
static void
check_unset(pv_chk_t *c, const ProtobufCMessage *m,
            const ProtobufCFieldDescriptor *fd, const char *path)
{
    const char *base = (const char *)m;
    const void *slot = base + fd->offset;
    const void *q = base + fd->quantifier_offset;
    size_t es = elem_size(fd->type), i;
    static const uint8_t zero[sizeof(ProtobufCBinaryData)];

    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)q == fd->id)
            mismatch(c, path, "oneof arm set on the wire, not expected");
        return;
    }
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        if (*(const size_t *)q != 0)
            mismatch(c, path, "expected no items, got %zu",
                     *(const size_t *)q);
        return;
    }
    if (fd->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(char *const *)slot;

        if (s != NULL && *s != '\0')
            mismatch(c, path, "expected unset, got \"%s\"", s);
    } else if (fd->type == PROTOBUF_C_TYPE_BYTES) {
        const ProtobufCBinaryData *bd = slot;

        if (bd->len != 0)
            mismatch(c, path, "expected unset, got %zu bytes", bd->len);
    } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (*(ProtobufCMessage *const *)slot != NULL)
            mismatch(c, path, "expected unset, got a message");
    } else {
        for (i = 0; i < es && i < sizeof(zero); i++) {
            if (((const uint8_t *)slot)[i] != 0) {
                mismatch(c, path, "expected unset, got a non-zero value");
                break;
            }
        }
    }
}

static void
check_field(pv_chk_t *c, const ProtobufCMessageDescriptor *d,
            const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
            json_t *jv, const char *path)
{
    const char *base = (const char *)m;
    json_t *num = json_object_get(jv, "number");

    if (num != NULL && json_integer_value(num) != (json_int_t)fd->id) {
        mismatch(c, path, "manifest says field number %" JSON_INTEGER_FORMAT
                 ", proto/ says %u", json_integer_value(num), fd->id);
        return;
    }
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t got = *(const uint32_t *)(const void *)(base +
                                                       fd->quantifier_offset);

        if (got != fd->id) {
            mismatch(c, path, "expected oneof case %u, got %u", fd->id,
                     got);
            return;
        }
    } else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
               fd->type != PROTOBUF_C_TYPE_MESSAGE &&
               fd->type != PROTOBUF_C_TYPE_STRING &&
               !*(const protobuf_c_boolean *)(const void *)(
                   base + fd->quantifier_offset)) {
        mismatch(c, path, "expected a value, field not present");
        return;
    }
    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        check_repeated(c, d, m, fd, jv, path);
    else
        check_value(c, fd, base + fd->offset, jv, path);
}

static void
check_message(pv_chk_t *c, const ProtobufCMessage *m, json_t *jm,
              const char *path)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *type = json_string_value(json_object_get(jm, "type"));
    json_t *fields = json_object_get(jm, "fields"), *jv;
    char sub[PV_PATH_MAX];
    const char *key;
    unsigned i;

    if (type == NULL || strcmp(type, d->name) != 0) {
        mismatch(c, path, "expected message %s, decoded as %s",
                 type ? type : "(none)", d->name);
        return;
    }
    if (m->n_unknown_fields != 0)
        mismatch(c, path, "%u field(s) unknown to proto/ on the wire, first "
                 "field number %u", m->n_unknown_fields,
                 m->unknown_fields[0].tag);
    json_object_foreach(fields, key, jv) {
        if (protobuf_c_message_descriptor_get_field_by_name(d, key) == NULL)
            mismatch(c, path, "manifest field \"%s\" is not in proto/", key);
    }
    for (i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];

        sub_path(sub, sizeof(sub), "%s.%s", path, fd->name);
        jv = json_object_get(fields, fd->name);
        if (jv != NULL)
            check_field(c, d, m, fd, jv, sub);
        else
            check_unset(c, m, fd, sub);
    }
}

/* Manifest file names are plain names inside the vector directory. */
static int
safe_file_name(const char *s)
{
    return s != NULL && s[0] != '\0' && s[0] != '.' &&
           strchr(s, '/') == NULL;
}

/* Check one manifest instance; returns the number of mismatches. */
static unsigned
verify_instance(const char *dir, json_t *inst, FILE *report)
{
    const char *name = json_string_value(json_object_get(inst, "name"));
    const char *file = json_string_value(json_object_get(inst, "file"));
    json_t *jm = json_object_get(inst, "message");
    const char *type = json_string_value(json_object_get(jm, "type"));
    pv_chk_t c = {report, name ? name : "?", 0};
    const ProtobufCMessageDescriptor *d = type ? pv_find_message(type) : NULL;
    char path[PV_PATH_MAX];
    ProtobufCMessage *m;
    hlf_error_t e;
    uint8_t *buf = NULL;
    size_t len = 0;

    hlf_error_clear(&e);
    if (name == NULL || !safe_file_name(file) || type == NULL) {
        mismatch(&c, "manifest", "instance needs name, file and message");
        return c.mismatches;
    }
    if (d == NULL) {
        mismatch(&c, type, "message type unknown to hlf_proto");
        return c.mismatches;
    }
    if (join_path(path, sizeof(path), dir, file, &e) != HLF_OK ||
        read_file(path, &buf, &len, &e) != HLF_OK) {
        mismatch(&c, file, "%s", e.text);
        return c.mismatches;
    }
    m = protobuf_c_message_unpack(d, NULL, len, buf);
    if (m == NULL)
        mismatch(&c, file, "protobuf-c cannot decode %zu bytes as %s", len,
                 type);
    else
        check_message(&c, m, jm, type);
    protobuf_c_message_free_unpacked(m, NULL);
    free(buf);
    return c.mismatches;
}

int
pv_verify(const char *dir, FILE *report, size_t *n_ok, size_t *n_bad,
          hlf_error_t *err)
{
    char path[PV_PATH_MAX];
    json_error_t jerr;
    json_t *root, *instances, *inst;
    size_t i, ok = 0, bad = 0;
    int rc;

    if (n_ok != NULL)
        *n_ok = 0;
    if (n_bad != NULL)
        *n_bad = 0;
    rc = join_path(path, sizeof(path), dir, PV_MANIFEST, err);
    if (rc != HLF_OK)
        return rc;
    root = json_load_file(path, 0, &jerr);
    if (root == NULL)
        return hlf_error_set(err, HLF_EIO, "cannot load %s: %s (line %d)",
                             path, jerr.text, jerr.line);
    instances = json_object_get(root, "instances");
    if (!json_is_array(instances) || json_array_size(instances) == 0) {
        rc = hlf_error_set(err, HLF_EINVAL, "%s lists no instances", path);
        goto done;
    }
    json_array_foreach(instances, i, inst) {
        if (verify_instance(dir, inst, report) == 0)
            ok++;
        else
            bad++;
    }
    if (bad != 0)
        rc = hlf_error_set(err, HLF_EPROTO, "%zu of %zu instances differ",
                           bad, ok + bad);

done:
    if (n_ok != NULL)
        *n_ok = ok;
    if (n_bad != NULL)
        *n_bad = bad;
    json_decref(root);
    return rc;
}
