/*
 * avro.c - the Avro codec of repute/avro.h: input records decoded by our
 * own walk over the bytes, everything else on top of avro-c's value API.
 *
 * A codec is built once and then used for every record of a stream, so
 * everything that costs is done in rp_avro_codec_new(): each of the six
 * embedded schemas is parsed, its generic value class made, and two
 * values, a memory reader and a memory writer created for it. One value
 * receives decoded data and the other is filled for encoding; keeping them
 * apart means that encoding never disturbs a record that still borrows
 * from an earlier decode, which is what the ownership rules of the header
 * promise. The constructor also checks that every record in the schemas
 * has its fields in the order this file expects, because the hot path
 * reads and writes fields by index (O(1) in avro-c) rather than by name;
 * a schema edit that moved a field is then a start-up error, not silently
 * misread data.
 *
 * Decoding an input record, the hot path: framing first (plain, or the
 * Confluent wire format with its magic byte and schema id), then the size
 * limit, then rp_avro_check_walk() (avro_check.c), which proves without
 * allocating that the bytes are exactly one well-formed datum of the
 * schema and, in the same pass, writes down every field it read: union
 * branches, the values of booleans, ints, longs and enums, and where each
 * string lies in the input. The rp_record is filled from those entries by
 * field index, with strings pointing into the caller's input buffer and
 * the recipients of a complaint in the codec's reused array, and finally
 * rp_record_check() applies the parts of the contract that a schema cannot
 * express. No avro-c call, no allocation (once the recipients array has
 * grown to the most recipients seen) and no copy. Since the entries are
 * read by position and kind, the constructor also checks the type of
 * every field of the five input schemas against what the filling code
 * expects (a string, a nullable long, an enum, ...).
 *
 * rp_avro_decode_generic() decodes the same records the way the rest of
 * the codec works: after the same framing and rp_avro_check(), avro-c
 * reads the datum through the slot's reader into its generic value, and
 * the rp_record is filled from the value, with strings borrowed from
 * avro-c's storage (avro-c counts the terminating NUL in a string's size;
 * rp_str does not). It is the reference that the tests hold the direct
 * decoder to, and the benchmark's comparison; avro-c allocates each string
 * it decodes (and frees the previous one), which is why it is not the hot
 * path. rp_avro_decode_event() decodes ReputationEvents the same way.
 *
 * Encoding: the slot's encoding value is reset and every field set,
 * nullable ones through avro_value_set_branch. Strings are handed to
 * avro-c as wrapped buffers that borrow the caller's bytes for the length
 * of the call: no copy, and no terminator needed, since avro-c sizes and
 * writes a string from its length. The datum is then sized with
 * avro_value_sizeof() and written by a memory writer straight into the
 * codec's growable output buffer, after the Confluent header when the
 * codec is so configured. Encoding does not enforce the contract (a test
 * must be able to produce a record that breaks it), but it refuses what
 * Avro cannot represent, such as an enum value out of range.
 */
#include "repute/avro.h"

#include <avro.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_walk.h"
#include "repute/buf.h"

/* Generated from the .avsc files in schemas/ by cmake/embed_schemas.cmake. */
extern const char *const rp_avro_schema_texts[6];
extern const char *const rp_avro_schema_files[6];

#define SLOT_COUNT       RP_SCHEMA_ID__COUNT
#define CONFLUENT_HEADER 5

/* ------------------------------------------------------------ layouts */

/* Field indexes of each record, in schema order. The five inputs share
 * their first three fields. */
enum { F_EVENT_ID, F_ACCOUNT_ID, F_EVENT_TIME };
enum {
    D_MESSAGE_ID = 3,
    D_RECIPIENT,
    D_SENT_TIME,
    D_VERIFIED_RECIPIENT,
    D_SIMULATOR,
    D_FEEDBACK_LOOP
};
enum {
    B_MESSAGE_ID = 3,
    B_RECIPIENT,
    B_SENT_TIME,
    B_BOUNCE_TYPE,
    B_BOUNCE_SUBTYPE,
    B_VERIFIED_RECIPIENT,
    B_SIMULATOR,
    B_DIAGNOSTIC
};
enum {
    C_MESSAGE_ID = 3,
    C_RECIPIENTS,
    C_SENT_TIME,
    C_FEEDBACK_TYPE,
    C_ON_SUPPRESSION_LIST,
    C_SIMULATOR
};
enum {
    R_KIND = 3,
    R_INCIDENTS,
    R_DOMAIN,
    R_RELATED_ACCOUNT_ID,
    R_REPORTER,
    R_DETAIL
};
enum { A_ACTION = 3, A_ISSUE, A_EFFECTIVE_TIME, A_RELATED_ACCOUNT_ID, A_NOTE };
enum {
    E_EVENT_ID,
    E_ACCOUNT_ID,
    E_SEQUENCE,
    E_EVENT_TIME,
    E_KIND,
    E_STATUS_CHANGE,
    E_NOTIFICATION
};
enum {
    SC_PREVIOUS_STATUS,
    SC_STATUS,
    SC_CAUSE,
    SC_REVIEW_ENDS_AT,
    SC_BOUNCE,
    SC_COMPLAINT,
    SC_ISSUES
};
enum { M_STATUS, M_RATE, M_COUNT, M_VOLUME, M_WINDOW_START, M_WINDOW_END };
enum { I_KIND, I_STATUS, I_SINCE, I_REVIEW_ENDS_AT };
enum {
    N_ISSUE,
    N_STAGE,
    N_ACCOUNT_STATUS,
    N_TITLE,
    N_WHY,
    N_ACTIONS,
    N_RATE,
    N_THRESHOLD,
    N_REVIEW_ENDS_AT
};

/* The same layouts by name, checked against the parsed schemas. */
static const char *const delivery_fields[] = {
    "event_id",      "account_id", "event_time",         "message_id",
    "recipient",     "sent_time",  "verified_recipient", "simulator",
    "feedback_loop", NULL};
static const char *const bounce_fields[] = {
    "event_id",           "account_id", "event_time",  "message_id",
    "recipient",          "sent_time",  "bounce_type", "bounce_subtype",
    "verified_recipient", "simulator",  "diagnostic",  NULL};
static const char *const complaint_fields[] = {
    "event_id",   "account_id", "event_time",    "message_id",
    "recipients", "sent_time",  "feedback_type", "on_suppression_list",
    "simulator",  NULL};
static const char *const report_fields[] = {
    "event_id", "account_id",         "event_time", "kind",   "incidents",
    "domain",   "related_account_id", "reporter",   "detail", NULL};
static const char *const action_fields[] = {
    "event_id",       "account_id",         "event_time", "action", "issue",
    "effective_time", "related_account_id", "note",       NULL};
static const char *const event_fields[] = {
    "event_id", "account_id",    "sequence",     "event_time",
    "kind",     "status_change", "notification", NULL};
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
static const char *const slot_records[SLOT_COUNT] = {
    "Delivery", "Bounce", "Complaint", "Report", "Action", "ReputationEvent"};

