/*
 * test_config.c - the configuration keys of docs/rules.md section 8.
 *
 * Holds rp_config to its defaults, to the parsing of every type of value,
 * to error messages that name the key, to the properties-file subset
 * (comments, blank lines, CRLF, line numbers in errors), to --set
 * overriding a file, to the kafka.* passthrough and to the checks of
 * rp_config_validate.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repute/config.h"

/* ---------------------------------------------------------------- helpers */

static rp_config cfg;
static char err[1024];

static void setup(void) {
    cr_assert_eq(rp_config_init(&cfg), 0);
    err[0] = '\0';
}

static void teardown(void) {
    rp_config_destroy(&cfg);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Sets key = value and expects success. */
static void set_ok(const char *key, const char *value) {
    int rc = rp_config_set(&cfg, key, value, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s = %s: %s", key, value, err);
}

/* Sets key = value and expects RP_EINVAL with a message that begins with
 * the key and holds needle. */
static void set_fails(const char *key, const char *value, const char *needle) {
    err[0] = '\0';
    int rc = rp_config_set(&cfg, key, value, err, sizeof(err));
    cr_assert_eq(rc, RP_EINVAL, "%s = %s was accepted", key, value);
    cr_assert_eq(strncmp(err, key, strlen(key)), 0,
                 "error does not begin with the key: %s", err);
    cr_assert_eq(err[strlen(key)], ':', "error does not name the key: %s", err);
    cr_assert(strstr(err, needle), "expected \"%s\" in: %s", needle, err);
}

/* Writes text to a new temporary file and returns its path (static). */
static const char *write_temp(const char *text) {
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/repute_test_config_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* Dumps cfg into a heap string. */
static char *dump(const rp_config *c) {
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    cr_assert(f);
    cr_assert_eq(rp_config_dump(c, f), 0);
    fclose(f);
    return text;
}

/* Reads a whole file into a heap string. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    char *text = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&text, &size);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return text;
}

/* ---------------------------------------------------------------- defaults */

Test(config, defaults_of_spec_section_8) {
    cr_assert_eq(cfg.bounce_review_rate, 0.05);
    cr_assert_eq(cfg.bounce_pause_rate, 0.10);
    cr_assert_eq(cfg.complaint_review_rate, 0.001);
    cr_assert_eq(cfg.complaint_pause_rate, 0.005);
    cr_assert_eq(cfg.window_min_volume, 10000);
    cr_assert_eq(cfg.window_min_span, 24 * RP_MS_PER_HOUR);
    cr_assert_eq(cfg.window_max_span, 90 * RP_MS_PER_DAY);
    cr_assert_eq(cfg.rate_min_volume, 1000);
    cr_assert_eq(cfg.review_period, 7 * RP_MS_PER_DAY);
    cr_assert_eq(cfg.review_max_extensions, 2);
    cr_assert_eq(cfg.pause_immediate, false);
    cr_assert_eq(cfg.report_window, 30 * RP_MS_PER_DAY);
    cr_assert_eq(cfg.dedupe_horizon, RP_MS_PER_HOUR);
    cr_assert_eq(cfg.dedupe_max_entries, 10000000);
    cr_assert_eq(cfg.clock, RP_CLOCK_WALL);
    cr_assert_eq(cfg.clock_set, false);
    cr_assert_eq(cfg.guarantee, RP_GUARANTEE_EXACTLY_ONCE);
    cr_assert_eq(cfg.framing, RP_FRAMING_PLAIN);
    for (int i = 0; i < RP_SCHEMA_ID__COUNT; i++)
        cr_assert_eq(cfg.schema_id[i], 0);
    cr_assert_str_eq(cfg.group_id, "repute");
    cr_assert_eq(cfg.max_task_idle, 500);
    cr_assert_eq(cfg.commit_interval, 100);
    cr_assert_eq(cfg.topics_create, false);
    cr_assert_eq(cfg.topics_create_set, false);
    cr_assert_eq(cfg.topic_partitions, 4);
    cr_assert_str_eq(cfg.log_level, "info");
    cr_assert_str_eq(cfg.http_listen, "127.0.0.1:8080");
    cr_assert_eq(cfg.n_kafka, 0);
    cr_assert_null(cfg.kafka);
}

Test(config, default_topic_names) {
    static const char *const names[RP_TOPIC__COUNT] = {
        "repute.deliveries", "repute.bounces",   "repute.complaints",
        "repute.reports",    "repute.actions",   "repute.status",
        "repute.dlq",        "repute.changelog", "repute.current"};
    for (int t = 0; t < RP_TOPIC__COUNT; t++)
        cr_assert_str_eq(cfg.topic[t], names[t]);
}

Test(config, default_report_thresholds_and_manual_kinds) {
    for (int k = RP_ISSUE__FIRST_REPORT; k < RP_ISSUE__COUNT; k++) {
        int want_threshold =
            k == RP_ISSUE_SPAMTRAP || k == RP_ISSUE_DOMAIN_BLOCKLIST ? 3 : 1;
        bool want_manual =
            k == RP_ISSUE_INTERNAL_REVIEW || k == RP_ISSUE_RELATED_ACCOUNT ||
            k == RP_ISSUE_VULNERABLE_SITE ||
            k == RP_ISSUE_COMPROMISED_CREDENTIALS || k == RP_ISSUE_OTHER;
        cr_assert_eq(cfg.report_threshold[k], want_threshold, "%s",
                     rp_issue_kind_name((rp_issue_kind)k));
        cr_assert_eq(cfg.report_manual[k], want_manual, "%s",
                     rp_issue_kind_name((rp_issue_kind)k));
    }
}

Test(config, defaults_validate) {
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
}

Test(config, destroy_is_safe_twice_and_on_zeroed) {
    rp_config zero;
    memset(&zero, 0, sizeof(zero));
    rp_config_destroy(&zero);
    rp_config_destroy(&cfg);
    rp_config_destroy(&cfg);
    cr_assert_eq(rp_config_init(&cfg), 0);
}

/* ---------------------------------------------------------------- values */

Test(config, rates) {
    set_ok("bounce.review.rate", "0.02");
    cr_assert_eq(cfg.bounce_review_rate, 0.02);
    set_ok("bounce.pause.rate", "1");
    cr_assert_eq(cfg.bounce_pause_rate, 1.0);
    set_ok("complaint.review.rate", "0");
    cr_assert_eq(cfg.complaint_review_rate, 0.0);
    set_ok("complaint.pause.rate", "5e-3");
    cr_assert_eq(cfg.complaint_pause_rate, 0.005);
    set_ok("complaint.pause.rate", ".5");
    cr_assert_eq(cfg.complaint_pause_rate, 0.5);
}

Test(config, counts) {
    set_ok("window.min.volume", "0");
    cr_assert_eq(cfg.window_min_volume, 0);
    set_ok("rate.min.volume", "9223372036854775807");
    cr_assert_eq(cfg.rate_min_volume, INT64_MAX);
    set_ok("dedupe.max.entries", "5");
    cr_assert_eq(cfg.dedupe_max_entries, 5);
    set_ok("review.max.extensions", "2147483647");
    cr_assert_eq(cfg.review_max_extensions, INT32_MAX);
    set_ok("topics.partitions", "12");
    cr_assert_eq(cfg.topic_partitions, 12);
    cr_assert_eq(cfg.threads, 0); /* the default: as many as the cores */
    set_ok("threads", "2");
    cr_assert_eq(cfg.threads, 2);
}

Test(config, durations) {
    set_ok("window.min.span", "0s");
    cr_assert_eq(cfg.window_min_span, 0);
    set_ok("window.max.span", "48h");
    cr_assert_eq(cfg.window_max_span, 48 * RP_MS_PER_HOUR);
    set_ok("review.period", "15m");
    cr_assert_eq(cfg.review_period, 15 * 60 * 1000);
    set_ok("report.window", "1d");
    cr_assert_eq(cfg.report_window, RP_MS_PER_DAY);
    set_ok("dedupe.horizon", "30s");
    cr_assert_eq(cfg.dedupe_horizon, 30000);
    set_ok("max.task.idle", "0ms");
    cr_assert_eq(cfg.max_task_idle, 0);
    set_ok("commit.interval", "250ms");
    cr_assert_eq(cfg.commit_interval, 250);
}

Test(config, booleans_ignore_case) {
    set_ok("pause.immediate", "true");
    cr_assert_eq(cfg.pause_immediate, true);
    set_ok("pause.immediate", "FALSE");
    cr_assert_eq(cfg.pause_immediate, false);
    set_ok("pause.immediate", "True");
    cr_assert_eq(cfg.pause_immediate, true);
}

Test(config, enums_and_their_set_flags) {
    set_ok("clock", "event");
    cr_assert_eq(cfg.clock, RP_CLOCK_EVENT);
    cr_assert_eq(cfg.clock_set, true);
    set_ok("processing.guarantee", "at_least_once");
    cr_assert_eq(cfg.guarantee, RP_GUARANTEE_AT_LEAST_ONCE);
    set_ok("processing.guarantee", "EXACTLY_ONCE");
    cr_assert_eq(cfg.guarantee, RP_GUARANTEE_EXACTLY_ONCE);
    set_ok("avro.framing", "confluent");
    cr_assert_eq(cfg.framing, RP_FRAMING_CONFLUENT);
}

Test(config, clock_set_even_when_chosen_value_is_the_default) {
    set_ok("clock", "wall");
    cr_assert_eq(cfg.clock, RP_CLOCK_WALL);
    cr_assert_eq(cfg.clock_set, true);
}

Test(config, topics_create_sets_its_flag) {
    set_ok("topics.create", "false");
    cr_assert_eq(cfg.topics_create, false);
    cr_assert_eq(cfg.topics_create_set, true);
    set_ok("topics.create", "true");
    cr_assert_eq(cfg.topics_create, true);
}

Test(config, schema_ids_by_record_type) {
    set_ok("avro.schema.id.delivery", "11");
    set_ok("avro.schema.id.bounce", "12");
    set_ok("avro.schema.id.complaint", "13");
    set_ok("avro.schema.id.report", "14");
    set_ok("avro.schema.id.action", "15");
    set_ok("avro.schema.id.status", "16");
    cr_assert_eq(cfg.schema_id[RP_REC_DELIVERY], 11);
    cr_assert_eq(cfg.schema_id[RP_REC_BOUNCE], 12);
    cr_assert_eq(cfg.schema_id[RP_REC_COMPLAINT], 13);
    cr_assert_eq(cfg.schema_id[RP_REC_REPORT], 14);
    cr_assert_eq(cfg.schema_id[RP_REC_ACTION], 15);
    cr_assert_eq(cfg.schema_id[RP_SCHEMA_ID_STATUS], 16);
}

Test(config, strings_and_topics) {
    set_ok("topic.deliveries", "prod.mail-deliveries_v2");
    cr_assert_str_eq(cfg.topic[RP_TOPIC_DELIVERIES], "prod.mail-deliveries_v2");
    set_ok("topic.changelog", "cl");
    cr_assert_str_eq(cfg.topic[RP_TOPIC_CHANGELOG], "cl");
    set_ok("group.id", "repute eu-west");
    cr_assert_str_eq(cfg.group_id, "repute eu-west");
    set_ok("log.level", "DEBUG");
    cr_assert_str_eq(cfg.log_level, "debug");
    set_ok("http.listen", "off");
    cr_assert_str_eq(cfg.http_listen, "off");
    set_ok("http.listen", "0.0.0.0:9000");
    cr_assert_str_eq(cfg.http_listen, "0.0.0.0:9000");
}

Test(config, report_keys_by_kind) {
    set_ok("report.SPAMTRAP.threshold", "5");
    cr_assert_eq(cfg.report_threshold[RP_ISSUE_SPAMTRAP], 5);
    cr_assert_eq(cfg.report_threshold[RP_ISSUE_DOMAIN_BLOCKLIST], 3);
    set_ok("report.ANTI_SPAM_ORGANIZATION.threshold", "2");
    cr_assert_eq(cfg.report_threshold[RP_ISSUE_ANTI_SPAM_ORGANIZATION], 2);
    set_ok("report.OTHER.manual", "false");
    cr_assert_eq(cfg.report_manual[RP_ISSUE_OTHER], false);
    set_ok("report.LISTBOMBING.manual", "true");
    cr_assert_eq(cfg.report_manual[RP_ISSUE_LISTBOMBING], true);
    cr_assert_eq(cfg.report_manual[RP_ISSUE_SPAMTRAP], false);
}

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

/* ---------------------------------------------------------------- kafka */

Test(config, kafka_pairs_keep_order_and_replace) {
    set_ok("kafka.bootstrap.servers", "a:9092");
    set_ok("kafka.security.protocol", "SASL_SSL");
    set_ok("kafka.client.id", "repute-1");
    set_ok("kafka.bootstrap.servers", "b:9092,c:9092");
    cr_assert_eq(cfg.n_kafka, 3);
    cr_assert_str_eq(cfg.kafka[0].key, "bootstrap.servers");
    cr_assert_str_eq(cfg.kafka[0].value, "b:9092,c:9092");
    cr_assert_str_eq(cfg.kafka[1].key, "security.protocol");
    cr_assert_str_eq(cfg.kafka[1].value, "SASL_SSL");
    cr_assert_str_eq(cfg.kafka[2].key, "client.id");
    cr_assert_str_eq(cfg.kafka[2].value, "repute-1");
}

Test(config, kafka_values_are_not_interpreted) {
    set_ok("kafka.anything.at.all", "");
    set_ok("kafka.linger.ms", "not a number");
    cr_assert_eq(cfg.n_kafka, 2);
    cr_assert_str_eq(cfg.kafka[0].value, "");
    cr_assert_str_eq(cfg.kafka[1].value, "not a number");
}

Test(config, kafka_prefix_alone_is_an_error) {
    set_fails("kafka.", "x", "expected a librdkafka property");
    cr_assert_eq(cfg.n_kafka, 0);
}

/* ---------------------------------------------------------------- files */

Test(config, properties_file_with_comments_blanks_and_crlf) {
    const char *path =
        write_temp("\xEF\xBB\xBF# repute configuration\r\n"
                   "\r\n"
                   "! another comment style\r\n"
                   "   # indented comment\n"
                   "bounce.review.rate = 0.03\r\n"
                   "bounce.pause.rate=0.2\n"
                   "review.period: 3d\r\n"
                   "  clock   event  \r\n"
                   "\t\n"
                   "report.SPAMTRAP.threshold = 4   \n"
                   "kafka.bootstrap.servers = localhost:9092\r\n"
                   "http.listen = [::1]:8080\n"
                   "review.period = 5d\n"
                   "log.level = warn"); /* no newline at the end */
    cr_assert_eq(rp_config_load_file(&cfg, path, err, sizeof(err)), 0, "%s",
                 err);
    unlink(path);
    cr_assert_eq(cfg.bounce_review_rate, 0.03);
    cr_assert_eq(cfg.bounce_pause_rate, 0.2);
    cr_assert_eq(cfg.review_period, 5 * RP_MS_PER_DAY); /* later line wins */
    cr_assert_eq(cfg.clock, RP_CLOCK_EVENT);
    cr_assert_eq(cfg.clock_set, true);
    cr_assert_eq(cfg.report_threshold[RP_ISSUE_SPAMTRAP], 4);
    cr_assert_eq(cfg.n_kafka, 1);
    cr_assert_str_eq(cfg.kafka[0].key, "bootstrap.servers");
    cr_assert_str_eq(cfg.kafka[0].value, "localhost:9092");
    cr_assert_str_eq(cfg.http_listen, "[::1]:8080");
    cr_assert_str_eq(cfg.log_level, "warn");
}

Test(config, empty_file_changes_nothing) {
    const char *path = write_temp("");
    cr_assert_eq(rp_config_load_file(&cfg, path, err, sizeof(err)), 0, "%s",
                 err);
    unlink(path);
    cr_assert_eq(cfg.review_period, 7 * RP_MS_PER_DAY);
}

Test(config, file_error_gives_file_line_and_key) {
    const char *path = write_temp("# comment\n"
                                  "\n"
                                  "review.period = 7d\r\n"
                                  "window.min.span = 24\r\n"
                                  "clock = event\n");
    cr_assert_eq(rp_config_load_file(&cfg, path, err, sizeof(err)), RP_EINVAL);
    char want[512];
    snprintf(want, sizeof(want),
             "%s:4: window.min.span: expected a duration like 500ms, 30s, "
             "15m, 24h or 7d, got \"24\"",
             path);
    unlink(path);
    cr_assert_str_eq(err, want);
}

Test(config, file_unknown_key_line) {
    const char *path = write_temp("clock = event\nfoo.bar = 1\n");
    cr_assert_eq(rp_config_load_file(&cfg, path, err, sizeof(err)), RP_EINVAL);
    char want[512];
    snprintf(want, sizeof(want), "%s:2: foo.bar: unknown key", path);
    unlink(path);
    cr_assert_str_eq(err, want);
}

Test(config, file_line_without_key) {
    const char *path = write_temp("clock = event\n = 5\n");
    cr_assert_eq(rp_config_load_file(&cfg, path, err, sizeof(err)), RP_EINVAL);
    unlink(path);
    cr_assert(strstr(err, ":2: expected key = value"), "%s", err);
}

Test(config, file_continued_line_is_refused) {
    const char *path = write_temp("kafka.bootstrap.servers = a:9092,\\\n"
                                  "    b:9092\n");
    cr_assert_eq(rp_config_load_file(&cfg, path, err, sizeof(err)), RP_EINVAL);
    unlink(path);
    cr_assert(strstr(err, ":1: "), "%s", err);
    cr_assert(strstr(err, "backslash"), "%s", err);
}

Test(config, file_inline_comment_is_part_of_the_value) {
    const char *path = write_temp("review.period = 7d # one week\n");
    cr_assert_eq(rp_config_load_file(&cfg, path, err, sizeof(err)), RP_EINVAL);
    unlink(path);
    cr_assert(strstr(err, ":1: review.period: expected a duration"), "%s", err);
}

Test(config, missing_file) {
    cr_assert_eq(rp_config_load_file(&cfg, "/nonexistent/repute.properties",
                                     err, sizeof(err)),
                 RP_EIO);
    cr_assert(strstr(err, "/nonexistent/repute.properties: cannot open"), "%s",
              err);
}

Test(config, set_pairs_override_the_file) {
    const char *path = write_temp("review.period = 3d\n"
                                  "kafka.bootstrap.servers = file:9092\n"
                                  "log.level = error\n");
    cr_assert_eq(rp_config_load_file(&cfg, path, err, sizeof(err)), 0, "%s",
                 err);
    unlink(path);
    cr_assert_eq(rp_config_set_pair(&cfg, "review.period=1d", err, sizeof(err)),
                 0);
    cr_assert_eq(rp_config_set_pair(&cfg, "kafka.bootstrap.servers=cli:9092",
                                    err, sizeof(err)),
                 0);
    cr_assert_eq(cfg.review_period, RP_MS_PER_DAY);
    cr_assert_eq(cfg.n_kafka, 1);
    cr_assert_str_eq(cfg.kafka[0].value, "cli:9092");
    cr_assert_str_eq(cfg.log_level, "error"); /* from the file */
}

Test(config, sample_properties_file_loads_and_validates) {
    cr_assert_eq(
        rp_config_load_file(&cfg, REPUTE_SOURCE_DIR "/deploy/repute.properties",
                            err, sizeof(err)),
        0, "%s", err);
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
    /* The sample lists the defaults; loading it changes no key. */
    rp_config fresh;
    cr_assert_eq(rp_config_init(&fresh), 0);
    char *a = dump(&cfg), *b = dump(&fresh);
    /* Compare the keys that are not kafka.*: everything up to the first
     * kafka line. */
    char *ka = strstr(a, "\nkafka."), *kb = strstr(b, "\nkafka.");
    if (ka)
        ka[1] = '\0';
    if (kb)
        kb[1] = '\0';
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    rp_config_destroy(&fresh);
}

Test(config, sample_file_and_docs_list_every_key_with_its_default) {
    char *sample = slurp(REPUTE_SOURCE_DIR "/deploy/repute.properties");
    char *docs = slurp(REPUTE_SOURCE_DIR "/docs/configuration.md");
    char *text = dump(&cfg);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        /* The sample holds each default, commented out or not. */
        char commented[256], active[256];
        snprintf(commented, sizeof(commented), "\n#%s\n", line);
        snprintf(active, sizeof(active), "\n%s\n", line);
        /* A secret's value is dumped as stars (http.tls.key.location):
         * the sample shows its default instead. */
        char *stars = strstr(line, " = ********");
        if (stars && stars[11] == '\0')
            snprintf(commented, sizeof(commented),
                     "\n#%.*s = ", (int)(stars - line), line);
        cr_assert(strstr(sample, commented) || strstr(sample, active),
                  "deploy/repute.properties lacks \"%s\"", line);
        /* The reference names each key (report keys as report.KIND.*); a
         * key that follows another while unset is dumped as a comment. */
        char key[128];
        const char *k = strncmp(line, "# ", 2) == 0 ? line + 2 : line;
        snprintf(key, sizeof(key), "`%.*s`", (int)strcspn(k, " "), k);
        if (strncmp(line, "report.", 7) == 0 &&
            strcmp(key, "`report.window`") != 0)
            continue;
        cr_assert(strstr(docs, key), "docs/configuration.md lacks %s", key);
    }
    free(text);
    free(sample);
    free(docs);
}

/* ---------------------------------------------------------------- dump */

Test(config, dump_of_defaults) {
    char *text = dump(&cfg);
    static const char *const lines[] = {
        "bounce.review.rate = 0.05\n",
        "bounce.pause.rate = 0.1\n",
        "complaint.review.rate = 0.001\n",
        "window.min.span = 24h\n",
        "window.max.span = 90d\n",
        "review.period = 7d\n",
        "pause.immediate = false\n",
        "report.SPAMTRAP.threshold = 3\n",
        "report.OTHER.manual = true\n",
        "dedupe.horizon = 1h\n",
        "dedupe.max.entries = 10000000\n",
        "clock = wall\n",
        "processing.guarantee = exactly_once\n",
        "avro.schema.id.status = 0\n",
        "topic.changelog = repute.changelog\n",
        "topic.current = repute.current\n",
        "avro.schema.id.current = 0\n",
        "max.task.idle = 500ms\n",
        "input.max.future = 24h\n",
        "http.listen = 127.0.0.1:8080\n",
        "http.auth.tokens.file = none\n",
        "http.auth.metrics = true\n",
        "http.tls.cert.location = none\n",
        "http.tls.key.location = ********\n", /* "key": a secret */
        "http.allow.plaintext = false\n",
        "http.actions.timeout = 10s\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        cr_assert(strstr(text, lines[i]), "missing %s", lines[i]);
    /* 59 single keys and 2 x 12 report keys, one line each (the four
     * tenant rates as comments: they follow the account's while unset). */
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    cr_assert_eq(n, 59 + 24);
    /* Stable order: section 8's order, the report keys after
     * report.window. */
    cr_assert_eq(strncmp(text, "bounce.review.rate = ", 21), 0);
    cr_assert(strstr(text, "report.window") <
              strstr(text, "report.ANTI_SPAM_ORGANIZATION.threshold"));
    free(text);
}

Test(config, dump_reads_back_as_the_same_config) {
    set_ok("complaint.review.rate", "0.0001");
    set_ok("window.min.span", "90m");
    set_ok("max.task.idle", "1500ms");
    set_ok("dedupe.horizon", "0s");
    set_ok("report.VULNERABLE_SITE.manual", "false");
    set_ok("clock", "event");
    set_ok("topic.status", "out");
    set_ok("kafka.bootstrap.servers", "h:1");
    set_ok("kafka.acks", "all");
    char *first = dump(&cfg);
    const char *path = write_temp(first);
    rp_config again;
    cr_assert_eq(rp_config_init(&again), 0);
    cr_assert_eq(rp_config_load_file(&again, path, err, sizeof(err)), 0, "%s",
                 err);
    unlink(path);
    char *second = dump(&again);
    cr_assert_str_eq(first, second);
    cr_assert(strstr(first, "window.min.span = 90m\n"));
    cr_assert(strstr(first, "max.task.idle = 1500ms\n"));
    cr_assert(
        strstr(first, "kafka.bootstrap.servers = h:1\nkafka.acks = all\n"));
    free(first);
    free(second);
    rp_config_destroy(&again);
}

Test(config, dump_hides_kafka_secrets) {
    set_ok("kafka.sasl.password", "hunter2");
    set_ok("kafka.sasl.username", "repute");
    char *text = dump(&cfg);
    cr_assert(strstr(text, "kafka.sasl.password = ********\n"), "%s", text);
    cr_assert(strstr(text, "kafka.sasl.username = repute\n"), "%s", text);
    cr_assert_null(strstr(text, "hunter2"));
    free(text);
}

/* Every key whose name holds "password", "secret" or "key", in any case, is
 * a secret, and so is sasl.oauthbearer.config (it may carry a client
 * secret); the values of the others are shown as they are. */
Test(config, dump_hides_every_secret_key) {
    static const char *const secret[] = {
        "kafka.sasl.password",
        "kafka.ssl.key.password",
        "kafka.ssl.key.pem",
        "kafka.ssl.keystore.key",
        "kafka.ssl.keystore.password",
        "kafka.ssl.certificate.pem.key",
        "kafka.sasl.oauthbearer.client.secret",
        "kafka.sasl.oauthbearer.config",
        "kafka.Sasl.PassWord",
        "kafka.SSL.KEY.PEM",
    };
    size_t n = sizeof(secret) / sizeof(secret[0]);
    char value[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(value, sizeof(value), "s3cr3t-%zu", i);
        set_ok(secret[i], value);
    }
    set_ok("kafka.ssl.ca.location", "/etc/ssl/ca.pem");
    set_ok("kafka.security.protocol", "SASL_SSL");
    char *text = dump(&cfg);
    for (size_t i = 0; i < n; i++) {
        char line[128];
        snprintf(line, sizeof(line), "%s = ********\n", secret[i]);
        cr_assert(strstr(text, line), "no \"%s\" in:\n%s", line, text);
    }
    cr_assert_null(strstr(text, "s3cr3t"), "a secret in the dump:\n%s", text);
    cr_assert(strstr(text, "kafka.ssl.ca.location = /etc/ssl/ca.pem\n"));
    cr_assert(strstr(text, "kafka.security.protocol = SASL_SSL\n"));
    free(text);
}

/* An error message may be logged: a pair that names a secret is not
 * quoted back, while any other bad pair is. */
Test(config, errors_do_not_quote_secrets) {
    cr_assert_eq(rp_config_set_pair(&cfg, "kafka.sasl.password:hunter2", err,
                                    sizeof(err)),
                 RP_EINVAL);
    cr_assert(strstr(err, "expected key=value"), "%s", err);
    cr_assert_null(strstr(err, "hunter2"), "%s", err);
    cr_assert_eq(
        rp_config_set_pair(&cfg, "kafka.ssl.key.pem", err, sizeof(err)),
        RP_EINVAL);
    cr_assert(strstr(err, "not shown"), "%s", err);
    cr_assert_eq(
        rp_config_set_pair(&cfg, "kafka.client.id:repute", err, sizeof(err)),
        RP_EINVAL);
    cr_assert(strstr(err, "kafka.client.id:repute"), "%s", err);
}

/* The HTTP server (dashboard, metrics, API) listens on loopback unless
 * told otherwise: it has no authentication of its own. */
Test(config, http_listens_on_loopback_by_default) {
    cr_assert_eq(strncmp(cfg.http_listen, "127.0.0.1:", 10), 0, "%s",
                 cfg.http_listen);
    char *text = dump(&cfg);
    cr_assert(strstr(text, "\nhttp.listen = 127.0.0.1:8080\n"), "%s", text);
    free(text);
}

/* ---------------------------------------------------------------- validate */

/* Sets key = value, then expects validate to fail naming want_key. */
static void validate_fails(const char *key, const char *value,
                           const char *want_key, const char *needle) {
    set_ok(key, value);
    err[0] = '\0';
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), RP_EINVAL,
                 "%s = %s passed validation", key, value);
    cr_assert_eq(strncmp(err, want_key, strlen(want_key)), 0, "%s", err);
    cr_assert_eq(err[strlen(want_key)], ':', "%s", err);
    cr_assert(strstr(err, needle), "expected \"%s\" in: %s", needle, err);
}

Test(config, validate_bounce_review_above_pause) {
    validate_fails("bounce.review.rate", "0.2", "bounce.review.rate",
                   "bounce.pause.rate (0.2 > 0.1)");
}

Test(config, validate_complaint_review_above_pause) {
    validate_fails("complaint.pause.rate", "0.0005", "complaint.review.rate",
                   "complaint.pause.rate");
}

Test(config, validate_equal_review_and_pause_rates_pass) {
    set_ok("bounce.review.rate", "0.1");
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
}

Test(config, validate_min_span_above_max_span) {
    validate_fails("window.min.span", "91d", "window.min.span",
                   "window.max.span (91d > 90d)");
}

Test(config, validate_max_span_at_least_an_hour) {
    set_ok("window.min.span", "0s");
    validate_fails("window.max.span", "59m", "window.max.span", "at least 1h");
    set_ok("window.max.span", "1h");
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
}

Test(config, validate_review_period_positive) {
    validate_fails("review.period", "0s", "review.period", "longer than 0");
}

Test(config, validate_report_window_positive) {
    validate_fails("report.window", "0d", "report.window", "longer than 0");
}

Test(config, validate_commit_interval_positive) {
    validate_fails("commit.interval", "0ms", "commit.interval",
                   "longer than 0");
}

Test(config, validate_dedupe_horizon_zero_is_fine) {
    set_ok("dedupe.horizon", "0s");
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
}

Test(config, validate_topics_differ) {
    validate_fails("topic.status", "repute.deliveries", "topic.status",
                   "topic.deliveries");
}

Test(config, validate_values_set_by_code) {
    cfg.dedupe_horizon = -1;
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), RP_EINVAL);
    cr_assert_eq(strncmp(err, "dedupe.horizon: ", 16), 0, "%s", err);
    cfg.dedupe_horizon = 0;
    cfg.report_threshold[RP_ISSUE_LISTBOMBING] = 0;
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), RP_EINVAL);
    cr_assert_eq(strncmp(err, "report.LISTBOMBING.threshold: ", 30), 0, "%s",
                 err);
    cfg.report_threshold[RP_ISSUE_LISTBOMBING] = 1;
    cfg.bounce_pause_rate = 1.5;
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), RP_EINVAL);
    cr_assert_eq(strncmp(err, "bounce.pause.rate: ", 19), 0, "%s", err);
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

