/*
 * keys.c - the configuration keys of docs/rules.md section 8 (repute/config.h):
 * the table of every key and the walks over it.
 *
 * Every key repute knows is one row of a single table, keys[] below: its
 * name, the type of its value, where the value lives in rp_config (an
 * offsetof), its default written as text, and the limits of its range.
 * Everything else is a walk over that table. rp_config_init() parses each
 * default through the very code that parses a user's value, so a default
 * can never be something a user could not write, and rp_config_dump()
 * prints each value back in the form the parser reads, so a dump is itself
 * a valid properties file. Adding a key is adding a row: the parser, the
 * dump, the validation of ranges, the "did you mean" hint for a mistyped
 * key and the freeing of owned strings all follow from it.
 *
 * The twelve report kinds each have a threshold and a manual flag. Rather
 * than spell out 24 rows (and a second copy of the kind names that could
 * drift from rp_issue_kind_name), a row may name a family of keys with a
 * '*' in the middle, "report.*.threshold": the middle component is parsed
 * as a report kind, and the value is stored in the array slot of that kind.
 * Per-kind defaults sit in small arrays indexed by report kind.
 *
 * A few keys have no default of their own but follow another key while
 * the user leaves them unset (the tenant rates follow the account's rate
 * of the same name, docs/rules.md section 10): their rows name that key,
 * rp_config_init() and rp_config_validate() copy its value over, and the
 * dump writes them as a comment that shows the value and where it came
 * from, so that a dump read back leaves them unset too.
 *
 * A key that is not in the table is explained rather than only refused:
 * the nearest known key when it is a typo away (an edit distance of two at
 * most), or the report kinds when it has the shape of a report key.
 */
#include "config/keys.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Enum-typed keys are stored through an int; this holds for every ABI
 * repute is built on and is checked here rather than assumed. */
_Static_assert(sizeof(rp_clock_mode) == sizeof(int), "enum is not an int");
_Static_assert(sizeof(rp_guarantee) == sizeof(int), "enum is not an int");
_Static_assert(sizeof(rp_framing) == sizeof(int), "enum is not an int");
_Static_assert(sizeof(rp_subject_strategy) == sizeof(int),
               "enum is not an int");

/* ---------------------------------------------------------------- the table */

static const char *const clock_names[] = {"wall", "event", NULL};
static const char *const guarantee_names[] = {"exactly_once", "at_least_once",
                                              NULL};
static const char *const framing_names[] = {"plain", "confluent", NULL};
static const char *const strategy_names[] = {"topic", "record", "topic_record",
                                             NULL};
static const char *const log_levels[] = {"error", "warn", "info", "debug",
                                         NULL};

/* The enum words are indexed by the C enum values they stand for. */
_Static_assert(RP_CLOCK_EVENT == 1, "clock_names order");
_Static_assert(RP_GUARANTEE_AT_LEAST_ONCE == 1, "guarantee_names order");
_Static_assert(RP_FRAMING_CONFLUENT == 1, "framing_names order");
_Static_assert(RP_SUBJECT_TOPIC_RECORD == 2, "strategy_names order");

#define R(kind) [RP_ISSUE_##kind - RP_ISSUE__FIRST_REPORT]

static const char *const report_threshold_defs[RP_REPORT__COUNT] = {
    R(ANTI_SPAM_ORGANIZATION) = "1",
    R(LISTBOMBING) = "1",
    R(SPAMTRAP) = "3",
    R(DOMAIN_BLOCKLIST) = "3",
    R(MAILBOX_PROVIDER) = "1",
    R(DIRECT_FEEDBACK) = "1",
    R(RECIPIENT_FEEDBACK) = "1",
    R(INTERNAL_REVIEW) = "1",
    R(RELATED_ACCOUNT) = "1",
    R(VULNERABLE_SITE) = "1",
    R(COMPROMISED_CREDENTIALS) = "1",
    R(OTHER) = "1"};

