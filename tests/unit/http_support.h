/*
 * http_support.h - what the tests of the HTTP server (src/http/) share:
 * test_http.c, test_http_requests.c, test_http_abuse.c and
 * test_http_lifecycle.c.
 *
 * Each test runs its own server (port 0, limits chosen by the test) on a
 * libuv loop in a second thread, with a handler that echoes the method,
 * path and query as JSON (and has a few special paths: /missing answers
 * 404, /big a 1 MB body, /cache its own Cache-Control, /q looks up a query
 * parameter, /close closes the server from inside the handler). The test
 * thread talks to it over plain blocking sockets with receive timeouts, so
 * a broken server makes a test fail rather than hang.
 *
 * The teardown of every test (stop_server, the suite's .fini) closes the
 * server through the loop and requires the loop thread to finish (uv_run
 * returns, so no handle is left) and uv_loop_close to succeed; under
 * AddressSanitizer the test process then also checks that nothing leaked.
 *
 * Everything is static inline (the data static), so that each test
 * program takes what it uses without a warning for the rest. Each program
 * declares the suite itself, with setup and stop_server as its .init and
 * .fini.
 */
#ifndef REPUTE_TEST_HTTP_SUPPORT_H
#define REPUTE_TEST_HTTP_SUPPORT_H

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

#include "loopback.h"

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
static inline void put_json_str(rp_buf *b, const char *s, size_t n) {
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

static inline bool path_is(const rp_http_request *req, const char *p) {
    return req->path.len == strlen(p) &&
           memcmp(req->path.ptr, p, req->path.len) == 0;
}

static inline void finish_deferred(fixture *f) {
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

static inline void on_later(uv_timer_t *t) {
    finish_deferred(t->data);
}

static inline void handler(void *opaque, const rp_http_request *req,
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

static inline void on_stop(uv_async_t *a) {
    fixture *f = a->data;
    rp_http_server_close(f->srv); /* NULL when /close did it already */
    f->srv = NULL;
    finish_deferred(f); /* their connections are gone: this frees them */
    uv_close((uv_handle_t *)&f->later, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static inline void *loop_thread(void *arg) {
    fixture *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return NULL;
}

static inline void start_server(const rp_http_limits *limits) {
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

static inline void start_default(void) {
    rp_http_limits l;
    rp_http_limits_default(&l);
    l.idle_timeout_ms = 10000;
    start_server(&l);
}

/* Closes the server through the loop; the loop must then end by itself. */
static inline void stop_server(void) {
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

static inline void setup(void) {
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

static inline int connect_port(int port) {
    int fd = loopback_connect(port, RECV_TIMEOUT_S);
    struct timeval tv = {RECV_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline client *client_open(void) {
    client *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    c->fd = connect_port(fx.port);
    return c;
}

static inline void client_close(client *c) {
    if (!c)
        return;
    close(c->fd);
    free(c->buf);
    free(c);
}

/* Sends everything, or returns false when the server has closed. */
static inline bool send_bytes(client *c, const void *p, size_t n) {
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

static inline bool send_str(client *c, const char *s) {
    return send_bytes(c, s, strlen(s));
}

/* Receives more bytes: > 0 read, 0 EOF, < 0 error or timeout. */
static inline ssize_t client_fill(client *c) {
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

static inline const char *find_header(const resp *r, const char *name) {
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

static inline int count_header(const resp *r, const char *name) {
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
static inline int read_response(client *c, resp *r, bool head_request) {
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

static inline void resp_free(resp *r) {
    free(r->body);
    r->body = NULL;
}

/* True when the server closes the connection (EOF or reset) without
 * sending anything more, within the receive timeout. */
static inline bool ends_without_data(client *c) {
    if (c->len > 0)
        return false;
    ssize_t r = client_fill(c);
    return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* One request on a new connection; returns the response's status. */
static inline int request_status(const char *raw, resp *r) {
    client *c = client_open();
    send_str(c, raw);
    int rc = read_response(c, r, false);
    cr_assert_eq(rc, 0, "no response to %.60s", raw);
    client_close(c);
    return r->status;
}

/* The server answers a normal GET on a new connection. */
static inline void assert_alive(void) {
    resp r;
    cr_assert_eq(request_status("GET /alive HTTP/1.1\r\nHost: t\r\n\r\n", &r),
                 200);
    cr_assert_str_eq(r.body, "{\"method\":\"GET\",\"path\":\"/alive\","
                             "\"query\":null}");
    resp_free(&r);
}

/* Expects a final error response with the status, then the end of the
 * connection. */
static inline void expect_error(client *c, int status) {
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
static inline void expect_get_reply(client *c) {
    resp r;
    cr_assert_eq(read_response(c, &r, false), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, get_body);
    resp_free(&r);
}

#endif
