/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Gateway client: gateway/network/contract handles and the Evaluate,
 * Endorse, Submit and CommitStatus steps over hlf__rpc_unary. What is
 * signed at each step (fabric-notes.md section 4.3): the proposal bytes,
 * the prepared transaction's payload, and the serialized CommitStatus
 * request.
 */
#include "gateway_int.h"
#include "gateway/gateway.pb-c.h"
#include "hlf/crypto.h"
#include "hlf/mem.h"
#include "pb.h"
#include "peer/transaction.pb-c.h"
#include "rpc.h"
#include "status.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

struct hlf_proposal_s {
    hlf_contract_t *contract;
    hlf__signed_proposal_t sp;
    char **orgs;
    size_t norgs;
};

struct hlf_transaction_s {
    hlf_network_t *net;
    char tx_id[HLF_TXID_LEN + 1];
    uint8_t *payload; /* serialized common.Payload to sign and submit */
    size_t payload_len;
    hlf_bytes_t result;
};

struct hlf_commit_s {
    hlf_network_t *net;
    char tx_id[HLF_TXID_LEN + 1];
};

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

void
hlf__op_begin(hlf_error_t *err, const char *tx_id)
{
    hlf_error_clear(err);
    if (err != NULL && tx_id != NULL)
        snprintf(err->tx_id, sizeof(err->tx_id), "%s", tx_id);
}

int
hlf__sign_request(const hlf_identity_t *id, const ProtobufCMessage *msg,
                  uint8_t **out, size_t *len, hlf_error_t *err)
{
    Gateway__SignedCommitStatusRequest signed_req =
        GATEWAY__SIGNED_COMMIT_STATUS_REQUEST__INIT;
    uint8_t *req = NULL, *sig = NULL;
    size_t req_len, sig_len;
    int rc;

    /*
     * SignedChaincodeEventsRequest has the same fields and numbers, so one
     * message type serves both.
     */
    rc = hlf__pb_pack(msg, &req, &req_len);
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "request: out of memory");
    rc = hlf_identity_sign(id, req, req_len, &sig, &sig_len);
    if (rc != HLF_OK) {
        hlf_error_set(err, rc, "request: signing failed (%s)",
                      hlf_strerror(rc));
        goto done;
    }
    signed_req.request.data = req;
    signed_req.request.len = req_len;
    signed_req.signature.data = sig;
    signed_req.signature.len = sig_len;
    rc = hlf__pb_pack(&signed_req.base, out, len);
    if (rc != HLF_OK)
        hlf_error_set(err, rc, "request: out of memory");
done:
    hlf_free(req);
    hlf_free(sig);
    return rc;
}

/*
 * Pack msg, call method with timeout_ms and return the reply bytes; a
 * failed call is relabelled for its phase (see hlf__status_phase).
 */
static int
call(hlf_gateway_t *gw, const char *method, const ProtobufCMessage *msg,
     int64_t timeout_ms, int phase, uint8_t **resp, size_t *resp_len,
     hlf_error_t *err)
{
    uint8_t *req;
    size_t len;
    int rc;

    rc = hlf__pb_pack(msg, &req, &len);
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "%s: out of memory", method);
    rc = hlf__rpc_unary(gw->conn, method, req, len, timeout_ms, resp,
                        resp_len, err);
    hlf_free(req);
    if (rc != HLF_OK)
        rc = hlf__status_phase(rc, phase, err);
    return rc;
}

static Protos__SignedProposal
signed_proposal(const hlf_proposal_t *p)
{
    Protos__SignedProposal sp = PROTOS__SIGNED_PROPOSAL__INIT;

    sp.proposal_bytes.data = p->sp.proposal;
    sp.proposal_bytes.len = p->sp.proposal_len;
    sp.signature.data = p->sp.signature;
    sp.signature.len = p->sp.signature_len;
    return sp;
}

/* ------------------------------------------------------------------------
 * Gateway, network, contract
 * ---------------------------------------------------------------------- */

static int64_t
or_default(int64_t v, int64_t def)
{
    return v ? v : def;
}

