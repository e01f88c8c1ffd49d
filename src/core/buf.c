/*
 * buf.c - the growable buffer of repute/buf.h.
 *
 * Growth doubles the capacity so that a buffer reused for a stream of
 * records settles at the size of the largest one after a few appends and
 * then never allocates again.
 */
#include "repute/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rp_buf_free(rp_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int rp_buf_reserve(rp_buf *b, size_t n) {
    size_t need = b->len + n + 1; /* room for the trailing NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return RP_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int rp_buf_append(rp_buf *b, const void *p, size_t n) {
    if (rp_buf_reserve(b, n) != 0)
        return RP_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int rp_buf_puts(rp_buf *b, const char *s) {
    return rp_buf_append(b, s, strlen(s));
}

int rp_buf_putc(rp_buf *b, char c) {
    return rp_buf_append(b, &c, 1);
}

int rp_buf_printf(rp_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RP_EINVAL;
    if (rp_buf_reserve(b, (size_t)n) != 0)
        return RP_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}
