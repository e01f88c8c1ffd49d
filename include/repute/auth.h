/*
 * repute/auth.h - who may use the HTTP API of `repute run`: the tokens
 * file, the roles, the check of a bearer token, and the limit on failed
 * attempts per client address (src/auth/).
 *
 * A token is 32 random bytes written as "rpt_" and 64 hexadecimal digits.
 * The tokens file (http.auth.tokens.file) holds one line per token:
 *
 *     # comments and blank lines are allowed
 *     NAME ROLE sha256:HEX
 *
 * NAME is 1 to 64 of [A-Za-z0-9._@-] and names the caller in the API's
 * records (an action's `actor`); ROLE is `viewer` (every GET) or
 * `operator` (a viewer that may also act); HEX is the SHA-256 of the whole
 * token, 64 lowercase hexadecimal digits. The token itself is never
 * stored: `repute token add` prints it once. Because a token carries 256
 * random bits, a plain SHA-256 is as good as a slow password hash here:
 * there is nothing to guess.
 *
 * Ownership: rp_auth_tokens and rp_auth_limiter are caller-allocated
 * structs; the caller frees what rp_auth_tokens_load() allocated with
 * rp_auth_tokens_free(). The limiter holds no pointers and needs no
 * freeing. Nothing here logs, and no function writes a token (or any part
 * of one) into an error message.
 */
#ifndef REPUTE_AUTH_H
#define REPUTE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "repute/types.h"

/* ---------------------------------------------------------------- roles */

/* Ordered: a higher role may do everything a lower one may. */
typedef enum rp_auth_role {
    RP_AUTH_NONE = 0, /* not signed in */
    RP_AUTH_VIEWER = 1,
    RP_AUTH_OPERATOR = 2,
} rp_auth_role;

/* "viewer", "operator" ("none" for RP_AUTH_NONE). */
const char *rp_auth_role_name(rp_auth_role r);
/* Parses a role's name; returns RP_AUTH_NONE for anything else. */
rp_auth_role rp_auth_role_parse(const char *s);
/* True when `have` is enough for what needs `need`. */
static inline bool rp_auth_role_allows(rp_auth_role have, rp_auth_role need) {
    return have >= need;
}

/* ---------------------------------------------------------------- tokens */

#define RP_AUTH_NAME_MAX    64 /* bytes of a name, without the NUL */
#define RP_AUTH_HASH_LEN    32 /* SHA-256 */
#define RP_AUTH_TOKEN_LEN   68 /* "rpt_" + 64 hex digits */
#define RP_AUTH_TOKEN_BYTES 32

typedef struct rp_auth_entry {
    char name[RP_AUTH_NAME_MAX + 1];
    rp_auth_role role;
    unsigned char hash[RP_AUTH_HASH_LEN];
} rp_auth_entry;

typedef struct rp_auth_tokens {
    rp_auth_entry *entries; /* owned */
    size_t n;
} rp_auth_tokens;

/* The caller's identity once a token has been checked: borrowed from the
 * tokens (valid while they are), or name "" and RP_AUTH_NONE. */
typedef struct rp_auth_caller {
    const char *name;
    rp_auth_role role;
} rp_auth_caller;

/*
 * Parses a tokens file held in memory (text[0..len)), named `path` in
 * messages, into *out (which it overwrites). Returns 0, or RP_EINVAL with
 * errstr naming the file and the line ("FILE:LINE: ..."): a line that is
 * not NAME ROLE sha256:HEX, a bad name, an unknown role, a hash that is
 * not 64 hex digits, a name or a hash given twice; RP_ENOMEM. An empty
 * file (no token) is valid here; the caller decides whether it is useful.
 */
int rp_auth_tokens_parse(rp_auth_tokens *out, const char *path,
                         const char *text, size_t len, char *errstr,
                         size_t errstr_size);

/* Reads and parses the file at path (RP_EIO when it cannot be read,
 * RP_ETOOBIG over 4 MiB). */