static const char *const report_manual_defs[RP_REPORT__COUNT] = {
    R(ANTI_SPAM_ORGANIZATION) = "false",
    R(LISTBOMBING) = "false",
    R(SPAMTRAP) = "false",
    R(DOMAIN_BLOCKLIST) = "false",
    R(MAILBOX_PROVIDER) = "false",
    R(DIRECT_FEEDBACK) = "false",
    R(RECIPIENT_FEEDBACK) = "false",
    R(INTERNAL_REVIEW) = "true",
    R(RELATED_ACCOUNT) = "true",
    R(VULNERABLE_SITE) = "true",
    R(COMPROMISED_CREDENTIALS) = "true",
    R(OTHER) = "true"};

#undef R

/* One row per key. The row macros keep the table at one line a key, each
 * filling only the fields that its type uses. */
#define AT(field)      offsetof(rp_config, field)
#define SCHEMA_ID(rec) (AT(schema_id) + (size_t)(rec) * sizeof(int32_t))
#define TOPIC(t)       (AT(topic) + (size_t)(t) * sizeof(char *))

#define K_RATE(n, off, d)                                                      \
    { .name = n, .type = KT_RATE, .offset = off, .def = d }
#define K_INT32(n, off, d, lo)                                                 \
    {                                                                          \
        .name = n, .type = KT_INT32, .offset = off, .def = d, .min = lo,       \
        .max = INT32_MAX                                                       \
    }
#define K_INT64(n, off, d)                                                     \
    { .name = n, .type = KT_INT64, .offset = off, .def = d, .max = INT64_MAX }
#define K_DURATION(n, off, d)                                                  \
    { .name = n, .type = KT_DURATION, .offset = off, .def = d }
#define K_BOOL(n, off, d, flag)                                                \
    { .name = n, .type = KT_BOOL, .offset = off, .def = d, .set_flag = flag }
#define K_ENUM(n, off, d, words, flag)                                         \
    {                                                                          \
        .name = n, .type = KT_ENUM, .offset = off, .def = d, .choices = words, \
        .set_flag = flag                                                       \
    }
#define K_STRING(n, off, d, words)                                             \
    { .name = n, .type = KT_STRING, .offset = off, .def = d, .choices = words }
#define K_OPTSTR(n, off)                                                       \
    { .name = n, .type = KT_OPTSTR, .offset = off, .def = "" }
#define K_TOPIC(n, t, d)                                                       \
    { .name = n, .type = KT_TOPIC, .offset = TOPIC(t), .def = d }
#define K_INHERIT_RATE(n, off, from, from_off, flag)                           \
    {                                                                          \
        .name = n, .type = KT_RATE, .offset = off, .set_flag = flag,           \
        .inherits = from, .inherits_at = from_off                              \
    }
#define K_FAMILY(n, t, off, defs, lo, hi)                                      \
    {                                                                          \
        .name = n, .type = t, .offset = off, .kind_defs = defs, .min = lo,     \
        .max = hi                                                              \
    }

/* The keys, in the order of docs/rules.md section 8, of docs/configuration.md
 * and of rp_config_dump. */
