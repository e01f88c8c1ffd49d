/*
 * test_http_abuse.c - the HTTP server (src/http/) under abuse.
 *
 * Requests sent a byte at a time, cut at every length, random bytes, idle
 * connections (closed after the idle timeout), more connections than
 * allowed, and all of it at once: the server must keep answering a normal
 * GET afterwards. The server and client are http_support.h's.
 */
#include "http_support.h"

TestSuite(http, .init = setup, .fini = stop_server, .timeout = 120);

/* ---------------------------------------------------------------- abuse */

Test(http, single_bytes_slowly) {
    start_default();
    client *c = client_open();
    for (size_t i = 0; i < sizeof get_req - 1; i++) {
        cr_assert(send_bytes(c, get_req + i, 1));
        usleep(2000);
    }
    expect_get_reply(c);
    client_close(c);
}

Test(http, truncated_at_every_length) {
    start_default();
    size_t n = sizeof get_req - 1;
    for (size_t len = 0; len < n; len++) {
        /* Closed abruptly... */
        client *c = client_open();
        send_bytes(c, get_req, len);
        client_close(c);
        /* ...and half-closed: the server ends the connection too. */
        c = client_open();
        send_bytes(c, get_req, len);
        shutdown(c->fd, SHUT_WR);
        cr_assert(ends_without_data(c), "open after %zu bytes and EOF", len);
        client_close(c);
    }
    /* Half-closed after a whole request: the answer still comes. */
    client *c = client_open();
    send_str(c, get_req);
    shutdown(c->fd, SHUT_WR);
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 200);
    resp_free(&r);
    cr_assert(ends_without_data(c));
    client_close(c);
    cr_assert_eq(atomic_load(&fx.calls), 1);
    assert_alive();
}

Test(http, random_bytes) {
    start_default();
    unsigned seed = 12345;
    for (int i = 0; i < 300; i++) {
        char junk[512];
        size_t n = 1 + (size_t)rand_r(&seed) % sizeof junk;
        /* Half the time after a valid request line, to get deeper. */
        size_t at = 0;
        if (i % 2) {
            at = strlen("GET / HTTP/1.1\r\n");
            memcpy(junk, "GET / HTTP/1.1\r\n", at);
            if (n < at)
                n = at + 1;
        }
        for (size_t k = at; k < n; k++)
            junk[k] = (char)(rand_r(&seed) & 0xff);
        client *c = client_open();
        send_bytes(c, junk, n);
        if (i % 3 == 0)
            shutdown(c->fd, SHUT_WR);
        client_close(c);
    }
    assert_alive();
}

Test(http, idle_timeout) {
    rp_http_limits l;
    rp_http_limits_default(&l);
    l.idle_timeout_ms = 200;
    start_server(&l);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    client *idle = client_open();
    client *partial = client_open();
    client *dripping = client_open();
    send_str(partial, "GET /half HTTP/1.1\r\n");
    /* Sending a byte now and then is not a complete request. */
    for (int i = 0; i < 5; i++) {
        send_bytes(dripping, "GET /" + i, 1);
        usleep(100 * 1000);
    }
    cr_assert(ends_without_data(idle));
    cr_assert(ends_without_data(partial));
    cr_assert(ends_without_data(dripping));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(secs, 3.0, "closed after %.2f s", secs);
    client_close(idle);
    client_close(partial);
    client_close(dripping);

    /* After a response, idle again: the clock restarted. */
    client *c = client_open();
    send_str(c, get_req);
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    resp_free(&r);
    cr_assert(ends_without_data(c));
    client_close(c);
    assert_alive();
}

Test(http, max_connections) {
    rp_http_limits l;
    rp_http_limits_default(&l);
    l.max_connections = 3;
    l.idle_timeout_ms = 10000;
    start_server(&l);
    client *cs[3];
    resp r;
    for (int i = 0; i < 3; i++) {
        cs[i] = client_open();
        send_str(cs[i], get_req);
        cr_assert_eq(read_response(cs[i], &r, false), 0);
        cr_assert_eq(r.status, 200);
        resp_free(&r);
    }
    /* The fourth is told to come back later, then closed. */
    for (int i = 0; i < 2; i++) {
        client *extra = client_open();
        send_str(extra, get_req);
        cr_assert_eq(read_response(extra, &r, false), 0);
        cr_assert_eq(r.status, 503);
        cr_assert_str_eq(find_header(&r, "Connection"), "close");
        cr_assert(ends_without_data(extra));
        resp_free(&r);
        client_close(extra);
    }
    /* The first three still work. */
    for (int i = 0; i < 3; i++) {
        send_str(cs[i], get_req);
        cr_assert_eq(read_response(cs[i], &r, false), 0);
        cr_assert_eq(r.status, 200);
        resp_free(&r);
    }
    /* A closed one frees its place (noticed asynchronously). */
    client_close(cs[0]);
    int status = 0;
    for (int tries = 0; tries < 100 && status != 200; tries++) {
        usleep(20 * 1000);
        client *c = client_open();
        send_str(c, get_req);
        if (read_response(c, &r, false) == 0) {
            status = r.status;
            resp_free(&r);
        }
        client_close(c);
    }
    cr_assert_eq(status, 200);
    client_close(cs[1]);
    client_close(cs[2]);
}

Test(http, survives_everything) {
    start_default();
    const char *abuse[] = {
        "POST / HTTP/1.1\r\n\r\n",
        "garbage\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "GET /%zz HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
    };
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof abuse / sizeof abuse[0]; i++) {
            client *c = client_open();
            send_str(c, abuse[i]);
            resp r;
            if (read_response(c, &r, false) == 0)
                resp_free(&r);
            client_close(c);
        }
        /* Connections dropped in the middle of a big response. */
        client *c = client_open();
        send_str(c, "GET /big HTTP/1.1\r\n\r\n");
        usleep(10 * 1000);
        client_close(c);
    }
    assert_alive();
}
