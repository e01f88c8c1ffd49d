/*
 * test_acctstate.c - the AccountState codec (src/codec/acctstate.c): round
 * trips, every truncation, refusals, and both directions held to avro-c
 * with the embedded schema (so the hand-written bytes are real Avro).
 */
#include <avro.h>
#include <criterion/criterion.h>
#include <string.h>

#include "repute/acctstate.h"
#include "repute/schemas.h"

static char err[256];

static rp_account_state sample(void) {
    rp_account_state st;
    memset(&st, 0, sizeof(st));
    st.account_id = rp_str_c("acct-\xc3\xa9-42");
    st.status = RP_ASTATUS_SENDING_PAUSED;
    st.since = 1700000000000;
    st.has_review_end = true;
    st.review_ends_at = 1700086400000;
    st.sequence = 17;
    st.n_issues = 2;
    st.issues[0] =
        (rp_issue_state){RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_SENDING_PAUSE,
                         1700000000000, false, 0};
    st.issues[1] = (rp_issue_state){RP_ISSUE_SPAMTRAP, RP_ISTATUS_UNDER_REVIEW,
                                    1700000500000, true, 1700086400000};
    return st;
}

static void assert_same(const rp_account_state *a, const rp_account_state *b) {
    cr_assert(rp_str_eq(a->account_id, b->account_id));
    cr_assert_eq(a->status, b->status);
    cr_assert_eq(a->since, b->since);
    cr_assert_eq(a->has_review_end, b->has_review_end);
    if (a->has_review_end)
        cr_assert_eq(a->review_ends_at, b->review_ends_at);
    cr_assert_eq(a->sequence, b->sequence);
    cr_assert_eq(a->n_issues, b->n_issues);
    for (size_t i = 0; i < a->n_issues; i++) {
        cr_assert_eq(a->issues[i].kind, b->issues[i].kind);
        cr_assert_eq(a->issues[i].status, b->issues[i].status);
        cr_assert_eq(a->issues[i].since, b->issues[i].since);
        cr_assert_eq(a->issues[i].has_review_end, b->issues[i].has_review_end);
        if (a->issues[i].has_review_end)
            cr_assert_eq(a->issues[i].review_ends_at,
                         b->issues[i].review_ends_at);
    }
}

