/*
 * test_engine_tenants.c - the rules of tenants (docs/rules.md section 10),
 * one test per rule: a tenant paused while its account stays healthy; a
 * tenant that is most of its account's volume taking the account into
 * review too (the account's events first, one sequence); reports and
 * actions by tenant; account-level actions with a tenant not applying; a
 * tenant's pause sending no RELATED_ACCOUNT report; duplicates dropped for
 * both; the order of review ends at one instant; the tenant thresholds;
 * the limit per account; forgetting idle tenants; the views and counts.
 * The changelog of tenants is in test_engine_tenants_state.c, the
 * differential test in test_engine_tenants_diff.c.
 *
 * Config (support.h): bounce review/pause 0.05/0.10, window.min.volume
 * 100, rate.min.volume 50, window.max.span 10d, review.period 1d, 2
 * extensions, report.window 7d; tenant rates set explicitly per test.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define ACCT "acct-1"
#define T    (T0 + 30 * MINUTE)

/* The harness with tenant rates equal to the account's and the default
 * limit, unless a test changes h->cfg before h_start(). */
static void t_config(harness *h) {
    h_config(h);
    h->cfg.tenant_bounce_review_rate = h->cfg.bounce_review_rate;
    h->cfg.tenant_bounce_pause_rate = h->cfg.bounce_pause_rate;
    h->cfg.tenant_complaint_review_rate = h->cfg.complaint_review_rate;
    h->cfg.tenant_complaint_pause_rate = h->cfg.complaint_pause_rate;
    h->cfg.tenant_max_per_account = 1000;
}

static void t_init(harness *h) {
    t_config(h);
    h_start(h);
}

static void feed_t(harness *h, rp_record r, const char *tenant) {
    r.tenant = tenant ? rp_str_c(tenant) : (rp_str){NULL, 0};
    feed(h, &r);
}

static void send_t(harness *h, const char *acct, const char *tenant, int64_t t,
                   int deliveries, int hard) {
    for (int i = 0; i < deliveries; i++)
        feed_t(h, mk_delivery(acct, t), tenant);
    for (int i = 0; i < hard; i++)
        feed_t(h, mk_hard_bounce(acct, t), tenant);
}

static rp_account_view tview(harness *h, const char *acct, const char *tenant) {
    rp_account_view v;
    int rc = rp_engine_view_tenant(h->e, rp_str_c(acct), rp_str_c(tenant), &v);
    cr_assert_eq(rc, 0, "tenant %s of %s: not found", tenant, acct);
    return v;
}

static bool has_tenant(harness *h, const char *acct, const char *tenant) {
    rp_account_view v;
    return rp_engine_view_tenant(h->e, rp_str_c(acct), rp_str_c(tenant), &v) ==
           0;
}

/* The i-th captured event must be of this tenant ("" for the account). */
#define ASSERT_TENANT(ev, name)                                                \
    do {                                                                       \
        const cap_event *t_ = (ev);                                            \
        cr_assert_str_eq(t_->tenant, (name),                                   \
                         "tenant: expected '%s', got '%s'", (name),            \
                         t_->tenant);                                          \
        cr_assert_eq(t_->has_tenant, (name)[0] != '\0');                       \
    } while (0)

/* ------------------------------------------------------------ rules */

