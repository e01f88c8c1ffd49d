/*
 * config.c - the configuration keys of SPEC section 8 (repute/config.h).
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
 * Keys beginning "kafka." are not interpreted. They are kept, in the order
 * first given, for librdkafka, which is the only judge of what they mean;
 * giving one again replaces its value in place, as a later line of a
 * properties file overrides an earlier one for every other key.
 *
 * A key whose name holds "password", "secret" or "key" is a secret: its
 * value is written as stars by the dump and left out of error messages,
 * because both end up in logs (docs/security.md).
 *
 * Failures are values, never exits: every function returns 0 or a negative
 * RP_E* code and writes into errstr a message that begins with the key, so
 * that a user reading "review.period: expected a duration ..." knows which
 * line to fix. rp_config_set() is atomic: a rejected value leaves the config
 * as it was. Loading a file stops at its first bad line; the lines before it
 * have been applied, which does not matter because the caller exits.
 */
#include "repute/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* Enum-typed keys are stored through an int; this holds for every ABI
 * repute is built on and is checked here rather than assumed. */
_Static_assert(sizeof(rp_clock_mode) == sizeof(int), "enum is not an int");
_Static_assert(sizeof(rp_guarantee) == sizeof(int), "enum is not an int");
_Static_assert(sizeof(rp_framing) == sizeof(int), "enum is not an int");

/* ---------------------------------------------------------------- errors */

