/*
 * test_engine_counting.c - what the engine counts (docs/rules.md section 3):
 * the exclusions of both rates, attribution by sent_time (late feedback, future
 * and very old sent_time held inside the reachable window), and deduplication
 * (docs/semantics.md 1-2: horizon and memory bound).
 *
 * Counts are read through rp_engine_view. Unless a test says otherwise,
 * window.min.volume is out of reach, so each window reaches back to
 * window.max.span (10d) and holds everything sent so far.
 */
#include <criterion/criterion.h>

#include "support.h"

#define ACCT "acct-1"
/* A time inside the hour that starts at T0. */
#define T (T0 + 30 * MINUTE)
/* The window when it reaches back to max span, with the clock in T0's hour. */
#define WSTART (T0 + HOUR - 10 * DAY)
#define WEND   (T0 + HOUR)

static void counting_harness(harness *h) {
    h_config(h);
    h->cfg.window_min_volume = 1000000;
    h_start(h);
}

/* Bounce snapshot (count, volume) and complaint snapshot (count, volume). */
#define ASSERT_COUNTS(h, bc, bv, cc, cv)                                       \
    do {                                                                       \
        rp_account_view v_ = view_of((h), ACCT);                               \
        ASSERT_WINDOW(&v_.bounce, bc, bv, WSTART, WEND);                       \
        ASSERT_WINDOW(&v_.complaint, cc, cv, WSTART, WEND);                    \
    } while (0)

/* ------------------------------------------------------------ bounce rate */

Test(counting, delivery_counts_in_both_denominators) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 3);
    ASSERT_COUNTS(&h, 0, 3, 0, 3);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

Test(counting, simulator_delivery_excluded_from_both) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    rp_record r = mk_delivery(ACCT, T);
    r.u.delivery.simulator = true;
    feed(&h, &r);
    ASSERT_COUNTS(&h, 0, 1, 0, 1);
    h_free(&h);
}

Test(counting, verified_recipient_delivery_excluded_from_bounce_only) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    rp_record r = mk_delivery(ACCT, T);
    r.u.delivery.verified_recipient = true;
    feed(&h, &r);
    /* Not bounce-eligible; still complaint-eligible (simulator = false,
     * feedback_loop = true). */
    ASSERT_COUNTS(&h, 0, 1, 0, 2);
    h_free(&h);
}

Test(counting, feedback_loop_false_excluded_from_complaint_only) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    rp_record r = mk_delivery(ACCT, T);
    r.u.delivery.feedback_loop = false;
    feed(&h, &r);
    ASSERT_COUNTS(&h, 0, 2, 0, 1);
    h_free(&h);
}

Test(counting, hard_bounce_is_a_send_and_a_bounce) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    feed_hard_bounces(&h, ACCT, T, 2);
    /* A bounce is never a complaint-eligible delivery. */
    ASSERT_COUNTS(&h, 2, 3, 0, 1);
    h_free(&h);
}

Test(counting, every_permanent_subtype_but_account_suppression_is_hard) {
    harness h;
    counting_harness(&h);
    int hard = 0, sends = 0;
    for (int s = 0; s < RP_BSUB__COUNT; s++) {
        rp_record r = mk_bounce(ACCT, T, RP_BOUNCE_PERMANENT, s);
        feed(&h, &r);
        sends++;
        if (s != RP_BSUB_ON_ACCOUNT_SUPPRESSION_LIST)
            hard++;
        rp_account_view v = view_of(&h, ACCT);
        cr_assert_eq(v.bounce.count, hard, "after PERMANENT/%s: count %lld",
                     rp_bounce_subtype_name(s), LL(v.bounce.count));
        cr_assert_eq(v.bounce.volume, sends, "after PERMANENT/%s: volume %lld",
                     rp_bounce_subtype_name(s), LL(v.bounce.volume));
    }
    ASSERT_COUNTS(&h, RP_BSUB__COUNT - 1, RP_BSUB__COUNT, 0, 0);
    h_free(&h);
}

Test(counting, on_account_suppression_list_is_a_send_only) {
    harness h;
    counting_harness(&h);
    rp_record r = mk_bounce(ACCT, T, RP_BOUNCE_PERMANENT,
                            RP_BSUB_ON_ACCOUNT_SUPPRESSION_LIST);
    feed(&h, &r);
    ASSERT_COUNTS(&h, 0, 1, 0, 0);
    h_free(&h);
}

