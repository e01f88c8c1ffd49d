/*
 * actions.c - POST /v1/accounts/{id}[/tenants/{tenant}]/actions: an
 * operator's action, checked (action_body.c), produced to topic.actions
 * and answered once the broker has acknowledged it (docs/api-actions.md).
 *
 * Why produce, and not apply here: the account may be owned by another
 * instance of the group, and an action must take effect through the
 * engine, in order with the account's other records, exactly once. So an
 * action over HTTP is an Action record like one from `repute produce`:
 * encoded with the same codec (the configured framing and schema id, or
 * the registry's id of the Action schema under topic.actions' subject),
 * keyed by the account id (the same partitioner, so it reaches the
 * instance that owns the account), with `actor` set to the caller's token
 * name and event_time to the wall clock at the request.
 *
 * The producer is the API's own: plain (not transactional), idempotent,
 * built by repute/kafka.h from the same configuration as the processor's
 * clients (kafka.* keys, TLS, SASL, the partitioner), and it lives on the
 * processor's libuv loop without blocking it. The handler hands the record
 * to librdkafka (rd_kafka_produce copies it) and defers its response
 * (repute/http.h); a timer polls librdkafka's delivery reports every 10 ms
 * while any action waits, and each report answers its request: 202 with
 * the partition and offset, or 503.
 *
 * Nothing half-done. The topic's message.timeout.ms is http.actions.timeout,
 * so librdkafka reports every message within it: acknowledged (202), or
 * failed (503). A message that failed before it was sent is gone. One that
 * timed out in flight may still have been written by the broker, which
 * nobody can know; the 503 says so and gives the record's event_id, and a
 * retry with that event_id (in the body) is counted once by the engine's
 * dedupe (docs/rules.md section 3, within dedupe.horizon). The page does
 * exactly that. The idempotent producer adds that librdkafka's own retries
 * never write a record twice.
 *
 * What is logged: one line per action acknowledged or refused by Kafka,
 * with the actor, the action, the issue and the account (shown as
 * printable ASCII). Never the note: it may hold what the account's owner
 * wrote, and it belongs in the account's history, not in logs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <openssl/rand.h>

#include "repute/avro.h"
#include "repute/jsonl.h"
#include "repute/kafka.h"
#include "repute/log.h"
#include "repute/registry.h"
#include "repute/schemas.h"

#include "api/routes.h"

#define POLL_MS 10 /* how often delivery reports are polled while waiting */

/* One action waiting for its delivery report. */
typedef struct pending {
    struct pending *prev, *next;
    rp_api_actions *owner;
    rp_http_deferred *d;
    rp_action_type action;
    bool has_issue;
    rp_issue_kind issue;
    bool has_tenant;
    char actor[RP_AUTH_NAME_MAX + 1];
    char event_id[RP_EVENT_ID_MAX + 1];
    char account[RP_ACCOUNT_ID_MAX + 1];
    size_t account_len;
    char tenant[RP_TENANT_MAX + 1];
    size_t tenant_len;
} pending;

struct rp_api_actions {
    rp_api *api;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rp_avro_codec *codec;
    uv_timer_t timer;
    bool timer_on;
    bool stopped;
    pending *waiting; /* doubly linked */
    size_t n_waiting;
    /* Why actions cannot be produced ("" when they can). */
    char unavailable[640];
};

/* ---------------------------------------------------------------- helpers */

/* s as printable ASCII, at most 80 bytes, for a log line (a crafted id
 * cannot forge lines). */
static void shown(const char *s, size_t n, char *out, size_t size) {
    size_t k = 0;
    for (size_t i = 0; i < n && i < 80 && k + 4 < size; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[k++] = ch >= 0x20 && ch < 0x7f && ch != '"' ? (char)ch : '?';
    }
    if (n > 80 && k + 4 < size)
        out[k++] = '.', out[k++] = '.', out[k++] = '.';
    out[k] = '\0';
}

static void put_str_field(rp_buf *b, const char *name, const char *s,
                          size_t n) {
    rp_buf_printf(b, ",\"%s\":", name);
    if (s)
        rp_jsonl_write_string(b, s, n);
    else
        rp_buf_puts(b, "null");
}

/* The fields every answer about a produced action carries. */
static void put_action(rp_buf *b, const pending *p) {
    rp_buf_puts(b, "\"event_id\":");
    rp_jsonl_write_string(b, p->event_id, strlen(p->event_id));
    put_str_field(b, "account_id", p->account, p->account_len);
    put_str_field(b, "tenant", p->has_tenant ? p->tenant : NULL, p->tenant_len);
    rp_buf_printf(b, ",\"action\":\"%s\"", rp_action_type_name(p->action));
    if (p->has_issue)
        rp_buf_printf(b, ",\"issue\":\"%s\"", rp_issue_kind_name(p->issue));
    else
        rp_buf_puts(b, ",\"issue\":null");
    put_str_field(b, "actor", p->actor, strlen(p->actor));
}

