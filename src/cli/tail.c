/*
 * tail.c - `repute tail`: the status topic -> JSON lines.
 *
 * Tail is the other end of `repute produce`: it reads the output topic
 * (topics.status) and writes every ReputationEvent as one JSON line, in
 * the format of `repute replay` (rp_jsonl_write_event), so that the output
 * of a pipeline on Kafka can be compared with a replay of the same input
 * by diff. Standard output is flushed after each line, so a pipe or a
 * test sees each event as soon as it is read.
 *
 * Reading. Tail is an observer and must leave no trace: it does not join
 * a consumer group and commits nothing. It looks the topic up in the
 * cluster's metadata and assigns itself every partition directly, at the
 * beginning (--from-beginning) or at the end, with read_committed so that
 * it sees only what the processor's transactions committed. Partitions
 * added to the topic after tail started are not read. Each partition's
 * messages come in offset order; an account's events all live in one
 * partition (the processor keys them by account_id), so the events of one
 * account are always written in order, though the events of accounts on
 * different partitions interleave as they arrive.
 *
 * Stopping. --max N stops after N events written. --idle-exit D stops once
 * nothing new has come for D. The idle clock runs only once tail has
 * caught up, that is once every partition has reported its end at least
 * once: before that there may be events tail has not fetched yet, however
 * slow the broker is to answer, so `--from-beginning --idle-exit 1s` still
 * writes everything the topic held. (If the end is never reached, for
 * example because the broker went away, tail gives up after the longer of
 * D and STARTUP_GRACE_MS, with exit status 2.) SIGINT and SIGTERM stop it
 * cleanly, between two events or while it waits for the topic, with exit
 * status 0: no wait blocks for longer than POLL_MS or a metadata request
 * (METADATA_MS), and the handlers (repute/stop.h) are installed first
 * thing. A second signal exits at once.
 *
 * With a schema registry (schema.registry.url), tail decodes any id it
 * finds: an id it does not know yet is fetched from the registry (asked
 * again a few times, a second apart, when it does not answer) and, if it
 * resolves against repute's ReputationEvent (an older or newer version of
 * it), decoded through it from then on.
 *
 * A record that does not decode is reported on standard error with its
 * partition, offset and the reason, and skipped; tail then ends with exit
 * status 1.
 *
 * --current reads topic.current instead, from the beginning, and prints
 * the table it holds (tail_current.c); --follow and --format go with it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "cli/cli.h"
#include "cli/tail_current.h"
#include "repute/avro.h"
#include "repute/jsonl.h"
#include "repute/kafka.h"
#include "repute/log.h"
#include "repute/stop.h"
#include "repute/registry.h"

#define CMD "tail"

#define OPT_FROM_BEGINNING 2000
#define OPT_MAX            2001
#define OPT_IDLE_EXIT      2002
#define OPT_CURRENT        2003
#define OPT_FOLLOW         2004
#define OPT_FORMAT         2005

/* How long tail waits, at least, for the topic to exist and for every
 * partition to report its end before --idle-exit may end it. */
#define STARTUP_GRACE_MS 30000
/* The longest a single wait for Kafka blocks, so that a signal is seen;
 * a metadata request gets a little longer. */
#define POLL_MS     100
#define METADATA_MS 500
/* How often tail asks an unreachable registry for one id before it
 * reports the record as undecodable. */
#define REGISTRY_TRIES 5

/* ---------------------------------------------------------------- state */

typedef struct tail_opts {
    bool from_beginning;
    int64_t max_events; /* 0: no limit */
    int64_t idle_ms;    /* 0: never idle out */
    bool current;       /* --current: topic.current's table */
    bool follow;        /* --follow (with --current) */
    bool table;         /* --format table (with --current) */
    bool format_set;
} tail_opts;

typedef struct tail {
    rd_kafka_t *rk;
    const char *topic;
    rp_avro_codec *codec;
    rp_registry *reg; /* NULL without a schema registry */
    rp_buf line;
    /* eof[p] is true once partition p (an id, < n_eof) reported its end;
     * n_at_end counts the partitions of the topic that did. */
    bool *eof;
    int32_t n_eof;
    int32_t n_partitions;
    int32_t n_at_end;
    int64_t written;
    size_t bad;
} tail;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- options */

static const struct option long_options[] = {
    RP_CLI_CONFIG_LONG_OPTIONS,
    {"from-beginning", no_argument, NULL, OPT_FROM_BEGINNING},
    {"max", required_argument, NULL, OPT_MAX},
    {"idle-exit", required_argument, NULL, OPT_IDLE_EXIT},
    {"current", no_argument, NULL, OPT_CURRENT},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    {"format", required_argument, NULL, OPT_FORMAT},
    {NULL, 0, NULL, 0}};

