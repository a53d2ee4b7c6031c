/*
 * gateway/admission.c: KV admission control bookkeeping (see admission.h for
 * the rules). The gateway's use of it lives in proxy.c: an exchange acquires
 * before its request goes upstream and releases in exactly one place, its
 * teardown (ex_release), whatever ended it.
 */
#include "gateway/admission.h"

static uint64_t seqs_of(const tg__adm_wait *w) { return w->seqs ? w->seqs : 1; }

uint64_t tg__adm_slot_room(const tg__adm *a) {
    uint64_t room = UINT64_MAX;
    if (a->slots_total) {
        room = a->slots_total;
        if (a->share > 0 && a->share < 1) {
            room = (uint64_t)((double)a->slots_total * a->share + 1e-9);
            if (room < 1) room = 1; /* a share below one slot still runs one (the docs say: over-commits) */
        }
    }
    if (a->engine_fresh && a->budget != UINT64_MAX && a->running + a->budget < room) room = a->running + a->budget;
    return room;
}

/* The slot gate (admission.h): `seqs` more sequences may start now. */
static int slots_fit(const tg__adm *a, uint64_t seqs) {
    uint64_t room = tg__adm_slot_room(a);
    return room == UINT64_MAX || (a->running <= room && seqs <= room - a->running);
}

static int fits(const tg__adm *a, uint64_t need, uint64_t seqs) {
    if (!slots_fit(a, seqs)) return 0;
    if (a->capacity == 0 || a->reserved == 0) return 1;
    return need <= a->capacity && a->reserved + need <= a->capacity;
}

/* Whether the queue's head may have its tokens now. */
static int head_fits(const tg__adm *a, const tg__adm_wait *w) {
    if (!w->grow) return fits(a, w->need, seqs_of(w));
    if (a->capacity == 0 || a->reserved <= w->have) return 1; /* unknown, or it runs alone */
    if (a->reserved <= a->paused) return 1; /* all reserved KV waits to grow: nothing would free room */
    return a->reserved <= a->capacity && w->need <= a->capacity - a->reserved;
}

static void take(tg__adm *a, tg__adm_wait *w) {
    a->reserved += w->need;
    if (a->reserved > a->peak_reserved) a->peak_reserved = a->reserved;
    if (!w->grow) {
        a->admitted++;
        w->held = seqs_of(w);
        a->running += w->held;
        a->probe_started += w->held;
        if (a->engine_fresh && a->budget != UINT64_MAX) a->budget = w->held > a->budget ? 0 : a->budget - w->held;
        if (a->running > a->peak_running) a->peak_running = a->running;
    }
    w->granted = 1;
}

static void unlink_wait(tg__adm *a, tg__adm_wait *w) {
    if (w->prev) w->prev->next = w->next; else a->head = w->next;
    if (w->next) w->next->prev = w->prev; else a->tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = 0;
    a->depth--;
    if (w->grow) a->paused -= w->have;
}

static void pump(tg__adm *a) {
    while (a->head && head_fits(a, a->head)) {
        tg__adm_wait *w = a->head;
        unlink_wait(a, w);
        take(a, w);
        if (w->grant) w->grant(w);
    }
}

int tg__adm_acquire(tg__adm *a, tg__adm_wait *w, uint64_t need) {
    w->need = need;
    w->have = 0;
    w->grow = 0;
    w->granted = 0;
    w->held = 0;
    w->prev = w->next = NULL;
    if (!a->head && fits(a, need, seqs_of(w))) { /* FIFO: nobody may overtake a waiter */
        take(a, w);
        return TG__ADM_ADMITTED;
    }
    if (!a->head && !slots_fit(a, seqs_of(w)) && a->engine_fresh && tg__adm_slot_room(a) < a->slots_total)
        a->engine_waits++; /* held back by the engine's reading */
    if (a->depth >= a->queue_max) {
        a->refusals++;
        return TG__ADM_FULL;
    }
    w->prev = a->tail;
    if (a->tail) a->tail->next = w; else a->head = w;
    a->tail = w;
    w->queued = 1;
    a->depth++;
    a->waits++;
    return TG__ADM_QUEUED;
}

