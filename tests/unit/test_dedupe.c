/*
 * test_dedupe.c - the dedupe table itself (src/engine/dedupe.c and
 * dedupe_table.c): membership, the horizon, eviction of the earliest
 * counted key at max_entries, growth, the sweep, restore of keys in the
 * changelog's form (old and new code write the same form), and memory.
 *
 * The main check runs the table beside a reference model that is the
 * design it replaced, written as plainly as possible: a FIFO of
 * (fingerprint, clock) searched linearly. Both must answer every check
 * the same way and hold the same number of keys, over random streams with
 * duplicates, clock jumps past the horizon and a full table.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dedupe.h"
#include "repute/types.h"

/* ------------------------------------------------------------ reference */

typedef struct ref {
    uint64_t *fp;
    int64_t *at;
    size_t head, n, cap, max;
    int64_t horizon;
    uint64_t evicted;
} ref;

static void ref_init(ref *r, size_t max, int64_t horizon) {
    memset(r, 0, sizeof(*r));
    r->cap = max ? max : 1;
    r->fp = calloc(r->cap, sizeof(uint64_t));
    r->at = calloc(r->cap, sizeof(int64_t));
    r->max = max;
    r->horizon = horizon;
}

static void ref_free(ref *r) {
    free(r->fp);
    free(r->at);
}

/* The key the table keeps of a fingerprint. */
static uint64_t kbits(uint64_t fp) {
    return fp >> (64 - RP_DD_KEY_BITS);
}

static int ref_has(const ref *r, uint64_t fp) {
    for (size_t i = 0; i < r->n; i++)
        if (kbits(r->fp[(r->head + i) % r->cap]) == kbits(fp))
            return 1;
    return 0;
}

static void ref_pop(ref *r) {
    r->head = (r->head + 1) % r->cap;
    r->n--;
}

static int ref_insert(ref *r, uint64_t fp, int64_t at) {
    if (r->max == 0 || ref_has(r, fp))
        return 0;
    if (r->n == r->max) {
        ref_pop(r);
        r->evicted++;
    }
    size_t tail = (r->head + r->n) % r->cap;
    r->fp[tail] = fp;
    r->at[tail] = at;
    r->n++;
    return 0;
}

static int ref_check(ref *r, uint64_t fp, int64_t now) {
    if (r->max == 0)
        return 0;
    while (r->n > 0 && now - r->at[r->head] > r->horizon)
        ref_pop(r);
    if (ref_has(r, fp))
        return 1;
    return ref_insert(r, fp, now);
}

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Runs n checks on both, drawing a duplicate of one of the last `recent`
 * keys with probability dup/100, and moving the clock by 0..step ms (now
 * and then by a jump past the horizon when jumps is set). */
static void run_beside(size_t max, int64_t horizon, size_t n, unsigned dup,
                       size_t recent, int64_t step, int jumps) {
    rp_dedupe d;
    ref r;
    rp_dedupe_init(&d, max, horizon);
    ref_init(&r, max, horizon);
    uint64_t *hist = calloc(recent, sizeof(uint64_t));
    size_t nh = 0;
    int64_t now = 1700000000000;
    for (size_t i = 0; i < n; i++) {
        now += (int64_t)(rnd() % (uint64_t)(step + 1));
        if (jumps && rnd() % 5000 == 0)
            now += horizon + 1 + (int64_t)(rnd() % 100000);
        uint64_t fp;
        if (nh > 0 && rnd() % 100 < dup)
            fp = hist[rnd() % (nh < recent ? nh : recent)];
        else
            fp = rnd();
        hist[nh++ % recent] = fp;
        int a = rp_dedupe_check(&d, fp, now);
        int b = ref_check(&r, fp, now);
        cr_assert_eq(a, b, "check %zu: table %d, reference %d", i, a, b);
        cr_assert_eq(d.count, r.n, "check %zu: %zu keys, reference %zu", i,
                     d.count, r.n);
    }
    cr_assert_eq(d.evicted, r.evicted);
    free(hist);
    ref_free(&r);
    rp_dedupe_free(&d);
}

/* ------------------------------------------------------------ tests */

Test(dedupe, remembers_and_forgets_at_the_horizon) {
    /* The table keeps the fingerprint's top bits: these differ there. */
    uint64_t a = UINT64_C(42) << 40, b = UINT64_C(43) << 40;
    rp_dedupe d;
    rp_dedupe_init(&d, 100, 1000);
    cr_assert_eq(rp_dedupe_check(&d, a, 0), 0);
    cr_assert_eq(rp_dedupe_check(&d, a, 1000), 1, "at c0 + horizon");
    cr_assert_eq(rp_dedupe_check(&d, b, 1000), 0);
    cr_assert_eq(rp_dedupe_check(&d, a, 1001), 0, "past c0 + horizon");
    cr_assert_eq(rp_dedupe_check(&d, a, 1002), 1, "counted anew at 1001");
    cr_assert_eq(d.count, 2);
    rp_dedupe_free(&d);
}

