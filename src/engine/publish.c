/*
 * publish.c - the engine's output, derived by difference (docs/rules.md section
 * 5 "Order", docs/rules.md section 7).
 *
 * Before a record (or a review end) touches an account, rp_publish_begin()
 * copies its issue states; the rules then change the account freely,
 * noting for each issue the last notification stage it reached; afterwards
 * rp_publish_change() publishes one STATUS_CHANGE describing the
 * difference and one NOTIFICATION per changed issue that reached a stage.
 * When the account has just been paused, a RELATED_ACCOUNT report follows
 * for each linked account: handed to the sink, or, in loopback mode,
 * queued for the engine to apply itself once the current instant is done.
 *
 * Events go to the caller's sink synchronously and in order, built in
 * storage the engine reuses, so publishing allocates nothing and a replay
 * of the same input publishes the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_int.h"
#include "engine/history.h"
#include "repute/notice.h"

static const issue *before_of(const change *ch, int k) {
    return ch->had_ext ? &ch->before[k] : &rp_acct_healthy_issue;
}

static bool issue_changed(const issue *x, const issue *y) {
    return x->status != y->status || x->review_end != y->review_end ||
           x->since != y->since;
}

static void emit(rp_engine *e, account *a, rp_event_kind kind,
                 const rp_engine_sink *sink) {
    /* A tenant's events are its account's: one sequence for both
     * (docs/rules.md section 10, "Output"). */
    account *root = rp_acct_root(a);
    rp_event ev;
    ev.account_id = rp_acct_id(root);
    ev.sequence = ++root->sequence;
    ev.event_time = e->clock;
    ev.kind = kind;
    ev.status_change = kind == RP_EVENT_STATUS_CHANGE ? &e->sc : NULL;
    ev.notification = kind == RP_EVENT_NOTIFICATION ? &e->note : NULL;
    /* Null for the account's own events, the tenant's name for its. */
    ev.tenant = a == root ? RP_STR_NULL : rp_acct_id(a);
    if (kind == RP_EVENT_STATUS_CHANGE)
        e->stats.status_changes++;
    else
        e->stats.notifications++;
    if (sink && sink->on_event)
        sink->on_event(sink->opaque, &ev);
    if (kind == RP_EVENT_STATUS_CHANGE)
        rp_current_publish(e, root, ev.sequence, ev.event_time, sink);
}

void rp_publish_issue_state(const issue *is, int k, rp_issue_state *out) {
    out->kind = (rp_issue_kind)k;
    out->status = (rp_issue_status)is->status;
    out->since = is->since;
    out->has_review_end = is->review_end != NONE;
    out->review_ends_at = out->has_review_end ? is->review_end : 0;
}

/* ------------------------------------------------------------ reports */

static int pending_push(rp_engine *e, const rp_record *r) {
    if (e->n_pending == e->cap_pending) {
        size_t cap = e->cap_pending ? e->cap_pending * 2 : 16;
        rp_pending_report *q = realloc(e->pending, cap * sizeof(*q));
        if (!q)
            return RP_ENOMEM;
        e->pending = q;
        e->cap_pending = cap;
    }
    rp_pending_report *q = &e->pending[e->n_pending];
    q->account = strndup(r->account_id.ptr, r->account_id.len);
    q->event_id = strndup(r->event_id.ptr, r->event_id.len);
    q->related = strndup(r->u.report.related_account_id.ptr,
                         r->u.report.related_account_id.len);
    q->time = r->event_time;
    if (!q->account || !q->event_id || !q->related) {
        free(q->account);
        free(q->event_id);
        free(q->related);
        return RP_ENOMEM;
    }
    e->n_pending++;
    return 0;
}

static void related_reports(rp_engine *e, account *a, uint64_t seq,
                            const rp_engine_sink *sink) {
    for (uint32_t i = 0; i < a->ext->n_links; i++) {
        rp_record r;
        rp_record_init(&r, RP_REC_REPORT);
        int n = snprintf(e->related_id, sizeof(e->related_id),
                         "related:%s:%llu", a->id, (unsigned long long)seq);
        r.event_id.ptr = e->related_id;
        r.event_id.len = (size_t)n;
        r.account_id = rp_str_c(a->ext->links[i]);
        r.event_time = e->clock;
        r.u.report.kind = RP_ISSUE_RELATED_ACCOUNT;
        r.u.report.incidents = 1;
        r.u.report.related_account_id = rp_acct_id(a);
        e->stats.related_reports++;
        if (e->loopback)
            pending_push(e, &r); /* on failure the report is lost: ENOMEM */
        else if (sink && sink->on_report)
            sink->on_report(sink->opaque, &r);
    }
}