static const key_desc keys[] = {
    K_RATE("bounce.review.rate", AT(bounce_review_rate), "0.05"),
    K_RATE("bounce.pause.rate", AT(bounce_pause_rate), "0.10"),
    K_RATE("complaint.review.rate", AT(complaint_review_rate), "0.001"),
    K_RATE("complaint.pause.rate", AT(complaint_pause_rate), "0.005"),
    K_INT64("window.min.volume", AT(window_min_volume), "10000"),
    K_DURATION("window.min.span", AT(window_min_span), "24h"),
    K_DURATION("window.max.span", AT(window_max_span), "90d"),
    K_INT64("rate.min.volume", AT(rate_min_volume), "1000"),
    K_DURATION("review.period", AT(review_period), "7d"),
    K_INT32("review.max.extensions", AT(review_max_extensions), "2", 0),
    K_BOOL("pause.immediate", AT(pause_immediate), "false", 0),
    K_DURATION("report.window", AT(report_window), "30d"),
    K_FAMILY("report.*.threshold", KT_INT32, AT(report_threshold),
             report_threshold_defs, 1, INT32_MAX),
    K_FAMILY("report.*.manual", KT_BOOL, AT(report_manual), report_manual_defs,
             0, 0),
    K_INHERIT_RATE("tenant.bounce.review.rate", AT(tenant_bounce_review_rate),
                   "bounce.review.rate", AT(bounce_review_rate),
                   AT(tenant_bounce_review_rate_set)),
    K_INHERIT_RATE("tenant.bounce.pause.rate", AT(tenant_bounce_pause_rate),
                   "bounce.pause.rate", AT(bounce_pause_rate),
                   AT(tenant_bounce_pause_rate_set)),
    K_INHERIT_RATE("tenant.complaint.review.rate",
                   AT(tenant_complaint_review_rate), "complaint.review.rate",
                   AT(complaint_review_rate),
                   AT(tenant_complaint_review_rate_set)),
    K_INHERIT_RATE("tenant.complaint.pause.rate",
                   AT(tenant_complaint_pause_rate), "complaint.pause.rate",
                   AT(complaint_pause_rate),
                   AT(tenant_complaint_pause_rate_set)),
    K_INT32("tenant.max.per.account", AT(tenant_max_per_account), "1000", 1),
    {.name = "history.max.entries",
     .type = KT_INT32,
     .offset = AT(history_max_entries),
     .def = "32",
     .min = 0,
     .max = 1024}, /* RP_HISTORY_MAX_ENTRIES (src/engine/history.h) */
    K_DURATION("dedupe.horizon", AT(dedupe_horizon), "1h"),
    K_INT64("dedupe.max.entries", AT(dedupe_max_entries), "10000000"),
    K_ENUM("clock", AT(clock), "wall", clock_names, AT(clock_set)),
    K_ENUM("processing.guarantee", AT(guarantee), "exactly_once",
           guarantee_names, 0),
    K_ENUM("avro.framing", AT(framing), "plain", framing_names, 0),
    K_INT32("avro.schema.id.delivery", SCHEMA_ID(RP_REC_DELIVERY), "0", 0),
    K_INT32("avro.schema.id.bounce", SCHEMA_ID(RP_REC_BOUNCE), "0", 0),
    K_INT32("avro.schema.id.complaint", SCHEMA_ID(RP_REC_COMPLAINT), "0", 0),
    K_INT32("avro.schema.id.report", SCHEMA_ID(RP_REC_REPORT), "0", 0),
    K_INT32("avro.schema.id.action", SCHEMA_ID(RP_REC_ACTION), "0", 0),
    K_INT32("avro.schema.id.status", SCHEMA_ID(RP_SCHEMA_ID_STATUS), "0", 0),
    K_INT32("avro.schema.id.current", AT(schema_id_current), "0", 0),
    K_OPTSTR("schema.registry.url", AT(registry_url)),
    K_OPTSTR("schema.registry.basic.auth.user.info", AT(registry_user_info)),
    K_OPTSTR("schema.registry.ssl.ca.location", AT(registry_ca)),
    K_DURATION("schema.registry.request.timeout", AT(registry_timeout), "10s"),
    K_ENUM("schema.registry.subject.strategy", AT(subject_strategy), "topic",
           strategy_names, 0),
    K_TOPIC("topic.deliveries", RP_TOPIC_DELIVERIES, "repute.deliveries"),
    K_TOPIC("topic.bounces", RP_TOPIC_BOUNCES, "repute.bounces"),
    K_TOPIC("topic.complaints", RP_TOPIC_COMPLAINTS, "repute.complaints"),
    K_TOPIC("topic.reports", RP_TOPIC_REPORTS, "repute.reports"),
    K_TOPIC("topic.actions", RP_TOPIC_ACTIONS, "repute.actions"),
    K_TOPIC("topic.status", RP_TOPIC_STATUS, "repute.status"),
    K_TOPIC("topic.dlq", RP_TOPIC_DLQ, "repute.dlq"),
    K_TOPIC("topic.changelog", RP_TOPIC_CHANGELOG, "repute.changelog"),
    K_TOPIC("topic.current", RP_TOPIC_CURRENT, "repute.current"),
    K_BOOL("topics.create", AT(topics_create), "false", AT(topics_create_set)),
    K_INT32("topics.partitions", AT(topic_partitions), "4", 1),
    K_STRING("group.id", AT(group_id), "repute", NULL),
    K_DURATION("max.task.idle", AT(max_task_idle), "500ms"),
    K_DURATION("commit.interval", AT(commit_interval), "100ms"),
    /* 0: as many as the cores the process may use (src/runtime/lanes.c). */
    {.name = "threads",
     .type = KT_INT32,
     .offset = AT(threads),
     .def = "0",
     .min = 0,
     .max = RP_THREADS_MAX},
    K_DURATION("input.max.future", AT(input_max_future), "24h"),
    K_STRING("log.level", AT(log_level), "info", log_levels),
    K_STRING("http.listen", AT(http_listen), "127.0.0.1:8080", NULL),
    K_STRING("http.auth.tokens.file", AT(http_auth_tokens_file), "none", NULL),
    K_BOOL("http.auth.metrics", AT(http_auth_metrics), "true", 0),
    K_STRING("http.tls.cert.location", AT(http_tls_cert), "none", NULL),
    K_STRING("http.tls.key.location", AT(http_tls_key), "none", NULL),
    K_BOOL("http.allow.plaintext", AT(http_allow_plaintext), "false", 0),
    K_DURATION("http.actions.timeout", AT(http_actions_timeout), "10s"),
};

