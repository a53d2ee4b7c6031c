/*
 * pretok_bench.c: speed of the pre-tokenizer fast paths (tg__pretok_fast_next)
 * against PCRE2 JIT on the same pattern and the same text, single thread.
 *
 * Text: the files named on the command line, or else a mixed corpus assembled
 * from this machine (licenses under /usr/share/common-licenses and up to 40
 * man1 pages per language under /usr/share/man, up to 6 MB); then 1 MB runs of
 * one character class (the linear-time cases). For each kind it prints MB/s of
 * a full match loop (each search from the previous match end) for the fast
 * path and for PCRE2 JIT (with PCRE2_NO_UTF_CHECK, text validated once), and
 * the ratio. Best of 3 runs, timed in thread CPU time (CLOCK_THREAD_CPUTIME_ID)
 * so that other load on a shared machine does not count.
 *
 * Build (not part of the CMake build; from the source root, after `make`):
 *   cc -O2 -Iinclude -Isrc -Itests bench/pretok_bench.c build/libtokgate.a \
 *      $(pkg-config --libs libpcre2-8) -o build/pretok_bench && build/pretok_bench
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer/pretok_ref.h"
#include "util/buf.h"
#include "util/utf8.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void add_file(tgx_buf *b, const char *path, int gz) {
    char cmd[1200];
    FILE *f;
    if (gz) {
        if (strchr(path, '\'')) return;
        snprintf(cmd, sizeof cmd, "gzip -dc '%s' 2>/dev/null", path);
        f = popen(cmd, "r");
    } else {
        f = fopen(path, "rb");
    }
    if (!f) return;
    tgx_buf one;
    tgx_buf_init(&one, 64u << 20);
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (tgx_buf_append(&one, tmp, k) != 0) break;
    if (gz) pclose(f); else fclose(f);
    size_t bad;
    if (one.len && tgx_utf8_valid((const uint8_t *)one.data, one.len, &bad))
        (void)tgx_buf_append(b, one.data, one.len);
    tgx_buf_free(&one);
}

static void machine_corpus(tgx_buf *b) {
    glob_t g;
    if (glob("/usr/share/common-licenses/*", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) add_file(b, g.gl_pathv[i], 0);
        globfree(&g);
    }
    if (glob("/usr/share/man/*/man1/*.gz", 0, NULL, &g) == 0) {
        char last[512] = "";
        int in_dir = 0;
        for (size_t i = 0; i < g.gl_pathc && b->len < (6u << 20); i++) {
            const char *p = g.gl_pathv[i], *m = strstr(p, "/man1/");
            size_t dl = (size_t)(m - p);
            if (dl >= sizeof last) continue;
            if (strncmp(last, p, dl) != 0 || last[dl] != 0) { memcpy(last, p, dl); last[dl] = 0; in_dir = 0; }
            if (in_dir++ < 40) add_file(b, p, 1);
        }
        globfree(&g);
    }
}

static pretok_ref REF;
static volatile size_t sink;

/* MB/s of the best of 3 full match loops; *count gets the number of matches. */
static double speed(int kind, int use_pcre, const uint8_t *s, size_t n, size_t *count) {
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        size_t pos = 0, ms, me, c = 0;
        if (use_pcre) {
            while (pretok_ref_next(&REF, kind, s, n, pos, &ms, &me) > 0) { pos = me; c++; }
        } else {
            while (tg__pretok_fast_next(kind, s, n, pos, &ms, &me)) { pos = me; c++; }
        }
        double t = now() - t0;
        if (t < best) best = t;
        sink += c;
        *count = c;
    }
    return (double)n / 1e6 / best;
}

static void bench_text(const char *label, const uint8_t *s, size_t n) {
    static const char *kinds[] = {"gpt2", "cl100k", "qwen2", "qwen35", "o200k"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        int k = 0;
        for (int j = 1; j <= tg__pretok_fast_kinds(); j++)
            if (strcmp(tg__pretok_fast_name(j), kinds[i]) == 0) k = j;
        if (!k) continue;
        size_t cf = 0, cp = 0;
        double f = speed(k, 0, s, n, &cf), p = speed(k, 1, s, n, &cp);
        printf("%-16s %-7s %7.2f MB  fast %8.1f MB/s  pcre2-jit %7.1f MB/s  ratio %5.1fx  %s\n", label,
               kinds[i], (double)n / 1e6, f, p, f / p, cf == cp ? "" : "MATCH COUNT DIFFERS");
    }
}

int main(int argc, char **argv) {
    pretok_ref_init(&REF);
    tgx_buf b;
    tgx_buf_init(&b, 512u << 20);
    if (argc > 1) for (int i = 1; i < argc; i++) add_file(&b, argv[i], 0);
    else machine_corpus(&b);
    if (b.len == 0) { fprintf(stderr, "no text\n"); return 1; }
    bench_text("mixed corpus", (const uint8_t *)b.data, b.len);

    static const struct { const char *label, *unit; } runs[] = {
        {"1MB spaces", " "}, {"1MB letter", "a"}, {"1MB digits", "7"}, {"1MB apostrophes", "'"},
        {"1MB newlines", "\n"}, {"1MB \\r\\n", "\r\n"}, {"1MB ' s", "'s"}, {"1MB sp+nl", " \n"},
        {"1MB marks", "\xcc\x81"}, {"1MB CJK", "\xe4\xb8\xad"}, {"1MB upper", "A"}, {"1MB punct", "!"},
        {"1MB 'a '", "a "}, {"1MB nbsp", "\xc2\xa0"},
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        tgx_buf_reset(&b);
        size_t ul = strlen(runs[r].unit);
        while (b.len < (1u << 20)) (void)tgx_buf_append(&b, runs[r].unit, ul);
        (void)tgx_buf_append(&b, "x", 1);
        bench_text(runs[r].label, (const uint8_t *)b.data, b.len);
    }
    tgx_buf_free(&b);
    pretok_ref_free(&REF);
    return 0;
}
