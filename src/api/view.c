/*
 * view.c - what the account page (GET /v1/accounts/{id}, accounts.c) and
 * the tenant page (GET /v1/accounts/{id}/tenants/{tenant}, tenants.c) of
 * the HTTP API share: finding the engine that holds an account, the 404
 * that says why none does, and the body of one view (status, windows,
 * issues, hours and the latest notifications) as JSON.
 *
 * A tenant is shown in the same shape as an account (docs/http.md), so a
 * client reads both with one piece of code: the two pages differ only in
 * the fields around this body (an account's links and tenants, a tenant's
 * name and its account's status). The thresholds each metric is held
 * against are the view's own: the tenant.* rates for a tenant, which the
 * configuration resolves to the account's when left unset (docs/rules.md
 * section 10).
 *
 * Notifications come from the API's ring (api.c), filtered on the account
 * and the tenant: an account's page shows the account's own, a tenant's
 * page the tenant's own. Absent values are JSON null, never 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "repute/engine.h"
#include "repute/http.h"
#include "repute/jsonl.h"
#include "repute/notice.h"
#include "repute/procview.h"

#include "api/routes.h"

void rp_api_put_cstr(rp_buf *b, const char *s) {
    rp_jsonl_write_string(b, s, strlen(s));
}

/* ---------------------------------------------------------------- finding */

const rp_engine *rp_api_find_account(const rp_api *a, rp_str id,
                                     rp_account_view *v, int32_t *part) {
    const rp_proc_view *pv = a->view;
    if (!pv)
        return NULL;
    for (int32_t i = 0; i < rp_proc_view_partitions(pv); i++) {
        bool ready;
        const rp_engine *e = rp_proc_view_engine(pv, i, &ready);
        if (e && ready && rp_engine_view(e, id, v) == 0) {
            *part = i;
            return e;
        }
    }
    return NULL;
}

/* The partition is the one librdkafka's default partitioner gives the id
 * (rp_proc_view_partition_of): a producer with another partitioner
 * places keys elsewhere; docs/http.md says so. */
void rp_api_account_not_found(const rp_api *a, rp_str id,
                              rp_http_response *res) {
    const rp_proc_view *pv = a->view;
    rp_buf *b = &res->body;
    int32_t part = pv ? rp_proc_view_partition_of(pv, id) : -1;
    bool part_ready = false;
    bool owned = part >= 0 && rp_proc_view_engine(pv, part, &part_ready);
    char msg[512];
    if (owned && !part_ready)
        snprintf(msg, sizeof(msg),
                 "partition %d is still being restored; try again shortly",
                 (int)part);
    else if (owned)
        snprintf(msg, sizeof(msg),
                 "this instance owns partition %d and holds no record of "
                 "this account",
                 (int)part);
    else
        snprintf(msg, sizeof(msg),
                 "partition %d is owned by another instance of group %s; "
                 "ask that one",
                 (int)part, a->cfg->group_id);
    res->status = 404;
    rp_buf_puts(b, "{\"error\":\"not_found\",\"account_id\":");
    rp_jsonl_write_string(b, id.ptr, id.len);
    rp_buf_printf(b, ",\"partition\":%d,\"owned\":%s,\"message\":", (int)part,
                  owned ? "true" : "false");
    rp_api_put_cstr(b, msg);
    rp_buf_puts(b, "}\n");
}

/* ---------------------------------------------------------------- pieces */

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

/* The earliest review end among the issues in review (as docs/rules.md
 * section 7 defines review_ends_at of a StatusChange). */
bool rp_api_earliest_review_end(const rp_account_view *v, int64_t *out) {
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

static void put_issues(const rp_config *cfg, const rp_account_view *v,
                       rp_buf *b) {
    rp_buf_puts(b, "[");
    bool first = true;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const rp_issue_state *is = &v->issues[k];
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
            rp_buf_printf(b, "%" PRId32, v->report_count[k]);
        else
            rp_buf_puts(b, "null");
        rp_buf_putc(b, '}');
        first = false;
    }
    rp_buf_puts(b, "]");
}

/* ---------------------------------------------------------------- notes */

/* Whether a kept note is the view's own: its account, and its tenant (none
 * for the account's own page). */
static bool note_is(const note *s, uint64_t h, rp_str id, rp_str tenant) {
    if (s->hash != h || strlen(s->id) != id.len ||
        memcmp(s->id, id.ptr, id.len) != 0)
        return false;
    if (!tenant.ptr)
        return !s->has_tenant;
    return s->has_tenant && s->tenant_len == tenant.len &&
           memcmp(s->tenant, tenant.ptr, tenant.len) == 0;
}

