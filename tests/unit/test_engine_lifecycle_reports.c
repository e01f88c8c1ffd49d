/*
 * test_engine_lifecycle_reports.c - the life cycle of a report issue
 * (docs/rules.md sections 5 and 6): a review starts at its kind's
 * threshold (several incidents in one report count), ends healthy without
 * new incidents or paused when new ones reach the threshold (counted
 * afresh, pending pause with the manual-review flag), every automatic
 * kind with a threshold of one, manual kinds that wait for a person, and
 * report.window (expiry, and reports older than the window).
 *
 * Config (support.h): report.window 7d, review.period 1d. Rate issues are
 * test_engine_lifecycle.c's.
 */
#include <criterion/criterion.h>

#include "support.h"

#define ACCT "acct-1"
/* Records of a scenario are at T, inside the hour that starts at T0; the
 * first review ends at R. */
#define T (T0 + 30 * MINUTE)
#define R (T + DAY)

Test(lifecycle, spamtrap_review_starts_at_its_threshold) {
    harness h;
    h_init(&h); /* SPAMTRAP threshold 3 */
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 0);
    rp_account_view v = view_of(&h, ACCT);
    cr_assert_eq(v.report_count[RP_ISSUE_SPAMTRAP], 2);
    ASSERT_ISTATUS(v, RP_ISSUE_SPAMTRAP, RP_ISTATUS_HEALTHY);

    r = mk_report(ACCT, T + 2 * HOUR, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 1, T + 2 * HOUR, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_SPAMTRAP);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                T + 2 * HOUR + DAY);
    cr_assert_eq(sc->sc.n_issues, 1);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_SPAMTRAP, RP_ISTATUS_UNDER_REVIEW,
                 T + 2 * HOUR, T + 2 * HOUR + DAY);
    /* No outcomes: both rates unknown and healthy. */
    cr_assert_eq(sc->sc.bounce.status, RP_ISTATUS_HEALTHY);
    ASSERT_NO_RATE(sc->sc.bounce.has_rate, sc->sc.bounce.rate);
    cr_assert_eq(sc->sc.bounce.volume, 0);
    ASSERT_NO_RATE(sc->sc.complaint.has_rate, sc->sc.complaint.rate);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 2, T + 2 * HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_NO_RATE(nt->nt.has_rate, nt->nt.rate);
    cr_assert(!nt->nt.has_threshold, "report issue: threshold must be null");
    ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                nt->nt.review_ends_at, T + 2 * HOUR + DAY);
    cr_assert_eq(view_of(&h, ACCT).report_count[RP_ISSUE_SPAMTRAP], 3);
    h_free(&h);
}

Test(lifecycle, report_with_several_incidents_reaches_the_threshold) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_DOMAIN_BLOCKLIST, 3);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_NT(&h.c.ev[1], ACCT, 2, T, RP_ISSUE_DOMAIN_BLOCKLIST,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(lifecycle, report_review_ends_healthy_without_new_incidents) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    capture_clear(&h.c);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 3, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_HEALTHY, RP_ISSUE_SPAMTRAP);
    cr_assert_eq(h.c.ev[0].sc.n_issues, 0);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, R, RP_ISSUE_SPAMTRAP, RP_STAGE_RESOLVED,
              RP_ASTATUS_HEALTHY);
    ASSERT_NO_RATE(nt->nt.has_rate, nt->nt.rate);
    cr_assert(!nt->nt.has_threshold);
    h_free(&h);
}

Test(lifecycle, report_review_pauses_when_new_incidents_reach_threshold) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 2);
    feed(&h, &r);
    r = mk_report(ACCT, T + 2 * HOUR, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 2); /* only the start */
    capture_clear(&h.c);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_SPAMTRAP);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_SPAMTRAP, RP_ISTATUS_SENDING_PAUSE,
                 T, NO_TIME);
    const cap_event *nt = &h.c.ev[1];
    ASSERT_NT(nt, ACCT, 4, R, RP_ISSUE_SPAMTRAP, RP_STAGE_SENDING_PAUSED,
              RP_ASTATUS_SENDING_PAUSED);
    ASSERT_NO_RATE(nt->nt.has_rate, nt->nt.rate);
    cr_assert(!nt->nt.has_threshold);
    h_free(&h);
}

