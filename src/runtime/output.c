/*
 * output.c - everything the processor produces, and when.
 *
 * Outputs, RELATED reports, DLQ records and changelog records all go
 * through rp_out_produce. Under exactly_once they are produced into the
 * open transaction; under at_least_once, as plain records that the next
 * commit waits for (commit.c).
 *
 * While a commit or an abort is in flight (p->hold, set by commit.c's
 * queue_work and cleared when its outcome is handled, by finish_work or by
 * a revocation that waited for it), nothing can be produced into the
 * transaction: rp_out_produce then keeps an owned copy of each record
 * (in its lane's pending list: lanes apply records at the same time,
 * lanes.c). After a successful commit, the held records are produced
 * into the transaction just begun (rp_out_pending_flush); after a failed
 * one they are dropped (rp_out_pending_clear), since their work is redone
 * after the rewind or abandoned with the process. The same
 * holds under at_least_once, where a commit waits for delivery of what was
 * produced before it.
 *
 * Beside each STATUS_CHANGE of an account or of one of its tenants, in
 * the same transaction, goes the account's AccountState (which the
 * engine builds for sink->on_current, with its non-HEALTHY tenants) to
 * topic.current (compacted, keyed by account_id), or a tombstone (a null
 * value) once the account and all its tenants are HEALTHY
 * (docs/current.md): the topic then always agrees with the changelog,
 * and a restore needs no rewrite of it. rp_out_current() is also what
 * `repute run --rebuild-current` writes its snapshot with.
 *
 * A record librdkafka refuses for an abortable reason marks the
 * transaction failed (p->txn_failed): the merge stops applying and the
 * next commit turns into an abort. A fatal refusal stops the processor.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "repute/acctstate.h"
#include "repute/avro.h"
#include "repute/engine.h"
#include "repute/log.h"

#include "runtime/proc.h"

/* ---------------------------------------------------------------- produce */

/* Produces one record, waiting (briefly, polling) only when librdkafka's
 * local queue is full. */
static int produce_now(lane *l, const char *topic, int32_t partition,
                       const void *key, size_t key_len, const void *val,
                       size_t val_len, rd_kafka_headers_t *hdrs);

/* Work was done that the next commit must cover: the lane notes it during
 * a round (the loop takes it after), the loop otherwise. */
static void note_uncommitted(lane *l) {
    if (l->p->in_round)
        l->uncommitted = true;
    else
        l->p->uncommitted = true;
}

/* Keeps a record for the next transaction (see rp_out_pending_flush). */
static int pending_push(lane *l, const char *topic, int32_t partition,
                        const void *key, size_t key_len, const void *val,
                        size_t val_len, rd_kafka_headers_t *hdrs) {
    if (l->n_pending == l->cap_pending) {
        size_t cap = l->cap_pending ? 2 * l->cap_pending : 256;
        pending_msg *v = realloc(l->pending, cap * sizeof(*v));
        if (!v)
            goto fail;
        l->pending = v;
        l->cap_pending = cap;
    }
    pending_msg *m = &l->pending[l->n_pending];
    m->key = key_len ? malloc(key_len) : NULL;
    m->value = val_len ? malloc(val_len) : NULL;
    if ((key_len && !m->key) || (val_len && !m->value)) {
        free(m->key);
        free(m->value);
        goto fail;
    }
    if (key_len)
        memcpy(m->key, key, key_len);
    if (val_len)
        memcpy(m->value, val, val_len);
    m->seq = l->p->round_seq;
    m->topic = topic;
    m->partition = partition;
    m->key_len = key_len;
    m->value_len = val_len;
    m->hdrs = hdrs;
    l->n_pending++;
    note_uncommitted(l);
    return 0;
fail:
    if (hdrs)
        rd_kafka_headers_destroy(hdrs);
    rp_lane_fail(l, "out of memory");
    return -1;
}

static void lane_pending_clear(lane *l) {
    for (size_t i = 0; i < l->n_pending; i++) {
        free(l->pending[i].key);
        free(l->pending[i].value);
        if (l->pending[i].hdrs)
            rd_kafka_headers_destroy(l->pending[i].hdrs);
    }
    l->n_pending = 0;
}

/* Drops the held records (their transaction will not happen: an abort
 * rewinds and redoes their work, or the process stops). */
