/*
 * loadgen_traffic.c - what repute-loadgen's records say: the accounts,
 * their rates, and each record's type, times and fields.
 *
 * The realism the essay of loadgen.c promises is built here. Accounts are
 * drawn once at start: a Zipf rank per account (shuffled, so that volume
 * is unrelated to the id), a hard-bounce and a complaint rate from a
 * log-normal around healthy values, and for a --bad-share of them one
 * metric far past the review threshold. A record is then a send (delivery
 * or bounce) at the account's rates, a complaint at its complaint rate,
 * or rarely a report or an operator action aimed mostly at the bad
 * accounts, so the type mix follows from the accounts instead of being a
 * fixed table. Every draw comes from bench_gen.h's generator in a fixed
 * order, and nothing here reads a clock or talks to Kafka: event times
 * are given by the caller, so a seed always gives the same stream.
 *
 * The strings of the record being built (ids, recipients, domains) are
 * formatted by hand into the generator's scratch buffers: at a million
 * records a second, snprintf would be a visible share of the time, and a
 * malloc per record more so. A record's strings are therefore valid until
 * the next record is built.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

/* Writes v in decimal, zero-padded to at least `width` digits; returns the
 * length. Faster than snprintf, which matters at a million records a
 * second. */
static size_t fmt_u64(char *out, uint64_t v, int width) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return (size_t)n;
}

/* ---------------------------------------------------------------- tables */

/* Hard bounces (permanent, and counted: docs/rules.md section 3), and the
 * bounces that count as sends but not as hard bounces, each with its share. */
static const struct {
    bg_bounce kind;
    unsigned weight;
} HARD[LG_N_HARD] = {{BG_BOUNCE_GENERAL, 55},
                     {BG_BOUNCE_NO_EMAIL, 35},
                     {BG_BOUNCE_SUPPRESSED, 10}},
  SOFT[LG_N_SOFT] = {
      {BG_BOUNCE_TRANSIENT, 30},          {BG_BOUNCE_MAILBOX_FULL, 35},
      {BG_BOUNCE_TOO_LARGE, 5},           {BG_BOUNCE_CONTENT_REJECTED, 10},
      {BG_BOUNCE_ATTACHMENT_REJECTED, 3}, {BG_BOUNCE_UNDETERMINED, 7},
      {BG_BOUNCE_ACCOUNT_LIST, 10}};

static const char *const HARD_DIAG[] = {
    "smtp; 550 5.1.1 The email account that you tried to reach does not exist",
    "smtp; 550 5.1.1 Recipient address rejected: User unknown",
};
static const char *const SOFT_DIAG[] = {
    "smtp; 452 4.2.2 Mailbox full",
    "smtp; 421 4.7.0 Try again later",
    "smtp; 554 5.7.1 Message rejected as spam",
};

/* Indexed by rp_feedback_type: mostly abuse reports. */
static const unsigned FEEDBACK_WEIGHTS[RP_FEEDBACK__COUNT] = {
    900, 10, 20, 20, 30, 10, 10,
};

/* Indexed by report kind: mostly the automatic (non-manual) kinds, with
 * spamtraps and domain blocklists the most common; RELATED_ACCOUNT never,
 * since repute produces those itself. */
static const unsigned REPORT_WEIGHTS[RP_REPORT__COUNT] = {
    12, 4, 30, 20, 12, 6, 8, 2, 0, 2, 2, 2,
};

static const char *const REPORTERS[] = {
    "abuse-desk.example", "trap-network.example", "postmaster.example",
    "blocklist.example"};

/* Indexed by rp_action_type: mostly remediations and links, as owners
 * answer reviews and operators tie accounts together. */
static const unsigned ACTION_WEIGHTS[RP_ACTION__COUNT] = {
    45, 10, 2, 5, 8, 3, 2, 20, 5,
};

static const char *const NOTES[] = {
    "removed a purchased list",
    "double opt-in enabled on every sign-up form",
    "checked by trust and safety",
};

/* ---------------------------------------------------------------- accounts */

/* An account id is "acct-" and ten digits. */
#define ACCOUNT_ID_LEN 15

static rp_str account_id(generator *g, int slot, uint64_t a) {
    memcpy(g->account[slot], "acct-", 5);
    size_t n = 5 + fmt_u64(g->account[slot] + 5, a, 10);
    return (rp_str){g->account[slot], n};
}