/* ------------------------------------------------------------ events */

/* Fills e->sc with the account as it stands and the windows r. */
static void fill_status_change(rp_engine *e, const account *a, const change *ch,
                               int cause, const rates *r) {
    rp_status_change *sc = &e->sc;
    sc->previous_status = (rp_account_status)ch->status_before;
    sc->status = (rp_account_status)a->status;
    sc->cause = (rp_issue_kind)cause;
    sc->bounce = r->m[0];
    sc->complaint = r->m[1];
    sc->has_review_end = false;
    sc->review_ends_at = 0;
    sc->n_issues = 0;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const issue *is = rp_acct_issue(a, k);
        if (is->status == RP_ISTATUS_HEALTHY)
            continue;
        rp_publish_issue_state(is, k, &sc->issues[sc->n_issues++]);
        if (rp_acct_in_review(is) && is->review_end != NONE &&
            (!sc->has_review_end || is->review_end < sc->review_ends_at)) {
            sc->has_review_end = true;
            sc->review_ends_at = is->review_end;
        }
    }
}

/* Fills e->note for issue k, which reached stage `stage`. */
static void fill_notification(rp_engine *e, const account *a, int k, int stage,
                              const rates *r) {
    const issue *is = rp_acct_issue(a, k);
    rp_notification *n = &e->note;
    memset(n, 0, sizeof(*n));
    n->issue = (rp_issue_kind)k;
    n->stage = (rp_stage)stage;
    n->account_status = (rp_account_status)a->status;
    if (rp_issue_is_rate((rp_issue_kind)k)) {
        n->has_rate = r->m[k].has_rate;
        n->rate = r->m[k].rate;
        n->has_threshold = true;
        n->threshold = (n->stage == RP_STAGE_SENDING_PAUSED ||
                        n->stage == RP_STAGE_PENDING_SENDING_PAUSE)
                           ? rp_review_pause_threshold(e, a, k)
                           : rp_review_threshold(e, a, k);
    }
    n->has_review_end = is->review_end != NONE;
    n->review_ends_at = n->has_review_end ? is->review_end : 0;
    if (a->kind != ENTITY_ACCOUNT)
        n->tenant = rp_acct_id(a);
    rp_notice_render(n, e->why, sizeof(e->why));
}

void rp_publish_change(rp_engine *e, account *a, change *ch,
                       const rp_engine_sink *sink) {
    if (!a->ext)
        return; /* all HEALTHY before and after: nothing to publish */
    rp_review_status_set(e, a, rp_review_status_of(e, a));
    int cause = -1;
    bool changed[RP_ISSUE__COUNT];
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        changed[k] = issue_changed(before_of(ch, k), rp_acct_issue(a, k));
        if (changed[k] && cause < 0)
            cause = k;
    }
    if (cause < 0 && a->status == ch->status_before)
        return;
    if (cause < 0)
        cause = 0;

    rates r;
    rp_review_rates(e, a, &r);
    fill_status_change(e, a, ch, cause, &r);
    emit(e, a, RP_EVENT_STATUS_CHANGE, sink);
    rp_history_status(&e->accounts, a, e->history_max, e->clock,
                      ch->status_before, a->status, cause);
    uint64_t seq = rp_acct_root(a)->sequence;

    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        if (!changed[k] || ch->stage[k] < 0)
            continue;
        fill_notification(e, a, k, ch->stage[k], &r);
        emit(e, a, RP_EVENT_NOTIFICATION, sink);
        rp_history_notification(&e->accounts, a, e->history_max, e->clock, k,
                                ch->stage[k]);
    }

    /* A tenant's pause sends no RELATED_ACCOUNT reports (docs/rules.md
     * section 10): links belong to accounts. */
    if (a->kind == ENTITY_ACCOUNT && a->status == RP_ASTATUS_SENDING_PAUSED &&
        ch->status_before != RP_ASTATUS_SENDING_PAUSED && a->ext)
        related_reports(e, a, seq, sink);
}
