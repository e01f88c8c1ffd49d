/*
 * test_notice_tenant.c - the notification texts for a tenant of an account
 * (src/engine/notice_text_tenant.c, docs/notifications.md).
 *
 * A tenant's notice must say which tenant, that only its mail is
 * concerned, and what to do about that stream; it must never say that the
 * account is paused, and it quotes nothing of the record but the tenant's
 * name. These tests render every kind at every stage with a tenant and
 * hold the texts to that, and check that the longest name fits the
 * engine's buffer, that a cut-off name never leaves half a UTF-8
 * character, and that a notice without a tenant is the account's text.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "repute/notice.h"

#include "notice_text_check.h"

/* 2026-01-09 14:00 UTC. */
#define REVIEW_END INT64_C(1767967200000)

/* The size of the engine's why buffer (src/engine/engine_int.h) and the
 * API's (src/api/routes.h). */
#define WHY_SIZE 1024

/* ---------------------------------------------------------------- helpers */

/* A notification of one kind and stage about tenant t; `full` adds a rate,
 * a threshold and a review end. */
static rp_notification tnotice(rp_issue_kind kind, rp_stage stage,
                               const char *t, bool full) {
    rp_notification n;
    memset(&n, 0, sizeof n);
    n.issue = kind;
    n.stage = stage;
    n.tenant = rp_str_c(t);
    if (full) {
        n.has_rate = true;
        n.rate = 0.062;
        n.has_threshold = true;
        n.threshold = 0.05;
        n.has_review_end = true;
        n.review_ends_at = REVIEW_END;
    }
    return n;
}

/* Phrases that would tell the owner their whole account is paused or
 * about to be: a tenant's texts must contain none of them. */
static const char *const account_paused[] = {
    "account is paused", "sending from your account",
    "no mail leaves it", "account's sending is paused",
    "all of your mail",  "whether your account keeps sending",
};

/* ---------------------------------------------------------------- shape */

Test(notice_tenant, every_kind_and_stage_names_the_tenant) {
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        for (int s = 0; s < RP_STAGE__COUNT; s++) {
            for (int full = 0; full < 2; full++) {
                const char *what = rp_issue_kind_name((rp_issue_kind)k);
                const char *when = rp_stage_name((rp_stage)s);
                rp_notification n = tnotice((rp_issue_kind)k, (rp_stage)s,
                                            "shop-42", full != 0);
                char buf[WHY_SIZE], text[8192];
                memset(buf, 'x', sizeof buf);
                rp_notice_render(&n, buf, sizeof buf);
                all_text(&n, text, sizeof text);
                cr_assert_eq(n.why, buf, "%s/%s", what, when);
                cr_assert_not_null(n.title);
                cr_assert_lt(strlen(n.title), 80, "%s/%s", what, when);
                cr_assert(contains_ci(n.title, "tenant"), "%s/%s: %s", what,
                          when, n.title);
                cr_assert(strstr(n.why, "tenant \"shop-42\""),
                          "%s/%s: the why does not name the tenant: %s", what,
                          when, n.why);
                /* Only the tenant's mail: the rest of the account goes on. */
                cr_assert(strstr(n.why, "rest of your account's"),
                          "%s/%s: the why does not scope to the tenant: %s",
                          what, when, n.why);
                for (size_t i = 0;
                     i < sizeof account_paused / sizeof account_paused[0]; i++)
                    cr_assert(!contains_ci(text, account_paused[i]),
                              "%s/%s says \"%s\": %s", what, when,
                              account_paused[i], text);
                cr_assert_geq(n.n_actions, 2, "%s/%s", what, when);
                cr_assert_leq(n.n_actions, 6, "%s/%s", what, when);
                for (size_t i = 0; i < RP_NOTICE_MAX_ACTIONS; i++) {
                    if (i < n.n_actions)
                        cr_assert_gt(strlen(n.actions[i]), 10);
                    else
                        cr_assert_null(n.actions[i]);
                }
                cr_assert_null(strstr(n.why, "  "), "%s/%s: %s", what, when,
                               n.why);
                cr_assert_null(strchr(n.why, '{'), "%s/%s", what, when);
                cr_assert_eq(n.why[strlen(n.why) - 1], '.', "%s/%s: %s", what,
                             when, n.why);
            }
        }
    }
}

