/*
 * test_notice.c - the notification texts of src/engine/notice.c.
 *
 * The texts are data, so these tests hold the data to its promises: every
 * kind and stage renders a title, a why and a short list of actions; the
 * rates and the review end are quoted as a reader expects them; a small
 * buffer truncates without overflow; the kinds that need specific advice
 * give it; and no text names a reporter or an organization.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "repute/notice.h"

#include "notice_text_check.h"

/* 2026-01-09 14:00 UTC. */
#define REVIEW_END INT64_C(1767967200000)

/* ---------------------------------------------------------------- helpers */

/* A notification of one kind and stage, with no rate and no review end. */
static rp_notification notice(rp_issue_kind kind, rp_stage stage) {
    rp_notification n;
    memset(&n, 0, sizeof n);
    n.issue = kind;
    n.stage = stage;
    return n;
}

/* The same, with a rate, a threshold and a review end. */
static rp_notification notice_full(rp_issue_kind kind, rp_stage stage,
                                   double rate, double threshold) {
    rp_notification n = notice(kind, stage);
    n.has_rate = true;
    n.rate = rate;
    n.has_threshold = true;
    n.threshold = threshold;
    n.has_review_end = true;
    n.review_ends_at = REVIEW_END;
    return n;
}

/* Renders a kind at every stage and joins all of its texts. */
static void kind_text(rp_issue_kind kind, char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    for (int s = 0; s < RP_STAGE__COUNT && len < size; s++) {
        rp_notification n = notice(kind, (rp_stage)s);
        char buf[1024], one[4096];
        rp_notice_render(&n, buf, sizeof buf);
        all_text(&n, one, sizeof one);
        len += (size_t)snprintf(out + len, size - len, "%s\n", one);
    }
}

/* ---------------------------------------------------------------- shape */

Test(notice, every_kind_and_stage_renders_a_full_text) {
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        for (int s = 0; s < RP_STAGE__COUNT; s++) {
            for (int variant = 0; variant < 2; variant++) {
                rp_notification n =
                    variant ? notice_full((rp_issue_kind)k, (rp_stage)s,
                                          0.123456, 0.1)
                            : notice((rp_issue_kind)k, (rp_stage)s);
                char buf[1024];
                memset(buf, 'x', sizeof buf);
                rp_notice_render(&n, buf, sizeof buf);
                const char *what = rp_issue_kind_name((rp_issue_kind)k);
                const char *when = rp_stage_name((rp_stage)s);
                cr_assert_not_null(n.title, "%s/%s", what, when);
                cr_assert_gt(strlen(n.title), 0, "%s/%s", what, when);
                cr_assert_lt(strlen(n.title), 80, "%s/%s", what, when);
                cr_assert_eq(n.why, buf, "%s/%s: why not in buf", what, when);
                cr_assert_gt(strlen(n.why), 40, "%s/%s", what, when);
                cr_assert_leq(strlen(n.why), 512, "%s/%s: why is %zu bytes",
                              what, when, strlen(n.why));
                cr_assert_geq(n.n_actions, 2, "%s/%s", what, when);
                cr_assert_leq(n.n_actions, 6, "%s/%s", what, when);
                for (size_t i = 0; i < RP_NOTICE_MAX_ACTIONS; i++) {
                    if (i < n.n_actions) {
                        cr_assert_not_null(n.actions[i]);
                        cr_assert_gt(strlen(n.actions[i]), 10);
                    } else {
                        cr_assert_null(n.actions[i]);
                    }
                }
                /* No double spaces, no leftover placeholders, no leading
                 * or trailing space, and the why ends a sentence. */
                cr_assert_null(strstr(n.why, "  "), "%s/%s: %s", what, when,
                               n.why);
                cr_assert_null(strchr(n.why, '{'), "%s/%s", what, when);
                cr_assert_neq(n.why[0], ' ');
                cr_assert_eq(n.why[strlen(n.why) - 1], '.', "%s/%s: %s", what,
                             when, n.why);
            }
        }
    }
}

