/*
 * support.c - processes, names, data, produce/tail/compare and direct
 * librdkafka helpers for the integration tests (see support.h).
 *
 * One test process holds one it_ctx at a time; the librdkafka handles it
 * uses (a producer for raw records, metadata and the admin API, and a
 * consumer that only reads the group's committed offsets) are kept here,
 * made on first use and freed by it_done/it_fini.
 */
#include "support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

extern char **environ;

#ifndef IT_WORK_DIR
#define IT_WORK_DIR "/tmp/repute-it"
#endif

/* ---------------------------------------------------------------- time */

double it_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_sleep(double seconds) {
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---------------------------------------------------------------- files */

static char *slurp(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (len_out)
            *len_out = 0;
        return calloc(1, 1);
    }
    char *data = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            data = realloc(data, cap);
            cr_assert_not_null(data);
        }
        memcpy(data + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!data)
        data = calloc(1, 1);
    data[len] = '\0';
    if (len_out)
        *len_out = len;
    return data;
}

static void mkdir_p(const char *path) {
    char tmp[IT_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *s = tmp + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(tmp, 0755);
            *s = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        cr_assert_fail("cannot create %s: %s", tmp, strerror(errno));
}

static size_t count_lines(const char *path) {
    size_t len, n = 0;
    char *s = slurp(path, &len);
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n')
            n++;
    if (len && s[len - 1] != '\n')
        n++;
    free(s);
    return n;
}

/* ---------------------------------------------------------------- processes */

#define MAX_PROCS 256
static it_proc *g_procs[MAX_PROCS];
static size_t g_n_procs;
static unsigned g_spawned;

static bool have_setpriv(void) {
    static int have = -1;
    if (have < 0)
        have = access("/usr/bin/setpriv", X_OK) == 0;
    return have == 1;
}

it_proc *it_spawn(const char *dir, const char *label, const char *const *argv,
                  bool pdeathsig) {
    return it_spawn_env(dir, label, argv, pdeathsig, environ);
}

it_proc *it_spawn_env(const char *dir, const char *label,
                      const char *const *argv, bool pdeathsig,
                      char *const *envp) {
    it_proc *p = calloc(1, sizeof(*p));
    cr_assert_not_null(p);
    unsigned k = ++g_spawned;
    snprintf(p->label, sizeof(p->label), "%s", label);
    snprintf(p->out, sizeof(p->out), "%s/%02u-%s.out", dir, k, label);
    snprintf(p->err, sizeof(p->err), "%s/%02u-%s.err", dir, k, label);

    const char *av[80];
    size_t n = 0;
    if (pdeathsig && have_setpriv()) {
        av[n++] = "/usr/bin/setpriv";
        av[n++] = "--pdeathsig";
        av[n++] = "KILL";
        av[n++] = "--";
    }
    for (size_t i = 0; argv[i]; i++) {
        cr_assert_lt(n, 79, "too many arguments");
        av[n++] = argv[i];
    }
    av[n] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, p->out,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, p->err,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(&p->pid, av[0], &fa, &at, (char *const *)av, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    cr_assert_eq(rc, 0, "cannot start %s: %s", av[0], strerror(rc));
    p->running = true;
    if (g_n_procs < MAX_PROCS)
        g_procs[g_n_procs++] = p;
    return p;
}

static void reaped(it_proc *p, int st) {
    p->running = false;
    if (WIFEXITED(st))
        p->status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        p->status = 128 + WTERMSIG(st);
    else
        p->status = 255;
}

bool it_alive(it_proc *p) {
    if (!p->running)
        return false;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid)
        reaped(p, st);
    return p->running;
}

int it_wait(it_proc *p, double timeout_s) {
    double end = it_now() + timeout_s;
    while (it_alive(p)) {
        if (it_now() >= end)
            return -1;
        it_sleep(0.02);
    }
    return p->status;
}

void it_signal(it_proc *p, int sig) {
    cr_assert(it_alive(p), "%s (pid %d) is no longer running (status %d)",
              p->label, (int)p->pid, p->status);
    kill(p->pid, sig);
}

void it_kill9(it_proc *p) {
    if (!it_alive(p))
        return;
    kill(p->pid, SIGKILL);
    int st;
    if (waitpid(p->pid, &st, 0) == p->pid)
        reaped(p, st);
}

void it_dump_log(const it_proc *p, int lines) {
    size_t len;
    char *s = slurp(p->err, &len);
    const char *start = s + len;
    int n = 0;
    while (start > s && n <= lines) {
        start--;
        if (*start == '\n')
            n++;
    }
    fprintf(stderr, "---- last lines of %s ----\n%s\n----\n", p->err, start);
    free(s);
}

/* ---------------------------------------------------------------- kafka */

static rd_kafka_t *g_prod; /* raw produce, metadata, admin */
static rd_kafka_t *g_offs; /* committed offsets of the test's group */
static it_ctx *g_ctx;      /* the context those belong to */
static bool g_broker_down; /* a test stopped the broker */

static void cluster_fini(void);

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac,
                      const char *buf) {
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, const char *bootstrap,
                              const char *group) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, quiet_log);
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

static rd_kafka_t *prod(it_ctx *c) {
    if (!g_prod)
        g_prod = new_handle(RD_KAFKA_PRODUCER, c->bootstrap, NULL);
    return g_prod;
}

static rd_kafka_t *offs(it_ctx *c) {
    if (!g_offs)
        g_offs = new_handle(RD_KAFKA_CONSUMER, c->bootstrap, c->prefix);
    return g_offs;
}

static void free_handles(void) {
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
    rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, bootstrap, NULL);
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

