/*
 * test_api_tenants.c - tenants in the HTTP API (docs/http.md, docs/rules.md
 * section 10): an engine fed the bundled example (where hooli stays
 * HEALTHY while its tenant promotions ends SENDING_PAUSED) is served by
 * the API's own server on a loop thread, through a process view of one
 * ready partition that this file provides in place of the runtime's
 * (src/runtime/view.c is not linked: nothing here references it). The
 * JSON is parsed with jansson: the account's tenants, the tenant's page
 * in the shape of an account's, the attention list's tenant rows and their
 * cursor, the summary's and /metrics' tenant counts.
 *
 * The notifications are fed to the API as `repute run` does
 * (rp_api_note_event from the sink); a last test checks that the ring
 * keeps a copy of the tenant's name, not the event's borrowed pointer,
 * by overwriting the event's memory before the page is read.
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

TestSuite(api_tenants, .fini = stop, .timeout = 60);

Test(api_tenants, an_account_lists_its_tenants_in_name_order) {
    start();
    run_loop();
    json_t *h = get_json("/v1/accounts/hooli", 200);
    cr_assert_str_eq(str(h, "status"), "HEALTHY");
    cr_assert(json_is_null(json_object_get(h, "tenant")));
    json_t *ts = json_object_get(h, "tenants");
    cr_assert_eq(json_array_size(ts), 2);
    cr_assert_str_eq(str(json_array_get(ts, 0), "tenant"), "promotions");
    cr_assert_str_eq(str(json_array_get(ts, 0), "status"), "SENDING_PAUSED");
    cr_assert(json_is_array(json_object_get(json_array_get(ts, 0), "issues")));
    cr_assert_str_eq(str(json_array_get(ts, 1), "tenant"), "receipts");
    cr_assert_str_eq(str(json_array_get(ts, 1), "status"), "HEALTHY");
    /* The tenant's notifications are on its own page. */
    cr_assert_eq(json_array_size(json_object_get(h, "notifications")), 0);
    json_decref(h);
    json_t *acme = get_json("/v1/accounts/acme", 200);
    cr_assert_eq(json_array_size(json_object_get(acme, "tenants")), 0);
    cr_assert_geq(json_array_size(json_object_get(acme, "notifications")), 2);
    json_decref(acme);
}

Test(api_tenants, a_tenant_has_the_shape_of_an_account) {
    start();
    run_loop();
    json_t *t = get_json("/v1/accounts/hooli/tenants/promotions", 200);
    json_t *acme = get_json("/v1/accounts/acme", 200);
    /* Every field of an account's page is on a tenant's. */
    const char *k;
    json_t *v;
    json_object_foreach(acme, k, v) {
        cr_assert_not_null(json_object_get(t, k), "the tenant lacks %s", k);
    }
    cr_assert_str_eq(str(t, "account_id"), "hooli");
    cr_assert_str_eq(str(t, "tenant"), "promotions");
    cr_assert_str_eq(str(t, "status"), "SENDING_PAUSED");
    cr_assert_str_eq(str(t, "account_status"), "HEALTHY");
    json_t *b = json_object_get(t, "bounce");
    cr_assert_str_eq(str(b, "status"), "SENDING_PAUSE");
    cr_assert_float_eq(json_real_value(json_object_get(b, "pause_threshold")),
                       fx.cfg.tenant_bounce_pause_rate, 1e-12);
    cr_assert_gt(json_array_size(json_object_get(t, "hours")), 0);
    json_t *is = json_object_get(t, "issues");
    cr_assert_eq(json_array_size(is), 1);
    cr_assert_str_eq(str(json_array_get(is, 0), "kind"), "BOUNCE_RATE");
    json_t *notes = json_object_get(t, "notifications");
    cr_assert_geq(json_array_size(notes), 2);
    cr_assert_str_eq(str(json_array_get(notes, 0), "stage"), "SENDING_PAUSED");
    cr_assert(strstr(str(json_array_get(notes, 0), "why"), "promotions"));
    cr_assert_str_eq(str(json_array_get(notes, 0), "account_status"),
                     "SENDING_PAUSED", "a tenant's note: the tenant status");
    json_decref(t);
    json_decref(acme);
    /* The tenant's hours are its own: fewer sends than its account's. */
    json_t *h = get_json("/v1/accounts/hooli", 200);
    t = get_json("/v1/accounts/hooli/tenants/receipts", 200);
    cr_assert_str_eq(str(t, "status"), "HEALTHY");
    cr_assert_lt(json_integer_value(
                     json_object_get(json_object_get(t, "bounce"), "volume")),
                 json_integer_value(
                     json_object_get(json_object_get(h, "bounce"), "volume")));
    json_decref(t);
    json_decref(h);
}

Test(api_tenants, unknown_tenants_and_bad_paths) {
    start();
    run_loop();
    json_t *nf = get_json("/v1/accounts/hooli/tenants/nope", 404);
    cr_assert_str_eq(str(nf, "tenant"), "nope");
    cr_assert_str_eq(str(nf, "account_id"), "hooli");
    json_decref(nf);
    nf = get_json("/v1/accounts/nobody/tenants/promotions", 404);
    cr_assert_str_eq(str(nf, "account_id"), "nobody");
    cr_assert_null(json_object_get(nf, "tenant"), "the account is unknown");
    json_decref(nf);
    json_decref(get_json("/v1/accounts/hooli/tenants/", 400));
    json_decref(get_json("/v1/accounts//tenants/x", 400));
    char path[700];
    int n = snprintf(path, sizeof(path), "/v1/accounts/hooli/tenants/");
    memset(path + n, 't', 300);
    path[n + 300] = '\0';
    json_decref(get_json(path, 400));
}

