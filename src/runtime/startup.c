/*
 * startup.c - what `repute run` checks and builds before its loop starts:
 * the Kafka clients and their callbacks, the topics, and the embedded
 * broker of --embedded.
 *
 * These are the calls allowed to block the loop thread, each bounded
 * (metadata, topic creation, a committed-offsets read; init_transactions
 * in processor.c): nothing is running yet that could wait. A signal must
 * still stop repute here, at once (docs/run.md, "Signals"), and librdkafka
 * cannot interrupt a call that waits: so each wait is cut into slices of
 * at most SLICE_MS, and rp_stop_signal() is looked at between two. A
 * stopped wait returns RD_KAFKA_RESP_ERR__INTR and logs nothing; the
 * caller sees rp_stop_signal() and stops. p->doing names the wait, for
 * the log line that says where repute stopped.
 *
 * The topic check refuses to start over a lost changelog (changelog_lost:
 * a missing changelog topic while the group has committed offsets on its
 * inputs), then creates the topics (topics.create) and checks that the
 * five inputs, the changelog and topic.current are co-partitioned, and
 * that topic.current is compacted (current.c).
 *
 * The clients' callbacks may run on librdkafka's threads (a delivery
 * report inside a commit on the worker, an error from any thread): they
 * only set the processor's atomic flags and wake the loop, which acts on
 * them.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

#include "repute/config.h"
#include "repute/kafka.h"
#include "repute/log.h"
#include "repute/stop.h"

#include "runtime/proc.h"

/* The longest one librdkafka call of start-up blocks; a slow answer gets
 * slices that double up to SLICE_MAX_MS, since each slice that times out
 * sends its request again. */
#define SLICE_MS     250
#define SLICE_MAX_MS 2000

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One wait of start-up, cut into slices: its end, the next slice, and
 * when the last call began. */
typedef struct slicer {
    uint64_t end, began;
    int slice;
} slicer;

static void slicer_init(slicer *w, int timeout_ms) {
    w->end = mono_ms() + (uint64_t)timeout_ms;
    w->began = 0;
    w->slice = SLICE_MS;
}

/* The next slice in ms, or 0 when the wait is over or a stop was asked
 * for. slow: the last call timed out waiting for an answer, which the
 * next gets longer for (a call repeated sends its request again). A call
 * that failed at once (no broker to ask) is not repeated before a pause. */
static int slicer_next(slicer *w, bool slow) {
    if (w->began && mono_ms() - w->began < 50 && rp_stop_wait(100))
        return 0;
    uint64_t now = mono_ms();
    if (rp_stop_signal() || now >= w->end)
        return 0;
    if (slow && w->slice < SLICE_MAX_MS)
        w->slice *= 2;
    w->began = now;
    return (uint64_t)w->slice < w->end - now ? w->slice : (int)(w->end - now);
}

/* A call that may be asked again: no broker to ask yet, or no answer. */
static bool again(rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR__TRANSPORT ||
           e == RD_KAFKA_RESP_ERR__TIMED_OUT;
}

rd_kafka_resp_err_t rp_startup_metadata(rd_kafka_t *rk,
                                        const struct rd_kafka_metadata **md,
                                        int timeout_ms) {
    slicer w;
    slicer_init(&w, timeout_ms);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (int ms = slicer_next(&w, false); ms > 0;
         ms = slicer_next(&w, e == RD_KAFKA_RESP_ERR__TIMED_OUT))
        if (!again(e = rd_kafka_metadata(rk, 1, NULL, md, ms)))
            return e;
    return rp_stop_signal() ? RD_KAFKA_RESP_ERR__INTR : e;
}

/* rd_kafka_query_watermark_offsets in slices (see above). */
static rd_kafka_resp_err_t watermarks(rd_kafka_t *rk, const char *topic,
                                      int32_t part, int64_t *lo, int64_t *hi,
                                      int timeout_ms) {
    slicer w;
    slicer_init(&w, timeout_ms);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (int ms = slicer_next(&w, false); ms > 0;
         ms = slicer_next(&w, e == RD_KAFKA_RESP_ERR__TIMED_OUT))
        if (!again(e = rd_kafka_query_watermark_offsets(rk, topic, part, lo, hi,
                                                        ms)))
            return e;
    return rp_stop_signal() ? RD_KAFKA_RESP_ERR__INTR : e;
}