void it_broker_script(const char *cmd) {
    char script[IT_PATH_MAX];
    snprintf(script, sizeof(script), "%s/deploy/kafka-local.sh",
             REPUTE_SOURCE_DIR);
    const char *argv[] = {script, cmd, NULL};
    const char *dir = g_ctx ? g_ctx->dir : "/tmp";
    char label[64];
    snprintf(label, sizeof(label), "kafka-%s", cmd);
    if (strcmp(cmd, "stop") == 0)
        g_broker_down = true;
    it_proc *p = it_spawn(dir, label, argv, false);
    int st = it_wait(p, 150);
    if (st != 0)
        it_dump_log(p, 40);
    cr_assert_eq(st, 0, "deploy/kafka-local.sh %s: exit status %d (see %s)",
                 cmd, st, p->err);
    if (strcmp(cmd, "start") == 0)
        g_broker_down = false;
}

/* Creates the test's topics. With replicas > 1, partition p's replicas
 * are brokers p % replicas + 1, then the next ids in turn, so that the
 * preferred leaders (the first replicas) alternate between the brokers. */
static void create_topics(it_ctx *c, int replicas) {
    rd_kafka_t *rk = prod(c);
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
        if (i == IT_CHANGELOG)
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

/* ---------------------------------------------------------------- context */

/* Rule keys shared by replay and run: small volumes and a one-day review,
 * so that a few thousand records per account go through whole stories. */
static const char *RULES = "# Written by tests/integration/support.c\n"
                           "bounce.review.rate = 0.05\n"
                           "bounce.pause.rate = 0.10\n"
                           "complaint.review.rate = 0.02\n"
                           "complaint.pause.rate = 0.05\n"
                           "window.min.volume = 200\n"
                           "window.min.span = 6h\n"
                           "window.max.span = 10d\n"
                           "rate.min.volume = 100\n"
                           "review.period = 1d\n"
                           "review.max.extensions = 1\n"
                           "report.window = 7d\n"
                           "dedupe.horizon = 1h\n";

static void write_kafka_props(it_ctx *c) {
    static const char *const keys[IT_NTOPICS] = {
        "deliveries", "bounces", "complaints", "reports",
        "actions",    "status",  "dlq",        "changelog"};
    char buf[8192];
    size_t off = 0;
    off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                            "# Written by tests/integration/support.c\n"
                            "group.id = %s\n"
                            "topics.partitions = %d\n"
                            "max.task.idle = 3s\n"
                            "commit.interval = 100ms\n"
                            "log.level = info\n",
                            c->prefix, IT_PARTITIONS);
    if (c->bootstrap[0])
        off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                "kafka.bootstrap.servers = %s\n", c->bootstrap);
    for (int i = 0; i < IT_NTOPICS; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "topic.%s = %s\n",
                                keys[i], c->topic[i]);
    it_write_file(c->kafka, "%s", buf);
}

static void ctx_setup(it_ctx *c, const char *name, bool embedded) {
    static const char *const suffix[IT_NTOPICS] = {
        "deliveries", "bounces", "complaints", "reports",
        "actions",    "status",  "dlq",        "changelog"};
    memset(c, 0, sizeof(*c));
    g_ctx = c;
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->prefix, sizeof(c->prefix), "it-%s-%ld-%ld", name,
             (long)getpid(), (long)time(NULL));
    snprintf(c->dir, sizeof(c->dir), "%s/%s", IT_WORK_DIR, c->prefix);
    mkdir_p(c->dir);
    snprintf(c->rules, sizeof(c->rules), "%s/rules.properties", c->dir);
    snprintf(c->kafka, sizeof(c->kafka), "%s/kafka.properties", c->dir);
    for (int i = 0; i < IT_NTOPICS; i++)
        snprintf(c->topic[i], sizeof(c->topic[i]), "%s.%s", c->prefix,
                 suffix[i]);
    c->embedded = embedded;
    it_write_file(c->rules, "%s", RULES);
    if (!embedded)
        snprintf(c->bootstrap, sizeof(c->bootstrap), "%s", it_bootstrap_env());
    write_kafka_props(c);
    fprintf(stderr, "[%s] work dir %s\n", name, c->dir);
}

void it_init(it_ctx *c, const char *name) {
    ctx_setup(c, name, false);
    it_require_broker(c->bootstrap);
    create_topics(c, 1);
}

void it_init_replicated(it_ctx *c, const char *name, const char *bootstrap,
                        int replicas) {
    cr_assert(replicas >= 1 && replicas <= IT_CLUSTER_MAX);
    ctx_setup(c, name, false);
    snprintf(c->bootstrap, sizeof(c->bootstrap), "%s", bootstrap);
    write_kafka_props(c);
    it_require_broker(c->bootstrap);
    create_topics(c, replicas);
}

void it_init_embedded(it_ctx *c, const char *name) {
    ctx_setup(c, name, true);
}

