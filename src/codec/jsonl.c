/*
 * jsonl.c - JSON lines in and out (repute/jsonl.h, SPEC section 9).
 *
 * Reading. A line is parsed by jansson into a document that the reader
 * keeps until the next line: the rp_record handed back borrows its strings
 * straight from the document's string values (jansson stores them with
 * their length, so they need no copy), and a complaint's recipients point
 * into a growable rp_str array owned by the reader. Parsing a line
 * therefore costs jansson's allocations and nothing of ours once the
 * recipients array has grown. Fields are looked up by name, so their order
 * in the line does not matter and unknown fields are simply never looked
 * at (docs/semantics.md, item 18). Every field goes through one of a few
 * typed getters that know the three shapes a field can have in the
 * contract: required, defaulted (may be absent, not null) and nullable
 * (may be absent or null). A getter that fails writes "<field>: <reason>"
 * into errstr, so every error names the field at fault; the record is
 * finally checked with rp_record_check() for what no type can say (an
 * empty account_id, one longer than 256 bytes, ...). Strings may not hold
 * a NUL byte: jansson is told to accept "\u0000" so that the getter, not
 * the JSON parser, reports it with the field's name.
 *
 * Timestamps are integer milliseconds or ISO 8601 strings. The ISO parser
 * is written out here with the days-from-civil arithmetic of the proleptic
 * Gregorian calendar, so it depends on neither timegm() nor the locale or
 * time zone of the process. Both forms are held to the years 0000-9999:
 * the engine adds review periods to these times, and a bound far from
 * INT64_MIN/MAX keeps that arithmetic safe.
 *
 * Writing. Output is formatted by hand into a caller's rp_buf, so that
 * writing an event allocates nothing once the buffer has grown to the
 * largest line. The writer keeps a sticky error: every put_* helper does
 * nothing after the first failed append, and the public function checks
 * the error once at the end and cuts the buffer back to where it started,
 * so a failed write never leaves half a line behind. Fields come in schema
 * order. Doubles are written in the shortest of %.15g, %.16g and %.17g
 * that strtod() reads back as the same double (repute never calls
 * setlocale(), so the decimal point is '.'); a NaN or an infinity, which
 * JSON cannot express, is written as null. Strings are escaped as JSON
 * requires ('"', '\\' and the control characters, these as \u00XX); valid
 * UTF-8 passes through unchanged and every byte that is not part of a
 * valid UTF-8 sequence becomes U+FFFD, so the output is always valid JSON
 * whatever bytes an account id held.
 */
#include "repute/jsonl.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- limits */

/* The timestamps accepted in input: 0000-01-01T00:00:00.000Z to
 * 9999-12-31T23:59:59.999Z. */
#define RP_JSONL_TIME_MIN INT64_C(-62167219200000)
#define RP_JSONL_TIME_MAX INT64_C(253402300799999)

/* How much of an offending value an error message quotes. */
#define RP_JSONL_QUOTE_MAX 64

/* ---------------------------------------------------------------- reader */

struct rp_jsonl_reader {
    json_t *doc;        /* the last parsed line, owner of its strings */
    rp_str *recipients; /* a complaint's recipients, reused */
    size_t recipients_cap;
};

rp_jsonl_reader *rp_jsonl_reader_new(void) {
    return calloc(1, sizeof(rp_jsonl_reader));
}

void rp_jsonl_reader_destroy(rp_jsonl_reader *r) {
    if (!r)
        return;
    json_decref(r->doc);
    free(r->recipients);
    free(r);
}

/* ---------------------------------------------------------------- errors */

