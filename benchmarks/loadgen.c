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
 * above 3%; complaints around 0.02%, below 0.06%, as DOMAIN.md says good
 * senders are), and a --bad-share of them are bad in one metric, well past
 * the review threshold and mostly past the pause threshold of SPEC section
 * 8 (6-20% hard bounces, or 0.2-1.2% complaints). A record is a send
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
 * "duplicates":D,"failed":F,...}. --jsonl FILE also writes the stream as
 * JSON lines for `repute replay`, and --no-kafka leaves Kafka out.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "bench_kafka.h"
#include "bench_gen.h"
#include "repute/avro.h"
#include "repute/buf.h"
#include "repute/jsonl.h"
#include "repute/record.h"

#define PROG "repute-loadgen"

/* ---------------------------------------------------------------- options */

/* 2026-01-01T00:00:00Z: the default start of event time, fixed so that a
 * run is reproducible (repute-bench-engine starts there too). */
#define DEFAULT_START INT64_C(1767225600000)

static const char *const TOPIC_SUFFIX[RP_REC__COUNT] = {
    "deliveries", "bounces", "complaints", "reports", "actions",
};

typedef struct options {
    const char *bootstrap;
    const char *prefix;
    uint64_t accounts;
    uint64_t records; /* 0: not given */
    int64_t duration; /* ms; 0: not given */
    double rate;      /* records/s; 0: as fast as possible */
    uint64_t seed;
    double zipf;
    double bad_share, dup_share, late_share;
    double report_share, action_share;
    bool has_start;
    int64_t start_time;
    int64_t span;
    bool cover;
    double probes;        /* per second; 0: none */
    int64_t probe_delay;  /* ms of load before the first --probes probe */
    uint64_t probe_every; /* records; 0: none */
    int create_partitions;
    bool create_only;
    bk_list create_extra;
    const char *jsonl;
    bool no_kafka;
    const char *compression;
    bk_list extra; /* -X key=value */
} options;

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

/* Parses a whole number in [min, max]. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
    if (s == NULL || *s < '0' || *s > '9')
        return RP_EINVAL;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return RP_EINVAL;
    *out = (uint64_t)v;
    return 0;
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
    if (parse_u64(s, 0, INT64_MAX, &ms) == 0) {
        *out = (int64_t)ms;
        return 0;
    }
    return rp_time_parse_iso8601(s, strlen(s), out);
}

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
#define OPT(name) (m == 0 && (m = bk_opt(argc, argv, &i, name, &v)) == 1)
        if (OPT("--bootstrap"))
            o->bootstrap = v;
        else if (OPT("--prefix"))
            o->prefix = v;
        else if (OPT("--accounts"))
            bad = parse_u64(v, 1, UINT32_MAX, &o->accounts);
        else if (OPT("--records"))
            bad = parse_u64(v, 1, UINT64_C(1) << 50, &o->records);
        else if (OPT("--duration"))
            bad = bk_parse_duration_ms(v, &o->duration) || o->duration == 0;
        else if (OPT("--rate"))
            bad = parse_double(v, 0, 1e9, &o->rate);
        else if (OPT("--seed"))
            bad = parse_u64(v, 0, UINT64_MAX, &o->seed);
        else if (OPT("--zipf"))
            bad = parse_double(v, 0.01, 10, &o->zipf);
        else if (OPT("--bad-share"))
            bad = parse_double(v, 0, 1, &o->bad_share);
        else if (OPT("--dup-share"))
            bad = parse_double(v, 0, 0.5, &o->dup_share);
        else if (OPT("--late-share"))
            bad = parse_double(v, 0, 1, &o->late_share);
        else if (OPT("--report-share"))
            bad = parse_double(v, 0, 0.5, &o->report_share);
        else if (OPT("--action-share"))
            bad = parse_double(v, 0, 0.5, &o->action_share);
        else if (OPT("--start-time")) {
            bad = parse_time(v, &o->start_time);
            o->has_start = true;
        } else if (OPT("--span"))
            bad = bk_parse_duration_ms(v, &o->span);
        else if (OPT("--probes"))
            bad = parse_double(v, 0, 1e6, &o->probes);
        else if (OPT("--probe-delay"))
            bad = bk_parse_duration_ms(v, &o->probe_delay);
        else if (OPT("--probe-every"))
            bad = parse_u64(v, 1, UINT64_MAX, &o->probe_every);
        else if (OPT("--create-topics")) {
            bad = parse_u64(v, 1, 100000, &u);
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

/* ---------------------------------------------------------------- helpers */

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        die("out of memory (%zu bytes)", n);
    return p;
}

/* Writes v in decimal, zero-padded to at least `width` digits; returns the
 * length. Faster than snprintf, which matters at a million records a
 * second. */
static size_t fmt_u64(char *out, uint64_t v, int width) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return (size_t)n;
}

/* ---------------------------------------------------------------- tables */

/* Recipient domains with their share of mail and whether the provider
 * sends complaint feedback to the service (Gmail does not, the big
 * feedback-loop providers do, company domains do not). */
static const struct {
    const char *name;
    unsigned weight;
    bool feedback_loop;
} DOMAINS[] = {
    {"gmail.com", 350, false},    {"yahoo.com", 120, true},
    {"outlook.com", 120, true},   {"hotmail.com", 80, true},
    {"icloud.com", 60, true},     {"aol.com", 20, true},
    {"gmx.de", 30, true},         {"comcast.net", 20, true},
    {"corp.example", 200, false}, /* stands for company domains */
};
#define N_DOMAINS (sizeof DOMAINS / sizeof DOMAINS[0])

