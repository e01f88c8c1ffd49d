/*
 * api.c - what `repute run` tells over HTTP: health, readiness, Prometheus
 * metrics, the accounts it holds, and the dashboard's files.
 *
 * Design
 * ------
 * The server (src/http/server.c) parses requests on the processor's libuv
 * loop and calls api_handle() for each complete GET. Every handler here
 * runs on the loop thread, like the processor itself, so it reads the
 * tasks and their engines directly, without locks and without copies; a
 * handler only has to be quick, because the loop applies no record while
 * it runs. The cheap paths are the common ones: /metrics and /v1/summary
 * read counters the engines keep (per-status counts, stats), and listing
 * the accounts that need attention walks only the engines' lists of
 * accounts that are not HEALTHY. Listing HEALTHY accounts walks every
 * account and costs about a microsecond each: it is there for
 * completeness and paginated, not for polling.
 *
 * Notifications are events, not state: the engine does not keep them. To
 * show an account's latest notifications, api_note_event() keeps the
 * notifications published by this process in a ring of fixed size (the
 * texts are re-rendered from the kept fields on request, so an entry is
 * small). After a restart or a rebalance an account's earlier
 * notifications are on the output topic only; the page says so.
 *
 * Prometheus counters must never go back, but a rewind after an aborted
 * transaction rebuilds the tasks' engines, whose counters start again from
 * the committed state. The totals reported are therefore the largest ever
 * reported: re-done work is not counted twice.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine/hash.h"
#include "http/assets.h"
#include "repute/http.h"
#include "repute/jsonl.h"
#include "repute/log.h"
#include "repute/notice.h"
#include "runtime/proc.h"

#define NOTES_CAP     16384 /* notifications kept, over all accounts */
#define NOTES_PER_ACC 10    /* shown per account */
#define LIST_MAX      1000  /* the largest page of /v1/accounts */
#define LIST_DEFAULT  50

/* ---------------------------------------------------------------- notes */

typedef struct note {
    uint64_t hash; /* of the account id; 0: empty slot */
    char *id;      /* owned, reused when the slot is overwritten */
    size_t id_cap;
    uint64_t sequence;
    int64_t event_time;
    rp_notification n; /* title, why and actions are not kept */
} note;

/* Totals reported so far (see the essay). */
typedef struct totals {
    uint64_t applied, duplicates, not_applied, changes, notifications, related;
} totals;

typedef struct rp_api_notes {
    note ring[NOTES_CAP];
    size_t next; /* the slot written next */
    totals shown;
    char why[1024];
} rp_api_notes;

/* A filter before comparing ids: repute's one hash, never 0 (0 marks an
 * empty slot). */
static uint64_t id_hash(const char *p, size_t n) {
    return rp_hash_bytes(p, n, 0) | 1;
}

void rp_api_note_event(proc *p, const rp_event *ev) {
    if (ev->kind != RP_EVENT_NOTIFICATION || !ev->notification)
        return;
    if (!p->notes) {
        p->notes = calloc(1, sizeof(*p->notes));
        if (!p->notes)
            return; /* the notes are a convenience: do without */
    }
    rp_api_notes *ns = p->notes;
    note *s = &ns->ring[ns->next];
    if (s->id_cap < ev->account_id.len + 1) {
        char *id = realloc(s->id, ev->account_id.len + 1);
        if (!id)
            return;
        s->id = id;
        s->id_cap = ev->account_id.len + 1;
    }
    memcpy(s->id, ev->account_id.ptr, ev->account_id.len);
    s->id[ev->account_id.len] = '\0';
    s->hash = id_hash(ev->account_id.ptr, ev->account_id.len);
    s->sequence = ev->sequence;
    s->event_time = ev->event_time;
    s->n = *ev->notification;
    s->n.title = s->n.why = NULL;
    s->n.n_actions = 0;
    ns->next = (ns->next + 1) % NOTES_CAP;
}

void rp_api_free(proc *p) {
    if (!p->notes)
        return;
    for (size_t i = 0; i < NOTES_CAP; i++)
        free(p->notes->ring[i].id);
    free(p->notes);
    p->notes = NULL;
}

/* ---------------------------------------------------------------- commit */

/* Upper bounds of the commit latency histogram, in seconds. */
static const double commit_bounds[11] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,    2.5,   5,    10};

void rp_api_commit_done(proc *p, uint64_t ms) {
    double s = (double)ms / 1000.0;
    for (int i = 0; i < 11; i++)
        if (s <= commit_bounds[i])
            p->commit_le[i]++;
    p->commit_le[11]++; /* +Inf */
    p->commit_count++;
    p->commit_seconds += s;
}

/* ---------------------------------------------------------------- helpers */

static void put_str(rp_buf *b, const char *s, size_t n) {
    rp_jsonl_write_string(b, s, n);
}

