/*
 * engine_int.h - what the files of the engine share (private to
 * src/engine/).
 *
 * The engine is one struct, rp_engine, defined here so that each file of
 * rules can reach the parts it works on. Its data structures have files
 * and prefixes of their own (account.h rp_acct_*, bucket.h rp_bucket_*,
 * window.h rp_window_*, review_heap.h rp_rheap_*); the rules are split by
 * subject, one prefix each:
 *
 *   engine.c   life cycle, records in, the clock, loopback reports;
 *   review.c   rp_review_*: issue transitions, reports, account status;
 *   actions.c  rp_actions_*: the actions a person takes;
 *   publish.c  rp_publish_*: the output by difference;
 *   state.c    rp_state_*: the changelog codec and the dirty list;
 *   tenant.c   rp_tenant_*: the tenants of accounts (docs/rules.md section
 *              10): their sets, the limit, forgetting;
 *   query.c    the read side of the public API.
 *
 * Helpers that run on every record are inline here, so that splitting the
 * engine into files costs the hot path no calls.
 *
 * Ownership: rp_engine_new() allocates the engine and rp_engine_destroy()
 * frees it with everything it holds; the pointers to accounts held in the
 * heap, the dirty list and the list of accounts that are not HEALTHY are
 * borrowed from the account table, and those to tenants from their
 * accounts' tenant sets, except for a forgotten tenant, which the heap and
 * the dirty list hold until both let go of it (tenant.c).
 */
#ifndef REPUTE_ENGINE_ENGINE_INT_H
#define REPUTE_ENGINE_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/account.h"
#include "engine/bucket.h"
#include "engine/dedupe.h"
#include "engine/review_heap.h"
#include "engine/window.h"
#include "repute/buf.h"
#include "repute/engine.h"

/* A RELATED_ACCOUNT report waiting to be applied (loopback mode); each
 * string is a heap copy. */
typedef struct rp_pending_report {
    char *account, *event_id, *related;
    int64_t time;
} rp_pending_report;

/* What a record or a review end changed on one account. */
typedef struct change {
    bool had_ext; /* without one, every issue was HEALTHY: before unset */
    issue before[RP_ISSUE__COUNT];
    int stage[RP_ISSUE__COUNT]; /* -1: none reached */
    uint8_t status_before;
} change;

struct rp_engine {
    rp_config cfg; /* rule settings only; the owned strings are not copied */
    int64_t clock;
    rp_acct_table accounts;
    rp_rheap heap;
    rp_engine_stats stats;
    /* Accounts per status other than HEALTHY, the same for tenants, and
     * the list of both. */
    uint64_t n_status[RP_ASTATUS__COUNT];
    uint64_t n_tenant_status[RP_ASTATUS__COUNT];
    account *flagged;
    /* Tenants (tenant.c): how many are held, the limit per account, how
     * long a HEALTHY tenant may stay idle, when the next sweep for idle
     * tenants is due. */
    uint64_t n_tenants;
    uint32_t tenant_max;
    int64_t tenant_idle;
    int64_t next_sweep;
    /* history.max.entries, bounded (history.c); 0: no history. */
    uint32_t history_max;
    /* Accounts changed since the last flush (each listed once). */
    account **dirty;
    size_t n_dirty, cap_dirty;
    rp_buf state; /* reused encoding buffer */
    /* RELATED_ACCOUNT reports the engine applies itself (loopback mode),
     * oldest first. */
    bool loopback;
    /* Dedupe keys taken in since the last rp_engine_dedupe_take(). */
    bool dedupe_log;
    rp_dedupe_key *dlog, *dlog_out;
    size_t n_dlog, cap_dlog, cap_dlog_out;
    rp_pending_report *pending;
    size_t pending_head, n_pending, cap_pending;
    /* Reused output storage. */
    rp_status_change sc;
    rp_notification note;
    char why[1024];
    char related_id[RP_ACCOUNT_ID_MAX + 48];
    char tenant_key[RP_ACCOUNT_ID_MAX + 1 + RP_TENANT_MAX + 1];
    /* topic.current (current.c): the state handed to sink->on_current,
     * and room for the tenants it lists (cap_cur of each), grown to the
     * most tenants one account has held, never shrunk. */
    rp_account_state cur;
    rp_tenant_state *cur_tenants;
    const account **cur_sorted;
    size_t cap_cur;
    /* Last: its many fields would push the hot fields above apart. */
    rp_dedupe dedupe;
};

