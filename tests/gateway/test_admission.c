/*
 * test_admission.c: the KV admission bookkeeping (src/gateway/admission.c)
 * against the rules stated in admission.h and docs/gateway.md: reservations
 * add up to the capacity, the queue is strict FIFO (a small request never
 * overtakes a large one ahead of it), a request larger than the capacity
 * runs alone, a full queue refuses, cancelling the head lets the next one
 * in, releases grant in order, growth may overshoot, capacity 0 admits all,
 * growth is allowed only with room (alone, or nobody waits and it fits),
 * growth that waits goes ahead of new requests and is granted by releases
 * or by the deadlock rule (every reserved token waits to grow).
 * The slot gate for several gateways on one engine (issue 14 item 3): the
 * share's slots, the engine reading's budget of free slots less our starts
 * since the probe left, no refund of a freed slot when the reading saw none
 * free, a full engine (vLLM waiting) leaves no budget, a stale reading falls
 * back to the share.
 * Expected values are worked out by hand from those rules.
 */
#include <string.h>

#include "tg_test.h"

#include "gateway/admission.h"

static int order[16];
static int n_order;
static void grant(tg__adm_wait *w) { order[n_order++] = (int)(intptr_t)w->ud; }

static void init(tg__adm *a, tg__adm_wait *w, size_t n, uint64_t cap, size_t qmax) {
    memset(a, 0, sizeof *a);
    a->capacity = cap;
    a->queue_max = qmax;
    memset(w, 0, n * sizeof *w);
    for (size_t i = 0; i < n; i++) {
        w[i].ud = (void *)(intptr_t)i;
        w[i].grant = grant;
    }
    n_order = 0;
}

static void test_fifo(void) {
    tg__adm a;
    tg__adm_wait w[6];
    init(&a, w, 6, 1000, 8);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 600), TG__ADM_ADMITTED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 400), TG__ADM_ADMITTED); /* exactly full */
    TG_CHECK_EQ_U(a.reserved, 1000);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[2], 700), TG__ADM_QUEUED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[3], 100), TG__ADM_QUEUED); /* would fit later, but may not overtake */
    TG_CHECK_EQ_U(a.depth, 2);
    tg__adm_release(&a, 400); /* 600 reserved: 700 does not fit, 100 must wait behind it */
    TG_CHECK_EQ_I(n_order, 0);
    tg__adm_release(&a, 600); /* empty: 700 then 100 (800 <= 1000) */
    TG_CHECK_EQ_I(n_order, 2);
    TG_CHECK_EQ_I(order[0], 2);
    TG_CHECK_EQ_I(order[1], 3);
    TG_CHECK_EQ_U(a.reserved, 800);
    TG_CHECK(w[2].granted && w[3].granted && !w[2].queued);
    TG_CHECK_EQ_U(a.waits, 2);
    TG_CHECK_EQ_U(a.admitted, 4);
    TG_CHECK_EQ_U(a.peak_reserved, 1000);
}

static void test_oversize_and_full(void) {
    tg__adm a;
    tg__adm_wait w[4];
    init(&a, w, 4, 1000, 1);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 5000), TG__ADM_ADMITTED); /* alone: runs */
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 10), TG__ADM_QUEUED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[2], 10), TG__ADM_FULL);
    TG_CHECK_EQ_U(a.refusals, 1);
    tg__adm_release(&a, 5000);
    TG_CHECK_EQ_I(n_order, 1);
    TG_CHECK_EQ_I(order[0], 1);
    /* an oversize request waits until everything else has left */
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[3], 5000), TG__ADM_QUEUED);
    tg__adm_release(&a, 10);
    TG_CHECK_EQ_I(n_order, 2);
    TG_CHECK_EQ_I(order[1], 3);
}

