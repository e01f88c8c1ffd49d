/*
 * test_engine_window.c - the representative window of docs/rules.md section 3,
 * read through rp_engine_view: whole hourly buckets counted back from the
 * clock's until both window.min.volume and window.min.span are met, limited by
 * window.max.span (exact edge) and by an issue's floor (docs/semantics.md
 * 5), empty hours counting as buckets; when a rate is known
 * (rate.min.volume, semantics 6) and that a rate exactly at a threshold
 * reaches it (semantics 7).
 */
#include <criterion/criterion.h>

#include "support.h"

#define ACCT "acct-1"

Test(window, min_span_forces_24_buckets_when_volume_is_met_at_once) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 100;
    h.cfg.window_min_span = 24 * HOUR;
    h_start(&h);
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 10);              /* out */
    feed_deliveries(&h, ACCT, T0 + 6 * HOUR + 59 * MINUTE, 3);    /* out */
    feed_deliveries(&h, ACCT, T0 + 7 * HOUR, 5);                  /* in */
    feed_deliveries(&h, ACCT, T0 + 30 * HOUR + 10 * MINUTE, 200); /* in */
    rp_account_view v = view_of(&h, ACCT);
    /* Clock bucket T0+30h; 24 buckets: T0+7h .. T0+30h. */
    ASSERT_WINDOW(&v.bounce, 0, 205, T0 + 7 * HOUR, T0 + 31 * HOUR);
    ASSERT_WINDOW(&v.complaint, 0, 205, T0 + 7 * HOUR, T0 + 31 * HOUR);
    ASSERT_RATE(v.bounce.has_rate, v.bounce.rate, 0.0);
    h_free(&h);
}

Test(window, stops_at_the_first_bucket_that_reaches_min_volume) {
    harness h;
    h_init(&h); /* min volume 100, min span 1h */
    feed_deliveries(&h, ACCT, T0 + HOUR + 5 * MINUTE, 10);     /* out */
    feed_deliveries(&h, ACCT, T0 + 2 * HOUR + 5 * MINUTE, 60); /* in */
    feed_deliveries(&h, ACCT, T0 + 4 * HOUR + 5 * MINUTE, 50); /* in */
    tick(&h, T0 + 5 * HOUR + 30 * MINUTE);
    rp_account_view v = view_of(&h, ACCT);
    /* 5h: 0, 4h: 50, 3h: 0, 2h: 60 -> 110 >= 100. */
    ASSERT_WINDOW(&v.bounce, 0, 110, T0 + 2 * HOUR, T0 + 6 * HOUR);
    h_free(&h);
}

Test(window, volume_is_of_its_own_rate) {
    harness h;
    h_init(&h); /* min volume 100 */
    /* 100 bounce-eligible sends in the 2h bucket, but only 40 of them
     * complaint-eligible: the complaint window goes further back. */
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 70);
    rp_record r;
    for (int i = 0; i < 60; i++) {
        r = mk_delivery(ACCT, T0 + 2 * HOUR + 5 * MINUTE);
        r.u.delivery.feedback_loop = false;
        feed(&h, &r);
    }
    feed_deliveries(&h, ACCT, T0 + 2 * HOUR + 5 * MINUTE, 40);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 100, T0 + 2 * HOUR, T0 + 3 * HOUR);
    ASSERT_WINDOW(&v.complaint, 0, 110, T0, T0 + 3 * HOUR);
    h_free(&h);
}

Test(window, empty_hours_count_as_buckets) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 1;
    h.cfg.window_min_span = 3 * HOUR;
    h_start(&h);
    feed_deliveries(&h, ACCT, T0 - 30 * MINUTE, 1); /* bucket T0-1h: out */
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 1); /* bucket T0: in */
    tick(&h, T0 + 2 * HOUR + 30 * MINUTE);
    rp_account_view v = view_of(&h, ACCT);
    /* Buckets T0+2h (empty), T0+1h (empty), T0: 3 hours, volume 1. */
    ASSERT_WINDOW(&v.bounce, 0, 1, T0, T0 + 3 * HOUR);
    h_free(&h);
}

Test(window, volume_never_reached_reaches_back_to_max_span) {
    harness h;
    h_init(&h); /* max span 10d */
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 10);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 10, T0 + HOUR - 10 * DAY, T0 + HOUR);
    ASSERT_WINDOW(&v.complaint, 0, 10, T0 + HOUR - 10 * DAY, T0 + HOUR);
    h_free(&h);
}