/* ---------------------------------------------------------------- tenants */

Test(config, tenant_defaults_follow_the_account) {
    cr_assert_eq(cfg.tenant_bounce_review_rate, 0.05);
    cr_assert_eq(cfg.tenant_bounce_pause_rate, 0.10);
    cr_assert_eq(cfg.tenant_complaint_review_rate, 0.001);
    cr_assert_eq(cfg.tenant_complaint_pause_rate, 0.005);
    cr_assert_eq(cfg.tenant_max_per_account, 1000);
    cr_assert_not(cfg.tenant_bounce_review_rate_set);
    /* An account rate set later is followed, by set and by validate. */
    set_ok("bounce.review.rate", "0.03");
    set_ok("complaint.pause.rate", "0.02");
    cr_assert_eq(cfg.tenant_bounce_review_rate, 0.03);
    cr_assert_eq(cfg.tenant_complaint_pause_rate, 0.02);
    cfg.bounce_pause_rate = 0.2; /* filled by code, not set */
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.tenant_bounce_pause_rate, 0.2);
}

Test(config, tenant_rates_set_are_kept) {
    set_ok("tenant.bounce.review.rate", "0.02");
    set_ok("bounce.review.rate", "0.04");
    cr_assert_eq(cfg.tenant_bounce_review_rate, 0.02);
    cr_assert(cfg.tenant_bounce_review_rate_set);
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.tenant_bounce_review_rate, 0.02);
    cr_assert_eq(cfg.bounce_review_rate, 0.04);
    /* The others still follow. */
    cr_assert_eq(cfg.tenant_bounce_pause_rate, 0.10);
    set_fails("tenant.complaint.pause.rate", "1.5", "rate between 0 and 1");
    set_fails("tenant.max.per.account", "0", "must be at least 1");
    set_fails("tenant.max.per.account", "2147483648", "must be at most");
    set_ok("tenant.max.per.account", "1");
    cr_assert_eq(cfg.tenant_max_per_account, 1);
}