int
hlf_gateway_connect(hlf_gateway_t **gw, const hlf_gateway_opts_t *o,
                    hlf_error_t *err)
{
    hlf_gateway_t *g;

    if (gw != NULL)
        *gw = NULL;
    if (gw == NULL || o == NULL || o->conn == NULL || o->identity == NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "gateway: connection and identity required");
    if (o->evaluate_timeout_ms < 0 || o->endorse_timeout_ms < 0 ||
        o->submit_timeout_ms < 0 || o->commit_status_timeout_ms < 0)
        return hlf_error_set(err, HLF_EINVAL, "gateway: negative timeout");
    g = hlf_calloc(1, sizeof(*g));
    if (g == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "gateway: out of memory");
    if (pthread_mutex_init(&g->lock, NULL) != 0) {
        hlf_free(g);
        return hlf_error_set(err, HLF_ENOMEM, "gateway: no mutex");
    }
    g->conn = o->conn;
    g->id = hlf_identity_ref(o->identity);
    g->evaluate_ms =
        or_default(o->evaluate_timeout_ms, HLF_DEFAULT_EVALUATE_TIMEOUT_MS);
    g->endorse_ms =
        or_default(o->endorse_timeout_ms, HLF_DEFAULT_ENDORSE_TIMEOUT_MS);
    g->submit_ms =
        or_default(o->submit_timeout_ms, HLF_DEFAULT_SUBMIT_TIMEOUT_MS);
    g->commit_status_ms = or_default(o->commit_status_timeout_ms,
                                     HLF_DEFAULT_COMMIT_STATUS_TIMEOUT_MS);
    *gw = g;
    return HLF_OK;
}

void
hlf_gateway_close(hlf_gateway_t *gw)
{
    hlf_network_t *n, *nn;
    hlf_contract_t *c, *cn;

    if (gw == NULL)
        return;
    for (n = gw->networks; n != NULL; n = nn) {
        nn = n->next;
        for (c = n->contracts; c != NULL; c = cn) {
            cn = c->next;
            hlf_free(c->chaincode);
            hlf_free(c->name);
            hlf_free(c);
        }
        hlf_free(n->name);
        hlf_free(n);
    }
    pthread_mutex_destroy(&gw->lock);
    hlf_identity_unref(gw->id);
    hlf_free(gw);
}

hlf_identity_t *
hlf_gateway_identity(const hlf_gateway_t *gw)
{
    return gw->id;
}

hlf_network_t *
hlf_gateway_get_network(hlf_gateway_t *gw, const char *channel)
{
    hlf_network_t *n;

    if (gw == NULL || channel == NULL || channel[0] == '\0')
        return NULL;
    pthread_mutex_lock(&gw->lock);
    for (n = gw->networks; n != NULL; n = n->next)
        if (strcmp(n->name, channel) == 0)
            goto done;
    n = hlf_calloc(1, sizeof(*n));
    if (n == NULL || (n->name = hlf_strdup(channel)) == NULL) {
        hlf_free(n);
        n = NULL;
        goto done;
    }
    n->gw = gw;
    n->next = gw->networks;
    gw->networks = n;
done:
    pthread_mutex_unlock(&gw->lock);
    return n;
}

const char *
hlf_network_name(const hlf_network_t *net)
{
    return net->name;
}

