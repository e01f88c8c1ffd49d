/*
 * avro_codec.h - the Avro codec object and what the files of the codec
 * share. Private to src/codec.
 *
 * The codec of repute/avro.h is one object used by five files, each of
 * one subject: avro.c builds it (the schemas parsed, their layouts
 * checked, the avro-c values, readers and writers created), avro_decode.c
 * decodes input records on the hot path by the validator's walk,
 * avro_generic.c reads records and ReputationEvents through avro-c's value
 * API, avro_encode.c writes them, and avro_writers.c keeps the writer
 * schemas of other ids and their decode plans (avro_plan.h). This header
 * holds what they all need: the codec's struct, the field indexes of every
 * record in schema order (the layouts that avro.c checks at start-up, so
 * that the other files can read and write fields by index), the record
 * names for messages, and the error helpers.
 *
 * It also holds the framing of input (unframe(), datum_of(),
 * whole_datum()) as static inline functions: the hot path runs them for
 * every record, and being inline in the file that calls them keeps them
 * free of a call, as they were when the codec was one file.
 */
#ifndef REPUTE_CODEC_AVRO_CODEC_H
#define REPUTE_CODEC_AVRO_CODEC_H

#include <avro.h>
#include <errno.h>

#include "codec/avro_walk.h"
#include "repute/avro.h"
#include "repute/buf.h"

#define SLOT_COUNT       RP_SCHEMA_ID__COUNT
#define CONFLUENT_HEADER 5

/* ------------------------------------------------------------ layouts */

/* Field indexes of each record, in schema order. The five inputs share
 * their first three fields; tenant (and the Action's actor) come last, the
 * trailing defaults appended after the first release (docs/schemas.md). */
