/*
 * bench_kafka.h - the Kafka plumbing shared by the benchmark tools
 * (repute-loadgen, repute-bench-consume, repute-bench-latency).
 *
 * The three tools talk to a real broker and need the same few things:
 * clocks, a way to read "30s" or "2.5" as a duration, a comma list of
 * topics, a bare consumer that reads whole topics from the beginning with
 * no consumer group (assign, not subscribe: nothing to join, nothing to
 * rebalance, and the fastest way to read everything), topic creation, and a
 * check that every partition of a topic answers before anyone produces to
 * it. They live here so that each tool's file is about its measurement.
 *
 * The two reading tools (the consume ceiling and the latency probe) also
 * share their options (broker, --expect, --idle-exit, --isolation, -X)
 * and their reading loop's plumbing, a "reader": the bare consumer, its
 * queue and a batch array, with the message errors counted. Each used to
 * set these up in its own copy of the same forty lines.
 *
 * Errors follow the project's convention: 0 or a negative RP_E* code, with
 * the reason in errstr. Nothing here prints, except bk_reader_parse(),
 * which says what was wrong with the command line, and bk_reader_poll(),
 * which reports consume errors on standard error under the tool's name as
 * both tools always did (an error message is otherwise a silent stall).
 */
#ifndef REPUTE_BENCH_KAFKA_H
#define REPUTE_BENCH_KAFKA_H

#include <stdint.h>
#include <sys/types.h>

#include <signal.h>

#include <librdkafka/rdkafka.h>

#include "repute/types.h"

/* ---------------------------------------------------------------- signals */

/* Set to 1 by SIGINT or SIGTERM once bk_catch_stop_signals() was called:
 * the tools finish their current step, report and exit. */
extern volatile sig_atomic_t bk_stop;
void bk_catch_stop_signals(void);

/* ---------------------------------------------------------------- clocks */

/* Monotonic seconds, for measuring intervals. */
double bk_now(void);

/* Wall-clock milliseconds since the Unix epoch, for event times. */
int64_t bk_wall_ms(void);

/* Sleeps for the given number of microseconds (interrupted sleeps are not
 * resumed: callers loop on their own clock anyway). */
void bk_sleep_us(long us);

/* ---------------------------------------------------------------- parsing */

/* Parses a duration: a plain number of seconds ("5", "0.5") or a repute
 * duration ("500ms", "30s", "15m", "48h", "7d"). Returns 0 with *out_ms,
 * or RP_EINVAL. */
int bk_parse_duration_ms(const char *s, int64_t *out_ms);

/* Matches argv[*i] against an option that takes a value, given as
 * "--name value" or "--name=value". Returns 1 with *value set (and *i
 * moved past the value), 0 when argv[*i] is another option, or RP_EINVAL
 * when the value is missing. */
int bk_opt(int argc, char **argv, int *i, const char *name, const char **value);

/* A list of names split from "a,b,c" (empty items are skipped). */
typedef struct bk_list {
    char **items;
    size_t n;
} bk_list;

/* Appends the comma-separated items of s. Returns 0 or RP_ENOMEM. */
int bk_list_add_csv(bk_list *l, const char *s);
void bk_list_free(bk_list *l);

/* ---------------------------------------------------------------- config */

/* Sets one librdkafka property; errstr names the key. 0 or RP_EINVAL. */
int bk_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val,
                char *errstr, size_t errstr_size);

/* Applies "key=value" pairs (the tools' -X options). 0 or RP_EINVAL. */
int bk_conf_set_pairs(rd_kafka_conf_t *conf, const bk_list *pairs, char *errstr,
                      size_t errstr_size);

/* ---------------------------------------------------------------- reader */

/* The options every reading tool takes (defaults: bk_reader_opts_init()). */
typedef struct bk_reader_opts {
    const char *bootstrap;
    uint64_t expect;   /* stop after this many (the tool says of what) */
    int64_t idle_exit; /* ms with nothing new before giving up */
    const char *isolation;
    bk_list extra; /* -X key=value */
} bk_reader_opts;

/* Zeroes o and sets the defaults: the local broker, the given isolation
 * level and --idle-exit (ms). */
void bk_reader_opts_init(bk_reader_opts *o, const char *isolation,
                         int64_t idle_exit_ms);

