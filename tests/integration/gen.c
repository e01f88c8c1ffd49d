/*
 * gen.c - the input streams of the integration tests (it_gen) and their
 * JSON lines.
 *
 * A stream is made, not recorded: a seeded xorshift generator gives each
 * account of nine profiles its deliveries, bounces, complaints, reports
 * and actions block by block, so that the same seed always gives the same
 * records and a failure can be replayed by hand. The profiles are the
 * stories the rules tell (a review that heals, one that pauses, extensions
 * up to a decision, ...), each with enough volume to cross the small
 * thresholds of the tests' rule file. support.h tells why the sorted
 * stream is a sequence of single-topic segments and why live runs produce
 * one segment at a time.
 */
#include "support_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS   INT64_C(60000)
#define HOUR_MS  INT64_C(3600000)
#define BLOCK_MS (6 * HOUR_MS)
#define N_BLOCKS 16
/* 2026-01-05T00:00:00Z */
#define GEN_T0 INT64_C(1767571200000)

typedef struct gen {
    it_data *d;
    uint64_t s;
    unsigned flags; /* IT_GEN_* */
} gen;

static uint64_t rnd(gen *g) {
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * UINT64_C(2685821657736338717);
}

static int64_t rnd_in(gen *g, int64_t lo, int64_t hi) {
    return lo + (int64_t)(rnd(g) % (uint64_t)(hi - lo));
}

static double rnd01(gen *g) {
    return (double)(rnd(g) >> 11) / 9007199254740992.0;
}

/* A count with expectation x: floor(x) plus one with probability frac(x). */
static int rnd_count(gen *g, double x) {
    int n = (int)x;
    if (rnd01(g) < x - n)
        n++;
    return n;
}

typedef struct it_rec_seq {
    it_rec r;
    size_t seq;
} it_rec_seq;

static void add(gen *g, int type, int64_t t, const char *fmt, ...) {
    it_data *d = g->d;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4096;
        d->v = realloc(d->v, d->cap * sizeof(*d->v));
        cr_assert_not_null(d->v);
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    it_rec *r = &d->v[d->n++];
    r->time = t;
    r->type = type;
    r->line = strdup(buf);
}

typedef enum profile {
    P_CLEAN,
    P_HEAL,
    P_PAUSE,
    P_EXTEND,
    P_COMPLAIN,
    P_SPAMTRAP,
    P_MANUAL,
    P_INTERNAL,
    P_BLOCKLIST,
    P__COUNT,
    P_LINK_SRC = P__COUNT,
    P_LINK_DST,
    P_TENANT
} profile;

static const char *const profile_names[] = {
    "clean",  "heal",     "pause",     "extend",   "complain", "spamtrap",
    "manual", "internal", "blocklist", "link-src", "link-dst", "tenant-story"};

typedef struct gen_acct {
    char id[32];
    profile p;
    unsigned n_d, n_b, n_c, n_r, n_a;
    bool tenants; /* IT_GEN_TENANTS: its mail is spread over tenants */
} gen_acct;

/* IT_GEN_TENANTS: names the tenant of the record just added to an
 * account that spreads its mail over tenants: "main" (half), "side" (a
 * third) or none, so that each tenant's rates follow its account's with
 * noise of their own. */
static void tag_tenant(gen *g, const gen_acct *a) {
    if (!a->tenants)
        return;
    double x = rnd01(g);
    const char *t = x < 0.5 ? "main" : x < 0.83 ? "side" : NULL;
    if (!t)
        return;
    it_rec *r = &g->d->v[g->d->n - 1];
    size_t n = strlen(r->line);
    char *l = malloc(n + 32);
    cr_assert_not_null(l);
    snprintf(l, n + 32, "%.*s,\"tenant\":\"%s\"}", (int)(n - 1), r->line, t);
    free(r->line);
    r->line = l;
}

static double hard_frac(profile p, int b) {
    switch (p) {
    case P_HEAL: return (b >= 2 && b <= 4) ? 0.12 : 0.005;
    case P_PAUSE:
    case P_MANUAL: return (b >= 2 && b <= 6) ? 0.25 : 0.005;
    case P_EXTEND: return b >= 2 ? 0.07 : 0.01;
    default: return 0.01;
    }
}

static double complaint_frac(profile p, int b) {
    if (p == P_COMPLAIN)
        return (b >= 1 && b <= 7) ? 0.03 : (b >= 8 && b <= 11) ? 0.08 : 0.002;
    return 0.002;
}

