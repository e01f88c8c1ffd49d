/*
 * action_body.c - the body of POST /v1/accounts/{id}/actions, parsed and
 * checked before anything is produced (docs/api-actions.md).
 *
 * An action over HTTP becomes an Action record on topic.actions, which
 * the engine applies like any other. The engine never refuses an action:
 * one that does not apply is counted and changes nothing, because an
 * operator acting on stale information is normal on a stream. An HTTP
 * caller, though, is there to be told: so what the engine would take but
 * could never apply (an unknown action or issue, an issue given to an
 * action on the account, a link to the account itself, an account-level
 * action on a tenant) is refused here with 400 and the field named, and so
 * is what the contract allows but the API's rules do not (a note over
 * RP_API_NOTE_MAX bytes, a missing note where one is required, an unknown
 * field, which is most often a typo that would otherwise be dropped
 * silently). Whether an action applies to the account's issues as they
 * stand is not checked: the account may live in another instance, and its
 * state may change before the record is applied; the page shows only the
 * actions that apply now.
 *
 * The parser is jansson's, with duplicate keys refused (two "note" fields
 * could be read differently by a proxy that logs and by repute). What it
 * keeps is copied into the caller's fixed buffers, so nothing is allocated
 * beyond jansson's document, which is freed before returning. The fuzzer
 * fuzz_http_action feeds it arbitrary bodies.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "repute/api.h"
#include "repute/jsonl.h"

/* ---------------------------------------------------------------- rules */

bool rp_api_action_needs_note(rp_action_type t) {
    switch (t) {
    case RP_ACTION_RESUME_SENDING:
    case RP_ACTION_PAUSE_SENDING:
    case RP_ACTION_END_REVIEW:
    case RP_ACTION_SET_MANUAL_REVIEW:
    case RP_ACTION_LINK_ACCOUNT: return true;
    default: return false;
    }
}

/* The actions that belong to the account, not to an issue (docs/rules.md
 * section 5; section 10: with a tenant they do not apply). */
static bool on_account(rp_action_type t) {
    return t == RP_ACTION_SET_MANUAL_REVIEW ||
           t == RP_ACTION_CLEAR_MANUAL_REVIEW || t == RP_ACTION_LINK_ACCOUNT ||
           t == RP_ACTION_UNLINK_ACCOUNT;
}

static bool is_link(rp_action_type t) {
    return t == RP_ACTION_LINK_ACCOUNT || t == RP_ACTION_UNLINK_ACCOUNT;
}

/* ---------------------------------------------------------------- errors */

typedef struct perr {
    char *field, *msg;
    size_t field_size, msg_size;
} perr;

static int fail(const perr *pe, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(const perr *pe, const char *field, const char *fmt, ...) {
    if (pe->field_size)
        snprintf(pe->field, pe->field_size, "%s", field);
    if (pe->msg_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pe->msg, pe->msg_size, fmt, ap);
        va_end(ap);
    }
    return RP_EINVAL;
}

/* ---------------------------------------------------------------- fields */

/* A nullable string field into buf[size] (at most max bytes); *has says
 * whether it was there and not null. */
static int get_string(json_t *o, const char *name, size_t max, char *buf,
                      size_t size, bool *has, const perr *pe) {
    json_t *v = json_object_get(o, name);
    *has = false;
    buf[0] = '\0';
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(pe, name, "%s: must be a string or null", name);
    size_t n = json_string_length(v);
    if (n > max || n + 1 > size)
        return fail(pe, name, "%s: at most %zu bytes, got %zu", name, max, n);
    if (n == 0)
        return fail(pe, name, "%s: must not be empty", name);
    memcpy(buf, json_string_value(v), n);
    buf[n] = '\0';
    if (memchr(buf, '\0', n))
        return fail(pe, name, "%s: must not hold a NUL character", name);
    *has = true;
    return 0;
}

static int get_time(json_t *o, const char *name, bool *has, int64_t *out,
                    const perr *pe) {
    json_t *v = json_object_get(o, name);
    *has = false;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        json_int_t t = json_integer_value(v);
        if (t < RP_JSONL_TIME_MIN || t > RP_JSONL_TIME_MAX)
            return fail(pe, name, "%s: out of range", name);
        *out = (int64_t)t;
    } else if (json_is_string(v)) {
        if (rp_time_parse_iso8601(json_string_value(v), json_string_length(v),
                                  out) != 0)
            return fail(pe, name,
                        "%s: not a time (milliseconds since the epoch, or "
                        "ISO 8601 like 2026-01-02T03:04:05Z)",
                        name);
    } else {
        return fail(pe, name,
                    "%s: must be milliseconds since the epoch, an ISO 8601 "
                    "string, or null",
                    name);
    }
    *has = true;
    return 0;
}

static const char *const known_fields[] = {
    "action", "issue",   "effective_time", "related_account_id",
    "note",   "event_id"};

static int check_known(json_t *o, const perr *pe) {
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known_fields) / sizeof(*known_fields);
             i++)
            ok = ok || strcmp(key, known_fields[i]) == 0;
        if (!ok) {
            char shown[64];
            size_t n = 0;
            for (const char *p = key; *p && n + 1 < sizeof(shown); p++)
                shown[n++] =
                    (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p
                                                                          : '?';
            shown[n] = '\0';
            if (n == 0) /* the empty name: say so, not nothing */
                snprintf(shown, sizeof(shown), "\"\"");
            return fail(pe, shown,
                        "%s: unknown field (the fields are action, issue, "
                        "effective_time, related_account_id, note, event_id)",
                        shown);
        }
    }
    return 0;
}