/* Hard bounces: permanent, and counted (SPEC 3). */
static const struct {
    rp_bounce_type type;
    rp_bounce_subtype subtype;
    unsigned weight;
} HARD[] =
    {
        {RP_BOUNCE_PERMANENT, RP_BSUB_GENERAL, 55},
        {RP_BOUNCE_PERMANENT, RP_BSUB_NO_EMAIL, 35},
        {RP_BOUNCE_PERMANENT, RP_BSUB_SUPPRESSED, 10},
},
  /* Bounces that count as sends but not as hard bounces. */
    SOFT[] = {
        {RP_BOUNCE_TRANSIENT, RP_BSUB_GENERAL, 30},
        {RP_BOUNCE_TRANSIENT, RP_BSUB_MAILBOX_FULL, 35},
        {RP_BOUNCE_TRANSIENT, RP_BSUB_MESSAGE_TOO_LARGE, 5},
        {RP_BOUNCE_TRANSIENT, RP_BSUB_CONTENT_REJECTED, 10},
        {RP_BOUNCE_TRANSIENT, RP_BSUB_ATTACHMENT_REJECTED, 3},
        {RP_BOUNCE_UNDETERMINED, RP_BSUB_UNDETERMINED, 7},
        {RP_BOUNCE_PERMANENT, RP_BSUB_ON_ACCOUNT_SUPPRESSION_LIST, 10},
};
#define N_HARD (sizeof HARD / sizeof HARD[0])
#define N_SOFT (sizeof SOFT / sizeof SOFT[0])

static const char *const HARD_DIAG[] = {
    "smtp; 550 5.1.1 The email account that you tried to reach does not exist",
    "smtp; 550 5.1.1 Recipient address rejected: User unknown",
};
static const char *const SOFT_DIAG[] = {
    "smtp; 452 4.2.2 Mailbox full",
    "smtp; 421 4.7.0 Try again later",
    "smtp; 554 5.7.1 Message rejected as spam",
};

/* Indexed by rp_feedback_type: mostly abuse reports. */
static const unsigned FEEDBACK_WEIGHTS[RP_FEEDBACK__COUNT] = {
    900, 10, 20, 20, 30, 10, 10,
};

/* Indexed by report kind: mostly the automatic (non-manual) kinds, with
 * spamtraps and domain blocklists the most common; RELATED_ACCOUNT never,
 * since repute produces those itself. */
static const unsigned REPORT_WEIGHTS[RP_REPORT__COUNT] = {
    12, 4, 30, 20, 12, 6, 8, 2, 0, 2, 2, 2,
};

static const char *const REPORTERS[] = {
    "abuse-desk.example", "trap-network.example", "postmaster.example",
    "blocklist.example"};

/* Indexed by rp_action_type: mostly remediations and links, as owners
 * answer reviews and operators tie accounts together. */
static const unsigned ACTION_WEIGHTS[RP_ACTION__COUNT] = {
    45, 10, 2, 5, 8, 3, 2, 20, 5,
};

