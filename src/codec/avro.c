/*
 * avro.c - the Avro codec object of repute/avro.h: built once, checked
 * once, then used for every record of a stream.
 *
 * Everything that costs is done in rp_avro_codec_new(): each of the six
 * embedded schemas (repute/schemas.h) is parsed, its generic value class
 * made, and two values, a memory reader and a memory writer created for
 * it. One value receives decoded data (avro_generic.c) and the other is
 * filled for encoding (avro_encode.c); keeping them apart means that
 * encoding never disturbs a record that still borrows from an earlier
 * decode, which is what the ownership rules of the header promise.
 *
 * The constructor also checks that every record in the schemas has its
 * fields in the order that avro_codec.h lists them, because the rest of
 * the codec reads and writes fields by index (O(1) in avro-c) rather than
 * by name; a schema edit that moved a field is then a start-up error, not
 * silently misread data. The direct decoder of avro_decode.c reads the
 * entries of the validator's walk by position and kind, so the type of
 * every field of the five input schemas is checked too, against what that
 * decoder expects (a string, a nullable long, an enum, ...). Finally each
 * slot runs the validator once over the empty input, which compiles its
 * programs (avro_compile.c) at start-up, where a problem with them shows.
 *
 * The decoding of input records, the hot path, is in avro_decode.c; the
 * reference decoder and the decoding of ReputationEvents, through avro-c,
 * in avro_generic.c; encoding in avro_encode.c.
 */
#include "repute/avro.h"

#include <avro.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_codec.h"

/* ------------------------------------------------------------ layouts */

/* The same layouts by name, checked against the parsed schemas. */
static const char *const delivery_fields[] = {"event_id",
                                              "account_id",
                                              "event_time",
                                              "message_id",
                                              "recipient",
                                              "sent_time",
                                              "verified_recipient",
                                              "simulator",
                                              "feedback_loop",
                                              "tenant",
                                              NULL};
static const char *const bounce_fields[] = {
    "event_id",    "account_id",     "event_time",
    "message_id",  "recipient",      "sent_time",
    "bounce_type", "bounce_subtype", "verified_recipient",
    "simulator",   "diagnostic",     "tenant",
    NULL};
static const char *const complaint_fields[] = {"event_id",
                                               "account_id",
                                               "event_time",
                                               "message_id",
                                               "recipients",
                                               "sent_time",
                                               "feedback_type",
                                               "on_suppression_list",
                                               "simulator",
                                               "tenant",
                                               NULL};
static const char *const report_fields[] = {
    "event_id", "account_id",         "event_time", "kind",   "incidents",
    "domain",   "related_account_id", "reporter",   "detail", "tenant",
    NULL};
static const char *const action_fields[] = {"event_id",
                                            "account_id",
                                            "event_time",
                                            "action",
                                            "issue",
                                            "effective_time",
                                            "related_account_id",
                                            "note",
                                            "tenant",
                                            "actor",
                                            NULL};
static const char *const event_fields[] = {
    "event_id",      "account_id",   "sequence", "event_time", "kind",
    "status_change", "notification", "tenant",   NULL};
static const char *const status_change_fields[] = {
    "previous_status", "status",    "cause",  "review_ends_at",
    "bounce",          "complaint", "issues", NULL};
static const char *const metric_fields[] = {
    "status", "rate", "count", "volume", "window_start", "window_end", NULL};
static const char *const issue_state_fields[] = {"kind", "status", "since",
                                                 "review_ends_at", NULL};
static const char *const notification_fields[] = {
    "issue",   "stage", "account_status", "title",          "why",
    "actions", "rate",  "threshold",      "review_ends_at", NULL};

static const char *const *const slot_fields[SLOT_COUNT] = {
    delivery_fields, bounce_fields, complaint_fields,
    report_fields,   action_fields, event_fields};

