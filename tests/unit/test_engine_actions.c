/*
 * test_engine_actions.c - the actions of docs/rules.md section 5 that
 * move an issue, and what they publish: REMEDIATION_SUBMITTED (rate
 * floor; report review end and new incidents), RESUME_SENDING,
 * PAUSE_SENDING, issue = null, and actions that do not apply
 * (docs/semantics.md 12-16). END_REVIEW, EXTEND_REVIEW and the manual
 * review flag are test_engine_actions_review.c's, LINK/UNLINK_ACCOUNT
 * test_engine_links.c's; the helpers are engine_actions_support.h's.
 */
#include "engine_actions_support.h"

/* ------------------------------------------------------------ remediation */

Test(actions, remediation_of_a_rate_issue_sets_its_floor) {
    harness h;
    h_init(&h);
    bounce_review(&h);
    capture_clear(&h.c);
    /* effective_time null: the event_time, T0+2h30, inside the clock's hour. */
    act(&h, ACCT, T + 2 * HOUR, RP_ACTION_REMEDIATION_SUBMITTED,
        RP_ISSUE_BOUNCE_RATE);
    ASSERT_N_EVENTS(&h, 0);
    cr_assert_eq(NOT_APPLIED(&h), 0);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 0, T0 + 3 * HOUR, T0 + 3 * HOUR);
    ASSERT_NO_RATE(v.bounce.has_rate, v.bounce.rate);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_UNDER_REVIEW);
    /* The complaint rate has no floor. */
    cr_assert_eq(v.complaint.volume, 95);

    /* Only sending after the floor counts: 50 clean sends make the rate
     * known (0) and the issue ALMOST_HEALED. */
    feed_deliveries(&h, ACCT, T0 + 3 * HOUR + 5 * MINUTE, 60);
    ASSERT_N_EVENTS(&h, 1);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, T0 + 3 * HOUR + 5 * MINUTE, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(sc->sc.bounce.status, RP_ISTATUS_ALMOST_HEALED);
    ASSERT_RATE(sc->sc.bounce.has_rate, sc->sc.bounce.rate, 0.0);
    ASSERT_WINDOW(&sc->sc.bounce, 0, 50, T0 + 3 * HOUR, T0 + 4 * HOUR);
    h_free(&h);
}

