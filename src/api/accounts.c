/*
 * accounts.c - GET /v1/summary, /v1/accounts (a page of the accounts held,
 * filtered) and /v1/accounts/{id} (one account, its windows and its
 * latest notifications), as JSON.
 *
 * The engines are read through the processor's view (repute/procview.h),
 * only those whose restore is done: a restoring task holds a part of its
 * state. An account is looked for in every ready engine; when none holds
 * it, the answer says whether its partition (by librdkafka's default
 * partitioner) is restoring here, held here with no record of it, or
 * owned by another instance of the group.
 *
 * A page of /v1/accounts keeps the `limit` smallest ids after `after` in a
 * max-heap while it walks the engines, then sorts them: memory bounded by
 * the page, whatever the number of accounts. The next page starts after
 * the last id shown. Only a filter that includes HEALTHY walks every
 * account; the others walk the engines' lists of accounts not HEALTHY.
 *
 * Absent values are JSON null (rp_jsonl_write_time and
 * rp_jsonl_write_double_or_null), never 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repute/engine.h"
#include "repute/http.h"
#include "repute/jsonl.h"
#include "repute/notice.h"
#include "repute/procview.h"

#include "api/routes.h"

#define LIST_MAX     1000 /* the largest page of /v1/accounts */
#define LIST_DEFAULT 50

/* ---------------------------------------------------------------- helpers */

/* A NUL-terminated string as a JSON string; the other JSON values are
 * written by repute/jsonl.h, as in the output topics. */
