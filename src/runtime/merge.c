/*
 * merge.c - the event-time merge: which buffered record a task applies
 * next, when it waits for a partition, and when the loop comes back.
 *
 * Merge and idling
 * ----------------
 * A ready task repeatedly takes the buffered record with the smallest
 * event_time among the heads of its five buffers (ties in topic order; a
 * record whose event time cannot be read sorts first, so that it reaches
 * the DLQ). When a buffer is empty, what its partition may hold decides
 * (rp_merge_part_state), as in Kafka Streams' task idling since KIP-695:
 *
 * - Known to hold more records: the broker has told us of records past
 *   our position, in a fetch response (librdkafka's cached high
 *   watermark, with no end-of-partition event at our position) or in the
 *   answer to a watermark query (the last stable offset, read_committed).
 *   The task applies nothing until they arrive, however long the fetch
 *   takes: applying a record of another topic first could move its clock
 *   past them, and they would be applied at the clock, unlike replay
 *   (issue 19: a fetch quota, or a loaded broker, made live differ from
 *   replay). Such a wait is counted (repute_merge_wait_seconds_total),
 *   logged once when it passes LONG_WAIT_MS, and the broker is asked
 *   again every WM_REASK_MS, in case the watermark counted an open
 *   transaction's records, which cannot be read until it ends.
 * - Not known: no end-of-partition event since the last message (live
 *   input may be on its way), or no position known yet (nothing received
 *   in this assignment: the broker is asked at once where we start, the
 *   group's committed offset, and where the partition ends). The task
 *   waits at most max.task.idle from the moment it began waiting (and for
 *   the broker's answer if it asked), then goes on without that partition
 *   (counted: repute_merge_idle_expired_total), and waits again only
 *   after a look at which it had a record and no partition lagged.
 * - At its end: an end-of-partition event at our position (it carries
 *   the fetch position, past the transaction markers that may end a
 *   partition, whose high watermark is then past the last message's
 *   offset + 1 for good), or the broker's answer that the partition ends
 *   there. No wait.
 *
 * A task with no record buffered at all does not wait: it has nothing to
 * apply. A wait holds only its own task: the loop goes on serving the
 * other tasks, the commits, the HTTP API and the timers, and a message
 * arriving (the pipe) or the broker's answer kicks the loop, which looks
 * again. Back-pressure cannot deadlock it: a full buffer of another topic
 * only stops that partition's fetches, and librdkafka keeps fetching the
 * empty partition the task waits for.
 *
 * The loop applies at most BATCH records per turn across the ready tasks
 * of each lane (lanes.c: with threads > 1 the lanes take the ready tasks
 * one at a time, each on its own thread, and up to BATCH records of each,
 * after taking the task's messages off its queues), starting one task further
 * each turn (lane.rotation), and turns again at once while there is more (the
 * idle handle, on_work_idle); a task that waits sets the idle timer for when
 * its wait ends. Records are applied while a commit is in flight (their outputs
 * are held, see output.c), but not while an abort is, nor once the processor is
 * stopping or has failed; a failed transaction turns the next turn into an
 * abort (commit.c).
 *
 * With a schema registry, a head whose writer schema is not known yet
 * makes its task wait until the schema is fetched (writers.c): the task's
 * buffers fill, the partition stops being fetched, and no record is sent
 * to the DLQ for want of a registry.
 *
 * Bursts
 * ------
 * End-of-partition flags go stale when a producer writes a burst after a
 * silence (see "Bursts" in watermark.c): the first message of a burst forgets
 * the flags of the task's empty buffers, and, once the burst has had
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

/* A wait for a partition known to hold more records is logged (once) and
 * counted when it lasts this long; meanwhile the broker is asked where the
 * partitions end every WM_REASK_MS. */
#define LONG_WAIT_MS 5000
#define WM_REASK_MS  1000

static void arm_review_timer(proc *p);
static void on_idle_timer(uv_timer_t *h);

/* ---------------------------------------------------------------- apply */