Test(api_tenants, the_attention_list_shows_tenants_with_their_account) {
    start();
    run_loop();
    json_t *l = get_json("/v1/accounts?status=SENDING_PAUSED", 200);
    json_t *a = json_object_get(l, "accounts");
    cr_assert_eq(json_array_size(a), 2, "acme and hooli's promotions");
    cr_assert_str_eq(str(json_array_get(a, 0), "account_id"), "acme");
    cr_assert(json_is_null(json_object_get(json_array_get(a, 0), "tenant")));
    cr_assert_str_eq(str(json_array_get(a, 1), "account_id"), "hooli");
    cr_assert_str_eq(str(json_array_get(a, 1), "tenant"), "promotions");
    json_decref(l);
    /* q finds a tenant by its name too. */
    l = get_json("/v1/accounts?status=SENDING_PAUSED&q=promo", 200);
    cr_assert_eq(json_array_size(json_object_get(l, "accounts")), 1);
    json_decref(l);
    /* Every status: accounts and the tenants not HEALTHY, paged. */
    l = get_json("/v1/accounts?limit=4", 200);
    a = json_object_get(l, "accounts");
    cr_assert_eq(json_array_size(a), 4);
    cr_assert_str_eq(str(json_array_get(a, 3), "account_id"), "hooli");
    cr_assert(json_is_null(json_object_get(json_array_get(a, 3), "tenant")));
    cr_assert_str_eq(str(l, "next"), "hooli");
    cr_assert(json_is_null(json_object_get(l, "next_tenant")));
    json_decref(l);
    l = get_json("/v1/accounts?limit=1&after=hooli", 200);
    a = json_object_get(l, "accounts");
    cr_assert_str_eq(str(json_array_get(a, 0), "tenant"), "promotions",
                     "after an account come its tenants");
    cr_assert_str_eq(str(l, "next_tenant"), "promotions");
    json_decref(l);
    l = get_json("/v1/accounts?after=hooli&after_tenant=promotions", 200);
    a = json_object_get(l, "accounts");
    cr_assert_eq(json_array_size(a), 1);
    cr_assert_str_eq(str(json_array_get(a, 0), "account_id"), "initech");
    json_decref(l);
    json_decref(get_json("/v1/accounts?after_tenant=x", 400));
}

Test(api_tenants, summary_and_metrics_count_tenants) {
    start();
    run_loop();
    json_t *s = get_json("/v1/summary", 200);
    cr_assert_eq(json_integer_value(json_object_get(s, "tenants")), 2);
    json_t *by = json_object_get(s, "tenants_by_status");
    cr_assert_eq(json_integer_value(json_object_get(by, "SENDING_PAUSED")), 1);
    cr_assert_eq(json_integer_value(json_object_get(by, "HEALTHY")), 1);
    json_decref(s);
    reply r = get("/metrics");
    cr_assert_eq(r.status, 200);
    const char *want[] = {
        "repute_tenants{status=\"SENDING_PAUSED\"} 1\n",
        "repute_tenants{status=\"HEALTHY\"} 1\n",
        "repute_tenants{status=\"UNDER_REVIEW\"} 0\n",
        "repute_tenants_held 2\n",
        "# TYPE repute_tenant_overflows_total counter\n",
        "repute_tenant_overflows_total 0\n",
        "repute_tenants_forgotten_total 0\n",
        "repute_accounts{status=\"HEALTHY\"} 3\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
        cr_assert(strstr(r.body, want[i]), "/metrics lacks %s", want[i]);
    free(r.text);
}

/* The ring copies the tenant's name: the event's strings borrow engine
 * memory, which a forgotten tenant gives back. */
Test(api_tenants, a_note_keeps_its_own_copy_of_the_tenant) {
    start();
    char acc[] = "hooli", ten[] = "promotions";
    rp_notification n = {.issue = RP_ISSUE_SPAMTRAP,
                         .stage = RP_STAGE_REVIEW_STARTED,
                         .account_status = RP_ASTATUS_UNDER_REVIEW,
                         .tenant = {ten, strlen(ten)}};
    rp_event ev = {.account_id = {acc, strlen(acc)},
                   .sequence = 1000,
                   .event_time = rp_engine_clock(fx.engine),
                   .kind = RP_EVENT_NOTIFICATION,
                   .notification = &n,
                   .tenant = {ten, strlen(ten)}};
    rp_api_note_event(fx.api, &ev);
    memset(ten, 'X', strlen(ten)); /* the engine's memory, reused */
    run_loop();
    json_t *t = get_json("/v1/accounts/hooli/tenants/promotions", 200);
    json_t *n0 = json_array_get(json_object_get(t, "notifications"), 0);
    cr_assert_eq(json_integer_value(json_object_get(n0, "sequence")), 1000);
    cr_assert_str_eq(str(n0, "issue"), "SPAMTRAP");
    cr_assert(strstr(str(n0, "why"), "promotions"), "%s", str(n0, "why"));
    cr_assert_null(strstr(str(n0, "why"), "XXXX"));
    json_decref(t);
}
