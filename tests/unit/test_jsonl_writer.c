/*
 * test_jsonl_writer.c - the JSON lines writer (src/codec/jsonl_*.c).
 *
 * The writer is held to exact expected strings (doubles, string escaping,
 * both kinds of ReputationEvent), since `repute replay` output is compared
 * byte for byte by users and tests, and a record written and read back
 * must come back the same (the round trips at the end). The reader's own
 * tests are test_jsonl.c's.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "repute/jsonl.h"

/* 2026-01-02T03:04:05Z in milliseconds, as in test_jsonl.c. */
#define T0 INT64_C(1767323045000)

/* ---------------------------------------------------------------- writer */

static rp_buf out = RP_BUF_INIT;

static void wsetup(void) {
    rp_buf_reset(&out);
}
static void wteardown(void) {
    rp_buf_free(&out);
}

TestSuite(writer, .init = wsetup, .fini = wteardown);

static const char *dbl(double d) {
    rp_buf_reset(&out);
    cr_assert_eq(rp_jsonl_write_double(&out, d), 0);
    return out.data;
}

Test(writer, doubles) {
    cr_expect_str_eq(dbl(0.05), "0.05");
    cr_expect_str_eq(dbl(0.1), "0.1");
    cr_expect_str_eq(dbl(0.1 + 0.2), "0.30000000000000004");
    cr_expect_str_eq(dbl(1e-7), "1e-07");
    cr_expect_str_eq(dbl(0.0), "0");
    cr_expect_str_eq(dbl(1.0), "1");
    cr_expect_str_eq(dbl(0.125), "0.125");
    cr_expect_str_eq(dbl(2.0 / 3.0), "0.6666666666666666");
    cr_expect_str_eq(dbl(1e300), "1e+300");
    cr_expect_str_eq(dbl(NAN), "null");
    cr_expect_str_eq(dbl(INFINITY), "null");
    cr_expect_str_eq(dbl(-INFINITY), "null");
}

Test(writer, doubles_read_back_exactly) {
    double vals[] = {1.0 / 3,
                     0.001,
                     0.005,
                     5e-324,
                     1.7976931348623157e308,
                     0.1 * 3,
                     61.0 / 510,
                     123456789.123456789};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        cr_expect_eq(strtod(dbl(vals[i]), NULL), vals[i], "%s", out.data);
}