Test(config, tenant_review_above_pause_is_refused) {
    /* The pause rate it is held to is the account's, which it follows. */
    set_ok("tenant.bounce.review.rate", "0.2");
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), RP_EINVAL);
    cr_assert_str_eq(err, "tenant.bounce.review.rate: must not be above "
                          "tenant.bounce.pause.rate (0.2 > 0.1, "
                          "tenant.bounce.pause.rate unset: bounce.pause.rate)");
    set_ok("tenant.bounce.pause.rate", "0.3");
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
    /* Both set: no word about inheritance. */
    set_ok("tenant.complaint.review.rate", "0.01");
    set_ok("tenant.complaint.pause.rate", "0.009");
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), RP_EINVAL);
    cr_assert_str_eq(err, "tenant.complaint.review.rate: must not be above "
                          "tenant.complaint.pause.rate (0.01 > 0.009)");
    /* Equal is allowed, as for the account. */
    set_ok("tenant.complaint.pause.rate", "0.01");
    cr_assert_eq(rp_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
}

Test(config, tenant_rates_in_the_dump) {
    set_ok("complaint.review.rate", "0.002");
    set_ok("tenant.bounce.pause.rate", "0.15");
    char *text = dump(&cfg);
    cr_assert(strstr(text, "\n# tenant.bounce.review.rate = 0.05 (unset: "
                           "bounce.review.rate)\n"),
              "%s", text);
    cr_assert(strstr(text, "\ntenant.bounce.pause.rate = 0.15\n"), "%s", text);
    cr_assert(strstr(text, "\n# tenant.complaint.review.rate = 0.002 (unset: "
                           "complaint.review.rate)\n"),
              "%s", text);
    cr_assert(strstr(text, "\ntenant.max.per.account = 1000\n"), "%s", text);
    /* Read back, the unset ones still follow the account's. */
    const char *path = write_temp(text);
    rp_config again;
    cr_assert_eq(rp_config_init(&again), 0);
    cr_assert_eq(rp_config_load_file(&again, path, err, sizeof(err)), 0, "%s",
                 err);
    unlink(path);
    cr_assert_not(again.tenant_complaint_review_rate_set);
    cr_assert(again.tenant_bounce_pause_rate_set);
    cr_assert_eq(rp_config_set(&again, "complaint.review.rate", "0.0025", err,
                               sizeof(err)),
                 0);
    cr_assert_eq(again.tenant_complaint_review_rate, 0.0025);
    cr_assert_eq(again.tenant_bounce_pause_rate, 0.15);
    char *back = dump(&again);
    cr_assert(strstr(back, "# tenant.complaint.review.rate = 0.0025 (unset: "
                           "complaint.review.rate)\n"),
              "%s", back);
    free(back);
    free(text);
    rp_config_destroy(&again);
}

Test(config, history_max_entries) {
    cr_assert_eq(cfg.history_max_entries, 32);
    set_ok("history.max.entries", "0");
    set_ok("history.max.entries", "1024");
    cr_assert_eq(cfg.history_max_entries, 1024);
    set_fails("history.max.entries", "1025", "must be at most");
    set_fails("history.max.entries", "-1", ">= 0");
}
