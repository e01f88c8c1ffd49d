/*
 * repute/acctstate.h - the AccountState record of topic.current
 * (schemas/AccountState.avsc): an account's current state, written by
 * `repute run` beside each status change and read by `repute tail
 * --current` and by gateways.
 *
 * AccountState is not one of the codec's schema slots (repute/avro.h):
 * nothing reads it as an input, so it needs no decode plan, no writer
 * schemas and no schema resolution. It is small and fixed, so this module
 * writes and reads its Avro binary by hand, with no allocation beyond the
 * caller's buffer; the unit tests hold both directions to avro-c with the
 * embedded schema, so that the hand-written bytes are Avro.
 *
 * The decoder takes untrusted bytes (anyone can write to the topic): it
 * reads nothing past len, refuses a truncated record (RP_ETRUNC), and
 * refuses bytes that are not an AccountState (RP_EBADDATA): a varint
 * longer than ten bytes, a negative length, an enum or union index out of
 * range, invalid UTF-8, more issues than there are kinds, trailing bytes.
 *
 * Tenants. The account's non-HEALTHY tenants are the last field, an
 * array with a default (so that a reader of the first version of the
 * schema resolves the new records, and a bare reader of it stops before
 * them). The decoder validates them but keeps them as Avro in the record
 * (tenants_avro): rp_acctstate_tenant_next() reads them one at a time,
 * from that or from the engine's array, so that neither the decoder nor
 * the code that prints a decoded record allocates. A record of the first
 * version (it ends after `sequence`) decodes as one without tenants.
 *
 * rp_account_state itself is in repute/record.h beside rp_status_change,
 * so that the engine can fill it without depending on the codec.
 *
 * Ownership: rp_account_state borrows account_id and its tenants (their
 * array and names from the engine when encoding, tenants_avro and the
 * names from the decoded buffer when decoding), and so does an
 * rp_tenant_state read from it; nothing is allocated except the caller's
 * rp_buf, which the caller frees with rp_buf_free().
 */
#ifndef REPUTE_ACCTSTATE_H
#define REPUTE_ACCTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repute/buf.h"
#include "repute/record.h"
#include "repute/types.h"

/* A schema_id for rp_acctstate_encode(): no Confluent header. */
#define RP_ACCTSTATE_NO_ID (-1)

/* Writes st as Avro binary into out (which is reset first). With
 * schema_id >= 0 the record is framed with the Confluent header of that
 * id (a registry is configured); with RP_ACCTSTATE_NO_ID it is bare.
 * Returns 0, RP_EINVAL (an enum value out of range, more issues than
 * kinds, a sequence beyond an Avro long, a NULL name) or RP_ENOMEM. */
int rp_acctstate_encode(const rp_account_state *st, int32_t schema_id,
                        rp_buf *out, char *errstr, size_t errstr_size);

/* Reads one AccountState from the len bytes at buf. With framed, the
 * bytes start with a Confluent header, whose id goes to *schema_id (when
 * schema_id is not NULL). On success *out borrows buf (account_id).
 * Returns 0, RP_ETRUNC or RP_EBADDATA, with a message. */
int rp_acctstate_decode(const void *buf, size_t len, bool framed,
                        int32_t *schema_id, rp_account_state *out, char *errstr,
                        size_t errstr_size);

/* Reads the tenants of an AccountState, whichever form it has (an array
 * from the engine, or the Avro bytes of a decoded record):
 *
 *   rp_acctstate_iter it;
 *   rp_tenant_state t;
 *   rp_acctstate_tenant_begin(st, &it);
 *   while (rp_acctstate_tenant_next(&it, &t)) ...
 *
 * t borrows what st borrows. Decoded tenants were validated by
 * rp_acctstate_decode(), so the walk ends only after all n_tenants. */
typedef struct rp_acctstate_iter {
    const rp_account_state *st;
    size_t i;               /* tenants read */
    const uint8_t *p, *end; /* the decoded form: where the next one is */
    int64_t left;           /* items left in the current array block */
} rp_acctstate_iter;

void rp_acctstate_tenant_begin(const rp_account_state *st,
                               rp_acctstate_iter *it);
bool rp_acctstate_tenant_next(rp_acctstate_iter *it, rp_tenant_state *out);

#endif
