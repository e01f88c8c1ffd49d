/* support.c - helpers shared by the unit tests (see support.h). */
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ config */

void test_config(rp_config *cfg) {
    cr_assert_eq(rp_config_init(cfg), 0, "rp_config_init failed");
    /* Every rule key, explicitly: tests must not depend on defaults. */
    cfg->bounce_review_rate = 0.05;
    cfg->bounce_pause_rate = 0.10;
    cfg->complaint_review_rate = 0.02;
    cfg->complaint_pause_rate = 0.05;
    cfg->window_min_volume = 100;
    cfg->window_min_span = HOUR;
    cfg->window_max_span = 10 * DAY;
    cfg->rate_min_volume = 50;
    cfg->review_period = DAY;
    cfg->review_max_extensions = 2;
    cfg->pause_immediate = false;
    cfg->report_window = 7 * DAY;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        cfg->report_threshold[k] = 1;
        cfg->report_manual[k] = false;
    }
    cfg->report_threshold[RP_ISSUE_SPAMTRAP] = 3;
    cfg->report_threshold[RP_ISSUE_DOMAIN_BLOCKLIST] = 3;
    cfg->report_manual[RP_ISSUE_INTERNAL_REVIEW] = true;
    cfg->report_manual[RP_ISSUE_RELATED_ACCOUNT] = true;
    cfg->report_manual[RP_ISSUE_VULNERABLE_SITE] = true;
    cfg->report_manual[RP_ISSUE_COMPROMISED_CREDENTIALS] = true;
    cfg->report_manual[RP_ISSUE_OTHER] = true;
    cfg->dedupe_horizon = HOUR;
    cfg->dedupe_max_entries = 100000;
    cfg->clock = RP_CLOCK_EVENT;
    cfg->clock_set = true;
}

void test_config_free(rp_config *cfg) {
    rp_config_destroy(cfg);
}

rp_engine *new_engine(const rp_config *cfg) {
    char err[256] = "";
    rp_engine *e = rp_engine_new(cfg, err, sizeof(err));
    cr_assert_not_null(e, "rp_engine_new failed: %s", err);
    return e;
}

/* ------------------------------------------------------------ records */

#define ID_RING 1024
#define ID_SIZE 48
static char id_ring[ID_RING][ID_SIZE];
static size_t id_next;
static uint64_t id_counter;

static char *ring_slot(void) {
    char *s = id_ring[id_next];
    id_next = (id_next + 1) % ID_RING;
    return s;
}

rp_str next_event_id(void) {
    char *s = ring_slot();
    int n = snprintf(s, ID_SIZE, "ev-%llu", (unsigned long long)++id_counter);
    return (rp_str){s, (size_t)n};
}

static rp_record mk_base(rp_rec_type type, const char *account,
                         int64_t event_time) {
    rp_record r;
    rp_record_init(&r, type);
    r.account_id = rp_str_c(account);
    r.event_id = next_event_id();
    r.event_time = event_time;
    return r;
}

rp_record mk_delivery(const char *account, int64_t event_time) {
    rp_record r = mk_base(RP_REC_DELIVERY, account, event_time);
    r.u.delivery.message_id = rp_str_c("msg");
    r.u.delivery.recipient = rp_str_c("someone@example.com");
    return r;
}

rp_record mk_bounce(const char *account, int64_t event_time,
                    rp_bounce_type type, rp_bounce_subtype subtype) {
    rp_record r = mk_base(RP_REC_BOUNCE, account, event_time);
    r.u.bounce.message_id = rp_str_c("msg");
    r.u.bounce.recipient = rp_str_c("someone@example.com");
    r.u.bounce.bounce_type = type;
    r.u.bounce.bounce_subtype = subtype;
    return r;
}

rp_record mk_hard_bounce(const char *account, int64_t event_time) {
    return mk_bounce(account, event_time, RP_BOUNCE_PERMANENT, RP_BSUB_GENERAL);
}

static const rp_str recipients16[16] = {
    {"r0@example.com", 14}, {"r1@example.com", 14}, {"r2@example.com", 14},
    {"r3@example.com", 14}, {"r4@example.com", 14}, {"r5@example.com", 14},
    {"r6@example.com", 14}, {"r7@example.com", 14}, {"r8@example.com", 14},
    {"r9@example.com", 14}, {"ra@example.com", 14}, {"rb@example.com", 14},
    {"rc@example.com", 14}, {"rd@example.com", 14}, {"re@example.com", 14},
    {"rf@example.com", 14},
};

