/*
 * review_heap.h - the review ends waiting to happen, in order
 * (private to src/engine/).
 *
 * One binary min-heap of (instant, account), ordered by instant and then by
 * account id, so that review ends at the same instant are processed in a
 * stable order whatever order they were set in. Entries are never removed
 * early: when a review end moves, a new entry is pushed and the old one is
 * skipped when it surfaces, because the account's issue no longer ends at
 * that instant (rp_rheap_live() says whether it still does). That keeps
 * every change of a review end O(log n) with no back pointers from the
 * accounts into the heap.
 *
 * Tenants (docs/rules.md section 10) are entities of their own here: at one
 * instant an account's own entry comes before its tenants', and these by
 * name. A tenant can be forgotten while stale entries still point at it,
 * so every entry of a tenant is counted in its heap_refs: the engine
 * frees a forgotten tenant only once the last entry has been popped
 * (rp_tenant_heap_unref() after each pop).
 *
 * Ownership: the caller owns the rp_rheap (zeroed to start) and frees its
 * array with rp_rheap_free(); the accounts are only pointed at.
 */
#ifndef REPUTE_ENGINE_REVIEW_HEAP_H
#define REPUTE_ENGINE_REVIEW_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/account.h"

typedef struct rp_rheap_entry {
    int64_t at;
    account *acct;
} rp_rheap_entry;

typedef struct rp_rheap {
    rp_rheap_entry *entries; /* entries[0] is the earliest */
    size_t n, cap;
} rp_rheap;

/* Adds (at, a), counting the entry in a tenant's heap_refs. Returns 0 or
 * RP_ENOMEM. */
int rp_rheap_push(rp_rheap *h, int64_t at, account *a);

/* Removes and returns the earliest entry; the heap must not be empty. */
rp_rheap_entry rp_rheap_pop(rp_rheap *h);

/* True when some issue of the entry's account is in review and ends at
 * the entry's instant: the entry is not stale. */
bool rp_rheap_live(const rp_rheap_entry *x);

void rp_rheap_free(rp_rheap *h);

#endif