Test(acctstate, round_trip_bare_and_framed) {
    rp_account_state st = sample(), back;
    rp_buf b = {0};
    cr_assert_eq(
        rp_acctstate_encode(&st, RP_ACCTSTATE_NO_ID, &b, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(rp_acctstate_decode(b.data, b.len, false, NULL, &back, err,
                                     sizeof(err)),
                 0, "%s", err);
    assert_same(&st, &back);
    /* Framed: the header carries the id, and the rest is the same. */
    rp_buf f = {0};
    cr_assert_eq(rp_acctstate_encode(&st, 0x01020304, &f, err, sizeof(err)), 0);
    cr_assert_eq(f.len, b.len + 5);
    cr_assert(memcmp(f.data + 5, b.data, b.len) == 0);
    int32_t id = 0;
    cr_assert_eq(
        rp_acctstate_decode(f.data, f.len, true, &id, &back, err, sizeof(err)),
        0, "%s", err);
    cr_assert_eq(id, 0x01020304);
    assert_same(&st, &back);
    rp_buf_free(&b);
    rp_buf_free(&f);
}

Test(acctstate, extremes_round_trip) {
    rp_account_state st = sample(), back;
    st.since = INT64_MIN;
    st.review_ends_at = INT64_MAX;
    st.sequence = (uint64_t)INT64_MAX;
    st.n_issues = RP_ISSUE__COUNT;
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        st.issues[k] =
            (rp_issue_state){(rp_issue_kind)k, RP_ISTATUS_PENDING_SENDING_PAUSE,
                             -k, k % 2, INT64_MIN + k};
    st.account_id = (rp_str){"", 0};
    rp_buf b = {0};
    cr_assert_eq(
        rp_acctstate_encode(&st, RP_ACCTSTATE_NO_ID, &b, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(rp_acctstate_decode(b.data, b.len, false, NULL, &back, err,
                                     sizeof(err)),
                 0, "%s", err);
    assert_same(&st, &back);
    rp_buf_free(&b);
}

Test(acctstate, every_truncation_is_refused) {
    rp_account_state st = sample(), back;
    rp_buf b = {0};
    cr_assert_eq(rp_acctstate_encode(&st, 7, &b, err, sizeof(err)), 0);
    for (size_t n = 0; n < b.len; n++) {
        /* A copy of exactly n bytes, so that ASan sees any over-read. */
        char *cut = malloc(n ? n : 1);
        memcpy(cut, b.data, n);
        int rc =
            rp_acctstate_decode(cut, n, true, NULL, &back, err, sizeof(err));
        cr_assert_eq(rc, RP_ETRUNC, "%zu bytes: %d %s", n, rc, err);
        cr_assert(strstr(err, "ends early"), "%s", err);
        free(cut);
    }
    rp_buf_free(&b);
}

Test(acctstate, bad_data_is_refused) {
    rp_account_state back;
    /* status 5 is past the last AccountStatus. */
    const char bad_enum[] = {2, 'a', 10, 0, 0, 0, 2};
    cr_assert_eq(rp_acctstate_decode(bad_enum, sizeof(bad_enum), false, NULL,
                                     &back, err, sizeof(err)),
                 RP_EBADDATA);
    cr_assert(strstr(err, "status"), "%s", err);
    /* A trailing byte. */
    const char trailing[] = {2, 'a', 2, 0, 0, 0, 2, 0};
    cr_assert_eq(rp_acctstate_decode(trailing, sizeof(trailing) - 1, false,
                                     NULL, &back, err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(rp_acctstate_decode(trailing, sizeof(trailing), false, NULL,
                                     &back, err, sizeof(err)),
                 RP_EBADDATA);
    /* Invalid UTF-8 in account_id, a negative length, a union index 2. */
    const char utf8[] = {2, (char)0xff, 2, 0, 0, 0, 2};
    cr_assert_eq(rp_acctstate_decode(utf8, sizeof(utf8), false, NULL, &back,
                                     err, sizeof(err)),
                 RP_EBADDATA);
    const char neg[] = {1, 'a', 2, 0, 0, 0, 2};
    cr_assert_eq(rp_acctstate_decode(neg, sizeof(neg), false, NULL, &back, err,
                                     sizeof(err)),
                 RP_EBADDATA);
    const char branch[] = {2, 'a', 2, 0, 4, 0, 2};
    cr_assert_eq(rp_acctstate_decode(branch, sizeof(branch), false, NULL, &back,
                                     err, sizeof(err)),
                 RP_EBADDATA);
    /* A varint of eleven bytes. */
    const char longv[] = {2,          'a',        2,          (char)0xff,
                          (char)0xff, (char)0xff, (char)0xff, (char)0xff,
                          (char)0xff, (char)0xff, (char)0xff, (char)0xff,
                          (char)0xff, 1};
    cr_assert_eq(rp_acctstate_decode(longv, sizeof(longv), false, NULL, &back,
                                     err, sizeof(err)),
                 RP_EBADDATA);
    /* Fifteen issues: more than there are kinds. */
    const char many[] = {2, 'a', 2, 0, 0, 30};
    cr_assert_eq(rp_acctstate_decode(many, sizeof(many), false, NULL, &back,
                                     err, sizeof(err)),
                 RP_EBADDATA);
    /* A framed record whose magic byte is not 0. */
    const char magic[] = {1, 0, 0, 0, 1, 2, 'a', 2, 0, 0, 0, 2};
    cr_assert_eq(rp_acctstate_decode(magic, sizeof(magic), true, NULL, &back,
                                     err, sizeof(err)),
                 RP_EBADDATA);
}

Test(acctstate, encoder_refuses_what_avro_cannot_carry) {
    rp_account_state st = sample();
    rp_buf b = {0};
    st.status = RP_ASTATUS__COUNT;
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), RP_EINVAL);
    st = sample();
    st.sequence = (uint64_t)INT64_MAX + 1;
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), RP_EINVAL);
    st = sample();
    st.issues[1].kind = RP_ISSUE__COUNT;
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), RP_EINVAL);
    rp_buf_free(&b);
}

