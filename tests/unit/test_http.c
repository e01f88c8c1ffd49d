/*
 * test_http.c - the HTTP server of repute/http.h (src/http/).
 *
 * Each test runs its own server (port 0, limits chosen by the test) on a
 * libuv loop in a second thread, with a handler that echoes the method,
 * path and query as JSON (and has a few special paths: /missing answers
 * 404, /big a 1 MB body, /cache its own Cache-Control, /q looks up a query
 * parameter, /close closes the server from inside the handler). The test
 * thread talks to it over plain blocking sockets with receive timeouts, so
 * a broken server makes a test fail rather than hang.
 *
 * The teardown of every test closes the server through the loop and
 * requires the loop thread to finish (uv_run returns, so no handle is left)
 * and uv_loop_close to succeed; under AddressSanitizer the test process
 * then also checks that nothing leaked. Most tests end by checking that the
 * server still answers a normal GET after what they did to it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <uv.h>

#include "repute/http.h"

#define RECV_TIMEOUT_S 5

/* ---------------------------------------------------------------- server */

typedef struct fixture {
    uv_loop_t loop;
    uv_async_t stop;
    rp_http_server *srv; /* touched by the loop thread only once running */
    pthread_t thread;
    bool running;
    int port;
    atomic_int calls;
    const char *bad;  /* a broken promise seen by the handler */
    uv_timer_t later; /* finishes the responses "/later" deferred */
    rp_http_deferred *deferred[8];
    int n_deferred;
} fixture;

static fixture fx;

/* Appends s as a JSON string (enough escaping for the tests' paths). */
static void put_json_str(rp_buf *b, const char *s, size_t n) {
    rp_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            rp_buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            rp_buf_printf(b, "\\u%04x", ch);
        else
            rp_buf_putc(b, (char)ch);
    }
    rp_buf_putc(b, '"');
}

static bool path_is(const rp_http_request *req, const char *p) {
    return req->path.len == strlen(p) &&
           memcmp(req->path.ptr, p, req->path.len) == 0;
}

static void finish_deferred(fixture *f) {
    for (int i = 0; i < f->n_deferred; i++) {
        rp_http_response *r = rp_http_deferred_response(f->deferred[i]);
        if (r) {
            r->status = 202;
            rp_buf_puts(&r->body, "{\"later\":true}");
        }
        rp_http_deferred_finish(f->deferred[i]);
    }
    f->n_deferred = 0;
}

static void on_later(uv_timer_t *t) {
    finish_deferred(t->data);
}

static void handler(void *opaque, const rp_http_request *req,
                    rp_http_response *res) {
    fixture *f = opaque;
    atomic_fetch_add(&f->calls, 1);
    /* The server's promises to every handler (checked by the teardown:
     * Criterion's asserts belong on the test thread). */
    if (!req->path.ptr || req->path.ptr[req->path.len] != '\0' ||
        strlen(req->path.ptr) != req->path.len)
        f->bad = "path not a NUL-terminated string without NULs";
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        strcmp(req->method, "POST") != 0)
        f->bad = "method neither GET, HEAD nor POST";
    if (strcmp(req->method, "POST") != 0 && req->body.len != 0)
        f->bad = "a GET or HEAD with a body";
    if (!req->peer ||
        (req->peer->sa_family != AF_INET && req->peer->sa_family != AF_INET6))
        f->bad = "no client address";
    if (res->status != 200 || strcmp(res->content_type, "application/json") ||
        res->body.len != 0 || res->headers)
        f->bad = "response not preset";

    if (path_is(req, "/missing")) {
        res->status = 404;
        rp_buf_puts(&res->body, "{\"error\":\"not found\"}");
        return;
    }
    if (path_is(req, "/big")) {
        res->content_type = "text/plain";
        for (int i = 0; i < 1024 * 1024 / 64; i++)
            rp_buf_printf(&res->body, "%063d\n", i);
        return;
    }
    if (path_is(req, "/cache")) {
        res->headers = "Cache-Control: max-age=60\r\nX-Test: 1\r\n";
        rp_buf_puts(&res->body, "{}");
        return;
    }
    if (path_is(req, "/q")) {
        char v[16];
        int n = rp_http_query_get(req->query, "name", v, sizeof v);
        rp_buf_printf(&res->body, "{\"rc\":%d,\"value\":", n);
        put_json_str(&res->body, n >= 0 ? v : "", n >= 0 ? (size_t)n : 0);
        rp_buf_putc(&res->body, '}');
        return;
    }
    if (path_is(req, "/echo")) {
        rp_buf_printf(&res->body, "%s auth=", req->method);
        if (req->authorization.ptr)
            put_json_str(&res->body, req->authorization.ptr,
                         req->authorization.len);
        else
            rp_buf_puts(&res->body, "null");
        rp_buf_puts(&res->body, " body=");
        put_json_str(&res->body, req->body.ptr, req->body.len);
        return;
    }
    if (path_is(req, "/later") && f->n_deferred < 8) {
        /* Answered 100 ms later, from a timer, as the API answers an
         * action once Kafka acknowledged it. */
        rp_http_deferred *d = rp_http_response_defer(res);
        if (!d) {
            f->bad = "rp_http_response_defer failed";
            return;
        }
        f->deferred[f->n_deferred++] = d;
        uv_timer_start(&f->later, on_later, 100, 0);
        return;
    }
    if (path_is(req, "/close")) {
        rp_http_server_close(f->srv);
        f->srv = NULL;
        return;
    }
    rp_buf_printf(&res->body, "{\"method\":\"%s\",\"path\":", req->method);
    put_json_str(&res->body, req->path.ptr, req->path.len);
    rp_buf_puts(&res->body, ",\"query\":");
    if (req->query.ptr)
        put_json_str(&res->body, req->query.ptr, req->query.len);
    else
        rp_buf_puts(&res->body, "null");
    rp_buf_putc(&res->body, '}');
}

