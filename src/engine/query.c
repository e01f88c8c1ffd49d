/*
 * query.c - the read side of the engine: views of accounts and tenants,
 * the lists the HTTP API walks, the hourly counts, the stats.
 *
 * Nothing here changes the engine's rules state (the one exception, the
 * next review end, drops stale heap entries that nothing would ever use).
 * Windows and report counts in a view are computed at the clock, exactly
 * as a rule would see them, so what the API shows is what the next record
 * would be judged by.
 */
#include <stdlib.h>

#include "engine/engine_int.h"
#include "engine/history.h"

/* The view of an account or a tenant a. */
static void view_of(const rp_engine *e, const account *a,
                    rp_account_view *out) {
    const account *root = a->kind == ENTITY_ACCOUNT ? a : a->parent;
    memset(out, 0, sizeof(*out));
    out->account_id = rp_acct_id(root);
    out->status = rp_review_status_of(e, a);
    out->sequence = root->sequence;
    out->manual_review = root->ext && root->ext->manual_review;
    if (a == root) {
        out->n_links = a->ext ? a->ext->n_links : 0;
        out->links = a->ext ? (const char *const *)a->ext->links : NULL;
        out->n_tenants = rp_tenant_count(e, a);
    } else {
        out->tenant = rp_acct_id(a);
    }
    /* Windows and report counts are computed at the clock; an engine that
     * was restored but has not been advanced has none, and shows them
     * empty (rate unknown) rather than computed at the dawn of time. */
    bool clocked = e->clock != INT64_MIN;
    if (clocked) {
        rates r;
        rp_review_rates(e, a, &r);
        out->bounce = r.m[0];
        out->complaint = r.m[1];
    }
    out->bounce.status = rp_acct_issue(a, RP_ISSUE_BOUNCE_RATE)->status;
    out->complaint.status = rp_acct_issue(a, RP_ISSUE_COMPLAINT_RATE)->status;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        rp_publish_issue_state(rp_acct_issue(a, k), k, &out->issues[k]);
        int64_t n = clocked ? rp_review_report_count(e, a, k) : 0;
        out->report_count[k] = n > INT32_MAX ? INT32_MAX : (int32_t)n;
    }
}

static account *find_account(const rp_engine *e, rp_str id) {
    if (!id.ptr)
        return NULL;
    return rp_acct_find(&e->accounts, id, rp_hash_bytes(id.ptr, id.len, 0));
}

int rp_engine_view(const rp_engine *e, rp_str id, rp_account_view *out) {
    account *a = find_account(e, id);
    if (!a)
        return RP_ENOTFOUND;
    view_of(e, a, out);
    return 0;
}

int rp_engine_view_tenant(const rp_engine *e, rp_str account_id, rp_str tenant,
                          rp_account_view *out) {
    account *a = find_account(e, account_id);
    account *t = a ? rp_tenant_find(e, a, tenant) : NULL;
    if (!t)
        return RP_ENOTFOUND;
    view_of(e, t, out);
    return 0;
}

/* Hands fn the view of a; 0 to go on, or fn's non-zero answer. */
static int visit(const rp_engine *e, const account *a, rp_engine_account_fn fn,
                 void *opaque) {
    rp_account_view v;
    view_of(e, a, &v);
    return fn(opaque, &v);
}

int rp_engine_foreach_tenant(const rp_engine *e, rp_str account_id,
                             rp_engine_account_fn fn, void *opaque) {
    account *a = find_account(e, account_id);
    if (!a)
        return RP_ENOTFOUND;
    account **v;
    size_t n = rp_tenant_sorted(e, a, &v);
    if (!v && a->tenants && a->tenants->n)
        return RP_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = visit(e, v[i], fn, opaque);
    free(v);
    return rc;
}

