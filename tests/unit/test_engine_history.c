/*
 * test_engine_history.c - each account's and tenant's history
 * (docs/history.md, src/engine/history.c): who has one (only an entity
 * that left HEALTHY), what goes in (status changes, actions applied or
 * not with their actor and note, notifications), newest first, the ring's
 * bound and eviction order, history.max.entries = 0, the strings cut to
 * their bounds; and the changelog: a round trip restores the same
 * entries, a state of version 1 or 2 (written before histories, or with
 * them off) restores with an empty history, a state with a history is
 * refused at every truncation, and a restore into a smaller ring keeps
 * the newest entries. The strings' frees are checked by running this
 * under ASan and valgrind (tests/valgrind.sh).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define T (T0 + 30 * MINUTE)

/* ---------------------------------------------------------------- helpers */

/* The history of an entity as text, one line per entry, newest first. */
typedef struct text {
    char s[65536];
    size_t len;
    int n;
} text;

static int put_line(void *opaque, const rp_history_entry *h) {
    text *t = opaque;
    int k = snprintf(
        t->s + t->len, sizeof(t->s) - t->len,
        "%d %lld %d %d %d %d %d %d %d [%.*s] [%.*s]\n", (int)h->kind,
        (long long)(h->time - T0), (int)h->from, (int)h->to, (int)h->cause,
        (int)h->action, h->has_issue ? (int)h->issue : -1, (int)h->applied,
        (int)h->stage, (int)h->actor.len, h->actor.ptr ? h->actor.ptr : "",
        (int)h->note.len, h->note.ptr ? h->note.ptr : "");
    cr_assert(k > 0 && (size_t)k < sizeof(t->s) - t->len);
    t->len += (size_t)k;
    t->n++;
    return 0;
}

static text *hist_of(rp_engine *e, const char *acc, const char *tenant) {
    text *t = calloc(1, sizeof(*t));
    int rc = rp_engine_history(
        e, rp_str_c(acc), tenant ? rp_str_c(tenant) : RP_STR_NULL, put_line, t);
    cr_assert_eq(rc, 0, "history of %s: %d", acc, rc);
    return t;
}

/* The newest entry of an entity. */
static int newest_cb(void *opaque, const rp_history_entry *h) {
    *(rp_history_entry *)opaque = *h;
    return 1;
}

static rp_history_entry newest(rp_engine *e, const char *acc) {
    rp_history_entry h;
    memset(&h, 0, sizeof(h));
    h.kind = RP_HISTORY__COUNT;
    rp_engine_history(e, rp_str_c(acc), RP_STR_NULL, newest_cb, &h);
    return h;
}

/* One review of a manual issue, opened by a report and ended by alice:
 * two status changes, their notifications and an action. */
