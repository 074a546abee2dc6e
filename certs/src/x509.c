/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X.509 profiles for reso-certs on OpenSSL 3: key generation, the CA,
 * identity and TLS certificate profiles, low-S signing and PEM encoding.
 * The profiles follow cryptogen 2.5 (see docs/certs.md): subjects in the
 * order C, ST, L, O, OU, CN with PrintableString where the value allows it
 * (as Go encodes them), critical basicConstraints and keyUsage, a SHA-256
 * subject key identifier on CAs and an authority key identifier on leaves.
 */
#include "x509.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* Order n of the P-256 group; low-S means s <= n/2. */
#define P256_ORDER_HEX                                                       \
    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"

/* Backdating of notBefore, as cryptogen does, to absorb clock skew. */
#define BACKDATE_SECONDS (5 * 60)

/* Length of a random serial: 16 bytes with the top bit clear. */
#define SERIAL_LEN 16

enum profile { PROFILE_CA, PROFILE_IDENTITY, PROFILE_TLS };

/* Everything that differs between the three profiles. */
struct issue_req {
    enum profile profile;
    const char *cn;
    const char *org;                 /* O=, CA only */
    const char *ou;                  /* OU=, identity only */
    const char *const *sans;         /* TLS only */
    size_t n_sans;
    EVP_PKEY *subject_key;           /* borrowed; public half used */
    const struct certs_ca *issuer;   /* NULL for a self-signed CA */
    EVP_PKEY *signing_key;           /* issuer key, or own key for a CA */
};

/*
 * Record an OpenSSL failure: the phrase what plus the first queued OpenSSL
 * reason, then clear the queue so later failures are not misattributed.
 */
static int
ossl_fail(hlf_error_t *err, const char *what)
{
    char reason[256];
    unsigned long e = ERR_peek_error();

    if (e != 0) {
        ERR_error_string_n(e, reason, sizeof(reason));
        hlf_error_set(err, HLF_ECRYPTO, "%s: %s", what, reason);
    } else {
        hlf_error_set(err, HLF_ECRYPTO, "%s", what);
    }
    ERR_clear_error();
    return HLF_ECRYPTO;
}

int
certs_key_generate(EVP_PKEY **out, hlf_error_t *err)
{
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (*out == NULL)
        return ossl_fail(err, "generating a P-256 key");
    return HLF_OK;
}

int
certs_key_ski(EVP_PKEY *key, unsigned char out[CERTS_SKI_LEN],
              hlf_error_t *err)
{
    unsigned char point[65];
    size_t len = 0;
    unsigned int mdlen = 0;

    /*
     * The uncompressed encoding is what Go's elliptic.Marshal returns and
     * what Fabric hashes to find a key in its keystore.
     */
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point,
                                        sizeof(point), &len) != 1)
        return ossl_fail(err, "reading the public point");
    if (len != sizeof(point) || point[0] != 0x04)
        return hlf_error_set(err, HLF_ECRYPTO,
                             "public point is not an uncompressed P-256 "
                             "point (%zu bytes)", len);
    if (EVP_Digest(point, len, out, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != CERTS_SKI_LEN)
        return ossl_fail(err, "hashing the public point");
    return HLF_OK;
}

int
certs_sig_is_low_s(const unsigned char *der, size_t len, int *low,
                   hlf_error_t *err)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = NULL;
    BIGNUM *half = NULL;
    const BIGNUM *s = NULL;
    int rc = HLF_OK;

    *low = 0;
    if (len == 0 || len > 1024) {
        rc = hlf_error_set(err, HLF_EINVAL, "signature length %zu", len);
        goto out;
    }
    sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (sig == NULL || p != der + len) {
        ERR_clear_error();
        rc = hlf_error_set(err, HLF_EINVAL,
                           "signature is not one DER ECDSA-Sig-Value");
        goto out;
    }
    if (BN_hex2bn(&half, P256_ORDER_HEX) == 0 || !BN_rshift1(half, half)) {
        rc = ossl_fail(err, "computing n/2");
        goto out;
    }
    s = ECDSA_SIG_get0_s(sig);
    *low = !BN_is_negative(s) && !BN_is_zero(s) && BN_cmp(s, half) <= 0;
out:
    BN_free(half);
    ECDSA_SIG_free(sig);
    return rc;
}

