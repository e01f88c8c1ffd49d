/*
 * test_jsonl.c - the JSON lines reader (src/codec/jsonl_*.c).
 *
 * The reader is tested line by line: every record type with all of its
 * fields and with only the required ones (the defaults of docs/rules.md section
 * 2 must appear), timestamps in both forms, ticks and blank lines, and a
 * catalogue of bad lines, each of which must fail with a reason that names
 * the field at fault. The writer and the round trips through both are
 * test_jsonl_writer.c's.
 */

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "repute/jsonl.h"

/* ---------------------------------------------------------------- helpers */

static rp_jsonl_reader *reader;
static rp_record rec;
static int64_t tick;
static char err[256];

static void setup(void) {
    reader = rp_jsonl_reader_new();
    cr_assert_not_null(reader);
    memset(&rec, 0, sizeof(rec));
    tick = 0;
    err[0] = '\0';
}

static void teardown(void) {
    rp_jsonl_reader_destroy(reader);
}

static int parse(const char *line) {
    return rp_jsonl_parse(reader, line, strlen(line), &rec, &tick, err,
                          sizeof(err));
}

static bool str_is(rp_str s, const char *want) {
    return s.ptr && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* Expects the line to fail with a reason that contains `want`. */
static void expect_bad(const char *line, const char *want) {
    int rc = parse(line);
    cr_expect_lt(rc, 0, "line %s parsed (rc %d)", line, rc);
    cr_expect_not_null(strstr(err, want), "line %s: reason \"%s\" lacks \"%s\"",
                       line, err, want);
}

/* 2026-01-02T03:04:05Z in milliseconds. */
#define T0 INT64_C(1767323045000)

TestSuite(jsonl, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------- records */

Test(jsonl, delivery_all_fields) {
    int rc = parse("{\"type\":\"delivery\",\"event_id\":\"e1\","
                   "\"account_id\":\"acme\",\"event_time\":1767323045000,"
                   "\"message_id\":\"m1\",\"recipient\":\"a@example.com\","
                   "\"sent_time\":1767323044000,\"verified_recipient\":true,"
                   "\"simulator\":true,\"feedback_loop\":false}\n");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.type, RP_REC_DELIVERY);
    cr_expect(str_is(rec.event_id, "e1"));
    cr_expect(str_is(rec.account_id, "acme"));
    cr_expect_eq(rec.event_time, T0);
    cr_expect(str_is(rec.u.delivery.message_id, "m1"));
    cr_expect(str_is(rec.u.delivery.recipient, "a@example.com"));
    cr_expect(rec.u.delivery.has_sent_time);
    cr_expect_eq(rec.u.delivery.sent_time, T0 - 1000);
    cr_expect(rec.u.delivery.verified_recipient);
    cr_expect(rec.u.delivery.simulator);
    cr_expect_not(rec.u.delivery.feedback_loop);
}

Test(jsonl, delivery_required_only_gets_defaults) {
    int rc = parse("{\"type\":\"delivery\",\"event_id\":\"e1\","
                   "\"account_id\":\"acme\",\"event_time\":5}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect(str_is(rec.u.delivery.message_id, ""));
    cr_expect(str_is(rec.u.delivery.recipient, ""));
    cr_expect_not(rec.u.delivery.has_sent_time);
    cr_expect_not(rec.u.delivery.verified_recipient);
    cr_expect_not(rec.u.delivery.simulator);
    cr_expect(rec.u.delivery.feedback_loop);
    cr_expect_eq(rec.event_time, 5);
}

Test(jsonl, delivery_null_sent_time_is_null) {
    int rc = parse("{\"type\":\"delivery\",\"event_id\":\"e1\","
                   "\"account_id\":\"acme\",\"event_time\":5,"
                   "\"sent_time\":null}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_not(rec.u.delivery.has_sent_time);
}

Test(jsonl, bounce_all_fields) {
    int rc =
        parse("{\"diagnostic\":\"550 5.1.1 no such user\",\"type\":\"bounce\","
              "\"event_id\":\"b1\",\"account_id\":\"acme\","
              "\"event_time\":\"2026-01-02T03:04:05Z\",\"message_id\":\"m2\","
              "\"recipient\":\"x@example.com\",\"sent_time\":\"2026-01-02T03:"
              "00:00Z\","
              "\"bounce_type\":\"PERMANENT\",\"bounce_subtype\":\"NO_EMAIL\","
              "\"verified_recipient\":false,\"simulator\":true}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.type, RP_REC_BOUNCE);
    cr_expect_eq(rec.event_time, T0);
    cr_expect_eq(rec.u.bounce.sent_time, T0 - 245000);
    cr_expect_eq(rec.u.bounce.bounce_type, RP_BOUNCE_PERMANENT);
    cr_expect_eq(rec.u.bounce.bounce_subtype, RP_BSUB_NO_EMAIL);
    cr_expect(rec.u.bounce.simulator);
    cr_expect(str_is(rec.u.bounce.diagnostic, "550 5.1.1 no such user"));
    cr_expect(str_is(rec.u.bounce.recipient, "x@example.com"));
}

Test(jsonl, bounce_required_only) {
    int rc = parse("{\"type\":\"bounce\",\"event_id\":\"b1\","
                   "\"account_id\":\"acme\",\"event_time\":1,"
                   "\"bounce_type\":\"TRANSIENT\","
                   "\"bounce_subtype\":\"MAILBOX_FULL\"}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.u.bounce.bounce_type, RP_BOUNCE_TRANSIENT);
    cr_expect_eq(rec.u.bounce.bounce_subtype, RP_BSUB_MAILBOX_FULL);
    cr_expect_null(rec.u.bounce.diagnostic.ptr);
    cr_expect_not(rec.u.bounce.has_sent_time);
    cr_expect_not(rec.u.bounce.verified_recipient);
    cr_expect_not(rec.u.bounce.simulator);
}

Test(jsonl, complaint_all_fields) {
    int rc = parse("{\"type\":\"complaint\",\"event_id\":\"c1\","
                   "\"account_id\":\"acme\",\"event_time\":10,"
                   "\"message_id\":\"m3\",\"recipients\":[\"a@x\",\"b@x\"],"
                   "\"sent_time\":9,\"feedback_type\":\"ABUSE\","
                   "\"on_suppression_list\":true,\"simulator\":false}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.type, RP_REC_COMPLAINT);
    cr_assert_eq(rec.u.complaint.n_recipients, 2);
    cr_expect(str_is(rec.u.complaint.recipients[0], "a@x"));
    cr_expect(str_is(rec.u.complaint.recipients[1], "b@x"));
    cr_expect_eq(rec.u.complaint.sent_time, 9);
    cr_expect_eq(rec.u.complaint.feedback_type, RP_FEEDBACK_ABUSE);
    cr_expect(rec.u.complaint.on_suppression_list);
}

Test(jsonl, complaint_required_only) {
    int rc = parse("{\"type\":\"complaint\",\"event_id\":\"c1\","
                   "\"account_id\":\"acme\",\"event_time\":10,"
                   "\"feedback_type\":\"NOT_SPAM\"}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.u.complaint.n_recipients, 0);
    cr_expect_eq(rec.u.complaint.feedback_type, RP_FEEDBACK_NOT_SPAM);
    cr_expect_not(rec.u.complaint.on_suppression_list);
    cr_expect_not(rec.u.complaint.simulator);
}

Test(jsonl, complaint_many_recipients_grow_the_array) {
    char line[8192];
    int n = snprintf(line, sizeof(line),
                     "{\"type\":\"complaint\",\"event_id\":\"c1\","
                     "\"account_id\":\"acme\",\"event_time\":10,"
                     "\"feedback_type\":\"ABUSE\",\"recipients\":[");
    for (int i = 0; i < 100; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s\"r%d@x\"",
                      i ? "," : "", i);
    snprintf(line + n, sizeof(line) - (size_t)n, "]}");
    cr_assert_eq(parse(line), RP_JSONL_RECORD, "%s", err);
    cr_assert_eq(rec.u.complaint.n_recipients, 100);
    cr_expect(str_is(rec.u.complaint.recipients[99], "r99@x"));
}

Test(jsonl, report_all_fields) {
    int rc = parse("{\"type\":\"report\",\"event_id\":\"r1\","
                   "\"account_id\":\"globex\",\"event_time\":10,"
                   "\"kind\":\"SPAMTRAP\",\"incidents\":3,"
                   "\"domain\":\"globex.example\","
                   "\"related_account_id\":\"acme\","
                   "\"reporter\":\"trap-network\",\"detail\":\"hit twice\"}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.type, RP_REC_REPORT);
    cr_expect_eq(rec.u.report.kind, RP_ISSUE_SPAMTRAP);
    cr_expect_eq(rec.u.report.incidents, 3);
    cr_expect(str_is(rec.u.report.domain, "globex.example"));
    cr_expect(str_is(rec.u.report.related_account_id, "acme"));
    cr_expect(str_is(rec.u.report.reporter, "trap-network"));
    cr_expect(str_is(rec.u.report.detail, "hit twice"));
}

Test(jsonl, report_required_only) {
    int rc = parse("{\"type\":\"report\",\"event_id\":\"r1\","
                   "\"account_id\":\"globex\",\"event_time\":10,"
                   "\"kind\":\"OTHER\",\"domain\":null}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.u.report.kind, RP_ISSUE_OTHER);
    cr_expect_eq(rec.u.report.incidents, 1);
    cr_expect_null(rec.u.report.domain.ptr);
    cr_expect_null(rec.u.report.related_account_id.ptr);
    cr_expect_null(rec.u.report.reporter.ptr);
    cr_expect_null(rec.u.report.detail.ptr);
}

Test(jsonl, report_every_report_kind) {
    for (int k = RP_ISSUE__FIRST_REPORT; k < RP_ISSUE__COUNT; k++) {
        char line[256];
        snprintf(line, sizeof(line),
                 "{\"type\":\"report\",\"event_id\":\"r\","
                 "\"account_id\":\"a\",\"event_time\":1,\"kind\":\"%s\"}",
                 rp_issue_kind_name((rp_issue_kind)k));
        cr_assert_eq(parse(line), RP_JSONL_RECORD, "%s: %s", line, err);
        cr_expect_eq(rec.u.report.kind, k);
    }
}

Test(jsonl, action_all_fields) {
    int rc =
        parse("{\"type\":\"action\",\"event_id\":\"a1\","
              "\"account_id\":\"acme\",\"event_time\":10,"
              "\"action\":\"LINK_ACCOUNT\",\"issue\":\"BOUNCE_RATE\","
              "\"effective_time\":\"2026-01-02T03:04:05.250+01:00\","
              "\"related_account_id\":\"acme-eu\",\"note\":\"same owner\"}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.type, RP_REC_ACTION);
    cr_expect_eq(rec.u.action.action, RP_ACTION_LINK_ACCOUNT);
    cr_expect(rec.u.action.has_issue);
    cr_expect_eq(rec.u.action.issue, RP_ISSUE_BOUNCE_RATE);
    cr_expect(rec.u.action.has_effective_time);
    cr_expect_eq(rec.u.action.effective_time, T0 + 250 - RP_MS_PER_HOUR);
    cr_expect(str_is(rec.u.action.related_account_id, "acme-eu"));
    cr_expect(str_is(rec.u.action.note, "same owner"));
}

Test(jsonl, action_required_only) {
    int rc = parse("{\"type\":\"action\",\"event_id\":\"a1\","
                   "\"account_id\":\"acme\",\"event_time\":10,"
                   "\"action\":\"RESUME_SENDING\",\"issue\":null}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.u.action.action, RP_ACTION_RESUME_SENDING);
    cr_expect_not(rec.u.action.has_issue);
    cr_expect_not(rec.u.action.has_effective_time);
    cr_expect_null(rec.u.action.related_account_id.ptr);
    cr_expect_null(rec.u.action.note.ptr);
}

Test(jsonl, action_issue_may_be_any_issue_kind) {
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        char line[256];
        snprintf(line, sizeof(line),
                 "{\"type\":\"action\",\"event_id\":\"a\","
                 "\"account_id\":\"a\",\"event_time\":1,"
                 "\"action\":\"END_REVIEW\",\"issue\":\"%s\"}",
                 rp_issue_kind_name((rp_issue_kind)k));
        cr_assert_eq(parse(line), RP_JSONL_RECORD, "%s: %s", line, err);
        cr_expect_eq(rec.u.action.issue, k);
    }
}

Test(jsonl, unknown_fields_are_ignored) {
    int rc = parse("{\"type\":\"delivery\",\"event_id\":\"e1\","
                   "\"account_id\":\"acme\",\"event_time\":5,"
                   "\"colour\":[1,{\"x\":null}],\"kind\":42}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
}

Test(jsonl, utf8_strings_pass_through) {
    int rc = parse("{\"type\":\"delivery\",\"event_id\":\"e\\u00e9\","
                   "\"account_id\":\"caf\xc3\xa9\",\"event_time\":5}");
    cr_assert_eq(rc, RP_JSONL_RECORD, "%s", err);
    cr_expect(str_is(rec.account_id, "caf\xc3\xa9"));
    cr_expect(str_is(rec.event_id, "e\xc3\xa9"));
}

Test(jsonl, crlf_line_end) {
    cr_expect_eq(parse("{\"type\":\"tick\",\"time\":7}\r\n"), RP_JSONL_TICK);
    cr_expect_eq(tick, 7);
}

/* ---------------------------------------------------------------- ticks */

Test(jsonl, tick_integer_and_iso) {
    cr_assert_eq(parse("{\"type\":\"tick\",\"time\":1767323045000}"),
                 RP_JSONL_TICK, "%s", err);
    cr_expect_eq(tick, T0);
    cr_assert_eq(parse("{\"time\":\"2026-01-02T03:04:05Z\",\"type\":\"tick\"}"),
                 RP_JSONL_TICK, "%s", err);
    cr_expect_eq(tick, T0);
}

Test(jsonl, tick_without_time) {
    expect_bad("{\"type\":\"tick\"}", "time: missing");
    expect_bad("{\"type\":\"tick\",\"time\":null}", "time:");
    expect_bad("{\"type\":\"tick\",\"time\":\"soon\"}", "time:");
}

Test(jsonl, blank_lines) {
    cr_expect_eq(parse(""), RP_JSONL_BLANK);
    cr_expect_eq(parse("\n"), RP_JSONL_BLANK);
    cr_expect_eq(parse("   \t \r\n"), RP_JSONL_BLANK);
}

/* ---------------------------------------------------------------- time */

static int64_t iso(const char *s) {
    int64_t t = 0;
    cr_assert_eq(rp_time_parse_iso8601(s, strlen(s), &t), 0, "%s", s);
    return t;
}

static void iso_bad(const char *s) {
    int64_t t = 0;
    cr_expect_eq(rp_time_parse_iso8601(s, strlen(s), &t), RP_EINVAL,
                 "%s parsed", s);
}

Test(time, iso8601_forms) {
    cr_expect_eq(iso("1970-01-01T00:00:00Z"), 0);
    cr_expect_eq(iso("2026-01-02T03:04:05Z"), T0);
    cr_expect_eq(iso("2026-01-02t03:04:05z"), T0);
    cr_expect_eq(iso("2026-01-02 03:04:05Z"), T0);
    cr_expect_eq(iso("2026-01-02T03:04:05.1Z"), T0 + 100);
    cr_expect_eq(iso("2026-01-02T03:04:05.12Z"), T0 + 120);
    cr_expect_eq(iso("2026-01-02T03:04:05.123Z"), T0 + 123);
    cr_expect_eq(iso("2026-01-02T03:04:05.123999Z"), T0 + 123);
    cr_expect_eq(iso("2026-01-02T04:04:05+01:00"), T0);
    cr_expect_eq(iso("2026-01-02T04:04:05+0100"), T0);
    cr_expect_eq(iso("2026-01-02T04:04:05+01"), T0);
    cr_expect_eq(iso("2026-01-01T21:34:05-05:30"), T0);
    cr_expect_eq(iso("2026-01-02T03:04:05+00:00"), T0);
    cr_expect_eq(iso("1969-12-31T23:59:59.999Z"), -1);
    cr_expect_eq(iso("2000-02-29T00:00:00Z"), INT64_C(951782400000));
    cr_expect_eq(iso("2024-12-31T23:59:59Z"), INT64_C(1735689599000));
    cr_expect_eq(iso("0000-01-01T00:00:00Z"), INT64_C(-62167219200000));
    cr_expect_eq(iso("9999-12-31T23:59:59.999Z"), INT64_C(253402300799999));
}

Test(time, iso8601_rejects) {
    iso_bad("");
    iso_bad("2026-01-02");
    iso_bad("2026-01-02T03:04:05");      /* no zone */
    iso_bad("2026-01-02T03:04Z");        /* no seconds */
    iso_bad("2026-1-02T03:04:05Z");      /* one-digit month */
    iso_bad("2026-13-02T03:04:05Z");     /* month 13 */
    iso_bad("2026-02-29T03:04:05Z");     /* not a leap year */
    iso_bad("1900-02-29T03:04:05Z");     /* not a leap year either */
    iso_bad("2026-04-31T03:04:05Z");     /* April has 30 days */
    iso_bad("2026-01-00T03:04:05Z");     /* day 0 */
    iso_bad("2026-01-02T24:00:00Z");     /* hour 24 */
    iso_bad("2026-01-02T03:60:05Z");     /* minute 60 */
    iso_bad("2026-01-02T03:04:60Z");     /* no leap seconds */
    iso_bad("2026-01-02T03:04:05.Z");    /* empty fraction */
    iso_bad("2026-01-02T03:04:05+1:00"); /* one-digit offset */
    iso_bad("2026-01-02T03:04:05+01:0"); /* short offset minutes */
    iso_bad("2026-01-02T03:04:05+24:00");
    iso_bad("2026-01-02T03:04:05Zjunk");
    iso_bad(" 2026-01-02T03:04:05Z");
    iso_bad("0000-01-01T00:00:00+01:00"); /* before year 0000 */
    iso_bad("9999-12-31T23:59:59-01:00"); /* after year 9999 */
}

Test(jsonl, integer_times_out_of_range) {
    expect_bad("{\"type\":\"tick\",\"time\":253402300800000}",
               "time: 253402300800000 is out of range");
    expect_bad("{\"type\":\"tick\",\"time\":-9223372036854775807}", "time:");
    cr_expect_eq(parse("{\"type\":\"tick\",\"time\":-1}"), RP_JSONL_TICK);
}

/* ---------------------------------------------------------------- bad lines */

#define GOOD_HEAD "\"event_id\":\"e1\",\"account_id\":\"acme\",\"event_time\":5"

Test(jsonl, bad_not_json) {
    expect_bad("{\"type\":", "not valid JSON");
    expect_bad("hello", "not valid JSON");
    expect_bad("{\"type\":\"tick\",\"time\":1} trailing", "not valid JSON");
    expect_bad("{\"type\":\"tick\",\"time\":1,\"time\":2}",
               "duplicate field \"time\"");
}

Test(jsonl, bad_not_an_object) {
    expect_bad("[1,2]", "expected a JSON object, got an array");
    expect_bad("42", "expected a JSON object, got an integer");
    expect_bad("\"delivery\"", "expected a JSON object, got a string");
    expect_bad("null", "expected a JSON object, got null");
}

Test(jsonl, bad_type) {
    expect_bad("{" GOOD_HEAD "}", "type: missing");
    expect_bad("{\"type\":\"deliveries\"," GOOD_HEAD "}",
               "type: unknown type \"deliveries\"");
    expect_bad("{\"type\":\"Delivery\"," GOOD_HEAD "}", "type: unknown type");
    expect_bad("{\"type\":3," GOOD_HEAD "}", "type: expected a string");
    expect_bad("{\"type\":null," GOOD_HEAD "}", "type:");
}

Test(jsonl, bad_missing_common_fields) {
    expect_bad("{\"type\":\"delivery\",\"account_id\":\"a\","
               "\"event_time\":5}",
               "event_id: missing");
    expect_bad("{\"type\":\"delivery\",\"event_id\":\"e\","
               "\"event_time\":5}",
               "account_id: missing");
    expect_bad("{\"type\":\"delivery\",\"event_id\":\"e\","
               "\"account_id\":\"a\"}",
               "event_time: missing");
    expect_bad("{\"type\":\"delivery\",\"event_id\":null,"
               "\"account_id\":\"a\",\"event_time\":5}",
               "event_id: must not be null");
}

Test(jsonl, bad_missing_type_fields) {
    expect_bad("{\"type\":\"bounce\"," GOOD_HEAD
               ",\"bounce_subtype\":\"GENERAL\"}",
               "bounce_type: missing");
    expect_bad("{\"type\":\"bounce\"," GOOD_HEAD
               ",\"bounce_type\":\"PERMANENT\"}",
               "bounce_subtype: missing");
    expect_bad("{\"type\":\"complaint\"," GOOD_HEAD "}",
               "feedback_type: missing");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD "}", "kind: missing");
    expect_bad("{\"type\":\"action\"," GOOD_HEAD "}", "action: missing");
}

Test(jsonl, bad_wrong_types) {
    expect_bad("{\"type\":\"delivery\",\"event_id\":7,"
               "\"account_id\":\"a\",\"event_time\":5}",
               "event_id: expected a string, got an integer");
    expect_bad("{\"type\":\"delivery\",\"event_id\":\"e\","
               "\"account_id\":[\"a\"],\"event_time\":5}",
               "account_id: expected a string, got an array");
    expect_bad("{\"type\":\"delivery\",\"event_id\":\"e\","
               "\"account_id\":\"a\",\"event_time\":5.5}",
               "event_time: expected integer milliseconds or an ISO 8601 "
               "string, got a real number");
    expect_bad("{\"type\":\"delivery\",\"event_id\":\"e\","
               "\"account_id\":\"a\",\"event_time\":\"yesterday\"}",
               "event_time: \"yesterday\" is not an ISO 8601");
    expect_bad("{\"type\":\"delivery\"," GOOD_HEAD ",\"simulator\":\"yes\"}",
               "simulator: expected a boolean, got a string");
    expect_bad("{\"type\":\"delivery\"," GOOD_HEAD ",\"feedback_loop\":1}",
               "feedback_loop: expected a boolean, got an integer");
    expect_bad("{\"type\":\"delivery\"," GOOD_HEAD
               ",\"verified_recipient\":null}",
               "verified_recipient: must not be null");
    expect_bad("{\"type\":\"delivery\"," GOOD_HEAD ",\"sent_time\":{}}",
               "sent_time: expected integer milliseconds");
    expect_bad("{\"type\":\"delivery\"," GOOD_HEAD ",\"message_id\":1}",
               "message_id: expected a string");
    expect_bad("{\"type\":\"delivery\"," GOOD_HEAD ",\"recipient\":true}",
               "recipient: expected a string, got a boolean");
    expect_bad("{\"type\":\"bounce\"," GOOD_HEAD
               ",\"bounce_type\":\"PERMANENT\",\"bounce_subtype\":\"GENERAL\","
               "\"diagnostic\":5}",
               "diagnostic: expected a string");
    expect_bad("{\"type\":\"complaint\"," GOOD_HEAD
               ",\"feedback_type\":\"ABUSE\",\"recipients\":\"a@x\"}",
               "recipients: expected an array of strings, got a string");
    expect_bad("{\"type\":\"complaint\"," GOOD_HEAD
               ",\"feedback_type\":\"ABUSE\",\"recipients\":[\"a@x\",2]}",
               "recipients: element 1: expected a string, got an integer");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD
               ",\"kind\":\"SPAMTRAP\",\"incidents\":\"3\"}",
               "incidents: expected an integer, got a string");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD
               ",\"kind\":\"SPAMTRAP\",\"incidents\":2.0}",
               "incidents: expected an integer, got a real number");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD
               ",\"kind\":\"SPAMTRAP\",\"domain\":false}",
               "domain: expected a string");
    expect_bad("{\"type\":\"action\"," GOOD_HEAD
               ",\"action\":\"PAUSE_SENDING\",\"effective_time\":true}",
               "effective_time: expected integer milliseconds");
    expect_bad("{\"type\":\"action\"," GOOD_HEAD
               ",\"action\":\"PAUSE_SENDING\",\"note\":[]}",
               "note: expected a string, got an array");
    expect_bad("{\"type\":\"bounce\"," GOOD_HEAD
               ",\"bounce_type\":1,\"bounce_subtype\":\"GENERAL\"}",
               "bounce_type: expected a symbol string, got an integer");
}

Test(jsonl, bad_unknown_symbols) {
    expect_bad("{\"type\":\"bounce\"," GOOD_HEAD
               ",\"bounce_type\":\"HARD\",\"bounce_subtype\":\"GENERAL\"}",
               "bounce_type: unknown symbol \"HARD\"");
    expect_bad("{\"type\":\"bounce\"," GOOD_HEAD
               ",\"bounce_type\":\"PERMANENT\",\"bounce_subtype\":\"general\"}",
               "bounce_subtype: unknown symbol \"general\"");
    expect_bad("{\"type\":\"complaint\"," GOOD_HEAD
               ",\"feedback_type\":\"SPAM\"}",
               "feedback_type: unknown symbol \"SPAM\"");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD ",\"kind\":\"TRAP\"}",
               "kind: unknown symbol \"TRAP\"");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD ",\"kind\":\"BOUNCE_RATE\"}",
               "kind: \"BOUNCE_RATE\" is not a report kind");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD
               ",\"kind\":\"COMPLAINT_RATE\"}",
               "kind: \"COMPLAINT_RATE\" is not a report kind");
    expect_bad("{\"type\":\"action\"," GOOD_HEAD ",\"action\":\"PAUSE\"}",
               "action: unknown symbol \"PAUSE\"");
    expect_bad("{\"type\":\"action\"," GOOD_HEAD
               ",\"action\":\"PAUSE_SENDING\",\"issue\":\"BOUNCES\"}",
               "issue: unknown symbol \"BOUNCES\"");
}

Test(jsonl, bad_incidents) {
    expect_bad("{\"type\":\"report\"," GOOD_HEAD
               ",\"kind\":\"SPAMTRAP\",\"incidents\":0}",
               "incidents: must be from 1");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD
               ",\"kind\":\"SPAMTRAP\",\"incidents\":-4}",
               "incidents: must be from 1");
    expect_bad("{\"type\":\"report\"," GOOD_HEAD
               ",\"kind\":\"SPAMTRAP\",\"incidents\":2147483648}",
               "incidents: must be from 1");
}

Test(jsonl, bad_account_and_event_ids) {
    expect_bad("{\"type\":\"delivery\",\"event_id\":\"e\","
               "\"account_id\":\"\",\"event_time\":5}",
               "account_id");
    expect_bad("{\"type\":\"delivery\",\"event_id\":\"\","
               "\"account_id\":\"a\",\"event_time\":5}",
               "event_id");
    expect_bad("{\"type\":\"delivery\",\"event_id\":\"e\","
               "\"account_id\":\"a\\u0000b\",\"event_time\":5}",
               "account_id: contains a NUL character");

    /* 256 bytes is the limit; 257 is one too many. */
    char line[1024], id[258];
    memset(id, 'x', 257);
    id[257] = '\0';
    snprintf(line, sizeof(line),
             "{\"type\":\"delivery\",\"event_id\":\"e\","
             "\"account_id\":\"%s\",\"event_time\":5}",
             id);
    expect_bad(line, "account_id");
    id[256] = '\0';
    snprintf(line, sizeof(line),
             "{\"type\":\"delivery\",\"event_id\":\"e\","
             "\"account_id\":\"%s\",\"event_time\":5}",
             id);
    cr_expect_eq(parse(line), RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(rec.account_id.len, 256);
}

Test(jsonl, bad_symbol_is_quoted_safely) {
    char line[1024], sym[301];
    memset(sym, 'Q', 300);
    sym[300] = '\0';
    snprintf(line, sizeof(line),
             "{\"type\":\"complaint\"," GOOD_HEAD ",\"feedback_type\":\"%s\"}",
             sym);
    expect_bad(line, "QQQ...\"");
    cr_expect_lt(strlen(err), 120);
    expect_bad("{\"type\":\"complaint\"," GOOD_HEAD
               ",\"feedback_type\":\"A\\nB\"}",
               "unknown symbol \"A?B\"");
}

Test(jsonl, reader_is_reusable_after_errors) {
    expect_bad("{nope", "not valid JSON");
    cr_expect_eq(parse("{\"type\":\"delivery\"," GOOD_HEAD "}"),
                 RP_JSONL_RECORD, "%s", err);
    cr_expect_eq(err[0], '\0');
}

Test(jsonl, small_error_buffers_are_safe) {
    char small[8];
    const char *line = "{\"type\":\"bounce\"," GOOD_HEAD
                       ",\"bounce_type\":\"HARD\",\"bounce_subtype\":\"X\"}";
    int rc = rp_jsonl_parse(reader, line, strlen(line), &rec, &tick, small,
                            sizeof(small));
    cr_expect_lt(rc, 0);
    cr_expect_str_eq(small, "bounce_");
    rc = rp_jsonl_parse(reader, line, strlen(line), &rec, &tick, NULL, 0);
    cr_expect_lt(rc, 0);
}
