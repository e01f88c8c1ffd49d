/*
 * test_auth.c - the API's tokens, roles and limiter (repute/auth.h,
 * src/auth/): the tokens file line by line (every bad line named by its
 * number), the hash, finding a token, the bearer field, new tokens, the
 * role order, and the limit on failed attempts per address.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "repute/auth.h"

/* SHA-256("abc"), FIPS 180-2's example. */
#define ABC_HEX                                                                \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define H2_HEX                                                                 \
    "0000000000000000000000000000000000000000000000000000000000000002"

static char err[512];

static int parse(rp_auth_tokens *t, const char *text) {
    err[0] = '\0';
    return rp_auth_tokens_parse(t, "tok.txt", text, strlen(text), err,
                                sizeof(err));
}

/* Parses text, expects a refusal whose message starts "tok.txt:LINE: "
 * and holds `why`. */
static void bad(const char *text, unsigned line, const char *why) {
    rp_auth_tokens t = {NULL, 0};
    cr_assert_eq(parse(&t, text), RP_EINVAL, "accepted: %s", text);
    char want[32];
    snprintf(want, sizeof(want), "tok.txt:%u: ", line);
    cr_assert_eq(strncmp(err, want, strlen(want)), 0, "\"%s\" is not line %u",
                 err, line);
    cr_assert(strstr(err, why), "\"%s\" lacks \"%s\"", err, why);
    cr_assert_null(t.entries);
}

/* ---------------------------------------------------------------- file */

Test(auth_tokens, good_file_with_comments_blanks_and_crlf) {
    rp_auth_tokens t;
    cr_assert_eq(parse(&t, "# the operators\n"
                           "\n"
                           "   \t\n"
                           "alice operator sha256:" ABC_HEX "\n"
                           "  # indented comment\r\n"
                           "bob.b@ex-1_  viewer\tsha256:" H2_HEX "\r\n"),
                 0, "%s", err);
    cr_assert_eq(t.n, 2);
    cr_assert_str_eq(t.entries[0].name, "alice");
    cr_assert_eq(t.entries[0].role, RP_AUTH_OPERATOR);
    cr_assert_eq(t.entries[0].hash[0], 0xba);
    cr_assert_eq(t.entries[0].hash[31], 0xad);
    cr_assert_str_eq(t.entries[1].name, "bob.b@ex-1_");
    cr_assert_eq(t.entries[1].role, RP_AUTH_VIEWER);
    cr_assert_eq(t.entries[1].hash[31], 2);
    rp_auth_tokens_free(&t);
    cr_assert_null(t.entries);
    rp_auth_tokens_free(&t); /* twice is harmless */
}

Test(auth_tokens, empty_file_and_no_final_newline) {
    rp_auth_tokens t;
    cr_assert_eq(parse(&t, ""), 0);
    cr_assert_eq(t.n, 0);
    rp_auth_tokens_free(&t);
    cr_assert_eq(parse(&t, "# nothing\n\n"), 0);
    cr_assert_eq(t.n, 0);
    cr_assert_eq(parse(&t, "a viewer sha256:" ABC_HEX), 0);
    cr_assert_eq(t.n, 1);
    rp_auth_tokens_free(&t);
}

