/*
 * test_tenant_contract.c - the contract side of tenants and of the
 * Action's actor (docs/rules.md section 10, docs/input.md,
 * docs/schemas.md): the fields between bytes and rp_record / rp_event,
 * for producers that do not know them yet.
 *
 * Two subjects. Old producers: a record written with the schema before
 * tenant (and actor) were appended decodes, without a registry (plain
 * framing, and the Confluent framing with the pinned id) by the trailing
 * defaults, and with a registry by its writer schema's plan; the old
 * bytes are made by avro-c from the old schema itself, and every cut of
 * them but the whole is still truncated, as is a cut between the two
 * fields the Action gained. Evolution: writer schemas that move the
 * tenant, make it a plain string, or give it a type the reader cannot
 * read. Bad input and round trips are test_tenant_input.c's; the shared
 * helpers are tenant_support.h's.
 */
#include "tenant_support.h"

/* ---------------------------------------------------------------- helpers */

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