Test(dedupe, full_table_forgets_the_earliest_counted_key) {
    rp_dedupe d;
    rp_dedupe_init(&d, 3, 1000000);
    for (uint64_t k = 1; k <= 4; k++)
        cr_assert_eq(rp_dedupe_check(&d, k << 40, 10), 0);
    cr_assert_eq(d.count, 3);
    cr_assert_eq(d.evicted, 1);
    cr_assert_eq(rp_dedupe_check(&d, UINT64_C(4) << 40, 11), 1);
    cr_assert_eq(rp_dedupe_check(&d, UINT64_C(2) << 40, 11), 1);
    cr_assert_eq(rp_dedupe_check(&d, UINT64_C(1) << 40, 11), 0, "evicted");
    cr_assert_eq(rp_dedupe_check(&d, UINT64_C(2) << 40, 11), 0, "evicted now");
    rp_dedupe_free(&d);
}

Test(dedupe, zero_entries_turns_it_off) {
    rp_dedupe d;
    rp_dedupe_init(&d, 0, 1000);
    cr_assert_eq(rp_dedupe_check(&d, 7, 0), 0);
    cr_assert_eq(rp_dedupe_check(&d, 7, 0), 0);
    cr_assert_eq(rp_dedupe_bytes(&d), 0);
    rp_dedupe_free(&d);
}

Test(dedupe, same_as_a_plain_fifo_small_and_full) {
    run_beside(50, 10000, 20000, 30, 80, 20, 1);
}

Test(dedupe, same_as_a_plain_fifo_horizon_bound) {
    /* The horizon, not the size, forgets keys; sparse clocks exercise the
     * ring's escapes (differences over 65 s). */
    run_beside(5000, 200000, 30000, 10, 500, 150000, 0);
}

Test(dedupe, same_as_a_plain_fifo_growing_and_clock_jumps) {
    run_beside(3000, 60000, 40000, 5, 4000, 5, 1);
}

Test(dedupe, restore_old_form_then_check) {
    /* The changelog holds (fingerprint, clock) pairs of 16 bytes, as the
     * code before this table wrote them (src/runtime/commit.c); restoring
     * is rp_dedupe_insert() of each pair in the order written. A blob
     * written that way, decoded as task.c decodes it: */
    unsigned char blob[3 * 16];
    uint64_t fps[3] = {UINT64_C(0x0123456789abcdef),
                       UINT64_C(0xfedcba9876543210), UINT64_C(1) << 63};
    int64_t ats[3] = {1000, 2000, 70000};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 8; b++) {
            blob[16 * i + b] = (unsigned char)(fps[i] >> (8 * b));
            blob[16 * i + 8 + b] = (unsigned char)((uint64_t)ats[i] >> (8 * b));
        }
    rp_dedupe d;
    rp_dedupe_init(&d, 10, 60000);
    for (int i = 0; i < 3; i++) {
        uint64_t fp = 0, at = 0;
        for (int b = 7; b >= 0; b--) {
            fp = fp << 8 | blob[16 * i + b];
            at = at << 8 | blob[16 * i + 8 + b];
        }
        cr_assert_eq(rp_dedupe_insert(&d, fp, (int64_t)at), 0);
    }
    cr_assert_eq(rp_dedupe_insert(&d, fps[1], 2000), 0, "already held");
    cr_assert_eq(d.count, 3);
    /* At 61001 the first key (1000) is past the horizon, the others not. */
    cr_assert_eq(rp_dedupe_check(&d, fps[1], 61001), 1);
    cr_assert_eq(rp_dedupe_check(&d, fps[2], 61001), 1);
    cr_assert_eq(rp_dedupe_check(&d, fps[0], 61001), 0);
    rp_dedupe_free(&d);
}

Test(dedupe, restore_out_of_order_like_the_fifo) {
    /* Restored clocks need not rise: the order written is what counts. */
    rp_dedupe d;
    ref r;
    rp_dedupe_init(&d, 100, 5000);
    ref_init(&r, 100, 5000);
    for (int i = 0; i < 300; i++) {
        uint64_t fp = rnd();
        int64_t at = 100000 + (int64_t)(rnd() % 20000);
        rp_dedupe_insert(&d, fp, at);
        ref_insert(&r, fp, at);
    }
    for (int i = 0; i < 2000; i++) {
        uint64_t fp = rnd() % 3 || r.n == 0
                          ? rnd()
                          : r.fp[(r.head + rnd() % r.n) % r.cap];
        int64_t now = 110000 + i * 10;
        cr_assert_eq(rp_dedupe_check(&d, fp, now), ref_check(&r, fp, now),
                     "check %d", i);
        cr_assert_eq(d.count, r.n);
    }
    ref_free(&r);
    rp_dedupe_free(&d);
}

