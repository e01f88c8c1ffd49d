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

#endif
