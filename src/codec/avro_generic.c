/*
 * avro_generic.c - decoding through avro-c's value API: the reference
 * decoder of input records, rp_avro_decode_generic(), and
 * rp_avro_decode_event().
 *
 * rp_avro_decode_generic() decodes the same records as rp_avro_decode()
 * (avro_decode.c), the way the rest of the codec works: after the same
 * framing and rp_avro_check(), avro-c reads the datum through the slot's
 * reader into its generic value, and the rp_record is filled from the
 * value, with strings borrowed from avro-c's storage (avro-c counts the
 * terminating NUL in a string's size; rp_str does not). It is the
 * reference that the tests hold the direct decoder to, and the
 * benchmark's comparison; avro-c allocates each string it decodes (and
 * frees the previous one), which is why it is not the hot path.
 * rp_avro_decode_event() decodes ReputationEvents the same way, and then
 * checks what the schema cannot say: a non-empty account_id, a sequence
 * from 1, and exactly the part that the event's kind names.
 *
 * Fields are read by index, through small getters that fold avro-c's
 * two-step access (the field, then its value) and the unions of nullable
 * fields into one call each.
 */
#include "repute/avro.h"

#include <string.h>

#include "codec/avro_codec.h"
#include "codec/str_array.h"

/* ------------------------------------------------------------ getters */

static void value_str(const char *p, size_t size, rp_str *out) {
    out->ptr = p ? p : "";
    out->len = size ? size - 1 : 0; /* avro-c counts the NUL */
}

static int get_str(const avro_value_t *rec, size_t i, rp_str *out) {
    avro_value_t f;
    const char *p = NULL;
    size_t size = 0;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    if (rc == 0)
        rc = avro_value_get_string(&f, &p, &size);
    value_str(p, size, out);
    return rc;
}

static int get_cstr(const avro_value_t *rec, size_t i, const char **out) {
    rp_str s;
    int rc = get_str(rec, i, &s);
    *out = s.ptr;
    return rc;
}

static int get_long(const avro_value_t *rec, size_t i, int64_t *out) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_get_long(&f, out);
}

static int get_int(const avro_value_t *rec, size_t i, int32_t *out) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_get_int(&f, out);
}

static int get_bool(const avro_value_t *rec, size_t i, bool *out) {
    avro_value_t f;
    int b = 0;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    if (rc == 0)
        rc = avro_value_get_boolean(&f, &b);
    *out = b != 0;
    return rc;
}

static int get_enum(const avro_value_t *rec, size_t i, int *out) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_get_enum(&f, out);
}

static int get_child(const avro_value_t *rec, size_t i, avro_value_t *out) {
    return avro_value_get_by_index(rec, i, out, NULL);
}

/* A nullable field: *has tells whether it holds a value, *out is that
 * value (the union's second branch). */
static int get_opt(const avro_value_t *rec, size_t i, bool *has,
                   avro_value_t *out) {
    avro_value_t u;
    int disc = 0;
    int rc = avro_value_get_by_index(rec, i, &u, NULL);
    if (rc == 0)
        rc = avro_value_get_discriminant(&u, &disc);
    *has = rc == 0 && disc == 1;
    if (*has)
        rc = avro_value_get_current_branch(&u, out);
    return rc;
}

static int get_opt_str(const avro_value_t *rec, size_t i, rp_str *out) {
    avro_value_t b;
    bool has;
    const char *p = NULL;
    size_t size = 0;
    *out = RP_STR_NULL;
    int rc = get_opt(rec, i, &has, &b);
    if (rc == 0 && has) {
        rc = avro_value_get_string(&b, &p, &size);
        value_str(p, size, out);
    }
    return rc;
}

static int get_opt_long(const avro_value_t *rec, size_t i, bool *has,
                        int64_t *out) {
    avro_value_t b;
    *out = 0;
    int rc = get_opt(rec, i, has, &b);
    return rc == 0 && *has ? avro_value_get_long(&b, out) : rc;
}

