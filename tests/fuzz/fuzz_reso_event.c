/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the reso RecordEvent path: arbitrary bytes go
 * through the validator; an accepted input is turned into the stored
 * event, which must parse back to exactly the eleven fields; a rejected
 * one must render an error body that parses back with the same code. The
 * same bytes also feed the identifier matchers and the history argument
 * check. Any crash, leak, sanitizer report or broken invariant (abort) is
 * a finding.
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
check_event(const json_t *input, const evl_profile_t *p)
{
    static const char uuid[] = "6991d580-c6c3-8ceb-90a5-a40c89fb0224";
    char ts[EVL_IMFDATE_LEN + 1];
    json_t *ev;
    char *out;
    size_t i;

    check(evl_imfdate(1528031045, ts) == HLF_OK);
    out = evl_event_build(input, uuid, ts, p->id);
    check(out != NULL);
    ev = json_loads(out, JSON_REJECT_DUPLICATES, NULL);
    check(json_is_object(ev));
    check(json_object_size(ev) == EVL_FIELD_COUNT);
    for (i = 0; i < EVL_FIELD_COUNT; i++) {
        const char *name = evl_fields[i].name;
        json_t *v = json_object_get(ev, name);

        check(json_is_string(v));
        if (evl_fields[i].kind == EVL_FIELD_SUPPLIED)
            check(json_equal(v, json_object_get((json_t *)input, name)));
    }
    /* Valid input can always be keyed by its subject. */
    check(evl_check_identifier(
              evl_field_find("EventSubject"),
              json_string_value(json_object_get(ev, "EventSubject")),
              json_string_length(json_object_get(ev, "EventSubject")),
              NULL) == HLF_OK);
    json_decref(ev);
    free(out);
}

static void
check_reject(const evl_reject_t *rej)
{
    json_t *body, *err;
    char *out = evl_reject_json(rej);

    check(out != NULL);
    body = json_loads(out, 0, NULL);
    err = json_object_get(body, "error");
    check(json_is_object(err));
    check(strcmp(json_string_value(json_object_get(err, "code")),
                 evl_code_name(rej->code)) == 0);
    check(evl_code_status(rej->code) == 400);
    json_decref(body);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const evl_profile_t *p = evl_profile_find(EVL_DEFAULT_PROFILE);
    const char *s = (const char *)data;
    json_t *input = NULL;
    evl_reject_t rej;
    char buf[512];
    unsigned bit;
    int rc;

    rc = evl_validate_record(s, size, p, &input, &rej);
    if (rc == HLF_OK) {
        check(input != NULL);
        check_event(input, p);
        json_decref(input);
    } else {
        check(rc == HLF_EINVAL && input == NULL);
        check_reject(&rej);
    }
    for (bit = EVL_ID_LEGACY; bit <= EVL_ID_APPTEXT; bit <<= 1) {
        rc = evl_ident_match(bit, s, size);
        check(rc == 0 || rc == 1);
        if (!rc) {
            evl_ident_explain(bit, s, size, buf, sizeof(buf));
            check(strlen(buf) < sizeof(buf));
        }
    }
    rc = evl_check_identifier(evl_field_find("Recorder"), s, size, &rej);
    if (rc != HLF_OK)
        check(evl_utf8_valid(rej.message, strlen(rej.message)));
    return 0;
}