void lg_generator_init(generator *g, const options *o) {
    memset(g, 0, sizeof *g);
    g->o = o;
    bg_rng_seed(&g->r, o->seed);
    bg_zipf_init(&g->z, o->accounts, o->zipf);

    unsigned total = 0, fl = 0;
    for (size_t i = 0; i < BG_N_DOMAINS; i++) {
        g->domain_w[i] = BG_DOMAINS[i].weight;
        g->fl_w[i] = BG_DOMAINS[i].feedback_loop ? BG_DOMAINS[i].weight : 0;
        total += BG_DOMAINS[i].weight;
        fl += g->fl_w[i];
    }
    g->fl_share = (double)fl / total;
    for (size_t i = 0; i < LG_N_HARD; i++)
        g->hard_w[i] = HARD[i].weight;
    for (size_t i = 0; i < LG_N_SOFT; i++)
        g->soft_w[i] = SOFT[i].weight;

    uint64_t n = o->accounts;
    g->rank_to_account = xmalloc(n * sizeof(uint32_t));
    bg_shuffle_ranks(&g->r, g->rank_to_account, n);

    /* Healthy accounts: hard bounces around 0.5% (below 3%), complaints
     * around 0.02% (below 0.06%), soft bounces about as many again plus a
     * floor. Bad accounts: one metric far past review, mostly past pause. */
    g->prof = xmalloc(n * sizeof(profile));
    g->bad = xmalloc(n * sizeof(uint32_t));
    for (uint64_t a = 0; a < n; a++) {
        double hard = bg_rng_lognormal(&g->r, 0.005, 0.8, 0.0002, 0.03);
        double compl = bg_rng_lognormal(&g->r, 0.0002, 0.9, 0.00001, 0.0006);
        if (bg_rng_chance(&g->r, o->bad_share)) {
            g->bad[g->n_bad++] = (uint32_t)a;
            if (bg_rng_chance(&g->r, 0.5))
                hard = bg_rng_uniform(&g->r, 0.06, 0.20);
            else
                compl = bg_rng_uniform(&g->r, 0.002, 0.012);
        }
        g->prof[a].hard = (float)hard;
        g->prof[a].soft = (float)(0.6 * hard + 0.004);
        g->prof[a].complaint = (float)(compl *g->fl_share);
    }
    g->healthy.hard = 0.005f;
    g->healthy.soft = (float)(0.6 * 0.005 + 0.004);
    g->healthy.complaint = (float)(0.0002 * g->fl_share);
    lg_tenants_init(g);
}

void lg_generator_free(generator *g) {
    free(g->rank_to_account);
    free(g->prof);
    free(g->bad);
    free(g->n_tenants);
    free(g->bad_tenant);
    free(g->tenant_base);
    free(g->tenant_seen);
}

static uint64_t pick_account(generator *g) {
    return g->rank_to_account[bg_zipf_sample(&g->z, &g->r) - 1];
}

/* Reports and actions go mostly to the bad accounts. */
static uint64_t pick_troubled(generator *g) {
    if (g->n_bad > 0 && bg_rng_chance(&g->r, 0.7))
        return g->bad[bg_rng_below(&g->r, g->n_bad)];
    return pick_account(g);
}

/* ---------------------------------------------------------------- records */

static rp_str make_event_id(generator *g) {
    char *p = g->event_id;
    memcpy(p, "ev-", 3);
    size_t n = 3 + fmt_u64(p + 3, g->o->seed, 1);
    p[n++] = '-';
    n += fmt_u64(p + n, ++g->next_event, 1);
    return (rp_str){p, n};
}

/* Sixteen hex digits of a scrambled counter, as providers' ids look. */
static rp_str make_message_id(generator *g) {
    uint64_t x = ++g->next_message ^ (g->o->seed << 40);
    uint64_t h = bg_splitmix64(&x);
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, h >>= 4)
        g->message_id[i] = hex[h & 15];
    return (rp_str){g->message_id, 16};
}

/* A recipient at a provider drawn by mail share; only feedback-loop
 * providers when `fl_only` (complaints come from those). */
static rp_str make_recipient(generator *g, int slot, bool fl_only,
                             bool *feedback_loop) {
    size_t d =
        bg_rng_weighted(&g->r, fl_only ? g->fl_w : g->domain_w, BG_N_DOMAINS);
    char *p = g->recipient[slot];
    p[0] = 'u';
    size_t n = 1 + fmt_u64(p + 1, bg_rng_below(&g->r, 10000000), 7);
    p[n++] = '@';
    size_t dl = strlen(BG_DOMAINS[d].name);
    memcpy(p + n, BG_DOMAINS[d].name, dl);
    n += dl;
    if (feedback_loop)
        *feedback_loop = BG_DOMAINS[d].feedback_loop;
    return (rp_str){p, n};
}

/* A time `min` to `max` ms before t, skewed towards `min`: feedback
 * mostly comes soon after the send. */
static int64_t earlier(generator *g, int64_t t, int64_t min, int64_t max) {
    return bg_earlier(&g->r, t, min, max, 2);
}