/* Writes a message into errstr, when the caller gave one. */
static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...) {
    if (!errstr || errstr_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

/* Quotes a user's value for an error message. Control characters are
 * escaped so that a stray tab or carriage return is visible, and a long
 * value is cut short so that the reason after it is not lost. */
#define QUOTE_MAX 64

static const char *quote(const char *s, char *buf, size_t size) {
    size_t o = 0, i = 0;
    buf[o++] = '"';
    for (; s[i] && i < QUOTE_MAX && o + 8 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    if (s[i] && o + 5 < size) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

#define QUOTE_BUF (QUOTE_MAX * 4 + 16)

/* ---------------------------------------------------------------- secrets */

/* True for a key whose value must never be printed: one whose name holds
 * "password", "secret" or "key", in any case (sasl.password,
 * ssl.key.password, ssl.key.pem, ssl.keystore.key,
 * sasl.oauthbearer.client.secret, ...), and sasl.oauthbearer.config, whose
 * value may carry a client secret. The rule is by name rather than a list
 * of librdkafka's properties so that a property added by a later
 * librdkafka is hidden too; hiding a harmless path such as
 * ssl.key.location is the price. A dump is for reading and for logs, and
 * an error message may end up in either: neither shows these values. */
static bool secret_key(const char *key) {
    return strcasestr(key, "password") || strcasestr(key, "secret") ||
           strcasestr(key, "key") || strcasestr(key, "sasl.oauthbearer.config");
}

/* Quotes a user's value for an error message about key, or, when key names
 * a secret, says that the value is not shown. */
static const char *quote_for(const char *key, const char *value, char *buf,
                             size_t size) {
    if (secret_key(key)) {
        snprintf(buf, size, "a value not shown here (a secret)");
        return buf;
    }
    return quote(value, buf, size);
}

/* ---------------------------------------------------------------- values */

/* The units of a duration, from the smallest: rp_duration_format walks them
 * from the largest down. */
static const struct {
    const char *suffix;
    int64_t ms;
} duration_units[] = {{"ms", 1},
                      {"s", RP_MS_PER_SECOND},
                      {"m", 60 * RP_MS_PER_SECOND},
                      {"h", RP_MS_PER_HOUR},
                      {"d", RP_MS_PER_DAY}};

#define N_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* Parses a run of decimal digits that makes up the whole of [s, end).
 * Returns 0, RP_EINVAL when it is not such a run, or RP_ETOOBIG when the
 * number does not fit in an int64_t. */
static int parse_digits(const char *s, const char *end, int64_t *out) {
    if (s == end)
        return RP_EINVAL;
    int64_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return RP_EINVAL;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return RP_ETOOBIG;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Parses "<digits><unit>". Compound forms ("1h30m"), signs, spaces and
 * fractions are rejected rather than guessed at. Returns 0, RP_EINVAL or
 * RP_ETOOBIG (the number of milliseconds overflows). */
static int parse_duration(const char *s, int64_t *out_ms) {
    if (!s)
        return RP_EINVAL;
    const char *unit = s;
    while (*unit >= '0' && *unit <= '9')
        unit++;
    for (size_t i = 0; i < N_UNITS; i++) {
        if (strcmp(unit, duration_units[i].suffix) != 0)
            continue;
        int64_t n;
        int rc = parse_digits(s, unit, &n);
        if (rc != 0)
            return rc;
        if (n > INT64_MAX / duration_units[i].ms)
            return RP_ETOOBIG;
        *out_ms = n * duration_units[i].ms;
        return 0;
    }
    return RP_EINVAL;
}

int rp_duration_parse(const char *s, int64_t *out_ms) {
    int64_t ms;
    if (parse_duration(s, &ms) != 0)
        return RP_EINVAL;
    *out_ms = ms;
    return 0;
}

/* Writes a duration in the largest unit that holds it exactly, so that a
 * default reads as the SPEC writes it ("7d", not "604800000ms"). One day
 * is the exception: the SPEC, like most people, writes it "24h". */
void rp_duration_format(int64_t ms, char *buf, size_t size) {
    if (ms == 0) {
        snprintf(buf, size, "0s");
        return;
    }
    for (size_t i = N_UNITS; i-- > 0;) {
        if (ms == RP_MS_PER_DAY && duration_units[i].ms == RP_MS_PER_DAY)
            continue;
        if (ms > 0 && ms % duration_units[i].ms == 0) {
            snprintf(buf, size, "%" PRId64 "%s", ms / duration_units[i].ms,
                     duration_units[i].suffix);
            return;
        }
    }
    snprintf(buf, size, "%" PRId64 "ms", ms);
}

/* Parses a rate: a decimal number in [0, 1]. strtod alone would also take
 * "nan", "inf", hex floats and leading spaces, none of which a user means
 * as a rate, so the characters are checked first. strtod follows the
 * LC_NUMERIC locale, which repute leaves as "C". */
static int parse_rate(const char *s, double *out) {
    if (!s || !*s || strspn(s, "0123456789.eE+-") != strlen(s))
        return RP_EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE)
        return RP_EINVAL;
    if (!(v >= 0.0 && v <= 1.0))
        return RP_ETOOBIG;
    *out = v;
    return 0;
}

/* Writes a double with the fewest digits that read back as the same
 * value: 0.05 rather than 0.050000000000000003. */
static void format_rate(double v, char *buf, size_t size) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Finds s among the NULL-terminated choices, ignoring case. Returns its
 * index or -1. */
static int find_choice(const char *const *choices, const char *s) {
    for (int i = 0; choices[i]; i++)
        if (strcasecmp(choices[i], s) == 0)
            return i;
    return -1;
}

/* Writes "a, b or c". */
static void format_choices(const char *const *choices, char *buf, size_t size) {
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; choices[i] && o < size; i++) {
        const char *sep = i == 0 ? "" : choices[i + 1] ? ", " : " or ";
        int n = snprintf(buf + o, size - o, "%s%s", sep, choices[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

/* Kafka's own rule for a topic name: 1 to 249 of [a-zA-Z0-9._-], and not
 * "." or "..". Checking it here turns a broker error at start-up into a
 * message that names the key. */
static bool topic_name_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 249 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- the keys */

typedef enum key_type {
    KT_RATE,     /* double in [0, 1] */
    KT_INT32,    /* whole number in [min, max], an int32_t */
    KT_INT64,    /* whole number in [min, max], an int64_t */
    KT_DURATION, /* milliseconds, an int64_t */
    KT_BOOL,     /* true or false */
    KT_ENUM,     /* one of choices, stored as the C enum of its index */
    KT_STRING,   /* owned, non-empty char *; one of choices when given */
    KT_TOPIC     /* owned char *, a legal Kafka topic name */
} key_type;

typedef struct key_desc {
    /* The key, or a family of per-report-kind keys with '*' for the kind. */
    const char *name;
    key_type type;
    /* Where the value lives; for a family, where its array starts (the
     * arrays of rp_config are indexed by issue kind). */
    size_t offset;
    /* The default, as a user would write it; for a family, one per report
     * kind instead. */
    const char *def;
    const char *const *kind_defs;
    /* Accepted words of KT_ENUM and KT_STRING, NULL-terminated. */
    const char *const *choices;
    /* The range of KT_INT32 and KT_INT64. */
    int64_t min, max;
    /* The bool that records that the user chose this key (clock_set,
     * topics_create_set), or 0 for none. Offset 0 is bounce_review_rate,
     * so 0 can never be a flag. */
    size_t set_flag;
} key_desc;

static const char *const clock_names[] = {"wall", "event", NULL};
static const char *const guarantee_names[] = {"exactly_once", "at_least_once",
                                              NULL};
static const char *const framing_names[] = {"plain", "confluent", NULL};
static const char *const log_levels[] = {"error", "warn", "info", "debug",
                                         NULL};

/* The enum words are indexed by the C enum values they stand for. */
_Static_assert(RP_CLOCK_EVENT == 1, "clock_names order");
_Static_assert(RP_GUARANTEE_AT_LEAST_ONCE == 1, "guarantee_names order");
_Static_assert(RP_FRAMING_CONFLUENT == 1, "framing_names order");

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
#define K_TOPIC(n, t, d)                                                       \
    { .name = n, .type = KT_TOPIC, .offset = TOPIC(t), .def = d }
#define K_FAMILY(n, t, off, defs, lo, hi)                                      \
    {                                                                          \
        .name = n, .type = t, .offset = off, .kind_defs = defs, .min = lo,     \
        .max = hi                                                              \
    }

/* The keys, in the order of SPEC section 8, of docs/configuration.md and
 * of rp_config_dump. */
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
    K_TOPIC("topic.deliveries", RP_TOPIC_DELIVERIES, "repute.deliveries"),
    K_TOPIC("topic.bounces", RP_TOPIC_BOUNCES, "repute.bounces"),
    K_TOPIC("topic.complaints", RP_TOPIC_COMPLAINTS, "repute.complaints"),
    K_TOPIC("topic.reports", RP_TOPIC_REPORTS, "repute.reports"),
    K_TOPIC("topic.actions", RP_TOPIC_ACTIONS, "repute.actions"),
    K_TOPIC("topic.status", RP_TOPIC_STATUS, "repute.status"),
    K_TOPIC("topic.dlq", RP_TOPIC_DLQ, "repute.dlq"),
    K_TOPIC("topic.changelog", RP_TOPIC_CHANGELOG, "repute.changelog"),
    K_BOOL("topics.create", AT(topics_create), "false", AT(topics_create_set)),
    K_INT32("topics.partitions", AT(topic_partitions), "4", 1),
    K_STRING("group.id", AT(group_id), "repute", NULL),
    K_DURATION("max.task.idle", AT(max_task_idle), "500ms"),
    K_DURATION("commit.interval", AT(commit_interval), "100ms"),
    K_DURATION("input.max.future", AT(input_max_future), "24h"),
    K_STRING("log.level", AT(log_level), "info", log_levels),
    K_STRING("http.listen", AT(http_listen), "127.0.0.1:8080", NULL),
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
#undef K_TOPIC
#undef K_FAMILY

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

#define KAFKA_PREFIX     "kafka."
#define KAFKA_PREFIX_LEN (sizeof(KAFKA_PREFIX) - 1)

/* One concrete key: a row of the table and, for a family, the issue kind
 * that the '*' stands for (-1 otherwise). */
typedef struct key_ref {
    const key_desc *d;
    int kind;
} key_ref;

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
    case KT_TOPIC: return sizeof(char *);
    }
    return 0;
}

/* The address of a key's value inside cfg. */
static void *key_field(const rp_config *cfg, key_ref r) {
    size_t off = r.d->offset;
    if (r.kind >= 0)
        off += (size_t)r.kind * type_size(r.d->type);
    return (char *)cfg + off;
}

static const char *key_default(key_ref r) {
    return r.kind >= 0 ? r.d->kind_defs[r.kind - RP_ISSUE__FIRST_REPORT]
                       : r.d->def;
}

/* Spells a concrete key: the row's name with the kind put in for '*'. */
static void key_name(key_ref r, char *buf, size_t size) {
    const char *star = strchr(r.d->name, '*');
    if (!star) {
        snprintf(buf, size, "%s", r.d->name);
        return;
    }
    snprintf(buf, size, "%.*s%s%s", (int)(star - r.d->name), r.d->name,
             rp_issue_kind_name((rp_issue_kind)r.kind), star + 1);
}

/* Steps through every concrete key in table order, a family's keys in the
 * order of the report kinds. Start with r->d == NULL. */
static bool key_next(key_ref *r) {
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

/* Finds the key named exactly key. A family row matches when the text in
 * place of its '*' is the name of a report kind. */
static bool key_find(const char *key, key_ref *out) {
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
static int unknown_key(const char *key, char *errstr, size_t errstr_size) {
    char best[128] = "", name[128];
    size_t best_d = 3; /* more than two edits away is not a typo */
    if (strlen(key) <= SUGGEST_MAX_LEN) {
        key_ref r = {NULL, -1};
        while (key_next(&r)) {
            key_name(r, name, sizeof(name));
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
        set_err(errstr, errstr_size, "%s: unknown key (did you mean %s?)", key,
                best);
    } else if (strncmp(key, "report.", 7) == 0 && strchr(key + 7, '.')) {
        char kinds[512];
        size_t o = 0;
        for (int k = RP_ISSUE__FIRST_REPORT; k < RP_ISSUE__COUNT; k++)
            o += (size_t)snprintf(kinds + o, sizeof(kinds) - o, "%s%s",
                                  k == RP_ISSUE__FIRST_REPORT ? "" : ", ",
                                  rp_issue_kind_name((rp_issue_kind)k));
        set_err(errstr, errstr_size,
                "%s: unknown key (report keys are report.<KIND>.threshold "
                "and report.<KIND>.manual, KIND one of %s)",
                key, kinds);
    } else {
        set_err(errstr, errstr_size, "%s: unknown key", key);
    }
    return RP_EINVAL;
}

/* ---------------------------------------------------------------- setting */

/* What a key's value must look like, for "expected ..., got ..." errors. */
static void describe(const key_desc *d, char *buf, size_t size) {
    switch (d->type) {
    case KT_RATE:
        snprintf(buf, size, "a rate between 0 and 1 such as 0.05");
        break;
    case KT_INT32:
    case KT_INT64:
        snprintf(buf, size, "a whole number >= %" PRId64, d->min);
        break;
    case KT_DURATION:
        snprintf(buf, size, "a duration like 500ms, 30s, 15m, 24h or 7d");
        break;
    case KT_BOOL: snprintf(buf, size, "true or false"); break;
    case KT_ENUM:
    case KT_STRING:
        if (d->choices)
            format_choices(d->choices, buf, size);
        else
            snprintf(buf, size, "a non-empty value");
        break;
    case KT_TOPIC:
        snprintf(buf, size,
                 "a Kafka topic name (1 to 249 letters, digits, '.', '_' "
                 "or '-')");
        break;
    }
}

/* Says that a whole number is outside its key's range ("at least" or "at
 * most" the limit). */
static int range_error(key_ref r, const char *value, const char *side,
                       int64_t limit, char *errstr, size_t errstr_size) {
    char name[128], q[QUOTE_BUF];
    key_name(r, name, sizeof(name));
    set_err(errstr, errstr_size, "%s: must be at %s %" PRId64 ", got %s", name,
            side, limit, quote_for(name, value, q, sizeof(q)));
    return RP_EINVAL;
}

/* Parses value for the key r and stores it in cfg. The value is parsed in
 * full before anything is stored, so a failure changes nothing. mark_set
 * is false only for the defaults of rp_config_init, which are not a user's
 * choice. */
static int apply(rp_config *cfg, key_ref r, const char *value, bool mark_set,
                 char *errstr, size_t errstr_size) {
    const key_desc *d = r.d;
    void *field = key_field(cfg, r);
    char name[128], q[QUOTE_BUF], what[160];
    int rc = RP_EINVAL;
    int64_t n = 0;

    switch (d->type) {
    case KT_RATE: {
        double v;
        rc = parse_rate(value, &v);
        if (rc == 0)
            memcpy(field, &v, sizeof(v));
        break;
    }
    case KT_INT32:
    case KT_INT64:
        rc = parse_digits(value, value + strlen(value), &n);
        if (rc == RP_ETOOBIG || (rc == 0 && n > d->max))
            return range_error(r, value, "most", d->max, errstr, errstr_size);
        if (rc == 0 && n < d->min)
            return range_error(r, value, "least", d->min, errstr, errstr_size);
        if (rc == 0 && d->type == KT_INT32) {
            int32_t v = (int32_t)n;
            memcpy(field, &v, sizeof(v));
        } else if (rc == 0) {
            memcpy(field, &n, sizeof(n));
        }
        break;
    case KT_DURATION:
        rc = parse_duration(value, &n);
        if (rc == RP_ETOOBIG) {
            key_name(r, name, sizeof(name));
            set_err(errstr, errstr_size,
                    "%s: duration %s is too long to count in milliseconds",
                    name, quote_for(name, value, q, sizeof(q)));
            return RP_EINVAL;
        }
        if (rc == 0)
            memcpy(field, &n, sizeof(n));
        break;
    case KT_BOOL: {
        bool v = strcasecmp(value, "true") == 0;
        if (v || strcasecmp(value, "false") == 0) {
            memcpy(field, &v, sizeof(v));
            rc = 0;
        }
        break;
    }
    case KT_ENUM: {
        int v = find_choice(d->choices, value);
        if (v >= 0) {
            memcpy(field, &v, sizeof(v));
            rc = 0;
        }
        break;
    }
    case KT_STRING:
    case KT_TOPIC: {
        /* A restricted word is stored as its canonical spelling, so that
         * users of the config compare with strcmp. */
        const char *text = value;
        if (d->choices) {
            int i = find_choice(d->choices, value);
            text = i >= 0 ? d->choices[i] : NULL;
        } else if (d->type == KT_TOPIC) {
            text = topic_name_ok(value) ? value : NULL;
        } else if (!*value) {
            text = NULL;
        }
        if (!text)
            break;
        char *copy = strdup(text);
        if (!copy) {
            key_name(r, name, sizeof(name));
            set_err(errstr, errstr_size, "%s: out of memory", name);
            return RP_ENOMEM;
        }
        char *old;
        memcpy(&old, field, sizeof(old));
        free(old);
        memcpy(field, &copy, sizeof(copy));
        rc = 0;
        break;
    }
    }
    if (rc != 0) {
        key_name(r, name, sizeof(name));
        describe(d, what, sizeof(what));
        set_err(errstr, errstr_size, "%s: expected %s, got %s", name, what,
                quote_for(name, value, q, sizeof(q)));
        return RP_EINVAL;
    }
    if (mark_set && d->set_flag) {
        bool yes = true;
        memcpy((char *)cfg + d->set_flag, &yes, sizeof(yes));
    }
    return 0;
}

/* Stores a kafka.* pair: replaces the value of a key given before, in its
 * place, or appends a new one. */
static int kafka_set(rp_config *cfg, const char *key, const char *value,
                     char *errstr, size_t errstr_size) {
    const char *name = key + KAFKA_PREFIX_LEN;
    char *k = NULL, *v = NULL;
    if (!*name) {
        set_err(errstr, errstr_size,
                "%s: expected a librdkafka property after \"" KAFKA_PREFIX
                "\", such as " KAFKA_PREFIX "bootstrap.servers",
                key);
        return RP_EINVAL;
    }
    v = strdup(value);
    if (!v)
        goto fail;
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        if (strcmp(cfg->kafka[i].key, name) == 0) {
            free(cfg->kafka[i].value);
            cfg->kafka[i].value = v;
            return 0;
        }
    }
    k = strdup(name);
    if (!k)
        goto fail;
    rp_kv *grown = realloc(cfg->kafka, (cfg->n_kafka + 1) * sizeof(rp_kv));
    if (!grown)
        goto fail;
    cfg->kafka = grown;
    cfg->kafka[cfg->n_kafka++] = (rp_kv){k, v};
    return 0;

fail:
    free(k);
    free(v);
    set_err(errstr, errstr_size, "%s: out of memory", key);
    return RP_ENOMEM;
}

/* --------------------------------------------------------------- public API */

int rp_config_init(rp_config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    key_ref r = {NULL, -1};
    while (key_next(&r)) {
        int rc = apply(cfg, r, key_default(r), false, NULL, 0);
        if (rc != 0) {
            rp_config_destroy(cfg);
            return rc;
        }
    }
    return 0;
}

void rp_config_destroy(rp_config *cfg) {
    if (!cfg)
        return;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].type != KT_STRING && keys[i].type != KT_TOPIC)
            continue;
        char *s;
        void *field = (char *)cfg + keys[i].offset;
        memcpy(&s, field, sizeof(s));
        free(s);
        s = NULL;
        memcpy(field, &s, sizeof(s));
    }
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    cfg->kafka = NULL;
    cfg->n_kafka = 0;
}

/* The first control character of s (a byte below 0x20 other than a tab, or
 * DEL), or 0. Such a byte in a key or value is never meant (a bare carriage
 * return from another system's line ends, say), and a value holding one
 * would not survive a dump: a newline would even start a line of its own,
 * another key. */
static int control_char(const char *s) {
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return (unsigned char)*s;
    return 0;
}

int rp_config_set(rp_config *cfg, const char *key, const char *value,
                  char *errstr, size_t errstr_size) {
    if (!key || !*key) {
        set_err(errstr, errstr_size, "missing key");
        return RP_EINVAL;
    }
    int cc = control_char(key);
    if (cc) {
        set_err(errstr, errstr_size, "a key holds a control character (0x%02x)",
                cc);
        return RP_EINVAL;
    }
    if (!value) {
        set_err(errstr, errstr_size, "%s: missing value", key);
        return RP_EINVAL;
    }
    /* Named, not quoted: the value may be a secret. */
    if ((cc = control_char(value))) {
        set_err(errstr, errstr_size,
                "%s: the value holds a control character (0x%02x)", key, cc);
        return RP_EINVAL;
    }
    if (strncmp(key, KAFKA_PREFIX, KAFKA_PREFIX_LEN) == 0)
        return kafka_set(cfg, key, value, errstr, errstr_size);
    key_ref r;
    if (!key_find(key, &r))
        return unknown_key(key, errstr, errstr_size);
    return apply(cfg, r, value, true, errstr, errstr_size);
}

/* The whitespace of a properties file: space, tab and form feed. */
static bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\f';
}

static char *trim(char *s) {
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

int rp_config_set_pair(rp_config *cfg, const char *pair, char *errstr,
                       size_t errstr_size) {
    char q[QUOTE_BUF];
    const char *eq = pair ? strchr(pair, '=') : NULL;
    if (!eq) {
        set_err(errstr, errstr_size, "expected key=value, got %s",
                quote_for(pair ? pair : "", pair ? pair : "", q, sizeof(q)));
        return RP_EINVAL;
    }
    char *copy = strdup(pair);
    if (!copy) {
        set_err(errstr, errstr_size, "out of memory");
        return RP_ENOMEM;
    }
    copy[eq - pair] = '\0';
    int rc = rp_config_set(cfg, trim(copy), trim(copy + (eq - pair) + 1),
                           errstr, errstr_size);
    free(copy);
    return rc;
}

/* --------------------------------------------------------- properties files */

/* Splits one line of a properties file in place, by the rules of
 * java.util.Properties: the key ends at the first '=', ':' or blank; blanks
 * and at most one '=' or ':' follow. Unlike Java, trailing blanks of the
 * value are dropped (they are invisible in an editor and never meant) and
 * backslashes are taken literally. A line ending in a backslash would
 * continue onto the next in Java; rather than read that file differently
 * from Java, it is refused. Sets *key to NULL for a blank or comment line.
 * Returns 0 or RP_EINVAL with why set. */
static int split_line(char *line, char **key, char **value, const char **why) {
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    char *p = line;
    while (is_blank(*p))
        p++;
    *key = NULL;
    if (*p == '\0' || *p == '#' || *p == '!')
        return 0;
    char *k = p;
    while (*p && *p != '=' && *p != ':' && !is_blank(*p))
        p++;
    if (p == k) {
        *why = "expected key = value";
        return RP_EINVAL;
    }
    char *end = p;
    while (is_blank(*p))
        p++;
    if (*p == '=' || *p == ':')
        p++;
    *end = '\0';
    char *v = trim(p);
    size_t vn = strlen(v);
    if (vn > 0 && v[vn - 1] == '\\') {
        *why = "a line ending in a backslash (a continued line) is not "
               "supported";
        return RP_EINVAL;
    }
    *key = k;
    *value = v;
    return 0;
}

int rp_config_load_file(rp_config *cfg, const char *path, char *errstr,
                        size_t errstr_size) {
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    char why_set[1024];
    int rc;

    f = fopen(path, "r");
    if (!f) {
        set_err(errstr, errstr_size, "%s: cannot open: %s", path,
                strerror(errno));
        rc = RP_EIO;
        goto fail;
    }
    while ((len = getline(&line, &cap, f)) != -1) {
        lineno++;
        char *text = line, *key, *value;
        const char *why = NULL;
        if (strlen(line) != (size_t)len) {
            set_err(errstr, errstr_size, "%s:%ld: line holds a NUL byte", path,
                    lineno);
            rc = RP_EINVAL;
            goto fail;
        }
        /* Editors on Windows may start a UTF-8 file with a byte-order
         * mark; it is not part of the first key. */
        if (lineno == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
            text += 3;
        rc = split_line(text, &key, &value, &why);
        if (rc != 0) {
            set_err(errstr, errstr_size, "%s:%ld: %s", path, lineno, why);
            goto fail;
        }
        if (!key)
            continue;
        rc = rp_config_set(cfg, key, value, why_set, sizeof(why_set));
        if (rc != 0) {
            set_err(errstr, errstr_size, "%s:%ld: %s", path, lineno, why_set);
            goto fail;
        }
    }
    if (ferror(f)) {
        set_err(errstr, errstr_size, "%s: cannot read: %s", path,
                strerror(errno));
        rc = RP_EIO;
        goto fail;
    }
    rc = 0;

fail:
    free(line);
    if (f)
        fclose(f);
    return rc;
}

/* --------------------------------------------------------------- validation */

/* Checks one key's value against its own range. rp_config_set already
 * refuses values out of range, but a config can also be filled by code,
 * and the engine should not have to trust that. */
static int check_value(const rp_config *cfg, key_ref r, char *errstr,
                       size_t errstr_size) {
    const void *field = key_field(cfg, r);
    char name[128];
    const char *bad = NULL;
    switch (r.d->type) {
    case KT_RATE: {
        double v;
        memcpy(&v, field, sizeof(v));
        if (!(v >= 0.0 && v <= 1.0))
            bad = "must be a rate between 0 and 1";
        break;
    }
    case KT_INT32:
    case KT_INT64:
    case KT_DURATION: {
        /* Durations have no row minimum: they are never negative. */
        int64_t v;
        if (r.d->type == KT_INT32) {
            int32_t v32;
            memcpy(&v32, field, sizeof(v32));
            v = v32;
        } else {
            memcpy(&v, field, sizeof(v));
        }
        if (v < r.d->min) {
            key_name(r, name, sizeof(name));
            set_err(errstr, errstr_size,
                    "%s: must be at least %" PRId64 ", got %" PRId64, name,
                    r.d->min, v);
            return RP_EINVAL;
        }
        break;
    }
    case KT_BOOL: break;
    case KT_ENUM: {
        int v;
        memcpy(&v, field, sizeof(v));
        int n = 0;
        while (r.d->choices[n])
            n++;
        if (v < 0 || v >= n)
            bad = "holds no valid choice";
        break;
    }
    case KT_STRING:
    case KT_TOPIC: {
        const char *s;
        memcpy(&s, field, sizeof(s));
        if (!s || !*s)
            bad = "must not be empty";
        else if (r.d->type == KT_TOPIC && !topic_name_ok(s))
            bad = "is not a valid Kafka topic name";
        else if (r.d->choices && find_choice(r.d->choices, s) < 0)
            bad = "holds no valid choice";
        break;
    }
    }
    if (!bad)
        return 0;
    key_name(r, name, sizeof(name));
    set_err(errstr, errstr_size, "%s: %s", name, bad);
    return RP_EINVAL;
}

int rp_config_validate(const rp_config *cfg, char *errstr, size_t errstr_size) {
    char a[32], b[32];
    key_ref r = {NULL, -1};
    while (key_next(&r)) {
        int rc = check_value(cfg, r, errstr, errstr_size);
        if (rc != 0)
            return rc;
    }

    /* A review threshold above its pause threshold would pause an account
     * at the end of a review it never entered. */
    if (cfg->bounce_review_rate > cfg->bounce_pause_rate) {
        format_rate(cfg->bounce_review_rate, a, sizeof(a));
        format_rate(cfg->bounce_pause_rate, b, sizeof(b));
        set_err(errstr, errstr_size,
                "bounce.review.rate: must not be above bounce.pause.rate "
                "(%s > %s)",
                a, b);
        return RP_EINVAL;
    }
    if (cfg->complaint_review_rate > cfg->complaint_pause_rate) {
        format_rate(cfg->complaint_review_rate, a, sizeof(a));
        format_rate(cfg->complaint_pause_rate, b, sizeof(b));
        set_err(errstr, errstr_size,
                "complaint.review.rate: must not be above "
                "complaint.pause.rate (%s > %s)",
                a, b);
        return RP_EINVAL;
    }

    /* Windows are made of whole hours, so a window shorter than one could
     * hold nothing. */
    if (cfg->window_max_span < RP_MS_PER_HOUR) {
        rp_duration_format(cfg->window_max_span, a, sizeof(a));
        set_err(errstr, errstr_size,
                "window.max.span: must be at least 1h (a window is made of "
                "whole hours), got %s",
                a);
        return RP_EINVAL;
    }
    if (cfg->window_min_span > cfg->window_max_span) {
        rp_duration_format(cfg->window_min_span, a, sizeof(a));
        rp_duration_format(cfg->window_max_span, b, sizeof(b));
        set_err(errstr, errstr_size,
                "window.min.span: must not be longer than window.max.span "
                "(%s > %s)",
                a, b);
        return RP_EINVAL;
    }

    /* A zero period would end every review the instant it began, and a
     * zero report window would never count a report. */
    static const struct {
        const char *name;
        size_t offset;
    } positive[] = {
        {"review.period", offsetof(rp_config, review_period)},
        {"report.window", offsetof(rp_config, report_window)},
        {"commit.interval", offsetof(rp_config, commit_interval)},
    };
    for (size_t i = 0; i < sizeof(positive) / sizeof(positive[0]); i++) {
        int64_t v;
        memcpy(&v, (const char *)cfg + positive[i].offset, sizeof(v));
        if (v <= 0) {
            rp_duration_format(v, a, sizeof(a));
            set_err(errstr, errstr_size, "%s: must be longer than 0, got %s",
                    positive[i].name, a);
            return RP_EINVAL;
        }
    }
    if (cfg->dedupe_horizon < 0) {
        set_err(errstr, errstr_size, "dedupe.horizon: must not be negative");
        return RP_EINVAL;
    }

    /* Two roles sharing a topic would feed repute its own output or mix
     * record types on one topic. */
    static const char *const topic_keys[RP_TOPIC__COUNT] = {
        "topic.deliveries", "topic.bounces",  "topic.complaints",
        "topic.reports",    "topic.actions",  "topic.status",
        "topic.dlq",        "topic.changelog"};
    for (int i = 0; i < RP_TOPIC__COUNT; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(cfg->topic[i], cfg->topic[j]) == 0) {
                set_err(errstr, errstr_size,
                        "%s: must differ from %s (both are \"%s\")",
                        topic_keys[i], topic_keys[j], cfg->topic[i]);
                return RP_EINVAL;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- dump */

/* Writes a key's value in the form the parser reads back. */
static void format_value(const rp_config *cfg, key_ref r, char *buf,
                         size_t size) {
    const void *field = key_field(cfg, r);
    switch (r.d->type) {
    case KT_RATE: {
        double v;
        memcpy(&v, field, sizeof(v));
        format_rate(v, buf, size);
        break;
    }
    case KT_INT32: {
        int32_t v;
        memcpy(&v, field, sizeof(v));
        snprintf(buf, size, "%" PRId32, v);
        break;
    }
    case KT_INT64: {
        int64_t v;
        memcpy(&v, field, sizeof(v));
        snprintf(buf, size, "%" PRId64, v);
        break;
    }
    case KT_DURATION: {
        int64_t v;
        memcpy(&v, field, sizeof(v));
        rp_duration_format(v, buf, size);
        break;
    }
    case KT_BOOL: {
        bool v;
        memcpy(&v, field, sizeof(v));
        snprintf(buf, size, "%s", v ? "true" : "false");
        break;
    }
    case KT_ENUM: {
        int v, n = 0;
        memcpy(&v, field, sizeof(v));
        while (r.d->choices[n])
            n++;
        snprintf(buf, size, "%s", v >= 0 && v < n ? r.d->choices[v] : "?");
        break;
    }
    case KT_STRING:
    case KT_TOPIC: {
        const char *s;
        memcpy(&s, field, sizeof(s));
        snprintf(buf, size, "%s", s ? s : "");
        break;
    }
    }
}

int rp_config_dump(const rp_config *cfg, FILE *out) {
    char name[128], value[512];
    key_ref r = {NULL, -1};
    while (key_next(&r)) {
        key_name(r, name, sizeof(name));
        format_value(cfg, r, value, sizeof(value));
        if (fprintf(out, "%s = %s\n", name,
                    secret_key(name) ? "********" : value) < 0)
            return RP_EIO;
    }
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        const rp_kv *kv = &cfg->kafka[i];
        if (fprintf(out, KAFKA_PREFIX "%s = %s\n", kv->key,
                    secret_key(kv->key) ? "********" : kv->value) < 0)
            return RP_EIO;
    }
    return ferror(out) ? RP_EIO : 0;
}