Test(notice, texts_are_plain_ascii) {
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        for (int s = 0; s < RP_STAGE__COUNT; s++) {
            rp_notification n =
                notice_full((rp_issue_kind)k, (rp_stage)s, 0.062, 0.05);
            char buf[1024], text[4096];
            rp_notice_render(&n, buf, sizeof buf);
            all_text(&n, text, sizeof text);
            for (const char *p = text; *p; p++)
                cr_assert((unsigned char)*p < 0x80 &&
                              (isprint((unsigned char)*p) || *p == '\n'),
                          "non-ASCII byte in %s/%s",
                          rp_issue_kind_name((rp_issue_kind)k),
                          rp_stage_name((rp_stage)s));
        }
    }
}

Test(notice, titles_name_the_stage) {
    rp_notification n = notice(RP_ISSUE_BOUNCE_RATE, RP_STAGE_REVIEW_STARTED);
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert_str_eq(n.title, "Bounce rate review started");
    n = notice(RP_ISSUE_SPAMTRAP, RP_STAGE_SENDING_PAUSED);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(contains_ci(n.title, "paused"), "%s", n.title);
    n = notice(RP_ISSUE_SPAMTRAP, RP_STAGE_RESOLVED);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(contains_ci(n.title, "resolved"), "%s", n.title);
}

Test(notice, out_of_range_gets_a_generic_text) {
    char buf[1024];
    rp_notification n = notice(RP_ISSUE__COUNT, RP_STAGE_REVIEW_STARTED);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert_gt(strlen(n.title), 0);
    cr_assert_gt(strlen(n.why), 0);
    cr_assert_geq(n.n_actions, 2);
    n = notice(RP_ISSUE_BOUNCE_RATE, (rp_stage)99);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert_gt(strlen(n.title), 0);
    cr_assert_geq(n.n_actions, 2);
    n = notice((rp_issue_kind)-1, RP_STAGE_RESOLVED);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert_geq(n.n_actions, 2);
}

Test(notice, stale_actions_are_cleared) {
    rp_notification n = notice(RP_ISSUE_OTHER, RP_STAGE_RESOLVED);
    for (size_t i = 0; i < RP_NOTICE_MAX_ACTIONS; i++)
        n.actions[i] = "stale";
    n.n_actions = RP_NOTICE_MAX_ACTIONS;
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    for (size_t i = n.n_actions; i < RP_NOTICE_MAX_ACTIONS; i++)
        cr_assert_null(n.actions[i]);
}

/* ---------------------------------------------------------------- rates */

Test(notice, bounce_rate_is_quoted_against_its_threshold) {
    rp_notification n =
        notice_full(RP_ISSUE_BOUNCE_RATE, RP_STAGE_REVIEW_STARTED, 0.062, 0.05);
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "Your bounce rate is 6.2%, at or above the 5% "
                            "review threshold."),
              "%s", n.why);
}

Test(notice, complaint_rate_is_quoted_with_small_percentages) {
    rp_notification n = notice_full(RP_ISSUE_COMPLAINT_RATE,
                                    RP_STAGE_REVIEW_STARTED, 0.0012, 0.001);
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "0.12%"), "%s", n.why);
    cr_assert(strstr(n.why, "the 0.1% review threshold"), "%s", n.why);

    n = notice_full(RP_ISSUE_COMPLAINT_RATE, RP_STAGE_REVIEW_STARTED, 0.001,
                    0.001);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "complaint rate is 0.1%, at or above the 0.1%"),
              "%s", n.why);

    n = notice_full(RP_ISSUE_COMPLAINT_RATE, RP_STAGE_RESOLVED, 0.0005, 0.001);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "0.05%, below the 0.1% review threshold"), "%s",
              n.why);

    n = notice_full(RP_ISSUE_COMPLAINT_RATE, RP_STAGE_RESOLVED, 0.0, 0.001);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "complaint rate is 0%, below"), "%s", n.why);
}

