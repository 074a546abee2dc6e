/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's worker pool: a fixed set of threads that run blocking work
 * (Fabric calls, file I/O, health probes) so that libmicrohttpd's polling
 * threads never wait. Jobs are taken in FIFO order from one bounded queue;
 * a full queue is reported to the caller (HLF_EAGAIN, surfaced as 503)
 * instead of growing without limit under overload.
 */
#include "gw.h"

#include "hlf/log.h"
#include "hlf/mem.h"

#include <pthread.h>

typedef struct job_s {
    gw_job_fn fn;
    void *arg;
    struct job_s *next;
} job_t;

/*
 * The pool state is owned by the main thread (start/stop) and guarded by
 * lock for everyone else: the queue, its length and the stopping flag.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static job_t *head, *tail;
static int queued, queue_limit;
static int running;  /* 1 between start and stop */
static int stopping; /* workers drain the queue, then exit */
static pthread_t *threads;
static int nthreads;

static void *
worker(void *unused)
{
    (void)unused;
    for (;;) {
        job_t *j;

        pthread_mutex_lock(&lock);
        while (head == NULL && !stopping)
            pthread_cond_wait(&cond, &lock);
        if (head == NULL) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        j = head;
        head = j->next;
        if (head == NULL)
            tail = NULL;
        queued--;
        pthread_mutex_unlock(&lock);
        j->fn(j->arg);
        hlf_free(j);
    }
}

int
gw_pool_start(int n, int queue_max)
{
    int i;

    if (n < 1 || queue_max < 1)
        return HLF_EINVAL;
    pthread_mutex_lock(&lock);
    if (running) {
        pthread_mutex_unlock(&lock);
        return HLF_EEXIST;
    }
    threads = hlf_calloc((size_t)n, sizeof(*threads));
    if (threads == NULL) {
        pthread_mutex_unlock(&lock);
        return HLF_ENOMEM;
    }
    queue_limit = queue_max;
    stopping = 0;
    running = 1;
    pthread_mutex_unlock(&lock);
    for (i = 0; i < n; i++) {
        if (pthread_create(&threads[i], NULL, worker, NULL) != 0) {
            hlf_log(HLF_LOG_ERROR, "gw", "cannot start worker %d of %d",
                    i + 1, n);
            break;
        }
    }
    nthreads = i;
    if (i < n) {
        gw_pool_stop();
        return HLF_ENOMEM;
    }
    return HLF_OK;
}

int
gw_pool_submit(gw_job_fn fn, void *arg)
{
    job_t *j;

    if (fn == NULL)
        return HLF_EINVAL;
    j = hlf_malloc(sizeof(*j));
    if (j == NULL)
        return HLF_ENOMEM;
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&lock);
    if (!running || stopping) {
        pthread_mutex_unlock(&lock);
        hlf_free(j);
        return HLF_ECLOSED;
    }
    if (queued >= queue_limit) {
        pthread_mutex_unlock(&lock);
        hlf_free(j);
        return HLF_EAGAIN;
    }
    if (tail != NULL)
        tail->next = j;
    else
        head = j;
    tail = j;
    queued++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    return HLF_OK;
}

void
gw_pool_stop(void)
{
    int i;

    pthread_mutex_lock(&lock);
    if (!running) {
        pthread_mutex_unlock(&lock);
        return;
    }
    stopping = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    for (i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    hlf_free(threads);
    threads = NULL;
    nthreads = 0;
    pthread_mutex_lock(&lock);
    running = 0;
    stopping = 0;
    pthread_mutex_unlock(&lock);
}
