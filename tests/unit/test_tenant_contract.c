/*
 * test_tenant_contract.c - the contract side of tenants and of the
 * Action's actor (docs/rules.md section 10, docs/input.md,
 * docs/schemas.md): the fields between bytes and rp_record / rp_event.
 *
 * Four subjects. Old producers: a record written with the schema before
 * tenant (and actor) were appended decodes, without a registry (plain
 * framing, and the Confluent framing with the pinned id) by the trailing
 * defaults, and with a registry by its writer schema's plan; the old
 * bytes are made by avro-c from the old schema itself, and every cut of
 * them but the whole is still truncated, as is a cut between the two
 * fields the Action gained. Evolution: writer schemas that move the
 * tenant, make it a plain string, or give it a type the reader cannot
 * read. Bad input: every form of bad tenant and actor, through Avro,
 * JSON lines and rp_record_check() alone, each with its reason. Round
 * trips: every record type with and without tenant and actor, Avro to
 * JSON lines and back to the same bytes, and events with a tenant.
 *
 * Inputs are heap copies of exactly their length, so that ASan catches a
 * read past the end.
 */
#include "resolve_support.h"

#include "repute/jsonl.h"

/* ---------------------------------------------------------------- helpers */

#define TENANT "brand-\xc3\xa9"
#define ACTOR  "ops:\xc3\xa9mile"

static rp_avro_codec *codec(rp_framing f) {
    rp_avro_codec *c = rp_avro_codec_new(f, ids, err, sizeof(err));
    cr_assert_not_null(c, "%s", err);
    return c;
}

/* A valid record of type t; with_tenant also sets the tenant and, for an
 * action, the actor. */
