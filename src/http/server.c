/*
 * server.c - the HTTP/1.1 server of repute/http.h.
 *
 * One connection, one state machine
 * ---------------------------------
 * Each accepted connection is a `conn`: a TCP handle, an idle timer, an
 * http_parser and a handful of buffers that live as long as the connection
 * and are reused by every request on it, so that once they have grown to
 * the size of the largest request and response, a request costs no
 * allocation. Bytes read land at the end of `in`; the parser runs over them
 * and its callbacks gather what a handler needs (the request target) and
 * check the limits as they go. When a request is complete the
 * on_message_complete callback pauses the parser, so that
 * http_parser_execute returns right after the request's last byte: the
 * server calls the handler, queues the response with uv_write and stops
 * reading. Whatever follows in `in` (pipelined requests) waits, unparsed,
 * until the write callback fires, which parses on from there. Responses
 * therefore leave in request order, at most one is in flight per
 * connection, and a client that sends requests faster than it reads the
 * answers only fills its own socket buffers: that is the backpressure.
 *
 * Limits
 * ------
 * The parser is given bytes exactly as they arrive, so a limit is checked
 * against the position of the byte a callback reports: bytes of this
 * request seen in earlier reads (msg_base) plus its offset in the current
 * chunk. Nothing is stored but the URL, which is therefore bounded by
 * max_request_bytes too. A request that breaks a limit, or that the parser
 * rejects, gets its 4xx answer and the connection is closed, since after a
 * malformed request no one can tell where the next would start.
 *
 * Closing politely
 * ----------------
 * Closing a socket that still has unread input makes the kernel send a
 * reset, which can destroy the error response before the client has read
 * it (typically the 414 to a client still sending a huge URL). After a final
 * response the server therefore shuts down its sending side and goes on
 * reading, dropping what it reads, until the client closes too or
 * LINGER_MS have passed, as nginx's lingering close does.
 *
 * Lifetime
 * --------
 * A conn is freed in the close callback of the last of its two handles; the
 * server is freed when its listener and every conn are closed. Nothing is
 * freed on the stack of a callback that could still touch it: a handler
 * that closes the server only marks things closing, and every path checks
 * `closing` after calling out.
 */
#include "repute/http.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <http_parser.h>

#define READ_CHUNK 16384 /* room reserved for each read */
#define LINGER_MS  2000  /* read and drop input this long after the end */
#define BACKLOG    128

/* ---------------------------------------------------------------- types */

typedef struct conn conn;

struct rp_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    rp_http_limits limits;
    rp_http_handler_fn fn;
    void *opaque;
    int port;
    conn *conns;    /* every connection not yet freed, doubly linked */
    int n_active;   /* connections counted against max_connections */
    int n_rejected; /* connections being answered 503 */
    bool closing;
    bool listener_closed;
};

/* Where the parser is in the current request: it decides whether a request
 * that grows too large is answered 414, 431 or 413. */
enum phase { PH_URL, PH_HEADERS, PH_BODY };

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* idle timeout, then linger timeout */
    uv_write_t wreq;
    uv_shutdown_t sreq;
    rp_http_server *srv;
    conn *prev, *next;
    http_parser parser;

    /* Input: in.data[in_off, in.len) is read but not yet parsed. */
    rp_buf in;
    size_t in_off;
    const char *chunk; /* the bytes of the current http_parser_execute */
    size_t msg_base;   /* bytes of the current request before chunk */

    /* The current request. */
    rp_buf url;  /* the request target, gathered across reads */
    rp_buf path; /* its percent-decoded path */
    size_t query_off, query_len;
    bool has_query;
    int nheaders;
    bool in_field; /* the last header callback was a field name */
    enum phase phase;
    bool is_head;
    bool msg_done;
    bool keep_alive;
    int err_status; /* set by a callback that rejects the request */
    const char *err_reason;

    /* The response in flight: head holds its status line and headers. */
    rp_buf head;
    rp_http_response res;

    int handles;   /* open libuv handles; the conn is freed at 0 */
    bool counted;  /* counted in srv->n_active */
    bool rejected; /* answered 503, counted in srv->n_rejected */
    bool reading;
    bool writing;
    bool lingering; /* the final response is out; input is dropped */
    bool peer_eof;
    bool closing;
};

