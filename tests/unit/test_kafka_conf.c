/*
 * test_kafka_conf.c - which kafka.* keys reach which client (src/kafka/).
 *
 * The configurations rp_kafka_conf_new builds are read back with
 * rd_kafka_conf_get, so these tests need no broker. A consumer property
 * must reach the consumers and not the producers (whose rd_kafka_new would
 * warn, CONFWARN, at every start), and the reverse; kafka.consumer.* and
 * kafka.producer.* aim a key at one kind and win over the plain key; and
 * the table of consumer-only and producer-only properties (props.c) must
 * agree with the librdkafka the tests run with.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repute/config.h"
#include "repute/kafka.h"

#include "kafka/props.h"

static const rp_kafka_role producers[] = {RP_KAFKA_PRODUCER,
                                          RP_KAFKA_TXN_PRODUCER};
static const rp_kafka_role consumers[] = {RP_KAFKA_CONSUMER, RP_KAFKA_RESTORE,
                                          RP_KAFKA_TAIL};

static void config(rp_config *cfg, const char *const *pairs) {
    char err[256];
    cr_assert_eq(rp_config_init(cfg), 0);
    for (; *pairs; pairs += 2)
        cr_assert_eq(rp_config_set(cfg, pairs[0], pairs[1], err, sizeof(err)),
                     0, "%s", err);
}

/* The value of prop in the configuration built for role. */
static char *get(const rp_config *cfg, rp_kafka_role role, const char *prop) {
    char err[256], buf[512];
    size_t size = sizeof(buf);
    rd_kafka_conf_t *conf = rp_kafka_conf_new(cfg, role, err, sizeof(err));
    cr_assert_not_null(conf, "%s", err);
    /* An unset string property (transactional.id) is not "OK". */
    bool set = rd_kafka_conf_get(conf, prop, buf, &size) == RD_KAFKA_CONF_OK;
    rd_kafka_conf_destroy(conf);
    return strdup(set ? buf : "(unset)");
}

static void expect(const rp_config *cfg, rp_kafka_role role, const char *prop,
                   const char *want, bool equal) {
    char *v = get(cfg, role, prop);
    if (equal)
        cr_expect_str_eq(v, want, "role %d %s", (int)role, prop);
    else
        cr_expect_str_neq(v, want, "role %d %s", (int)role, prop);
    free(v);
}

#define PAIRS(...)   ((const char *const[]){__VA_ARGS__, NULL})
#define EACH(arr, r) for (size_t r = 0; r < sizeof(arr) / sizeof(arr[0]); r++)

Test(kafka_conf, consumer_property_reaches_consumers_only) {
    rp_config cfg;
    config(&cfg, PAIRS("kafka.session.timeout.ms", "6000",
                       "kafka.max.poll.interval.ms", "600000"));
    EACH(consumers, i) {
        expect(&cfg, consumers[i], "session.timeout.ms", "6000", true);
        expect(&cfg, consumers[i], "max.poll.interval.ms", "600000", true);
    }
    /* Not set in a producer's: it keeps librdkafka's default. */
    EACH(producers, i) {
        expect(&cfg, producers[i], "session.timeout.ms", "6000", false);
        expect(&cfg, producers[i], "max.poll.interval.ms", "600000", false);
    }
    rp_config_destroy(&cfg);
}

Test(kafka_conf, producer_property_reaches_producers_only) {
    rp_config cfg;
    config(&cfg,
           PAIRS("kafka.linger.ms", "20", "kafka.compression.type", "lz4"));
    EACH(producers, i) {
        expect(&cfg, producers[i], "linger.ms", "20", true);
        expect(&cfg, producers[i], "compression.type", "lz4", true);
    }
    EACH(consumers, i) {
        expect(&cfg, consumers[i], "linger.ms", "20", false);
        expect(&cfg, consumers[i], "compression.type", "lz4", false);
    }
    rp_config_destroy(&cfg);
}

