/*
 * task.c - a task: one partition number's engine, buffers and offsets.
 *
 * All five input topics are co-partitioned; partition number p of every
 * topic, plus partition p of the changelog, forms task p. A task owns an
 * engine (so under clock=event each task follows its own stream time, as a
 * Kafka Streams task does), five FIFO buffers of the fetched records,
 * copied out of librdkafka's messages (inq.h says why), the offsets it has
 * applied and committed per topic, and the list of the dedupe chunks it has
 * written to the changelog. A new task first restores its engine from its
 * changelog partition (read_committed, from the beginning to the end seen at
 * that time; assign.c); its input partitions' queues are not read until then
 * (see assign.c on why they are not paused).
 *
 * Each input partition of a task is read from a librdkafka queue of its
 * own, taken off the consumer's queue (rp_task_open_queues): each
 * partition's prefetch then fills and drains on its own, and the merge
 * never waits behind other partitions' records.
 *
 * The dedupe keys a task's engine collects are written to the changelog in
 * chunks (commit.c) under keys of their own (DD_PREFIX and a sequence
 * number); this file reads them back at a restore.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "repute/engine.h"
#include "repute/log.h"

#include "runtime/proc.h"

/* ---------------------------------------------------------------- topics */

int rp_topic_index(const proc *p, const char *name) {
    for (int t = 0; t < NTOP; t++)
        if (strcmp(name, rp_in_topic(p, t)) == 0)
            return t;
    return -1;
}

/* Takes the task's input partitions off the consumer's queue (see
 * task.in). Returns 0 or -1 (not assigned). */
int rp_task_open_queues(proc *p, task *t) {
    for (int k = 0; k < NTOP; k++) {
        t->in[k] = rd_kafka_queue_get_partition(p->consumer, rp_in_topic(p, k),
                                                t->partition);
        if (!t->in[k]) {
            rp_log_error("run: no queue for %s [%" PRId32 "]",
                         rp_in_topic(p, k), t->partition);
            return -1;
        }
        rd_kafka_queue_forward(t->in[k], NULL);
        rd_kafka_queue_io_event_enable(t->in[k], p->pipefd[1], "i", 1);
    }
    return 0;
}

task *rp_task_new(proc *p, int32_t partition) {
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
        t->next[i] = t->committed[i] = t->first[i] = t->fetched[i] =
            t->eof_at[i] = t->known_end[i] = t->end_at[i] = t->head[i] = -1;
    t->restore_next = -1;
    t->stream_time = INT64_MIN;
    t->clock_written = INT64_MIN;
    return t;
}

void rp_task_free(task *t) {
    if (!t)
        return;
    for (int i = 0; i < NTOP; i++) {
        rp_inq_clear(&t->q[i]);
        if (t->in[i]) {
            rd_kafka_queue_io_event_enable(t->in[i], -1, NULL, 0);
            rd_kafka_queue_destroy(t->in[i]);
        }
    }
    rp_engine_destroy(t->engine);
    free(t->chunks);
    free(t);
}

int rp_task_chunk_note(task *t, uint64_t seq, int64_t newest) {
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

/* Restores a dedupe chunk read from the changelog. */
void rp_task_chunk_restore(task *t, const rd_kafka_message_t *m) {
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
            keys[k].fp = rp_get_le64(v + 16 * i);
            keys[k].at = (int64_t)rp_get_le64(v + 16 * i + 8);
            if (keys[k].at > newest)
                newest = keys[k].at;
        }
        rp_engine_dedupe_restore(t->engine, keys, k);
    }
    rp_task_chunk_note(t, seq, newest);
}
