/*
 * runtime/proc.h - the processor's state, shared by the files of the
 * runtime (processor.c runs it, api.c serves it over HTTP).
 *
 * Nothing outside src/runtime/ includes this header. Everything in it is
 * owned by the processor and touched only on the loop thread, except the
 * fields marked as set from other threads; the HTTP handlers run on the
 * loop thread too, so they read the tasks and engines without locks.
 */
#ifndef REPUTE_RUNTIME_PROC_H
#define REPUTE_RUNTIME_PROC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

#include "repute/avro.h"
#include "repute/config.h"
#include "repute/engine.h"

#define NTOP  5    /* input topics per task */
#define BATCH 2048 /* records applied per loop turn */
/* Records buffered per input partition: the loop takes no more from the
 * partition's librdkafka queue above this (librdkafka's prefetch then fills
 * and stops fetching that partition). */
#define INPUT_MAX 8192

/* ---------------------------------------------------------------- types */

typedef struct msgq {
    rd_kafka_message_t **v;
    size_t head, n, cap;
} msgq;

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

typedef struct task {
    int32_t partition;
    dd_chunk *chunks;
    size_t n_chunks, cap_chunks;
    uint64_t next_chunk;
    int64_t clock_written; /* the clock last written to the changelog */
    rp_engine *engine;
    bool ready;             /* restored from the changelog */
    uint64_t restore_start; /* uv_now at the start of the restore */
    uint64_t restored;      /* changelog records read */
    msgq q[NTOP];
    /* librdkafka's queue of each input partition, not forwarded to the
     * consumer's queue: each partition's prefetch then fills and drains
     * on its own, and the merge never waits behind other partitions'
     * records. NULL until the partition is assigned. */
    rd_kafka_queue_t *in[NTOP];
    int64_t next[NTOP];      /* offset after the last applied record, -1 */
    int64_t committed[NTOP]; /* next offset of the last commit, -1 */
    int64_t first[NTOP];     /* first offset fetched in this assignment */
    bool eof[NTOP];          /* end of partition seen after the last msg */
    int64_t fetched[NTOP];   /* offset after the last message received */
    /* Caches for the event-time merge, which looks at every queue's head
     * for every record: the head's event time, and whether an empty
     * queue's partition had records past the last one received, as of
     * uv_now lag_at (asking librdkafka takes a lock). */
    const rd_kafka_message_t *head[NTOP];
    int64_t head_time[NTOP];
    uint64_t lag_at[NTOP];
    bool lag[NTOP];
    uint64_t wait_since;   /* uv_now when it began waiting, 0 if not */
    uint64_t last_arrival; /* uv_now of the last message received */
    uint64_t epoch;        /* p->task_epoch when it was made */
    bool wm_query;         /* a watermark query is in flight */
    uint64_t burst_at;     /* uv_now a burst began, 0 once asked about */
} task;

typedef enum work_kind { WORK_COMMIT, WORK_ABORT } work_kind;

/* A record produced while a commit is in flight, held until the next
 * transaction has begun (key and value are owned copies). */
typedef struct pending_msg {
    const char *topic; /* a topic name of the config */
    int32_t partition;
    void *key, *value;
    size_t key_len, value_len;
    rd_kafka_headers_t *hdrs; /* owned, or NULL */
} pending_msg;

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
    uint64_t trim_applied; /* p->applied when the loop was last busy */
    bool trimmed;          /* memory given back in this quiet period */
    uint64_t task_epoch;   /* numbers tasks, for requests that outlive one */
    uv_idle_t work_idle;
    uv_signal_t sigint, sigterm;
    /* The one piece of work that can be in flight on the thread pool. */
    uv_work_t work;
    work_kind work_kind;
    bool committing;
    rd_kafka_error_t *work_error;
    bool work_committed; /* the commit itself succeeded */
    bool work_consumed;  /* a revocation already handled the outcome */
    uint32_t rotation;   /* the task process_some starts with, in turn */
    rd_kafka_topic_partition_list_t *work_offsets;
    pthread_mutex_t work_mu;
    pthread_cond_t work_cv;
    bool work_done;
    /* Tasks, indexed by partition number. */
    task **tasks;
    int32_t n_parts;
    int n_tasks;
    /* Codecs: one decodes inputs, the other encodes outputs, so a decoded
     * record's borrowed strings survive the encoding of its outputs. */
    rp_avro_codec *dec, *enc;
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
    int signals;
    int exit_code;
    int64_t wall_now; /* the wall clock for the current batch */
    /* Counters, for logs and metrics. */
    uint64_t applied, dlq, produced, commits, aborts;
    uint64_t consumed[NTOP]; /* records taken per input topic (applied or
                                sent to the DLQ) */
    rp_engine_stats retired; /* engine counters of tasks dropped */
    bool assigned;           /* an assignment arrived at least once */
    uint64_t commit_started; /* uv_now at the start of the commit */
    /* Outputs of the records applied while a commit is in flight: the
     * loop goes on applying records during a commit, but their outputs
     * belong to the next transaction. */
    pending_msg *pending;
    size_t n_pending, cap_pending;
    bool hold; /* the producer is inside a commit: hold outputs */
    /* The HTTP server and what it keeps (api.c). */
    struct rp_http_server *http;
    struct rp_api_notes *notes;
    uint64_t commit_le[12]; /* commit latency histogram (api.c bounds) */
    uint64_t commit_count;
    double commit_seconds;
} proc;

/* The wall clock in milliseconds since the Unix epoch (clock=wall). */
static inline int64_t rp_run_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- api.c */

/* Starts the HTTP server on p->loop at cfg->http_listen (nothing when it
 * is "off"). Returns 0, or an RP_E* code with errstr naming http.listen. */
int rp_api_start(proc *p, char *errstr, size_t errstr_size);
/* Closes the server (asynchronously, with the loop's other handles). */
void rp_api_stop(proc *p);
/* Called for every output event the engines publish: keeps the latest
 * notifications of each account for GET /v1/accounts/{id}. */
void rp_api_note_event(proc *p, const rp_event *ev);
/* Called when a commit finished (ms: how long it took) for the histogram
 * of /metrics. */
void rp_api_commit_done(proc *p, uint64_t ms);
/* Frees what rp_api_note_event kept. */
void rp_api_free(proc *p);

#endif
