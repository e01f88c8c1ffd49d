/*
 * repute/http.h - a small HTTP/1.1 server on a libuv loop, optionally over
 * TLS, for the status API and the dashboard of `repute run`.
 *
 * The server accepts connections on the caller's loop, parses requests with
 * http-parser and calls one handler per complete GET, HEAD or POST request,
 * on the loop thread. Everything else it answers by itself, then closes the
 * connection: 400 for a malformed request (with a short plain-text reason)
 * or one with two Authorization fields, 405 with `Allow: GET, HEAD, POST`
 * for any other method, 413 for a GET or HEAD with a body or a request
 * larger than max_request_bytes (a POST's body included), 414 for a URL
 * that alone exceeds it, 431 for too many or too large headers, 505 for an
 * HTTP version other than 1.x, and 503 to connections beyond
 * max_connections (closed without an answer under TLS). The handler
 * decides which routes take which method.
 * Keep-alive and pipelining follow HTTP/1.1 (HTTP/1.0 closes unless it asks
 * for keep-alive; `Connection: close` is honoured), responses go out in
 * request order, and no call blocks the loop.
 *
 * Every response carries Content-Type, Content-Length,
 * `X-Content-Type-Options: nosniff` and, unless the handler's extra headers
 * name a Cache-Control of their own, `Cache-Control: no-store`. A HEAD
 * response has the headers of the GET response and no body.
 *
 * Ownership: the server owns every connection, buffer and handle it
 * creates; the caller owns the loop, which must outlive the server and keep
 * running until rp_http_server_close() has finished (the server frees itself
 * in its last close callback). Everything a handler receives is borrowed
 * for the duration of the call.
 */
#ifndef REPUTE_HTTP_H
#define REPUTE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>
#include <uv.h>

#include "repute/buf.h"
#include "repute/types.h"

/* ---------------------------------------------------------------- limits */

typedef struct rp_http_limits {
    /* Request line + headers + body of one request; default 16384. */
    size_t max_request_bytes;
    /* Header fields of one request; default 64. */
    int max_headers;
    /* A connection with no complete request for this long is closed;
     * default 30000. */
    uint64_t idle_timeout_ms;
    /* Open connections; default 256. Connections beyond it are answered
     * 503 and closed at once. */
    int max_connections;
} rp_http_limits;

/* Fills *l with the defaults above. */
void rp_http_limits_default(rp_http_limits *l);

/* ---------------------------------------------------------------- handler */

/* One request, borrowed by the handler for the duration of the call. */
typedef struct rp_http_request {
    const char *method; /* "GET", "HEAD" or "POST" (static) */
    /* Percent-decoded path without the query, e.g. "/v1/accounts/a b";
     * NUL-terminated, never contains a NUL byte. */
    rp_str path;
    /* The raw query string after '?', RP_STR_NULL when there is none. */
    rp_str query;
    /* The Authorization field's value as sent (it may hold NUL bytes),
     * RP_STR_NULL when there is none. Never log it. */
    rp_str authorization;
    /* A POST's body (empty for GET and HEAD); not NUL-terminated. */
    rp_str body;
    /* The client's address (AF_INET or AF_INET6), NULL when unknown. */
    const struct sockaddr *peer;
    bool tls; /* the request came over TLS */
} rp_http_request;

/* The response a handler fills in. The server presets every field before
 * the call and owns the body buffer (reused from request to request). */
typedef struct rp_http_response {
    /* Preset 200. Outside 200..599 the server sends 500 instead; a 204 or
     * 304 goes out without a body. */
    int status;
    const char *content_type; /* static string; preset "application/json" */
    rp_buf body;              /* owned by the server, empty; the handler
                                 appends (on RP_ENOMEM, set status 500) */
    /* NULL, or extra header lines, each ending "\r\n", e.g.
     * "Cache-Control: max-age=60\r\n" (which replaces the default
     * `Cache-Control: no-store`). Borrowed: they must stay valid until
     * the handler returns (the server copies them then). */
    const char *headers;
} rp_http_response;

/* Called on the loop thread once per complete request (for
 * HEAD, the body the handler writes is measured for Content-Length and not
 * sent). It must not block, and must not keep req or res after it
 * returns. It may call rp_http_server_close(); the response is then not
 * sent. */
typedef void (*rp_http_handler_fn)(void *opaque, const rp_http_request *req,
                                   rp_http_response *res);

/* ---------------------------------------------------------------- deferred */

