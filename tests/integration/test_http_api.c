/*
 * test_http_api.c - the HTTP endpoints of `repute run` (docs/http.md),
 * against `repute run --embedded` fed with the bundled example
 * (examples/review-and-pause.jsonl), where acme ends SENDING_PAUSED on its
 * bounce rate, acme-marketing PENDING_END_OF_REVIEW_DECISION and globex
 * HEALTHY again after a report review.
 *
 * The requests go over plain sockets, so that malformed and oversized
 * ones can be sent too: each gets a clear 4xx and the server keeps
 * answering. JSON bodies are parsed with jansson; /metrics is checked line
 * by line against the Prometheus text format.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "support.h"

TestSuite(http_api, .fini = it_fini, .timeout = 240);

/* ------------------------------------------------------------ client */

typedef struct reply {
    int status;
    char *head; /* status line and headers */
    char *body;
} reply;

static void reply_free(reply *r) {
    free(r->head);
    r->head = r->body = NULL;
}

/* Sends raw bytes on a new connection and reads until the server closes
 * it (every request sent here asks for Connection: close, or is one the
 * server closes after answering). */
static reply raw(int port, const char *req, size_t len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0,
                 "cannot connect to the HTTP port %d", port);
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may close early on an oversized request */
        off += (size_t)w;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    reply rep = {0, buf, NULL};
    sscanf(buf, "HTTP/1.%*d %d", &rep.status);
    char *sep = strstr(buf, "\r\n\r\n");
    if (sep) {
        *sep = '\0';
        rep.body = sep + 4;
    } else {
        rep.body = buf + n;
    }
    return rep;
}

static reply get(int port, const char *path) {
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: "
                     "close\r\n\r\n",
                     path);
    return raw(port, req, (size_t)n);
}

static json_t *get_json(int port, const char *path, int want_status) {
    reply r = get(port, path);
    cr_assert_eq(r.status, want_status, "GET %s: status %d, want %d (%s)", path,
                 r.status, want_status, r.body);
    cr_assert(strstr(r.head, "Content-Type: application/json"),
              "GET %s: not JSON: %s", path, r.head);
    json_error_t err;
    json_t *j = json_loads(r.body, 0, &err);
    cr_assert_not_null(j, "GET %s: invalid JSON (%s): %s", path, err.text,
                       r.body);
    reply_free(&r);
    return j;
}

static void still_up(int port) {
    reply r = get(port, "/healthz");
    cr_assert_eq(r.status, 200, "the server stopped answering");
    reply_free(&r);
}

/* ------------------------------------------------------------ setup */

static int http_port(it_proc *p) {
    double end = it_now() + 30;
    for (;;) {
        FILE *f = fopen(p->err, "r");
        char line[1024];
        while (f && fgets(line, sizeof(line), f)) {
            char *at = strstr(line, "run: HTTP on ");
            char *colon = at ? strchr(at + 13, ':') : NULL;
            if (colon) {
                fclose(f);
                return atoi(colon + 1);
            }
        }
        if (f)
            fclose(f);
        cr_assert(it_now() < end && it_alive(p),
                  "repute run logged no \"run: HTTP on\" line (%s)", p->err);
        it_sleep(0.05);
    }
}

static it_ctx ctx;
static it_proc *run;
static int port;

/* Starts repute with the example's rules, produces the example and waits
 * until acme is paused. */
static void start(void) {
    it_init_embedded(&ctx, "http_api");
    /* The example's rules instead of the tests' (same file name). */
    char cmd[2 * IT_PATH_MAX];
    snprintf(cmd, sizeof(cmd), "cp %s/examples/review-and-pause.properties %s",
             REPUTE_SOURCE_DIR, ctx.rules);
    cr_assert_eq(system(cmd), 0);
    run = it_start_embedded(&ctx);
    port = http_port(run);
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
         * RELATED_ACCOUNT report through the reports topic. */
        if (paused == 1 && healthy == 2 && pending == 1)
            break;
        cr_assert(it_now() < end, "acme was not paused within 90 s");
        it_sleep(0.2);
    }
}

static void stop(void) {
    it_stop_run(run);
    it_done(&ctx);
}

/* ------------------------------------------------------------ tests */

