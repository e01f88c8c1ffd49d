/*
 * inq.c - the input FIFO's slow paths: growing its rings and freeing them
 * (the hot paths are inline in inq.h, which tells the design).
 */
#include <stdlib.h>
#include <string.h>

#include "repute/types.h"

#include "runtime/inq.h"

#define INQ_FIRST_BYTES   (64u << 10)
#define INQ_FIRST_RECORDS 64

int rp_inq_grow_records(inq *q) {
    size_t cap = q->cap ? q->cap * 2 : INQ_FIRST_RECORDS;
    inrec *v = malloc(cap * sizeof(*v));
    if (!v)
        return RP_ENOMEM;
    for (size_t i = 0; i < q->n; i++)
        v[i] = q->v[(q->head + i) % q->cap];
    free(q->v);
    q->v = v;
    q->cap = cap;
    q->head = 0;
    return 0;
}

/* The bytes a record takes in the ring (at least one: see inq.h). */
static size_t rec_size(const inrec *r) {
    size_t s = r->key_len + r->len;
    return s ? s : 1;
}

int rp_inq_grow_bytes(inq *q, size_t need) {
    size_t used = 0;
    for (size_t i = 0; i < q->n; i++)
        used += rec_size(&q->v[(q->head + i) % q->cap]);
    size_t cap = q->bcap ? q->bcap * 2 : INQ_FIRST_BYTES;
    while (cap < used + need)
        cap *= 2;
    char *b = malloc(cap);
    if (!b)
        return RP_ENOMEM;
    /* The records' bytes move, in order, to the start of the new ring. */
    size_t pos = 0;
    for (size_t i = 0; i < q->n; i++) {
        inrec *r = &q->v[(q->head + i) % q->cap];
        size_t s = rec_size(r);
        memcpy(b + pos, q->buf + r->at, s);
        r->key = r->key ? b + pos : NULL;
        r->payload = r->payload ? b + pos + r->key_len : NULL;
        r->at = pos;
        pos += s;
    }
    free(q->buf);
    q->buf = b;
    q->bcap = cap;
    q->bhead = 0;
    q->btail = pos;
    return 0;
}

void rp_inq_clear(inq *q) {
    free(q->v);
    free(q->buf);
    memset(q, 0, sizeof(*q));
}

size_t rp_inq_trim(inq *q) {
    size_t held = q->cap * sizeof(inrec) + q->bcap;
    if (q->n != 0 || held <= INQ_TRIM_BYTES)
        return 0;
    rp_inq_clear(q);
    return held;
}
