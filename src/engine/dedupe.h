/*
 * dedupe.h - the bounded table of recently counted record keys (docs/rules.md
 * section 3).
 *
 * The caller owns the struct (caller-allocated, as libuv's handles are) and
 * frees its arrays with rp_dedupe_free(). The fields are private to
 * dedupe.c and dedupe_table.c, apart from count and evicted, which the
 * engine's statistics read.
 */
#ifndef REPUTE_ENGINE_DEDUPE_H
#define REPUTE_ENGINE_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

/* The largest dedupe.max.entries honoured; a larger setting is held to it
 * (the table's slot count must stay below 2^32). */
#define RP_DEDUPE_MAX_ENTRIES (UINT64_C(1) << 31)

typedef struct rp_dedupe {
    /* The table (dedupe_table.c): Robin Hood linear probing over `cap`
     * 64-bit slots, each holding a key's fingerprint bits beyond its home
     * slot, its sequence number's low bits and its displacement. */
    uint64_t *slots;
    size_t cap;      /* number of slots; any size, not only powers of two */
    unsigned lg;     /* floor(log2(cap)) */
    size_t used;     /* occupied slots: live keys and forgotten ones that
                        the sweep has not removed yet */
    size_t sweep_at; /* the incremental sweep's cursor */
    size_t cap_max;  /* the slot count at max_entries */
    /* Counting order: the key counted n-th has sequence number n; the
     * live keys are those numbered [next_seq - count, next_seq). */
    uint64_t next_seq;
    size_t count;
    /* The clock each live key was counted at, in counting order: a ring
     * of 16-bit differences from the previous key, with the rare one that
     * does not fit (ESC) in a FIFO of its own. */
    uint16_t *dt;
    size_t dt_cap, dt_head;
    int64_t *esc;
    size_t esc_cap, esc_head, esc_n;
    int64_t head_time, tail_time; /* the oldest and the newest key's clock */
    size_t max_entries;
    int64_t horizon;
    uint64_t evicted;
} rp_dedupe;

void rp_dedupe_init(rp_dedupe *d, size_t max_entries, int64_t horizon);
void rp_dedupe_free(rp_dedupe *d);

/* Returns 1 when fp was counted within the horizon of now (a duplicate), 0
 * when it was not and is now remembered, RP_ENOMEM on failure. */
int rp_dedupe_check(rp_dedupe *d, uint64_t fp, int64_t now);

/* Remembers fp as counted at `at` without checking it (restore). Returns
 * 0 or RP_ENOMEM. */
int rp_dedupe_insert(rp_dedupe *d, uint64_t fp, int64_t at);

/* Bytes held by the table. */
size_t rp_dedupe_bytes(const rp_dedupe *d);

/* ------------------------------------------------ the table (private)
 *
 * dedupe_table.c; its design is described there. A key is the
 * fingerprint's top RP_DD_KEY_BITS bits. The lookup is here, inline, as
 * it runs for every record. */
#define RP_DD_KEY_BITS 55
#define RP_DD_D_BITS   7 /* displacement + 1; 0: an empty slot */
#define RP_DD_D_MASK   ((UINT64_C(1) << RP_DD_D_BITS) - 1)
#define RP_DD_LOW_BITS 23

/* The width of the stored part of a key (rem) and of the tag. */
static inline unsigned rp_dd_rem_bits(unsigned lg) {
    return 55 - lg;
}
static inline uint64_t rp_dd_tag_mask(unsigned lg) {
    return (UINT64_C(1) << (lg + 2)) - 1;
}

/* Splits key k into its home slot and what the slot stores of it. */
static inline uint64_t rp_dd_split(const rp_dedupe *d, uint64_t k,
                                   size_t *home) {
    uint64_t prod = (k >> RP_DD_LOW_BITS) * (uint64_t)d->cap;
    *home = (size_t)(prod >> 32);
    return ((prod & UINT32_MAX) >> d->lg) << RP_DD_LOW_BITS |
           (k & ((UINT64_C(1) << RP_DD_LOW_BITS) - 1));
}