static void conn_process(conn *c);
static void conn_close(conn *c);
static void on_timer(uv_timer_t *t);

/* ---------------------------------------------------------------- helpers */

static void set_err(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errstr, size_t size, const char *fmt, ...) {
    if (!errstr || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, size, fmt, ap);
    va_end(ap);
}

static int hexval(int ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes the byte at *pp of [*pp, end) and advances *pp: "%xx" is one
 * byte, '+' is a space when plus is true, and a '%' without two hex digits
 * stands for itself. *escaped tells whether the byte came from a valid %xx
 * (so that callers can be strict). */
static unsigned char decode_next(const char **pp, const char *end, bool plus,
                                 bool *escaped) {
    const char *p = *pp;
    *escaped = false;
    if (*p == '%' && end - p >= 3) {
        int hi = hexval((unsigned char)p[1]), lo = hexval((unsigned char)p[2]);
        if (hi >= 0 && lo >= 0) {
            *pp = p + 3;
            *escaped = true;
            return (unsigned char)(hi * 16 + lo);
        }
    }
    *pp = p + 1;
    if (plus && *p == '+')
        return ' ';
    return (unsigned char)*p;
}

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

/* ---------------------------------------------------------------- query */

int rp_http_query_get(rp_str query, const char *name, char *out,
                      size_t out_size) {
    if (out && out_size)
        out[0] = '\0';
    if (!query.ptr || !name)
        return RP_ENOTFOUND;
    const char *p = query.ptr, *end = query.ptr + query.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp)
            amp = end;
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        const char *kend = eq ? eq : amp;

        /* The key is compared decoded, so "a%20b" finds "a b". */
        const char *k = p;
        const char *want = name;
        bool esc;
        while (k < kend && *want &&
               decode_next(&k, kend, true, &esc) == (unsigned char)*want)
            want++;
        if (k == kend && *want == '\0') {
            size_t len = 0;
            for (const char *v = eq ? eq + 1 : amp; v < amp;) {
                unsigned char ch = decode_next(&v, amp, true, &esc);
                if (!out || len + 1 >= out_size) {
                    if (out && out_size)
                        out[0] = '\0';
                    return RP_ENOSPACE;
                }
                out[len++] = (char)ch;
            }
            if (!out || len >= out_size)
                return RP_ENOSPACE;
            out[len] = '\0';
            return len > INT_MAX ? RP_ENOSPACE : (int)len;
        }
        p = amp + 1;
    }
    return RP_ENOTFOUND;
}

/* ---------------------------------------------------------------- parser */

/* Records why a callback rejects the request; the nonzero return makes
 * http_parser_execute stop with an HPE_CB_* error. */
static int reject(conn *c, int status, const char *reason) {
    c->err_status = status;
    c->err_reason = reason;
    return -1;
}

/* True when the request would exceed max_request_bytes with the bytes up
 * to at + len (at points into the current chunk). */
static bool over_limit(const conn *c, const char *at, size_t len) {
    size_t used = c->msg_base + (size_t)(at - c->chunk) + len;
    return used > c->srv->limits.max_request_bytes;
}

static int on_message_begin(http_parser *p) {
    conn *c = p->data;
    rp_buf_reset(&c->url);
    c->nheaders = 0;
    c->in_field = false;
    c->phase = PH_URL;
    c->is_head = false;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len) {
    conn *c = p->data;
    c->is_head = p->method == HTTP_HEAD; /* the method is parsed by now */
    if (over_limit(c, at, len))
        return reject(c, 414, "URI too long");
    if (rp_buf_append(&c->url, at, len) != 0)
        return reject(c, 503, "out of memory");
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
    conn *c = p->data;
    c->phase = PH_HEADERS;
    /* A field name can arrive in several calls when it spans reads; only
     * the first after a value starts a new field. */
    if (!c->in_field) {
        c->in_field = true;
        if (++c->nheaders > c->srv->limits.max_headers)
            return reject(c, 431, "too many header fields");
    }
    if (over_limit(c, at, len))
        return reject(c, 431, "request headers too large");
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
    conn *c = p->data;
    c->in_field = false;
    if (over_limit(c, at, len))
        return reject(c, 431, "request headers too large");
    return 0;
}

