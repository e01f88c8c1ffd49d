/*
 * test_http_lifecycle.c - starting and stopping the HTTP server
 * (src/http/).
 *
 * A port in use and a bad address are refused with a reason, IPv6 and
 * localhost listen, and the server closes cleanly with connections open
 * and from inside its own handler. The server and client are
 * http_support.h's.
 */
#include "http_support.h"

TestSuite(http, .init = setup, .fini = stop_server, .timeout = 120);

/* ---------------------------------------------------------------- setup */

static void no_call(void *opaque, const rp_http_request *req,
                    rp_http_response *res) {
    (void)opaque;
    (void)req;
    (void)res;
    cr_assert_fail("handler called for a server that failed to start");
}

Test(http, port_in_use) {
    start_default();
    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    char addr[64], err[256] = "unset";
    snprintf(addr, sizeof addr, "127.0.0.1:%d", fx.port);
    rp_http_server *s = (rp_http_server *)1;
    int rc = rp_http_server_new(&s, &loop, addr, NULL, no_call, NULL, err,
                                sizeof err);
    cr_assert_eq(rc, RP_EIO);
    cr_assert_null(s);
    cr_assert_not_null(strstr(err, addr), "%s", err);
    cr_assert_not_null(strstr(err, "in use"), "%s", err);
    /* Nothing was left on the loop. */
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
    assert_alive();
}

Test(http, bad_address) {
    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    const char *bad[] = {"",
                         "127.0.0.1",
                         "127.0.0.1:",
                         "127.0.0.1:65536",
                         "127.0.0.1:-1",
                         "127.0.0.1:80x",
                         "127.0.0.1:123456",
                         "nope:80",
                         "1.2.3:80",
                         ":80",
                         "::1:80",
                         "[::1]80",
                         "[::1:80",
                         "[nope]:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rp_http_server *s = NULL;
        char err[256] = "";
        int rc = rp_http_server_new(&s, &loop, bad[i], NULL, no_call, NULL, err,
                                    sizeof err);
        cr_assert_eq(rc, RP_EINVAL, "\"%s\" -> %d", bad[i], rc);
        cr_assert_null(s);
        cr_assert_not_null(strstr(err, "bad listen address"), "%s", err);
    }
    /* An address that is not this machine's. */
    rp_http_server *s = NULL;
    char err[256] = "";
    cr_assert_eq(rp_http_server_new(&s, &loop, "192.0.2.1:0", NULL, no_call,
                                    NULL, err, sizeof err),
                 RP_EIO);
    cr_assert_not_null(strstr(err, "192.0.2.1:0"), "%s", err);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(http, ipv6_and_localhost) {
    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    const char *good[] = {"localhost:0", "[::1]:0"};
    for (size_t i = 0; i < 2; i++) {
        rp_http_server *s = NULL;
        char err[256] = "";
        int rc = rp_http_server_new(&s, &loop, good[i], NULL, no_call, NULL,
                                    err, sizeof err);
        if (rc == RP_EIO && i == 1)
            continue; /* no IPv6 on this machine */
        cr_assert_eq(rc, 0, "%s: %s", good[i], err);
        cr_assert_gt(rp_http_server_port(s), 0);
        rp_http_server_close(s);
    }
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

/* ---------------------------------------------------------------- shutdown */

Test(http, close_with_connections_open) {
    start_default();
    client *idle = client_open();
    client *kept = client_open();
    client *partial = client_open();
    client *big = client_open();
    resp r;
    send_str(kept, get_req);
    cr_assert_eq(read_response(kept, &r, false), 0);
    resp_free(&r);
    send_str(partial, "GET /half HTTP/1.1\r\nHost:");
    /* A response in flight that the client does not read. */
    send_str(big, "GET /big HTTP/1.1\r\n\r\nGET /big HTTP/1.1\r\n\r\n");
    usleep(100 * 1000);
    stop_server(); /* asserts that the loop ends and nothing is left */
    cr_assert(ends_without_data(idle));
    cr_assert(ends_without_data(kept));
    cr_assert(ends_without_data(partial));
    client_close(idle);
    client_close(kept);
    client_close(partial);
    client_close(big);
}

Test(http, close_from_handler) {
    start_default();
    client *c = client_open();
    send_str(c, "GET /close HTTP/1.1\r\n\r\n");
    /* The response is dropped and the connection closed; the loop thread
     * then still runs for the stop handle, which the teardown closes. */
    cr_assert(ends_without_data(c));
    client_close(c);
    cr_assert_eq(atomic_load(&fx.calls), 1);
}
