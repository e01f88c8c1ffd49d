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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
