/*
 * support.c - the life of an integration test: its context, the processes
 * it starts, the repute commands it runs, and its files (see support.h).
 *
 * One test process holds one it_ctx at a time. it_init gives the test a
 * work directory and names of its own, writes the two properties files
 * every command of the test reads, and creates the topics; it_done undoes
 * that once the test passed; it_fini, the Criterion .fini of every test,
 * kills whatever the test left running, also after a failure, and starts
 * the shared broker again if the test stopped it. The other files of the
 * library hold the subjects around it: kafka.c the direct librdkafka
 * helpers, cluster.c the brokers a test starts and stops, gen.c the input
 * streams, pipeline.c producing, tailing and comparing, http.c the HTTP
 * client.
 *
 * Processes are started by the helper the unit tests use too
 * (tests/support/proc.c); this file adds the names of their output files
 * in the test's directory and the list that it_fini walks.
 */
#include "support_impl.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

it_ctx *it_cur_ctx;
bool it_broker_down;

/* ---------------------------------------------------------------- time */

double it_now(void) {
    return test_now();
}

void it_sleep(double seconds) {
    test_sleep(seconds);
}

/* ---------------------------------------------------------------- files */

char *it_slurp(const char *path, size_t *len_out) {
    char *data = test_slurp(path, len_out);
    if (data)
        return data;
    if (len_out)
        *len_out = 0;
    data = calloc(1, 1);
    cr_assert_not_null(data);
    return data;
}

void it_mkdir_p(const char *path) {
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

size_t it_count_lines(const char *path) {
    size_t len, n = 0;
    char *s = it_slurp(path, &len);
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n')
            n++;
    if (len && s[len - 1] != '\n')
        n++;
    free(s);
    return n;
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
    char *s = it_slurp(path, &len);
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

/* ---------------------------------------------------------------- processes */

#define MAX_PROCS 256
static it_proc *g_procs[MAX_PROCS];
static size_t g_n_procs;
static unsigned g_spawned;

it_proc *it_spawn(const char *dir, const char *label, const char *const *argv,
                  bool pdeathsig) {
    return it_spawn_env(dir, label, argv, pdeathsig, NULL);
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

    test_proc_start(p, argv, NULL, envp, pdeathsig);
    if (g_n_procs < MAX_PROCS)
        g_procs[g_n_procs++] = p;
    return p;
}

bool it_alive(it_proc *p) {
    return test_proc_alive(p);
}

int it_wait(it_proc *p, double timeout_s) {
    return test_proc_wait(p, timeout_s);
}

void it_signal(it_proc *p, int sig) {
    cr_assert(it_alive(p), "%s (pid %d) is no longer running (status %d)",
              p->label, (int)p->pid, p->status);
    kill(p->pid, sig);
}

void it_kill9(it_proc *p) {
    test_proc_kill(p);
}

void it_dump_log(const it_proc *p, int lines) {
    size_t len;
    char *s = it_slurp(p->err, &len);
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
        "deliveries", "bounces", "complaints", "reports", "actions",
        "status",     "dlq",     "changelog",  "current"};
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
        "deliveries", "bounces", "complaints", "reports", "actions",
        "status",     "dlq",     "changelog",  "current"};
    memset(c, 0, sizeof(*c));
    it_cur_ctx = c;
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->prefix, sizeof(c->prefix), "it-%s-%ld-%ld", name,
             (long)getpid(), (long)time(NULL));
    snprintf(c->dir, sizeof(c->dir), "%s/%s", IT_WORK_DIR, c->prefix);
    it_mkdir_p(c->dir);
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
    it_kafka_create_topics(c, 1);
}

void it_init_replicated(it_ctx *c, const char *name, const char *bootstrap,
                        int replicas) {
    cr_assert(replicas >= 1 && replicas <= IT_CLUSTER_MAX);
    ctx_setup(c, name, false);
    snprintf(c->bootstrap, sizeof(c->bootstrap), "%s", bootstrap);
    write_kafka_props(c);
    it_require_broker(c->bootstrap);
    it_kafka_create_topics(c, replicas);
}

void it_init_embedded(it_ctx *c, const char *name) {
    ctx_setup(c, name, true);
}

void it_set_bootstrap(it_ctx *c, const char *bootstrap) {
    it_kafka_free();
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
    if (!c->embedded && c->bootstrap[0] && !it_broker_down)
        it_kafka_delete_topics(c);
    it_kafka_free();
    if (it_cur_ctx == c)
        it_cur_ctx = NULL;
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
    if (it_broker_down) {
        fprintf(stderr, "[fini] the broker was left stopped: starting it\n");
        char script[IT_PATH_MAX];
        snprintf(script, sizeof(script), "%s/deploy/kafka-local.sh start",
                 REPUTE_SOURCE_DIR);
        if (system(script) == 0)
            it_broker_down = false;
    }
    it_kafka_free();
    it_cur_ctx = NULL; /* on the stack of a test function that has ended */
    it_cluster_fini();
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
    /* REPUTE_IT_THREADS=N runs every instance with threads=N (CTest's
     * *_threads* variants; docs/run.md, "Threads"); an extra --set of the
     * test's own comes after it and wins. */
    char threads[32];
    const char *nt = getenv("REPUTE_IT_THREADS");
    if (nt && *nt) {
        snprintf(threads, sizeof(threads), "threads=%s", nt);
        argv[n++] = "--set";
        argv[n++] = threads;
    }
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
        char *out = it_slurp(p->out, NULL);
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