Test(counting, transient_and_undetermined_are_sends_only) {
    harness h;
    counting_harness(&h);
    int n = 0;
    for (int s = 0; s < RP_BSUB__COUNT; s++) {
        rp_record r = mk_bounce(ACCT, T, RP_BOUNCE_TRANSIENT, s);
        feed(&h, &r);
        r = mk_bounce(ACCT, T, RP_BOUNCE_UNDETERMINED, s);
        feed(&h, &r);
        n += 2;
    }
    ASSERT_COUNTS(&h, 0, n, 0, 0);
    h_free(&h);
}

Test(counting, simulator_and_verified_bounces_excluded) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    rp_record r = mk_hard_bounce(ACCT, T);
    r.u.bounce.simulator = true;
    feed(&h, &r);
    r = mk_hard_bounce(ACCT, T);
    r.u.bounce.verified_recipient = true;
    feed(&h, &r);
    r = mk_bounce(ACCT, T, RP_BOUNCE_TRANSIENT, RP_BSUB_MAILBOX_FULL);
    r.u.bounce.simulator = true;
    feed(&h, &r);
    ASSERT_COUNTS(&h, 0, 1, 0, 1);
    h_free(&h);
}

/* ------------------------------------------------------------ complaint rate
 */

Test(counting, complaint_counts_without_adding_volume) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 2);
    feed_complaints(&h, ACCT, T, 1);
    ASSERT_COUNTS(&h, 0, 2, 1, 2);
    h_free(&h);
}

Test(counting, every_feedback_type_but_not_spam_counts) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    int n = 0;
    for (int f = 0; f < RP_FEEDBACK__COUNT; f++) {
        rp_record r = mk_complaint(ACCT, T);
        r.u.complaint.feedback_type = f;
        feed(&h, &r);
        if (f != RP_FEEDBACK_NOT_SPAM)
            n++;
        rp_account_view v = view_of(&h, ACCT);
        cr_assert_eq(v.complaint.count, n, "after %s: count %lld",
                     rp_feedback_type_name(f), LL(v.complaint.count));
    }
    ASSERT_COUNTS(&h, 0, 1, RP_FEEDBACK__COUNT - 1, 1);
    h_free(&h);
}

Test(counting, excluded_complaints) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    rp_record r = mk_complaint(ACCT, T);
    r.u.complaint.simulator = true;
    feed(&h, &r);
    r = mk_complaint(ACCT, T);
    r.u.complaint.on_suppression_list = true;
    feed(&h, &r);
    r = mk_complaint(ACCT, T);
    r.u.complaint.feedback_type = RP_FEEDBACK_NOT_SPAM;
    feed(&h, &r);
    ASSERT_COUNTS(&h, 0, 1, 0, 1);
    h_free(&h);
}

Test(counting, complaint_with_five_recipients_counts_once) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    rp_record r = mk_complaint(ACCT, T);
    rec_set_recipients(&r, 5);
    feed(&h, &r);
    ASSERT_COUNTS(&h, 0, 1, 1, 1);
    h_free(&h);
}

Test(counting, reports_and_actions_count_nothing) {
    harness h;
    counting_harness(&h);
    feed_deliveries(&h, ACCT, T, 1);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    r = mk_action(ACCT, T, RP_ACTION_SET_MANUAL_REVIEW);
    feed(&h, &r);
    ASSERT_COUNTS(&h, 0, 1, 0, 1);
    h_free(&h);
}

/* ------------------------------------------------------------ attribution */

/*
 * With window.min.volume = 3 and min span 1h, a window is the fewest whole
 * buckets back from the clock's that hold 3 eligible sends; so window_start
 * tells which hour the third send went to.
 */
Test(counting, late_bounce_counted_in_the_hour_of_its_sent_time) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 3;
    h_start(&h);
    feed_deliveries(&h, ACCT, T0 + 5 * HOUR + 10 * MINUTE, 2);
    rp_record r = mk_hard_bounce(ACCT, T0 + 5 * HOUR + 20 * MINUTE);
    rec_set_sent_time(&r, T0 + HOUR + 40 * MINUTE);
    feed(&h, &r);
    rp_account_view v = view_of(&h, ACCT);
    /* Buckets 5h (2 sends), 4h, 3h, 2h (empty), 1h (the bounce). */
    ASSERT_WINDOW(&v.bounce, 1, 3, T0 + HOUR, T0 + 6 * HOUR);
    h_free(&h);
}