static void sample(rp_record *r, rp_rec_type t, bool with_tenant) {
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

static bool str_same(rp_str a, rp_str b) {
    if (!a.ptr || !b.ptr)
        return !a.ptr && !b.ptr;
    return rp_str_eq(a, b);
}

/* The fields this file changes the records in, and one of each type's own
 * (the rest is test_avro.c's). */
static void assert_same(const rp_record *got, const rp_record *want) {
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

/* How many fields were appended to the slot's schema after the first
 * release. */
static size_t n_trailing(int slot) {
    return slot == RP_REC_ACTION ? 2 : 1;
}

/* The slot's schema as it was before tenant (and actor). */
static char *old_schema(int slot) {
    json_t *j = reader_json(slot);
    remove_field(j, "tenant");
    if (slot == RP_REC_ACTION)
        remove_field(j, "actor");
    return dump(j);
}

/* Encodes r with c and returns a heap copy of exactly its bytes. */
static uint8_t *encode(rp_avro_codec *c, const rp_record *r, size_t *len) {
    const void *out;
    cr_assert_eq(rp_avro_encode(c, r, &out, len, err, sizeof(err)), 0, "%s",
                 err);
    return copy_of(out, *len);
}

/* What a producer with the old schema writes for r (whose tenant and actor
 * are null): the current encoding less its trailing zero bytes, which
 * avro-c, given the old schema, must read whole and write back the same.
 * With the Confluent framing the header stays in front. */
static uint8_t *old_bytes(rp_avro_codec *c, rp_framing f, const rp_record *r,
                          size_t *len) {
    size_t n;
    uint8_t *cur = encode(c, r, &n);
    size_t trail = n_trailing(r->type);
    for (size_t i = 0; i < trail; i++)
        cr_assert_eq(cur[n - 1 - i], 0, "a null union is one zero byte");
    *len = n - trail;
    size_t hdr = f == RP_FRAMING_CONFLUENT ? 5 : 0;
    /* avro-c with the old schema reads the body, and that value takes
     * exactly the body's bytes: it is one datum of the old schema. */
    char *sj = old_schema(r->type);
    avro_schema_t s = schema_of(sj);
    free(sj);
    avro_value_iface_t *cls = avro_generic_class_from_schema(s);
    avro_value_t v;
    cr_assert_eq(avro_generic_value_new(cls, &v), 0);
    avro_reader_t rd =
        avro_reader_memory((const char *)cur + hdr, (int64_t)(*len - hdr));
    cr_assert_eq(avro_value_read(rd, &v), 0, "%s", avro_strerror());
    size_t size;
    cr_assert_eq(avro_value_sizeof(&v, &size), 0);
    cr_assert_eq(size, *len - hdr);
    avro_reader_free(rd);
    avro_value_decref(&v);
    avro_value_iface_decref(cls);
    avro_schema_decref(s);
    uint8_t *b = copy_of(cur, *len);
    free(cur);
    return b;
}

/* Decodes with both decoders (on two codecs), which must agree; returns
 * the code, the record from the direct one in *got. */
static int decode_both(rp_avro_codec *c, rp_avro_codec *g, rp_rec_type t,
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

/* ------------------------------------------------------- old producers */

/* Without a registry: plain, and Confluent with the pinned id. */
Test(old_producers, records_of_the_old_schema_decode_with_defaults) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = codec((rp_framing)f), *g = codec((rp_framing)f);
        for (int t = 0; t < RP_REC__COUNT; t++) {
            rp_record r, got;
            sample(&r, (rp_rec_type)t, false);
            size_t len;
            uint8_t *b = old_bytes(c, (rp_framing)f, &r, &len);
            cr_assert_eq(decode_both(c, g, (rp_rec_type)t, b, len, &got), 0,
                         "%s framing %d: %s", rp_rec_type_name(r.type), f, err);
            assert_same(&got, &r);
            cr_assert_null(got.tenant.ptr);
            /* Every shorter cut is truncated, as before. */
            for (size_t k = 0; k < len; k++) {
                uint8_t *cut = copy_of(b, k);
                cr_assert_eq(decode_both(c, g, (rp_rec_type)t, cut, k, &got),
                             RP_ETRUNC, "%s: %zu of %zu",
                             rp_rec_type_name(r.type), k, len);
                free(cut);
            }
            free(b);
        }
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(g);
    }
}

/* rp_avro_check_trailing() says how many fields a datum lacks: none for
 * the current schema, one (tenant) or two (an action's tenant and actor)
 * for the old one; rp_avro_check() accepts both with their lengths. */
Test(old_producers, check_trailing_counts_the_missing_fields) {
    rp_avro_codec *c = codec(RP_FRAMING_PLAIN);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        rp_record r;
        sample(&r, (rp_rec_type)t, false);
        size_t len, old_len, lacks = 99;
        uint8_t *cur = encode(c, &r, &len);
        uint8_t *old = old_bytes(c, RP_FRAMING_PLAIN, &r, &old_len);
        cr_assert_eq(
            rp_avro_check_trailing(t, cur, len, &lacks, err, sizeof(err)),
            (int)len, "%s", err);
        cr_assert_eq(lacks, 0);
        cr_assert_eq(
            rp_avro_check_trailing(t, old, old_len, &lacks, err, sizeof(err)),
            (int)old_len, "%s", err);
        cr_assert_eq(lacks, n_trailing(t));
        cr_assert_eq(rp_avro_check(t, old, old_len, err, sizeof(err)),
                     (int)old_len);
        cr_assert_eq(rp_avro_check_trailing(t, old, old_len - 1, &lacks, err,
                                            sizeof(err)),
                     RP_ETRUNC);
        cr_assert_eq(lacks, 0);
        free(cur);
        free(old);
    }
    rp_avro_codec_destroy(c);
}

/* The boundary is the old schema's end, not any field boundary after it:
 * an Action with its tenant but not its actor, and a record whose tenant
 * is cut inside, are truncated. */
