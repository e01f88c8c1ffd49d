/*
 * test_engine_tenants_diff.c - a differential test of tenants
 * (docs/rules.md section 10): "each tenant has its own reputation, by the
 * same rules applied to the tenant's records only", and "the account is
 * unchanged".
 *
 * For many seeded random streams of one account whose records name no
 * tenant or one of three tenants (outcomes of every kind with late
 * feedback, reports of every kind, issue-level actions, quiet gaps that let
 * reviews end), one engine is fed the whole stream. Then:
 *
 *  - for each tenant, a second engine whose account rates are the tenant
 *    rates is fed only the records naming that tenant, as records of an
 *    account of that name, and advanced to the time of every other record:
 *    its events must equal the first engine's events of that tenant, field
 *    for field (all but the account id and the sequence, and the texts);
 *  - a third engine is fed the stream with the tenants taken off the
 *    outcomes, and every report or action that named a tenant replaced by
 *    an action that applies to nothing (so that the account's rates are
 *    still evaluated after it, as the rules say): its events must equal
 *    the first engine's account events;
 *  - the first engine's sequence runs 1..n over all the events of the
 *    account and its tenants.
 *
 * Account-level actions and links are left out of the streams (their
 * tenant forms do not apply, tested in test_engine_tenants.c), and no gap
 * is long enough for a tenant to be forgotten.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define N_RECORDS 2500
#define N_SEEDS   40

static const char *const tenants[] = {NULL, "t1", "t2", "t3"};

typedef struct stream {
    rp_record r[N_RECORDS];
    char ids[N_RECORDS][24];
} stream;

static uint64_t next(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int below(uint64_t *s, int n) {
    return (int)(next(s) % (uint64_t)n);
}

/* One record of the stream at time t for tenant index ti, whose share of
 * hard bounces and complaints (per mille) is bad[ti]. */
static rp_record gen_one(uint64_t *s, int64_t t, int ti, const int *bad) {
    int dice = below(s, 1000);
    rp_record r;
    if (dice < 880) {
        bool hard = below(s, 1000) < bad[ti];
        bool compl = below(s, 1000) < bad[ti] / 3;
        r = compl  ? mk_complaint("A", t)
            : hard ? mk_hard_bounce("A", t)
                   : mk_delivery("A", t);
        if (below(s, 10) == 0)
            r = mk_bounce("A", t, RP_BOUNCE_TRANSIENT, RP_BSUB_GENERAL);
        if (below(s, 4) == 0 && r.type != RP_REC_DELIVERY)
            rec_set_sent_time(&r, t - below(s, 72) * HOUR);
    } else if (dice < 940) {
        rp_issue_kind k =
            (rp_issue_kind)(RP_ISSUE__FIRST_REPORT +
                            below(s, RP_ISSUE__COUNT - RP_ISSUE__FIRST_REPORT));
        r = mk_report("A", t, k, 1 + below(s, 2));
    } else {
        static const rp_action_type acts[] = {
            RP_ACTION_REMEDIATION_SUBMITTED, RP_ACTION_RESUME_SENDING,
            RP_ACTION_PAUSE_SENDING, RP_ACTION_EXTEND_REVIEW,
            RP_ACTION_END_REVIEW};
        rp_action_type a = acts[below(s, 5)];
        r = below(s, 2)
                ? mk_action("A", t, a)
                : mk_action_on("A", t, a,
                               (rp_issue_kind)below(s, RP_ISSUE__COUNT));
        if (below(s, 3) == 0)
            rec_set_effective_time(&r, t - below(s, 24) * HOUR);
    }
    r.tenant = tenants[ti] ? rp_str_c(tenants[ti]) : (rp_str){NULL, 0};
    return r;
}

