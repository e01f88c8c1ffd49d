/*
 * bench_kafka.c - the Kafka plumbing shared by the benchmark tools.
 *
 * Everything here is deliberately plain librdkafka: the benchmarks must
 * measure the broker and repute, not a layer of ours, and a reader who
 * knows librdkafka should recognise every call. The consumer assigns
 * partitions rather than subscribing, because a group join costs seconds
 * of rebalancing that would land in the measurement and buys nothing when
 * one process reads everything. Topic creation and the readiness check
 * use the admin API and watermark queries, which answer only once a
 * partition has a leader that serves requests: that is the condition a
 * producer needs (KAFKA-15591), stronger than the topic merely being
 * listed in the metadata.
 */
#include "bench_kafka.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repute/config.h"

/* ---------------------------------------------------------------- signals */

volatile sig_atomic_t bk_stop;

static void on_stop_signal(int sig) {
    (void)sig;
    bk_stop = 1;
}

void bk_catch_stop_signals(void) {
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
}

/* ---------------------------------------------------------------- clocks */

double bk_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t bk_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bk_sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- parsing */

int bk_parse_duration_ms(const char *s, int64_t *out_ms) {
    if (s == NULL || *s == '\0')
        return RP_EINVAL;
    /* A bare number is seconds, fractions allowed. */
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == 0 && end != s && *end == '\0') {
        if (!(v >= 0) || v > 1e12)
            return RP_EINVAL;
        *out_ms = (int64_t)(v * 1000.0 + 0.5);
        return 0;
    }
    return rp_duration_parse(s, out_ms) == 0 ? 0 : RP_EINVAL;
}

int bk_opt(int argc, char **argv, int *i, const char *name,
           const char **value) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return RP_EINVAL;
    *value = argv[++*i];
    return 1;
}

int bk_list_add_csv(bk_list *l, const char *s) {
    const char *p = s;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > 0) {
            char **items = realloc(l->items, (l->n + 1) * sizeof *items);
            if (items == NULL)
                return RP_ENOMEM;
            l->items = items;
            char *item = strndup(p, len);
            if (item == NULL)
                return RP_ENOMEM;
            l->items[l->n++] = item;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

void bk_list_free(bk_list *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* ---------------------------------------------------------------- config */

int bk_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val,
                char *errstr, size_t errstr_size) {
    char why[256];
    if (rd_kafka_conf_set(conf, key, val, why, sizeof why) !=
        RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "%s=%s: %s", key, val, why);
        return RP_EINVAL;
    }
    return 0;
}

