/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client identity: the creator's msp.SerializedIdentity and X.509
 * certificate, parsed on first use (most transactions never ask).
 *
 * Distinguished names are printed the way Go's pkix.Name.String() prints a
 * parsed certificate name, so ids computed here match the Go cid package:
 * the well-known attributes are regrouped in Go's fixed order (C, ST, L,
 * STREET, POSTALCODE, O, OU, CN, SERIALNUMBER; several values of one type
 * form one multi-valued RDN), other attributes go in front of them as
 * single RDNs, and the sequence is printed last RDN first with RFC 2253
 * escaping. Fabric CA
 * attributes come from extension 1.2.3.4.5.6.7.8.1, whose value is the
 * JSON document {"attrs":{"name":"value",...}}.
 *
 * OpenSSL use in the shim is confined to this file.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <hlf/err.h>

#include "msp/identities.pb-c.h"
#include "shim_internal.h"

#define ATTR_OID "1.2.3.4.5.6.7.8.1"

struct hlf__cid_s {
    char *msp_id;
    char *pem;
    char *subject;
    char *issuer;
    char *common_name;
    char *id;
    char **ous;
    size_t n_ous;
    json_t *attrs;      /* the "attrs" object, or NULL */
};

void
hlf__cid_free(hlf__cid_t *cid)
{
    size_t i;

    if (cid == NULL)
        return;
    free(cid->msp_id);
    free(cid->pem);
    free(cid->subject);
    free(cid->issuer);
    free(cid->common_name);
    free(cid->id);
    for (i = 0; i < cid->n_ous; i++)
        free(cid->ous[i]);
    free(cid->ous);
    if (cid->attrs != NULL)
        json_decref(cid->attrs);
    free(cid);
}

/* ------------------------------------------------------------------------ */
/* A tiny string builder                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    char *s;
    size_t len;
    size_t cap;
    int oom;
} sbuf_t;

static void
sb_add(sbuf_t *b, const char *p, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 128;
        char *q;
        while (cap - b->len < n + 1)
            cap *= 2;
        q = realloc(b->s, cap);
        if (q == NULL) {
            b->oom = 1;
            return;
        }
        b->s = q;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
sb_str(sbuf_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* Append value with RFC 2253 escaping as Go's pkix does it. */
static void
sb_escaped(sbuf_t *b, const char *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = v[i];
        int esc = 0;
        switch (c) {
        case ',': case '+': case '"': case '\\': case '<': case '>':
        case ';':
            esc = 1;
            break;
        case ' ':
            esc = i == 0 || i == n - 1;
            break;
        case '#':
            esc = i == 0;
            break;
        default:
            break;
        }
        if (esc)
            sb_add(b, "\\", 1);
        sb_add(b, &c, 1);
    }
}

/* ------------------------------------------------------------------------ */
/* Distinguished names                                                      */
/* ------------------------------------------------------------------------ */

/* Go's fixed order of well-known attribute types and their short names. */
static const struct {
    int nid;
    const char *name;
} known[] = {
    {NID_countryName, "C"},
    {NID_stateOrProvinceName, "ST"},
    {NID_localityName, "L"},
    {NID_streetAddress, "STREET"},
    {NID_postalCode, "POSTALCODE"},
    {NID_organizationName, "O"},
    {NID_organizationalUnitName, "OU"},
    {NID_commonName, "CN"},
    {NID_serialNumber, "SERIALNUMBER"},
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static int
known_index(int nid)
{
    size_t i;

    for (i = 0; i < N_KNOWN; i++)
        if (known[i].nid == nid)
            return (int)i;
    return -1;
}

/* One printed RDN. */
typedef struct {
    char *text;
} rdn_t;

/* Is every byte of s in ASN.1 PrintableString's alphabet? */
static int
printable(const unsigned char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9'))
            continue;
        if (c == '\0' || strchr(" '()+,-./:=?", c) == NULL)
            return 0;
    }
    return 1;
}

/*
 * "OID=#<hex>" for an attribute Go has no name for: Go re-marshals the
 * string value, as PrintableString when possible, else UTF8String.
 */
static void
sb_unknown(sbuf_t *b, const ASN1_OBJECT *obj, const unsigned char *v,
           size_t n)
{
    char oid[128], hex[3];
    unsigned char hdr[6];
    size_t h = 0, i;

    OBJ_obj2txt(oid, sizeof(oid), obj, 1);
    sb_str(b, oid);
    sb_str(b, "=#");
    hdr[h++] = printable(v, n) ? 0x13 : 0x0C;
    if (n < 0x80) {
        hdr[h++] = (unsigned char)n;
    } else if (n < 0x100) {
        hdr[h++] = 0x81;
        hdr[h++] = (unsigned char)n;
    } else {
        hdr[h++] = 0x82;
        hdr[h++] = (unsigned char)(n >> 8);
        hdr[h++] = (unsigned char)n;
    }
    for (i = 0; i < h + n; i++) {
        unsigned char c = i < h ? hdr[i] : v[i - h];
        snprintf(hex, sizeof(hex), "%02x", c);
        sb_add(b, hex, 2);
    }
}