static void gen(stream *st, uint64_t seed) {
    uint64_t s = seed;
    int bad[4];
    for (int i = 0; i < 4; i++)
        bad[i] = below(&s, 4) == 0 ? 150 : below(&s, 60);
    int64_t t = T0;
    for (int i = 0; i < N_RECORDS; i++) {
        /* Mostly minutes apart, now and then a day or more: reviews end. */
        t += below(&s, 50) == 0 ? (int64_t)below(&s, 3 * 24) * HOUR
                                : (int64_t)below(&s, 20) * MINUTE;
        int ti = below(&s, 10) < 4 ? 0 : 1 + below(&s, 3);
        st->r[i] = gen_one(&s, t, ti, bad);
        snprintf(st->ids[i], sizeof(st->ids[i]), "e%d", i);
        st->r[i].event_id = rp_str_c(st->ids[i]);
    }
}

static void tenant_rates(rp_config *c) {
    c->tenant_bounce_review_rate = 0.03;
    c->tenant_bounce_pause_rate = 0.06;
    c->tenant_complaint_review_rate = 0.01;
    c->tenant_complaint_pause_rate = 0.03;
    c->tenant_max_per_account = 1000;
}

static void same_snap(const rp_metric_snapshot *a, const rp_metric_snapshot *b,
                      size_t i) {
    cr_assert_eq(a->status, b->status, "event %zu", i);
    cr_assert_eq(a->has_rate, b->has_rate, "event %zu", i);
    cr_assert(a->rate == b->rate, "event %zu", i);
    cr_assert_eq(a->count, b->count, "event %zu", i);
    cr_assert_eq(a->volume, b->volume, "event %zu", i);
    cr_assert_eq(a->window_start, b->window_start, "event %zu", i);
    cr_assert_eq(a->window_end, b->window_end, "event %zu", i);
}

static void same_event(const cap_event *a, const cap_event *b, size_t i) {
    cr_assert_eq(a->event_time, b->event_time, "event %zu", i);
    cr_assert_eq(a->kind, b->kind, "event %zu", i);
    if (a->kind == RP_EVENT_STATUS_CHANGE) {
        const rp_status_change *x = &a->sc, *y = &b->sc;
        cr_assert_eq(x->previous_status, y->previous_status, "event %zu", i);
        cr_assert_eq(x->status, y->status, "event %zu", i);
        cr_assert_eq(x->cause, y->cause, "event %zu", i);
        cr_assert_eq(x->has_review_end, y->has_review_end, "event %zu", i);
        cr_assert_eq(x->review_ends_at, y->review_ends_at, "event %zu", i);
        same_snap(&x->bounce, &y->bounce, i);
        same_snap(&x->complaint, &y->complaint, i);
        cr_assert_eq(x->n_issues, y->n_issues, "event %zu", i);
        for (size_t k = 0; k < x->n_issues; k++) {
            const rp_issue_state *p = &x->issues[k], *q = &y->issues[k];
            cr_assert_eq(p->kind, q->kind, "event %zu", i);
            cr_assert_eq(p->status, q->status, "event %zu", i);
            cr_assert_eq(p->since, q->since, "event %zu", i);
            cr_assert_eq(p->has_review_end, q->has_review_end, "event %zu", i);
            cr_assert_eq(p->review_ends_at, q->review_ends_at, "event %zu", i);
        }
        return;
    }
    const rp_notification *x = &a->nt, *y = &b->nt;
    cr_assert_eq(x->issue, y->issue, "event %zu", i);
    cr_assert_eq(x->stage, y->stage, "event %zu", i);
    cr_assert_eq(x->account_status, y->account_status, "event %zu", i);
    cr_assert_eq(x->has_rate, y->has_rate, "event %zu", i);
    cr_assert(x->rate == y->rate, "event %zu", i);
    cr_assert_eq(x->has_threshold, y->has_threshold, "event %zu", i);
    cr_assert(x->threshold == y->threshold, "event %zu", i);
    cr_assert_eq(x->has_review_end, y->has_review_end, "event %zu", i);
    cr_assert_eq(x->review_ends_at, y->review_ends_at, "event %zu", i);
}

