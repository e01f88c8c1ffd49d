/*
 * cli.c - running the built `repute` binary from unit tests (see cli.h).
 *
 * A run is one child process (proc.c, shared with the integration tests)
 * with its standard input, output and error in temporary files, which are
 * read back whole and removed once it has exited: a unit test wants the
 * whole of each, after the fact, and the files never fill up as a pipe
 * would.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "proc.h"

char *slurp(const char *path) {
    char *data = test_slurp(path, NULL);
    cr_assert_not_null(data, "cannot open %s", path);
    return data;
}

void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
}

char *temp_path(void) {
    char *path = strdup("/tmp/repute-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    return path;
}

/* Runs REPUTE_BINARY with args (NULL-terminated, without argv[0]) and
 * `input` on standard input, and waits at most 60 s for it. */
run_result run(const char *const *args, const char *input) {
    char *in = temp_path(), *out = temp_path(), *err = temp_path();
    const char *argv[32];
    size_t argc = 0;
    argv[argc++] = REPUTE_BINARY;
    for (; args[argc - 1]; argc++) {
        cr_assert_lt(argc, 31);
        argv[argc] = args[argc - 1];
    }
    argv[argc] = NULL;
    write_file(in, input ? input : "");

    test_proc p;
    memset(&p, 0, sizeof(p));
    snprintf(p.label, sizeof(p.label), "%s", args[0]);
    snprintf(p.out, sizeof(p.out), "%s", out);
    snprintf(p.err, sizeof(p.err), "%s", err);
    test_proc_start(&p, argv, in, NULL, false);
    if (test_proc_wait(&p, 60) < 0) {
        test_proc_kill(&p);
        cr_assert_fail("%s did not exit within 60 s", args[0]);
    }

    run_result r;
    r.status = p.signaled ? -1 : p.status;
    r.out = slurp(out);
    r.err = slurp(err);
    unlink(in);
    unlink(out);
    unlink(err);
    free(in);
    free(out);
    free(err);
    return r;
}

void run_free(run_result *r) {
    free(r->out);
    free(r->err);
}