static void on_stop(uv_async_t *a) {
    fixture *f = a->data;
    rp_http_server_close(f->srv); /* NULL when /close did it already */
    f->srv = NULL;
    finish_deferred(f); /* their connections are gone: this frees them */
    uv_close((uv_handle_t *)&f->later, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_thread(void *arg) {
    fixture *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void start_server(const rp_http_limits *limits) {
    char err[256];
    memset(&fx, 0, sizeof fx);
    cr_assert_eq(uv_loop_init(&fx.loop), 0);
    int rc = rp_http_server_new(&fx.srv, &fx.loop, "127.0.0.1:0", limits,
                                handler, &fx, err, sizeof err);
    cr_assert_eq(rc, 0, "rp_http_server_new: %s", err);
    fx.port = rp_http_server_port(fx.srv);
    cr_assert_gt(fx.port, 0);
    cr_assert_eq(uv_async_init(&fx.loop, &fx.stop, on_stop), 0);
    fx.stop.data = &fx;
    cr_assert_eq(uv_timer_init(&fx.loop, &fx.later), 0);
    fx.later.data = &fx;
    cr_assert_eq(pthread_create(&fx.thread, NULL, loop_thread, &fx), 0);
    fx.running = true;
}

static void start_default(void) {
    rp_http_limits l;
    rp_http_limits_default(&l);
    l.idle_timeout_ms = 10000;
    start_server(&l);
}

/* Closes the server through the loop; the loop must then end by itself. */
static void stop_server(void) {
    if (!fx.running)
        return;
    fx.running = false;
    uv_async_send(&fx.stop);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    int rc = pthread_timedjoin_np(fx.thread, NULL, &ts);
    cr_assert_eq(rc, 0, "the loop did not end after rp_http_server_close");
    cr_assert_eq(uv_loop_close(&fx.loop), 0, "handles left open on the loop");
    cr_assert_null(fx.bad, "handler saw: %s", fx.bad);
}

static void setup(void) {
    /* The client side writes to sockets the server may have closed. */
    signal(SIGPIPE, SIG_IGN);
}

/* ---------------------------------------------------------------- client */

typedef struct client {
    int fd;
    char *buf; /* bytes received and not yet consumed */
    size_t len, cap;
} client;

typedef struct resp {
    int status;
    char head[16384]; /* status line and headers, NUL-terminated */
    char *body;       /* malloc'd, NUL-terminated */
    size_t body_len;
    long content_length; /* -1 when absent */
} resp;

static int connect_port(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {RECV_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0,
                 "connect: %s", strerror(errno));
    return fd;
}

static client *client_open(void) {
    client *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    c->fd = connect_port(fx.port);
    return c;
}

static void client_close(client *c) {
    if (!c)
        return;
    close(c->fd);
    free(c->buf);
    free(c);
}

/* Sends everything, or returns false when the server has closed. */
static bool send_bytes(client *c, const void *p, size_t n) {
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static bool send_str(client *c, const char *s) {
    return send_bytes(c, s, strlen(s));
}

/* Receives more bytes: > 0 read, 0 EOF, < 0 error or timeout. */
static ssize_t client_fill(client *c) {
    if (c->cap - c->len < 65536) {
        c->cap = c->cap ? c->cap * 2 : 131072;
        c->buf = realloc(c->buf, c->cap);
        cr_assert_not_null(c->buf);
    }
    ssize_t r;
    do
        r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    while (r < 0 && errno == EINTR);
    if (r > 0)
        c->len += (size_t)r;
    return r;
}

static const char *find_header(const resp *r, const char *name) {
    static char value[1024];
    size_t n = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2];
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= sizeof value)
                len = sizeof value - 1;
            memcpy(value, v, len);
            value[len] = '\0';
            return value;
        }
    }
    return NULL;
}

