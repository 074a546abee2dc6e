/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for certs/src/plan.c: org specs, SAN lists, bounded integers,
 * defaults and uniqueness, with the exact messages users see.
 */
#include "plan.h"

#include "task.h"

/* Parse spec and expect HLF_EINVAL with text want. */
static void
org_fails(const char *spec, const char *want)
{
    struct certs_org org;
    hlf_error_t err;

    hlf_error_clear(&err);
    ASSERT_EQ(certs_org_parse(spec, &org, &err), HLF_EINVAL);
    ASSERT_EQ(err.code, HLF_EINVAL);
    ASSERT_STR_EQ(err.text, want);
}

TEST_IMPL(org_parse_ok)
{
    struct certs_org org;

    ASSERT_EQ(certs_org_parse("Title_Co-2:TitleMSP.v2:title-2.reso.example",
                              &org, NULL),
              HLF_OK);
    ASSERT_STR_EQ(org.name, "Title_Co-2");
    ASSERT_STR_EQ(org.msp_id, "TitleMSP.v2");
    ASSERT_STR_EQ(org.domain, "title-2.reso.example");
    ASSERT_EQ(certs_org_parse("A:B:c", &org, NULL), HLF_OK);
    ASSERT_STR_EQ(org.domain, "c");
}

TEST_IMPL(org_parse_errors)
{
    char name64[80];

    org_fails("Foo", "expected Name:MSPID:domain");
    org_fails("Foo:FooMSP", "expected Name:MSPID:domain");
    org_fails("A:B:c.example:d", "expected Name:MSPID:domain");
    org_fails("::", "expected Name:MSPID:domain with no empty field");
    org_fails("A::a.example", "expected Name:MSPID:domain with no empty "
                              "field");
    org_fails("A:B:", "expected Name:MSPID:domain with no empty field");
    org_fails("Bad Name:B:a.example",
              "expected Name:MSPID:domain with a Name of 1-63 characters "
              "A-Z a-z 0-9 _ -");
    org_fails("A:B/C:a.example",
              "expected Name:MSPID:domain with an MSPID of 1-63 "
              "characters A-Z a-z 0-9 . _ -");
    memset(name64, 'n', 64);
    memcpy(name64 + 64, ":M:a.example", 13);
    org_fails(name64, "expected Name:MSPID:domain with a Name of 1-63 "
                      "characters A-Z a-z 0-9 _ -");
    /* Domains become directory names: no slash, no dot-dot, lower case. */
    org_fails("A:B:../etc", "expected Name:MSPID:domain with a lower-case "
                            "DNS domain of at most 128 characters");
    org_fails("A:B:a/b", "expected Name:MSPID:domain with a lower-case "
                         "DNS domain of at most 128 characters");
    org_fails("A:B:Upper.example", "expected Name:MSPID:domain with a "
                                   "lower-case DNS domain of at most 128 "
                                   "characters");
    org_fails("A:B:-a.example", "expected Name:MSPID:domain with a "
                                "lower-case DNS domain of at most 128 "
                                "characters");
}

TEST_IMPL(dns_names)
{
    char label64[80];

    ASSERT_EQ(certs_is_dns_name("a.b-c.d9", 0), 1);
    ASSERT_EQ(certs_is_dns_name("Peer0.Example", 1), 1);
    ASSERT_EQ(certs_is_dns_name("Peer0.Example", 0), 0);
    ASSERT_EQ(certs_is_dns_name("", 1), 0);
    ASSERT_EQ(certs_is_dns_name("a..b", 1), 0);
    ASSERT_EQ(certs_is_dns_name(".a", 1), 0);
    ASSERT_EQ(certs_is_dns_name("a.", 1), 0);
    ASSERT_EQ(certs_is_dns_name("a-.b", 1), 0);
    ASSERT_EQ(certs_is_dns_name("a.b-", 1), 0);
    ASSERT_EQ(certs_is_dns_name("a_b", 1), 0);
    ASSERT_EQ(certs_is_dns_name("a@b", 1), 0);
    memset(label64, 'x', 63);
    label64[63] = '\0';
    ASSERT_EQ(certs_is_dns_name(label64, 0), 1);
    label64[63] = 'x';
    label64[64] = '\0';
    ASSERT_EQ(certs_is_dns_name(label64, 0), 0);
}