/* What the direct decoder (fill_walked) expects each field of an input
 * record to be, in schema order, checked against the parsed schemas by
 * check_kinds(). A nullable field is a union of null and one type, in that
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
static const uint8_t delivery_kinds[] = {K_STRING, K_STRING,   K_LONG, K_STRING,
                                         K_STRING, K_OPT_LONG, K_BOOL, K_BOOL,
                                         K_BOOL,   K_END};
static const uint8_t bounce_kinds[] = {
    K_STRING, K_STRING, K_LONG, K_STRING, K_STRING,     K_OPT_LONG,
    K_ENUM,   K_ENUM,   K_BOOL, K_BOOL,   K_OPT_STRING, K_END};
static const uint8_t complaint_kinds[] = {
    K_STRING,   K_STRING, K_LONG, K_STRING, K_STRING_ARRAY,
    K_OPT_LONG, K_ENUM,   K_BOOL, K_BOOL,   K_END};
static const uint8_t report_kinds[] = {
    K_STRING,     K_STRING,     K_LONG,       K_ENUM,       K_INT,
    K_OPT_STRING, K_OPT_STRING, K_OPT_STRING, K_OPT_STRING, K_END};
static const uint8_t action_kinds[] = {K_STRING,     K_STRING,     K_LONG,
                                       K_ENUM,       K_OPT_ENUM,   K_OPT_LONG,
                                       K_OPT_STRING, K_OPT_STRING, K_END};

static const uint8_t *const record_kinds[RP_REC__COUNT] = {
    delivery_kinds, bounce_kinds, complaint_kinds, report_kinds, action_kinds};

/* ------------------------------------------------------------ codec */

typedef struct slot_state {
    size_t n_fields; /* of the top-level record */
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t dec; /* filled by avro_value_read; decoded records borrow */
    avro_value_t enc; /* filled by the encoders */
    bool has_dec, has_enc;
    avro_reader_t reader;
    avro_writer_t writer;
} slot_state;

struct rp_avro_codec {
    rp_framing framing;
    int32_t schema_ids[SLOT_COUNT];
    slot_state slots[SLOT_COUNT];
    rp_buf out;         /* the last encoded datum, with its framing */
    rp_buf event_id;    /* "<account_id>:<sequence>" while encoding an event */
    rp_str *recipients; /* of the last decoded complaint */
    size_t recipients_cap;
    rp_avro_walk walk; /* what the direct decoder's walk recorded */
};

/* The readers and writers are created over this until they are pointed at
 * real input or output; avro-c wants a buffer to exist. */
static char empty_buffer[1];

