/*
 * bench_consume.c - repute-bench-consume: how fast can anything read these
 * topics from this broker? The ceiling for repute's throughput.
 *
 * repute's end-to-end rate is bounded by what a librdkafka consumer can
 * fetch on the same machine with the same fetch settings; comparing the
 * two says how much of repute's time is repute. So this consumer does the
 * least a consumer can: it assigns every partition of the given topics
 * from the beginning (no group, hence no join or rebalance to wait for),
 * takes messages off the consumer queue in batches of up to BATCH
 * (rd_kafka_consume_batch_queue, which skips the per-message poll call),
 * counts them and their key and value bytes, and destroys them. Nothing is
 * decoded. The fetch settings are repute's (fetch.wait.max.ms 100,
 * max.partition.fetch.bytes 4 MB; see src/kafka/conf.c), and the isolation
 * level is read_committed by default, as repute reads.
 *
 * The clock starts when the first message arrives and stops at the last
 * one, so connection set-up, metadata and the first fetch's wait are
 * excluded, and so is the idle time that --idle-exit waits before giving
 * up. This is the steady consume rate, the quantity repute is compared
 * with, rather than the time a user waits for the program.
 *
 * Output: progress on standard error, and one JSON line on standard
 * output: {"messages":N,"bytes":B,"seconds":S,"messages_per_sec":R,...}.
 * Exit status 0, 1 on a Kafka error, 2 on a usage error.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_kafka.h"

#define PROG  "repute-bench-consume"
#define BATCH 10000

/* ---------------------------------------------------------------- options */

typedef struct options {
    const char *bootstrap;
    bk_list topics;
    uint64_t expect;   /* 0: no limit */
    int64_t idle_exit; /* ms; 0: never */
    const char *isolation;
    bk_list extra; /* -X key=value */
} options;

static void usage(FILE *out) {
    fprintf(out,
            "usage: " PROG " --topics A,B,... [--bootstrap HOST:PORT]\n"
            "       [--expect N] [--idle-exit SECONDS]\n"
            "       [--isolation read_committed|read_uncommitted]\n"
            "       [-X key=value]...\n"
            "\n"
            "Reads every partition of the topics from the beginning with a\n"
            "bare librdkafka consumer, decoding nothing, and prints one JSON\n"
            "line with the messages, bytes and messages per second (timed\n"
            "from the first message to the last).\n"
            "\n"
            "  --bootstrap    broker (default 127.0.0.1:9092)\n"
            "  --topics       comma list of topics (repeatable)\n"
            "  --expect N     stop once N messages were read\n"
            "  --idle-exit D  stop after D (seconds, or 500ms, 1m) with\n"
            "                 nothing new (default 5 when --expect is not "
            "given)\n"
            "  --isolation    default read_committed, as repute\n"
            "  -X key=value   any librdkafka property (repeatable)\n");
}

