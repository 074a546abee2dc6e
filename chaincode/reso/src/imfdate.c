/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMF-fixdate (RFC 9110 §5.6.7), the Timestamp format of the event model
 * ("Sun, 03 Jun 2018 13:04:05 GMT"). Computed with integer civil-date
 * arithmetic rather than gmtime_r so the result does not depend on the
 * C library's time_t range or on TZ, and so every endorser produces the
 * same bytes.
 */
#include "evl.h"

#include "hlf/err.h"

#include <string.h>

static const char wdays[7][4] = {"Thu", "Fri", "Sat", "Sun",
                                 "Mon", "Tue", "Wed"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/*
 * Proleptic Gregorian date of day number days (0 = 1970-01-01). Counts in
 * 400-year eras that start on 1 March, so the leap day is the last day
 * of an era-year and needs no special case.
 */
static void
civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                      /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                    /* 0..11, Mar=0 */

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* v as exactly width decimal digits (v is known to fit). */
static void
put_digits(char *p, int v, int width)
{
    while (width-- > 0) {
        p[width] = (char)('0' + v % 10);
        v /= 10;
    }
}

int
evl_imfdate(int64_t secs, char out[EVL_IMFDATE_LEN + 1])
{
    int64_t days, rem, y;
    int m, d, wday;

    if (secs < EVL_IMFDATE_MIN_SECS || secs > EVL_IMFDATE_MAX_SECS)
        return HLF_EINVAL;
    days = secs / 86400;
    rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    /* 1970-01-01 was a Thursday, index 0 of wdays. */
    wday = (int)(((days % 7) + 7) % 7);
    /* Fixed-width fields written directly: "Www, DD Mmm YYYY hh:mm:ss GMT". */
    memcpy(out, wdays[wday], 3);
    memcpy(out + 3, ", ", 2);
    put_digits(out + 5, d, 2);
    out[7] = ' ';
    memcpy(out + 8, months[m - 1], 3);
    out[11] = ' ';
    put_digits(out + 12, (int)y, 4);
    out[16] = ' ';
    put_digits(out + 17, (int)(rem / 3600), 2);
    out[19] = ':';
    put_digits(out + 20, (int)(rem / 60 % 60), 2);
    out[22] = ':';
    put_digits(out + 23, (int)(rem % 60), 2);
    memcpy(out + 25, " GMT", 5);
    return HLF_OK;
}
