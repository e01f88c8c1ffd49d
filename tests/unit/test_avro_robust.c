/*
 * test_avro_robust.c - the Avro codec (src/codec/avro*.c) against input it
 * did not make.
 *
 * Every truncation of every encoding must be RP_ETRUNC (except the one
 * that ends where the trailing defaults begin, a record of the earlier
 * schema, which decodes with them null); random bytes and randomly
 * mutated encodings must give an error or a record that passes the
 * contract (and survives a second round trip). Framing errors (magic
 * byte, schema id), trailing bytes and the size limit each get a test that
 * also checks the reason in errstr. Every input record is decoded both
 * ways and the two decoders held to each other (avro_support.h).
 */
#include "avro_support.h"

/* ---------------------------------------------------------------- truncation
 */

/* The same record as the earlier schema had it: no tenant, no actor (the
 * trailing defaults, docs/schemas.md). Its encoding, less one zero byte
 * per trailing field, is where a record of that schema ends. */
static void without_trailing(rp_record *r, size_t *n_trailing) {
    r->tenant = RP_STR_NULL;
    *n_trailing = 1;
    if (r->type == RP_REC_ACTION) {
        r->u.action.actor = RP_STR_NULL;
        *n_trailing = 2;
    }
}

/* Every cut of every encoding is truncated, except the one cut that ends
 * exactly where the trailing defaults begin: that is a record of the
 * earlier schema, which decodes (both ways) with them null. */
Test(avro_robust, every_truncation_of_every_record) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = new_codec((rp_framing)f);
        rp_avro_codec *cg = new_codec((rp_framing)f);
        for (int t = 0; t < RP_REC__COUNT; t++) {
            for (int full = 0; full < 2; full++) {
                rp_record r, old, got;
                size_t len, old_len, n_trailing;
                sample_record(&r, (rp_rec_type)t, full);
                old = r;
                without_trailing(&old, &n_trailing);
                uint8_t *old_bytes = encode_copy(c, &old, &old_len);
                size_t boundary = old_len - n_trailing;
                uint8_t *bytes = encode_copy(c, &r, &len);
                cr_assert(memcmp(bytes, old_bytes, boundary) == 0);
                for (size_t k = 0; k < len; k++) {
                    uint8_t *cut = copy_of(bytes, k);
                    int rc = decode_both(c, cg, (rp_rec_type)t, cut, k, &got);
                    if (k == boundary) {
                        cr_assert_eq(rc, 0, "%s full=%d framing=%d: %s",
                                     rp_rec_type_name((rp_rec_type)t), full, f,
                                     err);
                        assert_records_equal(&got, &old);
                        free(cut);
                        continue;
                    }
                    cr_assert_eq(rc, RP_ETRUNC,
                                 "%s full=%d framing=%d: %zu of %zu bytes "
                                 "gave %d (%s)",
                                 rp_rec_type_name((rp_rec_type)t), full, f, k,
                                 len, rc, err);
                    cr_assert(err[0], "no reason given");
                    free(cut);
                }
                free(bytes);
                free(old_bytes);
            }
        }
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(cg);
    }
}

Test(avro_robust, every_truncation_of_every_event) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = new_codec((rp_framing)f);
        for (int variant = 0; variant < EVENT_VARIANTS; variant++) {
            sample_event s;
            sample_event_fill(&s, variant);
            size_t len, old_len;
            rp_str tenant = s.ev.tenant;
            s.ev.tenant = RP_STR_NULL;
            uint8_t *old_bytes = encode_event_copy(c, &s.ev, &old_len);
            s.ev.tenant = tenant;
            uint8_t *bytes = encode_event_copy(c, &s.ev, &len);
            size_t boundary = old_len - 1;
            for (size_t k = 0; k < len; k++) {
                uint8_t *cut = copy_of(bytes, k);
                rp_event ev;
                rp_status_change sc;
                rp_notification n;
                int rc = rp_avro_decode_event(c, cut, k, &ev, &sc, &n, err,
                                              sizeof(err));
                if (k == boundary) {
                    /* An event of the earlier schema: no tenant. */
                    cr_assert_eq(rc, 0, "variant %d framing %d: %s", variant, f,
                                 err);
                    s.ev.tenant = RP_STR_NULL;
                    assert_events_equal(&ev, &s.ev);
                    s.ev.tenant = tenant;
                } else {
                    cr_assert_eq(rc, RP_ETRUNC,
                                 "variant %d framing %d: %zu of %zu gave %d "
                                 "(%s)",
                                 variant, f, k, len, rc, err);
                }
                free(cut);
            }
            free(bytes);
            free(old_bytes);
        }
        rp_avro_codec_destroy(c);
    }
}

/* ---------------------------------------------------------------- garbage */

static bool is_decode_error(int rc) {
    return rc == RP_ETRUNC || rc == RP_EBADDATA || rc == RP_ECONTRACT;
}