static void test_cancel_and_grow(void) {
    tg__adm a;
    tg__adm_wait w[4];
    init(&a, w, 4, 1000, 8);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 500), TG__ADM_ADMITTED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 900), TG__ADM_QUEUED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[2], 300), TG__ADM_QUEUED);
    tg__adm_cancel(&a, &w[1], 1); /* head timed out: the next fits now */
    TG_CHECK_EQ_I(n_order, 1);
    TG_CHECK_EQ_I(order[0], 2);
    TG_CHECK_EQ_U(a.timeouts, 1);
    TG_CHECK_EQ_U(a.refusals, 1);
    TG_CHECK_EQ_U(a.depth, 0);
    tg__adm_cancel(&a, &w[1], 1); /* not queued any more: no effect */
    TG_CHECK_EQ_U(a.timeouts, 1);
    /* reserved 800 (500 + 300) of 1000, nobody waits */
    TG_CHECK_EQ_I(tg__adm_can_grow(&a, 500, 200), 1);  /* 1000: fits exactly */
    TG_CHECK_EQ_I(tg__adm_can_grow(&a, 500, 201), 0);  /* 1001: over */
    TG_CHECK_EQ_I(tg__adm_can_grow(&a, 800, 5000), 1); /* it holds all of it: runs alone */
    tg__adm_grow(&a, 700); /* unconditional: overshoot is the caller's choice */
    TG_CHECK_EQ_U(a.reserved, 1500);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[3], 1), TG__ADM_QUEUED);
    TG_CHECK_EQ_I(tg__adm_can_grow(&a, 300, 0), 0);    /* over, and someone waits */
    tg__adm_release(&a, 1200);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 600), TG__ADM_ADMITTED); /* 301 + 600 */
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 200), TG__ADM_QUEUED);
    TG_CHECK_EQ_I(tg__adm_can_grow(&a, 600, 50), 0);   /* 951 would fit, but w[1] waits for it */
    tg__adm_cancel(&a, &w[1], 0);
    TG_CHECK_EQ_I(tg__adm_can_grow(&a, 600, 50), 1);   /* nobody waits now: 951 fits */
    tg__adm_release(&a, 600);
    TG_CHECK_EQ_I(n_order, 2);
    TG_CHECK_EQ_U(a.reserved, 301);
    tg__adm_release(&a, 5000); /* over-release clamps at 0 */
    TG_CHECK_EQ_U(a.reserved, 0);
}

static void test_unknown_capacity(void) {
    tg__adm a;
    tg__adm_wait w[2];
    init(&a, w, 2, 0, 0);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 1u << 30), TG__ADM_ADMITTED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 1u << 30), TG__ADM_ADMITTED);
    tg__adm_set_capacity(&a, 100); /* learned later: running ones keep theirs */
    TG_CHECK_EQ_U(a.reserved, 2u << 30);
}

/* Growth that waits (tg__adm_grow_wait): now when there is room; else ahead
 * of every new request, growths in their own order; granted by releases;
 * the deadlock rule; cancelling a waiting growth. */
