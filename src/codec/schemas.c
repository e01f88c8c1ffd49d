/*
 * schemas.c - the one home of the embedded schemas (repute/schemas.h).
 *
 * The texts are not written here: cmake/embed_schemas.cmake turns every
 * schemas/NAME.avsc into a C array at build time, into gen/schemas.inc,
 * which this file includes. The arrays are static, so the only way to a
 * schema from anywhere else is through the two functions below, which
 * also check the slot: there is no second declaration of the tables that
 * could drift from the generated one.
 */
#include "repute/schemas.h"

/* Generated: schema_texts[] and schema_files[], one entry per slot. */
#include "schemas.inc"

_Static_assert(sizeof(schema_texts) / sizeof(schema_texts[0]) ==
                   RP_SCHEMA_ID__COUNT,
               "one embedded schema per slot");

const char *rp_avro_schema_json(int slot) {
    return slot >= 0 && slot < RP_SCHEMA_ID__COUNT ? schema_texts[slot] : NULL;
}

const char *rp_avro_schema_name(int slot) {
    return slot >= 0 && slot < RP_SCHEMA_ID__COUNT ? schema_files[slot] : NULL;
}

const char *rp_avro_account_state_schema_json(void) {
    return schema_AccountState;
}