static void fill_delivery(generator *g, rp_record *rec, int64_t t) {
    rp_delivery *d = &rec->u.delivery;
    d->message_id = make_message_id(g);
    d->recipient = make_recipient(g, 0, false, &d->feedback_loop);
    d->has_sent_time = true;
    d->sent_time = earlier(g, t, 200, 30 * RP_MS_PER_SECOND);
    d->verified_recipient = bg_rng_chance(&g->r, 0.005);
    d->simulator = bg_rng_chance(&g->r, 0.003);
}

/* The sent_time of feedback at event time t, present with probability
 * `p`: `min` to `max` ms before t, or for a --late-share of it (counted
 * in c) an hour to `late_max` before. Returns whether there is one. */
static bool feedback_sent(generator *g, int64_t t, double p, int64_t min,
                          int64_t max, int64_t late_max, int64_t *sent,
                          counts *c) {
    if (!bg_rng_chance(&g->r, p))
        return false;
    if (bg_rng_chance(&g->r, g->o->late_share)) {
        *sent = earlier(g, t, RP_MS_PER_HOUR, late_max);
        c->late++;
    } else {
        *sent = earlier(g, t, min, max);
    }
    return true;
}

/* Bounces mostly come within minutes; a late one hours after the send
 * (soft bounces are retried for up to a day or so). */
static void fill_bounce(generator *g, rp_record *rec, int64_t t, bool hard,
                        counts *c) {
    rp_bounce *b = &rec->u.bounce;
    b->message_id = make_message_id(g);
    b->recipient = make_recipient(g, 0, false, NULL);
    b->has_sent_time =
        feedback_sent(g, t, 0.97, RP_MS_PER_SECOND, 10 * 60 * RP_MS_PER_SECOND,
                      24 * RP_MS_PER_HOUR, &b->sent_time, c);
    if (hard) {
        size_t k = bg_rng_weighted(&g->r, g->hard_w, LG_N_HARD);
        bg_bounce_set(b, HARD[k].kind);
        if (bg_rng_chance(&g->r, 0.6))
            b->diagnostic = rp_str_c(HARD_DIAG[bg_rng_below(&g->r, 2)]);
    } else {
        size_t k = bg_rng_weighted(&g->r, g->soft_w, LG_N_SOFT);
        bg_bounce_set(b, SOFT[k].kind);
        if (bg_rng_chance(&g->r, 0.6))
            b->diagnostic =
                rp_str_c(SOFT_DIAG[bg_rng_below(&g->r, N_OF(SOFT_DIAG))]);
    }
    b->verified_recipient = bg_rng_chance(&g->r, 0.003);
    b->simulator = bg_rng_chance(&g->r, 0.003);
}

/* Complaints come minutes to an hour after the send; a late one hours to
 * three days after. Providers often list every recipient on their domain. */
static void fill_complaint(generator *g, rp_record *rec, int64_t t, counts *c) {
    rp_complaint *cp = &rec->u.complaint;
    cp->message_id = make_message_id(g);
    double u = bg_rng_double(&g->r);
    cp->n_recipients = u < 0.9 ? 1 : u < 0.97 ? 2 : 4;
    for (size_t i = 0; i < cp->n_recipients; i++)
        g->recipients[i] = make_recipient(g, (int)i, true, NULL);
    cp->recipients = g->recipients;
    cp->has_sent_time =
        feedback_sent(g, t, 0.95, 60 * RP_MS_PER_SECOND, RP_MS_PER_HOUR,
                      72 * RP_MS_PER_HOUR, &cp->sent_time, c);
    cp->feedback_type = (rp_feedback_type)bg_rng_weighted(
        &g->r, FEEDBACK_WEIGHTS, RP_FEEDBACK__COUNT);
    cp->on_suppression_list = bg_rng_chance(&g->r, 0.01);
    cp->simulator = bg_rng_chance(&g->r, 0.002);
}

static void fill_report(generator *g, rp_record *rec) {
    rp_report *rep = &rec->u.report;
    size_t k = bg_rng_weighted(&g->r, REPORT_WEIGHTS, RP_REPORT__COUNT);
    rep->kind = (rp_issue_kind)(k + RP_ISSUE__FIRST_REPORT);
    rep->incidents = 1;
    if ((rep->kind == RP_ISSUE_SPAMTRAP ||
         rep->kind == RP_ISSUE_DOMAIN_BLOCKLIST) &&
        bg_rng_chance(&g->r, 0.2))
        rep->incidents = 2 + (int32_t)bg_rng_below(&g->r, 4);
    if (rep->kind == RP_ISSUE_DOMAIN_BLOCKLIST || bg_rng_chance(&g->r, 0.3)) {
        char *p = g->domain;
        p[0] = 'd';
        size_t n = 1 + fmt_u64(p + 1, bg_rng_below(&g->r, 100000), 1);
        memcpy(p + n, ".example", 8);
        rep->domain = (rp_str){p, n + 8};
    }
    if (bg_rng_chance(&g->r, 0.8))
        rep->reporter =
            rp_str_c(REPORTERS[bg_rng_below(&g->r, N_OF(REPORTERS))]);
    if (bg_rng_chance(&g->r, 0.2))
        rep->detail = rp_str_c("listed after repeated hits");
}