rp_record mk_complaint(const char *account, int64_t event_time) {
    rp_record r = mk_base(RP_REC_COMPLAINT, account, event_time);
    r.u.complaint.message_id = rp_str_c("msg");
    r.u.complaint.recipients = recipients16;
    r.u.complaint.n_recipients = 1;
    r.u.complaint.feedback_type = RP_FEEDBACK_ABUSE;
    return r;
}

rp_record mk_report(const char *account, int64_t event_time, rp_issue_kind kind,
                    int32_t incidents) {
    rp_record r = mk_base(RP_REC_REPORT, account, event_time);
    r.u.report.kind = kind;
    r.u.report.incidents = incidents;
    return r;
}

rp_record mk_action(const char *account, int64_t event_time,
                    rp_action_type action) {
    rp_record r = mk_base(RP_REC_ACTION, account, event_time);
    r.u.action.action = action;
    return r;
}

rp_record mk_action_on(const char *account, int64_t event_time,
                       rp_action_type action, rp_issue_kind issue) {
    rp_record r = mk_action(account, event_time, action);
    r.u.action.has_issue = true;
    r.u.action.issue = issue;
    return r;
}

void rec_set_sent_time(rp_record *r, int64_t sent_time) {
    switch (r->type) {
    case RP_REC_DELIVERY:
        r->u.delivery.has_sent_time = true;
        r->u.delivery.sent_time = sent_time;
        break;
    case RP_REC_BOUNCE:
        r->u.bounce.has_sent_time = true;
        r->u.bounce.sent_time = sent_time;
        break;
    case RP_REC_COMPLAINT:
        r->u.complaint.has_sent_time = true;
        r->u.complaint.sent_time = sent_time;
        break;
    default: cr_assert_fail("sent_time on a record that has none");
    }
}

void rec_set_effective_time(rp_record *r, int64_t effective_time) {
    cr_assert_eq(r->type, RP_REC_ACTION);
    r->u.action.has_effective_time = true;
    r->u.action.effective_time = effective_time;
}

void rec_set_related(rp_record *r, const char *related_account_id) {
    if (r->type == RP_REC_ACTION)
        r->u.action.related_account_id = rp_str_c(related_account_id);
    else if (r->type == RP_REC_REPORT)
        r->u.report.related_account_id = rp_str_c(related_account_id);
    else
        cr_assert_fail("related_account_id on a record that has none");
}

void rec_set_event_id(rp_record *r, const char *event_id) {
    char *s = ring_slot();
    snprintf(s, ID_SIZE, "%s", event_id);
    r->event_id = rp_str_c(s);
}

void rec_set_recipients(rp_record *r, size_t n) {
    cr_assert_eq(r->type, RP_REC_COMPLAINT);
    cr_assert_leq(n, 16);
    r->u.complaint.n_recipients = n;
}

/* ------------------------------------------------------------ capture */

static char *dup_or_null(const char *s) {
    if (!s)
        return NULL;
    char *d = strdup(s);
    cr_assert_not_null(d);
    return d;
}

static void copy_str(char *dst, size_t size, rp_str s) {
    size_t n = s.ptr ? s.len : 0;
    cr_assert_lt(n, size, "string too long to capture");
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static void on_event(void *opaque, const rp_event *ev) {
    capture *c = opaque;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->ev = realloc(c->ev, c->cap * sizeof(*c->ev));
        cr_assert_not_null(c->ev);
    }
    cap_event *x = &c->ev[c->n++];
    memset(x, 0, sizeof(*x));
    copy_str(x->account, sizeof(x->account), ev->account_id);
    x->sequence = ev->sequence;
    x->event_time = ev->event_time;
    x->kind = ev->kind;
    x->has_tenant = ev->tenant.ptr != NULL;
    copy_str(x->tenant, sizeof(x->tenant), ev->tenant);
    if (ev->kind == RP_EVENT_STATUS_CHANGE) {
        cr_assert_not_null(ev->status_change,
                           "STATUS_CHANGE without status_change");
        x->sc = *ev->status_change;
    } else {
        cr_assert_eq(ev->kind, RP_EVENT_NOTIFICATION, "unknown event kind");
        cr_assert_not_null(ev->notification,
                           "NOTIFICATION without notification");
        x->nt = *ev->notification;
        x->nt.tenant = (rp_str){NULL, 0};
        x->nt.title = dup_or_null(ev->notification->title);
        x->nt.why = dup_or_null(ev->notification->why);
        cr_assert_leq(x->nt.n_actions, RP_NOTICE_MAX_ACTIONS);
        for (size_t i = 0; i < RP_NOTICE_MAX_ACTIONS; i++)
            x->nt.actions[i] = i < x->nt.n_actions
                                   ? dup_or_null(ev->notification->actions[i])
                                   : NULL;
    }
}

