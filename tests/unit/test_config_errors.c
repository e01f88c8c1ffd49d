/*
 * test_config_errors.c - what the configuration (src/config/) refuses, and
 * how it says so.
 *
 * Unknown keys (with a near one suggested), bad durations, rates, counts,
 * booleans, enums and strings, each with a message that names the key;
 * a refused value leaves the configuration unchanged; key=value pairs of
 * --set; the duration forms accepted and refused; and control characters,
 * refused without quoting the value. The helpers are config_support.h's.
 */
#include "config_support.h"

/* ---------------------------------------------------------------- errors */

Test(config, unknown_key) {
    set_fails("foo.bar", "1", "unknown key");
    cr_assert_str_eq(err, "foo.bar: unknown key");
}

Test(config, unknown_key_suggests_a_near_one) {
    set_fails("review.periode", "7d", "did you mean review.period?");
    set_fails("report.spamtrap.threshold", "3",
              "did you mean report.SPAMTRAP.threshold?");
}

Test(config, report_key_with_unknown_kind_lists_kinds) {
    set_fails("report.NOPE.threshold", "1", "unknown key");
    cr_assert(strstr(err, "COMPROMISED_CREDENTIALS"), "%s", err);
    /* The rate issues are not report kinds. */
    set_fails("report.BOUNCE_RATE.threshold", "1", "unknown key");
    set_fails("report..manual", "true", "unknown key");
}

Test(config, bad_duration_message) {
    set_fails("review.period", "7", "expected a duration");
    cr_assert_str_eq(err, "review.period: expected a duration like 500ms, "
                          "30s, 15m, 24h or 7d, got \"7\"");
    set_fails("window.min.span", "-1h", "got \"-1h\"");
    set_fails("window.max.span", "1.5d", "expected a duration");
    set_fails("dedupe.horizon", "", "got \"\"");
    set_fails("report.window", "106751991168d", "too long");
}

Test(config, bad_rate) {
    set_fails("bounce.review.rate", "abc", "expected a rate between 0 and 1");
    set_fails("bounce.review.rate", "1.5", "got \"1.5\"");
    set_fails("complaint.pause.rate", "-0.1", "expected a rate");
    set_fails("complaint.pause.rate", "5%", "expected a rate");
    set_fails("complaint.pause.rate", "nan", "expected a rate");
    set_fails("complaint.pause.rate", "inf", "expected a rate");
    set_fails("complaint.pause.rate", "0x1p-4", "expected a rate");
    set_fails("complaint.pause.rate", " 0.1", "expected a rate");
}

Test(config, bad_counts_and_ranges) {
    set_fails("window.min.volume", "-1", "expected a whole number >= 0");
    set_fails("window.min.volume", "1e4", "got \"1e4\"");
    set_fails("rate.min.volume", "9223372036854775808", "must be at most");
    set_fails("review.max.extensions", "2147483648",
              "must be at most 2147483647");
    set_fails("report.SPAMTRAP.threshold", "0", "must be at least 1");
    set_fails("report.OTHER.threshold", "-2", "expected a whole number >= 1");
    set_fails("topics.partitions", "0", "must be at least 1");
    set_fails("threads", "-1", "expected a whole number >= 0");
    set_fails("threads", "65", "must be at most 64");
    set_fails("avro.schema.id.status", "x", "expected a whole number");
}

Test(config, bad_bool) {
    set_fails("pause.immediate", "yes", "expected true or false");
    cr_assert_str_eq(err,
                     "pause.immediate: expected true or false, got \"yes\"");
    set_fails("report.SPAMTRAP.manual", "1", "expected true or false");
}

Test(config, bad_enum) {
    set_fails("clock", "event-time", "expected wall or event");
    cr_assert_eq(cfg.clock_set, false);
    set_fails("processing.guarantee", "at_most_once",
              "expected exactly_once or at_least_once");
    set_fails("avro.framing", "", "expected plain or confluent");
    set_fails("log.level", "trace", "expected error, warn, info or debug");
}

Test(config, bad_strings) {
    set_fails("group.id", "", "expected a non-empty value");
    set_fails("http.listen", "", "expected a non-empty value");
    set_fails("topic.status", "has space", "expected a Kafka topic name");
    set_fails("topic.dlq", "", "expected a Kafka topic name");
    set_fails("topic.dlq", "..", "expected a Kafka topic name");
}

Test(config, control_characters_are_escaped_in_errors) {
    set_fails("review.period", "7d\t", "got \"7d\\x09\"");
}

Test(config, rejected_value_leaves_config_unchanged) {
    set_fails("bounce.review.rate", "2", "expected a rate");
    cr_assert_eq(cfg.bounce_review_rate, 0.05);
    set_fails("review.period", "7", "expected a duration");
    cr_assert_eq(cfg.review_period, 7 * RP_MS_PER_DAY);
    set_fails("topic.status", "a/b", "topic name");
    cr_assert_str_eq(cfg.topic[RP_TOPIC_STATUS], "repute.status");
    set_fails("topics.create", "maybe", "true or false");
    cr_assert_eq(cfg.topics_create_set, false);
}

