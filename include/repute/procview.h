/*
 * repute/procview.h - a read-only view of a running processor (`repute
 * run`), for what tells about it from the outside: the HTTP API.
 *
 * The processor's state is its own (src/runtime/); a reader sees it only
 * through these calls, which copy numbers out or lend the tasks' engines
 * as const. The view is a handle on the processor itself, not a snapshot:
 * each call reads the state as it is now. It is valid, and may be used,
 * only on the processor's loop thread (the processor changes its state on
 * that thread, between callbacks, or in its other threads while the loop
 * thread waits for them, never while a callback runs), from the start of the
 * loop until the processor has freed the reader. Nothing here blocks or waits
 * for the network: the Kafka numbers are librdkafka's cached ones.
 *
 * Ownership: the processor owns the view and everything it lends (the
 * engines); the reader frees nothing. An engine lent by
 * rp_proc_view_engine is valid until the loop runs the next callback (a
 * rebalance or a rewind may replace it).
 */
#ifndef REPUTE_PROCVIEW_H
#define REPUTE_PROCVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "repute/config.h"
#include "repute/engine.h"
#include "repute/types.h"

/* The input topics, indexed RP_TOPIC_DELIVERIES .. RP_TOPIC_ACTIONS. */
#define RP_PROC_INPUTS 5

typedef struct rp_proc_view rp_proc_view;

/* Counters of the processor (they never go back). */
typedef struct rp_proc_counters {
    /* Records taken per input topic (applied or sent to the DLQ). */
    uint64_t consumed[RP_PROC_INPUTS];
    uint64_t dlq;      /* records sent to the DLQ */
    uint64_t produced; /* records produced, of every kind */
    uint64_t commits, aborts;
    /* The event-time merge (docs/run.md, "Event-time merge"): records
     * applied below their task's stream time, per input topic; records
     * applied after max.task.idle expired while a partition of their task
     * might still have held earlier ones; the seconds tasks have spent
     * waiting for a partition known to hold more records (the waits going
     * on included); and those waits that lasted over 5 s (each logged). */
    uint64_t late[RP_PROC_INPUTS];
    uint64_t idle_expired;
    double wait_seconds;
    uint64_t long_waits;
    /* The schema registry (docs/schemas.md), when one is configured
     * (registry): writer schema ids fetched, fetches that found no
     * registry answering, and whether it is unreachable now. */
    bool registry;
    uint64_t registry_schemas;
    uint64_t registry_failures;
    bool registry_down;
    /* The engine counters of the tasks dropped (revoked); the live tasks'
     * are read from their engines. */
    rp_engine_stats retired;
} rp_proc_counters;

/* True under guarantee=exactly_once. */
bool rp_proc_view_exactly_once(const rp_proc_view *v);
/* True once the processor has begun to shut down. */
bool rp_proc_view_stopping(const rp_proc_view *v);
/* True once a partition assignment has arrived (even an empty one). */
bool rp_proc_view_assigned(const rp_proc_view *v);
/* True when assigned and every assigned partition is restored. */
bool rp_proc_view_ready(const rp_proc_view *v);
/* The partitions (tasks) assigned, and those still restoring. */
int rp_proc_view_tasks(const rp_proc_view *v);
int rp_proc_view_restoring(const rp_proc_view *v);
/* The partition count of the topics: partitions are 0 .. this - 1. */
int32_t rp_proc_view_partitions(const rp_proc_view *v);
/* The engine of a partition's task, NULL when the partition is not
 * assigned here; *ready (unless ready is NULL) tells whether its restore
 * is done (before that, the engine holds a part of the state). */
const rp_engine *rp_proc_view_engine(const rp_proc_view *v, int32_t partition,
                                     bool *ready);
/* Changelog records read by the latest restore of an assigned partition
 * (0 when not assigned). */
uint64_t rp_proc_view_restored(const rp_proc_view *v, int32_t partition);
/* Records of input topic `topic` in an assigned partition not yet applied,
 * from the high watermark of the latest fetch. Returns false (and leaves
 * *lag) when the partition is not assigned or either end is unknown. */
bool rp_proc_view_lag(const rp_proc_view *v, int32_t partition, int topic,
                      int64_t *lag);
/* The partition an account id maps to under librdkafka's default
 * partitioner (consistent_random: CRC32 of the key), -1 before the
 * partition count is known. */
int32_t rp_proc_view_partition_of(const rp_proc_view *v, rp_str id);
/* The clock shown: under clock=wall the wall clock, under clock=event the
 * furthest stream time of the tasks (INT64_MIN when none has one). */
int64_t rp_proc_view_clock(const rp_proc_view *v);
/* Accounts held by the assigned tasks, by account status. */
void rp_proc_view_status_counts(const rp_proc_view *v,
                                uint64_t out[RP_ASTATUS__COUNT]);
/* Fills *out with the processor's counters. */
void rp_proc_view_counters(const rp_proc_view *v, rp_proc_counters *out);

/* One of the threads that apply records (the key threads; docs/run.md,
 * "Threads"): the records it has applied, the seconds it has been busy
 * applying them or writing their changelog, and its busy share of the
 * last progress interval (10 s; 0 to 1). */
typedef struct rp_proc_thread {
    uint64_t applied; /* records applied or sent to the DLQ */
    double busy_seconds;
    double busy_share;
} rp_proc_thread;

/* The number of those threads (0 before start-up has counted them). */
int rp_proc_view_threads(const rp_proc_view *v);
/* Fills *out for thread i (0 .. rp_proc_view_threads - 1; thread 0 is
 * the loop's own); false when there is no such thread. */
bool rp_proc_view_thread(const rp_proc_view *v, int i, rp_proc_thread *out);

#endif