Test(actions, remediation_of_a_report_issue_moves_its_review_end) {
    harness h;
    h_init(&h);
    spamtrap_review(&h, ACCT, T); /* ends at R */
    capture_clear(&h.c);

    act(&h, ACCT, T + 5 * HOUR, RP_ACTION_REMEDIATION_SUBMITTED,
        RP_ISSUE_SPAMTRAP);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, T + 5 * HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_SPAMTRAP);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R + 5 * HOUR);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_SPAMTRAP, RP_ISTATUS_UNDER_REVIEW,
                 T, R + 5 * HOUR);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, T + 5 * HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_REVIEW_EXTENDED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                nt->nt.review_ends_at, R + 5 * HOUR);

    /* max(current end, effective + period): an early effective time does
     * not move the end, and publishes nothing. */
    rp_record r = mk_action_on(
        ACCT, T + 6 * HOUR, RP_ACTION_REMEDIATION_SUBMITTED, RP_ISSUE_SPAMTRAP);
    rec_set_effective_time(&r, T - 10 * HOUR);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 2);
    cr_assert_eq(NOT_APPLIED(&h), 0);

    tick(&h, R + 5 * HOUR - 1);
    ASSERT_N_EVENTS(&h, 2);
    tick(&h, R + 5 * HOUR);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_NT(&h.c.ev[3], ACCT, 6, R + 5 * HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, remediation_of_a_report_issue_counts_new_incidents_afresh) {
    harness h;
    h_init(&h);
    /* "fixed" remediates after 3 new incidents; "control" does not. */
    spamtrap_review(&h, "control", T);
    spamtrap_review(&h, "fixed", T);
    rp_record r = mk_report("control", T + HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    r = mk_report("fixed", T + HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    act(&h, "fixed", T + 2 * HOUR, RP_ACTION_REMEDIATION_SUBMITTED,
        RP_ISSUE_SPAMTRAP);
    r = mk_report("fixed", T + 3 * HOUR, RP_ISSUE_SPAMTRAP, 2);
    feed(&h, &r);
    capture_clear(&h.c);

    tick(&h, R + 2 * HOUR);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_SC(&h.c.ev[0], "control", 3, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_SPAMTRAP);
    ASSERT_NT(&h.c.ev[1], "control", 4, R, RP_ISSUE_SPAMTRAP,
              RP_STAGE_SENDING_PAUSED, RP_ASTATUS_SENDING_PAUSED);
    /* 2 new incidents since the remediation < 3. */
    ASSERT_SC(&h.c.ev[2], "fixed", 5, R + 2 * HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_HEALTHY, RP_ISSUE_SPAMTRAP);
    ASSERT_NT(&h.c.ev[3], "fixed", 6, R + 2 * HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, remediation_of_a_manual_report_issue_keeps_no_review_end) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(&h, &r);
    capture_clear(&h.c);
    act(&h, ACCT, T + HOUR, RP_ACTION_REMEDIATION_SUBMITTED,
        RP_ISSUE_INTERNAL_REVIEW);
    ASSERT_N_EVENTS(&h, 0);
    rp_account_view v = view_of(&h, ACCT);
    cr_assert(!v.issues[RP_ISSUE_INTERNAL_REVIEW].has_review_end);
    ASSERT_ASTATUS(v, RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    ASSERT_NEXT_END(&h, NO_END);
    h_free(&h);
}

Test(actions, remediation_of_a_healthy_issue_does_not_apply) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, ACCT, T, 10);
    act(&h, ACCT, T, RP_ACTION_REMEDIATION_SUBMITTED, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    act(&h, ACCT, T, RP_ACTION_REMEDIATION_SUBMITTED, RP_ISSUE_SPAMTRAP);
    cr_assert_eq(NOT_APPLIED(&h), 2);
    ASSERT_N_EVENTS(&h, 0);
    /* No floor was set. */
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 10, T0 + HOUR - 10 * DAY, T0 + HOUR);
    h_free(&h);
}

/* ------------------------------------------------------------ resume */

Test(actions, resume_sending_of_a_paused_rate_issue) {
    harness h;
    h_init(&h);
    bounce_paused(&h);
    capture_clear(&h.c);

    const int64_t at = R + 2 * HOUR; /* T0 + 1d 2h30 */
    act(&h, ACCT, at, RP_ACTION_RESUME_SENDING, RP_ISSUE_BOUNCE_RATE);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 5, at, RP_ASTATUS_SENDING_PAUSED,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                at + DAY);
    cr_assert_eq(sc->sc.n_issues, 1);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_ALMOST_HEALED, T, at + DAY);
    /* The floor is the effective time, inside the clock's hour. */
    cr_assert_eq(sc->sc.bounce.status, RP_ISTATUS_ALMOST_HEALED);
    ASSERT_WINDOW(&sc->sc.bounce, 0, 0, T0 + DAY + 3 * HOUR,
                  T0 + DAY + 3 * HOUR);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 6, at, RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_RESUMED,
              RP_ASTATUS_UNDER_REVIEW);
    ASSERT_NO_RATE(nt->nt.has_rate, nt->nt.rate);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.05);
    ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                nt->nt.review_ends_at, at + DAY);

    tick(&h, at + DAY);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_SC(&h.c.ev[2], ACCT, 7, at + DAY, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_HEALTHY, RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[3], ACCT, 8, at + DAY, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, resume_sending_with_an_effective_time) {
    harness h;
    h_init(&h);
    bounce_paused(&h);
    capture_clear(&h.c);
    rp_record r = mk_action_on(ACCT, R + 5 * HOUR, RP_ACTION_RESUME_SENDING,
                               RP_ISSUE_BOUNCE_RATE);
    rec_set_effective_time(&r, R + 2 * HOUR);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_TIME("review_ends_at", h.c.ev[0].sc.has_review_end,
                h.c.ev[0].sc.review_ends_at, R + 2 * HOUR + DAY);
    /* Floor T0+1d2h30: buckets from T0+1d3h on. */
    ASSERT_WINDOW(&h.c.ev[0].sc.bounce, 0, 0, T0 + DAY + 3 * HOUR,
                  T0 + DAY + 6 * HOUR);
    h_free(&h);
}

