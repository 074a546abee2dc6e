/* SPDX-License-Identifier: Apache-2.0 */
/* hlf_log: one-line, timestamped, thread-safe log output. */
#include "hlf/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Guarded by lock: the output file and the lazily read threshold. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
static int level_set;
static hlf_log_level_t threshold = HLF_LOG_INFO;

static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static void
read_env_level(void)
{
    const char *v;

    if (level_set)
        return;
    level_set = 1;
    v = getenv("HLF_LOG_LEVEL");
    if (v == NULL)
        return;
    if (strcasecmp(v, "debug") == 0)
        threshold = HLF_LOG_DEBUG;
    else if (strcasecmp(v, "warn") == 0)
        threshold = HLF_LOG_WARN;
    else if (strcasecmp(v, "error") == 0)
        threshold = HLF_LOG_ERROR;
}

hlf_log_level_t
hlf_log_level(void)
{
    hlf_log_level_t l;

    pthread_mutex_lock(&lock);
    read_env_level();
    l = threshold;
    pthread_mutex_unlock(&lock);
    return l;
}

void
hlf_log_set_level(hlf_log_level_t level)
{
    pthread_mutex_lock(&lock);
    level_set = 1;
    threshold = level;
    pthread_mutex_unlock(&lock);
}

void
hlf_log_set_file(FILE *fp)
{
    pthread_mutex_lock(&lock);
    out = fp;
    pthread_mutex_unlock(&lock);
}

void
hlf_log(hlf_log_level_t level, const char *component, const char *fmt, ...)
{
    char msg[2048];
    char ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;
    char *p;

    if (level < hlf_log_level())
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (p = msg; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    pthread_mutex_lock(&lock);
    fprintf(out ? out : stderr, "%s.%03ldZ %s %s: %s\n", ts,
            now.tv_nsec / 1000000, names[level], component ? component : "-",
            msg);
    fflush(out ? out : stderr);
    pthread_mutex_unlock(&lock);
}
