/*
 * processor.c - `repute run`: Kafka in, engine, Kafka out, on one libuv loop.
 *
 * Threads and blocking
 * --------------------
 * Everything but applying records happens on one libuv loop thread;
 * records are applied (and a commit's changelog written) by `threads`
 * lanes in rounds the loop starts and waits for (lanes.c), so that all
 * the rest sees every task at rest, as with one thread. librdkafka's
 * queues wake
 * the loop through one pipe, and the loop drains them with zero timeouts,
 * so no librdkafka call on the loop waits for the network (loop.c). The
 * transactional calls that do wait (send offsets, commit, abort, begin)
 * run on libuv's thread pool with uv_queue_work while the loop goes on
 * (commit.c), and so do the watermark queries of the merge (merge.c). The
 * exceptions, each bounded and rare: start-up (metadata, topic creation,
 * init_transactions; startup.c and below) and a rebalance revocation,
 * which must commit before it gives partitions away (assign.c).
 *
 * The rooms
 * ---------
 * The processor's state (struct proc) and the functions the rooms call in
 * one another are declared in proc.h. Each room opens with its own essay:
 *
 *   task.c     a task (partition number p of every input and of the
 *              changelog): its engine, buffers, offsets, dedupe chunks;
 *   merge.c    which record a task applies next (the event-time merge),
 *              when it waits (idling, bursts), the wall clock's reviews;
 *   output.c   producing outputs, reports, DLQ and changelog records, and
 *              holding them while a commit is in flight;
 *   commit.c   the transaction pipeline: changelog flush, commit and abort
 *              on the thread pool, their outcomes;
 *   assign.c   assignments, restores, revocations, the rewind after an
 *              abort;
 *   startup.c  clients, callbacks, topic checks, the embedded broker;
 *   writers.c  the schema registry: output schemas registered at start,
 *              writer schemas fetched while their records wait;
 *   loop.c     the loop's handles, wake-ups, signals and shutdown;
 *   lanes.c    the threads that apply the tasks' records, in rounds;
 *   view.c     what the HTTP API (src/api/) may read of it all.
 *
 * In short: a record travels from librdkafka's queue into its task's
 * buffer (merge.c), is applied by the merge to the task's engine, whose
 * outputs go to the open transaction (output.c); every commit.interval the
 * dirty state goes to the changelog and the transaction commits with the
 * offsets (commit.c); a failure aborts, and the tasks are rebuilt from
 * the changelog and rewound (assign.c).
 *
 * This file starts it all in named steps and frees it all at the end.
 *
 * Signals
 * -------
 * SIGINT and SIGTERM stop the processor cleanly at every moment
 * (docs/run.md, "Signals"). Their handlers are installed before the first
 * step (repute/stop.h; `repute run` does it first thing, and
 * rp_processor_run makes sure). The steps of start-up wait in slices and
 * give up when a signal has come (startup.c); between two steps the
 * signal is looked at too, and a signal in start-up ends the run there,
 * with exit status 0: nothing was applied yet, so nothing can be
 * committed half-way, and the transaction begun is empty. Once the loop
 * runs, it watches the signal's latch and shuts down in steps (loop.c).
 */
#include "repute/processor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

#include "repute/avro.h"
#include "repute/kafka.h"
#include "repute/log.h"
#include "repute/stop.h"

#include "runtime/proc.h"

/* Each step below returns 0, or the exit status to stop with (logged). */

/* Stands in when nobody observes the processor, so that callers of
 * p->obs test only the callback they call. */
static const rp_proc_observer no_observer = {0};

