/*
 * tenant_support.h - what the tests of the contract side of tenants and
 * of the Action's actor share (test_tenant_contract.c,
 * test_tenant_input.c): a tenant and an actor beyond ASCII, codecs,
 * sample records with and without them, records held to each other,
 * exact-size encodings, and decoding with both decoders, which must agree.
 *
 * Inputs are heap copies of exactly their length, so that ASan catches a
 * read past the end. The helpers are static inline, so that each test
 * program takes what it uses without a warning for the rest.
 */
#ifndef REPUTE_TEST_TENANT_SUPPORT_H
#define REPUTE_TEST_TENANT_SUPPORT_H

#include "resolve_support.h"

#include "repute/jsonl.h"

/* ---------------------------------------------------------------- helpers */

#define TENANT "brand-\xc3\xa9"
#define ACTOR  "ops:\xc3\xa9mile"

static inline rp_avro_codec *codec(rp_framing f) {
    rp_avro_codec *c = rp_avro_codec_new(f, ids, err, sizeof(err));
    cr_assert_not_null(c, "%s", err);
    return c;
}

/* A valid record of type t; with_tenant also sets the tenant and, for an
 * action, the actor. */
static inline void sample(rp_record *r, rp_rec_type t, bool with_tenant) {
    static const rp_str recipients[] = {{"a@x.test", 8}, {"b@y.test", 8}};
    rp_record_init(r, t);
    r->event_id = rp_str_c("ev-1");
    r->account_id = rp_str_c("acct-1");
    r->event_time = INT64_C(1767225600000);
    switch (t) {
    case RP_REC_DELIVERY:
        r->u.delivery.message_id = rp_str_c("m1");
        r->u.delivery.recipient = rp_str_c("to@x.test");
        break;
    case RP_REC_BOUNCE:
        r->u.bounce.message_id = rp_str_c("m2");
        r->u.bounce.recipient = rp_str_c("to@x.test");
        r->u.bounce.diagnostic = rp_str_c("550 no such user");
        break;
    case RP_REC_COMPLAINT:
        r->u.complaint.message_id = rp_str_c("m3");
        r->u.complaint.recipients = recipients;
        r->u.complaint.n_recipients = 2;
        break;
    case RP_REC_REPORT:
        r->u.report.kind = RP_ISSUE_SPAMTRAP;
        r->u.report.domain = rp_str_c("x.test");
        break;
    case RP_REC_ACTION:
        r->u.action.action = RP_ACTION_END_REVIEW;
        r->u.action.note = rp_str_c("checked");
        break;
    default: cr_assert_fail("bad type");
    }
    if (with_tenant) {
        r->tenant = rp_str_c(TENANT);
        if (t == RP_REC_ACTION)
            r->u.action.actor = rp_str_c(ACTOR);
    }
}

static inline bool str_same(rp_str a, rp_str b) {
    if (!a.ptr || !b.ptr)
        return !a.ptr && !b.ptr;
    return rp_str_eq(a, b);
}

/* The fields this file changes the records in, and one of each type's own
 * (the whole record is avro_support.h's assert_records_equal). */
static inline void assert_same(const rp_record *got, const rp_record *want) {
    cr_assert_eq(got->type, want->type);
    cr_assert(rp_str_eq(got->event_id, want->event_id));
    cr_assert(rp_str_eq(got->account_id, want->account_id));
    cr_assert_eq(got->event_time, want->event_time);
    cr_assert(str_same(got->tenant, want->tenant), "tenant %.*s",
              (int)got->tenant.len, got->tenant.ptr ? got->tenant.ptr : "");
    if (want->type == RP_REC_ACTION) {
        cr_assert(str_same(got->u.action.actor, want->u.action.actor));
        cr_assert(str_same(got->u.action.note, want->u.action.note));
    }
    if (want->type == RP_REC_COMPLAINT)
        cr_assert_eq(got->u.complaint.n_recipients,
                     want->u.complaint.n_recipients);
    if (want->type == RP_REC_BOUNCE)
        cr_assert(
            str_same(got->u.bounce.diagnostic, want->u.bounce.diagnostic));
}
/* Encodes r with c and returns a heap copy of exactly its bytes. */
static inline uint8_t *encode(rp_avro_codec *c, const rp_record *r,
                              size_t *len) {
    const void *out;
    cr_assert_eq(rp_avro_encode(c, r, &out, len, err, sizeof(err)), 0, "%s",
                 err);
    return copy_of(out, *len);
}
/* Decodes with both decoders (on two codecs), which must agree; returns
 * the code, the record from the direct one in *got. */
static inline int decode_both(rp_avro_codec *c, rp_avro_codec *g, rp_rec_type t,
                              const uint8_t *p, size_t n, rp_record *got) {
    char gerr[512];
    rp_record gen;
    err[0] = gerr[0] = '\0';
    int rc = rp_avro_decode(c, t, p, n, got, err, sizeof(err));
    int rg = rp_avro_decode_generic(g, t, p, n, &gen, gerr, sizeof(gerr));
    cr_assert_eq(rc, rg, "direct %d (%s), generic %d (%s)", rc, err, rg, gerr);
    cr_assert_str_eq(err, gerr);
    if (rc == 0)
        assert_same(&gen, got);
    return rc;
}

#endif
