/*
 * test_http_api.c - the HTTP endpoints of `repute run` (docs/http.md),
 * against `repute run --embedded` fed with the bundled example
 * (examples/review-and-pause.jsonl), where acme ends SENDING_PAUSED on its
 * bounce rate, acme-marketing PENDING_END_OF_REVIEW_DECISION, globex
 * HEALTHY again after a report review, and hooli's tenant promotions
 * SENDING_PAUSED while hooli stays HEALTHY (docs/rules.md section 10): the
 * tenant routes, the tenant in the attention list (a row with its account,
 * not an account of its own) and the tenant metrics are checked on it.
 *
 * The requests go over plain sockets (it_http_raw in http.c), so that
 * malformed and oversized ones can be sent too: each gets a clear 4xx and the
 * server keeps answering. JSON bodies are parsed with jansson; /metrics is
 * checked line by line against the Prometheus text format.
 */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

TestSuite(http_api, .fini = it_fini, .timeout = 240);

/* ------------------------------------------------------------ client */

static json_t *get_json(int port, const char *path, int want_status) {
    it_reply r = it_http(port, "GET", path);
    cr_assert_eq(r.status, want_status, "GET %s: status %d, want %d (%s)", path,
                 r.status, want_status, r.body);
    cr_assert(strstr(r.head, "Content-Type: application/json"),
              "GET %s: not JSON: %s", path, r.head);
    json_error_t err;
    json_t *j = json_loads(r.body, 0, &err);
    cr_assert_not_null(j, "GET %s: invalid JSON (%s): %s", path, err.text,
                       r.body);
    it_reply_free(&r);
    return j;
}

static void still_up(int port) {
    it_reply r = it_http(port, "GET", "/healthz");
    cr_assert_eq(r.status, 200, "the server stopped answering");
    it_reply_free(&r);
}

/* ------------------------------------------------------------ setup */

static it_ctx ctx;
static it_proc *run;
static int port;

/* Starts repute with the example's rules, produces the example and waits
 * until all of it is processed (acme paused, eight status changes: six of
 * accounts, two of hooli's tenant promotions). */
static void start(void) {
    it_init_embedded(&ctx, "http_api");
    /* The example's rules instead of the tests' (same file name). */
    char cmd[2 * IT_PATH_MAX];
    snprintf(cmd, sizeof(cmd), "cp %s/examples/review-and-pause.properties %s",
             REPUTE_SOURCE_DIR, ctx.rules);
    cr_assert_eq(system(cmd), 0);
    run = it_start_embedded(&ctx);
    port = it_http_port(run);
    it_produce_file(&ctx, REPUTE_SOURCE_DIR "/examples/review-and-pause.jsonl",
                    NULL);
    double end = it_now() + 90;
    for (;;) {
        json_t *s = get_json(port, "/v1/summary", 200);
        json_int_t paused = json_integer_value(
            json_object_get(json_object_get(s, "by_status"), "SENDING_PAUSED"));
        json_int_t healthy = json_integer_value(
            json_object_get(json_object_get(s, "by_status"), "HEALTHY"));
        json_int_t pending = json_integer_value(json_object_get(
            json_object_get(s, "by_status"), "PENDING_END_OF_REVIEW_DECISION"));
        json_decref(s);
        /* globex heals last, after acme's pause; acme-marketing gets its
         * RELATED_ACCOUNT report through the reports topic. The four
         * partitions move on their own, so these counts can also hold
         * while globex's partition has not yet reached its review (globex
         * still HEALTHY from the start): wait for all six status changes
         * of the example as well. */
        it_reply m = it_http(port, "GET", "/metrics");
        bool all =
            strstr(m.body, "repute_status_changes_published_total 8\n") != NULL;
        it_reply_free(&m);
        if (paused == 1 && healthy == 3 && pending == 1 && all)
            break;
        cr_assert(it_now() < end,
                  "the example was not processed within 90 s (paused %d, "
                  "healthy %d, pending %d, all eight status changes: %s)",
                  (int)paused, (int)healthy, (int)pending, all ? "yes" : "no");
        it_sleep(0.2);
    }
}

static void stop(void) {
    it_stop_run(run);
    it_done(&ctx);
}

/* ------------------------------------------------------------ tests */

/* hooli HEALTHY with its two tenants listed, promotions paused; the tenant's
 * page in the shape of an account's, with its own notifications. */
