/*
 * test_engine_tenants_state.c - tenants in the changelog (docs/rules.md
 * section 10, src/engine/state.c): an engine restored from another's
 * flushed states, tenants' records restored before their accounts', holds
 * the same accounts and tenants and then publishes the same events; a
 * forgotten tenant's tombstone removes it; a state written before tenants
 * existed (version 1, by hand from the layout of state.c) still restores;
 * keys and values that do not match are refused.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define T (T0 + 30 * MINUTE)

/* ------------------------------------------------------------ a store */

/* The changelog as compaction leaves it: the latest value per key, in the
 * order the keys were first written; a tombstone deletes. */
typedef struct entry {
    char key[RP_ACCOUNT_ID_MAX + RP_TENANT_MAX + 2];
    size_t key_len;
    unsigned char *val;
    size_t len;
} entry;

typedef struct store {
    entry v[256];
    size_t n;
    size_t tombstones;
} store;

static int put(void *opaque, rp_str key, const void *val, size_t len) {
    store *s = opaque;
    entry *e = NULL;
    for (size_t i = 0; i < s->n && !e; i++)
        if (s->v[i].key_len == key.len &&
            !memcmp(s->v[i].key, key.ptr, key.len))
            e = &s->v[i];
    if (!e) {
        cr_assert_lt(s->n, 256);
        e = &s->v[s->n++];
        memcpy(e->key, key.ptr, key.len);
        e->key_len = key.len;
    }
    free(e->val);
    e->val = len ? malloc(len) : NULL;
    if (len)
        memcpy(e->val, val, len);
    e->len = len;
    s->tombstones += len == 0;
    return 0;
}

static void store_free(store *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].val);
}

/* Restores every key, tenants first (the changelog gives no order
 * between an account's record and its tenants'). */
static void restore_all(rp_engine *e, const store *s) {
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = s->n; i-- > 0;) {
            const entry *x = &s->v[i];
            bool tenant = memchr(x->key, '\xff', x->key_len) != NULL;
            if (tenant != (pass == 0))
                continue;
            rp_str k = {x->key, x->key_len};
            cr_assert_eq(rp_engine_restore(e, k, x->val, x->len), 0,
                         "restore of %.*s", (int)x->key_len, x->key);
        }
}

/* ------------------------------------------------------------ history */

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

static void tenant_config(harness *h) {
    h_config(h);
    h->cfg.tenant_bounce_review_rate = 0.04;
    h->cfg.tenant_bounce_pause_rate = 0.08;
    h->cfg.tenant_complaint_review_rate = h->cfg.complaint_review_rate;
    h->cfg.tenant_complaint_pause_rate = h->cfg.complaint_pause_rate;
    h->cfg.tenant_max_per_account = 1000;
}

static void history(harness *h) {
    for (int hour = 0; hour < 30; hour++) {
        send_t(h, "a", NULL, T + hour * HOUR, 20, 0);
        send_t(h, "a", "shop", T + hour * HOUR, 4, hour % 4 == 0);
        send_t(h, "a", "news", T + hour * HOUR, 3, 0);
    }
    rp_record r = mk_action("a", T + 30 * HOUR, RP_ACTION_SET_MANUAL_REVIEW);
    feed_t(h, r, NULL);
    feed_t(h, mk_report("a", T + 30 * HOUR, RP_ISSUE_SPAMTRAP, 3), "news");
    feed_t(h, mk_report("a", T + 30 * HOUR, RP_ISSUE_INTERNAL_REVIEW, 1),
           "legal");
    feed_t(h, mk_report("b", T + 30 * HOUR, RP_ISSUE_DIRECT_FEEDBACK, 1), "x");
    r = mk_action_on("a", T + 31 * HOUR, RP_ACTION_REMEDIATION_SUBMITTED,
                     RP_ISSUE_BOUNCE_RATE);
    feed_t(h, r, "shop");
    tick(h, T + 33 * HOUR);
}

static void future(harness *h) {
    tick(h, T + 60 * HOUR);
    send_t(h, "a", "shop", T + 61 * HOUR, 40, 10);
    feed_t(h, mk_report("a", T + 62 * HOUR, RP_ISSUE_SPAMTRAP, 1), "news");
    send_t(h, "a", "fresh", T + 62 * HOUR, 10, 0);
    tick(h, T + 20 * DAY);
}

