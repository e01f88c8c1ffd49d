/*
 * repute/engine.h - the reputation engine: pure rules, no I/O.
 *
 * The engine holds every account's state (hourly buckets, report log,
 * issues, links, flags, sequence) and applies the rules of docs/rules.md
 * sections 3-7 to the records it is fed. It never reads a clock, a file or a
 * socket: time comes in as arguments, results go out through the callbacks of
 * an rp_engine_sink, synchronously, in order. Given the same records and the
 * same times it produces the same output, byte for byte.
 *
 * Tenants (docs/rules.md section 10). A record that names a tenant is
 * applied to its account and then to that tenant, which has a reputation
 * of its own; the tenant's events carry its name (rp_event.tenant) and take
 * its account's sequence.
 *
 * Time. rp_engine_advance(e, t) first processes every review end at or
 * before t, one instant at a time in time order (ties by account id, an
 * account's own before its tenants', these by name), each at its own
 * instant; then the clock moves to t if t is later. A record is
 * applied at the clock (rp_engine_apply advances to `now` first). Under
 * clock=event the caller passes the record's event_time as `now`; under
 * clock=wall it passes the wall clock.
 *
 * Ownership. The engine copies what it keeps from a record. The events and
 * reports passed to the sink borrow engine memory and are valid only during
 * the callback.
 */
#ifndef REPUTE_ENGINE_H
#define REPUTE_ENGINE_H

#include "repute/config.h"
#include "repute/record.h"

typedef struct rp_engine rp_engine;

/* Where the engine's results go. Callbacks may be NULL. A callback must not
 * call back into the engine. */
typedef struct rp_engine_sink {
    void *opaque;
    /* One output event (STATUS_CHANGE or NOTIFICATION), in order. */
    void (*on_event)(void *opaque, const rp_event *ev);
    /* A RELATED_ACCOUNT report that repute itself produces for a linked
     * account when an account becomes SENDING_PAUSED (docs/rules.md section 4).
     * The caller delivers it: `repute run` produces it to the reports topic,
     * `repute replay` applies it right after the record that caused it. */
    void (*on_report)(void *opaque, const rp_record *report);
    /* The first record of an account that names a tenant beyond
     * tenant.max.per.account (docs/rules.md section 10, "Bounds"): called
     * once per account for the engine's life (a restored engine starts
     * afresh), so that the runtime can log it once; every such record is
     * counted in rp_engine_stats.tenant_overflows. The strings borrow the
     * record. */
    void (*on_tenant_overflow)(void *opaque, rp_str account_id, rp_str tenant);
    /* The account's current state (topic.current, docs/current.md), right
     * after each STATUS_CHANGE event of the account or of one of its
     * tenants: the account's status and issues, its tenants that are not
     * HEALTHY, and the sequence of that event. The caller writes it, or a
     * tombstone when st->status is HEALTHY and st->n_tenants is 0. st and
     * what it points at borrow engine memory (valid during the call).
     * Computed only when this callback is set. */
    void (*on_current)(void *opaque, const rp_account_state *st);
} rp_engine_sink;

/* Counters, for metrics and tests. */
typedef struct rp_engine_stats {
    uint64_t records_applied;
    uint64_t duplicates_dropped;
    uint64_t actions_not_applied;
    uint64_t status_changes;
    uint64_t notifications;
    uint64_t related_reports;
    uint64_t accounts;
    uint64_t account_bytes; /* account state, without the dedupe table */
    uint64_t dedupe_entries;
    uint64_t dedupe_bytes;
    uint64_t dedupe_evicted; /* entries dropped because the table was full */
    /* Tenants (docs/rules.md section 10). account_bytes includes theirs. */
    uint64_t tenants;           /* held now */
    uint64_t tenant_overflows;  /* records naming a tenant beyond the limit */
    uint64_t tenants_forgotten; /* idle HEALTHY tenants let go of */
} rp_engine_stats;

