/*
 * actions.c - what a person does to an account (docs/rules.md section 4,
 * "Actions").
 *
 * Actions arrive as records like everything else, so they are replayed in
 * order with the outcomes they answer. Two kinds act on the account
 * itself (the manual-review flag, the links to related accounts); the
 * rest act on issues, on the one the action names or on every issue it
 * applies to. An action that changes nothing is not an error: it is
 * counted in the stats (actions_not_applied), because an operator acting
 * on stale information is normal and must not stop the stream.
 *
 * Like the rules of review.c, an action only changes state and notes the
 * stage each issue reached; publish.c derives the output.
 */
#include "engine/engine_int.h"
#include "engine/history.h"

/* Sets the review end of an issue whose review restarts or extends from
 * `from`, or none for the issues a person decides. 1 or RP_ENOMEM. */
static int review_from(rp_engine *e, account *a, issue *is, int k,
                       int64_t from) {
    int64_t end =
        rp_review_is_manual(e, k) ? NONE : from + e->cfg.review_period;
    return rp_review_set_end(e, a, is, end) == 0 ? 1 : RP_ENOMEM;
}

static int remediation_submitted(rp_engine *e, account *a, change *ch,
                                 int64_t eff, int k) {
    issue *is = &a->ext->issues[k];
    if (is->status == RP_ISTATUS_HEALTHY)
        return 0;
    if (rp_issue_is_rate((rp_issue_kind)k)) {
        is->floor = eff;
        return 1;
    }
    is->new_incidents = 0;
    if (rp_acct_in_review(is) && is->review_end != NONE) {
        int64_t end = eff + e->cfg.review_period;
        if (end > is->review_end) {
            ch->stage[k] = RP_STAGE_REVIEW_EXTENDED;
            if (rp_review_set_end(e, a, is, end) != 0)
                return RP_ENOMEM;
        }
    }
    return 1;
}

/* Applies an issue-level action to issue k. Returns 1 when it applied, 0
 * when it did not, or a negative code. */
static int action_on_issue(rp_engine *e, account *a, change *ch,
                           const rp_action *act, int64_t eff, int k) {
    issue *is = &a->ext->issues[k];
    bool rate = rp_issue_is_rate((rp_issue_kind)k);
    bool paused = is->status == RP_ISTATUS_SENDING_PAUSE ||
                  is->status == RP_ISTATUS_PENDING_SENDING_PAUSE;
    switch (act->action) {
    case RP_ACTION_REMEDIATION_SUBMITTED:
        return remediation_submitted(e, a, ch, eff, k);
    case RP_ACTION_RESUME_SENDING:
        if (!paused)
            return 0;
        is->status = rate ? RP_ISTATUS_ALMOST_HEALED : RP_ISTATUS_UNDER_REVIEW;
        is->extensions = 0;
        is->exhausted = 0;
        is->new_incidents = 0;
        if (rate)
            is->floor = eff;
        ch->stage[k] = RP_STAGE_SENDING_RESUMED;
        return review_from(e, a, is, k, eff);
    case RP_ACTION_PAUSE_SENDING:
        if (!rp_acct_in_review(is) &&
            is->status != RP_ISTATUS_PENDING_SENDING_PAUSE)
            return 0;
        rp_review_to_pause(a, ch, k, false);
        return 1;
    case RP_ACTION_END_REVIEW:
        if (!rp_acct_in_review(is) &&
            is->status != RP_ISTATUS_PENDING_SENDING_PAUSE)
            return 0;
        rp_review_to_healthy(a, ch, k);
        return 1;
    case RP_ACTION_EXTEND_REVIEW:
        if (!rp_acct_in_review(is) || is->review_end == NONE)
            return 0;
        ch->stage[k] = RP_STAGE_REVIEW_EXTENDED;
        return rp_review_set_end(e, a, is,
                                 is->review_end + e->cfg.review_period) == 0
                   ? 1
                   : RP_ENOMEM;
    default: return 0;
    }
}

/* LINK_ACCOUNT and UNLINK_ACCOUNT: 1 when applied, 0, or RP_ENOMEM. */
static int link_action(rp_engine *e, account *a, const rp_action *act) {
    rp_str other = act->related_account_id;
    if (!other.ptr || other.len == 0 || other.len > RP_ACCOUNT_ID_MAX ||
        rp_str_eq(other, rp_acct_id(a)))
        return 0;
    if (act->action == RP_ACTION_UNLINK_ACCOUNT)
        return a->ext && rp_acct_link_remove(&e->accounts, a->ext, other);
    account_ext *x = rp_acct_ext(&e->accounts, a);
    if (!x)
        return RP_ENOMEM;
    return rp_acct_link_add(&e->accounts, x, other);
}

int rp_actions_apply(rp_engine *e, account *a, change *ch, const rp_action *act,
                     int64_t event_time) {
    int64_t eff = act->has_effective_time ? act->effective_time : event_time;
    int applied = 0;
    switch (act->action) {
    case RP_ACTION_SET_MANUAL_REVIEW:
    case RP_ACTION_CLEAR_MANUAL_REVIEW: {
        account_ext *x = rp_acct_ext(&e->accounts, a);
        if (!x)
            return RP_ENOMEM;
        x->manual_review = act->action == RP_ACTION_SET_MANUAL_REVIEW;
        applied = 1;
        break;
    }
    case RP_ACTION_LINK_ACCOUNT:
    case RP_ACTION_UNLINK_ACCOUNT:
        applied = link_action(e, a, act);
        if (applied < 0)
            return applied;
        break;
    default:
        if (!a->ext)
            break; /* every issue is HEALTHY: nothing to act on */
        for (int k = 0; k < RP_ISSUE__COUNT; k++) {
            if (act->has_issue && (int)act->issue != k)
                continue;
            int rc = action_on_issue(e, a, ch, act, eff, k);
            if (rc < 0)
                return rc;
            applied |= rc;
        }
        break;
    }
    if (!applied)
        e->stats.actions_not_applied++;
    /* Kept applied or not (docs/history.md): the operator sees that an
     * action on stale information changed nothing. At the clock, like the
     * status change it causes, so that the history reads in time order. */
    rp_history_action(&e->accounts, a, e->history_max, e->clock, act,
                      applied != 0);
    return 0;
}
