/*
 * test_leader_change.c - partition leaders that move while `repute run`
 * works: the status topic must still hold exactly what `repute replay` of
 * the same records publishes.
 *
 * It needs two brokers, so it runs a KRaft cluster of its own
 * (it_cluster: node 1 broker and controller on 19192/19193, node 2 a
 * broker on 19194), away from the shared broker on 9092 that the other
 * tests use. Every topic has two replicas, and the preferred leader of
 * partitions 0 and 2 is node 2, of 1 and 3 node 1; the internal topics
 * (group offsets, transaction state) have two replicas too, so their
 * coordinators move with them.
 *
 * In the middle of a live stream node 2 is stopped cleanly: a clean
 * shutdown hands its leaders to node 1 first (controlled shutdown), so
 * every partition, and the group and transaction coordinators it held,
 * change leader under the running processor. Some segments later node 2
 * is started again and the controller's preferred-leader election
 * (auto.leader.rebalance.enable, checked every 2 s here) moves the
 * leaders back: a second change. The test asserts both changes in the
 * metadata, so that it cannot pass without them.
 */
#include <stdio.h>
#include <string.h>

#include "support.h"

TestSuite(leader_change, .fini = it_fini, .timeout = 400);

#define BASE_PORT 19192

/* Properties of both nodes: two replicas of everything, a partition may
 * be written with one in sync (while node 2 is down), and a quick
 * preferred-leader election once node 2 is back. */
static const char *CLUSTER_PROPS =
    "default.replication.factor=2\n"
    "min.insync.replicas=1\n"
    "offsets.topic.replication.factor=2\n"
    "transaction.state.log.replication.factor=2\n"
    "transaction.state.log.min.isr=1\n"
    "auto.leader.rebalance.enable=true\n"
    "leader.imbalance.check.interval.seconds=2\n"
    "leader.imbalance.per.broker.percentage=0\n";

/* The topics whose leaders the test follows: the five inputs, the status
 * topic and the changelog. */
static const int FOLLOWED[] = {IT_DELIVERIES, IT_BOUNCES, IT_COMPLAINTS,
                               IT_REPORTS,    IT_ACTIONS, IT_STATUS,
                               IT_CHANGELOG};
#define N_FOLLOWED (sizeof(FOLLOWED) / sizeof(FOLLOWED[0]))

/* True when every followed partition is led by `only` (when > 0), or by
 * its preferred leader (when 0: partition p by node p % 2 + 1). */
static bool leaders_are(it_ctx *c, int only) {
    for (size_t i = 0; i < N_FOLLOWED; i++) {
        int32_t l[IT_PARTITIONS];
        if (!it_leaders(c, FOLLOWED[i], l))
            return false;
        for (int p = 0; p < IT_PARTITIONS; p++)
            if (l[p] != (only > 0 ? only : p % 2 + 1))
                return false;
    }
    return true;
}

static double wait_leaders(it_ctx *c, int only, double timeout_s,
                           const char *what) {
    double t0 = it_now();
    while (!leaders_are(c, only)) {
        cr_assert(it_now() - t0 < timeout_s,
                  "%s: the leaders did not move within %.0f s", what,
                  timeout_s);
        it_sleep(0.2);
    }
    return it_now() - t0;
}

typedef struct moves {
    it_cluster *k;
    it_proc *run;
    size_t stop_at, start_at; /* segments before which node 2 goes, comes */
    int done;
} moves;

static void move_leaders(it_ctx *c, size_t segment, size_t from, void *arg) {
    moves *m = arg;
    (void)from;
    if (segment != m->stop_at && segment != m->start_at)
        return;
    cr_assert(it_alive(m->run), "repute run exited (status %d; log %s)",
              m->run->status, m->run->err);
    /* Stopping node 2 leaves node 1 leading everything; starting it again
     * gives each partition back its preferred leader. */
    bool stop = segment == m->stop_at;
    if (stop)
        it_cluster_stop(m->k, 2);
    else
        it_cluster_start(m->k, 2);
    double t = wait_leaders(c, stop ? 1 : 0, stop ? 30 : 60,
                            stop ? "node 2 stopped" : "node 2 back");
    fprintf(stderr, "[%s] segment %zu: node 2 %s, %s (%.1f s later)\n", c->name,
            segment, stop ? "stopped" : "back",
            stop ? "node 1 leads every partition"
                 : "preferred leaders restored",
            t);
    m->done++;
}

Test(leader_change, leaders_move_mid_stream) {
    it_cluster k;
    it_cluster_init(&k, 2, BASE_PORT, CLUSTER_PROPS);
    it_cluster_start(&k, 1);
    it_cluster_start(&k, 2);

    it_ctx c;
    it_data d;
    it_init_replicated(&c, "leader-change", k.bootstrap, 2);
    /* Before anything moves, each partition has its preferred leader:
     * node 2 leads half of them. */
    wait_leaders(&c, 0, 30, "new topics");
    it_gen(&d, 11, 1);
    it_expected(&c, &d);
    size_t a = it_split(&d, 0.3);
    it_produce(&c, &d, 0, a);

    moves m = {.k = &k, .run = it_start_run(&c, NULL)};
    size_t n_seg = 0;
    for (size_t i = a; i < d.n; i = it_segment_end(&d, i))
        n_seg++;
    m.stop_at = n_seg / 4;
    m.start_at = n_seg / 2;
    it_produce_live(&c, &d, a, d.n, move_leaders, &m);
    cr_assert_eq(m.done, 2, "the leaders were moved %d times, not twice",
                 m.done);

    it_check_output(&c, 120);
    cr_assert(it_alive(m.run),
              "repute run exited after the leader changes (status %d; log %s)",
              m.run->status, m.run->err);
    it_stop_run(m.run);
    it_assert_clean_log(m.run);
    it_data_free(&d);
    it_done(&c);
    it_cluster_stop_all(&k);
}