int rp_auth_tokens_load(rp_auth_tokens *out, const char *path, char *errstr,
                        size_t errstr_size);

/* Frees what the tokens own; safe on a zeroed struct. */
void rp_auth_tokens_free(rp_auth_tokens *t);

/* SHA-256 of tok[0..len) into out. Returns 0 or RP_EIO (OpenSSL failed). */
int rp_auth_hash(const char *tok, size_t len,
                 unsigned char out[RP_AUTH_HASH_LEN]);

/*
 * Finds the entry of a presented token: hashes it and compares the hash
 * with every entry's, in constant time (CRYPTO_memcmp, and no early exit),
 * so that the time taken tells nothing of which bytes matched. Returns the
 * entry or NULL.
 */
const rp_auth_entry *rp_auth_tokens_find(const rp_auth_tokens *t,
                                         const char *tok, size_t len);

/*
 * Extracts the token of an Authorization header value: "Bearer" (any
 * case), one or more spaces, then the token (RFC 6750's b64token, at
 * most 512 bytes) and optional trailing spaces. Returns true and sets
 * *tok and *tok_len (pointing into value), or false.
 */
bool rp_auth_bearer(const char *value, size_t len, const char **tok,
                    size_t *tok_len);

/*
 * Makes a new token from the operating system's random source (OpenSSL's
 * RAND_bytes): writes "rpt_" + 64 hex digits and a NUL into
 * token[RP_AUTH_TOKEN_LEN + 1], and its tokens-file line for name and role
 * ("NAME ROLE sha256:HEX\n") into line[line_size]. Returns 0, RP_EINVAL
 * (a bad name or role, line too small) or RP_EIO (no randomness).
 */
int rp_auth_token_new(const char *name, rp_auth_role role,
                      char token[RP_AUTH_TOKEN_LEN + 1], char *line,
                      size_t line_size, char *errstr, size_t errstr_size);

/* True when name is 1 to RP_AUTH_NAME_MAX of [A-Za-z0-9._@-]. */
bool rp_auth_name_ok(const char *name, size_t len);

/* ---------------------------------------------------------------- limiter */

/*
 * Failed attempts per client address, as token buckets in a table of
 * fixed size (no allocation, bounded memory whatever the number of
 * clients). Each address may fail RP_AUTH_LIMIT_BURST times in a row and
 * regains one attempt every RP_AUTH_LIMIT_REFILL_MS; an address with no
 * attempt left is refused (429) until it regains one. IPv6 addresses are
 * counted per /64, since one host usually holds a whole /64. When the
 * table is full, the address of its neighbourhood with the most attempts
 * left is forgotten, so an address near its limit is the last to go.
 */
#define RP_AUTH_LIMIT_SLOTS     1024
#define RP_AUTH_LIMIT_PROBE     8
#define RP_AUTH_LIMIT_BURST     10
#define RP_AUTH_LIMIT_REFILL_MS 6000

typedef struct rp_auth_slot {
    uint8_t addr[16]; /* IPv4-mapped or the IPv6 /64, zero-padded */
    uint64_t last_ms; /* when `left` was last brought up to date */
    double left;      /* attempts left; the slot is empty when used=false */
    bool used;
} rp_auth_slot;

typedef struct rp_auth_limiter {
    rp_auth_slot slots[RP_AUTH_LIMIT_SLOTS];
} rp_auth_limiter;

/* Empties the table. */
void rp_auth_limiter_init(rp_auth_limiter *l);

/* Returns 0 when the address may try now, or the number of seconds until
 * it may (for Retry-After, at least 1). A NULL or non-IP address is never
 * limited. */
unsigned rp_auth_limiter_wait(rp_auth_limiter *l, const struct sockaddr *addr,
                              uint64_t now_ms);

/* Counts one failed attempt of addr at now_ms. */
void rp_auth_limiter_fail(rp_auth_limiter *l, const struct sockaddr *addr,
                          uint64_t now_ms);

#endif