#undef AT
#undef SCHEMA_ID
#undef TOPIC
#undef K_RATE
#undef K_INT32
#undef K_INT64
#undef K_DURATION
#undef K_BOOL
#undef K_ENUM
#undef K_STRING
#undef K_OPTSTR
#undef K_TOPIC
#undef K_INHERIT_RATE
#undef K_FAMILY

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* ---------------------------------------------------------------- walks */

static bool is_family(const key_desc *d) {
    return strchr(d->name, '*') != NULL;
}

static size_t type_size(key_type t) {
    switch (t) {
    case KT_RATE: return sizeof(double);
    case KT_INT32: return sizeof(int32_t);
    case KT_INT64:
    case KT_DURATION: return sizeof(int64_t);
    case KT_BOOL: return sizeof(bool);
    case KT_ENUM: return sizeof(int);
    case KT_STRING:
    case KT_OPTSTR:
    case KT_TOPIC: return sizeof(char *);
    }
    return 0;
}

void *rp_config_key_field(const rp_config *cfg, key_ref r) {
    size_t off = r.d->offset;
    if (r.kind >= 0)
        off += (size_t)r.kind * type_size(r.d->type);
    return (char *)cfg + off;
}

const char *rp_config_key_default(key_ref r) {
    return r.kind >= 0 ? r.d->kind_defs[r.kind - RP_ISSUE__FIRST_REPORT]
                       : r.d->def;
}

bool rp_config_key_inherited(const rp_config *cfg, key_ref r) {
    if (!r.d->inherits)
        return false;
    bool set = false;
    if (r.d->set_flag)
        memcpy(&set, (const char *)cfg + r.d->set_flag, sizeof(set));
    return !set;
}

void rp_config_resolve_inherited(rp_config *cfg) {
    key_ref r = {NULL, -1};
    while (rp_config_key_next(&r)) {
        if (!rp_config_key_inherited(cfg, r))
            continue;
        /* Only rates inherit today: the value is a double. */
        memcpy(rp_config_key_field(cfg, r), (char *)cfg + r.d->inherits_at,
               sizeof(double));
    }
}

int64_t rp_config_key_int(const rp_config *cfg, key_ref r) {
    const void *field = rp_config_key_field(cfg, r);
    if (r.d->type == KT_INT32) {
        int32_t v;
        memcpy(&v, field, sizeof(v));
        return v;
    }
    int64_t v;
    memcpy(&v, field, sizeof(v));
    return v;
}