rd_kafka_error_t *rp_startup_init_transactions(rd_kafka_t *rk, int timeout_ms) {
    slicer w;
    slicer_init(&w, timeout_ms);
    rd_kafka_error_t *e = NULL;
    /* Resumable: a call after a timeout goes on with the work of the one
     * before (rdkafka.h), so a slice sends nothing twice, and the slices
     * need not grow. Any error but a fatal one is asked again too, until
     * the deadline (the coordinator still loading after a leader change,
     * or the transaction of a fenced predecessor still being aborted:
     * CONCURRENT_TRANSACTIONS, which librdkafka 2.0.2 does not flag as
     * retriable): one long call would have waited those out inside
     * librdkafka, but a short one sees them come back. */
    for (int ms = slicer_next(&w, false); ms > 0; ms = slicer_next(&w, false)) {
        if (e)
            rd_kafka_error_destroy(e);
        e = rd_kafka_init_transactions(rk, ms);
        if (!e || rd_kafka_error_is_fatal(e))
            return e;
    }
    if (rp_stop_signal()) {
        if (e)
            rd_kafka_error_destroy(e);
        return rd_kafka_error_new(RD_KAFKA_RESP_ERR__INTR, "stopped");
    }
    return e;
}

/* ---------------------------------------------------------------- start-up */

static void producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                           void *opaque) {
    (void)rk;
    proc *p = opaque;
    if (p->fatal && (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                     m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT))
        return; /* the abort at exit after a fatal error, logged already */
    if (m->err) {
        rp_log_error("run: delivery to %s failed: %s",
                     rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        /* What this transaction (or, at least once, this commit interval)
         * holds is incomplete: it must not be committed. */
        atomic_store(&p->txn_failed, true);
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque) {
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512], tid[256] = "";
        size_t tid_size = sizeof(tid);
        rd_kafka_resp_err_t code = rd_kafka_fatal_error(rk, why, sizeof(why));
        if (code == RD_KAFKA_RESP_ERR__FENCED ||
            code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
            code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
            /* Fencing is an operator's mistake (or a deliberate takeover),
             * not a broker fault: say so, and what happens next. */
            rd_kafka_conf_get(rd_kafka_conf(rk), "transactional.id", tid,
                              &tid_size);
            rp_log_error("run: fenced: another instance with the same "
                         "transactional.id (%s) has started, and only the "
                         "newest may write; this one stops (exit status 1) "
                         "and what it had not committed is redone by the "
                         "new one (%s)",
                         tid, why);
        } else {
            rp_log_error("run: fatal error from %s: %s", rd_kafka_name(rk),
                         why);
        }
        /* This may run on any thread: the loop acts on it. */
        proc *p = opaque;
        atomic_store(&p->fatal_async, true);
        if (atomic_load(&p->wake_ready))
            uv_async_send(&p->wake);
        return;
    }
    rp_log_warn("run: %s: %s", rd_kafka_name(rk), reason);
}

/* How many of the partitions in `l` the group has committed offsets for,
 * or -1 (logged at debug) when the broker does not say. It asks with a
 * consumer of the group that never joins it (rd_kafka_committed): the
 * admin API's ListConsumerGroupOffsets crashes librdkafka 2.0.2 when the
 * group coordinator is not available yet (a new cluster without
 * __consumer_offsets). */
static int group_committed(proc *p, rd_kafka_topic_partition_list_t *l) {
    char err[512];
    rd_kafka_conf_t *conf =
        rp_kafka_conf_new(p->cfg, RP_KAFKA_CONSUMER, err, sizeof(err));
    rd_kafka_t *rk =
        conf ? rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)) : NULL;
    if (!rk) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        rp_log_debug("run: cannot read the committed offsets: %s", err);
        return -1;
    }
    slicer w;
    slicer_init(&w, 15000);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (int ms = slicer_next(&w, false); ms > 0;
         ms = slicer_next(&w, e == RD_KAFKA_RESP_ERR__TIMED_OUT))
        if (!again(e = rd_kafka_committed(rk, l, ms)))
            break;
    int n = -1;
    if (rp_stop_signal()) {
        n = -2;
    } else if (e) {
        rp_log_debug("run: cannot read the committed offsets of group %s: %s",
                     p->cfg->group_id, rd_kafka_err2str(e));
    } else {
        n = 0;
        for (int i = 0; i < l->cnt; i++)
            if (!l->elems[i].err && l->elems[i].offset >= 0)
                n++;
    }
    rd_kafka_destroy(rk);
    return n;
}

