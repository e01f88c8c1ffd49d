/*
 * fuzz_http_action.c - the body of POST /v1/accounts/{id}/actions
 * (rp_api_action_parse, src/api/action_body.c), the JSON an operator's
 * client sends.
 *
 * Each input is one body, parsed for the account "acme" without a tenant
 * and again for its tenant "brand". tests/fuzz/fuzz_http.c sends bodies
 * through the real server too; this target reaches the checks faster.
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - the answer is 0 or RP_EINVAL, and a refusal names a field and says
 *    why;
 *  - an accepted body gives an Action that rp_record_check accepts (once
 *    given an event_id, as the API gives one), with a known action, a note
 *    of at most RP_API_NOTE_MAX bytes, present and not blank wherever
 *    rp_api_action_needs_note says so, a related account exactly for the
 *    links and never the account itself, and no issue on an account's own
 *    action;
 *  - an account's own action accepted without a tenant is refused with
 *    one, naming "action";
 *  - parsing is deterministic: the same body gives the same answer.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "repute/api.h"

static bool on_account(rp_action_type t) {
    return t == RP_ACTION_SET_MANUAL_REVIEW ||
           t == RP_ACTION_CLEAR_MANUAL_REVIEW || t == RP_ACTION_LINK_ACCOUNT ||
           t == RP_ACTION_UNLINK_ACCOUNT;
}

static void check_ok(const rp_api_action_body *b) {
    const rp_action *a = &b->rec.u.action;
    char e[256];
    rp_record rec = b->rec;
    if (!b->has_event_id)
        rec.event_id = rp_str_c("http-fuzz");
    FUZZ_CHECK(rp_record_check(&rec, e, sizeof(e)) == 0,
               "an accepted body breaks the contract: %s", e);
    FUZZ_CHECK(rec.type == RP_REC_ACTION && (int)a->action >= 0 &&
                   a->action < RP_ACTION__COUNT,
               "action %d", (int)a->action);
    FUZZ_CHECK(!a->note.ptr || a->note.len <= RP_API_NOTE_MAX, "a note of %zu",
               a->note.len);
    if (rp_api_action_needs_note(a->action)) {
        bool blank = true;
        for (size_t i = 0; a->note.ptr && i < a->note.len; i++)
            blank = blank && strchr(" \t\r\n", a->note.ptr[i]);
        FUZZ_CHECK(a->note.ptr && !blank, "%s without a note",
                   rp_action_type_name(a->action));
    }
    bool link = a->action == RP_ACTION_LINK_ACCOUNT ||
                a->action == RP_ACTION_UNLINK_ACCOUNT;
    FUZZ_CHECK(link == (a->related_account_id.ptr != NULL),
               "related_account_id on %s", rp_action_type_name(a->action));
    FUZZ_CHECK(!link || !rp_str_eq(a->related_account_id, rec.account_id),
               "a link to itself");
    FUZZ_CHECK(!on_account(a->action) || !a->has_issue, "an issue on %s",
               rp_action_type_name(a->action));
    FUZZ_CHECK(rp_str_eq(a->actor, rp_str_c("fuzzer")), "the actor");
}

static int parse(rp_api_action_body *b, const char *body, size_t n,
                 rp_str tenant, char *field, size_t fs) {
    char e[512] = "";
    int rc = rp_api_action_parse(b, body, n, rp_str_c("acme"), tenant, "fuzzer",
                                 1700000000000, field, fs, e, sizeof(e));
    FUZZ_CHECK(rc == 0 || rc == RP_EINVAL, "rc %d", rc);
    if (rc != 0)
        FUZZ_CHECK(field[0] && e[0], "a refusal without field or reason");
    else
        check_ok(b);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static rp_api_action_body b;
    char *body = fuzz_copy(data, size, 0);
    char f1[64], f2[64], f3[64];
    int rc = parse(&b, body, size, RP_STR_NULL, f1, sizeof(f1));
    bool account_own = rc == 0 && on_account(b.rec.u.action.action);
    int again = parse(&b, body, size, RP_STR_NULL, f2, sizeof(f2));
    FUZZ_CHECK(again == rc && (rc == 0 || strcmp(f1, f2) == 0),
               "not deterministic");
    int t = parse(&b, body, size, rp_str_c("brand"), f3, sizeof(f3));
    if (account_own)
        FUZZ_CHECK(t != 0 && strcmp(f3, "action") == 0,
                   "an account's own action accepted for a tenant");
    if (t == 0)
        FUZZ_CHECK(rp_str_eq(b.rec.tenant, rp_str_c("brand")), "the tenant");
    free(body);
    return 0;
}
