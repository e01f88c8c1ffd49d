/*
 * avro_encode.c - input records and ReputationEvents to Avro binary, on top
 * of avro-c's value API: rp_avro_encode() and rp_avro_encode_event().
 *
 * The slot's encoding value is reset and every field set by index,
 * nullable ones through avro_value_set_branch. Strings are handed to
 * avro-c as wrapped buffers that borrow the caller's bytes for the length
 * of the call: no copy, and no terminator needed, since avro-c sizes and
 * writes a string from its length. The datum is then sized with
 * avro_value_sizeof() and written by a memory writer straight into the
 * codec's growable output buffer, after the Confluent header when the
 * codec is so configured. Encoding does not enforce the contract (a test
 * must be able to produce a record that breaks it), but it refuses what
 * Avro cannot represent, such as an enum value out of range, and a datum
 * larger than RP_AVRO_MAX_RECORD, which no decoder would accept.
 */
#include "repute/avro.h"

#include <string.h>

#include "codec/avro_codec.h"

/* ------------------------------------------------------------ setters */

/* The setters return 0 or avro-c's error code (see TRY in avro_codec.h). */

/* Hands avro-c the caller's bytes without copying them. avro-c counts a
 * terminating NUL in a string's size but only ever reads size - 1 bytes
 * when it sizes or writes the string, so the bytes need no terminator;
 * the wrapped buffer has no free function, so avro-c never frees them. A
 * null pointer is written as the empty string. */
static int give_str(avro_value_t *f, const char *p, size_t len) {
    avro_wrapped_buffer_t wb;
    if (!p) {
        p = "";
        len = 0;
    }
    int rc = avro_wrapped_buffer_new(&wb, p, len + 1);
    return rc ? rc : avro_value_give_string_len(f, &wb);
}

static int set_str(avro_value_t *rec, size_t i, rp_str s) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : give_str(&f, s.ptr, s.len);
}

static int set_cstr(avro_value_t *rec, size_t i, const char *s) {
    return set_str(rec, i, rp_str_c(s));
}

static int set_long(avro_value_t *rec, size_t i, int64_t x) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_set_long(&f, x);
}

static int set_int(avro_value_t *rec, size_t i, int32_t x) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_set_int(&f, x);
}

static int set_bool(avro_value_t *rec, size_t i, bool x) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_set_boolean(&f, x);
}

static int set_enum(avro_value_t *rec, size_t i, int x) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_set_enum(&f, x);
}

/* Selects the null branch (has == false) or the value branch of a
 * nullable field; *out is the value branch. */
static int set_opt(avro_value_t *rec, size_t i, bool has, avro_value_t *out) {
    avro_value_t u;
    int rc = avro_value_get_by_index(rec, i, &u, NULL);
    if (rc == 0)
        rc = avro_value_set_branch(&u, has ? 1 : 0, out);
    if (rc == 0 && !has)
        rc = avro_value_set_null(out);
    return rc;
}

static int set_opt_str(avro_value_t *rec, size_t i, rp_str s) {
    avro_value_t b;
    int rc = set_opt(rec, i, s.ptr != NULL, &b);
    return rc == 0 && s.ptr ? give_str(&b, s.ptr, s.len) : rc;
}

static int set_opt_long(avro_value_t *rec, size_t i, bool has, int64_t x) {
    avro_value_t b;
    int rc = set_opt(rec, i, has, &b);
    return rc == 0 && has ? avro_value_set_long(&b, x) : rc;
}

static int set_opt_double(avro_value_t *rec, size_t i, bool has, double x) {
    avro_value_t b;
    int rc = set_opt(rec, i, has, &b);
    return rc == 0 && has ? avro_value_set_double(&b, x) : rc;
}

static int set_opt_enum(avro_value_t *rec, size_t i, bool has, int x) {
    avro_value_t b;
    int rc = set_opt(rec, i, has, &b);
    return rc == 0 && has ? avro_value_set_enum(&b, x) : rc;
}

