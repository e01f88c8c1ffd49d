/*
 * support.h - helpers shared by the unit tests of repute.
 *
 * - a rule configuration with small numbers, so that a test needs a few
 *   hundred records rather than millions (test_config);
 * - record builders that fill an rp_record with the defaults of SPEC 2 and a
 *   unique event_id (from a counter), and "feed" helpers that apply records
 *   to an engine at their event_time (clock=event) and assert success;
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

#include "repute/config.h"
#include "repute/engine.h"
#include "repute/record.h"
#include "repute/types.h"

/* ------------------------------------------------------------ time */

#define HOUR RP_MS_PER_HOUR
#define DAY RP_MS_PER_DAY
#define MINUTE (60 * RP_MS_PER_SECOND)
/* 2026-01-01T00:00:00Z: a base time aligned to the hour. */
#define T0 INT64_C(1767225600000)

/* ------------------------------------------------------------ config */

/*
 * Fills *cfg with rule settings for tests (every rule key set explicitly,
 * so tests do not depend on the defaults of SPEC 8):
 *   bounce review/pause 0.05/0.10, complaint review/pause 0.02/0.05,
 *   window.min.volume 100, window.min.span 1h, window.max.span 10d,
 *   rate.min.volume 50, review.period 1d, review.max.extensions 2,
 *   pause.immediate false, report.window 7d, thresholds and manual kinds
 *   as SPEC 8 (SPAMTRAP 3, DOMAIN_BLOCKLIST 3, others 1), dedupe.horizon
 *   1h, dedupe.max.entries 100000, clock=event.
 * Free with test_config_free().
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
rp_record mk_report(const char *account, int64_t event_time,
                    rp_issue_kind kind, int32_t incidents);
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

/* ------------------------------------------------------------ feeding */

/* Applies a record at its event_time (clock=event), asserting success. */
void feed(rp_engine *e, capture *c, const rp_record *r);
/* Advances the clock (a tick), asserting success. */
void tick(rp_engine *e, capture *c, int64_t t);
/* n deliveries / hard bounces / complaints of one account at time t. */
void feed_deliveries(rp_engine *e, capture *c, const char *account, int64_t t,
                     int n);
void feed_hard_bounces(rp_engine *e, capture *c, const char *account,
                       int64_t t, int n);
void feed_complaints(rp_engine *e, capture *c, const char *account, int64_t t,
                     int n);
/* Applies every captured report from index *next on (the way repute replay
 * applies them after the record that caused them), advancing *next. */
void feed_captured_reports(rp_engine *e, capture *c, size_t *next);

/* The view of an account (asserting it exists). */
rp_account_view view_of(const rp_engine *e, const char *account);
/* The engine's counters. */
rp_engine_stats stats_of(const rp_engine *e);

#endif