/* Writes "<field>: <reason>" into errstr and returns RP_EBADDATA. */
static int field_error(char *errstr, size_t size, const char *field,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int field_error(char *errstr, size_t size, const char *field,
                       const char *fmt, ...) {
    if (!errstr || size == 0)
        return RP_EBADDATA;
    int n = snprintf(errstr, size, "%s: ", field);
    if (n >= 0 && (size_t)n < size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr + n, size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return RP_EBADDATA;
}

/* Copies at most RP_JSONL_QUOTE_MAX bytes of s into out for quoting in an
 * error message, with control characters replaced by '?' and "..." when
 * the value was cut. out must hold RP_JSONL_QUOTE_MAX + 4 bytes. */
static const char *quote_value(const char *s, size_t len, char *out) {
    size_t n = len < RP_JSONL_QUOTE_MAX ? len : RP_JSONL_QUOTE_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

/* The JSON type of v as the error messages name it. */
static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

/* ---------------------------------------------------------------- time */

/* Days since 1970-01-01 of a date of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). m is 1-12, d is 1-31. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* 0-399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0-365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0-146096 */
    return era * 146097 + doe - 719468;
}

static bool is_leap_year(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap_year(y)) ? 29 : days[m - 1];
}

/* Reads exactly n decimal digits at s[*i] into *out. */
static bool read_digits(const char *s, size_t len, size_t *i, int n, int *out) {
    int v = 0;
    if (*i + (size_t)n > len)
        return false;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return true;
}

static bool read_char(const char *s, size_t len, size_t *i, char c) {
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

/*
 * The accepted forms: YYYY-MM-DD, then 'T' (or 't' or one space, as RFC
 * 3339 allows), hh:mm:ss, optionally '.' and one or more digits of
 * fractional seconds (cut to milliseconds), then 'Z' (or 'z') or an offset
 * +hh:mm, -hh:mm, +hhmm or +hh. A time without a zone is refused: it would
 * depend on where it was written.
 */
int rp_time_parse_iso8601(const char *s, size_t len, int64_t *out_ms) {
    size_t i = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0;

    if (!s)
        return RP_EINVAL;
    if (!read_digits(s, len, &i, 4, &year) || !read_char(s, len, &i, '-') ||
        !read_digits(s, len, &i, 2, &month) || !read_char(s, len, &i, '-') ||
        !read_digits(s, len, &i, 2, &day))
        return RP_EINVAL;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return RP_EINVAL;
    i++;
    if (!read_digits(s, len, &i, 2, &hour) || !read_char(s, len, &i, ':') ||
        !read_digits(s, len, &i, 2, &minute) || !read_char(s, len, &i, ':') ||
        !read_digits(s, len, &i, 2, &second))
        return RP_EINVAL;
    if (month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 59)
        return RP_EINVAL;

    /* Fractional seconds: the first three digits count, the rest are cut. */
    if (i < len && s[i] == '.') {
        int digits = 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (digits < 3)
                ms = ms * 10 + (s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0)
            return RP_EINVAL;
        for (int k = digits; k < 3; k++)
            ms *= 10;
    }

    /* The zone. */
    int64_t offset_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
        i++;
        if (!read_digits(s, len, &i, 2, &oh))
            return RP_EINVAL;
        if (i < len) {
            read_char(s, len, &i, ':');
            if (!read_digits(s, len, &i, 2, &om))
                return RP_EINVAL;
        }
        if (oh > 23 || om > 59)
            return RP_EINVAL;
        offset_min = sign * (oh * 60 + om);
    } else {
        return RP_EINVAL;
    }
    if (i != len)
        return RP_EINVAL;

    int64_t days = days_from_civil(year, month, day);
    int64_t t =
        days * RP_MS_PER_DAY +
        ((int64_t)hour * 3600 + minute * 60 + second) * RP_MS_PER_SECOND + ms -
        offset_min * 60 * RP_MS_PER_SECOND;
    if (t < RP_JSONL_TIME_MIN || t > RP_JSONL_TIME_MAX)
        return RP_EINVAL;
    *out_ms = t;
    return 0;
}

/* ---------------------------------------------------------------- getters */

/* The shapes a field takes in the contract. */
typedef enum field_shape {
    FIELD_REQUIRED, /* must be present, not null */
    FIELD_DEFAULT,  /* may be absent (the default stays), not null */
    FIELD_NULLABLE  /* may be absent or null (both mean null) */
} field_shape;

/* Looks the field up. Returns 1 with *out when it holds a value, 0 when it
 * is absent or null and its shape allows that, or an error. */
static int get_field(json_t *obj, const char *name, field_shape shape,
                     json_t **out, char *errstr, size_t size) {
    json_t *v = json_object_get(obj, name);
    if (!v) {
        if (shape == FIELD_REQUIRED)
            return field_error(errstr, size, name, "missing");
        return 0;
    }
    if (json_is_null(v)) {
        if (shape == FIELD_NULLABLE)
            return 0;
        return field_error(errstr, size, name, "must not be null");
    }
    *out = v;
    return 1;
}

/* A string. Absent or null leaves *out untouched (the caller's default). */
static int get_string(json_t *obj, const char *name, field_shape shape,
                      rp_str *out, char *errstr, size_t size) {
    json_t *v = NULL;
    int rc = get_field(obj, name, shape, &v, errstr, size);
    if (rc <= 0)
        return rc;
    if (!json_is_string(v))
        return field_error(errstr, size, name, "expected a string, got %s",
                           json_type_name(v));
    const char *p = json_string_value(v);
    size_t n = json_string_length(v);
    if (memchr(p, '\0', n))
        return field_error(errstr, size, name, "contains a NUL character");
    out->ptr = p;
    out->len = n;
    return 0;
}

static int get_bool(json_t *obj, const char *name, field_shape shape, bool *out,
                    char *errstr, size_t size) {
    json_t *v = NULL;
    int rc = get_field(obj, name, shape, &v, errstr, size);
    if (rc <= 0)
        return rc;
    if (!json_is_boolean(v))
        return field_error(errstr, size, name, "expected a boolean, got %s",
                           json_type_name(v));
    *out = json_is_true(v);
    return 0;
}

/* A timestamp: integer milliseconds or an ISO 8601 string. *has (when not
 * NULL) says whether a value was given. */
static int get_time(json_t *obj, const char *name, field_shape shape, bool *has,
                    int64_t *out, char *errstr, size_t size) {
    json_t *v = NULL;
    int rc = get_field(obj, name, shape, &v, errstr, size);
    if (rc <= 0)
        return rc;
    char q[RP_JSONL_QUOTE_MAX + 4];
    int64_t t;
    if (json_is_integer(v)) {
        t = (int64_t)json_integer_value(v);
        if (t < RP_JSONL_TIME_MIN || t > RP_JSONL_TIME_MAX)
            return field_error(errstr, size, name,
                               "%lld is out of range (years 0000 to 9999)",
                               (long long)t);
    } else if (json_is_string(v)) {
        const char *p = json_string_value(v);
        size_t n = json_string_length(v);
        if (rp_time_parse_iso8601(p, n, &t) != 0)
            return field_error(errstr, size, name,
                               "\"%s\" is not an ISO 8601 UTC timestamp like "
                               "2026-01-02T03:04:05Z (years 0000 to 9999)",
                               quote_value(p, n, q));
    } else {
        return field_error(errstr, size, name,
                           "expected integer milliseconds or an ISO 8601 "
                           "string, got %s",
                           json_type_name(v));
    }
    if (has)
        *has = true;
    *out = t;
    return 0;
}

/* An enum symbol, found with one of the rp_*_parse functions of types.h. */
static int get_enum(json_t *obj, const char *name, field_shape shape,
                    int (*parse)(const char *, size_t), bool *has, int *out,
                    char *errstr, size_t size) {
    json_t *v = NULL;
    int rc = get_field(obj, name, shape, &v, errstr, size);
    if (rc <= 0)
        return rc;
    if (!json_is_string(v))
        return field_error(errstr, size, name,
                           "expected a symbol string, got %s",
                           json_type_name(v));
    const char *p = json_string_value(v);
    size_t n = json_string_length(v);
    int sym = parse(p, n);
    if (sym < 0) {
        char q[RP_JSONL_QUOTE_MAX + 4];
        return field_error(errstr, size, name, "unknown symbol \"%s\"",
                           quote_value(p, n, q));
    }
    if (has)
        *has = true;
    *out = sym;
    return 0;
}

/* ---------------------------------------------------------------- records */

/* The fields every outcome (delivery, bounce, complaint) shares. */
static int parse_message_fields(json_t *o, rp_str *message_id,
                                bool *has_sent_time, int64_t *sent_time,
                                char *e, size_t es) {
    int rc;
    *message_id = (rp_str){"", 0};
    if ((rc = get_string(o, "message_id", FIELD_DEFAULT, message_id, e, es)))
        return rc;
    return get_time(o, "sent_time", FIELD_NULLABLE, has_sent_time, sent_time, e,
                    es);
}

static int parse_delivery(json_t *o, rp_delivery *d, char *e, size_t es) {
    int rc;
    if ((rc = parse_message_fields(o, &d->message_id, &d->has_sent_time,
                                   &d->sent_time, e, es)))
        return rc;
    d->recipient = (rp_str){"", 0};
    if ((rc = get_string(o, "recipient", FIELD_DEFAULT, &d->recipient, e, es)))
        return rc;
    if ((rc = get_bool(o, "verified_recipient", FIELD_DEFAULT,
                       &d->verified_recipient, e, es)))
        return rc;
    if ((rc = get_bool(o, "simulator", FIELD_DEFAULT, &d->simulator, e, es)))
        return rc;
    return get_bool(o, "feedback_loop", FIELD_DEFAULT, &d->feedback_loop, e,
                    es);
}

static int parse_bounce(json_t *o, rp_bounce *b, char *e, size_t es) {
    int rc, type = 0, subtype = 0;
    if ((rc = parse_message_fields(o, &b->message_id, &b->has_sent_time,
                                   &b->sent_time, e, es)))
        return rc;
    b->recipient = (rp_str){"", 0};
    if ((rc = get_string(o, "recipient", FIELD_DEFAULT, &b->recipient, e, es)))
        return rc;
    if ((rc = get_enum(o, "bounce_type", FIELD_REQUIRED, rp_bounce_type_parse,
                       NULL, &type, e, es)))
        return rc;
    if ((rc = get_enum(o, "bounce_subtype", FIELD_REQUIRED,
                       rp_bounce_subtype_parse, NULL, &subtype, e, es)))
        return rc;
    b->bounce_type = (rp_bounce_type)type;
    b->bounce_subtype = (rp_bounce_subtype)subtype;
    if ((rc = get_bool(o, "verified_recipient", FIELD_DEFAULT,
                       &b->verified_recipient, e, es)))
        return rc;
    if ((rc = get_bool(o, "simulator", FIELD_DEFAULT, &b->simulator, e, es)))
        return rc;
    return get_string(o, "diagnostic", FIELD_NULLABLE, &b->diagnostic, e, es);
}

static int parse_complaint(rp_jsonl_reader *r, json_t *o, rp_complaint *c,
                           char *e, size_t es) {
    int rc, type = 0;
    if ((rc = parse_message_fields(o, &c->message_id, &c->has_sent_time,
                                   &c->sent_time, e, es)))
        return rc;

    /* recipients: an array of strings, kept in the reader's array. */
    json_t *arr = NULL;
    rc = get_field(o, "recipients", FIELD_DEFAULT, &arr, e, es);
    if (rc < 0)
        return rc;
    c->recipients = NULL;
    c->n_recipients = 0;
    if (rc == 1) {
        if (!json_is_array(arr))
            return field_error(e, es, "recipients",
                               "expected an array of strings, got %s",
                               json_type_name(arr));
        size_t n = json_array_size(arr);
        if (n > r->recipients_cap) {
            size_t cap = r->recipients_cap ? r->recipients_cap : 8;
            while (cap < n)
                cap *= 2;
            rp_str *p = realloc(r->recipients, cap * sizeof(*p));
            if (!p)
                return RP_ENOMEM;
            r->recipients = p;
            r->recipients_cap = cap;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(arr, i);
            if (!json_is_string(v))
                return field_error(e, es, "recipients",
                                   "element %zu: expected a string, got %s", i,
                                   json_type_name(v));
            const char *p = json_string_value(v);
            size_t len = json_string_length(v);
            if (memchr(p, '\0', len))
                return field_error(e, es, "recipients",
                                   "element %zu contains a NUL character", i);
            r->recipients[i] = (rp_str){p, len};
        }
        c->recipients = r->recipients;
        c->n_recipients = n;
    }

    if ((rc = get_enum(o, "feedback_type", FIELD_REQUIRED,
                       rp_feedback_type_parse, NULL, &type, e, es)))
        return rc;
    c->feedback_type = (rp_feedback_type)type;
    if ((rc = get_bool(o, "on_suppression_list", FIELD_DEFAULT,
                       &c->on_suppression_list, e, es)))
        return rc;
    return get_bool(o, "simulator", FIELD_DEFAULT, &c->simulator, e, es);
}

static int parse_report(json_t *o, rp_report *rp, char *e, size_t es) {
    int rc, kind = 0;
    if ((rc = get_enum(o, "kind", FIELD_REQUIRED, rp_issue_kind_parse, NULL,
                       &kind, e, es)))
        return rc;
    if (kind < RP_ISSUE__FIRST_REPORT)
        return field_error(e, es, "kind",
                           "\"%s\" is not a report kind (a rate issue is "
                           "measured, not reported)",
                           rp_issue_kind_name((rp_issue_kind)kind));
    rp->kind = (rp_issue_kind)kind;

    json_t *v = NULL;
    rc = get_field(o, "incidents", FIELD_DEFAULT, &v, e, es);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        if (!json_is_integer(v))
            return field_error(e, es, "incidents",
                               "expected an integer, got %s",
                               json_type_name(v));
        json_int_t n = json_integer_value(v);
        if (n < 1 || n > INT32_MAX)
            return field_error(e, es, "incidents",
                               "must be from 1 to 2147483647, got %lld",
                               (long long)n);
        rp->incidents = (int32_t)n;
    }
    if ((rc = get_string(o, "domain", FIELD_NULLABLE, &rp->domain, e, es)))
        return rc;
    if ((rc = get_string(o, "related_account_id", FIELD_NULLABLE,
                         &rp->related_account_id, e, es)))
        return rc;
    if ((rc = get_string(o, "reporter", FIELD_NULLABLE, &rp->reporter, e, es)))
        return rc;
    return get_string(o, "detail", FIELD_NULLABLE, &rp->detail, e, es);
}

