/*
 * accounts.c - GET /v1/summary, /v1/accounts (a page of the accounts held,
 * and of the tenants that are not HEALTHY, filtered) and /v1/accounts/{id}
 * (one account, its windows, its tenants and its latest notifications),
 * as JSON. What the account page shares with the tenant page is in
 * view.c, the tenant page in tenants.c.
 *
 * The engines are read through the processor's view (repute/procview.h),
 * only those whose restore is done: a restoring task holds a part of its
 * state. An account is looked for in every ready engine; when none holds
 * it, the answer says whether its partition (by librdkafka's default
 * partitioner) is restoring here, held here with no record of it, or
 * owned by another instance of the group.
 *
 * A page of /v1/accounts keeps the `limit` smallest rows after the cursor
 * in a max-heap while it walks the engines, then sorts them: memory
 * bounded by the page, whatever the number of accounts. A row is an
 * account or a tenant that is not HEALTHY (with its account's id): rows
 * sort by account id, an account before its tenants, these by name, and
 * the cursor (`after`, `after_tenant`) is the last row shown. Only a
 * filter that includes HEALTHY walks every account; the others walk the
 * engines' lists of accounts and tenants not HEALTHY, which is also where
 * the tenants always come from (a HEALTHY tenant is listed on its
 * account's page only, so listing never walks every tenant).
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
    rp_api_put_cstr(b, s);
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
    rp_api_tenant_status_counts(a, c);
    total = 0;
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        total += c[k];
    rp_buf_printf(b, "},\"tenants\":%" PRIu64 ",\"tenants_by_status\":{",
                  total);
    for (int k = 0; k < RP_ASTATUS__COUNT; k++)
        rp_buf_printf(b, "%s\"%s\":%" PRIu64, k ? "," : "",
                      rp_account_status_name((rp_account_status)k), c[k]);
    rp_buf_puts(b, "},\"thresholds\":");
    put_thresholds(b, a->cfg);
    rp_buf_puts(b, "}\n");
}

/* ---------------------------------------------------------------- one account
 */

void rp_api_get_account(rp_api *a, rp_str id, rp_http_response *res) {
    rp_buf *b = &res->body;
    rp_account_view v;
    int32_t part;
    const rp_engine *owner = rp_api_find_account(a, id, &v, &part);
    if (!owner) {
        rp_api_account_not_found(a, id, res);
        return;
    }
    rp_buf_puts(b, "{\"account_id\":");
    rp_jsonl_write_string(b, id.ptr, id.len);
    rp_buf_puts(b, ",\"tenant\":null,");
    rp_api_put_view_body(a, owner, part, &v, b);
    rp_buf_puts(b, ",\"links\":[");
    for (size_t i = 0; i < v.n_links; i++) {
        if (i)
            rp_buf_putc(b, ',');
        put_cstr(b, v.links[i]);
    }
    rp_buf_puts(b, "],\"tenants\":");
    rp_api_put_tenant_list(owner, id, b);
    rp_buf_puts(b, "}\n");
}

/* ---------------------------------------------------------------- listing */

typedef struct row {
    char id[RP_ACCOUNT_ID_MAX + 1];
    size_t id_len;
    char tenant[RP_TENANT_MAX + 1];
    size_t tenant_len;
    bool has_tenant; /* a tenant's row: its account is id */
    rp_account_status status;
    bool has_b, has_c, has_end;
    double b, c;
    int64_t end;
    uint16_t issues; /* bit per issue kind not HEALTHY */
} row;

/* The `limit` smallest rows above the cursor (after, after_tenant) that
 * match the filters, kept as a max-heap (the root is the largest kept),
 * plus a count of every match, so the page knows whether more follow.
 * Rows sort by account id, an account before its tenants, these by name. */
