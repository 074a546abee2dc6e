/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMF-fixdate formatting: fixed dates (epoch, leap days in 1972, 2000,
 * 2024 and 1600, the non-leap 2100, 2038, both ends of the range) and a
 * sweep compared against the C library's gmtime_r + strftime.
 */
#include "evl.h"
#include "hlf/err.h"
#include "task.h"

#include <time.h>

static const struct {
    int64_t secs;
    const char *text;
} dates[] = {
    {1528031045, "Sun, 03 Jun 2018 13:04:05 GMT"},
    {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
    {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
    {68169600, "Tue, 29 Feb 1972 00:00:00 GMT"},
    {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
    {951868799, "Tue, 29 Feb 2000 23:59:59 GMT"},
    {1709164800, "Thu, 29 Feb 2024 00:00:00 GMT"},
    {4107542399, "Sun, 28 Feb 2100 23:59:59 GMT"},
    {4107542400, "Mon, 01 Mar 2100 00:00:00 GMT"},
    {1234567890, "Fri, 13 Feb 2009 23:31:30 GMT"},
    {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"},
    {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"},
    {-11670998400, "Tue, 29 Feb 1600 00:00:00 GMT"},
    {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
    {-62135596800, "Mon, 01 Jan 0001 00:00:00 GMT"},
};

TEST_IMPL(imfdate_fixed)
{
    char out[EVL_IMFDATE_LEN + 1];
    size_t i;

    for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        ASSERT_EQ(evl_imfdate(dates[i].secs, out), HLF_OK);
        ASSERT_STR_EQ(out, dates[i].text);
        ASSERT_EQ(strlen(out), EVL_IMFDATE_LEN);
    }
}

TEST_IMPL(imfdate_range)
{
    char out[EVL_IMFDATE_LEN + 1];

    ASSERT_EQ(evl_imfdate(EVL_IMFDATE_MAX_SECS + 1, out), HLF_EINVAL);
    ASSERT_EQ(evl_imfdate(EVL_IMFDATE_MIN_SECS - 1, out), HLF_EINVAL);
    ASSERT_EQ(evl_imfdate(INT64_MAX, out), HLF_EINVAL);
    ASSERT_EQ(evl_imfdate(INT64_MIN, out), HLF_EINVAL);
}

TEST_IMPL(imfdate_matches_libc)
{
    char out[EVL_IMFDATE_LEN + 1], want[64];
    struct tm tm;
    int64_t s;
    time_t t;
    size_t n = 0;

    /*
     * Every 7 hours 13 minutes 17 seconds from 1901 to 2399: crosses every
     * month end, leap day and weekday many times with varying clock times.
     */
    for (s = -2147483648LL; s < 13569465600LL; s += 25997) {
        t = (time_t)s;
        ASSERT_NOT_NULL(gmtime_r(&t, &tm));
        ASSERT(strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT",
                        &tm) > 0);
        ASSERT_EQ(evl_imfdate(s, out), HLF_OK);
        ASSERT_STR_EQ(out, want);
        n++;
    }
    ASSERT_GE(n, 600000);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(imfdate_fixed),
    TEST_ENTRY(imfdate_range),
    TEST_ENTRY(imfdate_matches_libc),
};

TEST_MAIN(tests)
