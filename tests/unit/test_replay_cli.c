/*
 * test_replay_cli.c - `repute replay` and the command line, end to end.
 *
 * These tests run the built binary (REPUTE_BINARY) as a user would: each
 * run gets its standard input from a temporary file and sends standard
 * output and standard error to temporary files, read back once the
 * process has exited, so that no pipe can fill up and block the test. The
 * inputs are small JSON-lines streams written to show one behaviour each:
 * exit statuses, the line numbers of malformed lines, configuration
 * errors, standard input, the related-account reports that replay applies
 * right after the line that caused them, and the bundled example of the
 * README.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "repute/record.h"

/* ---------------------------------------------------------------- running */

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The n-th line (0-based) of s, in a static buffer. */
static const char *nth_line(const char *s, size_t n) {
    static char buf[16384];
    for (; n > 0 && s; n--) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s || !*s)
        return "";
    size_t len = strcspn(s, "\n");
    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

/* ---------------------------------------------------------------- inputs */

/* A report of a manual kind (threshold 1) starts a review at once: one
 * STATUS_CHANGE and one NOTIFICATION. */
#define LINE_REPORT(account, id, time)                                         \
    "{\"type\":\"report\",\"event_id\":\"" id "\",\"account_id\":\"" account   \
    "\",\"event_time\":" #time ",\"kind\":\"OTHER\"}\n"

static const char good_input[] =
    "{\"type\":\"delivery\",\"event_id\":\"d1\",\"account_id\":\"acme\","
    "\"event_time\":\"2026-01-01T00:00:00Z\"}\n"
    "\n" LINE_REPORT(
        "acme", "r1",
        1767225601000) "{\"type\":\"tick\",\"time\":1767312000000}\n";

/* ---------------------------------------------------------------- replay */

Test(replay, good_input_exits_0) {
    run_result r = run(ARGS("replay"), good_input);
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.err, "");
    cr_assert_eq(count_lines(r.out), 2, "%s", r.out);
    cr_expect_not_null(strstr(
        nth_line(r.out, 0), "{\"event_id\":\"acme:1\",\"account_id\":\"acme\","
                            "\"sequence\":1,\"event_time\":1767225601000,"
                            "\"kind\":\"STATUS_CHANGE\""));
    cr_expect_not_null(strstr(
        nth_line(r.out, 1), "\"kind\":\"NOTIFICATION\",\"status_change\":null,"
                            "\"notification\":{\"issue\":\"OTHER\","
                            "\"stage\":\"REVIEW_STARTED\""));
    run_free(&r);
}

Test(replay, file_and_stdin_give_the_same_output) {
    char *path = temp_path();
    write_file(path, good_input);
    run_result f = run(ARGS("replay", path), NULL);
    run_result dash = run(ARGS("replay", "-"), good_input);
    run_result none = run(ARGS("replay"), good_input);
    cr_expect_eq(f.status, 0, "%s", f.err);
    cr_expect_eq(dash.status, 0, "%s", dash.err);
    cr_expect_neq(f.out[0], '\0');
    cr_expect_str_eq(dash.out, f.out);
    cr_expect_str_eq(none.out, f.out);
    run_free(&f);
    run_free(&dash);
    run_free(&none);
    unlink(path);
    free(path);
}

Test(replay, bad_line_is_reported_and_skipped) {
    const char input[] = LINE_REPORT(
        "a", "r1",
        1000) "{\"type\":\"bounce\",\"event_id\":\"b1\",\"account_id\":\"a\","
              "\"event_time\":2000,\"bounce_type\":\"HARD\","
              "\"bounce_subtype\":\"GENERAL\"}\n"
              "not json at all\n" LINE_REPORT("b", "r2", 3000);
    run_result r = run(ARGS("replay"), input);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(
        strstr(r.err, "repute replay: line 2: bounce_type: unknown symbol "
                      "\"HARD\"\n"),
        "%s", r.err);
    cr_expect_not_null(strstr(r.err, "repute replay: line 3: not valid JSON"),
                       "%s", r.err);
    /* The lines around the bad ones were applied. */
    cr_assert_eq(count_lines(r.out), 4, "%s", r.out);
    cr_expect_not_null(strstr(nth_line(r.out, 0), "\"event_id\":\"a:1\""));
    cr_expect_not_null(strstr(nth_line(r.out, 2), "\"event_id\":\"b:1\""));
    run_free(&r);
}

