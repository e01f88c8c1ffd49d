/*
 * dedupe.h - the bounded table of recently counted record keys (docs/rules.md
 * section 3).
 *
 * The caller owns the struct (caller-allocated, as libuv's handles are) and
 * frees its arrays with rp_dedupe_free().
 */
#ifndef REPUTE_ENGINE_DEDUPE_H
#define REPUTE_ENGINE_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp_dedupe {
    /* Open-addressing set of fingerprints (0 marks an empty slot). */
    uint64_t *slots;
    size_t mask; /* number of slots - 1; slots is a power of two */
    /* FIFO ring of the same fingerprints with the clock they were counted
     * at, oldest at head: expiry and eviction both take from the head. */
    uint64_t *ring_fp;
    int64_t *ring_time;
    size_t head, count, cap;
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

#endif