static const char *const result_names[RP_API_ACT__COUNT] = {
    "accepted", "invalid", "unacknowledged"};

const char *rp_api_action_result_name(int r) {
    return r >= 0 && r < RP_API_ACT__COUNT ? result_names[r] : "?";
}

/* ---------------------------------------------------------------- reports */

/* The body of a deferred answer: 202 with where the record is, or 503. */
static void write_answer(rp_http_response *res, const pending *p,
                         const rd_kafka_message_t *m) {
    rp_buf *b = &res->body;
    if (!m->err) {
        res->status = 202;
        rp_buf_puts(b, "{\"status\":\"accepted\",");
        put_action(b, p);
        rp_buf_printf(b, ",\"topic\":");
        const char *t = rd_kafka_topic_name(m->rkt);
        rp_jsonl_write_string(b, t, strlen(t));
        rp_buf_printf(b, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 "}\n",
                      m->partition, m->offset);
        return;
    }
    /* In flight when it failed: the broker may have written it. */
    bool maybe =
        rd_kafka_message_status(m) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
    char msg[512];
    snprintf(msg, sizeof(msg),
             "Kafka did not acknowledge the action (%s)%s; retry with the "
             "same event_id: the engine counts it once",
             rd_kafka_err2str(m->err),
             maybe ? ": it may still have been written" : "");
    res->status = 503;
    rp_buf_puts(b, "{\"error\":\"not_acknowledged\",\"message\":");
    rp_jsonl_write_string(b, msg, strlen(msg));
    rp_buf_printf(b, ",\"possibly_written\":%s,", maybe ? "true" : "false");
    put_action(b, p);
    rp_buf_puts(b, "}\n");
}

/* A delivery report: logged, counted, answered; p is freed. */
static void answer(pending *p, const rd_kafka_message_t *m) {
    rp_api_actions *ac = p->owner;
    char id[96];
    shown(p->account, p->account_len, id, sizeof(id));
    if (!m->err) {
        ac->api->actions_done[RP_API_ACT_ACCEPTED]++;
        rp_log_info("http: %s: %s%s%s on \"%s\" accepted (partition %" PRId32
                    ", offset %" PRId64 ")",
                    p->actor, rp_action_type_name(p->action),
                    p->has_issue ? " " : "",
                    p->has_issue ? rp_issue_kind_name(p->issue) : "", id,
                    m->partition, m->offset);
    } else {
        ac->api->actions_done[RP_API_ACT_UNACKED]++;
        rp_log_warn("http: %s: %s on \"%s\" not acknowledged: %s", p->actor,
                    rp_action_type_name(p->action), id,
                    rd_kafka_err2str(m->err));
    }
    rp_http_response *res = rp_http_deferred_response(p->d);
    if (res)
        write_answer(res, p, m);
    rp_http_deferred_finish(p->d);
    if (p->prev)
        p->prev->next = p->next;
    else
        ac->waiting = p->next;
    if (p->next)
        p->next->prev = p->prev;
    ac->n_waiting--;
    free(p);
}

/* Called from rd_kafka_poll, on the loop thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque) {
    (void)rk, (void)opaque;
    if (m->_private)
        answer(m->_private, m);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque) {
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk, why, sizeof(why));
        rp_log_error("http: the actions' producer failed: %s", why);
        return;
    }
    rp_log_debug("http: the actions' producer: %s", reason);
}

static void on_timer(uv_timer_t *t) {
    rp_api_actions *ac = t->data;
    rd_kafka_poll(ac->rk, 0);
    if (ac->n_waiting == 0 && ac->timer_on) {
        uv_timer_stop(&ac->timer);
        ac->timer_on = false;
    }
}

/* ---------------------------------------------------------------- start */

/* The codec: the configured ids, or with a registry the id of the Action
 * schema under topic.actions' subject (looked up, never registered: that
 * is the owner's decision, as for `repute produce`). */