static int
same_name(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
contract_free(hlf_contract_t *c)
{
    if (c == NULL)
        return;
    hlf_free(c->chaincode);
    hlf_free(c->name);
    hlf_free(c);
}

hlf_contract_t *
hlf_network_get_contract(hlf_network_t *net, const char *chaincode,
                         const char *contract_name)
{
    hlf_contract_t *c;

    if (net == NULL || chaincode == NULL || chaincode[0] == '\0')
        return NULL;
    if (contract_name != NULL && contract_name[0] == '\0')
        contract_name = NULL;
    pthread_mutex_lock(&net->gw->lock);
    for (c = net->contracts; c != NULL; c = c->next)
        if (strcmp(c->chaincode, chaincode) == 0 &&
            same_name(c->name, contract_name))
            goto done;
    c = hlf_calloc(1, sizeof(*c));
    if (c == NULL || (c->chaincode = hlf_strdup(chaincode)) == NULL ||
        (contract_name != NULL &&
         (c->name = hlf_strdup(contract_name)) == NULL)) {
        contract_free(c);
        c = NULL;
        goto done;
    }
    c->net = net;
    c->next = net->contracts;
    net->contracts = c;
done:
    pthread_mutex_unlock(&net->gw->lock);
    return c;
}

const char *
hlf_contract_chaincode(const hlf_contract_t *c)
{
    return c->chaincode;
}

/* ------------------------------------------------------------------------
 * Proposals
 * ---------------------------------------------------------------------- */

/* Copy the organisation list so the proposal does not borrow it. */
static int
copy_orgs(hlf_proposal_t *p, const hlf_proposal_opts_t *o)
{
    size_t i;

    if (o == NULL || o->norgs == 0)
        return HLF_OK;
    if (o->orgs == NULL)
        return HLF_EINVAL;
    p->orgs = hlf_calloc(o->norgs, sizeof(*p->orgs));
    if (p->orgs == NULL)
        return HLF_ENOMEM;
    p->norgs = o->norgs;
    for (i = 0; i < o->norgs; i++) {
        if (o->orgs[i] == NULL || o->orgs[i][0] == '\0')
            return HLF_EINVAL;
        p->orgs[i] = hlf_strdup(o->orgs[i]);
        if (p->orgs[i] == NULL)
            return HLF_ENOMEM;
    }
    return HLF_OK;
}

/* The name the chaincode sees: "fn", or "contract:fn" for named ones. */
static char *
tx_name(const hlf_contract_t *c, const char *fn)
{
    size_t n;
    char *s;

    if (c->name == NULL)
        return hlf_strdup(fn);
    n = strlen(c->name) + 1 + strlen(fn);
    s = hlf_malloc(n + 1);
    if (s != NULL)
        snprintf(s, n + 1, "%s:%s", c->name, fn);
    return s;
}

int
hlf_contract_new_proposal(hlf_contract_t *c, const char *fn,
                          const hlf_bytes_t *args, size_t nargs,
                          const hlf_proposal_opts_t *opts,
                          hlf_proposal_t **out, hlf_error_t *err)
{
    uint8_t nonce[HLF_NONCE_LEN];
    hlf__proposal_in_t in;
    struct timespec now;
    hlf_proposal_t *p = NULL;
    char *name = NULL;
    int rc;

    hlf__op_begin(err, NULL);
    if (out != NULL)
        *out = NULL;
    if (c == NULL || out == NULL || fn == NULL || fn[0] == '\0')
        return hlf_error_set(err, HLF_EINVAL,
                             "proposal: contract, transaction name and "
                             "output are required");
    memset(&in, 0, sizeof(in));
    in.channel = c->net->name;
    in.chaincode = c->chaincode;
    in.args = args;
    in.nargs = nargs;
    if (opts != NULL) {
        in.transient = opts->transient;
        in.ntransient = opts->ntransient;
        in.nonce = opts->nonce;
        in.nonce_len = opts->nonce_len;
    }
    if (in.nonce == NULL) {
        if (hlf_random_bytes(nonce, sizeof(nonce)) != HLF_OK)
            return hlf_error_set(err, HLF_ECRYPTO,
                                 "proposal: no random nonce");
        in.nonce = nonce;
        in.nonce_len = sizeof(nonce);
    }
    if (opts != NULL && opts->has_timestamp) {
        in.ts_sec = opts->timestamp_sec;
        in.ts_nanos = opts->timestamp_nanos;
    } else {
        clock_gettime(CLOCK_REALTIME, &now);
        in.ts_sec = (int64_t)now.tv_sec;
        in.ts_nanos = (int32_t)now.tv_nsec;
    }
    p = hlf_calloc(1, sizeof(*p));
    name = tx_name(c, fn);
    if (p == NULL || name == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "proposal: out of memory");
        goto fail;
    }
    p->contract = c;
    rc = copy_orgs(p, opts);
    if (rc != HLF_OK) {
        hlf_error_set(err, rc, "proposal: %s",
                      rc == HLF_EINVAL ? "empty organisation name"
                                       : "out of memory");
        goto fail;
    }
    in.fn = name;
    rc = hlf__proposal_build(c->net->gw->id, &in, &p->sp, err);
    if (rc != HLF_OK)
        goto fail;
    hlf_free(name);
    if (err != NULL)
        memcpy(err->tx_id, p->sp.tx_id, sizeof(err->tx_id));
    *out = p;
    return HLF_OK;
fail:
    hlf_free(name);
    hlf_proposal_free(p);
    return rc;
}

