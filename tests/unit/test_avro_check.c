/*
 * test_avro_check.c - the Avro validator (src/codec/avro_check.c), its
 * walk and the direct decoder that reads records in it.
 *
 * Hand-made byte strings probe each rule of the validator one at a time:
 * varint length and overflow, negative and overlong lengths, union and
 * enum indexes, booleans, UTF-8, array blocks with byte sizes. Garbage
 * must be refused with a reason, and the walk, which the direct decoder
 * reads records in, must agree with the check and record the top-level
 * fields. The last tests are about the direct decoder alone, on
 * hand-made encodings: its recipients array grows and shrinks, and its
 * strings point into the input. The little Avro writer is
 * avro_support.h's.
 */
#include "avro_support.h"

/* ---------------------------------------------------------------- validator */

/* A minimal Delivery up to (not including) sent_time. */
static void delivery_head(wbuf *w) {
    w->n = 0;
    w_head(w, "e", "a", 0);
    w_str(w, "m");
    w_str(w, "r");
}

/* A minimal valid Delivery. */
static void delivery_ok(wbuf *w) {
    delivery_head(w);
    w_long(w, 0); /* sent_time null */
    w_byte(w, 0); /* verified_recipient */
    w_byte(w, 0); /* simulator */
    w_byte(w, 1); /* feedback_loop */
    w_long(w, 0); /* tenant null */
}

static int check(int slot, const wbuf *w) {
    uint8_t *q = copy_of(w->b, w->n);
    err[0] = '\0';
    int rc = rp_avro_check(slot, q, w->n, err, sizeof(err));
    free(q);
    return rc;
}

/* Checks w against the slot's schema; for an input record, both decoders
 * must then fail the same way (or agree on the record). */
static void expect_check(int slot, const wbuf *w, int want,
                         const char *in_err) {
    int rc = check(slot, w);
    cr_assert_eq(rc, want, "got %d (%s), want %d", rc, err, want);
    if (in_err)
        cr_assert_not_null(strstr(err, in_err), "'%s' not in '%s'", in_err,
                           err);
    if (slot < 0 || slot >= RP_REC__COUNT)
        return;
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    uint8_t *q = copy_of(w->b, w->n);
    rp_record got;
    rc = decode_both(c, cg, (rp_rec_type)slot, q, w->n, &got);
    if (want < 0) {
        cr_assert_eq(rc, want, "decode gave %d (%s), want %d", rc, err, want);
        if (in_err)
            cr_assert_not_null(strstr(err, in_err), "'%s' not in '%s'", in_err,
                               err);
    }
    free(q);
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

Test(avro_check, returns_bytes_consumed) {
    wbuf w;
    delivery_ok(&w);
    size_t n = w.n;
    expect_check(RP_REC_DELIVERY, &w, (int)n, NULL);
    w_raw(&w, "junk", 4);
    expect_check(RP_REC_DELIVERY, &w, (int)n, NULL);
    expect_check(-1, &w, RP_EINVAL, "slot");
    expect_check(RP_SCHEMA_ID__COUNT, &w, RP_EINVAL, "slot");
}

Test(avro_check, varints) {
    wbuf w = {.n = 0};
    /* An event_id length in 11 bytes. */
    for (int i = 0; i < 10; i++)
        w_byte(&w, 0x80);
    w_byte(&w, 0x00);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "longer than 10 bytes");
    /* Ten bytes whose last carries more than bit 63. */
    w.n = 0;
    for (int i = 0; i < 9; i++)
        w_byte(&w, 0xff);
    w_byte(&w, 0x02);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "overflows a 64-bit");
    /* A varint cut short. */
    w.n = 0;
    w_byte(&w, 0x80);
    expect_check(RP_REC_DELIVERY, &w, RP_ETRUNC, "inside a varint");
    /* A ten-byte event_time of INT64_MIN is fine. */
    wbuf v = {.n = 0};
    w_str(&v, "e");
    w_str(&v, "a");
    w_long(&v, INT64_MIN);
    cr_assert_eq(v.n, 4 + 10);
    w_str(&v, "m");
    w_str(&v, "r");
    w_long(&v, 0);
    w_raw(&v, "\0\0\1", 3);
    expect_check(RP_REC_DELIVERY, &v, (int)v.n, NULL);
    /* An int (incidents) of more than 32 bits, of exactly 32, and in six
     * bytes. */
    wbuf head = {.n = 0};
    w_head(&head, "e", "a", 0);
    w_long(&head, 0);
    w = head;
    w_raw(&w, "\xff\xff\xff\xff\x1f", 5);
    expect_check(RP_REC_REPORT, &w, RP_EBADDATA,
                 "Report.incidents at byte 6: varint overflows a 32-bit");
    w = head;
    w_raw(&w, "\xff\xff\xff\xff\x0f", 5);
    w_raw(&w, "\0\0\0\0", 4);
    expect_check(RP_REC_REPORT, &w, (int)w.n, NULL);
    w = head;
    w_raw(&w, "\x80\x80\x80\x80\x80\x00", 6);
    expect_check(RP_REC_REPORT, &w, RP_EBADDATA, "longer than 5 bytes");
}

