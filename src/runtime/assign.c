/*
 * assign.c - partitions coming and going: assignments, restores from the
 * changelog, revocations, and the rewind after an abort.
 *
 * An assignment makes a task per partition number (task.c) and starts its
 * restore: the restore consumer (a consumer of its own, read_committed,
 * outside the group) reads its changelog partition from the beginning.
 * The account states, the dedupe chunks and the task's clock come back
 * into the engine; at the end of the partition the task is ready, and the
 * restore consumer skips that partition's records from then on. The
 * restore consumer is assigned every changelog partition still restoring,
 * each at the offset its restore has reached, and nothing once none is.
 *
 * Nothing here pauses or resumes a partition. While a task restores, the
 * merge simply does not read its input partitions' queues: librdkafka
 * prefetches into them up to its queue limits and then stops fetching, as
 * it does whenever the loop falls behind. Pausing was how this file began,
 * and it lost partitions: a pause (or resume) right after an assign can
 * make librdkafka drop the assign's start offset (librdkafka issues 2190,
 * 4686, 5591, open in 2.0.2), after which that partition is never fetched
 * and its task waits for it forever (seen once in about forty runs of the
 * integration tests). Likewise the restore consumer is assigned with
 * explicit offsets, and a restored changelog partition is skipped rather
 * than paused.
 *
 * A revocation must commit everything applied so far before the
 * partitions go to another member, so it runs the commit here, on the
 * loop thread, blocking: it waits for the commit or abort in flight (and
 * takes its outcome, see commit.c), then, if that went well, commits what
 * is left, then drops every task. This is one of the few places where the
 * loop waits for the network.
 *
 * The end of a changelog partition, read_committed, is its last stable
 * offset, and a transaction still open there can still commit. It may be
 * that of a member that lost the partition without knowing it yet (frozen
 * past its session timeout, say): its changelog records and its input
 * offsets commit together. The group's offsets, which the consumer fetches
 * with require_stable (librdkafka does under read_committed), are only
 * given once that transaction has ended; a restore that stopped at the
 * stable offset before it ended would miss its records, while the inputs
 * resumed past them: an interval lost. So a restore ends only at an end
 * of partition where the last stable offset is the high watermark
 * (restore_done); until then it waits, and the transaction ends, at the
 * latest when transaction.timeout.ms aborts it: committed, its records
 * are read and another end of partition follows; aborted, the markers are
 * skipped and another end of partition follows.
 *
 * After an abort, every task is rebuilt from the committed changelog and
 * its inputs are rewound to the committed offsets (or the first offsets
 * of the assignment): the restore runs again, and the records after the
 * last commit are applied again.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "repute/engine.h"
#include "repute/log.h"
#include "repute/stop.h"

#include "runtime/proc.h"

/* ---------------------------------------------------------------- restore */

/* Assigns the restore consumer every changelog partition still restoring,
 * each where its restore has reached (prefetched records of the previous
 * assignment are discarded by librdkafka and read again), or nothing. */
static void restorer_reassign(proc *p) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (t && !t->ready) {
            rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(
                l, p->cfg->topic[RP_TOPIC_CHANGELOG], i);
            tp->offset = t->restore_next >= 0 ? t->restore_next
                                              : RD_KAFKA_OFFSET_BEGINNING;
        }
    }
    rd_kafka_resp_err_t err =
        rd_kafka_assign(p->restorer, l->cnt > 0 ? l : NULL);
    if (err)
        rp_log_error("run: cannot assign the changelog: %s",
                     rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Starts (or restarts) the restore of a task from its changelog. */
static void task_begin_restore(proc *p, task *t) {
    t->ready = false;
    t->restored = 0;
    t->restore_txn = false;
    t->restore_start = uv_now(p->loop);
    t->restore_next = -1;
}

/* Whether the end of partition at eof_at (the last stable offset) ends
 * t's restore: only where no transaction is open past it (see above). */
static bool restore_done(proc *p, task *t, int64_t eof_at) {
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(p->restorer,
                                       p->cfg->topic[RP_TOPIC_CHANGELOG],
                                       t->partition, &lo, &hi) != 0 ||
        hi <= eof_at) {
        if (t->restore_txn)
            rp_log_info("run: partition %" PRId32 ": the changelog's open "
                        "transaction has ended at offset %" PRId64,
                        t->partition, eof_at);
        return true;
    }
    if (!t->restore_txn)
        rp_log_info("run: partition %" PRId32 ": the changelog has an open "
                    "transaction (stable up to offset %" PRId64
                    ", high watermark %" PRId64 "); the restore waits for "
                    "it to end",
                    t->partition, eof_at, hi);
    t->restore_txn = true;
    return false;
}