typedef struct listing {
    bool want[RP_ASTATUS__COUNT];
    bool tenants_only; /* a walk of the flagged list after every account */
    row cursor;        /* after: its id and tenant */
    bool has_cursor;
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
    int c = id_cmp(a->id, a->id_len, b->id, b->id_len);
    if (c || a->has_tenant != b->has_tenant)
        return c ? c : a->has_tenant ? 1 : -1;
    return a->has_tenant
               ? id_cmp(a->tenant, a->tenant_len, b->tenant, b->tenant_len)
               : 0;
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

/* The row's key (id and tenant) from a view. */
static void row_key(row *r, const rp_account_view *v) {
    memcpy(r->id, v->account_id.ptr, v->account_id.len);
    r->id[v->account_id.len] = '\0';
    r->id_len = v->account_id.len;
    r->has_tenant = v->tenant.ptr != NULL;
    r->tenant_len = r->has_tenant ? v->tenant.len : 0;
    if (r->has_tenant)
        memcpy(r->tenant, v->tenant.ptr, v->tenant.len);
    r->tenant[r->tenant_len] = '\0';
}

/* Whether q is part of the account id or of the tenant's name. */
static bool row_has(const rp_account_view *v, const char *q) {
    size_t n = strlen(q);
    if (memmem(v->account_id.ptr, v->account_id.len, q, n))
        return true;
    return v->tenant.ptr && memmem(v->tenant.ptr, v->tenant.len, q, n);
}

static int list_one(void *opaque, const rp_account_view *v) {
    listing *ls = opaque;
    if (!ls->want[v->status] || (ls->tenants_only && !v->tenant.ptr))
        return 0;
    if (ls->q && *ls->q && !row_has(v, ls->q))
        return 0;
    row r;
    row_key(&r, v);
    if (ls->has_cursor && row_cmp(&r, &ls->cursor) <= 0)
        return 0;
    ls->matched++;
    /* Full: keep it only if it sorts before the largest kept. */
    if (ls->n == ls->limit && row_cmp(&r, &ls->rows[0]) >= 0)
        return 0;
    r.status = v->status;
    r.has_b = v->bounce.has_rate;
    r.b = v->bounce.rate;
    r.has_c = v->complaint.has_rate;
    r.c = v->complaint.rate;
    r.has_end = rp_api_earliest_review_end(v, &r.end);
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

/* Reads limit, after, after_tenant and q into ls (status is read by the
 * caller); false with a 400 in res on a bad one. The strings of ls point
 * into q_buf (257 bytes). */
static bool parse_page(rp_str query, listing *ls, char *q_buf,
                       rp_http_response *res) {
    char lim[32];
    ls->limit = LIST_DEFAULT;
    int rc = rp_http_query_get(query, "limit", lim, sizeof(lim));
    char *end = NULL;
    long n = rc >= 0 ? strtol(lim, &end, 10) : 0;
    if (rc == RP_ENOSPACE ||
        (rc >= 0 && (*lim == '\0' || *end != '\0' || n < 1 || n > LIST_MAX))) {
        rp_api_error_json(res, 400, "bad_request",
                          "limit: expected a whole number from 1 to 1000");
        return false;
    }
    if (rc >= 0)
        ls->limit = (size_t)n;
    rc =
        rp_http_query_get(query, "after", ls->cursor.id, sizeof(ls->cursor.id));
    if (rc == RP_ENOSPACE) {
        rp_api_error_json(res, 400, "bad_request",
                          "after: longer than an account id");
        return false;
    }
    ls->has_cursor = rc >= 0;
    ls->cursor.id_len = rc >= 0 ? (size_t)rc : 0;
    rc = rp_http_query_get(query, "after_tenant", ls->cursor.tenant,
                           sizeof(ls->cursor.tenant));
    if (rc == RP_ENOSPACE || (rc >= 0 && !ls->has_cursor)) {
        rp_api_error_json(res, 400, "bad_request",
                          rc >= 0 ? "after_tenant: only with after"
                                  : "after_tenant: longer than a tenant");
        return false;
    }
    ls->cursor.has_tenant = rc >= 0;
    ls->cursor.tenant_len = rc >= 0 ? (size_t)rc : 0;
    rc = rp_http_query_get(query, "q", q_buf, 257);
    if (rc == RP_ENOSPACE) {
        rp_api_error_json(res, 400, "bad_request",
                          "q: longer than an account id");
        return false;
    }
    if (rc >= 0)
        ls->q = q_buf;
    return true;
}

/* Reads status into ls->want (every status when absent); false with a 400
 * in res on an unknown one. */
static bool parse_status_filter(rp_str query, listing *ls,
                                rp_http_response *res) {
    char status[256];
    int rc = rp_http_query_get(query, "status", status, sizeof(status));
    if (rc == RP_ENOSPACE) {
        rp_api_error_json(res, 400, "bad_request", "status: too long");
        return false;
    }
    if (rc < 0 || !status[0]) {
        for (int k = 0; k < RP_ASTATUS__COUNT; k++)
            ls->want[k] = true;
        return true;
    }
    char bad[80];
    if (!parse_statuses(status, ls->want, bad, sizeof(bad))) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "status: unknown account status \"%s\" (expected "
                 "HEALTHY, UNDER_REVIEW, PENDING_END_OF_REVIEW_DECISION, "
                 "SENDING_PAUSED or PENDING_SENDING_PAUSE)",
                 bad);
        rp_api_error_json(res, 400, "bad_request", msg);
        return false;
    }
    return true;
}

