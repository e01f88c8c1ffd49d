/*
 * current.c - the AccountState of an account (topic.current), from what
 * the engine already publishes: no new state, no I/O.
 *
 * The runtime writes an AccountState beside every STATUS_CHANGE, and the
 * StatusChange already holds everything it needs (status, issues, review
 * end, sequence), so rp_engine_current_from_change() is a copy. `repute
 * run --rebuild-current` writes one for every account from the engine's
 * views, and rp_engine_current_from_view() fills it the same way the
 * engine fills a StatusChange (src/engine/publish.c), so that a rebuilt
 * record equals the one the last status change wrote, but for sequence
 * (the account's last event at the rebuild, which may be a notification
 * after the status change).
 *
 * `since` is derived, not kept: the earliest since of the issues listed
 * (how long the oldest open issue has been open), or, with no issue
 * listed, the event's time. Keeping "when the status last changed" would
 * need a new field in every account's changelog state; docs/current.md
 * says why this definition was chosen and how to get the other one.
 */
#include "engine/engine_int.h"

static void derive_since(rp_account_state *st, int64_t fallback) {
    st->since = fallback;
    for (size_t i = 0; i < st->n_issues; i++)
        if (i == 0 || st->issues[i].since < st->since)
            st->since = st->issues[i].since;
}

int rp_engine_current_from_change(const rp_event *ev, rp_account_state *out) {
    /* A tenant's change is not its account's state, and AccountState has
     * no tenants yet (docs/current.md). */
    if (ev->kind != RP_EVENT_STATUS_CHANGE || !ev->status_change ||
        ev->tenant.ptr)
        return RP_EINVAL;
    const rp_status_change *sc = ev->status_change;
    memset(out, 0, sizeof(*out));
    out->account_id = ev->account_id;
    out->status = sc->status;
    out->has_review_end = sc->has_review_end;
    out->review_ends_at = sc->review_ends_at;
    out->sequence = ev->sequence;
    out->n_issues =
        sc->n_issues > RP_ISSUE__COUNT ? RP_ISSUE__COUNT : sc->n_issues;
    memcpy(out->issues, sc->issues, out->n_issues * sizeof(out->issues[0]));
    derive_since(out, ev->event_time);
    return 0;
}

static bool in_review(rp_issue_status s) {
    return s == RP_ISTATUS_UNDER_REVIEW || s == RP_ISTATUS_ALMOST_HEALED;
}

void rp_engine_current_from_view(const rp_account_view *v, int64_t now,
                                 rp_account_state *out) {
    memset(out, 0, sizeof(*out));
    out->account_id = v->account_id;
    out->status = v->status;
    out->sequence = v->sequence;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const rp_issue_state *is = &v->issues[k];
        if (is->status == RP_ISTATUS_HEALTHY)
            continue;
        out->issues[out->n_issues++] = *is;
        if (in_review(is->status) && is->has_review_end &&
            (!out->has_review_end ||
             is->review_ends_at < out->review_ends_at)) {
            out->has_review_end = true;
            out->review_ends_at = is->review_ends_at;
        }
    }
    derive_since(out, now);
}