static int error(char *errstr, size_t errstr_size, int code, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

static int error(char *errstr, size_t errstr_size, int code, const char *fmt,
                 ...) {
    if (errstr && errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* An avro-c failure as an RP_E* code: running out of memory stays what it
 * is, anything else becomes `otherwise`. */
static int avro_failure(int avro_rc, int otherwise) {
    return avro_rc == ENOMEM ? RP_ENOMEM : otherwise;
}

const char *rp_avro_schema_json(int slot) {
    return slot >= 0 && slot < SLOT_COUNT ? rp_avro_schema_texts[slot] : NULL;
}

const char *rp_avro_schema_name(int slot) {
    return slot >= 0 && slot < SLOT_COUNT ? rp_avro_schema_files[slot] : NULL;
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
        return error(errstr, errstr_size, RP_EINVAL,
                     "schema %s: expected a record", what);
    size_t n = 0;
    while (names[n])
        n++;
    if (avro_schema_record_size(s) != n)
        return error(errstr, errstr_size, RP_EINVAL,
                     "schema %s: %zu fields, expected %zu", what,
                     avro_schema_record_size(s), n);
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(s, (int)i);
        if (!name || strcmp(name, names[i]) != 0)
            return error(errstr, errstr_size, RP_EINVAL,
                         "schema %s: field %zu is %s, expected %s", what, i,
                         name ? name : "(none)", names[i]);
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
            return error(errstr, errstr_size, RP_EINVAL,
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
            return error(errstr, errstr_size, RP_EINVAL,
                         "schema %s: the decoder knows only %zu fields", what,
                         i);
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
            return error(errstr, errstr_size, RP_EINVAL,
                         "schema %s: field %s is not %s", what,
                         avro_schema_record_field_name(s, (int)i),
                         want[kinds[i]].name);
    }
    if (kinds[n] != K_END)
        return error(errstr, errstr_size, RP_EINVAL,
                     "schema %s: %zu fields, the decoder expects more", what,
                     n);
    return 0;
}

static int slot_init(slot_state *s, int index, char *errstr,
                     size_t errstr_size) {
    const char *text = rp_avro_schema_texts[index];
    if (avro_schema_from_json_length(text, strlen(text), &s->schema) != 0) {
        s->schema = NULL;
        return error(errstr, errstr_size, RP_EINVAL,
                     "cannot parse schema %s: %s", rp_avro_schema_name(index),
                     avro_strerror());
    }
    int rc = check_layout(s->schema, slot_records[index], slot_fields[index],
                          errstr, errstr_size);
    if (rc == 0 && index == RP_SCHEMA_ID_STATUS)
        rc = check_event_layout(s->schema, errstr, errstr_size);
    if (rc == 0 && index < RP_REC__COUNT)
        rc = check_kinds(s->schema, slot_records[index], record_kinds[index],
                         errstr, errstr_size);
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
        return error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    /* Every schema needs at least one byte, so the empty input must be
     * truncated; this also compiles the validator's programs now, so that
     * a problem with them shows at start-up. */
    rc = rp_avro_check(index, NULL, 0, errstr, errstr_size);
    if (rc != RP_ETRUNC)
        return rc < 0 ? rc
                      : error(errstr, errstr_size, RP_EINVAL,
                              "schema %s accepts the empty input",
                              rp_avro_schema_name(index));
    return 0;

avro_fail:
    return error(errstr, errstr_size, RP_ENOMEM,
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
        error(errstr, errstr_size, RP_EINVAL, "unknown framing %d",
              (int)framing);
        goto fail;
    }
    if (framing == RP_FRAMING_CONFLUENT && !schema_ids) {
        error(errstr, errstr_size, RP_EINVAL,
              "the Confluent framing needs schema ids");
        goto fail;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        error(errstr, errstr_size, RP_ENOMEM, "out of memory");
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
    rp_buf_free(&c->out);
    rp_buf_free(&c->event_id);
    free(c->recipients);
    free(c);
}

/* ------------------------------------------------------------ reading */

/* The getters below return 0 or avro-c's error code. With the layouts
 * checked at start-up and the datum validated before avro-c read it, they
 * cannot fail in practice; they check anyway, so that a broken invariant
 * is an error and not a crash. */
#define TRY(expr)                                                              \
    do {                                                                       \
        if ((rc = (expr)) != 0)                                                \
            goto fail;                                                         \
    } while (0)

static void value_str(const char *p, size_t size, rp_str *out) {
    out->ptr = p ? p : "";
    out->len = size ? size - 1 : 0; /* avro-c counts the NUL */
}

static int get_str(const avro_value_t *rec, size_t i, rp_str *out) {
    avro_value_t f;
    const char *p = NULL;
    size_t size = 0;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    if (rc == 0)
        rc = avro_value_get_string(&f, &p, &size);
    value_str(p, size, out);
    return rc;
}

static int get_cstr(const avro_value_t *rec, size_t i, const char **out) {
    rp_str s;
    int rc = get_str(rec, i, &s);
    *out = s.ptr;
    return rc;
}

static int get_long(const avro_value_t *rec, size_t i, int64_t *out) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_get_long(&f, out);
}

static int get_int(const avro_value_t *rec, size_t i, int32_t *out) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_get_int(&f, out);
}

static int get_bool(const avro_value_t *rec, size_t i, bool *out) {
    avro_value_t f;
    int b = 0;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    if (rc == 0)
        rc = avro_value_get_boolean(&f, &b);
    *out = b != 0;
    return rc;
}

static int get_enum(const avro_value_t *rec, size_t i, int *out) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_get_enum(&f, out);
}

static int get_child(const avro_value_t *rec, size_t i, avro_value_t *out) {
    return avro_value_get_by_index(rec, i, out, NULL);
}

/* A nullable field: *has tells whether it holds a value, *out is that
 * value (the union's second branch). */
static int get_opt(const avro_value_t *rec, size_t i, bool *has,
                   avro_value_t *out) {
    avro_value_t u;
    int disc = 0;
    int rc = avro_value_get_by_index(rec, i, &u, NULL);
    if (rc == 0)
        rc = avro_value_get_discriminant(&u, &disc);
    *has = rc == 0 && disc == 1;
    if (*has)
        rc = avro_value_get_current_branch(&u, out);
    return rc;
}

static int get_opt_str(const avro_value_t *rec, size_t i, rp_str *out) {
    avro_value_t b;
    bool has;
    const char *p = NULL;
    size_t size = 0;
    *out = RP_STR_NULL;
    int rc = get_opt(rec, i, &has, &b);
    if (rc == 0 && has) {
        rc = avro_value_get_string(&b, &p, &size);
        value_str(p, size, out);
    }
    return rc;
}

static int get_opt_long(const avro_value_t *rec, size_t i, bool *has,
                        int64_t *out) {
    avro_value_t b;
    *out = 0;
    int rc = get_opt(rec, i, has, &b);
    return rc == 0 && *has ? avro_value_get_long(&b, out) : rc;
}

static int get_opt_double(const avro_value_t *rec, size_t i, bool *has,
                          double *out) {
    avro_value_t b;
    *out = 0;
    int rc = get_opt(rec, i, has, &b);
    return rc == 0 && *has ? avro_value_get_double(&b, out) : rc;
}

static int get_opt_enum(const avro_value_t *rec, size_t i, bool *has,
                        int *out) {
    avro_value_t b;
    *out = 0;
    int rc = get_opt(rec, i, has, &b);
    return rc == 0 && *has ? avro_value_get_enum(&b, out) : rc;
}

/* Splits off the framing. The caller has checked the size limit. */
static int unframe(const rp_avro_codec *c, int slot, const uint8_t *buf,
                   size_t len, const uint8_t **body, size_t *body_len,
                   char *errstr, size_t errstr_size) {
    *body = buf;
    *body_len = len;
    if (c->framing != RP_FRAMING_CONFLUENT)
        return 0;
    if (len < CONFLUENT_HEADER)
        return error(errstr, errstr_size, RP_ETRUNC,
                     "%s: %zu bytes cannot hold the 5-byte Confluent header",
                     slot_records[slot], len);
    if (buf[0] != 0)
        return error(errstr, errstr_size, RP_EBADDATA,
                     "%s: magic byte is 0x%02x, expected 0x00 (Confluent "
                     "wire format)",
                     slot_records[slot], buf[0]);
    int32_t id = (int32_t)((uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
                           (uint32_t)buf[3] << 8 | (uint32_t)buf[4]);
    if (id != c->schema_ids[slot])
        return error(errstr, errstr_size, RP_EBADDATA,
                     "%s: schema id is %d, expected %d", slot_records[slot],
                     (int)id, (int)c->schema_ids[slot]);
    *body = buf + CONFLUENT_HEADER;
    *body_len = len - CONFLUENT_HEADER;
    return 0;
}

/* The datum inside a framed input: the input checks, the size limit and
 * the framing. */
static int datum_of(const rp_avro_codec *c, int slot, const void *buf,
                    size_t len, const uint8_t **body, size_t *body_len,
                    char *errstr, size_t errstr_size) {
    if (!buf && len)
        return error(errstr, errstr_size, RP_EINVAL, "no input buffer");
    if (len > RP_AVRO_MAX_RECORD)
        return error(errstr, errstr_size, RP_ETOOBIG,
                     "%s: %zu bytes, more than the limit of %d",
                     slot_records[slot], len, RP_AVRO_MAX_RECORD);
    return unframe(c, slot, buf ? buf : (const void *)empty_buffer, len, body,
                   body_len, errstr, errstr_size);
}

/* The result of rp_avro_check() or rp_avro_check_walk() (n) for a datum of
 * body_len bytes: the error, or trailing bytes, or 0. */
static int whole_datum(int slot, int n, size_t body_len, char *errstr,
                       size_t errstr_size) {
    if (n < 0)
        return n;
    if ((size_t)n != body_len)
        return error(errstr, errstr_size, RP_EBADDATA,
                     "%s: %zu trailing bytes after the record",
                     slot_records[slot], body_len - (size_t)n);
    return 0;
}

/* Everything up to a filled avro value: size, framing, validation, read. */
static int read_datum(rp_avro_codec *c, int slot, const void *buf, size_t len,
                      char *errstr, size_t errstr_size) {
    const uint8_t *body = NULL;
    size_t body_len = 0;
    int rc = datum_of(c, slot, buf, len, &body, &body_len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    rc = whole_datum(slot,
                     rp_avro_check(slot, body, body_len, errstr, errstr_size),
                     body_len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    slot_state *s = &c->slots[slot];
    avro_reader_memory_set_source(s->reader, (const char *)body,
                                  (int64_t)body_len);
    rc = avro_value_read(s->reader, &s->dec);
    if (rc != 0)
        return error(errstr, errstr_size, avro_failure(rc, RP_EBADDATA),
                     "%s: avro-c cannot read the record: %s",
                     slot_records[slot], avro_strerror());
    return 0;
}

static int grow_recipients(rp_avro_codec *c, size_t n) {
    if (n <= c->recipients_cap)
        return 0;
    size_t cap = c->recipients_cap ? c->recipients_cap : 8;
    while (cap < n)
        cap *= 2;
    rp_str *p = realloc(c->recipients, cap * sizeof(*p));
    if (!p)
        return RP_ENOMEM;
    c->recipients = p;
    c->recipients_cap = cap;
    return 0;
}

/* Fills the type-specific part of rec from v. Returns 0, an avro-c code
 * (positive) or RP_ENOMEM. */
static int fill_record(rp_avro_codec *c, const avro_value_t *v,
                       rp_record *rec) {
    int rc, e;
    TRY(get_str(v, F_EVENT_ID, &rec->event_id));
    TRY(get_str(v, F_ACCOUNT_ID, &rec->account_id));
    TRY(get_long(v, F_EVENT_TIME, &rec->event_time));
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        rp_delivery *d = &rec->u.delivery;
        TRY(get_str(v, D_MESSAGE_ID, &d->message_id));
        TRY(get_str(v, D_RECIPIENT, &d->recipient));
        TRY(get_opt_long(v, D_SENT_TIME, &d->has_sent_time, &d->sent_time));
        TRY(get_bool(v, D_VERIFIED_RECIPIENT, &d->verified_recipient));
        TRY(get_bool(v, D_SIMULATOR, &d->simulator));
        TRY(get_bool(v, D_FEEDBACK_LOOP, &d->feedback_loop));
        break;
    }
    case RP_REC_BOUNCE: {
        rp_bounce *b = &rec->u.bounce;
        TRY(get_str(v, B_MESSAGE_ID, &b->message_id));
        TRY(get_str(v, B_RECIPIENT, &b->recipient));
        TRY(get_opt_long(v, B_SENT_TIME, &b->has_sent_time, &b->sent_time));
        TRY(get_enum(v, B_BOUNCE_TYPE, &e));
        b->bounce_type = (rp_bounce_type)e;
        TRY(get_enum(v, B_BOUNCE_SUBTYPE, &e));
        b->bounce_subtype = (rp_bounce_subtype)e;
        TRY(get_bool(v, B_VERIFIED_RECIPIENT, &b->verified_recipient));
        TRY(get_bool(v, B_SIMULATOR, &b->simulator));
        TRY(get_opt_str(v, B_DIAGNOSTIC, &b->diagnostic));
        break;
    }
    case RP_REC_COMPLAINT: {
        rp_complaint *m = &rec->u.complaint;
        avro_value_t arr, item;
        size_t n;
        TRY(get_str(v, C_MESSAGE_ID, &m->message_id));
        TRY(get_child(v, C_RECIPIENTS, &arr));
        TRY(avro_value_get_size(&arr, &n));
        if (grow_recipients(c, n) < 0)
            return RP_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            const char *p = NULL;
            size_t size = 0;
            TRY(avro_value_get_by_index(&arr, i, &item, NULL));
            TRY(avro_value_get_string(&item, &p, &size));
            value_str(p, size, &c->recipients[i]);
        }
        m->recipients = c->recipients;
        m->n_recipients = n;
        TRY(get_opt_long(v, C_SENT_TIME, &m->has_sent_time, &m->sent_time));
        TRY(get_enum(v, C_FEEDBACK_TYPE, &e));
        m->feedback_type = (rp_feedback_type)e;
        TRY(get_bool(v, C_ON_SUPPRESSION_LIST, &m->on_suppression_list));
        TRY(get_bool(v, C_SIMULATOR, &m->simulator));
        break;
    }
    case RP_REC_REPORT: {
        rp_report *r = &rec->u.report;
        TRY(get_enum(v, R_KIND, &e));
        r->kind = (rp_issue_kind)(e + RP_ISSUE__FIRST_REPORT);
        TRY(get_int(v, R_INCIDENTS, &r->incidents));
        TRY(get_opt_str(v, R_DOMAIN, &r->domain));
        TRY(get_opt_str(v, R_RELATED_ACCOUNT_ID, &r->related_account_id));
        TRY(get_opt_str(v, R_REPORTER, &r->reporter));
        TRY(get_opt_str(v, R_DETAIL, &r->detail));
        break;
    }
    case RP_REC_ACTION: {
        rp_action *a = &rec->u.action;
        TRY(get_enum(v, A_ACTION, &e));
        a->action = (rp_action_type)e;
        TRY(get_opt_enum(v, A_ISSUE, &a->has_issue, &e));
        a->issue = (rp_issue_kind)e;
        TRY(get_opt_long(v, A_EFFECTIVE_TIME, &a->has_effective_time,
                         &a->effective_time));
        TRY(get_opt_str(v, A_RELATED_ACCOUNT_ID, &a->related_account_id));
        TRY(get_opt_str(v, A_NOTE, &a->note));
        break;
    }
    default: return EINVAL;
    }
    return 0;

fail:
    return rc;
}

int rp_avro_decode_generic(rp_avro_codec *c, rp_rec_type type, const void *buf,
                           size_t len, rp_record *rec, char *errstr,
                           size_t errstr_size) {
    if ((unsigned)type >= RP_REC__COUNT)
        return error(errstr, errstr_size, RP_EINVAL, "unknown record type %d",
                     (int)type);
    int rc = read_datum(c, (int)type, buf, len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    rp_record_init(rec, type);
    rc = fill_record(c, &c->slots[type].dec, rec);
    if (rc != 0)
        return rc == RP_ENOMEM
                   ? error(errstr, errstr_size, RP_ENOMEM, "out of memory")
                   : error(errstr, errstr_size, avro_failure(rc, RP_EBADDATA),
                           "%s: the decoded value does not have the "
                           "expected shape: %s",
                           slot_records[type], avro_strerror());
    return rp_record_check(rec, errstr, errstr_size);
}

/* ------------------------------------------------------------ direct */

/* The entries of rp_avro_check_walk() as rp_record fields. check_kinds() has
 * made sure at start-up that each field has the kind read here. */
static rp_str walked_str(const rp_avro_walk_field *f) {
    return (rp_str){f->str, f->len};
}

static rp_str walked_opt_str(const rp_avro_walk_field *f) {
    return f->branch == 1 ? (rp_str){f->str, f->len} : RP_STR_NULL;
}

static bool walked_has(const rp_avro_walk_field *f) {
    return f->branch == 1;
}

/* Fills rec (initialised for its type) from a successful walk; a null
 * long or enum reads as 0, its value as recorded. */
static void fill_walked(rp_avro_codec *c, const rp_avro_walk *w,
                        rp_record *rec) {
    const rp_avro_walk_field *f = w->field;
    rec->event_id = walked_str(&f[F_EVENT_ID]);
    rec->account_id = walked_str(&f[F_ACCOUNT_ID]);
    rec->event_time = f[F_EVENT_TIME].num;
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        rp_delivery *d = &rec->u.delivery;
        d->message_id = walked_str(&f[D_MESSAGE_ID]);
        d->recipient = walked_str(&f[D_RECIPIENT]);
        d->has_sent_time = walked_has(&f[D_SENT_TIME]);
        d->sent_time = f[D_SENT_TIME].num;
        d->verified_recipient = f[D_VERIFIED_RECIPIENT].num != 0;
        d->simulator = f[D_SIMULATOR].num != 0;
        d->feedback_loop = f[D_FEEDBACK_LOOP].num != 0;
        break;
    }
    case RP_REC_BOUNCE: {
        rp_bounce *b = &rec->u.bounce;
        b->message_id = walked_str(&f[B_MESSAGE_ID]);
        b->recipient = walked_str(&f[B_RECIPIENT]);
        b->has_sent_time = walked_has(&f[B_SENT_TIME]);
        b->sent_time = f[B_SENT_TIME].num;
        b->bounce_type = (rp_bounce_type)f[B_BOUNCE_TYPE].num;
        b->bounce_subtype = (rp_bounce_subtype)f[B_BOUNCE_SUBTYPE].num;
        b->verified_recipient = f[B_VERIFIED_RECIPIENT].num != 0;
        b->simulator = f[B_SIMULATOR].num != 0;
        b->diagnostic = walked_opt_str(&f[B_DIAGNOSTIC]);
        break;
    }
    case RP_REC_COMPLAINT: {
        rp_complaint *m = &rec->u.complaint;
        const rp_avro_walk_field *r = &f[C_RECIPIENTS];
        m->message_id = walked_str(&f[C_MESSAGE_ID]);
        /* The walk stored the items in c->recipients (the caller has made
         * room for all of them). */
        m->recipients = r->count ? c->recipients + r->first : c->recipients;
        m->n_recipients = r->count;
        m->has_sent_time = walked_has(&f[C_SENT_TIME]);
        m->sent_time = f[C_SENT_TIME].num;
        m->feedback_type = (rp_feedback_type)f[C_FEEDBACK_TYPE].num;
        m->on_suppression_list = f[C_ON_SUPPRESSION_LIST].num != 0;
        m->simulator = f[C_SIMULATOR].num != 0;
        break;
    }
    case RP_REC_REPORT: {
        rp_report *r = &rec->u.report;
        r->kind = (rp_issue_kind)(f[R_KIND].num + RP_ISSUE__FIRST_REPORT);
        r->incidents = (int32_t)f[R_INCIDENTS].num;
        r->domain = walked_opt_str(&f[R_DOMAIN]);
        r->related_account_id = walked_opt_str(&f[R_RELATED_ACCOUNT_ID]);
        r->reporter = walked_opt_str(&f[R_REPORTER]);
        r->detail = walked_opt_str(&f[R_DETAIL]);
        break;
    }
    case RP_REC_ACTION: {
        rp_action *a = &rec->u.action;
        a->action = (rp_action_type)f[A_ACTION].num;
        a->has_issue = walked_has(&f[A_ISSUE]);
        a->issue = (rp_issue_kind)f[A_ISSUE].num;
        a->has_effective_time = walked_has(&f[A_EFFECTIVE_TIME]);
        a->effective_time = f[A_EFFECTIVE_TIME].num;
        a->related_account_id = walked_opt_str(&f[A_RELATED_ACCOUNT_ID]);
        a->note = walked_opt_str(&f[A_NOTE]);
        break;
    }
    default: break;
    }
}