/* Sizes the slot's encoding value and writes it, framed, into c->out. */
static int write_datum(rp_avro_codec *c, int slot, const void **out,
                       size_t *out_len, char *errstr, size_t errstr_size) {
    slot_state *s = &c->slots[slot];
    size_t size;
    int rc = avro_value_sizeof(&s->enc, &size);
    if (rc != 0)
        return rp_avro_error(errstr, errstr_size,
                             rp_avro_failure(rc, RP_EINVAL),
                             "%s: cannot size the record: %s",
                             rp_avro_record_names[slot], avro_strerror());
    size_t header = c->framing == RP_FRAMING_CONFLUENT ? CONFLUENT_HEADER : 0;
    if (size > RP_AVRO_MAX_RECORD - header)
        return rp_avro_error(
            errstr, errstr_size, RP_ETOOBIG,
            "%s: the record takes %zu bytes, more than the limit "
            "of %d",
            rp_avro_record_names[slot], size + header, RP_AVRO_MAX_RECORD);
    if (header && c->schema_ids[slot] == RP_AVRO_NO_ID)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "%s: no schema id to frame the record with",
                             rp_avro_record_names[slot]);
    rp_buf_reset(&c->out);
    if (rp_buf_reserve(&c->out, header + size) < 0)
        return rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    uint8_t *p = (uint8_t *)c->out.data;
    if (header) {
        uint32_t id = (uint32_t)c->schema_ids[slot];
        p[0] = 0;
        p[1] = (uint8_t)(id >> 24);
        p[2] = (uint8_t)(id >> 16);
        p[3] = (uint8_t)(id >> 8);
        p[4] = (uint8_t)id;
    }
    avro_writer_memory_set_dest(s->writer, (const char *)p + header,
                                (int64_t)size);
    rc = avro_value_write(s->writer, &s->enc);
    if (rc != 0 || avro_writer_tell(s->writer) != (int64_t)size)
        return rp_avro_error(
            errstr, errstr_size, rp_avro_failure(rc, RP_EINVAL),
            "%s: cannot write the record: %s", rp_avro_record_names[slot],
            rc ? avro_strerror() : "size mismatch");
    c->out.len = header + size;
    c->out.data[c->out.len] = '\0';
    *out = c->out.data;
    *out_len = c->out.len;
    return 0;
}

/* Refuses what Avro cannot represent: enum values outside their symbols. */
static int check_encodable(const rp_record *rec, char *errstr,
                           size_t errstr_size) {
    const char *bad = NULL;
    switch (rec->type) {
    case RP_REC_BOUNCE:
        if ((unsigned)rec->u.bounce.bounce_type >= RP_BOUNCE__COUNT)
            bad = "bounce_type";
        else if ((unsigned)rec->u.bounce.bounce_subtype >= RP_BSUB__COUNT)
            bad = "bounce_subtype";
        break;
    case RP_REC_COMPLAINT:
        if ((unsigned)rec->u.complaint.feedback_type >= RP_FEEDBACK__COUNT)
            bad = "feedback_type";
        else if (rec->u.complaint.n_recipients && !rec->u.complaint.recipients)
            return rp_avro_error(
                errstr, errstr_size, RP_EINVAL,
                "Complaint: recipients is NULL but n_recipients is "
                "%zu",
                rec->u.complaint.n_recipients);
        break;
    case RP_REC_REPORT:
        if (rec->u.report.kind < RP_ISSUE__FIRST_REPORT ||
            rec->u.report.kind >= RP_ISSUE__COUNT)
            bad = "kind";
        break;
    case RP_REC_ACTION:
        if ((unsigned)rec->u.action.action >= RP_ACTION__COUNT)
            bad = "action";
        else if (rec->u.action.has_issue &&
                 (unsigned)rec->u.action.issue >= RP_ISSUE__COUNT)
            bad = "issue";
        break;
    default: break;
    }
    if (bad)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "%s: %s is not one of the enum's symbols",
                             rp_avro_record_names[rec->type], bad);
    return 0;
}

