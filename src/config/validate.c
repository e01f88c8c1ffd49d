/*
 * validate.c - the checks of a whole configuration (rp_config_validate),
 * once every key is set.
 *
 * Two kinds of check. The first walks the key table and checks each value
 * against its own row's range and choices: rp_config_set() already refuses
 * a value out of range, but a config can also be filled by code, and the
 * engine should not have to trust that. The second is what no single key
 * can say: relations between keys (a review rate above its pause rate,
 * for the account and for tenants, a
 * minimum span longer than the maximum, two roles on one topic). Those
 * can only be checked once the defaults, the files and the --set pairs
 * have all been applied, since any of them may set either side.
 *
 * The first failure is reported, naming the key to fix, with the values
 * printed as a user would write them ("7d", "0.05").
 */
#include "config/keys.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* --------------------------------------------------------------- validation */

/* Checks one key's value against its own range. rp_config_set already
 * refuses values out of range, but a config can also be filled by code,
 * and the engine should not have to trust that. */
static int check_value(const rp_config *cfg, key_ref r, char *errstr,
                       size_t errstr_size) {
    const void *field = rp_config_key_field(cfg, r);
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
        int64_t v = rp_config_key_int(cfg, r);
        if (v < r.d->min) {
            rp_config_key_name(r, name, sizeof(name));
            rp_config_err(errstr, errstr_size,
                          "%s: must be at least %" PRId64 ", got %" PRId64,
                          name, r.d->min, v);
            return RP_EINVAL;
        }
        break;
    }
    case KT_BOOL: break;
    case KT_ENUM: {
        int v;
        memcpy(&v, field, sizeof(v));
        if (v < 0 || v >= rp_config_n_choices(r.d->choices))
            bad = "holds no valid choice";
        break;
    }
    case KT_OPTSTR: {
        const char *s;
        memcpy(&s, field, sizeof(s));
        if (!s)
            bad = "holds no value";
        break;
    }
    case KT_STRING:
    case KT_TOPIC: {
        const char *s;
        memcpy(&s, field, sizeof(s));
        if (!s || !*s)
            bad = "must not be empty";
        else if (r.d->type == KT_TOPIC && !rp_config_topic_name_ok(s))
            bad = "is not a valid Kafka topic name";
        else if (r.d->choices && rp_config_find_choice(r.d->choices, s) < 0)
            bad = "holds no valid choice";
        break;
    }
    }
    if (!bad)
        return 0;
    rp_config_key_name(r, name, sizeof(name));
    rp_config_err(errstr, errstr_size, "%s: %s", name, bad);
    return RP_EINVAL;
}

/* The schema registry's keys (docs/schemas.md): each URL of the comma list
 * is an http:// or https:// base URL, the registry's ids only make sense in
 * the Confluent framing, and a request must be allowed some time. */
static int check_registry(const rp_config *cfg, char *errstr,
                          size_t errstr_size) {
    const char *u = cfg->registry_url;
    if (!u || !*u)
        return 0;
    if (cfg->framing != RP_FRAMING_CONFLUENT) {
        rp_config_err(errstr, errstr_size,
                      "schema.registry.url: needs avro.framing=confluent "
                      "(records that carry a registry's schema id)");
        return RP_EINVAL;
    }
    if (cfg->registry_timeout <= 0) {
        rp_config_err(errstr, errstr_size,
                      "schema.registry.request.timeout: must be longer than 0");
        return RP_EINVAL;
    }
    while (*u) {
        while (*u == ' ' || *u == ',')
            u++;
        size_t n = strcspn(u, ",");
        while (n && u[n - 1] == ' ')
            n--;
        if (n && strncasecmp(u, "http://", 7) != 0 &&
            strncasecmp(u, "https://", 8) != 0) {
            char q[QUOTE_BUF], one[QUOTE_MAX + 1];
            snprintf(one, sizeof(one), "%.*s",
                     (int)(n < QUOTE_MAX ? n : QUOTE_MAX), u);
            rp_config_err(
                errstr, errstr_size,
                "schema.registry.url: expected http:// or https:// "
                "base URLs separated by commas, got %s",
                rp_config_quote_for("schema.registry.url", one, q, sizeof(q)));
            return RP_EINVAL;
        }
        u += n;
        while (*u && *u != ',')
            u++;
    }
    return 0;
}

/* A review threshold above its pause threshold would pause an account (or
 * a tenant) at the end of a review it never entered. A tenant rate that
 * the user left unset follows the account's, and the message says so:
 * "tenant.bounce.review.rate = 0.2" alone is refused because the account's
 * bounce.pause.rate is 0.1, which is not obvious from the key it names. */
