/*
 * test_signals_cli.c - SIGINT and SIGTERM stop `repute produce` and
 * `repute tail` cleanly where they wait, without a broker (docs/run.md,
 * "Signals"; `repute run` is tests/integration/test_signals.c).
 *
 * produce reads its standard input from a FIFO that the test keeps open,
 * so it waits for a line that never comes; tail waits for a broker that is
 * not there. The signal comes while they wait, as SIGINT ignored at exec
 * (a shell's background job) or as SIGTERM, and each must end within
 * STOP_BOUND_S with exit status 0 and say where it stopped. A record that
 * can never be acknowledged (no broker) is given up STOP_GRACE_S after the
 * signal and reported (exit status 1). A second signal ends the process at
 * once with 128 + its number.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "proc.h"

#define NO_BROKER    "kafka.bootstrap.servers=127.0.0.1:1"
#define STOP_BOUND_S 5.0
#define STOP_GRACE_S 5.0 /* produce's wait for acknowledgements (produce.c) */

static const char tick_delivery[] =
    "{\"type\":\"tick\",\"time\":1772000000000}\n"
    "{\"type\":\"delivery\",\"event_id\":\"e1\",\"account_id\":\"a1\","
    "\"event_time\":1772000000000,\"message_id\":\"m1\","
    "\"recipient\":\"u@example.com\"}\n";
static const char tick[] = "{\"type\":\"tick\",\"time\":1772000000000}\n";
/* What produce says once it has read the tick line. */
#define TICK_READ "tick lines are skipped"

/* A child with its own files; `ignore_int` starts it through a shell that
 * ignores SIGINT before exec, as `cmd &` in a script does. */
typedef struct child {
    test_proc p;
    char *fifo; /* standard input (produce), or NULL */
    int fifo_fd;
} child;

static void start(child *c, bool ignore_int, const char *const *args,
                  const char *input) {
    const char *argv[32];
    size_t n = 0;
    if (ignore_int) {
        argv[n++] = "/bin/sh";
        argv[n++] = "-c";
        argv[n++] = "trap '' INT; exec \"$@\"";
        argv[n++] = "sh";
    }
    argv[n++] = REPUTE_BINARY;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    memset(c, 0, sizeof(*c));
    c->fifo_fd = -1;
    char *out = temp_path(), *err = temp_path();
    snprintf(c->p.out, sizeof(c->p.out), "%s", out);
    snprintf(c->p.err, sizeof(c->p.err), "%s", err);
    free(out);
    free(err);
    snprintf(c->p.label, sizeof(c->p.label), "%s", args[0]);
    if (input) {
        /* Open for writing (and reading, so that it never blocks) before
         * the child opens it: the input stays open, with no end. */
        c->fifo = temp_path();
        unlink(c->fifo);
        cr_assert_eq(mkfifo(c->fifo, 0600), 0);
        c->fifo_fd = open(c->fifo, O_RDWR);
        cr_assert_geq(c->fifo_fd, 0);
        ssize_t w = write(c->fifo_fd, input, strlen(input));
        cr_assert_eq(w, (ssize_t)strlen(input));
    }
    test_proc_start(&c->p, argv, c->fifo, NULL, true);
}

static void finish(child *c) {
    if (c->p.running)
        test_proc_kill(&c->p);
    if (c->fifo_fd >= 0)
        close(c->fifo_fd);
    if (c->fifo) {
        unlink(c->fifo);
        free(c->fifo);
    }
    unlink(c->p.out);
    unlink(c->p.err);
}

static bool err_has(const child *c, const char *needle) {
    char *s = test_slurp(c->p.err, NULL);
    bool has = s && strstr(s, needle);
    free(s);
    return has;
}

/* Waits (up to 60 s: tests/valgrind.sh runs the child under valgrind)
 * for `ready` on the child's standard error, the sign that it waits where
 * the test wants it, its handlers long installed. */
static void wait_ready(child *c, const char *ready) {
    double end = test_now() + 60;
    while (!err_has(c, ready)) {
        cr_assert(test_proc_alive(&c->p), "%s exited before \"%s\"", c->p.label,
                  ready);
        cr_assert(test_now() < end, "%s: no \"%s\" within 60 s", c->p.label,
                  ready);
        test_sleep(0.02);
    }
}

