/*
 * test_faults.c - faults against the real broker, each ending with the
 * status topic checked against `repute replay` of the same records
 * (exactly once: per account the same events, sequences 1..n):
 *
 * - fencing: a second `repute run` with the same transactional.id. Its
 *   init_transactions fences the first one's producer; the first must stop
 *   by itself with a clear message and exit status 1 (a fatal Kafka error,
 *   docs/run.md), without a crash or a sanitizer report, and the second
 *   carries on with the rest of the stream.
 * - killed during a restore: a run over enough accounts that restoring
 *   them takes a while, stopped; a second run killed (SIGKILL) while it
 *   restores; a third run restores and goes on.
 * - the changelog topic deleted after a run has committed work: repute
 *   must refuse to start (exit status 2) with a message naming the topic,
 *   the group and the remedy, and must not create an empty changelog.
 *
 * The broker stopped for 30 s is test_broker_restart.c (it stops the shared
 * broker, so it runs alone); a partition leader change is
 * test_leader_change.c (it needs a cluster of two).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

TestSuite(faults, .fini = it_fini, .timeout = 400);

/* The number of segments of d in [from, d->n). */
static size_t count_segments(const it_data *d, size_t from) {
    size_t n = 0;
    for (size_t i = from; i < d->n; i = it_segment_end(d, i))
        n++;
    return n;
}

/* Produces the first half of d, has a run apply and commit all of it,
 * and stops that run cleanly. Returns where the second half starts. */
static size_t run_first_half(it_ctx *c, const it_data *d) {
    size_t a = it_split(d, 0.5);
    it_produce(c, d, 0, a);
    it_proc *run = it_start_run(c, NULL);
    for (int k = IT_DELIVERIES; k <= IT_ACTIONS; k++)
        cr_assert(it_wait_committed(c, k, 150),
                  "%s did not commit %s within 150 s", run->label, c->topic[k]);
    it_stop_run(run);
    return a;
}

/* ------------------------------------------------------------ fencing */

typedef struct fence {
    size_t at; /* the segment before which B starts */
    const char *const *extra;
    it_proc *a, *b;
    double b_started;
} fence;

/* Starts B after a segment has been produced, while A works on it. B's
 * init_transactions bumps the producer epoch of the shared
 * transactional.id: A's next transactional request (its next commit) is
 * fenced. An A with nothing to commit learns of it only when new records
 * reach its partitions (librdkafka sends nothing meanwhile), so the stream
 * goes on around it: B joins the group and takes some partitions, A the
 * others until it fails, and then B takes them all. */
static void start_second(it_ctx *c, size_t segment, size_t from, void *arg) {
    fence *f = arg;
    (void)from;
    if (segment != f->at)
        return;
    cr_assert(it_alive(f->a), "run A exited before B started (status %d)",
              f->a->status);
    f->b_started = it_now();
    f->b = it_start_run(c, f->extra);
}

Test(faults, fencing_same_transactional_id) {
    it_ctx c;
    it_data d;
    it_init(&c, "fencing");
    it_gen(&d, 7, 1);
    it_expected(&c, &d);
    char tid[256];
    snprintf(tid, sizeof(tid), "kafka.transactional.id=%s-txn", c.prefix);
    const char *extra[] = {"--set", tid, NULL};

    size_t a = it_split(&d, 0.3);
    it_produce(&c, &d, 0, a);
    fence f = {.extra = extra, .at = count_segments(&d, a) / 3};
    f.a = it_start_run(&c, extra);
    it_produce_live(&c, &d, a, d.n, start_second, &f);
    cr_assert_not_null(f.b, "run B was never started");

    /* A stopped by itself: status 1, a message that says why, its clients
     * closed (the "stopped" line comes after the loop has ended), and no
     * crash. */
    int st = it_wait(f.a, 60);
    if (st != 1)
        it_dump_log(f.a, 40);
    cr_assert_neq(st, -1,
                  "run A is still running 60 s after B took over its "
                  "transactional.id and the stream ended");
    fprintf(stderr,
            "[%s] run A exited with status %d (B started %.1f s "
            "before this check)\n",
            c.name, st, it_now() - f.b_started);
    it_assert_clean_log(f.a);
    cr_assert_eq(st, 1,
                 "run A exited with status %d after being fenced, not 1 "
                 "(log %s)",
                 st, f.a->err);
    cr_assert(it_log_has(f.a, "run: fenced: another instance"),
              "run A's log does not say that it was fenced (log %s)", f.a->err);
    cr_assert(it_log_has(f.a, "run: stopped:"),
              "run A did not shut down through its loop (log %s)", f.a->err);

    /* B carried on with the rest, exactly once. */
    it_check_output(&c, 120);
    it_stop_run(f.b);
    it_assert_clean_log(f.b);
    it_data_free(&d);
    it_done(&c);
}

/* ------------------------------------------------------------ restore */

/* Puts `n` accounts of one delivery each before the stream (a day before
 * it starts, in the first deliveries segment): they change no status, so
 * replay's output stays the same, but each is a changelog record that a
 * restore must read. */
