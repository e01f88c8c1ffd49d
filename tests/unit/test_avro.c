/*
 * test_avro.c - the Avro codec (src/codec/avro*.c) and its validator
 * (src/codec/avro_check.c).
 *
 * The codec sits where repute meets the outside world, so most of these
 * tests are about input it did not make. Round trips come first: every
 * record type with every optional field set and with every one null, in
 * both framings, and ReputationEvents of both kinds. Then the hostile
 * cases: every truncation of every encoding must be RP_ETRUNC (except
 * the one that ends where the trailing defaults begin, a record of the
 * earlier schema, which decodes with them null), random
 * bytes and randomly mutated encodings must give an error or a record that
 * passes the contract (and survives a second round trip), and hand-made
 * byte strings probe each rule of the validator one at a time (varint
 * length and overflow, negative and overlong lengths, union and enum
 * indexes, booleans, UTF-8, array blocks with byte sizes). Framing errors,
 * trailing bytes, the size limit and contract violations each get a test
 * that also checks the reason in errstr. Finally, the enum symbols of the
 * embedded schemas are held to the symbol tables of src/core/types.c, so
 * that the two can never drift apart.
 *
 * rp_avro_decode() reads input records by itself, in the validator's walk;
 * rp_avro_decode_generic() reads them with avro-c. The two must agree
 * exactly, so wherever a test decodes an input record (round trips, every
 * truncation, random and mutated bytes, framing, trailing bytes, the size
 * limit and the contract) it decodes it both ways, on two codecs, and
 * holds the results to each other: the same return code and reason and,
 * on success, the same record field by field, values under a null flag
 * included. The direct decoder's strings must also point into the input.
 *
 * Inputs are copied into heap buffers of exactly their length, and
 * encoded strings are taken from buffers without a terminating NUL, so
 * that under AddressSanitizer any read past the end is caught.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_walk.h"
#include "repute/avro.h"

/* ---------------------------------------------------------------- helpers */

static const int32_t schema_ids[RP_SCHEMA_ID__COUNT] = {11, 22, 33,
                                                        44, 55, 0x01020304};
static char err[512];

static rp_avro_codec *new_codec(rp_framing framing) {
    err[0] = '\0';
    rp_avro_codec *c = rp_avro_codec_new(
        framing, framing == RP_FRAMING_CONFLUENT ? schema_ids : NULL, err,
        sizeof(err));
    cr_assert_not_null(c, "rp_avro_codec_new: %s", err);
    return c;
}

/* A heap copy of exactly n bytes (never NULL), so that ASan sees any read
 * past the end. */
