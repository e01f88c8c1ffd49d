/*
 * jsonl_write.c - JSON lines out: rp_jsonl_write_event() and
 * rp_jsonl_write_record() (repute/jsonl.h, docs/rules.md section 9).
 *
 * Output is formatted by hand into a caller's rp_buf, so that writing an
 * event allocates nothing once the buffer has grown to the largest line.
 * The writer keeps a sticky error: every put_* helper does nothing after
 * the first failed append, and the public function checks the error once
 * at the end and cuts the buffer back to where it started, so a failed
 * write never leaves half a line behind. Fields come in schema order.
 * Doubles are written in the shortest of %.15g, %.16g and %.17g that
 * strtod() reads back as the same double (repute never calls setlocale(),
 * so the decimal point is '.'); a NaN or an infinity, which JSON cannot
 * express, is written as null. Strings are escaped as JSON requires ('"',
 * '\\' and the control characters, these as \u00XX); valid UTF-8 (utf8.h,
 * the rule the Avro validator also follows) passes through unchanged and
 * every byte that is not part of a valid UTF-8 sequence becomes U+FFFD, so
 * the output is always valid JSON whatever bytes an account id held.
 */
#include "repute/jsonl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/utf8.h"
#include "repute/acctstate.h"

/* ---------------------------------------------------------------- writer */

/* A writer over an rp_buf with a sticky error (see the top of the file). */
typedef struct writer {
    rp_buf *b;
    size_t start; /* the length of b when the write began */
    int err;
} writer;

static writer writer_begin(rp_buf *b) {
    writer w = {b, b->len, 0};
    return w;
}

/* Ends a write: on error, cuts the buffer back to where it began. */
static int writer_end(writer *w) {
    if (w->err) {
        w->b->len = w->start;
        if (w->b->data)
            w->b->data[w->b->len] = '\0';
    }
    return w->err;
}

static void put_bytes(writer *w, const char *p, size_t n) {
    if (!w->err && rp_buf_append(w->b, p, n) != 0)
        w->err = RP_ENOMEM;
}

/* Appends a string literal (its length known at compile time). */
#define PUT_LIT(w, lit) put_bytes((w), (lit), sizeof(lit) - 1)

static void put_cstr(writer *w, const char *s) {
    put_bytes(w, s, strlen(s));
}

static void put_u64(writer *w, uint64_t v) {
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_bytes(w, tmp + i, sizeof(tmp) - i);
}

static void put_i64(writer *w, int64_t v) {
    if (v < 0) {
        PUT_LIT(w, "-");
        /* Negated in unsigned arithmetic, so that INT64_MIN works too. */
        put_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(w, (uint64_t)v);
    }
}

static void put_bool(writer *w, bool v) {
    if (v)
        PUT_LIT(w, "true");
    else
        PUT_LIT(w, "false");
}

/* Appends the escaped body of a JSON string (without the quotes). */
static void put_string_body(writer *w, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* bytes before i that pass through unchanged */
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = rp_utf8_seq(p + i, len - i);
            if (n) {
                i += n;
                continue;
            }
        }
        /* c needs an escape: flush the run before it. */
        put_bytes(w, s + run, i - run);
        if (c == '"')
            PUT_LIT(w, "\\\"");
        else if (c == '\\')
            PUT_LIT(w, "\\\\");
        else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put_bytes(w, esc, sizeof(esc));
        } else
            PUT_LIT(w, "\\ufffd"); /* a byte that is not valid UTF-8 */
        i++;
        run = i;
    }
    put_bytes(w, s + run, len - run);
}

static void put_string(writer *w, const char *s, size_t len) {
    PUT_LIT(w, "\"");
    put_string_body(w, s, len);
    PUT_LIT(w, "\"");
}

/* A non-nullable string: a null rp_str is written as "". */
static void put_str(writer *w, rp_str s) {
    put_string(w, s.ptr ? s.ptr : "", s.ptr ? s.len : 0);
}

/* A nullable string. */
static void put_str_or_null(writer *w, rp_str s) {
    if (s.ptr)
        put_string(w, s.ptr, s.len);
    else
        PUT_LIT(w, "null");
}

/* An enum symbol (the tables hold nothing that needs escaping). */
static void put_symbol(writer *w, const char *name) {
    PUT_LIT(w, "\"");
    put_cstr(w, name);
    PUT_LIT(w, "\"");
}

static void put_time_or_null(writer *w, bool has, int64_t t) {
    if (has)
        put_i64(w, t);
    else
        PUT_LIT(w, "null");
}

static void put_double(writer *w, double d) {
    char tmp[32];
    if (!isfinite(d)) {
        PUT_LIT(w, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d)
            break;
    }
    put_cstr(w, tmp);
}

