/*
 * test_engine_output.c - the output stream of docs/rules.md section 7 and the
 * ordering rules of docs/rules.md section 5: per-account sequences, a
 * STATUS_CHANGE before its NOTIFICATIONs, notifications in issue-kind order,
 * the cause, the contents of a StatusChange (review_ends_at, issues array),
 * several accounts interleaved (independent sequences; review ends in time
 * order and, at one instant, in account-id byte order: docs/semantics.md 3), a
 * record older than the clock, texts that never name a reporter, and
 * determinism.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define ACCT "acct-1"
#define T    (T0 + 30 * MINUTE)
#define R    (T + DAY)

static void send(harness *h, const char *acct, int64_t t, int d, int b) {
    feed_deliveries(h, acct, t, d);
    feed_hard_bounces(h, acct, t, b);
}

static void act_all(harness *h, const char *acct, int64_t at,
                    rp_action_type a) {
    rp_record r = mk_action(acct, at, a);
    feed(h, &r);
}

/* Every account's events have sequences 1, 2, 3, ... in output order, and
 * each NOTIFICATION follows a STATUS_CHANGE of the same account and time. */
static void assert_sequences(const capture *c) {
    for (size_t i = 0; i < c->n; i++) {
        uint64_t want = 1;
        const cap_event *prev = NULL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->ev[j].account, c->ev[i].account) == 0) {
                want++;
                prev = &c->ev[j];
            }
        cr_assert_eq(c->ev[i].sequence, want,
                     "event %zu of %s: sequence %llu, expected %llu", i,
                     c->ev[i].account, (unsigned long long)c->ev[i].sequence,
                     (unsigned long long)want);
        if (c->ev[i].kind == RP_EVENT_NOTIFICATION) {
            cr_assert_not_null(prev, "a NOTIFICATION first");
            cr_assert_eq(prev->event_time, c->ev[i].event_time);
            cr_assert(prev->kind == RP_EVENT_STATUS_CHANGE ||
                          prev->nt.issue < c->ev[i].nt.issue,
                      "event %zu: a NOTIFICATION must follow its "
                      "STATUS_CHANGE or one of a lower issue kind",
                      i);
        }
    }
}

Test(output, sequences_from_one_per_account) {
    harness h;
    h_init(&h);
    send(&h, ACCT, T, 95, 5);                 /* 1 SC, 2 NT */
    feed_deliveries(&h, ACCT, T + MINUTE, 1); /* 3 SC (ALMOST_HEALED) */
    tick(&h, R);                              /* 4 SC, 5 NT */
    ASSERT_N_EVENTS(&h, 5);
    const rp_event_kind kinds[] = {
        RP_EVENT_STATUS_CHANGE, RP_EVENT_NOTIFICATION, RP_EVENT_STATUS_CHANGE,
        RP_EVENT_STATUS_CHANGE, RP_EVENT_NOTIFICATION};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(h.c.ev[i].sequence, i + 1);
        cr_assert_eq(h.c.ev[i].kind, kinds[i], "event %zu: kind %s", i,
                     rp_event_kind_name(h.c.ev[i].kind));
    }
    assert_sequences(&h.c);
    cr_assert_eq(view_of(&h, ACCT).sequence, 5);
    rp_engine_stats s = stats_of(&h);
    cr_assert_eq(s.status_changes, 3);
    cr_assert_eq(s.notifications, 2);
    h_free(&h);
}

Test(output, event_id_is_account_and_sequence) {
    rp_event ev = {0};
    ev.account_id = rp_str_c("acct-1");
    ev.sequence = 42;
    char buf[RP_ACCOUNT_ID_MAX + 22];
    cr_assert_eq(rp_event_id_format(&ev, buf, sizeof(buf)), 9);
    cr_assert_str_eq(buf, "acct-1:42");
}