/* ------------------------------------------------------------ settings */

/* The rate at which rate issue k of entity a goes under review, and the
 * one at which its sending pauses: a tenant has rates of its own
 * (docs/rules.md section 10). */
static inline double rp_review_threshold(const rp_engine *e, const account *a,
                                         int k) {
    if (a->kind != ENTITY_ACCOUNT)
        return k == RP_ISSUE_BOUNCE_RATE ? e->cfg.tenant_bounce_review_rate
                                         : e->cfg.tenant_complaint_review_rate;
    return k == RP_ISSUE_BOUNCE_RATE ? e->cfg.bounce_review_rate
                                     : e->cfg.complaint_review_rate;
}

static inline double rp_review_pause_threshold(const rp_engine *e,
                                               const account *a, int k) {
    if (a->kind != ENTITY_ACCOUNT)
        return k == RP_ISSUE_BOUNCE_RATE ? e->cfg.tenant_bounce_pause_rate
                                         : e->cfg.tenant_complaint_pause_rate;
    return k == RP_ISSUE_BOUNCE_RATE ? e->cfg.bounce_pause_rate
                                     : e->cfg.complaint_pause_rate;
}

/* Report issues that a person decides by configuration (docs/rules.md section
 * 4). */
static inline bool rp_review_is_manual(const rp_engine *e, int k) {
    return !rp_issue_is_rate((rp_issue_kind)k) && e->cfg.report_manual[k];
}

/* Both rate windows of a at the clock. */
static inline void rp_review_rates(const rp_engine *e, const account *a,
                                   rates *r) {
    rp_window_rates(&e->cfg, e->clock, a, r);
}

/* ------------------------------------------------------------ review.c */

/* docs/rules.md section 6: the account status its issues give. */
rp_account_status rp_review_status_of(const rp_engine *e, const account *a);

/* Sets an account's (or a tenant's) status, keeping the per-status counts
 * and the list of entities that are not HEALTHY. A status other than
 * HEALTHY needs a->ext. */
void rp_review_status_set(rp_engine *e, account *a, rp_account_status st);

/* Sets an issue's review end, pushing it on the heap when it is one.
 * Returns 0 or RP_ENOMEM. */
int rp_review_set_end(rp_engine *e, account *a, issue *is, int64_t end);

/* The transitions of one issue k of a (which has its ext); each notes in
 * ch the stage it reached. */
void rp_review_to_pause(account *a, change *ch, int k, bool manual_ok);
/* The manual-review flag that applies to a: its own, or a tenant's
 * account's (docs/rules.md section 10). */
static inline bool rp_review_manual_flag(account *a) {
    account *r = rp_acct_root(a);
    return r->ext && r->ext->manual_review;
}
void rp_review_to_healthy(account *a, change *ch, int k);

/* The end of the reviews of a that end at `at`, at the clock (docs/rules.md
 * section 5). */
int rp_review_end_all(rp_engine *e, account *a, change *ch, int64_t at);

/* Both rate issues, after every record (docs/rules.md section 5). */
int rp_review_evaluate_rates(rp_engine *e, account *a, change *ch,
                             const rates *r);

/* A REPORT record (docs/rules.md section 4). */
int rp_review_report(rp_engine *e, account *a, change *ch, const rp_report *rep,
                     int64_t event_time);

/* The incidents of kind reported within the report window of the clock. */
int64_t rp_review_report_count(const rp_engine *e, const account *a, int kind);

/* ------------------------------------------------------------ actions.c */

/* An ACTION record (docs/rules.md section 4); counts the ones that did not
 * apply. */
int rp_actions_apply(rp_engine *e, account *a, change *ch, const rp_action *act,
                     int64_t event_time);

