/*
 * merge.c - the event-time merge: which buffered record a task applies
 * next, when it waits for a partition, and when the loop comes back.
 *
 * Merge and idling
 * ----------------
 * A ready task repeatedly takes the buffered record with the smallest
 * event_time among the heads of its five buffers (ties in topic order; a
 * record whose event time cannot be read sorts first, so that it reaches
 * the DLQ). If a buffer is empty while its partition may still have
 * records (no end-of-partition seen since its last message, or
 * librdkafka's cached high watermark past the last message received), the
 * task waits, as Kafka Streams' task idling does: at most max.task.idle
 * from the moment it began waiting, then it goes on without that
 * partition, and waits again only after a look at which it had a record
 * and no partition lagged. A task with no record buffered at all does not
 * wait: it has nothing to apply.
 *
 * The loop applies at most BATCH records per turn across the ready tasks,
 * starting one task further each turn (p->rotation), and turns again at
 * once while there is more (the idle handle, on_work_idle); a task that
 * waits sets the idle timer for when its wait ends. Records are applied
 * while a commit is in flight (their outputs are held, see output.c), but
 * not while an abort is, nor once the processor is stopping or has failed;
 * a failed transaction turns the next turn into an abort (commit.c).
 *
 * Bursts
 * ------
 * End-of-partition flags go stale when a producer writes a burst after a
 * silence (see "bursts" below): the first message of a burst forgets the
 * flags of the task's empty buffers, and, once the burst has had
 * BURST_SETTLE_MS to arrive, the loop asks the broker where those
 * partitions end (a watermark query on the thread pool), so that a
 * partition with nothing in the burst does not hold the task back for
 * max.task.idle.
 *
 * Under clock=wall, review periods also end with no record arriving: the
 * review timer advances the ready tasks' engines to the wall clock when
 * the earliest review end is reached.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "repute/avro.h"
#include "repute/engine.h"
#include "repute/log.h"

#include "runtime/proc.h"

/* See "bursts" below. */
#define BURST_SETTLE_MS 250

static void arm_review_timer(proc *p);
static void on_idle_timer(uv_timer_t *h);

/* ---------------------------------------------------------------- apply */

/* Applies one buffered message of topic index ti to its task. */
static void apply_one(proc *p, task *t, int ti) {
    msgq *q = &t->q[ti];
    rd_kafka_message_t *m = rp_msgq_pop(q);
    /* The engine's prefetch hints for the records that follow in this
     * buffer (most records come from one topic in a row), three, two and
     * one ahead: their keys are their account ids (docs/rules.md section 2; a
     * record whose key is not is only mis-hinted, and goes to the DLQ). */
    for (size_t ahead = 1; ahead <= 3 && ahead <= q->n; ahead++) {
        const rd_kafka_message_t *f = q->v[(q->head + ahead - 1) % q->cap];
        rp_engine_prefetch(t->engine, (rp_str){f->key, f->key_len},
                           3 - (int)ahead);
    }
    rp_record rec;
    char err[256];
    int rc = rp_avro_decode(p->dec, (rp_rec_type)ti, m->payload, m->len, &rec,
                            err, sizeof(err));
    if (rc == 0 &&
        (m->key_len != rec.account_id.len ||
         (m->key_len && memcmp(m->key, rec.account_id.ptr, m->key_len) != 0))) {
        /* A record under another account's key may sit in a partition
         * whose task does not own the account: that breaks the contract. */
        snprintf(err, sizeof(err), "the key is not the record's account_id");
        rc = RP_ECONTRACT;
    } else if (rc == 0 && rec.event_time > p->wall_now &&
               rec.event_time - p->wall_now > p->cfg->input_max_future) {
        /* A record from the far future would move the event clock of its
         * task (clock=event) or sit in a window bucket no record reaches
         * for days (clock=wall): either way it is a broken producer's clock
         * or an attack, not news. The limit is against this machine's wall
         * clock, whatever the clock mode (docs/input.md). */
        char limit[32];
        rp_duration_format(p->cfg->input_max_future, limit, sizeof(limit));
        snprintf(err, sizeof(err),
                 "event_time %" PRId64 " is more than %s past this machine's "
                 "clock %" PRId64 " (input.max.future)",
                 rec.event_time, limit, p->wall_now);
        rc = RP_ECONTRACT;
    }
    if (rc != 0) {
        rp_out_dlq(p, ti, m, err);
    } else {
        int64_t now =
            p->cfg->clock == RP_CLOCK_EVENT ? rec.event_time : p->wall_now;
        rc = rp_engine_apply(t->engine, &rec, now, rp_out_sink(p));
        if (rc != 0) {
            rp_log_error("run: engine: %s", rp_strerror(rc));
            rp_loop_fail_fatal(p, "out of memory");
        }
        p->applied++;
    }
    t->next[ti] = m->offset + 1;
    p->consumed[ti]++;
    p->uncommitted = true;
    rd_kafka_message_destroy(m);
}