Test(counting, bounce_without_sent_time_counted_at_its_event_time) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 3;
    h_start(&h);
    feed_deliveries(&h, ACCT, T0 + HOUR + 10 * MINUTE, 1);
    feed_deliveries(&h, ACCT, T0 + 5 * HOUR + 10 * MINUTE, 2);
    rp_record r = mk_hard_bounce(ACCT, T0 + 5 * HOUR + 20 * MINUTE);
    feed(&h, &r);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 1, 3, T0 + 5 * HOUR, T0 + 6 * HOUR);
    h_free(&h);
}

Test(counting, late_complaint_counted_in_the_hour_of_its_sent_time) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 3;
    h_start(&h);
    feed_deliveries(&h, ACCT, T0 + HOUR + 10 * MINUTE, 1);
    feed_deliveries(&h, ACCT, T0 + 5 * HOUR + 10 * MINUTE, 2);
    /* The window is [T0+1h, T0+6h). A complaint about mail sent at
     * T0+1h05 is inside it; one about mail sent at T0+0h30 is not. */
    rp_record r = mk_complaint(ACCT, T0 + 5 * HOUR + 30 * MINUTE);
    rec_set_sent_time(&r, T0 + HOUR + 5 * MINUTE);
    feed(&h, &r);
    r = mk_complaint(ACCT, T0 + 5 * HOUR + 30 * MINUTE);
    rec_set_sent_time(&r, T0 + 30 * MINUTE);
    feed(&h, &r);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.complaint, 1, 3, T0 + HOUR, T0 + 6 * HOUR);
    h_free(&h);
}

Test(counting, sent_time_in_the_future_is_clamped_to_the_clock) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 1;
    h_start(&h);
    rp_record r = mk_hard_bounce(ACCT, T0 + 5 * HOUR + 30 * MINUTE);
    rec_set_sent_time(&r, T0 + 10 * HOUR);
    feed(&h, &r);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 1, 1, T0 + 5 * HOUR, T0 + 6 * HOUR);
    /* Later, the bounce is still in the 5h bucket, not the 10h one. */
    tick(&h, T0 + 10 * HOUR + 30 * MINUTE);
    v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 1, 1, T0 + 5 * HOUR, T0 + 11 * HOUR);
    h_free(&h);
}

Test(counting, sent_time_older_than_max_span_held_in_the_oldest_hour) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 1;
    h.cfg.window_max_span = 48 * HOUR;
    h_start(&h);
    /* Clock T0+100h30: its bucket ends at T0+101h; the oldest reachable
     * hour starts at T0+53h. */
    rp_record r = mk_hard_bounce(ACCT, T0 + 100 * HOUR + 30 * MINUTE);
    rec_set_sent_time(&r, T0);
    feed(&h, &r);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 1, 1, T0 + 53 * HOUR, T0 + 101 * HOUR);
    /* One hour later that hour is out of reach: the bounce was there. */
    tick(&h, T0 + 101 * HOUR + 30 * MINUTE);
    v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 0, T0 + 54 * HOUR, T0 + 102 * HOUR);
    h_free(&h);
}

/* ------------------------------------------------------------ dedupe */

Test(counting, duplicate_dropped_and_counted) {
    harness h;
    counting_harness(&h);
    rp_record r = mk_delivery(ACCT, T);
    rec_set_event_id(&r, "dup-1");
    feed(&h, &r);
    feed(&h, &r);
    ASSERT_COUNTS(&h, 0, 1, 0, 1);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 1);
    /* Same event_id, but a different record type: still a duplicate. */
    rp_record b = mk_hard_bounce(ACCT, T);
    rec_set_event_id(&b, "dup-1");
    feed(&h, &b);
    ASSERT_COUNTS(&h, 0, 1, 0, 1);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 2);
    h_free(&h);
}

