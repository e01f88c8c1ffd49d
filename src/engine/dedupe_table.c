/*
 * dedupe_table.c - the dedupe table's hash set: 8 bytes a slot, a
 * 54-bit key in it.
 *
 * dedupe.c keeps the order in which keys were counted and their clocks;
 * this file keeps the set, and the set is what costs memory. Each slot is
 * one 64-bit word:
 *
 *   [ tag: lg+2 bits | rem: 55-lg bits | displacement+1: 7 bits ]
 *
 * where lg = floor(log2(cap)). A key k (the fingerprint's top 54 bits) is
 * u = its top 32 bits and 22 low bits. Its home slot is floor(u * cap /
 * 2^32), which needs no power-of-two size, so the table can stop growing
 * at max_entries / 0.75 slots rather than at the next power of two. The
 * home slot itself stands for most of u's bits (quotienting): the slot
 * stores only e = u - (the least u with that home), which takes 33-lg
 * bits, and the 22 low bits. Home and e give u back exactly, so the table
 * can be rehashed into any size without the original fingerprints.
 *
 * Linear probing with Robin Hood order (the keys of a run sorted by home)
 * keeps every key within a few slots of its home, so the displacement
 * fits 7 bits and the home of a stored key is its slot minus its
 * displacement; a miss stops as soon as it meets a key that is nearer its
 * own home than the probe is. Removal shifts the rest of the run back
 * (no tombstones).
 *
 * The tag is the low lg+2 bits of the key's sequence number (its place in
 * counting order). dedupe.c forgets keys by moving the start of the live
 * range, in O(1), without touching the table; a key whose number fell out
 * of the range is dead and is removed by a sweep that visits SWEEP_STEP
 * slots per key counted, and all of them when the table is short of
 * room. A dead key is swept within about two passes (2 * cap / SWEEP_STEP
 * keys), so no key stays present longer than count + cap / 4 numbers:
 * fewer than 2^(lg+2), which is why lg+2 tag bits tell every present
 * key's number without ambiguity.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/dedupe.h"
#include "repute/types.h"

#define D_BITS     7
#define D_MASK     ((UINT64_C(1) << D_BITS) - 1)
#define D_MAX      126 /* the largest displacement; field = d + 1 */
#define LOW_BITS   22
#define LOW_MASK   ((UINT64_C(1) << LOW_BITS) - 1)
#define SWEEP_STEP 8
#define INIT_CAP   1024

/* The fields' widths for a table of 2^lg <= cap < 2^(lg+1) slots. */
static inline unsigned rem_bits(unsigned lg) {
    return 55 - lg;
}
static inline uint64_t tag_mask(unsigned lg) {
    return (UINT64_C(1) << (lg + 2)) - 1;
}

static inline size_t home_of(uint64_t u, size_t cap) {
    return (size_t)((u * (uint64_t)cap) >> 32);
}

/* The least u whose home is `home` (exact: cap < 2^32). */
static inline uint64_t base_of(size_t home, size_t cap) {
    return (((uint64_t)home << 32) + cap - 1) / cap;
}

static inline size_t next(const rp_dedupe *d, size_t i) {
    return i + 1 == d->cap ? 0 : i + 1;
}

static unsigned floor_log2(size_t n) {
    unsigned lg = 0;
    while (n >> (lg + 1))
        lg++;
    return lg;
}

size_t rp_dd_find(const rp_dedupe *d, uint64_t k, int *found, size_t *dist) {
    uint64_t u = k >> LOW_BITS;
    size_t pos = home_of(u, d->cap);
    uint64_t rem = (u - base_of(pos, d->cap)) << LOW_BITS | (k & LOW_MASK);
    uint64_t rmask = (UINT64_C(1) << rem_bits(d->lg)) - 1;
    for (size_t i = 0;; i++) {
        uint64_t w = d->slots[pos];
        uint64_t f = w & D_MASK;
        if (f == 0 || f - 1 < i) {
            *found = 0;
            *dist = i;
            return pos;
        }
        if (f - 1 == i && ((w >> D_BITS) & rmask) == rem) {
            *found = 1;
            *dist = i;
            return pos;
        }
        pos = next(d, pos);
    }
}

int rp_dd_live(const rp_dedupe *d, size_t pos) {
    uint64_t mask = tag_mask(d->lg);
    uint64_t tag = d->slots[pos] >> (D_BITS + rem_bits(d->lg));
    uint64_t age = (d->next_seq - tag) & mask;
    return age >= 1 && age <= d->count;
}

void rp_dd_renumber(rp_dedupe *d, size_t pos, uint64_t seq) {
    unsigned shift = D_BITS + rem_bits(d->lg);
    uint64_t low = d->slots[pos] & ((UINT64_C(1) << shift) - 1);
    d->slots[pos] = (seq & tag_mask(d->lg)) << shift | low;
}

