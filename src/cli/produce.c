/*
 * produce.c - `repute produce`: JSON lines -> Avro -> the input topics.
 *
 * Produce is the way records get into a running pipeline by hand or from a
 * test: it reads the same JSON lines as `repute replay` (docs/rules.md section
 * 9), one at a time and in order, encodes each record with the configured
 * framing and schema ids (rp_avro_encode, so that `repute run` decodes
 * exactly what it would get from any other producer), and gives it to one
 * idempotent librdkafka producer keyed by account_id. Without --topic a
 * record goes to the input topic of its type; with --topic every record
 * goes to that one topic (useful to feed a dead-letter test or a topic of
 * another name).
 *
 * Partitioning. The key is the account_id and the partitioner is
 * librdkafka's default unless kafka.partitioner says otherwise. The
 * processor joins the five input topics partition by partition, so every
 * producer that writes to them (this one, the processor's own
 * RELATED_ACCOUNT reports, the services upstream) must use the same
 * partitioner: one account must land on the same partition number in
 * every topic.
 *
 * Acknowledgements. Each message carries its input line number as its
 * opaque, so the delivery report callback can say which line failed and
 * in which topic, with librdkafka's reason, without any bookkeeping of
 * our own. Once the input is read, produce flushes and keeps serving
 * delivery reports until every message has one. librdkafka guarantees a
 * report within message.timeout.ms; if none arrived even a while after
 * that, the messages still queued are purged, which reports them as
 * failed too. Produce ends with "N records sent" (the acknowledged ones)
 * on standard error, and with exit status 1 when any record was not
 * acknowledged or any line was malformed.
 *
 * Signals. SIGINT or SIGTERM stops produce cleanly (repute/stop.h, the
 * handlers installed first thing): it reads no further line (a read that
 * waits for one is interrupted), waits for the acknowledgement of what it
 * has handed to librdkafka, for at most STOP_GRACE_MS more, reports what
 * got none as not acknowledged, and ends as it would at the end of its
 * input, saying after which line it stopped. A second signal exits at
 * once (status 130 or 143).
 *
 * With a schema registry (schema.registry.url), each record is framed
 * with the id the registry gives its schema under the subject of the
 * topic it goes to (schema.registry.subject.strategy), as a Confluent
 * serializer would: looked up, or registered first with --register. A
 * type whose schema is not registered there can only be produced with
 * --register; its lines are refused with the subject named.
 *
 * Ticks have no meaning on Kafka (the processor's clock moves with the
 * records, or with the wall clock), so tick lines are skipped, which
 * produce says once. Malformed lines are reported with their number and
 * skipped, as replay does.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "cli/cli.h"
#include "repute/avro.h"
#include "repute/jsonl.h"
#include "repute/kafka.h"
#include "repute/log.h"
#include "repute/stop.h"
#include "repute/registry.h"
#include "repute/schemas.h"

#define CMD "produce"

#define OPT_TOPIC    2000
#define OPT_REGISTER 2001

/* How long, after message.timeout.ms, produce still waits for delivery
 * reports before it purges what is left. */
#define FLUSH_GRACE_MS 30000
/* How long, after a signal, produce still waits for delivery reports. */
#define STOP_GRACE_MS 5000
/* The longest one wait for librdkafka blocks, so that a signal is seen. */
#define POLL_MS 100

/* ---------------------------------------------------------------- state */

typedef struct producer {
    rd_kafka_t *rk;
    /* Topic handles, one per input type, or [0] alone with --topic. */
    rd_kafka_topic_t *rkt[RP_REC__COUNT];
    rp_avro_codec *codec;
    /* With a registry: the subject of a type not registered (its lines are
     * refused), or "" when it has an id. */
    char unregistered[RP_REC__COUNT][256];
    size_t queued; /* messages handed to librdkafka */
    size_t acked;  /* delivery reports without error */
    size_t failed; /* delivery reports with an error, and refused produces */
    bool fatal;    /* librdkafka raised a fatal error */
} producer;

/* ---------------------------------------------------------------- kafka */

static void report_failure(const char *topic, uintptr_t lineno,
                           rd_kafka_resp_err_t err) {
    fprintf(stderr,
            "repute " CMD ": line %" PRIuPTR ": %s: not acknowledged: %s\n",
            lineno, topic, rd_kafka_err2str(err));
}