static void test_grow_wait(void) {
    tg__adm a;
    tg__adm_wait w[6];
    init(&a, w, 6, 1000, 8);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 300), TG__ADM_ADMITTED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 300), TG__ADM_ADMITTED);
    /* 600 reserved, nobody waits: +300 fits at once, no callback */
    TG_CHECK_EQ_I(tg__adm_grow_wait(&a, &w[4], 300, 300), TG__ADM_ADMITTED);
    TG_CHECK_EQ_U(a.reserved, 900);
    TG_CHECK_EQ_I(n_order, 0);
    TG_CHECK_EQ_U(a.admitted, 2); /* a growth is not an admission */
    tg__adm_release(&a, 600); /* w[0] (300 + its growth 300) ends: 300 reserved (w[1]) */
    TG_CHECK_EQ_U(a.reserved, 300);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[2], 600), TG__ADM_ADMITTED); /* 900 */
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[3], 200), TG__ADM_QUEUED);   /* 1100 > 1000 */
    /* w[1] (300) grows by 400: 900 + 400 > 1000 and w[3] waits: queued AHEAD of w[3] */
    TG_CHECK_EQ_I(tg__adm_grow_wait(&a, &w[5], 300, 400), TG__ADM_QUEUED);
    TG_CHECK(a.head == &w[5] && a.head->next == &w[3]);
    TG_CHECK_EQ_U(a.paused, 300);
    tg__adm_release(&a, 200); /* 700 reserved: growth 400 does not fit (1100) */
    TG_CHECK_EQ_I(n_order, 0);
    tg__adm_release(&a, 100); /* 600 + 400 = 1000 fits: the growth first, then 200 must wait (1200) */
    TG_CHECK_EQ_I(n_order, 1);
    TG_CHECK_EQ_I(order[0], 5);
    TG_CHECK_EQ_U(a.reserved, 1000);
    TG_CHECK_EQ_U(a.paused, 0);
    TG_CHECK(w[3].queued && !w[3].granted);

    /* the deadlock rule: every reserved token waits to grow -> the first growth goes on */
    init(&a, w, 6, 1000, 8);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 500), TG__ADM_ADMITTED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 500), TG__ADM_ADMITTED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[2], 100), TG__ADM_QUEUED);
    TG_CHECK_EQ_I(tg__adm_grow_wait(&a, &w[3], 500, 300), TG__ADM_QUEUED); /* w[1] still runs: wait */
    TG_CHECK_EQ_I(n_order, 0);
    TG_CHECK_EQ_I(tg__adm_grow_wait(&a, &w[4], 500, 300), TG__ADM_QUEUED); /* now both wait: first goes */
    TG_CHECK_EQ_I(n_order, 1);
    TG_CHECK_EQ_I(order[0], 3);
    TG_CHECK_EQ_U(a.reserved, 1300);
    TG_CHECK(a.head == &w[4] && w[4].next == &w[2]); /* growths stay ahead of the new request */
    /* a waiting growth cancelled (its client left) takes its paused tokens with it */
    tg__adm_cancel(&a, &w[4], 0);
    TG_CHECK_EQ_U(a.paused, 0);
    TG_CHECK(a.head == &w[2]);
}

/* issue 14 item 3: two slots, share 1/2: one request runs, the next waits
 * until the first finishes, whatever the tokens allow. */
static void test_share_slots(void) {
    tg__adm a;
    tg__adm_wait w[4];
    init(&a, w, 4, 0, 8);
    tg__adm_configure(&a, 2048, 2, 0.5);
    TG_CHECK_EQ_U(a.capacity, 1024);             /* the tokens are shared too */
    TG_CHECK_EQ_U(tg__adm_slot_room(&a), 1);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 10), TG__ADM_ADMITTED);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 10), TG__ADM_QUEUED); /* tokens fit; the slot does not */
    TG_CHECK_EQ_U(a.running, 1);
    tg__adm_finish(&a, &w[0], 10);
    TG_CHECK_EQ_I(n_order, 1);
    TG_CHECK_EQ_I(order[0], 1);
    TG_CHECK_EQ_U(a.running, 1);
    TG_CHECK_EQ_U(a.peak_running, 1);
    /* a request of two choices needs two slots: more than the share, it waits */
    w[2].seqs = 2;
    tg__adm_finish(&a, &w[1], 10);
    tg__adm_configure(&a, 2048, 4, 0.5); /* four slots: two are ours */
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[2], 10), TG__ADM_ADMITTED);
    TG_CHECK_EQ_U(a.running, 2);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[3], 10), TG__ADM_QUEUED);
    tg__adm_finish(&a, &w[2], 10); /* both slots back at once */
    TG_CHECK_EQ_U(a.running, 1);
    /* share 1/3 of 2 slots is below one: one slot still */
    tg__adm_configure(&a, 2048, 2, 1.0 / 3);
    TG_CHECK_EQ_U(tg__adm_slot_room(&a), 1);
    /* no slot count known: no slot gate */
    tg__adm_configure(&a, 0, 0, 1);
    TG_CHECK(tg__adm_slot_room(&a) == UINT64_MAX);
}