const char *
hlf_proposal_tx_id(const hlf_proposal_t *p)
{
    return p->sp.tx_id;
}

const uint8_t *
hlf_proposal_bytes(const hlf_proposal_t *p, size_t *len)
{
    if (len != NULL)
        *len = p->sp.proposal_len;
    return p->sp.proposal;
}

const uint8_t *
hlf_proposal_signature(const hlf_proposal_t *p, size_t *len)
{
    if (len != NULL)
        *len = p->sp.signature_len;
    return p->sp.signature;
}

void
hlf_proposal_free(hlf_proposal_t *p)
{
    size_t i;

    if (p == NULL)
        return;
    hlf__signed_proposal_clear(&p->sp);
    for (i = 0; i < p->norgs; i++)
        hlf_free(p->orgs[i]);
    hlf_free(p->orgs);
    hlf_free(p);
}

/* ------------------------------------------------------------------------
 * Evaluate
 * ---------------------------------------------------------------------- */

int
hlf_proposal_evaluate(hlf_proposal_t *p, hlf_bytes_t *result,
                      hlf_error_t *err)
{
    Gateway__EvaluateRequest req = GATEWAY__EVALUATE_REQUEST__INIT;
    Gateway__EvaluateResponse *resp = NULL;
    Protos__SignedProposal sp;
    hlf_gateway_t *gw;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (p == NULL || result == NULL)
        return hlf_error_set(err, HLF_EINVAL, "evaluate: NULL argument");
    hlf__op_begin(err, p->sp.tx_id);
    result->data = NULL;
    result->len = 0;
    gw = p->contract->net->gw;
    sp = signed_proposal(p);
    req.transaction_id = p->sp.tx_id;
    req.channel_id = p->contract->net->name;
    req.proposed_transaction = &sp;
    req.n_target_organizations = p->norgs;
    req.target_organizations = p->orgs;
    rc = call(gw, HLF__GW_EVALUATE, &req.base, gw->evaluate_ms,
              HLF_EEVALUATE, &buf, &len, err);
    if (rc != HLF_OK)
        return rc;
    resp = HLF__PB_UNPACK(gateway__evaluate_response, len, buf);
    hlf_free(buf);
    if (resp == NULL || resp->result == NULL) {
        rc = hlf_error_set(err, HLF_EPROTO,
                           "evaluate: malformed EvaluateResponse");
        goto done;
    }
    result->data =
        hlf_memdup(resp->result->payload.data, resp->result->payload.len);
    if (result->data == NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "evaluate: out of memory");
        goto done;
    }
    result->len = resp->result->payload.len;
done:
    HLF__PB_FREE(gateway__evaluate_response, resp);
    return rc;
}

int
hlf_contract_evaluate(hlf_contract_t *c, const char *fn,
                      const hlf_bytes_t *args, size_t nargs,
                      hlf_bytes_t *result, hlf_error_t *err)
{
    hlf_proposal_t *p;
    int rc;

    if (result != NULL) {
        result->data = NULL;
        result->len = 0;
    }
    rc = hlf_contract_new_proposal(c, fn, args, nargs, NULL, &p, err);
    if (rc != HLF_OK)
        return rc;
    rc = hlf_proposal_evaluate(p, result, err);
    hlf_proposal_free(p);
    return rc;
}

/* ------------------------------------------------------------------------
 * Endorse
 * ---------------------------------------------------------------------- */

