/*
 * test_avro_roundtrip.c - round trips through the Avro codec
 * (src/codec/avro*.c).
 *
 * Every record type with every optional field set and with every one
 * null, in both framings, and ReputationEvents of both kinds, must come
 * back the same from the direct and the generic decoder; strings without
 * a terminating NUL, reuse of one record across decodes and values the
 * encoder refuses each get a test. The helpers are avro_support.h's.
 */
#include "avro_support.h"

/* ---------------------------------------------------------------- round trips
 */

static void roundtrip_all(rp_framing framing) {
    rp_avro_codec *c = new_codec(framing);
    rp_avro_codec *cg = new_codec(framing);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        for (int full = 0; full < 2; full++) {
            rp_record want, got;
            size_t len;
            sample_record(&want, (rp_rec_type)t, full);
            uint8_t *bytes = encode_copy(c, &want, &len);
            if (framing == RP_FRAMING_CONFLUENT) {
                cr_assert_geq(len, 5);
                cr_assert_eq(bytes[0], 0);
                uint32_t id = (uint32_t)bytes[1] << 24 | bytes[2] << 16 |
                              bytes[3] << 8 | bytes[4];
                cr_assert_eq(id, (uint32_t)schema_ids[t]);
            }
            int rc = decode_both(c, cg, (rp_rec_type)t, bytes, len, &got);
            cr_assert_eq(rc, 0, "decode %s (full=%d): %s",
                         rp_rec_type_name((rp_rec_type)t), full, err);
            assert_records_equal(&got, &want);
            free(bytes);
        }
    }
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

Test(avro_roundtrip, every_record_plain) {
    roundtrip_all(RP_FRAMING_PLAIN);
}

Test(avro_roundtrip, every_record_confluent) {
    roundtrip_all(RP_FRAMING_CONFLUENT);
}

Test(avro_roundtrip, every_event_both_framings) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = new_codec((rp_framing)f);
        for (int variant = 0; variant < EVENT_VARIANTS; variant++) {
            sample_event s;
            sample_event_fill(&s, variant);
            size_t len;
            uint8_t *bytes = encode_event_copy(c, &s.ev, &len);
            rp_event ev;
            rp_status_change sc;
            rp_notification n;
            int rc = rp_avro_decode_event(c, bytes, len, &ev, &sc, &n, err,
                                          sizeof(err));
            cr_assert_eq(rc, 0, "variant %d: %s", variant, err);
            assert_events_equal(&ev, &s.ev);
            free(bytes);
        }
        rp_avro_codec_destroy(c);
    }
}

/* The event_id is written as "<account_id>:<sequence>". */
Test(avro_roundtrip, event_id_is_account_and_sequence) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    sample_event s;
    sample_event_fill(&s, 1); /* account "b", sequence 2 */
    const void *out;
    size_t len;
    cr_assert_eq(rp_avro_encode_event(c, &s.ev, &out, &len, err, sizeof(err)),
                 0, "%s", err);
    const uint8_t *p = out;
    cr_assert_eq(p[0], 6); /* zig-zag 3 */
    cr_assert(memcmp(p + 1, "b:2", 3) == 0);
    rp_avro_codec_destroy(c);
}

/* Strings handed to the encoder need no terminating NUL: each one here
 * sits in a heap block of exactly its length. */
Test(avro_roundtrip, unterminated_strings) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    const char *texts[] = {"ev-1", "acct-1", "m", "x@y.test", "diag"};
    uint8_t *heap[5];
    rp_str s[5];
    for (int i = 0; i < 5; i++) {
        heap[i] = copy_of(texts[i], strlen(texts[i]));
        s[i] = (rp_str){(const char *)heap[i], strlen(texts[i])};
    }
    rp_record want, got;
    rp_record_init(&want, RP_REC_BOUNCE);
    want.event_id = s[0];
    want.account_id = s[1];
    want.u.bounce.message_id = s[2];
    want.u.bounce.recipient = s[3];
    want.u.bounce.diagnostic = s[4];
    size_t len;
    uint8_t *bytes = encode_copy(c, &want, &len);
    cr_assert_eq(decode_both(c, cg, RP_REC_BOUNCE, bytes, len, &got), 0, "%s",
                 err);
    assert_records_equal(&got, &want);
    free(bytes);

    rp_record_init(&want, RP_REC_COMPLAINT);
    want.event_id = s[0];
    want.account_id = s[1];
    want.u.complaint.message_id = s[2];
    want.u.complaint.recipients = &s[3];
    want.u.complaint.n_recipients = 2;
    bytes = encode_copy(c, &want, &len);
    cr_assert_eq(decode_both(c, cg, RP_REC_COMPLAINT, bytes, len, &got), 0,
                 "%s", err);
    assert_records_equal(&got, &want);
    free(bytes);
    for (int i = 0; i < 5; i++)
        free(heap[i]);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

