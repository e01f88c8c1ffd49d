/*
 * writers.c - `repute run` with a schema registry: the output schemas
 * registered at start, and the writer schemas of the input fetched while
 * records wait for them (docs/schemas.md).
 *
 * Start
 * -----
 * With schema.registry.url set, the run registers ReputationEvent under
 * the subject of topic.status and Report under that of topic.reports
 * (rp_registry_slot_ids), before any client of Kafka is made, and frames
 * its outputs with the ids it got. A subject whose compatibility rejects
 * the schema stops the run with exit status 2 and the registry's message:
 * publishing under a schema the consumers cannot read is the one thing
 * not to do. An unreachable registry is asked again, with a growing pause
 * (1, 2, 4, 8, then every 10 s), for as long as it takes, as the start-up
 * waits for a broker that is down: an outage makes repute wait, and a
 * signal stops the wait (repute/stop.h; a request already sent runs to
 * its end, at most schema.registry.request.timeout per URL).
 * The input decoder gets the pinned ids of avro.schema.id.* (0: none)
 * and registry mode (rp_avro_codec_enable_writers), and knows its own
 * Report schema under the id just registered, since repute reads back the
 * reports it writes.
 *
 * Writer schemas
 * --------------
 * A record whose id the decoder does not know cannot even be ordered by
 * the event-time merge: its event_time is read through its writer schema
 * (rp_avro_codec_peek_event_time). So the merge asks rp_writers_peek for
 * every head it looks at. An unknown id is looked up in this room's table
 * of ids met (one entry per id, for the life of the run, since an id's
 * schema never changes):
 *
 * - not asked yet, or due again: a fetch goes to libuv's thread pool
 *   (uv_queue_work; the client blocks on the network, up to
 *   schema.registry.request.timeout per URL), and the task waits;
 * - being fetched, or waiting to be fetched again: the task waits. Only
 *   that task: the loop serves the others, and its buffers fill and stop
 *   the partition's fetches (back-pressure, merge.c), so nothing is lost
 *   and nothing goes to the DLQ;
 * - fetched: the schema goes to rp_avro_codec_add_writer(), which compiles
 *   its plan once (or remembers why it cannot be read: those records go
 *   to the DLQ with that reason, as any bad record does), and the peek is
 *   made again;
 * - refused by the registry (no such id, or not an Avro schema): the
 *   registry's answer is final, so the record goes to the DLQ with it.
 *
 * A fetch that finds no registry (RP_EIO) is tried again after 1 s, 2 s,
 * 4 s ... up to RETRY_MAX_MS. The first failure of an outage logs one
 * warning (which id, why, that records wait and nothing is dropped); the
 * first success after it logs that the registry answers again and how long
 * it was away.
 *
 * At most MAX_FETCHES fetches are in flight at once, so that a registry
 * that hangs cannot take every thread of libuv's pool from the commits;
 * an id whose turn has not come waits for the end of one (which kicks the
 * loop).
 *
 * The table is touched on the loop thread, and by the lanes during a
 * round (lanes.c) under p->wsch_mu; a lane that finds a fetch due leaves
 * it to the loop (p->wsch_due), since only the loop may call libuv. Each
 * lane's decoder learns a fetched schema the first time that lane peeks
 * at a record of its id (a task that changes lanes has its heads peeked
 * again, lanes.c, so no record is decoded by a lane that has not). A fetch's
 * worker writes only its own entry's result fields, which the loop reads in the
 * after-work callback, between rounds. uv_run does not return while a fetch is
 * in flight, so the table outlives every fetch.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "repute/avro.h"
#include "repute/log.h"
#include "repute/stop.h"
#include "repute/registry.h"
#include "repute/schemas.h"

#include "runtime/proc.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 10000
/* Fetches in flight at once: libuv's pool has four threads, which the
 * commits need too, and a hung registry holds a thread for up to
 * schema.registry.request.timeout per URL. */
#define MAX_FETCHES 2

