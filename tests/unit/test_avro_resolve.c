/*
 * test_avro_resolve.c - writer schemas (src/codec/avro_writers.c): the
 * interface the registry client uses, and resolution cases checked by hand.
 *
 * The interface first: without writers nothing changes (an unknown id is
 * RP_EBADDATA as before); in registry mode an unknown id is RP_ENOSCHEMA;
 * repute's own schema added under a new id decodes by the fast path
 * (strings point into the input); an unresolvable or invalid schema is
 * remembered with its reason; ids are added once; the cap holds.
 *
 * Then what a reference cannot check: unresolvable schemas and the field
 * their reason names, defaults in a decoded record, a writer union branch
 * the reader lacks, and, through the plan compiler with a reader of the
 * test's own, aliases, an enum default and defaults of every shape, byte
 * for byte. test_avro_resolve_ref.c holds the plans to avro-c.
 */
#include "codec/avro_plan.h"
#include "resolve_support.h"

/* A delivery framed with id: encoded by a codec that pins id for it. */
static uint8_t *framed_delivery(int32_t id, size_t *len) {
    int32_t pin[RP_SCHEMA_ID__COUNT];
    memcpy(pin, ids, sizeof(pin));
    pin[RP_REC_DELIVERY] = id;
    rp_avro_codec *enc = confluent_codec(pin);
    rp_record rec;
    rp_record_init(&rec, RP_REC_DELIVERY);
    rec.event_id = rp_str_c("e1");
    rec.account_id = rp_str_c("acct");
    rec.event_time = 1700000000000;
    rec.u.delivery.message_id = rp_str_c("m1");
    rec.u.delivery.recipient = rp_str_c("r@example.com");
    rec.u.delivery.feedback_loop = true;
    const void *out;
    size_t out_len;
    cr_assert_eq(rp_avro_encode(enc, &rec, &out, &out_len, err, sizeof(err)), 0,
                 "%s", err);
    uint8_t *b = copy_of(out, out_len);
    *len = out_len;
    rp_avro_codec_destroy(enc);
    return b;
}

/* ---------------------------------------------------------------- interface */

Test(resolve_api, unknown_id_without_writers_is_baddata_as_before) {
    rp_avro_codec *c = confluent_codec(NULL);
    size_t len;
    uint8_t *b = framed_delivery(999, &len);
    rp_record rec;
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)),
        RP_EBADDATA);
    cr_assert_str_eq(err, "Delivery: schema id is 999, expected 11");
    cr_assert_not(rp_avro_codec_knows_writer(c, 999));
    cr_assert(rp_avro_codec_knows_writer(c, 11));
    free(b);
    rp_avro_codec_destroy(c);
}

Test(resolve_api, unknown_id_in_registry_mode_is_noschema) {
    rp_avro_codec *c = confluent_codec(NULL);
    rp_avro_codec_enable_writers(c);
    size_t len;
    uint8_t *b = framed_delivery(999, &len);
    rp_record rec;
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)),
        RP_ENOSCHEMA);
    cr_assert(strstr(err, "999"), "%s", err);
    int64_t et;
    cr_assert_eq(rp_avro_codec_peek_event_time(c, b, len, &et), RP_ENOSCHEMA);
    cr_assert_str_eq(rp_strerror(RP_ENOSCHEMA),
                     "the writer schema is not known yet");
    free(b);
    rp_avro_codec_destroy(c);
}

/* An id that is known (pinned for another slot) is never "not known
 * yet", which would have the runtime wait for a schema for ever. */
Test(resolve_api, another_slots_pinned_id_is_baddata) {
    rp_avro_codec *c = confluent_codec(NULL);
    rp_avro_codec_enable_writers(c);
    size_t len;
    uint8_t *b = framed_delivery(ids[RP_REC_BOUNCE], &len);
    cr_assert(rp_avro_codec_knows_writer(c, ids[RP_REC_BOUNCE]));
    rp_record rec;
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)),
        RP_EBADDATA);
    cr_assert_str_eq(err, "Delivery: schema id 22 is the id of Bounce");
    free(b);
    rp_avro_codec_destroy(c);
}

