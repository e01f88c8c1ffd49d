/*
 * test_acctstate.c - the AccountState codec (src/codec/acctstate.c): round
 * trips, every truncation, refusals, and both directions held to avro-c
 * with the embedded schema (so the hand-written bytes are real Avro),
 * tenants included; a record of the first version of the schema (no
 * tenants) still decodes, and avro-c with that first version reads the
 * new records through schema resolution.
 */
#include <avro.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
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

static rp_tenant_state sample_tenants[2];

/* sample() with two tenants: one paused, one in review. */
static rp_account_state sample_t(void) {
    rp_account_state st = sample();
    rp_tenant_state *t = sample_tenants;
    memset(t, 0, sizeof(sample_tenants));
    t[0].tenant = rp_str_c("promotions");
    t[0].status = RP_ASTATUS_SENDING_PAUSED;
    t[0].since = 1700000100000;
    t[0].n_issues = 1;
    t[0].issues[0] =
        (rp_issue_state){RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_SENDING_PAUSE,
                         1700000100000, false, 0};
    t[1].tenant = rp_str_c("r\xc3\xa9"
                           "ceipts");
    t[1].status = RP_ASTATUS_UNDER_REVIEW;
    t[1].since = 1700000200000;
    t[1].has_review_end = true;
    t[1].review_ends_at = 1700086600000;
    t[1].n_issues = 2;
    t[1].issues[0] =
        (rp_issue_state){RP_ISSUE_COMPLAINT_RATE, RP_ISTATUS_UNDER_REVIEW,
                         1700000200000, true, 1700086600000};
    t[1].issues[1] = (rp_issue_state){RP_ISSUE_OTHER, RP_ISTATUS_ALMOST_HEALED,
                                      1700000300000, true, 1700090000000};
    st.n_tenants = 2;
    st.tenants = t;
    return st;
}

static void assert_same_issues(const rp_issue_state *a, size_t na,
                               const rp_issue_state *b, size_t nb) {
    cr_assert_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        cr_assert_eq(a[i].kind, b[i].kind);
        cr_assert_eq(a[i].status, b[i].status);
        cr_assert_eq(a[i].since, b[i].since);
        cr_assert_eq(a[i].has_review_end, b[i].has_review_end);
        if (a[i].has_review_end)
            cr_assert_eq(a[i].review_ends_at, b[i].review_ends_at);
    }
}

static void assert_same_tenants(const rp_account_state *a,
                                const rp_account_state *b) {
    cr_assert_eq(a->n_tenants, b->n_tenants);
    rp_acctstate_iter ia, ib;
    rp_tenant_state x, y;
    rp_acctstate_tenant_begin(a, &ia);
    rp_acctstate_tenant_begin(b, &ib);
    size_t n = 0;
    while (rp_acctstate_tenant_next(&ia, &x)) {
        cr_assert(rp_acctstate_tenant_next(&ib, &y), "tenant %zu missing", n);
        cr_assert(rp_str_eq(x.tenant, y.tenant));
        cr_assert_eq(x.status, y.status);
        cr_assert_eq(x.since, y.since);
        cr_assert_eq(x.has_review_end, y.has_review_end);
        if (x.has_review_end)
            cr_assert_eq(x.review_ends_at, y.review_ends_at);
        assert_same_issues(x.issues, x.n_issues, y.issues, y.n_issues);
        n++;
    }
    cr_assert_not(rp_acctstate_tenant_next(&ib, &y));
    cr_assert_eq(n, a->n_tenants);
}

static void assert_same(const rp_account_state *a, const rp_account_state *b) {
    cr_assert(rp_str_eq(a->account_id, b->account_id));
    cr_assert_eq(a->status, b->status);
    cr_assert_eq(a->since, b->since);
    cr_assert_eq(a->has_review_end, b->has_review_end);
    if (a->has_review_end)
        cr_assert_eq(a->review_ends_at, b->review_ends_at);
    cr_assert_eq(a->sequence, b->sequence);
    assert_same_issues(a->issues, a->n_issues, b->issues, b->n_issues);
    assert_same_tenants(a, b);
}

static void round_trip(rp_account_state st);

Test(acctstate, round_trip_bare_and_framed) {
    round_trip(sample());
    round_trip(sample_t());
}

/* Decoded tenants encode again to the same bytes. */
Test(acctstate, decoded_tenants_encode_the_same) {
    rp_account_state st = sample_t(), back;
    rp_buf b = {0}, again = {0};
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), 0);
    cr_assert_eq(rp_acctstate_decode(b.data, b.len, false, NULL, &back, err,
                                     sizeof(err)),
                 0, "%s", err);
    cr_assert_null(back.tenants);
    cr_assert_not_null(back.tenants_avro.ptr);
    cr_assert_eq(rp_acctstate_encode(&back, -1, &again, err, sizeof(err)), 0);
    cr_assert_eq(again.len, b.len);
    cr_assert(memcmp(again.data, b.data, b.len) == 0);
    rp_buf_free(&b);
    rp_buf_free(&again);
}

