/*
 * cli.h - helpers for the unit tests that run the built `repute` binary
 * (REPUTE_BINARY) as a user would: arguments, standard input, exit status,
 * standard output and error. The strings they return are the caller's to
 * free (run_free, free).
 */
#ifndef REPUTE_TEST_CLI_H
#define REPUTE_TEST_CLI_H

typedef struct run_result {
    int status; /* the exit status, or -1 when it did not exit normally */
    char *out;  /* standard output, NUL-terminated */
    char *err;  /* standard error, NUL-terminated */
} run_result;

/* A NULL-terminated argument list for run(). */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The whole file, NUL-terminated; the caller frees it. */
char *slurp(const char *path);
void write_file(const char *path, const char *text);
/* A fresh temporary path (the file exists, empty); the caller frees it. */
char *temp_path(void);
/* Runs REPUTE_BINARY with args (NULL-terminated, without argv[0]) and
 * `input` on standard input, and waits at most 60 s for it. */
run_result run(const char *const *args, const char *input);
void run_free(run_result *r);

#endif