static int parse_action(json_t *o, rp_action *a, char *e, size_t es) {
    int rc, action = 0, issue = 0;
    if ((rc = get_enum(o, "action", FIELD_REQUIRED, rp_action_type_parse, NULL,
                       &action, e, es)))
        return rc;
    a->action = (rp_action_type)action;
    if ((rc = get_enum(o, "issue", FIELD_NULLABLE, rp_issue_kind_parse,
                       &a->has_issue, &issue, e, es)))
        return rc;
    a->issue = (rp_issue_kind)issue;
    if ((rc = get_time(o, "effective_time", FIELD_NULLABLE,
                       &a->has_effective_time, &a->effective_time, e, es)))
        return rc;
    if ((rc = get_string(o, "related_account_id", FIELD_NULLABLE,
                         &a->related_account_id, e, es)))
        return rc;
    return get_string(o, "note", FIELD_NULLABLE, &a->note, e, es);
}

/* ---------------------------------------------------------------- parse */

/* Turns a jansson error into the reason for errstr. A repeated field is
 * refused (which of two values would count is anyone's guess) and named
 * as such, although the line is otherwise valid JSON. Any other reason
 * loses jansson's "near '...'" quote of the input and keeps the column:
 * the quote may be part of a confidential field (a report's reporter),
 * and reasons go to logs (docs/input.md). */
