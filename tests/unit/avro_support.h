/*
 * avro_support.h - what the tests of the Avro codec share
 * (test_avro_schema.c, test_avro_roundtrip.c, test_avro_robust.c,
 * test_avro_contract.c, test_avro_check.c): codecs, exact-size copies, a
 * seeded random source, a little Avro writer for hand-made byte strings,
 * sample records and events with every field set or every optional one
 * null, and the checks that hold two records or events to each other.
 *
 * rp_avro_decode() reads input records by itself, in the validator's walk;
 * rp_avro_decode_generic() reads them with avro-c. The two must agree
 * exactly, so wherever a test decodes an input record it decodes it both
 * ways, on two codecs (decode_both), and holds the results to each other:
 * the same return code and reason and, on success, the same record field
 * by field, values under a null flag included. The direct decoder's
 * strings must also point into the input.
 *
 * Inputs are copied into heap buffers of exactly their length, and
 * encoded strings are taken from buffers without a terminating NUL, so
 * that under AddressSanitizer any read past the end is caught.
 *
 * Everything is static inline (the data static), so that each test
 * program takes what it uses without a warning for the rest.
 */
#ifndef REPUTE_TEST_AVRO_SUPPORT_H
#define REPUTE_TEST_AVRO_SUPPORT_H

#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_walk.h"
#include "copy_of.h"
#include "repute/avro.h"

/* ---------------------------------------------------------------- helpers */

static const int32_t schema_ids[RP_SCHEMA_ID__COUNT] = {11, 22, 33,
                                                        44, 55, 0x01020304};
static char err[512];

static inline rp_avro_codec *new_codec(rp_framing framing) {
    err[0] = '\0';
    rp_avro_codec *c = rp_avro_codec_new(
        framing, framing == RP_FRAMING_CONFLUENT ? schema_ids : NULL, err,
        sizeof(err));
    cr_assert_not_null(c, "rp_avro_codec_new: %s", err);
    return c;
}

/* xorshift64*: a fixed, portable sequence for the random tests. */
static uint64_t rng_state;
static inline void rng_seed(uint64_t s) {
    rng_state = s ? s : 1;
}
static inline uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}
static inline size_t rng_below(size_t n) {
    return n ? (size_t)(rng() % n) : 0;
}

/* A byte writer for hand-made Avro data. */
typedef struct wbuf {
    uint8_t b[8192];
    size_t n;
} wbuf;

static inline void w_byte(wbuf *w, uint8_t x) {
    cr_assert_lt(w->n, sizeof(w->b));
    w->b[w->n++] = x;
}
static inline void w_raw(wbuf *w, const void *p, size_t n) {
    cr_assert_leq(w->n + n, sizeof(w->b));
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static inline void w_long(wbuf *w, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
    while (z >= 0x80) {
        w_byte(w, (uint8_t)(z | 0x80));
        z >>= 7;
    }
    w_byte(w, (uint8_t)z);
}
static inline void w_str(wbuf *w, const char *s) {
    w_long(w, (int64_t)strlen(s));
    w_raw(w, s, strlen(s));
}
/* The three fields every input record starts with. */
static inline void w_head(wbuf *w, const char *event_id, const char *account,
                          int64_t t) {
    w_str(w, event_id);
    w_str(w, account);
    w_long(w, t);
}

static inline void assert_str(rp_str got, rp_str want, const char *what) {
    cr_assert(rp_str_eq(got, want), "%s: got %s'%.*s', want %s'%.*s'", what,
              got.ptr ? "" : "null ", (int)got.len, got.ptr ? got.ptr : "",
              want.ptr ? "" : "null ", (int)want.len, want.ptr ? want.ptr : "");
}

static inline bool same_double(double a, double b) {
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
static inline void sample_record(rp_record *r, rp_rec_type t, bool full) {
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

static inline void assert_records_equal(const rp_record *g,
                                        const rp_record *w) {
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
static inline uint8_t *encode_copy(rp_avro_codec *c, const rp_record *r,
                                   size_t *len) {
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
static inline void assert_decoders_agree(const rp_record *d,
                                         const rp_record *g) {
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
static inline bool inside(rp_str s, const uint8_t *p, size_t n) {
    const uint8_t *q = (const uint8_t *)s.ptr;
    return s.ptr == NULL || (q >= p && q + s.len <= p + n);
}

/* Every string of a directly decoded record points into its input. */
static inline void assert_borrows_input(const rp_record *r, const uint8_t *p,
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
static inline int decode_both(rp_avro_codec *cd, rp_avro_codec *cg,
                              rp_rec_type t, const uint8_t *p, size_t n,
                              rp_record *got) {
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

static inline void sample_event_fill(sample_event *s, int variant) {
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

static inline void assert_events_equal(const rp_event *g, const rp_event *w) {
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

static inline uint8_t *encode_event_copy(rp_avro_codec *c, const rp_event *ev,
                                         size_t *len) {
    const void *out;
    int rc = rp_avro_encode_event(c, ev, &out, len, err, sizeof(err));
    cr_assert_eq(rc, 0, "encode event: %s", err);
    return copy_of(out, *len);
}

/* Flips, inserts and deletes bytes of valid encodings: most results are
 * nearly valid, which reaches the corners that random bytes do not. */
static inline size_t mutate(uint8_t *buf, size_t n, size_t cap) {
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

#endif