/* Applies one buffered message of topic index ti to its task. */
static void apply_one(proc *p, task *t, int ti) {
    lane *l = t->lane;
    inq *q = &t->q[ti];
    const inrec *m = rp_inq_pop(q);
    /* The engine's prefetch hints for the records that follow in this
     * buffer (most records come from one topic in a row), three, two and
     * one ahead: their keys are their account ids (docs/rules.md section 2; a
     * record whose key is not is only mis-hinted, and goes to the DLQ). */
    for (size_t ahead = 1; ahead <= 3 && ahead <= q->n; ahead++) {
        const inrec *f = rp_inq_at(q, ahead - 1);
        rp_engine_prefetch(t->engine, (rp_str){f->key, f->key_len},
                           3 - (int)ahead);
    }
    rp_record rec;
    char err[256];
    int rc = rp_avro_decode(l->dec, (rp_rec_type)ti, m->payload, m->len, &rec,
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
    if (rc == RP_ENOSCHEMA) /* the registry said no (writers.c) */
        rp_writers_refusal(p, m, err, sizeof(err));
    if (rc != 0) {
        rp_out_dlq(l, ti, m, err);
    } else {
        /* Late: below the task's stream time (under clock=event, the
         * engine's clock, which is that, restored across restarts). */
        int64_t stream = p->cfg->clock == RP_CLOCK_EVENT
                             ? rp_engine_clock(t->engine)
                             : t->stream_time;
        if (rec.event_time < stream)
            l->c.late[ti]++;
        if (rec.event_time > t->stream_time)
            t->stream_time = rec.event_time;
        int64_t now =
            p->cfg->clock == RP_CLOCK_EVENT ? rec.event_time : p->wall_now;
        rc = rp_engine_apply(t->engine, &rec, now, rp_out_sink(l));
        if (rc != 0) {
            rp_log_error("run: engine: %s", rp_strerror(rc));
            rp_lane_fail(l, "out of memory");
        }
        l->c.applied++;
    }
    t->next[ti] = m->offset + 1;
    l->c.consumed[ti]++;
    if (p->in_round)
        l->uncommitted = true;
    else
        p->uncommitted = true;
}

/* True when the broker has told us (in a fetch response; the call reads
 * librdkafka's cached watermark and never blocks) of records past our
 * position. Under read_committed that high watermark also counts the
 * records of open transactions, which cannot be read yet (see
 * rp_merge_part_state). */
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

/* What an empty buffer's partition may hold (see "Merge and idling"). */
rp_part_state rp_merge_part_state(proc *p, task *t, int i) {
    int64_t pos = t->fetched[i];
    if (pos < 0)
        return PART_MAYBE;
    if (t->known_end[i] > pos)
        return PART_KNOWN;
    /* The cached high watermark past our position, with no end of
     * partition there: records are on their way. With one there, the
     * watermark counts an open transaction's records (or records that
     * came since): not known until the broker says (the query's answer
     * is the last stable offset). */
    bool hwm = has_lag(p, t, i);
    if (hwm && t->eof_at[i] != pos && t->end_at[i] != pos)
        return PART_KNOWN;
    if (!t->eof[i] || (hwm && t->end_at[i] != pos))
        return PART_MAYBE;
    return PART_END;
}

/* Ends a wait for a known-non-empty partition (if one is going on). */
static void known_wait_end(task *t, uint64_t now) {
    if (!t->known_since)
        return;
    uint64_t ms = now - t->known_since;
    t->lane->c.wait_ms += ms;
    if (t->long_logged)
        rp_log_info("run: partition %" PRId32 " goes on after waiting %.1f s "
                    "for records the broker holds",
                    t->partition, (double)ms / 1000.0);
    t->known_since = 0;
    t->long_logged = false;
}

/* A wait for topic index k, known to hold records past our position, has
 * lasted LONG_WAIT_MS: says so once per wait, and counts it. */
static void known_wait_long(proc *p, task *t, int k, uint64_t now) {
    int64_t lo = -1, hi = -1;
    rd_kafka_get_watermark_offsets(p->consumer, rp_in_topic(p, k), t->partition,
                                   &lo, &hi);
    if (t->known_end[k] > hi)
        hi = t->known_end[k];
    rp_log_warn("run: partition %" PRId32 " has waited %.1f s for %s [%" PRId32
                "] at offset %" PRId64 " (high watermark %" PRId64
                "): fetches are slow; the task applies nothing until its "
                "earlier records arrive",
                t->partition, (double)(now - t->known_since) / 1000.0,
                rp_in_topic(p, k), t->partition, t->fetched[k], hi);
    t->lane->c.long_waits++;
    t->long_logged = true;
}

/* What a look at a task's five buffer heads found. */
typedef struct heads {
    int best;         /* the head to apply next (smallest event time), -1 */
    int known;        /* an empty buffer known to hold more records, -1 */
    bool maybe;       /* an empty buffer whose partition may hold more */
    bool unknown_pos; /* an empty buffer whose position is not known yet */
} heads;

/* Looks at the head of each of t's buffers, and at what the partition of
 * each empty one may hold (rp_merge_part_state). Returns 0, or -1 when a
 * head's writer schema is not fetched yet: that holds the whole task,
 * since its event time cannot be known (writers.c, which sets *until). */
static int look_at_heads(proc *p, task *t, heads *h, uint64_t *until) {
    int64_t best_time = 0;
    h->best = h->known = -1;
    h->maybe = h->unknown_pos = false;
    for (int i = 0; i < NTOP; i++) {
        const inrec *m = rp_inq_peek(&t->q[i]);
        if (!m) {
            rp_part_state st = rp_merge_part_state(p, t, i);
            if (st == PART_KNOWN && h->known < 0)
                h->known = i;
            else if (st == PART_MAYBE)
                h->maybe = true;
            h->unknown_pos |= st != PART_END && t->fetched[i] < 0;
            continue;
        }
        int64_t et;
        if (t->head[i] == m->offset && t->head_lane[i] == t->lane) {
            et = t->head_time[i];
        } else {
            if (rp_writers_peek(t->lane, i, m, &et, until) != 0)
                return -1;
            t->head[i] = m->offset;
            t->head_time[i] = et;
            t->head_lane[i] = t->lane;
        }
        if (h->best < 0 || et < best_time) {
            h->best = i;
            best_time = et;
        }
    }
    return 0;
}

/* Waits for topic index `known`, whose partition is known to hold records
 * past our position: notes when the wait began, logs it once when it is
 * long, and sets *until to when the loop should look again without a
 * message arriving (0: the broker's answer kicks it). */
static void known_wait(proc *p, task *t, int known, uint64_t now,
                       uint64_t *until) {
    t->wait_since = 0; /* max.task.idle counts from the end of this */
    if (!t->known_since) {
        t->known_since = now;
        rp_log_debug("run: partition %" PRId32 " waits for %s at %" PRId64
                     " (known end %" PRId64 ")",
                     t->partition, rp_in_topic(p, known), t->fetched[known],
                     t->known_end[known]);
    }
    if (!t->long_logged && now - t->known_since >= LONG_WAIT_MS)
        known_wait_long(p, t, known, now);
    /* Look again when the broker is to be asked again, or the wait is to
     * be logged; a message arriving kicks the loop sooner. */
    uint64_t ask = t->wm_query ? UINT64_MAX : t->wm_asked_at + WM_REASK_MS;
    uint64_t log = t->long_logged ? UINT64_MAX : t->known_since + LONG_WAIT_MS;
    *until = ask < log ? ask : log;
    if (*until == UINT64_MAX)
        *until = 0; /* the answer kicks the loop */
    else if (*until <= now)
        *until = now + 1;
}

/* A partition may hold earlier records (not known): whether the task
 * still waits for it, up to max.task.idle (and for the broker's answer,
 * when asked: it comes within the query's timeouts and may say that
 * records are there), with *until set; false once the task goes on
 * without it, which is counted. */
static bool idle_wait(proc *p, task *t, uint64_t now, uint64_t *until) {
    if (t->wait_since == 0)
        t->wait_since = now;
    if (now - t->wait_since < (uint64_t)p->cfg->max_task_idle || t->wm_query) {
        *until = t->wait_since + (uint64_t)p->cfg->max_task_idle;
        if (*until <= now)
            *until = 0; /* the answer kicks the loop */
        return true;
    }
    /* Gone on without a partition that may have had earlier records:
     * live and replay may differ here. */
    if (!t->expired_logged)
        rp_log_debug("run: partition %" PRId32 " goes on after "
                     "max.task.idle without a partition that may have "
                     "earlier records",
                     t->partition);
    t->expired_logged = true;
    t->lane->c.idle_expired++;
    return false;
}

/* The next topic index to apply for a ready task, -1 when it must wait
 * (then *until is the uv_now at which to look again without a message
 * arriving, 0 for never). */
static int task_pick(proc *p, task *t, uint64_t *until) {
    heads h;
    *until = 0;
    if (look_at_heads(p, t, &h, until) != 0)
        return -1;
    uint64_t now = uv_now(p->loop);
    if (h.best < 0) {
        known_wait_end(t, now); /* nothing to apply: no wait */
        return -1;
    }
    /* Where we are or where a partition ends is not known: ask at once
     * (our start offset too); else, during a wait, ask again every
     * WM_REASK_MS (a watermark that counts an open transaction). */
    if ((h.unknown_pos && !t->wm_asked_at) ||
        (h.known >= 0 && now - t->wm_asked_at >= WM_REASK_MS))
        rp_wm_query(p, t, false);
    if (h.known >= 0) {
        known_wait(p, t, h.known, now, until);
        return -1;
    }
    known_wait_end(t, now);
    if (h.maybe) {
        if (idle_wait(p, t, now, until))
            return -1;
    } else {
        t->wait_since = 0;
        t->expired_logged = false;
    }
    return h.best;
}

void rp_merge_task_gone(proc *p, task *t) {
    if (t && t->known_since && p->loop)
        t->lane->c.wait_ms += uv_now(p->loop) - t->known_since;
}

uint64_t rp_merge_wait_ms(const proc *p) {
    lane_counters c;
    rp_lanes_counters(p, &c);
    uint64_t ms = c.wait_ms;
    uint64_t now = p->loop ? uv_now(p->loop) : 0;
    for (int32_t i = 0; i < p->n_parts; i++) {
        const task *t = p->tasks[i];
        if (t && t->known_since && now > t->known_since)
            ms += now - t->known_since;
    }
    return ms;
}

/* Takes what task t's input partitions' queues hold (below). */
static size_t consume_task(proc *p, lane *l, task *t);

/* Applies up to BATCH of task t's records; adds to l's outcome. */
static int task_apply(proc *p, lane *l, task *t, int budget) {
    uint64_t until = 0;
    int done = 0;
    while (done < budget && !rp_lane_failed(l)) {
        int ti = task_pick(p, t, &until);
        if (ti < 0)
            break;
        apply_one(p, t, ti);
        done++;
    }
    if (until && until < l->wait_min)
        l->wait_min = until;
    until = rp_hook_next(p, t);
    if (until && until < l->wait_min)
        l->wait_min = until;
    return done;
}

void rp_merge_lane_turn(lane *l) {
    proc *p = l->p;
    int done = 0;
    /* Start one task further each time, so that a busy partition cannot
     * take every batch from the others. */
    int32_t first =
        p->n_parts ? (int32_t)(l->rotation++ % (uint32_t)p->n_parts) : 0;
    for (int32_t n = 0; n < p->n_parts; n++) {
        task *t = p->tasks[(first + n) % p->n_parts];
        if (!t || !t->ready)
            continue;
        done += task_apply(p, l, t, BATCH - done);
        if (done >= BATCH)
            l->more = true;
    }
}

void rp_merge_task_turn(lane *l, task *t) {
    proc *p = l->p;
    l->got += consume_task(p, l, t);
    if (task_apply(p, l, t, BATCH) >= BATCH)
        l->more = true;
}

/* Applies up to BATCH records across the ready tasks of each lane, the
 * lanes at once (lanes.c). Returns true when more could be applied right
 * away; adds the messages the lanes took off the queues to *got. */
static bool process_some(proc *p, size_t *got) {
    /* Records are applied while a commit is in flight (their outputs wait
     * in the lanes' pending lists), not while an abort is: a rewind
     * follows it. */
    if ((p->committing && p->work_kind == WORK_ABORT) || p->stopping ||
        p->fatal)
        return false;
    if (atomic_load(&p->txn_failed)) {
        rp_commit_start(p); /* which aborts */
        return false;
    }
    p->wall_now = rp_run_wall_ms();
    rp_lanes_round(p, ROUND_APPLY);
    bool more = false;
    uint64_t wait_min = UINT64_MAX;
    for (int i = 0; i < p->n_lanes; i++) {
        const lane *l = &p->lanes[i];
        more |= l->more;
        *got += l->got;
        if (l->wait_min < wait_min)
            wait_min = l->wait_min;
    }
    rp_lanes_settle(p);
    if (wait_min != UINT64_MAX) {
        /* Come back when the longest a task may idle has passed (or a
         * long wait is to be logged, or the broker asked again). */
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
    bool more = process_some(p, &got);
    if (!more && got == 0) {
        uv_idle_stop(&p->work_idle);
        rp_merge_trim(p, false);
    }
}

void rp_merge_trim(proc *p, bool now_anyway) {
    uint64_t now = uv_now(p->loop);
    if (!now_anyway && p->trimmed_at && now - p->trimmed_at < 1000)
        return;
    p->trimmed_at = now;
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i])
            for (int k = 0; k < NTOP; k++)
                (void)rp_inq_trim(&p->tasks[i]->q[k]);
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
            rp_engine_advance(t->engine, now, rp_out_sink(t->lane));
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

/* ---------------------------------------------------------------- input */

/* Files one input message (or event) of topic index k under task t (NULL
 * when no task owns its partition). */
static void take_message(proc *p, lane *l, task *t, int k,
                         rd_kafka_message_t *m) {
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* The event carries the fetch position: past the transaction
             * markers that may end the partition (the high watermark is
             * then past the last message's offset + 1 for good). */
            if (t && k >= 0) {
                t->eof[k] = true;
                if (m->offset >= 0 && m->offset >= t->fetched[k])
                    t->fetched[k] = t->eof_at[k] = m->offset;
            }
        } else {
            rp_log_warn("run: consumer: %s", rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__FATAL)
                rp_lane_fail(l, "fatal consumer error");
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
    /* A copy, and the message destroyed at once: the message would keep
     * its whole fetch response alive while the merge holds it (inq.h). */
    if (rp_inq_push(&t->q[k], m) != 0)
        rp_lane_fail(l, "out of memory");
    rd_kafka_message_destroy(m);
}

/* Takes what task t's input partitions' queues hold, until a partition's
 * FIFO is full (inq.h: INQ_RECORDS_MAX records or INQ_BYTES_MAX bytes). */
static size_t consume_task(proc *p, lane *l, task *t) {
    rd_kafka_message_t *batch[256];
    size_t got = 0;
    for (int k = 0; k < NTOP; k++) {
        if (!t->in[k] || rp_hook_hold(p, t, k))
            continue;
        size_t before = got;
        while (t->in[k] && !rp_inq_full(&t->q[k]) && !rp_lane_failed(l)) {
            size_t room = INQ_RECORDS_MAX - t->q[k].n;
            ssize_t n = rd_kafka_consume_batch_queue(t->in[k], 0, batch,
                                                     room < 256 ? room : 256);
            if (n <= 0)
                break;
            for (ssize_t j = 0; j < n; j++)
                take_message(p, l, t, k, batch[j]);
            got += (size_t)n;
            /* A rebalance inside take_message cannot happen (it is
             * served from the consumer's queue, on the loop), so t
             * stays. */
        }
        if (got > before)
            rp_hook_taken(p, t, k);
    }
    return got;
}

/* Takes what the input partitions' queues hold, until a partition's FIFO is
 * full: back-pressure without pausing partitions (a resumed
 * partition's next fetch would wait behind the broker's long poll of the
 * others, up to fetch.wait.max.ms, and the task with it). A task that is
 * still restoring is not read at all (its records wait in librdkafka's
 * queues, which stops fetching when they are full; see assign.c). With
 * more than one lane, the lane that takes a task in a round takes its
 * messages too (rp_merge_task_turn), and the loop none here. Then the
 * consumer's own queue: rebalances, errors, and messages of partitions not yet
 * taken off it. */
size_t rp_merge_consume_input(proc *p) {
    size_t got = 0;
    for (int32_t i = 0; p->n_lanes == 1 && i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (t && t->ready)
            got += consume_task(p, t->lane, t);
    }
    rd_kafka_message_t *m;
    while ((m = rd_kafka_consumer_poll(p->consumer, 0)) != NULL) {
        got++;
        int k = m->rkt ? rp_topic_index(p, rd_kafka_topic_name(m->rkt)) : -1;
        task *t = (m->partition >= 0 && m->partition < p->n_parts)
                      ? p->tasks[m->partition]
                      : NULL;
        take_message(p, t ? t->lane : &p->lanes[0], t, k, m);
    }
    return got;
}
