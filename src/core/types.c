/*
 * types.c - error strings, enum symbol tables, and record helpers.
 *
 * The symbol tables are the single source of the enum names: the Avro
 * schemas, the JSON lines and the notification texts all spell enums
 * through them, and a unit test checks them against the embedded schemas.
 */
#include <stdio.h>
#include <string.h>

#include "codec/utf8.h" /* the one rule of valid UTF-8 */
#include "repute/record.h"

/* ---------------------------------------------------------------- errors */

const char *rp_strerror(int code) {
    switch (code) {
    case RP_OK: return "success";
    case RP_ENOMEM: return "out of memory";
    case RP_EINVAL: return "invalid argument or value";
    case RP_ETRUNC: return "input is truncated";
    case RP_EBADDATA: return "input is not a valid record";
    case RP_ETOOBIG: return "input is larger than the limit";
    case RP_ECONTRACT: return "record breaks the contract";
    case RP_EIO: return "input/output error";
    case RP_ENOTFOUND: return "not found";
    case RP_ENOSPACE: return "buffer too small";
    case RP_ENOSCHEMA: return "the writer schema is not known yet";
    default: return "unknown error";
    }
}

/* ---------------------------------------------------------------- strings */

rp_str rp_str_c(const char *s) {
    rp_str r = {s, s ? strlen(s) : 0};
    return r;
}

bool rp_str_eq(rp_str a, rp_str b) {
    if (!a.ptr || !b.ptr)
        return a.ptr == b.ptr;
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* ---------------------------------------------------------------- enums */

static const char *const issue_kind_names[] = {"BOUNCE_RATE",
                                               "COMPLAINT_RATE",
                                               "ANTI_SPAM_ORGANIZATION",
                                               "LISTBOMBING",
                                               "SPAMTRAP",
                                               "DOMAIN_BLOCKLIST",
                                               "MAILBOX_PROVIDER",
                                               "DIRECT_FEEDBACK",
                                               "RECIPIENT_FEEDBACK",
                                               "INTERNAL_REVIEW",
                                               "RELATED_ACCOUNT",
                                               "VULNERABLE_SITE",
                                               "COMPROMISED_CREDENTIALS",
                                               "OTHER"};
static const char *const issue_status_names[] = {
    "HEALTHY", "ALMOST_HEALED", "UNDER_REVIEW", "SENDING_PAUSE",
    "PENDING_SENDING_PAUSE"};
static const char *const account_status_names[] = {
    "HEALTHY", "UNDER_REVIEW", "PENDING_END_OF_REVIEW_DECISION",
    "SENDING_PAUSED", "PENDING_SENDING_PAUSE"};
static const char *const bounce_type_names[] = {"PERMANENT", "TRANSIENT",
                                                "UNDETERMINED"};
static const char *const bounce_subtype_names[] = {
    "GENERAL",          "NO_EMAIL",
    "SUPPRESSED",       "ON_ACCOUNT_SUPPRESSION_LIST",
    "MAILBOX_FULL",     "MESSAGE_TOO_LARGE",
    "CONTENT_REJECTED", "ATTACHMENT_REJECTED",
    "UNDETERMINED"};
static const char *const feedback_type_names[] = {
    "ABUSE", "AUTH_FAILURE", "FRAUD", "NOT_SPAM", "OTHER", "VIRUS", "UNKNOWN"};
static const char *const action_type_names[] = {
    "REMEDIATION_SUBMITTED", "RESUME_SENDING", "PAUSE_SENDING",
    "EXTEND_REVIEW",         "END_REVIEW",     "SET_MANUAL_REVIEW",
    "CLEAR_MANUAL_REVIEW",   "LINK_ACCOUNT",   "UNLINK_ACCOUNT"};
static const char *const event_kind_names[] = {"STATUS_CHANGE", "NOTIFICATION"};
static const char *const stage_names[] = {
    "REVIEW_STARTED", "REVIEW_EXTENDED",       "DECISION_PENDING",
    "SENDING_PAUSED", "PENDING_SENDING_PAUSE", "SENDING_RESUMED",
    "RESOLVED"};
static const char *const rec_type_names[] = {"delivery", "bounce", "complaint",
                                             "report", "action"};

#define NAMES_LEN(t) (sizeof(t) / sizeof((t)[0]))

static const char *name_of(const char *const *t, size_t n, int v) {
    return (v >= 0 && (size_t)v < n) ? t[v] : "?";
}

static int parse_of(const char *const *t, size_t n, const char *s, size_t len) {
    if (!s)
        return RP_ENOTFOUND;
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i]) == len && memcmp(t[i], s, len) == 0)
            return (int)i;
    return RP_ENOTFOUND;
}

