/*
 * bench_util.h - the few helpers of the two generating programs
 * (repute-loadgen and repute-bench-engine) that have nothing to do with
 * Kafka: dying with a message, allocating or dying, and reading a whole
 * number from the command line.
 *
 * These programs are tools, not the product: when memory runs out or an
 * encoder refuses a record, there is nothing to recover, and the honest
 * answer is a one-line reason on standard error and exit status 1. Each
 * program names itself in that line, so bu_die() takes the name first;
 * the programs wrap it in a die() macro of their own. Nothing here keeps
 * state.
 */
#ifndef REPUTE_BENCH_UTIL_H
#define REPUTE_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Prints "prog: message" on standard error and exits with status 1. */
void bu_die(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* malloc() that never returns NULL (0 bytes allocate 1); on failure it
 * dies naming prog and the size. The caller frees with free(). */
void *bu_xmalloc(const char *prog, size_t n);

/* Parses a whole decimal number in [min, max] (no sign, no spaces).
 * Returns 0 with *out, or RP_EINVAL. */
int bu_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
