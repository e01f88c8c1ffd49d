/*
 * kafka.c - the integration tests' own librdkafka clients: creating and
 * deleting the test's topics, end offsets and the group's committed
 * offsets, raw records, and reading a topic with its headers.
 *
 * The tests check repute from the outside, so what they learn of the
 * cluster they learn with clients of their own, never through repute. Two
 * long-lived handles serve the running test (see support_impl.h): a
 * producer, which also carries the metadata and admin requests, and a
 * consumer that only ever asks for the committed offsets of the test's
 * group (it joins nothing). Both are made on first use and freed by
 * it_done and it_fini; a client whose settings differ (a producer that
 * must see its delivery report, a reader from the beginning) is made for
 * the one call and destroyed before it returns.
 *
 * Creating topics waits for more than the admin API's answer: until every
 * partition has a leader and answers ListOffsets, because an idempotent
 * producer can lose the first batch sent to a partition that is listed
 * but not yet writable (see it_kafka_create_topics).
 */
#include "support_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- handles */

static rd_kafka_t *g_prod; /* raw produce, metadata, admin */
static rd_kafka_t *g_offs; /* committed offsets of the test's group */
void it_kafka_quiet_log(const rd_kafka_t *rk, int level, const char *fac,
                        const char *buf) {
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

rd_kafka_t *it_kafka_new(rd_kafka_type_t type, const char *bootstrap,
                         const char *group) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, it_kafka_quiet_log);
    cr_assert_eq(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
                                   sizeof(err)),
                 RD_KAFKA_CONF_OK, "%s", err);
    rd_kafka_conf_set(conf, "client.id", "repute-it", err, sizeof(err));
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
        rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof(err));
    } else {
        rd_kafka_conf_set(conf, "group.id", group ? group : "repute-it-reader",
                          err, sizeof(err));
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                          sizeof(err));
        rd_kafka_conf_set(conf, "isolation.level", "read_committed", err,
                          sizeof(err));
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err,
                          sizeof(err));
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err,
                          sizeof(err));
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    cr_assert_not_null(rk, "rd_kafka_new: %s", err);
    return rk;
}

rd_kafka_t *it_kafka_prod(it_ctx *c) {
    if (!g_prod)
        g_prod = it_kafka_new(RD_KAFKA_PRODUCER, c->bootstrap, NULL);
    return g_prod;
}

rd_kafka_t *it_kafka_offs(it_ctx *c) {
    if (!g_offs)
        g_offs = it_kafka_new(RD_KAFKA_CONSUMER, c->bootstrap, c->prefix);
    return g_offs;
}

void it_kafka_free(void) {
    if (g_offs) {
        rd_kafka_destroy(g_offs);
        g_offs = NULL;
    }
    if (g_prod) {
        rd_kafka_flush(g_prod, 2000);
        rd_kafka_destroy(g_prod);
        g_prod = NULL;
    }
}

const char *it_bootstrap_env(void) {
    const char *b = getenv("REPUTE_BOOTSTRAP");
    return b && b[0] ? b : "127.0.0.1:9092";
}

void it_require_broker(const char *bootstrap) {
    rd_kafka_t *rk = it_kafka_new(RD_KAFKA_PRODUCER, bootstrap, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, 15000);
    int brokers = md ? md->broker_cnt : 0;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    cr_assert(e == RD_KAFKA_RESP_ERR_NO_ERROR && brokers > 0,
              "no Kafka broker answers at %s (%s). The integration tests "
              "need a real broker: start one with `deploy/kafka-local.sh "
              "start`, or point REPUTE_BOOTSTRAP at one (or configure with "
              "-DREPUTE_INTEGRATION_TESTS=OFF)",
              bootstrap, e ? rd_kafka_err2str(e) : "no brokers in metadata");
}

/* ---------------------------------------------------------------- topics */

/* Creates the test's topics. With replicas > 1, partition p's replicas
 * are brokers p % replicas + 1, then the next ids in turn, so that the
 * preferred leaders (the first replicas) alternate between the brokers. */