#define ENUM_FUNCS(fn, type, table)                                            \
    const char *fn##_name(type v) {                                            \
        return name_of(table, NAMES_LEN(table), (int)v);                       \
    }                                                                          \
    int fn##_parse(const char *s, size_t len) {                                \
        return parse_of(table, NAMES_LEN(table), s, len);                      \
    }

ENUM_FUNCS(rp_issue_kind, rp_issue_kind, issue_kind_names)
ENUM_FUNCS(rp_issue_status, rp_issue_status, issue_status_names)
ENUM_FUNCS(rp_account_status, rp_account_status, account_status_names)
ENUM_FUNCS(rp_bounce_type, rp_bounce_type, bounce_type_names)
ENUM_FUNCS(rp_bounce_subtype, rp_bounce_subtype, bounce_subtype_names)
ENUM_FUNCS(rp_feedback_type, rp_feedback_type, feedback_type_names)
ENUM_FUNCS(rp_action_type, rp_action_type, action_type_names)
ENUM_FUNCS(rp_event_kind, rp_event_kind, event_kind_names)
ENUM_FUNCS(rp_stage, rp_stage, stage_names)
ENUM_FUNCS(rp_rec_type, rp_rec_type, rec_type_names)

/* ---------------------------------------------------------------- records */

void rp_record_init(rp_record *rec, rp_rec_type type) {
    memset(rec, 0, sizeof(*rec));
    rec->type = type;
    if (type == RP_REC_DELIVERY)
        rec->u.delivery.feedback_loop = true;
    else if (type == RP_REC_REPORT) {
        rec->u.report.incidents = 1;
        rec->u.report.kind = RP_ISSUE__FIRST_REPORT;
    }
}

static int contract_error(char *errstr, size_t size, const char *what) {
    if (errstr && size)
        snprintf(errstr, size, "%s", what);
    return RP_ECONTRACT;
}

/* One free-text field against RP_TEXT_MAX; the reason names the field and
 * its length but never quotes it (a reporter is confidential, and a
 * megabyte of text has no place in a log line). */
static bool text_over(rp_str s, const char *field, char *errstr, size_t size) {
    if (s.len <= RP_TEXT_MAX)
        return false;
    if (errstr && size)
        snprintf(errstr, size, "%s is %zu bytes long, more than %d", field,
                 s.len, RP_TEXT_MAX);
    return true;
}

/* True (with the reason) when a string field other than the two ids is
 * longer than RP_TEXT_MAX. Such a record is hostile or broken: the engine
 * keeps none of these strings per account, but notices and logs may
 * quote the short ones, and the dedupe keys would grow with event_id. */
static bool text_too_long(const rp_record *rec, char *e, size_t n) {
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        const rp_delivery *d = &rec->u.delivery;
        return text_over(d->message_id, "message_id", e, n) ||
               text_over(d->recipient, "recipient", e, n);
    }
    case RP_REC_BOUNCE: {
        const rp_bounce *b = &rec->u.bounce;
        return text_over(b->message_id, "message_id", e, n) ||
               text_over(b->recipient, "recipient", e, n) ||
               text_over(b->diagnostic, "diagnostic", e, n);
    }
    case RP_REC_COMPLAINT: {
        const rp_complaint *c = &rec->u.complaint;
        if (text_over(c->message_id, "message_id", e, n))
            return true;
        for (size_t i = 0; i < c->n_recipients; i++)
            if (text_over(c->recipients[i], "a recipient", e, n))
                return true;
        return false;
    }
    case RP_REC_REPORT: {
        const rp_report *r = &rec->u.report;
        return text_over(r->domain, "domain", e, n) ||
               text_over(r->related_account_id, "related_account_id", e, n) ||
               text_over(r->reporter, "reporter", e, n) ||
               text_over(r->detail, "detail", e, n);
    }
    case RP_REC_ACTION: {
        const rp_action *a = &rec->u.action;
        return text_over(a->related_account_id, "related_account_id", e, n) ||
               text_over(a->note, "note", e, n) ||
               text_over(a->actor, "actor", e, n);
    }
    default: return false;
    }
}