/* "action" and "issue", with what each allows of the other. */
static int get_kind(json_t *o, rp_action *a, rp_str tenant, const perr *pe) {
    json_t *v = json_object_get(o, "action");
    if (!v || json_is_null(v))
        return fail(pe, "action", "action: required");
    int t = json_is_string(v) ? rp_action_type_parse(json_string_value(v),
                                                     json_string_length(v))
                              : -1;
    if (t < 0)
        return fail(pe, "action",
                    "action: not an action (REMEDIATION_SUBMITTED, "
                    "RESUME_SENDING, PAUSE_SENDING, EXTEND_REVIEW, "
                    "END_REVIEW, SET_MANUAL_REVIEW, CLEAR_MANUAL_REVIEW, "
                    "LINK_ACCOUNT, UNLINK_ACCOUNT)");
    a->action = (rp_action_type)t;
    if (tenant.ptr && on_account(a->action))
        return fail(pe, "action",
                    "action: %s belongs to the account, not to a tenant "
                    "(post it to /v1/accounts/{id}/actions)",
                    rp_action_type_name(a->action));
    v = json_object_get(o, "issue");
    if (!v || json_is_null(v))
        return 0;
    if (on_account(a->action))
        return fail(pe, "issue",
                    "issue: %s acts on the account, not on an issue: leave "
                    "issue out",
                    rp_action_type_name(a->action));
    int k = json_is_string(v) ? rp_issue_kind_parse(json_string_value(v),
                                                    json_string_length(v))
                              : -1;
    if (k < 0)
        return fail(pe, "issue",
                    "issue: not an issue kind (BOUNCE_RATE, "
                    "COMPLAINT_RATE, SPAMTRAP, ...), or null for every "
                    "issue the action applies to");
    a->has_issue = true;
    a->issue = (rp_issue_kind)k;
    return 0;
}

static int get_link(json_t *o, rp_api_action_body *out, const perr *pe) {
    rp_action *a = &out->rec.u.action;
    bool has;
    int rc = get_string(o, "related_account_id", RP_ACCOUNT_ID_MAX,
                        out->related, sizeof(out->related), &has, pe);
    if (rc != 0)
        return rc;
    if (!is_link(a->action)) {
        if (has)
            return fail(pe, "related_account_id",
                        "related_account_id: only LINK_ACCOUNT and "
                        "UNLINK_ACCOUNT take one");
        return 0;
    }
    if (!has)
        return fail(pe, "related_account_id",
                    "related_account_id: required by %s",
                    rp_action_type_name(a->action));
    a->related_account_id = rp_str_c(out->related);
    if (rp_str_eq(a->related_account_id, out->rec.account_id))
        return fail(pe, "related_account_id",
                    "related_account_id: an account cannot be linked to "
                    "itself");
    return 0;
}

static bool blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

static int get_note(json_t *o, rp_api_action_body *out, const perr *pe) {
    rp_action *a = &out->rec.u.action;
    bool has;
    int rc = get_string(o, "note", RP_API_NOTE_MAX, out->note,
                        sizeof(out->note), &has, pe);
    if (rc != 0)
        return rc;
    if (has && blank(out->note))
        has = false;
    if (!has && rp_api_action_needs_note(a->action))
        return fail(pe, "note",
                    "note: required by %s (say why, for the account's "
                    "history)",
                    rp_action_type_name(a->action));
    if (has)
        a->note = rp_str_c(out->note);
    return 0;
}

/* ---------------------------------------------------------------- parse */

static int parse_object(json_t *o, rp_api_action_body *out, rp_str tenant,
                        const perr *pe) {
    rp_action *a = &out->rec.u.action;
    int rc;
    bool has;
    if ((rc = check_known(o, pe)) || (rc = get_kind(o, a, tenant, pe)) ||
        (rc = get_time(o, "effective_time", &a->has_effective_time,
                       &a->effective_time, pe)) ||
        (rc = get_link(o, out, pe)) || (rc = get_note(o, out, pe)) ||
        (rc = get_string(o, "event_id", RP_EVENT_ID_MAX, out->event_id,
                         sizeof(out->event_id), &has, pe)))
        return rc;
    out->has_event_id = has;
    out->rec.event_id = rp_str_c(out->event_id);
    return 0;
}

int rp_api_action_parse(rp_api_action_body *out, const char *body, size_t len,
                        rp_str account_id, rp_str tenant, const char *actor,
                        int64_t now_ms, char *field, size_t field_size,
                        char *errstr, size_t errstr_size) {
    perr pe = {field, errstr, field_size, errstr_size};
    if (field_size)
        field[0] = '\0';
    rp_record_init(&out->rec, RP_REC_ACTION);
    out->has_event_id = false;
    out->event_id[0] = out->related[0] = out->note[0] = '\0';
    out->rec.account_id = account_id;
    out->rec.tenant = tenant;
    out->rec.event_time = now_ms;
    out->rec.event_id = rp_str_c(out->event_id);
    out->rec.u.action.actor = actor ? rp_str_c(actor) : RP_STR_NULL;

    json_error_t jerr;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return fail(&pe, "body", "body: not JSON: %s (at byte %d)", jerr.text,
                    jerr.position);
    int rc = json_is_object(o)
                 ? parse_object(o, out, tenant, &pe)
                 : fail(&pe, "body", "body: must be a JSON object");
    json_decref(o);
    return rc;
}
