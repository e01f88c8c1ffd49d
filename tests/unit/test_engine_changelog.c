/*
 * test_engine_changelog.c - an account's state survives its changelog
 * encoding: an engine restored from another's flushed states (and clock)
 * holds the same accounts, and fed the same records afterwards publishes
 * the same events, byte for byte in every field the tests capture. The
 * states cover buckets over many hours, every kind of issue state (review,
 * extension, pause, manual), reports, links and the manual-review flag.
 * Also: a state from a future version, or cut short, is refused
 * (RP_EBADDATA) and leaves the account empty.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define T (T0 + 30 * MINUTE)

static int copy_state(void *opaque, rp_str id, const void *st, size_t len) {
    rp_engine *to = opaque;
    cr_assert_eq(rp_engine_restore(to, id, st, len), 0,
                 "restore of %.*s failed", (int)id.len, id.ptr);
    return 0;
}

/* Feeds a history with every kind of state to h. */
static void history(harness *h) {
    for (int hour = 0; hour < 30; hour++) {
        feed_deliveries(h, "a", T + hour * HOUR, 5);
        feed_deliveries(h, "b", T + hour * HOUR, 4);
        feed_hard_bounces(h, "b", T + hour * HOUR, hour % 3 == 0);
    }
    feed_hard_bounces(h, "a", T + 30 * HOUR, 40); /* review starts */
    rp_record r = mk_report("c", T + 31 * HOUR, RP_ISSUE_SPAMTRAP, 2);
    feed(h, &r);
    r = mk_report("c", T + 31 * HOUR, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(h, &r);
    r = mk_action("c", T + 31 * HOUR, RP_ACTION_LINK_ACCOUNT);
    rec_set_related(&r, "a");
    feed(h, &r);
    r = mk_action("a", T + 31 * HOUR, RP_ACTION_SET_MANUAL_REVIEW);
    feed(h, &r);
    r = mk_action_on("b", T + 32 * HOUR, RP_ACTION_REMEDIATION_SUBMITTED,
                     RP_ISSUE_BOUNCE_RATE);
    feed(h, &r);
    tick(h, T + 33 * HOUR);
}

/* Then both engines get this, and must answer alike. */
static void future(harness *h) {
    tick(h, T + 60 * HOUR); /* a's review ends (pending pause: the flag) */
    feed_hard_bounces(h, "b", T + 61 * HOUR, 30);
    rp_record r = mk_report("c", T + 62 * HOUR, RP_ISSUE_SPAMTRAP, 1);
    feed(h, &r);
    tick(h, T + 20 * DAY);
}

static void assert_same_events(const capture *x, const capture *y) {
    cr_assert_eq(x->n, y->n, "%zu events vs %zu after the restore", x->n, y->n);
    for (size_t i = 0; i < x->n; i++) {
        const cap_event *a = &x->ev[i], *b = &y->ev[i];
        cr_assert_str_eq(a->account, b->account, "event %zu", i);
        cr_assert_eq(a->sequence, b->sequence, "event %zu", i);
        cr_assert_eq(a->event_time, b->event_time, "event %zu", i);
        cr_assert_eq(a->kind, b->kind, "event %zu", i);
        if (a->kind == RP_EVENT_STATUS_CHANGE) {
            cr_assert_eq(a->sc.status, b->sc.status, "event %zu", i);
            cr_assert_eq(a->sc.cause, b->sc.cause, "event %zu", i);
            cr_assert_eq(a->sc.review_ends_at, b->sc.review_ends_at,
                         "event %zu", i);
            cr_assert_eq(a->sc.bounce.count, b->sc.bounce.count, "event %zu",
                         i);
            cr_assert_eq(a->sc.bounce.volume, b->sc.bounce.volume, "event %zu",
                         i);
            cr_assert_eq(a->sc.n_issues, b->sc.n_issues, "event %zu", i);
            for (size_t k = 0; k < a->sc.n_issues; k++) {
                cr_assert_eq(a->sc.issues[k].status, b->sc.issues[k].status);
                cr_assert_eq(a->sc.issues[k].since, b->sc.issues[k].since);
            }
        } else {
            cr_assert_eq(a->nt.issue, b->nt.issue, "event %zu", i);
            cr_assert_eq(a->nt.stage, b->nt.stage, "event %zu", i);
        }
    }
}

Test(changelog, restored_engine_behaves_like_the_original) {
    harness h;
    h_init(&h);
    history(&h);
    cr_assert_gt(rp_engine_dirty_count(h.e), 0);

    harness r;
    h_config(&r);
    h_start(&r);
    cr_assert_eq(rp_engine_flush_dirty(h.e, copy_state, r.e), 0);
    cr_assert_eq(rp_engine_dirty_count(h.e), 0);
    rp_engine_restore_clock(r.e, rp_engine_clock(h.e));

    const char *ids[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        rp_account_view x = view_of(&h, ids[i]), y = view_of(&r, ids[i]);
        cr_assert_eq(x.status, y.status, "%s", ids[i]);
        cr_assert_eq(x.sequence, y.sequence, "%s", ids[i]);
        cr_assert_eq(x.manual_review, y.manual_review, "%s", ids[i]);
        cr_assert_eq(x.n_links, y.n_links, "%s", ids[i]);
        cr_assert_eq(x.bounce.volume, y.bounce.volume, "%s", ids[i]);
        cr_assert_eq(x.bounce.count, y.bounce.count, "%s", ids[i]);
        cr_assert_eq(x.complaint.volume, y.complaint.volume, "%s", ids[i]);
        for (int k = 0; k < RP_ISSUE__COUNT; k++) {
            cr_assert_eq(x.issues[k].status, y.issues[k].status, "%s %d",
                         ids[i], k);
            cr_assert_eq(x.issues[k].review_ends_at, y.issues[k].review_ends_at,
                         "%s %d", ids[i], k);
            cr_assert_eq(x.report_count[k], y.report_count[k], "%s %d", ids[i],
                         k);
        }
    }
    /* The history did reach the interesting states. */
    cr_assert_neq(view_of(&h, "a").status, RP_ASTATUS_HEALTHY);
    cr_assert(view_of(&h, "a").manual_review);
    cr_assert_eq(view_of(&h, "c").n_links, 1);

    capture_clear(&h.c);
    capture_clear(&r.c);
    future(&h);
    future(&r);
    cr_assert_gt(h.c.n, 0, "the future publishes something");
    assert_same_events(&h.c, &r.c);
    h_free(&h);
    h_free(&r);
}

typedef struct one_state {
    unsigned char buf[4096];
    size_t len;
} one_state;

static int keep_state(void *opaque, rp_str id, const void *st, size_t len) {
    (void)id;
    one_state *s = opaque;
    cr_assert_leq(len, sizeof(s->buf));
    memcpy(s->buf, st, len);
    s->len = len;
    return 0;
}

Test(changelog, bad_states_are_refused_and_leave_nothing) {
    harness h;
    h_init(&h);
    history(&h);
    /* Only "a"'s latest state matters here: flush everything, keep the
     * last one handed over, then a's again. */
    one_state s;
    rp_engine_flush_dirty(h.e, keep_state, &s);
    feed_deliveries(&h, "a", T + 34 * HOUR, 1);
    rp_engine_flush_dirty(h.e, keep_state, &s);
    cr_assert_gt(s.len, 20);
    rp_engine *e = new_engine(&h.cfg);
    rp_str a = {"a", 1};
    for (size_t cut = 0; cut < s.len; cut++) {
        int rc = rp_engine_restore(e, a, s.buf, cut);
        if (cut == 0)
            cr_assert_eq(rc, 0, "length 0 is a tombstone");
        else
            cr_assert_eq(rc, RP_EBADDATA, "cut at %zu of %zu: %d", cut, s.len,
                         rc);
        rp_account_view v;
        if (rp_engine_view(e, a, &v) == 0)
            cr_assert_eq(v.sequence, 0, "nothing kept after a bad state");
    }
    cr_assert_eq(rp_engine_restore(e, a, s.buf, s.len), 0);
    /* Restored but never advanced: no clock, so no window, and no rate
     * (not one computed at INT64_MIN); the statuses are there. */
    rp_account_view v;
    cr_assert_eq(rp_engine_view(e, a, &v), 0);
    cr_assert(!v.bounce.has_rate && !v.complaint.has_rate);
    cr_assert_eq(v.bounce.volume, 0);
    cr_assert_eq(v.status, view_of(&h, "a").status);
    cr_assert_eq(v.bounce.status, view_of(&h, "a").bounce.status);
    s.buf[0] = 99; /* a version from the future */
    cr_assert_eq(rp_engine_restore(e, a, s.buf, s.len), RP_EBADDATA);
    rp_engine_destroy(e);
    h_free(&h);
}
