/*
 * lanes.c - one `repute run` on several cores: `threads` lanes apply the
 * tasks' records at once, each on a thread of its own, in rounds the loop
 * starts and waits for.
 *
 * Why rounds
 * ----------
 * Tasks are independent: each has its own engine, buffers and offsets,
 * and nothing a task applies reads another task's state. So the work of
 * applying records (taking them off the partitions' queues, the merge,
 * decoding, the engine, encoding and producing the outputs) and of the
 * commit's changelog flush (encoding every changed account) can run on
 * several threads at once, as long as no task is in two places. Each lane
 * has its own codecs, held outputs and counters (struct lane in proc.h);
 * the task names the lane that applied it last (task.lane), whose codecs
 * and sink serve it.
 *
 * Everything else stays on the one libuv loop thread, as before: the
 * rebalances, the restores, the transaction (one transactional producer
 * per process, fed by every lane), the timers and the HTTP API. The loop
 * runs the lanes in rounds (rp_lanes_round): it lists the ready tasks,
 * wakes the lanes, and every lane, the loop's own (lane 0) included,
 * takes the next task not taken yet, does its share (its queues and up to
 * BATCH of its records, or its changelog), and takes another, until none
 * is left; the loop then waits for the lanes still busy with one. A round
 * is a few milliseconds. Between two rounds no lane runs, so whatever the
 * loop does there sees every task at a consistent point, with no lock on
 * any engine:
 *
 * - a commit takes the offsets of what every task has applied, and the
 *   changelog of exactly those records (the flush is a round of its own;
 *   the offsets are taken once it is over), so the exactly-once protocol
 *   is the one of a single thread;
 * - a rebalance, a rewind or a restore replaces tasks while none is in
 *   use;
 * - the HTTP API, whose handlers run on the loop, reads the engines
 *   between rounds: never an account half applied (no torn reads).
 *
 * Why tasks are taken rather than given to a lane for good: a lane whose
 * thread the system has not scheduled yet (the machine is busy: the
 * broker, other processes) then holds nobody up; the loop takes its tasks
 * itself and the late lane finds the round over. The cost left is the
 * wait for a lane in the middle of a task at the end of a round. Outputs
 * held during a commit are kept per lane with the round they were made
 * in, and produced round by round (output.c), so an account's outputs
 * keep their order whichever lanes applied them.
 *
 * What a lane may not do during a round, because it belongs to the loop,
 * it leaves for the loop to do after the round: a fatal failure
 * (rp_lane_fail), a watermark query (t->wm_want, watermark.c) and the
 * fetch of a writer schema (p->wsch_due, writers.c) both go to libuv's
 * thread pool, which only the loop thread may call. The observer's
 * on_event (the API's notifications) is called under a mutex. With one
 * lane none of this applies: the round is a call on the loop thread
 * (in_round stays false), exactly the single loop of before.
 *
 * How many
 * --------
 * `threads` (0, the default: the cores this process may run on, from
 * sched_getaffinity), capped at the partition count, since a lane without
 * a task has nothing to do.
 */

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repute/log.h"

#include "runtime/proc.h"

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- rounds */

/* Task t's share of a round, on lane l. */
static void run_task(lane *l, task *t, int kind) {
    uint64_t t0 = mono_ns();
    /* A head whose event time another lane peeked is peeked again on this
     * one (task.head_lane, merge.c), so that this lane's decoder learns its
     * writer schema before decoding it. */
    t->lane = l;
    if (kind == ROUND_APPLY)
        rp_merge_task_turn(l, t);
    else
        rp_commit_task_flush(l, t);
    l->busy_ns += mono_ns() - t0;
}

/* The next task of the open round, or NULL. Under round_mu. */
static task *take(proc *p) {
    if (!p->round_open || p->round_next >= p->round_n)
        return NULL;
    p->round_busy++;
    return p->round_tasks[p->round_next++];
}

/* Takes tasks of the open round and runs them until none is left. Under
 * round_mu (released while a task runs). */
