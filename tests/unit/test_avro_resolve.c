/*
 * test_avro_resolve.c - writer schemas and decode plans (src/codec/
 * avro_writers.c, avro_plan*.c): the interface the registry client uses,
 * and schema resolution held to avro-c.
 *
 * The interface first: without writers nothing changes (an unknown id is
 * RP_EBADDATA as before); in registry mode an unknown id is RP_ENOSCHEMA;
 * repute's own schema added under a new id decodes by the fast path
 * (strings point into the input); an unresolvable or invalid schema is
 * remembered with its reason; ids are added once; the cap holds.
 *
 * Then resolution. For each of several evolved writer schemas (fields
 * added, nested records, unions, arrays and maps among them; fields
 * removed that have defaults; fields reordered; numbers promoted; unions
 * widened; enums with more or fewer symbols), many random records are
 * written by avro-c with the WRITER's schema and read two ways: by
 * repute's plan (rp_avro_resolve(), then avro-c reads the rewritten bytes
 * with repute's schema), and by avro-c's own resolution
 * (avro_resolved_writer_new(), the reference) into a value of repute's
 * schema. The two values must be equal field by field, except the fields
 * the writer lacks, which avro-c cannot resolve (it keeps no defaults):
 * there the reference reads with repute's schema narrowed to the fields
 * the writer has, and the plan's value must hold the reader's default.
 * Every record is then cut at every length under ASan: each cut is an
 * error, never a crash.
 */
#include <criterion/criterion.h>

#include <avro.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_plan.h"
#include "repute/avro.h"

static const int32_t ids[RP_SCHEMA_ID__COUNT] = {11, 22, 33, 44, 55, 66};
static char err[512];

static rp_avro_codec *confluent_codec(const int32_t *schema_ids) {
    rp_avro_codec *c = rp_avro_codec_new(
        RP_FRAMING_CONFLUENT, schema_ids ? schema_ids : ids, err, sizeof(err));
    cr_assert_not_null(c, "rp_avro_codec_new: %s", err);
    return c;
}

