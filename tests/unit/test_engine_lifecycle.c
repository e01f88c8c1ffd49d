/*
 * test_engine_lifecycle.c - the life cycle of a rate issue (docs/rules.md
 * sections 5 and 6): start of review, ALMOST_HEALED and back, end of
 * review (healed, extended, decision pending, paused, pending pause with
 * the manual-review flag), pause.immediate, when review ends are processed
 * (by a tick or before a later record, each at its own instant), and the
 * account status that the issues' statuses make. Report issues are
 * test_engine_lifecycle_reports.c's.
 *
 * Config (support.h): bounce review/pause 0.05/0.10, window.min.volume
 * 100, rate.min.volume 50, review.period 1d, 2 extensions.
 */

#include <criterion/criterion.h>

#include "support.h"

#define ACCT "acct-1"
/* Records of a scenario are at T, inside the hour that starts at T0; the
 * first review ends at R. */
#define T (T0 + 30 * MINUTE)
#define R (T + DAY)

/* d deliveries then b hard bounces at T. */
static void send(harness *h, int d, int b) {
    feed_deliveries(h, ACCT, T, d);
    feed_hard_bounces(h, ACCT, T, b);
}

/* ------------------------------------------------------------ rate issues */

Test(lifecycle, review_start) {
    harness h;
    h_init(&h);
    send(&h, 95, 5);
    ASSERT_N_EVENTS(&h, 2);

    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 1, T, RP_ASTATUS_HEALTHY, RP_ASTATUS_UNDER_REVIEW,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R);
    cr_assert_eq(sc->sc.n_issues, 1);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R);
    cr_assert_eq(sc->sc.bounce.status, RP_ISTATUS_UNDER_REVIEW);
    ASSERT_RATE(sc->sc.bounce.has_rate, sc->sc.bounce.rate, 5.0 / 100.0);
    ASSERT_WINDOW(&sc->sc.bounce, 5, 100, T0, T0 + HOUR);
    cr_assert_eq(sc->sc.complaint.status, RP_ISTATUS_HEALTHY);
    ASSERT_RATE(sc->sc.complaint.has_rate, sc->sc.complaint.rate, 0.0);
    ASSERT_WINDOW(&sc->sc.complaint, 0, 95, T0 + HOUR - 10 * DAY, T0 + HOUR);

    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 2, T, RP_ISSUE_BOUNCE_RATE, RP_STAGE_REVIEW_STARTED,
              RP_ASTATUS_UNDER_REVIEW);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 5.0 / 100.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.05);
    ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                nt->nt.review_ends_at, R);

    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ASTATUS(v, RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(v.sequence, 2);
    ASSERT_NEXT_END(&h, R);
    rp_engine_stats s = stats_of(&h);
    cr_assert_eq(s.status_changes, 1);
    cr_assert_eq(s.notifications, 1);
    h_free(&h);
}

Test(lifecycle, complaint_review_start) {
    harness h;
    h_init(&h); /* complaint review 0.02 */
    feed_deliveries(&h, ACCT, T, 100);
    feed_complaints(&h, ACCT, T, 2);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 1, T, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_COMPLAINT_RATE);
    ASSERT_ISSUE(&h.c.ev[0].sc.issues[0], RP_ISSUE_COMPLAINT_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R);
    ASSERT_WINDOW(&h.c.ev[0].sc.complaint, 2, 100, T0, T0 + HOUR);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 2, T, RP_ISSUE_COMPLAINT_RATE, RP_STAGE_REVIEW_STARTED,
              RP_ASTATUS_UNDER_REVIEW);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 2.0 / 100.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.02);
    h_free(&h);
}