static uint8_t *copy_of(const void *p, size_t n) {
    uint8_t *q = malloc(n ? n : 1);
    cr_assert_not_null(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

/* xorshift64*: a fixed, portable sequence for the random tests. */
static uint64_t rng_state;
static void rng_seed(uint64_t s) {
    rng_state = s ? s : 1;
}
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}
static size_t rng_below(size_t n) {
    return n ? (size_t)(rng() % n) : 0;
}

/* A byte writer for hand-made Avro data. */
typedef struct wbuf {
    uint8_t b[8192];
    size_t n;
} wbuf;

static void w_byte(wbuf *w, uint8_t x) {
    cr_assert_lt(w->n, sizeof(w->b));
    w->b[w->n++] = x;
}
static void w_raw(wbuf *w, const void *p, size_t n) {
    cr_assert_leq(w->n + n, sizeof(w->b));
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void w_long(wbuf *w, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
    while (z >= 0x80) {
        w_byte(w, (uint8_t)(z | 0x80));
        z >>= 7;
    }
    w_byte(w, (uint8_t)z);
}
static void w_str(wbuf *w, const char *s) {
    w_long(w, (int64_t)strlen(s));
    w_raw(w, s, strlen(s));
}
/* The three fields every input record starts with. */
static void w_head(wbuf *w, const char *event_id, const char *account,
                   int64_t t) {
    w_str(w, event_id);
    w_str(w, account);
    w_long(w, t);
}

static void assert_str(rp_str got, rp_str want, const char *what) {
    cr_assert(rp_str_eq(got, want), "%s: got %s'%.*s', want %s'%.*s'", what,
              got.ptr ? "" : "null ", (int)got.len, got.ptr ? got.ptr : "",
              want.ptr ? "" : "null ", (int)want.len, want.ptr ? want.ptr : "");
}

static bool same_double(double a, double b) {
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/* ---------------------------------------------------------------- samples */

static const rp_str sample_recipients[] = {
    {"a@x.test", 8}, {"b@y.test", 8}, {"\xc3\xbc@z.test", 9}};
static char big_detail[3000];

/* Fills r with a sample record of type t: full sets every optional field
 * and every boolean to its non-default value, and uses the last symbol of
 * every enum; otherwise every nullable field is null, booleans keep their
 * defaults and enums take their first symbol. */
static void sample_record(rp_record *r, rp_rec_type t, bool full) {
    rp_record_init(r, t);
    r->event_id = rp_str_c(full ? "evt-\xc3\xbc-0001" : "e");
    r->account_id = rp_str_c(full ? "acct-42" : "a");
    r->event_time = full ? INT64_C(1767322245123) : -1;
    if (full)
        r->tenant = rp_str_c("brand-\xc3\xa9");
    switch (t) {
    case RP_REC_DELIVERY: {
        rp_delivery *d = &r->u.delivery;
        d->message_id = rp_str_c(full ? "msg-1" : "");
        d->recipient = rp_str_c(full ? "r@x.test" : "");
        if (full) {
            d->has_sent_time = true;
            d->sent_time = INT64_MIN;
            d->verified_recipient = true;
            d->simulator = true;
            d->feedback_loop = false;
        }
        break;
    }
    case RP_REC_BOUNCE: {
        rp_bounce *b = &r->u.bounce;
        b->message_id = rp_str_c("msg-2");
        b->recipient = rp_str_c("nobody@x.test");
        if (full) {
            b->has_sent_time = true;
            b->sent_time = INT64_C(1767322200000);
            b->bounce_type = RP_BOUNCE_UNDETERMINED;
            b->bounce_subtype = RP_BSUB_UNDETERMINED;
            b->verified_recipient = true;
            b->simulator = true;
            b->diagnostic = rp_str_c("550 5.1.1 user unknown");
        }
        break;
    }
    case RP_REC_COMPLAINT: {
        rp_complaint *m = &r->u.complaint;
        m->message_id = rp_str_c("msg-3");
        if (full) {
            m->recipients = sample_recipients;
            m->n_recipients = 3;
            m->has_sent_time = true;
            m->sent_time = INT64_MAX;
            m->feedback_type = RP_FEEDBACK_UNKNOWN;
            m->on_suppression_list = true;
            m->simulator = true;
        }
        break;
    }
    case RP_REC_REPORT: {
        rp_report *p = &r->u.report;
        if (full) {
            memset(big_detail, 'd', sizeof(big_detail) - 1);
            p->kind = RP_ISSUE_OTHER;
            p->incidents = INT32_MAX;
            p->domain = rp_str_c("example.test");
            p->related_account_id = rp_str_c("acct-7");
            p->reporter = rp_str_c("a confidential reporter");
            p->detail = rp_str_c(big_detail);
        }
        break;
    }
    case RP_REC_ACTION: {
        rp_action *a = &r->u.action;
        if (full) {
            a->action = RP_ACTION_UNLINK_ACCOUNT;
            a->has_issue = true;
            a->issue = RP_ISSUE_OTHER;
            a->has_effective_time = true;
            a->effective_time = INT64_MAX;
            a->related_account_id = rp_str_c("acct-9");
            a->note = rp_str_c("");
            a->actor = rp_str_c("ops:\xc3\xa9mile");
        }
        break;
    }
    default: cr_assert_fail("bad type");
    }
}

static void assert_records_equal(const rp_record *g, const rp_record *w) {
    cr_assert_eq(g->type, w->type);
    assert_str(g->event_id, w->event_id, "event_id");
    assert_str(g->account_id, w->account_id, "account_id");
    cr_assert_eq(g->event_time, w->event_time, "event_time");
    assert_str(g->tenant, w->tenant, "tenant");
    switch (w->type) {
    case RP_REC_DELIVERY: {
        const rp_delivery *a = &g->u.delivery, *b = &w->u.delivery;
        assert_str(a->message_id, b->message_id, "message_id");
        assert_str(a->recipient, b->recipient, "recipient");
        cr_assert_eq(a->has_sent_time, b->has_sent_time, "has_sent_time");
        if (b->has_sent_time)
            cr_assert_eq(a->sent_time, b->sent_time, "sent_time");
        cr_assert_eq(a->verified_recipient, b->verified_recipient);
        cr_assert_eq(a->simulator, b->simulator);
        cr_assert_eq(a->feedback_loop, b->feedback_loop);
        break;
    }
    case RP_REC_BOUNCE: {
        const rp_bounce *a = &g->u.bounce, *b = &w->u.bounce;
        assert_str(a->message_id, b->message_id, "message_id");
        assert_str(a->recipient, b->recipient, "recipient");
        cr_assert_eq(a->has_sent_time, b->has_sent_time, "has_sent_time");
        if (b->has_sent_time)
            cr_assert_eq(a->sent_time, b->sent_time, "sent_time");
        cr_assert_eq(a->bounce_type, b->bounce_type);
        cr_assert_eq(a->bounce_subtype, b->bounce_subtype);
        cr_assert_eq(a->verified_recipient, b->verified_recipient);
        cr_assert_eq(a->simulator, b->simulator);
        assert_str(a->diagnostic, b->diagnostic, "diagnostic");
        break;
    }
    case RP_REC_COMPLAINT: {
        const rp_complaint *a = &g->u.complaint, *b = &w->u.complaint;
        assert_str(a->message_id, b->message_id, "message_id");
        cr_assert_eq(a->n_recipients, b->n_recipients, "n_recipients");
        for (size_t i = 0; i < b->n_recipients; i++)
            assert_str(a->recipients[i], b->recipients[i], "recipient");
        cr_assert_eq(a->has_sent_time, b->has_sent_time, "has_sent_time");
        if (b->has_sent_time)
            cr_assert_eq(a->sent_time, b->sent_time, "sent_time");
        cr_assert_eq(a->feedback_type, b->feedback_type);
        cr_assert_eq(a->on_suppression_list, b->on_suppression_list);
        cr_assert_eq(a->simulator, b->simulator);
        break;
    }
    case RP_REC_REPORT: {
        const rp_report *a = &g->u.report, *b = &w->u.report;
        cr_assert_eq(a->kind, b->kind, "kind");
        cr_assert_eq(a->incidents, b->incidents, "incidents");
        assert_str(a->domain, b->domain, "domain");
        assert_str(a->related_account_id, b->related_account_id,
                   "related_account_id");
        assert_str(a->reporter, b->reporter, "reporter");
        assert_str(a->detail, b->detail, "detail");
        break;
    }
    case RP_REC_ACTION: {
        const rp_action *a = &g->u.action, *b = &w->u.action;
        cr_assert_eq(a->action, b->action, "action");
        cr_assert_eq(a->has_issue, b->has_issue, "has_issue");
        if (b->has_issue)
            cr_assert_eq(a->issue, b->issue, "issue");
        cr_assert_eq(a->has_effective_time, b->has_effective_time);
        if (b->has_effective_time)
            cr_assert_eq(a->effective_time, b->effective_time);
        assert_str(a->related_account_id, b->related_account_id,
                   "related_account_id");
        assert_str(a->note, b->note, "note");
        assert_str(a->actor, b->actor, "actor");
        break;
    }
    default: cr_assert_fail("bad type");
    }
}

/* Encodes r with c and returns a heap copy of the bytes. */
static uint8_t *encode_copy(rp_avro_codec *c, const rp_record *r, size_t *len) {
    const void *out;
    int rc = rp_avro_encode(c, r, &out, len, err, sizeof(err));
    cr_assert_eq(rc, 0, "encode %s: %s", rp_rec_type_name(r->type), err);
    return copy_of(out, *len);
}

/* ------------------------------------------------- direct against generic */

/* Holds a record of the direct decoder to the reference decoder's: what
 * assert_records_equal() compares, and also the values behind false
 * has_* flags and null strings (both decoders read a null long or enum as
 * 0), and the null-ness of every string. */
static void assert_decoders_agree(const rp_record *d, const rp_record *g) {
    assert_records_equal(d, g);
    switch (g->type) {
    case RP_REC_DELIVERY:
        cr_assert_eq(d->u.delivery.sent_time, g->u.delivery.sent_time);
        break;
    case RP_REC_BOUNCE:
        cr_assert_eq(d->u.bounce.sent_time, g->u.bounce.sent_time);
        break;
    case RP_REC_COMPLAINT:
        cr_assert_eq(d->u.complaint.sent_time, g->u.complaint.sent_time);
        for (size_t i = 0; i < g->u.complaint.n_recipients; i++)
            cr_assert_not_null(d->u.complaint.recipients[i].ptr);
        break;
    case RP_REC_ACTION:
        cr_assert_eq(d->u.action.issue, g->u.action.issue);
        cr_assert_eq(d->u.action.effective_time, g->u.action.effective_time);
        break;
    default: break;
    }
    /* Required strings are never null; assert_str has compared the rest. */
    cr_assert_not_null(d->event_id.ptr);
    cr_assert_not_null(d->account_id.ptr);
}

/* Whether the string lies inside [p, p + n). */
static bool inside(rp_str s, const uint8_t *p, size_t n) {
    const uint8_t *q = (const uint8_t *)s.ptr;
    return s.ptr == NULL || (q >= p && q + s.len <= p + n);
}

/* Every string of a directly decoded record points into its input. */
static void assert_borrows_input(const rp_record *r, const uint8_t *p,
                                 size_t n) {
    const rp_str *s[8] = {&r->event_id, &r->account_id};
    size_t k = 2;
    switch (r->type) {
    case RP_REC_DELIVERY:
        s[k++] = &r->u.delivery.message_id;
        s[k++] = &r->u.delivery.recipient;
        break;
    case RP_REC_BOUNCE:
        s[k++] = &r->u.bounce.message_id;
        s[k++] = &r->u.bounce.recipient;
        s[k++] = &r->u.bounce.diagnostic;
        break;
    case RP_REC_COMPLAINT:
        s[k++] = &r->u.complaint.message_id;
        for (size_t i = 0; i < r->u.complaint.n_recipients; i++)
            cr_assert(inside(r->u.complaint.recipients[i], p, n), "recipient");
        break;
    case RP_REC_REPORT:
        s[k++] = &r->u.report.domain;
        s[k++] = &r->u.report.related_account_id;
        s[k++] = &r->u.report.reporter;
        s[k++] = &r->u.report.detail;
        break;
    case RP_REC_ACTION:
        s[k++] = &r->u.action.related_account_id;
        s[k++] = &r->u.action.note;
        break;
    default: break;
    }
    for (size_t i = 0; i < k; i++)
        cr_assert(inside(*s[i], p, n), "string %zu is not in the input", i);
}

/* Decodes p with rp_avro_decode() on cd and with rp_avro_decode_generic()
 * on cg (two codecs, since each decode may reuse its codec's storage) and
 * asserts that both give the same code and reason and, on success, the
 * same record, which is left in *got (the direct one). Returns the code;
 * err holds the direct decoder's reason. */
static int decode_both(rp_avro_codec *cd, rp_avro_codec *cg, rp_rec_type t,
                       const uint8_t *p, size_t n, rp_record *got) {
    static char gerr[sizeof(err)];
    rp_record g;
    err[0] = gerr[0] = '\0';
    int rg = rp_avro_decode_generic(cg, t, p, n, &g, gerr, sizeof(gerr));
    int rd = rp_avro_decode(cd, t, p, n, got, err, sizeof(err));
    cr_assert_eq(rd, rg, "%s (%zu bytes): direct %d (%s), generic %d (%s)",
                 rp_rec_type_name(t), n, rd, err, rg, gerr);
    cr_assert_str_eq(err, gerr, "%s: the reasons differ", rp_rec_type_name(t));
    if (rd == 0) {
        assert_decoders_agree(got, &g);
        assert_borrows_input(got, p, n);
    }
    return rd;
}

/* ---------------------------------------------------------------- events */

typedef struct sample_event {
    rp_event ev;
    rp_status_change sc;
    rp_notification n;
} sample_event;

static const char *sample_actions[] = {
    "Check your list for addresses that no longer exist.",
    "Submit what you changed.", "\xe2\x9c\x93 done"};

/* variant 0: STATUS_CHANGE with three issues and every nullable set;
 * 1: STATUS_CHANGE with no issues and every nullable null;
 * 2: STATUS_CHANGE with all fourteen issues;
 * 3: NOTIFICATION with actions, rate and threshold;
 * 4: NOTIFICATION with no actions and every nullable null. */
#define EVENT_VARIANTS 5

static void sample_event_fill(sample_event *s, int variant) {
    memset(s, 0, sizeof(*s));
    s->ev.account_id = rp_str_c(variant % 2 ? "b" : "acct-\xc3\xa9t\xc3\xa9");
    s->ev.sequence = variant == 2 ? (uint64_t)INT64_MAX : 1 + (uint64_t)variant;
    s->ev.event_time = INT64_C(1767225600000) + variant;
    if (variant == 0 || variant == 3)
        s->ev.tenant = rp_str_c("brand-\xc3\xa9");
    if (variant < 3) {
        rp_status_change *sc = &s->sc;
        s->ev.kind = RP_EVENT_STATUS_CHANGE;
        s->ev.status_change = sc;
        sc->previous_status = RP_ASTATUS_HEALTHY;
        sc->status = variant == 0 ? RP_ASTATUS_PENDING_SENDING_PAUSE
                                  : RP_ASTATUS_UNDER_REVIEW;
        sc->cause = variant == 0 ? RP_ISSUE_OTHER : RP_ISSUE_BOUNCE_RATE;
        sc->has_review_end = variant != 1;
        sc->review_ends_at = INT64_C(1767830400000);
        sc->bounce =
            (rp_metric_snapshot){.status = RP_ISTATUS_UNDER_REVIEW,
                                 .has_rate = variant != 1,
                                 .rate = 0.0625,
                                 .count = 625,
                                 .volume = 10000,
                                 .window_start = INT64_C(1767139200000),
                                 .window_end = INT64_C(1767229200000)};
        sc->complaint =
            (rp_metric_snapshot){.status = RP_ISTATUS_PENDING_SENDING_PAUSE,
                                 .has_rate = variant == 0,
                                 .rate = 1e-300,
                                 .window_end = -1};
        sc->n_issues = variant == 0 ? 3 : variant == 1 ? 0 : RP_ISSUE__COUNT;
        for (size_t i = 0; i < sc->n_issues; i++) {
            rp_issue_state *is = &sc->issues[i];
            is->kind = variant == 0 ? (rp_issue_kind)(i * 6) : (rp_issue_kind)i;
            is->status = (rp_issue_status)(1 + i % 4);
            is->since = INT64_C(1767225600000) - (int64_t)i;
            is->has_review_end = i % 2 == 0;
            is->review_ends_at = is->has_review_end ? INT64_MAX : 0;
        }
    } else {
        rp_notification *n = &s->n;
        s->ev.kind = RP_EVENT_NOTIFICATION;
        s->ev.notification = n;
        n->issue = variant == 3 ? RP_ISSUE_COMPLAINT_RATE : RP_ISSUE_SPAMTRAP;
        n->stage = variant == 3 ? RP_STAGE_RESOLVED : RP_STAGE_REVIEW_STARTED;
        n->account_status = RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION;
        n->title = variant == 3 ? "Your complaint rate is back to normal" : "";
        n->why = variant == 3 ? "Fewer recipients marked your mail as spam."
                              : "Three spamtrap hits in 30 days.";
        if (variant == 3) {
            n->n_actions = 3;
            for (int i = 0; i < 3; i++)
                n->actions[i] = sample_actions[i];
            n->has_rate = true;
            n->rate = 0.0009;
            n->has_threshold = true;
            n->threshold = 0.001;
            n->has_review_end = true;
            n->review_ends_at = INT64_C(1767830400000);
        }
    }
}

static void assert_events_equal(const rp_event *g, const rp_event *w) {
    assert_str(g->account_id, w->account_id, "account_id");
    cr_assert_eq(g->sequence, w->sequence, "sequence");
    cr_assert_eq(g->event_time, w->event_time, "event_time");
    cr_assert_eq(g->kind, w->kind, "kind");
    assert_str(g->tenant, w->tenant, "tenant");
    if (w->kind == RP_EVENT_STATUS_CHANGE) {
        cr_assert_null(g->notification);
        cr_assert_not_null(g->status_change);
        const rp_status_change *a = g->status_change, *b = w->status_change;
        cr_assert_eq(a->previous_status, b->previous_status);
        cr_assert_eq(a->status, b->status);
        cr_assert_eq(a->cause, b->cause);
        cr_assert_eq(a->has_review_end, b->has_review_end);
        if (b->has_review_end)
            cr_assert_eq(a->review_ends_at, b->review_ends_at);
        const rp_metric_snapshot *ma[2] = {&a->bounce, &a->complaint};
        const rp_metric_snapshot *mb[2] = {&b->bounce, &b->complaint};
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(ma[i]->status, mb[i]->status);
            cr_assert_eq(ma[i]->has_rate, mb[i]->has_rate);
            if (mb[i]->has_rate)
                cr_assert(same_double(ma[i]->rate, mb[i]->rate), "rate");
            cr_assert_eq(ma[i]->count, mb[i]->count);
            cr_assert_eq(ma[i]->volume, mb[i]->volume);
            cr_assert_eq(ma[i]->window_start, mb[i]->window_start);
            cr_assert_eq(ma[i]->window_end, mb[i]->window_end);
        }
        cr_assert_eq(a->n_issues, b->n_issues, "n_issues");
        for (size_t i = 0; i < b->n_issues; i++) {
            cr_assert_eq(a->issues[i].kind, b->issues[i].kind);
            cr_assert_eq(a->issues[i].status, b->issues[i].status);
            cr_assert_eq(a->issues[i].since, b->issues[i].since);
            cr_assert_eq(a->issues[i].has_review_end,
                         b->issues[i].has_review_end);
            if (b->issues[i].has_review_end)
                cr_assert_eq(a->issues[i].review_ends_at,
                             b->issues[i].review_ends_at);
        }
    } else {
        cr_assert_null(g->status_change);
        cr_assert_not_null(g->notification);
        const rp_notification *a = g->notification, *b = w->notification;
        cr_assert_eq(a->issue, b->issue);
        cr_assert_eq(a->stage, b->stage);
        cr_assert_eq(a->account_status, b->account_status);
        cr_assert_str_eq(a->title, b->title ? b->title : "");
        cr_assert_str_eq(a->why, b->why ? b->why : "");
        cr_assert_eq(a->n_actions, b->n_actions, "n_actions");
        for (size_t i = 0; i < b->n_actions; i++)
            cr_assert_str_eq(a->actions[i], b->actions[i]);
        cr_assert_eq(a->has_rate, b->has_rate);
        if (b->has_rate)
            cr_assert(same_double(a->rate, b->rate), "rate");
        cr_assert_eq(a->has_threshold, b->has_threshold);
        if (b->has_threshold)
            cr_assert(same_double(a->threshold, b->threshold), "threshold");
        cr_assert_eq(a->has_review_end, b->has_review_end);
        if (b->has_review_end)
            cr_assert_eq(a->review_ends_at, b->review_ends_at);
    }
}

static uint8_t *encode_event_copy(rp_avro_codec *c, const rp_event *ev,
                                  size_t *len) {
    const void *out;
    int rc = rp_avro_encode_event(c, ev, &out, len, err, sizeof(err));
    cr_assert_eq(rc, 0, "encode event: %s", err);
    return copy_of(out, *len);
}

/* ---------------------------------------------------------------- schemas */

Test(avro_schema, embedded_tables) {
    const char *files[] = {"Delivery.avsc",  "Bounce.avsc",
                           "Complaint.avsc", "Report.avsc",
                           "Action.avsc",    "ReputationEvent.avsc"};
    for (int i = 0; i < RP_SCHEMA_ID__COUNT; i++) {
        cr_assert_str_eq(rp_avro_schema_name(i), files[i]);
        const char *json = rp_avro_schema_json(i);
        cr_assert_not_null(json);
        cr_assert_not_null(strstr(json, "\"repute.v1\""), "%s namespace",
                           files[i]);
    }
    cr_assert_null(rp_avro_schema_json(-1));
    cr_assert_null(rp_avro_schema_json(RP_SCHEMA_ID__COUNT));
    cr_assert_null(rp_avro_schema_name(RP_SCHEMA_ID__COUNT));
}

/* The symbols of one of the enums of types.h, by Avro enum name. */
static const char *expected_symbol(const char *enum_name, int i, int *count) {
    static const struct {
        const char *name;
        int count;
    } enums[] = {{"BounceType", RP_BOUNCE__COUNT},
                 {"BounceSubtype", RP_BSUB__COUNT},
                 {"FeedbackType", RP_FEEDBACK__COUNT},
                 {"ReportKind", RP_REPORT__COUNT},
                 {"ActionType", RP_ACTION__COUNT},
                 {"IssueKind", RP_ISSUE__COUNT},
                 {"EventKind", RP_EVENT__COUNT},
                 {"AccountStatus", RP_ASTATUS__COUNT},
                 {"IssueStatus", RP_ISTATUS__COUNT},
                 {"NotificationStage", RP_STAGE__COUNT}};
    int k = -1;
    for (int j = 0; j < (int)(sizeof(enums) / sizeof(enums[0])); j++)
        if (strcmp(enums[j].name, enum_name) == 0)
            k = j;
    if (k < 0)
        return NULL;
    *count = enums[k].count;
    switch (k) {
    case 0: return rp_bounce_type_name((rp_bounce_type)i);
    case 1: return rp_bounce_subtype_name((rp_bounce_subtype)i);
    case 2: return rp_feedback_type_name((rp_feedback_type)i);
    case 3:
        return rp_issue_kind_name((rp_issue_kind)(i + RP_ISSUE__FIRST_REPORT));
    case 4: return rp_action_type_name((rp_action_type)i);
    case 5: return rp_issue_kind_name((rp_issue_kind)i);
    case 6: return rp_event_kind_name((rp_event_kind)i);
    case 7: return rp_account_status_name((rp_account_status)i);
    case 8: return rp_issue_status_name((rp_issue_status)i);
    default: return rp_stage_name((rp_stage)i);
    }
}

static int enums_seen;

static void check_enums_in(json_t *node, const char *file) {
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) check_enums_in(v, file);
        return;
    }
    if (!json_is_object(node))
        return;
    const char *type = json_string_value(json_object_get(node, "type"));
    if (type && strcmp(type, "enum") == 0) {
        const char *name = json_string_value(json_object_get(node, "name"));
        json_t *symbols = json_object_get(node, "symbols");
        int count = 0;
        cr_assert_not_null(name, "%s: an enum without a name", file);
        cr_assert_not_null(expected_symbol(name, 0, &count),
                           "%s: enum %s has no table in types.c", file, name);
        cr_assert_eq(json_array_size(symbols), (size_t)count,
                     "%s: enum %s has %zu symbols, types.h has %d", file, name,
                     json_array_size(symbols), count);
        for (int i = 0; i < count; i++) {
            const char *want = expected_symbol(name, i, &count);
            const char *got =
                json_string_value(json_array_get(symbols, (size_t)i));
            cr_assert_str_eq(got, want,
                             "%s: %s symbol %d is %s, types.c says %s", file,
                             name, i, got, want);
        }
        /* The table is no longer than the enum either. */
        cr_assert_str_eq(expected_symbol(name, count, &count), "?",
                         "%s: the types.c table of %s is too long", file, name);
        cr_assert(json_object_get(node, "doc"), "%s: enum %s has no doc", file,
                  name);
        enums_seen++;
    }
    if (type && strcmp(type, "record") == 0) {
        cr_assert(json_object_get(node, "doc"), "%s: record %s has no doc",
                  file, json_string_value(json_object_get(node, "name")));
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(node, "fields"), i, f) {
            cr_assert(json_object_get(f, "doc"), "%s: field %s has no doc",
                      file, json_string_value(json_object_get(f, "name")));
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(node, key, v) check_enums_in(v, file);
}

Test(avro_schema, enum_symbols_match_types_tables) {
    enums_seen = 0;
    for (int i = 0; i < RP_SCHEMA_ID__COUNT; i++) {
        json_error_t je;
        json_t *root = json_loads(rp_avro_schema_json(i), 0, &je);
        cr_assert_not_null(root, "%s: %s", rp_avro_schema_name(i), je.text);
        check_enums_in(root, rp_avro_schema_name(i));
        json_decref(root);
    }
    /* BounceType, BounceSubtype, FeedbackType, ReportKind, ActionType,
     * IssueKind (Action), and in ReputationEvent EventKind, AccountStatus,
     * IssueKind, IssueStatus, NotificationStage. */
    cr_assert_eq(enums_seen, 11, "saw %d enum definitions", enums_seen);
}

Test(avro_schema, input_records_start_with_the_common_fields) {
    for (int i = 0; i < RP_REC__COUNT; i++) {
        json_t *root = json_loads(rp_avro_schema_json(i), 0, NULL);
        cr_assert_not_null(root);
        json_t *fields = json_object_get(root, "fields");
        const char *want[] = {"event_id", "account_id", "event_time"};
        for (size_t k = 0; k < 3; k++)
            cr_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(fields, k), "name")),
                             want[k]);
        json_t *t = json_object_get(json_array_get(fields, 2), "type");
        cr_assert_str_eq(json_string_value(json_object_get(t, "logicalType")),
                         "timestamp-millis");
        json_decref(root);
    }
}

