/*
 * api.c - what `repute run` tells over HTTP: health, readiness, Prometheus
 * metrics, the accounts it holds, and the dashboard's files. This file
 * makes the API object, keeps the notifications and routes the requests;
 * metrics.c and accounts.c answer them.
 *
 * Design
 * ------
 * The server (src/http/) parses requests on the processor's libuv
 * loop and calls api_handle() for each complete GET. Every handler runs on
 * the loop thread, like the processor itself, so it reads the tasks'
 * engines through the processor's read-only view (repute/procview.h)
 * directly, without locks and without copies; a handler only has to be
 * quick, because the loop applies no record while it runs. The API knows
 * nothing else of the processor: the view lends numbers and const engines,
 * and the processor tells the API, through repute/api.h, the two things
 * the view cannot show (notifications and commit times). The cheap paths
 * are the common ones: /metrics and /v1/summary read counters the engines
 * keep (per-status counts, stats), and listing the accounts that need
 * attention walks only the engines' lists of accounts that are not
 * HEALTHY. Listing HEALTHY accounts walks every account and costs about a
 * microsecond each: it is there for completeness and paginated, not for
 * polling.
 *
 * Notifications are events, not state: the engine does not keep them. To
 * show an account's latest notifications, rp_api_note_event() keeps the
 * notifications published by this process in a ring of fixed size (the
 * texts are re-rendered from the kept fields on request, so an entry is
 * small). After a restart or a rebalance an account's earlier
 * notifications are on the output topic only; the page says so. The ring
 * is allocated at the first notification, whether the server is on or
 * off.
 *
 * Prometheus counters must never go back, but a rewind after an aborted
 * transaction rebuilds the tasks' engines, whose counters start again from
 * the committed state. The totals reported are therefore the largest ever
 * reported (kept with the notifications, so from the first notification
 * on): re-done work is not counted twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repute/api.h"
#include "repute/assets.h"
#include "repute/http.h"
#include "repute/jsonl.h"
#include "repute/log.h"

#include "api/routes.h"

/* ---------------------------------------------------------------- notes */

void rp_api_note_event(rp_api *a, const rp_event *ev) {
    if (!a)
        return;
    if (ev->kind != RP_EVENT_NOTIFICATION || !ev->notification)
        return;
    if (!a->notes) {
        a->notes = calloc(1, sizeof(*a->notes));
        if (!a->notes)
            return; /* the notes are a convenience: do without */
    }
    rp_api_notes *ns = a->notes;
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
    s->hash = rp_api_id_hash(ev->account_id.ptr, ev->account_id.len);
    s->sequence = ev->sequence;
    s->event_time = ev->event_time;
    s->n = *ev->notification;
    s->n.title = s->n.why = NULL;
    s->n.n_actions = 0;
    ns->next = (ns->next + 1) % NOTES_CAP;
}

void rp_api_free(rp_api *a) {
    if (!a)
        return;
    if (a->notes) {
        for (size_t i = 0; i < NOTES_CAP; i++)
            free(a->notes->ring[i].id);
        free(a->notes);
    }
    free(a);
}

/* ---------------------------------------------------------------- errors */

void rp_api_error_json(rp_http_response *res, int status, const char *code,
                       const char *msg) {
    res->status = status;
    rp_buf_puts(&res->body, "{\"error\":");
    rp_jsonl_write_string(&res->body, code, strlen(code));
    rp_buf_puts(&res->body, ",\"message\":");
    rp_jsonl_write_string(&res->body, msg, strlen(msg));
    rp_buf_puts(&res->body, "}\n");
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
    rp_api *a = opaque;
    rp_str path = req->path;
    static const char acc[] = "/v1/accounts/";
    if (path_is(path, "/healthz"))
        rp_api_get_healthz(a, res);
    else if (path_is(path, "/readyz"))
        rp_api_get_readyz(a, res);
    else if (path_is(path, "/metrics"))
        rp_api_get_metrics(a, res);
    else if (path_is(path, "/v1/summary"))
        rp_api_get_summary(a, res);
    else if (path_is(path, "/v1/accounts"))
        rp_api_get_accounts(a, req->query, res);
    else if (path.len > sizeof(acc) - 1 &&
             memcmp(path.ptr, acc, sizeof(acc) - 1) == 0) {
        rp_str id = {path.ptr + sizeof(acc) - 1, path.len - (sizeof(acc) - 1)};
        if (id.len > RP_ACCOUNT_ID_MAX)
            rp_api_error_json(res, 400, "bad_request",
                              "an account id is at most 256 bytes");
        else
            rp_api_get_account(a, id, res);
    } else if (!serve_asset(path, res))
        rp_api_error_json(res, 404, "not_found", "no such page");
}

/* ---------------------------------------------------------------- start/stop
 */

int rp_api_start(rp_api **out, uv_loop_t *loop, const rp_config *cfg,
                 const rp_proc_view *view, char *errstr, size_t errstr_size) {
    *out = NULL;
    rp_api *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(errstr, errstr_size, "http: out of memory");
        return RP_ENOMEM;
    }
    a->loop = loop;
    a->cfg = cfg;
    a->view = view;
    const char *listen = cfg->http_listen;
    if (!listen || strcmp(listen, "off") == 0) {
        *out = a;
        return 0;
    }
    char err[256];
    int rc = rp_http_server_new(&a->http, loop, listen, NULL, api_handle, a,
                                err, sizeof(err));
    if (rc != 0) {
        snprintf(errstr, errstr_size, "http.listen=%s: %s", listen, err);
        free(a);
        return rc;
    }
    const char *colon = strrchr(listen, ':');
    rp_log_info("run: HTTP on %.*s:%d (dashboard /, /metrics, /readyz)",
                colon ? (int)(colon - listen) : (int)strlen(listen), listen,
                rp_http_server_port(a->http));
    *out = a;
    return 0;
}

void rp_api_stop(rp_api *a) {
    if (!a)
        return;
    if (a->http)
        rp_http_server_close(a->http);
    a->http = NULL;
}
