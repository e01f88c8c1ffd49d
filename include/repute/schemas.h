/*
 * repute/schemas.h - the Avro schemas embedded in the binary.
 *
 * The schemas of the contract (schemas/NAME.avsc) are compiled into the
 * program at build time, so that repute runs from anywhere and always
 * speaks the schemas it was built with. They are indexed by schema slot:
 * the five input records in the order of docs/rules.md section 2 (RP_REC_*),
 * then ReputationEvent (RP_SCHEMA_ID_STATUS). The codec parses them
 * (repute/avro.h); the tests and the benchmark read them too, to hold the codec
 * to avro-c.
 *
 * Ownership: the texts and names are static; nothing is allocated and
 * nothing is to be freed.
 */
#ifndef REPUTE_SCHEMAS_H
#define REPUTE_SCHEMAS_H

#include "repute/config.h"
#include "repute/record.h"

/* The embedded schema JSON text of a slot, NUL-terminated, or NULL when
 * slot is not one of 0 .. RP_SCHEMA_ID__COUNT - 1. */
const char *rp_avro_schema_json(int slot);

/* The embedded AccountState schema (schemas/AccountState.avsc), the value
 * of topic.current. It is not a codec slot: src/codec/acctstate.c encodes
 * and decodes it on its own (repute/acctstate.h). NUL-terminated, static. */
const char *rp_avro_account_state_schema_json(void);

/* The file name the slot's schema was embedded from ("Delivery.avsc",
 * ...), or NULL when slot is out of range. */
const char *rp_avro_schema_name(int slot);

#endif
