/*
 * notice.c - rendering a notification's title, "why" and actions from the
 * text records of notice_text.c.
 *
 * Titles and actions are static strings, so only the "why" is rendered,
 * into the caller's buffer: its template is expanded with the parts of the
 * kind record, the rate sentence and the review end's date. Rendering
 * never allocates and never fails: the writer below counts what fits,
 * drops the rest and always leaves a NUL-terminated string, however small
 * the buffer. Rates are printed with as few decimals as read well, but
 * never so few that a rate on one side of its threshold prints as the
 * threshold itself.
 */
#include "repute/notice.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/notice_text.h"

/* The text of a kind or stage out of range. */
static const char *const notice_generic_title = "Sending reputation notice";
static const char *const notice_generic_why =
    "There is a change in the sending reputation of your account. Check the "
    "status of your account for details.";
static const char *const notice_generic_actions[] = {
    "Check the status of your account and any open reviews.",
    "Contact support if anything in the status is unclear.",
};

/* ---------------------------------------------------------------- writer */

/* A writer into a fixed buffer: it keeps what fits, drops the rest, and
 * always leaves the buffer NUL-terminated. Spaces collapse: a space is
 * written only after a character that is not a space, so a template part
 * that renders empty leaves no double space behind. */
typedef struct notice_writer {
    char *buf;
    size_t size;
    size_t len;
    char last; /* the last character written or dropped, 0 at the start */
} notice_writer;

static void writer_char(notice_writer *w, char c) {
    if (c == ' ' && (w->last == 0 || w->last == ' '))
        return;
    w->last = c;
    if (w->len + 1 < w->size)
        w->buf[w->len++] = c;
}

static void writer_str(notice_writer *w, const char *s) {
    for (; s && *s; s++)
        writer_char(w, *s);
}

/* Ends the text: drops a trailing space and writes the NUL. */
static void writer_finish(notice_writer *w) {
    while (w->len > 0 && w->buf[w->len - 1] == ' ')
        w->len--;
    w->buf[w->len] = '\0';
}

/* ---------------------------------------------------------------- numbers */

/* Formats a fraction as a percentage without the sign, with the given
 * number of decimals and trailing zeros removed: 0.062 -> "6.2",
 * 0.05 -> "5". */
static void format_percent_at(char *out, size_t size, double v, int decimals) {
    snprintf(out, size, "%.*f", decimals, v * 100.0);
    char *dot = strchr(out, '.');
    if (!dot)
        return;
    char *end = out + strlen(out);
    while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
}

/* The number of decimals a percentage reads well with: one from 1% up,
 * two below, more when a small but non-zero value would show as "0". */
static int percent_decimals(double v) {
    double pct = fabs(v * 100.0);
    int decimals = pct >= 1.0 ? 1 : 2;
    double shown = 0.005; /* the smallest value that rounds to non-zero */
    while (decimals < 4 && pct > 0.0 && pct < shown) {
        decimals++;
        shown /= 10.0;
    }
    return decimals;
}

/* Formats the rate and the threshold it is held against. When the rate is
 * on the other side of the threshold but would print the same (4.996%
 * against 5%), the rate gets more decimals, so the text never reads
 * "5%, below the 5% threshold". */
static void format_rate_pair(char *rate_out, char *thr_out, size_t size,
                             double rate, double threshold) {
    format_percent_at(thr_out, size, threshold, percent_decimals(threshold));
    int decimals = percent_decimals(rate);
    format_percent_at(rate_out, size, rate, decimals);
    while (rate != threshold && strcmp(rate_out, thr_out) == 0 && decimals < 6)
        format_percent_at(rate_out, size, rate, ++decimals);
}

/* Writes the review end as "2026-01-09 14:00 UTC". Returns false when the
 * time cannot be shown (out of the range of the calendar functions). */
static bool format_date(char *out, size_t size, int64_t ms) {
    int64_t secs = ms / RP_MS_PER_SECOND;
    if (ms % RP_MS_PER_SECOND < 0)
        secs--; /* round towards the past for times before 1970 */
    time_t t = (time_t)secs;
    if ((int64_t)t != secs)
        return false;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return false;
    return strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) > 0;
}

/* The sentence on the rate of a rate issue: its value against the
 * threshold of the stage, or that it is not known yet. */