/* Decodes one input both ways (on c and cg), which must agree; when that
 * succeeds the record must pass the contract and survive a second round
 * trip through another codec. Returns whether it decoded. */
static bool try_record(rp_avro_codec *c, rp_avro_codec *c2, rp_avro_codec *cg,
                       rp_rec_type t, const uint8_t *p, size_t n) {
    uint8_t *q = copy_of(p, n);
    rp_record got, again;
    int rc = decode_both(c, cg, t, q, n, &got);
    cr_assert(rc == 0 || is_decode_error(rc), "%s: unexpected %d (%s)",
              rp_rec_type_name(t), rc, err);
    if (rc == 0) {
        cr_assert_eq(rp_record_check(&got, err, sizeof(err)), 0);
        cr_assert_eq(rp_avro_check(t, q, n, err, sizeof(err)), (int)n);
        const void *out;
        size_t len;
        cr_assert_eq(rp_avro_encode(c2, &got, &out, &len, err, sizeof(err)), 0,
                     "%s", err);
        cr_assert_eq(rp_avro_decode(c2, t, out, len, &again, err, sizeof(err)),
                     0, "%s", err);
        assert_records_equal(&again, &got);
    } else {
        cr_assert(err[0], "no reason given for %d", rc);
    }
    free(q);
    return rc == 0;
}

static bool try_event(rp_avro_codec *c, rp_avro_codec *c2, const uint8_t *p,
                      size_t n) {
    uint8_t *q = copy_of(p, n);
    rp_event ev, again;
    rp_status_change sc, sc2;
    rp_notification nt, nt2;
    err[0] = '\0';
    int rc = rp_avro_decode_event(c, q, n, &ev, &sc, &nt, err, sizeof(err));
    cr_assert(rc == 0 || is_decode_error(rc), "event: unexpected %d (%s)", rc,
              err);
    if (rc == 0) {
        const void *out;
        size_t len;
        cr_assert_eq(
            rp_avro_encode_event(c2, &ev, &out, &len, err, sizeof(err)), 0,
            "%s", err);
        cr_assert_eq(rp_avro_decode_event(c2, out, len, &again, &sc2, &nt2, err,
                                          sizeof(err)),
                     0, "%s", err);
        assert_events_equal(&again, &ev);
    } else {
        cr_assert(err[0], "no reason given for %d", rc);
    }
    free(q);
    return rc == 0;
}

Test(avro_robust, random_bytes) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *c2 = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    uint8_t buf[128];
    rng_seed(0x5eed);
    for (int slot = 0; slot < RP_SCHEMA_ID__COUNT; slot++) {
        for (int i = 0; i < 10000; i++) {
            size_t n = rng_below(sizeof(buf) + 1);
            /* Small bytes make short strings and low indexes, so that more
             * of the inputs get deep into the schema. */
            uint8_t mask = (i % 3 == 0) ? 0xff : (i % 3 == 1) ? 0x0f : 0x03;
            for (size_t k = 0; k < n; k++)
                buf[k] = (uint8_t)rng() & mask;
            if (slot < RP_REC__COUNT)
                try_record(c, c2, cg, (rp_rec_type)slot, buf, n);
            else
                try_event(c, c2, buf, n);
        }
    }
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(c2);
    rp_avro_codec_destroy(cg);
}

Test(avro_robust, mutated_encodings) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *c2 = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    static uint8_t buf[8192];
    int decoded = 0, tried = 0;
    rng_seed(42);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        for (int full = 0; full < 2; full++) {
            rp_record r;
            size_t len;
            sample_record(&r, (rp_rec_type)t, full);
            uint8_t *bytes = encode_copy(c, &r, &len);
            for (int i = 0; i < 2000; i++) {
                memcpy(buf, bytes, len);
                size_t n = mutate(buf, len, sizeof(buf));
                decoded += try_record(c, c2, cg, (rp_rec_type)t, buf, n);
                tried++;
            }
            free(bytes);
        }
    }
    for (int variant = 0; variant < EVENT_VARIANTS; variant++) {
        sample_event s;
        sample_event_fill(&s, variant);
        size_t len;
        uint8_t *bytes = encode_event_copy(c, &s.ev, &len);
        for (int i = 0; i < 2000; i++) {
            memcpy(buf, bytes, len);
            size_t n = mutate(buf, len, sizeof(buf));
            decoded += try_event(c, c2, buf, n);
            tried++;
        }
        free(bytes);
    }
    /* Both outcomes must have been exercised. */
    cr_assert_gt(decoded, 0);
    cr_assert_lt(decoded, tried);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(c2);
    rp_avro_codec_destroy(cg);
}

/* ---------------------------------------------------------------- framing */

