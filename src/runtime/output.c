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
 * (p->pending). After a successful commit, the held records are produced
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
static int produce_now(proc *p, const char *topic, int32_t partition,
                       const void *key, size_t key_len, const void *val,
                       size_t val_len, rd_kafka_headers_t *hdrs);

/* Keeps a record for the next transaction (see rp_out_pending_flush). */
static int pending_push(proc *p, const char *topic, int32_t partition,
                        const void *key, size_t key_len, const void *val,
                        size_t val_len, rd_kafka_headers_t *hdrs) {
    if (p->n_pending == p->cap_pending) {
        size_t cap = p->cap_pending ? 2 * p->cap_pending : 256;
        pending_msg *v = realloc(p->pending, cap * sizeof(*v));
        if (!v)
            goto fail;
        p->pending = v;
        p->cap_pending = cap;
    }
    pending_msg *m = &p->pending[p->n_pending];
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
    m->topic = topic;
    m->partition = partition;
    m->key_len = key_len;
    m->value_len = val_len;
    m->hdrs = hdrs;
    p->n_pending++;
    p->uncommitted = true;
    return 0;
fail:
    if (hdrs)
        rd_kafka_headers_destroy(hdrs);
    rp_loop_fail_fatal(p, "out of memory");
    return -1;
}

/* Drops the held records (their transaction will not happen: an abort
 * rewinds and redoes their work, or the process stops). */
void rp_out_pending_clear(proc *p) {
    for (size_t i = 0; i < p->n_pending; i++) {
        free(p->pending[i].key);
        free(p->pending[i].value);
        if (p->pending[i].hdrs)
            rd_kafka_headers_destroy(p->pending[i].hdrs);
    }
    p->n_pending = 0;
}

/* Produces the held records into the transaction that has just begun. */
void rp_out_pending_flush(proc *p) {
    for (size_t i = 0; i < p->n_pending; i++) {
        pending_msg *m = &p->pending[i];
        rd_kafka_headers_t *h = m->hdrs;
        m->hdrs = NULL; /* produce_now takes it, also on failure */
        if (produce_now(p, m->topic, m->partition, m->key, m->key_len, m->value,
                        m->value_len, h) != 0)
            break; /* the rest is dropped: the transaction aborts */
    }
    rp_out_pending_clear(p);
}

/* Produces one record; while a commit is in flight, holds it for the next
 * transaction instead. */
int rp_out_produce(proc *p, const char *topic, int32_t partition,
                   const void *key, size_t key_len, const void *val,
                   size_t val_len, rd_kafka_headers_t *hdrs) {
    if (p->hold)
        return pending_push(p, topic, partition, key, key_len, val, val_len,
                            hdrs);
    return produce_now(p, topic, partition, key, key_len, val, val_len, hdrs);
}

static int produce_now(proc *p, const char *topic, int32_t partition,
                       const void *key, size_t key_len, const void *val,
                       size_t val_len, rd_kafka_headers_t *hdrs) {
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
            p->produced++;
            p->uncommitted = true;
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
            rp_loop_fail_fatal(p, "produce failed");
            return -1;
        }
        rd_kafka_poll(p->producer, 50);
    }
}

/* ---------------------------------------------------------------- sink */

int rp_out_current(proc *p, const rp_account_state *st) {
    const void *val = NULL;
    size_t len = 0;
    /* A tombstone once the account and all its tenants are HEALTHY. */
    if (st->status != RP_ASTATUS_HEALTHY || st->n_tenants) {
        char err[256];
        if (rp_acctstate_encode(st, p->current_id, &p->current_buf, err,
                                sizeof(err)) != 0) {
            rp_log_error("run: cannot encode an account state: %s", err);
            rp_loop_fail_fatal(p, "encode failed");
            return -1;
        }
        val = p->current_buf.data;
        len = p->current_buf.len;
    }
    return rp_out_produce(p, p->cfg->topic[RP_TOPIC_CURRENT],
                          RD_KAFKA_PARTITION_UA, st->account_id.ptr,
                          st->account_id.len, val, len, NULL);
}

static void sink_event(void *opaque, const rp_event *ev) {
    proc *p = opaque;
    if (p->obs->on_event)
        p->obs->on_event(p->obs->opaque, ev);
    const void *buf;
    size_t len;
    char err[256];
    if (rp_avro_encode_event(p->enc, ev, &buf, &len, err, sizeof(err)) != 0) {
        rp_log_error("run: cannot encode an output event: %s", err);
        rp_loop_fail_fatal(p, "encode failed");
        return;
    }
    rp_out_produce(p, p->cfg->topic[RP_TOPIC_STATUS], RD_KAFKA_PARTITION_UA,
                   ev->account_id.ptr, ev->account_id.len, buf, len, NULL);
}

/* Right after each STATUS_CHANGE of an account or of one of its tenants:
 * the account's state to topic.current, in the same transaction. */
static void sink_current(void *opaque, const rp_account_state *st) {
    proc *p = opaque;
    if (!st) {
        rp_log_error("run: cannot build an account state: %s",
                     rp_strerror(RP_ENOMEM));
        rp_loop_fail_fatal(p, "out of memory");
        return;
    }
    /* As before the state: nothing more once the status event failed. */
    if (!p->fatal && !atomic_load(&p->txn_failed))
        rp_out_current(p, st);
}

static void sink_report(void *opaque, const rp_record *rep) {
    proc *p = opaque;
    const void *buf;
    size_t len;
    char err[256];
    if (rp_avro_encode(p->enc, rep, &buf, &len, err, sizeof(err)) != 0) {
        rp_log_error("run: cannot encode a RELATED_ACCOUNT report: %s", err);
        rp_loop_fail_fatal(p, "encode failed");
        return;
    }
    /* Keyed by the linked account, so the report reaches whichever
     * instance owns that account's partition. */
    rp_out_produce(p, p->cfg->topic[RP_TOPIC_REPORTS], RD_KAFKA_PARTITION_UA,
                   rep->account_id.ptr, rep->account_id.len, buf, len, NULL);
}

/* The engine says so once per account (docs/rules.md section 10,
 * "Bounds"); every such record is counted in its stats. */
static void sink_tenant_overflow(void *opaque, rp_str account, rp_str tenant) {
    proc *p = opaque;
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

void rp_out_dlq(proc *p, int t, const rd_kafka_message_t *m, const char *why) {
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
    p->dlq++;
    rp_out_produce(p, p->cfg->topic[RP_TOPIC_DLQ], RD_KAFKA_PARTITION_UA,
                   m->key, m->key_len, m->payload, m->len, h);
}

/* ---------------------------------------------------------------- apply */

const rp_engine_sink *rp_out_sink(proc *p) {
    static rp_engine_sink s;
    s.opaque = p;
    s.on_event = sink_event;
    s.on_current = sink_current;
    s.on_report = sink_report;
    s.on_tenant_overflow = sink_tenant_overflow;
    return &s;
}