int
certs_sign_low_s(X509 *x, EVP_PKEY *key, hlf_error_t *err)
{
    const ASN1_BIT_STRING *sig = NULL;
    int tries;
    int low = 0;
    int rc;

    /*
     * ECDSA nonces are random, so each attempt has an independent, about
     * even, chance of producing s <= n/2.
     */
    for (tries = 0; tries < CERTS_SIGN_TRIES; tries++) {
        if (X509_sign(x, key, EVP_sha256()) <= 0)
            return ossl_fail(err, "signing a certificate");
        X509_get0_signature(&sig, NULL, x);
        rc = certs_sig_is_low_s(ASN1_STRING_get0_data(sig),
                                (size_t)ASN1_STRING_length(sig), &low, err);
        if (rc != HLF_OK)
            return rc;
        if (low)
            return HLF_OK;
    }
    return hlf_error_set(err, HLF_ECRYPTO,
                         "no low-S signature after %d tries",
                         CERTS_SIGN_TRIES);
}

/*
 * PrintableString when every byte is in its alphabet, as Go's encoder
 * does; UTF8String otherwise (e.g. "Admin@org1.example.com").
 */
static int
is_printable_string(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr(" '()+,-./:=?", c) != NULL))
            return 0;
    }
    return 1;
}

static int
name_add(X509_NAME *name, int nid, const char *value)
{
    int type = is_printable_string(value) ? V_ASN1_PRINTABLESTRING
                                          : V_ASN1_UTF8STRING;

    return X509_NAME_add_entry_by_NID(name, nid, type,
                                      (const unsigned char *)value, -1, -1,
                                      0) == 1;
}

static int
set_subject(X509 *x, const struct issue_req *r)
{
    X509_NAME *name = X509_get_subject_name(x);

    if (!name_add(name, NID_countryName, "US") ||
        !name_add(name, NID_stateOrProvinceName, "California") ||
        !name_add(name, NID_localityName, "San Francisco"))
        return 0;
    if (r->org != NULL && !name_add(name, NID_organizationName, r->org))
        return 0;
    if (r->ou != NULL &&
        !name_add(name, NID_organizationalUnitName, r->ou))
        return 0;
    return name_add(name, NID_commonName, r->cn);
}

/* A random positive serial of at most 127 bits, never zero. */
static int
set_serial(X509 *x)
{
    unsigned char buf[SERIAL_LEN];
    BIGNUM *bn = NULL;
    int ok = 0;

    if (RAND_bytes(buf, sizeof(buf)) != 1)
        goto out;
    buf[0] &= 0x7f;
    buf[SERIAL_LEN - 1] |= 0x01;
    bn = BN_bin2bn(buf, sizeof(buf), NULL);
    ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
out:
    BN_free(bn);
    return ok;
}

static int
set_validity(X509 *x, const struct certs_validity *v)
{
    time_t nb = v->not_before - BACKDATE_SECONDS;

    return ASN1_TIME_set(X509_getm_notBefore(x), nb) != NULL &&
           ASN1_TIME_adj(X509_getm_notAfter(x), nb, (int)v->days, 0) != NULL;
}

/* Add one extension given in OpenSSL's configuration syntax. */
static int
add_conf_ext(X509 *x, const struct issue_req *r, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    X509 *issuer = r->issuer != NULL ? r->issuer->cert : x;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static int
add_ski(X509 *x, EVP_PKEY *key, hlf_error_t *err)
{
    unsigned char ski[CERTS_SKI_LEN];
    ASN1_OCTET_STRING *os = NULL;
    int rc = certs_key_ski(key, ski, err);

    if (rc != HLF_OK)
        return rc;
    os = ASN1_OCTET_STRING_new();
    if (os == NULL || ASN1_OCTET_STRING_set(os, ski, sizeof(ski)) != 1 ||
        X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0,
                          X509V3_ADD_DEFAULT) != 1)
        rc = ossl_fail(err, "adding the subject key identifier");
    ASN1_OCTET_STRING_free(os);
    return rc;
}

/* AKI keyid = the issuer's SKI, so Go picks the right parent. */
static int
add_aki(X509 *x, X509 *issuer, hlf_error_t *err)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
    AUTHORITY_KEYID *akid = NULL;
    int rc = HLF_OK;

    if (ski == NULL)
        return hlf_error_set(err, HLF_ECRYPTO,
                             "issuer certificate has no SKI");
    akid = AUTHORITY_KEYID_new();
    if (akid == NULL) {
        rc = ossl_fail(err, "allocating the authority key identifier");
        goto out;
    }
    akid->keyid = ASN1_OCTET_STRING_dup(ski);
    if (akid->keyid == NULL ||
        X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
                          X509V3_ADD_DEFAULT) != 1)
        rc = ossl_fail(err, "adding the authority key identifier");
