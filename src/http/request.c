/*
 * request.c - reading and parsing the requests of repute/http.h, and
 * rp_http_query_get.
 *
 * Bytes read land at the end of the conn's `in` buffer and are handed to
 * http-parser exactly as they arrive; its callbacks gather the request
 * target and check the limits as they go, and on_message_complete pauses
 * the parser so that each run ends with one complete request, which
 * response.c then answers (see conn.h for the whole cycle).
 *
 * Headers and bodies
 * ------------------
 * Of the header fields only Authorization is kept (for the API's bearer
 * tokens; twice is a 400); the others are counted and measured, never
 * stored. Only a POST may have a body (Content-Length or chunked), which
 * is gathered whole before the handler runs; a GET or HEAD with one is a
 * 413, as before POST existed.
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
 * The target
 * ----------
 * The path is percent-decoded strictly (a bad escape or an escaped NUL is
 * a 400), so that a handler can treat it as a C string and trust what it
 * says; the query is left raw for the handler, which decodes a parameter
 * leniently with rp_http_query_get. Both decodings share decode_next().
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http/conn.h"

/* ------------------------------------------------------------- decoding */

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
    rp_buf_reset(&c->auth);
    rp_buf_reset(&c->body);
    c->nheaders = 0;
    c->in_field = false;
    c->field_len = 0;
    c->value_is_auth = false;
    c->has_auth = false;
    c->phase = PH_URL;
    c->is_head = false;
    c->is_post = false;
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
        c->field_len = 0;
        if (++c->nheaders > c->srv->limits.max_headers)
            return reject(c, 431, "too many header fields");
    }
    if (over_limit(c, at, len))
        return reject(c, 431, "request headers too large");
    /* Only the start of a name is kept: enough to recognise the one field
     * the server hands on (a longer name is some other field). */
    for (size_t i = 0; i < len && c->field_len < sizeof(c->field); i++)
        c->field[c->field_len++] = at[i];
    return 0;
}

/* True when the field name just completed is Authorization. */
static bool field_is_auth(const conn *c) {
    static const char name[] = "authorization";
    return c->field_len == sizeof(name) - 1 &&
           strncasecmp(c->field, name, sizeof(name) - 1) == 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
    conn *c = p->data;
    if (c->in_field) {
        /* The first piece of this value: the name is complete. Two
         * Authorization fields are refused rather than one picked, since
         * a proxy and repute could pick differently. */
        c->in_field = false;
        c->value_is_auth = field_is_auth(c);
        if (c->value_is_auth && c->has_auth)
            return reject(c, 400, "more than one Authorization field");
        if (c->value_is_auth)
            c->has_auth = true;
    }
    if (over_limit(c, at, len))
        return reject(c, 431, "request headers too large");
    if (c->value_is_auth && rp_buf_append(&c->auth, at, len) != 0)
        return reject(c, 503, "out of memory");
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
     * anything that follows a '*' ("GET *q") as a path; a GET, HEAD or
     * POST target is a path from the root or an absolute URL. */
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
    if (p->method != HTTP_GET && p->method != HTTP_HEAD &&
        p->method != HTTP_POST)
        return reject(c, 405, "only GET, HEAD and POST are allowed");
    c->is_post = p->method == HTTP_POST;
    /* http-parser takes any digit for the version; only 1.x is HTTP/1. */
    if (p->http_major != 1)
        return reject(c, 505, "HTTP version not supported");
    bool has_body = (p->flags & F_CHUNKED) ||
                    (p->content_length > 0 && p->content_length != ULLONG_MAX);
    if (has_body && !c->is_post)
        return reject(c, 413, "a GET or HEAD request must not have a body");
    /* A declared length that cannot fit is refused before it is sent. */
    if (c->is_post && p->content_length != ULLONG_MAX &&
        p->content_length > c->srv->limits.max_request_bytes)
        return reject(c, 413, "request body too large");
    return parse_target(c);
}