static void gen_report(gen *g, gen_acct *a, int64_t bt, const char *kind,
                       int incidents) {
    int64_t t = rnd_in(g, bt + 5 * HOUR_MS + 30 * MIN_MS,
                       bt + 5 * HOUR_MS + 45 * MIN_MS);
    add(g, IT_REPORTS, t,
        "{\"type\":\"report\",\"event_id\":\"%s-r-%u\",\"account_id\":\"%s\","
        "\"event_time\":%" PRId64 ",\"kind\":\"%s\",\"incidents\":%d,"
        "\"domain\":\"news.%s.example\",\"reporter\":\"secret-reporter-7\","
        "\"detail\":\"seen by a test\"}",
        a->id, ++a->n_r, a->id, t, kind, incidents, a->id);
}

static void gen_action(gen *g, gen_acct *a, int64_t bt, const char *action,
                       const char *issue, const char *related) {
    int64_t t = rnd_in(g, bt + 5 * HOUR_MS + 45 * MIN_MS, bt + 6 * HOUR_MS);
    char extra[256] = "";
    if (issue)
        snprintf(extra, sizeof(extra), ",\"issue\":\"%s\"", issue);
    if (related)
        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
                 ",\"related_account_id\":\"%s\"", related);
    add(g, IT_ACTIONS, t,
        "{\"type\":\"action\",\"event_id\":\"%s-a-%u\",\"account_id\":\"%s\","
        "\"event_time\":%" PRId64 ",\"action\":\"%s\"%s,"
        "\"note\":\"by the test\"}",
        a->id, ++a->n_a, a->id, t, action, extra);
}

/* IT_GEN_TENANTS: "tenant-story", a large account whose small tenant
 * "promo" bounces hard in blocks 1 to 8: the tenant is reviewed and
 * paused while the account, whose rate is over all of its mail, stays
 * below its review rate (about 4% against 5%). */
static void gen_tenant_block(gen *g, gen_acct *a, int b) {
    int64_t bt = GEN_T0 + b * BLOCK_MS;
    int64_t send_end = bt + 4 * HOUR_MS;
    int own = 150 + (int)(rnd(g) % 76), promo = 20;
    for (int i = 0; i < own + promo; i++) {
        int64_t t = rnd_in(g, bt, send_end);
        unsigned id = ++a->n_d;
        add(g, IT_DELIVERIES, t,
            "{\"type\":\"delivery\",\"event_id\":\"%s-d-%u\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 ",\"message_id\":\"m-%s-%u\","
            "\"recipient\":\"user%u@example.com\"%s}",
            a->id, id, a->id, t, a->id, id, (unsigned)(rnd(g) % 100000),
            i < own ? "" : ",\"tenant\":\"promo\"");
    }
    int hard = rnd_count(g, own * 0.01);
    int bad = rnd_count(g, promo * ((b >= 1 && b <= 8) ? 0.3 : 0.005));
    for (int i = 0; i < hard + bad; i++) {
        int64_t t = rnd_in(g, send_end, bt + 5 * HOUR_MS);
        unsigned id = ++a->n_b;
        add(g, IT_BOUNCES, t,
            "{\"type\":\"bounce\",\"event_id\":\"%s-b-%u\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 ",\"bounce_type\":\"PERMANENT\","
            "\"bounce_subtype\":\"NO_EMAIL\"%s}",
            a->id, id, a->id, t, i < hard ? "" : ",\"tenant\":\"promo\"");
    }
}

