/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for hlf/src/proposal.c: a proposal decoded back field by field
 * with protobuf-c, input validation, chaincode results from prepared
 * transactions, and an allocation-failure sweep (every allocation made to
 * fail in turn must give HLF_ENOMEM and leak nothing).
 */
#include "common/common.pb-c.h"
#include "fake_gateway.h"
#include "hlf/mem.h"
#include "msp/identities.pb-c.h"
#include "peer/proposal.pb-c.h"
#include "proposal.h"
#include "status.h"
#include "task.h"
#include "testutil.h"

static hlf_identity_t *
make_identity(EVP_PKEY **key)
{
    X509 *x;
    char *cert, *pem;
    hlf_identity_t *id = NULL;

    *key = tu_keygen(NULL);
    x = tu_cert(*key, "User1@brokerage.test", NULL, NULL, 0, NULL);
    cert = tu_cert_pem(x);
    pem = tu_key_pem(*key);
    ASSERT_EQ(hlf_identity_from_pem(cert, strlen(cert), pem, strlen(pem),
                                    "BrokerageMSP", &id, NULL),
              HLF_OK);
    free(cert);
    free(pem);
    X509_free(x);
    return id;
}

static const uint8_t nonce[HLF_NONCE_LEN] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
static const uint8_t binarg[5] = {0, 1, 0xff, 0, 7};

static void
fill_in(hlf__proposal_in_t *in, hlf_bytes_t *args, hlf_transient_t *tr)
{
    args[0] = hlf_bytes_str("{\"ListingKey\":\"L1\"}");
    args[1].data = (uint8_t *)binarg;
    args[1].len = sizeof(binarg);
    args[2] = hlf_bytes_str("");
    tr[0].key = "secret";
    tr[0].value = hlf_bytes_str("xyz");
    memset(in, 0, sizeof(*in));
    in->channel = "reso-events";
    in->chaincode = "reso";
    in->fn = "RecordEvent";
    in->args = args;
    in->nargs = 3;
    in->transient = tr;
    in->ntransient = 1;
    in->nonce = nonce;
    in->nonce_len = sizeof(nonce);
    in->ts_sec = 1700000000;
    in->ts_nanos = 123456789;
}

TEST_IMPL(proposal_decodes_back)
{
    EVP_PKEY *key;
    hlf_identity_t *id = make_identity(&key);
    hlf__proposal_in_t in;
    hlf__signed_proposal_t sp;
    hlf_bytes_t args[3];
    hlf_transient_t tr[1];
    Protos__Proposal *prop;
    Common__Header *hdr;
    Common__ChannelHeader *ch;
    Common__SignatureHeader *sh;
    Protos__ChaincodeHeaderExtension *ext;
    Protos__ChaincodeProposalPayload *pp;
    Protos__ChaincodeInvocationSpec *cis;
    Protos__ChaincodeSpec *spec;
    const uint8_t *creator;
    size_t clen;
    char want_tx[65];

    fill_in(&in, args, tr);
    ASSERT_EQ(hlf__proposal_build(id, &in, &sp, NULL), HLF_OK);
    creator = hlf_identity_creator(id, &clen);
    tu_sha256_hex(nonce, sizeof(nonce), creator, clen, want_tx);
    ASSERT_STR_EQ(sp.tx_id, want_tx);
    ASSERT_EQ(tu_verify(key, sp.proposal, sp.proposal_len, sp.signature,
                        sp.signature_len),
              1);
    ASSERT_EQ(tu_is_low_s(sp.signature, sp.signature_len), 1);

    prop = protos__proposal__unpack(NULL, sp.proposal_len, sp.proposal);
    ASSERT_NOT_NULL(prop);
    ASSERT_EQ(prop->extension.len, 0);
    hdr = common__header__unpack(NULL, prop->header.len, prop->header.data);
    ASSERT_NOT_NULL(hdr);
    ch = common__channel_header__unpack(NULL, hdr->channel_header.len,
                                        hdr->channel_header.data);
    ASSERT_NOT_NULL(ch);
    ASSERT_EQ(ch->type, 3);
    ASSERT_EQ(ch->version, 0);
    ASSERT_NOT_NULL(ch->timestamp);
    ASSERT_EQ(ch->timestamp->seconds, 1700000000);
    ASSERT_EQ(ch->timestamp->nanos, 123456789);
    ASSERT_STR_EQ(ch->channel_id, "reso-events");
    ASSERT_STR_EQ(ch->tx_id, want_tx);
    ASSERT_EQ(ch->epoch, 0);
    ASSERT_EQ(ch->tls_cert_hash.len, 0);
    ext = protos__chaincode_header_extension__unpack(
        NULL, ch->extension.len, ch->extension.data);
    ASSERT_NOT_NULL(ext);
    ASSERT_NOT_NULL(ext->chaincode_id);
    ASSERT_STR_EQ(ext->chaincode_id->name, "reso");
    ASSERT_STR_EQ(ext->chaincode_id->version, "");
    sh = common__signature_header__unpack(NULL, hdr->signature_header.len,
                                          hdr->signature_header.data);
    ASSERT_NOT_NULL(sh);
    ASSERT_EQ(sh->creator.len, clen);
    ASSERT_MEM_EQ(sh->creator.data, creator, clen);
    ASSERT_EQ(sh->nonce.len, sizeof(nonce));
    ASSERT_MEM_EQ(sh->nonce.data, nonce, sizeof(nonce));

    pp = protos__chaincode_proposal_payload__unpack(NULL, prop->payload.len,
                                                    prop->payload.data);
    ASSERT_NOT_NULL(pp);
    ASSERT_EQ(pp->n_transientmap, 1);
    ASSERT_STR_EQ(pp->transientmap[0]->key, "secret");
    ASSERT_EQ(pp->transientmap[0]->value.len, 3);
    ASSERT_MEM_EQ(pp->transientmap[0]->value.data, "xyz", 3);
    cis = protos__chaincode_invocation_spec__unpack(NULL, pp->input.len,
                                                    pp->input.data);
    ASSERT_NOT_NULL(cis);
    spec = cis->chaincode_spec;
    ASSERT_NOT_NULL(spec);
    ASSERT_EQ(spec->type, 0);
    ASSERT_STR_EQ(spec->chaincode_id->name, "reso");
    ASSERT_EQ(spec->input->n_args, 4);
    ASSERT_EQ(spec->input->args[0].len, 11);
    ASSERT_MEM_EQ(spec->input->args[0].data, "RecordEvent", 11);
    ASSERT_EQ(spec->input->args[1].len, args[0].len);
    ASSERT_MEM_EQ(spec->input->args[1].data, args[0].data, args[0].len);
    ASSERT_EQ(spec->input->args[2].len, sizeof(binarg));
    ASSERT_MEM_EQ(spec->input->args[2].data, binarg, sizeof(binarg));
    ASSERT_EQ(spec->input->args[3].len, 0);
    ASSERT_EQ(spec->input->is_init, 0);

    protos__chaincode_invocation_spec__free_unpacked(cis, NULL);
    protos__chaincode_proposal_payload__free_unpacked(pp, NULL);
    common__signature_header__free_unpacked(sh, NULL);
    protos__chaincode_header_extension__free_unpacked(ext, NULL);
    common__channel_header__free_unpacked(ch, NULL);
    common__header__free_unpacked(hdr, NULL);
    protos__proposal__free_unpacked(prop, NULL);
    hlf__signed_proposal_clear(&sp);
    hlf_identity_unref(id);
    EVP_PKEY_free(key);
}

