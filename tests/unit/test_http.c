/*
 * test_http.c - the HTTP server of repute/http.h (src/http/): what
 * it answers.
 *
 * GET and HEAD, keep-alive, HTTP/1.0, pipelined requests, responses a
 * handler defers (in order, and after the client left), a big response to
 * a slow reader, percent-decoded paths and query parameters (through the
 * server and rp_http_query alone). The server, its echoing handler and
 * the blocking client are http_support.h's; most tests end by checking
 * that the server still answers a normal GET after what they did to it.
 */
#include "http_support.h"

TestSuite(http, .init = setup, .fini = stop_server, .timeout = 120);

/* ---------------------------------------------------------------- basics */

Test(http, get) {
    start_default();
    client *c = client_open();
    cr_assert(send_str(c, get_req));
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert(strncmp(r.head, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", r.head);
    cr_assert_str_eq(find_header(&r, "Content-Type"), "application/json");
    cr_assert_eq(r.content_length, (long)strlen(get_body));
    cr_assert_str_eq(r.body, get_body);
    cr_assert_str_eq(find_header(&r, "X-Content-Type-Options"), "nosniff");
    cr_assert_str_eq(find_header(&r, "Cache-Control"), "no-store");
    cr_assert_null(find_header(&r, "Connection"));
    resp_free(&r);

    /* A status set by the handler. */
    cr_assert(send_str(c, "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"));
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert(strncmp(r.head, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    cr_assert_str_eq(r.body, "{\"error\":\"not found\"}");
    resp_free(&r);

    /* Extra headers from the handler; its Cache-Control replaces ours. */
    cr_assert(send_str(c, "GET /cache HTTP/1.1\r\nHost: t\r\n\r\n"));
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(count_header(&r, "Cache-Control"), 1);
    cr_assert_str_eq(find_header(&r, "Cache-Control"), "max-age=60");
    cr_assert_str_eq(find_header(&r, "X-Test"), "1");
    resp_free(&r);
    client_close(c);
    cr_assert_eq(atomic_load(&fx.calls), 3);
}

Test(http, head) {
    start_default();
    client *c = client_open();
    cr_assert(send_str(c, "HEAD /v1/accounts/acme?x=1&y=2 HTTP/1.1\r\n"
                          "Host: t\r\n\r\n"));
    resp r;
    cr_assert_eq(read_response(c, &r, true), 0);
    cr_assert_eq(r.status, 200);
    /* The length of the GET body with "HEAD" in it: same length. */
    cr_assert_eq(r.content_length, (long)strlen(get_body) + 1);
    resp_free(&r);
    /* No body bytes follow: the next response starts right away. */
    cr_assert(send_str(c, get_req));
    expect_get_reply(c);
    client_close(c);
}

Test(http, keep_alive) {
    start_default();
    client *c = client_open();
    for (int i = 0; i < 2; i++) {
        cr_assert(send_str(c, get_req));
        expect_get_reply(c);
    }
    /* Connection: close is honoured. */
    cr_assert(send_str(c, "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n"));
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(find_header(&r, "Connection"), "close");
    cr_assert(ends_without_data(c));
    resp_free(&r);
    client_close(c);
}

Test(http, http10) {
    start_default();
    client *c = client_open();
    cr_assert(send_str(c, "GET /a HTTP/1.0\r\n\r\n"));
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(find_header(&r, "Connection"), "close");
    cr_assert(ends_without_data(c));
    resp_free(&r);
    client_close(c);

    c = client_open();
    for (int i = 0; i < 2; i++) {
        cr_assert(send_str(c, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n"
                              "\r\n"));
        cr_assert_eq(read_response(c, &r, false), 0);
        cr_assert_str_eq(find_header(&r, "Connection"), "keep-alive");
        resp_free(&r);
    }
    client_close(c);
}

Test(http, pipelined) {
    start_default();
    client *c = client_open();
    /* Ten requests in one write, answered in order, the last closes. */
    char all[4096] = "";
    for (int i = 0; i < 10; i++) {
        char one[128];
        snprintf(one, sizeof one, "%s /p%d HTTP/1.1\r\nHost: t\r\n%s\r\n",
                 i == 4 ? "HEAD" : "GET", i,
                 i == 9 ? "Connection: close\r\n" : "");
        strcat(all, one);
    }
    cr_assert(send_str(c, all));
    for (int i = 0; i < 10; i++) {
        resp r;
        cr_assert_eq(read_response(c, &r, i == 4), 0, "response %d", i);
        char want[128];
        snprintf(want, sizeof want, "\"path\":\"/p%d\"", i);
        if (i != 4)
            cr_assert_not_null(strstr(r.body, want), "response %d: %s", i,
                               r.body);
        resp_free(&r);
    }
    cr_assert(ends_without_data(c));
    client_close(c);
    assert_alive();
}

Test(http, deferred_response_keeps_the_order) {
    start_default();
    client *c = client_open();
    /* The first is answered later; the second, pipelined behind it, must
     * wait for it. */
    cr_assert(send_str(c, "GET /later HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /p1 HTTP/1.1\r\nHost: t\r\n"
                          "Connection: close\r\n\r\n"));
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 202);
    cr_assert_str_eq(r.body, "{\"later\":true}");
    resp_free(&r);
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"path\":\"/p1\""), "%s", r.body);
    resp_free(&r);
    cr_assert(ends_without_data(c));
    client_close(c);
    assert_alive();
}

Test(http, deferred_response_after_the_client_left) {
    start_default();
    client *c = client_open();
    cr_assert(send_str(c, "GET /later HTTP/1.1\r\nHost: t\r\n\r\n"));
    usleep(20000);
    client_close(c); /* gone before the answer: finishing only frees */
    usleep(300000);
    assert_alive();
}

Test(http, big_response_slow_reader) {
    start_default();
    client *c = client_open();
    /* Two pipelined requests for 1 MB each: the second waits for the
     * first, which the client reads slowly. */
    cr_assert(
        send_str(c, "GET /big HTTP/1.1\r\n\r\nGET /big HTTP/1.1\r\n\r\n"));
    usleep(200 * 1000);
    for (int i = 0; i < 2; i++) {
        resp r;
        cr_assert_eq(read_response(c, &r, false), 0);
        cr_assert_eq(r.status, 200);
        cr_assert_eq(r.body_len, 1024 * 1024);
        char last[65];
        snprintf(last, sizeof last, "%063d\n", 1024 * 1024 / 64 - 1);
        cr_assert(memcmp(r.body + r.body_len - 64, last, 64) == 0);
        resp_free(&r);
    }
    client_close(c);
    assert_alive();
}

/* ---------------------------------------------------------------- paths */

Test(http, percent_decoded_path) {
    start_default();
    resp r;
    cr_assert_eq(request_status("GET /v1/accounts/a%20b%2Fc+d?q=a%20b "
                                "HTTP/1.1\r\n\r\n",
                                &r),
                 200);
    cr_assert_str_eq(r.body, "{\"method\":\"GET\",\"path\":\"/v1/accounts/"
                             "a b/c+d\",\"query\":\"q=a%20b\"}");
    resp_free(&r);
    cr_assert_eq(request_status("GET /%C3%A9t%c3%a9 HTTP/1.1\r\n\r\n", &r),
                 200);
    cr_assert_str_eq(r.body, "{\"method\":\"GET\",\"path\":\"/\xc3\xa9t\xc3\xa9"
                             "\",\"query\":null}");
    resp_free(&r);
    /* Absolute form. */
    cr_assert_eq(request_status("GET http://h:1/abs?z HTTP/1.1\r\n\r\n", &r),
                 200);
    cr_assert_str_eq(r.body,
                     "{\"method\":\"GET\",\"path\":\"/abs\",\"query\":\"z\"}");
    resp_free(&r);

    /* Bad escapes and escaped NULs never reach the handler. */
    const char *bad[] = {
        "GET /a%zz HTTP/1.1\r\n\r\n", "GET /a% HTTP/1.1\r\n\r\n",
        "GET /a%4 HTTP/1.1\r\n\r\n", "GET /a%00b HTTP/1.1\r\n\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        client *c = client_open();
        send_str(c, bad[i]);
        expect_error(c, 400);
        client_close(c);
    }
    cr_assert_eq(atomic_load(&fx.calls), 3);
    assert_alive();
}

Test(http, query_through_server) {
    start_default();
    resp r;
    cr_assert_eq(request_status("GET /q?a=1&name=x+y%21 HTTP/1.1\r\n\r\n", &r),
                 200);
    cr_assert_str_eq(r.body, "{\"rc\":4,\"value\":\"x y!\"}");
    resp_free(&r);
    cr_assert_eq(request_status("GET /q HTTP/1.1\r\n\r\n", &r), 200);
    cr_assert_str_eq(r.body, "{\"rc\":-8,\"value\":\"\"}");
    resp_free(&r);
}

/* ---------------------------------------------------------------- query */

static rp_str q(const char *s) {
    return rp_str_c(s);
}

Test(http_query, found) {
    char v[32];
    cr_assert_eq(rp_http_query_get(q("a=1&b=22&c"), "b", v, sizeof v), 2);
    cr_assert_str_eq(v, "22");
    cr_assert_eq(rp_http_query_get(q("a=1&b=22&c"), "a", v, sizeof v), 1);
    cr_assert_str_eq(v, "1");
    /* A parameter without '=' has the empty value, as has "d=". */
    cr_assert_eq(rp_http_query_get(q("a=1&b=22&c"), "c", v, sizeof v), 0);
    cr_assert_str_eq(v, "");
    cr_assert_eq(rp_http_query_get(q("d=&e=1"), "d", v, sizeof v), 0);
    /* The first of repeated parameters; empty pieces are skipped. */
    cr_assert_eq(rp_http_query_get(q("&&x=first&x=second"), "x", v, sizeof v),
                 5);
    cr_assert_str_eq(v, "first");
    /* A value may hold '='. */
    cr_assert_eq(rp_http_query_get(q("k=a=b"), "k", v, sizeof v), 3);
    cr_assert_str_eq(v, "a=b");
    /* Not NUL-terminated input: only len counts. */
    rp_str part = {"name=abcdef", 8};
    cr_assert_eq(rp_http_query_get(part, "name", v, sizeof v), 3);
    cr_assert_str_eq(v, "abc");
}

Test(http_query, decoding) {
    char v[32];
    cr_assert_eq(rp_http_query_get(q("s=a+b%20c%2Bd%26e"), "s", v, sizeof v),
                 9);
    cr_assert_str_eq(v, "a b c+d&e");
    cr_assert_eq(rp_http_query_get(q("s=%C3%A9"), "s", v, sizeof v), 2);
    cr_assert_str_eq(v, "\xc3\xa9");
    /* A '%' without two hex digits stays as it is. */
    cr_assert_eq(rp_http_query_get(q("s=100%&t=%zz%4"), "s", v, sizeof v), 4);
    cr_assert_str_eq(v, "100%");
    cr_assert_eq(rp_http_query_get(q("s=100%&t=%zz%4"), "t", v, sizeof v), 5);
    cr_assert_str_eq(v, "%zz%4");
    /* Keys are compared decoded. */
    cr_assert_eq(
        rp_http_query_get(q("my+key=1&o%74her=2"), "my key", v, sizeof v), 1);
    cr_assert_eq(
        rp_http_query_get(q("my+key=1&o%74her=2"), "other", v, sizeof v), 1);
    cr_assert_str_eq(v, "2");
    /* %00 decodes to a NUL: the length tells. */
    cr_assert_eq(rp_http_query_get(q("n=a%00b"), "n", v, sizeof v), 3);
    cr_assert_eq(memcmp(v, "a\0b", 4), 0);
}

Test(http_query, missing) {
    char v[8] = "junk";
    cr_assert_eq(rp_http_query_get(q("a=1&b=2"), "c", v, sizeof v),
                 RP_ENOTFOUND);
    cr_assert_str_eq(v, "");
    cr_assert_eq(rp_http_query_get(q("ab=1"), "a", v, sizeof v), RP_ENOTFOUND);
    cr_assert_eq(rp_http_query_get(q("a=1"), "ab", v, sizeof v), RP_ENOTFOUND);
    cr_assert_eq(rp_http_query_get(q(""), "a", v, sizeof v), RP_ENOTFOUND);
    cr_assert_eq(rp_http_query_get(RP_STR_NULL, "a", v, sizeof v),
                 RP_ENOTFOUND);
}

Test(http_query, too_long) {
    char v[4];
    cr_assert_eq(rp_http_query_get(q("a=abc"), "a", v, sizeof v), 3);
    cr_assert_eq(rp_http_query_get(q("a=abcd"), "a", v, sizeof v), RP_ENOSPACE);
    cr_assert_str_eq(v, "");
    /* Decoded length counts: "%41%42%43" is 3 bytes and fits. */
    cr_assert_eq(rp_http_query_get(q("a=%41%42%43"), "a", v, sizeof v), 3);
    cr_assert_str_eq(v, "ABC");
    cr_assert_eq(rp_http_query_get(q("a="), "a", v, 1), 0);
    cr_assert_eq(rp_http_query_get(q("a=x"), "a", v, 1), RP_ENOSPACE);
    cr_assert_eq(rp_http_query_get(q("a="), "a", NULL, 0), RP_ENOSPACE);
}
