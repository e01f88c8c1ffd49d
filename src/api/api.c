/*
 * api.c - what `repute run` tells over HTTP: health, readiness, Prometheus
 * metrics, the accounts it holds, and the dashboard's files. This file
 * makes the API object, keeps the notifications and routes the requests;
 * metrics.c and accounts.c answer them.
 *
 * Design
 * ------
 * The server (src/http/) parses requests on the processor's libuv
 * loop and calls api_handle() for each complete request, which finds its
 * route in the table below, checks its method and, for every route but
 * the open ones, the caller's token and role (access.c; docs/api-auth.md)
 * before the route's handler runs. Every handler runs on
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

/* Copies n bytes into a slot's reusable buffer; false when out of memory. */
static bool keep_copy(char **buf, size_t *cap, const char *p, size_t n) {
    if (*cap < n + 1) {
        char *q = realloc(*buf, n + 1);
        if (!q)
            return false;
        *buf = q;
        *cap = n + 1;
    }
    if (n)
        memcpy(*buf, p, n);
    (*buf)[n] = '\0';
    return true;
}

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
    /* The event's tenant, or the notification's (the engine sets both). */
    rp_str tenant = ev->tenant.ptr ? ev->tenant : ev->notification->tenant;
    if (!keep_copy(&s->id, &s->id_cap, ev->account_id.ptr, ev->account_id.len))
        return;
    s->has_tenant = tenant.ptr != NULL && tenant.len > 0;
    s->tenant_len = s->has_tenant ? tenant.len : 0;
    if (s->has_tenant &&
        !keep_copy(&s->tenant, &s->tenant_cap, tenant.ptr, tenant.len)) {
        s->hash = 0; /* the slot is unusable; the ring stays ordered */
        return;
    }
    s->hash = rp_api_id_hash(ev->account_id.ptr, ev->account_id.len);
    s->sequence = ev->sequence;
    s->event_time = ev->event_time;
    s->n = *ev->notification;
    s->n.title = s->n.why = NULL;
    s->n.n_actions = 0;
    /* Never keep the borrowed pointer: it is set from the copy when the
     * note is shown. */
    s->n.tenant = RP_STR_NULL;
    ns->next = (ns->next + 1) % NOTES_CAP;
}

void rp_api_free(rp_api *a) {
    if (!a)
        return;
    if (a->notes) {
        for (size_t i = 0; i < NOTES_CAP; i++) {
            free(a->notes->ring[i].id);
            free(a->notes->ring[i].tenant);
        }
        free(a->notes);
    }
    rp_api_actions_free(a);
    rp_api_access_free(a);
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
            /* Strict: nothing but this server's own files, no inline
             * script or style, no frames, no forms sent elsewhere; and no
             * referrer, so an account id in the URL stays here. */
            res->headers =
                "Content-Security-Policy: default-src 'none'; "
                "script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; base-uri 'none'; form-action 'self'; "
                "frame-ancestors 'none'\r\n"
                "Referrer-Policy: no-referrer\r\n";
            rp_buf_append(&res->body, a->data, a->len);
            return true;
        }
    }
    return false;
}

/* The route table. A route names a path (exact, or an account's under
 * /v1/accounts/), the one method it takes (GET also answers HEAD) and
 * whether it is open to everyone; every other route needs a token when a
 * tokens file is set: the viewer role for GET, the operator role for POST.
 * Two routes may share a path with different methods (an account id may
 * end in "/actions", so GET /v1/accounts/x/actions is the account
 * "x/actions"); a path that matches only routes of other methods is a 405
 * naming theirs. */
typedef enum match { EXACT, ACCOUNT, ACCOUNT_ACTIONS } match;

typedef struct route {
    const char *path; /* EXACT: the path; else the account prefix */
    match match;
    bool post; /* POST; else GET and HEAD */
    bool open; /* no token needed, ever (/metrics: see route_open) */
    void (*fn)(rp_api *a, const rp_http_request *req, rp_str id,
               const rp_auth_caller *who, rp_http_response *res);
} route;

#define ACC_PREFIX "/v1/accounts/"
#define ACTIONS    "/actions"

