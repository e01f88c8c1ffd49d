/*
 * values.c - the values of the configuration as text: parsing what a user
 * wrote, printing it back, and quoting it in an error message.
 *
 * Each kind of value has one parser and, where the dump needs it, one
 * printer, and the printer writes what the parser reads: a duration in the
 * largest unit that holds it exactly ("7d", not "604800000ms"), a rate
 * with the fewest digits that read back as the same double. The parsers
 * are strict rather than helpful: "1h30m", " 5s", "nan" or "0x1p-4" are
 * refused, not guessed at, because a guess that differs from what the
 * user meant would change the rules the engine applies without a word.
 *
 * A key whose name holds "password", "secret" or "key" is a secret: its
 * value is written as stars by the dump and left out of error messages,
 * because both end up in logs (docs/security.md). Any other value quoted
 * in a message has its control characters escaped and is cut short, so
 * that a stray carriage return is visible and a long value does not hide
 * the reason after it.
 */
#include "config/keys.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- errors */

void rp_config_err(char *errstr, size_t errstr_size, const char *fmt, ...) {
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

/* ---------------------------------------------------------------- secrets */

/* True for a key whose value must never be printed: one whose name holds
 * "password", "secret" or "key", in any case (sasl.password,
 * ssl.key.password, ssl.key.pem, ssl.keystore.key,
 * sasl.oauthbearer.client.secret, ...), sasl.oauthbearer.config, whose
 * value may carry a client secret, and a "user.info" (user:password, as
 * schema.registry.basic.auth.user.info). The rule is by name rather than a list
 * of librdkafka's properties so that a property added by a later
 * librdkafka is hidden too; hiding a harmless path such as
 * ssl.key.location is the price. A dump is for reading and for logs, and
 * an error message may end up in either: neither shows these values. */
bool rp_config_secret_key(const char *key) {
    return strcasestr(key, "password") || strcasestr(key, "secret") ||
           strcasestr(key, "key") ||
           strcasestr(key, "sasl.oauthbearer.config") ||
           strcasestr(key, "user.info");
}

/* Quotes a user's value for an error message about key, or, when key names
 * a secret, says that the value is not shown. */
const char *rp_config_quote_for(const char *key, const char *value, char *buf,
                                size_t size) {
    if (rp_config_secret_key(key)) {
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
int rp_config_parse_digits(const char *s, const char *end, int64_t *out) {
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
int rp_config_parse_duration(const char *s, int64_t *out_ms) {
    if (!s)
        return RP_EINVAL;
    const char *unit = s;
    while (*unit >= '0' && *unit <= '9')
        unit++;
    for (size_t i = 0; i < N_UNITS; i++) {
        if (strcmp(unit, duration_units[i].suffix) != 0)
            continue;
        int64_t n;
        int rc = rp_config_parse_digits(s, unit, &n);
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
    if (rp_config_parse_duration(s, &ms) != 0)
        return RP_EINVAL;
    *out_ms = ms;
    return 0;
}

/* Writes a duration in the largest unit that holds it exactly, so that a
 * default reads as docs/rules.md writes it ("7d", not "604800000ms"). One day
 * is the exception: docs/rules.md, like most people, writes it "24h". */
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
int rp_config_parse_rate(const char *s, double *out) {
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
void rp_config_format_rate(double v, char *buf, size_t size) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

int rp_config_find_choice(const char *const *choices, const char *s) {
    for (int i = 0; choices[i]; i++)
        if (strcasecmp(choices[i], s) == 0)
            return i;
    return -1;
}

int rp_config_n_choices(const char *const *choices) {
    int n = 0;
    while (choices[n])
        n++;
    return n;
}

/* Writes "a, b or c". */
void rp_config_format_choices(const char *const *choices, char *buf,
                              size_t size) {
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
bool rp_config_topic_name_ok(const char *s) {
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
