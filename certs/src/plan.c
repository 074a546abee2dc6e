/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing and validation of a reso-certs plan (see plan.h). Validation is
 * strict on purpose: org names, MSP IDs and domains end up in directory
 * names, certificate subjects and config.yaml, so only characters that are
 * harmless in all three are accepted, and a domain can never contain "/"
 * or "..".
 */
#include "plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The default topology of layout.md. */
static const struct certs_org default_orderer = {
    "Orderer", "OrdererMSP", "orderer.reso.example"};

static const struct certs_org default_members[] = {
    {"Brokerage", "BrokerageMSP", "brokerage.reso.example"},
    {"Association", "AssociationMSP", "association.reso.example"},
    {"MLS", "MLSMSP", "mls.reso.example"},
};

void
certs_plan_init(struct certs_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->orderer = default_orderer;
    p->peers = 1;
    p->users = 1;
    p->days = CERTS_DEFAULT_DAYS;
    p->now = time(NULL);
}

static int
is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* 1..max characters, each alphanumeric or in extra. */
static int
is_token(const char *s, size_t len, size_t max, const char *extra)
{
    size_t i;

    if (len == 0 || len > max)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        /* strchr would find the terminator of extra, so test NUL first. */
        if (c == '\0' || (!is_alnum(c) && strchr(extra, c) == NULL))
            return 0;
    }
    return 1;
}

int
certs_is_dns_name(const char *s, int allow_upper)
{
    size_t label = 0;
    size_t total = strlen(s);
    const char *p;

    if (total == 0 || total > 253)
        return 0;
    for (p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '.') {
            /* Labels are non-empty and do not end with a hyphen. */
            if (label == 0 || p[-1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || (allow_upper && c >= 'A' && c <= 'Z')))
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > 63)
            return 0;
    }
    return label > 0 && p[-1] != '-';
}

int
certs_org_parse(const char *spec, struct certs_org *out, hlf_error_t *err)
{
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    size_t nlen, mlen, dlen;

    if (c1 == NULL || c2 == NULL || strchr(c2 + 1, ':') != NULL)
        return hlf_error_set(err, HLF_EINVAL,
                             "expected Name:MSPID:domain");
    nlen = (size_t)(c1 - spec);
    mlen = (size_t)(c2 - c1 - 1);
    dlen = strlen(c2 + 1);
    if (nlen == 0 || mlen == 0 || dlen == 0)
        return hlf_error_set(err, HLF_EINVAL,
                             "expected Name:MSPID:domain with no empty "
                             "field");
    if (!is_token(spec, nlen, CERTS_NAME_MAX, "_-"))
        return hlf_error_set(err, HLF_EINVAL,
                             "expected Name:MSPID:domain with a Name of "
                             "1-%d characters A-Z a-z 0-9 _ -",
                             CERTS_NAME_MAX);
    if (!is_token(c1 + 1, mlen, CERTS_NAME_MAX, "._-"))
        return hlf_error_set(err, HLF_EINVAL,
                             "expected Name:MSPID:domain with an MSPID of "
                             "1-%d characters A-Z a-z 0-9 . _ -",
                             CERTS_NAME_MAX);
    if (dlen > CERTS_DOMAIN_MAX || !certs_is_dns_name(c2 + 1, 0))
        return hlf_error_set(err, HLF_EINVAL,
                             "expected Name:MSPID:domain with a lower-case "
                             "DNS domain of at most %d characters",
                             CERTS_DOMAIN_MAX);
    memset(out, 0, sizeof(*out));
    memcpy(out->name, spec, nlen);
    memcpy(out->msp_id, c1 + 1, mlen);
    memcpy(out->domain, c2 + 1, dlen);
    return HLF_OK;
}

int
certs_plan_add_member(struct certs_plan *p, const struct certs_org *org,
                      hlf_error_t *err)
{
    if (p->n_members == CERTS_MAX_MEMBERS)
        return hlf_error_set(err, HLF_EINVAL,
                             "expected at most %d member orgs",
                             CERTS_MAX_MEMBERS);
    p->members[p->n_members++] = *org;
    return HLF_OK;
}

/* out = prefix + value, refused when it does not fit. */
static int
prefixed(char out[CERTS_SAN_MAX], const char *prefix, const char *value,
         hlf_error_t *err)
{
    size_t plen = strlen(prefix), vlen = strlen(value);

    if (plen + vlen >= CERTS_SAN_MAX)
        return hlf_error_set(err, HLF_EINVAL,
                             "entry of %zu characters: expected at most %d",
                             vlen, CERTS_SAN_MAX - 1 - (int)plen);
    memcpy(out, prefix, plen);
    memcpy(out + plen, value, vlen + 1);
    return HLF_OK;
}

/*
 * Canonicalise one SAN entry into out ("DNS:name" or "IP:address", the
 * address re-printed by inet_ntop so that duplicates compare equal).
 */
