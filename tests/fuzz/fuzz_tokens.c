/*
 * fuzz_tokens.c - the API's tokens file and bearer field (src/auth/).
 *
 * The input is a tokens file, parsed by rp_auth_tokens_parse() as
 * `repute run` parses one at start-up; its first line is also given to
 * rp_auth_bearer() as an Authorization field value.
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - a refusal always names the file and a line ("fuzz:N: ...") within the
 *    input's line count, and leaves nothing allocated;
 *  - every accepted entry has a valid name, a role, and names and hashes
 *    that differ from every other entry's; there are no more entries than
 *    lines;
 *  - the input itself, presented as a token, is found exactly when its
 *    SHA-256 is one of the entries' hashes (the constant-time lookup
 *    agrees with a plain comparison);
 *  - a bearer token that parses lies inside the value, is not empty, and
 *    holds no space.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "repute/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    char e[512] = "";
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';

    rp_auth_tokens t = {NULL, 0};
    int rc = rp_auth_tokens_parse(&t, "fuzz", text, size, e, sizeof(e));
    if (rc != 0) {
        unsigned line = 0;
        FUZZ_CHECK(sscanf(e, "fuzz:%u: ", &line) == 1 || strstr(e, "fuzz: "),
                   "a refusal without file and line: %s", e);
        FUZZ_CHECK(line <= lines, "line %u of %zu", line, lines);
        FUZZ_CHECK(t.entries == NULL && t.n == 0, "a refusal left entries");
    } else {
        FUZZ_CHECK(t.n <= lines, "%zu entries from %zu lines", t.n, lines);
        for (size_t i = 0; i < t.n; i++) {
            const rp_auth_entry *a = &t.entries[i];
            FUZZ_CHECK(rp_auth_name_ok(a->name, strlen(a->name)), "bad name");
            FUZZ_CHECK(a->role == RP_AUTH_VIEWER || a->role == RP_AUTH_OPERATOR,
                       "bad role %d", (int)a->role);
            for (size_t j = 0; j < i; j++) {
                FUZZ_CHECK(strcmp(a->name, t.entries[j].name) != 0,
                           "name %s twice", a->name);
                FUZZ_CHECK(
                    memcmp(a->hash, t.entries[j].hash, RP_AUTH_HASH_LEN) != 0,
                    "a hash twice");
            }
        }
        /* The input itself as a token: found only if its hash is listed. */
        unsigned char h[RP_AUTH_HASH_LEN];
        FUZZ_CHECK(rp_auth_hash(text, size, h) == 0, "hash failed");
        const rp_auth_entry *f = rp_auth_tokens_find(&t, text, size);
        bool listed = false;
        for (size_t i = 0; i < t.n; i++)
            listed |= memcmp(h, t.entries[i].hash, RP_AUTH_HASH_LEN) == 0;
        FUZZ_CHECK((f != NULL) == listed, "lookup disagrees with the hashes");
    }
    rp_auth_tokens_free(&t);

    const char *nl = memchr(text, '\n', size);
    size_t first = nl ? (size_t)(nl - text) : size;
    const char *tok;
    size_t n;
    if (rp_auth_bearer(text, first, &tok, &n)) {
        FUZZ_CHECK(n > 0 && n <= 512, "token of %zu bytes", n);
        FUZZ_CHECK(tok > text && tok + n <= text + first, "token outside");
        FUZZ_CHECK(!memchr(tok, ' ', n), "a space in the token");
    }
    return 0;
}
