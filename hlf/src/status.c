/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC failure -> hlf_error_t: the one-line text with the Fabric Gateway's
 * ErrorDetail entries, and recognition of chaincode rejections, which the
 * gateway reports as "chaincode response <status>, <message>" either in the
 * status message (Evaluate) or in an ErrorDetail (Endorse).
 */
#include "status.h"
#include "gateway/gateway.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "pb.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERROR_DETAIL_SUFFIX "gateway.ErrorDetail"
#define CC_PREFIX "chaincode response "

/* Append printf output to buf at *pos, keeping it NUL-terminated. */
static void
append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*pos >= size - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *pos += (size_t)n;
    if (*pos > size - 1)
        *pos = size - 1;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Look for "chaincode response <digits>, " in text[0..len); on a match
 * store the status and the rest of text verbatim in err. 1 if found.
 */
static int
find_chaincode(const char *text, size_t len, hlf_error_t *err)
{
    const char *end = text + len, *p = text, *q;
    size_t plen = strlen(CC_PREFIX), n;
    long status;

    for (; (size_t)(end - p) > plen; p++) {
        if (memcmp(p, CC_PREFIX, plen) != 0)
            continue;
        q = p + plen;
        status = 0;
        for (n = 0; q < end && *q >= '0' && *q <= '9' && n < 6; q++, n++)
            status = status * 10 + (*q - '0');
        if (n == 0 || end - q < 2 || q[0] != ',' || q[1] != ' ')
            continue;
        q += 2;
        err->chaincode_status = (int)status;
        n = (size_t)(end - q);
        if (n >= sizeof(err->chaincode_message))
            n = sizeof(err->chaincode_message) - 1;
        memcpy(err->chaincode_message, q, n);
        err->chaincode_message[n] = '\0';
        return 1;
    }
    return 0;
}

/* Append " [<mspid>@<address>: <message>; ...]" for every ErrorDetail. */
static void
append_details(const Google__Rpc__Status *st, char *text, size_t size,
               size_t *pos, hlf_error_t *err, int *found_cc)
{
    Gateway__ErrorDetail *d;
    size_t i;
    int first = 1;

    for (i = 0; i < st->n_details; i++) {
        if (st->details[i] == NULL ||
            !ends_with(st->details[i]->type_url, ERROR_DETAIL_SUFFIX))
            continue;
        d = HLF__PB_UNPACK(gateway__error_detail, st->details[i]->value.len,
                           st->details[i]->value.data);
        if (d == NULL)
            continue;
        append(text, size, pos, "%s", first ? " [" : "; ");
        first = 0;
        if (d->msp_id[0] && d->address[0])
            append(text, size, pos, "%s@%s: ", d->msp_id, d->address);
        else if (d->msp_id[0] || d->address[0])
            append(text, size, pos, "%s: ",
                   d->msp_id[0] ? d->msp_id : d->address);
        append(text, size, pos, "%s", d->message);
        if (!*found_cc)
            *found_cc = find_chaincode(d->message, strlen(d->message), err);
        HLF__PB_FREE(gateway__error_detail, d);
    }
    if (!first)
        append(text, size, pos, "]");
}

int
hlf__status_to_error(int grpc_status, const char *message, size_t msg_len,
                     const uint8_t *details, size_t details_len,
                     hlf_error_t *err)
{
    Google__Rpc__Status *st = NULL;
    char text[sizeof(err->text)];
    size_t pos = 0;
    int code, found_cc = 0;

    text[0] = '\0';

    switch (grpc_status) {
    case HLF__GRPC_UNAVAILABLE:
        code = HLF_EUNAVAIL;
        break;
    case HLF__GRPC_DEADLINE_EXCEEDED:
        code = HLF_ETIMEDOUT;
        break;
    case HLF__GRPC_CANCELLED:
        code = HLF_ECLOSED;
        break;
    default:
        code = HLF_EGRPC;
        break;
    }
    if (err == NULL)
        return code;
    err->grpc_status = grpc_status;
    err->chaincode_status = 0;
    err->chaincode_message[0] = '\0';
    if (details != NULL && details_len > 0)
        st = HLF__PB_UNPACK(google__rpc__status, details_len, details);
    /* grpc-message is authoritative; the copy in Status is a fallback. */
    if ((message == NULL || msg_len == 0) && st != NULL) {
        message = st->message;
        msg_len = strlen(st->message);
    }
    if (message == NULL)
        msg_len = 0;
    append(text, sizeof(text), &pos, "%s: %.*s",
           hlf_grpc_code_name(grpc_status), (int)msg_len,
           msg_len ? message : "");
    if (msg_len)
        found_cc = find_chaincode(message, msg_len, err);
    if (st != NULL)
        append_details(st, text, sizeof(text), &pos, err, &found_cc);
    HLF__PB_FREE(google__rpc__status, st);
    /* text may hold '%': pass it as an argument, never as the format. */
    return hlf_error_set(err, code, "%s", text);
}

int
hlf__status_phase(int rc, int phase_code, hlf_error_t *err)
{
    if (rc == HLF_EGRPC || rc == HLF_ECLOSED) {
        if (err != NULL && err->chaincode_status != 0)
            rc = HLF_ECHAINCODE;
        else if (rc == HLF_EGRPC)
            rc = phase_code;
    }
    if (err != NULL)
        err->code = rc;
    return rc;
}
