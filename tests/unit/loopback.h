/*
 * loopback.h - the loopback sockets of the unit tests that serve HTTP on a
 * port of their own: a port that is free now, and a client connection to
 * it with a receive timeout, so that a server that never answers fails the
 * test rather than hanging it. Shared by the served-API fixtures
 * (api_served_fixture.h, test_api_actions.c) and the HTTP tests
 * (http_support.h), which had a copy each.
 */
#ifndef REPUTE_TESTS_LOOPBACK_H
#define REPUTE_TESTS_LOOPBACK_H

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

/* A loopback port free now (bound and released at once). */
static inline int loopback_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof(sa);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &n), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* A connection to 127.0.0.1:port whose receives time out after
 * timeout_s seconds; the test fails when it cannot connect. The caller
 * closes it. */
static inline int loopback_connect(int port, int timeout_s) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0,
                 "connect: %s", strerror(errno));
    return fd;
}

#endif
