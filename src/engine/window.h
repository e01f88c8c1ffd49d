/*
 * window.h - the representative window of an account's rates
 * (private to src/engine/).
 *
 * A rate is only meaningful over enough mail and enough time, so the
 * window of docs/rules.md section 3 is not fixed: it takes whole hourly buckets
 * back from the clock's until both the minimum volume and the minimum span are
 * covered, never reaching before the maximum span or the floor.
 * The two rate issues (bounce, complaint) each get one window; both are
 * computed together because every rule that looks at one looks at both.
 *
 * Ownership: nothing is allocated; the caller's snapshots are filled in.
 */
#ifndef REPUTE_ENGINE_WINDOW_H
#define REPUTE_ENGINE_WINDOW_H

#include <stdint.h>

#include "engine/account.h"
#include "repute/config.h"
#include "repute/record.h"

/* The two rate issues' windows as they stand at the clock. */
typedef struct rates {
    rp_metric_snapshot m[2]; /* [0] bounce, [1] complaint */
} rates;

/* Both windows at the clock, each starting no earlier than its issue's
 * floor, with its issue's status. */
void rp_window_rates(const rp_config *c, int64_t clock, const account *a,
                     rates *r);

#endif