/* Called from rd_kafka_poll() and rd_kafka_flush(), on this thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque) {
    producer *pr = opaque;
    (void)rk;
    if (m->err) {
        pr->failed++;
        report_failure(rd_kafka_topic_name(m->rkt), (uintptr_t)m->_private,
                       m->err);
    } else {
        pr->acked++;
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque) {
    producer *pr = opaque;
    char why[512];
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, why, sizeof(why));
        if (!pr->fatal)
            fprintf(stderr, "repute " CMD ": kafka: fatal error: %s\n", why);
        pr->fatal = true;
        return;
    }
    rp_log_warn(CMD ": kafka: %s", reason);
}

/*
 * Creates the producer and its topic handles. Returns 0, or -1 with the
 * reason printed. *timeout_ms gets message.timeout.ms (0: no limit).
 */
static int producer_open(producer *pr, const rp_config *cfg, const char *topic,
                         int64_t *timeout_ms) {
    char err[512], val[64];
    size_t val_size = sizeof(val);
    rd_kafka_conf_t *conf =
        rp_kafka_conf_new(cfg, RP_KAFKA_PRODUCER, err, sizeof(err));
    if (!conf) {
        fprintf(stderr, "repute " CMD ": configuration: %s\n", err);
        return -1;
    }
    rd_kafka_conf_set_opaque(conf, pr);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    *timeout_ms = 300000;
    if (rd_kafka_conf_get(conf, "message.timeout.ms", val, &val_size) ==
        RD_KAFKA_CONF_OK)
        *timeout_ms = strtoll(val, NULL, 10);
    pr->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!pr->rk) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    for (int t = 0; t < (topic ? 1 : RP_REC__COUNT); t++) {
        const char *name = topic ? topic : cfg->topic[RP_TOPIC_DELIVERIES + t];
        pr->rkt[t] = rd_kafka_topic_new(pr->rk, name, NULL);
        if (!pr->rkt[t]) {
            snprintf(err, sizeof(err), "topic %s: %s", name,
                     rd_kafka_err2str(rd_kafka_last_error()));
            goto fail;
        }
    }
    return 0;

fail:
    fprintf(stderr, "repute " CMD ": kafka: %s\n", err);
    return -1;
}

static void producer_close(producer *pr) {
    for (int t = 0; t < RP_REC__COUNT; t++)
        if (pr->rkt[t])
            rd_kafka_topic_destroy(pr->rkt[t]);
    if (pr->rk)
        rd_kafka_destroy(pr->rk);
    rp_avro_codec_destroy(pr->codec);
}

/* Hands one encoded record to librdkafka, waiting while its queue is full.
 * A refusal is reported like a failed delivery. Returns 0, or -1 when a
 * signal came while the queue was full (the record was not sent). */
static int producer_send(producer *pr, rd_kafka_topic_t *rkt,
                         const rp_record *rec, const void *value, size_t len,
                         size_t lineno) {
    for (;;) {
        int rc =
            rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)value, len, rec->account_id.ptr,
                             rec->account_id.len, (void *)(uintptr_t)lineno);
        if (rc == 0) {
            pr->queued++;
            break;
        }
        rd_kafka_resp_err_t err = rd_kafka_last_error();
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && rp_stop_signal())
            return -1; /* not sent: the caller stops before this line */
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(pr->rk, POLL_MS);
            continue;
        }
        pr->failed++;
        report_failure(rd_kafka_topic_name(rkt), lineno, err);
        break;
    }
    rd_kafka_poll(pr->rk, 0);
    return 0;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for a delivery report of every queued message: up to timeout_ms
 * plus a grace period, then purges what is left so that it is reported. */
