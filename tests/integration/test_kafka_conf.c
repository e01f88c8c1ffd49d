/*
 * test_kafka_conf.c - each kafka.* key reaches the clients it is for, in a
 * real `repute run` (src/kafka/conf.c; the unit test test_kafka_conf.c
 * checks the routing itself).
 *
 * A consumer property (session.timeout.ms) and a producer property
 * (linger.ms) are given as plain kafka.* keys, with librdkafka's
 * configuration debug on: every client logs its configuration when it is
 * created (under canonical names: linger.ms is logged as
 * queue.buffering.max.ms). The consumer's must show session.timeout.ms and
 * the producer's linger.ms, neither the other's, no client may log a
 * CONFWARN about a property it ignores (each start printed one before), and
 * the pipeline still publishes what replay publishes.
 */
#include <stdio.h>
#include <string.h>

#include "support.h"

TestSuite(kafka_conf, .fini = it_fini, .timeout = 200);

/* Lines of the file holding every needle. */
static int lines_with(const char *path, const char *a, const char *b) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, a) && (!b || strstr(line, b)))
            n++;
    fclose(f);
    return n;
}

Test(kafka_conf, properties_reach_only_their_clients) {
    it_ctx c;
    it_data d;
    it_init(&c, "kafka-conf");
    it_gen(&d, 5, 1);
    it_expected(&c, &d);
    it_produce(&c, &d, 0, d.n);
    const char *extra[] = {"--set", "kafka.session.timeout.ms=6000",
                           "--set", "kafka.linger.ms=20",
                           "--set", "kafka.debug=conf",
                           "--set", "log.level=debug",
                           NULL};
    it_proc *run = it_start_run(&c, extra);
    it_check_output(&c, 120);
    it_stop_run(run);
    int warned = lines_with(run->err, "CONFWARN", "will be ignored");
    if (warned)
        it_dump_log(run, 40);
    cr_expect_eq(warned, 0, "a client warned about a property it ignores");
    cr_expect_gt(lines_with(run->err, "consumer", "session.timeout.ms = 6000"),
                 0, "the group consumer did not get session.timeout.ms");
    cr_expect_eq(lines_with(run->err, "producer", "session.timeout.ms = 6000"),
                 0, "a producer got session.timeout.ms");
    cr_expect_gt(
        lines_with(run->err, "producer", "queue.buffering.max.ms = 20"), 0,
        "the producer did not get linger.ms");
    cr_expect_eq(
        lines_with(run->err, "consumer", "queue.buffering.max.ms = 20"), 0,
        "a consumer got linger.ms");
    it_data_free(&d);
    it_done(&c);
}
