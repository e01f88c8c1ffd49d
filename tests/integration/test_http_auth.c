/*
 * test_http_auth.c - who may use the HTTP API of `repute run`
 * (docs/api-auth.md), over real sockets, against `repute run --embedded`.
 *
 * The tokens are made by `repute token add` (one viewer, one operator)
 * and the certificate by tests/tls/make-ca.sh; every request goes through
 * curl over HTTPS, verifying the server against the test's CA. With tokens
 * set: /healthz, /readyz and the dashboard's files are open, every API
 * page asks for a token (401 with WWW-Authenticate), a viewer reads
 * everything and gets 403 on POST, an operator reaches the actions route
 * (an empty body is a 400 naming the field "action"; the actions
 * themselves are test_http_actions.c's), wrong tokens are
 * counted and, past the burst, answered 429 with Retry-After, and no token
 * appears in any log. Without tokens, POST answers 403 saying how to
 * enable it. At start-up, tokens on a non-loopback address without TLS
 * are refused unless http.allow.plaintext=true, and a bad line of the
 * tokens file is named with its number, before any Kafka connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

TestSuite(http_auth, .fini = it_fini, .timeout = 240);

static char g_ca[IT_PATH_MAX + 16];

typedef struct reply {
    int status;
    char head[4096];
    char body[65536]; /* /metrics grows with every metric added */
} reply;

/* METHOD https://127.0.0.1:port/path with curl (bearer token if not
 * NULL); the response's status, head and body. */
static reply curl(it_ctx *c, int port, const char *method, const char *path,
                  const char *token) {
    static int n;
    char head[IT_PATH_MAX], body[IT_PATH_MAX], cmd[4 * IT_PATH_MAX];
    snprintf(head, sizeof(head), "%s/curl-%d.head", c->dir, ++n);
    snprintf(body, sizeof(body), "%s/curl-%d.body", c->dir, n);
    char auth[200] = "";
    if (token)
        snprintf(auth, sizeof(auth), "-H 'Authorization: Bearer %s'", token);
    snprintf(cmd, sizeof(cmd),
             "curl -s --max-time 20 --cacert %s %s %s %s %s -D %s -o %s "
             "'https://127.0.0.1:%d%s'",
             g_ca, strcmp(method, "HEAD") == 0 ? "-I" : "-X",
             strcmp(method, "HEAD") == 0 ? "" : method,
             strcmp(method, "POST") == 0 ? "-d '{}'" : "", auth, head, body,
             port, path);
    int st = system(cmd);
    cr_assert_eq(st, 0, "curl failed (%d): %s", st, cmd);
    reply r = {0};
    char *h = test_slurp(head, NULL), *b = test_slurp(body, NULL);
    snprintf(r.head, sizeof(r.head), "%s", h ? h : "");
    snprintf(r.body, sizeof(r.body), "%s", b ? b : "");
    cr_assert(!b || strlen(b) < sizeof(r.body),
              "%s %s: a body of %zu bytes, more than the test holds", method,
              path, strlen(b));
    free(h);
    free(b);
    cr_assert_eq(sscanf(r.head, "HTTP/1.1 %d", &r.status), 1, "%s %s: %s",
                 method, path, r.head);
    return r;
}

static void expect(it_ctx *c, int port, const char *method, const char *path,
                   const char *token, int want) {
    reply r = curl(c, port, method, path, token);
    cr_assert_eq(r.status, want, "%s %s (%s): %d, want %d: %s", method, path,
                 token ? "token" : "no token", r.status, want, r.body);
}

/* `repute token add NAME ROLE --file F`; returns the token. Its standard
 * output goes to <dir>/token-NAME.out, the one file that may hold it. */