/* Walks the datum with the string items going to c->recipients. */
static int walk_datum(rp_avro_codec *c, int slot, const uint8_t *body,
                      size_t body_len, char *errstr, size_t errstr_size) {
    rp_avro_walk *w = &c->walk;
    w->items = c->recipients;
    w->items_cap = c->recipients_cap;
    int n = rp_avro_check_walk(slot, body, body_len, w, errstr, errstr_size);
    return whole_datum(slot, n, body_len, errstr, errstr_size);
}

int rp_avro_decode(rp_avro_codec *c, rp_rec_type type, const void *buf,
                   size_t len, rp_record *rec, char *errstr,
                   size_t errstr_size) {
    if ((unsigned)type >= RP_REC__COUNT)
        return error(errstr, errstr_size, RP_EINVAL, "unknown record type %d",
                     (int)type);
    const int slot = (int)type;
    const uint8_t *body = NULL;
    size_t body_len = 0;
    int rc = datum_of(c, slot, buf, len, &body, &body_len, errstr, errstr_size);
    if (rc == 0)
        rc = walk_datum(c, slot, body, body_len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    if (c->walk.n_items > c->walk.items_cap) {
        /* More recipients than any complaint before: grow the array and
         * walk again, which stores them all. This happens a few times per
         * codec at most, since the array only grows. */
        if (grow_recipients(c, c->walk.n_items) < 0)
            return error(errstr, errstr_size, RP_ENOMEM, "out of memory");
        if ((rc = walk_datum(c, slot, body, body_len, errstr, errstr_size)) < 0)
            return rc;
    }
    if (c->walk.n_fields != c->slots[slot].n_fields)
        return error(errstr, errstr_size, RP_EINVAL,
                     "%s: the walk recorded %zu fields, expected %zu",
                     slot_records[slot], c->walk.n_fields,
                     c->slots[slot].n_fields);
    rp_record_init(rec, type);
    fill_walked(c, &c->walk, rec);
    return rp_record_check(rec, errstr, errstr_size);
}

static int fill_metric(const avro_value_t *v, rp_metric_snapshot *m) {
    int rc, e;
    TRY(get_enum(v, M_STATUS, &e));
    m->status = (rp_issue_status)e;
    TRY(get_opt_double(v, M_RATE, &m->has_rate, &m->rate));
    TRY(get_long(v, M_COUNT, &m->count));
    TRY(get_long(v, M_VOLUME, &m->volume));
    TRY(get_long(v, M_WINDOW_START, &m->window_start));
    TRY(get_long(v, M_WINDOW_END, &m->window_end));
    return 0;
fail:
    return rc;
}

/* Fills sc from a StatusChange value. Returns 0, an avro-c code, or
 * RP_ECONTRACT when there are more issues than issue kinds. */
static int fill_status_change(const avro_value_t *v, rp_status_change *sc) {
    int rc, e;
    avro_value_t child, arr;
    size_t n;
    TRY(get_enum(v, SC_PREVIOUS_STATUS, &e));
    sc->previous_status = (rp_account_status)e;
    TRY(get_enum(v, SC_STATUS, &e));
    sc->status = (rp_account_status)e;
    TRY(get_enum(v, SC_CAUSE, &e));
    sc->cause = (rp_issue_kind)e;
    TRY(get_opt_long(v, SC_REVIEW_ENDS_AT, &sc->has_review_end,
                     &sc->review_ends_at));
    TRY(get_child(v, SC_BOUNCE, &child));
    TRY(fill_metric(&child, &sc->bounce));
    TRY(get_child(v, SC_COMPLAINT, &child));
    TRY(fill_metric(&child, &sc->complaint));
    TRY(get_child(v, SC_ISSUES, &arr));
    TRY(avro_value_get_size(&arr, &n));
    if (n > RP_ISSUE__COUNT)
        return RP_ECONTRACT;
    sc->n_issues = n;
    for (size_t i = 0; i < n; i++) {
        rp_issue_state *is = &sc->issues[i];
        TRY(avro_value_get_by_index(&arr, i, &child, NULL));
        TRY(get_enum(&child, I_KIND, &e));
        is->kind = (rp_issue_kind)e;
        TRY(get_enum(&child, I_STATUS, &e));
        is->status = (rp_issue_status)e;
        TRY(get_long(&child, I_SINCE, &is->since));
        TRY(get_opt_long(&child, I_REVIEW_ENDS_AT, &is->has_review_end,
                         &is->review_ends_at));
    }
    return 0;
fail:
    return rc;
}

/* Fills n from a Notification value; its strings borrow the value.
 * Returns 0, an avro-c code, or RP_ECONTRACT when there are more actions
 * than rp_notification holds. */
static int fill_notification(const avro_value_t *v, rp_notification *n) {
    int rc, e;
    avro_value_t arr, item;
    size_t count;
    TRY(get_enum(v, N_ISSUE, &e));
    n->issue = (rp_issue_kind)e;
    TRY(get_enum(v, N_STAGE, &e));
    n->stage = (rp_stage)e;
    TRY(get_enum(v, N_ACCOUNT_STATUS, &e));
    n->account_status = (rp_account_status)e;
    TRY(get_cstr(v, N_TITLE, &n->title));
    TRY(get_cstr(v, N_WHY, &n->why));
    TRY(get_child(v, N_ACTIONS, &arr));
    TRY(avro_value_get_size(&arr, &count));
    if (count > RP_NOTICE_MAX_ACTIONS)
        return RP_ECONTRACT;
    n->n_actions = count;
    for (size_t i = 0; i < count; i++) {
        const char *p = NULL;
        size_t size = 0;
        TRY(avro_value_get_by_index(&arr, i, &item, NULL));
        TRY(avro_value_get_string(&item, &p, &size));
        n->actions[i] = p ? p : "";
    }
    TRY(get_opt_double(v, N_RATE, &n->has_rate, &n->rate));
    TRY(get_opt_double(v, N_THRESHOLD, &n->has_threshold, &n->threshold));
    TRY(get_opt_long(v, N_REVIEW_ENDS_AT, &n->has_review_end,
                     &n->review_ends_at));
    return 0;
fail:
    return rc;
}

int rp_avro_decode_event(rp_avro_codec *c, const void *buf, size_t len,
                         rp_event *ev, rp_status_change *sc, rp_notification *n,
                         char *errstr, size_t errstr_size) {
    const int slot = RP_SCHEMA_ID_STATUS;
    int rc = read_datum(c, slot, buf, len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    const avro_value_t *v = &c->slots[slot].dec;
    avro_value_t child;
    bool has_sc, has_n;
    int64_t sequence;
    int kind;
    memset(ev, 0, sizeof(*ev));
    TRY(get_str(v, E_ACCOUNT_ID, &ev->account_id));
    TRY(get_long(v, E_SEQUENCE, &sequence));
    TRY(get_long(v, E_EVENT_TIME, &ev->event_time));
    TRY(get_enum(v, E_KIND, &kind));
    ev->kind = (rp_event_kind)kind;
    if (ev->account_id.len == 0)
        return error(errstr, errstr_size, RP_ECONTRACT, "account_id is empty");
    if (sequence < 1)
        return error(errstr, errstr_size, RP_ECONTRACT,
                     "sequence is %lld, expected 1 or more",
                     (long long)sequence);
    ev->sequence = (uint64_t)sequence;

    TRY(get_opt(v, E_STATUS_CHANGE, &has_sc, &child));
    if (has_sc) {
        if (!sc)
            return error(errstr, errstr_size, RP_EINVAL,
                         "no rp_status_change to decode into");
        memset(sc, 0, sizeof(*sc));
        if ((rc = fill_status_change(&child, sc)) == RP_ECONTRACT)
            return error(errstr, errstr_size, RP_ECONTRACT,
                         "status_change lists more than %d issues",
                         RP_ISSUE__COUNT);
        if (rc != 0)
            goto fail;
        ev->status_change = sc;
    }
    TRY(get_opt(v, E_NOTIFICATION, &has_n, &child));
    if (has_n) {
        if (!n)
            return error(errstr, errstr_size, RP_EINVAL,
                         "no rp_notification to decode into");
        memset(n, 0, sizeof(*n));
        if ((rc = fill_notification(&child, n)) == RP_ECONTRACT)
            return error(errstr, errstr_size, RP_ECONTRACT,
                         "notification lists more than %d actions",
                         RP_NOTICE_MAX_ACTIONS);
        if (rc != 0)
            goto fail;
        ev->notification = n;
    }
    /* Exactly the part that kind names must be present. */
    if (has_sc != (ev->kind == RP_EVENT_STATUS_CHANGE) ||
        has_n != (ev->kind == RP_EVENT_NOTIFICATION))
        return error(errstr, errstr_size, RP_ECONTRACT,
                     "kind is %s but status_change is %s and notification "
                     "is %s",
                     rp_event_kind_name(ev->kind), has_sc ? "set" : "null",
                     has_n ? "set" : "null");
    return 0;

fail:
    return error(errstr, errstr_size, avro_failure(rc, RP_EBADDATA),
                 "ReputationEvent: the decoded value does not have the "
                 "expected shape: %s",
                 avro_strerror());
}

/* ------------------------------------------------------------ writing */

/* The setters return 0 or avro-c's error code, as the getters do. */

/* Hands avro-c the caller's bytes without copying them. avro-c counts a
 * terminating NUL in a string's size but only ever reads size - 1 bytes
 * when it sizes or writes the string, so the bytes need no terminator;
 * the wrapped buffer has no free function, so avro-c never frees them. A
 * null pointer is written as the empty string. */
static int give_str(avro_value_t *f, const char *p, size_t len) {
    avro_wrapped_buffer_t wb;
    if (!p) {
        p = "";
        len = 0;
    }
    int rc = avro_wrapped_buffer_new(&wb, p, len + 1);
    return rc ? rc : avro_value_give_string_len(f, &wb);
}

static int set_str(avro_value_t *rec, size_t i, rp_str s) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : give_str(&f, s.ptr, s.len);
}

static int set_cstr(avro_value_t *rec, size_t i, const char *s) {
    return set_str(rec, i, rp_str_c(s));
}

static int set_long(avro_value_t *rec, size_t i, int64_t x) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_set_long(&f, x);
}

