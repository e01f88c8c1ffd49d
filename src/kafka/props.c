/*
 * props.c - the consumer-only and producer-only properties of librdkafka.
 *
 * librdkafka accepts every property in any configuration, but a consumer
 * given a producer's property (or the reverse) warns at rd_kafka_new
 * ("CONFWARN ... is a producer property and will be ignored by this
 * consumer instance"), at every start. repute builds all its clients from
 * one set of kafka.* keys, so conf.c needs to know which keys belong to
 * which kind of client: these two lists are the properties that
 * librdkafka 2.0.2 (Debian 12's) marks C or P in its CONFIGURATION.md,
 * global and topic ones alike, as rd_kafka_conf_properties_show() prints
 * them, without the callbacks that cannot be set from text. Everything else
 * goes to every client. A later librdkafka may add properties: until they
 * are added here they go everywhere, as before, and the unit test
 * (test_kafka_conf.c) that compares this table with the loaded library's
 * says which.
 *
 * Kept sorted, for bsearch.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/props.h"

static const char *const consumer_props[] = {
    "auto.commit.enable",
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "check.crcs",
    "consume.callback.max.messages",
    "coordinator.query.interval.ms",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "enable.partition.eof",
    "fetch.error.backoff.ms",
    "fetch.max.bytes",
    "fetch.message.max.bytes",
    "fetch.min.bytes",
    "fetch.wait.max.ms",
    "group.id",
    "group.instance.id",
    "group.protocol.type",
    "heartbeat.interval.ms",
    "isolation.level",
    "max.partition.fetch.bytes",
    "max.poll.interval.ms",
    "offset.store.method",
    "offset.store.path",
    "offset.store.sync.interval.ms",
    "partition.assignment.strategy",
    "queued.max.messages.kbytes",
    "queued.min.messages",
    "session.timeout.ms",
};

static const char *const producer_props[] = {
    "acks",
    "batch.num.messages",
    "batch.size",
    "compression.codec",
    "compression.level",
    "compression.type",
    "delivery.report.only.error",
    "delivery.timeout.ms",
    "enable.gapless.guarantee",
    "enable.idempotence",
    "linger.ms",
    "message.send.max.retries",
    "message.timeout.ms",
    "partitioner",
    "produce.offset.report",
    "queue.buffering.backpressure.threshold",
    "queue.buffering.max.kbytes",
    "queue.buffering.max.messages",
    "queue.buffering.max.ms",
    "queuing.strategy",
    "request.required.acks",
    "request.timeout.ms",
    "retries",
    "retry.backoff.ms",
    "sticky.partitioning.linger.ms",
    "transaction.timeout.ms",
    "transactional.id",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int cmp_name(const void *key, const void *elem) {
    return strcmp((const char *)key, *(const char *const *)elem);
}

static bool in(const char *const *names, size_t n, const char *name) {
    return bsearch(name, names, n, sizeof(names[0]), cmp_name) != NULL;
}

rp_kafka_kind rp_kafka_prop_kind(const char *name) {
    if (in(consumer_props, N_OF(consumer_props), name))
        return RP_KAFKA_KIND_CONSUMER;
    if (in(producer_props, N_OF(producer_props), name))
        return RP_KAFKA_KIND_PRODUCER;
    return RP_KAFKA_KIND_BOTH;
}

const char *const *rp_kafka_prop_names(rp_kafka_kind kind, size_t *n) {
    switch (kind) {
    case RP_KAFKA_KIND_CONSUMER:
        *n = N_OF(consumer_props);
        return consumer_props;
    case RP_KAFKA_KIND_PRODUCER:
        *n = N_OF(producer_props);
        return producer_props;
    default: *n = 0; return NULL;
    }
}
