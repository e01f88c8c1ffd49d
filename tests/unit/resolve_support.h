/*
 * resolve_support.h - what the two tests of writer schemas share
 * (test_avro_resolve.c, test_avro_resolve_ref.c): codecs, exact-size
 * copies, and writer schemas made by editing repute's own JSON.
 */
#ifndef REPUTE_TEST_RESOLVE_SUPPORT_H
#define REPUTE_TEST_RESOLVE_SUPPORT_H

#include <criterion/criterion.h>

#include <avro.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_of.h"
#include "repute/avro.h"

static const int32_t ids[RP_SCHEMA_ID__COUNT] = {11, 22, 33, 44, 55, 66};
static char err[512];

static inline rp_avro_codec *confluent_codec(const int32_t *schema_ids) {
    rp_avro_codec *c = rp_avro_codec_new(
        RP_FRAMING_CONFLUENT, schema_ids ? schema_ids : ids, err, sizeof(err));
    cr_assert_not_null(c, "rp_avro_codec_new: %s", err);
    return c;
}

/* ---------------------------------------------------------------- schemas */

/* Writer schemas are repute's own, edited: the reader's JSON loaded and
 * changed field by field. */
static inline json_t *reader_json(int slot) {
    json_t *j = json_loads(rp_avro_schema_json(slot), 0, NULL);
    cr_assert_not_null(j);
    return j;
}

/* The record object named `name` anywhere in j (the top one for NULL). */
static inline json_t *record_of(json_t *j, const char *name) {
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

static inline size_t field_at(json_t *rec, const char *name) {
    json_t *fields = json_object_get(rec, "fields");
    for (size_t i = 0; i < json_array_size(fields); i++)
        if (!strcmp(json_string_value(
                        json_object_get(json_array_get(fields, i), "name")),
                    name))
            return i;
    cr_assert_fail("no field %s", name);
    return 0;
}

static inline json_t *parse(const char *text) {
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    cr_assert_not_null(j, "%s: %s", text, e.text);
    return j;
}

static inline void set_type(json_t *rec, const char *field, const char *type) {
    json_t *f =
        json_array_get(json_object_get(rec, "fields"), field_at(rec, field));
    json_object_set_new(f, "type", parse(type));
    json_object_del(f, "default");
}

static inline void remove_field(json_t *rec, const char *field) {
    json_array_remove(json_object_get(rec, "fields"), field_at(rec, field));
}

/* Inserts the field (JSON text) at position pos, or at the end for -1. */
static inline void add_field(json_t *rec, int pos, const char *field) {
    json_t *fields = json_object_get(rec, "fields");
    if (pos < 0)
        json_array_append_new(fields, parse(field));
    else
        json_array_insert_new(fields, (size_t)pos, parse(field));
}

static inline void reverse_fields(json_t *rec) {
    json_t *fields = json_object_get(rec, "fields");
    size_t n = json_array_size(fields);
    for (size_t i = 0; i < n / 2; i++) {
        json_t *a = json_incref(json_array_get(fields, i));
        json_t *b = json_incref(json_array_get(fields, n - 1 - i));
        json_array_set_new(fields, i, b);
        json_array_set_new(fields, n - 1 - i, a);
    }
}

static inline void move_field(json_t *rec, const char *field, size_t pos) {
    json_t *fields = json_object_get(rec, "fields");
    size_t at = field_at(rec, field);
    json_t *f = json_incref(json_array_get(fields, at));
    json_array_remove(fields, at);
    json_array_insert_new(fields, pos, f);
}

static inline char *dump(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    cr_assert_not_null(s);
    json_decref(j);
    return s;
}

/* Fields removed that have defaults (sent_time, simulator,
 * feedback_loop), the rest in reverse order, one added. */
static inline char *delivery_removed_reordered(void) {
    json_t *j = reader_json(RP_REC_DELIVERY);
    remove_field(j, "sent_time");
    remove_field(j, "simulator");
    remove_field(j, "feedback_loop");
    reverse_fields(j);
    add_field(j, 2, "{\"name\":\"x\",\"type\":[\"null\",\"string\"]}");
    return dump(j);
}

/* The value's Avro binary, framed with id, in a heap buffer of exactly
 * its length. */
static inline uint8_t *framed(avro_value_t *v, int32_t id, size_t *len) {
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

static inline avro_schema_t schema_of(const char *json) {
    avro_schema_t s;
    cr_assert_eq(avro_schema_from_json_length(json, strlen(json), &s), 0, "%s",
                 avro_strerror());
    return s;
}

#endif