static int set_int(avro_value_t *rec, size_t i, int32_t x) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_set_int(&f, x);
}

static int set_bool(avro_value_t *rec, size_t i, bool x) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_set_boolean(&f, x);
}

static int set_enum(avro_value_t *rec, size_t i, int x) {
    avro_value_t f;
    int rc = avro_value_get_by_index(rec, i, &f, NULL);
    return rc ? rc : avro_value_set_enum(&f, x);
}

/* Selects the null branch (has == false) or the value branch of a
 * nullable field; *out is the value branch. */
static int set_opt(avro_value_t *rec, size_t i, bool has, avro_value_t *out) {
    avro_value_t u;
    int rc = avro_value_get_by_index(rec, i, &u, NULL);
    if (rc == 0)
        rc = avro_value_set_branch(&u, has ? 1 : 0, out);
    if (rc == 0 && !has)
        rc = avro_value_set_null(out);
    return rc;
}

static int set_opt_str(avro_value_t *rec, size_t i, rp_str s) {
    avro_value_t b;
    int rc = set_opt(rec, i, s.ptr != NULL, &b);
    return rc == 0 && s.ptr ? give_str(&b, s.ptr, s.len) : rc;
}

static int set_opt_long(avro_value_t *rec, size_t i, bool has, int64_t x) {
    avro_value_t b;
    int rc = set_opt(rec, i, has, &b);
    return rc == 0 && has ? avro_value_set_long(&b, x) : rc;
}