Test(old_producers, only_the_old_end_is_accepted) {
    rp_avro_codec *c = codec(RP_FRAMING_PLAIN), *g = codec(RP_FRAMING_PLAIN);
    rp_record r, got;
    sample(&r, RP_REC_ACTION, true);
    size_t len;
    uint8_t *b = encode(c, &r, &len);
    /* The actor: branch 1, length, bytes; cut right before it. */
    size_t actor_bytes = 2 + strlen(ACTOR);
    uint8_t *cut = copy_of(b, len - actor_bytes);
    cr_assert_eq(decode_both(c, g, RP_REC_ACTION, cut, len - actor_bytes, &got),
                 RP_ETRUNC);
    cr_assert(strstr(err, "Action.actor"), "%s", err);
    free(cut);
    /* Inside the tenant: after its branch, after its length. */
    sample(&r, RP_REC_DELIVERY, true);
    free(b);
    b = encode(c, &r, &len);
    for (size_t k = len - strlen(TENANT) - 1; k < len; k++) {
        cut = copy_of(b, k);
        cr_assert_eq(decode_both(c, g, RP_REC_DELIVERY, cut, k, &got),
                     RP_ETRUNC, "%zu of %zu", k, len);
        cr_assert(strstr(err, "Delivery.tenant"), "%s", err);
        free(cut);
    }
    /* A whole record with bytes after it is still refused. */
    uint8_t *more = malloc(len + 1);
    memcpy(more, b, len);
    more[len] = 0;
    cr_assert_eq(decode_both(c, g, RP_REC_DELIVERY, more, len + 1, &got),
                 RP_EBADDATA);
    cr_assert(strstr(err, "trailing"), "%s", err);
    free(more);
    free(b);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(g);
}

/* A ReputationEvent of the old schema (an older repute's output, read by
 * repute tail) decodes with tenant null. */
Test(old_producers, events_of_the_old_schema_decode) {
    rp_avro_codec *c = codec(RP_FRAMING_CONFLUENT);
    rp_notification n = {.issue = RP_ISSUE_SPAMTRAP,
                         .stage = RP_STAGE_REVIEW_STARTED,
                         .account_status = RP_ASTATUS_UNDER_REVIEW,
                         .title = "T",
                         .why = "W"};
    rp_event ev = {.account_id = rp_str_c("a"),
                   .sequence = 3,
                   .event_time = 5,
                   .kind = RP_EVENT_NOTIFICATION,
                   .notification = &n};
    const void *out;
    size_t len;
    cr_assert_eq(rp_avro_encode_event(c, &ev, &out, &len, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_eq(((const uint8_t *)out)[len - 1], 0);
    uint8_t *old = copy_of(out, len - 1);
    rp_event back;
    rp_status_change sc;
    rp_notification bn;
    cr_assert_eq(rp_avro_decode_event(c, old, len - 1, &back, &sc, &bn, err,
                                      sizeof(err)),
                 0, "%s", err);
    cr_assert_null(back.tenant.ptr);
    cr_assert_eq(back.sequence, 3);
    cr_assert_str_eq(back.notification->why, "W");
    free(old);
    /* And with a tenant, it is kept. */
    ev.tenant = rp_str_c(TENANT);
    cr_assert_eq(rp_avro_encode_event(c, &ev, &out, &len, err, sizeof(err)), 0,
                 "%s", err);
    old = copy_of(out, len);
    cr_assert_eq(
        rp_avro_decode_event(c, old, len, &back, &sc, &bn, err, sizeof(err)), 0,
        "%s", err);
    cr_assert(rp_str_eq(back.tenant, rp_str_c(TENANT)));
    cr_assert(rp_str_eq(back.notification->tenant, rp_str_c(TENANT)));
    free(old);
    rp_avro_codec_destroy(c);
}

/* With a registry: the old schema is a writer schema of its own id, which
 * resolves (tenant and actor take their default) and decodes both ways;
 * the same for ReputationEvent. */
Test(old_producers, old_writer_schemas_resolve_through_the_registry) {
    rp_avro_codec *pin = codec(RP_FRAMING_PLAIN);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        rp_avro_codec *c = confluent_codec(NULL), *g = confluent_codec(NULL);
        char *wjson = old_schema(t);
        cr_assert_eq(
            rp_avro_codec_add_writer(c, t, 900, wjson, err, sizeof(err)), 0,
            "%s", err);
        cr_assert_eq(
            rp_avro_codec_add_writer(g, t, 900, wjson, err, sizeof(err)), 0,
            "%s", err);
        free(wjson);
        rp_record r, got;
        sample(&r, (rp_rec_type)t, false);
        size_t len;
        uint8_t *body = old_bytes(pin, RP_FRAMING_PLAIN, &r, &len);
        uint8_t *b = malloc(len + 5);
        memcpy(b, (const uint8_t[]){0, 0, 0, 0x03, 0x84}, 5); /* id 900 */
        memcpy(b + 5, body, len);
        cr_assert_eq(decode_both(c, g, (rp_rec_type)t, b, len + 5, &got), 0,
                     "%s: %s", rp_rec_type_name(r.type), err);
        assert_same(&got, &r);
        free(body);
        free(b);
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(g);
    }
    rp_avro_codec_destroy(pin);

    rp_avro_codec *c = confluent_codec(NULL);
    char *wjson = old_schema(RP_SCHEMA_ID_STATUS);
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_SCHEMA_ID_STATUS, 901, wjson,
                                          err, sizeof(err)),
                 0, "%s", err);
    free(wjson);
    rp_notification n = {.title = "T", .why = "W"};
    rp_event ev = {.account_id = rp_str_c("a"),
                   .sequence = 1,
                   .kind = RP_EVENT_NOTIFICATION,
                   .notification = &n};
    const void *out;
    size_t len;
    cr_assert_eq(rp_avro_encode_event(c, &ev, &out, &len, err, sizeof(err)), 0,
                 "%s", err);
    uint8_t *b = copy_of(out, len - 1); /* the old schema's bytes */
    b[4] = 0x85;                        /* id 901 */
    b[3] = 0x03;
    rp_event back;
    rp_status_change sc;
    rp_notification bn;
    cr_assert_eq(
        rp_avro_decode_event(c, b, len - 1, &back, &sc, &bn, err, sizeof(err)),
        0, "%s", err);
    cr_assert_null(back.tenant.ptr);
    free(b);
    rp_avro_codec_destroy(c);
}