/* True when the broker has told us (in a fetch response; the call reads
 * librdkafka's cached watermark and never blocks) of records past the last
 * one we received: the end-of-partition flag is then out of date. */
static bool has_lag(proc *p, task *t, int i) {
    if (t->fetched[i] < 0)
        return false;
    uint64_t now = uv_now(p->loop);
    if (t->lag_at[i] == now)
        return t->lag[i];
    int64_t lo, hi;
    t->lag_at[i] = now;
    t->lag[i] = rd_kafka_get_watermark_offsets(p->consumer, rp_in_topic(p, i),
                                               t->partition, &lo, &hi) == 0 &&
                hi > t->fetched[i];
    return t->lag[i];
}

/* The next topic index to apply for a ready task, -1 when it must wait. */
static int task_pick(proc *p, task *t, bool *waiting) {
    int best = -1;
    int64_t best_time = 0;
    bool lagging = false;
    for (int i = 0; i < NTOP; i++) {
        rd_kafka_message_t *m = rp_msgq_peek(&t->q[i]);
        if (!m) {
            if (!t->eof[i] || has_lag(p, t, i))
                lagging = true;
            continue;
        }
        int64_t et;
        if (t->head[i] == m) {
            et = t->head_time[i];
        } else {
            if (rp_avro_peek_event_time(p->cfg->framing, m->payload, m->len,
                                        &et) != 0)
                et = INT64_MIN; /* undecodable: let it reach the DLQ first */
            t->head[i] = m;
            t->head_time[i] = et;
        }
        if (best < 0 || et < best_time) {
            best = i;
            best_time = et;
        }
    }
    *waiting = false;
    if (best < 0)
        return -1;
    if (lagging) {
        uint64_t now = uv_now(p->loop);
        if (t->wait_since == 0)
            t->wait_since = now;
        if (now - t->wait_since < (uint64_t)p->cfg->max_task_idle) {
            *waiting = true;
            return -1;
        }
    } else {
        t->wait_since = 0;
    }
    return best;
}

/* Applies up to BATCH records across the ready tasks. Returns true when
 * more could be applied right away. */
static bool process_some(proc *p) {
    /* Records are applied while a commit is in flight (their outputs wait
     * in p->pending), not while an abort is: a rewind follows it. */
    if ((p->committing && p->work_kind == WORK_ABORT) || p->stopping ||
        p->fatal)
        return false;
    if (atomic_load(&p->txn_failed)) {
        rp_commit_start(p); /* which aborts */
        return false;
    }
    p->wall_now = rp_run_wall_ms();
    int done = 0;
    bool more = false;
    uint64_t wait_min = UINT64_MAX;
    /* Start one task further each time, so that a busy partition cannot
     * take every batch from the others. */
    int32_t first =
        p->n_parts ? (int32_t)(p->rotation++ % (uint32_t)p->n_parts) : 0;
    for (int32_t n = 0; n < p->n_parts; n++) {
        int32_t i = (first + n) % p->n_parts;
        task *t = p->tasks[i];
        if (!t || !t->ready)
            continue;
        bool waiting = false;
        while (done < BATCH && !p->fatal) {
            int ti = task_pick(p, t, &waiting);
            if (ti < 0)
                break;
            apply_one(p, t, ti);
            done++;
        }
        if (done >= BATCH)
            more = true;
        if (waiting) {
            uint64_t until = t->wait_since + (uint64_t)p->cfg->max_task_idle;
            if (until < wait_min)
                wait_min = until;
        }
    }
    if (wait_min != UINT64_MAX) {
        /* Come back when the longest a task may idle has passed. */
        uint64_t now = uv_now(p->loop);
        uv_timer_start(&p->idle_timer, on_idle_timer,
                       wait_min > now ? wait_min - now : 0, 0);
    }
    if (p->cfg->clock == RP_CLOCK_WALL)
        arm_review_timer(p);
    return more;
}

