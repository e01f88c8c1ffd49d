/*
 * test_avro_resolve_ref.c - decode plans (src/codec/avro_plan*.c) held to
 * avro-c's own schema resolution, the reference.
 *
 * For each of several evolved writer schemas (fields added, nested records,
 * unions, arrays and maps among them; fields removed that have defaults;
 * fields reordered; numbers promoted; unions widened; enums with a symbol
 * the reader lacks), many random records are written by avro-c with the
 * WRITER's schema and read two ways: by repute's plan (rp_avro_resolve(),
 * then avro-c reads the rewritten bytes with repute's schema), and by
 * avro-c's own resolution (avro_resolved_writer_new(), the reference) into
 * a value of repute's schema. The two values must be equal field by field,
 * except the fields the writer lacks, which avro-c cannot resolve (it
 * keeps no defaults): there the reference reads with repute's schema
 * narrowed to the fields the writer has, and the plan's value must hold
 * the reader's default. The hot path (the plan in walk mode) is then held
 * to the rewriting path record by record, and every record is cut at every
 * length: each cut is an error, never a crash (run it under ASan).
 */
#include "resolve_support.h"

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