/* The help lines of the reader's options that read alike in every tool. */
#define BK_READER_HELP_BOOTSTRAP                                               \
    "  --bootstrap    broker (default 127.0.0.1:9092)\n"
#define BK_READER_HELP_IDLE_EXIT                                               \
    "  --idle-exit D  stop after D (seconds, or 500ms, 1m) with\n"             \
    "                 nothing new "
#define BK_READER_HELP_X                                                       \
    "  -X key=value   any librdkafka property (repeatable)\n"

/* One option of a tool's own, taking a value: a string (into *value) or
 * a comma list (added to *list); the other pointer is NULL. */
typedef struct bk_tool_opt {
    const char *name;
    const char **value;
    bk_list *list;
} bk_tool_opt;

/* Parses a reading tool's command line: --help or -h, the reader's
 * options --bootstrap, --expect, --idle-exit (at least min_idle_ms),
 * --isolation and -X, and the tool's own, all as "--name value" or
 * "--name=value". Returns 0, 1 for --help, or -1 after printing what was
 * wrong under prog's name. The caller sets the defaults first and frees
 * o->extra and its lists with bk_list_free(), also after a failure. */
int bk_reader_parse(int argc, char **argv, bk_reader_opts *o,
                    int64_t min_idle_ms, const bk_tool_opt *own, size_t n_own,
                    const char *prog);

/* A bare consumer on every partition of some topics, from the beginning:
 * no group (assign, not subscribe: nothing to join, nothing to rebalance,
 * and the fastest way to read everything), repute's fetch settings
 * (src/kafka/conf.c: fetch.wait.max.ms 100, max.partition.fetch.bytes
 * 4 MB), no commits and no partition EOF events, then the -X pairs. */
typedef struct bk_reader {
    const char *prog; /* names the tool in bk_reader_poll()'s reports */
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    rd_kafka_message_t **batch; /* up to batch_max messages */
    size_t batch_max;
    size_t received; /* by the last poll, error messages included */
    uint64_t errors; /* error messages received */
} bk_reader;

/* Opens the reader and assigns the topics, waiting up to 10 s for them to
 * appear. Returns the number of partitions assigned (> 0) or a negative
 * code with errstr. The caller closes with bk_reader_close(), also after
 * a failure. */
int bk_reader_open(bk_reader *r, const char *prog, const bk_reader_opts *o,
                   const bk_list *topics, size_t batch_max, char *errstr,
                   size_t errstr_size);

/* Waits up to timeout_ms for messages and puts them in r->batch. Error
 * messages are counted in r->errors, reported (the first ten) and
 * destroyed, so the batch holds only data; r->received counts both (it
 * tells the tools' idle clocks that the broker answered). Returns how
 * many data messages (the caller destroys each with
 * rd_kafka_message_destroy()), or -1 after reporting a failure of the
 * queue. */
ssize_t bk_reader_poll(bk_reader *r, int timeout_ms);

void bk_reader_close(bk_reader *r);

/* ---------------------------------------------------------------- topics */

/* Partition count of a topic from fresh metadata: > 0, or RP_ENOTFOUND
 * when it does not exist (yet), or RP_EIO with errstr. */
int bk_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                        char *errstr, size_t errstr_size);

/* Creates the topics with `partitions` partitions, replication 1 and
 * message.timestamp.type=LogAppendTime. A topic that already exists is
 * not an error: *existed (may be NULL) gets a bit per such topic (the first
 * 64). Returns 0 or a negative code with errstr naming the topic. */
int bk_create_topics(rd_kafka_t *rk, const bk_list *topics, int partitions,
                     uint64_t *existed, char *errstr, size_t errstr_size);

/* Waits until every partition of every topic has a leader and answers a
 * watermark query (KAFKA-15591: a produce right after creation can be lost
 * otherwise). Returns 0, or RP_EIO with errstr naming the first partition
 * that did not answer within timeout_ms. */
int bk_wait_ready(rd_kafka_t *rk, const bk_list *topics, int timeout_ms,
                  char *errstr, size_t errstr_size);

/* "LogAppendTime", "CreateTime" or "none". */
const char *bk_tstype_name(rd_kafka_timestamp_type_t t);

#endif
