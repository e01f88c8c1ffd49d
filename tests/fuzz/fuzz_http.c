/*
 * fuzz_http.c - the HTTP request path (src/http/), driven through
 * the real server.
 *
 * One server (port 0 on 127.0.0.1, small limits so that the fuzzer can
 * reach every one of them) runs on a loop of this thread for the whole
 * run. Each input is one client connection: the first two bytes choose
 * two split points and the rest is written in up to three chunks, with a
 * turn of the loop between them, so that requests, header lines and
 * escapes arrive cut at arbitrary places as they do over a network. The
 * client then half-closes, reads everything the server answers until the
 * server closes, and resets the connection; the loop turns until the
 * server has freed the connection. Everything is non-blocking and runs on
 * this one thread, so an input costs a connect and a few loop turns (no
 * threads, no sleeps) and the run is deterministic enough for libFuzzer.
 *
 * The handler answers from the path: "/s/NNN" sets status NNN (also
 * invalid ones, which the server must turn into a 500), "/q" looks query
 * parameters up with rp_http_query_get() into a small buffer, "/c" sets
 * its own Cache-Control, "/big" writes a body larger than a socket write,
 * "/act" checks the body as an operator's action (rp_api_action_parse, as
 * POST /v1/accounts/{id}/actions does: 202 or 400), "/d" defers its
 * response (repute/http.h), which a timer finishes on a later loop turn,
 * as the API answers an action once Kafka acknowledged it (the connection
 * may be gone by then); anything else echoes the path.
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - the handler gets only GET or HEAD, and a path that starts with '/'
 *    and holds no NUL byte (its length is its strlen);
 *  - the server finishes every connection: once the client has sent
 *    everything and half-closed, the server answers and closes within a
 *    bounded time, and after the reset it frees the connection (only the
 *    listener and the deferring timer are left on the loop, and every
 *    deferred response is finished), so nothing is leaked per connection;
 *  - an action body the parser accepts has a known action and a note of
 *    at most RP_API_NOTE_MAX bytes; a refusal names its field;
 *  - what comes back parses as HTTP/1.1 responses: one per handler call,
 *    in order, each with the status the handler set (500 for an invalid
 *    one), plus at most one more, an error the server sent by itself, with
 *    a 4xx/5xx status from the documented list.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <http_parser.h>

#include "repute/api.h"
#include "repute/auth.h"
#include "repute/http.h"

#define MAX_CALLS     2048
#define DEADLINE_NS   (10 * 1000000000LL)
#define BIG_BODY_SIZE (256 * 1024)

static uv_loop_t loop;
static rp_http_server *server;
static struct sockaddr_in server_addr;

/* Responses deferred by "/d", finished by `later` on a later turn. */
#define MAX_DEFERRED 64
static uv_timer_t later;
static rp_http_deferred *deferred[MAX_DEFERRED];
static int n_deferred;

static void on_later(uv_timer_t *t) {
    (void)t;
    for (int i = 0; i < n_deferred; i++) {
        rp_http_response *res = rp_http_deferred_response(deferred[i]);
        if (res) {
            res->status = 202;
            rp_buf_puts(&res->body, "deferred\n");
        }
        rp_http_deferred_finish(deferred[i]);
    }
    n_deferred = 0;
}

/* "/act": the body as an operator's action. */
static void action(const rp_http_request *req, rp_http_response *res) {
    static rp_api_action_body b;
    char field[64] = "", msg[512] = "";
    int rc = rp_api_action_parse(&b, req->body.ptr, req->body.len,
                                 rp_str_c("acme"), RP_STR_NULL, "fuzzer", 0,
                                 field, sizeof(field), msg, sizeof(msg));
    FUZZ_CHECK(rc == 0 || rc == RP_EINVAL, "rp_api_action_parse gave %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(field[0] && msg[0], "a refusal without field or reason");
        res->status = 400;
        rp_buf_puts(&res->body, field);
        return;
    }
    const rp_action *a = &b.rec.u.action;
    FUZZ_CHECK((int)a->action >= 0 && a->action < RP_ACTION__COUNT, "action %d",
               (int)a->action);
    FUZZ_CHECK(!a->note.ptr || a->note.len <= RP_API_NOTE_MAX, "a note of %zu",
               a->note.len);
    res->status = 202;
}

/* What the handler saw for the current connection, in order. */
static int n_calls;
static int call_status[MAX_CALLS];
static bool call_head[MAX_CALLS];

