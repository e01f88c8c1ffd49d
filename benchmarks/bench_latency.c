/*
 * bench_latency.c - repute-bench-latency: how long from a record's arrival
 * at the broker to the status change it causes?
 *
 * repute-loadgen can mix latency probes into its traffic: each is an
 * ANTI_SPAM_ORGANIZATION report (threshold 1, not manual) for a fresh
 * account "probe-<seed>-<n>" that receives nothing else, so each causes
 * exactly one STATUS_CHANGE, the first output record with that key. This
 * tool reads the input topic the probes went to and the output topic, and
 * pairs each probe with the first output record of the same key. Keys are
 * account ids, so nothing needs decoding.
 *
 * The latency is the output record's timestamp minus the input record's.
 * When both topics were created by repute-loadgen --create-topics, those
 * timestamps are LogAppendTime: both set by the broker's one clock when
 * the record was appended, so the figure is broker-to-broker (the input's
 * append, through repute's consume, engine, produce and transaction
 * commit, to the output's append) with no clock skew and no producer
 * linger in it. With CreateTime the input's timestamp is the producer's
 * clock at produce time instead, which adds loadgen's linger; the output
 * reports which kind it saw so that a figure is never read the wrong way.
 *
 * The topics are read with read_uncommitted by default: a LogAppendTime is
 * fixed at append whatever the isolation, and the tool then sees outputs
 * as soon as they are appended. The one cost is that a record of a
 * transaction that is later aborted would count as the first output; with
 * read_committed (--isolation) only committed outputs count, at the price
 * of waiting for each commit marker before seeing a record.
 *
 * Both topics are read from the beginning by one consumer (assign, no
 * group), so inputs and outputs arrive interleaved in no particular order;
 * a small hash table keyed by account id keeps, per probe, the first input
 * timestamp and the first output timestamp, whichever arrives first.
 *
 * Output: progress on standard error, one JSON line on standard output:
 * {"probes":N,"matched":M,"unmatched":U,"p50_ms":..,"p99_ms":..,
 * "p999_ms":..,"max_ms":..,"mean_ms":..,...}. Percentiles are nearest-rank
 * over the matched probes.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_kafka.h"

#define PROG         "repute-bench-latency"
#define BATCH        1000
#define PROBE_PREFIX "probe-"

/* ---------------------------------------------------------------- options */

typedef struct options {
    bk_reader_opts r; /* expect: matched probes, 0: no limit */
    const char *input;
    const char *output;
    const char *prefix; /* keys of probes start with this */
} options;

static void usage(FILE *out) {
    fprintf(out,
            "usage: " PROG " --input P.reports --output P.status\n"
            "       [--bootstrap HOST:PORT] [--expect N] [--idle-exit D]\n"
            "       [--isolation read_uncommitted|read_committed]\n"
            "       [-X key=value]...\n"
            "\n"
            "Pairs each probe record (key \"" PROBE_PREFIX "...\") of the "
            "input topic\n"
            "with the first record of the same key in the output topic and\n"
            "prints the latency percentiles (output timestamp minus input\n"
            "timestamp) as one JSON line.\n"
            "\n" BK_READER_HELP_BOOTSTRAP
            "  --input        topic the probes were written to\n"
            "  --output       repute's output topic\n"
            "  --expect N     stop once N probes are "
            "matched\n" BK_READER_HELP_IDLE_EXIT "(default 10)\n"
            "  --isolation    default read_uncommitted\n"
            "  --probe-prefix P  keys of probes (default \"" PROBE_PREFIX
            "\";\n"
            "                 \"probe-<seed>-\" keeps to one loadgen "
            "run)\n" BK_READER_HELP_X);
}