/* ------------------------------------------------------------ evolution */

static void set_string(avro_value_t *v, const char *field, const char *s) {
    avro_value_t f, b;
    cr_assert_eq(avro_value_get_by_name(v, field, &f, NULL), 0, "%s", field);
    if (avro_value_get_type(&f) == AVRO_UNION) {
        cr_assert_eq(avro_value_set_branch(&f, s ? 1 : 0, &b), 0);
        f = b;
    }
    if (s)
        cr_assert_eq(avro_value_set_string(&f, s), 0);
    else
        cr_assert_eq(avro_value_set_null(&f), 0);
}

/* A delivery of the writer schema wjson, framed with id 900. */
static uint8_t *writer_delivery(const char *wjson, size_t *len) {
    avro_schema_t s = schema_of(wjson);
    avro_value_iface_t *cls = avro_generic_class_from_schema(s);
    avro_value_t v, f, b;
    cr_assert_eq(avro_generic_value_new(cls, &v), 0);
    set_string(&v, "event_id", "ev-1");
    set_string(&v, "account_id", "acct-1");
    avro_value_get_by_name(&v, "event_time", &f, NULL);
    avro_value_set_long(&f, 1767225600000);
    set_string(&v, "message_id", "m1");
    set_string(&v, "recipient", "to@x.test");
    avro_value_get_by_name(&v, "sent_time", &f, NULL);
    avro_value_set_branch(&f, 0, &b);
    set_string(&v, "tenant", TENANT);
    uint8_t *out = framed(&v, 900, len);
    avro_value_decref(&v);
    avro_value_iface_decref(cls);
    avro_schema_decref(s);
    return out;
}

/* Writers that move the tenant to the front, or write it as a plain
 * string: the tenant is read either way, on both decoders. */
Test(evolution, a_moved_or_plain_tenant_is_read) {
    for (int variant = 0; variant < 2; variant++) {
        json_t *j = reader_json(RP_REC_DELIVERY);
        if (variant == 0)
            move_field(j, "tenant", 0);
        else
            set_type(j, "tenant", "\"string\"");
        char *wjson = dump(j);
        rp_avro_codec *c = confluent_codec(NULL), *g = confluent_codec(NULL);
        cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_DELIVERY, 900, wjson,
                                              err, sizeof(err)),
                     0, "%s", err);
        cr_assert_eq(rp_avro_codec_add_writer(g, RP_REC_DELIVERY, 900, wjson,
                                              err, sizeof(err)),
                     0, "%s", err);
        size_t len;
        uint8_t *b = writer_delivery(wjson, &len);
        rp_record got;
        cr_assert_eq(decode_both(c, g, RP_REC_DELIVERY, b, len, &got), 0,
                     "variant %d: %s", variant, err);
        cr_assert(rp_str_eq(got.tenant, rp_str_c(TENANT)));
        cr_assert(rp_str_eq(got.account_id, rp_str_c("acct-1")));
        free(b);
        free(wjson);
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(g);
    }
}

