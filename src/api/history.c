/*
 * history.c - GET /v1/accounts/{id}/history and
 * GET /v1/accounts/{id}/tenants/{tenant}/history (docs/http.md,
 * docs/history.md): what changed an account or a tenant, newest first.
 *
 * The entries are the engine's own (rp_engine_history), read through the
 * same path as the account's page: the ready engine that holds the
 * account. With several key threads the API runs only between rounds
 * (docs/run.md, "Threads"), so the engine is not changing while it is
 * read. Newest first, because the page shows a timeline from the latest
 * change down and a client that wants the last few stops early. An
 * account that never left HEALTHY has no history: an empty list, not a
 * 404 (the account is there).
 */
#include <string.h>

#include "repute/engine.h"
#include "repute/http.h"
#include "repute/jsonl.h"
#include "repute/procview.h"

#include "api/routes.h"

static void put_str_or_null(rp_buf *b, rp_str s) {
    if (s.ptr)
        rp_jsonl_write_string(b, s.ptr, s.len);
    else
        rp_buf_puts(b, "null");
}

static int put_entry(void *opaque, const rp_history_entry *h) {
    rp_buf *b = opaque;
    if (b->data[b->len - 1] != '[')
        rp_buf_putc(b, ',');
    rp_buf_puts(b, "{\"time\":");
    rp_jsonl_write_time(b, true, h->time);
    switch (h->kind) {
    case RP_HISTORY_STATUS_CHANGE:
        rp_buf_printf(b,
                      ",\"kind\":\"status_change\",\"from\":\"%s\",\"to\":"
                      "\"%s\",\"cause\":\"%s\"}",
                      rp_account_status_name(h->from),
                      rp_account_status_name(h->to),
                      rp_issue_kind_name(h->cause));
        break;
    case RP_HISTORY_ACTION:
        rp_buf_printf(b, ",\"kind\":\"action\",\"action\":\"%s\",\"issue\":",
                      rp_action_type_name(h->action));
        if (h->has_issue)
            rp_buf_printf(b, "\"%s\"", rp_issue_kind_name(h->issue));
        else
            rp_buf_puts(b, "null");
        rp_buf_printf(
            b, ",\"applied\":%s,\"actor\":", h->applied ? "true" : "false");
        put_str_or_null(b, h->actor);
        rp_buf_puts(b, ",\"note\":");
        put_str_or_null(b, h->note);
        rp_buf_putc(b, '}');
        break;
    default:
        rp_buf_printf(b,
                      ",\"kind\":\"notification\",\"issue\":\"%s\",\"stage\":"
                      "\"%s\"}",
                      rp_issue_kind_name(h->issue), rp_stage_name(h->stage));
        break;
    }
    return 0;
}

void rp_api_get_history(rp_api *a, rp_str id, rp_str tenant,
                        rp_http_response *res) {
    rp_buf *b = &res->body;
    rp_account_view v;
    int32_t part;
    const rp_engine *owner = rp_api_find_account(a, id, &v, &part);
    if (!owner) {
        rp_api_account_not_found(a, id, res);
        return;
    }
    if (tenant.ptr && rp_engine_view_tenant(owner, id, tenant, &v) != 0) {
        rp_api_error_json(res, 404, "not_found",
                          "the account holds no such tenant: none of its "
                          "records named it, or it was idle and HEALTHY "
                          "long enough to be forgotten");
        return;
    }
    rp_buf_puts(b, "{\"account_id\":");
    rp_jsonl_write_string(b, id.ptr, id.len);
    rp_buf_puts(b, ",\"tenant\":");
    put_str_or_null(b, tenant);
    rp_buf_printf(b, ",\"max_entries\":%d,\"entries\":[",
                  (int)a->cfg->history_max_entries);
    rp_engine_history(owner, id, tenant, put_entry, b);
    rp_buf_puts(b, "]}\n");
}
