/*
 * repute/processor.h - `repute run`: the stream processor on a libuv loop.
 *
 * The processor reads the five input topics with one consumer-group member,
 * merges each partition number's five streams in event-time order, applies
 * the records to one engine per assigned partition (a "task", as in Kafka
 * Streams), and publishes outputs, changelog records and consumer offsets in
 * one Kafka transaction per commit interval. See docs/run.md.
 */
#ifndef REPUTE_PROCESSOR_H
#define REPUTE_PROCESSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "repute/config.h"
#include "repute/procview.h"
#include "repute/record.h"

/*
 * What the processor tells a component that serves it from the outside
 * (the HTTP API, which `repute run`'s command wires in): the processor
 * knows nothing of that component but these callbacks, so the runtime
 * depends on no module above or beside it. Every callback runs on the
 * processor's loop thread, and any of them may be NULL.
 *
 *   start      once the loop exists, before the group is joined: may start
 *              servers on loop; it reads the processor through view (see
 *              repute/procview.h for how long what it lends lives).
 *              Returns 0, or an RP_E* code with errstr filled, and the
 *              processor then stops with exit status 2.
 *   stop       when the loop's handles close: close yours too.
 *   on_event   every output event the engines publish, as it is produced
 *              (borrowed for the call).
 *   on_commit  a commit finished; ms is how long it took.
 *   free       after the loop has ended: free what start made.
 *
 * The observer and its opaque pointer are the caller's; the processor
 * borrows them for the length of rp_processor_run.
 */
typedef struct rp_proc_observer {
    void *opaque;
    int (*start)(void *opaque, uv_loop_t *loop, const rp_config *cfg,
                 const rp_proc_view *view, char *errstr, size_t errstr_size);
    void (*stop)(void *opaque);
    void (*on_event)(void *opaque, const rp_event *ev);
    void (*on_commit)(void *opaque, uint64_t ms);
    void (*free)(void *opaque);
} rp_proc_observer;

typedef struct rp_run_options {
    bool embedded; /* start librdkafka's mock cluster in-process */
    /* --rebuild-current: after each partition's restore, write the
     * AccountState of every account (a tombstone for a healthy one) to
     * topic.current (docs/current.md). */
    bool rebuild_current;
    /* Told of the processor's life (NULL: nobody is). */
    const rp_proc_observer *observer;
} rp_run_options;

/* Runs until SIGINT/SIGTERM or a fatal error. cfg may be changed (the
 * embedded mode sets kafka.bootstrap.servers). Returns the process exit
 * status: 0 after a clean shutdown (also after a signal in start-up), 1 on
 * a fatal Kafka error, 2 on a configuration or topic-layout error. The
 * signals' handlers (repute/stop.h) are installed here unless the caller
 * has installed them already, as it should, first thing; a second signal
 * exits the process (docs/run.md, "Signals"). */
int rp_processor_run(rp_config *cfg, const rp_run_options *opts);

#endif