static int json_error(const json_error_t *jerr, char *e, size_t es) {
    if (!e || !es)
        return RP_EBADDATA;
    const char *near = strstr(jerr->text, "near '");
    size_t n = near ? strlen(near + 6) : 0;
    if (json_error_code(jerr) == json_error_duplicate_key && n > 0 &&
        near[6 + n - 1] == '\'')
        snprintf(e, es, "duplicate field %.*s", (int)(n - 1), near + 6);
    else {
        size_t len = near ? (size_t)(near - jerr->text) : strlen(jerr->text);
        while (len > 0 && jerr->text[len - 1] == ' ')
            len--;
        snprintf(e, es, "not valid JSON: %.*s (column %d)", (int)len,
                 jerr->text, jerr->column);
    }
    return RP_EBADDATA;
}

static bool is_blank(const char *line, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
            line[i] != '\n')
            return false;
    return true;
}

int rp_jsonl_parse(rp_jsonl_reader *r, const char *line, size_t len,
                   rp_record *rec, int64_t *tick_time, char *errstr,
                   size_t errstr_size) {
    char *e = errstr;
    size_t es = errstr_size;
    json_error_t jerr;
    int rc;

    if (e && es)
        e[0] = '\0';
    /* The previous document goes now: what it lent is no longer needed. */
    json_decref(r->doc);
    r->doc = NULL;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (is_blank(line, len))
        return RP_JSONL_BLANK;

    r->doc = json_loadb(
        line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
        &jerr);
    if (!r->doc)
        return json_error(&jerr, e, es);
    json_t *o = r->doc;
    if (!json_is_object(o)) {
        if (e && es)
            snprintf(e, es, "expected a JSON object, got %s",
                     json_type_name(o));
        return RP_EBADDATA;
    }

    /* The type decides everything else. */
    json_t *tv = NULL;
    if ((rc = get_field(o, "type", FIELD_REQUIRED, &tv, e, es)) < 0)
        return rc;
    if (!json_is_string(tv))
        return field_error(e, es, "type", "expected a string, got %s",
                           json_type_name(tv));
    const char *ts = json_string_value(tv);
    size_t tlen = json_string_length(tv);
    if (tlen == 4 && memcmp(ts, "tick", 4) == 0) {
        int64_t t = 0;
        if ((rc = get_time(o, "time", FIELD_REQUIRED, NULL, &t, e, es)))
            return rc;
        *tick_time = t;
        return RP_JSONL_TICK;
    }
    int type = rp_rec_type_parse(ts, tlen);
    if (type < 0) {
        char q[RP_JSONL_QUOTE_MAX + 4];
        return field_error(e, es, "type",
                           "unknown type \"%s\" (expected delivery, bounce, "
                           "complaint, report, action or tick)",
                           quote_value(ts, tlen, q));
    }

    /* The fields every record has, then the type's own. */
    rp_record_init(rec, (rp_rec_type)type);
    if ((rc = get_string(o, "event_id", FIELD_REQUIRED, &rec->event_id, e, es)))
        return rc;
    if ((rc = get_string(o, "account_id", FIELD_REQUIRED, &rec->account_id, e,
                         es)))
        return rc;
    if ((rc = get_time(o, "event_time", FIELD_REQUIRED, NULL, &rec->event_time,
                       e, es)))
        return rc;
    switch (rec->type) {
    case RP_REC_DELIVERY:
        rc = parse_delivery(o, &rec->u.delivery, e, es);
        break;
    case RP_REC_BOUNCE: rc = parse_bounce(o, &rec->u.bounce, e, es); break;
    case RP_REC_COMPLAINT:
        rc = parse_complaint(r, o, &rec->u.complaint, e, es);
        break;
    case RP_REC_REPORT: rc = parse_report(o, &rec->u.report, e, es); break;
    case RP_REC_ACTION: rc = parse_action(o, &rec->u.action, e, es); break;
    default: rc = RP_EINVAL; break;
    }
    if (rc == RP_ENOMEM && e && es)
        snprintf(e, es, "%s", rp_strerror(RP_ENOMEM));
    if (rc)
        return rc;
    if ((rc = rp_record_check(rec, e, es)))
        return rc;
    return RP_JSONL_RECORD;
}