/* Parses a count of at least 1. Returns 0 or RP_EINVAL. */
static int parse_count(const char *s, int64_t *out) {
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return RP_EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 1)
        return RP_EINVAL;
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- kafka */

/*
 * Creates the consumer and waits for the topic's metadata. Returns 0, or
 * RP_CLI_EXIT_USAGE with the reason printed (also when a signal came).
 */
static int tail_open(tail *t, const rp_config *cfg, const tail_opts *o,
                     rd_kafka_topic_partition_list_t **parts) {
    char err[512];
    rd_kafka_topic_t *rkt = NULL;
    const rd_kafka_metadata_t *md = NULL;
    bool said_waiting = false;
    int64_t start = now_ms();
    int rc = RP_CLI_EXIT_USAGE;

    rd_kafka_conf_t *conf =
        rp_kafka_conf_new(cfg, RP_KAFKA_TAIL, err, sizeof(err));
    if (!conf) {
        fprintf(stderr, "repute " CMD ": configuration: %s\n", err);
        return RP_CLI_EXIT_USAGE;
    }
    t->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!t->rk) {
        rd_kafka_conf_destroy(conf);
        goto fail_err;
    }
    /* Errors and other events come through rd_kafka_consumer_poll(). */
    rd_kafka_poll_set_consumer(t->rk);
    rkt = rd_kafka_topic_new(t->rk, t->topic, NULL);
    if (!rkt) {
        snprintf(err, sizeof(err), "topic %s: %s", t->topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        goto fail_err;
    }

    /* Wait until the topic exists and every partition has a leader (a
     * topic just created may lack one for a moment). */
    for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_metadata(t->rk, 0, rkt, &md, METADATA_MS);
        if (!e && md->topic_cnt == 1) {
            const rd_kafka_metadata_topic_t *mt = &md->topics[0];
            e = mt->err;
            if (!e && mt->partition_cnt == 0)
                e = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            for (int i = 0; !e && i < mt->partition_cnt; i++)
                if (mt->partitions[i].leader < 0)
                    e = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
            if (!e)
                break;
        } else if (!e) {
            e = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        md = NULL;
        snprintf(err, sizeof(err), "topic %s: %s", t->topic,
                 rd_kafka_err2str(e));
        if (rp_stop_signal())
            goto fail_err;
        int64_t waited = now_ms() - start;
        if (o->idle_ms > 0 &&
            waited >=
                (o->idle_ms > STARTUP_GRACE_MS ? o->idle_ms : STARTUP_GRACE_MS))
            goto fail_err;
        if (!said_waiting && waited >= 2000)
            fprintf(stderr, "repute " CMD ": waiting for %s\n", err);
        said_waiting = said_waiting || waited >= 2000;
        rd_kafka_poll(t->rk, POLL_MS); /* also throttles a fast failure */
    }

    /* Every partition, at the chosen end. */
    const rd_kafka_metadata_topic_t *mt = &md->topics[0];
    int32_t max_id = 0;
    *parts = rd_kafka_topic_partition_list_new(mt->partition_cnt);
    for (int i = 0; i < mt->partition_cnt; i++) {
        int32_t id = mt->partitions[i].id;
        rd_kafka_topic_partition_list_add(*parts, t->topic, id)->offset =
            o->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
        if (id > max_id)
            max_id = id;
    }
    t->n_partitions = mt->partition_cnt;
    t->n_eof = max_id + 1;
    t->eof = calloc((size_t)t->n_eof, sizeof(*t->eof));
    if (!t->eof) {
        snprintf(err, sizeof(err), "%s", rp_strerror(RP_ENOMEM));
        goto fail_err;
    }
    rc = 0;
    goto done;

fail_err:
    if (rp_stop_signal())
        rc = RP_CLI_EXIT_OK;
    else
        fprintf(stderr, "repute " CMD ": kafka: %s\n", err);
done:
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return rc;
}

/* ---------------------------------------------------------------- events */

/* Fetches the writer schema of m's id and gives it to the codec. Returns
 * 0 (added: decode again) or a negative code with the reason in err. */
