/*
 * repute/config.h - configuration: the keys of docs/rules.md section 8.
 *
 * A configuration is a plain struct with every key's value, filled with the
 * defaults by rp_config_init() and then overridden from a Java-style
 * properties file (rp_config_load_file) and from "--set key=value" pairs
 * (rp_config_set), in that order. Every failure names the key and says why
 * in errstr. Keys beginning "kafka." are not interpreted: they are kept, in
 * order, for librdkafka.
 *
 * Ownership: rp_config_init() allocates nothing; the kafka.* pairs and the
 * topic names are heap copies owned by the config. The caller frees them
 * with rp_config_destroy().
 */
#ifndef REPUTE_CONFIG_H
#define REPUTE_CONFIG_H

#include <stdio.h>

#include "repute/types.h"

typedef enum rp_clock_mode { RP_CLOCK_WALL = 0, RP_CLOCK_EVENT } rp_clock_mode;
typedef enum rp_guarantee {
    RP_GUARANTEE_EXACTLY_ONCE = 0,
    RP_GUARANTEE_AT_LEAST_ONCE
} rp_guarantee;
typedef enum rp_framing {
    RP_FRAMING_PLAIN = 0,
    RP_FRAMING_CONFLUENT
} rp_framing;

/* How the subject of a schema is named (schema.registry.subject.strategy),
 * as Confluent's serializers name it: TopicNameStrategy, RecordNameStrategy,
 * TopicRecordNameStrategy. */
typedef enum rp_subject_strategy {
    RP_SUBJECT_TOPIC = 0,
    RP_SUBJECT_RECORD,
    RP_SUBJECT_TOPIC_RECORD
} rp_subject_strategy;

/* Topic slots: the five inputs in the order of docs/rules.md section 2, then
 * the outputs. */
typedef enum rp_topic {
    RP_TOPIC_DELIVERIES = 0,
    RP_TOPIC_BOUNCES,
    RP_TOPIC_COMPLAINTS,
    RP_TOPIC_REPORTS,
    RP_TOPIC_ACTIONS,
    RP_TOPIC_STATUS,
    RP_TOPIC_DLQ,
    RP_TOPIC_CHANGELOG,
    RP_TOPIC_CURRENT, /* compacted: the AccountState of every account that
                         is not HEALTHY (docs/current.md) */
    RP_TOPIC__COUNT
} rp_topic;

/* Schema-id slots for the Confluent framing: one per record type, then
 * ReputationEvent. */
#define RP_SCHEMA_ID_STATUS RP_REC__COUNT
#define RP_SCHEMA_ID__COUNT (RP_REC__COUNT + 1)

/* The largest value of the key threads. */
#define RP_THREADS_MAX 64

typedef struct rp_kv {
    char *key; /* without the "kafka." prefix */
    char *value;
} rp_kv;