static void put_double_or_null(writer *w, bool has, double d) {
    if (has)
        put_double(w, d);
    else
        PUT_LIT(w, "null");
}

int rp_jsonl_write_string(rp_buf *out, const char *s, size_t len) {
    writer w = writer_begin(out);
    put_string(&w, s ? s : "", s ? len : 0);
    return writer_end(&w);
}

int rp_jsonl_write_double(rp_buf *out, double d) {
    writer w = writer_begin(out);
    put_double(&w, d);
    return writer_end(&w);
}

int rp_jsonl_write_double_or_null(rp_buf *out, bool has, double d) {
    writer w = writer_begin(out);
    put_double_or_null(&w, has, d);
    return writer_end(&w);
}

int rp_jsonl_write_time(rp_buf *out, bool has, int64_t t) {
    writer w = writer_begin(out);
    put_time_or_null(&w, has, t);
    return writer_end(&w);
}

/* ---------------------------------------------------------------- events */

static void put_metric(writer *w, const rp_metric_snapshot *m) {
    PUT_LIT(w, "{\"status\":");
    put_symbol(w, rp_issue_status_name(m->status));
    PUT_LIT(w, ",\"rate\":");
    put_double_or_null(w, m->has_rate, m->rate);
    PUT_LIT(w, ",\"count\":");
    put_i64(w, m->count);
    PUT_LIT(w, ",\"volume\":");
    put_i64(w, m->volume);
    PUT_LIT(w, ",\"window_start\":");
    put_i64(w, m->window_start);
    PUT_LIT(w, ",\"window_end\":");
    put_i64(w, m->window_end);
    PUT_LIT(w, "}");
}

static void put_issues(writer *w, const rp_issue_state *issues, size_t n);

static void put_status_change(writer *w, const rp_status_change *sc) {
    PUT_LIT(w, "{\"previous_status\":");
    put_symbol(w, rp_account_status_name(sc->previous_status));
    PUT_LIT(w, ",\"status\":");
    put_symbol(w, rp_account_status_name(sc->status));
    PUT_LIT(w, ",\"cause\":");
    put_symbol(w, rp_issue_kind_name(sc->cause));
    PUT_LIT(w, ",\"review_ends_at\":");
    put_time_or_null(w, sc->has_review_end, sc->review_ends_at);
    PUT_LIT(w, ",\"bounce\":");
    put_metric(w, &sc->bounce);
    PUT_LIT(w, ",\"complaint\":");
    put_metric(w, &sc->complaint);
    PUT_LIT(w, ",\"issues\":");
    put_issues(w, sc->issues, sc->n_issues);
    PUT_LIT(w, "}");
}

/* The IssueState array of a StatusChange or an AccountState. */
static void put_issues(writer *w, const rp_issue_state *issues, size_t n) {
    PUT_LIT(w, "[");
    n = n < RP_ISSUE__COUNT ? n : RP_ISSUE__COUNT;
    for (size_t i = 0; i < n; i++) {
        const rp_issue_state *is = &issues[i];
        if (i)
            PUT_LIT(w, ",");
        PUT_LIT(w, "{\"kind\":");
        put_symbol(w, rp_issue_kind_name(is->kind));
        PUT_LIT(w, ",\"status\":");
        put_symbol(w, rp_issue_status_name(is->status));
        PUT_LIT(w, ",\"since\":");
        put_i64(w, is->since);
        PUT_LIT(w, ",\"review_ends_at\":");
        put_time_or_null(w, is->has_review_end, is->review_ends_at);
        PUT_LIT(w, "}");
    }
    PUT_LIT(w, "]");
}

static void put_notification(writer *w, const rp_notification *n) {
    PUT_LIT(w, "{\"issue\":");
    put_symbol(w, rp_issue_kind_name(n->issue));
    PUT_LIT(w, ",\"stage\":");
    put_symbol(w, rp_stage_name(n->stage));
    PUT_LIT(w, ",\"account_status\":");
    put_symbol(w, rp_account_status_name(n->account_status));
    PUT_LIT(w, ",\"title\":");
    put_str(w, rp_str_c(n->title));
    PUT_LIT(w, ",\"why\":");
    put_str(w, rp_str_c(n->why));
    PUT_LIT(w, ",\"actions\":[");
    size_t na = n->n_actions < RP_NOTICE_MAX_ACTIONS ? n->n_actions
                                                     : RP_NOTICE_MAX_ACTIONS;
    for (size_t i = 0; i < na; i++) {
        if (i)
            PUT_LIT(w, ",");
        put_str(w, rp_str_c(n->actions[i]));
    }
    PUT_LIT(w, "],\"rate\":");
    put_double_or_null(w, n->has_rate, n->rate);
    PUT_LIT(w, ",\"threshold\":");
    put_double_or_null(w, n->has_threshold, n->threshold);
    PUT_LIT(w, ",\"review_ends_at\":");
    put_time_or_null(w, n->has_review_end, n->review_ends_at);
    PUT_LIT(w, "}");
}

