/*
 * gateway/workers.h: a small thread pool so that heavy per-request work
 * (parsing a large JSON body, and with the policy: rendering and counting a
 * long prompt) never stalls the event loop and the other connections on it.
 *
 * A job's work() runs on a worker thread and may touch only what the job
 * owns or what is immutable while the job lives (a referenced model table,
 * a referenced config). Its done() then runs on the event-loop thread, where
 * it may use everything. The loop marks a job `cancelled` when its client
 * leaves; done() still runs (to free the job) and must check the flag.
 * Completed jobs come back to the loop through a pipe watched by an event.
 *
 * With 0 threads, submit() runs work() and done() inline.
 */
#ifndef TG_GATEWAY_WORKERS_H
#define TG_GATEWAY_WORKERS_H

#include <event2/event.h>

typedef struct tg__job tg__job;
struct tg__job {
    void (*work)(tg__job *j);
    void (*done)(tg__job *j);
    tg__job *next;
    int cancelled; /* loop thread only */
    /* Loop thread only: set while the job waits on the loop itself (a timer,
     * not a worker queue); a client that leaves calls it, and it frees the
     * job at once (done() would never run). NULL otherwise. */
    void (*abandon)(tg__job *j);
};

typedef struct tg__workers tg__workers;

/* NULL on failure (then run jobs inline). */
tg__workers *tg__workers_new(struct event_base *base, int threads);
void tg__workers_submit(tg__workers *w, tg__job *j);
/* Stops and joins the threads; every job not yet done gets done() with
 * cancelled set, so it frees itself. */
void tg__workers_free(tg__workers *w);

#endif