/* ------------------------------------------------------------ avro-c */

static avro_schema_t schema(void) {
    avro_schema_t s;
    const char *json = rp_avro_account_state_schema_json();
    cr_assert_eq(avro_schema_from_json_length(json, strlen(json), &s), 0, "%s",
                 avro_strerror());
    return s;
}

static int64_t field_long(avro_value_t *rec, const char *name) {
    avro_value_t f;
    int64_t v = 0;
    cr_assert_eq(avro_value_get_by_name(rec, name, &f, NULL), 0, "%s", name);
    cr_assert_eq(avro_value_get_long(&f, &v), 0, "%s", name);
    return v;
}

Test(acctstate, avro_c_reads_what_we_write) {
    rp_account_state st = sample();
    rp_buf b = {0};
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), 0);
    avro_schema_t s = schema();
    avro_value_iface_t *cls = avro_generic_class_from_schema(s);
    avro_value_t v, f, br, item;
    cr_assert_eq(avro_generic_value_new(cls, &v), 0);
    avro_reader_t rd = avro_reader_memory(b.data, (int64_t)b.len);
    cr_assert_eq(avro_value_read(rd, &v), 0, "%s", avro_strerror());
    size_t size = 0;
    cr_assert_eq(avro_value_sizeof(&v, &size), 0);
    cr_assert_eq(size, b.len, "avro-c reads %zu of %zu bytes", size, b.len);
    const char *id;
    size_t idlen;
    cr_assert_eq(avro_value_get_by_name(&v, "account_id", &f, NULL), 0);
    cr_assert_eq(avro_value_get_string(&f, &id, &idlen), 0);
    cr_assert_eq(idlen - 1, st.account_id.len);
    cr_assert(memcmp(id, st.account_id.ptr, st.account_id.len) == 0);
    int e;
    cr_assert_eq(avro_value_get_by_name(&v, "status", &f, NULL), 0);
    cr_assert_eq(avro_value_get_enum(&f, &e), 0);
    cr_assert_eq(e, (int)st.status);
    cr_assert_eq(field_long(&v, "since"), st.since);
    cr_assert_eq(field_long(&v, "sequence"), (int64_t)st.sequence);
    cr_assert_eq(avro_value_get_by_name(&v, "review_ends_at", &f, NULL), 0);
    cr_assert_eq(avro_value_get_current_branch(&f, &br), 0);
    int64_t l;
    cr_assert_eq(avro_value_get_long(&br, &l), 0);
    cr_assert_eq(l, st.review_ends_at);
    size_t n;
    cr_assert_eq(avro_value_get_by_name(&v, "issues", &f, NULL), 0);
    cr_assert_eq(avro_value_get_size(&f, &n), 0);
    cr_assert_eq(n, st.n_issues);
    cr_assert_eq(avro_value_get_by_index(&f, 1, &item, NULL), 0);
    cr_assert_eq(field_long(&item, "since"), st.issues[1].since);
    avro_reader_free(rd);
    avro_value_decref(&v);
    avro_value_iface_decref(cls);
    avro_schema_decref(s);
    rp_buf_free(&b);
}

