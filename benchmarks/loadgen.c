/*
 * loadgen.c - repute-loadgen: realistic sending traffic for the five input
 * topics, as fast as the broker takes it or at a steady rate.
 *
 * Every throughput, memory and latency figure of repute (and of the Kafka
 * Streams peer it is compared with) is measured on traffic from this
 * program, so the traffic has to look like a sending service's, be the
 * same on every run, and put no doubt on what was measured. Hence:
 *
 * Realism. Accounts send with a Zipf-skewed volume (exponent --zipf, 1.0
 * by default: a few accounts send most of the mail, the long tail a
 * message or two), their popularity shuffled so it is unrelated to the
 * id. Each account has its own hard-bounce and complaint rates, drawn once:
 * most accounts are healthy (hard bounces around half a percent, rarely
 * above 3%; complaints around 0.02%, below 0.06%, as good
 * senders are), and a --bad-share of them are bad in one metric, well past
 * the review threshold and mostly past the pause threshold of docs/rules.md
 * section 8 (6-20% hard bounces, or 0.2-1.2% complaints). A record is a send
 * (delivery or bounce) drawn with the account's rates, or a complaint
 * about an earlier delivery at the account's complaint rate, or, rarely,
 * a third-party report or an operator action, both aimed mostly at the bad
 * accounts, as they are in life. The type mix therefore follows from the
 * accounts rather than being fixed: with the defaults it comes to about
 * 98% deliveries, 1.7% bounces, a few complaints per ten thousand, and
 * reports and actions at about one per ten thousand records each. (A fixed
 * 10% bounces and 3% complaints, as repute-bench-engine uses, would put
 * every account with a known rate under review, which is a stress test,
 * not traffic.) Recipients come from a table of mailbox providers, with
 * their feedback-loop flag; feedback comes late (--late-share of bounces
 * and complaints have a sent_time hours before their event_time) and a
 * --dup-share of records are redelivered (the same bytes, so the same
 * event_id, a little later), as at-least-once upstreams do.
 *
 * Tenants. With --tenant-share F, that share of the accounts send for 2
 * to --tenants-max tenants each (docs/rules.md section 10), skewed both in
 * how many tenants an account has and in how its mail spreads over them,
 * with a --tenant-none share of its sends naming no tenant; a bad
 * account's badness sits in one of its tenants, and reports and issue
 * actions sometimes name a tenant (loadgen_tenant.c says how). Without
 * the option, the default, no tenant is drawn and the stream is byte for
 * byte what it was before tenants existed.
 *
 * Reproducibility. Everything derives from --seed through our own PRNG
 * (xoshiro256** seeded by splitmix64; the Zipf draw is Hörmann and
 * Derflinger's rejection-inversion), so the same seed and options give the
 * same records in the same order. Event times are part of that: at full
 * speed (--rate 0) they step evenly from --start-time over --span across
 * the records (a pre-filled run covers a couple of days of event time),
 * never from the wall clock. Only a rate-limited run without --start-time
 * stamps records with the wall clock, because that is what a latency run
 * against clock=wall needs; and --duration without --records makes the
 * stream's length depend on the machine.
 *
 * Latency probes. --probes R (per second) or --probe-every K mix in an
 * ANTI_SPAM_ORGANIZATION report (threshold 1, not manual) for a fresh
 * account "probe-<seed>-<n>" that receives nothing else, so each causes
 * exactly one STATUS_CHANGE, which repute-bench-latency pairs with it.
 *
 * Kafka. Values are plain Avro binary from repute's own encoder
 * (rp_avro_encode, framing plain), keys are account ids, and partitions are
 * chosen by librdkafka's default partitioner, as `repute produce` and
 * repute's own RELATED_ACCOUNT reports do (a Java producer hashes with
 * murmur2: pass -X partitioner=murmur2_random to match one). The producer
 * is idempotent with acks=all, lingers 10 ms into batches of up to 1 MB,
 * and has a bounded queue; when the queue is full it serves delivery
 * reports until there is room, which is how the program runs "as fast as
 * possible" without growing. Compression is off by default: on one machine
 * the network is a loopback and the CPU is the scarce resource, and
 * compressed input would make repute (and the peer) pay for decompression
 * inside the throughput being measured; --compression lz4 is there for
 * runs that want it. At the end it waits for every delivery report and
 * exits 1 if any record was not acknowledged, naming the error.
 *
 * --create-topics N creates the input topics (and any --create-topic, for
 * the outputs) with message.timestamp.type=LogAppendTime, so that record
 * timestamps are broker append times, which the latency tool compares.
 * Before producing, the program waits until every partition answers a
 * watermark query: a produce right after creation can be lost otherwise
 * (KAFKA-15591).
 *
 * Output: progress on standard error; on standard output one JSON line,
 * {"records":N,"seconds":S,"records_per_sec":R,"accounts":N,"probes":P,
 * "duplicates":D,"failed":F,...}, with the tenants' figures (accounts with
 * tenants, tenants, tenants named by some record, records naming one) at
 * the end when there are tenants. --jsonl FILE also writes the stream as
 * JSON lines for `repute replay`, and --no-kafka leaves Kafka out.
 *
 * The source is in three files (loadgen.h says why along which line):
 * this one reads the command line and runs the paced loop, the traffic is
 * made in loadgen_traffic.c and sent in loadgen_sink.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "repute/jsonl.h"

/* ---------------------------------------------------------------- options */