Test(notice, paused_stages_quote_the_pause_threshold) {
    char buf[1024];
    rp_notification n =
        notice_full(RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_PAUSED, 0.125, 0.10);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "12.5%, at or above the 10% pause threshold"), "%s",
              n.why);
    n = notice_full(RP_ISSUE_COMPLAINT_RATE, RP_STAGE_PENDING_SENDING_PAUSE,
                    0.006, 0.005);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "0.6%, at or above the 0.5% pause threshold"), "%s",
              n.why);
}

Test(notice, a_rate_just_below_its_threshold_never_reads_equal) {
    rp_notification n =
        notice_full(RP_ISSUE_BOUNCE_RATE, RP_STAGE_RESOLVED, 0.04996, 0.05);
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "below the 5% review threshold"), "%s", n.why);
    cr_assert_null(strstr(n.why, " 5%, below"), "%s", n.why);
    cr_assert(strstr(n.why, "4.996%"), "%s", n.why);
}

Test(notice, an_unknown_rate_is_said_to_be_unknown) {
    rp_notification n = notice(RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_RESUMED);
    n.has_threshold = true;
    n.threshold = 0.05;
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "bounce rate is not known yet"), "%s", n.why);
    cr_assert(strstr(n.why, "the review threshold is 5%"), "%s", n.why);

    /* Without a threshold either, and with a rate that is not a number. */
    n = notice(RP_ISSUE_COMPLAINT_RATE, RP_STAGE_REVIEW_EXTENDED);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "complaint rate is not known yet"), "%s", n.why);
    cr_assert_null(strchr(n.why, '%'), "%s", n.why);
    n.has_rate = true;
    n.rate = NAN;
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "not known yet"), "%s", n.why);
    cr_assert_null(strstr(n.why, "nan"), "%s", n.why);
}

Test(notice, report_issues_quote_no_rate) {
    rp_notification n =
        notice_full(RP_ISSUE_SPAMTRAP, RP_STAGE_REVIEW_STARTED, 0.5, 0.1);
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert_null(strchr(n.why, '%'), "%s", n.why);
    cr_assert_null(strstr(n.why, "rate is"), "%s", n.why);
}

/* ---------------------------------------------------------------- dates */

Test(notice, the_review_end_is_quoted_in_utc) {
    rp_notification n =
        notice_full(RP_ISSUE_BOUNCE_RATE, RP_STAGE_REVIEW_STARTED, 0.062, 0.05);
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "2026-01-09 14:00 UTC"), "%s", n.why);

    n = notice_full(RP_ISSUE_LISTBOMBING, RP_STAGE_REVIEW_EXTENDED, 0, 0);
    n.review_ends_at = REVIEW_END + 59999; /* seconds are not shown */
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "until 2026-01-09 14:00 UTC"), "%s", n.why);

    n = notice_full(RP_ISSUE_SPAMTRAP, RP_STAGE_SENDING_RESUMED, 0, 0);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "2026-01-09 14:00 UTC"), "%s", n.why);
}

Test(notice, a_review_without_end_quotes_no_date) {
    rp_notification n =
        notice(RP_ISSUE_DOMAIN_BLOCKLIST, RP_STAGE_REVIEW_EXTENDED);
    n.review_ends_at = REVIEW_END; /* ignored: has_review_end is false */
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert_null(strstr(n.why, "UTC"), "%s", n.why);
    cr_assert_null(strstr(n.why, "2026"), "%s", n.why);
}

Test(notice, a_review_end_out_of_calendar_range_is_dropped) {
    rp_notification n = notice(RP_ISSUE_BOUNCE_RATE, RP_STAGE_REVIEW_STARTED);
    n.has_review_end = true;
    n.review_ends_at = INT64_MAX;
    char buf[1024];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert_gt(strlen(n.why), 40);
    cr_assert_null(strstr(n.why, "until ."), "%s", n.why);
    cr_assert_null(strstr(n.why, "ends ,"), "%s", n.why);
}

/* ---------------------------------------------------------------- manual */

