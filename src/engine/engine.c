/*
 * engine.c - the reputation engine: records in, the clock, the life cycle.
 *
 * Design
 * ------
 * The engine is a function from (state, record, time) to (state, output
 * events). It reads no clock and does no I/O; everything it publishes goes
 * through the caller's sink, synchronously and in order, so a replay of the
 * same input is byte-for-byte the same.
 *
 * This file is the engine's front door. A record first moves the clock
 * (rp_engine_advance), which processes every review end that is due, in
 * the order of the review-end heap; then it is checked against the dedupe
 * table, counted into its account's buckets or applied as a report or an
 * action, and the rate issues are evaluated on the fresh windows. Around
 * each record or review end, publish.c notes the account's issues before
 * and publishes the difference after. RELATED_ACCOUNT reports that the
 * engine applies itself (loopback mode) wait until every review end of the
 * current instant is done, and are then applied in order.
 *
 * The engine's data structures and the rest of its rules live beside this
 * file (engine_int.h lists them). An outcome record, by far the most
 * common, stays within this file and the inline helpers of the private
 * headers, apart from three calls: the dedupe check, the windows and the
 * rate evaluation; reports, actions and publishing are rarer.
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_int.h"
#include "engine/history.h"

/* ------------------------------------------------------------ lifetime */

/* The tenant settings (docs/rules.md section 10). A tenant rate of 0 and
 * a limit of 0 mean "unset": the configuration module resolves an unset
 * tenant rate to the account's and the limit to its default 1000, but a
 * configuration made before those keys existed (or zeroed by a caller)
 * leaves them 0, and a rate of 0 would put every tenant with a known
 * rate under review. The fallback is harmless once the keys are
 * resolved, since a configured rate is never 0 (a rate of 0 is refused). */
static void tenant_settings(rp_engine *e) {
    rp_config *c = &e->cfg;
    if (c->tenant_bounce_review_rate <= 0)
        c->tenant_bounce_review_rate = c->bounce_review_rate;
    if (c->tenant_bounce_pause_rate <= 0)
        c->tenant_bounce_pause_rate = c->bounce_pause_rate;
    if (c->tenant_complaint_review_rate <= 0)
        c->tenant_complaint_review_rate = c->complaint_review_rate;
    if (c->tenant_complaint_pause_rate <= 0)
        c->tenant_complaint_pause_rate = c->complaint_pause_rate;
    e->tenant_max = c->tenant_max_per_account > 0
                        ? (uint32_t)c->tenant_max_per_account
                        : 1000;
    /* A HEALTHY tenant idle this long holds nothing a rule can see: its
     * buckets are beyond every window, its reports beyond the report
     * window (tenant.c). */
    e->tenant_idle = c->window_max_span > c->report_window ? c->window_max_span
                                                           : c->report_window;
    if (e->tenant_idle < 0)
        e->tenant_idle = 0;
    e->next_sweep = INT64_MIN;
}

rp_engine *rp_engine_new(const rp_config *cfg, char *errstr,
                         size_t errstr_size) {
    rp_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    /* The engine keeps only numbers; owned strings stay with the caller. */
    memset(e->cfg.topic, 0, sizeof(e->cfg.topic));
    e->cfg.group_id = e->cfg.log_level = e->cfg.http_listen = NULL;
    e->cfg.kafka = NULL;
    e->cfg.n_kafka = 0;
    e->clock = INT64_MIN;
    tenant_settings(e);
    e->history_max = cfg->history_max_entries <= 0 ? 0
                     : cfg->history_max_entries > RP_HISTORY_MAX_ENTRIES
                         ? RP_HISTORY_MAX_ENTRIES
                         : (uint32_t)cfg->history_max_entries;
    rp_dedupe_init(&e->dedupe, (size_t)cfg->dedupe_max_entries,
                   cfg->dedupe_horizon);
    return e;
}

static void pending_free(rp_pending_report *q) {
    free(q->account);
    free(q->event_id);
    free(q->related);
}