/* 2026-01-01T00:00:00Z: the default start of event time, fixed so that a
 * run is reproducible (repute-bench-engine starts there too). */
#define DEFAULT_START INT64_C(1767225600000)

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: " PROG " [options]\n"
        "\n"
        "Produces realistic traffic (Avro, key = account_id) to\n"
        "PREFIX.deliveries, .bounces, .complaints, .reports and .actions,\n"
        "and prints one JSON line with the figures.\n"
        "\n"
        "Kafka:\n"
        "  --bootstrap HOST:PORT  broker (default 127.0.0.1:9092)\n"
        "  --prefix P             topic prefix (default repute)\n"
        "  --create-topics N      create the input topics with N partitions\n"
        "                         and LogAppendTime timestamps first\n"
        "  --create-topic NAME    also create NAME (repeatable; outputs)\n"
        "  --create-only          create the topics and exit\n"
        "  --compression C        none (default), lz4, zstd, snappy, gzip\n"
        "  -X key=value           any librdkafka property (repeatable)\n"
        "  --no-kafka             do not use Kafka at all\n"
        "  --jsonl FILE           also write the stream as JSON lines\n"
        "Amount and pace:\n"
        "  --records N            records to send (default 1000000 when\n"
        "                         --duration is not given)\n"
        "  --duration D           stop after D (seconds, or 30s, 10m)\n"
        "  --rate R               records per second (default 0: as fast\n"
        "                         as possible)\n"
        "Traffic:\n"
        "  --accounts N           accounts (default 100000)\n"
        "  --seed S               generator seed (default 1)\n"
        "  --zipf S               skew of volume per account (default 1.0)\n"
        "  --bad-share F          share of bad accounts (default 0.02)\n"
        "  --dup-share F          share of redelivered records (0.001)\n"
        "  --late-share F         share of late feedback (default 0.05)\n"
        "  --report-share F       share of third-party reports (0.0001)\n"
        "  --action-share F       share of operator actions (0.0001)\n"
        "  --cover                first send one delivery to every account\n"
        "Tenants (default: none):\n"
        "  --tenant-share F       share of accounts with tenants (0)\n"
        "  --tenants-max N        most tenants of one account (default 50;\n"
        "                         each has 2..N, skewed towards 2)\n"
        "  --tenant-none F        share of a tenanted account's sends that\n"
        "                         name no tenant (default 0.1)\n"
        "Event time:\n"
        "  --start-time T         ms, ISO 8601, 'now' or 'now-48h' (default\n"
        "                         2026-01-01T00:00:00Z; with --rate > 0 the\n"
        "                         default is the wall clock per record)\n"
        "  --span D               event time covered (default 48h)\n"
        "Latency probes:\n"
        "  --probes R             probe records per second\n"
        "  --probe-delay D        start the probes after D of load (a "
        "warm-up:\n"
        "                         the system's first seconds are not steady)\n"
        "  --probe-every K        one probe after every K records\n");
}

static int parse_double(const char *s, double min, double max, double *out) {
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
        return RP_EINVAL;
    *out = v;
    return 0;
}

/* "now", "now-48h", milliseconds, or ISO 8601. */
static int parse_time(const char *s, int64_t *out) {
    if (strncmp(s, "now", 3) == 0) {
        int64_t back = 0;
        if (s[3] == '-' && bk_parse_duration_ms(s + 4, &back) != 0)
            return RP_EINVAL;
        if (s[3] != '\0' && s[3] != '-')
            return RP_EINVAL;
        *out = bk_wall_ms() - back;
        return 0;
    }
    uint64_t ms;
    if (bu_parse_u64(s, 0, INT64_MAX, &ms) == 0) {
        *out = (int64_t)ms;
        return 0;
    }
    return rp_time_parse_iso8601(s, strlen(s), out);
}

