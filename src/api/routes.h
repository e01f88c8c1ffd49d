/*
 * api/routes.h - what the files of the HTTP API (src/api/) share: the API
 * object, the notifications it keeps, and the handlers of its routes.
 *
 * Nothing outside src/api/ includes this header: the processor knows the
 * API through repute/api.h, and the API knows the processor only through
 * its read-only view (repute/procview.h). Everything here runs on the
 * processor's loop thread.
 */
#ifndef REPUTE_API_ROUTES_H
#define REPUTE_API_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "repute/api.h"
#include "repute/auth.h"
#include "repute/config.h"
#include "repute/engine.h"
#include "repute/hash.h"
#include "repute/http.h"
#include "repute/notice.h"
#include "repute/procview.h"
#include "repute/types.h"

#define NOTES_CAP     16384 /* notifications kept, over all accounts */
#define NOTES_PER_ACC 10    /* shown per account */

/* ---------------------------------------------------------------- notes */

/* A notification kept: its account and tenant are copied into the slot
 * (the event's strings borrow engine memory, and a tenant can be forgotten
 * and freed long before the note is shown). */
typedef struct note {
    uint64_t hash; /* of the account id; 0: empty slot */
    char *id;      /* owned, reused when the slot is overwritten */
    size_t id_cap;
    char *tenant; /* owned, reused; the tenant's name when has_tenant */
    size_t tenant_len, tenant_cap;
    bool has_tenant; /* false: the account's own notification */
    uint64_t sequence;
    int64_t event_time;
    rp_notification n; /* title, why and actions are not kept; n.tenant is
                          set from the slot's copy when shown */
} note;

/* Totals reported so far (see the essay of api.c). */
typedef struct totals {
    uint64_t applied, duplicates, not_applied, changes, notifications, related;
    uint64_t tenant_overflows, tenants_forgotten;
} totals;

/* Allocated at the first notification (see rp_api_note_event). */
typedef struct rp_api_notes {
    note ring[NOTES_CAP];
    size_t next; /* the slot written next */
    totals shown;
    char why[1024];
} rp_api_notes;

/* A filter before comparing ids: repute's one hash, never 0 (0 marks an
 * empty slot). */
static inline uint64_t rp_api_id_hash(const char *p, size_t n) {
    return rp_hash_bytes(p, n, 0) | 1;
}

/* ---------------------------------------------------------------- the API */

/* Why a request was refused (access.c), for
 * repute_http_auth_failures_total{reason}. */
enum {
    RP_API_AUTH_MISSING,   /* no bearer token */
    RP_API_AUTH_INVALID,   /* a token that matches no line */
    RP_API_AUTH_FORBIDDEN, /* a role too low for the route */
    RP_API_AUTH_LIMITED,   /* the address has no attempt left */
    RP_API_AUTH__COUNT
};

/* What became of the actions posted (actions.c), for
 * repute_http_actions_total{result}. */
enum {
    RP_API_ACT_ACCEPTED, /* acknowledged by Kafka: 202 */
    RP_API_ACT_INVALID,  /* refused by the checks: 400 */
    RP_API_ACT_UNACKED,  /* not acknowledged, or no producer: 503 */
    RP_API_ACT__COUNT
};

typedef struct rp_api_actions rp_api_actions;

struct rp_api {
    uv_loop_t *loop;          /* borrowed */
    const rp_config *cfg;     /* borrowed */
    const rp_proc_view *view; /* borrowed */
    rp_http_server *http;     /* NULL when off or stopped */
    rp_http_tls *tls;         /* owned; NULL without TLS */
    rp_auth_tokens tokens;    /* owned; empty without a tokens file */
    bool auth_on;             /* a tokens file is configured */
    rp_auth_limiter limiter;  /* failed sign-ins per client address */
    uint64_t auth_failures[RP_API_AUTH__COUNT];
    char retry_after[40];    /* the 429's header line, until it is sent */
    rp_api_actions *actions; /* owned; NULL without tokens (read-only) */
    uint64_t actions_done[RP_API_ACT__COUNT];
    rp_api_notes *notes;    /* owned, NULL until a notification */
    uint64_t commit_le[12]; /* commit latency histogram (metrics.c) */
    uint64_t commit_count;
    double commit_seconds;
};

/* Sets an error body {"error":code,"message":msg} and the status. */
void rp_api_error_json(rp_http_response *res, int status, const char *code,
                       const char *msg);

/* ---------------------------------------------------------------- access */

/* access.c: loads the tokens file and the TLS certificate and checks
 * http.listen against them (see its essay). Returns 0 or an RP_E* code
 * with errstr naming the key. */
