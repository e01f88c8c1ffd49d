/*
 * tenant.c - the tenants of accounts (docs/rules.md section 10): finding
 * them, the limit per account, forgetting the idle ones, and their keys in
 * the changelog.
 *
 * A tenant is an `account` struct of kind ENTITY_TENANT with a pointer to
 * its account, so that every rule of review.c, actions.c and window.c
 * works on it unchanged; it is not in the account table. An account finds
 * its tenants in a small set of its own (tenant_set, account.h), sorted by
 * name: a binary search finds one, and the sorted order is the one the
 * rules need at one instant and the one the views list. An account without
 * tenants pays a NULL pointer and nothing else.
 *
 * Forgetting. A tenant all of whose issues are HEALTHY and that no record
 * named within max(window.max.span, report.window) of the clock (the
 * engine's tenant_idle) holds nothing any rule can still see: its buckets
 * are beyond every window and its reports beyond the report window. Such a
 * tenant is treated as absent at once (rp_tenant_find() does not find it,
 * and a record that names it again finds it emptied: it starts afresh),
 * so what the rules and the views see never depends on when its memory is
 * actually let go of. The memory goes in a sweep over all accounts that
 * runs when the clock has moved an eighth of tenant_idle since the last
 * one (so an idle tenant is held at most that much longer, and the sweep
 * costs one walk of the table every ~11 days of clock at the defaults),
 * and for one account whenever its limit would turn a new tenant away.
 *
 * A forgotten tenant leaves a shell (kind ENTITY_GONE: its name and its
 * account, no buckets or issues) until two things have let go of it: the
 * dirty list, which writes its tombstone to the changelog at the next
 * flush, and the review-end heap, whose stale entries may still point at
 * it (heap_refs counts them). Without flushes (`repute replay`, the
 * benchmark) shells stay on the dirty list like every other changed
 * entity; they hold no buckets or issues.
 *
 * Ownership: tenants, their sets and shells are allocated through the
 * account table (counted in its bytes) and freed by the engine.
 */
#include <string.h>

#include "engine/engine_int.h"

/* ------------------------------------------------------------ the set */

/* Compares name with t's name: byte order, then length. */
static int name_cmp(rp_str name, const account *t) {
    size_t n = name.len < t->id_len ? name.len : t->id_len;
    int c = memcmp(name.ptr, t->id, n);
    if (c != 0)
        return c;
    return (name.len > t->id_len) - (name.len < t->id_len);
}