Test(lifecycle, almost_healed_and_back_are_status_changes_only) {
    harness h;
    h_init(&h);
    send(&h, 95, 5);
    capture_clear(&h.c);

    feed_deliveries(&h, ACCT, T + MINUTE, 1); /* 5 / 101 < 0.05 */
    ASSERT_N_EVENTS(&h, 1);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, T + MINUTE, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R);
    cr_assert_eq(sc->sc.n_issues, 1);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_ALMOST_HEALED, T, R);
    cr_assert_eq(sc->sc.bounce.status, RP_ISTATUS_ALMOST_HEALED);
    ASSERT_RATE(sc->sc.bounce.has_rate, sc->sc.bounce.rate, 5.0 / 101.0);

    /* Staying below publishes nothing. */
    feed_deliveries(&h, ACCT, T + MINUTE, 3);
    ASSERT_N_EVENTS(&h, 1);

    feed_hard_bounces(&h, ACCT, T + 2 * MINUTE, 1); /* 6 / 105 >= 0.05 */
    ASSERT_N_EVENTS(&h, 2);
    sc = &h.c.ev[1];
    ASSERT_SC(sc, ACCT, 4, T + 2 * MINUTE, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R);
    cr_assert_eq(stats_of(&h).notifications, 1);
    h_free(&h);
}

