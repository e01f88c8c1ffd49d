/*
 * config_support.h - what the tests of the configuration (src/config/)
 * share: test_config.c, test_config_errors.c, test_config_files.c and
 * test_config_validate.c. A fresh rp_config per test (the suite "config"),
 * set_ok and set_fails, a temporary file, the dump as a string and a file
 * read whole.
 *
 * The helpers are static inline, so that each test program takes what it
 * uses without a warning for the rest.
 */
#ifndef REPUTE_TEST_CONFIG_SUPPORT_H
#define REPUTE_TEST_CONFIG_SUPPORT_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repute/config.h"

/* ---------------------------------------------------------------- helpers */

static rp_config cfg;
static char err[1024];

static inline void setup(void) {
    cr_assert_eq(rp_config_init(&cfg), 0);
    err[0] = '\0';
}

static inline void teardown(void) {
    rp_config_destroy(&cfg);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Sets key = value and expects success. */
static inline void set_ok(const char *key, const char *value) {
    int rc = rp_config_set(&cfg, key, value, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s = %s: %s", key, value, err);
}

/* Sets key = value and expects RP_EINVAL with a message that begins with
 * the key and holds needle. */
static inline void set_fails(const char *key, const char *value,
                             const char *needle) {
    err[0] = '\0';
    int rc = rp_config_set(&cfg, key, value, err, sizeof(err));
    cr_assert_eq(rc, RP_EINVAL, "%s = %s was accepted", key, value);
    cr_assert_eq(strncmp(err, key, strlen(key)), 0,
                 "error does not begin with the key: %s", err);
    cr_assert_eq(err[strlen(key)], ':', "error does not name the key: %s", err);
    cr_assert(strstr(err, needle), "expected \"%s\" in: %s", needle, err);
}

/* Writes text to a new temporary file and returns its path (static). */
static inline const char *write_temp(const char *text) {
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/repute_test_config_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* Dumps cfg into a heap string. */
static inline char *dump(const rp_config *c) {
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    cr_assert(f);
    cr_assert_eq(rp_config_dump(c, f), 0);
    fclose(f);
    return text;
}

/* Reads a whole file into a heap string. */
static inline char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    char *text = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&text, &size);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return text;
}

#endif
