/*
 * test_config_files.c - the properties files and the kafka.* passthrough
 * of the configuration (src/config/).
 *
 * kafka.* pairs keep their order and are not interpreted; the
 * properties-file subset (comments, blank lines, CRLF, line numbers and
 * keys in errors, no continued lines) is read, --set overrides a file, and
 * the sample deploy/repute.properties and docs/configuration.md list every
 * key with its default. The helpers are config_support.h's.
 */
#include "config_support.h"

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