Test(http_api, endpoints) {
    start();

    reply r = get(port, "/healthz");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "ok\n");
    reply_free(&r);
    r = get(port, "/readyz");
    cr_assert_eq(r.status, 200, "readyz: %d %s", r.status, r.body);
    reply_free(&r);

    /* The summary. */
    json_t *s = get_json(port, "/v1/summary", 200);
    cr_assert(json_is_true(json_object_get(s, "ready")));
    cr_assert_eq(json_array_size(json_object_get(s, "partitions")), 4);
    cr_assert_eq(json_integer_value(json_object_get(s, "accounts")), 4,
                 "accounts: acme, acme-marketing, globex, initech");
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
    cr_assert_eq(json_array_size(a), 2);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(a, 0), "account_id")),
        "acme");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(a, 0), "status")),
        "SENDING_PAUSED");
    cr_assert(
        json_is_real(json_object_get(json_array_get(a, 0), "bounce_rate")));
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(a, 1), "account_id")),
        "acme-marketing");
    cr_assert(json_is_null(json_object_get(l, "next")));
    json_decref(l);
    l = get_json(port, "/v1/accounts?limit=3", 200);
    cr_assert_eq(json_array_size(json_object_get(l, "accounts")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(l, "next")), "globex");
    json_decref(l);
    l = get_json(port, "/v1/accounts?limit=3&after=globex", 200);
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

    /* The reporter of the example's report never appears. */
    r = get(port, "/v1/accounts/globex");
    cr_assert_eq(r.status, 200);
    cr_assert_null(strstr(r.body, "trap-network-7"));
    reply_free(&r);

    /* An account nobody holds; ids are percent-decoded. */
    json_t *nf = get_json(port, "/v1/accounts/no%20such", 404);
    cr_assert_str_eq(json_string_value(json_object_get(nf, "account_id")),
                     "no such");
    cr_assert(json_is_true(json_object_get(nf, "owned")),
              "one instance owns every partition");
    cr_assert(json_is_integer(json_object_get(nf, "partition")));
    json_decref(nf);

    /* Metrics, in the Prometheus text format. */
    r = get(port, "/metrics");
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
    reply_free(&r);
    r = get(port, "/metrics");
    cr_assert(strstr(r.body, "repute_accounts{status=\"SENDING_PAUSED\"} 1\n"));
    cr_assert(strstr(r.body, "repute_dlq_records_total 0\n"));
    cr_assert(strstr(r.body, "repute_ready 1\n"));
    cr_assert(
        strstr(r.body, "repute_commit_duration_seconds_bucket{le=\"+Inf\"}"));
    cr_assert(strstr(r.body, "repute_consumer_lag{topic="));
    cr_assert(strstr(r.body, "repute_status_changes_published_total 6\n"),
              "6 status changes in the example");
    reply_free(&r);

    /* The dashboard's files. */
    r = get(port, "/");
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.head, "Content-Type: text/html"));
    cr_assert(strstr(r.body, "<html") || strstr(r.body, "<!doctype html") ||
              strstr(r.body, "<!DOCTYPE html"));
    reply_free(&r);
    r = get(port, "/nothing-here");
    cr_assert_eq(r.status, 404);
    reply_free(&r);

    /* Bad requests: a clear 4xx each, and the server stays up. */
    static const char garbage[] = "\x16\x03\x01 not http at all\r\n\r\n";
    r = raw(port, garbage, sizeof(garbage) - 1);
    cr_assert_eq(r.status, 400, "garbage: %d", r.status);
    reply_free(&r);
    still_up(port);
    static const char post[] = "POST /v1/accounts HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 2\r\n\r\n{}";
    r = raw(port, post, sizeof(post) - 1);
    cr_assert_eq(r.status, 405, "POST: %d", r.status);
    cr_assert(strstr(r.head, "Allow: GET, HEAD"));
    reply_free(&r);
    still_up(port);
    size_t big = 64 * 1024;
    char *huge = malloc(big + 64);
    int n = snprintf(huge, 64, "GET / HTTP/1.1\r\nX-Big: ");
    memset(huge + n, 'a', big);
    memcpy(huge + n + big, "\r\n\r\n", 4);
    r = raw(port, huge, (size_t)n + big + 4);
    cr_assert(r.status == 431 || r.status == 413, "oversized header: status %d",
              r.status);
    reply_free(&r);
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
