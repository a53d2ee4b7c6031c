/*
 * gateway/wheel.c: the loop's coarse timer wheel (wheel.h; issue 17).
 *
 * Time is cut in ticks of 1 / TG__WHEEL_HZ s; a node due at `at` is filed
 * under tick ceil(at * HZ) (never one already run) in slot tick % SLOTS.
 * One libevent timer is set for the earliest slot holding a node. When it
 * fires, every tick from the last one run up to now is run: its slot's
 * nodes filed for a tick that has come and due by now fire (unlinked
 * first, so a callback may arm its node again); nodes moved later
 * (tg__tnode_later) are filed again; those of a later turn stay.
 */
#include <math.h>
#include <stdint.h>

#include "gateway/log.h"
#include "gateway/wheel.h"

/* ceil(at * HZ), 0 for none past 0 (NaN too): the whole part, one more when
 * it is short of x (no ceil: without SSE4.1 it is a libm call; issue 17).
 * Equal to tick_of_ceil for every double (test_wheel). */
uint64_t tg__wheel_tick(double at) {
    double x = at * TG__WHEEL_HZ;
    if (!(x > 0)) return 0;
    if (x >= 0x1p63) return tg__wheel_tick_ceil(at); /* past the cast's range: as before */
    int64_t t = (int64_t)x; /* signed: one conversion each way (x < 2^63 here) */
    return (uint64_t)t + ((double)t < x);
}

/* The tick before the fast one above, kept as its reference. */
uint64_t tg__wheel_tick_ceil(double at) {
    double t = ceil(at * TG__WHEEL_HZ);
    return t > 0 ? (uint64_t)t : 0;
}

static uint64_t tick_of(double at) { return tg__wheel_tick(at); }

static void file(tg__wheel *w, tg__tnode *n, uint64_t tick) {
    if (tick <= w->done) tick = w->done + 1;
    n->tick = tick;
    tg__tnode **head = &w->slot[tick % TG__WHEEL_SLOTS];
    n->next = *head;
    if (*head) (*head)->pprev = &n->next;
    n->pprev = head;
    *head = n;
}

static void arm_for(tg__wheel *w, uint64_t tick) {
    double left = (double)tick / TG__WHEEL_HZ - tg__now_due();
    if (left < 0) left = 0;
    struct timeval tv;
    tv.tv_sec = (time_t)left;
    tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6) + 1;
    w->armed = tick;
    event_add(&w->ev, &tv);
}

/* Sets the timer for the first slot after tick `from` that holds a node (none: unset). */
static void arm_next(tg__wheel *w, uint64_t from) {
    for (uint64_t t = from + 1; t <= from + TG__WHEEL_SLOTS; t++)
        if (w->slot[t % TG__WHEEL_SLOTS]) {
            arm_for(w, t);
            return;
        }
    w->armed = UINT64_MAX;
}

/* Runs slot `t`'s nodes filed up to tick `cur` and due by `now`. */
static void run_slot(tg__wheel *w, uint64_t t, uint64_t cur, double now) {
    tg__tnode *list = w->slot[t % TG__WHEEL_SLOTS];
    w->slot[t % TG__WHEEL_SLOTS] = NULL;
    if (list) list->pprev = &list; /* the batch is a list of its own: a callback may clear any node in it */
    while (list) {
        tg__tnode *n = list;
        list = n->next;
        if (list) list->pprev = &list;
        n->next = NULL;
        n->pprev = NULL;
        if (n->tick > cur) file(w, n, n->tick); /* a later turn */
        else if (n->at > now) file(w, n, tick_of(n->at)); /* moved later */
        else n->cb(n->arg);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__wheel *w = arg;
    w->armed = UINT64_MAX;
    /* The precise clock here (one read per firing): arm_for() set the timer
     * from the coarse one, which is never ahead of it, so the tick it was
     * set for has come on this clock; on the coarse clock, up to a kernel
     * tick behind, it might not have, and the timer would be set again and
     * again for the sliver left until that clock moves. A node due (coarse
     * clock) by this `now` fires at most one kernel tick early (wheel.h). */
    double now = tg__now();
    uint64_t cur = (uint64_t)floor(now * TG__WHEEL_HZ);
    w->in_tick = 1;
    if (cur > w->done) {
        uint64_t t = cur - w->done > TG__WHEEL_SLOTS ? cur - TG__WHEEL_SLOTS + 1 : w->done + 1;
        for (; t <= cur; t++) {
            w->done = t; /* what the callbacks arm goes after it */
            run_slot(w, t, cur, now);
        }
    }
    w->in_tick = 0;
    arm_next(w, w->done);
}

void tg__wheel_init(tg__wheel *w, struct event_base *base) {
    for (size_t i = 0; i < TG__WHEEL_SLOTS; i++) w->slot[i] = NULL;
    w->base = base;
    w->done = (uint64_t)floor(tg__now_due() * TG__WHEEL_HZ);
    w->armed = UINT64_MAX;
    w->in_tick = 0;
    event_assign(&w->ev, base, -1, 0, tick_cb, w);
}

void tg__tnode_set(tg__wheel *w, tg__tnode *n, double at) {
    if (n->pprev && at >= n->at) { /* armed, moved later: tg__tnode_later's one store (its slot refiles it) */
        n->at = at;
        return;
    }
    tg__tnode_clear(n);
    n->at = at;
    file(w, n, tick_of(at));
    if (!w->in_tick && n->tick < w->armed) arm_for(w, n->tick);
}

void tg__wheel_stop(tg__wheel *w) {
    if (!w->base) return;
    event_del(&w->ev);
    for (size_t i = 0; i < TG__WHEEL_SLOTS; i++)
        while (w->slot[i]) tg__tnode_clear(w->slot[i]);
    w->base = NULL;
}
