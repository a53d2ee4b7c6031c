/*
 * test_route_pick.c: the replica router (src/gateway/route_pick.c) and the
 * health back-off (src/gateway/health.c) against their definitions in
 * route_pick.h, health.h and docs/gateway.md "Replicas":
 *   - room first (healthy with room, healthy without, out of service);
 *   - rendezvous hashing is consistent: taking a replica away moves only
 *     the keys it held (the defining property of consistent hashing);
 *   - bounded loads (Mirrokni, Thorup, Zadimoghaddam, arXiv 1608.01350): a
 *     replica keeps its key only while in-flight + 1 <= ceil(c (m + 1) / n),
 *     worked by hand for c = 1.25 and 2, n = 3;
 *   - least_loaded and round_robin orders; the prefix key is the same for
 *     every turn of one conversation and differs between conversations;
 *   - back-off 1, 2, 4, ... 30 s, reset by a good answer.
 */
#include <string.h>

#include "tg_test.h"

#include "gateway/health.h"
#include "gateway/route_pick.h"

static void cands(tg__route_cand *c, size_t n) {
    memset(c, 0, n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "127.0.0.1:%zu", 8080 + i);
        c[i].node = tg__route_hash(id, strlen(id), 0);
        c[i].usable = 1;
    }
}

static size_t first(const tg__route_cand *c, size_t n, int policy, double bound, uint64_t key, uint64_t rr) {
    size_t o[8];
    tg__route_order(c, n, policy, bound, key, 10, rr, o);
    return o[0];
}

static void test_names(void) {
    TG_CHECK_EQ_I(tg__route_policy_parse("affinity"), TG__ROUTE_AFFINITY);
    TG_CHECK_EQ_I(tg__route_policy_parse("least_loaded"), TG__ROUTE_LEAST_LOADED);
    TG_CHECK_EQ_I(tg__route_policy_parse("round-robin"), TG__ROUTE_ROUND_ROBIN);
    TG_CHECK_EQ_I(tg__route_policy_parse("random"), -1);
    TG_CHECK_STR(tg__route_policy_name(TG__ROUTE_LEAST_LOADED), "least_loaded");
}

static void test_room_first(void) {
    tg__route_cand c[3];
    cands(c, 3);
    c[0].capacity = 100;
    c[0].used = 95; /* 95 + 10 > 100: no room */
    c[1].capacity = 100;
    c[2].usable = 0;
    for (int p = 0; p < 3; p++)
        for (uint64_t key = 1; key < 40; key++) {
            size_t o[3];
            tg__route_order(c, 3, p, 1.25, key, 10, key, o);
            TG_CHECK(o[0] == 1 && o[1] == 0 && o[2] == 2);
        }
}

static void test_consistent(void) {
    tg__route_cand c[3];
    cands(c, 3);
    size_t moved = 0, held_by_2 = 0;
    for (uint64_t key = 1; key <= 300; key++) {
        size_t a = first(c, 3, TG__ROUTE_AFFINITY, 100, key, 0);
        TG_CHECK_EQ_U(first(c, 3, TG__ROUTE_AFFINITY, 100, key, 7), a); /* the key decides, not the turn */
        size_t b = first(c, 2, TG__ROUTE_AFFINITY, 100, key, 0);  /* replica 2 gone */
        if (a == 2) held_by_2++;
        else if (a != b) moved++;
    }
    TG_CHECK_EQ_U(moved, 0);
    TG_CHECK(held_by_2 > 50 && held_by_2 < 150); /* about a third each */
}