/* A tenant the reader cannot read (an int) makes the writer unresolvable,
 * and the reason names the field. */
Test(evolution, an_int_tenant_is_unresolvable) {
    json_t *j = reader_json(RP_REC_BOUNCE);
    set_type(j, "tenant", "\"int\"");
    char *wjson = dump(j);
    rp_avro_codec *c = confluent_codec(NULL);
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_BOUNCE, 900, wjson, err,
                                          sizeof(err)),
                 RP_ECONTRACT);
    cr_assert(strstr(err, "Bounce.tenant"), "%s", err);
    free(wjson);
    rp_avro_codec_destroy(c);
}

/* ------------------------------------------------------------ bad input */

static char long_text[RP_TEXT_MAX + 2];

static void tenant_of(rp_record *r, const char *s, size_t n) {
    r->tenant = (rp_str){s, n};
}

/* Through Avro: every bad tenant breaks the contract (or, not UTF-8, is
 * refused by the validator), named, for every record type. */
Test(bad_input, tenants_through_avro) {
    memset(long_text, 'x', sizeof(long_text) - 1);
    rp_avro_codec *c = codec(RP_FRAMING_PLAIN), *g = codec(RP_FRAMING_PLAIN);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        const struct {
            const char *s;
            size_t n;
            int rc;
            const char *reason;
        } cases[] = {
            {"", 0, RP_ECONTRACT, "tenant is empty"},
            {long_text, RP_TENANT_MAX + 1, RP_ECONTRACT,
             "tenant is 257 bytes long, more than 256"},
            {long_text, RP_TENANT_MAX, 0, NULL},
            {"\xc3\xa9", 2, 0, NULL},
            {"a\xff", 2, RP_EBADDATA, "tenant at byte"},
            {"\xed\xa0\x80", 3, RP_EBADDATA, "not valid UTF-8"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            rp_record r, got;
            sample(&r, (rp_rec_type)t, false);
            tenant_of(&r, cases[i].s, cases[i].n);
            size_t len;
            uint8_t *b = encode(c, &r, &len);
            int rc = decode_both(c, g, (rp_rec_type)t, b, len, &got);
            cr_assert_eq(rc, cases[i].rc, "%s case %zu: %d (%s)",
                         rp_rec_type_name(r.type), i, rc, err);
            if (cases[i].reason)
                cr_assert(strstr(err, cases[i].reason), "%s", err);
            else
                cr_assert_eq(got.tenant.len, cases[i].n);
            free(b);
        }
    }
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(g);
}

/* rp_record_check() alone, as a record built by other code meets it: every
 * way a tenant or an actor can be malformed, each with its reason. */
Test(bad_input, record_check_of_tenants_and_actors) {
    memset(long_text, 'x', sizeof(long_text) - 1);
    const struct {
        const char *s;
        size_t n;
        const char *reason; /* NULL: accepted */
    } tenants[] = {
        {"", 0, "tenant is empty"},
        {long_text, 257, "tenant is 257 bytes long"},
        {long_text, 256, NULL},
        {"\xc0\x80", 2, "tenant is not valid UTF-8 (byte 0)"}, /* overlong */
        {"ab\x80", 3, "tenant is not valid UTF-8 (byte 2)"},
        {"\xed\xa0\x80", 3, "not valid UTF-8"},     /* a surrogate */
        {"\xe2\x82", 2, "not valid UTF-8"},         /* cut short */
        {"\xf4\x90\x80\x80", 4, "not valid UTF-8"}, /* above U+10FFFF */
        {"\xf0\x9f\x98\x80", 4, NULL},
    };
    for (size_t i = 0; i < sizeof(tenants) / sizeof(tenants[0]); i++) {
        for (int t = 0; t < RP_REC__COUNT; t++) {
            rp_record r;
            sample(&r, (rp_rec_type)t, false);
            tenant_of(&r, tenants[i].s, tenants[i].n);
            err[0] = '\0';
            int rc = rp_record_check(&r, err, sizeof(err));
            if (!tenants[i].reason) {
                cr_assert_eq(rc, 0, "case %zu: %s", i, err);
                continue;
            }
            cr_assert_eq(rc, RP_ECONTRACT, "case %zu", i);
            cr_assert(strstr(err, tenants[i].reason), "case %zu: %s", i, err);
        }
    }
    rp_record r;
    sample(&r, RP_REC_ACTION, true);
    r.u.action.actor = (rp_str){long_text, RP_TEXT_MAX + 1};
    cr_assert_eq(rp_record_check(&r, err, sizeof(err)), RP_ECONTRACT);
    cr_assert(strstr(err, "actor is 8193 bytes long, more than 8192"), "%s",
              err);
    r.u.action.actor = (rp_str){long_text, RP_TEXT_MAX};
    cr_assert_eq(rp_record_check(&r, err, sizeof(err)), 0, "%s", err);
    r.u.action.actor = rp_str_c("ann\xff");
    cr_assert_eq(rp_record_check(&r, err, sizeof(err)), RP_ECONTRACT);
    cr_assert(strstr(err, "actor is not valid UTF-8 (byte 3)"), "%s", err);
    r.u.action.actor = rp_str_c("");
    cr_assert_eq(rp_record_check(&r, err, sizeof(err)), 0, "%s", err);
}