Test(output, one_status_change_then_notifications_in_kind_order) {
    harness h;
    h_init(&h);
    /* SPAMTRAP first, then the bounce review, both at T: both end at R. */
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    send(&h, ACCT, T, 93, 7); /* 0.07: extended at R */
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_SC(&h.c.ev[2], ACCT, 3, T, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    capture_clear(&h.c);

    tick(&h, R);
    ASSERT_N_EVENTS(&h, 3);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 5, R, RP_ASTATUS_UNDER_REVIEW, RP_ASTATUS_UNDER_REVIEW,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R + DAY);
    cr_assert_eq(sc->sc.n_issues, 1);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R + DAY);
    ASSERT_NT(&h.c.ev[1], ACCT, 6, R, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_EXTENDED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_NT(&h.c.ev[2], ACCT, 7, R, RP_ISSUE_SPAMTRAP, RP_STAGE_RESOLVED,
              RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(output, cause_and_issues_array) {
    harness h;
    h_init(&h);
    send(&h, ACCT, T, 95, 5); /* bounce review, ends R */
    capture_clear(&h.c);

    /* A later kind changes: it is the cause; the array holds both. */
    rp_record r = mk_report(ACCT, T + 3 * HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 3, T + 3 * HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_SPAMTRAP);
    /* The earliest review end among issues in review. */
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R);
    cr_assert_eq(sc->sc.n_issues, 2);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R);
    ASSERT_ISSUE(&sc->sc.issues[1], RP_ISSUE_SPAMTRAP, RP_ISTATUS_UNDER_REVIEW,
                 T + 3 * HOUR, R + 3 * HOUR);
    ASSERT_NT(&h.c.ev[1], ACCT, 4, T + 3 * HOUR, RP_ISSUE_SPAMTRAP,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_TIME("notification review_ends_at", h.c.ev[1].nt.has_review_end,
                h.c.ev[1].nt.review_ends_at, R + 3 * HOUR);

    /* A manual kind: no review end of its own. */
    r = mk_report(ACCT, T + 4 * HOUR, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 4);
    sc = &h.c.ev[2];
    ASSERT_SC(sc, ACCT, 5, T + 4 * HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION,
              RP_ISSUE_INTERNAL_REVIEW);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R);
    cr_assert_eq(sc->sc.n_issues, 3);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R);
    ASSERT_ISSUE(&sc->sc.issues[1], RP_ISSUE_SPAMTRAP, RP_ISTATUS_UNDER_REVIEW,
                 T + 3 * HOUR, R + 3 * HOUR);
    ASSERT_ISSUE(&sc->sc.issues[2], RP_ISSUE_INTERNAL_REVIEW,
                 RP_ISTATUS_UNDER_REVIEW, T + 4 * HOUR, NO_TIME);

    /* At R the bounce review (0.05) is extended: the earliest end is now
     * SPAMTRAP's. */
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 6);
    sc = &h.c.ev[4];
    ASSERT_SC(sc, ACCT, 7, R, RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                R + 3 * HOUR);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, T, R + DAY);
    ASSERT_NT(&h.c.ev[5], ACCT, 8, R, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_EXTENDED,
              RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    h_free(&h);
}

Test(output, since_is_when_the_issue_last_left_healthy) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_LISTBOMBING, 1);
    feed(&h, &r);
    tick(&h, R); /* healthy again */
    r = mk_report(ACCT, R + 5 * HOUR, RP_ISSUE_LISTBOMBING, 1);
    feed(&h, &r);
    const cap_event *sc = cap_last_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE);
    ASSERT_SC(sc, ACCT, 5, R + 5 * HOUR, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_LISTBOMBING);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_LISTBOMBING,
                 RP_ISTATUS_UNDER_REVIEW, R + 5 * HOUR, R + 5 * HOUR + DAY);
    h_free(&h);
}

Test(output, a_record_that_changes_nothing_in_the_end_publishes_nothing) {
    harness h;
    h_init(&h);
    send(&h, ACCT, T, 95, 5); /* review started at T, ends at R */
    capture_clear(&h.c);
    /* At the same instant: healed, then started again with the same end
     * and the same since (semantics 13). */
    act_all(&h, ACCT, T, RP_ACTION_END_REVIEW);
    ASSERT_N_EVENTS(&h, 0);
    h_free(&h);
}