/* The events of `full` of one tenant ("" for the account's own) must be
 * those of `alone`, in order. */
static size_t compare(const capture *full, const char *tenant,
                      const capture *alone, uint64_t seed) {
    size_t j = 0;
    for (size_t i = 0; i < full->n; i++) {
        if (strcmp(full->ev[i].tenant, tenant) != 0)
            continue;
        cr_assert_lt(j, alone->n, "seed %llu tenant '%s': more events",
                     (unsigned long long)seed, tenant);
        same_event(&full->ev[i], &alone->ev[j], j);
        j++;
    }
    cr_assert_eq(j, alone->n, "seed %llu tenant '%s': %zu events, %zu alone",
                 (unsigned long long)seed, tenant, j, alone->n);
    return j;
}

static void run_seed(uint64_t seed, stream *st, size_t *total) {
    gen(st, seed);
    harness full;
    h_config(&full);
    tenant_rates(&full.cfg);
    h_start(&full);
    for (int i = 0; i < N_RECORDS; i++)
        feed(&full, &st->r[i]);
    tick(&full, st->r[N_RECORDS - 1].event_time + 5 * DAY);
    for (size_t i = 0; i < full.c.n; i++)
        cr_assert_eq(full.c.ev[i].sequence, i + 1, "seed %llu: sequence",
                     (unsigned long long)seed);

    for (int ti = 1; ti < 4; ti++) {
        harness alone;
        h_config(&alone);
        tenant_rates(&alone.cfg);
        alone.cfg.bounce_review_rate = alone.cfg.tenant_bounce_review_rate;
        alone.cfg.bounce_pause_rate = alone.cfg.tenant_bounce_pause_rate;
        alone.cfg.complaint_review_rate =
            alone.cfg.tenant_complaint_review_rate;
        alone.cfg.complaint_pause_rate = alone.cfg.tenant_complaint_pause_rate;
        h_start(&alone);
        for (int i = 0; i < N_RECORDS; i++) {
            rp_record r = st->r[i];
            if (r.tenant.ptr && rp_str_eq(r.tenant, rp_str_c(tenants[ti]))) {
                r.account_id = r.tenant;
                r.tenant = (rp_str){NULL, 0};
                feed(&alone, &r);
            } else {
                tick(&alone, r.event_time);
            }
        }
        tick(&alone, st->r[N_RECORDS - 1].event_time + 5 * DAY);
        *total += compare(&full.c, tenants[ti], &alone.c, seed);
        h_free(&alone);
    }

    harness acct;
    h_config(&acct);
    tenant_rates(&acct.cfg);
    h_start(&acct);
    for (int i = 0; i < N_RECORDS; i++) {
        rp_record r = st->r[i];
        if (r.tenant.ptr &&
            (r.type == RP_REC_REPORT || r.type == RP_REC_ACTION)) {
            r = mk_action("A", r.event_time, RP_ACTION_UNLINK_ACCOUNT);
            rec_set_related(&r, "nobody");
            r.event_id = st->r[i].event_id;
        }
        r.tenant = (rp_str){NULL, 0};
        feed(&acct, &r);
    }
    tick(&acct, st->r[N_RECORDS - 1].event_time + 5 * DAY);
    *total += compare(&full.c, "", &acct.c, seed);
    h_free(&acct);
    h_free(&full);
}

Test(tenants_diff, tenant_equals_an_account_of_its_own_records) {
    stream *st = malloc(sizeof(*st));
    cr_assert_not_null(st);
    size_t total = 0;
    for (uint64_t seed = 1; seed <= N_SEEDS; seed++)
        run_seed(seed, st, &total);
    /* The streams do exercise the life cycle. */
    cr_assert_gt(total, 40 * N_SEEDS, "only %zu events compared", total);
    free(st);
}
