/*
 * limiter.c - the limit on failed sign-in attempts per client address of
 * repute/auth.h.
 *
 * A token cannot be guessed (256 random bits), so the limit is not what
 * keeps tokens safe; it keeps a client that tries token after token from
 * costing CPU and filling the failure metric, and it makes a scan visible
 * as 429s. Each address has a token bucket of RP_AUTH_LIMIT_BURST
 * attempts that refills one attempt every RP_AUTH_LIMIT_REFILL_MS; only
 * failures take from it, so a client that signs in correctly is never
 * slowed down, and a client out of attempts is refused whatever it sends
 * (otherwise refusing would only be a hint).
 *
 * The table has a fixed size and lives inside the API object: no
 * allocation per client, and memory that no number of addresses can grow.
 * An address hashes to a slot and is looked for among the next
 * RP_AUTH_LIMIT_PROBE slots; a new address takes an empty slot there, or
 * else the one with the most attempts left (a refilled bucket holds
 * nothing worth keeping), so that many addresses failing once each cannot
 * push out the one that is using up its budget. IPv6 addresses count per /64,
 * the usual allocation of one host, so that a host cannot mint a fresh address
 * for every attempt.
 */
#include <string.h>

#include <netinet/in.h>

#include "repute/auth.h"
#include "repute/hash.h"

void rp_auth_limiter_init(rp_auth_limiter *l) {
    memset(l, 0, sizeof(*l));
}

/* The key of an address: IPv4 in the mapped form, IPv6 cut to its /64.
 * Returns false for anything else. */
static bool addr_key(const struct sockaddr *sa, uint8_t key[16]) {
    memset(key, 0, 16);
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *b = in6->sin6_addr.s6_addr;
        /* An IPv4-mapped address is the IPv4 client it stands for. */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, 12) == 0)
            memcpy(key, b, 16);
        else
            memcpy(key, b, 8);
        return true;
    }
    return false;
}

/* Brings a slot's bucket up to now. */
static void refill(rp_auth_slot *s, uint64_t now_ms) {
    if (now_ms > s->last_ms) {
        s->left += (double)(now_ms - s->last_ms) / RP_AUTH_LIMIT_REFILL_MS;
        if (s->left > RP_AUTH_LIMIT_BURST)
            s->left = RP_AUTH_LIMIT_BURST;
    }
    s->last_ms = now_ms;
}

/* The slot of key, or NULL when it has none (and create is false). */
static rp_auth_slot *find(rp_auth_limiter *l, const uint8_t key[16],
                          uint64_t now_ms, bool create) {
    size_t h = (size_t)(rp_hash_bytes(key, 16, 0) % RP_AUTH_LIMIT_SLOTS);
    rp_auth_slot *victim = NULL;
    for (size_t i = 0; i < RP_AUTH_LIMIT_PROBE; i++) {
        rp_auth_slot *s = &l->slots[(h + i) % RP_AUTH_LIMIT_SLOTS];
        if (s->used && memcmp(s->addr, key, 16) == 0)
            return s;
        if (!create)
            continue;
        if (!s->used) {
            if (!victim || victim->used)
                victim = s;
            continue;
        }
        refill(s, now_ms);
        /* The slot with the most attempts left holds the least worth
         * keeping (an address near its limit is exactly what the table is
         * for); among equals, the one that failed longest ago. */
        if (!victim || (victim->used && (s->left > victim->left ||
                                         (s->left == victim->left &&
                                          s->last_ms < victim->last_ms))))
            victim = s;
    }
    if (!victim)
        return NULL;
    memcpy(victim->addr, key, 16);
    victim->used = true;
    victim->left = RP_AUTH_LIMIT_BURST;
    victim->last_ms = now_ms;
    return victim;
}

unsigned rp_auth_limiter_wait(rp_auth_limiter *l, const struct sockaddr *addr,
                              uint64_t now_ms) {
    uint8_t key[16];
    if (!addr_key(addr, key))
        return 0;
    rp_auth_slot *s = find(l, key, now_ms, false);
    if (!s)
        return 0;
    refill(s, now_ms);
    if (s->left >= 1.0)
        return 0;
    double ms = (1.0 - s->left) * RP_AUTH_LIMIT_REFILL_MS;
    unsigned secs = (unsigned)(ms / 1000.0) + 1;
    return secs;
}

void rp_auth_limiter_fail(rp_auth_limiter *l, const struct sockaddr *addr,
                          uint64_t now_ms) {
    uint8_t key[16];
    if (!addr_key(addr, key))
        return;
    rp_auth_slot *s = find(l, key, now_ms, true);
    if (!s)
        return;
    refill(s, now_ms);
    s->left = s->left >= 1.0 ? s->left - 1.0 : 0.0;
}