int bk_conf_set_pairs(rd_kafka_conf_t *conf, const bk_list *pairs, char *errstr,
                      size_t errstr_size) {
    for (size_t i = 0; pairs && i < pairs->n; i++) {
        char key[256];
        const char *eq = strchr(pairs->items[i], '=');
        size_t klen = eq ? (size_t)(eq - pairs->items[i]) : 0;
        if (eq == NULL || klen == 0 || klen >= sizeof key) {
            snprintf(errstr, errstr_size, "-X %s: expected key=value",
                     pairs->items[i]);
            return RP_EINVAL;
        }
        memcpy(key, pairs->items[i], klen);
        key[klen] = '\0';
        if (bk_conf_set(conf, key, eq + 1, errstr, errstr_size) != 0)
            return RP_EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------- reader */

/* Takes argv[*i] if it is one of the reader's options. Returns 1 (taken,
 * *i moved past the value), 0 (another option), or RP_EINVAL / RP_ENOMEM
 * with the reason in errstr. */
static int reader_opt(int argc, char **argv, int *i, bk_reader_opts *o,
                      int64_t min_idle_ms, char *errstr, size_t errstr_size) {
    const char *v = NULL;
    int m;
    if ((m = bk_opt(argc, argv, i, "--bootstrap", &v)) == 1) {
        o->bootstrap = v;
    } else if (m == 0 && (m = bk_opt(argc, argv, i, "--expect", &v)) == 1) {
        char *end;
        o->expect = strtoull(v, &end, 10);
        if (*v < '0' || *v > '9' || *end != '\0') {
            snprintf(errstr, errstr_size, "--expect needs a whole number");
            return RP_EINVAL;
        }
    } else if (m == 0 && (m = bk_opt(argc, argv, i, "--idle-exit", &v)) == 1) {
        if (bk_parse_duration_ms(v, &o->idle_exit) != 0 ||
            o->idle_exit < min_idle_ms) {
            snprintf(errstr, errstr_size, "--idle-exit: bad duration '%s'", v);
            return RP_EINVAL;
        }
    } else if (m == 0 && (m = bk_opt(argc, argv, i, "--isolation", &v)) == 1) {
        if (strcmp(v, "read_committed") != 0 &&
            strcmp(v, "read_uncommitted") != 0) {
            snprintf(errstr, errstr_size,
                     "--isolation: read_committed or read_uncommitted");
            return RP_EINVAL;
        }
        o->isolation = v;
    } else if (m == 0 && (m = bk_opt(argc, argv, i, "-X", &v)) == 1) {
        if (bk_list_add_csv(&o->extra, v) != 0) {
            snprintf(errstr, errstr_size, "out of memory");
            return RP_ENOMEM;
        }
    } else if (m < 0) {
        snprintf(errstr, errstr_size, "missing value for '%s'", argv[*i]);
        return RP_EINVAL;
    }
    return m;
}

void bk_reader_opts_init(bk_reader_opts *o, const char *isolation,
                         int64_t idle_exit_ms) {
    memset(o, 0, sizeof *o);
    o->bootstrap = "127.0.0.1:9092";
    o->isolation = isolation;
    o->idle_exit = idle_exit_ms;
}

int bk_reader_parse(int argc, char **argv, bk_reader_opts *o,
                    int64_t min_idle_ms, const bk_tool_opt *own, size_t n_own,
                    const char *prog) {
    char err[256];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
        int m = reader_opt(argc, argv, &i, o, min_idle_ms, err, sizeof err);
        if (m < 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return -1;
        }
        if (m == 1)
            continue;
        const char *v = NULL;
        size_t k;
        for (k = 0; k < n_own && m == 0; k++)
            m = bk_opt(argc, argv, &i, own[k].name, &v);
        if (m != 1) {
            fprintf(stderr, "%s: %s '%s'\n", prog,
                    m < 0 ? "missing value for" : "unknown option", argv[i]);
            return -1;
        }
        const bk_tool_opt *t = &own[k - 1];
        if (t->value)
            *t->value = v;
        else if (bk_list_add_csv(t->list, v) != 0)
            return -1;
    }
    return 0;
}

static rd_kafka_t *consumer_new(const char *bootstrap, const char *isolation,
                                const bk_list *extra, char *errstr,
                                size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* repute's consumer settings (src/kafka/conf.c), so that the ceiling
     * is measured with the same fetch behaviour. group.id is only there
     * because some librdkafka versions want one for a consumer handle; it
     * is never joined, since partitions are assigned. */
    static const char *const defaults[][2] = {
        {"client.id", "repute-bench"},
        {"group.id", "repute-bench-unused"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"fetch.wait.max.ms", "100"},
        {"max.partition.fetch.bytes", "4194304"},
    };
    if (bk_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                    errstr_size) != 0 ||
        bk_conf_set(conf, "isolation.level", isolation, errstr, errstr_size) !=
            0)
        goto fail;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (bk_conf_set(conf, defaults[i][0], defaults[i][1], errstr,
                        errstr_size) != 0)
            goto fail;
    if (bk_conf_set_pairs(conf, extra, errstr, errstr_size) != 0)
        goto fail;
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, (size_t)errstr_size);
    if (rk == NULL)
        goto fail;
    return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Assigns every partition of the topics, from the beginning. Waits up to
 * timeout_ms for the topics to appear in the metadata. Returns the number
 * of partitions assigned (> 0) or a negative code with errstr. */