void rp_out_pending_clear(proc *p) {
    for (int i = 0; i < p->n_lanes; i++)
        lane_pending_clear(&p->lanes[i]);
}

/* The lane whose next held record (at[lane]) is of the earliest round,
 * or -1 when none is left. */
static int pending_next(const proc *p, const size_t *at) {
    int best = -1;
    for (int j = 0; j < p->n_lanes; j++) {
        const lane *l = &p->lanes[j];
        if (at[j] < l->n_pending &&
            (best < 0 ||
             l->pending[at[j]].seq < p->lanes[best].pending[at[best]].seq))
            best = j;
    }
    return best;
}

/* Produces the held records into the transaction that has just begun, in
 * the order they were applied in: round by round (a task's records of one
 * round are all one lane's, in its list in order; a task may be another
 * lane's in the next round). */
void rp_out_pending_flush(proc *p) {
    size_t at[RP_THREADS_MAX] = {0};
    int j;
    while ((j = pending_next(p, at)) >= 0) {
        lane *l = &p->lanes[j];
        pending_msg *m = &l->pending[at[j]++];
        rd_kafka_headers_t *h = m->hdrs;
        m->hdrs = NULL; /* produce_now takes it, also on failure */
        if (produce_now(l, m->topic, m->partition, m->key, m->key_len, m->value,
                        m->value_len, h) != 0)
            break; /* the rest is dropped: the transaction aborts */
    }
    rp_out_pending_clear(p);
}

/* Produces one record; while a commit is in flight, holds it for the next
 * transaction instead. */
int rp_out_produce(lane *l, const char *topic, int32_t partition,
                   const void *key, size_t key_len, const void *val,
                   size_t val_len, rd_kafka_headers_t *hdrs) {
    if (l->p->hold)
        return pending_push(l, topic, partition, key, key_len, val, val_len,
                            hdrs);
    return produce_now(l, topic, partition, key, key_len, val, val_len, hdrs);
}