/* The engine's reading: 2 slots, share 1 (the whole engine). */
static void test_engine_reading(void) {
    tg__adm a;
    tg__adm_wait w[6];
    init(&a, w, 6, 0, 8);
    tg__adm_configure(&a, 0, 2, 1);
    tg__adm_probe_sent(&a);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 1), TG__ADM_ADMITTED); /* started while the probe is out */
    tg__adm_engine_reading(&a, 1, 2, 0); /* one busy (another gateway's, or ours: unknown) */
    TG_CHECK_EQ_U(a.budget, 0);          /* 1 free, less our start since the probe left */
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 1), TG__ADM_QUEUED);
    TG_CHECK_EQ_U(a.engine_waits, 1);
    tg__adm_probe_sent(&a);
    tg__adm_engine_reading(&a, 1, 2, 0); /* still one busy: ours; one free */
    TG_CHECK_EQ_I(n_order, 1);           /* w[1] granted by the reading */
    TG_CHECK_EQ_U(a.budget, 0);
    /* the engine full (another gateway took the last slot): our end gives no room */
    tg__adm_probe_sent(&a);
    tg__adm_engine_reading(&a, 2, 2, 0);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[2], 1), TG__ADM_QUEUED);
    tg__adm_finish(&a, &w[0], 1);
    TG_CHECK_EQ_I(n_order, 1);
    TG_CHECK_EQ_U(a.running, 1);
    /* a reading with a free slot: our ends refund the budget */
    tg__adm_probe_sent(&a);
    tg__adm_engine_reading(&a, 1, 2, 0);
    TG_CHECK_EQ_I(n_order, 2); /* w[2] */
    TG_CHECK_EQ_U(a.running, 2);
    tg__adm_finish(&a, &w[1], 1);
    TG_CHECK_EQ_U(a.budget, 1);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[3], 1), TG__ADM_ADMITTED);
    /* stale: the share alone (2 slots, 2 running) */
    tg__adm_engine_stale(&a);
    TG_CHECK_EQ_U(tg__adm_slot_room(&a), 2);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[4], 1), TG__ADM_QUEUED);
    tg__adm_finish(&a, &w[2], 1);
    TG_CHECK_EQ_I(n_order, 3); /* w[4] */
}

/* vLLM: no slot count; a reading that says it queues stops new starts. */
static void test_engine_full(void) {
    tg__adm a;
    tg__adm_wait w[3];
    init(&a, w, 3, 0, 8);
    tg__adm_configure(&a, 0, 0, 1);
    tg__adm_probe_sent(&a);
    tg__adm_engine_reading(&a, 7, 0, 0);
    TG_CHECK(a.budget == UINT64_MAX);
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[0], 1), TG__ADM_ADMITTED);
    tg__adm_probe_sent(&a);
    tg__adm_engine_reading(&a, 8, 0, 1); /* num_requests_waiting > 0 */
    TG_CHECK_EQ_I(tg__adm_acquire(&a, &w[1], 1), TG__ADM_QUEUED);
    tg__adm_finish(&a, &w[0], 1); /* no refund: the engine's queue takes the room */
    TG_CHECK_EQ_I(n_order, 0);
    tg__adm_probe_sent(&a);
    tg__adm_engine_reading(&a, 7, 0, 0);
    TG_CHECK_EQ_I(n_order, 1);
}

int main(void) {
    TG_RUN(test_fifo);
    TG_RUN(test_oversize_and_full);
    TG_RUN(test_cancel_and_grow);
    TG_RUN(test_unknown_capacity);
    TG_RUN(test_grow_wait);
    TG_RUN(test_share_slots);
    TG_RUN(test_engine_reading);
    TG_RUN(test_engine_full);
    return tg_test_summary();
}
