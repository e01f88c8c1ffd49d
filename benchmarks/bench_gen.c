/*
 * bench_gen.c - the parts of the benchmarks' generator that are not on
 * the per-record fast path: seeding, the weighted and shaped draws, and
 * the Zipf sampler (see bench_gen.h for why there is one generator).
 *
 * The Zipf sampler follows the formulation of Apache Commons RNG: helper1
 * and helper2 are log1p(x)/x and expm1(x)/x with their series near zero,
 * which keeps s = 1 exact instead of dividing by zero. Every function here
 * is a plain computation on caller-owned state: the same calls in the same
 * order give the same numbers, which is the whole point.
 */
#include "bench_gen.h"

#include <math.h>

/* ---------------------------------------------------------------- PRNG */

uint64_t bg_splitmix64(uint64_t *x) {
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void bg_rng_seed(bg_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        r->s[i] = bg_splitmix64(&seed);
}

double bg_rng_uniform(bg_rng *r, double lo, double hi) {
    return lo + bg_rng_double(r) * (hi - lo);
}

double bg_rng_lognormal(bg_rng *r, double median, double sigma, double lo,
                        double hi) {
    double u1 = 1.0 - bg_rng_double(r), u2 = bg_rng_double(r);
    double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    double v = median * exp(sigma * z);
    return v < lo ? lo : v > hi ? hi : v;
}

size_t bg_rng_weighted(bg_rng *r, const unsigned *weights, size_t n) {
    unsigned total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    uint64_t x = bg_rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1;
}

/* ---------------------------------------------------------------- Zipf */

static double zipf_helper1(double x) {
    if (fabs(x) > 1e-8)
        return log1p(x) / x;
    return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static double zipf_helper2(double x) {
    if (fabs(x) > 1e-8)
        return expm1(x) / x;
    return 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

/* H, an integral of h(x) = x^-s. */
static double zipf_H(const bg_zipf *z, double x) {
    double lx = log(x);
    return zipf_helper2((1.0 - z->s) * lx) * lx;
}

static double zipf_h(const bg_zipf *z, double x) {
    return exp(-z->s * log(x));
}

static double zipf_H_inverse(const bg_zipf *z, double x) {
    double t = x * (1.0 - z->s);
    if (t < -1.0)
        t = -1.0; /* guards rounding at the far end */
    return exp(zipf_helper1(t) * x);
}

void bg_zipf_init(bg_zipf *z, uint64_t n, double s) {
    z->s = s;
    z->n = (double)n;
    z->h_x1 = zipf_H(z, 1.5) - 1.0;
    z->h_n = zipf_H(z, z->n + 0.5);
    z->sval = 2.0 - zipf_H_inverse(z, zipf_H(z, 2.5) - zipf_h(z, 2.0));
}

uint64_t bg_zipf_sample(const bg_zipf *z, bg_rng *r) {
    for (;;) {
        double u = z->h_n + bg_rng_double(r) * (z->h_x1 - z->h_n);
        double x = zipf_H_inverse(z, u);
        double k = floor(x + 0.5);
        if (k < 1.0)
            k = 1.0;
        else if (k > z->n)
            k = z->n;
        if (k - x <= z->sval || u >= zipf_H(z, k + 0.5) - zipf_h(z, k))
            return (uint64_t)k;
    }
}