Test(acctstate, we_read_what_avro_c_writes) {
    avro_schema_t s = schema();
    avro_value_iface_t *cls = avro_generic_class_from_schema(s);
    avro_value_t v, f, br, arr, item, x;
    cr_assert_eq(avro_generic_value_new(cls, &v), 0);
    cr_assert_eq(avro_value_get_by_name(&v, "account_id", &f, NULL), 0);
    cr_assert_eq(avro_value_set_string(&f, "gw-7"), 0);
    cr_assert_eq(avro_value_get_by_name(&v, "status", &f, NULL), 0);
    cr_assert_eq(avro_value_set_enum(&f, RP_ASTATUS_UNDER_REVIEW), 0);
    cr_assert_eq(avro_value_get_by_name(&v, "since", &f, NULL), 0);
    cr_assert_eq(avro_value_set_long(&f, -5), 0);
    cr_assert_eq(avro_value_get_by_name(&v, "review_ends_at", &f, NULL), 0);
    cr_assert_eq(avro_value_set_branch(&f, 0, &br), 0);
    cr_assert_eq(avro_value_set_null(&br), 0);
    cr_assert_eq(avro_value_get_by_name(&v, "issues", &arr, NULL), 0);
    cr_assert_eq(avro_value_append(&arr, &item, NULL), 0);
    cr_assert_eq(avro_value_get_by_name(&item, "kind", &x, NULL), 0);
    cr_assert_eq(avro_value_set_enum(&x, RP_ISSUE_OTHER), 0);
    cr_assert_eq(avro_value_get_by_name(&item, "status", &x, NULL), 0);
    cr_assert_eq(avro_value_set_enum(&x, RP_ISTATUS_UNDER_REVIEW), 0);
    cr_assert_eq(avro_value_get_by_name(&item, "since", &x, NULL), 0);
    cr_assert_eq(avro_value_set_long(&x, 123456789012), 0);
    cr_assert_eq(avro_value_get_by_name(&item, "review_ends_at", &x, NULL), 0);
    cr_assert_eq(avro_value_set_branch(&x, 1, &br), 0);
    cr_assert_eq(avro_value_set_long(&br, 99), 0);
    cr_assert_eq(avro_value_get_by_name(&v, "sequence", &f, NULL), 0);
    cr_assert_eq(avro_value_set_long(&f, 3), 0);
    char bytes[256];
    avro_writer_t w = avro_writer_memory(bytes, sizeof(bytes));
    cr_assert_eq(avro_value_write(w, &v), 0, "%s", avro_strerror());
    size_t len = (size_t)avro_writer_tell(w);
    rp_account_state back;
    cr_assert_eq(
        rp_acctstate_decode(bytes, len, false, NULL, &back, err, sizeof(err)),
        0, "%s", err);
    cr_assert(rp_str_eq(back.account_id, rp_str_c("gw-7")));
    cr_assert_eq(back.status, RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(back.since, -5);
    cr_assert_not(back.has_review_end);
    cr_assert_eq(back.n_issues, 1);
    cr_assert_eq(back.issues[0].kind, RP_ISSUE_OTHER);
    cr_assert_eq(back.issues[0].since, 123456789012);
    cr_assert(back.issues[0].has_review_end);
    cr_assert_eq(back.issues[0].review_ends_at, 99);
    cr_assert_eq(back.sequence, 3);
    /* An array block with a negative count and a byte size, which other
     * writers may use: count -1, size 4, the item, then 0. */
    const char block[] = {2, 'a', 2, 0, 0, 1, 8, 0, 4, 0, 0, 0, 2};
    cr_assert_eq(rp_acctstate_decode(block, sizeof(block), false, NULL, &back,
                                     err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(back.n_issues, 1);
    cr_assert_eq(back.issues[0].status, RP_ISTATUS_UNDER_REVIEW);
    cr_assert_eq(back.sequence, 1);
    avro_writer_free(w);
    avro_value_decref(&v);
    avro_value_iface_decref(cls);
    avro_schema_decref(s);
}

Test(acctstate, the_schema_is_embedded) {
    const char *json = rp_avro_account_state_schema_json();
    cr_assert(strstr(json, "\"name\": \"AccountState\""));
    cr_assert(strstr(json, "\"namespace\": \"repute.v1\""));
}