out:
    AUTHORITY_KEYID_free(akid);
    return rc;
}

/* Turn "DNS:<name>" or "IP:<address>" into a GeneralName (new). */
static GENERAL_NAME *
san_to_general_name(const char *san)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *dns = NULL;
    ASN1_OCTET_STRING *ip = NULL;

    if (gn == NULL)
        return NULL;
    if (strncmp(san, "DNS:", 4) == 0) {
        dns = ASN1_IA5STRING_new();
        if (dns == NULL || ASN1_STRING_set(dns, san + 4, -1) != 1)
            goto fail;
        GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
        return gn;
    }
    if (strncmp(san, "IP:", 3) == 0) {
        ip = a2i_IPADDRESS(san + 3);
        if (ip == NULL)
            goto fail;
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        return gn;
    }
fail:
    ASN1_IA5STRING_free(dns);
    GENERAL_NAME_free(gn);
    return NULL;
}

/*
 * Built as GeneralNames rather than through the configuration syntax so
 * that no character of a name is ever interpreted by OpenSSL's parser.
 */
static int
add_sans(X509 *x, const char *const *sans, size_t n, hlf_error_t *err)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gn = NULL;
    size_t i;
    int rc = HLF_OK;

    if (gens == NULL) {
        rc = ossl_fail(err, "allocating subjectAltNames");
        goto out;
    }
    for (i = 0; i < n; i++) {
        gn = san_to_general_name(sans[i]);
        if (gn == NULL) {
            ERR_clear_error();
            rc = hlf_error_set(err, HLF_EINVAL,
                               "bad subjectAltName \"%s\"", sans[i]);
            goto out;
        }
        if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
            GENERAL_NAME_free(gn);
            rc = ossl_fail(err, "allocating subjectAltNames");
            goto out;
        }
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
                          X509V3_ADD_DEFAULT) != 1)
        rc = ossl_fail(err, "adding subjectAltNames");
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

/* Extensions in the order Go writes them: KU, EKU, BC, SKI, AKI, SAN. */
static int
add_extensions(X509 *x, const struct issue_req *r, hlf_error_t *err)
{
    static const char *const key_usage[] = {
        [PROFILE_CA] = "critical,digitalSignature,keyEncipherment,"
                       "keyCertSign,cRLSign",
        [PROFILE_IDENTITY] = "critical,digitalSignature",
        [PROFILE_TLS] = "critical,digitalSignature,keyEncipherment",
    };
    int rc;

    if (!add_conf_ext(x, r, NID_key_usage, key_usage[r->profile]))
        return ossl_fail(err, "adding keyUsage");
    /*
     * Identity leaves carry no EKU: Fabric verifies MSP chains with Go's
     * default of serverAuth, which an EKU list without it would fail.
     */
    if (r->profile != PROFILE_IDENTITY &&
        !add_conf_ext(x, r, NID_ext_key_usage,
                      r->profile == PROFILE_CA ? "clientAuth,serverAuth"
                                               : "serverAuth,clientAuth"))
        return ossl_fail(err, "adding extendedKeyUsage");
    if (!add_conf_ext(x, r, NID_basic_constraints,
                      r->profile == PROFILE_CA ? "critical,CA:TRUE"
                                               : "critical,CA:FALSE"))
        return ossl_fail(err, "adding basicConstraints");
    if (r->profile == PROFILE_CA)
        return add_ski(x, r->subject_key, err);
    rc = add_aki(x, r->issuer->cert, err);
    if (rc == HLF_OK && r->profile == PROFILE_TLS)
        rc = add_sans(x, r->sans, r->n_sans, err);
    return rc;
}

static int
issue(X509 **out, const struct issue_req *r, const struct certs_validity *v,
      hlf_error_t *err)
{
    X509 *x = X509_new();
    int rc = HLF_OK;

    *out = NULL;
    if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
        !set_serial(x) || !set_validity(x, v) || !set_subject(x, r) ||
        X509_set_pubkey(x, r->subject_key) != 1) {
        rc = ossl_fail(err, "building a certificate");
        goto fail;
    }
    if (X509_set_issuer_name(x, r->issuer != NULL
                                    ? X509_get_subject_name(r->issuer->cert)
                                    : X509_get_subject_name(x)) != 1) {
        rc = ossl_fail(err, "setting the issuer name");
        goto fail;
    }
    rc = add_extensions(x, r, err);
    if (rc != HLF_OK)
        goto fail;
    rc = certs_sign_low_s(x, r->signing_key, err);
    if (rc != HLF_OK)
        goto fail;
    *out = x;
    return HLF_OK;
