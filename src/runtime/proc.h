/*
 * runtime/proc.h - the processor's state, and the functions its rooms
 * (the files of src/runtime/) call in one another.
 *
 * Nothing outside src/runtime/ includes this header. Everything in it is
 * owned by the processor and touched only on the loop thread, except the
 * fields marked as set from other threads, and what a lane (lanes.c)
 * touches during a round: the tasks it has taken and its own struct
 * lane, while the loop thread waits for the round to end (or takes tasks
 * itself, as lane 0). The HTTP API (src/api/) sees it only through the
 * read-only view of view.c (repute/procview.h), on the loop thread between
 * rounds, so it reads the tasks' engines without locks.
 *
 * The rooms, one prefix each (processor.c tells how they fit together):
 * task.c (rp_task_*: a task; its buffers are inq.h's, rp_inq_*), output.c
 * (rp_out_*: producing, held outputs, the engine's sink, the DLQ),
 * merge.c (rp_merge_*: the event-time merge, idling, bursts, the wall
 * clock's reviews), hooks.c (rp_hook_*: the tests' fault injection), commit.c
 * (rp_commit_*: the transaction pipeline), assign.c (rp_assign_*: rebalances,
 * restores, rewinds), startup.c (rp_startup_*: clients, topics, the embedded
 * broker), writers.c (rp_writers_*: the schema registry) and loop.c (rp_loop_*:
 * the loop's handles, wake-ups, signals and shutdown), and view.c
 * (rp_proc_view_*: what the API may read).
 */
#ifndef REPUTE_RUNTIME_PROC_H
#define REPUTE_RUNTIME_PROC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

#include "repute/processor.h"
#include "repute/acctstate.h"
#include "repute/avro.h"
#include "repute/config.h"
#include "repute/engine.h"
#include "repute/kafka.h"
#include "repute/procview.h"
#include "repute/registry.h"
#include "repute/types.h"

#include "runtime/inq.h"

#define NTOP  5    /* input topics per task */
#define BATCH 2048 /* records applied per loop turn */

/* ---------------------------------------------------------------- types */

/* A chunk of dedupe keys in the changelog: its key's sequence number and
 * the newest key's time (the chunk is deleted once that is past the
 * horizon). */
typedef struct dd_chunk {
    uint64_t seq;
    int64_t newest;
} dd_chunk;

/* Changelog keys of repute's own records (dedupe chunks, the task's
 * stream time) start with a byte that cannot begin a UTF-8 account id. */
#define CLOCK_KEY                                                              \
    "\xff"                                                                     \
    "clock"
#define CLOCK_KEY_LEN 6
#define DD_PREFIX                                                              \
    "\xff"                                                                     \
    "dedupe/"
#define DD_PREFIX_LEN 8
#define DD_CHUNK_MAX  32768 /* keys per changelog record (512 KiB) */

struct lane;