static void task_restored(proc *p, task *t) {
    t->ready = true;
    if (p->rebuild_current)
        rp_current_rebuild(p, t);
    rp_engine_stats st;
    rp_engine_get_stats(t->engine, &st);
    rp_log_info("run: partition %" PRId32 " restored: %" PRIu64
                " accounts from %" PRIu64 " changelog records in %" PRIu64
                " ms",
                t->partition, st.accounts, t->restored,
                uv_now(p->loop) - t->restore_start);
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i] && !p->tasks[i]->ready)
            return;
    uint64_t total = 0;
    for (int32_t i = 0; i < p->n_parts; i++)
        if (p->tasks[i]) {
            rp_engine_stats s;
            rp_engine_get_stats(p->tasks[i]->engine, &s);
            total += s.accounts;
        }
    rp_log_info("run: ready: %d partitions, %" PRIu64 " accounts restored, "
                "%" PRIu64 " ms after start",
                p->n_tasks, total, uv_now(p->loop) - p->start_ms);
    /* The restore's fetch buffers are free now (see trim_when_quiet). */
    malloc_trim(0);
}

/* Drops every task (a revocation, or exit). Their engines' counters are
 * kept in p->retired, so that the metrics' totals never go back. (A task
 * rebuilt after an abort is not retired: its work is redone.) */
void rp_assign_drop_all(proc *p) {
    for (int32_t i = 0; i < p->n_parts; i++) {
        if (p->tasks[i]) {
            rp_engine_stats st;
            rp_engine_get_stats(p->tasks[i]->engine, &st);
            rp_engine_stats_add(&p->retired, &st);
        }
        rp_merge_task_gone(p, p->tasks[i]);
        rp_task_free(p->tasks[i]);
        p->tasks[i] = NULL;
    }
    p->n_tasks = 0;
}

/* ---------------------------------------------------------------- rewind */

/* Rebuilds every task from the committed changelog and rewinds its input
 * partitions to the committed offsets (after an abort). */