TEST_IMPL(sans_parse)
{
    struct certs_plan p;

    certs_plan_init(&p);
    ASSERT_EQ(certs_plan_add_sans(&p, "10.0.0.5,host.example,DNS:Other,"
                                      "IP:0:0::1,*.wild.example",
                                  NULL),
              HLF_OK);
    ASSERT_EQ(p.n_extra_sans, 5);
    ASSERT_STR_EQ(p.extra_sans[0], "IP:10.0.0.5");
    ASSERT_STR_EQ(p.extra_sans[1], "DNS:host.example");
    ASSERT_STR_EQ(p.extra_sans[2], "DNS:Other");
    ASSERT_STR_EQ(p.extra_sans[3], "IP:::1");
    ASSERT_STR_EQ(p.extra_sans[4], "DNS:*.wild.example");
    /* Duplicates (after canonicalisation, any case) are dropped. */
    ASSERT_EQ(certs_plan_add_sans(&p, "::1,HOST.example,IP:10.0.0.5", NULL),
              HLF_OK);
    ASSERT_EQ(p.n_extra_sans, 5);
}

static void
sans_fail(const char *list, const char *want)
{
    struct certs_plan p;
    hlf_error_t err;

    certs_plan_init(&p);
    hlf_error_clear(&err);
    ASSERT_EQ(certs_plan_add_sans(&p, list, &err), HLF_EINVAL);
    ASSERT_STR_EQ(err.text, want);
}

TEST_IMPL(sans_errors)
{
    struct certs_plan p;
    char list[256];
    hlf_error_t err;
    int i, n = 0;

    sans_fail("", "expected a comma-separated list of DNS names and IP "
                  "addresses with no empty entry");
    sans_fail("a.example,,b.example",
              "expected a comma-separated list of DNS names and IP "
              "addresses with no empty entry");
    sans_fail("a.example,", "expected a comma-separated list of DNS names "
                            "and IP addresses with no empty entry");
    sans_fail("IP:300.1.1.1", "entry \"IP:300.1.1.1\": expected an IPv4 or "
                              "IPv6 address after IP:");
    sans_fail("bad_name", "entry \"bad_name\": expected a DNS name (labels "
                          "of A-Z a-z 0-9 -) or an IP address");
    sans_fail("DNS:10.0.0.1.", "entry \"DNS:10.0.0.1.\": expected a DNS "
                               "name (labels of A-Z a-z 0-9 -) or an IP "
                               "address");
    /* At most CERTS_MAX_EXTRA_SANS distinct entries. */
    for (i = 0; i <= CERTS_MAX_EXTRA_SANS; i++)
        n += snprintf(list + n, sizeof(list) - (size_t)n, "%sh%d.example",
                      i ? "," : "", i);
    certs_plan_init(&p);
    hlf_error_clear(&err);
    ASSERT_EQ(certs_plan_add_sans(&p, list, &err), HLF_EINVAL);
    ASSERT_STR_EQ(err.text, "expected at most 16 extra SANs");
}

TEST_IMPL(parse_long)
{
    hlf_error_t err;
    long v = -1;

    ASSERT_EQ(certs_parse_long("0", 0, 32, &v, NULL), HLF_OK);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(certs_parse_long("36500", 1, 36500, &v, NULL), HLF_OK);
    ASSERT_EQ(v, 36500);
    hlf_error_clear(&err);
    ASSERT_EQ(certs_parse_long("36501", 1, 36500, &v, &err), HLF_EINVAL);
    ASSERT_STR_EQ(err.text, "expected an integer from 1 to 36500");
    ASSERT_EQ(v, 36500); /* untouched on error */
    ASSERT_EQ(certs_parse_long("", 1, 5, &v, NULL), HLF_EINVAL);
    ASSERT_EQ(certs_parse_long("-1", -5, 5, &v, NULL), HLF_EINVAL);
    ASSERT_EQ(certs_parse_long("+1", 1, 5, &v, NULL), HLF_EINVAL);
    ASSERT_EQ(certs_parse_long(" 1", 1, 5, &v, NULL), HLF_EINVAL);
    ASSERT_EQ(certs_parse_long("1x", 1, 5, &v, NULL), HLF_EINVAL);
    ASSERT_EQ(certs_parse_long("99999999999999999999", 1, 5, &v, NULL),
              HLF_EINVAL);
}

