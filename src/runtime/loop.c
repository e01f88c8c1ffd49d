/*
 * loop.c - the libuv loop's handles: wake-ups from librdkafka, timers,
 * signals, and the shutdown.
 *
 * Everything happens on one libuv loop thread but the application of
 * records, which the lanes do in rounds the loop starts and waits for
 * (lanes.c). librdkafka's queues (the
 * group consumer's, the changelog reader's, the producer's main queue and
 * every task's input partitions) are switched to "IO event" mode: when a
 * queue goes from empty to non-empty, librdkafka writes a byte to one
 * pipe, which the loop watches with uv_poll (on_pipe). The loop then
 * drains the queues with zero timeouts (rp_loop_drain), so no librdkafka
 * call on the loop waits for the network.
 *
 * Errors librdkafka reports on its own threads (a fatal error, a failed
 * delivery) only set atomic flags; the wake-up (an uv_async) makes the
 * loop act on a fatal one.
 *
 * The shutdown goes in steps, each taken when the previous has finished
 * (rp_loop_continue_shutdown): wait for the commit in flight, commit what
 * is left, close the consumer (which revokes and leaves the group), then
 * close the loop's handles, after which uv_run returns. After a fatal
 * error it only waits for the work in flight, then closes the handles.
 *
 * Signals are not libuv's: the handlers of SIGINT and SIGTERM were
 * installed when the process started (repute/stop.h, before the first
 * blocking call of start-up), and the loop only watches their latch,
 * rp_stop_fd(), with a uv_poll (on_stop): the first signal starts the
 * shutdown above, whatever phase the processor is in, and the log says
 * which. A second signal exits at once from the handler itself, even
 * while the loop is busy in a blocking call (a revocation's commit).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "repute/log.h"
#include "repute/stop.h"

#include "runtime/proc.h"

/* ---------------------------------------------------------------- progress */

/* One line of progress per interval (10 s; 1 s at log.level=debug), while
 * there is progress. */
static void on_stats_timer(uv_timer_t *h) {
    proc *p = h->data;
    lane_counters c;
    rp_lanes_counters(p, &c);
    uint64_t n = c.applied - p->last_applied;
    double secs = uv_timer_get_repeat(h) / 1000.0;
    if (n > 0)
        rp_log_info("run: %" PRIu64 " records applied (%.0f/s over %.0f s), "
                    "%" PRIu64 " to the DLQ, %" PRIu64 " commits",
                    c.applied, n / secs, secs, c.dlq, p->commits);
    p->last_applied = c.applied;
    /* Each lane's busy share of the interval (/metrics). */
    for (int i = 0; i < p->n_lanes; i++) {
        lane *l = &p->lanes[i];
        l->busy_share = (double)(l->busy_ns - l->busy_ns_last) / (secs * 1e9);
        l->busy_ns_last = l->busy_ns;
        if (n > 0 && p->n_lanes > 1)
            rp_log_debug("run: thread %d: %" PRIu64 " records applied, busy "
                         "%.0f%% of the last %.0f s",
                         i, l->c.applied, 100.0 * l->busy_share, secs);
    }
}

/* ---------------------------------------------------------------- wake-ups */

size_t rp_loop_drain(proc *p) {
    rd_kafka_poll(p->producer, 0);
    return rp_assign_consume_changelog(p) + rp_merge_consume_input(p);
}

static void on_pipe(uv_poll_t *h, int status, int events) {
    (void)status;
    (void)events;
    proc *p = h->data;
    char buf[256];
    while (read(p->pipefd[0], buf, sizeof(buf)) > 0)
        ;
    if (p->loop_stopped)
        return;
    rp_loop_drain(p);
    if (p->closing && rd_kafka_consumer_closed(p->consumer)) {
        rp_loop_continue_shutdown(p);
        return;
    }
    rp_merge_kick(p);
}

/* ---------------------------------------------------------------- shutdown */

static void close_cb(uv_handle_t *h) {
    (void)h;
}

/* Closing the consumer finishes on librdkafka's threads; look again until
 * it has. */
static void on_close_check(uv_timer_t *h) {
    proc *p = h->data;
    rp_merge_consume_input(p);
    if (rd_kafka_consumer_closed(p->consumer))
        rp_loop_continue_shutdown(p);
}

void rp_loop_stop(proc *p) {
    if (p->loop_stopped)
        return;
    p->loop_stopped = true;
    uv_close((uv_handle_t *)&p->poll, close_cb);
    uv_close((uv_handle_t *)&p->commit_timer, close_cb);
    uv_close((uv_handle_t *)&p->review_timer, close_cb);
    uv_close((uv_handle_t *)&p->idle_timer, close_cb);
    uv_close((uv_handle_t *)&p->stats_timer, close_cb);
    uv_close((uv_handle_t *)&p->work_idle, close_cb);
    if (rp_stop_fd() >= 0)
        uv_close((uv_handle_t *)&p->stop_poll, close_cb);
    uv_close((uv_handle_t *)&p->wake, close_cb);
    if (p->obs->stop)
        p->obs->stop(p->obs->opaque);
}