/* A heap copy of exactly n bytes, so that ASan sees reads past the end. */
static uint8_t *copy_of(const void *p, size_t n) {
    uint8_t *q = malloc(n ? n : 1);
    cr_assert_not_null(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

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

/* ---------------------------------------------------------------- schemas */

/* Writer schemas are repute's own, edited: the reader's JSON loaded and
 * changed field by field. */
static json_t *reader_json(int slot) {
    json_t *j = json_loads(rp_avro_schema_json(slot), 0, NULL);
    cr_assert_not_null(j);
    return j;
}

/* The record object named `name` anywhere in j (the top one for NULL). */
static json_t *record_of(json_t *j, const char *name) {
    if (json_is_object(j)) {
        const char *n = json_string_value(json_object_get(j, "name"));
        const char *t = json_string_value(json_object_get(j, "type"));
        if (t && !strcmp(t, "record") && (!name || (n && !strcmp(n, name))))
            return j;
    }
    if (json_is_object(j) || json_is_array(j)) {
        void *it = json_is_object(j) ? json_object_iter(j) : NULL;
        size_t n = json_is_array(j) ? json_array_size(j) : 0;
        for (size_t i = 0; i < n; i++) {
            json_t *r = record_of(json_array_get(j, i), name);
            if (r)
                return r;
        }
        for (; it; it = json_object_iter_next(j, it)) {
            json_t *r = record_of(json_object_iter_value(it), name);
            if (r)
                return r;
        }
    }
    return NULL;
}

static size_t field_at(json_t *rec, const char *name) {
    json_t *fields = json_object_get(rec, "fields");
    for (size_t i = 0; i < json_array_size(fields); i++)
        if (!strcmp(json_string_value(
                        json_object_get(json_array_get(fields, i), "name")),
                    name))
            return i;
    cr_assert_fail("no field %s", name);
    return 0;
}

static json_t *parse(const char *text) {
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    cr_assert_not_null(j, "%s: %s", text, e.text);
    return j;
}

static void set_type(json_t *rec, const char *field, const char *type) {
    json_t *f =
        json_array_get(json_object_get(rec, "fields"), field_at(rec, field));
    json_object_set_new(f, "type", parse(type));
    json_object_del(f, "default");
}

static void remove_field(json_t *rec, const char *field) {
    json_array_remove(json_object_get(rec, "fields"), field_at(rec, field));
}

/* Inserts the field (JSON text) at position pos, or at the end for -1. */
static void add_field(json_t *rec, int pos, const char *field) {
    json_t *fields = json_object_get(rec, "fields");
    if (pos < 0)
        json_array_append_new(fields, parse(field));
    else
        json_array_insert_new(fields, (size_t)pos, parse(field));
}

static void reverse_fields(json_t *rec) {
    json_t *fields = json_object_get(rec, "fields");
    size_t n = json_array_size(fields);
    for (size_t i = 0; i < n / 2; i++) {
        json_t *a = json_incref(json_array_get(fields, i));
        json_t *b = json_incref(json_array_get(fields, n - 1 - i));
        json_array_set_new(fields, i, b);
        json_array_set_new(fields, n - 1 - i, a);
    }
}

static void move_field(json_t *rec, const char *field, size_t pos) {
    json_t *fields = json_object_get(rec, "fields");
    size_t at = field_at(rec, field);
    json_t *f = json_incref(json_array_get(fields, at));
    json_array_remove(fields, at);
    json_array_insert_new(fields, pos, f);
}

static char *dump(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    cr_assert_not_null(s);
    json_decref(j);
    return s;
}

/* Fields added everywhere: at the end (an array, a map of a union, a
 * nested record with a union of a record inside, an enum, a three-way
 * union) and one in the middle. */
static char *delivery_added(void) {
    json_t *j = reader_json(RP_REC_DELIVERY);
    add_field(j, 4, "{\"name\":\"region\",\"type\":\"string\"}");
    add_field(j, -1,
              "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":"
              "\"string\"}}");
    add_field(j, -1,
              "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":"
              "[\"null\",\"long\",{\"type\":\"array\",\"items\":\"null\"}]}}");
    add_field(
        j, -1,
        "{\"name\":\"origin\",\"type\":{\"type\":\"record\",\"name\":"
        "\"Origin\","
        "\"fields\":[{\"name\":\"host\",\"type\":\"string\"},{\"name\":"
        "\"port\",\"type\":\"int\"},{\"name\":\"inner\",\"type\":[\"null\","
        "{\"type\":\"record\",\"name\":\"Inner\",\"fields\":[{\"name\":\"a\","
        "\"type\":\"double\"},{\"name\":\"b\",\"type\":\"bytes\"},{\"name\":"
        "\"c\",\"type\":{\"type\":\"fixed\",\"name\":\"F4\",\"size\":4}},"
        "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"t\",\"type\":"
        "\"boolean\"}]}]}]}}");
    add_field(j, -1,
              "{\"name\":\"level\",\"type\":{\"type\":\"enum\",\"name\":"
              "\"Level\",\"symbols\":[\"A\",\"B\",\"C\"]}}");
    add_field(j, -1,
              "{\"name\":\"opt\",\"type\":[\"null\",\"string\",\"long\"]}");
    return dump(j);
}

/* Fields removed that have defaults (sent_time, simulator,
 * feedback_loop), the rest in reverse order, one added. */
static char *delivery_removed_reordered(void) {
    json_t *j = reader_json(RP_REC_DELIVERY);
    remove_field(j, "sent_time");
    remove_field(j, "simulator");
    remove_field(j, "feedback_loop");
    reverse_fields(j);
    add_field(j, 2, "{\"name\":\"x\",\"type\":[\"null\",\"string\"]}");
    return dump(j);
}

/* Promotions and widened unions: int to long (plain and in a union),
 * bytes to string, a union with a branch the reader lacks (long in
 * diagnostic), a nullable boolean read as a boolean. */
static char *bounce_promoted(void) {
    json_t *j = reader_json(RP_REC_BOUNCE);
    set_type(j, "event_time", "\"int\"");
    set_type(j, "sent_time", "[\"null\",\"int\"]");
    set_type(j, "message_id", "\"bytes\"");
    set_type(j, "diagnostic", "[\"null\",\"string\",\"long\"]");
    set_type(j, "simulator", "[\"boolean\",\"null\"]");
    return dump(j);
}

/* Enums: a writer symbol the reader lacks (SOFT); the same symbols. */
static char *bounce_enum_widened(void) {
    json_t *j = reader_json(RP_REC_BOUNCE);
    set_type(j, "bounce_type",
             "{\"type\":\"enum\",\"name\":\"BounceType\",\"symbols\":["
             "\"PERMANENT\",\"TRANSIENT\",\"UNDETERMINED\",\"SOFT\"]}");
    return dump(j);
}

/* A non-union writer read as a reader union (sent_time), a field removed
 * with a default, a field moved first, array items promoted. */
static char *complaint_evolved(void) {
    json_t *j = reader_json(RP_REC_COMPLAINT);
    set_type(j, "sent_time", "\"long\"");
    remove_field(j, "on_suppression_list");
    move_field(j, "simulator", 0);
    add_field(j, -1,
              "{\"name\":\"scores\",\"type\":{\"type\":\"array\",\"items\":"
              "\"float\"}}");
    return dump(j);
}

/* incidents removed (default 1), domain a plain string. */
static char *report_evolved(void) {
    json_t *j = reader_json(RP_REC_REPORT);
    remove_field(j, "incidents");
    set_type(j, "domain", "\"string\"");
    return dump(j);
}

/* effective_time a three-way union, note a nullable bytes. */
static char *action_evolved(void) {
    json_t *j = reader_json(RP_REC_ACTION);
    set_type(j, "effective_time", "[\"null\",\"int\",\"long\"]");
    set_type(j, "note", "[\"bytes\",\"null\"]");
    return dump(j);
}

/* ReputationEvent: a field added inside a nested record that sits in a
 * union (StatusChange) and inside MetricSnapshot, Notification's fields
 * in reverse order, and the promotions to double: float, long and int
 * (this last one not a union, read as the reader's nullable double). */
static char *event_evolved(void) {
    json_t *j = reader_json(RP_SCHEMA_ID_STATUS);
    add_field(record_of(j, "StatusChange"), 1,
              "{\"name\":\"note\",\"type\":[\"null\",\"string\"]}");
    add_field(record_of(j, "MetricSnapshot"), -1,
              "{\"name\":\"extra\",\"type\":{\"type\":\"map\",\"values\":"
              "\"double\"}}");
    set_type(record_of(j, "MetricSnapshot"), "rate", "[\"null\",\"float\"]");
    set_type(record_of(j, "Notification"), "rate", "[\"null\",\"long\"]");
    set_type(record_of(j, "Notification"), "threshold", "\"int\"");
    reverse_fields(record_of(j, "Notification"));
    return dump(j);
}

/* ---------------------------------------------------------------- values */

/* xorshift64*: a fixed, portable sequence. */
static uint64_t rng_state = 1;
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}
static size_t below(size_t n) {
    return n ? (size_t)(rng() % n) : 0;
}

/* A number of a varied size, so that varints of every length occur. */
static int64_t some_long(void) {
    int64_t v = (int64_t)(rng() >> below(64));
    return below(2) ? v : -v;
}

static void some_text(char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + below(26));
    s[n] = '\0';
}