/* ---------------------------------------------------------------- writer */

/* A writer over an rp_buf with a sticky error (see the top of the file). */
typedef struct writer {
    rp_buf *b;
    size_t start; /* the length of b when the write began */
    int err;
} writer;

static writer writer_begin(rp_buf *b) {
    writer w = {b, b->len, 0};
    return w;
}

/* Ends a write: on error, cuts the buffer back to where it began. */
static int writer_end(writer *w) {
    if (w->err) {
        w->b->len = w->start;
        if (w->b->data)
            w->b->data[w->b->len] = '\0';
    }
    return w->err;
}

static void put_bytes(writer *w, const char *p, size_t n) {
    if (!w->err && rp_buf_append(w->b, p, n) != 0)
        w->err = RP_ENOMEM;
}

/* Appends a string literal (its length known at compile time). */
#define PUT_LIT(w, lit) put_bytes((w), (lit), sizeof(lit) - 1)

static void put_cstr(writer *w, const char *s) {
    put_bytes(w, s, strlen(s));
}

static void put_u64(writer *w, uint64_t v) {
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_bytes(w, tmp + i, sizeof(tmp) - i);
}

static void put_i64(writer *w, int64_t v) {
    if (v < 0) {
        PUT_LIT(w, "-");
        /* Negated in unsigned arithmetic, so that INT64_MIN works too. */
        put_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(w, (uint64_t)v);
    }
}