static void put_cstr(rp_buf *b, const char *s) {
    put_str(b, s, strlen(s));
}

static void put_time(rp_buf *b, bool has, int64_t t) {
    if (has)
        rp_buf_printf(b, "%" PRId64, t);
    else
        rp_buf_puts(b, "null");
}

static void put_double(rp_buf *b, bool has, double d) {
    if (has)
        rp_jsonl_write_double(b, d);
    else
        rp_buf_puts(b, "null");
}

static void error_json(rp_http_response *res, int status, const char *code,
                       const char *msg) {
    res->status = status;
    rp_buf_puts(&res->body, "{\"error\":");
    put_cstr(&res->body, code);
    rp_buf_puts(&res->body, ",\"message\":");
    put_cstr(&res->body, msg);
    rp_buf_puts(&res->body, "}\n");
}

static bool all_ready(const proc *p) {
    if (!p->assigned)
        return false;
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i] && !p->tasks[i]->ready)
            return false;
    return true;
}

/* The clock shown: under clock=wall the wall clock, under clock=event the
 * furthest stream time of the tasks (INT64_MIN when none has one). */
static int64_t shown_clock(const proc *p) {
    if (p->cfg->clock == RP_CLOCK_WALL)
        return rp_run_wall_ms();
    int64_t c = INT64_MIN;
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i] && rp_engine_clock(p->tasks[i]->engine) > c)
            c = rp_engine_clock(p->tasks[i]->engine);
    return c;
}

static void status_counts(const proc *p, uint64_t out[RP_ASTATUS__COUNT]) {
    memset(out, 0, sizeof(uint64_t) * RP_ASTATUS__COUNT);
    for (int32_t i = 0; i < p->n_parts; i++) {
        if (!p->tasks[i])
            continue;
        uint64_t c[RP_ASTATUS__COUNT];
        rp_engine_status_counts(p->tasks[i]->engine, c);
        for (int k = 0; k < RP_ASTATUS__COUNT; k++)
            out[k] += c[k];
    }
}

/* ---------------------------------------------------------------- health */

static void get_healthz(proc *p, rp_http_response *res) {
    (void)p;
    res->content_type = "text/plain; charset=utf-8";
    rp_buf_puts(&res->body, "ok\n");
}

static void get_readyz(proc *p, rp_http_response *res) {
    res->content_type = "text/plain; charset=utf-8";
    if (p->stopping) {
        res->status = 503;
        rp_buf_puts(&res->body, "shutting down\n");
    } else if (!p->assigned) {
        res->status = 503;
        rp_buf_puts(&res->body, "waiting for a partition assignment\n");
    } else if (!all_ready(p)) {
        int restoring = 0;
        for (int32_t i = 0; i < p->n_parts; i++)
            if (p->tasks[i] && !p->tasks[i]->ready)
                restoring++;
        res->status = 503;
        rp_buf_printf(&res->body, "restoring %d of %d partitions\n", restoring,
                      p->n_tasks);
    } else {
        rp_buf_printf(&res->body, "ready: %d partitions\n", p->n_tasks);
    }
}

/* ---------------------------------------------------------------- metrics */

static void metric_head(rp_buf *b, const char *name, const char *type,
                        const char *help) {
    rp_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(rp_buf *b, const char *name, const char *help, uint64_t v) {
    metric_head(b, name, "counter", help);
    rp_buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

static void gauge(rp_buf *b, const char *name, const char *help, double v) {
    metric_head(b, name, "gauge", help);
    rp_buf_printf(b, "%s %.17g\n", name, v);
}

/* A label value: backslash, quote and newline escaped (Prometheus text
 * format). */
static void label_value(rp_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            rp_buf_putc(b, '\\');
        if (*s == '\n') {
            rp_buf_puts(b, "\\n");
            continue;
        }
        rp_buf_putc(b, *s);
    }
}

static uint64_t keep_max(uint64_t *shown, uint64_t now) {
    if (now > *shown)
        *shown = now;
    return *shown;
}

static void process_metrics(rp_buf *b) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        metric_head(b, "process_cpu_seconds_total", "counter",
                    "User and system CPU time spent, in seconds.");
        rp_buf_printf(b, "process_cpu_seconds_total %.6f\n",
                      (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                          (double)ru.ru_stime.tv_sec +
                          ru.ru_stime.tv_usec / 1e6);
    }
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        unsigned long size, resident;
        if (fscanf(f, "%lu %lu", &size, &resident) == 2) {
            long page = sysconf(_SC_PAGESIZE);
            gauge(b, "process_resident_memory_bytes",
                  "Resident memory size, in bytes.",
                  (double)resident * (double)page);
            gauge(b, "process_virtual_memory_bytes",
                  "Virtual memory size, in bytes.",
                  (double)size * (double)page);
        }
        fclose(f);
    }
}