static void same_view(const rp_account_view *x, const rp_account_view *y,
                      const char *what) {
    cr_assert_eq(x->status, y->status, "%s", what);
    cr_assert_eq(x->sequence, y->sequence, "%s", what);
    cr_assert_eq(x->manual_review, y->manual_review, "%s", what);
    cr_assert_eq(x->n_tenants, y->n_tenants, "%s", what);
    cr_assert_eq(x->bounce.volume, y->bounce.volume, "%s", what);
    cr_assert_eq(x->bounce.count, y->bounce.count, "%s", what);
    cr_assert_eq(x->bounce.window_start, y->bounce.window_start, "%s", what);
    cr_assert_eq(x->complaint.volume, y->complaint.volume, "%s", what);
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        cr_assert_eq(x->issues[k].status, y->issues[k].status, "%s %d", what,
                     k);
        cr_assert_eq(x->issues[k].since, y->issues[k].since, "%s %d", what, k);
        cr_assert_eq(x->issues[k].review_ends_at, y->issues[k].review_ends_at,
                     "%s %d", what, k);
        cr_assert_eq(x->report_count[k], y->report_count[k], "%s %d", what, k);
    }
}

static rp_account_view tview(harness *h, const char *a, const char *t) {
    rp_account_view v;
    cr_assert_eq(rp_engine_view_tenant(h->e, rp_str_c(a), rp_str_c(t), &v), 0,
                 "%s/%s", a, t);
    return v;
}

static void same_events(const capture *x, const capture *y) {
    cr_assert_eq(x->n, y->n, "%zu events vs %zu", x->n, y->n);
    for (size_t i = 0; i < x->n; i++) {
        const cap_event *a = &x->ev[i], *b = &y->ev[i];
        cr_assert_str_eq(a->account, b->account, "event %zu", i);
        cr_assert_str_eq(a->tenant, b->tenant, "event %zu", i);
        cr_assert_eq(a->sequence, b->sequence, "event %zu", i);
        cr_assert_eq(a->event_time, b->event_time, "event %zu", i);
        cr_assert_eq(a->kind, b->kind, "event %zu", i);
        if (a->kind == RP_EVENT_STATUS_CHANGE) {
            cr_assert_eq(a->sc.status, b->sc.status, "event %zu", i);
            cr_assert_eq(a->sc.review_ends_at, b->sc.review_ends_at);
            cr_assert_eq(a->sc.bounce.count, b->sc.bounce.count);
            cr_assert_eq(a->sc.bounce.volume, b->sc.bounce.volume);
        } else {
            cr_assert_eq(a->nt.stage, b->nt.stage, "event %zu", i);
            cr_assert_eq(a->nt.issue, b->nt.issue, "event %zu", i);
        }
    }
}

/* ------------------------------------------------------------ tests */

