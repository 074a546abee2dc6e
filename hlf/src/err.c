/* SPDX-License-Identifier: Apache-2.0 */
/* Error names, texts and the hlf_error_t helpers. */
#include "hlf/err.h"

#include <stdio.h>
#include <string.h>

const char *
hlf_err_name(int code)
{
    switch (code) {
    case HLF_OK:
        return "OK";
#define XX(name, num, text)                                                  \
    case HLF_##name:                                                         \
        return #name;
        HLF_ERRNO_MAP(XX)
#undef XX
    }
    return "UNKNOWN";
}

const char *
hlf_strerror(int code)
{
    switch (code) {
    case HLF_OK:
        return "success";
#define XX(name, num, text)                                                  \
    case HLF_##name:                                                         \
        return text;
        HLF_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown error";
}

const char *
hlf_grpc_code_name(int grpc_status)
{
    /* Index = gRPC status code; names as grpc-go's codes.Code.String(). */
    static const char *const names[] = {
        "OK",
        "Canceled",
        "Unknown",
        "InvalidArgument",
        "DeadlineExceeded",
        "NotFound",
        "AlreadyExists",
        "PermissionDenied",
        "ResourceExhausted",
        "FailedPrecondition",
        "Aborted",
        "OutOfRange",
        "Unimplemented",
        "Internal",
        "Unavailable",
        "DataLoss",
        "Unauthenticated",
    };

    if (grpc_status < 0 ||
        (size_t)grpc_status >= sizeof(names) / sizeof(names[0]))
        return "UnknownCode";
    return names[grpc_status];
}

void
hlf_error_clear(hlf_error_t *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
    err->tx_validation_code = -1;
}

static void
one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

int
hlf_error_set(hlf_error_t *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    one_line(err->text);
    return code;
}

int
hlf_error_prefix(hlf_error_t *err, const char *fmt, ...)
{
    char prefix[256];
    char old[sizeof(err->text)];
    va_list ap;

    if (err == NULL)
        return HLF_OK;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->text, sizeof(old));
    /* Truncation is fine here: the text is a diagnostic. */
    if (snprintf(err->text, sizeof(err->text), "%s: %.*s", prefix,
                 (int)(sizeof(err->text) / 2), old) < 0)
        err->text[0] = '\0';
    one_line(err->text);
    return err->code;
}