/* Splits the request target into the decoded path and the raw query. The
 * path decoding is strict: a bad escape or an escaped NUL is a 400, so that
 * handlers can treat the path as a C string and trust what it says. */
static int parse_target(conn *c) {
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (c->url.len == 0 ||
        http_parser_parse_url(c->url.data, c->url.len, 0, &u) != 0)
        return reject(c, 400, "bad request target");

    rp_buf_reset(&c->path);
    const char *p = "/", *end = p + 1; /* "http://host" has no path */
    if (u.field_set & (1u << UF_PATH)) {
        p = c->url.data + u.field_data[UF_PATH].off;
        end = p + u.field_data[UF_PATH].len;
    }
    /* http-parser also takes the asterisk form ("*", for OPTIONS) and
     * anything that follows a '*' ("GET *q") as a path; a GET or HEAD
     * target is a path from the root or an absolute URL. */
    if (p == end || *p != '/')
        return reject(c, 400, "bad request target");
    if (rp_buf_reserve(&c->path, (size_t)(end - p)) != 0)
        return reject(c, 503, "out of memory");
    while (p < end) {
        bool escaped;
        if (*p == '%' && (end - p < 3 || hexval((unsigned char)p[1]) < 0 ||
                          hexval((unsigned char)p[2]) < 0))
            return reject(c, 400, "bad percent-escape in path");
        unsigned char ch = decode_next(&p, end, false, &escaped);
        if (ch == '\0')
            return reject(c, 400, "NUL byte in path");
        c->path.data[c->path.len++] = (char)ch;
    }
    c->path.data[c->path.len] = '\0';

    c->has_query = (u.field_set & (1u << UF_QUERY)) != 0;
    c->query_off = u.field_data[UF_QUERY].off;
    c->query_len = u.field_data[UF_QUERY].len;
    return 0;
}

static int on_headers_complete(http_parser *p) {
    conn *c = p->data;
    c->phase = PH_BODY;
    if (p->method != HTTP_GET && p->method != HTTP_HEAD)
        return reject(c, 405, "only GET and HEAD are allowed");
    /* http-parser takes any digit for the version; only 1.x is HTTP/1. */
    if (p->http_major != 1)
        return reject(c, 505, "HTTP version not supported");
    if ((p->flags & F_CHUNKED) ||
        (p->content_length > 0 && p->content_length != ULLONG_MAX))
        return reject(c, 413, "a request must not have a body");
    return parse_target(c);
}

static int on_body(http_parser *p, const char *at, size_t len) {
    (void)at;
    (void)len;
    /* on_headers_complete refuses every request with a body already. */
    return reject(p->data, 413, "a request must not have a body");
}

static int on_message_complete(http_parser *p) {
    conn *c = p->data;
    c->msg_done = true;
    /* An Upgrade request is answered as a plain one; what would follow is
     * another protocol, so the connection ends with the response. */
    c->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---------------------------------------------------------------- writing */

static void conn_read_start(conn *c);
static void conn_read_stop(conn *c);

static void on_shutdown(uv_shutdown_t *req, int status) {
    conn *c = req->handle->data;
    if (c->closing)
        return;
    /* Once the client has closed too there is nothing left to wait for. */
    if (status < 0 || c->peer_eof)
        conn_close(c);
}

/* After the last response: send FIN, drop further input until the client
 * closes or LINGER_MS pass (see "Closing politely" above). */
static void conn_linger(conn *c) {
    c->lingering = true;
    c->in.len = c->in_off = 0;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    if (!c->peer_eof)
        conn_read_start(c);
}

static void on_write(uv_write_t *req, int status) {
    conn *c = req->handle->data;
    c->writing = false;
    if (c->closing)
        return; /* ECANCELED from uv_close: the close callback frees */
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (!c->keep_alive) {
        conn_linger(c);
        return;
    }
    conn_process(c);
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
        conn_close(c);
        return;
    }

    uv_buf_t bufs[2];
    unsigned nbufs = 0;
    bufs[nbufs++] = uv_buf_init(h->data, (unsigned)h->len);
    if (send_body && r->body.len > 0)
        bufs[nbufs++] = uv_buf_init(r->body.data, (unsigned)r->body.len);
    conn_read_stop(c);
    c->writing = true;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, nbufs, on_write) !=
        0) {
        c->writing = false;
        conn_close(c);
    }
}

