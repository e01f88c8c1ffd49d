/*
 * bench_engine_corpus.c - the input of repute-bench-engine: synthetic
 * records, generated from --seed and encoded up front (see bench_engine.h
 * for why nothing is generated inside a timed loop).
 *
 * The mix is a stress mix, not a healthy one (the essay of bench_engine.c
 * says why): 85% deliveries, 10% bounces, 3% complaints and 2% reports
 * and operator actions, each record's account drawn from a Zipf
 * distribution (exponent 1) over the accounts, whose popularity is
 * shuffled so that it is unrelated to the id. Event time walks through 30
 * days with a little jitter, feedback carries a sent_time minutes to days
 * earlier, and about one record in a thousand is a redelivery of a recent
 * record (the same bytes), which the engine's dedupe must drop. Every
 * draw comes from bench_gen.h's generator, in a fixed order, so a seed
 * always gives the same corpus; the load generator shares the generator
 * but not this mix.
 *
 * Strings of the record being built live in the generator's scratch
 * buffers and account ids in one table formatted once, so generating a
 * record allocates nothing; the encoder copies the bytes into the arena.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_engine.h"
#include "bench_gen.h"
#include "repute/avro.h"
#include "repute/record.h"

/* ---------------------------------------------------------------- corpus */

/* Appends one encoded record and returns its index entry. */
static uint64_t corpus_add(be_corpus *c, const void *p, size_t n,
                           rp_rec_type t) {
    if (n > IDX_MAX_LEN || c->len + n > IDX_MAX_OFF)
        die("record of %zu bytes does not fit the index", n);
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 1 << 20;
        while (cap < c->len + n)
            cap *= 2;
        char *d = realloc(c->data, cap);
        if (d == NULL)
            die("out of memory growing the arena to %zu bytes", cap);
        c->data = d;
        c->cap = cap;
    }
    memcpy(c->data + c->len, p, n);
    uint64_t e = idx_pack(c->len, n, t);
    c->len += n;
    return e;
}

/* ---------------------------------------------------------------- generator */

/* The stress mix, one table of weights per draw. Record types in tenths
 * of a percent: 85% deliveries, 10% bounces, 3% complaints, 1.6% reports
 * and 0.4% actions. Bounces (by bg_bounce) are mostly permanent GENERAL
 * and NO_EMAIL, a third transient, a few undetermined; feedback is by
 * rp_feedback_type, reports by report kind (issue kind minus
 * RP_ISSUE__FIRST_REPORT) and actions by rp_action_type. */
static const struct {
    unsigned type[RP_REC__COUNT];
    unsigned bounce[BG_BOUNCE__COUNT];
    unsigned feedback[RP_FEEDBACK__COUNT];
    unsigned report[RP_REPORT__COUNT];
    unsigned action[RP_ACTION__COUNT];
} MIX = {
    .type = {850, 100, 30, 16, 4},
    .bounce = {330, 200, 50, 40, 120, 120, 30, 40, 20, 50},
    .feedback = {850, 10, 20, 30, 50, 10, 30},
    .report = {10, 4, 30, 20, 12, 5, 8, 3, 1, 3, 2, 2},
    .action = {35, 20, 3, 5, 12, 4, 4, 12, 5},
};

#define DUPLICATE_RATE 0.001 /* share of records that are redeliveries */
#define RECENT_RING    256   /* redeliveries repeat one of these records */
#define ZIPF_EXPONENT  1.0

/* 2026-01-01T00:00:00Z, and the 30 days the stream spans. */
#define STREAM_START INT64_C(1767225600000)
#define STREAM_SPAN  (30 * RP_MS_PER_DAY)

static const char *const DIAGNOSTICS[] = {
    "smtp; 550 5.1.1 The email account that you tried to reach does not exist",
    "smtp; 550 5.1.1 <recipient>: Recipient address rejected: User unknown",
    "smtp; 552 5.2.2 Mailbox full",
    "smtp; 554 5.7.1 Message rejected as spam",
    "smtp; 421 4.7.0 Try again later",
};
#define N_DIAGNOSTICS (sizeof DIAGNOSTICS / sizeof DIAGNOSTICS[0])