int rp_jsonl_write_event(rp_buf *out, const rp_event *ev) {
    writer w = writer_begin(out);
    const char *aid = ev->account_id.ptr ? ev->account_id.ptr : "";
    size_t aid_len = ev->account_id.ptr ? ev->account_id.len : 0;

    PUT_LIT(&w, "{\"event_id\":\"");
    put_string_body(&w, aid, aid_len);
    PUT_LIT(&w, ":");
    put_u64(&w, ev->sequence);
    PUT_LIT(&w, "\",\"account_id\":");
    put_string(&w, aid, aid_len);
    PUT_LIT(&w, ",\"sequence\":");
    put_u64(&w, ev->sequence);
    PUT_LIT(&w, ",\"event_time\":");
    put_i64(&w, ev->event_time);
    PUT_LIT(&w, ",\"kind\":");
    put_symbol(&w, rp_event_kind_name(ev->kind));
    PUT_LIT(&w, ",\"status_change\":");
    if (ev->kind == RP_EVENT_STATUS_CHANGE && ev->status_change)
        put_status_change(&w, ev->status_change);
    else
        PUT_LIT(&w, "null");
    PUT_LIT(&w, ",\"notification\":");
    if (ev->kind == RP_EVENT_NOTIFICATION && ev->notification)
        put_notification(&w, ev->notification);
    else
        PUT_LIT(&w, "null");
    /* Like every nullable field, written as null rather than left out. */
    PUT_LIT(&w, ",\"tenant\":");
    put_str_or_null(&w, ev->tenant);
    PUT_LIT(&w, "}\n");
    return writer_end(&w);
}

int rp_jsonl_write_account_state(rp_buf *out, const rp_account_state *st) {
    writer w = writer_begin(out);
    PUT_LIT(&w, "{\"account_id\":");
    put_str(&w, st->account_id);
    PUT_LIT(&w, ",\"status\":");
    put_symbol(&w, rp_account_status_name(st->status));
    PUT_LIT(&w, ",\"since\":");
    put_i64(&w, st->since);
    PUT_LIT(&w, ",\"review_ends_at\":");
    put_time_or_null(&w, st->has_review_end, st->review_ends_at);
    PUT_LIT(&w, ",\"issues\":");
    put_issues(&w, st->issues, st->n_issues);
    PUT_LIT(&w, ",\"sequence\":");
    put_u64(&w, st->sequence);
    /* Always written (empty without tenants), as the schema's default. */
    PUT_LIT(&w, ",\"tenants\":[");
    rp_acctstate_iter it;
    rp_tenant_state t;
    rp_acctstate_tenant_begin(st, &it);
    for (size_t i = 0; rp_acctstate_tenant_next(&it, &t); i++) {
        if (i)
            PUT_LIT(&w, ",");
        PUT_LIT(&w, "{\"tenant\":");
        put_str(&w, t.tenant);
        PUT_LIT(&w, ",\"status\":");
        put_symbol(&w, rp_account_status_name(t.status));
        PUT_LIT(&w, ",\"since\":");
        put_i64(&w, t.since);
        PUT_LIT(&w, ",\"review_ends_at\":");
        put_time_or_null(&w, t.has_review_end, t.review_ends_at);
        PUT_LIT(&w, ",\"issues\":");
        put_issues(&w, t.issues, t.n_issues);
        PUT_LIT(&w, "}");
    }
    PUT_LIT(&w, "]}\n");
    return writer_end(&w);
}

/* ---------------------------------------------------------------- records */

/* The head that deliveries and bounces share: one message, one recipient. */
static void put_message(writer *w, rp_str message_id, rp_str recipient,
                        bool has_sent_time, int64_t sent_time) {
    PUT_LIT(w, ",\"message_id\":");
    put_str(w, message_id);
    PUT_LIT(w, ",\"recipient\":");
    put_str(w, recipient);
    PUT_LIT(w, ",\"sent_time\":");
    put_time_or_null(w, has_sent_time, sent_time);
}

static void put_delivery(writer *w, const rp_delivery *d) {
    put_message(w, d->message_id, d->recipient, d->has_sent_time, d->sent_time);
    PUT_LIT(w, ",\"verified_recipient\":");
    put_bool(w, d->verified_recipient);
    PUT_LIT(w, ",\"simulator\":");
    put_bool(w, d->simulator);
    PUT_LIT(w, ",\"feedback_loop\":");
    put_bool(w, d->feedback_loop);
}