void rp_engine_destroy(rp_engine *e) {
    if (!e)
        return;
    rp_tenant_free_shells(e);
    rp_acct_table_free(&e->accounts);
    rp_rheap_free(&e->heap);
    free(e->dirty);
    free(e->dlog);
    free(e->dlog_out);
    for (size_t i = e->pending_head; i < e->n_pending; i++)
        pending_free(&e->pending[i]);
    free(e->pending);
    rp_buf_free(&e->state);
    free(e->cur_tenants);
    free(e->cur_sorted);
    rp_dedupe_free(&e->dedupe);
    free(e);
}

void rp_engine_set_loopback(rp_engine *e, bool on) {
    e->loopback = on;
}

void rp_engine_prefetch(const rp_engine *e, rp_str id, int stage) {
    const rp_acct_table *t = &e->accounts;
    if (!t->slots || !id.ptr)
        return;
    uint64_t h = rp_hash_bytes(id.ptr, id.len, 0);
    size_t i = (size_t)h & t->mask;
    if (stage == 0) {
        __builtin_prefetch(&t->slots[i]);
        return;
    }
    /* Follow the probe run a little; the slot should be cached by now. */
    for (int n = 0; n < 4 && t->slots[i].acct; n++, i = (i + 1) & t->mask) {
        if (t->slots[i].hash == h) {
            const account *a = t->slots[i].acct;
            if (stage == 1) {
                __builtin_prefetch(a);
                __builtin_prefetch((const char *)a + 64);
            } else if (a->n_buckets) {
                /* Stage 2: the account is cached; its newest bucket. */
                __builtin_prefetch(&a->buckets[a->n_buckets - 1]);
            }
            return;
        }
    }
}

/* ------------------------------------------------------------ dedupe log */

static int dedupe_log_add(rp_engine *e, uint64_t fp) {
    if (e->n_dlog == e->cap_dlog) {
        size_t cap = e->cap_dlog ? e->cap_dlog * 2 : 256;
        rp_dedupe_key *k = realloc(e->dlog, cap * sizeof(*k));
        if (!k)
            return RP_ENOMEM;
        e->dlog = k;
        e->cap_dlog = cap;
    }
    e->dlog[e->n_dlog].fp = fp;
    e->dlog[e->n_dlog].at = e->clock;
    e->n_dlog++;
    return 0;
}

void rp_engine_set_dedupe_log(rp_engine *e, bool on) {
    e->dedupe_log = on;
}

size_t rp_engine_dedupe_take(rp_engine *e, const rp_dedupe_key **keys) {
    /* Hand over the filled list and keep the other one for new keys, so
     * the caller's pointer stays valid while the engine goes on. */
    rp_dedupe_key *out = e->dlog;
    size_t n = e->n_dlog;
    e->dlog = e->dlog_out;
    e->dlog_out = out;
    size_t cap = e->cap_dlog;
    e->cap_dlog = e->dlog ? e->cap_dlog_out : 0;
    e->cap_dlog_out = cap;
    e->n_dlog = 0;
    *keys = out;
    return n;
}

int rp_engine_dedupe_restore(rp_engine *e, const rp_dedupe_key *keys,
                             size_t n) {
    for (size_t i = 0; i < n; i++)
        if (rp_dedupe_insert(&e->dedupe, keys[i].fp, keys[i].at) != 0)
            return RP_ENOMEM;
    return 0;
}

/* ------------------------------------------------------------ counting */

static int64_t attribution_time(const rp_engine *e, bool has_sent, int64_t sent,
                                int64_t event_time) {
    int64_t t = has_sent ? sent : event_time;
    int64_t lo =
        rp_bucket_oldest_reachable(e->clock, e->cfg.window_max_span) * HOUR;
    if (t < lo)
        t = lo;
    if (t > e->clock)
        t = e->clock;
    return t;
}

/* Counts a DELIVERY, BOUNCE or COMPLAINT in its hour (docs/rules.md section 3).
 */