Test(lifecycle, report_review_counts_only_new_incidents) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 2);
    feed(&h, &r);
    /* 5 incidents in report.window, but only 2 new ones: healthy. */
    cr_assert_eq(view_of(&h, ACCT).report_count[RP_ISSUE_SPAMTRAP], 5);
    capture_clear(&h.c);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_NT(&h.c.ev[1], ACCT, 4, R, RP_ISSUE_SPAMTRAP, RP_STAGE_RESOLVED,
              RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(lifecycle, report_review_pending_pause_with_the_flag) {
    harness h;
    h_init(&h);
    rp_record a = mk_action(ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    feed(&h, &a);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    capture_clear(&h.c);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 3, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_PENDING_SENDING_PAUSE, RP_ISSUE_SPAMTRAP);
    ASSERT_NT(&h.c.ev[1], ACCT, 4, R, RP_ISSUE_SPAMTRAP,
              RP_STAGE_PENDING_SENDING_PAUSE, RP_ASTATUS_PENDING_SENDING_PAUSE);
    cr_assert(!h.c.ev[1].nt.has_threshold);
    h_free(&h);
}

Test(lifecycle, every_automatic_report_kind_with_threshold_one) {
    harness h;
    h_init(&h);
    const rp_issue_kind kinds[] = {
        RP_ISSUE_ANTI_SPAM_ORGANIZATION, RP_ISSUE_LISTBOMBING,
        RP_ISSUE_MAILBOX_PROVIDER,       RP_ISSUE_DIRECT_FEEDBACK,
        RP_ISSUE_RECIPIENT_FEEDBACK,
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char acct[32];
        snprintf(acct, sizeof(acct), "acct-%zu", i);
        capture_clear(&h.c);
        rp_record r = mk_report(acct, T, kinds[i], 1);
        feed(&h, &r);
        ASSERT_N_EVENTS(&h, 2);
        ASSERT_SC(&h.c.ev[0], acct, 1, T, RP_ASTATUS_HEALTHY,
                  RP_ASTATUS_UNDER_REVIEW, kinds[i]);
        ASSERT_ISSUE(&h.c.ev[0].sc.issues[0], kinds[i], RP_ISTATUS_UNDER_REVIEW,
                     T, R);
        ASSERT_NT(&h.c.ev[1], acct, 2, T, kinds[i], RP_STAGE_REVIEW_STARTED,
                  RP_ASTATUS_UNDER_REVIEW);
    }
    capture_clear(&h.c);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 10);
    cr_assert_eq(cap_count_stage(&h.c, NULL, RP_STAGE_RESOLVED), 5);
    h_free(&h);
}

Test(lifecycle, manual_kinds_wait_for_a_person) {
    harness h;
    h_init(&h);
    const rp_issue_kind kinds[] = {
        RP_ISSUE_INTERNAL_REVIEW, RP_ISSUE_RELATED_ACCOUNT,
        RP_ISSUE_VULNERABLE_SITE, RP_ISSUE_COMPROMISED_CREDENTIALS,
        RP_ISSUE_OTHER,
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char acct[32];
        snprintf(acct, sizeof(acct), "acct-%zu", i);
        capture_clear(&h.c);
        rp_record r = mk_report(acct, T, kinds[i], 1);
        feed(&h, &r);
        ASSERT_N_EVENTS(&h, 2);
        const cap_event *sc = &h.c.ev[0];
        ASSERT_SC(sc, acct, 1, T, RP_ASTATUS_HEALTHY,
                  RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION, kinds[i]);
        ASSERT_TIME("review_ends_at", sc->sc.has_review_end,
                    sc->sc.review_ends_at, NO_TIME);
        cr_assert_eq(sc->sc.n_issues, 1);
        ASSERT_ISSUE(&sc->sc.issues[0], kinds[i], RP_ISTATUS_UNDER_REVIEW, T,
                     NO_TIME);
        const cap_event *nt = &h.c.ev[1];
        ASSERT_NT(nt, acct, 2, T, kinds[i], RP_STAGE_REVIEW_STARTED,
                  RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
        ASSERT_TIME("notification review_ends_at", nt->nt.has_review_end,
                    nt->nt.review_ends_at, NO_TIME);
    }
    ASSERT_NEXT_END(&h, NO_END);
    capture_clear(&h.c);
    /* Long after the review period and the report window: nothing. */
    tick(&h, T + 100 * DAY);
    rp_record r = mk_delivery("acct-0", T + 100 * DAY);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 0);
    rp_account_view v = view_of(&h, "acct-0");
    ASSERT_ASTATUS(v, RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    ASSERT_ISTATUS(v, RP_ISSUE_INTERNAL_REVIEW, RP_ISTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(lifecycle, report_window_expiry) {
    harness h;
    h_init(&h); /* report.window 7d, SPAMTRAP threshold 3 */
    /* Counted: reports whose event_time is later than clock - 7d. */
    rp_record r = mk_report("inside", T, RP_ISSUE_SPAMTRAP, 2);
    feed(&h, &r);
    r = mk_report("expired", T, RP_ISSUE_SPAMTRAP, 2);
    feed(&h, &r);
    r = mk_report("inside", T + 7 * DAY - 1, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    r = mk_report("expired", T + 7 * DAY, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 2);
    ASSERT_SC(&h.c.ev[0], "inside", 1, T + 7 * DAY - 1, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_SPAMTRAP);
    rp_account_view v = view_of(&h, "expired");
    cr_assert_eq(v.report_count[RP_ISSUE_SPAMTRAP], 1);
    ASSERT_ISTATUS(v, RP_ISSUE_SPAMTRAP, RP_ISTATUS_HEALTHY);
    /* The view counts at the clock too. */
    tick(&h, T + 14 * DAY);
    cr_assert_eq(view_of(&h, "expired").report_count[RP_ISSUE_SPAMTRAP], 0);
    h_free(&h);
}

Test(lifecycle, report_older_than_the_window_counts_nothing) {
    harness h;
    h_init(&h);
    tick(&h, T + 8 * DAY);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 0);
    rp_account_view v = view_of(&h, ACCT);
    cr_assert_eq(v.report_count[RP_ISSUE_SPAMTRAP], 0);
    ASSERT_ISTATUS(v, RP_ISSUE_SPAMTRAP, RP_ISTATUS_HEALTHY);
    h_free(&h);
}
