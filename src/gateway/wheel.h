/*
 * gateway/wheel.h: coarse timeouts for the event loop (issue 17): one
 * hashed timer wheel per loop (wheel.c) instead of a libevent timer per
 * connection and request. Arming, moving and clearing a timeout is a few
 * pointer stores, where event_add/event_del cost ~200-700 instructions each
 * and ran ~20 times per proxied request (bufferevent timeouts re-armed on
 * every read and write, the request's phase timers). One libevent timer
 * wakes the wheel at the next tick holding a timeout.
 *
 * Precision: a timeout fires at the first tick (TG__WHEEL_HZ a second) at
 * or after its due time, never before it: up to 1 / TG__WHEEL_HZ s (50 ms)
 * late, plus the loop's own latency. Due times are on tg__now_due()'s clock
 * (log.h: the kernel's coarse monotonic clock, up to one kernel tick behind
 * tg__now(), ~4 ns a read where tg__now() costs ~25-30 ns more in a VM; the
 * due times were 13 of the 18 precise clock reads per proxied request): a timeout armed with
 * it fires when that clock reaches it, so within one kernel tick (1-4 ms) of
 * its length by tg__now()'s. All of the gateway's timeouts are
 * seconds long (client, header, body, upstream connect, first byte, idle,
 * answer, pool idle), so this does not change what they mean.
 *
 * A node's due time may be moved later without touching the wheel
 * (tg__tnode_later: one store); the tick that finds it not yet due files
 * it again. Used by client.c and upstream.c; the wheel lives in tg__pools
 * (upstream.h), made on first use from its event base.
 */
#ifndef TG_GATEWAY_WHEEL_H
#define TG_GATEWAY_WHEEL_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdint.h>

#define TG__WHEEL_HZ 20
#define TG__WHEEL_SLOTS 1024 /* a turn: 51.2 s; later timeouts wait in their slot for their turn */

typedef struct tg__tnode tg__tnode;
typedef void (*tg__tnode_cb)(void *arg);

struct tg__tnode {
    tg__tnode *next, **pprev; /* pprev NULL: not armed */
    uint64_t tick;            /* the tick it is filed under */
    double at;                /* due (tg__now_due()'s clock); may lie after tick's time */
    tg__tnode_cb cb;
    void *arg;
};

typedef struct tg__wheel {
    struct event_base *base; /* NULL until first use */
    struct event ev;         /* wakes at `armed` */
    uint64_t done;           /* every tick up to this one has been run */
    uint64_t armed;          /* the tick ev is set for (UINT64_MAX: none) */
    int in_tick;
    tg__tnode *slot[TG__WHEEL_SLOTS];
} tg__wheel;

static inline void tg__tnode_init(tg__tnode *n, tg__tnode_cb cb, void *arg) {
    n->next = NULL;
    n->pprev = NULL;
    n->tick = 0;
    n->at = 0;
    n->cb = cb;
    n->arg = arg;
}
static inline int tg__tnode_armed(const tg__tnode *n) { return n->pprev != NULL; }
/* Disarms (a no-op when not armed). */
static inline void tg__tnode_clear(tg__tnode *n) {
    if (!n->pprev) return;
    *n->pprev = n->next;
    if (n->next) n->next->pprev = n->pprev;
    n->next = NULL;
    n->pprev = NULL;
}
/* Arms n to fire at `at` (tg__now_due()'s clock), moving it when armed (a move
 * later is tg__tnode_later: the node stays in its slot, which files it again). */
void tg__tnode_set(tg__wheel *w, tg__tnode *n, double at);
/* The tick a due time is filed under: ceil(at * TG__WHEEL_HZ), 0 when not
 * past 0; tg__wheel_tick_ceil is the same with libm's ceil (the reference). */
uint64_t tg__wheel_tick(double at);
uint64_t tg__wheel_tick_ceil(double at);
/* Moves an armed n's due time later (at >= its current one): one store. */
static inline void tg__tnode_later(tg__tnode *n, double at) { n->at = at; }
/* First use: binds the wheel to its loop. */
void tg__wheel_init(tg__wheel *w, struct event_base *base);
/* Stops the wheel; nodes still armed are disarmed without firing. */
void tg__wheel_stop(tg__wheel *w);

#endif