static const char *const NOTES[] = {
    "removed a purchased list",
    "double opt-in enabled on every sign-up form",
    "checked by trust and safety",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- accounts */

/* Per-account rates, drawn once: hard bounces and soft bounces per send,
 * and complaint records per send (the complaint rate times the share of
 * deliveries that can complain). Floats: ten million accounts cost 120 MB,
 * not 240. */
typedef struct profile {
    float hard, soft, complaint;
} profile;

/* An account id is "acct-" and ten digits. */
#define ACCOUNT_ID_LEN 15

typedef struct generator {
    const options *o;
    bg_rng r;
    bg_zipf z;
    uint32_t *rank_to_account;
    profile *prof;
    uint32_t *bad; /* the bad accounts */
    uint64_t n_bad;
    double fl_share; /* share of deliveries to feedback-loop providers */
    unsigned domain_w[N_DOMAINS], fl_w[N_DOMAINS];
    unsigned hard_w[N_HARD], soft_w[N_SOFT];
    uint64_t links[1024][2];
    uint64_t n_links;
    uint64_t next_event, next_message;
    /* Scratch for the strings of the record being built. */
    char account[2][32];
    char event_id[48];
    char message_id[24];
    char recipient[4][48];
    rp_str recipients[4];
    char domain[32];
} generator;

static rp_str account_id(generator *g, int slot, uint64_t a) {
    memcpy(g->account[slot], "acct-", 5);
    size_t n = 5 + fmt_u64(g->account[slot] + 5, a, 10);
    return (rp_str){g->account[slot], n};
}

static void generator_init(generator *g, const options *o) {
    memset(g, 0, sizeof *g);
    g->o = o;
    bg_rng_seed(&g->r, o->seed);
    bg_zipf_init(&g->z, o->accounts, o->zipf);

    unsigned total = 0, fl = 0;
    for (size_t i = 0; i < N_DOMAINS; i++) {
        g->domain_w[i] = DOMAINS[i].weight;
        g->fl_w[i] = DOMAINS[i].feedback_loop ? DOMAINS[i].weight : 0;
        total += DOMAINS[i].weight;
        fl += g->fl_w[i];
    }
    g->fl_share = (double)fl / total;
    for (size_t i = 0; i < N_HARD; i++)
        g->hard_w[i] = HARD[i].weight;
    for (size_t i = 0; i < N_SOFT; i++)
        g->soft_w[i] = SOFT[i].weight;

    /* Fisher-Yates, so that popularity is unrelated to the id. */
    uint64_t n = o->accounts;
    g->rank_to_account = xmalloc(n * sizeof(uint32_t));
    for (uint64_t a = 0; a < n; a++)
        g->rank_to_account[a] = (uint32_t)a;
    for (uint64_t a = n - 1; a > 0; a--) {
        uint64_t b = bg_rng_below(&g->r, a + 1);
        uint32_t t = g->rank_to_account[a];
        g->rank_to_account[a] = g->rank_to_account[b];
        g->rank_to_account[b] = t;
    }

    /* Healthy accounts: hard bounces around 0.5% (below 3%), complaints
     * around 0.02% (below 0.06%), soft bounces about as many again plus a
     * floor. Bad accounts: one metric far past review, mostly past pause. */
    g->prof = xmalloc(n * sizeof(profile));
    g->bad = xmalloc(n * sizeof(uint32_t));
    for (uint64_t a = 0; a < n; a++) {
        double hard = bg_rng_lognormal(&g->r, 0.005, 0.8, 0.0002, 0.03);
        double compl = bg_rng_lognormal(&g->r, 0.0002, 0.9, 0.00001, 0.0006);
        if (bg_rng_chance(&g->r, o->bad_share)) {
            g->bad[g->n_bad++] = (uint32_t)a;
            if (bg_rng_chance(&g->r, 0.5))
                hard = bg_rng_uniform(&g->r, 0.06, 0.20);
            else
                compl = bg_rng_uniform(&g->r, 0.002, 0.012);
        }
        g->prof[a].hard = (float)hard;
        g->prof[a].soft = (float)(0.6 * hard + 0.004);
        g->prof[a].complaint = (float)(compl *g->fl_share);
    }
}

static void generator_free(generator *g) {
    free(g->rank_to_account);
    free(g->prof);
    free(g->bad);
}

static uint64_t pick_account(generator *g) {
    return g->rank_to_account[bg_zipf_sample(&g->z, &g->r) - 1];
}

/* Reports and actions go mostly to the bad accounts. */
static uint64_t pick_troubled(generator *g) {
    if (g->n_bad > 0 && bg_rng_chance(&g->r, 0.7))
        return g->bad[bg_rng_below(&g->r, g->n_bad)];
    return pick_account(g);
}

/* ---------------------------------------------------------------- records */

static rp_str make_event_id(generator *g) {
    char *p = g->event_id;
    memcpy(p, "ev-", 3);
    size_t n = 3 + fmt_u64(p + 3, g->o->seed, 1);
    p[n++] = '-';
    n += fmt_u64(p + n, ++g->next_event, 1);
    return (rp_str){p, n};
}

/* Sixteen hex digits of a scrambled counter, as providers' ids look. */
static rp_str make_message_id(generator *g) {
    uint64_t x = ++g->next_message ^ (g->o->seed << 40);
    uint64_t h = bg_splitmix64(&x);
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, h >>= 4)
        g->message_id[i] = hex[h & 15];
    return (rp_str){g->message_id, 16};
}

/* A recipient at a provider drawn by mail share; only feedback-loop
 * providers when `fl_only` (complaints come from those). */
static rp_str make_recipient(generator *g, int slot, bool fl_only,
                             bool *feedback_loop) {
    size_t d =
        bg_rng_weighted(&g->r, fl_only ? g->fl_w : g->domain_w, N_DOMAINS);
    char *p = g->recipient[slot];
    p[0] = 'u';
    size_t n = 1 + fmt_u64(p + 1, bg_rng_below(&g->r, 10000000), 7);
    p[n++] = '@';
    size_t dl = strlen(DOMAINS[d].name);
    memcpy(p + n, DOMAINS[d].name, dl);
    n += dl;
    if (feedback_loop)
        *feedback_loop = DOMAINS[d].feedback_loop;
    return (rp_str){p, n};
}

/* A time `min` to `max` ms before t, skewed towards `min`: feedback
 * mostly comes soon after the send. */
static int64_t earlier(generator *g, int64_t t, int64_t min, int64_t max) {
    double u = bg_rng_double(&g->r);
    return t - min - (int64_t)(u * u * (double)(max - min));
}

typedef struct counts {
    uint64_t type[RP_REC__COUNT];
    uint64_t hard, soft, late, duplicates, probes;
} counts;

static void fill_delivery(generator *g, rp_record *rec, int64_t t) {
    rp_delivery *d = &rec->u.delivery;
    d->message_id = make_message_id(g);
    d->recipient = make_recipient(g, 0, false, &d->feedback_loop);
    d->has_sent_time = true;
    d->sent_time = earlier(g, t, 200, 30 * RP_MS_PER_SECOND);
    d->verified_recipient = bg_rng_chance(&g->r, 0.005);
    d->simulator = bg_rng_chance(&g->r, 0.003);
}

/* Bounces mostly come within minutes; a late one hours after the send
 * (soft bounces are retried for up to a day or so). */