static int set_opt_double(avro_value_t *rec, size_t i, bool has, double x) {
    avro_value_t b;
    int rc = set_opt(rec, i, has, &b);
    return rc == 0 && has ? avro_value_set_double(&b, x) : rc;
}

static int set_opt_enum(avro_value_t *rec, size_t i, bool has, int x) {
    avro_value_t b;
    int rc = set_opt(rec, i, has, &b);
    return rc == 0 && has ? avro_value_set_enum(&b, x) : rc;
}

/* Sizes the slot's encoding value and writes it, framed, into c->out. */
static int write_datum(rp_avro_codec *c, int slot, const void **out,
                       size_t *out_len, char *errstr, size_t errstr_size) {
    slot_state *s = &c->slots[slot];
    size_t size;
    int rc = avro_value_sizeof(&s->enc, &size);
    if (rc != 0)
        return error(errstr, errstr_size, avro_failure(rc, RP_EINVAL),
                     "%s: cannot size the record: %s", slot_records[slot],
                     avro_strerror());
    size_t header = c->framing == RP_FRAMING_CONFLUENT ? CONFLUENT_HEADER : 0;
    if (size > RP_AVRO_MAX_RECORD - header)
        return error(errstr, errstr_size, RP_ETOOBIG,
                     "%s: the record takes %zu bytes, more than the limit "
                     "of %d",
                     slot_records[slot], size + header, RP_AVRO_MAX_RECORD);
    rp_buf_reset(&c->out);
    if (rp_buf_reserve(&c->out, header + size) < 0)
        return error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    uint8_t *p = (uint8_t *)c->out.data;
    if (header) {
        uint32_t id = (uint32_t)c->schema_ids[slot];
        p[0] = 0;
        p[1] = (uint8_t)(id >> 24);
        p[2] = (uint8_t)(id >> 16);
        p[3] = (uint8_t)(id >> 8);
        p[4] = (uint8_t)id;
    }
    avro_writer_memory_set_dest(s->writer, (const char *)p + header,
                                (int64_t)size);
    rc = avro_value_write(s->writer, &s->enc);
    if (rc != 0 || avro_writer_tell(s->writer) != (int64_t)size)
        return error(errstr, errstr_size, avro_failure(rc, RP_EINVAL),
                     "%s: cannot write the record: %s", slot_records[slot],
                     rc ? avro_strerror() : "size mismatch");
    c->out.len = header + size;
    c->out.data[c->out.len] = '\0';
    *out = c->out.data;
    *out_len = c->out.len;
    return 0;
}