/* The options that take a rate or a share: name, range and field. */
static const struct {
    const char *name;
    double min, max;
    size_t field;
} REALS[] = {
    {"--rate", 0, 1e9, offsetof(options, rate)},
    {"--zipf", 0.01, 10, offsetof(options, zipf)},
    {"--bad-share", 0, 1, offsetof(options, bad_share)},
    {"--dup-share", 0, 0.5, offsetof(options, dup_share)},
    {"--late-share", 0, 1, offsetof(options, late_share)},
    {"--report-share", 0, 0.5, offsetof(options, report_share)},
    {"--action-share", 0, 0.5, offsetof(options, action_share)},
    {"--tenant-share", 0, 1, offsetof(options, tenant_share)},
    {"--tenant-none", 0, 1, offsetof(options, tenant_none)},
    {"--probes", 0, 1e6, offsetof(options, probes)},
};

static int parse_options(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->bootstrap = "127.0.0.1:9092";
    o->prefix = "repute";
    o->accounts = 100000;
    o->seed = 1;
    o->zipf = 1.0;
    o->bad_share = 0.02;
    o->dup_share = 0.001;
    o->late_share = 0.05;
    o->report_share = 0.0001;
    o->action_share = 0.0001;
    o->tenants_max = 50;
    o->tenant_none = 0.1;
    o->span = 48 * RP_MS_PER_HOUR;
    o->compression = "none";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m = 0, bad = 0;
        uint64_t u;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--cover") == 0) {
            o->cover = true;
            continue;
        }
        if (strcmp(a, "--create-only") == 0) {
            o->create_only = true;
            continue;
        }
        if (strcmp(a, "--no-kafka") == 0) {
            o->no_kafka = true;
            continue;
        }
        size_t k;
        for (k = 0; k < N_OF(REALS) && m == 0; k++)
            m = bk_opt(argc, argv, &i, REALS[k].name, &v);
#define OPT(name) (m == 0 && (m = bk_opt(argc, argv, &i, name, &v)) == 1)
        if (m == 1)
            bad = parse_double(v, REALS[k - 1].min, REALS[k - 1].max,
                               (double *)((char *)o + REALS[k - 1].field));
        else if (OPT("--bootstrap"))
            o->bootstrap = v;
        else if (OPT("--prefix"))
            o->prefix = v;
        else if (OPT("--accounts"))
            bad = bu_parse_u64(v, 1, UINT32_MAX, &o->accounts);
        else if (OPT("--records"))
            bad = bu_parse_u64(v, 1, UINT64_C(1) << 50, &o->records);
        else if (OPT("--duration"))
            bad = bk_parse_duration_ms(v, &o->duration) || o->duration == 0;
        else if (OPT("--tenants-max"))
            bad = bu_parse_u64(v, 2, UINT16_MAX, &o->tenants_max);
        else if (OPT("--seed"))
            bad = bu_parse_u64(v, 0, UINT64_MAX, &o->seed);
        else if (OPT("--start-time")) {
            bad = parse_time(v, &o->start_time);
            o->has_start = true;
        } else if (OPT("--span"))
            bad = bk_parse_duration_ms(v, &o->span);
        else if (OPT("--probe-delay"))
            bad = bk_parse_duration_ms(v, &o->probe_delay);
        else if (OPT("--probe-every"))
            bad = bu_parse_u64(v, 1, UINT64_MAX, &o->probe_every);
        else if (OPT("--create-topics")) {
            bad = bu_parse_u64(v, 1, 100000, &u);
            o->create_partitions = (int)u;
        } else if (OPT("--create-topic"))
            bad = bk_list_add_csv(&o->create_extra, v);
        else if (OPT("--jsonl"))
            o->jsonl = v;
        else if (OPT("--compression"))
            o->compression = v;
        else if (OPT("-X"))
            bad = bk_list_add_csv(&o->extra, v);
#undef OPT
        else {
            fprintf(stderr, PROG ": %s '%s'\n",
                    m < 0 ? "missing value for" : "unknown option", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, PROG ": bad value '%s' for %s\n", v, a);
            return -1;
        }
    }
    if (o->records == 0 && o->duration == 0)
        o->records = 1000000;
    if (o->probes > 0 && o->probe_every > 0) {
        fprintf(stderr, PROG ": give --probes or --probe-every, not both\n");
        return -1;
    }
    if (o->no_kafka && (o->create_partitions || o->create_only)) {
        fprintf(stderr, PROG ": --no-kafka cannot create topics\n");
        return -1;
    }
    if ((o->create_only || o->create_extra.n) && !o->create_partitions) {
        fprintf(stderr, PROG ": --create-only and --create-topic need "
                             "--create-topics N\n");
        return -1;
    }
    return 0;
}

