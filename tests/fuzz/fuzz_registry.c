/*
 * fuzz_registry.c - the parsers of a schema registry's answers
 * (src/registry/json.c).
 *
 * The input is one HTTP body, as libcurl hands it over: bytes of a given
 * length, not NUL-terminated (fuzz_copy without the NUL, so that a read
 * past the end is caught under AddressSanitizer). Every parser of
 * repute/registry.h is given the same body.
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - a failure always has a reason in errstr;
 *  - a schema that parses is a non-empty C string with no NUL inside;
 *  - an id that parses is within 0 .. INT32_MAX;
 *  - the error message and the compatibility level written for a log are
 *    NUL-terminated within their buffer and hold no control character.
 */
#include "fuzz.h"

#include "repute/registry.h"

static void printable_ok(const char *s, size_t size) {
    size_t n = strnlen(s, size);
    FUZZ_CHECK(n < size, "not terminated within its buffer");
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f,
                   "control character %02x in \"%s\"", (unsigned char)s[i], s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *body = fuzz_copy(data, size, 0);
    char e[256] = "";
    char *schema = NULL;
    int rc = rp_registry_parse_schema(body, size, &schema, e, sizeof(e));
    if (rc == 0) {
        FUZZ_CHECK(schema && *schema, "an empty schema accepted");
        free(schema);
    } else {
        FUZZ_CHECK(!schema && e[0], "schema: %d without a reason", rc);
    }

    int32_t id = -1;
    e[0] = '\0';
    rc = rp_registry_parse_id(body, size, &id, e, sizeof(e));
    if (rc == 0)
        FUZZ_CHECK(id >= 0, "id %d accepted", (int)id);
    else
        FUZZ_CHECK(e[0], "id: %d without a reason", rc);

    char msg[64];
    int code;
    rp_registry_parse_error(body, size, &code, msg, sizeof(msg));
    printable_ok(msg, sizeof(msg));

    char level[32];
    e[0] = '\0';
    rc = rp_registry_parse_config(body, size, level, sizeof(level), e,
                                  sizeof(e));
    if (rc == 0)
        printable_ok(level, sizeof(level));
    else
        FUZZ_CHECK(e[0], "config: %d without a reason", rc);
    free(body);
    return 0;
}
