/*
 * avro_writers.c - the writer schemas a codec knows, by schema id: what
 * rp_avro_codec_add_writer() learnt of each, and the slow path of the
 * framing that uses it.
 *
 * A Schema Registry gives each schema version an id, and a Confluent-framed
 * record carries the id of the schema it was written with. The codec keeps,
 * for each id it has been told of, the outcome of resolving that schema
 * against repute's own: exact (the parsed schemas are equal, so the bytes
 * are already in repute's encoding and the fast path reads them as they
 * are), a decode plan (avro_plan.h), or the error and its reason. An id's
 * schema never changes, so the outcome is decided once, when the schema is
 * added, and each record of that id costs a table look-up: an
 * open-addressing table of pointers keyed by id, which holds at most
 * RP_AVRO_MAX_WRITERS entries in twice as many buckets so that probes stay
 * short.
 *
 * unframe() (avro_codec.h) keeps the pinned id on its inline fast path and
 * calls rp_avro_writer_body() only for another id. Without
 * rp_avro_codec_enable_writers() and without writers added, that function
 * gives exactly the error unframe() always gave, so that repute without a
 * registry behaves as before.
 */
#include "repute/avro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_codec.h"
#include "codec/avro_plan.h"

#define WRITERS_BUCKETS (2 * RP_AVRO_MAX_WRITERS) /* a power of two */

static size_t bucket_of(int32_t id) {
    /* Registry ids are small consecutive integers: a multiplicative hash
     * spreads them over the buckets. */
    return ((uint32_t)id * 2654435761u) & (WRITERS_BUCKETS - 1);
}

static rp_avro_writer *find_writer(const rp_avro_codec *c, int32_t id) {
    if (!c->writers)
        return NULL;
    for (size_t i = bucket_of(id);; i = (i + 1) & (WRITERS_BUCKETS - 1)) {
        rp_avro_writer *w = c->writers[i];
        if (!w || w->id == id)
            return w;
    }
}

static bool is_pinned(const rp_avro_codec *c, int32_t id) {
    if (c->framing != RP_FRAMING_CONFLUENT || id == RP_AVRO_NO_ID)
        return false;
    for (int i = 0; i < SLOT_COUNT; i++)
        if (c->schema_ids[i] == id)
            return true;
    return false;
}

void rp_avro_codec_enable_writers(rp_avro_codec *c) {
    c->writers_enabled = true;
}

bool rp_avro_codec_knows_writer(const rp_avro_codec *c, int32_t schema_id) {
    return is_pinned(c, schema_id) || find_writer(c, schema_id) != NULL;
}

int rp_avro_framed_schema_id(const void *buf, size_t len, int32_t *id) {
    const uint8_t *b = buf;
    if (!buf || len < CONFLUENT_HEADER || b[0] != 0)
        return RP_EBADDATA;
    *id = (int32_t)((uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 |
                    (uint32_t)b[3] << 8 | (uint32_t)b[4]);
    return 0;
}

void rp_avro_writers_free(rp_avro_codec *c) {
    rp_buf_free(&c->resolved);
    rp_buf_free(&c->scratch);
    rp_buf_free(&c->peeked);
    if (!c->writers)
        return;
    for (size_t i = 0; i < WRITERS_BUCKETS; i++) {
        rp_avro_writer *w = c->writers[i];
        if (!w)
            continue;
        rp_avro_plan_free(w->plan);
        free(w->reason);
        free(w);
    }
    free(c->writers);
    c->writers = NULL;
}

/* Resolves the parsed writer schema against the slot's reader schema into
 * w: exact, a plan, or an error with its reason in errstr. */
static int resolve_writer(rp_avro_codec *c, rp_avro_writer *w, const char *json,
                          char *errstr, size_t errstr_size) {
    avro_schema_t schema = NULL;
    char why[256] = "";
    int rc = rp_avro_json_check_names(json, why, sizeof(why));
    if (rc < 0)
        return rp_avro_error(errstr, errstr_size, rc,
                             "%s: schema id %d is not a valid Avro schema: %s",
                             rp_avro_record_names[w->slot], (int)w->id, why);
    if (avro_schema_from_json_length(json, strlen(json), &schema) != 0)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "%s: schema id %d is not a valid Avro schema: %s",
                             rp_avro_record_names[w->slot], (int)w->id,
                             avro_strerror());
    avro_schema_t reader = c->slots[w->slot].schema;
    if (avro_schema_equal(schema, reader)) {
        w->peek_direct = true; /* exact: no plan */
    } else {
        char reason[256] = "";
        rc = rp_avro_plan_compile(schema, reader, rp_avro_schema_json(w->slot),
                                  &w->plan, &w->peek_direct, reason,
                                  sizeof(reason));
        /* A schema too large or deep for a plan is valid Avro that repute
         * cannot read: unresolvable, like any other, with its reason. */
        if (rc == RP_EINVAL)
            rc = RP_ECONTRACT;
        if (rc < 0)
            rp_avro_error(errstr, errstr_size, rc,
                          "%s: writer schema id %d cannot be read: %s",
                          rp_avro_record_names[w->slot], (int)w->id, reason);
    }
    avro_schema_decref(schema);
    return rc;
}

