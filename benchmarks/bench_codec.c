/*
 * bench_codec.c - repute-bench-codec: how fast records of an evolved
 * writer schema decode, beside the exact schema and avro-c.
 *
 * Issue 14 asks that a record written with another schema than repute's
 * (a producer that added fields, dropped one that has a default, and
 * ordered them otherwise) decode at least 0.7 times as fast as a record of
 * repute's own schema. This program measures exactly that, on one thread,
 * for deliveries (85% of a sending service's traffic): the same N records
 * are encoded up front twice, once with repute's Delivery schema and once
 * with an evolved one (simulator removed, region and attempts added, the
 * fields reordered), both in the Confluent framing with their own ids, and
 * the timed loops only walk memory and decode.
 *
 * Four phases, each run --rounds times in turn (so that the machine's
 * noise falls on all of them alike), and reported as the median rate:
 *   exact    rp_avro_decode() of repute's schema (the existing fast path);
 *   evolved  rp_avro_decode() of the evolved schema, through the decode
 *            plan compiled once for its id (src/codec/avro_plan*.c);
 *   generic  avro-c's generic decoding of the exact bytes (avro_value_read
 *            into a reused generic value), the yardstick of
 *            repute-bench-engine;
 *   resolved avro-c's own schema resolution of the evolved bytes
 *            (avro_resolved_writer over a reused generic value), what
 *            decoding an evolved record through avro-c would cost; avro-c
 *            knows no defaults, so it reads into repute's schema without
 *            the removed field.
 * The last line of standard output is one JSON object with the medians
 * and evolved_vs_exact, the ratio the issue sets at 0.7 or more.
 *
 * Records are drawn from our own PRNG (splitmix64) with --seed, so a run
 * is reproducible; lengths are shaped like real ones (ids of 20-40 bytes,
 * addresses of 20-30, a sent_time on half of the records).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <avro.h>

#include "bench_util.h"
#include "repute/avro.h"

#define die(...) bu_die("repute-bench-codec", __VA_ARGS__)

#define EXACT_ID   101
#define EVOLVED_ID 202

/* simulator removed (its default is false), region and attempts added,
 * the rest reordered. */
static const char evolved_json[] =
    "{\"type\":\"record\",\"name\":\"Delivery\",\"namespace\":\"repute.v1\","
    "\"fields\":["
    "{\"name\":\"message_id\",\"type\":\"string\"},"
    "{\"name\":\"event_id\",\"type\":\"string\"},"
    "{\"name\":\"account_id\",\"type\":\"string\"},"
    "{\"name\":\"region\",\"type\":\"string\"},"
    "{\"name\":\"event_time\",\"type\":\"long\"},"
    "{\"name\":\"recipient\",\"type\":\"string\"},"
    "{\"name\":\"sent_time\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"attempts\",\"type\":\"int\"},"
    "{\"name\":\"feedback_loop\",\"type\":\"boolean\",\"default\":true},"
    "{\"name\":\"verified_recipient\",\"type\":\"boolean\","
    "\"default\":false}]}";

/* repute's Delivery without simulator: avro-c's resolution knows no
 * defaults, so its phase reads into this narrowed reader (which flatters
 * avro-c a little: one field fewer to fill). */
static const char narrowed_json[] =
    "{\"type\":\"record\",\"name\":\"Delivery\",\"namespace\":\"repute.v1\","
    "\"fields\":["
    "{\"name\":\"event_id\",\"type\":\"string\"},"
    "{\"name\":\"account_id\",\"type\":\"string\"},"
    "{\"name\":\"event_time\",\"type\":\"long\"},"
    "{\"name\":\"message_id\",\"type\":\"string\"},"
    "{\"name\":\"recipient\",\"type\":\"string\"},"
    "{\"name\":\"sent_time\",\"type\":[\"null\",\"long\"]},"
    "{\"name\":\"verified_recipient\",\"type\":\"boolean\"},"
    "{\"name\":\"feedback_loop\",\"type\":\"boolean\"}]}";

