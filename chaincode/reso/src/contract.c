/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Function dispatch of the reso contract and the one place where answers
 * become shim responses. Checking the function name and argument count
 * here, before any handler runs, keeps UNKNOWN_FUNCTION first in every
 * check order (reso-model.md §13) and lets handlers assume their argument
 * exists.
 */
#include "evl_contract.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shown when even the error body cannot be built (arena exhausted). */
static const char oom_body[] =
    "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"out of memory\"}}";

typedef hlf_response_t (*handler_fn)(hlf_stub_t *, const evl_profile_t *,
                                     const uint8_t *, size_t);

static hlf_response_t
do_record(hlf_stub_t *stub, const evl_profile_t *p, const uint8_t *arg,
          size_t len)
{
    return evl_tx_record_event(stub, p, arg, len);
}

static hlf_response_t
do_get(hlf_stub_t *stub, const evl_profile_t *p, const uint8_t *arg,
       size_t len)
{
    return evl_tx_get_event(stub, arg, len);
}

static hlf_response_t
do_history(hlf_stub_t *stub, const evl_profile_t *p, const uint8_t *arg,
           size_t len)
{
    return evl_tx_get_subject_history(stub, arg, len);
}

static hlf_response_t
do_register_recorder(hlf_stub_t *stub, const evl_profile_t *p,
                     const uint8_t *arg, size_t len)
{
    return evl_tx_register_recorder(stub, arg, len);
}

static hlf_response_t
do_get_recorder(hlf_stub_t *stub, const evl_profile_t *p, const uint8_t *arg,
                size_t len)
{
    return evl_tx_get_recorder(stub, arg, len);
}

static hlf_response_t
do_revoke_recorder(hlf_stub_t *stub, const evl_profile_t *p,
                   const uint8_t *arg, size_t len)
{
    return evl_tx_revoke_recorder(stub, arg, len);
}

static hlf_response_t
do_create_did(hlf_stub_t *stub, const evl_profile_t *p, const uint8_t *arg,
              size_t len)
{
    return evl_tx_create_did(stub, arg, len);
}

static hlf_response_t
do_update_did(hlf_stub_t *stub, const evl_profile_t *p, const uint8_t *arg,
              size_t len)
{
    return evl_tx_update_did(stub, arg, len);
}

static hlf_response_t
do_deactivate_did(hlf_stub_t *stub, const evl_profile_t *p,
                  const uint8_t *arg, size_t len)
{
    return evl_tx_deactivate_did(stub, arg, len);
}

static hlf_response_t
do_resolve_did(hlf_stub_t *stub, const evl_profile_t *p, const uint8_t *arg,
               size_t len)
{
    return evl_tx_resolve_did(stub, arg, len);
}

static hlf_response_t
do_get_referral(hlf_stub_t *stub, const evl_profile_t *p, const uint8_t *arg,
                size_t len)
{
    return evl_tx_get_referral(stub, arg, len);
}

/*
 * A function takes exactly one argument after its name (arg describes
 * it), or none when arg is NULL (the handler then gets NULL, 0); one
 * empty argument counts as none there, for clients that always send one.
 */
static const struct {
    const char *name;
    const char *arg;
    handler_fn fn;
} functions[] = {
    {"RecordEvent", "the event JSON", do_record},
    {"GetEvent", "a TransactionId", do_get},
    {"GetSubjectHistory", "an EventSubject", do_history},
    {"GetCatalog", NULL, evl_tx_get_catalog},
    {"GetProfiles", NULL, evl_tx_get_profiles},
    {"ProposeCatalogChange", "the change JSON",
     evl_tx_propose_catalog_change},
    {"ApproveCatalogChange", "a proposal Id", evl_tx_approve_catalog_change},
    {"GetProposal", "a proposal Id", evl_tx_get_proposal},
    {"RegisterRecorder", "the registration JSON", do_register_recorder},
    {"GetRecorder", "a Recorder id", do_get_recorder},
    {"RevokeRecorder", "a Recorder id", do_revoke_recorder},
    {"CreateDID", "the DID document JSON", do_create_did},
    {"UpdateDID", "the DID document JSON", do_update_did},
    {"DeactivateDID", "a DID", do_deactivate_did},
    {"ResolveDID", "a DID", do_resolve_did},
    {"GetReferral", "an EventSubject", do_get_referral},
};