static int count_outcome(rp_engine *e, account *a, const rp_record *rec) {
    uint32_t sends = 0, hard = 0, deliveries = 0, complaints = 0;
    bool has_sent;
    int64_t sent;
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        const rp_delivery *d = &rec->u.delivery;
        has_sent = d->has_sent_time;
        sent = d->sent_time;
        sends = !d->simulator && !d->verified_recipient;
        deliveries = !d->simulator && d->feedback_loop;
        break;
    }
    case RP_REC_BOUNCE: {
        const rp_bounce *b = &rec->u.bounce;
        has_sent = b->has_sent_time;
        sent = b->sent_time;
        sends = !b->simulator && !b->verified_recipient;
        hard = sends && b->bounce_type == RP_BOUNCE_PERMANENT &&
               b->bounce_subtype != RP_BSUB_ON_ACCOUNT_SUPPRESSION_LIST;
        break;
    }
    case RP_REC_COMPLAINT: {
        const rp_complaint *c = &rec->u.complaint;
        has_sent = c->has_sent_time;
        sent = c->sent_time;
        complaints = !c->simulator && !c->on_suppression_list &&
                     c->feedback_type != RP_FEEDBACK_NOT_SPAM;
        break;
    }
    default: return 0;
    }
    if (!(sends | hard | deliveries | complaints))
        return 0;
    int64_t t = attribution_time(e, has_sent, sent, rec->event_time);
    bucket *b = rp_bucket_get(&e->accounts, a, rp_bucket_hour_floor(t));
    if (!b)
        return RP_ENOMEM;
    rp_bucket_add(a, b, sends, hard, deliveries, complaints);
    return 0;
}

/* ------------------------------------------------------------ records */

/* What a record does to one entity (an account or a tenant): a report
 * or an action, or an outcome counted; then its rates are evaluated and
 * its changes published (docs/rules.md section 5). `own` is false for the
 * account of a report or an action that names a tenant: it is the
 * tenant's alone (docs/rules.md section 10), and the account only has its
 * rates evaluated. */
static int apply_to(rp_engine *e, account *a, const rp_record *rec, bool own,
                    const rp_engine_sink *sink) {
    int rc = 0;
    rp_bucket_prune(a, e->clock, e->cfg.window_max_span);
    change ch;
    rp_publish_begin(a, &ch);
    switch (rec->type) {
    case RP_REC_REPORT:
        if (own)
            rc = rp_review_report(e, a, &ch, &rec->u.report, rec->event_time);
        break;
    case RP_REC_ACTION:
        if (own)
            rc = rp_actions_apply(e, a, &ch, &rec->u.action, rec->event_time);
        break;
    default: rc = count_outcome(e, a, rec); break;
    }
    if (rc != 0)
        return rc;
    rates r;
    rp_review_rates(e, a, &r);
    rc = rp_review_evaluate_rates(e, a, &ch, &r);
    if (rc != 0)
        return rc;
    if (a->ext) /* else all HEALTHY before and after: nothing to publish */
        rp_publish_change(e, a, &ch, sink);
    return rp_state_mark_dirty(e, a);
}

/* The tenant part of a record (docs/rules.md section 10): after its
 * account, the tenant it names, unless the account holds too many; `own`
 * is false for an account-level action, which the tenant does not take
 * (its rates are still evaluated: the record named it). */
static int apply_tenant(rp_engine *e, account *a, const rp_record *rec,
                        bool own, const rp_engine_sink *sink) {
    int rc;
    account *t = rp_tenant_get(e, a, rec->tenant, sink, &rc);
    if (!t) {
        /* Beyond the limit (or ENOMEM): a report or an action naming it
         * applies to nothing. */
        if (rc == 0 && own && rec->type == RP_REC_ACTION)
            e->stats.actions_not_applied++;
        return rc;
    }
    t->last_applied = e->clock;
    rc = apply_to(e, t, rec, own, sink);
    /* Its events took the account's sequence, which the account's
     * changelog record carries. */
    return rc == 0 ? rp_state_mark_dirty(e, a) : rc;
}

