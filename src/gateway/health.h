/*
 * gateway/health.h: one upstream's health as the replica router sees it
 * (health.c; issue 14, docs/gateway.md "Replicas"). Pure bookkeeping, no
 * sockets: the proxy reports faults and good answers (passive checks),
 * discovery's probes report answers (the active check that brings a replica
 * back), and the router asks whether a replica may take requests.
 *
 * A fault (connect refused, a timeout before the answer's head, a reset, or
 * HTTP 502/503/504) takes the upstream out for a back-off: 1 s, doubled per
 * consecutive fault up to 30 s. It comes back when a discovery probe
 * answers, or when the back-off ends (half-open: the next request tries it;
 * another fault takes it out for twice as long). One good answer clears it.
 */
#ifndef TG_GATEWAY_HEALTH_H
#define TG_GATEWAY_HEALTH_H

#include <stdint.h>

#define TG__HEALTH_BACKOFF_MIN 1.0
#define TG__HEALTH_BACKOFF_MAX 30.0

typedef struct tg__health {
    int down;          /* taken out by a fault */
    double until;      /* the back-off's end (tg__now() clock) */
    double backoff;    /* the next back-off, seconds */
    uint64_t inflight; /* requests routed here and not yet finished */
    uint64_t routed, faults, outs; /* counters: requests routed here, faults seen, times taken out */
} tg__health;

/* A fault at `now`: out for the back-off (which then doubles). 1 when the
 * upstream was up until now. */
int tg__health_fault(tg__health *h, double now);
/* A good answer or probe: in again, the back-off reset. 1 when it was down. */
int tg__health_ok(tg__health *h);
/* 1 when requests may go there now (up, or its back-off over). */
int tg__health_usable(const tg__health *h, double now);

#endif
