/*
 * proc.c - starting a child process from a test (see proc.h).
 *
 * posix_spawn rather than fork and exec: nothing runs in the child between
 * the two, which matters in a test process with librdkafka's threads (a
 * forked child gets only the calling thread, with whatever locks the
 * others held). Waiting polls waitpid with WNOHANG every 20 ms, so that a
 * deadline needs no SIGCHLD handler and no second thread; a test waits
 * for seconds, so the polling costs nothing that shows.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

extern char **environ;

#define MAX_ARGV 80

/* ---------------------------------------------------------------- time */

double test_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void test_sleep(double seconds) {
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---------------------------------------------------------------- files */

char *test_slurp(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            data = realloc(data, cap);
            cr_assert_not_null(data);
        }
        memcpy(data + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!data)
        data = calloc(1, 1);
    cr_assert_not_null(data);
    data[len] = '\0';
    if (len_out)
        *len_out = len;
    return data;
}

/* ---------------------------------------------------------------- processes */

static bool have_setpriv(void) {
    static int have = -1;
    if (have < 0)
        have = access("/usr/bin/setpriv", X_OK) == 0;
    return have == 1;
}

void test_proc_start(test_proc *p, const char *const *argv, const char *in,
                     char *const *envp, bool pdeathsig) {
    const char *av[MAX_ARGV];
    size_t n = 0;
    if (pdeathsig && have_setpriv()) {
        av[n++] = "/usr/bin/setpriv";
        av[n++] = "--pdeathsig";
        av[n++] = "KILL";
        av[n++] = "--";
    }
    for (size_t i = 0; argv[i]; i++) {
        cr_assert_lt(n, MAX_ARGV - 1, "too many arguments");
        av[n++] = argv[i];
    }
    av[n] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY,
                                     0);
    posix_spawn_file_actions_addopen(&fa, 1, p->out,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, p->err,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(&p->pid, av[0], &fa, &at, (char *const *)av,
                         envp ? envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    cr_assert_eq(rc, 0, "cannot start %s: %s", av[0], strerror(rc));
    p->running = true;
    p->status = 0;
    p->signaled = false;
}

static void reaped(test_proc *p, int st) {
    p->running = false;
    p->signaled = false;
    if (WIFEXITED(st)) {
        p->status = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        p->status = 128 + WTERMSIG(st);
        p->signaled = true;
    } else {
        p->status = 255;
    }
}

bool test_proc_alive(test_proc *p) {
    if (!p->running)
        return false;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid)
        reaped(p, st);
    return p->running;
}

int test_proc_wait(test_proc *p, double timeout_s) {
    double end = test_now() + timeout_s;
    while (test_proc_alive(p)) {
        if (test_now() >= end)
            return -1;
        test_sleep(0.02);
    }
    return p->status;
}

void test_proc_kill(test_proc *p) {
    if (!test_proc_alive(p))
        return;
    kill(p->pid, SIGKILL);
    int st;
    if (waitpid(p->pid, &st, 0) == p->pid)
        reaped(p, st);
}