static rp_avro_codec *open_codec(const rp_config *cfg, char *err, size_t size) {
    int32_t ids[RP_SCHEMA_ID__COUNT];
    for (int i = 0; i < RP_SCHEMA_ID__COUNT; i++)
        ids[i] = cfg->schema_id[i];
    if (rp_registry_configured(cfg)) {
        char rerr[400], name[256], subject[256];
        rp_registry *r = rp_registry_new(cfg, rerr, sizeof(rerr));
        if (!r) {
            snprintf(err, size, "schema registry: %s", rerr);
            return NULL;
        }
        const char *json = rp_avro_schema_json(RP_REC_ACTION);
        rp_registry_record_name(json, name, sizeof(name));
        rp_registry_subject(cfg->subject_strategy, cfg->topic[RP_TOPIC_ACTIONS],
                            name, subject, sizeof(subject));
        int rc = rp_registry_lookup(r, subject, json, &ids[RP_REC_ACTION], rerr,
                                    sizeof(rerr));
        rp_registry_destroy(r);
        if (rc != 0) {
            snprintf(err, size, "schema registry: subject %.200s: %.250s",
                     subject, rerr);
            return NULL;
        }
    }
    return rp_avro_codec_new(cfg->framing, ids, err, size);
}

static int open_producer(rp_api_actions *ac, const rp_config *cfg, char *err,
                         size_t size) {
    char ms[32];
    rd_kafka_conf_t *conf =
        rp_kafka_conf_new(cfg, RP_KAFKA_PRODUCER, err, size);
    if (!conf)
        return RP_EINVAL;
    /* Idempotence is what makes librdkafka's retries safe: not the user's
     * to turn off here. */
    if (rp_kafka_conf_set(conf, "enable.idempotence", "true", err, size) != 0)
        goto fail;
    rd_kafka_conf_set_opaque(conf, ac);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    ac->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, size);
    if (!ac->rk)
        goto fail;
    conf = NULL;
    rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
    snprintf(ms, sizeof(ms), "%" PRId64, cfg->http_actions_timeout);
    if (!tc || rd_kafka_topic_conf_set(tc, "message.timeout.ms", ms, err,
                                       size) != RD_KAFKA_CONF_OK) {
        if (tc)
            rd_kafka_topic_conf_destroy(tc);
        return RP_EINVAL;
    }
    ac->rkt = rd_kafka_topic_new(ac->rk, cfg->topic[RP_TOPIC_ACTIONS], tc);
    if (!ac->rkt) {
        snprintf(err, size, "topic %s: %s", cfg->topic[RP_TOPIC_ACTIONS],
                 rd_kafka_err2str(rd_kafka_last_error()));
        return RP_EINVAL;
    }
    return 0;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    return RP_EINVAL;
}

int rp_api_actions_start(rp_api *a) {
    rp_api_actions *ac = calloc(1, sizeof(*ac));
    if (!ac)
        return RP_ENOMEM;
    ac->api = a;
    a->actions = ac;
    uv_timer_init(a->loop, &ac->timer);
    ac->timer.data = ac;
    char err[512];
    ac->codec = open_codec(a->cfg, err, sizeof(err));
    if (!ac->codec || open_producer(ac, a->cfg, err, sizeof(err)) != 0) {
        snprintf(ac->unavailable, sizeof(ac->unavailable),
                 "actions over HTTP are unavailable: %s", err);
        rp_log_warn("http: %s", ac->unavailable);
    }
    return 0;
}