/* Creates an engine with a copy of the rule settings of cfg, the clock at
 * INT64_MIN (unset). Returns NULL with errstr on failure. Free with
 * rp_engine_destroy(). */
rp_engine *rp_engine_new(const rp_config *cfg, char *errstr,
                         size_t errstr_size);
void rp_engine_destroy(rp_engine *e);

/* Loopback mode (for `repute replay`): the RELATED_ACCOUNT reports the
 * engine produces are applied by the engine itself, at the clock, right
 * after the change that caused them (before the next review end or record),
 * instead of going to sink->on_report. Off by default. */
void rp_engine_set_loopback(rp_engine *e, bool on);

/* Processes review ends up to `now` and moves the clock to `now` if it is
 * later (see above). Returns 0 or RP_ENOMEM. */
int rp_engine_advance(rp_engine *e, int64_t now, const rp_engine_sink *sink);

/* Advances to `now`, then applies one record at the clock: dedupe, count,
 * evaluate, act, publish. The record must have passed rp_record_check().
 * Returns 0 (also for a duplicate or an action that does not apply) or
 * RP_ENOMEM. */
int rp_engine_apply(rp_engine *e, const rp_record *rec, int64_t now,
                    const rp_engine_sink *sink);

/* A hint that a record of this account comes soon: stage 0 starts loading
 * its hash-table slot into the cache, stage 1 (a record later, once the
 * slot is there) its state, stage 2 (one more later) its newest bucket.
 * Applying a stream of records with the hints three, two and one records
 * ahead hides most of the cache misses of a table of millions of
 * accounts. Never fails, changes nothing. */
void rp_engine_prefetch(const rp_engine *e, rp_str account_id, int stage);

/* The current clock (INT64_MIN before the first advance). */
int64_t rp_engine_clock(const rp_engine *e);

/* The earliest pending review end, or INT64_MAX when none (for timers). */
int64_t rp_engine_next_review_end(rp_engine *e);

void rp_engine_get_stats(const rp_engine *e, rp_engine_stats *out);

/* Adds every field of *from to *to: the totals of several engines (one
 * per partition in `repute run`). */
void rp_engine_stats_add(rp_engine_stats *to, const rp_engine_stats *from);

/* A read-only view of one account or tenant, for tests, the HTTP API and
 * snapshots. Computed at the clock; before the clock is set (a restored
 * engine not yet advanced) both metrics show no window and no rate, and
 * report counts are 0. Returns 0 or RP_ENOTFOUND.
 *
 * The view of a tenant has its account's account_id, sequence (the one
 * sequence of the account's and its tenants' events) and manual_review
 * flag (which the tenant uses), its own tenant name, status (the tenant
 * status), metrics, issues and report counts, no links and n_tenants 0. */
typedef struct rp_account_view {
    rp_str account_id;
    rp_account_status status;
    uint64_t sequence;
    bool manual_review;
    size_t n_links;
    const char *const *links; /* n_links ids, borrowing engine memory: valid
                                 until the next call that changes it */
    rp_metric_snapshot bounce;
    rp_metric_snapshot complaint;
    rp_issue_state issues[RP_ISSUE__COUNT]; /* indexed by kind */
    int32_t report_count[RP_ISSUE__COUNT];  /* incidents in report.window */
    rp_str tenant;    /* null for an account; borrows engine memory */
    size_t n_tenants; /* an account: the tenants it holds */
} rp_account_view;

int rp_engine_view(const rp_engine *e, rp_str account_id, rp_account_view *out);

/* The view of one tenant of an account. A tenant that is due to be
 * forgotten (docs/rules.md section 10) is not found, as after it was.
 * Returns 0 or RP_ENOTFOUND. */
int rp_engine_view_tenant(const rp_engine *e, rp_str account_id, rp_str tenant,
                          rp_account_view *out);

