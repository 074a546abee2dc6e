/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The creator functions of the stub double (fake_cid.h). One global
 * identity stands for "who submitted the next transaction"; the contract
 * only reads it, so a test switches callers between fake_invoke() calls.
 */
#include "fake_cid.h"

#include "hlf/shim.h"

#include <string.h>

static const char default_id[] = "x509::CN=client::CN=ca";

static struct {
    const char *msp, *ou, *pem, *id;
} cid = {"BrokerageMSP", "client", FAKE_CID_DEFAULT_PEM, default_id};

void
fake_cid_set(const char *msp, const char *ou, const char *cert_pem,
             const char *id)
{
    cid.msp = msp;
    cid.ou = ou != NULL ? ou : "client";
    cid.pem = cert_pem != NULL ? cert_pem : FAKE_CID_DEFAULT_PEM;
    cid.id = id != NULL ? id : default_id;
}

void
fake_cid_reset(void)
{
    fake_cid_set("BrokerageMSP", "client", NULL, NULL);
}

const char *
hlf_stub_get_creator_msp_id(hlf_stub_t *stub)
{
    (void)stub;
    return cid.msp;
}

const char *
hlf_stub_get_creator_cert_pem(hlf_stub_t *stub)
{
    (void)stub;
    return cid.msp != NULL ? cid.pem : NULL;
}

const char *
hlf_stub_get_creator_id(hlf_stub_t *stub)
{
    (void)stub;
    return cid.msp != NULL ? cid.id : NULL;
}

int
hlf_stub_get_creator_ous(hlf_stub_t *stub, const char *const **ous,
                         size_t *n)
{
    (void)stub;
    if (cid.msp == NULL) {
        *ous = NULL;
        *n = 0;
        return HLF_EINVAL;
    }
    *ous = &cid.ou;
    *n = 1;
    return HLF_OK;
}

int
hlf_stub_creator_has_ou(hlf_stub_t *stub, const char *ou)
{
    (void)stub;
    return cid.msp != NULL && ou != NULL && strcmp(cid.ou, ou) == 0;
}
