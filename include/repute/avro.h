/*
 * repute/avro.h - the Avro codec: records <-> Avro binary.
 *
 * One rp_avro_codec holds, for each of the six schemas (the five input
 * records and ReputationEvent), the parsed schema, its avro-c generic value
 * class, reusable values, a memory reader and a memory writer, plus the
 * reused storage of the direct decoder. Decoding and encoding reuse them,
 * so the hot path allocates nothing once the buffers have grown to the
 * largest record seen.
 *
 * Every input is first walked against the schema without allocating
 * (lengths, varints, union branches and enum symbols all in range, strings
 * valid UTF-8), in the manner of picohttpparser: rp_avro_check() returns
 * the number of bytes consumed, RP_ETRUNC (need more) or RP_EBADDATA. So
 * truncated, oversized or garbage input is an error with a reason, never a
 * crash or a huge allocation. rp_avro_decode(), the hot path, decodes an
 * input record in that same walk, with no avro-c call: strings are handed
 * out where they lie in the input. rp_avro_decode_generic() (the reference
 * decoder), rp_avro_decode_event() and all encoding go through avro-c's
 * avro_value_t API once the walk has accepted the bytes.
 *
 * Framing: plain Avro binary, or the Confluent wire format (byte 0, then a
 * 4-byte big-endian schema id). By default the id must equal the configured
 * (pinned) id of the record's slot.
 *
 * Writer schemas (schema evolution): with the Confluent framing, a record
 * may also carry the id of another writer schema, once the caller has
 * handed that schema to rp_avro_codec_add_writer() (the registry client
 * fetches it). A writer schema whose parsed form equals repute's own is
 * decoded exactly as the pinned id is. Any other writer schema that Avro's
 * resolution rules make readable as repute's schema is compiled, once, into
 * a decode plan (src/codec/avro_plan.h): on the hot path (rp_avro_decode)
 * the plan checks and decodes the writer's bytes in one walk, as the
 * validator does for repute's own schema (fields reordered, skipped or
 * defaulted, numbers promoted, union branches and enum symbols mapped); for
 * the other decoders it rewrites them into the encoding of repute's schema,
 * which the ordinary decoder then reads. A writer schema that
 * cannot be resolved is remembered with its reason, and its records fail
 * to decode with that reason (the runtime sends them to the DLQ).
 * docs/schemas.md says which changes are safe.
 *
 * Ownership: the codec is created by rp_avro_codec_new() and freed by
 * rp_avro_codec_destroy(). A record decoded by rp_avro_decode() borrows the
 * INPUT buffer (its strings point into it) as well as codec storage (the
 * recipients array of a complaint): it is valid until the next decode call
 * on the same codec or until the input buffer is freed or changed,
 * whichever comes first. A record decoded by rp_avro_decode_generic(), and
 * an rp_event decoded by rp_avro_decode_event(), borrow only the codec's
 * storage and are valid until the next decode call on the same codec. An
 * encoded buffer belongs to the codec and is valid until the next encode
 * call. Records of an evolved writer schema (decoded through its plan)
 * follow the same rules: rp_avro_decode() reads the writer's bytes where
 * they lie, so its strings point into the input as usual (a defaulted
 * string points into codec storage); the other decoders read the record
 * rewritten into the codec's resolution buffer, which is codec storage
 * like the rest. The writer schemas added and their plans belong to the
 * codec and are freed with it.
 */
#ifndef REPUTE_AVRO_H
#define REPUTE_AVRO_H

#include "repute/config.h"
#include "repute/record.h"
#include "repute/schemas.h"

/* Schema slots: RP_REC_* for inputs, RP_SCHEMA_ID_STATUS for outputs (the
 * embedded schemas of repute/schemas.h). */

/* An input record larger than this is RP_ETOOBIG (and goes to the DLQ):
 * 64 KiB holds the largest legitimate record (a complaint with a couple of
 * thousand recipients) many times over, and bounds what one hostile record
 * costs to decode. */
#define RP_AVRO_MAX_RECORD (64 * 1024)

/* In schema_ids[] of rp_avro_codec_new() with the Confluent framing: the
 * slot has no pinned id. Its records decode only through writer schemas
 * added with rp_avro_codec_add_writer(), and an output of that slot cannot
 * be encoded until an id is known (the caller passes real ids to encode). */
#define RP_AVRO_NO_ID (-1)

/* The most distinct writer schema ids one codec remembers (resolvable or
 * not); rp_avro_codec_add_writer() of one more is RP_ENOSPACE. A registry
 * hands out one id per schema version, so this is far beyond what the five
 * input topics and the output see in practice. */
