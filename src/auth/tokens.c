/*
 * tokens.c - the tokens file of repute/auth.h: parsing it, making a new
 * token, and finding the entry of a presented one.
 *
 * The file holds hashes, never tokens, so that reading it (a backup, a
 * configuration repository, a support bundle) gives no one access. A
 * token is 256 random bits, so its SHA-256 cannot be inverted or guessed
 * and needs no salt or slow hash: those defend low-entropy passwords,
 * which a token is not.
 *
 * The file is read once, at start-up, and a mistake in it stops the start
 * with the file and the line named: an operator who added a line by hand
 * learns at once what is wrong, rather than finding later that a token is
 * refused. Error messages quote the name or the role of a bad line, never
 * the hash (nothing secret is in the file, but there is no reason to echo
 * it either), and nothing here ever sees a token except to hash it.
 *
 * Finding a token compares its hash with every entry's with CRYPTO_memcmp
 * and does not stop at the first match: the time a lookup takes is the
 * same whichever entry matches, or none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "repute/auth.h"

#define TOKEN_PREFIX  "rpt_"
#define HASH_PREFIX   "sha256:"
#define MAX_FILE_SIZE (4u << 20) /* far above any real file */
#define BEARER_MAX    512

/* ---------------------------------------------------------------- roles */

const char *rp_auth_role_name(rp_auth_role r) {
    switch (r) {
    case RP_AUTH_VIEWER: return "viewer";
    case RP_AUTH_OPERATOR: return "operator";
    case RP_AUTH_NONE: break;
    }
    return "none";
}

rp_auth_role rp_auth_role_parse(const char *s) {
    if (s && strcmp(s, "viewer") == 0)
        return RP_AUTH_VIEWER;
    if (s && strcmp(s, "operator") == 0)
        return RP_AUTH_OPERATOR;
    return RP_AUTH_NONE;
}

bool rp_auth_name_ok(const char *name, size_t len) {
    if (len == 0 || len > RP_AUTH_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
                  ch == '@' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- hashing */

int rp_auth_hash(const char *tok, size_t len,
                 unsigned char out[RP_AUTH_HASH_LEN]) {
    unsigned int n = 0;
    if (EVP_Digest(tok, len, out, &n, EVP_sha256(), NULL) != 1 ||
        n != RP_AUTH_HASH_LEN)
        return RP_EIO;
    return 0;
}

const rp_auth_entry *rp_auth_tokens_find(const rp_auth_tokens *t,
                                         const char *tok, size_t len) {
    unsigned char h[RP_AUTH_HASH_LEN];
    if (!t || rp_auth_hash(tok, len, h) != 0)
        return NULL;
    const rp_auth_entry *found = NULL;
    for (size_t i = 0; i < t->n; i++) {
        /* No early exit: every entry is compared whatever matched. The
         * branch below depends only on the result, which the caller
         * learns anyway. */
        bool eq = CRYPTO_memcmp(h, t->entries[i].hash, RP_AUTH_HASH_LEN) == 0;
        if (eq && !found)
            found = &t->entries[i];
    }
    return found;
}

static bool is_b64token_char(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
           ch == '~' || ch == '+' || ch == '/' || ch == '=';
}

bool rp_auth_bearer(const char *value, size_t len, const char **tok,
                    size_t *tok_len) {
    static const char scheme[] = "Bearer";
    size_t n = sizeof(scheme) - 1, i;
    if (len <= n || strncasecmp(value, scheme, n) != 0 || value[n] != ' ')
        return false;
    for (i = n; i < len && value[i] == ' '; i++)
        ;
    size_t start = i;
    while (i < len && is_b64token_char((unsigned char)value[i]))
        i++;
    size_t end = i;
    while (i < len && value[i] == ' ')
        i++;
    if (i != len || end == start || end - start > BEARER_MAX)
        return false;
    *tok = value + start;
    *tok_len = end - start;
    return true;
}

/* ---------------------------------------------------------------- parsing */

static int hexval(int ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Splits [p, end) at spaces and tabs into at most max words; returns the
 * number of words found (max + 1 when there are more). */
static int split_words(const char *p, const char *end, const char **w,
                       size_t *wl, int max) {
    int n = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            break;
        const char *s = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if (n == max)
            return max + 1;
        w[n] = s;
        wl[n] = (size_t)(p - s);
        n++;
    }
    return n;
}

/* Parses one non-comment line into *e; on failure writes why into why. */
static bool parse_line(const char *p, const char *end, rp_auth_entry *e,
                       char *why, size_t why_size) {
    const char *w[3];
    size_t wl[3];
    int n = split_words(p, end, w, wl, 3);
    if (n != 3) {
        snprintf(why, why_size,
                 "expected three fields, NAME ROLE sha256:HEX, found %s",
                 n > 3    ? "more"
                 : n == 2 ? "two"
                          : "one");
        return false;
    }
    if (!rp_auth_name_ok(w[0], wl[0])) {
        snprintf(why, why_size,
                 "bad name (1 to %d of the letters, digits and . _ @ -)",
                 RP_AUTH_NAME_MAX);
        return false;
    }
    memcpy(e->name, w[0], wl[0]);
    e->name[wl[0]] = '\0';

    char role[16];
    e->role = RP_AUTH_NONE;
    if (wl[1] < sizeof(role)) {
        memcpy(role, w[1], wl[1]);
        role[wl[1]] = '\0';
        e->role = rp_auth_role_parse(role);
    }
    if (e->role == RP_AUTH_NONE) {
        snprintf(why, why_size,
                 "unknown role for \"%s\" (expected viewer or operator)",
                 e->name);
        return false;
    }

    size_t hp = sizeof(HASH_PREFIX) - 1;
    if (wl[2] != hp + 2 * RP_AUTH_HASH_LEN ||
        memcmp(w[2], HASH_PREFIX, hp) != 0) {
        snprintf(why, why_size,
                 "the hash of \"%s\" is not sha256: and 64 hex digits",
                 e->name);
        return false;
    }
    for (size_t i = 0; i < RP_AUTH_HASH_LEN; i++) {
        int hi = hexval((unsigned char)w[2][hp + 2 * i]);
        int lo = hexval((unsigned char)w[2][hp + 2 * i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(why, why_size,
                     "the hash of \"%s\" is not sha256: and 64 hex digits",
                     e->name);
            return false;
        }
        e->hash[i] = (unsigned char)(hi * 16 + lo);
    }
    return true;
}

/* The entry already in t that has e's name or hash, or NULL. */
static const char *duplicate_of(const rp_auth_tokens *t,
                                const rp_auth_entry *e) {
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->entries[i].name, e->name) == 0)
            return "the name";
        if (memcmp(t->entries[i].hash, e->hash, RP_AUTH_HASH_LEN) == 0)
            return "the hash";
    }
    return NULL;
}

