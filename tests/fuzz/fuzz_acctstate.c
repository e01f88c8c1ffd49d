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
 *  - an accepted record's account_id lies inside the input, its enums are
 *    in range, it lists at most one issue per kind;
 *  - an accepted record re-encodes, and the re-encoding decodes to the
 *    same state (a round trip is a fixed point);
 *  - every strict prefix of an accepted record is RP_ETRUNC (the decoder
 *    reads left to right and never guesses the end).
 */
#include "fuzz.h"

#include "repute/acctstate.h"

static void same(const rp_account_state *a, const rp_account_state *b) {
    FUZZ_CHECK(rp_str_eq(a->account_id, b->account_id), "account_id");
    FUZZ_CHECK(a->status == b->status && a->since == b->since &&
                   a->sequence == b->sequence &&
                   a->has_review_end == b->has_review_end &&
                   a->review_ends_at == b->review_ends_at &&
                   a->n_issues == b->n_issues,
               "a field differs after a round trip");
    for (size_t i = 0; i < a->n_issues; i++) {
        const rp_issue_state *x = &a->issues[i], *y = &b->issues[i];
        FUZZ_CHECK(x->kind == y->kind && x->status == y->status &&
                       x->since == y->since &&
                       x->has_review_end == y->has_review_end &&
                       x->review_ends_at == y->review_ends_at,
                   "issue %zu differs after a round trip", i);
    }
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
    FUZZ_CHECK(st.account_id.len == 0 ||
                   (st.account_id.ptr >= buf &&
                    st.account_id.ptr + st.account_id.len <= buf + n),
               "account_id outside the input");
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
    rp_buf_free(&out);

    if (n <= 512)
        for (size_t k = 0; k < n; k++) {
            char *cut = fuzz_copy((const uint8_t *)buf, k, 0);
            rc = rp_acctstate_decode(cut, k, framed, NULL, &back, e, sizeof(e));
            FUZZ_CHECK(rc == RP_ETRUNC, "a prefix of %zu bytes gave %d", k, rc);
            free(cut);
        }
    free(buf);
    return 0;
}