/* The record names, for messages. */
const char *const rp_avro_record_names[SLOT_COUNT] = {
    "Delivery", "Bounce", "Complaint", "Report", "Action", "ReputationEvent"};

/* What the direct decoder (fill_walked() of avro_decode.c) expects each field
 * of an input record to be, in schema order, checked against the parsed schemas
 * by check_kinds(). A nullable field is a union of null and one type, in that
 * order, so that branch 1 is the value. */
enum {
    K_END,
    K_STRING,
    K_LONG,
    K_INT,
    K_BOOL,
    K_ENUM,
    K_OPT_STRING,
    K_OPT_LONG,
    K_OPT_ENUM,
    K_STRING_ARRAY
};
static const uint8_t delivery_kinds[] = {
    K_STRING, K_STRING, K_LONG, K_STRING,     K_STRING, K_OPT_LONG,
    K_BOOL,   K_BOOL,   K_BOOL, K_OPT_STRING, K_END};
static const uint8_t bounce_kinds[] = {
    K_STRING, K_STRING, K_LONG, K_STRING,     K_STRING,     K_OPT_LONG, K_ENUM,
    K_ENUM,   K_BOOL,   K_BOOL, K_OPT_STRING, K_OPT_STRING, K_END};
static const uint8_t complaint_kinds[] = {
    K_STRING, K_STRING, K_LONG, K_STRING,     K_STRING_ARRAY, K_OPT_LONG,
    K_ENUM,   K_BOOL,   K_BOOL, K_OPT_STRING, K_END};
static const uint8_t report_kinds[] = {
    K_STRING,     K_STRING,     K_LONG,       K_ENUM,       K_INT, K_OPT_STRING,
    K_OPT_STRING, K_OPT_STRING, K_OPT_STRING, K_OPT_STRING, K_END};
static const uint8_t action_kinds[] = {K_STRING,     K_STRING,     K_LONG,
                                       K_ENUM,       K_OPT_ENUM,   K_OPT_LONG,
                                       K_OPT_STRING, K_OPT_STRING, K_OPT_STRING,
                                       K_OPT_STRING, K_END};

static const uint8_t *const record_kinds[RP_REC__COUNT] = {
    delivery_kinds, bounce_kinds, complaint_kinds, report_kinds, action_kinds};

/* ------------------------------------------------------------ codec */

/* The readers and writers are created over this until they are pointed at
 * real input or output; avro-c wants a buffer to exist. */
static char empty_buffer[1];

int rp_avro_error(char *errstr, size_t errstr_size, int code, const char *fmt,
                  ...) {
    if (errstr && errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Follows named-type references to the schema they name. */
static avro_schema_t resolve(avro_schema_t s) {
    while (s && avro_typeof(s) == AVRO_LINK)
        s = avro_schema_link_target(s);
    return s;
}

/* Checks that a record schema has exactly the named fields, in order. */
static int check_layout(avro_schema_t s, const char *what,
                        const char *const *names, char *errstr,
                        size_t errstr_size) {
    s = resolve(s);
    if (!s || avro_typeof(s) != AVRO_RECORD)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "schema %s: expected a record", what);
    size_t n = 0;
    while (names[n])
        n++;
    if (avro_schema_record_size(s) != n)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "schema %s: %zu fields, expected %zu", what,
                             avro_schema_record_size(s), n);
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(s, (int)i);
        if (!name || strcmp(name, names[i]) != 0)
            return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                                 "schema %s: field %zu is %s, expected %s",
                                 what, i, name ? name : "(none)", names[i]);
    }
    return 0;
}

/* The field's schema; for a nullable field, its non-null branch. */
static avro_schema_t field_schema(avro_schema_t rec, int index) {
    avro_schema_t f =
        resolve(avro_schema_record_field_get_by_index(rec, index));
    if (f && avro_typeof(f) == AVRO_UNION)
        f = resolve(avro_schema_union_branch(f, 1));
    return f;
}

