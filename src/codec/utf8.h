/*
 * utf8.h - what a valid UTF-8 sequence is, for src/codec (and the record
 * check of src/core). Private to repute_core.
 *
 * The Avro validator (avro_check.c) refuses strings that are not valid
 * UTF-8, and the JSON lines writer (jsonl_write.c) replaces every byte that
 * is not part of a valid sequence with U+FFFD. Both must agree on what
 * valid means, or a string that the one accepts could be changed by the
 * other, so the rule lives here once: RFC 3629, without overlong forms,
 * surrogates or code points above U+10FFFF. rp_record_check() (core/
 * types.c) holds tenants and actors to it too, for records that no decoder
 * built (an action posted over HTTP). It is static inline because
 * the validator runs it on the hot path of decoding, for every non-ASCII
 * character of every string.
 */
#ifndef REPUTE_CODEC_UTF8_H
#define REPUTE_CODEC_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Returns the length (1-4) of the valid UTF-8 sequence that starts at s
 * (n > 0 bytes available), or 0 when the bytes there are not one. */
static inline size_t rp_utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

/* Returns n when the n bytes at s are valid UTF-8, else the offset of the
 * first byte that does not start a valid sequence (for the message). Most
 * strings are ASCII: it skips eight bytes at a time while none has its
 * high bit set, then goes byte by byte up to the next non-ASCII byte. The
 * validator and the decode plans both use it, so that both refuse the
 * same strings at the same byte. */
static inline size_t rp_utf8_check(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        for (uint64_t word; n - i >= 8; i += 8) {
            memcpy(&word, s + i, 8);
            if (word & UINT64_C(0x8080808080808080))
                break;
        }
        while (i < n && s[i] < 0x80)
            i++;
        if (i == n)
            break;
        size_t k = rp_utf8_seq(s + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

#endif