static void r_healthz(rp_api *a, const rp_http_request *req, rp_str id,
                      const rp_auth_caller *who, rp_http_response *res) {
    (void)req, (void)id, (void)who;
    rp_api_get_healthz(a, res);
}

static void r_readyz(rp_api *a, const rp_http_request *req, rp_str id,
                     const rp_auth_caller *who, rp_http_response *res) {
    (void)req, (void)id, (void)who;
    rp_api_get_readyz(a, res);
}

static void r_metrics(rp_api *a, const rp_http_request *req, rp_str id,
                      const rp_auth_caller *who, rp_http_response *res) {
    (void)req, (void)id, (void)who;
    rp_api_get_metrics(a, res);
}

static void r_summary(rp_api *a, const rp_http_request *req, rp_str id,
                      const rp_auth_caller *who, rp_http_response *res) {
    (void)req, (void)id, (void)who;
    rp_api_get_summary(a, res);
}

static void r_accounts(rp_api *a, const rp_http_request *req, rp_str id,
                       const rp_auth_caller *who, rp_http_response *res) {
    (void)id, (void)who;
    rp_api_get_accounts(a, req->query, res);
}

#define HISTORY "/history"

/* Whether path names a tenant: no account held here has the whole path as
 * its id (an account id may hold "/tenants/") and it splits at
 * "/tenants/". 1 with *acc and *tenant set; 0 when it names no tenant; -1
 * when the parts are out of bounds, with the 400 written. */
static int names_tenant(rp_api *a, rp_str path, rp_str *acc, rp_str *tenant,
                        rp_http_response *res) {
    rp_account_view v;
    int32_t part;
    if ((path.len <= RP_ACCOUNT_ID_MAX &&
         rp_api_find_account(a, path, &v, &part)) ||
        !rp_api_split_tenant(path, acc, tenant))
        return 0;
    if (acc->len == 0 || acc->len > RP_ACCOUNT_ID_MAX || tenant->len == 0 ||
        tenant->len > RP_TENANT_MAX) {
        rp_api_error_json(res, 400, "bad_request",
                          "an account id and a tenant are 1 to 256 bytes "
                          "each");
        return -1;
    }
    return 1;
}

/* .../history with its suffix taken off (path): the history of the account
 * path names when it holds one here, else of the tenant it names. */
static void r_history(rp_api *a, rp_str path, rp_http_response *res) {
    rp_str acc, tenant;
    int t = names_tenant(a, path, &acc, &tenant, res);
    if (t < 0)
        return;
    if (t > 0) {
        rp_api_get_history(a, acc, tenant, res);
        return;
    }
    if (path.len == 0 || path.len > RP_ACCOUNT_ID_MAX) {
        rp_api_error_json(res, 400, "bad_request",
                          "an account id is 1 to 256 bytes");
        return;
    }
    rp_api_get_history(a, path, RP_STR_NULL, res);
}

/* /v1/accounts/{id}, or /v1/accounts/{id}/tenants/{tenant} when the whole
 * path names no account held here (an account id may hold "/tenants/":
 * such an account's page keeps working), or the history of either when
 * the path ends in "/history" and names no account held here either. */
static void r_account(rp_api *a, const rp_http_request *req, rp_str id,
                      const rp_auth_caller *who, rp_http_response *res) {
    (void)req, (void)who;
    rp_account_view v;
    int32_t part;
    rp_str acc, tenant;
    size_t hl = sizeof(HISTORY) - 1;
    if (id.len > hl && memcmp(id.ptr + id.len - hl, HISTORY, hl) == 0 &&
        (id.len > RP_ACCOUNT_ID_MAX ||
         !rp_api_find_account(a, id, &v, &part))) {
        r_history(a, (rp_str){id.ptr, id.len - hl}, res);
        return;
    }
    int t = names_tenant(a, id, &acc, &tenant, res);
    if (t < 0)
        return;
    if (t > 0) {
        rp_api_get_tenant(a, acc, tenant, res);
        return;
    }
    if (id.len > RP_ACCOUNT_ID_MAX) {
        rp_api_error_json(res, 400, "bad_request",
                          "an account id is at most 256 bytes");
        return;
    }
    rp_api_get_account(a, id, res);
}