Test(auth_tokens, every_bad_line_is_named_by_its_number) {
    const char *ok = "# header\nalice operator sha256:" ABC_HEX "\n\n";
    char text[1024];
    struct {
        const char *line;
        const char *why;
    } cases[] = {
        {"bob", "expected three fields"},
        {"bob viewer", "expected three fields"},
        {"bob viewer sha256:" H2_HEX " extra", "expected three fields"},
        {"b/ob viewer sha256:" H2_HEX, "bad name"},
        {"bob admin sha256:" H2_HEX, "unknown role for \"bob\""},
        {"bob Viewer sha256:" H2_HEX, "unknown role"},
        {"bob viewer " H2_HEX, "not sha256: and 64 hex digits"},
        {"bob viewer sha512:" H2_HEX, "not sha256:"},
        {"bob viewer sha256:" H2_HEX "0", "not sha256:"},
        {"bob viewer sha256:abc", "not sha256:"},
        {"bob viewer sha256:"
         "g000000000000000000000000000000000000000000000000000000000000002",
         "not sha256:"},
        {"alice viewer sha256:" H2_HEX, "the name of \"alice\" is already"},
        {"bob viewer sha256:" ABC_HEX, "the hash of \"bob\" is already"},
        {"rpt_0123 viewer sha256:" H2_HEX "\n", NULL}, /* a valid name */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "%s%s\nzed viewer sha256:%064d\n", ok,
                 cases[i].line, 7);
        if (!cases[i].why) {
            rp_auth_tokens t;
            cr_assert_eq(parse(&t, text), 0, "%s", err);
            rp_auth_tokens_free(&t);
            continue;
        }
        bad(text, 4, cases[i].why);
    }
    /* A name of 64 bytes is the most. */
    char name[80];
    memset(name, 'n', 65);
    name[65] = '\0';
    snprintf(text, sizeof(text), "%s viewer sha256:" H2_HEX "\n", name);
    bad(text, 1, "bad name");
    name[64] = '\0';
    snprintf(text, sizeof(text), "%s viewer sha256:" H2_HEX "\n", name);
    rp_auth_tokens t;
    cr_assert_eq(parse(&t, text), 0, "%s", err);
    rp_auth_tokens_free(&t);
    /* A NUL byte inside a line. */
    static const char nul[] = "a viewer sha256:" ABC_HEX "\nb\0 viewer\n";
    cr_assert_eq(rp_auth_tokens_parse(&t, "tok.txt", nul, sizeof(nul) - 1, err,
                                      sizeof(err)),
                 RP_EINVAL);
    cr_assert(strstr(err, "tok.txt:2: a NUL byte"), "%s", err);
}

Test(auth_tokens, an_error_never_quotes_the_hash) {
    bad("bob admin sha256:" ABC_HEX "\n", 1, "unknown role");
    cr_assert_null(strstr(err, "ba7816bf"), "%s", err);
}

Test(auth_tokens, load_names_a_missing_file) {
    rp_auth_tokens t;
    cr_assert_eq(
        rp_auth_tokens_load(&t, "/nonexistent/tokens", err, sizeof(err)),
        RP_EIO);
    cr_assert(strstr(err, "/nonexistent/tokens"), "%s", err);
}

/* ---------------------------------------------------------------- hash */

Test(auth_hash, sha256_and_find) {
    unsigned char h[RP_AUTH_HASH_LEN];
    cr_assert_eq(rp_auth_hash("abc", 3, h), 0);
    cr_assert_eq(h[0], 0xba);
    cr_assert_eq(h[1], 0x78);
    cr_assert_eq(h[31], 0xad);

    rp_auth_tokens t;
    cr_assert_eq(parse(&t, "x viewer sha256:" H2_HEX "\n"
                           "y operator sha256:" ABC_HEX "\n"),
                 0);
    const rp_auth_entry *e = rp_auth_tokens_find(&t, "abc", 3);
    cr_assert_not_null(e);
    cr_assert_str_eq(e->name, "y");
    cr_assert_eq(e->role, RP_AUTH_OPERATOR);
    cr_assert_null(rp_auth_tokens_find(&t, "abd", 3));
    cr_assert_null(rp_auth_tokens_find(&t, "ab", 2));
    cr_assert_null(rp_auth_tokens_find(&t, "", 0));
    cr_assert_null(rp_auth_tokens_find(NULL, "abc", 3));
    rp_auth_tokens_free(&t);
}

/* ---------------------------------------------------------------- bearer */

static void bearer_ok(const char *v, const char *want) {
    const char *tok;
    size_t n;
    cr_assert(rp_auth_bearer(v, strlen(v), &tok, &n), "refused: %s", v);
    cr_assert_eq(n, strlen(want), "%s", v);
    cr_assert_eq(memcmp(tok, want, n), 0, "%s", v);
}

static void bearer_bad(const char *v) {
    const char *tok;
    size_t n;
    cr_assert(!rp_auth_bearer(v, strlen(v), &tok, &n), "accepted: %s", v);
}

Test(auth_bearer, parsing) {
    bearer_ok("Bearer rpt_abc", "rpt_abc");
    bearer_ok("bearer x", "x");
    bearer_ok("BEARER   a-b.c_d~e+f/g==  ", "a-b.c_d~e+f/g==");
    bearer_bad("");
    bearer_bad("Bearer");
    bearer_bad("Bearer ");
    bearer_bad("Bearer  ");
    bearer_bad("Basic dXNlcjpwYXNz");
    bearer_bad("Bearerx abc");
    bearer_bad("Bearer a b");
    bearer_bad("Bearer a,b");
    bearer_bad("Bearer\tabc");
    char big[600] = "Bearer ";
    memset(big + 7, 'a', 513);
    big[520] = '\0';
    bearer_bad(big);
    big[519] = '\0'; /* 512 bytes of token */
    const char *tok;
    size_t n;
    cr_assert(rp_auth_bearer(big, strlen(big), &tok, &n));
    cr_assert_eq(n, 512);
}