/* ------------------------------------------------------------ publish.c */

/* Notes an account's issues before a record or a review end touches it. */
static inline void rp_publish_begin(const account *a, change *ch) {
    ch->had_ext = a->ext != NULL;
    if (ch->had_ext)
        memcpy(ch->before, a->ext->issues, sizeof(ch->before));
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        ch->stage[k] = -1;
    ch->status_before = a->status;
}

/* Publishes what changed since rp_publish_begin (docs/rules.md section 5
 * "Order", docs/rules.md section 7). */
void rp_publish_change(rp_engine *e, account *a, change *ch,
                       const rp_engine_sink *sink);

/* Copies an issue into the public form. */
void rp_publish_issue_state(const issue *is, int k, rp_issue_state *out);

/* ------------------------------------------------------------ current.c */

/* After a STATUS_CHANGE of account a or of one of its tenants (sequence
 * seq, at time t): hands sink->on_current the account's current state
 * (NULL when out of memory). Does nothing without that callback. */
void rp_current_publish(rp_engine *e, const account *a, uint64_t seq, int64_t t,
                        const rp_engine_sink *sink);

/* ------------------------------------------------------------ tenant.c */

/* The tenant `name` of account a for a record, created when new, or
 * afresh when it was due to be forgotten. NULL when the account holds
 * tenant.max.per.account others (counted; the sink hears of the first
 * such record of the account) or on ENOMEM (*rc set). */
account *rp_tenant_get(rp_engine *e, account *a, rp_str name,
                       const rp_engine_sink *sink, int *rc);

/* The tenants of a not due to be forgotten, in the byte order of their
 * names, in *out (the caller frees it with free(); NULL when there are
 * none or on ENOMEM); returns how many. */
size_t rp_tenant_sorted(const rp_engine *e, const account *a, account ***out);

/* How many tenants of a are not due to be forgotten. */
size_t rp_tenant_count(const rp_engine *e, const account *a);

/* The tenant `name` of a, or NULL (also when it is due to be forgotten). */
account *rp_tenant_find(const rp_engine *e, const account *a, rp_str name);

/* True when tenant t is due to be forgotten: every issue HEALTHY and no
 * record applied within tenant_idle of the clock. */
static inline bool rp_tenant_idle(const rp_engine *e, const account *t) {
    return t->status == RP_ASTATUS_HEALTHY &&
           e->clock >= INT64_MIN + e->tenant_idle &&
           t->last_applied < e->clock - e->tenant_idle;
}

/* Forgets the idle tenants of every account, when the clock says a sweep
 * is due (tenant.c says how often). */
int rp_tenant_sweep_due(rp_engine *e);

/* After a heap entry of a was popped: lets go of a forgotten tenant that
 * nothing points at any more. */
void rp_tenant_heap_unref(rp_engine *e, account *a);

/* Empties tenant t back to "never seen" (keeps its name and place). */
void rp_tenant_clear(rp_engine *e, account *t);

/* The entity (account or tenant) that changelog key `key` names, created
 * empty when new (a restore ignores the limit). NULL with *rc set:
 * RP_EBADDATA for a key that is neither, RP_ENOMEM. With len 0 (a
 * tombstone) for a tenant the engine does not hold, NULL and *rc 0. */
account *rp_tenant_restore_target(rp_engine *e, rp_str key, bool tombstone,
                                  int *rc);

/* The changelog key of a tenant (also of a forgotten one), in
 * e->tenant_key. */
rp_str rp_tenant_key(rp_engine *e, const account *t);

/* Frees the forgotten tenants still held by the dirty list or the heap
 * (rp_engine_destroy, before the table and the heap go). */
void rp_tenant_free_shells(rp_engine *e);

/* ------------------------------------------------------------ state.c */

/* Lists a on the dirty list; RP_ENOMEM when the list cannot grow. */
int rp_state_dirty_push(rp_engine *e, account *a);

static inline int rp_state_mark_dirty(rp_engine *e, account *a) {
    return a->dirty ? 0 : rp_state_dirty_push(e, a);
}

#endif
