/*
 * bench/sim_rng.h: the deterministic random numbers the simulations share
 * (admission_sim.c, thinking_sim.c): xorshift64* (Vigna, "An experimental
 * exploration of Marsaglia's xorshift generators, scrambled", 2016),
 * uniform doubles in [0, 1) from its top 53 bits, normal deviates by
 * Box-Muller, and a clamp. One stream per program, seeded by sim_seed.
 */
#ifndef TG_BENCH_SIM_RNG_H
#define TG_BENCH_SIM_RNG_H

#include <math.h>
#include <stdint.h>

static uint64_t sim_rng_state = 42;
static inline void sim_seed(uint64_t s) { sim_rng_state = s ? s : 42; }
static inline double urand(void) {
    sim_rng_state ^= sim_rng_state >> 12;
    sim_rng_state ^= sim_rng_state << 25;
    sim_rng_state ^= sim_rng_state >> 27;
    return (double)((sim_rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static inline double nrand(void) {
    double u1 = urand(), u2 = urand();
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
static inline uint64_t clampu(double v, double lo, double hi) { return (uint64_t)(v < lo ? lo : v > hi ? hi : v); }

#endif
