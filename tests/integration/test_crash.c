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

    /* Crash 2: in the middle of a live segment (it_crash_hook), noting
     * the status topic's end at the kill. */
    it_crash s = {.run = it_start_run(&c, NULL),
                  .at = it_segments(&d, b, d.n) / 2,
                  .note_status_end = true};
    it_produce_live(&c, &d, b, d.n, it_crash_hook, &s);
    cr_assert_gt(s.status_end, 0, "the second kill did not happen");

    it_check_output(&c, 120);
    it_stop_run(s.run);
    it_data_free(&d);
    it_done(&c);
}
