/*
 * bench_dedupe.c - repute-bench-dedupe: what a dedupe key costs, in bytes
 * and in time, with the engine's table alone (src/engine/dedupe.c).
 *
 * The program fills a table of --max keys' capacity with --keys random
 * fingerprints, as a stream counts them (the clock moving --rate keys per
 * second, so that the default run stays inside the default one-hour
 * horizon and the table's size, not the horizon, decides what is kept),
 * and reports the table's own byte count per key held and the growth of
 * the resident set. Then it times --probes checks of keys it holds
 * (hits) and --probes checks of new keys (each one a miss, then an insert
 * that evicts the earliest key once the table is full), in random order,
 * in CPU time.
 *
 * It uses only the table's public functions, so the same file compiled
 * against an older dedupe.c measures that one too (how BENCHMARKS.md
 * compares them). Output: a readable summary on standard error and one
 * JSON object on standard output.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/dedupe.h"

static uint64_t rng;
static uint64_t next_rand(void) {
    uint64_t z = (rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* CPU time of the process: on a shared machine, wall time also counts
 * the time other processes held the core. */
static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The resident set size in bytes (VmRSS), or 0. */
static uint64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %" SCNu64, &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

static uint64_t arg_u64(int argc, char **argv, const char *name,
                        uint64_t dflt) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return strtoull(argv[i + 1], NULL, 10);
    return dflt;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: repute-bench-dedupe [--keys N] [--max N] "
                   "[--probes N] [--rate N] [--seed N]\n"
                   "  --keys N    keys counted to fill (default 10000000)\n"
                   "  --max N     dedupe.max.entries (default 10000000)\n"
                   "  --probes N  timed checks of each kind (default "
                   "2000000)\n"
                   "  --rate N    keys per second of clock (default "
                   "1000000)\n"
                   "  --seed N    seed (default 1)\n");
            return 0;
        }
    uint64_t keys = arg_u64(argc, argv, "--keys", 10000000);
    uint64_t max = arg_u64(argc, argv, "--max", 10000000);
    uint64_t probes = arg_u64(argc, argv, "--probes", 2000000);
    uint64_t rate = arg_u64(argc, argv, "--rate", 1000000);
    rng = arg_u64(argc, argv, "--seed", 1);
    if (rate == 0 || probes == 0) {
        fprintf(stderr, "--rate and --probes must be positive\n");
        return 2;
    }
    /* The most recent keys, to probe hits among the held ones. */
    size_t nrecent = probes < 1000000 ? (size_t)probes : 1000000;
    if (nrecent > max)
        nrecent = (size_t)max;
    if (nrecent == 0)
        nrecent = 1;
    uint64_t *recent = calloc(nrecent, sizeof(uint64_t));
    uint64_t *hits = malloc(probes * sizeof(uint64_t));
    uint64_t *fresh = malloc(probes * sizeof(uint64_t));
    if (!recent || !hits || !fresh)
        return 1;
    memset(recent, 0, nrecent * sizeof(uint64_t)); /* not the table's */
    uint64_t rss0 = rss_bytes();

    rp_dedupe d;
    rp_dedupe_init(&d, (size_t)max, 3600 * INT64_C(1000));
    int64_t clock = INT64_C(1700000000000);
    uint64_t n = 0;
    double t0 = now_sec();
    for (; n < keys; n++) {
        uint64_t fp = next_rand();
        recent[n % nrecent] = fp;
        if (rp_dedupe_check(&d, fp, clock + (int64_t)(n * 1000 / rate)) < 0)
            return 1;
    }
    double fill = now_sec() - t0;
    uint64_t rss1 = rss_bytes();
    size_t held = d.count, bytes = rp_dedupe_bytes(&d);

    /* Probes prepared up front: the timed loops only check. */
    for (uint64_t i = 0; i < probes; i++) {
        hits[i] = recent[next_rand() % (n < nrecent ? n : nrecent)];
        fresh[i] = next_rand();
    }
    int64_t at = clock + (int64_t)(n * 1000 / rate);
    uint64_t dup = 0;
    t0 = now_sec();
    for (uint64_t i = 0; i < probes; i++)
        dup += (uint64_t)rp_dedupe_check(&d, hits[i], at);
    double t_hit = now_sec() - t0;
    t0 = now_sec();
    for (uint64_t i = 0; i < probes; i++)
        dup += (uint64_t)rp_dedupe_check(&d, fresh[i], at);
    double t_miss = now_sec() - t0;

    double per_key = held ? (double)bytes / (double)held : 0;
    fprintf(stderr,
            "%zu keys held (%" PRIu64 " counted, max %" PRIu64
            "): %zu bytes, %.2f a key; RSS +%.1f MiB (%.2f bytes a key); "
            "fill %.0f ns a key; check of a held key %.1f ns, of a new key "
            "%.1f ns (%" PRIu64 " duplicates of %" PRIu64 " probes)\n",
            held, n, max, bytes, per_key, (double)(rss1 - rss0) / 1048576.0,
            held ? (double)(rss1 - rss0) / (double)held : 0, fill * 1e9 / n,
            t_hit * 1e9 / probes, t_miss * 1e9 / probes, dup, 2 * probes);
    printf("{\"keys\":%" PRIu64 ",\"max\":%" PRIu64 ",\"held\":%zu,"
           "\"bytes\":%zu,\"bytes_per_key\":%.3f,\"rss_growth_bytes\":%" PRIu64
           ",\"rss_bytes_per_key\":%.3f,\"fill_ns_per_key\":%.1f,"
           "\"hit_ns\":%.1f,\"miss_ns\":%.1f,\"duplicates\":%" PRIu64 "}\n",
           n, max, held, bytes, per_key, rss1 - rss0,
           held ? (double)(rss1 - rss0) / (double)held : 0, fill * 1e9 / n,
           t_hit * 1e9 / probes, t_miss * 1e9 / probes, dup);
    rp_dedupe_free(&d);
    free(recent);
    free(hits);
    free(fresh);
    return 0;
}
