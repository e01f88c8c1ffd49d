/*
 * bench_engine.c - repute-bench-engine: how fast one thread turns Avro
 * records into reputation, measured against plain avro-c decoding.
 *
 * The question this program answers is whether repute's hot path (decode a
 * record, then apply it to the engine) keeps up with the cost of merely
 * reading the same bytes with avro-c's generic API, and how much memory an
 * account costs. Everything that is not that hot path is kept out of the
 * timed loops: the records are generated and encoded up front into one
 * arena, so the loops only walk memory, decode and apply.
 *
 * The input is synthetic but shaped like a sending service's traffic: 85%
 * deliveries, 10% bounces, 3% complaints and 2% reports and operator
 * actions, each record's account chosen from a Zipf distribution (exponent
 * 1) over N accounts, so that a few accounts send most of the mail and the
 * long tail sends a message or two. Event time walks through 30 days with a
 * little jitter, feedback carries a sent_time minutes to days earlier, and
 * about one record in a thousand is a redelivery of a recent record (the
 * same bytes), which the engine's dedupe must drop. Everything derives from
 * --seed through our own PRNG (xoshiro256**, seeded by splitmix64), so a
 * run is reproducible on any machine; rand() is never used. The Zipf draw
 * uses Hörmann and Derflinger's rejection-inversion method, which needs no
 * table and costs a log and an exp per draw.
 *
 * Note that the mix is a stress mix rather than a healthy one: 10% bounces
 * and 3% complaints put every account with a known rate above the review
 * thresholds, and reports go mostly to the biggest senders, so the life
 * cycle (reviews, extensions, pauses, notifications) runs for every account
 * that has the volume to be judged.
 *
 * The run has five timed phases over the same records, in this order:
 * avro-c generic decoding (the baseline), repute's decoder alone, repute's
 * decoder plus the engine (the figure that counts), the same with the
 * reference decoder rp_avro_decode_generic() in place of rp_avro_decode(),
 * and the baseline once more. The baseline is reported as the better
 * (faster) of its two runs, which is the stricter yardstick for repute; the
 * decoder-only phase splits repute's cost into decoding and engine work.
 * The reference-decoder phase shows what decoding through avro-c's value
 * API would cost the hot path, side by side with the product's figure; to
 * keep a default run short it covers only the first GENERIC_MAX_EVENTS
 * records (with a fresh engine), so its figure comes from a smaller engine
 * state when the run is larger than that. The engine runs with the
 * defaults of docs/rules.md section 8 under clock=event, and RELATED_ACCOUNT
 * reports that it produces are applied right after the record that caused them,
 * as `repute replay` does.
 *
 * Output: progress on standard error, a readable summary on standard
 * output, and as the last line of standard output one JSON object with
 * events, accounts, events_per_sec, avro_decode_events_per_sec,
 * bytes_per_account and peak_rss_bytes, followed by a few extra keys.
 *
 * This file is the measuring half: the options, the timed phases and the
 * report. The input is made by bench_engine_corpus.c, from the generator
 * that repute-loadgen also uses (bench_gen.h), and handed over as the
 * corpus of bench_engine.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <avro.h>

#include "bench_engine.h"
#include "repute/acctstate.h"
#include "repute/avro.h"
#include "repute/config.h"
#include "repute/engine.h"
#include "repute/record.h"

/* ---------------------------------------------------------------- options */

#define DEFAULT_ACCOUNTS UINT64_C(1000000)
#define DEFAULT_EVENTS   UINT64_C(20000000)
#define DEFAULT_SEED     UINT64_C(1)

/* The reference-decoder phase runs over at most this many records. */
#define GENERIC_MAX_EVENTS UINT64_C(5000000)

/* Account ids are "acct-" and ten digits, so at most 10^10 accounts; the
 * practical limit is memory, and a billion is far beyond it. */