static int count_header(const resp *r, const char *name) {
    int n = 0;
    size_t len = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2];
         p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, len) == 0 && p[2 + len] == ':')
            n++;
    return n;
}

/* Reads one response (no body for a HEAD request). Returns 0, or -1 when
 * the connection ended (or timed out) before a whole response. */
static int read_response(client *c, resp *r, bool head_request) {
    memset(r, 0, sizeof *r);
    r->content_length = -1;
    char *end;
    for (;;) {
        if (c->len > 0) {
            c->buf[c->len] = '\0';
            end = memmem(c->buf, c->len, "\r\n\r\n", 4);
            if (end)
                break;
        }
        if (client_fill(c) <= 0)
            return -1;
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    cr_assert_lt(head_len, sizeof r->head);
    memcpy(r->head, c->buf, head_len);
    r->head[head_len] = '\0';
    cr_assert_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1,
                 "bad status line: %s", r->head);
    const char *cl = find_header(r, "Content-Length");
    if (cl)
        r->content_length = strtol(cl, NULL, 10);
    size_t want =
        head_request || r->content_length < 0 ? 0 : (size_t)r->content_length;
    while (c->len < head_len + want)
        if (client_fill(c) <= 0)
            return -1;
    r->body = malloc(want + 1);
    cr_assert_not_null(r->body);
    memcpy(r->body, c->buf + head_len, want);
    r->body[want] = '\0';
    r->body_len = want;
    memmove(c->buf, c->buf + head_len + want, c->len - head_len - want);
    c->len -= head_len + want;
    return 0;
}

static void resp_free(resp *r) {
    free(r->body);
    r->body = NULL;
}

/* True when the server closes the connection (EOF or reset) without
 * sending anything more, within the receive timeout. */
static bool ends_without_data(client *c) {
    if (c->len > 0)
        return false;
    ssize_t r = client_fill(c);
    return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* One request on a new connection; returns the response's status. */
static int request_status(const char *raw, resp *r) {
    client *c = client_open();
    send_str(c, raw);
    int rc = read_response(c, r, false);
    cr_assert_eq(rc, 0, "no response to %.60s", raw);
    client_close(c);
    return r->status;
}

/* The server answers a normal GET on a new connection. */
static void assert_alive(void) {
    resp r;
    cr_assert_eq(request_status("GET /alive HTTP/1.1\r\nHost: t\r\n\r\n", &r),
                 200);
    cr_assert_str_eq(r.body, "{\"method\":\"GET\",\"path\":\"/alive\","
                             "\"query\":null}");
    resp_free(&r);
}

/* Expects a final error response with the status, then the end of the
 * connection. */
static void expect_error(client *c, int status) {
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0, "no %d response", status);
    cr_assert_eq(r.status, status, "got %d, want %d: %s%s", r.status, status,
                 r.head, r.body);
    cr_assert_str_eq(find_header(&r, "Connection"), "close");
    cr_assert_str_eq(find_header(&r, "Content-Type"),
                     "text/plain; charset=utf-8");
    cr_assert_gt(r.body_len, 0, "an error says why");
    cr_assert(ends_without_data(c), "connection left open after %d", status);
    resp_free(&r);
}

static const char get_req[] = "GET /v1/accounts/acme?x=1&y=2 HTTP/1.1\r\n"
                              "Host: localhost\r\nAccept: */*\r\n\r\n";
static const char get_body[] = "{\"method\":\"GET\",\"path\":\"/v1/accounts/"
                               "acme\",\"query\":\"x=1&y=2\"}";

/* Reads one response and checks that it is the 200 that get_req gets. */
static void expect_get_reply(client *c) {
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, get_body);
    resp_free(&r);
}

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
