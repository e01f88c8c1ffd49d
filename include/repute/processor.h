/*
 * repute/processor.h - `repute run`: the stream processor on a libuv loop.
 *
 * The processor reads the five input topics with one consumer-group member,
 * merges each partition number's five streams in event-time order, applies
 * the records to one engine per assigned partition (a "task", as in Kafka
 * Streams), and publishes outputs, changelog records and consumer offsets in
 * one Kafka transaction per commit interval. See docs/run.md.
 */
#ifndef REPUTE_PROCESSOR_H
#define REPUTE_PROCESSOR_H

#include <stdbool.h>

#include "repute/config.h"

typedef struct rp_run_options {
    bool embedded; /* start librdkafka's mock cluster in-process */
} rp_run_options;

/* Runs until SIGINT/SIGTERM or a fatal error. cfg may be changed (the
 * embedded mode sets kafka.bootstrap.servers). Returns the process exit
 * status: 0 after a clean shutdown, 1 on a fatal Kafka error, 2 on a
 * configuration or topic-layout error. */
int rp_processor_run(rp_config *cfg, const rp_run_options *opts);

#endif
