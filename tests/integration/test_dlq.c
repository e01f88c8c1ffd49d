/*
 * test_dlq.c - records that cannot be decoded or break the contract go,
 * unchanged, to the dead-letter topic with headers repute.topic,
 * repute.partition, repute.offset and repute.error, and processing goes
 * on (docs/rules.md section 7): three bad records sit in the middle of the
 * input topics
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
#include <time.h>

#include "support.h"

TestSuite(dlq, .fini = it_fini, .timeout = 200);

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

/* ---------------------------------------------------------------- hostile */

/* A growable byte buffer for hand-made Avro records: the hostile ones
 * below are what no encoder would write (negative lengths, enum indexes
 * past the symbols, records over the size limit). */
typedef struct abuf {
    unsigned char *b;
    size_t n, cap;
} abuf;

static void ab_raw(abuf *a, const void *p, size_t n) {
    if (a->n + n > a->cap) {
        a->cap = (a->n + n) * 2;
        a->b = realloc(a->b, a->cap);
        cr_assert_not_null(a->b);
    }
    memcpy(a->b + a->n, p, n);
    a->n += n;
}

static void ab_long(abuf *a, int64_t v) {
    unsigned char tmp[10];
    ab_raw(a, tmp, put_long(tmp, v));
}

static void ab_str(abuf *a, const char *s) {
    ab_long(a, (int64_t)strlen(s));
    ab_raw(a, s, strlen(s));
}

/* The Confluent wire format's header: magic byte 0, 4-byte schema id. */
static void ab_confluent(abuf *a, uint32_t id) {
    unsigned char h[5] = {0, (unsigned char)(id >> 24),
                          (unsigned char)(id >> 16), (unsigned char)(id >> 8),
                          (unsigned char)id};
    ab_raw(a, h, sizeof(h));
}

/* The fields of a Delivery after recipient (sent_time null, three bools). */
static void ab_delivery_tail(abuf *a) {
    static const unsigned char tail[] = {0, 0, 0, 1};
    ab_raw(a, tail, sizeof(tail));
}

/* The header and the three fields every input record starts with. */
static void ab_head(abuf *a, uint32_t id, const char *event_id,
                    const char *account, int64_t t) {
    ab_confluent(a, id);
    ab_str(a, event_id);
    ab_str(a, account);
    ab_long(a, t);
}

/* A whole Confluent-framed Delivery whose recipient is `rlen` bytes of 'x'. */
static void ab_delivery(abuf *a, uint32_t id, const char *event_id,
                        const char *account, int64_t t, size_t rlen) {
    ab_head(a, id, event_id, account, t);
    ab_str(a, "m-1");
    ab_long(a, (int64_t)rlen);
    for (size_t i = 0; i < rlen; i++)
        ab_raw(a, "x", 1);
    ab_delivery_tail(a);
}

enum { ID_DELIVERY = 101, ID_BOUNCE, ID_COMPLAINT, ID_REPORT, ID_ACTION };

typedef struct hostile {
    const char *what;
    int topic;
    const char *key;
    abuf rec;
    const char *reason; /* a piece of the expected repute.error */
    int32_t partition;
    int64_t offset;
    int found;
} hostile;

/*
 * Hostile records in the Confluent framing (issue: hardening), produced
 * between two halves of a good stream: each must reach the DLQ once,
 * unchanged, with a reason that says what is wrong, and the status topic
 * must still be exactly `repute replay` of the good records.
 */
