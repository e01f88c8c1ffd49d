/*
 * server.c - the HTTP/1.1 server of repute/http.h: listening, accepting,
 * and the lifetime of the server and of its connections.
 *
 * The listening socket is created, bound and listening before libuv sees
 * it, so that rp_http_server_new reports every failure synchronously. Each
 * accepted connection becomes a conn (conn.h) that request.c reads and
 * response.c answers. A connection beyond max_connections is answered 503
 * and closed, or closed at once while max_connections others are already
 * being answered so.
 *
 * Lifetime
 * --------
 * A conn is freed in the close callback of the last of its two handles; the
 * server is freed when its listener and every conn are closed. Nothing is
 * freed on the stack of a callback that could still touch it: a handler
 * that closes the server only marks things closing, and every path checks
 * `closing` after calling out.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "http/conn.h"

#define BACKLOG 128

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
    rp_buf_free(&c->auth);
    rp_buf_free(&c->body);
    rp_buf_free(&c->tls_in);
    SSL_free(c->ssl); /* and its BIOs */
    free(c);
    server_maybe_free(s);
}

void rp_http_conn_close(conn *c) {
    if (c->closing)
        return;
    c->closing = true;
    if (c->deferred) {
        c->deferred->c = NULL; /* its owner finishes it later */
        c->deferred = NULL;
    }
    if (c->counted) {
        c->counted = false;
        c->srv->n_active--;
    }
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

void rp_http_conn_on_timer(uv_timer_t *t) {
    rp_http_conn_close(t->data);
}

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
        rp_http_conn_close(c);
        return;
    }

    if (s->n_active >= s->limits.max_connections) {
        /* Beyond the limit a client is told why, as long as telling does
         * not itself cost more than the limit allows. */
        if (s->n_rejected >= s->limits.max_connections) {
            rp_http_conn_close(c);
            return;
        }
        c->rejected = true;
        s->n_rejected++;
        rp_http_send_busy(c);
        return;
    }

    c->counted = true;
    s->n_active++;
    int sl = (int)sizeof(c->peer);
    c->has_peer =
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &sl) == 0;
    if (s->tls && rp_http_tls_conn_init(c) != 0) {
        rp_http_conn_close(c);
        return;
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, rp_http_conn_on_timer, s->limits.idle_timeout_ms,
                   0);
    rp_http_conn_read_start(c);
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

void rp_http_server_use_tls(rp_http_server *s, const rp_http_tls *tls) {
    s->tls = tls;
}

void rp_http_server_close(rp_http_server *s) {
    if (!s || s->closing)
        return;
    s->closing = true;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    /* conn_close only starts closing; nothing is freed during this walk. */
    for (conn *c = s->conns; c; c = c->next)
        rp_http_conn_close(c);
}
