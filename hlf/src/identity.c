/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client identities: loading a certificate and its private key from an MSP
 * directory or from PEM files, the serialized creator, and low-S ECDSA
 * signing. With crypto.c this is the only place libhlf uses OpenSSL.
 */
#include "hlf/identity.h"
#include "hlf/crypto.h"
#include "hlf/mem.h"
#include "msp/identities.pb-c.h"
#include "file.h"
#include "pb.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Fabric's keystore ignores files of 64 KiB and more; so do we. */
#define KEYSTORE_MAX_FILE (64 * 1024)
/* A certificate file larger than this is certainly not a signcert. */
#define CERT_MAX_FILE (1024 * 1024)

struct hlf_identity_s {
    atomic_int refs;
    char *msp_id;
    char *cert_pem;
    size_t cert_len;
    uint8_t *creator;
    size_t creator_len;
    EVP_PKEY *key;
};

/* ------------------------------------------------------------------------
 * PEM parsing
 * ---------------------------------------------------------------------- */

/* Never prompt for a passphrase: encrypted keys are simply not usable. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static int
is_p256(const EVP_PKEY *pk)
{
    char group[64];
    size_t n = 0;

    if (pk == NULL || !EVP_PKEY_is_a(pk, "EC"))
        return 0;
    if (!EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group),
                                        &n))
        return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* Parse the first certificate of pem; NULL if there is none. */
