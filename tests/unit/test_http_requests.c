/*
 * test_http_requests.c - the requests the HTTP server (src/http/)
 * refuses and the ones it hands on with a body.
 *
 * Other methods are 405, garbage 400, a long URL 414, too many headers
 * 431, a body where none is allowed 413; a POST reaches the handler with
 * its body and Authorization header, over its limit it is 413, and a
 * small request limit is held to. The server and client are
 * http_support.h's.
 */
#include "http_support.h"

TestSuite(http, .init = setup, .fini = stop_server, .timeout = 120);

/* ---------------------------------------------------------------- refused */

Test(http, other_methods_405) {
    start_default();
    const char *reqs[] = {
        "PATCH /v1/accounts HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
        "PUT /x HTTP/1.1\r\n\r\n", "DELETE /x HTTP/1.1\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\n\r\n", "CONNECT h:443 HTTP/1.1\r\n\r\n"};
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        client *c = client_open();
        send_str(c, reqs[i]);
        resp r;
        cr_assert_eq(read_response(c, &r, false), 0);
        cr_assert_eq(r.status, 405, "%s -> %d", reqs[i], r.status);
        cr_assert_str_eq(find_header(&r, "Allow"), "GET, HEAD, POST");
        cr_assert(ends_without_data(c));
        resp_free(&r);
        client_close(c);
    }
    cr_assert_eq(atomic_load(&fx.calls), 0);
    assert_alive();
}

Test(http, garbage_400) {
    start_default();
    const char *reqs[] = {
        "hello\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS hello */
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "GET * HTTP/1.1\r\n\r\n", /* not from the root: found by fuzz_http */
        "GET *q?a=1 HTTP/1.1\r\n\r\n"};
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        client *c = client_open();
        send_str(c, reqs[i]);
        expect_error(c, 400);
        client_close(c);
    }
    client *c = client_open();
    send_str(c, "GET / HTTP/2.0\r\n\r\n");
    expect_error(c, 505);
    client_close(c);
    /* After a good request on the same connection too. */
    c = client_open();
    send_str(c, get_req);
    send_str(c, "BLAH / HTTP/1.1\r\n\r\n");
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 200);
    resp_free(&r);
    expect_error(c, 400);
    client_close(c);
    assert_alive();
}

Test(http, long_url) {
    start_default();
    size_t n = 100 * 1024;
    char *req = malloc(n + 64);
    cr_assert_not_null(req);
    strcpy(req, "GET /");
    memset(req + 5, 'a', n);
    strcpy(req + 5 + n, " HTTP/1.1\r\n\r\n");
    client *c = client_open();
    send_str(c, req); /* may fail half-way once the server has answered */
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 414);
    resp_free(&r);
    client_close(c);
    free(req);
    cr_assert_eq(atomic_load(&fx.calls), 0);
    assert_alive();
}

Test(http, too_many_headers_431) {
    start_default();
    char req[16384] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 200; i++) {
        char h[32];
        snprintf(h, sizeof h, "X-H%d: %d\r\n", i, i);
        strcat(req, h);
    }
    strcat(req, "\r\n");
    cr_assert_lt(strlen(req), 16384 - 1); /* the count, not the size */
    client *c = client_open();
    send_str(c, req);
    expect_error(c, 431);
    client_close(c);

    /* One header larger than the whole request may be. */
    size_t n = 20000;
    char *big = malloc(n + 64);
    strcpy(big, "GET / HTTP/1.1\r\nX-Big: ");
    size_t at = strlen(big);
    memset(big + at, 'v', n);
    strcpy(big + at + n, "\r\n\r\n");
    c = client_open();
    send_str(c, big);
    expect_error(c, 431);
    client_close(c);
    free(big);

    /* Within the limits: 64 headers of the default are fine. */
    strcpy(req, "GET /h HTTP/1.1\r\n");
    for (int i = 0; i < 64; i++) {
        char h[32];
        snprintf(h, sizeof h, "X-H%d: %d\r\n", i, i);
        strcat(req, h);
    }
    strcat(req, "\r\n");
    resp r;
    cr_assert_eq(request_status(req, &r), 200);
    resp_free(&r);
    cr_assert_eq(atomic_load(&fx.calls), 1);
    assert_alive();
}

