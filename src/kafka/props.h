/*
 * props.h - which kind of client each librdkafka property is for (private
 * to src/kafka/: conf.c routes the kafka.* keys with it).
 */
#ifndef REPUTE_KAFKA_PROPS_H
#define REPUTE_KAFKA_PROPS_H

#include <stddef.h>

typedef enum rp_kafka_kind {
    RP_KAFKA_KIND_BOTH = 0, /* '*': any client, or not in the table */
    RP_KAFKA_KIND_CONSUMER, /* 'C' */
    RP_KAFKA_KIND_PRODUCER  /* 'P' */
} rp_kafka_kind;

/* The kind of the librdkafka property name ("session.timeout.ms"):
 * RP_KAFKA_KIND_BOTH for a property of every client and for a name the
 * table does not know (librdkafka judges it). */
rp_kafka_kind rp_kafka_prop_kind(const char *name);

/* The table itself, for the unit test that checks it against the loaded
 * librdkafka: *n names of the kind, sorted (strcmp). */
const char *const *rp_kafka_prop_names(rp_kafka_kind kind, size_t *n);

#endif
