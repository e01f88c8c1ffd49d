/*
 * json.c - the registry's answers, read (repute/registry.h), and the
 * names of subjects.
 *
 * Whatever a registry sends back is outside input: a proxy in the way may
 * answer with an HTML page, a registry of another make with fields of its
 * own, a hostile one with anything. So every answer goes through these
 * small parsers, which take a body of a given length (not NUL-terminated:
 * it is what libcurl collected), parse it with jansson's length-bounded
 * json_loadb (no recursion limit is needed beyond jansson's own), check
 * the one or two fields they need and their types, and copy out what the
 * caller keeps. Anything else is RP_EBADDATA with a reason. They hold no
 * state and touch no network, so the unit tests feed them every
 * truncation of real answers and the fuzzer (tests/fuzz/fuzz_registry.c)
 * feeds them anything.
 *
 * Text from a body that reaches a log line (the registry's error message,
 * or the start of an answer that is not JSON) is cut and has its control
 * characters escaped, so that a stray escape sequence cannot rewrite a
 * terminal and a long page cannot drown the line.
 */
#include "repute/registry.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void err(char *errstr, size_t errstr_size, const char *fmt,
                const char *what) {
    if (errstr && errstr_size)
        snprintf(errstr, errstr_size, fmt, what);
}

/* Copies up to size - 1 bytes of s (n bytes long) into buf, as printable
 * text: control characters and DEL become '?', and a cut is marked with
 * "...". */
static void printable(const char *s, size_t n, char *buf, size_t size) {
    if (!size)
        return;
    size_t keep = n < size - 1 ? n : size - 1;
    bool cut = keep < n && size > 4;
    if (cut)
        keep = size - 4;
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut)
        memcpy(buf + keep, "...", 3), keep += 3;
    buf[keep] = '\0';
}

/* The body as a JSON object, or NULL with errstr. */
static json_t *load_object(const char *body, size_t len, char *errstr,
                           size_t errstr_size) {
    json_error_t je;
    json_t *j = body ? json_loadb(body, len, 0, &je) : NULL;
    if (!j) {
        err(errstr, errstr_size, "the registry's answer is not JSON (%s)",
            body ? je.text : "empty");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        err(errstr, errstr_size, "the registry's answer is not a JSON %s",
            "object");
        return NULL;
    }
    return j;
}

int rp_registry_parse_schema(const char *body, size_t len, char **schema_json,
                             char *errstr, size_t errstr_size) {
    *schema_json = NULL;
    json_t *j = load_object(body, len, errstr, errstr_size);
    if (!j)
        return RP_EBADDATA;
    int rc = RP_EBADDATA;
    json_t *type = json_object_get(j, "schemaType");
    json_t *schema = json_object_get(j, "schema");
    if (type && !json_is_null(type) &&
        (!json_is_string(type) || strcmp(json_string_value(type), "AVRO"))) {
        char t[64];
        printable(json_is_string(type) ? json_string_value(type) : "?",
                  json_is_string(type) ? json_string_length(type) : 1, t,
                  sizeof(t));
        err(errstr, errstr_size,
            "the registry's schema is of type %s, not AVRO", t);
        goto done;
    }
    if (!json_is_string(schema) || json_string_length(schema) == 0 ||
        strlen(json_string_value(schema)) != json_string_length(schema)) {
        err(errstr, errstr_size, "the registry's answer has no %s",
            "\"schema\" string");
        goto done;
    }
    *schema_json = strdup(json_string_value(schema));
    rc = *schema_json ? 0 : RP_ENOMEM;
    if (rc)
        err(errstr, errstr_size, "%s", "out of memory");
done:
    json_decref(j);
    return rc;
}

int rp_registry_parse_id(const char *body, size_t len, int32_t *id,
                         char *errstr, size_t errstr_size) {
    json_t *j = load_object(body, len, errstr, errstr_size);
    if (!j)
        return RP_EBADDATA;
    json_t *v = json_object_get(j, "id");
    int rc = RP_EBADDATA;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > INT32_MAX) {
        err(errstr, errstr_size, "the registry's answer has no %s",
            "\"id\" between 0 and 2147483647");
    } else {
        *id = (int32_t)json_integer_value(v);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

int rp_registry_parse_error(const char *body, size_t len, int *code, char *buf,
                            size_t size) {
    *code = 0;
    if (size)
        buf[0] = '\0';
    json_t *j = load_object(body, len, NULL, 0);
    json_t *msg = j ? json_object_get(j, "message") : NULL;
    if (!json_is_string(msg)) {
        if (j)
            json_decref(j);
        printable(body ? body : "", body ? len : 0, buf, size);
        return RP_EBADDATA;
    }
    json_t *c = json_object_get(j, "error_code");
    if (json_is_integer(c) && json_integer_value(c) >= INT32_MIN &&
        json_integer_value(c) <= INT32_MAX)
        *code = (int)json_integer_value(c);
    printable(json_string_value(msg), json_string_length(msg), buf, size);
    json_decref(j);
    return 0;
}

int rp_registry_parse_config(const char *body, size_t len, char *buf,
                             size_t size, char *errstr, size_t errstr_size) {
    json_t *j = load_object(body, len, errstr, errstr_size);
    if (!j)
        return RP_EBADDATA;
    json_t *v = json_object_get(j, "compatibilityLevel");
    if (!v)
        v = json_object_get(j, "compatibility");
    int rc = RP_EBADDATA;
    if (!json_is_string(v)) {
        err(errstr, errstr_size, "the registry's answer has no %s",
            "\"compatibilityLevel\" string");
    } else {
        printable(json_string_value(v), json_string_length(v), buf, size);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

/* ---------------------------------------------------------------- subjects */

int rp_registry_record_name(const char *schema_json, char *buf, size_t size) {
    json_error_t je;
    json_t *j = json_loads(schema_json, 0, &je);
    int rc = RP_EINVAL;
    json_t *name = j ? json_object_get(j, "name") : NULL;
    json_t *ns = j ? json_object_get(j, "namespace") : NULL;
    json_t *type = j ? json_object_get(j, "type") : NULL;
    if (json_is_string(type) &&
        strcmp(json_string_value(type), "record") == 0 &&
        json_is_string(name)) {
        const char *n = json_string_value(name);
        int w;
        /* A dotted name is already full; else the namespace, if any. */
        if (!strchr(n, '.') && json_is_string(ns) && *json_string_value(ns))
            w = snprintf(buf, size, "%s.%s", json_string_value(ns), n);
        else
            w = snprintf(buf, size, "%s", n);
        rc = w < 0 || (size_t)w >= size ? RP_ENOSPACE : 0;
    }
    if (j)
        json_decref(j);
    return rc;
}

int rp_registry_subject(rp_subject_strategy strategy, const char *topic,
                        const char *record_fullname, char *buf, size_t size) {
    int w;
    switch (strategy) {
    case RP_SUBJECT_RECORD:
        w = snprintf(buf, size, "%s", record_fullname);
        break;
    case RP_SUBJECT_TOPIC_RECORD:
        w = snprintf(buf, size, "%s-%s", topic, record_fullname);
        break;
    case RP_SUBJECT_TOPIC:
    default: w = snprintf(buf, size, "%s-value", topic); break;
    }
    return w < 0 || (size_t)w >= size ? RP_ENOSPACE : 0;
}