static void format_rate_sentence(char *out, size_t size,
                                 const rp_notification *n,
                                 const notice_kind *k) {
    const char *which = (n->stage == RP_STAGE_SENDING_PAUSED ||
                         n->stage == RP_STAGE_PENDING_SENDING_PAUSE)
                            ? "pause"
                            : "review";
    bool has_threshold = n->has_threshold && isfinite(n->threshold);
    char rate[32], thr[32];
    if (n->has_rate && isfinite(n->rate)) {
        if (has_threshold) {
            format_rate_pair(rate, thr, sizeof rate, n->rate, n->threshold);
            snprintf(out, size, "Your %s is %s%%, %s the %s%% %s threshold.",
                     k->metric, rate,
                     n->rate >= n->threshold ? "at or above" : "below", thr,
                     which);
        } else {
            format_percent_at(rate, sizeof rate, n->rate,
                              percent_decimals(n->rate));
            snprintf(out, size, "Your %s is %s%%.", k->metric, rate);
        }
    } else if (has_threshold) {
        format_percent_at(thr, sizeof thr, n->threshold,
                          percent_decimals(n->threshold));
        snprintf(out, size,
                 "Your %s is not known yet, because too little mail has been "
                 "counted to measure it; the %s threshold is %s%%.",
                 k->metric, which, thr);
    } else {
        snprintf(out, size,
                 "Your %s is not known yet, because too little mail has been "
                 "counted to measure it.",
                 k->metric);
    }
}

/* ---------------------------------------------------------------- render */

/* Expands a why template into the writer. An unknown placeholder is
 * dropped, so a template error shows as a missing word, never as garbage. */
static void render_why(notice_writer *w, const char *tmpl,
                       const rp_notification *n, const notice_kind *k,
                       const char *date) {
    const char *p = tmpl;
    while (*p) {
        if (*p != '{') {
            writer_char(w, *p++);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            writer_str(w, p);
            return;
        }
        size_t len = (size_t)(close - p - 1);
        const char *name = p + 1;
        if (len == 5 && memcmp(name, "cause", 5) == 0) {
            writer_str(w, k->cause);
        } else if (len == 7 && memcmp(name, "matters", 7) == 0) {
            writer_str(w, k->matters);
        } else if (len == 5 && memcmp(name, "topic", 5) == 0) {
            writer_str(w, k->topic);
        } else if (len == 4 && memcmp(name, "date", 4) == 0) {
            writer_str(w, date);
        } else if (len == 4 && memcmp(name, "rate", 4) == 0 && k->metric) {
            char sentence[256];
            format_rate_sentence(sentence, sizeof sentence, n, k);
            writer_str(w, sentence);
        }
        p = close + 1;
    }
}

/* Appends the actions of one slot, up to the limit of the stage. */
static void add_slot_actions(rp_notification *n, const notice_slot *slot,
                             const notice_kind *k) {
    const char *one = NULL;
    switch (slot->kind) {
    case SLOT_REMEDIES:
        for (size_t i = 0;
             i < slot->max && i < NOTICE_MAX_REMEDIES && k->remedies[i] &&
             n->n_actions < NOTICE_STAGE_MAX_ACTIONS;
             i++)
            n->actions[n->n_actions++] = k->remedies[i];
        return;
    case SLOT_EVIDENCE: one = k->evidence; break;
    case SLOT_KEEP: one = k->keep; break;
    case SLOT_FOLLOW_UP:
        one = k->metric   ? rp_notice_follow_up_rate
              : k->manual ? rp_notice_follow_up_manual
                          : rp_notice_follow_up_report;
        break;
    case SLOT_TEXT: one = slot->text; break;
    case SLOT_END: return;
    }
    if (one && n->n_actions < NOTICE_STAGE_MAX_ACTIONS)
        n->actions[n->n_actions++] = one;
}

void rp_notice_render(rp_notification *n, char *buf, size_t size) {
    for (size_t i = 0; i < RP_NOTICE_MAX_ACTIONS; i++)
        n->actions[i] = NULL;
    n->n_actions = 0;

    /* With no room at all the why is a static empty string. */
    static const char empty[] = "";
    notice_writer w = {buf, size, 0, 0};
    n->why = (buf && size > 0) ? buf : empty;

    if ((unsigned)n->issue >= RP_ISSUE__COUNT ||
        (unsigned)n->stage >= RP_STAGE__COUNT) {
        n->title = notice_generic_title;
        if (buf && size > 0) {
            writer_str(&w, notice_generic_why);
            writer_finish(&w);
        }
        for (size_t i = 0; i < sizeof notice_generic_actions /
                                   sizeof notice_generic_actions[0];
             i++)
            n->actions[n->n_actions++] = notice_generic_actions[i];
        return;
    }

    const notice_kind *k = &rp_notice_kinds[n->issue];
    const notice_stage *s = &rp_notice_stages[n->stage];
    n->title = k->titles[n->stage];

    if (buf && size > 0) {
        char date[64];
        bool dated = n->has_review_end && s->why_dated &&
                     format_date(date, sizeof date, n->review_ends_at);
        render_why(&w, dated ? s->why_dated : s->why_open, n, k,
                   dated ? date : "");
        writer_finish(&w);
    }

    for (const notice_slot *slot = s->actions; slot->kind != SLOT_END; slot++)
        add_slot_actions(n, slot, k);
}