typedef struct task {
    int32_t partition; /* The lane that applied its records last (lanes.c: with
                        * more than one lane, each round's tasks are taken by
                        * whichever lane is free); its codecs, sink and held
                        * outputs serve the task until the next. */
    struct lane *lane;
    dd_chunk *chunks;
    size_t n_chunks, cap_chunks;
    uint64_t next_chunk;
    int64_t clock_written; /* the clock last written to the changelog */
    rp_engine *engine;
    bool ready;             /* restored from the changelog */
    uint64_t restore_start; /* uv_now at the start of the restore */
    bool restore_txn;       /* the restore waits for an open transaction */
    uint64_t restored;      /* changelog records read */
    int64_t restore_next;   /* next changelog offset to read, -1: the start */
    inq q[NTOP];
    /* librdkafka's queue of each input partition, not forwarded to the
     * consumer's queue: each partition's prefetch then fills and drains
     * on its own, and the merge never waits behind other partitions'
     * records. NULL until the partition is assigned. */
    rd_kafka_queue_t *in[NTOP];
    int64_t next[NTOP];      /* offset after the last applied record, -1 */
    int64_t committed[NTOP]; /* next offset of the last commit, -1 */
    int64_t first[NTOP];     /* first offset fetched in this assignment */
    bool eof[NTOP];          /* end of partition seen after the last msg */
    /* Our position in each input partition: the offset after the last
     * message received, else where the last end-of-partition event was
     * (past any transaction markers), else the start offset the broker
     * told (merge.c's watermark query); -1 while unknown. */
    int64_t fetched[NTOP];
    int64_t eof_at[NTOP]; /* the position of the last end-of-partition, -1 */
    /* What the watermark query (read_committed: the last stable offset)
     * told: a readable end past our position (known_end), or that our
     * position was the end when asked (end_at); -1 when not told. */
    int64_t known_end[NTOP];
    int64_t end_at[NTOP];
    /* Caches for the event-time merge, which looks at every queue's head
     * for every record: the head's event time, and whether an empty
     * queue's partition had records past the last one received, as of
     * uv_now lag_at (asking librdkafka takes a lock). */
    int64_t head[NTOP]; /* the offset of the head whose time is cached, -1 */
    int64_t head_time[NTOP];
    /* The lane whose decoder read that time. Each lane's decoder learns a
     * registry's writer schemas on its own (writers.c), so a head peeked
     * by one lane is peeked again when another lane takes the task: else
     * that lane would decode a record whose writer schema it never added,
     * and send it to the DLQ as "not known yet". */
    const struct lane *head_lane[NTOP];
    uint64_t lag_at[NTOP];
    bool lag[NTOP];
    uint64_t wait_since; /* uv_now when it began waiting, 0 if not */
    bool expired_logged; /* its max.task.idle expiry was logged */
    /* A wait for a partition known to hold more records (no time limit):
     * uv_now when it began (0 if none), whether it was logged as long, and
     * when the broker was last asked where the partitions end. */
    uint64_t known_since;
    bool long_logged;
    uint64_t wm_asked_at;
    int64_t stream_time;       /* the largest event_time applied */
    uint64_t hold_until[NTOP]; /* test builds: REPUTE_TEST_HOLD (hooks.c) */
    uint64_t last_arrival;     /* uv_now of the last message received */
    uint64_t epoch;            /* p->task_epoch when it was made */
    bool wm_query;             /* a watermark query is in flight */
    bool wm_want;              /* a lane asked for one in a round */
    bool flushed;      /* its changelog was written by the commit's round */
    uint64_t burst_at; /* uv_now a burst began, 0 once asked about */
} task;

typedef enum work_kind { WORK_COMMIT, WORK_ABORT } work_kind;

/* A writer schema id met in the input (writers.c). */
typedef struct rp_wschema rp_wschema;

/* A record produced while a commit is in flight, held until the next
 * transaction has begun (key and value are owned copies). */
typedef struct pending_msg {
    uint64_t seq;      /* the round it was produced in (proc.round_seq) */
    const char *topic; /* a topic name of the config */
    int32_t partition;
    void *key, *value;
    size_t key_len, value_len;
    rd_kafka_headers_t *hdrs; /* owned, or NULL */
} pending_msg;

/* The counters of one lane, summed by rp_lanes_counters() (they never
 * go back: a lane lives as long as the processor). */
typedef struct lane_counters {
    uint64_t applied, dlq, produced;
    uint64_t consumed[NTOP]; /* records taken per input topic (applied or
                                sent to the DLQ) */
    /* The merge (merge.c): records applied below their task's stream time
     * per topic, records applied after max.task.idle expired, the time
     * spent waiting for partitions known to hold more records (ended
     * waits; the tasks' current ones are added when read), and the waits
     * longer than LONG_WAIT_MS. */
    uint64_t late[NTOP];
    uint64_t idle_expired;
    uint64_t wait_ms;
    uint64_t long_waits;
} lane_counters;

/* One of the threads that apply records (lanes.c): everything applying a
 * task's records writes besides the task itself, so that two lanes never
 * write the same memory during a round. */