typedef enum ws_state {
    WS_IDLE,     /* not being fetched; retry_at says when it may be */
    WS_FETCHING, /* a fetch is on the thread pool */
    WS_READY,    /* json holds the schema */
    WS_REFUSED   /* the registry's final answer was no; why says it */
} ws_state;

struct rp_wschema {
    proc *p;
    int32_t id;
    ws_state state;
    unsigned tries;    /* failed fetches in a row */
    uint64_t retry_at; /* uv_now from which WS_IDLE may fetch again */
    uv_work_t work;
    /* The fetch's result, written by the worker. */
    int rc;
    const char *json; /* the client's cache (lives as long as p->reg) */
    char why[512];
};

/* ---------------------------------------------------------------- start */

/* Registers AccountState (not a codec slot) under the subject of
 * topic.current, into p->current_id. Returns what rp_registry_register
 * does. */
static int register_current(proc *p, char *err, size_t err_size) {
    const char *json = rp_avro_account_state_schema_json();
    char name[256], subj[512];
    if (rp_registry_record_name(json, name, sizeof(name)) != 0 ||
        rp_registry_subject(p->cfg->subject_strategy,
                            p->cfg->topic[RP_TOPIC_CURRENT], name, subj,
                            sizeof(subj)) != 0) {
        snprintf(err, err_size, "the subject of %s is too long",
                 p->cfg->topic[RP_TOPIC_CURRENT]);
        return RP_EINVAL;
    }
    return rp_registry_register(p->reg, subj, json, &p->current_id, err,
                                err_size);
}

/* Registers the output schemas, asking again while the registry cannot be
 * reached. Returns 0 or the exit status. */
static int register_outputs(proc *p, int32_t *ids) {
    unsigned mask = (1u << RP_SCHEMA_ID_STATUS) | (1u << RP_REC_REPORT);
    char err[1024];
    p->doing = "registering the output schemas";
    for (int i = 0;; i++) {
        int rc = rp_registry_slot_ids(p->reg, p->cfg, mask, true, ids, err,
                                      sizeof(err));
        if (rc == 0)
            rc = register_current(p, err, sizeof(err));
        if (rc == 0)
            break;
        if (rc == RP_ECONTRACT) {
            rp_log_error("run: schema registry: the output schema is "
                         "rejected: %s",
                         err);
            return 2;
        }
        if (rc != RP_EIO) {
            rp_log_error("run: schema registry: cannot register the output "
                         "schemas: %s",
                         err);
            return 2;
        }
        unsigned s = i < 4 ? 1u << i : 10;
        rp_log_warn("run: schema registry: %s; trying again in %u s", err, s);
        if (rp_stop_wait((int)s * 1000))
            return 1; /* the caller says where the signal stopped it */
    }
    char subj[512];
    rp_registry_slot_subject(p->cfg, RP_SCHEMA_ID_STATUS, subj, sizeof(subj));
    rp_log_info("run: schema registry: ReputationEvent is id %" PRId32
                " under %s",
                ids[RP_SCHEMA_ID_STATUS], subj);
    rp_registry_slot_subject(p->cfg, RP_REC_REPORT, subj, sizeof(subj));
    rp_log_info("run: schema registry: Report is id %" PRId32 " under %s",
                ids[RP_REC_REPORT], subj);
    rp_log_info("run: schema registry: AccountState is id %" PRId32
                " (topic %s)",
                p->current_id, p->cfg->topic[RP_TOPIC_CURRENT]);
    return 0;
}

int rp_writers_open(proc *p) {
    rp_config *cfg = p->cfg;
    char err[1024];
    p->reg = rp_registry_new(cfg, err, sizeof(err));
    if (!p->reg) {
        rp_log_error("run: %s", err);
        return 2;
    }
    int32_t out[RP_SCHEMA_ID__COUNT], in[RP_SCHEMA_ID__COUNT];
    for (int s = 0; s < RP_SCHEMA_ID__COUNT; s++)
        out[s] = in[s] = cfg->schema_id[s] ? cfg->schema_id[s] : RP_AVRO_NO_ID;
    int rc = register_outputs(p, out);
    if (rc != 0)
        return rc;
    /* The decoder in registry mode, knowing repute's own Report schema
     * (rp_lanes_codecs, which makes every lane's codecs alike). */
    memcpy(p->dec_ids, in, sizeof(p->dec_ids));
    memcpy(p->enc_ids, out, sizeof(p->enc_ids));
    return rp_lanes_codecs(p, &p->dec, &p->enc) == 0 ? 0 : 1;
}