static void check_tenants(void) {
    json_t *h = get_json(port, "/v1/accounts/hooli", 200);
    cr_assert_str_eq(json_string_value(json_object_get(h, "status")),
                     "HEALTHY");
    cr_assert(json_is_null(json_object_get(h, "tenant")));
    json_t *ts = json_object_get(h, "tenants");
    cr_assert_eq(json_array_size(ts), 2, "promotions and receipts");
    json_t *t0 = json_array_get(ts, 0);
    cr_assert_str_eq(json_string_value(json_object_get(t0, "tenant")),
                     "promotions", "name order");
    cr_assert_str_eq(json_string_value(json_object_get(t0, "status")),
                     "SENDING_PAUSED");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(ts, 1), "status")),
        "HEALTHY");
    cr_assert_eq(json_array_size(json_object_get(h, "notifications")), 0,
                 "the tenant's notifications are on its own page");
    json_decref(h);

    json_t *t = get_json(port, "/v1/accounts/hooli/tenants/promotions", 200);
    cr_assert_str_eq(json_string_value(json_object_get(t, "account_id")),
                     "hooli");
    cr_assert_str_eq(json_string_value(json_object_get(t, "tenant")),
                     "promotions");
    cr_assert_str_eq(json_string_value(json_object_get(t, "status")),
                     "SENDING_PAUSED");
    cr_assert_str_eq(json_string_value(json_object_get(t, "account_status")),
                     "HEALTHY");
    json_t *b = json_object_get(t, "bounce");
    cr_assert_str_eq(json_string_value(json_object_get(b, "status")),
                     "SENDING_PAUSE");
    cr_assert_gt(json_integer_value(json_object_get(b, "volume")), 0);
    cr_assert(json_is_real(json_object_get(b, "pause_threshold")));
    cr_assert_gt(json_array_size(json_object_get(t, "hours")), 0);
    cr_assert_eq(json_array_size(json_object_get(t, "issues")), 1);
    json_t *notes = json_object_get(t, "notifications");
    cr_assert_geq(json_array_size(notes), 2, "REVIEW_STARTED, SENDING_PAUSED");
    json_t *n0 = json_array_get(notes, 0);
    cr_assert_str_eq(json_string_value(json_object_get(n0, "stage")),
                     "SENDING_PAUSED");
    cr_assert(
        strstr(json_string_value(json_object_get(n0, "why")), "promotions"),
        "the tenant's text names it: %s",
        json_string_value(json_object_get(n0, "why")));
    json_decref(t);

    json_t *nf = get_json(port, "/v1/accounts/hooli/tenants/nope", 404);
    cr_assert_str_eq(json_string_value(json_object_get(nf, "tenant")), "nope");
    json_decref(nf);
    nf = get_json(port, "/v1/accounts/nobody/tenants/promotions", 404);
    cr_assert_str_eq(json_string_value(json_object_get(nf, "account_id")),
                     "nobody");
    json_decref(nf);
    json_decref(get_json(port, "/v1/accounts/hooli/tenants/", 400));
}

