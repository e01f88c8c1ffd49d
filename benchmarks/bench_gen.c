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

/* ---------------------------------------------------------------- records */

const bg_domain BG_DOMAINS[BG_N_DOMAINS] = {
    {"gmail.com", 350, false},    {"yahoo.com", 120, true},
    {"outlook.com", 120, true},   {"hotmail.com", 80, true},
    {"icloud.com", 60, true},     {"aol.com", 20, true},
    {"gmx.de", 30, true},         {"comcast.net", 20, true},
    {"corp.example", 200, false}, /* BG_DOMAIN_COMPANY */
};

void bg_bounce_set(rp_bounce *b, bg_bounce k) {
    static const struct {
        rp_bounce_type type;
        rp_bounce_subtype subtype;
    } kinds[BG_BOUNCE__COUNT] = {
        [BG_BOUNCE_GENERAL] = {RP_BOUNCE_PERMANENT, RP_BSUB_GENERAL},
        [BG_BOUNCE_NO_EMAIL] = {RP_BOUNCE_PERMANENT, RP_BSUB_NO_EMAIL},
        [BG_BOUNCE_SUPPRESSED] = {RP_BOUNCE_PERMANENT, RP_BSUB_SUPPRESSED},
        [BG_BOUNCE_ACCOUNT_LIST] = {RP_BOUNCE_PERMANENT,
                                    RP_BSUB_ON_ACCOUNT_SUPPRESSION_LIST},
        [BG_BOUNCE_TRANSIENT] = {RP_BOUNCE_TRANSIENT, RP_BSUB_GENERAL},
        [BG_BOUNCE_MAILBOX_FULL] = {RP_BOUNCE_TRANSIENT, RP_BSUB_MAILBOX_FULL},
        [BG_BOUNCE_TOO_LARGE] = {RP_BOUNCE_TRANSIENT,
                                 RP_BSUB_MESSAGE_TOO_LARGE},
        [BG_BOUNCE_CONTENT_REJECTED] = {RP_BOUNCE_TRANSIENT,
                                        RP_BSUB_CONTENT_REJECTED},
        [BG_BOUNCE_ATTACHMENT_REJECTED] = {RP_BOUNCE_TRANSIENT,
                                           RP_BSUB_ATTACHMENT_REJECTED},
        [BG_BOUNCE_UNDETERMINED] = {RP_BOUNCE_UNDETERMINED,
                                    RP_BSUB_UNDETERMINED},
    };
    b->bounce_type = kinds[k].type;
    b->bounce_subtype = kinds[k].subtype;
}

int64_t bg_earlier(bg_rng *r, int64_t t, int64_t min, int64_t max, int power) {
    double u = bg_rng_double(r);
    double f = u;
    for (int k = 1; k < power; k++)
        f *= u; /* (u * u) * u, as the programs always computed it */
    return t - min - (int64_t)(f * (double)(max - min));
}

/* The related account of a LINK_ACCOUNT or UNLINK_ACCOUNT (see
 * bg_action_fill()); the draws are made in this order on purpose. */
static bg_action_accounts link_accounts(rp_action_type type, bg_rng *r,
                                        bg_links *l, uint64_t n_accounts,
                                        uint64_t *account, uint64_t *related) {
    *related = bg_rng_below(r, n_accounts);
    if (type == RP_ACTION_LINK_ACCOUNT) {
        uint64_t *slot = l->pair[l->n++ % BG_LINKS];
        slot[0] = *account;
        slot[1] = *related;
        return BG_ACTION_RELATED;
    }
    if (l->n == 0 || !bg_rng_chance(r, 0.5))
        return BG_ACTION_RELATED;
    uint64_t n = l->n < BG_LINKS ? l->n : BG_LINKS;
    const uint64_t *slot = l->pair[bg_rng_below(r, n)];
    *account = slot[0];
    *related = slot[1];
    return BG_ACTION_UNDOES;
}

bg_action_accounts bg_action_fill(rp_action *a, const bg_action_mix *mix,
                                  bg_rng *r, bg_links *l, uint64_t n_accounts,
                                  int64_t t, uint64_t *account,
                                  uint64_t *related) {
    a->action =
        (rp_action_type)bg_rng_weighted(r, mix->weights, RP_ACTION__COUNT);
    /* The first five action types act on issues; the rest do not. */
    if (a->action <= RP_ACTION_END_REVIEW &&
        bg_rng_chance(r, mix->issue_share)) {
        a->has_issue = true;
        double u = bg_rng_double(r);
        a->issue = u < 0.4 ? RP_ISSUE_BOUNCE_RATE
                   : u < 0.8
                       ? RP_ISSUE_COMPLAINT_RATE
                       : (rp_issue_kind)(RP_ISSUE__FIRST_REPORT +
                                         bg_rng_below(r, mix->report_kinds));
    }
    if (bg_rng_chance(r, 0.2)) {
        a->has_effective_time = true;
        a->effective_time = bg_earlier(r, t, 0, RP_MS_PER_HOUR, mix->skew);
    }
    bg_action_accounts acc = BG_ACTION_ALONE;
    if (a->action == RP_ACTION_LINK_ACCOUNT ||
        a->action == RP_ACTION_UNLINK_ACCOUNT)
        acc = link_accounts(a->action, r, l, n_accounts, account, related);
    if (bg_rng_chance(r, 0.3))
        a->note = rp_str_c(mix->notes[bg_rng_below(r, mix->n_notes)]);
    return acc;
}

void bg_shuffle_ranks(bg_rng *r, uint32_t *rank_to_account, uint64_t n) {
    for (uint64_t a = 0; a < n; a++)
        rank_to_account[a] = (uint32_t)a;
    for (uint64_t a = n - 1; a > 0; a--) {
        uint64_t b = bg_rng_below(r, a + 1);
        uint32_t t = rank_to_account[a];
        rank_to_account[a] = rank_to_account[b];
        rank_to_account[b] = t;
    }
}
