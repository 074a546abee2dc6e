/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the wire-vector engine (wire_vectors.c) on its own, without
 * Node: the C encoder and the C checker agree, the manifest holds the
 * distinctive values the interop test relies on, and the checker notices a
 * changed value, a field sent under another number, undecodable bytes and
 * a malformed manifest. The cross-implementation check is the ctest
 * proto_wire_compat.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "task.h"
#include "wire_vectors.h"

/* 89 message types; SeekPosition, protos.DeliverResponse and
 * orderer.DeliverResponse add 3 + 2 + 1 instances for their oneof arms. */
#define N_TYPES 89
#define N_INSTANCES 95

typedef struct {
    char dir[64];
    char *report;
    size_t report_len;
    size_t ok;
    size_t bad;
    int rc;
} fixture_t;

static void
make_vectors(fixture_t *f)
{
    hlf_error_t err;
    size_t n = 0;

    memset(f, 0, sizeof(*f));
    memcpy(f->dir, "/tmp/reso-pv-XXXXXX", sizeof("/tmp/reso-pv-XXXXXX"));
    ASSERT_NOT_NULL(mkdtemp(f->dir));
    ASSERT_EQ(pv_generate(f->dir, &n, &err), HLF_OK);
    ASSERT_EQ(n, N_INSTANCES);
}

static void
remove_vectors(fixture_t *f)
{
    char path[512];
    struct dirent *e;
    DIR *d = opendir(f->dir);

    ASSERT_NOT_NULL(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
        ASSERT_EQ(unlink(path), 0);
    }
    closedir(d);
    ASSERT_EQ(rmdir(f->dir), 0);
    free(f->report);
}

/* Run pv_verify, capturing its report. */
static void
verify(fixture_t *f)
{
    hlf_error_t err;
    FILE *mem;

    free(f->report);
    f->report = NULL;
    mem = open_memstream(&f->report, &f->report_len);
    ASSERT_NOT_NULL(mem);
    f->rc = pv_verify(f->dir, mem, &f->ok, &f->bad, &err);
    ASSERT_EQ(fclose(mem), 0);
}

static json_t *
load_manifest(fixture_t *f)
{
    char path[512];
    json_t *m;

    snprintf(path, sizeof(path), "%s/%s", f->dir, PV_MANIFEST);
    m = json_load_file(path, 0, NULL);
    ASSERT_NOT_NULL(m);
    return m;
}

static void
save_manifest(fixture_t *f, json_t *m)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", f->dir, PV_MANIFEST);
    ASSERT_EQ(json_dump_file(m, path, 0), 0);
}

/* Borrowed "fields" object of the named instance. */
static json_t *
fields_of(json_t *manifest, const char *name)
{
    json_t *inst;
    size_t i;

    json_array_foreach(json_object_get(manifest, "instances"), i, inst) {
        if (strcmp(json_string_value(json_object_get(inst, "name")), name) ==
            0)
            return json_object_get(json_object_get(inst, "message"),
                                   "fields");
    }
    TEST__FAIL("no instance %s", name);
    return NULL;
}

static const char *
field_str(json_t *fields, const char *field)
{
    return json_string_value(
        json_object_get(json_object_get(fields, field), "v"));
}

TEST_IMPL(generate_then_verify)
{
    fixture_t f;

    ASSERT_EQ(pv_n_messages, N_TYPES);
    make_vectors(&f);
    verify(&f);
    ASSERT_EQ(f.rc, HLF_OK);
    ASSERT_EQ(f.ok, N_INSTANCES);
    ASSERT_EQ(f.bad, 0);
    ASSERT_EQ(f.report_len, 0);
    remove_vectors(&f);
}