/* The tenant routes /v1/accounts/{id}/tenants/{tenant}[/actions]: the
 * path (without "/actions") is split at the first "/tenants/" (docs/
 * api-actions.md: an account id that holds "/tenants/" cannot be acted on
 * over HTTP; docs/http.md for GET). */
#define TENANTS "/tenants/"

bool rp_api_split_tenant(rp_str path, rp_str *id, rp_str *tenant) {
    size_t tl = sizeof(TENANTS) - 1;
    for (size_t i = 0; i + tl <= path.len; i++) {
        if (memcmp(path.ptr + i, TENANTS, tl) == 0) {
            *tenant = (rp_str){path.ptr + i + tl, path.len - i - tl};
            *id = (rp_str){path.ptr, i};
            return true;
        }
    }
    *id = path;
    *tenant = RP_STR_NULL;
    return false;
}

static void r_post_actions(rp_api *a, const rp_http_request *req, rp_str id,
                           const rp_auth_caller *who, rp_http_response *res) {
    rp_str tenant;
    rp_api_split_tenant(id, &id, &tenant);
    if (id.len == 0 || id.len > RP_ACCOUNT_ID_MAX) {
        rp_api_error_json(res, 400, "bad_request",
                          "an account id is 1 to 256 bytes");
        return;
    }
    if (tenant.ptr && (tenant.len == 0 || tenant.len > RP_TENANT_MAX)) {
        rp_api_error_json(res, 400, "bad_request",
                          "a tenant is 1 to 256 bytes");
        return;
    }
    rp_api_post_action(a, req, id, tenant, who, res);
}

/* Who the caller is, for the dashboard: which buttons to show. */
static void r_me(rp_api *a, const rp_http_request *req, rp_str id,
                 const rp_auth_caller *who, rp_http_response *res) {
    (void)req, (void)id;
    rp_buf *b = &res->body;
    if (!a->auth_on) {
        rp_buf_puts(b, "{\"name\":null,\"role\":null,\"can_act\":false,"
                       "\"read_only\":true}\n");
        return;
    }
    rp_buf_puts(b, "{\"name\":");
    rp_jsonl_write_string(b, who->name, strlen(who->name));
    rp_buf_printf(b, ",\"role\":\"%s\",\"can_act\":%s,\"read_only\":false}\n",
                  rp_auth_role_name(who->role),
                  rp_auth_role_allows(who->role, RP_AUTH_OPERATOR) ? "true"
                                                                   : "false");
}

static const route routes[] = {
    {"/healthz", EXACT, false, true, r_healthz},
    {"/readyz", EXACT, false, true, r_readyz},
    {"/metrics", EXACT, false, false, r_metrics},
    {"/v1/summary", EXACT, false, false, r_summary},
    {"/v1/accounts", EXACT, false, false, r_accounts},
    {"/v1/me", EXACT, false, false, r_me},
    {ACC_PREFIX, ACCOUNT_ACTIONS, true, false, r_post_actions},
    {ACC_PREFIX, ACCOUNT, false, false, r_account},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Whether path matches r; sets *id to the account id of an account route
 * (possibly over RP_ACCOUNT_ID_MAX: the caller checks). */
static bool route_matches(const route *r, rp_str path, rp_str *id) {
    *id = RP_STR_NULL;
    if (r->match == EXACT)
        return path_is(path, r->path);
    size_t pl = strlen(r->path), al = sizeof(ACTIONS) - 1;
    if (path.len <= pl || memcmp(path.ptr, r->path, pl) != 0)
        return false;
    *id = (rp_str){path.ptr + pl, path.len - pl};
    if (r->match == ACCOUNT_ACTIONS) {
        if (id->len <= al || memcmp(id->ptr + id->len - al, ACTIONS, al) != 0)
            return false;
        id->len -= al;
    }
    return true;
}

static bool route_open(const rp_api *a, const route *r) {
    if (r->fn == r_metrics)
        return !a->cfg->http_auth_metrics;
    return r->open;
}

/* Finds the route of req; on a path some route takes with another method,
 * answers 405 and returns NULL; on an unknown path returns NULL. */
static const route *find_route(const rp_http_request *req, rp_str *id,
                               bool *answered, rp_http_response *res) {
    bool post = strcmp(req->method, "POST") == 0;
    bool other = false;
    *answered = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!route_matches(&routes[i], req->path, id))
            continue;
        if (routes[i].post == post)
            return &routes[i];
        other = true;
    }
    if (other) {
        *answered = true;
        res->headers = post ? "Allow: GET, HEAD\r\n" : "Allow: POST\r\n";
        rp_api_error_json(res, 405, "method_not_allowed",
                          post ? "this page is read-only (GET)"
                               : "this route takes POST only");
    }
    return NULL;
}