typedef struct rp_config {
    /* Rates (docs/rules.md section 5). */
    double bounce_review_rate, bounce_pause_rate;
    double complaint_review_rate, complaint_pause_rate;
    /* Tenants (docs/rules.md section 10). A tenant rate left unset in the
     * configuration holds the account's value of the same rate once the
     * configuration is validated, so the engine reads these alone. */
    double tenant_bounce_review_rate, tenant_bounce_pause_rate;
    double tenant_complaint_review_rate, tenant_complaint_pause_rate;
    int32_t tenant_max_per_account;
    /* Entries of history kept per account and tenant (docs/history.md);
     * 0 keeps none. */
    int32_t history_max_entries;
    /* Whether the user gave each tenant rate; one not given follows the
     * account's rate of the same name (resolved by rp_config_init and
     * rp_config_validate, shown as such by rp_config_dump). */
    bool tenant_bounce_review_rate_set, tenant_bounce_pause_rate_set;
    bool tenant_complaint_review_rate_set, tenant_complaint_pause_rate_set;
    /* Window (docs/rules.md section 3); durations in milliseconds. */
    int64_t window_min_volume;
    int64_t window_min_span;
    int64_t window_max_span;
    int64_t rate_min_volume;
    /* Life cycle (docs/rules.md section 5). */
    int64_t review_period;
    int32_t review_max_extensions;
    bool pause_immediate;
    /* Reports (docs/rules.md section 4), indexed by issue kind (rate kinds
     * unused). */
    int64_t report_window;
    int32_t report_threshold[RP_ISSUE__COUNT];
    bool report_manual[RP_ISSUE__COUNT];
    /* Dedupe (docs/rules.md section 3). */
    int64_t dedupe_horizon;
    int64_t dedupe_max_entries;
    /* Clock; clock_set tells whether the user chose one, so that each
     * command can apply its own default (wall for run, event for replay). */
    rp_clock_mode clock;
    bool clock_set;
    rp_guarantee guarantee;
    /* Avro framing and Confluent schema ids. */
    rp_framing framing;
    int32_t schema_id[RP_SCHEMA_ID__COUNT];
    /* avro.schema.id.current: AccountState is not a codec slot (it has
     * its own codec, repute/acctstate.h), so its pinned id lives apart. */
    int32_t schema_id_current;
    /* Schema registry (docs/schemas.md); registry_url is "" when none is
     * configured, and so are the user info and the CA location. */
    char *registry_url;       /* schema.registry.url, a comma list */
    char *registry_user_info; /* schema.registry.basic.auth.user.info */
    char *registry_ca;        /* schema.registry.ssl.ca.location */
    int64_t registry_timeout; /* schema.registry.request.timeout, 10s */
    rp_subject_strategy subject_strategy;
    /* Topic names (owned). */
    char *topic[RP_TOPIC__COUNT];
    /* repute run. */
    char *group_id;           /* group.id, default "repute" */
    int64_t max_task_idle;    /* max.task.idle, default 500ms */
    int64_t commit_interval;  /* commit.interval, default 100ms */
    int32_t threads;          /* threads, default 0: the cores it may use */
    int64_t input_max_future; /* input.max.future, default 24h */
    bool topics_create;       /* topics.create, default false */
    bool topics_create_set;   /* the user chose topics.create */
    int32_t topic_partitions; /* topics.partitions, default 4 */
    char *log_level;          /* log.level: error|warn|info|debug */
    char *http_listen;        /* http.listen, default 127.0.0.1:8080 */
    /* The API's access (docs/api-auth.md): "none" means unset. */
    char *http_auth_tokens_file; /* http.auth.tokens.file */
    bool http_auth_metrics;      /* http.auth.metrics, default true */
    char *http_tls_cert;         /* http.tls.cert.location */
    char *http_tls_key;          /* http.tls.key.location */
    bool http_allow_plaintext;   /* http.allow.plaintext, default false */
    /* http.actions.timeout, default 10s: how long POST .../actions waits
     * for the broker's acknowledgement (docs/api-actions.md). */
    int64_t http_actions_timeout;
    /* kafka.* pairs, in the order given (owned). */
    rp_kv *kafka;
    size_t n_kafka;
} rp_config;

/* Fills *cfg with every default of docs/rules.md section 8. Returns 0 or
 * RP_ENOMEM. */
int rp_config_init(rp_config *cfg);

/* Frees what the config owns. Safe on a zeroed or destroyed config. */
void rp_config_destroy(rp_config *cfg);

/* Sets one key from its text value. Returns 0, or RP_EINVAL with errstr
 * naming the key and the reason ("unknown key", "expected a duration like
 * 30s, 15m, 24h or 7d", ...). */
int rp_config_set(rp_config *cfg, const char *key, const char *value,
                  char *errstr, size_t errstr_size);

/* Parses "key=value" (as given to --set). */
int rp_config_set_pair(rp_config *cfg, const char *pair, char *errstr,
                       size_t errstr_size);

/* Loads a properties file: "key = value" or "key: value" lines, '#' and '!'
 * comments, blank lines, surrounding whitespace trimmed. errstr names the
 * file, the line and the key. Returns 0, RP_EIO or RP_EINVAL. */
int rp_config_load_file(rp_config *cfg, const char *path, char *errstr,
                        size_t errstr_size);

/* Checks relations between keys once all are set (review rate <= pause
 * rate, min span <= max span, ...). Returns 0 or RP_EINVAL naming the key.
 * It first resolves the keys that follow another when left unset: each
 * tenant rate the user did not give takes the account's rate of the same
 * name (docs/rules.md section 10), so that the engine reads the tenant_*
 * fields alone. */
int rp_config_validate(rp_config *cfg, char *errstr, size_t errstr_size);

/* Parses a duration ("500ms", "30s", "15m", "24h", "7d") into
 * milliseconds. Returns 0 or RP_EINVAL. */
int rp_duration_parse(const char *s, int64_t *out_ms);

/* Writes a duration of ms milliseconds as rp_duration_parse() reads it, in
 * the largest unit that holds it exactly ("7d", "24h", "250ms"). */
void rp_duration_format(int64_t ms, char *buf, size_t size);

/* Writes every key with its current value, one "key = value" line each, in
 * the documented order (for `repute config` style dumps and tests).
 * kafka.* pairs are written last. Returns 0 or RP_EIO. */
int rp_config_dump(const rp_config *cfg, FILE *out);

#endif
