/*
 * test_engine_query.c - the read-only queries the HTTP API relies on: the
 * per-status counts and the list of accounts that are not HEALTHY (kept
 * by the engine as statuses change, through restore and clear), the hourly
 * buckets of an account, and the links in an account's view.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define T (T0 + 30 * MINUTE)

typedef struct seen {
    char ids[8][64];
    rp_account_status st[8];
    int n;
} seen;

static int collect(void *opaque, const rp_account_view *v) {
    seen *s = opaque;
    cr_assert_lt(s->n, 8);
    snprintf(s->ids[s->n], sizeof(s->ids[0]), "%.*s", (int)v->account_id.len,
             v->account_id.ptr);
    s->st[s->n++] = v->status;
    return 0;
}

static int find(const seen *s, const char *id) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return i;
    return -1;
}

static void counts_are(rp_engine *e, uint64_t healthy, uint64_t review,
                       uint64_t paused) {
    uint64_t c[RP_ASTATUS__COUNT];
    rp_engine_status_counts(e, c);
    cr_assert_eq(c[RP_ASTATUS_HEALTHY], healthy, "HEALTHY: %llu, want %llu",
                 LL(c[RP_ASTATUS_HEALTHY]), LL(healthy));
    cr_assert_eq(c[RP_ASTATUS_UNDER_REVIEW], review,
                 "UNDER_REVIEW: %llu, want %llu",
                 LL(c[RP_ASTATUS_UNDER_REVIEW]), LL(review));
    cr_assert_eq(c[RP_ASTATUS_SENDING_PAUSED], paused,
                 "SENDING_PAUSED: %llu, want %llu",
                 LL(c[RP_ASTATUS_SENDING_PAUSED]), LL(paused));
}

Test(query, counts_and_flagged_list_follow_status_changes) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, "good", T, 100);
    feed_deliveries(&h, "bad", T, 90);
    feed_hard_bounces(&h, "bad", T, 10); /* 10%: under review */
    feed_deliveries(&h, "worse", T, 90);
    feed_hard_bounces(&h, "worse", T, 10);
    counts_are(h.e, 1, 2, 0);
    seen s = {0};
    rp_engine_foreach_flagged(h.e, collect, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_geq(find(&s, "bad"), 0);
    cr_assert_geq(find(&s, "worse"), 0);
    cr_assert_eq(find(&s, "good"), -1);

    /* End of review at T + 1d: both rates are at the pause threshold. */
    tick(&h, T + DAY + HOUR);
    counts_are(h.e, 1, 0, 2);
    /* A report starts a review; END_REVIEW heals it and the account
     * leaves the list. */
    rp_record r = mk_report("rep", T + DAY + 2 * HOUR,
                            RP_ISSUE_ANTI_SPAM_ORGANIZATION, 1);
    feed(&h, &r);
    counts_are(h.e, 1, 1, 2);
    r = mk_action("rep", T + DAY + 3 * HOUR, RP_ACTION_END_REVIEW);
    feed(&h, &r);
    counts_are(h.e, 2, 0, 2);
    memset(&s, 0, sizeof(s));
    rp_engine_foreach_flagged(h.e, collect, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(find(&s, "rep"), -1);
    cr_assert_eq(s.st[0], RP_ASTATUS_SENDING_PAUSED);
    h_free(&h);
}

typedef struct state_copy {
    rp_engine *to;
} state_copy;

static int copy_state(void *opaque, rp_str id, const void *st, size_t len) {
    state_copy *c = opaque;
    cr_assert_eq(rp_engine_restore(c->to, id, st, len), 0);
    return 0;
}

Test(query, restore_and_removal_keep_the_counts) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, "a", T, 90);
    feed_hard_bounces(&h, "a", T, 10);
    feed_deliveries(&h, "b", T, 100);
    rp_engine *e2 = new_engine(&h.cfg);
    state_copy c = {e2};
    cr_assert_eq(rp_engine_flush_dirty(h.e, copy_state, &c), 0);
    counts_are(e2, 1, 1, 0);
    /* Restoring a newer state of the same account replaces it, once. */
    feed_deliveries(&h, "a", T + MINUTE, 1);
    cr_assert_eq(rp_engine_flush_dirty(h.e, copy_state, &c), 0);
    counts_are(e2, 1, 1, 0);
    /* A tombstone (len 0) empties the account: HEALTHY again. */
    cr_assert_eq(rp_engine_restore(e2, (rp_str){"a", 1}, NULL, 0), 0);
    counts_are(e2, 2, 0, 0);
    seen s = {0};
    rp_engine_foreach_flagged(e2, collect, &s);
    cr_assert_eq(s.n, 0);
    rp_engine_destroy(e2);
    h_free(&h);
}

typedef struct hours {
    rp_hour_counts h[8];
    int n;
} hours;

static int collect_hour(void *opaque, const rp_hour_counts *hc) {
    hours *hs = opaque;
    cr_assert_lt(hs->n, 8);
    hs->h[hs->n++] = *hc;
    return 0;
}

Test(query, hours_lists_non_empty_buckets_in_range_oldest_first) {
    harness h;
    h_init(&h);
    feed_deliveries(&h, "a", T, 5);
    feed_hard_bounces(&h, "a", T + 2 * HOUR, 2);
    feed_complaints(&h, "a", T + 3 * HOUR, 1);
    hours hs = {0};
    cr_assert_eq(
        rp_engine_hours(h.e, (rp_str){"a", 1}, T0, T0 + DAY, collect_hour, &hs),
        0);
    cr_assert_eq(hs.n, 3);
    cr_assert_eq(hs.h[0].start, T0);
    cr_assert_eq(hs.h[0].sends, 5);
    cr_assert_eq(hs.h[0].deliveries, 5);
    cr_assert_eq(hs.h[1].start, T0 + 2 * HOUR);
    cr_assert_eq(hs.h[1].hard_bounces, 2);
    cr_assert_eq(hs.h[2].complaints, 1);
    /* The range cuts at bucket boundaries. */
    memset(&hs, 0, sizeof(hs));
    rp_engine_hours(h.e, (rp_str){"a", 1}, T0 + HOUR, T0 + 3 * HOUR,
                    collect_hour, &hs);
    cr_assert_eq(hs.n, 1);
    cr_assert_eq(hs.h[0].start, T0 + 2 * HOUR);
    cr_assert_eq(rp_engine_hours(h.e, (rp_str){"zz", 2}, T0, T0 + DAY,
                                 collect_hour, &hs),
                 RP_ENOTFOUND);
    h_free(&h);
}

Test(query, view_lists_links) {
    harness h;
    h_init(&h);
    rp_record r = mk_action("a", T, RP_ACTION_LINK_ACCOUNT);
    rec_set_related(&r, "b");
    feed(&h, &r);
    r = mk_action("a", T, RP_ACTION_LINK_ACCOUNT);
    rec_set_related(&r, "c");
    feed(&h, &r);
    rp_account_view v = view_of(&h, "a");
    cr_assert_eq(v.n_links, 2);
    cr_assert_str_eq(v.links[0], "b");
    cr_assert_str_eq(v.links[1], "c");
    h_free(&h);
}