typedef struct lane {
    struct proc *p;
    int id;
    pthread_t thread; /* lanes 1 ..: a thread of their own */
    bool started;
    /* Codecs: one decodes inputs, the other encodes outputs, so a decoded
     * record's borrowed strings survive the encoding of its outputs.
     * Lane 0's are p->dec and p->enc. */
    rp_avro_codec *dec, *enc;
    rp_buf current_buf; /* topic.current's AccountState, reused */
    rp_engine_sink sink;
    /* Outputs of the records applied while a commit is in flight (see
     * proc.pending): each lane holds its own. */
    pending_msg *pending;
    size_t n_pending, cap_pending;
    lane_counters c;
    /* A round's outcome, read by the loop once the round is over. */
    bool more;         /* more records could be applied at once */
    uint64_t wait_min; /* uv_now to look again at (UINT64_MAX: none) */
    size_t got;        /* messages taken off the input queues */
    bool uncommitted;  /* work was done in the round */
    const char *fail;  /* a fatal failure, for rp_loop_fail_fatal */
    uint32_t rotation; /* threads=1: the task the next turn starts with */
    /* Busy time (ns, CLOCK_MONOTONIC) in rounds; the share of the last
     * stats interval (loop.c). */
    uint64_t busy_ns, busy_ns_last;
    double busy_share;
} lane;

typedef struct proc {
    uv_loop_t *loop;
    rp_config *cfg;
    rd_kafka_t *consumer, *producer, *restorer, *mock_rk;
    rd_kafka_mock_cluster_t *mock;
    rd_kafka_queue_t *cq, *rq, *pq;
    int pipefd[2];
    uv_poll_t poll;
    uv_timer_t commit_timer, review_timer, idle_timer, stats_timer;
    uint64_t last_applied, start_ms, ready_logged;
    uint64_t trimmed_at;   /* uv_now of the last rp_merge_trim, 0: never */
    uint64_t trim_applied; /* p->applied when the loop was last busy */
    bool trimmed;          /* memory given back in this quiet period */
    uint64_t task_epoch;   /* numbers tasks, for requests that outlive one */
    uv_idle_t work_idle;
    uv_poll_t stop_poll; /* rp_stop_fd(): a signal asks to stop */
    /* The one piece of work that can be in flight on the thread pool. */
    uv_work_t work;
    work_kind work_kind;
    bool committing;
    rd_kafka_error_t *work_error;
    bool work_committed; /* the commit itself succeeded */
    bool work_consumed;  /* a revocation already handled the outcome */
    rd_kafka_topic_partition_list_t *work_offsets;
    pthread_mutex_t work_mu;
    pthread_cond_t work_cv;
    bool work_done;
    /* Tasks, indexed by partition number. */
    task **tasks;
    int32_t n_parts;
    int n_tasks;
    /* Codecs: one decodes inputs, the other encodes outputs, so a decoded
     * record's borrowed strings survive the encoding of its outputs
     * (lane 0's; each other lane makes its own, lanes.c). */
    rp_avro_codec *dec, *enc;
    /* The schema ids the codecs were made with (writers.c), for the
     * codecs of the other lanes. */
    int32_t dec_ids[RP_SCHEMA_ID__COUNT], enc_ids[RP_SCHEMA_ID__COUNT];
    /* topic.current (output.c): the AccountState's schema id for the
     * Confluent header (RP_ACCTSTATE_NO_ID with the plain framing); the
     * buffer it is encoded into is each lane's. */
    int32_t current_id;
    bool rebuild_current; /* --rebuild-current (rp_current_rebuild) */
    /* The schema registry (writers.c): the client (NULL without one), the
     * writer schema ids met, uv_now since when it has been unreachable (0
     * while it answers), the fetches that found it so, and the schemas
     * fetched. */
    rp_registry *reg;
    rp_wschema **wsch;
    size_t n_wsch, cap_wsch;
    uint64_t reg_down_since;
    uint64_t reg_retries;
    uint64_t reg_fetched;
    int reg_inflight; /* fetches on the thread pool */
    bool eos;
    bool txn_open;
    bool uncommitted; /* work was done since the last commit */
    bool stopping, closing, fatal, loop_stopped;
    bool tearing_down; /* cleanup after the loop: rebalances only unassign */
    /* Set from any thread (delivery reports and errors may be served on
     * the worker inside a commit); the loop acts on them. */
    atomic_bool txn_failed;  /* a record of the open transaction failed */
    atomic_bool fatal_async; /* librdkafka reported a fatal error */
    uv_async_t wake;         /* tells the loop to look at those */
    atomic_bool wake_ready;  /* wake is initialised */
    /* Signals (docs/run.md, "Signals"): what start-up is waiting for (for
     * the log), whether the loop runs, and once a signal came, which
     * signal and the phase it came in ("start-up", "the group join",
     * "the restore", "processing"). */
    const char *doing;
    bool loop_running;
    int stop_sig;
    char stop_phase[96];
    int exit_code;
    int64_t wall_now; /* the wall clock for the current batch */
    /* Counters, for logs and metrics (the per-record ones are the
     * lanes', lane.c). */
    uint64_t commits, aborts;
    rp_engine_stats retired; /* engine counters of tasks dropped */
    bool assigned;           /* an assignment arrived at least once */
    uint64_t commit_started; /* uv_now at the start of the commit */
    /* Outputs of the records applied while a commit is in flight: the
     * loop goes on applying records during a commit, but their outputs
     * belong to the next transaction (held per lane, lane.pending). */
    bool hold; /* the producer is inside a commit: hold outputs */
    /* The lanes (lanes.c): lanes[0] runs on the loop thread, the others
     * each on a thread of their own, in rounds the loop starts and waits
     * for (in_round is true during one, with more than one lane). */
    lane *lanes;
    int n_lanes;
    bool in_round;
    /* A round (lanes.c), under round_mu: its tasks, the next to take,
     * whether it is open, the lanes busy with a task of it, and what it
     * does; lanes wait on round_cv, the loop on done_cv. */
    pthread_mutex_t round_mu;
    pthread_cond_t round_cv, done_cv;
    task **round_tasks; /* n_parts long */
    int32_t round_n, round_next;
    bool round_open;
    int round_busy;
    int round_kind;
    uint64_t round_seq;      /* rounds run (held outputs are ordered by it) */
    bool lanes_quit;         /* the lanes' threads end */
    pthread_mutex_t obs_mu;  /* serialises obs->on_event between lanes */
    pthread_mutex_t wsch_mu; /* the writer schemas' table (writers.c) */
    bool wsch_due;           /* a lane found a fetch due (writers.c) */
    /* The HTTP API, told of events and commits (NULL until started). */
    const rp_proc_observer *obs; /* never NULL (an empty one) */
} proc;

