/*
 * commit.c - the transaction pipeline: what a commit writes, the work on
 * the thread pool, and what its outcome leads to.
 *
 * Exactly once
 * ------------
 * Under exactly_once a transaction is open from start-up on (begun after
 * init_transactions, and again as soon as each commit is done, or each
 * abort unless the processor is stopping). Outputs, RELATED reports and DLQ
 * records are produced into it as records are applied. Every
 * commit.interval, when work was done since the last commit, no commit or
 * abort is in flight and the processor is not stopping (the shutdown
 * commits by itself), the commit timer starts a commit: in a round of the
 * lanes (which take the tasks one at a time, lanes.c; the loop thread alone
 * with threads=1), each ready task produces its dirty accounts' states, its new
 * dedupe chunks (and the deletion of expired ones) and its clock to its
 * changelog partition, and the loop takes the offsets of what the tasks have
 * applied (rp_commit_prepare); a worker thread then sends those offsets to the
 * transaction, commits it and begins the next (work_cb). A commit that does
 * not start because one is in flight waits for the next tick of the timer.
 *
 * Meanwhile the loop goes on applying records: they are the next
 * transaction's work, and the outputs they produce are held (p->hold,
 * each lane's pending list; output.c) until that transaction has begun, since
 * nothing can be produced into a transaction while it commits. When the commit
 * has succeeded, finish_work marks the offsets committed and produces the held
 * records into the new transaction; when it has failed, the held records
 * are dropped with the rest of the work.
 *
 * An abortable error (a record that failed, a commit that failed) aborts
 * the transaction on the worker, then every task is rebuilt from the
 * committed changelog and rewound to the committed offsets (assign.c). No
 * record is applied while an abort is in flight, and a rebuilt task
 * applies none until its restore is done. A fatal error or fencing stops
 * the process with a clear message.
 *
 * at_least_once goes through the same steps without a transaction: the
 * worker waits for the delivery of everything produced (rd_kafka_flush),
 * then commits the offsets; outputs produced meanwhile are held likewise.
 * A failure rewinds to the last committed offsets.
 *
 * One piece of work (commit or abort) is in flight at a time
 * (p->committing); a revocation may wait for it and take its outcome on
 * the loop thread (assign.c, rp_commit_wait), which finish_work then finds
 * consumed.
 *
 * The commit timer also does the loop's housekeeping: it looks at the
 * queues in case librdkafka sent no wake-up, asks about settled bursts
 * (merge.c), and gives memory back once the process is quiet.
 */
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "repute/engine.h"
#include "repute/log.h"

#include "runtime/proc.h"

static void start_abort(proc *p);

/* ---------------------------------------------------------------- changelog */

static int sink_state(void *opaque, rp_str id, const void *state, size_t len) {
    task *t = opaque;
    proc *p = t->lane->p;
    return rp_out_produce(t->lane, p->cfg->topic[RP_TOPIC_CHANGELOG],
                          t->partition, id.ptr, id.len, state, len, NULL);
}

/* Writes the task's clock (its stream time under clock=event), so that a
 * restored task applies late records at the same clock as before. */
static void put_clock(proc *p, task *t) {
    int64_t clock = rp_engine_clock(t->engine);
    if (clock == INT64_MIN || clock == t->clock_written)
        return;
    unsigned char v[8];
    rp_put_le64(v, (uint64_t)clock);
    if (rp_out_produce(t->lane, p->cfg->topic[RP_TOPIC_CHANGELOG], t->partition,
                       CLOCK_KEY, CLOCK_KEY_LEN, v, sizeof(v), NULL) == 0)
        t->clock_written = clock;
}

/* Writes the task's new dedupe keys as changelog chunks, and deletes the
 * chunks whose keys have all passed the horizon. */