Test(replay, contract_errors_are_bad_lines) {
    const char input[] =
        "{\"type\":\"report\",\"event_id\":\"r\",\"account_id\":\"\","
        "\"event_time\":1,\"kind\":\"OTHER\"}\n"
        "{\"type\":\"report\",\"event_id\":\"r\",\"account_id\":\"a\","
        "\"event_time\":1,\"kind\":\"OTHER\",\"incidents\":0}\n"
        "{\"type\":\"tick\"}\n";
    run_result r = run(ARGS("replay"), input);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.err, "line 1: account_id"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "line 2: incidents"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "line 3: time: missing"), "%s", r.err);
    cr_expect_str_eq(r.out, "");
    run_free(&r);
}

/* A tenant that breaks the contract (docs/rules.md section 10) makes a
 * malformed line, named with the reason; a good one is accepted. */
Test(replay, bad_tenants_are_bad_lines) {
    const char input[] =
        "{\"type\":\"report\",\"event_id\":\"r1\",\"account_id\":\"a\","
        "\"event_time\":1,\"kind\":\"OTHER\",\"tenant\":\"\"}\n"
        "{\"type\":\"report\",\"event_id\":\"r2\",\"account_id\":\"a\","
        "\"event_time\":1,\"kind\":\"OTHER\",\"tenant\":7}\n"
        "{\"type\":\"delivery\",\"event_id\":\"d1\",\"account_id\":\"a\","
        "\"event_time\":2,\"tenant\":\"brand-\\u00e9\"}\n"
        "{\"type\":\"action\",\"event_id\":\"x1\",\"account_id\":\"a\","
        "\"event_time\":3,\"action\":\"END_REVIEW\",\"actor\":5}\n";
    run_result r = run(ARGS("replay"), input);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.err, "repute replay: line 1: tenant is empty"),
                       "%s", r.err);
    cr_expect_not_null(strstr(r.err, "line 2: tenant: expected a string"), "%s",
                       r.err);
    cr_expect_null(strstr(r.err, "line 3"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "line 4: actor: expected a string"), "%s",
                       r.err);
    cr_expect_str_eq(r.out, "");
    run_free(&r);
}

Test(replay, related_reports_follow_their_cause) {
    /* acme links to acme-eu, is put under review and paused by hand: the
     * pause gives acme-eu a RELATED_ACCOUNT report, applied before the
     * next line (the report of zeta). */
    const char input[] =
        "{\"type\":\"action\",\"event_id\":\"a1\",\"account_id\":\"acme\","
        "\"event_time\":1000,\"action\":\"LINK_ACCOUNT\","
        "\"related_account_id\":\"acme-eu\"}\n" LINE_REPORT(
            "acme", "r1",
            2000) "{\"type\":\"action\",\"event_id\":\"a2\",\"account_id\":"
                  "\"acme\","
                  "\"event_time\":3000,\"action\":\"PAUSE_SENDING\","
                  "\"issue\":\"OTHER\"}\n" LINE_REPORT("zeta", "r2", 4000);
    run_result r = run(ARGS("replay"), input);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(count_lines(r.out), 8, "%s", r.out);
    cr_expect_not_null(strstr(nth_line(r.out, 2), "\"event_id\":\"acme:3\""));
    cr_expect_not_null(strstr(nth_line(r.out, 2), "\"SENDING_PAUSED\""));
    cr_expect_not_null(
        strstr(nth_line(r.out, 4), "\"event_id\":\"acme-eu:1\""));
    cr_expect_not_null(
        strstr(nth_line(r.out, 4), "\"cause\":\"RELATED_ACCOUNT\""));
    cr_expect_not_null(
        strstr(nth_line(r.out, 5), "\"event_id\":\"acme-eu:2\""));
    cr_expect_not_null(strstr(nth_line(r.out, 6), "\"event_id\":\"zeta:1\""));
    run_free(&r);
}

