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
 * 4-byte big-endian schema id that must equal the configured id).
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
 * call.
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

typedef struct rp_avro_codec rp_avro_codec;

/* schema_ids may be NULL for plain framing. Returns NULL with errstr on
 * failure. */
rp_avro_codec *rp_avro_codec_new(rp_framing framing, const int32_t *schema_ids,
                                 char *errstr, size_t errstr_size);
void rp_avro_codec_destroy(rp_avro_codec *c);

/* Validates one Avro-binary datum of the slot's schema (no framing) without
 * allocating. Returns bytes consumed (> 0), RP_ETRUNC or RP_EBADDATA with
 * the reason in errstr. */
int rp_avro_check(int slot, const void *buf, size_t len, char *errstr,
                  size_t errstr_size);

/* Decodes one framed input record of the given type. Trailing bytes,
 * truncation, garbage, a wrong magic byte or schema id, and records that
 * break the contract (rp_record_check) are errors with the reason in
 * errstr: RP_ETRUNC, RP_EBADDATA, RP_ETOOBIG or RP_ECONTRACT. The record's
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

#endif
