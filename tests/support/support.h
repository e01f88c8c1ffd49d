/*
 * support.h - helpers shared by the unit tests of repute.
 *
 * - a rule configuration with small numbers, so that a test needs a few
 *   hundred records rather than millions (test_config);
 * - record builders that fill an rp_record with the defaults of docs/rules.md
 * section 2 and a unique event_id (from a counter), and "feed" helpers that
 * apply records to an engine at their event_time (clock=event) and assert
 * success;
 * - a capture sink: an rp_engine_sink that copies every output event and
 *   every produced RELATED_ACCOUNT report into growable arrays, with look-up
 *   helpers (last event of an account, count by kind or stage, ...).
 *
 * Strings inside a built record (event ids, recipients) live in a ring of
 * static buffers: a record is meant to be applied soon after it is built.
 */
#ifndef REPUTE_TEST_SUPPORT_H
#define REPUTE_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "repute/config.h"
#include "repute/engine.h"
#include "repute/record.h"
#include "repute/types.h"

/* ------------------------------------------------------------ time */

#define HOUR   RP_MS_PER_HOUR
#define DAY    RP_MS_PER_DAY
#define MINUTE (60 * RP_MS_PER_SECOND)
/* 2026-01-01T00:00:00Z: a base time aligned to the hour. */
#define T0 INT64_C(1767225600000)

/* ------------------------------------------------------------ config */

/*
 * Fills *cfg with rule settings for tests (every rule key set explicitly,
 * so tests do not depend on the defaults of docs/rules.md section 8):
 *   bounce review/pause 0.05/0.10, complaint review/pause 0.02/0.05,
 *   window.min.volume 100, window.min.span 1h, window.max.span 10d,
 *   rate.min.volume 50, review.period 1d, review.max.extensions 2,
 *   pause.immediate false, report.window 7d, thresholds and manual kinds
 *   as docs/rules.md section 8 (SPAMTRAP 3, DOMAIN_BLOCKLIST 3, others 1),
 * dedupe.horizon 1h, dedupe.max.entries 100000, clock=event. Free with
 * test_config_free().
 */
void test_config(rp_config *cfg);
void test_config_free(rp_config *cfg);

/* Creates an engine (asserting success). */
rp_engine *new_engine(const rp_config *cfg);

/* ------------------------------------------------------------ records */

/* A fresh unique event id ("ev-<n>"), valid for a while (ring buffer). */
rp_str next_event_id(void);

rp_record mk_delivery(const char *account, int64_t event_time);
/* A bounce of the given type and subtype. */
rp_record mk_bounce(const char *account, int64_t event_time,
                    rp_bounce_type type, rp_bounce_subtype subtype);
/* A PERMANENT/GENERAL bounce: a hard bounce. */
rp_record mk_hard_bounce(const char *account, int64_t event_time);
/* An ABUSE complaint with one recipient. */
rp_record mk_complaint(const char *account, int64_t event_time);
rp_record mk_report(const char *account, int64_t event_time, rp_issue_kind kind,
                    int32_t incidents);
/* An action with issue = null and effective_time = null. */
rp_record mk_action(const char *account, int64_t event_time,
                    rp_action_type action);
/* An action on one issue. */
rp_record mk_action_on(const char *account, int64_t event_time,
                       rp_action_type action, rp_issue_kind issue);

/* Field setters (sent_time of outcomes, effective_time of actions, ...). */
void rec_set_sent_time(rp_record *r, int64_t sent_time);
void rec_set_effective_time(rp_record *r, int64_t effective_time);
void rec_set_related(rp_record *r, const char *related_account_id);
void rec_set_event_id(rp_record *r, const char *event_id);
/* Gives a complaint n recipients (n <= 16). */
void rec_set_recipients(rp_record *r, size_t n);

/* ------------------------------------------------------------ capture */

typedef struct cap_event {
    char account[RP_ACCOUNT_ID_MAX + 1];
    uint64_t sequence;
    int64_t event_time;
    rp_event_kind kind;
    /* kind == STATUS_CHANGE: a full copy. */
    rp_status_change sc;
    /* kind == NOTIFICATION: a copy; title/why/actions point to heap copies
     * owned by the capture (NULL when the engine passed NULL). */
    rp_notification nt;
    /* The tenant (docs/rules.md section 10): "" and has_tenant false for
     * the account's own events. nt.tenant is left null in the copy. */
    bool has_tenant;
    char tenant[RP_TENANT_MAX + 1];
} cap_event;