static void fill_bounce(generator *g, rp_record *rec, int64_t t, bool hard,
                        counts *c) {
    rp_bounce *b = &rec->u.bounce;
    b->message_id = make_message_id(g);
    b->recipient = make_recipient(g, 0, false, NULL);
    if (bg_rng_chance(&g->r, 0.97)) {
        b->has_sent_time = true;
        if (bg_rng_chance(&g->r, g->o->late_share)) {
            b->sent_time = earlier(g, t, RP_MS_PER_HOUR, 24 * RP_MS_PER_HOUR);
            c->late++;
        } else {
            b->sent_time =
                earlier(g, t, RP_MS_PER_SECOND, 10 * 60 * RP_MS_PER_SECOND);
        }
    }
    if (hard) {
        size_t k = bg_rng_weighted(&g->r, g->hard_w, N_HARD);
        b->bounce_type = HARD[k].type;
        b->bounce_subtype = HARD[k].subtype;
        if (bg_rng_chance(&g->r, 0.6))
            b->diagnostic = rp_str_c(HARD_DIAG[bg_rng_below(&g->r, 2)]);
    } else {
        size_t k = bg_rng_weighted(&g->r, g->soft_w, N_SOFT);
        b->bounce_type = SOFT[k].type;
        b->bounce_subtype = SOFT[k].subtype;
        if (bg_rng_chance(&g->r, 0.6))
            b->diagnostic =
                rp_str_c(SOFT_DIAG[bg_rng_below(&g->r, N_OF(SOFT_DIAG))]);
    }
    b->verified_recipient = bg_rng_chance(&g->r, 0.003);
    b->simulator = bg_rng_chance(&g->r, 0.003);
}

/* Complaints come minutes to an hour after the send; a late one hours to
 * three days after. Providers often list every recipient on their domain. */
static void fill_complaint(generator *g, rp_record *rec, int64_t t, counts *c) {
    rp_complaint *cp = &rec->u.complaint;
    cp->message_id = make_message_id(g);
    double u = bg_rng_double(&g->r);
    cp->n_recipients = u < 0.9 ? 1 : u < 0.97 ? 2 : 4;
    for (size_t i = 0; i < cp->n_recipients; i++)
        g->recipients[i] = make_recipient(g, (int)i, true, NULL);
    cp->recipients = g->recipients;
    if (bg_rng_chance(&g->r, 0.95)) {
        cp->has_sent_time = true;
        if (bg_rng_chance(&g->r, g->o->late_share)) {
            cp->sent_time = earlier(g, t, RP_MS_PER_HOUR, 72 * RP_MS_PER_HOUR);
            c->late++;
        } else {
            cp->sent_time =
                earlier(g, t, 60 * RP_MS_PER_SECOND, RP_MS_PER_HOUR);
        }
    }
    cp->feedback_type = (rp_feedback_type)bg_rng_weighted(
        &g->r, FEEDBACK_WEIGHTS, RP_FEEDBACK__COUNT);
    cp->on_suppression_list = bg_rng_chance(&g->r, 0.01);
    cp->simulator = bg_rng_chance(&g->r, 0.002);
}

static void fill_report(generator *g, rp_record *rec) {
    rp_report *rep = &rec->u.report;
    size_t k = bg_rng_weighted(&g->r, REPORT_WEIGHTS, RP_REPORT__COUNT);
    rep->kind = (rp_issue_kind)(k + RP_ISSUE__FIRST_REPORT);
    rep->incidents = 1;
    if ((rep->kind == RP_ISSUE_SPAMTRAP ||
         rep->kind == RP_ISSUE_DOMAIN_BLOCKLIST) &&
        bg_rng_chance(&g->r, 0.2))
        rep->incidents = 2 + (int32_t)bg_rng_below(&g->r, 4);
    if (rep->kind == RP_ISSUE_DOMAIN_BLOCKLIST || bg_rng_chance(&g->r, 0.3)) {
        char *p = g->domain;
        p[0] = 'd';
        size_t n = 1 + fmt_u64(p + 1, bg_rng_below(&g->r, 100000), 1);
        memcpy(p + n, ".example", 8);
        rep->domain = (rp_str){p, n + 8};
    }
    if (bg_rng_chance(&g->r, 0.8))
        rep->reporter =
            rp_str_c(REPORTERS[bg_rng_below(&g->r, N_OF(REPORTERS))]);
    if (bg_rng_chance(&g->r, 0.2))
        rep->detail = rp_str_c("listed after repeated hits");
}

/* Links are remembered, so that half the unlinks undo a recent link, sent
 * by the account that made it. Links go to ordinary accounts only, never
 * to a probe. */
