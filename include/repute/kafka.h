/*
 * repute/kafka.h - librdkafka configuration and shared Kafka helpers.
 *
 * Every Kafka client of repute (the processor's consumer, producer and
 * restore consumer; produce; tail; the benchmarks) is configured here, from
 * one rp_config: repute's own settings first, then the "kafka.*" keys
 * meant for that kind of client, so a user's kafka.* key always wins (TLS,
 * SASL, tuning work as librdkafka documents them). A property librdkafka
 * marks consumer-only or producer-only goes only to that kind of client,
 * and "kafka.consumer.<key>" / "kafka.producer.<key>" aim any key at one
 * kind; those win over the plain "kafka.<key>".
 */
#ifndef REPUTE_KAFKA_H
#define REPUTE_KAFKA_H

#include <stdbool.h>

#include <librdkafka/rdkafka.h>

#include "repute/config.h"

typedef enum rp_kafka_role {
    RP_KAFKA_PRODUCER = 0, /* plain producer (produce, DLQ-less tools) */
    RP_KAFKA_TXN_PRODUCER, /* the processor's producer */
    RP_KAFKA_CONSUMER,     /* the processor's group consumer */
    RP_KAFKA_RESTORE,      /* the changelog reader (no group) */
    RP_KAFKA_TAIL          /* tail's consumer (no commits) */
} rp_kafka_role;

/* Builds a configuration for the role. Returns NULL with errstr naming the
 * key on failure. The caller passes it to rd_kafka_new (which takes
 * ownership on success) or frees it with rd_kafka_conf_destroy(). */
rd_kafka_conf_t *rp_kafka_conf_new(const rp_config *cfg, rp_kafka_role role,
                                   char *errstr, size_t errstr_size);

/* Sets one librdkafka property, with the error naming the key. */
int rp_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val,
                      char *errstr, size_t errstr_size);

/* Whether the configuration gives the librdkafka property key to a client
 * of the kind it is for: as "kafka.<key>", or aimed at a kind that takes it
 * ("kafka.producer.transactional.id" counts, "kafka.consumer.
 * transactional.id" does not). */
bool rp_kafka_conf_has(const rp_config *cfg, const char *key);

/* Whether the configuration names the brokers to bootstrap from
 * (bootstrap.servers, or its older alias metadata.broker.list), for every
 * kind of client: plainly, or aimed at both consumers and producers. Every
 * command that talks to Kafka refuses to start without one. */
bool rp_kafka_has_bootstrap(const rp_config *cfg);

/* Routes librdkafka's logs to repute's logger. */
void rp_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf);

#endif
