/*
 * test_http_tls.c - TLS on the HTTP server of repute/http.h (src/http/tls.c).
 *
 * A throwaway CA and a certificate for 127.0.0.1 are made in the test
 * process with OpenSSL's API (as tests/tls/make-ca.sh makes them with the
 * openssl command, which would be far too slow under valgrind's
 * --trace-children); the server runs on a libuv loop in a
 * second thread, and the test thread is an OpenSSL client on a blocking
 * socket that verifies the server's certificate against the CA and its IP
 * address, as curl would. The handler echoes the method, the
 * Authorization field and the body.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <uv.h>

#include "repute/http.h"

static char dir[] = "/tmp/repute-tls-XXXXXX";
static char ca[300], crt[300], key[300], ca_key[300];

static uv_loop_t loop;
static uv_async_t stop;
static rp_http_server *srv;
static rp_http_tls *tls;
static pthread_t thread;
static int port;

static void handler(void *opaque, const rp_http_request *req,
                    rp_http_response *res) {
    (void)opaque;
    res->content_type = "text/plain";
    if (strcmp(req->path.ptr, "/big") == 0) {
        for (int i = 0; i < 1024 * 1024 / 64; i++)
            rp_buf_printf(&res->body, "%063d\n", i);
        return;
    }
    rp_buf_printf(&res->body, "%s %s tls=%d auth=%.*s body=%.*s", req->method,
                  req->path.ptr, req->tls, (int)req->authorization.len,
                  req->authorization.ptr ? req->authorization.ptr : "",
                  (int)req->body.len, req->body.ptr);
}

static void on_stop(uv_async_t *a) {
    rp_http_server_close(srv);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_thread(void *arg) {
    (void)arg;
    uv_run(&loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ------------------------------------------------------- certificates */

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    cr_assert_not_null(ext, "extension %d=%s", nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/* A certificate for key, named cn, signed by issuer_key (self-signed when
 * issuer is NULL), valid for a day. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
                       EVP_PKEY *issuer_key, bool is_ca, long serial) {
    X509 *x = X509_new();
    cr_assert_not_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : x;
    if (is_ca) {
        add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
        add_ext(x, iss, NID_ext_key_usage, "serverAuth");
        add_ext(x, iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    }
    cr_assert_gt(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), 0);
    return x;
}

static void write_pem(const char *path, EVP_PKEY *key, X509 *cert) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    if (key)
        cr_assert_eq(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL),
                     1);
    if (cert)
        cr_assert_eq(PEM_write_X509(f, cert), 1);
    fclose(f);
}

/* ca.pem, ca.key, broker.crt and broker.key in dir, as make-ca.sh writes
 * them (EC P-256). */
static void make_ca(void) {
    EVP_PKEY *ck = EVP_EC_gen("P-256"), *sk = EVP_EC_gen("P-256");
    cr_assert(ck && sk);
    X509 *cc = make_cert(ck, "repute test CA", NULL, NULL, true, 1);
    X509 *sc = make_cert(sk, "localhost", cc, ck, false, 2);
    write_pem(ca, NULL, cc);
    write_pem(ca_key, ck, NULL);
    write_pem(crt, NULL, sc);
    write_pem(key, sk, NULL);
    X509_free(cc);
    X509_free(sc);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(sk);
}

/* ---------------------------------------------------------------- server */

static void setup(void) {
    signal(SIGPIPE, SIG_IGN);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    snprintf(ca_key, sizeof(ca_key), "%s/ca.key", dir);
    snprintf(crt, sizeof(crt), "%s/broker.crt", dir);
    snprintf(key, sizeof(key), "%s/broker.key", dir);
    make_ca();

    char err[512];
    cr_assert_eq(rp_http_tls_new(&tls, crt, key, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(rp_http_server_new(&srv, &loop, "127.0.0.1:0", NULL, handler,
                                    NULL, err, sizeof(err)),
                 0, "%s", err);
    rp_http_server_use_tls(srv, tls);
    port = rp_http_server_port(srv);
    cr_assert_eq(uv_async_init(&loop, &stop, on_stop), 0);
    cr_assert_eq(pthread_create(&thread, NULL, loop_thread, NULL), 0);
}

static void teardown(void) {
    uv_async_send(&stop);
    pthread_join(thread, NULL);
    cr_assert_eq(uv_loop_close(&loop), 0, "handles left open on the loop");
    rp_http_tls_free(tls);
    unlink(ca);
    unlink(ca_key);
    unlink(crt);
    unlink(key);
    rmdir(dir);
}

TestSuite(http_tls, .init = setup, .fini = teardown, .timeout = 60);

/* ---------------------------------------------------------------- client */

static int tcp_connect(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

typedef struct tclient {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
} tclient;

/* Connects and shakes hands, verifying the certificate against cafile
 * and the IP address 127.0.0.1. Returns 0, or -1 when the handshake
 * fails. */
static int tls_open(tclient *c, const char *cafile) {
    c->ctx = SSL_CTX_new(TLS_client_method());
    cr_assert_not_null(c->ctx);
    cr_assert_eq(SSL_CTX_load_verify_locations(c->ctx, cafile, NULL), 1);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    c->fd = tcp_connect();
    c->ssl = SSL_new(c->ctx);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1");
    SSL_set_fd(c->ssl, c->fd);
    int rc = SSL_connect(c->ssl) == 1 ? 0 : -1;
    ERR_clear_error();
    return rc;
}

static void tls_close(tclient *c) {
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    close(c->fd);
}

static void tls_send(tclient *c, const char *s) {
    cr_assert_eq(SSL_write(c->ssl, s, (int)strlen(s)), (int)strlen(s));
}

/* Reads one response with a Content-Length body into out; returns the
 * status. */
static int tls_response(tclient *c, char *out, size_t out_size) {
    static char buf[2 * 1024 * 1024];
    size_t len = 0;
    char *end = NULL;
    long clen = -1;
    for (;;) {
        buf[len] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "Content-Length: ");
            cr_assert_not_null(cl);
            clen = strtol(cl + 16, NULL, 10);
        }
        if (end && len >= (size_t)(end + 4 - buf) + (size_t)clen)
            break;
        int n = SSL_read(c->ssl, buf + len, (int)(sizeof(buf) - 1 - len));
        cr_assert_gt(n, 0, "the connection ended before a whole response");
        len += (size_t)n;
    }
    int status = 0;
    cr_assert_eq(sscanf(buf, "HTTP/1.1 %d", &status), 1);
    snprintf(out, out_size, "%.*s", (int)clen, end + 4);
    return status;
}

/* ---------------------------------------------------------------- tests */

Test(http_tls, handshake_get_post_keep_alive) {
    tclient c;
    cr_assert_eq(tls_open(&c, ca), 0, "the handshake failed");
    char body[256];
    tls_send(&c, "GET /a HTTP/1.1\r\nHost: x\r\n"
                 "Authorization: Bearer t0k\r\n\r\n");
    cr_assert_eq(tls_response(&c, body, sizeof(body)), 200);
    cr_assert_str_eq(body, "GET /a tls=1 auth=Bearer t0k body=");
    /* The same connection, pipelined: a POST with a body, then a GET. */
    tls_send(&c, "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                 "GET /b HTTP/1.1\r\n\r\n");
    cr_assert_eq(tls_response(&c, body, sizeof(body)), 200);
    cr_assert_str_eq(body, "POST /p tls=1 auth= body=hello");
    cr_assert_eq(tls_response(&c, body, sizeof(body)), 200);
    cr_assert_str_eq(body, "GET /b tls=1 auth= body=");
    tls_close(&c);
}

Test(http_tls, a_large_response) {
    tclient c;
    cr_assert_eq(tls_open(&c, ca), 0);
    tls_send(&c, "GET /big HTTP/1.1\r\n\r\n");
    static char body[1024 * 1024 + 16];
    cr_assert_eq(tls_response(&c, body, sizeof(body)), 200);
    cr_assert_eq(strlen(body), 1024 * 1024);
    cr_assert_eq(strncmp(body + 1024 * 1024 - 64,
                         "000000000000000000000000000000000000000000000000000"
                         "000000016383\n",
                         64),
                 0);
    tls_close(&c);
}

Test(http_tls, plain_http_gets_no_answer) {
    int fd = tcp_connect();
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    /* An alert at most, never an HTTP response, then the end. */
    cr_assert(n <= 0 || strncmp(buf, "HTTP/", 5) != 0);
    close(fd);
    /* The server still serves TLS. */
    tclient c;
    cr_assert_eq(tls_open(&c, ca), 0);
    tls_close(&c);
}

Test(http_tls, a_client_that_does_not_trust_the_ca_fails) {
    /* The CA's own certificate is not the server's issuer's... use the
     * server certificate itself as the only trust anchor: not a CA, so
     * verification fails. */
    tclient c;
    cr_assert_eq(tls_open(&c, crt), -1);
    tls_close(&c);
}

Test(http_tls, bad_files_are_refused_with_a_reason) {
    rp_http_tls *t = NULL;
    char err[512];
    cr_assert_eq(rp_http_tls_new(&t, "/nonexistent.pem", key, err, sizeof(err)),
                 RP_EINVAL);
    cr_assert_null(t);
    cr_assert(strstr(err, "certificate /nonexistent.pem"), "%s", err);
    /* The CA's key does not match the server's certificate. */
    cr_assert_eq(rp_http_tls_new(&t, crt, ca_key, err, sizeof(err)), RP_EINVAL);
    cr_assert(strstr(err, "does not match"), "%s", err);
    cr_assert_null(strstr(err, ca_key), "the key's path is shown: %s", err);
    rp_http_tls_free(NULL);
}