Test(lifecycle, healed_at_review_end_by_a_tick) {
    harness h;
    h_init(&h);
    send(&h, 95, 5);
    feed_deliveries(&h, ACCT, T + MINUTE, 1); /* ALMOST_HEALED */
    capture_clear(&h.c);

    tick(&h, R - 1);
    ASSERT_N_EVENTS(&h, 0);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 4, R, RP_ASTATUS_UNDER_REVIEW, RP_ASTATUS_HEALTHY,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                NO_TIME);
    cr_assert_eq(sc->sc.n_issues, 0);
    cr_assert_eq(sc->sc.bounce.status, RP_ISTATUS_HEALTHY);
    /* Rates at the review end: the window reaches back to T0's hour. */
    ASSERT_WINDOW(&sc->sc.bounce, 5, 101, T0, T0 + 25 * HOUR);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 5, R, RP_ISSUE_BOUNCE_RATE, RP_STAGE_RESOLVED,
              RP_ASTATUS_HEALTHY);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 5.0 / 101.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.05);
    ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                nt->nt.review_ends_at, NO_TIME);
    cr_assert_eq(rp_engine_clock(h.e), R);
    ASSERT_NEXT_END(&h, NO_END);
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(lifecycle, review_end_processed_before_a_later_record_at_its_instant) {
    harness h;
    h_init(&h);
    send(&h, 95, 5);
    feed_deliveries(&h, ACCT, T + MINUTE, 1); /* ALMOST_HEALED */
    capture_clear(&h.c);

    /* No tick: a report 3h after the review end. */
    rp_record r = mk_report(ACCT, R + 3 * HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_SC(&h.c.ev[0], ACCT, 4, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_HEALTHY, RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[1], ACCT, 5, R, RP_ISSUE_BOUNCE_RATE, RP_STAGE_RESOLVED,
              RP_ASTATUS_HEALTHY);
    /* Then the record, at its own time, on the healed account. */
    ASSERT_SC(&h.c.ev[2], ACCT, 6, R + 3 * HOUR, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_SPAMTRAP);
    cr_assert_eq(h.c.ev[2].sc.n_issues, 1);
    ASSERT_NT(&h.c.ev[3], ACCT, 7, R + 3 * HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(lifecycle, several_review_ends_in_one_advance_each_at_its_instant) {
    harness h;
    h_init(&h);
    send(&h, 95, 5);
    feed_deliveries(&h, ACCT, T + MINUTE, 1); /* bounce ALMOST_HEALED */
    rp_record r = mk_report(ACCT, T + 2 * HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r); /* SPAMTRAP review ends at R + 2h */
    capture_clear(&h.c);

    tick(&h, R + 5 * HOUR);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_SC(&h.c.ev[0], ACCT, 6, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", h.c.ev[0].sc.has_review_end,
                h.c.ev[0].sc.review_ends_at, R + 2 * HOUR);
    cr_assert_eq(h.c.ev[0].sc.n_issues, 1);
    ASSERT_ISSUE(&h.c.ev[0].sc.issues[0], RP_ISSUE_SPAMTRAP,
                 RP_ISTATUS_UNDER_REVIEW, T + 2 * HOUR, R + 2 * HOUR);
    ASSERT_NT(&h.c.ev[1], ACCT, 7, R, RP_ISSUE_BOUNCE_RATE, RP_STAGE_RESOLVED,
              RP_ASTATUS_UNDER_REVIEW);
    ASSERT_SC(&h.c.ev[2], ACCT, 8, R + 2 * HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_HEALTHY, RP_ISSUE_SPAMTRAP);
    ASSERT_NT(&h.c.ev[3], ACCT, 9, R + 2 * HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    cr_assert_eq(rp_engine_clock(h.e), R + 5 * HOUR);
    h_free(&h);
}

Test(lifecycle, extended_then_decision_pending) {
    harness h;
    h_init(&h);
    send(&h, 93, 7); /* review at 5 / 98, then 7 / 100 */
    capture_clear(&h.c);

    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, R, RP_ASTATUS_UNDER_REVIEW, RP_ASTATUS_UNDER_REVIEW,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R + DAY);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R + DAY);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, R, RP_ISSUE_BOUNCE_RATE, RP_STAGE_REVIEW_EXTENDED,
              RP_ASTATUS_UNDER_REVIEW);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 7.0 / 100.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.05);
    ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                nt->nt.review_ends_at, R + DAY);

    tick(&h, R + DAY);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_SC(&h.c.ev[2], ACCT, 5, R + DAY, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", h.c.ev[2].sc.has_review_end,
                h.c.ev[2].sc.review_ends_at, R + 2 * DAY);
    ASSERT_NT(&h.c.ev[3], ACCT, 6, R + DAY, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_EXTENDED, RP_ASTATUS_UNDER_REVIEW);

    /* review.max.extensions = 2: used up. */
    tick(&h, R + 2 * DAY);
    ASSERT_N_EVENTS(&h, 6);
    sc = &h.c.ev[4];
    ASSERT_SC(sc, ACCT, 7, R + 2 * DAY, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                NO_TIME);
    cr_assert_eq(sc->sc.n_issues, 1);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, NO_TIME);
    nt = &h.c.ev[5];
    ASSERT_NT(nt, ACCT, 8, R + 2 * DAY, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_DECISION_PENDING,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 7.0 / 100.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.05);
    ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                nt->nt.review_ends_at, NO_TIME);

    /* Waits for a person. */
    ASSERT_NEXT_END(&h, NO_END);
    tick(&h, R + 9 * DAY);
    ASSERT_N_EVENTS(&h, 6);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ASTATUS(v, RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(lifecycle, out_of_extensions_still_moves_with_its_rate) {
    harness h;
    h_init(&h);
    send(&h, 93, 7);
    tick(&h, R + 2 * DAY); /* two extensions, then decision pending */
    cr_assert_eq(cap_count_stage(&h.c, ACCT, RP_STAGE_DECISION_PENDING), 1);
    capture_clear(&h.c);

    /* Clean sending: the rate drops below the review threshold. */
    feed_deliveries(&h, ACCT, R + 2 * DAY + HOUR, 100);
    ASSERT_N_EVENTS(&h, 1);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 9, R + 2 * DAY + HOUR,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION, RP_ISSUE_BOUNCE_RATE);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_ALMOST_HEALED, T, NO_TIME);
    h_free(&h);
}