Test(counting, duplicate_changes_nothing_and_publishes_nothing) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, ACCT, T, 100);
    feed_hard_bounces(&h, ACCT, T, 4);
    rp_record r = mk_hard_bounce(ACCT, T);
    rec_set_event_id(&r, "bounce-x");
    feed(&h, &r); /* 5 / 105 < 0.05 */
    ASSERT_N_EVENTS(&h, 0);
    feed(&h, &r); /* would be 6 / 106 >= 0.05 and start a review */
    ASSERT_N_EVENTS(&h, 0);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 5, 105, T0, T0 + HOUR);
    ASSERT_ISTATUS(v, RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_HEALTHY);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 1);
    h_free(&h);
}

Test(counting, duplicate_still_moves_the_clock) {
    harness h;
    counting_harness(&h);
    rp_record r = mk_delivery(ACCT, T0);
    rec_set_event_id(&r, "dup-1");
    feed(&h, &r);
    r.event_time = T0 + 40 * MINUTE;
    feed(&h, &r);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 1);
    cr_assert_eq(rp_engine_clock(h.e), T0 + 40 * MINUTE);
    h_free(&h);
}

Test(counting, same_event_id_other_account_is_not_a_duplicate) {
    harness h;
    counting_harness(&h);
    rp_record r = mk_delivery(ACCT, T);
    rec_set_event_id(&r, "shared-id");
    feed(&h, &r);
    r.account_id = rp_str_c("acct-2");
    feed(&h, &r);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 0);
    ASSERT_COUNTS(&h, 0, 1, 0, 1);
    rp_account_view v = view_of(&h, "acct-2");
    cr_assert_eq(v.bounce.volume, 1);
    cr_assert_eq(v.complaint.volume, 1);
    h_free(&h);
}

Test(counting, counted_again_after_the_horizon) {
    harness h;
    counting_harness(&h);
    rp_record r = mk_delivery(ACCT, T0);
    rec_set_event_id(&r, "dup-1");
    feed(&h, &r);
    /* At exactly c0 + horizon it is still a duplicate. */
    r.event_time = T0 + HOUR;
    feed(&h, &r);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 1);
    /* Past the horizon it is counted again (the dropped copy did not renew
     * the entry: it was not counted). */
    r.event_time = T0 + HOUR + 1;
    feed(&h, &r);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 1);
    rp_account_view v = view_of(&h, ACCT);
    ASSERT_WINDOW(&v.bounce, 0, 2, T0 + 2 * HOUR - 10 * DAY, T0 + 2 * HOUR);
    h_free(&h);
}

Test(counting, dedupe_memory_bound_forgets_the_oldest_first) {
    harness h;
    h_config(&h);
    h.cfg.window_min_volume = 1000000;
    h.cfg.dedupe_max_entries = 3;
    h_start(&h);
    const char *ids[] = {"e1", "e2", "e3", "e4"};
    for (int i = 0; i < 4; i++) {
        rp_record r = mk_delivery(ACCT, T + i);
        rec_set_event_id(&r, ids[i]);
        feed(&h, &r);
    }
    rp_engine_stats s = stats_of(&h);
    cr_assert_eq(s.dedupe_entries, 3, "entries: %llu",
                 (unsigned long long)s.dedupe_entries);
    cr_assert_eq(s.dedupe_evicted, 1, "evicted: %llu",
                 (unsigned long long)s.dedupe_evicted);
    /* e2 is still held: a duplicate. */
    rp_record r = mk_delivery(ACCT, T + 10);
    rec_set_event_id(&r, "e2");
    feed(&h, &r);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 1);
    /* e1 was forgotten: counted again. */
    r = mk_delivery(ACCT, T + 11);
    rec_set_event_id(&r, "e1");
    feed(&h, &r);
    s = stats_of(&h);
    cr_assert_eq(s.duplicates_dropped, 1);
    cr_assert_eq(s.dedupe_evicted, 2);
    cr_assert_eq(s.dedupe_entries, 3);
    ASSERT_COUNTS(&h, 0, 5, 0, 5);
    /* and held again. */
    r = mk_delivery(ACCT, T + 12);
    rec_set_event_id(&r, "e1");
    feed(&h, &r);
    cr_assert_eq(stats_of(&h).duplicates_dropped, 2);
    h_free(&h);
}