int rp_dd_put(rp_dedupe *d, uint64_t k, uint64_t seq, size_t pos, size_t dist) {
    if (dist > D_MAX)
        return 1;
    /* Every key from pos to the first empty slot moves one slot on. */
    size_t end = pos;
    while (d->slots[end] & D_MASK) {
        if ((d->slots[end] & D_MASK) - 1 == D_MAX)
            return 1;
        end = next(d, end);
    }
    while (end != pos) {
        size_t prev = end == 0 ? d->cap - 1 : end - 1;
        d->slots[end] = d->slots[prev] + 1;
        end = prev;
    }
    uint64_t u = k >> LOW_BITS;
    size_t home = home_of(u, d->cap);
    uint64_t rem = (u - base_of(home, d->cap)) << LOW_BITS | (k & LOW_MASK);
    unsigned rb = rem_bits(d->lg);
    uint64_t payload = (seq & tag_mask(d->lg)) << rb | rem;
    d->slots[pos] = payload << D_BITS | (dist + 1);
    d->used++;
    return 0;
}

/* Removes the key in slot pos: the rest of its run moves one slot back. */
static void remove_at(rp_dedupe *d, size_t pos) {
    size_t i = pos, j = next(d, pos);
    while ((d->slots[j] & D_MASK) > 1) {
        d->slots[i] = d->slots[j] - 1;
        i = j;
        j = next(d, j);
    }
    d->slots[i] = 0;
    d->used--;
}

/* Removes dead keys from slot p, which a removal refills from the run. */
static void sweep_slot(rp_dedupe *d, size_t p) {
    unsigned shift = D_BITS + rem_bits(d->lg);
    uint64_t mask = tag_mask(d->lg);
    for (;;) {
        uint64_t w = d->slots[p];
        uint64_t age = (d->next_seq - (w >> shift)) & mask;
        if (!(w & D_MASK) || (age >= 1 && age <= d->count))
            return;
        remove_at(d, p);
    }
}

void rp_dd_sweep_step(rp_dedupe *d) {
    /* Nothing to sweep while every key present is live (a table that has
     * not filled up yet, with the horizon not reached). */
    if (d->used == d->count)
        return;
    for (int n = 0; n < SWEEP_STEP; n++) {
        sweep_slot(d, d->sweep_at);
        d->sweep_at = next(d, d->sweep_at);
    }
}

static void sweep_all(rp_dedupe *d) {
    for (size_t p = 0; p < d->cap; p++)
        sweep_slot(d, p);
    d->sweep_at = 0;
}

/* Moves the live keys into a table of new_cap slots. Returns 0, 1 when a
 * displacement would overflow there (the old table is kept), or
 * RP_ENOMEM. */
static int rehash(rp_dedupe *d, size_t new_cap) {
    uint64_t *old = d->slots;
    size_t old_cap = d->cap;
    unsigned old_lg = d->lg;
    size_t old_used = d->used;
    uint64_t *s = calloc(new_cap, sizeof(uint64_t));
    if (!s)
        return RP_ENOMEM;
    d->slots = s;
    d->cap = new_cap;
    d->lg = floor_log2(new_cap);
    d->used = 0;
    d->sweep_at = 0;
    unsigned rb = rem_bits(old_lg);
    uint64_t tmask = tag_mask(old_lg);
    for (size_t p = 0; p < old_cap; p++) {
        uint64_t w = old[p];
        if (!(w & D_MASK))
            continue;
        uint64_t age = (d->next_seq - (w >> (D_BITS + rb))) & tmask;
        if (age == 0 || age > d->count)
            continue; /* dead: left behind */
        size_t home = (p + old_cap - ((w & D_MASK) - 1)) % old_cap;
        uint64_t rem = (w >> D_BITS) & ((UINT64_C(1) << rb) - 1);
        uint64_t u = base_of(home, old_cap) + (rem >> LOW_BITS);
        uint64_t k = u << LOW_BITS | (rem & LOW_MASK);
        int found;
        size_t dist, at = rp_dd_find(d, k, &found, &dist);
        if (rp_dd_put(d, k, d->next_seq - age, at, dist) != 0) {
            free(s);
            d->slots = old;
            d->cap = old_cap;
            d->lg = old_lg;
            d->used = old_used;
            return 1;
        }
    }
    free(old);
    return 0;
}

int rp_dd_make_room(rp_dedupe *d, int force) {
    if (!d->slots) {
        size_t cap = d->cap_max < INIT_CAP ? d->cap_max : INIT_CAP;
        d->slots = calloc(cap, sizeof(uint64_t));
        if (!d->slots)
            return RP_ENOMEM;
        d->cap = cap;
        d->lg = floor_log2(cap);
        return 0;
    }
    size_t dead = d->used - d->count;
    /* Sweeping frees at least 1/32 of the table: cheaper than growing. */
    if (dead > 0 && (force || dead >= d->cap / 32 || d->cap >= d->cap_max)) {
        sweep_all(d);
        return 0;
    }
    /* Grow: by doubling up to cap_max; past it only when a displacement
     * overflows (keys crowded by chance), and at most to 4 * cap_max. */
    size_t limit = force ? 4 * d->cap_max : d->cap_max;
    if (limit > UINT32_MAX)
        limit = UINT32_MAX;
    for (size_t cap = d->cap; cap < limit;) {
        cap = cap * 2 < limit ? cap * 2 : limit;
        int rc = rehash(d, cap);
        if (rc <= 0)
            return rc;
    }
    return 1;
}
