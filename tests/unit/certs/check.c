/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared assertions of the reso-certs tests (see check.h). Certificates
 * are verified with X509_V_FLAG_X509_STRICT so that OpenSSL's RFC 5280
 * checks (AKI/SKI presence, critical basicConstraints on CAs, ...) apply
 * on top of the explicit field-by-field assertions.
 */
#include "check.h"

#include "fsutil.h"
#include "task.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* floor(n/2) for the P-256 group order n, written out independently. */
#define HALF_ORDER_HEX                                                       \
    "7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8"

#define SUBJECT_BASE "C=US, ST=California, L=San Francisco"

char *
check_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(PATH_MAX);

    ASSERT_NOT_NULL(path);
    snprintf(path, PATH_MAX, "%s/reso-certs-test-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ASSERT_NOT_NULL(mkdtemp(path));
    return path;
}

void
check_rmtree(const char *path)
{
    ASSERT_EQ(certs_remove_tree(path, NULL), 0);
}

static FILE *
open_or_fail(const char *path)
{
    FILE *fp = fopen(path, "r");

    if (fp == NULL)
        TEST__FAIL("cannot open %s: %s", path, strerror(errno));
    return fp;
}

char *
check_read(const char *path, size_t *len)
{
    FILE *fp = open_or_fail(path);
    char *buf;
    long n;

    ASSERT_EQ(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    ASSERT_GE(n, 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    ASSERT_NOT_NULL(buf);
    ASSERT_EQ(fread(buf, 1, (size_t)n, fp), n);
    buf[n] = '\0';
    fclose(fp);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

void
check_write(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    if (fp == NULL)
        TEST__FAIL("cannot create %s: %s", path, strerror(errno));
    ASSERT_EQ(fputs(text, fp) >= 0, 1);
    ASSERT_EQ(fclose(fp), 0);
}

void
check_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        TEST__FAIL("formatted text does not fit in %zu bytes", size);
}

const char *
check_certs_bin(void)
{
#ifdef RESO_CERTS_BIN
    return RESO_CERTS_BIN;
#else
    TEST__FAIL("RESO_CERTS_BIN is not defined");
#endif
}

/* An unlinked-on-read temporary file for a child's output stream. */
static int
capture_file(char *path, size_t size)
{
    const char *base = getenv("TMPDIR");
    int fd;

    snprintf(path, size, "%s/reso-certs-out-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    return fd;
}

int
check_run(char *const argv[], char *const extra_env[], char **out,
          char **err)
{
    char opath[PATH_MAX], epath[PATH_MAX];
    int ofd = capture_file(opath, sizeof(opath));
    int efd = capture_file(epath, sizeof(epath));
    int status = 0;
    pid_t pid;
    size_t i;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        for (i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
            putenv(extra_env[i]);
        if (dup2(ofd, 1) < 0 || dup2(efd, 2) < 0)
            _exit(126);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        ASSERT_EQ(errno, EINTR);
    close(ofd);
    close(efd);
    if (out != NULL)
        *out = check_read(opath, NULL);
    if (err != NULL)
        *err = check_read(epath, NULL);
    unlink(opath);
    unlink(epath);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

X509 *
check_load_cert(const char *path)
{
    FILE *fp = open_or_fail(path);
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);

    fclose(fp);
    if (x == NULL)
        TEST__FAIL("%s is not a PEM certificate", path);
    return x;
}

EVP_PKEY *
check_load_key(const char *path)
{
    FILE *fp = open_or_fail(path);
    EVP_PKEY *k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);

    fclose(fp);
    if (k == NULL)
        TEST__FAIL("%s is not a PEM private key", path);
    return k;
}

char *
check_subject(X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *s;
    long n;

    ASSERT_NOT_NULL(bio);
    ASSERT_GE(X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
                                 XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ),
              0);
    n = BIO_get_mem_data(bio, &data);
    s = malloc((size_t)n + 1);
    ASSERT_NOT_NULL(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    return s;
}

int
check_low_s(X509 *x)
{
    const ASN1_BIT_STRING *sig = NULL;
    const unsigned char *p;
    ECDSA_SIG *es;
    BIGNUM *half = NULL;
    const BIGNUM *s;
    int low;

    X509_get0_signature(&sig, NULL, x);
    ASSERT_NOT_NULL(sig);
    p = ASN1_STRING_get0_data(sig);
    es = d2i_ECDSA_SIG(NULL, &p, ASN1_STRING_length(sig));
    ASSERT_NOT_NULL(es);
    ASSERT(p == ASN1_STRING_get0_data(sig) + ASN1_STRING_length(sig));
    ASSERT(BN_hex2bn(&half, HALF_ORDER_HEX) > 0);
    s = ECDSA_SIG_get0_s(es);
    low = !BN_is_zero(s) && !BN_is_negative(s) && BN_cmp(s, half) <= 0;
    BN_free(half);
    ECDSA_SIG_free(es);
    return low;
}

/* Criticality of extension nid in x; -1 when absent. */
static int
ext_critical(X509 *x, int nid)
{
    int idx = X509_get_ext_by_NID(x, nid, -1);

    if (idx < 0)
        return -1;
    ASSERT_EQ(X509_get_ext_by_NID(x, nid, idx), -1); /* no duplicate */
    return X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

/* Number of EKU OIDs, -1 without the extension. */
static int
eku_count(X509 *x)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL,
                                               NULL);
    int n;

    if (eku == NULL)
        return -1;
    n = sk_ASN1_OBJECT_num(eku);
    EXTENDED_KEY_USAGE_free(eku);
    return n;
}

/* Basic facts every certificate of the tool shares. */
static void
check_common(X509 *x, long days)
{
    BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    int d = 0, sec = 0;

    ASSERT_EQ(X509_get_version(x), X509_VERSION_3);
    ASSERT_EQ(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
    ASSERT_NOT_NULL(serial);
    ASSERT_EQ(BN_is_negative(serial), 0);
    ASSERT_EQ(BN_is_zero(serial), 0);
    ASSERT_LE(BN_num_bits(serial), 128);
    BN_free(serial);
    ASSERT_EQ(ASN1_TIME_diff(&d, &sec, X509_get0_notBefore(x),
                             X509_get0_notAfter(x)),
              1);
    ASSERT_EQ(d, days);
    ASSERT_EQ(sec, 0);
    ASSERT_EQ(check_low_s(x), 1);
    ASSERT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(x)), EVP_PKEY_EC);
    ASSERT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
    ASSERT_EQ(ext_critical(x, NID_basic_constraints), 1);
    ASSERT_EQ(ext_critical(x, NID_key_usage), 1);
}

/* Verify x against the single trust anchor ca for purpose (0: none). */
static void
verify_with(X509 *x, X509 *ca, int purpose)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok;

    ASSERT_NOT_NULL(store);
    ASSERT_NOT_NULL(ctx);
    ASSERT_EQ(X509_STORE_add_cert(store, ca), 1);
    X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT |
                                    X509_V_FLAG_CHECK_SS_SIGNATURE);
    ASSERT_EQ(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
    if (purpose != 0)
        ASSERT_EQ(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
    ok = X509_verify_cert(ctx);
    if (ok != 1)
        TEST__FAIL("X509_verify_cert: %s", X509_verify_cert_error_string(
                                               X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
}

/* AKI keyid of x equals the SKI of ca. */
static void
check_aki(X509 *x, X509 *ca)
{
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);

    ASSERT_NOT_NULL(aki);
    ASSERT_NOT_NULL(ski);
    ASSERT_EQ(ASN1_STRING_length(aki), 32);
    ASSERT_EQ(ASN1_OCTET_STRING_cmp(aki, ski), 0);
    ASSERT_EQ(ext_critical(x, NID_authority_key_identifier), 0);
}

static void
check_subject_is(X509 *x, const char *want)
{
    char *got = check_subject(x);

    ASSERT_STR_EQ(got, want);
    free(got);
}

void
check_ca_profile(X509 *ca, const char *cn, const char *org, long days)
{
    const ASN1_OCTET_STRING *ski;
    const ASN1_BIT_STRING *point;
    unsigned char digest[32];
    unsigned int mdlen = 0;
    char want[512];
    BASIC_CONSTRAINTS *bc;

    check_common(ca, days);
    snprintf(want, sizeof(want), SUBJECT_BASE ", O=%s, CN=%s", org, cn);
    check_subject_is(ca, want);
    ASSERT_EQ(X509_NAME_cmp(X509_get_subject_name(ca),
                            X509_get_issuer_name(ca)),
              0);
    bc = X509_get_ext_d2i(ca, NID_basic_constraints, NULL, NULL);
    ASSERT_NOT_NULL(bc);
    ASSERT_NE(bc->ca, 0);
    ASSERT_NULL(bc->pathlen);
    BASIC_CONSTRAINTS_free(bc);
    ASSERT_EQ(X509_check_ca(ca), 1);
    ASSERT_EQ(X509_get_key_usage(ca), KU_DIGITAL_SIGNATURE |
                                          KU_KEY_ENCIPHERMENT |
                                          KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    ASSERT_EQ(X509_get_extended_key_usage(ca), XKU_SSL_SERVER |
                                                   XKU_SSL_CLIENT);
    ASSERT_EQ(eku_count(ca), 2);
    ASSERT_EQ(ext_critical(ca, NID_ext_key_usage), 0);
    /* SKI = SHA-256 over the subjectPublicKey bits (0x04||X||Y). */
    ski = X509_get0_subject_key_id(ca);
    ASSERT_NOT_NULL(ski);
    ASSERT_EQ(ASN1_STRING_length(ski), 32);
    point = X509_get0_pubkey_bitstr(ca);
    ASSERT_EQ(ASN1_STRING_length(point), 65);
    ASSERT_EQ(ASN1_STRING_get0_data(point)[0], 0x04);
    ASSERT_EQ(EVP_Digest(ASN1_STRING_get0_data(point), 65, digest, &mdlen,
                         EVP_sha256(), NULL),
              1);
    ASSERT_MEM_EQ(ASN1_STRING_get0_data(ski), digest, 32);
    ASSERT_EQ(ext_critical(ca, NID_subject_key_identifier), 0);
    ASSERT_EQ(ext_critical(ca, NID_authority_key_identifier), -1);
    ASSERT_EQ(ext_critical(ca, NID_subject_alt_name), -1);
    ASSERT_EQ(X509_get_ext_count(ca), 4);
    ASSERT_EQ(X509_verify(ca, X509_get0_pubkey(ca)), 1);
    verify_with(ca, ca, 0);
}

void
check_identity_profile(X509 *x, X509 *ca, const char *cn, const char *ou,
                       long days)
{
    X509_NAME *name = X509_get_subject_name(x);
    char want[512];
    int idx;

    check_common(x, days);
    snprintf(want, sizeof(want), SUBJECT_BASE ", OU=%s, CN=%s", ou, cn);
    check_subject_is(x, want);
    idx = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, -1);
    ASSERT_GE(idx, 0);
    ASSERT_EQ(X509_NAME_get_index_by_NID(name, NID_organizationalUnitName,
                                         idx),
              -1);
    ASSERT_EQ(X509_NAME_get_index_by_NID(name, NID_organizationName, -1),
              -1);
    ASSERT_EQ(X509_NAME_cmp(X509_get_issuer_name(x),
                            X509_get_subject_name(ca)),
              0);
    ASSERT_EQ(X509_check_ca(x), 0);
    ASSERT_EQ(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
    ASSERT_EQ(ext_critical(x, NID_ext_key_usage), -1);
    ASSERT_EQ(eku_count(x), -1);
    ASSERT_EQ(ext_critical(x, NID_subject_alt_name), -1);
    check_aki(x, ca);
    ASSERT_EQ(X509_get_ext_count(x), 3);
    verify_with(x, ca, 0);
}

/* SAN i of gens as "DNS:x" / "IP:a.b.c.d" into buf. */
static void
san_text(const GENERAL_NAME *gn, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    const ASN1_STRING *s;
    int len;

    if (gn->type == GEN_DNS) {
        s = gn->d.dNSName;
        snprintf(buf, size, "DNS:%.*s", ASN1_STRING_length(s),
                 (const char *)ASN1_STRING_get0_data(s));
        return;
    }
    ASSERT_EQ(gn->type, GEN_IPADD);
    s = gn->d.iPAddress;
    len = ASN1_STRING_length(s);
    ASSERT(len == 4 || len == 16);
    ASSERT_NOT_NULL(inet_ntop(len == 4 ? AF_INET : AF_INET6,
                              ASN1_STRING_get0_data(s), ip, sizeof(ip)));
    snprintf(buf, size, "IP:%s", ip);
}

void
check_tls_profile(X509 *x, X509 *ca, const char *cn,
                  const char *const *sans, size_t n, long days)
{
    GENERAL_NAMES *gens;
    char want[512], got[512];
    size_t i;

    check_common(x, days);
    snprintf(want, sizeof(want), SUBJECT_BASE ", CN=%s", cn);
    check_subject_is(x, want);
    ASSERT_EQ(X509_check_ca(x), 0);
    ASSERT_EQ(X509_get_key_usage(x),
              KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
    ASSERT_EQ(X509_get_extended_key_usage(x),
              XKU_SSL_SERVER | XKU_SSL_CLIENT);
    ASSERT_EQ(eku_count(x), 2);
    check_aki(x, ca);
    ASSERT_EQ(ext_critical(x, NID_subject_alt_name), 0);
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    ASSERT_NOT_NULL(gens);
    ASSERT_EQ(sk_GENERAL_NAME_num(gens), n);
    for (i = 0; i < n; i++) {
        san_text(sk_GENERAL_NAME_value(gens, (int)i), got, sizeof(got));
        ASSERT_STR_EQ(got, sans[i]);
    }
    GENERAL_NAMES_free(gens);
    ASSERT_EQ(X509_get_ext_count(x), 5);
    verify_with(x, ca, X509_PURPOSE_SSL_SERVER);
    verify_with(x, ca, X509_PURPOSE_SSL_CLIENT);
}

void
check_key_file(const char *path, X509 *cert)
{
    static const char header[] = "-----BEGIN PRIVATE KEY-----\n";
    struct stat st;
    char group[64];
    size_t glen = 0;
    EVP_PKEY *key;
    char *text;

    ASSERT_EQ(lstat(path, &st), 0);
    ASSERT_EQ(S_ISREG(st.st_mode), 1);
    ASSERT_EQ(st.st_mode & 07777, 0600);
    text = check_read(path, NULL);
    ASSERT_EQ(strncmp(text, header, sizeof(header) - 1), 0);
    /* Exactly one PEM block: Fabric reads only the first. */
    ASSERT_NULL(strstr(text + 1, "-----BEGIN"));
    free(text);
    key = check_load_key(path);
    ASSERT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof(group), &glen), 1);
    ASSERT_STR_EQ(group, "prime256v1");
    ASSERT_EQ(EVP_PKEY_eq(key, X509_get0_pubkey(cert)), 1);
    ASSERT_EQ(X509_check_private_key(cert, key), 1);
    EVP_PKEY_free(key);
}

void
check_config_yaml(const char *path, const char *ca_file)
{
    char want[2048];
    char *got = check_read(path, NULL);

    snprintf(want, sizeof(want),
             "NodeOUs:\n"
             "  Enable: true\n"
             "  ClientOUIdentifier:\n"
             "    Certificate: cacerts/%s\n"
             "    OrganizationalUnitIdentifier: client\n"
             "  PeerOUIdentifier:\n"
             "    Certificate: cacerts/%s\n"
             "    OrganizationalUnitIdentifier: peer\n"
             "  AdminOUIdentifier:\n"
             "    Certificate: cacerts/%s\n"
             "    OrganizationalUnitIdentifier: admin\n"
             "  OrdererOUIdentifier:\n"
             "    Certificate: cacerts/%s\n"
             "    OrganizationalUnitIdentifier: orderer\n",
             ca_file, ca_file, ca_file, ca_file);
    ASSERT_STR_EQ(got, want);
    free(got);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of path (new array of new strings), count in *n. */
static char **
sorted_names(const char *path, size_t *n)
{
    DIR *dir = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t cap = 0;

    if (dir == NULL)
        TEST__FAIL("cannot open directory %s: %s", path, strerror(errno));
    *n = 0;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, cap * sizeof(*names));
            ASSERT_NOT_NULL(names);
        }
        names[*n] = strdup(de->d_name);
        ASSERT_NOT_NULL(names[*n]);
        (*n)++;
    }
    closedir(dir);
    if (*n > 0)
        qsort(names, *n, sizeof(*names), cmp_names);
    return names;
}

