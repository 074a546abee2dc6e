/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plan of a reso-certs run: which orgs to generate (one orderer org and
 * the member orgs), how many peers and users each member org gets, the
 * validity period and any extra subjectAltNames for TLS certificates. This
 * module parses and validates the command-line values that make up a plan,
 * so that the generator only ever sees names that are safe to use as path
 * components, certificate subjects and YAML scalars.
 *
 * THREAD SAFETY: all functions are reentrant; a plan is a plain value.
 */
#ifndef CERTS_PLAN_H
#define CERTS_PLAN_H

#include "hlf/err.h"

#include <stddef.h>
#include <time.h>

#define CERTS_NAME_MAX 63       /* org name and MSP ID, characters */
#define CERTS_DOMAIN_MAX 128    /* org domain, characters */
#define CERTS_MAX_MEMBERS 16    /* member orgs per run */
#define CERTS_MAX_PEERS 32      /* peers per member org */
#define CERTS_MAX_USERS 32      /* non-admin users per member org */
#define CERTS_MAX_EXTRA_SANS 16 /* --sans entries in total */
#define CERTS_SAN_MAX 260       /* "DNS:" + 253-character name + NUL */
#define CERTS_MIN_DAYS 1
#define CERTS_MAX_DAYS 36500
#define CERTS_DEFAULT_DAYS 3650

/* One organization: its configtx name, MSP ID and DNS domain. */
struct certs_org {
    char name[CERTS_NAME_MAX + 1];
    char msp_id[CERTS_NAME_MAX + 1];
    char domain[CERTS_DOMAIN_MAX + 1];
};

struct certs_plan {
    struct certs_org orderer;
    struct certs_org members[CERTS_MAX_MEMBERS];
    size_t n_members;
    long peers;              /* peer0 .. peer<peers-1> per member org */
    long users;              /* User1 .. User<users> per member org */
    long days;               /* certificate lifetime */
    char extra_sans[CERTS_MAX_EXTRA_SANS][CERTS_SAN_MAX]; /* "DNS:"/"IP:" */
    size_t n_extra_sans;
    time_t now;              /* the one clock reading of the run */
};

/*
 * Defaults of layout.md: orderer org Orderer/OrdererMSP/
 * orderer.reso.example, no member orgs yet (certs_plan_finish adds the
 * default three when none were given), 1 peer, 1 user, 3650 days, no
 * extra SANs, now = time(NULL).
 */
void certs_plan_init(struct certs_plan *p);

/*
 * Parse "Name:MSPID:domain" into *out. HLF_EINVAL with the reason (and
 * what is expected) in err when a field is missing or malformed.
 */
int certs_org_parse(const char *spec, struct certs_org *out,
                    hlf_error_t *err);

/* Append a member org; HLF_EINVAL when CERTS_MAX_MEMBERS are present. */
int certs_plan_add_member(struct certs_plan *p, const struct certs_org *org,
                          hlf_error_t *err);

/*
 * Parse a comma-separated SAN list ("IP:10.0.0.5,DNS:host,example.org";
 * a bare entry is an IP address if it parses as one, a DNS name otherwise)
 * and append its entries in canonical "DNS:"/"IP:" form, skipping
 * duplicates. HLF_EINVAL for an empty or malformed entry or too many.
 */
int certs_plan_add_sans(struct certs_plan *p, const char *list,
                        hlf_error_t *err);

/*
 * Parse a decimal integer in [min, max] (digits only, no sign or spaces).
 * HLF_EINVAL with "expected an integer from min to max" otherwise.
 */
int certs_parse_long(const char *s, long min, long max, long *out,
                     hlf_error_t *err);

/*
 * Complete a plan after parsing: add the default member orgs (Brokerage,
 * Association, MLS) when none were given, then require every org name,
 * MSP ID and domain to be unique. HLF_EINVAL naming the duplicate.
 */
int certs_plan_finish(struct certs_plan *p, hlf_error_t *err);

/* Is s a DNS name this tool accepts (labels of a-z A-Z 0-9 '-')? */
int certs_is_dns_name(const char *s, int allow_upper);

#endif /* CERTS_PLAN_H */
