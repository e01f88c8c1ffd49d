/*
 * cli.c - running the built `repute` binary from unit tests (see cli.h).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *data = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
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
    data[len] = '\0';
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

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_TRUNC, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_TRUNC, 0);
    pid_t pid;
    int rc =
        posix_spawn(&pid, REPUTE_BINARY, &fa, NULL, (char **)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot run %s", REPUTE_BINARY);

    int ws = 0;
    pid_t got = 0;
    for (int i = 0; i < 600 && (got = waitpid(pid, &ws, WNOHANG)) == 0; i++)
        usleep(100 * 1000);
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &ws, 0);
        cr_assert_fail("%s did not exit within 60 s", args[0]);
    }

    run_result r;
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
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
