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
 * Errors follow the project's convention: 0 or a negative RP_E* code, with
 * the reason in errstr. Nothing here prints.
 */
#ifndef REPUTE_BENCH_KAFKA_H
#define REPUTE_BENCH_KAFKA_H

#include <stdint.h>

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

/* ---------------------------------------------------------------- consumer */

/* A consumer with repute's fetch settings (src/kafka/conf.c: fetch.wait.max.ms
 * 100, max.partition.fetch.bytes 4 MB), the given isolation level
 * ("read_committed" or "read_uncommitted"), no commits and no partition EOF
 * events, then the -X pairs. Returns NULL with errstr. */
rd_kafka_t *bk_consumer_new(const char *bootstrap, const char *isolation,
                            const bk_list *extra, char *errstr,
                            size_t errstr_size);

/* Assigns every partition of the topics, from the beginning. Waits up to
 * timeout_ms for the topics to appear in the metadata. Returns the number
 * of partitions assigned (> 0) or a negative code with errstr. */
int bk_assign_all(rd_kafka_t *rk, const bk_list *topics, int timeout_ms,
                  char *errstr, size_t errstr_size);

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
