/*
 * loadgen_sink.c - where repute-loadgen's records go: Avro to Kafka, JSON
 * lines to a file, and redeliveries of the very same bytes.
 *
 * The producer is idempotent with acks=all, lingers 10 ms into batches of
 * up to 1 MB, and has a bounded queue; when the queue is full the sink
 * serves delivery reports until there is room, which is how the program
 * runs "as fast as possible" without growing. A redelivery must be what
 * an at-least-once upstream sends, the same bytes under the same key, so
 * the sink keeps the last RECENT records encoded (Avro and JSON both) and
 * sends one of them again instead of asking the generator for a copy.
 *
 * Before the first record the topics are made ready: created with
 * --create-topics (LogAppendTime, so that the latency tool compares broker
 * append times), and in any case waited for until every partition
 * answers a watermark query, because a produce right after creation can
 * be lost (KAFKA-15591). At the end the sink waits for every delivery
 * report and counts what was not acknowledged, naming the first error, so
 * that a run that lost records cannot pass for a fast one.
 *
 * A record's tenant (--tenant-share) goes into the Avro value and the JSON
 * line as every other field does (the JSON line writes it as null when
 * the record has none, like every nullable field).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "repute/jsonl.h"

/* ---------------------------------------------------------------- output */

static const char *const TOPIC_SUFFIX[RP_REC__COUNT] = {
    "deliveries", "bounces", "complaints", "reports", "actions",
};

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

int lg_sink_record(sink *s, const rp_record *rec, bool keep) {
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

int lg_sink_redeliver(sink *s, bg_rng *r, uint64_t depth) {
    uint64_t n = s->n_recent < depth ? s->n_recent : depth;
    const recent *e = &s->ring[(s->n_recent - 1 - bg_rng_below(r, n)) % RECENT];
    return sink_send(s, e->type, e->key, e->key_len, e->avro.data, e->avro.len,
                     e->json.data, e->json.len);
}

/* Purges what is left after the message timeout and a grace period,
 * which reports those as failed. */
void lg_sink_flush(sink *s) {
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

void lg_sink_close(sink *s) {
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

int lg_sink_open(sink *s, const options *o) {
    char err[512];
    memset(s, 0, sizeof *s);
    s->o = o;
    s->codec = rp_avro_codec_new(RP_FRAMING_PLAIN, NULL, err, sizeof err);
    if (s->codec == NULL)
        die("cannot create the Avro codec: %s", err);
    if (o->jsonl) {
        s->jsonl = strcmp(o->jsonl, "-") == 0 ? stdout : fopen(o->jsonl, "w");
        if (s->jsonl == NULL)
            die("cannot open --jsonl %s: %s", o->jsonl, strerror(errno));
    }
    if (o->no_kafka)
        return 0;
    if (sink_open_kafka(s, err, sizeof err) != 0)
        die("kafka: %s", err);
    return prepare_topics(s);
}