static int apply_at_clock(rp_engine *e, const rp_record *rec,
                          const rp_engine_sink *sink) {
    int rc;
    uint64_t h = rp_acct_hash(rec->account_id);
    account *a = rp_acct_get_h(&e->accounts, rec->account_id, h);
    if (!a)
        return RP_ENOMEM;
    uint64_t fp = rp_hash_bytes(rec->event_id.ptr, rec->event_id.len,
                                h ^ UINT64_C(0x5bd1e9955bd1e995));
    rc = rp_dedupe_check(&e->dedupe, fp, e->clock);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        e->stats.duplicates_dropped++;
        return 0;
    }
    if (e->dedupe_log && dedupe_log_add(e, fp) != 0)
        return RP_ENOMEM;
    e->stats.records_applied++;
    if (!rec->tenant.ptr)
        return apply_to(e, a, rec, true, sink);
    /* An account-level action naming a tenant applies to neither: the
     * flag and the links belong to accounts (docs/rules.md section 10). */
    bool account_level =
        rec->type == RP_REC_ACTION &&
        (rec->u.action.action == RP_ACTION_SET_MANUAL_REVIEW ||
         rec->u.action.action == RP_ACTION_CLEAR_MANUAL_REVIEW ||
         rec->u.action.action == RP_ACTION_LINK_ACCOUNT ||
         rec->u.action.action == RP_ACTION_UNLINK_ACCOUNT);
    rc = apply_to(e, a, rec, false, sink);
    if (rc != 0)
        return rc;
    if (account_level)
        e->stats.actions_not_applied++;
    return apply_tenant(e, a, rec, !account_level, sink);
}

/* Applies the RELATED_ACCOUNT reports of loopback mode, in order, at the
 * clock; applying one may pause another account and queue more. */
static int drain_pending(rp_engine *e, const rp_engine_sink *sink) {
    int rc = 0;
    while (e->pending_head < e->n_pending) {
        rp_pending_report q = e->pending[e->pending_head++];
        rp_record r;
        rp_record_init(&r, RP_REC_REPORT);
        r.event_id = rp_str_c(q.event_id);
        r.account_id = rp_str_c(q.account);
        r.event_time = q.time;
        r.u.report.kind = RP_ISSUE_RELATED_ACCOUNT;
        r.u.report.incidents = 1;
        r.u.report.related_account_id = rp_str_c(q.related);
        if (rc == 0)
            rc = apply_at_clock(e, &r, sink);
        pending_free(&q);
    }
    e->pending_head = e->n_pending = 0;
    return rc;
}

int rp_engine_apply(rp_engine *e, const rp_record *rec, int64_t now,
                    const rp_engine_sink *sink) {
    int rc = rp_engine_advance(e, now, sink);
    if (rc == 0)
        rc = apply_at_clock(e, rec, sink);
    if (rc == 0 && e->n_pending)
        rc = drain_pending(e, sink);
    return rc;
}

/* ------------------------------------------------------------ clock */

/* Processes the review ends of one account (or tenant) at instant `at`. */
static int review_ends_at(rp_engine *e, account *a, int64_t at,
                          const rp_engine_sink *sink) {
    rp_rheap_entry entry = {at, a};
    if (!rp_rheap_live(&entry))
        return 0;
    rp_bucket_prune(a, e->clock, e->cfg.window_max_span);
    change ch;
    rp_publish_begin(a, &ch);
    if (rp_review_end_all(e, a, &ch, at) != 0)
        return RP_ENOMEM;
    rp_publish_change(e, a, &ch, sink);
    int rc = rp_state_mark_dirty(e, a);
    if (rc == 0 && a->kind != ENTITY_ACCOUNT)
        rc = rp_state_mark_dirty(e, a->parent); /* its sequence moved */
    return rc;
}

int rp_engine_advance(rp_engine *e, int64_t now, const rp_engine_sink *sink) {
    rp_rheap *h = &e->heap;
    while (h->n > 0 && h->entries[0].at <= now) {
        rp_rheap_entry top = rp_rheap_pop(h);
        /* A review end already behind the clock is processed at the clock:
         * the clock never moves backwards. */
        if (top.at > e->clock)
            e->clock = top.at;
        int rc = review_ends_at(e, top.acct, top.at, sink);
        rp_tenant_heap_unref(e, top.acct);
        /* RELATED_ACCOUNT reports produced here are records at this
         * instant: every review end at this instant (of any account) comes
         * before them (docs/rules.md section 5, "Order"). */
        bool instant_done =
            h->n == 0 || h->entries[0].at > top.at || h->entries[0].at > now;
        if (rc == 0 && e->n_pending && instant_done)
            rc = drain_pending(e, sink);
        if (rc != 0)
            return rc;
    }
    if (now > e->clock)
        e->clock = now;
    if (e->n_tenants && e->clock >= e->next_sweep)
        return rp_tenant_sweep_due(e);
    return 0;
}