Test(actions, review_end_already_past_is_processed_at_the_next_advance) {
    harness h;
    h_init(&h);
    bounce_paused(&h);
    capture_clear(&h.c);
    /* effective_time T: the new review ends at T + 1d = R, already past. */
    rp_record r = mk_action_on(ACCT, R + 2 * HOUR, RP_ACTION_RESUME_SENDING,
                               RP_ISSUE_BOUNCE_RATE);
    rec_set_effective_time(&r, T);
    feed(&h, &r);
    /* Not in the middle of the record that set it (semantics 4). */
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 5, R + 2 * HOUR, RP_ASTATUS_SENDING_PAUSED,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", h.c.ev[0].sc.has_review_end,
                h.c.ev[0].sc.review_ends_at, R);
    ASSERT_NT(&h.c.ev[1], ACCT, 6, R + 2 * HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_SENDING_RESUMED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_NEXT_END(&h, R);
    /* The next advance, even to the same instant, processes it at the
     * clock (which never moves backwards). */
    tick(&h, R + 2 * HOUR);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_SC(&h.c.ev[2], ACCT, 7, R + 2 * HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_HEALTHY, RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[3], ACCT, 8, R + 2 * HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, resume_sending_restarts_the_extensions) {
    harness h;
    h_config(&h);
    h.cfg.review_max_extensions = 1;
    h_start(&h);
    feed_deliveries(&h, ACCT, T, 93);
    feed_hard_bounces(&h, ACCT, T, 7);
    tick(&h, R); /* 0.07: extended, the only extension */
    cr_assert_eq(cap_count_stage(&h.c, ACCT, RP_STAGE_REVIEW_EXTENDED), 1);
    /* 12 / 105 >= 0.10: paused at the extended end. */
    feed_hard_bounces(&h, ACCT, R + HOUR, 5);
    tick(&h, R + DAY);
    ASSERT_ISTATUS(view_of(&h, ACCT), RP_ISSUE_BOUNCE_RATE,
                   RP_ISTATUS_SENDING_PAUSE);

    const int64_t at = R + DAY + HOUR; /* T0 + 2d 1h30 */
    act(&h, ACCT, at, RP_ACTION_RESUME_SENDING, RP_ISSUE_BOUNCE_RATE);
    /* 0.07 again, after the floor. */
    feed_deliveries(&h, ACCT, at + HOUR, 93);
    feed_hard_bounces(&h, ACCT, at + HOUR, 7);
    ASSERT_ISTATUS(view_of(&h, ACCT), RP_ISSUE_BOUNCE_RATE,
                   RP_ISTATUS_UNDER_REVIEW);
    capture_clear(&h.c);
    tick(&h, at + DAY);
    ASSERT_N_EVENTS(&h, 2);
    cr_assert_eq(h.c.ev[1].kind, RP_EVENT_NOTIFICATION);
    cr_assert_eq(h.c.ev[1].nt.stage, RP_STAGE_REVIEW_EXTENDED,
                 "expected REVIEW_EXTENDED (a new review, extensions start "
                 "again), got %s",
                 rp_stage_name(h.c.ev[1].nt.stage));
    ASSERT_RATE(h.c.ev[1].nt.has_rate, h.c.ev[1].nt.rate, 7.0 / 100.0);
    h_free(&h);
}

Test(actions, resume_sending_of_a_paused_report_issue) {
    harness h;
    h_init(&h);
    spamtrap_review(&h, ACCT, T);
    rp_record r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    tick(&h, R); /* paused */
    capture_clear(&h.c);

    act(&h, ACCT, R + HOUR, RP_ACTION_RESUME_SENDING, RP_ISSUE_SPAMTRAP);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 5, R + HOUR, RP_ASTATUS_SENDING_PAUSED,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_SPAMTRAP);
    ASSERT_ISSUE(&h.c.ev[0].sc.issues[0], RP_ISSUE_SPAMTRAP,
                 RP_ISTATUS_UNDER_REVIEW, T, R + HOUR + DAY);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 6, R + HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_SENDING_RESUMED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_NO_RATE(nt->nt.has_rate, nt->nt.rate);
    cr_assert(!nt->nt.has_threshold);
    /* New incidents counted afresh: none since, so healthy at the end. */
    tick(&h, R + HOUR + DAY);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_NT(&h.c.ev[3], ACCT, 8, R + HOUR + DAY, RP_ISSUE_SPAMTRAP,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, resume_sending_of_a_pending_pause) {
    harness h;
    h_init(&h);
    act_all(&h, ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    feed_deliveries(&h, ACCT, T, 85);
    feed_hard_bounces(&h, ACCT, T, 15);
    tick(&h, R);
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_PENDING_SENDING_PAUSE);
    capture_clear(&h.c);
    act(&h, ACCT, R + 2 * HOUR, RP_ACTION_RESUME_SENDING, RP_ISSUE_BOUNCE_RATE);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 5, R + 2 * HOUR,
              RP_ASTATUS_PENDING_SENDING_PAUSE, RP_ASTATUS_UNDER_REVIEW,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_ISSUE(&h.c.ev[0].sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_ALMOST_HEALED, T, R + 2 * HOUR + DAY);
    ASSERT_NT(&h.c.ev[1], ACCT, 6, R + 2 * HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_SENDING_RESUMED, RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(actions, resume_sending_that_does_not_apply) {
    harness h;
    h_init(&h);
    bounce_review(&h);
    capture_clear(&h.c);
    act(&h, ACCT, T + HOUR, RP_ACTION_RESUME_SENDING, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    act(&h, ACCT, T + HOUR, RP_ACTION_RESUME_SENDING, RP_ISSUE_SPAMTRAP);
    cr_assert_eq(NOT_APPLIED(&h), 2);
    ASSERT_N_EVENTS(&h, 0);
    ASSERT_ISTATUS(view_of(&h, ACCT), RP_ISSUE_BOUNCE_RATE,
                   RP_ISTATUS_UNDER_REVIEW);
    h_free(&h);
}

/* ------------------------------------------------------------ pause */

Test(actions, pause_sending_of_a_report_issue_in_review) {
    harness h;
    h_init(&h);
    spamtrap_review(&h, ACCT, T);
    capture_clear(&h.c);
    act(&h, ACCT, T + HOUR, RP_ACTION_PAUSE_SENDING, RP_ISSUE_SPAMTRAP);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, T + HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_SPAMTRAP);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                NO_TIME);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_SPAMTRAP, RP_ISTATUS_SENDING_PAUSE,
                 T, NO_TIME);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, T + HOUR, RP_ISSUE_SPAMTRAP, RP_STAGE_SENDING_PAUSED,
              RP_ASTATUS_SENDING_PAUSED);
    ASSERT_NO_RATE(nt->nt.has_rate, nt->nt.rate);
    cr_assert(!nt->nt.has_threshold);
    /* Its old review end is gone. */
    ASSERT_NEXT_END(&h, NO_END);
    tick(&h, R + DAY);
    ASSERT_N_EVENTS(&h, 2);
    h_free(&h);
}

