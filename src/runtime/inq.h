/*
 * runtime/inq.h - the FIFO of one input partition's records, copied out of
 * librdkafka's messages as they are taken.
 *
 * Why copies
 * ----------
 * librdkafka hands out a fetched message without copying it: its key and
 * value point into the buffer of the whole fetch response, which holds the
 * records of every partition fetched together, and that buffer lives as
 * long as any of its messages does. The event-time merge (merge.c) must
 * hold the records of a partition that is ahead in event time until the
 * partitions behind it catch up. When the input outruns repute, the slow
 * topic falls further behind, the others (complaints, reports, actions:
 * a few records a second) are read to their end, and every few of their
 * records held kept one fetch response of megabytes alive: the resident
 * memory grew with the lag, about 9 MiB/s at 130% load (issue 17,
 * BENCHMARKS.md "Soak"). So the merge holds copies, and destroys each
 * message as soon as it is copied; what it holds is then the records'
 * own bytes, bounded per partition by INQ_BYTES_MAX and INQ_RECORDS_MAX
 * (2 MiB, 16,384 records: the quiet topics held while ahead send a few
 * records a second, and more of a busy one buffered would only cost
 * memory).
 *
 * Design
 * ------
 * Two rings: one of fixed-size record headers (struct inrec) and one of
 * the records' bytes (key, then value), appended at the tail and released
 * from the head in the same order, so a copy costs one memcpy and no
 * allocation once the rings have grown to the partition's usual depth.
 * A record's bytes are contiguous: one that does not fit before the end of
 * the byte ring starts again at its beginning, and the bytes skipped are
 * released with the record before it. Each record takes at least one byte,
 * so that a non-empty ring never has its head and tail at the same place
 * unless it is full. The rings grow by doubling (the bytes moved to the
 * start of the new ring, the record pointers fixed). They do not shrink
 * as they empty, since a live partition's rings empty and refill with
 * every fetch; instead the loop, between rounds, frees the rings of an
 * empty FIFO that hold more than INQ_TRIM_BYTES (rp_inq_trim, called by
 * rp_merge_trim when the loop runs out of work and when the process goes
 * quiet, before it gives memory back to the system). Without it the rings
 * stayed at the most a partition had ever buffered, up to 6 MiB each, after a
 * backlog was read (about 20 MiB for the benchmark's 20 input partitions:
 * BENCHMARKS.md, Memory).
 *
 * inrec's fields have the names of the rd_kafka_message_t fields the
 * merge used (key, key_len, payload, len, offset, partition), so the code
 * that reads a record reads either alike. A popped or peeked record stays
 * valid until the next push into its queue.
 */
#ifndef REPUTE_RUNTIME_INQ_H
#define REPUTE_RUNTIME_INQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "repute/types.h"

/* The most one partition's FIFO holds: the merge takes no more from the
 * partition's librdkafka queue while either is reached (librdkafka's own
 * prefetch then fills, and it stops fetching the partition). */
#define INQ_RECORDS_MAX 16384
#define INQ_BYTES_MAX   (2u << 20)

typedef struct inrec {
    const char *key;     /* NULL when the message had none */
    const char *payload; /* NULL for a null value */
    size_t key_len, len;
    int64_t offset;
    int32_t partition;
    size_t at; /* where its bytes begin in the byte ring */
} inrec;

typedef struct inq {
    inrec *v; /* the records, a ring of cap */
    size_t head, n, cap;
    char *buf; /* their bytes, a ring of bcap */
    size_t bcap, bhead, btail;
    size_t bytes; /* keys and values held (the bound's measure) */
} inq;

/* Grows the record ring (doubling) or the byte ring (to hold `need` more
 * contiguous bytes at its tail); 0 or RP_ENOMEM (inq.c). */
int rp_inq_grow_records(inq *q);
int rp_inq_grow_bytes(inq *q, size_t need);

/* Frees both rings; *q is empty after. */
void rp_inq_clear(inq *q);

/* The most an empty FIFO keeps of its rings (records and bytes together)
 * after rp_inq_trim: a partition read live, a fetch at a time, stays
 * below it, so trimming costs such a partition nothing. */
#define INQ_TRIM_BYTES (256u << 10)

/* Frees the rings of an empty FIFO that hold more than INQ_TRIM_BYTES;
 * they grow again from the start when records come. Returns the bytes
 * freed. Not to be called while a popped or peeked record is in use. */
size_t rp_inq_trim(inq *q);

static inline bool rp_inq_full(const inq *q) {
    return q->n >= INQ_RECORDS_MAX || q->bytes >= INQ_BYTES_MAX;
}

/* Where `need` contiguous bytes fit in the byte ring as it is, or false. */
static inline bool rp_inq_room(const inq *q, size_t need, size_t *at) {
    if (q->n == 0) {
        *at = 0;
        return need <= q->bcap;
    }
    if (q->btail > q->bhead) { /* one run, [bhead, btail) */
        if (q->bcap - q->btail >= need) {
            *at = q->btail;
            return true;
        }
        *at = 0;
        return q->bhead > need; /* strictly: tail must stay before head */
    }
    *at = q->btail; /* wrapped: [bhead, bcap) and [0, btail) */
    return q->bhead - q->btail > need;
}

/* Appends a copy of message m (a record, not an event); the caller keeps
 * m and destroys it. 0 or RP_ENOMEM. */
static inline int rp_inq_push(inq *q, const rd_kafka_message_t *m) {
    if (q->n == q->cap && rp_inq_grow_records(q) != 0)
        return RP_ENOMEM;
    size_t klen = m->key ? m->key_len : 0;
    size_t vlen = m->payload ? m->len : 0;
    size_t need = klen + vlen ? klen + vlen : 1;
    size_t at;
    if (!rp_inq_room(q, need, &at)) {
        if (rp_inq_grow_bytes(q, need) != 0)
            return RP_ENOMEM;
        at = q->btail;
    }
    char *d = q->buf + at;
    inrec *r = &q->v[(q->head + q->n) % q->cap];
    r->key = m->key ? d : NULL;
    r->key_len = klen;
    if (klen)
        memcpy(d, m->key, klen);
    r->payload = m->payload ? d + klen : NULL;
    r->len = vlen;
    if (vlen)
        memcpy(d + klen, m->payload, vlen);
    r->offset = m->offset;
    r->partition = m->partition;
    r->at = at;
    q->btail = at + need;
    q->n++;
    q->bytes += klen + vlen;
    return 0;
}

static inline const inrec *rp_inq_peek(const inq *q) {
    return q->n ? &q->v[q->head] : NULL;
}

/* The record `ahead` places after the head (0: the head), or NULL. */
static inline const inrec *rp_inq_at(const inq *q, size_t ahead) {
    return ahead < q->n ? &q->v[(q->head + ahead) % q->cap] : NULL;
}

/* Takes the head off; it stays readable until the next push. */
static inline const inrec *rp_inq_pop(inq *q) {
    const inrec *r = &q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    q->bytes -= r->key_len + r->len;
    if (q->n == 0)
        q->bhead = q->btail = 0;
    else
        q->bhead = q->v[q->head].at;
    return r;
}

#endif