/* Waits for `ready`, sends sig and waits up to bound_s for the exit;
 * returns the status, and the seconds it took in *took. */
static int signal_and_wait(child *c, const char *ready, int sig, double bound_s,
                           double *took) {
    wait_ready(c, ready);
    test_sleep(0.2);
    double t0 = test_now();
    kill(c->p.pid, sig);
    int st = test_proc_wait(&c->p, bound_s);
    *took = test_now() - t0;
    cr_assert_neq(st, -1, "%s did not stop within %.0f s of the signal",
                  c->p.label, bound_s);
    return st;
}

Test(signals_cli, produce_stops_while_it_waits_for_a_line) {
    const int sigs[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < 2; i++) {
        child c;
        start(&c, sigs[i] == SIGINT, ARGS("produce", "--set", NO_BROKER, "-"),
              tick);
        double took;
        int st = signal_and_wait(&c, TICK_READ, sigs[i], STOP_BOUND_S, &took);
        char *err = test_slurp(c.p.err, NULL);
        cr_expect_eq(st, 0, "status %d: %s", st, err);
        char want[96];
        snprintf(want, sizeof(want), "stopped by %s after line 1",
                 sigs[i] == SIGINT ? "SIGINT" : "SIGTERM");
        cr_expect(strstr(err, want), "no \"%s\": %s", want, err);
        cr_expect(strstr(err, "0 records sent"), "%s", err);
        free(err);
        finish(&c);
    }
}

Test(signals_cli, produce_gives_up_what_no_broker_acknowledges) {
    child c;
    start(&c, false, ARGS("produce", "--set", NO_BROKER, "-"), tick_delivery);
    double took;
    int st = signal_and_wait(&c, TICK_READ, SIGTERM,
                             STOP_GRACE_S + STOP_BOUND_S, &took);
    char *err = test_slurp(c.p.err, NULL);
    cr_expect_eq(st, 1, "status %d: %s", st, err);
    cr_expect_geq(took, STOP_GRACE_S - 0.5, "gave up after %.1f s", took);
    cr_expect(strstr(err, "stopped by SIGTERM after line 2"), "%s", err);
    cr_expect(strstr(err, "giving up on the 1 records still waiting"), "%s",
              err);
    cr_expect(strstr(err, "1 record not acknowledged"), "%s", err);
    free(err);
    finish(&c);
}

Test(signals_cli, tail_stops_while_it_waits_for_the_broker) {
    const int sigs[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < 2; i++) {
        child c;
        start(&c, sigs[i] == SIGINT, ARGS("tail", "--set", NO_BROKER), NULL);
        double took;
        int st =
            signal_and_wait(&c, "waiting for", sigs[i], STOP_BOUND_S, &took);
        cr_expect_eq(st, 0, "status %d after %.1f s", st, took);
        finish(&c);
    }
}

Test(signals_cli, a_second_signal_exits_at_once) {
    child c;
    start(&c, false, ARGS("produce", "--set", NO_BROKER, "-"), tick_delivery);
    wait_ready(&c, TICK_READ);
    test_sleep(0.2);
    /* Both come before produce can act on the first: the kernel hands
     * SIGINT (2) over before SIGTERM (15), which is the second. */
    kill(c.p.pid, SIGSTOP);
    kill(c.p.pid, SIGTERM);
    kill(c.p.pid, SIGINT);
    kill(c.p.pid, SIGCONT);
    int st = test_proc_wait(&c.p, STOP_BOUND_S);
    cr_assert_neq(st, -1, "produce did not exit after a second signal");
    cr_expect(!c.p.signaled, "killed by the signal instead of exiting");
    cr_expect(st == 130 || st == 143, "status %d", st);
    cr_expect(err_has(&c, st == 130 ? "second signal (SIGINT), exiting at "
                                      "once with status 130"
                                    : "second signal (SIGTERM), exiting at "
                                      "once with status 143"),
              "status %d", st);
    cr_expect(!err_has(&c, "records sent"), "produce stopped cleanly");
    finish(&c);
}
