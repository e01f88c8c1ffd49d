/*
 * processor.c - `repute run`: Kafka in, engine, Kafka out, on one libuv loop.
 *
 * Threads and blocking
 * --------------------
 * Everything happens on one libuv loop thread. librdkafka's queues (the
 * group consumer's, the changelog reader's and the producer's main queue)
 * are switched to "IO event" mode: when a queue goes from empty to
 * non-empty, librdkafka writes a byte to one pipe, which the loop watches
 * with uv_poll. The loop then drains the queues with zero timeouts, so no
 * librdkafka call on the loop waits for the network. The transactional
 * calls that do wait (send offsets, commit, abort, begin) run on libuv's
 * thread pool with uv_queue_work while the loop goes on. The exceptions,
 * each bounded and
 * rare: start-up (metadata, topic creation, init_transactions) and a
 * rebalance revocation, which must commit before it gives partitions away.
 *
 * Tasks
 * -----
 * All five input topics are co-partitioned; partition number p of every
 * topic, plus partition p of the changelog, forms task p. A task owns an
 * engine (so under clock=event each task follows its own stream time, as a
 * Kafka Streams task does), five FIFO buffers of fetched messages, and the
 * next offset to commit per topic. A new task first restores its engine
 * from its changelog partition (read_committed, from the beginning to the
 * end seen at that time); its input partitions stay paused until then.
 *
 * Event-time merge
 * ----------------
 * A ready task repeatedly takes the buffered record with the smallest
 * event_time among the heads of its five buffers (ties in topic order). If
 * a buffer is empty while its partition may still have records (no
 * end-of-partition seen since its last message), the task waits, at most
 * max.task.idle, as Kafka Streams' task idling does; then it goes on
 * without that partition.
 *
 * Exactly once
 * ------------
 * A transaction is open whenever the processor runs. Outputs, RELATED
 * reports and DLQ records are produced into it as records are applied.
 * Every commit.interval the loop produces the dirty accounts' states to
 * the changelog and takes the offsets of what it has applied; a worker
 * thread then sends those offsets to the transaction, commits it and
 * begins the next. Meanwhile the loop goes on applying records: they are
 * the next transaction's work, and the outputs they produce are held
 * (p->pending) until that transaction has begun, since nothing can be
 * produced into a transaction while it commits. An abort applies nothing
 * until its rewind is done. An abortable error
 * aborts it, and every task is rebuilt from the committed changelog and
 * rewound to the committed offsets; a fatal error or fencing stops the
 * process with a clear message. at_least_once does the same without a
 * transaction: it waits for delivery, then commits offsets.
 */
#include "repute/processor.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

#include "repute/avro.h"
#include "repute/engine.h"
#include "repute/kafka.h"
#include "repute/log.h"

#include "runtime/proc.h"

/* ---------------------------------------------------------------- queues */