Test(lifecycle, paused_at_review_end) {
    harness h;
    h_init(&h);
    send(&h, 85, 15); /* review at 5 / 90, ends at 15 / 100 */
    ASSERT_N_EVENTS(&h, 2);
    capture_clear(&h.c);

    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                NO_TIME);
    cr_assert_eq(sc->sc.n_issues, 1);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_SENDING_PAUSE, T, NO_TIME);
    cr_assert_eq(sc->sc.bounce.status, RP_ISTATUS_SENDING_PAUSE);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, R, RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_PAUSED,
              RP_ASTATUS_SENDING_PAUSED);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 15.0 / 100.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.10);

    /* A pause does not end by itself. */
    ASSERT_NEXT_END(&h, NO_END);
    tick(&h, R + 9 * DAY);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_SENDING_PAUSED);
    h_free(&h);
}

Test(lifecycle, pending_pause_with_the_manual_review_flag) {
    harness h;
    h_init(&h);
    rp_record a = mk_action(ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    feed(&h, &a);
    ASSERT_N_EVENTS(&h, 0);
    cr_assert(view_of(&h, ACCT).manual_review);
    send(&h, 85, 15);
    capture_clear(&h.c);

    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_PENDING_SENDING_PAUSE, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                NO_TIME);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_PENDING_SENDING_PAUSE, T, NO_TIME);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, R, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_PENDING_SENDING_PAUSE, RP_ASTATUS_PENDING_SENDING_PAUSE);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 15.0 / 100.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.10);
    ASSERT_NEXT_END(&h, NO_END);
    h_free(&h);
}

Test(lifecycle, immediate_pause) {
    harness h;
    h_config(&h);
    h.cfg.pause_immediate = true;
    h_start(&h);
    /* The rate becomes known at the 50th send: 10 / 50 = 0.2. */
    send(&h, 40, 10);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 1, T, RP_ASTATUS_HEALTHY, RP_ASTATUS_SENDING_PAUSED,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                NO_TIME);
    cr_assert_eq(sc->sc.n_issues, 1);
    cr_assert_eq(sc->sc.issues[0].kind, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(sc->sc.issues[0].status, RP_ISTATUS_SENDING_PAUSE);
    cr_assert_eq(sc->sc.issues[0].since, T);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 2, T, RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_PAUSED,
              RP_ASTATUS_SENDING_PAUSED);
    ASSERT_RATE(nt->nt.has_rate, nt->nt.rate, 10.0 / 50.0);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.10);
    cr_assert_eq(cap_count_stage(&h.c, NULL, RP_STAGE_REVIEW_STARTED), 0);
    tick(&h, T + 9 * DAY);
    ASSERT_N_EVENTS(&h, 2);
    h_free(&h);
}

Test(lifecycle, immediate_pause_ignores_the_manual_review_flag) {
    harness h;
    h_config(&h);
    h.cfg.pause_immediate = true;
    h_start(&h);
    rp_record a = mk_action(ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    feed(&h, &a);
    send(&h, 40, 10);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 1, T, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[1], ACCT, 2, T, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_SENDING_PAUSED, RP_ASTATUS_SENDING_PAUSED);
    h_free(&h);
}