static int parse_options(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->bootstrap = "127.0.0.1:9092";
    o->isolation = "read_committed";
    o->idle_exit = -1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
        if ((m = bk_opt(argc, argv, &i, "--bootstrap", &v)) == 1) {
            o->bootstrap = v;
        } else if (m == 0 &&
                   (m = bk_opt(argc, argv, &i, "--topics", &v)) == 1) {
            if (bk_list_add_csv(&o->topics, v) != 0)
                return -1;
        } else if (m == 0 &&
                   (m = bk_opt(argc, argv, &i, "--expect", &v)) == 1) {
            char *end;
            o->expect = strtoull(v, &end, 10);
            if (*v < '0' || *v > '9' || *end != '\0') {
                fprintf(stderr, PROG ": --expect needs a whole number\n");
                return -1;
            }
        } else if (m == 0 &&
                   (m = bk_opt(argc, argv, &i, "--idle-exit", &v)) == 1) {
            if (bk_parse_duration_ms(v, &o->idle_exit) != 0) {
                fprintf(stderr, PROG ": --idle-exit: bad duration '%s'\n", v);
                return -1;
            }
        } else if (m == 0 &&
                   (m = bk_opt(argc, argv, &i, "--isolation", &v)) == 1) {
            if (strcmp(v, "read_committed") != 0 &&
                strcmp(v, "read_uncommitted") != 0) {
                fprintf(stderr, PROG ": --isolation: read_committed or "
                                     "read_uncommitted\n");
                return -1;
            }
            o->isolation = v;
        } else if (m == 0 && (m = bk_opt(argc, argv, &i, "-X", &v)) == 1) {
            if (bk_list_add_csv(&o->extra, v) != 0)
                return -1;
        } else {
            fprintf(stderr, PROG ": %s '%s'\n",
                    m < 0 ? "missing value for" : "unknown option", argv[i]);
            return -1;
        }
    }
    if (o->topics.n == 0) {
        fprintf(stderr, PROG ": --topics is required\n");
        return -1;
    }
    /* Without a stopping rule the program would never end. */
    if (o->idle_exit < 0)
        o->idle_exit = o->expect ? 0 : 5000;
    return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    options o;
    char err[512];
    int status = 1;
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_message_t **batch = NULL;

    int prc = parse_options(argc, argv, &o);
    if (prc != 0) {
        usage(prc == 1 ? stdout : stderr);
        bk_list_free(&o.topics);
        bk_list_free(&o.extra);
        return prc == 1 ? 0 : 2;
    }
    bk_catch_stop_signals();

    rk = bk_consumer_new(o.bootstrap, o.isolation, &o.extra, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        goto fail;
    }
    int nparts = bk_assign_all(rk, &o.topics, 10000, err, sizeof err);
    if (nparts < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        goto fail;
    }
    fprintf(stderr, PROG ": reading %d partitions of %zu topics (%s)\n", nparts,
            o.topics.n, o.isolation);
    q = rd_kafka_queue_get_consumer(rk);
    batch = malloc(BATCH * sizeof *batch);
    if (q == NULL || batch == NULL) {
        fprintf(stderr, PROG ": cannot get the consumer queue\n");
        goto fail;
    }

    uint64_t messages = 0, bytes = 0, errors = 0;
    double first = 0, last = 0, start = bk_now(), next_progress = start + 1;
    while (!bk_stop && (o.expect == 0 || messages < o.expect)) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, batch, BATCH);
        double now = bk_now();
        if (n < 0) {
            fprintf(stderr, PROG ": %s\n",
                    rd_kafka_err2str(rd_kafka_last_error()));
            goto fail;
        }
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = batch[i];
            if (m->err) {
                /* Errors arrive as messages; one about a topic that
                 * vanished would otherwise be a silent stall. */
                if (errors++ < 10)
                    fprintf(stderr, PROG ": %s\n", rd_kafka_message_errstr(m));
            } else {
                messages++;
                bytes += m->len + m->key_len;
            }
            rd_kafka_message_destroy(m);
        }
        if (n > 0 && messages > 0) {
            if (first == 0)
                first = now;
            last = now;
        }
        double idle_since = last > 0 ? last : start;
        if (o.idle_exit > 0 && now - idle_since >= o.idle_exit / 1000.0)
            break;
        if (now >= next_progress) {
            fprintf(stderr, PROG ": %" PRIu64 " messages\n", messages);
            next_progress = now + 1;
        }
    }

    double secs = last - first;
    printf("{\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64
           ",\"seconds\":%.3f,\"messages_per_sec\":%.0f"
           ",\"bytes_per_sec\":%.0f,\"partitions\":%d,\"isolation\":\"%s\""
           ",\"errors\":%" PRIu64 "}\n",
           messages, bytes, secs, secs > 0 ? (double)messages / secs : 0.0,
           secs > 0 ? (double)bytes / secs : 0.0, nparts, o.isolation, errors);
    status = o.expect && messages < o.expect ? 1 : 0;
    if (status)
        fprintf(stderr,
                PROG ": expected %" PRIu64 " messages, read %" PRIu64 "\n",
                o.expect, messages);
fail:
    free(batch);
    if (q)
        rd_kafka_queue_destroy(q);
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    bk_list_free(&o.topics);
    bk_list_free(&o.extra);
    return status;
}
