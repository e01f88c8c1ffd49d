/*
 * jsonl_read.c - JSON lines in: rp_jsonl_parse() (repute/jsonl.h, docs/rules.md
 * section 9).
 *
 * A line is parsed by jansson into a document that the reader keeps until
 * the next line: the rp_record handed back borrows its strings straight
 * from the document's string values (jansson stores them with their
 * length, so they need no copy), and a complaint's recipients point into a
 * growable rp_str array owned by the reader (str_array.h). Parsing a line
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
 * Timestamps are integer milliseconds or ISO 8601 strings, the latter read
 * by rp_time_parse_iso8601() (jsonl_time.c). Both forms are held to the
 * years 0000-9999 (RP_JSONL_TIME_MIN/MAX): the engine adds review periods
 * to these times, and a bound far from INT64_MIN/MAX keeps that
 * arithmetic safe.
 */
#include "repute/jsonl.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/str_array.h"

/* ---------------------------------------------------------------- limits */

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
        if (rp_codec_grow_strs(&r->recipients, &r->recipients_cap, n) < 0)
            return RP_ENOMEM;
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
    if ((rc = get_string(o, "note", FIELD_NULLABLE, &a->note, e, es)))
        return rc;
    return get_string(o, "actor", FIELD_NULLABLE, &a->actor, e, es);
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
    /* Every record may name a tenant (docs/rules.md section 10); its form
     * (non-empty, at most 256 bytes) is rp_record_check()'s. */
    if ((rc = get_string(o, "tenant", FIELD_NULLABLE, &rec->tenant, e, es)))
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