static void producer_drain(producer *pr, int64_t timeout_ms) {
    int64_t deadline =
        timeout_ms > 0 ? now_ms() + timeout_ms + FLUSH_GRACE_MS : INT64_MAX;
    bool stopped = false;
    while (pr->acked + pr->failed < pr->queued && now_ms() < deadline) {
        if (rp_stop_signal() && !stopped) {
            stopped = true;
            if (deadline - now_ms() > STOP_GRACE_MS)
                deadline = now_ms() + STOP_GRACE_MS;
        }
        rd_kafka_flush(pr->rk, POLL_MS);
    }
    if (pr->acked + pr->failed < pr->queued) {
        if (stopped)
            fprintf(stderr,
                    "repute " CMD ": stopped by %s; giving up on the %zu "
                    "records still waiting for an acknowledgement\n",
                    rp_stop_signal_name(rp_stop_signal()),
                    pr->queued - pr->acked - pr->failed);
        else
            fprintf(stderr,
                    "repute " CMD ": no acknowledgement after %" PRId64
                    " ms; giving up on the %zu records still waiting\n",
                    timeout_ms + FLUSH_GRACE_MS,
                    pr->queued - pr->acked - pr->failed);
        rd_kafka_purge(pr->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(pr->rk, 5000);
    }
    /* A purged message always gets its report; this is only a guard. */
    if (pr->acked + pr->failed < pr->queued) {
        size_t lost = pr->queued - pr->acked - pr->failed;
        fprintf(stderr, "repute " CMD ": %zu record%s got no delivery report\n",
                lost, lost == 1 ? "" : "s");
        pr->failed += lost;
    }
}

/* ---------------------------------------------------------------- lines */

/*
 * Reads every line of the input and sends its record. Returns 0 when it
 * reached the end of the input (or stopped on a fatal Kafka error, which
 * was printed), or RP_E* with the reason printed.
 */
static int produce_stream(producer *pr, bool one_topic, rp_cli_input *ci) {
    bool said_tick = false;
    rp_record rec;
    int64_t tick = 0;
    char err[512];
    int kind = 0, rc;

    while (!pr->fatal && (kind = rp_cli_input_next(ci, &rec, &tick)) > 0) {
        if (kind == RP_JSONL_TICK) {
            if (!said_tick)
                fprintf(stderr,
                        "repute " CMD ": line %zu: tick lines are skipped "
                        "(Kafka carries records only; the clock of repute "
                        "run moves with them)\n",
                        ci->lineno);
            said_tick = true;
            continue;
        }

        const void *value;
        size_t value_len;
        if (pr->unregistered[rec.type][0]) {
            fprintf(stderr,
                    "repute " CMD ": line %zu: %.*s is not registered under "
                    "subject %s (register it, or run produce with "
                    "--register)\n",
                    ci->lineno,
                    (int)strcspn(rp_avro_schema_name(rec.type), "."),
                    rp_avro_schema_name(rec.type), pr->unregistered[rec.type]);
            ci->bad_lines++;
            continue;
        }
        if ((rc = rp_avro_encode(pr->codec, &rec, &value, &value_len, err,
                                 sizeof(err))) != 0) {
            if (rc == RP_ENOMEM) {
                fprintf(stderr, "repute " CMD ": line %zu: %s\n", ci->lineno,
                        rp_strerror(rc));
                return rc;
            }
            fprintf(stderr, "repute " CMD ": line %zu: %s\n", ci->lineno, err);
            ci->bad_lines++;
            continue;
        }
        if (producer_send(pr, pr->rkt[one_topic ? 0 : rec.type], &rec, value,
                          value_len, ci->lineno) != 0) {
            ci->lineno--; /* that line was not sent */
            break;
        }
    }
    if (rp_stop_signal()) {
        fprintf(stderr,
                "repute " CMD ": stopped by %s after line %zu: the lines "
                "after it were not sent\n",
                rp_stop_signal_name(rp_stop_signal()), ci->lineno);
        return 0;
    }
    if (pr->fatal) {
        fprintf(stderr,
                "repute " CMD ": stopped after line %zu: the lines after it "
                "were not sent\n",
                ci->lineno);
        return 0;
    }
    return kind;
}

/* ---------------------------------------------------------------- main */

static const struct option long_options[] = {
    RP_CLI_CONFIG_LONG_OPTIONS,
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"register", no_argument, NULL, OPT_REGISTER},
    {NULL, 0, NULL, 0}};

typedef struct produce_opts {
    const char *topic;
    bool do_register;
} produce_opts;

/* --topic and --register, produce's own options; ctx is a produce_opts. */
static int produce_option(void *ctx, int opt, const char *arg) {
    produce_opts *po = ctx;
    if (opt == OPT_REGISTER) {
        po->do_register = true;
        return 0;
    }
    if (opt != OPT_TOPIC)
        return RP_CLI_OPT_NOT_MINE;
    if (!arg[0])
        return rp_cli_usage_error(CMD, "--topic: empty topic name");
    po->topic = arg;
    return 0;
}

/* The codec with the registry's ids (see the essay): each input schema
 * looked up, or registered, under the subject of the topic it goes to.
 * Returns 0, or -1 with the reason printed. */
