/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client-identity part of the stub double (fake_stub.h): the
 * hlf_stub_get_creator_* functions of hlf/shim.h answer from one identity
 * that a test sets with fake_cid_set() before fake_invoke(). Link it next
 * to fake_stub.c in any test whose contract code asks who the caller is
 * (admin checks, recorder binding). Test-only code; never ships.
 *
 * Default identity: MSP "BrokerageMSP", OU "client", the certificate
 * FAKE_CID_DEFAULT_PEM and id "x509::CN=client::CN=ca".
 *
 * THREAD SAFETY: none; one test process, one thread.
 */
#ifndef RESO_FAKE_CID_H
#define RESO_FAKE_CID_H

/* A PEM whose base64 body decodes to the 5 bytes "hello". */
#define FAKE_CID_DEFAULT_PEM                                                 \
    "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n"

/*
 * Make the creator msp (NULL: the transaction has no X.509 creator, every
 * creator function answers NULL / 0), with the single OU ou ("client",
 * "admin", ...), certificate PEM cert_pem and creator id id. Strings are
 * borrowed and must stay valid until the next fake_cid_set(); NULL for
 * cert_pem or id keeps the defaults.
 */
void fake_cid_set(const char *msp, const char *ou, const char *cert_pem,
                  const char *id);

/* Back to the default identity. */
void fake_cid_reset(void);

#endif /* RESO_FAKE_CID_H */