static int check_event_layout(avro_schema_t ev, char *errstr,
                              size_t errstr_size) {
    avro_schema_t sc = field_schema(ev, E_STATUS_CHANGE);
    avro_schema_t n = field_schema(ev, E_NOTIFICATION);
    int rc = check_layout(sc, "StatusChange", status_change_fields, errstr,
                          errstr_size);
    if (rc == 0)
        rc = check_layout(field_schema(sc, SC_BOUNCE), "MetricSnapshot",
                          metric_fields, errstr, errstr_size);
    if (rc == 0) {
        avro_schema_t issues = field_schema(sc, SC_ISSUES);
        if (!issues || avro_typeof(issues) != AVRO_ARRAY)
            return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                                 "schema StatusChange: issues is not an array");
        rc = check_layout(avro_schema_array_items(issues), "IssueState",
                          issue_state_fields, errstr, errstr_size);
    }
    if (rc == 0)
        rc = check_layout(n, "Notification", notification_fields, errstr,
                          errstr_size);
    return rc;
}

/* Checks that every field of an input record has the type that kinds
 * says (kinds ends with K_END; check_layout has counted the fields). */
static int check_kinds(avro_schema_t s, const char *what, const uint8_t *kinds,
                       char *errstr, size_t errstr_size) {
    static const struct {
        avro_type_t type;
        bool nullable;
        const char *name;
    } want[] = {
        [K_STRING] = {AVRO_STRING, false, "a string"},
        [K_LONG] = {AVRO_INT64, false, "a long"},
        [K_INT] = {AVRO_INT32, false, "an int"},
        [K_BOOL] = {AVRO_BOOLEAN, false, "a boolean"},
        [K_ENUM] = {AVRO_ENUM, false, "an enum"},
        [K_OPT_STRING] = {AVRO_STRING, true, "a nullable string"},
        [K_OPT_LONG] = {AVRO_INT64, true, "a nullable long"},
        [K_OPT_ENUM] = {AVRO_ENUM, true, "a nullable enum"},
        [K_STRING_ARRAY] = {AVRO_ARRAY, false, "an array of strings"},
    };
    s = resolve(s);
    size_t n = avro_schema_record_size(s);
    for (size_t i = 0; i < n; i++) {
        if (kinds[i] == K_END || i >= RP_AVRO_WALK_FIELDS)
            return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                                 "schema %s: the decoder knows only %zu fields",
                                 what, i);
        avro_schema_t f =
            resolve(avro_schema_record_field_get_by_index(s, (int)i));
        bool ok = f != NULL;
        if (ok && want[kinds[i]].nullable) {
            avro_schema_t null = NULL;
            ok = avro_typeof(f) == AVRO_UNION &&
                 avro_schema_union_size(f) == 2 &&
                 (null = resolve(avro_schema_union_branch(f, 0))) != NULL &&
                 avro_typeof(null) == AVRO_NULL;
            f = ok ? resolve(avro_schema_union_branch(f, 1)) : NULL;
            ok = f != NULL;
        }
        ok = ok && avro_typeof(f) == want[kinds[i]].type;
        if (ok && kinds[i] == K_STRING_ARRAY) {
            avro_schema_t item = resolve(avro_schema_array_items(f));
            ok = item && avro_typeof(item) == AVRO_STRING;
        }
        if (!ok)
            return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                                 "schema %s: field %s is not %s", what,
                                 avro_schema_record_field_name(s, (int)i),
                                 want[kinds[i]].name);
    }
    if (kinds[n] != K_END)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "schema %s: %zu fields, the decoder expects more",
                             what, n);
    return 0;
}

