/*
 * test_embedded.c - the end-to-end check against `repute run --embedded`
 * (librdkafka's mock cluster inside the process): it prints
 * bootstrap.servers=HOST:PORT, records are produced to it with `repute
 * produce` while it runs, and `repute tail` of its status topic must equal
 * `repute replay` of the same records. The mock cluster has no
 * transaction isolation, which does not matter here: nothing is aborted.
 */
#include "support.h"

TestSuite(embedded, .fini = it_fini, .timeout = 240);

Test(embedded, produce_run_tail_equals_replay) {
    it_ctx c;
    it_data d;
    it_init_embedded(&c, "embedded");
    it_gen(&d, 6, 1);
    it_expected(&c, &d);
    it_proc *run = it_start_embedded(&c);
    it_produce_live(&c, &d, 0, d.n, NULL, NULL);
    it_check_output(&c, 120);
    it_stop_run(run);
    it_data_free(&d);
    it_done(&c);
}
