/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Assertions on contract answers shared by the registry tests (recorder.c,
 * did.c): an answer from fake_invoke() is either a 200 or exactly the
 * error object {"error":{"code","field"?,"message"}} with a given status,
 * and a refused transaction writes nothing. Test-only code.
 *
 * THREAD SAFETY: none; one test process, one thread.
 */
#ifndef RESO_ANSWERS_H
#define RESO_ANSWERS_H

#include "fake_stub.h"

/*
 * Fail the test (naming line) unless res is an error answer with status,
 * code and field (NULL: no field) and no writes.
 */
void answer_expect_error(const fake_result_t *res, int status,
                         const char *code, const char *field, int line);

/* Fail the test (naming line) unless res has status 200. */
void answer_expect_ok(const fake_result_t *res, int line);

#define EXPECT_ERROR(status, code, field)                                    \
    answer_expect_error(&res, (status), (code), (field), __LINE__)
#define EXPECT_OK() answer_expect_ok(&res, __LINE__)

#endif /* RESO_ANSWERS_H */