Test(kafka_conf, common_property_reaches_every_client) {
    rp_config cfg;
    config(&cfg, PAIRS("kafka.client.id", "mine", "kafka.socket.timeout.ms",
                       "12345"));
    EACH(producers, i) expect(&cfg, producers[i], "client.id", "mine", true);
    EACH(consumers, i) expect(&cfg, consumers[i], "client.id", "mine", true);
    EACH(consumers, i)
    expect(&cfg, consumers[i], "socket.timeout.ms", "12345", true);
    rp_config_destroy(&cfg);
}

Test(kafka_conf, aimed_keys_reach_one_kind_and_win) {
    rp_config cfg;
    /* The aimed key is given first and still wins over the plain one. */
    config(&cfg, PAIRS("kafka.producer.client.id", "prod",
                       "kafka.consumer.client.id", "cons", "kafka.client.id",
                       "both", "kafka.consumer.socket.timeout.ms", "23456"));
    EACH(producers, i) {
        expect(&cfg, producers[i], "client.id", "prod", true);
        expect(&cfg, producers[i], "socket.timeout.ms", "23456", false);
    }
    EACH(consumers, i) {
        expect(&cfg, consumers[i], "client.id", "cons", true);
        expect(&cfg, consumers[i], "socket.timeout.ms", "23456", true);
    }
    rp_config_destroy(&cfg);
}

Test(kafka_conf, aimed_key_of_the_wrong_kind_is_dropped) {
    rp_config cfg;
    config(&cfg, PAIRS("kafka.producer.session.timeout.ms", "7000"));
    EACH(consumers, i)
    expect(&cfg, consumers[i], "session.timeout.ms", "7000", false);
    EACH(producers, i)
    expect(&cfg, producers[i], "session.timeout.ms", "7000", false);
    rp_config_destroy(&cfg);
}

Test(kafka_conf, transactional_id_goes_to_the_transactional_producer) {
    rp_config cfg;
    config(&cfg, PAIRS("kafka.producer.transactional.id", "t1"));
    expect(&cfg, RP_KAFKA_TXN_PRODUCER, "transactional.id", "t1", true);
    expect(&cfg, RP_KAFKA_PRODUCER, "transactional.id", "t1", false);
    cr_expect(rp_kafka_conf_has(&cfg, "transactional.id"));
    rp_config_destroy(&cfg);
    config(&cfg, PAIRS("kafka.consumer.transactional.id", "t1"));
    cr_expect_not(rp_kafka_conf_has(&cfg, "transactional.id"),
                  "a consumer does not take a transactional.id");
    expect(&cfg, RP_KAFKA_TXN_PRODUCER, "transactional.id", "t1", false);
    rp_config_destroy(&cfg);
}

Test(kafka_conf, bootstrap_for_every_kind) {
    rp_config cfg;
    config(&cfg, PAIRS("kafka.consumer.bootstrap.servers", "a:9092"));
    cr_expect_not(rp_kafka_has_bootstrap(&cfg), "producers have none");
    rp_config_destroy(&cfg);
    config(&cfg, PAIRS("kafka.consumer.bootstrap.servers", "a:9092",
                       "kafka.producer.bootstrap.servers", "b:9092"));
    cr_expect(rp_kafka_has_bootstrap(&cfg));
    expect(&cfg, RP_KAFKA_TAIL, "bootstrap.servers", "a:9092", true);
    expect(&cfg, RP_KAFKA_PRODUCER, "bootstrap.servers", "b:9092", true);
    rp_config_destroy(&cfg);
    config(&cfg, PAIRS("kafka.bootstrap.servers", "c:9092"));
    cr_expect(rp_kafka_has_bootstrap(&cfg));
    rp_config_destroy(&cfg);
}

Test(kafka_conf, refused_key_is_named_as_written) {
    rp_config cfg;
    char err[256];
    config(&cfg, PAIRS("kafka.consumer.no.such.property", "1"));
    rd_kafka_conf_t *conf =
        rp_kafka_conf_new(&cfg, RP_KAFKA_CONSUMER, err, sizeof(err));
    cr_assert_null(conf);
    cr_expect_not_null(strstr(err, "kafka.consumer.no.such.property"), "%s",
                       err);
    rp_config_destroy(&cfg);
}

