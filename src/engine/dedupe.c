/*
 * dedupe.c - remembering which records were already counted.
 *
 * Events are delivered at least once, so the same (account_id, event_id)
 * can arrive twice. The engine hands us a 64-bit fingerprint of each
 * counted key; we remember the keys counted within the horizon, at most
 * max_entries of them, and forget the earliest counted first, both when
 * the horizon passes and when the table is full (docs/rules.md section 3).
 *
 * Memory is the point of the design: at the default ten million keys this
 * is most of a process's memory. A key costs about 12.7 bytes when the
 * table is full (docs/configuration.md), where a hash set of 64-bit
 * fingerprints at load 0.5 beside a ring of fingerprints and a ring of
 * clocks took about 43:
 *
 *   - the set (dedupe_table.c) keeps 55 bits of the fingerprint in an
 *     8-byte slot, with the low bits of the key's sequence number in
 *     counting order, at a load of up to 3/4 (7/8 with keys forgotten but
 *     not yet swept out);
 *   - the order needs no ring of keys: the live keys are exactly those
 *     numbered [next_seq - count, next_seq), so forgetting the earliest
 *     is moving the start of that range, and a key is live when its
 *     number is in it;
 *   - the clocks, needed only to know when the earliest key's horizon
 *     has passed, are a ring of 16-bit differences in counting order
 *     (clocks never go back, and a stream's records are rarely more than
 *     65 s apart), with the rare difference that does not fit kept whole
 *     in a FIFO beside it.
 *
 * The rule is kept key by key, as the ring of the earlier design kept it:
 * a key counted at c0 is a duplicate while the clock is at most c0 +
 * horizon, and when the table is full the single earliest counted key
 * makes room for the new one. What changed is only what a false duplicate
 * needs: two keys with the same 55 bits (docs/rules.md gives the rate).
 */
#include "engine/dedupe.h"

#include <stdlib.h>
#include <string.h>

#include "repute/types.h"

#define ESC 0xFFFF /* in the clock ring: the difference is in the FIFO */

void rp_dedupe_init(rp_dedupe *d, size_t max_entries, int64_t horizon) {
    memset(d, 0, sizeof(*d));
    if ((uint64_t)max_entries > RP_DEDUPE_MAX_ENTRIES)
        max_entries = (size_t)RP_DEDUPE_MAX_ENTRIES;
    d->max_entries = max_entries;
    d->horizon = horizon;
    /* At most 3/4 of the slots hold live keys, so that forgotten keys
     * awaiting the sweep (up to 1/8 more) leave the probes short. */
    d->cap_max = max_entries + max_entries / 3 + 64;
}

void rp_dedupe_free(rp_dedupe *d) {
    free(d->slots);
    free(d->dt);
    free(d->esc);
    size_t max_entries = d->max_entries;
    int64_t horizon = d->horizon;
    uint64_t evicted = d->evicted;
    rp_dedupe_init(d, max_entries, horizon);
    d->evicted = evicted;
}

size_t rp_dedupe_bytes(const rp_dedupe *d) {
    return d->cap * sizeof(uint64_t) + d->dt_cap * sizeof(uint16_t) +
           d->esc_cap * sizeof(int64_t);
}

/* ------------------------------------------------------------ clocks */

/* Does a key counted at `at` after the newest key need the FIFO? */
static int needs_esc(const rp_dedupe *d, int64_t at) {
    return d->count > 0 &&
           !(at >= d->tail_time && (uint64_t)at - (uint64_t)d->tail_time < ESC);
}

/* Makes room in the ring (and the FIFO) for one more clock, so that
 * push_time() cannot fail. Returns 0 or RP_ENOMEM. */
static int reserve_time(rp_dedupe *d, int64_t at) {
    if (d->count == d->dt_cap) {
        size_t n = d->dt_cap ? d->dt_cap * 2 : 1024;
        if (n > d->max_entries)
            n = d->max_entries;
        uint16_t *dt = malloc(n * sizeof(uint16_t));
        if (!dt)
            return RP_ENOMEM;
        for (size_t k = 0; k < d->count; k++)
            dt[k] = d->dt[(d->dt_head + k) % d->dt_cap];
        free(d->dt);
        d->dt = dt;
        d->dt_cap = n;
        d->dt_head = 0;
    }
    if (needs_esc(d, at) && d->esc_n == d->esc_cap) {
        size_t n = d->esc_cap ? d->esc_cap * 2 : 16;
        int64_t *e = malloc(n * sizeof(int64_t));
        if (!e)
            return RP_ENOMEM;
        for (size_t k = 0; k < d->esc_n; k++)
            e[k] = d->esc[(d->esc_head + k) % d->esc_cap];
        free(d->esc);
        d->esc = e;
        d->esc_cap = n;
        d->esc_head = 0;
    }
    return 0;
}

