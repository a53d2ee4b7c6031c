/*
 * test_workers.c: the request-work thread pool (src/gateway/workers.c), by
 * the contract in workers.h: work() runs on a worker thread, done() on the
 * loop's thread, every submitted job gets exactly one done(); with no pool
 * both run inline at submit; freeing the pool gives every job not yet done
 * its done() with `cancelled` set.
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_test.h"

#include "gateway/workers.h"

typedef struct tjob {
    tg__job job;
    pthread_t worked_on, done_on;
    int done, slow;
} tjob;

static pthread_t loop_thread;
static int n_done;
static struct event_base *base;

static void work(tg__job *j) {
    tjob *t = (tjob *)j;
    t->worked_on = pthread_self();
    if (t->slow) usleep(200 * 1000);
}

static void done(tg__job *j) {
    tjob *t = (tjob *)j;
    t->done_on = pthread_self();
    t->done++;
    if (++n_done == 8 && base) event_base_loopbreak(base);
}

static void test_threads(void) {
    base = event_base_new();
    loop_thread = pthread_self();
    n_done = 0;
    tg__workers *w = tg__workers_new(base, 2);
    TG_CHECK(w != NULL);
    tjob jobs[8];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 8; i++) {
        jobs[i].job.work = work;
        jobs[i].job.done = done;
        tg__workers_submit(w, &jobs[i].job);
    }
    struct timeval limit = {10, 0};
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    TG_CHECK_EQ_I(n_done, 8);
    for (int i = 0; i < 8; i++) {
        TG_CHECK_EQ_I(jobs[i].done, 1);
        TG_CHECK(!pthread_equal(jobs[i].worked_on, loop_thread));
        TG_CHECK(pthread_equal(jobs[i].done_on, loop_thread));
    }
    tg__workers_free(w);
    event_base_free(base);
    base = NULL;
}

static void test_inline(void) {
    n_done = 0;
    tjob j;
    memset(&j, 0, sizeof j);
    j.job.work = work;
    j.job.done = done;
    tg__workers_submit(NULL, &j.job);
    TG_CHECK_EQ_I(j.done, 1); /* at once, on this thread */
    TG_CHECK(pthread_equal(j.worked_on, pthread_self()));
}

static void test_free_cancels(void) {
    base = event_base_new();
    n_done = 0;
    tg__workers *w = tg__workers_new(base, 1);
    tjob jobs[3];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 3; i++) {
        jobs[i].slow = 1;
        jobs[i].job.work = work;
        jobs[i].job.done = done;
        tg__workers_submit(w, &jobs[i].job);
    }
    tg__workers_free(w); /* the loop never ran: none was done yet */
    int cancelled = 0;
    for (int i = 0; i < 3; i++) {
        TG_CHECK_EQ_I(jobs[i].done, 1);
        cancelled += jobs[i].job.cancelled;
    }
    TG_CHECK_EQ_I(cancelled, 3);
    event_base_free(base);
    base = NULL;
}

int main(void) {
    TG_RUN(test_threads);
    TG_RUN(test_inline);
    TG_RUN(test_free_cancels);
    return tg_test_summary();
}