#define RP_AVRO_MAX_WRITERS 1024

typedef struct rp_avro_codec rp_avro_codec;

/* schema_ids may be NULL for plain framing. With the Confluent framing,
 * schema_ids[slot] is the id written when encoding a record of the slot
 * and the pinned id accepted when decoding one (exact schema, fast path),
 * or RP_AVRO_NO_ID. Returns NULL with errstr on failure. */
rp_avro_codec *rp_avro_codec_new(rp_framing framing, const int32_t *schema_ids,
                                 char *errstr, size_t errstr_size);
void rp_avro_codec_destroy(rp_avro_codec *c);

/* ------------------------------------------------------------ writers */

/* Turns on registry mode: a framed record whose schema id is neither the
 * slot's pinned id nor an id added with rp_avro_codec_add_writer() is then
 * RP_ENOSCHEMA ("Delivery: schema id 999 is not known yet": fetch the
 * schema, add it, and decode again) rather than RP_EBADDATA. Without this
 * call, an unknown id is RP_EBADDATA ("Delivery: schema id is 999, expected
 * 101"), as it always was. Cannot fail; only the Confluent framing has ids. */
void rp_avro_codec_enable_writers(rp_avro_codec *c);

/* Adds the writer schema schema_json (the registry's text for schema_id)
 * for records of the slot (RP_REC_* for inputs, RP_SCHEMA_ID_STATUS for
 * ReputationEvent). The schema is parsed, compared with repute's own
 * (equal: the exact fast path) and otherwise resolved against it and
 * compiled into a decode plan, here and never again for this id.
 *
 * Returns 0 when records of that id can be decoded; RP_ECONTRACT with the
 * reason in errstr, naming the field ("Delivery.recipient: the writer has
 * no such field and the reader gives it no default"), when the schema
 * cannot be resolved; RP_EINVAL with the reason when schema_json is not a
 * valid Avro schema. In both error cases the id is remembered too, and
 * every later decode of a record with that id returns that same code and
 * reason (not RP_ENOSCHEMA). Adding an id that is already known (added
 * before, with whatever result, or the slot's pinned id) is a no-op that
 * returns 0. RP_ENOSPACE when RP_AVRO_MAX_WRITERS ids are already known,
 * RP_ENOMEM, and RP_EINVAL for a bad slot or a NULL schema_json are
 * returned without remembering anything. Like every call on a codec, not
 * thread-safe: fetch the schema anywhere, but add it on the thread that
 * decodes with the codec. Parsing and compiling cost about as much as
 * creating a codec (well under a millisecond for repute's schemas). */
int rp_avro_codec_add_writer(rp_avro_codec *c, int slot, int32_t schema_id,
                             const char *schema_json, char *errstr,
                             size_t errstr_size);

/* Whether schema_id is known: pinned for some slot, or added (whatever
 * the result of adding it). Never allocates. */
bool rp_avro_codec_knows_writer(const rp_avro_codec *c, int32_t schema_id);

/* The schema id of a Confluent-framed record: 0 with *id, or RP_EBADDATA
 * when buf is shorter than the 5-byte header or its magic byte is not 0. */
int rp_avro_framed_schema_id(const void *buf, size_t len, int32_t *id);

/* Rewrites one framed input or ReputationEvent (slot as above) into a plain
 * datum of repute's own schema, through the plan of its writer schema:
 * *out and *out_len point into the input (exact schema, or plain framing)
 * or into the codec's resolution buffer (valid until the next decode
 * call). The checks are those of the decoders: RP_ETRUNC, RP_EBADDATA,
 * RP_ETOOBIG, RP_ECONTRACT (a symbol or union branch the reader lacks, or
 * an unresolvable writer), RP_ENOSCHEMA, with errstr. The bytes are NOT
 * yet checked against repute's schema (the decoders do that next). Used by
 * the decoders, and by the tests to hold the plans to avro-c. */
int rp_avro_resolve(rp_avro_codec *c, int slot, const void *buf, size_t len,
                    const void **out, size_t *out_len, char *errstr,
                    size_t errstr_size);

/* ------------------------------------------------------------ records */

/* Validates one Avro-binary datum of the slot's schema (no framing) without
 * allocating. Returns bytes consumed (> 0), RP_ETRUNC or RP_EBADDATA with
 * the reason in errstr. A datum of the schema as it was before its
 * trailing defaults were appended (docs/schemas.md: a record without
 * tenant) is valid too, as for every decoder. */
