/* SPDX-License-Identifier: Apache-2.0 */
/* The process-per-test runner behind task.h. */
#include "task.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP_CODE 77

void
test_skip(const char *file, int line, const char *why)
{
    fprintf(stderr, "%s:%d: skipped: %s\n", file, line, why);
    fflush(stderr);
    _exit(SKIP_CODE);
}

/* Run one test in a child; 0 pass, 1 fail, 2 skip. */
static int
run_one(const test_entry_t *t, unsigned timeout)
{
    pid_t pid;
    int status;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        alarm(timeout);
        t->fn();
        fflush(stdout);
        exit(0);
    }
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        return 1;
    }
    if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) == 0)
            return 0;
        if (WEXITSTATUS(status) == SKIP_CODE)
            return 2;
        fprintf(stderr, "%s: exit status %d\n", t->name, WEXITSTATUS(status));
        return 1;
    }
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: killed by signal %d%s\n", t->name,
                WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    return 1;
}

int
test_run_main(int argc, char **argv, const test_entry_t *tests, size_t n)
{
    unsigned timeout = 120;
    size_t i, passed = 0, failed = 0, skipped = 0, ran = 0;
    const char *env = getenv("RESO_TEST_TIMEOUT");

    if (env != NULL && atoi(env) > 0)
        timeout = (unsigned)atoi(env);
    for (i = 0; i < n; i++) {
        int rc;

        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        ran++;
        rc = run_one(&tests[i], timeout);
        if (rc == 0) {
            passed++;
            printf("ok %zu - %s\n", ran, tests[i].name);
        } else if (rc == 2) {
            skipped++;
            printf("ok %zu - %s # SKIP\n", ran, tests[i].name);
        } else {
            failed++;
            printf("not ok %zu - %s\n", ran, tests[i].name);
        }
    }
    if (argc > 1 && ran == 0) {
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    if (skipped)
        printf("%zu passed, %zu failed, %zu skipped\n", passed, failed,
               skipped);
    else
        printf("%zu passed, %zu failed\n", passed, failed);
    return failed ? 1 : 0;
}