Test(avro_schema, codec_new_refuses_bad_arguments) {
    char e[256] = "";
    cr_assert_null(rp_avro_codec_new(RP_FRAMING_CONFLUENT, NULL, e, sizeof(e)));
    cr_assert_not_null(strstr(e, "schema ids"), "%s", e);
    cr_assert_null(rp_avro_codec_new((rp_framing)7, NULL, e, sizeof(e)));
    rp_avro_codec_destroy(NULL);
}

/* ---------------------------------------------------------------- round trips
 */

static void roundtrip_all(rp_framing framing) {
    rp_avro_codec *c = new_codec(framing);
    rp_avro_codec *cg = new_codec(framing);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        for (int full = 0; full < 2; full++) {
            rp_record want, got;
            size_t len;
            sample_record(&want, (rp_rec_type)t, full);
            uint8_t *bytes = encode_copy(c, &want, &len);
            if (framing == RP_FRAMING_CONFLUENT) {
                cr_assert_geq(len, 5);
                cr_assert_eq(bytes[0], 0);
                uint32_t id = (uint32_t)bytes[1] << 24 | bytes[2] << 16 |
                              bytes[3] << 8 | bytes[4];
                cr_assert_eq(id, (uint32_t)schema_ids[t]);
            }
            int rc = decode_both(c, cg, (rp_rec_type)t, bytes, len, &got);
            cr_assert_eq(rc, 0, "decode %s (full=%d): %s",
                         rp_rec_type_name((rp_rec_type)t), full, err);
            assert_records_equal(&got, &want);
            free(bytes);
        }
    }
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