static int get_opt_double(const avro_value_t *rec, size_t i, bool *has,
                          double *out) {
    avro_value_t b;
    *out = 0;
    int rc = get_opt(rec, i, has, &b);
    return rc == 0 && *has ? avro_value_get_double(&b, out) : rc;
}

static int get_opt_enum(const avro_value_t *rec, size_t i, bool *has,
                        int *out) {
    avro_value_t b;
    *out = 0;
    int rc = get_opt(rec, i, has, &b);
    return rc == 0 && *has ? avro_value_get_enum(&b, out) : rc;
}

/* ------------------------------------------------------------ records */

/* A datum of the schema before its trailing defaults (docs/schemas.md),
 * made a datum of the current schema for avro-c: each missing field is a
 * null union, one zero byte, so the bytes are copied into the codec's
 * buffer with that many zeros after them. */
static int complete(rp_avro_codec *c, const uint8_t **body, size_t *body_len,
                    size_t n_defaulted, char *errstr, size_t errstr_size) {
    rp_buf_reset(&c->completed);
    if (rp_buf_reserve(&c->completed, *body_len + n_defaulted) < 0)
        return rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    if (*body_len)
        memcpy(c->completed.data, *body, *body_len);
    memset(c->completed.data + *body_len, 0, n_defaulted);
    c->completed.len = *body_len + n_defaulted;
    *body = (const uint8_t *)c->completed.data;
    *body_len = c->completed.len;
    return 0;
}

/* Everything up to a filled avro value: size, framing, validation (a
 * record of an earlier schema completed with its trailing defaults),
 * read. */
