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
    bk_reader_opts r; /* expect: messages, 0: no limit; idle_exit 0: never */
    bk_list topics;
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
            "\n" BK_READER_HELP_BOOTSTRAP
            "  --topics       comma list of topics (repeatable)\n"
            "  --expect N     stop once N messages were "
            "read\n" BK_READER_HELP_IDLE_EXIT "(default 5 when --expect is not "
            "given)\n"
            "  --isolation    default read_committed, as "
            "repute\n" BK_READER_HELP_X);
}

static int parse_options(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    bk_reader_opts_init(&o->r, "read_committed", -1);
    const bk_tool_opt own[] = {{"--topics", NULL, &o->topics}};
    int rc = bk_reader_parse(argc, argv, &o->r, 0, own, 1, PROG);
    if (rc != 0)
        return rc;
    if (o->topics.n == 0) {
        fprintf(stderr, PROG ": --topics is required\n");
        return -1;
    }
    /* Without a stopping rule the program would never end. */
    if (o->r.idle_exit < 0)
        o->r.idle_exit = o->r.expect ? 0 : 5000;
    return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    options o;
    int prc = parse_options(argc, argv, &o);
    if (prc != 0) {
        usage(prc == 1 ? stdout : stderr);
        bk_list_free(&o.topics);
        bk_list_free(&o.r.extra);
        return prc == 1 ? 0 : 2;
    }
    bk_catch_stop_signals();

    /* bk_reader_open() sets r up before anything can fail. */
    bk_reader r;
    char err[512];
    int status = 1;
    int nparts =
        bk_reader_open(&r, PROG, &o.r, &o.topics, BATCH, err, sizeof err);
    if (nparts < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        goto fail;
    }
    fprintf(stderr, PROG ": reading %d partitions of %zu topics (%s)\n", nparts,
            o.topics.n, o.r.isolation);

    uint64_t messages = 0, bytes = 0;
    double first = 0, last = 0, start = bk_now(), next_progress = start + 1;
    while (!bk_stop && (o.r.expect == 0 || messages < o.r.expect)) {
        ssize_t n = bk_reader_poll(&r, 100);
        if (n < 0)
            goto fail;
        double now = bk_now();
        messages += (uint64_t)n;
        for (ssize_t i = 0; i < n; i++) {
            bytes += r.batch[i]->len + r.batch[i]->key_len;
            rd_kafka_message_destroy(r.batch[i]);
        }
        if (r.received > 0 && messages > 0) {
            if (first == 0)
                first = now;
            last = now;
        }
        double idle_since = last > 0 ? last : start;
        if (o.r.idle_exit > 0 && now - idle_since >= o.r.idle_exit / 1000.0)
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
           secs > 0 ? (double)bytes / secs : 0.0, nparts, o.r.isolation,
           r.errors);
    status = o.r.expect && messages < o.r.expect ? 1 : 0;
    if (status)
        fprintf(stderr,
                PROG ": expected %" PRIu64 " messages, read %" PRIu64 "\n",
                o.r.expect, messages);
fail:
    bk_reader_close(&r);
    bk_list_free(&o.topics);
    bk_list_free(&o.r.extra);
    return status;
}