static void round_trip(rp_account_state st) {
    rp_account_state back;
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
    /* Many tenants, each with every issue, one with an empty name. */
    static rp_tenant_state many[300];
    for (size_t i = 0; i < 300; i++) {
        many[i] = (rp_tenant_state){0};
        many[i].tenant = i ? rp_str_c("t-\xf0\x9f\x93\xa7") : (rp_str){"", 0};
        many[i].status = (rp_account_status)(i % RP_ASTATUS__COUNT);
        many[i].since = INT64_MIN + (int64_t)i;
        many[i].has_review_end = i % 2;
        many[i].review_ends_at = INT64_MAX - (int64_t)i;
        many[i].n_issues = RP_ISSUE__COUNT;
        memcpy(many[i].issues, st.issues, sizeof(st.issues));
    }
    st.n_tenants = 300;
    st.tenants = many;
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

/* Every cut of the record of st is refused, but the one that ends right
 * after sequence, which is a record of the first version (no tenants). */
static void every_truncation(rp_account_state st) {
    rp_account_state back, old = st;
    rp_buf b = {0}, o = {0};
    cr_assert_eq(rp_acctstate_encode(&st, 7, &b, err, sizeof(err)), 0);
    old.n_tenants = 0;
    cr_assert_eq(rp_acctstate_encode(&old, 7, &o, err, sizeof(err)), 0);
    size_t old_len = o.len - 1; /* without the empty tenants array */
    for (size_t n = 0; n < b.len; n++) {
        /* A copy of exactly n bytes, so that ASan sees any over-read. */
        char *cut = malloc(n ? n : 1);
        memcpy(cut, b.data, n);
        int rc =
            rp_acctstate_decode(cut, n, true, NULL, &back, err, sizeof(err));
        if (n == old_len) {
            cr_assert_eq(rc, 0, "%zu bytes: %d %s", n, rc, err);
            cr_assert_eq(back.n_tenants, 0);
            cr_assert_eq(back.sequence, st.sequence);
        } else {
            cr_assert_eq(rc, RP_ETRUNC, "%zu bytes: %d %s", n, rc, err);
            cr_assert(strstr(err, "ends early"), "%s", err);
        }
        /* Read what the failed decode left: nothing past the cut. */
        rp_acctstate_iter it;
        rp_tenant_state t;
        rp_acctstate_tenant_begin(&back, &it);
        while (rp_acctstate_tenant_next(&it, &t))
            ;
        free(cut);
    }
    rp_buf_free(&b);
    rp_buf_free(&o);
}

Test(acctstate, every_truncation_is_refused) {
    every_truncation(sample());
    every_truncation(sample_t());
}

Test(acctstate, the_first_version_without_tenants_decodes) {
    rp_account_state st = sample(), back;
    rp_buf b = {0};
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), 0);
    /* The first version ends after sequence: no empty array. */
    cr_assert_eq(b.data[b.len - 1], 0);
    cr_assert_eq(rp_acctstate_decode(b.data, b.len - 1, false, NULL, &back, err,
                                     sizeof(err)),
                 0, "%s", err);
    assert_same(&st, &back);
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
    /* A trailing byte (after the empty tenants array). */
    const char trailing[] = {2, 'a', 2, 0, 0, 0, 2, 0, 0};
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
    /* Tenants: a status out of range, a tenant with fifteen issues,
     * invalid UTF-8 in a name, a negative block count of INT64_MIN. */
    const char t_status[] = {2, 'a', 2, 0, 0, 0, 2, 2, 2, 't', 10, 0, 0, 0, 0};
    cr_assert_eq(rp_acctstate_decode(t_status, sizeof(t_status), false, NULL,
                                     &back, err, sizeof(err)),
                 RP_EBADDATA);
    cr_assert(strstr(err, "tenants.status"), "%s", err);
    const char t_many[] = {2, 'a', 2, 0, 0, 0, 2, 2, 2, 't', 2, 0, 0, 30};
    cr_assert_eq(rp_acctstate_decode(t_many, sizeof(t_many), false, NULL, &back,
                                     err, sizeof(err)),
                 RP_EBADDATA);
    const char t_utf8[] = {2, 'a',        2, 0, 0, 0, 2, 2,
                           2, (char)0xc3, 2, 0, 0, 0, 0};
    cr_assert_eq(rp_acctstate_decode(t_utf8, sizeof(t_utf8), false, NULL, &back,
                                     err, sizeof(err)),
                 RP_EBADDATA);
    const char t_min[] = {
        2,          'a',        2,          0,          0,          0,
        2,          (char)0xff, (char)0xff, (char)0xff, (char)0xff, (char)0xff,
        (char)0xff, (char)0xff, (char)0xff, (char)0xff, 1};
    cr_assert_eq(rp_acctstate_decode(t_min, sizeof(t_min), false, NULL, &back,
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
    st = sample_t();
    sample_tenants[1].status = RP_ASTATUS__COUNT;
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), RP_EINVAL);
    st = sample_t();
    sample_tenants[0].issues[0].status = RP_ISTATUS__COUNT;
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), RP_EINVAL);
    st = sample_t();
    sample_tenants[0].n_issues = RP_ISSUE__COUNT + 1;
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), RP_EINVAL);
    st = sample_t();
    st.tenants = NULL;
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
    rp_account_state st = sample_t();
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
    /* The tenants. */
    cr_assert_eq(avro_value_get_by_name(&v, "tenants", &f, NULL), 0);
    cr_assert_eq(avro_value_get_size(&f, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(avro_value_get_by_index(&f, 1, &item, NULL), 0);
    avro_value_t x, is;
    cr_assert_eq(avro_value_get_by_name(&item, "tenant", &x, NULL), 0);
    cr_assert_eq(avro_value_get_string(&x, &id, &idlen), 0);
    cr_assert_str_eq(id, "r\xc3\xa9"
                         "ceipts");
    cr_assert_eq(avro_value_get_by_name(&item, "status", &x, NULL), 0);
    cr_assert_eq(avro_value_get_enum(&x, &e), 0);
    cr_assert_eq(e, RP_ASTATUS_UNDER_REVIEW);
    cr_assert_eq(field_long(&item, "since"), sample_tenants[1].since);
    cr_assert_eq(avro_value_get_by_name(&item, "review_ends_at", &x, NULL), 0);
    cr_assert_eq(avro_value_get_current_branch(&x, &br), 0);
    cr_assert_eq(avro_value_get_long(&br, &l), 0);
    cr_assert_eq(l, sample_tenants[1].review_ends_at);
    cr_assert_eq(avro_value_get_by_name(&item, "issues", &x, NULL), 0);
    cr_assert_eq(avro_value_get_size(&x, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(avro_value_get_by_index(&x, 1, &is, NULL), 0);
    cr_assert_eq(field_long(&is, "since"), sample_tenants[1].issues[1].since);
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
    /* One tenant with one issue. */
    avro_value_t tarr, ten, tis;
    cr_assert_eq(avro_value_get_by_name(&v, "tenants", &tarr, NULL), 0);
    cr_assert_eq(avro_value_append(&tarr, &ten, NULL), 0);
    cr_assert_eq(avro_value_get_by_name(&ten, "tenant", &x, NULL), 0);
    cr_assert_eq(avro_value_set_string(&x, "news"), 0);
    cr_assert_eq(avro_value_get_by_name(&ten, "status", &x, NULL), 0);
    cr_assert_eq(avro_value_set_enum(&x, RP_ASTATUS_PENDING_SENDING_PAUSE), 0);
    cr_assert_eq(avro_value_get_by_name(&ten, "since", &x, NULL), 0);
    cr_assert_eq(avro_value_set_long(&x, 77), 0);
    cr_assert_eq(avro_value_get_by_name(&ten, "review_ends_at", &x, NULL), 0);
    cr_assert_eq(avro_value_set_branch(&x, 0, &br), 0);
    cr_assert_eq(avro_value_set_null(&br), 0);
    cr_assert_eq(avro_value_get_by_name(&ten, "issues", &x, NULL), 0);
    cr_assert_eq(avro_value_append(&x, &tis, NULL), 0);
    avro_value_t y;
    cr_assert_eq(avro_value_get_by_name(&tis, "kind", &y, NULL), 0);
    cr_assert_eq(avro_value_set_enum(&y, RP_ISSUE_BOUNCE_RATE), 0);
    cr_assert_eq(avro_value_get_by_name(&tis, "status", &y, NULL), 0);
    cr_assert_eq(avro_value_set_enum(&y, RP_ISTATUS_PENDING_SENDING_PAUSE), 0);
    cr_assert_eq(avro_value_get_by_name(&tis, "since", &y, NULL), 0);
    cr_assert_eq(avro_value_set_long(&y, 78), 0);
    cr_assert_eq(avro_value_get_by_name(&tis, "review_ends_at", &y, NULL), 0);
    cr_assert_eq(avro_value_set_branch(&y, 0, &br), 0);
    cr_assert_eq(avro_value_set_null(&br), 0);
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
    cr_assert_eq(back.n_tenants, 1);
    rp_acctstate_iter it;
    rp_tenant_state t;
    rp_acctstate_tenant_begin(&back, &it);
    cr_assert(rp_acctstate_tenant_next(&it, &t));
    cr_assert(rp_str_eq(t.tenant, rp_str_c("news")));
    cr_assert_eq(t.status, RP_ASTATUS_PENDING_SENDING_PAUSE);
    cr_assert_eq(t.since, 77);
    cr_assert_not(t.has_review_end);
    cr_assert_eq(t.n_issues, 1);
    cr_assert_eq(t.issues[0].since, 78);
    cr_assert_not(rp_acctstate_tenant_next(&it, &t));
    /* Array blocks with a negative count and a byte size, which other
     * writers may use: issues count -1, size 4, the item, then 0; then
     * tenants in two blocks, -1 (size 5) and 1, then 0. */
    const char block[] = {2, 'a', 2, 0, 0, 1, 8, 0, 4,   0, 0, 0, 2, 1, 10,
                          2, 'x', 2, 0, 0, 0, 2, 2, 'y', 4, 0, 0, 0, 0};
    cr_assert_eq(rp_acctstate_decode(block, sizeof(block), false, NULL, &back,
                                     err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(back.n_issues, 1);
    cr_assert_eq(back.issues[0].status, RP_ISTATUS_UNDER_REVIEW);
    cr_assert_eq(back.sequence, 1);
    cr_assert_eq(back.n_tenants, 2);
    rp_acctstate_tenant_begin(&back, &it);
    cr_assert(rp_acctstate_tenant_next(&it, &t));
    cr_assert(rp_str_eq(t.tenant, rp_str_c("x")));
    cr_assert_eq(t.status, RP_ASTATUS_UNDER_REVIEW);
    cr_assert(rp_acctstate_tenant_next(&it, &t));
    cr_assert(rp_str_eq(t.tenant, rp_str_c("y")));
    cr_assert_eq(t.status, RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION);
    cr_assert_not(rp_acctstate_tenant_next(&it, &t));
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

/* A reader of the first version of the schema (without `tenants`) reads
 * the new records through avro-c's schema resolution, and avro-c reading
 * them bare with the first version stops before the tenants. */
Test(acctstate, a_reader_of_the_first_version_keeps_working) {
    json_error_t je;
    json_t *j = json_loads(rp_avro_account_state_schema_json(), 0, &je);
    cr_assert_not_null(j, "%s", je.text);
    json_t *fields = json_object_get(j, "fields");
    size_t last = json_array_size(fields) - 1;
    cr_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(fields, last), "name")),
                     "tenants");
    cr_assert(json_object_get(json_array_get(fields, last), "default"));
    json_array_remove(fields, last);
    char *text = json_dumps(j, JSON_COMPACT);
    avro_schema_t old, now = schema();
    cr_assert_eq(avro_schema_from_json_length(text, strlen(text), &old), 0,
                 "%s", avro_strerror());
    rp_account_state st = sample_t();
    rp_buf b = {0};
    cr_assert_eq(rp_acctstate_encode(&st, -1, &b, err, sizeof(err)), 0);
    avro_value_iface_t *w_cls = avro_generic_class_from_schema(now);
    avro_value_iface_t *o_cls = avro_generic_class_from_schema(old);
    avro_value_iface_t *res = avro_resolved_writer_new(now, old);
    cr_assert_not_null(res, "%s", avro_strerror());
    avro_value_t o, r, f;
    cr_assert_eq(avro_generic_value_new(o_cls, &o), 0);
    cr_assert_eq(avro_resolved_writer_new_value(res, &r), 0);
    avro_resolved_writer_set_dest(&r, &o);
    avro_reader_t rd = avro_reader_memory(b.data, (int64_t)b.len);
    cr_assert_eq(avro_value_read(rd, &r), 0, "%s", avro_strerror());
    cr_assert_eq(field_long(&o, "sequence"), (int64_t)st.sequence);
    size_t n;
    cr_assert_eq(avro_value_get_by_name(&o, "issues", &f, NULL), 0);
    cr_assert_eq(avro_value_get_size(&f, &n), 0);
    cr_assert_eq(n, st.n_issues);
    avro_reader_free(rd);
    /* Bare, with the first version as if it were the writer's. */
    avro_value_t bare;
    cr_assert_eq(avro_generic_value_new(o_cls, &bare), 0);
    rd = avro_reader_memory(b.data, (int64_t)b.len);
    cr_assert_eq(avro_value_read(rd, &bare), 0, "%s", avro_strerror());
    cr_assert_eq(field_long(&bare, "sequence"), (int64_t)st.sequence);
    avro_reader_free(rd);
    avro_value_decref(&bare);
    avro_value_decref(&r);
    avro_value_decref(&o);
    avro_value_iface_decref(res);
    avro_value_iface_decref(w_cls);
    avro_value_iface_decref(o_cls);
    avro_schema_decref(old);
    avro_schema_decref(now);
    free(text);
    json_decref(j);
    rp_buf_free(&b);
}