static X509 *
parse_cert(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = NULL;

    if (bio != NULL)
        x = PEM_read_bio_X509(bio, NULL, no_password, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return x;
}

/* Parse an unencrypted PKCS#8 or SEC1 private key; NULL if none. */
static EVP_PKEY *
parse_key(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = NULL;

    if (bio != NULL)
        k = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return k;
}

/*
 * Canonical PEM text of x (64-column base64, LF line ends), the form both
 * cryptogen and the Go gateway client put into SerializedIdentity.id_bytes.
 */
static int
cert_to_pem(X509 *x, char **out, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    int rc = HLF_ENOMEM;

    if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
        goto done;
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0)
        goto done;
    *out = hlf_memdup(data, (size_t)n);
    if (*out == NULL)
        goto done;
    *len = (size_t)n;
    rc = HLF_OK;
done:
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

/* ------------------------------------------------------------------------
 * Construction
 * ---------------------------------------------------------------------- */

/* Build the identity from a parsed certificate and key (takes the key). */
static int
identity_new(X509 *cert, EVP_PKEY *key, const char *msp_id,
             hlf_identity_t **out, hlf_error_t *err)
{
    Msp__SerializedIdentity si = MSP__SERIALIZED_IDENTITY__INIT;
    hlf_identity_t *id;

    id = hlf_calloc(1, sizeof(*id));
    if (id == NULL) {
        EVP_PKEY_free(key);
        return hlf_error_set(err, HLF_ENOMEM, "identity: out of memory");
    }
    atomic_init(&id->refs, 1);
    id->key = key;
    id->msp_id = hlf_strdup(msp_id);
    if (id->msp_id == NULL ||
        cert_to_pem(cert, &id->cert_pem, &id->cert_len) != HLF_OK)
        goto nomem;
    si.mspid = id->msp_id;
    si.id_bytes.data = (uint8_t *)id->cert_pem;
    si.id_bytes.len = id->cert_len;
    if (hlf__pb_pack(&si.base, &id->creator, &id->creator_len) != HLF_OK)
        goto nomem;
    *out = id;
    return HLF_OK;
nomem:
    hlf_identity_unref(id);
    return hlf_error_set(err, HLF_ENOMEM, "identity: out of memory");
}

static int
check_args(const char *a, const char *b, const char *msp_id,
           hlf_identity_t **out, hlf_error_t *err)
{
    if (out != NULL)
        *out = NULL;
    if (a == NULL || *a == '\0' || b == NULL || *b == '\0' ||
        msp_id == NULL || *msp_id == '\0' || out == NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "identity: missing path, MSP id or output");
    return HLF_OK;
}

/* Parse the certificate and insist on an ECDSA P-256 public key. */
static int
load_cert(const char *pem, size_t len, const char *what, X509 **out,
          hlf_error_t *err)
{
    *out = parse_cert(pem, len);
    if (*out == NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "%s: no PEM certificate found", what);
    if (!is_p256(X509_get0_pubkey(*out))) {
        X509_free(*out);
        *out = NULL;
        return hlf_error_set(err, HLF_EINVAL,
                             "%s: certificate key is not ECDSA P-256", what);
    }
    return HLF_OK;
}

/*
 * Build an identity from certificate and key PEM text; cert_name and
 * key_name (paths or generic words) make the error texts specific.
 */
static int
from_pem_named(const char *cert_pem, size_t cert_len, const char *cert_name,
               const char *key_pem, size_t key_len, const char *key_name,
               const char *msp_id, hlf_identity_t **out, hlf_error_t *err)
{
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    int rc;

    rc = load_cert(cert_pem, cert_len, cert_name, &cert, err);
    if (rc != HLF_OK)
        return rc;
    key = parse_key(key_pem, key_len);
    if (key == NULL) {
        rc = hlf_error_set(err, HLF_EINVAL,
                           "%s: no unencrypted PEM private key found",
                           key_name);
        goto done;
    }
    if (EVP_PKEY_eq(key, X509_get0_pubkey(cert)) != 1) {
        EVP_PKEY_free(key);
        rc = hlf_error_set(err, HLF_EINVAL,
                           "%s does not match the public key of %s",
                           key_name, cert_name);
        goto done;
    }
    rc = identity_new(cert, key, msp_id, out, err);
done:
    X509_free(cert);
    ERR_clear_error();
    return rc;
}

int
hlf_identity_from_pem(const char *cert_pem, size_t cert_len,
                      const char *key_pem, size_t key_len, const char *msp_id,
                      hlf_identity_t **out, hlf_error_t *err)
{
    int rc;

    rc = check_args(cert_pem, key_pem, msp_id, out, err);
    if (rc != HLF_OK)
        return rc;
    return from_pem_named(cert_pem, cert_len, "certificate", key_pem,
                          key_len, "private key", msp_id, out, err);
}

int
hlf_identity_load_files(const char *cert_path, const char *key_path,
                        const char *msp_id, hlf_identity_t **out,
                        hlf_error_t *err)
{
    char *cert = NULL, *key = NULL;
    char key_name[4200];
    size_t cert_len = 0, key_len = 0;
    int rc;

    rc = check_args(cert_path, key_path, msp_id, out, err);
    if (rc != HLF_OK)
        return rc;
    rc = hlf__read_file(cert_path, CERT_MAX_FILE, &cert, &cert_len, err);
    if (rc != HLF_OK)
        goto done;
    rc = hlf__read_file(key_path, KEYSTORE_MAX_FILE, &key, &key_len, err);
    if (rc != HLF_OK)
        goto done;
    snprintf(key_name, sizeof(key_name), "private key %s", key_path);
    rc = from_pem_named(cert, cert_len, cert_path, key, key_len, key_name,
                        msp_id, out, err);
done:
    hlf_free(cert);
    hlf__free_secret(key, key_len);
    return rc;
}

/* ------------------------------------------------------------------------
 * MSP directories
 * ---------------------------------------------------------------------- */

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
is_regular(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * out = a "/" b; 0 if it fits, -1 if the path is too long (such entries
 * are skipped: no real MSP path comes near PATH_MAX).
 */
static int
join_path(char *out, size_t size, const char *a, const char *b)
{
    int n = snprintf(out, size, "%s/%s", a, b);

    return n >= 0 && (size_t)n < size ? 0 : -1;
}

static int
open_dir(const char *path, DIR **d, hlf_error_t *err)
{
    *d = opendir(path);
    if (*d == NULL)
        return hlf_error_set(err,
                             errno == ENOENT ? HLF_ENOTFOUND : HLF_EIO,
                             "MSP directory %s: %s", path, strerror(errno));
    return HLF_OK;
}

/* Find the one *.pem file in dir/signcerts; path written to out. */
static int
find_signcert(const char *msp_dir, char *out, size_t outsz, hlf_error_t *err)
{
    char dir[4096], path[4096];
    struct dirent *de;
    DIR *d;
    int n = 0, rc;

    if (join_path(dir, sizeof(dir), msp_dir, "signcerts") != 0)
        return hlf_error_set(err, HLF_EINVAL, "MSP directory path too long");
    rc = open_dir(dir, &d, err);
    if (rc != HLF_OK)
        return rc;
    while ((de = readdir(d)) != NULL) {
        if (!ends_with(de->d_name, ".pem"))
            continue;
        if (join_path(path, sizeof(path), dir, de->d_name) != 0 ||
            !is_regular(path))
            continue;
        if (n++ == 0 && join_path(out, outsz, dir, de->d_name) != 0)
            n--;
    }
    closedir(d);
    if (n == 0)
        return hlf_error_set(err, HLF_ENOTFOUND,
                             "MSP directory %s: no certificate (*.pem) in "
                             "signcerts/",
                             msp_dir);
    if (n > 1)
        return hlf_error_set(err, HLF_EINVAL,
                             "MSP directory %s: signcerts/ holds %d "
                             "certificates, expected exactly one",
                             msp_dir, n);
    return HLF_OK;
}

/*
 * Scan dir/keystore for the private key whose public half equals the
 * certificate's. Unreadable, oversized or non-key files are skipped, as
 * Fabric's keystore does.
 */
static int
find_key(const char *msp_dir, X509 *cert, const char *cert_path,
         EVP_PKEY **out, hlf_error_t *err)
{
    char dir[4096], path[4096];
    struct dirent *de;
    EVP_PKEY *k;
    DIR *d;
    char *buf;
    size_t len;
    int tried = 0, rc;

    *out = NULL;
    if (join_path(dir, sizeof(dir), msp_dir, "keystore") != 0)
        return hlf_error_set(err, HLF_EINVAL, "MSP directory path too long");
    rc = open_dir(dir, &d, err);
    if (rc != HLF_OK)
        return rc;
    while (*out == NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' ||
            join_path(path, sizeof(path), dir, de->d_name) != 0 ||
            !is_regular(path))
            continue;
        tried++;
        rc = hlf__read_file(path, KEYSTORE_MAX_FILE, &buf, &len, NULL);
        if (rc == HLF_ENOMEM) {
            closedir(d);
            return hlf_error_set(err, rc, "%s: out of memory", path);
        }
        if (rc != HLF_OK)
            continue;
        k = parse_key(buf, len);
        hlf__free_secret(buf, len);
        if (k != NULL && EVP_PKEY_eq(k, X509_get0_pubkey(cert)) == 1)
            *out = k;
        else
            EVP_PKEY_free(k);
    }
    closedir(d);
    ERR_clear_error();
    if (*out == NULL)
        return hlf_error_set(err, HLF_ENOTFOUND,
                             "MSP directory %s: no private key in keystore/ "
                             "matches certificate %s (%d file%s tried)",
                             msp_dir, cert_path, tried,
                             tried == 1 ? "" : "s");
    return HLF_OK;
}

int
hlf_identity_load_msp(const char *msp_dir, const char *msp_id,
                      hlf_identity_t **out, hlf_error_t *err)
{
    char cert_path[4096];
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    struct stat st;
    char *pem = NULL;
    size_t len = 0;
    int rc;

    rc = check_args(msp_dir, msp_id, msp_id, out, err);
    if (rc != HLF_OK)
        return rc;
    if (stat(msp_dir, &st) != 0)
        return hlf_error_set(err, errno == ENOENT ? HLF_ENOTFOUND : HLF_EIO,
                             "MSP directory %s: %s", msp_dir,
                             strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return hlf_error_set(err, HLF_EINVAL,
                             "MSP directory %s: not a directory", msp_dir);
    rc = find_signcert(msp_dir, cert_path, sizeof(cert_path), err);
    if (rc != HLF_OK)
        return rc;
    rc = hlf__read_file(cert_path, CERT_MAX_FILE, &pem, &len, err);
    if (rc != HLF_OK)
        return rc;
    rc = load_cert(pem, len, cert_path, &cert, err);
    hlf_free(pem);
    if (rc != HLF_OK)
        return rc;
    rc = find_key(msp_dir, cert, cert_path, &key, err);
    if (rc == HLF_OK)
        rc = identity_new(cert, key, msp_id, out, err);
    X509_free(cert);
    return rc;
}

/* ------------------------------------------------------------------------
 * Use
 * ---------------------------------------------------------------------- */

hlf_identity_t *
hlf_identity_ref(hlf_identity_t *id)
{
    atomic_fetch_add_explicit(&id->refs, 1, memory_order_relaxed);
    return id;
}

void
hlf_identity_unref(hlf_identity_t *id)
{
    if (id == NULL ||
        atomic_fetch_sub_explicit(&id->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* EVP_PKEY_free clears the private scalar before releasing it. */
    EVP_PKEY_free(id->key);
    hlf_free(id->msp_id);
    hlf_free(id->cert_pem);
    hlf_free(id->creator);
    hlf_wipe(id, sizeof(*id));
    hlf_free(id);
}

const char *
hlf_identity_msp_id(const hlf_identity_t *id)
{
    return id->msp_id;
}

const char *
hlf_identity_cert_pem(const hlf_identity_t *id, size_t *len)
{
    if (len != NULL)
        *len = id->cert_len;
    return id->cert_pem;
}

const uint8_t *
hlf_identity_creator(const hlf_identity_t *id, size_t *len)
{
    if (len != NULL)
        *len = id->creator_len;
    return id->creator;
}

int
hlf_identity_sign(const hlf_identity_t *id, const void *msg, size_t len,
                  uint8_t **sig, size_t *siglen)
{
    uint8_t raw[HLF_ECDSA_P256_DER_MAX + 8];
    size_t rawlen = sizeof(raw);
    EVP_MD_CTX *ctx;
    uint8_t *out;
    int rc = HLF_ECRYPTO;

    if (id == NULL || (msg == NULL && len) || sig == NULL || siglen == NULL)
        return HLF_EINVAL;
    *sig = NULL;
    *siglen = 0;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return HLF_ENOMEM;
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, id->key) != 1 ||
        EVP_DigestSign(ctx, raw, &rawlen, msg ? msg : (const void *)"",
                       len) != 1)
        goto done;
    out = hlf_malloc(HLF_ECDSA_P256_DER_MAX);
    if (out == NULL) {
        rc = HLF_ENOMEM;
        goto done;
    }
    rc = hlf_ecdsa_low_s(raw, rawlen, out, siglen);
    if (rc != HLF_OK) {
        hlf_free(out);
        goto done;
    }
    *sig = out;
done:
    EVP_MD_CTX_free(ctx);
    hlf_wipe(raw, sizeof(raw));
    ERR_clear_error();
    return rc;
}
