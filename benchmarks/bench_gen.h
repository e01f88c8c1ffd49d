/*
 * bench_gen.h - the pseudo-random generator behind every synthetic record
 * of the benchmarks (repute-loadgen and repute-bench-engine).
 *
 * Both programs promise that the same --seed gives the same records in the
 * same order on any machine, so neither may use rand(), whose sequence
 * belongs to the C library. They draw from xoshiro256** (Blackman and
 * Vigna), seeded through splitmix64 so that any 64-bit seed, zero included,
 * gives a well-mixed state, and they pick accounts from a Zipf
 * distribution with Hörmann and Derflinger's rejection-inversion method,
 * which needs no table (a million accounts cost nothing to set up) and
 * costs a log and an exp per draw. The two programs used to carry a copy
 * each; a change to one copy would have quietly made the load generator's
 * traffic and the engine benchmark's input disagree about what "seed 1"
 * means, so the generator lives here once. What the programs build from
 * the draws (their record mixes differ on purpose) stays in their files.
 *
 * The draws that sit on the load generator's per-record path (rng_next and
 * the few helpers on top of it) are static inline, so that sharing them
 * costs nothing; the rest is in bench_gen.c. Nothing here allocates: the
 * caller owns every struct, on the stack or inside its own.
 */
#ifndef REPUTE_BENCH_GEN_H
#define REPUTE_BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- PRNG */

/* xoshiro256** state; seed it with bg_rng_seed() before drawing. */
typedef struct bg_rng {
    uint64_t s[4];
} bg_rng;

/* One step of splitmix64: advances *x and returns a well-mixed value.
 * Also a cheap scrambler of counters (message ids). */
uint64_t bg_splitmix64(uint64_t *x);

/* Fills the state from a 64-bit seed through splitmix64. */
void bg_rng_seed(bg_rng *r, uint64_t seed);

static inline uint64_t bg_rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits. */
static inline uint64_t bg_rng_next(bg_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = bg_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = bg_rotl(s[3], 45);
    return result;
}

/* A double uniform in [0, 1). */
static inline double bg_rng_double(bg_rng *r) {
    return (double)(bg_rng_next(r) >> 11) * 0x1.0p-53;
}

/* An integer uniform in [0, n), for n far below 2^53 (the rounding bias
 * of scaling a double does not matter here). */
static inline uint64_t bg_rng_below(bg_rng *r, uint64_t n) {
    return (uint64_t)(bg_rng_double(r) * (double)n);
}

/* True with probability p. */
static inline bool bg_rng_chance(bg_rng *r, double p) {
    return bg_rng_double(r) < p;
}

/* A double uniform in [lo, hi). */
double bg_rng_uniform(bg_rng *r, double lo, double hi);

/* A log-normal draw with the given median and log-space deviation
 * (Box-Muller), clamped to [lo, hi]. */
double bg_rng_lognormal(bg_rng *r, double median, double sigma, double lo,
                        double hi);

/* Picks an index in [0, n) from a table of integer weights. */
size_t bg_rng_weighted(bg_rng *r, const unsigned *weights, size_t n);

/* ---------------------------------------------------------------- Zipf */

/* Rejection-inversion sampling of a Zipf distribution over 1..n with
 * exponent s (W. Hörmann and G. Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", 1996), in the
 * formulation of Apache Commons RNG. Set up with bg_zipf_init(). */
typedef struct bg_zipf {
    double s;
    double n;
    double h_x1; /* H(1.5) - 1 */
    double h_n;  /* H(n + 0.5) */
    double sval; /* the squeeze that accepts most draws at once */
} bg_zipf;

void bg_zipf_init(bg_zipf *z, uint64_t n, double s);

/* Returns a rank in 1..n; rank 1 is the most likely. */
uint64_t bg_zipf_sample(const bg_zipf *z, bg_rng *r);

#endif
