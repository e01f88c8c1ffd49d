/*
 * view.c - the processor as the API sees it: repute/procview.h over
 * struct proc.
 *
 * The view is the processor itself behind an opaque type: rp_proc_view_of
 * turns a proc pointer into a view pointer, and every call here turns it
 * back (the view is never dereferenced as anything but a proc). So the
 * API reads the state as it is at the moment, without copies, and
 * without knowing struct proc: the tasks, the transaction and the Kafka
 * clients stay private to src/runtime/. Every call is quick and runs on
 * the loop thread, like the API's handlers: between two rounds of the
 * lanes (lanes.c), when no lane runs, so every engine is read at rest and
 * no account half applied.
 */
#include <stdint.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "repute/engine.h"
#include "repute/procview.h"

#include "runtime/proc.h"

_Static_assert(RP_PROC_INPUTS == NTOP, "the view counts the input topics");

static const proc *P(const rp_proc_view *v) {
    return (const proc *)v;
}

const rp_proc_view *rp_proc_view_of(const proc *p) {
    return (const rp_proc_view *)p;
}

bool rp_proc_view_exactly_once(const rp_proc_view *v) {
    return P(v)->eos;
}

bool rp_proc_view_stopping(const rp_proc_view *v) {
    return P(v)->stopping;
}

bool rp_proc_view_assigned(const rp_proc_view *v) {
    return P(v)->assigned;
}

bool rp_proc_view_ready(const rp_proc_view *v) {
    const proc *p = P(v);
    if (!p->assigned)
        return false;
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i] && !p->tasks[i]->ready)
            return false;
    return true;
}

int rp_proc_view_tasks(const rp_proc_view *v) {
    return P(v)->n_tasks;
}

int rp_proc_view_restoring(const rp_proc_view *v) {
    const proc *p = P(v);
    int restoring = 0;
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i] && !p->tasks[i]->ready)
            restoring++;
    return restoring;
}

int32_t rp_proc_view_partitions(const rp_proc_view *v) {
    return P(v)->n_parts;
}

/* The task of a partition, NULL when it is not assigned here. */
static const task *task_of(const proc *p, int32_t partition) {
    if (partition < 0 || partition >= p->n_parts)
        return NULL;
    return p->tasks[partition];
}

const rp_engine *rp_proc_view_engine(const rp_proc_view *v, int32_t partition,
                                     bool *ready) {
    const task *t = task_of(P(v), partition);
    if (ready)
        *ready = t && t->ready;
    return t ? t->engine : NULL;
}

uint64_t rp_proc_view_restored(const rp_proc_view *v, int32_t partition) {
    const task *t = task_of(P(v), partition);
    return t ? t->restored : 0;
}

bool rp_proc_view_lag(const rp_proc_view *v, int32_t partition, int topic,
                      int64_t *lag) {
    const proc *p = P(v);
    const task *t = task_of(p, partition);
    if (!t || topic < 0 || topic >= NTOP)
        return false;
    int k = topic;
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(p->consumer, p->cfg->topic[k], partition,
                                       &lo,
                                       &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
        return false;
    int64_t pos = t->next[k] >= 0        ? t->next[k]
                  : t->committed[k] >= 0 ? t->committed[k]
                                         : t->first[k];
    if (pos < 0)
        return false;
    *lag = hi > pos ? hi - pos : 0;
    return true;
}

/* A producer with another partitioner (Java's murmur2) places keys
 * elsewhere; docs/http.md says so. */
int32_t rp_proc_view_partition_of(const rp_proc_view *v, rp_str id) {
    const proc *p = P(v);
    if (p->n_parts <= 0)
        return -1;
    return rd_kafka_msg_partitioner_consistent(NULL, id.ptr, id.len, p->n_parts,
                                               NULL, NULL);
}

int64_t rp_proc_view_clock(const rp_proc_view *v) {
    const proc *p = P(v);
    if (p->cfg->clock == RP_CLOCK_WALL)
        return rp_run_wall_ms();
    int64_t c = INT64_MIN;
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i] && rp_engine_clock(p->tasks[i]->engine) > c)
            c = rp_engine_clock(p->tasks[i]->engine);
    return c;
}

void rp_proc_view_status_counts(const rp_proc_view *v,
                                uint64_t out[RP_ASTATUS__COUNT]) {
    const proc *p = P(v);
    memset(out, 0, sizeof(uint64_t) * RP_ASTATUS__COUNT);
    for (int32_t i = 0; i < p->n_parts; i++) {
        if (!p->tasks[i])
            continue;
        uint64_t c[RP_ASTATUS__COUNT];
        rp_engine_status_counts(p->tasks[i]->engine, c);
        for (int k = 0; k < RP_ASTATUS__COUNT; k++)
            out[k] += c[k];
    }
}

void rp_proc_view_counters(const rp_proc_view *v, rp_proc_counters *out) {
    const proc *p = P(v);
    memset(out, 0, sizeof(*out));
    lane_counters c;
    rp_lanes_counters(p, &c);
    for (int k = 0; k < NTOP; k++) {
        out->consumed[k] = c.consumed[k];
        out->late[k] = c.late[k];
    }
    out->idle_expired = c.idle_expired;
    out->wait_seconds = (double)rp_merge_wait_ms(p) / 1000.0;
    out->long_waits = c.long_waits;
    out->registry = p->reg != NULL;
    out->registry_schemas = p->reg_fetched;
    out->registry_failures = p->reg_retries;
    out->registry_down = p->reg_down_since != 0;
    out->dlq = c.dlq;
    out->produced = c.produced;
    out->commits = p->commits;
    out->aborts = p->aborts;
    out->retired = p->retired;
}

int rp_proc_view_threads(const rp_proc_view *v) {
    return P(v)->n_lanes;
}

bool rp_proc_view_thread(const rp_proc_view *v, int i, rp_proc_thread *out) {
    const proc *p = P(v);
    if (i < 0 || i >= p->n_lanes)
        return false;
    const lane *l = &p->lanes[i];
    out->applied = 0; /* records taken: applied or sent to the DLQ */
    for (int k = 0; k < NTOP; k++)
        out->applied += l->c.consumed[k];
    out->busy_seconds = (double)l->busy_ns / 1e9;
    out->busy_share = l->busy_share;
    return true;
}