void it_set_bootstrap(it_ctx *c, const char *bootstrap) {
    free_handles();
    snprintf(c->bootstrap, sizeof(c->bootstrap), "%s", bootstrap);
    write_kafka_props(c);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void it_done(it_ctx *c) {
    if (!c->embedded && c->bootstrap[0] && !g_broker_down) {
        rd_kafka_t *rk = prod(c);
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
    free_handles();
    if (g_ctx == c)
        g_ctx = NULL;
    /* Reached only when the test passed: its files are of no more use
     * (a failed test keeps them for a post-mortem). */
    if (!getenv("REPUTE_IT_KEEP"))
        nftw(c->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void it_fini(void) {
    for (size_t i = 0; i < g_n_procs; i++) {
        it_proc *p = g_procs[i];
        if (p && it_alive(p)) {
            fprintf(stderr, "[fini] killing %s (pid %d)\n", p->label,
                    (int)p->pid);
            it_kill9(p);
        }
    }
    if (g_broker_down) {
        fprintf(stderr, "[fini] the broker was left stopped: starting it\n");
        char script[IT_PATH_MAX];
        snprintf(script, sizeof(script), "%s/deploy/kafka-local.sh start",
                 REPUTE_SOURCE_DIR);
        if (system(script) == 0)
            g_broker_down = false;
    }
    free_handles();
    g_ctx = NULL; /* on the stack of a test function that has ended */
    cluster_fini();
}

/* ---------------------------------------------------------------- repute */

#define MAX_ARGS 64

int it_repute(it_ctx *c, const char *label, const char *const *args,
              double timeout_s) {
    const char *argv[MAX_ARGS];
    size_t n = 0;
    argv[n++] = REPUTE_BINARY;
    for (size_t i = 0; args[i]; i++) {
        cr_assert_lt(n, MAX_ARGS - 1);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    it_proc *p = it_spawn(c->dir, label, argv, true);
    int st = it_wait(p, timeout_s);
    if (st < 0) {
        it_kill9(p);
        it_dump_log(p, 30);
        cr_assert_fail("repute %s did not finish within %.0f s (stderr: %s)",
                       args[0], timeout_s, p->err);
    }
    return st;
}

it_proc *it_start_run(it_ctx *c, const char *const *extra) {
    const char *argv[MAX_ARGS];
    size_t n = 0;
    argv[n++] = REPUTE_BINARY;
    argv[n++] = "run";
    argv[n++] = "--config";
    argv[n++] = c->rules;
    argv[n++] = "--config";
    argv[n++] = c->kafka;
    argv[n++] = "--set";
    argv[n++] = "clock=event";
    argv[n++] = "--set";
    argv[n++] = "topics.create=true";
    /* Several instances run at once: each takes any free port. */
    argv[n++] = "--set";
    argv[n++] = "http.listen=127.0.0.1:0";
    for (size_t i = 0; extra && extra[i]; i++) {
        cr_assert_lt(n, MAX_ARGS - 1);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    char label[32];
    snprintf(label, sizeof(label), "run-%d", ++c->n_runs);
    it_proc *p = it_spawn(c->dir, label, argv, true);
    fprintf(stderr, "[%s] started %s (pid %d)\n", c->name, label, (int)p->pid);
    return p;
}

void it_stop_run(it_proc *p) {
    if (!it_alive(p)) {
        it_dump_log(p, 40);
        cr_assert_fail("%s exited before it was stopped, with status %d "
                       "(log: %s)",
                       p->label, p->status, p->err);
    }
    kill(p->pid, SIGTERM);
    int st = it_wait(p, 60);
    if (st != 0)
        it_dump_log(p, 40);
    cr_assert_neq(st, -1, "%s did not stop within 60 s of SIGTERM (log: %s)",
                  p->label, p->err);
    cr_assert_eq(st, 0, "%s exited with status %d after SIGTERM (log: %s)",
                 p->label, st, p->err);
}

it_proc *it_start_embedded(it_ctx *c) {
    const char *extra[] = {"--embedded", NULL};
    it_proc *p = it_start_run(c, extra);
    double end = it_now() + 30;
    for (;;) {
        char *out = slurp(p->out, NULL);
        char *line = strstr(out, "bootstrap.servers=");
        char *nl = line ? strchr(line, '\n') : NULL;
        if (nl) {
            *nl = '\0';
            it_set_bootstrap(c, line + strlen("bootstrap.servers="));
            free(out);
            fprintf(stderr, "[%s] embedded broker at %s\n", c->name,
                    c->bootstrap);
            return p;
        }
        free(out);
        if (!it_alive(p) || it_now() > end) {
            it_dump_log(p, 40);
            cr_assert_fail("repute run --embedded printed no "
                           "bootstrap.servers=HOST:PORT line within 30 s "
                           "(status %d; see %s)",
                           it_alive(p) ? -1 : p->status, p->out);
        }
        it_sleep(0.05);
    }
}

/* ---------------------------------------------------------------- data */

#define MIN_MS   INT64_C(60000)
#define HOUR_MS  INT64_C(3600000)
#define BLOCK_MS (6 * HOUR_MS)
#define N_BLOCKS 16
/* 2026-01-05T00:00:00Z */
#define GEN_T0 INT64_C(1767571200000)

typedef struct gen {
    it_data *d;
    uint64_t s;
} gen;

static uint64_t rnd(gen *g) {
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * UINT64_C(2685821657736338717);
}

static int64_t rnd_in(gen *g, int64_t lo, int64_t hi) {
    return lo + (int64_t)(rnd(g) % (uint64_t)(hi - lo));
}

static double rnd01(gen *g) {
    return (double)(rnd(g) >> 11) / 9007199254740992.0;
}

/* A count with expectation x: floor(x) plus one with probability frac(x). */
static int rnd_count(gen *g, double x) {
    int n = (int)x;
    if (rnd01(g) < x - n)
        n++;
    return n;
}

typedef struct it_rec_seq {
    it_rec r;
    size_t seq;
} it_rec_seq;

static void add(gen *g, int type, int64_t t, const char *fmt, ...) {
    it_data *d = g->d;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4096;
        d->v = realloc(d->v, d->cap * sizeof(*d->v));
        cr_assert_not_null(d->v);
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    it_rec *r = &d->v[d->n++];
    r->time = t;
    r->type = type;
    r->line = strdup(buf);
}

typedef enum profile {
    P_CLEAN,
    P_HEAL,
    P_PAUSE,
    P_EXTEND,
    P_COMPLAIN,
    P_SPAMTRAP,
    P_MANUAL,
    P_INTERNAL,
    P_BLOCKLIST,
    P__COUNT,
    P_LINK_SRC = P__COUNT,
    P_LINK_DST
} profile;

static const char *const profile_names[] = {
    "clean",  "heal",     "pause",     "extend",   "complain", "spamtrap",
    "manual", "internal", "blocklist", "link-src", "link-dst"};

typedef struct gen_acct {
    char id[32];
    profile p;
    unsigned n_d, n_b, n_c, n_r, n_a;
} gen_acct;

static double hard_frac(profile p, int b) {
    switch (p) {
    case P_HEAL: return (b >= 2 && b <= 4) ? 0.12 : 0.005;
    case P_PAUSE:
    case P_MANUAL: return (b >= 2 && b <= 6) ? 0.25 : 0.005;
    case P_EXTEND: return b >= 2 ? 0.07 : 0.01;
    default: return 0.01;
    }
}

static double complaint_frac(profile p, int b) {
    if (p == P_COMPLAIN)
        return (b >= 1 && b <= 7) ? 0.03 : (b >= 8 && b <= 11) ? 0.08 : 0.002;
    return 0.002;
}

static void gen_report(gen *g, gen_acct *a, int64_t bt, const char *kind,
                       int incidents) {
    int64_t t = rnd_in(g, bt + 5 * HOUR_MS + 30 * MIN_MS,
                       bt + 5 * HOUR_MS + 45 * MIN_MS);
    add(g, IT_REPORTS, t,
        "{\"type\":\"report\",\"event_id\":\"%s-r-%u\",\"account_id\":\"%s\","
        "\"event_time\":%" PRId64 ",\"kind\":\"%s\",\"incidents\":%d,"
        "\"domain\":\"news.%s.example\",\"reporter\":\"secret-reporter-7\","
        "\"detail\":\"seen by a test\"}",
        a->id, ++a->n_r, a->id, t, kind, incidents, a->id);
}

static void gen_action(gen *g, gen_acct *a, int64_t bt, const char *action,
                       const char *issue, const char *related) {
    int64_t t = rnd_in(g, bt + 5 * HOUR_MS + 45 * MIN_MS, bt + 6 * HOUR_MS);
    char extra[256] = "";
    if (issue)
        snprintf(extra, sizeof(extra), ",\"issue\":\"%s\"", issue);
    if (related)
        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
                 ",\"related_account_id\":\"%s\"", related);
    add(g, IT_ACTIONS, t,
        "{\"type\":\"action\",\"event_id\":\"%s-a-%u\",\"account_id\":\"%s\","
        "\"event_time\":%" PRId64 ",\"action\":\"%s\"%s,"
        "\"note\":\"by the test\"}",
        a->id, ++a->n_a, a->id, t, action, extra);
}

static void gen_block(gen *g, gen_acct *a, int b) {
    int64_t bt = GEN_T0 + b * BLOCK_MS;
    int64_t send_end = bt + 4 * HOUR_MS;
    int deliveries = 30 + (int)(rnd(g) % 16);
    /* Deliveries (some with duplicates for the clean accounts). */
    for (int i = 0; i < deliveries; i++) {
        int64_t t = rnd_in(g, bt, send_end);
        const char *extra = "";
        double x = rnd01(g);
        if (x < 0.04)
            extra = ",\"feedback_loop\":false";
        else if (x < 0.06)
            extra = ",\"verified_recipient\":true";
        else if (x < 0.07)
            extra = ",\"simulator\":true";
        unsigned id = ++a->n_d;
        char line_fmt[] =
            "{\"type\":\"delivery\",\"event_id\":\"%s-d-%u\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 ",\"message_id\":\"m-%s-%u\","
            "\"recipient\":\"user%u@example.com\"%s}";
        add(g, IT_DELIVERIES, t, line_fmt, a->id, id, a->id, t, a->id, id,
            (unsigned)(rnd(g) % 100000), extra);
        if (a->p == P_CLEAN && i < 2) {
            /* The same event again a few minutes later: dropped. */
            int64_t t2 = t + rnd_in(g, MIN_MS, 10 * MIN_MS);
            if (t2 < send_end)
                add(g, IT_DELIVERIES, t2, line_fmt, a->id, id, a->id, t2, a->id,
                    id, 1u, extra);
        }
    }
    /* Bounces: hard, soft, suppressed (not hard), simulator. */
    int hard = rnd_count(g, deliveries * hard_frac(a->p, b));
    int soft = rnd_count(g, deliveries * 0.03);
    int supp = rnd01(g) < 0.2 ? 1 : 0;
    int sim = rnd01(g) < 0.1 ? 1 : 0;
    int total = hard + soft + supp + sim;
    for (int i = 0; i < total; i++) {
        int64_t t = rnd_in(g, send_end, bt + 5 * HOUR_MS);
        const char *type = "PERMANENT", *sub = "NO_EMAIL", *extra = "";
        if (i >= hard && i < hard + soft)
            type = "TRANSIENT", sub = "MAILBOX_FULL";
        else if (i >= hard + soft && i < hard + soft + supp)
            sub = "ON_ACCOUNT_SUPPRESSION_LIST";
        else if (i >= hard + soft + supp)
            extra = ",\"simulator\":true";
        char sent[64] = "";
        if (rnd01(g) < 0.8)
            snprintf(sent, sizeof(sent), ",\"sent_time\":%" PRId64,
                     rnd_in(g, bt, send_end));
        unsigned id = ++a->n_b;
        add(g, IT_BOUNCES, t,
            "{\"type\":\"bounce\",\"event_id\":\"%s-b-%u\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 "%s,\"bounce_type\":\"%s\","
            "\"bounce_subtype\":\"%s\",\"diagnostic\":\"5.1.1 test\"%s}",
            a->id, id, a->id, t, sent, type, sub, extra);
    }
    /* Complaints (and a NOT_SPAM now and then, which does not count). */
    int complaints = rnd_count(g, deliveries * complaint_frac(a->p, b));
    int not_spam = rnd01(g) < 0.1 ? 1 : 0;
    for (int i = 0; i < complaints + not_spam; i++) {
        int64_t t = rnd_in(g, bt + 5 * HOUR_MS, bt + 5 * HOUR_MS + 30 * MIN_MS);
        unsigned id = ++a->n_c;
        add(g, IT_COMPLAINTS, t,
            "{\"type\":\"complaint\",\"event_id\":\"%s-c-%u\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 ",\"sent_time\":%" PRId64
            ",\"recipients\":[\"a@example.com\",\"b@example.com\"],"
            "\"feedback_type\":\"%s\"}",
            a->id, id, a->id, t, rnd_in(g, bt, send_end),
            i < complaints ? "ABUSE" : "NOT_SPAM");
    }
    /* The stories' reports and actions. */
    switch (a->p) {
    case P_PAUSE:
        if (b == 9)
            gen_action(g, a, bt, "RESUME_SENDING", "BOUNCE_RATE", NULL);
        break;
    case P_EXTEND:
        if (b == 4)
            gen_action(g, a, bt, "EXTEND_REVIEW", "BOUNCE_RATE", NULL);
        break;
    case P_SPAMTRAP:
        if (b == 4)
            gen_report(g, a, bt, "SPAMTRAP", 1);
        if (b == 5)
            gen_report(g, a, bt, "SPAMTRAP", 2);
        if (b == 6)
            gen_action(g, a, bt, "REMEDIATION_SUBMITTED", "SPAMTRAP", NULL);
        break;
    case P_MANUAL:
        if (b == 0)
            gen_action(g, a, bt, "SET_MANUAL_REVIEW", NULL, NULL);
        if (b == 9)
            gen_action(g, a, bt, "PAUSE_SENDING", NULL, NULL);
        if (b == 12)
            gen_action(g, a, bt, "RESUME_SENDING", NULL, NULL);
        break;
    case P_INTERNAL:
        if (b == 5)
            gen_report(g, a, bt, "INTERNAL_REVIEW", 1);
        if (b == 9)
            gen_action(g, a, bt, "END_REVIEW", "INTERNAL_REVIEW", NULL);
        break;
    case P_BLOCKLIST:
        if (b == 2 || b == 4)
            gen_report(g, a, bt, "DOMAIN_BLOCKLIST", 3);
        if (b == 10)
            gen_action(g, a, bt, "RESUME_SENDING", "DOMAIN_BLOCKLIST", NULL);
        break;
    case P_LINK_SRC:
        if (b == 0)
            gen_action(g, a, bt, "LINK_ACCOUNT", NULL, "link-dst");
        if (b == N_BLOCKS - 1)
            gen_report(g, a, bt, "MAILBOX_PROVIDER", 1);
        break;
    default: break;
    }
}

static int cmp_rec(const void *x, const void *y) {
    const it_rec_seq *a = x, *b = y;
    if (a->r.time != b->r.time)
        return a->r.time < b->r.time ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void it_gen(it_data *d, unsigned seed, int copies) {
    memset(d, 0, sizeof(*d));
    gen g = {d, UINT64_C(0x9E3779B97F4A7C15) ^ ((uint64_t)seed << 17) ^ seed};
    size_t n_acc = (size_t)copies * P__COUNT + 2;
    gen_acct *accts = calloc(n_acc, sizeof(*accts));
    cr_assert_not_null(accts);
    size_t k = 0;
    for (int c = 0; c < copies; c++)
        for (int p = 0; p < P__COUNT; p++, k++) {
            accts[k].p = (profile)p;
            snprintf(accts[k].id, sizeof(accts[k].id), "%s-%d",
                     profile_names[p], c);
        }
    accts[k].p = P_LINK_SRC;
    snprintf(accts[k++].id, sizeof(accts[0].id), "link-src");
    accts[k].p = P_LINK_DST;
    snprintf(accts[k++].id, sizeof(accts[0].id), "link-dst");
    for (int b = 0; b < N_BLOCKS; b++)
        for (size_t i = 0; i < n_acc; i++)
            gen_block(&g, &accts[i], b);
    /* Every account's clock reaches t_end; then link-src is paused. */
    int64_t t_end = GEN_T0 + N_BLOCKS * BLOCK_MS;
    for (size_t i = 0; i < n_acc; i++)
        add(&g, IT_DELIVERIES, t_end,
            "{\"type\":\"delivery\",\"event_id\":\"%s-end\",\"account_id\":"
            "\"%s\",\"event_time\":%" PRId64 ",\"simulator\":true}",
            accts[i].id, accts[i].id, t_end);
    add(&g, IT_ACTIONS, t_end,
        "{\"type\":\"action\",\"event_id\":\"link-src-pause\",\"account_id\":"
        "\"link-src\",\"event_time\":%" PRId64 ",\"action\":\"PAUSE_SENDING\","
        "\"note\":\"the last record of the stream\"}",
        t_end);
    /* Sort by time; ties keep the order of creation. */
    it_rec_seq *tmp = malloc(d->n * sizeof(*tmp));
    cr_assert_not_null(tmp);
    for (size_t i = 0; i < d->n; i++) {
        tmp[i].r = d->v[i];
        tmp[i].seq = i;
    }
    qsort(tmp, d->n, sizeof(*tmp), cmp_rec);
    for (size_t i = 0; i < d->n; i++)
        d->v[i] = tmp[i].r;
    free(tmp);
    free(accts);
    d->t_start = GEN_T0;
    d->t_end = t_end;
    d->n_accounts = n_acc;
}

void it_data_free(it_data *d) {
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].line);
    free(d->v);
    memset(d, 0, sizeof(*d));
}

void it_write(const it_data *d, size_t from, size_t to, const char *path) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    for (size_t i = from; i < to && i < d->n; i++) {
        fputs(d->v[i].line, f);
        fputc('\n', f);
    }
    cr_assert_eq(fclose(f), 0);
}

size_t it_segment_end(const it_data *d, size_t from) {
    size_t i = from;
    while (i < d->n && d->v[i].type == d->v[from].type)
        i++;
    return i;
}

size_t it_split(const it_data *d, double f) {
    size_t want = (size_t)(f * (double)d->n), i = 0;
    while (i < d->n && i < want)
        i = it_segment_end(d, i);
    return i;
}

/* ---------------------------------------------------------------- produce */

void it_produce_file(it_ctx *c, const char *path, const char *topic) {
    const char *args[12];
    size_t n = 0;
    args[n++] = "produce";
    args[n++] = "--config";
    args[n++] = c->kafka;
    if (topic) {
        args[n++] = "--topic";
        args[n++] = topic;
    }
    args[n++] = path;
    args[n] = NULL;
    int st = it_repute(c, "produce", args, 120);
    cr_assert_eq(st, 0,
                 "repute produce %s: exit status %d (see the .err in %s)", path,
                 st, c->dir);
}

void it_produce(it_ctx *c, const it_data *d, size_t from, size_t to) {
    char path[IT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/in-%zu-%zu.jsonl", c->dir, from, to);
    it_write(d, from, to, path);
    it_produce_file(c, path, NULL);
}

static void end_offsets(it_ctx *c, int topic, int64_t *hi) {
    for (int p = 0; p < IT_PARTITIONS; p++) {
        int64_t lo = 0;
        hi[p] = -1;
        for (int attempt = 0; attempt < 20; attempt++) {
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                prod(c), c->topic[topic], p, &lo, &hi[p], 5000);
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
            rd_kafka_resp_err_t e = rd_kafka_committed(offs(c), l, 5000);
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

void it_produce_live(it_ctx *c, const it_data *d, size_t from, size_t to,
                     it_segment_hook every, void *arg) {
    size_t k = 0;
    for (size_t s = from; s < to; k++) {
        size_t e = it_segment_end(d, s);
        if (e > to)
            e = to;
        char path[IT_PATH_MAX];
        snprintf(path, sizeof(path), "%s/seg-%03zu.jsonl", c->dir, k);
        it_write(d, s, e, path);
        it_produce_file(c, path, NULL);
        if (every)
            every(c, k, s, arg);
        int topic = d->v[s].type;
        if (c->embedded) {
            /* The mock cluster keeps no transactional offset commits, so
             * there is nothing to wait for: give the processor time to
             * fetch the segment (it reads from memory, in milliseconds). */
            it_sleep(0.5);
            s = e;
            continue;
        }
        double t0 = it_now();
        cr_assert(it_wait_committed(c, topic, 120),
                  "segment %zu (records %zu-%zu, %s): the processor did not "
                  "commit its records within 120 s; see the run-*.err logs "
                  "in %s",
                  k, s, e, c->topic[topic], c->dir);
        double waited = it_now() - t0;
        if (waited > 5)
            fprintf(stderr, "[%s] segment %zu: committed after %.1f s\n",
                    c->name, k, waited);
        s = e;
    }
}

void it_produce_raw(it_ctx *c, const char *topic, const void *key,
                    size_t key_len, const void *val, size_t val_len,
                    int32_t *partition, int64_t *offset) {
    /* A producer of its own, to learn the record's partition and offset
     * from its delivery report. */
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, quiet_log);
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
    rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, c->bootstrap, NULL);
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

/* ---------------------------------------------------------------- compare */

size_t it_expected(it_ctx *c, const it_data *d) {
    char all[IT_PATH_MAX], exp[IT_PATH_MAX];
    snprintf(all, sizeof(all), "%s/all.jsonl", c->dir);
    snprintf(exp, sizeof(exp), "%s/expected.jsonl", c->dir);
    it_write(d, 0, d->n, all);
    const char *argv[] = {REPUTE_BINARY, "replay", "--config",
                          c->rules,      all,      NULL};
    it_proc *p = it_spawn(c->dir, "replay", argv, true);
    int st = it_wait(p, 120);
    cr_assert_eq(st, 0, "repute replay of %s: exit status %d (see %s)", all, st,
                 p->err);
    /* Keep the expected output under a stable name. */
    cr_assert_eq(rename(p->out, exp), 0, "rename %s: %s", p->out,
                 strerror(errno));
    size_t n = count_lines(exp);
    fprintf(stderr, "[%s] %zu records, %zu accounts; replay: %zu events\n",
            c->name, d->n, d->n_accounts, n);
    cr_assert_gt(n, 0, "replay published nothing: the test data is wrong");
    return n;
}

size_t it_tail(it_ctx *c, const char *path, const char *idle) {
    const char *argv[] = {
        REPUTE_BINARY,      "tail",        "--config", c->kafka,
        "--from-beginning", "--idle-exit", idle,       NULL};
    it_proc *p = it_spawn(c->dir, "tail", argv, true);
    int st = it_wait(p, 180);
    if (st < 0)
        it_kill9(p);
    if (st != 0)
        it_dump_log(p, 20);
    cr_assert_eq(st, 0, "repute tail: exit status %d (see %s)", st, p->err);
    unlink(path);
    cr_assert_eq(rename(p->out, path), 0);
    return count_lines(path);
}

void it_check_output(it_ctx *c, double timeout_s) {
    char exp[IT_PATH_MAX], act[IT_PATH_MAX];
    snprintf(exp, sizeof(exp), "%s/expected.jsonl", c->dir);
    snprintf(act, sizeof(act), "%s/actual.jsonl", c->dir);
    size_t want = count_lines(exp);
    double end = it_now() + timeout_s;
    size_t prev = (size_t)-1, got;
    for (;;) {
        got = it_tail(c, act, "3s");
        if (got >= want && got == prev)
            break;
        if (it_now() > end)
            break;
        if (got < want)
            it_sleep(1);
        prev = got;
    }
    fprintf(stderr, "[%s] status topic: %zu events (expected %zu)\n", c->name,
            got, want);
    size_t bad = it_compare_files(exp, act);
    cr_assert_eq(bad, 0,
                 "the status topic differs from `repute replay` of the same "
                 "records: %zu problems (printed above); expected %s, got %s",
                 bad, exp, act);
}

/* Reads a JSON-lines file into an object: account_id -> array of events. */
static json_t *load_by_account(const char *path, size_t *n_events,
                               size_t *problems) {
    size_t len;
    char *s = slurp(path, &len);
    json_t *by = json_object();
    size_t lineno = 0;
    *n_events = 0;
    for (char *line = s; line < s + len;) {
        char *nl = memchr(line, '\n', (size_t)(s + len - line));
        size_t l = nl ? (size_t)(nl - line) : (size_t)(s + len - line);
        lineno++;
        if (l > 0) {
            json_error_t je;
            json_t *ev = json_loadb(line, l, 0, &je);
            const char *acct =
                ev ? json_string_value(json_object_get(ev, "account_id"))
                   : NULL;
            if (!acct) {
                fprintf(stderr, "%s:%zu: not an event: %.200s\n", path, lineno,
                        line);
                (*problems)++;
                json_decref(ev);
            } else {
                json_t *arr = json_object_get(by, acct);
                if (!arr) {
                    arr = json_array();
                    json_object_set_new(by, acct, arr);
                }
                json_array_append_new(arr, ev);
                (*n_events)++;
            }
        }
        line += l + 1;
    }
    free(s);
    return by;
}

static void print_event(const char *what, json_t *ev) {
    char *s = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    fprintf(stderr, "    %s: %.600s%s\n", what, s ? s : "(none)",
            s && strlen(s) > 600 ? "..." : "");
    free(s);
}

size_t it_compare_files(const char *expected, const char *actual) {
    size_t problems = 0, n_exp, n_act;
    json_t *e = load_by_account(expected, &n_exp, &problems);
    json_t *a = load_by_account(actual, &n_act, &problems);
    const char *acct;
    json_t *arr;
    /* Sequences of the actual output: 1..n, no gap, no repeat. */
    json_object_foreach(a, acct, arr) {
        size_t i;
        json_t *ev;
        json_array_foreach(arr, i, ev) {
            json_int_t seq =
                json_integer_value(json_object_get(ev, "sequence"));
            if (seq != (json_int_t)i + 1) {
                fprintf(stderr,
                        "%s: event %zu has sequence %lld (expected %zu): %s\n",
                        acct, i + 1, (long long)seq, i + 1,
                        seq <= (json_int_t)i ? "a repeat" : "a gap");
                print_event("got", ev);
                problems++;
                break;
            }
        }
    }
    /* Per account: the same events. */
    json_object_foreach(e, acct, arr) {
        json_t *got = json_object_get(a, acct);
        size_t ne = json_array_size(arr), ng = json_array_size(got);
        size_t shown = 0;
        for (size_t i = 0; i < ne || i < ng; i++) {
            json_t *x = json_array_get(arr, i), *y = json_array_get(got, i);
            if (x && y && json_equal(x, y))
                continue;
            problems++;
            if (shown++ < 2) {
                fprintf(stderr, "%s: event %zu of %zu (got %zu) differs:\n",
                        acct, i + 1, ne, ng);
                print_event("expected", x);
                print_event("got     ", y);
            }
            if (!x || !y) {
                problems += (ne > ng ? ne - ng : ng - ne) - 1;
                break;
            }
        }
    }
    json_object_foreach(a, acct, arr) {
        if (!json_object_get(e, acct)) {
            fprintf(stderr, "%s: %zu events, none expected\n", acct,
                    json_array_size(arr));
            print_event("first", json_array_get(arr, 0));
            problems += json_array_size(arr);
        }
    }
    fprintf(stderr,
            "compare: expected %zu events for %zu accounts, got %zu "
            "for %zu accounts: %zu problems\n",
            n_exp, json_object_size(e), n_act, json_object_size(a), problems);
    json_decref(e);
    json_decref(a);
    return problems;
}

/* ---------------------------------------------------------------- logs */

bool it_log_has(const it_proc *p, const char *needle) {
    return it_file_has(p->err, needle);
}

void it_assert_clean_log(const it_proc *p) {
    static const char *const bad[] = {"AddressSanitizer",   "LeakSanitizer",
                                      "runtime error:",     "Assertion",
                                      "Segmentation fault", "double free"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (it_log_has(p, bad[i])) {
            it_dump_log(p, 60);
            cr_assert_fail("%s's log holds \"%s\": a crash or a sanitizer "
                           "report (see %s)",
                           p->label, bad[i], p->err);
        }
}

/* ---------------------------------------------------------------- topics */

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
    rd_kafka_resp_err_t e = rd_kafka_metadata(prod(c), 1, NULL, &md, 10000);
    cr_assert_eq(e, 0, "metadata: %s", rd_kafka_err2str(e));
    const struct rd_kafka_metadata_topic *t = find_topic(md, c->topic[topic]);
    bool exists = t && t->err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    rd_kafka_metadata_destroy(md);
    return exists;
}

void it_delete_topic(it_ctx *c, int topic) {
    rd_kafka_t *rk = prod(c);
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

bool it_leaders(it_ctx *c, int topic, int32_t leaders[IT_PARTITIONS]) {
    const struct rd_kafka_metadata *md = NULL;
    for (int p = 0; p < IT_PARTITIONS; p++)
        leaders[p] = -1;
    if (rd_kafka_metadata(prod(c), 1, NULL, &md, 5000) != 0)
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
    if (!g_ctx)
        mkdir_p(IT_WORK_DIR);
    it_proc *p = it_spawn_env(g_ctx ? g_ctx->dir : IT_WORK_DIR, label, argv,
                              false, (char *const *)env);
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

static void cluster_fini(void) {
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

/* ---------------------------------------------------------------- http */

it_reply it_http_raw(int port, const char *req, size_t len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0,
                 "cannot connect to the HTTP port 127.0.0.1:%d", port);
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may close early on an oversized request */
        sent += (size_t)w;
    }
    /* The server closes the connection after its answer, so everything
     * up to the end is the response. */
    size_t n = 0, cap = 65536;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    ssize_t r;
    while ((r = recv(fd, buf + n, cap - n - 1, 0)) > 0) {
        n += (size_t)r;
        if (cap - n < 4096) {
            buf = realloc(buf, cap *= 2);
            cr_assert_not_null(buf);
        }
    }
    close(fd);
    buf[n] = '\0';
    it_reply rep = {0, buf, buf + n, n, sent};
    sscanf(buf, "HTTP/1.%*d %d", &rep.status);
    char *sep = strstr(buf, "\r\n\r\n");
    if (sep) {
        *sep = '\0';
        rep.body = sep + 4;
    }
    return rep;
}

it_reply it_http(int port, const char *method, const char *path) {
    char req[2048];
    int len = snprintf(req, sizeof(req),
                       "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                       "0\r\nConnection: close\r\n\r\n",
                       method, path);
    cr_assert(len > 0 && (size_t)len < sizeof(req));
    it_reply r = it_http_raw(port, req, (size_t)len);
    cr_assert_eq(r.sent, (size_t)len, "%s %s: the request was not sent whole",
                 method, path);
    return r;
}

void it_reply_free(it_reply *r) {
    free(r->head);
    memset(r, 0, sizeof(*r));
}

int it_http_port(it_proc *run) {
    double end = it_now() + 60;
    for (;;) {
        char *log = slurp(run->err, NULL);
        const char *at = strstr(log, "run: HTTP on ");
        const char *colon = at ? strchr(at + 13, ':') : NULL;
        int port = colon ? atoi(colon + 1) : 0;
        free(log);
        if (port > 0)
            return port;
        if (!it_alive(run))
            it_dump_log(run, 20);
        cr_assert(it_alive(run),
                  "%s exited with status %d before its HTTP server started "
                  "(see %s)",
                  run->label, run->status, run->err);
        cr_assert(it_now() < end,
                  "%s logged no \"run: HTTP on HOST:PORT\" line within 60 s "
                  "(see %s)",
                  run->label, run->err);
        it_sleep(0.05);
    }
}

/* Every page that does not depend on an account. */
const char *const it_http_pages[] = {"/",
                                     "/app.js",
                                     "/app.css",
                                     "/healthz",
                                     "/readyz",
                                     "/metrics",
                                     "/v1/summary",
                                     "/v1/accounts",
                                     "/v1/accounts?limit=1000",
                                     "/v1/accounts?status=SENDING_PAUSED",
                                     "/v1/accounts/no-such-account",
                                     "/no-such-page",
                                     NULL};

static void assert_absent(int port, const char *path, const char *needle) {
    it_reply r = it_http(port, "GET", path);
    cr_assert(r.status > 0, "GET %s: no HTTP response", path);
    cr_assert_null(memmem(r.head, r.len, needle, strlen(needle)),
                   "GET %s (status %d) holds \"%s\"", path, r.status, needle);
    it_reply_free(&r);
}

void it_http_assert_absent(int port, const char *const *accounts,
                           const char *needle) {
    for (size_t i = 0; it_http_pages[i]; i++)
        assert_absent(port, it_http_pages[i], needle);
    for (size_t i = 0; accounts[i]; i++) {
        char path[512];
        snprintf(path, sizeof(path), "/v1/accounts/%s", accounts[i]);
        assert_absent(port, path, needle);
    }
}

void it_write_file(const char *path, const char *fmt, ...) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    cr_assert_eq(fclose(f), 0, "cannot write %s", path);
}

bool it_file_has(const char *path, const char *needle) {
    size_t len;
    char *s = slurp(path, &len);
    bool has = memmem(s, len, needle, strlen(needle)) != NULL;
    free(s);
    return has;
}

size_t it_logs_with(const char *dir, const char *needle, char *first,
                    size_t first_size) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    size_t hits = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || (strcmp(e->d_name + l - 4, ".out") != 0 &&
                      strcmp(e->d_name + l - 4, ".err") != 0))
            continue;
        char path[IT_PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (it_file_has(path, needle) && hits++ == 0 && first)
            snprintf(first, first_size, "%s", path);
    }
    closedir(d);
    return hits;
}