/* Shutdown in steps, each taken when the previous has finished: wait for
 * the commit in flight, commit what is left, close the consumer (which
 * revokes and leaves the group), then stop the loop. */
void rp_loop_continue_shutdown(proc *p) {
    if (p->committing)
        return; /* finish_work calls us again */
    if (p->fatal) {
        rp_loop_stop(p);
        return;
    }
    if (p->uncommitted) {
        rp_commit_start(p);
        return;
    }
    if (!p->closing) {
        p->closing = true;
        rd_kafka_error_t *e = rd_kafka_consumer_close_queue(p->consumer, p->cq);
        if (e) {
            rp_log_error("run: close: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rp_loop_stop(p);
            return;
        }
        uv_timer_start(&p->idle_timer, on_close_check, 20, 20);
        return;
    }
    if (rd_kafka_consumer_closed(p->consumer))
        rp_loop_stop(p);
}

void rp_loop_fail_fatal(proc *p, const char *what) {
    if (p->fatal)
        return;
    p->fatal = true;
    p->exit_code = 1;
    rp_log_error("run: stopping: %s", what);
    p->stopping = true;
    if (!p->committing)
        rp_loop_continue_shutdown(p);
}

static void on_wake(uv_async_t *h) {
    proc *p = h->data;
    if (atomic_load(&p->fatal_async))
        rp_loop_fail_fatal(p, "fatal Kafka error");
}

const char *rp_loop_phase(const proc *p, char *buf, size_t size) {
    if (!p->loop_running) {
        snprintf(buf, size, "start-up (%s)", p->doing ? p->doing : "starting");
        return buf;
    }
    const char *phase = p->assigned ? "processing" : "the group join";
    for (int32_t i = 0; p->assigned && i < p->n_parts; i++)
        if (p->tasks[i] && !p->tasks[i]->ready)
            phase = "the restore";
    snprintf(buf, size, "%s", phase);
    return buf;
}

/* The first signal: stop applying records, then shut down in steps. */
static void on_stop(uv_poll_t *h, int status, int events) {
    (void)status;
    (void)events;
    proc *p = h->data;
    uv_poll_stop(h);
    p->stop_sig = rp_stop_signal();
    rp_loop_phase(p, p->stop_phase, sizeof(p->stop_phase));
    rp_log_info("run: %s received during %s, shutting down",
                rp_stop_signal_name(p->stop_sig), p->stop_phase);
    p->stopping = true;
    uv_idle_stop(&p->work_idle);
    rp_loop_continue_shutdown(p);
}

/* ---------------------------------------------------------------- handles */

void rp_loop_open(proc *p) {
    const rp_config *cfg = p->cfg;
    p->loop = uv_default_loop();
    uv_poll_init(p->loop, &p->poll, p->pipefd[0]);
    p->poll.data = p;
    uv_poll_start(&p->poll, UV_READABLE, on_pipe);
    uv_timer_init(p->loop, &p->commit_timer);
    uv_timer_init(p->loop, &p->review_timer);
    uv_timer_init(p->loop, &p->idle_timer);
    uv_timer_init(p->loop, &p->stats_timer);
    p->stats_timer.data = p;
    uint64_t every = rp_log_get_level() >= RP_LOG_DEBUG ? 1000 : 10000;
    uv_timer_start(&p->stats_timer, on_stats_timer, every, every);
    uv_idle_init(p->loop, &p->work_idle);
    p->commit_timer.data = p->review_timer.data = p->idle_timer.data = p;
    p->work_idle.data = p;
    uv_timer_start(&p->commit_timer, rp_commit_on_timer,
                   (uint64_t)cfg->commit_interval,
                   (uint64_t)cfg->commit_interval);
    uv_async_init(p->loop, &p->wake, on_wake);
    p->wake.data = p;
    atomic_store(&p->wake_ready, true);
    if (atomic_load(&p->fatal_async))
        uv_async_send(&p->wake);
    /* Readable already when a signal came before the loop runs. */
    if (rp_stop_fd() >= 0) {
        uv_poll_init(p->loop, &p->stop_poll, rp_stop_fd());
        p->stop_poll.data = p;
        uv_poll_start(&p->stop_poll, UV_READABLE, on_stop);
    }
}

void rp_loop_run(proc *p) {
    /* Messages may already be waiting. */
    uv_poll_t *ph = &p->poll;
    p->loop_running = true;
    on_pipe(ph, 0, UV_READABLE);
    uv_run(p->loop, UV_RUN_DEFAULT);
}