int rp_api_access_start(rp_api *a, char *errstr, size_t errstr_size);
/* Frees the tokens and the TLS context (after the server is freed). */
void rp_api_access_free(rp_api *a);
/* With a tokens file: checks the request's bearer token for a route that
 * needs `need`. Returns true with *who set (its name borrowed from the
 * API's tokens), or false with the refusal (401, 403 or 429) in res. */
bool rp_api_authorize(rp_api *a, const rp_http_request *req, rp_auth_role need,
                      rp_auth_caller *who, rp_http_response *res);
/* "missing", "invalid", "forbidden", "rate_limited". */
const char *rp_api_auth_reason_name(int r);

/* ---------------------------------------------------------------- actions */

/* actions.c: the producer of actions over HTTP, on the API's loop. Start
 * never fails for want of Kafka or a registry (POST then answers 503 with
 * the reason); returns 0 or RP_ENOMEM. Stop answers what still waits and
 * destroys the producer (on the loop, before it ends); free after the
 * loop has ended. */
int rp_api_actions_start(rp_api *a);
void rp_api_actions_stop(rp_api *a);
void rp_api_actions_free(rp_api *a);
/* POST .../actions for account id (and tenant, unless its ptr is NULL),
 * by who (an operator): 400, 503, or a deferred 202/503. */
void rp_api_post_action(rp_api *a, const rp_http_request *req, rp_str id,
                        rp_str tenant, const rp_auth_caller *who,
                        rp_http_response *res);
/* "accepted", "invalid", "unacknowledged". */
const char *rp_api_action_result_name(int r);

/* ---------------------------------------------------------------- routes */

/* metrics.c: GET /healthz, /readyz, /metrics. */
void rp_api_get_healthz(rp_api *a, rp_http_response *res);
void rp_api_get_readyz(rp_api *a, rp_http_response *res);
void rp_api_get_metrics(rp_api *a, rp_http_response *res);
/* accounts.c: GET /v1/summary, /v1/accounts, /v1/accounts/{id} (id at
 * most RP_ACCOUNT_ID_MAX bytes; an id with "/tenants/" in it that names no
 * account held here goes to rp_api_get_tenant). */
void rp_api_get_summary(rp_api *a, rp_http_response *res);
void rp_api_get_accounts(rp_api *a, rp_str query, rp_http_response *res);
void rp_api_get_account(rp_api *a, rp_str id, rp_http_response *res);

/* ---------------------------------------------------------------- views */

/* view.c: what the account page and the tenant page share (docs/http.md).
 * The engine of a ready partition that holds the account, with the
 * account's view in *v and its partition in *part; NULL when none. */
const rp_engine *rp_api_find_account(const rp_api *a, rp_str id,
                                     rp_account_view *v, int32_t *part);
/* Answers 404 for an account no ready engine holds, saying why (its
 * partition restoring, held here with no record of it, or elsewhere). */
void rp_api_account_not_found(const rp_api *a, rp_str id,
                              rp_http_response *res);
/* Writes the fields an account and a tenant share, from "status" to
 * "notifications_note" (without braces): status, sequence, partition,
 * clock, manual_review, review_ends_at, bounce, complaint (against the
 * tenant thresholds for a tenant's view), issues, hours and
 * notifications (the view's own: the account's, or the tenant's). */
void rp_api_put_view_body(const rp_api *a, const rp_engine *e, int32_t part,
                          const rp_account_view *v, rp_buf *b);
/* The earliest review end among the view's issues in review. */
bool rp_api_earliest_review_end(const rp_account_view *v, int64_t *out);
/* A NUL-terminated string as a JSON string. */
void rp_api_put_cstr(rp_buf *b, const char *s);

/* tenants.c: GET /v1/accounts/{id}/tenants/{tenant}; the "tenants" list of
 * an account's page; the tenants of every engine by status. */
void rp_api_get_tenant(rp_api *a, rp_str id, rp_str tenant,
                       rp_http_response *res);
void rp_api_put_tenant_list(const rp_engine *e, rp_str id, rp_buf *b);
void rp_api_tenant_status_counts(const rp_api *a,
                                 uint64_t out[RP_ASTATUS__COUNT]);
/* history.c: GET /v1/accounts/{id}/history (tenant's ptr NULL) and
 * /v1/accounts/{id}/tenants/{tenant}/history: the entity's history,
 * newest first; 404 for an account or tenant not held here. */
void rp_api_get_history(rp_api *a, rp_str id, rp_str tenant,
                        rp_http_response *res);

/* Splits "{id}/tenants/{tenant}" at its first "/tenants/"; false when
 * there is none. */
bool rp_api_split_tenant(rp_str path, rp_str *id, rp_str *tenant);

#endif
