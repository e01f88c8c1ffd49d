/*
 * test_engine_current.c - the AccountState of topic.current that the
 * engine hands sink->on_current (src/engine/current.c): one after every
 * STATUS_CHANGE of the account or of a tenant, with that event's
 * sequence; since as the oldest open issue's since; the non-HEALTHY
 * tenants in name order (a tenant paused while its account is healthy,
 * the account paused while its tenant is healthy, both); "a tombstone"
 * (HEALTHY, no tenants) once the account and all its tenants are
 * HEALTHY; and the rebuild (rp_engine_foreach_current) giving the same
 * state but for sequence.
 *
 * Each state is captured through the codec (encoded in the callback,
 * decoded when checked), which also runs the codec on engine output.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "repute/acctstate.h"
#include "repute/jsonl.h"
#include "support.h"

#define ACCT "acct-1"
#define T    (T0 + 30 * MINUTE)

/* ------------------------------------------------------------ capture */

#define MAX_STATES 4096

/* Every state handed to on_current, encoded; a test runs alone in its
 * process, so a static capture is enough. */
static rp_buf states[MAX_STATES];
static size_t n_states;
static size_t n_null;

static void on_current(void *opaque, const rp_account_state *st) {
    (void)opaque;
    if (!st) {
        n_null++;
        return;
    }
    char err[256];
    cr_assert_lt(n_states, MAX_STATES);
    cr_assert_eq(rp_acctstate_encode(st, RP_ACCTSTATE_NO_ID,
                                     &states[n_states++], err, sizeof(err)),
                 0, "%s", err);
}

/* The i-th captured state (negative: from the end), decoded. */
static rp_account_state state(long i) {
    size_t k = i < 0 ? n_states - (size_t)(-i) : (size_t)i;
    cr_assert_lt(k, n_states, "state %ld of %zu", i, n_states);
    rp_account_state st;
    char err[256];
    cr_assert_eq(rp_acctstate_decode(states[k].data, states[k].len, false, NULL,
                                     &st, err, sizeof(err)),
                 0, "%s", err);
    return st;
}

/* The n-th tenant of a decoded state. */
static rp_tenant_state tenant_of(const rp_account_state *st, size_t n) {
    rp_acctstate_iter it;
    rp_tenant_state t;
    rp_acctstate_tenant_begin(st, &it);
    for (size_t i = 0; i <= n; i++)
        cr_assert(rp_acctstate_tenant_next(&it, &t), "no tenant %zu", i);
    return t;
}

static void c_init(harness *h) {
    h_config(h);
    h->cfg.tenant_bounce_review_rate = h->cfg.bounce_review_rate;
    h->cfg.tenant_bounce_pause_rate = h->cfg.bounce_pause_rate;
    h->cfg.tenant_max_per_account = 1000;
    h_start(h);
    h->c.sink.on_current = on_current;
    n_states = n_null = 0;
}

static void c_free(harness *h) {
    for (size_t i = 0; i < MAX_STATES; i++)
        rp_buf_free(&states[i]);
    h_free(h);
}

static void send_t(harness *h, const char *tenant, int64_t t, int deliveries,
                   int hard) {
    for (int i = 0; i < deliveries + hard; i++) {
        rp_record r =
            i < deliveries ? mk_delivery(ACCT, t) : mk_hard_bounce(ACCT, t);
        r.tenant = tenant ? rp_str_c(tenant) : RP_STR_NULL;
        feed(h, &r);
    }
}

/* Every STATUS_CHANGE was followed by one state with its sequence. */
static void assert_one_per_change(harness *h) {
    size_t k = 0;
    for (size_t i = 0; i < h->c.n; i++) {
        if (h->c.ev[i].kind != RP_EVENT_STATUS_CHANGE)
            continue;
        rp_account_state st = state((long)k++);
        cr_assert_eq(st.sequence, h->c.ev[i].sequence);
        cr_assert(rp_str_eq(st.account_id, rp_str_c(h->c.ev[i].account)));
    }
    cr_assert_eq(k, n_states, "%zu status changes, %zu states", k, n_states);
    cr_assert_eq(n_null, 0);
}

/* ------------------------------------------------------------ rebuild */

typedef struct found {
    const char *acct;
    rp_buf bytes;
    bool seen;
} found;

static int find_one(void *opaque, const rp_account_state *st) {
    found *f = opaque;
    char err[256];
    if (!rp_str_eq(st->account_id, rp_str_c(f->acct)))
        return 0;
    cr_assert_eq(rp_acctstate_encode(st, RP_ACCTSTATE_NO_ID, &f->bytes, err,
                                     sizeof(err)),
                 0, "%s", err);
    f->seen = true;
    return 0;
}

