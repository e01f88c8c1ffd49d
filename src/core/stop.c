/*
 * stop.c - SIGINT and SIGTERM as "stop cleanly" (see repute/stop.h).
 *
 * A self-pipe: the handler notes the signal in an atomic and writes one
 * byte to a non-blocking pipe, and does nothing else, so that it is
 * async-signal-safe and may run on any thread (librdkafka blocks signals
 * in its own threads, but a thread of libuv's pool may take one). Nobody
 * reads the byte: the read end stays readable, a latch that every later
 * poll(2) or uv_poll sees at once, so that a signal that came before a
 * wait began is not missed by it, whatever the order.
 *
 * A second signal exits at once from the handler with _exit (no atexit
 * handlers, no flushing of stdio, which a handler may not touch); the
 * process then leaves what it was doing as a crash would, and Kafka's
 * guarantees (an open transaction is aborted by the broker) take over.
 *
 * The handlers are installed with sigaction without SA_RESTART: a
 * blocking read of the main thread (produce's standard input) returns
 * EINTR, and the reader looks at rp_stop_signal().
 */
#include "repute/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "repute/types.h"

static atomic_int n_signals;
static atomic_int first_signal;
static int pipefd[2] = {-1, -1};
static atomic_bool installed;

static void say(const char *s) {
    ssize_t w = write(STDERR_FILENO, s, strlen(s));
    (void)w;
}

static void on_signal(int sig) {
    int saved = errno;
    if (atomic_fetch_add(&n_signals, 1) > 0) {
        say(sig == SIGINT ? "repute: second signal (SIGINT), exiting at once "
                            "with status 130\n"
                          : "repute: second signal (SIGTERM), exiting at "
                            "once with status 143\n");
        _exit(128 + sig);
    }
    atomic_store(&first_signal, sig);
    ssize_t w = write(pipefd[1], "s", 1);
    (void)w;
    errno = saved;
}

int rp_stop_install(char *errstr, size_t errstr_size) {
    if (atomic_load(&installed))
        return 0;
    if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(errstr, errstr_size, "cannot make the signal pipe: %s",
                 strerror(errno));
        return RP_EIO;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* Both signals blocked while either's handler runs, so that the count
     * and the pipe are seen in order. */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    if (sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGTERM, &sa, NULL) != 0) {
        snprintf(errstr, errstr_size, "cannot handle SIGINT and SIGTERM: %s",
                 strerror(errno));
        return RP_EIO;
    }
    /* A signal blocked by whoever started us would wait forever. */
    sigset_t ours;
    sigemptyset(&ours);
    sigaddset(&ours, SIGINT);
    sigaddset(&ours, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &ours, NULL);
    atomic_store(&installed, true);
    return 0;
}

bool rp_stop_installed(void) {
    return atomic_load(&installed);
}

int rp_stop_signal(void) {
    return atomic_load(&first_signal);
}

const char *rp_stop_signal_name(int sig) {
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

int rp_stop_fd(void) {
    return atomic_load(&installed) ? pipefd[0] : -1;
}

bool rp_stop_wait(int ms) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int left = ms;
    while (!rp_stop_signal() && left > 0) {
        struct pollfd pfd = {rp_stop_fd(), POLLIN, 0};
        /* Without the pipe (nothing installed) poll just sleeps. */
        poll(&pfd, pfd.fd >= 0 ? 1 : 0, left);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long spent = (long)(t1.tv_sec - t0.tv_sec) * 1000 +
                     (t1.tv_nsec - t0.tv_nsec) / 1000000;
        left = ms - (int)spent;
    }
    return rp_stop_signal() != 0;
}
