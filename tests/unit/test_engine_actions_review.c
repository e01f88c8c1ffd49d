/*
 * test_engine_actions_review.c - the actions of docs/rules.md section 5
 * that end or lengthen a review, and what they publish: END_REVIEW (of a
 * manual issue, a pending pause, out of extensions, while the rate is
 * still high), EXTEND_REVIEW, and SET/CLEAR_MANUAL_REVIEW (which publish
 * nothing, and apply at a review's end), with the ones that do not apply
 * (docs/semantics.md 12-16). The helpers are engine_actions_support.h's.
 */
#include "engine_actions_support.h"

/* ------------------------------------------------------------ end review */

Test(actions, end_review_of_a_manual_issue) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(&h, &r);
    capture_clear(&h.c);
    act(&h, ACCT, T + HOUR, RP_ACTION_END_REVIEW, RP_ISSUE_INTERNAL_REVIEW);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 3, T + HOUR,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION, RP_ASTATUS_HEALTHY,
              RP_ISSUE_INTERNAL_REVIEW);
    cr_assert_eq(h.c.ev[0].sc.n_issues, 0);
    ASSERT_NT(&h.c.ev[1], ACCT, 4, T + HOUR, RP_ISSUE_INTERNAL_REVIEW,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, end_review_of_a_pending_pause) {
    harness h;
    h_init(&h);
    act_all(&h, ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    spamtrap_review(&h, ACCT, T);
    rp_record r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    tick(&h, R);
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_PENDING_SENDING_PAUSE);
    capture_clear(&h.c);
    act(&h, ACCT, R + HOUR, RP_ACTION_END_REVIEW, RP_ISSUE_SPAMTRAP);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 5, R + HOUR, RP_ASTATUS_PENDING_SENDING_PAUSE,
              RP_ASTATUS_HEALTHY, RP_ISSUE_SPAMTRAP);
    ASSERT_NT(&h.c.ev[1], ACCT, 6, R + HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, end_review_out_of_extensions) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, ACCT, T, 93);
    feed_hard_bounces(&h, ACCT, T, 7);
    tick(&h, R + 2 * DAY); /* decision pending */
    ASSERT_ASTATUS(view_of(&h, ACCT),
                   RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    capture_clear(&h.c);
    /* EXTEND_REVIEW does not apply: there is no end. */
    act(&h, ACCT, R + 2 * DAY + HOUR, RP_ACTION_EXTEND_REVIEW,
        RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    ASSERT_N_EVENTS(&h, 0);
    /* Clean sending first, so that the evaluation after END_REVIEW does not
     * start a new review. */
    feed_deliveries(&h, ACCT, R + 2 * DAY + HOUR, 100);
    capture_clear(&h.c);
    act(&h, ACCT, R + 2 * DAY + HOUR, RP_ACTION_END_REVIEW,
        RP_ISSUE_BOUNCE_RATE);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 10, R + 2 * DAY + HOUR,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION, RP_ASTATUS_HEALTHY,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[1], ACCT, 11, R + 2 * DAY + HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, end_review_while_the_rate_is_still_high_starts_a_new_review) {
    harness h;
    h_init(&h);
    bounce_review(&h); /* 5 / 100 */
    capture_clear(&h.c);
    act(&h, ACCT, T + HOUR, RP_ACTION_END_REVIEW, RP_ISSUE_BOUNCE_RATE);
    /* Healed, then the evaluation after the record starts a new review:
     * one notification with the last stage (semantics 13). */
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, T + HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R + HOUR);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T + HOUR, R + HOUR);
    ASSERT_NT(&h.c.ev[1], ACCT, 4, T + HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(actions, end_review_of_a_healthy_issue_does_not_apply) {
    harness h;
    h_init(&h);
    bounce_review(&h);
    capture_clear(&h.c);
    act(&h, ACCT, T + HOUR, RP_ACTION_END_REVIEW, RP_ISSUE_COMPLAINT_RATE);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

/* ------------------------------------------------------------ extend */

Test(actions, extend_review) {
    harness h;
    h_init(&h);
    bounce_review(&h);
    capture_clear(&h.c);
    act(&h, ACCT, T + HOUR, RP_ACTION_EXTEND_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, T + HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R + DAY);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R + DAY);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, T + HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_EXTENDED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                nt->nt.review_ends_at, R + DAY);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.05);
    ASSERT_NEXT_END(&h, R + DAY);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    h_free(&h);
}

Test(actions, extend_review_that_does_not_apply) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(&h, &r);
    capture_clear(&h.c);
    /* A manual kind has no review end. */
    act(&h, ACCT, T + HOUR, RP_ACTION_EXTEND_REVIEW, RP_ISSUE_INTERNAL_REVIEW);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    /* A healthy issue. */
    act(&h, ACCT, T + HOUR, RP_ACTION_EXTEND_REVIEW, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(NOT_APPLIED(&h), 2);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

/* ------------------------------------------------------------ flag */

Test(actions, manual_review_flag_publishes_nothing) {
    harness h;
    h_init(&h);
    act_all(&h, ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    ASSERT_N_EVENTS(&h, 0);
    cr_assert(view_of(&h, ACCT).manual_review);
    act_all(&h, ACCT, T, RP_ACTION_CLEAR_MANUAL_REVIEW);
    ASSERT_N_EVENTS(&h, 0);
    cr_assert(!view_of(&h, ACCT).manual_review);
    cr_assert_eq(NOT_APPLIED(&h), 0);
    /* Cleared: a plain pause at the review end. */
    feed_deliveries(&h, ACCT, T, 85);
    feed_hard_bounces(&h, ACCT, T, 15);
    tick(&h, R);
    ASSERT_ISTATUS(view_of(&h, ACCT), RP_ISSUE_BOUNCE_RATE,
                   RP_ISTATUS_SENDING_PAUSE);
    h_free(&h);
}

Test(actions, manual_review_flag_set_during_review_applies_at_its_end) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, ACCT, T, 85);
    feed_hard_bounces(&h, ACCT, T, 15);
    capture_clear(&h.c);
    act_all(&h, ACCT, T + HOUR, RP_ACTION_SET_MANUAL_REVIEW);
    ASSERT_N_EVENTS(&h, 0);
    tick(&h, R);
    ASSERT_ISTATUS(view_of(&h, ACCT), RP_ISSUE_BOUNCE_RATE,
                   RP_ISTATUS_PENDING_SENDING_PAUSE);
    h_free(&h);
}