static void take_all(lane *l) {
    proc *p = l->p;
    task *t;
    while ((t = take(p)) != NULL) {
        int kind = p->round_kind;
        pthread_mutex_unlock(&p->round_mu);
        run_task(l, t, kind);
        pthread_mutex_lock(&p->round_mu);
        if (--p->round_busy == 0 && !p->round_open)
            pthread_cond_signal(&p->done_cv);
    }
}

static void *lane_main(void *arg) {
    lane *l = arg;
    proc *p = l->p;
    pthread_mutex_lock(&p->round_mu);
    while (!p->lanes_quit) {
        take_all(l);
        if (!p->lanes_quit)
            pthread_cond_wait(&p->round_cv, &p->round_mu);
    }
    pthread_mutex_unlock(&p->round_mu);
    return NULL;
}

void rp_lanes_round(proc *p, int kind) {
    for (int i = 0; i < p->n_lanes; i++) {
        lane *l = &p->lanes[i];
        l->more = false;
        l->wait_min = UINT64_MAX;
        l->got = 0;
    }
    if (p->n_lanes <= 1) {
        uint64_t t0 = mono_ns();
        if (kind == ROUND_APPLY)
            rp_merge_lane_turn(&p->lanes[0]);
        else
            rp_commit_lane_flush(&p->lanes[0]);
        p->lanes[0].busy_ns += mono_ns() - t0;
        return;
    }
    /* The ready tasks, starting one further each round, so that the
     * lanes' order of taking them is fair. */
    int32_t n = 0, first = (int32_t)(p->round_seq % (uint64_t)p->n_parts);
    for (int32_t j = 0; j < p->n_parts; j++) {
        task *t = p->tasks[(first + j) % p->n_parts];
        if (t && t->ready)
            p->round_tasks[n++] = t;
    }
    if (n == 0)
        return;
    pthread_mutex_lock(&p->round_mu);
    p->round_seq++;
    p->round_kind = kind;
    p->round_n = n;
    p->round_next = 0;
    p->round_open = true;
    p->in_round = true;
    if (n > 1)
        pthread_cond_broadcast(&p->round_cv);
    /* The loop takes tasks too, so a lane the system has not scheduled
     * yet holds nothing up: it finds the round taken or over. */
    take_all(&p->lanes[0]);
    p->round_open = false;
    while (p->round_busy > 0)
        pthread_cond_wait(&p->done_cv, &p->round_mu);
    p->in_round = false;
    pthread_mutex_unlock(&p->round_mu);
}

void rp_lane_fail(lane *l, const char *what) {
    if (!l->p->in_round)
        rp_loop_fail_fatal(l->p, what);
    else if (!l->fail)
        l->fail = what;
}

void rp_lanes_settle(proc *p) {
    for (int i = 0; i < p->n_lanes; i++) {
        lane *l = &p->lanes[i];
        if (l->uncommitted)
            p->uncommitted = true;
        l->uncommitted = false;
        if (l->fail) {
            const char *what = l->fail;
            l->fail = NULL;
            rp_loop_fail_fatal(p, what);
        }
    }
    for (int32_t i = 0; i < p->n_parts; i++) {
        task *t = p->tasks[i];
        if (t && t->wm_want) {
            t->wm_want = false;
            rp_wm_query(p, t, false);
        }
    }
    if (p->wsch_due) {
        p->wsch_due = false;
        rp_writers_start_due(p);
    }
}

/* ---------------------------------------------------------------- lanes */

void rp_lanes_counters(const proc *p, lane_counters *out) {
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < p->n_lanes; i++) {
        const lane_counters *c = &p->lanes[i].c;
        out->applied += c->applied;
        out->dlq += c->dlq;
        out->produced += c->produced;
        for (int k = 0; k < NTOP; k++) {
            out->consumed[k] += c->consumed[k];
            out->late[k] += c->late[k];
        }
        out->idle_expired += c->idle_expired;
        out->wait_ms += c->wait_ms;
        out->long_waits += c->long_waits;
    }
}

uint64_t rp_lanes_applied(const proc *p) {
    uint64_t n = 0;
    for (int i = 0; i < p->n_lanes; i++)
        n += p->lanes[i].c.applied;
    return n;
}