Test(notice_tenant, titles_and_actions_differ_from_the_account) {
    /* Every title and at least one action of every kind and stage is the
     * tenant's own, not the account's text. */
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        for (int s = 0; s < RP_STAGE__COUNT; s++) {
            rp_notification a =
                tnotice((rp_issue_kind)k, (rp_stage)s, NULL, true);
            rp_notification t =
                tnotice((rp_issue_kind)k, (rp_stage)s, "b", true);
            char abuf[WHY_SIZE], tbuf[WHY_SIZE];
            rp_notice_render(&a, abuf, sizeof abuf);
            rp_notice_render(&t, tbuf, sizeof tbuf);
            cr_assert_str_neq(a.title, t.title);
            cr_assert_str_neq(a.why, t.why);
            bool own = false;
            for (size_t i = 0; i < t.n_actions; i++)
                own = own || contains_ci(t.actions[i], "tenant");
            cr_assert(own, "%s/%s: no action speaks of the tenant",
                      rp_issue_kind_name((rp_issue_kind)k),
                      rp_stage_name((rp_stage)s));
        }
    }
}

Test(notice_tenant, paused_text_says_only_the_tenant_is_paused) {
    rp_notification n =
        tnotice(RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_PAUSED, "shop-42", true);
    n.has_review_end = false;
    n.threshold = 0.1;
    n.rate = 0.12;
    char buf[WHY_SIZE], text[8192];
    rp_notice_render(&n, buf, sizeof buf);
    all_text(&n, text, sizeof text);
    cr_assert_str_eq(n.title, "Bounce rate: a tenant's sending paused");
    cr_assert(strstr(n.why, "Sending for your tenant \"shop-42\" is paused"),
              "%s", n.why);
    cr_assert(strstr(n.why, "Only this tenant is paused"), "%s", n.why);
    cr_assert(strstr(n.why, "This tenant's bounce rate is 12%, at or above "
                            "the 10% pause threshold."),
              "%s", n.why);
    /* What to do about that stream: its list and its sign-up path. */
    cr_assert(contains_ci(text, "the list this tenant mails"), "%s", text);
    cr_assert(contains_ci(text, "sign-up"), "%s", text);
    cr_assert(contains_ci(text, "ask for a review of this tenant's pause"),
              "%s", text);
}

Test(notice_tenant, follow_up_names_the_tenant) {
    static const rp_issue_kind kinds[] = {RP_ISSUE_BOUNCE_RATE,
                                          RP_ISSUE_SPAMTRAP, RP_ISSUE_OTHER};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        rp_notification n =
            tnotice(kinds[i], RP_STAGE_REVIEW_STARTED, "t", false);
        char buf[WHY_SIZE];
        rp_notice_render(&n, buf, sizeof buf);
        cr_assert(contains_ci(n.actions[n.n_actions - 1], "this tenant"), "%s",
                  n.actions[n.n_actions - 1]);
    }
}

Test(notice_tenant, manual_and_rate_kinds_match_the_account) {
    /* The tenant's kind records keep the account's class of kind, which
     * picks the follow-up and the rate sentence. */
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        rp_notification a =
            tnotice((rp_issue_kind)k, RP_STAGE_REVIEW_STARTED, NULL, true);
        rp_notification t =
            tnotice((rp_issue_kind)k, RP_STAGE_REVIEW_STARTED, "x", true);
        a.has_review_end = t.has_review_end = false;
        char abuf[WHY_SIZE], tbuf[WHY_SIZE];
        rp_notice_render(&a, abuf, sizeof abuf);
        rp_notice_render(&t, tbuf, sizeof tbuf);
        cr_assert_eq(strstr(a.why, "6.2%") != NULL,
                     strstr(t.why, "6.2%") != NULL, "%s",
                     rp_issue_kind_name((rp_issue_kind)k));
        cr_assert_eq(contains_ci(a.why, "a person on our team"),
                     contains_ci(t.why, "a person on our team"), "%s",
                     rp_issue_kind_name((rp_issue_kind)k));
    }
}

/* ---------------------------------------------------------------- the name */

Test(notice_tenant, the_longest_name_fits_the_buffer) {
    char name[RP_TENANT_MAX + 1];
    memset(name, 'n', RP_TENANT_MAX);
    name[RP_TENANT_MAX] = '\0';
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        for (int s = 0; s < RP_STAGE__COUNT; s++) {
            for (int unknown = 0; unknown < 2; unknown++) {
                /* The longest rate sentences: a rate of many decimals, or an
                 * unknown one against a threshold of many decimals. */
                rp_notification n =
                    tnotice((rp_issue_kind)k, (rp_stage)s, name, true);
                n.rate = 0.0123456;
                if (unknown) {
                    n.has_rate = false;
                    n.threshold = 0.0000123456;
                }
                char buf[WHY_SIZE + 8];
                memset(buf, '#', sizeof buf);
                rp_notice_render(&n, buf, WHY_SIZE);
                size_t len = strlen(buf);
                cr_assert_lt(len, WHY_SIZE - 1, "%s/%s: %zu bytes, cut off",
                             rp_issue_kind_name((rp_issue_kind)k),
                             rp_stage_name((rp_stage)s), len);
                cr_assert_eq(buf[len - 1], '.');
                cr_assert(strstr(buf, name));
                for (size_t i = WHY_SIZE; i < sizeof buf; i++)
                    cr_assert_eq(buf[i], '#');
            }
        }
    }
}

