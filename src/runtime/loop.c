/*
 * loop.c - the libuv loop's handles: wake-ups from librdkafka, timers,
 * signals, and the shutdown.
 *
 * Everything happens on one libuv loop thread. librdkafka's queues (the
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
 * error it only waits for the work in flight, then closes the handles. A
 * second signal exits at once.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "repute/log.h"

#include "runtime/proc.h"

/* ---------------------------------------------------------------- progress */

/* One line of progress per interval (10 s; 1 s at log.level=debug), while
 * there is progress. */
static void on_stats_timer(uv_timer_t *h) {
    proc *p = h->data;
    uint64_t n = p->applied - p->last_applied;
    double secs = uv_timer_get_repeat(h) / 1000.0;
    if (n > 0)
        rp_log_info("run: %" PRIu64 " records applied (%.0f/s over %.0f s), "
                    "%" PRIu64 " to the DLQ, %" PRIu64 " commits",
                    p->applied, n / secs, secs, p->dlq, p->commits);
    p->last_applied = p->applied;
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
    uv_close((uv_handle_t *)&p->sigint, close_cb);
    uv_close((uv_handle_t *)&p->sigterm, close_cb);
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

/* After the first signal, a second one exits at once even while the loop
 * is busy in a blocking call (a revocation's commit): a plain handler,
 * async-signal-safe. */
static void exit_now(int signum) {
    (void)signum;
    static const char msg[] = "repute run: second signal, exiting at once\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    _exit(130);
}

static void on_wake(uv_async_t *h) {
    proc *p = h->data;
    if (atomic_load(&p->fatal_async))
        rp_loop_fail_fatal(p, "fatal Kafka error");
}

static void on_signal(uv_signal_t *h, int signum) {
    proc *p = h->data;
    if (++p->signals > 1)
        exit_now(signum);
    uv_signal_stop(&p->sigint);
    uv_signal_stop(&p->sigterm);
    signal(SIGINT, exit_now);
    signal(SIGTERM, exit_now);
    rp_log_info("run: %s received, shutting down",
                signum == SIGINT ? "SIGINT" : "SIGTERM");
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
    uv_signal_init(p->loop, &p->sigint);
    uv_signal_init(p->loop, &p->sigterm);
    p->sigint.data = p->sigterm.data = p;
    uv_signal_start(&p->sigint, on_signal, SIGINT);
    uv_signal_start(&p->sigterm, on_signal, SIGTERM);
}

void rp_loop_run(proc *p) {
    /* Messages may already be waiting. */
    uv_poll_t *ph = &p->poll;
    on_pipe(ph, 0, UV_READABLE);
    uv_run(p->loop, UV_RUN_DEFAULT);
}