static void get_metrics(proc *p, rp_http_response *res) {
    rp_buf *b = &res->body;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    /* Counters: the live tasks' plus the retired ones'; sizes: the live
     * tasks' only. */
    rp_engine_stats live = {0};
    for (int32_t i = 0; i < p->n_parts; i++) {
        if (!p->tasks[i])
            continue;
        rp_engine_stats st;
        rp_engine_get_stats(p->tasks[i]->engine, &st);
        rp_engine_stats_add(&live, &st);
    }
    rp_engine_stats sum = p->retired;
    rp_engine_stats_add(&sum, &live);
    totals dummy = {0}, *shown = p->notes ? &p->notes->shown : &dummy;

    metric_head(b, "repute_records_consumed_total", "counter",
                "Input records taken from each topic (applied to the engine "
                "or sent to the dead-letter topic).");
    for (int t = 0; t < NTOP; t++) {
        rp_buf_puts(b, "repute_records_consumed_total{topic=\"");
        label_value(b, p->cfg->topic[t]);
        rp_buf_printf(b, "\"} %" PRIu64 "\n", p->consumed[t]);
    }
    counter(b, "repute_records_applied_total",
            "Input records applied to the engine (duplicates not included).",
            keep_max(&shown->applied, sum.records_applied));
    counter(b, "repute_duplicates_dropped_total",
            "Records dropped as duplicates of an (account_id, event_id) "
            "seen within dedupe.horizon.",
            keep_max(&shown->duplicates, sum.duplicates_dropped));
    counter(b, "repute_actions_not_applied_total",
            "Actions that did not apply (e.g. resuming a healthy issue).",
            keep_max(&shown->not_applied, sum.actions_not_applied));
    counter(b, "repute_dlq_records_total",
            "Records sent to the dead-letter topic.", p->dlq);
    counter(b, "repute_status_changes_published_total",
            "STATUS_CHANGE events published to the output topic.",
            keep_max(&shown->changes, sum.status_changes));
    counter(b, "repute_notifications_published_total",
            "NOTIFICATION events published to the output topic.",
            keep_max(&shown->notifications, sum.notifications));
    counter(b, "repute_related_reports_published_total",
            "RELATED_ACCOUNT reports produced to the reports topic.",
            keep_max(&shown->related, sum.related_reports));
    counter(b, "repute_produced_records_total",
            "Records produced (outputs, reports, DLQ and changelog).",
            p->produced);
    counter(b, "repute_transactions_committed_total",
            "Commits: Kafka transactions under exactly_once, offset "
            "commits under at_least_once.",
            p->commits);
    counter(b, "repute_transactions_aborted_total",
            "Aborted transactions (each followed by a rewind).", p->aborts);

    uint64_t c[RP_ASTATUS__COUNT];
    status_counts(p, c);
    metric_head(b, "repute_accounts", "gauge",
                "Accounts held by this instance, by account status.");
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        rp_buf_printf(b, "repute_accounts{status=\"%s\"} %" PRIu64 "\n",
                      rp_account_status_name((rp_account_status)k), c[k]);

    metric_head(b, "repute_consumer_lag", "gauge",
                "Records in each assigned input partition not yet applied "
                "(from the high watermark of the latest fetch).");
    for (int32_t i = 0; i < p->n_parts; i++) {
        const task *t = p->tasks[i];
        if (!t)
            continue;
        for (int k = 0; k < NTOP; k++) {
            int64_t lo = -1, hi = -1;
            if (rd_kafka_get_watermark_offsets(p->consumer, p->cfg->topic[k], i,
                                               &lo, &hi) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR ||
                hi < 0)
                continue;
            int64_t pos = t->next[k] >= 0        ? t->next[k]
                          : t->committed[k] >= 0 ? t->committed[k]
                                                 : t->first[k];
            if (pos < 0)
                continue;
            rp_buf_puts(b, "repute_consumer_lag{topic=\"");
            label_value(b, p->cfg->topic[k]);
            rp_buf_printf(b, "\",partition=\"%" PRId32 "\"} %" PRId64 "\n", i,
                          hi > pos ? hi - pos : 0);
        }
    }

    metric_head(b, "repute_commit_duration_seconds", "histogram",
                "Time to commit: producing nothing more, sending the "
                "offsets and committing the transaction.");
    for (int i = 0; i < 11; i++)
        rp_buf_printf(b,
                      "repute_commit_duration_seconds_bucket{le=\"%g\"} "
                      "%" PRIu64 "\n",
                      commit_bounds[i], p->commit_le[i]);
    rp_buf_printf(b,
                  "repute_commit_duration_seconds_bucket{le=\"+Inf\"} "
                  "%" PRIu64 "\n"
                  "repute_commit_duration_seconds_sum %.6f\n"
                  "repute_commit_duration_seconds_count %" PRIu64 "\n",
                  p->commit_le[11], p->commit_seconds, p->commit_count);

    metric_head(b, "repute_partition_ready", "gauge",
                "1 once the state of an assigned partition is restored.");
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i])
            rp_buf_printf(
                b, "repute_partition_ready{partition=\"%" PRId32 "\"} %d\n", i,
                p->tasks[i]->ready ? 1 : 0);
    metric_head(b, "repute_restore_records", "gauge",
                "Changelog records read by the latest restore of each "
                "assigned partition.");
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i])
            rp_buf_printf(b,
                          "repute_restore_records{partition=\"%" PRId32
                          "\"} %" PRIu64 "\n",
                          i, p->tasks[i]->restored);
    gauge(b, "repute_ready", "1 when every assigned partition is restored.",
          all_ready(p) ? 1 : 0);
    gauge(b, "repute_assigned_partitions", "Partitions (tasks) assigned.",
          p->n_tasks);
    metric_head(b, "repute_engine_state_bytes", "gauge",
                "Memory held by the engines: account state and the dedupe "
                "table.");
    rp_buf_printf(b,
                  "repute_engine_state_bytes{part=\"accounts\"} %" PRIu64 "\n"
                  "repute_engine_state_bytes{part=\"dedupe\"} %" PRIu64 "\n",
                  live.account_bytes, live.dedupe_bytes);
    gauge(b, "repute_dedupe_entries", "Keys in the dedupe tables.",
          (double)live.dedupe_entries);
    counter(b, "repute_dedupe_evicted_total",
            "Dedupe keys dropped because dedupe.max.entries was reached.",
            sum.dedupe_evicted);
    process_metrics(b);
}

