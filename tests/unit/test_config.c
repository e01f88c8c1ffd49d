/*
 * test_config.c - the configuration keys of docs/rules.md section 8.
 *
 * Holds rp_config to its defaults, to the parsing of every type of value,
 * to its dump (every key, in a stable order, secrets hidden, read back as
 * the same configuration) and to the tenant rates that follow the
 * account's. What it refuses is test_config_errors.c's, the properties
 * files test_config_files.c's and rp_config_validate's checks
 * test_config_validate.c's; the helpers are config_support.h's.
 */
#include "config_support.h"

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