typedef struct cap_report {
    rp_rec_type type;
    char account[RP_ACCOUNT_ID_MAX + 1];
    char event_id[RP_ACCOUNT_ID_MAX + 64];
    int64_t event_time;
    rp_issue_kind kind;
    int32_t incidents;
    bool has_related;
    char related[RP_ACCOUNT_ID_MAX + 1];
    bool has_domain, has_reporter, has_detail;
} cap_report;

typedef struct capture {
    rp_engine_sink sink; /* points back to this capture */
    cap_event *ev;
    size_t n, cap;
    cap_report *rep;
    size_t n_rep, cap_rep;
    /* Calls of the sink's on_tenant_overflow, and the last one's
     * account. */
    size_t n_overflow;
    char overflow_account[RP_ACCOUNT_ID_MAX + 1];
} capture;

void capture_init(capture *c);
/* Forgets every captured event and report (keeps the sink usable). */
void capture_clear(capture *c);
void capture_free(capture *c);

/* Number of events (of one account when account != NULL). */
size_t cap_count(const capture *c, const char *account);
/* Number of events of a kind (any account when account == NULL). */
size_t cap_count_kind(const capture *c, const char *account,
                      rp_event_kind kind);
/* Number of notifications of a stage (any account when account == NULL). */
size_t cap_count_stage(const capture *c, const char *account, rp_stage stage);
/* The last event of an account (any kind), or NULL. */
const cap_event *cap_last(const capture *c, const char *account);
/* The last event of an account of a kind, or NULL. */
const cap_event *cap_last_kind(const capture *c, const char *account,
                               rp_event_kind kind);
/* The i-th event (0-based) of an account, or NULL. */
const cap_event *cap_nth(const capture *c, const char *account, size_t i);
/* The first notification of an account with this issue and stage, or NULL. */
const cap_event *cap_find_stage(const capture *c, const char *account,
                                rp_issue_kind issue, rp_stage stage);

/* Builds a record from a captured report, to apply it (as repute replay
 * does). The strings point into *r. */
rp_record cap_report_record(const cap_report *r);

/* Writes a one-line description of every captured event to stderr (for
 * debugging a failing test). */
void capture_dump(const capture *c);

/* ------------------------------------------------------------ harness */

/* An engine, its configuration and a capture of its output. */
typedef struct harness {
    rp_config cfg;
    rp_engine *e;
    capture c;
} harness;

/* test_config() into h->cfg and an empty capture; no engine yet, so that
 * the test can change h->cfg first. */
void h_config(harness *h);
/* Creates h->e from h->cfg. */
void h_start(harness *h);
/* h_config() then h_start(). */
void h_init(harness *h);
void h_free(harness *h);

/* Applies a record at its event_time (clock=event), asserting success. */
void feed(harness *h, const rp_record *r);
/* Advances the clock (a tick), asserting success. */
void tick(harness *h, int64_t t);
/* n deliveries / hard bounces / complaints of one account at time t. */
void feed_deliveries(harness *h, const char *account, int64_t t, int n);
void feed_hard_bounces(harness *h, const char *account, int64_t t, int n);
void feed_complaints(harness *h, const char *account, int64_t t, int n);
/* Applies every captured report from index *next on (the way repute replay
 * applies them after the record that caused them), advancing *next. */
void feed_captured_reports(harness *h, size_t *next);

/* The view of an account (asserting it exists). */
rp_account_view view_of(harness *h, const char *account);
/* True when the engine knows the account. */
bool has_account(harness *h, const char *account);
/* The engine's counters. */
rp_engine_stats stats_of(harness *h);

/* ------------------------------------------------------------ asserts */

/* Macros, so that a failure names the line of the test. Each message says
 * what was expected and what the engine gave. */

#define LL(x) ((long long)(x))

/* t - T0 in milliseconds and in hours, for messages (no overflow). */
static inline long long rel_ms(int64_t t) {
    return (long long)((uint64_t)t - (uint64_t)T0);
}
static inline double rel_h(int64_t t) {
    return (double)rel_ms(t) / (double)HOUR;
}

