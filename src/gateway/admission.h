/*
 * gateway/admission.h: KV admission control, the pure bookkeeping (no
 * sockets, no events, so bench/admission_sim.c replays traces through this
 * very code).
 *
 * One tg__adm per upstream. `capacity` is how many tokens of KV cache the
 * upstream holds at once (llama-server: per-slot n_ctx x total_slots; else
 * the model's derived context); 0 means unknown, and then everything is
 * admitted. Every in-flight request reserves prompt + its current max_tokens;
 * a reservation that does not fit waits in a bounded FIFO (strict order: a
 * small request never overtakes a large one ahead of it, so large ones
 * cannot starve). A request larger than the whole capacity is admitted when
 * nothing else is reserved (it runs alone; the server decides the rest).
 * Escalation grows a running reservation (tg__adm_grow_wait): at once when
 * tg__adm_can_grow says there is room (the capacity is unknown, the request
 * runs alone, or nobody waits and reserved + n fits); otherwise the growth
 * waits, ahead of every new request (it already holds KV, and finishing it
 * frees all of it; growths keep their order among themselves), until
 * releases make room. Growing past the capacity would over-commit the KV
 * cache others were promised, and growing while new requests wait would
 * take room the FIFO owes them, except in one case: when every reserved
 * token belongs to a request itself waiting to grow, nothing running will
 * ever release room, so the first growth is granted anyway (the policy
 * never escalates past what one request's context leaves, so this only
 * over-commits the aggregate, never a slot). The gateway bounds every wait
 * by admission_wait; a growth that times out leaves the capped answer as it
 * was.
 */
#ifndef TG_GATEWAY_ADMISSION_H
#define TG_GATEWAY_ADMISSION_H

#include <stddef.h>
#include <stdint.h>

typedef struct tg__adm_wait tg__adm_wait;
struct tg__adm_wait {
    tg__adm_wait *prev, *next;
    uint64_t need;
    uint64_t have; /* growth: the reservation it already holds */
    int grow;      /* a running request waiting to grow by `need` */
    int queued;  /* in the FIFO */
    int granted; /* reservation taken (set before grant() runs) */
    /* Called when the reservation is granted from the queue, from inside
     * tg__adm_release/tg__adm_set_capacity: it must not re-enter the adm
     * synchronously in ways that free `w` mid-pump (defer the real work). */
    void (*grant)(tg__adm_wait *w);
    void *ud;
    /* ---- slots (issue 14, several gateways) ---- */
    uint64_t seqs; /* sequences (engine slots) it runs: set before acquire; 0 counts as 1 */
    uint64_t held; /* of which counted in a->running (0 once finished) */
};

typedef struct tg__adm {
    uint64_t capacity; /* tokens; 0 = unknown: admit everything */
    uint64_t reserved; /* sum of granted reservations */
    uint64_t paused;   /* of which held by requests waiting to grow */
    size_t depth, queue_max;
    tg__adm_wait *head, *tail;
    uint64_t admitted, waits, refusals, timeouts; /* counters for /metrics */
    uint64_t peak_reserved;
    /* ---- slots and the engine's own state (issue 14 item 3; see the
     * block comment at tg__adm_configure). All 0: no slot gate. ---- */
    uint64_t slots_total;  /* the engine's slots (llama-server total_slots); 0 unknown */
    double share;          /* fraction of the engine this gateway may use; 0 or 1: all */
    uint64_t running;      /* sequences this gateway runs on the engine now */
    uint64_t peak_running;
    int engine_fresh;      /* 1: the reading below is current */
    uint64_t engine_free;  /* free slots per the last reading; UINT64_MAX: the engine counts none (vLLM) */
    uint64_t budget;       /* sequences that may still start on that reading; UINT64_MAX: no limit */
    uint64_t probe_started; /* sequences started since the probe in flight was sent */
    uint64_t engine_waits;   /* admissions that waited on the engine's reading (not on share or tokens) */
} tg__adm;

enum { TG__ADM_ADMITTED = 1, TG__ADM_QUEUED = 0, TG__ADM_FULL = -1 };