int
hlf_proposal_endorse(hlf_proposal_t *p, hlf_transaction_t **out,
                     hlf_error_t *err)
{
    Gateway__EndorseRequest req = GATEWAY__ENDORSE_REQUEST__INIT;
    Gateway__EndorseResponse *resp = NULL;
    Protos__SignedProposal sp;
    hlf_transaction_t *tx = NULL;
    const Common__Envelope *env;
    hlf_gateway_t *gw;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (p == NULL || out == NULL)
        return hlf_error_set(err, HLF_EINVAL, "endorse: NULL argument");
    hlf__op_begin(err, p->sp.tx_id);
    gw = p->contract->net->gw;
    sp = signed_proposal(p);
    req.transaction_id = p->sp.tx_id;
    req.channel_id = p->contract->net->name;
    req.proposed_transaction = &sp;
    req.n_endorsing_organizations = p->norgs;
    req.endorsing_organizations = p->orgs;
    rc = call(gw, HLF__GW_ENDORSE, &req.base, gw->endorse_ms, HLF_EENDORSE,
              &buf, &len, err);
    if (rc != HLF_OK)
        return rc;
    resp = HLF__PB_UNPACK(gateway__endorse_response, len, buf);
    hlf_free(buf);
    env = resp != NULL ? resp->prepared_transaction : NULL;
    if (env == NULL || env->payload.len == 0) {
        rc = hlf_error_set(err, HLF_EPROTO,
                           "endorse: EndorseResponse without a prepared "
                           "transaction");
        goto done;
    }
    tx = hlf_calloc(1, sizeof(*tx));
    if (tx == NULL ||
        (tx->payload = hlf_memdup(env->payload.data, env->payload.len)) ==
            NULL) {
        rc = hlf_error_set(err, HLF_ENOMEM, "endorse: out of memory");
        goto done;
    }
    tx->payload_len = env->payload.len;
    tx->net = p->contract->net;
    memcpy(tx->tx_id, p->sp.tx_id, sizeof(tx->tx_id));
    rc = hlf__prepared_result(tx->payload, tx->payload_len, tx->tx_id,
                              &tx->result, err);
    if (rc != HLF_OK)
        goto done;
    *out = tx;
    tx = NULL;
done:
    hlf_transaction_free(tx);
    HLF__PB_FREE(gateway__endorse_response, resp);
    return rc;
}

const char *
hlf_transaction_tx_id(const hlf_transaction_t *tx)
{
    return tx->tx_id;
}

const uint8_t *
hlf_transaction_result(const hlf_transaction_t *tx, size_t *len)
{
    if (len != NULL)
        *len = tx->result.len;
    return tx->result.data;
}

void
hlf_transaction_free(hlf_transaction_t *tx)
{
    if (tx == NULL)
        return;
    hlf_free(tx->payload);
    hlf_bytes_free(&tx->result);
    hlf_free(tx);
}

/* ------------------------------------------------------------------------
 * Submit and commit status
 * ---------------------------------------------------------------------- */

static int
commit_new(hlf_network_t *net, const char *tx_id, hlf_commit_t **out,
           hlf_error_t *err)
{
    hlf_commit_t *c = hlf_calloc(1, sizeof(*c));

    if (c == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "commit: out of memory");
    c->net = net;
    snprintf(c->tx_id, sizeof(c->tx_id), "%s", tx_id);
    *out = c;
    return HLF_OK;
}

int
hlf_transaction_submit(hlf_transaction_t *tx, hlf_commit_t **commit,
                       hlf_error_t *err)
{
    Gateway__SubmitRequest req = GATEWAY__SUBMIT_REQUEST__INIT;
    Common__Envelope env = COMMON__ENVELOPE__INIT;
    hlf_gateway_t *gw;
    uint8_t *sig = NULL, *buf = NULL;
    size_t sig_len = 0, len = 0;
    int rc;

    if (tx == NULL)
        return hlf_error_set(err, HLF_EINVAL, "submit: NULL transaction");
    hlf__op_begin(err, tx->tx_id);
    if (commit != NULL)
        *commit = NULL;
    gw = tx->net->gw;
    rc = hlf_identity_sign(gw->id, tx->payload, tx->payload_len, &sig,
                           &sig_len);
    if (rc != HLF_OK)
        return hlf_error_set(err, rc, "submit: signing failed (%s)",
                             hlf_strerror(rc));
    env.payload.data = tx->payload;
    env.payload.len = tx->payload_len;
    env.signature.data = sig;
    env.signature.len = sig_len;
    req.transaction_id = tx->tx_id;
    req.channel_id = tx->net->name;
    req.prepared_transaction = &env;
    rc = call(gw, HLF__GW_SUBMIT, &req.base, gw->submit_ms, HLF_ESUBMIT,
              &buf, &len, err);
    hlf_free(sig);
    hlf_free(buf); /* SubmitResponse is empty */
    if (rc == HLF_OK && commit != NULL)
        rc = commit_new(tx->net, tx->tx_id, commit, err);
    return rc;
}