static void proc_init(proc *p, rp_config *cfg, const rp_run_options *opts) {
    memset(p, 0, sizeof(*p));
    p->cfg = cfg;
    p->obs = opts->observer ? opts->observer : &no_observer;
    p->rebuild_current = opts->rebuild_current;
    p->pipefd[0] = p->pipefd[1] = -1;
    p->exit_code = 0;
    p->eos = cfg->guarantee == RP_GUARANTEE_EXACTLY_ONCE;
    pthread_mutex_init(&p->work_mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_mutex_init(&p->round_mu, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    pthread_mutex_init(&p->obs_mu, NULL);
    pthread_mutex_init(&p->wsch_mu, NULL);
}

/* The embedded broker (--embedded), the bootstrap servers and the codecs. */
static int open_codecs(proc *p, const rp_run_options *opts) {
    rp_config *cfg = p->cfg;
    if (opts->embedded && rp_startup_embedded(p) != 0)
        return 1;
    if (!rp_kafka_has_bootstrap(cfg)) {
        rp_log_error("run: kafka.bootstrap.servers: not set (give it with "
                     "--set kafka.bootstrap.servers=HOST:PORT, or use "
                     "--embedded)");
        return 2;
    }
    if (rp_registry_configured(cfg))
        return rp_writers_open(p);
    p->current_id = RP_ACCTSTATE_NO_ID;
    if (cfg->framing == RP_FRAMING_CONFLUENT) {
        if (cfg->schema_id_current <= 0) {
            rp_log_error("run: avro.schema.id.current: required with "
                         "avro.framing = confluent and no schema registry "
                         "(the id of AccountState, for topic.current)");
            return 2;
        }
        p->current_id = cfg->schema_id_current;
    }
    memcpy(p->dec_ids, cfg->schema_id, sizeof(p->dec_ids));
    memcpy(p->enc_ids, cfg->schema_id, sizeof(p->enc_ids));
    return rp_lanes_codecs(p, &p->dec, &p->enc) == 0 ? 0 : 1;
}

/* The producer, the topics (checked with it), the task table and, under
 * exactly_once, the first transaction. */
static int open_producer(proc *p) {
    rp_config *cfg = p->cfg;
    char tid[512];
    char host[128] = "host";
    gethostname(host, sizeof(host) - 1);
    snprintf(tid, sizeof(tid), "repute-%s-%s-%ld", cfg->group_id, host,
             (long)getpid());
    p->producer = rp_startup_client(
        p, p->eos ? RP_KAFKA_TXN_PRODUCER : RP_KAFKA_PRODUCER,
        RD_KAFKA_PRODUCER,
        p->eos && !rp_kafka_conf_has(cfg, "transactional.id") ? tid : NULL);
    if (!p->producer)
        return 2;
    if (rp_stop_signal())
        return 0;
    int32_t parts = rp_startup_check_topics(p, p->producer);
    if (parts < 0)
        return 2;
    p->n_parts = parts;
    p->tasks = calloc((size_t)parts, sizeof(task *));
    if (!p->tasks)
        return 1;
    if (p->eos) {
        p->doing = "initialising transactions";
        rd_kafka_error_t *e = rp_startup_init_transactions(p->producer, 30000);
        if (!e)
            e = rd_kafka_begin_transaction(p->producer);
        if (e && rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__INTR) {
            rd_kafka_error_destroy(e);
            return 0;
        }
        if (e) {
            rp_log_error("run: cannot start transactions: %s",
                         rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return 1;
        }
        p->txn_open = true;
    }
    return 0;
}

/* The lanes that apply records (lanes.c), once the partition count is
 * known. */
static int open_lanes(proc *p) {
    return rp_lanes_open(p) == 0 ? 0 : 1;
}

/* The group consumer, the restore consumer, and the pipe their queues and
 * the producer's wake the loop with. */
static int open_consumers(proc *p) {
    p->consumer =
        rp_startup_client(p, RP_KAFKA_CONSUMER, RD_KAFKA_CONSUMER, NULL);
    p->restorer =
        rp_startup_client(p, RP_KAFKA_RESTORE, RD_KAFKA_CONSUMER, NULL);
    if (!p->consumer || !p->restorer)
        return 1;
    rd_kafka_poll_set_consumer(p->consumer);
    rd_kafka_poll_set_consumer(p->restorer);
    p->cq = rd_kafka_queue_get_consumer(p->consumer);
    p->rq = rd_kafka_queue_get_consumer(p->restorer);
    p->pq = rd_kafka_queue_get_main(p->producer);

    /* Wake-ups from librdkafka's queues. */
    if (pipe2(p->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        rp_log_error("run: pipe: %s", strerror(errno));
        return 1;
    }
    rd_kafka_queue_io_event_enable(p->cq, p->pipefd[1], "c", 1);
    rd_kafka_queue_io_event_enable(p->rq, p->pipefd[1], "r", 1);
    rd_kafka_queue_io_event_enable(p->pq, p->pipefd[1], "p", 1);
    return 0;
}

/* The observer (`repute run` wires the HTTP API in here); when it cannot
 * start, the loop's handles are closed again (the loop runs until they
 * are). */
static int start_observer(proc *p) {
    char herr[512];
    if (p->obs->start &&
        p->obs->start(p->obs->opaque, p->loop, p->cfg, rp_proc_view_of(p), herr,
                      sizeof(herr)) != 0) {
        rp_log_error("run: %s", herr);
        rp_loop_stop(p);
        uv_run(p->loop, UV_RUN_DEFAULT);
        return 2;
    }
    return 0;
}

static int subscribe(proc *p) {
    rd_kafka_topic_partition_list_t *sub =
        rd_kafka_topic_partition_list_new(NTOP);
    for (int t = 0; t < NTOP; t++)
        rd_kafka_topic_partition_list_add(sub, rp_in_topic(p, t),
                                          RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr = rd_kafka_subscribe(p->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (serr) {
        rp_log_error("run: subscribe: %s", rd_kafka_err2str(serr));
        return 1;
    }
    return 0;
}

/* After a signal in start-up: says where it stopped (the step returned
 * early without logging) and returns exit status 0. */
static int stopped_in_startup(proc *p) {
    char phase[128];
    rp_log_info("run: stopped by %s during %s; nothing was applied or "
                "committed",
                rp_stop_signal_name(rp_stop_signal()),
                rp_loop_phase(p, phase, sizeof(phase)));
    return 0;
}

/* Runs the loop until the processor stops; returns its exit status. */
static int run(proc *p) {
    p->start_ms = uv_now(p->loop);
    rp_log_info("run: started: group %s, %d partitions, %s, clock=%s",
                p->cfg->group_id, (int)p->n_parts,
                p->eos ? "exactly_once" : "at_least_once",
                p->cfg->clock == RP_CLOCK_EVENT ? "event" : "wall");
    rp_loop_run(p);
    int rc = p->exit_code;
    lane_counters c;
    rp_lanes_counters(p, &c);
    char by[160] = "";
    if (p->stop_sig)
        snprintf(by, sizeof(by), " by %s during %s",
                 rp_stop_signal_name(p->stop_sig), p->stop_phase);
    rp_log_info("run: stopped%s: %" PRIu64 " records applied, %" PRIu64
                " to the DLQ, %" PRIu64 " commits, %" PRIu64 " aborts",
                by, c.applied, c.dlq, p->commits, p->aborts);
    return rc;
}

/* Frees everything, whatever step was reached; rc is the exit status (a
 * transaction left open is aborted unless the run ended well). */
static void teardown(proc *p, int rc) {
    p->tearing_down = true;
    /* The consumer first: closing it may call the rebalance callback,
     * which must find everything else still there. */
    if (p->consumer) {
        if (!rd_kafka_consumer_closed(p->consumer))
            rd_kafka_consumer_close(p->consumer);
    }
    rp_assign_drop_all(p);
    free(p->tasks);
    rp_out_pending_clear(p);
    rp_lanes_close(p);
    if (p->cq)
        rd_kafka_queue_destroy(p->cq);
    if (p->rq)
        rd_kafka_queue_destroy(p->rq);
    if (p->pq)
        rd_kafka_queue_destroy(p->pq);
    if (p->restorer) {
        rd_kafka_consumer_close(p->restorer);
        rd_kafka_destroy(p->restorer);
    }
    if (p->consumer)
        rd_kafka_destroy(p->consumer);
    if (p->producer) {
        if (p->eos && p->txn_open && (rc != 0 || p->fatal)) {
            rd_kafka_error_t *e = rd_kafka_abort_transaction(p->producer, 5000);
            if (e)
                rd_kafka_error_destroy(e);
        }
        rd_kafka_flush(p->producer, 10000);
        rd_kafka_destroy(p->producer);
    }
    if (p->mock)
        rd_kafka_mock_cluster_destroy(p->mock);
    if (p->mock_rk)
        rd_kafka_destroy(p->mock_rk);
    if (p->obs->free)
        p->obs->free(p->obs->opaque);
    rp_avro_codec_destroy(p->dec);
    rp_avro_codec_destroy(p->enc);
    rp_writers_free(p);
    if (p->pipefd[0] >= 0) {
        close(p->pipefd[0]);
        close(p->pipefd[1]);
    }
    if (p->loop)
        uv_loop_close(p->loop);
    pthread_mutex_destroy(&p->work_mu);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->round_mu);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->obs_mu);
    pthread_mutex_destroy(&p->wsch_mu);
}

/* The steps of start-up in turn, up to the subscription; a signal
 * between two steps (or one that made a step give up) ends them early. */
static int start(proc *p, const rp_run_options *opts) {
    int rc;
    if ((rc = open_codecs(p, opts)) != 0 || rp_stop_signal() ||
        (rc = open_producer(p)) != 0 || rp_stop_signal() ||
        (rc = open_lanes(p)) != 0 || (rc = open_consumers(p)) != 0 ||
        rp_stop_signal())
        return rc;
    p->doing = "starting the HTTP server";
    rp_loop_open(p);
    if ((rc = start_observer(p)) != 0 || rp_stop_signal())
        return rc;
    p->doing = "subscribing";
    return subscribe(p);
}

int rp_processor_run(rp_config *cfg, const rp_run_options *opts) {
    proc P, *p = &P;
    char err[256];
    if (rp_stop_install(err, sizeof(err)) != 0) {
        rp_log_error("run: %s", err);
        return 1;
    }
    proc_init(p, cfg, opts);
    if (!cfg->clock_set)
        cfg->clock = RP_CLOCK_WALL;
    int rc = start(p, opts);
    if (rp_stop_signal() && !p->loop_running) {
        /* A failure the signal caused was not logged; one it did not
         * cause was, and the signal still asked for a stop. */
        if (p->loop && !p->loop_stopped) {
            rp_loop_stop(p);
            uv_run(p->loop, UV_RUN_DEFAULT);
        }
        rc = stopped_in_startup(p);
    } else if (rc == 0) {
        rc = run(p);
    }
    teardown(p, rc);
    return rc;
}