/* Fills a generic value of any schema with random data. */
static void fill(avro_value_t *v, int depth) {
    avro_value_t child;
    char text[24];
    switch (avro_value_get_type(v)) {
    case AVRO_NULL: avro_value_set_null(v); break;
    case AVRO_BOOLEAN: avro_value_set_boolean(v, (int)below(2)); break;
    case AVRO_INT32: avro_value_set_int(v, (int32_t)some_long()); break;
    case AVRO_INT64: avro_value_set_long(v, some_long()); break;
    case AVRO_FLOAT: avro_value_set_float(v, (float)some_long() / 7); break;
    case AVRO_DOUBLE: avro_value_set_double(v, (double)some_long() / 3); break;
    case AVRO_STRING:
        some_text(text, below(12));
        avro_value_set_string(v, text);
        break;
    case AVRO_BYTES:
        some_text(text, below(12));
        avro_value_set_bytes(v, text, strlen(text));
        break;
    case AVRO_FIXED: {
        avro_schema_t s = avro_value_get_schema(v);
        size_t n = (size_t)avro_schema_fixed_size(s);
        some_text(text, n < sizeof(text) ? n : sizeof(text) - 1);
        avro_value_set_fixed(v, text, n);
        break;
    }
    case AVRO_ENUM: {
        avro_schema_t s = avro_value_get_schema(v);
        avro_value_set_enum(
            v, (int)below((size_t)avro_schema_enum_number_of_symbols(s)));
        break;
    }
    case AVRO_UNION: {
        avro_schema_t s = avro_value_get_schema(v);
        avro_value_set_branch(v, (int)below(avro_schema_union_size(s)), &child);
        fill(&child, depth + 1);
        break;
    }
    case AVRO_RECORD: {
        size_t n;
        avro_value_get_size(v, &n);
        for (size_t i = 0; i < n; i++) {
            avro_value_get_by_index(v, i, &child, NULL);
            fill(&child, depth + 1);
        }
        break;
    }
    case AVRO_ARRAY: {
        size_t n = depth > 4 ? 0 : below(4);
        for (size_t i = 0; i < n; i++) {
            avro_value_append(v, &child, NULL);
            fill(&child, depth + 1);
        }
        break;
    }
    case AVRO_MAP: {
        size_t n = depth > 4 ? 0 : below(4);
        for (size_t i = 0; i < n; i++) {
            snprintf(text, sizeof(text), "k%zu", i);
            avro_value_add(v, text, &child, NULL, NULL);
            fill(&child, depth + 1);
        }
        break;
    }
    default: cr_assert_fail("unexpected type");
    }
}