int rp_lanes_wanted(const rp_config *cfg, int32_t n_parts) {
    int n = cfg->threads;
    if (n <= 0) {
        cpu_set_t set;
        n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    }
    if (n > n_parts)
        n = n_parts;
    if (n > RP_THREADS_MAX)
        n = RP_THREADS_MAX;
    return n < 1 ? 1 : n;
}

int rp_lanes_codecs(proc *p, rp_avro_codec **dec, rp_avro_codec **enc) {
    char err[512];
    *dec = rp_avro_codec_new(p->cfg->framing, p->dec_ids, err, sizeof(err));
    *enc =
        *dec ? rp_avro_codec_new(p->cfg->framing, p->enc_ids, err, sizeof(err))
             : NULL;
    if (*dec && *enc && p->reg) {
        rp_avro_codec_enable_writers(*dec);
        /* repute reads back the reports it writes: no need to fetch its
         * own schema. A pinned avro.schema.id.report stays as it is. */
        if (p->dec_ids[RP_REC_REPORT] != p->enc_ids[RP_REC_REPORT] &&
            rp_avro_codec_add_writer(
                *dec, RP_REC_REPORT, p->enc_ids[RP_REC_REPORT],
                rp_avro_schema_json(RP_REC_REPORT), err, sizeof(err)) != 0) {
            rp_avro_codec_destroy(*enc);
            *enc = NULL;
        }
    }
    if (!*dec || !*enc) {
        rp_log_error("run: avro: %s", err);
        rp_avro_codec_destroy(*dec);
        rp_avro_codec_destroy(*enc);
        *dec = *enc = NULL;
        return -1;
    }
    return 0;
}

static void lane_init(proc *p, lane *l, int id) {
    memset(l, 0, sizeof(*l));
    l->p = p;
    l->id = id;
    rp_out_sink_init(l);
}

int rp_lanes_open(proc *p) {
    int n = rp_lanes_wanted(p->cfg, p->n_parts);
    p->lanes = calloc((size_t)n, sizeof(lane));
    p->round_tasks = calloc((size_t)p->n_parts, sizeof(task *));
    if (!p->lanes || !p->round_tasks)
        return -1;
    for (int i = 0; i < n; i++)
        lane_init(p, &p->lanes[i], i);
    p->n_lanes = n;
    p->lanes[0].dec = p->dec;
    p->lanes[0].enc = p->enc;
    rp_hook_init(p); /* before any lane reads its settings */
    for (int i = 1; i < n; i++) {
        lane *l = &p->lanes[i];
        if (rp_lanes_codecs(p, &l->dec, &l->enc) != 0)
            return -1;
        if (pthread_create(&l->thread, NULL, lane_main, l) != 0) {
            rp_log_error("run: cannot start a thread");
            return -1;
        }
        l->started = true;
        char name[16];
        snprintf(name, sizeof(name), "repute-lane%d", i);
        pthread_setname_np(l->thread, name);
    }
    rp_log_info("run: %d thread%s apply records (threads=%d%s, %d partitions)",
                n, n == 1 ? "" : "s", (int)p->cfg->threads,
                p->cfg->threads == 0 ? ": the cores this process may use" : "",
                (int)p->n_parts);
    return 0;
}

void rp_lanes_close(proc *p) {
    if (!p->lanes) {
        free(p->round_tasks);
        p->round_tasks = NULL;
        return;
    }
    pthread_mutex_lock(&p->round_mu);
    p->lanes_quit = true;
    pthread_cond_broadcast(&p->round_cv);
    pthread_mutex_unlock(&p->round_mu);
    for (int i = 0; i < p->n_lanes; i++) {
        lane *l = &p->lanes[i];
        if (l->started)
            pthread_join(l->thread, NULL);
        if (i > 0) {
            rp_avro_codec_destroy(l->dec);
            rp_avro_codec_destroy(l->enc);
        }
        rp_buf_free(&l->current_buf);
        free(l->pending);
    }
    free(p->lanes);
    free(p->round_tasks);
    p->round_tasks = NULL;
    p->lanes = NULL;
    p->n_lanes = 0;
}
