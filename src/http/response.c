/*
 * response.c - the responses of repute/http.h: calling the handler,
 * writing what it answers, the errors the server sends by itself, and the
 * end of a connection after its last response.
 *
 * The status line and headers are printed into the conn's `head` buffer
 * and go out with the handler's body in one uv_write of two buffers, so
 * that the body is never copied; both buffers live in the conn and are
 * reused by every response on it. Reading stops while the response is in
 * flight, and the write callback parses on (see conn.h for the whole
 * cycle). Every response carries the headers repute/http.h promises; the
 * server adds `Connection: close` when the connection ends with it, and
 * `Connection: keep-alive` only for an HTTP/1.0 client that asked for it.
 *
 * A handler may defer its response (repute/http.h: the API waits for
 * Kafka's acknowledgement of an action). The conn is then treated as if
 * the response were in flight: `writing` is set and reading stops, so
 * pipelined requests wait their turn and the order of responses holds;
 * finishing the deferred response sends it like any other. The handle
 * outlives the conn if need be: closing the conn unhooks it, and
 * finishing it then only frees it.
 *
 * Closing politely
 * ----------------
 * Closing a socket that still has unread input makes the kernel send a
 * reset, which can destroy the error response before the client has read
 * it (typically the 414 to a client still sending a huge URL). After a final
 * response the server therefore shuts down its sending side and goes on
 * reading, dropping what it reads, until the client closes too or
 * LINGER_MS have passed, as nginx's lingering close does.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http/conn.h"

/* ---------------------------------------------------------------- helpers */

/* True when the extra header lines `lines` hold a field named `name`. */
static bool has_header(const char *lines, const char *name) {
    size_t n = strlen(name);
    for (const char *p = lines; p && *p;) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':')
            return true;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

static const char *status_reason(int status) {
    const char *r = http_status_str((enum http_status)status);
    return r[0] == '<' ? "Unknown" : r; /* "<unknown>" */
}

/* ---------------------------------------------------------------- writing */

static void on_shutdown(uv_shutdown_t *req, int status) {
    conn *c = req->handle->data;
    if (c->closing)
        return;
    /* Once the client has closed too there is nothing left to wait for. */
    if (status < 0 || c->peer_eof)
        rp_http_conn_close(c);
}

/* After the last response: send FIN, drop further input until the client
 * closes or LINGER_MS pass (see "Closing politely" above). */
static void conn_linger(conn *c) {
    c->lingering = true;
    rp_http_tls_close_notify(c);
    c->in.len = c->in_off = 0;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        rp_http_conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, rp_http_conn_on_timer, LINGER_MS, 0);
    if (!c->peer_eof)
        rp_http_conn_read_start(c);
}

void rp_http_conn_written(conn *c, int status) {
    c->writing = false;
    if (c->closing)
        return; /* ECANCELED from uv_close: the close callback frees */
    if (status < 0) {
        rp_http_conn_close(c);
        return;
    }
    if (!c->keep_alive) {
        conn_linger(c);
        return;
    }
    rp_http_conn_process(c);
}

static void on_write(uv_write_t *req, int status) {
    rp_http_conn_written(req->handle->data, status);
}

/* Sends c->res (with its body unless send_body is false) and stops reading
 * until it is written. */
static void send_response(conn *c, bool send_body) {
    rp_http_response *r = &c->res;
    rp_buf *h = &c->head;
    int status = r->status;
    if (status < 200 || status > 599) {
        /* Interim responses are not supported; a handler bug should show
         * as a server error, not as a broken exchange. */
        status = 500;
        rp_buf_reset(&r->body);
        rp_buf_puts(&r->body, "handler set an invalid status\n");
        r->content_type = "text/plain; charset=utf-8";
    }
    /* RFC 9110: 204 and 304 have no content and 204 no Content-Length. */
    bool no_content = status == 204 || status == 304;
    if (no_content)
        send_body = false;

    int rc = 0;
    rp_buf_reset(h);
    rc |= rp_buf_printf(h, "HTTP/1.1 %d %s\r\n", status, status_reason(status));
    rc |= rp_buf_printf(h, "Content-Type: %s\r\n",
                        r->content_type ? r->content_type : "application/json");
    if (status != 204)
        rc |= rp_buf_printf(h, "Content-Length: %zu\r\n",
                            no_content ? (size_t)0 : r->body.len);
    rc |= rp_buf_puts(h, "X-Content-Type-Options: nosniff\r\n");
    if (!has_header(r->headers, "Cache-Control"))
        rc |= rp_buf_puts(h, "Cache-Control: no-store\r\n");
    if (r->headers)
        rc |= rp_buf_puts(h, r->headers);
    if (!c->keep_alive)
        rc |= rp_buf_puts(h, "Connection: close\r\n");
    else if (c->parser.http_major == 1 && c->parser.http_minor == 0)
        rc |= rp_buf_puts(h, "Connection: keep-alive\r\n");
    rc |= rp_buf_puts(h, "\r\n");
    if (rc != 0 || r->body.len > UINT_MAX) {
        rp_http_conn_close(c);
        return;
    }

    uv_buf_t bufs[2];
    unsigned nbufs = 0;
    bufs[nbufs++] = uv_buf_init(h->data, (unsigned)h->len);
    if (send_body && r->body.len > 0)
        bufs[nbufs++] = uv_buf_init(r->body.data, (unsigned)r->body.len);
    rp_http_conn_read_stop(c);
    c->writing = true;
    int wrc = c->ssl ? rp_http_tls_write(c, bufs, nbufs, true)
                     : uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, nbufs,
                                on_write);
    if (wrc != 0) {
        c->writing = false;
        rp_http_conn_close(c);
    }
}