/* The value's Avro binary, framed with id, in a heap buffer of exactly
 * its length. */
static uint8_t *framed(avro_value_t *v, int32_t id, size_t *len) {
    size_t size;
    cr_assert_eq(avro_value_sizeof(v, &size), 0);
    uint8_t *b = malloc(size + 5);
    cr_assert_not_null(b);
    b[0] = 0;
    b[1] = (uint8_t)((uint32_t)id >> 24);
    b[2] = (uint8_t)((uint32_t)id >> 16);
    b[3] = (uint8_t)((uint32_t)id >> 8);
    b[4] = (uint8_t)id;
    avro_writer_t w = avro_writer_memory((char *)b + 5, (int64_t)size);
    cr_assert_eq(avro_value_write(w, v), 0, "%s", avro_strerror());
    avro_writer_free(w);
    *len = size + 5;
    return b;
}

/* Whether value v (a field of the reader's record) holds the JSON default
 * d: null (the union's null branch), a boolean or an integer. */
static void assert_default(avro_value_t *v, json_t *d, const char *field) {
    if (json_is_null(d)) {
        int disc = -1;
        cr_assert_eq(avro_value_get_discriminant(v, &disc), 0);
        cr_assert_eq(disc, 0, "%s: branch %d, expected null", field, disc);
    } else if (json_is_boolean(d)) {
        int b = -1;
        cr_assert_eq(avro_value_get_boolean(v, &b), 0);
        cr_assert_eq(b, json_is_true(d), "%s: %d", field, b);
    } else if (json_is_integer(d)) {
        int32_t i = 0;
        cr_assert_eq(avro_value_get_int(v, &i), 0);
        cr_assert_eq(i, json_integer_value(d), "%s: %d", field, (int)i);
    } else {
        cr_assert_fail("%s: a default this test does not know", field);
    }
}