/* Refuses what Avro cannot represent: enum values outside their symbols. */
static int check_encodable(const rp_record *rec, char *errstr,
                           size_t errstr_size) {
    const char *bad = NULL;
    switch (rec->type) {
    case RP_REC_BOUNCE:
        if ((unsigned)rec->u.bounce.bounce_type >= RP_BOUNCE__COUNT)
            bad = "bounce_type";
        else if ((unsigned)rec->u.bounce.bounce_subtype >= RP_BSUB__COUNT)
            bad = "bounce_subtype";
        break;
    case RP_REC_COMPLAINT:
        if ((unsigned)rec->u.complaint.feedback_type >= RP_FEEDBACK__COUNT)
            bad = "feedback_type";
        else if (rec->u.complaint.n_recipients && !rec->u.complaint.recipients)
            return error(errstr, errstr_size, RP_EINVAL,
                         "Complaint: recipients is NULL but n_recipients is "
                         "%zu",
                         rec->u.complaint.n_recipients);
        break;
    case RP_REC_REPORT:
        if (rec->u.report.kind < RP_ISSUE__FIRST_REPORT ||
            rec->u.report.kind >= RP_ISSUE__COUNT)
            bad = "kind";
        break;
    case RP_REC_ACTION:
        if ((unsigned)rec->u.action.action >= RP_ACTION__COUNT)
            bad = "action";
        else if (rec->u.action.has_issue &&
                 (unsigned)rec->u.action.issue >= RP_ISSUE__COUNT)
            bad = "issue";
        break;
    default: break;
    }
    if (bad)
        return error(errstr, errstr_size, RP_EINVAL,
                     "%s: %s is not one of the enum's symbols",
                     slot_records[rec->type], bad);
    return 0;
}

static int set_record(avro_value_t *v, const rp_record *rec) {
    int rc;
    TRY(set_str(v, F_EVENT_ID, rec->event_id));
    TRY(set_str(v, F_ACCOUNT_ID, rec->account_id));
    TRY(set_long(v, F_EVENT_TIME, rec->event_time));
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        const rp_delivery *d = &rec->u.delivery;
        TRY(set_str(v, D_MESSAGE_ID, d->message_id));
        TRY(set_str(v, D_RECIPIENT, d->recipient));
        TRY(set_opt_long(v, D_SENT_TIME, d->has_sent_time, d->sent_time));
        TRY(set_bool(v, D_VERIFIED_RECIPIENT, d->verified_recipient));
        TRY(set_bool(v, D_SIMULATOR, d->simulator));
        TRY(set_bool(v, D_FEEDBACK_LOOP, d->feedback_loop));
        break;
    }
    case RP_REC_BOUNCE: {
        const rp_bounce *b = &rec->u.bounce;
        TRY(set_str(v, B_MESSAGE_ID, b->message_id));
        TRY(set_str(v, B_RECIPIENT, b->recipient));
        TRY(set_opt_long(v, B_SENT_TIME, b->has_sent_time, b->sent_time));
        TRY(set_enum(v, B_BOUNCE_TYPE, (int)b->bounce_type));
        TRY(set_enum(v, B_BOUNCE_SUBTYPE, (int)b->bounce_subtype));
        TRY(set_bool(v, B_VERIFIED_RECIPIENT, b->verified_recipient));
        TRY(set_bool(v, B_SIMULATOR, b->simulator));
        TRY(set_opt_str(v, B_DIAGNOSTIC, b->diagnostic));
        break;
    }
    case RP_REC_COMPLAINT: {
        const rp_complaint *m = &rec->u.complaint;
        avro_value_t arr, item;
        TRY(set_str(v, C_MESSAGE_ID, m->message_id));
        TRY(avro_value_get_by_index(v, C_RECIPIENTS, &arr, NULL));
        for (size_t i = 0; i < m->n_recipients; i++) {
            TRY(avro_value_append(&arr, &item, NULL));
            TRY(give_str(&item, m->recipients[i].ptr, m->recipients[i].len));
        }
        TRY(set_opt_long(v, C_SENT_TIME, m->has_sent_time, m->sent_time));
        TRY(set_enum(v, C_FEEDBACK_TYPE, (int)m->feedback_type));
        TRY(set_bool(v, C_ON_SUPPRESSION_LIST, m->on_suppression_list));
        TRY(set_bool(v, C_SIMULATOR, m->simulator));
        break;
    }
    case RP_REC_REPORT: {
        const rp_report *r = &rec->u.report;
        TRY(set_enum(v, R_KIND, (int)(r->kind - RP_ISSUE__FIRST_REPORT)));
        TRY(set_int(v, R_INCIDENTS, r->incidents));
        TRY(set_opt_str(v, R_DOMAIN, r->domain));
        TRY(set_opt_str(v, R_RELATED_ACCOUNT_ID, r->related_account_id));
        TRY(set_opt_str(v, R_REPORTER, r->reporter));
        TRY(set_opt_str(v, R_DETAIL, r->detail));
        break;
    }
    case RP_REC_ACTION: {
        const rp_action *a = &rec->u.action;
        TRY(set_enum(v, A_ACTION, (int)a->action));
        TRY(set_opt_enum(v, A_ISSUE, a->has_issue, (int)a->issue));
        TRY(set_opt_long(v, A_EFFECTIVE_TIME, a->has_effective_time,
                         a->effective_time));
        TRY(set_opt_str(v, A_RELATED_ACCOUNT_ID, a->related_account_id));
        TRY(set_opt_str(v, A_NOTE, a->note));
        break;
    }
    default: return EINVAL;
    }
    return 0;
fail:
    return rc;
}

int rp_avro_encode(rp_avro_codec *c, const rp_record *rec, const void **out,
                   size_t *out_len, char *errstr, size_t errstr_size) {
    if ((unsigned)rec->type >= RP_REC__COUNT)
        return error(errstr, errstr_size, RP_EINVAL, "unknown record type %d",
                     (int)rec->type);
    int rc = check_encodable(rec, errstr, errstr_size);
    if (rc < 0)
        return rc;
    avro_value_t *v = &c->slots[rec->type].enc;
    rc = avro_value_reset(v);
    if (rc == 0)
        rc = set_record(v, rec);
    if (rc != 0)
        return error(errstr, errstr_size, avro_failure(rc, RP_EINVAL),
                     "%s: cannot fill the record: %s", slot_records[rec->type],
                     avro_strerror());
    return write_datum(c, (int)rec->type, out, out_len, errstr, errstr_size);
}