static void add_filler(it_data *d, size_t n) {
    it_rec *v = malloc((d->n + n) * sizeof(*v));
    cr_assert_not_null(v);
    int64_t t0 = d->t_start - INT64_C(86400000);
    for (size_t i = 0; i < n; i++) {
        char buf[256];
        int64_t t = t0 + (int64_t)(i / 8);
        snprintf(buf, sizeof(buf),
                 "{\"type\":\"delivery\",\"event_id\":\"fill-%zu\","
                 "\"account_id\":\"fill-%zu\",\"event_time\":%" PRId64 ","
                 "\"message_id\":\"m-fill-%zu\",\"recipient\":"
                 "\"user@example.com\"}",
                 i, i, t, i);
        v[i] = (it_rec){.time = t, .type = IT_DELIVERIES, .line = strdup(buf)};
    }
    memcpy(v + n, d->v, d->n * sizeof(*v));
    free(d->v);
    d->v = v;
    d->n += n;
    d->cap = d->n;
    d->n_accounts += n;
}

#define FILLER_ACCOUNTS 200000

Test(faults, killed_during_restore) {
    it_ctx c;
    it_data d;
    it_init(&c, "restore-kill");
    it_gen(&d, 9, 1);
    add_filler(&d, FILLER_ACCOUNTS);
    it_expected(&c, &d);

    /* A: everything up to the middle, so that the changelog holds every
     * account. */
    size_t a = run_first_half(&c, &d);
    fprintf(stderr, "[%s] changelog: %lld records\n", c.name,
            (long long)it_topic_end(&c, IT_CHANGELOG));

    /* B: killed as soon as it has partitions to restore. Its log says
     * "assigned" when the restore begins and "ready:" when every partition
     * has been restored; polled every few milliseconds. */
    it_proc *run_b = it_start_run(&c, NULL);
    double end = it_now() + 60, t0 = it_now();
    while (!it_log_has(run_b, "run: assigned")) {
        cr_assert(it_alive(run_b), "run B exited (status %d; log %s)",
                  run_b->status, run_b->err);
        cr_assert(it_now() < end, "run B got no partitions within 60 s");
        it_sleep(0.005);
    }
    /* Somewhere in the first part of the restore (which takes over half
     * a second here; the assertion below makes sure it was not over). */
    srand((unsigned)getpid());
    it_sleep((double)(rand() % 200) / 1000.0);
    it_kill9(run_b);
    fprintf(stderr, "[%s] kill -9 run B %.2f s after its start\n", c.name,
            it_now() - t0);
    cr_assert(!it_log_has(run_b, "run: ready:"),
              "run B had finished its restore before it was killed: the "
              "test needs a larger changelog (log %s)",
              run_b->err);
    cr_assert(it_log_has(run_b, "run: assigned 4 partitions"),
              "run B was not restoring every partition when killed (log %s)",
              run_b->err);

    /* C: restores (after the group has dropped B) and takes the rest. */
    it_proc *run_c = it_start_run(&c, NULL);
    it_produce_live(&c, &d, a, d.n, NULL, NULL);
    it_check_output(&c, 120);
    cr_assert(it_log_has(run_c, "run: ready:"), "run C never became ready");
    it_stop_run(run_c);
    it_assert_clean_log(run_c);
    it_data_free(&d);
    it_done(&c);
}

/* ------------------------------------------------------------ changelog */

Test(faults, changelog_deleted_refuses_to_start) {
    it_ctx c;
    it_data d;
    it_init(&c, "changelog-gone");
    it_gen(&d, 13, 1);
    it_expected(&c, &d);
    run_first_half(&c, &d);
    int64_t status_end = it_topic_end(&c, IT_STATUS);
    cr_assert_gt(status_end, 0, "run A published nothing");

    it_delete_topic(&c, IT_CHANGELOG);

    /* With topics.create=true (it_start_run sets it), the case where repute
     * would otherwise create an empty changelog and carry on; then without
     * it, where the generic "topics are missing" would hide the reason. */
    const char *no_create[] = {"--set", "topics.create=false", NULL};
    const char *const *variants[] = {NULL, no_create};
    for (size_t v = 0; v < 2; v++) {
        double t0 = it_now();
        it_proc *run = it_start_run(&c, variants[v]);
        int st = it_wait(run, 60);
        double took = it_now() - t0;
        it_dump_log(run, 6);
        cr_assert_neq(st, -1, "repute run started without its changelog");
        cr_assert_eq(st, 2, "repute run exited with status %d, not 2", st);
        cr_assert_lt(took, 30, "repute run took %.1f s to refuse", took);
        fprintf(stderr, "[%s] %s: refused in %.2f s\n", c.name,
                v ? "topics.create=false" : "topics.create=true", took);
        cr_assert(it_log_has(run, c.topic[IT_CHANGELOG]),
                  "the message does not name the changelog topic");
        char group[200];
        snprintf(group, sizeof(group), "group %s", c.prefix);
        cr_assert(it_log_has(run, group),
                  "the message does not name the group");
        cr_assert(it_log_has(run, "reset the group's offsets"),
                  "the message does not say what to do");
        cr_assert(!it_topic_exists(&c, IT_CHANGELOG),
                  "repute run created an empty changelog");
        it_assert_clean_log(run);
    }
    cr_assert_eq(it_topic_end(&c, IT_STATUS), status_end,
                 "the refused runs published to the status topic");
    it_data_free(&d);
    it_done(&c);
}