static void put_bool(writer *w, bool v) {
    if (v)
        PUT_LIT(w, "true");
    else
        PUT_LIT(w, "false");
}

/* The length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes
 * there are not one (overlong forms, surrogates and code points above
 * U+10FFFF are not valid). s[0] is >= 0x80. */
static size_t utf8_sequence(const unsigned char *s, size_t len) {
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Appends the escaped body of a JSON string (without the quotes). */
static void put_string_body(writer *w, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* bytes before i that pass through unchanged */
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_sequence(p + i, len - i);
            if (n) {
                i += n;
                continue;
            }
        }
        /* c needs an escape: flush the run before it. */
        put_bytes(w, s + run, i - run);
        if (c == '"')
            PUT_LIT(w, "\\\"");
        else if (c == '\\')
            PUT_LIT(w, "\\\\");
        else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put_bytes(w, esc, sizeof(esc));
        } else
            PUT_LIT(w, "\\ufffd"); /* a byte that is not valid UTF-8 */
        i++;
        run = i;
    }
    put_bytes(w, s + run, len - run);
}

static void put_string(writer *w, const char *s, size_t len) {
    PUT_LIT(w, "\"");
    put_string_body(w, s, len);
    PUT_LIT(w, "\"");
}

/* A non-nullable string: a null rp_str is written as "". */
static void put_str(writer *w, rp_str s) {
    put_string(w, s.ptr ? s.ptr : "", s.ptr ? s.len : 0);
}

/* A nullable string. */
static void put_str_or_null(writer *w, rp_str s) {
    if (s.ptr)
        put_string(w, s.ptr, s.len);
    else
        PUT_LIT(w, "null");
}

/* An enum symbol (the tables hold nothing that needs escaping). */
static void put_symbol(writer *w, const char *name) {
    PUT_LIT(w, "\"");
    put_cstr(w, name);
    PUT_LIT(w, "\"");
}

static void put_time_or_null(writer *w, bool has, int64_t t) {
    if (has)
        put_i64(w, t);
    else
        PUT_LIT(w, "null");
}

static void put_double(writer *w, double d) {
    char tmp[32];
    if (!isfinite(d)) {
        PUT_LIT(w, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d)
            break;
    }
    put_cstr(w, tmp);
}

static void put_double_or_null(writer *w, bool has, double d) {
    if (has)
        put_double(w, d);
    else
        PUT_LIT(w, "null");
}

int rp_jsonl_write_string(rp_buf *out, const char *s, size_t len) {
    writer w = writer_begin(out);
    put_string(&w, s ? s : "", s ? len : 0);
    return writer_end(&w);
}

int rp_jsonl_write_double(rp_buf *out, double d) {
    writer w = writer_begin(out);
    put_double(&w, d);
    return writer_end(&w);
}

/* ---------------------------------------------------------------- events */

static void put_metric(writer *w, const rp_metric_snapshot *m) {
    PUT_LIT(w, "{\"status\":");
    put_symbol(w, rp_issue_status_name(m->status));
    PUT_LIT(w, ",\"rate\":");
    put_double_or_null(w, m->has_rate, m->rate);
    PUT_LIT(w, ",\"count\":");
    put_i64(w, m->count);
    PUT_LIT(w, ",\"volume\":");
    put_i64(w, m->volume);
    PUT_LIT(w, ",\"window_start\":");
    put_i64(w, m->window_start);
    PUT_LIT(w, ",\"window_end\":");
    put_i64(w, m->window_end);
    PUT_LIT(w, "}");
}