static bool issue_ok(rp_issue_kind k) {
    return (unsigned)k < RP_ISSUE__COUNT;
}
static bool istatus_ok(rp_issue_status s) {
    return (unsigned)s < RP_ISTATUS__COUNT;
}
static bool astatus_ok(rp_account_status s) {
    return (unsigned)s < RP_ASTATUS__COUNT;
}

/* Refuses events that the schema cannot carry. */
static int check_event(const rp_event *ev, char *errstr, size_t errstr_size) {
    const char *bad = NULL;
    if (ev->sequence > (uint64_t)INT64_MAX)
        bad = "sequence is larger than an Avro long";
    else if (ev->kind == RP_EVENT_STATUS_CHANGE) {
        const rp_status_change *sc = ev->status_change;
        if (!sc)
            bad = "kind is STATUS_CHANGE but status_change is NULL";
        else if (!astatus_ok(sc->previous_status) || !astatus_ok(sc->status))
            bad = "status_change has an account status out of range";
        else if (!issue_ok(sc->cause))
            bad = "status_change.cause is out of range";
        else if (!istatus_ok(sc->bounce.status) ||
                 !istatus_ok(sc->complaint.status))
            bad = "status_change has a metric status out of range";
        else if (sc->n_issues > RP_ISSUE__COUNT)
            bad = "status_change lists more issues than there are kinds";
        else
            for (size_t i = 0; i < sc->n_issues && !bad; i++)
                if (!issue_ok(sc->issues[i].kind) ||
                    !istatus_ok(sc->issues[i].status))
                    bad = "status_change.issues has a value out of range";
    } else if (ev->kind == RP_EVENT_NOTIFICATION) {
        const rp_notification *n = ev->notification;
        if (!n)
            bad = "kind is NOTIFICATION but notification is NULL";
        else if (!issue_ok(n->issue) || (unsigned)n->stage >= RP_STAGE__COUNT ||
                 !astatus_ok(n->account_status))
            bad = "notification has an enum value out of range";
        else if (n->n_actions > RP_NOTICE_MAX_ACTIONS)
            bad = "notification lists too many actions";
    } else
        bad = "kind is out of range";
    if (bad)
        return error(errstr, errstr_size, RP_EINVAL, "ReputationEvent: %s",
                     bad);
    return 0;
}

static int set_metric(avro_value_t *rec, size_t i,
                      const rp_metric_snapshot *m) {
    avro_value_t v;
    int rc;
    TRY(avro_value_get_by_index(rec, i, &v, NULL));
    TRY(set_enum(&v, M_STATUS, (int)m->status));
    TRY(set_opt_double(&v, M_RATE, m->has_rate, m->rate));
    TRY(set_long(&v, M_COUNT, m->count));
    TRY(set_long(&v, M_VOLUME, m->volume));
    TRY(set_long(&v, M_WINDOW_START, m->window_start));
    TRY(set_long(&v, M_WINDOW_END, m->window_end));
    return 0;
fail:
    return rc;
}

static int set_event(avro_value_t *v, const rp_event *ev, rp_str event_id) {
    const rp_status_change *sc =
        ev->kind == RP_EVENT_STATUS_CHANGE ? ev->status_change : NULL;
    const rp_notification *n =
        ev->kind == RP_EVENT_NOTIFICATION ? ev->notification : NULL;
    avro_value_t b, arr, item;
    int rc;
    TRY(set_str(v, E_EVENT_ID, event_id));
    TRY(set_str(v, E_ACCOUNT_ID, ev->account_id));
    TRY(set_long(v, E_SEQUENCE, (int64_t)ev->sequence));
    TRY(set_long(v, E_EVENT_TIME, ev->event_time));
    TRY(set_enum(v, E_KIND, (int)ev->kind));
    TRY(set_opt(v, E_STATUS_CHANGE, sc != NULL, &b));
    if (sc) {
        TRY(set_enum(&b, SC_PREVIOUS_STATUS, (int)sc->previous_status));
        TRY(set_enum(&b, SC_STATUS, (int)sc->status));
        TRY(set_enum(&b, SC_CAUSE, (int)sc->cause));
        TRY(set_opt_long(&b, SC_REVIEW_ENDS_AT, sc->has_review_end,
                         sc->review_ends_at));
        TRY(set_metric(&b, SC_BOUNCE, &sc->bounce));
        TRY(set_metric(&b, SC_COMPLAINT, &sc->complaint));
        TRY(avro_value_get_by_index(&b, SC_ISSUES, &arr, NULL));
        TRY(avro_value_reset(&arr));
        for (size_t i = 0; i < sc->n_issues; i++) {
            const rp_issue_state *is = &sc->issues[i];
            TRY(avro_value_append(&arr, &item, NULL));
            TRY(set_enum(&item, I_KIND, (int)is->kind));
            TRY(set_enum(&item, I_STATUS, (int)is->status));
            TRY(set_long(&item, I_SINCE, is->since));
            TRY(set_opt_long(&item, I_REVIEW_ENDS_AT, is->has_review_end,
                             is->review_ends_at));
        }
    }
    TRY(set_opt(v, E_NOTIFICATION, n != NULL, &b));
    if (n) {
        TRY(set_enum(&b, N_ISSUE, (int)n->issue));
        TRY(set_enum(&b, N_STAGE, (int)n->stage));
        TRY(set_enum(&b, N_ACCOUNT_STATUS, (int)n->account_status));
        TRY(set_cstr(&b, N_TITLE, n->title));
        TRY(set_cstr(&b, N_WHY, n->why));
        TRY(avro_value_get_by_index(&b, N_ACTIONS, &arr, NULL));
        TRY(avro_value_reset(&arr));
        for (size_t i = 0; i < n->n_actions; i++) {
            const char *a = n->actions[i];
            TRY(avro_value_append(&arr, &item, NULL));
            TRY(give_str(&item, a, a ? strlen(a) : 0));
        }
        TRY(set_opt_double(&b, N_RATE, n->has_rate, n->rate));
        TRY(set_opt_double(&b, N_THRESHOLD, n->has_threshold, n->threshold));
        TRY(set_opt_long(&b, N_REVIEW_ENDS_AT, n->has_review_end,
                         n->review_ends_at));
    }
    return 0;
fail:
    return rc;
}

int rp_avro_encode_event(rp_avro_codec *c, const rp_event *ev, const void **out,
                         size_t *out_len, char *errstr, size_t errstr_size) {
    const int slot = RP_SCHEMA_ID_STATUS;
    int rc = check_event(ev, errstr, errstr_size);
    if (rc < 0)
        return rc;
    /* The event_id is built here rather than with rp_event_id_format() so
     * that no account_id is too long to encode. */
    rp_buf_reset(&c->event_id);
    if (rp_buf_append(&c->event_id,
                      ev->account_id.ptr ? ev->account_id.ptr : "",
                      ev->account_id.len) < 0 ||
        rp_buf_printf(&c->event_id, ":%llu", (unsigned long long)ev->sequence) <
            0)
        return error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    rp_str event_id = {c->event_id.data, c->event_id.len};
    avro_value_t *v = &c->slots[slot].enc;
    rc = avro_value_reset(v);
    if (rc == 0)
        rc = set_event(v, ev, event_id);
    if (rc != 0)
        return error(errstr, errstr_size, avro_failure(rc, RP_EINVAL),
                     "ReputationEvent: cannot fill the record: %s",
                     avro_strerror());
    return write_datum(c, slot, out, out_len, errstr, errstr_size);
}