Test(tenant_state, restored_engine_behaves_like_the_original) {
    harness h, r;
    tenant_config(&h);
    h_start(&h);
    history(&h);
    store s = {0};
    cr_assert_eq(rp_engine_flush_dirty(h.e, put, &s), 0);
    tenant_config(&r);
    h_start(&r);
    restore_all(r.e, &s);
    rp_engine_restore_clock(r.e, rp_engine_clock(h.e));

    /* The history reached the interesting states. */
    cr_assert_neq(tview(&h, "a", "news").status, RP_ASTATUS_HEALTHY);
    cr_assert_neq(tview(&h, "a", "legal").status, RP_ASTATUS_HEALTHY);
    cr_assert_neq(tview(&h, "a", "shop").status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(view_of(&h, "a").n_tenants, 3);

    rp_account_view x = view_of(&h, "a"), y = view_of(&r, "a");
    same_view(&x, &y, "a");
    x = view_of(&h, "b"), y = view_of(&r, "b");
    same_view(&x, &y, "b");
    const char *names[] = {"legal", "news", "shop"};
    for (int i = 0; i < 3; i++) {
        x = tview(&h, "a", names[i]);
        y = tview(&r, "a", names[i]);
        same_view(&x, &y, names[i]);
    }
    x = tview(&h, "b", "x");
    y = tview(&r, "b", "x");
    same_view(&x, &y, "b/x");
    uint64_t c1[RP_ASTATUS__COUNT], c2[RP_ASTATUS__COUNT];
    rp_engine_tenant_status_counts(h.e, c1);
    rp_engine_tenant_status_counts(r.e, c2);
    cr_assert_arr_eq(c1, c2, sizeof(c1));
    cr_assert_eq(rp_engine_next_review_end(h.e),
                 rp_engine_next_review_end(r.e));

    capture_clear(&h.c);
    capture_clear(&r.c);
    future(&h);
    future(&r);
    cr_assert_gt(h.c.n, 4);
    same_events(&h.c, &r.c);
    store_free(&s);
    h_free(&h);
    h_free(&r);
}

Test(tenant_state, forgotten_tenant_leaves_a_tombstone) {
    harness h, r;
    tenant_config(&h);
    h_start(&h);
    send_t(&h, "a", "gone", T, 2, 0);
    send_t(&h, "a", "kept", T, 2, 0);
    store s = {0};
    rp_engine_flush_dirty(h.e, put, &s);
    cr_assert_eq(s.n, 3); /* a, a/gone, a/kept */
    send_t(&h, "a", "kept", T + 5 * DAY, 1, 0);
    send_t(&h, "a", "kept", T + 11 * DAY, 1, 0);
    tick(&h, T + 12 * DAY);
    cr_assert_eq(stats_of(&h).tenants_forgotten, 1);
    rp_engine_flush_dirty(h.e, put, &s);
    cr_assert_eq(s.tombstones, 1);
    tenant_config(&r);
    h_start(&r);
    /* The tenant's old value, then its tombstone, as a changelog not yet
     * compacted would give them. */
    send_t(&r, "a", "gone", T, 1, 0);
    restore_all(r.e, &s);
    rp_account_view v;
    cr_assert_eq(
        rp_engine_view_tenant(r.e, rp_str_c("a"), rp_str_c("gone"), &v),
        RP_ENOTFOUND);
    cr_assert_eq(view_of(&r, "a").n_tenants, 1);
    store_free(&s);
    h_free(&h);
    h_free(&r);
}

/* ------------------------------------------------------------ formats */

static unsigned char *put_u(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static unsigned char *put_s(unsigned char *p, int64_t v) {
    return put_u(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* An account's value as every version before tenants wrote it (state.c,
 * version 1): sequence 7, two buckets, the manual-review flag, a bounce
 * review that ends at T + 1d, one SPAMTRAP report, one link. */
static size_t old_state(unsigned char *buf) {
    unsigned char *p = buf;
    int64_t hour = T0 / HOUR;
    *p++ = 1;                           /* version */
    p = put_u(p, 7);                    /* sequence */
    p = put_u(p, 2);                    /* buckets */
    p = put_s(p, hour);                 /* first hour, from 0 */
    p = put_u(p, 100), p = put_u(p, 9); /* sends, hard */
    p = put_u(p, 100), p = put_u(p, 0); /* deliveries, complaints */
    p = put_s(p, 1);                    /* the next hour */
    p = put_u(p, 10), p = put_u(p, 0), p = put_u(p, 10), p = put_u(p, 0);
    *p++ = 1; /* has_ext */
    *p++ = 1; /* manual_review */
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        if (k == RP_ISSUE_BOUNCE_RATE) {
            *p++ = RP_ISTATUS_UNDER_REVIEW;
            *p++ = 0, *p++ = 0, *p++ = 1 | 2; /* since, review_end */
            p = put_s(p, T);
            p = put_s(p, T + DAY);
        } else {
            *p++ = RP_ISTATUS_HEALTHY;
            *p++ = 0, *p++ = 0, *p++ = 0;
        }
    }
    p = put_u(p, 1); /* reports */
    p = put_s(p, T), p = put_u(p, 1);
    *p++ = RP_ISSUE_SPAMTRAP;
    p = put_u(p, 1); /* links */
    p = put_u(p, 5);
    memcpy(p, "other", 5);
    p += 5;
    return (size_t)(p - buf);
}

static int keep_last(void *opaque, rp_str key, const void *val, size_t len) {
    (void)key;
    unsigned char *buf = opaque;
    cr_assert_lt(len, 512);
    memcpy(buf + 2, val, len);
    buf[0] = (unsigned char)(len & 0xff);
    buf[1] = (unsigned char)(len >> 8);
    return 0;
}

Test(tenant_state, state_written_before_tenants_restores) {
    harness h;
    tenant_config(&h);
    h_start(&h);
    unsigned char buf[512];
    size_t n = old_state(buf);
    cr_assert_eq(rp_engine_restore(h.e, rp_str_c("a"), buf, n), 0);
    rp_engine_restore_clock(h.e, T + HOUR);
    rp_account_view v = view_of(&h, "a");
    cr_assert_eq(v.sequence, 7);
    cr_assert(v.manual_review);
    cr_assert_eq(v.n_links, 1);
    cr_assert_eq(v.n_tenants, 0);
    cr_assert_eq(v.status, RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(v.bounce.volume, 110);
    cr_assert_eq(v.bounce.count, 9);
    cr_assert_eq(v.report_count[RP_ISSUE_SPAMTRAP], 1);
    cr_assert_eq(rp_engine_next_review_end(h.e), T + DAY);
    /* Unchanged, it encodes to the same bytes: accounts keep version 1. */
    feed_t(&h, mk_action("a", T + HOUR, RP_ACTION_CLEAR_MANUAL_REVIEW), NULL);
    feed_t(&h, mk_action("a", T + HOUR, RP_ACTION_SET_MANUAL_REVIEW), NULL);
    unsigned char out[520];
    rp_engine_flush_dirty(h.e, keep_last, out);
    size_t len = out[0] | (size_t)out[1] << 8;
    cr_assert_eq(out[2], 1, "an account's value stays version 1");
    cr_assert_eq(len, n);
    cr_assert_arr_eq(out + 2, buf, n);
    /* The life cycle goes on from there: the review ends at T + 1d. */
    tick(&h, T + DAY);
    const cap_event *sc = cap_last_kind(&h.c, "a", RP_EVENT_STATUS_CHANGE);
    cr_assert_not_null(sc);
    cr_assert_eq(sc->sequence, 8);
    h_free(&h);
}

Test(tenant_state, mismatched_keys_and_values_are_refused) {
    harness h;
    tenant_config(&h);
    h_start(&h);
    send_t(&h, "a", "t", T, 3, 0);
    store s = {0};
    rp_engine_flush_dirty(h.e, put, &s);
    cr_assert_eq(s.n, 2);
    const entry *acct = &s.v[0], *ten = &s.v[1];
    cr_assert_eq(ten->key_len, 3);
    cr_assert_arr_eq(ten->key, "a\xfft", 3);
    cr_assert_eq(ten->val[0], 2, "a tenant's value is version 2");
    rp_engine *e = new_engine(&h.cfg);
    cr_assert_eq(rp_engine_restore(e, rp_str_c("a"), ten->val, ten->len),
                 RP_EBADDATA);
    rp_str tk = {ten->key, ten->key_len};
    cr_assert_eq(rp_engine_restore(e, tk, acct->val, acct->len), RP_EBADDATA);
    const char *bad[] = {"\xfft", "a\xff",
                         "a\xff"
                         "b\xff"
                         "c"};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(rp_engine_restore(e, rp_str_c(bad[i]), ten->val, ten->len),
                     RP_EBADDATA, "key %d", i);
    /* Cut short: refused, the tenant left empty. */
    for (size_t cut = 1; cut < ten->len; cut++)
        cr_assert_eq(rp_engine_restore(e, tk, ten->val, cut), RP_EBADDATA,
                     "cut at %zu", cut);
    cr_assert_eq(rp_engine_restore(e, tk, ten->val, ten->len), 0);
    rp_engine_restore_clock(e, T);
    rp_account_view v;
    cr_assert_eq(rp_engine_view_tenant(e, rp_str_c("a"), rp_str_c("t"), &v), 0);
    cr_assert_eq(v.complaint.volume, 3);
    /* A tombstone for a tenant never held is nothing. */
    rp_str other = {"a\xffnever", 7};
    cr_assert_eq(rp_engine_restore(e, other, NULL, 0), 0);
    rp_engine_destroy(e);
    store_free(&s);
    h_free(&h);
}
