/*
 * test_wheel.c: the loop's coarse timer wheel (src/gateway/wheel.c) on a
 * real event base against wheel.h's rules: a timeout never fires before its
 * due time and fires once; due times out of order fire in order; a cleared
 * node never fires; a node moved later (tg__tnode_later, one store) fires
 * after its new time, not its old one; a callback may arm its own node
 * again and clear another node due in the same tick, which then does not
 * fire; a node due past one turn of the wheel (TG__WHEEL_SLOTS ticks) waits
 * for its turn; stopping the wheel disarms what is left; tg__tnode_set moving
 * an armed node later (one store, as tg__tnode_later) or earlier (filed
 * again) fires it once, at its new time; the tick a due time is filed under
 * (tg__wheel_tick, without libm's ceil) equals ceil(at * HZ) (libm, the
 * reference: tg__wheel_tick_ceil) for every double tried. Times are checked
 * only from below (never early), never as a speed.
 */
#include <event2/event.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tg_test.h"

#include "gateway/log.h"
#include "gateway/wheel.h"

typedef struct probe {
    tg__tnode n;
    double due;     /* the due time it was last given */
    double fired;   /* when it fired (0: not) */
    int times;
    int order;      /* its place among the fired */
    int rearm;      /* fire again once, this many seconds later */
    tg__tnode *kill; /* clears this node when it fires */
    tg__wheel *w;
} probe;

static int fired_count;

static void probe_cb(void *arg) {
    probe *p = arg;
    p->fired = tg__now();
    p->times++;
    p->order = ++fired_count;
    if (p->kill) tg__tnode_clear(p->kill);
    if (p->rearm) {
        p->due = tg__now() + 0.01 * p->rearm;
        p->rearm = 0;
        tg__tnode_set(p->w, &p->n, p->due);
    }
}

/* N probes cleared and ready to arm, the fired count reset: now, the time to arm against. */
static double probes_init(probe *p, int n) {
    memset(p, 0, sizeof p[0] * (size_t)n);
    fired_count = 0;
    for (int i = 0; i < n; i++) tg__tnode_init(&p[i].n, probe_cb, &p[i]);
    return tg__now();
}

static void arm(tg__wheel *w, probe *p, double due) {
    p->w = w;
    p->due = due;
    tg__tnode_set(w, &p->n, due);
}

static void run_for(struct event_base *base, double seconds) {
    struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6)};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void test_order_and_never_early(void) {
    struct event_base *base = event_base_new();
    static tg__wheel w;
    tg__wheel_init(&w, base);
    probe p[4];
    double now = probes_init(p, 4);
    arm(&w, &p[0], now + 0.30);
    arm(&w, &p[1], now + 0.08);
    arm(&w, &p[2], now + 0.17);
    arm(&w, &p[3], now - 1.0); /* already past: the next tick */
    run_for(base, 0.8);
    for (int i = 0; i < 4; i++) {
        TG_CHECK_EQ_I(p[i].times, 1);
        TG_CHECK(p[i].fired >= p[i].due);
        TG_CHECK(!tg__tnode_armed(&p[i].n));
    }
    TG_CHECK_EQ_I(p[3].order, 1);
    TG_CHECK_EQ_I(p[1].order, 2);
    TG_CHECK_EQ_I(p[2].order, 3);
    TG_CHECK_EQ_I(p[0].order, 4);
    tg__wheel_stop(&w);
    event_base_free(base);
}

static void test_clear_later_rearm_kill(void) {
    struct event_base *base = event_base_new();
    static tg__wheel w;
    tg__wheel_init(&w, base);
    probe p[5];
    double now = probes_init(p, 5);
    arm(&w, &p[0], now + 0.05);
    tg__tnode_clear(&p[0].n); /* cleared: never fires */
    tg__tnode_clear(&p[0].n); /* twice: a no-op */
    arm(&w, &p[1], now + 0.05);
    p[1].due = now + 0.35; /* moved later with one store */
    tg__tnode_later(&p[1].n, p[1].due);
    arm(&w, &p[2], now + 0.06);
    p[2].rearm = 10; /* fires again 0.1 s after its first time */
    /* p[3] and p[4] due in the same tick; whichever fires first clears the other */
    arm(&w, &p[3], now + 0.12);
    arm(&w, &p[4], now + 0.12);
    p[3].kill = &p[4].n;
    p[4].kill = &p[3].n;
    run_for(base, 0.8);
    TG_CHECK_EQ_I(p[0].times, 0);
    TG_CHECK_EQ_I(p[1].times, 1);
    TG_CHECK(p[1].fired >= now + 0.35);
    TG_CHECK_EQ_I(p[2].times, 2);
    TG_CHECK(p[2].fired >= p[2].due);
    TG_CHECK_EQ_I(p[3].times + p[4].times, 1);
    tg__wheel_stop(&w);
    event_base_free(base);
}

