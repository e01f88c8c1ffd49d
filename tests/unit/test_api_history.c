/*
 * test_api_history.c - GET /v1/accounts/{id}/history and its tenant form
 * (docs/history.md, docs/http.md): the bundled example is fed to an
 * engine served by the API's own server (the fixture and process view of
 * api_served_fixture.h), then an operator's action with an actor and a
 * note; the history of an account that left HEALTHY, of a tenant, of an
 * account that never did (empty), and the 404s.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <uv.h>

#include "repute/api.h"
#include "repute/config.h"
#include "repute/engine.h"
#include "repute/jsonl.h"
#include "repute/procview.h"

#include "api_served_fixture.h"

TestSuite(api_history, .fini = stop, .timeout = 60);

/* An action by alice on acme, at the engine's clock. */
static void act(const char *account, const char *tenant, rp_action_type what) {
    rp_record rec;
    rp_record_init(&rec, RP_REC_ACTION);
    rec.event_id = rp_str_c("history-act-1");
    rec.account_id = rp_str_c(account);
    if (tenant)
        rec.tenant = rp_str_c(tenant);
    rec.event_time = rp_engine_clock(fx.engine);
    rec.u.action.action = what;
    rec.u.action.actor = rp_str_c("alice");
    rec.u.action.note = rp_str_c("owner fixed the list \"spring\"");
    cr_assert_eq(rp_engine_apply(fx.engine, &rec, rec.event_time, NULL), 0);
}

Test(api_history, an_account_shows_what_changed_it_newest_first) {
    start();
    act("acme", NULL, RP_ACTION_EXTEND_REVIEW);
    run_loop();
    json_t *h = get_json("/v1/accounts/acme/history", 200);
    cr_assert_str_eq(str(h, "account_id"), "acme");
    cr_assert(json_is_null(json_object_get(h, "tenant")));
    json_t *es = json_object_get(h, "entries");
    cr_assert_gt(json_array_size(es), 2);
    cr_assert_leq(json_array_size(es), 32);
    /* Newest first: the action applied last is first. */
    json_t *first = json_array_get(es, 0);
    cr_assert_str_eq(str(first, "kind"), "action");
    cr_assert_str_eq(str(first, "action"), "EXTEND_REVIEW");
    cr_assert_str_eq(str(first, "actor"), "alice");
    cr_assert_str_eq(str(first, "note"), "owner fixed the list \"spring\"");
    cr_assert(json_is_boolean(json_object_get(first, "applied")));
    cr_assert(json_is_null(json_object_get(first, "issue")));
    /* Times never go up down the list; the oldest entry is the first
     * status change away from HEALTHY. */
    json_int_t prev = 0;
    bool changes = false, notes = false;
    for (size_t i = 0; i < json_array_size(es); i++) {
        json_t *e = json_array_get(es, i);
        /* Milliseconds since the epoch, like every time of the API. */
        json_t *tj = json_object_get(e, "time");
        cr_assert(json_is_integer(tj));
        json_int_t t = json_integer_value(tj);
        cr_assert_gt(t, 1767225600000); /* 2026 */
        if (i)
            cr_assert_leq(t, prev, "%lld after %lld", (long long)t,
                          (long long)prev);
        prev = t;
        const char *k = str(e, "kind");
        if (strcmp(k, "status_change") == 0) {
            changes = true;
            str(e, "from"), str(e, "to"), str(e, "cause");
        } else if (strcmp(k, "notification") == 0) {
            notes = true;
            str(e, "issue"), str(e, "stage");
        }
    }
    cr_assert(changes && notes);
    json_t *last = json_array_get(es, json_array_size(es) - 1);
    if (json_array_size(es) < 32) {
        cr_assert_str_eq(str(last, "kind"), "status_change");
        cr_assert_str_eq(str(last, "from"), "HEALTHY");
    }
    json_decref(h);
}

Test(api_history, a_tenant_has_its_own) {
    start();
    act("hooli", "promotions", RP_ACTION_RESUME_SENDING);
    run_loop();
    json_t *h = get_json("/v1/accounts/hooli/tenants/promotions/history", 200);
    cr_assert_str_eq(str(h, "tenant"), "promotions");
    json_t *es = json_object_get(h, "entries");
    cr_assert_gt(json_array_size(es), 1);
    json_t *first = json_array_get(es, 0);
    /* The resume changed the status: its change is newest, the action
     * right behind it. */
    cr_assert_str_eq(str(first, "kind"), "notification");
    bool saw_action = false;
    for (size_t i = 0; i < json_array_size(es); i++) {
        json_t *e = json_array_get(es, i);
        if (strcmp(str(e, "kind"), "action") == 0) {
            saw_action = true;
            cr_assert_str_eq(str(e, "actor"), "alice");
            cr_assert(json_is_true(json_object_get(e, "applied")));
        }
    }
    cr_assert(saw_action);
    json_decref(h);
    /* The account itself stayed HEALTHY: an empty list, not a 404. */
    h = get_json("/v1/accounts/hooli/history", 200);
    cr_assert_eq(json_array_size(json_object_get(h, "entries")), 0);
    json_decref(h);
}

Test(api_history, unknown_accounts_and_tenants_are_404) {
    start();
    run_loop();
    json_t *h = get_json("/v1/accounts/nobody/history", 404);
    json_decref(h);
    h = get_json("/v1/accounts/hooli/tenants/nobody/history", 404);
    json_decref(h);
    /* The account's own page is still the account's. */
    h = get_json("/v1/accounts/hooli", 200);
    json_decref(h);
}
