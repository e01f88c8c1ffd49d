/*
 * conf.c - one place that turns an rp_config into librdkafka settings.
 *
 * repute's defaults per role come first; the user's kafka.* keys come last
 * and so override them. A key librdkafka refuses is reported with its name
 * as the user wrote it ("kafka.<key>").
 */
#include <stdio.h>
#include <string.h>

#include "repute/kafka.h"
#include "repute/log.h"

void rp_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf) {
    rp_log_level l = level <= 3   ? RP_LOG_ERROR
                     : level <= 4 ? RP_LOG_WARN
                     : level <= 6 ? RP_LOG_INFO
                                  : RP_LOG_DEBUG;
    rp_log(l, "kafka %s %s: %s", rk ? rd_kafka_name(rk) : "-", fac, buf);
}

bool rp_kafka_conf_has(const rp_config *cfg, const char *key) {
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (strcmp(cfg->kafka[i].key, key) == 0)
            return true;
    return false;
}

bool rp_kafka_has_bootstrap(const rp_config *cfg) {
    return rp_kafka_conf_has(cfg, "bootstrap.servers") ||
           rp_kafka_conf_has(cfg, "metadata.broker.list");
}

int rp_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val,
                      char *errstr, size_t errstr_size) {
    char why[256];
    if (rd_kafka_conf_set(conf, key, val, why, sizeof(why)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "kafka.%s: %s", key, why);
        return -1;
    }
    return 0;
}

rd_kafka_conf_t *rp_kafka_conf_new(const rp_config *cfg, rp_kafka_role role,
                                   char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Our defaults for the role: name, value pairs. */
    const char *defaults[32];
    size_t n = 0;
#define DEF(k, v) (defaults[n++] = (k), defaults[n++] = (v))
    DEF("client.id", "repute");
    switch (role) {
    case RP_KAFKA_PRODUCER:
        DEF("enable.idempotence", "true");
        DEF("linger.ms", "5");
        break;
    case RP_KAFKA_TXN_PRODUCER:
        DEF("enable.idempotence", "true");
        DEF("linger.ms", "5");
        DEF("transaction.timeout.ms", "10000");
        break;
    case RP_KAFKA_CONSUMER:
        DEF("group.id", cfg->group_id);
        DEF("enable.auto.commit", "false");
        DEF("enable.auto.offset.store", "false");
        DEF("auto.offset.reset", "earliest");
        DEF("isolation.level", "read_committed");
        DEF("partition.assignment.strategy", "range");
        DEF("enable.partition.eof", "true");
        DEF("session.timeout.ms", "10000");
        DEF("fetch.wait.max.ms", "100"); /* latency over fetch efficiency */
        DEF("max.partition.fetch.bytes", "4194304");
        /* Prefetch per input partition: repute reads each partition's
         * queue on its own (processor.c), and then these limits apply per
         * partition (librdkafka's defaults, 100000 messages and 64 MiB,
         * would let 20 partitions hold over a gigabyte). */
        DEF("queued.min.messages", "20000");
        DEF("queued.max.messages.kbytes", "8192");
        DEF("heartbeat.interval.ms", "1000");
        break;
    case RP_KAFKA_RESTORE:
        DEF("group.id", "repute-restore-unused");
        DEF("fetch.wait.max.ms", "20"); /* the end is reached sooner */
        /* Large fetches: a restore reads whole partitions as fast as the
         * broker sends them (1 MB fetches made 1M accounts take 12 s). */
        DEF("max.partition.fetch.bytes", "16777216");
        DEF("fetch.max.bytes", "67108864");
        DEF("enable.auto.commit", "false");
        DEF("auto.offset.reset", "earliest");
        DEF("isolation.level", "read_committed");
        DEF("enable.partition.eof", "true");
        break;
    case RP_KAFKA_TAIL:
        DEF("group.id", "repute-tail-unused");
        DEF("enable.auto.commit", "false");
        DEF("isolation.level", "read_committed");
        DEF("enable.partition.eof", "true");
        break;
    }
#undef DEF
    for (size_t i = 0; i < n; i += 2)
        if (rp_kafka_conf_set(conf, defaults[i], defaults[i + 1], errstr,
                              errstr_size) != 0)
            goto fail;
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        /* Consumer-only and producer-only keys would make the other role's
         * rd_kafka_new warn; librdkafka accepts both kinds in any conf.
         * transactional.id is the exception: it belongs to the processor's
         * producer alone. A consumer would warn about it on every start,
         * and `repute produce`'s plain producer would turn transactional
         * and refuse to send outside a transaction. */
        if (role != RP_KAFKA_TXN_PRODUCER &&
            strcmp(cfg->kafka[i].key, "transactional.id") == 0)
            continue;
        if (rp_kafka_conf_set(conf, cfg->kafka[i].key, cfg->kafka[i].value,
                              errstr, errstr_size) != 0)
            goto fail;
    }
    rd_kafka_conf_set_log_cb(conf, rp_kafka_log_cb);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