/* ---------------------------------------------------------------- CONFWARN */

static int confwarns;

static void count_confwarn(const rd_kafka_t *rk, int level, const char *fac,
                           const char *buf) {
    (void)rk, (void)level;
    /* Only the warnings about a property given to the wrong kind of client
     * (not "No bootstrap.servers configured": these clients never connect). */
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "will be ignored")) {
        confwarns++;
    }
}

/* The number of CONFWARN lines about misplaced properties rd_kafka_new
 * logs for conf. */
static int warnings(rd_kafka_conf_t *conf, rd_kafka_type_t type) {
    char err[256];
    confwarns = 0;
    rd_kafka_conf_set_log_cb(conf, count_confwarn);
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    cr_assert_not_null(rk, "%s", err);
    rd_kafka_destroy(rk);
    return confwarns;
}

Test(kafka_conf, no_confwarn_for_the_other_kinds_property) {
    rp_config cfg;
    char err[256];
    config(&cfg,
           PAIRS("kafka.session.timeout.ms", "6000", "kafka.linger.ms", "20"));
    /* The check sees a warning where there is one. */
    rd_kafka_conf_t *raw = rd_kafka_conf_new();
    cr_assert_eq(
        rd_kafka_conf_set(raw, "session.timeout.ms", "6000", err, sizeof(err)),
        RD_KAFKA_CONF_OK);
    cr_assert_gt(warnings(raw, RD_KAFKA_PRODUCER), 0);
    rd_kafka_conf_t *p =
        rp_kafka_conf_new(&cfg, RP_KAFKA_PRODUCER, err, sizeof(err));
    cr_assert_not_null(p, "%s", err);
    cr_expect_eq(warnings(p, RD_KAFKA_PRODUCER), 0);
    rd_kafka_conf_t *c =
        rp_kafka_conf_new(&cfg, RP_KAFKA_TAIL, err, sizeof(err));
    cr_assert_not_null(c, "%s", err);
    cr_expect_eq(warnings(c, RD_KAFKA_CONSUMER), 0);
    rp_config_destroy(&cfg);
}

/* ---------------------------------------------------------------- table */

/* props.c against the library: every property the loaded librdkafka marks
 * C or P (rd_kafka_conf_properties_show, the text of its CONFIGURATION.md)
 * is in the table with that kind, and the table holds nothing else. */
Test(kafka_conf, table_matches_librdkafka) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    rd_kafka_conf_properties_show(f);
    fclose(f);
    size_t seen[3] = {0};
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char name[128], kind[8];
        if (sscanf(line, "%127s | %7s |", name, kind) != 2)
            continue;
        if (strchr(name, '_') && strstr(name, "_c"))
            continue; /* callbacks (dr_msg_cb, ...): not set from text */
        rp_kafka_kind want = strcmp(kind, "C") == 0   ? RP_KAFKA_KIND_CONSUMER
                             : strcmp(kind, "P") == 0 ? RP_KAFKA_KIND_PRODUCER
                                                      : RP_KAFKA_KIND_BOTH;
        if (strcmp(kind, "C") && strcmp(kind, "P") && strcmp(kind, "*"))
            continue; /* the header and the legend */
        cr_expect_eq(rp_kafka_prop_kind(name), want, "%s is %s in librdkafka",
                     name, kind);
    }
    free(text);
    for (int k = RP_KAFKA_KIND_CONSUMER; k <= RP_KAFKA_KIND_PRODUCER; k++) {
        const char *const *names = rp_kafka_prop_names(k, &seen[k]);
        for (size_t i = 1; i < seen[k]; i++)
            cr_expect_lt(strcmp(names[i - 1], names[i]), 0, "not sorted at %s",
                         names[i]);
    }
    cr_expect_gt(seen[RP_KAFKA_KIND_CONSUMER], 20);
    cr_expect_gt(seen[RP_KAFKA_KIND_PRODUCER], 20);
}