/* Reserves `need` tokens now (TG__ADM_ADMITTED, w->granted = 1), or queues w
 * (TG__ADM_QUEUED; grant() runs later), or refuses when the queue already
 * holds queue_max waiters (TG__ADM_FULL, counted as a refusal). */
int tg__adm_acquire(tg__adm *a, tg__adm_wait *w, uint64_t need);
/* Removes a queued waiter (timeout, client gone). timed_out counts it as a
 * timeout refusal. No effect on a waiter that is not queued. */
void tg__adm_cancel(tg__adm *a, tg__adm_wait *w, int timed_out);
/* Gives back `n` reserved tokens and grants queued waiters, in order, while
 * the head fits. */
void tg__adm_release(tg__adm *a, uint64_t n);
/* 1 when a running reservation of `have` tokens may grow by `n` (rules
 * above); 0 when it may not. Pure: changes nothing. */
int tg__adm_can_grow(const tg__adm *a, uint64_t have, uint64_t n);
/* Adds `n` to a running reservation (escalation) unconditionally; callers
 * that must respect the capacity ask tg__adm_can_grow first. */
void tg__adm_grow(tg__adm *a, uint64_t n);
/* Grows a running reservation of `have` tokens by `n`: now
 * (TG__ADM_ADMITTED, w->granted = 1, grant() not called) or queued ahead of
 * new requests (TG__ADM_QUEUED; grant() runs later, or already ran inside
 * this call when the deadlock rule above applied: grant() must defer).
 * Never refused: the queue limit is for new requests. */
int tg__adm_grow_wait(tg__adm *a, tg__adm_wait *w, uint64_t have, uint64_t n);
/* New capacity (discovery learned it or it changed); grants what now fits. */
void tg__adm_set_capacity(tg__adm *a, uint64_t capacity);

/* ---- several gateways on one engine (issue 14 item 3) ----------------------
 * Besides tokens, a request holds w->seqs of the engine's slots (a
 * llama-server slot, a vLLM running sequence) from its grant to
 * tg__adm_finish. The slot gate admits a request only when
 *   running + seqs <= the share's slots  (floor(share x slots_total), at
 *                                         least 1; share 1: all of them)
 * and, while the engine's last reading is fresh, when it fits the budget
 * that reading left: the slots it saw free, less this gateway's sequences
 * started since its probe was sent (the reading may not show them), less
 * those started since it came back. A sequence of ours that ends gives its
 * slot back to the budget only when that reading saw a free slot (else the
 * engine may hold others' requests in its queue, and the freed slot is
 * theirs). A reading that says the engine queues (vLLM
 * num_requests_waiting > 0, or its KV pool full) leaves no budget. Two
 * gateways can still both spend the same free slot when their readings are
 * both older than the other's start: the staleness window, one poll
 * interval plus the probe's round trip (docs/gateway.md, Deployment); the
 * share has no such window. A request waits in the same FIFO as for
 * tokens (admission.queue, admission.wait_ms). The token capacity is scaled
 * by the share too. Without slots_total and without a fresh reading the
 * slot gate is off, as before. */
/* Capacity (tokens, before the share), the engine's slots (0 unknown) and
 * this gateway's share (0 or >= 1: all); grants what now fits. */
void tg__adm_configure(tg__adm *a, uint64_t capacity, uint64_t slots_total, double share);
/* Ends a request: gives back its `n` tokens and its slots (w->held). */
void tg__adm_finish(tg__adm *a, tg__adm_wait *w, uint64_t n);
/* A probe of the engine's state is being sent now. */
void tg__adm_probe_sent(tg__adm *a);
/* Its answer: `busy` of the engine's `total` slots run a sequence (all
 * gateways; total 0: the engine counts no slots), and whether the engine
 * queues requests or its KV is full (`full`). Grants what now fits. */
void tg__adm_engine_reading(tg__adm *a, uint64_t busy, uint64_t total, int full);
/* The reading is too old (or the engine stopped answering): the slot gate
 * falls back to the share alone. Grants what now fits. */
void tg__adm_engine_stale(tg__adm *a);
/* The slots this gateway may run now under the rules above; UINT64_MAX when
 * no slot gate applies. Pure. */
uint64_t tg__adm_slot_room(const tg__adm *a);

#endif