static void options_free(options *o) {
    bk_list_free(&o->create_extra);
    bk_list_free(&o->extra);
}

/* ---------------------------------------------------------------- the loop */

/* The state of one run of the loop, for the summary line. */
typedef struct run {
    counts c;
    uint64_t n; /* ordinary records, redeliveries included */
    int64_t first_t, last_t;
} run;

/* How the loop stamps event times: evenly from the start over the span
 * when the run is at full speed or a start was given, otherwise the wall
 * clock. The step needs the stream's length: --records, or the rate times
 * the duration, or else (0) the share of the duration elapsed. */
typedef struct pacing {
    bool wall;
    int64_t start_time;
    double planned;
    uint64_t depth; /* redeliveries repeat one of this many records */
} pacing;

static void plan(const options *o, pacing *p) {
    p->wall = o->rate > 0 && !o->has_start;
    p->start_time = o->has_start ? o->start_time : DEFAULT_START;
    p->planned = o->records    ? (double)o->records
                 : o->rate > 0 ? o->rate * (double)o->duration / 1000.0
                               : 0;
    /* Redeliveries repeat a record at most about ten minutes of event
     * time back, well inside repute's default one-hour dedupe horizon. */
    p->depth = RECENT;
    if (!p->wall && p->planned > 0) {
        double per10m = p->planned * 600000.0 / (double)(o->span ? o->span : 1);
        p->depth = per10m < 1 ? 1 : per10m > RECENT ? RECENT : (uint64_t)per10m;
    }
}

/* Generates and sends until --records or --duration is reached, a stop
 * signal arrives or the producer fails, pacing with a token bucket when
 * --rate is given and mixing in the probes. */
static void produce(const options *o, generator *g, sink *s, run *r) {
    pacing p;
    plan(o, &p);
    uint64_t n_new = 0; /* new records */
    double start = bk_now(), now = start, next_progress = start + 2;
    /* The bucket holds up to a tenth of a second of records, so that a
     * sleep that overshoots on a busy machine is made up for, not lost. */
    double tokens = 1, burst = o->rate > 0 ? fmax(1, o->rate / 10) : 0;
    double refill = start;
    double next_probe =
        o->probes > 0
            ? start + (double)o->probe_delay / 1000.0 + 1.0 / o->probes
            : INFINITY;
    uint64_t since_probe = 0;
    char probe_id[64];
    while (!bk_stop && !s->fatal) {
        if (o->records && r->n >= o->records)
            break;
        if ((r->n & 255) == 0 || o->rate > 0)
            now = bk_now();
        if (o->duration && now - start >= o->duration / 1000.0)
            break;

        /* The token bucket: at most `burst` records ahead of the rate,
         * waiting in steps of at most a millisecond. */
        if (o->rate > 0) {
            tokens = fmin(burst, tokens + (now - refill) * o->rate);
            refill = now;
            if (tokens < 1) {
                double wait = (1 - tokens) / o->rate;
                if (s->rk)
                    rd_kafka_poll(s->rk, 0);
                bk_sleep_us(wait > 0.001 ? 1000 : (long)(wait * 1e6) + 1);
                if (now < next_probe)
                    continue;
            }
        }

        int64_t t;
        if (p.wall)
            t = bk_wall_ms();
        else {
            double pos = p.planned > 0
                             ? (double)r->n / p.planned
                             : (now - start) * 1000.0 / (double)o->duration;
            t = p.start_time + (int64_t)(pos * (double)o->span);
        }

        bool probe_due = now >= next_probe ||
                         (o->probe_every && since_probe >= o->probe_every);
        if (probe_due) {
            rp_record rec;
            lg_make_probe(g, r->c.probes++, t, &rec, probe_id, sizeof probe_id);
            if (lg_sink_record(s, &rec, false) != 0)
                break;
            since_probe = 0;
            if (o->probes > 0)
                next_probe += 1.0 / o->probes;
            if (o->rate > 0 && tokens < 1)
                continue; /* the probe was due; the record is not yet */
        }

        if (r->n == 0)
            r->first_t = t;
        r->last_t = t;
        if (o->rate > 0)
            tokens -= 1;
        r->n++;
        since_probe++;
        if (s->n_recent > 0 && bg_rng_chance(&g->r, o->dup_share)) {
            r->c.duplicates++;
            if (lg_sink_redeliver(s, &g->r, p.depth) != 0)
                break;
            continue;
        }
        rp_record rec;
        lg_generate(g, n_new++, t, &rec, &r->c);
        if (lg_sink_record(s, &rec, true) != 0)
            break;

        if (now >= next_progress) {
            fprintf(stderr, PROG ": %" PRIu64 " records, %.0f/s\n", r->n,
                    (double)r->n / (now - start));
            next_progress = now + 2;
        }
    }
}

