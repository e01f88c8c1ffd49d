/*
 * tls.c - TLS on the HTTP server of repute/http.h, with OpenSSL, on the
 * libuv loop.
 *
 * OpenSSL never sees the socket. Each TLS connection has an SSL session
 * with two memory BIOs: the ciphertext libuv reads is written into the
 * read BIO and SSL_read drains the plaintext into the conn's `in` buffer,
 * where the parser finds it exactly as it would find plain HTTP; what
 * response.c sends goes through SSL_write, and the ciphertext that piles
 * up in the write BIO is copied into a write request of its own and
 * handed to uv_write. So the rest of the server does not know whether a
 * connection is encrypted, and nothing blocks the loop: a session that
 * wants more input simply waits for the next read.
 *
 * Writes. A response is at most one write in flight (conn.h), but a
 * session also speaks on its own: the handshake's replies, TLS 1.3's
 * session tickets, a close_notify. Each batch of ciphertext therefore
 * goes out in its own heap-allocated write request (libuv keeps writes on
 * a stream in order), and only the one that carries a response tells
 * response.c when it is done. The allocation per write is the price of
 * that simplicity; it is small next to the encryption itself, and the
 * HTTP server is not repute's hot path.
 *
 * Why here and not in a reverse proxy: the API's limit on failed sign-ins
 * is per client address, which a proxy in front would hide (every client
 * would be the proxy), and operators get one process to run and one
 * configuration to read. The certificate and key are read once, at
 * start-up; TLS 1.2 is the oldest version accepted.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "http/conn.h"

/* ---------------------------------------------------------------- context */

static void ssl_err(char *errstr, size_t errstr_size, const char *what,
                    const char *path) {
    char e[256] = "";
    unsigned long code = ERR_peek_last_error();
    if (code)
        ERR_error_string_n(code, e, sizeof(e));
    ERR_clear_error();
    snprintf(errstr, errstr_size, "%s %s: %s", what, path,
             e[0] ? e : "OpenSSL gave no reason");
}

int rp_http_tls_new(rp_http_tls **out, const char *cert_path,
                    const char *key_path, char *errstr, size_t errstr_size) {
    *out = NULL;
    rp_http_tls *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(errstr, errstr_size, "out of memory");
        return RP_ENOMEM;
    }
    t->ctx = SSL_CTX_new(TLS_server_method());
    if (!t->ctx) {
        ssl_err(errstr, errstr_size, "cannot make a TLS context", "");
        goto fail;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_path) != 1) {
        ssl_err(errstr, errstr_size, "cannot load the certificate", cert_path);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(t->ctx, key_path, SSL_FILETYPE_PEM) != 1) {
        /* The key's path is not named: the configuration treats every
         * value of a key named "key" as a secret (docs/security.md). */
        ssl_err(errstr, errstr_size,
                "cannot load the private key, or it does not match the "
                "certificate,",
                "(http.tls.key.location)");
        goto fail;
    }
    if (SSL_CTX_check_private_key(t->ctx) != 1) {
        ssl_err(errstr, errstr_size,
                "the private key (http.tls.key.location) does not match",
                cert_path);
        goto fail;
    }
    *out = t;
    return 0;
fail:
    rp_http_tls_free(t);
    return RP_EINVAL;
}

void rp_http_tls_free(rp_http_tls *t) {
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

int rp_http_tls_conn_init(conn *c) {
    c->ssl = SSL_new(c->srv->tls->ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
        SSL_free(c->ssl);
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->ssl = NULL;
        c->rbio = c->wbio = NULL;
        ERR_clear_error();
        return RP_ENOMEM;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio); /* the session owns them now */
    SSL_set_accept_state(c->ssl);
    return 0;
}

/* ---------------------------------------------------------------- writing */

typedef struct tls_write {
    uv_write_t req;
    conn *c;
    bool response;
    char data[];
} tls_write;

static void on_tls_write(uv_write_t *req, int status) {
    tls_write *w = (tls_write *)req;
    conn *c = w->c;
    bool response = w->response;
    free(w);
    if (response) {
        rp_http_conn_written(c, status);
        return;
    }
    if (status < 0 && !c->closing)
        rp_http_conn_close(c);
}

/* Sends what the session has written to its BIO, if anything (always
 * something when response is true). Returns 0 or -1. */
static int flush(conn *c, bool response) {
    size_t n = BIO_ctrl_pending(c->wbio);
    if (n == 0 && !response)
        return 0;
    if (n > UINT_MAX)
        return -1;
    tls_write *w = malloc(sizeof(*w) + n);
    if (!w)
        return -1;
    w->c = c;
    w->response = response;
    if (n > 0 && BIO_read(c->wbio, w->data, (int)n) != (int)n) {
        free(w);
        return -1;
    }
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_tls_write) != 0) {
        free(w);
        return -1;
    }
    return 0;
}

int rp_http_tls_write(conn *c, const uv_buf_t *bufs, unsigned n,
                      bool response) {
    for (unsigned i = 0; i < n; i++) {
        /* Without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write into a memory
         * BIO writes everything or fails. */
        if (bufs[i].len > 0 &&
            SSL_write(c->ssl, bufs[i].base, (int)bufs[i].len) <= 0) {
            ERR_clear_error();
            return -1;
        }
    }
    return flush(c, response);
}

void rp_http_tls_close_notify(conn *c) {
    if (!c->ssl || !SSL_is_init_finished(c->ssl))
        return;
    SSL_shutdown(c->ssl);
    ERR_clear_error();
    flush(c, false);
}

/* ---------------------------------------------------------------- reading */

int rp_http_tls_feed(conn *c, const char *data, size_t n) {
    while (n > 0) {
        int w = BIO_write(c->rbio, data, n > INT_MAX ? INT_MAX : (int)n);
        if (w <= 0)
            return -1;
        data += w;
        n -= (size_t)w;
    }
    for (;;) {
        if (rp_http_conn_in_room(c) != 0)
            return -1;
        size_t room = c->in.cap - c->in.len - 1; /* keep rp_buf's NUL */
        int got = SSL_read(c->ssl, c->in.data + c->in.len,
                           room > INT_MAX ? INT_MAX : (int)room);
        if (got > 0) {
            c->in.len += (size_t)got;
            c->in.data[c->in.len] = '\0';
            continue;
        }
        int e = SSL_get_error(c->ssl, got);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            c->peer_eof = true; /* close_notify: no more requests */
            break;
        }
        /* A failed handshake (a plain HTTP client, a client that does not
         * trust the certificate) or a broken record: the alert, if any,
         * goes out before the close. */
        ERR_clear_error();
        flush(c, false);
        return -1;
    }
    return flush(c, false);
}