static int read_datum(rp_avro_codec *c, int slot, const void *buf, size_t len,
                      char *errstr, size_t errstr_size) {
    const uint8_t *body = NULL;
    size_t body_len = 0;
    int rc = datum_of(c, slot, buf, len, &body, &body_len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    size_t n_defaulted = 0;
    rc = whole_datum(slot,
                     rp_avro_check_trailing(slot, body, body_len, &n_defaulted,
                                            errstr, errstr_size),
                     body_len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    if (n_defaulted > 0 && (rc = complete(c, &body, &body_len, n_defaulted,
                                          errstr, errstr_size)) < 0)
        return rc;
    slot_state *s = &c->slots[slot];
    avro_reader_memory_set_source(s->reader, (const char *)body,
                                  (int64_t)body_len);
    rc = avro_value_read(s->reader, &s->dec);
    if (rc != 0)
        return rp_avro_error(errstr, errstr_size,
                             rp_avro_failure(rc, RP_EBADDATA),
                             "%s: avro-c cannot read the record: %s",
                             rp_avro_record_names[slot], avro_strerror());
    return 0;
}

/* Fills the type-specific part of rec from v. Returns 0, an avro-c code
 * (positive) or RP_ENOMEM. */
static int fill_record(rp_avro_codec *c, const avro_value_t *v,
                       rp_record *rec) {
    int rc, e;
    TRY(get_str(v, F_EVENT_ID, &rec->event_id));
    TRY(get_str(v, F_ACCOUNT_ID, &rec->account_id));
    TRY(get_long(v, F_EVENT_TIME, &rec->event_time));
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        rp_delivery *d = &rec->u.delivery;
        TRY(get_str(v, D_MESSAGE_ID, &d->message_id));
        TRY(get_str(v, D_RECIPIENT, &d->recipient));
        TRY(get_opt_long(v, D_SENT_TIME, &d->has_sent_time, &d->sent_time));
        TRY(get_bool(v, D_VERIFIED_RECIPIENT, &d->verified_recipient));
        TRY(get_bool(v, D_SIMULATOR, &d->simulator));
        TRY(get_bool(v, D_FEEDBACK_LOOP, &d->feedback_loop));
        TRY(get_opt_str(v, D_TENANT, &rec->tenant));
        break;
    }
    case RP_REC_BOUNCE: {
        rp_bounce *b = &rec->u.bounce;
        TRY(get_str(v, B_MESSAGE_ID, &b->message_id));
        TRY(get_str(v, B_RECIPIENT, &b->recipient));
        TRY(get_opt_long(v, B_SENT_TIME, &b->has_sent_time, &b->sent_time));
        TRY(get_enum(v, B_BOUNCE_TYPE, &e));
        b->bounce_type = (rp_bounce_type)e;
        TRY(get_enum(v, B_BOUNCE_SUBTYPE, &e));
        b->bounce_subtype = (rp_bounce_subtype)e;
        TRY(get_bool(v, B_VERIFIED_RECIPIENT, &b->verified_recipient));
        TRY(get_bool(v, B_SIMULATOR, &b->simulator));
        TRY(get_opt_str(v, B_DIAGNOSTIC, &b->diagnostic));
        TRY(get_opt_str(v, B_TENANT, &rec->tenant));
        break;
    }
    case RP_REC_COMPLAINT: {
        rp_complaint *m = &rec->u.complaint;
        avro_value_t arr, item;
        size_t n;
        TRY(get_str(v, C_MESSAGE_ID, &m->message_id));
        TRY(get_child(v, C_RECIPIENTS, &arr));
        TRY(avro_value_get_size(&arr, &n));
        if (rp_codec_grow_strs(&c->recipients, &c->recipients_cap, n) < 0)
            return RP_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            const char *p = NULL;
            size_t size = 0;
            TRY(avro_value_get_by_index(&arr, i, &item, NULL));
            TRY(avro_value_get_string(&item, &p, &size));
            value_str(p, size, &c->recipients[i]);
        }
        m->recipients = c->recipients;
        m->n_recipients = n;
        TRY(get_opt_long(v, C_SENT_TIME, &m->has_sent_time, &m->sent_time));
        TRY(get_enum(v, C_FEEDBACK_TYPE, &e));
        m->feedback_type = (rp_feedback_type)e;
        TRY(get_bool(v, C_ON_SUPPRESSION_LIST, &m->on_suppression_list));
        TRY(get_bool(v, C_SIMULATOR, &m->simulator));
        TRY(get_opt_str(v, C_TENANT, &rec->tenant));
        break;
    }
    case RP_REC_REPORT: {
        rp_report *r = &rec->u.report;
        TRY(get_enum(v, R_KIND, &e));
        r->kind = (rp_issue_kind)(e + RP_ISSUE__FIRST_REPORT);
        TRY(get_int(v, R_INCIDENTS, &r->incidents));
        TRY(get_opt_str(v, R_DOMAIN, &r->domain));
        TRY(get_opt_str(v, R_RELATED_ACCOUNT_ID, &r->related_account_id));
        TRY(get_opt_str(v, R_REPORTER, &r->reporter));
        TRY(get_opt_str(v, R_DETAIL, &r->detail));
        TRY(get_opt_str(v, R_TENANT, &rec->tenant));
        break;
    }
    case RP_REC_ACTION: {
        rp_action *a = &rec->u.action;
        TRY(get_enum(v, A_ACTION, &e));
        a->action = (rp_action_type)e;
        TRY(get_opt_enum(v, A_ISSUE, &a->has_issue, &e));
        a->issue = (rp_issue_kind)e;
        TRY(get_opt_long(v, A_EFFECTIVE_TIME, &a->has_effective_time,
                         &a->effective_time));
        TRY(get_opt_str(v, A_RELATED_ACCOUNT_ID, &a->related_account_id));
        TRY(get_opt_str(v, A_NOTE, &a->note));
        TRY(get_opt_str(v, A_TENANT, &rec->tenant));
        TRY(get_opt_str(v, A_ACTOR, &a->actor));
        break;
    }
    default: return EINVAL;
    }
    return 0;

fail:
    return rc;
}

