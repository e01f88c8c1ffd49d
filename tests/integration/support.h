/*
 * support.h - helpers for repute's integration tests against a real Kafka
 * broker (or `repute run --embedded`).
 *
 * - Processes: the repute binary (and scripts) are started with
 *   posix_spawn (tests/support/proc.c, shared with the unit tests), their
 *   standard output and error going to files in the test's work directory; they
 * can be signalled, waited for with a deadline, and are all killed when a test
 * ends (it_fini), so a failed test leaves nothing running. Where `setpriv`
 * exists, each child also gets SIGKILL when the test process dies (a Criterion
 * timeout).
 * - A context per test: a unique topic prefix and group id (every test
 *   reads and writes only its own topics), the broker's address (from
 *   REPUTE_BOOTSTRAP, default 127.0.0.1:9092; a broker that does not answer
 *   fails the test), the rule configuration shared by `repute replay` and
 *   `repute run`, and the topics, created before anything is produced.
 * - A generator of input streams: JSON lines for several accounts, sorted
 *   by event_time, so that the order of replay is the order of the
 *   processor's event-time merge (see it_gen below for the story and for
 *   why live streams are produced in single-topic segments).
 * - Produce, tail and compare: the expected output is `repute replay` of
 *   the same lines; the actual output is `repute tail --from-beginning` of
 *   the status topic; they are compared per account, as parsed JSON objects,
 *   and each account's sequence must run 1..n with no gap or repeat.
 * - Direct librdkafka helpers: raw records (garbage bytes), the group's
 *   committed offsets, a topic's end offsets, reading a topic with headers.
 */
#ifndef REPUTE_IT_SUPPORT_H
#define REPUTE_IT_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <criterion/criterion.h>

#include "proc.h"

#define IT_PATH_MAX TEST_PATH_MAX
#define IT_DIR_MAX  512 /* a work directory: room for file names after it */

/* Indexes of it_ctx.topic, in the order of the five input types. */
enum {
    IT_DELIVERIES,
    IT_BOUNCES,
    IT_COMPLAINTS,
    IT_REPORTS,
    IT_ACTIONS,
    IT_STATUS,
    IT_DLQ,
    IT_CHANGELOG,
    IT_CURRENT, /* compacted, like the changelog */
    IT_NTOPICS
};

#define IT_PARTITIONS  4
#define IT_CLUSTER_MAX 3 /* brokers of an it_cluster */

/* ------------------------------------------------------------ processes */

/* A process the test started (tests/support/proc.h): pid, label, the
 * paths of its standard output and error (out, err), running, and once it
 * ended its status (128 + signal when killed by one). */
typedef test_proc it_proc;

/* Starts argv (argv[0] a path) with stdin from /dev/null and stdout /
 * stderr to <dir>/<label>.out and .err. */
it_proc *it_spawn(const char *dir, const char *label, const char *const *argv,
                  bool pdeathsig);
/* The same with the environment envp instead of the test's. */
it_proc *it_spawn_env(const char *dir, const char *label,
                      const char *const *argv, bool pdeathsig,
                      char *const *envp);
/* Waits up to timeout_s for the process to exit. Returns its status, or -1
 * when it is still running at the deadline. */
int it_wait(it_proc *p, double timeout_s);
/* Sends a signal (the process must still be running). */
void it_signal(it_proc *p, int sig);
/* Kills with SIGKILL and reaps. */
void it_kill9(it_proc *p);
/* True while the process has not exited (reaps it if it has). */
bool it_alive(it_proc *p);
/* Prints the last lines of the process's stderr to stderr (diagnostics). */
void it_dump_log(const it_proc *p, int lines);
/* True when the process's stderr holds needle. */
bool it_log_has(const it_proc *p, const char *needle);
/* Fails the test when the process's stderr holds a crash or a sanitizer
 * report (ASan, LSan, UBSan's "runtime error:"). */
void it_assert_clean_log(const it_proc *p);

/* ------------------------------------------------------------ context */

typedef struct it_ctx {
    char name[64];
    char prefix[160]; /* topic prefix, also the group id */
    char bootstrap[256];
    char dir[IT_DIR_MAX];
    char rules[IT_PATH_MAX]; /* rule keys, for replay and run */
    char kafka[IT_PATH_MAX]; /* topics, group, bootstrap, clock, ... */
    char topic[IT_NTOPICS][200];
    bool embedded;
    int n_runs; /* labels run-1, run-2, ... */
} it_ctx;

