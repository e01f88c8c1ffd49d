/*
 * review.c - the life cycle of an issue: into review, extended, paused,
 * healed (docs/rules.md sections 4 and 5), and the account status it gives
 * (docs/rules.md section 6).
 *
 * Every rule here changes one issue and notes in the change the
 * notification stage it reached; none of them publishes anything. The
 * output is derived afterwards by difference (publish.c), so a rule is a
 * plain state change and the output contract lives in one place. A review
 * end that is set is also pushed on the review-end heap; one that moves
 * leaves its old entry behind, to be skipped when it surfaces.
 *
 * Report issues keep a log of the reports still inside the report window,
 * so that a threshold is crossed by the sum of recent incidents rather
 * than by a counter that never forgets.
 */
#include "engine/engine_int.h"

/* ------------------------------------------------------------ status */

rp_account_status rp_review_status_of(const rp_engine *e, const account *a) {
    if (!a->ext)
        return RP_ASTATUS_HEALTHY;
    bool paused = false, pending = false, decision = false, review = false;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const issue *is = &a->ext->issues[k];
        if (is->status == RP_ISTATUS_SENDING_PAUSE)
            paused = true;
        else if (is->status == RP_ISTATUS_PENDING_SENDING_PAUSE)
            pending = true;
        else if (rp_acct_in_review(is)) {
            review = true;
            if (rp_review_is_manual(e, k) || is->exhausted)
                decision = true;
        }
    }
    if (paused)
        return RP_ASTATUS_SENDING_PAUSED;
    if (pending)
        return RP_ASTATUS_PENDING_SENDING_PAUSE;
    if (decision)
        return RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION;
    if (review)
        return RP_ASTATUS_UNDER_REVIEW;
    return RP_ASTATUS_HEALTHY;
}

void rp_review_status_set(rp_engine *e, account *a, rp_account_status st) {
    rp_account_status old = (rp_account_status)a->status;
    if (old == st)
        return;
    uint64_t *n = a->kind == ENTITY_ACCOUNT ? e->n_status : e->n_tenant_status;
    if (old != RP_ASTATUS_HEALTHY)
        n[old]--;
    if (st != RP_ASTATUS_HEALTHY)
        n[st]++;
    if (old == RP_ASTATUS_HEALTHY) {
        account_ext *x = a->ext;
        x->fl_prev = NULL;
        x->fl_next = e->flagged;
        if (e->flagged)
            e->flagged->ext->fl_prev = a;
        e->flagged = a;
    } else if (st == RP_ASTATUS_HEALTHY) {
        account_ext *x = a->ext;
        if (x->fl_prev)
            x->fl_prev->ext->fl_next = x->fl_next;
        else
            e->flagged = x->fl_next;
        if (x->fl_next)
            x->fl_next->ext->fl_prev = x->fl_prev;
    }
    a->status = (uint8_t)st;
}

/* ------------------------------------------------------------ transitions */

int rp_review_set_end(rp_engine *e, account *a, issue *is, int64_t end) {
    is->review_end = end;
    return end != NONE ? rp_rheap_push(&e->heap, end, a) : 0;
}

static int start_review(rp_engine *e, account *a, change *ch, int k,
                        bool pause_now) {
    issue *is = &a->ext->issues[k];
    is->since = e->clock;
    is->extensions = 0;
    is->exhausted = 0;
    is->new_incidents = 0;
    if (pause_now) {
        is->status = RP_ISTATUS_SENDING_PAUSE;
        is->review_end = NONE;
        ch->stage[k] = RP_STAGE_SENDING_PAUSED;
        return 0;
    }
    is->status = RP_ISTATUS_UNDER_REVIEW;
    ch->stage[k] = RP_STAGE_REVIEW_STARTED;
    return rp_review_set_end(
        e, a, is,
        rp_review_is_manual(e, k) ? NONE : e->clock + e->cfg.review_period);
}

void rp_review_to_pause(account *a, change *ch, int k, bool manual_ok) {
    issue *is = &a->ext->issues[k];
    bool pending = manual_ok && rp_review_manual_flag(a);
    is->status =
        pending ? RP_ISTATUS_PENDING_SENDING_PAUSE : RP_ISTATUS_SENDING_PAUSE;
    is->review_end = NONE;
    is->exhausted = 0;
    ch->stage[k] =
        pending ? RP_STAGE_PENDING_SENDING_PAUSE : RP_STAGE_SENDING_PAUSED;
}

void rp_review_to_healthy(account *a, change *ch, int k) {
    issue *is = &a->ext->issues[k];
    int64_t floor = is->floor; /* the floor outlives the review */
    *is = rp_acct_healthy_issue;
    is->floor = floor;
    ch->stage[k] = RP_STAGE_RESOLVED;
}