static int parse_options(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    bk_reader_opts_init(&o->r, "read_uncommitted", 10000);
    o->prefix = PROBE_PREFIX;
    const bk_tool_opt own[] = {
        {"--input", &o->input, NULL},
        {"--output", &o->output, NULL},
        {"--probe-prefix", &o->prefix, NULL},
    };
    int rc = bk_reader_parse(argc, argv, &o->r, 1, own, 3, PROG);
    if (rc != 0)
        return rc;
    if (o->input == NULL || o->output == NULL) {
        fprintf(stderr, PROG ": --input and --output are required\n");
        return -1;
    }
    if (strcmp(o->input, o->output) == 0) {
        fprintf(stderr, PROG ": --input and --output must differ\n");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- table */

/* One probe: its key and the first input and output timestamps seen
 * (-1: not yet). Open addressing with linear probing; the table doubles
 * at half full, so probes stay short. */
typedef struct probe {
    char *key; /* NULL: empty slot */
    int64_t in_ts;
    int64_t out_ts;
} probe;

typedef struct table {
    probe *slots;
    size_t cap; /* a power of two */
    size_t n;
} table;

static uint64_t hash_key(const void *p, size_t len) {
    /* FNV-1a: keys are short and few, anything fair will do. */
    const unsigned char *s = p;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * UINT64_C(0x100000001b3);
    return h;
}

static probe *table_find(table *t, const void *key, size_t len) {
    size_t mask = t->cap - 1;
    for (size_t i = hash_key(key, len) & mask;; i = (i + 1) & mask) {
        probe *p = &t->slots[i];
        if (p->key == NULL ||
            (strlen(p->key) == len && memcmp(p->key, key, len) == 0))
            return p;
    }
}

static int table_grow(table *t) {
    table bigger = {calloc(t->cap * 2, sizeof(probe)), t->cap * 2, t->n};
    if (bigger.slots == NULL)
        return RP_ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key)
            *table_find(&bigger, t->slots[i].key, strlen(t->slots[i].key)) =
                t->slots[i];
    free(t->slots);
    *t = bigger;
    return 0;
}

/* Returns the probe of the key, created empty if new, or NULL when out
 * of memory. */
static probe *table_get(table *t, const void *key, size_t len) {
    if ((t->n + 1) * 2 > t->cap && table_grow(t) != 0)
        return NULL;
    probe *p = table_find(t, key, len);
    if (p->key == NULL) {
        p->key = strndup(key, len);
        if (p->key == NULL)
            return NULL;
        p->in_ts = p->out_ts = -1;
        t->n++;
    }
    return p;
}

/* ---------------------------------------------------------------- stats */

/* The type of timestamp seen on one topic: a bit per type. */
static const char *tstype_summary(unsigned seen) {
    if (seen == 0)
        return "none";
    if (seen == 1u << RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME)
        return "LogAppendTime";
    if (seen == 1u << RD_KAFKA_TIMESTAMP_CREATE_TIME)
        return "CreateTime";
    return "mixed";
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least q of the values at or
 * below it. */
static int64_t percentile(const int64_t *v, size_t n, double q) {
    if (n == 0)
        return 0;
    size_t rank = (size_t)(q * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

/* ---------------------------------------------------------------- reading */

/* What the reading loop has counted so far. */
typedef struct seen {
    uint64_t matched, in_msgs, out_msgs;
    unsigned in_types, out_types; /* a bit per timestamp type */
} seen;

/* Counts one message and, when its key is a probe's, files its timestamp
 * as the probe's first input or first output. Returns 0 or RP_ENOMEM. */
static int see(seen *s, table *t, const options *o,
               const rd_kafka_message_t *m) {
    size_t plen = strlen(o->prefix);
    bool is_in = strcmp(rd_kafka_topic_name(m->rkt), o->input) == 0;
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    *(is_in ? &s->in_msgs : &s->out_msgs) += 1;
    *(is_in ? &s->in_types : &s->out_types) |= 1u << tt;
    if (m->key_len <= plen || memcmp(m->key, o->prefix, plen) != 0)
        return 0;
    probe *p = table_get(t, m->key, m->key_len);
    if (p == NULL)
        return RP_ENOMEM;
    /* Only the first of each counts: a later input would be a redelivery,
     * a later output a later status change. */
    int64_t *slot = is_in ? &p->in_ts : &p->out_ts;
    if (*slot < 0) {
        *slot = ts;
        if (p->in_ts >= 0 && p->out_ts >= 0)
            s->matched++;
    }
    return 0;
}

/* Reads both topics until --expect probes are matched, --idle-exit passes
 * with nothing new, or a stop signal. Matching happens as records arrive,
 * so --expect can stop early. Returns 0, or -1 after printing why. */
static int read_all(bk_reader *r, table *t, const options *o, seen *s) {
    double last = bk_now(), next_progress = last + 1;
    while (!bk_stop && (o->r.expect == 0 || s->matched < o->r.expect)) {
        ssize_t n = bk_reader_poll(r, 100);
        if (n < 0)
            return -1;
        double now = bk_now();
        for (ssize_t i = 0; i < n; i++) {
            int rc = see(s, t, o, r->batch[i]);
            rd_kafka_message_destroy(r->batch[i]);
            if (rc != 0) {
                fprintf(stderr, PROG ": out of memory\n");
                return -1;
            }
        }
        if (r->received > 0)
            last = now;
        if (now - last >= o->r.idle_exit / 1000.0)
            break;
        if (now >= next_progress) {
            fprintf(stderr,
                    PROG ": %" PRIu64 " input and %" PRIu64
                         " output records, %" PRIu64 " probes matched\n",
                    s->in_msgs, s->out_msgs, s->matched);
            next_progress = now + 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- main */

/* Prints the JSON line of the matched probes' latencies (and a warning
 * unless both topics had LogAppendTime). Returns 0 or RP_ENOMEM. */
static int report(const table *t, const options *o, const seen *s) {
    int64_t *lat = malloc((t->n ? t->n : 1) * sizeof *lat);
    if (lat == NULL)
        return RP_ENOMEM;
    size_t nlat = 0;
    uint64_t probes = 0, orphans = 0;
    double sum = 0;
    for (size_t i = 0; i < t->cap; i++) {
        const probe *p = &t->slots[i];
        if (p->key == NULL)
            continue;
        if (p->in_ts < 0) {
            orphans++; /* an output for a probe we never saw go in */
            continue;
        }
        probes++;
        if (p->out_ts >= 0) {
            lat[nlat++] = p->out_ts - p->in_ts;
            sum += (double)(p->out_ts - p->in_ts);
        }
    }
    qsort(lat, nlat, sizeof *lat, cmp_i64);
    const char *in_ts = tstype_summary(s->in_types);
    const char *out_ts = tstype_summary(s->out_types);
    printf("{\"probes\":%" PRIu64 ",\"matched\":%zu,\"unmatched\":%" PRIu64
           ",\"p50_ms\":%" PRId64 ",\"p99_ms\":%" PRId64 ",\"p999_ms\":%" PRId64
           ",\"max_ms\":%" PRId64 ",\"min_ms\":%" PRId64 ",\"mean_ms\":%.1f"
           ",\"input_timestamp_type\":\"%s\",\"output_timestamp_type\":\"%s\""
           ",\"input_records\":%" PRIu64 ",\"output_records\":%" PRIu64
           ",\"outputs_without_input\":%" PRIu64 ",\"isolation\":\"%s\"}\n",
           probes, nlat, probes - nlat, percentile(lat, nlat, 0.5),
           percentile(lat, nlat, 0.99), percentile(lat, nlat, 0.999),
           nlat ? lat[nlat - 1] : 0, nlat ? lat[0] : 0,
           nlat ? sum / (double)nlat : 0.0, in_ts, out_ts, s->in_msgs,
           s->out_msgs, orphans, o->r.isolation);
    if (s->in_types != 1u << RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ||
        s->out_types != 1u << RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME)
        fprintf(stderr,
                PROG ": warning: timestamps are %s (input) and %s (output), "
                     "not LogAppendTime on both: create the topics with "
                     "repute-loadgen --create-topics for broker-clock "
                     "latencies\n",
                in_ts, out_ts);
    free(lat);
    return 0;
}

int main(int argc, char **argv) {
    options o;
    char err[512];
    int status = 1;
    bk_reader r;
    memset(&r, 0, sizeof r);
    table t = {calloc(1024, sizeof(probe)), 1024, 0};
    bk_list topics = {NULL, 0};
    seen s;
    memset(&s, 0, sizeof s);

    int prc = parse_options(argc, argv, &o);
    if (prc != 0) {
        usage(prc == 1 ? stdout : stderr);
        status = prc == 1 ? 0 : 2;
        goto fail;
    }
    bk_catch_stop_signals();
    if (t.slots == NULL || bk_list_add_csv(&topics, o.input) != 0 ||
        bk_list_add_csv(&topics, o.output) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        goto fail;
    }
    if (bk_reader_open(&r, PROG, &o.r, &topics, BATCH, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        goto fail;
    }
    if (read_all(&r, &t, &o, &s) != 0)
        goto fail;
    if (report(&t, &o, &s) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        goto fail;
    }
    status = o.r.expect && s.matched < o.r.expect ? 1 : 0;
fail:
    bk_reader_close(&r);
    for (size_t i = 0; t.slots && i < t.cap; i++)
        free(t.slots[i].key);
    free(t.slots);
    bk_list_free(&topics);
    bk_list_free(&o.r.extra);
    return status;
}
