/*
 * bucket.c - pruning and inserting an account's hourly buckets.
 *
 * Records mostly arrive in time order, so a new bucket is nearly always
 * appended; the insertion walks back from the end for the rare late
 * outcome and shifts the newer buckets up. The array doubles when full
 * (starting at two: most accounts see one or two hours in a window).
 *
 * Pruning runs at most once per clock hour per account (pruned_hour), and
 * the oldest stored hour is kept in the account itself, so that a prune
 * that has nothing to drop does not touch the bucket array at all. A
 * saturated sum stays saturated when buckets leave: its true value is
 * unknown, and the window then takes the slow, exact path.
 */
#include "engine/bucket.h"

#include <stdbool.h>
#include <string.h>

static void sub_sat(uint32_t *c, uint32_t n) {
    if (*c != UINT32_MAX)
        *c -= n;
}

void rp_bucket_prune_at(account *a, int64_t hour, int64_t clock,
                        int64_t max_span) {
    /* A bucket after the clock's hour (only a restored state can have
     * one) must keep the window off its fast path, whose sums would count
     * it: the walk skips such buckets. The mark stays unset until the
     * clock has caught up. */
    bool ahead = a->n_buckets && a->buckets[a->n_buckets - 1].hour > hour;
    a->pruned_hour = ahead ? INT32_MIN : (int32_t)hour;
    int64_t lo_hour = rp_bucket_oldest_reachable(clock, max_span);
    if (a->n_buckets == 0 || a->oldest_hour >= lo_hour)
        return;
    uint32_t drop = 0;
    while (drop < a->n_buckets && a->buckets[drop].hour < lo_hour) {
        const bucket *b = &a->buckets[drop];
        sub_sat(&a->tot_sends, b->sends);
        sub_sat(&a->tot_hard, b->hard);
        sub_sat(&a->tot_deliveries, b->deliveries);
        sub_sat(&a->tot_complaints, b->complaints);
        drop++;
    }
    if (drop) {
        memmove(a->buckets, a->buckets + drop,
                (a->n_buckets - drop) * sizeof(bucket));
        a->n_buckets -= drop;
        if (a->n_buckets)
            a->oldest_hour = a->buckets[0].hour;
    }
}

bucket *rp_bucket_insert(rp_acct_table *t, account *a, int64_t hour) {
    uint32_t n = a->n_buckets;
    uint32_t pos = n;
    while (pos > 0 && a->buckets[pos - 1].hour > hour)
        pos--;
    if (pos > 0 && a->buckets[pos - 1].hour == hour)
        return &a->buckets[pos - 1];
    if (n == a->cap_buckets) {
        uint32_t cap = a->cap_buckets ? a->cap_buckets * 2 : 2;
        bucket *b = rp_acct_realloc(t, a->buckets, cap * sizeof(bucket));
        if (!b)
            return NULL;
        a->buckets = b;
        a->cap_buckets = cap;
    }
    memmove(a->buckets + pos + 1, a->buckets + pos, (n - pos) * sizeof(bucket));
    memset(&a->buckets[pos], 0, sizeof(bucket));
    a->buckets[pos].hour = (int32_t)hour;
    if (pos == 0)
        a->oldest_hour = (int32_t)hour;
    a->n_buckets++;
    return &a->buckets[pos];
}