/* ---------------------------------------------------------------- main */

/* The one JSON line on standard output. */
static void print_result(const options *o, const generator *g, const sink *s,
                         const run *r, double secs, double produce_secs) {
    const counts *c = &r->c;
    uint64_t sends = c->type[RP_REC_DELIVERY] + c->type[RP_REC_BOUNCE];
    printf("{\"records\":%" PRIu64 ",\"seconds\":%.3f,\"records_per_sec\":%.0f"
           ",\"accounts\":%" PRIu64 ",\"probes\":%" PRIu64
           ",\"duplicates\":%" PRIu64 ",\"failed\":%" PRIu64
           ",\"messages\":%" PRIu64 ",\"acked\":%" PRIu64
           ",\"value_bytes\":%" PRIu64 ",\"produce_seconds\":%.3f"
           ",\"target_rate\":%.0f,\"seed\":%" PRIu64
           ",\"bad_accounts\":%" PRIu64 ",\"deliveries\":%" PRIu64
           ",\"bounces\":%" PRIu64 ",\"complaints\":%" PRIu64
           ",\"reports\":%" PRIu64 ",\"actions\":%" PRIu64
           ",\"hard_bounce_share\":%.5f"
           ",\"late\":%" PRIu64 ",\"first_event_time\":%" PRId64
           ",\"last_event_time\":%" PRId64 ",\"kafka\":%s",
           r->n, secs, secs > 0 ? (double)r->n / secs : 0.0, o->accounts,
           c->probes, c->duplicates, s->failed, s->produced, s->acked, s->bytes,
           produce_secs, o->rate, o->seed, g->n_bad, c->type[RP_REC_DELIVERY],
           c->type[RP_REC_BOUNCE], c->type[RP_REC_COMPLAINT],
           c->type[RP_REC_REPORT], c->type[RP_REC_ACTION],
           sends ? (double)c->hard / (double)sends : 0.0, c->late, r->first_t,
           r->last_t, s->rk ? "true" : "false");
    /* The tenants' figures only with tenants, so that a run without them
     * prints what it always did. */
    if (o->tenant_share > 0)
        printf(",\"tenant_share\":%g,\"tenanted_accounts\":%" PRIu64
               ",\"tenants\":%" PRIu64 ",\"tenants_used\":%" PRIu64
               ",\"tenant_records\":%" PRIu64,
               o->tenant_share, g->n_tenanted, g->tenants, g->tenants_used,
               c->tenant_records);
    printf("}\n");
}

int main(int argc, char **argv) {
    options o;
    int prc = parse_options(argc, argv, &o);
    if (prc != 0) {
        usage(prc == 1 ? stdout : stderr);
        options_free(&o);
        return prc == 1 ? 0 : 2;
    }
    bk_catch_stop_signals();

    sink s;
    int ready = lg_sink_open(&s, &o);
    if (ready != 0 || o.create_only) {
        lg_sink_close(&s);
        options_free(&o);
        return ready != 0 ? 1 : 0;
    }

    double t0 = bk_now();
    generator g;
    lg_generator_init(&g, &o);
    fprintf(stderr,
            PROG ": %" PRIu64 " accounts (%" PRIu64 " bad), seed %" PRIu64
                 ", set up in %.1f s\n",
            o.accounts, g.n_bad, o.seed, bk_now() - t0);

    run r;
    memset(&r, 0, sizeof r);
    double start = bk_now();
    produce(&o, &g, &s, &r);
    double produce_secs = bk_now() - start;
    lg_sink_flush(&s);
    double secs = bk_now() - start;

    int status = 0;
    if (s.fatal || s.failed > 0) {
        fprintf(stderr,
                PROG ": %" PRIu64 " of %" PRIu64
                     " records not acknowledged; first error: %s\n",
                s.failed, s.produced, s.first_error[0] ? s.first_error : "?");
        status = 1;
    }
    print_result(&o, &g, &s, &r, secs, produce_secs);
    lg_generator_free(&g);
    lg_sink_close(&s);
    options_free(&o);
    return status;
}