Test(dlq, hostile_records) {
    it_ctx c;
    it_data d;
    it_init(&c, "dlq-hostile");
    /* Confluent framing with schema ids, for produce, run and tail. */
    FILE *kf = fopen(c.kafka, "a");
    cr_assert_not_null(kf);
    fprintf(kf,
            "avro.framing = confluent\n"
            "avro.schema.id.delivery = %d\navro.schema.id.bounce = %d\n"
            "avro.schema.id.complaint = %d\navro.schema.id.report = %d\n"
            "avro.schema.id.action = %d\navro.schema.id.status = 106\n"
            "avro.schema.id.current = 107\n",
            ID_DELIVERY, ID_BOUNCE, ID_COMPLAINT, ID_REPORT, ID_ACTION);
    fclose(kf);
    it_gen(&d, 6, 1);
    it_expected(&c, &d);
    size_t a = it_split(&d, 0.5);
    it_produce(&c, &d, 0, a);
    int64_t t = d.v[a - 1].time;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t future = (int64_t)now.tv_sec * 1000 + 2 * 86400000LL;

#define H(w, tp, k, why) {.what = w, .topic = tp, .key = k, .reason = why}
    hostile h[] = {
        H("a record over 64 KiB", IT_DELIVERIES, "clean-0", "limit"),
        H("a 9000-byte detail", IT_REPORTS, "clean-0", "detail is 9000"),
        H("a negative string length", IT_DELIVERIES, "clean-0", "length"),
        H("a huge string length", IT_DELIVERIES, "clean-0", "but only"),
        H("an unknown schema id", IT_DELIVERIES, "clean-0", "schema id"),
        H("a wrong magic byte", IT_DELIVERIES, "clean-0", "magic"),
        H("a key that is not the account_id", IT_DELIVERIES, "heal-0",
          "key is not"),
        H("an event_time 2 days ahead", IT_DELIVERIES, "clean-0",
          "input.max.future"),
        H("an unknown enum symbol", IT_BOUNCES, "clean-0", "enum"),
        H("an empty account_id", IT_DELIVERIES, "", "account_id is empty"),
    };
#undef H
    size_t nh = sizeof(h) / sizeof(h[0]);
    ab_delivery(&h[0].rec, ID_DELIVERY, "h-big", "clean-0", t, 70000);
    /* A Report with a long detail, well-formed Avro. */
    abuf *r = &h[1].rec;
    ab_head(r, ID_REPORT, "h-detail", "clean-0", t);
    ab_long(r, 0); /* kind: the first report kind */
    ab_long(r, 1); /* incidents */
    ab_long(r, 0); /* domain: null */
    ab_long(r, 0); /* related_account_id: null */
    ab_long(r, 0); /* reporter: null */
    ab_long(r, 1); /* detail: a string of 9000 bytes */
    ab_long(r, 9000);
    for (int i = 0; i < 9000; i++)
        ab_raw(r, "d", 1);
    /* Lengths that cannot be. */
    ab_confluent(&h[2].rec, ID_DELIVERY);
    ab_long(&h[2].rec, -5);
    ab_raw(&h[2].rec, "abcdefgh", 8);
    ab_confluent(&h[3].rec, ID_DELIVERY);
    ab_long(&h[3].rec, INT64_C(1) << 40);
    ab_raw(&h[3].rec, "abcdefgh", 8);
    ab_delivery(&h[4].rec, 999, "h-id", "clean-0", t, 3);
    ab_delivery(&h[5].rec, ID_DELIVERY, "h-magic", "clean-0", t, 3);
    h[5].rec.b[0] = 7;
    ab_delivery(&h[6].rec, ID_DELIVERY, "h-key", "clean-0", t, 3);
    ab_delivery(&h[7].rec, ID_DELIVERY, "h-future", "clean-0", future, 3);
    /* A Bounce whose bounce_type is index 7 of 3 symbols. */
    abuf *b = &h[8].rec;
    ab_head(b, ID_BOUNCE, "h-enum", "clean-0", t);
    ab_str(b, "m-1");
    ab_str(b, "r@example.com");
    ab_long(b, 0); /* sent_time: null */
    ab_long(b, 7); /* bounce_type */
    ab_long(b, 0); /* bounce_subtype */
    ab_raw(b, "\0\0", 2);
    ab_long(b, 0); /* diagnostic: null */
    ab_delivery(&h[9].rec, ID_DELIVERY, "h-empty", "", t, 3);
    for (size_t i = 0; i < nh; i++)
        it_produce_raw(&c, c.topic[h[i].topic], h[i].key, strlen(h[i].key),
                       h[i].rec.b, h[i].rec.n, &h[i].partition, &h[i].offset);

    it_proc *run = it_start_run(&c, NULL);
    it_produce_live(&c, &d, a, d.n, NULL, NULL);
    it_check_output(&c, 120);

    it_msg *dead;
    size_t n_dead = it_read_topic(&c, IT_DLQ, nh, 3, &dead);
    for (size_t i = 0; i < n_dead; i++) {
        const char *tp = it_header_get(&dead[i], "repute.topic");
        const char *p = it_header_get(&dead[i], "repute.partition");
        const char *o = it_header_get(&dead[i], "repute.offset");
        const char *e = it_header_get(&dead[i], "repute.error");
        cr_assert(tp && p && o && e, "a DLQ record without repute.* headers");
        size_t k = 0;
        while (k < nh && !(strcmp(tp, c.topic[h[k].topic]) == 0 &&
                           h[k].partition == strtol(p, NULL, 10) &&
                           h[k].offset == strtoll(o, NULL, 10)))
            k++;
        cr_assert_lt(k, nh, "an unexpected DLQ record: %s [%s] @%s: %s", tp, p,
                     o, e);
        fprintf(stderr, "[dlq] %s: %s\n", h[k].what, e);
        h[k].found++;
        cr_assert(strstr(e, h[k].reason), "%s: the reason '%s' lacks '%s'",
                  h[k].what, e, h[k].reason);
        cr_assert(dead[i].val_len == h[k].rec.n &&
                      memcmp(dead[i].val, h[k].rec.b, h[k].rec.n) == 0,
                  "%s: the DLQ value is not the input", h[k].what);
    }
    for (size_t k = 0; k < nh; k++) {
        cr_assert_eq(h[k].found, 1, "%s is in the DLQ %d times, expected once",
                     h[k].what, h[k].found);
        free(h[k].rec.b);
    }
    cr_assert_eq(n_dead, nh);
    it_msgs_free(dead, n_dead);
    it_stop_run(run);
    it_data_free(&d);
    it_done(&c);
}