/* Sets up a test against the broker at REPUTE_BOOTSTRAP: a fresh work
 * directory under IT_WORK_DIR, unique names, the properties files, and
 * the topics (IT_PARTITIONS each; the changelog compacted). Fails the test
 * when no broker answers. */
void it_init(it_ctx *c, const char *name);
/* The same without a broker: the topics are created by `repute run
 * --embedded`; call it_set_bootstrap() once it prints its address. */
void it_init_embedded(it_ctx *c, const char *name);
/* Like it_init, against the cluster at bootstrap, with topics of
 * `replicas` replicas on brokers 1..replicas whose preferred leaders
 * alternate: partition p's first replica is broker p % replicas + 1. */
void it_init_replicated(it_ctx *c, const char *name, const char *bootstrap,
                        int replicas);
void it_set_bootstrap(it_ctx *c, const char *bootstrap);
/* Deletes the test's topics (best effort), frees the Kafka handles and
 * removes the work directory (kept when REPUTE_IT_KEEP is set; a failed
 * test never gets here, so its files stay). */
void it_done(it_ctx *c);

/* A Criterion .fini for every integration test: kills what a test left
 * running, restarts the broker if a test stopped it, frees handles. */
void it_fini(void);

/* The broker's address: REPUTE_BOOTSTRAP or 127.0.0.1:9092. */
const char *it_bootstrap_env(void);
/* Fails the test with a clear message unless a broker answers there. */
void it_require_broker(const char *bootstrap);
/* Runs deploy/kafka-local.sh CMD (start, stop), asserting success. */
void it_broker_script(const char *cmd);

/* A KRaft cluster of its own for one test, from deploy/kafka-local.sh
 * instances: node 1 is broker and controller on base_port (controller on
 * base_port + 1), node k > 1 a broker on base_port + 2 (k - 1) that joins
 * node 1's quorum; data in /tmp/repute-it-cluster-<base_port>-<k>, wiped at
 * its first start; `props` (may be NULL) are server.properties lines for
 * every node (replication factors, ...). it_fini stops whatever is still
 * running, also after a failure. */
typedef struct it_cluster {
    int n, base_port;
    char id[24]; /* the cluster id */
    const char *props;
    char bootstrap[64]; /* node 1 */
    bool started[IT_CLUSTER_MAX + 1], up[IT_CLUSTER_MAX + 1];
} it_cluster;
void it_cluster_init(it_cluster *k, int n, int base_port, const char *props);
void it_cluster_start(it_cluster *k, int node);
/* A clean stop (SIGTERM: a broker first hands its leaders over). */
void it_cluster_stop(it_cluster *k, int node);
void it_cluster_stop_all(it_cluster *k);

/* Topics: does the cluster list it; delete it (and wait until it is no
 * longer listed); the leaders of its partitions (false when the metadata
 * cannot be read). */
bool it_topic_exists(it_ctx *c, int topic);
void it_delete_topic(it_ctx *c, int topic);
bool it_leaders(it_ctx *c, int topic, int32_t leaders[IT_PARTITIONS]);
/* Sets the topic's configuration to the NULL-ended key, value pairs kv
 * (AlterConfigs: the topic's other dynamic settings go back to their
 * defaults, so give every one that matters). */
void it_topic_configure(it_ctx *c, int topic, const char *const *kv);

/* ------------------------------------------------------------ repute */

/* Runs `repute ARGS...` to completion (timeout_s), returns its status. */
int it_repute(it_ctx *c, const char *label, const char *const *args,
              double timeout_s);
/* Starts `repute run --config rules --config kafka [extra...]` (extra may
 * be NULL), labelled run-N; with --set threads=N first when the
 * environment has REPUTE_IT_THREADS=N. */
it_proc *it_start_run(it_ctx *c, const char *const *extra);
/* SIGTERM, then waits (up to 60 s) and asserts exit status 0. */
void it_stop_run(it_proc *p);
/* Starts `repute run --embedded` and waits for its bootstrap line. */
it_proc *it_start_embedded(it_ctx *c);

/* ------------------------------------------------------------ data */