int rp_avro_check(int slot, const void *buf, size_t len, char *errstr,
                  size_t errstr_size);

/* rp_avro_check(), and also how many trailing defaults the datum lacks
 * (docs/schemas.md: the fields appended after repute's first release, such
 * as tenant, all nullable with a null default): a datum that ends exactly
 * where they begin returns its length with *n_defaulted set to how many
 * fields it lacks (each reads as null, and is one zero byte in the current
 * encoding); *n_defaulted is 0 for a datum of the current schema. */
int rp_avro_check_trailing(int slot, const void *buf, size_t len,
                           size_t *n_defaulted, char *errstr,
                           size_t errstr_size);

/* Decodes one framed input record of the given type. Trailing bytes,
 * truncation, garbage, a wrong magic byte or schema id, and records that
 * break the contract (rp_record_check) are errors with the reason in
 * errstr: RP_ETRUNC, RP_EBADDATA, RP_ETOOBIG or RP_ECONTRACT. With writer
 * schemas: RP_ENOSCHEMA for an id not known yet (registry mode), and the
 * remembered RP_ECONTRACT or RP_EINVAL of an unresolvable writer schema;
 * a symbol or union branch the reader lacks is RP_ECONTRACT. The record's
 * strings point into buf (see Ownership above). Allocates nothing, except
 * to grow the codec's recipients array for a complaint with more
 * recipients than any before it. */
int rp_avro_decode(rp_avro_codec *c, rp_rec_type type, const void *buf,
                   size_t len, rp_record *rec, char *errstr,
                   size_t errstr_size);

/* The reference decoder: the same as rp_avro_decode(), same results and
 * same errors, but after the check the datum is read by avro-c's
 * avro_value_t API (avro_value_read into a generic value) and the record
 * is filled from that value, its strings borrowing avro-c's storage rather
 * than buf. Slower (avro-c allocates every string it reads); used by the
 * tests to hold rp_avro_decode() to avro-c, and by the benchmark for
 * comparison. */
int rp_avro_decode_generic(rp_avro_codec *c, rp_rec_type type, const void *buf,
                           size_t len, rp_record *rec, char *errstr,
                           size_t errstr_size);

/* Encodes an input record with the codec's framing. *out and *out_len point
 * into the codec's buffer. Returns 0 or a negative code with errstr. */
int rp_avro_encode(rp_avro_codec *c, const rp_record *rec, const void **out,
                   size_t *out_len, char *errstr, size_t errstr_size);

/* Encodes / decodes a ReputationEvent. For decoding, the caller provides
 * sc and n, which ev->status_change / ev->notification will point at; the
 * notification's strings borrow codec storage. */
int rp_avro_encode_event(rp_avro_codec *c, const rp_event *ev, const void **out,
                         size_t *out_len, char *errstr, size_t errstr_size);
int rp_avro_decode_event(rp_avro_codec *c, const void *buf, size_t len,
                         rp_event *ev, rp_status_change *sc, rp_notification *n,
                         char *errstr, size_t errstr_size);

/* Reads an input record's event_time (its third field, after two strings)
 * without decoding the rest, for the event-time merge. Returns 0 with
 * *event_time, or RP_EBADDATA when the bytes cannot be a record (the caller
 * then lets the full decode report why). Never allocates. */
int rp_avro_peek_event_time(rp_framing framing, const void *buf, size_t len,
                            int64_t *event_time);

/* Likewise the account_id (the second field), borrowed from buf; for
 * prefetching the account's state ahead of the decode. */
int rp_avro_peek_account_id(rp_framing framing, const void *buf, size_t len,
                            rp_str *account_id);

/* The same two peeks through the codec, for records whose writer schema
 * may not be repute's (fields reordered, promoted): the plain peek when
 * the record's id is pinned, or its writer keeps the first three fields of
 * repute's schema in place, else the record rewritten by its plan first
 * (the account_id then borrows a buffer the codec keeps for peeks, valid
 * until the next peek call; a peek never disturbs a decoded record).
 * RP_ENOSCHEMA for an unknown id in registry mode, the remembered error of
 * an unresolvable writer, and RP_EBADDATA when the bytes cannot be a
 * record. Allocates nothing once the peek buffer has grown. */
int rp_avro_codec_peek_event_time(rp_avro_codec *c, const void *buf, size_t len,
                                  int64_t *event_time);
int rp_avro_codec_peek_account_id(rp_avro_codec *c, const void *buf, size_t len,
                                  rp_str *account_id);

#endif