static int slot_init(slot_state *s, int index, char *errstr,
                     size_t errstr_size) {
    const char *text = rp_avro_schema_json(index);
    if (avro_schema_from_json_length(text, strlen(text), &s->schema) != 0) {
        s->schema = NULL;
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "cannot parse schema %s: %s",
                             rp_avro_schema_name(index), avro_strerror());
    }
    int rc = check_layout(s->schema, rp_avro_record_names[index],
                          slot_fields[index], errstr, errstr_size);
    if (rc == 0 && index == RP_SCHEMA_ID_STATUS)
        rc = check_event_layout(s->schema, errstr, errstr_size);
    if (rc == 0 && index < RP_REC__COUNT)
        rc = check_kinds(s->schema, rp_avro_record_names[index],
                         record_kinds[index], errstr, errstr_size);
    if (rc < 0)
        return rc;
    s->n_fields = avro_schema_record_size(resolve(s->schema));
    s->iface = avro_generic_class_from_schema(s->schema);
    if (!s->iface)
        goto avro_fail;
    if (avro_generic_value_new(s->iface, &s->dec) != 0)
        goto avro_fail;
    s->has_dec = true;
    if (avro_generic_value_new(s->iface, &s->enc) != 0)
        goto avro_fail;
    s->has_enc = true;
    s->reader = avro_reader_memory(empty_buffer, 0);
    s->writer = avro_writer_memory(empty_buffer, 0);
    if (!s->reader || !s->writer)
        return rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    /* Every schema needs at least one byte, so the empty input must be
     * truncated; this also compiles the validator's programs now, so that
     * a problem with them shows at start-up. */
    rc = rp_avro_check(index, NULL, 0, errstr, errstr_size);
    if (rc != RP_ETRUNC)
        return rc < 0 ? rc
                      : rp_avro_error(errstr, errstr_size, RP_EINVAL,
                                      "schema %s accepts the empty input",
                                      rp_avro_schema_name(index));
    return 0;

avro_fail:
    return rp_avro_error(errstr, errstr_size, RP_ENOMEM,
                         "cannot create a value for schema %s: %s",
                         rp_avro_schema_name(index), avro_strerror());
}

static void slot_done(slot_state *s) {
    if (s->reader)
        avro_reader_free(s->reader);
    if (s->writer)
        avro_writer_free(s->writer);
    if (s->has_dec)
        avro_value_decref(&s->dec);
    if (s->has_enc)
        avro_value_decref(&s->enc);
    if (s->iface)
        avro_value_iface_decref(s->iface);
    if (s->schema)
        avro_schema_decref(s->schema);
    memset(s, 0, sizeof(*s));
}

rp_avro_codec *rp_avro_codec_new(rp_framing framing, const int32_t *schema_ids,
                                 char *errstr, size_t errstr_size) {
    rp_avro_codec *c = NULL;
    if (framing != RP_FRAMING_PLAIN && framing != RP_FRAMING_CONFLUENT) {
        rp_avro_error(errstr, errstr_size, RP_EINVAL, "unknown framing %d",
                      (int)framing);
        goto fail;
    }
    if (framing == RP_FRAMING_CONFLUENT && !schema_ids) {
        rp_avro_error(errstr, errstr_size, RP_EINVAL,
                      "the Confluent framing needs schema ids");
        goto fail;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
        goto fail;
    }
    c->framing = framing;
    if (schema_ids)
        memcpy(c->schema_ids, schema_ids, sizeof(c->schema_ids));
    for (int i = 0; i < SLOT_COUNT; i++)
        if (slot_init(&c->slots[i], i, errstr, errstr_size) < 0)
            goto fail;
    return c;

fail:
    rp_avro_codec_destroy(c);
    return NULL;
}

void rp_avro_codec_destroy(rp_avro_codec *c) {
    if (!c)
        return;
    for (int i = 0; i < SLOT_COUNT; i++)
        slot_done(&c->slots[i]);
    rp_avro_writers_free(c);
    rp_buf_free(&c->completed);
    rp_buf_free(&c->out);
    rp_buf_free(&c->event_id);
    free(c->recipients);
    free(c);
}
