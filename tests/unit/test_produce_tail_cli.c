/*
 * test_produce_tail_cli.c - `repute produce` and `repute tail` without a
 * broker.
 *
 * Everything these commands do with Kafka is covered by the integration
 * tests, which start one. What is left to test here is what happens before
 * a broker is ever contacted: help, usage errors, configuration errors
 * (the message must name the key at fault) and produce's handling of lines
 * that never become records (malformed lines, ticks, blank lines), which
 * needs a bootstrap address but no broker behind it.
 *
 * The tests run the built binary (REPUTE_BINARY) as a user would, with
 * standard input from a temporary file and standard output and error sent
 * to temporary files, read back once the process has exited. A run that
 * would wait for a broker is a bug here, so a run that has not exited
 * after 60 s is killed and fails its test.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* An address where nothing listens: no test may depend on a broker. */
#define NO_BROKER "kafka.bootstrap.servers=127.0.0.1:1"

/* ---------------------------------------------------------------- running */

/* Runs each case and expects exit status 2 with a message on stderr that
 * contains `needle` (when not NULL) and nothing on stdout. */
static void expect_usage(const char *const *const *cases, size_t n,
                         const char *needle) {
    for (size_t i = 0; i < n; i++) {
        run_result r = run(cases[i], "");
        cr_expect_eq(r.status, 2, "case %zu (%s %s): status %d: %s", i,
                     cases[i][0], cases[i][1] ? cases[i][1] : "", r.status,
                     r.err);
        cr_expect_neq(r.err[0], '\0', "case %zu", i);
        cr_expect_str_eq(r.out, "", "case %zu", i);
        if (needle)
            cr_expect_not_null(strstr(r.err, needle), "case %zu: %s", i, r.err);
        run_free(&r);
    }
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- help */

Test(produce_tail, help_exits_0) {
    run_result r = run(ARGS("produce", "--help"), NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, "usage: repute produce"));
    cr_expect_not_null(strstr(r.out, "--topic T"));
    cr_expect_not_null(strstr(r.out, "kafka.partitioner"), "%s", r.out);
    cr_expect_null(strstr(r.out, "not in this build"));
    run_free(&r);

    r = run(ARGS("tail", "-h"), NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, "usage: repute tail"));
    cr_expect_not_null(strstr(r.out, "--from-beginning"));
    cr_expect_not_null(strstr(r.out, "--idle-exit D"));
    cr_expect_null(strstr(r.out, "not in this build"));
    run_free(&r);

    r = run(ARGS("help", "tail"), NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_not_null(strstr(r.out, "usage: repute tail"));
    run_free(&r);

    r = run(ARGS("--help"), NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_null(strstr(r.out, "not in this build"), "%s", r.out);
    run_free(&r);
}

/* ---------------------------------------------------------------- usage */

Test(produce_tail, bad_options_exit_2) {
    const char *const *cases[] = {
        ARGS("produce", "--frobnicate"),
        ARGS("produce", "-x"),
        ARGS("produce", "--topic"),
        ARGS("produce", "--topic", ""),
        ARGS("produce", "--config"),
        ARGS("produce", "a.jsonl", "b.jsonl"),
        ARGS("tail", "--frobnicate"),
        ARGS("tail", "--max"),
        ARGS("tail", "--max", "0"),
        ARGS("tail", "--max", "-3"),
        ARGS("tail", "--max", "ten"),
        ARGS("tail", "--max", "10x"),
        ARGS("tail", "--idle-exit"),
        ARGS("tail", "--idle-exit", "5x"),
        ARGS("tail", "--idle-exit", "0s"),
        ARGS("tail", "--set"),
        ARGS("tail", "extra-argument"),
    };
    expect_usage(cases, N(cases), "repute ");
}

Test(produce_tail, bad_option_values_are_named) {
    const char *const *max[] = {ARGS("tail", "--max", "ten")};
    expect_usage(max, 1, "--max ten");
    const char *const *idle[] = {ARGS("tail", "--idle-exit", "soon")};
    expect_usage(idle, 1, "--idle-exit soon");
}

/* ---------------------------------------------------------------- config */

Test(produce_tail, missing_bootstrap_exits_2) {
    const char *const *cases[] = {
        ARGS("produce"),
        ARGS("produce", "--topic", "t"),
        ARGS("tail"),
        ARGS("tail", "--from-beginning", "--idle-exit", "1s"),
    };
    expect_usage(cases, N(cases), "kafka.bootstrap.servers");
}

Test(produce_tail, bad_set_key_exits_2) {
    const char *const *cases[] = {
        ARGS("produce", "--set", NO_BROKER, "--set", "no.such.key=1"),
        ARGS("tail", "--set", NO_BROKER, "--set", "no.such.key=1"),
    };
    expect_usage(cases, N(cases), "no.such.key");
}

Test(produce_tail, bad_set_value_exits_2) {
    const char *const *cases[] = {
        ARGS("produce", "--set", NO_BROKER, "--set", "framing=xml"),
        ARGS("tail", "--set", NO_BROKER, "--set", "framing=xml"),
    };
    expect_usage(cases, N(cases), "framing");
}

Test(produce_tail, set_without_equals_exits_2) {
    const char *const *cases[] = {
        ARGS("produce", "--set", NO_BROKER, "--set", "framing"),
        ARGS("tail", "--set", NO_BROKER, "--set", "framing"),
    };
    expect_usage(cases, N(cases), "KEY=VALUE");
}

/* librdkafka refuses the property before any connection is tried. */
Test(produce_tail, bad_kafka_key_exits_2) {
    const char *const *cases[] = {
        ARGS("produce", "--set", NO_BROKER, "--set", "kafka.no.such=1"),
        ARGS("tail", "--set", NO_BROKER, "--set", "kafka.no.such=1"),
    };
    expect_usage(cases, N(cases), "kafka.no.such");
}

Test(produce_tail, missing_config_file_exits_2) {
    const char *const *cases[] = {
        ARGS("produce", "--config", "/nonexistent/repute.properties"),
        ARGS("tail", "--config", "/nonexistent/repute.properties"),
    };
    expect_usage(cases, N(cases), "/nonexistent/repute.properties");
}

Test(produce_tail, unreadable_input_exits_2) {
    const char *const *cases[] = {
        ARGS("produce", "--set", NO_BROKER, "/nonexistent/input.jsonl"),
    };
    expect_usage(cases, N(cases), "/nonexistent/input.jsonl");
}

/* ---------------------------------------------------------------- lines */

/* Nothing here becomes a record, so nothing is sent and no broker is
 * needed: malformed lines are reported by number, ticks are skipped with
 * one notice, blank lines silently. */
Test(produce_tail, lines_that_are_not_records) {
    const char input[] = "{\"type\":\"tick\",\"time\":5}\n"
                         "\n"
                         "not json\n"
                         "{\"type\":\"tick\",\"time\":6}\n"
                         "{\"type\":\"bounce\",\"event_id\":\"b1\","
                         "\"account_id\":\"a\",\"event_time\":2000,"
                         "\"bounce_type\":\"HARD\","
                         "\"bounce_subtype\":\"GENERAL\"}\n";
    run_result r = run(ARGS("produce", "--set", NO_BROKER), input);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect_str_eq(r.out, "");
    cr_expect_not_null(strstr(r.err, "repute produce: line 3: "), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "repute produce: line 5: bounce_type"),
                       "%s", r.err);
    /* The tick notice is given once, at the first tick. */
    const char *tick = strstr(r.err, "repute produce: line 1: tick");
    cr_expect_not_null(tick, "%s", r.err);
    cr_expect_null(strstr(r.err, "line 4:"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "repute produce: 0 records sent\n"), "%s",
                       r.err);
    cr_expect_not_null(strstr(r.err, "2 malformed lines skipped"), "%s", r.err);
    run_free(&r);
}

Test(produce_tail, empty_input_sends_nothing) {
    run_result r = run(ARGS("produce", "--set", NO_BROKER, "-"), "");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "repute produce: 0 records sent\n"), "%s",
                       r.err);
    run_free(&r);
}
