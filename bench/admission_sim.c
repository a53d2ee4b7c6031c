/*
 * bench/admission_sim.c: replays a synthetic trace of request sizes through
 * the gateway's own KV admission code (src/gateway/admission.c, compiled in,
 * not re-implemented) under three output-budget strategies:
 *
 *   fixed32k    every request reserves prompt + 32768 (a client that always
 *               asks for the most it might need)
 *   8k+regen    reserves prompt + 8192; an answer longer than that stops on
 *               "length" and the client re-sends it at 32768 (qwen-code's
 *               capped default + retry): the retry queues again, the first
 *               8192 tokens and the prompt's prefill are thrown away
 *   8k+continue reserves prompt + 8192; an answer that reaches it grows its
 *               reservation in place to prompt + 32768 and goes on
 *               (tokgate's streaming continuation): nothing is regenerated
 *               (the continuation's prompt is in the server's prompt
 *               cache). As the gateway does, the growth goes through
 *               tg__adm_grow_wait: at once when there is room, else the
 *               request pauses (holding its KV, generating nothing) ahead of
 *               every new request until releases make room (`paused` counts
 *               pauses, `pause_steps` their total length)
 *
 * Model: one upstream with `capacity` tokens of KV cache; time advances one
 * decode step at a time and every admitted request produces one token per
 * step (KV capacity, not compute, is the limit studied). All requests are
 * queued at t=0 (a saturated server), FIFO.
 *
 * Trace (deterministic, seed 42, xorshift64*): prompt tokens lognormal with
 * median 2000 (sigma 0.8), clamped to [64, 16000]; answers: 92% short,
 * lognormal median 700 (sigma 0.9) clamped to [16, 5000]; 8% long, uniform
 * in [8500, 30000].
 *
 * Output per strategy: mean admitted concurrency (time-average of requests
 * in flight), makespan in steps, wasted tokens (generated then discarded,
 * and prompt tokens prefilled again), the peak reservation, the peak KV
 * actually in use (sum of prompt + generated over requests in flight) and
 * the steps where it exceeded the capacity, and the ratios to fixed32k.
 * Growth respects the capacity, so no strategy reserves more than it
 * (steps_over counts steps where the KV actually in use passed it: 0).
 *
 * Build and run:
 *   cc -O2 -std=c11 -Isrc -Iinclude bench/admission_sim.c src/gateway/admission.c -lm -o /tmp/admission_sim
 *   /tmp/admission_sim [requests (2000)] [capacity tokens (131072)]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/admission.h"
#include "sim_rng.h"

enum { FIXED32K, REGEN8K, CONT8K, N_STRAT };
static const char *const strat_name[N_STRAT] = {"fixed32k", "8k+regen", "8k+continue"};
#define CAP_DEFAULT 8192u
#define ESCALATED 32768u

typedef struct req {
    tg__adm_wait w;
    uint64_t prompt, answer; /* the true answer length */
    uint64_t done;           /* tokens generated in the current attempt */
    uint64_t limit;          /* current max_tokens */
    int running, finished, retried;
    uint64_t paused_at;      /* step at which it began waiting to grow */
    struct req *next_run;
} req;

static req **run_list;
static size_t n_run, run_cap;
static uint64_t now_step, pause_total;
static void on_grant(tg__adm_wait *w) {
    req *r = w->ud;
    if (w->grow) pause_total += now_step - r->paused_at;
    r->running = 1;
    if (n_run == run_cap) {
        run_cap = run_cap ? run_cap * 2 : 64;
        run_list = realloc(run_list, run_cap * sizeof *run_list);
    }
    run_list[n_run++] = r;
}

typedef struct result {
    double mean_conc;
    uint64_t makespan, wasted_gen, wasted_prefill, useful, escalations, paused, pause_steps, peak_reserved, peak_used,
        steps_over;
} result;

