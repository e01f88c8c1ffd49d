/*
 * account.c - the account table: allocation accounting, insertion, growth,
 * extensions, links, and emptying an account.
 *
 * The memory an account owns is counted as the allocator sees it
 * (malloc_usable_size), overhead included, because the number is what an
 * operator compares with the process's resident size: counting the sizes
 * we asked for would hide a third of it for small accounts.
 *
 * Growth doubles the slots and reinserts every (hash, pointer) pair; the
 * stored hash spares recomputing it and the accounts themselves never move,
 * so pointers held elsewhere (the review-end heap, the dirty list, the list
 * of accounts that are not HEALTHY) stay valid. Look-ups are inline in
 * account.h because they run on every record.
 */
#include "engine/account.h"
#include "engine/history.h"

#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ memory */

void *rp_acct_alloc(rp_acct_table *t, size_t n) {
    void *p = malloc(n);
    if (p)
        t->bytes += (int64_t)malloc_usable_size(p);
    return p;
}

void *rp_acct_realloc(rp_acct_table *t, void *old, size_t n) {
    size_t before = old ? malloc_usable_size(old) : 0;
    void *p = realloc(old, n);
    if (p)
        t->bytes += (int64_t)malloc_usable_size(p) - (int64_t)before;
    return p;
}

void rp_acct_free(rp_acct_table *t, void *p) {
    if (!p)
        return;
    t->bytes -= (int64_t)malloc_usable_size(p);
    free(p);
}

/* ------------------------------------------------------------ table */

static int table_grow(rp_acct_table *t) {
    size_t n = t->slots ? (t->mask + 1) * 2 : 1024;
    rp_acct_slot *s = calloc(n, sizeof(*s));
    if (!s)
        return RP_ENOMEM;
    if (t->slots) {
        t->bytes -= (int64_t)malloc_usable_size(t->slots);
        for (size_t i = 0; i <= t->mask; i++) {
            if (!t->slots[i].acct)
                continue;
            size_t j = (size_t)t->slots[i].hash & (n - 1);
            while (s[j].acct)
                j = (j + 1) & (n - 1);
            s[j] = t->slots[i];
        }
        free(t->slots);
    }
    t->bytes += (int64_t)malloc_usable_size(s);
    t->slots = s;
    t->mask = n - 1;
    return 0;
}

account *rp_acct_insert(rp_acct_table *t, rp_str id, uint64_t h) {
    if ((t->n_accounts + 1) * 4 > (t->slots ? t->mask + 1 : 0) * 3 &&
        table_grow(t) != 0)
        return NULL;
    account *a = rp_acct_alloc(t, sizeof(account) + id.len + 1);
    if (!a)
        return NULL;
    memset(a, 0, sizeof(*a));
    a->pruned_hour = INT32_MIN;
    a->id_len = (uint16_t)id.len;
    memcpy(a->id, id.ptr, id.len);
    a->id[id.len] = '\0';
    size_t i = (size_t)h & t->mask;
    while (t->slots[i].acct)
        i = (i + 1) & t->mask;
    t->slots[i].hash = h;
    t->slots[i].acct = a;
    t->n_accounts++;
    return a;
}

void rp_acct_table_free(rp_acct_table *t) {
    if (t->slots) {
        for (size_t i = 0; i <= t->mask; i++) {
            account *a = t->slots[i].acct;
            if (!a)
                continue;
            if (a->tenants) {
                tenant_set *s = a->tenants;
                for (uint32_t j = 0; s->slots && j <= s->mask; j++) {
                    if (!s->slots[j].t)
                        continue;
                    rp_acct_clear(t, s->slots[j].t);
                    rp_acct_free(t, s->slots[j].t);
                }
                rp_acct_free(t, s->slots);
                rp_acct_free(t, s);
            }
            rp_acct_clear(t, a);
            rp_acct_free(t, a);
        }
        free(t->slots);
    }
    memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------ accounts */

account_ext *rp_acct_ext(rp_acct_table *t, account *a) {
    if (a->ext)
        return a->ext;
    account_ext *x = rp_acct_alloc(t, sizeof(*x));
    if (!x)
        return NULL;
    memset(x, 0, sizeof(*x));
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        x->issues[k] = rp_acct_healthy_issue;
    a->ext = x;
    return x;
}

void rp_acct_clear(rp_acct_table *t, account *a) {
    if (a->ext) {
        for (uint32_t i = 0; i < a->ext->n_links; i++)
            rp_acct_free(t, a->ext->links[i]);
        rp_acct_free(t, a->ext->links);
        rp_acct_free(t, a->ext->reports);
        rp_history_free(t, a->ext->hist);
        rp_acct_free(t, a->ext);
        a->ext = NULL;
    }
    rp_acct_free(t, a->buckets);
    a->buckets = NULL;
    a->n_buckets = a->cap_buckets = 0;
    a->tot_sends = a->tot_hard = a->tot_deliveries = a->tot_complaints = 0;
    a->pruned_hour = INT32_MIN;
    a->sequence = 0; /* a tenant: last_applied */
}

/* ------------------------------------------------------------ links */

static bool link_is(const char *link, rp_str other) {
    return strlen(link) == other.len && memcmp(link, other.ptr, other.len) == 0;
}

int rp_acct_link_add(rp_acct_table *t, account_ext *x, rp_str other) {
    for (uint32_t i = 0; i < x->n_links; i++)
        if (link_is(x->links[i], other))
            return 0;
    if (x->n_links == x->cap_links) {
        uint32_t cap = x->cap_links ? x->cap_links * 2 : 2;
        char **l = rp_acct_realloc(t, x->links, cap * sizeof(char *));
        if (!l)
            return RP_ENOMEM;
        x->links = l;
        x->cap_links = cap;
    }
    char *s = rp_acct_alloc(t, other.len + 1);
    if (!s)
        return RP_ENOMEM;
    memcpy(s, other.ptr, other.len);
    s[other.len] = '\0';
    x->links[x->n_links++] = s;
    return 1;
}

bool rp_acct_link_remove(rp_acct_table *t, account_ext *x, rp_str other) {
    for (uint32_t i = 0; i < x->n_links; i++) {
        if (link_is(x->links[i], other)) {
            rp_acct_free(t, x->links[i]);
            memmove(x->links + i, x->links + i + 1,
                    (x->n_links - i - 1) * sizeof(char *));
            x->n_links--;
            return true;
        }
    }
    return false;
}
