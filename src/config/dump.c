/*
 * dump.c - every key with its value, as a properties file
 * (rp_config_dump).
 *
 * The dump is the table of keys.c walked once more: each value is printed
 * by the same functions that format it for error messages, in the form the
 * parser reads, so a dump fed back through --config gives the same
 * configuration. Keys come in the documented order (docs/rules.md section 8),
 * then the kafka.* pairs in the order they were first given. A secret's value
 * is written as stars: a dump is for reading and for logs. An empty one
 * (a secret not given, such as schema.registry.basic.auth.user.info
 * without a registry) stays empty, since stars would say there is one. A
 * key that follows another while unset (a tenant rate) is written as a
 * comment with the value it follows and the key it follows it from,
 * "# tenant.bounce.review.rate = 0.05 (unset: bounce.review.rate)": the
 * effective value is there to read, and the dump read back leaves the key
 * unset, still following.
 */
#include "config/keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- dump */

/* Writes a key's value in the form the parser reads back. */
static void format_value(const rp_config *cfg, key_ref r, char *buf,
                         size_t size) {
    const void *field = rp_config_key_field(cfg, r);
    switch (r.d->type) {
    case KT_RATE: {
        double v;
        memcpy(&v, field, sizeof(v));
        rp_config_format_rate(v, buf, size);
        break;
    }
    case KT_INT32:
    case KT_INT64:
        snprintf(buf, size, "%" PRId64, rp_config_key_int(cfg, r));
        break;
    case KT_DURATION:
        rp_duration_format(rp_config_key_int(cfg, r), buf, size);
        break;
    case KT_BOOL: {
        bool v;
        memcpy(&v, field, sizeof(v));
        snprintf(buf, size, "%s", v ? "true" : "false");
        break;
    }
    case KT_ENUM: {
        int v;
        memcpy(&v, field, sizeof(v));
        snprintf(buf, size, "%s",
                 v >= 0 && v < rp_config_n_choices(r.d->choices)
                     ? r.d->choices[v]
                     : "?");
        break;
    }
    case KT_STRING:
    case KT_OPTSTR:
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
    while (rp_config_key_next(&r)) {
        rp_config_key_name(r, name, sizeof(name));
        if (rp_config_key_inherited(cfg, r)) {
            /* The value it follows now (what validation will give it),
             * as a comment: read back, the key stays unset. */
            key_ref from;
            if (!rp_config_key_find(r.d->inherits, &from))
                return RP_EINVAL;
            format_value(cfg, from, value, sizeof(value));
            if (fprintf(out, "# %s = %s (unset: %s)\n", name, value,
                        r.d->inherits) < 0)
                return RP_EIO;
            continue;
        }
        format_value(cfg, r, value, sizeof(value));
        if (fprintf(out, "%s = %s\n", name,
                    rp_config_secret_key(name) && *value ? "********" : value) <
            0)
            return RP_EIO;
    }
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        const rp_kv *kv = &cfg->kafka[i];
        if (fprintf(out, KAFKA_PREFIX "%s = %s\n", kv->key,
                    rp_config_secret_key(kv->key) ? "********" : kv->value) < 0)
            return RP_EIO;
    }
    return ferror(out) ? RP_EIO : 0;
}
