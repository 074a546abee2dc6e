/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One logging function for every reso-ledger program. A line is
 * "2026-11-21T12:00:00.123Z LEVEL component: message" on stderr (or the file
 * set with hlf_log_set_file). Messages are forced onto one line. The
 * threshold comes from HLF_LOG_LEVEL (debug|info|warn|error), default info.
 * Never log key material or bearer tokens.
 *
 * THREAD SAFETY: hlf_log may be called from any thread; lines never
 * interleave.
 */
#ifndef HLF_LOG_H
#define HLF_LOG_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HLF_LOG_DEBUG = 0,
    HLF_LOG_INFO = 1,
    HLF_LOG_WARN = 2,
    HLF_LOG_ERROR = 3
} hlf_log_level_t;

/* Log one line at level, tagged with component (e.g. "shim", "client"). */
void hlf_log(hlf_log_level_t level, const char *component, const char *fmt,
             ...) __attribute__((format(printf, 3, 4)));

/* Current threshold; lines below it are dropped. */
hlf_log_level_t hlf_log_level(void);

/* Override the threshold (otherwise read once from HLF_LOG_LEVEL). */
void hlf_log_set_level(hlf_log_level_t level);

/* Send log lines to fp (borrowed; NULL restores stderr). */
void hlf_log_set_file(FILE *fp);

#ifdef __cplusplus
}
#endif
#endif /* HLF_LOG_H */