/* A metric snapshot's count, volume and window. */
#define ASSERT_WINDOW(snap, cnt, vol, start, end)                              \
    do {                                                                       \
        const rp_metric_snapshot *s_ = (snap);                                 \
        cr_assert_eq(s_->count, (cnt), "count: expected %lld, got %lld",       \
                     LL(cnt), LL(s_->count));                                  \
        cr_assert_eq(s_->volume, (vol), "volume: expected %lld, got %lld",     \
                     LL(vol), LL(s_->volume));                                 \
        cr_assert_eq(s_->window_start, (start),                                \
                     "window_start: expected T0%+lldms (%+.2fh), got "         \
                     "T0%+lldms (%+.2fh)",                                     \
                     rel_ms(start), rel_h(start), rel_ms(s_->window_start),    \
                     rel_h(s_->window_start));                                 \
        cr_assert_eq(s_->window_end, (end),                                    \
                     "window_end: expected T0%+lldms (%+.2fh), got "           \
                     "T0%+lldms (%+.2fh)",                                     \
                     rel_ms(end), rel_h(end), rel_ms(s_->window_end),          \
                     rel_h(s_->window_end));                                   \
    } while (0)

/* A known rate equal to r (computed the same way: count / volume). */
#define ASSERT_RATE(has, value, r)                                             \
    do {                                                                       \
        cr_assert((has), "rate: expected %.6f, got null", (double)(r));        \
        cr_assert((value) == (r), "rate: expected %.17g, got %.17g",           \
                  (double)(r), (double)(value));                               \
    } while (0)

#define ASSERT_NO_RATE(has, value)                                             \
    cr_assert(!(has), "rate: expected null, got %.17g", (double)(value))

/* A nullable time (has_x, x) equal to t, or null when t == NO_TIME. */
#define NO_TIME INT64_MIN
#define ASSERT_TIME(what, has, value, t)                                       \
    do {                                                                       \
        if ((t) == NO_TIME)                                                    \
            cr_assert(!(has), "%s: expected null, got T0%+lldms (%+.2fh)",     \
                      what, rel_ms(value), rel_h(value));                      \
        else {                                                                 \
            cr_assert((has), "%s: expected T0%+lldms (%+.2fh), got null",      \
                      what, rel_ms(t), rel_h(t));                              \
            cr_assert_eq((value), (t),                                         \
                         "%s: expected T0%+lldms (%+.2fh), got T0%+lldms "     \
                         "(%+.2fh)",                                           \
                         what, rel_ms(t), rel_h(t), rel_ms(value),             \
                         rel_h(value));                                        \
        }                                                                      \
    } while (0)

/* An event's header. */
#define ASSERT_EVENT(ev, acct, seq, t, k)                                      \
    do {                                                                       \
        const cap_event *e_ = (ev);                                            \
        cr_assert_not_null(e_, "expected an event, got none");                 \
        cr_assert_str_eq(e_->account, (acct), "account: expected %s, got %s",  \
                         (acct), e_->account);                                 \
        cr_assert_eq(e_->sequence, (uint64_t)(seq),                            \
                     "sequence: expected %llu, got %llu",                      \
                     (unsigned long long)(seq),                                \
                     (unsigned long long)e_->sequence);                        \
        cr_assert_eq(e_->event_time, (t),                                      \
                     "event_time: expected T0%+lldms (%+.2fh), got "           \
                     "T0%+lldms (%+.2fh)",                                     \
                     rel_ms(t), rel_h(t), rel_ms(e_->event_time),              \
                     rel_h(e_->event_time));                                   \
        cr_assert_eq(e_->kind, (k), "kind: expected %s, got %s",               \
                     rp_event_kind_name(k), rp_event_kind_name(e_->kind));     \
    } while (0)

/* A STATUS_CHANGE's header, statuses and cause. */
#define ASSERT_SC(ev, acct, seq, t, prev, status_, cause_)                     \
    do {                                                                       \
        const cap_event *x_ = (ev);                                            \
        ASSERT_EVENT(x_, acct, seq, t, RP_EVENT_STATUS_CHANGE);                \
        cr_assert_eq(x_->sc.previous_status, (prev),                           \
                     "previous_status: expected %s, got %s",                   \
                     rp_account_status_name(prev),                             \
                     rp_account_status_name(x_->sc.previous_status));          \
        cr_assert_eq(x_->sc.status, (status_), "status: expected %s, got %s",  \
                     rp_account_status_name(status_),                          \
                     rp_account_status_name(x_->sc.status));                   \
        cr_assert_eq(x_->sc.cause, (cause_), "cause: expected %s, got %s",     \
                     rp_issue_kind_name(cause_),                               \
                     rp_issue_kind_name(x_->sc.cause));                        \
    } while (0)

