/*
 * tail_current.h - `repute tail --current` (tail_current.c), called by
 * tail.c once its consumer is assigned every partition of topic.current
 * from the beginning.
 */
#ifndef REPUTE_CLI_TAIL_CURRENT_H
#define REPUTE_CLI_TAIL_CURRENT_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

typedef struct rp_tail_current_opts {
    bool follow;     /* --follow: go on printing changes after the table */
    bool table;      /* --format table: aligned columns, not JSON lines */
    bool framed;     /* avro.framing = confluent */
    int64_t idle_ms; /* --idle-exit with --follow; 0: never */
} rp_tail_current_opts;

/* Reads topic (n_partitions partitions, ids below n_ids) with rk until
 * every partition's end, prints the table, and with follow goes on.
 * Returns the exit status (RP_CLI_EXIT_*). */
int rp_tail_current_run(rd_kafka_t *rk, const char *topic, int32_t n_partitions,
                        int32_t n_ids, const rp_tail_current_opts *o);

#endif