/* Parses one JSON line; returns the code, with the reason in err. */
static int parse_line(rp_jsonl_reader *rd, const char *line, rp_record *rec) {
    int64_t tick;
    err[0] = '\0';
    return rp_jsonl_parse(rd, line, strlen(line), rec, &tick, err, sizeof(err));
}

Test(bad_input, tenants_and_actors_through_json_lines) {
    rp_jsonl_reader *rd = rp_jsonl_reader_new();
    rp_record rec;
    static char line[1024];
    const char *head = "{\"type\":\"action\",\"event_id\":\"e\","
                       "\"account_id\":\"a\",\"event_time\":1,"
                       "\"action\":\"END_REVIEW\"";
    const struct {
        const char *extra;
        int rc;
        const char *reason;
    } cases[] = {
        {"", RP_JSONL_RECORD, NULL},
        {",\"tenant\":null,\"actor\":null", RP_JSONL_RECORD, NULL},
        {",\"tenant\":\"\"", RP_ECONTRACT, "tenant is empty"},
        {",\"tenant\":7", RP_EBADDATA,
         "tenant: expected a string, got an "
         "integer"},
        {",\"tenant\":[\"a\"]", RP_EBADDATA, "tenant: expected a string"},
        {",\"tenant\":\"a\\u0000b\"", RP_EBADDATA,
         "tenant: contains a NUL character"},
        {",\"tenant\":\"\\ud800\"", RP_EBADDATA, "not valid JSON"},
        {",\"tenant\":\"\xff\"", RP_EBADDATA, "not valid JSON"},
        {",\"tenant\":\"t\",\"tenant\":\"u\"", RP_EBADDATA,
         "duplicate field \"tenant\""},
        {",\"actor\":true", RP_EBADDATA, "actor: expected a string"},
        {",\"actor\":\"\\u00e9mile\"", RP_JSONL_RECORD, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(line, sizeof(line), "%s%s}", head, cases[i].extra);
        int rc = parse_line(rd, line, &rec);
        cr_assert_eq(rc, cases[i].rc, "case %zu: %d (%s)", i, rc, err);
        if (cases[i].reason)
            cr_assert(strstr(err, cases[i].reason), "case %zu: %s", i, err);
    }
    /* 257 bytes, and 256 of a multi-byte character. */
    char t[600];
    memset(t, 'x', 257);
    t[257] = '\0';
    snprintf(line, sizeof(line), "%s,\"tenant\":\"%s\"}", head, t);
    cr_assert_eq(parse_line(rd, line, &rec), RP_ECONTRACT);
    cr_assert(strstr(err, "tenant is 257 bytes long"), "%s", err);
    for (int i = 0; i < 128; i++)
        memcpy(t + 2 * i, "\xc3\xa9", 2);
    t[256] = '\0';
    snprintf(line, sizeof(line), "%s,\"tenant\":\"%s\"}", head, t);
    cr_assert_eq(parse_line(rd, line, &rec), RP_JSONL_RECORD, "%s", err);
    cr_assert_eq(rec.tenant.len, 256);
    rp_jsonl_reader_destroy(rd);
}

/* ---------------------------------------------------------- round trips */

/* Every record type, with and without tenant and actor: Avro, decoded,
 * written as a JSON line, parsed, encoded again: the same bytes, and the
 * line says what it holds. Both framings. */
Test(round_trip, avro_json_avro_is_the_same_bytes) {
    rp_jsonl_reader *rd = rp_jsonl_reader_new();
    rp_buf line = RP_BUF_INIT;
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = codec((rp_framing)f), *c2 = codec((rp_framing)f);
        for (int t = 0; t < RP_REC__COUNT; t++) {
            for (int with = 0; with < 2; with++) {
                rp_record r, got, parsed;
                sample(&r, (rp_rec_type)t, with);
                size_t len, len2;
                uint8_t *b = encode(c, &r, &len);
                cr_assert_eq(
                    rp_avro_decode(c, r.type, b, len, &got, err, sizeof(err)),
                    0, "%s", err);
                assert_same(&got, &r);
                rp_buf_reset(&line);
                cr_assert_eq(rp_jsonl_write_record(&line, &got), 0);
                cr_assert(strstr(line.data, with ? "\"tenant\":\"" TENANT "\""
                                                 : "\"tenant\":null"),
                          "%s", line.data);
                if (t == RP_REC_ACTION)
                    cr_assert(strstr(line.data,
                                     with ? ",\"tenant\":\"" TENANT
                                            "\",\"actor\":\"" ACTOR "\"}\n"
                                          : ",\"tenant\":null,\"actor\":null}"
                                            "\n"),
                              "%s", line.data);
                else
                    cr_assert_null(strstr(line.data, "actor"));
                cr_assert_eq(parse_line(rd, line.data, &parsed),
                             RP_JSONL_RECORD, "%s: %s", line.data, err);
                assert_same(&parsed, &r);
                uint8_t *b2 = encode(c2, &parsed, &len2);
                cr_assert_eq(len2, len);
                cr_assert(memcmp(b, b2, len) == 0, "%s", line.data);
                free(b);
                free(b2);
            }
        }
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(c2);
    }
    rp_buf_free(&line);
    rp_jsonl_reader_destroy(rd);
}