Test(dedupe, round_trip_through_the_changelog_form) {
    /* Keys taken in by one table and restored into another are the same
     * set: every one is a duplicate there, a new one is not. */
    rp_dedupe a, b;
    rp_dedupe_init(&a, 20000, 3600000);
    rp_dedupe_init(&b, 20000, 3600000);
    uint64_t *fp = malloc(20000 * sizeof(uint64_t));
    for (int i = 0; i < 20000; i++) {
        fp[i] = rnd();
        cr_assert_eq(rp_dedupe_check(&a, fp[i], 1000 + i), 0);
        cr_assert_eq(rp_dedupe_insert(&b, fp[i], 1000 + i), 0);
    }
    cr_assert_eq(a.count, b.count);
    for (int i = 0; i < 20000; i++)
        cr_assert_eq(rp_dedupe_check(&b, fp[i], 30000), 1, "key %d", i);
    cr_assert_eq(rp_dedupe_check(&b, rnd(), 30000), 0);
    free(fp);
    rp_dedupe_free(&a);
    rp_dedupe_free(&b);
}

Test(dedupe, full_table_costs_under_14_bytes_a_key) {
    /* A full table at steady state: inserts that evict for two more
     * rounds, so that the sweep runs as it does in a long stream. */
    size_t max = 200000;
    rp_dedupe d;
    rp_dedupe_init(&d, max, INT64_MAX / 2);
    for (size_t i = 0; i < 3 * max; i++)
        cr_assert_eq(rp_dedupe_check(&d, rnd(), (int64_t)i), 0);
    cr_assert_eq(d.count, max);
    double per_key = (double)rp_dedupe_bytes(&d) / (double)max;
    cr_assert_leq(per_key, 14.0, "%.2f bytes a key", per_key);
    cr_assert_leq(d.used, d.cap * 7 / 8 + 1);
    rp_dedupe_free(&d);
}

Test(dedupe, crowded_keys_are_placed_or_left_out_without_harm) {
    /* Keys sharing their top 32 bits all have one home slot: more than the
     * displacement field can place. The table must stay sound: every key
     * it took in is found, and it does not grow without bound. */
    rp_dedupe d;
    rp_dedupe_init(&d, 1000, 1000000);
    int taken = 0;
    for (uint64_t i = 0; i < 400; i++) {
        uint64_t fp = UINT64_C(0xabcdef12) << 32 | i << 10;
        cr_assert_eq(rp_dedupe_check(&d, fp, 5), 0);
        taken += rp_dedupe_check(&d, fp, 5);
    }
    cr_assert_geq(taken, 100);
    cr_assert_leq(d.cap, 4 * d.cap_max);
    rp_dedupe_free(&d);
}

Test(dedupe, extreme_keys_survive_every_growth) {
    /* Keys at the ends of the key space (top bits all 0 or all 1) and
     * next to them, taken in while the table grows through several sizes
     * (none a power of two at the end): each rehash rebuilds every key
     * from its home and stored bits, and none may change. */
    uint64_t edge[] = {0,
                       UINT64_MAX,
                       UINT64_C(1) << 63,
                       (UINT64_C(1) << 63) - 1,
                       UINT64_C(0xffffffff) << 32,
                       UINT64_C(0x00000000ffffffff),
                       UINT64_C(1) << 9,
                       UINT64_MAX << 10};
    size_t n_edge = sizeof(edge) / sizeof(edge[0]);
    rp_dedupe d;
    rp_dedupe_init(&d, 130000, INT64_MAX / 2);
    for (size_t i = 0; i < n_edge; i++)
        cr_assert_eq(rp_dedupe_check(&d, edge[i], 1), 0, "edge %zu", i);
    size_t caps = 0, last = 0;
    for (int i = 0; i < 125000; i++) {
        rp_dedupe_check(&d, rnd(), 2);
        if (d.cap != last) {
            last = d.cap;
            caps++;
            for (size_t j = 0; j < n_edge; j++)
                cr_assert_eq(rp_dedupe_check(&d, edge[j], 2), 1,
                             "edge %zu at %zu slots", j, d.cap);
        }
    }
    cr_assert_geq(caps, 5);
    cr_assert_eq(d.cap, d.cap_max);
    for (size_t j = 0; j < n_edge; j++)
        cr_assert_eq(rp_dedupe_check(&d, edge[j], 3), 1, "edge %zu", j);
    rp_dedupe_free(&d);
}