static void gen_block(gen *g, gen_acct *a, int b) {
    if (a->p == P_TENANT) {
        gen_tenant_block(g, a, b);
        return;
    }
    int64_t bt = GEN_T0 + b * BLOCK_MS;
    int64_t send_end = bt + 4 * HOUR_MS;
    int deliveries = 30 + (int)(rnd(g) % 16);
    /* Deliveries (some with duplicates for the clean accounts). */
    for (int i = 0; i < deliveries; i++) {
        int64_t t = rnd_in(g, bt, send_end);
        const char *extra = "";
        double x = rnd01(g);
        if (x < 0.04)
            extra = ",\"feedback_loop\":false";
        else if (x < 0.06)
            extra = ",\"verified_recipient\":true";
        else if (x < 0.07)
            extra = ",\"simulator\":true";
        unsigned id = ++a->n_d;
        char line_fmt[] =
            "{\"type\":\"delivery\",\"event_id\":\"%s-d-%u\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 ",\"message_id\":\"m-%s-%u\","
            "\"recipient\":\"user%u@example.com\"%s}";
        add(g, IT_DELIVERIES, t, line_fmt, a->id, id, a->id, t, a->id, id,
            (unsigned)(rnd(g) % 100000), extra);
        tag_tenant(g, a);
        if (a->p == P_CLEAN && i < 2) {
            /* The same event again a few minutes later: dropped. */
            int64_t t2 = t + rnd_in(g, MIN_MS, 10 * MIN_MS);
            if (t2 < send_end)
                add(g, IT_DELIVERIES, t2, line_fmt, a->id, id, a->id, t2, a->id,
                    id, 1u, extra);
        }
    }
    /* Bounces: hard, soft, suppressed (not hard), simulator. */
    int hard = rnd_count(g, deliveries * hard_frac(a->p, b));
    int soft = rnd_count(g, deliveries * 0.03);
    int supp = rnd01(g) < 0.2 ? 1 : 0;
    int sim = rnd01(g) < 0.1 ? 1 : 0;
    int total = hard + soft + supp + sim;
    for (int i = 0; i < total; i++) {
        int64_t t = rnd_in(g, send_end, bt + 5 * HOUR_MS);
        const char *type = "PERMANENT", *sub = "NO_EMAIL", *extra = "";
        if (i >= hard && i < hard + soft)
            type = "TRANSIENT", sub = "MAILBOX_FULL";
        else if (i >= hard + soft && i < hard + soft + supp)
            sub = "ON_ACCOUNT_SUPPRESSION_LIST";
        else if (i >= hard + soft + supp)
            extra = ",\"simulator\":true";
        char sent[64] = "";
        if (rnd01(g) < 0.8)
            snprintf(sent, sizeof(sent), ",\"sent_time\":%" PRId64,
                     rnd_in(g, bt, send_end));
        unsigned id = ++a->n_b;
        add(g, IT_BOUNCES, t,
            "{\"type\":\"bounce\",\"event_id\":\"%s-b-%u\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 "%s,\"bounce_type\":\"%s\","
            "\"bounce_subtype\":\"%s\",\"diagnostic\":\"5.1.1 test\"%s}",
            a->id, id, a->id, t, sent, type, sub, extra);
        tag_tenant(g, a);
    }
    /* Complaints (and a NOT_SPAM now and then, which does not count). */
    int complaints = rnd_count(g, deliveries * complaint_frac(a->p, b));
    int not_spam = rnd01(g) < 0.1 ? 1 : 0;
    for (int i = 0; i < complaints + not_spam; i++) {
        int64_t t = rnd_in(g, bt + 5 * HOUR_MS, bt + 5 * HOUR_MS + 30 * MIN_MS);
        unsigned id = ++a->n_c;
        add(g, IT_COMPLAINTS, t,
            "{\"type\":\"complaint\",\"event_id\":\"%s-c-%u\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 ",\"sent_time\":%" PRId64
            ",\"recipients\":[\"a@example.com\",\"b@example.com\"],"
            "\"feedback_type\":\"%s\"}",
            a->id, id, a->id, t, rnd_in(g, bt, send_end),
            i < complaints ? "ABUSE" : "NOT_SPAM");
        tag_tenant(g, a);
    }
    /* The stories' reports and actions. */
    switch (a->p) {
    case P_PAUSE:
        if (b == 9)
            gen_action(g, a, bt, "RESUME_SENDING", "BOUNCE_RATE", NULL);
        break;
    case P_EXTEND:
        if (b == 4)
            gen_action(g, a, bt, "EXTEND_REVIEW", "BOUNCE_RATE", NULL);
        break;
    case P_SPAMTRAP:
        if (b == 4)
            gen_report(g, a, bt, "SPAMTRAP", 1);
        if (b == 5)
            gen_report(g, a, bt, "SPAMTRAP", 2);
        if (b == 6)
            gen_action(g, a, bt, "REMEDIATION_SUBMITTED", "SPAMTRAP", NULL);
        break;
    case P_MANUAL:
        if (b == 0)
            gen_action(g, a, bt, "SET_MANUAL_REVIEW", NULL, NULL);
        if (b == 9)
            gen_action(g, a, bt, "PAUSE_SENDING", NULL, NULL);
        if (b == 12)
            gen_action(g, a, bt, "RESUME_SENDING", NULL, NULL);
        break;
    case P_INTERNAL:
        if (b == 5)
            gen_report(g, a, bt, "INTERNAL_REVIEW", 1);
        if (b == 9)
            gen_action(g, a, bt, "END_REVIEW", "INTERNAL_REVIEW", NULL);
        break;
    case P_BLOCKLIST:
        if (b == 2 || b == 4)
            gen_report(g, a, bt, "DOMAIN_BLOCKLIST", 3);
        if (b == 10)
            gen_action(g, a, bt, "RESUME_SENDING", "DOMAIN_BLOCKLIST", NULL);
        break;
    case P_LINK_SRC:
        if (b == 0)
            gen_action(g, a, bt, "LINK_ACCOUNT", NULL, "link-dst");
        if (b == N_BLOCKS - 1)
            gen_report(g, a, bt, "MAILBOX_PROVIDER", 1);
        break;
    default: break;
    }
}