/*
 * Refuses to start over a lost changelog: when the changelog topic does
 * not exist while the group has committed offsets on its inputs, the
 * state those offsets stand on is gone, and starting (and creating an
 * empty changelog) would apply the rest of the stream to accounts that
 * start from nothing: wrong statuses, sequences back at 1. Returns true
 * (logged) when repute must not start, or (not logged) when a signal
 * stopped it.
 *
 * A changelog that exists but is empty (every partition's high watermark
 * 0) is only warned about: a group whose every record so far went to the
 * DLQ, or changed no account, has committed offsets and, rightly, no
 * state, and the broker cannot tell that apart from a topic deleted and
 * re-created empty. A deleted topic is the common accident, and the one
 * refused.
 */
static bool changelog_lost(proc *p, rd_kafka_t *rk) {
    const rp_config *c = p->cfg;
    const char *cl = c->topic[RP_TOPIC_CHANGELOG];
    const struct rd_kafka_metadata *md = NULL;
    /* Every topic (not just ours): a request naming a missing topic could
     * make a broker with auto.create.topics.enable create it. */
    p->doing = "reading the cluster's metadata";
    rd_kafka_resp_err_t e = rp_startup_metadata(rk, &md, 10000);
    if (e == RD_KAFKA_RESP_ERR__INTR)
        return true;
    if (e)
        return false; /* rp_startup_check_topics says why */
    int32_t cl_parts = -1;
    rd_kafka_topic_partition_list_t *in = rd_kafka_topic_partition_list_new(16);
    for (int j = 0; j < md->topic_cnt; j++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[j];
        if (t->err)
            continue;
        if (strcmp(t->topic, cl) == 0)
            cl_parts = t->partition_cnt;
        if (rp_topic_index(p, t->topic) >= 0)
            for (int i = 0; i < t->partition_cnt; i++)
                rd_kafka_topic_partition_list_add(in, t->topic,
                                                  t->partitions[i].id);
    }
    rd_kafka_metadata_destroy(md);
    /* The committed offsets take a client of their own: read them only
     * when the changelog is missing or empty, not on every start. */
    p->doing = "checking the changelog";
    bool empty = true;
    for (int32_t i = 0; i < cl_parts && empty; i++) {
        int64_t lo = 0, hi = 0;
        if (watermarks(rk, cl, i, &lo, &hi, 5000) != 0 || hi > 0)
            empty = false;
    }
    int committed =
        empty && in->cnt > 0 && !rp_stop_signal() ? group_committed(p, in) : 0;
    rd_kafka_topic_partition_list_destroy(in);
    if (rp_stop_signal())
        return true;
    if (cl_parts < 0 && committed < 0) {
        rp_log_error("run: the changelog topic %s does not exist, and the "
                     "committed offsets of group %s cannot be read to tell "
                     "a first start from a lost changelog; not starting "
                     "(try again when the group coordinator answers)",
                     cl, c->group_id);
        return true;
    }
    if (committed <= 0)
        return false;
    if (cl_parts < 0) {
        rp_log_error(
            "run: the changelog topic %s does not exist, but group %s has "
            "committed offsets on %d input partitions: the accounts' state "
            "is lost, and starting from an empty state would publish wrong "
            "statuses. Not starting. Either restore %s with its records, or "
            "rebuild the state from the input topics: reset the group's "
            "offsets (kafka-consumer-groups.sh --group %s --reset-offsets "
            "--to-earliest --all-topics --execute, or delete the group), "
            "then start repute, which republishes every event",
            cl, c->group_id, committed, cl, c->group_id);
        return true;
    }
    rp_log_warn("run: the changelog topic %s is empty, but group %s has "
                "committed offsets on %d input partitions: starting from an "
                "empty state. That is right only if no record so far changed "
                "an account (all went to the DLQ, say); if the topic was "
                "deleted and re-created, stop repute and reset the group's "
                "offsets (docs/run.md)",
                cl, c->group_id, committed);
    return false;
}

