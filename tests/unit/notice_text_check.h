/*
 * notice_text_check.h - what the tests of notification texts (test_notice.c,
 * test_notice_tenant.c) search rendered texts with. Header only: each test
 * program is one file, and these two are its only users.
 */
#ifndef REPUTE_TESTS_NOTICE_TEXT_CHECK_H
#define REPUTE_TESTS_NOTICE_TEXT_CHECK_H

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "repute/record.h"

/* Case-insensitive substring search. */
static inline bool contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) ==
                   tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* Joins the title, the why and the actions of a rendered notification into
 * one text, so a test can search all of it at once. */
static inline void all_text(const rp_notification *n, char *out, size_t size) {
    size_t len = (size_t)snprintf(out, size, "%s\n%s", n->title, n->why);
    for (size_t i = 0; i < n->n_actions && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "\n%s", n->actions[i]);
}

#endif