typedef struct it_rec {
    int64_t time;
    int type; /* IT_DELIVERIES .. IT_ACTIONS */
    char *line;
} it_rec;

typedef struct it_data {
    it_rec *v;
    size_t n, cap;
    int64_t t_start, t_end;
    size_t n_accounts;
} it_data;

/*
 * Generates a stream (deterministic for a seed): `copies` accounts of each
 * of nine profiles (clean with duplicates, a bounce review that heals, a
 * bounce review that pauses then resumes, extensions up to a decision, a
 * complaint review, spamtrap reports with a remediation, a manual-review
 * flag with a pending pause, an internal review ended by a person, a
 * domain blocklist that pauses), plus "link-src" linked to "link-dst":
 * link-src is paused by the very last record, at t_end, so that
 * link-dst's RELATED_ACCOUNT report is applied at t_end by replay and by
 * run alike. Every account gets a record at t_end, so that every task's
 * event-time clock reaches t_end, as replay's single clock does.
 *
 * Time is cut in 6-hour blocks, each holding deliveries, then bounces,
 * then complaints, then reports, then actions, so the sorted stream is a
 * sequence of single-topic runs ("segments", it_segment_end). A live
 * producer sends one segment at a time and waits until the processor has
 * committed it (it_produce_live): the event-time merge can then never see a
 * later record of one topic before an earlier one of another, and a live
 * run must publish exactly what replay does.
 */
void it_gen(it_data *d, unsigned seed, int copies);
/* it_gen with options. IT_GEN_TENANTS: the accounts of the last copy
 * spread their deliveries, bounces and complaints over the tenants "main"
 * and "side" (and none), and one more account, "tenant-story", has a
 * tenant "promo" that is paused while the account stays HEALTHY. Without
 * options the stream is it_gen's, byte for byte. */
#define IT_GEN_TENANTS 1u
void it_gen_opts(it_data *d, unsigned seed, int copies, unsigned flags);
void it_data_free(it_data *d);
/* Writes records [from, to) as JSON lines. */
void it_write(const it_data *d, size_t from, size_t to, const char *path);
/* The end of the segment that starts at `from`. */
size_t it_segment_end(const it_data *d, size_t from);
/* The first segment boundary at or after fraction f of the records. */
size_t it_split(const it_data *d, double f);

/* ------------------------------------------------------------ produce */

/* `repute produce` of records [from, to) in one go (asserts success). */
void it_produce(it_ctx *c, const it_data *d, size_t from, size_t to);
/* `repute produce` of one JSON-lines file, maybe to one topic. */
void it_produce_file(it_ctx *c, const char *path, const char *topic);
/* Produces [from, to) one segment at a time, each followed by a wait
 * until the group has committed that topic up to its end (120 s at most;
 * against --embedded, whose mock cluster keeps no transactional offset
 * commits, a pause of 0.5 s instead).
 * `every` (may be NULL) is called before each segment with its index. */
typedef void (*it_segment_hook)(it_ctx *c, size_t segment, size_t from,
                                void *arg);
void it_produce_live(it_ctx *c, const it_data *d, size_t from, size_t to,
                     it_segment_hook every, void *arg);
/* The number of segments in records [from, to), as it_produce_live
 * produces them. */
size_t it_segments(const it_data *d, size_t from, size_t to);

/* A kill -9 of `repute run` in the middle of a live stream, and a
 * restart: it_produce_live(c, d, from, to, it_crash_hook, &k), with k.run
 * the running process and k.at the segment after which to kill it (say
 * it_segments(d, from, to) / 2). Once that segment is produced, so that
 * the processor is at work on it, the hook waits a random 0-99 ms,
 * asserts that the process is still alive, kills it with SIGKILL and
 * starts a new `repute run` in its place (k.run, which the caller stops).
 * With note_status_end it also takes the status topic's end right after
 * the kill, before the restart: what the killed process had committed. */
typedef struct it_crash {
    it_proc *run;         /* the process to kill; then its successor */
    size_t at;            /* the segment after which to kill */
    bool note_status_end; /* take the status topic's end at the kill */
    bool killed;          /* set by the hook at the kill */
    int64_t status_end;   /* the status topic's end at the kill, if noted */
} it_crash;
void it_crash_hook(it_ctx *c, size_t segment, size_t from, void *arg);