static int check_rate_pairs(const rp_config *cfg, char *errstr,
                            size_t errstr_size) {
    static const char *const pairs[][2] = {
        {"bounce.review.rate", "bounce.pause.rate"},
        {"complaint.review.rate", "complaint.pause.rate"},
        {"tenant.bounce.review.rate", "tenant.bounce.pause.rate"},
        {"tenant.complaint.review.rate", "tenant.complaint.pause.rate"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        key_ref rv, rp;
        if (!rp_config_key_find(pairs[i][0], &rv) ||
            !rp_config_key_find(pairs[i][1], &rp))
            continue; /* cannot happen: the names are the table's */
        double review, pause;
        memcpy(&review, rp_config_key_field(cfg, rv), sizeof(review));
        memcpy(&pause, rp_config_key_field(cfg, rp), sizeof(pause));
        if (review <= pause)
            continue;
        char a[32], b[32], from[96] = "";
        rp_config_format_rate(review, a, sizeof(a));
        rp_config_format_rate(pause, b, sizeof(b));
        if (rp_config_key_inherited(cfg, rp))
            snprintf(from, sizeof(from), ", %s unset: %s", pairs[i][1],
                     rp.d->inherits);
        else if (rp_config_key_inherited(cfg, rv))
            snprintf(from, sizeof(from), ", %s unset: %s", pairs[i][0],
                     rv.d->inherits);
        rp_config_err(errstr, errstr_size,
                      "%s: must not be above %s (%s > %s%s)", pairs[i][0],
                      pairs[i][1], a, b, from);
        return RP_EINVAL;
    }
    return 0;
}

/* Windows are made of whole hours, so a window shorter than one could
 * hold nothing, and the minimum span cannot be longer than the maximum. */
static int check_spans(const rp_config *cfg, char *errstr, size_t errstr_size) {
    char a[32], b[32];
    if (cfg->window_max_span < RP_MS_PER_HOUR) {
        rp_duration_format(cfg->window_max_span, a, sizeof(a));
        rp_config_err(
            errstr, errstr_size,
            "window.max.span: must be at least 1h (a window is made of "
            "whole hours), got %s",
            a);
        return RP_EINVAL;
    }
    if (cfg->window_min_span > cfg->window_max_span) {
        rp_duration_format(cfg->window_min_span, a, sizeof(a));
        rp_duration_format(cfg->window_max_span, b, sizeof(b));
        rp_config_err(
            errstr, errstr_size,
            "window.min.span: must not be longer than window.max.span "
            "(%s > %s)",
            a, b);
        return RP_EINVAL;
    }
    return 0;
}

/* A zero period would end every review the instant it began, and a zero
 * report window would never count a report; a dedupe horizon may be 0
 * (no deduplication) but not negative. */
static int check_periods(const rp_config *cfg, char *errstr,
                         size_t errstr_size) {
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
            char a[32];
            rp_duration_format(v, a, sizeof(a));
            rp_config_err(errstr, errstr_size,
                          "%s: must be longer than 0, got %s", positive[i].name,
                          a);
            return RP_EINVAL;
        }
    }
    if (cfg->dedupe_horizon < 0) {
        rp_config_err(errstr, errstr_size,
                      "dedupe.horizon: must not be negative");
        return RP_EINVAL;
    }
    return 0;
}

/* Two roles sharing a topic would feed repute its own output or mix
 * record types on one topic. */
static int check_topics_differ(const rp_config *cfg, char *errstr,
                               size_t errstr_size) {
    static const char *const topic_keys[RP_TOPIC__COUNT] = {
        "topic.deliveries", "topic.bounces",   "topic.complaints",
        "topic.reports",    "topic.actions",   "topic.status",
        "topic.dlq",        "topic.changelog", "topic.current"};
    for (int i = 0; i < RP_TOPIC__COUNT; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(cfg->topic[i], cfg->topic[j]) == 0) {
                rp_config_err(errstr, errstr_size,
                              "%s: must differ from %s (both are \"%s\")",
                              topic_keys[i], topic_keys[j], cfg->topic[i]);
                return RP_EINVAL;
            }
        }
    }
    return 0;
}

/* The checks run in a fixed order, and the first failure is the one
 * reported: each value on its own, then the relations between keys. */
int rp_config_validate(rp_config *cfg, char *errstr, size_t errstr_size) {
    /* First the keys that follow another (the tenant rates), so that every
     * check below, and the engine, sees the values that will be used. */
    rp_config_resolve_inherited(cfg);
    key_ref r = {NULL, -1};
    while (rp_config_key_next(&r)) {
        int rc = check_value(cfg, r, errstr, errstr_size);
        if (rc != 0)
            return rc;
    }
    if (check_rate_pairs(cfg, errstr, errstr_size) != 0 ||
        check_spans(cfg, errstr, errstr_size) != 0 ||
        check_periods(cfg, errstr, errstr_size) != 0 ||
        check_registry(cfg, errstr, errstr_size) != 0)
        return RP_EINVAL;
    /* librdkafka takes the timeout as an int of milliseconds. */
    if (cfg->http_actions_timeout <= 0 ||
        cfg->http_actions_timeout > 24 * RP_MS_PER_HOUR) {
        rp_config_err(errstr, errstr_size,
                      "http.actions.timeout: must be longer than 0 and at "
                      "most 24h");
        return RP_EINVAL;
    }
    return check_topics_differ(cfg, errstr, errstr_size);
}
