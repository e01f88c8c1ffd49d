/*
 * hooks.c - fault injection for the integration tests, compiled only into
 * test builds (cmake -DREPUTE_TEST_HOOKS=ON, which tests/run-all.sh uses;
 * OFF by default, so never in a release or a package).
 *
 * REPUTE_TEST_HOLD=<topic>:<ms> makes a slow fetch on purpose. Every task
 * takes that input topic's messages off librdkafka's queue only <ms> after
 * they began to wait there, and after each take waits <ms> again: the
 * messages (and the end-of-partition events) of that topic reach the merge
 * late, as they would through a throttled or overloaded broker, while the
 * broker's high watermark already says they exist
 * (tests/integration/test_slow_fetch.c). The merge (merge.c) asks before
 * each take, and sets its timer for when a held topic may be taken again.
 * Without the option this file compiles to nothing, and the merge calls
 * the empty inline versions in proc.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "repute/log.h"

#include "runtime/proc.h"

#ifdef REPUTE_TEST_HOOKS
static int hold_topic = -2; /* -2: not read yet, -1: none */
static uint64_t hold_ms;

/* Reads REPUTE_TEST_HOLD, once, before the lanes' threads start. */
void rp_hook_init(proc *p) {
    if (hold_topic == -2) {
        hold_topic = -1;
        const char *v = getenv("REPUTE_TEST_HOLD");
        const char *colon = v ? strrchr(v, ':') : NULL;
        char name[256];
        if (colon && (size_t)(colon - v) < sizeof(name)) {
            memcpy(name, v, (size_t)(colon - v));
            name[colon - v] = '\0';
            hold_topic = rp_topic_index(p, name);
            hold_ms = strtoull(colon + 1, NULL, 10);
            rp_log_warn("run: test hook: %s held back %" PRIu64 " ms",
                        hold_topic >= 0 ? name : "(no such topic)", hold_ms);
        }
    }
}

bool rp_hook_hold(proc *p, task *t, int k) {
    if (k != hold_topic)
        return false;
    uint64_t now = uv_now(p->loop);
    if (!t->hold_until[k]) {
        if (rd_kafka_queue_length(t->in[k]) == 0)
            return true;
        t->hold_until[k] = now + hold_ms;
    }
    return now < t->hold_until[k];
}

void rp_hook_taken(proc *p, task *t, int k) {
    if (k == hold_topic)
        t->hold_until[k] = uv_now(p->loop) + hold_ms;
}

/* When a held topic of t may be taken again (0: none held). */
uint64_t rp_hook_next(proc *p, const task *t) {
    if (hold_topic < 0 || t->hold_until[hold_topic] <= uv_now(p->loop))
        return 0;
    return t->hold_until[hold_topic];
}
#endif
