/*
 * test_crash.c - kill -9 of `repute run` in the middle of a stream, and a
 * restart: the status topic must hold exactly what `repute replay` of the
 * same records publishes (and so what an uninterrupted run publishes):
 * nothing lost, nothing doubled, sequences 1..n per account.
 *
 * Two crashes: the first while run-1 works through the records that were
 * in the topics when it started (killed as soon as its first outputs
 * reach the status topic), the second while run-2 is processing a segment
 * produced live. More records are produced while nothing runs. A restarted
 * instance has a new transactional.id, so it may wait for the dead one's
 * open transaction to time out (transaction.timeout.ms, 10 s) and for the
 * group to drop the dead member (session.timeout.ms, 10 s).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "support.h"

TestSuite(crash, .fini = it_fini, .timeout = 280);

typedef struct crash_state {
    it_proc *run;
    size_t at; /* the segment after which to kill */
    int64_t status_at_kill;
} crash_state;

static void kill_and_restart(it_ctx *c, size_t segment, size_t from,
                             void *arg) {
    crash_state *s = arg;
    (void)from;
    if (segment != s->at)
        return;
    /* The segment was just acknowledged: run-2 is processing it. */
    it_sleep((double)(rand() % 100) / 1000.0);
    cr_assert(it_alive(s->run), "%s died by itself (status %d; log %s)",
              s->run->label, s->run->status, s->run->err);
    it_kill9(s->run);
    s->status_at_kill = it_topic_end(c, IT_STATUS);
    fprintf(stderr,
            "[%s] kill -9 %s after segment %zu (status topic end %lld)\n",
            c->name, s->run->label, segment, (long long)s->status_at_kill);
    s->run = it_start_run(c, NULL);
}

Test(crash, kill9_mid_stream_and_restart) {
    it_ctx c;
    it_data d;
    it_init(&c, "crash");
    srand((unsigned)getpid());
    it_gen(&d, 2, 2);
    it_expected(&c, &d);
    size_t a = it_split(&d, 0.4), b = it_split(&d, 0.6);

    /* Crash 1: in the middle of the records already there. */
    it_produce(&c, &d, 0, a);
    it_proc *run1 = it_start_run(&c, NULL);
    double end = it_now() + 60;
    while (it_topic_end(&c, IT_STATUS) == 0) {
        cr_assert(it_alive(run1), "run-1 exited (status %d; log %s)",
                  run1->status, run1->err);
        cr_assert(it_now() < end, "run-1 published nothing within 60 s");
        it_sleep(0.01);
    }
    it_kill9(run1);
    fprintf(stderr, "[crash] kill -9 run-1 (status topic end %lld)\n",
            (long long)it_topic_end(&c, IT_STATUS));

    /* Records produced while nothing runs. */
    it_produce(&c, &d, a, b);

    /* Crash 2: in the middle of a live segment. */
    crash_state s = {.run = it_start_run(&c, NULL)};
    size_t n_seg = 0;
    for (size_t i = b; i < d.n; i = it_segment_end(&d, i))
        n_seg++;
    s.at = n_seg / 2;
    it_produce_live(&c, &d, b, d.n, kill_and_restart, &s);
    cr_assert_gt(s.status_at_kill, 0, "the second kill did not happen");

    it_check_output(&c, 120);
    it_stop_run(s.run);
    it_data_free(&d);
    it_done(&c);
}
