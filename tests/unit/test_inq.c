/*
 * test_inq.c - the input FIFO of copied records (src/runtime/inq.h, inq.c):
 * every record comes out as it went in, in order, whatever the sizes, the
 * wraps of the byte ring and its growth; null keys and values stay null;
 * the bound counts the records' bytes.
 *
 * The check runs the FIFO beside a plain model (an array of the messages
 * pushed, popped from the front) over random interleavings of pushes and
 * pops with sizes from nothing to larger than the first ring, so that
 * records wrap at the end of the byte ring and the rings grow while full.
 * Under ASan (the sanitizer build) a byte read outside a ring fails it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/inq.h"

typedef struct model_rec {
    char *key, *val;
    size_t key_len, len;
    int64_t offset;
} model_rec;

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A size: mostly small records, some large, some empty. */
static size_t pick_size(void) {
    uint64_t u = next_rand() % 100;
    if (u < 10)
        return 0;
    if (u < 90)
        return 1 + next_rand() % 300;
    return 1 + next_rand() % 100000;
}

static char *fill(size_t n, int64_t seed) {
    char *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (char)(seed * 31 + (int64_t)i * 7);
    return b;
}

static void check_same(const inrec *r, const model_rec *m) {
    cr_assert_eq(r->offset, m->offset);
    cr_assert_eq(r->partition, 3);
    if (!m->key) {
        cr_assert_null(r->key);
    } else {
        cr_assert_not_null(r->key);
        cr_assert_eq(r->key_len, m->key_len);
        cr_assert(memcmp(r->key, m->key, m->key_len) == 0);
    }
    if (!m->val) {
        cr_assert_null(r->payload);
        cr_assert_eq(r->len, 0);
    } else {
        cr_assert_not_null(r->payload);
        cr_assert_eq(r->len, m->len);
        cr_assert(memcmp(r->payload, m->val, m->len) == 0, "offset %lld",
                  (long long)m->offset);
    }
}

Test(inq, random_pushes_and_pops_match_a_model) {
    enum { STEPS = 20000 };
    inq q = {0};
    model_rec *model = calloc(STEPS, sizeof(*model));
    size_t mhead = 0, mtail = 0, bytes = 0;
    int64_t off = 0;
    for (int step = 0; step < STEPS; step++) {
        /* Phases of filling and of draining, so that the byte ring both
         * wraps and grows. */
        bool push =
            (step / 500) % 2 == 0 ? next_rand() % 10 < 7 : next_rand() % 10 < 3;
        if (push || mhead == mtail) {
            model_rec *m = &model[mtail++];
            m->offset = off++;
            bool null_key = next_rand() % 8 == 0;
            bool null_val = next_rand() % 8 == 0;
            m->key_len = null_key ? 0 : next_rand() % 40;
            m->len = null_val ? 0 : pick_size();
            m->key = null_key ? NULL : fill(m->key_len, m->offset);
            m->val = null_val ? NULL : fill(m->len, m->offset + 1);
            rd_kafka_message_t km = {0};
            km.key = m->key;
            km.key_len = m->key_len;
            km.payload = m->val;
            km.len = m->len;
            km.offset = m->offset;
            km.partition = 3;
            cr_assert_eq(rp_inq_push(&q, &km), 0);
            bytes += m->key_len + m->len;
        } else {
            const inrec *peek = rp_inq_peek(&q);
            const inrec *r = rp_inq_pop(&q);
            cr_assert_eq(peek, r);
            check_same(r, &model[mhead]);
            bytes -= model[mhead].key_len + model[mhead].len;
            free(model[mhead].key);
            free(model[mhead].val);
            mhead++;
        }
        cr_assert_eq(q.n, mtail - mhead);
        cr_assert_eq(q.bytes, bytes);
        /* Every record held is still intact, not only the head. */
        if (step % 97 == 0)
            for (size_t i = 0; i < q.n; i++)
                check_same(rp_inq_at(&q, i), &model[mhead + i]);
    }
    while (mhead < mtail) {
        check_same(rp_inq_pop(&q), &model[mhead]);
        free(model[mhead].key);
        free(model[mhead].val);
        mhead++;
    }
    cr_assert_null(rp_inq_peek(&q));
    cr_assert_eq(q.bytes, 0);
    rp_inq_clear(&q);
    cr_assert_null(q.buf);
    free(model);
}

