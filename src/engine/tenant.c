/*
 * tenant.c - the tenants of accounts (docs/rules.md section 10): finding
 * them, the limit per account, forgetting the idle ones, and their keys in
 * the changelog.
 *
 * A tenant is an `account` struct of kind ENTITY_TENANT with a pointer to
 * its account, so that every rule of review.c, actions.c and window.c
 * works on it unchanged; it is not in the account table. An account finds
 * its tenants in a small hash table of its own (tenant_set, account.h):
 * a record finds its tenant in a probe or two, and the views sort the
 * names when they are asked (the review-end heap compares names itself).
 * An account without tenants pays a NULL pointer and nothing else.
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
 * it (heap_refs counts them; a count that reached its maximum pins the
 * shell until the engine goes). Without flushes (`repute replay`, the
 * benchmark) shells stay on the dirty list like every other changed
 * entity; they hold no buckets or issues.
 *
 * Ownership: tenants, their sets and shells are allocated through the
 * account table (counted in its bytes) and freed by the engine.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

/* ------------------------------------------------------------ the set */

#define TENANT_SEED UINT64_C(0x7e4a47d3c1b5f00d)

static uint64_t name_hash(rp_str name) {
    return rp_hash_bytes(name.ptr, name.len, TENANT_SEED);
}

static bool name_is(const account *t, rp_str name) {
    return t->id_len == name.len && memcmp(t->id, name.ptr, name.len) == 0;
}

/* The slot of `name` (hash h) in s, or UINT32_MAX. */
static uint32_t slot_of(const tenant_set *s, rp_str name, uint64_t h) {
    if (!s->slots)
        return UINT32_MAX;
    for (uint32_t i = (uint32_t)h & s->mask; s->slots[i].t;
         i = (i + 1) & s->mask)
        if (s->slots[i].hash == h && name_is(s->slots[i].t, name))
            return i;
    return UINT32_MAX;
}

static void slot_put(tenant_slot *slots, uint32_t mask, uint64_t h,
                     account *t) {
    uint32_t i = (uint32_t)h & mask;
    while (slots[i].t)
        i = (i + 1) & mask;
    slots[i].hash = h;
    slots[i].t = t;
}

/* Room for one more tenant in a's set (allocated with the first). */
static int set_reserve(rp_engine *e, account *a) {
    rp_acct_table *tb = &e->accounts;
    tenant_set *s = a->tenants;
    if (!s) {
        s = rp_acct_alloc(tb, sizeof(*s));
        if (!s)
            return RP_ENOMEM;
        memset(s, 0, sizeof(*s));
        a->tenants = s;
    }
    if (s->slots && (s->n + 1) * 4 <= (s->mask + 1) * 3)
        return 0;
    uint32_t cap = s->slots ? (s->mask + 1) * 2 : 4;
    tenant_slot *slots = rp_acct_alloc(tb, cap * sizeof(*slots));
    if (!slots)
        return RP_ENOMEM;
    memset(slots, 0, cap * sizeof(*slots));
    for (uint32_t i = 0; s->slots && i <= s->mask; i++)
        if (s->slots[i].t)
            slot_put(slots, cap - 1, s->slots[i].hash, s->slots[i].t);
    rp_acct_free(tb, s->slots);
    s->slots = slots;
    s->mask = cap - 1;
    return 0;
}

/* Empties slot i, moving back the entries of its probe run that would no
 * longer be found (backward-shift deletion: no tombstones). */
