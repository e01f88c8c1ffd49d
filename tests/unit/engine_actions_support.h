/*
 * engine_actions_support.h - what the engine's tests of actions share
 * (test_engine_actions.c, test_engine_actions_review.c,
 * test_engine_links.c): the scenario's account and instants, the reviews
 * and pauses the tests start from, and actions fed as records.
 *
 * Config (support.h): bounce review/pause 0.05/0.10, window.min.volume
 * 100, rate.min.volume 50, review.period 1d, 2 extensions. The helpers are
 * static inline, so that each test program takes what it uses without a
 * warning for the rest.
 */
#ifndef REPUTE_TEST_ENGINE_ACTIONS_SUPPORT_H
#define REPUTE_TEST_ENGINE_ACTIONS_SUPPORT_H

#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define ACCT "acct-1"
#define T    (T0 + 30 * MINUTE)
#define R    (T + DAY)

/* A bounce review started at T (5 / 100): events 1-2. */
static inline void bounce_review(harness *h) {
    feed_deliveries(h, ACCT, T, 95);
    feed_hard_bounces(h, ACCT, T, 5);
}

/* A bounce review at T (ending 15 / 100), paused at R: events 1-4. */
static inline void bounce_paused(harness *h) {
    feed_deliveries(h, ACCT, T, 85);
    feed_hard_bounces(h, ACCT, T, 15);
    tick(h, R);
    ASSERT_ISTATUS(view_of(h, ACCT), RP_ISSUE_BOUNCE_RATE,
                   RP_ISTATUS_SENDING_PAUSE);
}

/* A SPAMTRAP review started at `at` (3 incidents). */
static inline void spamtrap_review(harness *h, const char *acct, int64_t at) {
    rp_record r = mk_report(acct, at, RP_ISSUE_SPAMTRAP, 3);
    feed(h, &r);
}

static inline void act(harness *h, const char *acct, int64_t at,
                       rp_action_type a, rp_issue_kind issue) {
    rp_record r = mk_action_on(acct, at, a, issue);
    feed(h, &r);
}

static inline void act_all(harness *h, const char *acct, int64_t at,
                           rp_action_type a) {
    rp_record r = mk_action(acct, at, a);
    feed(h, &r);
}

static inline void link(harness *h, const char *from, const char *to,
                        int64_t at, rp_action_type a) {
    rp_record r = mk_action(from, at, a);
    rec_set_related(&r, to);
    feed(h, &r);
}

#define NOT_APPLIED(h) (stats_of(h).actions_not_applied)

#endif
