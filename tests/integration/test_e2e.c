/*
 * test_e2e.c - the pipeline end to end on a real broker: records produced
 * with `repute produce`, processed by one `repute run --set clock=event`,
 * read back with `repute tail`, must equal `repute replay` of the same
 * records, event for event per account (docs/rules.md sections 7 and 9).
 *
 * - prefilled: every record is in the topics before run starts (a live run
 *   over pre-filled topics publishes exactly what replay publishes);
 * - live: half of the records are there at the start, the rest are
 *   produced while run is running, one single-topic segment at a time;
 * - the same live run with tenants (docs/rules.md section 10): the last
 *   copy of the stream spreads its mail over tenants, one of which is
 *   paused while its account stays healthy, so the tenants' events, their
 *   order among the account's and the one sequence are compared too.
 */
#include <stdio.h>

#include "support.h"

TestSuite(e2e, .fini = it_fini, .timeout = 280);

Test(e2e, prefilled_topics_publish_what_replay_publishes) {
    it_ctx c;
    it_data d;
    it_init(&c, "e2e-prefilled");
    it_gen(&d, 1, 2);
    it_expected(&c, &d);
    it_produce(&c, &d, 0, d.n);
    it_proc *run = it_start_run(&c, NULL);
    it_check_output(&c, 120);
    it_stop_run(run);
    it_data_free(&d);
    it_done(&c);
}

Test(e2e, records_produced_while_running) {
    it_ctx c;
    it_data d;
    it_init(&c, "e2e-live");
    it_gen(&d, 11, 1);
    it_expected(&c, &d);
    size_t half = it_split(&d, 0.5);
    it_produce(&c, &d, 0, half);
    it_proc *run = it_start_run(&c, NULL);
    it_produce_live(&c, &d, half, d.n, NULL, NULL);
    it_check_output(&c, 120);
    it_stop_run(run);
    it_data_free(&d);
    it_done(&c);
}

Test(e2e, tenants_records_produced_while_running) {
    it_ctx c;
    it_data d;
    it_init(&c, "e2e-tenants");
    it_gen_opts(&d, 5, 2, IT_GEN_TENANTS);
    it_expected(&c, &d);
    char exp[IT_PATH_MAX];
    snprintf(exp, sizeof(exp), "%s/expected.jsonl", c.dir);
    cr_assert(it_file_has(exp, "\"tenant\":\""),
              "replay published no tenant's event: the test would compare "
              "nothing of tenants (%s)",
              exp);
    size_t half = it_split(&d, 0.5);
    it_produce(&c, &d, 0, half);
    it_proc *run = it_start_run(&c, NULL);
    it_produce_live(&c, &d, half, d.n, NULL, NULL);
    it_check_output(&c, 120);
    it_stop_run(run);
    it_data_free(&d);
    it_done(&c);
}