Test(notice, manual_kinds_say_a_person_decides) {
    const rp_issue_kind manual[] = {
        RP_ISSUE_INTERNAL_REVIEW, RP_ISSUE_RELATED_ACCOUNT,
        RP_ISSUE_VULNERABLE_SITE, RP_ISSUE_COMPROMISED_CREDENTIALS,
        RP_ISSUE_OTHER};
    for (size_t i = 0; i < sizeof manual / sizeof manual[0]; i++) {
        rp_notification n = notice(manual[i], RP_STAGE_REVIEW_STARTED);
        char buf[1024], text[4096];
        rp_notice_render(&n, buf, sizeof buf);
        cr_assert(strstr(n.why, "a person"), "%s: %s",
                  rp_issue_kind_name(manual[i]), n.why);
        cr_assert_null(strstr(n.why, "review ends 2"), "%s", n.why);
        all_text(&n, text, sizeof text);
        cr_assert(contains_ci(text, "case"), "%s", text);
    }
}

Test(notice, pending_stages_say_what_to_send) {
    const rp_stage stages[] = {RP_STAGE_DECISION_PENDING,
                               RP_STAGE_PENDING_SENDING_PAUSE};
    for (size_t i = 0; i < 2; i++) {
        rp_notification n = notice(RP_ISSUE_BOUNCE_RATE, stages[i]);
        char buf[1024], text[4096];
        rp_notice_render(&n, buf, sizeof buf);
        cr_assert(strstr(n.why, "person"), "%s", n.why);
        all_text(&n, text, sizeof text);
        cr_assert(contains_ci(text, "what you changed") ||
                      contains_ci(text, "what you have changed"),
                  "%s", text);
    }
}

Test(notice, paused_text_says_how_to_resume) {
    rp_notification n = notice(RP_ISSUE_LISTBOMBING, RP_STAGE_SENDING_PAUSED);
    char buf[1024], text[4096];
    rp_notice_render(&n, buf, sizeof buf);
    all_text(&n, text, sizeof text);
    cr_assert(contains_ci(n.why, "paused"), "%s", n.why);
    cr_assert(contains_ci(text, "ask for a review of the pause"), "%s", text);
}

Test(notice, resolved_text_thanks_and_keeps_it_healthy) {
    rp_notification n = notice(RP_ISSUE_COMPLAINT_RATE, RP_STAGE_RESOLVED);
    char buf[1024], text[4096];
    rp_notice_render(&n, buf, sizeof buf);
    all_text(&n, text, sizeof text);
    cr_assert(contains_ci(n.why, "thank"), "%s", n.why);
    cr_assert(contains_ci(text, "unsubscrib"), "%s", text);
}

/* ---------------------------------------------------------------- buffers */

Test(notice, a_tiny_buffer_truncates_without_overflow) {
    char buf[32];
    memset(buf, '#', sizeof buf);
    rp_notification n =
        notice_full(RP_ISSUE_BOUNCE_RATE, RP_STAGE_REVIEW_STARTED, 0.062, 0.05);
    rp_notice_render(&n, buf, 16);
    cr_assert_eq(n.why, buf);
    cr_assert_eq(strlen(buf), 15);
    for (size_t i = 16; i < sizeof buf; i++)
        cr_assert_eq(buf[i], '#', "byte %zu was written", i);
    cr_assert_geq(n.n_actions, 2);
    cr_assert_gt(strlen(n.title), 0);

    /* Every kind and stage at every small size. */
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        for (int s = 0; s < RP_STAGE__COUNT; s++)
            for (size_t size = 1; size <= 24; size++) {
                memset(buf, '#', sizeof buf);
                n = notice_full((rp_issue_kind)k, (rp_stage)s, 0.062, 0.05);
                rp_notice_render(&n, buf, size);
                cr_assert_lt(strlen(buf), size);
                for (size_t i = size; i < sizeof buf; i++)
                    cr_assert_eq(buf[i], '#');
            }
}

Test(notice, no_buffer_gives_an_empty_why) {
    rp_notification n = notice(RP_ISSUE_SPAMTRAP, RP_STAGE_REVIEW_STARTED);
    rp_notice_render(&n, NULL, 0);
    cr_assert_not_null(n.why);
    cr_assert_str_eq(n.why, "");
    cr_assert_geq(n.n_actions, 2);

    char one = '#';
    rp_notice_render(&n, &one, 1);
    cr_assert_eq(one, '\0');
    cr_assert_eq(n.why, &one);
}