static void put_status_change(writer *w, const rp_status_change *sc) {
    PUT_LIT(w, "{\"previous_status\":");
    put_symbol(w, rp_account_status_name(sc->previous_status));
    PUT_LIT(w, ",\"status\":");
    put_symbol(w, rp_account_status_name(sc->status));
    PUT_LIT(w, ",\"cause\":");
    put_symbol(w, rp_issue_kind_name(sc->cause));
    PUT_LIT(w, ",\"review_ends_at\":");
    put_time_or_null(w, sc->has_review_end, sc->review_ends_at);
    PUT_LIT(w, ",\"bounce\":");
    put_metric(w, &sc->bounce);
    PUT_LIT(w, ",\"complaint\":");
    put_metric(w, &sc->complaint);
    PUT_LIT(w, ",\"issues\":[");
    size_t n = sc->n_issues < RP_ISSUE__COUNT ? sc->n_issues : RP_ISSUE__COUNT;
    for (size_t i = 0; i < n; i++) {
        const rp_issue_state *is = &sc->issues[i];
        if (i)
            PUT_LIT(w, ",");
        PUT_LIT(w, "{\"kind\":");
        put_symbol(w, rp_issue_kind_name(is->kind));
        PUT_LIT(w, ",\"status\":");
        put_symbol(w, rp_issue_status_name(is->status));
        PUT_LIT(w, ",\"since\":");
        put_i64(w, is->since);
        PUT_LIT(w, ",\"review_ends_at\":");
        put_time_or_null(w, is->has_review_end, is->review_ends_at);
        PUT_LIT(w, "}");
    }
    PUT_LIT(w, "]}");
}

static void put_notification(writer *w, const rp_notification *n) {
    PUT_LIT(w, "{\"issue\":");
    put_symbol(w, rp_issue_kind_name(n->issue));
    PUT_LIT(w, ",\"stage\":");
    put_symbol(w, rp_stage_name(n->stage));
    PUT_LIT(w, ",\"account_status\":");
    put_symbol(w, rp_account_status_name(n->account_status));
    PUT_LIT(w, ",\"title\":");
    put_str(w, rp_str_c(n->title));
    PUT_LIT(w, ",\"why\":");
    put_str(w, rp_str_c(n->why));
    PUT_LIT(w, ",\"actions\":[");
    size_t na = n->n_actions < RP_NOTICE_MAX_ACTIONS ? n->n_actions
                                                     : RP_NOTICE_MAX_ACTIONS;
    for (size_t i = 0; i < na; i++) {
        if (i)
            PUT_LIT(w, ",");
        put_str(w, rp_str_c(n->actions[i]));
    }
    PUT_LIT(w, "],\"rate\":");
    put_double_or_null(w, n->has_rate, n->rate);
    PUT_LIT(w, ",\"threshold\":");
    put_double_or_null(w, n->has_threshold, n->threshold);
    PUT_LIT(w, ",\"review_ends_at\":");
    put_time_or_null(w, n->has_review_end, n->review_ends_at);
    PUT_LIT(w, "}");
}

int rp_jsonl_write_event(rp_buf *out, const rp_event *ev) {
    writer w = writer_begin(out);
    const char *aid = ev->account_id.ptr ? ev->account_id.ptr : "";
    size_t aid_len = ev->account_id.ptr ? ev->account_id.len : 0;

    PUT_LIT(&w, "{\"event_id\":\"");
    put_string_body(&w, aid, aid_len);
    PUT_LIT(&w, ":");
    put_u64(&w, ev->sequence);
    PUT_LIT(&w, "\",\"account_id\":");
    put_string(&w, aid, aid_len);
    PUT_LIT(&w, ",\"sequence\":");
    put_u64(&w, ev->sequence);
    PUT_LIT(&w, ",\"event_time\":");
    put_i64(&w, ev->event_time);
    PUT_LIT(&w, ",\"kind\":");
    put_symbol(&w, rp_event_kind_name(ev->kind));
    PUT_LIT(&w, ",\"status_change\":");
    if (ev->kind == RP_EVENT_STATUS_CHANGE && ev->status_change)
        put_status_change(&w, ev->status_change);
    else
        PUT_LIT(&w, "null");
    PUT_LIT(&w, ",\"notification\":");
    if (ev->kind == RP_EVENT_NOTIFICATION && ev->notification)
        put_notification(&w, ev->notification);
    else
        PUT_LIT(&w, "null");
    PUT_LIT(&w, "}\n");
    return writer_end(&w);
}

/* ---------------------------------------------------------------- records */

