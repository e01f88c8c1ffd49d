/*
 * str_array.h - a reused, growable array of rp_str, for the decoders of
 * src/codec. Private to src/codec.
 *
 * Both decoders hand out a complaint's recipients as an array that they
 * own and reuse from record to record (the Avro codec for rp_avro_decode(),
 * the JSON lines reader for rp_jsonl_parse()): the array only ever grows,
 * doubling from 8, so that after the largest complaint of a stream has
 * been seen no record allocates. The growth is the same logic in both,
 * hence this one copy; it is static inline because it is called once per
 * complaint and nearly always returns at its first test.
 */
#ifndef REPUTE_CODEC_STR_ARRAY_H
#define REPUTE_CODEC_STR_ARRAY_H

#include <stdlib.h>

#include "repute/types.h"

/* Makes *items (of *cap entries, possibly NULL and 0) hold at least n
 * entries. Returns 0, or RP_ENOMEM with *items and *cap unchanged. The
 * owner frees *items with free(). */
static inline int rp_codec_grow_strs(rp_str **items, size_t *cap, size_t n) {
    if (n <= *cap)
        return 0;
    size_t want = *cap ? *cap : 8;
    while (want < n)
        want *= 2;
    rp_str *p = realloc(*items, want * sizeof(*p));
    if (!p)
        return RP_ENOMEM;
    *items = p;
    *cap = want;
    return 0;
}

#endif