/* ------------------------------------------------------------ history
 *
 * What changed an account or a tenant (docs/history.md): its last
 * history.max.entries status changes, actions and notifications, kept
 * only once it has left HEALTHY. An action that did not apply is kept
 * too, marked so (applied false): an operator acting on stale
 * information wants to see that nothing happened.
 */
typedef enum rp_history_kind {
    RP_HISTORY_STATUS_CHANGE = 0,
    RP_HISTORY_ACTION = 1,
    RP_HISTORY_NOTIFICATION = 2,
    RP_HISTORY__COUNT
} rp_history_kind;

typedef struct rp_history_entry {
    rp_history_kind kind;
    int64_t time; /* the clock when it happened (an event's event_time) */
    /* RP_HISTORY_STATUS_CHANGE */
    rp_account_status from, to;
    rp_issue_kind cause;
    /* RP_HISTORY_ACTION (issue also a notification's) */
    rp_action_type action;
    bool has_issue; /* an action may name none */
    rp_issue_kind issue;
    bool applied;
    rp_str actor, note; /* null when absent; borrow engine memory */
    /* RP_HISTORY_NOTIFICATION */
    rp_stage stage;
} rp_history_entry;

typedef int (*rp_engine_history_fn)(void *opaque, const rp_history_entry *h);

/* Calls fn for each history entry of an account (tenant null) or of one
 * of its tenants, newest first, until fn answers non-zero (returned).
 * An entity that never left HEALTHY has none (0, fn never called).
 * Returns RP_ENOTFOUND for an account or tenant the engine does not hold
 * (a tenant due to be forgotten included). Entries borrow engine memory
 * (valid during the call). */
int rp_engine_history(const rp_engine *e, rp_str account_id, rp_str tenant,
                      rp_engine_history_fn fn, void *opaque);

/* ------------------------------------------------------------ changelog
 *
 * An account's whole state encodes to a compact, versioned byte string
 * (the value of its changelog record). A tenant is a changelog record of
 * its own, under the key "<account_id>\xff<tenant>" (0xff is never part of
 * UTF-8, so the key cannot be an account id; src/engine/state.c says why
 * tenants are not part of their account's value); rp_engine_flush_dirty()
 * hands such keys to fn like account ids, with len 0 for a tenant that
 * was forgotten (a tombstone), and rp_engine_restore() takes them back. The
 * engine marks an account dirty whenever a record or a review end changes it;
 * rp_engine_flush_dirty() hands each dirty account's encoded state to fn (the
 * bytes borrow an engine buffer, valid during the call) and clears the marks.
 * rp_engine_restore() replaces (or, with len 0, removes) an account's state
 * from such bytes and re-arms its review ends; it publishes nothing.
 */
typedef int (*rp_engine_state_fn)(void *opaque, rp_str account_id,
                                  const void *state, size_t len);

/* Returns 0, or the first non-zero value fn returned (the remaining
 * accounts stay dirty), or RP_ENOMEM. */
int rp_engine_flush_dirty(rp_engine *e, rp_engine_state_fn fn, void *opaque);

/* Returns 0, RP_EBADDATA when the bytes are not a state this version can
 * read, or RP_ENOMEM. */
int rp_engine_restore(rp_engine *e, rp_str account_id, const void *state,
                      size_t len);

/* Dedupe persistence. With the log on, every key the dedupe table takes
 * in is also appended to a list, which rp_engine_dedupe_take() hands over
 * (the pointer is valid until the next call on the engine) and empties;
 * the processor writes it to the changelog, so that a duplicate arriving
 * after a restart or a rebalance is still recognised.
 * rp_engine_dedupe_restore() puts such keys back. */
typedef struct rp_dedupe_key {
    uint64_t fp;
    int64_t at;
} rp_dedupe_key;

void rp_engine_set_dedupe_log(rp_engine *e, bool on);
size_t rp_engine_dedupe_take(rp_engine *e, const rp_dedupe_key **keys);
int rp_engine_dedupe_restore(rp_engine *e, const rp_dedupe_key *keys, size_t n);

