/*
 * bench_util.c - dying, allocating and number parsing for the generating
 * benchmark tools (see bench_util.h for why they die instead of
 * returning errors).
 *
 * bu_parse_u64() insists on a leading digit because strtoull() would
 * quietly accept "-1" as a huge number and " 5" as five; a benchmark that
 * ran with a size nobody asked for would report figures about the wrong
 * thing.
 */
#include "bench_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "repute/types.h"

void bu_die(const char *prog, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void *bu_xmalloc(const char *prog, size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        bu_die(prog, "out of memory (%zu bytes)", n);
    return p;
}

int bu_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
    if (s == NULL || *s < '0' || *s > '9')
        return RP_EINVAL;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return RP_EINVAL;
    *out = (uint64_t)v;
    return 0;
}