Test(avro_roundtrip, every_record_plain) {
    roundtrip_all(RP_FRAMING_PLAIN);
}

Test(avro_roundtrip, every_record_confluent) {
    roundtrip_all(RP_FRAMING_CONFLUENT);
}

Test(avro_roundtrip, every_event_both_framings) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = new_codec((rp_framing)f);
        for (int variant = 0; variant < EVENT_VARIANTS; variant++) {
            sample_event s;
            sample_event_fill(&s, variant);
            size_t len;
            uint8_t *bytes = encode_event_copy(c, &s.ev, &len);
            rp_event ev;
            rp_status_change sc;
            rp_notification n;
            int rc = rp_avro_decode_event(c, bytes, len, &ev, &sc, &n, err,
                                          sizeof(err));
            cr_assert_eq(rc, 0, "variant %d: %s", variant, err);
            assert_events_equal(&ev, &s.ev);
            free(bytes);
        }
        rp_avro_codec_destroy(c);
    }
}

/* The event_id is written as "<account_id>:<sequence>". */
Test(avro_roundtrip, event_id_is_account_and_sequence) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    sample_event s;
    sample_event_fill(&s, 1); /* account "b", sequence 2 */
    const void *out;
    size_t len;
    cr_assert_eq(rp_avro_encode_event(c, &s.ev, &out, &len, err, sizeof(err)),
                 0, "%s", err);
    const uint8_t *p = out;
    cr_assert_eq(p[0], 6); /* zig-zag 3 */
    cr_assert(memcmp(p + 1, "b:2", 3) == 0);
    rp_avro_codec_destroy(c);
}

/* Strings handed to the encoder need no terminating NUL: each one here
 * sits in a heap block of exactly its length. */
Test(avro_roundtrip, unterminated_strings) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    const char *texts[] = {"ev-1", "acct-1", "m", "x@y.test", "diag"};
    uint8_t *heap[5];
    rp_str s[5];
    for (int i = 0; i < 5; i++) {
        heap[i] = copy_of(texts[i], strlen(texts[i]));
        s[i] = (rp_str){(const char *)heap[i], strlen(texts[i])};
    }
    rp_record want, got;
    rp_record_init(&want, RP_REC_BOUNCE);
    want.event_id = s[0];
    want.account_id = s[1];
    want.u.bounce.message_id = s[2];
    want.u.bounce.recipient = s[3];
    want.u.bounce.diagnostic = s[4];
    size_t len;
    uint8_t *bytes = encode_copy(c, &want, &len);
    cr_assert_eq(decode_both(c, cg, RP_REC_BOUNCE, bytes, len, &got), 0, "%s",
                 err);
    assert_records_equal(&got, &want);
    free(bytes);

    rp_record_init(&want, RP_REC_COMPLAINT);
    want.event_id = s[0];
    want.account_id = s[1];
    want.u.complaint.message_id = s[2];
    want.u.complaint.recipients = &s[3];
    want.u.complaint.n_recipients = 2;
    bytes = encode_copy(c, &want, &len);
    cr_assert_eq(decode_both(c, cg, RP_REC_COMPLAINT, bytes, len, &got), 0,
                 "%s", err);
    assert_records_equal(&got, &want);
    free(bytes);
    for (int i = 0; i < 5; i++)
        free(heap[i]);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

/* A null pointer in a required string is written as the empty string. */
Test(avro_roundtrip, null_required_string_is_empty) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_record want, got;
    sample_record(&want, RP_REC_DELIVERY, false);
    want.u.delivery.message_id = RP_STR_NULL;
    size_t len;
    uint8_t *bytes = encode_copy(c, &want, &len);
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, bytes, len, &got, err, sizeof(err)),
        0, "%s", err);
    cr_assert_not_null(got.u.delivery.message_id.ptr);
    cr_assert_eq(got.u.delivery.message_id.len, 0);
    cr_assert_eq(rp_avro_decode_generic(c, RP_REC_DELIVERY, bytes, len, &got,
                                        err, sizeof(err)),
                 0, "%s", err);
    cr_assert_not_null(got.u.delivery.message_id.ptr);
    cr_assert_eq(got.u.delivery.message_id.len, 0);
    free(bytes);
    rp_avro_codec_destroy(c);
}

/* Decoding reuses the codec's storage; the recipients array follows the
 * size of each complaint, and an encode leaves a decoded record alone. */
Test(avro_roundtrip, reuse_across_records) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    static rp_str many[200];
    static char names[200][16];
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof(names[i]), "r%d@x.test", i);
        many[i] = rp_str_c(names[i]);
    }
    size_t sizes[] = {200, 2, 0, 150, 1};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        rp_record want, got;
        sample_record(&want, RP_REC_COMPLAINT, true);
        want.u.complaint.recipients = many + k;
        want.u.complaint.n_recipients = sizes[k];
        size_t len;
        uint8_t *bytes = encode_copy(c, &want, &len);
        /* Both decoders, in turn, on the same codec: each one's record
         * lives until the next decode, whichever decoder that is. */
        for (int generic = 0; generic < 2; generic++) {
            int rc = generic
                         ? rp_avro_decode_generic(c, RP_REC_COMPLAINT, bytes,
                                                  len, &got, err, sizeof(err))
                         : rp_avro_decode(c, RP_REC_COMPLAINT, bytes, len, &got,
                                          err, sizeof(err));
            cr_assert_eq(rc, 0, "%s", err);
            /* An encode on the same codec must not disturb got. */
            rp_record other;
            sample_record(&other, RP_REC_COMPLAINT, false);
            const void *out;
            size_t out_len;
            cr_assert_eq(
                rp_avro_encode(c, &other, &out, &out_len, err, sizeof(err)), 0);
            assert_records_equal(&got, &want);
        }
        free(bytes);
    }
    rp_avro_codec_destroy(c);
}

