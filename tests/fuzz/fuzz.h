/*
 * fuzz.h - what every fuzz target of tests/fuzz/ shares.
 *
 * A fuzz target is one LLVMFuzzerTestOneInput(). It is linked either with
 * libFuzzer (REPUTE_FUZZ=ON, clang), which calls it with mutated inputs, or
 * with replay_main.c, which calls it once per file of the target's seed
 * corpus and regression directory, so that every crash ever found stays a
 * test of the normal unit run, in every build and under valgrind.
 *
 * "No crash" is the weakest oracle a fuzzer has; each target also states
 * properties that must hold for every input (two decoders agree, a round
 * trip is a fixed point, ...). FUZZ_CHECK() is how a target says so: when a
 * property fails it prints what and where, and aborts, which libFuzzer
 * reports as a crash and saves the input of, exactly as it does for a
 * sanitizer's report.
 */
#ifndef REPUTE_FUZZ_H
#define REPUTE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: fuzz oracle failed: %s: ", __FILE__,       \
                    __LINE__, #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A heap copy of exactly n bytes, plus a NUL byte after them when cstr is
 * true (never NULL). libFuzzer's own buffer is exact too, but the replay
 * runner's is not, and parsers must see the same either way: under
 * AddressSanitizer any read past the n bytes is then caught. The NUL is
 * for targets whose API takes a C string. */
static inline char *fuzz_copy(const uint8_t *data, size_t n, int cstr) {
    char *p = malloc(n + (cstr ? 1 : 0) + (n == 0 && !cstr));
    if (!p)
        abort();
    if (n)
        memcpy(p, data, n);
    if (cstr)
        p[n] = '\0';
    return p;
}

#endif