Test(output, accounts_interleaved_have_independent_sequences) {
    harness h;
    h_init(&h);
    for (int i = 0; i < 95; i++) {
        rp_record r = mk_delivery("a", T);
        feed(&h, &r);
        r = mk_delivery("b", T);
        feed(&h, &r);
    }
    for (int i = 0; i < 5; i++) {
        rp_record r = mk_hard_bounce("b", T);
        feed(&h, &r);
        r = mk_hard_bounce("a", T);
        feed(&h, &r);
    }
    ASSERT_N_EVENTS(&h, 4);
    /* b reached 5 / 100 first. */
    ASSERT_SC(&h.c.ev[0], "b", 1, T, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[1], "b", 2, T, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_SC(&h.c.ev[2], "a", 1, T, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[3], "a", 2, T, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    rp_record r = mk_report("a", T + HOUR, RP_ISSUE_MAILBOX_PROVIDER, 1);
    feed(&h, &r);
    ASSERT_N_EVENTS(&h, 6);
    cr_assert_eq(h.c.ev[4].sequence, 3);
    cr_assert_eq(view_of(&h, "a").sequence, 4);
    cr_assert_eq(view_of(&h, "b").sequence, 2);
    assert_sequences(&h.c);
    h_free(&h);
}

Test(output, review_ends_of_accounts_in_time_order) {
    harness h;
    h_init(&h);
    /* "a-first" starts first but its review is extended by an action, so
     * "z-second" ends first. */
    send(&h, "a-first", T, 95, 5);         /* ends R */
    send(&h, "z-second", T + HOUR, 95, 5); /* ends R + 1h */
    rp_record r = mk_action_on("a-first", T + 2 * HOUR, RP_ACTION_EXTEND_REVIEW,
                               RP_ISSUE_BOUNCE_RATE);
    feed(&h, &r); /* ends R + 1d */
    capture_clear(&h.c);
    ASSERT_NEXT_END(&h, R + HOUR);

    tick(&h, R + DAY + 30 * MINUTE);
    ASSERT_N_EVENTS(&h, 4);
    ASSERT_SC(&h.c.ev[0], "z-second", 3, R + HOUR, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[1], "z-second", 4, R + HOUR, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_EXTENDED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_SC(&h.c.ev[2], "a-first", 5, R + DAY, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_NT(&h.c.ev[3], "a-first", 6, R + DAY, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_EXTENDED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_NEXT_END(&h, R + HOUR + DAY);
    h_free(&h);
}

Test(output, review_ends_at_one_instant_in_account_id_byte_order) {
    harness h;
    h_init(&h);
    /* Created in this order; byte order is "Zed" < "Zed2" < "alpha". */
    const char *created[] = {"alpha", "Zed2", "Zed"};
    for (int i = 0; i < 3; i++) {
        rp_record r = mk_report(created[i], T, RP_ISSUE_LISTBOMBING, 1);
        feed(&h, &r);
    }
    capture_clear(&h.c);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 6);
    const char *want[] = {"Zed", "Zed2", "alpha"};
    for (int i = 0; i < 3; i++) {
        ASSERT_SC(&h.c.ev[2 * i], want[i], 3, R, RP_ASTATUS_UNDER_REVIEW,
                  RP_ASTATUS_HEALTHY, RP_ISSUE_LISTBOMBING);
        ASSERT_NT(&h.c.ev[2 * i + 1], want[i], 4, R, RP_ISSUE_LISTBOMBING,
                  RP_STAGE_RESOLVED, RP_ASTATUS_HEALTHY);
    }
    h_free(&h);
}

Test(output, a_record_older_than_the_clock_is_applied_at_the_clock) {
    harness h;
    h_init(&h);
    const int64_t clock = T0 + 5 * HOUR + 30 * MINUTE;
    tick(&h, clock);
    send(&h, ACCT, T0 + 10 * MINUTE, 95, 5); /* event_time before the clock */
    cr_assert_eq(rp_engine_clock(h.e), clock);
    ASSERT_N_EVENTS(&h, 2);
    const cap_event *sc = &h.c.ev[0];
    ASSERT_SC(sc, ACCT, 1, clock, RP_ASTATUS_HEALTHY, RP_ASTATUS_UNDER_REVIEW,
              RP_ISSUE_BOUNCE_RATE);
    ASSERT_TIME("review_ends_at", sc->sc.has_review_end, sc->sc.review_ends_at,
                clock + DAY);
    ASSERT_ISSUE(&sc->sc.issues[0], RP_ISSUE_BOUNCE_RATE,
                 RP_ISTATUS_UNDER_REVIEW, clock, clock + DAY);
    /* Counted in the hour of their event_time, in a window ending at the
     * end of the clock's hour. */
    ASSERT_WINDOW(&sc->sc.bounce, 5, 100, T0, T0 + 6 * HOUR);
    ASSERT_NT(&h.c.ev[1], ACCT, 2, clock, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

static bool contains(const char *hay, const char *needle) {
    return hay && strstr(hay, needle) != NULL;
}

Test(output, texts_never_name_the_reporter) {
    harness h;
    h_init(&h);
    rp_record r = mk_report(ACCT, T, RP_ISSUE_SPAMTRAP, 3);
    r.u.report.reporter = rp_str_c("SecretTrapNetwork");
    r.u.report.domain = rp_str_c("example.org");
    r.u.report.detail = rp_str_c("hit at trap SecretTrapNetwork-7");
    feed(&h, &r);
    r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 3);
    r.u.report.reporter = rp_str_c("SecretTrapNetwork");
    feed(&h, &r);
    tick(&h, R);
    ASSERT_N_EVENTS(&h, 4);
    for (size_t i = 0; i < h.c.n; i++) {
        const rp_notification *n = &h.c.ev[i].nt;
        if (h.c.ev[i].kind != RP_EVENT_NOTIFICATION)
            continue;
        cr_assert(!contains(n->title, "SecretTrap"), "title: %s", n->title);
        cr_assert(!contains(n->why, "SecretTrap"), "why: %s", n->why);
        for (size_t j = 0; j < n->n_actions; j++)
            cr_assert(!contains(n->actions[j], "SecretTrap"), "action: %s",
                      n->actions[j]);
    }
    h_free(&h);
}

Test(output, notification_texts_differ_by_stage) {
    harness h;
    h_init(&h);
    send(&h, ACCT, T, 85, 15);
    tick(&h, R);
    const cap_event *start = cap_find_stage(&h.c, ACCT, RP_ISSUE_BOUNCE_RATE,
                                            RP_STAGE_REVIEW_STARTED);
    const cap_event *pause = cap_find_stage(&h.c, ACCT, RP_ISSUE_BOUNCE_RATE,
                                            RP_STAGE_SENDING_PAUSED);
    cr_assert_not_null(start);
    cr_assert_not_null(pause);
    cr_assert_str_neq(start->nt.title, pause->nt.title);
    h_free(&h);
}

/* ------------------------------------------------------------ determinism */

static void scenario(harness *h) {
    rp_record r = mk_action("a", T, RP_ACTION_LINK_ACCOUNT);
    rec_set_related(&r, "b");
    feed(h, &r);
    for (int i = 0; i < 85; i++) {
        r = mk_delivery("a", T + i * MINUTE / 10);
        feed(h, &r);
        r = mk_delivery("c", T + i * MINUTE / 10);
        feed(h, &r);
    }
    feed_hard_bounces(h, "a", T + 10 * MINUTE, 15);
    feed_hard_bounces(h, "c", T + 10 * MINUTE, 7);
    feed_complaints(h, "c", T + 11 * MINUTE, 3);
    r = mk_report("b", T + HOUR, RP_ISSUE_SPAMTRAP, 3);
    feed(h, &r);
    r = mk_report("c", T + 2 * HOUR, RP_ISSUE_VULNERABLE_SITE, 1);
    feed(h, &r);
    size_t next = 0;
    tick(h, R + 20 * MINUTE);
    feed_captured_reports(h, &next);
    r = mk_action_on("a", R + HOUR, RP_ACTION_RESUME_SENDING,
                     RP_ISSUE_BOUNCE_RATE);
    feed(h, &r);
    tick(h, R + 3 * DAY);
    feed_captured_reports(h, &next);
    r = mk_action("c", R + 3 * DAY, RP_ACTION_END_REVIEW);
    feed(h, &r);
}

static bool str_same(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool snap_same(const rp_metric_snapshot *a,
                      const rp_metric_snapshot *b) {
    return a->status == b->status && a->has_rate == b->has_rate &&
           (!a->has_rate || memcmp(&a->rate, &b->rate, sizeof(double)) == 0) &&
           a->count == b->count && a->volume == b->volume &&
           a->window_start == b->window_start && a->window_end == b->window_end;
}

static bool event_same(const cap_event *a, const cap_event *b) {
    if (strcmp(a->account, b->account) || a->sequence != b->sequence ||
        a->event_time != b->event_time || a->kind != b->kind)
        return false;
    if (a->kind == RP_EVENT_STATUS_CHANGE) {
        const rp_status_change *x = &a->sc, *y = &b->sc;
        if (x->previous_status != y->previous_status ||
            x->status != y->status || x->cause != y->cause ||
            x->has_review_end != y->has_review_end ||
            (x->has_review_end && x->review_ends_at != y->review_ends_at) ||
            !snap_same(&x->bounce, &y->bounce) ||
            !snap_same(&x->complaint, &y->complaint) ||
            x->n_issues != y->n_issues)
            return false;
        for (size_t i = 0; i < x->n_issues; i++) {
            const rp_issue_state *p = &x->issues[i], *q = &y->issues[i];
            if (p->kind != q->kind || p->status != q->status ||
                p->since != q->since ||
                p->has_review_end != q->has_review_end ||
                (p->has_review_end && p->review_ends_at != q->review_ends_at))
                return false;
        }
        return true;
    }
    const rp_notification *x = &a->nt, *y = &b->nt;
    if (x->issue != y->issue || x->stage != y->stage ||
        x->account_status != y->account_status ||
        !str_same(x->title, y->title) || !str_same(x->why, y->why) ||
        x->n_actions != y->n_actions || x->has_rate != y->has_rate ||
        (x->has_rate && memcmp(&x->rate, &y->rate, sizeof(double))) ||
        x->has_threshold != y->has_threshold ||
        (x->has_threshold && x->threshold != y->threshold) ||
        x->has_review_end != y->has_review_end ||
        (x->has_review_end && x->review_ends_at != y->review_ends_at))
        return false;
    for (size_t i = 0; i < x->n_actions; i++)
        if (!str_same(x->actions[i], y->actions[i]))
            return false;
    return true;
}

Test(output, the_same_input_gives_the_same_output) {
    harness h1, h2;
    h_init(&h1);
    h_init(&h2);
    scenario(&h1);
    scenario(&h2);
    cr_assert_gt(h1.c.n, 10, "the scenario should publish a fair amount");
    cr_assert_gt(h1.c.n_rep, 0, "the scenario should produce a report");
    cr_assert_eq(h1.c.n, h2.c.n);
    for (size_t i = 0; i < h1.c.n; i++)
        cr_assert(event_same(&h1.c.ev[i], &h2.c.ev[i]), "event %zu differs", i);
    cr_assert_eq(h1.c.n_rep, h2.c.n_rep);
    for (size_t i = 0; i < h1.c.n_rep; i++) {
        cr_assert_str_eq(h1.c.rep[i].account, h2.c.rep[i].account);
        cr_assert_str_eq(h1.c.rep[i].event_id, h2.c.rep[i].event_id);
        cr_assert_eq(h1.c.rep[i].event_time, h2.c.rep[i].event_time);
    }
    assert_sequences(&h1.c);
    h_free(&h1);
    h_free(&h2);
}