static void flush_dedupe(proc *p, task *t) {
    const rp_dedupe_key *keys;
    size_t n = rp_engine_dedupe_take(t->engine, &keys);
    char key[32];
    for (size_t off = 0; off < n; off += DD_CHUNK_MAX) {
        size_t k = n - off < DD_CHUNK_MAX ? n - off : DD_CHUNK_MAX;
        unsigned char *val = malloc(k * 16);
        if (!val) {
            rp_lane_fail(t->lane, "out of memory");
            return;
        }
        int64_t newest = INT64_MIN;
        for (size_t i = 0; i < k; i++) {
            rp_put_le64(val + 16 * i, keys[off + i].fp);
            rp_put_le64(val + 16 * i + 8, (uint64_t)keys[off + i].at);
            if (keys[off + i].at > newest)
                newest = keys[off + i].at;
        }
        uint64_t seq = t->next_chunk;
        int kl = snprintf(key, sizeof(key), DD_PREFIX "%" PRIu64, seq);
        rp_out_produce(t->lane, p->cfg->topic[RP_TOPIC_CHANGELOG], t->partition,
                       key, (size_t)kl, val, k * 16, NULL);
        free(val);
        rp_task_chunk_note(t, seq, newest);
    }
    int64_t clock = rp_engine_clock(t->engine);
    size_t keep = 0;
    for (size_t i = 0; i < t->n_chunks; i++) {
        if (clock != INT64_MIN &&
            t->chunks[i].newest < clock - p->cfg->dedupe_horizon) {
            int kl = snprintf(key, sizeof(key), DD_PREFIX "%" PRIu64,
                              t->chunks[i].seq);
            rp_out_produce(t->lane, p->cfg->topic[RP_TOPIC_CHANGELOG],
                           t->partition, key, (size_t)kl, NULL, 0, NULL);
        } else {
            t->chunks[keep++] = t->chunks[i];
        }
    }
    t->n_chunks = keep;
}

/* Writes task t's changelog: its dirty states, its dedupe chunks and its
 * clock. Returns false when the transaction has failed (see
 * rp_commit_start). */
static bool task_flush(proc *p, task *t) {
    if (rp_engine_flush_dirty(t->engine, sink_state, t) != 0)
        return false;
    flush_dedupe(p, t);
    put_clock(p, t);
    t->flushed = true;
    return true;
}

void rp_commit_lane_flush(lane *l) {
    proc *p = l->p;
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (t && t->ready && !task_flush(p, t))
            break;
    }
}

void rp_commit_task_flush(lane *l, task *t) {
    if (!rp_lane_failed(l))
        task_flush(l->p, t);
}

/* Produces every task's dirty account states to the changelog (a round:
 * the lanes take the tasks one at a time, lanes.c) and returns the offsets to
 * commit, those of the tasks whose changelog was written. */
rd_kafka_topic_partition_list_t *rp_commit_prepare(proc *p) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i])
            p->tasks[i]->flushed = false;
    rp_lanes_round(p, ROUND_FLUSH);
    rp_lanes_settle(p);
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (!t || !t->flushed)
            continue;
        for (int k = 0; k < NTOP; k++)
            if (t->next[k] >= 0 && t->next[k] != t->committed[k])
                rd_kafka_topic_partition_list_add(l, rp_in_topic(p, k), i)
                    ->offset = t->next[k];
    }
    return l;
}

void rp_commit_mark(proc *p, rd_kafka_topic_partition_list_t *l) {
    for (int j = 0; j < l->cnt; j++) {
        int k = rp_topic_index(p, l->elems[j].topic);
        task *t = (l->elems[j].partition < p->n_parts)
                      ? p->tasks[l->elems[j].partition]
                      : NULL;
        if (k >= 0 && t)
            t->committed[k] = l->elems[j].offset;
    }
}

/* ---------------------------------------------------------------- work */

/* The blocking part of a commit; runs on a worker thread, or on the loop
 * thread during a revocation. */
/* librdkafka asks for a transactional call to be repeated when its error
 * is retriable (a timeout, a coordinator moving): these do it, a few times,
 * on the worker thread. */
static bool retry_after(rd_kafka_error_t **e, int *tries) {
    if (!*e || !rd_kafka_error_is_retriable(*e) || ++*tries > 5)
        return false;
    rp_log_warn("run: %s; retrying", rd_kafka_error_string(*e));
    rd_kafka_error_destroy(*e);
    *e = NULL;
    usleep(200 * 1000);
    return true;
}

