/*
 * fuzz_config.c - the configuration parser (src/config/).
 *
 * The input is a properties file. rp_config_load_file() reads a path, so
 * the input is written to a memfd, reused across inputs, and loaded as
 * /proc/self/fd/N: no file system is touched and the parser reads the
 * file exactly as it reads a real one. The lines are also given, up to the
 * first one refused, to rp_config_set_pair() (as `--set` would) on a
 * second config, and the first line to rp_duration_parse().
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - a failure always has a reason in errstr;
 *  - rp_config_validate() and rp_config_dump() work on whatever the load
 *    left (loading stops at the first bad line, with the lines before it
 *    applied, and every value set is in its range);
 *  - a dump is a valid properties file that means the same: loading it
 *    into a fresh config succeeds and dumps to the same text, and the
 *    validation of both says the same;
 *  - a duration that parses is not negative.
 */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "repute/config.h"

static int memfd = -1;
static char memfd_path[64];

/* Makes the file at memfd_path hold exactly n bytes of p. */
static void put_file(const void *p, size_t n) {
    if (memfd < 0) {
        memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
        FUZZ_CHECK(memfd >= 0, "memfd_create failed");
        snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
    }
    FUZZ_CHECK(ftruncate(memfd, 0) == 0, "ftruncate failed");
    FUZZ_CHECK(n == 0 || pwrite(memfd, p, n, 0) == (ssize_t)n, "pwrite failed");
}

/* Dumps cfg into a heap string (the caller frees it). */
static char *dump(const rp_config *cfg, size_t *len) {
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    FUZZ_CHECK(f != NULL, "open_memstream failed");
    FUZZ_CHECK(rp_config_dump(cfg, f) == 0, "rp_config_dump failed");
    fclose(f);
    return text;
}

static void fuzz_load(const uint8_t *data, size_t size) {
    rp_config cfg, back;
    char e[1024] = "", ve[1024] = "", be[1024] = "";
    FUZZ_CHECK(rp_config_init(&cfg) == 0, "rp_config_init failed");
    put_file(data, size);
    int rc = rp_config_load_file(&cfg, memfd_path, e, sizeof(e));
    if (rc != 0)
        FUZZ_CHECK(e[0] != '\0', "load %d without a reason", rc);
    int valid = rp_config_validate(&cfg, ve, sizeof(ve));
    if (valid != 0)
        FUZZ_CHECK(ve[0] != '\0', "validate %d without a reason", valid);

    size_t n1, n2;
    char *d1 = dump(&cfg, &n1);
    put_file(d1, n1);
    FUZZ_CHECK(rp_config_init(&back) == 0, "rp_config_init failed");
    rc = rp_config_load_file(&back, memfd_path, be, sizeof(be));
    FUZZ_CHECK(rc == 0, "a dump does not load: %s\n%s", be, d1);
    char *d2 = dump(&back, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(d1, d2, n1) == 0,
               "a dump loads back differently:\n%s\n----\n%s", d1, d2);
    FUZZ_CHECK((rp_config_validate(&back, be, sizeof(be)) == 0) == (valid == 0),
               "validation differs after a dump: \"%s\" vs \"%s\"", ve, be);
    free(d1);
    free(d2);
    rp_config_destroy(&back);
    rp_config_destroy(&cfg);
}

static void fuzz_pairs(const uint8_t *data, size_t size) {
    rp_config cfg;
    FUZZ_CHECK(rp_config_init(&cfg) == 0, "rp_config_init failed");
    const uint8_t *p = data, *end = data + size;
    bool first = true;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = fuzz_copy(p, n, 1);
        char e[1024] = "";
        int rc = rp_config_set_pair(&cfg, line, e, sizeof(e));
        if (rc != 0)
            FUZZ_CHECK(e[0] != '\0', "set_pair %d without a reason", rc);
        if (first) {
            int64_t ms = -1;
            if (rp_duration_parse(line, &ms) == 0)
                FUZZ_CHECK(ms >= 0, "duration %s is %lld ms", line,
                           (long long)ms);
            first = false;
        }
        free(line);
        /* The command line stops at the first bad --set as well; going on
         * would spend the run on "did you mean" searches (an edit distance
         * against every key) for line after line of garbage. */
        if (rc != 0)
            break;
        p += n + (nl != NULL);
    }
    rp_config_destroy(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_load(data, size);
    fuzz_pairs(data, size);
    return 0;
}