/* Runs while there is work: records to apply, or queues that gave us
 * messages last time. librdkafka (2.0) does not write a wake-up byte for
 * every batch it appends to a queue, so a queue that was not empty is
 * looked at again on the next turn of the loop rather than only when the
 * pipe says so; once a look finds nothing, the loop sleeps again. */
static void on_work_idle(uv_idle_t *h) {
    proc *p = h->data;
    size_t got = p->loop_stopped ? 0 : rp_loop_drain(p);
    bool more = process_some(p);
    if (!more && got == 0)
        uv_idle_stop(&p->work_idle);
}

void rp_merge_kick(proc *p) {
    if (!p->stopping && !p->loop_stopped)
        uv_idle_start(&p->work_idle, on_work_idle);
}

static void on_idle_timer(uv_timer_t *h) {
    rp_merge_kick(h->data);
}

/* ---------------------------------------------------------------- wall clock
 */

static void on_review_timer(uv_timer_t *h) {
    proc *p = h->data;
    if ((p->committing && p->work_kind == WORK_ABORT) || p->stopping) {
        uv_timer_start(&p->review_timer, on_review_timer, 50, 0);
        return;
    }
    int64_t now = rp_run_wall_ms();
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (t && t->ready && rp_engine_next_review_end(t->engine) <= now) {
            rp_engine_advance(t->engine, now, rp_out_sink(p));
            p->uncommitted = true;
        }
    }
    arm_review_timer(p);
}

static void arm_review_timer(proc *p) {
    int64_t next = INT64_MAX;
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (t && t->ready) {
            int64_t n = rp_engine_next_review_end(t->engine);
            if (n < next)
                next = n;
        }
    }
    if (next == INT64_MAX) {
        uv_timer_stop(&p->review_timer);
        return;
    }
    int64_t delay = next - rp_run_wall_ms();
    if (delay < 0)
        delay = 0;
    if (delay > 60000)
        delay = 60000; /* re-check at least every minute */
    uv_timer_start(&p->review_timer, on_review_timer, (uint64_t)delay, 0);
}

/* ---------------------------------------------------------------- bursts
 *
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
 * the answer comes. */

typedef struct wm_req {
    uv_work_t work;
    proc *p;
    int32_t partition;
    uint64_t epoch;
    bool ask[NTOP];
    int64_t hi[NTOP]; /* -1: no answer */
} wm_req;