/* The index of the first tenant not before name; *found when it is name. */
static uint32_t lower_bound(const tenant_set *s, rp_str name, bool *found) {
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (name_cmp(name, s->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->n && name_cmp(name, s->v[lo]) == 0;
    return lo;
}

/* A new, empty tenant `name` of a, inserted at index `at` of its set. */
static account *tenant_new(rp_engine *e, account *a, rp_str name, uint32_t at) {
    rp_acct_table *tb = &e->accounts;
    tenant_set *s = a->tenants;
    if (!s) {
        s = rp_acct_alloc(tb, sizeof(*s));
        if (!s)
            return NULL;
        memset(s, 0, sizeof(*s));
        a->tenants = s;
    }
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 4;
        account **v = rp_acct_realloc(tb, s->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    account *t = rp_acct_alloc(tb, sizeof(account) + name.len + 1);
    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    t->pruned_hour = INT32_MIN;
    t->kind = ENTITY_TENANT;
    t->parent = a;
    t->last_applied = e->clock;
    t->id_len = (uint16_t)name.len;
    memcpy(t->id, name.ptr, name.len);
    t->id[name.len] = '\0';
    memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
    s->v[at] = t;
    s->n++;
    e->n_tenants++;
    return t;
}

/* Frees a shell that nothing points at any more. */
static void shell_release(rp_engine *e, account *t) {
    if (t->kind == ENTITY_GONE && !t->dirty && t->heap_refs == 0)
        rp_acct_free(&e->accounts, t);
}

/* Takes tenant i off a's set and empties it into a shell; the caller
 * lists it for its tombstone or releases it. */
static account *take_out(rp_engine *e, account *a, uint32_t i) {
    tenant_set *s = a->tenants;
    account *t = s->v[i];
    memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
    s->n--;
    e->n_tenants--;
    rp_review_status_set(e, t, RP_ASTATUS_HEALTHY);
    rp_acct_clear(&e->accounts, t);
    t->kind = ENTITY_GONE;
    if (s->n == 0 && !s->overflowed) {
        rp_acct_free(&e->accounts, s->v);
        rp_acct_free(&e->accounts, s);
        a->tenants = NULL;
    }
    return t;
}

/* Forgets tenant i of a: its tombstone goes to the changelog. */
static int forget(rp_engine *e, account *a, uint32_t i) {
    account *t = take_out(e, a, i);
    e->stats.tenants_forgotten++;
    int rc = rp_state_mark_dirty(e, t);
    if (rc != 0)
        shell_release(e, t);
    return rc;
}

/* Forgets the idle tenants of a. */
static int sweep_account(rp_engine *e, account *a) {
    for (uint32_t i = a->tenants ? a->tenants->n : 0; i-- > 0;)
        if (rp_tenant_idle(e, a->tenants->v[i])) {
            int rc = forget(e, a, i);
            if (rc != 0)
                return rc;
        }
    return 0;
}

/* ------------------------------------------------------------ records */

void rp_tenant_clear(rp_engine *e, account *t) {
    rp_review_status_set(e, t, RP_ASTATUS_HEALTHY);
    rp_acct_clear(&e->accounts, t);
    t->last_applied = e->clock;
}

account *rp_tenant_find(const rp_engine *e, const account *a, rp_str name) {
    if (!a->tenants || !name.ptr)
        return NULL;
    bool found;
    uint32_t i = lower_bound(a->tenants, name, &found);
    if (!found || rp_tenant_idle(e, a->tenants->v[i]))
        return NULL;
    return a->tenants->v[i];
}

/* Counts a record naming a tenant beyond the limit; the sink hears of the
 * account's first. */
static void overflow(rp_engine *e, account *a, rp_str name,
                     const rp_engine_sink *sink) {
    e->stats.tenant_overflows++;
    if (a->tenants->overflowed)
        return;
    a->tenants->overflowed = true;
    if (sink && sink->on_tenant_overflow)
        sink->on_tenant_overflow(sink->opaque, rp_acct_id(a), name);
}

account *rp_tenant_get(rp_engine *e, account *a, rp_str name,
                       const rp_engine_sink *sink, int *rc) {
    *rc = 0;
    bool found = false;
    uint32_t i = a->tenants ? lower_bound(a->tenants, name, &found) : 0;
    if (found) {
        account *t = a->tenants->v[i];
        if (rp_tenant_idle(e, t)) {
            /* Forgotten in all but memory: it starts afresh. */
            e->stats.tenants_forgotten++;
            rp_tenant_clear(e, t);
        }
        return t;
    }
    if (a->tenants && a->tenants->n >= e->tenant_max) {
        *rc = sweep_account(e, a);
        if (*rc != 0)
            return NULL;
        if (a->tenants && a->tenants->n >= e->tenant_max) {
            overflow(e, a, name, sink);
            return NULL;
        }
        i = a->tenants ? lower_bound(a->tenants, name, &found) : 0;
    }
    account *t = tenant_new(e, a, name, i);
    if (!t)
        *rc = RP_ENOMEM;
    return t;
}

int rp_tenant_sweep_due(rp_engine *e) {
    if (e->n_tenants == 0 || e->clock < e->next_sweep)
        return 0;
    e->next_sweep = e->clock + e->tenant_idle / 8;
    const rp_acct_table *tb = &e->accounts;
    for (size_t i = 0; tb->slots && i <= tb->mask; i++) {
        account *a = tb->slots[i].acct;
        if (a && a->tenants) {
            int rc = sweep_account(e, a);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

void rp_tenant_heap_unref(rp_engine *e, account *a) {
    if (a->kind == ENTITY_ACCOUNT)
        return;
    a->heap_refs--;
    shell_release(e, a);
}

/* ------------------------------------------------------------ changelog */

rp_str rp_tenant_key(rp_engine *e, const account *t) {
    const account *a = t->parent;
    char *k = e->tenant_key;
    memcpy(k, a->id, a->id_len);
    k[a->id_len] = '\xff';
    memcpy(k + a->id_len + 1, t->id, t->id_len);
    rp_str s = {k, (size_t)a->id_len + 1 + t->id_len};
    return s;
}

account *rp_tenant_restore_target(rp_engine *e, rp_str key, bool tombstone,
                                  int *rc) {
    *rc = RP_EBADDATA;
    const char *sep = memchr(key.ptr, '\xff', key.len);
    if (!sep)
        return NULL;
    rp_str acct = {key.ptr, (size_t)(sep - key.ptr)};
    rp_str name = {sep + 1, key.len - acct.len - 1};
    if (acct.len == 0 || acct.len > RP_ACCOUNT_ID_MAX || name.len == 0 ||
        name.len > RP_TENANT_MAX || memchr(name.ptr, '\xff', name.len))
        return NULL;
    *rc = RP_ENOMEM;
    account *a = rp_acct_get(&e->accounts, acct);
    if (!a)
        return NULL;
    *rc = 0;
    bool found = false;
    uint32_t i = a->tenants ? lower_bound(a->tenants, name, &found) : 0;
    if (tombstone) {
        if (found)
            shell_release(e, take_out(e, a, i));
        return NULL;
    }
    if (found)
        return a->tenants->v[i];
    account *t = tenant_new(e, a, name, i); /* a restore ignores the limit */
    if (!t)
        *rc = RP_ENOMEM;
    return t;
}

void rp_tenant_free_shells(rp_engine *e) {
    for (size_t i = 0; i < e->n_dirty; i++) {
        account *t = e->dirty[i];
        if (t->kind == ENTITY_GONE) {
            t->dirty = 0;
            shell_release(e, t);
        }
    }
    e->n_dirty = 0;
    for (size_t i = 0; i < e->heap.n; i++) {
        account *t = e->heap.entries[i].acct;
        if (t->kind != ENTITY_ACCOUNT)
            rp_tenant_heap_unref(e, t);
    }
    e->heap.n = 0;
}
