/*
 * test_restore_txn.c - a restore waits for a transaction left open on the
 * changelog.
 *
 * The race this guards against (issue 19, "also check"): the end of a
 * changelog partition under read_committed is its last stable offset, and
 * a member that lost the partition without knowing it yet (frozen past its
 * session timeout) may still hold a transaction open there, holding its
 * changelog records and its input offsets. The new owner's consumer is
 * given the group's offsets only once that transaction has ended
 * (require_stable), so a restore that ended at the stable offset before
 * then would miss the records of a transaction that goes on to commit,
 * while the inputs resume past them.
 *
 * The zombie is played by a transactional producer of the test's own,
 * which writes a record to changelog partition 0 and keeps its transaction
 * open while `repute run` starts. The record's value is not an account
 * state, so reading it makes repute log "changelog record of ... skipped":
 * the proof that the restore read it. The test checks that partition 0 is
 * not restored while the transaction is open, and is restored, with the
 * record read, once it commits; then the same with an abort, after which
 * the restore ends without the record. Before the fix, the restore ended
 * at once and the committed record was never read.
 */
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "support.h"

TestSuite(restore_txn, .fini = it_fini, .timeout = 240);

/* The zombie: a transactional producer with a transaction open on the
 * changelog's partition 0, holding one record under key. */
static rd_kafka_t *zombie_open(it_ctx *c, const char *txn_id, const char *key) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    cr_assert_eq(rd_kafka_conf_set(conf, "bootstrap.servers", c->bootstrap, err,
                                   sizeof(err)),
                 RD_KAFKA_CONF_OK, "%s", err);
    rd_kafka_conf_set(conf, "transactional.id", txn_id, err, sizeof(err));
    /* Longer than the test keeps it open, so that only the test ends it. */
    rd_kafka_conf_set(conf, "transaction.timeout.ms", "60000", err,
                      sizeof(err));
    rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    cr_assert_not_null(rk, "rd_kafka_new: %s", err);
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, 30000);
    cr_assert_null(e, "init_transactions: %s",
                   e ? rd_kafka_error_string(e) : "");
    e = rd_kafka_begin_transaction(rk);
    cr_assert_null(e, "begin_transaction: %s",
                   e ? rd_kafka_error_string(e) : "");
    static const char value[] = "not an account state";
    rd_kafka_resp_err_t rc = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(c->topic[IT_CHANGELOG]), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE((void *)value, sizeof(value) - 1),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    cr_assert_eq(rc, 0, "produce: %s", rd_kafka_err2str(rc));
    cr_assert_eq(rd_kafka_flush(rk, 30000), 0, "flush timed out");
    return rk;
}

static void zombie_end(rd_kafka_t *rk, bool commit) {
    rd_kafka_error_t *e = commit ? rd_kafka_commit_transaction(rk, 30000)
                                 : rd_kafka_abort_transaction(rk, 30000);
    cr_assert_null(e, "%s: %s", commit ? "commit" : "abort",
                   e ? rd_kafka_error_string(e) : "");
    rd_kafka_destroy(rk);
}

/* Waits up to timeout_s for needle in run's log. */
static bool wait_log(it_proc *run, const char *needle, double timeout_s) {
    double end = it_now() + timeout_s;
    while (!it_log_has(run, needle)) {
        if (!it_alive(run) || it_now() > end)
            return false;
        it_sleep(0.2);
    }
    return true;
}

/* One round: a transaction open while run starts, then ended (committed
 * or aborted) after the restore had time to end without it. */
static void round_trip(it_ctx *c, bool commit) {
    char txn_id[256], key[64];
    snprintf(txn_id, sizeof(txn_id), "%s-zombie-%s", c->prefix,
             commit ? "commit" : "abort");
    snprintf(key, sizeof(key), "zz-open-txn-%s", commit ? "commit" : "abort");
    rd_kafka_t *z = zombie_open(c, txn_id, key);
    it_proc *run = it_start_run(c, NULL);
    cr_assert(wait_log(run,
                       "partition 0: the changelog has an open "
                       "transaction",
                       60),
              "run did not say that it waits for the open transaction "
              "(log %s)",
              run->err);
    /* Time enough for a restore of a few accounts to end many times over:
     * it must not, while the transaction is open. */
    it_sleep(3);
    cr_assert(!it_log_has(run, "partition 0 restored"),
              "partition 0 was restored while a transaction was open on its "
              "changelog (log %s)",
              run->err);
    zombie_end(z, commit);
    cr_assert(wait_log(run, "partition 0 restored", 60),
              "partition 0 was not restored after the transaction ended "
              "(log %s)",
              run->err);
    char skipped[128];
    snprintf(skipped, sizeof(skipped), "changelog record of %s skipped", key);
    if (commit)
        cr_assert(it_log_has(run, skipped),
                  "the committed record was not read by the restore (log %s)",
                  run->err);
    else
        cr_assert(!it_log_has(run, skipped),
                  "the aborted record was read by the restore (log %s)",
                  run->err);
    it_check_output(c, 60);
    it_stop_run(run);
}

Test(restore_txn, waits_for_an_open_changelog_transaction) {
    it_ctx c;
    it_data d;
    it_init(&c, "restore-txn");
    it_gen(&d, 7, 1);
    it_expected(&c, &d);
    it_produce(&c, &d, 0, d.n);
    /* A first run builds the changelog and commits every record. */
    it_proc *run = it_start_run(&c, NULL);
    it_check_output(&c, 120);
    it_stop_run(run);
    round_trip(&c, true);
    round_trip(&c, false);
    it_data_free(&d);
    it_done(&c);
}