static void put_cstr(rp_buf *b, const char *s) {
    rp_jsonl_write_string(b, s, strlen(s));
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

void rp_api_get_summary(rp_api *a, rp_http_response *res) {
    const rp_proc_view *pv = a->view;
    rp_buf *b = &res->body;
    int64_t clock = rp_proc_view_clock(pv);
    rp_buf_printf(b, "{\"ready\":%s,\"clock\":",
                  rp_proc_view_ready(pv) ? "true" : "false");
    rp_jsonl_write_time(b, clock != INT64_MIN, clock);
    rp_buf_printf(b, ",\"clock_mode\":\"%s\",\"guarantee\":\"%s\",\"group\":",
                  a->cfg->clock == RP_CLOCK_EVENT ? "event" : "wall",
                  rp_proc_view_exactly_once(pv) ? "exactly_once"
                                                : "at_least_once");
    put_cstr(b, a->cfg->group_id);
    rp_buf_puts(b, ",\"partitions\":[");
    bool first = true;
    for (int32_t i = 0; i < rp_proc_view_partitions(pv); i++)
        if (rp_proc_view_engine(pv, i, NULL)) {
            rp_buf_printf(b, "%s%" PRId32, first ? "" : ",", i);
            first = false;
        }
    uint64_t c[RP_ASTATUS__COUNT], total = 0;
    rp_proc_view_status_counts(pv, c);
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        total += c[k];
    rp_buf_printf(b,
                  "],\"partition_count\":%" PRId32 ",\"accounts\":%" PRIu64
                  ",\"by_status\":{",
                  rp_proc_view_partitions(pv), total);
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        rp_buf_printf(b, "%s\"%s\":%" PRIu64, k ? "," : "",
                      rp_account_status_name((rp_account_status)k), c[k]);
    rp_buf_puts(b, "},\"thresholds\":");
    put_thresholds(b, a->cfg);
    rp_buf_puts(b, "}\n");
}

/* ---------------------------------------------------------------- one account
 */

static void put_metric(rp_buf *b, const rp_metric_snapshot *m, double review,
                       double pause) {
    rp_buf_printf(
        b, "{\"status\":\"%s\",\"rate\":", rp_issue_status_name(m->status));
    rp_jsonl_write_double_or_null(b, m->has_rate, m->rate);
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

/* The earliest review end among the issues in review (as docs/rules.md section
 * 7 defines review_ends_at of a StatusChange). */
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

static void put_notifications(const rp_api *a, rp_str id, rp_buf *b) {
    rp_buf_puts(b, "[");
    if (!a->notes) {
        rp_buf_puts(b, "]");
        return;
    }
    rp_api_notes *ns = a->notes;
    uint64_t h = rp_api_id_hash(id.ptr, id.len);
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
        rp_jsonl_write_double_or_null(b, n.has_rate, n.rate);
        rp_buf_puts(b, ",\"threshold\":");
        rp_jsonl_write_double_or_null(b, n.has_threshold, n.threshold);
        rp_buf_puts(b, ",\"review_ends_at\":");
        rp_jsonl_write_time(b, n.has_review_end, n.review_ends_at);
        rp_buf_putc(b, '}');
        shown++;
    }
    rp_buf_puts(b, "]");
}

/* The partition is the one librdkafka's default partitioner gives the id
 * (rp_proc_view_partition_of): a producer with another partitioner
 * places keys elsewhere; docs/http.md says so. */
void rp_api_get_account(rp_api *a, rp_str id, rp_http_response *res) {
    const rp_proc_view *pv = a->view;
    rp_buf *b = &res->body;
    rp_account_view v;
    const rp_engine *owner = NULL;
    int32_t owner_part = -1;
    int32_t part = rp_proc_view_partition_of(pv, id);
    for (int32_t i = 0; i < rp_proc_view_partitions(pv) && !owner; i++) {
        bool ready;
        const rp_engine *e = rp_proc_view_engine(pv, i, &ready);
        if (e && ready && rp_engine_view(e, id, &v) == 0) {
            owner = e;
            owner_part = i;
        }
    }
    if (!owner) {
        bool part_ready = false;
        bool owned = part >= 0 && rp_proc_view_engine(pv, part, &part_ready);
        char msg[512];
        if (owned && !part_ready)
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
                     (int)part, a->cfg->group_id);
        res->status = 404;
        rp_buf_puts(b, "{\"error\":\"not_found\",\"account_id\":");
        rp_jsonl_write_string(b, id.ptr, id.len);
        rp_buf_printf(b,
                      ",\"partition\":%d,\"owned\":%s,\"message\":", (int)part,
                      owned ? "true" : "false");
        put_cstr(b, msg);
        rp_buf_puts(b, "}\n");
        return;
    }
    const rp_config *cfg = a->cfg;
    int64_t clock = rp_engine_clock(owner);
    rp_buf_puts(b, "{\"account_id\":");
    rp_jsonl_write_string(b, id.ptr, id.len);
    rp_buf_printf(b,
                  ",\"status\":\"%s\",\"sequence\":%" PRIu64
                  ",\"partition\":%" PRId32 ",\"clock\":",
                  rp_account_status_name(v.status), v.sequence, owner_part);
    rp_jsonl_write_time(b, clock != INT64_MIN, clock);
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
    rp_jsonl_write_time(b, has_end, end);
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
        rp_jsonl_write_time(b, is->has_review_end, is->review_ends_at);
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
    rp_engine_hours(owner, id, from, to, put_hour, b);
    rp_buf_puts(b, "],\"notifications\":");
    put_notifications(a, id, b);
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

void rp_api_get_accounts(rp_api *a, rp_str query, rp_http_response *res) {
    const rp_proc_view *pv = a->view;
    char status[256], after[RP_ACCOUNT_ID_MAX + 1], q[257], lim[32];
    listing ls;
    memset(&ls, 0, sizeof(ls));
    int rc = rp_http_query_get(query, "status", status, sizeof(status));
    if (rc == RP_ENOSPACE) {
        rp_api_error_json(res, 400, "bad_request", "status: too long");
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
            rp_api_error_json(res, 400, "bad_request", msg);
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
            rp_api_error_json(res, 400, "bad_request",
                              "limit: expected a whole number from 1 to 1000");
            return;
        }
        ls.limit = (size_t)n;
    } else if (rc == RP_ENOSPACE) {
        rp_api_error_json(res, 400, "bad_request",
                          "limit: expected a whole number from 1 to 1000");
        return;
    }
    rc = rp_http_query_get(query, "after", after, sizeof(after));
    if (rc == RP_ENOSPACE) {
        rp_api_error_json(res, 400, "bad_request",
                          "after: longer than an account id");
        return;
    }
    if (rc >= 0) {
        ls.after = after;
        ls.after_len = (size_t)rc;
    }
    rc = rp_http_query_get(query, "q", q, sizeof(q));
    if (rc == RP_ENOSPACE) {
        rp_api_error_json(res, 400, "bad_request",
                          "q: longer than an account id");
        return;
    }
    if (rc >= 0)
        ls.q = q;
    ls.rows = malloc(ls.limit * sizeof(row));
    if (!ls.rows) {
        rp_api_error_json(res, 503, "unavailable", "out of memory");
        return;
    }
    /* Only HEALTHY accounts need the walk over every account. */
    for (int32_t i = 0; i < rp_proc_view_partitions(pv); i++) {
        bool ready;
        const rp_engine *e = rp_proc_view_engine(pv, i, &ready);
        if (!e || !ready)
            continue;
        if (ls.want[RP_ASTATUS_HEALTHY])
            rp_engine_foreach(e, list_one, &ls);
        else
            rp_engine_foreach_flagged(e, list_one, &ls);
    }
    qsort(ls.rows, ls.n, sizeof(row), row_qsort_cmp);
    rp_buf *b = &res->body;
    rp_buf_puts(b, "{\"accounts\":[");
    for (size_t i = 0; i < ls.n; i++) {
        const row *r = &ls.rows[i];
        rp_buf_puts(b, i ? ",{\"account_id\":" : "{\"account_id\":");
        rp_jsonl_write_string(b, r->id, r->id_len);
        rp_buf_printf(b, ",\"status\":\"%s\",\"bounce_rate\":",
                      rp_account_status_name(r->status));
        rp_jsonl_write_double_or_null(b, r->has_b, r->b);
        rp_buf_puts(b, ",\"complaint_rate\":");
        rp_jsonl_write_double_or_null(b, r->has_c, r->c);
        rp_buf_puts(b, ",\"review_ends_at\":");
        rp_jsonl_write_time(b, r->has_end, r->end);
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
        rp_jsonl_write_string(b, ls.rows[ls.n - 1].id,
                              ls.rows[ls.n - 1].id_len);
    else
        rp_buf_puts(b, "null");
    rp_buf_puts(b, "}\n");
    free(ls.rows);
}