Test(avro_check, lengths) {
    wbuf w = {.n = 0};
    w_long(&w, -1);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "negative");
    w.n = 0;
    w_long(&w, 5);
    w_raw(&w, "abc", 3);
    expect_check(RP_REC_DELIVERY, &w, RP_ETRUNC, "only 3 bytes remain");
    w.n = 0;
    w_long(&w, INT64_MAX);
    expect_check(RP_REC_DELIVERY, &w, RP_ETRUNC, "Delivery.event_id");
}

Test(avro_check, unions_enums_booleans) {
    wbuf w;
    delivery_head(&w);
    w_long(&w, 2);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA,
                 "Delivery.sent_time at byte 9: union branch 2 is out of "
                 "range (2 branches)");
    delivery_head(&w);
    w_long(&w, -1);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "union branch -1");
    delivery_head(&w);
    w_long(&w, 0);
    w_byte(&w, 2);
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA,
                 "Delivery.verified_recipient");
    delivery_ok(&w);
    w.b[w.n - 2] = 0xff; /* feedback_loop, before the tenant */
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA, "boolean byte is 0xff");
    /* The tenant's union index, out of range, and cut short. */
    delivery_ok(&w);
    w.b[w.n - 1] = 4;
    expect_check(RP_REC_DELIVERY, &w, RP_EBADDATA,
                 "Delivery.tenant at byte 13: union branch 2 is out of range");
    w.b[w.n - 1] = 2;
    w_long(&w, 5);
    w_raw(&w, "ab", 2);
    expect_check(RP_REC_DELIVERY, &w, RP_ETRUNC, "Delivery.tenant");

    /* Bounce types: 3 symbols, so 3 is out of range; subtypes: 9. */
    w.n = 0;
    w_head(&w, "e", "a", 0);
    w_str(&w, "m");
    w_str(&w, "r");
    w_long(&w, 0);
    size_t at = w.n;
    w_long(&w, 3);
    expect_check(RP_REC_BOUNCE, &w, RP_EBADDATA,
                 "Bounce.bounce_type at byte 10: enum index 3 is out of range "
                 "(3 symbols)");
    w.n = at;
    w_long(&w, -1);
    expect_check(RP_REC_BOUNCE, &w, RP_EBADDATA, "enum index -1");
    w.n = at;
    w_long(&w, 2);
    w_long(&w, 9);
    expect_check(RP_REC_BOUNCE, &w, RP_EBADDATA, "Bounce.bounce_subtype");
    w.n -= 1;
    w_long(&w, 8);
    w_raw(&w, "\0\0", 2);
    w_long(&w, 1);
    w_str(&w, "diag");
    expect_check(RP_REC_BOUNCE, &w, (int)w.n, NULL);

    /* ReportKind has 12 symbols; Action.issue is a nullable IssueKind. */
    w.n = 0;
    w_head(&w, "e", "a", 0);
    w_long(&w, 12);
    expect_check(RP_REC_REPORT, &w, RP_EBADDATA, "12 symbols");
    w.n = 0;
    w_head(&w, "e", "a", 0);
    w_long(&w, 8);
    w_long(&w, 1);
    w_long(&w, 14);
    expect_check(RP_REC_ACTION, &w, RP_EBADDATA,
                 "Action.issue at byte 7: enum index 14 is out of range (14 "
                 "symbols)");
}

