/*
 * avro_decode.c - rp_avro_decode(), the hot path: input records decoded by
 * the validator's own walk over the bytes, with no avro-c call.
 *
 * Framing first (plain, or the Confluent wire format with its magic byte
 * and schema id), then the size limit, then rp_avro_check_walk()
 * (avro_check.c), which proves without allocating that the bytes are
 * exactly one well-formed datum of the schema and, in the same pass,
 * writes down every field it read: union branches, the values of
 * booleans, ints, longs and enums, and where each string lies in the
 * input. The rp_record is filled from those entries by field index, with
 * strings pointing into the caller's input buffer and the recipients of a
 * complaint in the codec's reused array, and finally rp_record_check()
 * applies the parts of the contract that a schema cannot express. No
 * avro-c call, no allocation (once the recipients array has grown to the
 * most recipients seen) and no copy. A record of the schema before its
 * trailing defaults (docs/schemas.md: no tenant, no actor) is accepted by
 * the same walk, which records the missing fields as null. Since the entries
 * are read by position and kind, the constructor (avro.c) has checked the type
 * of every field of the five input schemas against what fill_walked() expects.
 *
 * Everything this file calls per record is static here or static inline
 * in avro_codec.h, except the walk itself, so that splitting the codec
 * into files cost the hot path no call.
 */
#include "repute/avro.h"

#include "codec/avro_codec.h"
#include "codec/avro_plan.h"
#include "codec/str_array.h"

/* The entries of rp_avro_check_walk() as rp_record fields. check_kinds() has
 * made sure at start-up that each field has the kind read here. */
static rp_str walked_str(const rp_avro_walk_field *f) {
    return (rp_str){f->str, f->len};
}

static rp_str walked_opt_str(const rp_avro_walk_field *f) {
    return f->branch == 1 ? (rp_str){f->str, f->len} : RP_STR_NULL;
}

static bool walked_has(const rp_avro_walk_field *f) {
    return f->branch == 1;
}

/* Fills rec (initialised for its type) from a successful walk; a null
 * long or enum reads as 0, its value as recorded. */
static void fill_walked(rp_avro_codec *c, const rp_avro_walk *w,
                        rp_record *rec) {
    const rp_avro_walk_field *f = w->field;
    rec->event_id = walked_str(&f[F_EVENT_ID]);
    rec->account_id = walked_str(&f[F_ACCOUNT_ID]);
    rec->event_time = f[F_EVENT_TIME].num;
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        rp_delivery *d = &rec->u.delivery;
        d->message_id = walked_str(&f[D_MESSAGE_ID]);
        d->recipient = walked_str(&f[D_RECIPIENT]);
        d->has_sent_time = walked_has(&f[D_SENT_TIME]);
        d->sent_time = f[D_SENT_TIME].num;
        d->verified_recipient = f[D_VERIFIED_RECIPIENT].num != 0;
        d->simulator = f[D_SIMULATOR].num != 0;
        d->feedback_loop = f[D_FEEDBACK_LOOP].num != 0;
        rec->tenant = walked_opt_str(&f[D_TENANT]);
        break;
    }
    case RP_REC_BOUNCE: {
        rp_bounce *b = &rec->u.bounce;
        b->message_id = walked_str(&f[B_MESSAGE_ID]);
        b->recipient = walked_str(&f[B_RECIPIENT]);
        b->has_sent_time = walked_has(&f[B_SENT_TIME]);
        b->sent_time = f[B_SENT_TIME].num;
        b->bounce_type = (rp_bounce_type)f[B_BOUNCE_TYPE].num;
        b->bounce_subtype = (rp_bounce_subtype)f[B_BOUNCE_SUBTYPE].num;
        b->verified_recipient = f[B_VERIFIED_RECIPIENT].num != 0;
        b->simulator = f[B_SIMULATOR].num != 0;
        b->diagnostic = walked_opt_str(&f[B_DIAGNOSTIC]);
        rec->tenant = walked_opt_str(&f[B_TENANT]);
        break;
    }
    case RP_REC_COMPLAINT: {
        rp_complaint *m = &rec->u.complaint;
        const rp_avro_walk_field *r = &f[C_RECIPIENTS];
        m->message_id = walked_str(&f[C_MESSAGE_ID]);
        /* The walk stored the items in c->recipients (the caller has made
         * room for all of them). */
        m->recipients = r->count ? c->recipients + r->first : c->recipients;
        m->n_recipients = r->count;
        m->has_sent_time = walked_has(&f[C_SENT_TIME]);
        m->sent_time = f[C_SENT_TIME].num;
        m->feedback_type = (rp_feedback_type)f[C_FEEDBACK_TYPE].num;
        m->on_suppression_list = f[C_ON_SUPPRESSION_LIST].num != 0;
        m->simulator = f[C_SIMULATOR].num != 0;
        rec->tenant = walked_opt_str(&f[C_TENANT]);
        break;
    }
    case RP_REC_REPORT: {
        rp_report *r = &rec->u.report;
        r->kind = (rp_issue_kind)(f[R_KIND].num + RP_ISSUE__FIRST_REPORT);
        r->incidents = (int32_t)f[R_INCIDENTS].num;
        r->domain = walked_opt_str(&f[R_DOMAIN]);
        r->related_account_id = walked_opt_str(&f[R_RELATED_ACCOUNT_ID]);
        r->reporter = walked_opt_str(&f[R_REPORTER]);
        r->detail = walked_opt_str(&f[R_DETAIL]);
        rec->tenant = walked_opt_str(&f[R_TENANT]);
        break;
    }
    case RP_REC_ACTION: {
        rp_action *a = &rec->u.action;
        a->action = (rp_action_type)f[A_ACTION].num;
        a->has_issue = walked_has(&f[A_ISSUE]);
        a->issue = (rp_issue_kind)f[A_ISSUE].num;
        a->has_effective_time = walked_has(&f[A_EFFECTIVE_TIME]);
        a->effective_time = f[A_EFFECTIVE_TIME].num;
        a->related_account_id = walked_opt_str(&f[A_RELATED_ACCOUNT_ID]);
        a->note = walked_opt_str(&f[A_NOTE]);
        rec->tenant = walked_opt_str(&f[A_TENANT]);
        a->actor = walked_opt_str(&f[A_ACTOR]);
        break;
    }
    default: break;
    }
}

