/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers: temp dirs, keys and certificates (see testutil.h). */
/* nftw() is an X/Open extension. */
#define _XOPEN_SOURCE 700
#include "testutil.h"
#include "task.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

EVP_PKEY *
tu_keygen(const char *curve)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve ? curve : "P-256");

    ASSERT_NOT_NULL(k);
    return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;

    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ASSERT_NOT_NULL(e);
    ASSERT_EQ(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

X509 *
tu_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
        int is_ca, const char *san)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_NAME *name;

    ASSERT_NOT_NULL(x);
    ASSERT_EQ(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *)"hlf-test", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    ASSERT_EQ(X509_set_issuer_name(
                  x, issuer ? X509_get_subject_name(issuer) : name),
              1);
    ASSERT_EQ(X509_set_pubkey(x, key), 1);
    add_ext(x, issuer, NID_basic_constraints,
            is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, issuer, NID_key_usage,
            is_ca ? "critical,digitalSignature,keyCertSign,cRLSign"
                  : "critical,digitalSignature,keyEncipherment");
    add_ext(x, issuer, NID_subject_key_identifier, "hash");
    if (issuer != NULL)
        add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    if (san != NULL) {
        add_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
        add_ext(x, issuer, NID_subject_alt_name, san);
    }
    ASSERT(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static FILE *
open_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *fp;

    ASSERT(fd >= 0);
    fp = fdopen(fd, "w");
    ASSERT_NOT_NULL(fp);
    return fp;
}

void
tu_write_key(const char *path, EVP_PKEY *key, int sec1)
{
    FILE *fp = open_private(path);
    BIO *bio = BIO_new_fp(fp, BIO_CLOSE);

    ASSERT_NOT_NULL(bio);
    if (sec1)
        ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL,
                                                       0, NULL, NULL),
                  1);
    else
        ASSERT_EQ(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
                                           NULL),
                  1);
    BIO_free(bio);
}

void
tu_write_cert(const char *path, X509 *x)
{
    FILE *fp = fopen(path, "w");

    ASSERT_NOT_NULL(fp);
    ASSERT_EQ(PEM_write_X509(fp, x), 1);
    fclose(fp);
}

void
tu_write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    ASSERT_NOT_NULL(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *
bio_text(BIO *bio)
{
    char *data, *s;
    long n = BIO_get_mem_data(bio, &data);

    ASSERT(n > 0);
    s = malloc((size_t)n + 1);
    ASSERT_NOT_NULL(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    return s;
}

char *
tu_cert_pem(X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());

    ASSERT_EQ(PEM_write_bio_X509(bio, x), 1);
    return bio_text(bio);
}

char *
tu_key_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());

    ASSERT_EQ(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL),
              1);
    return bio_text(bio);
}

char *
tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char buf[512];
    char *d;

    snprintf(buf, sizeof(buf), "%s/hlf-test-XXXXXX",
             base && *base ? base : "/tmp");
    d = mkdtemp(buf);
    ASSERT_NOT_NULL(d);
    d = strdup(buf);
    ASSERT_NOT_NULL(d);
    return d;
}

void
tu_mkdir(const char *path)
{
    ASSERT_EQ(mkdir(path, 0700), 0);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void
tu_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
tu_sha256_hex(const void *a, size_t alen, const void *b, size_t blen,
              char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int i;

    ASSERT_EQ(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    ASSERT_EQ(EVP_DigestUpdate(ctx, a, alen), 1);
    ASSERT_EQ(EVP_DigestUpdate(ctx, b, blen), 1);
    ASSERT_EQ(EVP_DigestFinal_ex(ctx, d, &n), 1);
    EVP_MD_CTX_free(ctx);
    ASSERT_EQ(n, 32);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int
tu_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig,
          size_t siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    ASSERT_EQ(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    ok = EVP_DigestVerify(ctx, sig, siglen, msg, len);
    EVP_MD_CTX_free(ctx);
    return ok == 1;
}

int
tu_is_low_s(const uint8_t *der, size_t len)
{
    static const char half_hex[] =
        "7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8";
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    unsigned char *re = NULL;
    BIGNUM *half = NULL;
    const BIGNUM *s;
    int ok;

    if (sig == NULL)
        return 0;
    ok = p == der + len && i2d_ECDSA_SIG(sig, &re) == (int)len &&
         memcmp(re, der, len) == 0;
    OPENSSL_free(re);
    ASSERT(BN_hex2bn(&half, half_hex) > 0);
    ECDSA_SIG_get0(sig, NULL, &s);
    ok = ok && BN_cmp(s, half) <= 0;
    BN_free(half);
    ECDSA_SIG_free(sig);
    return ok;
}

void
tu_msp_make(tu_msp_t *m, const char *cn)
{
    char p[600];

    memset(m, 0, sizeof(*m));
    m->dir = tu_mkdtemp();
    snprintf(m->msp, sizeof(m->msp), "%s/msp", m->dir);
    tu_mkdir(m->msp);
    snprintf(p, sizeof(p), "%s/signcerts", m->msp);
    tu_mkdir(p);
    snprintf(p, sizeof(p), "%s/keystore", m->msp);
    tu_mkdir(p);
    m->key = tu_keygen(NULL);
    m->cert = tu_cert(m->key, cn, NULL, NULL, 0, NULL);
    snprintf(m->cert_path, sizeof(m->cert_path), "%s/signcerts/%s-cert.pem",
             m->msp, cn);
    snprintf(m->key_path, sizeof(m->key_path), "%s/keystore/priv_sk",
             m->msp);
    tu_write_cert(m->cert_path, m->cert);
    tu_write_key(m->key_path, m->key, 0);
}

void
tu_msp_free(tu_msp_t *m)
{
    tu_rmrf(m->dir);
    free(m->dir);
    EVP_PKEY_free(m->key);
    X509_free(m->cert);
    memset(m, 0, sizeof(*m));
}

int
tu_closed_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    ASSERT(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}