Test(replay, related_reports_wait_for_review_ends_at_their_instant) {
    /* a, b and c have reviews ending at the same instant; a's ends in a
     * pause, which gives b (linked from a) a RELATED_ACCOUNT report at
     * that instant. docs/rules.md section 5: every review end at or before a
     * record's time comes before the record, so b's and c's review ends are
     * processed first, then the report. */
    const char input[] =
        "{\"type\":\"action\",\"event_id\":\"l1\",\"account_id\":\"a\","
        "\"event_time\":0,\"action\":\"LINK_ACCOUNT\","
        "\"related_account_id\":\"b\"}\n"
        "{\"type\":\"report\",\"event_id\":\"r1\",\"account_id\":\"a\","
        "\"event_time\":3600000,\"kind\":\"MAILBOX_PROVIDER\"}\n"
        "{\"type\":\"report\",\"event_id\":\"r2\",\"account_id\":\"a\","
        "\"event_time\":3600000,\"kind\":\"MAILBOX_PROVIDER\"}\n"
        "{\"type\":\"report\",\"event_id\":\"r3\",\"account_id\":\"b\","
        "\"event_time\":3600000,\"kind\":\"DIRECT_FEEDBACK\"}\n"
        "{\"type\":\"report\",\"event_id\":\"r4\",\"account_id\":\"c\","
        "\"event_time\":3600000,\"kind\":\"DIRECT_FEEDBACK\"}\n"
        "{\"type\":\"tick\",\"time\":50000000}\n";
    run_result r = run(ARGS("replay", "--set", "review.period=10h"), input);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(count_lines(r.out), 14, "%s", r.out);
    const char *order[] = {"a:3", "a:4", "b:3", "b:4",
                           "c:3", "c:4", "b:5", "b:6"};
    for (size_t i = 0; i < 8; i++) {
        char want[32];
        snprintf(want, sizeof(want), "\"event_id\":\"%s\"", order[i]);
        cr_expect_not_null(strstr(nth_line(r.out, 6 + i), want),
                           "line %zu should be %s", 6 + i, order[i]);
    }
    cr_expect_not_null(strstr(nth_line(r.out, 9), "\"RESOLVED\""));
    cr_expect_not_null(strstr(nth_line(r.out, 12), "RELATED_ACCOUNT"));
    run_free(&r);
}

Test(replay, blank_input_is_good) {
    run_result r = run(ARGS("replay"), "\n\n   \n");
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.out, "");
    run_free(&r);
}

Test(replay, byte_order_mark_and_crlf) {
    run_result r =
        run(ARGS("replay"), "\xef\xbb\xbf" LINE_REPORT("a", "r", 1) "\r\n");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out), 2);
    run_free(&r);
}

/* A line of 200 kB (JSON whitespace, which has no limit of its own) is
 * read whole; a detail over RP_TEXT_MAX is a bad line that names the
 * field, and the lines after it still count. */
Test(replay, long_lines) {
    size_t pad = 200000;
    char *input = malloc(pad + 512);
    int n = snprintf(input, 256,
                     "{\"type\":\"report\",\"event_id\":\"r\","
                     "\"account_id\":\"a\",\"event_time\":1,");
    memset(input + n, ' ', pad);
    strcpy(input + n + pad, "\"kind\":\"OTHER\",\"detail\":\"d\"}\n");
    run_result r = run(ARGS("replay"), input);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out), 2);
    run_free(&r);

    n = snprintf(input, 256,
                 "{\"type\":\"report\",\"event_id\":\"r\","
                 "\"account_id\":\"a\",\"event_time\":1,"
                 "\"kind\":\"OTHER\",\"detail\":\"");
    memset(input + n, 'x', RP_TEXT_MAX + 1);
    strcpy(input + n + RP_TEXT_MAX + 1, "\"}\n" LINE_REPORT("b", "r2", 2) "\n");
    r = run(ARGS("replay"), input);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "line 1") && strstr(r.err, "detail is"), "%s",
              r.err);
    cr_expect_null(strstr(r.err, "xxxx"), "the reason quotes the text: %s",
                   r.err);
    cr_expect_eq(count_lines(r.out), 2);
    run_free(&r);
    free(input);
}