Test(avro_check, utf8) {
    const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"plain", true},
        {"m\xc3\xbcller", true},
        {"\xe6\x97\xa5\xe6\x9c\xac", true},
        {"\xf0\x9f\x98\x80", true},
        {"\xef\xbf\xbf", true},
        {"\xff", false},
        {"\xc3", false},             /* cut short */
        {"\xc0\xaf", false},         /* overlong */
        {"\xe0\x80\xaf", false},     /* overlong */
        {"\xed\xa0\x80", false},     /* a surrogate */
        {"\xf4\x90\x80\x80", false}, /* above U+10FFFF */
        {"ok\x80", false},           /* a lone continuation byte */
        /* Past the first eight-byte block, and across its edge. */
        {"abcdefgh\xc3\xbc"
         "abcdefgh",
         true},
        {"abcdefg\xc3\xbc", true},
        {"abcdefghij\xff", false},
        {"abcdefghijklmnop\xe2\x82", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wbuf w = {.n = 0};
        w_head(&w, "e", cases[i].s, 0);
        w_str(&w, "m");
        w_str(&w, "r");
        w_long(&w, 0);
        w_raw(&w, "\0\0\1", 3);
        int rc = check(RP_REC_DELIVERY, &w);
        if (cases[i].ok)
            cr_assert_eq(rc, (int)w.n, "case %zu: %s", i, err);
        else {
            cr_assert_eq(rc, RP_EBADDATA, "case %zu: %d", i, rc);
            cr_assert_not_null(strstr(err, "Delivery.account_id"), "%s", err);
            cr_assert_not_null(strstr(err, "UTF-8"), "%s", err);
        }
        expect_check(RP_REC_DELIVERY, &w, rc, NULL);
    }
}

/* A complaint whose recipients come in the given blocks. A negative count
 * in counts[] is written with the block's byte size (plus size_skew). */
static void complaint_with_blocks(wbuf *w, const int *counts, size_t n_blocks,
                                  int size_skew) {
    w->n = 0;
    w_head(w, "e", "a", 0);
    w_str(w, "m");
    int next = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        int count = counts[b];
        int items = count < 0 ? -count : count;
        wbuf block = {.n = 0};
        for (int i = 0; i < items; i++) {
            char name[16];
            snprintf(name, sizeof(name), "r%d", next++);
            w_str(&block, name);
        }
        w_long(w, count);
        if (count < 0)
            w_long(w, (int64_t)block.n + size_skew);
        w_raw(w, block.b, block.n);
    }
    w_long(w, 0); /* end of recipients */
    w_long(w, 0); /* sent_time null */
    w_long(w, 0); /* ABUSE */
    w_byte(w, 0); /* on_suppression_list */
    w_byte(w, 0); /* simulator */
}

Test(avro_check, array_blocks) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    wbuf w;
    rp_record got;
    /* Three blocks, one of them with a negative count and a byte size. */
    const int blocks[] = {2, -3, 1};
    complaint_with_blocks(&w, blocks, 3, 0);
    expect_check(RP_REC_COMPLAINT, &w, (int)w.n, NULL);
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_COMPLAINT, w.b, w.n, &got, err, sizeof(err)),
        0, "%s", err);
    cr_assert_eq(got.u.complaint.n_recipients, 6);
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof(name), "r%d", i);
        assert_str(got.u.complaint.recipients[i], rp_str_c(name), "recipient");
    }
    /* A byte size that does not match the items. */
    complaint_with_blocks(&w, blocks, 3, 1);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA,
                 "array block says 10 bytes but its items take 9");
    complaint_with_blocks(&w, blocks, 3, -1);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA, "array block says");
    /* A byte size that is negative, or past the end. */
    w.n = 0;
    w_head(&w, "e", "a", 0);
    w_str(&w, "m");
    w_long(&w, -1);
    w_long(&w, -1);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA, "block size -1");
    w.n -= 1;
    w_long(&w, 1000);
    expect_check(RP_REC_COMPLAINT, &w, RP_ETRUNC, "block of 1000 bytes");
    /* A count that the remaining bytes cannot hold. */
    wbuf head = {.n = 0};
    w_head(&head, "e", "a", 0);
    w_str(&head, "m");
    w = head;
    w_long(&w, 60000);
    w_raw(&w, "\0\0\0\0", 4);
    expect_check(RP_REC_COMPLAINT, &w, RP_ETRUNC,
                 "block of 60000 items but only 4 bytes remain");
    /* Counts too large to be real, and the one that cannot be negated. */
    w = head;
    w_long(&w, INT64_MAX);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA, "more than");
    w = head;
    w_long(&w, INT64_MIN);
    expect_check(RP_REC_COMPLAINT, &w, RP_EBADDATA, "out of range");
    rp_avro_codec_destroy(c);
}