Test(http, body_413) {
    start_default();
    client *c = client_open();
    send_str(c, "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    expect_error(c, 413);
    client_close(c);
    c = client_open();
    send_str(c, "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nhello\r\n0\r\n\r\n");
    expect_error(c, 413);
    client_close(c);
    /* An explicit empty body is no body. */
    resp r;
    cr_assert_eq(
        request_status("GET /z HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r),
        200);
    resp_free(&r);
    cr_assert_eq(atomic_load(&fx.calls), 1);
    assert_alive();
}

/* ---------------------------------------------------------------- POST */

static void expect_echo(const char *raw, const char *want) {
    resp r;
    cr_assert_eq(request_status(raw, &r), 200, "%s", raw);
    cr_assert_str_eq(r.body, want);
    resp_free(&r);
}

Test(http, post_reaches_the_handler_with_its_body) {
    start_default();
    expect_echo("POST /echo HTTP/1.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
                "POST auth=null body=\"{\\\"a\\\":1}\"");
    expect_echo("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                "POST auth=null body=\"abcde\"");
    expect_echo("POST /echo HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                "POST auth=null body=\"\"");
    /* Two POSTs on one connection, the second one's body not mixed with
     * the first's. */
    client *c = client_open();
    send_str(c, "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                "POST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\nz");
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_str_eq(r.body, "POST auth=null body=\"abc\"");
    resp_free(&r);
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_str_eq(r.body, "POST auth=null body=\"z\"");
    resp_free(&r);
    client_close(c);
    assert_alive();
}

Test(http, post_body_over_the_limit_413) {
    rp_http_limits l;
    rp_http_limits_default(&l);
    l.max_request_bytes = 256;
    start_server(&l);
    /* Declared too large: refused before the body is sent. */
    client *c = client_open();
    send_str(c, "POST /echo HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
    expect_error(c, 413);
    client_close(c);
    /* Chunked, growing past the limit. */
    char big[600];
    memset(big, 'x', sizeof big);
    c = client_open();
    send_str(c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "258\r\n");
    send_bytes(c, big, sizeof big);
    expect_error(c, 413);
    client_close(c);
    cr_assert_eq(atomic_load(&fx.calls), 0);
    assert_alive();
}

Test(http, authorization_is_handed_on) {
    start_default();
    expect_echo("GET /echo HTTP/1.1\r\nauthorization: Bearer abc\r\n\r\n",
                "GET auth=\"Bearer abc\" body=\"\"");
    expect_echo("GET /echo HTTP/1.1\r\nX-Authorization: no\r\n"
                "Authorizations: no\r\nAuthorization: Bearer x\r\n\r\n",
                "GET auth=\"Bearer x\" body=\"\"");
    /* A name and a value split over many reads. */
    client *c = client_open();
    const char *raw = "GET /echo HTTP/1.1\r\nAuthoriz";
    send_str(c, raw);
    usleep(20000);
    send_str(c, "ation: Bea");
    usleep(20000);
    send_str(c, "rer t1\r\n\r\n");
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_str_eq(r.body, "GET auth=\"Bearer t1\" body=\"\"");
    resp_free(&r);
    client_close(c);
    /* Twice is refused: a proxy and repute could pick different ones. */
    c = client_open();
    send_str(c, "GET /echo HTTP/1.1\r\nAuthorization: Bearer a\r\n"
                "Authorization: Bearer b\r\n\r\n");
    expect_error(c, 400);
    client_close(c);
    assert_alive();
}

Test(http, small_request_limit) {
    rp_http_limits l;
    rp_http_limits_default(&l);
    l.max_request_bytes = 100;
    l.max_headers = 3;
    start_server(&l);
    resp r;
    /* Exactly 100 bytes pass; one more byte in a header does not. */
    char pad[74], req[256];
    memset(pad, 'p', 73);
    pad[73] = '\0';
    snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nHost: t\r\n\r\n", pad);
    cr_assert_eq(strlen(req), 100);
    cr_assert_eq(request_status(req, &r), 200);
    resp_free(&r);
    snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nHost: tt\r\n\r\n", pad);
    client *c = client_open();
    send_str(c, req);
    expect_error(c, 431);
    client_close(c);
    c = client_open();
    send_str(c, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
    expect_error(c, 431);
    client_close(c);
    /* Leading empty lines count too, so they cannot go on for ever. */
    c = client_open();
    for (int i = 0; i < 60; i++)
        if (!send_str(c, "\r\n"))
            break;
    expect_error(c, 414);
    client_close(c);
    assert_alive();
}