static const char *const REPORTERS[] = {
    "spamhaus",
    "abusix",
    "postmaster.example",
    "trap-network.example",
};
#define N_REPORTERS (sizeof REPORTERS / sizeof REPORTERS[0])

static const char *const NOTES[] = {
    "customer removed a purchased list",
    "double opt-in enabled on the sign-up form",
    "checked by trust and safety",
};
#define N_NOTES (sizeof NOTES / sizeof NOTES[0])

/* An account id is "acct-" and ten digits: 15 bytes and a NUL. */
#define ACCOUNT_ID_LEN 15

typedef struct generator {
    bg_rng r;
    bg_zipf z;
    uint64_t n_accounts;
    uint64_t n_events;
    uint32_t *rank_to_account; /* a shuffle: rank 1 is not account 0 */
    char *ids;                 /* n_accounts ids of ACCOUNT_ID_LEN bytes */
    uint64_t next_event_id;
    uint64_t next_message;
    bg_links links;
    /* Scratch for the strings of the record being built. */
    char event_id[24];
    char message_id[24];
    char recipient[2][48];
    rp_str recipients[2];
    char domain[32];
} generator;

static rp_str account_str(const generator *g, uint64_t account) {
    return (rp_str){g->ids + account * ACCOUNT_ID_LEN, ACCOUNT_ID_LEN};
}

static void generator_init(generator *g, const be_options *opt) {
    memset(g, 0, sizeof *g);
    bg_rng_seed(&g->r, opt->seed);
    g->n_accounts = opt->accounts;
    g->n_events = opt->events;
    bg_zipf_init(&g->z, opt->accounts, ZIPF_EXPONENT);

    /* The ids are formatted once; records borrow them. */
    g->ids = xmalloc(opt->accounts * ACCOUNT_ID_LEN + 1);
    for (uint64_t a = 0; a < opt->accounts; a++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "acct-%010" PRIu64, a);
        memcpy(g->ids + a * ACCOUNT_ID_LEN, tmp, ACCOUNT_ID_LEN);
    }

    g->rank_to_account = xmalloc(opt->accounts * sizeof(uint32_t));
    bg_shuffle_ranks(&g->r, g->rank_to_account, opt->accounts);
}

static void generator_free(generator *g) {
    free(g->ids);
    free(g->rank_to_account);
}

static uint64_t pick_account(generator *g) {
    return g->rank_to_account[bg_zipf_sample(&g->z, &g->r) - 1];
}

/* A message id: sixteen hex digits of a scrambled counter. */
static rp_str make_message_id(generator *g) {
    uint64_t x = ++g->next_message;
    uint64_t h = bg_splitmix64(&x);
    int n = snprintf(g->message_id, sizeof g->message_id, "%016" PRIx64, h);
    return (rp_str){g->message_id, (size_t)n};
}

/* A recipient address; *feedback_loop tells whether its provider sends
 * complaint feedback. */
static rp_str make_recipient(generator *g, int slot, bool *feedback_loop) {
    unsigned w[BG_N_DOMAINS];
    for (size_t i = 0; i < BG_N_DOMAINS; i++)
        w[i] = BG_DOMAINS[i].weight;
    size_t d = bg_rng_weighted(&g->r, w, BG_N_DOMAINS);
    unsigned user = (unsigned)bg_rng_below(&g->r, 10000000);
    int n;
    /* Company mail goes to one of many domains, "corpN.example". */
    if (d != BG_DOMAIN_COMPANY)
        n = snprintf(g->recipient[slot], sizeof g->recipient[slot], "u%07u@%s",
                     user, BG_DOMAINS[d].name);
    else
        n = snprintf(g->recipient[slot], sizeof g->recipient[slot],
                     "u%07u@corp%u.example", user,
                     (unsigned)bg_rng_below(&g->r, 50000));
    if (feedback_loop)
        *feedback_loop = BG_DOMAINS[d].feedback_loop;
    return (rp_str){g->recipient[slot], (size_t)n};
}

/* A time `min` to `max` ms before t, skewed towards `min` (cubed uniform),
 * as feedback mostly comes soon after the send. */
static int64_t earlier(generator *g, int64_t t, int64_t min, int64_t max) {
    return bg_earlier(&g->r, t, min, max, 3);
}