/* An event's tenant: the last member of its JSON line, null or a string,
 * and kept by Avro. */
Test(round_trip, events_carry_their_tenant) {
    rp_status_change sc = {.previous_status = RP_ASTATUS_HEALTHY,
                           .status = RP_ASTATUS_UNDER_REVIEW,
                           .cause = RP_ISSUE_BOUNCE_RATE};
    rp_event ev = {.account_id = rp_str_c("acme"),
                   .sequence = 4,
                   .event_time = 9,
                   .kind = RP_EVENT_STATUS_CHANGE,
                   .status_change = &sc};
    rp_buf out = RP_BUF_INIT;
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_assert(strstr(out.data, ",\"notification\":null,\"tenant\":null}\n"),
              "%s", out.data);
    rp_buf_reset(&out);
    ev.tenant = rp_str_c("a \"quoted\" " TENANT);
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_assert(strstr(out.data, ",\"notification\":null,\"tenant\":\"a "
                               "\\\"quoted\\\" " TENANT "\"}\n"),
              "%s", out.data);
    json_t *j = json_loads(out.data, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "tenant")),
                     "a \"quoted\" " TENANT);
    json_decref(j);
    rp_buf_free(&out);

    rp_avro_codec *c = codec(RP_FRAMING_PLAIN);
    const void *bytes;
    size_t len;
    cr_assert_eq(rp_avro_encode_event(c, &ev, &bytes, &len, err, sizeof(err)),
                 0, "%s", err);
    uint8_t *b = copy_of(bytes, len);
    rp_event back;
    rp_status_change bsc;
    rp_notification bn;
    cr_assert_eq(
        rp_avro_decode_event(c, b, len, &back, &bsc, &bn, err, sizeof(err)), 0,
        "%s", err);
    cr_assert(rp_str_eq(back.tenant, ev.tenant));
    free(b);
    rp_avro_codec_destroy(c);
}