/* A string that is not valid UTF-8: the reason names the field and the
 * offset of the first bad byte, and quotes nothing. The decoders of both
 * input formats already refuse such strings (the Avro validator, jansson),
 * so this holds records built by other code (an HTTP action) to the same
 * rule. */
static bool not_utf8(rp_str s, const char *field, char *errstr, size_t size) {
    size_t bad = rp_utf8_check((const uint8_t *)s.ptr, s.len);
    if (bad == s.len)
        return false;
    if (errstr && size)
        snprintf(errstr, size, "%s is not valid UTF-8 (byte %zu)", field, bad);
    return true;
}

/* A tenant (docs/rules.md section 10): null, or a non-empty UTF-8 string
 * of at most RP_TENANT_MAX bytes. The reason never quotes it: a bad one
 * may be a megabyte of binary. */
static int check_tenant(rp_str t, char *errstr, size_t size) {
    if (!t.ptr)
        return 0;
    if (t.len == 0)
        return contract_error(errstr, size,
                              "tenant is empty (leave it out or null for the "
                              "account's own sending)");
    if (t.len > RP_TENANT_MAX) {
        if (errstr && size)
            snprintf(errstr, size, "tenant is %zu bytes long, more than %d",
                     t.len, RP_TENANT_MAX);
        return RP_ECONTRACT;
    }
    return not_utf8(t, "tenant", errstr, size) ? RP_ECONTRACT : 0;
}

int rp_record_check(const rp_record *rec, char *errstr, size_t errstr_size) {
    if ((unsigned)rec->type >= RP_REC__COUNT)
        return contract_error(errstr, errstr_size, "unknown record type");
    if (!rec->account_id.ptr || rec->account_id.len == 0)
        return contract_error(errstr, errstr_size, "account_id is empty");
    if (rec->account_id.len > RP_ACCOUNT_ID_MAX)
        return contract_error(errstr, errstr_size,
                              "account_id is longer than 256 bytes");
    if (!rec->event_id.ptr || rec->event_id.len == 0)
        return contract_error(errstr, errstr_size, "event_id is empty");
    if (rec->event_id.len > RP_EVENT_ID_MAX)
        return contract_error(errstr, errstr_size,
                              "event_id is longer than 256 bytes");
    if (text_too_long(rec, errstr, errstr_size))
        return RP_ECONTRACT;
    int rc = check_tenant(rec->tenant, errstr, errstr_size);
    if (rc < 0)
        return rc;
    switch (rec->type) {
    case RP_REC_BOUNCE:
        if ((unsigned)rec->u.bounce.bounce_type >= RP_BOUNCE__COUNT ||
            (unsigned)rec->u.bounce.bounce_subtype >= RP_BSUB__COUNT)
            return contract_error(errstr, errstr_size,
                                  "bounce enum out of range");
        break;
    case RP_REC_COMPLAINT:
        if ((unsigned)rec->u.complaint.feedback_type >= RP_FEEDBACK__COUNT)
            return contract_error(errstr, errstr_size,
                                  "feedback_type out of range");
        break;
    case RP_REC_REPORT:
        if (rec->u.report.kind < RP_ISSUE__FIRST_REPORT ||
            rec->u.report.kind >= RP_ISSUE__COUNT)
            return contract_error(errstr, errstr_size,
                                  "kind is not a report kind");
        if (rec->u.report.incidents < 1)
            return contract_error(errstr, errstr_size,
                                  "incidents must be >= 1");
        break;
    case RP_REC_ACTION:
        if ((unsigned)rec->u.action.action >= RP_ACTION__COUNT)
            return contract_error(errstr, errstr_size, "action out of range");
        if (rec->u.action.has_issue &&
            (unsigned)rec->u.action.issue >= RP_ISSUE__COUNT)
            return contract_error(errstr, errstr_size, "issue out of range");
        if (rec->u.action.actor.ptr &&
            not_utf8(rec->u.action.actor, "actor", errstr, errstr_size))
            return RP_ECONTRACT;
        break;
    default: break;
    }
    return 0;
}

int rp_event_id_format(const rp_event *ev, char *buf, size_t size) {
    int n = snprintf(buf, size, "%.*s:%llu", (int)ev->account_id.len,
                     ev->account_id.ptr, (unsigned long long)ev->sequence);
    if (n < 0 || (size_t)n >= size)
        return RP_ENOSPACE;
    return n;
}