/* The codec refuses to encode what Avro cannot represent. */
Test(avro_roundtrip, encode_refuses_out_of_range) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    const void *out;
    size_t len;
    rp_record r;
    sample_record(&r, RP_REC_BOUNCE, true);
    r.u.bounce.bounce_type = (rp_bounce_type)3;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    cr_assert_not_null(strstr(err, "bounce_type"), "%s", err);
    sample_record(&r, RP_REC_REPORT, true);
    r.u.report.kind = RP_ISSUE_COMPLAINT_RATE;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    sample_record(&r, RP_REC_ACTION, true);
    r.u.action.issue = RP_ISSUE__COUNT;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    r.type = RP_REC__COUNT;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_EINVAL);

    sample_event s;
    sample_event_fill(&s, 0);
    s.ev.status_change = NULL;
    cr_assert_eq(rp_avro_encode_event(c, &s.ev, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    sample_event_fill(&s, 3);
    s.n.n_actions = RP_NOTICE_MAX_ACTIONS + 1;
    cr_assert_eq(rp_avro_encode_event(c, &s.ev, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    sample_event_fill(&s, 0);
    s.sc.n_issues = RP_ISSUE__COUNT + 1;
    cr_assert_eq(rp_avro_encode_event(c, &s.ev, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    rp_avro_codec_destroy(c);
}

/* ---------------------------------------------------------------- truncation
 */

/* The same record as the earlier schema had it: no tenant, no actor (the
 * trailing defaults, docs/schemas.md). Its encoding, less one zero byte
 * per trailing field, is where a record of that schema ends. */
static void without_trailing(rp_record *r, size_t *n_trailing) {
    r->tenant = RP_STR_NULL;
    *n_trailing = 1;
    if (r->type == RP_REC_ACTION) {
        r->u.action.actor = RP_STR_NULL;
        *n_trailing = 2;
    }
}

/* Every cut of every encoding is truncated, except the one cut that ends
 * exactly where the trailing defaults begin: that is a record of the
 * earlier schema, which decodes (both ways) with them null. */
Test(avro_robust, every_truncation_of_every_record) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = new_codec((rp_framing)f);
        rp_avro_codec *cg = new_codec((rp_framing)f);
        for (int t = 0; t < RP_REC__COUNT; t++) {
            for (int full = 0; full < 2; full++) {
                rp_record r, old, got;
                size_t len, old_len, n_trailing;
                sample_record(&r, (rp_rec_type)t, full);
                old = r;
                without_trailing(&old, &n_trailing);
                uint8_t *old_bytes = encode_copy(c, &old, &old_len);
                size_t boundary = old_len - n_trailing;
                uint8_t *bytes = encode_copy(c, &r, &len);
                cr_assert(memcmp(bytes, old_bytes, boundary) == 0);
                for (size_t k = 0; k < len; k++) {
                    uint8_t *cut = copy_of(bytes, k);
                    int rc = decode_both(c, cg, (rp_rec_type)t, cut, k, &got);
                    if (k == boundary) {
                        cr_assert_eq(rc, 0, "%s full=%d framing=%d: %s",
                                     rp_rec_type_name((rp_rec_type)t), full, f,
                                     err);
                        assert_records_equal(&got, &old);
                        free(cut);
                        continue;
                    }
                    cr_assert_eq(rc, RP_ETRUNC,
                                 "%s full=%d framing=%d: %zu of %zu bytes "
                                 "gave %d (%s)",
                                 rp_rec_type_name((rp_rec_type)t), full, f, k,
                                 len, rc, err);
                    cr_assert(err[0], "no reason given");
                    free(cut);
                }
                free(bytes);
                free(old_bytes);
            }
        }
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(cg);
    }
}

Test(avro_robust, every_truncation_of_every_event) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = new_codec((rp_framing)f);
        for (int variant = 0; variant < EVENT_VARIANTS; variant++) {
            sample_event s;
            sample_event_fill(&s, variant);
            size_t len, old_len;
            rp_str tenant = s.ev.tenant;
            s.ev.tenant = RP_STR_NULL;
            uint8_t *old_bytes = encode_event_copy(c, &s.ev, &old_len);
            s.ev.tenant = tenant;
            uint8_t *bytes = encode_event_copy(c, &s.ev, &len);
            size_t boundary = old_len - 1;
            for (size_t k = 0; k < len; k++) {
                uint8_t *cut = copy_of(bytes, k);
                rp_event ev;
                rp_status_change sc;
                rp_notification n;
                int rc = rp_avro_decode_event(c, cut, k, &ev, &sc, &n, err,
                                              sizeof(err));
                if (k == boundary) {
                    /* An event of the earlier schema: no tenant. */
                    cr_assert_eq(rc, 0, "variant %d framing %d: %s", variant, f,
                                 err);
                    s.ev.tenant = RP_STR_NULL;
                    assert_events_equal(&ev, &s.ev);
                    s.ev.tenant = tenant;
                } else {
                    cr_assert_eq(rc, RP_ETRUNC,
                                 "variant %d framing %d: %zu of %zu gave %d "
                                 "(%s)",
                                 variant, f, k, len, rc, err);
                }
                free(cut);
            }
            free(bytes);
            free(old_bytes);
        }
        rp_avro_codec_destroy(c);
    }
}

/* ---------------------------------------------------------------- garbage */

static bool is_decode_error(int rc) {
    return rc == RP_ETRUNC || rc == RP_EBADDATA || rc == RP_ECONTRACT;
}

/* Decodes one input both ways (on c and cg), which must agree; when that
 * succeeds the record must pass the contract and survive a second round
 * trip through another codec. Returns whether it decoded. */
static bool try_record(rp_avro_codec *c, rp_avro_codec *c2, rp_avro_codec *cg,
                       rp_rec_type t, const uint8_t *p, size_t n) {
    uint8_t *q = copy_of(p, n);
    rp_record got, again;
    int rc = decode_both(c, cg, t, q, n, &got);
    cr_assert(rc == 0 || is_decode_error(rc), "%s: unexpected %d (%s)",
              rp_rec_type_name(t), rc, err);
    if (rc == 0) {
        cr_assert_eq(rp_record_check(&got, err, sizeof(err)), 0);
        cr_assert_eq(rp_avro_check(t, q, n, err, sizeof(err)), (int)n);
        const void *out;
        size_t len;
        cr_assert_eq(rp_avro_encode(c2, &got, &out, &len, err, sizeof(err)), 0,
                     "%s", err);
        cr_assert_eq(rp_avro_decode(c2, t, out, len, &again, err, sizeof(err)),
                     0, "%s", err);
        assert_records_equal(&again, &got);
    } else {
        cr_assert(err[0], "no reason given for %d", rc);
    }
    free(q);
    return rc == 0;
}

static bool try_event(rp_avro_codec *c, rp_avro_codec *c2, const uint8_t *p,
                      size_t n) {
    uint8_t *q = copy_of(p, n);
    rp_event ev, again;
    rp_status_change sc, sc2;
    rp_notification nt, nt2;
    err[0] = '\0';
    int rc = rp_avro_decode_event(c, q, n, &ev, &sc, &nt, err, sizeof(err));
    cr_assert(rc == 0 || is_decode_error(rc), "event: unexpected %d (%s)", rc,
              err);
    if (rc == 0) {
        const void *out;
        size_t len;
        cr_assert_eq(
            rp_avro_encode_event(c2, &ev, &out, &len, err, sizeof(err)), 0,
            "%s", err);
        cr_assert_eq(rp_avro_decode_event(c2, out, len, &again, &sc2, &nt2, err,
                                          sizeof(err)),
                     0, "%s", err);
        assert_events_equal(&again, &ev);
    } else {
        cr_assert(err[0], "no reason given for %d", rc);
    }
    free(q);
    return rc == 0;
}

Test(avro_robust, random_bytes) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *c2 = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    uint8_t buf[128];
    rng_seed(0x5eed);
    for (int slot = 0; slot < RP_SCHEMA_ID__COUNT; slot++) {
        for (int i = 0; i < 10000; i++) {
            size_t n = rng_below(sizeof(buf) + 1);
            /* Small bytes make short strings and low indexes, so that more
             * of the inputs get deep into the schema. */
            uint8_t mask = (i % 3 == 0) ? 0xff : (i % 3 == 1) ? 0x0f : 0x03;
            for (size_t k = 0; k < n; k++)
                buf[k] = (uint8_t)rng() & mask;
            if (slot < RP_REC__COUNT)
                try_record(c, c2, cg, (rp_rec_type)slot, buf, n);
            else
                try_event(c, c2, buf, n);
        }
    }
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(c2);
    rp_avro_codec_destroy(cg);
}

/* Flips, inserts and deletes bytes of valid encodings: most results are
 * nearly valid, which reaches the corners that random bytes do not. */
static size_t mutate(uint8_t *buf, size_t n, size_t cap) {
    int edits = 1 + (int)rng_below(3);
    for (int e = 0; e < edits; e++) {
        size_t at = rng_below(n + 1);
        switch (rng_below(4)) {
        case 0:
            if (at < n)
                buf[at] ^= (uint8_t)(1u << rng_below(8));
            break;
        case 1:
            if (at < n)
                buf[at] = (uint8_t)rng();
            break;
        case 2:
            if (n < cap) {
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = (uint8_t)rng();
                n++;
            }
            break;
        default:
            if (at < n) {
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            }
            break;
        }
    }
    return n;
}

Test(avro_robust, mutated_encodings) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *c2 = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    static uint8_t buf[8192];
    int decoded = 0, tried = 0;
    rng_seed(42);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        for (int full = 0; full < 2; full++) {
            rp_record r;
            size_t len;
            sample_record(&r, (rp_rec_type)t, full);
            uint8_t *bytes = encode_copy(c, &r, &len);
            for (int i = 0; i < 2000; i++) {
                memcpy(buf, bytes, len);
                size_t n = mutate(buf, len, sizeof(buf));
                decoded += try_record(c, c2, cg, (rp_rec_type)t, buf, n);
                tried++;
            }
            free(bytes);
        }
    }
    for (int variant = 0; variant < EVENT_VARIANTS; variant++) {
        sample_event s;
        sample_event_fill(&s, variant);
        size_t len;
        uint8_t *bytes = encode_event_copy(c, &s.ev, &len);
        for (int i = 0; i < 2000; i++) {
            memcpy(buf, bytes, len);
            size_t n = mutate(buf, len, sizeof(buf));
            decoded += try_event(c, c2, buf, n);
            tried++;
        }
        free(bytes);
    }
    /* Both outcomes must have been exercised. */
    cr_assert_gt(decoded, 0);
    cr_assert_lt(decoded, tried);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(c2);
    rp_avro_codec_destroy(cg);
}

/* ---------------------------------------------------------------- framing */