Test(resolve_api, own_schema_under_a_new_id_takes_the_fast_path) {
    int32_t pin[RP_SCHEMA_ID__COUNT];
    for (int i = 0; i < RP_SCHEMA_ID__COUNT; i++)
        pin[i] = RP_AVRO_NO_ID;
    rp_avro_codec *c = confluent_codec(pin);
    rp_avro_codec_enable_writers(c);
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_DELIVERY, 7,
                                          rp_avro_schema_json(RP_REC_DELIVERY),
                                          err, sizeof(err)),
                 0, "%s", err);
    cr_assert(rp_avro_codec_knows_writer(c, 7));
    /* Twice is a no-op. */
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_DELIVERY, 7, "junk", err,
                                          sizeof(err)),
                 0);
    size_t len;
    uint8_t *b = framed_delivery(7, &len);
    int32_t id = 0;
    cr_assert_eq(rp_avro_framed_schema_id(b, len, &id), 0);
    cr_assert_eq(id, 7);
    rp_record rec;
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)), 0,
        "%s", err);
    /* The fast path: strings point into the input. */
    cr_assert(rec.account_id.ptr >= (const char *)b &&
              rec.account_id.ptr < (const char *)b + len);
    cr_assert_eq(rec.event_time, 1700000000000);
    int64_t et;
    rp_str acct;
    cr_assert_eq(rp_avro_codec_peek_event_time(c, b, len, &et), 0);
    cr_assert_eq(et, 1700000000000);
    cr_assert_eq(rp_avro_codec_peek_account_id(c, b, len, &acct), 0);
    cr_assert_eq(acct.len, 4);
    /* A pinned NO_ID slot cannot frame an output. */
    const void *out;
    size_t out_len;
    cr_assert_eq(rp_avro_encode(c, &rec, &out, &out_len, err, sizeof(err)),
                 RP_EINVAL);
    free(b);
    rp_avro_codec_destroy(c);
}

Test(resolve_api, invalid_and_unresolvable_schemas_are_remembered) {
    rp_avro_codec *c = confluent_codec(NULL);
    rp_avro_codec_enable_writers(c);
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_DELIVERY, 5, "{not json",
                                          err, sizeof(err)),
                 RP_EINVAL);
    const char *missing =
        "{\"type\":\"record\",\"name\":\"Delivery\",\"fields\":["
        "{\"name\":\"event_id\",\"type\":\"string\"},"
        "{\"name\":\"account_id\",\"type\":\"string\"},"
        "{\"name\":\"event_time\",\"type\":\"long\"},"
        "{\"name\":\"message_id\",\"type\":\"string\"}]}";
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_DELIVERY, 6, missing, err,
                                          sizeof(err)),
                 RP_ECONTRACT);
    cr_assert(strstr(err, "Delivery.recipient"), "%s", err);
    size_t len;
    uint8_t *b = framed_delivery(6, &len);
    rp_record rec;
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)),
        RP_ECONTRACT);
    cr_assert(strstr(err, "Delivery.recipient"), "%s", err);
    free(b);
    b = framed_delivery(5, &len);
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)),
        RP_EINVAL);
    free(b);
    rp_avro_codec_destroy(c);
}

Test(resolve_api, the_number_of_writers_is_capped) {
    rp_avro_codec *c = confluent_codec(NULL);
    const char *json = rp_avro_schema_json(RP_REC_BOUNCE);
    for (int i = 0; i < RP_AVRO_MAX_WRITERS; i++)
        cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_BOUNCE, 1000 + i, json,
                                              err, sizeof(err)),
                     0, "%d: %s", i, err);
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_BOUNCE, 5000, json, err,
                                          sizeof(err)),
                 RP_ENOSPACE);
    cr_assert(rp_avro_codec_knows_writer(c, 1000 + RP_AVRO_MAX_WRITERS - 1));
    rp_avro_codec_destroy(c);
}