static int on_body(http_parser *p, const char *at, size_t len) {
    conn *c = p->data;
    /* on_headers_complete refuses a GET or HEAD with a body already; a
     * POST's body (also chunked) counts against max_request_bytes. */
    if (!c->is_post)
        return reject(c, 413, "a GET or HEAD request must not have a body");
    if (over_limit(c, at, len))
        return reject(c, 413, "request body too large");
    if (rp_buf_append(&c->body, at, len) != 0)
        return reject(c, 503, "out of memory");
    return 0;
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

/* ---------------------------------------------------------------- reading */

/* Feeds the unparsed input to the parser, one request at a time, until it
 * runs out, a response is in flight, or the connection ends. */
void rp_http_conn_process(conn *c) {
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
                rp_http_send_error(c, c->err_status, c->err_reason);
            else if (e == HPE_HEADER_OVERFLOW)
                rp_http_send_error(c, c->phase == PH_URL ? 414 : 431,
                                   "request header section too large");
            else
                rp_http_send_error(c, 400, http_errno_description(e));
            return;
        }
        if (c->msg_done) {
            /* The bytes after the last callback (the empty line) count
             * too: done ends with the request's last byte. */
            if (c->msg_base + done > lim->max_request_bytes) {
                rp_http_send_error(c, 431, "request too large");
                return;
            }
            c->msg_done = false;
            c->msg_base = 0;
            c->phase = PH_URL; /* empty lines before the next one count */
            rp_http_conn_respond(c);
            continue;
        }
        /* Bytes no callback reported (the method, separators, empty
         * lines before a request) count as well. */
        c->msg_base += done;
        if (c->msg_base > lim->max_request_bytes) {
            rp_http_send_error(c, c->phase == PH_URL ? 414 : 431,
                               "request too large");
            return;
        }
        if (done == 0) {
            /* The parser made no progress without saying why; it cannot
             * make any later either. */
            rp_http_conn_close(c);
            return;
        }
    }
    if (c->closing || c->writing || c->lingering)
        return;
    if (c->peer_eof) {
        rp_http_conn_close(c); /* every complete request has been answered */
        return;
    }
    rp_http_conn_read_start(c);
}

int rp_http_conn_in_room(conn *c) {
    /* Parsed bytes are dropped (the parser keeps no pointer into them), so
     * the buffer settles at READ_CHUNK plus a partial request. */
    if (c->lingering || c->in_off == c->in.len) {
        c->in.len = c->in_off = 0;
    } else if (c->in_off > 0) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    return rp_buf_reserve(&c->in, READ_CHUNK);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    conn *c = h->data;
    (void)suggested;
    /* With TLS the socket's bytes are ciphertext: they go to tls_in, and
     * tls.c decrypts them into `in`. */
    rp_buf *b = &c->in;
    int rc;
    if (c->ssl) {
        b = &c->tls_in;
        rp_buf_reset(b);
        rc = rp_buf_reserve(b, READ_CHUNK);
    } else {
        rc = rp_http_conn_in_room(c);
    }
    if (rc != 0) {
        *buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS */
        return;
    }
    size_t room = b->cap - b->len - 1; /* keep rp_buf's NUL */
    *buf = uv_buf_init(b->data + b->len,
                       room > UINT_MAX ? UINT_MAX : (unsigned)room);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    conn *c = stream->data;
    if (c->closing)
        return;
    if (nread < 0) {
        if (nread != UV_EOF || c->lingering) {
            rp_http_conn_close(c);
            return;
        }
        /* The client may half-close after its last request and still
         * expect the answer. */
        c->peer_eof = true;
        rp_http_conn_read_stop(c);
        rp_http_conn_process(c);
        return;
    }
    if (c->lingering) {
        c->in.len = 0;
        return;
    }
    if (c->ssl) {
        if (rp_http_tls_feed(c, buf->base, (size_t)nread) != 0) {
            rp_http_conn_close(c);
            return;
        }
        if (c->peer_eof)
            rp_http_conn_read_stop(c);
    } else {
        c->in.len += (size_t)nread;
        c->in.data[c->in.len] = '\0';
    }
    rp_http_conn_process(c);
}

void rp_http_conn_read_start(conn *c) {
    if (c->reading || c->peer_eof)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        rp_http_conn_close(c);
        return;
    }
    c->reading = true;
}

void rp_http_conn_read_stop(conn *c) {
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}