/* A null pointer in a required string is written as the empty string. */
Test(avro_roundtrip, null_required_string_is_empty) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_record want, got;
    sample_record(&want, RP_REC_DELIVERY, false);
    want.u.delivery.message_id = RP_STR_NULL;
    size_t len;
    uint8_t *bytes = encode_copy(c, &want, &len);
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_DELIVERY, bytes, len, &got, err, sizeof(err)),
        0, "%s", err);
    cr_assert_not_null(got.u.delivery.message_id.ptr);
    cr_assert_eq(got.u.delivery.message_id.len, 0);
    cr_assert_eq(rp_avro_decode_generic(c, RP_REC_DELIVERY, bytes, len, &got,
                                        err, sizeof(err)),
                 0, "%s", err);
    cr_assert_not_null(got.u.delivery.message_id.ptr);
    cr_assert_eq(got.u.delivery.message_id.len, 0);
    free(bytes);
    rp_avro_codec_destroy(c);
}

/* Decoding reuses the codec's storage; the recipients array follows the
 * size of each complaint, and an encode leaves a decoded record alone. */
Test(avro_roundtrip, reuse_across_records) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    static rp_str many[200];
    static char names[200][16];
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof(names[i]), "r%d@x.test", i);
        many[i] = rp_str_c(names[i]);
    }
    size_t sizes[] = {200, 2, 0, 150, 1};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        rp_record want, got;
        sample_record(&want, RP_REC_COMPLAINT, true);
        want.u.complaint.recipients = many + k;
        want.u.complaint.n_recipients = sizes[k];
        size_t len;
        uint8_t *bytes = encode_copy(c, &want, &len);
        /* Both decoders, in turn, on the same codec: each one's record
         * lives until the next decode, whichever decoder that is. */
        for (int generic = 0; generic < 2; generic++) {
            int rc = generic
                         ? rp_avro_decode_generic(c, RP_REC_COMPLAINT, bytes,
                                                  len, &got, err, sizeof(err))
                         : rp_avro_decode(c, RP_REC_COMPLAINT, bytes, len, &got,
                                          err, sizeof(err));
            cr_assert_eq(rc, 0, "%s", err);
            /* An encode on the same codec must not disturb got. */
            rp_record other;
            sample_record(&other, RP_REC_COMPLAINT, false);
            const void *out;
            size_t out_len;
            cr_assert_eq(
                rp_avro_encode(c, &other, &out, &out_len, err, sizeof(err)), 0);
            assert_records_equal(&got, &want);
        }
        free(bytes);
    }
    rp_avro_codec_destroy(c);
}

/* The codec refuses to encode what Avro cannot represent. */
Test(avro_roundtrip, encode_refuses_out_of_range) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    const void *out;
    size_t len;
    rp_record r;
    sample_record(&r, RP_REC_BOUNCE, true);
    r.u.bounce.bounce_type = (rp_bounce_type)3;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    cr_assert_not_null(strstr(err, "bounce_type"), "%s", err);
    sample_record(&r, RP_REC_REPORT, true);
    r.u.report.kind = RP_ISSUE_COMPLAINT_RATE;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    sample_record(&r, RP_REC_ACTION, true);
    r.u.action.issue = RP_ISSUE__COUNT;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    r.type = RP_REC__COUNT;
    cr_assert_eq(rp_avro_encode(c, &r, &out, &len, err, sizeof(err)),
                 RP_EINVAL);

    sample_event s;
    sample_event_fill(&s, 0);
    s.ev.status_change = NULL;
    cr_assert_eq(rp_avro_encode_event(c, &s.ev, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    sample_event_fill(&s, 3);
    s.n.n_actions = RP_NOTICE_MAX_ACTIONS + 1;
    cr_assert_eq(rp_avro_encode_event(c, &s.ev, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    sample_event_fill(&s, 0);
    s.sc.n_issues = RP_ISSUE__COUNT + 1;
    cr_assert_eq(rp_avro_encode_event(c, &s.ev, &out, &len, err, sizeof(err)),
                 RP_EINVAL);
    rp_avro_codec_destroy(c);
}