int rp_engine_foreach(const rp_engine *e, rp_engine_account_fn fn,
                      void *opaque) {
    const rp_acct_table *t = &e->accounts;
    if (!t->slots)
        return 0;
    for (size_t i = 0; i <= t->mask; i++) {
        if (!t->slots[i].acct)
            continue;
        int rc = visit(e, t->slots[i].acct, fn, opaque);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int rp_engine_foreach_flagged(const rp_engine *e, rp_engine_account_fn fn,
                              void *opaque) {
    for (const account *a = e->flagged; a; a = a->ext->fl_next) {
        int rc = visit(e, a, fn, opaque);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void rp_engine_status_counts(const rp_engine *e,
                             uint64_t out[RP_ASTATUS__COUNT]) {
    uint64_t flagged = 0;
    for (int i = 0; i < RP_ASTATUS__COUNT; i++) {
        out[i] = e->n_status[i];
        flagged += e->n_status[i];
    }
    out[RP_ASTATUS_HEALTHY] = e->accounts.n_accounts - flagged;
}

void rp_engine_tenant_status_counts(const rp_engine *e,
                                    uint64_t out[RP_ASTATUS__COUNT]) {
    uint64_t flagged = 0;
    for (int i = 0; i < RP_ASTATUS__COUNT; i++) {
        out[i] = e->n_tenant_status[i];
        flagged += e->n_tenant_status[i];
    }
    out[RP_ASTATUS_HEALTHY] = e->n_tenants - flagged;
}

static int hours_of(const account *a, int64_t from, int64_t to,
                    rp_engine_hour_fn fn, void *opaque) {
    for (uint32_t i = 0; i < a->n_buckets; i++) {
        const bucket *b = &a->buckets[i];
        int64_t start = (int64_t)b->hour * 3600000;
        if (start + 3600000 <= from || start >= to)
            continue;
        rp_hour_counts h = {start, b->sends, b->hard, b->deliveries,
                            b->complaints};
        int rc = fn(opaque, &h);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int rp_engine_hours(const rp_engine *e, rp_str account_id, int64_t from,
                    int64_t to, rp_engine_hour_fn fn, void *opaque) {
    account *a = find_account(e, account_id);
    if (!a)
        return RP_ENOTFOUND;
    return hours_of(a, from, to, fn, opaque);
}

int rp_engine_tenant_hours(const rp_engine *e, rp_str account_id, rp_str tenant,
                           int64_t from, int64_t to, rp_engine_hour_fn fn,
                           void *opaque) {
    account *a = find_account(e, account_id);
    account *t = a ? rp_tenant_find(e, a, tenant) : NULL;
    if (!t)
        return RP_ENOTFOUND;
    return hours_of(t, from, to, fn, opaque);
}

int rp_engine_history(const rp_engine *e, rp_str account_id, rp_str tenant,
                      rp_engine_history_fn fn, void *opaque) {
    account *a = find_account(e, account_id);
    if (a && tenant.ptr)
        a = rp_tenant_find(e, a, tenant);
    if (!a)
        return RP_ENOTFOUND;
    return a->ext ? rp_history_walk(a->ext->hist, fn, opaque) : 0;
}

int64_t rp_engine_clock(const rp_engine *e) {
    return e->clock;
}

int64_t rp_engine_next_review_end(rp_engine *e) {
    /* Stale entries (a review end that moved or ended) surface here first;
     * dropping them keeps the answer exact for timers and tests. */
    while (e->heap.n > 0 && !rp_rheap_live(&e->heap.entries[0]))
        rp_tenant_heap_unref(e, rp_rheap_pop(&e->heap).acct);
    return e->heap.n ? e->heap.entries[0].at : INT64_MAX;
}

void rp_engine_get_stats(const rp_engine *e, rp_engine_stats *out) {
    *out = e->stats;
    out->accounts = e->accounts.n_accounts;
    out->account_bytes = (uint64_t)e->accounts.bytes;
    out->dedupe_entries = e->dedupe.count;
    out->dedupe_bytes = rp_dedupe_bytes(&e->dedupe);
    out->dedupe_evicted = e->dedupe.evicted;
    out->tenants = e->n_tenants;
}

void rp_engine_stats_add(rp_engine_stats *to, const rp_engine_stats *from) {
    to->records_applied += from->records_applied;
    to->duplicates_dropped += from->duplicates_dropped;
    to->actions_not_applied += from->actions_not_applied;
    to->status_changes += from->status_changes;
    to->notifications += from->notifications;
    to->related_reports += from->related_reports;
    to->accounts += from->accounts;
    to->account_bytes += from->account_bytes;
    to->dedupe_entries += from->dedupe_entries;
    to->dedupe_bytes += from->dedupe_bytes;
    to->dedupe_evicted += from->dedupe_evicted;
    to->tenants += from->tenants;
    to->tenant_overflows += from->tenant_overflows;
    to->tenants_forgotten += from->tenants_forgotten;
}