/* rp_avro_check over many garbage inputs never reads past the end and
 * always gives a reason. */
Test(avro_check, garbage_has_reasons) {
    rng_seed(7);
    for (int slot = 0; slot < RP_SCHEMA_ID__COUNT; slot++) {
        for (int i = 0; i < 2000; i++) {
            wbuf w = {.n = rng_below(64)};
            for (size_t k = 0; k < w.n; k++)
                w.b[k] = (uint8_t)rng();
            int rc = check(slot, &w);
            if (rc < 0) {
                cr_assert(rc == RP_ETRUNC || rc == RP_EBADDATA, "%d", rc);
                cr_assert(err[0]);
            } else {
                cr_assert_leq((size_t)rc, w.n);
                cr_assert_gt(rc, 0);
            }
        }
    }
}

/* rp_avro_check_walk() is rp_avro_check() with recording: over random
 * bytes and mutated encodings of every schema (ReputationEvent included,
 * whose nested records are not recorded) it gives the same result and the
 * same reason, and never stores more string items than it has room for. */
Test(avro_check, walk_agrees_with_check) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    static uint8_t buf[8192];
    static char werr[sizeof(err)];
    rp_str items[3];
    rp_avro_walk walk;
    rng_seed(99);
    for (int slot = 0; slot < RP_SCHEMA_ID__COUNT; slot++) {
        size_t len = 0;
        uint8_t *bytes;
        if (slot < RP_REC__COUNT) {
            rp_record r;
            sample_record(&r, (rp_rec_type)slot, true);
            bytes = encode_copy(c, &r, &len);
        } else {
            sample_event s;
            sample_event_fill(&s, 0);
            bytes = encode_event_copy(c, &s.ev, &len);
        }
        for (int i = 0; i < 4000; i++) {
            size_t n;
            if (i % 2) {
                memcpy(buf, bytes, len);
                n = i == 1 ? len : mutate(buf, len, sizeof(buf));
            } else {
                n = rng_below(96);
                for (size_t k = 0; k < n; k++)
                    buf[k] = (uint8_t)rng() & (i % 4 ? 0x07 : 0xff);
            }
            uint8_t *q = copy_of(buf, n);
            err[0] = werr[0] = '\0';
            walk.items = items;
            walk.items_cap = 2;
            int rc = rp_avro_check(slot, q, n, err, sizeof(err));
            int rw = rp_avro_check_walk(slot, q, n, &walk, werr, sizeof(werr));
            cr_assert_eq(rw, rc, "slot %d: walk %d (%s), check %d (%s)", slot,
                         rw, werr, rc, err);
            cr_assert_str_eq(werr, err);
            cr_assert_leq(walk.n_fields, RP_AVRO_WALK_FIELDS);
            if (rc > 0 && slot == RP_SCHEMA_ID_STATUS)
                cr_assert_eq(walk.n_fields, 8);
            free(q);
        }
        free(bytes);
    }
    rp_avro_codec_destroy(c);
}

/* What the walk records of a sample ReputationEvent: its top-level fields
 * only, with the union branches of the two parts. */