/* ---------------------------------------------------------------- by hand */

/* Adds the writer schema (freed here) under id 900 and returns add's
 * code, the reason in err. */
static int add(rp_avro_codec *c, int slot, char *wjson) {
    int rc = rp_avro_codec_add_writer(c, slot, 900, wjson, err, sizeof(err));
    free(wjson);
    return rc;
}

static char *delivery_with(const char *field, const char *type) {
    json_t *j = reader_json(RP_REC_DELIVERY);
    set_type(j, field, type);
    return dump(j);
}

Test(resolve_hand, unresolvable_schemas_name_the_field) {
    static const struct {
        const char *field, *type, *reason;
    } cases[] = {
        {"event_time", "\"string\"",
         "Delivery.event_time: the writer's string "
         "cannot be read as the reader's long"},
        {"event_time", "[\"null\",\"string\"]", "Delivery.event_time"},
        {"recipient", "\"long\"", "Delivery.recipient"},
        {"sent_time", "\"double\"",
         "Delivery.sent_time: the writer's double "
         "matches no branch of the reader's union"},
        {"simulator", "\"int\"", "Delivery.simulator"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rp_avro_codec *c = confluent_codec(NULL);
        cr_assert_eq(add(c, RP_REC_DELIVERY,
                         delivery_with(cases[i].field, cases[i].type)),
                     RP_ECONTRACT, "%s", cases[i].field);
        cr_assert(strstr(err, cases[i].reason), "%s", err);
        rp_avro_codec_destroy(c);
    }
}

Test(resolve_hand, a_demotion_and_another_record_are_unresolvable) {
    rp_avro_codec *c = confluent_codec(NULL);
    json_t *j = reader_json(RP_REC_REPORT);
    set_type(j, "incidents", "\"long\"");
    cr_assert_eq(add(c, RP_REC_REPORT, dump(j)), RP_ECONTRACT);
    cr_assert(strstr(err, "Report.incidents"), "%s", err);
    j = reader_json(RP_REC_DELIVERY);
    json_object_set_new(j, "name", json_string("Shipment"));
    rp_avro_codec_destroy(c);
    c = confluent_codec(NULL);
    cr_assert_eq(add(c, RP_REC_DELIVERY, dump(j)), RP_ECONTRACT);
    cr_assert(strstr(err, "Shipment"), "%s", err);
    /* A renamed record is read when the reader lists the old name among
     * its aliases: repute's schemas have none, so Shipment stays out. */
    rp_avro_codec_destroy(c);
}

/* avro-c leaks when a schema defines a named type twice; repute refuses
 * such a schema before avro-c sees it. */
Test(resolve_hand, a_type_defined_twice_is_invalid) {
    rp_avro_codec *c = confluent_codec(NULL);
    json_t *j = reader_json(RP_REC_BOUNCE);
    add_field(j, -1,
              "{\"name\":\"again\",\"type\":{\"type\":\"enum\",\"name\":"
              "\"BounceType\",\"symbols\":[\"A\"]}}");
    cr_assert_eq(add(c, RP_REC_BOUNCE, dump(j)), RP_EINVAL);
    cr_assert(strstr(err, "repute.v1.BounceType is defined twice"), "%s", err);
    cr_assert(rp_avro_codec_knows_writer(c, 900));
    rp_avro_codec_destroy(c);
}

Test(resolve_hand, a_recursive_writer_is_unresolvable_not_a_crash) {
    rp_avro_codec *c = confluent_codec(NULL);
    json_t *j = reader_json(RP_REC_DELIVERY);
    add_field(j, -1,
              "{\"name\":\"chain\",\"type\":{\"type\":\"record\",\"name\":"
              "\"Node\",\"fields\":[{\"name\":\"next\",\"type\":[\"null\","
              "\"Node\"]}]}}");
    cr_assert_eq(add(c, RP_REC_DELIVERY, dump(j)), RP_ECONTRACT);
    cr_assert(strstr(err, "recursive"), "%s", err);
    rp_avro_codec_destroy(c);
}

/* Encodes a value of the writer schema wjson, framed with id 900. */
static uint8_t *write_value(const char *wjson, void (*set)(avro_value_t *),
                            size_t *len) {
    avro_schema_t s = schema_of(wjson);
    avro_value_iface_t *cls = avro_generic_class_from_schema(s);
    avro_value_t v;
    cr_assert_eq(avro_generic_value_new(cls, &v), 0);
    set(&v);
    uint8_t *b = framed(&v, 900, len);
    avro_value_decref(&v);
    avro_value_iface_decref(cls);
    avro_schema_decref(s);
    return b;
}

/* Sets a string field, or the string branch of a nullable one. */
static void set_str(avro_value_t *v, const char *field, const char *s) {
    avro_value_t f, b;
    cr_assert_eq(avro_value_get_by_name(v, field, &f, NULL), 0, "%s", field);
    if (avro_value_get_type(&f) == AVRO_UNION) {
        cr_assert_eq(avro_value_set_branch(&f, 1, &b), 0);
        f = b;
    }
    cr_assert_eq(avro_value_set_string(&f, s), 0);
}

/* Sets a nullable field to null. */
static void set_null(avro_value_t *v, const char *field) {
    avro_value_t f, b;
    cr_assert_eq(avro_value_get_by_name(v, field, &f, NULL), 0, "%s", field);
    cr_assert_eq(avro_value_set_branch(&f, 0, &b), 0);
    cr_assert_eq(avro_value_set_null(&b), 0);
}

/* The reordered delivery without sent_time, simulator and feedback_loop,
 * with an added x (and the tenant null). */
static void set_reordered(avro_value_t *v) {
    avro_value_t f, b;
    set_null(v, "tenant");
    set_str(v, "event_id", "ev-1");
    set_str(v, "account_id", "acct-7");
    avro_value_get_by_name(v, "event_time", &f, NULL);
    avro_value_set_long(&f, 1700000123456);
    set_str(v, "message_id", "msg");
    set_str(v, "recipient", "to@example.com");
    avro_value_get_by_name(v, "verified_recipient", &f, NULL);
    avro_value_set_boolean(&f, 1);
    avro_value_get_by_name(v, "x", &f, NULL);
    avro_value_set_branch(&f, 1, &b);
    avro_value_set_string(&b, "ignored");
}

Test(resolve_hand, decoded_record_has_defaults_and_borrows_the_codec) {
    rp_avro_codec *c = confluent_codec(NULL);
    char *wjson = delivery_removed_reordered();
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_DELIVERY, 900, wjson, err,
                                          sizeof(err)),
                 0, "%s", err);
    size_t len;
    uint8_t *b = write_value(wjson, set_reordered, &len);
    free(wjson);
    int64_t et = 0;
    rp_str acct = RP_STR_NULL;
    cr_assert_eq(rp_avro_codec_peek_event_time(c, b, len, &et), 0);
    cr_assert_eq(et, 1700000123456);
    cr_assert_eq(rp_avro_codec_peek_account_id(c, b, len, &acct), 0);
    cr_assert(rp_str_eq(acct, rp_str_c("acct-7")));
    rp_record rec;
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)), 0,
        "%s", err);
    cr_assert(rp_str_eq(rec.event_id, rp_str_c("ev-1")));
    cr_assert(rp_str_eq(rec.account_id, rp_str_c("acct-7")));
    cr_assert_eq(rec.event_time, 1700000123456);
    cr_assert(rp_str_eq(rec.u.delivery.recipient, rp_str_c("to@example.com")));
    cr_assert(rec.u.delivery.verified_recipient);
    cr_assert_not(rec.u.delivery.has_sent_time); /* default null */
    cr_assert_not(rec.u.delivery.simulator);     /* default false */
    cr_assert(rec.u.delivery.feedback_loop);     /* default true */
    /* The hot path reads the writer's bytes where they lie (walk mode):
     * the strings point into the input, as for repute's own schema. */
    cr_assert(rec.account_id.ptr >= (const char *)b &&
              rec.account_id.ptr < (const char *)b + len);
    /* The generic decoder (which reads the record rewritten into the
     * codec's buffer) agrees, on a codec of its own. */
    rp_avro_codec *g = confluent_codec(NULL);
    wjson = delivery_removed_reordered();
    cr_assert_eq(rp_avro_codec_add_writer(g, RP_REC_DELIVERY, 900, wjson, err,
                                          sizeof(err)),
                 0, "%s", err);
    free(wjson);
    rp_record gen;
    cr_assert_eq(rp_avro_decode_generic(g, RP_REC_DELIVERY, b, len, &gen, err,
                                        sizeof(err)),
                 0, "%s", err);
    cr_assert(rp_str_eq(gen.account_id, rec.account_id));
    cr_assert(gen.u.delivery.feedback_loop);
    cr_assert(gen.account_id.ptr < (const char *)b ||
              gen.account_id.ptr >= (const char *)b + len);
    rp_avro_codec_destroy(g);
    free(b);
    rp_avro_codec_destroy(c);
}

