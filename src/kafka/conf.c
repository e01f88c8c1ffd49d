/*
 * conf.c - one place that turns an rp_config into librdkafka settings.
 *
 * repute's defaults per role come first; the user's kafka.* keys come last
 * and so override them. A key librdkafka refuses is reported with its name
 * as the user wrote it ("kafka.<key>", "kafka.consumer.<key>").
 *
 * Each key goes only to the clients it is for. A property librdkafka marks
 * consumer-only or producer-only (props.c) skips the other kind, which
 * would warn about it at every start; kafka.consumer.<key> and
 * kafka.producer.<key> aim a key at one kind, for a property both kinds
 * take (client.id, socket settings, a second cluster's bootstrap.servers);
 * and transactional.id goes to the processor's transactional producer
 * alone. The aimed keys are applied after the plain ones, so that they win
 * whatever their order in the file.
 */
#include <stdio.h>
#include <string.h>

#include "repute/kafka.h"
#include "repute/log.h"

#include "kafka/props.h"

#define CONSUMER_PREFIX "consumer."
#define PRODUCER_PREFIX "producer."

void rp_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf) {
    rp_log_level l = level <= 3   ? RP_LOG_ERROR
                     : level <= 4 ? RP_LOG_WARN
                     : level <= 6 ? RP_LOG_INFO
                                  : RP_LOG_DEBUG;
    rp_log(l, "kafka %s %s: %s", rk ? rd_kafka_name(rk) : "-", fac, buf);
}

/* Whether the key is given exactly as "kafka.<prefix><key>". */
static bool has_exact(const rp_config *cfg, const char *prefix,
                      const char *key) {
    size_t np = strlen(prefix);
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (strncmp(cfg->kafka[i].key, prefix, np) == 0 &&
            strcmp(cfg->kafka[i].key + np, key) == 0)
            return true;
    return false;
}

bool rp_kafka_conf_has(const rp_config *cfg, const char *key) {
    if (has_exact(cfg, "", key))
        return true;
    rp_kafka_kind kind = rp_kafka_prop_kind(key);
    return (kind != RP_KAFKA_KIND_CONSUMER &&
            has_exact(cfg, PRODUCER_PREFIX, key)) ||
           (kind != RP_KAFKA_KIND_PRODUCER &&
            has_exact(cfg, CONSUMER_PREFIX, key));
}

/* The brokers, for every kind of client: given plainly, or aimed at both
 * kinds (a command with one kind of client still asks for both, so that
 * one configuration serves every command). */
static bool has_for_all(const rp_config *cfg, const char *key) {
    return has_exact(cfg, "", key) || (has_exact(cfg, PRODUCER_PREFIX, key) &&
                                       has_exact(cfg, CONSUMER_PREFIX, key));
}

bool rp_kafka_has_bootstrap(const rp_config *cfg) {
    return has_for_all(cfg, "bootstrap.servers") ||
           has_for_all(cfg, "metadata.broker.list");
}

/* Sets key; an error names the key as the user wrote it (shown). */
static int set_shown(rd_kafka_conf_t *conf, const char *shown, const char *key,
                     const char *val, char *errstr, size_t errstr_size) {
    char why[256];
    if (rd_kafka_conf_set(conf, key, val, why, sizeof(why)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "kafka.%s: %s", shown, why);
        return -1;
    }
    return 0;
}

int rp_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val,
                      char *errstr, size_t errstr_size) {
    return set_shown(conf, key, key, val, errstr, errstr_size);
}

static bool is_producer(rp_kafka_role role) {
    return role == RP_KAFKA_PRODUCER || role == RP_KAFKA_TXN_PRODUCER;
}

/* The property a kafka.* key names for this role, or NULL when the key is
 * not for it. pass 0 takes the plain keys, pass 1 the aimed ones. */
static const char *route(const char *key, rp_kafka_role role, int pass) {
    const char *prop = key;
    bool aimed = false;
    if (strncmp(key, CONSUMER_PREFIX, strlen(CONSUMER_PREFIX)) == 0) {
        if (is_producer(role))
            return NULL;
        prop = key + strlen(CONSUMER_PREFIX);
        aimed = true;
    } else if (strncmp(key, PRODUCER_PREFIX, strlen(PRODUCER_PREFIX)) == 0) {
        if (!is_producer(role))
            return NULL;
        prop = key + strlen(PRODUCER_PREFIX);
        aimed = true;
    }
    if (aimed != (pass == 1))
        return NULL;
    /* transactional.id turns a producer transactional: `repute produce`'s
     * plain producer would refuse to send outside a transaction. */
    if (strcmp(prop, "transactional.id") == 0)
        return role == RP_KAFKA_TXN_PRODUCER ? prop : NULL;
    rp_kafka_kind kind = rp_kafka_prop_kind(prop);
    if ((kind == RP_KAFKA_KIND_CONSUMER && is_producer(role)) ||
        (kind == RP_KAFKA_KIND_PRODUCER && !is_producer(role)))
        return NULL;
    return prop;
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
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cfg->n_kafka; i++) {
            const char *prop = route(cfg->kafka[i].key, role, pass);
            if (prop &&
                set_shown(conf, cfg->kafka[i].key, prop, cfg->kafka[i].value,
                          errstr, errstr_size) != 0)
                goto fail;
        }
    }
    rd_kafka_conf_set_log_cb(conf, rp_kafka_log_cb);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
