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
 *
 * A notification about a tenant (n->tenant set, docs/rules.md section 10)
 * is rendered from the tenant's records of notice_text_tenant.c instead:
 * the same templates and slots, written for one stream of the account's
 * mail, with {tenant} standing for the tenant's name. The name is the only
 * text of the record that is ever quoted; it is written as it is (spaces
 * are not collapsed, so the owner sees the name they gave), except that a
 * control character becomes '?', so that the why stays one line. When the
 * buffer cuts the why off inside a name that is not ASCII, the partial
 * UTF-8 character is dropped, so that the why stays valid UTF-8.
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

/* Writes s as it is, with no collapsing of spaces (a name is quoted
 * exactly), a control character shown as '?'. */
static void writer_raw(notice_writer *w, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        w->last = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        if (w->len + 1 < w->size)
            w->buf[w->len++] = w->last;
    }
}

/* Drops an incomplete UTF-8 character at the end of the text: the lead
 * byte and the continuation bytes that follow it, when fewer than the lead
 * byte announces. Only a quoted tenant name can put one there, and only
 * when the buffer cut it off; the texts themselves are ASCII. */
static void writer_trim_utf8(notice_writer *w) {
    size_t cont = 0;
    while (cont < 3 && cont < w->len &&
           ((unsigned char)w->buf[w->len - 1 - cont] & 0xC0) == 0x80)
        cont++;
    if (cont == w->len)
        return;
    unsigned char lead = (unsigned char)w->buf[w->len - 1 - cont];
    size_t need = (lead & 0xE0) == 0xC0   ? 1
                  : (lead & 0xF0) == 0xE0 ? 2
                  : (lead & 0xF8) == 0xF0 ? 3
                                          : 0;
    if (lead >= 0xC0 && cont < need)
        w->len -= cont + 1;
}

/* Ends the text: drops a partial character and a trailing space and writes
 * the NUL. */
static void writer_finish(notice_writer *w) {
    writer_trim_utf8(w);
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
                                 const rp_notification *n, const notice_kind *k,
                                 const char *whose) {
    const char *which = (n->stage == RP_STAGE_SENDING_PAUSED ||
                         n->stage == RP_STAGE_PENDING_SENDING_PAUSE)
                            ? "pause"
                            : "review";
    bool has_threshold = n->has_threshold && isfinite(n->threshold);
    char rate[32], thr[32];
    if (n->has_rate && isfinite(n->rate)) {
        if (has_threshold) {
            format_rate_pair(rate, thr, sizeof rate, n->rate, n->threshold);
            snprintf(out, size, "%s %s is %s%%, %s the %s%% %s threshold.",
                     whose, k->metric, rate,
                     n->rate >= n->threshold ? "at or above" : "below", thr,
                     which);
        } else {
            format_percent_at(rate, sizeof rate, n->rate,
                              percent_decimals(n->rate));
            snprintf(out, size, "%s %s is %s%%.", whose, k->metric, rate);
        }
    } else if (has_threshold) {
        format_percent_at(thr, sizeof thr, n->threshold,
                          percent_decimals(n->threshold));
        snprintf(out, size,
                 "%s %s is not known yet, because too little mail has been "
                 "counted to measure it; the %s threshold is %s%%.",
                 whose, k->metric, which, thr);
    } else {
        snprintf(out, size,
                 "%s %s is not known yet, because too little mail has been "
                 "counted to measure it.",
                 whose, k->metric);
    }
}

/* ---------------------------------------------------------------- render */

/* What a why template is expanded with: the notification, the texts of
 * its kind (the account's or the tenant's), the sentence on why it matters
 * (a tenant kind may borrow the account kind's), the review end's date and
 * whose rate the rate sentence is. */
typedef struct notice_ctx {
    const rp_notification *n;
    const notice_kind *k;
    const char *matters;
    const char *date;
    const char *whose;
} notice_ctx;

/* True when the notification is about a tenant: a tenant is never empty
 * (docs/rules.md section 10), so an empty one is taken as none. */
static bool has_tenant(const rp_notification *n) {
    return n->tenant.ptr != NULL && n->tenant.len > 0;
}

/* Expands one placeholder; an unknown one writes nothing. */
static void render_part(notice_writer *w, const char *name, size_t len,
                        const notice_ctx *c) {
    if (len == 5 && memcmp(name, "cause", 5) == 0) {
        writer_str(w, c->k->cause);
    } else if (len == 7 && memcmp(name, "matters", 7) == 0) {
        writer_str(w, c->matters);
    } else if (len == 5 && memcmp(name, "topic", 5) == 0) {
        writer_str(w, c->k->topic);
    } else if (len == 4 && memcmp(name, "date", 4) == 0) {
        writer_str(w, c->date);
    } else if (len == 4 && memcmp(name, "rate", 4) == 0 && c->k->metric) {
        char sentence[256];
        format_rate_sentence(sentence, sizeof sentence, c->n, c->k, c->whose);
        writer_str(w, sentence);
    } else if (len == 6 && memcmp(name, "tenant", 6) == 0 && has_tenant(c->n)) {
        writer_char(w, '"');
        writer_raw(w, c->n->tenant.ptr, c->n->tenant.len);
        writer_char(w, '"');
    }
}

/* Expands a why template into the writer. An unknown placeholder is
 * dropped, so a template error shows as a missing word, never as garbage. */
static void render_why(notice_writer *w, const char *tmpl,
                       const notice_ctx *c) {
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
        render_part(w, p + 1, (size_t)(close - p - 1), c);
        p = close + 1;
    }
}

/* Appends the actions of one slot, up to the limit of the stage. */
static void add_slot_actions(rp_notification *n, const notice_slot *slot,
                             const notice_kind *k, bool tenant) {
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
        if (tenant)
            one = k->metric   ? rp_notice_tenant_follow_up_rate
                  : k->manual ? rp_notice_tenant_follow_up_manual
                              : rp_notice_tenant_follow_up_report;
        else
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

/* Fills the generic text of a kind or stage out of range. */
static void render_generic(rp_notification *n, notice_writer *w) {
    n->title = notice_generic_title;
    if (w->buf && w->size > 0) {
        writer_str(w, notice_generic_why);
        writer_finish(w);
    }
    for (size_t i = 0;
         i < sizeof notice_generic_actions / sizeof notice_generic_actions[0];
         i++)
        n->actions[n->n_actions++] = notice_generic_actions[i];
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
        render_generic(n, &w);
        return;
    }

    bool tenant = has_tenant(n);
    const notice_kind *account_kind = &rp_notice_kinds[n->issue];
    const notice_kind *k =
        tenant ? &rp_notice_tenant_kinds[n->issue] : account_kind;
    const notice_stage *s = tenant ? &rp_notice_tenant_stages[n->stage]
                                   : &rp_notice_stages[n->stage];
    n->title = k->titles[n->stage];

    if (buf && size > 0) {
        char date[64];
        bool dated = n->has_review_end && s->why_dated &&
                     format_date(date, sizeof date, n->review_ends_at);
        notice_ctx c = {n, k, k->matters ? k->matters : account_kind->matters,
                        dated ? date : "", tenant ? "This tenant's" : "Your"};
        render_why(&w, dated ? s->why_dated : s->why_open, &c);
        writer_finish(&w);
    }

    for (const notice_slot *slot = s->actions; slot->kind != SLOT_END; slot++)
        add_slot_actions(n, slot, k, tenant);
}