static void token_add(it_ctx *c, const char *file, const char *name,
                      const char *role, char *out, size_t size) {
    char path[IT_PATH_MAX], cmd[3 * IT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/token-%s.out", c->dir, name);
    snprintf(cmd, sizeof(cmd), "%s token add %s %s --file %s >%s 2>&1",
             REPUTE_BINARY, name, role, file, path);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char *t = test_slurp(path, NULL);
    cr_assert_not_null(t);
    t[strcspn(t, "\n")] = '\0';
    cr_assert_eq(strlen(t), 68, "token: %s", t);
    snprintf(out, size, "%s", t);
    free(t);
}

/* A metric's value in a /metrics text, or -1. */
static long metric(const char *text, const char *series) {
    const char *p = strstr(text, series);
    return p ? strtol(p + strlen(series), NULL, 10) : -1;
}

Test(http_auth, tokens_roles_tls_and_the_limit) {
    it_ctx c;
    it_init_embedded(&c, "http-auth");
    char tls[IT_PATH_MAX - 64], cmd[2 * IT_PATH_MAX], tokens[IT_PATH_MAX];
    snprintf(tls, sizeof(tls), "%s/tls", c.dir);
    snprintf(cmd, sizeof(cmd), "bash %s/tests/tls/make-ca.sh %s >/dev/null",
             REPUTE_SOURCE_DIR, tls);
    cr_assert_eq(system(cmd), 0, "make-ca.sh failed");
    snprintf(g_ca, sizeof(g_ca), "%s/ca.pem", tls);
    snprintf(tokens, sizeof(tokens), "%s/tokens", c.dir);
    char viewer[80], op[80];
    token_add(&c, tokens, "vera", "viewer", viewer, sizeof(viewer));
    token_add(&c, tokens, "otto", "operator", op, sizeof(op));
    cr_assert(!it_file_has(tokens, viewer + 4), "the file holds a token");

    char s_tokens[IT_PATH_MAX + 40], s_cert[IT_PATH_MAX + 40],
        s_key[IT_PATH_MAX + 40];
    snprintf(s_tokens, sizeof(s_tokens), "http.auth.tokens.file=%s", tokens);
    snprintf(s_cert, sizeof(s_cert), "http.tls.cert.location=%s/broker.crt",
             tls);
    snprintf(s_key, sizeof(s_key), "http.tls.key.location=%s/broker.key", tls);
    const char *extra[] = {"--embedded", "--set", s_tokens, "--set",
                           s_cert,       "--set", s_key,    NULL};
    it_proc *run = it_start_run(&c, extra);
    int port = it_http_port(run);
    cr_assert(it_log_has(run, "TLS, 2 tokens"));

    /* Open without a token. */
    reply r = curl(&c, port, "GET", "/healthz", NULL);
    cr_assert_eq(r.status, 200);
    r = curl(&c, port, "GET", "/readyz", NULL);
    cr_assert(r.status == 200 || r.status == 503, "/readyz: %d", r.status);
    r = curl(&c, port, "GET", "/", NULL);
    cr_assert_eq(r.status, 200);
    cr_assert(strcasestr(r.head, "Content-Security-Policy: default-src "
                                 "'none'"),
              "%s", r.head);

    /* Everything else needs a token; a viewer reads it all. */
    /* (No record was produced: acme is not known, a 404 once allowed.) */
    static const char *const pages[] = {
        "/metrics", "/v1/summary", "/v1/accounts", "/v1/accounts/acme", NULL};
    static const int ok[] = {200, 200, 200, 404};
    for (size_t i = 0; pages[i]; i++) {
        r = curl(&c, port, "GET", pages[i], NULL);
        cr_assert_eq(r.status, 401, "%s: %d", pages[i], r.status);
        cr_assert(strcasestr(r.head, "WWW-Authenticate: Bearer realm="
                                     "\"repute\""),
                  "%s", r.head);
        expect(&c, port, "GET", pages[i], viewer, ok[i]);
        expect(&c, port, "HEAD", pages[i], op, ok[i]);
    }

    /* Actions: 401 without a token, 403 for a viewer, and for an operator
     * a 400 naming the missing field. */
    expect(&c, port, "POST", "/v1/accounts/acme/actions", NULL, 401);
    r = curl(&c, port, "POST", "/v1/accounts/acme/actions", viewer);
    cr_assert_eq(r.status, 403);
    cr_assert(strstr(r.body, "vera\\\" has the role viewer"), "%s", r.body);
    r = curl(&c, port, "POST", "/v1/accounts/acme/actions", op);
    cr_assert_eq(r.status, 400, "%d: %s", r.status, r.body);
    cr_assert(strstr(r.body, "\"field\":\"action\""), "%s", r.body);
    expect(&c, port, "POST", "/v1/summary", op, 405);

    /* Plain HTTP on the TLS port gets no HTTP answer. */
    it_reply pr = it_http(port, "GET", "/healthz");
    cr_assert_eq(pr.status, 0, "plain HTTP answered %d", pr.status);
    it_reply_free(&pr);

    /* Wrong tokens: 401, then 429 once the burst is used. */
    int n401 = 0, n429 = 0;
    for (int i = 0; i < 12; i++) {
        char bad[40];
        snprintf(bad, sizeof(bad), "rpt_wrong%d", i);
        r = curl(&c, port, "GET", "/v1/summary", bad);
        n401 += r.status == 401;
        n429 += r.status == 429;
        if (r.status == 429)
            cr_assert(strcasestr(r.head, "Retry-After: "), "%s", r.head);
    }
    cr_assert_eq(n401, 10, "401s: %d", n401);
    cr_assert_eq(n429, 2, "429s: %d", n429);
    /* Refused whatever it sends, until an attempt comes back. */
    expect(&c, port, "GET", "/v1/summary", viewer, 429);
    it_sleep(6.5);
    r = curl(&c, port, "GET", "/metrics", viewer);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(metric(r.body, "repute_http_auth_failures_total{reason="
                                "\"invalid\"} "),
                 10, "%s", r.body);
    cr_assert_eq(metric(r.body, "repute_http_auth_failures_total{reason="
                                "\"rate_limited\"} "),
                 3);
    cr_assert_eq(metric(r.body, "repute_http_auth_failures_total{reason="
                                "\"forbidden\"} "),
                 1);
    cr_assert_geq(metric(r.body, "repute_http_auth_failures_total{reason="
                                 "\"missing\"} "),
                  5);

    it_stop_run(run);
    /* A warning per wrong token, never a token. */
    cr_assert(it_log_has(run, "an invalid token from 127.0.0.1"));
    cr_assert_eq(it_logs_with(c.dir, viewer + 4, NULL, 0), 1,
                 "the viewer's token is in a log other than its own "
                 "`token add` output");
    cr_assert_eq(it_logs_with(c.dir, op + 4, NULL, 0), 1);
    cr_assert_eq(it_logs_with(c.dir, "rpt_wrong", NULL, 0), 0);
    it_assert_clean_log(run);
    it_done(&c);
}

Test(http_auth, without_tokens_post_is_refused_with_how_to_enable) {
    it_ctx c;
    it_init_embedded(&c, "http-auth-off");
    const char *extra[] = {"--embedded", NULL};
    it_proc *run = it_start_run(&c, extra);
    int port = it_http_port(run);
    static const char post[] = "POST /v1/accounts/acme/actions HTTP/1.1\r\n"
                               "Host: x\r\nContent-Length: 2\r\n\r\n{}";
    it_reply r = it_http_raw(port, post, sizeof(post) - 1);
    cr_assert_eq(r.status, 403, "%d", r.status);
    cr_assert(strstr(r.body, "http.auth.tokens.file"), "%s", r.body);
    it_reply_free(&r);
    r = it_http(port, "GET", "/v1/summary");
    cr_assert_eq(r.status, 200);
    it_reply_free(&r);
    it_stop_run(run);
    it_done(&c);
}

Test(http_auth, start_up_refusals) {
    it_ctx c;
    it_init_embedded(&c, "http-auth-start");
    char tokens[IT_PATH_MAX], s_tokens[IT_PATH_MAX + 40];
    snprintf(tokens, sizeof(tokens), "%s/tokens", c.dir);
    char tok[80];
    token_add(&c, tokens, "vera", "viewer", tok, sizeof(tok));
    snprintf(s_tokens, sizeof(s_tokens), "http.auth.tokens.file=%s", tokens);

    /* Tokens on all addresses in clear text: refused, exit status 2. */
    const char *plain[] = {"run",
                           "--set",
                           s_tokens,
                           "--set",
                           "http.listen=0.0.0.0:0",
                           "--set",
                           "kafka.bootstrap.servers=127.0.0.1:1",
                           NULL};
    cr_assert_eq(it_repute(&c, "plain", plain, 30), 2);
    char first[IT_PATH_MAX];
    cr_assert_eq(
        it_logs_with(c.dir, "http.allow.plaintext=true", first, sizeof(first)),
        1);
    cr_assert(strstr(first, "plain.err"), "%s", first);

    /* On purpose: it starts, and still asks for tokens; with
     * http.auth.metrics=false, /metrics is open for a scraper. */
    const char *extra[] = {"--embedded",
                           "--set",
                           s_tokens,
                           "--set",
                           "http.listen=0.0.0.0:0",
                           "--set",
                           "http.allow.plaintext=true",
                           "--set",
                           "http.auth.metrics=false",
                           NULL};
    it_proc *run = it_start_run(&c, extra);
    int port = it_http_port(run);
    it_reply r = it_http(port, "GET", "/v1/summary");
    cr_assert_eq(r.status, 401);
    it_reply_free(&r);
    r = it_http(port, "GET", "/metrics");
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "repute_http_auth_failures_total{reason="
                             "\"missing\"} 1"),
              "%s", r.body);
    it_reply_free(&r);
    it_stop_run(run);

    /* A bad line is named with its number. */
    char bad[IT_PATH_MAX], s_bad[IT_PATH_MAX + 40];
    snprintf(bad, sizeof(bad), "%s/bad-tokens", c.dir);
    it_write_file(bad,
                  "# ok\nvera viewer sha256:%064d\nbob admin "
                  "sha256:%064d\n",
                  1, 2);
    snprintf(s_bad, sizeof(s_bad), "http.auth.tokens.file=%s", bad);
    const char *badrun[] = {
        "run", "--set", s_bad, "--set", "kafka.bootstrap.servers=127.0.0.1:1",
        NULL};
    cr_assert_eq(it_repute(&c, "badline", badrun, 30), 2);
    char want[IT_PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s:3: unknown role for \"bob\"", bad);
    cr_assert_eq(it_logs_with(c.dir, want, NULL, 0), 1, "no log says %s", want);
    it_done(&c);
}