static void fill_delivery(generator *g, rp_delivery *d, int64_t t) {
    d->message_id = make_message_id(g);
    d->recipient = make_recipient(g, 0, &d->feedback_loop);
    if (bg_rng_chance(&g->r, 0.9)) {
        d->has_sent_time = true;
        d->sent_time = earlier(g, t, 200, 20 * RP_MS_PER_SECOND);
    }
    d->verified_recipient = bg_rng_chance(&g->r, 0.01);
    d->simulator = bg_rng_chance(&g->r, 0.005);
}

static void fill_bounce(generator *g, rp_bounce *b, int64_t t) {
    b->message_id = make_message_id(g);
    b->recipient = make_recipient(g, 0, NULL);
    if (bg_rng_chance(&g->r, 0.95)) {
        b->has_sent_time = true;
        b->sent_time = earlier(g, t, RP_MS_PER_SECOND, 2 * RP_MS_PER_HOUR);
    }
    bg_bounce_set(
        b, (bg_bounce)bg_rng_weighted(&g->r, MIX.bounce, BG_BOUNCE__COUNT));
    b->verified_recipient = bg_rng_chance(&g->r, 0.01);
    b->simulator = bg_rng_chance(&g->r, 0.01);
    if (bg_rng_chance(&g->r, 0.5))
        b->diagnostic =
            rp_str_c(DIAGNOSTICS[bg_rng_below(&g->r, N_DIAGNOSTICS)]);
}

static void fill_complaint(generator *g, rp_complaint *c, int64_t t) {
    c->message_id = make_message_id(g);
    c->n_recipients = bg_rng_chance(&g->r, 0.05) ? 2 : 1;
    for (size_t i = 0; i < c->n_recipients; i++)
        g->recipients[i] = make_recipient(g, (int)i, NULL);
    c->recipients = g->recipients;
    if (bg_rng_chance(&g->r, 0.9)) {
        c->has_sent_time = true;
        c->sent_time =
            earlier(g, t, 5 * 60 * RP_MS_PER_SECOND, 48 * RP_MS_PER_HOUR);
    }
    c->feedback_type = (rp_feedback_type)bg_rng_weighted(&g->r, MIX.feedback,
                                                         RP_FEEDBACK__COUNT);
    c->on_suppression_list = bg_rng_chance(&g->r, 0.02);
    c->simulator = bg_rng_chance(&g->r, 0.005);
}

static void fill_report(generator *g, rp_report *rep) {
    size_t k = bg_rng_weighted(&g->r, MIX.report, RP_REPORT__COUNT);
    rep->kind = (rp_issue_kind)(k + RP_ISSUE__FIRST_REPORT);
    rep->incidents = 1;
    if (bg_rng_chance(&g->r, 0.7)) {
        int n = snprintf(g->domain, sizeof g->domain, "d%u.example",
                         (unsigned)bg_rng_below(&g->r, 100000));
        rep->domain = (rp_str){g->domain, (size_t)n};
    }
    if (rep->kind == RP_ISSUE_RELATED_ACCOUNT)
        rep->related_account_id =
            account_str(g, bg_rng_below(&g->r, g->n_accounts));
    if (bg_rng_chance(&g->r, 0.8))
        rep->reporter = rp_str_c(REPORTERS[bg_rng_below(&g->r, N_REPORTERS)]);
    if (bg_rng_chance(&g->r, 0.2))
        rep->detail = rp_str_c("listed after repeated hits");
}

/* Actions: 40% of those about issues name one, of any report kind, and
 * half the unlinks undo a recent link (bg_action_fill()); the other half
 * name an account that is most likely not linked, which the engine counts
 * as an action that does not apply. */
static const bg_action_mix ACTIONS = {
    MIX.action, 0.4, RP_REPORT__COUNT, 3, NOTES, N_NOTES,
};

static void fill_action(generator *g, rp_record *rec, uint64_t account,
                        int64_t t) {
    rp_action *a = &rec->u.action;
    uint64_t related;
    bg_action_accounts acc = bg_action_fill(
        a, &ACTIONS, &g->r, &g->links, g->n_accounts, t, &account, &related);
    if (acc == BG_ACTION_UNDOES)
        rec->account_id = account_str(g, account);
    if (acc != BG_ACTION_ALONE)
        a->related_account_id = account_str(g, related);
}