int rp_avro_codec_add_writer(rp_avro_codec *c, int slot, int32_t schema_id,
                             const char *schema_json, char *errstr,
                             size_t errstr_size) {
    if (slot < 0 || slot >= SLOT_COUNT || !schema_json)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "add_writer: bad slot %d or no schema", slot);
    if (rp_avro_codec_knows_writer(c, schema_id))
        return 0;
    if (c->n_writers >= RP_AVRO_MAX_WRITERS)
        return rp_avro_error(errstr, errstr_size, RP_ENOSPACE,
                             "%s: schema id %d is one writer schema more "
                             "than the %d a codec remembers",
                             rp_avro_record_names[slot], (int)schema_id,
                             RP_AVRO_MAX_WRITERS);
    if (!c->writers &&
        !(c->writers = calloc(WRITERS_BUCKETS, sizeof(*c->writers))))
        return rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    rp_avro_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    w->id = schema_id;
    w->slot = slot;
    char reason[320] = "";
    w->rc = resolve_writer(c, w, schema_json, reason, sizeof(reason));
    if (w->rc == RP_ENOMEM) {
        rp_avro_plan_free(w->plan);
        free(w);
        return rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    }
    if (w->rc < 0 && !(w->reason = strdup(reason))) {
        free(w);
        return rp_avro_error(errstr, errstr_size, RP_ENOMEM, "out of memory");
    }
    size_t i = bucket_of(schema_id);
    while (c->writers[i])
        i = (i + 1) & (WRITERS_BUCKETS - 1);
    c->writers[i] = w;
    c->n_writers++;
    if (w->rc < 0)
        return rp_avro_error(errstr, errstr_size, w->rc, "%s", w->reason);
    return 0;
}

/* The writer of an id that is not pinned for the slot, or the error. */
static int writer_of(rp_avro_codec *c, int slot, int32_t id,
                     rp_avro_writer **out, char *errstr, size_t errstr_size) {
    const char *name = rp_avro_record_names[slot];
    rp_avro_writer *w = find_writer(c, id);
    /* In registry mode, another slot's pinned id is known
     * (rp_avro_codec_knows_writer()): never "not known yet", which would
     * have the caller wait for ever. (Without registry mode, the message
     * stays the one below, as it always was.) */
    for (int i = 0; !w && c->writers_enabled && i < SLOT_COUNT; i++)
        if (i != slot && id != RP_AVRO_NO_ID && c->schema_ids[i] == id)
            return rp_avro_error(errstr, errstr_size, RP_EBADDATA,
                                 "%s: schema id %d is the id of %s", name,
                                 (int)id, rp_avro_record_names[i]);
    if (!w && c->writers_enabled)
        return rp_avro_error(errstr, errstr_size, RP_ENOSCHEMA,
                             "%s: schema id %d is not known yet", name,
                             (int)id);
    if (!w)
        return rp_avro_error(errstr, errstr_size, RP_EBADDATA,
                             "%s: schema id is %d, expected %d", name, (int)id,
                             (int)c->schema_ids[slot]);
    if (w->rc < 0)
        return rp_avro_error(errstr, errstr_size, w->rc, "%s", w->reason);
    if (w->slot != slot)
        return rp_avro_error(errstr, errstr_size, RP_EBADDATA,
                             "%s: schema id %d is a writer schema of %s", name,
                             (int)id, rp_avro_record_names[w->slot]);
    *out = w;
    return 0;
}

