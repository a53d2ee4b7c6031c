/*
 * test_summary_cache.c: the summary cache of truncation summarize
 * (src/gateway/summary.c), without sockets: a summary is found under the key
 * it was kept with and under no other; at summary.cache entries the least
 * recently used (put or found) goes first; summary.cache 0 keeps nothing; a
 * key put twice keeps its first text (same prefix, same summary). The
 * expected contents follow from LRU order worked out step by step below.
 */
#include <string.h>

#include "tg_test.h"

#include "gateway/config.h"
#include "gateway/server.h"
#include "gateway/summary.h"

static tg_summary_key key(uint64_t a) {
    tg_summary_key k = {{a, ~a}};
    return k;
}

static void test_lru(void) {
    tg__server s;
    memset(&s, 0, sizeof s);
    s.cfg = tg__config_new();
    TG_CHECK(s.cfg != NULL);
    if (!s.cfg) return;
    TG_CHECK_EQ_U(s.cfg->summary_cache, 256); /* the documented default */
    s.cfg->summary_cache = 2;
    TG_CHECK(tg__sum_cache_get(&s, key(1)) == NULL); /* empty */
    tg__sum_cache_put(&s, key(1), "one");
    tg__sum_cache_put(&s, key(2), "two");
    TG_CHECK_STR(tg__sum_cache_get(&s, key(1)), "one"); /* 1 is now the most recent */
    tg_summary_key half = {{1, 2}};
    TG_CHECK(tg__sum_cache_get(&s, half) == NULL); /* both hashes must match */
    tg__sum_cache_put(&s, key(3), "three");          /* full: 2, the least recent, goes */
    TG_CHECK(tg__sum_cache_get(&s, key(2)) == NULL);
    TG_CHECK_STR(tg__sum_cache_get(&s, key(3)), "three");
    TG_CHECK_STR(tg__sum_cache_get(&s, key(1)), "one"); /* order now: 3, then 1 */
    tg__sum_cache_put(&s, key(1), "other");              /* already kept: unchanged */
    TG_CHECK_STR(tg__sum_cache_get(&s, key(1)), "one");
    tg__sum_cache_put(&s, key(4), "four"); /* 3 is the least recent now */
    TG_CHECK(tg__sum_cache_get(&s, key(3)) == NULL);
    TG_CHECK_STR(tg__sum_cache_get(&s, key(4)), "four");
    s.cfg->summary_cache = 0; /* a reload to 0: nothing more is kept */
    tg__sum_cache_put(&s, key(5), "five");
    TG_CHECK(tg__sum_cache_get(&s, key(5)) == NULL);
    tg__sum_cache_free(&s);
    TG_CHECK(s.sumcache == NULL);
    TG_CHECK(tg__sum_cache_get(&s, key(1)) == NULL);
    tg__config_unref(s.cfg);
}

int main(void) {
    TG_RUN(test_lru);
    return tg_test_summary();
}