/* Actions: half of those about issues name one, of the first eight report
 * kinds; half the unlinks undo a recent link (bg_action_fill()). Links go
 * to ordinary accounts only, never to a probe. */
static const bg_action_mix ACTIONS = {
    ACTION_WEIGHTS, 0.5, 8, 2, NOTES, N_OF(NOTES),
};

static void fill_action(generator *g, rp_record *rec, uint64_t account,
                        int64_t t) {
    rp_action *a = &rec->u.action;
    uint64_t related;
    bg_action_accounts acc = bg_action_fill(
        a, &ACTIONS, &g->r, &g->links, g->o->accounts, t, &account, &related);
    if (acc == BG_ACTION_UNDOES)
        rec->account_id = account_id(g, 0, account);
    if (acc != BG_ACTION_ALONE)
        a->related_account_id = account_id(g, 1, related);
}

/* Builds ordinary record number i (0-based, duplicates not counted) at
 * event time t. With --cover the first `accounts` records are one
 * delivery to each account, in id order. */
void lg_generate(generator *g, uint64_t i, int64_t t, rp_record *rec,
                 counts *c) {
    const options *o = g->o;
    if (o->cover && i < o->accounts) {
        rp_record_init(rec, RP_REC_DELIVERY);
        rec->account_id = account_id(g, 0, i);
        rec->event_id = make_event_id(g);
        rec->event_time = t;
        fill_delivery(g, rec, t);
        c->type[RP_REC_DELIVERY]++;
        return;
    }
    double u = bg_rng_double(&g->r);
    rp_rec_type type;
    uint64_t account;
    bool hard = false;
    rp_str tenant = RP_STR_NULL;
    if (u < o->report_share) {
        type = RP_REC_REPORT;
        account = pick_troubled(g);
    } else if (u < o->report_share + o->action_share) {
        type = RP_REC_ACTION;
        account = pick_troubled(g);
    } else {
        account = pick_account(g);
        const profile *p = &g->prof[account];
        if (g->n_tenants && g->n_tenants[account] > 0) {
            bool healthy;
            tenant = lg_tenant_of_send(g, account, &healthy);
            if (healthy)
                p = &g->healthy;
        }
        double v = bg_rng_double(&g->r);
        if (v < p->complaint) {
            type = RP_REC_COMPLAINT;
        } else {
            double w = bg_rng_double(&g->r);
            hard = w < p->hard;
            type = w < p->hard + p->soft ? RP_REC_BOUNCE : RP_REC_DELIVERY;
        }
    }
    rp_record_init(rec, type);
    rec->account_id = account_id(g, 0, account);
    rec->event_id = make_event_id(g);
    rec->event_time = t;
    switch (type) {
    case RP_REC_DELIVERY: fill_delivery(g, rec, t); break;
    case RP_REC_BOUNCE:
        fill_bounce(g, rec, t, hard, c);
        *(hard ? &c->hard : &c->soft) += 1;
        break;
    case RP_REC_COMPLAINT: fill_complaint(g, rec, t, c); break;
    case RP_REC_REPORT: fill_report(g, rec); break;
    case RP_REC_ACTION: fill_action(g, rec, account, t); break;
    default: break;
    }
    if (g->n_tenants && g->n_tenants[account] > 0) {
        if (type == RP_REC_REPORT)
            tenant = lg_tenant_of_report(g, account);
        else if (type == RP_REC_ACTION)
            tenant = lg_tenant_of_action(g, account, rec->u.action.action);
    }
    rec->tenant = tenant;
    if (tenant.ptr)
        c->tenant_records++;
    c->type[type]++;
}

/* A latency probe: one ANTI_SPAM_ORGANIZATION report (threshold 1, not
 * manual) for an account that receives nothing else. */
void lg_make_probe(generator *g, uint64_t n, int64_t t, rp_record *rec,
                   char *id, size_t id_size) {
    int len =
        snprintf(id, id_size, "probe-%" PRIu64 "-%" PRIu64, g->o->seed, n);
    rp_record_init(rec, RP_REC_REPORT);
    rec->account_id = (rp_str){id, (size_t)len};
    rec->event_id = (rp_str){id, (size_t)len};
    rec->event_time = t;
    rec->u.report.kind = RP_ISSUE_ANTI_SPAM_ORGANIZATION;
    rec->u.report.incidents = 1;
}