static int tail_fetch(tail *t, const rd_kafka_message_t *m, char *err,
                      size_t size) {
    int32_t id;
    const char *json = NULL;
    int rc = rp_avro_framed_schema_id(m->payload, m->len, &id);
    for (int i = 0; rc == 0 && i < REGISTRY_TRIES; i++) {
        rc = rp_registry_schema(t->reg, id, &json, err, size);
        if (rc != RP_EIO || rp_stop_signal())
            break;
        fprintf(stderr, "repute " CMD ": schema registry: %s\n", err);
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    if (rc != 0)
        return rc;
    return rp_avro_codec_add_writer(t->codec, RP_SCHEMA_ID_STATUS, id, json,
                                    err, size);
}

/* Writes one message as a JSON line, or reports it. Returns 0, or RP_EIO
 * / RP_ENOMEM with the reason printed (tail must stop). */
static int tail_message(tail *t, const rd_kafka_message_t *m) {
    rp_event ev;
    rp_status_change sc;
    rp_notification n;
    char err[512];
    int rc = -1;

    if (!m->payload) {
        snprintf(err, sizeof(err), "the record has no value");
    } else {
        rc = rp_avro_decode_event(t->codec, m->payload, m->len, &ev, &sc, &n,
                                  err, sizeof(err));
        /* A writer schema not met yet: fetched, then decoded again. */
        if (rc == RP_ENOSCHEMA && t->reg &&
            tail_fetch(t, m, err, sizeof(err)) == 0)
            rc = rp_avro_decode_event(t->codec, m->payload, m->len, &ev, &sc,
                                      &n, err, sizeof(err));
    }
    if (rc == 0) {
        rp_buf_reset(&t->line);
        if (rp_jsonl_write_event(&t->line, &ev) != 0) {
            fprintf(stderr, "repute " CMD ": %s\n", rp_strerror(RP_ENOMEM));
            return RP_ENOMEM;
        }
        if (fwrite(t->line.data, 1, t->line.len, stdout) != t->line.len ||
            fflush(stdout) != 0) {
            fprintf(stderr, "repute " CMD ": standard output: %s\n",
                    strerror(errno));
            return RP_EIO;
        }
        t->written++;
        return 0;
    }
    fprintf(stderr,
            "repute " CMD ": %s partition %" PRId32 " offset %" PRId64 ": %s\n",
            t->topic, m->partition, m->offset, err);
    t->bad++;
    return 0;
}

/* Marks the partition as having reached its end. */
static void tail_eof(tail *t, int32_t partition) {
    if (partition < 0 || partition >= t->n_eof || t->eof[partition])
        return;
    t->eof[partition] = true;
    t->n_at_end++;
}

/*
 * Reads until a stop condition. Returns the exit status.
 */
static int tail_loop(tail *t, const tail_opts *o) {
    int64_t last = now_ms(); /* the last sign of progress */
    bool caught_up = false;

    while (!rp_stop_signal()) {
        if (o->max_events && t->written >= o->max_events)
            break;
        if (o->idle_ms > 0) {
            int64_t idle = now_ms() - last;
            if (caught_up && idle >= o->idle_ms)
                break;
            if (!caught_up && idle >= o->idle_ms && idle >= STARTUP_GRACE_MS) {
                fprintf(stderr,
                        "repute " CMD ": %s: %" PRId32 " of %" PRId32
                        " partitions never reported their end within %" PRId64
                        " ms; giving up\n",
                        t->topic, t->n_partitions - t->n_at_end,
                        t->n_partitions, idle);
                return RP_CLI_EXIT_USAGE;
            }
        }

        rd_kafka_message_t *m = rd_kafka_consumer_poll(t->rk, POLL_MS);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            tail_eof(t, m->partition);
            if (!caught_up && t->n_at_end == t->n_partitions) {
                caught_up = true;
                last = now_ms();
            }
        } else if (m->err) {
            fprintf(stderr, "repute " CMD ": kafka: %s\n",
                    rd_kafka_message_errstr(m));
        } else {
            last = now_ms();
            int rc = tail_message(t, m);
            if (rc) {
                rd_kafka_message_destroy(m);
                return RP_CLI_EXIT_USAGE;
            }
        }
        rd_kafka_message_destroy(m);
    }
    return t->bad ? RP_CLI_EXIT_BAD_INPUT : RP_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- main */

/* The options of tail's own, into the tail_opts ctx. */
static int tail_option(void *ctx, int opt, const char *arg) {
    tail_opts *o = ctx;
    switch (opt) {
    case OPT_FROM_BEGINNING: o->from_beginning = true; return 0;
    case OPT_MAX:
        if (parse_count(arg, &o->max_events) != 0)
            return rp_cli_usage_error(
                CMD, "--max %s: expected a number of events, 1 or more", arg);
        return 0;
    case OPT_IDLE_EXIT:
        if (rp_duration_parse(arg, &o->idle_ms) != 0 || o->idle_ms <= 0)
            return rp_cli_usage_error(
                CMD, "--idle-exit %s: expected a duration like 500ms, 5s or 1m",
                arg);
        return 0;
    case OPT_CURRENT: o->current = true; return 0;
    case OPT_FOLLOW: o->follow = true; return 0;
    case OPT_FORMAT:
        if (strcmp(arg, "table") != 0 && strcmp(arg, "json") != 0)
            return rp_cli_usage_error(
                CMD, "--format %s: expected json or table", arg);
        o->table = strcmp(arg, "table") == 0;
        o->format_set = true;
        return 0;
    default: return RP_CLI_OPT_NOT_MINE;
    }
}

/* The options that go only with --current, and those that do not. */
static int check_current_opts(const tail_opts *o) {
    if (!o->current && (o->follow || o->format_set))
        return rp_cli_usage_error(CMD, "--follow and --format go with "
                                       "--current");
    if (o->current && o->max_events)
        return rp_cli_usage_error(CMD, "--max does not go with --current");
    if (o->current && o->idle_ms && !o->follow)
        return rp_cli_usage_error(CMD, "--idle-exit goes with --follow "
                                       "under --current");
    return 0;
}

int rp_cli_tail_main(int argc, char **argv) {
    rp_cli_opts co;
    tail t;
    tail_opts o = {false, 0, 0, false, false, false, false};
    rd_kafka_topic_partition_list_t *parts = NULL;
    char err[512];
    int status;

    if (rp_stop_install(err, sizeof(err)) != 0) {
        fprintf(stderr, "repute " CMD ": %s\n", err);
        return RP_CLI_EXIT_USAGE;
    }
    memset(&t, 0, sizeof(t));
    status = rp_cli_opts_parse(&co, CMD, 0, argc, argv, long_options,
                               tail_option, &o);
    if (status != RP_CLI_GO_ON)
        goto fail;
    if ((status = check_current_opts(&o)) != 0)
        goto fail;
    if ((status = rp_cli_config_open(&co, RP_CLI_NEEDS_KAFKA)) != 0)
        goto fail;
    status = RP_CLI_EXIT_USAGE;
    t.topic = co.cfg.topic[o.current ? RP_TOPIC_CURRENT : RP_TOPIC_STATUS];
    o.from_beginning = o.from_beginning || o.current;

    /* The codec, the consumer, the partitions. */
    if (rp_registry_configured(&co.cfg)) {
        /* Any id, fetched when met; a pinned status id is decoded as is. */
        int32_t ids[RP_SCHEMA_ID__COUNT];
        for (int s = 0; s < RP_SCHEMA_ID__COUNT; s++)
            ids[s] = co.cfg.schema_id[s] ? co.cfg.schema_id[s] : RP_AVRO_NO_ID;
        t.reg = rp_registry_new(&co.cfg, err, sizeof(err));
        t.codec = t.reg
                      ? rp_avro_codec_new(co.cfg.framing, ids, err, sizeof(err))
                      : NULL;
        if (t.codec)
            rp_avro_codec_enable_writers(t.codec);
    } else {
        t.codec = rp_avro_codec_new(co.cfg.framing, co.cfg.schema_id, err,
                                    sizeof(err));
    }
    if (!t.codec) {
        fprintf(stderr, "repute " CMD ": avro: %s\n", err);
        goto fail;
    }
    if ((status = tail_open(&t, &co.cfg, &o, &parts)) != 0 || rp_stop_signal())
        goto fail;
    status = RP_CLI_EXIT_USAGE;
    rd_kafka_resp_err_t e = rd_kafka_assign(t.rk, parts);
    if (e) {
        fprintf(stderr, "repute " CMD ": kafka: cannot read %s: %s\n", t.topic,
                rd_kafka_err2str(e));
        goto fail;
    }

    if (o.current) {
        rp_tail_current_opts co_opts = {o.follow, o.table,
                                        co.cfg.framing == RP_FRAMING_CONFLUENT,
                                        o.idle_ms};
        status = rp_tail_current_run(t.rk, t.topic, t.n_partitions, t.n_eof,
                                     &co_opts);
    } else
        status = tail_loop(&t, &o);

fail:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (t.rk) {
        rd_kafka_consumer_close(t.rk);
        rd_kafka_destroy(t.rk);
    }
    rp_avro_codec_destroy(t.codec);
    rp_registry_destroy(t.reg);
    rp_buf_free(&t.line);
    free(t.eof);
    rp_cli_opts_free(&co);
    return status;
}