static int cmp_rec(const void *x, const void *y) {
    const it_rec_seq *a = x, *b = y;
    if (a->r.time != b->r.time)
        return a->r.time < b->r.time ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void it_gen(it_data *d, unsigned seed, int copies) {
    it_gen_opts(d, seed, copies, 0);
}

void it_gen_opts(it_data *d, unsigned seed, int copies, unsigned flags) {
    memset(d, 0, sizeof(*d));
    gen g = {d, UINT64_C(0x9E3779B97F4A7C15) ^ ((uint64_t)seed << 17) ^ seed,
             flags};
    bool tenants = flags & IT_GEN_TENANTS;
    size_t n_acc = (size_t)copies * P__COUNT + 2 + (tenants ? 1 : 0);
    gen_acct *accts = calloc(n_acc, sizeof(*accts));
    cr_assert_not_null(accts);
    size_t k = 0;
    for (int c = 0; c < copies; c++)
        for (int p = 0; p < P__COUNT; p++, k++) {
            accts[k].p = (profile)p;
            snprintf(accts[k].id, sizeof(accts[k].id), "%s-%d",
                     profile_names[p], c);
            /* The last copy spreads its mail over tenants. */
            accts[k].tenants = tenants && c == copies - 1;
        }
    accts[k].p = P_LINK_SRC;
    snprintf(accts[k++].id, sizeof(accts[0].id), "link-src");
    accts[k].p = P_LINK_DST;
    snprintf(accts[k++].id, sizeof(accts[0].id), "link-dst");
    if (tenants) {
        accts[k].p = P_TENANT;
        snprintf(accts[k++].id, sizeof(accts[0].id), "tenant-story");
    }
    for (int b = 0; b < N_BLOCKS; b++)
        for (size_t i = 0; i < n_acc; i++)
            gen_block(&g, &accts[i], b);
    /* Every account's clock reaches t_end; then link-src is paused. */
    int64_t t_end = GEN_T0 + N_BLOCKS * BLOCK_MS;
    for (size_t i = 0; i < n_acc; i++)
        add(&g, IT_DELIVERIES, t_end,
            "{\"type\":\"delivery\",\"event_id\":\"%s-end\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 ",\"simulator\":true}",
            accts[i].id, accts[i].id, t_end);
    add(&g, IT_ACTIONS, t_end,
        "{\"type\":\"action\",\"event_id\":\"link-src-pause\",\"account_id\":"
        "\"link-src\",\"event_time\":%" PRId64 ",\"action\":\"PAUSE_SENDING\","
        "\"note\":\"the last record of the stream\"}",
        t_end);
    /* Sort by time; ties keep the order of creation. */
    it_rec_seq *tmp = malloc(d->n * sizeof(*tmp));
    cr_assert_not_null(tmp);
    for (size_t i = 0; i < d->n; i++) {
        tmp[i].r = d->v[i];
        tmp[i].seq = i;
    }
    qsort(tmp, d->n, sizeof(*tmp), cmp_rec);
    for (size_t i = 0; i < d->n; i++)
        d->v[i] = tmp[i].r;
    free(tmp);
    free(accts);
    d->t_start = GEN_T0;
    d->t_end = t_end;
    d->n_accounts = n_acc;
}

void it_data_free(it_data *d) {
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].line);
    free(d->v);
    memset(d, 0, sizeof(*d));
}

void it_write(const it_data *d, size_t from, size_t to, const char *path) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    for (size_t i = from; i < to && i < d->n; i++) {
        fputs(d->v[i].line, f);
        fputc('\n', f);
    }
    cr_assert_eq(fclose(f), 0);
}

size_t it_segment_end(const it_data *d, size_t from) {
    size_t i = from;
    while (i < d->n && d->v[i].type == d->v[from].type)
        i++;
    return i;
}

size_t it_split(const it_data *d, double f) {
    size_t want = (size_t)(f * (double)d->n), i = 0;
    while (i < d->n && i < want)
        i = it_segment_end(d, i);
    return i;
}
