/*
 * metrics.c - GET /healthz, /readyz and /metrics (Prometheus text format
 * 0.0.4), and the commit latency histogram /metrics shows.
 *
 * Health says the process answers; readiness says every assigned
 * partition is restored (503 with the reason before that, and once the
 * shutdown has begun). The metrics read the processor's counters and the
 * engines' stats through the view: counters are the live tasks' plus the
 * retired ones' and never go back (see api.c); sizes are the live tasks'
 * only. Apart from the commit histogram, which the processor feeds
 * (rp_api_commit_done), everything /metrics reports is computed at the
 * request, from numbers the processor and the engines keep anyway.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "repute/engine.h"
#include "repute/http.h"
#include "repute/procview.h"
#include "repute/version.h"

#include "api/routes.h"

/* ---------------------------------------------------------------- commit */

/* Upper bounds of the commit latency histogram, in seconds. */
static const double commit_bounds[11] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,    2.5,   5,    10};

void rp_api_commit_done(rp_api *a, uint64_t ms) {
    if (!a)
        return;
    double s = (double)ms / 1000.0;
    for (int i = 0; i < 11; i++)
        if (s <= commit_bounds[i])
            a->commit_le[i]++;
    a->commit_le[11]++; /* +Inf */
    a->commit_count++;
    a->commit_seconds += s;
}

/* ---------------------------------------------------------------- health */

void rp_api_get_healthz(rp_api *a, rp_http_response *res) {
    (void)a;
    res->content_type = "text/plain; charset=utf-8";
    rp_buf_puts(&res->body, "ok\n");
}