int rp_avro_decode_generic(rp_avro_codec *c, rp_rec_type type, const void *buf,
                           size_t len, rp_record *rec, char *errstr,
                           size_t errstr_size) {
    if ((unsigned)type >= RP_REC__COUNT)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "unknown record type %d", (int)type);
    int rc = read_datum(c, (int)type, buf, len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    rp_record_init(rec, type);
    rc = fill_record(c, &c->slots[type].dec, rec);
    if (rc != 0)
        return rc == RP_ENOMEM
                   ? rp_avro_error(errstr, errstr_size, RP_ENOMEM,
                                   "out of memory")
                   : rp_avro_error(errstr, errstr_size,
                                   rp_avro_failure(rc, RP_EBADDATA),
                                   "%s: the decoded value does not have the "
                                   "expected shape: %s",
                                   rp_avro_record_names[type], avro_strerror());
    return rp_record_check(rec, errstr, errstr_size);
}

/* ------------------------------------------------------------ events */

static int fill_metric(const avro_value_t *v, rp_metric_snapshot *m) {
    int rc, e;
    TRY(get_enum(v, M_STATUS, &e));
    m->status = (rp_issue_status)e;
    TRY(get_opt_double(v, M_RATE, &m->has_rate, &m->rate));
    TRY(get_long(v, M_COUNT, &m->count));
    TRY(get_long(v, M_VOLUME, &m->volume));
    TRY(get_long(v, M_WINDOW_START, &m->window_start));
    TRY(get_long(v, M_WINDOW_END, &m->window_end));
    return 0;
fail:
    return rc;
}

/* Fills sc from a StatusChange value. Returns 0, an avro-c code, or
 * RP_ECONTRACT when there are more issues than issue kinds. */
static int fill_status_change(const avro_value_t *v, rp_status_change *sc) {
    int rc, e;
    avro_value_t child, arr;
    size_t n;
    TRY(get_enum(v, SC_PREVIOUS_STATUS, &e));
    sc->previous_status = (rp_account_status)e;
    TRY(get_enum(v, SC_STATUS, &e));
    sc->status = (rp_account_status)e;
    TRY(get_enum(v, SC_CAUSE, &e));
    sc->cause = (rp_issue_kind)e;
    TRY(get_opt_long(v, SC_REVIEW_ENDS_AT, &sc->has_review_end,
                     &sc->review_ends_at));
    TRY(get_child(v, SC_BOUNCE, &child));
    TRY(fill_metric(&child, &sc->bounce));
    TRY(get_child(v, SC_COMPLAINT, &child));
    TRY(fill_metric(&child, &sc->complaint));
    TRY(get_child(v, SC_ISSUES, &arr));
    TRY(avro_value_get_size(&arr, &n));
    if (n > RP_ISSUE__COUNT)
        return RP_ECONTRACT;
    sc->n_issues = n;
    for (size_t i = 0; i < n; i++) {
        rp_issue_state *is = &sc->issues[i];
        TRY(avro_value_get_by_index(&arr, i, &child, NULL));
        TRY(get_enum(&child, I_KIND, &e));
        is->kind = (rp_issue_kind)e;
        TRY(get_enum(&child, I_STATUS, &e));
        is->status = (rp_issue_status)e;
        TRY(get_long(&child, I_SINCE, &is->since));
        TRY(get_opt_long(&child, I_REVIEW_ENDS_AT, &is->has_review_end,
                         &is->review_ends_at));
    }
    return 0;
fail:
    return rc;
}

/* Fills n from a Notification value; its strings borrow the value.
 * Returns 0, an avro-c code, or RP_ECONTRACT when there are more actions
 * than rp_notification holds. */
