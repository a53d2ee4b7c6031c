/*
 * tokgate/runner.h: how the library runs work beside its caller without
 * starting a thread of its own.
 *
 * libtokgate is pure (DESIGN.md): it never starts a thread, opens a socket or
 * exits. A few jobs gain from a second core, today one: decoding a large
 * tokenizer.json's merges while the vocabulary is walked and indexed (about
 * a third of the load time of a 150K-token vocabulary). The program, which
 * owns its threads, may install a runner; the library hands such jobs to
 * it. Without a runner, or when the runner declines, the job runs inline on
 * the caller's thread. Either way the result is the same, byte for byte:
 * only the time differs.
 *
 * Install the runner once, before any thread uses the library; it is read,
 * never changed, afterwards. The CLI and the daemon install one built on
 * pthreads (src/cli/runner.c).
 */
#ifndef TOKGATE_RUNNER_H
#define TOKGATE_RUNNER_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_runner {
    /* Starts fn(arg) beside the caller. Returns a handle for join, or NULL to
     * decline (the library then runs the job itself, inline). */
    void *(*start)(void (*fn)(void *arg), void *arg, void *user);
    /* Waits until the job behind `handle` has returned, and forgets it. */
    void (*join)(void *handle, void *user);
    void *user;
} tg_runner;

/* Installs `r` (copied), or removes the runner when r is NULL. */
void tg_runner_set(const tg_runner *r);

#ifdef __cplusplus
}
#endif
#endif