static void api_handle(void *opaque, const rp_http_request *req,
                       rp_http_response *res) {
    rp_api *a = opaque;
    rp_str id;
    bool answered;
    const route *r = find_route(req, &id, &answered, res);
    if (answered)
        return;
    if (!r) {
        /* The dashboard's files are open: they hold no data, and the page
         * must load to ask for a token. */
        if (strcmp(req->method, "POST") == 0) {
            res->headers = "Allow: GET, HEAD\r\n";
            rp_api_error_json(res, 405, "method_not_allowed",
                              "this page is read-only (GET)");
        } else if (!serve_asset(req->path, res))
            rp_api_error_json(res, 404, "not_found", "no such page");
        return;
    }
    rp_auth_caller who = {"", RP_AUTH_NONE};
    if (!route_open(a, r)) {
        rp_auth_role need = r->post ? RP_AUTH_OPERATOR : RP_AUTH_VIEWER;
        if (a->auth_on && !rp_api_authorize(a, req, need, &who, res))
            return;
        if (!a->auth_on && r->post) {
            /* Without tokens nobody can be named as the actor, so the API
             * stays read-only. */
            rp_api_error_json(res, 403, "read_only",
                              "the API is read-only: set "
                              "http.auth.tokens.file to a tokens file (make "
                              "one with `repute token add NAME operator "
                              "--file FILE`) to allow actions over HTTP");
            return;
        }
    }
    r->fn(a, req, id, &who, res);
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
    char err[512];
    int rc = rp_api_access_start(a, errstr, errstr_size);
    if (rc != 0) {
        rp_api_free(a);
        return rc;
    }
    rc = rp_http_server_new(&a->http, loop, listen, NULL, api_handle, a, err,
                            sizeof(err));
    if (rc != 0) {
        snprintf(errstr, errstr_size, "http.listen=%s: %s", listen, err);
        rp_api_free(a);
        return rc;
    }
    if (a->tls)
        rp_http_server_use_tls(a->http, a->tls);
    /* Without tokens nobody may act, so there is no producer. */
    if (a->auth_on && rp_api_actions_start(a) != 0) {
        snprintf(errstr, errstr_size, "http: out of memory");
        rp_http_server_close(a->http); /* it frees itself on the loop */
        a->http = NULL;
        rp_api_free(a);
        return RP_ENOMEM;
    }
    const char *colon = strrchr(listen, ':');
    char tokens[64] = "no tokens: read-only";
    if (a->auth_on)
        snprintf(tokens, sizeof(tokens), "%zu tokens", a->tokens.n);
    rp_log_info("run: HTTP on %.*s:%d (%s, %s; dashboard /, /metrics, "
                "/readyz)",
                colon ? (int)(colon - listen) : (int)strlen(listen), listen,
                rp_http_server_port(a->http), a->tls ? "TLS" : "plain", tokens);
    *out = a;
    return 0;
}

int rp_api_check(const rp_config *cfg, char *errstr, size_t errstr_size) {
    if (!cfg->http_listen || strcmp(cfg->http_listen, "off") == 0)
        return 0;
    rp_api *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(errstr, errstr_size, "http: out of memory");
        return RP_ENOMEM;
    }
    a->cfg = cfg;
    int rc = rp_api_access_start(a, errstr, errstr_size);
    rp_api_free(a);
    return rc;
}

void rp_api_stop(rp_api *a) {
    if (!a)
        return;
    if (a->http)
        rp_http_server_close(a->http);
    a->http = NULL;
    rp_api_actions_stop(a);
}