enum { F_EVENT_ID, F_ACCOUNT_ID, F_EVENT_TIME };
enum {
    D_MESSAGE_ID = 3,
    D_RECIPIENT,
    D_SENT_TIME,
    D_VERIFIED_RECIPIENT,
    D_SIMULATOR,
    D_FEEDBACK_LOOP,
    D_TENANT
};
enum {
    B_MESSAGE_ID = 3,
    B_RECIPIENT,
    B_SENT_TIME,
    B_BOUNCE_TYPE,
    B_BOUNCE_SUBTYPE,
    B_VERIFIED_RECIPIENT,
    B_SIMULATOR,
    B_DIAGNOSTIC,
    B_TENANT
};
enum {
    C_MESSAGE_ID = 3,
    C_RECIPIENTS,
    C_SENT_TIME,
    C_FEEDBACK_TYPE,
    C_ON_SUPPRESSION_LIST,
    C_SIMULATOR,
    C_TENANT
};
enum {
    R_KIND = 3,
    R_INCIDENTS,
    R_DOMAIN,
    R_RELATED_ACCOUNT_ID,
    R_REPORTER,
    R_DETAIL,
    R_TENANT
};
enum {
    A_ACTION = 3,
    A_ISSUE,
    A_EFFECTIVE_TIME,
    A_RELATED_ACCOUNT_ID,
    A_NOTE,
    A_TENANT,
    A_ACTOR
};
enum {
    E_EVENT_ID,
    E_ACCOUNT_ID,
    E_SEQUENCE,
    E_EVENT_TIME,
    E_KIND,
    E_STATUS_CHANGE,
    E_NOTIFICATION,
    E_TENANT
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

/* The record names, for messages ("Delivery", ..., "ReputationEvent"). */
extern const char *const rp_avro_record_names[SLOT_COUNT];

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

/* A writer schema id the codec knows (avro_writers.c): resolvable (rc 0,
 * exact or through a plan) or not (rc < 0, with the reason). */
typedef struct rp_avro_writer {
    int32_t id;
    int slot;
    int rc;                    /* 0, RP_ECONTRACT or RP_EINVAL */
    char *reason;              /* when rc < 0 */
    struct rp_avro_plan *plan; /* NULL for the exact schema */
    bool peek_direct; /* the writer starts with repute's first three fields */
} rp_avro_writer;

struct rp_avro_codec {
    rp_framing framing;
    int32_t schema_ids[SLOT_COUNT];
    /* Writer schemas (avro_writers.c): an open-addressing table keyed by
     * id, allocated at the first rp_avro_codec_add_writer(). */
    bool writers_enabled;
    rp_avro_writer **writers;
    size_t writers_cap, n_writers;
    rp_buf resolved; /* a record rewritten by its writer's plan */
    /* A record of an earlier schema with its trailing defaults appended
     * (avro_generic.c), for the decoders that read through avro-c. */
    rp_buf completed;
    /* rp_avro_decode() asks (want_walk) for the writer's plan to be run in
     * walk mode rather than rewriting the record; unframe() then hands the
     * writer's datum back with the plan in walk_plan. */
    bool want_walk;
    const struct rp_avro_plan *walk_plan;
    rp_buf scratch; /* the plan's room for reordering fields */
    /* A record rewritten for a peek, apart from resolved, so that a peek
     * never disturbs a record decoded before it. */
    rp_buf peeked;
    slot_state slots[SLOT_COUNT];
    rp_buf out;         /* the last encoded datum, with its framing */
    rp_buf event_id;    /* "<account_id>:<sequence>" while encoding an event */
    rp_str *recipients; /* of the last decoded complaint */
    size_t recipients_cap;
    rp_avro_walk walk; /* what the direct decoder's walk recorded */
};

/* Writes the message into errstr (when there is room) and returns code. */
int rp_avro_error(char *errstr, size_t errstr_size, int code, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* An avro-c failure as an RP_E* code: running out of memory stays what it
 * is, anything else becomes `otherwise`. */
static inline int rp_avro_failure(int avro_rc, int otherwise) {
    return avro_rc == ENOMEM ? RP_ENOMEM : otherwise;
}

/* The getters of avro_generic.c and the setters of avro_encode.c return 0
 * or avro-c's error code. With the layouts checked at start-up and the
 * datum validated before avro-c read it, the getters cannot fail in
 * practice; they check anyway, so that a broken invariant is an error and
 * not a crash. TRY runs one of them and jumps to fail: on an error. */
#define TRY(expr)                                                              \
    do {                                                                       \
        if ((rc = (expr)) != 0)                                                \
            goto fail;                                                         \
    } while (0)

/* ------------------------------------------------------------ framing */

/* The body of a framed record whose id is not the slot's pinned one
 * (avro_writers.c): through its writer schema, or the error. */
int rp_avro_writer_body(rp_avro_codec *c, int slot, int32_t id,
                        const uint8_t *buf, size_t len, const uint8_t **body,
                        size_t *body_len, char *errstr, size_t errstr_size);

/* Frees the writer schemas and their buffers (at codec destruction). */
void rp_avro_writers_free(rp_avro_codec *c);

/* Splits off the framing. The caller has checked the size limit. */
static inline int unframe(rp_avro_codec *c, int slot, const uint8_t *buf,
                          size_t len, const uint8_t **body, size_t *body_len,
                          char *errstr, size_t errstr_size) {
    *body = buf;
    *body_len = len;
    if (c->framing != RP_FRAMING_CONFLUENT)
        return 0;
    if (len < CONFLUENT_HEADER)
        return rp_avro_error(
            errstr, errstr_size, RP_ETRUNC,
            "%s: %zu bytes cannot hold the 5-byte Confluent header",
            rp_avro_record_names[slot], len);
    if (buf[0] != 0)
        return rp_avro_error(
            errstr, errstr_size, RP_EBADDATA,
            "%s: magic byte is 0x%02x, expected 0x00 (Confluent "
            "wire format)",
            rp_avro_record_names[slot], buf[0]);
    int32_t id = (int32_t)((uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
                           (uint32_t)buf[3] << 8 | (uint32_t)buf[4]);
    if (id != c->schema_ids[slot] || id == RP_AVRO_NO_ID)
        return rp_avro_writer_body(c, slot, id, buf, len, body, body_len,
                                   errstr, errstr_size);
    *body = buf + CONFLUENT_HEADER;
    *body_len = len - CONFLUENT_HEADER;
    return 0;
}

/* The datum inside a framed input: the input checks, the size limit and
 * the framing. */
static inline int datum_of(rp_avro_codec *c, int slot, const void *buf,
                           size_t len, const uint8_t **body, size_t *body_len,
                           char *errstr, size_t errstr_size) {
    if (!buf && len)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL, "no input buffer");
    if (len > RP_AVRO_MAX_RECORD)
        return rp_avro_error(errstr, errstr_size, RP_ETOOBIG,
                             "%s: %zu bytes, more than the limit of %d",
                             rp_avro_record_names[slot], len,
                             RP_AVRO_MAX_RECORD);
    return unframe(c, slot, buf ? buf : (const void *)"", len, body, body_len,
                   errstr, errstr_size);
}

/* The result of rp_avro_check() or rp_avro_check_walk() (n) for a datum of
 * body_len bytes: the error, or trailing bytes, or 0. */
static inline int whole_datum(int slot, int n, size_t body_len, char *errstr,
                              size_t errstr_size) {
    if (n < 0)
        return n;
    if ((size_t)n != body_len)
        return rp_avro_error(errstr, errstr_size, RP_EBADDATA,
                             "%s: %zu trailing bytes after the record",
                             rp_avro_record_names[slot], body_len - (size_t)n);
    return 0;
}

#endif