void rp_api_get_readyz(rp_api *a, rp_http_response *res) {
    const rp_proc_view *v = a->view;
    res->content_type = "text/plain; charset=utf-8";
    if (rp_proc_view_stopping(v)) {
        res->status = 503;
        rp_buf_puts(&res->body, "shutting down\n");
    } else if (!rp_proc_view_assigned(v)) {
        res->status = 503;
        rp_buf_puts(&res->body, "waiting for a partition assignment\n");
    } else if (!rp_proc_view_ready(v)) {
        int restoring = rp_proc_view_restoring(v);
        res->status = 503;
        rp_buf_printf(&res->body, "restoring %d of %d partitions\n", restoring,
                      rp_proc_view_tasks(v));
    } else {
        rp_buf_printf(&res->body, "ready: %d partitions\n",
                      rp_proc_view_tasks(v));
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

/* A counter with one value per input topic, labelled topic="...". */
static void per_input(rp_buf *b, const rp_config *cfg, const char *name,
                      const char *help, const uint64_t v[RP_PROC_INPUTS]) {
    metric_head(b, name, "counter", help);
    for (int t = 0; t < RP_PROC_INPUTS; t++) {
        rp_buf_printf(b, "%s{topic=\"", name);
        label_value(b, cfg->topic[t]);
        rp_buf_printf(b, "\"} %" PRIu64 "\n", v[t]);
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

/* Records not yet applied, per assigned input partition. */
static void consumer_lag(const rp_proc_view *v, const rp_config *cfg,
                         rp_buf *b) {
    metric_head(b, "repute_consumer_lag", "gauge",
                "Records in each assigned input partition not yet applied "
                "(from the high watermark of the latest fetch).");
    for (int32_t i = 0; i < rp_proc_view_partitions(v); i++) {
        if (!rp_proc_view_engine(v, i, NULL))
            continue;
        for (int k = 0; k < RP_PROC_INPUTS; k++) {
            int64_t lag;
            if (!rp_proc_view_lag(v, i, k, &lag))
                continue;
            rp_buf_puts(b, "repute_consumer_lag{topic=\"");
            label_value(b, cfg->topic[k]);
            rp_buf_printf(b, "\",partition=\"%" PRId32 "\"} %" PRId64 "\n", i,
                          lag);
        }
    }
}

static void commit_histogram(const rp_api *a, rp_buf *b) {
    metric_head(b, "repute_commit_duration_seconds", "histogram",
                "Time to commit: producing nothing more, sending the "
                "offsets and committing the transaction.");
    for (int i = 0; i < 11; i++)
        rp_buf_printf(b,
                      "repute_commit_duration_seconds_bucket{le=\"%g\"} "
                      "%" PRIu64 "\n",
                      commit_bounds[i], a->commit_le[i]);
    rp_buf_printf(b,
                  "repute_commit_duration_seconds_bucket{le=\"+Inf\"} "
                  "%" PRIu64 "\n"
                  "repute_commit_duration_seconds_sum %.6f\n"
                  "repute_commit_duration_seconds_count %" PRIu64 "\n",
                  a->commit_le[11], a->commit_seconds, a->commit_count);
}

/* Readiness and restores, per assigned partition and in all. */
static void partition_gauges(const rp_proc_view *v, rp_buf *b) {
    metric_head(b, "repute_partition_ready", "gauge",
                "1 once the state of an assigned partition is restored.");
    for (int32_t i = 0; i < rp_proc_view_partitions(v); i++) {
        bool ready;
        if (rp_proc_view_engine(v, i, &ready))
            rp_buf_printf(
                b, "repute_partition_ready{partition=\"%" PRId32 "\"} %d\n", i,
                ready ? 1 : 0);
    }
    metric_head(b, "repute_restore_records", "gauge",
                "Changelog records read by the latest restore of each "
                "assigned partition.");
    for (int32_t i = 0; i < rp_proc_view_partitions(v); i++)
        if (rp_proc_view_engine(v, i, NULL))
            rp_buf_printf(b,
                          "repute_restore_records{partition=\"%" PRId32
                          "\"} %" PRIu64 "\n",
                          i, rp_proc_view_restored(v, i));
    gauge(b, "repute_ready", "1 when every assigned partition is restored.",
          rp_proc_view_ready(v) ? 1 : 0);
    gauge(b, "repute_assigned_partitions", "Partitions (tasks) assigned.",
          rp_proc_view_tasks(v));
}

/* The threads that apply records (docs/run.md, "Threads"): what each has
 * applied and how busy it is. Their sum of records differs from
 * repute_records_applied_total by the records sent to the DLQ (counted
 * here, not there) and by the work of a rewind (counted again here). */
static void thread_metrics(const rp_proc_view *v, rp_buf *b) {
    int n = rp_proc_view_threads(v);
    if (n > RP_THREADS_MAX)
        n = RP_THREADS_MAX;
    rp_proc_thread th[RP_THREADS_MAX];
    for (int i = 0; i < n; i++)
        if (!rp_proc_view_thread(v, i, &th[i]))
            memset(&th[i], 0, sizeof(th[i]));
    gauge(b, "repute_threads", "Threads that apply records (the key threads).",
          n);
    metric_head(b, "repute_thread_records_applied_total", "counter",
                "Input records each thread has applied (or sent to the "
                "dead-letter topic).");
    for (int i = 0; i < n; i++)
        rp_buf_printf(b,
                      "repute_thread_records_applied_total{thread=\"%d\"} "
                      "%" PRIu64 "\n",
                      i, th[i].applied);
    metric_head(b, "repute_thread_busy_seconds_total", "counter",
                "Seconds each thread has spent applying records and "
                "writing their changelog (its rate is the busy share).");
    for (int i = 0; i < n; i++)
        rp_buf_printf(b,
                      "repute_thread_busy_seconds_total{thread=\"%d\"} "
                      "%.3f\n",
                      i, th[i].busy_seconds);
    metric_head(b, "repute_thread_busy_ratio", "gauge",
                "Share of the last 10 s each thread was busy (0 to 1).");
    for (int i = 0; i < n; i++)
        rp_buf_printf(b, "repute_thread_busy_ratio{thread=\"%d\"} %.3f\n", i,
                      th[i].busy_share);
}

/* The version, commit and libraries of `repute --version`, as labels of a
 * constant 1, the usual form of a build_info gauge: a dashboard joins on
 * it to tell which hosts run which build. */
static void build_info(rp_buf *b) {
    rp_version_info vi;
    rp_version_get(&vi);
    const char *names[] = {"version", "commit", "librdkafka", "avro", "libuv"};
    const char *values[] = {vi.version, vi.commit, vi.librdkafka, vi.avro,
                            vi.libuv};
    metric_head(b, "repute_build_info", "gauge",
                "1, labelled with repute's version and commit and the "
                "versions of librdkafka, avro-c (at build time) and libuv.");
    rp_buf_puts(b, "repute_build_info{");
    for (int i = 0; i < 5; i++) {
        rp_buf_printf(b, "%s%s=\"", i ? "," : "", names[i]);
        label_value(b, values[i]);
        rp_buf_putc(b, '"');
    }
    rp_buf_puts(b, "} 1\n");
}

/* The engines' stats: the live tasks' (sizes) and, with the retired
 * tasks', the totals (counters). */
static void engine_stats(const rp_proc_view *v, const rp_proc_counters *pc,
                         rp_engine_stats *live, rp_engine_stats *sum) {
    memset(live, 0, sizeof(*live));
    for (int32_t i = 0; i < rp_proc_view_partitions(v); i++) {
        const rp_engine *e = rp_proc_view_engine(v, i, NULL);
        if (!e)
            continue;
        rp_engine_stats st;
        rp_engine_get_stats(e, &st);
        rp_engine_stats_add(live, &st);
    }
    *sum = pc->retired;
    rp_engine_stats_add(sum, live);
}

/* The input side: records consumed, late, the merge's waits, the
 * schema registry. */
static void input_metrics(const rp_api *a, const rp_proc_counters *pc,
                          rp_buf *b) {
    per_input(b, a->cfg, "repute_records_consumed_total",
              "Input records taken from each topic (applied to the engine "
              "or sent to the dead-letter topic).",
              pc->consumed);
    per_input(b, a->cfg, "repute_records_late_total",
              "Input records applied below their task's stream time (the "
              "largest event_time it had applied): out of event-time "
              "order, applied at the clock under clock=event.",
              pc->late);
    counter(b, "repute_merge_idle_expired_total",
            "Records applied after max.task.idle expired while a partition "
            "of their task might still have held earlier records.",
            pc->idle_expired);
    metric_head(b, "repute_merge_wait_seconds_total", "counter",
                "Time tasks spent waiting for a partition the broker said "
                "holds more records, in seconds.");
    rp_buf_printf(b, "repute_merge_wait_seconds_total %.3f\n",
                  pc->wait_seconds);
    counter(b, "repute_merge_long_waits_total",
            "Waits for a partition known to hold more records that lasted "
            "over 5 s (each one logged).",
            pc->long_waits);
    if (!pc->registry)
        return;
    counter(b, "repute_schema_registry_schemas_fetched_total",
            "Writer schemas fetched from the schema registry (once per id).",
            pc->registry_schemas);
    counter(b, "repute_schema_registry_failures_total",
            "Fetches of a writer schema that found no registry URL "
            "answering (asked again later; the records wait).",
            pc->registry_failures);
    metric_head(b, "repute_schema_registry_unreachable", "gauge",
                "1 while the schema registry cannot be reached and records "
                "wait for a writer schema, else 0.");
    rp_buf_printf(b, "repute_schema_registry_unreachable %d\n",
                  pc->registry_down ? 1 : 0);
}

/* What the engines did and what was produced and committed. */
static void output_metrics(const rp_proc_counters *pc,
                           const rp_engine_stats *sum, totals *shown,
                           rp_buf *b) {
    counter(b, "repute_records_applied_total",
            "Input records applied to the engine (duplicates not included).",
            keep_max(&shown->applied, sum->records_applied));
    counter(b, "repute_duplicates_dropped_total",
            "Records dropped as duplicates of an (account_id, event_id) "
            "seen within dedupe.horizon.",
            keep_max(&shown->duplicates, sum->duplicates_dropped));
    counter(b, "repute_actions_not_applied_total",
            "Actions that did not apply (e.g. resuming a healthy issue).",
            keep_max(&shown->not_applied, sum->actions_not_applied));
    counter(b, "repute_dlq_records_total",
            "Records sent to the dead-letter topic.", pc->dlq);
    counter(b, "repute_status_changes_published_total",
            "STATUS_CHANGE events published to the output topic.",
            keep_max(&shown->changes, sum->status_changes));
    counter(b, "repute_notifications_published_total",
            "NOTIFICATION events published to the output topic.",
            keep_max(&shown->notifications, sum->notifications));
    counter(b, "repute_related_reports_published_total",
            "RELATED_ACCOUNT reports produced to the reports topic.",
            keep_max(&shown->related, sum->related_reports));
    counter(b, "repute_produced_records_total",
            "Records produced (outputs, reports, DLQ and changelog).",
            pc->produced);
    counter(b, "repute_transactions_committed_total",
            "Commits: Kafka transactions under exactly_once, offset "
            "commits under at_least_once.",
            pc->commits);
    counter(b, "repute_transactions_aborted_total",
            "Aborted transactions (each followed by a rewind).", pc->aborts);
}

static void account_metrics(const rp_proc_view *v, rp_buf *b) {
    uint64_t c[RP_ASTATUS__COUNT];
    rp_proc_view_status_counts(v, c);
    metric_head(b, "repute_accounts", "gauge",
                "Accounts held by this instance, by account status.");
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        rp_buf_printf(b, "repute_accounts{status=\"%s\"} %" PRIu64 "\n",
                      rp_account_status_name((rp_account_status)k), c[k]);
}

/* Tenants (docs/rules.md section 10): per tenant status (the tenants the
 * rules see), in memory (those due to be forgotten too, until the sweep
 * frees them), records that named a tenant beyond tenant.max.per.account,
 * and idle HEALTHY tenants let go of. */
static void tenant_metrics(const rp_api *a, const rp_engine_stats *live,
                           const rp_engine_stats *sum, totals *shown,
                           rp_buf *b) {
    uint64_t c[RP_ASTATUS__COUNT];
    rp_api_tenant_status_counts(a, c);
    metric_head(b, "repute_tenants", "gauge",
                "Tenants held by this instance, by tenant status (forgotten "
                "ones not included).");
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        rp_buf_printf(b, "repute_tenants{status=\"%s\"} %" PRIu64 "\n",
                      rp_account_status_name((rp_account_status)k), c[k]);
    gauge(b, "repute_tenants_held",
          "Tenants in the engines' memory: those due to be forgotten "
          "included, until the sweep frees them.",
          (double)live->tenants);
    counter(b, "repute_tenant_overflows_total",
            "Records that named a tenant beyond tenant.max.per.account "
            "(applied to the account only).",
            keep_max(&shown->tenant_overflows, sum->tenant_overflows));
    counter(b, "repute_tenants_forgotten_total",
            "Tenants forgotten: HEALTHY and named by no record for the "
            "longer of window.max.span and report.window.",
            keep_max(&shown->tenants_forgotten, sum->tenants_forgotten));
}

/* Memory held by the engines. */
static void size_metrics(const rp_engine_stats *live,
                         const rp_engine_stats *sum, rp_buf *b) {
    metric_head(b, "repute_engine_state_bytes", "gauge",
                "Memory held by the engines: account state (tenants "
                "included) and the dedupe table.");
    rp_buf_printf(b,
                  "repute_engine_state_bytes{part=\"accounts\"} %" PRIu64 "\n"
                  "repute_engine_state_bytes{part=\"dedupe\"} %" PRIu64 "\n",
                  live->account_bytes, live->dedupe_bytes);
    gauge(b, "repute_dedupe_entries", "Keys in the dedupe tables.",
          (double)live->dedupe_entries);
    counter(b, "repute_dedupe_evicted_total",
            "Dedupe keys dropped because dedupe.max.entries was reached.",
            sum->dedupe_evicted);
}

/* What the HTTP API itself refused and took. */
static void http_metrics(const rp_api *a, rp_buf *b) {
    metric_head(b, "repute_http_auth_failures_total", "counter",
                "HTTP requests refused for want of a valid token or role: "
                "missing, invalid, forbidden (role too low), rate_limited.");
    for (int r = 0; r < RP_API_AUTH__COUNT; r++)
        rp_buf_printf(b,
                      "repute_http_auth_failures_total{reason=\"%s\"} "
                      "%" PRIu64 "\n",
                      rp_api_auth_reason_name(r), a->auth_failures[r]);
    metric_head(b, "repute_http_actions_total", "counter",
                "Actions posted over HTTP: accepted (acknowledged by Kafka, "
                "202), invalid (400), unacknowledged (503).");
    for (int r = 0; r < RP_API_ACT__COUNT; r++)
        rp_buf_printf(b,
                      "repute_http_actions_total{result=\"%s\"} %" PRIu64 "\n",
                      rp_api_action_result_name(r), a->actions_done[r]);
}

void rp_api_get_metrics(rp_api *a, rp_http_response *res) {
    const rp_proc_view *v = a->view;
    rp_buf *b = &res->body;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    build_info(b);
    /* Counters: the live tasks' plus the retired ones'; sizes: the live
     * tasks' only. */
    rp_proc_counters pc;
    rp_proc_view_counters(v, &pc);
    rp_engine_stats live, sum;
    engine_stats(v, &pc, &live, &sum);
    totals dummy = {0}, *shown = a->notes ? &a->notes->shown : &dummy;
    input_metrics(a, &pc, b);
    output_metrics(&pc, &sum, shown, b);
    account_metrics(v, b);
    tenant_metrics(a, &live, &sum, shown, b);
    consumer_lag(v, a->cfg, b);
    commit_histogram(a, b);
    partition_gauges(v, b);
    thread_metrics(v, b);
    size_metrics(&live, &sum, b);
    http_metrics(a, b);
    process_metrics(b);
}
