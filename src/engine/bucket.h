/*
 * bucket.h - an account's hourly counts (private to src/engine/).
 *
 * Every counted outcome lands in the bucket of its attribution hour. The
 * buckets of an account are a sorted, sparse array: only hours that saw
 * anything are stored, and hours no window can reach any more are pruned,
 * so an account that sends once a day holds a handful of 20-byte buckets
 * rather than a ring of every hour in the maximum span. Beside the array
 * the account keeps the saturating sums of all stored buckets, which let
 * the window skip the walk when the volume is small (see window.c).
 *
 * Pruning and the bucket of the newest hour run on every record, so their
 * common cases (already pruned at this hour; the newest bucket is the
 * one) are inline here and only the work is out of line.
 *
 * Ownership: the buckets belong to their account; they are allocated
 * through the account table (rp_acct_realloc) and freed with the account
 * (rp_acct_clear).
 */
#ifndef REPUTE_ENGINE_BUCKET_H
#define REPUTE_ENGINE_BUCKET_H

#include <stdint.h>

#include "engine/account.h"

/* The hour of an instant, rounded down (floor) or up (ceil), for instants
 * before the epoch too. */
static inline int64_t rp_bucket_hour_floor(int64_t ms) {
    int64_t q = ms / HOUR;
    return (ms % HOUR != 0 && ms < 0) ? q - 1 : q;
}

static inline int64_t rp_bucket_hour_ceil(int64_t ms) {
    return -rp_bucket_hour_floor(-ms);
}

/* The oldest hour any window of at most max_span can still reach at this
 * clock. */
static inline int64_t rp_bucket_oldest_reachable(int64_t clock,
                                                 int64_t max_span) {
    int64_t end = (rp_bucket_hour_floor(clock) + 1) * HOUR;
    return rp_bucket_hour_ceil(end - max_span);
}

/* Adds n to a counter, sticking at UINT32_MAX. */
static inline void rp_bucket_add_sat(uint32_t *c, uint32_t n) {
    *c = (*c > UINT32_MAX - n) ? UINT32_MAX : *c + n;
}

/* Drops the buckets no window can reach at the clock, once per hour of
 * the clock; hour is rp_bucket_hour_floor(clock). */
void rp_bucket_prune_at(account *a, int64_t hour, int64_t clock,
                        int64_t max_span);

static inline void rp_bucket_prune(account *a, int64_t clock,
                                   int64_t max_span) {
    int64_t hour = rp_bucket_hour_floor(clock);
    if (a->pruned_hour != hour)
        rp_bucket_prune_at(a, hour, clock, max_span);
}

/* Inserts an empty bucket of `hour` in order, or finds it; NULL on
 * ENOMEM. */
bucket *rp_bucket_insert(rp_acct_table *t, account *a, int64_t hour);

/* Returns the bucket of `hour`, inserting an empty one in order. */
static inline bucket *rp_bucket_get(rp_acct_table *t, account *a,
                                    int64_t hour) {
    uint32_t n = a->n_buckets;
    if (n && a->buckets[n - 1].hour == hour)
        return &a->buckets[n - 1];
    return rp_bucket_insert(t, a, hour);
}

/* Adds counts to a bucket and to the account's sums. */
static inline void rp_bucket_add(account *a, bucket *b, uint32_t sends,
                                 uint32_t hard, uint32_t deliveries,
                                 uint32_t complaints) {
    rp_bucket_add_sat(&b->sends, sends);
    rp_bucket_add_sat(&b->hard, hard);
    rp_bucket_add_sat(&b->deliveries, deliveries);
    rp_bucket_add_sat(&b->complaints, complaints);
    rp_bucket_add_sat(&a->tot_sends, sends);
    rp_bucket_add_sat(&a->tot_hard, hard);
    rp_bucket_add_sat(&a->tot_deliveries, deliveries);
    rp_bucket_add_sat(&a->tot_complaints, complaints);
}

#endif