Test(writer, string_escaping) {
    const char s[] =
        "a\"b\\c\n\t\x01\x1f\x7f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    cr_assert_eq(rp_jsonl_write_string(&out, s, sizeof(s) - 1), 0);
    cr_expect_str_eq(out.data, "\"a\\\"b\\\\c\\u000a\\u0009\\u0001\\u001f\x7f/"
                               "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
}

Test(writer, string_nul_and_invalid_utf8) {
    const char s[] = "a\0b\xff\xc3(\xed\xa0\x80\xc0\xaf\xe2\x82";
    cr_assert_eq(rp_jsonl_write_string(&out, s, sizeof(s) - 1), 0);
    cr_expect_str_eq(out.data, "\"a\\u0000b\\ufffd\\ufffd(\\ufffd\\ufffd"
                               "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

Test(writer, string_appends) {
    rp_buf_puts(&out, "x=");
    cr_assert_eq(rp_jsonl_write_string(&out, "y", 1), 0);
    cr_expect_str_eq(out.data, "x=\"y\"");
    cr_expect_eq(out.len, 5);
}

Test(writer, status_change_event) {
    rp_status_change sc;
    memset(&sc, 0, sizeof(sc));
    sc.previous_status = RP_ASTATUS_HEALTHY;
    sc.status = RP_ASTATUS_UNDER_REVIEW;
    sc.cause = RP_ISSUE_BOUNCE_RATE;
    sc.has_review_end = true;
    sc.review_ends_at = T0 + 7 * RP_MS_PER_DAY;
    sc.bounce = (rp_metric_snapshot){
        RP_ISTATUS_UNDER_REVIEW, true, 0.05, 50, 1000, T0 - RP_MS_PER_DAY, T0};
    sc.complaint = (rp_metric_snapshot){
        RP_ISTATUS_HEALTHY, false, 0, 0, 900, T0 - 2 * RP_MS_PER_DAY, T0};
    sc.n_issues = 2;
    sc.issues[0] =
        (rp_issue_state){RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_UNDER_REVIEW, T0,
                         true, T0 + 7 * RP_MS_PER_DAY};
    sc.issues[1] = (rp_issue_state){RP_ISSUE_INTERNAL_REVIEW,
                                    RP_ISTATUS_UNDER_REVIEW, T0 - 5, false, 0};
    rp_event ev = {rp_str_c("acme"), 12, T0, RP_EVENT_STATUS_CHANGE, &sc, NULL,
                   RP_STR_NULL};
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_expect_str_eq(
        out.data,
        "{\"event_id\":\"acme:12\",\"account_id\":\"acme\",\"sequence\":12,"
        "\"event_time\":1767323045000,\"kind\":\"STATUS_CHANGE\","
        "\"status_change\":{\"previous_status\":\"HEALTHY\","
        "\"status\":\"UNDER_REVIEW\",\"cause\":\"BOUNCE_RATE\","
        "\"review_ends_at\":1767927845000,"
        "\"bounce\":{\"status\":\"UNDER_REVIEW\",\"rate\":0.05,\"count\":50,"
        "\"volume\":1000,\"window_start\":1767236645000,"
        "\"window_end\":1767323045000},"
        "\"complaint\":{\"status\":\"HEALTHY\",\"rate\":null,\"count\":0,"
        "\"volume\":900,\"window_start\":1767150245000,"
        "\"window_end\":1767323045000},"
        "\"issues\":[{\"kind\":\"BOUNCE_RATE\",\"status\":\"UNDER_REVIEW\","
        "\"since\":1767323045000,\"review_ends_at\":1767927845000},"
        "{\"kind\":\"INTERNAL_REVIEW\",\"status\":\"UNDER_REVIEW\","
        "\"since\":1767323044995,\"review_ends_at\":null}]},"
        "\"notification\":null,\"tenant\":null}\n");
}

Test(writer, status_change_without_issues) {
    rp_status_change sc;
    memset(&sc, 0, sizeof(sc));
    sc.previous_status = RP_ASTATUS_UNDER_REVIEW;
    sc.cause = RP_ISSUE_SPAMTRAP;
    rp_event ev = {rp_str_c("a\"b"), 1, -5, RP_EVENT_STATUS_CHANGE, &sc, NULL,
                   RP_STR_NULL};
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_expect_str_eq(
        out.data,
        "{\"event_id\":\"a\\\"b:1\",\"account_id\":\"a\\\"b\",\"sequence\":1,"
        "\"event_time\":-5,\"kind\":\"STATUS_CHANGE\","
        "\"status_change\":{\"previous_status\":\"UNDER_REVIEW\","
        "\"status\":\"HEALTHY\",\"cause\":\"SPAMTRAP\","
        "\"review_ends_at\":null,"
        "\"bounce\":{\"status\":\"HEALTHY\",\"rate\":null,\"count\":0,"
        "\"volume\":0,\"window_start\":0,\"window_end\":0},"
        "\"complaint\":{\"status\":\"HEALTHY\",\"rate\":null,\"count\":0,"
        "\"volume\":0,\"window_start\":0,\"window_end\":0},"
        "\"issues\":[]},\"notification\":null,\"tenant\":null}\n");
}

Test(writer, notification_event) {
    rp_notification n;
    memset(&n, 0, sizeof(n));
    n.issue = RP_ISSUE_BOUNCE_RATE;
    n.stage = RP_STAGE_SENDING_PAUSED;
    n.account_status = RP_ASTATUS_SENDING_PAUSED;
    n.title = "Sending paused";
    n.why = "Your bounce rate is 12.1%, at or above 10%.\nLine two.";
    n.actions[0] = "Remove addresses that bounced.";
    n.actions[1] = "Tell us what you \"changed\".";
    n.n_actions = 2;
    n.has_rate = true;
    n.rate = 0.12;
    n.has_threshold = true;
    n.threshold = 0.1;
    rp_event ev = {rp_str_c("acme"), 3, T0, RP_EVENT_NOTIFICATION, NULL, &n,
                   RP_STR_NULL};
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_expect_str_eq(
        out.data,
        "{\"event_id\":\"acme:3\",\"account_id\":\"acme\",\"sequence\":3,"
        "\"event_time\":1767323045000,\"kind\":\"NOTIFICATION\","
        "\"status_change\":null,\"notification\":{\"issue\":\"BOUNCE_RATE\","
        "\"stage\":\"SENDING_PAUSED\",\"account_status\":\"SENDING_PAUSED\","
        "\"title\":\"Sending paused\","
        "\"why\":\"Your bounce rate is 12.1%, at or above 10%.\\u000aLine "
        "two.\",\"actions\":[\"Remove addresses that bounced.\","
        "\"Tell us what you \\\"changed\\\".\"],"
        "\"rate\":0.12,\"threshold\":0.1,\"review_ends_at\":null},\"tenant\":"
        "null}\n");
}

Test(writer, notification_for_a_report_issue) {
    rp_notification n;
    memset(&n, 0, sizeof(n));
    n.issue = RP_ISSUE_SPAMTRAP;
    n.stage = RP_STAGE_REVIEW_STARTED;
    n.account_status = RP_ASTATUS_UNDER_REVIEW;
    n.title = "T";
    n.why = "W";
    n.has_review_end = true;
    n.review_ends_at = 99;
    rp_event ev = {rp_str_c("g"),
                   18446744073709551615u,
                   0,
                   RP_EVENT_NOTIFICATION,
                   NULL,
                   &n,
                   RP_STR_NULL};
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_expect_str_eq(
        out.data,
        "{\"event_id\":\"g:18446744073709551615\",\"account_id\":\"g\","
        "\"sequence\":18446744073709551615,\"event_time\":0,"
        "\"kind\":\"NOTIFICATION\",\"status_change\":null,"
        "\"notification\":{\"issue\":\"SPAMTRAP\","
        "\"stage\":\"REVIEW_STARTED\",\"account_status\":\"UNDER_REVIEW\","
        "\"title\":\"T\",\"why\":\"W\",\"actions\":[],\"rate\":null,"
        "\"threshold\":null,\"review_ends_at\":99},\"tenant\":null}\n");
}

Test(writer, events_append_and_reuse) {
    rp_notification n;
    memset(&n, 0, sizeof(n));
    n.title = n.why = "";
    rp_event ev = {rp_str_c("a"), 1,  INT64_MIN,  RP_EVENT_NOTIFICATION,
                   NULL,          &n, RP_STR_NULL};
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    size_t one = out.len;
    cr_expect_not_null(strstr(out.data, "\"event_time\":-9223372036854775808"));
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_expect_eq(out.len, 2 * one);
    cr_expect_eq(memcmp(out.data, out.data + one, one), 0);
}

/* ---------------------------------------------------------------- round trip
 */

/* Writes the record, parses the line back and writes it again: both lines
 * must be equal, and the parsed record must hold the same values. */
static void round_trip(const rp_record *in) {
    rp_buf a = RP_BUF_INIT, b = RP_BUF_INIT;
    rp_jsonl_reader *r = rp_jsonl_reader_new();
    rp_record back;
    int64_t t;
    char e[256];

    cr_assert_eq(rp_jsonl_write_record(&a, in), 0);
    cr_assert_eq(a.data[a.len - 1], '\n');
    cr_assert_eq(rp_jsonl_parse(r, a.data, a.len, &back, &t, e, sizeof(e)),
                 RP_JSONL_RECORD, "%s: %s", a.data, e);
    cr_assert_eq(rp_jsonl_write_record(&b, &back), 0);
    cr_expect_str_eq(b.data, a.data);
    cr_expect_eq(back.type, in->type);
    cr_expect(rp_str_eq(back.event_id, in->event_id));
    cr_expect(rp_str_eq(back.account_id, in->account_id));
    cr_expect_eq(back.event_time, in->event_time);
    rp_jsonl_reader_destroy(r);
    rp_buf_free(&a);
    rp_buf_free(&b);
}

Test(roundtrip, every_type) {
    rp_record r;
    static const rp_str rcpts[] = {{"a@x", 3}, {"b\"@x", 4}};

    rp_record_init(&r, RP_REC_DELIVERY);
    r.event_id = rp_str_c("d1");
    r.account_id = rp_str_c("acme");
    r.event_time = T0;
    r.u.delivery.message_id = rp_str_c("m");
    r.u.delivery.has_sent_time = true;
    r.u.delivery.sent_time = T0 - 1;
    r.u.delivery.simulator = true;
    round_trip(&r);

    rp_record_init(&r, RP_REC_BOUNCE);
    r.event_id = rp_str_c("b1");
    r.account_id = rp_str_c("caf\xc3\xa9");
    r.event_time = 0;
    r.u.bounce.bounce_type = RP_BOUNCE_UNDETERMINED;
    r.u.bounce.bounce_subtype = RP_BSUB_ATTACHMENT_REJECTED;
    r.u.bounce.diagnostic = rp_str_c("line\nbreak");
    round_trip(&r);

    rp_record_init(&r, RP_REC_COMPLAINT);
    r.event_id = rp_str_c("c1");
    r.account_id = rp_str_c("acme");
    r.event_time = -1;
    r.u.complaint.recipients = rcpts;
    r.u.complaint.n_recipients = 2;
    r.u.complaint.feedback_type = RP_FEEDBACK_VIRUS;
    r.u.complaint.on_suppression_list = true;
    round_trip(&r);

    rp_record_init(&r, RP_REC_REPORT);
    r.event_id = rp_str_c("r1");
    r.account_id = rp_str_c("globex");
    r.event_time = T0;
    r.u.report.kind = RP_ISSUE_COMPROMISED_CREDENTIALS;
    r.u.report.incidents = 2147483647;
    r.u.report.reporter = rp_str_c("someone");
    round_trip(&r);

    rp_record_init(&r, RP_REC_ACTION);
    r.event_id = rp_str_c("a1");
    r.account_id = rp_str_c("globex");
    r.event_time = T0;
    r.u.action.action = RP_ACTION_UNLINK_ACCOUNT;
    r.u.action.has_issue = true;
    r.u.action.issue = RP_ISSUE_OTHER;
    r.u.action.has_effective_time = true;
    r.u.action.effective_time = T0 + 1;
    r.u.action.related_account_id = rp_str_c("acme");
    round_trip(&r);
}

Test(roundtrip, exact_record_line) {
    rp_buf b = RP_BUF_INIT;
    rp_record r;
    rp_record_init(&r, RP_REC_REPORT);
    r.event_id = rp_str_c("r1");
    r.account_id = rp_str_c("globex");
    r.event_time = 10;
    r.u.report.kind = RP_ISSUE_SPAMTRAP;
    r.u.report.domain = rp_str_c("globex.example");
    cr_assert_eq(rp_jsonl_write_record(&b, &r), 0);
    cr_expect_str_eq(b.data, "{\"type\":\"report\",\"event_id\":\"r1\","
                             "\"account_id\":\"globex\",\"event_time\":10,"
                             "\"kind\":\"SPAMTRAP\",\"incidents\":1,"
                             "\"domain\":\"globex.example\","
                             "\"related_account_id\":null,\"reporter\":null,"
                             "\"detail\":null,\"tenant\":null}\n");
    rp_buf_free(&b);
}