/* A NOTIFICATION's header, issue, stage and account status; also that it
 * has a title, a why and at least one action. */
#define ASSERT_NT(ev, acct, seq, t, issue_, stage_, astatus)                   \
    do {                                                                       \
        const cap_event *x_ = (ev);                                            \
        ASSERT_EVENT(x_, acct, seq, t, RP_EVENT_NOTIFICATION);                 \
        cr_assert_eq(x_->nt.issue, (issue_), "issue: expected %s, got %s",     \
                     rp_issue_kind_name(issue_),                               \
                     rp_issue_kind_name(x_->nt.issue));                        \
        cr_assert_eq(x_->nt.stage, (stage_), "stage: expected %s, got %s",     \
                     rp_stage_name(stage_), rp_stage_name(x_->nt.stage));      \
        cr_assert_eq(x_->nt.account_status, (astatus),                         \
                     "account_status: expected %s, got %s",                    \
                     rp_account_status_name(astatus),                          \
                     rp_account_status_name(x_->nt.account_status));           \
        cr_assert(x_->nt.title && x_->nt.title[0], "notification: no title");  \
        cr_assert(x_->nt.why && x_->nt.why[0], "notification: no why");        \
        cr_assert(x_->nt.n_actions >= 1, "notification: no actions");          \
    } while (0)

/* One entry of a STATUS_CHANGE's issues array. */
#define ASSERT_ISSUE(st, kind_, status_, since_, end_)                         \
    do {                                                                       \
        const rp_issue_state *i_ = (st);                                       \
        cr_assert_eq(i_->kind, (kind_), "issue kind: expected %s, got %s",     \
                     rp_issue_kind_name(kind_), rp_issue_kind_name(i_->kind)); \
        cr_assert_eq(i_->status, (status_),                                    \
                     "issue %s status: expected %s, got %s",                   \
                     rp_issue_kind_name(kind_), rp_issue_status_name(status_), \
                     rp_issue_status_name(i_->status));                        \
        cr_assert_eq(i_->since, (since_),                                      \
                     "issue %s since: expected T0%+lldms, got T0%+lldms",      \
                     rp_issue_kind_name(kind_), rel_ms(since_),                \
                     rel_ms(i_->since));                                       \
        ASSERT_TIME("issue review_ends_at", i_->has_review_end,                \
                    i_->review_ends_at, end_);                                 \
    } while (0)

/* The status of an issue and the account in a view. */
#define ASSERT_ISTATUS(view, kind_, status_)                                   \
    cr_assert_eq((view).issues[kind_].status, (status_),                       \
                 "issue %s: expected %s, got %s", rp_issue_kind_name(kind_),   \
                 rp_issue_status_name(status_),                                \
                 rp_issue_status_name((view).issues[kind_].status))

#define ASSERT_ASTATUS(view, status_)                                          \
    cr_assert_eq((view).status, (status_), "account: expected %s, got %s",     \
                 rp_account_status_name(status_),                              \
                 rp_account_status_name((view).status))

/* The number of captured events (all accounts). */
#define ASSERT_N_EVENTS(hp, count)                                             \
    do {                                                                       \
        if ((hp)->c.n != (size_t)(count))                                      \
            capture_dump(&(hp)->c);                                            \
        cr_assert_eq((hp)->c.n, (size_t)(count),                               \
                     "events: expected %zu, got %zu (dumped above)",           \
                     (size_t)(count), (hp)->c.n);                              \
    } while (0)

/* rp_engine_next_review_end(): the earliest pending review end, or
 * INT64_MAX (written NO_END) when no review is waiting to end. */
#define NO_END INT64_MAX
#define ASSERT_NEXT_END(hp, t)                                                 \
    do {                                                                       \
        int64_t got_ = rp_engine_next_review_end((hp)->e);                     \
        if ((t) == NO_END)                                                     \
            cr_assert_eq(got_, NO_END,                                         \
                         "next review end: expected none (INT64_MAX), got "    \
                         "T0%+lldms (%+.2fh)",                                 \
                         rel_ms(got_), rel_h(got_));                           \
        else                                                                   \
            cr_assert_eq(got_, (t),                                            \
                         "next review end: expected T0%+lldms (%+.2fh), got "  \
                         "%s%+lldms (%+.2fh)",                                 \
                         rel_ms(t), rel_h(t), got_ == NO_END ? "none " : "T0", \
                         rel_ms(got_), rel_h(got_));                           \
    } while (0)

#endif
