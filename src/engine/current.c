/*
 * current.c - the AccountState of an account (topic.current,
 * docs/current.md), from the engine's state: no new state, no I/O.
 *
 * An account's record in topic.current is its whole current state: its
 * own status and issues, and its tenants that are not HEALTHY. It must be
 * rewritten whenever any of that changes, which is exactly when a
 * STATUS_CHANGE of the account or of one of its tenants is published
 * (publish.c publishes one for every change of a status, an issue's
 * status, since or review end). So right after each such event the engine
 * hands its sink the account's state, built from the state it holds
 * rather than from the event: a tenant's event says nothing of the
 * account or of the other tenants. At that moment everything the record
 * shows is settled: a record is applied to the account, which publishes,
 * and then to its tenant, which publishes; a review end touches one
 * entity at a time.
 *
 * The cost. An account without tenants costs what it did when the state
 * was copied from the StatusChange: a walk over its fourteen issues, and
 * only per status change, never per record; and nothing at all unless
 * the sink asks (`repute replay` and the benchmarks do not). An account
 * with tenants adds a walk of its tenant set and a sort of the names of
 * those that are not HEALTHY, into storage the engine keeps and grows to
 * the most tenants an account has held.
 *
 * `repute run --rebuild-current` walks every account and builds the same
 * state (rp_engine_foreach_current), so that a rebuilt record equals the
 * one the last status change wrote, but for sequence (the account's last
 * event at the rebuild, which may be a notification after the status
 * change).
 *
 * `since` is derived, not kept: the earliest since of the account's
 * issues listed (how long the oldest open issue has been open); for a
 * HEALTHY account listed for its tenants, the earliest since of the
 * tenants listed; with nothing listed (it does not happen), the event's
 * time. Keeping "when the status last changed" would need a new field in
 * every account's changelog state; docs/current.md says why this
 * definition was chosen and how to get the other one.
 */
#include <stdlib.h>

#include "engine/engine_int.h"

/* The status, the non-HEALTHY issues, the earliest review end and the
 * earliest since of one entity (account or tenant), as publish.c fills
 * a StatusChange. Returns false when no issue is listed (since unset). */
static bool entity_state(const rp_engine *e, const account *a,
                         rp_account_status *status, rp_issue_state *issues,
                         size_t *n_issues, bool *has_end, int64_t *end,
                         int64_t *since) {
    *status = rp_review_status_of(e, a);
    *since = 0;
    *n_issues = 0;
    *has_end = false;
    *end = 0;
    for (int k = 0; a->ext && k < RP_ISSUE__COUNT; k++) {
        const issue *is = &a->ext->issues[k];
        if (is->status == RP_ISTATUS_HEALTHY)
            continue;
        rp_issue_state *o = &issues[(*n_issues)++];
        rp_publish_issue_state(is, k, o);
        if (*n_issues == 1 || o->since < *since)
            *since = o->since;
        if (rp_acct_in_review(is) && is->review_end != NONE &&
            (!*has_end || is->review_end < *end)) {
            *has_end = true;
            *end = is->review_end;
        }
    }
    return *n_issues > 0;
}

/* Room for n tenants in the engine's storage. */
static int reserve(rp_engine *e, size_t n) {
    if (n <= e->cap_cur)
        return 0;
    size_t cap = e->cap_cur ? e->cap_cur : 8;
    while (cap < n)
        cap *= 2;
    rp_tenant_state *t = realloc(e->cur_tenants, cap * sizeof(*t));
    if (!t)
        return RP_ENOMEM;
    e->cur_tenants = t;
    const account **s = realloc(e->cur_sorted, cap * sizeof(*s));
    if (!s)
        return RP_ENOMEM;
    e->cur_sorted = s;
    e->cap_cur = cap;
    return 0;
}

/* Byte order of names; a name that is a prefix of another comes first. */
static int by_name(const void *x, const void *y) {
    const account *a = *(const account *const *)x;
    const account *b = *(const account *const *)y;
    size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
    int c = memcmp(a->id, b->id, n);
    return c ? c : (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

/* The tenants of a that are not HEALTHY into e->cur_tenants, in name
 * order; their number to *n. Returns 0 or RP_ENOMEM. */
static int flagged_tenants(rp_engine *e, const account *a, size_t *n) {
    const tenant_set *s = a->tenants;
    *n = 0;
    if (!s || !s->slots || s->n == 0)
        return 0;
    if (reserve(e, s->n) != 0)
        return RP_ENOMEM;
    for (uint32_t i = 0; i <= s->mask; i++) {
        const account *t = s->slots[i].t;
        /* A tenant due to be forgotten is HEALTHY: never listed. */
        if (t && t->ext && rp_review_status_of(e, t) != RP_ASTATUS_HEALTHY)
            e->cur_sorted[(*n)++] = t;
    }
    qsort(e->cur_sorted, *n, sizeof(*e->cur_sorted), by_name);
    for (size_t i = 0; i < *n; i++) {
        rp_tenant_state *o = &e->cur_tenants[i];
        o->tenant = rp_acct_id(e->cur_sorted[i]);
        entity_state(e, e->cur_sorted[i], &o->status, o->issues, &o->n_issues,
                     &o->has_review_end, &o->review_ends_at, &o->since);
    }
    return 0;
}

/* The state of account a into e->cur. Returns 0 or RP_ENOMEM. */
static int fill(rp_engine *e, const account *a, uint64_t seq,
                int64_t fallback) {
    rp_account_state *st = &e->cur;
    st->account_id = rp_acct_id(a);
    st->sequence = seq;
    st->tenants_avro = RP_STR_NULL;
    bool listed =
        entity_state(e, a, &st->status, st->issues, &st->n_issues,
                     &st->has_review_end, &st->review_ends_at, &st->since);
    int rc = flagged_tenants(e, a, &st->n_tenants);
    st->tenants = st->n_tenants ? e->cur_tenants : NULL;
    if (rc != 0)
        return rc;
    if (!listed) {
        st->since = fallback;
        for (size_t i = 0; i < st->n_tenants; i++)
            if (i == 0 || e->cur_tenants[i].since < st->since)
                st->since = e->cur_tenants[i].since;
    }
    return 0;
}

void rp_current_publish(rp_engine *e, const account *a, uint64_t seq, int64_t t,
                        const rp_engine_sink *sink) {
    if (!sink || !sink->on_current)
        return;
    int rc = fill(e, a, seq, t);
    sink->on_current(sink->opaque, rc == 0 ? &e->cur : NULL);
}

int rp_engine_foreach_current(rp_engine *e, int64_t now,
                              rp_engine_current_fn fn, void *opaque) {
    const rp_acct_table *t = &e->accounts;
    for (size_t i = 0; t->slots && i <= t->mask; i++) {
        const account *a = t->slots[i].acct;
        if (!a)
            continue;
        int rc = fill(e, a, a->sequence, now);
        if (rc == 0)
            rc = fn(opaque, &e->cur);
        if (rc != 0)
            return rc;
    }
    return 0;
}