/* The wall clock in milliseconds since the Unix epoch (clock=wall). */
static inline int64_t rp_run_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The name of input topic index t (RP_TOPIC_DELIVERIES ...). */
static inline const char *rp_in_topic(const proc *p, int t) {
    return p->cfg->topic[t];
}

/* Little-endian 64-bit values of the changelog's own records. */
static inline void rp_put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t rp_get_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---------------------------------------------------------------- task.c */

/* The input topic index of a topic name, or -1. */
int rp_topic_index(const proc *p, const char *name);
/* A new task for partition (engine made, offsets -1), or NULL (out of
 * memory). The caller frees it with rp_task_free. */
task *rp_task_new(proc *p, int32_t partition);
/* Frees a task, its buffered messages and its partition queues (NULL:
 * nothing). */
void rp_task_free(task *t);
/* Takes the task's input partitions off the consumer's queue (see
 * task.in). Returns 0 or -1 (not assigned). */
int rp_task_open_queues(proc *p, task *t);
/* Notes a dedupe chunk written to (or read from) the changelog. Returns 0
 * or RP_ENOMEM. */
int rp_task_chunk_note(task *t, uint64_t seq, int64_t newest);
/* Restores a dedupe chunk read from the changelog. */
void rp_task_chunk_restore(task *t, const rd_kafka_message_t *m);

/* ---------------------------------------------------------------- lanes.c */

/* What a round does: apply records (rp_merge_lane_turn), or write the
 * changelog of a commit (rp_commit_lane_flush). */
#define ROUND_APPLY 0
#define ROUND_FLUSH 1

/* The lanes to use: threads (0: the cores this process may use), capped
 * at the partition count; at least 1. */
