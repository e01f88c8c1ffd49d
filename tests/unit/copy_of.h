/*
 * copy_of.h - a heap copy of exactly n bytes, for the tests that hand a
 * decoder input (avro_support.h, resolve_support.h): with nothing after
 * the last byte, AddressSanitizer sees any read past the end.
 */
#ifndef REPUTE_TEST_COPY_OF_H
#define REPUTE_TEST_COPY_OF_H

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Never NULL (one byte for n = 0); the caller frees it with free(). */
static inline uint8_t *copy_of(const void *p, size_t n) {
    uint8_t *q = malloc(n ? n : 1);
    cr_assert_not_null(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

#endif
