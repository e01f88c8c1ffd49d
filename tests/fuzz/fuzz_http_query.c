/*
 * fuzz_http_query.c - rp_http_query_get() (src/http/request.c), against a
 * reference written here from its documentation in repute/http.h.
 *
 * Input: the first byte is the size of the output buffer (0 to 255; 0
 * also tries a NULL buffer), then the parameter name up to the first
 * '\n' (as a C string, so it ends at a NUL byte too), then the raw query,
 * handed over in a heap buffer of exactly its size and without a NUL, as
 * the server hands it out (a slice of the request target).
 *
 * The reference splits the query at '&', each parameter at its first '=',
 * percent-decodes key and value ("%xx" is one byte, '+' a space, a '%'
 * without two hex digits stands for itself) and compares the decoded key
 * with the name byte for byte. It is slow and obvious; the oracle is that
 * the two give the same result: the same length or error code, and the
 * same NUL-terminated value (an empty string on RP_ENOSPACE).
 */
#include "fuzz.h"

#include "repute/http.h"

/* Written again rather than shared with request.c on purpose: a reference
 * that used the code it checks could not disagree with it. */
static int hex(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [p, end) into out (room for end - p bytes); returns the
 * decoded length. */
static size_t decode(const char *p, const char *end, char *out) {
    size_t n = 0;
    while (p < end) {
        if (*p == '%' && end - p >= 3 && hex((unsigned char)p[1]) >= 0 &&
            hex((unsigned char)p[2]) >= 0) {
            out[n++] = (char)(hex((unsigned char)p[1]) * 16 +
                              hex((unsigned char)p[2]));
            p += 3;
        } else {
            out[n++] = *p == '+' ? ' ' : *p;
            p++;
        }
    }
    return n;
}

/* The documented behaviour; *value gets the decoded value when found. */
static int reference(const char *q, size_t qlen, const char *name, char *value,
                     size_t *vlen) {
    const char *p = q, *end = q + qlen;
    char *key = malloc(qlen + 1);
    int rc = RP_ENOTFOUND;
    while (q && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp)
            amp = end;
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        size_t klen = decode(p, eq ? eq : amp, key);
        if (klen == strlen(name) && memcmp(key, name, klen) == 0) {
            *vlen = eq ? decode(eq + 1, amp, value) : 0;
            rc = 0;
            break;
        }
        p = amp + 1;
    }
    free(key);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t out_size = data[0];
    const uint8_t *rest = data + 1, *end = data + size;
    const uint8_t *nl = memchr(rest, '\n', (size_t)(end - rest));
    if (!nl)
        return 0;
    char *name = fuzz_copy(rest, (size_t)(nl - rest), 1);
    size_t qlen = (size_t)(end - nl - 1);
    char *q = fuzz_copy(nl + 1, qlen, 0);
    char *out = out_size ? malloc(out_size) : NULL;
    char *want = malloc(qlen + 1);

    rp_str query = {q, qlen};
    int got = rp_http_query_get(query, name, out, out_size);
    size_t wlen = 0;
    int rc = reference(q, qlen, name, want, &wlen);
    if (rc == 0 && (out_size == 0 || wlen + 1 > out_size))
        rc = RP_ENOSPACE;
    else if (rc == 0)
        rc = (int)wlen;
    FUZZ_CHECK(got == rc, "got %d, the reference says %d", got, rc);
    if (out) {
        if (got >= 0)
            FUZZ_CHECK(out[got] == '\0' && memcmp(out, want, wlen) == 0,
                       "the value differs from the reference's");
        else
            FUZZ_CHECK(out[0] == '\0', "no empty string after an error");
    }
    /* A null query has no parameters. */
    FUZZ_CHECK(rp_http_query_get(RP_STR_NULL, name, out, out_size) ==
                   RP_ENOTFOUND,
               "a null query has a parameter");
    free(want);
    free(out);
    free(q);
    free(name);
    return 0;
}