/* ---------------------------------------------------------------- summary */

static void put_thresholds(rp_buf *b, const rp_config *cfg) {
    rp_buf_puts(b, "{\"bounce\":{\"review\":");
    rp_jsonl_write_double(b, cfg->bounce_review_rate);
    rp_buf_puts(b, ",\"pause\":");
    rp_jsonl_write_double(b, cfg->bounce_pause_rate);
    rp_buf_puts(b, "},\"complaint\":{\"review\":");
    rp_jsonl_write_double(b, cfg->complaint_review_rate);
    rp_buf_puts(b, ",\"pause\":");
    rp_jsonl_write_double(b, cfg->complaint_pause_rate);
    rp_buf_puts(b, "}}");
}

static void get_summary(proc *p, rp_http_response *res) {
    rp_buf *b = &res->body;
    int64_t clock = shown_clock(p);
    rp_buf_printf(b,
                  "{\"ready\":%s,\"clock\":", all_ready(p) ? "true" : "false");
    put_time(b, clock != INT64_MIN, clock);
    rp_buf_printf(b, ",\"clock_mode\":\"%s\",\"guarantee\":\"%s\",\"group\":",
                  p->cfg->clock == RP_CLOCK_EVENT ? "event" : "wall",
                  p->eos ? "exactly_once" : "at_least_once");
    put_cstr(b, p->cfg->group_id);
    rp_buf_puts(b, ",\"partitions\":[");
    bool first = true;
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i]) {
            rp_buf_printf(b, "%s%" PRId32, first ? "" : ",", i);
            first = false;
        }
    uint64_t c[RP_ASTATUS__COUNT], total = 0;
    status_counts(p, c);
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        total += c[k];
    rp_buf_printf(b,
                  "],\"partition_count\":%" PRId32 ",\"accounts\":%" PRIu64
                  ",\"by_status\":{",
                  p->n_parts, total);
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        rp_buf_printf(b, "%s\"%s\":%" PRIu64, k ? "," : "",
                      rp_account_status_name((rp_account_status)k), c[k]);
    rp_buf_puts(b, "},\"thresholds\":");
    put_thresholds(b, p->cfg);
    rp_buf_puts(b, "}\n");
}

/* ---------------------------------------------------------------- one account
 */

static void put_metric(rp_buf *b, const rp_metric_snapshot *m, double review,
                       double pause) {
    rp_buf_printf(
        b, "{\"status\":\"%s\",\"rate\":", rp_issue_status_name(m->status));
    put_double(b, m->has_rate, m->rate);
    rp_buf_printf(b,
                  ",\"count\":%" PRId64 ",\"volume\":%" PRId64
                  ",\"window_start\":%" PRId64 ",\"window_end\":%" PRId64
                  ",\"review_threshold\":",
                  m->count, m->volume, m->window_start, m->window_end);
    rp_jsonl_write_double(b, review);
    rp_buf_puts(b, ",\"pause_threshold\":");
    rp_jsonl_write_double(b, pause);
    rp_buf_putc(b, '}');
}

/* The earliest review end among the issues in review (as SPEC 7 defines
 * review_ends_at of a StatusChange). */
