/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parsers of this session's new gateway routes, called directly with
 * oracles: the CID of GET /v1/documents/{cid} (base58btc decoding and CID
 * validation), and the query parameters of GET /v1/events and the member
 * activity report (time values, cursors, every filter) as the handlers
 * hand them over.
 *
 * Input: NUL-free pieces separated by '\n'. The first piece is a CID
 * candidate and a base58 text; the rest are alternately parameter names
 * and values (at most 16 pairs).
 */
#include "cid.h"
#include "reports.h"

#include "hlf/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXP 16

static void
check_cid(const char *s)
{
    uint8_t buf[256], again[256];
    char text[512];
    size_t n = 0, m = 0;

    if (gw_base58btc_decode(s, buf, sizeof(buf), &n) == HLF_OK) {
        /* Oracle: decoding what we encode gives the same bytes back. */
        if (gw_base58btc_encode(buf, n, text, sizeof(text)) == HLF_OK &&
            (gw_base58btc_decode(text, again, sizeof(again), &m) != HLF_OK ||
             m != n || memcmp(buf, again, n) != 0))
            abort();
    }
    /* Oracle: a valid CID is 46 characters starting with "Qm". */
    if (gw_cid_is_valid(s) && (strlen(s) != 46 || strncmp(s, "Qm", 2) != 0))
        abort();
}

static void
check_params(const gw_reports_param_t *p, size_t n)
{
    gw_reports_bad_t bad;
    json_t *find = NULL;
    size_t limit = 0, i;
    int desc = -1;
    int64_t t, seq;
    char cur[GW_REPORTS_CURSOR_MAX];

    if (gw_reports_search_query(p, n, &find, &limit, &desc, &bad) ==
        HLF_OK) {
        /* Oracle: a page size within bounds and a selector. */
        if (find == NULL || limit < 1 || limit > GW_REPORTS_PAGE_MAX ||
            !json_is_object(json_object_get(find, "selector")))
            abort();
    } else if (bad.code == NULL) {
        abort();
    }
    json_decref(find);
    find = NULL;
    if (gw_reports_activity_query("US-42049-1-R-N", p, n, &find, &limit,
                                  &bad) != HLF_OK && bad.code == NULL)
        abort();
    json_decref(find);
    for (i = 0; i < n; i++) {
        if (p[i].value == NULL)
            continue;
        if (gw_reports_parse_time(p[i].value, &t) == HLF_OK &&
            t < 0)
            abort();
        /* Oracle: cursors round-trip. */
        if (gw_reports_cursor_decode(p[i].value, &desc, &seq) == HLF_OK) {
            gw_reports_cursor_encode(desc, seq, cur);
            if (strcmp(cur, p[i].value) != 0)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_reports_param_t p[MAXP];
    char *buf, *piece, *next;
    size_t n = 0, k = 0;

    if (size > 4096 || memchr(data, '\0', size) != NULL)
        return 0;
    buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    piece = buf;
    next = strchr(piece, '\n');
    if (next != NULL)
        *next++ = '\0';
    check_cid(piece);
    while (next != NULL && n < MAXP) {
        piece = next;
        next = strchr(piece, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (k++ % 2 == 0) {
            p[n].name = piece;
            p[n].value = NULL;
            n++;
        } else {
            p[n - 1].value = piece;
        }
    }
    check_params(p, n);
    free(buf);
    return 0;
}