/* topics.create: asks for every topic (the changelog and topic.current
 * compacted) and logs what was created and what could not be; a topic
 * that already exists is no error. A failure is only logged, since the
 * check that follows says what is missing. The request is polled in
 * slices, so that a signal is seen (rd_kafka_destroy cancels the request
 * left in flight); the caller looks at rp_stop_signal() after. */
static void create_topics(proc *p, rd_kafka_t *rk) {
    const rp_config *c = p->cfg;
    p->doing = "creating the topics";
    rd_kafka_NewTopic_t *nt[RP_TOPIC__COUNT];
    char err[256];
    for (int i = 0; i < RP_TOPIC__COUNT; i++) {
        nt[i] = rd_kafka_NewTopic_new(c->topic[i], c->topic_partitions, -1, err,
                                      sizeof(err));
        if (i == RP_TOPIC_CHANGELOG || i == RP_TOPIC_CURRENT)
            rd_kafka_NewTopic_set_config(nt[i], "cleanup.policy", "compact");
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, RP_TOPIC__COUNT, NULL, q);
    rd_kafka_event_t *ev = NULL;
    for (int waited = 0; !ev && waited < 30000 && !rp_stop_signal();
         waited += SLICE_MS)
        ev = rd_kafka_queue_poll(q, SLICE_MS);
    const rd_kafka_CreateTopics_result_t *res =
        ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    size_t n = 0;
    const rd_kafka_topic_result_t **tr =
        res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            rp_log_info("run: created topic %s",
                        rd_kafka_topic_result_name(tr[i]));
        else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            rp_log_warn("run: cannot create topic %s: %s",
                        rd_kafka_topic_result_name(tr[i]),
                        rd_kafka_topic_result_error_string(tr[i]));
    }
    if (!ev && !rp_stop_signal())
        rp_log_warn("run: topic creation timed out");
    else
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    for (int i = 0; i < RP_TOPIC__COUNT; i++)
        rd_kafka_NewTopic_destroy(nt[i]);
}

/* Fills counts with each topic's partition count from the cluster's
 * metadata (-1: missing). Freshly created topics take a moment to appear
 * everywhere, so while one is missing the metadata is read again, 20
 * times at the most, 250 ms apart. Returns 0, or -1 on a metadata error
 * (logged) or a stop. */
static int topic_counts(proc *p, rd_kafka_t *rk,
                        int32_t counts[RP_TOPIC__COUNT]) {
    const rp_config *c = p->cfg;
    p->doing = "checking the topics";
    const struct rd_kafka_metadata *md = NULL;
    for (int attempt = 0;; attempt++) {
        rd_kafka_resp_err_t e = rp_startup_metadata(rk, &md, 10000);
        if (e) {
            if (e != RD_KAFKA_RESP_ERR__INTR)
                rp_log_error("run: cannot read the cluster's metadata: %s",
                             rd_kafka_err2str(e));
            return -1;
        }
        bool all = true;
        for (int i = 0; i < RP_TOPIC__COUNT; i++) {
            counts[i] = -1;
            for (int j = 0; j < md->topic_cnt; j++)
                if (strcmp(md->topics[j].topic, c->topic[i]) == 0 &&
                    md->topics[j].err == 0)
                    counts[i] = md->topics[j].partition_cnt;
            if (counts[i] < 0)
                all = false;
        }
        rd_kafka_metadata_destroy(md);
        if (all || attempt >= 20)
            return 0;
        if (rp_stop_wait(250))
            return -1;
    }
}

/* Whether every topic exists and the five inputs, the changelog and
 * topic.current have the same partition count (co-partitioned: a task's
 * partition of each holds the same accounts); if not, logs why, listing
 * the counts. */