static void test_bounded_loads(void) {
    tg__route_cand c[3];
    cands(c, 3);
    uint64_t key = 1;
    while (first(c, 3, TG__ROUTE_AFFINITY, 1.25, key, 0) != 0) key++; /* a key replica 0 holds */
    /* 1 in flight at 0, m = 1: ceil(1.25 x 2 / 3) = 1 < 1 + 1: the key moves on */
    c[0].inflight = 1;
    TG_CHECK(first(c, 3, TG__ROUTE_AFFINITY, 1.25, key, 0) != 0);
    /* c = 2: ceil(2 x 2 / 3) = 2 >= 1 + 1: it stays */
    TG_CHECK_EQ_U(first(c, 3, TG__ROUTE_AFFINITY, 2, key, 0), 0);
    /* 3 in flight at 0, 1 at 1, 1 at 2, m = 5: ceil(1.25 x 6 / 3) = 3 < 4 */
    c[0].inflight = 3;
    c[1].inflight = c[2].inflight = 1;
    TG_CHECK(first(c, 3, TG__ROUTE_AFFINITY, 1.25, key, 0) != 0);
    /* 2 at 0, 2 at 1, 2 at 2, m = 6: ceil(1.25 x 7 / 3) = 3 >= 3: it stays */
    c[0].inflight = c[1].inflight = c[2].inflight = 2;
    TG_CHECK_EQ_U(first(c, 3, TG__ROUTE_AFFINITY, 1.25, key, 0), 0);
}

static void test_least_loaded_round_robin(void) {
    tg__route_cand c[3];
    cands(c, 3);
    c[0].inflight = 2;
    c[1].inflight = 1;
    c[2].inflight = 3;
    TG_CHECK_EQ_U(first(c, 3, TG__ROUTE_LEAST_LOADED, 1.25, 99, 0), 1);
    TG_CHECK_EQ_U(first(c, 3, TG__ROUTE_AFFINITY, 1.25, 0, 0), 1); /* no key: least loaded */
    for (uint64_t rr = 0; rr < 6; rr++) TG_CHECK_EQ_U(first(c, 3, TG__ROUTE_ROUND_ROBIN, 1.25, 99, rr), rr % 3);
}

static uint64_t key_of(const char *json) {
    json_t *j = json_loads(json, 0, NULL);
    uint64_t k = tg__route_key(j);
    json_decref(j);
    return k;
}

static void test_key(void) {
    uint64_t t1 = key_of("{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"a\"}]}");
    uint64_t t2 = key_of("{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"a\"},"
                         "{\"role\":\"assistant\",\"content\":\"x\"},{\"role\":\"user\",\"content\":\"b\"}]}");
    uint64_t o1 = key_of("{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"c\"}]}");
    TG_CHECK(t1 != 0 && t1 == t2);
    TG_CHECK(o1 != t1);
    TG_CHECK(key_of("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}") ==
             key_of("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"y\"}]}"));
    TG_CHECK(key_of("{\"prompt\":\"hello\"}") != 0);
    TG_CHECK_EQ_U(key_of("{\"input\":\"x\"}"), 0);
}

static void test_health(void) {
    tg__health h;
    memset(&h, 0, sizeof h);
    TG_CHECK(tg__health_usable(&h, 0));
    TG_CHECK_EQ_I(tg__health_fault(&h, 100), 1);
    TG_CHECK(!tg__health_usable(&h, 100.5) && tg__health_usable(&h, 101));
    TG_CHECK_EQ_I(tg__health_fault(&h, 101), 0); /* half-open try failed: 2 s */
    TG_CHECK(!tg__health_usable(&h, 102.9) && tg__health_usable(&h, 103));
    for (int i = 0; i < 10; i++) tg__health_fault(&h, 200);
    TG_CHECK(!tg__health_usable(&h, 229.9) && tg__health_usable(&h, 230)); /* capped at 30 s */
    TG_CHECK_EQ_U(h.outs, 1);
    TG_CHECK_EQ_I(tg__health_ok(&h), 1);
    TG_CHECK(tg__health_usable(&h, 0));
    tg__health_fault(&h, 300);
    TG_CHECK(tg__health_usable(&h, 301)); /* the back-off started over */
}

int main(void) {
    TG_RUN(test_names);
    TG_RUN(test_room_first);
    TG_RUN(test_consistent);
    TG_RUN(test_bounded_loads);
    TG_RUN(test_least_loaded_round_robin);
    TG_RUN(test_key);
    TG_RUN(test_health);
    return tg_test_summary();
}
