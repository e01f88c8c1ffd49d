/*
 * keys.h - what the files of src/config share. Private to src/config.
 *
 * The configuration is one table of keys (keys.c) and walks over it: the
 * setting of a value (set.c), the properties files and --set pairs
 * (properties.c), the checks (validate.c) and the dump (dump.c). They
 * share the shape of a row of that table, the walk itself, and the
 * parsing and printing of values (values.c), so that a value is read and
 * written back by one piece of code whichever way it came in.
 *
 * Nothing here allocates. Every function that fails writes its reason
 * into errstr through rp_config_err(), beginning with the key, and returns
 * a negative RP_E* code.
 */
#ifndef REPUTE_CONFIG_KEYS_H
#define REPUTE_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "repute/config.h"

/* ---------------------------------------------------------------- the keys */

typedef enum key_type {
    KT_RATE,     /* double in [0, 1] */
    KT_INT32,    /* whole number in [min, max], an int32_t */
    KT_INT64,    /* whole number in [min, max], an int64_t */
    KT_DURATION, /* milliseconds, an int64_t */
    KT_BOOL,     /* true or false */
    KT_ENUM,     /* one of choices, stored as the C enum of its index */
    KT_STRING,   /* owned, non-empty char *; one of choices when given */
    KT_OPTSTR,   /* owned char *, may be empty (a setting left out) */
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
    /* A key that follows another while the user has not set it (its
     * set_flag): the tenant rates follow the account's rate of the same
     * name. inherits names that key (NULL for none) and inherits_at is
     * where its value lives; such a row has no default of its own. */
    const char *inherits;
    size_t inherits_at;
} key_desc;

/* One concrete key: a row of the table and, for a family, the issue kind
 * that the '*' stands for (-1 otherwise). */
typedef struct key_ref {
    const key_desc *d;
    int kind;
} key_ref;

#define KAFKA_PREFIX     "kafka."
#define KAFKA_PREFIX_LEN (sizeof(KAFKA_PREFIX) - 1)

/* Steps through every concrete key in table order, a family's keys in the
 * order of the report kinds. Start with r->d == NULL. */
bool rp_config_key_next(key_ref *r);

/* Finds the key named exactly key. A family row matches when the text in
 * place of its '*' is the name of a report kind. */
bool rp_config_key_find(const char *key, key_ref *out);

/* Spells a concrete key: the row's name with the kind put in for '*'. */
void rp_config_key_name(key_ref r, char *buf, size_t size);

/* The address of a key's value inside cfg. */
void *rp_config_key_field(const rp_config *cfg, key_ref r);

/* The key's default, as a user would write it; NULL for a key that
 * inherits another's value. */
const char *rp_config_key_default(key_ref r);

/* Whether the key follows another key's value in cfg now: it has one to
 * follow and the user has not set it. */
bool rp_config_key_inherited(const rp_config *cfg, key_ref r);

/* Gives every inherited key (above) the current value of the key it
 * follows. */
void rp_config_resolve_inherited(rp_config *cfg);

/* The value of a KT_INT32, KT_INT64 or KT_DURATION key, widened. */
int64_t rp_config_key_int(const rp_config *cfg, key_ref r);

/* Explains an unknown key in errstr ("did you mean ...?" when one is a
 * typo away). Returns RP_EINVAL. */
int rp_config_unknown_key(const char *key, char *errstr, size_t errstr_size);

/* ---------------------------------------------------------------- values */

/* Writes a message into errstr, when the caller gave one. */
void rp_config_err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The longest part of a value quoted in a message, and a buffer that holds
 * any quote of one (each byte may take four, "\x1b"). */
#define QUOTE_MAX 64
#define QUOTE_BUF (QUOTE_MAX * 4 + 16)

/* True for a key whose value must never be printed (see values.c). */
bool rp_config_secret_key(const char *key);

/* Quotes a user's value for an error message about key into buf (of
 * QUOTE_BUF bytes), or, when key names a secret, says that the value is
 * not shown. Returns buf. */
const char *rp_config_quote_for(const char *key, const char *value, char *buf,
                                size_t size);

/* Parses a run of decimal digits that makes up the whole of [s, end).
 * Returns 0, RP_EINVAL or RP_ETOOBIG (it does not fit in an int64_t). */
int rp_config_parse_digits(const char *s, const char *end, int64_t *out);

/* Parses "<digits><unit>" into milliseconds. Returns 0, RP_EINVAL or
 * RP_ETOOBIG (the number of milliseconds overflows). */
int rp_config_parse_duration(const char *s, int64_t *out_ms);

/* Parses a rate, a decimal number in [0, 1]. Returns 0, RP_EINVAL (not a
 * number) or RP_ETOOBIG (out of [0, 1]). */
int rp_config_parse_rate(const char *s, double *out);

/* Writes a rate with the fewest digits that read back as the same value. */
void rp_config_format_rate(double v, char *buf, size_t size);

/* Finds s among the NULL-terminated choices, ignoring case. Returns its
 * index or -1. */
int rp_config_find_choice(const char *const *choices, const char *s);

/* How many choices the NULL-terminated list holds. */
int rp_config_n_choices(const char *const *choices);

/* Writes "a, b or c". */
void rp_config_format_choices(const char *const *choices, char *buf,
                              size_t size);

/* Kafka's own rule for a topic name. */
bool rp_config_topic_name_ok(const char *s);

#endif