static bool earliest_review_end(const rp_account_view *v, int64_t *out) {
    bool has = false;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const rp_issue_state *is = &v->issues[k];
        if (is->has_review_end && (!has || is->review_ends_at < *out)) {
            *out = is->review_ends_at;
            has = true;
        }
    }
    return has;
}

static int put_hour(void *opaque, const rp_hour_counts *h) {
    rp_buf *b = opaque;
    if (b->data[b->len - 1] != '[')
        rp_buf_putc(b, ',');
    rp_buf_printf(
        b,
        "{\"start\":%" PRId64 ",\"sends\":%" PRIu32 ",\"hard_bounces\":%" PRIu32
        ",\"deliveries\":%" PRIu32 ",\"complaints\":%" PRIu32 "}",
        h->start, h->sends, h->hard_bounces, h->deliveries, h->complaints);
    return 0;
}

static void put_notifications(proc *p, rp_str id, rp_buf *b) {
    rp_buf_puts(b, "[");
    if (!p->notes) {
        rp_buf_puts(b, "]");
        return;
    }
    rp_api_notes *ns = p->notes;
    uint64_t h = id_hash(id.ptr, id.len);
    uint64_t last_seq = UINT64_MAX;
    int shown = 0;
    /* Newest first. A rewind re-publishes the events of an aborted
     * transaction with the same sequences: show each sequence once. */
    for (size_t k = 1; k <= NOTES_CAP && shown < NOTES_PER_ACC; k++) {
        note *s = &ns->ring[(ns->next + NOTES_CAP - k) % NOTES_CAP];
        if (s->hash == 0)
            break;
        if (s->hash != h || strlen(s->id) != id.len ||
            memcmp(s->id, id.ptr, id.len) != 0)
            continue;
        if (s->sequence >= last_seq)
            continue;
        last_seq = s->sequence;
        rp_notification n = s->n;
        rp_notice_render(&n, ns->why, sizeof(ns->why));
        rp_buf_printf(b,
                      "%s{\"sequence\":%" PRIu64 ",\"event_time\":%" PRId64
                      ",\"issue\":\"%s\",\"stage\":\"%s\","
                      "\"account_status\":\"%s\",\"title\":",
                      shown ? "," : "", s->sequence, s->event_time,
                      rp_issue_kind_name(n.issue), rp_stage_name(n.stage),
                      rp_account_status_name(n.account_status));
        put_cstr(b, n.title ? n.title : "");
        rp_buf_puts(b, ",\"why\":");
        put_cstr(b, n.why ? n.why : "");
        rp_buf_puts(b, ",\"actions\":[");
        for (size_t a = 0; a < n.n_actions; a++) {
            if (a)
                rp_buf_putc(b, ',');
            put_cstr(b, n.actions[a]);
        }
        rp_buf_puts(b, "],\"rate\":");
        put_double(b, n.has_rate, n.rate);
        rp_buf_puts(b, ",\"threshold\":");
        put_double(b, n.has_threshold, n.threshold);
        rp_buf_puts(b, ",\"review_ends_at\":");
        put_time(b, n.has_review_end, n.review_ends_at);
        rp_buf_putc(b, '}');
        shown++;
    }
    rp_buf_puts(b, "]");
}

/* The partition an account id maps to under librdkafka's default
 * partitioner (consistent_random: CRC32 of the key for keyed records). A
 * producer with another partitioner (Java's murmur2) places keys
 * elsewhere; docs/http.md says so. */
static int32_t partition_of(const proc *p, rp_str id) {
    if (p->n_parts <= 0)
        return -1;
    return rd_kafka_msg_partitioner_consistent(NULL, id.ptr, id.len, p->n_parts,
                                               NULL, NULL);
}