Test(avro_robust, wrong_magic_byte) {
    rp_avro_codec *c = new_codec(RP_FRAMING_CONFLUENT);
    rp_avro_codec *cg = new_codec(RP_FRAMING_CONFLUENT);
    rp_record r, got;
    size_t len;
    sample_record(&r, RP_REC_DELIVERY, true);
    uint8_t *bytes = encode_copy(c, &r, &len);
    bytes[0] = 1;
    cr_assert_eq(decode_both(c, cg, RP_REC_DELIVERY, bytes, len, &got),
                 RP_EBADDATA);
    cr_assert_not_null(strstr(err, "magic byte is 0x01"), "%s", err);
    free(bytes);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

Test(avro_robust, wrong_schema_id) {
    rp_avro_codec *c = new_codec(RP_FRAMING_CONFLUENT);
    rp_avro_codec *cg = new_codec(RP_FRAMING_CONFLUENT);
    rp_record r, got;
    size_t len;
    sample_record(&r, RP_REC_REPORT, true);
    uint8_t *bytes = encode_copy(c, &r, &len);
    /* A Report read as a Bounce: the id is the Report's, 44. */
    cr_assert_eq(decode_both(c, cg, RP_REC_BOUNCE, bytes, len, &got),
                 RP_EBADDATA);
    cr_assert_not_null(strstr(err, "schema id is 44, expected 22"), "%s", err);
    bytes[4] ^= 0x80;
    cr_assert_eq(decode_both(c, cg, RP_REC_REPORT, bytes, len, &got),
                 RP_EBADDATA);
    cr_assert_not_null(strstr(err, "schema id"), "%s", err);
    free(bytes);
    rp_avro_codec_destroy(cg);

    sample_event s;
    sample_event_fill(&s, 3);
    bytes = encode_event_copy(c, &s.ev, &len);
    cr_assert_eq(bytes[1], 1);
    cr_assert_eq(bytes[4], 4);
    bytes[3] = 0;
    rp_event ev;
    rp_status_change sc;
    rp_notification n;
    cr_assert_eq(
        rp_avro_decode_event(c, bytes, len, &ev, &sc, &n, err, sizeof(err)),
        RP_EBADDATA);
    cr_assert_not_null(strstr(err, "expected 16909060"), "%s", err);
    free(bytes);
    rp_avro_codec_destroy(c);
}

Test(avro_robust, trailing_bytes) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = new_codec((rp_framing)f);
        rp_avro_codec *cg = new_codec((rp_framing)f);
        for (int t = 0; t < RP_REC__COUNT; t++) {
            rp_record r, got;
            size_t len;
            sample_record(&r, (rp_rec_type)t, false);
            uint8_t *bytes = encode_copy(c, &r, &len);
            uint8_t *more = malloc(len + 3);
            memcpy(more, bytes, len);
            memset(more + len, 0, 3);
            cr_assert_eq(
                decode_both(c, cg, (rp_rec_type)t, more, len + 3, &got),
                RP_EBADDATA);
            cr_assert_not_null(strstr(err, "3 trailing bytes"), "%s", err);
            free(more);
            free(bytes);
        }
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(cg);
    }
}

Test(avro_robust, oversized_input) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    size_t n = RP_AVRO_MAX_RECORD + 1;
    uint8_t *big = calloc(1, n);
    rp_record got;
    cr_assert_eq(decode_both(c, cg, RP_REC_DELIVERY, big, n, &got), RP_ETOOBIG);
    cr_assert_not_null(strstr(err, "limit"), "%s", err);
    rp_event ev;
    rp_status_change sc;
    rp_notification nt;
    cr_assert_eq(
        rp_avro_decode_event(c, big, n, &ev, &sc, &nt, err, sizeof(err)),
        RP_ETOOBIG);
    /* At the limit it is decoded (and here fails for another reason). */
    cr_assert_neq(decode_both(c, cg, RP_REC_DELIVERY, big, n - 1, &got),
                  RP_ETOOBIG);
    /* A string that makes the record larger than the limit is refused by
     * the encoder too. */
    rp_record r;
    sample_record(&r, RP_REC_REPORT, false);
    memset(big, 'x', n);
    r.u.report.detail = (rp_str){(const char *)big, n};
    const void *out;
    size_t len;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_ETOOBIG);
    /* A record just under the limit is well-formed Avro, but its detail
     * breaks the contract's limit on text (RP_TEXT_MAX); the reason names
     * the field and never quotes it. */
    r.u.report.detail.len = RP_AVRO_MAX_RECORD - 100;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(decode_both(c, cg, RP_REC_REPORT, out, len, &got),
                 RP_ECONTRACT, "%s", err);
    cr_assert_not_null(strstr(err, "detail is"), "%s", err);
    cr_assert_null(strstr(err, "xxx"), "%s", err);
    /* At RP_TEXT_MAX it is fine. */
    r.u.report.detail.len = RP_TEXT_MAX;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(decode_both(c, cg, RP_REC_REPORT, out, len, &got), 0, "%s",
                 err);
    cr_assert_eq(got.u.report.detail.len, RP_TEXT_MAX);
    free(big);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

/* ---------------------------------------------------------------- contract */

static int decode_modified(rp_rec_type t, void (*modify)(rp_record *)) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    rp_record r, got;
    size_t len;
    sample_record(&r, t, true);
    modify(&r);
    uint8_t *bytes = encode_copy(c, &r, &len);
    int rc = decode_both(c, cg, t, bytes, len, &got);
    free(bytes);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
    return rc;
}

static void empty_account(rp_record *r) {
    r->account_id = rp_str_c("");
}
static void long_account(rp_record *r) {
    static char id[RP_ACCOUNT_ID_MAX + 2];
    memset(id, 'a', RP_ACCOUNT_ID_MAX + 1);
    r->account_id = rp_str_c(id);
}
static void max_account(rp_record *r) {
    static char id[RP_ACCOUNT_ID_MAX + 1];
    memset(id, 'a', RP_ACCOUNT_ID_MAX);
    r->account_id = rp_str_c(id);
}
static void empty_event_id(rp_record *r) {
    r->event_id = rp_str_c("");
}
static void zero_incidents(rp_record *r) {
    r->u.report.incidents = 0;
}
static void negative_incidents(rp_record *r) {
    r->u.report.incidents = -5;
}

Test(avro_contract, violations_are_econtract) {
    cr_assert_eq(decode_modified(RP_REC_DELIVERY, empty_account), RP_ECONTRACT);
    cr_assert_not_null(strstr(err, "account_id"), "%s", err);
    cr_assert_eq(decode_modified(RP_REC_ACTION, long_account), RP_ECONTRACT);
    cr_assert_eq(decode_modified(RP_REC_ACTION, max_account), 0, "%s", err);
    cr_assert_eq(decode_modified(RP_REC_BOUNCE, empty_event_id), RP_ECONTRACT);
    cr_assert_eq(decode_modified(RP_REC_REPORT, zero_incidents), RP_ECONTRACT);
    cr_assert_not_null(strstr(err, "incidents"), "%s", err);
    cr_assert_eq(decode_modified(RP_REC_REPORT, negative_incidents),
                 RP_ECONTRACT);
}

Test(avro_contract, event_kind_must_match_its_part) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_event ev;
    rp_status_change sc;
    rp_notification n;
    wbuf w = {.n = 0};
    /* STATUS_CHANGE with both parts null. */
    w_str(&w, "a:1");
    w_str(&w, "a");
    w_long(&w, 1);
    w_long(&w, 0);
    w_long(&w, 0);
    w_long(&w, 0);
    w_long(&w, 0);
    cr_assert_eq(
        rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err)),
        RP_ECONTRACT);
    cr_assert_not_null(strstr(err, "STATUS_CHANGE"), "%s", err);
    /* A sequence of 0. */
    w.n = 0;
    w_str(&w, "a:0");
    w_str(&w, "a");
    w_long(&w, 0);
    w_long(&w, 0);
    w_long(&w, 1);
    w_long(&w, 0);
    w_long(&w, 1); /* a notification */
    w_long(&w, 0); /* issue */
    w_long(&w, 0); /* stage */
    w_long(&w, 0); /* account_status */
    w_str(&w, "t");
    w_str(&w, "w");
    w_long(&w, 0); /* no actions */
    w_long(&w, 0);
    w_long(&w, 0);
    w_long(&w, 0);
    cr_assert_eq(
        rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err)),
        RP_ECONTRACT);
    cr_assert_not_null(strstr(err, "sequence"), "%s", err);
    /* The same with sequence 1 is fine. */
    w.b[3] = 'x'; /* event_id "a:x": not checked */
    w.b[6] = 2;   /* zig-zag 1 */
    cr_assert_eq(
        rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(ev.sequence, 1);
    cr_assert_str_eq(ev.notification->title, "t");
    rp_avro_codec_destroy(c);
}

/* More issues than issue kinds, or more actions than rp_notification
 * holds, is valid Avro but not a valid event. */
Test(avro_contract, event_arrays_are_bounded) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_event ev;
    rp_status_change sc;
    rp_notification n;
    for (int count = RP_ISSUE__COUNT; count <= RP_ISSUE__COUNT + 1; count++) {
        wbuf w = {.n = 0};
        w_str(&w, "a:1");
        w_str(&w, "a");
        w_long(&w, 1);
        w_long(&w, 0);
        w_long(&w, 0); /* STATUS_CHANGE */
        w_long(&w, 1);
        for (int k = 0; k < 4; k++) /* statuses, cause, review end */
            w_long(&w, 0);
        for (int k = 0; k < 12; k++) /* two metric snapshots */
            w_long(&w, 0);
        w_long(&w, count);
        for (int k = 0; k < 4 * count; k++)
            w_long(&w, 0);
        w_long(&w, 0); /* end of issues */
        w_long(&w, 0); /* notification null */
        int rc =
            rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err));
        if (count <= RP_ISSUE__COUNT)
            cr_assert_eq(rc, 0, "%s", err);
        else
            cr_assert_eq(rc, RP_ECONTRACT, "%d: %s", rc, err);
    }
    for (int count = RP_NOTICE_MAX_ACTIONS; count <= RP_NOTICE_MAX_ACTIONS + 1;
         count++) {
        wbuf w = {.n = 0};
        w_str(&w, "a:1");
        w_str(&w, "a");
        w_long(&w, 1);
        w_long(&w, 0);
        w_long(&w, 1); /* NOTIFICATION */
        w_long(&w, 0);
        w_long(&w, 1);
        for (int k = 0; k < 3; k++)
            w_long(&w, 0);
        w_str(&w, "t");
        w_str(&w, "w");
        w_long(&w, count);
        for (int k = 0; k < count; k++)
            w_str(&w, "do this");
        w_long(&w, 0);
        for (int k = 0; k < 3; k++)
            w_long(&w, 0);
        int rc =
            rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err));
        if (count <= RP_NOTICE_MAX_ACTIONS)
            cr_assert_eq(rc, 0, "%s", err);
        else
            cr_assert_eq(rc, RP_ECONTRACT, "%d: %s", rc, err);
    }
    rp_avro_codec_destroy(c);
}