static uint64_t rng_state;
static uint64_t rng(void) { /* splitmix64 */
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The records, encoded back to back; off[i] .. off[i + 1] is record i. */
typedef struct arena {
    char *bytes;
    size_t len, cap;
    size_t *off;
} arena;

static void arena_add(arena *a, const void *p, size_t n) {
    if (a->len + n > a->cap) {
        a->cap = (a->cap + n) * 2;
        a->bytes = realloc(a->bytes, a->cap);
        if (!a->bytes)
            die("out of memory");
    }
    memcpy(a->bytes + a->len, p, n);
    a->len += n;
}

typedef struct delivery_text {
    char event_id[48], account_id[32], message_id[64], recipient[48],
        region[16];
} delivery_text;

static void draw(rp_record *r, delivery_text *t, uint64_t i) {
    snprintf(t->event_id, sizeof(t->event_id), "evt-%016" PRIx64 "-%" PRIu64,
             rng(), i);
    snprintf(t->account_id, sizeof(t->account_id), "acct-%" PRIu64,
             rng() % 100000);
    snprintf(t->message_id, sizeof(t->message_id),
             "%016" PRIx64 "@email.example.com", rng());
    snprintf(t->recipient, sizeof(t->recipient), "user%" PRIu64 "@mail%d.test",
             rng() % 1000000, (int)(rng() % 50));
    snprintf(t->region, sizeof(t->region), "eu-west-%d", (int)(rng() % 4));
    rp_record_init(r, RP_REC_DELIVERY);
    r->event_id = rp_str_c(t->event_id);
    r->account_id = rp_str_c(t->account_id);
    r->event_time = 1700000000000 + (int64_t)(i * 37);
    rp_delivery *d = &r->u.delivery;
    d->message_id = rp_str_c(t->message_id);
    d->recipient = rp_str_c(t->recipient);
    d->has_sent_time = rng() % 2;
    d->sent_time = r->event_time - 60000;
    d->verified_recipient = rng() % 20 == 0;
    d->simulator = false; /* the evolved writer has no simulator */
    d->feedback_loop = rng() % 10 != 0;
}

static void set_string(avro_value_t *v, const char *field, const char *s) {
    avro_value_t f;
    if (avro_value_get_by_name(v, field, &f, NULL) != 0 ||
        avro_value_set_string(&f, s) != 0)
        die("cannot set %s: %s", field, avro_strerror());
}

/* The same delivery as a value of the evolved schema, framed. */
static void encode_evolved(avro_value_t *v, const rp_record *r,
                           const delivery_text *t, arena *a) {
    avro_value_t f, b;
    avro_value_reset(v);
    set_string(v, "message_id", t->message_id);
    set_string(v, "event_id", t->event_id);
    set_string(v, "account_id", t->account_id);
    set_string(v, "region", t->region);
    set_string(v, "recipient", t->recipient);
    avro_value_get_by_name(v, "event_time", &f, NULL);
    avro_value_set_long(&f, r->event_time);
    avro_value_get_by_name(v, "sent_time", &f, NULL);
    avro_value_set_branch(&f, r->u.delivery.has_sent_time, &b);
    if (r->u.delivery.has_sent_time)
        avro_value_set_long(&b, r->u.delivery.sent_time);
    avro_value_get_by_name(v, "attempts", &f, NULL);
    avro_value_set_int(&f, (int32_t)(rng() % 3));
    avro_value_get_by_name(v, "feedback_loop", &f, NULL);
    avro_value_set_boolean(&f, r->u.delivery.feedback_loop);
    avro_value_get_by_name(v, "verified_recipient", &f, NULL);
    avro_value_set_boolean(&f, r->u.delivery.verified_recipient);
    char buf[1024];
    buf[0] = 0;
    buf[1] = buf[2] = buf[3] = 0;
    buf[4] = (char)EVOLVED_ID;
    avro_writer_t w = avro_writer_memory(buf + 5, sizeof(buf) - 5);
    if (avro_value_write(w, v) != 0)
        die("cannot write the evolved record: %s", avro_strerror());
    arena_add(a, buf, 5 + (size_t)avro_writer_tell(w));
    avro_writer_free(w);
}

static avro_schema_t parse(const char *json) {
    avro_schema_t s;
    if (avro_schema_from_json_length(json, strlen(json), &s) != 0)
        die("cannot parse a schema: %s", avro_strerror());
    return s;
}

/* Encodes n deliveries both ways. */
static void build(uint64_t n, arena *exact, arena *evolved,
                  rp_avro_codec *enc) {
    avro_schema_t ws = parse(evolved_json);
    avro_value_iface_t *cls = avro_generic_class_from_schema(ws);
    avro_value_t v;
    if (!cls || avro_generic_value_new(cls, &v) != 0)
        die("cannot create a value: %s", avro_strerror());
    exact->off = bu_xmalloc("repute-bench-codec", (n + 1) * sizeof(size_t));
    evolved->off = bu_xmalloc("repute-bench-codec", (n + 1) * sizeof(size_t));
    for (uint64_t i = 0; i < n; i++) {
        rp_record r;
        delivery_text t;
        draw(&r, &t, i);
        const void *out;
        size_t out_len;
        char err[256];
        if (rp_avro_encode(enc, &r, &out, &out_len, err, sizeof(err)) != 0)
            die("cannot encode: %s", err);
        exact->off[i] = exact->len;
        arena_add(exact, out, out_len);
        evolved->off[i] = evolved->len;
        encode_evolved(&v, &r, &t, evolved);
    }
    exact->off[n] = exact->len;
    evolved->off[n] = evolved->len;
    avro_value_decref(&v);
    avro_value_iface_decref(cls);
    avro_schema_decref(ws);
}

/* repute's decoder over the arena; returns records per second. */
static double run_repute(rp_avro_codec *c, const arena *a, uint64_t n) {
    char err[256];
    uint64_t sum = 0;
    double start = now_seconds();
    for (uint64_t i = 0; i < n; i++) {
        rp_record r;
        int rc =
            rp_avro_decode(c, RP_REC_DELIVERY, a->bytes + a->off[i],
                           a->off[i + 1] - a->off[i], &r, err, sizeof(err));
        if (rc != 0)
            die("cannot decode record %" PRIu64 ": %s", i, err);
        sum += r.account_id.len + (uint64_t)r.u.delivery.feedback_loop;
    }
    double elapsed = now_seconds() - start;
    if (sum == 0)
        die("nothing decoded");
    return (double)n / elapsed;
}

/* avro-c over the arena (framing skipped): into v directly, or through a
 * resolved writer wrapping v. */
static double run_avro_c(const arena *a, uint64_t n, avro_value_t *v) {
    static const char empty[1];
    avro_reader_t rd = avro_reader_memory(empty, 0);
    double start = now_seconds();
    for (uint64_t i = 0; i < n; i++) {
        avro_reader_memory_set_source(rd, a->bytes + a->off[i] + 5,
                                      (int64_t)(a->off[i + 1] - a->off[i] - 5));
        if (avro_value_read(rd, v) != 0)
            die("avro-c cannot read record %" PRIu64 ": %s", i,
                avro_strerror());
    }
    double elapsed = now_seconds() - start;
    avro_reader_free(rd);
    return (double)n / elapsed;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(*v), by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define PHASES 4
static const char *const phase_names[PHASES] = {"exact", "evolved", "generic",
                                                "resolved"};

/* Prints each phase's rates and median, the ratios, and the JSON line. */
static void report(double *const *rate, uint64_t rounds, uint64_t n) {
    double med[PHASES];
    for (int p = 0; p < PHASES; p++) {
        printf("%-9s", phase_names[p]);
        for (uint64_t r = 0; r < rounds; r++)
            printf(" %10.0f", rate[p][r]);
        med[p] = median(rate[p], (int)rounds);
        printf("   median %10.0f records/s\n", med[p]);
    }
    printf("evolved / exact = %.3f (target >= 0.7); exact / avro-c generic "
           "= %.2f; evolved / avro-c resolved = %.2f\n",
           med[1] / med[0], med[0] / med[2], med[1] / med[3]);
    printf("{\"records\":%" PRIu64 ",\"rounds\":%" PRIu64
           ",\"exact_per_sec\":%.0f,\"evolved_per_sec\":%.0f,"
           "\"avro_generic_per_sec\":%.0f,\"avro_resolved_per_sec\":%.0f,"
           "\"evolved_vs_exact\":%.3f}\n",
           n, rounds, med[0], med[1], med[2], med[3], med[1] / med[0]);
}

int main(int argc, char **argv) {
    uint64_t n = 1000000, rounds = 5, seed = 1;
    for (int i = 1; i < argc; i++) {
        uint64_t *dst = !strcmp(argv[i], "--records")  ? &n
                        : !strcmp(argv[i], "--rounds") ? &rounds
                        : !strcmp(argv[i], "--seed")   ? &seed
                                                       : NULL;
        if (!dst || i + 1 >= argc ||
            bu_parse_u64(argv[++i], 1, UINT64_C(1) << 32, dst) != 0) {
            fprintf(stderr, "usage: repute-bench-codec [--records N] "
                            "[--rounds R] [--seed S]\n");
            return 2;
        }
    }
    rng_state = seed;
    char err[512];
    int32_t ids[RP_SCHEMA_ID__COUNT] = {EXACT_ID, 102, 103, 104, 105, 106};
    rp_avro_codec *enc =
        rp_avro_codec_new(RP_FRAMING_CONFLUENT, ids, err, sizeof(err));
    rp_avro_codec *dec =
        rp_avro_codec_new(RP_FRAMING_CONFLUENT, ids, err, sizeof(err));
    if (!enc || !dec)
        die("%s", err);
    rp_avro_codec_enable_writers(dec);
    if (rp_avro_codec_add_writer(dec, RP_REC_DELIVERY, EVOLVED_ID, evolved_json,
                                 err, sizeof(err)) != 0)
        die("the evolved schema: %s", err);
    arena exact = {0}, evolved = {0};
    fprintf(stderr, "repute-bench-codec: encoding %" PRIu64 " deliveries\n", n);
    build(n, &exact, &evolved, enc);

    avro_schema_t rs = parse(rp_avro_schema_json(RP_REC_DELIVERY));
    avro_schema_t ws = parse(evolved_json);
    avro_schema_t ns = parse(narrowed_json);
    avro_value_iface_t *cls = avro_generic_class_from_schema(rs);
    avro_value_iface_t *ncls = avro_generic_class_from_schema(ns);
    avro_value_iface_t *res = avro_resolved_writer_new(ws, ns);
    avro_value_t gv, rv, resolved;
    if (!cls || !ncls || !res || avro_generic_value_new(cls, &gv) != 0 ||
        avro_generic_value_new(ncls, &rv) != 0 ||
        avro_resolved_writer_new_value(res, &resolved) != 0)
        die("avro-c: %s", avro_strerror());
    avro_resolved_writer_set_dest(&resolved, &rv);

    double *rate[PHASES];
    for (int p = 0; p < PHASES; p++)
        rate[p] = bu_xmalloc("repute-bench-codec", rounds * sizeof(double));
    for (uint64_t r = 0; r < rounds; r++) {
        fprintf(stderr,
                "repute-bench-codec: round %" PRIu64 " of %" PRIu64 "\n", r + 1,
                rounds);
        rate[0][r] = run_repute(dec, &exact, n);
        rate[1][r] = run_repute(dec, &evolved, n);
        rate[2][r] = run_avro_c(&exact, n, &gv);
        rate[3][r] = run_avro_c(&evolved, n, &resolved);
    }
    report(rate, rounds, n);
    for (int p = 0; p < PHASES; p++)
        free(rate[p]);
    avro_value_decref(&resolved);
    avro_value_decref(&gv);
    avro_value_decref(&rv);
    avro_value_iface_decref(res);
    avro_value_iface_decref(cls);
    avro_value_iface_decref(ncls);
    avro_schema_decref(rs);
    avro_schema_decref(ns);
    avro_schema_decref(ws);
    free(exact.bytes);
    free(exact.off);
    free(evolved.bytes);
    free(evolved.off);
    rp_avro_codec_destroy(enc);
    rp_avro_codec_destroy(dec);
    return 0;
}