static int assign_all(rd_kafka_t *rk, const bk_list *topics, int timeout_ms,
                      char *errstr, size_t errstr_size) {
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(16);
    int rc = 0;
    for (size_t i = 0; i < topics->n; i++) {
        /* A topic a producer has just created may take a moment to show. */
        double deadline = bk_now() + timeout_ms / 1000.0;
        int n;
        for (;;) {
            n = bk_topic_partitions(rk, topics->items[i], 5000, errstr,
                                    errstr_size);
            if (n != RP_ENOTFOUND || bk_now() >= deadline)
                break;
            bk_sleep_us(250 * 1000);
        }
        if (n == RP_ENOTFOUND)
            snprintf(errstr, errstr_size, "topic %s does not exist",
                     topics->items[i]);
        if (n < 0) {
            rc = n;
            goto fail;
        }
        for (int p = 0; p < n; p++)
            rd_kafka_topic_partition_list_add(parts, topics->items[i], p)
                ->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
    if (err) {
        snprintf(errstr, errstr_size, "cannot assign partitions: %s",
                 rd_kafka_err2str(err));
        rc = RP_EIO;
        goto fail;
    }
    rc = parts->cnt;
fail:
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

int bk_reader_open(bk_reader *r, const char *prog, const bk_reader_opts *o,
                   const bk_list *topics, size_t batch_max, char *errstr,
                   size_t errstr_size) {
    memset(r, 0, sizeof *r);
    r->prog = prog;
    r->batch_max = batch_max;
    r->batch = malloc(batch_max * sizeof *r->batch);
    if (r->batch == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return RP_ENOMEM;
    }
    r->rk = consumer_new(o->bootstrap, o->isolation, &o->extra, errstr,
                         errstr_size);
    if (r->rk == NULL)
        return RP_EINVAL;
    int nparts = assign_all(r->rk, topics, 10000, errstr, errstr_size);
    if (nparts < 0)
        return nparts;
    r->q = rd_kafka_queue_get_consumer(r->rk);
    if (r->q == NULL) {
        snprintf(errstr, errstr_size, "cannot get the consumer queue");
        return RP_EIO;
    }
    return nparts;
}

ssize_t bk_reader_poll(bk_reader *r, int timeout_ms) {
    ssize_t n =
        rd_kafka_consume_batch_queue(r->q, timeout_ms, r->batch, r->batch_max);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", r->prog,
                rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    r->received = (size_t)n;
    ssize_t kept = 0;
    for (ssize_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = r->batch[i];
        if (!m->err) {
            r->batch[kept++] = m;
            continue;
        }
        /* Errors arrive as messages; one about a topic that vanished
         * would otherwise be a silent stall. */
        if (r->errors++ < 10)
            fprintf(stderr, "%s: %s\n", r->prog, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    return kept;
}

void bk_reader_close(bk_reader *r) {
    free(r->batch);
    if (r->q)
        rd_kafka_queue_destroy(r->q);
    if (r->rk) {
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
    }
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- topics */

int bk_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                        char *errstr, size_t errstr_size) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rkt == NULL) {
        snprintf(errstr, errstr_size, "topic %s: %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return RP_EINVAL;
    }
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        snprintf(errstr, errstr_size, "metadata of %s: %s", topic,
                 rd_kafka_err2str(err));
        return RP_EIO;
    }
    int rc = RP_ENOTFOUND;
    if (md->topic_cnt == 1 && md->topics[0].err == 0 &&
        md->topics[0].partition_cnt > 0)
        rc = md->topics[0].partition_cnt;
    else if (md->topic_cnt == 1 &&
             md->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
             md->topics[0].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
             md->topics[0].err != 0) {
        snprintf(errstr, errstr_size, "metadata of %s: %s", topic,
                 rd_kafka_err2str(md->topics[0].err));
        rc = RP_EIO;
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

int bk_create_topics(rd_kafka_t *rk, const bk_list *topics, int partitions,
                     uint64_t *existed, char *errstr, size_t errstr_size) {
    int rc = 0;
    size_t n = topics->n;
    rd_kafka_NewTopic_t **nt = calloc(n ? n : 1, sizeof *nt);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    if (existed)
        *existed = 0;
    if (nt == NULL) {
        rc = RP_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(topics->items[i], partitions, 1, errstr,
                                      errstr_size);
        if (nt[i] == NULL) {
            rc = RP_EINVAL;
            goto fail;
        }
        /* Broker append times as record timestamps: the latency probe
         * compares the input's and the output's, both set by one clock. */
        if (rd_kafka_NewTopic_set_config(nt[i], "message.timestamp.type",
                                         "LogAppendTime") != 0) {
            snprintf(errstr, errstr_size, "topic %s: cannot set its config",
                     topics->items[i]);
            rc = RP_EINVAL;
            goto fail;
        }
    }
    rd_kafka_CreateTopics(rk, nt, n, NULL, q);
    ev = rd_kafka_queue_poll(q, 60000);
    if (ev == NULL) {
        snprintf(errstr, errstr_size, "topic creation timed out");
        rc = RP_EIO;
        goto fail;
    }
    const rd_kafka_CreateTopics_result_t *res =
        rd_kafka_event_CreateTopics_result(ev);
    if (res == NULL || rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "cannot create topics: %s",
                 res ? rd_kafka_event_error_string(ev) : "unexpected event");
        rc = RP_EIO;
        goto fail;
    }
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(res, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            for (size_t k = 0; k < n && k < 64 && existed; k++)
                if (strcmp(topics->items[k],
                           rd_kafka_topic_result_name(tr[i])) == 0)
                    *existed |= UINT64_C(1) << k;
        } else if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, errstr_size, "cannot create topic %s: %s",
                     rd_kafka_topic_result_name(tr[i]),
                     rd_kafka_topic_result_error_string(tr[i]));
            rc = RP_EIO;
            goto fail;
        }
    }
fail:
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    for (size_t i = 0; nt && i < n; i++)
        if (nt[i])
            rd_kafka_NewTopic_destroy(nt[i]);
    free(nt);
    return rc;
}