#define MAX_ACCOUNTS UINT64_C(1000000000)
/* The record index packs a 40-bit arena offset; 2^34 records of about 90
 * bytes would already pass that, so events stop well below it. */
#define MAX_EVENTS UINT64_C(4000000000)

static void usage(FILE *out) {
    fprintf(out,
            "usage: repute-bench-engine [--accounts N] [--events N] "
            "[--seed N] [--tenants] [--current]\n"
            "\n"
            "Pre-encodes N synthetic Avro records over a Zipf-skewed set of\n"
            "accounts, then times avro-c generic decoding of them and\n"
            "repute's decode + engine on one thread. The last line of\n"
            "standard output is one JSON object with the figures.\n"
            "\n"
            "  --accounts N  number of accounts (default %" PRIu64 ")\n"
            "  --events N    number of records (default %" PRIu64 ")\n"
            "  --seed N      seed of the generator (default %" PRIu64 ")\n"
            "  --tenants     a tenth of the accounts send for 2-50 tenants:\n"
            "                decode + engine with and without tenants, side\n"
            "                by side, and bytes per account or tenant\n"
            "  --current     also build and encode every status change's\n"
            "                account state, as repute run does for\n"
            "                topic.current\n"
            "  --help        show this text\n",
            DEFAULT_ACCOUNTS, DEFAULT_EVENTS, DEFAULT_SEED);
}

/* Accepts "--name value" and "--name=value". Returns 0, 1 for --help, or
 * -1 after printing what was wrong. */
static int parse_options(int argc, char **argv, be_options *opt) {
    opt->accounts = DEFAULT_ACCOUNTS;
    opt->events = DEFAULT_EVENTS;
    opt->seed = DEFAULT_SEED;
    opt->tenants = false;
    opt->current = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        if (strcmp(arg, "--tenants") == 0) {
            opt->tenants = true;
            continue;
        }
        if (strcmp(arg, "--current") == 0) {
            opt->current = true;
            continue;
        }
        static const struct {
            const char *name;
            uint64_t min, max;
            size_t field;
        } known[] = {
            {"--accounts", 1, MAX_ACCOUNTS, offsetof(be_options, accounts)},
            {"--events", 1, MAX_EVENTS, offsetof(be_options, events)},
            {"--seed", 0, UINT64_MAX, offsetof(be_options, seed)},
        };
        size_t k;
        const char *value = NULL;
        for (k = 0; k < sizeof known / sizeof known[0]; k++) {
            size_t n = strlen(known[k].name);
            if (strncmp(arg, known[k].name, n) != 0)
                continue;
            if (arg[n] == '=') {
                value = arg + n + 1;
                break;
            }
            if (arg[n] == '\0') {
                value = i + 1 < argc ? argv[++i] : NULL;
                break;
            }
        }
        if (k == sizeof known / sizeof known[0]) {
            fprintf(stderr, "repute-bench-engine: unknown option '%s'\n", arg);
            return -1;
        }
        uint64_t *field = (uint64_t *)((char *)opt + known[k].field);
        if (bu_parse_u64(value, known[k].min, known[k].max, field) != 0) {
            fprintf(stderr,
                    "repute-bench-engine: %s needs a whole number from "
                    "%" PRIu64 " to %" PRIu64 "\n",
                    known[k].name, known[k].min, known[k].max);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The peak resident set size of the process so far, in bytes. */
static uint64_t peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024u; /* Linux reports kilobytes */
}

/* ---------------------------------------------------------------- baseline */

/* Plain avro-c generic decoding: for each record, point a memory reader at
 * its bytes and read it into a generic value of its schema. One schema,
 * class and value per record type, built once from the same embedded
 * schema text that repute uses. avro_value_read() resets the value first,
 * so values are reused as an efficient avro-c program would. */
static double run_baseline(const be_corpus *c) {
    avro_schema_t schema[RP_REC__COUNT];
    avro_value_iface_t *iface[RP_REC__COUNT];
    avro_value_t value[RP_REC__COUNT];
    for (int t = 0; t < RP_REC__COUNT; t++) {
        const char *json = rp_avro_schema_json(t);
        if (json == NULL ||
            avro_schema_from_json_length(json, strlen(json), &schema[t]) != 0)
            die("cannot parse schema %s: %s", rp_avro_schema_name(t),
                avro_strerror());
        iface[t] = avro_generic_class_from_schema(schema[t]);
        if (iface[t] == NULL ||
            avro_generic_value_new(iface[t], &value[t]) != 0)
            die("cannot create a generic value for %s: %s",
                rp_avro_schema_name(t), avro_strerror());
    }
    static const char empty[1];
    avro_reader_t reader = avro_reader_memory(empty, 0);
    if (reader == NULL)
        die("cannot create an avro-c memory reader");

    double start = now_seconds();
    for (uint64_t i = 0; i < c->n; i++) {
        uint64_t e = c->index[i];
        rp_rec_type t = idx_type(e);
        avro_reader_memory_set_source(reader, idx_bytes(c, e),
                                      (int64_t)idx_len(e));
        if (avro_value_read(reader, &value[t]) != 0)
            die("avro-c cannot read record %" PRIu64 ": %s", i,
                avro_strerror());
    }
    double elapsed = now_seconds() - start;

    avro_reader_free(reader);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        avro_value_decref(&value[t]);
        avro_value_iface_decref(iface[t]);
        avro_schema_decref(schema[t]);
    }
    return elapsed;
}