/* ---------------------------------------------------------------- config */

Test(replay, bad_set_key_exits_2) {
    run_result r =
        run(ARGS("replay", "--set", "bounce.review.ratio=0.1"), good_input);
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "bounce.review.ratio"), "%s", r.err);
    cr_expect_str_eq(r.out, "");
    run_free(&r);
}

Test(replay, bad_set_value_exits_2) {
    run_result r = run(ARGS("replay", "--set", "review.period=soon"), "");
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "review.period"), "%s", r.err);
    run_free(&r);
}

Test(replay, set_without_equals_exits_2) {
    run_result r = run(ARGS("replay", "--set", "window.min.volume"), "");
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "window.min.volume"), "%s", r.err);
    run_free(&r);
}

Test(replay, config_file_then_set) {
    char *path = temp_path();
    write_file(path, "# a comment\nreport.OTHER.threshold = 5\n");
    /* The file raises the threshold: one report starts nothing... */
    run_result r = run(ARGS("replay", "--config", path), good_input);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "");
    run_free(&r);
    /* ...and a --set, even before --config, is applied after the file. */
    r = run(ARGS("replay", "--set=report.OTHER.threshold=1", "--config", path),
            good_input);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count_lines(r.out), 2);
    run_free(&r);
    unlink(path);
    free(path);
}

Test(replay, missing_config_file_exits_2) {
    run_result r =
        run(ARGS("replay", "--config", "/nonexistent/x.properties"), "");
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "/nonexistent/x.properties"), "%s", r.err);
    run_free(&r);
}

Test(replay, clock_wall_is_ignored_with_a_warning) {
    run_result r = run(ARGS("replay", "--set", "clock=wall"), good_input);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "clock=wall is ignored"), "%s", r.err);
    cr_expect_eq(count_lines(r.out), 2);
    run_free(&r);
}

/* ---------------------------------------------------------------- usage */

Test(cli, help_exits_0) {
    run_result r = run(ARGS("--help"), NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_not_null(strstr(r.out, "replay"));
    cr_expect_not_null(strstr(r.out, "produce"));
    cr_expect_not_null(strstr(r.out, "tail"));
    cr_expect_not_null(strstr(r.out, "--config FILE"));
    run_free(&r);
    r = run(ARGS("replay", "--help"), NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_not_null(strstr(r.out, "usage: repute replay"));
    run_free(&r);
    r = run(ARGS("help", "replay"), NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_not_null(strstr(r.out, "usage: repute replay"));
    run_free(&r);
}

Test(cli, version_exits_0) {
    run_result r = run(ARGS("--version"), NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_eq(strncmp(r.out, "repute ", 7), 0, "%s", r.out);
    /* Then the commit and the libraries it runs with, one a line. */
    cr_expect_not_null(strstr(r.out, "\ncommit: "), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "\nlibrdkafka: "), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "\navro-c: "), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "\nlibuv: "), "%s", r.out);
    run_free(&r);
}

Test(cli, usage_errors_exit_2) {
    const char *const *cases[] = {
        ARGS("frobnicate"),         ARGS("replay", "--frobnicate"),
        ARGS("replay", "--config"), ARGS("replay", "a.jsonl", "b.jsonl"),
        ARGS("replay", "-x"),       ARGS("--frobnicate"),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_result r = run(cases[i], "");
        cr_expect_eq(r.status, 2, "case %zu: %s", i, r.err);
        cr_expect_neq(r.err[0], '\0', "case %zu", i);
        run_free(&r);
    }
    run_result r = run((const char *const[]){NULL}, NULL);
    cr_expect_eq(r.status, 2);
    run_free(&r);
}

Test(cli, unreadable_file_exits_2) {
    run_result r = run(ARGS("replay", "/nonexistent/input.jsonl"), NULL);
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "/nonexistent/input.jsonl"), "%s", r.err);
    run_free(&r);
    r = run(ARGS("replay", "/"), NULL);
    cr_expect_eq(r.status, 2, "%s", r.err);
    run_free(&r);
}