static void fill_action(generator *g, rp_record *rec, uint64_t account,
                        int64_t t) {
    rp_action *a = &rec->u.action;
    a->action = (rp_action_type)bg_rng_weighted(&g->r, ACTION_WEIGHTS,
                                                RP_ACTION__COUNT);
    if (a->action <= RP_ACTION_END_REVIEW && bg_rng_chance(&g->r, 0.5)) {
        a->has_issue = true;
        double u = bg_rng_double(&g->r);
        a->issue = u < 0.4   ? RP_ISSUE_BOUNCE_RATE
                   : u < 0.8 ? RP_ISSUE_COMPLAINT_RATE
                             : (rp_issue_kind)(RP_ISSUE__FIRST_REPORT +
                                               bg_rng_below(&g->r, 8));
    }
    if (bg_rng_chance(&g->r, 0.2)) {
        a->has_effective_time = true;
        a->effective_time = earlier(g, t, 0, RP_MS_PER_HOUR);
    }
    if (a->action == RP_ACTION_LINK_ACCOUNT) {
        uint64_t other = bg_rng_below(&g->r, g->o->accounts);
        a->related_account_id = account_id(g, 1, other);
        uint64_t *slot = g->links[g->n_links++ % N_OF(g->links)];
        slot[0] = account;
        slot[1] = other;
    } else if (a->action == RP_ACTION_UNLINK_ACCOUNT) {
        uint64_t other = bg_rng_below(&g->r, g->o->accounts);
        if (g->n_links > 0 && bg_rng_chance(&g->r, 0.5)) {
            uint64_t n =
                g->n_links < N_OF(g->links) ? g->n_links : N_OF(g->links);
            const uint64_t *slot = g->links[bg_rng_below(&g->r, n)];
            rec->account_id = account_id(g, 0, slot[0]);
            other = slot[1];
        }
        a->related_account_id = account_id(g, 1, other);
    }
    if (bg_rng_chance(&g->r, 0.3))
        a->note = rp_str_c(NOTES[bg_rng_below(&g->r, N_OF(NOTES))]);
}

/* Builds ordinary record number i (0-based, duplicates not counted) at
 * event time t. With --cover the first `accounts` records are one
 * delivery to each account, in id order. */
static void generate(generator *g, uint64_t i, int64_t t, rp_record *rec,
                     counts *c) {
    const options *o = g->o;
    if (o->cover && i < o->accounts) {
        rp_record_init(rec, RP_REC_DELIVERY);
        rec->account_id = account_id(g, 0, i);
        rec->event_id = make_event_id(g);
        rec->event_time = t;
        fill_delivery(g, rec, t);
        c->type[RP_REC_DELIVERY]++;
        return;
    }
    double u = bg_rng_double(&g->r);
    rp_rec_type type;
    uint64_t account;
    bool hard = false;
    if (u < o->report_share) {
        type = RP_REC_REPORT;
        account = pick_troubled(g);
    } else if (u < o->report_share + o->action_share) {
        type = RP_REC_ACTION;
        account = pick_troubled(g);
    } else {
        account = pick_account(g);
        const profile *p = &g->prof[account];
        double v = bg_rng_double(&g->r);
        if (v < p->complaint) {
            type = RP_REC_COMPLAINT;
        } else {
            double w = bg_rng_double(&g->r);
            hard = w < p->hard;
            type = w < p->hard + p->soft ? RP_REC_BOUNCE : RP_REC_DELIVERY;
        }
    }
    rp_record_init(rec, type);
    rec->account_id = account_id(g, 0, account);
    rec->event_id = make_event_id(g);
    rec->event_time = t;
    switch (type) {
    case RP_REC_DELIVERY: fill_delivery(g, rec, t); break;
    case RP_REC_BOUNCE:
        fill_bounce(g, rec, t, hard, c);
        *(hard ? &c->hard : &c->soft) += 1;
        break;
    case RP_REC_COMPLAINT: fill_complaint(g, rec, t, c); break;
    case RP_REC_REPORT: fill_report(g, rec); break;
    case RP_REC_ACTION: fill_action(g, rec, account, t); break;
    default: break;
    }
    c->type[type]++;
}

/* A latency probe: one ANTI_SPAM_ORGANIZATION report (threshold 1, not
 * manual) for an account that receives nothing else. */
static void make_probe(generator *g, uint64_t n, int64_t t, rp_record *rec,
                       char *id, size_t id_size) {
    int len =
        snprintf(id, id_size, "probe-%" PRIu64 "-%" PRIu64, g->o->seed, n);
    rp_record_init(rec, RP_REC_REPORT);
    rec->account_id = (rp_str){id, (size_t)len};
    rec->event_id = (rp_str){id, (size_t)len};
    rec->event_time = t;
    rec->u.report.kind = RP_ISSUE_ANTI_SPAM_ORGANIZATION;
    rec->u.report.incidents = 1;
}

/* ---------------------------------------------------------------- output */

/* Recent records, kept encoded, for redeliveries. */
#define RECENT 256

typedef struct recent {
    rp_rec_type type;
    char key[RP_ACCOUNT_ID_MAX + 1];
    size_t key_len;
    rp_buf avro;
    rp_buf json;
} recent;

typedef struct sink {
    const options *o;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt[RP_REC__COUNT];
    FILE *jsonl;
    rp_avro_codec *codec;
    rp_buf json;
    uint64_t produced, acked, failed, bytes;
    char first_error[512];
    bool fatal;
    recent ring[RECENT];
    uint64_t n_recent;
} sink;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque) {
    sink *s = opaque;
    (void)rk;
    if (m->err) {
        if (s->failed++ == 0)
            snprintf(s->first_error, sizeof s->first_error, "%s: %s",
                     rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    } else {
        s->acked++;
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque) {
    sink *s = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk, why, sizeof why);
        if (!s->fatal)
            fprintf(stderr, PROG ": kafka: fatal error: %s\n", why);
        s->fatal = true;
        return;
    }
    fprintf(stderr, PROG ": kafka: %s\n", reason);
}

