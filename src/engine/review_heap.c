/*
 * review_heap.c - the binary min-heap of review ends.
 *
 * A plain array heap: push sifts up, pop moves the last entry to the root
 * and sifts it down. Ties on the instant are broken by the account id,
 * compared as bytes and then by length, which is the order a replay of the
 * same input always reproduces; comparing pointers would not be. The array
 * grows by doubling and never shrinks: it holds at most a few entries per
 * account in review, a small fraction of all accounts.
 */
#include "engine/review_heap.h"

#include <stdlib.h>
#include <string.h>

/* Byte order, then length: the order of account ids and of tenant
 * names (docs/rules.md sections 5 and 10). */
static int name_cmp(const account *x, const account *y) {
    size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
    int c = memcmp(x->id, y->id, n);
    if (c != 0)
        return c;
    return (x->id_len > y->id_len) - (x->id_len < y->id_len);
}

/* At one instant: by account id; an account's own review ends before
 * its tenants'; its tenants by name (docs/rules.md section 10, "Order"). */
static bool entry_less(const rp_rheap_entry *x, const rp_rheap_entry *y) {
    if (x->at != y->at)
        return x->at < y->at;
    const account *a = x->acct, *b = y->acct;
    const account *ra = a->kind == ENTITY_ACCOUNT ? a : a->parent;
    const account *rb = b->kind == ENTITY_ACCOUNT ? b : b->parent;
    if (ra != rb)
        return name_cmp(ra, rb) < 0;
    if ((a->kind == ENTITY_ACCOUNT) != (b->kind == ENTITY_ACCOUNT))
        return a->kind == ENTITY_ACCOUNT;
    return a != b && name_cmp(a, b) < 0;
}

static void entry_swap(rp_rheap *h, size_t i, size_t j) {
    rp_rheap_entry t = h->entries[i];
    h->entries[i] = h->entries[j];
    h->entries[j] = t;
}

int rp_rheap_push(rp_rheap *h, int64_t at, account *a) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        rp_rheap_entry *e = realloc(h->entries, cap * sizeof(*e));
        if (!e)
            return RP_ENOMEM;
        h->entries = e;
        h->cap = cap;
    }
    if (a->kind != ENTITY_ACCOUNT && a->heap_refs < UINT16_MAX)
        a->heap_refs++; /* let go of by rp_tenant_heap_unref() */
    size_t i = h->n++;
    h->entries[i].at = at;
    h->entries[i].acct = a;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!entry_less(&h->entries[i], &h->entries[p]))
            break;
        entry_swap(h, i, p);
        i = p;
    }
    return 0;
}

rp_rheap_entry rp_rheap_pop(rp_rheap *h) {
    rp_rheap_entry top = h->entries[0];
    h->entries[0] = h->entries[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && entry_less(&h->entries[l], &h->entries[m]))
            m = l;
        if (r < h->n && entry_less(&h->entries[r], &h->entries[m]))
            m = r;
        if (m == i)
            break;
        entry_swap(h, i, m);
        i = m;
    }
    return top;
}

bool rp_rheap_live(const rp_rheap_entry *x) {
    const account *a = x->acct;
    if (!a->ext)
        return false;
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        if (rp_acct_in_review(&a->ext->issues[k]) &&
            a->ext->issues[k].review_end == x->at)
            return true;
    return false;
}

void rp_rheap_free(rp_rheap *h) {
    free(h->entries);
    memset(h, 0, sizeof(*h));
}