void rp_writers_free(proc *p) {
    for (size_t i = 0; i < p->n_wsch; i++)
        free(p->wsch[i]);
    free(p->wsch);
    p->wsch = NULL;
    p->n_wsch = 0;
    rp_registry_destroy(p->reg);
    p->reg = NULL;
}

/* ---------------------------------------------------------------- fetches */

static void fetch_work(uv_work_t *w) {
    rp_wschema *ws = w->data;
    ws->why[0] = '\0';
    ws->rc = rp_registry_schema(ws->p->reg, ws->id, &ws->json, ws->why,
                                sizeof(ws->why));
}

static void fetch_done(uv_work_t *w, int status) {
    rp_wschema *ws = w->data;
    proc *p = ws->p;
    p->reg_inflight--;
    uint64_t now = uv_now(p->loop);
    if (status == 0 && ws->rc == 0) {
        ws->state = WS_READY;
        p->reg_fetched++;
        if (p->reg_down_since) {
            rp_log_info("run: schema registry: answers again after %.1f s; "
                        "the records that waited go on",
                        (double)(now - p->reg_down_since) / 1000.0);
            p->reg_down_since = 0;
        }
        rp_log_info("run: schema registry: fetched the writer schema of id "
                    "%" PRId32,
                    ws->id);
    } else if (status == 0 && ws->rc != RP_EIO && ws->rc != RP_ENOMEM) {
        ws->state = WS_REFUSED;
        rp_log_warn("run: schema registry: %s; its records go to the DLQ",
                    ws->why);
    } else {
        /* Unreachable (or the request could not even be made): wait, and
         * ask again. */
        uint64_t delay = RETRY_MIN_MS << (ws->tries < 5 ? ws->tries : 5);
        if (delay > RETRY_MAX_MS)
            delay = RETRY_MAX_MS;
        ws->tries++;
        ws->state = WS_IDLE;
        ws->retry_at = now + delay;
        if (!p->reg_down_since) {
            p->reg_down_since = now;
            rp_log_warn("run: schema registry unreachable (%s): the records "
                        "that need schema id %" PRId32 " wait, none is "
                        "dropped; asking again every %d s at most",
                        status == 0 ? ws->why : "cancelled", ws->id,
                        RETRY_MAX_MS / 1000);
        }
        p->reg_retries++;
    }
    rp_merge_kick(p);
}

/* The entry of id, made (WS_IDLE, due now) if it is new; NULL when out of
 * memory. */
static rp_wschema *entry(proc *p, int32_t id) {
    for (size_t i = 0; i < p->n_wsch; i++)
        if (p->wsch[i]->id == id)
            return p->wsch[i];
    if (p->n_wsch == p->cap_wsch) {
        size_t cap = p->cap_wsch ? p->cap_wsch * 2 : 8;
        rp_wschema **v = realloc(p->wsch, cap * sizeof(*v));
        if (!v)
            return NULL;
        p->wsch = v;
        p->cap_wsch = cap;
    }
    rp_wschema *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->p = p;
    ws->id = id;
    ws->work.data = ws;
    p->wsch[p->n_wsch++] = ws;
    return ws;
}

/* Starts the fetch of ws if it is due; returns when to look again (0: the
 * fetch's end kicks the loop). */
