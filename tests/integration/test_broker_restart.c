/*
 * test_broker_restart.c - the broker stopped for 30 s in the middle of a
 * stream and started again (deploy/kafka-local.sh stop / start): the
 * running `repute run` must ride it out by itself (it is not restarted),
 * and the status topic must still hold exactly what `repute replay` of the
 * same records publishes: exactly once across the outage.
 *
 * run commits every 2 s here (commit.interval), so the broker goes down
 * while a transaction holds the outputs of the segment produced just
 * before: that transaction cannot commit and must be redone, not lost or
 * doubled.
 *
 * This test stops the broker every other test uses: CTest runs it alone
 * (RUN_SERIAL). It needs the broker of deploy/kafka-local.sh (the same
 * REPUTE_KAFKA_* environment); if the test fails half-way, its fini starts
 * the broker again.
 */
#include <stdio.h>

#include "support.h"

TestSuite(broker_restart, .fini = it_fini, .timeout = 340);

typedef struct outage {
    size_t at;
    it_proc *run;
    bool done;
} outage;

static void stop_broker_for_30s(it_ctx *c, size_t segment, size_t from,
                                void *arg) {
    outage *o = arg;
    (void)from;
    if (segment != o->at)
        return;
    fprintf(stderr, "[%s] stopping the broker after segment %zu\n", c->name,
            segment);
    double t0 = it_now();
    it_broker_script("stop");
    it_sleep(30);
    cr_assert(it_alive(o->run),
              "repute run exited while the broker was down (status %d; log "
              "%s)",
              o->run->status, o->run->err);
    it_broker_script("start");
    fprintf(stderr, "[%s] the broker is back after %.1f s\n", c->name,
            it_now() - t0);
    o->done = true;
}

Test(broker_restart, broker_down_30s_mid_stream) {
    it_ctx c;
    it_data d;
    it_init(&c, "broker-restart");
    it_gen(&d, 5, 1);
    it_expected(&c, &d);
    size_t a = it_split(&d, 0.7);
    it_produce(&c, &d, 0, a);
    const char *slow_commits[] = {"--set", "commit.interval=2s", NULL};
    outage o = {.run = it_start_run(&c, slow_commits)};
    size_t n_seg = 0;
    for (size_t i = a; i < d.n; i = it_segment_end(&d, i))
        n_seg++;
    o.at = n_seg / 2;
    it_produce_live(&c, &d, a, d.n, stop_broker_for_30s, &o);
    cr_assert(o.done, "the broker was never stopped");
    it_check_output(&c, 120);
    if (!it_alive(o.run))
        it_dump_log(o.run, 40);
    cr_assert(it_alive(o.run),
              "repute run exited after the outage (status %d; log %s)",
              o.run->status, o.run->err);
    it_stop_run(o.run);
    it_data_free(&d);
    it_done(&c);
}
