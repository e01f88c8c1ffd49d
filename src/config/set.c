/*
 * set.c - setting a key: the defaults, a user's value, the kafka.* pairs,
 * and the freeing of what the configuration owns.
 *
 * A value is parsed for its key's type in full before anything is stored,
 * so rp_config_set() is atomic: a rejected value leaves the config as it
 * was. rp_config_init() sets every default through the same code, with
 * only one difference: a default is not the user's choice, so it does not
 * raise the key's "set" flag (clock_set, topics_create_set), by which a
 * command tells a chosen value from its own default.
 *
 * Keys beginning "kafka." are not interpreted. They are kept, in the order
 * first given, for librdkafka, which is the only judge of what they mean;
 * giving one again replaces its value in place, as a later line of a
 * properties file overrides an earlier one for every other key.
 *
 * Failures are values, never exits: every function returns 0 or a negative
 * RP_E* code and writes into errstr a message that begins with the key, so
 * that a user reading "review.period: expected a duration ..." knows which
 * line to fix. A control character in a key or a value is refused before
 * anything else, and the value is named, not quoted, because it may be a
 * secret.
 */
#include "config/keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
            rp_config_format_choices(d->choices, buf, size);
        else
            snprintf(buf, size, "a non-empty value");
        break;
    case KT_OPTSTR: snprintf(buf, size, "a value, or nothing"); break;
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
    rp_config_key_name(r, name, sizeof(name));
    rp_config_err(errstr, errstr_size, "%s: must be at %s %" PRId64 ", got %s",
                  name, side, limit,
                  rp_config_quote_for(name, value, q, sizeof(q)));
    return RP_EINVAL;
}

/* Parses value for the key r and stores it in cfg. The value is parsed in
 * full before anything is stored, so a failure changes nothing. mark_set
 * is false only for the defaults of rp_config_init, which are not a user's
 * choice. */
static int apply(rp_config *cfg, key_ref r, const char *value, bool mark_set,
                 char *errstr, size_t errstr_size) {
    const key_desc *d = r.d;
    void *field = rp_config_key_field(cfg, r);
    char name[128], q[QUOTE_BUF], what[160];
    int rc = RP_EINVAL;
    int64_t n = 0;

    switch (d->type) {
    case KT_RATE: {
        double v;
        rc = rp_config_parse_rate(value, &v);
        if (rc == 0)
            memcpy(field, &v, sizeof(v));
        break;
    }
    case KT_INT32:
    case KT_INT64:
        rc = rp_config_parse_digits(value, value + strlen(value), &n);
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
        rc = rp_config_parse_duration(value, &n);
        if (rc == RP_ETOOBIG) {
            rp_config_key_name(r, name, sizeof(name));
            rp_config_err(
                errstr, errstr_size,
                "%s: duration %s is too long to count in milliseconds", name,
                rp_config_quote_for(name, value, q, sizeof(q)));
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
        int v = rp_config_find_choice(d->choices, value);
        if (v >= 0) {
            memcpy(field, &v, sizeof(v));
            rc = 0;
        }
        break;
    }
    case KT_STRING:
    case KT_OPTSTR:
    case KT_TOPIC: {
        /* A restricted word is stored as its canonical spelling, so that
         * users of the config compare with strcmp. */
        const char *text = value;
        if (d->choices) {
            int i = rp_config_find_choice(d->choices, value);
            text = i >= 0 ? d->choices[i] : NULL;
        } else if (d->type == KT_TOPIC) {
            text = rp_config_topic_name_ok(value) ? value : NULL;
        } else if (!*value && d->type != KT_OPTSTR) {
            text = NULL;
        }
        if (!text)
            break;
        char *copy = strdup(text);
        if (!copy) {
            rp_config_key_name(r, name, sizeof(name));
            rp_config_err(errstr, errstr_size, "%s: out of memory", name);
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
        rp_config_key_name(r, name, sizeof(name));
        describe(d, what, sizeof(what));
        rp_config_err(errstr, errstr_size, "%s: expected %s, got %s", name,
                      what, rp_config_quote_for(name, value, q, sizeof(q)));
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
        rp_config_err(errstr, errstr_size,
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
    rp_config_err(errstr, errstr_size, "%s: out of memory", key);
    return RP_ENOMEM;
}

/* --------------------------------------------------------------- public API */

int rp_config_init(rp_config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    key_ref r = {NULL, -1};
    while (rp_config_key_next(&r)) {
        if (r.d->inherits)
            continue; /* no default of its own: resolved below */
        int rc = apply(cfg, r, rp_config_key_default(r), false, NULL, 0);
        if (rc != 0) {
            rp_config_destroy(cfg);
            return rc;
        }
    }
    rp_config_resolve_inherited(cfg);
    return 0;
}

void rp_config_destroy(rp_config *cfg) {
    if (!cfg)
        return;
    key_ref r = {NULL, -1};
    while (rp_config_key_next(&r)) {
        if (r.d->type != KT_STRING && r.d->type != KT_OPTSTR &&
            r.d->type != KT_TOPIC)
            continue;
        char *s;
        void *field = rp_config_key_field(cfg, r);
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
        rp_config_err(errstr, errstr_size, "missing key");
        return RP_EINVAL;
    }
    int cc = control_char(key);
    if (cc) {
        rp_config_err(errstr, errstr_size,
                      "a key holds a control character (0x%02x)", cc);
        return RP_EINVAL;
    }
    if (!value) {
        rp_config_err(errstr, errstr_size, "%s: missing value", key);
        return RP_EINVAL;
    }
    /* Named, not quoted: the value may be a secret. */
    if ((cc = control_char(value))) {
        rp_config_err(errstr, errstr_size,
                      "%s: the value holds a control character (0x%02x)", key,
                      cc);
        return RP_EINVAL;
    }
    if (strncmp(key, KAFKA_PREFIX, KAFKA_PREFIX_LEN) == 0)
        return kafka_set(cfg, key, value, errstr, errstr_size);
    key_ref r;
    if (!rp_config_key_find(key, &r))
        return rp_config_unknown_key(key, errstr, errstr_size);
    int rc = apply(cfg, r, value, true, errstr, errstr_size);
    /* A key that others follow may have changed: keep them in step, so
     * that the values are right even before rp_config_validate(). */
    if (rc == 0)
        rp_config_resolve_inherited(cfg);
    return rc;
}