void rp_assign_rewind(proc *p) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (!t)
            continue;
        for (int k = 0; k < NTOP; k++) {
            int64_t to = t->committed[k] >= 0 ? t->committed[k] : t->first[k];
            if (to >= 0)
                rd_kafka_topic_partition_list_add(l, rp_in_topic(p, k), i)
                    ->offset = to;
        }
        task *fresh = rp_task_new(p, i);
        if (!fresh) {
            rp_loop_fail_fatal(p, "out of memory");
            break;
        }
        fresh->lane = t->lane;
        for (int k = 0; k < NTOP; k++) {
            fresh->committed[k] = t->committed[k];
            fresh->first[k] =
                t->committed[k] >= 0 ? t->committed[k] : t->first[k];
        }
        rp_merge_task_gone(p, t);
        rp_task_free(t);
        p->tasks[i] = fresh;
        if (rp_task_open_queues(p, fresh) != 0)
            rp_loop_fail_fatal(p, "cannot rewind");
        task_begin_restore(p, fresh);
    }
    if (l->cnt > 0) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(p->consumer, l, 0);
        if (e) {
            rp_log_error("run: rewind failed: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    restorer_reassign(p);
}

/* ---------------------------------------------------------------- rebalance */

static void on_assign(proc *p, rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_resp_err_t err = rd_kafka_assign(p->consumer, parts);
    if (err) {
        rp_log_error("run: assign failed: %s", rd_kafka_err2str(err));
        return;
    }
    p->assigned = true;
    for (int j = 0; j < parts->cnt; j++) {
        int32_t i = parts->elems[j].partition;
        if (i < 0 || i >= p->n_parts || p->tasks[i])
            continue;
        task *t = rp_task_new(p, i);
        if (!t) {
            rp_loop_fail_fatal(p, "out of memory");
            return;
        }
        /* Until a round's lane takes it (lanes.c). */
        t->lane = &p->lanes[0];
        p->tasks[i] = t;
        p->n_tasks++;
        if (rp_task_open_queues(p, t) != 0) {
            rp_loop_fail_fatal(p, "cannot read an assigned partition");
            return;
        }
        task_begin_restore(p, t);
    }
    rp_log_info("run: assigned %d partitions (%d input topic-partitions)",
                p->n_tasks, parts->cnt);
    restorer_reassign(p);
}

/* After a failed commit at revocation: abort the transaction (what it held
 * is reprocessed by whoever gets the partitions) and open the next one. */
static void abort_after(proc *p, rd_kafka_error_t *e) {
    atomic_store(&p->txn_failed, false);
    if (p->eos && !rd_kafka_error_is_fatal(e)) {
        rd_kafka_error_t *a = rd_kafka_abort_transaction(p->producer, -1);
        if (!a && !p->stopping)
            a = rd_kafka_begin_transaction(p->producer);
        if (a) {
            rp_log_error("run: %s", rd_kafka_error_string(a));
            rd_kafka_error_destroy(a);
        }
    }
    rd_kafka_error_destroy(e);
}

static void on_revoke(proc *p) {
    /* Everything applied so far must be committed before the partitions go
     * to another member: wait for a commit in flight, then commit what is
     * left, here, on the loop thread. */
    bool ok = true;
    if (p->committing) {
        rp_commit_wait(p);
        /* finish_work will run later from libuv; consume its outcome now
         * so that it finds nothing to do. */
        rd_kafka_error_t *e = p->work_error;
        p->work_error = NULL;
        p->work_consumed = true;
        bool committed =
            p->work_kind == WORK_COMMIT && (e == NULL || p->work_committed);
        if (committed && p->work_offsets)
            rp_commit_mark(p, p->work_offsets);
        if (p->work_kind == WORK_ABORT && e == NULL)
            atomic_store(&p->txn_failed, false);
        if (e && (p->work_committed || rd_kafka_error_is_fatal(e))) {
            rp_log_error("run: transaction error at revocation: %s",
                         rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rp_loop_fail_fatal(p, "fatal transaction error");
        } else if (e) {
            rp_log_warn("run: commit before revocation failed: %s",
                        rd_kafka_error_string(e));
            abort_after(p, e);
        }
        if (p->work_offsets)
            rd_kafka_topic_partition_list_destroy(p->work_offsets);
        p->work_offsets = NULL;
        /* Records applied during that commit: their outputs go into the
         * transaction just begun, and are committed below with them. */
        ok = committed && e == NULL;
        p->hold = false;
        if (ok)
            rp_out_pending_flush(p);
        else
            rp_out_pending_clear(p);
    }
    if (ok && p->uncommitted && !p->fatal) {
        rd_kafka_topic_partition_list_t *l = rp_commit_prepare(p);
        rd_kafka_error_t *e = rp_commit_blocking(p, l);
        if (e) {
            rp_log_warn("run: commit at revocation failed: %s",
                        rd_kafka_error_string(e));
            abort_after(p, e);
        } else {
            p->commits++;
        }
        rd_kafka_topic_partition_list_destroy(l);
        p->uncommitted = false;
    }
    rp_assign_drop_all(p);
    restorer_reassign(p);
    rd_kafka_assign(p->consumer, NULL);
    rp_log_info("run: partitions revoked");
}

void rp_assign_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts,
                            void *opaque) {
    proc *p = opaque;
    if (p->tearing_down) {
        rd_kafka_assign(rk, NULL);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(p, parts);
    else
        on_revoke(p);
}

/* ---------------------------------------------------------------- changelog */

size_t rp_assign_consume_changelog(proc *p) {
    rd_kafka_message_t *m;
    bool changed = false;
    size_t got = 0;
    /* A restore can have hundreds of thousands of records queued: after a
     * signal the rest is of no use (the restore is given up), and the
     * loop must get to the signal now (docs/run.md, "Signals"). */
    while (!rp_stop_signal() &&
           (m = rd_kafka_consumer_poll(p->restorer, 0)) != NULL) {
        got++;
        task *t = (m->partition >= 0 && m->partition < p->n_parts)
                      ? p->tasks[m->partition]
                      : NULL;
        if (t && !t->ready && !m->err)
            t->restore_next = m->offset + 1;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (t && !t->ready && restore_done(p, t, m->offset)) {
                task_restored(p, t);
                changed = true;
            }
        } else if (m->err) {
            rp_log_warn("run: changelog: %s", rd_kafka_message_errstr(m));
        } else if (t && !t->ready && m->key && m->key_len == CLOCK_KEY_LEN &&
                   memcmp(m->key, CLOCK_KEY, CLOCK_KEY_LEN) == 0) {
            if (m->payload && m->len == 8) {
                t->clock_written = (int64_t)rp_get_le64(m->payload);
                rp_engine_restore_clock(t->engine, t->clock_written);
            }
            t->restored++;
        } else if (t && !t->ready && m->key && m->key_len >= DD_PREFIX_LEN &&
                   memcmp(m->key, DD_PREFIX, DD_PREFIX_LEN) == 0) {
            rp_task_chunk_restore(t, m);
            t->restored++;
        } else if (t && !t->ready && m->key) {
            rp_str id = {m->key, m->key_len};
            int rc = rp_engine_restore(t->engine, id, m->payload,
                                       m->payload ? m->len : 0);
            if (rc != 0)
                rp_log_warn("run: changelog record of %.*s skipped: %s",
                            (int)m->key_len, (const char *)m->key,
                            rp_strerror(rc));
            t->restored++;
        }
        rd_kafka_message_destroy(m);
    }
    /* A restored partition is not unassigned at once: that would discard
     * what is prefetched for the others. Its records are skipped until no
     * restore remains (tasks assigned together restore together). */
    if (changed) {
        bool any = false;
        for (int32_t i = 0; i < p->n_parts; i++)
            if (p->tasks[i] && !p->tasks[i]->ready)
                any = true;
        if (!any)
            restorer_reassign(p);
    }
    return got;
}