/* Answers a request the server refuses by itself; the connection ends. */
void rp_http_send_error(conn *c, int status, const char *reason) {
    rp_http_response *r = &c->res;
    c->keep_alive = false;
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    r->headers = status == 405 ? "Allow: GET, HEAD, POST\r\n" : NULL;
    rp_buf_reset(&r->body);
    if (rp_buf_puts(&r->body, reason) != 0 || rp_buf_putc(&r->body, '\n')) {
        rp_http_conn_close(c);
        return;
    }
    send_response(c, !c->is_head);
}

/* Calls the handler for the complete request and sends its response. */
void rp_http_conn_respond(conn *c) {
    rp_http_server *s = c->srv;
    rp_http_response *r = &c->res;

    /* A complete request: the idle clock starts again. */
    uv_timer_start(&c->timer, rp_http_conn_on_timer, s->limits.idle_timeout_ms,
                   0);

    r->status = 200;
    r->content_type = "application/json";
    r->headers = NULL;
    rp_buf_reset(&r->body);
    rp_http_request req = {
        .method = c->is_head   ? "HEAD"
                  : c->is_post ? "POST"
                               : "GET",
        .path = {c->path.data, c->path.len},
        .query = c->has_query
                     ? (rp_str){c->url.data + c->query_off, c->query_len}
                     : RP_STR_NULL,
        .authorization =
            c->has_auth
                ? (rp_str){c->auth.data ? c->auth.data : "", c->auth.len}
                : RP_STR_NULL,
        .body = {c->body.data ? c->body.data : "", c->body.len},
        .peer = c->has_peer ? (const struct sockaddr *)&c->peer : NULL,
        .tls = c->ssl != NULL,
    };
    s->fn(s->opaque, &req, r);
    if (c->closing)
        return; /* the handler closed the server */
    if (c->deferred) {
        /* Like a response in flight: nothing more is parsed or read. The
         * idle clock stops too: the owner bounds the wait (the API by
         * http.actions.timeout), which may be longer. */
        c->writing = true;
        rp_http_conn_read_stop(c);
        uv_timer_stop(&c->timer);
        return;
    }
    send_response(c, !c->is_head);
}

/* ---------------------------------------------------------------- deferred */

rp_http_deferred *rp_http_response_defer(rp_http_response *res) {
    conn *c = (conn *)((char *)res - offsetof(conn, res));
    if (c->deferred)
        return NULL; /* one per request */
    rp_http_deferred *d = malloc(sizeof(*d));
    if (!d)
        return NULL;
    d->c = c;
    c->deferred = d;
    return d;
}

rp_http_response *rp_http_deferred_response(rp_http_deferred *d) {
    return d && d->c ? &d->c->res : NULL;
}

void rp_http_deferred_finish(rp_http_deferred *d) {
    if (!d)
        return;
    conn *c = d->c;
    free(d);
    if (!c)
        return;
    c->deferred = NULL;
    c->writing = false;
    uv_timer_start(&c->timer, rp_http_conn_on_timer,
                   c->srv->limits.idle_timeout_ms, 0);
    send_response(c, !c->is_head);
}

/* The answer to a connection beyond max_connections: fixed, so that telling
 * costs neither an allocation nor a parse. */
static const char busy_response[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 21\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: close\r\n"
    "\r\n"
    "too many connections\n";

void rp_http_send_busy(conn *c) {
    c->keep_alive = false;
    if (c->srv->tls) {
        /* A TLS client would read the plain answer as garbage. */
        rp_http_conn_close(c);
        return;
    }
    c->writing = true;
    uv_buf_t b = uv_buf_init((char *)busy_response,
                             (unsigned)(sizeof busy_response - 1));
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        c->writing = false;
        rp_http_conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, rp_http_conn_on_timer, LINGER_MS, 0);
}