void it_kafka_create_topics(it_ctx *c, int replicas) {
    rd_kafka_t *rk = it_kafka_prod(c);
    rd_kafka_NewTopic_t *nt[IT_NTOPICS];
    char err[256];
    for (int i = 0; i < IT_NTOPICS; i++) {
        nt[i] = rd_kafka_NewTopic_new(c->topic[i], IT_PARTITIONS,
                                      replicas > 1 ? -1 : 1, err, sizeof(err));
        cr_assert_not_null(nt[i], "%s", err);
        for (int p = 0; replicas > 1 && p < IT_PARTITIONS; p++) {
            int32_t ids[IT_CLUSTER_MAX];
            for (int r = 0; r < replicas; r++)
                ids[r] = (p + r) % replicas + 1;
            cr_assert_eq(rd_kafka_NewTopic_set_replica_assignment(
                             nt[i], p, ids, (size_t)replicas, err, sizeof(err)),
                         0, "%s", err);
        }
        if (i == IT_CHANGELOG || i == IT_CURRENT)
            rd_kafka_NewTopic_set_config(nt[i], "cleanup.policy", "compact");
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, IT_NTOPICS, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    cr_assert_not_null(ev, "CreateTopics: no answer within 30 s");
    const rd_kafka_CreateTopics_result_t *res =
        rd_kafka_event_CreateTopics_result(ev);
    cr_assert_not_null(res, "CreateTopics: %s",
                       rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        cr_assert(e == RD_KAFKA_RESP_ERR_NO_ERROR ||
                      e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
                  "cannot create topic %s: %s",
                  rd_kafka_topic_result_name(tr[i]),
                  rd_kafka_topic_result_error_string(tr[i]));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    for (int i = 0; i < IT_NTOPICS; i++)
        rd_kafka_NewTopic_destroy(nt[i]);
    /* Wait until every partition has a leader. */
    double end = it_now() + 30;
    for (;;) {
        int ready = 0;
        for (int i = 0; i < IT_NTOPICS; i++) {
            rd_kafka_topic_t *t = rd_kafka_topic_new(rk, c->topic[i], NULL);
            const struct rd_kafka_metadata *md = NULL;
            if (rd_kafka_metadata(rk, 0, t, &md, 5000) == 0 &&
                md->topic_cnt == 1 && md->topics[0].err == 0 &&
                md->topics[0].partition_cnt == IT_PARTITIONS) {
                bool leaders = true;
                for (int p = 0; p < IT_PARTITIONS; p++)
                    if (md->topics[0].partitions[p].leader < 0 ||
                        md->topics[0].partitions[p].err)
                        leaders = false;
                if (leaders)
                    ready++;
            }
            if (md)
                rd_kafka_metadata_destroy(md);
            rd_kafka_topic_destroy(t);
        }
        if (ready == IT_NTOPICS)
            break;
        cr_assert(it_now() < end, "the topics %s.* have no leaders after 30 s",
                  c->prefix);
        it_sleep(0.2);
    }
    /* A leader in the metadata is not yet a partition that takes writes:
     * a produce request sent before the broker has made the log can fail
     * while the next one succeeds, and the idempotent producer then loses
     * the first batch without an error (KAFKA-15591; seen here with Kafka
     * 4.1.1 and librdkafka 2.0.2: a partition whose first batch had
     * baseSequence 1). Wait until every partition answers ListOffsets. */
    for (int i = 0; i < IT_NTOPICS; i++)
        for (int p = 0; p < IT_PARTITIONS; p++)
            for (;;) {
                int64_t lo, hi;
                rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                    rk, c->topic[i], p, &lo, &hi, 5000);
                if (!e)
                    break;
                cr_assert(it_now() < end, "%s [%d] answers no ListOffsets: %s",
                          c->topic[i], p, rd_kafka_err2str(e));
                it_sleep(0.1);
            }
    it_sleep(0.2);
}

void it_kafka_delete_topics(it_ctx *c) {
    rd_kafka_t *rk = it_kafka_prod(c);
    rd_kafka_DeleteTopic_t *dt[IT_NTOPICS];
    for (int i = 0; i < IT_NTOPICS; i++)
        dt[i] = rd_kafka_DeleteTopic_new(c->topic[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, dt, IT_NTOPICS, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 10000);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(dt, IT_NTOPICS);
}

/* Fresh metadata of one of the test's topics (NULL when it fails). A
 * request for every topic, so that the broker never creates it. */
static const struct rd_kafka_metadata_topic *
find_topic(const struct rd_kafka_metadata *md, const char *name) {
    for (int j = 0; j < md->topic_cnt; j++)
        if (strcmp(md->topics[j].topic, name) == 0)
            return &md->topics[j];
    return NULL;
}

bool it_topic_exists(it_ctx *c, int topic) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e =
        rd_kafka_metadata(it_kafka_prod(c), 1, NULL, &md, 10000);
    cr_assert_eq(e, 0, "metadata: %s", rd_kafka_err2str(e));
    const struct rd_kafka_metadata_topic *t = find_topic(md, c->topic[topic]);
    bool exists = t && t->err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    rd_kafka_metadata_destroy(md);
    return exists;
}

void it_delete_topic(it_ctx *c, int topic) {
    rd_kafka_t *rk = it_kafka_prod(c);
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(c->topic[topic]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    cr_assert_not_null(ev, "DeleteTopics %s: no answer within 30 s",
                       c->topic[topic]);
    const rd_kafka_DeleteTopics_result_t *res =
        rd_kafka_event_DeleteTopics_result(ev);
    cr_assert_not_null(res, "DeleteTopics: %s",
                       rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_DeleteTopics_result_topics(res, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(rd_kafka_topic_result_error(tr[0]), 0, "cannot delete %s: %s",
                 c->topic[topic], rd_kafka_topic_result_error_string(tr[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy(dt);
    /* The deletion reaches every broker's metadata a moment later. */
    double end = it_now() + 30;
    while (it_topic_exists(c, topic)) {
        cr_assert(it_now() < end, "%s is still listed 30 s after its deletion",
                  c->topic[topic]);
        it_sleep(0.1);
    }
}

void it_topic_configure(it_ctx *c, int topic, const char *const *kv) {
    rd_kafka_t *rk = it_kafka_prod(c);
    rd_kafka_ConfigResource_t *cr =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, c->topic[topic]);
    for (size_t i = 0; kv[i] && kv[i + 1]; i += 2)
        cr_assert_eq(rd_kafka_ConfigResource_set_config(cr, kv[i], kv[i + 1]),
                     0);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AlterConfigs(rk, &cr, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    cr_assert_not_null(ev, "AlterConfigs %s: no answer within 30 s",
                       c->topic[topic]);
    cr_assert_eq(rd_kafka_event_error(ev), 0, "AlterConfigs %s: %s",
                 c->topic[topic], rd_kafka_event_error_string(ev));
    const rd_kafka_AlterConfigs_result_t *res =
        rd_kafka_event_AlterConfigs_result(ev);
    size_t n = 0;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_AlterConfigs_result_resources(res, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(rd_kafka_ConfigResource_error(rs[0]), 0, "AlterConfigs %s: %s",
                 c->topic[topic], rd_kafka_ConfigResource_error_string(rs[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(cr);
}

bool it_leaders(it_ctx *c, int topic, int32_t leaders[IT_PARTITIONS]) {
    const struct rd_kafka_metadata *md = NULL;
    for (int p = 0; p < IT_PARTITIONS; p++)
        leaders[p] = -1;
    if (rd_kafka_metadata(it_kafka_prod(c), 1, NULL, &md, 5000) != 0)
        return false;
    const struct rd_kafka_metadata_topic *t = find_topic(md, c->topic[topic]);
    bool ok = t && t->err == 0 && t->partition_cnt == IT_PARTITIONS;
    for (int i = 0; ok && i < t->partition_cnt; i++) {
        int32_t p = t->partitions[i].id;
        if (p >= 0 && p < IT_PARTITIONS && !t->partitions[i].err)
            leaders[p] = t->partitions[i].leader;
    }
    rd_kafka_metadata_destroy(md);
    return ok;
}

/* ---------------------------------------------------------------- offsets */

static void end_offsets(it_ctx *c, int topic, int64_t *hi) {
    for (int p = 0; p < IT_PARTITIONS; p++) {
        int64_t lo = 0;
        hi[p] = -1;
        for (int attempt = 0; attempt < 20; attempt++) {
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                it_kafka_prod(c), c->topic[topic], p, &lo, &hi[p], 5000);
            if (!e)
                break;
            hi[p] = -1;
            it_sleep(0.5);
        }
        cr_assert_geq(hi[p], 0, "cannot read the end offsets of %s [%d]",
                      c->topic[topic], p);
    }
}

int64_t it_topic_end(it_ctx *c, int topic) {
    int64_t hi[IT_PARTITIONS], sum = 0;
    end_offsets(c, topic, hi);
    for (int p = 0; p < IT_PARTITIONS; p++)
        sum += hi[p];
    return sum;
}

bool it_wait_committed(it_ctx *c, int topic, double timeout_s) {
    int64_t hi[IT_PARTITIONS];
    end_offsets(c, topic, hi);
    double end = it_now() + timeout_s;
    for (;;) {
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(IT_PARTITIONS);
        for (int p = 0; p < IT_PARTITIONS; p++)
            if (hi[p] > 0)
                rd_kafka_topic_partition_list_add(l, c->topic[topic], p);
        bool done = true;
        if (l->cnt > 0) {
            rd_kafka_resp_err_t e =
                rd_kafka_committed(it_kafka_offs(c), l, 5000);
            for (int j = 0; j < l->cnt; j++) {
                const rd_kafka_topic_partition_t *tp = &l->elems[j];
                if (e || tp->err || tp->offset < hi[tp->partition])
                    done = false;
            }
        }
        rd_kafka_topic_partition_list_destroy(l);
        if (done)
            return true;
        if (it_now() > end)
            return false;
        it_sleep(0.05);
    }
}

/* ---------------------------------------------------------------- records */

void it_produce_raw(it_ctx *c, const char *topic, const void *key,
                    size_t key_len, const void *val, size_t val_len,
                    int32_t *partition, int64_t *offset) {
    /* A producer of its own, to learn the record's partition and offset
     * from its delivery report. */
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, it_kafka_quiet_log);
    rd_kafka_conf_set(conf, "bootstrap.servers", c->bootstrap, err,
                      sizeof(err));
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
    rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_DR);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    cr_assert_not_null(rk, "%s", err);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, key_len),
        RD_KAFKA_V_VALUE((void *)val, val_len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    cr_assert_eq(e, 0, "produce to %s: %s", topic, rd_kafka_err2str(e));
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(rk);
    bool got = false;
    double end = it_now() + 60;
    while (!got && it_now() < end) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 500);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_DR) {
            const rd_kafka_message_t *m;
            while ((m = rd_kafka_event_message_next(ev)) != NULL) {
                cr_assert_eq(m->err, 0, "delivery to %s failed: %s", topic,
                             rd_kafka_err2str(m->err));
                if (partition)
                    *partition = m->partition;
                if (offset)
                    *offset = m->offset;
                got = true;
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    cr_assert(got, "no delivery report from %s within 60 s", topic);
}

/* ---------------------------------------------------------------- read */

size_t it_read_topic(it_ctx *c, int topic, size_t want, double idle_s,
                     it_msg **out) {
    rd_kafka_t *rk = it_kafka_new(RD_KAFKA_CONSUMER, c->bootstrap, NULL);
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(IT_PARTITIONS);
    for (int p = 0; p < IT_PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(l, c->topic[topic], p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    cr_assert_eq(rd_kafka_assign(rk, l), 0);
    rd_kafka_topic_partition_list_destroy(l);
    size_t n = 0, cap = 16;
    it_msg *v = calloc(cap, sizeof(*v));
    bool eof[IT_PARTITIONS] = {false};
    double last = it_now();
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (m->partition >= 0 && m->partition < IT_PARTITIONS)
                    eof[m->partition] = true;
            } else if (!m->err) {
                if (n == cap) {
                    cap *= 2;
                    v = realloc(v, cap * sizeof(*v));
                }
                it_msg *x = &v[n++];
                memset(x, 0, sizeof(*x));
                x->partition = m->partition;
                x->offset = m->offset;
                x->key = calloc(1, m->key_len + 1);
                if (m->key_len) /* an empty key may be NULL */
                    memcpy(x->key, m->key, m->key_len);
                x->key_len = m->key_len;
                x->val = calloc(1, m->len + 1);
                if (m->len)
                    memcpy(x->val, m->payload, m->len);
                x->val_len = m->len;
                rd_kafka_headers_t *hs = NULL;
                if (rd_kafka_message_headers(m, &hs) == 0) {
                    const char *name;
                    const void *val;
                    size_t sz;
                    for (size_t i = 0;
                         x->n_h < 8 &&
                         rd_kafka_header_get_all(hs, i, &name, &val, &sz) == 0;
                         i++) {
                        x->h[x->n_h].name = strdup(name);
                        x->h[x->n_h].value = calloc(1, sz + 1);
                        if (val && sz)
                            memcpy(x->h[x->n_h].value, val, sz);
                        x->n_h++;
                    }
                }
                if (m->partition >= 0 && m->partition < IT_PARTITIONS)
                    eof[m->partition] = false;
            }
            rd_kafka_message_destroy(m);
            last = it_now();
        }
        if (want && n >= want)
            break;
        bool all = true;
        for (int p = 0; p < IT_PARTITIONS; p++)
            all = all && eof[p];
        if (all && it_now() - last >= idle_s)
            break;
        if (it_now() - last >= idle_s + 30)
            break; /* no EOF at all: give up */
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    *out = v;
    return n;
}

void it_msgs_free(it_msg *m, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].val);
        for (int j = 0; j < m[i].n_h; j++) {
            free(m[i].h[j].name);
            free(m[i].h[j].value);
        }
    }
    free(m);
}

const char *it_header_get(const it_msg *m, const char *name) {
    for (int j = 0; j < m->n_h; j++)
        if (strcmp(m->h[j].name, name) == 0)
            return m->h[j].value;
    return NULL;
}