Test(notice_tenant, the_name_is_quoted_exactly_and_nothing_else) {
    /* Spaces are kept as given; a control character shows as '?'. */
    rp_notification n = tnotice(RP_ISSUE_SPAMTRAP, RP_STAGE_REVIEW_STARTED,
                                "Brand  A\n\x7f", false);
    char buf[WHY_SIZE];
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "tenant \"Brand  A??\""), "%s", n.why);
    cr_assert_null(strchr(n.why, '\n'));

    /* Non-ASCII names are kept byte for byte. */
    n = tnotice(RP_ISSUE_SPAMTRAP, RP_STAGE_RESOLVED, "caf\xc3\xa9", false);
    rp_notice_render(&n, buf, sizeof buf);
    cr_assert(strstr(n.why, "\"caf\xc3\xa9\""), "%s", n.why);
}

Test(notice_tenant, a_cut_off_name_leaves_no_partial_character) {
    /* A name of two-, three- and four-byte characters, cut at every size:
     * the why is always valid UTF-8 and within the buffer. */
    static const char *const names[] = {
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
        "\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac",
        "\xf0\x9f\x93\xa7\xf0\x9f\x93\xa7\xf0\x9f\x93\xa7",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (size_t size = 1; size <= 120; size++) {
            rp_notification n = tnotice(
                RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_PAUSED, names[i], false);
            char buf[160];
            memset(buf, '#', sizeof buf);
            rp_notice_render(&n, buf, size);
            size_t len = strlen(buf);
            cr_assert_lt(len, size);
            for (size_t j = size; j < sizeof buf; j++)
                cr_assert_eq(buf[j], '#');
            /* Walk the UTF-8: every lead byte has all its continuations. */
            for (size_t j = 0; j < len;) {
                unsigned char c = (unsigned char)buf[j];
                size_t need = c < 0x80             ? 0
                              : (c & 0xE0) == 0xC0 ? 1
                              : (c & 0xF0) == 0xE0 ? 2
                                                   : 3;
                cr_assert((c & 0xC0) != 0x80, "stray continuation at %zu", j);
                cr_assert_lt(j + need, len,
                             "size %zu: partial character at %zu", size, j);
                for (size_t m = 1; m <= need; m++)
                    cr_assert_eq((unsigned char)buf[j + m] & 0xC0, 0x80);
                j += need + 1;
            }
        }
    }
}

Test(notice_tenant, an_empty_tenant_is_the_account) {
    rp_notification a =
        tnotice(RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_PAUSED, NULL, true);
    rp_notification t =
        tnotice(RP_ISSUE_BOUNCE_RATE, RP_STAGE_SENDING_PAUSED, "", true);
    char abuf[WHY_SIZE], tbuf[WHY_SIZE];
    rp_notice_render(&a, abuf, sizeof abuf);
    rp_notice_render(&t, tbuf, sizeof tbuf);
    cr_assert_str_eq(a.why, t.why);
    cr_assert_str_eq(a.title, t.title);
    cr_assert(strstr(a.why, "Sending from your account is paused"), "%s",
              a.why);
}

Test(notice_tenant, texts_quote_no_reporter_or_organization) {
    /* The tenant's texts are as confidential as the account's. */
    const char *forbidden[] = {"reporter", "Spamhaus",  "Gmail", "Google",
                               "Yahoo",    "Microsoft", "@",     "http"};
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        for (int s = 0; s < RP_STAGE__COUNT; s++) {
            rp_notification n =
                tnotice((rp_issue_kind)k, (rp_stage)s, "t1", true);
            char buf[WHY_SIZE], text[8192];
            rp_notice_render(&n, buf, sizeof buf);
            all_text(&n, text, sizeof text);
            for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++)
                cr_assert(!contains_ci(text, forbidden[i]), "%s/%s: \"%s\"",
                          rp_issue_kind_name((rp_issue_kind)k),
                          rp_stage_name((rp_stage)s), forbidden[i]);
            for (const char *p = text; *p; p++)
                cr_assert((unsigned char)*p < 0x80, "non-ASCII in %s/%s",
                          rp_issue_kind_name((rp_issue_kind)k),
                          rp_stage_name((rp_stage)s));
        }
    }
}