/* Answers a request the server refuses by itself; the connection ends. */
static void send_error(conn *c, int status, const char *reason) {
    rp_http_response *r = &c->res;
    c->keep_alive = false;
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    r->headers = status == 405 ? "Allow: GET, HEAD\r\n" : NULL;
    rp_buf_reset(&r->body);
    if (rp_buf_puts(&r->body, reason) != 0 || rp_buf_putc(&r->body, '\n')) {
        conn_close(c);
        return;
    }
    send_response(c, !c->is_head);
}

/* Calls the handler for the complete request and sends its response. */
static void conn_respond(conn *c) {
    rp_http_server *s = c->srv;
    rp_http_response *r = &c->res;

    /* A complete request: the idle clock starts again. */
    uv_timer_start(&c->timer, on_timer, s->limits.idle_timeout_ms, 0);

    r->status = 200;
    r->content_type = "application/json";
    r->headers = NULL;
    rp_buf_reset(&r->body);
    rp_http_request req = {
        .method = c->is_head ? "HEAD" : "GET",
        .path = {c->path.data, c->path.len},
        .query = c->has_query
                     ? (rp_str){c->url.data + c->query_off, c->query_len}
                     : RP_STR_NULL,
    };
    s->fn(s->opaque, &req, r);
    if (c->closing)
        return; /* the handler closed the server */
    send_response(c, !c->is_head);
}

/* ---------------------------------------------------------------- reading */

/* Feeds the unparsed input to the parser, one request at a time, until it
 * runs out, a response is in flight, or the connection ends. */
static void conn_process(conn *c) {
    const rp_http_limits *lim = &c->srv->limits;
    while (!c->closing && !c->writing && !c->lingering &&
           c->in_off < c->in.len) {
        const char *p = c->in.data + c->in_off;
        size_t n = c->in.len - c->in_off;
        c->chunk = p;
        size_t done = http_parser_execute(&c->parser, &settings, p, n);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        c->in_off += done;
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            e = HPE_OK;
        }
        if (e != HPE_OK) {
            if (c->err_status)
                send_error(c, c->err_status, c->err_reason);
            else if (e == HPE_HEADER_OVERFLOW)
                send_error(c, c->phase == PH_URL ? 414 : 431,
                           "request header section too large");
            else
                send_error(c, 400, http_errno_description(e));
            return;
        }
        if (c->msg_done) {
            /* The bytes after the last callback (the empty line) count
             * too: done ends with the request's last byte. */
            if (c->msg_base + done > lim->max_request_bytes) {
                send_error(c, 431, "request too large");
                return;
            }
            c->msg_done = false;
            c->msg_base = 0;
            c->phase = PH_URL; /* empty lines before the next one count */
            conn_respond(c);
            continue;
        }
        /* Bytes no callback reported (the method, separators, empty
         * lines before a request) count as well. */
        c->msg_base += done;
        if (c->msg_base > lim->max_request_bytes) {
            send_error(c, c->phase == PH_URL ? 414 : 431, "request too large");
            return;
        }
        if (done == 0) {
            /* The parser made no progress without saying why; it cannot
             * make any later either. */
            conn_close(c);
            return;
        }
    }
    if (c->closing || c->writing || c->lingering)
        return;
    if (c->peer_eof) {
        conn_close(c); /* every complete request has been answered */
        return;
    }
    conn_read_start(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    conn *c = h->data;
    (void)suggested;
    /* Parsed bytes are dropped (the parser keeps no pointer into them), so
     * the buffer settles at READ_CHUNK plus a partial request. */
    if (c->lingering || c->in_off == c->in.len) {
        c->in.len = c->in_off = 0;
    } else if (c->in_off > 0) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    if (rp_buf_reserve(&c->in, READ_CHUNK) != 0) {
        *buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS */
        return;
    }
    size_t room = c->in.cap - c->in.len - 1; /* keep rp_buf's NUL */
    *buf = uv_buf_init(c->in.data + c->in.len,
                       room > UINT_MAX ? UINT_MAX : (unsigned)room);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    conn *c = stream->data;
    (void)buf;
    if (c->closing)
        return;
    if (nread < 0) {
        if (nread != UV_EOF || c->lingering) {
            conn_close(c);
            return;
        }
        /* The client may half-close after its last request and still
         * expect the answer. */
        c->peer_eof = true;
        conn_read_stop(c);
        conn_process(c);
        return;
    }
    if (c->lingering) {
        c->in.len = 0;
        return;
    }
    c->in.len += (size_t)nread;
    c->in.data[c->in.len] = '\0';
    conn_process(c);
}