static int produce_now(lane *l, const char *topic, int32_t partition,
                       const void *key, size_t key_len, const void *val,
                       size_t val_len, rd_kafka_headers_t *hdrs) {
    proc *p = l->p;
    for (;;) {
        rd_kafka_resp_err_t err;
        if (hdrs)
            err = rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_KEY((void *)key, key_len),
                                    RD_KAFKA_V_VALUE((void *)val, val_len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        else
            err = rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_KEY((void *)key, key_len),
                                    RD_KAFKA_V_VALUE((void *)val, val_len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            l->c.produced++;
            note_uncommitted(l);
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            if (rd_kafka_fatal_error(p->producer, NULL, 0) ==
                RD_KAFKA_RESP_ERR_NO_ERROR) {
                /* Abortable (the transaction is in an error state, or this
                 * one record cannot be sent): stop applying; the next
                 * commit turns into an abort and a rewind. */
                if (!atomic_exchange(&p->txn_failed, true))
                    rp_log_warn("run: cannot produce to %s: %s; the "
                                "transaction will be aborted",
                                topic, rd_kafka_err2str(err));
                return -1;
            }
            rp_log_error("run: cannot produce to %s: %s", topic,
                         rd_kafka_err2str(err));
            rp_lane_fail(l, "produce failed");
            return -1;
        }
        /* librdkafka's queues are safe from every thread: a lane may
         * serve the delivery reports too. */
        rd_kafka_poll(p->producer, 50);
    }
}

/* ---------------------------------------------------------------- sink */

int rp_out_current(lane *l, const rp_account_state *st) {
    proc *p = l->p;
    const void *val = NULL;
    size_t len = 0;
    /* A tombstone once the account and all its tenants are HEALTHY. */
    if (st->status != RP_ASTATUS_HEALTHY || st->n_tenants) {
        char err[256];
        if (rp_acctstate_encode(st, p->current_id, &l->current_buf, err,
                                sizeof(err)) != 0) {
            rp_log_error("run: cannot encode an account state: %s", err);
            rp_lane_fail(l, "encode failed");
            return -1;
        }
        val = l->current_buf.data;
        len = l->current_buf.len;
    }
    return rp_out_produce(l, p->cfg->topic[RP_TOPIC_CURRENT],
                          RD_KAFKA_PARTITION_UA, st->account_id.ptr,
                          st->account_id.len, val, len, NULL);
}

static void sink_event(void *opaque, const rp_event *ev) {
    lane *l = opaque;
    proc *p = l->p;
    if (p->obs->on_event) {
        /* The observer (the API's notifications) is not the lanes': one
         * lane at a time tells it. */
        if (p->n_lanes > 1)
            pthread_mutex_lock(&p->obs_mu);
        p->obs->on_event(p->obs->opaque, ev);
        if (p->n_lanes > 1)
            pthread_mutex_unlock(&p->obs_mu);
    }
    const void *buf;
    size_t len;
    char err[256];
    if (rp_avro_encode_event(l->enc, ev, &buf, &len, err, sizeof(err)) != 0) {
        rp_log_error("run: cannot encode an output event: %s", err);
        rp_lane_fail(l, "encode failed");
        return;
    }
    rp_out_produce(l, p->cfg->topic[RP_TOPIC_STATUS], RD_KAFKA_PARTITION_UA,
                   ev->account_id.ptr, ev->account_id.len, buf, len, NULL);
}

/* Right after each STATUS_CHANGE of an account or of one of its tenants:
 * the account's state to topic.current, in the same transaction. */
static void sink_current(void *opaque, const rp_account_state *st) {
    lane *l = opaque;
    if (!st) {
        rp_log_error("run: cannot build an account state: %s",
                     rp_strerror(RP_ENOMEM));
        rp_lane_fail(l, "out of memory");
        return;
    }
    /* As before the state: nothing more once the status event failed. */
    if (!rp_lane_failed(l) && !atomic_load(&l->p->txn_failed))
        rp_out_current(l, st);
}

static void sink_report(void *opaque, const rp_record *rep) {
    lane *l = opaque;
    proc *p = l->p;
    const void *buf;
    size_t len;
    char err[256];
    if (rp_avro_encode(l->enc, rep, &buf, &len, err, sizeof(err)) != 0) {
        rp_log_error("run: cannot encode a RELATED_ACCOUNT report: %s", err);
        rp_lane_fail(l, "encode failed");
        return;
    }
    /* Keyed by the linked account, so the report reaches whichever
     * instance owns that account's partition. */
    rp_out_produce(l, p->cfg->topic[RP_TOPIC_REPORTS], RD_KAFKA_PARTITION_UA,
                   rep->account_id.ptr, rep->account_id.len, buf, len, NULL);
}

/* The engine says so once per account (docs/rules.md section 10,
 * "Bounds"); every such record is counted in its stats. */
static void sink_tenant_overflow(void *opaque, rp_str account, rp_str tenant) {
    lane *l = opaque;
    proc *p = l->p;
    rp_log_warn("run: account %.*s names more than %" PRId32
                " tenants (tenant.max.per.account), e.g. %.*s: records of "
                "further tenants count for the account only",
                (int)account.len, account.ptr,
                p->cfg->tenant_max_per_account > 0
                    ? p->cfg->tenant_max_per_account
                    : 1000,
                (int)tenant.len, tenant.ptr);
}

/* ---------------------------------------------------------------- DLQ */

void rp_out_dlq(lane *l, int t, const inrec *m, const char *why) {
    proc *p = l->p;
    char part[16], off[24];
    snprintf(part, sizeof(part), "%" PRId32, m->partition);
    snprintf(off, sizeof(off), "%" PRId64, m->offset);
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    rd_kafka_header_add(h, "repute.topic", -1, rp_in_topic(p, t), -1);
    rd_kafka_header_add(h, "repute.partition", -1, part, -1);
    rd_kafka_header_add(h, "repute.offset", -1, off, -1);
    rd_kafka_header_add(h, "repute.error", -1, why, -1);
    rp_log_warn("run: %s [%" PRId32 "] @%" PRId64 " to the DLQ: %s",
                rp_in_topic(p, t), m->partition, m->offset, why);
    l->c.dlq++;
    rp_out_produce(l, p->cfg->topic[RP_TOPIC_DLQ], RD_KAFKA_PARTITION_UA,
                   m->key, m->key_len, m->payload, m->len, h);
}

/* ---------------------------------------------------------------- apply */

void rp_out_sink_init(lane *l) {
    l->sink.opaque = l;
    l->sink.on_event = sink_event;
    l->sink.on_current = sink_current;
    l->sink.on_report = sink_report;
    l->sink.on_tenant_overflow = sink_tenant_overflow;
}
