/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event field table and the lookup profiles, as data. The field table
 * is the RESO Distributed Ledger Event Model v1.3 table in spec order
 * (reso-model.md §2.1); the check order of the validator and the key order
 * of the stored event both follow it. A lookup profile (reso-model.md
 * §3.5) is a set of closed value lists; its id is stamped into every event
 * as Version. Adding a profile (for example "1.5-draft") means adding a
 * row to `profiles`, not writing code.
 */
#include "evl.h"

#include <string.h>

const evl_field_t evl_fields[EVL_FIELD_COUNT] = {
    {"TransactionId", EVL_FIELD_SYSTEM, -1, 0},
    {"EventSubject", EVL_FIELD_SUPPLIED, -1,
     EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID},
    {"System", EVL_FIELD_SUPPLIED, EVL_LK_SYSTEM, 0},
    {"SubjectType", EVL_FIELD_SUPPLIED, EVL_LK_SUBJECT_TYPE, 0},
    {"Entity", EVL_FIELD_SUPPLIED, EVL_LK_ENTITY, 0},
    {"Event", EVL_FIELD_SUPPLIED, EVL_LK_EVENT, 0},
    {"State", EVL_FIELD_SUPPLIED, EVL_LK_STATE, 0},
    {"Recorder", EVL_FIELD_SUPPLIED, -1,
     EVL_ID_LEGACY | EVL_ID_URN | EVL_ID_DID | EVL_ID_DIDURL},
    {"Timestamp", EVL_FIELD_SYSTEM, -1, 0},
    {"Version", EVL_FIELD_SYSTEM, -1, 0},
    {"Application", EVL_FIELD_SUPPLIED, -1, EVL_ID_LEGACY | EVL_ID_APPTEXT},
};

static const char *const lookup_names[EVL_LK_COUNT] = {
    "System", "SubjectType", "Entity", "Event", "State",
};

/* v1.3 base lists, exact text in spec order (reso-model.md §3.1). */
static const char *const v13_system[] = {
    "Property Listing Service",
    "Property Registration Service",
    "Broker Referral Tracking",
    "Mortgage Industry Service",
    "Property Marketing Service",
    "Property Recording System",
    "Tax Assessment System",
    "Transaction Management Service",
    "Manual Input",
    NULL,
};

static const char *const v13_subject_type[] = {
    "Agent", "Loan", "Office", "Property", "Referral", "Tax", "Transaction",
    NULL,
};

static const char *const v13_entity[] = {
    "Agent", "Broker", "Builder", "Buyer", "City",   "County",
    "Escrow", "Lender", "MLS",    "Owner", "Vendor", NULL,
};

static const char *const v13_event[] = {
    "Application", "Appraisal", "Assessment",  "Construction", "Contract",
    "Deed",        "Estimate",  "Identity",    "Improvement",  "Lien",
    "Listing",     "Offer",     "Openhouse",   "Permit",       "Price",
    "Referral",    "Status",    NULL,
};

static const char *const v13_state[] = {
    "Accepted", "Changed",  "Closed",   "Completed", "Created",
    "Funded",   "Placed",   "Received", "Recorded",  "Rejected",
    "Removed",  "Signed",   "Published", NULL,
};

static const evl_profile_t profiles[] = {
    {"1.3",
     {v13_system, v13_subject_type, v13_entity, v13_event, v13_state}},
};

const char *
evl_lookup_name(evl_lookup_t lk)
{
    if ((int)lk < 0 || lk >= EVL_LK_COUNT)
        return "?";
    return lookup_names[lk];
}

const evl_field_t *
evl_field_find(const char *name)
{
    size_t i;

    for (i = 0; i < EVL_FIELD_COUNT; i++)
        if (strcmp(evl_fields[i].name, name) == 0)
            return &evl_fields[i];
    return NULL;
}

const evl_profile_t *
evl_profile_find(const char *id)
{
    size_t i;

    if (id == NULL)
        return NULL;
    for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
        if (strcmp(profiles[i].id, id) == 0)
            return &profiles[i];
    return NULL;
}

size_t
evl_profile_count(const evl_profile_t *p, evl_lookup_t lk)
{
    const char *const *v = p->values[lk];
    size_t n = 0;

    while (v[n] != NULL)
        n++;
    return n;
}

int
evl_profile_has(const evl_profile_t *p, evl_lookup_t lk, const char *s,
                size_t len)
{
    const char *const *v;

    for (v = p->values[lk]; *v != NULL; v++)
        if (strlen(*v) == len && memcmp(*v, s, len) == 0)
            return 1;
    return 0;
}
