/* cli/runner.c: the tg_runner (tokgate/runner.h) the tokgate program
 * installs: each job offered beside the caller gets a pthread. The library
 * starts no thread itself; the program decides that it may. Benchmarks and
 * the json_scan test link this file too, so they measure and check what the
 * program runs. */
#include "cli/runner.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    pthread_t th;
    void (*fn)(void *);
    void *arg;
} job;

static void *job_main(void *p) {
    job *j = p;
    j->fn(j->arg);
    return NULL;
}

static void *start(void (*fn)(void *), void *arg, void *user) {
    (void)user;
    job *j = malloc(sizeof *j);
    if (!j) return NULL;
    j->fn = fn;
    j->arg = arg;
    if (pthread_create(&j->th, NULL, job_main, j) != 0) {
        free(j);
        return NULL; /* declined: the library runs it inline */
    }
    return j;
}

static void join(void *handle, void *user) {
    (void)user;
    job *j = handle;
    pthread_join(j->th, NULL);
    free(j);
}

void tg_cli_runner_install(void) {
    static const tg_runner r = {start, join, NULL};
    tg_runner_set(&r);
}