static void put_note(rp_api_notes *ns, const note *s, bool comma, rp_buf *b) {
    rp_notification n = s->n;
    if (s->has_tenant)
        n.tenant = (rp_str){s->tenant, s->tenant_len};
    rp_notice_render(&n, ns->why, sizeof(ns->why));
    rp_buf_printf(b,
                  "%s{\"sequence\":%" PRIu64 ",\"event_time\":%" PRId64
                  ",\"issue\":\"%s\",\"stage\":\"%s\","
                  "\"account_status\":\"%s\",\"title\":",
                  comma ? "," : "", s->sequence, s->event_time,
                  rp_issue_kind_name(n.issue), rp_stage_name(n.stage),
                  rp_account_status_name(n.account_status));
    rp_api_put_cstr(b, n.title ? n.title : "");
    rp_buf_puts(b, ",\"why\":");
    rp_api_put_cstr(b, n.why ? n.why : "");
    rp_buf_puts(b, ",\"actions\":[");
    for (size_t i = 0; i < n.n_actions; i++) {
        if (i)
            rp_buf_putc(b, ',');
        rp_api_put_cstr(b, n.actions[i]);
    }
    rp_buf_puts(b, "],\"rate\":");
    rp_jsonl_write_double_or_null(b, n.has_rate, n.rate);
    rp_buf_puts(b, ",\"threshold\":");
    rp_jsonl_write_double_or_null(b, n.has_threshold, n.threshold);
    rp_buf_puts(b, ",\"review_ends_at\":");
    rp_jsonl_write_time(b, n.has_review_end, n.review_ends_at);
    rp_buf_putc(b, '}');
}

static void put_notifications(const rp_api *a, rp_str id, rp_str tenant,
                              rp_buf *b) {
    rp_buf_puts(b, "[");
    rp_api_notes *ns = a->notes;
    uint64_t h = rp_api_id_hash(id.ptr, id.len);
    uint64_t last_seq = UINT64_MAX;
    int shown = 0;
    /* Newest first. A rewind re-publishes the events of an aborted
     * transaction with the same sequences: show each sequence once. */
    for (size_t k = 1; ns && k <= NOTES_CAP && shown < NOTES_PER_ACC; k++) {
        note *s = &ns->ring[(ns->next + NOTES_CAP - k) % NOTES_CAP];
        if (s->hash == 0 && !s->id)
            break; /* never written: the ring's older part is empty */
        if (!note_is(s, h, id, tenant) || s->sequence >= last_seq)
            continue;
        last_seq = s->sequence;
        put_note(ns, s, shown > 0, b);
        shown++;
    }
    rp_buf_puts(b, "]");
}

/* ---------------------------------------------------------------- a view */

void rp_api_put_view_body(const rp_api *a, const rp_engine *e, int32_t part,
                          const rp_account_view *v, rp_buf *b) {
    const rp_config *cfg = a->cfg;
    bool t = v->tenant.ptr != NULL;
    /* A tenant's thresholds are the tenant.* rates, which the
     * configuration module has already resolved to the account's when
     * unset (rp_config_init, rp_config_set, rp_config_validate). */
    double br = t ? cfg->tenant_bounce_review_rate : cfg->bounce_review_rate;
    double bp = t ? cfg->tenant_bounce_pause_rate : cfg->bounce_pause_rate;
    double cr =
        t ? cfg->tenant_complaint_review_rate : cfg->complaint_review_rate;
    double cp =
        t ? cfg->tenant_complaint_pause_rate : cfg->complaint_pause_rate;
    int64_t clock = rp_engine_clock(e), end = 0;
    rp_buf_printf(b,
                  "\"status\":\"%s\",\"sequence\":%" PRIu64
                  ",\"partition\":%" PRId32 ",\"clock\":",
                  rp_account_status_name(v->status), v->sequence, part);
    rp_jsonl_write_time(b, clock != INT64_MIN, clock);
    rp_buf_printf(b, ",\"manual_review\":%s,\"review_ends_at\":",
                  v->manual_review ? "true" : "false");
    bool has_end = rp_api_earliest_review_end(v, &end);
    rp_jsonl_write_time(b, has_end, end);
    rp_buf_puts(b, ",\"bounce\":");
    put_metric(b, &v->bounce, br, bp);
    rp_buf_puts(b, ",\"complaint\":");
    put_metric(b, &v->complaint, cr, cp);
    rp_buf_puts(b, ",\"issues\":");
    put_issues(cfg, v, b);
    int64_t from = v->bounce.window_start < v->complaint.window_start
                       ? v->bounce.window_start
                       : v->complaint.window_start;
    int64_t to = v->bounce.window_end > v->complaint.window_end
                     ? v->bounce.window_end
                     : v->complaint.window_end;
    rp_buf_puts(b, ",\"hours\":[");
    if (t)
        rp_engine_tenant_hours(e, v->account_id, v->tenant, from, to, put_hour,
                               b);
    else
        rp_engine_hours(e, v->account_id, from, to, put_hour, b);
    rp_buf_puts(b, "],\"notifications\":");
    put_notifications(a, v->account_id, v->tenant, b);
    rp_buf_puts(b, ",\"notifications_note\":");
    rp_api_put_cstr(b, t ? "notifications about this tenant published by "
                           "this instance since it took the account's "
                           "partition; earlier ones are on the output topic"
                         : "notifications published by this instance since "
                           "it took the account's partition; earlier ones are "
                           "on the output topic");
}