static uint64_t fetch_if_due(proc *p, rp_wschema *ws) {
    uint64_t now = uv_now(p->loop);
    if (ws->state == WS_IDLE && now >= ws->retry_at && p->in_round) {
        /* A lane may not call libuv: the loop starts it after the round
         * (rp_writers_start_due), and its end kicks the loop. */
        p->wsch_due = true;
        return 0;
    }
    if (ws->state == WS_IDLE && now >= ws->retry_at) {
        if (p->reg_inflight >= MAX_FETCHES)
            return 0; /* the end of a fetch kicks the loop */
        ws->state = WS_FETCHING;
        if (uv_queue_work(p->loop, &ws->work, fetch_work, fetch_done) != 0) {
            ws->state = WS_IDLE;
            ws->retry_at = now + RETRY_MIN_MS;
        } else {
            p->reg_inflight++;
        }
    }
    return ws->state == WS_IDLE ? ws->retry_at : 0;
}

/* The slow path of rp_writers_peek: m's writer schema id is not known to
 * the lane's decoder. Under p->wsch_mu with more than one lane. */
static int peek_unknown(lane *l, int ti, const inrec *m, int64_t *et,
                        uint64_t *until, int rc);

int rp_writers_peek(lane *l, int ti, const inrec *m, int64_t *et,
                    uint64_t *until) {
    proc *p = l->p;
    *until = 0;
    /* Through the decoding codec, which knows the writer schemas: an
     * evolved writer may have moved event_time. Without a registry, the
     * codec knows only the pinned ids, and this is the plain peek. */
    int rc = rp_avro_codec_peek_event_time(l->dec, m->payload, m->len, et);
    if (!p->reg || rc != RP_ENOSCHEMA) {
        if (rc != 0)
            *et = INT64_MIN; /* undecodable: let it reach the DLQ first */
        return 0;
    }
    if (p->n_lanes > 1)
        pthread_mutex_lock(&p->wsch_mu);
    int wait = peek_unknown(l, ti, m, et, until, rc);
    if (p->n_lanes > 1)
        pthread_mutex_unlock(&p->wsch_mu);
    return wait;
}

static int peek_unknown(lane *l, int ti, const inrec *m, int64_t *et,
                        uint64_t *until, int rc) {
    proc *p = l->p;
    int32_t id;
    if (rc == RP_ENOSCHEMA &&
        rp_avro_framed_schema_id(m->payload, m->len, &id) == 0) {
        rp_wschema *ws = entry(p, id);
        if (!ws) {
            rp_lane_fail(l, "out of memory");
            return 1;
        }
        if (ws->state == WS_IDLE || ws->state == WS_FETCHING) {
            *until = fetch_if_due(p, ws);
            return 1;
        }
        if (ws->state == WS_READY) {
            char err[512];
            /* Unreadable or not, the codec remembers the id from now on:
             * the decode says why, and the record goes to the DLQ. */
            const char *name = rp_avro_schema_name(ti);
            int len = (int)strcspn(name, ".");
            if (rp_avro_codec_add_writer(l->dec, ti, id, ws->json, err,
                                         sizeof(err)) == 0)
                rp_log_info("run: schema id %" PRId32 " (%.*s) is readable", id,
                            len, name);
            else
                rp_log_warn("run: schema id %" PRId32 " cannot be read as "
                            "%.*s: %s; its records go to the DLQ",
                            id, len, name, err);
            rc = rp_avro_codec_peek_event_time(l->dec, m->payload, m->len, et);
        }
    }
    if (rc != 0)
        *et = INT64_MIN; /* undecodable: let it reach the DLQ first */
    return 0;
}

void rp_writers_refusal(proc *p, const inrec *m, char *err, size_t size) {
    int32_t id;
    if (!p->reg || rp_avro_framed_schema_id(m->payload, m->len, &id) != 0)
        return;
    if (p->n_lanes > 1)
        pthread_mutex_lock(&p->wsch_mu);
    for (size_t i = 0; i < p->n_wsch; i++)
        if (p->wsch[i]->id == id && p->wsch[i]->state == WS_REFUSED)
            snprintf(err, size, "schema registry: %s", p->wsch[i]->why);
    if (p->n_lanes > 1)
        pthread_mutex_unlock(&p->wsch_mu);
}

void rp_writers_start_due(proc *p) {
    for (size_t i = 0; i < p->n_wsch; i++)
        fetch_if_due(p, p->wsch[i]);
}