int bk_wait_ready(rd_kafka_t *rk, const bk_list *topics, int timeout_ms,
                  char *errstr, size_t errstr_size) {
    double deadline = bk_now() + timeout_ms / 1000.0;
    for (size_t i = 0; i < topics->n; i++) {
        const char *topic = topics->items[i];
        int n;
        for (;;) {
            n = bk_topic_partitions(rk, topic, 5000, errstr, errstr_size);
            if (n > 0)
                break;
            if (n != RP_ENOTFOUND)
                return n;
            if (bk_now() >= deadline) {
                snprintf(errstr, errstr_size,
                         "topic %s did not appear within %d ms", topic,
                         timeout_ms);
                return RP_EIO;
            }
            bk_sleep_us(200 * 1000);
        }
        for (int p = 0; p < n; p++) {
            int64_t lo, hi;
            rd_kafka_resp_err_t err;
            while ((err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo,
                                                           &hi, 5000)) != 0) {
                if (bk_now() >= deadline) {
                    snprintf(errstr, errstr_size,
                             "%s [%d] did not answer a watermark query "
                             "within %d ms: %s",
                             topic, p, timeout_ms, rd_kafka_err2str(err));
                    return RP_EIO;
                }
                bk_sleep_us(200 * 1000);
            }
        }
    }
    return 0;
}

const char *bk_tstype_name(rd_kafka_timestamp_type_t t) {
    switch (t) {
    case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: return "LogAppendTime";
    case RD_KAFKA_TIMESTAMP_CREATE_TIME: return "CreateTime";
    default: return "none";
    }
}
