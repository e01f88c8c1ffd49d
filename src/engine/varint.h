/*
 * varint.h - the LEB128 varints of the changelog codec (private to
 * src/engine/): state.c writes and reads an account's value with them,
 * history.c its history section. Unsigned varints carry counts and
 * lengths, signed ones (zig-zagged) times and deltas.
 *
 * The reader trusts nothing: it never reads past its end, and once a
 * read failed it stays bad (every later read answers 0), so that a
 * decoder checks `bad` once at the end of a section, not after each
 * field.
 */
#ifndef REPUTE_ENGINE_VARINT_H
#define REPUTE_ENGINE_VARINT_H

#include <stdbool.h>
#include <stdint.h>

#define VARINT_MAX 10 /* the most bytes one varint takes */

static inline unsigned char *rp_varint_put_u(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static inline unsigned char *rp_varint_put_s(unsigned char *p, int64_t v) {
    return rp_varint_put_u(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

typedef struct rp_varint_reader {
    const unsigned char *p, *end;
    bool bad;
} rp_varint_reader;

static inline uint64_t rp_varint_get_u(rp_varint_reader *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = true;
            return 0;
        }
        unsigned char c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static inline int64_t rp_varint_get_s(rp_varint_reader *r) {
    uint64_t u = rp_varint_get_u(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static inline unsigned rp_varint_get_byte(rp_varint_reader *r) {
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

#endif