static void conn_read_start(conn *c) {
    if (c->reading || c->peer_eof)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    c->reading = true;
}

static void conn_read_stop(conn *c) {
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

/* ---------------------------------------------------------------- conns */

static void server_maybe_free(rp_http_server *s) {
    if (s->closing && s->listener_closed && !s->conns)
        free(s);
}

static void on_conn_closed(uv_handle_t *h) {
    conn *c = h->data;
    if (--c->handles > 0)
        return;
    rp_http_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->rejected)
        s->n_rejected--;
    rp_buf_free(&c->in);
    rp_buf_free(&c->url);
    rp_buf_free(&c->path);
    rp_buf_free(&c->head);
    rp_buf_free(&c->res.body);
    free(c);
    server_maybe_free(s);
}

static void conn_close(conn *c) {
    if (c->closing)
        return;
    c->closing = true;
    if (c->counted) {
        c->counted = false;
        c->srv->n_active--;
    }
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_timer(uv_timer_t *t) {
    conn_close(t->data);
}

static const char busy_response[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 21\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: close\r\n"
    "\r\n"
    "too many connections\n";

static void on_connection(uv_stream_t *l, int status) {
    rp_http_server *s = l->data;
    if (status < 0 || s->closing)
        return; /* EMFILE and the like: libuv tries again on the next one */
    /* If this fails libuv keeps the pending connection and stops accepting
     * until a later uv_accept; there is nothing better to do without
     * memory. */
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = s;
    if (uv_tcp_init(s->loop, &c->tcp) != 0) {
        free(c);
        return;
    }
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }

    if (s->n_active >= s->limits.max_connections) {
        /* Beyond the limit a client is told why, as long as telling does
         * not itself cost more than the limit allows. */
        if (s->n_rejected >= s->limits.max_connections) {
            conn_close(c);
            return;
        }
        c->rejected = true;
        s->n_rejected++;
        c->keep_alive = false;
        c->writing = true;
        uv_buf_t b = uv_buf_init((char *)busy_response,
                                 (unsigned)(sizeof busy_response - 1));
        if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
            c->writing = false;
            conn_close(c);
            return;
        }
        uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
        return;
    }

    c->counted = true;
    s->n_active++;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timer, s->limits.idle_timeout_ms, 0);
    conn_read_start(c);
}

/* ---------------------------------------------------------------- server */

void rp_http_limits_default(rp_http_limits *l) {
    l->max_request_bytes = 16384;
    l->max_headers = 64;
    l->idle_timeout_ms = 30000;
    l->max_connections = 256;
}

/* Parses "HOST:PORT" / "[HOST]:PORT" into *ss. */
static int parse_listen(const char *address, struct sockaddr_storage *ss,
                        char *errstr, size_t errstr_size) {
    char host[64];
    const char *hs, *he, *ps;
    bool v6 = address[0] == '[';
    if (v6) {
        hs = address + 1;
        he = strchr(hs, ']');
        if (!he || he[1] != ':')
            goto bad;
        ps = he + 2;
    } else {
        hs = address;
        he = strrchr(address, ':');
        if (!he || memchr(hs, ':', (size_t)(he - hs)))
            goto bad; /* no port, or an IPv6 address without brackets */
        ps = he + 1;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= sizeof host)
        goto bad;
    memcpy(host, hs, hl);
    host[hl] = '\0';

    long port = 0;
    if (*ps == '\0' || strlen(ps) > 5)
        goto bad_port;
    for (const char *p = ps; *p; p++) {
        if (*p < '0' || *p > '9')
            goto bad_port;
        port = port * 10 + (*p - '0');
    }
    if (port > 65535)
        goto bad_port;

    memset(ss, 0, sizeof *ss);
    if (!v6 && strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    int rc = v6 ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss)
                : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss);
    if (rc != 0)
        goto bad;
    return 0;