static void handler(void *opaque, const rp_http_request *req,
                    rp_http_response *res) {
    (void)opaque;
    bool head = strcmp(req->method, "HEAD") == 0;
    bool post = strcmp(req->method, "POST") == 0;
    FUZZ_CHECK(head || post || strcmp(req->method, "GET") == 0, "method %s",
               req->method);
    FUZZ_CHECK(post || req->body.len == 0, "a %s with a body", req->method);
    FUZZ_CHECK(req->body.len <= 2048, "a body of %zu bytes over the limit",
               req->body.len);
    FUZZ_CHECK(!req->authorization.ptr || req->authorization.len <= 2048,
               "an Authorization of %zu bytes over the limit",
               req->authorization.len);
    FUZZ_CHECK(req->path.ptr && req->path.len > 0 && req->path.ptr[0] == '/',
               "path does not start with '/'");
    FUZZ_CHECK(strlen(req->path.ptr) == req->path.len,
               "path of %zu bytes holds a NUL byte", req->path.len);

    const char *path = req->path.ptr;
    if (strncmp(path, "/s/", 3) == 0) {
        res->status = atoi(path + 3);
    } else if (strcmp(path, "/q") == 0) {
        static const char *const names[] = {"a", "account", "", "a b", "%"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            char out[16];
            int n = rp_http_query_get(req->query, names[i], out, sizeof(out));
            FUZZ_CHECK(n == RP_ENOTFOUND || n == RP_ENOSPACE ||
                           (n >= 0 && (size_t)n < sizeof(out) && out[n] == 0),
                       "rp_http_query_get gave %d", n);
            rp_buf_printf(&res->body, "%d ", n);
        }
    } else if (strcmp(path, "/a") == 0) {
        /* The API's bearer parsing on whatever arrived. */
        const char *tok;
        size_t n;
        if (req->authorization.ptr &&
            rp_auth_bearer(req->authorization.ptr, req->authorization.len, &tok,
                           &n)) {
            FUZZ_CHECK(n > 0 && tok >= req->authorization.ptr &&
                           tok + n <=
                               req->authorization.ptr + req->authorization.len,
                       "bearer token outside the field");
            rp_buf_append(&res->body, tok, n);
        }
    } else if (strcmp(path, "/b") == 0) {
        rp_buf_append(&res->body, req->body.ptr, req->body.len);
    } else if (strcmp(path, "/act") == 0) {
        action(req, res);
    } else if (strcmp(path, "/d") == 0 && n_deferred < MAX_DEFERRED) {
        rp_http_deferred *d = rp_http_response_defer(res);
        FUZZ_CHECK(d != NULL, "rp_http_response_defer failed");
        FUZZ_CHECK(rp_http_response_defer(res) == NULL, "deferred twice");
        deferred[n_deferred++] = d;
        res->status = 202; /* what on_later will answer */
        uv_timer_start(&later, on_later, 0, 0);
    } else if (strcmp(path, "/c") == 0) {
        res->headers = "Cache-Control: max-age=60\r\n";
    } else if (strcmp(path, "/big") == 0) {
        if (rp_buf_reserve(&res->body, BIG_BODY_SIZE) == 0) {
            memset(res->body.data, 'x', BIG_BODY_SIZE);
            res->body.len = BIG_BODY_SIZE;
        }
    } else {
        rp_buf_append(&res->body, req->path.ptr, req->path.len);
    }
    if (n_calls < MAX_CALLS) {
        int s = res->status;
        call_status[n_calls] = s >= 200 && s <= 599 ? s : 500;
        call_head[n_calls] = head;
    }
    n_calls++;
}

static void setup(void) {
    if (server)
        return;
    char e[256];
    rp_http_limits lim;
    rp_http_limits_default(&lim);
    lim.max_request_bytes = 2048;
    lim.max_headers = 8;
    lim.idle_timeout_ms = 60000; /* never the reason a connection ends */
    FUZZ_CHECK(uv_loop_init(&loop) == 0, "uv_loop_init failed");
    int rc = rp_http_server_new(&server, &loop, "127.0.0.1:0", &lim, handler,
                                NULL, e, sizeof(e));
    FUZZ_CHECK(rc == 0, "rp_http_server_new: %s", e);
    FUZZ_CHECK(uv_timer_init(&loop, &later) == 0, "uv_timer_init failed");
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)rp_http_server_port(server));
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void count_handle(uv_handle_t *h, void *arg) {
    (void)h;
    (*(int *)arg)++;
}

static int loop_handles(void) {
    int n = 0;
    uv_walk(&loop, count_handle, &n);
    return n;
}

/* ---------------------------------------------------------------- replies */