static int set_record(avro_value_t *v, const rp_record *rec) {
    int rc;
    TRY(set_str(v, F_EVENT_ID, rec->event_id));
    TRY(set_str(v, F_ACCOUNT_ID, rec->account_id));
    TRY(set_long(v, F_EVENT_TIME, rec->event_time));
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        const rp_delivery *d = &rec->u.delivery;
        TRY(set_str(v, D_MESSAGE_ID, d->message_id));
        TRY(set_str(v, D_RECIPIENT, d->recipient));
        TRY(set_opt_long(v, D_SENT_TIME, d->has_sent_time, d->sent_time));
        TRY(set_bool(v, D_VERIFIED_RECIPIENT, d->verified_recipient));
        TRY(set_bool(v, D_SIMULATOR, d->simulator));
        TRY(set_bool(v, D_FEEDBACK_LOOP, d->feedback_loop));
        TRY(set_opt_str(v, D_TENANT, rec->tenant));
        break;
    }
    case RP_REC_BOUNCE: {
        const rp_bounce *b = &rec->u.bounce;
        TRY(set_str(v, B_MESSAGE_ID, b->message_id));
        TRY(set_str(v, B_RECIPIENT, b->recipient));
        TRY(set_opt_long(v, B_SENT_TIME, b->has_sent_time, b->sent_time));
        TRY(set_enum(v, B_BOUNCE_TYPE, (int)b->bounce_type));
        TRY(set_enum(v, B_BOUNCE_SUBTYPE, (int)b->bounce_subtype));
        TRY(set_bool(v, B_VERIFIED_RECIPIENT, b->verified_recipient));
        TRY(set_bool(v, B_SIMULATOR, b->simulator));
        TRY(set_opt_str(v, B_DIAGNOSTIC, b->diagnostic));
        TRY(set_opt_str(v, B_TENANT, rec->tenant));
        break;
    }
    case RP_REC_COMPLAINT: {
        const rp_complaint *m = &rec->u.complaint;
        avro_value_t arr, item;
        TRY(set_str(v, C_MESSAGE_ID, m->message_id));
        TRY(avro_value_get_by_index(v, C_RECIPIENTS, &arr, NULL));
        for (size_t i = 0; i < m->n_recipients; i++) {
            TRY(avro_value_append(&arr, &item, NULL));
            TRY(give_str(&item, m->recipients[i].ptr, m->recipients[i].len));
        }
        TRY(set_opt_long(v, C_SENT_TIME, m->has_sent_time, m->sent_time));
        TRY(set_enum(v, C_FEEDBACK_TYPE, (int)m->feedback_type));
        TRY(set_bool(v, C_ON_SUPPRESSION_LIST, m->on_suppression_list));
        TRY(set_bool(v, C_SIMULATOR, m->simulator));
        TRY(set_opt_str(v, C_TENANT, rec->tenant));
        break;
    }
    case RP_REC_REPORT: {
        const rp_report *r = &rec->u.report;
        TRY(set_enum(v, R_KIND, (int)(r->kind - RP_ISSUE__FIRST_REPORT)));
        TRY(set_int(v, R_INCIDENTS, r->incidents));
        TRY(set_opt_str(v, R_DOMAIN, r->domain));
        TRY(set_opt_str(v, R_RELATED_ACCOUNT_ID, r->related_account_id));
        TRY(set_opt_str(v, R_REPORTER, r->reporter));
        TRY(set_opt_str(v, R_DETAIL, r->detail));
        TRY(set_opt_str(v, R_TENANT, rec->tenant));
        break;
    }
    case RP_REC_ACTION: {
        const rp_action *a = &rec->u.action;
        TRY(set_enum(v, A_ACTION, (int)a->action));
        TRY(set_opt_enum(v, A_ISSUE, a->has_issue, (int)a->issue));
        TRY(set_opt_long(v, A_EFFECTIVE_TIME, a->has_effective_time,
                         a->effective_time));
        TRY(set_opt_str(v, A_RELATED_ACCOUNT_ID, a->related_account_id));
        TRY(set_opt_str(v, A_NOTE, a->note));
        TRY(set_opt_str(v, A_TENANT, rec->tenant));
        TRY(set_opt_str(v, A_ACTOR, a->actor));
        break;
    }
    default: return EINVAL;
    }
    return 0;
fail:
    return rc;
}