/*
 * Print name as Go does (see the file comment). Returns a new string or
 * NULL on OOM. When cn is not NULL it receives the last CN value (new).
 */
static char *
name_string(const X509_NAME *name, char **cn)
{
    int count = X509_NAME_entry_count(name), i, k;
    sbuf_t groups[N_KNOWN];
    sbuf_t out = {0}, extra = {0};
    rdn_t *extras = NULL;
    size_t n_extras = 0, j;
    char *last_cn = NULL;
    int first = 1;

    memset(groups, 0, sizeof(groups));
    extras = calloc((size_t)count + 1, sizeof(*extras));
    if (extras == NULL)
        return NULL;
    for (i = 0; i < count; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
        const ASN1_STRING *data = X509_NAME_ENTRY_get_data(e);
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, data);

        if (len < 0)
            continue;
        k = known_index(OBJ_obj2nid(obj));
        if (k >= 0 && (known[k].nid == NID_commonName ||
                       known[k].nid == NID_serialNumber)) {
            /* Go keeps only the last CN and serial number. */
            free(groups[k].s);
            memset(&groups[k], 0, sizeof(groups[k]));
        }
        if (k >= 0) {
            sbuf_t *g = &groups[k];
            if (g->len > 0)
                sb_str(g, "+");
            sb_str(g, known[k].name);
            sb_str(g, "=");
            sb_escaped(g, (const char *)utf8, (size_t)len);
            if (known[k].nid == NID_commonName && cn != NULL) {
                free(last_cn);
                last_cn = strndup((const char *)utf8, (size_t)len);
            }
        } else {
            memset(&extra, 0, sizeof(extra));
            sb_unknown(&extra, obj, utf8, (size_t)len);
            extras[n_extras++].text = extra.s;
            if (extra.oom)
                out.oom = 1;
        }
        OPENSSL_free(utf8);
    }
    /* Go puts unrecognised attributes at the start of the RDN sequence and
     * prints the sequence backwards: the known groups from SERIALNUMBER
     * down to C come first, then the others, last one first. */
    for (k = (int)N_KNOWN - 1; k >= 0; k--) {
        if (groups[k].len == 0)
            continue;
        if (!first)
            sb_str(&out, ",");
        sb_str(&out, groups[k].s);
        first = 0;
        if (groups[k].oom)
            out.oom = 1;
    }
    for (j = n_extras; j > 0; j--) {
        if (extras[j - 1].text == NULL)
            continue;
        if (!first)
            sb_str(&out, ",");
        sb_str(&out, extras[j - 1].text);
        first = 0;
    }
    if (out.s == NULL && !out.oom)
        sb_str(&out, "");
    for (k = 0; k < (int)N_KNOWN; k++)
        free(groups[k].s);
    for (j = 0; j < n_extras; j++)
        free(extras[j].text);
    free(extras);
    if (out.oom) {
        free(out.s);
        free(last_cn);
        return NULL;
    }
    if (cn != NULL)
        *cn = last_cn != NULL ? last_cn : strdup("");
    return out.s;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

static int
parse_ous(hlf__cid_t *cid, const X509_NAME *subj)
{
    int i = -1;

    while ((i = X509_NAME_get_index_by_NID(subj, NID_organizationalUnitName,
                                           i)) >= 0) {
        const ASN1_STRING *d =
            X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, d);
        char **grown;

        if (len < 0)
            continue;
        grown = realloc(cid->ous, (cid->n_ous + 1) * sizeof(char *));
        if (grown == NULL) {
            OPENSSL_free(utf8);
            return HLF_ENOMEM;
        }
        cid->ous = grown;
        cid->ous[cid->n_ous] = strndup((const char *)utf8, (size_t)len);
        OPENSSL_free(utf8);
        if (cid->ous[cid->n_ous] == NULL)
            return HLF_ENOMEM;
        cid->n_ous++;
    }
    return HLF_OK;
}

/* The Fabric CA attribute extension, if present, as a JSON object. */
static void
parse_attrs(hlf__cid_t *cid, X509 *cert)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(ATTR_OID, 1);
    const ASN1_OCTET_STRING *v;
    X509_EXTENSION *ext;
    json_t *doc, *attrs;
    int idx;

    if (oid == NULL)
        return;
    idx = X509_get_ext_by_OBJ(cert, oid, -1);
    ASN1_OBJECT_free(oid);
    if (idx < 0)
        return;
    ext = X509_get_ext(cert, idx);
    v = X509_EXTENSION_get_data(ext);
    doc = json_loadb((const char *)ASN1_STRING_get0_data(v),
                     (size_t)ASN1_STRING_length(v), 0, NULL);
    if (doc == NULL)
        return;
    attrs = json_object_get(doc, "attrs");
    if (json_is_object(attrs))
        cid->attrs = json_incref(attrs);
    json_decref(doc);
}