/* Waits until the group's committed offsets reach the end of the topic's
 * partitions; false at the deadline. */
bool it_wait_committed(it_ctx *c, int topic, double timeout_s);
/* Sum of the end offsets (high watermarks) of a topic. */
int64_t it_topic_end(it_ctx *c, int topic);

/* Produces one raw record; returns its partition and offset. */
void it_produce_raw(it_ctx *c, const char *topic, const void *key,
                    size_t key_len, const void *val, size_t val_len,
                    int32_t *partition, int64_t *offset);

/* ------------------------------------------------------------ read */

typedef struct it_header {
    char *name;
    char *value;
} it_header;

typedef struct it_msg {
    int32_t partition;
    int64_t offset;
    char *key;
    size_t key_len;
    char *val;
    size_t val_len;
    it_header h[8];
    int n_h;
} it_msg;

/* Reads a topic from the beginning (read_committed) until `want` records
 * or until every partition is at its end with nothing new for idle_s. */
size_t it_read_topic(it_ctx *c, int topic, size_t want, double idle_s,
                     it_msg **out);
void it_msgs_free(it_msg *m, size_t n);
const char *it_header_get(const it_msg *m, const char *name);

/* ------------------------------------------------------------ compare */

/* Writes d to <dir>/all.jsonl and replays it into <dir>/expected.jsonl
 * (asserting exit status 0); returns the number of output events. */
size_t it_expected(it_ctx *c, const it_data *d);
/* `repute tail --from-beginning --idle-exit IDLE` into path; returns the
 * number of lines. */
size_t it_tail(it_ctx *c, const char *path, const char *idle);
/*
 * Tails the status topic until it holds at least the expected number of
 * events and that number stays the same for one more tail (or timeout_s
 * passes), then compares it with the expected output: per account, equal
 * sequences of equal JSON objects, sequences 1..n. Fails the test with the
 * first differences when they differ.
 */
void it_check_output(it_ctx *c, double timeout_s);
/* Compares two JSON-lines files as above; returns the number of problems
 * (printed to stderr, at most a few per account). */
size_t it_compare_files(const char *expected, const char *actual);

/* Milliseconds of a monotonic clock; sleeping. */
double it_now(void);
void it_sleep(double seconds);

/* ------------------------------------------------------------ http */

/* An HTTP response read to its end. head is the whole response,
 * NUL-ended, with the first byte of the blank line that ends the headers
 * made a NUL: as a string it is the status line and the headers. body
 * points after that line (an empty string when there is none); len is the
 * length of all of it; sent is how many request bytes went out. */
typedef struct it_reply {
    int status;
    char *head;
    char *body;
    size_t len;
    size_t sent;
} it_reply;

/* Sends len raw bytes on a new connection to 127.0.0.1:port and reads the
 * response until the server closes the connection (the request must ask
 * for Connection: close, or be one the server closes after answering).
 * Sending stops early, without failing, when the server closes first (an
 * oversized request): see sent. */
it_reply it_http_raw(int port, const char *req, size_t len);
/* Sends `METHOD path` with no body and Connection: close, and reads the
 * response to its end. */
it_reply it_http(int port, const char *method, const char *path);
void it_reply_free(it_reply *r);
/* The port of run's HTTP server, read from its "run: HTTP on" log line
 * (waits up to 60 s for it). */
int it_http_port(it_proc *run);
/* The pages of the server that do not name an account (NULL-ended): the
 * dashboard's files, health, metrics, the summary and account lists, and
 * a missing account and page. */
extern const char *const it_http_pages[];
/* GETs it_http_pages and /v1/accounts/{id} of every account (a NULL-ended
 * list) and fails the test when a response holds needle, anywhere in its
 * headers or body. */
void it_http_assert_absent(int port, const char *const *accounts,
                           const char *needle);

/* ------------------------------------------------------------ grep */

/* Writes a printf-formatted text to a new file (asserting success). */
void it_write_file(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True when the file holds needle (false when it cannot be read). */
bool it_file_has(const char *path, const char *needle);
/* The number of the *.out and *.err files of dir (the standard output and
 * error of every process the test started there) that hold needle; the
 * first one's path goes to first (may be NULL). */
size_t it_logs_with(const char *dir, const char *needle, char *first,
                    size_t first_size);

#endif