void tg__adm_cancel(tg__adm *a, tg__adm_wait *w, int timed_out) {
    if (!w->queued) return;
    int was_head = a->head == w;
    unlink_wait(a, w);
    if (timed_out) {
        a->timeouts++;
        a->refusals++;
    }
    if (was_head) pump(a); /* the next one may fit where the big head did not */
}

void tg__adm_release(tg__adm *a, uint64_t n) {
    a->reserved = n > a->reserved ? 0 : a->reserved - n;
    pump(a);
}

int tg__adm_can_grow(const tg__adm *a, uint64_t have, uint64_t n) {
    if (a->capacity == 0 || a->reserved <= have) return 1; /* unknown, or it runs alone */
    if (a->head) return 0;                                 /* the room is owed to the waiters */
    return a->reserved <= a->capacity && n <= a->capacity - a->reserved;
}

void tg__adm_grow(tg__adm *a, uint64_t n) {
    a->reserved += n;
    if (a->reserved > a->peak_reserved) a->peak_reserved = a->reserved;
}

void tg__adm_set_capacity(tg__adm *a, uint64_t capacity) {
    a->capacity = capacity;
    pump(a);
}

int tg__adm_grow_wait(tg__adm *a, tg__adm_wait *w, uint64_t have, uint64_t n) {
    w->need = n;
    w->have = have;
    w->grow = 1;
    w->granted = 0;
    w->prev = w->next = NULL;
    if (tg__adm_can_grow(a, have, n)) {
        take(a, w);
        return TG__ADM_ADMITTED;
    }
    /* after the growths already waiting, ahead of every new request */
    tg__adm_wait *after = NULL;
    for (tg__adm_wait *q = a->head; q && q->grow; q = q->next) after = q;
    w->prev = after;
    w->next = after ? after->next : a->head;
    if (w->next) w->next->prev = w; else a->tail = w;
    if (after) after->next = w; else a->head = w;
    w->queued = 1;
    a->depth++;
    a->waits++;
    a->paused += have;
    pump(a); /* it may be the last one running: the deadlock rule applies at once */
    return TG__ADM_QUEUED; /* grant() has run, or will */
}

/* ---- several gateways on one engine (admission.h) ------------------------ */

void tg__adm_configure(tg__adm *a, uint64_t capacity, uint64_t slots_total, double share) {
    if (share > 0 && share < 1) capacity = (uint64_t)((double)capacity * share);
    a->capacity = capacity;
    a->slots_total = slots_total;
    a->share = share;
    pump(a);
}

void tg__adm_finish(tg__adm *a, tg__adm_wait *w, uint64_t n) {
    uint64_t s = w->held;
    w->held = 0;
    a->running = s > a->running ? 0 : a->running - s;
    /* its slot is free again: ours to reuse when the reading saw one free
     * (nobody queued in the engine then), else the engine's queue's */
    if (a->engine_fresh && a->budget != UINT64_MAX && a->engine_free > 0) a->budget += s;
    tg__adm_release(a, n); /* pumps */
}

void tg__adm_probe_sent(tg__adm *a) { a->probe_started = 0; }

void tg__adm_engine_reading(tg__adm *a, uint64_t busy, uint64_t total, int full) {
    if (full) a->engine_free = 0;
    else if (!total) a->engine_free = UINT64_MAX; /* the engine counts no slots: only `full` says */
    else a->engine_free = busy >= total ? 0 : total - busy;
    if (a->engine_free == UINT64_MAX) a->budget = UINT64_MAX;
    else a->budget = a->engine_free > a->probe_started ? a->engine_free - a->probe_started : 0;
    a->engine_fresh = 1;
    pump(a);
}

void tg__adm_engine_stale(tg__adm *a) {
    if (!a->engine_fresh) return;
    a->engine_fresh = 0;
    a->budget = UINT64_MAX;
    pump(a);
}