static int
parse_cert(hlf_stub_t *stub, hlf__cid_t *cid,
           const Msp__SerializedIdentity *sid)
{
    BIO *bio;
    X509 *cert;
    sbuf_t id = {0};
    int rc = HLF_OK;

    cid->pem = strndup((const char *)sid->id_bytes.data, sid->id_bytes.len);
    if (cid->pem == NULL)
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    bio = BIO_new_mem_buf(sid->id_bytes.data, (int)sid->id_bytes.len);
    if (bio == NULL)
        return hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (cert == NULL)
        return hlf__stub_fail(stub, HLF_EINVAL,
                              "creator is not a PEM X.509 certificate");
    cid->subject = name_string(X509_get_subject_name(cert),
                               &cid->common_name);
    cid->issuer = name_string(X509_get_issuer_name(cert), NULL);
    if (cid->subject == NULL || cid->issuer == NULL ||
        cid->common_name == NULL) {
        rc = hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
        goto out;
    }
    sb_str(&id, "x509::");
    sb_str(&id, cid->subject);
    sb_str(&id, "::");
    sb_str(&id, cid->issuer);
    if (id.oom) {
        free(id.s);
        rc = hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
        goto out;
    }
    cid->id = id.s;
    if (parse_ous(cid, X509_get_subject_name(cert)) != HLF_OK) {
        rc = hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
        goto out;
    }
    parse_attrs(cid, cert);
out:
    X509_free(cert);
    return rc;
}

/* Parse the creator once; NULL (with last_err set) when impossible. */
static hlf__cid_t *
get_cid(hlf_stub_t *stub)
{
    Msp__SerializedIdentity *sid;
    hlf__cid_t *cid;
    int rc;

    if (stub == NULL)
        return NULL;
    hlf_error_clear(&stub->last_err);
    if (stub->cid != NULL)
        return stub->cid;
    if (stub->proposal == NULL) {
        hlf__stub_fail(stub, HLF_EINVAL,
                       "transaction carries no signed proposal");
        return NULL;
    }
    sid = msp__serialized_identity__unpack(NULL, stub->shdr->creator.len,
                                           stub->shdr->creator.data);
    if (sid == NULL) {
        hlf__stub_fail(stub, HLF_EPROTO,
                       "creator is not a SerializedIdentity");
        return NULL;
    }
    cid = calloc(1, sizeof(*cid));
    if (cid == NULL) {
        msp__serialized_identity__free_unpacked(sid, NULL);
        hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
        return NULL;
    }
    cid->msp_id = strdup(sid->mspid);
    rc = cid->msp_id != NULL
             ? parse_cert(stub, cid, sid)
             : hlf__stub_fail(stub, HLF_ENOMEM, "out of memory");
    msp__serialized_identity__free_unpacked(sid, NULL);
    if (rc != HLF_OK) {
        hlf__cid_free(cid);
        return NULL;
    }
    stub->cid = cid;
    return cid;
}

/* ------------------------------------------------------------------------ */
/* Public accessors                                                         */
/* ------------------------------------------------------------------------ */

/* The string getters differ only in the field they return. */
#define CID_GETTER(fn, field)                                                \
    const char *fn(hlf_stub_t *stub)                                         \
    {                                                                        \
        hlf__cid_t *cid = get_cid(stub);                                     \
        return cid != NULL ? cid->field : NULL;                              \
    }

CID_GETTER(hlf_stub_get_creator_msp_id, msp_id)
CID_GETTER(hlf_stub_get_creator_cert_pem, pem)
CID_GETTER(hlf_stub_get_creator_subject, subject)
CID_GETTER(hlf_stub_get_creator_issuer, issuer)
CID_GETTER(hlf_stub_get_creator_common_name, common_name)
CID_GETTER(hlf_stub_get_creator_id, id)

int
hlf_stub_get_creator_ous(hlf_stub_t *stub, const char *const **ous,
                         size_t *n)
{
    hlf__cid_t *cid;

    if (stub == NULL || ous == NULL || n == NULL)
        return HLF_EINVAL;
    *ous = NULL;
    *n = 0;
    cid = get_cid(stub);
    if (cid == NULL)
        return stub->last_err.code;
    *ous = (const char *const *)cid->ous;
    *n = cid->n_ous;
    return HLF_OK;
}

int
hlf_stub_creator_has_ou(hlf_stub_t *stub, const char *ou)
{
    hlf__cid_t *cid = get_cid(stub);
    size_t i;

    if (cid == NULL || ou == NULL)
        return 0;
    for (i = 0; i < cid->n_ous; i++)
        if (strcmp(cid->ous[i], ou) == 0)
            return 1;
    return 0;
}

const char *
hlf_stub_get_creator_attribute(hlf_stub_t *stub, const char *name)
{
    hlf__cid_t *cid = get_cid(stub);
    json_t *v;

    if (cid == NULL || name == NULL || cid->attrs == NULL)
        return NULL;
    v = json_object_get(cid->attrs, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