static bool topics_fit(const rp_config *c, const int32_t *counts) {
    char list[1024];
    size_t off = 0;
    bool same = true, missing = false;
    int inputs[] = {RP_TOPIC_DELIVERIES, RP_TOPIC_BOUNCES, RP_TOPIC_COMPLAINTS,
                    RP_TOPIC_REPORTS,    RP_TOPIC_ACTIONS, RP_TOPIC_CHANGELOG,
                    RP_TOPIC_CURRENT};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        int k = inputs[i];
        if (counts[k] != counts[inputs[0]])
            same = false;
        if (counts[k] < 0)
            missing = true;
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s=%d",
                                i ? ", " : "", c->topic[k], (int)counts[k]);
        if (off >= sizeof(list))
            off = sizeof(list) - 1;
    }
    for (int k = RP_TOPIC_STATUS; k <= RP_TOPIC_DLQ; k++)
        if (counts[k] < 0)
            missing = true;
    if (missing) {
        rp_log_error("run: topics are missing (-1 partitions): %s, %s=%d, "
                     "%s=%d; create them or set topics.create=true",
                     list, c->topic[RP_TOPIC_STATUS],
                     (int)counts[RP_TOPIC_STATUS], c->topic[RP_TOPIC_DLQ],
                     (int)counts[RP_TOPIC_DLQ]);
        return false;
    }
    if (!same) {
        rp_log_error("run: the input topics, the changelog and the current "
                     "topic must have the same number of partitions "
                     "(co-partitioned), but: %s",
                     list);
        return false;
    }
    return true;
}

/* Creates the topics (topics.create) and checks that the five inputs and
 * the changelog are co-partitioned. Returns the partition count, or -1
 * with the reason logged. The changelog is checked before anything is
 * created (changelog_lost). */
int32_t rp_startup_check_topics(proc *p, rd_kafka_t *rk) {
    if (changelog_lost(p, rk))
        return -1;
    if (p->cfg->topics_create) {
        create_topics(p, rk);
        if (rp_stop_signal())
            return -1;
    }
    int32_t counts[RP_TOPIC__COUNT];
    if (topic_counts(p, rk, counts) != 0 || !topics_fit(p->cfg, counts))
        return -1;
    if (rp_current_check_policy(p, rk) != 0)
        return -1;
    return counts[RP_TOPIC_DELIVERIES];
}

int rp_startup_embedded(proc *p) {
    char err[512];
    /* librdkafka's own calls, each in-process and bounded: a signal is
     * looked at between them (the caller stops on rp_stop_signal). */
    p->doing = "starting the embedded broker";
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, rp_kafka_log_cb);
    /* This client only hosts the mock cluster and never connects. */
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    p->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!p->mock_rk) {
        rp_log_error("run: embedded broker: %s", err);
        return -1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(p->mock_rk, 1);
    p->mock = mc;
    if (!mc) {
        rp_log_error("run: cannot start the embedded broker");
        return -1;
    }
    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    for (int i = 0; i < RP_TOPIC__COUNT && !rp_stop_signal(); i++)
        rd_kafka_mock_topic_create(mc, p->cfg->topic[i],
                                   p->cfg->topic_partitions, 1);
    if (rp_stop_signal())
        return -1;
    if (rp_config_set(p->cfg, "kafka.bootstrap.servers", bs, err,
                      sizeof(err)) != 0) {
        rp_log_error("run: %s", err);
        return -1;
    }
    p->cfg->topics_create = false;
    printf("bootstrap.servers=%s\n", bs);
    fflush(stdout);
    rp_log_info("run: embedded broker (librdkafka mock cluster) at %s; it "
                "does not implement transaction isolation, so exactly-once "
                "holds only against a real broker",
                bs);
    return 0;
}

rd_kafka_t *rp_startup_client(proc *p, rp_kafka_role role, rd_kafka_type_t type,
                              const char *tid) {
    char err[512];
    rd_kafka_conf_t *conf = rp_kafka_conf_new(p->cfg, role, err, sizeof(err));
    if (!conf) {
        rp_log_error("run: %s", err);
        return NULL;
    }
    if (tid && rp_kafka_conf_set(conf, "transactional.id", tid, err,
                                 sizeof(err)) != 0) {
        rp_log_error("run: %s", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    if (role == RP_KAFKA_CONSUMER)
        rd_kafka_conf_set_rebalance_cb(conf, rp_assign_rebalance_cb);
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk) {
        rp_log_error("run: %s", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}