void rp_api_actions_stop(rp_api *a) {
    rp_api_actions *ac = a ? a->actions : NULL;
    if (!ac || ac->stopped)
        return;
    ac->stopped = true;
    if (ac->rk) {
        /* Whatever waits now is failed (its connection is closing anyway):
         * purged messages are reported, and answered, by the flush. */
        rd_kafka_purge(ac->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(ac->rk, 1000);
    }
    while (ac->waiting) {
        pending *p = ac->waiting;
        ac->waiting = p->next;
        rp_http_deferred_finish(p->d);
        free(p);
    }
    ac->n_waiting = 0;
    if (ac->rkt)
        rd_kafka_topic_destroy(ac->rkt);
    if (ac->rk)
        rd_kafka_destroy(ac->rk);
    ac->rkt = NULL;
    ac->rk = NULL;
    uv_close((uv_handle_t *)&ac->timer, NULL);
}

void rp_api_actions_free(rp_api *a) {
    if (!a || !a->actions)
        return;
    rp_avro_codec_destroy(a->actions->codec);
    free(a->actions);
    a->actions = NULL;
}

/* ---------------------------------------------------------------- POST */

static void bad_request(rp_http_response *res, const char *field,
                        const char *msg) {
    res->status = 400;
    rp_buf_puts(&res->body, "{\"error\":\"bad_request\",\"field\":");
    rp_jsonl_write_string(&res->body, field, strlen(field));
    rp_buf_puts(&res->body, ",\"message\":");
    rp_jsonl_write_string(&res->body, msg, strlen(msg));
    rp_buf_puts(&res->body, "}\n");
}

static pending *pending_new(rp_api_actions *ac, const rp_record *rec,
                            const rp_auth_caller *who) {
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->owner = ac;
    p->action = rec->u.action.action;
    p->has_issue = rec->u.action.has_issue;
    p->issue = rec->u.action.issue;
    snprintf(p->actor, sizeof(p->actor), "%s", who->name);
    memcpy(p->event_id, rec->event_id.ptr, rec->event_id.len);
    memcpy(p->account, rec->account_id.ptr, rec->account_id.len);
    p->account_len = rec->account_id.len;
    if (rec->tenant.ptr) {
        p->has_tenant = true;
        memcpy(p->tenant, rec->tenant.ptr, rec->tenant.len);
        p->tenant_len = rec->tenant.len;
    }
    return p;
}

/* Encodes and hands the record to librdkafka, deferring res; on failure
 * answers res at once. */
static void produce(rp_api_actions *ac, const rp_record *rec,
                    const rp_auth_caller *who, rp_http_response *res) {
    const void *value;
    size_t len;
    char err[512];
    if (rp_avro_encode(ac->codec, rec, &value, &len, err, sizeof(err)) != 0) {
        rp_api_error_json(res, 500, "internal", "the action cannot be encoded");
        rp_log_error("http: encoding an action: %s", err);
        return;
    }
    pending *p = pending_new(ac, rec, who);
    rp_http_deferred *d = p ? rp_http_response_defer(res) : NULL;
    if (!d) {
        free(p);
        rp_api_error_json(res, 500, "internal", "out of memory");
        return;
    }
    p->d = d;
    if (rd_kafka_produce(ac->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                         (void *)value, len, rec->account_id.ptr,
                         rec->account_id.len, p) != 0) {
        snprintf(err, sizeof(err),
                 "Kafka took nothing (%s); nothing was written: try again",
                 rd_kafka_err2str(rd_kafka_last_error()));
        ac->api->actions_done[RP_API_ACT_UNACKED]++;
        rp_http_response *r = rp_http_deferred_response(d);
        if (r)
            rp_api_error_json(r, 503, "not_acknowledged", err);
        rp_http_deferred_finish(d);
        free(p);
        return;
    }
    p->next = ac->waiting;
    if (ac->waiting)
        ac->waiting->prev = p;
    ac->waiting = p;
    ac->n_waiting++;
    if (!ac->timer_on) {
        uv_timer_start(&ac->timer, on_timer, POLL_MS, POLL_MS);
        ac->timer_on = true;
    }
}

/* A new event_id: "http-" and 128 random bits in hex. */
static int new_event_id(char *out, size_t size) {
    unsigned char r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return RP_EIO;
    size_t n = (size_t)snprintf(out, size, "http-");
    for (size_t i = 0; i < sizeof(r) && n + 3 <= size; i++)
        n += (size_t)snprintf(out + n, size - n, "%02x", r[i]);
    return 0;
}

void rp_api_post_action(rp_api *a, const rp_http_request *req, rp_str id,
                        rp_str tenant, const rp_auth_caller *who,
                        rp_http_response *res) {
    rp_api_actions *ac = a->actions;
    char field[64], msg[512];
    rp_api_action_body *body = malloc(sizeof(*body));
    if (!body) {
        rp_api_error_json(res, 500, "internal", "out of memory");
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* the action's event_time */
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (rp_api_action_parse(body, req->body.ptr, req->body.len, id, tenant,
                            who->name, now, field, sizeof(field), msg,
                            sizeof(msg)) != 0) {
        a->actions_done[RP_API_ACT_INVALID]++;
        bad_request(res, field, msg);
        goto done;
    }
    if (!body->has_event_id &&
        new_event_id(body->event_id, sizeof(body->event_id)) != 0) {
        rp_api_error_json(res, 500, "internal", "no random bytes");
        goto done;
    }
    body->rec.event_id = rp_str_c(body->event_id);
    if (rp_record_check(&body->rec, msg, sizeof(msg)) != 0) {
        a->actions_done[RP_API_ACT_INVALID]++;
        bad_request(res, "body", msg);
        goto done;
    }
    if (!ac || !ac->rk || !ac->codec || ac->stopped) {
        a->actions_done[RP_API_ACT_UNACKED]++;
        rp_api_error_json(res, 503, "unavailable",
                          ac && ac->unavailable[0]
                              ? ac->unavailable
                              : "actions over HTTP are unavailable");
        goto done;
    }
    produce(ac, &body->rec, who, res);
done:
    free(body);
}