/* ---------------------------------------------------------------- avro-c */

typedef struct reference {
    avro_schema_t writer, reader, narrowed;
    avro_value_iface_t *w_class, *r_class, *n_class, *resolver;
    avro_value_t w, r, n, resolved;
    json_t *missing; /* reader fields the writer lacks: name -> default */
} reference;

static avro_schema_t schema_of(const char *json) {
    avro_schema_t s;
    cr_assert_eq(avro_schema_from_json_length(json, strlen(json), &s), 0, "%s",
                 avro_strerror());
    return s;
}

/* avro-c does not read bytes as a string (the specification allows it):
 * its writer schema says string wherever the test's says bytes, which
 * reads the same bytes, since both are encoded alike. */
static char *bytes_as_string(const char *wjson) {
    char *s = malloc(2 * strlen(wjson) + 1), *q = s;
    cr_assert_not_null(s);
    for (const char *p = wjson; *p;) {
        if (!strncmp(p, "\"bytes\"", 7)) {
            q += sprintf(q, "\"string\"");
            p += 7;
        } else {
            *q++ = *p++;
        }
    }
    *q = '\0';
    return s;
}

static void reference_init(reference *ref, int slot, const char *wjson) {
    memset(ref, 0, sizeof(*ref));
    char *as_string = bytes_as_string(wjson);
    ref->writer = schema_of(as_string);
    free(as_string);
    ref->reader = schema_of(rp_avro_schema_json(slot));
    /* The reader narrowed to the fields the writer has: avro-c resolves
     * no defaults. */
    json_t *nj = reader_json(slot);
    json_t *fields = json_object_get(nj, "fields");
    ref->missing = json_object();
    for (size_t i = 0; i < json_array_size(fields);) {
        json_t *f = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (avro_schema_record_field_get_index(ref->writer, name) >= 0) {
            i++;
            continue;
        }
        json_object_set(ref->missing, name, json_object_get(f, "default"));
        json_array_remove(fields, i);
    }
    char *ntext = dump(nj);
    ref->narrowed = schema_of(ntext);
    free(ntext);
    ref->w_class = avro_generic_class_from_schema(ref->writer);
    ref->r_class = avro_generic_class_from_schema(ref->reader);
    ref->n_class = avro_generic_class_from_schema(ref->narrowed);
    ref->resolver = avro_resolved_writer_new(ref->writer, ref->narrowed);
    cr_assert_not_null(ref->resolver, "avro-c cannot resolve: %s",
                       avro_strerror());
    cr_assert_eq(avro_generic_value_new(ref->w_class, &ref->w), 0);
    cr_assert_eq(avro_generic_value_new(ref->r_class, &ref->r), 0);
    cr_assert_eq(avro_generic_value_new(ref->n_class, &ref->n), 0);
    cr_assert_eq(avro_resolved_writer_new_value(ref->resolver, &ref->resolved),
                 0);
    avro_resolved_writer_set_dest(&ref->resolved, &ref->n);
}

static void reference_done(reference *ref) {
    avro_value_decref(&ref->resolved);
    avro_value_decref(&ref->w);
    avro_value_decref(&ref->r);
    avro_value_decref(&ref->n);
    avro_value_iface_decref(ref->resolver);
    avro_value_iface_decref(ref->w_class);
    avro_value_iface_decref(ref->r_class);
    avro_value_iface_decref(ref->n_class);
    avro_schema_decref(ref->writer);
    avro_schema_decref(ref->reader);
    avro_schema_decref(ref->narrowed);
    json_decref(ref->missing);
}

/* Reads bytes into value v (through a resolver or not). */
static int read_with(const void *p, size_t n, avro_value_t *v) {
    avro_reader_t rd = avro_reader_memory(p, (int64_t)n);
    int rc = avro_value_read(rd, v);
    avro_reader_free(rd);
    return rc;
}