static int
san_canonical(const char *entry, char out[CERTS_SAN_MAX], hlf_error_t *err)
{
    unsigned char addr[16];
    char text[INET6_ADDRSTRLEN];
    const char *name = entry;
    int want_ip = 0, want_dns = 0;
    int af;

    if (strncmp(entry, "IP:", 3) == 0) {
        want_ip = 1;
        name = entry + 3;
    } else if (strncmp(entry, "DNS:", 4) == 0) {
        want_dns = 1;
        name = entry + 4;
    }
    if (!want_dns) {
        af = strchr(name, ':') != NULL ? AF_INET6 : AF_INET;
        if (inet_pton(af, name, addr) == 1 &&
            inet_ntop(af, addr, text, sizeof(text)) != NULL) {
            return prefixed(out, "IP:", text, err);
        }
        if (want_ip)
            return hlf_error_set(err, HLF_EINVAL,
                                 "entry \"%s\": expected an IPv4 or IPv6 "
                                 "address after IP:", entry);
    }
    /* A leading "*." is a wildcard; the rest must be a DNS name. */
    if (!certs_is_dns_name(strncmp(name, "*.", 2) == 0 ? name + 2 : name,
                           1))
        return hlf_error_set(err, HLF_EINVAL,
                             "entry \"%s\": expected a DNS name (labels of "
                             "A-Z a-z 0-9 -) or an IP address", entry);
    return prefixed(out, "DNS:", name, err);
}

int
certs_plan_add_sans(struct certs_plan *p, const char *list,
                    hlf_error_t *err)
{
    char entry[CERTS_SAN_MAX];
    char canon[CERTS_SAN_MAX];
    const char *start = list;
    const char *end;
    size_t len, i;
    int rc;

    for (;;) {
        end = strchr(start, ',');
        len = end != NULL ? (size_t)(end - start) : strlen(start);
        if (len == 0)
            return hlf_error_set(err, HLF_EINVAL,
                                 "expected a comma-separated list of DNS "
                                 "names and IP addresses with no empty "
                                 "entry");
        if (len >= sizeof(entry))
            return hlf_error_set(err, HLF_EINVAL,
                                 "entry of %zu characters: expected at "
                                 "most %zu", len, sizeof(entry) - 1);
        memcpy(entry, start, len);
        entry[len] = '\0';
        rc = san_canonical(entry, canon, err);
        if (rc != HLF_OK)
            return rc;
        for (i = 0; i < p->n_extra_sans; i++)
            if (strcasecmp(p->extra_sans[i], canon) == 0)
                break;
        if (i == p->n_extra_sans) {
            if (p->n_extra_sans == CERTS_MAX_EXTRA_SANS)
                return hlf_error_set(err, HLF_EINVAL,
                                     "expected at most %d extra SANs",
                                     CERTS_MAX_EXTRA_SANS);
            memcpy(p->extra_sans[p->n_extra_sans++], canon,
                   sizeof(canon));
        }
        if (end == NULL)
            return HLF_OK;
        start = end + 1;
    }
}

int
certs_parse_long(const char *s, long min, long max, long *out,
                 hlf_error_t *err)
{
    char *end = NULL;
    long v;

    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        goto bad;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        goto bad;
    *out = v;
    return HLF_OK;
bad:
    return hlf_error_set(err, HLF_EINVAL,
                         "expected an integer from %ld to %ld", min, max);
}

/* Fail on the first org whose name, MSP ID or domain an earlier one has. */
static int
check_unique(const struct certs_org *const *orgs, size_t n,
             hlf_error_t *err)
{
    size_t i, j;

    for (i = 0; i < n; i++)
        for (j = 0; j < i; j++) {
            if (strcmp(orgs[i]->name, orgs[j]->name) == 0)
                return hlf_error_set(err, HLF_EINVAL,
                                     "org name \"%s\" is used twice; "
                                     "expected unique names",
                                     orgs[i]->name);
            if (strcmp(orgs[i]->msp_id, orgs[j]->msp_id) == 0)
                return hlf_error_set(err, HLF_EINVAL,
                                     "MSP ID \"%s\" is used twice; "
                                     "expected unique MSP IDs",
                                     orgs[i]->msp_id);
            if (strcmp(orgs[i]->domain, orgs[j]->domain) == 0)
                return hlf_error_set(err, HLF_EINVAL,
                                     "domain \"%s\" is used twice; "
                                     "expected unique domains",
                                     orgs[i]->domain);
        }
    return HLF_OK;
}

int
certs_plan_finish(struct certs_plan *p, hlf_error_t *err)
{
    const struct certs_org *all[CERTS_MAX_MEMBERS + 1];
    size_t i;

    if (p->n_members == 0) {
        for (i = 0; i < sizeof(default_members) / sizeof(default_members[0]);
             i++)
            p->members[i] = default_members[i];
        p->n_members = i;
    }
    all[0] = &p->orderer;
    for (i = 0; i < p->n_members; i++)
        all[i + 1] = &p->members[i];
    return check_unique(all, p->n_members + 1, err);
}