/* Returns the slot holding key k (live or already forgotten) with *found
 * = 1, or the slot where k belongs with *found = 0 and its displacement
 * in *dist.
 *
 * Most keys sit within 4 slots of home (the mean displacement is about
 * 2), so those 4 are tested first without a branch on each: a branch
 * that depends on a slot not yet in the cache is mispredicted often, and
 * a mispredicted branch keeps the processor from starting the next
 * record's work while it waits. Only the rare longer run takes the loop. */
static inline size_t rp_dd_find(const rp_dedupe *d, uint64_t k, int *found,
                                size_t *dist) {
    size_t pos;
    uint64_t rem = rp_dd_split(d, k, &pos);
    uint64_t rmask = (UINT64_C(1) << rp_dd_rem_bits(d->lg)) - 1;
    size_t i = 0;
    if (pos + 4 <= d->cap) {
        const uint64_t *s = d->slots + pos;
        /* k at displacement j is the word (rem, j + 1) under mask. */
        uint64_t mask = rmask << RP_DD_D_BITS | RP_DD_D_MASK;
        uint64_t want = rem << RP_DD_D_BITS | 1;
        unsigned hit = 0, stop = 0;
        for (unsigned j = 0; j < 4; j++) {
            /* f <= j: empty, or a key nearer its home than k would be */
            stop |= (unsigned)((s[j] & RP_DD_D_MASK) <= j) << j;
            hit |= (unsigned)(((s[j] ^ (want + j)) & mask) == 0) << j;
        }
        unsigned any = hit | stop;
        if (any) {
            /* The lowest set bit of a 4-bit mask. */
            static const unsigned char low[16] = {0, 0, 1, 0, 2, 0, 1, 0,
                                                  3, 0, 1, 0, 2, 0, 1, 0};
            i = low[any];
            *found = (int)((hit >> i) & 1);
            *dist = i;
            return pos + i;
        }
        i = 4;
        pos += 4;
        if (pos == d->cap)
            pos = 0;
    }
    for (;; i++) {
        uint64_t w = d->slots[pos];
        uint64_t f = w & RP_DD_D_MASK;
        if (f == 0 || f - 1 < i) {
            *found = 0;
            *dist = i;
            return pos;
        }
        if (f - 1 == i && ((w >> RP_DD_D_BITS) & rmask) == rem) {
            *found = 1;
            *dist = i;
            return pos;
        }
        pos = pos + 1 == d->cap ? 0 : pos + 1;
    }
}

/* Is the key in slot pos still live (counted within the last `count`)? */
static inline int rp_dd_live(const rp_dedupe *d, size_t pos) {
    uint64_t tag = d->slots[pos] >> (RP_DD_D_BITS + rp_dd_rem_bits(d->lg));
    uint64_t age = (d->next_seq - tag) & rp_dd_tag_mask(d->lg);
    return age >= 1 && age <= d->count;
}

/* Gives the key in slot pos (found, forgotten) the sequence number seq. */
void rp_dd_renumber(rp_dedupe *d, size_t pos, uint64_t seq);
/* Puts key k with sequence number seq at the slot rp_dd_find() gave.
 * Returns 0, or 1 when a displacement would overflow (nothing changed). */
int rp_dd_put(rp_dedupe *d, uint64_t k, uint64_t seq, size_t pos, size_t dist);
/* Makes room for one more key: sweeps out forgotten keys or grows the
 * table (beyond cap_max only when `force`). Returns 0, 1 when it could
 * do neither, or RP_ENOMEM. */
int rp_dd_make_room(rp_dedupe *d, int force);
/* Removes forgotten keys from the next few slots (amortised sweep). */
void rp_dd_sweep_step(rp_dedupe *d);

#endif