Test(avro_check, walk_records_top_level_fields) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    sample_event s;
    sample_event_fill(&s, 0);
    size_t len;
    uint8_t *bytes = encode_event_copy(c, &s.ev, &len);
    rp_avro_walk walk = {.items = NULL, .items_cap = 0};
    cr_assert_eq(rp_avro_check_walk(RP_SCHEMA_ID_STATUS, bytes, len, &walk, err,
                                    sizeof(err)),
                 (int)len, "%s", err);
    cr_assert_eq(walk.n_fields, 8);
    cr_assert_eq(walk.field[1].len, s.ev.account_id.len);
    cr_assert(memcmp(walk.field[1].str, s.ev.account_id.ptr,
                     s.ev.account_id.len) == 0);
    cr_assert_eq(walk.field[2].num, (int64_t)s.ev.sequence);
    cr_assert_eq(walk.field[3].num, s.ev.event_time);
    cr_assert_eq(walk.field[4].num, RP_EVENT_STATUS_CHANGE);
    cr_assert_eq(walk.field[5].branch, 1);
    cr_assert_eq(walk.field[6].branch, 0);
    cr_assert_eq(walk.field[7].branch, 1);
    cr_assert_eq(walk.field[7].len, s.ev.tenant.len);
    free(bytes);
    rp_avro_codec_destroy(c);
}

/* ---------------------------------------------------------------- direct */

/* Complaints whose recipients outgrow the codec's array, in blocks with and
 * without byte sizes, then shrink again: both decoders agree throughout,
 * and the direct one's recipients point into the input. */
Test(avro_direct, recipients_grow_and_shrink) {
    rp_avro_codec *c = new_codec(RP_FRAMING_PLAIN);
    rp_avro_codec *cg = new_codec(RP_FRAMING_PLAIN);
    const int plans[][3] = {{0, 0, 0},    {1, 0, 0},      {2, -3, 1},
                            {-40, 7, -1}, {100, -100, 3}, {5, 0, 0},
                            {0, 0, 0},    {-250, 0, 0},   {1, 1, 1}};
    for (size_t k = 0; k < sizeof(plans) / sizeof(plans[0]); k++) {
        int blocks[3];
        size_t n_blocks = 0, total = 0;
        for (int b = 0; b < 3; b++)
            if (plans[k][b] != 0) {
                blocks[n_blocks++] = plans[k][b];
                total += (size_t)abs(plans[k][b]);
            }
        static wbuf w;
        complaint_with_blocks(&w, blocks, n_blocks, 0);
        uint8_t *q = copy_of(w.b, w.n);
        rp_record got;
        cr_assert_eq(decode_both(c, cg, RP_REC_COMPLAINT, q, w.n, &got), 0,
                     "plan %zu: %s", k, err);
        cr_assert_eq(got.u.complaint.n_recipients, total, "plan %zu", k);
        for (size_t i = 0; i < total; i++) {
            char name[24];
            snprintf(name, sizeof(name), "r%zu", i);
            assert_str(got.u.complaint.recipients[i], rp_str_c(name),
                       "recipient");
        }
        free(q);
    }
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(cg);
}

/* With the Confluent framing the strings point past the header, into the
 * caller's buffer; a second decode does not disturb the first input. */
Test(avro_direct, strings_borrow_the_input) {
    rp_avro_codec *c = new_codec(RP_FRAMING_CONFLUENT);
    rp_record r, got, other;
    size_t len, len2;
    sample_record(&r, RP_REC_BOUNCE, true);
    uint8_t *bytes = encode_copy(c, &r, &len);
    sample_record(&r, RP_REC_REPORT, true);
    uint8_t *bytes2 = encode_copy(c, &r, &len2);
    cr_assert_eq(
        rp_avro_decode(c, RP_REC_BOUNCE, bytes, len, &got, err, sizeof(err)), 0,
        "%s", err);
    /* Header (5), event_id's length (1) and bytes (11), account_id's
     * length (1). */
    cr_assert_eq((const uint8_t *)got.event_id.ptr, bytes + 6);
    cr_assert_eq((const uint8_t *)got.account_id.ptr, bytes + 6 + 11 + 1);
    rp_str diag = got.u.bounce.diagnostic;
    /* The tenant comes last: its length (1 byte) after the branch (1). */
    cr_assert_eq((const uint8_t *)diag.ptr + diag.len,
                 bytes + len - got.tenant.len - 2);
    cr_assert_eq((const uint8_t *)got.tenant.ptr + got.tenant.len, bytes + len);
    cr_assert_eq(rp_avro_decode(c, RP_REC_REPORT, bytes2, len2, &other, err,
                                sizeof(err)),
                 0, "%s", err);
    assert_str(diag, rp_str_c("550 5.1.1 user unknown"), "diagnostic");
    free(bytes);
    free(bytes2);
    rp_avro_codec_destroy(c);
}
