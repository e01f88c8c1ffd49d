/*
 * window.c - computing the representative window of a rate (docs/rules.md
 * section 3).
 *
 * The window is counted back from the clock's bucket. Until the minimum
 * volume is reached the walk may go as far as the maximum span (or the
 * floor); once it is reached, the walk still goes back far enough to cover
 * the minimum span, and stops there. Buckets after the clock's hour (a
 * restored account seen before its clock caught up) are skipped.
 *
 * Most accounts never reach the minimum volume. For them the window is
 * every stored bucket, and the account's running sums give it without a
 * walk; that fast path is only taken when it is exact: no floor, buckets
 * pruned at this very hour (so all are within reach), sums below the
 * minimum volume (so not saturated).
 */
#include "engine/window.h"

#include "engine/bucket.h"

/* Fills the parts of m that follow from the counts and the bounds. */
static void window_fill(const rp_config *c, int64_t end, int64_t cb,
                        int64_t oldest, int64_t vol, int64_t cnt,
                        rp_metric_snapshot *m) {
    m->volume = vol;
    m->count = cnt;
    m->window_end = end;
    m->window_start = oldest > cb ? end : oldest * HOUR;
    m->has_rate = vol > 0 && vol >= c->rate_min_volume;
    m->rate = m->has_rate ? (double)cnt / (double)vol : 0.0;
}

/* The window of one rate (`which`: 0 bounce, 1 complaint) at the clock,
 * starting no earlier than floor (NONE: no floor). Static, so that it is
 * inlined into rp_window_rates() for each rate. */
static void window_compute(const rp_config *c, int64_t clock, const account *a,
                           int which, int64_t floor, rp_metric_snapshot *m) {
    int64_t cb = rp_bucket_hour_floor(clock);
    int64_t end = (cb + 1) * HOUR;
    int64_t b_lo = rp_bucket_hour_ceil(end - c->window_max_span);
    if (floor != NONE && rp_bucket_hour_ceil(floor) > b_lo)
        b_lo = rp_bucket_hour_ceil(floor);
    int64_t b_span = cb + 1 - rp_bucket_hour_ceil(c->window_min_span);
    if (b_span > cb)
        b_span = cb;
    /* Fast path: every stored bucket is inside the window's reach and
     * together they stay under the minimum volume, so the window reaches
     * back to its limit and holds them all. */
    uint32_t tot_vol = which == 0 ? a->tot_sends : a->tot_deliveries;
    if (c->window_min_volume > 0 && (int64_t)tot_vol < c->window_min_volume &&
        floor == NONE && a->pruned_hour == cb) {
        window_fill(c, end, cb, b_lo, tot_vol,
                    which == 0 ? a->tot_hard : a->tot_complaints, m);
        return;
    }
    bool reached = c->window_min_volume <= 0;
    int64_t stop = b_lo;
    if (reached)
        stop = b_span > b_lo ? b_span : b_lo;
    int64_t vol = 0, cnt = 0;
    for (uint32_t i = a->n_buckets; i-- > 0;) {
        const bucket *b = &a->buckets[i];
        if (b->hour > cb)
            continue;
        if (b->hour < stop)
            break;
        vol += which == 0 ? b->sends : b->deliveries;
        cnt += which == 0 ? b->hard : b->complaints;
        if (!reached && vol >= c->window_min_volume) {
            reached = true;
            int64_t s = b_span < b->hour ? b_span : b->hour;
            stop = s > b_lo ? s : b_lo;
        }
    }
    window_fill(c, end, cb, stop, vol, cnt, m);
}

void rp_window_rates(const rp_config *c, int64_t clock, const account *a,
                     rates *r) {
    for (int w = 0; w < 2; w++) {
        const issue *is = rp_acct_issue(a, w);
        window_compute(c, clock, a, w, is->floor, &r->m[w]);
        r->m[w].status = is->status;
    }
}
