/*
 * dedupe.c - remembering which records were already counted.
 *
 * Events are delivered at least once, so the same (account_id, event_id)
 * can arrive twice. We keep a 64-bit fingerprint of each counted key in two
 * structures that always hold the same set:
 *
 *   - a linear-probing hash set, for the membership test on every record;
 *   - a FIFO ring in counting order, with the clock at counting, so that
 *     both ways a key leaves (its horizon passed, or the table is full and
 *     it is the oldest) take it from the head in O(1).
 *
 * Removal from the hash set uses backward-shift deletion, so there are no
 * tombstones and probe sequences stay short however long the stream runs.
 * Both structures grow on demand up to max_entries: a replay of a hundred
 * records does not pay for ten million slots.
 */
#include "engine/dedupe.h"

#include <stdlib.h>
#include <string.h>

#include "repute/types.h"

void rp_dedupe_init(rp_dedupe *d, size_t max_entries, int64_t horizon) {
    memset(d, 0, sizeof(*d));
    d->max_entries = max_entries;
    d->horizon = horizon;
}

void rp_dedupe_free(rp_dedupe *d) {
    free(d->slots);
    free(d->ring_fp);
    free(d->ring_time);
    d->slots = NULL;
    d->ring_fp = NULL;
    d->ring_time = NULL;
    d->count = d->cap = d->head = 0;
    d->mask = 0;
}

size_t rp_dedupe_bytes(const rp_dedupe *d) {
    return (d->slots ? (d->mask + 1) * sizeof(uint64_t) : 0) +
           d->cap * (sizeof(uint64_t) + sizeof(int64_t));
}

/* ------------------------------------------------------------ hash set */

static size_t set_find(const rp_dedupe *d, uint64_t fp) {
    size_t i = (size_t)fp & d->mask;
    while (d->slots[i] != 0 && d->slots[i] != fp)
        i = (i + 1) & d->mask;
    return i;
}

static void set_remove(rp_dedupe *d, uint64_t fp) {
    size_t i = set_find(d, fp);
    if (d->slots[i] == 0)
        return;
    /* Backward shift: pull later members of the probe run into the hole
     * when their home slot is at or before it (cyclically). */
    size_t j = i;
    for (;;) {
        d->slots[i] = 0;
        for (;;) {
            j = (j + 1) & d->mask;
            if (d->slots[j] == 0)
                return;
            size_t home = (size_t)d->slots[j] & d->mask;
            /* Is home cyclically outside (i, j]? Then it may move to i. */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        d->slots[i] = d->slots[j];
        i = j;
    }
}

static int set_grow(rp_dedupe *d) {
    size_t n = d->slots ? (d->mask + 1) * 2 : 1024;
    uint64_t *s = calloc(n, sizeof(uint64_t));
    if (!s)
        return RP_ENOMEM;
    uint64_t *old = d->slots;
    size_t old_n = old ? d->mask + 1 : 0;
    d->slots = s;
    d->mask = n - 1;
    for (size_t k = 0; k < old_n; k++)
        if (old[k])
            d->slots[set_find(d, old[k])] = old[k];
    free(old);
    return 0;
}

/* ------------------------------------------------------------ ring */

static int ring_grow(rp_dedupe *d) {
    size_t n = d->cap ? d->cap * 2 : 1024;
    if (n > d->max_entries)
        n = d->max_entries;
    uint64_t *fp = malloc(n * sizeof(uint64_t));
    int64_t *tm = malloc(n * sizeof(int64_t));
    if (!fp || !tm) {
        free(fp);
        free(tm);
        return RP_ENOMEM;
    }
    /* Unwrap the ring so that the head is at index 0 again. */
    for (size_t k = 0; k < d->count; k++) {
        size_t at = (d->head + k) % d->cap;
        fp[k] = d->ring_fp[at];
        tm[k] = d->ring_time[at];
    }
    free(d->ring_fp);
    free(d->ring_time);
    d->ring_fp = fp;
    d->ring_time = tm;
    d->cap = n;
    d->head = 0;
    return 0;
}

static void ring_pop(rp_dedupe *d) {
    set_remove(d, d->ring_fp[d->head]);
    d->head = (d->head + 1) % d->cap;
    d->count--;
}

/* ------------------------------------------------------------ check */

int rp_dedupe_check(rp_dedupe *d, uint64_t fp, int64_t now) {
    if (d->max_entries == 0)
        return 0;
    if (fp == 0)
        fp = 1; /* 0 marks an empty slot */
    /* Forget keys counted more than the horizon ago. */
    while (d->count > 0 && now - d->ring_time[d->head] > d->horizon)
        ring_pop(d);
    if (d->slots && d->slots[set_find(d, fp)] == fp)
        return 1;
    return rp_dedupe_insert(d, fp, now);
}

int rp_dedupe_insert(rp_dedupe *d, uint64_t fp, int64_t now) {
    if (d->max_entries == 0)
        return 0;
    if (fp == 0)
        fp = 1;
    if (d->slots && d->slots[set_find(d, fp)] == fp)
        return 0;
    if (d->count == d->max_entries) {
        ring_pop(d);
        d->evicted++;
    }
    if (d->count == d->cap && ring_grow(d) != 0)
        return RP_ENOMEM;
    /* Keep the set at most half full. */
    if (!d->slots || (d->count + 1) * 2 > d->mask + 1) {
        if (set_grow(d) != 0)
            return RP_ENOMEM;
    }
    d->slots[set_find(d, fp)] = fp;
    size_t tail = (d->head + d->count) % d->cap;
    d->ring_fp[tail] = fp;
    d->ring_time[tail] = now;
    d->count++;
    return 0;
}