static void set_null_account(avro_value_t *v) {
    avro_value_t f, b;
    set_reordered(v);
    avro_value_get_by_name(v, "account_id", &f, NULL);
    avro_value_set_branch(&f, 0, &b);
    avro_value_set_null(&b);
}

Test(resolve_hand, a_writer_branch_the_reader_lacks_fails_at_decode) {
    rp_avro_codec *c = confluent_codec(NULL);
    char *text = delivery_removed_reordered();
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    set_type(j, "account_id", "[\"null\",\"string\"]");
    char *wjson = dump(j);
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_DELIVERY, 900, wjson, err,
                                          sizeof(err)),
                 0, "%s", err);
    size_t len;
    uint8_t *b = write_value(wjson, set_null_account, &len);
    free(wjson);
    rp_record rec;
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)),
        RP_ECONTRACT);
    cr_assert(strstr(err, "Delivery.account_id"), "%s", err);
    cr_assert(strstr(err, "null"), "%s", err);
    free(b);
    rp_avro_codec_destroy(c);
}

/* The plan compiler with a reader of its own: aliases, an enum default,
 * and defaults of every shape, checked byte for byte. */
Test(resolve_hand, aliases_enum_default_and_default_shapes) {
    const char *reader =
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
        "{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
        "\"symbols\":[\"X\",\"Y\",\"Z\"],\"default\":\"Z\"}},"
        "{\"name\":\"b\",\"type\":\"string\",\"aliases\":[\"old_b\"]},"
        "{\"name\":\"c\",\"type\":[\"null\",\"long\"],\"default\":null},"
        "{\"name\":\"d\",\"type\":{\"type\":\"array\",\"items\":\"int\"},"
        "\"default\":[1,2]},"
        "{\"name\":\"e\",\"type\":\"bytes\",\"default\":\"\\u00ff\"}]}";
    const char *writer =
        "{\"type\":\"record\",\"name\":\"ns.R\",\"fields\":["
        "{\"name\":\"old_b\",\"type\":\"string\"},"
        "{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
        "\"symbols\":[\"Y\",\"W\",\"X\"]}}]}";
    avro_schema_t r = schema_of(reader), w = schema_of(writer);
    rp_avro_plan *plan = NULL;
    bool direct = true;
    cr_assert_eq(
        rp_avro_plan_compile(w, r, reader, &plan, &direct, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_not(direct);
    rp_buf out = RP_BUF_INIT, scratch = RP_BUF_INIT;
    static const uint8_t in_w[] = {0x04, 'h', 'i', 0x02}; /* "hi", W */
    static const uint8_t want_w[] = {0x04, 0x04, 'h',  'i',  0x00, 0x04,
                                     0x02, 0x04, 0x00, 0x02, 0xff};
    uint8_t *in = copy_of(in_w, sizeof(in_w));
    cr_assert_eq(rp_avro_plan_run(plan, in, sizeof(in_w), &out, &scratch, err,
                                  sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(out.len, sizeof(want_w));
    cr_assert_arr_eq(out.data, want_w, sizeof(want_w));
    in[3] = 0x04; /* X: the reader's index 0 */
    cr_assert_eq(rp_avro_plan_run(plan, in, sizeof(in_w), &out, &scratch, err,
                                  sizeof(err)),
                 0, "%s", err);
    cr_assert_eq((uint8_t)out.data[0], 0x00);
    in[3] = 0x06; /* out of the writer's range */
    cr_assert_eq(rp_avro_plan_run(plan, in, sizeof(in_w), &out, &scratch, err,
                                  sizeof(err)),
                 RP_EBADDATA);
    cr_assert(strstr(err, "R.a"), "%s", err);
    free(in);
    rp_buf_free(&out);
    rp_buf_free(&scratch);
    rp_avro_plan_free(plan);
    avro_schema_decref(r);
    avro_schema_decref(w);
}

static void set_bad_extra(avro_value_t *v) {
    avro_value_t f, null;
    set_str(v, "event_id", "ev-1");
    set_str(v, "account_id", "acct-7");
    avro_value_get_by_name(v, "event_time", &f, NULL);
    avro_value_set_long(&f, 1700000123456);
    set_str(v, "message_id", "msg");
    set_str(v, "recipient", "to@example.com");
    avro_value_get_by_name(v, "sent_time", &f, NULL);
    avro_value_set_branch(&f, 0, &null);
    set_null(v, "tenant");
    set_str(v, "extra", "\xff\xfe not UTF-8");
}

static void set_bad_recipient(avro_value_t *v) {
    set_bad_extra(v);
    set_str(v, "extra", "fine");
    set_str(v, "recipient", "to\xc3@example.com");
}

/* A string the reader skips need not be UTF-8; one it reads must be, and
 * the reason names the field, on the hot path and the generic one alike. */
Test(resolve_hand, utf8_is_checked_where_the_reader_reads_a_string) {
    json_t *j = reader_json(RP_REC_DELIVERY);
    add_field(j, -1, "{\"name\":\"extra\",\"type\":\"string\"}");
    char *wjson = dump(j);
    rp_avro_codec *c = confluent_codec(NULL), *g = confluent_codec(NULL);
    cr_assert_eq(rp_avro_codec_add_writer(c, RP_REC_DELIVERY, 900, wjson, err,
                                          sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(rp_avro_codec_add_writer(g, RP_REC_DELIVERY, 900, wjson, err,
                                          sizeof(err)),
                 0, "%s", err);
    size_t len;
    uint8_t *b = write_value(wjson, set_bad_extra, &len);
    rp_record rec;
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(rp_avro_decode_generic(g, RP_REC_DELIVERY, b, len, &rec, err,
                                        sizeof(err)),
                 0, "%s", err);
    free(b);
    b = write_value(wjson, set_bad_recipient, &len);
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, b, len, &rec, err, sizeof(err)),
        RP_EBADDATA);
    cr_assert(strstr(err, "Delivery.recipient at byte"), "%s", err);
    cr_assert(strstr(err, "not valid UTF-8"), "%s", err);
    char gerr[512];
    cr_assert_eq(rp_avro_decode_generic(g, RP_REC_DELIVERY, b, len, &rec, gerr,
                                        sizeof(gerr)),
                 RP_EBADDATA);
    cr_assert_str_eq(err, gerr);
    free(b);
    free(wjson);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(g);
}