Test(actions, pause_sending_of_a_rate_issue_uses_the_pause_threshold) {
    harness h;
    h_init(&h);
    bounce_review(&h);
    capture_clear(&h.c);
    act(&h, ACCT, T + HOUR, RP_ACTION_PAUSE_SENDING, RP_ISSUE_BOUNCE_RATE);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, T + HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_SENDING_PAUSED, RP_ASTATUS_SENDING_PAUSED);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 5.0 / 100.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.10);
    h_free(&h);
}

Test(actions, pause_sending_of_a_pending_pause) {
    harness h;
    h_init(&h);
    act_all(&h, ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    feed_deliveries(&h, ACCT, T, 85);
    feed_hard_bounces(&h, ACCT, T, 15);
    tick(&h, R);
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_PENDING_SENDING_PAUSE);
    capture_clear(&h.c);
    act(&h, ACCT, R + HOUR, RP_ACTION_PAUSE_SENDING, RP_ISSUE_BOUNCE_RATE);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 5, R + HOUR, RP_ASTATUS_PENDING_SENDING_PAUSE,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_BOUNCE_RATE);
    ASSERT_ISSUE(&h.c.ev[0].sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_SENDING_PAUSE, T, NO_TIME);
    ASSERT_NT(&h.c.ev[1], ACCT, 6, R + HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_SENDING_PAUSED, RP_ASTATUS_SENDING_PAUSED);
    h_free(&h);
}