TEST_IMPL(plan_defaults)
{
    struct certs_plan p;

    certs_plan_init(&p);
    ASSERT_STR_EQ(p.orderer.name, "Orderer");
    ASSERT_STR_EQ(p.orderer.msp_id, "OrdererMSP");
    ASSERT_STR_EQ(p.orderer.domain, "orderer.reso.example");
    ASSERT_EQ(p.n_members, 0);
    ASSERT_EQ(p.peers, 1);
    ASSERT_EQ(p.users, 1);
    ASSERT_EQ(p.days, 3650);
    ASSERT_EQ(p.n_extra_sans, 0);
    ASSERT_EQ(certs_plan_finish(&p, NULL), HLF_OK);
    ASSERT_EQ(p.n_members, 3);
    ASSERT_STR_EQ(p.members[0].name, "Brokerage");
    ASSERT_STR_EQ(p.members[0].msp_id, "BrokerageMSP");
    ASSERT_STR_EQ(p.members[0].domain, "brokerage.reso.example");
    ASSERT_STR_EQ(p.members[1].name, "Association");
    ASSERT_STR_EQ(p.members[1].msp_id, "AssociationMSP");
    ASSERT_STR_EQ(p.members[1].domain, "association.reso.example");
    ASSERT_STR_EQ(p.members[2].name, "MLS");
    ASSERT_STR_EQ(p.members[2].msp_id, "MLSMSP");
    ASSERT_STR_EQ(p.members[2].domain, "mls.reso.example");
}

/* A plan with the given member specs must fail finish with want. */
static void
finish_fails(const char *a, const char *b, const char *want)
{
    struct certs_plan p;
    struct certs_org org;
    hlf_error_t err;

    certs_plan_init(&p);
    ASSERT_EQ(certs_org_parse(a, &org, NULL), HLF_OK);
    ASSERT_EQ(certs_plan_add_member(&p, &org, NULL), HLF_OK);
    ASSERT_EQ(certs_org_parse(b, &org, NULL), HLF_OK);
    ASSERT_EQ(certs_plan_add_member(&p, &org, NULL), HLF_OK);
    hlf_error_clear(&err);
    ASSERT_EQ(certs_plan_finish(&p, &err), HLF_EINVAL);
    ASSERT_STR_EQ(err.text, want);
}

TEST_IMPL(plan_uniqueness)
{
    struct certs_plan p;
    struct certs_org org;
    hlf_error_t err;
    int i;

    finish_fails("A:AMSP:a.example", "A:BMSP:b.example",
                 "org name \"A\" is used twice; expected unique names");
    finish_fails("A:AMSP:a.example", "B:AMSP:b.example",
                 "MSP ID \"AMSP\" is used twice; expected unique MSP IDs");
    finish_fails("A:AMSP:a.example", "B:BMSP:a.example",
                 "domain \"a.example\" is used twice; expected unique "
                 "domains");
    finish_fails("A:AMSP:a.example", "B:OrdererMSP:b.example",
                 "MSP ID \"OrdererMSP\" is used twice; expected unique MSP "
                 "IDs");
    /* Given members replace the defaults entirely. */
    certs_plan_init(&p);
    ASSERT_EQ(certs_org_parse("Solo:SoloMSP:solo.example", &org, NULL),
              HLF_OK);
    ASSERT_EQ(certs_plan_add_member(&p, &org, NULL), HLF_OK);
    ASSERT_EQ(certs_plan_finish(&p, NULL), HLF_OK);
    ASSERT_EQ(p.n_members, 1);
    ASSERT_STR_EQ(p.members[0].name, "Solo");
    /* At most CERTS_MAX_MEMBERS member orgs. */
    certs_plan_init(&p);
    for (i = 0; i < CERTS_MAX_MEMBERS; i++)
        ASSERT_EQ(certs_plan_add_member(&p, &org, NULL), HLF_OK);
    hlf_error_clear(&err);
    ASSERT_EQ(certs_plan_add_member(&p, &org, &err), HLF_EINVAL);
    ASSERT_STR_EQ(err.text, "expected at most 16 member orgs");
}

static const test_entry_t tests[] = {
    TEST_ENTRY(org_parse_ok),
    TEST_ENTRY(org_parse_errors),
    TEST_ENTRY(dns_names),
    TEST_ENTRY(sans_parse),
    TEST_ENTRY(sans_errors),
    TEST_ENTRY(parse_long),
    TEST_ENTRY(plan_defaults),
    TEST_ENTRY(plan_uniqueness),
};

TEST_MAIN(tests)