static void wm_work_cb(uv_work_t *w) {
    wm_req *r = w->data;
    for (int k = 0; k < NTOP; k++) {
        int64_t lo;
        r->hi[k] = -1;
        if (r->ask[k] &&
            rd_kafka_query_watermark_offsets(
                r->p->consumer, rp_in_topic(r->p, k), r->partition, &lo,
                &r->hi[k], 2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            r->hi[k] = -1;
    }
}

static void wm_after_cb(uv_work_t *w, int status) {
    wm_req *r = w->data;
    proc *p = r->p;
    task *t =
        p->tasks && r->partition < p->n_parts ? p->tasks[r->partition] : NULL;
    if (status == 0 && t && t->epoch == r->epoch) {
        t->wm_query = false;
        for (int k = 0; k < NTOP; k++) {
            if (!r->ask[k] || r->hi[k] < 0 || t->q[k].n > 0 || t->eof[k])
                continue;
            /* Our position: after the last record received, else where
             * the consumer starts. */
            int64_t pos = t->fetched[k];
            if (pos < 0) {
                rd_kafka_topic_partition_list_t *l =
                    rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(l, rp_in_topic(p, k),
                                                  r->partition);
                if (rd_kafka_position(p->consumer, l) == 0)
                    pos = l->elems[0].offset;
                rd_kafka_topic_partition_list_destroy(l);
                if (pos < 0 && r->hi[k] == 0)
                    pos = 0; /* an empty partition */
            }
            if (pos >= 0 && r->hi[k] <= pos)
                t->eof[k] = true;
        }
        rp_merge_kick(p);
    }
    free(r);
}

/* Asks for the high watermarks of the task's empty, not-at-end partitions
 * (at most one query per task in flight). */
static void burst_query(proc *p, task *t) {
    if (t->wm_query || p->stopping)
        return;
    wm_req *r = calloc(1, sizeof(*r));
    if (!r)
        return; /* the task waits max.task.idle instead */
    r->p = p;
    r->partition = t->partition;
    r->epoch = t->epoch;
    bool any = false;
    for (int k = 0; k < NTOP; k++)
        any |= r->ask[k] = t->q[k].n == 0 && !t->eof[k];
    r->work.data = r;
    if (!any || uv_queue_work(p->loop, &r->work, wm_work_cb, wm_after_cb)) {
        free(r);
        return;
    }
    t->wm_query = true;
}

void rp_merge_settle_bursts(proc *p) {
    /* Bursts that have had BURST_SETTLE_MS to arrive: ask where the
     * partitions that sent nothing since end. */
    uint64_t now = uv_now(p->loop);
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (t && t->burst_at && now - t->burst_at >= BURST_SETTLE_MS) {
            t->burst_at = 0;
            burst_query(p, t);
        }
    }
}

/* ---------------------------------------------------------------- input */

/* Files one input message (or event) of topic index k under task t (NULL
 * when no task owns its partition). */
static void take_message(proc *p, task *t, int k, rd_kafka_message_t *m) {
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (t && k >= 0)
                t->eof[k] = true;
        } else {
            rp_log_warn("run: consumer: %s", rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__FATAL)
                rp_loop_fail_fatal(p, "fatal consumer error");
        }
        rd_kafka_message_destroy(m);
        return;
    }
    if (!t || k < 0) {
        rd_kafka_message_destroy(m);
        return;
    }
    if (t->first[k] < 0)
        t->first[k] = m->offset;
    t->fetched[k] = m->offset + 1;
    /* The first message after a silence of max.task.idle or more starts a
     * burst, and producers usually write all five topics in one burst: the
     * other partitions' end-of-partition flags are from before it, so
     * forget them and let the task wait (at most max.task.idle) for their
     * share to arrive. */
    uint64_t now = uv_now(p->loop);
    bool burst = now - t->last_arrival >= (uint64_t)p->cfg->max_task_idle;
    if (burst)
        for (int i = 0; i < NTOP; i++)
            if (t->q[i].n == 0)
                t->eof[i] = false;
    t->last_arrival = now;
    t->eof[k] = false;
    if (burst)
        t->burst_at = now;
    if (rp_msgq_push(&t->q[k], m) != 0) {
        rd_kafka_message_destroy(m);
        rp_loop_fail_fatal(p, "out of memory");
    }
}

/* Takes what the input partitions' queues hold, up to INPUT_MAX buffered
 * per partition: back-pressure without pausing partitions (a resumed
 * partition's next fetch would wait behind the broker's long poll of the
 * others, up to fetch.wait.max.ms, and the task with it). Then the
 * consumer's own queue: rebalances, errors, and messages of partitions
 * not yet taken off it. */
size_t rp_merge_consume_input(proc *p) {
    rd_kafka_message_t *batch[256];
    size_t got = 0;
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (!t)
            continue;
        for (int k = 0; k < NTOP; k++) {
            while (t->in[k] && t->q[k].n < INPUT_MAX && !p->fatal) {
                size_t room = INPUT_MAX - t->q[k].n;
                ssize_t n = rd_kafka_consume_batch_queue(
                    t->in[k], 0, batch, room < 256 ? room : 256);
                if (n <= 0)
                    break;
                for (ssize_t j = 0; j < n; j++)
                    take_message(p, t, k, batch[j]);
                got += (size_t)n;
                /* A rebalance inside take_message cannot happen (it is
                 * served from the consumer's queue, below), so t stays. */
            }
        }
    }
    rd_kafka_message_t *m;
    while ((m = rd_kafka_consumer_poll(p->consumer, 0)) != NULL) {
        got++;
        int k = m->rkt ? rp_topic_index(p, rd_kafka_topic_name(m->rkt)) : -1;
        task *t = (m->partition >= 0 && m->partition < p->n_parts)
                      ? p->tasks[m->partition]
                      : NULL;
        take_message(p, t, k, m);
    }
    return got;
}
