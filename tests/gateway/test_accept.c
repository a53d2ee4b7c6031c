/*
 * test_accept.c: the accept loop's arithmetic and the rate-limited log
 * (accept.c, log.c).
 *
 *   - the default connection cap from the soft RLIMIT_NOFILE follows the
 *     documented formula (docs/gateway.md): (limit - min(128, limit/4)) / 2,
 *     at most 16384: 24 at 64, 448 at systemd's 1024; a configured cap is
 *     kept as it is;
 *   - a storm of one identical log line writes one line; after the window the
 *     next says how many were left out; a flush writes the count at once; a
 *     different line is written at once.
 */
#include "tg_test.h"

#include <sys/resource.h>
#include <unistd.h>

#include "gateway/accept.h"
#include "gateway/log.h"

static void test_default_cap(void) {
    struct rlimit old;
    TG_CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    TG_CHECK_EQ_U(tg__accept_max_connections(7), 7);
    struct { rlim_t soft; size_t want; } cases[] = {{64, 24}, {1024, 448}, {256, 96}, {200000, 16384}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].soft > old.rlim_max) continue; /* cannot raise above the hard limit here */
        struct rlimit rl = {cases[i].soft, old.rlim_max};
        TG_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
        TG_CHECK_EQ_U(tg__accept_max_connections(0), cases[i].want);
    }
    TG_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
}

/* Runs fn with stderr in a file; returns what it wrote (static buffer). */
static const char *captured(void (*fn)(void)) {
    static char text[8192];
    FILE *tmp = tmpfile();
    int saved = dup(2);
    fflush(stderr);
    dup2(fileno(tmp), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(text, 1, sizeof text - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

static size_t lines_of(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static tg__log_limit lim;

static void storm(void) {
    lim = (tg__log_limit){.window = 0.2};
    for (int i = 0; i < 1000; i++) tg__log_limited(NULL, &lim, TG__LOG_WARN, "accept failed: %s", "Too many open files");
}

static void after_window(void) {
    usleep(250000);
    tg__log_limited(NULL, &lim, TG__LOG_WARN, "accept failed: %s", "Too many open files");
}

static void other_then_flush(void) {
    tg__log_limited(NULL, &lim, TG__LOG_WARN, "accept failed: %s", "Too many open files");
    tg__log_limited(NULL, &lim, TG__LOG_WARN, "accept failed: %s", "Too many open files");
    tg__log_limit_flush(NULL, &lim, TG__LOG_WARN);
    tg__log_limited(NULL, &lim, TG__LOG_WARN, "something else");
}

static void test_rate_limited_log(void) {
    const char *out = captured(storm);
    TG_CHECK_EQ_U(lines_of(out), 1);
    TG_CHECK_CONTAINS(out, "accept failed: Too many open files");
    out = captured(after_window);
    TG_CHECK_EQ_U(lines_of(out), 1);
    TG_CHECK_CONTAINS(out, "(999 more in the last 0 s)");
    out = captured(other_then_flush);
    TG_CHECK_EQ_U(lines_of(out), 2); /* the repeats are counted, the flush writes them, the new line at once */
    TG_CHECK_CONTAINS(out, "(2 more in the last"); /* both fell in the window the last line opened */
    TG_CHECK_CONTAINS(out, "something else");
}

int main(void) {
    TG_RUN(test_default_cap);
    TG_RUN(test_rate_limited_log);
    return tg_test_summary();
}