bad:
    set_err(errstr, errstr_size,
            "bad listen address \"%s\": expected IPV4:PORT, [IPV6]:PORT or "
            "localhost:PORT",
            address);
    return RP_EINVAL;
bad_port:
    set_err(errstr, errstr_size,
            "bad listen address \"%s\": the port must be a number from 0 to "
            "65535",
            address);
    return RP_EINVAL;
}

static void on_listener_closed(uv_handle_t *h) {
    rp_http_server *s = h->data;
    s->listener_closed = true;
    server_maybe_free(s);
}

int rp_http_server_new(rp_http_server **out, uv_loop_t *loop,
                       const char *address, const rp_http_limits *limits,
                       rp_http_handler_fn fn, void *opaque, char *errstr,
                       size_t errstr_size) {
    rp_http_server *s = NULL;
    struct sockaddr_storage ss;
    int fd = -1, rc, one = 1;
    bool handle_open = false;

    set_err(errstr, errstr_size, "%s", "");
    if (!out || !loop || !address || !fn) {
        set_err(errstr, errstr_size, "rp_http_server_new: missing argument");
        return RP_EINVAL;
    }
    *out = NULL;
    rc = parse_listen(address, &ss, errstr, errstr_size);
    if (rc != 0)
        return rc;

    s = calloc(1, sizeof *s);
    if (!s) {
        set_err(errstr, errstr_size, "out of memory");
        return RP_ENOMEM;
    }
    s->loop = loop;
    s->fn = fn;
    s->opaque = opaque;
    rp_http_limits_default(&s->limits);
    if (limits) {
        if (limits->max_request_bytes)
            s->limits.max_request_bytes = limits->max_request_bytes;
        if (limits->max_headers > 0)
            s->limits.max_headers = limits->max_headers;
        if (limits->idle_timeout_ms)
            s->limits.idle_timeout_ms = limits->idle_timeout_ms;
        if (limits->max_connections > 0)
            s->limits.max_connections = limits->max_connections;
    }

    /* A client that resets its connection while a response is being
     * written would otherwise kill the process with SIGPIPE: libuv writes
     * with writev, which cannot ask for MSG_NOSIGNAL. A disposition the
     * program chose itself is left alone. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);

    /* The socket is bound and listening before libuv sees it, so that
     * every failure is reported here, synchronously (libuv defers
     * EADDRINUSE to uv_listen), and needs no asynchronous uv_close. */
    socklen_t sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in);
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, BACKLOG) != 0) {
        set_err(errstr, errstr_size, "cannot listen on %s: %s", address,
                strerror(errno));
        rc = RP_EIO;
        goto fail;
    }
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        set_err(errstr, errstr_size, "cannot listen on %s: %s", address,
                strerror(errno));
        rc = RP_EIO;
        goto fail;
    }
    s->port =
        ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);

    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    handle_open = true;
    rc = uv_tcp_open(&s->listener, fd);
    if (rc == 0) {
        fd = -1; /* the handle owns it now */
        rc = uv_listen((uv_stream_t *)&s->listener, BACKLOG, on_connection);
    }
    if (rc != 0) {
        set_err(errstr, errstr_size, "cannot listen on %s: %s", address,
                uv_strerror(rc));
        rc = RP_EIO;
        goto fail;
    }
    *out = s;
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    if (handle_open) {
        /* Not expected in practice (the socket already listens); the
         * handle must still be closed through the loop, which frees s. */
        s->closing = true;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    } else {
        free(s);
    }
    return rc;
}

int rp_http_server_port(const rp_http_server *s) {
    return s->port;
}

void rp_http_server_close(rp_http_server *s) {
    if (!s || s->closing)
        return;
    s->closing = true;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    /* conn_close only starts closing; nothing is freed during this walk. */
    for (conn *c = s->conns; c; c = c->next)
        conn_close(c);
}