Test(avro_robust, wrong_magic_byte) {
    rp_avro_codec *c = new_codec(RP_FRAMING_CONFLUENT);
    rp_avro_codec *cg = new_codec(RP_FRAMING_CONFLUENT);
    rp_record r, got;
    size_t len;
    sample_record(&r, RP_REC_DELIVERY, true);
    uint8_t *bytes = encode_copy(c, &r, &len);
    bytes[0] = 1;
    cr_assert_eq(decode_both(c, cg, RP_REC_DELIVERY, bytes, len, &got),
                 RP_EBADDATA);
    cr_assert_not_null(strstr(err, "magic byte is 0x01"), "%s", err);
    free(bytes);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

Test(avro_robust, wrong_schema_id) {
    rp_avro_codec *c = new_codec(RP_FRAMING_CONFLUENT);
    rp_avro_codec *cg = new_codec(RP_FRAMING_CONFLUENT);
    rp_record r, got;
    size_t len;
    sample_record(&r, RP_REC_REPORT, true);
    uint8_t *bytes = encode_copy(c, &r, &len);
    /* A Report read as a Bounce: the id is the Report's, 44. */
    cr_assert_eq(decode_both(c, cg, RP_REC_BOUNCE, bytes, len, &got),
                 RP_EBADDATA);
    cr_assert_not_null(strstr(err, "schema id is 44, expected 22"), "%s", err);
    bytes[4] ^= 0x80;
    cr_assert_eq(decode_both(c, cg, RP_REC_REPORT, bytes, len, &got),
                 RP_EBADDATA);
    cr_assert_not_null(strstr(err, "schema id"), "%s", err);
    free(bytes);
    rp_avro_codec_destroy(cg);

    sample_event s;
    sample_event_fill(&s, 3);
    bytes = encode_event_copy(c, &s.ev, &len);
    cr_assert_eq(bytes[1], 1);
    cr_assert_eq(bytes[4], 4);
    bytes[3] = 0;
    rp_event ev;
    rp_status_change sc;
    rp_notification n;
    cr_assert_eq(
        rp_avro_decode_event(c, bytes, len, &ev, &sc, &n, err, sizeof(err)),
        RP_EBADDATA);
    cr_assert_not_null(strstr(err, "expected 16909060"), "%s", err);
    free(bytes);
    rp_avro_codec_destroy(c);
}

Test(avro_robust, trailing_bytes) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = new_codec((rp_framing)f);
        rp_avro_codec *cg = new_codec((rp_framing)f);
        for (int t = 0; t < RP_REC__COUNT; t++) {
            rp_record r, got;
            size_t len;
            sample_record(&r, (rp_rec_type)t, false);
            uint8_t *bytes = encode_copy(c, &r, &len);
            uint8_t *more = malloc(len + 3);
            memcpy(more, bytes, len);
            memset(more + len, 0, 3);
            cr_assert_eq(
                decode_both(c, cg, (rp_rec_type)t, more, len + 3, &got),
                RP_EBADDATA);
            cr_assert_not_null(strstr(err, "3 trailing bytes"), "%s", err);
            free(more);
            free(bytes);
        }
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(cg);
    }
}

Test(avro_robust, oversized_input) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    size_t n = RP_AVRO_MAX_RECORD + 1;
    uint8_t *big = calloc(1, n);
    rp_record got;
    cr_assert_eq(decode_both(c, cg, RP_REC_DELIVERY, big, n, &got), RP_ETOOBIG);
    cr_assert_not_null(strstr(err, "limit"), "%s", err);
    rp_event ev;
    rp_status_change sc;
    rp_notification nt;
    cr_assert_eq(
        rp_avro_decode_event(c, big, n, &ev, &sc, &nt, err, sizeof(err)),
        RP_ETOOBIG);
    /* At the limit it is decoded (and here fails for another reason). */
    cr_assert_neq(decode_both(c, cg, RP_REC_DELIVERY, big, n - 1, &got),
                  RP_ETOOBIG);
    /* A string that makes the record larger than the limit is refused by
     * the encoder too. */
    rp_record r;
    sample_record(&r, RP_REC_REPORT, false);
    memset(big, 'x', n);
    r.u.report.detail = (rp_str){(const char *)big, n};
    const void *out;
    size_t len;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_ETOOBIG);
    /* A record just under the limit is well-formed Avro, but its detail
     * breaks the contract's limit on text (RP_TEXT_MAX); the reason names
     * the field and never quotes it. */
    r.u.report.detail.len = RP_AVRO_MAX_RECORD - 100;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(decode_both(c, cg, RP_REC_REPORT, out, len, &got),
                 RP_ECONTRACT, "%s", err);
    cr_assert_not_null(strstr(err, "detail is"), "%s", err);
    cr_assert_null(strstr(err, "xxx"), "%s", err);
    /* At RP_TEXT_MAX it is fine. */
    r.u.report.detail.len = RP_TEXT_MAX;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(decode_both(c, cg, RP_REC_REPORT, out, len, &got), 0, "%s",
                 err);
    cr_assert_eq(got.u.report.detail.len, RP_TEXT_MAX);
    free(big);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}