/* The state of parsing what the server sent back. */
typedef struct replies {
    int n; /* responses whose headers are complete */
    int statuses[MAX_CALLS + 1];
    bool allowed; /* every server error status is one of the list */
} replies;

static int on_reply_headers(http_parser *p) {
    replies *r = p->data;
    int k = r->n++;
    if (k <= MAX_CALLS)
        r->statuses[k] = (int)p->status_code;
    /* A response to HEAD has the headers of a GET and no body; so has
     * the server's own error to a HEAD request, always the last. */
    if (k < n_calls && k < MAX_CALLS)
        return call_head[k] ? 1 : 0;
    return 0;
}

static bool server_error_status(int s) {
    return s == 400 || s == 405 || s == 413 || s == 414 || s == 431 ||
           s == 500 || s == 503 || s == 505;
}

static void check_replies(const char *buf, size_t len) {
    http_parser p;
    http_parser_settings st = {.on_headers_complete = on_reply_headers};
    replies r = {0};
    /* Beyond MAX_CALLS requests the HEAD flags that tell where a response
     * ends are not known (no input libFuzzer makes comes near it). */
    if (n_calls > MAX_CALLS)
        return;
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = &r;
    size_t done = http_parser_execute(&p, &st, buf, len);
    FUZZ_CHECK(HTTP_PARSER_ERRNO(&p) == HPE_OK && done == len,
               "the server's replies do not parse: %s at %zu of %zu: %.*s",
               http_errno_name(HTTP_PARSER_ERRNO(&p)), done, len, (int)len,
               buf);
    int calls = n_calls < MAX_CALLS ? n_calls : MAX_CALLS;
    FUZZ_CHECK(r.n == n_calls || r.n == n_calls + 1,
               "%d handler calls but %d responses", n_calls, r.n);
    for (int k = 0; k < calls && k < r.n; k++)
        FUZZ_CHECK(r.statuses[k] == call_status[k],
                   "response %d is %d, the handler said %d", k, r.statuses[k],
                   call_status[k]);
    if (r.n == n_calls + 1 && n_calls < MAX_CALLS)
        FUZZ_CHECK(server_error_status(r.statuses[n_calls]),
                   "the server's own response is %d", r.statuses[n_calls]);
}

/* ---------------------------------------------------------------- client */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    setup();
    const char *msg = (const char *)data + 2;
    size_t n = size - 2;
    size_t cut1 = n * data[0] / 256, cut2 = n * data[1] / 256;
    if (cut2 < cut1) {
        size_t t = cut1;
        cut1 = cut2;
        cut2 = t;
    }
    size_t ends[3] = {cut1, cut2, n};
    n_calls = 0;

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
    /* A loopback connect completes in the kernel, before the accept.
     * libFuzzer's timer signal may interrupt it; the connection then goes
     * on, and connecting again says EALREADY until it is there. */
    while (connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) !=
           0) {
        if (errno == EISCONN)
            break;
        FUZZ_CHECK(errno == EINTR || errno == EALREADY, "connect: %s",
                   strerror(errno));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    rp_buf got = {0};
    size_t sent = 0;
    int chunk = 0;
    bool shut = false, eof = false;
    long long deadline = now_ns() + DEADLINE_NS;
    while (!eof) {
        FUZZ_CHECK(now_ns() < deadline,
                   "the server did not finish the connection (%zu of %zu "
                   "bytes sent, %zu received)",
                   sent, n, got.len);
        if (!shut) {
            /* One chunk per loop turn, so that the server reads them
             * apart. */
            size_t want = ends[chunk] - sent;
            ssize_t w =
                want ? send(fd, msg + sent, want, MSG_NOSIGNAL | MSG_DONTWAIT)
                     : 0;
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                sent = n; /* the server closed; nothing more goes out */
            if (sent >= ends[chunk] && chunk < 2)
                chunk++;
            if (sent >= n) {
                shutdown(fd, SHUT_WR);
                shut = true;
            }
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        for (;;) {
            char buf[16384];
            ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (r > 0) {
                FUZZ_CHECK(rp_buf_append(&got, buf, (size_t)r) == 0, "oom");
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                eof = true;
            break;
        }
    }
    /* A reset rather than a FIN: the port is free at once, with no
     * TIME_WAIT left behind by hundreds of connections a second. */
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    while (loop_handles() > 2 || n_deferred > 0) {
        FUZZ_CHECK(now_ns() < deadline, "the server keeps a closed connection");
        uv_run(&loop, UV_RUN_NOWAIT);
    }

    check_replies(got.data ? got.data : "", got.len);
    rp_buf_free(&got);
    return 0;
}