rd_kafka_error_t *rp_commit_blocking(proc *p,
                                     rd_kafka_topic_partition_list_t *l) {
    rd_kafka_error_t *e = NULL;
    int tries = 0;
    p->work_committed = false;
    if (p->eos) {
        if (l->cnt > 0) {
            do {
                rd_kafka_consumer_group_metadata_t *md =
                    rd_kafka_consumer_group_metadata(p->consumer);
                e = rd_kafka_send_offsets_to_transaction(p->producer, l, md,
                                                         -1);
                rd_kafka_consumer_group_metadata_destroy(md);
            } while (retry_after(&e, &tries));
            if (e)
                return e;
        }
        do
            e = rd_kafka_commit_transaction(p->producer, -1);
        while (retry_after(&e, &tries));
        if (e)
            return e;
        /* Committed: whatever happens next, these offsets are done. The
         * next transaction begins at once, also when stopping: records
         * applied during this commit have outputs waiting for it (an
         * empty transaction left open at exit costs the broker nothing). */
        p->work_committed = true;
        return rd_kafka_begin_transaction(p->producer);
    }
    /* at_least_once: outputs first, then the offsets that they cover. */
    rd_kafka_resp_err_t err = rd_kafka_flush(p->producer, 60000);
    if (err)
        return rd_kafka_error_new(err, "flush before commit: %s",
                                  rd_kafka_err2str(err));
    if (atomic_load(&p->txn_failed))
        return rd_kafka_error_new(RD_KAFKA_RESP_ERR__FAIL,
                                  "an output was not delivered");
    if (l->cnt > 0) {
        err = rd_kafka_commit(p->consumer, l, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            return rd_kafka_error_new(err, "offset commit: %s",
                                      rd_kafka_err2str(err));
    }
    return NULL;
}

static void work_cb(uv_work_t *w) {
    proc *p = w->data;
    if (p->work_kind == WORK_COMMIT) {
        p->work_error = rp_commit_blocking(p, p->work_offsets);
    } else if (!p->eos) {
        /* at_least_once has no transaction: let the outputs drain; the
         * rewind then reprocesses from the last committed offsets. */
        rd_kafka_flush(p->producer, 60000);
    } else {
        int tries = 0;
        do
            p->work_error = rd_kafka_abort_transaction(p->producer, -1);
        while (retry_after(&p->work_error, &tries));
        if (!p->work_error && !p->stopping)
            p->work_error = rd_kafka_begin_transaction(p->producer);
    }
    pthread_mutex_lock(&p->work_mu);
    p->work_done = true;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->work_mu);
}

/* Handles the outcome of a commit or abort, on the loop thread. The
 * outcome may already have been consumed by a revocation that waited for
 * it (rp_commit_wait); then work_offsets is NULL. */