/* ---------------------------------------------------------------- repute */

/* repute's decoder alone, to split repute's cost into decoding and engine
 * work. */
static double run_decode_only(const be_corpus *c) {
    char err[512];
    rp_avro_codec *codec =
        rp_avro_codec_new(RP_FRAMING_PLAIN, NULL, err, sizeof err);
    if (codec == NULL)
        die("cannot create the Avro codec: %s", err);
    uint64_t checksum = 0;
    double start = now_seconds();
    for (uint64_t i = 0; i < c->n; i++) {
        uint64_t e = c->index[i];
        rp_record rec;
        int rc = rp_avro_decode(codec, idx_type(e), idx_bytes(c, e), idx_len(e),
                                &rec, err, sizeof err);
        if (rc != 0)
            die("repute cannot decode record %" PRIu64 ": %s (%s)", i, err,
                rp_strerror(rc));
        checksum += (uint64_t)rec.event_time + rec.account_id.len;
    }
    double elapsed = now_seconds() - start;
    rp_avro_codec_destroy(codec);
    /* The checksum keeps the loop's results observable. */
    if (checksum == 42)
        fputc('\n', stderr);
    return elapsed;
}

typedef struct bench_sink {
    uint64_t events[RP_EVENT__COUNT];
    uint64_t states, state_bytes; /* --current */
    rp_buf current;
} bench_sink;

/* --current: set by main before the runs. */
static bool g_current;

static void sink_on_event(void *opaque, const rp_event *ev) {
    bench_sink *s = opaque;
    if ((unsigned)ev->kind < RP_EVENT__COUNT)
        s->events[ev->kind]++;
}

/* As `repute run`'s sink: the state encoded, or a tombstone. */
static void sink_on_current(void *opaque, const rp_account_state *st) {
    bench_sink *s = opaque;
    char err[256];
    if (!st)
        die("the engine cannot build an account state");
    s->states++;
    if (st->status == RP_ASTATUS_HEALTHY && !st->n_tenants)
        return;
    if (rp_acctstate_encode(st, RP_ACCTSTATE_NO_ID, &s->current, err,
                            sizeof err) != 0)
        die("cannot encode an account state: %s", err);
    s->state_bytes += s->current.len;
}

