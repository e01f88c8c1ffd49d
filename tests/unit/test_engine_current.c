/*
 * test_engine_current.c - the AccountState of topic.current built from a
 * STATUS_CHANGE and from a view (src/engine/current.c): the same state
 * both ways (but for sequence), since as the oldest open issue's since,
 * the earliest review end, and HEALTHY with no issue after the review.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define ACCT "acct-1"
#define T    (T0 + 30 * MINUTE)

/* The AccountState after the last STATUS_CHANGE of acct in the capture. */
static rp_account_state from_last_change(harness *h, const char *acct) {
    const cap_event *c = cap_last_kind(&h->c, acct, RP_EVENT_STATUS_CHANGE);
    cr_assert_not_null(c);
    rp_event ev = {0};
    ev.account_id = rp_str_c(c->account);
    ev.sequence = c->sequence;
    ev.event_time = c->event_time;
    ev.kind = RP_EVENT_STATUS_CHANGE;
    ev.status_change = &c->sc;
    rp_account_state st;
    cr_assert_eq(rp_engine_current_from_change(&ev, &st), 0);
    cr_assert(rp_str_eq(st.account_id, ev.account_id));
    cr_assert_eq(st.sequence, c->sequence);
    return st;
}

static void assert_same_but_sequence(const rp_account_state *a,
                                     const rp_account_state *b) {
    cr_assert(rp_str_eq(a->account_id, b->account_id));
    cr_assert_eq(a->status, b->status);
    cr_assert_eq(a->since, b->since);
    cr_assert_eq(a->has_review_end, b->has_review_end);
    cr_assert_eq(a->review_ends_at, b->review_ends_at);
    cr_assert_eq(a->n_issues, b->n_issues);
    cr_assert(
        memcmp(a->issues, b->issues, a->n_issues * sizeof(a->issues[0])) == 0);
}

Test(current, change_and_view_agree) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, ACCT, T, 95);
    feed_hard_bounces(&h, ACCT, T, 5);
    rp_record r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    rp_account_state c = from_last_change(&h, ACCT);
    cr_assert_neq(c.status, RP_ASTATUS_HEALTHY);
    cr_assert_geq(c.n_issues, 1);
    /* since: the oldest open issue's, here the bounce rate's. */
    int64_t oldest = c.issues[0].since;
    for (size_t i = 0; i < c.n_issues; i++) {
        cr_assert_neq(c.issues[i].status, RP_ISTATUS_HEALTHY);
        if (c.issues[i].since < oldest)
            oldest = c.issues[i].since;
        if (i)
            cr_assert_lt(c.issues[i - 1].kind, c.issues[i].kind);
    }
    cr_assert_eq(c.since, oldest);
    rp_account_view v = view_of(&h, ACCT);
    rp_account_state s;
    rp_engine_current_from_view(&v, 0, &s);
    assert_same_but_sequence(&c, &s);
    cr_assert_eq(s.sequence, v.sequence);
    cr_assert_geq(s.sequence, c.sequence);
    h_free(&h);
}

Test(current, healthy_after_the_review) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, ACCT, T, 95);
    feed_hard_bounces(&h, ACCT, T, 5);
    rp_account_state c = from_last_change(&h, ACCT);
    cr_assert(c.has_review_end || c.status != RP_ASTATUS_UNDER_REVIEW);
    /* Clean sending for long enough: the account ends HEALTHY. */
    for (int d = 1; d <= 40; d++) {
        feed_deliveries(&h, ACCT, T + d * DAY, 200);
        tick(&h, T + d * DAY + HOUR);
    }
    c = from_last_change(&h, ACCT);
    cr_assert_eq(c.status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(c.n_issues, 0);
    cr_assert_not(c.has_review_end);
    const cap_event *last = cap_last_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE);
    cr_assert_eq(c.since, last->event_time, "no issue: since is the event's");
    h_free(&h);
}

Test(current, not_from_a_notification) {
    rp_notification n = {0};
    rp_event ev = {0};
    ev.kind = RP_EVENT_NOTIFICATION;
    ev.notification = &n;
    rp_account_state st;
    cr_assert_eq(rp_engine_current_from_change(&ev, &st), RP_EINVAL);
}