Test(window, max_span_edge_is_exact) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 1000000;
    h.cfg.window_max_span = 48 * HOUR;
    h_start(&h);
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 10);         /* bucket T0 */
    feed_hard_bounces(&h, ACCT, T0 + HOUR + 30 * MINUTE, 2); /* bucket +1h */
    feed_deliveries(&h, ACCT, T0 + HOUR + 30 * MINUTE, 18);
    /* Window end T0+48h: T0 starts exactly max span before: included. */
    tick(&h, T0 + 47 * HOUR + 30 * MINUTE);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 2, 30, T0, T0 + 48 * HOUR);
    /* Window end T0+49h: T0 is one hour too old; T0+1h is at the edge. */
    tick(&h, T0 + 48 * HOUR + 30 * MINUTE);
    v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 2, 20, T0 + HOUR, T0 + 49 * HOUR);
    ASSERT_WINDOW(&v.complaint, 0, 18, T0 + HOUR, T0 + 49 * HOUR);
    tick(&h, T0 + 49 * HOUR);
    v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 0, T0 + 2 * HOUR, T0 + 50 * HOUR);
    ASSERT_NO_RATE(v.bounce.has_rate, v.bounce.rate);
    h_free(&h);
}

/* A bounce review at T0+0h30 (5 of 100), then 40 sends in each of the
 * hours T0+2h and T0+3h: the issue is ALMOST_HEALED (5 / 180). */
static void floor_setup(harness *h) {
    h_config(h);
    h->cfg.window_min_volume = 1000000;
    h_start(h);
    feed_deliveries(h, ACCT, T0 + 30 * MINUTE, 95);
    feed_hard_bounces(h, ACCT, T0 + 30 * MINUTE, 5);
    feed_deliveries(h, ACCT, T0 + 2 * HOUR + 30 * MINUTE, 40);
    feed_deliveries(h, ACCT, T0 + 3 * HOUR + 30 * MINUTE, 40);
    rp_account_view v = view_of(h, ACCT);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_ALMOST_HEALED);
    capture_clear(&h->c);
}

static void remediate_bounce(harness *h, int64_t at, int64_t effective) {
    rp_record r = mk_action_on(ACCT, at, RP_ACTION_REMEDIATION_SUBMITTED,
                               RP_ISSUE_BOUNCE_RATE);
    rec_set_effective_time(&r, effective);
    feed(h, &r);
}

Test(window, floor_excludes_buckets_that_start_before_it) {
    harness h;
    floor_setup(&h);
    remediate_bounce(&h, T0 + 4 * HOUR + 30 * MINUTE,
                     T0 + 2 * HOUR + 15 * MINUTE);
    rp_account_view v = view_of(&h, ACCT);
    /* T0, T0+1h, T0+2h start before the floor; the window reaches back to
     * the nearer limit, T0+3h. */
    ASSERT_WINDOW(&v.bounce, 0, 40, T0 + 3 * HOUR, T0 + 5 * HOUR);
    /* The floor is the bounce issue's: the complaint window is whole. */
    ASSERT_WINDOW(&v.complaint, 0, 175, T0 + 5 * HOUR - 10 * DAY,
                  T0 + 5 * HOUR);
    ASSERT_NO_RATE(v.bounce.has_rate, v.bounce.rate); /* 40 < 50 */
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_ALMOST_HEALED);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

Test(window, floor_on_an_hour_boundary_keeps_that_hour) {
    harness h;
    floor_setup(&h);
    remediate_bounce(&h, T0 + 4 * HOUR + 30 * MINUTE, T0 + 2 * HOUR);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 80, T0 + 2 * HOUR, T0 + 5 * HOUR);
    ASSERT_RATE(v.bounce.has_rate, v.bounce.rate, 0.0);
    h_free(&h);
}

Test(window, floor_inside_the_clocks_hour_empties_the_window) {
    harness h;
    floor_setup(&h);
    remediate_bounce(&h, T0 + 4 * HOUR + 30 * MINUTE,
                     T0 + 4 * HOUR + 10 * MINUTE);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 0, T0 + 5 * HOUR, T0 + 5 * HOUR);
    ASSERT_NO_RATE(v.bounce.has_rate, v.bounce.rate);
    /* Sending after the floor, in the next hour, counts. */
    feed_deliveries(&h, ACCT, T0 + 5 * HOUR + 1, 7);
    v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 7, T0 + 5 * HOUR, T0 + 6 * HOUR);
    h_free(&h);
}

Test(window, floor_stays_after_the_issue_heals) {
    harness h;
    floor_setup(&h);
    remediate_bounce(&h, T0 + 4 * HOUR + 30 * MINUTE, T0 + 2 * HOUR);
    /* The review started at T0+0h30 ends at T0+1d0h30: ALMOST_HEALED ->
     * HEALTHY. The floor still holds afterwards. */
    tick(&h, T0 + DAY + 2 * HOUR);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_HEALTHY);
    ASSERT_WINDOW(&v.bounce, 0, 80, T0 + 2 * HOUR, T0 + DAY + 3 * HOUR);
    h_free(&h);
}