Test(inq, a_record_that_does_not_fit_before_the_end_wraps_to_the_start) {
    inq q = {0};
    char big[40000];
    memset(big, 'x', sizeof(big));
    rd_kafka_message_t km = {0};
    km.payload = big;
    km.len = sizeof(big); /* the first ring is 64 KiB */
    km.offset = 1;
    cr_assert_eq(rp_inq_push(&q, &km), 0);
    size_t cap = q.bcap;
    km.len = 20000;
    km.offset = 2;
    cr_assert_eq(rp_inq_push(&q, &km), 0);
    rp_inq_pop(&q); /* frees the first 40000 bytes */
    km.len = 30000; /* no room after the second: goes to the start */
    km.offset = 3;
    cr_assert_eq(rp_inq_push(&q, &km), 0);
    cr_assert_eq(q.bcap, cap, "it wrapped rather than grew");
    cr_assert_eq(rp_inq_at(&q, 1)->payload, q.buf);
    cr_assert_eq(rp_inq_pop(&q)->offset, 2);
    cr_assert_eq(rp_inq_pop(&q)->offset, 3);
    rp_inq_clear(&q);
}

Test(inq, full_counts_records_and_bytes) {
    inq q = {0};
    rd_kafka_message_t km = {0};
    static char v[1 << 20];
    km.payload = v;
    km.len = sizeof(v);
    for (unsigned i = 1; i < INQ_BYTES_MAX / sizeof(v); i++)
        cr_assert_eq(rp_inq_push(&q, &km), 0);
    cr_assert(!rp_inq_full(&q));
    cr_assert_eq(rp_inq_push(&q, &km), 0);
    cr_assert(rp_inq_full(&q), "INQ_BYTES_MAX held");
    rp_inq_pop(&q);
    cr_assert(!rp_inq_full(&q));
    rp_inq_clear(&q);
}

Test(inq, trim_frees_only_large_empty_rings) {
    inq q = {0};
    rd_kafka_message_t km = {0};
    static char v[100 << 10];
    km.payload = v;
    km.len = sizeof(v);
    /* Small: one record's 64 KiB ring is below INQ_TRIM_BYTES, kept. */
    km.len = 1000;
    cr_assert_eq(rp_inq_push(&q, &km), 0);
    rp_inq_pop(&q);
    cr_assert_eq(rp_inq_trim(&q), 0);
    cr_assert_not_null(q.buf, "a small empty ring is kept");
    /* Large and not empty: kept, and its records stay readable. */
    km.len = sizeof(v);
    for (int i = 0; i < 4; i++) {
        km.offset = i;
        cr_assert_eq(rp_inq_push(&q, &km), 0);
    }
    cr_assert_gt(q.bcap, INQ_TRIM_BYTES);
    cr_assert_eq(rp_inq_trim(&q), 0, "a FIFO holding records is not trimmed");
    for (int i = 0; i < 4; i++)
        cr_assert_eq(rp_inq_pop(&q)->offset, i);
    /* Large and empty: both rings freed, and it grows again from nothing. */
    size_t held = q.cap * sizeof(inrec) + q.bcap;
    cr_assert_eq(rp_inq_trim(&q), held);
    cr_assert_null(q.buf);
    cr_assert_null(q.v);
    cr_assert_eq(q.n + q.cap + q.bcap + q.bytes, 0);
    km.offset = 9;
    cr_assert_eq(rp_inq_push(&q, &km), 0);
    cr_assert_eq(rp_inq_peek(&q)->offset, 9);
    cr_assert_eq(rp_inq_peek(&q)->len, sizeof(v));
    rp_inq_clear(&q);
}