static void cycle(harness *h, const char *acc, int64_t t) {
    rp_record r = mk_report(acc, t, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(h, &r);
    r = mk_action_on(acc, t + MINUTE, RP_ACTION_END_REVIEW,
                     RP_ISSUE_INTERNAL_REVIEW);
    r.u.action.actor = rp_str_c("alice");
    r.u.action.note = rp_str_c("checked by hand");
    feed(h, &r);
}

static void with_max(harness *h, int max) {
    h_config(h);
    h->cfg.history_max_entries = max;
    h_start(h);
}

/* ---------------------------------------------------------------- the ring */

Test(history, an_account_always_healthy_has_none_and_costs_nothing) {
    harness on, off;
    with_max(&on, 32);
    with_max(&off, 0);
    for (int i = 0; i < 10; i++) {
        feed_deliveries(&on, "quiet", T + i * HOUR, 5);
        feed_deliveries(&off, "quiet", T + i * HOUR, 5);
        rp_record r = mk_action(i % 2 ? "quiet" : "other", T + i * HOUR,
                                RP_ACTION_SET_MANUAL_REVIEW);
        feed(&on, &r);
        feed(&off, &r);
    }
    text *t = hist_of(on.e, "quiet", NULL);
    cr_assert_eq(t->n, 0, "%s", t->s);
    free(t);
    cr_assert_eq(stats_of(&on).account_bytes, stats_of(&off).account_bytes);
    cr_assert_eq(rp_engine_history(on.e, rp_str_c("nobody"), RP_STR_NULL,
                                   put_line, NULL),
                 RP_ENOTFOUND);
    h_free(&on);
    h_free(&off);
}

Test(history, it_begins_when_the_account_leaves_healthy) {
    harness h;
    with_max(&h, 32);
    rp_record r = mk_action("a", T, RP_ACTION_SET_MANUAL_REVIEW);
    feed(&h, &r); /* HEALTHY yet: not kept */
    cycle(&h, "a", T + HOUR);
    text *t = hist_of(h.e, "a", NULL);
    /* Newest first: the change back to HEALTHY (and its notification),
     * the action, the change away from HEALTHY (and its notification). */
    cr_assert_geq(t->n, 3, "%s", t->s);
    rp_history_entry n = newest(h.e, "a");
    cr_assert_neq(n.kind, RP_HISTORY_ACTION);
    char *last = strrchr(t->s, '\n');
    *last = '\0';
    last = strrchr(t->s, '\n');
    last = last ? last + 1 : t->s;
    /* The oldest: HEALTHY (0) to something else, cause INTERNAL_REVIEW. */
    int kind, from, to, cause;
    long long tm;
    cr_assert_eq(
        sscanf(last, "%d %lld %d %d %d", &kind, &tm, &from, &to, &cause), 5);
    cr_assert_eq(kind, RP_HISTORY_STATUS_CHANGE, "%s", last);
    cr_assert_eq(from, RP_ASTATUS_HEALTHY);
    cr_assert_neq(to, RP_ASTATUS_HEALTHY);
    cr_assert_eq(cause, RP_ISSUE_INTERNAL_REVIEW);
    cr_assert_eq(tm, T + HOUR - T0);
    cr_assert(strstr(t->s, "[alice] [checked by hand]"), "%s", t->s);
    free(t);
    h_free(&h);
}

Test(history, an_action_that_did_not_apply_is_kept_as_such) {
    harness h;
    with_max(&h, 32);
    cycle(&h, "a", T);
    rp_record r = mk_action("a", T + HOUR, RP_ACTION_RESUME_SENDING);
    r.u.action.actor = rp_str_c("bob");
    feed(&h, &r); /* nothing is paused */
    rp_history_entry n = newest(h.e, "a");
    cr_assert_eq(n.kind, RP_HISTORY_ACTION);
    cr_assert_eq(n.action, RP_ACTION_RESUME_SENDING);
    cr_assert_not(n.applied);
    cr_assert_not(n.has_issue);
    cr_assert_eq(n.time, T + HOUR);
    cr_assert(rp_str_eq(n.actor, rp_str_c("bob")));
    cr_assert_null(n.note.ptr);
    h_free(&h);
}

Test(history, the_ring_keeps_the_newest_max_entries) {
    harness big, small;
    with_max(&big, 1024);
    with_max(&small, 5);
    for (int i = 0; i < 40; i++) {
        cycle(&big, "a", T + i * HOUR);
        cycle(&small, "a", T + i * HOUR);
    }
    text *b = hist_of(big.e, "a", NULL), *s = hist_of(small.e, "a", NULL);
    cr_assert_gt(b->n, 100);
    cr_assert_eq(s->n, 5);
    /* The small ring is the big one's five newest, in the same order. */
    cr_assert_eq(strncmp(b->s, s->s, s->len), 0, "%s\nvs\n%s", s->s, b->s);
    free(b);
    free(s);
    h_free(&big);
    h_free(&small);
}

Test(history, max_zero_keeps_none) {
    harness h;
    with_max(&h, 0);
    cycle(&h, "a", T);
    text *t = hist_of(h.e, "a", NULL);
    cr_assert_eq(t->n, 0);
    free(t);
    h_free(&h);
}

Test(history, actor_and_note_are_cut_to_their_bounds) {
    harness h;
    with_max(&h, 8);
    cycle(&h, "a", T);
    static char note[3000], actor[400];
    memset(note, 'n', sizeof(note) - 1);
    /* A two-byte character across the actor's bound (256): cut before. */
    memset(actor, 'x', sizeof(actor) - 1);
    actor[255] = (char)0xc3;
    actor[256] = (char)0xa9;
    rp_record r = mk_action("a", T + HOUR, RP_ACTION_EXTEND_REVIEW);
    r.u.action.actor = rp_str_c(actor);
    r.u.action.note = rp_str_c(note);
    feed(&h, &r);
    rp_history_entry n = newest(h.e, "a");
    cr_assert_eq(n.note.len, 2048);
    cr_assert_eq(n.actor.len, 255);
    /* Many such actions through a small ring: every string is freed
     * (ASan, valgrind). */
    for (int i = 0; i < 50; i++)
        feed(&h, &r);
    h_free(&h);
}

/* ---------------------------------------------------------------- changelog */

typedef struct states {
    char key[64][300];
    size_t klen[64];
    unsigned char val[64][65536];
    size_t len[64];
    int n;
} states;

static int keep(void *opaque, rp_str id, const void *st, size_t len) {
    states *s = opaque;
    cr_assert_lt(s->n, 64);
    cr_assert_leq(len, sizeof(s->val[0]));
    memcpy(s->key[s->n], id.ptr, id.len);
    s->klen[s->n] = id.len;
    memcpy(s->val[s->n], st, len);
    s->len[s->n++] = len;
    return 0;
}

static states *flush(harness *h) {
    states *s = calloc(1, sizeof(*s));
    cr_assert_eq(rp_engine_flush_dirty(h->e, keep, s), 0);
    return s;
}

static void restore_all(rp_engine *e, const states *s) {
    for (int i = 0; i < s->n; i++)
        cr_assert_eq(rp_engine_restore(e, (rp_str){s->key[i], s->klen[i]},
                                       s->val[i], s->len[i]),
                     0);
}

static int find(const states *s, const char *key, size_t klen) {
    for (int i = s->n - 1; i >= 0; i--)
        if (s->klen[i] == klen && memcmp(s->key[i], key, klen) == 0)
            return i;
    cr_assert_fail("no state for %.*s", (int)klen, key);
    return -1;
}

Test(history, a_round_trip_restores_it_exactly) {
    harness h;
    with_max(&h, 16);
    for (int i = 0; i < 12; i++)
        cycle(&h, "a", T + i * HOUR); /* past 16: the ring has wrapped */
    feed_deliveries(&h, "b", T, 3);
    /* A tenant paused on its bounce rate. */
    for (int i = 0; i < 60; i++) {
        rp_record r = mk_delivery("c", T + 13 * HOUR);
        r.tenant = rp_str_c("promo");
        feed(&h, &r);
        r = mk_hard_bounce("c", T + 13 * HOUR);
        r.tenant = rp_str_c("promo");
        feed(&h, &r);
    }
    states *s = flush(&h);
    cr_assert_eq(s->val[find(s, "a", 1)][0], 3, "an account with history");
    cr_assert_eq(s->val[find(s, "b", 1)][0], 1, "an account without");
    int ti = find(s, "c\xffpromo", 7);
    cr_assert_eq(s->val[ti][0], 4, "a tenant with history");
    rp_engine *e = new_engine(&h.cfg);
    restore_all(e, s);
    const char *ids[][2] = {{"a", NULL}, {"b", NULL}, {"c", "promo"}};
    for (int i = 0; i < 3; i++) {
        text *x = hist_of(h.e, ids[i][0], ids[i][1]);
        text *y = hist_of(e, ids[i][0], ids[i][1]);
        cr_assert_str_eq(x->s, y->s);
        if (i != 1)
            cr_assert_gt(x->n, 0);
        free(x);
        free(y);
    }
    /* Written again, the same bytes. */
    for (int i = 0; i < 3; i++) {
        rp_str k = rp_str_c(ids[i][0]);
        char tk[32];
        if (ids[i][1]) {
            snprintf(tk, sizeof(tk), "%s\xff%s", ids[i][0], ids[i][1]);
            k = rp_str_c(tk);
        }
        int at = find(s, k.ptr, k.len);
        states *again = calloc(1, sizeof(*again));
        cr_assert_eq(rp_engine_restore(e, k, s->val[at], s->len[at]), 0);
        rp_engine_flush_dirty(e, keep, again);
        free(again);
    }
    /* Into a smaller ring: the newest entries. */
    harness small;
    with_max(&small, 3);
    restore_all(small.e, s);
    text *x = hist_of(h.e, "a", NULL), *y = hist_of(small.e, "a", NULL);
    cr_assert_eq(y->n, 3);
    cr_assert_eq(strncmp(x->s, y->s, y->len), 0);
    free(x);
    free(y);
    rp_engine_destroy(e);
    free(s);
    h_free(&small);
    h_free(&h);
}

Test(history, an_old_version_restores_with_an_empty_history) {
    harness old;
    with_max(&old, 0); /* writes versions 1 and 2, as before histories */
    cycle(&old, "a", T);
    rp_record r = mk_report("a", T + HOUR, RP_ISSUE_INTERNAL_REVIEW, 1);
    feed(&old, &r);
    states *s = flush(&old);
    int i = find(s, "a", 1);
    cr_assert_eq(s->val[i][0], 1);
    harness h;
    with_max(&h, 32);
    restore_all(h.e, s);
    text *t = hist_of(h.e, "a", NULL);
    cr_assert_eq(t->n, 0);
    free(t);
    cr_assert_neq(view_of(&h, "a").status, RP_ASTATUS_HEALTHY);
    /* It begins with the next status change, back to HEALTHY here. */
    tick(&h, T + 2 * HOUR);
    r = mk_action("a", T + 2 * HOUR, RP_ACTION_END_REVIEW);
    feed(&h, &r);
    t = hist_of(h.e, "a", NULL);
    cr_assert_geq(t->n, 1, "%s", t->s);
    char *last = strrchr(t->s, '\n');
    *last = '\0';
    last = strrchr(t->s, '\n');
    last = last ? last + 1 : t->s;
    int kind, from, to;
    long long tm;
    cr_assert_eq(sscanf(last, "%d %lld %d %d", &kind, &tm, &from, &to), 4);
    cr_assert_eq(kind, RP_HISTORY_STATUS_CHANGE, "%s", last);
    cr_assert_neq(from, RP_ASTATUS_HEALTHY);
    cr_assert_eq(to, RP_ASTATUS_HEALTHY);
    free(t);
    free(s);
    h_free(&old);
    h_free(&h);
}

Test(history, a_state_with_a_history_is_refused_at_every_truncation) {
    harness h;
    with_max(&h, 32);
    cycle(&h, "a", T);
    cycle(&h, "a", T + HOUR);
    states *s = flush(&h);
    int i = find(s, "a", 1);
    cr_assert_eq(s->val[i][0], 3);
    rp_engine *e = new_engine(&h.cfg);
    for (size_t cut = 1; cut < s->len[i]; cut++)
        cr_assert_eq(rp_engine_restore(e, rp_str_c("a"), s->val[i], cut),
                     RP_EBADDATA, "cut at %zu of %zu", cut, s->len[i]);
    /* A history in a value marked without one, and the other way. */
    s->val[i][0] = 1;
    cr_assert_eq(rp_engine_restore(e, rp_str_c("a"), s->val[i], s->len[i]),
                 RP_EBADDATA);
    s->val[i][0] = 4; /* a tenant's version, for an account */
    cr_assert_eq(rp_engine_restore(e, rp_str_c("a"), s->val[i], s->len[i]),
                 RP_EBADDATA);
    s->val[i][0] = 3;
    cr_assert_eq(rp_engine_restore(e, rp_str_c("a"), s->val[i], s->len[i]), 0);
    rp_engine_destroy(e);
    free(s);
    h_free(&h);
}

/* With REPUTE_WRITE_STATE_SEEDS=DIR (tests/fuzz/corpus/state), writes the
 * seeds of fuzz_state.c that carry a history: an account's value
 * (version 3) and a tenant's (version 4), each behind the selector byte
 * the fuzzer reads (bit 0: a tenant, bit 1: drive the engine). */
Test(history, seeds_for_the_state_fuzzer) {
    const char *dir = getenv("REPUTE_WRITE_STATE_SEEDS");
    harness h;
    with_max(&h, 6);
    for (int i = 0; i < 4; i++)
        cycle(&h, "a", T + i * HOUR);
    for (int i = 0; i < 60; i++) {
        rp_record r = mk_delivery("a", T + 5 * HOUR);
        r.tenant = rp_str_c("t");
        feed(&h, &r);
        r = mk_hard_bounce("a", T + 5 * HOUR);
        r.tenant = rp_str_c("t");
        feed(&h, &r);
    }
    rp_record r = mk_action_on("a", T + 6 * HOUR, RP_ACTION_RESUME_SENDING,
                               RP_ISSUE_BOUNCE_RATE);
    r.tenant = rp_str_c("t");
    r.u.action.actor = rp_str_c("op\xc3\xa9rateur");
    r.u.action.note = rp_str_c("list cleaned");
    feed(&h, &r);
    states *s = flush(&h);
    int ia = find(s, "a", 1), it = find(s, "a\xfft", 3);
    cr_assert_eq(s->val[ia][0], 3);
    cr_assert_eq(s->val[it][0], 4);
    if (dir) {
        const struct {
            const char *name;
            int sel, at;
        } seeds[] = {{"account-history", 2, ia}, {"tenant-history", 3, it}};
        for (int i = 0; i < 2; i++) {
            char path[512];
            snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
            FILE *f = fopen(path, "wb");
            cr_assert_not_null(f, "%s", path);
            fputc(seeds[i].sel, f);
            fwrite(s->val[seeds[i].at], 1, s->len[seeds[i].at], f);
            fclose(f);
        }
    }
    free(s);
    h_free(&h);
}
