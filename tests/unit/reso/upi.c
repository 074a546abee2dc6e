/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UPI helpers (reso-model.md §5.3): the dash form's parts, the URN v2
 * form, the SHA3-256 hashed form with the model's published vector, and
 * the dash-to-URN conversion.
 */
#include "evl.h"
#include "task.h"

#include "hlf/crypto.h"

#include <string.h>

#define VEC_URN "urn:reso:upi:2.0:US:48201:R000022230"
#define VEC_HASH "dc7a33c65e3aef98ea21501841f9240cdf3e7ff5441c98d824f44ddee362f1d2"

TEST_IMPL(sha3_256_vectors)
{
    uint8_t md[HLF_SHA3_256_LEN];
    char hex[65];

    hlf_sha3_256(VEC_URN, strlen(VEC_URN), md);
    hlf_hex_encode(md, sizeof(md), hex);
    ASSERT_STR_EQ(hex, VEC_HASH);
    /* FIPS 202 SHA3-256 of the empty string. */
    hlf_sha3_256("", 0, md);
    hlf_hex_encode(md, sizeof(md), hex);
    ASSERT_STR_EQ(hex, "a7ffc6f8bf1ed76651c14756a061d662"
                       "f580ff4de43b49fa82d80a4b80f8434a");
}

TEST_IMPL(hash_urn_vector)
{
    char out[EVL_UPI_SIZE], why[128];

    ASSERT_EQ(evl_upi_hash_urn(VEC_URN, out, sizeof(out), why, sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(out, "urn:reso:upi:2.0:sha3-256:" VEC_HASH);
    ASSERT_EQ(evl_upi_hash_urn("urn:reso:upi:2.0:US:48201:R000022230:sub:"
                               "78 - 9.aB",
                               out, sizeof(out), why, sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(out, "urn:reso:upi:2.0:sha3-256:d15e54abaf21eaea10ea4272"
                       "b5a5f9df1a085cec60806e63e01c2a102c25b8a2");
    /* A hashed URN or a dash form cannot be hashed again. */
    ASSERT_EQ(evl_upi_hash_urn("urn:reso:upi:2.0:sha3-256:" VEC_HASH, out,
                               sizeof(out), why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "only an unhashed URN UPI can be hashed");
    ASSERT_EQ(evl_upi_hash_urn("US-42049-49888-1213666-R-N", out,
                               sizeof(out), why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_EQ(evl_upi_hash_urn(VEC_URN, out, 40, why, sizeof(why)),
              HLF_EINVAL);
}

TEST_IMPL(parse_dash_form)
{
    evl_upi_t u;
    char why[128];

    ASSERT_EQ(evl_upi_parse("US-42049-49888-1213666-R-N", &u, why,
                            sizeof(why)),
              HLF_OK);
    ASSERT_EQ(u.urn, 0);
    ASSERT_STR_EQ(u.country, "US");
    ASSERT_STR_EQ(u.subdivision, "42049");
    ASSERT_STR_EQ(u.subcounty, "49888");
    ASSERT_STR_EQ(u.parcel, "1213666");
    ASSERT_STR_EQ(u.property_code, "R");
    ASSERT_STR_EQ(u.sub, "N");
    ASSERT_EQ(evl_upi_parse("US-04015-N-11022331-R-N", &u, why, sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(u.subcounty, "N");
    /* More than six parts: the middle ones are the ParcelId. */
    ASSERT_EQ(evl_upi_parse("US-42049-N-12-34-56-R2-7B", &u, why,
                            sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(u.parcel, "12-34-56");
    ASSERT_STR_EQ(u.property_code, "R2");
    ASSERT_STR_EQ(u.sub, "7B");
}

TEST_IMPL(parse_dash_errors)
{
    evl_upi_t u;
    char why[128];

    ASSERT_EQ(evl_upi_parse("US-42049-49888-R-N", &u, why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "a dash-form UPI has at least 6 parts separated by "
                       "'-'");
    ASSERT_EQ(evl_upi_parse("us-42049-49888-1-R-N", &u, why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "the Country must be two upper-case letters (ISO "
                       "3166-1 alpha-2)");
    ASSERT_EQ(evl_upi_parse("US-4204-49888-1-R-N", &u, why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "the SubCountry '4204' must be the 5-digit FIPS "
                       "state and county code for US");
    ASSERT_EQ(evl_upi_parse("US-42049-49888-1-X-N", &u, why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "the PropertyCode 'X' must be R, R<n>, S, T or B");
    ASSERT_EQ(evl_upi_parse("US-42049-49888--R-N", &u, why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "the ParcelId '' is empty or has an empty part");
    ASSERT_EQ(evl_upi_parse("US-42049-49888-1-R-", &u, why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "the SubProperty '' must be letters and digits, or "
                       "N for none");
    ASSERT_EQ(evl_upi_parse("", &u, why, sizeof(why)), HLF_EINVAL);
    ASSERT_EQ(evl_upi_parse(NULL, &u, why, sizeof(why)), HLF_EINVAL);
}

TEST_IMPL(parse_urn_form)
{
    evl_upi_t u;
    char why[128];

    ASSERT_EQ(evl_upi_parse(VEC_URN, &u, why, sizeof(why)), HLF_OK);
    ASSERT_EQ(u.urn, 1);
    ASSERT_EQ(u.hashed, 0);
    ASSERT_STR_EQ(u.version, "2.0");
    ASSERT_STR_EQ(u.country, "US");
    ASSERT_STR_EQ(u.subdivision, "48201");
    ASSERT_STR_EQ(u.parcel, "R000022230");
    ASSERT_STR_EQ(u.sub, "");
    /* Colons and spaces in the parcel; the first ":sub:" splits. */
    ASSERT_EQ(evl_upi_parse("urn:reso:upi:2.0:US:48201:R 0:1:sub:78 - 9.aB",
                            &u, why, sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(u.parcel, "R 0:1");
    ASSERT_STR_EQ(u.sub, "78 - 9.aB");
    ASSERT_EQ(evl_upi_parse("urn:reso:upi:2.0:sha3-256:" VEC_HASH, &u, why,
                            sizeof(why)),
              HLF_OK);
    ASSERT_EQ(u.hashed, 1);
    ASSERT_STR_EQ(u.hash, VEC_HASH);
    ASSERT_EQ(evl_upi_parse("urn:reso:upi:2:US:48201:R1", &u, why,
                            sizeof(why)),
              HLF_EINVAL);
    ASSERT_EQ(evl_upi_parse("urn:reso:upi:2.0:USA:48201:R1", &u, why,
                            sizeof(why)),
              HLF_EINVAL);
    ASSERT_EQ(evl_upi_parse("urn:reso:upi:2.0:US:48201:", &u, why,
                            sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "the ParcelNumber is empty");
    ASSERT_EQ(evl_upi_parse("urn:reso:upi:2.0:US:48201:R1:sub:", &u, why,
                            sizeof(why)),
              HLF_EINVAL);
    ASSERT_EQ(evl_upi_parse("urn:reso:upi:2.0:sha3-256:ABC", &u, why,
                            sizeof(why)),
              HLF_EINVAL);
    ASSERT_STR_EQ(why, "a hashed UPI ends in 64 lower-case hex digits");
    ASSERT_EQ(evl_upi_parse("URN:RESO:UPI:2.0:US:48201:R1", &u, why,
                            sizeof(why)),
              HLF_EINVAL);
}

TEST_IMPL(build_and_convert)
{
    char out[EVL_UPI_SIZE], why[128];

    ASSERT_EQ(evl_upi_build_urn("2.0", "US", "48201", "R000022230", NULL, out,
                                sizeof(out), why, sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(out, VEC_URN);
    ASSERT_EQ(evl_upi_build_urn("2.0", "US", "48201", "R000022230",
                                "78 - 9.aB", out, sizeof(out), why,
                                sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(out, VEC_URN ":sub:78 - 9.aB");
    ASSERT_EQ(evl_upi_build_urn("2.0", "us", "48201", "R1", NULL, out,
                                sizeof(out), why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_EQ(evl_upi_build_urn("2.0", "US", "48:201", "R1", NULL, out,
                                sizeof(out), why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_EQ(evl_upi_build_urn("2.0", "US", "48201", "R:sub:1", NULL, out,
                                sizeof(out), why, sizeof(why)),
              HLF_EINVAL);
    ASSERT_EQ(evl_upi_dash_to_urn("US-42049-49888-1213666-R-N", out,
                                  sizeof(out), why, sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(out, "urn:reso:upi:2.0:US:42049:1213666");
    ASSERT_EQ(evl_upi_dash_to_urn("US-42049-N-12-34-R-7B", out, sizeof(out),
                                  why, sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(out, "urn:reso:upi:2.0:US:42049:12-34:sub:7B");
    ASSERT_EQ(evl_upi_hash_urn("urn:reso:upi:2.0:US:42049:1213666", out,
                               sizeof(out), why, sizeof(why)),
              HLF_OK);
    ASSERT_STR_EQ(out, "urn:reso:upi:2.0:sha3-256:f178d11c81cc7505dcfbd851"
                       "4d9df4010d2ab44a16fc83f84286fbe9454be72f");
    ASSERT_EQ(evl_upi_dash_to_urn(VEC_URN, out, sizeof(out), why,
                                  sizeof(why)),
              HLF_EINVAL);
}

TEST_IMPL(urn_forms_are_valid_subjects)
{
    char out[EVL_UPI_SIZE];

    ASSERT(evl_ident_match(EVL_ID_URN, VEC_URN, strlen(VEC_URN)));
    ASSERT_EQ(evl_upi_hash_urn(VEC_URN, out, sizeof(out), NULL, 0), HLF_OK);
    ASSERT(evl_ident_match(EVL_ID_URN, out, strlen(out)));
}

static const test_entry_t tests[] = {
    TEST_ENTRY(sha3_256_vectors),  TEST_ENTRY(hash_urn_vector),
    TEST_ENTRY(parse_dash_form),   TEST_ENTRY(parse_dash_errors),
    TEST_ENTRY(parse_urn_form),    TEST_ENTRY(build_and_convert),
    TEST_ENTRY(urn_forms_are_valid_subjects),
};

TEST_MAIN(tests)