typedef struct repute_result {
    double seconds;
    double cpu_seconds; /* of this thread: robust on a shared machine */
    rp_engine_stats stats;
    uint64_t events[RP_EVENT__COUNT];
    uint64_t related_reports;
    uint64_t states, state_bytes; /* --current */
} repute_result;

/* rp_avro_decode() or rp_avro_decode_generic(). */
typedef int (*decode_fn)(rp_avro_codec *c, rp_rec_type type, const void *buf,
                         size_t len, rp_record *rec, char *errstr,
                         size_t errstr_size);

/* repute's hot path over the first n records: decode, then apply at the
 * record's event time (clock=event), with every default of docs/rules.md
 * section 8, on a fresh engine. With codes (--tenants), record i names
 * tenant codes[i] (bench_engine_tenants.c). */
static void run_repute(const be_corpus *c, uint64_t n, decode_fn decode,
                       const uint8_t *codes, repute_result *res) {
    const rp_str *names = be_tenant_names();
    char err[512];
    rp_config cfg;
    if (rp_config_init(&cfg) != 0)
        die("cannot initialise the configuration");
    cfg.clock = RP_CLOCK_EVENT;
    cfg.clock_set = true;
    rp_avro_codec *codec =
        rp_avro_codec_new(RP_FRAMING_PLAIN, NULL, err, sizeof err);
    if (codec == NULL)
        die("cannot create the Avro codec: %s", err);
    rp_engine *engine = rp_engine_new(&cfg, err, sizeof err);
    if (engine == NULL)
        die("cannot create the engine: %s", err);

    bench_sink s;
    memset(&s, 0, sizeof s);
    rp_engine_sink sink = {&s, sink_on_event, NULL, NULL,
                           g_current ? sink_on_current : NULL};
    /* RELATED_ACCOUNT reports are applied by the engine itself, as in
     * `repute replay`. */
    rp_engine_set_loopback(engine, true);

    double start = now_seconds(), cpu_start = cpu_seconds();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t e = c->index[i];
        rp_record rec;
        /* The engine's prefetch hints, three, two and one records ahead,
         * as `repute run` gives them over its buffered records. */
        for (int ahead = 1; ahead <= 3; ahead++) {
            if (i + (uint64_t)ahead >= n)
                break;
            uint64_t f = c->index[i + (uint64_t)ahead];
            rp_str id;
            if (rp_avro_peek_account_id(RP_FRAMING_PLAIN, idx_bytes(c, f),
                                        idx_len(f), &id) == 0)
                rp_engine_prefetch(engine, id, 3 - ahead);
        }
        int rc = decode(codec, idx_type(e), idx_bytes(c, e), idx_len(e), &rec,
                        err, sizeof err);
        if (rc != 0)
            die("repute cannot decode record %" PRIu64 ": %s (%s)", i, err,
                rp_strerror(rc));
        if (codes && codes[i])
            rec.tenant = names[codes[i] - 1];
        rc = rp_engine_apply(engine, &rec, rec.event_time, &sink);
        if (rc != 0)
            die("the engine cannot apply record %" PRIu64 ": %s", i,
                rp_strerror(rc));
    }
    res->seconds = now_seconds() - start;
    res->cpu_seconds = cpu_seconds() - cpu_start;

    rp_engine_get_stats(engine, &res->stats);
    memcpy(res->events, s.events, sizeof res->events);
    res->states = s.states;
    res->state_bytes = s.state_bytes;
    rp_buf_free(&s.current);
    res->related_reports = res->stats.related_reports;

    rp_engine_destroy(engine);
    rp_avro_codec_destroy(codec);
    rp_config_destroy(&cfg);
}

/* ---------------------------------------------------------------- tenants */

static double per_sec(uint64_t n, double seconds) {
    return seconds > 0 ? (double)n / seconds : 0.0;
}

static double bytes_per_entity(const rp_engine_stats *st) {
    uint64_t n = st->accounts + st->tenants;
    return n ? (double)st->account_bytes / (double)n : 0.0;
}

