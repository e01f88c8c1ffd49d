/*
 * proc.h - starting a child process from a test, for the unit tests (cli.c)
 * and the integration tests (tests/integration) alike.
 *
 * A test starts a program as a user would, with posix_spawn: standard
 * input from a file (or /dev/null), standard output and error to files,
 * which the test reads once the program is done or while it runs. Files
 * rather than pipes, so that a program that writes much never blocks on a
 * test that is not reading, and so that the output of a failed test stays
 * on disk for a post-mortem. The signals a test process may block or
 * ignore (SIGTERM, SIGINT, SIGPIPE) are given back their defaults in the
 * child, so that the program behaves as it would from a shell. A child can
 * be waited for with a deadline, signalled and killed; nothing here
 * remembers it, so killing what a test left running is the caller's
 * business (the integration tests keep a list, see it_fini).
 *
 * Failures to start fail the test (Criterion asserts). The caller owns the
 * test_proc; nothing is allocated.
 */
#ifndef REPUTE_TEST_PROC_H
#define REPUTE_TEST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TEST_PATH_MAX 1024

typedef struct test_proc {
    pid_t pid;
    char label[64];          /* for messages */
    char out[TEST_PATH_MAX]; /* standard output */
    char err[TEST_PATH_MAX]; /* standard error */
    bool running;
    /* Once it ended: its exit status, or 128 + N when signal N killed it
     * (signaled tells which). */
    int status;
    bool signaled;
} test_proc;

/*
 * Starts argv (argv[0] a path; at most 75 arguments) with standard input
 * from the file in (NULL: /dev/null) and standard output and error to the
 * files p->out and p->err (created or truncated), which the caller has
 * set, in the environment envp (NULL: the test's). With pdeathsig, where
 * /usr/bin/setpriv exists, the child also gets SIGKILL when the test
 * process dies (a Criterion timeout). Fails the test when it cannot start.
 */
void test_proc_start(test_proc *p, const char *const *argv, const char *in,
                     char *const *envp, bool pdeathsig);
/* True while the process has not exited (reaps it if it has). */
bool test_proc_alive(test_proc *p);
/* Waits up to timeout_s for the process to exit. Returns its status, or -1
 * when it is still running at the deadline. */
int test_proc_wait(test_proc *p, double timeout_s);
/* Kills with SIGKILL and reaps (nothing when it has already exited). */
void test_proc_kill(test_proc *p);

/* The whole file, NUL-terminated (its length, without the NUL, in *len
 * when len is not NULL), or NULL when it cannot be opened. The caller
 * frees it. */
char *test_slurp(const char *path, size_t *len);

/* Seconds of a monotonic clock; sleeping (through signals). */
double test_now(void);
void test_sleep(double seconds);

#endif