int rp_avro_encode(rp_avro_codec *c, const rp_record *rec, const void **out,
                   size_t *out_len, char *errstr, size_t errstr_size) {
    if ((unsigned)rec->type >= RP_REC__COUNT)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "unknown record type %d", (int)rec->type);
    int rc = check_encodable(rec, errstr, errstr_size);
    if (rc < 0)
        return rc;
    avro_value_t *v = &c->slots[rec->type].enc;
    rc = avro_value_reset(v);
    if (rc == 0)
        rc = set_record(v, rec);
    if (rc != 0)
        return rp_avro_error(errstr, errstr_size,
                             rp_avro_failure(rc, RP_EINVAL),
                             "%s: cannot fill the record: %s",
                             rp_avro_record_names[rec->type], avro_strerror());
    return write_datum(c, (int)rec->type, out, out_len, errstr, errstr_size);
}

static bool issue_ok(rp_issue_kind k) {
    return (unsigned)k < RP_ISSUE__COUNT;
}
static bool istatus_ok(rp_issue_status s) {
    return (unsigned)s < RP_ISTATUS__COUNT;
}
static bool astatus_ok(rp_account_status s) {
    return (unsigned)s < RP_ASTATUS__COUNT;
}

/* Refuses events that the schema cannot carry. */
static int check_event(const rp_event *ev, char *errstr, size_t errstr_size) {
    const char *bad = NULL;
    if (ev->sequence > (uint64_t)INT64_MAX)
        bad = "sequence is larger than an Avro long";
    else if (ev->kind == RP_EVENT_STATUS_CHANGE) {
        const rp_status_change *sc = ev->status_change;
        if (!sc)
            bad = "kind is STATUS_CHANGE but status_change is NULL";
        else if (!astatus_ok(sc->previous_status) || !astatus_ok(sc->status))
            bad = "status_change has an account status out of range";
        else if (!issue_ok(sc->cause))
            bad = "status_change.cause is out of range";
        else if (!istatus_ok(sc->bounce.status) ||
                 !istatus_ok(sc->complaint.status))
            bad = "status_change has a metric status out of range";
        else if (sc->n_issues > RP_ISSUE__COUNT)
            bad = "status_change lists more issues than there are kinds";
        else
            for (size_t i = 0; i < sc->n_issues && !bad; i++)
                if (!issue_ok(sc->issues[i].kind) ||
                    !istatus_ok(sc->issues[i].status))
                    bad = "status_change.issues has a value out of range";
    } else if (ev->kind == RP_EVENT_NOTIFICATION) {
        const rp_notification *n = ev->notification;
        if (!n)
            bad = "kind is NOTIFICATION but notification is NULL";
        else if (!issue_ok(n->issue) || (unsigned)n->stage >= RP_STAGE__COUNT ||
                 !astatus_ok(n->account_status))
            bad = "notification has an enum value out of range";
        else if (n->n_actions > RP_NOTICE_MAX_ACTIONS)
            bad = "notification lists too many actions";
    } else
        bad = "kind is out of range";
    if (bad)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "ReputationEvent: %s", bad);
    return 0;
}

static int set_metric(avro_value_t *rec, size_t i,
                      const rp_metric_snapshot *m) {
    avro_value_t v;
    int rc;
    TRY(avro_value_get_by_index(rec, i, &v, NULL));
    TRY(set_enum(&v, M_STATUS, (int)m->status));
    TRY(set_opt_double(&v, M_RATE, m->has_rate, m->rate));
    TRY(set_long(&v, M_COUNT, m->count));
    TRY(set_long(&v, M_VOLUME, m->volume));
    TRY(set_long(&v, M_WINDOW_START, m->window_start));
    TRY(set_long(&v, M_WINDOW_END, m->window_end));
    return 0;
fail:
    return rc;
}