static void finish_work(proc *p) {
    p->committing = false;
    p->hold = false;
    if (p->work_consumed) {
        /* A revocation waited for this work and took its outcome. */
        p->work_consumed = false;
        if (p->stopping)
            rp_loop_continue_shutdown(p);
        else
            rp_merge_kick(p);
        return;
    }
    rd_kafka_error_t *e = p->work_error;
    p->work_error = NULL;
    rd_kafka_topic_partition_list_t *l = p->work_offsets;
    p->work_offsets = NULL;
    if (e && p->work_kind == WORK_COMMIT && p->work_committed) {
        /* The commit went through but the next transaction cannot begin:
         * record the commit, then stop (below, as fatal). */
        if (l)
            rp_commit_mark(p, l);
        p->commits++;
        rp_log_error("run: cannot begin the next transaction: %s",
                     rd_kafka_error_string(e));
        rp_loop_fail_fatal(p, "cannot begin a transaction");
    } else if (e == NULL) {
        if (p->work_kind == WORK_COMMIT) {
            if (l)
                rp_commit_mark(p, l);
            p->commits++;
            if (p->obs->on_commit)
                p->obs->on_commit(p->obs->opaque,
                                  uv_now(p->loop) - p->commit_started);
            rp_out_pending_flush(p);
        } else {
            p->aborts++;
            atomic_store(&p->txn_failed, false);
            rp_assign_rewind(p);
        }
    } else if (rd_kafka_error_is_fatal(e) ||
               rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__FENCED ||
               rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
               rd_kafka_error_code(e) ==
                   RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
        rp_log_error("run: fatal transaction error: %s (another instance "
                     "with the same transactional.id may have taken over)",
                     rd_kafka_error_string(e));
        rp_loop_fail_fatal(p, "fatal transaction error");
    } else if (p->eos && (rd_kafka_error_txn_requires_abort(e) ||
                          p->work_kind == WORK_COMMIT)) {
        rp_log_warn("run: transaction failed, aborting and rewinding: %s",
                    rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        e = NULL;
        if (l)
            rd_kafka_topic_partition_list_destroy(l);
        rp_out_pending_clear(p);
        start_abort(p);
        return;
    } else if (p->work_kind == WORK_ABORT) {
        /* An abort that fails (after retries) leaves the producer in a
         * state nothing can repair from here. */
        rp_log_error("run: abort failed: %s", rd_kafka_error_string(e));
        rp_loop_fail_fatal(p, "cannot abort the transaction");
    } else {
        rp_log_error("run: commit failed: %s", rd_kafka_error_string(e));
        if (!p->eos) {
            /* at_least_once: reprocess from the last commit. */
            atomic_store(&p->txn_failed, false);
            rp_assign_rewind(p);
        }
    }
    if (e)
        rd_kafka_error_destroy(e);
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    /* Empty after a successful commit; otherwise what was held belongs to
     * work that is redone or abandoned. */
    rp_out_pending_clear(p);
    if (p->stopping)
        rp_loop_continue_shutdown(p);
    else
        rp_merge_kick(p);
}

static void after_work_cb(uv_work_t *w, int status) {
    (void)status;
    finish_work(w->data);
}

static void queue_work(proc *p, work_kind kind) {
    p->work_kind = kind;
    p->work_consumed = false;
    p->committing = true;
    p->hold = true;
    p->commit_started = uv_now(p->loop);
    p->work_done = false;
    p->work.data = p;
    uv_queue_work(p->loop, &p->work, work_cb, after_work_cb);
}

void rp_commit_start(proc *p) {
    if (p->committing || p->fatal)
        return;
    if (!atomic_load(&p->txn_failed)) {
        p->work_offsets = rp_commit_prepare(p);
        p->uncommitted = false;
    }
    if (p->fatal) {
        /* Stopping: commit nothing (the state written so far may not
         * cover the offsets); the transaction is aborted at exit. */
        if (p->work_offsets)
            rd_kafka_topic_partition_list_destroy(p->work_offsets);
        p->work_offsets = NULL;
        return;
    }
    if (atomic_load(&p->txn_failed)) {
        if (p->work_offsets)
            rd_kafka_topic_partition_list_destroy(p->work_offsets);
        p->work_offsets = NULL;
        p->uncommitted = false;
        rp_log_warn("run: aborting the transaction and rewinding");
        start_abort(p);
        return;
    }
    queue_work(p, WORK_COMMIT);
}

static void start_abort(proc *p) {
    queue_work(p, WORK_ABORT);
}

/* Gives the memory freed by a burst of work back to the system once the
 * process goes quiet: the input and output buffers of a burst (librdkafka
 * allocates them on its own threads, in malloc arenas of their own) would
 * otherwise stay resident, and a process that has caught up would look
 * several times its working size. Once per quiet period: the call walks
 * every arena. */
static void trim_when_quiet(proc *p) {
    uint64_t applied = rp_lanes_applied(p);
    bool quiet =
        applied == p->trim_applied && !p->committing && !p->uncommitted;
    if (!quiet) {
        p->trim_applied = applied;
        p->trimmed = false;
        return;
    }
    if (!p->trimmed) {
        /* The input FIFOs' large empty rings first, so that what they
         * held goes back too (rp_merge_trim, without its rate limit). */
        rp_merge_trim(p, true);
        malloc_trim(0);
        p->trimmed = true;
    }
}

void rp_commit_on_timer(uv_timer_t *h) {
    proc *p = h->data;
    /* A safety net for a wake-up librdkafka did not send (with several
     * lanes, the lanes read the partitions' queues: a turn looks). */
    if (!p->loop_stopped && (rp_loop_drain(p) > 0 || p->n_lanes > 1))
        rp_merge_kick(p);
    if (p->uncommitted && !p->committing && !p->stopping)
        rp_commit_start(p);
    rp_wm_settle_bursts(p);
    trim_when_quiet(p);
}

/* Blocks until the in-flight work (if any) has finished on its thread. */
void rp_commit_wait(proc *p) {
    pthread_mutex_lock(&p->work_mu);
    while (p->committing && !p->work_done)
        pthread_cond_wait(&p->work_cv, &p->work_mu);
    pthread_mutex_unlock(&p->work_mu);
}