int rp_lanes_wanted(const rp_config *cfg, int32_t n_parts);
/* Makes the lanes (lane 0 takes p->dec and p->enc; the others get codecs
 * of their own) and starts the threads of lanes 1 ... Returns 0 or -1
 * (logged). rp_lanes_close frees them, also after a failure. */
int rp_lanes_open(proc *p);
/* Ends the lanes' threads and frees the lanes (after the loop). */
void rp_lanes_close(proc *p);
/* A decoder and an encoder as p->dec and p->enc were made (the ids of
 * p->dec_ids and p->enc_ids; registry mode when p->reg). Returns 0 or -1
 * (logged; *dec and *enc NULL). The caller destroys them. */
int rp_lanes_codecs(proc *p, rp_avro_codec **dec, rp_avro_codec **enc);
/* Runs one round of kind over the ready tasks and returns when it is
 * over: with one lane a call on the loop thread; with more, the lanes
 * (lane 0 the calling loop thread) take the tasks one at a time. */
void rp_lanes_round(proc *p, int kind);
/* After a round, on the loop: what the lanes left for the loop (failures,
 * uncommitted work, watermark queries, writer schema fetches). */
void rp_lanes_settle(proc *p);
/* A fatal failure in a lane: rp_loop_fail_fatal now, or, during a round
 * with other lanes running, after it (rp_lanes_settle). */
void rp_lane_fail(lane *l, const char *what);
/* True once the processor or this lane has failed: stop applying. */
static inline bool rp_lane_failed(const lane *l) {
    return l->fail || l->p->fatal;
}
/* The lanes' counters summed; the records applied by all. */
void rp_lanes_counters(const proc *p, lane_counters *out);
uint64_t rp_lanes_applied(const proc *p);

/* ---------------------------------------------------------------- output.c */

/* Produces one record; while a commit is in flight (p->hold), holds a copy
 * for the next transaction instead. Takes hdrs (also on failure). Returns
 * 0, or -1 when the record is lost (the transaction then aborts, or the
 * processor stops). */
int rp_out_produce(lane *l, const char *topic, int32_t partition,
                   const void *key, size_t key_len, const void *val,
                   size_t val_len, rd_kafka_headers_t *hdrs);
/* Produces every lane's held records into the transaction that has just
 * begun (on the loop, between rounds). */
void rp_out_pending_flush(proc *p);
/* Drops every lane's held records. */
void rp_out_pending_clear(proc *p);
/* Sends input message m of topic index t to the DLQ, saying why. */
void rp_out_dlq(lane *l, int t, const inrec *m, const char *why);
/* Refuses (-1, logged) a topic.current whose cleanup.policy is not
 * compact; 0 otherwise, also when the broker cannot tell (warned). */
int rp_current_check_policy(proc *p, rd_kafka_t *rk);
/* --rebuild-current: writes the state of every account of t's engine to
 * topic.current (a tombstone for a healthy one), into the open
 * transaction, right after t's restore. */
void rp_current_rebuild(proc *p, task *t);
/* Produces st to topic.current, keyed by its account: the AccountState,
 * or a tombstone when st->status is HEALTHY. Returns rp_out_produce's
 * answer (-1 after a fatal encoding failure, logged). */
int rp_out_current(lane *l, const rp_account_state *st);
/* Sets l->sink, the engine's sink of the lane's tasks: events to the
 * status topic (and, after a STATUS_CHANGE, the account's state to
 * topic.current), reports to the reports topic. */
void rp_out_sink_init(lane *l);
static inline const rp_engine_sink *rp_out_sink(lane *l) {
    return &l->sink;
}

/* ---------------------------------------------------------------- merge.c */

/* Makes the loop apply records (and look at the queues) on its next turns,
 * unless it is stopping. */
void rp_merge_kick(proc *p);
/* Gives back the large rings of the input FIFOs that are empty (inq.h,
 * rp_inq_trim): when the loop runs out of work, at most once a second
 * (a backlog followed by steady traffic may never go quiet), and with
 * now_anyway when the process goes quiet, just before malloc_trim
 * (commit.c). Between rounds only, never while a popped record is in use. */