static void put_bounce(writer *w, const rp_bounce *b) {
    put_message(w, b->message_id, b->recipient, b->has_sent_time, b->sent_time);
    PUT_LIT(w, ",\"bounce_type\":");
    put_symbol(w, rp_bounce_type_name(b->bounce_type));
    PUT_LIT(w, ",\"bounce_subtype\":");
    put_symbol(w, rp_bounce_subtype_name(b->bounce_subtype));
    PUT_LIT(w, ",\"verified_recipient\":");
    put_bool(w, b->verified_recipient);
    PUT_LIT(w, ",\"simulator\":");
    put_bool(w, b->simulator);
    PUT_LIT(w, ",\"diagnostic\":");
    put_str_or_null(w, b->diagnostic);
}

static void put_complaint(writer *w, const rp_complaint *c) {
    PUT_LIT(w, ",\"message_id\":");
    put_str(w, c->message_id);
    PUT_LIT(w, ",\"recipients\":[");
    for (size_t i = 0; i < c->n_recipients; i++) {
        if (i)
            PUT_LIT(w, ",");
        put_str(w, c->recipients[i]);
    }
    PUT_LIT(w, "],\"sent_time\":");
    put_time_or_null(w, c->has_sent_time, c->sent_time);
    PUT_LIT(w, ",\"feedback_type\":");
    put_symbol(w, rp_feedback_type_name(c->feedback_type));
    PUT_LIT(w, ",\"on_suppression_list\":");
    put_bool(w, c->on_suppression_list);
    PUT_LIT(w, ",\"simulator\":");
    put_bool(w, c->simulator);
}

static void put_report(writer *w, const rp_report *r) {
    PUT_LIT(w, ",\"kind\":");
    put_symbol(w, rp_issue_kind_name(r->kind));
    PUT_LIT(w, ",\"incidents\":");
    put_i64(w, r->incidents);
    PUT_LIT(w, ",\"domain\":");
    put_str_or_null(w, r->domain);
    PUT_LIT(w, ",\"related_account_id\":");
    put_str_or_null(w, r->related_account_id);
    PUT_LIT(w, ",\"reporter\":");
    put_str_or_null(w, r->reporter);
    PUT_LIT(w, ",\"detail\":");
    put_str_or_null(w, r->detail);
}

static void put_action(writer *w, const rp_action *a) {
    PUT_LIT(w, ",\"action\":");
    put_symbol(w, rp_action_type_name(a->action));
    PUT_LIT(w, ",\"issue\":");
    if (a->has_issue)
        put_symbol(w, rp_issue_kind_name(a->issue));
    else
        PUT_LIT(w, "null");
    PUT_LIT(w, ",\"effective_time\":");
    put_time_or_null(w, a->has_effective_time, a->effective_time);
    PUT_LIT(w, ",\"related_account_id\":");
    put_str_or_null(w, a->related_account_id);
    PUT_LIT(w, ",\"note\":");
    put_str_or_null(w, a->note);
}

int rp_jsonl_write_record(rp_buf *out, const rp_record *rec) {
    writer w = writer_begin(out);

    PUT_LIT(&w, "{\"type\":");
    put_symbol(&w, rp_rec_type_name(rec->type));
    PUT_LIT(&w, ",\"event_id\":");
    put_str(&w, rec->event_id);
    PUT_LIT(&w, ",\"account_id\":");
    put_str(&w, rec->account_id);
    PUT_LIT(&w, ",\"event_time\":");
    put_i64(&w, rec->event_time);
    switch (rec->type) {
    case RP_REC_DELIVERY: put_delivery(&w, &rec->u.delivery); break;
    case RP_REC_BOUNCE: put_bounce(&w, &rec->u.bounce); break;
    case RP_REC_COMPLAINT: put_complaint(&w, &rec->u.complaint); break;
    case RP_REC_REPORT: put_report(&w, &rec->u.report); break;
    case RP_REC_ACTION: put_action(&w, &rec->u.action); break;
    default: break;
    }
    /* Schema order: tenant after the type's own fields, then the Action's
     * actor (both appended to the schemas after the first release). */
    PUT_LIT(&w, ",\"tenant\":");
    put_str_or_null(&w, rec->tenant);
    if (rec->type == RP_REC_ACTION) {
        PUT_LIT(&w, ",\"actor\":");
        put_str_or_null(&w, rec->u.action.actor);
    }
    PUT_LIT(&w, "}\n");
    return writer_end(&w);
}