#define N_FUNCTIONS (sizeof(functions) / sizeof(functions[0]))

hlf_response_t
evl_respond_ok(hlf_stub_t *stub, const char *json, size_t len)
{
    void *copy = hlf_stub_memdup(stub, json, len);

    if (copy == NULL)
        return hlf_error_response(500, oom_body);
    return hlf_success(copy, len);
}

hlf_response_t
evl_respond_reject(hlf_stub_t *stub, const evl_reject_t *rej)
{
    char *body = evl_reject_json(rej), *copy;

    if (body == NULL)
        return hlf_error_response(500, oom_body);
    copy = hlf_stub_strdup(stub, body);
    free(body);
    if (copy == NULL)
        return hlf_error_response(500, oom_body);
    return hlf_error_response(evl_code_status(rej->code), copy);
}

hlf_response_t
evl_respond_internal(hlf_stub_t *stub, int rc, const char *fmt, ...)
{
    const hlf_error_t *last = hlf_stub_last_error(stub);
    char what[256];
    evl_reject_t rej;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    /*
     * The shim's detail (for example the peer's error text) is worth
     * having in the answer; it holds no secrets, only key and call names.
     */
    if (last != NULL && last->code != HLF_OK && last->text[0] != '\0')
        evl_reject(&rej, EVL_INTERNAL, NULL, 0, "%s: %s (%s)", what,
                   hlf_err_name(rc), last->text);
    else
        evl_reject(&rej, EVL_INTERNAL, NULL, 0, "%s: %s", what,
                   hlf_err_name(rc));
    return evl_respond_reject(stub, &rej);
}

hlf_response_t
evl_invoke(hlf_stub_t *stub, void *ud)
{
    const evl_profile_t *p = ud;
    const uint8_t *const *argv;
    const size_t *lens;
    size_t argc, i;
    char names[512];
    evl_reject_t rej;

    if (p == NULL)
        p = evl_profile_find(EVL_DEFAULT_PROFILE);
    hlf_stub_get_args(stub, &argv, &lens, &argc);
    names[0] = '\0';
    for (i = 0; i < N_FUNCTIONS; i++)
        evl_append(names, sizeof(names), strlen(names), ", ",
                   functions[i].name);
    if (argc == 0) {
        evl_reject(&rej, EVL_UNKNOWN_FUNCTION, NULL, 0,
                   "no function name given; the functions are %s", names);
        return evl_respond_reject(stub, &rej);
    }
    for (i = 0; i < N_FUNCTIONS; i++) {
        /* Compare lengths too: a name with a NUL byte must not match. */
        if (strlen(functions[i].name) != lens[0] ||
            memcmp(functions[i].name, argv[0], lens[0]) != 0)
            continue;
        if (functions[i].arg == NULL) {
            if (argc > 2 || (argc == 2 && lens[1] != 0)) {
                evl_reject(&rej, EVL_INVALID_ARGUMENTS, NULL, 0,
                           "%s takes no argument, got %zu",
                           functions[i].name, argc - 1);
                return evl_respond_reject(stub, &rej);
            }
            return functions[i].fn(stub, p, NULL, 0);
        }
        if (argc != 2) {
            evl_reject(&rej, EVL_INVALID_ARGUMENTS, NULL, 0,
                       "%s takes exactly 1 argument (%s), got %zu",
                       functions[i].name, functions[i].arg, argc - 1);
            return evl_respond_reject(stub, &rej);
        }
        return functions[i].fn(stub, p, argv[1], lens[1]);
    }
    {
        char shown[EVL_ECHO_SIZE];

        evl_echo((const char *)argv[0], lens[0], shown, sizeof(shown));
        evl_reject(&rej, EVL_UNKNOWN_FUNCTION, NULL, 0,
                   "unknown function '%s'; the functions are %s (names are "
                   "case-sensitive)",
                   shown, names);
    }
    return evl_respond_reject(stub, &rej);
}
