/*
 * fuzz_acctstate.c - the AccountState decoder (src/codec/acctstate.c),
 * which reads whatever anyone wrote to topic.current (`repute tail
 * --current`).
 *
 * The first byte chooses bare (even) or Confluent-framed (odd) bytes; the
 * rest is the record.
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - a refusal is RP_ETRUNC or RP_EBADDATA, with a message naming the
 *    record;
 *  - an accepted record's account_id and tenant names lie inside the
 *    input, its enums are in range, it and each tenant list at most one
 *    issue per kind, and reading its tenants gives exactly n_tenants;
 *  - an accepted record re-encodes, and the re-encoding decodes to the
 *    same state, tenants included (a round trip is a fixed point);
 *  - every strict prefix of an accepted record is RP_ETRUNC (the decoder
 *    reads left to right and never guesses the end), but at most one: the
 *    prefix that ends right after `sequence`, a record of the first
 *    version of the schema, which decodes to the same state without
 *    tenants.
 */
#include "fuzz.h"

#include "repute/acctstate.h"

static bool inside(rp_str s, const char *buf, size_t n) {
    return s.len == 0 || (s.ptr >= buf && s.ptr + s.len <= buf + n);
}

static void same_issues(const rp_issue_state *x, const rp_issue_state *y,
                        size_t n) {
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(x[i].kind == y[i].kind && x[i].status == y[i].status &&
                       x[i].since == y[i].since &&
                       x[i].has_review_end == y[i].has_review_end &&
                       x[i].review_ends_at == y[i].review_ends_at,
                   "issue %zu differs after a round trip", i);
}

/* The tenants of a and b are the same. */
static void same_tenants(const rp_account_state *a, const rp_account_state *b) {
    FUZZ_CHECK(a->n_tenants == b->n_tenants, "n_tenants");
    rp_acctstate_iter ia, ib;
    rp_tenant_state x, y;
    rp_acctstate_tenant_begin(a, &ia);
    rp_acctstate_tenant_begin(b, &ib);
    while (rp_acctstate_tenant_next(&ia, &x)) {
        FUZZ_CHECK(rp_acctstate_tenant_next(&ib, &y), "a tenant is missing");
        FUZZ_CHECK(rp_str_eq(x.tenant, y.tenant) && x.status == y.status &&
                       x.since == y.since &&
                       x.has_review_end == y.has_review_end &&
                       x.review_ends_at == y.review_ends_at &&
                       x.n_issues == y.n_issues,
                   "a tenant differs after a round trip");
        same_issues(x.issues, y.issues, x.n_issues);
    }
    FUZZ_CHECK(!rp_acctstate_tenant_next(&ib, &y), "a tenant too many");
}

/* Reading the tenants of a decoded record gives n_tenants, inside it. */
static void check_tenants(const rp_account_state *st, const char *buf,
                          size_t n) {
    rp_acctstate_iter it;
    rp_tenant_state t;
    size_t k = 0;
    rp_acctstate_tenant_begin(st, &it);
    while (rp_acctstate_tenant_next(&it, &t)) {
        FUZZ_CHECK(inside(t.tenant, buf, n), "a tenant name outside");
        FUZZ_CHECK((unsigned)t.status < RP_ASTATUS__COUNT, "tenant status");
        FUZZ_CHECK(t.n_issues <= RP_ISSUE__COUNT, "tenant issues");
        k++;
    }
    FUZZ_CHECK(k == st->n_tenants, "%zu of %zu tenants read", k, st->n_tenants);
}

static void same(const rp_account_state *a, const rp_account_state *b) {
    FUZZ_CHECK(rp_str_eq(a->account_id, b->account_id), "account_id");
    FUZZ_CHECK(a->status == b->status && a->since == b->since &&
                   a->sequence == b->sequence &&
                   a->has_review_end == b->has_review_end &&
                   a->review_ends_at == b->review_ends_at &&
                   a->n_issues == b->n_issues,
               "a field differs after a round trip");
    same_issues(a->issues, b->issues, a->n_issues);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    bool framed = data[0] & 1;
    size_t n = size - 1;
    char *buf = fuzz_copy(data + 1, n, 0);
    char e[256] = "";
    rp_account_state st;
    int32_t id = -1;
    int rc = rp_acctstate_decode(buf, n, framed, &id, &st, e, sizeof(e));
    if (rc != 0) {
        FUZZ_CHECK(rc == RP_ETRUNC || rc == RP_EBADDATA, "rc %d", rc);
        FUZZ_CHECK(strstr(e, "AccountState"), "message: %s", e);
        free(buf);
        return 0;
    }
    FUZZ_CHECK(inside(st.account_id, buf, n), "account_id outside the input");
    check_tenants(&st, buf, n);
    FUZZ_CHECK((unsigned)st.status < RP_ASTATUS__COUNT, "status");
    FUZZ_CHECK(st.n_issues <= RP_ISSUE__COUNT, "%zu issues", st.n_issues);

    rp_buf out = {0};
    /* A header whose id has its top bit set re-encodes bare. */
    bool reframe = framed && id >= 0;
    rc = rp_acctstate_encode(&st, reframe ? id : RP_ACCTSTATE_NO_ID, &out, e,
                             sizeof(e));
    FUZZ_CHECK(rc == 0, "re-encoding failed: %s", e);
    rp_account_state back;
    rc = rp_acctstate_decode(out.data, out.len, reframe, NULL, &back, e,
                             sizeof(e));
    FUZZ_CHECK(rc == 0, "the re-encoding does not decode: %s", e);
    same(&st, &back);
    same_tenants(&st, &back);
    rp_buf_free(&out);

    size_t first_version = 0;
    if (n <= 512)
        for (size_t k = 0; k < n; k++) {
            char *cut = fuzz_copy((const uint8_t *)buf, k, 0);
            rc = rp_acctstate_decode(cut, k, framed, NULL, &back, e, sizeof(e));
            if (rc == 0) {
                FUZZ_CHECK(++first_version == 1 && back.n_tenants == 0,
                           "a prefix of %zu bytes decodes", k);
                same(&st, &back);
            } else
                FUZZ_CHECK(rc == RP_ETRUNC, "a prefix of %zu bytes gave %d", k,
                           rc);
            free(cut);
        }
    free(buf);
    return 0;
}
