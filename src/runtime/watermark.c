/*
 * watermark.c - asking the broker where a task's partitions end, for the
 * event-time merge (merge.c).
 *
 * The merge must tell, for each empty buffer, whether its partition holds
 * more records (wait for them, however long), may get some (wait at most
 * max.task.idle) or is at its end (go on). What librdkafka caches from
 * fetch responses is not always enough: nothing is known of a partition
 * nothing has been received from in this assignment, an end-of-partition
 * flag is forgotten when a burst begins, and under read_committed the high
 * watermark also counts the records of open transactions. So the loop
 * asks the broker, on libuv's thread pool (the calls wait for the
 * network), for the watermarks of those partitions and, where no position
 * is known, for the group's committed offset; the answer, back on the
 * loop, sets each partition's known end (t->known_end) or marks it at its
 * end, and kicks the loop. At most one query per task is in flight.
 *
 * Bursts
 * ------
 * When a burst starts (see take_message), the end-of-partition flags of
 * the task's empty queues are forgotten, and a partition that has nothing
 * in the burst would hold the task back for max.task.idle: librdkafka
 * sends an end-of-partition event only after new records. So, once the
 * burst has had BURST_SETTLE_MS to reach the broker (a producer writing
 * all topics at once spreads its batches over milliseconds, over a few
 * hundred on a busy machine: with 100 ms, one demo run in fourteen gave
 * a different result, most likely a burst merged out of order), the
 * loop asks the broker for those partitions' high watermarks, on the
 * thread pool (the call waits for the network), and a partition whose
 * watermark is not past our position is at its end again: the task goes
 * on at once instead of after max.task.idle. The request names the task by
 * partition and epoch, since the task may be gone (revoked, rewound) when
 * the answer comes.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "repute/log.h"

#include "runtime/proc.h"

/* A burst has had this long to reach the broker when its silent
 * partitions are asked about (see above). */
#define BURST_SETTLE_MS 250

typedef struct wm_req {
    uv_work_t work;
    proc *p;
    int32_t partition;
    uint64_t epoch;
    uint64_t sent; /* uv_now when asked */
    bool ask[NTOP];
    bool ask_start[NTOP]; /* our position is not known: ask where we start */
    int64_t lo[NTOP], hi[NTOP]; /* -1: no answer */
    int64_t committed[NTOP];    /* the group's committed offset, or < 0 */
} wm_req;

