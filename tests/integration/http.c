/*
 * http.c - a small HTTP client for the tests of run's HTTP server.
 *
 * A test must be able to send what no well-behaved client would (a request
 * cut short, an oversized header), so the client is a plain socket: it
 * writes the bytes it is given and reads until the server closes the
 * connection, which the server does after every answer to a request that
 * asks for Connection: close. Nothing is parsed but the status code and
 * the end of the headers. The port comes from run's own log line, since
 * every run of the tests listens on a port the system picks.
 */
#include "support_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

it_reply it_http_raw(int port, const char *req, size_t len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0,
                 "cannot connect to the HTTP port 127.0.0.1:%d", port);
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may close early on an oversized request */
        sent += (size_t)w;
    }
    /* The server closes the connection after its answer, so everything
     * up to the end is the response. */
    size_t n = 0, cap = 65536;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    ssize_t r;
    while ((r = recv(fd, buf + n, cap - n - 1, 0)) > 0) {
        n += (size_t)r;
        if (cap - n < 4096) {
            buf = realloc(buf, cap *= 2);
            cr_assert_not_null(buf);
        }
    }
    close(fd);
    buf[n] = '\0';
    it_reply rep = {0, buf, buf + n, n, sent};
    sscanf(buf, "HTTP/1.%*d %d", &rep.status);
    char *sep = strstr(buf, "\r\n\r\n");
    if (sep) {
        *sep = '\0';
        rep.body = sep + 4;
    }
    return rep;
}

it_reply it_http(int port, const char *method, const char *path) {
    char req[2048];
    int len = snprintf(req, sizeof(req),
                       "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                       "0\r\nConnection: close\r\n\r\n",
                       method, path);
    cr_assert(len > 0 && (size_t)len < sizeof(req));
    it_reply r = it_http_raw(port, req, (size_t)len);
    cr_assert_eq(r.sent, (size_t)len, "%s %s: the request was not sent whole",
                 method, path);
    return r;
}

void it_reply_free(it_reply *r) {
    free(r->head);
    memset(r, 0, sizeof(*r));
}

int it_http_port(it_proc *run) {
    double end = it_now() + 60;
    for (;;) {
        char *log = it_slurp(run->err, NULL);
        const char *at = strstr(log, "run: HTTP on ");
        const char *colon = at ? strchr(at + 13, ':') : NULL;
        int port = colon ? atoi(colon + 1) : 0;
        free(log);
        if (port > 0)
            return port;
        if (!it_alive(run))
            it_dump_log(run, 20);
        cr_assert(it_alive(run),
                  "%s exited with status %d before its HTTP server started "
                  "(see %s)",
                  run->label, run->status, run->err);
        cr_assert(it_now() < end,
                  "%s logged no \"run: HTTP on HOST:PORT\" line within 60 s "
                  "(see %s)",
                  run->label, run->err);
        it_sleep(0.05);
    }
}

/* Every page that does not depend on an account. */
const char *const it_http_pages[] = {"/",
                                     "/app.js",
                                     "/app.css",
                                     "/healthz",
                                     "/readyz",
                                     "/metrics",
                                     "/v1/summary",
                                     "/v1/accounts",
                                     "/v1/accounts?limit=1000",
                                     "/v1/accounts?status=SENDING_PAUSED",
                                     "/v1/accounts/no-such-account",
                                     "/no-such-page",
                                     NULL};

static void assert_absent(int port, const char *path, const char *needle) {
    it_reply r = it_http(port, "GET", path);
    cr_assert(r.status > 0, "GET %s: no HTTP response", path);
    cr_assert_null(memmem(r.head, r.len, needle, strlen(needle)),
                   "GET %s (status %d) holds \"%s\"", path, r.status, needle);
    it_reply_free(&r);
}

void it_http_assert_absent(int port, const char *const *accounts,
                           const char *needle) {
    for (size_t i = 0; it_http_pages[i]; i++)
        assert_absent(port, it_http_pages[i], needle);
    for (size_t i = 0; accounts[i]; i++) {
        char path[512];
        snprintf(path, sizeof(path), "/v1/accounts/%s", accounts[i]);
        assert_absent(port, path, needle);
    }
}