TEST_IMPL(manifest_values_are_distinctive)
{
    fixture_t f;
    json_t *m, *ch, *in, *st, *any;
    const char *hex;

    make_vectors(&f);
    m = load_manifest(&f);
    ch = fields_of(m, "common.ChannelHeader");
    ASSERT_EQ(json_integer_value(json_object_get(
                  json_object_get(ch, "channel_id"), "number")), 4);
    ASSERT_NOT_NULL(strstr(field_str(ch, "channel_id"), "\xc3\xbc"));
    ASSERT_NOT_NULL(strstr(field_str(ch, "channel_id"),
                           "\xf0\x9d\x84\x9e"));
    ASSERT(strtoull(field_str(ch, "epoch"), NULL, 10) >
           (UINT64_C(1) << 53));
    ASSERT(json_integer_value(json_object_get(
               json_object_get(ch, "version"), "v")) < 0);
    /* Bytes open with 0x00 0xff and are 6 to 10 bytes long. */
    hex = json_string_value(json_object_get(
        json_object_get(ch, "tls_cert_hash"), "hex"));
    ASSERT_EQ(strncmp(hex, "00ff", 4), 0);
    ASSERT_GE(strlen(hex), 12);
    ASSERT_LE(strlen(hex), 20);

    in = fields_of(m, "protos.ChaincodeInput");
    ASSERT_EQ(json_array_size(json_object_get(
                  json_object_get(in, "decorations"), "entries")), 2);
    ASSERT_EQ(json_array_size(json_object_get(
                  json_object_get(in, "args"), "items")), 2);
    ASSERT(json_is_true(json_object_get(json_object_get(in, "is_init"),
                                        "v")));

    st = fields_of(m, "google.rpc.Status");
    any = json_array_get(json_object_get(json_object_get(st, "details"),
                                         "items"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(json_object_get(
                          json_object_get(any, "fields"), "value"),
                          "packed"), "type")),
                  "gateway.ErrorDetail");
    ASSERT_STR_EQ(field_str(json_object_get(any, "fields"), "type_url"),
                  "type.googleapis.com/gateway.ErrorDetail");

    /* Every oneof arm has its own instance. */
    ASSERT_NOT_NULL(json_object_get(
        fields_of(m, "orderer.SeekPosition.next_commit"), "next_commit"));
    ASSERT_NOT_NULL(json_object_get(
        fields_of(m, "protos.DeliverResponse.filtered_block"),
        "filtered_block"));
    ASSERT_NULL(json_object_get(
        fields_of(m, "protos.DeliverResponse.filtered_block"), "block"));
    json_decref(m);
    remove_vectors(&f);
}

TEST_IMPL(changed_value_is_reported)
{
    char want[1024], bumped[24];
    fixture_t f;
    json_t *m, *cid, *epoch;
    const char *real;

    make_vectors(&f);
    m = load_manifest(&f);
    cid = json_object_get(fields_of(m, "common.ChannelHeader"), "channel_id");
    epoch = json_object_get(fields_of(m, "common.ChannelHeader"), "epoch");
    /* A uint64 one above the real value: 64-bit values compare exactly. */
    real = json_string_value(json_object_get(epoch, "v"));
    snprintf(bumped, sizeof(bumped), "%" PRIu64,
             (uint64_t)strtoull(real, NULL, 10) + 1);
    snprintf(want, sizeof(want),
             "FAIL common.ChannelHeader: common.ChannelHeader.channel_id: "
             "expected \"other\", got \"%s\"\n"
             "FAIL common.ChannelHeader: common.ChannelHeader.epoch: "
             "expected %s, got %s\n",
             json_string_value(json_object_get(cid, "v")), bumped, real);
    ASSERT_EQ(json_object_set_new(cid, "v", json_string("other")), 0);
    ASSERT_EQ(json_object_set_new(epoch, "v", json_string(bumped)), 0);
    save_manifest(&f, m);
    json_decref(m);
    verify(&f);
    ASSERT_EQ(f.rc, HLF_EPROTO);
    ASSERT_EQ(f.bad, 1);
    ASSERT_EQ(f.ok, N_INSTANCES - 1);
    ASSERT_STR_EQ(f.report, want);
    remove_vectors(&f);
}

/* Offset of the tag of field `num` at the top level of a message. */
static size_t
find_tag(const uint8_t *p, size_t len, unsigned num)
{
    size_t i = 0;

    while (i < len) {
        size_t start = i;
        uint64_t v = 0, tag = 0;
        unsigned shift = 0;

        do {
            tag |= (uint64_t)(p[i] & 0x7f) << shift;
            shift += 7;
        } while (p[i++] & 0x80);
        if ((tag >> 3) == num)
            return start;
        switch (tag & 7) {
        case 0:
            while (p[i++] & 0x80)
                ;
            break;
        case 2:
            shift = 0;
            do {
                v |= (uint64_t)(p[i] & 0x7f) << shift;
                shift += 7;
            } while (p[i++] & 0x80);
            i += (size_t)v;
            break;
        default:
            TEST__FAIL("unexpected wire type %u", (unsigned)(tag & 7));
        }
    }
    TEST__FAIL("field %u not found", num);
    return 0;
}

/*
 * What a wrong field number on the sending side looks like to a receiver:
 * channel_id (4) arrives as field 9, which ChannelHeader does not have.
 */