int
hlf_network_new_commit(hlf_network_t *net, const char *tx_id,
                       hlf_commit_t **out, hlf_error_t *err)
{
    if (out != NULL)
        *out = NULL;
    if (net == NULL || out == NULL || tx_id == NULL ||
        strlen(tx_id) != HLF_TXID_LEN)
        return hlf_error_set(err, HLF_EINVAL,
                             "commit: need a network and a 64-character "
                             "transaction id");
    return commit_new(net, tx_id, out, err);
}

const char *
hlf_commit_tx_id(const hlf_commit_t *commit)
{
    return commit->tx_id;
}

const char *
hlf_tx_validation_code_name(int code)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &protos__tx_validation_code__descriptor, code);

    return v != NULL ? v->name : "UNKNOWN";
}

int
hlf_commit_status(hlf_commit_t *commit, hlf_commit_result_t *res,
                  hlf_error_t *err)
{
    Gateway__CommitStatusRequest req = GATEWAY__COMMIT_STATUS_REQUEST__INIT;
    Gateway__CommitStatusResponse *resp = NULL;
    hlf_gateway_t *gw;
    uint8_t *signed_req = NULL, *buf = NULL;
    size_t signed_len = 0, len = 0;
    int rc;

    if (commit == NULL)
        return hlf_error_set(err, HLF_EINVAL, "commit status: NULL commit");
    hlf__op_begin(err, commit->tx_id);
    gw = commit->net->gw;
    req.transaction_id = commit->tx_id;
    req.channel_id = commit->net->name;
    req.identity.data =
        (uint8_t *)(uintptr_t)hlf_identity_creator(gw->id, &req.identity.len);
    rc = hlf__sign_request(gw->id, &req.base, &signed_req, &signed_len, err);
    if (rc != HLF_OK)
        return rc;
    rc = hlf__rpc_unary(gw->conn, HLF__GW_COMMIT_STATUS, signed_req,
                        signed_len, gw->commit_status_ms, &buf, &len, err);
    hlf_free(signed_req);
    if (rc != HLF_OK)
        return hlf__status_phase(rc, HLF_ECOMMITSTATUS, err);
    resp = HLF__PB_UNPACK(gateway__commit_status_response, len, buf);
    hlf_free(buf);
    if (resp == NULL)
        return hlf_error_set(err, HLF_EPROTO,
                             "commit status: malformed "
                             "CommitStatusResponse");
    if (res != NULL) {
        res->validation_code = (int)resp->result;
        res->block_number = resp->block_number;
    }
    if (err != NULL) {
        err->tx_validation_code = (int)resp->result;
        err->block_number = resp->block_number;
    }
    if (resp->result != PROTOS__TX_VALIDATION_CODE__VALID)
        rc = hlf_error_set(err, HLF_ECOMMIT,
                           "transaction %s committed invalid in block "
                           "%llu: %s (%d)",
                           commit->tx_id,
                           (unsigned long long)resp->block_number,
                           hlf_tx_validation_code_name((int)resp->result),
                           (int)resp->result);
    HLF__PB_FREE(gateway__commit_status_response, resp);
    return rc;
}

void
hlf_commit_free(hlf_commit_t *commit)
{
    hlf_free(commit);
}

/* ------------------------------------------------------------------------
 * The whole transaction
 * ---------------------------------------------------------------------- */

int
hlf_contract_submit(hlf_contract_t *c, const char *fn,
                    const hlf_bytes_t *args, size_t nargs,
                    hlf_bytes_t *result, hlf_error_t *err)
{
    hlf_proposal_t *p = NULL;
    hlf_transaction_t *tx = NULL;
    hlf_commit_t *commit = NULL;
    int rc;

    if (result != NULL) {
        result->data = NULL;
        result->len = 0;
    }
    rc = hlf_contract_new_proposal(c, fn, args, nargs, NULL, &p, err);
    if (rc != HLF_OK)
        return rc;
    rc = hlf_proposal_endorse(p, &tx, err);
    hlf_proposal_free(p);
    if (rc != HLF_OK)
        return rc;
    rc = hlf_transaction_submit(tx, &commit, err);
    if (rc == HLF_OK)
        rc = hlf_commit_status(commit, NULL, err);
    if (rc == HLF_OK && result != NULL) {
        /* Hand over the endorsed result instead of copying it. */
        *result = tx->result;
        tx->result.data = NULL;
        tx->result.len = 0;
    }
    hlf_commit_free(commit);
    hlf_transaction_free(tx);
    return rc;
}
