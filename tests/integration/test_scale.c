/*
 * test_scale.c - several instances of `repute run` in one consumer group:
 * two instances share the partitions; a third joins in the middle of a
 * stream and later leaves (SIGTERM) while records keep coming. Each
 * rebalance commits and moves tasks, which the new owner restores from
 * the changelog. The status topic must still equal `repute replay` of the
 * same records, and the third instance must have owned partitions.
 */
#include <stdio.h>
#include <string.h>

#include "support.h"

TestSuite(scale, .fini = it_fini, .timeout = 340);

typedef struct scale_state {
    size_t join_at, leave_at;
    it_proc *third;
} scale_state;

static void join_then_leave(it_ctx *c, size_t segment, size_t from, void *arg) {
    scale_state *s = arg;
    (void)from;
    if (segment == s->join_at) {
        s->third = it_start_run(c, NULL);
        fprintf(stderr, "[%s] a third instance joins after segment %zu\n",
                c->name, segment);
    } else if (segment == s->leave_at) {
        fprintf(stderr, "[%s] the third instance leaves after segment %zu\n",
                c->name, segment);
        it_stop_run(s->third);
    }
}

/* True when the log says the instance was assigned at least one partition
 * ("run: assigned N partitions" with N > 0). */
static bool owned_partitions(const it_proc *p) {
    FILE *f = fopen(p->err, "r");
    cr_assert_not_null(f, "cannot open %s", p->err);
    char line[1024];
    bool owned = false;
    while (fgets(line, sizeof(line), f)) {
        const char *s = strstr(line, "run: assigned ");
        int n;
        if (s && sscanf(s, "run: assigned %d", &n) == 1 && n > 0)
            owned = true;
    }
    fclose(f);
    return owned;
}

Test(scale, two_instances_and_a_third_joining_then_leaving) {
    it_ctx c;
    it_data d;
    it_init(&c, "scale");
    it_gen(&d, 3, 2);
    it_expected(&c, &d);
    size_t a = it_split(&d, 0.3);
    it_produce(&c, &d, 0, a);
    it_proc *r1 = it_start_run(&c, NULL);
    it_proc *r2 = it_start_run(&c, NULL);

    scale_state s = {0};
    size_t n_seg = 0;
    for (size_t i = a; i < d.n; i = it_segment_end(&d, i))
        n_seg++;
    s.join_at = n_seg / 4;
    s.leave_at = n_seg * 3 / 5;
    it_produce_live(&c, &d, a, d.n, join_then_leave, &s);
    cr_assert_not_null(s.third, "the third instance never started");

    it_check_output(&c, 120);
    cr_assert(owned_partitions(s.third),
              "the third instance never owned a partition (log %s)",
              s.third->err);
    cr_assert(owned_partitions(r1) && owned_partitions(r2),
              "an instance never owned a partition (logs %s, %s)", r1->err,
              r2->err);
    it_stop_run(r1);
    it_stop_run(r2);
    it_data_free(&d);
    it_done(&c);
}
