/*
 * test_dlq.c - records that cannot be decoded or break the contract go,
 * unchanged, to the dead-letter topic with headers repute.topic,
 * repute.partition, repute.offset and repute.error, and processing goes
 * on (SPEC 7): three bad records sit in the middle of the input topics
 *   - garbage bytes on the deliveries topic,
 *   - a Delivery's Avro bytes on the bounces topic (another schema),
 *   - a valid Avro Delivery with an empty account_id (breaks the contract);
 * the status topic must still equal `repute replay` of the good records,
 * which are produced before and after the bad ones (the later ones while
 * run is running).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

TestSuite(dlq, .fini = it_fini, .timeout = 240);

static size_t put_long(unsigned char *p, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (unsigned char)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (unsigned char)z;
    return n;
}

/* A Delivery in plain Avro binary whose account_id is "". */
static size_t empty_account_delivery(unsigned char *buf, int64_t t) {
    size_t n = 0;
    n += put_long(buf + n, 5);
    memcpy(buf + n, "bad-1", 5);
    n += 5;
    n += put_long(buf + n, 0); /* account_id "" */
    n += put_long(buf + n, t); /* event_time */
    n += put_long(buf + n, 0); /* message_id "" */
    n += put_long(buf + n, 0); /* recipient "" */
    buf[n++] = 0;              /* sent_time: null */
    buf[n++] = 0;              /* verified_recipient */
    buf[n++] = 0;              /* simulator */
    buf[n++] = 1;              /* feedback_loop */
    return n;
}

static const it_msg *find_at(const it_msg *m, size_t n, int32_t part,
                             int64_t off) {
    for (size_t i = 0; i < n; i++)
        if (m[i].partition == part && m[i].offset == off)
            return &m[i];
    return NULL;
}

/* Checks one DLQ record against its source record. */
static void check_dead(const it_ctx *c, const it_msg *dead, int topic,
                       const it_msg *src) {
    const char *t = it_header_get(dead, "repute.topic");
    const char *p = it_header_get(dead, "repute.partition");
    const char *o = it_header_get(dead, "repute.offset");
    const char *e = it_header_get(dead, "repute.error");
    cr_assert(t && p && o && e,
              "a DLQ record lacks a header (repute.topic %s, repute.partition "
              "%s, repute.offset %s, repute.error %s)",
              t ? t : "missing", p ? p : "missing", o ? o : "missing",
              e ? e : "missing");
    cr_assert_str_eq(t, c->topic[topic]);
    cr_assert_eq(strtol(p, NULL, 10), src->partition,
                 "repute.partition %s, the record was in partition %d", p,
                 (int)src->partition);
    cr_assert_eq(strtoll(o, NULL, 10), src->offset,
                 "repute.offset %s, the record was at offset %" PRId64, o,
                 src->offset);
    cr_assert_gt(strlen(e), 0, "repute.error is empty");
    cr_assert_eq(dead->val_len, src->val_len, "the DLQ value is not the input");
    cr_assert(memcmp(dead->val, src->val, src->val_len) == 0,
              "the DLQ value is not the input, byte for byte");
    cr_assert_eq(dead->key_len, src->key_len);
    cr_assert(memcmp(dead->key, src->key, src->key_len) == 0);
    fprintf(stderr, "[dlq] %s [%s] @%s: %s\n", t, p, o, e);
}

Test(dlq, garbage_and_wrong_schema_go_to_the_dlq) {
    it_ctx c;
    it_data d;
    it_init(&c, "dlq");
    it_gen(&d, 4, 1);
    it_expected(&c, &d);
    size_t a = it_split(&d, 0.5);
    it_produce(&c, &d, 0, a);

    /* Garbage bytes on the deliveries topic. */
    static const char garbage[] = "\x00\xff\xfe\xfd this is not Avro \x01\x02";
    int32_t g_part;
    int64_t g_off;
    it_produce_raw(&c, c.topic[IT_DELIVERIES], "heal-0", 6, garbage,
                   sizeof(garbage) - 1, &g_part, &g_off);
    /* A Delivery produced to the bounces topic. */
    char path[IT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/wrong-schema.jsonl", c.dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "{\"type\":\"delivery\",\"event_id\":\"wrong-1\",\"account_id\":"
            "\"clean-0\",\"event_time\":%" PRId64 "}\n",
            d.v[a - 1].time);
    fclose(f);
    int64_t bounces_before = it_topic_end(&c, IT_BOUNCES);
    it_produce_file(&c, path, c.topic[IT_BOUNCES]);
    cr_assert_eq(it_topic_end(&c, IT_BOUNCES), bounces_before + 1);
    /* A valid Delivery with an empty account_id (and key). */
    unsigned char empty[64];
    size_t empty_len = empty_account_delivery(empty, d.v[a - 1].time);
    int32_t e_part;
    int64_t e_off;
    it_produce_raw(&c, c.topic[IT_DELIVERIES], "", 0, empty, empty_len, &e_part,
                   &e_off);

    /* The good records after them arrive while run is running. */
    it_proc *run = it_start_run(&c, NULL);
    it_produce_live(&c, &d, a, d.n, NULL, NULL);
    it_check_output(&c, 120);

    it_msg *dead;
    size_t n_dead = it_read_topic(&c, IT_DLQ, 0, 3, &dead);
    cr_assert_eq(n_dead, 3, "the DLQ holds %zu records, expected 3", n_dead);
    it_msg *src_d, *src_b;
    size_t n_d = it_read_topic(&c, IT_DELIVERIES, 0, 1, &src_d);
    size_t n_b = it_read_topic(&c, IT_BOUNCES, 0, 1, &src_b);
    int seen = 0;
    for (size_t i = 0; i < n_dead; i++) {
        const char *t = it_header_get(&dead[i], "repute.topic");
        const char *o = it_header_get(&dead[i], "repute.offset");
        const char *p = it_header_get(&dead[i], "repute.partition");
        cr_assert(t && o && p, "a DLQ record without repute.* headers");
        const it_msg *src;
        if (strcmp(t, c.topic[IT_BOUNCES]) == 0) {
            src = find_at(src_b, n_b, (int32_t)strtol(p, NULL, 10),
                          strtoll(o, NULL, 10));
            cr_assert_not_null(src, "no bounces record at [%s] @%s", p, o);
            check_dead(&c, &dead[i], IT_BOUNCES, src);
            seen |= 1;
        } else {
            cr_assert_str_eq(t, c.topic[IT_DELIVERIES]);
            src = find_at(src_d, n_d, (int32_t)strtol(p, NULL, 10),
                          strtoll(o, NULL, 10));
            cr_assert_not_null(src, "no deliveries record at [%s] @%s", p, o);
            check_dead(&c, &dead[i], IT_DELIVERIES, src);
            if (src->partition == g_part && src->offset == g_off)
                seen |= 2;
            if (src->partition == e_part && src->offset == e_off)
                seen |= 4;
        }
    }
    cr_assert_eq(seen, 7,
                 "the DLQ does not hold each bad record once (found: "
                 "wrong schema %s, garbage %s, empty account_id %s)",
                 seen & 1 ? "yes" : "no", seen & 2 ? "yes" : "no",
                 seen & 4 ? "yes" : "no");
    it_msgs_free(dead, n_dead);
    it_msgs_free(src_d, n_d);
    it_msgs_free(src_b, n_b);
    it_stop_run(run);
    it_data_free(&d);
    it_done(&c);
}