Test(actions, pause_sending_that_does_not_apply) {
    harness h;
    h_init(&h);
    bounce_paused(&h);
    capture_clear(&h.c);
    /* Already paused; SPAMTRAP healthy. */
    act(&h, ACCT, R + HOUR, RP_ACTION_PAUSE_SENDING, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    act(&h, ACCT, R + HOUR, RP_ACTION_PAUSE_SENDING, RP_ISSUE_SPAMTRAP);
    cr_assert_eq(NOT_APPLIED(&h), 2);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

/* ------------------------------------------------------------ issue = null */

Test(actions, issue_null_applies_to_every_applicable_issue) {
    harness h;
    h_init(&h);
    bounce_review(&h);
    feed_deliveries(&h, ACCT, T, 1); /* bounce ALMOST_HEALED */
    spamtrap_review(&h, ACCT, T);
    capture_clear(&h.c);
    act_all(&h, ACCT, T + HOUR, RP_ACTION_END_REVIEW);
    cr_assert_eq(NOT_APPLIED(&h), 0);
    ASSERT_N_EVENTS(&h, 3);
    ASSERT_SC(&h.c.ev[0], ACCT, 6, T + HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_HEALTHY, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(h.c.ev[0].sc.n_issues, 0);
    ASSERT_NT(&h.c.ev[1], ACCT, 7, T + HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    ASSERT_NT(&h.c.ev[2], ACCT, 8, T + HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(actions, issue_null_pause_and_extend) {
    harness h;
    h_init(&h);
    bounce_review(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(&h, &r);
    capture_clear(&h.c);
    /* Only the bounce issue has a review end to extend. */
    act_all(&h, ACCT, T + HOUR, RP_ACTION_EXTEND_REVIEW);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_NT(&h.c.ev[1], ACCT, 6, T + HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_EXTENDED,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    capture_clear(&h.c);
    act_all(&h, ACCT, T + 2 * HOUR, RP_ACTION_PAUSE_SENDING);
    ASSERT_N_EVENTS(&h, 3);
    ASSERT_SC(&h.c.ev[0], ACCT, 7, T + 2 * HOUR,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(h.c.ev[0].sc.n_issues, 2);
    ASSERT_NT(&h.c.ev[1], ACCT, 8, T + 2 * HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_SENDING_PAUSED, RP_ASTATUS_SENDING_PAUSED);
    ASSERT_NT(&h.c.ev[2], ACCT, 9, T + 2 * HOUR, RP_ISSUE_INTERNAL_REVIEW,
              RP_STAGE_SENDING_PAUSED, RP_ASTATUS_SENDING_PAUSED);
    h_free(&h);
}

Test(actions, issue_null_that_applies_to_nothing_is_counted) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, ACCT, T, 1);
    act_all(&h, ACCT, T, RP_ACTION_RESUME_SENDING);
    ASSERT_N_EVENTS(&h, 0);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    h_free(&h);
}