static void get_account(proc *p, rp_str id, rp_http_response *res) {
    rp_buf *b = &res->body;
    rp_account_view v;
    const task *owner = NULL;
    int32_t part = partition_of(p, id);
    for (int32_t i = 0; i < p->n_parts && !owner; i++)
        if (p->tasks[i] && p->tasks[i]->ready &&
            rp_engine_view(p->tasks[i]->engine, id, &v) == 0)
            owner = p->tasks[i];
    if (!owner) {
        bool owned = part >= 0 && p->tasks[part];
        char msg[512];
        if (owned && !p->tasks[part]->ready)
            snprintf(msg, sizeof(msg),
                     "partition %d is still being restored; try again "
                     "shortly",
                     (int)part);
        else if (owned)
            snprintf(msg, sizeof(msg),
                     "this instance owns partition %d and holds no record "
                     "of this account",
                     (int)part);
        else
            snprintf(msg, sizeof(msg),
                     "partition %d is owned by another instance of group "
                     "%s; ask that one",
                     (int)part, p->cfg->group_id);
        res->status = 404;
        rp_buf_puts(b, "{\"error\":\"not_found\",\"account_id\":");
        put_str(b, id.ptr, id.len);
        rp_buf_printf(b,
                      ",\"partition\":%d,\"owned\":%s,\"message\":", (int)part,
                      owned ? "true" : "false");
        put_cstr(b, msg);
        rp_buf_puts(b, "}\n");
        return;
    }
    const rp_config *cfg = p->cfg;
    int64_t clock = rp_engine_clock(owner->engine);
    rp_buf_puts(b, "{\"account_id\":");
    put_str(b, id.ptr, id.len);
    rp_buf_printf(b,
                  ",\"status\":\"%s\",\"sequence\":%" PRIu64
                  ",\"partition\":%" PRId32 ",\"clock\":",
                  rp_account_status_name(v.status), v.sequence,
                  owner->partition);
    put_time(b, clock != INT64_MIN, clock);
    rp_buf_printf(b, ",\"manual_review\":%s,\"links\":[",
                  v.manual_review ? "true" : "false");
    for (size_t i = 0; i < v.n_links; i++) {
        if (i)
            rp_buf_putc(b, ',');
        put_cstr(b, v.links[i]);
    }
    int64_t end = 0;
    bool has_end = earliest_review_end(&v, &end);
    rp_buf_puts(b, "],\"review_ends_at\":");
    put_time(b, has_end, end);
    rp_buf_puts(b, ",\"bounce\":");
    put_metric(b, &v.bounce, cfg->bounce_review_rate, cfg->bounce_pause_rate);
    rp_buf_puts(b, ",\"complaint\":");
    put_metric(b, &v.complaint, cfg->complaint_review_rate,
               cfg->complaint_pause_rate);
    rp_buf_puts(b, ",\"issues\":[");
    bool first = true;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const rp_issue_state *is = &v.issues[k];
        if (is->status == RP_ISTATUS_HEALTHY)
            continue;
        bool report = k >= RP_ISSUE__FIRST_REPORT;
        rp_buf_printf(b,
                      "%s{\"kind\":\"%s\",\"status\":\"%s\",\"since\":%" PRId64
                      ",\"review_ends_at\":",
                      first ? "" : ",", rp_issue_kind_name(is->kind),
                      rp_issue_status_name(is->status), is->since);
        put_time(b, is->has_review_end, is->review_ends_at);
        rp_buf_printf(b, ",\"manual\":%s,\"incidents\":",
                      report && cfg->report_manual[k] ? "true" : "false");
        if (report)
            rp_buf_printf(b, "%" PRId32, v.report_count[k]);
        else
            rp_buf_puts(b, "null");
        rp_buf_putc(b, '}');
        first = false;
    }
    int64_t from = v.bounce.window_start < v.complaint.window_start
                       ? v.bounce.window_start
                       : v.complaint.window_start;
    int64_t to = v.bounce.window_end > v.complaint.window_end
                     ? v.bounce.window_end
                     : v.complaint.window_end;
    rp_buf_puts(b, "],\"hours\":[");
    rp_engine_hours(owner->engine, id, from, to, put_hour, b);
    rp_buf_puts(b, "],\"notifications\":");
    put_notifications(p, id, b);
    rp_buf_puts(b, ",\"notifications_note\":");
    put_cstr(b, "notifications published by this instance since it took "
                "the account's partition; earlier ones are on the output "
                "topic");
    rp_buf_puts(b, "}\n");
}

/* ---------------------------------------------------------------- listing */

typedef struct row {
    char id[RP_ACCOUNT_ID_MAX + 1];
    size_t id_len;
    rp_account_status status;
    bool has_b, has_c, has_end;
    double b, c;
    int64_t end;
    uint16_t issues; /* bit per issue kind not HEALTHY */
} row;

/* The `limit` smallest ids above `after` that match the filters, kept as a
 * max-heap on the id (the root is the largest kept), plus a count of every
 * match, so the page knows whether more follow. */
typedef struct listing {
    bool want[RP_ASTATUS__COUNT];
    const char *after;
    size_t after_len;
    const char *q;
    row *rows;
    size_t n, limit;
    uint64_t matched;
} listing;

static int id_cmp(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static int row_cmp(const row *a, const row *b) {
    return id_cmp(a->id, a->id_len, b->id, b->id_len);
}

static void heap_down(row *r, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && row_cmp(&r[l], &r[m]) > 0)
            m = l;
        if (l + 1 < n && row_cmp(&r[l + 1], &r[m]) > 0)
            m = l + 1;
        if (m == i)
            return;
        row t = r[i];
        r[i] = r[m];
        r[m] = t;
        i = m;
    }
}

