/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The answer assertions of answers.h. They parse the error body rather
 * than compare text, so a message may change without breaking a test
 * while code, field and status stay the contract.
 */
#include "answers.h"

#include "task.h"

#include <jansson.h>
#include <string.h>

void
answer_expect_error(const fake_result_t *res, int status, const char *code,
                    const char *field, int line)
{
    json_t *body = json_loads(res->message, 0, NULL), *err;
    const char *got_code, *got_field;

    if (res->status != status || body == NULL)
        TEST__FAIL("line %d: status %d message %s (want %d %s)", line,
                   res->status, res->message, status, code);
    err = json_object_get(body, "error");
    got_code = json_string_value(json_object_get(err, "code"));
    got_field = json_string_value(json_object_get(err, "field"));
    if (got_code == NULL || strcmp(got_code, code) != 0)
        TEST__FAIL("line %d: code %s, want %s", line,
                   got_code != NULL ? got_code : "(none)", code);
    if ((field == NULL) != (got_field == NULL) ||
        (field != NULL && strcmp(field, got_field) != 0))
        TEST__FAIL("line %d: field %s, want %s", line,
                   got_field != NULL ? got_field : "(none)",
                   field != NULL ? field : "(none)");
    if (json_string_length(json_object_get(err, "message")) < 10)
        TEST__FAIL("line %d: no useful message in %s", line, res->message);
    if (res->writes != 0)
        TEST__FAIL("line %d: a refused transaction wrote %zu keys", line,
                   res->writes);
    json_decref(body);
}

void
answer_expect_ok(const fake_result_t *res, int line)
{
    if (res->status != 200)
        TEST__FAIL("line %d: status %d message %s", line, res->status,
                   res->message);
}