/* ---------------------------------------------------------------- content */

Test(notice, spamtrap_texts_give_the_list_hygiene_steps) {
    char text[16384];
    kind_text(RP_ISSUE_SPAMTRAP, text, sizeof text);
    const char *words[] = {"opt-in",          "bought",   "rented",
                           "scraped",         "typo",     "months",
                           "never disclosed", "recycled", "abandoned"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        cr_assert(contains_ci(text, words[i]), "missing \"%s\"", words[i]);
}

Test(notice, domain_blocklist_texts_give_the_domain_checks) {
    char text[16384];
    kind_text(RP_ISSUE_DOMAIN_BLOCKLIST, text, sizeof text);
    const char *words[] = {"every domain", "blocklist", "link",     "image",
                           "tracking",     "replace",   "delisting"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        cr_assert(contains_ci(text, words[i]), "missing \"%s\"", words[i]);
}

Test(notice, other_kinds_give_their_specific_steps) {
    static const struct {
        rp_issue_kind kind;
        const char *words[5];
    } cases[] = {
        {RP_ISSUE_LISTBOMBING,
         {"CAPTCHA", "opt-in", "rate-limit", "permission pass", NULL}},
        {RP_ISSUE_COMPROMISED_CREDENTIALS,
         {"rotate", "SMTP password", "do not recognise", "short-lived",
          "public places"}},
        {RP_ISSUE_VULNERABLE_SITE,
         {"CAPTCHA", "log in", "rate-limit", "free text", NULL}},
        {RP_ISSUE_RELATED_ACCOUNT, {"related account first", NULL}},
        {RP_ISSUE_BOUNCE_RATE,
         {"hard-bounced", "bought", "sign up", "clean", NULL}},
        {RP_ISSUE_COMPLAINT_RATE,
         {"asked", "unsubscribe", "honour", "how often", "send less often"}},
        {RP_ISSUE_DIRECT_FEEDBACK,
         {"opt-in", "who you are", "unsubscribe", "not engaged", NULL}},
        {RP_ISSUE_INTERNAL_REVIEW, {"details", "case", NULL}},
        {RP_ISSUE_OTHER, {"details", "case", NULL}},
    };
    char text[16384];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        kind_text(cases[c].kind, text, sizeof text);
        for (size_t i = 0; i < 5 && cases[c].words[i]; i++)
            cr_assert(contains_ci(text, cases[c].words[i]),
                      "%s: missing \"%s\"", rp_issue_kind_name(cases[c].kind),
                      cases[c].words[i]);
    }
}

Test(notice, no_text_names_a_reporter_or_an_organization) {
    /* Words that would reveal who reported, complained or owns a trap. */
    const char *forbidden[] = {
        "reporter",  "Spamhaus", "SURBL",   "URIBL",     "SpamCop",
        "Gmail",     "Google",   "Yahoo",   "Microsoft", "Outlook",
        "Hotmail",   "AOL",      "Apple",   "iCloud",    "Proofpoint",
        "Cloudmark", "Validity", "Abusix",  "Barracuda", "Return Path",
        "Amazon",    "SES",      "Comcast", "Mailgun",   "SendGrid",
        "@",         "http",     "www."};
    char text[16384];
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        kind_text((rp_issue_kind)k, text, sizeof text);
        for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
            /* Short upper-case names are matched as whole words only. */
            const char *w = forbidden[i];
            bool hit;
            if (strlen(w) <= 3 && isupper((unsigned char)w[0])) {
                hit = false;
                for (const char *p = strstr(text, w); p && !hit;
                     p = strstr(p + 1, w))
                    hit = (p == text || !isalpha((unsigned char)p[-1])) &&
                          !isalpha((unsigned char)p[strlen(w)]);
            } else {
                hit = contains_ci(text, w);
            }
            cr_assert(!hit, "%s texts contain \"%s\"",
                      rp_issue_kind_name((rp_issue_kind)k), w);
        }
    }
}
