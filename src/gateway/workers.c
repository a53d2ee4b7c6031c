/* gateway/workers.c: the worker pool (see workers.h). A FIFO under a mutex
 * feeds the threads; finished jobs go to a done list and one byte on a
 * non-blocking pipe wakes the loop, which drains the list in order. */
#include "gateway/workers.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS 64

struct tg__workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tg__job *head, *tail;      /* queued */
    tg__job *done_head, *done_tail;
    int stop;
    int n;
    pthread_t th[MAX_THREADS];
    int pipe_r, pipe_w;
    struct event *ev;
};

static void push(tg__job **h, tg__job **t, tg__job *j) {
    j->next = NULL;
    if (*t) (*t)->next = j;
    else *h = j;
    *t = j;
}

static void *thread_main(void *arg) {
    tg__workers *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop) break;
        tg__job *j = w->head;
        w->head = j->next;
        if (!w->head) w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->work(j);
        pthread_mutex_lock(&w->mu);
        int was_empty = w->done_head == NULL;
        push(&w->done_head, &w->done_tail, j);
        if (was_empty) {
            char b = 1;
            ssize_t r = write(w->pipe_w, &b, 1); /* full pipe: a wake-up is pending anyway */
            (void)r;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void run_done(tg__workers *w) {
    pthread_mutex_lock(&w->mu);
    tg__job *j = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (j) {
        tg__job *next = j->next;
        j->done(j);
        j = next;
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    char buf[256];
    while (read((int)fd, buf, sizeof buf) > 0) {
    }
    run_done(arg);
}

tg__workers *tg__workers_new(struct event_base *base, int threads) {
    if (threads <= 0) return NULL;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    tg__workers *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    int fds[2];
    if (pipe(fds) != 0) {
        free(w);
        return NULL;
    }
    w->pipe_r = fds[0];
    w->pipe_w = fds[1];
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->ev = event_new(base, w->pipe_r, EV_READ | EV_PERSIST, on_wake, w);
    if (!w->ev || event_add(w->ev, NULL) != 0) goto fail;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&w->th[i], NULL, thread_main, w) != 0) break;
        w->n++;
    }
    if (w->n == 0) goto fail;
    return w;
fail:
    if (w->ev) event_free(w->ev);
    close(w->pipe_r);
    close(w->pipe_w);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    return NULL;
}

void tg__workers_submit(tg__workers *w, tg__job *j) {
    if (!w) {
        j->work(j);
        j->done(j);
        return;
    }
    pthread_mutex_lock(&w->mu);
    push(&w->head, &w->tail, j);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void tg__workers_free(tg__workers *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->n; i++) pthread_join(w->th[i], NULL);
    /* Jobs that never ran, then finished ones: all are freed by done(). */
    tg__job *j = w->head;
    while (j) {
        tg__job *next = j->next;
        j->cancelled = 1;
        j->done(j);
        j = next;
    }
    w->head = w->tail = NULL;
    j = w->done_head;
    w->done_head = w->done_tail = NULL;
    while (j) {
        tg__job *next = j->next;
        j->cancelled = 1;
        j->done(j);
        j = next;
    }
    event_free(w->ev);
    close(w->pipe_r);
    close(w->pipe_w);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
