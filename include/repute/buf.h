/*
 * repute/buf.h - a growable byte buffer, reused across records.
 *
 * The hot paths (encoding, JSON writing) append into one rp_buf and reset
 * it for the next record, so they allocate only while the buffer grows to
 * the largest record seen. The buffer owns its memory; free it with
 * rp_buf_free(). data is always NUL-terminated after any append (the NUL
 * is not counted in len), so text can be used as a C string.
 */
#ifndef REPUTE_BUF_H
#define REPUTE_BUF_H

#include "repute/types.h"

typedef struct rp_buf {
    char *data;
    size_t len;
    size_t cap;
} rp_buf;

#define RP_BUF_INIT                                                            \
    { NULL, 0, 0 }

void rp_buf_free(rp_buf *b);
static inline void rp_buf_reset(rp_buf *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}
/* Makes room for n more bytes. Returns 0 or RP_ENOMEM. */
int rp_buf_reserve(rp_buf *b, size_t n);
int rp_buf_append(rp_buf *b, const void *p, size_t n);
int rp_buf_puts(rp_buf *b, const char *s);
int rp_buf_putc(rp_buf *b, char c);
int rp_buf_printf(rp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
