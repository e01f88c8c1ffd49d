/*
 * test_config_validate.c - the checks of rp_config_validate (src/config/):
 * the relations between keys that no single value shows (a review rate
 * above its pause rate, spans out of order, periods that must be
 * positive, topics that must differ), for values set by key and by code
 * alike. The helpers are config_support.h's.
 */
#include "config_support.h"

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
