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
 * each of all this, free to drift apart unnoticed; it now lives here once.
 *
 * The draws that sit on the load generator's per-record path (bg_rng_next
 * and the draws built on it) are static inline, so that sharing them costs
 * nothing; the rest is in bench_gen.c. Nothing here allocates: the caller
 * owns every struct, on the stack or inside its own.
 *
 * Below the draws are the record pieces both programs build the same way:
 * the table of mailbox providers, the kinds of bounce, the skewed "some
 * time earlier" of feedback, and the operator action with its memory of
 * recent account links (which makes UNLINK_ACCOUNT undo real links), and
 * the shuffle that makes an account's popularity unrelated to its id. The
 * record mixes themselves differ on purpose (the load generator's traffic
 * is realistic, the engine benchmark's a stress mix) and stay in the
 * programs: each passes its own weights and probabilities. What is shared
 * is how draws become values, in a fixed order, which is what keeps a
 * seed's stream the same.
 */
#ifndef REPUTE_BENCH_GEN_H
#define REPUTE_BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repute/record.h"

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

/* ---------------------------------------------------------------- records */

/* A recipient's mailbox provider: its share of mail (a weight) and whether
 * it sends complaint feedback to the service (Gmail does not, the big
 * feedback-loop providers do, company domains do not). */
typedef struct bg_domain {
    const char *name;
    unsigned weight;
    bool feedback_loop;
} bg_domain;

/* The providers, biggest first; the last entry, BG_DOMAIN_COMPANY, stands
 * for company domains ("corp.example"). */
#define BG_N_DOMAINS      9
#define BG_DOMAIN_COMPANY (BG_N_DOMAINS - 1)
extern const bg_domain BG_DOMAINS[BG_N_DOMAINS];

/* The kinds of bounce the generators draw (a type and subtype pair each):
 * the first three are the hard bounces of docs/rules.md section 3 (permanent
 * and counted), the rest count as sends but not as hard bounces. */
typedef enum bg_bounce {
    BG_BOUNCE_GENERAL,
    BG_BOUNCE_NO_EMAIL,
    BG_BOUNCE_SUPPRESSED,
    BG_BOUNCE_ACCOUNT_LIST, /* permanent, but on the account's own list */
    BG_BOUNCE_TRANSIENT,
    BG_BOUNCE_MAILBOX_FULL,
    BG_BOUNCE_TOO_LARGE,
    BG_BOUNCE_CONTENT_REJECTED,
    BG_BOUNCE_ATTACHMENT_REJECTED,
    BG_BOUNCE_UNDETERMINED,
    BG_BOUNCE__COUNT
} bg_bounce;

/* Sets b's bounce_type and bounce_subtype to those of kind k. */
void bg_bounce_set(rp_bounce *b, bg_bounce k);

/* A time `min` to `max` ms before t, skewed towards `min` by drawing a
 * uniform u and taking u to the given power (2 or 3): feedback mostly
 * comes soon after the send. */
int64_t bg_earlier(bg_rng *r, int64_t t, int64_t min, int64_t max, int power);

/* Recent LINK_ACCOUNT pairs (account, related), a ring of BG_LINKS. */
#define BG_LINKS 1024
typedef struct bg_links {
    uint64_t pair[BG_LINKS][2];
    uint64_t n;
} bg_links;

/* How a program's operator actions are drawn. */
typedef struct bg_action_mix {
    const unsigned *weights; /* RP_ACTION__COUNT, by rp_action_type */
    double issue_share;      /* of the actions about issues, naming one */
    uint64_t report_kinds;   /* named reports: among the first this many */
    int skew;                /* bg_earlier's power for effective_time */
    const char *const *notes;
    size_t n_notes;
} bg_action_mix;

/* What bg_action_fill() did with the accounts. */
typedef enum bg_action_accounts {
    BG_ACTION_ALONE,   /* the action names no related account */
    BG_ACTION_RELATED, /* *related is the related account */
    BG_ACTION_UNDOES,  /* and *account became the sender of the link that
                        * this UNLINK_ACCOUNT undoes */
} bg_action_accounts;

/* Fills an operator action at event time t, sent by *account: its type,
 * the issue it names (the bounce rate 40%, the complaint rate 40%, else a
 * report kind), an effective time, the related account of a link or an
 * unlink, and a note. Links are remembered in l, so that half the
 * unlinks (once there are links) undo a recent link, sent by the account
 * that made it; the other half name an account that is most likely not
 * linked. The account ids are the caller's to format, as the return value
 * says; a's strings other than the note are left alone. */
bg_action_accounts bg_action_fill(rp_action *a, const bg_action_mix *mix,
                                  bg_rng *r, bg_links *l, uint64_t n_accounts,
                                  int64_t t, uint64_t *account,
                                  uint64_t *related);

/* Fills rank_to_account[0..n) with the accounts 0..n-1 in a random order
 * (Fisher-Yates), so that a Zipf rank's popularity is unrelated to the
 * account id. */
void bg_shuffle_ranks(bg_rng *r, uint32_t *rank_to_account, uint64_t n);

#endif