/* ---------------------------------------------------------------- example */

Test(example, review_and_pause) {
    run_result r =
        run(ARGS("replay", "--config",
                 REPUTE_SOURCE_DIR "/examples/review-and-pause.properties",
                 REPUTE_SOURCE_DIR "/examples/review-and-pause.jsonl"),
            NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.err, "");
    /* acme: a bounce-rate review, then a pause. */
    cr_expect_not_null(strstr(r.out, "\"account_id\":\"acme\",\"sequence\":2,"
                                     "\"event_time\":1772531981000,"
                                     "\"kind\":\"NOTIFICATION\",\"status_"
                                     "change\":null,\"notification\":{"
                                     "\"issue\":\"BOUNCE_RATE\","
                                     "\"stage\":\"REVIEW_STARTED\""),
                       "%s", r.out);
    cr_expect_not_null(strstr(r.out, "\"issue\":\"BOUNCE_RATE\","
                                     "\"stage\":\"SENDING_PAUSED\""));
    /* acme-marketing: the related account waits for a person. */
    cr_expect_not_null(strstr(r.out, "\"account_id\":\"acme-marketing\""));
    cr_expect_not_null(strstr(r.out, "\"status\":\"PENDING_END_OF_REVIEW_"
                                     "DECISION\",\"cause\":\"RELATED_"
                                     "ACCOUNT\""));
    /* globex: spamtrap review, remediation, resolved. */
    cr_expect_not_null(strstr(r.out, "\"issue\":\"SPAMTRAP\","
                                     "\"stage\":\"REVIEW_STARTED\""));
    cr_expect_not_null(strstr(r.out, "\"issue\":\"SPAMTRAP\","
                                     "\"stage\":\"REVIEW_EXTENDED\""));
    cr_expect_not_null(strstr(r.out, "\"issue\":\"SPAMTRAP\","
                                     "\"stage\":\"RESOLVED\""));
    /* initech never appears; no reporter is ever named. */
    cr_expect_null(strstr(r.out, "initech"));
    cr_expect_null(strstr(r.out, "trap-network"));
    /* hooli: its promotions tenant is reviewed, then paused; the account
     * itself stays healthy (no event without a tenant). */
    cr_expect_not_null(strstr(r.out, "\"stage\":\"SENDING_PAUSED\",\"account_"
                                     "status\":\"SENDING_PAUSED\",\"title\":"
                                     "\"Bounce rate: a tenant's sending "
                                     "paused\""),
                       "%s", r.out);
    size_t hooli = 0, hooli_tenant = 0;
    for (const char *p = r.out; (p = strstr(p, "\"account_id\":\"hooli\""));
         p++) {
        hooli++;
        const char *eol = strchr(p, '\n');
        const char *t = strstr(p, "\"tenant\":\"promotions\"}");
        hooli_tenant += t && eol && t < eol;
    }
    cr_expect_eq(hooli, 4, "%s", r.out);
    cr_expect_eq(hooli_tenant, 4, "%s", r.out);
    cr_expect_eq(count_lines(r.out), 16, "%s", r.out);

    /* The same input, on standard input this time, gives the same bytes. */
    char *input = slurp(REPUTE_SOURCE_DIR "/examples/review-and-pause.jsonl");
    run_result again = run(
        ARGS("replay", "--config",
             REPUTE_SOURCE_DIR "/examples/review-and-pause.properties", "-"),
        input);
    cr_expect_eq(again.status, 0);
    cr_expect_str_eq(again.out, r.out);
    free(input);
    run_free(&again);
    run_free(&r);
}