static void heap_up(row *r, size_t i) {
    while (i > 0 && row_cmp(&r[(i - 1) / 2], &r[i]) < 0) {
        row t = r[i];
        r[i] = r[(i - 1) / 2];
        r[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static int list_one(void *opaque, const rp_account_view *v) {
    listing *ls = opaque;
    if (!ls->want[v->status])
        return 0;
    if (ls->after && id_cmp(v->account_id.ptr, v->account_id.len, ls->after,
                            ls->after_len) <= 0)
        return 0;
    if (ls->q && *ls->q &&
        !memmem(v->account_id.ptr, v->account_id.len, ls->q, strlen(ls->q)))
        return 0;
    ls->matched++;
    row r;
    memcpy(r.id, v->account_id.ptr, v->account_id.len);
    r.id[v->account_id.len] = '\0';
    r.id_len = v->account_id.len;
    if (ls->n == ls->limit) {
        /* Full: keep it only if it sorts before the largest kept. */
        if (row_cmp(&r, &ls->rows[0]) >= 0)
            return 0;
    }
    r.status = v->status;
    r.has_b = v->bounce.has_rate;
    r.b = v->bounce.rate;
    r.has_c = v->complaint.has_rate;
    r.c = v->complaint.rate;
    r.has_end = earliest_review_end(v, &r.end);
    r.issues = 0;
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        if (v->issues[k].status != RP_ISTATUS_HEALTHY)
            r.issues |= (uint16_t)(1u << k);
    if (ls->n == ls->limit) {
        ls->rows[0] = r;
        heap_down(ls->rows, ls->n, 0);
    } else {
        ls->rows[ls->n] = r;
        heap_up(ls->rows, ls->n++);
    }
    return 0;
}

static int row_qsort_cmp(const void *a, const void *b) {
    return row_cmp(a, b);
}

/* Parses "S1,S2" into want[]; returns false on an unknown status. */
static bool parse_statuses(const char *s, bool want[RP_ASTATUS__COUNT],
                           char *bad, size_t bad_size) {
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        bool found = false;
        for (int k = 0; k < RP_ASTATUS__COUNT; k++) {
            const char *name = rp_account_status_name((rp_account_status)k);
            if (strlen(name) == n && memcmp(name, s, n) == 0) {
                want[k] = found = true;
            }
        }
        if (!found && n > 0) {
            snprintf(bad, bad_size, "%.*s", (int)(n > 64 ? 64 : n), s);
            return false;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return true;
}

static void get_accounts(proc *p, rp_str query, rp_http_response *res) {
    char status[256], after[RP_ACCOUNT_ID_MAX + 1], q[257], lim[32];
    listing ls;
    memset(&ls, 0, sizeof(ls));
    int rc = rp_http_query_get(query, "status", status, sizeof(status));
    if (rc == RP_ENOSPACE) {
        error_json(res, 400, "bad_request", "status: too long");
        return;
    }
    if (rc >= 0 && status[0]) {
        char bad[80];
        if (!parse_statuses(status, ls.want, bad, sizeof(bad))) {
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "status: unknown account status \"%s\" (expected "
                     "HEALTHY, UNDER_REVIEW, PENDING_END_OF_REVIEW_DECISION, "
                     "SENDING_PAUSED or PENDING_SENDING_PAUSE)",
                     bad);
            error_json(res, 400, "bad_request", msg);
            return;
        }
    } else {
        for (int k = 0; k < RP_ASTATUS__COUNT; k++)
            ls.want[k] = true;
    }
    ls.limit = LIST_DEFAULT;
    rc = rp_http_query_get(query, "limit", lim, sizeof(lim));
    if (rc >= 0) {
        char *end;
        long n = strtol(lim, &end, 10);
        if (*lim == '\0' || *end != '\0' || n < 1 || n > LIST_MAX) {
            error_json(res, 400, "bad_request",
                       "limit: expected a whole number from 1 to 1000");
            return;
        }
        ls.limit = (size_t)n;
    } else if (rc == RP_ENOSPACE) {
        error_json(res, 400, "bad_request",
                   "limit: expected a whole number from 1 to 1000");
        return;
    }
    rc = rp_http_query_get(query, "after", after, sizeof(after));
    if (rc == RP_ENOSPACE) {
        error_json(res, 400, "bad_request", "after: longer than an account id");
        return;
    }
    if (rc >= 0) {
        ls.after = after;
        ls.after_len = (size_t)rc;
    }
    rc = rp_http_query_get(query, "q", q, sizeof(q));
    if (rc == RP_ENOSPACE) {
        error_json(res, 400, "bad_request", "q: longer than an account id");
        return;
    }
    if (rc >= 0)
        ls.q = q;
    ls.rows = malloc(ls.limit * sizeof(row));
    if (!ls.rows) {
        error_json(res, 503, "unavailable", "out of memory");
        return;
    }
    /* Only HEALTHY accounts need the walk over every account. */
    for (int32_t i = 0; i < p->n_parts; i++) {
        const task *t = p->tasks[i];
        if (!t || !t->ready)
            continue;
        if (ls.want[RP_ASTATUS_HEALTHY])
            rp_engine_foreach(t->engine, list_one, &ls);
        else
            rp_engine_foreach_flagged(t->engine, list_one, &ls);
    }
    qsort(ls.rows, ls.n, sizeof(row), row_qsort_cmp);
    rp_buf *b = &res->body;
    rp_buf_puts(b, "{\"accounts\":[");
    for (size_t i = 0; i < ls.n; i++) {
        const row *r = &ls.rows[i];
        rp_buf_puts(b, i ? ",{\"account_id\":" : "{\"account_id\":");
        put_str(b, r->id, r->id_len);
        rp_buf_printf(b, ",\"status\":\"%s\",\"bounce_rate\":",
                      rp_account_status_name(r->status));
        put_double(b, r->has_b, r->b);
        rp_buf_puts(b, ",\"complaint_rate\":");
        put_double(b, r->has_c, r->c);
        rp_buf_puts(b, ",\"review_ends_at\":");
        put_time(b, r->has_end, r->end);
        rp_buf_puts(b, ",\"issues\":[");
        bool first = true;
        for (int k = 0; k < RP_ISSUE__COUNT; k++)
            if (r->issues & (1u << k)) {
                rp_buf_printf(b, "%s\"%s\"", first ? "" : ",",
                              rp_issue_kind_name((rp_issue_kind)k));
                first = false;
            }
        rp_buf_puts(b, "]}");
    }
    rp_buf_puts(b, "],\"next\":");
    if (ls.matched > ls.n && ls.n > 0)
        put_str(b, ls.rows[ls.n - 1].id, ls.rows[ls.n - 1].id_len);
    else
        rp_buf_puts(b, "null");
    rp_buf_puts(b, "}\n");
    free(ls.rows);
}

/* ---------------------------------------------------------------- routing */

static bool path_is(rp_str path, const char *s) {
    size_t n = strlen(s);
    return path.len == n && memcmp(path.ptr, s, n) == 0;
}

static bool serve_asset(rp_str path, rp_http_response *res) {
    rp_str name = path;
    if (path_is(path, "/"))
        name = rp_str_c("/index.html");
    for (const rp_asset *a = rp_assets; a->name; a++) {
        size_t n = strlen(a->name);
        if (name.len == n + 1 && memcmp(name.ptr + 1, a->name, n) == 0) {
            res->content_type = a->content_type;
            res->headers = "Content-Security-Policy: default-src 'self'; "
                           "img-src 'self' data:; frame-ancestors 'none'\r\n";
            rp_buf_append(&res->body, a->data, a->len);
            return true;
        }
    }
    return false;
}

static void api_handle(void *opaque, const rp_http_request *req,
                       rp_http_response *res) {
    proc *p = opaque;
    rp_str path = req->path;
    static const char acc[] = "/v1/accounts/";
    if (path_is(path, "/healthz"))
        get_healthz(p, res);
    else if (path_is(path, "/readyz"))
        get_readyz(p, res);
    else if (path_is(path, "/metrics"))
        get_metrics(p, res);
    else if (path_is(path, "/v1/summary"))
        get_summary(p, res);
    else if (path_is(path, "/v1/accounts"))
        get_accounts(p, req->query, res);
    else if (path.len > sizeof(acc) - 1 &&
             memcmp(path.ptr, acc, sizeof(acc) - 1) == 0) {
        rp_str id = {path.ptr + sizeof(acc) - 1, path.len - (sizeof(acc) - 1)};
        if (id.len > RP_ACCOUNT_ID_MAX)
            error_json(res, 400, "bad_request",
                       "an account id is at most 256 bytes");
        else
            get_account(p, id, res);
    } else if (!serve_asset(path, res))
        error_json(res, 404, "not_found", "no such page");
}

/* ---------------------------------------------------------------- start/stop
 */

int rp_api_start(proc *p, char *errstr, size_t errstr_size) {
    const char *listen = p->cfg->http_listen;
    if (!listen || strcmp(listen, "off") == 0)
        return 0;
    char err[256];
    int rc = rp_http_server_new(&p->http, p->loop, listen, NULL, api_handle, p,
                                err, sizeof(err));
    if (rc != 0) {
        snprintf(errstr, errstr_size, "http.listen=%s: %s", listen, err);
        p->http = NULL;
        return rc;
    }
    const char *colon = strrchr(listen, ':');
    rp_log_info("run: HTTP on %.*s:%d (dashboard /, /metrics, /readyz)",
                colon ? (int)(colon - listen) : (int)strlen(listen), listen,
                rp_http_server_port(p->http));
    return 0;
}

void rp_api_stop(proc *p) {
    if (p->http)
        rp_http_server_close(p->http);
    p->http = NULL;
}