Test(tenants, paused_while_account_healthy) {
    harness h;
    t_init(&h);
    send_t(&h, ACCT, NULL, T, 1000, 0);
    send_t(&h, ACCT, "bad-list", T, 80, 20);
    /* The tenant goes into review; the account (20 / 1100) does not. */
    cr_assert_eq(h.c.n, 2);
    ASSERT_SC(&h.c.ev[0], ACCT, 1, T, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TENANT(&h.c.ev[0], "bad-list");
    ASSERT_NT(&h.c.ev[1], ACCT, 2, T, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_TENANT(&h.c.ev[1], "bad-list");
    ASSERT_WINDOW(&h.c.ev[0].sc.bounce, 5, 85, T0 + HOUR - 10 * DAY, T0 + HOUR);

    tick(&h, T + DAY);
    cr_assert_eq(h.c.n, 4);
    ASSERT_SC(&h.c.ev[2], ACCT, 3, T + DAY, RP_ASTATUS_UNDER_REVIEW,
              RP_ASTATUS_SENDING_PAUSED, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TENANT(&h.c.ev[2], "bad-list");
    /* In a tenant's notification, account_status is the tenant status. */
    ASSERT_NT(&h.c.ev[3], ACCT, 4, T + DAY, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_SENDING_PAUSED, RP_ASTATUS_SENDING_PAUSED);
    ASSERT_RATE(h.c.ev[3].nt.has_threshold, h.c.ev[3].nt.threshold, 0.10);
    /* The texts speak of the tenant (the engine names it to them). */
    cr_assert_not_null(strstr(h.c.ev[3].nt.why, "bad-list"), "why: %s",
                       h.c.ev[3].nt.why);

    rp_account_view a = view_of(&h, ACCT);
    cr_assert_eq(a.status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(a.n_tenants, 1);
    cr_assert_null(a.tenant.ptr);
    cr_assert_eq(a.sequence, 4);
    ASSERT_RATE(a.bounce.has_rate, a.bounce.rate, 20.0 / 1100.0);
    rp_account_view t = tview(&h, ACCT, "bad-list");
    cr_assert_eq(t.status, RP_ASTATUS_SENDING_PAUSED);
    cr_assert(rp_str_eq(t.tenant, rp_str_c("bad-list")));
    cr_assert(rp_str_eq(t.account_id, rp_str_c(ACCT)));
    cr_assert_eq(t.sequence, 4);
    cr_assert_eq(t.issues[RP_ISSUE_BOUNCE_RATE].status,
                 RP_ISTATUS_SENDING_PAUSE);

    uint64_t acc[RP_ASTATUS__COUNT], ten[RP_ASTATUS__COUNT];
    rp_engine_status_counts(h.e, acc);
    rp_engine_tenant_status_counts(h.e, ten);
    cr_assert_eq(acc[RP_ASTATUS_HEALTHY], 1);
    cr_assert_eq(acc[RP_ASTATUS_SENDING_PAUSED], 0);
    cr_assert_eq(ten[RP_ASTATUS_SENDING_PAUSED], 1);
    cr_assert_eq(ten[RP_ASTATUS_HEALTHY], 0);
    cr_assert_eq(stats_of(&h).tenants, 1);
    h_free(&h);
}

Test(tenants, most_of_the_volume_takes_the_account) {
    harness h;
    t_init(&h);
    send_t(&h, ACCT, NULL, T, 5, 0);
    send_t(&h, ACCT, "big", T, 90, 5);
    /* The fifth bounce takes both over 5%: the account's events first,
     * then the tenant's, numbered together. */
    cr_assert_eq(h.c.n, 4);
    ASSERT_SC(&h.c.ev[0], ACCT, 1, T, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TENANT(&h.c.ev[0], "");
    ASSERT_RATE(h.c.ev[0].sc.bounce.has_rate, h.c.ev[0].sc.bounce.rate,
                5.0 / 100.0);
    ASSERT_NT(&h.c.ev[1], ACCT, 2, T, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_TENANT(&h.c.ev[1], "");
    ASSERT_SC(&h.c.ev[2], ACCT, 3, T, RP_ASTATUS_HEALTHY,
              RP_ASTATUS_UNDER_REVIEW, RP_ISSUE_BOUNCE_RATE);
    ASSERT_TENANT(&h.c.ev[2], "big");
    ASSERT_RATE(h.c.ev[2].sc.bounce.has_rate, h.c.ev[2].sc.bounce.rate,
                5.0 / 95.0);
    ASSERT_NT(&h.c.ev[3], ACCT, 4, T, RP_ISSUE_BOUNCE_RATE,
              RP_STAGE_REVIEW_STARTED, RP_ASTATUS_UNDER_REVIEW);
    ASSERT_TENANT(&h.c.ev[3], "big");
    h_free(&h);
}

Test(tenants, own_rate_thresholds) {
    harness h;
    t_config(&h);
    h.cfg.tenant_bounce_review_rate = 0.20;
    h.cfg.tenant_bounce_pause_rate = 0.30;
    h_start(&h);
    send_t(&h, ACCT, "lenient", T, 90, 10);
    /* 10%: the account (0.05) goes into review, the tenant (0.20) not. */
    cr_assert_eq(h.c.n, 2);
    ASSERT_TENANT(&h.c.ev[0], "");
    cr_assert_eq(tview(&h, ACCT, "lenient").status, RP_ASTATUS_HEALTHY);
    send_t(&h, ACCT, "lenient", T, 0, 20); /* 30 / 120 = 25% */
    const cap_event *nt = cap_last(&h.c, ACCT);
    ASSERT_TENANT(nt, "lenient");
    cr_assert_eq(nt->nt.stage, RP_STAGE_REVIEW_STARTED);
    ASSERT_RATE(nt->nt.has_threshold, nt->nt.threshold, 0.20);
    h_free(&h);
}

Test(tenants, reports_and_actions_by_tenant) {
    harness h;
    t_init(&h);
    feed_t(&h, mk_report(ACCT, T, RP_ISSUE_DIRECT_FEEDBACK, 1), "t1");
    cr_assert_eq(h.c.n, 2);
    ASSERT_TENANT(&h.c.ev[0], "t1");
    cr_assert_eq(view_of(&h, ACCT).status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(view_of(&h, ACCT).report_count[RP_ISSUE_DIRECT_FEEDBACK], 0);
    rp_account_view t = tview(&h, ACCT, "t1");
    cr_assert_eq(t.status, RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(t.report_count[RP_ISSUE_DIRECT_FEEDBACK], 1);

    /* An action on the account does not reach the tenant... */
    uint64_t na = stats_of(&h).actions_not_applied;
    feed_t(&h, mk_action(ACCT, T + HOUR, RP_ACTION_PAUSE_SENDING), NULL);
    cr_assert_eq(stats_of(&h).actions_not_applied, na + 1);
    cr_assert_eq(tview(&h, ACCT, "t1").status, RP_ASTATUS_UNDER_REVIEW);
    /* ...the same naming the tenant does, to it alone. */
    feed_t(&h, mk_action(ACCT, T + HOUR, RP_ACTION_PAUSE_SENDING), "t1");
    cr_assert_eq(tview(&h, ACCT, "t1").status, RP_ASTATUS_SENDING_PAUSED);
    cr_assert_eq(view_of(&h, ACCT).status, RP_ASTATUS_HEALTHY);
    feed_t(&h,
           mk_action_on(ACCT, T + 2 * HOUR, RP_ACTION_RESUME_SENDING,
                        RP_ISSUE_DIRECT_FEEDBACK),
           "t1");
    const cap_event *nt = cap_last(&h.c, ACCT);
    ASSERT_TENANT(nt, "t1");
    cr_assert_eq(nt->nt.stage, RP_STAGE_SENDING_RESUMED);
    feed_t(&h, mk_action(ACCT, T + 3 * HOUR, RP_ACTION_END_REVIEW), "t1");
    cr_assert_eq(tview(&h, ACCT, "t1").status, RP_ASTATUS_HEALTHY);
    /* A report naming another tenant is that tenant's alone. */
    feed_t(&h, mk_report(ACCT, T + 3 * HOUR, RP_ISSUE_DIRECT_FEEDBACK, 1),
           "t2");
    cr_assert_eq(tview(&h, ACCT, "t1").status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(tview(&h, ACCT, "t2").status, RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(view_of(&h, ACCT).n_tenants, 2);
    h_free(&h);
}

Test(tenants, account_level_actions_with_tenant_do_not_apply) {
    harness h;
    t_init(&h);
    uint64_t na = stats_of(&h).actions_not_applied;
    feed_t(&h, mk_action(ACCT, T, RP_ACTION_SET_MANUAL_REVIEW), "t1");
    rp_record link = mk_action(ACCT, T, RP_ACTION_LINK_ACCOUNT);
    rec_set_related(&link, "other");
    feed_t(&h, link, "t1");
    cr_assert_eq(stats_of(&h).actions_not_applied, na + 2);
    rp_account_view a = view_of(&h, ACCT);
    cr_assert(!a.manual_review);
    cr_assert_eq(a.n_links, 0);
    cr_assert_eq(h.c.n, 0);

    /* The tenant uses its account's flag: set on the account, its bounce
     * review ends in PENDING_SENDING_PAUSE. */
    feed_t(&h, mk_action(ACCT, T, RP_ACTION_SET_MANUAL_REVIEW), NULL);
    cr_assert_eq(stats_of(&h).actions_not_applied, na + 2);
    send_t(&h, ACCT, NULL, T, 2000, 0);
    send_t(&h, ACCT, "t1", T, 80, 20);
    tick(&h, T + DAY);
    cr_assert_eq(tview(&h, ACCT, "t1").status,
                 RP_ASTATUS_PENDING_SENDING_PAUSE);
    cr_assert(tview(&h, ACCT, "t1").manual_review);
    cr_assert_eq(view_of(&h, ACCT).status, RP_ASTATUS_HEALTHY);
    h_free(&h);
}

Test(tenants, tenant_pause_sends_no_related_report) {
    harness h;
    t_init(&h);
    rp_record link = mk_action(ACCT, T, RP_ACTION_LINK_ACCOUNT);
    rec_set_related(&link, "other");
    feed_t(&h, link, NULL);
    feed_t(&h, mk_action(ACCT, T, RP_ACTION_PAUSE_SENDING), NULL);
    feed_t(&h, mk_report(ACCT, T, RP_ISSUE_DIRECT_FEEDBACK, 1), "t1");
    feed_t(&h, mk_action(ACCT, T, RP_ACTION_PAUSE_SENDING), "t1");
    cr_assert_eq(tview(&h, ACCT, "t1").status, RP_ASTATUS_SENDING_PAUSED);
    cr_assert_eq(h.c.n_rep, 0);
    cr_assert_eq(stats_of(&h).related_reports, 0);
    /* The account's own pause still does. */
    feed_t(&h, mk_report(ACCT, T, RP_ISSUE_DIRECT_FEEDBACK, 1), NULL);
    feed_t(&h, mk_action(ACCT, T, RP_ACTION_PAUSE_SENDING), NULL);
    cr_assert_eq(view_of(&h, ACCT).status, RP_ASTATUS_SENDING_PAUSED);
    cr_assert_eq(h.c.n_rep, 1);
    cr_assert_str_eq(h.c.rep[0].account, "other");
    h_free(&h);
}

Test(tenants, duplicate_dropped_for_both) {
    harness h;
    t_init(&h);
    rp_record r = mk_delivery(ACCT, T);
    rec_set_event_id(&r, "same");
    feed_t(&h, r, "t1");
    feed_t(&h, r, "t1");
    /* The same event id under another tenant is the same record. */
    feed_t(&h, r, "t2");
    cr_assert_eq(stats_of(&h).duplicates_dropped, 2);
    cr_assert_eq(view_of(&h, ACCT).complaint.volume, 1);
    cr_assert_eq(tview(&h, ACCT, "t1").complaint.volume, 1);
    cr_assert(!has_tenant(&h, ACCT, "t2"));
    h_free(&h);
}

/* ------------------------------------------------------------ order */

static const char *who(const cap_event *x, char *buf, size_t n) {
    snprintf(buf, n, "%s/%s", x->account, x->tenant);
    return buf;
}

Test(tenants, review_ends_at_one_instant) {
    harness h;
    t_init(&h);
    /* Reviews that all end at T + 1d, started in a scrambled order. */
    feed_t(&h, mk_report("b", T, RP_ISSUE_DIRECT_FEEDBACK, 1), "aa");
    feed_t(&h, mk_report("a", T, RP_ISSUE_DIRECT_FEEDBACK, 1), "zeta");
    feed_t(&h, mk_report("b", T, RP_ISSUE_DIRECT_FEEDBACK, 1), NULL);
    feed_t(&h, mk_report("a", T, RP_ISSUE_DIRECT_FEEDBACK, 1), "alpha");
    feed_t(&h, mk_report("a", T, RP_ISSUE_DIRECT_FEEDBACK, 1), "alph");
    feed_t(&h, mk_report("a", T, RP_ISSUE_DIRECT_FEEDBACK, 1), NULL);
    cr_assert_eq(rp_engine_next_review_end(h.e), T + DAY);
    capture_clear(&h.c);
    tick(&h, T + DAY);
    const char *want[] = {"a/", "a/alph", "a/alpha", "a/zeta", "b/", "b/aa"};
    cr_assert_eq(h.c.n, 12, "two events per entity, got %zu", h.c.n);
    for (size_t i = 0; i < 6; i++) {
        char buf[2 * RP_TENANT_MAX + 8];
        const cap_event *sc = &h.c.ev[2 * i];
        cr_assert_eq(sc->kind, RP_EVENT_STATUS_CHANGE);
        cr_assert_str_eq(who(sc, buf, sizeof(buf)), want[i],
                         "review end %zu: expected %s, got %s", i, want[i],
                         buf);
        cr_assert_eq(h.c.ev[2 * i + 1].nt.stage, RP_STAGE_RESOLVED);
    }
    /* One sequence per account, through its tenants' events. */
    for (size_t i = 0; i < 8; i++)
        cr_assert_eq(h.c.ev[i].sequence, 9 + i, "a: sequence %zu", i);
    cr_assert_eq(h.c.ev[8].sequence, 5);
    cr_assert_eq(h.c.ev[11].sequence, 8);
    h_free(&h);
}

static int collect_names(void *opaque, const rp_account_view *v) {
    char *out = opaque;
    strncat(out, v->tenant.ptr, v->tenant.len);
    strcat(out, ",");
    return 0;
}

static int count_flagged(void *opaque, const rp_account_view *v) {
    size_t *n = opaque;
    n[v->tenant.ptr ? 1 : 0]++;
    return 0;
}

Test(tenants, views_in_name_order_and_flagged) {
    harness h;
    t_init(&h);
    const char *names[] = {"m", "b", "\xc3\xa9t\xc3\xa9", "a", "ab", "z"};
    for (size_t i = 0; i < 6; i++)
        feed_t(&h, mk_delivery(ACCT, T), names[i]);
    feed_t(&h, mk_report(ACCT, T, RP_ISSUE_DIRECT_FEEDBACK, 1), "ab");
    feed_t(&h, mk_report("other", T, RP_ISSUE_DIRECT_FEEDBACK, 1), NULL);
    char buf[128] = "";
    cr_assert_eq(
        rp_engine_foreach_tenant(h.e, rp_str_c(ACCT), collect_names, buf), 0);
    cr_assert_str_eq(buf, "a,ab,b,m,z,\xc3\xa9t\xc3\xa9,");
    cr_assert_eq(
        rp_engine_foreach_tenant(h.e, rp_str_c("nobody"), collect_names, buf),
        RP_ENOTFOUND);
    size_t n[2] = {0, 0};
    rp_engine_foreach_flagged(h.e, count_flagged, n);
    cr_assert_eq(n[0], 1, "flagged accounts");
    cr_assert_eq(n[1], 1, "flagged tenants");
    cr_assert_eq(view_of(&h, ACCT).n_tenants, 6);
    h_free(&h);
}

static int sum_sends(void *opaque, const rp_hour_counts *hc) {
    uint32_t *n = opaque;
    *n += hc->sends;
    return 0;
}

Test(tenants, hours_of_a_tenant) {
    harness h;
    t_init(&h);
    send_t(&h, ACCT, NULL, T, 5, 0);
    send_t(&h, ACCT, "t", T, 2, 1);
    send_t(&h, ACCT, "t", T + 2 * HOUR, 4, 0);
    uint32_t n = 0;
    cr_assert_eq(rp_engine_tenant_hours(h.e, rp_str_c(ACCT), rp_str_c("t"), T0,
                                        T0 + DAY, sum_sends, &n),
                 0);
    cr_assert_eq(n, 7);
    n = 0;
    rp_engine_hours(h.e, rp_str_c(ACCT), T0, T0 + DAY, sum_sends, &n);
    cr_assert_eq(n, 12);
    cr_assert_eq(rp_engine_tenant_hours(h.e, rp_str_c(ACCT), rp_str_c("u"), T0,
                                        T0 + DAY, sum_sends, &n),
                 RP_ENOTFOUND);
    h_free(&h);
}

/* ------------------------------------------------------------ bounds */

Test(tenants, limit_per_account) {
    harness h;
    t_config(&h);
    h.cfg.tenant_max_per_account = 3;
    h_start(&h);
    send_t(&h, ACCT, "t1", T, 1, 0);
    send_t(&h, ACCT, "t2", T, 1, 0);
    send_t(&h, ACCT, "t3", T, 1, 0);
    cr_assert_eq(h.c.n_overflow, 0);
    /* A fourth: counted in the account, not held, reported once. */
    send_t(&h, ACCT, "t4", T, 2, 0);
    cr_assert_eq(view_of(&h, ACCT).complaint.volume, 5);
    cr_assert(!has_tenant(&h, ACCT, "t4"));
    cr_assert_eq(stats_of(&h).tenant_overflows, 2);
    cr_assert_eq(h.c.n_overflow, 1);
    cr_assert_str_eq(h.c.overflow_account, ACCT);
    /* A report or an action naming it applies to nothing. */
    uint64_t na = stats_of(&h).actions_not_applied;
    feed_t(&h, mk_report(ACCT, T, RP_ISSUE_DIRECT_FEEDBACK, 1), "t4");
    feed_t(&h, mk_action(ACCT, T, RP_ACTION_PAUSE_SENDING), "t4");
    cr_assert_eq(h.c.n, 0);
    cr_assert_eq(view_of(&h, ACCT).report_count[RP_ISSUE_DIRECT_FEEDBACK], 0);
    cr_assert_eq(stats_of(&h).actions_not_applied, na + 1);
    cr_assert_eq(stats_of(&h).tenant_overflows, 4);
    cr_assert_eq(h.c.n_overflow, 1);
    /* Held tenants still take their records; another account has room. */
    send_t(&h, ACCT, "t2", T, 1, 0);
    cr_assert_eq(tview(&h, ACCT, "t2").complaint.volume, 2);
    send_t(&h, "acct-2", "t4", T, 1, 0);
    cr_assert(has_tenant(&h, "acct-2", "t4"));
    cr_assert_eq(stats_of(&h).tenants, 4);
    h_free(&h);
}

Test(tenants, forgetting_idle_healthy_tenants) {
    harness h;
    t_init(&h); /* window.max.span 10d, report.window 7d: idle after 10d */
    send_t(&h, ACCT, "quiet", T, 3, 0);
    feed_t(&h, mk_report(ACCT, T, RP_ISSUE_INTERNAL_REVIEW, 1), "manual");
    send_t(&h, ACCT, "busy", T, 1, 0);
    cr_assert_eq(stats_of(&h).tenants, 3);
    /* Within the span: still held. */
    send_t(&h, ACCT, "busy", T + 10 * DAY, 1, 0);
    cr_assert(has_tenant(&h, ACCT, "quiet"));
    /* Beyond it: the HEALTHY idle one goes; the one in a review that
     * waits for a person stays, as does the busy one. */
    send_t(&h, ACCT, "busy", T + 10 * DAY + HOUR, 1, 0);
    cr_assert(!has_tenant(&h, ACCT, "quiet"));
    cr_assert(has_tenant(&h, ACCT, "manual"));
    cr_assert(has_tenant(&h, ACCT, "busy"));
    tick(&h, T + 12 * DAY); /* a sweep is due: the memory goes too */
    rp_engine_stats st = stats_of(&h);
    cr_assert_eq(st.tenants, 2);
    cr_assert_eq(st.tenants_forgotten, 1);
    cr_assert_eq(view_of(&h, ACCT).n_tenants, 2);
    /* It returns afresh. */
    send_t(&h, ACCT, "quiet", T + 12 * DAY, 1, 0);
    cr_assert_eq(tview(&h, ACCT, "quiet").complaint.volume, 1);
    cr_assert_eq(stats_of(&h).tenants, 3);
    h_free(&h);
}

Test(tenants, forgotten_tenant_makes_room_under_the_limit) {
    harness h;
    t_config(&h);
    h.cfg.tenant_max_per_account = 1;
    h_start(&h);
    send_t(&h, ACCT, "old", T, 1, 0);
    send_t(&h, ACCT, "new", T + HOUR, 1, 0);
    cr_assert_eq(stats_of(&h).tenant_overflows, 1);
    /* A sweep at T + 9.5d (too early for "old"); the next is due 1.25d
     * later, so at T + 10d + 1h only the limit's own sweep can make room. */
    send_t(&h, ACCT, NULL, T + 9 * DAY + 12 * HOUR, 1, 0);
    cr_assert_eq(stats_of(&h).tenants, 1);
    send_t(&h, ACCT, "new", T + 10 * DAY + HOUR, 1, 0);
    cr_assert(has_tenant(&h, ACCT, "new"));
    cr_assert(!has_tenant(&h, ACCT, "old"));
    cr_assert_eq(stats_of(&h).tenant_overflows, 1);
    cr_assert_eq(stats_of(&h).tenants, 1);
    cr_assert_eq(stats_of(&h).tenants_forgotten, 1);
    h_free(&h);
}

Test(tenants, unset_rates_fall_back_to_the_account) {
    harness h;
    h_config(&h); /* tenant rates 0: unset */
    h.cfg.tenant_bounce_review_rate = 0;
    h.cfg.tenant_bounce_pause_rate = 0;
    h.cfg.tenant_max_per_account = 0;
    h_start(&h);
    send_t(&h, ACCT, "t", T, 1000, 0);
    send_t(&h, ACCT, "u", T, 96, 4); /* 4%: below the account's 5% */
    cr_assert_eq(tview(&h, ACCT, "u").status, RP_ASTATUS_HEALTHY);
    send_t(&h, ACCT, "u", T, 0, 2); /* 6 / 102 */
    cr_assert_eq(tview(&h, ACCT, "u").status, RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(tenants, many_tenants_come_and_go) {
    harness h;
    t_init(&h);
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "tenant-%d", i);
        send_t(&h, ACCT, name, T, 1, 0);
    }
    for (int i = 0; i < 300; i += 2) {
        snprintf(name, sizeof(name), "tenant-%d", i);
        send_t(&h, ACCT, name, T + 5 * DAY, 1, 0);
    }
    tick(&h, T + 11 * DAY); /* the odd ones go */
    cr_assert_eq(stats_of(&h).tenants, 150);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "tenant-%d", i);
        cr_assert_eq(has_tenant(&h, ACCT, name), i % 2 == 0, "%s", name);
        if (i % 2 == 0)
            cr_assert_eq(tview(&h, ACCT, name).complaint.volume, 1, "%s", name);
    }
    for (int i = 1; i < 300; i += 2) {
        snprintf(name, sizeof(name), "tenant-%d", i);
        send_t(&h, ACCT, name, T + 11 * DAY, 1, 0);
    }
    cr_assert_eq(stats_of(&h).tenants, 300);
    cr_assert_eq(view_of(&h, ACCT).n_tenants, 300);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "tenant-%d", i);
        /* Within the window: the day-5 delivery, or the new one. */
        cr_assert_eq(tview(&h, ACCT, name).complaint.volume, 1, "%s", name);
    }
    h_free(&h);
}

/* A forgotten tenant that stale review-end entries still point at: it
 * stays a shell until the last entry is popped and its tombstone flushed
 * (valgrind and ASan check the memory; the heap must not reach freed
 * memory). */
static int count_keys(void *opaque, rp_str key, const void *st, size_t len) {
    (void)key;
    (void)st;
    size_t *n = opaque;
    n[len == 0]++;
    return 0;
}

static void forgotten_with_heap_entries(harness *h) {
    t_init(h);
    feed_t(h, mk_report(ACCT, T, RP_ISSUE_DIRECT_FEEDBACK, 1), "s");
    for (int i = 0; i < 12; i++) /* review end now T + 13d */
        feed_t(h, mk_action(ACCT, T + HOUR, RP_ACTION_EXTEND_REVIEW), "s");
    feed_t(h, mk_action(ACCT, T + HOUR, RP_ACTION_END_REVIEW), "s");
    cr_assert_eq(tview(h, ACCT, "s").status, RP_ASTATUS_HEALTHY);
    send_t(h, ACCT, NULL, T + 11 * DAY, 1, 0); /* a sweep: "s" goes */
    cr_assert(!has_tenant(h, ACCT, "s"));
    cr_assert_eq(stats_of(h).tenants, 0);
}

Test(tenants, shell_freed_when_the_heap_lets_go) {
    harness h;
    forgotten_with_heap_entries(&h);
    size_t n[2] = {0, 0};
    rp_engine_flush_dirty(h.e, count_keys, n);
    cr_assert_eq(n[1], 1, "one tombstone");
    tick(&h, T + 14 * DAY); /* the stale entries pop, the shell goes */
    cr_assert_eq(rp_engine_next_review_end(h.e), INT64_MAX);
    /* It comes back afresh, under the same name. */
    feed_t(&h, mk_report(ACCT, T + 14 * DAY, RP_ISSUE_DIRECT_FEEDBACK, 1), "s");
    cr_assert_eq(tview(&h, ACCT, "s").status, RP_ASTATUS_UNDER_REVIEW);
    h_free(&h);
}

Test(tenants, shell_freed_at_destroy) {
    harness h;
    forgotten_with_heap_entries(&h);
    feed_t(&h, mk_report(ACCT, T + 11 * DAY, RP_ISSUE_DIRECT_FEEDBACK, 1), "s");
    h_free(&h); /* the shell is on the dirty list and in the heap */
}
