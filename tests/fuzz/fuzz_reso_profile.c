/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for what the catalog work parses from outside: profile
 * documents (a governance proposal carries one) and RecordEvent input
 * under the extended profile, with its draft fields Audience and Context
 * and the e-mail / phone detectors. Oracles: an accepted profile survives
 * a round trip through its canonical JSON unchanged; an accepted event is
 * stored with exactly its draft fields, equal to the input's, and its
 * Context passed the no-personal-data rule; a rejection renders an error
 * body that parses back with the same code. Any crash, leak, sanitizer
 * report or broken invariant (abort) is a finding.
 */
#include "evl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static void
check_reject(const evl_reject_t *rej)
{
    char *body = evl_reject_json(rej);
    json_t *b;

    check(body != NULL);
    b = json_loads(body, 0, NULL);
    check(json_is_object(b));
    check(strcmp(json_string_value(json_object_get(
                     json_object_get(b, "error"), "code")),
                 evl_code_name(rej->code)) == 0);
    json_decref(b);
    free(body);
}

static void
fuzz_profile(const char *text, size_t len)
{
    evl_profile_t *p = NULL, *again = NULL;
    json_t *doc, *doc2;
    evl_reject_t rej;
    char *canon;

    if (evl_profile_parse(text, len, &p, &rej) != HLF_OK) {
        check(p == NULL);
        check(rej.code == EVL_INVALID_PROFILE);
        check_reject(&rej);
        return;
    }
    doc = evl_profile_to_json(p);
    check(doc != NULL);
    canon = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    check(canon != NULL);
    check(evl_profile_parse(canon, strlen(canon), &again, NULL) == HLF_OK);
    doc2 = evl_profile_to_json(again);
    check(json_equal(doc, doc2));
    json_decref(doc2);
    json_decref(doc);
    free(canon);
    evl_profile_free(again);
    evl_profile_free(p);
}

static void
fuzz_event(const char *text, size_t len)
{
    const evl_profile_t *p = evl_profile_find("1.5-ext");
    json_t *in = NULL, *ev, *ctx;
    evl_reject_t rej;
    const char *key;
    json_t *v;
    char *out;

    check(p != NULL);
    if (evl_validate_record(text, len, p, &in, &rej) != HLF_OK) {
        check(in == NULL);
        check_reject(&rej);
        return;
    }
    out = evl_event_build(in, "6991d580-c6c3-8ceb-90a5-a40c89fb0224",
                          "Sun, 03 Jun 2018 13:04:05 GMT", p->id);
    check(out != NULL);
    ev = json_loads(out, JSON_REJECT_DUPLICATES, NULL);
    check(json_is_object(ev));
    check(json_object_size(ev) ==
          EVL_FIELD_COUNT + (json_object_get(in, "Audience") != NULL) +
              (json_object_get(in, "Context") != NULL));
    check(json_equal(json_object_get(ev, "Context"),
                     json_object_get(in, "Context")) ||
          json_object_get(in, "Context") == NULL);
    ctx = json_object_get(in, "Context");
    json_object_foreach(ctx, key, v) {
        if (!json_is_string(v))
            continue;
        check(!evl_looks_like_email(json_string_value(v),
                                    json_string_length(v)));
        check(!evl_looks_like_phone(json_string_value(v),
                                    json_string_length(v)));
    }
    json_decref(ev);
    free(out);
    json_decref(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;

    if (size == 0)
        return 0;
    /* The first byte picks the parser; the rest is its input. */
    switch (data[0] % 3) {
    case 0:
        fuzz_profile(text, size - 1);
        break;
    case 1:
        fuzz_event(text, size - 1);
        break;
    default:
        (void)evl_looks_like_email(text, size - 1);
        (void)evl_looks_like_phone(text, size - 1);
        break;
    }
    return 0;
}
