/*
 * current.c - topic.current at start-up: its cleanup policy, checked
 * before the loop starts (rp_current_check_policy).
 *
 * topic.current is a table, not a log: a gateway reads it from the
 * beginning and must find every account that needs attention
 * (docs/current.md). Only cleanup.policy=compact keeps that true: under
 * delete (the broker's default), a paused account whose last state is
 * older than retention.ms silently vanishes from the table, and under
 * "compact,delete" too. So `repute run` refuses to start when the topic
 * exists with another policy, and says how to fix it. The check is one
 * DescribeConfigs request, waited for in slices so that a signal still
 * stops repute at once. When the broker does not answer it (no
 * DescribeConfigs permission, a timeout), repute warns and starts: it
 * cannot tell, and refusing would make a permission a new way not to
 * start. The embedded broker is not asked (repute created the topic).
 *
 * `repute run --rebuild-current` (rp_current_rebuild) writes, right after
 * each partition's restore, the state of every account the partition's
 * engine holds (rp_engine_foreach_current, the same state as the status
 * changes give): the AccountState of each account that is not HEALTHY or
 * has a tenant that is not, and a tombstone for each other, into the open
 * transaction, so that the snapshot commits with the first input the
 * partition processes (or with the next commit, if none comes). That
 * repairs a topic that was deleted, created late, or written by a version
 * before topic.current existed. It cannot delete keys of accounts the
 * engine does not hold at all; those would have been written by this
 * engine, so there are none unless the topic was shared or the state
 * lost.
 *
 * The records of every status change are written by output.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "repute/log.h"
#include "repute/stop.h"

#include "runtime/proc.h"

#define SLICE_MS   250
#define TIMEOUT_MS 10000

/* The value of cleanup.policy in a DescribeConfigs result into buf (""
 * when the broker did not say). Returns 0, or -1 when the request failed
 * (the reason into why). */
static int read_policy(rd_kafka_event_t *ev, char *buf, size_t size, char *why,
                       size_t why_size) {
    buf[0] = '\0';
    if (rd_kafka_event_error(ev)) {
        snprintf(why, why_size, "%s", rd_kafka_event_error_string(ev));
        return -1;
    }
    const rd_kafka_DescribeConfigs_result_t *res =
        rd_kafka_event_DescribeConfigs_result(ev);
    size_t n = 0;
    const rd_kafka_ConfigResource_t **rs =
        res ? rd_kafka_DescribeConfigs_result_resources(res, &n) : NULL;
    if (n != 1) {
        snprintf(why, why_size, "no answer for the topic");
        return -1;
    }
    if (rd_kafka_ConfigResource_error(rs[0])) {
        snprintf(why, why_size, "%s",
                 rd_kafka_ConfigResource_error_string(rs[0]));
        return -1;
    }
    size_t nc = 0;
    const rd_kafka_ConfigEntry_t **es =
        rd_kafka_ConfigResource_configs(rs[0], &nc);
    for (size_t i = 0; i < nc; i++)
        if (strcmp(rd_kafka_ConfigEntry_name(es[i]), "cleanup.policy") == 0) {
            const char *v = rd_kafka_ConfigEntry_value(es[i]);
            snprintf(buf, size, "%s", v ? v : "");
        }
    return 0;
}

int rp_current_check_policy(proc *p, rd_kafka_t *rk) {
    if (p->mock)
        return 0;
    const char *topic = p->cfg->topic[RP_TOPIC_CURRENT];
    p->doing = "checking the cleanup policy of the current topic";
    rd_kafka_ConfigResource_t *cr =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &cr, 1, NULL, q);
    rd_kafka_event_t *ev = NULL;
    for (int waited = 0; !ev && waited < TIMEOUT_MS && !rp_stop_signal();
         waited += SLICE_MS)
        ev = rd_kafka_queue_poll(q, SLICE_MS);
    char policy[128] = "", why[512] = "timed out";
    int rc =
        ev ? read_policy(ev, policy, sizeof(policy), why, sizeof(why)) : -1;
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(cr);
    if (rp_stop_signal())
        return -1;
    if (rc != 0) {
        rp_log_warn("run: cannot read the cleanup.policy of %s (%s); "
                    "starting, but it must be compact (docs/current.md)",
                    topic, why);
        return 0;
    }
    if (strcmp(policy, "compact") == 0)
        return 0;
    rp_log_error("run: the topic %s (topic.current) has cleanup.policy=%s, "
                 "but it must be compact: a gateway reads it from the "
                 "beginning as the table of accounts that need attention, "
                 "and any other policy deletes paused accounts from it. Not "
                 "starting. Fix it with kafka-configs.sh --alter --entity-"
                 "type topics --entity-name %s --add-config "
                 "cleanup.policy=compact, or delete the topic (repute "
                 "creates it with topics.create=true) and run once with "
                 "--rebuild-current",
                 topic, policy[0] ? policy : "(none)", topic);
    return -1;
}

/* ---------------------------------------------------------------- rebuild */

typedef struct rebuild {
    lane *l;
    int64_t now;
    uint64_t states, tombstones;
} rebuild;

static int rebuild_one(void *opaque, const rp_account_state *st) {
    rebuild *r = opaque;
    if (rp_out_current(r->l, st) != 0)
        return 1; /* a fatal or abortable failure: logged, the rest moot */
    if (st->status == RP_ASTATUS_HEALTHY && !st->n_tenants)
        r->tombstones++;
    else
        r->states++;
    return 0;
}

void rp_current_rebuild(proc *p, task *t) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rebuild r = {t->lane, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, 0,
                 0};
    if (rp_engine_foreach_current(t->engine, r.now, rebuild_one, &r) ==
        RP_ENOMEM) {
        rp_log_error("run: cannot rebuild %s: %s",
                     p->cfg->topic[RP_TOPIC_CURRENT], rp_strerror(RP_ENOMEM));
        rp_loop_fail_fatal(p, "out of memory");
        return;
    }
    p->uncommitted = true;
    rp_log_info("run: partition %" PRId32 ": rebuilt %s: %" PRIu64
                " account states and %" PRIu64 " tombstones",
                t->partition, p->cfg->topic[RP_TOPIC_CURRENT], r.states,
                r.tombstones);
}
