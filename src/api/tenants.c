/*
 * tenants.c - the tenants of the HTTP API (docs/rules.md section 10,
 * docs/http.md): GET /v1/accounts/{id}/tenants/{tenant}, the "tenants"
 * list of an account's page, and the count of tenants per status that
 * /v1/summary and /metrics show.
 *
 * A tenant's page has the shape of an account's (view.c writes the shared
 * body), with the tenant's name, its account's status (a gateway stops a
 * tenant's mail while either is SENDING_PAUSED) and no links or tenants
 * of its own. The engine's views already answer "not found" for a tenant
 * due to be forgotten, so a tenant the rules no longer see is not shown
 * either, even before the sweep frees it.
 *
 * An account's list of tenants comes from rp_engine_foreach_tenant, in
 * the byte order of their names; it is bounded by tenant.max.per.account,
 * so the account's page lists them all, each with its status, rates,
 * earliest review end and open issues (the row of /v1/accounts).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "repute/engine.h"
#include "repute/http.h"
#include "repute/jsonl.h"
#include "repute/procview.h"

#include "api/routes.h"

/* ---------------------------------------------------------------- counts */

void rp_api_tenant_status_counts(const rp_api *a,
                                 uint64_t out[RP_ASTATUS__COUNT]) {
    const rp_proc_view *pv = a->view;
    memset(out, 0, sizeof(uint64_t) * RP_ASTATUS__COUNT);
    for (int32_t i = 0; pv && i < rp_proc_view_partitions(pv); i++) {
        const rp_engine *e = rp_proc_view_engine(pv, i, NULL);
        if (!e)
            continue;
        uint64_t c[RP_ASTATUS__COUNT];
        rp_engine_tenant_status_counts(e, c);
        for (int k = 0; k < RP_ASTATUS__COUNT; k++)
            out[k] += c[k];
    }
}

/* ---------------------------------------------------------------- the list */

static int put_tenant_row(void *opaque, const rp_account_view *v) {
    rp_buf *b = opaque;
    if (b->data[b->len - 1] != '[')
        rp_buf_putc(b, ',');
    rp_buf_puts(b, "{\"tenant\":");
    rp_jsonl_write_string(b, v->tenant.ptr, v->tenant.len);
    rp_buf_printf(b, ",\"status\":\"%s\",\"bounce_rate\":",
                  rp_account_status_name(v->status));
    rp_jsonl_write_double_or_null(b, v->bounce.has_rate, v->bounce.rate);
    rp_buf_puts(b, ",\"complaint_rate\":");
    rp_jsonl_write_double_or_null(b, v->complaint.has_rate, v->complaint.rate);
    int64_t end = 0;
    bool has_end = rp_api_earliest_review_end(v, &end);
    rp_buf_puts(b, ",\"review_ends_at\":");
    rp_jsonl_write_time(b, has_end, end);
    rp_buf_puts(b, ",\"issues\":[");
    bool first = true;
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        if (v->issues[k].status != RP_ISTATUS_HEALTHY) {
            rp_buf_printf(b, "%s\"%s\"", first ? "" : ",",
                          rp_issue_kind_name((rp_issue_kind)k));
            first = false;
        }
    rp_buf_puts(b, "]}");
    return 0;
}

void rp_api_put_tenant_list(const rp_engine *e, rp_str id, rp_buf *b) {
    rp_buf_putc(b, '[');
    rp_engine_foreach_tenant(e, id, put_tenant_row, b);
    rp_buf_putc(b, ']');
}

/* ---------------------------------------------------------------- one tenant
 */

void rp_api_get_tenant(rp_api *a, rp_str id, rp_str tenant,
                       rp_http_response *res) {
    rp_buf *b = &res->body;
    rp_account_view acc, v;
    int32_t part;
    const rp_engine *owner = rp_api_find_account(a, id, &acc, &part);
    if (!owner) {
        rp_api_account_not_found(a, id, res);
        return;
    }
    rp_account_status acc_status = acc.status;
    if (rp_engine_view_tenant(owner, id, tenant, &v) != 0) {
        res->status = 404;
        rp_buf_puts(b, "{\"error\":\"not_found\",\"account_id\":");
        rp_jsonl_write_string(b, id.ptr, id.len);
        rp_buf_puts(b, ",\"tenant\":");
        rp_jsonl_write_string(b, tenant.ptr, tenant.len);
        rp_buf_printf(b,
                      ",\"partition\":%" PRId32 ",\"owned\":true,"
                      "\"message\":",
                      part);
        rp_api_put_cstr(b, "the account holds no such tenant: none of its "
                           "records named it, or it was idle and HEALTHY "
                           "long enough to be forgotten");
        rp_buf_puts(b, "}\n");
        return;
    }
    rp_buf_puts(b, "{\"account_id\":");
    rp_jsonl_write_string(b, id.ptr, id.len);
    rp_buf_puts(b, ",\"tenant\":");
    rp_jsonl_write_string(b, tenant.ptr, tenant.len);
    rp_buf_printf(b, ",\"account_status\":\"%s\",",
                  rp_account_status_name(acc_status));
    rp_api_put_view_body(a, owner, part, &v, b);
    rp_buf_puts(b, ",\"links\":[],\"tenants\":[]}\n");
}