fail:
    X509_free(x);
    hlf_error_prefix(err, "certificate \"%s\"", r->cn);
    return rc;
}

int
certs_ca_init(struct certs_ca *ca, const char *cn, const char *org,
              const struct certs_validity *v, hlf_error_t *err)
{
    struct issue_req r = {.profile = PROFILE_CA, .cn = cn, .org = org};
    int rc;

    ca->cert = NULL;
    ca->key = NULL;
    rc = certs_key_generate(&ca->key, err);
    if (rc != HLF_OK)
        return rc;
    r.subject_key = ca->key;
    r.signing_key = ca->key;
    rc = issue(&ca->cert, &r, v, err);
    if (rc != HLF_OK)
        certs_ca_dispose(ca);
    return rc;
}

void
certs_ca_dispose(struct certs_ca *ca)
{
    /* EVP_PKEY_free clears the private scalar before releasing it. */
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    ca->cert = NULL;
    ca->key = NULL;
}

int
certs_issue_identity(X509 **out, const struct certs_ca *ca, EVP_PKEY *key,
                     const char *cn, const char *ou,
                     const struct certs_validity *v, hlf_error_t *err)
{
    struct issue_req r = {
        .profile = PROFILE_IDENTITY,
        .cn = cn,
        .ou = ou,
        .subject_key = key,
        .issuer = ca,
        .signing_key = ca->key,
    };

    return issue(out, &r, v, err);
}

int
certs_issue_tls(X509 **out, const struct certs_ca *ca, EVP_PKEY *key,
                const char *cn, const char *const *sans, size_t n,
                const struct certs_validity *v, hlf_error_t *err)
{
    struct issue_req r = {
        .profile = PROFILE_TLS,
        .cn = cn,
        .sans = sans,
        .n_sans = n,
        .subject_key = key,
        .issuer = ca,
        .signing_key = ca->key,
    };

    return issue(out, &r, v, err);
}

/*
 * Copy a memory BIO's contents into a NUL-terminated heap string. The BIO
 * itself wipes its buffer when freed (BUF_MEM uses clear-free).
 */
static int
bio_take(BIO *bio, char **pem, size_t *len, hlf_error_t *err)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);

    if (n <= 0 || data == NULL)
        return hlf_error_set(err, HLF_ECRYPTO, "empty PEM output");
    *pem = malloc((size_t)n + 1);
    if (*pem == NULL)
        return hlf_error_set(err, HLF_ENOMEM, "out of memory");
    memcpy(*pem, data, (size_t)n);
    (*pem)[n] = '\0';
    *len = (size_t)n;
    return HLF_OK;
}

/* Collect what was written to a fresh memory BIO, then free the BIO. */
static int
pem_finish(BIO *bio, int written, const char *what, char **pem, size_t *len,
           hlf_error_t *err)
{
    int rc;

    *pem = NULL;
    *len = 0;
    if (!written)
        rc = ossl_fail(err, what);
    else
        rc = bio_take(bio, pem, len, err);
    BIO_free(bio);
    return rc;
}

int
certs_cert_pem(X509 *x, char **pem, size_t *len, hlf_error_t *err)
{
    BIO *bio = BIO_new(BIO_s_mem());

    return pem_finish(bio, bio != NULL && PEM_write_bio_X509(bio, x) == 1,
                      "encoding a certificate as PEM", pem, len, err);
}

int
certs_key_pem(EVP_PKEY *key, char **pem, size_t *len, hlf_error_t *err)
{
    BIO *bio = BIO_new(BIO_s_mem());

    /*
     * PEM_write_bio_PrivateKey writes PKCS#8 PrivateKeyInfo, the only
     * form whose first PEM block Fabric's keystore accepts unchanged.
     */
    return pem_finish(bio,
                      bio != NULL &&
                          PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
                                                   NULL, NULL) == 1,
                      "encoding a private key as PEM", pem, len, err);
}

void
certs_secret_free(char *p, size_t len)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, len);
    free(p);
}
