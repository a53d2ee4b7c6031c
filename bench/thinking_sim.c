/*
 * bench/thinking_sim.c: thinking budgets on a trace of requests (issue 18
 * item 3), beside admission_sim.c and sharing its random numbers
 * (sim_rng.h). Fixed modes against thinking_mode adaptive, the library's
 * own table (src/policy/adaptive.c, linked in, not re-implemented).
 *
 *   conservative  every request gets base x 0.25
 *   balanced      base
 *   aggressive    base x 2
 *   adaptive      the class's p90 (nearest rank) of recorded thinking,
 *                 within [base x 0.25, base x 2]; the catalogue budget
 *                 (base) until the class has 20 samples; answers cut by the
 *                 budget recorded as min(2 x budget, base x 2) (what the
 *                 gateway does)
 *   adaptive/fin  the same, recording only answers that finished by
 *                 themselves (cut ones dropped): shows why the gateway
 *                 records cut answers
 *
 * Model: base = 32768, Qwen3's "adequate output length" (model cards) and
 * the catalogue's budget for Qwen3 and QwQ (src/model/reasoning.c). An
 * answer whose thinking need T exceeds its budget B is cut (it thinks B
 * tokens); else it thinks T. Reserved = B per request (what admission holds
 * for thinking), used = min(T, B).
 *
 * Trace (deterministic, seed 42): four request classes, thinking need
 * lognormal per class. THE PARAMETERS ARE ASSUMPTIONS, not a published
 * distribution: no paper reachable from here gave per-request length
 * distributions as numbers. They are chosen to span what reports describe:
 * reasoning models spend about a thousand tokens on trivial questions
 * (Chen et al. 2024, "Do NOT Think That Much for 2+3=?", arXiv 2412.21187:
 * QwQ-32B-Preview's long answer to "2+3") and several thousand to tens of
 * thousands on hard problems (successful QwQ-32B-Preview traces of 3000 to
 * 7000 reasoning tokens, failed ones to 20000, in a published scatter of
 * reasoning tokens by problem size):
 *
 *   class                 share  median  sigma
 *   lt1k/plain/none        40%     900    0.8   short chat
 *   1k-4k/code/none        25%    3500    0.7   code questions
 *   16k-64k/code/none      25%    1500    0.9   agent turns (tools, long prompt)
 *   lt1k/plain/high        10%   12000    0.6   hard problems, effort high
 *
 * Half-way the code class's median doubles (a model update, a harder
 * project): the window of 256 recent samples follows it.
 *
 * Output per mode: mean thinking tokens reserved and used per request,
 * the share of answers cut, the share cut in the hard class, and the ratio
 * of reserved tokens to balanced's.
 *
 * Build and run (make bench runs it through bench/run_sims.sh):
 *   cc -O2 -std=c11 -Iinclude -Isrc bench/thinking_sim.c build/libtokgate.a \
 *      $(pkg-config --libs jansson libpcre2-8 libutf8proc) -lpthread -lm -o /tmp/thinking_sim
 *   /tmp/thinking_sim [requests (20000)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_rng.h"
#include "tokgate/adaptive.h"

#define BASE 32768u
enum { CONSERVATIVE, BALANCED, AGGRESSIVE, ADAPTIVE, ADAPTIVE_FIN, N_MODE };
static const char *const mode_name[N_MODE] = {"conservative", "balanced", "aggressive", "adaptive",
                                              "adaptive/fin"};

typedef struct klass {
    tg_adaptive_class c;
    double share, median, sigma;
} klass;

static const klass classes[] = {
    {{0, 0, 0}, 0.40, 900, 0.8},
    {{1, 1, 0}, 0.25, 3500, 0.7},
    {{3, 1, 0}, 0.25, 1500, 0.9},
    {{0, 0, 3}, 0.10, 12000, 0.6},
};
#define N_CLASS (sizeof classes / sizeof classes[0])
#define HARD 3

typedef struct result {
    double reserved, used;
    size_t cut, n, hard_cut, hard_n, late_cut, late_n;
} result;

static uint64_t fixed_budget(int mode) {
    return mode == CONSERVATIVE ? BASE / 4 : mode == AGGRESSIVE ? BASE * 2 : BASE;
}

static result run(int mode, const size_t *cls, const uint64_t *need, size_t n) {
    result r;
    memset(&r, 0, sizeof r);
    tg_adaptive *a = mode >= ADAPTIVE ? tg_adaptive_new(NULL) : NULL; /* p90, 20 samples, window 256 */
    for (size_t i = 0; i < n; i++) {
        const klass *k = &classes[cls[i]];
        uint64_t b = a ? tg_adaptive_lookup(a, "m", k->c, BASE, BASE / 4, BASE * 2).budget : fixed_budget(mode);
        int cut = need[i] > b;
        uint64_t used = cut ? b : need[i];
        r.reserved += (double)b;
        r.used += (double)used;
        r.n++;
        r.cut += (size_t)cut;
        if (cls[i] == HARD) {
            r.hard_n++;
            r.hard_cut += (size_t)cut;
        }
        if (i >= n / 2 && cls[i] == 1) { /* the code class after its drift */
            r.late_n++;
            r.late_cut += (size_t)cut;
        }
        if (a && (!cut || mode == ADAPTIVE)) tg_adaptive_record(a, "m", k->c, used, cut, b, BASE * 2);
    }
    tg_adaptive_free(a);
    return r;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 20000;
    if (n < 2) n = 2;
    size_t *cls = malloc(n * sizeof *cls);
    uint64_t *need = malloc(n * sizeof *need);
    if (!cls || !need) return 1;
    sim_seed(42);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double u = urand(), acc = 0;
        size_t k = 0;
        for (; k + 1 < N_CLASS; k++) {
            acc += classes[k].share;
            if (u < acc) break;
        }
        double median = classes[k].median * (k == 1 && i >= n / 2 ? 2.0 : 1.0);
        cls[i] = k;
        need[i] = clampu(median * exp(classes[k].sigma * nrand()), 16, 1e6);
        sum += (double)need[i];
    }
    printf("thinking_sim: %zu requests (seed 42), base budget %u; thinking need mean %.0f tokens\n", n, BASE,
           sum / (double)n);
    printf("%-13s %12s %12s %9s %11s %14s %10s\n", "mode", "reserved/req", "used/req", "cut", "cut(hard)",
           "cut(code,late)", "reserved");
    result r[N_MODE];
    for (int m = 0; m < N_MODE; m++) r[m] = run(m, cls, need, n);
    for (int m = 0; m < N_MODE; m++) {
        printf("%-13s %12.0f %12.0f %8.2f%% %10.2f%% %13.2f%% %9.2fx\n", mode_name[m], r[m].reserved / (double)r[m].n,
               r[m].used / (double)r[m].n, 100.0 * (double)r[m].cut / (double)r[m].n,
               r[m].hard_n ? 100.0 * (double)r[m].hard_cut / (double)r[m].hard_n : 0.0,
               r[m].late_n ? 100.0 * (double)r[m].late_cut / (double)r[m].late_n : 0.0,
               r[m].reserved / r[BALANCED].reserved);
    }
    printf("reserved vs balanced: columns 'reserved'; cut(code,late): the code class after its median doubled\n");
    free(cls);
    free(need);
    return 0;
}
