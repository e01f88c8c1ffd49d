/*
 * repute/hash.h - the one 64-bit hash repute uses for account ids and
 * dedupe keys (the engine's tables, the API's notes).
 *
 * A small multiply-xorshift hash in the style of MurmurHash3's 64-bit
 * finaliser, fed eight bytes at a time. It is not cryptographic; it only has
 * to spread short ids evenly and make accidental 64-bit collisions between
 * dedupe keys vanishingly rare. The seed lets two strings be chained into
 * one key (account id, then event id).
 */
#ifndef REPUTE_HASH_H
#define REPUTE_HASH_H

#include <stdint.h>
#include <string.h>

static inline uint64_t rp_hash_mix(uint64_t h) {
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static inline uint64_t rp_hash_bytes(const void *p, size_t len, uint64_t seed) {
    const unsigned char *s = p;
    uint64_t h = seed ^ (len * UINT64_C(0x9e3779b97f4a7c15));
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = rp_hash_mix(h ^ w) + UINT64_C(0x9e3779b97f4a7c15);
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, len);
    return rp_hash_mix(h ^ w ^ ((uint64_t)len << 56));
}

#endif
