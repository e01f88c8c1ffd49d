/*
 * conn.h - the server and the connection of repute/http.h, and what the
 * files of the HTTP server share. Private to src/http.
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
 * With TLS (tls.c) the same machine runs on plaintext: what is read is
 * decrypted into `in` before the parser sees it, and what response.c
 * writes is encrypted on its way out, through two memory BIOs, so that
 * OpenSSL never touches the socket and the loop never blocks.
 *
 * The machine is cut by subject into four files: server.c listens,
 * accepts and closes (the server's and every conn's lifetime), request.c
 * reads and parses (bytes in, the parser, the limits, the target; also
 * rp_http_query_get), and response.c calls the handler and writes (the
 * status line and headers, the errors the server sends by itself, the
 * close after the last response), and tls.c wraps the bytes in and out
 * in TLS. They call each other through the
 * functions below, each named after the file that defines it.
 *
 * Ownership: the server owns its conns (server.c frees them); a conn owns
 * its buffers and handles.
 */
#ifndef REPUTE_HTTP_CONN_H
#define REPUTE_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <http_parser.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <uv.h>

#include "repute/buf.h"
#include "repute/http.h"

#define READ_CHUNK 16384 /* room reserved for each read */
#define LINGER_MS  2000  /* read and drop input this long after the end */

/* ---------------------------------------------------------------- types */

typedef struct conn conn;

struct rp_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    rp_http_limits limits;
    rp_http_handler_fn fn;
    void *opaque;
    const rp_http_tls *tls; /* borrowed; NULL: plain HTTP */
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
    struct sockaddr_storage peer; /* the client's address */
    bool has_peer;

    /* TLS (tls.c): NULL for plain HTTP. The session owns both memory
     * BIOs: ciphertext read from the socket goes into rbio, and what the
     * session writes to wbio is sent by tls.c. */
    SSL *ssl;
    BIO *rbio, *wbio;
    rp_buf tls_in; /* ciphertext as read, fed to rbio at once */

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
    bool in_field;  /* the last header callback was a field name */
    char field[16]; /* the start of the current field's name */
    size_t field_len;
    bool value_is_auth; /* the current value is Authorization's */
    bool has_auth;      /* the request has an Authorization field */
    rp_buf auth;        /* its value */
    rp_buf body;        /* a POST's body */
    enum phase phase;
    bool is_head;
    bool is_post;
    bool msg_done;
    bool keep_alive;
    int err_status; /* set by a callback that rejects the request */
    const char *err_reason;

    /* The response in flight: head holds its status line and headers. */
    rp_buf head;
    rp_http_response res;
    /* A response the handler deferred (repute/http.h); it points back at
     * this conn until the conn closes. */
    rp_http_deferred *deferred;

    int handles;   /* open libuv handles; the conn is freed at 0 */
    bool counted;  /* counted in srv->n_active */
    bool rejected; /* answered 503, counted in srv->n_rejected */
    bool reading;
    bool writing;
    bool lingering; /* the final response is out; input is dropped */
    bool peer_eof;
    bool closing;
};

/* ----------------------------------------------------------------- server.c */

/* Starts closing c (both handles); it is freed in the last close callback,
 * never on the stack of the caller. Idempotent. */
void rp_http_conn_close(conn *c);

/* The timer callback of every conn, idle or lingering: closes it. */
void rp_http_conn_on_timer(uv_timer_t *t);

/* ------------------------------------------------------------------- tls.c */

struct rp_http_tls {
    SSL_CTX *ctx;
};

/* Makes c's TLS session (accept state). Returns 0 or RP_ENOMEM. */
int rp_http_tls_conn_init(conn *c);

/* Feeds n bytes of ciphertext read from the socket to c's session and
 * appends the plaintext it yields to c->in; sends what the session has to
 * say back (the handshake). Returns 0, or -1 when the session failed (the
 * caller closes c). A close_notify from the peer sets c->peer_eof. */
int rp_http_tls_feed(conn *c, const char *data, size_t n);

/* Encrypts bufs and queues the ciphertext; when `response` is true the
 * write's completion calls rp_http_conn_written. Returns 0 or -1. */
int rp_http_tls_write(conn *c, const uv_buf_t *bufs, unsigned n, bool response);

/* Queues a close_notify, before the server shuts its side down. */
void rp_http_tls_close_notify(conn *c);

/* ---------------------------------------------------------------- request.c */

/* Feeds the unparsed input to the parser, one request at a time, until it
 * runs out, a response is in flight, or the connection ends. */
void rp_http_conn_process(conn *c);

/* Moves the unparsed input to the front of c->in and reserves READ_CHUNK
 * bytes after it. Returns 0 or RP_ENOMEM. */
int rp_http_conn_in_room(conn *c);

/* Start and stop reading from c; both are no-ops when already done (and
 * start also after the peer's EOF). A failed start closes c. */
void rp_http_conn_read_start(conn *c);
void rp_http_conn_read_stop(conn *c);

/* --------------------------------------------------------------- response.c */

/* Calls the handler for the complete request and sends its response. */
void rp_http_conn_respond(conn *c);

/* The end of a response's write (status < 0: it failed): parses on, or
 * ends the connection after its last response. */
void rp_http_conn_written(conn *c, int status);

/* The deferred response of repute/http.h: conn is NULL once the
 * connection has closed. */
struct rp_http_deferred {
    conn *c;
};

/* Answers a request the server refuses by itself; the connection ends. */
void rp_http_send_error(conn *c, int status, const char *reason);

/* Answers a connection beyond max_connections with a fixed 503 and ends
 * it; its input is never parsed. */
void rp_http_send_busy(conn *c);

#endif
