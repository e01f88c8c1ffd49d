/*
 * test_avro_contract.c - the record contract as the Avro codec
 * (src/codec/avro*.c) enforces it.
 *
 * Records that decode but break the contract (empty or overlong account,
 * empty event id, incidents out of range, an event whose kind does not
 * match its part, arrays past their bounds) must be RP_ECONTRACT with a
 * reason in errstr, from both decoders alike (avro_support.h).
 */
#include "avro_support.h"

/* ---------------------------------------------------------------- contract */

static int decode_modified(rp_rec_type t, void (*modify)(rp_record *)) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    rp_record r, got;
    size_t len;
    sample_record(&r, t, true);
    modify(&r);
    uint8_t *bytes = encode_copy(c, &r, &len);
    int rc = decode_both(c, cg, t, bytes, len, &got);
    free(bytes);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
    return rc;
}

static void empty_account(rp_record *r) {
    r->account_id = rp_str_c("");
}
static void long_account(rp_record *r) {
    static char id[RP_ACCOUNT_ID_MAX + 2];
    memset(id, 'a', RP_ACCOUNT_ID_MAX + 1);
    r->account_id = rp_str_c(id);
}
static void max_account(rp_record *r) {
    static char id[RP_ACCOUNT_ID_MAX + 1];
    memset(id, 'a', RP_ACCOUNT_ID_MAX);
    r->account_id = rp_str_c(id);
}
static void empty_event_id(rp_record *r) {
    r->event_id = rp_str_c("");
}
static void zero_incidents(rp_record *r) {
    r->u.report.incidents = 0;
}
static void negative_incidents(rp_record *r) {
    r->u.report.incidents = -5;
}

Test(avro_contract, violations_are_econtract) {
    cr_assert_eq(decode_modified(RP_REC_DELIVERY, empty_account), RP_ECONTRACT);
    cr_assert_not_null(strstr(err, "account_id"), "%s", err);
    cr_assert_eq(decode_modified(RP_REC_ACTION, long_account), RP_ECONTRACT);
    cr_assert_eq(decode_modified(RP_REC_ACTION, max_account), 0, "%s", err);
    cr_assert_eq(decode_modified(RP_REC_BOUNCE, empty_event_id), RP_ECONTRACT);
    cr_assert_eq(decode_modified(RP_REC_REPORT, zero_incidents), RP_ECONTRACT);
    cr_assert_not_null(strstr(err, "incidents"), "%s", err);
    cr_assert_eq(decode_modified(RP_REC_REPORT, negative_incidents),
                 RP_ECONTRACT);
}

Test(avro_contract, event_kind_must_match_its_part) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_event ev;
    rp_status_change sc;
    rp_notification n;
    wbuf w = {.n = 0};
    /* STATUS_CHANGE with both parts null. */
    w_str(&w, "a:1");
    w_str(&w, "a");
    w_long(&w, 1);
    w_long(&w, 0);
    w_long(&w, 0);
    w_long(&w, 0);
    w_long(&w, 0);
    cr_assert_eq(
        rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err)),
        RP_ECONTRACT);
    cr_assert_not_null(strstr(err, "STATUS_CHANGE"), "%s", err);
    /* A sequence of 0. */
    w.n = 0;
    w_str(&w, "a:0");
    w_str(&w, "a");
    w_long(&w, 0);
    w_long(&w, 0);
    w_long(&w, 1);
    w_long(&w, 0);
    w_long(&w, 1); /* a notification */
    w_long(&w, 0); /* issue */
    w_long(&w, 0); /* stage */
    w_long(&w, 0); /* account_status */
    w_str(&w, "t");
    w_str(&w, "w");
    w_long(&w, 0); /* no actions */
    w_long(&w, 0);
    w_long(&w, 0);
    w_long(&w, 0);
    cr_assert_eq(
        rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err)),
        RP_ECONTRACT);
    cr_assert_not_null(strstr(err, "sequence"), "%s", err);
    /* The same with sequence 1 is fine. */
    w.b[3] = 'x'; /* event_id "a:x": not checked */
    w.b[6] = 2;   /* zig-zag 1 */
    cr_assert_eq(
        rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(ev.sequence, 1);
    cr_assert_str_eq(ev.notification->title, "t");
    rp_avro_codec_destroy(c);
}

/* More issues than issue kinds, or more actions than rp_notification
 * holds, is valid Avro but not a valid event. */
Test(avro_contract, event_arrays_are_bounded) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_event ev;
    rp_status_change sc;
    rp_notification n;
    for (int count = RP_ISSUE__COUNT; count <= RP_ISSUE__COUNT + 1; count++) {
        wbuf w = {.n = 0};
        w_str(&w, "a:1");
        w_str(&w, "a");
        w_long(&w, 1);
        w_long(&w, 0);
        w_long(&w, 0); /* STATUS_CHANGE */
        w_long(&w, 1);
        for (int k = 0; k < 4; k++) /* statuses, cause, review end */
            w_long(&w, 0);
        for (int k = 0; k < 12; k++) /* two metric snapshots */
            w_long(&w, 0);
        w_long(&w, count);
        for (int k = 0; k < 4 * count; k++)
            w_long(&w, 0);
        w_long(&w, 0); /* end of issues */
        w_long(&w, 0); /* notification null */
        int rc =
            rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err));
        if (count <= RP_ISSUE__COUNT)
            cr_assert_eq(rc, 0, "%s", err);
        else
            cr_assert_eq(rc, RP_ECONTRACT, "%d: %s", rc, err);
    }
    for (int count = RP_NOTICE_MAX_ACTIONS; count <= RP_NOTICE_MAX_ACTIONS + 1;
         count++) {
        wbuf w = {.n = 0};
        w_str(&w, "a:1");
        w_str(&w, "a");
        w_long(&w, 1);
        w_long(&w, 0);
        w_long(&w, 1); /* NOTIFICATION */
        w_long(&w, 0);
        w_long(&w, 1);
        for (int k = 0; k < 3; k++)
            w_long(&w, 0);
        w_str(&w, "t");
        w_str(&w, "w");
        w_long(&w, count);
        for (int k = 0; k < count; k++)
            w_str(&w, "do this");
        w_long(&w, 0);
        for (int k = 0; k < 3; k++)
            w_long(&w, 0);
        int rc =
            rp_avro_decode_event(c, w.b, w.n, &ev, &sc, &n, err, sizeof(err));
        if (count <= RP_NOTICE_MAX_ACTIONS)
            cr_assert_eq(rc, 0, "%s", err);
        else
            cr_assert_eq(rc, RP_ECONTRACT, "%d: %s", rc, err);
    }
    rp_avro_codec_destroy(c);
}