Test(config, null_and_empty_keys) {
    cr_assert_eq(rp_config_set(&cfg, NULL, "x", err, sizeof(err)), RP_EINVAL);
    cr_assert_eq(rp_config_set(&cfg, "", "x", err, sizeof(err)), RP_EINVAL);
    cr_assert_eq(rp_config_set(&cfg, "clock", NULL, err, sizeof(err)),
                 RP_EINVAL);
    cr_assert(strstr(err, "clock"), "%s", err);
    /* No errstr at all is allowed. */
    cr_assert_eq(rp_config_set(&cfg, "foo", "x", NULL, 0), RP_EINVAL);
}

/* ---------------------------------------------------------------- set pairs */

Test(config, set_pair) {
    cr_assert_eq(rp_config_set_pair(&cfg, "review.period=3d", err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(cfg.review_period, 3 * RP_MS_PER_DAY);
    cr_assert_eq(rp_config_set_pair(&cfg, " clock = event ", err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(cfg.clock, RP_CLOCK_EVENT);
}

Test(config, set_pair_value_may_hold_equals) {
    cr_assert_eq(
        rp_config_set_pair(&cfg, "kafka.sasl.jaas=a=b=c", err, sizeof(err)), 0,
        "%s", err);
    cr_assert_str_eq(cfg.kafka[0].key, "sasl.jaas");
    cr_assert_str_eq(cfg.kafka[0].value, "a=b=c");
}

Test(config, set_pair_without_equals) {
    cr_assert_eq(rp_config_set_pair(&cfg, "review.period", err, sizeof(err)),
                 RP_EINVAL);
    cr_assert(strstr(err, "expected key=value"), "%s", err);
    cr_assert(strstr(err, "review.period"), "%s", err);
}

Test(config, set_pair_errors_name_the_key) {
    cr_assert_eq(
        rp_config_set_pair(&cfg, "window.max.span=90", err, sizeof(err)),
        RP_EINVAL);
    cr_assert_eq(strncmp(err, "window.max.span: ", 17), 0, "%s", err);
}

/* ---------------------------------------------------------------- durations */

Test(duration, accepted_forms) {
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"0ms", 0},
        {"0d", 0},
        {"500ms", 500},
        {"30s", 30000},
        {"15m", 900000},
        {"24h", 86400000},
        {"7d", 604800000},
        {"007d", 604800000},
        {"9223372036854775807ms", INT64_MAX},
        {"106751991167d", INT64_C(106751991167) * 86400000},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t ms = -1;
        cr_assert_eq(rp_duration_parse(ok[i].text, &ms), 0, "%s", ok[i].text);
        cr_assert_eq(ms, ok[i].ms, "%s", ok[i].text);
    }
}

Test(duration, rejected_forms) {
    static const char *const bad[] = {
        "",
        "7",
        "ms",
        "s",
        "-1s",
        "+1s",
        " 1s",
        "1s ",
        "1 s",
        "1.5h",
        "1h30m",
        "1S",
        "1sec",
        "1w",
        "1msx",
        "d7",
        "0x10s",
        "1e3ms",
        "9223372036854775808ms",
        "106751991168d",
        "99999999999999999999999h",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 42;
        cr_assert_eq(rp_duration_parse(bad[i], &ms), RP_EINVAL, "%s", bad[i]);
        cr_assert_eq(ms, 42, "%s changed the output", bad[i]);
    }
    int64_t ms;
    cr_assert_eq(rp_duration_parse(NULL, &ms), RP_EINVAL);
}

/* A control character in a key or value (a bare carriage return from
 * another system's line ends, a newline in a --set) is refused, naming the
 * key and the byte but never quoting the value; it could not survive a
 * dump (found by the config fuzzer, tests/fuzz/regressions/config/). */
Test(config, control_characters_are_refused) {
    char e[256];
    cr_assert_eq(rp_config_set(&cfg, "group.id", "a\rb", e, sizeof(e)),
                 RP_EINVAL);
    cr_assert_not_null(strstr(e, "group.id"), "%s", e);
    cr_assert_not_null(strstr(e, "0x0d"), "%s", e);
    cr_assert_eq(rp_config_set(&cfg, "kafka.sasl.password", "s3cr3t\nlog.level",
                               e, sizeof(e)),
                 RP_EINVAL);
    cr_assert_null(strstr(e, "s3cr3t"), "%s", e);
    cr_assert_eq(rp_config_set(&cfg, "group\x01.id", "a", e, sizeof(e)),
                 RP_EINVAL);
    cr_assert_not_null(strstr(e, "control character"), "%s", e);
    /* A tab inside a value is kept. */
    cr_assert_eq(rp_config_set(&cfg, "group.id", "a\tb", e, sizeof(e)), 0, "%s",
                 e);
}