int rp_jsonl_write_record(rp_buf *out, const rp_record *rec) {
    writer w = writer_begin(out);

    PUT_LIT(&w, "{\"type\":");
    put_symbol(&w, rp_rec_type_name(rec->type));
    PUT_LIT(&w, ",\"event_id\":");
    put_str(&w, rec->event_id);
    PUT_LIT(&w, ",\"account_id\":");
    put_str(&w, rec->account_id);
    PUT_LIT(&w, ",\"event_time\":");
    put_i64(&w, rec->event_time);

    switch (rec->type) {
    case RP_REC_DELIVERY: {
        const rp_delivery *d = &rec->u.delivery;
        PUT_LIT(&w, ",\"message_id\":");
        put_str(&w, d->message_id);
        PUT_LIT(&w, ",\"recipient\":");
        put_str(&w, d->recipient);
        PUT_LIT(&w, ",\"sent_time\":");
        put_time_or_null(&w, d->has_sent_time, d->sent_time);
        PUT_LIT(&w, ",\"verified_recipient\":");
        put_bool(&w, d->verified_recipient);
        PUT_LIT(&w, ",\"simulator\":");
        put_bool(&w, d->simulator);
        PUT_LIT(&w, ",\"feedback_loop\":");
        put_bool(&w, d->feedback_loop);
        break;
    }
    case RP_REC_BOUNCE: {
        const rp_bounce *b = &rec->u.bounce;
        PUT_LIT(&w, ",\"message_id\":");
        put_str(&w, b->message_id);
        PUT_LIT(&w, ",\"recipient\":");
        put_str(&w, b->recipient);
        PUT_LIT(&w, ",\"sent_time\":");
        put_time_or_null(&w, b->has_sent_time, b->sent_time);
        PUT_LIT(&w, ",\"bounce_type\":");
        put_symbol(&w, rp_bounce_type_name(b->bounce_type));
        PUT_LIT(&w, ",\"bounce_subtype\":");
        put_symbol(&w, rp_bounce_subtype_name(b->bounce_subtype));
        PUT_LIT(&w, ",\"verified_recipient\":");
        put_bool(&w, b->verified_recipient);
        PUT_LIT(&w, ",\"simulator\":");
        put_bool(&w, b->simulator);
        PUT_LIT(&w, ",\"diagnostic\":");
        put_str_or_null(&w, b->diagnostic);
        break;
    }
    case RP_REC_COMPLAINT: {
        const rp_complaint *c = &rec->u.complaint;
        PUT_LIT(&w, ",\"message_id\":");
        put_str(&w, c->message_id);
        PUT_LIT(&w, ",\"recipients\":[");
        for (size_t i = 0; i < c->n_recipients; i++) {
            if (i)
                PUT_LIT(&w, ",");
            put_str(&w, c->recipients[i]);
        }
        PUT_LIT(&w, "],\"sent_time\":");
        put_time_or_null(&w, c->has_sent_time, c->sent_time);
        PUT_LIT(&w, ",\"feedback_type\":");
        put_symbol(&w, rp_feedback_type_name(c->feedback_type));
        PUT_LIT(&w, ",\"on_suppression_list\":");
        put_bool(&w, c->on_suppression_list);
        PUT_LIT(&w, ",\"simulator\":");
        put_bool(&w, c->simulator);
        break;
    }
    case RP_REC_REPORT: {
        const rp_report *r = &rec->u.report;
        PUT_LIT(&w, ",\"kind\":");
        put_symbol(&w, rp_issue_kind_name(r->kind));
        PUT_LIT(&w, ",\"incidents\":");
        put_i64(&w, r->incidents);
        PUT_LIT(&w, ",\"domain\":");
        put_str_or_null(&w, r->domain);
        PUT_LIT(&w, ",\"related_account_id\":");
        put_str_or_null(&w, r->related_account_id);
        PUT_LIT(&w, ",\"reporter\":");
        put_str_or_null(&w, r->reporter);
        PUT_LIT(&w, ",\"detail\":");
        put_str_or_null(&w, r->detail);
        break;
    }
    case RP_REC_ACTION: {
        const rp_action *a = &rec->u.action;
        PUT_LIT(&w, ",\"action\":");
        put_symbol(&w, rp_action_type_name(a->action));
        PUT_LIT(&w, ",\"issue\":");
        if (a->has_issue)
            put_symbol(&w, rp_issue_kind_name(a->issue));
        else
            PUT_LIT(&w, "null");
        PUT_LIT(&w, ",\"effective_time\":");
        put_time_or_null(&w, a->has_effective_time, a->effective_time);
        PUT_LIT(&w, ",\"related_account_id\":");
        put_str_or_null(&w, a->related_account_id);
        PUT_LIT(&w, ",\"note\":");
        put_str_or_null(&w, a->note);
        break;
    }
    default: break;
    }
    PUT_LIT(&w, "}\n");
    return writer_end(&w);
}