TEST_IMPL(wrong_field_number_is_reported)
{
    char path[512];
    fixture_t f;
    uint8_t buf[4096];
    size_t len, at;
    FILE *fp;

    make_vectors(&f);
    snprintf(path, sizeof(path), "%s/common.ChannelHeader.bin", f.dir);
    fp = fopen(path, "rb");
    ASSERT_NOT_NULL(fp);
    len = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    at = find_tag(buf, len, 4);
    ASSERT_EQ(buf[at], (4 << 3) | 2);
    buf[at] = (9 << 3) | 2;
    fp = fopen(path, "wb");
    ASSERT_NOT_NULL(fp);
    ASSERT_EQ(fwrite(buf, 1, len, fp), len);
    fclose(fp);

    verify(&f);
    ASSERT_EQ(f.rc, HLF_EPROTO);
    ASSERT_EQ(f.bad, 1);
    ASSERT_NOT_NULL(strstr(f.report,
                           "FAIL common.ChannelHeader: common.ChannelHeader: "
                           "1 field(s) unknown to proto/ on the wire, first "
                           "field number 9\n"));
    ASSERT_NOT_NULL(strstr(f.report, "common.ChannelHeader.channel_id: "
                                     "expected \"channel_id-"));
    ASSERT_NOT_NULL(strstr(f.report, "\", got \"\"\n"));
    remove_vectors(&f);
}

TEST_IMPL(undecodable_bytes_are_reported)
{
    char path[512];
    fixture_t f;

    make_vectors(&f);
    snprintf(path, sizeof(path), "%s/common.Envelope.bin", f.dir);
    ASSERT_EQ(truncate(path, 3), 0);
    verify(&f);
    ASSERT_EQ(f.rc, HLF_EPROTO);
    ASSERT_EQ(f.bad, 1);
    ASSERT_STR_EQ(f.report, "FAIL common.Envelope: common.Envelope.bin: "
                            "protobuf-c cannot decode 3 bytes as "
                            "common.Envelope\n");
    remove_vectors(&f);
}

TEST_IMPL(manifest_errors_are_reported)
{
    fixture_t f;
    json_t *m, *inst;

    make_vectors(&f);
    m = load_manifest(&f);
    ASSERT_EQ(json_object_set_new(fields_of(m, "common.LastConfig"), "bogus",
                                  json_pack("{s:s, s:s}", "t", "string", "v",
                                            "x")),
              0);
    inst = json_array_get(json_object_get(m, "instances"), 1);
    ASSERT_EQ(json_object_set_new(inst, "file", json_string("../escape")),
              0);
    save_manifest(&f, m);
    verify(&f);
    ASSERT_EQ(f.rc, HLF_EPROTO);
    ASSERT_EQ(f.bad, 2);
    ASSERT_NOT_NULL(strstr(f.report,
                           "FAIL common.LastConfig: common.LastConfig: "
                           "manifest field \"bogus\" is not in proto/\n"));
    ASSERT_NOT_NULL(strstr(f.report, "FAIL common.Metadata: manifest: "
                                     "instance needs name, file and "
                                     "message\n"));

    /* No instances at all is an error, not a pass. */
    ASSERT_EQ(json_array_clear(json_object_get(m, "instances")), 0);
    save_manifest(&f, m);
    verify(&f);
    ASSERT_EQ(f.rc, HLF_EINVAL);
    ASSERT_EQ(f.ok + f.bad, 0);
    json_decref(m);
    remove_vectors(&f);
}

TEST_IMPL(missing_manifest_is_an_error)
{
    hlf_error_t err;
    size_t ok = 7, bad = 7;

    ASSERT_EQ(pv_verify("/nonexistent/reso-pv", NULL, &ok, &bad, &err),
              HLF_EIO);
    ASSERT_EQ(err.code, HLF_EIO);
    ASSERT_EQ(ok, 0);
    ASSERT_EQ(bad, 0);
    ASSERT_NOT_NULL(strstr(err.text, "/nonexistent/reso-pv/manifest.json"));
}

static const test_entry_t tests[] = {
    TEST_ENTRY(generate_then_verify),
    TEST_ENTRY(manifest_values_are_distinctive),
    TEST_ENTRY(changed_value_is_reported),
    TEST_ENTRY(wrong_field_number_is_reported),
    TEST_ENTRY(undecodable_bytes_are_reported),
    TEST_ENTRY(manifest_errors_are_reported),
    TEST_ENTRY(missing_manifest_is_an_error),
};

TEST_MAIN(tests)