/* The end of one issue's review, at the clock (docs/rules.md section 5). */
static int end_of_review(rp_engine *e, account *a, change *ch, int k,
                         const rates *r) {
    issue *is = &a->ext->issues[k];
    if (!rp_issue_is_rate((rp_issue_kind)k)) {
        if (is->new_incidents >= e->cfg.report_threshold[k])
            rp_review_to_pause(a, ch, k, true);
        else
            rp_review_to_healthy(a, ch, k);
        return 0;
    }
    if (is->status == RP_ISTATUS_ALMOST_HEALED) {
        rp_review_to_healthy(a, ch, k);
        return 0;
    }
    const rp_metric_snapshot *m = &r->m[k];
    if (m->has_rate && m->rate >= rp_review_pause_threshold(e, a, k)) {
        rp_review_to_pause(a, ch, k, true);
        return 0;
    }
    if (is->extensions < e->cfg.review_max_extensions) {
        is->extensions++;
        ch->stage[k] = RP_STAGE_REVIEW_EXTENDED;
        return rp_review_set_end(e, a, is,
                                 is->review_end + e->cfg.review_period);
    }
    is->review_end = NONE;
    is->exhausted = 1;
    ch->stage[k] = RP_STAGE_DECISION_PENDING;
    return 0;
}

int rp_review_end_all(rp_engine *e, account *a, change *ch, int64_t at) {
    rates r;
    rp_review_rates(e, a, &r);
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const issue *is = &a->ext->issues[k];
        if (rp_acct_in_review(is) && is->review_end == at &&
            end_of_review(e, a, ch, k, &r) != 0)
            return RP_ENOMEM;
    }
    return 0;
}

int rp_review_evaluate_rates(rp_engine *e, account *a, change *ch,
                             const rates *r) {
    for (int k = 0; k < 2; k++) {
        const rp_metric_snapshot *m = &r->m[k];
        if (!m->has_rate)
            continue;
        const issue *is = rp_acct_issue(a, k);
        bool over = m->rate >= rp_review_threshold(e, a, k);
        if (is->status == RP_ISTATUS_HEALTHY) {
            if (!over)
                continue;
            if (!rp_acct_ext(&e->accounts, a))
                return RP_ENOMEM;
            bool now = e->cfg.pause_immediate &&
                       m->rate >= rp_review_pause_threshold(e, a, k);
            if (start_review(e, a, ch, k, now) != 0)
                return RP_ENOMEM;
        } else if (rp_acct_in_review(is)) {
            a->ext->issues[k].status =
                over ? RP_ISTATUS_UNDER_REVIEW : RP_ISTATUS_ALMOST_HEALED;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ reports */

int64_t rp_review_report_count(const rp_engine *e, const account *a, int kind) {
    if (!a->ext)
        return 0;
    int64_t n = 0, after = e->clock - e->cfg.report_window;
    for (uint32_t i = 0; i < a->ext->n_reports; i++) {
        const report_entry *r = &a->ext->reports[i];
        if (r->kind == kind && r->time > after)
            n += r->incidents;
    }
    return n;
}

static int report_log(rp_engine *e, account_ext *x, int kind, int64_t time,
                      int32_t incidents) {
    /* Forget reports that no window can count any more. */
    int64_t after = e->clock - e->cfg.report_window;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < x->n_reports; i++)
        if (x->reports[i].time > after)
            x->reports[keep++] = x->reports[i];
    x->n_reports = keep;
    if (time <= after)
        return 0; /* it can never count */
    if (x->n_reports == x->cap_reports) {
        uint32_t cap = x->cap_reports ? x->cap_reports * 2 : 2;
        report_entry *r =
            rp_acct_realloc(&e->accounts, x->reports, cap * sizeof(*r));
        if (!r)
            return RP_ENOMEM;
        x->reports = r;
        x->cap_reports = cap;
    }
    report_entry *r = &x->reports[x->n_reports++];
    r->time = time;
    r->incidents = incidents;
    r->kind = (uint8_t)kind;
    return 0;
}

int rp_review_report(rp_engine *e, account *a, change *ch, const rp_report *rep,
                     int64_t event_time) {
    account_ext *x = rp_acct_ext(&e->accounts, a);
    if (!x)
        return RP_ENOMEM;
    int k = rep->kind;
    if (report_log(e, x, k, event_time, rep->incidents) != 0)
        return RP_ENOMEM;
    issue *is = &x->issues[k];
    if (is->status != RP_ISTATUS_HEALTHY) {
        is->new_incidents += rep->incidents;
        return 0;
    }
    if (rp_review_report_count(e, a, k) >= e->cfg.report_threshold[k])
        return start_review(e, a, ch, k, false);
    return 0;
}