void rp_config_key_name(key_ref r, char *buf, size_t size) {
    const char *star = strchr(r.d->name, '*');
    if (!star) {
        snprintf(buf, size, "%s", r.d->name);
        return;
    }
    snprintf(buf, size, "%.*s%s%s", (int)(star - r.d->name), r.d->name,
             rp_issue_kind_name((rp_issue_kind)r.kind), star + 1);
}

bool rp_config_key_next(key_ref *r) {
    if (r->d && r->kind >= 0 && r->kind + 1 < RP_ISSUE__COUNT) {
        r->kind++;
        return true;
    }
    const key_desc *next = r->d ? r->d + 1 : keys;
    if (next == keys + N_KEYS)
        return false;
    r->d = next;
    r->kind = is_family(next) ? RP_ISSUE__FIRST_REPORT : -1;
    return true;
}

bool rp_config_key_find(const char *key, key_ref *out) {
    size_t len = strlen(key);
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_desc *d = &keys[i];
        const char *star = strchr(d->name, '*');
        if (!star) {
            if (strcmp(d->name, key) == 0) {
                *out = (key_ref){d, -1};
                return true;
            }
            continue;
        }
        size_t pre = (size_t)(star - d->name), suf = strlen(star + 1);
        if (len <= pre + suf || strncmp(key, d->name, pre) != 0 ||
            strcmp(key + len - suf, star + 1) != 0)
            continue;
        int kind = rp_issue_kind_parse(key + pre, len - pre - suf);
        if (kind >= RP_ISSUE__FIRST_REPORT) {
            *out = (key_ref){d, kind};
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------- unknown keys */

/* Edit distance between two short strings, ignoring case, so that
 * "report.spamtrap.threshold" finds its key at distance 0. */
#define SUGGEST_MAX_LEN 96

static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    size_t row[SUGGEST_MAX_LEN + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) ==
                                  tolower((unsigned char)b[j - 1])
                              ? 0
                              : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Explains an unknown key: the nearest known key when one is a typo away,
 * or the list of report kinds when the key has the shape of a report key
 * but names no report kind. */
int rp_config_unknown_key(const char *key, char *errstr, size_t errstr_size) {
    char best[128] = "", name[128];
    size_t best_d = 3; /* more than two edits away is not a typo */
    if (strlen(key) <= SUGGEST_MAX_LEN) {
        key_ref r = {NULL, -1};
        while (rp_config_key_next(&r)) {
            rp_config_key_name(r, name, sizeof(name));
            size_t lk = strlen(key), ln = strlen(name);
            /* The distance is at least the difference of the lengths: most
             * names are ruled out without the quadratic walk. */
            if (ln > SUGGEST_MAX_LEN || (lk > ln ? lk - ln : ln - lk) >= best_d)
                continue;
            size_t d = edit_distance(key, name);
            if (d < best_d) {
                best_d = d;
                memcpy(best, name, sizeof(best));
            }
        }
    }
    if (best[0]) {
        rp_config_err(errstr, errstr_size, "%s: unknown key (did you mean %s?)",
                      key, best);
    } else if (strncmp(key, "report.", 7) == 0 && strchr(key + 7, '.')) {
        char kinds[512];
        size_t o = 0;
        for (int k = RP_ISSUE__FIRST_REPORT; k < RP_ISSUE__COUNT; k++)
            o += (size_t)snprintf(kinds + o, sizeof(kinds) - o, "%s%s",
                                  k == RP_ISSUE__FIRST_REPORT ? "" : ", ",
                                  rp_issue_kind_name((rp_issue_kind)k));
        rp_config_err(
            errstr, errstr_size,
            "%s: unknown key (report keys are report.<KIND>.threshold "
            "and report.<KIND>.manual, KIND one of %s)",
            key, kinds);
    } else {
        rp_config_err(errstr, errstr_size, "%s: unknown key", key);
    }
    return RP_EINVAL;
}