/* ---------------------------------------------------------------- validator */

/* A minimal Delivery up to (not including) sent_time. */
static void delivery_head(wbuf *w) {
    w->n = 0;
    w_head(w, "e", "a", 0);
    w_str(w, "m");
    w_str(w, "r");
}

/* A minimal valid Delivery. */
static void delivery_ok(wbuf *w) {
    delivery_head(w);
    w_long(w, 0); /* sent_time null */
    w_byte(w, 0); /* verified_recipient */
    w_byte(w, 0); /* simulator */
    w_byte(w, 1); /* feedback_loop */
    w_long(w, 0); /* tenant null */
}

static int check(int slot, const wbuf *w) {
    uint8_t *q = copy_of(w->b, w->n);
    err[0] = '\0';
    int rc = rp_avro_check(slot, q, w->n, err, sizeof(err));
    free(q);
    return rc;
}

/* Checks w against the slot's schema; for an input record, both decoders
 * must then fail the same way (or agree on the record). */
static void expect_check(int slot, const wbuf *w, int want,
                         const char *in_err) {
    int rc = check(slot, w);
    cr_assert_eq(rc, want, "got %d (%s), want %d", rc, err, want);
    if (in_err)
        cr_assert_not_null(strstr(err, in_err), "'%s' not in '%s'", in_err,
                           err);
    if (slot < 0 || slot >= RP_REC__COUNT)
        return;
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    uint8_t *q = copy_of(w->b, w->n);
    rp_record got;
    rc = decode_both(c, cg, (rp_rec_type)slot, q, w->n, &got);
    if (want < 0) {
        cr_assert_eq(rc, want, "decode gave %d (%s), want %d", rc, err, want);
        if (in_err)
            cr_assert_not_null(strstr(err, in_err), "'%s' not in '%s'", in_err,
                               err);
    }
    free(q);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

Test(avro_check, returns_bytes_consumed) {
    wbuf w;
    delivery_ok(&w);
    size_t n = w.n;
    expect_check(RP_REC_DELIVERY, &w, (int)n, NULL);
    w_raw(&w, "junk", 4);
    expect_check(RP_REC_DELIVERY, &w, (int)n, NULL);
    expect_check(-1, &w, RP_EINVAL, "slot");
    expect_check(RP_SCHEMA_ID__COUNT, &w, RP_EINVAL, "slot");
}

Test(avro_check, varints) {
    wbuf w = {.n = 0};
    /* An event_id length in 11 bytes. */
    for (int i = 0; i < 10; i++)
        w_byte(&w, 0x80);
    w_byte(&w, 0x00);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "longer than 10 bytes");
    /* Ten bytes whose last carries more than bit 63. */
    w.n = 0;
    for (int i = 0; i < 9; i++)
        w_byte(&w, 0xff);
    w_byte(&w, 0x02);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "overflows a 64-bit");
    /* A varint cut short. */
    w.n = 0;
    w_byte(&w, 0x80);
    expect_check(RP_REC_DELIVERY, &w, RP_ETRUNC, "inside a varint");
    /* A ten-byte event_time of INT64_MIN is fine. */
    wbuf v = {.n = 0};
    w_str(&v, "e");
    w_str(&v, "a");
    w_long(&v, INT64_MIN);
    cr_assert_eq(v.n, 4 + 10);
    w_str(&v, "m");
    w_str(&v, "r");
    w_long(&v, 0);
    w_raw(&v, "\0\0\1", 3);
    expect_check(RP_REC_DELIVERY, &v, (int)v.n, NULL);
    /* An int (incidents) of more than 32 bits, of exactly 32, and in six
     * bytes. */
    wbuf head = {.n = 0};
    w_head(&head, "e", "a", 0);
    w_long(&head, 0);
    w = head;
    w_raw(&w, "\xff\xff\xff\xff\x1f", 5);
    expect_check(RP_REC_REPORT, &w, RP_EBADDATA,
                 "Report.incidents at byte 6: varint overflows a 32-bit");
    w = head;
    w_raw(&w, "\xff\xff\xff\xff\x0f", 5);
    w_raw(&w, "\0\0\0\0", 4);
    expect_check(RP_REC_REPORT, &w, (int)w.n, NULL);
    w = head;
    w_raw(&w, "\x80\x80\x80\x80\x80\x00", 6);
    expect_check(RP_REC_REPORT, &w, RP_EBADDATA, "longer than 5 bytes");
}

Test(avro_check, lengths) {
    wbuf w = {.n = 0};
    w_long(&w, -1);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "negative");
    w.n = 0;
    w_long(&w, 5);
    w_raw(&w, "abc", 3);
    expect_check(RP_REC_DELIVERY, &w, RP_ETRUNC, "only 3 bytes remain");
    w.n = 0;
    w_long(&w, INT64_MAX);
    expect_check(RP_REC_DELIVERY, &w, RP_ETRUNC, "Delivery.event_id");
}

Test(avro_check, unions_enums_booleans) {
    wbuf w;
    delivery_head(&w);
    w_long(&w, 2);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA,
                 "Delivery.sent_time at byte 9: union branch 2 is out of "
                 "range (2 branches)");
    delivery_head(&w);
    w_long(&w, -1);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "union branch -1");
    delivery_head(&w);
    w_long(&w, 0);
    w_byte(&w, 2);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA,
                 "Delivery.verified_recipient");
    delivery_ok(&w);
    w.b[w.n - 2] = 0xff; /* feedback_loop, before the tenant */
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "boolean byte is 0xff");
    /* The tenant's union index, out of range, and cut short. */
    delivery_ok(&w);
    w.b[w.n - 1] = 4;
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA,
                 "Delivery.tenant at byte 13: union branch 2 is out of range");
    w.b[w.n - 1] = 2;
    w_long(&w, 5);
    w_raw(&w, "ab", 2);
    expect_check(RP_REC_DELIVERY, &w, RP_ETRUNC, "Delivery.tenant");

    /* Bounce types: 3 symbols, so 3 is out of range; subtypes: 9. */
    w.n = 0;
    w_head(&w, "e", "a", 0);
    w_str(&w, "m");
    w_str(&w, "r");
    w_long(&w, 0);
    size_t at = w.n;
    w_long(&w, 3);
    expect_check(RP_REC_BOUNCE, &w, RP_EBADDATA,
                 "Bounce.bounce_type at byte 10: enum index 3 is out of range "
                 "(3 symbols)");
    w.n = at;
    w_long(&w, -1);
    expect_check(RP_REC_BOUNCE, &w, RP_EBADDATA, "enum index -1");
    w.n = at;
    w_long(&w, 2);
    w_long(&w, 9);
    expect_check(RP_REC_BOUNCE, &w, RP_EBADDATA, "Bounce.bounce_subtype");
    w.n -= 1;
    w_long(&w, 8);
    w_raw(&w, "\0\0", 2);
    w_long(&w, 1);
    w_str(&w, "diag");
    expect_check(RP_REC_BOUNCE, &w, (int)w.n, NULL);

    /* ReportKind has 12 symbols; Action.issue is a nullable IssueKind. */
    w.n = 0;
    w_head(&w, "e", "a", 0);
    w_long(&w, 12);
    expect_check(RP_REC_REPORT, &w, RP_EBADDATA, "12 symbols");
    w.n = 0;
    w_head(&w, "e", "a", 0);
    w_long(&w, 8);
    w_long(&w, 1);
    w_long(&w, 14);
    expect_check(RP_REC_ACTION, &w, RP_EBADDATA,
                 "Action.issue at byte 7: enum index 14 is out of range (14 "
                 "symbols)");
}

Test(avro_check, utf8) {
    const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"plain", true},
        {"m\xc3\xbcller", true},
        {"\xe6\x97\xa5\xe6\x9c\xac", true},
        {"\xf0\x9f\x98\x80", true},
        {"\xef\xbf\xbf", true},
        {"\xff", false},
        {"\xc3", false},             /* cut short */
        {"\xc0\xaf", false},         /* overlong */
        {"\xe0\x80\xaf", false},     /* overlong */
        {"\xed\xa0\x80", false},     /* a surrogate */
        {"\xf4\x90\x80\x80", false}, /* above U+10FFFF */
        {"ok\x80", false},           /* a lone continuation byte */
        /* Past the first eight-byte block, and across its edge. */
        {"abcdefgh\xc3\xbc"
         "abcdefgh",
         true},
        {"abcdefg\xc3\xbc", true},
        {"abcdefghij\xff", false},
        {"abcdefghijklmnop\xe2\x82", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wbuf w = {.n = 0};
        w_head(&w, "e", cases[i].s, 0);
        w_str(&w, "m");
        w_str(&w, "r");
        w_long(&w, 0);
        w_raw(&w, "\0\0\1", 3);
        int rc = check(RP_REC_DELIVERY, &w);
        if (cases[i].ok)
            cr_assert_eq(rc, (int)w.n, "case %zu: %s", i, err);
        else {
            cr_assert_eq(rc, RP_EBADDATA, "case %zu: %d", i, rc);
            cr_assert_not_null(strstr(err, "Delivery.account_id"), "%s", err);
            cr_assert_not_null(strstr(err, "UTF-8"), "%s", err);
        }
        expect_check(RP_REC_DELIVERY, &w, rc, NULL);
    }
}

/* A complaint whose recipients come in the given blocks. A negative count
 * in counts[] is written with the block's byte size (plus size_skew). */
static void complaint_with_blocks(wbuf *w, const int *counts, size_t n_blocks,
                                  int size_skew) {
    w->n = 0;
    w_head(w, "e", "a", 0);
    w_str(w, "m");
    int next = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        int count = counts[b];
        int items = count < 0 ? -count : count;
        wbuf block = {.n = 0};
        for (int i = 0; i < items; i++) {
            char name[16];
            snprintf(name, sizeof(name), "r%d", next++);
            w_str(&block, name);
        }
        w_long(w, count);
        if (count < 0)
            w_long(w, (int64_t)block.n + size_skew);
        w_raw(w, block.b, block.n);
    }
    w_long(w, 0); /* end of recipients */
    w_long(w, 0); /* sent_time null */
    w_long(w, 0); /* ABUSE */
    w_byte(w, 0); /* on_suppression_list */
    w_byte(w, 0); /* simulator */
}