void rp_merge_trim(proc *p, bool now_anyway);
/* With one lane: a turn of applying, up to BATCH records across the ready
 * tasks; the outcome in l->more, l->wait_min, l->got (lanes.c). */
void rp_merge_lane_turn(lane *l);
/* With more than one: task t's turn in a round, taken by lane l: its
 * input queues, then up to BATCH of its records; the outcome added to
 * l->more, l->wait_min, l->got. */
void rp_merge_task_turn(lane *l, task *t);
/* Takes what the input partitions' queues and the consumer's queue hold.
 * Returns the number of messages and events taken. */
size_t rp_merge_consume_input(proc *p);
/* What an empty buffer's partition may hold (merge.c, "Merge and
 * idling"). */
typedef enum rp_part_state {
    PART_END,   /* nothing past our position: no wait */
    PART_MAYBE, /* not known: wait at most max.task.idle */
    PART_KNOWN  /* records past our position: wait as long as it takes */
} rp_part_state;
rp_part_state rp_merge_part_state(proc *p, task *t, int i);
/* Milliseconds the tasks have spent waiting for partitions known to hold
 * more records, the current waits included. */
uint64_t rp_merge_wait_ms(const proc *p);
/* Counts the wait of a task about to be dropped or rebuilt as ended. */
void rp_merge_task_gone(proc *p, task *t);

/* ---------------------------------------------------------------- writers.c */

/* With a schema registry: makes the client, registers the output schemas
 * and makes the codecs (p->dec in registry mode). Returns 0 or the exit
 * status (logged). */
int rp_writers_open(proc *p);
/* Frees the table of writer schemas and the client (after the loop). */
void rp_writers_free(proc *p);
/* The event time of input message m of topic index ti for the merge
 * (INT64_MIN when it cannot be read: it goes to the DLQ first). Returns 0,
 * or 1 when its writer schema is being fetched: the task waits, until
 * uv_now *until (0: the fetch's end kicks the loop). */
int rp_writers_peek(lane *l, int ti, const inrec *m, int64_t *et,
                    uint64_t *until);
/* When the registry refused m's writer schema id, says so in err (which
 * then replaces the decoder's RP_ENOSCHEMA message). */
void rp_writers_refusal(proc *p, const inrec *m, char *err, size_t size);
/* Starts the fetches a lane found due during a round (on the loop). */
void rp_writers_start_due(proc *p);

/* ------------------------------------------------------------ watermark.c */

/* Asks the broker where task t's empty partitions end (and where it starts
 * those it knows no position in), on the thread pool; settle: a burst has
 * settled, so partitions that may get live input are asked about too. */
void rp_wm_query(proc *p, task *t, bool settle);
/* Asks about the partitions of the bursts that have had time to arrive
 * (called from the commit timer). */
void rp_wm_settle_bursts(proc *p);

/* ---------------------------------------------------------------- hooks.c */

/* Test builds only (REPUTE_TEST_HOOKS): true when the merge must not take
 * topic index k's messages for task t now; noting a take; when a held topic
 * of t may be taken again (0: none). Other builds get the empty inline
 * versions below, so that the merge calls nothing. */
#ifdef REPUTE_TEST_HOOKS
void rp_hook_init(proc *p);
bool rp_hook_hold(proc *p, task *t, int k);
void rp_hook_taken(proc *p, task *t, int k);
uint64_t rp_hook_next(proc *p, const task *t);
#else
static inline void rp_hook_init(proc *p) {
    (void)p;
}
static inline bool rp_hook_hold(proc *p, task *t, int k) {
    (void)p, (void)t, (void)k;
    return false;
}
static inline void rp_hook_taken(proc *p, task *t, int k) {
    (void)p, (void)t, (void)k;
}
static inline uint64_t rp_hook_next(proc *p, const task *t) {
    (void)p, (void)t;
    return 0;
}
#endif

/* ---------------------------------------------------------------- commit.c */

/* Starts a commit (or, when the transaction has failed, an abort) on the
 * thread pool, unless one is in flight or the processor has failed. */
void rp_commit_start(proc *p);
/* Produces every ready task's dirty state to the changelog and returns the
 * offsets to commit (the caller destroys the list). */