/* ---------------------------------------------------------------- new */

Test(auth_new, a_new_token_and_its_line) {
    char tok[RP_AUTH_TOKEN_LEN + 1], tok2[RP_AUTH_TOKEN_LEN + 1], line[256],
        line2[256];
    cr_assert_eq(rp_auth_token_new("ops@x", RP_AUTH_OPERATOR, tok, line,
                                   sizeof(line), err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(strlen(tok), RP_AUTH_TOKEN_LEN);
    cr_assert_eq(strncmp(tok, "rpt_", 4), 0);
    cr_assert_eq(strspn(tok + 4, "0123456789abcdef"), 64);
    cr_assert_eq(strncmp(line, "ops@x operator sha256:", 22), 0);
    cr_assert_null(strstr(line, tok + 4), "the line holds the token");
    /* The line parses back, and finds the token. */
    rp_auth_tokens t;
    cr_assert_eq(parse(&t, line), 0, "%s", err);
    const rp_auth_entry *e = rp_auth_tokens_find(&t, tok, strlen(tok));
    cr_assert_not_null(e);
    cr_assert_str_eq(e->name, "ops@x");
    rp_auth_tokens_free(&t);
    /* Two tokens differ. */
    cr_assert_eq(rp_auth_token_new("v", RP_AUTH_VIEWER, tok2, line2,
                                   sizeof(line2), err, sizeof(err)),
                 0);
    cr_assert_str_neq(tok, tok2);
    /* Refusals. */
    cr_assert_eq(rp_auth_token_new("a b", RP_AUTH_VIEWER, tok, line,
                                   sizeof(line), err, sizeof(err)),
                 RP_EINVAL);
    cr_assert_eq(rp_auth_token_new("a", RP_AUTH_NONE, tok, line, sizeof(line),
                                   err, sizeof(err)),
                 RP_EINVAL);
    cr_assert_eq(
        rp_auth_token_new("a", RP_AUTH_VIEWER, tok, line, 20, err, sizeof(err)),
        RP_EINVAL);
}

/* ---------------------------------------------------------------- roles */

Test(auth_roles, order_names_and_parsing) {
    cr_assert(rp_auth_role_allows(RP_AUTH_OPERATOR, RP_AUTH_OPERATOR));
    cr_assert(rp_auth_role_allows(RP_AUTH_OPERATOR, RP_AUTH_VIEWER));
    cr_assert(rp_auth_role_allows(RP_AUTH_VIEWER, RP_AUTH_VIEWER));
    cr_assert(!rp_auth_role_allows(RP_AUTH_VIEWER, RP_AUTH_OPERATOR));
    cr_assert(!rp_auth_role_allows(RP_AUTH_NONE, RP_AUTH_VIEWER));
    cr_assert(!rp_auth_role_allows(RP_AUTH_NONE, RP_AUTH_OPERATOR));
    cr_assert_eq(rp_auth_role_parse("viewer"), RP_AUTH_VIEWER);
    cr_assert_eq(rp_auth_role_parse("operator"), RP_AUTH_OPERATOR);
    cr_assert_eq(rp_auth_role_parse("none"), RP_AUTH_NONE);
    cr_assert_eq(rp_auth_role_parse("OPERATOR"), RP_AUTH_NONE);
    cr_assert_eq(rp_auth_role_parse(NULL), RP_AUTH_NONE);
    cr_assert_str_eq(rp_auth_role_name(RP_AUTH_VIEWER), "viewer");
    cr_assert_str_eq(rp_auth_role_name(RP_AUTH_OPERATOR), "operator");
    cr_assert_str_eq(rp_auth_role_name(RP_AUTH_NONE), "none");
}

/* ---------------------------------------------------------------- limiter */

static struct sockaddr_in v4(const char *ip) {
    struct sockaddr_in a = {.sin_family = AF_INET};
    cr_assert_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6 v6(const char *ip) {
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    cr_assert_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

#define SA(x) ((const struct sockaddr *)&(x))

static rp_auth_limiter lim;

Test(auth_limiter, burst_then_wait_then_refill) {
    rp_auth_limiter_init(&lim);
    struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
    uint64_t t = 1000000;
    for (int i = 0; i < RP_AUTH_LIMIT_BURST; i++) {
        cr_assert_eq(rp_auth_limiter_wait(&lim, SA(a), t), 0, "attempt %d", i);
        rp_auth_limiter_fail(&lim, SA(a), t);
    }
    unsigned w = rp_auth_limiter_wait(&lim, SA(a), t);
    cr_assert_eq(w, RP_AUTH_LIMIT_REFILL_MS / 1000 + 1, "wait %u", w);
    /* Another address is not affected. */
    cr_assert_eq(rp_auth_limiter_wait(&lim, SA(b), t), 0);
    /* One attempt comes back after a refill period, and only one. */
    t += RP_AUTH_LIMIT_REFILL_MS;
    cr_assert_eq(rp_auth_limiter_wait(&lim, SA(a), t), 0);
    rp_auth_limiter_fail(&lim, SA(a), t);
    cr_assert_gt(rp_auth_limiter_wait(&lim, SA(a), t), 0);
    /* Half a period later it still waits, for less. */
    t += RP_AUTH_LIMIT_REFILL_MS / 2;
    w = rp_auth_limiter_wait(&lim, SA(a), t);
    cr_assert(w >= 1 && w <= RP_AUTH_LIMIT_REFILL_MS / 2000 + 1, "wait %u", w);
    /* After a long quiet the whole burst is back. */
    t += 1000u * RP_AUTH_LIMIT_REFILL_MS;
    for (int i = 0; i < RP_AUTH_LIMIT_BURST; i++) {
        cr_assert_eq(rp_auth_limiter_wait(&lim, SA(a), t), 0);
        rp_auth_limiter_fail(&lim, SA(a), t);
    }
    cr_assert_gt(rp_auth_limiter_wait(&lim, SA(a), t), 0);
}

Test(auth_limiter, ipv6_counts_per_64_and_mapped_v4_is_v4) {
    rp_auth_limiter_init(&lim);
    struct sockaddr_in6 a = v6("2001:db8:1:2::1"), b = v6("2001:db8:1:2::99"),
                        c = v6("2001:db8:1:3::1");
    for (int i = 0; i < RP_AUTH_LIMIT_BURST; i++)
        rp_auth_limiter_fail(&lim, SA(a), 5000);
    cr_assert_gt(rp_auth_limiter_wait(&lim, SA(b), 5000), 0, "same /64");
    cr_assert_eq(rp_auth_limiter_wait(&lim, SA(c), 5000), 0, "other /64");

    struct sockaddr_in6 mapped = v6("::ffff:10.0.0.9");
    struct sockaddr_in plain = v4("10.0.0.9");
    for (int i = 0; i < RP_AUTH_LIMIT_BURST; i++)
        rp_auth_limiter_fail(&lim, SA(mapped), 5000);
    cr_assert_gt(rp_auth_limiter_wait(&lim, SA(plain), 5000), 0);
}

Test(auth_limiter, a_full_table_forgets_and_never_fails) {
    rp_auth_limiter_init(&lim);
    /* Many more addresses than slots, each failing once: the table keeps
     * working, and an address that used its burst just now is still
     * limited (its neighbours that failed once are evicted first). */
    struct sockaddr_in hot = v4("192.0.2.1");
    for (int i = 0; i < RP_AUTH_LIMIT_BURST; i++)
        rp_auth_limiter_fail(&lim, SA(hot), 100000);
    for (unsigned i = 0; i < 4 * RP_AUTH_LIMIT_SLOTS; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(0x0a000000u + i);
        rp_auth_limiter_fail(&lim, SA(a), 100000 + i / 64);
    }
    cr_assert_gt(rp_auth_limiter_wait(&lim, SA(hot), 100000 + 64), 0);
    /* Unknown addresses are never limited. */
    cr_assert_eq(rp_auth_limiter_wait(&lim, NULL, 1), 0);
    rp_auth_limiter_fail(&lim, NULL, 1);
    struct sockaddr un = {.sa_family = AF_UNIX};
    rp_auth_limiter_fail(&lim, &un, 1);
    cr_assert_eq(rp_auth_limiter_wait(&lim, &un, 1), 0);
}