Test(lifecycle, immediate_pause_below_pause_rate_is_a_review) {
    harness h;
    h_config(&h);
    h.cfg.pause_immediate = true;
    h_start(&h);
    send(&h, 95, 5);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_NT(&h.c.ev[1], ACCT, 2, T, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(lifecycle, rates_are_evaluated_after_any_record_not_on_a_tick) {
    harness h;
    h_config(&h);
    h.cfg.window_max_span = 48 * HOUR;
    h.cfg.window_min_volume = 1000;
    h_start(&h);
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 200);
    feed_deliveries(&h, ACCT, T0 + 90 * MINUTE, 45);
    feed_hard_bounces(&h, ACCT, T0 + 90 * MINUTE, 5); /* 5 / 250 */
    ASSERT_N_EVENTS(&h, 0);
    /* At T0+48h30 the clean hour T0 has left the window: 5 / 50 = 0.1. A
     * tick evaluates nothing. */
    tick(&h, T0 + 48 * HOUR + 30 * MINUTE);
    ASSERT_N_EVENTS(&h, 0);
    /* Any record of the account does (here a report below its threshold). */
    rp_record r =
        mk_report(ACCT, T0 + 48 * HOUR + 30 * MINUTE, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 1, T0 + 48 * HOUR + 30 * MINUTE,
              RP_ASTATUS_HEALTHY, RP_ASTATUS_UNDER_REVIEW,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_WINDOW(&h.c.ev[0].sc.bounce, 5, 50, T0 + HOUR, T0 + 49 * HOUR);
    h_free(&h);
}

/* ------------------------------------------------------------ account status
 */

Test(lifecycle, account_status_precedence) {
    harness h;
    h_init(&h);
    /* UNDER_REVIEW (bounce) + manual INTERNAL_REVIEW ->
     * PENDING_END_OF_REVIEW_DECISION. */
    send(&h, 85, 15);
    rp_record r = mk_report(ACCT, T + HOUR, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(&h, &r);
    ASSERT_ASTATUS(view_of(&h, ACCT),
                   RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    /* SENDING_PAUSE beats it. */
    tick(&h, R);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_SENDING_PAUSE);
    ASSERT_ASTATUS(v, RP_ASTATUS_SENDING_PAUSED);
    const cap_event *sc = cap_last_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE);
    ASSERT_SC(sc, ACCT, 5, R, RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_BOUNCE_RATE);
    cr_assert_eq(sc->sc.n_issues, 2);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_SENDING_PAUSE, T, NO_TIME);
    ASSERT_ISSUE(&sc->sc.issues[1], RP_ISSUE_INTERNAL_REVIEW,
                 RP_ISTATUS_UNDER_REVIEW, T + HOUR, NO_TIME);
    h_free(&h);
}

Test(lifecycle, pending_pause_beats_decision_pending) {
    harness h;
    h_init(&h);
    rp_record a = mk_action(ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    feed(&h, &a);
    send(&h, 85, 15);
    rp_record r = mk_report(ACCT, T + HOUR, RP_ISSUE_OTHER, 1);
    feed(&h, &r);
    tick(&h, R);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_PENDING_SENDING_PAUSE);
    ASSERT_ISTATUS(v, RP_ISSUE_OTHER, RP_ISTATUS_UNDER_REVIEW);
    ASSERT_ASTATUS(v, RP_ASTATUS_PENDING_SENDING_PAUSE);
    h_free(&h);
}

Test(lifecycle, paused_beats_pending_pause) {
    harness h;
    h_init(&h);
    rp_record a = mk_action(ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    feed(&h, &a);
    send(&h, 85, 15);
    rp_record r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    tick(&h, R); /* bounce PENDING_SENDING_PAUSE */
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_PENDING_SENDING_PAUSE);
    a = mk_action(ACCT, R + 10 * MINUTE, RP_ACTION_PAUSE_SENDING);
    a.u.action.has_issue = true;
    a.u.action.issue = RP_ISSUE_SPAMTRAP;
    feed(&h, &a);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_PENDING_SENDING_PAUSE);
    ASSERT_ISTATUS(v, RP_ISSUE_SPAMTRAP, RP_ISTATUS_SENDING_PAUSE);
    ASSERT_ASTATUS(v, RP_ASTATUS_SENDING_PAUSED);
    const cap_event *sc = cap_last_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE);
    ASSERT_SC(sc, ACCT, 7, R + 10 * MINUTE, RP_ASTATUS_PENDING_SENDING_PAUSE,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_SPAMTRAP);
    cr_assert_eq(sc->sc.n_issues, 2);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_PENDING_SENDING_PAUSE, T, NO_TIME);
    ASSERT_ISSUE(&sc->sc.issues[1], RP_ISSUE_SPAMTRAP, RP_ISTATUS_SENDING_PAUSE,
                 T + HOUR, NO_TIME);
    h_free(&h);
}
