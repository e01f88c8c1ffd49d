/*
 * test_engine_links.c - LINK/UNLINK_ACCOUNT (docs/rules.md section 5)
 * and the RELATED_ACCOUNT reports of docs/rules.md section 4: links
 * publish nothing, are directed and idempotent, self links do not apply,
 * and a pause sends a report to each linked account only when it enters
 * SENDING_PAUSED. The helpers are engine_actions_support.h's.
 */
#include "engine_actions_support.h"

/* ------------------------------------------------------------ links */

Test(actions, links_publish_nothing_and_self_links_do_not_apply) {
    harness h;
    h_init(&h);
    link(&h, ACCT, "zed", T, RP_ACTION_LINK_ACCOUNT);
    link(&h, ACCT, "bob", T, RP_ACTION_LINK_ACCOUNT);
    ASSERT_N_EVENTS(&h, 0);
    cr_assert_eq(NOT_APPLIED(&h), 0);
    cr_assert_eq(view_of(&h, ACCT).n_links, 2);
    link(&h, ACCT, ACCT, T, RP_ACTION_LINK_ACCOUNT);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    cr_assert_eq(view_of(&h, ACCT).n_links, 2);
    /* Without related_account_id. */
    act_all(&h, ACCT, T, RP_ACTION_LINK_ACCOUNT);
    cr_assert_eq(NOT_APPLIED(&h), 2);
    act_all(&h, ACCT, T, RP_ACTION_UNLINK_ACCOUNT);
    cr_assert_eq(NOT_APPLIED(&h), 3);
    /* Unlinking an account that is not linked. */
    link(&h, ACCT, "nobody", T, RP_ACTION_UNLINK_ACCOUNT);
    cr_assert_eq(NOT_APPLIED(&h), 4);
    cr_assert_eq(view_of(&h, ACCT).n_links, 2);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

Test(actions, unlink_on_an_account_without_links_does_not_apply) {
    harness h;
    h_init(&h);
    link(&h, "fresh", "other", T, RP_ACTION_UNLINK_ACCOUNT);
    cr_assert_eq(NOT_APPLIED(&h), 1);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

Test(actions, pause_sends_a_related_account_report_to_each_link) {
    harness h;
    h_init(&h);
    link(&h, ACCT, "zed", T, RP_ACTION_LINK_ACCOUNT);
    link(&h, ACCT, "bob", T, RP_ACTION_LINK_ACCOUNT);
    bounce_paused(&h); /* SENDING_PAUSED at R by STATUS_CHANGE #3 */
    const cap_event *sc = cap_last_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE);
    ASSERT_SC(sc, ACCT, 3, R, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_BOUNCE_RATE);

    cr_assert_eq(h.c.n_rep, 2, "reports: expected 2, got %zu", h.c.n_rep);
    const char *to[] = {"zed", "bob"}; /* in the order the links were made */
    for (int i = 0; i < 2; i++) {
        const cap_report *x = &h.c.rep[i];
        cr_assert_eq(x->type, RP_REC_REPORT);
        cr_assert_str_eq(x->account, to[i]);
        cr_assert_str_eq(x->event_id, "related:" ACCT ":3");
        cr_assert_eq(x->event_time, R);
        cr_assert_eq(x->kind, RP_ISSUE_RELATED_ACCOUNT);
        cr_assert_eq(x->incidents, 1);
        cr_assert(x->has_related);
        cr_assert_str_eq(x->related, ACCT);
        cr_assert(!x->has_reporter, "a produced report names no reporter");
    }
    cr_assert_eq(stats_of(&h).related_reports, 2);

    /* Applied (as repute replay does), they start a manual review. */
    size_t mark = h.c.n, next = 0;
    feed_captured_reports(&h, &next);
    cr_assert_eq(h.c.n - mark, 4);
    ASSERT_SC(&h.c.ev[mark], "zed", 1, R, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION,
              RP_ISSUE_RELATED_ACCOUNT);
    ASSERT_NT(&h.c.ev[mark + 1], "zed", 2, R, RP_ISSUE_RELATED_ACCOUNT,
              RP_STAGE_REVIEW_STARTED,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    ASSERT_SC(&h.c.ev[mark + 2], "bob", 1, R, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION,
              RP_ISSUE_RELATED_ACCOUNT);
    cr_assert_eq(view_of(&h, "bob").report_count[RP_ISSUE_RELATED_ACCOUNT], 1);
    h_free(&h);
}

Test(actions, unlinked_accounts_get_no_report) {
    harness h;
    h_init(&h);
    link(&h, ACCT, "zed", T, RP_ACTION_LINK_ACCOUNT);
    link(&h, ACCT, "bob", T, RP_ACTION_LINK_ACCOUNT);
    link(&h, ACCT, "zed", T, RP_ACTION_UNLINK_ACCOUNT);
    cr_assert_eq(NOT_APPLIED(&h), 0);
    cr_assert_eq(view_of(&h, ACCT).n_links, 1);
    bounce_paused(&h);
    cr_assert_eq(h.c.n_rep, 1);
    cr_assert_str_eq(h.c.rep[0].account, "bob");
    h_free(&h);
}

Test(actions, links_are_directed) {
    harness h;
    h_init(&h);
    link(&h, "other", ACCT, T, RP_ACTION_LINK_ACCOUNT);
    bounce_paused(&h);
    cr_assert_eq(h.c.n_rep, 0);
    h_free(&h);
}

Test(actions, a_link_made_twice_is_one_link) {
    harness h;
    h_init(&h);
    link(&h, ACCT, "bob", T, RP_ACTION_LINK_ACCOUNT);
    link(&h, ACCT, "bob", T, RP_ACTION_LINK_ACCOUNT);
    cr_assert_eq(view_of(&h, ACCT).n_links, 1);
    bounce_paused(&h);
    cr_assert_eq(h.c.n_rep, 1);
    h_free(&h);
}

Test(actions, related_reports_only_when_entering_sending_paused) {
    harness h;
    h_init(&h);
    link(&h, ACCT, "bob", T, RP_ACTION_LINK_ACCOUNT);
    feed_deliveries(&h, ACCT, T, 85);
    feed_hard_bounces(&h, ACCT, T, 15);
    spamtrap_review(&h, ACCT, T + 2 * HOUR); /* ends at R + 2h */
    tick(&h, R);                             /* bounce paused */
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_SENDING_PAUSED);
    cr_assert_eq(h.c.n_rep, 1);
    cr_assert_str_eq(h.c.rep[0].event_id, "related:" ACCT ":5");
    /* A second issue paused: the account was already SENDING_PAUSED. */
    act(&h, ACCT, R + HOUR, RP_ACTION_PAUSE_SENDING, RP_ISSUE_SPAMTRAP);
    ASSERT_ISTATUS(view_of(&h, ACCT), RP_ISSUE_SPAMTRAP,
                   RP_ISTATUS_SENDING_PAUSE);
    cr_assert_eq(h.c.n_rep, 1);
    /* Leaving and entering again produces a new one, with the sequence of
     * that STATUS_CHANGE. */
    act_all(&h, ACCT, R + 2 * HOUR, RP_ACTION_RESUME_SENDING);
    ASSERT_ASTATUS(view_of(&h, ACCT), RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(h.c.n_rep, 1);
    act(&h, ACCT, R + 3 * HOUR, RP_ACTION_PAUSE_SENDING, RP_ISSUE_SPAMTRAP);
    cr_assert_eq(h.c.n_rep, 2);
    const cap_event *sc = cap_last_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE);
    /* 1-2 bounce review, 3-4 SPAMTRAP review, 5-6 bounce pause, 7-8
     * SPAMTRAP pause, 9-11 resume both, 12 this pause. */
    ASSERT_SC(sc, ACCT, 12, R + 3 * HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_SPAMTRAP);
    cr_assert_str_eq(h.c.rep[1].event_id, "related:" ACCT ":12");
    cr_assert_eq(h.c.rep[1].event_time, R + 3 * HOUR);
    h_free(&h);
}