/* Runs the writer's plan (if it has one) over the datum, rewriting it into
 * out, unless the caller walks it (rp_avro_decode()). */
static int through_writer(rp_avro_codec *c, const rp_avro_writer *w,
                          rp_buf *out, const uint8_t *in, size_t len,
                          const uint8_t **body, size_t *body_len, char *errstr,
                          size_t errstr_size) {
    if (!w->plan || (c->want_walk && w->plan->walk_ok)) {
        if (w->plan)
            c->walk_plan = w->plan; /* the caller walks it */
        *body = in;
        *body_len = len;
        return 0;
    }
    int rc = rp_avro_plan_run(w->plan, in, len, out, &c->scratch, errstr,
                              errstr_size);
    if (rc < 0)
        return rc;
    *body = (const uint8_t *)out->data;
    *body_len = out->len;
    return 0;
}

int rp_avro_writer_body(rp_avro_codec *c, int slot, int32_t id,
                        const uint8_t *buf, size_t len, const uint8_t **body,
                        size_t *body_len, char *errstr, size_t errstr_size) {
    rp_avro_writer *w = NULL;
    int rc = writer_of(c, slot, id, &w, errstr, errstr_size);
    if (rc < 0)
        return rc;
    return through_writer(c, w, &c->resolved, buf + CONFLUENT_HEADER,
                          len - CONFLUENT_HEADER, body, body_len, errstr,
                          errstr_size);
}

int rp_avro_resolve(rp_avro_codec *c, int slot, const void *buf, size_t len,
                    const void **out, size_t *out_len, char *errstr,
                    size_t errstr_size) {
    if (slot < 0 || slot >= SLOT_COUNT)
        return rp_avro_error(errstr, errstr_size, RP_EINVAL,
                             "unknown schema slot %d", slot);
    const uint8_t *body = NULL;
    size_t body_len = 0;
    int rc = datum_of(c, slot, buf, len, &body, &body_len, errstr, errstr_size);
    if (rc < 0)
        return rc;
    *out = body;
    *out_len = body_len;
    return 0;
}

/* The peeks: the plain one where the writer keeps the first three fields
 * in place, else the record rewritten first. */
static int peek_body(rp_avro_codec *c, const void *buf, size_t len,
                     const uint8_t **body, size_t *body_len) {
    int32_t id;
    *body = buf;
    *body_len = len;
    if (c->framing != RP_FRAMING_CONFLUENT ||
        rp_avro_framed_schema_id(buf, len, &id) != 0 || is_pinned(c, id))
        return 1; /* the plain peek decides */
    rp_avro_writer *w = find_writer(c, id);
    if (!w)
        return c->writers_enabled ? RP_ENOSCHEMA : 1;
    if (w->rc < 0)
        return w->rc;
    if (w->peek_direct)
        return 1;
    if (len > RP_AVRO_MAX_RECORD)
        return RP_EBADDATA;
    int rc = through_writer(c, w, &c->peeked,
                            (const uint8_t *)buf + CONFLUENT_HEADER,
                            len - CONFLUENT_HEADER, body, body_len, NULL, 0);
    return rc < 0 ? RP_EBADDATA : 0;
}

int rp_avro_codec_peek_event_time(rp_avro_codec *c, const void *buf, size_t len,
                                  int64_t *event_time) {
    const uint8_t *body;
    size_t body_len;
    int rc = peek_body(c, buf, len, &body, &body_len);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return rp_avro_peek_event_time(c->framing, buf, len, event_time);
    return rp_avro_peek_event_time(RP_FRAMING_PLAIN, body, body_len,
                                   event_time);
}

int rp_avro_codec_peek_account_id(rp_avro_codec *c, const void *buf, size_t len,
                                  rp_str *account_id) {
    const uint8_t *body;
    size_t body_len;
    int rc = peek_body(c, buf, len, &body, &body_len);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return rp_avro_peek_account_id(c->framing, buf, len, account_id);
    return rp_avro_peek_account_id(RP_FRAMING_PLAIN, body, body_len,
                                   account_id);
}
