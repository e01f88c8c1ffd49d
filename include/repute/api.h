/*
 * repute/api.h - what `repute run` tells over HTTP (src/api/): health,
 * readiness, Prometheus metrics, the accounts it holds, the dashboard.
 *
 * `repute run` (src/cli/run.c) wires the API to the processor as its
 * observer (rp_proc_observer, repute/processor.h): the processor starts it
 * on its loop with a read-only view of itself (repute/procview.h) and
 * tells it the two things the view cannot show: the notifications its engines
 * publish (events are not state; the API keeps the latest) and how long each
 * commit took (a histogram). Every call runs on the loop thread.
 *
 * Ownership: rp_api_start makes the API object, which the caller frees
 * with rp_api_free after rp_api_stop and after the loop has run the
 * server's close callbacks. The API borrows the loop, the config and the
 * view, which must outlive it. Every function but rp_api_start accepts
 * NULL and then does nothing.
 */
#ifndef REPUTE_API_H
#define REPUTE_API_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "repute/config.h"
#include "repute/engine.h"
#include "repute/procview.h"
#include "repute/record.h"

typedef struct rp_api rp_api;

/* Makes the API and starts its HTTP server on loop at cfg->http_listen
 * (no server when it is "off": the API then only keeps what it is told).
 * Returns 0 with *out set, or an RP_E* code with *out NULL and errstr
 * naming http.listen. */
int rp_api_start(rp_api **out, uv_loop_t *loop, const rp_config *cfg,
                 const rp_proc_view *view, char *errstr, size_t errstr_size);
/* Checks, before anything else starts, what rp_api_start would refuse
 * in the API's access settings (the tokens file, the TLS certificate and
 * key, plaintext on a non-loopback address), so that `repute run` fails
 * at once rather than after connecting to Kafka. Returns 0 or an RP_E*
 * code with errstr naming the key (and for the tokens file the line). */
int rp_api_check(const rp_config *cfg, char *errstr, size_t errstr_size);
/* Closes the server (asynchronously, with the loop's other handles). */
void rp_api_stop(rp_api *a);
/* Called for every output event the engines publish: keeps the latest
 * notifications of each account for GET /v1/accounts/{id}. */
void rp_api_note_event(rp_api *a, const rp_event *ev);
/* Called when a commit finished (ms: how long it took) for the histogram
 * of /metrics. */
void rp_api_commit_done(rp_api *a, uint64_t ms);
/* Frees the API and what it kept. */
void rp_api_free(rp_api *a);

/* ------------------------------------------------------------ actions */

/* The longest note an action over HTTP may carry, in bytes (UTF-8). */
#define RP_API_NOTE_MAX 2048

/* The body of POST /v1/accounts/{id}[/tenants/{tenant}]/actions, checked
 * (docs/api-actions.md). The rp_record's strings point into this struct
 * and into the account id, tenant and actor given to the parser. */
typedef struct rp_api_action_body {
    rp_record rec;     /* type RP_REC_ACTION, all fields set */
    bool has_event_id; /* the caller chose the event_id */
    char event_id[RP_EVENT_ID_MAX + 1];
    char related[RP_ACCOUNT_ID_MAX + 1];
    char note[RP_API_NOTE_MAX + 1];
} rp_api_action_body;

/*
 * Parses and checks an action's JSON body (body[0..len), not
 * NUL-terminated) for the account `account_id` and, unless its ptr is
 * NULL, the tenant `tenant`, as the engine would take it: a known action,
 * an issue it can apply to, an effective time, a related account for a
 * link (never the account itself), a note of at most RP_API_NOTE_MAX bytes
 * where docs/api-actions.md requires one, no unknown field. Fills out->rec
 * with event_time `now_ms` and actor `actor` (borrowed, like account_id
 * and tenant, for as long as out->rec is used); the event_id is the
 * body's, or "" when it has none (the caller makes one). Returns 0, or
 * RP_EINVAL with the field at fault in field[field_size] ("body" for the
 * whole) and the reason in errstr.
 */
int rp_api_action_parse(rp_api_action_body *out, const char *body, size_t len,
                        rp_str account_id, rp_str tenant, const char *actor,
                        int64_t now_ms, char *field, size_t field_size,
                        char *errstr, size_t errstr_size);
/* Whether docs/api-actions.md requires a note for the action type. */
bool rp_api_action_needs_note(rp_action_type t);

#endif