static int fill_notification(const avro_value_t *v, rp_notification *n) {
    int rc, e;
    avro_value_t arr, item;
    size_t count;
    TRY(get_enum(v, N_ISSUE, &e));
    n->issue = (rp_issue_kind)e;
    TRY(get_enum(v, N_STAGE, &e));
    n->stage = (rp_stage)e;
    TRY(get_enum(v, N_ACCOUNT_STATUS, &e));
    n->account_status = (rp_account_status)e;
    TRY(get_cstr(v, N_TITLE, &n->title));
    TRY(get_cstr(v, N_WHY, &n->why));
    TRY(get_child(v, N_ACTIONS, &arr));
    TRY(avro_value_get_size(&arr, &count));
    if (count > RP_NOTICE_MAX_ACTIONS)
        return RP_ECONTRACT;
    n->n_actions = count;
    for (size_t i = 0; i < count; i++) {
        const char *p = NULL;
        size_t size = 0;
        TRY(avro_value_get_by_index(&arr, i, &item, NULL));
        TRY(avro_value_get_string(&item, &p, &size));
        n->actions[i] = p ? p : "";
    }
    TRY(get_opt_double(v, N_RATE, &n->has_rate, &n->rate));
    TRY(get_opt_double(v, N_THRESHOLD, &n->has_threshold, &n->threshold));
    TRY(get_opt_long(v, N_REVIEW_ENDS_AT, &n->has_review_end,
                     &n->review_ends_at));
    return 0;
fail:
    return rc;
}

int rp_avro_decode_event(rp_avro_codec *c, const void *buf, size_t len,
                         rp_event *ev, rp_status_change *sc, rp_notification *n,
                         char *errstr, size_t errstr_size) {
    const int slot = RP_SCHEMA_ID_STATUS;
    int rc = read_datum(c, slot, buf, len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    const avro_value_t *v = &c->slots[slot].dec;
    avro_value_t child;
    bool has_sc, has_n;
    int64_t sequence;
    int kind;
    memset(ev, 0, sizeof(*ev));
    TRY(get_str(v, E_ACCOUNT_ID, &ev->account_id));
    TRY(get_long(v, E_SEQUENCE, &sequence));
    TRY(get_long(v, E_EVENT_TIME, &ev->event_time));
    TRY(get_enum(v, E_KIND, &kind));
    ev->kind = (rp_event_kind)kind;
    TRY(get_opt_str(v, E_TENANT, &ev->tenant));
    if (ev->account_id.len == 0)
        return rp_avro_error(errstr, errstr_size, RP_ECONTRACT,
                             "account_id is empty");
    if (sequence < 1)
        return rp_avro_error(errstr, errstr_size, RP_ECONTRACT,
                             "sequence is %lld, expected 1 or more",
                             (long long)sequence);
    ev->sequence = (uint64_t)sequence;

    TRY(get_opt(v, E_STATUS_CHANGE, &has_sc, &child));
    if (has_sc) {
        if (!sc)
            return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                                 "no rp_status_change to decode into");
        memset(sc, 0, sizeof(*sc));
        if ((rc = fill_status_change(&child, sc)) == RP_ECONTRACT)
            return rp_avro_error(errstr, errstr_size, RP_ECONTRACT,
                                 "status_change lists more than %d issues",
                                 RP_ISSUE__COUNT);
        if (rc != 0)
            goto fail;
        ev->status_change = sc;
    }
    TRY(get_opt(v, E_NOTIFICATION, &has_n, &child));
    if (has_n) {
        if (!n)
            return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                                 "no rp_notification to decode into");
        memset(n, 0, sizeof(*n));
        if ((rc = fill_notification(&child, n)) == RP_ECONTRACT)
            return rp_avro_error(errstr, errstr_size, RP_ECONTRACT,
                                 "notification lists more than %d actions",
                                 RP_NOTICE_MAX_ACTIONS);
        if (rc != 0)
            goto fail;
        n->tenant = ev->tenant; /* what the engine's notification holds */
        ev->notification = n;
    }
    /* Exactly the part that kind names must be present. */
    if (has_sc != (ev->kind == RP_EVENT_STATUS_CHANGE) ||
        has_n != (ev->kind == RP_EVENT_NOTIFICATION))
        return rp_avro_error(
            errstr, errstr_size, RP_ECONTRACT,
            "kind is %s but status_change is %s and notification "
            "is %s",
            rp_event_kind_name(ev->kind), has_sc ? "set" : "null",
            has_n ? "set" : "null");
    return 0;

fail:
    return rp_avro_error(errstr, errstr_size, rp_avro_failure(rc, RP_EBADDATA),
                         "ReputationEvent: the decoded value does not have the "
                         "expected shape: %s",
                         avro_strerror());
}