int rp_auth_tokens_parse(rp_auth_tokens *out, const char *path,
                         const char *text, size_t len, char *errstr,
                         size_t errstr_size) {
    rp_auth_tokens t = {NULL, 0};
    size_t cap = 0;
    const char *p = text, *end = text + len;
    char why[160];
    int rc = RP_EINVAL;
    for (unsigned line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p;
        p = nl ? nl + 1 : end;
        if (le > s && le[-1] == '\r')
            le--;
        while (s < le && (*s == ' ' || *s == '\t'))
            s++;
        if (s == le || *s == '#')
            continue;
        if (memchr(s, '\0', (size_t)(le - s))) {
            snprintf(errstr, errstr_size, "%s:%u: a NUL byte", path, line);
            goto fail;
        }
        rp_auth_entry e;
        if (!parse_line(s, le, &e, why, sizeof(why))) {
            snprintf(errstr, errstr_size, "%s:%u: %s", path, line, why);
            goto fail;
        }
        const char *dup = duplicate_of(&t, &e);
        if (dup) {
            snprintf(errstr, errstr_size,
                     "%s:%u: %s of \"%s\" is already on an earlier line", path,
                     line, dup, e.name);
            goto fail;
        }
        if (t.n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            rp_auth_entry *ne = realloc(t.entries, nc * sizeof(*ne));
            if (!ne) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                rc = RP_ENOMEM;
                goto fail;
            }
            t.entries = ne;
            cap = nc;
        }
        t.entries[t.n++] = e;
    }
    *out = t;
    return 0;
fail:
    rp_auth_tokens_free(&t);
    return rc;
}

int rp_auth_tokens_load(rp_auth_tokens *out, const char *path, char *errstr,
                        size_t errstr_size) {
    char *text = NULL;
    size_t len = 0;
    int rc = RP_EIO;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return RP_EIO;
    }
    text = malloc(MAX_FILE_SIZE + 1);
    if (!text) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        rc = RP_ENOMEM;
        goto fail;
    }
    len = fread(text, 1, MAX_FILE_SIZE + 1, f);
    if (ferror(f)) {
        snprintf(errstr, errstr_size, "%s: cannot read it", path);
        goto fail;
    }
    if (len > MAX_FILE_SIZE) {
        snprintf(errstr, errstr_size, "%s: larger than %u bytes", path,
                 MAX_FILE_SIZE);
        rc = RP_ETOOBIG;
        goto fail;
    }
    rc = rp_auth_tokens_parse(out, path, text, len, errstr, errstr_size);
fail:
    free(text);
    fclose(f);
    return rc;
}

void rp_auth_tokens_free(rp_auth_tokens *t) {
    if (!t)
        return;
    free(t->entries);
    t->entries = NULL;
    t->n = 0;
}

/* ---------------------------------------------------------------- new */

static void to_hex(const unsigned char *b, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int rp_auth_token_new(const char *name, rp_auth_role role,
                      char token[RP_AUTH_TOKEN_LEN + 1], char *line,
                      size_t line_size, char *errstr, size_t errstr_size) {
    unsigned char raw[RP_AUTH_TOKEN_BYTES], h[RP_AUTH_HASH_LEN];
    char hex[2 * RP_AUTH_HASH_LEN + 1];
    if (!name || !rp_auth_name_ok(name, strlen(name))) {
        snprintf(errstr, errstr_size,
                 "bad name (1 to %d of the letters, digits and . _ @ -)",
                 RP_AUTH_NAME_MAX);
        return RP_EINVAL;
    }
    if (role != RP_AUTH_VIEWER && role != RP_AUTH_OPERATOR) {
        snprintf(errstr, errstr_size, "the role is viewer or operator");
        return RP_EINVAL;
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        snprintf(errstr, errstr_size, "no random bytes from OpenSSL");
        return RP_EIO;
    }
    memcpy(token, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
    to_hex(raw, sizeof(raw), token + sizeof(TOKEN_PREFIX) - 1);
    OPENSSL_cleanse(raw, sizeof(raw));
    if (rp_auth_hash(token, RP_AUTH_TOKEN_LEN, h) != 0) {
        snprintf(errstr, errstr_size, "SHA-256 failed");
        return RP_EIO;
    }
    to_hex(h, sizeof(h), hex);
    int n = snprintf(line, line_size, "%s %s " HASH_PREFIX "%s\n", name,
                     rp_auth_role_name(role), hex);
    if (n < 0 || (size_t)n >= line_size) {
        snprintf(errstr, errstr_size, "line buffer too small");
        return RP_EINVAL;
    }
    return 0;
}