static int set_event(avro_value_t *v, const rp_event *ev, rp_str event_id) {
    const rp_status_change *sc =
        ev->kind == RP_EVENT_STATUS_CHANGE ? ev->status_change : NULL;
    const rp_notification *n =
        ev->kind == RP_EVENT_NOTIFICATION ? ev->notification : NULL;
    avro_value_t b, arr, item;
    int rc;
    TRY(set_str(v, E_EVENT_ID, event_id));
    TRY(set_str(v, E_ACCOUNT_ID, ev->account_id));
    TRY(set_long(v, E_SEQUENCE, (int64_t)ev->sequence));
    TRY(set_long(v, E_EVENT_TIME, ev->event_time));
    TRY(set_enum(v, E_KIND, (int)ev->kind));
    TRY(set_opt(v, E_STATUS_CHANGE, sc != NULL, &b));
    if (sc) {
        TRY(set_enum(&b, SC_PREVIOUS_STATUS, (int)sc->previous_status));
        TRY(set_enum(&b, SC_STATUS, (int)sc->status));
        TRY(set_enum(&b, SC_CAUSE, (int)sc->cause));
        TRY(set_opt_long(&b, SC_REVIEW_ENDS_AT, sc->has_review_end,
                         sc->review_ends_at));
        TRY(set_metric(&b, SC_BOUNCE, &sc->bounce));
        TRY(set_metric(&b, SC_COMPLAINT, &sc->complaint));
        TRY(avro_value_get_by_index(&b, SC_ISSUES, &arr, NULL));
        TRY(avro_value_reset(&arr));
        for (size_t i = 0; i < sc->n_issues; i++) {
            const rp_issue_state *is = &sc->issues[i];
            TRY(avro_value_append(&arr, &item, NULL));
            TRY(set_enum(&item, I_KIND, (int)is->kind));
            TRY(set_enum(&item, I_STATUS, (int)is->status));
            TRY(set_long(&item, I_SINCE, is->since));
            TRY(set_opt_long(&item, I_REVIEW_ENDS_AT, is->has_review_end,
                             is->review_ends_at));
        }
    }
    TRY(set_opt(v, E_NOTIFICATION, n != NULL, &b));
    if (n) {
        TRY(set_enum(&b, N_ISSUE, (int)n->issue));
        TRY(set_enum(&b, N_STAGE, (int)n->stage));
        TRY(set_enum(&b, N_ACCOUNT_STATUS, (int)n->account_status));
        TRY(set_cstr(&b, N_TITLE, n->title));
        TRY(set_cstr(&b, N_WHY, n->why));
        TRY(avro_value_get_by_index(&b, N_ACTIONS, &arr, NULL));
        TRY(avro_value_reset(&arr));
        for (size_t i = 0; i < n->n_actions; i++) {
            const char *a = n->actions[i];
            TRY(avro_value_append(&arr, &item, NULL));
            TRY(give_str(&item, a, a ? strlen(a) : 0));
        }
        TRY(set_opt_double(&b, N_RATE, n->has_rate, n->rate));
        TRY(set_opt_double(&b, N_THRESHOLD, n->has_threshold, n->threshold));
        TRY(set_opt_long(&b, N_REVIEW_ENDS_AT, n->has_review_end,
                         n->review_ends_at));
    }
    TRY(set_opt_str(v, E_TENANT, ev->tenant));
    return 0;
fail:
    return rc;
}

int rp_avro_encode_event(rp_avro_codec *c, const rp_event *ev, const void **out,
                         size_t *out_len, char *errstr, size_t errstr_size) {
    const int slot = RP_SCHEMA_ID_STATUS;
    int rc = check_event(ev, errstr, errstr_size);
    if (rc < 0)
        return rc;
    /* The event_id is built here rather than with rp_event_id_format() so
     * that no account_id is too long to encode. */
    rp_buf_reset(&c->event_id);
    if (rp_buf_append(&c->event_id,
                      ev->account_id.ptr ? ev->account_id.ptr : "",
                      ev->account_id.len) < 0 ||
        rp_buf_printf(&c->event_id, ":%llu", (unsigned long long)ev->sequence) <
            0)
        return rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    rp_str event_id = {c->event_id.data, c->event_id.len};
    avro_value_t *v = &c->slots[slot].enc;
    rc = avro_value_reset(v);
    if (rc == 0)
        rc = set_event(v, ev, event_id);
    if (rc != 0)
        return rp_avro_error(
            errstr, errstr_size, rp_avro_failure(rc, RP_EINVAL),
            "ReputationEvent: cannot fill the record: %s", avro_strerror());
    return write_datum(c, slot, out, out_len, errstr, errstr_size);
}