TEST_IMPL(proposal_rejects_bad_input)
{
    EVP_PKEY *key;
    hlf_identity_t *id = make_identity(&key);
    hlf__proposal_in_t in;
    hlf__signed_proposal_t sp;
    hlf_bytes_t args[3];
    hlf_transient_t tr[1];
    hlf_error_t e;

    fill_in(&in, args, tr);
    in.fn = "";
    ASSERT_EQ(hlf__proposal_build(id, &in, &sp, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "proposal: no transaction name");
    ASSERT_NULL(sp.proposal);
    fill_in(&in, args, tr);
    in.channel = NULL;
    ASSERT_EQ(hlf__proposal_build(id, &in, &sp, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "proposal: no channel");
    fill_in(&in, args, tr);
    in.nonce_len = 0;
    ASSERT_EQ(hlf__proposal_build(id, &in, &sp, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "proposal: empty nonce");
    fill_in(&in, args, tr);
    args[1].data = NULL;
    ASSERT_EQ(hlf__proposal_build(id, &in, &sp, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "proposal: argument 1 is NULL");
    fill_in(&in, args, tr);
    tr[0].key = NULL;
    ASSERT_EQ(hlf__proposal_build(id, &in, &sp, &e), HLF_EINVAL);
    ASSERT_STR_EQ(e.text, "proposal: transient entry 0 is NULL");
    /* No arguments at all is fine: args = [fn]. */
    fill_in(&in, args, tr);
    in.args = NULL;
    in.nargs = 0;
    in.ntransient = 0;
    ASSERT_EQ(hlf__proposal_build(id, &in, &sp, &e), HLF_OK);
    hlf__signed_proposal_clear(&sp);
    hlf_identity_unref(id);
    EVP_PKEY_free(key);
}

static const char tx_a[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

TEST_IMPL(prepared_result_extraction)
{
    static const char res[] = "{\"EventId\":\"e1\"}";
    hlf_bytes_t out;
    hlf_error_t e;
    size_t len;
    uint8_t *pl;

    pl = fg_prepared_payload("reso-events", tx_a, (const uint8_t *)res,
                             strlen(res), &len);
    ASSERT_EQ(hlf__prepared_result(pl, len, tx_a, &out, &e), HLF_OK);
    ASSERT_EQ(out.len, strlen(res));
    ASSERT_STR_EQ((char *)out.data, res);
    hlf_bytes_free(&out);
    ASSERT_NULL(out.data);

    ASSERT_EQ(hlf__prepared_result(pl, len, "bbbb", &out, &e), HLF_EPROTO);
    ASSERT_STR_EQ(e.text, "prepared transaction is for tx " "aaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, "
                          "not bbbb");
    ASSERT_NULL(out.data);
    /* Truncated bytes. */
    ASSERT_EQ(hlf__prepared_result(pl, len / 2, tx_a, &out, &e), HLF_EPROTO);
    free(pl);
    /* A payload with no transaction actions. */
    {
        Common__ChannelHeader ch = COMMON__CHANNEL_HEADER__INIT;
        Common__Header hdr = COMMON__HEADER__INIT;
        Common__Payload p = COMMON__PAYLOAD__INIT;
        uint8_t chb[128], buf[256];

        ch.tx_id = (char *)tx_a;
        hdr.channel_header.data = chb;
        hdr.channel_header.len = common__channel_header__pack(&ch, chb);
        p.header = &hdr;
        len = common__payload__pack(&p, buf);
        ASSERT_EQ(hlf__prepared_result(buf, len, tx_a, &out, &e),
                  HLF_EPROTO);
        ASSERT_STR_EQ(e.text, "prepared transaction: missing or malformed "
                              "transaction action");
    }
    /* An empty result is a valid, empty, NUL-terminated string. */
    pl = fg_prepared_payload("reso-events", tx_a, NULL, 0, &len);
    ASSERT_EQ(hlf__prepared_result(pl, len, tx_a, &out, &e), HLF_OK);
    ASSERT_EQ(out.len, 0);
    ASSERT_NOT_NULL(out.data);
    ASSERT_STR_EQ((char *)out.data, "");
    hlf_bytes_free(&out);
    free(pl);
}

/* ------------------------------------------------------------------------
 * Allocation failures
 * ---------------------------------------------------------------------- */

static long alloc_count;
static long fail_at; /* 0: never */

static void *
failing_malloc(size_t n)
{
    return ++alloc_count == fail_at ? NULL : malloc(n);
}

static void *
failing_realloc(void *p, size_t n)
{
    return ++alloc_count == fail_at ? NULL : realloc(p, n);
}

static void
fail_nth(long n)
{
    alloc_count = 0;
    fail_at = n;
}

TEST_IMPL(proposal_out_of_memory_sweep)
{
    EVP_PKEY *key;
    hlf_identity_t *id;
    hlf__proposal_in_t in;
    hlf__signed_proposal_t sp;
    hlf_bytes_t args[3], out;
    hlf_transient_t tr[1];
    hlf_error_t e;
    long n, failures = 0;
    size_t len;
    uint8_t *pl, *det;
    const fg_detail_t d = {"M", "peer:1", "chaincode response 400, {}"};
    int rc;

    ASSERT_EQ(hlf_set_alloc_funcs(failing_malloc, failing_realloc, free),
              HLF_OK);
    ASSERT_EQ(hlf_set_alloc_funcs(NULL, realloc, free), HLF_EINVAL);
    fail_nth(0);
    id = make_identity(&key);
    fill_in(&in, args, tr);
    for (n = 1;; n++) {
        fail_nth(n);
        rc = hlf__proposal_build(id, &in, &sp, &e);
        fail_nth(0);
        if (rc == HLF_OK)
            break;
        ASSERT_EQ(rc, HLF_ENOMEM);
        ASSERT_NULL(sp.proposal);
        failures++;
    }
    ASSERT_GE(failures, 8); /* one per intermediate message at least */
    hlf__signed_proposal_clear(&sp);

    pl = fg_prepared_payload("c", tx_a, (const uint8_t *)"r", 1, &len);
    for (n = 1;; n++) {
        fail_nth(n);
        rc = hlf__prepared_result(pl, len, tx_a, &out, &e);
        fail_nth(0);
        if (rc == HLF_OK)
            break;
        /* protobuf-c cannot tell "no memory" from "malformed". */
        ASSERT(rc == HLF_ENOMEM || rc == HLF_EPROTO);
        ASSERT_NULL(out.data);
    }
    ASSERT_GE(n, 6);
    hlf_bytes_free(&out);
    free(pl);

    det = fg_status(2, "m", &d, 1, 0, &len);
    for (n = 1; n < 20; n++) {
        fail_nth(n);
        hlf_error_clear(&e);
        /* Details may be lost without memory, never the code or text. */
        ASSERT_EQ(hlf__status_to_error(10, "m", 1, det, len, &e), HLF_EGRPC);
        fail_nth(0);
        ASSERT_EQ(strncmp(e.text, "Aborted: m", 10), 0);
    }
    free(det);
    hlf_identity_unref(id);
    EVP_PKEY_free(key);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(proposal_decodes_back),
    TEST_ENTRY(proposal_rejects_bad_input),
    TEST_ENTRY(prepared_result_extraction),
    TEST_ENTRY(proposal_out_of_memory_sweep),
};

TEST_MAIN(tests)