static void on_report(void *opaque, const rp_record *rec) {
    capture *c = opaque;
    if (c->n_rep == c->cap_rep) {
        c->cap_rep = c->cap_rep ? 2 * c->cap_rep : 16;
        c->rep = realloc(c->rep, c->cap_rep * sizeof(*c->rep));
        cr_assert_not_null(c->rep);
    }
    cap_report *x = &c->rep[c->n_rep++];
    memset(x, 0, sizeof(*x));
    x->type = rec->type;
    copy_str(x->account, sizeof(x->account), rec->account_id);
    copy_str(x->event_id, sizeof(x->event_id), rec->event_id);
    x->event_time = rec->event_time;
    if (rec->type == RP_REC_REPORT) {
        x->kind = rec->u.report.kind;
        x->incidents = rec->u.report.incidents;
        x->has_related = rec->u.report.related_account_id.ptr != NULL;
        copy_str(x->related, sizeof(x->related),
                 rec->u.report.related_account_id);
        x->has_domain = rec->u.report.domain.ptr != NULL;
        x->has_reporter = rec->u.report.reporter.ptr != NULL;
        x->has_detail = rec->u.report.detail.ptr != NULL;
    }
}

static void on_tenant_overflow(void *opaque, rp_str account, rp_str tenant) {
    capture *c = opaque;
    (void)tenant;
    c->n_overflow++;
    copy_str(c->overflow_account, sizeof(c->overflow_account), account);
}

void capture_init(capture *c) {
    memset(c, 0, sizeof(*c));
    c->sink.opaque = c;
    c->sink.on_event = on_event;
    c->sink.on_report = on_report;
    c->sink.on_tenant_overflow = on_tenant_overflow;
}

static void free_strings(capture *c) {
    for (size_t i = 0; i < c->n; i++) {
        if (c->ev[i].kind != RP_EVENT_NOTIFICATION)
            continue;
        free((char *)c->ev[i].nt.title);
        free((char *)c->ev[i].nt.why);
        for (size_t j = 0; j < RP_NOTICE_MAX_ACTIONS; j++)
            free((char *)c->ev[i].nt.actions[j]);
    }
}

void capture_clear(capture *c) {
    free_strings(c);
    c->n = 0;
    c->n_rep = 0;
}

void capture_free(capture *c) {
    free_strings(c);
    free(c->ev);
    free(c->rep);
    memset(c, 0, sizeof(*c));
}

static bool of_account(const cap_event *x, const char *account) {
    return account == NULL || strcmp(x->account, account) == 0;
}

size_t cap_count(const capture *c, const char *account) {
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += of_account(&c->ev[i], account);
    return n;
}

size_t cap_count_kind(const capture *c, const char *account,
                      rp_event_kind kind) {
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += of_account(&c->ev[i], account) && c->ev[i].kind == kind;
    return n;
}

size_t cap_count_stage(const capture *c, const char *account, rp_stage stage) {
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += of_account(&c->ev[i], account) &&
             c->ev[i].kind == RP_EVENT_NOTIFICATION &&
             c->ev[i].nt.stage == stage;
    return n;
}

const cap_event *cap_last(const capture *c, const char *account) {
    for (size_t i = c->n; i-- > 0;)
        if (of_account(&c->ev[i], account))
            return &c->ev[i];
    return NULL;
}

const cap_event *cap_last_kind(const capture *c, const char *account,
                               rp_event_kind kind) {
    for (size_t i = c->n; i-- > 0;)
        if (of_account(&c->ev[i], account) && c->ev[i].kind == kind)
            return &c->ev[i];
    return NULL;
}

const cap_event *cap_nth(const capture *c, const char *account, size_t n) {
    for (size_t i = 0; i < c->n; i++)
        if (of_account(&c->ev[i], account) && n-- == 0)
            return &c->ev[i];
    return NULL;
}

const cap_event *cap_find_stage(const capture *c, const char *account,
                                rp_issue_kind issue, rp_stage stage) {
    for (size_t i = 0; i < c->n; i++)
        if (of_account(&c->ev[i], account) &&
            c->ev[i].kind == RP_EVENT_NOTIFICATION &&
            c->ev[i].nt.issue == issue && c->ev[i].nt.stage == stage)
            return &c->ev[i];
    return NULL;
}

