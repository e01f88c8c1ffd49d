/*
 * dedupe_table.c - the dedupe table's hash set: 8 bytes a slot, a
 * 55-bit key in it.
 *
 * dedupe.c keeps the order in which keys were counted and their clocks;
 * this file keeps the set, and the set is what costs memory. Each slot is
 * one 64-bit word:
 *
 *   [ tag: lg+2 bits | rem: 55-lg bits | displacement+1: 7 bits ]
 *
 * where lg = floor(log2(cap)). A key k (the fingerprint's top 55 bits) is
 * u = its top 32 bits and 23 low bits. With p = u * cap, its home slot is
 * p / 2^32, which needs no power-of-two size, so the table can stop
 * growing at max_entries / 0.75 slots rather than at the next power of
 * two. The home slot itself stands for most of u's bits (quotienting):
 * the slot stores only e = (p mod 2^32) / 2^lg, which is less than
 * 2^(32-lg), and the 23 low bits. As u * cap steps by cap >= 2^lg, e
 * tells the u of one home apart, and home and e give u back exactly
 * (join()), so the table can be rehashed into any size without the
 * original fingerprints. The lookup needs a multiplication and no
 * division.
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
 * slots per key counted (half as many while the dead keys take less than
 * 1/16 of the table), and all of them when the table is short of room. A
 * dead key is swept within about two passes (2 * cap / (SWEEP_STEP / 2)
 * keys), so no key stays present longer than count + cap / 2 numbers,
 * count being at most 7/8 of cap: fewer than 2^(lg+2) > 2 * cap, which
 * is why lg+2 tag bits tell every present key's number without
 * ambiguity.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/dedupe.h"
#include "repute/types.h"

#define D_BITS     RP_DD_D_BITS
#define D_MASK     RP_DD_D_MASK
#define D_MAX      126 /* the largest displacement; field = d + 1 */
#define LOW_BITS   RP_DD_LOW_BITS
#define LOW_MASK   ((UINT64_C(1) << LOW_BITS) - 1)
#define SWEEP_STEP 8
#define INIT_CAP   1024

#define rem_bits rp_dd_rem_bits
#define tag_mask rp_dd_tag_mask

/* Key k back from its home slot and rem, in a table of cap slots with
 * 2^lg <= cap: u * cap lies in [home * 2^32 + (rem's e) * 2^lg, + 2^lg),
 * and an interval no longer than cap holds one multiple of cap. */
static uint64_t join(size_t home, uint64_t rem, size_t cap, unsigned lg) {
    uint64_t lo = (uint64_t)home << 32 | (rem >> LOW_BITS) << lg;
    uint64_t u = (lo + cap - 1) / cap;
    return u << LOW_BITS | (rem & LOW_MASK);
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
    size_t home;
    uint64_t rem = rp_dd_split(d, k, &home);
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
    int steps = d->used - d->count > d->cap / 16 ? SWEEP_STEP : SWEEP_STEP / 2;
    for (int n = 0; n < steps; n++) {
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
        uint64_t k = join(home, rem, old_cap, old_lg);
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
    /* Sweep rather than grow when the live keys fill at most 3/4 of the
     * table: the sweep then frees at least 1/8 of it, so full sweeps come
     * at most once every cap / 8 keys counted. */
    if (dead > 0 &&
        (force || d->count * 4 <= d->cap * 3 || d->cap >= d->cap_max)) {
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