/* Creates the idempotent producer. Returns 0, or -1 with errstr. */
static int sink_open_kafka(sink *s, char *errstr, size_t errstr_size) {
    const options *o = s->o;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    static const char *const defaults[][2] = {
        {"client.id", "repute-loadgen"},
        {"acks", "all"},
        {"enable.idempotence", "true"},
        {"linger.ms", "10"},
        {"batch.size", "1048576"},
        {"batch.num.messages", "10000"},
        /* Bounded: when full, produce waits for delivery reports. */
        {"queue.buffering.max.messages", "200000"},
        {"queue.buffering.max.kbytes", "131072"},
        {"message.timeout.ms", "120000"},
        /* A missing topic is an error, not a broker default. */
        {"allow.auto.create.topics", "false"},
    };
    if (bk_conf_set(conf, "bootstrap.servers", o->bootstrap, errstr,
                    errstr_size) != 0)
        goto fail;
    for (size_t i = 0; i < N_OF(defaults); i++)
        if (bk_conf_set(conf, defaults[i][0], defaults[i][1], errstr,
                        errstr_size) != 0)
            goto fail;
    if (bk_conf_set(conf, "compression.codec", o->compression, errstr,
                    errstr_size) != 0 ||
        bk_conf_set_pairs(conf, &o->extra, errstr, errstr_size) != 0)
        goto fail;
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (s->rk == NULL)
        goto fail;
    for (int t = 0; t < RP_REC__COUNT; t++) {
        char name[512];
        snprintf(name, sizeof name, "%s.%s", o->prefix, TOPIC_SUFFIX[t]);
        s->rkt[t] = rd_kafka_topic_new(s->rk, name, NULL);
        if (s->rkt[t] == NULL) {
            snprintf(errstr, errstr_size, "topic %.200s: %s", name,
                     rd_kafka_err2str(rd_kafka_last_error()));
            return -1;
        }
    }
    return 0;
fail:
    rd_kafka_conf_destroy(conf);
    return -1;
}

/* Hands one encoded record to Kafka and to the JSON lines file. A full
 * queue is waited out while serving delivery reports. Returns 0 or -1
 * after a fatal error. */
