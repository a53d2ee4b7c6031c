/*
 * tg_test.h: the minimal test harness every tests/<layer>/test_*.c uses.
 *
 *   static void test_something(void) { TG_CHECK(x == 1); TG_CHECK_EQ_U(a, b); }
 *   int main(void) { TG_RUN(test_something); return tg_test_summary(); }
 *
 * A failed check prints file:line and the values, and the test goes on so one
 * run shows every failure. tg_test_summary prints "N passed, N failed" and
 * returns the exit status. TG_FIXTURE(path) builds a path under $TG_FIXTURES
 * (test material installed by scripts/setup.sh --test); a missing fixture is a
 * failure, never a skip.
 */
#ifndef TG_TEST_H
#define TG_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

static int tg_test_failed_checks;
static int tg_test_passed;
static int tg_test_failed;

#define TG_CHECK(cond) do { \
    if (!(cond)) { tg_test_failed_checks++; \
        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define TG_CHECK_EQ_U(a, b) do { \
    unsigned long long tg_a_ = (unsigned long long)(a), tg_b_ = (unsigned long long)(b); \
    if (tg_a_ != tg_b_) { tg_test_failed_checks++; \
        fprintf(stderr, "%s:%d: %s == %s failed: %llu != %llu\n", __FILE__, __LINE__, #a, #b, tg_a_, tg_b_); } \
} while (0)

#define TG_CHECK_EQ_I(a, b) do { \
    long long tg_a_ = (long long)(a), tg_b_ = (long long)(b); \
    if (tg_a_ != tg_b_) { tg_test_failed_checks++; \
        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, tg_a_, tg_b_); } \
} while (0)

#define TG_CHECK_STR(a, b) do { \
    const char *tg_a_ = (a), *tg_b_ = (b); \
    if (!tg_a_ || !tg_b_ || strcmp(tg_a_, tg_b_) != 0) { tg_test_failed_checks++; \
        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
                tg_a_ ? tg_a_ : "(null)", tg_b_ ? tg_b_ : "(null)"); } \
} while (0)

/* Checks that haystack contains needle (for error messages). */
#define TG_CHECK_CONTAINS(hay, needle) do { \
    const char *tg_h_ = (hay), *tg_n_ = (needle); \
    if (!tg_h_ || !strstr(tg_h_, tg_n_)) { tg_test_failed_checks++; \
        fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                tg_h_ ? tg_h_ : "(null)", tg_n_); } \
} while (0)

#define TG_RUN(fn) do { \
    int tg_before_ = tg_test_failed_checks; \
    fn(); \
    if (tg_test_failed_checks == tg_before_) { tg_test_passed++; } \
    else { tg_test_failed++; fprintf(stderr, "FAIL %s\n", #fn); } \
} while (0)

static inline int tg_test_summary(void) {
    printf("%d passed, %d failed\n", tg_test_passed, tg_test_failed);
    return tg_test_failed ? 1 : 0;
}

/* Path of a fixture under $TG_FIXTURES; static storage, valid until next call. */
static inline const char *tg_fixture(const char *rel) {
    static char path[4096];
    const char *root = getenv("TG_FIXTURES");
    if (!root) root = "";
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

/* Path under the source tree ($TG_SOURCE_DIR, else "."). */
static inline const char *tg_source(const char *rel) {
    static char path[4096];
    const char *root = getenv("TG_SOURCE_DIR");
    if (!root) root = ".";
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

#endif