Test(window, rate_unknown_below_rate_min_volume_known_at_it) {
    harness h;
    h_init(&h); /* rate.min.volume 50 */
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 48);
    feed_hard_bounces(&h, ACCT, T0 + 30 * MINUTE, 1);
    rp_account_view v = view_of(&h, ACCT);
    cr_assert_eq(v.bounce.volume, 49);
    ASSERT_NO_RATE(v.bounce.has_rate, v.bounce.rate);
    ASSERT_NO_RATE(v.complaint.has_rate, v.complaint.rate);
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 1);
    v = view_of(&h, ACCT);
    cr_assert_eq(v.bounce.volume, 50);
    ASSERT_RATE(v.bounce.has_rate, v.bounce.rate, 1.0 / 50.0);
    cr_assert_eq(v.complaint.volume, 49);
    ASSERT_NO_RATE(v.complaint.has_rate, v.complaint.rate);
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 1);
    v = view_of(&h, ACCT);
    ASSERT_RATE(v.complaint.has_rate, v.complaint.rate, 0.0);
    h_free(&h);
}

Test(window, unknown_rate_starts_nothing) {
    harness h;
    h_init(&h);
    feed_hard_bounces(&h, ACCT, T0 + 30 * MINUTE, 49); /* rate 1.0, unknown */
    feed_complaints(&h, ACCT, T0 + 30 * MINUTE, 10);   /* volume 0 */
    ASSERT_N_EVENTS(&h, 0);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_HEALTHY);
    ASSERT_ISTATUS(v, RP_ISSUE_COMPLAINT_RATE, RP_ISTATUS_HEALTHY);
    ASSERT_NO_RATE(v.complaint.has_rate, v.complaint.rate);
    h_free(&h);
}

Test(window, zero_rate_min_volume_still_needs_volume) {
    harness h;
    h_config(&h);
    h.cfg.rate_min_volume = 0;
    h_start(&h);
    feed_complaints(&h, ACCT, T0 + 30 * MINUTE, 1); /* 1 / 0 */
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_NO_RATE(v.complaint.has_rate, v.complaint.rate);
    ASSERT_ISTATUS(v, RP_ISSUE_COMPLAINT_RATE, RP_ISTATUS_HEALTHY);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

Test(window, bounce_rate_exactly_at_review_threshold_starts_a_review) {
    harness h;
    h_init(&h); /* bounce review 0.05 */
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 95);
    feed_hard_bounces(&h, ACCT, T0 + 30 * MINUTE, 4); /* 4 / 99 */
    ASSERT_N_EVENTS(&h, 0);
    feed_hard_bounces(&h, ACCT, T0 + 30 * MINUTE, 1); /* 5 / 100 = 0.05 */
    ASSERT_N_EVENTS(&h, 2);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_UNDER_REVIEW);
    ASSERT_WINDOW(&v.bounce, 5, 100, T0, T0 + HOUR);
    ASSERT_RATE(v.bounce.has_rate, v.bounce.rate, 0.05);
    h_free(&h);
}

Test(window, complaint_rate_exactly_at_review_threshold_starts_a_review) {
    harness h;
    h_init(&h); /* complaint review 0.02 */
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 100);
    feed_complaints(&h, ACCT, T0 + 30 * MINUTE, 1); /* 0.01 */
    ASSERT_N_EVENTS(&h, 0);
    feed_complaints(&h, ACCT, T0 + 30 * MINUTE, 1); /* 0.02 */
    ASSERT_N_EVENTS(&h, 2);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_ISTATUS(v, RP_ISSUE_COMPLAINT_RATE, RP_ISTATUS_UNDER_REVIEW);
    ASSERT_RATE(v.complaint.has_rate, v.complaint.rate, 0.02);
    h_free(&h);
}

Test(window, rate_exactly_at_pause_threshold_pauses_at_review_end) {
    harness h;
    h_init(&h); /* bounce pause 0.10 */
    feed_deliveries(&h, ACCT, T0 + 30 * MINUTE, 90);
    feed_hard_bounces(&h, ACCT, T0 + 30 * MINUTE, 10); /* 10 / 100 */
    tick(&h, T0 + 30 * MINUTE + DAY);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_RATE(v.bounce.has_rate, v.bounce.rate, 0.10);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_SENDING_PAUSE);
    ASSERT_ASTATUS(v, RP_ASTATUS_SENDING_PAUSED);
    h_free(&h);
}