static int msgq_push(msgq *q, rd_kafka_message_t *m) {
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        rd_kafka_message_t **v = malloc(cap * sizeof(*v));
        if (!v)
            return RP_ENOMEM;
        for (size_t i = 0; i < q->n; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    q->v[(q->head + q->n) % q->cap] = m;
    q->n++;
    return 0;
}

static rd_kafka_message_t *msgq_peek(const msgq *q) {
    return q->n ? q->v[q->head] : NULL;
}

static rd_kafka_message_t *msgq_pop(msgq *q) {
    rd_kafka_message_t *m = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return m;
}

static void msgq_clear(msgq *q) {
    while (q->n)
        rd_kafka_message_destroy(msgq_pop(q));
    free(q->v);
    memset(q, 0, sizeof(*q));
}

/* ---------------------------------------------------------------- topics */

static const char *in_topic(const proc *p, int t) {
    return p->cfg->topic[t];
}

static int topic_index(const proc *p, const char *name) {
    for (int t = 0; t < NTOP; t++)
        if (strcmp(name, in_topic(p, t)) == 0)
            return t;
    return -1;
}

/* ---------------------------------------------------------------- produce */

static void fail_fatal(proc *p, const char *what);

/* Produces one record, waiting (briefly, polling) only when librdkafka's
 * local queue is full. */
static int produce_now(proc *p, const char *topic, int32_t partition,
                       const void *key, size_t key_len, const void *val,
                       size_t val_len, rd_kafka_headers_t *hdrs);

/* Keeps a record for the next transaction (see pending_flush). */
static int pending_push(proc *p, const char *topic, int32_t partition,
                        const void *key, size_t key_len, const void *val,
                        size_t val_len, rd_kafka_headers_t *hdrs) {
    if (p->n_pending == p->cap_pending) {
        size_t cap = p->cap_pending ? 2 * p->cap_pending : 256;
        pending_msg *v = realloc(p->pending, cap * sizeof(*v));
        if (!v)
            goto fail;
        p->pending = v;
        p->cap_pending = cap;
    }
    pending_msg *m = &p->pending[p->n_pending];
    m->key = key_len ? malloc(key_len) : NULL;
    m->value = val_len ? malloc(val_len) : NULL;
    if ((key_len && !m->key) || (val_len && !m->value)) {
        free(m->key);
        free(m->value);
        goto fail;
    }
    if (key_len)
        memcpy(m->key, key, key_len);
    if (val_len)
        memcpy(m->value, val, val_len);
    m->topic = topic;
    m->partition = partition;
    m->key_len = key_len;
    m->value_len = val_len;
    m->hdrs = hdrs;
    p->n_pending++;
    p->uncommitted = true;
    return 0;
fail:
    if (hdrs)
        rd_kafka_headers_destroy(hdrs);
    fail_fatal(p, "out of memory");
    return -1;
}

/* Drops the held records (their transaction will not happen: an abort
 * rewinds and redoes their work, or the process stops). */
static void pending_clear(proc *p) {
    for (size_t i = 0; i < p->n_pending; i++) {
        free(p->pending[i].key);
        free(p->pending[i].value);
        if (p->pending[i].hdrs)
            rd_kafka_headers_destroy(p->pending[i].hdrs);
    }
    p->n_pending = 0;
}

/* Produces the held records into the transaction that has just begun. */
static void pending_flush(proc *p) {
    for (size_t i = 0; i < p->n_pending; i++) {
        pending_msg *m = &p->pending[i];
        rd_kafka_headers_t *h = m->hdrs;
        m->hdrs = NULL; /* produce_now takes it, also on failure */
        if (produce_now(p, m->topic, m->partition, m->key, m->key_len, m->value,
                        m->value_len, h) != 0)
            break; /* the rest is dropped: the transaction aborts */
    }
    pending_clear(p);
}

/* Produces one record; while a commit is in flight, holds it for the next
 * transaction instead. */
static int produce(proc *p, const char *topic, int32_t partition,
                   const void *key, size_t key_len, const void *val,
                   size_t val_len, rd_kafka_headers_t *hdrs) {
    if (p->hold)
        return pending_push(p, topic, partition, key, key_len, val, val_len,
                            hdrs);
    return produce_now(p, topic, partition, key, key_len, val, val_len, hdrs);
}

static int produce_now(proc *p, const char *topic, int32_t partition,
                       const void *key, size_t key_len, const void *val,
                       size_t val_len, rd_kafka_headers_t *hdrs) {
    for (;;) {
        rd_kafka_resp_err_t err;
        if (hdrs)
            err = rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_KEY((void *)key, key_len),
                                    RD_KAFKA_V_VALUE((void *)val, val_len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        else
            err = rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_KEY((void *)key, key_len),
                                    RD_KAFKA_V_VALUE((void *)val, val_len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            p->produced++;
            p->uncommitted = true;
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            if (rd_kafka_fatal_error(p->producer, NULL, 0) ==
                RD_KAFKA_RESP_ERR_NO_ERROR) {
                /* Abortable (the transaction is in an error state, or this
                 * one record cannot be sent): stop applying; the next
                 * commit turns into an abort and a rewind. */
                if (!atomic_exchange(&p->txn_failed, true))
                    rp_log_warn("run: cannot produce to %s: %s; the "
                                "transaction will be aborted",
                                topic, rd_kafka_err2str(err));
                return -1;
            }
            rp_log_error("run: cannot produce to %s: %s", topic,
                         rd_kafka_err2str(err));
            fail_fatal(p, "produce failed");
            return -1;
        }
        rd_kafka_poll(p->producer, 50);
    }
}

/* ---------------------------------------------------------------- sink */

static void sink_event(void *opaque, const rp_event *ev) {
    proc *p = opaque;
    rp_api_note_event(p, ev);
    const void *buf;
    size_t len;
    char err[256];
    if (rp_avro_encode_event(p->enc, ev, &buf, &len, err, sizeof(err)) != 0) {
        rp_log_error("run: cannot encode an output event: %s", err);
        fail_fatal(p, "encode failed");
        return;
    }
    produce(p, p->cfg->topic[RP_TOPIC_STATUS], RD_KAFKA_PARTITION_UA,
            ev->account_id.ptr, ev->account_id.len, buf, len, NULL);
}

static void sink_report(void *opaque, const rp_record *rep) {
    proc *p = opaque;
    const void *buf;
    size_t len;
    char err[256];
    if (rp_avro_encode(p->enc, rep, &buf, &len, err, sizeof(err)) != 0) {
        rp_log_error("run: cannot encode a RELATED_ACCOUNT report: %s", err);
        fail_fatal(p, "encode failed");
        return;
    }
    /* Keyed by the linked account, so the report reaches whichever
     * instance owns that account's partition. */
    produce(p, p->cfg->topic[RP_TOPIC_REPORTS], RD_KAFKA_PARTITION_UA,
            rep->account_id.ptr, rep->account_id.len, buf, len, NULL);
}

static int sink_state(void *opaque, rp_str id, const void *state, size_t len);

/* ---------------------------------------------------------------- tasks */

/* Takes the task's input partitions off the consumer's queue (see
 * task.in). Returns 0 or -1 (not assigned). */
static int task_open_queues(proc *p, task *t) {
    for (int k = 0; k < NTOP; k++) {
        t->in[k] = rd_kafka_queue_get_partition(p->consumer, in_topic(p, k),
                                                t->partition);
        if (!t->in[k]) {
            rp_log_error("run: no queue for %s [%" PRId32 "]", in_topic(p, k),
                         t->partition);
            return -1;
        }
        rd_kafka_queue_forward(t->in[k], NULL);
        rd_kafka_queue_io_event_enable(t->in[k], p->pipefd[1], "i", 1);
    }
    return 0;
}

static task *task_new(proc *p, int32_t partition) {
    char err[256];
    task *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->partition = partition;
    t->engine = rp_engine_new(p->cfg, err, sizeof(err));
    if (!t->engine) {
        free(t);
        return NULL;
    }
    rp_engine_set_dedupe_log(t->engine, true);
    t->epoch = ++p->task_epoch;
    for (int i = 0; i < NTOP; i++)
        t->next[i] = t->committed[i] = t->first[i] = t->fetched[i] = -1;
    t->clock_written = INT64_MIN;
    return t;
}

static void task_free(task *t) {
    if (!t)
        return;
    for (int i = 0; i < NTOP; i++) {
        msgq_clear(&t->q[i]);
        if (t->in[i]) {
            rd_kafka_queue_io_event_enable(t->in[i], -1, NULL, 0);
            rd_kafka_queue_destroy(t->in[i]);
        }
    }
    rp_engine_destroy(t->engine);
    free(t->chunks);
    free(t);
}

static int chunk_note(task *t, uint64_t seq, int64_t newest) {
    if (t->n_chunks == t->cap_chunks) {
        size_t cap = t->cap_chunks ? t->cap_chunks * 2 : 64;
        dd_chunk *c = realloc(t->chunks, cap * sizeof(*c));
        if (!c)
            return RP_ENOMEM;
        t->chunks = c;
        t->cap_chunks = cap;
    }
    t->chunks[t->n_chunks].seq = seq;
    t->chunks[t->n_chunks].newest = newest;
    t->n_chunks++;
    if (seq >= t->next_chunk)
        t->next_chunk = seq + 1;
    return 0;
}

static void put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Restores a dedupe chunk read from the changelog. */
static void chunk_restore(task *t, const rd_kafka_message_t *m) {
    char seqs[24];
    size_t n = m->key_len - DD_PREFIX_LEN;
    if (n == 0 || n >= sizeof(seqs) || !m->payload || m->len % 16 != 0)
        return; /* a tombstone, or not ours */
    memcpy(seqs, (const char *)m->key + DD_PREFIX_LEN, n);
    seqs[n] = '\0';
    uint64_t seq = strtoull(seqs, NULL, 10);
    size_t count = m->len / 16;
    const unsigned char *v = m->payload;
    rp_dedupe_key keys[256];
    int64_t newest = INT64_MIN;
    for (size_t i = 0; i < count;) {
        size_t k = 0;
        for (; k < 256 && i < count; k++, i++) {
            keys[k].fp = get_le64(v + 16 * i);
            keys[k].at = (int64_t)get_le64(v + 16 * i + 8);
            if (keys[k].at > newest)
                newest = keys[k].at;
        }
        rp_engine_dedupe_restore(t->engine, keys, k);
    }
    chunk_note(t, seq, newest);
}

/* Pauses or resumes the task's input partitions (while it restores). */
static void task_pause(proc *p, task *t, bool pause) {
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(NTOP);
    for (int i = 0; i < NTOP; i++)
        rd_kafka_topic_partition_list_add(l, in_topic(p, i), t->partition);
    if (pause)
        rd_kafka_pause_partitions(p->consumer, l);
    else
        rd_kafka_resume_partitions(p->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Assigns the restore consumer every changelog partition still restoring. */
static void restorer_reassign(proc *p) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (t && !t->ready) {
            rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(
                l, p->cfg->topic[RP_TOPIC_CHANGELOG], i);
            tp->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(p->restorer, l);
    if (err)
        rp_log_error("run: cannot assign the changelog: %s",
                     rd_kafka_err2str(err));
    /* A partition restored earlier was paused (task_restored) and
     * librdkafka keeps that across assignments. */
    else if (l->cnt > 0)
        rd_kafka_resume_partitions(p->restorer, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Starts (or restarts) the restore of a task from its changelog. */
static void task_begin_restore(proc *p, task *t) {
    t->ready = false;
    t->restored = 0;
    t->restore_start = uv_now(p->loop);
    task_pause(p, t, true);
}

static void task_restored(proc *p, task *t) {
    t->ready = true;
    /* Stop reading this changelog partition, without disturbing the
     * positions of those still restoring (a new assignment would start
     * them from the beginning again). */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->cfg->topic[RP_TOPIC_CHANGELOG],
                                      t->partition);
    rd_kafka_pause_partitions(p->restorer, l);
    rd_kafka_topic_partition_list_destroy(l);
    rp_engine_stats st;
    rp_engine_get_stats(t->engine, &st);
    rp_log_info("run: partition %" PRId32 " restored: %" PRIu64
                " accounts from %" PRIu64 " changelog records in %" PRIu64
                " ms",
                t->partition, st.accounts, t->restored,
                uv_now(p->loop) - t->restore_start);
    task_pause(p, t, false);
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
static void tasks_drop_all(proc *p) {
    for (int32_t i = 0; i < p->n_parts; i++) {
        if (p->tasks[i]) {
            rp_engine_stats st;
            rp_engine_get_stats(p->tasks[i]->engine, &st);
            rp_engine_stats_add(&p->retired, &st);
        }
        task_free(p->tasks[i]);
        p->tasks[i] = NULL;
    }
    p->n_tasks = 0;
}

/* ---------------------------------------------------------------- DLQ */

static void to_dlq(proc *p, int t, const rd_kafka_message_t *m,
                   const char *why) {
    char part[16], off[24];
    snprintf(part, sizeof(part), "%" PRId32, m->partition);
    snprintf(off, sizeof(off), "%" PRId64, m->offset);
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    rd_kafka_header_add(h, "repute.topic", -1, in_topic(p, t), -1);
    rd_kafka_header_add(h, "repute.partition", -1, part, -1);
    rd_kafka_header_add(h, "repute.offset", -1, off, -1);
    rd_kafka_header_add(h, "repute.error", -1, why, -1);
    rp_log_warn("run: %s [%" PRId32 "] @%" PRId64 " to the DLQ: %s",
                in_topic(p, t), m->partition, m->offset, why);
    p->dlq++;
    produce(p, p->cfg->topic[RP_TOPIC_DLQ], RD_KAFKA_PARTITION_UA, m->key,
            m->key_len, m->payload, m->len, h);
}

/* ---------------------------------------------------------------- apply */

static const rp_engine_sink *the_sink(proc *p) {
    static rp_engine_sink s;
    s.opaque = p;
    s.on_event = sink_event;
    s.on_report = sink_report;
    return &s;
}

/* Applies one buffered message of topic index ti to its task. */
static void apply_one(proc *p, task *t, int ti) {
    msgq *q = &t->q[ti];
    rd_kafka_message_t *m = msgq_pop(q);
    /* The engine's prefetch hints for the records that follow in this
     * buffer (most records come from one topic in a row), three, two and
     * one ahead: their keys are their account ids (SPEC 2; a record whose
     * key is not is only mis-hinted, and goes to the DLQ). */
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
        to_dlq(p, ti, m, err);
    } else {
        int64_t now =
            p->cfg->clock == RP_CLOCK_EVENT ? rec.event_time : p->wall_now;
        rc = rp_engine_apply(t->engine, &rec, now, the_sink(p));
        if (rc != 0) {
            rp_log_error("run: engine: %s", rp_strerror(rc));
            fail_fatal(p, "out of memory");
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
    t->lag[i] = rd_kafka_get_watermark_offsets(p->consumer, in_topic(p, i),
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
        rd_kafka_message_t *m = msgq_peek(&t->q[i]);
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

static void arm_review_timer(proc *p);
static void start_commit(proc *p);
static void on_idle_timer(uv_timer_t *h);

/* Applies up to BATCH records across the ready tasks. Returns true when
 * more could be applied right away. */
static bool process_some(proc *p) {
    /* Records are applied while a commit is in flight (their outputs wait
     * in p->pending), not while an abort is: a rewind follows it. */
    if ((p->committing && p->work_kind == WORK_ABORT) || p->stopping ||
        p->fatal)
        return false;
    if (atomic_load(&p->txn_failed)) {
        start_commit(p); /* which aborts */
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

static size_t drain_queues(proc *p);

/* Runs while there is work: records to apply, or queues that gave us
 * messages last time. librdkafka (2.0) does not write a wake-up byte for
 * every batch it appends to a queue, so a queue that was not empty is
 * looked at again on the next turn of the loop rather than only when the
 * pipe says so; once a look finds nothing, the loop sleeps again. */
static void on_work_idle(uv_idle_t *h) {
    proc *p = h->data;
    size_t got = p->loop_stopped ? 0 : drain_queues(p);
    bool more = process_some(p);
    if (!more && got == 0)
        uv_idle_stop(&p->work_idle);
}

static void kick(proc *p) {
    if (!p->stopping && !p->loop_stopped)
        uv_idle_start(&p->work_idle, on_work_idle);
}

static void on_idle_timer(uv_timer_t *h) {
    kick(h->data);
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
            rp_engine_advance(t->engine, now, the_sink(p));
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

/* ---------------------------------------------------------------- commit */

static int sink_state(void *opaque, rp_str id, const void *state, size_t len) {
    void **args = opaque;
    proc *p = args[0];
    task *t = args[1];
    return produce(p, p->cfg->topic[RP_TOPIC_CHANGELOG], t->partition, id.ptr,
                   id.len, state, len, NULL);
}

/* Writes the task's clock (its stream time under clock=event), so that a
 * restored task applies late records at the same clock as before. */
static void put_clock(proc *p, task *t) {
    int64_t clock = rp_engine_clock(t->engine);
    if (clock == INT64_MIN || clock == t->clock_written)
        return;
    unsigned char v[8];
    put_le64(v, (uint64_t)clock);
    if (produce(p, p->cfg->topic[RP_TOPIC_CHANGELOG], t->partition, CLOCK_KEY,
                CLOCK_KEY_LEN, v, sizeof(v), NULL) == 0)
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
            fail_fatal(p, "out of memory");
            return;
        }
        int64_t newest = INT64_MIN;
        for (size_t i = 0; i < k; i++) {
            put_le64(val + 16 * i, keys[off + i].fp);
            put_le64(val + 16 * i + 8, (uint64_t)keys[off + i].at);
            if (keys[off + i].at > newest)
                newest = keys[off + i].at;
        }
        uint64_t seq = t->next_chunk;
        int kl = snprintf(key, sizeof(key), DD_PREFIX "%" PRIu64, seq);
        produce(p, p->cfg->topic[RP_TOPIC_CHANGELOG], t->partition, key,
                (size_t)kl, val, k * 16, NULL);
        free(val);
        chunk_note(t, seq, newest);
    }
    int64_t clock = rp_engine_clock(t->engine);
    size_t keep = 0;
    for (size_t i = 0; i < t->n_chunks; i++) {
        if (clock != INT64_MIN &&
            t->chunks[i].newest < clock - p->cfg->dedupe_horizon) {
            int kl = snprintf(key, sizeof(key), DD_PREFIX "%" PRIu64,
                              t->chunks[i].seq);
            produce(p, p->cfg->topic[RP_TOPIC_CHANGELOG], t->partition, key,
                    (size_t)kl, NULL, 0, NULL);
        } else {
            t->chunks[keep++] = t->chunks[i];
        }
    }
    t->n_chunks = keep;
}

/* Produces every task's dirty account states to the changelog and
 * returns the offsets to commit (NULL when there are none). */
static rd_kafka_topic_partition_list_t *prepare_commit(proc *p) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (!t || !t->ready)
            continue;
        void *args[2] = {p, t};
        if (rp_engine_flush_dirty(t->engine, sink_state, args) != 0)
            break; /* the transaction has failed; see start_commit */
        flush_dedupe(p, t);
        put_clock(p, t);
        for (int k = 0; k < NTOP; k++)
            if (t->next[k] >= 0 && t->next[k] != t->committed[k])
                rd_kafka_topic_partition_list_add(l, in_topic(p, k), i)
                    ->offset = t->next[k];
    }
    return l;
}

static void mark_committed(proc *p, rd_kafka_topic_partition_list_t *l) {
    for (int j = 0; j < l->cnt; j++) {
        int k = topic_index(p, l->elems[j].topic);
        task *t = (l->elems[j].partition < p->n_parts)
                      ? p->tasks[l->elems[j].partition]
                      : NULL;
        if (k >= 0 && t)
            t->committed[k] = l->elems[j].offset;
    }
}

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

static rd_kafka_error_t *commit_blocking(proc *p,
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
        p->work_error = commit_blocking(p, p->work_offsets);
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

static void rewind_all(proc *p);
static void continue_shutdown(proc *p);
static void start_abort(proc *p);

/* Handles the outcome of a commit or abort, on the loop thread. The
 * outcome may already have been consumed by a revocation that waited for
 * it (wait_for_work); then work_offsets is NULL. */
static void finish_work(proc *p) {
    p->committing = false;
    p->hold = false;
    if (p->work_consumed) {
        /* A revocation waited for this work and took its outcome. */
        p->work_consumed = false;
        if (p->stopping)
            continue_shutdown(p);
        else
            kick(p);
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
            mark_committed(p, l);
        p->commits++;
        rp_log_error("run: cannot begin the next transaction: %s",
                     rd_kafka_error_string(e));
        fail_fatal(p, "cannot begin a transaction");
    } else if (e == NULL) {
        if (p->work_kind == WORK_COMMIT) {
            if (l)
                mark_committed(p, l);
            p->commits++;
            rp_api_commit_done(p, uv_now(p->loop) - p->commit_started);
            pending_flush(p);
        } else {
            p->aborts++;
            atomic_store(&p->txn_failed, false);
            rewind_all(p);
        }
    } else if (rd_kafka_error_is_fatal(e) ||
               rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__FENCED ||
               rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
               rd_kafka_error_code(e) ==
                   RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
        rp_log_error("run: fatal transaction error: %s (another instance "
                     "with the same transactional.id may have taken over)",
                     rd_kafka_error_string(e));
        fail_fatal(p, "fatal transaction error");
    } else if (p->eos && (rd_kafka_error_txn_requires_abort(e) ||
                          p->work_kind == WORK_COMMIT)) {
        rp_log_warn("run: transaction failed, aborting and rewinding: %s",
                    rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        e = NULL;
        if (l)
            rd_kafka_topic_partition_list_destroy(l);
        pending_clear(p);
        start_abort(p);
        return;
    } else if (p->work_kind == WORK_ABORT) {
        /* An abort that fails (after retries) leaves the producer in a
         * state nothing can repair from here. */
        rp_log_error("run: abort failed: %s", rd_kafka_error_string(e));
        fail_fatal(p, "cannot abort the transaction");
    } else {
        rp_log_error("run: commit failed: %s", rd_kafka_error_string(e));
        if (!p->eos) {
            /* at_least_once: reprocess from the last commit. */
            atomic_store(&p->txn_failed, false);
            rewind_all(p);
        }
    }
    if (e)
        rd_kafka_error_destroy(e);
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    /* Empty after a successful commit; otherwise what was held belongs to
     * work that is redone or abandoned. */
    pending_clear(p);
    if (p->stopping)
        continue_shutdown(p);
    else
        kick(p);
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

static void start_commit(proc *p) {
    if (p->committing || p->fatal)
        return;
    if (!atomic_load(&p->txn_failed)) {
        p->work_offsets = prepare_commit(p);
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

/* One line of progress per interval (10 s; 1 s at log.level=debug), while
 * there is progress. */
static void on_stats_timer(uv_timer_t *h) {
    proc *p = h->data;
    uint64_t n = p->applied - p->last_applied;
    double secs = uv_timer_get_repeat(h) / 1000.0;
    if (n > 0)
        rp_log_info("run: %" PRIu64 " records applied (%.0f/s over %.0f s), "
                    "%" PRIu64 " to the DLQ, %" PRIu64 " commits",
                    p->applied, n / secs, secs, p->dlq, p->commits);
    p->last_applied = p->applied;
}

/* Gives the memory freed by a burst of work back to the system once the
 * process goes quiet: the input and output buffers of a burst (librdkafka
 * allocates them on its own threads, in malloc arenas of their own) would
 * otherwise stay resident, and a process that has caught up would look
 * several times its working size. Once per quiet period: the call walks
 * every arena. */
static void trim_when_quiet(proc *p) {
    bool quiet =
        p->applied == p->trim_applied && !p->committing && !p->uncommitted;
    if (!quiet) {
        p->trim_applied = p->applied;
        p->trimmed = false;
        return;
    }
    if (!p->trimmed) {
        malloc_trim(0);
        p->trimmed = true;
    }
}

/* See "bursts" below. */
#define BURST_SETTLE_MS 250
static void burst_query(proc *p, task *t);

static void on_commit_timer(uv_timer_t *h) {
    proc *p = h->data;
    /* A safety net for a wake-up librdkafka did not send. */
    if (!p->loop_stopped && drain_queues(p) > 0)
        kick(p);
    if (p->uncommitted && !p->committing && !p->stopping)
        start_commit(p);
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
    trim_when_quiet(p);
}

/* Blocks until the in-flight work (if any) has finished on its thread. */
static void wait_for_work(proc *p) {
    pthread_mutex_lock(&p->work_mu);
    while (p->committing && !p->work_done)
        pthread_cond_wait(&p->work_cv, &p->work_mu);
    pthread_mutex_unlock(&p->work_mu);
}

/* Rebuilds every task from the committed changelog and rewinds its input
 * partitions to the committed offsets (after an abort). */
static void rewind_all(proc *p) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (!t)
            continue;
        for (int k = 0; k < NTOP; k++) {
            int64_t to = t->committed[k] >= 0 ? t->committed[k] : t->first[k];
            if (to >= 0)
                rd_kafka_topic_partition_list_add(l, in_topic(p, k), i)
                    ->offset = to;
        }
        task *fresh = task_new(p, i);
        if (!fresh) {
            fail_fatal(p, "out of memory");
            break;
        }
        for (int k = 0; k < NTOP; k++) {
            fresh->committed[k] = t->committed[k];
            fresh->first[k] =
                t->committed[k] >= 0 ? t->committed[k] : t->first[k];
        }
        task_free(t);
        p->tasks[i] = fresh;
        if (task_open_queues(p, fresh) != 0)
            fail_fatal(p, "cannot rewind");
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
        task *t = task_new(p, i);
        if (!t) {
            fail_fatal(p, "out of memory");
            return;
        }
        p->tasks[i] = t;
        p->n_tasks++;
        if (task_open_queues(p, t) != 0) {
            fail_fatal(p, "cannot read an assigned partition");
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
        wait_for_work(p);
        /* finish_work will run later from libuv; consume its outcome now
         * so that it finds nothing to do. */
        rd_kafka_error_t *e = p->work_error;
        p->work_error = NULL;
        p->work_consumed = true;
        bool committed =
            p->work_kind == WORK_COMMIT && (e == NULL || p->work_committed);
        if (committed && p->work_offsets)
            mark_committed(p, p->work_offsets);
        if (p->work_kind == WORK_ABORT && e == NULL)
            atomic_store(&p->txn_failed, false);
        if (e && (p->work_committed || rd_kafka_error_is_fatal(e))) {
            rp_log_error("run: transaction error at revocation: %s",
                         rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            fail_fatal(p, "fatal transaction error");
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
            pending_flush(p);
        else
            pending_clear(p);
    }
    if (ok && p->uncommitted && !p->fatal) {
        rd_kafka_topic_partition_list_t *l = prepare_commit(p);
        rd_kafka_error_t *e = commit_blocking(p, l);
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
    tasks_drop_all(p);
    restorer_reassign(p);
    rd_kafka_assign(p->consumer, NULL);
    rp_log_info("run: partitions revoked");
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
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

/* ---------------------------------------------------------------- queues */

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
                r->p->consumer, in_topic(r->p, k), r->partition, &lo, &r->hi[k],
                2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
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
                rd_kafka_topic_partition_list_add(l, in_topic(p, k),
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
        kick(p);
    }
    free(r);
}

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
                fail_fatal(p, "fatal consumer error");
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
    if (msgq_push(&t->q[k], m) != 0) {
        rd_kafka_message_destroy(m);
        fail_fatal(p, "out of memory");
    }
}

/* Takes what the input partitions' queues hold, up to INPUT_MAX buffered
 * per partition: back-pressure without pausing partitions (a resumed
 * partition's next fetch would wait behind the broker's long poll of the
 * others, up to fetch.wait.max.ms, and the task with it). Then the
 * consumer's own queue: rebalances, errors, and messages of partitions
 * not yet taken off it. */
static size_t consume_input(proc *p) {
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
        int k = m->rkt ? topic_index(p, rd_kafka_topic_name(m->rkt)) : -1;
        task *t = (m->partition >= 0 && m->partition < p->n_parts)
                      ? p->tasks[m->partition]
                      : NULL;
        take_message(p, t, k, m);
    }
    return got;
}

static size_t consume_changelog(proc *p) {
    rd_kafka_message_t *m;
    bool changed = false;
    size_t got = 0;
    while ((m = rd_kafka_consumer_poll(p->restorer, 0)) != NULL) {
        got++;
        task *t = (m->partition >= 0 && m->partition < p->n_parts)
                      ? p->tasks[m->partition]
                      : NULL;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (t && !t->ready) {
                task_restored(p, t);
                changed = true;
            }
        } else if (m->err) {
            rp_log_warn("run: changelog: %s", rd_kafka_message_errstr(m));
        } else if (t && !t->ready && m->key && m->key_len == CLOCK_KEY_LEN &&
                   memcmp(m->key, CLOCK_KEY, CLOCK_KEY_LEN) == 0) {
            if (m->payload && m->len == 8) {
                t->clock_written = (int64_t)get_le64(m->payload);
                rp_engine_restore_clock(t->engine, t->clock_written);
            }
            t->restored++;
        } else if (t && !t->ready && m->key && m->key_len >= DD_PREFIX_LEN &&
                   memcmp(m->key, DD_PREFIX, DD_PREFIX_LEN) == 0) {
            chunk_restore(t, m);
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
    if (changed) {
        bool any = false;
        for (int32_t i = 0; i < p->n_parts; i++)
            if (p->tasks[i] && !p->tasks[i]->ready)
                any = true;
        if (!any)
            rd_kafka_assign(p->restorer, NULL);
    }
    return got;
}

static size_t drain_queues(proc *p) {
    rd_kafka_poll(p->producer, 0);
    return consume_changelog(p) + consume_input(p);
}

static void on_pipe(uv_poll_t *h, int status, int events) {
    (void)status;
    (void)events;
    proc *p = h->data;
    char buf[256];
    while (read(p->pipefd[0], buf, sizeof(buf)) > 0)
        ;
    if (p->loop_stopped)
        return;
    drain_queues(p);
    if (p->closing && rd_kafka_consumer_closed(p->consumer)) {
        continue_shutdown(p);
        return;
    }
    kick(p);
}

/* ---------------------------------------------------------------- shutdown */

static void close_cb(uv_handle_t *h) {
    (void)h;
}

/* Closing the consumer finishes on librdkafka's threads; look again until
 * it has. */
static void on_close_check(uv_timer_t *h) {
    proc *p = h->data;
    consume_input(p);
    if (rd_kafka_consumer_closed(p->consumer))
        continue_shutdown(p);
}

static void stop_loop(proc *p) {
    if (p->loop_stopped)
        return;
    p->loop_stopped = true;
    uv_close((uv_handle_t *)&p->poll, close_cb);
    uv_close((uv_handle_t *)&p->commit_timer, close_cb);
    uv_close((uv_handle_t *)&p->review_timer, close_cb);
    uv_close((uv_handle_t *)&p->idle_timer, close_cb);
    uv_close((uv_handle_t *)&p->stats_timer, close_cb);
    uv_close((uv_handle_t *)&p->work_idle, close_cb);
    uv_close((uv_handle_t *)&p->sigint, close_cb);
    uv_close((uv_handle_t *)&p->sigterm, close_cb);
    uv_close((uv_handle_t *)&p->wake, close_cb);
    rp_api_stop(p);
}

/* Shutdown in steps, each taken when the previous has finished: wait for
 * the commit in flight, commit what is left, close the consumer (which
 * revokes and leaves the group), then stop the loop. */
static void continue_shutdown(proc *p) {
    if (p->committing)
        return; /* finish_work calls us again */
    if (p->fatal) {
        stop_loop(p);
        return;
    }
    if (p->uncommitted) {
        start_commit(p);
        return;
    }
    if (!p->closing) {
        p->closing = true;
        rd_kafka_error_t *e = rd_kafka_consumer_close_queue(p->consumer, p->cq);
        if (e) {
            rp_log_error("run: close: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            stop_loop(p);
            return;
        }
        uv_timer_start(&p->idle_timer, on_close_check, 20, 20);
        return;
    }
    if (rd_kafka_consumer_closed(p->consumer))
        stop_loop(p);
}

static void fail_fatal(proc *p, const char *what) {
    if (p->fatal)
        return;
    p->fatal = true;
    p->exit_code = 1;
    rp_log_error("run: stopping: %s", what);
    p->stopping = true;
    if (!p->committing)
        continue_shutdown(p);
}

/* After the first signal, a second one exits at once even while the loop
 * is busy in a blocking call (a revocation's commit): a plain handler,
 * async-signal-safe. */
static void exit_now(int signum) {
    (void)signum;
    static const char msg[] = "repute run: second signal, exiting at once\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    _exit(130);
}

static void on_wake(uv_async_t *h) {
    proc *p = h->data;
    if (atomic_load(&p->fatal_async))
        fail_fatal(p, "fatal Kafka error");
}

static void on_signal(uv_signal_t *h, int signum) {
    proc *p = h->data;
    if (++p->signals > 1)
        exit_now(signum);
    uv_signal_stop(&p->sigint);
    uv_signal_stop(&p->sigterm);
    signal(SIGINT, exit_now);
    signal(SIGTERM, exit_now);
    rp_log_info("run: %s received, shutting down",
                signum == SIGINT ? "SIGINT" : "SIGTERM");
    p->stopping = true;
    uv_idle_stop(&p->work_idle);
    continue_shutdown(p);
}

/* ---------------------------------------------------------------- start-up */

static void producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                           void *opaque) {
    (void)rk;
    proc *p = opaque;
    if (p->fatal && (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                     m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT))
        return; /* the abort at exit after a fatal error, logged already */
    if (m->err) {
        rp_log_error("run: delivery to %s failed: %s",
                     rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        /* What this transaction (or, at least once, this commit interval)
         * holds is incomplete: it must not be committed. */
        atomic_store(&p->txn_failed, true);
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque) {
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512], tid[256] = "";
        size_t tid_size = sizeof(tid);
        rd_kafka_resp_err_t code = rd_kafka_fatal_error(rk, why, sizeof(why));
        if (code == RD_KAFKA_RESP_ERR__FENCED ||
            code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
            code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
            /* Fencing is an operator's mistake (or a deliberate takeover),
             * not a broker fault: say so, and what happens next. */
            rd_kafka_conf_get(rd_kafka_conf(rk), "transactional.id", tid,
                              &tid_size);
            rp_log_error("run: fenced: another instance with the same "
                         "transactional.id (%s) has started, and only the "
                         "newest may write; this one stops (exit status 1) "
                         "and what it had not committed is redone by the "
                         "new one (%s)",
                         tid, why);
        } else {
            rp_log_error("run: fatal error from %s: %s", rd_kafka_name(rk),
                         why);
        }
        /* This may run on any thread: the loop acts on it. */
        proc *p = opaque;
        atomic_store(&p->fatal_async, true);
        if (atomic_load(&p->wake_ready))
            uv_async_send(&p->wake);
        return;
    }
    rp_log_warn("run: %s: %s", rd_kafka_name(rk), reason);
}

/* How many of the partitions in `l` the group has committed offsets for,
 * or -1 (logged at debug) when the broker does not say. It asks with a
 * consumer of the group that never joins it (rd_kafka_committed): the
 * admin API's ListConsumerGroupOffsets crashes librdkafka 2.0.2 when the
 * group coordinator is not available yet (a new cluster without
 * __consumer_offsets). */
static int group_committed(proc *p, rd_kafka_topic_partition_list_t *l) {
    char err[512];
    rd_kafka_conf_t *conf =
        rp_kafka_conf_new(p->cfg, RP_KAFKA_CONSUMER, err, sizeof(err));
    rd_kafka_t *rk =
        conf ? rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)) : NULL;
    if (!rk) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        rp_log_debug("run: cannot read the committed offsets: %s", err);
        return -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, 15000);
    int n = -1;
    if (e) {
        rp_log_debug("run: cannot read the committed offsets of group %s: %s",
                     p->cfg->group_id, rd_kafka_err2str(e));
    } else {
        n = 0;
        for (int i = 0; i < l->cnt; i++)
            if (!l->elems[i].err && l->elems[i].offset >= 0)
                n++;
    }
    rd_kafka_destroy(rk);
    return n;
}

/*
 * Refuses to start over a lost changelog: when the changelog topic does
 * not exist while the group has committed offsets on its inputs, the
 * state those offsets stand on is gone, and starting (and creating an
 * empty changelog) would apply the rest of the stream to accounts that
 * start from nothing: wrong statuses, sequences back at 1. Returns true
 * (logged) when repute must not start.
 *
 * A changelog that exists but is empty (every partition's high watermark
 * 0) is only warned about: a group whose every record so far went to the
 * DLQ, or changed no account, has committed offsets and, rightly, no
 * state, and the broker cannot tell that apart from a topic deleted and
 * re-created empty. A deleted topic is the common accident, and the one
 * refused.
 */
static bool changelog_lost(proc *p, rd_kafka_t *rk) {
    const rp_config *c = p->cfg;
    const char *cl = c->topic[RP_TOPIC_CHANGELOG];
    const struct rd_kafka_metadata *md = NULL;
    /* Every topic (not just ours): a request naming a missing topic could
     * make a broker with auto.create.topics.enable create it. */
    if (rd_kafka_metadata(rk, 1, NULL, &md, 10000) != 0)
        return false; /* check_topics says why */
    int32_t cl_parts = -1;
    rd_kafka_topic_partition_list_t *in = rd_kafka_topic_partition_list_new(16);
    for (int j = 0; j < md->topic_cnt; j++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[j];
        if (t->err)
            continue;
        if (strcmp(t->topic, cl) == 0)
            cl_parts = t->partition_cnt;
        if (topic_index(p, t->topic) >= 0)
            for (int i = 0; i < t->partition_cnt; i++)
                rd_kafka_topic_partition_list_add(in, t->topic,
                                                  t->partitions[i].id);
    }
    rd_kafka_metadata_destroy(md);
    /* The committed offsets take a client of their own: read them only
     * when the changelog is missing or empty, not on every start. */
    bool empty = true;
    for (int32_t i = 0; i < cl_parts && empty; i++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, cl, i, &lo, &hi, 5000) != 0 ||
            hi > 0)
            empty = false;
    }
    int committed = empty && in->cnt > 0 ? group_committed(p, in) : 0;
    rd_kafka_topic_partition_list_destroy(in);
    if (cl_parts < 0 && committed < 0) {
        rp_log_error("run: the changelog topic %s does not exist, and the "
                     "committed offsets of group %s cannot be read to tell "
                     "a first start from a lost changelog; not starting "
                     "(try again when the group coordinator answers)",
                     cl, c->group_id);
        return true;
    }
    if (committed <= 0)
        return false;
    if (cl_parts < 0) {
        rp_log_error(
            "run: the changelog topic %s does not exist, but group %s has "
            "committed offsets on %d input partitions: the accounts' state "
            "is lost, and starting from an empty state would publish wrong "
            "statuses. Not starting. Either restore %s with its records, or "
            "rebuild the state from the input topics: reset the group's "
            "offsets (kafka-consumer-groups.sh --group %s --reset-offsets "
            "--to-earliest --all-topics --execute, or delete the group), "
            "then start repute, which republishes every event",
            cl, c->group_id, committed, cl, c->group_id);
        return true;
    }
    rp_log_warn("run: the changelog topic %s is empty, but group %s has "
                "committed offsets on %d input partitions: starting from an "
                "empty state. That is right only if no record so far changed "
                "an account (all went to the DLQ, say); if the topic was "
                "deleted and re-created, stop repute and reset the group's "
                "offsets (docs/run.md)",
                cl, c->group_id, committed);
    return false;
}

/* Creates the topics (topics.create) and checks that the five inputs and
 * the changelog are co-partitioned. Returns the partition count, or -1
 * with the reason logged. The changelog is checked before anything is
 * created (changelog_lost). */
static int32_t check_topics(proc *p, rd_kafka_t *rk) {
    const rp_config *c = p->cfg;
    if (changelog_lost(p, rk))
        return -1;
    if (c->topics_create) {
        rd_kafka_NewTopic_t *nt[RP_TOPIC__COUNT];
        char err[256];
        for (int i = 0; i < RP_TOPIC__COUNT; i++) {
            nt[i] = rd_kafka_NewTopic_new(c->topic[i], c->topic_partitions, -1,
                                          err, sizeof(err));
            if (i == RP_TOPIC_CHANGELOG)
                rd_kafka_NewTopic_set_config(nt[i], "cleanup.policy",
                                             "compact");
        }
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, nt, RP_TOPIC__COUNT, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
        const rd_kafka_CreateTopics_result_t *res =
            ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
        size_t n = 0;
        const rd_kafka_topic_result_t **tr =
            res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        for (size_t i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                rp_log_info("run: created topic %s",
                            rd_kafka_topic_result_name(tr[i]));
            else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                rp_log_warn("run: cannot create topic %s: %s",
                            rd_kafka_topic_result_name(tr[i]),
                            rd_kafka_topic_result_error_string(tr[i]));
        }
        if (!ev)
            rp_log_warn("run: topic creation timed out");
        else
            rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        for (int i = 0; i < RP_TOPIC__COUNT; i++)
            rd_kafka_NewTopic_destroy(nt[i]);
    }
    const struct rd_kafka_metadata *md = NULL;
    int32_t counts[RP_TOPIC__COUNT];
    for (int attempt = 0;; attempt++) {
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
        if (e) {
            rp_log_error("run: cannot read the cluster's metadata: %s",
                         rd_kafka_err2str(e));
            return -1;
        }
        bool all = true;
        for (int i = 0; i < RP_TOPIC__COUNT; i++) {
            counts[i] = -1;
            for (int j = 0; j < md->topic_cnt; j++)
                if (strcmp(md->topics[j].topic, c->topic[i]) == 0 &&
                    md->topics[j].err == 0)
                    counts[i] = md->topics[j].partition_cnt;
            if (counts[i] < 0)
                all = false;
        }
        rd_kafka_metadata_destroy(md);
        if (all || attempt >= 20)
            break;
        usleep(250 * 1000); /* freshly created topics take a moment */
    }
    char list[1024];
    size_t off = 0;
    bool same = true, missing = false;
    int inputs[] = {RP_TOPIC_DELIVERIES, RP_TOPIC_BOUNCES, RP_TOPIC_COMPLAINTS,
                    RP_TOPIC_REPORTS,    RP_TOPIC_ACTIONS, RP_TOPIC_CHANGELOG};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        int k = inputs[i];
        if (counts[k] != counts[inputs[0]])
            same = false;
        if (counts[k] < 0)
            missing = true;
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s=%d",
                                i ? ", " : "", c->topic[k], (int)counts[k]);
        if (off >= sizeof(list))
            off = sizeof(list) - 1;
    }
    for (int k = RP_TOPIC_STATUS; k <= RP_TOPIC_DLQ; k++)
        if (counts[k] < 0)
            missing = true;
    if (missing) {
        rp_log_error("run: topics are missing (-1 partitions): %s, %s=%d, "
                     "%s=%d; create them or set topics.create=true",
                     list, c->topic[RP_TOPIC_STATUS],
                     (int)counts[RP_TOPIC_STATUS], c->topic[RP_TOPIC_DLQ],
                     (int)counts[RP_TOPIC_DLQ]);
        return -1;
    }
    if (!same) {
        rp_log_error("run: the input topics and the changelog must have the "
                     "same number of partitions (co-partitioned), but: %s",
                     list);
        return -1;
    }
    return counts[RP_TOPIC_DELIVERIES];
}

static int start_embedded(proc *p) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, rp_kafka_log_cb);
    /* This client only hosts the mock cluster and never connects. */
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    p->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!p->mock_rk) {
        rp_log_error("run: embedded broker: %s", err);
        return -1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(p->mock_rk, 1);
    p->mock = mc;
    if (!mc) {
        rp_log_error("run: cannot start the embedded broker");
        return -1;
    }
    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    for (int i = 0; i < RP_TOPIC__COUNT; i++)
        rd_kafka_mock_topic_create(mc, p->cfg->topic[i],
                                   p->cfg->topic_partitions, 1);
    if (rp_config_set(p->cfg, "kafka.bootstrap.servers", bs, err,
                      sizeof(err)) != 0) {
        rp_log_error("run: %s", err);
        return -1;
    }
    p->cfg->topics_create = false;
    printf("bootstrap.servers=%s\n", bs);
    fflush(stdout);
    rp_log_info("run: embedded broker (librdkafka mock cluster) at %s; it "
                "does not implement transaction isolation, so exactly-once "
                "holds only against a real broker",
                bs);
    return 0;
}

static rd_kafka_t *new_client(proc *p, rp_kafka_role role, rd_kafka_type_t type,
                              const char *tid) {
    char err[512];
    rd_kafka_conf_t *conf = rp_kafka_conf_new(p->cfg, role, err, sizeof(err));
    if (!conf) {
        rp_log_error("run: %s", err);
        return NULL;
    }
    if (tid && rp_kafka_conf_set(conf, "transactional.id", tid, err,
                                 sizeof(err)) != 0) {
        rp_log_error("run: %s", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    if (role == RP_KAFKA_CONSUMER)
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk) {
        rp_log_error("run: %s", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

int rp_processor_run(rp_config *cfg, const rp_run_options *opts) {
    proc P, *p = &P;
    memset(p, 0, sizeof(*p));
    p->cfg = cfg;
    p->pipefd[0] = p->pipefd[1] = -1;
    p->exit_code = 0;
    p->eos = cfg->guarantee == RP_GUARANTEE_EXACTLY_ONCE;
    pthread_mutex_init(&p->work_mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    int rc = 1;
    char err[512];
    if (!cfg->clock_set)
        cfg->clock = RP_CLOCK_WALL;

    if (opts->embedded && start_embedded(p) != 0)
        goto fail;
    if (!rp_kafka_has_bootstrap(cfg)) {
        rp_log_error("run: kafka.bootstrap.servers: not set (give it with "
                     "--set kafka.bootstrap.servers=HOST:PORT, or use "
                     "--embedded)");
        rc = 2;
        goto fail;
    }
    p->dec = rp_avro_codec_new(cfg->framing, cfg->schema_id, err, sizeof(err));
    p->enc = rp_avro_codec_new(cfg->framing, cfg->schema_id, err, sizeof(err));
    if (!p->dec || !p->enc) {
        rp_log_error("run: avro: %s", err);
        goto fail;
    }

    char tid[512];
    char host[128] = "host";
    gethostname(host, sizeof(host) - 1);
    snprintf(tid, sizeof(tid), "repute-%s-%s-%ld", cfg->group_id, host,
             (long)getpid());
    p->producer = new_client(
        p, p->eos ? RP_KAFKA_TXN_PRODUCER : RP_KAFKA_PRODUCER,
        RD_KAFKA_PRODUCER,
        p->eos && !rp_kafka_conf_has(cfg, "transactional.id") ? tid : NULL);
    if (!p->producer) {
        rc = 2;
        goto fail;
    }
    int32_t parts = check_topics(p, p->producer);
    if (parts < 0) {
        rc = 2;
        goto fail;
    }
    p->n_parts = parts;
    p->tasks = calloc((size_t)parts, sizeof(task *));
    if (!p->tasks)
        goto fail;
    if (p->eos) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(p->producer, 30000);
        if (!e)
            e = rd_kafka_begin_transaction(p->producer);
        if (e) {
            rp_log_error("run: cannot start transactions: %s",
                         rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            goto fail;
        }
        p->txn_open = true;
    }
    p->consumer = new_client(p, RP_KAFKA_CONSUMER, RD_KAFKA_CONSUMER, NULL);
    p->restorer = new_client(p, RP_KAFKA_RESTORE, RD_KAFKA_CONSUMER, NULL);
    if (!p->consumer || !p->restorer)
        goto fail;
    rd_kafka_poll_set_consumer(p->consumer);
    rd_kafka_poll_set_consumer(p->restorer);
    p->cq = rd_kafka_queue_get_consumer(p->consumer);
    p->rq = rd_kafka_queue_get_consumer(p->restorer);
    p->pq = rd_kafka_queue_get_main(p->producer);

    /* Wake-ups from librdkafka's queues. */
    if (pipe2(p->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        rp_log_error("run: pipe: %s", strerror(errno));
        goto fail;
    }
    rd_kafka_queue_io_event_enable(p->cq, p->pipefd[1], "c", 1);
    rd_kafka_queue_io_event_enable(p->rq, p->pipefd[1], "r", 1);
    rd_kafka_queue_io_event_enable(p->pq, p->pipefd[1], "p", 1);

    p->loop = uv_default_loop();
    uv_poll_init(p->loop, &p->poll, p->pipefd[0]);
    p->poll.data = p;
    uv_poll_start(&p->poll, UV_READABLE, on_pipe);
    uv_timer_init(p->loop, &p->commit_timer);
    uv_timer_init(p->loop, &p->review_timer);
    uv_timer_init(p->loop, &p->idle_timer);
    uv_timer_init(p->loop, &p->stats_timer);
    p->stats_timer.data = p;
    uint64_t every = rp_log_get_level() >= RP_LOG_DEBUG ? 1000 : 10000;
    uv_timer_start(&p->stats_timer, on_stats_timer, every, every);
    uv_idle_init(p->loop, &p->work_idle);
    p->commit_timer.data = p->review_timer.data = p->idle_timer.data = p;
    p->work_idle.data = p;
    uv_timer_start(&p->commit_timer, on_commit_timer,
                   (uint64_t)cfg->commit_interval,
                   (uint64_t)cfg->commit_interval);
    uv_async_init(p->loop, &p->wake, on_wake);
    p->wake.data = p;
    atomic_store(&p->wake_ready, true);
    if (atomic_load(&p->fatal_async))
        uv_async_send(&p->wake);
    uv_signal_init(p->loop, &p->sigint);
    uv_signal_init(p->loop, &p->sigterm);
    p->sigint.data = p->sigterm.data = p;
    uv_signal_start(&p->sigint, on_signal, SIGINT);
    uv_signal_start(&p->sigterm, on_signal, SIGTERM);
    {
        char herr[512];
        if (rp_api_start(p, herr, sizeof(herr)) != 0) {
            rp_log_error("run: %s", herr);
            rc = 2;
            stop_loop(p);
            uv_run(p->loop, UV_RUN_DEFAULT);
            goto fail;
        }
    }

    rd_kafka_topic_partition_list_t *sub =
        rd_kafka_topic_partition_list_new(NTOP);
    for (int t = 0; t < NTOP; t++)
        rd_kafka_topic_partition_list_add(sub, in_topic(p, t),
                                          RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr = rd_kafka_subscribe(p->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (serr) {
        rp_log_error("run: subscribe: %s", rd_kafka_err2str(serr));
        goto fail;
    }
    p->start_ms = uv_now(p->loop);
    rp_log_info("run: started: group %s, %d partitions, %s, clock=%s",
                cfg->group_id, (int)parts,
                p->eos ? "exactly_once" : "at_least_once",
                cfg->clock == RP_CLOCK_EVENT ? "event" : "wall");
    /* Messages may already be waiting. */
    uv_poll_t *ph = &p->poll;
    on_pipe(ph, 0, UV_READABLE);
    uv_run(p->loop, UV_RUN_DEFAULT);
    rc = p->exit_code;
    rp_log_info("run: stopped: %" PRIu64 " records applied, %" PRIu64
                " to the DLQ, %" PRIu64 " commits, %" PRIu64 " aborts",
                p->applied, p->dlq, p->commits, p->aborts);

fail:
    p->tearing_down = true;
    /* The consumer first: closing it may call the rebalance callback,
     * which must find everything else still there. */
    if (p->consumer) {
        if (!rd_kafka_consumer_closed(p->consumer))
            rd_kafka_consumer_close(p->consumer);
    }
    tasks_drop_all(p);
    free(p->tasks);
    pending_clear(p);
    free(p->pending);
    if (p->cq)
        rd_kafka_queue_destroy(p->cq);
    if (p->rq)
        rd_kafka_queue_destroy(p->rq);
    if (p->pq)
        rd_kafka_queue_destroy(p->pq);
    if (p->restorer) {
        rd_kafka_consumer_close(p->restorer);
        rd_kafka_destroy(p->restorer);
    }
    if (p->consumer)
        rd_kafka_destroy(p->consumer);
    if (p->producer) {
        if (p->eos && p->txn_open && (rc != 0 || p->fatal)) {
            rd_kafka_error_t *e = rd_kafka_abort_transaction(p->producer, 5000);
            if (e)
                rd_kafka_error_destroy(e);
        }
        rd_kafka_flush(p->producer, 10000);
        rd_kafka_destroy(p->producer);
    }
    if (p->mock)
        rd_kafka_mock_cluster_destroy(p->mock);
    if (p->mock_rk)
        rd_kafka_destroy(p->mock_rk);
    rp_api_free(p);
    rp_avro_codec_destroy(p->dec);
    rp_avro_codec_destroy(p->enc);
    if (p->pipefd[0] >= 0) {
        close(p->pipefd[0]);
        close(p->pipefd[1]);
    }
    if (p->loop)
        uv_loop_close(p->loop);
    pthread_mutex_destroy(&p->work_mu);
    pthread_cond_destroy(&p->work_cv);
    return rc;
}