static void test_next_turn_and_stop(void) {
    struct event_base *base = event_base_new();
    static tg__wheel w;
    tg__wheel_init(&w, base);
    probe fn[2]; /* far, near */
    double now = probes_init(fn, 2);
    probe *far = &fn[0], *near = &fn[1];
    /* one whole turn and a tick later: filed in the slot a near one uses now */
    double turn = (double)TG__WHEEL_SLOTS / TG__WHEEL_HZ;
    arm(&w, far, now + turn + 0.1);
    arm(&w, near, now + 0.1);
    run_for(base, 0.5);
    TG_CHECK_EQ_I(near->times, 1);
    TG_CHECK_EQ_I(far->times, 0); /* its turn has not come */
    TG_CHECK(tg__tnode_armed(&far->n));
    tg__wheel_stop(&w);
    TG_CHECK(!tg__tnode_armed(&far->n));
    tg__tnode_clear(&far->n); /* after the stop: a no-op */
    event_base_free(base);
}

/* tg__tnode_set on armed nodes: later (one store) and earlier (filed again). */
static void test_set_moves(void) {
    struct event_base *base = event_base_new();
    static tg__wheel w;
    tg__wheel_init(&w, base);
    probe p[3];
    double now = probes_init(p, 3);
    arm(&w, &p[0], now + 0.05);
    arm(&w, &p[0], now + 0.40); /* later: must not fire at 0.05 */
    arm(&w, &p[1], now + 0.45);
    arm(&w, &p[1], now + 0.10); /* earlier: fires first */
    arm(&w, &p[2], now + 0.20);
    arm(&w, &p[2], now + 0.20); /* the same time again */
    run_for(base, 0.8);
    for (int i = 0; i < 3; i++) {
        TG_CHECK_EQ_I(p[i].times, 1);
        TG_CHECK(p[i].fired >= p[i].due);
    }
    TG_CHECK_EQ_I(p[1].order, 1);
    TG_CHECK_EQ_I(p[2].order, 2);
    TG_CHECK_EQ_I(p[0].order, 3);
    tg__wheel_stop(&w);
    event_base_free(base);
}

static size_t tick_tried, tick_bad;
static void tick_check(double at) {
    tick_tried++;
    if (tg__wheel_tick(at) != tg__wheel_tick_ceil(at)) {
        if (tick_bad++ < 5) fprintf(stderr, "  tick(%.17g): %llu, ceil says %llu\n", at,
                                    (unsigned long long)tg__wheel_tick(at), (unsigned long long)tg__wheel_tick_ceil(at));
    }
}

/* The fast tick against libm's ceil: whole ticks and their neighbours,
 * fractions, clock-like times, signs, NaN and the edge of the cast. */
static void test_tick_equals_ceil(void) {
    tick_tried = tick_bad = 0;
    double hz = TG__WHEEL_HZ;
    for (uint64_t k = 0; k < 200000; k++) {
        double at = (double)k / hz;
        tick_check(at);
        tick_check(nextafter(at, INFINITY));
        tick_check(nextafter(at, -INFINITY));
        tick_check(at + 0.5 / hz);
    }
    uint64_t x = 88172645463325252ull; /* xorshift64: clock-like and far times */
    for (int i = 0; i < 400000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
        tick_check(u * 1e6);
        tick_check(u * 4e17);
        tick_check(-u * 1e6);
        double whole = floor(u * 1e12) / hz;
        tick_check(whole);
        tick_check(nextafter(whole, INFINITY));
    }
    static const double odd[] = {0.0, -0.0, -1.0, 1e-300, 4.9e-324, 0.05, 0.049999999999999996, 1e15, 4.6e17,
                                 4.611686018427387e17, 9.2e17, NAN, -NAN, -INFINITY};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) tick_check(odd[i]);
    fprintf(stderr, "  tick: %zu times tried, %zu differ from ceil\n", tick_tried, tick_bad);
    TG_CHECK(tick_tried > 2000000);
    TG_CHECK_EQ_U(tick_bad, 0);
}

int main(void) {
    TG_RUN(test_order_and_never_early);
    TG_RUN(test_clear_later_rearm_kill);
    TG_RUN(test_next_turn_and_stop);
    TG_RUN(test_set_moves);
    TG_RUN(test_tick_equals_ceil);
    return tg_test_summary();
}