static int registry_codec(producer *pr, const rp_config *cfg,
                          const produce_opts *po) {
    char err[1024];
    rp_registry *r = rp_registry_new(cfg, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "repute " CMD ": %s\n", err);
        return -1;
    }
    int32_t ids[RP_SCHEMA_ID__COUNT];
    int rc = 0;
    for (int slot = 0; slot < RP_SCHEMA_ID__COUNT && rc == 0; slot++) {
        ids[slot] = RP_AVRO_NO_ID;
        if (slot >= RP_REC__COUNT)
            continue;
        char name[256], subject[256];
        rp_registry_record_name(rp_avro_schema_json(slot), name, sizeof(name));
        rp_registry_subject(cfg->subject_strategy,
                            po->topic ? po->topic : cfg->topic[slot], name,
                            subject, sizeof(subject));
        const char *json = rp_avro_schema_json(slot);
        rc = po->do_register
                 ? rp_registry_register(r, subject, json, &ids[slot], err,
                                        sizeof(err))
                 : rp_registry_lookup(r, subject, json, &ids[slot], err,
                                      sizeof(err));
        if (rc == RP_ENOTFOUND) {
            snprintf(pr->unregistered[slot], sizeof(pr->unregistered[slot]),
                     "%s", subject);
            ids[slot] = RP_AVRO_NO_ID;
            rc = 0;
        }
    }
    rp_registry_destroy(r);
    if (rc != 0) {
        fprintf(stderr, "repute " CMD ": schema registry: %s\n", err);
        return -1;
    }
    pr->codec = rp_avro_codec_new(cfg->framing, ids, err, sizeof(err));
    if (!pr->codec) {
        fprintf(stderr, "repute " CMD ": avro: %s\n", err);
        return -1;
    }
    return 0;
}

int rp_cli_produce_main(int argc, char **argv) {
    rp_cli_opts co;
    producer pr;
    rp_cli_input ci;
    produce_opts po = {NULL, false};
    int64_t timeout_ms = 0;
    char err[512];
    int status, rc;

    if (rp_stop_install(err, sizeof(err)) != 0) {
        fprintf(stderr, "repute " CMD ": %s\n", err);
        return RP_CLI_EXIT_USAGE;
    }
    memset(&pr, 0, sizeof(pr));
    memset(&ci, 0, sizeof(ci));
    status = rp_cli_opts_parse(&co, CMD, RP_CLI_ONE_FILE, argc, argv,
                               long_options, produce_option, &po);
    if (status != RP_CLI_GO_ON)
        goto fail;
    if ((status = rp_cli_config_open(&co, RP_CLI_NEEDS_KAFKA)) != 0)
        goto fail;
    status = RP_CLI_EXIT_USAGE;

    if (rp_cli_input_open(&ci, CMD, co.path) != 0)
        goto fail;

    /* The codec and the producer. */
    if (po.do_register && !rp_registry_configured(&co.cfg)) {
        fprintf(stderr, "repute " CMD ": --register needs "
                        "schema.registry.url\n");
        goto fail;
    }
    if (rp_registry_configured(&co.cfg)) {
        if (registry_codec(&pr, &co.cfg, &po) != 0)
            goto fail;
    } else {
        pr.codec = rp_avro_codec_new(co.cfg.framing, co.cfg.schema_id, err,
                                     sizeof(err));
        if (!pr.codec) {
            fprintf(stderr, "repute " CMD ": avro: %s\n", err);
            goto fail;
        }
    }
    if (producer_open(&pr, &co.cfg, po.topic, &timeout_ms) != 0)
        goto fail;

    rc = produce_stream(&pr, po.topic != NULL, &ci);
    /* Whatever stopped the input, what was queued is still waited for. */
    producer_drain(&pr, timeout_ms);

    fprintf(stderr, "repute " CMD ": %zu record%s sent\n", pr.acked,
            pr.acked == 1 ? "" : "s");
    if (pr.failed)
        fprintf(stderr, "repute " CMD ": %zu record%s not acknowledged\n",
                pr.failed, pr.failed == 1 ? "" : "s");
    if (ci.bad_lines)
        fprintf(stderr, "repute " CMD ": %zu malformed line%s skipped\n",
                ci.bad_lines, ci.bad_lines == 1 ? "" : "s");
    if (rc)
        goto fail;
    status = ci.bad_lines || pr.failed || pr.fatal ? RP_CLI_EXIT_BAD_INPUT
                                                   : RP_CLI_EXIT_OK;

fail:
    rp_cli_input_close(&ci);
    producer_close(&pr);
    rp_cli_opts_free(&co);
    return status;
}