static int sink_send(sink *s, rp_rec_type type, const char *key, size_t key_len,
                     const void *val, size_t len, const char *json,
                     size_t json_len) {
    if (s->jsonl && fwrite(json, 1, json_len, s->jsonl) != json_len)
        die("cannot write --jsonl %s: %s", s->o->jsonl, strerror(errno));
    s->bytes += len;
    if (s->rk == NULL) {
        s->produced++;
        return 0;
    }
    for (;;) {
        if (s->fatal)
            return -1;
        if (rd_kafka_produce(s->rkt[type], RD_KAFKA_PARTITION_UA,
                             RD_KAFKA_MSG_F_COPY, (void *)val, len, key,
                             key_len, NULL) == 0)
            break;
        rd_kafka_resp_err_t err = rd_kafka_last_error();
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (s->failed++ == 0)
                snprintf(s->first_error, sizeof s->first_error, "%s: %s",
                         rd_kafka_topic_name(s->rkt[type]),
                         rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(s->rk, 5);
    }
    if (++s->produced % 1024 == 0)
        rd_kafka_poll(s->rk, 0);
    return 0;
}

/* Encodes a new record, sends it and (unless it is a probe) keeps it for
 * later redelivery. */
static int sink_record(sink *s, const rp_record *rec, bool keep) {
    char err[512];
    const void *val;
    size_t len;
    int rc = rp_avro_encode(s->codec, rec, &val, &len, err, sizeof err);
    if (rc != 0)
        die("cannot encode a %s record: %s (%s)", rp_rec_type_name(rec->type),
            err, rp_strerror(rc));
    rp_buf_reset(&s->json);
    if (s->jsonl && rp_jsonl_write_record(&s->json, rec) != 0)
        die("out of memory writing JSON");
    if (keep && s->o->dup_share > 0) {
        recent *r = &s->ring[s->n_recent++ % RECENT];
        r->type = rec->type;
        memcpy(r->key, rec->account_id.ptr, rec->account_id.len);
        r->key_len = rec->account_id.len;
        rp_buf_reset(&r->avro);
        rp_buf_reset(&r->json);
        if (rp_buf_append(&r->avro, val, len) != 0 ||
            rp_buf_append(&r->json, s->json.data, s->json.len) != 0)
            die("out of memory");
    }
    return sink_send(s, rec->type, rec->account_id.ptr, rec->account_id.len,
                     val, len, s->json.data, s->json.len);
}

/* Sends again one of the last `depth` records, byte for byte. */
static int sink_redeliver(sink *s, bg_rng *r, uint64_t depth) {
    uint64_t n = s->n_recent < depth ? s->n_recent : depth;
    const recent *e = &s->ring[(s->n_recent - 1 - bg_rng_below(r, n)) % RECENT];
    return sink_send(s, e->type, e->key, e->key_len, e->avro.data, e->avro.len,
                     e->json.data, e->json.len);
}

/* Waits for every delivery report; purges what is left after the message
 * timeout and a grace period, which reports those as failed. */
static void sink_flush(sink *s) {
    if (s->rk == NULL)
        return;
    double deadline = bk_now() + 150, next = bk_now() + 2;
    while (rd_kafka_outq_len(s->rk) > 0) {
        rd_kafka_flush(s->rk, 500);
        if (bk_now() >= next) {
            fprintf(stderr, PROG ": waiting for %d delivery reports\n",
                    rd_kafka_outq_len(s->rk));
            next = bk_now() + 2;
        }
        if (bk_now() >= deadline) {
            rd_kafka_purge(s->rk,
                           RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_flush(s->rk, 5000);
            break;
        }
    }
}

static void sink_close(sink *s) {
    for (int t = 0; t < RP_REC__COUNT; t++)
        if (s->rkt[t])
            rd_kafka_topic_destroy(s->rkt[t]);
    if (s->rk)
        rd_kafka_destroy(s->rk);
    if (s->jsonl && s->jsonl != stdout && fclose(s->jsonl) != 0)
        die("cannot write --jsonl %s: %s", s->o->jsonl, strerror(errno));
    if (s->codec)
        rp_avro_codec_destroy(s->codec);
    rp_buf_free(&s->json);
    for (int i = 0; i < RECENT; i++) {
        rp_buf_free(&s->ring[i].avro);
        rp_buf_free(&s->ring[i].json);
    }
}

/* ---------------------------------------------------------------- topics */

/* Creates the topics (--create-topics), says which existed with another
 * partition count, and waits until every partition answers. Returns 0 or
 * -1 with the reason printed. */
static int prepare_topics(sink *s) {
    const options *o = s->o;
    char err[512];
    bk_list topics = {NULL, 0};
    int rc = -1;
    for (int t = 0; t < RP_REC__COUNT; t++)
        if (bk_list_add_csv(&topics, rd_kafka_topic_name(s->rkt[t])) != 0)
            goto fail;
    if (o->create_partitions) {
        for (size_t i = 0; i < o->create_extra.n; i++)
            if (bk_list_add_csv(&topics, o->create_extra.items[i]) != 0)
                goto fail;
        uint64_t existed = 0;
        if (bk_create_topics(s->rk, &topics, o->create_partitions, &existed,
                             err, sizeof err) != 0) {
            fprintf(stderr, PROG ": %s\n", err);
            goto fail;
        }
        for (size_t i = 0; i < topics.n && i < 64; i++) {
            if (!(existed >> i & 1)) {
                fprintf(stderr, PROG ": created %s (%d partitions)\n",
                        topics.items[i], o->create_partitions);
                continue;
            }
            int n = bk_topic_partitions(s->rk, topics.items[i], 10000, err,
                                        sizeof err);
            if (n == o->create_partitions)
                fprintf(stderr, PROG ": %s already exists (%d partitions)\n",
                        topics.items[i], n);
            else
                fprintf(stderr,
                        PROG ": warning: %s already exists with %d "
                             "partitions, not %d\n",
                        topics.items[i], n, o->create_partitions);
        }
    }
    /* Also when the topics were made elsewhere moments ago. */
    if (bk_wait_ready(s->rk, &topics, o->create_partitions ? 60000 : 10000, err,
                      sizeof err) != 0) {
        fprintf(stderr, PROG ": %s%s\n", err,
                o->create_partitions ? "" : " (use --create-topics N)");
        goto fail;
    }
    rc = 0;
fail:
    bk_list_free(&topics);
    return rc;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    options o;
    char err[512];
    int prc = parse_options(argc, argv, &o);
    if (prc != 0) {
        usage(prc == 1 ? stdout : stderr);
        options_free(&o);
        return prc == 1 ? 0 : 2;
    }
    bk_catch_stop_signals();

    sink s;
    memset(&s, 0, sizeof s);
    s.o = &o;
    s.codec = rp_avro_codec_new(RP_FRAMING_PLAIN, NULL, err, sizeof err);
    if (s.codec == NULL)
        die("cannot create the Avro codec: %s", err);
    if (o.jsonl) {
        s.jsonl = strcmp(o.jsonl, "-") == 0 ? stdout : fopen(o.jsonl, "w");
        if (s.jsonl == NULL)
            die("cannot open --jsonl %s: %s", o.jsonl, strerror(errno));
    }
    if (!o.no_kafka) {
        if (sink_open_kafka(&s, err, sizeof err) != 0)
            die("kafka: %s", err);
        int ready = prepare_topics(&s);
        if (ready != 0 || o.create_only) {
            int rc = ready != 0 ? 1 : 0;
            sink_close(&s);
            options_free(&o);
            return rc;
        }
    }

    double t0 = bk_now();
    generator g;
    generator_init(&g, &o);
    fprintf(stderr,
            PROG ": %" PRIu64 " accounts (%" PRIu64 " bad), seed %" PRIu64
                 ", set up in %.1f s\n",
            o.accounts, g.n_bad, o.seed, bk_now() - t0);

    /* Event time steps evenly from the start over the span when the run
     * is at full speed or a start was given; otherwise it is the wall
     * clock. The step needs the stream's length: --records, or the rate
     * times the duration, or else the share of the duration elapsed. */
    bool wall = o.rate > 0 && !o.has_start;
    int64_t start_time = o.has_start ? o.start_time : DEFAULT_START;
    double planned = o.records    ? (double)o.records
                     : o.rate > 0 ? o.rate * (double)o.duration / 1000.0
                                  : 0;
    /* Redeliveries repeat a record at most about ten minutes of event
     * time back, well inside repute's default one-hour dedupe horizon. */
    uint64_t depth = RECENT;
    if (!wall && planned > 0) {
        double per10m = planned * 600000.0 / (double)(o.span ? o.span : 1);
        depth = per10m < 1 ? 1 : per10m > RECENT ? RECENT : (uint64_t)per10m;
    }

    counts c;
    memset(&c, 0, sizeof c);
    int64_t first_t = 0, last_t = 0;
    uint64_t n_new = 0, n = 0; /* new records, all ordinary records */
    double start = bk_now(), now = start, next_progress = start + 2;
    /* The bucket holds up to a tenth of a second of records, so that a
     * sleep that overshoots on a busy machine is made up for, not lost. */
    double tokens = 1, burst = o.rate > 0 ? fmax(1, o.rate / 10) : 0;
    double refill = start;
    double next_probe =
        o.probes > 0 ? start + (double)o.probe_delay / 1000.0 + 1.0 / o.probes
                     : INFINITY;
    uint64_t since_probe = 0;
    char probe_id[64];
    int status = 0;
    while (!bk_stop && !s.fatal) {
        if (o.records && n >= o.records)
            break;
        if ((n & 255) == 0 || o.rate > 0)
            now = bk_now();
        if (o.duration && now - start >= o.duration / 1000.0)
            break;

        /* The token bucket: at most `burst` records ahead of the rate,
         * waiting in steps of at most a millisecond. */
        if (o.rate > 0) {
            tokens = fmin(burst, tokens + (now - refill) * o.rate);
            refill = now;
            if (tokens < 1) {
                double wait = (1 - tokens) / o.rate;
                if (s.rk)
                    rd_kafka_poll(s.rk, 0);
                bk_sleep_us(wait > 0.001 ? 1000 : (long)(wait * 1e6) + 1);
                if (now < next_probe)
                    continue;
            }
        }

        int64_t t;
        if (wall)
            t = bk_wall_ms();
        else {
            double pos = planned > 0
                             ? (double)n / planned
                             : (now - start) * 1000.0 / (double)o.duration;
            t = start_time + (int64_t)(pos * (double)o.span);
        }

        bool probe_due = now >= next_probe ||
                         (o.probe_every && since_probe >= o.probe_every);
        if (probe_due) {
            rp_record rec;
            make_probe(&g, c.probes++, t, &rec, probe_id, sizeof probe_id);
            if (sink_record(&s, &rec, false) != 0)
                break;
            since_probe = 0;
            if (o.probes > 0)
                next_probe += 1.0 / o.probes;
            if (o.rate > 0 && tokens < 1)
                continue; /* the probe was due; the record is not yet */
        }

        if (n == 0)
            first_t = t;
        last_t = t;
        if (o.rate > 0)
            tokens -= 1;
        n++;
        since_probe++;
        if (s.n_recent > 0 && bg_rng_chance(&g.r, o.dup_share)) {
            c.duplicates++;
            if (sink_redeliver(&s, &g.r, depth) != 0)
                break;
            continue;
        }
        rp_record rec;
        generate(&g, n_new++, t, &rec, &c);
        if (sink_record(&s, &rec, true) != 0)
            break;

        if (now >= next_progress) {
            fprintf(stderr, PROG ": %" PRIu64 " records, %.0f/s\n", n,
                    (double)n / (now - start));
            next_progress = now + 2;
        }
    }
    double produce_secs = bk_now() - start;
    sink_flush(&s);
    double secs = bk_now() - start;

    if (s.fatal || s.failed > 0) {
        fprintf(stderr,
                PROG ": %" PRIu64 " of %" PRIu64
                     " records not acknowledged; first error: %s\n",
                s.failed, s.produced, s.first_error[0] ? s.first_error : "?");
        status = 1;
    }
    uint64_t sends = c.type[RP_REC_DELIVERY] + c.type[RP_REC_BOUNCE];
    printf(
        "{\"records\":%" PRIu64 ",\"seconds\":%.3f,\"records_per_sec\":%.0f"
        ",\"accounts\":%" PRIu64 ",\"probes\":%" PRIu64
        ",\"duplicates\":%" PRIu64 ",\"failed\":%" PRIu64
        ",\"messages\":%" PRIu64 ",\"acked\":%" PRIu64
        ",\"value_bytes\":%" PRIu64 ",\"produce_seconds\":%.3f"
        ",\"target_rate\":%.0f,\"seed\":%" PRIu64 ",\"bad_accounts\":%" PRIu64
        ",\"deliveries\":%" PRIu64 ",\"bounces\":%" PRIu64
        ",\"complaints\":%" PRIu64 ",\"reports\":%" PRIu64
        ",\"actions\":%" PRIu64 ",\"hard_bounce_share\":%.5f"
        ",\"late\":%" PRIu64 ",\"first_event_time\":%" PRId64
        ",\"last_event_time\":%" PRId64 ",\"kafka\":%s}\n",
        n, secs, secs > 0 ? (double)n / secs : 0.0, o.accounts, c.probes,
        c.duplicates, s.failed, s.produced, s.acked, s.bytes, produce_secs,
        o.rate, o.seed, g.n_bad, c.type[RP_REC_DELIVERY], c.type[RP_REC_BOUNCE],
        c.type[RP_REC_COMPLAINT], c.type[RP_REC_REPORT], c.type[RP_REC_ACTION],
        sends ? (double)c.hard / (double)sends : 0.0, c.late, first_t, last_t,
        s.rk ? "true" : "false");
    generator_free(&g);
    sink_close(&s);
    options_free(&o);
    return status;
}