/* --tenants: the same records without and with tenants, alternating, each
 * twice (the better run of each counts, as above), side by side. */
static void run_tenants(const be_corpus *c, const be_options *opt) {
    uint64_t named, with;
    uint8_t *codes = be_tenant_codes(c, opt, &named, &with);
    printf("tenants        %" PRIu64 " of %" PRIu64
           " accounts send for 2-50 tenants; %" PRIu64
           " records (%.1f%%) name one\n",
           with, opt->accounts, named, 100.0 * (double)named / (double)c->n);
    repute_result plain, ten, r;
    memset(&plain, 0, sizeof plain);
    memset(&ten, 0, sizeof ten);
    /* CPU time of the thread: on a shared machine the wall clock of one
     * run can be off by a factor, its CPU time much less. */
    for (int run = 0; run < 2; run++) {
        fprintf(stderr, "repute-bench-engine: without tenants (%d of 2)\n",
                run + 1);
        run_repute(c, c->n, rp_avro_decode, NULL, &r);
        if (run == 0 || r.cpu_seconds < plain.cpu_seconds)
            plain = r;
        fprintf(stderr, "repute-bench-engine: with tenants (%d of 2)\n",
                run + 1);
        run_repute(c, c->n, rp_avro_decode, codes, &r);
        if (run == 0 || r.cpu_seconds < ten.cpu_seconds)
            ten = r;
    }
    if (g_current)
        printf("current        %" PRIu64 " / %" PRIu64
               " account states built, %" PRIu64 " / %" PRIu64
               " bytes encoded (without / with tenants)\n",
               plain.states, ten.states, plain.state_bytes, ten.state_bytes);
    double eps = per_sec(c->n, plain.cpu_seconds);
    double teps = per_sec(c->n, ten.cpu_seconds);
    double bpe = bytes_per_entity(&ten.stats);
    /* What the tenants add: the bytes beyond the run without them, per
     * tenant held (the accounts are the same but for a few that only
     * RELATED_ACCOUNT reports created). */
    double bpt = ten.stats.tenants ? ((double)ten.stats.account_bytes -
                                      (double)plain.stats.account_bytes) /
                                         (double)ten.stats.tenants
                                   : 0.0;
    /* The targets of issue 15: at least 0.8 of the events/s without
     * tenants, and a tenant no dearer than 300 bytes (an account costs
     * what it did; in this stress mix more than that, see README). */
    bool met = teps >= 0.8 * eps && bpt <= 300.0;
    printf("without        %.2f s CPU (%.2f s wall): %.0f events/s; %" PRIu64
           " accounts, %.1f bytes each\n",
           plain.cpu_seconds, plain.seconds, eps, plain.stats.accounts,
           bytes_per_entity(&plain.stats));
    printf("with tenants   %.2f s CPU (%.2f s wall): %.0f events/s (%.2f of "
           "without); %" PRIu64 " accounts + %" PRIu64
           " tenants, %.1f bytes per entity (%.1f more per tenant)\n",
           ten.cpu_seconds, ten.seconds, teps, eps > 0 ? teps / eps : 0.0,
           ten.stats.accounts, ten.stats.tenants, bpe, bpt);
    printf("output         without: %" PRIu64 " events; with: %" PRIu64
           " events\n",
           plain.events[RP_EVENT_STATUS_CHANGE] +
               plain.events[RP_EVENT_NOTIFICATION],
           ten.events[RP_EVENT_STATUS_CHANGE] +
               ten.events[RP_EVENT_NOTIFICATION]);
    printf("memory         peak RSS %" PRIu64 " bytes\n", peak_rss_bytes());
    printf("targets        %s (with tenants >= 0.8 x without, bytes added "
           "per tenant <= 300)\n",
           met ? "met" : "NOT met");
    printf("{\"events\":%" PRIu64 ",\"accounts\":%" PRIu64 ",\"seed\":%" PRIu64
           ",\"tenant_records\":%" PRIu64 ",\"accounts_with_tenants\":%" PRIu64
           ",\"events_per_sec\":%.0f,\"tenants_events_per_sec\":%.0f"
           ",\"bytes_per_account\":%.1f,\"tenants_bytes_per_entity\":%.1f"
           ",\"tenants_held\":%" PRIu64 ",\"bytes_per_tenant_added\":%.1f"
           ",\"peak_rss_bytes\":%" PRIu64 ",\"targets_met\":%s}\n",
           c->n, opt->accounts, opt->seed, named, with, eps, teps,
           bytes_per_entity(&plain.stats), bpe, ten.stats.tenants, bpt,
           peak_rss_bytes(), met ? "true" : "false");
    free(codes);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    be_options opt;
    int rc = parse_options(argc, argv, &opt);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc != 0) {
        usage(stderr);
        return 2;
    }
    g_current = opt.current;

    fprintf(stderr,
            "repute-bench-engine: generating %" PRIu64 " records over "
            "%" PRIu64 " accounts (seed %" PRIu64 ")\n",
            opt.events, opt.accounts, opt.seed);
    double t0 = now_seconds();
    be_corpus c;
    be_corpus_build(&c, &opt);
    double gen_seconds = now_seconds() - t0;
    uint64_t rss_input = peak_rss_bytes();

    printf("records        %" PRIu64 " (deliveries %" PRIu64
           ", bounces %" PRIu64 ", complaints %" PRIu64 ", reports %" PRIu64
           ", actions %" PRIu64 "; redeliveries %" PRIu64 ")\n",
           c.n, c.type_count[RP_REC_DELIVERY], c.type_count[RP_REC_BOUNCE],
           c.type_count[RP_REC_COMPLAINT], c.type_count[RP_REC_REPORT],
           c.type_count[RP_REC_ACTION], c.duplicates);
    printf("encoded        %zu bytes, %.1f bytes per record, in %.1f s\n",
           c.len, (double)c.len / (double)(c.n - c.duplicates), gen_seconds);
    fflush(stdout);
    if (opt.tenants) {
        run_tenants(&c, &opt);
        be_corpus_free(&c);
        return 0;
    }

    fprintf(stderr, "repute-bench-engine: avro-c generic decoding (1 of 2)\n");
    double base1 = run_baseline(&c);
    fprintf(stderr, "repute-bench-engine: repute decoding only\n");
    double dec = run_decode_only(&c);
    fprintf(stderr, "repute-bench-engine: repute decode + engine (1 of 2)\n");
    repute_result res;
    run_repute(&c, c.n, rp_avro_decode, NULL, &res);
    if (g_current)
        printf("current        %" PRIu64 " account states built, %" PRIu64
               " bytes encoded\n",
               res.states, res.state_bytes);
    uint64_t gen_n = c.n < GENERIC_MAX_EVENTS ? c.n : GENERIC_MAX_EVENTS;
    fprintf(stderr,
            "repute-bench-engine: reference decoder (avro-c values) + engine, "
            "%" PRIu64 " records\n",
            gen_n);
    repute_result gen;
    run_repute(&c, gen_n, rp_avro_decode_generic, NULL, &gen);
    fprintf(stderr, "repute-bench-engine: avro-c generic decoding (2 of 2)\n");
    double base2 = run_baseline(&c);
    /* Both sides get two runs and keep the better: on a shared machine a
     * single run of either can be slowed by tens of percent. */
    fprintf(stderr, "repute-bench-engine: repute decode + engine (2 of 2)\n");
    repute_result res2;
    run_repute(&c, c.n, rp_avro_decode, NULL, &res2);
    double repute1 = res.seconds;
    if (res2.seconds < res.seconds)
        res = res2;

    /* The better baseline is the stricter yardstick for repute. */
    double base = base1 < base2 ? base1 : base2;
    double eps = per_sec(c.n, res.seconds);
    double avro_eps = per_sec(c.n, base);
    double dec_eps = per_sec(c.n, dec);
    double gen_eps = per_sec(gen_n, gen.seconds);
    double bpa = res.stats.accounts ? (double)res.stats.account_bytes /
                                          (double)res.stats.accounts
                                    : 0.0;
    uint64_t rss = peak_rss_bytes();
    bool met = eps >= 0.5 * avro_eps && eps >= 1e6 && bpa <= 1024.0;

    printf("avro-c decode  %.2f s and %.2f s: %.0f events/s (the better)\n",
           base1, base2, avro_eps);
    printf("repute decode  %.2f s: %.0f events/s\n", dec, dec_eps);
    printf("decode+engine  %.2f s: %.0f events/s (%.2f of avro-c; engine "
           "%.0f ns per record)\n",
           res.seconds, eps, avro_eps > 0 ? eps / avro_eps : 0.0,
           (res.seconds - dec) * 1e9 / (double)c.n);
    printf("generic+engine %.2f s: %.0f events/s over the first %" PRIu64
           " records (decoding through avro-c values; %.2f of avro-c)\n",
           gen.seconds, gen_eps, gen_n,
           avro_eps > 0 ? gen_eps / avro_eps : 0.0);
    printf("engine         %" PRIu64 " accounts, %" PRIu64
           " account bytes (%.1f per account), dedupe %" PRIu64
           " entries in %" PRIu64 " bytes\n",
           res.stats.accounts, res.stats.account_bytes, bpa,
           res.stats.dedupe_entries, res.stats.dedupe_bytes);
    printf("output         %" PRIu64 " status changes, %" PRIu64
           " notifications, %" PRIu64 " related reports; %" PRIu64
           " duplicates dropped, %" PRIu64 " actions not applied\n",
           res.events[RP_EVENT_STATUS_CHANGE],
           res.events[RP_EVENT_NOTIFICATION], res.related_reports,
           res.stats.duplicates_dropped, res.stats.actions_not_applied);
    printf("memory         peak RSS %" PRIu64 " bytes (%" PRIu64
           " after generating the input)\n",
           rss, rss_input);
    printf("targets        %s (events/s >= 0.5 x avro-c and >= 1000000, "
           "bytes per account <= 1024)\n",
           met ? "met" : "NOT met");

    printf("{\"events\":%" PRIu64 ",\"accounts\":%" PRIu64
           ",\"events_per_sec\":%.0f,\"avro_decode_events_per_sec\":%.0f"
           ",\"bytes_per_account\":%.1f,\"peak_rss_bytes\":%" PRIu64
           ",\"seed\":%" PRIu64 ",\"engine_accounts\":%" PRIu64
           ",\"repute_decode_events_per_sec\":%.0f"
           ",\"avro_decode_runs_sec\":[%.3f,%.3f],\"repute_runs_sec\":[%.3f,%."
           "3f],\"repute_sec\":%.3f"
           ",\"input_bytes\":%zu,\"rss_after_input_bytes\":%" PRIu64
           ",\"dedupe_bytes\":%" PRIu64 ",\"output_events\":%" PRIu64
           ",\"generic_events_per_sec\":%.0f,\"generic_events\":%" PRIu64
           ",\"generic_sec\":%.3f,\"targets_met\":%s}\n",
           c.n, opt.accounts, eps, avro_eps, bpa, rss, opt.seed,
           res.stats.accounts, dec_eps, base1, base2, repute1, res2.seconds,
           res.seconds, c.len, rss_input, res.stats.dedupe_bytes,
           res.events[RP_EVENT_STATUS_CHANGE] +
               res.events[RP_EVENT_NOTIFICATION],
           gen_eps, gen_n, gen.seconds, met ? "true" : "false");

    be_corpus_free(&c);
    return 0;
}