/* The plan's reading of the record against avro-c's, field by field. */
static void compare(reference *ref, const void *out, size_t out_len) {
    avro_value_reset(&ref->r);
    cr_assert_eq(read_with(out, out_len, &ref->r), 0, "%s", avro_strerror());
    size_t n = avro_schema_record_size(ref->reader);
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(ref->reader, (int)i);
        avro_value_t mine, theirs;
        cr_assert_eq(avro_value_get_by_index(&ref->r, i, &mine, NULL), 0);
        json_t *d = json_object_get(ref->missing, name);
        if (d) {
            assert_default(&mine, d, name);
            continue;
        }
        cr_assert_eq(avro_value_get_by_name(&ref->n, name, &theirs, NULL), 0);
        cr_assert(avro_value_equal(&mine, &theirs), "field %s differs", name);
    }
}

/* Every cut of the record is an error, never a crash. */
static void every_truncation(rp_avro_codec *c, int slot, const uint8_t *b,
                             size_t len) {
    for (size_t k = 0; k < len; k++) {
        uint8_t *cut = copy_of(b, k);
        const void *out;
        size_t out_len;
        rp_record rec;
        rp_event ev;
        rp_status_change sc;
        rp_notification nt;
        cr_assert_lt(
            rp_avro_resolve(c, slot, cut, k, &out, &out_len, err, sizeof(err)),
            0, "a cut at %zu of %zu resolved", k, len);
        int rc = slot == RP_SCHEMA_ID_STATUS
                     ? rp_avro_decode_event(c, cut, k, &ev, &sc, &nt, err,
                                            sizeof(err))
                     : rp_avro_decode(c, (rp_rec_type)slot, cut, k, &rec, err,
                                      sizeof(err));
        cr_assert_lt(rc, 0, "a cut at %zu of %zu decoded", k, len);
        free(cut);
    }
}

/* The plain encoding of a decoded record, in a heap copy: two records
 * are equal when their encodings are (Avro's encoding is a function of
 * the values, null flags included). */
static uint8_t *encoding_of(const rp_record *rec, size_t *len) {
    rp_avro_codec *enc =
        rp_avro_codec_new(RP_FRAMING_PLAIN, NULL, err, sizeof(err));
    cr_assert_not_null(enc);
    const void *out;
    cr_assert_eq(rp_avro_encode(enc, rec, &out, len, err, sizeof(err)), 0, "%s",
                 err);
    uint8_t *b = copy_of(out, *len);
    rp_avro_codec_destroy(enc);
    return b;
}

/* Decodes the whole record the way the runtime would: success, or a
 * contract error for random values; never a malformed-input error. The
 * hot path (the plan in walk mode, on d) and the generic decoder (the
 * plan's rewritten bytes read by avro-c, on g) must agree: same code,
 * same reason, same record. */
static int full_decode(rp_avro_codec *d, rp_avro_codec *g, int slot,
                       const uint8_t *b, size_t len) {
    rp_record rec, gen;
    rp_event ev;
    rp_status_change sc;
    rp_notification nt;
    char gerr[512];
    int rc =
        slot == RP_SCHEMA_ID_STATUS
            ? rp_avro_decode_event(d, b, len, &ev, &sc, &nt, err, sizeof(err))
            : rp_avro_decode(d, (rp_rec_type)slot, b, len, &rec, err,
                             sizeof(err));
    cr_assert(rc == 0 || rc == RP_ECONTRACT, "%d: %s", rc, err);
    if (slot == RP_SCHEMA_ID_STATUS)
        return rc;
    int rc2 = rp_avro_decode_generic(g, (rp_rec_type)slot, b, len, &gen, gerr,
                                     sizeof(gerr));
    cr_assert_eq(rc2, rc, "%s / %s", err, gerr);
    if (rc < 0) {
        cr_assert_str_eq(err, gerr);
        return rc;
    }
    size_t n1, n2;
    uint8_t *e1 = encoding_of(&rec, &n1), *e2 = encoding_of(&gen, &n2);
    cr_assert(n1 == n2 && memcmp(e1, e2, n1) == 0,
              "the hot path and the generic decoder differ");
    free(e1);
    free(e2);
    return 0;
}