/* Builds the next new record (not a redelivery) at stream position i. */
static void generate_record(generator *g, uint64_t i, rp_record *rec) {
    rp_rec_type type =
        (rp_rec_type)bg_rng_weighted(&g->r, MIX.type, RP_REC__COUNT);
    rp_record_init(rec, type);

    int n = snprintf(g->event_id, sizeof g->event_id, "e%" PRIu64,
                     ++g->next_event_id);
    rec->event_id = (rp_str){g->event_id, (size_t)n};

    uint64_t account = pick_account(g);
    rec->account_id = account_str(g, account);

    /* Event time walks through the span, give or take three seconds. */
    double pos = (double)i / (double)g->n_events;
    int64_t jitter = (int64_t)bg_rng_below(&g->r, 6001) - 3000;
    int64_t t = STREAM_START + (int64_t)(pos * (double)STREAM_SPAN) + jitter;
    rec->event_time = t;

    switch (type) {
    case RP_REC_DELIVERY: fill_delivery(g, &rec->u.delivery, t); break;
    case RP_REC_BOUNCE: fill_bounce(g, &rec->u.bounce, t); break;
    case RP_REC_COMPLAINT: fill_complaint(g, &rec->u.complaint, t); break;
    case RP_REC_REPORT: fill_report(g, &rec->u.report); break;
    case RP_REC_ACTION: fill_action(g, rec, account, t); break;
    default: break;
    }
}

/* Generates and encodes every record into the corpus. */
void be_corpus_build(be_corpus *c, const be_options *opt) {
    char err[512];
    rp_avro_codec *codec =
        rp_avro_codec_new(RP_FRAMING_PLAIN, NULL, err, sizeof err);
    if (codec == NULL)
        die("cannot create the Avro codec: %s", err);

    generator g;
    generator_init(&g, opt);

    memset(c, 0, sizeof *c);
    c->n = opt->events;
    c->index = xmalloc(opt->events * sizeof(uint64_t));
    c->cap = (size_t)opt->events * 96;
    c->data = xmalloc(c->cap);

    /* A redelivery repeats one of the last `depth` new records: at most
     * RECENT_RING, and no more than about ten minutes of the stream, so
     * that it stays well inside the default one-hour dedupe horizon also
     * in small runs, where records are minutes apart. */
    uint64_t recent[RECENT_RING];
    uint64_t depth = opt->events / (STREAM_SPAN / (10 * 60 * RP_MS_PER_SECOND));
    if (depth < 1)
        depth = 1;
    if (depth > RECENT_RING)
        depth = RECENT_RING;
    uint64_t n_new = 0;
    uint64_t report_every = opt->events / 10 ? opt->events / 10 : 1;
    for (uint64_t i = 0; i < opt->events; i++) {
        if (n_new >= depth && bg_rng_chance(&g.r, DUPLICATE_RATE)) {
            /* A redelivery: the same bytes as a record seconds earlier. */
            uint64_t back = 1 + bg_rng_below(&g.r, depth);
            uint64_t e = recent[(n_new - back) % RECENT_RING];
            c->index[i] = e;
            c->type_count[idx_type(e)]++;
            c->duplicates++;
            continue;
        }
        rp_record rec;
        generate_record(&g, i, &rec);
        if (rp_record_check(&rec, err, sizeof err) != 0)
            die("generated record %" PRIu64 " breaks the contract: %s", i, err);
        const void *out;
        size_t out_len;
        int rc = rp_avro_encode(codec, &rec, &out, &out_len, err, sizeof err);
        if (rc != 0)
            die("cannot encode record %" PRIu64 ": %s (%s)", i, err,
                rp_strerror(rc));
        uint64_t e = corpus_add(c, out, out_len, rec.type);
        c->index[i] = e;
        c->type_count[rec.type]++;
        recent[n_new++ % RECENT_RING] = e;
        if ((i + 1) % report_every == 0)
            fprintf(stderr, "  generated %" PRIu64 " of %" PRIu64 "\n", i + 1,
                    opt->events);
    }

    generator_free(&g);
    rp_avro_codec_destroy(codec);
}

void be_corpus_free(be_corpus *c) {
    free(c->index);
    free(c->data);
}
