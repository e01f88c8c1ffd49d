/*
 * cluster.c - the Kafka brokers a test starts and stops: the shared broker
 * (it_broker_script) and clusters of a test's own (it_cluster_*).
 *
 * Every broker is run by deploy/kafka-local.sh, the script a developer
 * uses by hand, so the tests exercise the same start and stop. A cluster
 * of a test's own is a set of that script's instances told apart by their
 * environment (data directory, port, cluster id, role); the caller's own
 * REPUTE_KAFKA_* settings, those of the shared broker, are kept out of
 * it. A test that fails half-way leaves brokers running, so what was
 * started is remembered here (a copy: the test's it_cluster lives on a
 * stack that is gone by then) and stopped by it_fini; the shared broker,
 * if a test stopped it, is started again there too.
 */
#include "support_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* ---------------------------------------------------------------- broker */

void it_broker_script(const char *cmd) {
    char script[IT_PATH_MAX];
    snprintf(script, sizeof(script), "%s/deploy/kafka-local.sh",
             REPUTE_SOURCE_DIR);
    const char *argv[] = {script, cmd, NULL};
    const char *dir = it_cur_ctx ? it_cur_ctx->dir : "/tmp";
    char label[64];
    snprintf(label, sizeof(label), "kafka-%s", cmd);
    if (strcmp(cmd, "stop") == 0)
        it_broker_down = true;
    it_proc *p = it_spawn(dir, label, argv, false);
    int st = it_wait(p, 150);
    if (st != 0)
        it_dump_log(p, 40);
    cr_assert_eq(st, 0, "deploy/kafka-local.sh %s: exit status %d (see %s)",
                 cmd, st, p->err);
    if (strcmp(cmd, "start") == 0)
        it_broker_down = false;
}

/* ---------------------------------------------------------------- cluster */

/* A copy of the cluster for it_fini: the test's own it_cluster is on the
 * stack of a test function that has ended when it_fini runs. */
static it_cluster g_cluster;
static bool g_cluster_set;

static void cluster_note(const it_cluster *k) {
    g_cluster = *k;
    g_cluster_set = true;
}

void it_cluster_init(it_cluster *k, int n, int base_port, const char *props) {
    cr_assert(n >= 1 && n <= IT_CLUSTER_MAX);
    memset(k, 0, sizeof(*k));
    k->n = n;
    k->base_port = base_port;
    k->props = props;
    /* A cluster id as `kafka-storage random-uuid` makes one: 16 random
     * bytes in unpadded base64url, not starting with '-'. */
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[18] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fread(raw, 1, 16, f), 16);
    fclose(f);
    raw[0] &= 0x7f; /* the first character is then A-Z, a-z or 0-9 */
    size_t o = 0;
    for (size_t i = 0; i < 18; i += 3) {
        uint32_t v =
            (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        for (int j = 3; j >= 0 && o < 22; j--)
            k->id[o++] = b64[(v >> (6 * j)) & 63];
    }
    k->id[22] = '\0';
    snprintf(k->bootstrap, sizeof(k->bootstrap), "127.0.0.1:%d", base_port);
    cluster_note(k);
}

/* Runs deploy/kafka-local.sh CMD for one node, with the environment that
 * makes it that node: its data dir and port, the cluster id, and its role
 * (node 1 broker and controller, the others brokers of node 1's quorum). */
static int node_script(it_cluster *k, int node, const char *cmd, bool fresh) {
    char data[IT_PATH_MAX], port[64], props[4096], cid[64];
    snprintf(data, sizeof(data),
             "REPUTE_KAFKA_DATA=/tmp/repute-it-cluster-%d-%d", k->base_port,
             node);
    int nport = k->base_port + 2 * (node - 1);
    snprintf(port, sizeof(port), "REPUTE_KAFKA_PORT=%d", nport);
    snprintf(cid, sizeof(cid), "REPUTE_KAFKA_CLUSTER_ID=%s", k->id);
    int off = snprintf(props, sizeof(props), "REPUTE_KAFKA_PROPS=%s\n",
                       k->props ? k->props : "");
    if (node > 1)
        snprintf(props + off, sizeof(props) - (size_t)off,
                 "process.roles=broker\n"
                 "node.id=%d\n"
                 "listeners=PLAINTEXT://127.0.0.1:%d\n"
                 "advertised.listeners=PLAINTEXT://127.0.0.1:%d\n"
                 "controller.quorum.voters=1@127.0.0.1:%d\n",
                 node, nport, nport, k->base_port + 1);
    /* The caller's REPUTE_KAFKA_* (those of the shared broker) must not
     * leak into a node, except the jar cache. */
    const char *env[256];
    size_t n = 0;
    for (char **e = environ; *e && n < 240; e++)
        if (strncmp(*e, "REPUTE_KAFKA_", 13) != 0 ||
            strncmp(*e, "REPUTE_KAFKA_HOME=", 18) == 0)
            env[n++] = *e;
    env[n++] = data;
    env[n++] = port;
    env[n++] = cid;
    env[n++] = props;
    env[n++] = "REPUTE_KAFKA_HEAP_OPTS=-Xmx512m -Xms128m";
    if (fresh)
        env[n++] = "REPUTE_KAFKA_FRESH=1";
    env[n] = NULL;
    char script[IT_PATH_MAX], label[64];
    snprintf(script, sizeof(script), "%s/deploy/kafka-local.sh",
             REPUTE_SOURCE_DIR);
    snprintf(label, sizeof(label), "node%d-%s", node, cmd);
    const char *argv[] = {script, cmd, NULL};
    if (!it_cur_ctx)
        it_mkdir_p(IT_WORK_DIR);
    it_proc *p = it_spawn_env(it_cur_ctx ? it_cur_ctx->dir : IT_WORK_DIR, label,
                              argv, false, (char *const *)env);
    int st = it_wait(p, 150);
    if (st != 0)
        it_dump_log(p, 40);
    return st;
}

void it_cluster_start(it_cluster *k, int node) {
    double t0 = it_now();
    int st = node_script(k, node, "start", !k->started[node]);
    cr_assert_eq(st, 0, "kafka node %d did not start (status %d)", node, st);
    k->started[node] = k->up[node] = true;
    cluster_note(k);
    fprintf(stderr, "[cluster] node %d up in %.1f s\n", node, it_now() - t0);
}

void it_cluster_stop(it_cluster *k, int node) {
    double t0 = it_now();
    int st = node_script(k, node, "stop", false);
    cr_assert_eq(st, 0, "kafka node %d did not stop (status %d)", node, st);
    k->up[node] = false;
    cluster_note(k);
    fprintf(stderr, "[cluster] node %d stopped in %.1f s\n", node,
            it_now() - t0);
}

void it_cluster_stop_all(it_cluster *k) {
    /* The brokers first, the controller last: a broker shutting down
     * cleanly asks the controller to move its leaders away. */
    for (int node = k->n; node >= 1; node--)
        if (k->started[node])
            it_cluster_stop(k, node);
    g_cluster_set = false;
}

void it_cluster_fini(void) {
    it_cluster *k = &g_cluster;
    if (!g_cluster_set)
        return;
    g_cluster_set = false;
    for (int node = k->n; node >= 1; node--)
        if (k->started[node]) {
            fprintf(stderr, "[fini] stopping kafka node %d\n", node);
            node_script(k, node, "stop", false);
        }
}