/* The rebuilt state of ACCT equals the last one handed out, but for
 * sequence, which is the account's last event's. */
static void assert_rebuild_agrees(harness *h) {
    found f = {ACCT, {0}, false};
    cr_assert_eq(rp_engine_foreach_current(h->e, -1, find_one, &f), 0);
    cr_assert(f.seen);
    rp_account_state last = state(-1), rb;
    char err[256];
    cr_assert_eq(rp_acctstate_decode(f.bytes.data, f.bytes.len, false, NULL,
                                     &rb, err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(rb.sequence, cap_last(&h->c, ACCT)->sequence);
    cr_assert_geq(rb.sequence, last.sequence);
    if (last.status == RP_ASTATUS_HEALTHY && !last.n_tenants) {
        /* Both tombstones: nothing else is written. */
        cr_assert_eq(rb.status, RP_ASTATUS_HEALTHY);
        cr_assert_eq(rb.n_tenants, 0);
        rp_buf_free(&f.bytes);
        return;
    }
    /* Same bytes once the sequences are the same. */
    rp_buf a = {0}, b = {0};
    rb.sequence = last.sequence;
    cr_assert_eq(rp_acctstate_encode(&rb, -1, &a, err, sizeof(err)), 0);
    cr_assert_eq(rp_acctstate_encode(&last, -1, &b, err, sizeof(err)), 0);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
        rp_buf ja = {0}, jb = {0};
        rp_jsonl_write_account_state(&ja, &rb);
        rp_jsonl_write_account_state(&jb, &last);
        cr_assert_fail("rebuilt %.*s last %.*s", (int)ja.len, ja.data,
                       (int)jb.len, jb.data);
    }
    rp_buf_free(&a);
    rp_buf_free(&b);
    rp_buf_free(&f.bytes);
}

/* ------------------------------------------------------------ accounts */

Test(current, account_review_and_rebuild) {
    harness h;
    c_init(&h);
    send_t(&h, NULL, T, 95, 5);
    rp_record r = mk_report(ACCT, T + HOUR, RP_ISSUE_SPAMTRAP, 1);
    feed(&h, &r);
    assert_one_per_change(&h);
    rp_account_state c = state(-1);
    cr_assert_neq(c.status, RP_ASTATUS_HEALTHY);
    cr_assert_geq(c.n_issues, 1);
    cr_assert_eq(c.n_tenants, 0);
    /* since: the oldest open issue's, here the bounce rate's. */
    int64_t oldest = c.issues[0].since;
    for (size_t i = 0; i < c.n_issues; i++) {
        cr_assert_neq(c.issues[i].status, RP_ISTATUS_HEALTHY);
        if (c.issues[i].since < oldest)
            oldest = c.issues[i].since;
        if (i)
            cr_assert_lt(c.issues[i - 1].kind, c.issues[i].kind);
    }
    cr_assert_eq(c.since, oldest);
    /* The same status, issues and review end as the StatusChange. */
    const cap_event *sc = cap_last_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE);
    cr_assert_eq(c.status, sc->sc.status);
    cr_assert_eq(c.n_issues, sc->sc.n_issues);
    cr_assert_eq(c.has_review_end, sc->sc.has_review_end);
    cr_assert_eq(c.review_ends_at, sc->sc.review_ends_at);
    assert_rebuild_agrees(&h);
    c_free(&h);
}

Test(current, healthy_after_the_review_is_a_tombstone) {
    harness h;
    c_init(&h);
    send_t(&h, NULL, T, 95, 5);
    for (int d = 1; d <= 40; d++) {
        send_t(&h, NULL, T + d * DAY, 200, 0);
        tick(&h, T + d * DAY + HOUR);
    }
    assert_one_per_change(&h);
    rp_account_state c = state(-1);
    cr_assert_eq(c.status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(c.n_issues, 0);
    cr_assert_eq(c.n_tenants, 0, "HEALTHY, no tenants: a tombstone");
    const cap_event *last = cap_last_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE);
    cr_assert_eq(c.since, last->event_time, "no issue: since is the event's");
    c_free(&h);
}

Test(current, nothing_without_the_callback) {
    harness h;
    c_init(&h);
    h.c.sink.on_current = NULL;
    send_t(&h, "t", T, 95, 5);
    cr_assert_gt(cap_count_kind(&h.c, ACCT, RP_EVENT_STATUS_CHANGE), 0);
    cr_assert_eq(n_states, 0);
    c_free(&h);
}

/* ------------------------------------------------------------ tenants */

