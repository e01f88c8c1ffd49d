/*
 * loadgen.h - what the three files of repute-loadgen share: the options,
 * the traffic generator (loadgen_traffic.c) and the sink that sends its
 * records to Kafka and to a JSON lines file (loadgen_sink.c); loadgen.c
 * reads the command line and paces the loop that joins the two.
 *
 * The program is split along the line its essay draws between realism and
 * delivery: what a record says (which account, which type, which times)
 * is decided by the generator alone, from --seed, and never depends on
 * Kafka, so the same seed gives the same stream with or without a broker;
 * how a record travels (encoding, the producer, redeliveries of the same
 * bytes, topic creation) is the sink's business. The structs are here,
 * not hidden, because the caller allocates them (on main's stack) and the
 * loop reads a few of their counters; the functions are the only way
 * their contents change.
 *
 * Errors: the tool dies on what it cannot recover from (see
 * bench_util.h); the sink's Kafka calls return 0 or -1 with the reason in
 * errstr or printed, as each says.
 */
#ifndef REPUTE_LOADGEN_H
#define REPUTE_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

#include "bench_gen.h"
#include "bench_kafka.h"
#include "bench_util.h"
#include "repute/avro.h"
#include "repute/buf.h"
#include "repute/record.h"

#define PROG "repute-loadgen"

/* This program's way of giving up (see bench_util.h). */
#define die(...)   bu_die(PROG, __VA_ARGS__)
#define xmalloc(n) bu_xmalloc(PROG, (n))

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- options */

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
    /* Tenants (docs/rules.md section 10; loadgen_tenant.c): the share of
     * accounts that have tenants (0: none, the default, which leaves the
     * stream exactly as it was before tenants existed), the most tenants
     * one account has, and the share of a tenanted account's sends that
     * name no tenant. */
    double tenant_share;
    uint64_t tenants_max;
    double tenant_none;
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

/* What was generated, for the summary line. */
typedef struct counts {
    uint64_t type[RP_REC__COUNT];
    uint64_t hard, soft, late, duplicates, probes;
    uint64_t tenant_records; /* records that name a tenant */
} counts;

/* ---------------------------------------------------------------- traffic */

/* Per-account rates, drawn once: hard bounces and soft bounces per send,
 * and complaint records per send (the complaint rate times the share of
 * deliveries that can complain). Floats: ten million accounts cost 120 MB,
 * not 240. */
typedef struct profile {
    float hard, soft, complaint;
} profile;

/* The kinds of hard and of other bounces the generator draws from. */
#define LG_N_HARD 3
#define LG_N_SOFT 7

typedef struct generator {
    const options *o;
    bg_rng r;
    bg_zipf z;
    uint32_t *rank_to_account;
    profile *prof;
    uint32_t *bad; /* the bad accounts, in account order */
    uint64_t n_bad;
    double fl_share; /* share of deliveries to feedback-loop providers */
    unsigned domain_w[BG_N_DOMAINS], fl_w[BG_N_DOMAINS];
    unsigned hard_w[LG_N_HARD], soft_w[LG_N_SOFT];
    bg_links links;
    uint64_t next_event, next_message;
    /* Tenants (loadgen_tenant.c), all empty without --tenant-share: their
     * own generator, so that the accounts and their profiles are drawn as
     * without tenants; per account, how many tenants it has (0: none) and
     * which of them carries a bad account's badness. */
    bg_rng tr;
    profile healthy; /* the median healthy profile */
    uint16_t *n_tenants;
    uint16_t *bad_tenant;
    /* Which tenants a record has named so far, a bit each: an account's
     * first tenant's bit is tenant_base[account]. */
    uint32_t *tenant_base;
    uint8_t *tenant_seen;
    uint64_t n_tenanted, tenants, tenants_used;
    char tenant[24];
    /* Scratch for the strings of the record being built. */
    char account[2][32];
    char event_id[48];
    char message_id[24];
    char recipient[4][48];
    rp_str recipients[4];
    char domain[32];
} generator;

/* Draws the accounts and their profiles from o->seed (o must outlive g).
 * The caller frees with lg_generator_free(). */
void lg_generator_init(generator *g, const options *o);
void lg_generator_free(generator *g);

/* Draws which accounts have tenants and how many (loadgen_tenant.c);
 * nothing without --tenant-share. Called by lg_generator_init(). */
void lg_tenants_init(generator *g);

/* The tenant of a send of `account` (or none: RP_STR_NULL), drawn with
 * the skew of traffic over its tenants; *healthy is set when the send
 * should use a healthy profile (a bad account's tenants other than its bad
 * one, and its sending with no tenant). Only for an account with
 * tenants. */
rp_str lg_tenant_of_send(generator *g, uint64_t account, bool *healthy);

/* The tenant a report or an operator action about `account` names, or
 * none: sometimes one (mostly the bad one of a bad account); an action
 * that is not about issues (a flag or a link) never names one. */
rp_str lg_tenant_of_report(generator *g, uint64_t account);
rp_str lg_tenant_of_action(generator *g, uint64_t account, rp_action_type type);

/* Builds ordinary record number i (0-based, redeliveries not counted) at
 * event time t into rec, counting it in c. rec's strings point into g's
 * scratch and are valid until the next call. */
void lg_generate(generator *g, uint64_t i, int64_t t, rp_record *rec,
                 counts *c);

/* Builds latency probe number n at event time t; the account id is
 * written to id (id_size bytes), which rec points into. */
void lg_make_probe(generator *g, uint64_t n, int64_t t, rp_record *rec,
                   char *id, size_t id_size);

/* ---------------------------------------------------------------- sink */

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

/* Sets up the encoder and the --jsonl file and, unless --no-kafka, the
 * idempotent producer and the topics (created with --create-topics, and
 * waited for until every partition answers). Dies when the encoder, the
 * file or the producer cannot be made; returns 0, or -1 with the reason
 * printed when the topics are not ready. The caller closes with
 * lg_sink_close(), also after a failure. */
int lg_sink_open(sink *s, const options *o);

/* Encodes a new record, sends it and (when `keep`, i.e. not a probe) keeps
 * it for later redelivery. Returns 0, or -1 after a fatal Kafka error. */
int lg_sink_record(sink *s, const rp_record *rec, bool keep);

/* Sends again one of the last `depth` records, byte for byte. */
int lg_sink_redeliver(sink *s, bg_rng *r, uint64_t depth);

/* Waits for every delivery report (purging what is left after a grace
 * period, which counts as failed). */
void lg_sink_flush(sink *s);

void lg_sink_close(sink *s);

#endif