static void
free_names(char **names, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

char *
check_list(const char *path)
{
    size_t n, i, len = 1;
    char **names = sorted_names(path, &n);
    char *out;

    for (i = 0; i < n; i++)
        len += strlen(names[i]) + 1;
    out = malloc(len);
    ASSERT_NOT_NULL(out);
    for (i = 0, len = 0; i < n; i++) {
        if (i > 0)
            out[len++] = ',';
        memcpy(out + len, names[i], strlen(names[i]));
        len += strlen(names[i]);
    }
    out[len] = '\0';
    free_names(names, n);
    return out;
}

/* Depth-first sorted walk calling fn(path, st, ctx) on every entry. */
typedef void (*walk_fn)(const char *path, const struct stat *st, void *ctx);

static void
walk(const char *root, walk_fn fn, void *ctx)
{
    char child[PATH_MAX];
    struct stat st;
    char **names;
    size_t n, i;

    ASSERT_EQ(lstat(root, &st), 0);
    fn(root, &st, ctx);
    if (!S_ISDIR(st.st_mode))
        return;
    names = sorted_names(root, &n);
    for (i = 0; i < n; i++) {
        snprintf(child, sizeof(child), "%s/%s", root, names[i]);
        walk(child, fn, ctx);
    }
    free_names(names, n);
}

static void
digest_entry(const char *path, const struct stat *st, void *ctx)
{
    char meta[64];
    size_t len = 0;
    char *data;

    ASSERT_EQ(EVP_DigestUpdate(ctx, path, strlen(path) + 1), 1);
    snprintf(meta, sizeof(meta), "%o", (unsigned)st->st_mode);
    ASSERT_EQ(EVP_DigestUpdate(ctx, meta, strlen(meta) + 1), 1);
    if (!S_ISREG(st->st_mode))
        return;
    data = check_read(path, &len);
    ASSERT_EQ(EVP_DigestUpdate(ctx, data, len), 1);
    free(data);
}

void
check_tree_digest(const char *root, unsigned char out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    ASSERT_NOT_NULL(md);
    ASSERT_EQ(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    walk(root, digest_entry, md);
    ASSERT_EQ(EVP_DigestFinal_ex(md, out, NULL), 1);
    EVP_MD_CTX_free(md);
}

struct file_counts {
    size_t certs;
    size_t keys;
};

static int
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void
count_entry(const char *path, const struct stat *st, void *ctx)
{
    static const char header[] = "-----BEGIN PRIVATE KEY-----\n";
    struct file_counts *c = ctx;
    X509 *x;
    char *text;

    if (!S_ISREG(st->st_mode))
        return;
    if (ends_with(path, ".pem") || ends_with(path, ".crt")) {
        x = check_load_cert(path);
        if (!check_low_s(x))
            TEST__FAIL("%s has a high-S signature", path);
        X509_free(x);
        c->certs++;
    } else if (ends_with(path, "/priv_sk") || ends_with(path, ".key")) {
        if ((st->st_mode & 07777) != 0600)
            TEST__FAIL("%s has mode %o", path, st->st_mode & 07777);
        text = check_read(path, NULL);
        ASSERT_EQ(strncmp(text, header, sizeof(header) - 1), 0);
        free(text);
        c->keys++;
    } else if (!ends_with(path, "/config.yaml")) {
        TEST__FAIL("unexpected file %s", path);
    }
}

void
check_all_files(const char *root, size_t *certs, size_t *keys)
{
    struct file_counts c = {0, 0};

    walk(root, count_entry, &c);
    *certs = c.certs;
    *keys = c.keys;
}