static result simulate(int strat, const uint64_t *prompt, const uint64_t *answer, size_t n, uint64_t capacity) {
    result res;
    memset(&res, 0, sizeof res);
    tg__adm a;
    memset(&a, 0, sizeof a);
    a.capacity = capacity;
    a.queue_max = 2 * n + 1;
    req *rs = calloc(n, sizeof *rs);
    n_run = 0;
    for (size_t i = 0; i < n; i++) {
        req *r = &rs[i];
        r->prompt = prompt[i];
        r->answer = answer[i];
        r->limit = strat == FIXED32K ? ESCALATED : CAP_DEFAULT;
        r->w.ud = r;
        r->w.grant = on_grant;
        if (tg__adm_acquire(&a, &r->w, r->prompt + r->limit) == TG__ADM_ADMITTED) on_grant(&r->w);
    }
    size_t finished = 0;
    uint64_t t = 0;
    double conc_sum = 0;
    pause_total = 0;
    while (finished < n) {
        t++;
        now_step = t;
        conc_sum += (double)n_run;
        size_t k = 0;
        size_t n_now = n_run;
        req **ending = malloc((n_now ? n_now : 1) * sizeof *ending);
        size_t n_end = 0;
        uint64_t used = 0;
        for (size_t i = 0; i < n_now; i++) used += run_list[i]->prompt + run_list[i]->done;
        if (used > res.peak_used) res.peak_used = used;
        if (used > capacity) res.steps_over++;
        for (size_t i = 0; i < n_now; i++) { /* one decode step for everyone in flight */
            req *r = run_list[i];
            r->done++;
            res.useful++;
            uint64_t total_needed = r->answer;
            if (r->done >= total_needed || r->done >= r->limit) ending[n_end++] = r;
            else run_list[k++] = r;
        }
        n_run = k;
        for (size_t i = 0; i < n_end; i++) {
            req *r = ending[i];
            uint64_t held = r->prompt + r->limit;
            if (r->done >= r->answer) { /* the answer is complete */
                r->finished = 1;
                finished++;
                tg__adm_release(&a, held);
                continue;
            }
            /* stopped on "length" at the capped default */
            res.escalations++;
            if (strat == CONT8K) { /* grow in place (now, or after a pause) and go on */
                uint64_t grow = ESCALATED - r->limit;
                r->limit = ESCALATED;
                r->running = 0;
                r->paused_at = t;
                if (tg__adm_grow_wait(&a, &r->w, held, grow) == TG__ADM_ADMITTED) on_grant(&r->w);
                else res.paused++;
            } else { /* regenerate: release, queue again at 32K, start over */
                res.wasted_gen += r->done;
                res.useful -= r->done;
                res.wasted_prefill += r->prompt;
                r->done = 0;
                r->limit = ESCALATED;
                r->running = 0;
                tg__adm_release(&a, held);
                if (tg__adm_acquire(&a, &r->w, r->prompt + r->limit) == TG__ADM_ADMITTED) on_grant(&r->w);
            }
        }
        free(ending);
    }
    res.makespan = t;
    res.pause_steps = pause_total;
    res.mean_conc = conc_sum / (double)t;
    res.peak_reserved = a.peak_reserved;
    free(rs);
    return res;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 2000;
    uint64_t capacity = argc > 2 ? strtoull(argv[2], NULL, 10) : 131072;
    uint64_t *prompt = malloc(n * sizeof *prompt), *answer = malloc(n * sizeof *answer);
    size_t n_long = 0;
    uint64_t sum_p = 0, sum_a = 0;
    for (size_t i = 0; i < n; i++) {
        prompt[i] = clampu(2000.0 * exp(0.8 * nrand()), 64, 16000);
        if (urand() < 0.08) {
            answer[i] = clampu(8500.0 + urand() * 21500.0, 8500, 30000);
            n_long++;
        } else answer[i] = clampu(700.0 * exp(0.9 * nrand()), 16, 5000);
        sum_p += prompt[i];
        sum_a += answer[i];
    }
    printf("admission_sim: %zu requests (seed 42), capacity %llu tokens; prompts mean %.0f, answers mean %.0f, "
           "%zu long (> 8192)\n",
           n, (unsigned long long)capacity, (double)sum_p / (double)n, (double)sum_a / (double)n, n_long);
    printf("%-12s %10s %10s %12s %8s %12s %14s %14s %12s %12s %10s\n", "strategy", "mean_conc", "makespan", "escalations",
           "paused", "pause_steps", "wasted_gen", "wasted_prefill", "peak_resv", "peak_kv_used", "steps_over");
    result r[N_STRAT];
    for (int s = 0; s < N_STRAT; s++) {
        r[s] = simulate(s, prompt, answer, n, capacity);
        printf("%-12s %10.2f %10llu %12llu %8llu %12llu %14llu %14llu %12llu %12llu %10llu\n", strat_name[s], r[s].mean_conc,
               (unsigned long long)r[s].makespan, (unsigned long long)r[s].escalations,
               (unsigned long long)r[s].paused, (unsigned long long)r[s].pause_steps,
               (unsigned long long)r[s].wasted_gen, (unsigned long long)r[s].wasted_prefill,
               (unsigned long long)r[s].peak_reserved, (unsigned long long)r[s].peak_used,
               (unsigned long long)r[s].steps_over);
    }
    printf("concurrency vs fixed32k: 8k+regen %.2fx, 8k+continue %.2fx; makespan vs fixed32k: %.2fx, %.2fx\n",
           r[REGEN8K].mean_conc / r[FIXED32K].mean_conc, r[CONT8K].mean_conc / r[FIXED32K].mean_conc,
           (double)r[REGEN8K].makespan / (double)r[FIXED32K].makespan,
           (double)r[CONT8K].makespan / (double)r[FIXED32K].makespan);
    printf("tokens wasted by regenerate: %llu generated + %llu prefilled (%.1f%% of useful output); "
           "continue: %llu\n",
           (unsigned long long)r[REGEN8K].wasted_gen, (unsigned long long)r[REGEN8K].wasted_prefill,
           100.0 * (double)r[REGEN8K].wasted_gen / (double)sum_a, (unsigned long long)r[CONT8K].wasted_gen);
    free(prompt);
    free(answer);
    free(run_list);
    return 0;
}