rp_record cap_report_record(const cap_report *r) {
    rp_record rec;
    rp_record_init(&rec, RP_REC_REPORT);
    rec.account_id = rp_str_c(r->account);
    rec.event_id = rp_str_c(r->event_id);
    rec.event_time = r->event_time;
    rec.u.report.kind = r->kind;
    rec.u.report.incidents = r->incidents;
    if (r->has_related)
        rec.u.report.related_account_id = rp_str_c(r->related);
    return rec;
}

void capture_dump(const capture *c) {
    for (size_t i = 0; i < c->n; i++) {
        const cap_event *x = &c->ev[i];
        fprintf(stderr, "[%zu] %s #%llu t=%lld ", i, x->account,
                (unsigned long long)x->sequence, (long long)x->event_time);
        if (x->kind == RP_EVENT_STATUS_CHANGE) {
            fprintf(stderr, "STATUS_CHANGE %s -> %s cause=%s end=",
                    rp_account_status_name(x->sc.previous_status),
                    rp_account_status_name(x->sc.status),
                    rp_issue_kind_name(x->sc.cause));
            if (x->sc.has_review_end)
                fprintf(stderr, "%lld", (long long)x->sc.review_ends_at);
            else
                fprintf(stderr, "null");
            for (size_t j = 0; j < x->sc.n_issues; j++)
                fprintf(stderr, " %s:%s",
                        rp_issue_kind_name(x->sc.issues[j].kind),
                        rp_issue_status_name(x->sc.issues[j].status));
            fprintf(stderr, "\n");
        } else {
            fprintf(stderr, "NOTIFICATION %s %s account=%s\n",
                    rp_issue_kind_name(x->nt.issue), rp_stage_name(x->nt.stage),
                    rp_account_status_name(x->nt.account_status));
        }
    }
}

/* ------------------------------------------------------------ harness */

void h_config(harness *h) {
    memset(h, 0, sizeof(*h));
    test_config(&h->cfg);
    capture_init(&h->c);
}

void h_start(harness *h) {
    cr_assert_null(h->e, "engine already started");
    h->e = new_engine(&h->cfg);
}

void h_init(harness *h) {
    h_config(h);
    h_start(h);
}

void h_free(harness *h) {
    rp_engine_destroy(h->e);
    h->e = NULL;
    capture_free(&h->c);
    test_config_free(&h->cfg);
}

void feed(harness *h, const rp_record *r) {
    char err[256] = "";
    cr_assert_eq(rp_record_check(r, err, sizeof(err)), 0,
                 "test built a bad record: %s", err);
    int rc = rp_engine_apply(h->e, r, r->event_time, &h->c.sink);
    cr_assert_eq(rc, 0, "rp_engine_apply: %s", rp_strerror(rc));
}

void tick(harness *h, int64_t t) {
    int rc = rp_engine_advance(h->e, t, &h->c.sink);
    cr_assert_eq(rc, 0, "rp_engine_advance: %s", rp_strerror(rc));
}

void feed_deliveries(harness *h, const char *account, int64_t t, int n) {
    for (int i = 0; i < n; i++) {
        rp_record r = mk_delivery(account, t);
        feed(h, &r);
    }
}

void feed_hard_bounces(harness *h, const char *account, int64_t t, int n) {
    for (int i = 0; i < n; i++) {
        rp_record r = mk_hard_bounce(account, t);
        feed(h, &r);
    }
}

void feed_complaints(harness *h, const char *account, int64_t t, int n) {
    for (int i = 0; i < n; i++) {
        rp_record r = mk_complaint(account, t);
        feed(h, &r);
    }
}

void feed_captured_reports(harness *h, size_t *next) {
    while (*next < h->c.n_rep) {
        /* Copy: applying may capture more reports and move c.rep. */
        cap_report copy = h->c.rep[(*next)++];
        rp_record r = cap_report_record(&copy);
        feed(h, &r);
    }
}

rp_account_view view_of(harness *h, const char *account) {
    rp_account_view v;
    memset(&v, 0, sizeof(v));
    int rc = rp_engine_view(h->e, rp_str_c(account), &v);
    cr_assert_eq(rc, 0, "rp_engine_view(%s): %s", account, rp_strerror(rc));
    return v;
}

bool has_account(harness *h, const char *account) {
    rp_account_view v;
    return rp_engine_view(h->e, rp_str_c(account), &v) == 0;
}

rp_engine_stats stats_of(harness *h) {
    rp_engine_stats s;
    memset(&s, 0, sizeof(s));
    rp_engine_get_stats(h->e, &s);
    return s;
}