Test(avro_check, array_blocks) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    wbuf w;
    rp_record got;
    /* Three blocks, one of them with a negative count and a byte size. */
    const int blocks[] = {2, -3, 1};
    complaint_with_blocks(&w, blocks, 3, 0);
    expect_check(RP_REC_COMPLAINT, &w, (int)w.n, NULL);
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_COMPLAINT, w.b, w.n, &got, err, sizeof(err)),
        0, "%s", err);
    cr_assert_eq(got.u.complaint.n_recipients, 6);
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof(name), "r%d", i);
        assert_str(got.u.complaint.recipients[i], rp_str_c(name), "recipient");
    }
    /* A byte size that does not match the items. */
    complaint_with_blocks(&w, blocks, 3, 1);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA,
                 "array block says 10 bytes but its items take 9");
    complaint_with_blocks(&w, blocks, 3, -1);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA, "array block says");
    /* A byte size that is negative, or past the end. */
    w.n = 0;
    w_head(&w, "e", "a", 0);
    w_str(&w, "m");
    w_long(&w, -1);
    w_long(&w, -1);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA, "block size -1");
    w.n -= 1;
    w_long(&w, 1000);
    expect_check(RP_REC_COMPLAINT, &w, RP_ETRUNC, "block of 1000 bytes");
    /* A count that the remaining bytes cannot hold. */
    wbuf head = {.n = 0};
    w_head(&head, "e", "a", 0);
    w_str(&head, "m");
    w = head;
    w_long(&w, 60000);
    w_raw(&w, "\0\0\0\0", 4);
    expect_check(RP_REC_COMPLAINT, &w, RP_ETRUNC,
                 "block of 60000 items but only 4 bytes remain");
    /* Counts too large to be real, and the one that cannot be negated. */
    w = head;
    w_long(&w, INT64_MAX);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA, "more than");
    w = head;
    w_long(&w, INT64_MIN);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA, "out of range");
    rp_avro_codec_destroy(c);
}

/* rp_avro_check over many garbage inputs never reads past the end and
 * always gives a reason. */
Test(avro_check, garbage_has_reasons) {
    rng_seed(7);
    for (int slot = 0; slot < RP_SCHEMA_ID__COUNT; slot++) {
        for (int i = 0; i < 2000; i++) {
            wbuf w = {.n = rng_below(64)};
            for (size_t k = 0; k < w.n; k++)
                w.b[k] = (uint8_t)rng();
            int rc = check(slot, &w);
            if (rc < 0) {
                cr_assert(rc == RP_ETRUNC || rc == RP_EBADDATA, "%d", rc);
                cr_assert(err[0]);
            } else {
                cr_assert_leq((size_t)rc, w.n);
                cr_assert_gt(rc, 0);
            }
        }
    }
}

/* rp_avro_check_walk() is rp_avro_check() with recording: over random
 * bytes and mutated encodings of every schema (ReputationEvent included,
 * whose nested records are not recorded) it gives the same result and the
 * same reason, and never stores more string items than it has room for. */
Test(avro_check, walk_agrees_with_check) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    static uint8_t buf[8192];
    static char werr[sizeof(err)];
    rp_str items[3];
    rp_avro_walk walk;
    rng_seed(99);
    for (int slot = 0; slot < RP_SCHEMA_ID__COUNT; slot++) {
        size_t len = 0;
        uint8_t *bytes;
        if (slot < RP_REC__COUNT) {
            rp_record r;
            sample_record(&r, (rp_rec_type)slot, true);
            bytes = encode_copy(c, &r, &len);
        } else {
            sample_event s;
            sample_event_fill(&s, 0);
            bytes = encode_event_copy(c, &s.ev, &len);
        }
        for (int i = 0; i < 4000; i++) {
            size_t n;
            if (i % 2) {
                memcpy(buf, bytes, len);
                n = i == 1 ? len : mutate(buf, len, sizeof(buf));
            } else {
                n = rng_below(96);
                for (size_t k = 0; k < n; k++)
                    buf[k] = (uint8_t)rng() & (i % 4 ? 0x07 : 0xff);
            }
            uint8_t *q = copy_of(buf, n);
            err[0] = werr[0] = '\0';
            walk.items = items;
            walk.items_cap = 2;
            int rc = rp_avro_check(slot, q, n, err, sizeof(err));
            int rw = rp_avro_check_walk(slot, q, n, &walk, werr, sizeof(werr));
            cr_assert_eq(rw, rc, "slot %d: walk %d (%s), check %d (%s)", slot,
                         rw, werr, rc, err);
            cr_assert_str_eq(werr, err);
            cr_assert_leq(walk.n_fields, RP_AVRO_WALK_FIELDS);
            if (rc > 0 && slot == RP_SCHEMA_ID_STATUS)
                cr_assert_eq(walk.n_fields, 8);
            free(q);
        }
        free(bytes);
    }
    rp_avro_codec_destroy(c);
}

/* What the walk records of a sample ReputationEvent: its top-level fields
 * only, with the union branches of the two parts. */
Test(avro_check, walk_records_top_level_fields) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    sample_event s;
    sample_event_fill(&s, 0);
    size_t len;
    uint8_t *bytes = encode_event_copy(c, &s.ev, &len);
    rp_avro_walk walk = {.items = NULL, .items_cap = 0};
    cr_assert_eq(rp_avro_check_walk(RP_SCHEMA_ID_STATUS, bytes, len, &walk, err,
                                    sizeof(err)),
                 (int)len, "%s", err);
    cr_assert_eq(walk.n_fields, 8);
    cr_assert_eq(walk.field[1].len, s.ev.account_id.len);
    cr_assert(memcmp(walk.field[1].str, s.ev.account_id.ptr,
                     s.ev.account_id.len) == 0);
    cr_assert_eq(walk.field[2].num, (int64_t)s.ev.sequence);
    cr_assert_eq(walk.field[3].num, s.ev.event_time);
    cr_assert_eq(walk.field[4].num, RP_EVENT_STATUS_CHANGE);
    cr_assert_eq(walk.field[5].branch, 1);
    cr_assert_eq(walk.field[6].branch, 0);
    cr_assert_eq(walk.field[7].branch, 1);
    cr_assert_eq(walk.field[7].len, s.ev.tenant.len);
    free(bytes);
    rp_avro_codec_destroy(c);
}

/* ---------------------------------------------------------------- direct */

/* Complaints whose recipients outgrow the codec's array, in blocks with and
 * without byte sizes, then shrink again: both decoders agree throughout,
 * and the direct one's recipients point into the input. */
Test(avro_direct, recipients_grow_and_shrink) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    const int plans[][3] = {{0, 0, 0},    {1, 0, 0},      {2, -3, 1},
                            {-40, 7, -1}, {100, -100, 3}, {5, 0, 0},
                            {0, 0, 0},    {-250, 0, 0},   {1, 1, 1}};
    for (size_t k = 0; k < sizeof(plans) / sizeof(plans[0]); k++) {
        int blocks[3];
        size_t n_blocks = 0, total = 0;
        for (int b = 0; b < 3; b++)
            if (plans[k][b] != 0) {
                blocks[n_blocks++] = plans[k][b];
                total += (size_t)abs(plans[k][b]);
            }
        static wbuf w;
        complaint_with_blocks(&w, blocks, n_blocks, 0);
        uint8_t *q = copy_of(w.b, w.n);
        rp_record got;
        cr_assert_eq(decode_both(c, cg, RP_REC_COMPLAINT, q, w.n, &got), 0,
                     "plan %zu: %s", k, err);
        cr_assert_eq(got.u.complaint.n_recipients, total, "plan %zu", k);
        for (size_t i = 0; i < total; i++) {
            char name[24];
            snprintf(name, sizeof(name), "r%zu", i);
            assert_str(got.u.complaint.recipients[i], rp_str_c(name),
                       "recipient");
        }
        free(q);
    }
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

/* With the Confluent framing the strings point past the header, into the
 * caller's buffer; a second decode does not disturb the first input. */
Test(avro_direct, strings_borrow_the_input) {
    rp_avro_codec *c = new_codec(RP_FRAMING_CONFLUENT);
    rp_record r, got, other;
    size_t len, len2;
    sample_record(&r, RP_REC_BOUNCE, true);
    uint8_t *bytes = encode_copy(c, &r, &len);
    sample_record(&r, RP_REC_REPORT, true);
    uint8_t *bytes2 = encode_copy(c, &r, &len2);
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_BOUNCE, bytes, len, &got, err, sizeof(err)), 0,
        "%s", err);
    /* Header (5), event_id's length (1) and bytes (11), account_id's
     * length (1). */
    cr_assert_eq((const uint8_t *)got.event_id.ptr, bytes + 6);
    cr_assert_eq((const uint8_t *)got.account_id.ptr, bytes + 6 + 11 + 1);
    rp_str diag = got.u.bounce.diagnostic;
    /* The tenant comes last: its length (1 byte) after the branch (1). */
    cr_assert_eq((const uint8_t *)diag.ptr + diag.len,
                 bytes + len - got.tenant.len - 2);
    cr_assert_eq((const uint8_t *)got.tenant.ptr + got.tenant.len, bytes + len);
    cr_assert_eq(rp_avro_decode(c, RP_REC_REPORT, bytes2, len2, &other, err,
                                sizeof(err)),
                 0, "%s", err);
    assert_str(diag, rp_str_c("550 5.1.1 user unknown"), "diagnostic");
    free(bytes);
    free(bytes2);
    rp_avro_codec_destroy(c);
}