static void wm_work_cb(uv_work_t *w) {
    wm_req *r = w->data;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    for (int k = 0; k < NTOP; k++) {
        r->lo[k] = r->hi[k] = r->committed[k] = -1;
        if (r->ask[k] &&
            rd_kafka_query_watermark_offsets(
                r->p->consumer, rp_in_topic(r->p, k), r->partition, &r->lo[k],
                &r->hi[k], 2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            r->lo[k] = r->hi[k] = -1;
        if (r->ask_start[k] && r->hi[k] >= 0)
            rd_kafka_topic_partition_list_add(l, rp_in_topic(r->p, k),
                                              r->partition);
    }
    /* Where the consumer starts a partition it has received nothing of:
     * the group's committed offset (else auto.offset.reset=earliest). */
    if (l->cnt > 0 && rd_kafka_committed(r->p->consumer, l, 2000) == 0)
        for (int j = 0; j < l->cnt; j++) {
            int k = rp_topic_index(r->p, l->elems[j].topic);
            if (k >= 0 && l->elems[j].err == 0)
                r->committed[k] = l->elems[j].offset;
        }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Whether the group consumer starts a partition with no committed offset
 * at its beginning: asked of the consumer's own configuration, which holds
 * repute's default and whichever kafka.* key won (kafka.consumer.* too). */
static bool reset_earliest(const proc *p) {
    char v[32];
    size_t n = sizeof(v);
    if (rd_kafka_conf_get(rd_kafka_conf(p->consumer), "auto.offset.reset", v,
                          &n) != RD_KAFKA_CONF_OK)
        return true; /* repute's default */
    return strcmp(v, "earliest") == 0 || strcmp(v, "smallest") == 0 ||
           strcmp(v, "beginning") == 0;
}

/* Our position in topic index k, told by the query when we know none. */
static int64_t wm_position(proc *p, task *t, const wm_req *r, int k) {
    if (t->fetched[k] >= 0)
        return t->fetched[k];
    if (t->first[k] >= 0)
        return t->first[k]; /* a rewind's seek */
    if (r->committed[k] >= 0)
        return r->committed[k];
    if (r->ask_start[k] && r->committed[k] == RD_KAFKA_OFFSET_INVALID &&
        r->lo[k] >= 0 && reset_earliest(p))
        return r->lo[k];
    return -1;
}

static void wm_after_cb(uv_work_t *w, int status) {
    wm_req *r = w->data;
    proc *p = r->p;
    task *t =
        p->tasks && r->partition < p->n_parts ? p->tasks[r->partition] : NULL;
    if (status == 0 && t && t->epoch == r->epoch) {
        t->wm_query = false;
        /* During a burst, only the settle query may say that a partition
         * has ended: its records may not have reached the broker yet. */
        bool may_end = !t->burst_at;
        for (int k = 0; k < NTOP; k++) {
            if (!r->ask[k] || r->hi[k] < 0 || t->q[k].n > 0)
                continue;
            int64_t pos = wm_position(p, t, r, k);
            rp_log_debug("run: %s [%" PRId32 "] ends at %" PRId64
                         " (asked %" PRIu64 " ms ago), our position %" PRId64,
                         rp_in_topic(p, k), t->partition, r->hi[k],
                         uv_now(p->loop) - r->sent, pos);
            if (pos < 0)
                continue;
            if (t->fetched[k] < 0)
                t->fetched[k] = pos;
            if (r->hi[k] > pos) {
                /* Readable records past our position: wait for them. */
                if (r->hi[k] > t->known_end[k])
                    t->known_end[k] = r->hi[k];
            } else if (may_end) {
                t->eof[k] = true;
                t->end_at[k] = pos;
            }
        }
        rp_merge_kick(p);
    }
    free(r);
}

/* Asks for the high watermarks (under read_committed, the last stable
 * offsets) of the task's empty partitions that are not known to be at
 * their end, and for the start offsets of those we know no position in
 * (at most one query per task in flight). */
void rp_wm_query(proc *p, task *t, bool settle) {
    if (t->wm_query || p->stopping)
        return;
    if (p->in_round) {
        /* A lane may not call libuv: the loop asks after the round
         * (rp_lanes_settle; only the loop asks with settle). */
        t->wm_want = true;
        return;
    }
    wm_req *r = calloc(1, sizeof(*r));
    if (!r)
        return; /* the task waits max.task.idle instead */
    r->p = p;
    r->partition = t->partition;
    r->epoch = t->epoch;
    r->sent = uv_now(p->loop);
    bool any = false;
    for (int k = 0; k < NTOP; k++) {
        rp_part_state st =
            t->q[k].n == 0 ? rp_merge_part_state(p, t, k) : PART_END;
        r->ask_start[k] =
            st != PART_END && t->fetched[k] < 0 && t->first[k] < 0;
        /* Besides a settled burst, only a position not known or a wait
         * that may be for an open transaction's records ask: a partition
         * that may get live input waits max.task.idle for it. */
        any |= r->ask[k] =
            st != PART_END && (settle || st == PART_KNOWN || r->ask_start[k]);
    }
    r->work.data = r;
    if (!any || uv_queue_work(p->loop, &r->work, wm_work_cb, wm_after_cb)) {
        free(r);
        return;
    }
    t->wm_query = true;
    t->wm_asked_at = r->sent;
}

void rp_wm_settle_bursts(proc *p) {
    /* Bursts that have had BURST_SETTLE_MS to arrive: ask where the
     * partitions that sent nothing since end. */
    uint64_t now = uv_now(p->loop);
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        /* (With a query in flight, asked before the burst had settled,
         * the next tick asks.) */
        if (t && t->burst_at && now - t->burst_at >= BURST_SETTLE_MS &&
            !t->wm_query) {
            t->burst_at = 0;
            rp_wm_query(p, t, true);
        }
    }
}