/* Walks the ready engines. Only HEALTHY accounts need the walk over every
 * account; tenants are listed when not HEALTHY (a HEALTHY tenant is on its
 * account's page only), so they come from the flagged lists either way. */
static void walk(const rp_proc_view *pv, listing *ls) {
    for (int32_t i = 0; pv && i < rp_proc_view_partitions(pv); i++) {
        bool ready;
        const rp_engine *e = rp_proc_view_engine(pv, i, &ready);
        if (!e || !ready)
            continue;
        ls->tenants_only = false;
        if (ls->want[RP_ASTATUS_HEALTHY]) {
            rp_engine_foreach(e, list_one, ls);
            ls->tenants_only = true;
        }
        rp_engine_foreach_flagged(e, list_one, ls);
    }
}

static void put_row(const row *r, rp_buf *b) {
    rp_buf_puts(b, "{\"account_id\":");
    rp_jsonl_write_string(b, r->id, r->id_len);
    rp_buf_puts(b, ",\"tenant\":");
    if (r->has_tenant)
        rp_jsonl_write_string(b, r->tenant, r->tenant_len);
    else
        rp_buf_puts(b, "null");
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

void rp_api_get_accounts(rp_api *a, rp_str query, rp_http_response *res) {
    listing ls;
    char q[257];
    memset(&ls, 0, sizeof(ls));
    if (!parse_status_filter(query, &ls, res) ||
        !parse_page(query, &ls, q, res))
        return;
    ls.rows = malloc(ls.limit * sizeof(row));
    if (!ls.rows) {
        rp_api_error_json(res, 503, "unavailable", "out of memory");
        return;
    }
    walk(a->view, &ls);
    qsort(ls.rows, ls.n, sizeof(row), row_qsort_cmp);
    rp_buf *b = &res->body;
    rp_buf_puts(b, "{\"accounts\":[");
    for (size_t i = 0; i < ls.n; i++) {
        if (i)
            rp_buf_putc(b, ',');
        put_row(&ls.rows[i], b);
    }
    /* The cursor of the next page: the last row's account id, and its
     * tenant (null for an account's row). */
    const row *last = ls.n ? &ls.rows[ls.n - 1] : NULL;
    bool more = ls.matched > ls.n && last;
    rp_buf_puts(b, "],\"next\":");
    if (more)
        rp_jsonl_write_string(b, last->id, last->id_len);
    else
        rp_buf_puts(b, "null");
    rp_buf_puts(b, ",\"next_tenant\":");
    if (more && last->has_tenant)
        rp_jsonl_write_string(b, last->tenant, last->tenant_len);
    else
        rp_buf_puts(b, "null");
    rp_buf_puts(b, "}\n");
    free(ls.rows);
    ls.rows = NULL;
}