rd_kafka_topic_partition_list_t *rp_commit_prepare(proc *p);
/* rp_commit_prepare's round: with one lane, every ready task's dirty
 * states, dedupe chunks and clock to the changelog; with more, task t's,
 * taken by lane l (task.flushed when written). */
void rp_commit_lane_flush(lane *l);
void rp_commit_task_flush(lane *l, task *t);
/* Records the offsets of l as committed. */
void rp_commit_mark(proc *p, rd_kafka_topic_partition_list_t *l);
/* The blocking part of a commit: sends the offsets and commits (then
 * begins the next transaction), or, at_least_once, flushes and commits
 * the offsets. Returns NULL or an error the caller destroys. */
rd_kafka_error_t *rp_commit_blocking(proc *p,
                                     rd_kafka_topic_partition_list_t *l);
/* Blocks until the in-flight work (if any) has finished on its thread. */
void rp_commit_wait(proc *p);
/* The commit.interval timer (h->data is the proc). */
void rp_commit_on_timer(uv_timer_t *h);

/* ---------------------------------------------------------------- assign.c */

/* The consumer's rebalance callback (opaque is the proc). */
void rp_assign_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts,
                            void *opaque);
/* Rebuilds every task from the committed changelog and rewinds its input
 * partitions to the committed offsets (after an abort). */
void rp_assign_rewind(proc *p);
/* Drops every task, keeping their engines' counters in p->retired. */
void rp_assign_drop_all(proc *p);
/* Takes what the restore consumer holds: changelog records into the
 * restoring tasks. Returns the number of messages and events taken. */
size_t rp_assign_consume_changelog(proc *p);

/* ---------------------------------------------------------------- startup.c */

/* Starts librdkafka's mock cluster and points the config at it. Returns 0
 * or -1 (logged). */
int rp_startup_embedded(proc *p);
/* A client of the given role with the processor's callbacks (and tid as
 * transactional.id unless NULL), or NULL (logged). The caller destroys it
 * with rd_kafka_destroy. */
rd_kafka_t *rp_startup_client(proc *p, rp_kafka_role role, rd_kafka_type_t type,
                              const char *tid);
/* Creates the topics (topics.create) and checks them. Returns the
 * partition count, or -1 (logged, unless a signal stopped it). */
int32_t rp_startup_check_topics(proc *p, rd_kafka_t *rk);
/* rd_kafka_metadata (every topic) and rd_kafka_init_transactions, waiting
 * up to timeout_ms in slices that look at rp_stop_signal() (startup.c).
 * A signal makes them return RD_KAFKA_RESP_ERR__INTR (an error object
 * with that code), without waiting further. */
rd_kafka_resp_err_t rp_startup_metadata(rd_kafka_t *rk,
                                        const struct rd_kafka_metadata **md,
                                        int timeout_ms);
rd_kafka_error_t *rp_startup_init_transactions(rd_kafka_t *rk, int timeout_ms);

/* ---------------------------------------------------------------- loop.c */

/* Initialises and starts the loop's handles: the pipe's poll, the timers,
 * the idle handle, the wake-up and the signals. */
void rp_loop_open(proc *p);
/* Takes what every librdkafka queue holds. Returns the count taken. */
size_t rp_loop_drain(proc *p);
/* Drains what is already waiting, then runs the loop until it stops. */
void rp_loop_run(proc *p);
/* Closes the loop's handles (once), the HTTP server with them. */
void rp_loop_stop(proc *p);
/* Takes the next step of the shutdown (see loop.c). */
void rp_loop_continue_shutdown(proc *p);
/* Stops the processor with exit status 1, logging what failed. */
void rp_loop_fail_fatal(proc *p, const char *what);
/* Where the processor is, for the log line of a signal: "start-up" (with
 * what it waits for) before the loop runs, then "the group join", "the
 * restore" or "processing". Writes into buf and returns it. */
const char *rp_loop_phase(const proc *p, char *buf, size_t size);

/* ---------------------------------------------------------------- view.c */

/* The read-only view of p the API reads (valid as long as p). */
const rp_proc_view *rp_proc_view_of(const proc *p);

#endif