static void push_time(rp_dedupe *d, int64_t at) {
    size_t tail = (d->dt_head + d->count) % d->dt_cap;
    uint16_t v = 0;
    if (d->count == 0) {
        d->head_time = at;
    } else if (needs_esc(d, at)) {
        v = ESC;
        d->esc[(d->esc_head + d->esc_n) % d->esc_cap] = at;
        d->esc_n++;
    } else {
        v = (uint16_t)((uint64_t)at - (uint64_t)d->tail_time);
    }
    d->dt[tail] = v;
    d->tail_time = at;
}

/* Forgets the earliest counted key. The table keeps it until the sweep:
 * its number is out of the live range now. */
static void pop_head(rp_dedupe *d) {
    d->count--;
    if (++d->dt_head == d->dt_cap)
        d->dt_head = 0;
    if (d->count == 0)
        return;
    uint16_t v = d->dt[d->dt_head];
    if (v == ESC) {
        d->head_time = d->esc[d->esc_head];
        if (++d->esc_head == d->esc_cap)
            d->esc_head = 0;
        d->esc_n--;
    } else {
        d->head_time += v;
    }
}

/* ------------------------------------------------------------ keys */

static inline uint64_t key_of(uint64_t fp) {
    return fp >> (64 - RP_DD_KEY_BITS);
}

/* Finds key k: returns 1 when it is live, else 0 with *pos and *dist
 * from rp_dd_find() (*found tells whether k is present, forgotten). */
static int lookup(const rp_dedupe *d, uint64_t k, size_t *pos, size_t *dist,
                  int *found) {
    *found = 0;
    *pos = *dist = 0;
    if (!d->slots)
        return 0;
    *pos = rp_dd_find(d, k, found, dist);
    return *found && rp_dd_live(d, *pos);
}

/* Counts key k, which is not live, at `at`; pos, dist and found are what
 * lookup() said of it. */
static int remember(rp_dedupe *d, uint64_t k, int64_t at, size_t pos,
                    size_t dist, int found) {
    if (d->count == d->max_entries) {
        pop_head(d);
        d->evicted++;
    }
    if (reserve_time(d, at) != 0)
        return RP_ENOMEM;
    int rc;
    if (!found && (!d->slots || (d->used + 1) * 8 > d->cap * 7)) {
        if ((rc = rp_dd_make_room(d, 0)) < 0)
            return rc;
        pos = rp_dd_find(d, k, &found, &dist); /* slots moved */
    }
    for (;;) {
        if (found) { /* forgotten but not yet swept: count it anew */
            rp_dd_renumber(d, pos, d->next_seq);
            break;
        }
        if (d->used + 2 < d->cap &&
            rp_dd_put(d, k, d->next_seq, pos, dist) == 0)
            break;
        /* Keys crowded together by chance (or by design of whoever chose
         * the event ids): sweep or grow, and as a last resort leave the
         * key out rather than grow without bound. */
        if ((rc = rp_dd_make_room(d, 1)) < 0)
            return rc;
        if (rc == 1)
            return 0;
        pos = rp_dd_find(d, k, &found, &dist);
    }
    push_time(d, at);
    d->next_seq++;
    d->count++;
    rp_dd_sweep_step(d);
    return 0;
}

/* ------------------------------------------------------------ check */

int rp_dedupe_check(rp_dedupe *d, uint64_t fp, int64_t now) {
    if (d->max_entries == 0)
        return 0;
    /* Forget keys counted more than the horizon ago. */
    while (d->count > 0 && now - d->head_time > d->horizon)
        pop_head(d);
    uint64_t k = key_of(fp);
    int found;
    size_t pos, dist;
    if (lookup(d, k, &pos, &dist, &found))
        return 1;
    return remember(d, k, now, pos, dist, found);
}

int rp_dedupe_insert(rp_dedupe *d, uint64_t fp, int64_t at) {
    if (d->max_entries == 0)
        return 0;
    uint64_t k = key_of(fp);
    int found;
    size_t pos, dist;
    if (lookup(d, k, &pos, &dist, &found))
        return 0;
    return remember(d, k, at, pos, dist, found);
}