/* Holds the plan of writer schema wjson to avro-c over n random records.
 * With may_fail, records that select a symbol or branch the reader lacks
 * are RP_ECONTRACT naming the field; returns how many were. */
static int hold_to_avro_c(int slot, char *wjson, int n, bool may_fail) {
    rp_avro_codec *c = confluent_codec(NULL), *g = confluent_codec(NULL);
    rp_avro_codec_enable_writers(c);
    cr_assert_eq(
        rp_avro_codec_add_writer(c, slot, 900, wjson, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(
        rp_avro_codec_add_writer(g, slot, 900, wjson, err, sizeof(err)), 0,
        "%s", err);
    reference ref;
    reference_init(&ref, slot, wjson);
    int failed = 0, decoded = 0;
    rng_state = 0x9e3779b97f4a7c15u + (uint64_t)slot;
    for (int i = 0; i < n; i++) {
        avro_value_reset(&ref.w);
        fill(&ref.w, 0);
        size_t len;
        uint8_t *b = framed(&ref.w, 900, &len);
        const void *out;
        size_t out_len;
        int rc =
            rp_avro_resolve(c, slot, b, len, &out, &out_len, err, sizeof(err));
        if (rc == RP_ECONTRACT && may_fail) {
            cr_assert(strstr(err, rp_avro_schema_name(slot)) ||
                          strchr(err, '.'),
                      "%s", err);
            failed++;
        } else {
            cr_assert_eq(rc, 0, "record %d: %s", i, err);
            cr_assert_eq(rp_avro_check(slot, out, out_len, err, sizeof(err)),
                         (int)out_len, "%s", err);
            avro_value_reset(&ref.n);
            cr_assert_eq(read_with(b + 5, len - 5, &ref.resolved), 0, "%s",
                         avro_strerror());
            compare(&ref, out, out_len);
            decoded += full_decode(c, g, slot, b, len) == 0;
        }
        every_truncation(c, slot, b, len);
        free(b);
    }
    /* Random values pass the contract often enough (a few in ten for
     * events, most records otherwise) for the comparison to bite. */
    cr_assert_gt(decoded, n / 20, "only %d of %d records decoded", decoded, n);
    reference_done(&ref);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(g);
    free(wjson);
    return failed;
}

Test(resolve_avro_c, fields_added) {
    hold_to_avro_c(RP_REC_DELIVERY, delivery_added(), 300, false);
}

Test(resolve_avro_c, fields_removed_with_defaults_and_reordered) {
    hold_to_avro_c(RP_REC_DELIVERY, delivery_removed_reordered(), 300, false);
}

Test(resolve_avro_c, promotions_and_widened_unions) {
    int failed = hold_to_avro_c(RP_REC_BOUNCE, bounce_promoted(), 300, true);
    cr_assert_gt(failed, 0);
    cr_assert_lt(failed, 300);
}

Test(resolve_avro_c, enum_with_a_symbol_the_reader_lacks) {
    int failed =
        hold_to_avro_c(RP_REC_BOUNCE, bounce_enum_widened(), 300, true);
    cr_assert_gt(failed, 0);
    cr_assert_lt(failed, 300);
}

Test(resolve_avro_c, complaint_evolved) {
    hold_to_avro_c(RP_REC_COMPLAINT, complaint_evolved(), 300, false);
}

Test(resolve_avro_c, report_evolved) {
    hold_to_avro_c(RP_REC_REPORT, report_evolved(), 300, false);
}

Test(resolve_avro_c, action_evolved) {
    hold_to_avro_c(RP_REC_ACTION, action_evolved(), 300, false);
}

Test(resolve_avro_c, reputation_event_evolved) {
    hold_to_avro_c(RP_SCHEMA_ID_STATUS, event_evolved(), 200, false);
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

/* The reordered delivery without sent_time, simulator and feedback_loop,
 * with an added x. */
static void set_reordered(avro_value_t *v) {
    avro_value_t f, b;
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