/* Walks the datum with the string items going to c->recipients: by the
 * validator for repute's own schema, or by the plan of an evolved writer
 * schema (avro_plan.h, walk mode), which records the same entries. */
static int walk_datum(rp_avro_codec *c, int slot, const uint8_t *body,
                      size_t body_len, char *errstr, size_t errstr_size) {
    rp_avro_walk *w = &c->walk;
    w->items = c->recipients;
    w->items_cap = c->recipients_cap;
    if (c->walk_plan)
        return rp_avro_plan_walk(c->walk_plan, body, body_len, w, errstr,
                                 errstr_size);
    int n = rp_avro_check_walk(slot, body, body_len, w, errstr, errstr_size);
    return whole_datum(slot, n, body_len, errstr, errstr_size);
}

int rp_avro_decode(rp_avro_codec *c, rp_rec_type type, const void *buf,
                   size_t len, rp_record *rec, char *errstr,
                   size_t errstr_size) {
    if ((unsigned)type >= RP_REC__COUNT)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "unknown record type %d", (int)type);
    const int slot = (int)type;
    const uint8_t *body = NULL;
    size_t body_len = 0;
    c->want_walk = true;
    c->walk_plan = NULL;
    int rc = datum_of(c, slot, buf, len, &body, &body_len, errstr, errstr_size);
    c->want_walk = false;
    if (rc == 0)
        rc = walk_datum(c, slot, body, body_len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    if (c->walk.n_items > c->walk.items_cap) {
        /* More recipients than any complaint before: grow the array and
         * walk again, which stores them all. This happens a few times per
         * codec at most, since the array only grows. */
        if (rp_codec_grow_strs(&c->recipients, &c->recipients_cap,
                               c->walk.n_items) < 0)
            return rp_avro_error(errstr, errstr_size, RP_ENOMEM,
                                 "out of memory");
        if ((rc = walk_datum(c, slot, body, body_len, errstr, errstr_size)) < 0)
            return rc;
    }
    if (c->walk.n_fields != c->slots[slot].n_fields)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "%s: the walk recorded %zu fields, expected %zu",
                             rp_avro_record_names[slot], c->walk.n_fields,
                             c->slots[slot].n_fields);
    rp_record_init(rec, type);
    fill_walked(c, &c->walk, rec);
    return rp_record_check(rec, errstr, errstr_size);
}