static void slot_remove(tenant_set *s, uint32_t i) {
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        if (!s->slots[j].t)
            break;
        uint32_t k = (uint32_t)s->slots[j].hash & s->mask;
        /* The entry at j stays unless its home k lies cyclically outside
         * (i, j]: then the hole at i is on its probe path. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].t = NULL;
    s->n--;
}

/* A new, empty tenant `name` (hash h) of a. */
static account *tenant_new(rp_engine *e, account *a, rp_str name, uint64_t h) {
    if (set_reserve(e, a) != 0)
        return NULL;
    account *t = rp_acct_alloc(&e->accounts, sizeof(account) + name.len + 1);
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
    slot_put(a->tenants->slots, a->tenants->mask, h, t);
    a->tenants->n++;
    e->n_tenants++;
    return t;
}

/* Frees a shell that nothing points at any more. */
static void shell_release(rp_engine *e, account *t) {
    if (t->kind == ENTITY_GONE && !t->dirty && t->heap_refs == 0)
        rp_acct_free(&e->accounts, t);
}

/* Takes the tenant of slot i off a's set and empties it into a shell; the
 * caller lists it for its tombstone or releases it. */
static account *take_out(rp_engine *e, account *a, uint32_t i) {
    tenant_set *s = a->tenants;
    account *t = s->slots[i].t;
    slot_remove(s, i);
    e->n_tenants--;
    rp_review_status_set(e, t, RP_ASTATUS_HEALTHY);
    rp_acct_clear(&e->accounts, t);
    t->kind = ENTITY_GONE;
    if (s->n == 0 && !s->overflowed) {
        rp_acct_free(&e->accounts, s->slots);
        rp_acct_free(&e->accounts, s);
        a->tenants = NULL;
    }
    return t;
}

/* Forgets the tenant of slot i of a: its tombstone goes to the changelog. */
static int forget(rp_engine *e, account *a, uint32_t i) {
    account *t = take_out(e, a, i);
    e->stats.tenants_forgotten++;
    int rc = rp_state_mark_dirty(e, t);
    if (rc != 0)
        shell_release(e, t);
    return rc;
}

/* Forgets the idle tenants of a. A removal can move a later entry into
 * the slot just emptied, so that slot is looked at again. */
static int sweep_account(rp_engine *e, account *a) {
    for (uint32_t i = 0;
         a->tenants && a->tenants->slots && i <= a->tenants->mask;) {
        account *t = a->tenants->slots[i].t;
        if (t && rp_tenant_idle(e, t)) {
            int rc = forget(e, a, i);
            if (rc != 0)
                return rc;
            continue;
        }
        i++;
    }
    return 0;
}

static int by_name(const void *x, const void *y) {
    const account *a = *(account *const *)x, *b = *(account *const *)y;
    size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
    int c = memcmp(a->id, b->id, n);
    if (c != 0)
        return c;
    return (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

size_t rp_tenant_sorted(const rp_engine *e, const account *a, account ***out) {
    *out = NULL;
    const tenant_set *s = a->tenants;
    if (!s || !s->slots || s->n == 0)
        return 0;
    account **v = malloc(s->n * sizeof(*v));
    if (!v)
        return 0;
    size_t n = 0;
    for (uint32_t i = 0; i <= s->mask; i++)
        if (s->slots[i].t && !rp_tenant_idle(e, s->slots[i].t))
            v[n++] = s->slots[i].t;
    qsort(v, n, sizeof(*v), by_name);
    *out = v;
    return n;
}

size_t rp_tenant_count(const rp_engine *e, const account *a) {
    size_t n = 0;
    for (uint32_t i = 0;
         a->tenants && a->tenants->slots && i <= a->tenants->mask; i++)
        n += a->tenants->slots[i].t &&
             !rp_tenant_idle(e, a->tenants->slots[i].t);
    return n;
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
    uint32_t i = slot_of(a->tenants, name, name_hash(name));
    if (i == UINT32_MAX || rp_tenant_idle(e, a->tenants->slots[i].t))
        return NULL;
    return a->tenants->slots[i].t;
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
    uint64_t h = name_hash(name);
    uint32_t i = a->tenants ? slot_of(a->tenants, name, h) : UINT32_MAX;
    if (i != UINT32_MAX) {
        account *t = a->tenants->slots[i].t;
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
    }
    account *t = tenant_new(e, a, name, h);
    if (!t)
        *rc = RP_ENOMEM;
    return t;
}

int rp_tenant_sweep_due(rp_engine *e) {
    if (e->n_tenants == 0 || e->clock < e->next_sweep)
        return 0;
    int64_t step = e->tenant_idle / 8 > HOUR ? e->tenant_idle / 8 : HOUR;
    e->next_sweep = e->clock > INT64_MAX - step ? INT64_MAX : e->clock + step;
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
    if (a->kind == ENTITY_ACCOUNT || a->heap_refs == UINT16_MAX)
        return; /* an account, or a count that stuck: never freed early */
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
    uint64_t h = name_hash(name);
    uint32_t i = a->tenants ? slot_of(a->tenants, name, h) : UINT32_MAX;
    if (tombstone) {
        if (i != UINT32_MAX)
            shell_release(e, take_out(e, a, i));
        return NULL;
    }
    if (i != UINT32_MAX)
        return a->tenants->slots[i].t;
    account *t = tenant_new(e, a, name, h); /* a restore ignores the limit */
    if (!t)
        *rc = RP_ENOMEM;
    return t;
}

/* A shell's mark while the engine is destroyed (a shell's status is
 * otherwise always HEALTHY). */
#define SHELL_MARK 0xff

void rp_tenant_free_shells(rp_engine *e) {
    /* The shells the heap points at, each once (some are also on the
     * dirty list), then those only the dirty list holds. */
    account **v = NULL;
    size_t n = 0;
    for (size_t i = 0; i < e->heap.n; i++) {
        account *t = e->heap.entries[i].acct;
        if (t->kind != ENTITY_GONE || t->status == SHELL_MARK)
            continue;
        account **w = realloc(v, (n + 1) * sizeof(*v));
        if (!w)
            break; /* out of memory at the end: leave them */
        v = w;
        v[n++] = t;
        t->status = SHELL_MARK;
    }
    for (size_t i = 0; i < e->n_dirty; i++) {
        account *t = e->dirty[i];
        if (t->kind == ENTITY_GONE && t->status != SHELL_MARK)
            rp_acct_free(&e->accounts, t);
    }
    for (size_t i = 0; i < n; i++)
        rp_acct_free(&e->accounts, v[i]);
    free(v);
    e->n_dirty = 0;
    e->heap.n = 0;
}