Test(http_api, endpoints) {
    start();

    it_reply r = it_http(port, "GET", "/healthz");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "ok\n");
    it_reply_free(&r);
    r = it_http(port, "GET", "/readyz");
    cr_assert_eq(r.status, 200, "readyz: %d %s", r.status, r.body);
    it_reply_free(&r);

    /* The summary. */
    json_t *s = get_json(port, "/v1/summary", 200);
    cr_assert(json_is_true(json_object_get(s, "ready")));
    cr_assert_eq(json_array_size(json_object_get(s, "partitions")), 4);
    cr_assert_eq(json_integer_value(json_object_get(s, "accounts")), 5,
                 "accounts: acme, acme-marketing, globex, hooli, initech");
    cr_assert_eq(json_integer_value(json_object_get(s, "tenants")), 2,
                 "hooli's tenants: promotions, receipts");
    cr_assert_eq(
        json_integer_value(json_object_get(
            json_object_get(s, "tenants_by_status"), "SENDING_PAUSED")),
        1);
    cr_assert_eq(
        json_integer_value(json_object_get(json_object_get(s, "by_status"),
                                           "PENDING_END_OF_REVIEW_DECISION")),
        1);
    cr_assert_float_eq(
        json_real_value(json_object_get(
            json_object_get(json_object_get(s, "thresholds"), "bounce"),
            "pause")),
        0.10, 1e-12);
    json_decref(s);

    /* The accounts that need attention, and pagination. */
    json_t *l = get_json(
        port,
        "/v1/accounts?status=SENDING_PAUSED,PENDING_END_OF_REVIEW_DECISION",
        200);
    json_t *a = json_object_get(l, "accounts");
    cr_assert_eq(json_array_size(a), 3,
                 "acme, acme-marketing, hooli's "
                 "tenant promotions");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(a, 0), "account_id")),
        "acme");
    cr_assert(json_is_null(json_object_get(json_array_get(a, 0), "tenant")));
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(a, 0), "status")),
        "SENDING_PAUSED");
    cr_assert(
        json_is_real(json_object_get(json_array_get(a, 0), "bounce_rate")));
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(a, 1), "account_id")),
        "acme-marketing");
    json_t *t = json_array_get(a, 2);
    cr_assert_str_eq(json_string_value(json_object_get(t, "account_id")),
                     "hooli", "a tenant's row names its account");
    cr_assert_str_eq(json_string_value(json_object_get(t, "tenant")),
                     "promotions");
    cr_assert_str_eq(json_string_value(json_object_get(t, "status")),
                     "SENDING_PAUSED");
    cr_assert(json_is_null(json_object_get(l, "next")));
    json_decref(l);
    /* hooli itself is HEALTHY: not in the attention list. */
    l = get_json(port, "/v1/accounts?status=SENDING_PAUSED&q=hooli", 200);
    cr_assert_eq(json_array_size(json_object_get(l, "accounts")), 1);
    json_decref(l);
    l = get_json(port, "/v1/accounts?limit=3", 200);
    cr_assert_eq(json_array_size(json_object_get(l, "accounts")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(l, "next")), "globex");
    json_decref(l);
    /* After globex: hooli, its paused tenant (HEALTHY tenants are on
     * their account's page only), initech. */
    l = get_json(port, "/v1/accounts?limit=2&after=globex", 200);
    a = json_object_get(l, "accounts");
    cr_assert_eq(json_array_size(a), 2);
    cr_assert(json_is_null(json_object_get(json_array_get(a, 0), "tenant")));
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(a, 1), "tenant")),
        "promotions");
    cr_assert_str_eq(json_string_value(json_object_get(l, "next")), "hooli");
    cr_assert_str_eq(json_string_value(json_object_get(l, "next_tenant")),
                     "promotions");
    json_decref(l);
    l = get_json(
        port, "/v1/accounts?limit=3&after=hooli&after_tenant=promotions", 200);
    cr_assert_eq(json_array_size(json_object_get(l, "accounts")), 1);
    cr_assert_str_eq(
        json_string_value(json_object_get(
            json_array_get(json_object_get(l, "accounts"), 0), "account_id")),
        "initech");
    cr_assert(json_is_null(json_object_get(l, "next")));
    json_decref(l);
    l = get_json(port, "/v1/accounts?q=acme&status=HEALTHY", 200);
    cr_assert_eq(json_array_size(json_object_get(l, "accounts")), 0);
    json_decref(l);
    l = get_json(port, "/v1/accounts?status=PAUSED", 400);
    cr_assert(
        strstr(json_string_value(json_object_get(l, "message")), "status"));
    json_decref(l);
    json_decref(get_json(port, "/v1/accounts?limit=0", 400));
    json_decref(get_json(port, "/v1/accounts?limit=abc", 400));

    /* One account, as the dashboard shows it. */
    json_t *acme = get_json(port, "/v1/accounts/acme", 200);
    cr_assert_str_eq(json_string_value(json_object_get(acme, "status")),
                     "SENDING_PAUSED");
    json_t *b = json_object_get(acme, "bounce");
    cr_assert_str_eq(json_string_value(json_object_get(b, "status")),
                     "SENDING_PAUSE");
    cr_assert_geq(json_real_value(json_object_get(b, "rate")), 0.10);
    cr_assert_gt(json_integer_value(json_object_get(b, "volume")), 0);
    cr_assert_eq(json_array_size(json_object_get(acme, "links")), 1);
    cr_assert_gt(json_array_size(json_object_get(acme, "hours")), 0);
    json_t *is = json_object_get(acme, "issues");
    cr_assert_eq(json_array_size(is), 1);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(is, 0), "kind")),
        "BOUNCE_RATE");
    json_t *notes = json_object_get(acme, "notifications");
    cr_assert_geq(json_array_size(notes), 2, "REVIEW_STARTED, SENDING_PAUSED");
    json_t *n0 = json_array_get(notes, 0);
    cr_assert_str_eq(json_string_value(json_object_get(n0, "stage")),
                     "SENDING_PAUSED", "newest first");
    cr_assert_gt(strlen(json_string_value(json_object_get(n0, "why"))), 20);
    cr_assert_gt(json_array_size(json_object_get(n0, "actions")), 0);
    cr_assert_float_eq(json_real_value(json_object_get(n0, "threshold")), 0.10,
                       1e-12);
    json_decref(acme);

    check_tenants();

    /* The reporter of the example's report never appears. */
    r = it_http(port, "GET", "/v1/accounts/globex");
    cr_assert_eq(r.status, 200);
    cr_assert_null(strstr(r.body, "trap-network-7"));
    it_reply_free(&r);

    /* An account nobody holds; ids are percent-decoded. */
    json_t *nf = get_json(port, "/v1/accounts/no%20such", 404);
    cr_assert_str_eq(json_string_value(json_object_get(nf, "account_id")),
                     "no such");
    cr_assert(json_is_true(json_object_get(nf, "owned")),
              "one instance owns every partition");
    cr_assert(json_is_integer(json_object_get(nf, "partition")));
    json_decref(nf);

    /* Metrics, in the Prometheus text format. */
    r = it_http(port, "GET", "/metrics");
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.head, "Content-Type: text/plain; version=0.0.4"));
    regex_t re;
    cr_assert_eq(regcomp(&re,
                         "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-z_]+=\"[^\"]*\""
                         "(,[a-z_]+=\"[^\"]*\")*\\})? [-+0-9.eEInfa]+$",
                         REG_EXTENDED | REG_NOSUB),
                 0);
    char *save = NULL;
    int samples = 0;
    for (char *line = strtok_r(r.body, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        cr_assert_eq(regexec(&re, line, 0, NULL, 0), 0,
                     "not a Prometheus sample line: %s", line);
        samples++;
    }
    regfree(&re);
    cr_assert_gt(samples, 30);
    it_reply_free(&r);
    r = it_http(port, "GET", "/metrics");
    cr_assert(strstr(r.body, "repute_accounts{status=\"SENDING_PAUSED\"} 1\n"));
    cr_assert(strstr(r.body, "repute_dlq_records_total 0\n"));
    cr_assert(strstr(r.body, "repute_ready 1\n"));
    cr_assert(
        strstr(r.body, "repute_commit_duration_seconds_bucket{le=\"+Inf\"}"));
    cr_assert(strstr(r.body, "repute_consumer_lag{topic="));
    cr_assert(strstr(r.body, "repute_build_info{version=\""));
    cr_assert(strstr(r.body, "repute_status_changes_published_total 8\n"),
              "8 status changes in the example");
    cr_assert(strstr(r.body, "repute_tenants{status=\"SENDING_PAUSED\"} 1\n"));
    cr_assert(strstr(r.body, "repute_tenants{status=\"HEALTHY\"} 1\n"));
    cr_assert(strstr(r.body, "repute_tenant_overflows_total 0\n"));
    cr_assert(strstr(r.body, "repute_tenants_forgotten_total 0\n"));
    /* The threads (docs/run.md, "Threads"): whichever applied them, their
     * records add up to those taken from the inputs. */
    cr_assert(strstr(r.body, "\nrepute_threads "));
    cr_assert(strstr(r.body, "repute_thread_busy_ratio{thread=\"0\"} "));
    double by_threads = 0, consumed = 0;
    for (char *line = strtok_r(r.body, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        const char *v = strrchr(line, ' ');
        if (strncmp(line, "repute_thread_records_applied_total{", 36) == 0)
            by_threads += strtod(v, NULL);
        else if (strncmp(line, "repute_records_consumed_total{", 30) == 0)
            consumed += strtod(v, NULL);
    }
    cr_assert_gt(consumed, 0);
    cr_assert_eq(by_threads, consumed, "threads applied %.0f, consumed %.0f",
                 by_threads, consumed);
    it_reply_free(&r);

    /* The dashboard's files. */
    r = it_http(port, "GET", "/");
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.head, "Content-Type: text/html"));
    cr_assert(strstr(r.body, "<html") || strstr(r.body, "<!doctype html") ||
              strstr(r.body, "<!DOCTYPE html"));
    it_reply_free(&r);
    r = it_http(port, "GET", "/nothing-here");
    cr_assert_eq(r.status, 404);
    it_reply_free(&r);

    /* Bad requests: a clear 4xx each, and the server stays up. */
    static const char garbage[] = "\x16\x03\x01 not http at all\r\n\r\n";
    r = it_http_raw(port, garbage, sizeof(garbage) - 1);
    cr_assert_eq(r.status, 400, "garbage: %d", r.status);
    it_reply_free(&r);
    still_up(port);
    static const char post[] = "POST /v1/accounts HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 2\r\n\r\n{}";
    r = it_http_raw(port, post, sizeof(post) - 1);
    cr_assert_eq(r.status, 405, "POST: %d", r.status);
    cr_assert(strstr(r.head, "Allow: GET, HEAD"));
    it_reply_free(&r);
    still_up(port);
    size_t big = 64 * 1024;
    char *huge = malloc(big + 64);
    int n = snprintf(huge, 64, "GET / HTTP/1.1\r\nX-Big: ");
    memset(huge + n, 'a', big);
    memcpy(huge + n + big, "\r\n\r\n", 4);
    r = it_http_raw(port, huge, (size_t)n + big + 4);
    cr_assert(r.status == 431 || r.status == 413, "oversized header: status %d",
              r.status);
    it_reply_free(&r);
    free(huge);
    still_up(port);
    char long_id[600];
    memset(long_id, 'x', sizeof(long_id));
    memcpy(long_id, "/v1/accounts/", 13);
    long_id[sizeof(long_id) - 1] = '\0';
    json_decref(get_json(port, long_id, 400));
    still_up(port);

    stop();
}