Test(current, tenant_paused_while_account_healthy) {
    harness h;
    c_init(&h);
    send_t(&h, NULL, T, 1000, 0);
    send_t(&h, "bad-list", T, 80, 20);
    cr_assert_eq(n_states, 1);
    rp_account_state st = state(0);
    cr_assert_eq(st.status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(st.n_issues, 0);
    cr_assert_eq(st.n_tenants, 1);
    cr_assert_eq(st.sequence, 1);
    rp_tenant_state t = tenant_of(&st, 0);
    cr_assert(rp_str_eq(t.tenant, rp_str_c("bad-list")));
    cr_assert_eq(t.status, RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(t.n_issues, 1);
    cr_assert_eq(t.issues[0].kind, RP_ISSUE_BOUNCE_RATE);
    cr_assert(t.has_review_end);
    cr_assert_eq(t.review_ends_at, t.issues[0].review_ends_at);
    cr_assert_eq(t.since, t.issues[0].since);
    /* A HEALTHY account listed for its tenant: since is the tenant's. */
    cr_assert_eq(st.since, t.since);
    cr_assert_not(st.has_review_end);

    tick(&h, T + DAY);
    assert_one_per_change(&h);
    st = state(-1);
    cr_assert_eq(st.status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(st.sequence, 3);
    t = tenant_of(&st, 0);
    cr_assert_eq(t.status, RP_ASTATUS_SENDING_PAUSED);
    cr_assert_not(t.has_review_end);
    assert_rebuild_agrees(&h);

    /* Resumed and sending clean again: the tenant heals, and with the
     * account HEALTHY too, the state is a tombstone. */
    rp_record r = mk_action_on(ACCT, T + DAY + HOUR, RP_ACTION_RESUME_SENDING,
                               RP_ISSUE_BOUNCE_RATE);
    r.tenant = rp_str_c("bad-list");
    feed(&h, &r);
    for (int d = 2; d <= 40 && state(-1).n_tenants; d++) {
        send_t(&h, "bad-list", T + d * DAY, 300, 0);
        tick(&h, T + d * DAY + HOUR);
    }
    assert_one_per_change(&h);
    st = state(-1);
    cr_assert_eq(st.status, RP_ASTATUS_HEALTHY);
    cr_assert_eq(st.n_tenants, 0, "all HEALTHY: a tombstone");
    cr_assert_eq(rp_engine_view_tenant(h.e, rp_str_c(ACCT),
                                       rp_str_c("bad-list"),
                                       &(rp_account_view){0}),
                 0, "the tenant is still held, HEALTHY");
    assert_rebuild_agrees(&h);
    c_free(&h);
}

Test(current, account_paused_with_a_healthy_tenant) {
    harness h;
    c_init(&h);
    send_t(&h, "good", T, 200, 0);
    send_t(&h, NULL, T, 50, 30);
    tick(&h, T + DAY);
    assert_one_per_change(&h);
    rp_account_state st = state(-1);
    cr_assert_eq(st.status, RP_ASTATUS_SENDING_PAUSED);
    cr_assert_eq(st.n_tenants, 0, "a HEALTHY tenant is not listed");
    cr_assert_eq(rp_engine_view_tenant(h.e, rp_str_c(ACCT), rp_str_c("good"),
                                       &(rp_account_view){0}),
                 0);
    assert_rebuild_agrees(&h);
    c_free(&h);
}

Test(current, account_and_tenants_in_name_order) {
    harness h;
    c_init(&h);
    /* Three tenants into review (the account too: they are all of its
     * mail), created in an order that is not the names'. */
    send_t(&h, "c", T, 90, 10);
    send_t(&h, "ba", T, 90, 10);
    send_t(&h, "b", T, 90, 10);
    send_t(&h, "z-good", T, 100, 0);
    assert_one_per_change(&h);
    rp_account_state st = state(-1);
    cr_assert_eq(st.status, RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(st.n_tenants, 3);
    const char *names[] = {"b", "ba", "c"};
    for (size_t i = 0; i < 3; i++) {
        rp_tenant_state t = tenant_of(&st, i);
        cr_assert(rp_str_eq(t.tenant, rp_str_c(names[i])), "tenant %zu: %.*s",
                  i, (int)t.tenant.len, t.tenant.ptr);
        cr_assert_eq(t.status, RP_ASTATUS_UNDER_REVIEW);
    }
    /* The account's own since, not its tenants'. */
    cr_assert_eq(st.since, st.issues[0].since);
    assert_rebuild_agrees(&h);
    /* The JSON line carries them. */
    rp_buf j = {0};
    cr_assert_eq(rp_jsonl_write_account_state(&j, &st), 0);
    rp_buf_putc(&j, '\0');
    cr_assert(strstr(j.data, "\"tenants\":[{\"tenant\":\"b\",\"status\":"
                             "\"UNDER_REVIEW\""),
              "%s", j.data);
    rp_buf_free(&j);
    c_free(&h);
}