/*
 * A response sent later. A handler that must wait for something (the
 * broker's acknowledgement of an action) calls rp_http_response_defer(res)
 * and returns; the server then sends nothing and reads nothing more on that
 * connection (pipelined requests wait, as behind any response in flight)
 * until the owner of the handle calls rp_http_deferred_finish, on the loop
 * thread. The connection may close in between (the client went away, the
 * idle timeout, the server closed): rp_http_deferred_response then returns
 * NULL, and finishing only frees the handle. Every handle must be finished
 * exactly once, also after rp_http_server_close.
 */
typedef struct rp_http_deferred rp_http_deferred;

/* Marks res (the handler's own, during the call) as answered later.
 * Returns the handle, or NULL on RP_ENOMEM (the handler then answers at
 * once, e.g. with 500). The request's borrowed fields are not kept: copy
 * what the later answer needs. */
rp_http_deferred *rp_http_response_defer(rp_http_response *res);
/* The response to fill in (preset as for a handler: status 200, JSON, an
 * empty body), or NULL when the connection has gone. */
rp_http_response *rp_http_deferred_response(rp_http_deferred *d);
/* Sends the response, if the connection is still there, and frees d.
 * res->headers must stay valid until this returns. */
void rp_http_deferred_finish(rp_http_deferred *d);

/* ---------------------------------------------------------------- server */

typedef struct rp_http_server rp_http_server;

/*
 * Creates a server listening on `listen`: "HOST:PORT", where HOST is an
 * IPv4 address, "[IPv6]" or "localhost" (127.0.0.1), and PORT 0 picks any
 * free port (see rp_http_server_port()). limits NULL means the defaults; a
 * zero field of *limits also takes its default. The socket is bound and
 * listening when this returns 0 and sets *out. On failure it returns
 * RP_EINVAL (bad address), RP_EIO (the address is in use or cannot be
 * bound) or RP_ENOMEM, with errstr naming the problem; nothing is left
 * running and the handler is never called. fn and opaque are borrowed until
 * the server is closed.
 *
 * SIGPIPE: a peer that resets its connection during a write would raise
 * SIGPIPE (libuv writes with writev), so when SIGPIPE still has its default
 * disposition this sets it to SIG_IGN for the process.
 */
int rp_http_server_new(rp_http_server **out, uv_loop_t *loop,
                       const char *listen, const rp_http_limits *limits,
                       rp_http_handler_fn fn, void *opaque, char *errstr,
                       size_t errstr_size);

/* The port the server is bound to. */
int rp_http_server_port(const rp_http_server *s);

/* ---------------------------------------------------------------- TLS */

typedef struct rp_http_tls rp_http_tls;

/*
 * Makes a TLS server context (OpenSSL, TLS 1.2 and later) from a PEM
 * certificate chain file (the server's certificate first) and a PEM
 * private key file. Returns 0 with *out set, or RP_EINVAL / RP_ENOMEM
 * with errstr naming the file and OpenSSL's reason. The caller frees it
 * with rp_http_tls_free once every server using it is closed and freed.
 */
int rp_http_tls_new(rp_http_tls **out, const char *cert_path,
                    const char *key_path, char *errstr, size_t errstr_size);
void rp_http_tls_free(rp_http_tls *t);

/* Makes every connection s accepts from now on speak TLS with tls
 * (borrowed until s is freed). Call it right after rp_http_server_new,
 * before the loop runs: a connection accepted earlier stays plain. */
void rp_http_server_use_tls(rp_http_server *s, const rp_http_tls *tls);

/*
 * Stops listening, closes every connection (responses in flight are
 * dropped) and frees the server once libuv has closed all its handles; the
 * loop must keep running for that (uv_run returns when it is done, if
 * nothing else holds the loop). The handler is never called after this,
 * and s must not be used again (it may be freed on any later loop turn).
 * NULL is a no-op.
 */
void rp_http_server_close(rp_http_server *s);

/* ---------------------------------------------------------------- query */

/*
 * Finds the first parameter `name` in a raw query string ("a=1&b=x%20y";
 * a null or empty query has no parameters) and writes its value,
 * percent-decoded and with '+' as a space, NUL-terminated into
 * out[out_size]. A parameter without '=' has the empty value. Returns the
 * value's length, RP_ENOTFOUND, or RP_ENOSPACE when the value and its NUL
 * do not fit (out is then an empty string). A '%' not followed by two hex
 * digits is kept as it is; "%00" decodes to a NUL byte, so a value used as
 * a C string should be checked against the returned length.
 */
int rp_http_query_get(rp_str query, const char *name, char *out,
                      size_t out_size);

#endif