/* Restores the clock (a task's stream time, from its changelog) without
 * processing anything: review ends behind it are processed at the next
 * advance, at the clock. Never moves the clock backwards. */
void rp_engine_restore_clock(rp_engine *e, int64_t clock);

/* Number of accounts marked dirty. */
size_t rp_engine_dirty_count(const rp_engine *e);

/* The AccountState of topic.current (repute/acctstate.h) of every account
 * (repute run --rebuild-current), in table order, until fn returns
 * non-zero (which is returned): the same state as sink->on_current gave
 * after the account's last status change, but for sequence, which is the
 * account's last event's (maybe a notification after it). `now` is the
 * since of an account with no issue listed (it does not happen with the
 * rules of today). st borrows engine memory (valid during the call).
 * Returns 0, fn's answer or RP_ENOMEM. */
typedef int (*rp_engine_current_fn)(void *opaque, const rp_account_state *st);
int rp_engine_foreach_current(rp_engine *e, int64_t now,
                              rp_engine_current_fn fn, void *opaque);

/* Calls fn for every account (in table order, tenants not included) until
 * it returns non-zero; for the HTTP API and metrics. The view is computed
 * at the clock. */
typedef int (*rp_engine_account_fn)(void *opaque, const rp_account_view *v);
int rp_engine_foreach(const rp_engine *e, rp_engine_account_fn fn,
                      void *opaque);

/* ------------------------------------------------------------ queries
 *
 * For the HTTP API and metrics; all are read-only and cheap enough to call
 * from a request handler.
 */

/* Number of accounts per account status (HEALTHY included). The engine
 * keeps the counts as statuses change: no walk over the accounts. */
void rp_engine_status_counts(const rp_engine *e,
                             uint64_t out[RP_ASTATUS__COUNT]);

/* Number of tenants held per tenant status (HEALTHY included: tenants
 * held and not yet forgotten), kept the same way. */
void rp_engine_tenant_status_counts(const rp_engine *e,
                                    uint64_t out[RP_ASTATUS__COUNT]);

/* Calls fn for every tenant of one account, in the byte order of their
 * names, until it returns non-zero (which is returned); tenants due to be
 * forgotten are skipped. The views borrow engine memory (valid during the
 * call). Returns RP_ENOTFOUND for an account the engine does not hold. */
int rp_engine_foreach_tenant(const rp_engine *e, rp_str account_id,
                             rp_engine_account_fn fn, void *opaque);

/* Calls fn for every account and every tenant whose status is not HEALTHY
 * (a tenant's view has its tenant set), in no particular order, until it
 * returns non-zero (which is returned). The engine keeps these on a list,
 * so the cost is theirs alone. rp_engine_foreach() walks accounts only. */
int rp_engine_foreach_flagged(const rp_engine *e, rp_engine_account_fn fn,
                              void *opaque);

/* One hourly bucket of an account (docs/rules.md section 3): its start and its
 * counts. */
typedef struct rp_hour_counts {
    int64_t start;
    uint32_t sends, hard_bounces, deliveries, complaints;
} rp_hour_counts;
typedef int (*rp_engine_hour_fn)(void *opaque, const rp_hour_counts *h);

/* Calls fn for every stored (non-empty) bucket of the account that overlaps
 * [from, to), oldest first, until it returns non-zero (which is returned).
 * Returns RP_ENOTFOUND for an account the engine does not hold. */
int rp_engine_hours(const rp_engine *e, rp_str account_id, int64_t from,
                    int64_t to, rp_engine_hour_fn fn, void *opaque);

/* The same for one tenant of an account (its own buckets); RP_ENOTFOUND
 * when the engine does not hold it (or it is due to be forgotten). */
int rp_engine_tenant_hours(const rp_engine *e, rp_str account_id, rp_str tenant,
                           int64_t from, int64_t to, rp_engine_hour_fn fn,
                           void *opaque);

#endif
